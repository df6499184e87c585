#!/usr/bin/env bash
# sge-down.sh: stop exactly what sge-up.sh started (the PIDs in $STATE/pids)
# and the jobs of its cell, then what is left of the cell by name, then
# remove the cell and $STATE.  Safe to run twice or when nothing is up.
#
# Every PID is signalled only while it has the start time it was recorded or
# found with (tests/common/proc-record.sh): PIDs wrap within minutes here,
# and after qmaster-restart.sh or a crash a recorded PID, or one seen in a
# walk over /proc a moment ago, may belong to someone else by now.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/proc-record.sh"
PROC_PREFIX=sge-down
STATE=${MINNA_SGE_STATE:-/var/tmp/minna-sge}
export SGE_ROOT=/var/lib/gridengine SGE_CELL=minna-test
export SGE_QMASTER_PORT=16444 SGE_EXECD_PORT=16445
[ -f "$STATE/env" ] && . "$STATE/env"
[ -d "$STATE" ] || [ -d "$SGE_ROOT/$SGE_CELL" ] || exit 0

# The jobs first: every process below a shepherd of this cell (a shepherd's
# working directory is in this cell's execd spool, so only this cell's jobs
# match), found by walking parent ids.  doomed maps PID to the start time it
# had when found; a child counts only if its parent still had the start
# time recorded for it (not a newer process under a reused PID).  Each
# round stops (SIGSTOP) what it found, so none can fork or end while the
# walk repeats to take in children forked meanwhile; then all are killed.
declare -A doomed=() stopped=()
for p in $(find /proc -mindepth 2 -maxdepth 2 -name cwd \
             -lname "$STATE/execd/*" 2>/dev/null | cut -d/ -f3); do
  proc_starttime "$p" && doomed[$p]=$REPLY
done
walk () {
  local - st line f pid changed=1 stats=(/proc/[0-9]*/stat)
  local -A ppid_of=() start_of=()
  set -f   # the fields are split unquoted, never globbed
  for st in "${stats[@]}"; do
    { IFS= read -r line < "$st"; } 2>/dev/null || continue
    f=(${line##*) })
    pid=${st#/proc/}; pid=${pid%/stat}
    ppid_of[$pid]=${f[1]} start_of[$pid]=${f[19]}
  done
  for pid in "${!doomed[@]}"; do   # ended, or its PID reused, since found
    [ "${start_of[$pid]:-}" = "${doomed[$pid]}" ] || unset "doomed[$pid]"
  done
  while [ "$changed" = 1 ]; do
    changed=0
    for pid in "${!ppid_of[@]}"; do
      [ -z "${doomed[$pid]:-}" ] && [ -n "${doomed[${ppid_of[$pid]}]:-}" ] || continue
      doomed[$pid]=${start_of[$pid]} changed=1
    done
  done
}
for _ in 1 2 3 4 5; do
  [ ${#doomed[@]} -gt 0 ] || break
  walk
  new=0
  for p in "${!doomed[@]}"; do
    [ -z "${stopped[$p]:-}" ] || continue
    proc_signal STOP "$p" "${doomed[$p]}"
    stopped[$p]=1 new=1
  done
  [ "$new" = 1 ] || break
done
for p in "${!doomed[@]}"; do proc_signal KILL "$p" "${doomed[$p]}"; done

recs=()
[ -f "$STATE/pids" ] && mapfile -t recs < <(tac "$STATE/pids")
for l in "${recs[@]}"; do
  proc_parse "$l"
  proc_stop "$rec_pid" "$rec_start" "$rec_name" 10
done

# By name: a daemon or shepherd of this cell whose record is missing
# (sge-up.sh stopped between starting it and recording it) or whose PID
# changed; they work in this cell's spool directories.
ours () {
  local cwd
  proc_comm_in "$1" sge_qmaster sge_execd sge_shepherd || return 1
  cwd=$(readlink "/proc/$1/cwd" 2>/dev/null) || return 1
  [[ $cwd == "$STATE"/* ]]
}
proc_sweep KILL ours
[ -z "$REPLY" ] || echo "sge-down: killed by name (this cell's, not recorded): $proc_swept" >&2
rm -rf "$STATE" "$SGE_ROOT/$SGE_CELL"
exit 0
