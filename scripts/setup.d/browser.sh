#!/usr/bin/env bash
# The portal's browser tests: playwright-core (the version pinned in
# tests/browser/package.json and package-lock.json) into
# tests/browser/node_modules.  Debian's /usr/bin/chromium is the browser;
# never `npx playwright install` (it downloads a browser of its own, which
# this network refuses).  Idempotent and quiet; run from the repo root.
set -u
dir=tests/browser
want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' "$dir/package.json")
have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/playwright-core/package.json" 2>/dev/null | head -1)
if [ -n "$want" ] && [ "$have" = "$want" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  # Debian's own nodejs comes without npm (NodeSource's includes it and
  # conflicts with Debian's npm package, so it is not in packages/browser.txt)
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null 2>&1 || true
  fi
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup.d/browser.sh: npm missing: the browser tests will skip" >&2
  exit 0
fi
if ! (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1); then
  echo "setup.d/browser.sh: npm ci of playwright-core in $dir failed: the browser tests will skip" >&2
fi
exit 0
