#!/usr/bin/env bash
# minna's two entry points on a fresh Debian 12 machine, as root:
#   ./setup.sh run    install what is missing, build, run the main job
#   ./setup.sh test   install what is missing, build, run the whole test suite
# Packages come from scripts/packages/*.txt (one file per component), extras
# from the hooks scripts/setup.d/*.sh.  `test` installs and runs all of them;
# `run` only the files and hooks that carry the line `# setup: run` (what
# the main job, scripts/main-job.sh, needs: the build and gnuplot for the
# report), so that it does not wait for schedulers, a browser or clang.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
mode=${1:-run}
build=${MINNA_BUILD_DIR:-build}

# The files of this mode: all for test, those tagged `# setup: run` for run.
setup_files () {
  local f
  for f in "$@"; do
    [ -e "$f" ] || continue
    if [ "$mode" != run ] || grep -qx '# setup: run' "$f"; then
      echo "$f"
    fi
  done
}

install_packages () {
  local want missing=()
  # A line is PKG, or PKG:COMMAND for "install PKG only when COMMAND is not
  # on PATH" (npm comes with NodeSource's nodejs, and Debian's npm package
  # conflicts with that).
  want=$(cat $(setup_files scripts/packages/*.txt) | sed -e 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
  for entry in $want; do
    p=${entry%%:*}
    if [ "$p" != "$entry" ] && command -v "${entry#*:}" >/dev/null 2>&1; then
      continue
    fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  mapfile -t missing < <(printf '%s\n' ${missing[@]+"${missing[@]}"} | sort -u | sed '/^$/d')
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup.sh: missing Debian packages (run as root to install): ${missing[*]}" >&2
      exit 1
    fi
    echo "setup.sh: installing ${missing[*]}" >&2
    # Keep package post-install scripts from starting daemons: the tests
    # start what they need themselves, in the foreground.
    local rc_created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; rc_created=1
    fi
    [ -f scripts/debconf-preseed.sh ] && bash scripts/debconf-preseed.sh
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    if [ "$rc_created" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  fi
  # Per-component extras (npm packages, Jupyter checks...): scripts/setup.d/*.sh
  for hook in $(setup_files scripts/setup.d/*.sh); do
    [ -e "$hook" ] || continue
    bash "$hook"
  done
}

build_tree () {
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=debugoptimized >/dev/null
  fi
  # run: only the programs scripts/main-job.sh runs (and minna-report, which
  # minna-sim --report runs): 56 of the tree's 275 build steps, the rest are
  # tests; test: everything
  if [ "$mode" = run ]; then
    ninja -C "$build" sim/minna-sim policy/minna-policy reports/minna-report
  else
    ninja -C "$build"
  fi
}

case "$mode" in
  run)
    install_packages
    build_tree
    exec "$here/scripts/main-job.sh" "$build"
    ;;
  test)
    install_packages
    build_tree
    meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" \
      --no-suite benchmark ${MINNA_TEST_ARGS:-}
    # The parsers and the policy again under AddressSanitizer and
    # UndefinedBehaviorSanitizer: bad input must give an error, never a crash.
    if [ "${MINNA_SKIP_SANITIZERS:-0}" != 1 ]; then
      if [ ! -f "$build-asan/build.ninja" ]; then
        meson setup "$build-asan" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
      fi
      ninja -C "$build-asan"
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
        meson test -C "$build-asan" --print-errorlogs --num-processes "$(nproc)" \
        --suite unit --suite fuzz
    fi
    # One closing line over both runs, from meson's own logs.
    python3 - "$build" "$build-asan" <<'PY'
import json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for d in sys.argv[1:]:
    path = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        continue
    for line in open(path):
        r = json.loads(line).get("result")
        key = {"OK": "passed", "EXPECTEDFAIL": "passed", "SKIP": "skipped"}.get(r, "failed")
        counts[key] += 1
print("tests: %(passed)d passed, %(failed)d failed, %(skipped)d skipped" % counts)
PY
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
