#!/usr/bin/env bash
# Builds the trace parsers' libFuzzer harnesses with clang (the main build
# uses gcc) and runs each for a short, bounded time on its seed corpus.
#   tests/fuzz/run-fuzz-trace.sh [BUILD_DIR] [SECONDS_PER_PARSER]
# Exit 0: no crash, leak or UB; 1: a finding (the reproducer is printed and
# kept under BUILD_DIR/fuzz-trace/); 77: clang or libFuzzer unavailable (skip).
set -euo pipefail
src=${MINNA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${1:-${MINNA_BUILD_DIR:-$src/build}}/fuzz-trace
seconds=${2:-${MINNA_FUZZ_SECONDS:-15}}
runs=${MINNA_FUZZ_RUNS:-20000}
# A fixed seed keeps the suite's run reproducible; MINNA_FUZZ_SEED=0 lets
# libFuzzer pick one (longer exploratory runs).
seed=${MINNA_FUZZ_SEED:-1}
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "SKIP: $cc not found (Debian package clang)"; exit 77
fi
mkdir -p "$build"
probe="$build/probe.c"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long s){(void)d;(void)s;return 0;}' > "$probe"
if ! "$cc" -fsanitize=fuzzer "$probe" -o "$build/probe" 2>/dev/null; then
  echo "SKIP: $cc has no libFuzzer (Debian package libclang-rt-dev or clang's runtime)"; exit 77
fi

flags=(-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -fno-omit-frame-pointer -I"$src/sim/trace" -I"$src/sim" -I"$src"
       -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74)
read -r -a glib_cflags <<< "$(pkg-config --cflags gio-unix-2.0 json-glib-1.0)"
read -r -a glib_libs <<< "$(pkg-config --libs gio-unix-2.0 json-glib-1.0)"
sources=("$src"/sim/trace/mn-trace-*.c)

# Rebuild only when a source is newer than the harnesses.  The parsers are
# compiled once into an archive; each harness links it.
stamp="$build/.built"
if [ ! -f "$stamp" ] || [ -n "$(find "$src/sim/trace" "$src/tests/fuzz/fuzz-trace.c" -newer "$stamp" -name '*.[ch]' | head -1)" ]; then
  mkdir -p "$build/obj"
  rm -f "$build"/obj/*.o "$build/libtrace-fuzz.a"
  for f in "${sources[@]}"; do
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -c "$f" -o "$build/obj/$(basename "${f%.c}").o"
  done
  ar rcs "$build/libtrace-fuzz.a" "$build"/obj/*.o
  for fmt in auto:0 swf:1 sge:2 sacct:3 native:4; do
    name=${fmt%%:*}; num=${fmt##*:}
    "$cc" "${flags[@]}" "${glib_cflags[@]}" -DFUZZ_FORMAT="$num" \
      "$src/tests/fuzz/fuzz-trace.c" "$build/libtrace-fuzz.a" "${glib_libs[@]}" -lm \
      -o "$build/fuzz-trace-$name"
  done
  touch "$stamp"
fi

status=0
for name in swf sge sacct native auto; do
  corpus="$src/tests/fuzz/corpus/trace-$name"
  [ "$name" = auto ] && corpus="$src/tests/fuzz/corpus"
  work="$build/corpus-$name"      # new inputs go here, never into the repository
  mkdir -p "$work"
  seeds=()
  if [ "$name" = auto ]; then
    for d in "$src"/tests/fuzz/corpus/trace-*; do seeds+=("$d"); done
  else
    seeds=("$corpus")
  fi
  echo "# fuzz-trace-$name: up to ${seconds}s / $runs runs"
  if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 G_SLICE=always-malloc \
        "./fuzz-trace-$name" -seed="$seed" -max_total_time="$seconds" -runs="$runs" -max_len=4096 \
        -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 "$work" "${seeds[@]}" \
        > "$build/fuzz-$name.log" 2>&1); then
    echo "FAIL: fuzz-trace-$name found a problem:"; tail -40 "$build/fuzz-$name.log"
    status=1
  else
    grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$build/fuzz-$name.log" | tail -1 || true
  fi
done
exit $status
