#!/usr/bin/env bash
# slurm-up.sh [POLICY.conf]: bring up a real single-host Slurm 22.05 with
# minna's exported configuration applied, as root.
#
# munged, mariadbd, slurmdbd, slurmctld and one slurmd per node run in the
# foreground (-F / -D) as children started here, each recorded in
# $STATE/pids with its start time (tests/common/proc-record.sh), so
# slurm-down.sh stops exactly those processes.  Everything
# (configuration, spool, database, sockets, logs) lives in $STATE, so a
# second bring-up starts from nothing and nothing of the system's own
# /etc/slurm is touched (munged takes the default socket, see below).  Clients find this cluster through
# $STATE/env (SLURM_CONF).
#
# Nodes: n[1-2] in the batch partition 'all', and the policy's interactive
# nodes (the export's interactive[1-N], given this host's address and one
# port each).  Ports: slurmctld 16817, slurmdbd 16819, mariadb 16306,
# slurmd 17001..  Environment: MINNA_SLURM_STATE (default
# /var/tmp/minna-slurm), MINNA_POLICY_BIN (minna-policy to export with).
#
# Multi-host (tests/cluster): run this on the service node and set
# MINNA_SLURM_CTLD_ADDR (slurmctld's address the nodes reach, default
# 127.0.0.1), MINNA_SLURM_NODES ("NAME=HOST=ADDR ...": where each node's
# slurmd runs), MINNA_SLURM_NODE_EXEC (a command that runs its arguments on
# host HOST, given HOST first: how each slurmd is started there) and
# MINNA_SLURM_EXTRA_CONF (lines added to slurm.conf).
#
# MINNA_SLURM_EXTRA_POLICIES ("POLICY.conf ..."): more policies, each with its
# own [queue] name, exported beside the first (their nodes, partitions, QOS
# and gres.conf); see below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/proc-record.sh"
STATE=${MINNA_SLURM_STATE:-/var/tmp/minna-slurm}
policy_conf=${1:-$here/test-policy.conf}
T=${MINNA_SLURM_TIMEOUT:-15}
t0=$(date +%s.%N)

say () { echo "slurm-up: $*" >&2; }
die () { say "$*"; for f in "$STATE"/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done; [ -n "${MINNA_KEEP_ON_FAIL:-}" ] || "$here/slurm-down.sh" >&2 || true; exit 1; }

[ "$(id -u)" -eq 0 ] || { say "must run as root"; exit 77; }
for b in munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sacctmgr sinfo; do
  command -v "$b" >/dev/null || { say "missing $b (install scripts/packages/slurm.txt)"; exit 77; }
done

policy_bin=${MINNA_POLICY_BIN:-}
if [ -z "$policy_bin" ]; then
  for c in "${MINNA_BUILD_DIR:-}/policy/minna-policy" "$here/../../build/policy/minna-policy" \
           "$(command -v minna-policy || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && { policy_bin=$c; break; }
  done
fi
[ -x "$policy_bin" ] || { say "minna-policy not found: set MINNA_POLICY_BIN"; exit 1; }

# Idempotent: whatever an earlier run left is stopped and removed first.
"$here/slurm-down.sh" >/dev/null 2>&1 || true
rm -rf "$STATE"
mkdir -p "$STATE"/{etc,log,run,ctld,spool,mysql}
chmod 755 "$STATE"
: > "$STATE/pids"

