#!/usr/bin/env bash
# slurmctld-restart.sh stop|start: stop the slurmctld that slurm-up.sh
# started (by its recorded PID), or start it again recovering its saved
# state (the tests' "scheduler down while jobs run").  The new PID is
# recorded, so slurm-down.sh still stops exactly what runs.
set -euo pipefail
STATE=${MINNA_SLURM_STATE:-/var/tmp/minna-slurm}
. "$STATE/env"
case "${1:-}" in
  stop)
    pid=$(awk '$2 == "slurmctld" { p = $1 } END { print p }' "$STATE/pids")
    [ -n "$pid" ] || exit 0
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
  start)
    setsid slurmctld -D </dev/null >>"$STATE/log/slurmctld.log" 2>&1 &
    echo "$! slurmctld" >> "$STATE/pids"
    for _ in $(seq 100); do
      timeout 5 squeue -h >/dev/null 2>&1 && exit 0
      sleep 0.2
    done
    echo "slurmctld-restart: slurmctld did not answer" >&2
    exit 1
    ;;
  *) echo "usage: $0 stop|start" >&2; exit 2 ;;
esac
