#!/usr/bin/env bash
# Builds the shared configuration parser's libFuzzer harness (config/ and
# policy/, with clang: the main build uses gcc) and runs it for a short,
# bounded time on the conformance corpora of tests/config and tests/data/policy.
#   tests/fuzz/run-fuzz-config.sh [BUILD_DIR] [SECONDS]
# Exit 0: no crash, leak or UB; 1: a finding; 77: no clang or libFuzzer (skip).
set -euo pipefail
name=config default_runs=40000
. "$(dirname "$0")/fuzz-lib.sh"

flags=("${base_flags[@]}" -I"$src/config" -I"$src/policy" -I"$src/tests/config")
read -r -a glib_cflags <<< "$(pkg-config --cflags glib-2.0)"
read -r -a glib_libs <<< "$(pkg-config --libs glib-2.0)"
sources=("${config_sources[@]}" "$src"/policy/mn-policy-*.c "$src/tests/config/mn-config-test-table.c")

if fuzz_needs_build "$src/config" "$src/policy" "$src/tests/config" "$src/tests/fuzz/fuzz-config.c"; then
  "$cc" "${flags[@]}" "${glib_cflags[@]}" "${sources[@]}" "$src/tests/fuzz/fuzz-config.c" \
    "${glib_libs[@]}" -lm -o "$build/fuzz-config"
  touch "$stamp"
fi

fuzz_run fuzz-config 4096 "$src/tests/config/corpus" "$src/tests/data/policy"
exit $fuzz_status
