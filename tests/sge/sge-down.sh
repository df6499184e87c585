#!/usr/bin/env bash
# sge-down.sh: stop exactly what sge-up.sh started (the PIDs in $STATE/pids)
# and the jobs of its cell, then remove the cell and $STATE.  Safe to run
# twice or when nothing is up.
set -uo pipefail
STATE=${MINNA_SGE_STATE:-/var/tmp/minna-sge}
export SGE_ROOT=/var/lib/gridengine SGE_CELL=minna-test
export SGE_QMASTER_PORT=16444 SGE_EXECD_PORT=16445
[ -f "$STATE/env" ] && . "$STATE/env"

alive () { kill -0 "$1" 2>/dev/null; }
# The jobs first: every process below a shepherd of this cell (a shepherd's
# working directory is in this cell's execd spool, so only this cell's jobs
# match), found by walking parent ids; then the shepherds themselves.
[ -d "$STATE" ] || [ -d "$SGE_ROOT/$SGE_CELL" ] || exit 0
mapfile -t shepherds < <(find /proc -mindepth 2 -maxdepth 2 -name cwd \
  -lname "$STATE/execd/*" 2>/dev/null | cut -d/ -f3)
if [ ${#shepherds[@]} -gt 0 ]; then
  declare -A doomed=()
  for p in "${shepherds[@]}"; do doomed[$p]=1; done
  changed=1
  while [ "$changed" = 1 ]; do
    changed=0
    for st in /proc/[0-9]*/stat; do
      { read -r line < "$st"; } 2>/dev/null || continue
      rest=${line##*) }          # fields after the command name
      read -r _state ppid _ <<<"$rest"
      pid=${st#/proc/}; pid=${pid%/stat}
      if [ -n "${doomed[$ppid]:-}" ] && [ -z "${doomed[$pid]:-}" ]; then
        doomed[$pid]=1; changed=1
      fi
    done
  done
  for p in "${!doomed[@]}"; do kill -KILL "$p" 2>/dev/null; done
fi
if [ -f "$STATE/pids" ]; then
  while read -r pid name; do
    alive "$pid" && kill -TERM "$pid" 2>/dev/null
    end=$(( $(date +%s) + 10 ))
    while alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    echo "sge-down: $name stopped" >&2
  done < <(tac "$STATE/pids")
fi
rm -rf "$STATE" "$SGE_ROOT/$SGE_CELL"
exit 0
