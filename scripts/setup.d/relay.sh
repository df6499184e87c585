#!/usr/bin/env bash
# minna-relay's benchmark baseline: JupyterHub's configurable-http-proxy from
# npm, in its own prefix (not in the work tree).  Idempotent and quiet; a
# failure only costs the benchmark that one column.
set -u
prefix=${MINNA_CHP_PREFIX:-/opt/minna/chp}
if [ -x "$prefix/node_modules/.bin/configurable-http-proxy" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup.d/relay.sh: npm missing, configurable-http-proxy not installed" >&2
  exit 0
fi
mkdir -p "$prefix"
if ! npm install --silent --no-audit --no-fund --prefix "$prefix" configurable-http-proxy >/dev/null 2>&1; then
  echo "setup.d/relay.sh: npm install configurable-http-proxy failed (benchmark will skip it)" >&2
fi
exit 0
