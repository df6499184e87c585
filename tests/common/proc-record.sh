# proc-record.sh: sourced (bash) by the test scripts that start and stop
# daemons by PID (tests/slurm/*.sh, tests/sge/*.sh, tests/cluster/cluster-net.sh).
#
# PIDs wrap within minutes on the CI machine (pid_max 32768), so a PID read
# from a file or a listing some time ago may now belong to another
# engineer's process.  Every PID these scripts keep therefore goes with the
# process's start time (/proc/PID/stat field 22, clock ticks since boot, the
# same value the controller's local backend records and the C tests compare,
# mn_test_proc_starttime), and a signal is sent only while the PID still has
# that start time.  The check and the kill are two steps, but for the PID to
# be reused between them the process would have to end, be reaped and the
# PIDs wrap in that instant.
#
# Records are lines "PID STARTTIME NAME" in a file (one per daemon started).
# A line "PID NAME" (written before start times were recorded) is checked by
# name instead: the process's comm must be NAME up to its first '-'
# (slurmd-n1: slurmd).
#
# Functions set REPLY / rec_* instead of printing, so the /proc walks below
# fork nothing per process.

# proc_starttime PID: REPLY = PID's start time, proc_state its state (R, S,
# Z, ...); fails when there is no PID.
proc_starttime () {
  local - line f
  set -f
  REPLY= proc_state=
  [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 1 ] || return 1
  { IFS= read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
  # the command name (field 2) may hold spaces and ')': the fields start
  # after its last ')', with field 3 (state) first
  f=(${line##*) })   # split on blanks (set -f: no globbing); no here-string, which costs a temporary file
  REPLY=${f[19]:-} proc_state=${f[0]:-}
  [ -n "$REPLY" ]
}

# proc_ppid PID: REPLY = PID's parent; fails when there is no PID.
proc_ppid () {
  local - line f
  set -f
  REPLY=
  { IFS= read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
  f=(${line##*) })
  REPLY=${f[1]:-}
  [ -n "$REPLY" ]
}

# proc_record FILE PID NAME: append PID's record (PID just started by the
# caller; a PID already gone is recorded with start time 0, which matches
# nothing, so it is never signalled).
proc_record () {
  local start=0
  proc_starttime "$2" && start=$REPLY
  echo "$2 $start $3" >> "$1"
}

# proc_parse LINE: rec_pid, rec_start (empty for an old "PID NAME" line)
# and rec_name of a record.
proc_parse () {
  local a b c
  read -r a b c <<<"$1"
  rec_pid=$a
  if [[ $b =~ ^[0-9]+$ ]]; then
    rec_start=$b rec_name=$c
  else
    rec_start= rec_name="$b${c:+ $c}"
  fi
}

# proc_is PID START [NAME]: PID runs (a zombie has ended) and is the
# process recorded: started at START, or, with START empty (an old record),
# its comm is NAME up to its first '-'.
proc_is () {
  local comm
  proc_starttime "$1" && [ "$proc_state" != Z ] || return 1
  if [ -n "$2" ]; then
    [ "$2" != 0 ] && [ "$REPLY" = "$2" ]
  else
    [ -n "${3:-}" ] || return 1
    { IFS= read -r comm < "/proc/$1/comm"; } 2>/dev/null || return 1
    [ "$comm" = "${3%%-*}" ]
  fi
}

# proc_signal SIG PID START [NAME]: send SIG to PID if it is still the
# process recorded (proc_is); fails otherwise.
proc_signal () {
  proc_is "$2" "$3" "${4:-}" && kill "-$1" "$2" 2>/dev/null
}

# proc_stop PID START NAME [GRACE]: TERM, up to GRACE seconds (default 10)
# for it to end, then KILL; only while PID is the process recorded.  Says
# on stderr what it did, as PREFIX (default the script's name).
proc_stop () {
  local pid=$1 start=$2 name=$3 grace=${4:-10} end
  local who=${PROC_PREFIX:-$(basename "$0")}
  if ! proc_is "$pid" "$start" "$name"; then
    echo "$who: $name (pid $pid) had ended (the PID, if it runs, is not the one recorded): left alone" >&2
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  end=$(( $(date +%s) + grace ))
  while proc_is "$pid" "$start" "$name" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
  if proc_signal KILL "$pid" "$start" "$name"; then
    echo "$who: $name (pid $pid) ignored SIGTERM for $grace s: killed" >&2
  else
    echo "$who: $name (pid $pid) stopped" >&2
  fi
  return 0
}

# proc_last FILE NAME: rec_pid, rec_start of NAME's newest record in FILE;
# fails when there is none.
proc_last () {
  local line found=
  [ -f "$1" ] || return 1
  while IFS= read -r line; do
    proc_parse "$line"
    [ "$rec_name" = "$2" ] && found="$line"
  done < "$1"
  [ -n "$found" ] || return 1
  proc_parse "$found"
}

# proc_sweep SIG TEST: SIG to every process (but this shell and its
# ancestors) for which the caller's function TEST PID succeeds, e.g. one
# that checks the process's comm and the state directory in its command
# line, environment or working directory (what the script made, by name).
# Each is signalled only if it still has the start time it had before
# TEST ran.  REPLY: the PIDs signalled, space-separated; proc_swept: the
# same as "PID (COMM)", for the caller's message.
proc_sweep () {
  local sig=$1 test=$2 d pid start comm hit=
  local -A mine=()
  proc_swept=
  pid=$BASHPID
  while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
    mine[$pid]=1
    proc_ppid "$pid" || break
    pid=$REPLY
  done
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ -z "${mine[$pid]:-}" ] || continue
    proc_starttime "$pid" || continue
    start=$REPLY
    "$test" "$pid" || continue
    proc_signal "$sig" "$pid" "$start" || continue
    hit="$hit $pid"
    { IFS= read -r comm < "/proc/$pid/comm"; } 2>/dev/null || comm=gone
    proc_swept="${proc_swept:+$proc_swept, }$pid ($comm)"
  done
  REPLY=${hit# }
}

# proc_comm_in PID NAME...: PID's comm is one of NAMEs.
proc_comm_in () {
  local comm n pid=$1
  shift
  { IFS= read -r comm < "/proc/$pid/comm"; } 2>/dev/null || return 1
  for n; do [ "$comm" = "$n" ] && return 0; done
  return 1
}

# proc_has_arg PID STRING: one of PID's arguments contains STRING.
proc_has_arg () {
  local -a args
  mapfile -d '' -t args 2>/dev/null < "/proc/$1/cmdline" || return 1
  local a
  for a in "${args[@]}"; do [[ $a == *"$2"* ]] && return 0; done
  return 1
}

# proc_has_env PID VAR=VALUE: PID's environment holds exactly VAR=VALUE.
proc_has_env () {
  local -a env
  mapfile -d '' -t env 2>/dev/null < "/proc/$1/environ" || return 1
  local e
  for e in "${env[@]}"; do [ "$e" = "$2" ] && return 0; done
  return 1
}
