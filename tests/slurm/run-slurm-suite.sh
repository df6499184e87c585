#!/usr/bin/env bash
# run-slurm-suite.sh MINNA_POLICY [BACKEND_TEST [MINNA_CONTROLLER]]: the 'slurm' suite (TAP).
#
# One bring-up of a real Slurm with minna's exported configuration (see
# slurm-up.sh), real test users, then checks that the scheduler itself
# enforces what the policy exported: jobs per logical node, one job per user,
# give-up when full, cancel while queued and while running, walltime end.
# BACKEND_TEST, if given, is the controller's Slurm backend test, run against
# the same daemons.  Everything started is stopped by PID at exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export MINNA_POLICY_BIN=${1:?usage: run-slurm-suite.sh MINNA_POLICY [BACKEND_TEST [MINNA_CONTROLLER]]}
backend_test=${2:-}
controller=${3:-}
export MINNA_SLURM_STATE=${MINNA_SLURM_STATE:-/var/tmp/minna-slurm}
T=15

if [ "$(id -u)" -ne 0 ]; then
  echo "1..0 # SKIP the slurm suite starts real daemons and users: run it as root"
  exit 0
fi
for b in munged slurmctld slurmd slurmdbd mariadbd sbatch; do
  if ! command -v "$b" >/dev/null; then
    echo "1..0 # SKIP $b is not installed (scripts/packages/slurm.txt)"
    exit 0
  fi
done

