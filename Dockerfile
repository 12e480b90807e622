# syntax=docker/dockerfile:1
# One image recipe for every hlsdump service; compose and Kubernetes pick the service with
# PACKAGE (the workspace to build), ENTRY (the script node runs) and NODE_FLAGS (node's own flags).
#   docker build --build-arg PACKAGE=@hlsdump/worker --build-arg ENTRY=services/worker/dist/main.js \
#     --build-arg "NODE_FLAGS=--single-threaded-gc --heap-growing-percent=100" .
ARG NODE_IMAGE=node:26.12.1-trixie-slim

# Prune the monorepo down to PACKAGE and the workspaces it depends on.
FROM ${NODE_IMAGE} AS prune
WORKDIR /src
RUN npm install --global turbo@2.11.11
COPY . .
ARG PACKAGE
RUN test -n "${PACKAGE}" && turbo prune "${PACKAGE}" --docker

# Install from the pruned lockfile first (cached while only sources change), then build.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=prune /src/out/json/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY --from=prune /src/out/full/ ./
COPY tsconfig.base.json ./
ARG PACKAGE
RUN npx turbo run build --filter="${PACKAGE}..." && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Dumps are written by the unprivileged user; a named volume mounted here inherits this owner.
RUN mkdir -p /dumps && chown node:node /dumps
COPY --from=build --chown=node:node /app ./
ARG ENTRY
ENV ENTRY=${ENTRY}
# Node's own flags for the service, read by V8 as it starts (the worker's: its node-flags.ts).
ARG NODE_FLAGS=""
ENV NODE_FLAGS="${NODE_FLAGS}"
USER node
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec node $NODE_FLAGS \"$ENTRY\""]
