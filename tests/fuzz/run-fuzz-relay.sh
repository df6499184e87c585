#!/usr/bin/env bash
# Builds minna-relay's libFuzzer harnesses (tests/fuzz/fuzz-relay.c: request
# and response heads with the checks on their fields, chunked bodies,
# WebSocket frames; with clang: the main build uses gcc) and runs each for a
# short, bounded time, seeded with the conformance corpora of
# tests/data/relay (good and bad messages).
#   tests/fuzz/run-fuzz-relay.sh [BUILD_DIR] [SECONDS_PER_HARNESS]
# Exit 0: no crash, leak or UB; 1: a finding (the reproducer is printed and
# kept under BUILD_DIR/fuzz-relay/); 77: clang or libFuzzer unavailable (skip).
set -euo pipefail
src=${MINNA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${1:-${MINNA_BUILD_DIR:-$src/build}}/fuzz-relay
seconds=${2:-${MINNA_FUZZ_SECONDS:-15}}
runs=${MINNA_FUZZ_RUNS:-40000}
seed=${MINNA_FUZZ_SEED:-1}   # fixed: the suite's run is reproducible; 0 lets libFuzzer pick
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "SKIP: $cc not found (Debian package clang)"; exit 77
fi
mkdir -p "$build"
build=$(cd "$build" && pwd)
probe="$build/probe.c"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long s){(void)d;(void)s;return 0;}' > "$probe"
if ! "$cc" -fsanitize=fuzzer "$probe" -o "$build/probe" 2>/dev/null; then
  echo "SKIP: $cc has no libFuzzer (Debian package libclang-rt-dev or clang's runtime)"; exit 77
fi

flags=(-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -fno-omit-frame-pointer -I"$src/daemons/relay" -I"$src/daemons/common" -I"$src/config"
       -I"$src" -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74
       -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74)
read -r -a glib_cflags <<< "$(pkg-config --cflags gio-2.0)"
read -r -a glib_libs <<< "$(pkg-config --libs gio-2.0)"
# The parsers and what they call (the config table for host:port), nothing
# with I/O.
sources=("$src"/daemons/relay/mn-relay-{head,http,ws,log,config}.c "$src"/config/mn-config-*.c)

stamp="$build/.built"
if [ ! -f "$stamp" ] || [ -n "$(find "$src/daemons/relay" "$src/config" "$src/tests/fuzz/fuzz-relay.c" \
      -newer "$stamp" -name '*.[ch]' | head -1)" ]; then
  mkdir -p "$build/obj"
  rm -f "$build"/obj/*.o "$build/librelay-fuzz.a"
  for f in "${sources[@]}"; do
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -c "$f" -o "$build/obj/$(basename "${f%.c}").o"
  done
  ar rcs "$build/librelay-fuzz.a" "$build"/obj/*.o
  for t in request:0 response:1 chunked:2 websocket:3; do
    name=${t%%:*}; num=${t##*:}
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -DFUZZ_TARGET="$num" "$src/tests/fuzz/fuzz-relay.c" \
      "$build/librelay-fuzz.a" "${glib_libs[@]}" -lm -o "$build/fuzz-relay-$name"
  done
  touch "$stamp"
fi

status=0
for name in request response chunked websocket; do
  work="$build/corpus-$name"      # new inputs go here, never into the repository
  mkdir -p "$work"
  max_len=16384; [ $name = websocket ] && max_len=4096
  echo "# fuzz-relay-$name: up to ${seconds}s / $runs runs"
  if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "./fuzz-relay-$name" -seed="$seed" -max_total_time="$seconds" -runs="$runs" \
        -max_len=$max_len -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 \
        "$work" "$src/tests/data/relay/$name" > "$build/fuzz-$name.log" 2>&1); then
    echo "FAIL: fuzz-relay-$name found a problem:"; tail -40 "$build/fuzz-$name.log"
    status=1
  else
    grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$build/fuzz-$name.log" | tail -1 || true
  fi
done
exit $status
