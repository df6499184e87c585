#!/bin/sh
# same-output.sh: do two minna-sim binaries give byte-identical outputs?
#
#   tests/sim/same-output.sh BEFORE/minna-sim AFTER/minna-sim [--quick]
#
# For a change meant to leave the simulator's behaviour alone (a refactor, a
# speed-up): replays of the default year and of the 2019-2020 world (EASY
# under the trace's caps, FCFS, no caps, the over-subscribing and hybrid
# designs, the baseline), the KTH SP2 trace in processor mode and the
# lecture burst, then the TSUBAME-style sizing scenario (five generated
# seeds, dedicated / oversubscribe / hybrid) and the KTH and lecture ones;
# `summary --json` (with its EASY replay against the logged starts) of the
# default year, KTH SP2 and a broken trace (an overlong line, a NUL byte, a
# bad field: skipped, and an error under --strict).
# Every jobs CSV, metrics JSON, results.json / results.csv, summary's
# stdout / stderr / exit status is compared with cmp; the first difference
# is printed and the status is 1.
# --quick leaves out the scenario runs (minutes each on 2 cores).
# Run from the source tree; MINNA_SHARED_DIR as for the scenarios
# (default ../shared).
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 BEFORE/minna-sim AFTER/minna-sim [--quick]" >&2
  exit 2
fi
before=$1
after=$2
quick=${3:-}
for b in "$before" "$after"; do
  [ -x "$b" ] || { echo "$0: $b is not an executable" >&2; exit 2; }
done
export MINNA_SHARED_DIR=${MINNA_SHARED_DIR:-$(cd .. && pwd)/shared}
kth=$MINNA_SHARED_DIR/traces/KTH-SP2-1996-2.1-cln.swf.gz

tmp=$(mktemp -d "${TMPDIR:-/tmp}/same-output.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/before" "$tmp/after"

# The designs that over-subscribe batch nodes (they move batch jobs' ends
# and take memory from batch nodes: mn_sim_batch_set_expected_end and
# mn_sim_batch_reserve_memory).
printf '[oversubscribe]\ndesign = oversubscribe\nmax_extra_jobs_per_node = 2\n' >"$tmp/oversub.conf"
printf '[oversubscribe]\ndesign = hybrid\nmax_extra_jobs_per_node = 1\n' >"$tmp/hybrid.conf"

fail=0
compare () {  # NAME FILE...: cmp each file of NAME between the two runs
  name=$1; shift
  for f in "$@"; do
    if cmp "$tmp/before/$f" "$tmp/after/$f" >/dev/null; then
      printf 'same     %-28s %s (%s bytes)\n' "$name" "$f" "$(wc -c <"$tmp/after/$f")"
    else
      printf 'DIFFERS  %-28s %s\n' "$name" "$f"
      cmp "$tmp/before/$f" "$tmp/after/$f" >&2 || true
      diff "$tmp/before/$f" "$tmp/after/$f" 2>/dev/null | head -5 >&2 || true
      fail=1
    fi
  done
}

replay () {  # NAME TRACE [OPTION...]
  name=$1; trace=$2; shift 2
  for side in before after; do
    eval bin=\$$side
    "$bin" replay "$trace" --quiet --jobs-out "$tmp/$side/$name.csv" \
      --metrics-out "$tmp/$side/$name.json" "$@" 2>"$tmp/$side/$name.err" || {
      echo "$0: $bin replay $trace $* failed:" >&2
      cat "$tmp/$side/$name.err" >&2
      exit 1
    }
  done
  compare "$name" "$name.csv" "$name.json" "$name.err"
}

summary () {  # NAME TRACE [OPTION...]
  name=$1; trace=$2; shift 2
  for side in before after; do
    eval bin=\$$side
    status=0
    "$bin" summary --json "$trace" "$@" >"$tmp/$side/$name.out" 2>"$tmp/$side/$name.err" || status=$?
    echo "$status" >"$tmp/$side/$name.status"
  done
  compare "$name" "$name.out" "$name.err" "$name.status"
}

scenario () {  # NAME FILE
  name=$1; file=$2
  for side in before after; do
    eval bin=\$$side
    status=0
    "$bin" run "$file" --out "$tmp/$side/$name" >/dev/null 2>"$tmp/$side/$name.err" || status=$?
    # 3: no point meets every target (the files are still written)
    if [ $status -ne 0 ] && [ $status -ne 3 ]; then
      echo "$0: $bin run $file failed ($status):" >&2
      cat "$tmp/$side/$name.err" >&2
      exit 1
    fi
    echo "$status" >"$tmp/$side/$name/status"
  done
  compare "$name" "$name/results.json" "$name/results.csv" "$name/status"
}

replay fy2019-easy traces/tsubame3-fy2019.native.gz
replay fy2019-baseline traces/tsubame3-fy2019.native.gz --baseline
replay fy2019-fcfs traces/tsubame3-fy2019.native.gz --scheduler fcfs
replay fy2019-nocaps traces/tsubame3-fy2019.native.gz --no-caps --no-maintenance
replay fy2019-oversub traces/tsubame3-fy2019.native.gz --policy "$tmp/oversub.conf"
replay fy2019-hybrid traces/tsubame3-fy2019.native.gz --policy "$tmp/hybrid.conf"
replay world-easy traces/tsubame3-2019-2020.native.gz
replay world-oversub traces/tsubame3-2019-2020.native.gz --policy "$tmp/oversub.conf"
replay world-caps traces/tsubame3-2019-2020.native.gz --user-max-jobs 10 --group-max-cores 2000
replay lecture-burst scenarios/traces/lecture-burst.native --nodes 64
if [ -f "$kth" ]; then
  replay kth-easy "$kth" --procs 100
  replay kth-fcfs "$kth" --procs 100 --scheduler fcfs
else
  echo "skipped  kth-*: $kth is missing"
fi

# A trace the reader must skip lines of: too long (over 1 MiB, where the
# header is read and among the jobs), a NUL byte (both places), a bad field.
broken=$tmp/broken.swf
{
  printf '; MaxProcs: 64\n'
  head -c 3000000 /dev/zero | tr '\0' 7; printf '\n'
  printf '; Note: a\000b\n'
  printf '1 0 10 100 4 -1 -1 4 200 -1 1 1 1 -1 1 -1 -1 -1\n'
  head -c 3000000 /dev/zero | tr '\0' 7; printf '\n'
  printf '2 5 0 50 2 -1 -1 2 100 -1 1 2 2 -1 1 -1 -1 -1\n'
  printf '3 9 0 5\0000 2 -1 -1 2 100 -1 1 2 2 -1 1 -1 -1 -1\n'
  printf '4 12 x 50 2 -1 -1 2 100 -1 1 2 2 -1 1 -1 -1 -1\n'
  printf '5 20 0 30 1 -1 -1 1 60 -1 1 3 3 -1 1 -1 -1 -1\n'
} >"$broken"
summary broken-summary "$broken" --procs 64
summary broken-strict "$broken" --procs 64 --strict
replay broken-replay "$broken" --procs 64
summary fy2019-summary traces/tsubame3-fy2019.native.gz
[ -f "$kth" ] && summary kth-summary "$kth"

if [ "$quick" != --quick ]; then
  scenario tsubame3-fy2019 scenarios/tsubame3-fy2019.scenario
  scenario lecture-burst-sweep scenarios/lecture-burst.scenario
  [ -f "$kth" ] && scenario kth-sp2-sweep scenarios/kth-sp2.scenario
fi

if [ $fail -ne 0 ]; then
  echo "outputs differ" >&2
  exit 1
fi
echo "all outputs byte-identical"
