#!/usr/bin/env bash
# test-sweep-slurm.sh MINNA_SIM MINNA_POLICY: the 'slurm' suite's sweep test
# (TAP).  Brings up a real single-host Slurm (tests/slurm/slurm-up.sh, its
# own state directory), submits the array that `minna-sim run
# --emit-slurm-array` writes for the lecture-burst scenario (a trace file)
# and for a generated world on two seeds, waits for each, merges, and
# compares with the in-process run: results.json, results.csv and
# recommended.conf must be byte for byte the same.  Everything started is
# stopped by PID (slurm-down.sh) at exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sim=${1:?usage: test-sweep-slurm.sh MINNA_SIM MINNA_POLICY}
export MINNA_POLICY_BIN=${2:?usage: test-sweep-slurm.sh MINNA_SIM MINNA_POLICY}
export MINNA_SLURM_STATE=${MINNA_SLURM_STATE_SWEEP:-/var/tmp/minna-slurm-sweep}
slurm=$here/../slurm
scenario=$here/../../scenarios/lecture-burst.scenario

if [ "$(id -u)" -ne 0 ]; then
  echo "1..0 # SKIP starts real Slurm daemons: run it as root"
  exit 0
fi
# Every task of array job $1 gone from squeue, within 120 s.
array_done () {
  local id=$1 i
  [ -n "$id" ] || return 1
  for i in $(seq 1 240); do
    [ -z "$(squeue -h -j "$id" -o %i 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  return 1
}

for b in munged slurmctld slurmd slurmdbd mariadbd sbatch; do
  if ! command -v "$b" >/dev/null; then
    echo "1..0 # SKIP $b is not installed (scripts/packages/slurm.txt)"
    exit 0
  fi
done

n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
nok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag () { sed 's/^/# /'; }

tmp=$(mktemp -d /tmp/mn-sweep-slurm-XXXXXX)
chmod 755 "$tmp"
cleanup () {
  "$slurm/slurm-down.sh" 2>&1 | diag
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! "$slurm/slurm-up.sh" "$slurm/test-policy.conf" 2>&1 | diag; then
  echo "Bail out! slurm-up.sh failed"
  exit 1
fi
. "$MINNA_SLURM_STATE/env"
ok "Slurm up"

# One scenario on a trace file (a task per point), one on a generated world
# (a task per point and seed, each generating its seed's world).
for case in trace:$scenario world:$here/../data/sweep/engine-world.scenario; do
  name=${case%%:*} scn=${case#*:}
  if "$sim" run "$scn" --out "$tmp/$name-inprocess" --quiet >"$tmp/run.out" 2>&1; then
    ok "$name: in-process run"
  else
    diag <"$tmp/run.out"; nok "$name: in-process run"
  fi
  if "$sim" run "$scn" --emit-slurm-array "$tmp/$name-array" >"$tmp/emit.out" 2>&1; then
    ok "$name: emit the array"
  else
    diag <"$tmp/emit.out"; nok "$name: emit the array"
  fi

  # --wait should return when every task of the array has ended, but under
  # load Slurm 22.05 returned with the last task (the baseline) still to
  # run: wait, bounded, until squeue lists none of the array's tasks.
  if timeout 600 sbatch --wait --chdir="$tmp" "$tmp/$name-array/sweep.sbatch" >"$tmp/sbatch.out" 2>&1 &&
     array_done "$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' "$tmp/sbatch.out")"; then
    ok "$name: the array ran under Slurm ($(ls "$tmp/$name-array/points" 2>/dev/null | wc -l) point files)"
  else
    diag <"$tmp/sbatch.out"
    for f in "$tmp/$name-array/logs"/*; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; } | diag; done
    nok "$name: the array ran under Slurm"
  fi

  if "$sim" merge "$tmp/$name-array" >"$tmp/merge.out" 2>&1; then
    ok "$name: merge"
  else
    diag <"$tmp/merge.out"; nok "$name: merge"
  fi
  for f in results.json results.csv recommended.conf; do
    if cmp -s "$tmp/$name-inprocess/$f" "$tmp/$name-array/$f"; then
      ok "$name: $f: array + merge == in-process"
    else
      nok "$name: $f: array + merge == in-process"
    fi
  done
done
echo "1..$n"
[ "$failed" -eq 0 ]