host=$(hostname -s)
ctld_addr=${MINNA_SLURM_CTLD_ADDR:-127.0.0.1}
# node_place NAME PORT: NodeHostname, NodeAddr and Port of node NAME (this
# host unless MINNA_SLURM_NODES places it elsewhere)
node_place () {
  local e h=$host a=127.0.0.1
  for e in ${MINNA_SLURM_NODES:-}; do
    [ "${e%%=*}" = "$1" ] && IFS== read -r _ h a <<<"$e"
  done
  echo "NodeHostname=$h NodeAddr=$a Port=$2"
}
start () {  # start NAME CMD...: a foreground daemon, its PID and start time recorded
  local name=$1; shift
  setsid "$@" </dev/null >>"$STATE/log/$name.log" 2>&1 &
  proc_record "$STATE/pids" "$!" "$name"
}
phase () { echo "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') $*" >> "$STATE/timings"; }
wait_for () {  # wait_for WHAT SECONDS CMD...
  local what=$1 secs=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out waiting for $what"
    while IFS= read -r rec; do
      proc_parse "$rec"
      proc_is "$rec_pid" "$rec_start" "$rec_name" ||
        die "$rec_name (pid $rec_pid) exited while waiting for $what"
    done < "$STATE/pids"
    sleep 0.2
  done
}

# --- the policy's export, split into its BEGIN/END pieces ----------------
"$policy_bin" export --slurm "$policy_conf" > "$STATE/export.txt" ||
  die "minna-policy export --slurm $policy_conf failed"
piece () {
  sed -n "/^# ---- BEGIN $1 ----\$/,/^# ---- END $1 ----\$/p" "$STATE/export.txt" | sed '1d;$d'
}
# gres_lines: an export's gres.conf piece (stdin) as this host takes it: a
# File= that this host does not have (a GPU's /dev/nvidiaN, the lnode GRES's
# unit files, which the export's lnode-files.sh makes on a real node) is
# replaced by empty stand-ins under $STATE/dev, so that Slurm counts, binds
# and hands out the GPUs (and sets CUDA_VISIBLE_DEVICES) as on a GPU node.
gres_lines () {
  local line dir base a b i
  while IFS= read -r line; do
    case $line in ''|'#'*) continue ;; esac
    if [[ $line =~ File=(/[^ ]*/)([^/ []+)(\[([0-9]+)-([0-9]+)\])?( |$) ]]; then
      dir=${BASH_REMATCH[1]} base=${BASH_REMATCH[2]}
      a=${BASH_REMATCH[4]:-} b=${BASH_REMATCH[5]:-}
      if [ ! -e "$dir$base${a}" ]; then
        mkdir -p "$STATE/dev"
        if [ -n "$a" ]; then
          for ((i = a; i <= b; i++)); do : > "$STATE/dev/$base$i"; done
        else
          : > "$STATE/dev/$base"
        fi
        line=${line/File=$dir/File=$STATE\/dev\/}
      fi
    fi
    echo "$line"
  done
}
piece slurm.conf > "$STATE/export-slurm.conf"
piece cgroup.conf > "$STATE/export-cgroup.conf"
piece sacctmgr.sh > "$STATE/export-sacctmgr.sh"
piece gres.conf | gres_lines > "$STATE/export-gres.conf"
[ -s "$STATE/export-slurm.conf" ] || die "export has no slurm.conf piece"

