#!/usr/bin/env bash
# Builds the shared configuration parser's libFuzzer harness (config/ and
# policy/, with clang: the main build uses gcc) and runs it for a short,
# bounded time on the conformance corpora of tests/config and tests/data/policy.
#   tests/fuzz/run-fuzz-config.sh [BUILD_DIR] [SECONDS]
# Exit 0: no crash, leak or UB; 1: a finding (the reproducer is printed and
# kept under BUILD_DIR/fuzz-config/); 77: clang or libFuzzer unavailable (skip).
set -euo pipefail
src=${MINNA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${1:-${MINNA_BUILD_DIR:-$src/build}}/fuzz-config
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
       -fno-omit-frame-pointer -I"$src/config" -I"$src/policy" -I"$src/tests/config" -I"$src"
       -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74)
read -r -a glib_cflags <<< "$(pkg-config --cflags glib-2.0)"
read -r -a glib_libs <<< "$(pkg-config --libs glib-2.0)"
sources=("$src"/config/mn-config-*.c "$src"/policy/mn-policy-*.c "$src/tests/config/mn-config-test-table.c")

stamp="$build/.built"
if [ ! -f "$stamp" ] || [ -n "$(find "$src/config" "$src/policy" "$src/tests/config" \
      "$src/tests/fuzz/fuzz-config.c" -newer "$stamp" -name '*.[ch]' | head -1)" ]; then
  "$cc" "${flags[@]}" "${glib_cflags[@]}" "${sources[@]}" "$src/tests/fuzz/fuzz-config.c" \
    "${glib_libs[@]}" -lm -o "$build/fuzz-config"
  touch "$stamp"
fi

work="$build/corpus"      # new inputs go here, never into the repository
mkdir -p "$work"
echo "# fuzz-config: up to ${seconds}s / $runs runs"
if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ./fuzz-config -seed="$seed" -max_total_time="$seconds" -runs="$runs" -max_len=4096 \
      -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 "$work" \
      "$src/tests/config/corpus" "$src/tests/data/policy" > "$build/fuzz.log" 2>&1); then
  echo "FAIL: fuzz-config found a problem:"; tail -40 "$build/fuzz.log"
  exit 1
fi
grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$build/fuzz.log" | tail -1 || true
