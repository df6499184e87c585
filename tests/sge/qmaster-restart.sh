#!/usr/bin/env bash
# qmaster-restart.sh stop|start: stop the sge_qmaster that sge-up.sh started
# (by its recorded PID), or start it again on the cell's spooled state (the
# tests' "scheduler down while jobs run"; execd and its jobs keep running).
# The new PID is recorded with its start time, so sge-down.sh still stops
# exactly what runs; stop signals the newest record's PID only while it has
# that start time (tests/common/proc-record.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/proc-record.sh"
PROC_PREFIX=qmaster-restart
STATE=${MINNA_SGE_STATE:-/var/tmp/minna-sge}
. "$STATE/env"
case "${1:-}" in
  stop)
    proc_last "$STATE/pids" sge_qmaster || exit 0
    proc_stop "$rec_pid" "$rec_start" sge_qmaster 15
    ;;
  start)
    setsid env SGE_ND=1 sge_qmaster </dev/null >>"$STATE/log/sge_qmaster.log" 2>&1 &
    proc_record "$STATE/pids" "$!" sge_qmaster
    for _ in $(seq 100); do
      timeout 5 qstat >/dev/null 2>&1 && exit 0
      sleep 0.2
    done
    echo "qmaster-restart: sge_qmaster did not answer" >&2
    exit 1
    ;;
  *) echo "usage: $0 stop|start" >&2; exit 2 ;;
esac