# MINNA_SLURM_EXTRA_POLICIES ("POLICY.conf ..."): more policies exported
# beside the first, each with its own [queue] name (so its own partition,
# nodes and QOS), e.g. the twin scenarios' (tests/twin/scheduler-twin.py).
# Their NodeName/PartitionName lines and sacctmgr lines are added as they
# are; their global lines must agree with the first export's (GresTypes and
# AccountingStorageTRES are joined); their cgroup.conf must be the same.
# Their gres.conf lines name their nodes (NodeName=, as the export writes
# them) and are added as gres_lines gives them.
extra_i=0
for extra in ${MINNA_SLURM_EXTRA_POLICIES:-}; do
  extra_i=$((extra_i + 1))
  x=$STATE/export-extra$extra_i
  "$policy_bin" export --slurm "$extra" > "$x.txt" || die "minna-policy export --slurm $extra failed"
  sed -n '/^# ---- BEGIN slurm.conf ----$/,/^# ---- END slurm.conf ----$/p' "$x.txt" | sed '1d;$d' > "$x-slurm.conf"
  sed -n '/^# ---- BEGIN cgroup.conf ----$/,/^# ---- END cgroup.conf ----$/p' "$x.txt" | sed '1d;$d' > "$x-cgroup.conf"
  cmp -s "$x-cgroup.conf" "$STATE/export-cgroup.conf" ||
    die "$extra: its export's cgroup.conf differs from $policy_conf's (one cgroup.conf per cluster)"
  sed -n '/^# ---- BEGIN sacctmgr.sh ----$/,/^# ---- END sacctmgr.sh ----$/p' "$x.txt" | sed '1d;$d' \
    >> "$STATE/export-sacctmgr.sh"
  sed -n '/^# ---- BEGIN gres.conf ----$/,/^# ---- END gres.conf ----$/p' "$x.txt" | sed '1d;$d' |
    gres_lines >> "$STATE/export-gres.conf"
  awk -v main="$STATE/export-slurm.conf" -v extra="$extra" '
    function kv(line) { k = line; sub(/=.*/, "", k); v = line; sub(/^[^=]*=/, "", v) }
    FILENAME == main { if ($0 !~ /^(NodeName|PartitionName)=/) { kv($0); have[k] = v; order[++n] = k } else body[++b] = $0; next }
    /^(NodeName|PartitionName)=/ { body[++b] = $0; next }
    /^[A-Za-z]+=/ {
      kv($0)
      if (!(k in have)) { have[k] = v; order[++n] = k; next }
      if (have[k] == v) next
      if (k == "GresTypes" || k == "AccountingStorageTRES") {
        m = split(v, add, ",")
        for (j = 1; j <= m; j++) if (("," have[k] ",") !~ ("," add[j] ",")) have[k] = have[k] "," add[j]
        next
      }
      printf "%s: its export says %s=%s, the first one %s=%s\n", extra, k, v, k, have[k] > "/dev/stderr"
      bad = 1
    }
    END {
      if (bad) exit 1
      for (j = 1; j <= n; j++) print order[j] "=" have[order[j]]
      for (j = 1; j <= b; j++) if (body[j] ~ /^NodeName=/) print body[j]
      for (j = 1; j <= b; j++) if (body[j] ~ /^PartitionName=/) print body[j]
    }' "$STATE/export-slurm.conf" "$x-slurm.conf" > "$x-merged.conf" 2>>"$STATE/log/merge.log" ||
    die "$extra: its export's slurm.conf does not fit beside $policy_conf's: $(cat "$STATE/log/merge.log")"
  mv "$x-merged.conf" "$STATE/export-slurm.conf"
done

# The export names its nodes; give each this host's address and a port.
port=17001
inodes=()
while read -r spec; do
  inodes+=("$spec")
done < <(grep -o '^NodeName=[^ ]*' "$STATE/export-slurm.conf" | cut -d= -f2)
expand_nodes () {  # expand_nodes SPEC: prefix[a-b] (what the export writes) or one name
  if [[ $1 =~ ^([A-Za-z0-9_-]+)\[([0-9]+)-([0-9]+)\]$ ]]; then
    for ((i = BASH_REMATCH[2]; i <= BASH_REMATCH[3]; i++)); do
      echo "${BASH_REMATCH[1]}$i"
    done
  else
    echo "$1"
  fi
}
node_names=()
for spec in "${inodes[@]}"; do
  mapfile -t -O "${#node_names[@]}" node_names < <(expand_nodes "$spec")
