#!/usr/bin/env bash
# Builds the app file parser's libFuzzer harness (daemons/controller's
# mn-controller-app.c over config/, with clang: the main build uses gcc) and
# runs it for a short, bounded time on the conformance corpus tests/data/apps
# and the shipped apps.
#   tests/fuzz/run-fuzz-app.sh [BUILD_DIR] [SECONDS]
# Exit 0: no crash, leak or UB; 1: a finding; 77: no clang or libFuzzer (skip).
set -euo pipefail
name=app default_runs=40000
. "$(dirname "$0")/fuzz-lib.sh"

flags=("${base_flags[@]}" -I"$src/config" -I"$src/policy" -I"$src/daemons/controller")
read -r -a deps_cflags <<< "$(pkg-config --cflags glib-2.0 json-glib-1.0)"
read -r -a deps_libs <<< "$(pkg-config --libs glib-2.0 json-glib-1.0)"
sources=("${config_sources[@]}" "$src"/policy/mn-policy-*.c
         "$src"/daemons/controller/mn-controller-app.c "$src"/daemons/controller/mn-controller-config.c
         "$src"/daemons/controller/mn-controller-session.c)

if fuzz_needs_build "$src/config" "$src/policy" "$src/daemons/controller/mn-controller-app.c" \
     "$src/daemons/controller/mn-controller-app.h" "$src/tests/fuzz/fuzz-app.c"; then
  "$cc" "${flags[@]}" "${deps_cflags[@]}" "${sources[@]}" "$src/tests/fuzz/fuzz-app.c" \
    "${deps_libs[@]}" -lm -o "$build/fuzz-app"
  touch "$stamp"
fi

fuzz_run fuzz-app 8192 "$src/tests/data/apps" "$src/daemons/controller/apps"
exit $fuzz_status
