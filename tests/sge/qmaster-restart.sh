#!/usr/bin/env bash
# qmaster-restart.sh stop|start: stop the sge_qmaster that sge-up.sh started
# (by its recorded PID), or start it again on the cell's spooled state (the
# tests' "scheduler down while jobs run"; execd and its jobs keep running).
# The new PID is recorded, so sge-down.sh still stops exactly what runs.
set -euo pipefail
STATE=${MINNA_SGE_STATE:-/var/tmp/minna-sge}
. "$STATE/env"
case "${1:-}" in
  stop)
    pid=$(awk '$2 == "sge_qmaster" { p = $1 } END { print p }' "$STATE/pids")
    [ -n "$pid" ] || exit 0
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
  start)
    setsid env SGE_ND=1 sge_qmaster </dev/null >>"$STATE/log/sge_qmaster.log" 2>&1 &
    echo "$! sge_qmaster" >> "$STATE/pids"
    for _ in $(seq 100); do
      timeout 5 qstat >/dev/null 2>&1 && exit 0
      sleep 0.2
    done
    echo "qmaster-restart: sge_qmaster did not answer" >&2
    exit 1
    ;;
  *) echo "usage: $0 stop|start" >&2; exit 2 ;;
esac
