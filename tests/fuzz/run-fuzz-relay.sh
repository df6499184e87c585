#!/usr/bin/env bash
# Builds minna-relay's libFuzzer harnesses (tests/fuzz/fuzz-relay.c: request
# and response heads with the checks on their fields, chunked bodies,
# WebSocket frames; with clang: the main build uses gcc) and runs each for a
# short, bounded time, seeded with the conformance corpora of
# tests/data/relay (good and bad messages).
#   tests/fuzz/run-fuzz-relay.sh [BUILD_DIR] [SECONDS_PER_HARNESS]
# Exit 0: no crash, leak or UB; 1: a finding; 77: no clang or libFuzzer (skip).
set -euo pipefail
name=relay default_runs=40000
. "$(dirname "$0")/fuzz-lib.sh"

flags=("${base_flags[@]}" -I"$src/daemons/relay" -I"$src/daemons/common" -I"$src/config")
read -r -a glib_cflags <<< "$(pkg-config --cflags gio-2.0)"
read -r -a glib_libs <<< "$(pkg-config --libs gio-2.0)"
# The parsers and what they call (the config table for host:port), nothing
# with I/O.
sources=("$src"/daemons/relay/mn-relay-{head,http,ws,log,config}.c "${config_sources[@]}")

if fuzz_needs_build "$src/daemons/relay" "$src/config" "$src/tests/fuzz/fuzz-relay.c"; then
  mkdir -p "$build/obj"
  rm -f "$build"/obj/*.o "$build/librelay-fuzz.a"
  for f in "${sources[@]}"; do
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -c "$f" -o "$build/obj/$(basename "${f%.c}").o"
  done
  ar rcs "$build/librelay-fuzz.a" "$build"/obj/*.o
  for t in request:0 response:1 chunked:2 websocket:3; do
    h=${t%%:*}; num=${t##*:}
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -DFUZZ_TARGET="$num" "$src/tests/fuzz/fuzz-relay.c" \
      "$build/librelay-fuzz.a" "${glib_libs[@]}" -lm -o "$build/fuzz-relay-$h"
  done
  touch "$stamp"
fi

for h in request response chunked websocket; do
  max_len=16384; [ $h = websocket ] && max_len=4096
  fuzz_run "fuzz-relay-$h" $max_len "$src/tests/data/relay/$h"
done
exit $fuzz_status
