#!/usr/bin/env bash
# Checks what the Dockerfile does, without a Docker engine: prunes the monorepo to one
# workspace, installs from the pruned lockfile, builds, drops dev dependencies, then starts the
# entry point with an empty environment and expects it to get as far as refusing its config
# (exit 2) — proof the pruned image holds every module the service imports.
#   deploy/check-image-build.sh @hlsdump/gateway services/gateway/dist/main.js
set -euo pipefail
package=${1:?usage: check-image-build.sh PACKAGE ENTRY [EXPECTED_EXIT]}
entry=${2:?usage: check-image-build.sh PACKAGE ENTRY [EXPECTED_EXIT]}
expected_exit=${3:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The build context: what git tracks, as .dockerignore leaves it.
git -C "$repo" ls-files -z --cached --others --exclude-standard | (cd "$repo" && xargs -0 cp --parents -t "$work") 2>/dev/null || true
cd "$work"
"$repo/node_modules/.bin/turbo" prune "$package" --docker >/dev/null
mkdir app && cp -r out/json/. app/
(cd app && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
cp -r out/full/. app/ && cp tsconfig.base.json app/
(cd app && npx turbo run build --filter="$package..." >/dev/null && npm prune --omit=dev --ignore-scripts --loglevel=error >/dev/null)
set +e
(cd app && env -i PATH="$PATH" HOME="$work" timeout 20 node "$entry" --help >"$work/out.txt" 2>&1)
code=$?
set -e
if [ "$code" -ne "$expected_exit" ]; then
  echo "check-image-build: $package: $entry exited $code, expected $expected_exit" >&2
  cat "$work/out.txt" >&2
  exit 1
fi
echo "check-image-build: $package builds and starts from its pruned image ($entry exited $code as expected)"
