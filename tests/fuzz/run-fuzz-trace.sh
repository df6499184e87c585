#!/usr/bin/env bash
# Builds the trace parsers' libFuzzer harnesses with clang (the main build
# uses gcc) and runs each for a short, bounded time on its seed corpus.
#   tests/fuzz/run-fuzz-trace.sh [BUILD_DIR] [SECONDS_PER_PARSER]
# Exit 0: no crash, leak or UB; 1: a finding; 77: no clang or libFuzzer (skip).
set -euo pipefail
name=trace default_runs=20000
. "$(dirname "$0")/fuzz-lib.sh"

flags=("${base_flags[@]}" -I"$src/sim/trace" -I"$src/sim")
read -r -a glib_cflags <<< "$(pkg-config --cflags gio-unix-2.0 json-glib-1.0)"
read -r -a glib_libs <<< "$(pkg-config --libs gio-unix-2.0 json-glib-1.0)"
sources=("$src"/sim/trace/mn-trace-*.c)

# The parsers are compiled once into an archive; each harness links it.
if fuzz_needs_build "$src/sim/trace" "$src/tests/fuzz/fuzz-trace.c"; then
  mkdir -p "$build/obj"
  rm -f "$build"/obj/*.o "$build/libtrace-fuzz.a"
  for f in "${sources[@]}"; do
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -c "$f" -o "$build/obj/$(basename "${f%.c}").o"
  done
  ar rcs "$build/libtrace-fuzz.a" "$build"/obj/*.o
  for fmt in auto:0 swf:1 sge:2 sacct:3 native:4; do
    h=${fmt%%:*}; num=${fmt##*:}
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -DFUZZ_FORMAT="$num" \
      "$src/tests/fuzz/fuzz-trace.c" "$build/libtrace-fuzz.a" "${glib_libs[@]}" -lm \
      -o "$build/fuzz-trace-$h"
  done
  touch "$stamp"
fi

for h in swf sge sacct native; do
  fuzz_run "fuzz-trace-$h" 4096 "$src/tests/fuzz/corpus/trace-$h"
done
fuzz_run fuzz-trace-auto 4096 "$src"/tests/fuzz/corpus/trace-*
exit $fuzz_status
