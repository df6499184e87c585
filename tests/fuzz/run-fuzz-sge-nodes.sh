#!/usr/bin/env bash
# Builds the libFuzzer harness of the Grid Engine backend's reading of qstat
# -f -xml's queue instances and qconf -shgrp_resolved's hosts
# (daemons/controller/mn-backend-sge-nodes.c, with clang: the main build
# uses gcc) and runs it for a short, bounded time on tests/fuzz/corpus/sge-nodes.
#   tests/fuzz/run-fuzz-sge-nodes.sh [BUILD_DIR] [SECONDS]
# Exit 0: no crash, leak or UB; 1: a finding; 77: no clang or libFuzzer (skip).
set -euo pipefail
name=sge-nodes default_runs=40000
. "$(dirname "$0")/fuzz-lib.sh"

flags=("${base_flags[@]}" -I"$src/daemons/controller")
read -r -a glib_cflags <<< "$(pkg-config --cflags glib-2.0)"
read -r -a glib_libs <<< "$(pkg-config --libs glib-2.0)"
sources=("$src/daemons/controller/mn-backend-sge-nodes.c" "$src/daemons/controller/mn-backend-text.c")

if fuzz_needs_build "${sources[@]}" "$src/daemons/controller/mn-backend-sge-nodes.h" \
     "$src/daemons/controller/mn-backend-text.h" \
     "$src/tests/fuzz/fuzz-sge-nodes.c"; then
  "$cc" "${flags[@]}" "${glib_cflags[@]}" "${sources[@]}" "$src/tests/fuzz/fuzz-sge-nodes.c" \
    "${glib_libs[@]}" -o "$build/fuzz-sge-nodes"
  touch "$stamp"
fi

fuzz_run fuzz-sge-nodes 4096 "$src/tests/fuzz/corpus/sge-nodes"
exit $fuzz_status
