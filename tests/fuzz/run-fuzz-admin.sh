#!/usr/bin/env bash
# Builds the admin API's libFuzzer harness (the output scrub, CSV fields,
# months: daemons/controller, with clang: the main build uses gcc) and runs
# it for a short, bounded time on tests/fuzz/corpus/admin.
#   tests/fuzz/run-fuzz-admin.sh [BUILD_DIR] [SECONDS]
# Exit 0: no crash, leak or UB; 1: a finding; 77: no clang or libFuzzer (skip).
set -euo pipefail
name=admin default_runs=40000
. "$(dirname "$0")/fuzz-lib.sh"

flags=("${base_flags[@]}" -I"$src/daemons/controller" -I"$src/policy" -I"$src/config")
read -r -a glib_cflags <<< "$(pkg-config --cflags glib-2.0)"
read -r -a glib_libs <<< "$(pkg-config --libs glib-2.0)"
# what the three call, nothing with I/O but the tail reader beside the scrub
sources=("$src"/daemons/controller/mn-controller-{output,accounting,config}.c "$src"/policy/mn-policy-*.c
         "${config_sources[@]}")

if fuzz_needs_build "$src/daemons/controller" "$src/policy" "$src/config" "$src/tests/fuzz/fuzz-admin.c"; then
  "$cc" "${flags[@]}" "${glib_cflags[@]}" "${sources[@]}" "$src/tests/fuzz/fuzz-admin.c" \
    "${glib_libs[@]}" -lm -o "$build/fuzz-admin"
  touch "$stamp"
fi

fuzz_run fuzz-admin 4096 "$src/tests/fuzz/corpus/admin"
exit $fuzz_status
