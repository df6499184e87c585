#!/usr/bin/env bash
# slurm-down.sh: stop exactly the daemons slurm-up.sh recorded in
# $STATE/pids (SIGTERM, then SIGKILL after a grace), newest first, then
# whatever of this cluster is left by name, its jobs, and remove $STATE.
# Safe to run twice or when nothing is up.
#
# Each record is "PID STARTTIME NAME" and a PID is signalled only while it
# has that start time (tests/common/proc-record.sh): after slurmctld-restart.sh
# or a daemon's crash a recorded PID may belong to someone else by now.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/proc-record.sh"
PROC_PREFIX=slurm-down
STATE=${MINNA_SLURM_STATE:-/var/tmp/minna-slurm}
[ -d "$STATE" ] || exit 0

recs=()
[ -f "$STATE/pids" ] && mapfile -t recs < <(tac "$STATE/pids")
# Stop job steps first: slurmd's children (slurmstepd) are in their own
# sessions; cancelling through slurmctld would need it up, so signal the
# slurmd, which takes its steps down with it.  All get SIGTERM at once,
# then each up to 10 s (together) to end before SIGKILL.
for l in "${recs[@]}"; do
  proc_parse "$l"
  proc_signal TERM "$rec_pid" "$rec_start" "$rec_name"
done
end=$(( $(date +%s) + 10 ))
for l in "${recs[@]}"; do
  proc_parse "$l"
  while proc_is "$rec_pid" "$rec_start" "$rec_name" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
  proc_signal KILL "$rec_pid" "$rec_start" "$rec_name" &&
    echo "slurm-down: $rec_name (pid $rec_pid) ignored SIGTERM: killed" >&2
done

# By name: a daemon of this cluster whose record is missing (slurm-up.sh
# stopped between starting it and recording it) or whose PID changed.  Its
# daemons carry this cluster's slurm.conf in their environment (slurmstepd
# inherits it from slurmd), munged and mariadbd this state directory in
# their arguments.
ours () {
  proc_comm_in "$1" slurmctld slurmd slurmdbd slurmstepd munged mariadbd || return 1
  proc_has_env "$1" "SLURM_CONF=$STATE/etc/slurm.conf" || proc_has_arg "$1" "$STATE/"
}
proc_sweep KILL ours
[ -z "$REPLY" ] || echo "slurm-down: killed by name (this cluster's job steps, or daemons not recorded): $proc_swept" >&2

# Job processes left by slurmstepd (they run in cgroups named after the
# cluster's jobs under slurm's cgroup tree): each job's cgroup is frozen
# (its processes can neither end nor fork, so no PID read from it is reused
# before the kill), its processes killed, thawed, then the job's empty
# cgroups removed.  Without a freezer (cgroup v2), cgroup.kill does it.
jobs=()
for d in /sys/fs/cgroup/*/slurm*/uid_*/job_* /sys/fs/cgroup/slurm*/uid_*/job_*; do
  [ -d "$d" ] && jobs+=("$d")
done
for d in "${jobs[@]}"; do
  if [ -f "$d/cgroup.kill" ]; then
    echo 1 > "$d/cgroup.kill" 2>/dev/null
  elif [ -f "$d/freezer.state" ]; then
    echo FROZEN > "$d/freezer.state" 2>/dev/null
    for _ in $(seq 50); do
      [ "$(cat "$d/freezer.state" 2>/dev/null)" != FREEZING ] && break
      sleep 0.1
    done
    while IFS= read -r procs; do
      while read -r p; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done < "$procs"
    done < <(find "$d" -name cgroup.procs 2>/dev/null)
    echo THAWED > "$d/freezer.state" 2>/dev/null
  fi
done
# the other hierarchies hold the same processes: once they are gone
# (up to 5 s for all), each job's cgroups, deepest first (rmdir leaves one
# that still holds a process)
end=$(( $(date +%s) + 5 ))
for d in "${jobs[@]}"; do
  while [ -n "$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] &&
        [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
  find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
done
rm -rf "$STATE"
exit 0
