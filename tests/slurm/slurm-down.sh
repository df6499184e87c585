#!/usr/bin/env bash
# slurm-down.sh: stop exactly the daemons slurm-up.sh recorded in
# $STATE/pids (SIGTERM, then SIGKILL after a grace), newest first, and
# remove $STATE.  Safe to run twice or when nothing is up.
set -uo pipefail
STATE=${MINNA_SLURM_STATE:-/var/tmp/minna-slurm}
[ -f "$STATE/pids" ] || { rm -rf "$STATE"; exit 0; }

alive () { kill -0 "$1" 2>/dev/null; }
mapfile -t lines < <(tac "$STATE/pids")
# Stop job steps first: slurmd's children (slurmstepd) are in their own
# sessions; cancelling through slurmctld would need it up, so signal the
# slurmd, which takes its steps down with it.
for l in "${lines[@]}"; do
  pid=${l%% *}
  alive "$pid" && kill -TERM "$pid" 2>/dev/null
done
end=$(( $(date +%s) + 10 ))
for l in "${lines[@]}"; do
  pid=${l%% *}
  while alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
done
# Job processes left by slurmstepd (they run in cgroups named after the
# cluster's jobs under slurm's cgroup tree): kill what remains there.
for procs in /sys/fs/cgroup/*/slurm*/uid_*/job_*/cgroup.procs \
             /sys/fs/cgroup/*/slurm*/uid_*/job_*/step_*/cgroup.procs \
             /sys/fs/cgroup/*/slurm*/uid_*/job_*/step_*/task_*/cgroup.procs; do
  [ -f "$procs" ] || continue
  while read -r p; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done < "$procs"
done
rm -rf "$STATE"
exit 0