done
inode_count=${#node_names[@]}
batch_first=$((port + inode_count))

phase "munge"
# --- munge ----------------------------------------------------------------
# Slurm's clients reach munged on its default socket whatever AuthInfo says
# (sacctmgr's connection to slurmdbd does), so this munged takes that socket
# with the system's key (or a key of its own when there is none).
key=/etc/munge/munge.key
if [ ! -s "$key" ]; then
  key=$STATE/etc/munge.key
  dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  chmod 400 "$key"
fi
pgrep -x munged >/dev/null && say "warning: another munged is running; this one takes over its socket"
mkdir -p /run/munge
munge_sock=/run/munge/munge.socket.2
start munged munged -F --force --key-file="$key" \
  --socket="$munge_sock" --pid-file="$STATE/run/munged.pid" \
  --log-file="$STATE/log/munged.log" --seed-file="$STATE/run/munge.seed"

# --- MariaDB for slurmdbd -------------------------------------------------
phase "mariadb-install-db"
mariadb-install-db --no-defaults --datadir="$STATE/mysql" --user=root \
  --auth-root-authentication-method=normal --skip-test-db \
  >"$STATE/log/mariadb-install.log" 2>&1 || die "mariadb-install-db failed"
phase "mariadbd"
start mariadbd mariadbd --no-defaults --datadir="$STATE/mysql" --user=root \
  --socket="$STATE/run/mysql.sock" --port=16306 --bind-address=127.0.0.1 \
  --skip-grant-tables --skip-name-resolve --innodb-use-native-aio=0 \
  --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 --innodb-flush-log-at-trx-commit=0 \
  --pid-file="$STATE/run/mariadbd.pid" --log-error="$STATE/log/mariadbd.err"

# --- configuration --------------------------------------------------------
cat > "$STATE/etc/slurm.conf" <<EOF
# written by tests/slurm/slurm-up.sh: a single-host test cluster
ClusterName=minna
SlurmctldHost=$host($ctld_addr)
SlurmctldPort=16817
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_sock
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool/%n
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd-%n.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd-%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup,task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageHost=127.0.0.1
AccountingStoragePort=16819
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=300
KillWait=5
InactiveLimit=0
ReturnToService=2
MpiDefault=none
${MINNA_SLURM_EXTRA_CONF:-}
# ---- minna policy export (minna-policy export --slurm) ----
EOF
# The export's pieces as they are, except: this host's address and ports on
# its NodeName lines (with MINNA_SLURM_NODES, one line per node with the host
# and address it names there).
batch_spec="Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=2000 State=UNKNOWN"
if [ -z "${MINNA_SLURM_NODES:-}" ]; then
  # one port per node, each NodeName line its own range
  p=$port
  while IFS= read -r line; do
    if [[ $line =~ ^NodeName=([^ ]*)(.*)$ ]]; then
      c=$(expand_nodes "${BASH_REMATCH[1]}" | wc -l)
      ports="[$p-$((p + c - 1))]"
      [ "$c" -eq 1 ] && ports=$p
      echo "NodeName=${BASH_REMATCH[1]} NodeHostname=$host NodeAddr=127.0.0.1 Port=$ports${BASH_REMATCH[2]}"
      p=$((p + c))
    else
      echo "$line"
    fi
  done < "$STATE/export-slurm.conf" >> "$STATE/etc/slurm.conf"
  echo "NodeName=n[1-2] NodeHostname=$host NodeAddr=127.0.0.1 Port=[$batch_first-$((batch_first + 1))] $batch_spec" \
    >> "$STATE/etc/slurm.conf"
else
  i=0
  while IFS= read -r line; do
    if [[ $line =~ ^NodeName=([^ ]*)(.*)$ ]]; then
      rest=${BASH_REMATCH[2]}
      for n in $(expand_nodes "${BASH_REMATCH[1]}"); do
        echo "NodeName=$n $(node_place "$n" $((port + i)))$rest"
        i=$((i + 1))
      done
    else
      echo "$line"
    fi
  done < "$STATE/export-slurm.conf" >> "$STATE/etc/slurm.conf"
  echo "NodeName=n1 $(node_place n1 "$batch_first") $batch_spec" >> "$STATE/etc/slurm.conf"
  echo "NodeName=n2 $(node_place n2 $((batch_first + 1))) $batch_spec" >> "$STATE/etc/slurm.conf"
fi
echo "PartitionName=all Nodes=n[1-2] Default=YES MaxTime=INFINITE State=UP" >> "$STATE/etc/slurm.conf"
if [ -s "$STATE/export-gres.conf" ]; then
  { echo "# written by tests/slurm/slurm-up.sh: the exports' gres.conf"; cat "$STATE/export-gres.conf"; } \
    > "$STATE/etc/gres.conf"
fi
{
  echo "# written by tests/slurm/slurm-up.sh"
  echo "CgroupPlugin=autodetect"
  cat "$STATE/export-cgroup.conf"
} > "$STATE/etc/cgroup.conf"
cat > "$STATE/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$munge_sock
DbdHost=$host
DbdAddr=127.0.0.1
DbdPort=16819
SlurmUser=root
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=16306
StorageUser=root
StorageLoc=minna_slurm_acct
EOF
chmod 600 "$STATE/etc/slurmdbd.conf"
cat > "$STATE/env" <<EOF
export SLURM_CONF=$STATE/etc/slurm.conf
EOF
export SLURM_CONF=$STATE/etc/slurm.conf

wait_for munged 10 test -S "$munge_sock"
wait_for mariadbd 30 mariadb --no-defaults --socket="$STATE/run/mysql.sock" -e 'select 1'

phase "slurmdbd"
# --- slurmdbd, then the accounts and the policy's QOS ---------------------
# slurmdbd reads slurmdbd.conf beside $SLURM_CONF
start slurmdbd slurmdbd -D
wait_for slurmdbd 30 timeout "$T" sacctmgr -n list cluster
phase "sacctmgr"
# One sacctmgr reading its commands from stdin (each invocation costs about
# a second): the cluster, an account, the export's sacctmgr lines as they
# are less their leading "sacctmgr -i", and root.
{
  echo "add cluster minna"
  echo "add account minna cluster=minna Description=minna Organization=minna"
  while read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    case "$line" in
      # a limit on a GRES (gres/shard) names a TRES that slurmctld
      # registers when it starts: set after it is up (below)
      "sacctmgr -i "*gres/*) echo "${line#sacctmgr -i }" >> "$STATE/etc/sacctmgr-gres.in" ;;
      "sacctmgr -i "*) echo "${line#sacctmgr -i }" ;;
      *) die "unexpected line in the export's sacctmgr.sh: $line" ;;
    esac
  done < "$STATE/export-sacctmgr.sh"
  echo "add user root account=minna"
} > "$STATE/etc/sacctmgr.in"
timeout "$T" sacctmgr -i < "$STATE/etc/sacctmgr.in" >>"$STATE/log/sacctmgr.log" 2>&1 ||
  die "sacctmgr failed on $STATE/etc/sacctmgr.in"
timeout "$T" sacctmgr -n -P show qos interactive >/dev/null 2>&1 || die "the export's QOS is missing"

phase "slurmctld+slurmd"
# --- slurmctld and the slurmd ---------------------------------------------
start slurmctld slurmctld -D -i
for n in "${node_names[@]}" n1 n2; do
  if [ -n "${MINNA_SLURM_NODE_EXEC:-}" ]; then
    h=$(node_place "$n" 0 | sed 's/^NodeHostname=\([^ ]*\).*/\1/')
    start "slurmd-$n" $MINNA_SLURM_NODE_EXEC "$h" slurmd -D -N "$n"
  else
    start "slurmd-$n" slurmd -D -N "$n"
  fi
done
all_idle () {
  local out
  out=$(timeout 5 sinfo -h -N -o '%N %t' 2>/dev/null) || return 1
  [ "$(echo "$out" | awk '$2 == "idle"' | sort -u | wc -l)" -eq $((inode_count + 2)) ]
}
wait_for "all nodes idle" 60 all_idle

if [ -s "$STATE/etc/sacctmgr-gres.in" ]; then
  timeout "$T" sacctmgr -i < "$STATE/etc/sacctmgr-gres.in" >>"$STATE/log/sacctmgr.log" 2>&1 ||
    die "sacctmgr failed on $STATE/etc/sacctmgr-gres.in"
fi

phase "all idle"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' > "$STATE/bringup-seconds"
say "up in $(cat "$STATE/bringup-seconds") s: $(timeout 5 sinfo -h -o '%P %D %t' | tr '\n' ';')"
