#!/usr/bin/env bash
# test-proc-record.sh: the 'unit' test of proc-record.sh, the PID records
# (PID, start time, name) of the scheduler and cluster test scripts (TAP).
#
# A PID reused by another process is what must be left alone; rather than
# wrapping the machine's PIDs, each case records a live process under a
# start time it does not have (what a reused PID looks like to the check)
# and asserts the process is neither taken for the recorded one nor
# signalled.  Every process started here is killed by PID at exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/proc-record.sh"
PROC_PREFIX=test-proc-record

n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
nok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; echo "# FAILED: $*" >&2; }
check () { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
not () { ! "$@"; }

tmp=$(mktemp -d /tmp/mn-proc-record-XXXXXX)
kids=()   # "PID STARTTIME" of each process started here
cleanup () {
  local k
  for k in "${kids[@]}"; do proc_signal KILL $k; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# spawn CMD...: start CMD in the background, its PID in kid
spawn () {
  "$@" </dev/null >/dev/null 2>&1 &
  kid=$!
  disown "$kid"
  proc_starttime "$kid" && kids+=("$kid $REPLY")
}
alive () { kill -0 "$1" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# gone PID: PID has ended (reaped here), within 5 s
gone () {
  local i
  for i in $(seq 50); do alive "$1" || return 0; sleep 0.1; done
  return 1
}

# --- start time: field 22, also when the command name holds ") (" -----------
cp "$(command -v sleep)" "$tmp/a) b ("
spawn "$tmp/a) b (" 60
odd=$kid
for _ in $(seq 50); do [ "$(cat "/proc/$odd/comm" 2>/dev/null)" = "a) b (" ] && break; sleep 0.1; done
want=$(python3 -c 'import sys; print(open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()[19])' "$odd")
proc_starttime "$odd"; got=$REPLY
check "proc_starttime reads field 22 past a command name with ') (' ($got, python $want)" test "$got" = "$want"
check "proc_starttime fails for a PID that does not run" not proc_starttime 999999999
check "proc_starttime fails for pid 1 and for non-numbers" eval '! proc_starttime 1 && ! proc_starttime "1 2"'

# --- a record, and a stale one (the PID now someone else's) ---------------
spawn sleep 60
s=$kid
: > "$tmp/pids"
proc_record "$tmp/pids" "$s" sleeper
read -r rp rs rn < "$tmp/pids"
proc_starttime "$s"
check "proc_record writes 'PID STARTTIME NAME' ($rp $rs $rn)" test "$rp $rs $rn" = "$s $REPLY sleeper"
check "proc_is: the recorded process" proc_is "$s" "$rs" sleeper
stale=$((rs + 1))
check "proc_is: the same PID with another start time is not it" not proc_is "$s" "$stale" sleeper
check "proc_is: start time 0 (gone when recorded) matches nothing" not proc_is "$s" 0 sleeper
check "proc_signal refuses a stale record" not proc_signal TERM "$s" "$stale"
proc_stop "$s" "$stale" sleeper 1 2>"$tmp/err"
check "proc_stop leaves the process of a stale record alone ($(cat "$tmp/err"))" alive "$s"
check "proc_stop says it left it alone" grep -q "sleeper (pid $s) had ended .*: left alone" "$tmp/err"

# --- records written before start times: checked by name --------------------
proc_parse "$s sleep-n1"
check "proc_parse: an old 'PID NAME' line has no start time" test "$rec_pid|$rec_start|$rec_name" = "$s||sleep-n1"
check "proc_is: an old record whose comm is its name up to '-' (sleep-n1)" proc_is "$s" "" sleep-n1
check "proc_is: an old record of another program is not it (slurmd-n1)" not proc_is "$s" "" slurmd-n1
proc_parse "$s $rs sleeper x"
check "proc_parse: a new line ($rec_pid|$rec_start|$rec_name)" test "$rec_pid|$rec_start|$rec_name" = "$s|$rs|sleeper x"

# --- the newest record of a name (after a restart) --------------------------
proc_record "$tmp/pids" "$odd" other
echo "$s $stale sleeper" >> "$tmp/pids"
proc_last "$tmp/pids" sleeper
check "proc_last: the newest record of the name" test "$rec_pid $rec_start" = "$s $stale"
check "proc_last fails for a name not recorded" not proc_last "$tmp/pids" nosuch

# --- stopping the recorded process ------------------------------------------
proc_stop "$s" "$rs" sleeper 5 2>"$tmp/err"
check "proc_stop: SIGTERM ends the recorded process ($(cat "$tmp/err"))" gone "$s"
spawn bash -c 'trap "" TERM; while :; do sleep 0.1; done'
deaf=$kid
proc_starttime "$deaf"; ds=$REPLY
t0=$(date +%s)
proc_stop "$deaf" "$ds" deaf 1 2>"$tmp/err"
check "proc_stop: one that ignores SIGTERM is killed after the grace ($(cat "$tmp/err"))" gone "$deaf"
check "proc_stop took the grace, not more ($(( $(date +%s) - t0 )) s)" test $(( $(date +%s) - t0 )) -le 4

# --- the sweep by name ---------------------------------------------------------
spawn sleep 61
mark1=$kid
spawn sleep 62
keep=$kid
marked () { proc_has_arg "$1" 61 && proc_comm_in "$1" sleep; }
proc_sweep KILL marked
check "proc_sweep kills what the test names ($proc_swept)" \
  eval 'gone "$mark1" && test "$REPLY" = "$mark1" && [[ $proc_swept == "$mark1 ("@(sleep|gone)")" ]]'
check "proc_sweep leaves the rest" alive "$keep"
everything () { true; }
# signal 0 (no signal: nothing of anyone else's is touched) to all there is
proc_sweep 0 everything
check "proc_sweep never signals this shell or its ancestors (it reached $(wc -w <<<"$REPLY") others)" \
  eval '! grep -qw -e "$$" -e "$PPID" <<<"$REPLY" && [ -n "$REPLY" ]' 
check "proc_has_env: an exact VAR=VALUE of the process's environment" \
  eval 'spawn env MN_PROC_RECORD_T=1 sleep 60; for _ in $(seq 50); do proc_comm_in $kid sleep && break; sleep 0.1; done; proc_has_env $kid MN_PROC_RECORD_T=1 && ! proc_has_env $kid MN_PROC_RECORD_T=12'

echo "1..$n"
[ "$failed" -eq 0 ]
