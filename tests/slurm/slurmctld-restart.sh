#!/usr/bin/env bash
# slurmctld-restart.sh stop|start: stop the slurmctld that slurm-up.sh
# started (by its recorded PID), or start it again recovering its saved
# state (the tests' "scheduler down while jobs run").  The new PID is
# recorded with its start time, so slurm-down.sh still stops exactly what
# runs; stop signals the newest record's PID only while it has that start
# time (tests/common/proc-record.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/proc-record.sh"
PROC_PREFIX=slurmctld-restart
STATE=${MINNA_SLURM_STATE:-/var/tmp/minna-slurm}
. "$STATE/env"
case "${1:-}" in
  stop)
    proc_last "$STATE/pids" slurmctld || exit 0
    proc_stop "$rec_pid" "$rec_start" slurmctld 10
    ;;
  start)
    setsid slurmctld -D </dev/null >>"$STATE/log/slurmctld.log" 2>&1 &
    proc_record "$STATE/pids" "$!" slurmctld
    for _ in $(seq 100); do
      timeout 5 squeue -h >/dev/null 2>&1 && exit 0
      sleep 0.2
    done
    echo "slurmctld-restart: slurmctld did not answer" >&2
    exit 1
    ;;
  *) echo "usage: $0 stop|start" >&2; exit 2 ;;
esac
