#!/usr/bin/env bash
# run-cluster-suite.sh MINNA_POLICY MINNA_CONTROLLER: the 'cluster' suite.
#
# minna as a site deploys it: a service node in front of separate compute
# nodes.  cluster-net.sh makes the hosts (network namespaces joined by a
# bridge, 10.213.0.0/24, nothing in the machine's own namespace); then, for
# Slurm and then Grid Engine, each under the machines' scheduler lock
# (flock /tmp/minna-scheduler.lock): the scheduler's master on the service
# node and its execution daemon on each compute node (slurm-up.sh and
# sge-up.sh, run on the service node with their multi-host settings), and
# cluster-e2e.py on the client node drives minna-controller and minna-relay
# on the service node.  Prints TAP; exits 77 (skip) only when not root or
# network namespaces cannot be made here, and says why.
#
# Everything it starts is stopped by PID (the schedulers' *-down.sh, the
# e2e's own daemons; then whatever is still in the namespaces), and the
# namespaces, their directory and the test users are removed at exit, also
# when a step fails.  MINNA_CLUSTER_SCHEDULERS (default "slurm sge") picks
# the schedulers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LOCK=/tmp/minna-scheduler.lock

# ---- one scheduler, run under the lock: --one slurm|sge ----------------------
if [ "${1:-}" = "--one" ]; then
  sched=$2 controller=$3 policy=$4 user=$5 liar=$6
  trap 'exit 1' INT TERM   # the EXIT trap below (the scheduler's down) runs then too
  on () { "$here/on-node.sh" "$@"; }
  case $sched in
    slurm)
      export MINNA_SLURM_STATE=/var/tmp/$(basename "$MNCL_DIR")-slurm
      down () {
        [ "${rc:-1}" = 0 ] || for f in "$MINNA_SLURM_STATE"/log/slurm*.log; do
          [ -f "$f" ] && { echo "--- $f"; tail -n 12 "$f"; } | sed 's/^/# /'
        done
        on svc "$here/../slurm/slurm-down.sh" 2>&1 | sed 's/^/# /'
      }
      trap down EXIT
      # interactive1/n1 on cn1, interactive2/n2 on cn2; a node that stops
      # answering is marked "not responding" after one failed ping (every
      # SlurmdTimeout/3) and DOWN, killing its jobs, only after SlurmdTimeout
      MINNA_SLURM_CTLD_ADDR=10.213.0.1 \
      MINNA_SLURM_NODES="interactive1=mncl-cn1=10.213.0.11 n1=mncl-cn1=10.213.0.11
                         interactive2=mncl-cn2=10.213.0.12 n2=mncl-cn2=10.213.0.12" \
      MINNA_SLURM_NODE_EXEC="$here/on-node.sh" \
      MINNA_SLURM_EXTRA_CONF=$'SlurmdTimeout=45\nMessageTimeout=5' \
        on svc "$here/../slurm/slurm-up.sh" "$policy" 2>&1 | sed 's/^/# /'
      [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "not ok - Slurm up on the cluster"; echo "status 1"; exit 1; }
      . "$MINNA_SLURM_STATE/env"
      echo "ok - Slurm up in $(cat "$MINNA_SLURM_STATE/bringup-seconds") s: slurmctld on mncl-svc, slurmd on mncl-cn1 and mncl-cn2"
      echo "add user $user,$liar account=minna" | on svc timeout 15 sacctmgr -i >/dev/null ||
        echo "# sacctmgr add user failed"
      ;;
    sge)
      export MINNA_SGE_STATE=/var/tmp/$(basename "$MNCL_DIR")-sge
      down () {
        [ "${rc:-1}" = 0 ] || for f in "$MINNA_SGE_STATE"/execd/*/messages "$MINNA_SGE_STATE"/qmaster/messages; do
          [ -f "$f" ] && { echo "--- $f"; tail -n 12 "$f"; } | sed 's/^/# /'
        done
        on svc "$here/../sge/sge-down.sh" 2>&1 | sed 's/^/# /'
      }
      trap down EXIT
      # an execution host unheard for 20 s is shown unknown ('u'); its jobs
      # stay (reschedule_unknown is off)
      MINNA_SGE_EXEC_HOSTS="mncl-cn1 mncl-cn2" MINNA_SGE_NODE_EXEC="$here/on-node.sh" \
      MINNA_SGE_MAX_UNHEARD=00:00:20 \
        on svc "$here/../sge/sge-up.sh" "$policy" 2>&1 | sed 's/^/# /'
      [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "not ok - Grid Engine up on the cluster"; echo "status 1"; exit 1; }
      . "$MINNA_SGE_STATE/env"
      echo "ok - Grid Engine up in $(cat "$MINNA_SGE_STATE/bringup-seconds") s: sge_qmaster on mncl-svc, sge_execd on mncl-cn1 and mncl-cn2"
      ;;
  esac
  t=$(date +%s)
  on client timeout 600 python3 "$here/cluster-e2e.py" "$sched" "$controller" "$policy" "$user" "$liar"
  rc=$?
  echo "# $sched: the e2e took $(( $(date +%s) - t )) s"
  echo "status $rc"
  exit $rc
fi

# ---- the suite ------------------------------------------------------------------
policy_bin=${1:?usage: run-cluster-suite.sh MINNA_POLICY MINNA_CONTROLLER}
controller=${2:?usage: run-cluster-suite.sh MINNA_POLICY MINNA_CONTROLLER}
export MINNA_POLICY_BIN=$policy_bin
# meson's test environment sets these; by hand, the build is the controller's
export MINNA_BUILD_DIR=${MINNA_BUILD_DIR:-$(cd "$(dirname "$controller")/../.." && pwd)}
export MINNA_SOURCE_DIR=${MINNA_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
skip () { echo "1..0 # SKIP $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "the cluster suite makes network namespaces, users and daemons: run it as root"
for b in ip nsenter unshare ss flock; do
  command -v "$b" >/dev/null || skip "$b is not installed"
done
probe=mncl-$$-probe
if ! err=$(ip netns add "$probe" 2>&1); then
  skip "network namespaces cannot be made here (ip netns add: $err)"
fi
ip netns del "$probe"

# The lock, unless this run already holds it: run as the protocol asks
# (flock /tmp/minna-scheduler.lock meson test ...), a second flock would wait
# for ever on its own caller.  /proc/locks names the holder's PID.
held_by_caller () {
  local ino pid p
  [ -e "$LOCK" ] || return 1
  ino=$(stat -c %i "$LOCK")
  for pid in $(awk -v i=":$ino\$" '$2 == "FLOCK" && $6 ~ i { print $5 }' /proc/locks 2>/dev/null); do
    p=$$
    while [ -n "$p" ] && [ "$p" -gt 1 ]; do
      [ "$p" = "$pid" ] && return 0
      p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    done
  done
  return 1
}
locked=(flock -o "$LOCK")
if held_by_caller; then
  echo "# the scheduler lock is held by this run's caller: not taken again"
  locked=()
fi

n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
nok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

export MNCL_DIR=/run/mncl-$$
users=(mncl1 mncl2)
made_users=()
cleanup () {
  "$here/cluster-net.sh" down 2>&1 | sed 's/^/# /'
  for u in "${made_users[@]}"; do userdel "$u" 2>/dev/null; done
  ip netns list 2>/dev/null | grep -q "^mncl-$$-" && echo "# namespaces left: $(ip netns list | grep "^mncl-$$-")"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s)
if ! out=$("$here/cluster-net.sh" up 2>&1); then
  echo "$out" | sed 's/^/# /'
  echo "Bail out! cluster-net.sh up failed"
  exit 1
fi
ok "network namespaces: $(ip netns list | grep -c "^mncl-$$-") (svc, cn1, cn2, client, br), none of 10.213.0.0/24 in the machine's own"
if ip -4 addr show | grep -q ' 10\.213\.0\.'; then nok "the machine's own namespace holds no 10.213.0.x address"; fi
# Grid Engine runs no job below uid 1000 (min_uid): useradd's defaults do.
for u in "${users[@]}"; do
  if ! id "$u" >/dev/null 2>&1; then
    useradd -M -d /nonexistent -s /bin/sh "$u" && made_users+=("$u")
  fi
done

policy=$here/test-policy.conf
for sched in ${MINNA_CLUSTER_SCHEDULERS:-slurm sge}; do
  case $sched in
    slurm) need="munged slurmctld slurmd slurmdbd mariadbd sbatch" ;;
    sge) need="sge_qmaster sge_execd qsub" ;;
    *) nok "unknown scheduler $sched in MINNA_CLUSTER_SCHEDULERS"; continue ;;
  esac
  missing=
  for b in $need; do command -v "$b" >/dev/null || missing="$missing $b"; done
  if [ -n "$missing" ]; then
    n=$((n + 1)); echo "ok $n # SKIP $sched: not installed:$missing"
    continue
  fi
  t=$(date +%s)
  status= failed_before=$failed
  while IFS= read -r line; do
    case $line in
      "ok - "*) ok "$sched: ${line#ok - }" ;;
      "not ok - "*) nok "$sched: ${line#not ok - }" ;;
      "status "*) status=${line#status } ;;
      *) echo "$line" ;;
    esac
  done < <("${locked[@]}" "$0" --one "$sched" "$controller" "$policy" "${users[@]}" 2>&1)
  if [ "$status" != 0 ] && [ "$failed" -eq "$failed_before" ]; then
    nok "$sched: the run ended with status ${status:-none (killed?)} and no failed step"
  fi
  echo "# $sched: $(( $(date +%s) - t )) s with the lock's wait"
done

echo "# the cluster suite took $(( $(date +%s) - t0 )) s"
echo "1..$n"
[ "$failed" -eq 0 ]