n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
nok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check () { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
diag () { sed 's/^/# /'; }

users=(mnsl1 mnsl2 mnsl3 mnsl4 mnsl5 mnsl6 mnsl7)
# The twin scenarios on this Slurm (issue 14, tests/twin/scheduler-twin.py):
# each with a partition, nodes and QOS of its own, exported beside the
# suite's policy at bring-up; a lecture needs 41 accounts.
. "$here/../twin/scheduler-suite.sh"
twin_setup slurm mnslt
cleanup () {
  "$here/slurm-down.sh" 2>&1 | diag
  accounts_remove "${users[@]}" "${twin_accounts[@]}"
  rm -rf "$twin_dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

extra_policies=""
if [ -n "$controller" ]; then
  extra_policies=$(twin_prepare slurm) ||
    echo "# scheduler-twin.py prepare failed: the twin scenarios will not find their partitions"
  # the node availability case's partition avail (controller-avail.py)
  extra_policies="$extra_policies $here/avail-policy.conf"
fi
accounts_add "${users[@]}" "${twin_accounts[@]}"
if ! MINNA_SLURM_EXTRA_POLICIES="$extra_policies" "$here/slurm-up.sh" "$here/test-policy.conf" 2>&1 | diag; then
  echo "Bail out! slurm-up.sh failed"
  exit 1
fi
. "$MINNA_SLURM_STATE/env"
ok "bring-up in $(cat "$MINNA_SLURM_STATE/bringup-seconds") s"

wait "$accounts_pid"
all_users=("${users[@]}" "${twin_accounts[@]}")
timeout 30 sacctmgr -i add user "$(IFS=,; echo "${all_users[*]}")" account=minna >/dev/null ||
  echo "# sacctmgr add user failed"

# submit USER ARGS...: sbatch as USER (root's --uid/--gid), prints the job id
submit () {
  local u=$1; shift
  timeout $T sbatch --parsable --uid="$u" --gid="$u" --export=NONE --chdir=/tmp \
    -o /dev/null "$@"
}
state () { timeout $T squeue -h -j "$1" -o %T 2>/dev/null; }
final_state () { timeout $T sacct -n -X -P -j "$1" -o State 2>/dev/null | head -n 1 | cut -d' ' -f1; }
wait_state () {  # wait_state JOB STATE SECONDS (squeue, or sacct once gone)
  local end=$(( $(date +%s) + $3 )) s
  while [ "$(date +%s)" -le "$end" ]; do
    s=$(state "$1")
    [ -z "$s" ] && s=$(final_state "$1")
    [ "$s" = "$2" ] && return 0
    sleep 0.5
  done
  echo "# job $1: $s, not $2 after $3 s"
  return 1
}

# --- the export as the daemons see it --------------------------------------
part=$(timeout $T scontrol show partition interactive 2>&1)
check "partition interactive has OverSubscribe=FORCE:3" grep -q 'OverSubscribe=FORCE:3' <<<"$part"
check "partition interactive has QOS=interactive" grep -q 'QoS=interactive' <<<"$part"
qos=$(timeout $T sacctmgr -n -P show qos interactive format=MaxJobsPU,MaxSubmitPU 2>&1)
check "QOS interactive: MaxJobsPerUser=1 MaxSubmitJobsPerUser=1 ($qos)" test "$qos" = "1|1"

# --- walltime end: started first, checked last (Slurm counts minutes) -------
wall=$(submit mnsl5 -p all -t 1 --wrap 'sleep 600')
wall_t0=$(date +%s)

# --- the partition's MaxTime from the policy's max_walltime ------------------
if out=$(submit mnsl5 -p interactive -t 2:00:00 --wrap 'true' 2>&1); then
  nok "a job over max_walltime is refused (got $out)"
  timeout $T scancel "$out"
else
  ok "a job over max_walltime is refused"
fi

# --- jobs per logical node: 3 share it, the 4th waits ------------------------
j1=$(submit mnsl1 -p interactive --wrap 'sleep 600')
j2=$(submit mnsl2 -p interactive --wrap 'sleep 600')
j3=$(submit mnsl3 -p interactive --wrap 'sleep 600')
check "three jobs of three users run together on the logical node" \
  eval 'wait_state "$j1" RUNNING 20 && wait_state "$j2" RUNNING 20 && wait_state "$j3" RUNNING 20'
j4=$(submit mnsl4 -p interactive --wrap 'sleep 600')
sleep 2
reason=$(timeout $T squeue -h -j "$j4" -o '%T %r')
check "the fourth waits for resources ($reason)" test "$reason" = "PENDING Resources"

# --- one job per user: the QOS refuses a second one -------------------------
if out=$(submit mnsl1 -p interactive --wrap 'sleep 600' 2>&1); then
  nok "a second job of the same user is refused (got $out)"
  timeout $T scancel "$out"
else
  check "a second job of the same user is refused by the QOS" grep -q QOSMaxSubmitJobPerUserLimit <<<"$out"
fi

# --- give up when full: salloc --immediate fails fast -----------------------
t_start=$(date +%s%N)
if out=$(timeout $T salloc -I --uid=mnsl5 --gid=mnsl5 -p interactive -t 1 true 2>&1); then
  nok "salloc -I on a full partition gives up (it ran: $out)"
else
  ms=$(( ($(date +%s%N) - t_start) / 1000000 ))
  check "salloc -I on a full partition gives up, in $ms ms" test "$ms" -lt 5000
fi

# --- cancel while queued and while running ----------------------------------
timeout $T scancel "$j4"
check "cancel while queued: the job ends CANCELLED" wait_state "$j4" CANCELLED 15
timeout $T scancel "$j1"
check "cancel while running: the job ends CANCELLED" wait_state "$j1" CANCELLED 15
check "with a slot free, salloc -I runs at once" \
  eval 'timeout $T salloc -I --uid=mnsl4 --gid=mnsl4 -p interactive -t 1 true 2>&1 | diag; test "${PIPESTATUS[0]}" = 0'
timeout $T scancel "$j2" "$j3"
for j in "$j2" "$j3"; do wait_state "$j" CANCELLED 15 >/dev/null; done

# --- the controller's backend against the same daemons ----------------------
if [ -n "$backend_test" ]; then
  if out=$(MINNA_TEST_USER=mnsl4 MINNA_TEST_FILL_USERS="mnsl1 mnsl2 mnsl3" \
       MINNA_TEST_SCHED_RESTART="$here/slurmctld-restart.sh" timeout 240 "$backend_test" 2>&1); then
    ok "controller Slurm backend"
  else
    nok "controller Slurm backend"
  fi
  diag <<<"$out"
fi

# --- the real minna-controller with [backend] type = slurm -------------------
# Jupyter and the remote desktop (noVNC, the VNC WebSocket, 403 to others)
# through the relay, per-user refusal, the scheduler's daemon stopped
# and started under a running session, the scheduler filled past the
# controller (wait, give-up, cancel while queued), cancel while running,
# walltime end (controller-e2e.py; its known-bug lines stay TODO)
if [ -n "$controller" ]; then
  tap_lines "controller e2e: " < <(MINNA_E2E_GIVE_UP=1 MINNA_E2E_DESKTOP_USER=mnsl6 MINNA_E2E_WALL_USER=mnsl5 MINNA_E2E_QUEUE_USER=mnsl3 MINNA_E2E_FILL_USERS="mnsl1 mnsl2" \
             MINNA_E2E_RESTART="$here/slurmctld-restart.sh" \
             timeout 420 python3 "$here/../slurm/controller-e2e.py" slurm "$controller" mnsl4 \
             "$here/test-policy.conf" 2>&1 || { rc=$?; [ "$rc" -eq 1 ] || echo "not ok - controller-e2e.py exited $rc"; })

  # --- the twin (issue 14): the scenarios through the controller on this Slurm --
  # all at once, each in its own partition: admissions, waits, refusals and
  # their codes, node, socket, cpuset, GPU, start, end reason and memory
  # limit against the model; the controller's bookkeeping against Slurm's
  # allocation on a line of its own; what Slurm cannot show is listed with why
  t_twin=$(date +%s)
  tap_lines "" < <(MINNA_TWIN_ACCOUNTS="${twin_accounts[*]}" \
             timeout 240 python3 "$here/../twin/scheduler-twin.py" run slurm "$controller" "$twin_dir" 2>&1 ||
           { rc=$?; [ "$rc" -eq 1 ] || echo "not ok - scheduler-twin.py exited $rc"; })
  echo "# the twin scenarios took $(( $(date +%s) - t_twin )) s"
fi

# --- issue 20: the controller's start against the scheduler's queue -----------
# a job minna submitted whose database row is gone, a row whose job was
# cancelled while the controller was stopped: what check and the start say
if [ -n "$controller" ]; then
  t_rec=$(date +%s)
  tap_lines "controller reconcile: " < <(timeout 120 python3 "$here/../slurm/controller-reconcile.py" slurm "$controller" \
             "$here/test-policy.conf" mnsl1 mnsl2 2>&1 || { rc=$?; [ "$rc" -eq 1 ] || echo "not ok - controller-reconcile.py exited $rc"; })
  echo "# controller reconcile: $(( $(date +%s) - t_rec )) s"
fi

# --- issue 14: no new session on a drained node ---------------------------------
# the controller on partition avail (avail-policy.conf): a drained node gets
# no new session, a resumed one does again, with every node drained a launch
# waits and starts on a resume (controller-avail.py; it resumes the nodes)
if [ -n "$controller" ]; then
  t_av=$(date +%s)
  tap_lines "node availability: " < <(timeout 240 python3 "$here/controller-avail.py" "$controller" "$here/avail-policy.conf" \
             mnsl1 mnsl2 mnsl3 || { rc=$?; [ "$rc" -eq 1 ] || echo "not ok - controller-avail.py exited $rc"; })
  echo "# node availability: $(( $(date +%s) - t_av )) s"
fi

# --- issue 19: the over-subscribing export on the real slurmctld -----------------
# The export of an oversubscribe policy (the test policy's caps) adds the
# partition interactive-shared over the batch nodes; with the batch partition
# at OverSubscribe=FORCE:1 an interactive job starts at once on a node whose
# cores a batch job holds, and one whose --mem passes the node's memory left
# by the batch job's --mem (the model's headroom rule) does not.
ov_conf=$(mktemp /tmp/minna-oversub-XXXXXX.conf)
{ cat "$here/test-policy.conf"; printf '\n[oversubscribe]\ndesign = oversubscribe\nmax_extra_jobs_per_node = 2\n'; } > "$ov_conf"
ov_line=$("$MINNA_POLICY_BIN" export --slurm "$ov_conf" | grep '^PartitionName=interactive-shared ' || true)
rm -f "$ov_conf"
check "export: interactive-shared over the batch nodes, OverSubscribe=FORCE:3 ($ov_line)" \
  grep -q 'Nodes=batch\[1-N\] OverSubscribe=FORCE:3 .*QOS=interactive' <<<"$ov_line"
sed -i -e 's/^PartitionName=all Nodes=n\[1-2\] Default=YES MaxTime=INFINITE State=UP$/PartitionName=all Nodes=n[1-2] Default=YES MaxTime=INFINITE OverSubscribe=FORCE:1 State=UP/' "$SLURM_CONF"
sed 's/Nodes=batch\[1-N\]/Nodes=n[1-2]/' <<<"$ov_line" >> "$SLURM_CONF"
timeout $T scontrol reconfigure 2>&1 | diag
sleep 2
check "partition interactive-shared is up" eval 'timeout $T sinfo -h -p interactive-shared -o %a | grep -q up'
# a batch job holding every core of one node (2 cores, 1000 of 2000 MB)
ob=$(submit mnsl5 -p all -N 1 -c 2 --mem=1000 --wrap 'sleep 300')
if wait_state "$ob" RUNNING 20; then
  onode=$(timeout $T squeue -h -j "$ob" -o %N)
  oi=$(submit mnsl6 -p interactive-shared -w "$onode" -c 1 --mem=500 --wrap 'sleep 300')
  t0=$(date +%s)
  if wait_state "$oi" RUNNING 10; then
    ok "an interactive job starts at once ($(( $(date +%s) - t0 )) s) on $onode beside the batch job ($(state "$ob"))"
  else
    nok "an interactive job starts at once on $onode beside the batch job"
  fi
  check "the batch job keeps running beside it" test "$(state "$ob")" = RUNNING
  om=$(submit mnsl7 -p interactive-shared -w "$onode" -c 1 --mem=1500 --wrap 'sleep 300')
  sleep 3
  oreason=$(timeout $T squeue -h -j "$om" -o '%T %r')
  check "one asking more memory than the node has left waits ($oreason)" test "${oreason%% *}" = PENDING
  timeout $T scancel "$ob" "$oi" "$om"
else
  nok "a batch job fills a node for the over-subscription check"
  timeout $T scancel "$ob"
fi

# --- walltime end -------------------------------------------------------------
# limit 1 min; slurmctld checks limits every 30 s, then KillWait
check "walltime end: the job ends TIMEOUT" wait_state "$wall" TIMEOUT 120
echo "# walltime job ended $(( $(date +%s) - wall_t0 )) s after submission"

echo "1..$n"
[ "$failed" -eq 0 ]
