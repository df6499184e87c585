# tests/fuzz/fuzz-lib.sh: what the run-fuzz-*.sh scripts share, sourced
# after they set `name` (the harness family, e.g. trace) and `default_runs`.
# Sets src, build (BUILD_DIR/fuzz-NAME, absolute), seconds, runs, seed, cc and
# the base compiler flags; exits 77 (skip) when clang or libFuzzer is missing.
# Then fuzz_needs_build DIR... and fuzz_run HARNESS MAX_LEN SEED_DIR... do the
# rest.  Exit status of the scripts: 0 no crash, leak or UB; 1 a finding (the
# reproducer is printed and kept under BUILD_DIR/fuzz-NAME/); 77 skip.
src=${MINNA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${1:-${MINNA_BUILD_DIR:-$src/build}}/fuzz-$name
seconds=${2:-${MINNA_FUZZ_SECONDS:-15}}
runs=${MINNA_FUZZ_RUNS:-$default_runs}
# A fixed seed keeps the suite's run reproducible; MINNA_FUZZ_SEED=0 lets
# libFuzzer pick one (longer exploratory runs).
seed=${MINNA_FUZZ_SEED:-1}
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

base_flags=(-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
            -fno-omit-frame-pointer -I"$src"
            -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74)
stamp="$build/.built"

# config/ for the harnesses: the parser, without the command-line part
# (mn-config-cli.c includes the build's generated mn-version.h)
config_sources=()
for f in "$src"/config/mn-config-*.c; do
  [ "$f" = "$src/config/mn-config-cli.c" ] || config_sources+=("$f")
done

# True when the harnesses must be (re)built: none yet, or a .c/.h below one
# of the given directories or files is newer than the last build.
fuzz_needs_build () {
  [ ! -f "$stamp" ] || [ -n "$(find "$@" -newer "$stamp" -name '*.[ch]' | head -1)" ]
}

fuzz_status=0
# fuzz_run HARNESS MAX_LEN SEED_DIR...: one bounded run of $build/HARNESS;
# new inputs go to $build/corpus-HARNESS, never into the repository.
fuzz_run () {
  local harness=$1 max_len=$2 work="$build/corpus-$1"
  shift 2
  mkdir -p "$work"
  echo "# $harness: up to ${seconds}s / $runs runs"
  if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 G_SLICE=always-malloc \
        "./$harness" -seed="$seed" -max_total_time="$seconds" -runs="$runs" -max_len="$max_len" \
        -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 "$work" "$@" \
        > "$build/$harness.log" 2>&1); then
    echo "FAIL: $harness found a problem:"; tail -40 "$build/$harness.log"
    fuzz_status=1
  else
    grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$build/$harness.log" | tail -1 || true
  fi
}
