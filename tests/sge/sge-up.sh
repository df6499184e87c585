#!/usr/bin/env bash
# sge-up.sh [POLICY.conf]: bring up a real single-host Grid Engine 8.1.9 cell
# with minna's exported configuration applied, as root.
#
# The cell is a cell of its own ($SGE_ROOT/minna-test, spool in $STATE), so
# the package's 'default' cell is left alone and a second bring-up starts
# from nothing.  sge_qmaster and sge_execd run in the foreground (SGE_ND=1)
# as children started here, recorded in $STATE/pids with their start times
# (tests/common/proc-record.sh), so sge-down.sh stops exactly those.
# Clients find the cell through $STATE/env (SGE_ROOT, SGE_CELL,
# SGE_QMASTER_PORT, SGE_EXECD_PORT).
#
# Ports: qmaster 16444, execd 16445.  Environment: MINNA_SGE_STATE (default
# /var/tmp/minna-sge), MINNA_POLICY_BIN (minna-policy to export with).
#
# Multi-host (tests/cluster): run this on the service node (the qmaster's
# host) and set MINNA_SGE_EXEC_HOSTS ("HOST ...": the execution hosts,
# default this host), MINNA_SGE_NODE_EXEC (a command that runs its arguments
# on host HOST, given HOST first: how each sge_execd is started there) and
# MINNA_SGE_MAX_UNHEARD (the global max_unheard, after which an execution
# host that stopped reporting is shown unknown).
#
# MINNA_SGE_EXTRA_POLICIES ("POLICY.conf ..."): more policies, each with its
# own [queue] name, exported beside the first (a queue, host group and quota
# each, and their GPU complex); see below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/proc-record.sh"
STATE=${MINNA_SGE_STATE:-/var/tmp/minna-sge}
policy_conf=${1:-$here/test-policy.conf}
T=${MINNA_SGE_TIMEOUT:-15}
t0=$(date +%s.%N)

say () { echo "sge-up: $*" >&2; }
die () {
  say "$*"
  for f in "$STATE"/log/*.log "$STATE"/qmaster/messages "$STATE"/execd/*/messages; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
  done
  [ -n "${MINNA_KEEP_ON_FAIL:-}" ] || "$here/sge-down.sh" >&2 || true
  exit 1
}

[ "$(id -u)" -eq 0 ] || { say "must run as root"; exit 77; }
for b in sge_qmaster sge_execd qconf qsub qstat; do
  command -v "$b" >/dev/null || { say "missing $b (install scripts/packages/sge.txt)"; exit 77; }
done
getent passwd sgeadmin >/dev/null || { say "no user sgeadmin (gridengine-common not installed?)"; exit 77; }

policy_bin=${MINNA_POLICY_BIN:-}
if [ -z "$policy_bin" ]; then
  for c in "${MINNA_BUILD_DIR:-}/policy/minna-policy" "$here/../../build/policy/minna-policy" \
           "$(command -v minna-policy || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && { policy_bin=$c; break; }
  done
fi
[ -x "$policy_bin" ] || { say "minna-policy not found: set MINNA_POLICY_BIN"; exit 1; }

export SGE_ROOT=/var/lib/gridengine
export SGE_CELL=minna-test
export SGE_QMASTER_PORT=16444
export SGE_EXECD_PORT=16445
cell=$SGE_ROOT/$SGE_CELL
host=$(hostname -s)
read -r -a exec_hosts <<<"${MINNA_SGE_EXEC_HOSTS:-$host}"

"$here/sge-down.sh" >/dev/null 2>&1 || true
rm -rf "$STATE" "$cell"
mkdir -p "$STATE"/{log,qmaster/job_scripts,spooldb,execd,etc} "$cell/common"
chmod 755 "$STATE"
chown -R sgeadmin:sgeadmin "$STATE"/{qmaster,spooldb,execd} "$cell"
: > "$STATE/pids"

start () {
  local name=$1; shift
  setsid "$@" </dev/null >>"$STATE/log/$name.log" 2>&1 &
  proc_record "$STATE/pids" "$!" "$name"
}
wait_for () {
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
# q CLIENT ARGS: Grid Engine's own client from $SGE_ROOT/bin/ARCH (found
# once below), not Debian's wrapper in PATH, which runs util/arch (uname,
# cpp, ldd) twice on every call: 0.3 s of CPU per qconf before the same binary
client_dir=""
q () { local c=$1; shift; timeout "$T" "$client_dir$c" "$@"; }
phase () { echo "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') $*" >> "$STATE/timings"; }

# --- the policy's export, split into its BEGIN/END pieces ----------------
"$policy_bin" export --sge "$policy_conf" > "$STATE/export.txt" ||
  die "minna-policy export --sge $policy_conf failed"
piece () {
  sed -n "/^# ---- BEGIN $1 ----\$/,/^# ---- END $1 ----\$/p" "$STATE/export.txt" | sed '1d;$d'
}
for p in hostgroup queue_conf rqs; do
  piece $p > "$STATE/etc/export-$p"
  [ -s "$STATE/etc/export-$p" ] || die "export has no $p piece"
done

phase "the cell"
# --- the cell ---------------------------------------------------------------
cat > "$cell/common/bootstrap" <<EOF
# Version: 6.2
admin_user              sgeadmin
default_domain          none
ignore_fqdn             true
spooling_method         classic
spooling_lib            libspoolc
spooling_params         $cell/common;$STATE/qmaster
binary_path             /usr/sbin
qmaster_spool_dir       $STATE/qmaster
security_mode           none
listener_threads        2
worker_threads          2
scheduler_threads       1
EOF
echo "$host" > "$cell/common/act_qmaster"
# Without this every client waits minutes, then gets "access denied".
echo "$host localhost" > "$cell/common/host_aliases"
sed -e "s|^execd_spool_dir .*|execd_spool_dir        $STATE/execd|" \
    -e "s|^load_report_time .*|load_report_time       00:00:05|" \
    -e "s|^reporting_params .*|reporting_params       accounting=true reporting=false flush_time=00:00:01 joblog=false sharelog=00:00:00|" \
    -e "s|^finished_jobs .*|finished_jobs          0|" \
    -e "s|^max_unheard .*|max_unheard            ${MINNA_SGE_MAX_UNHEARD:-00:05:00}|" \
    /usr/share/gridengine/default-configuration > "$STATE/etc/configuration"
# This host as admin, submit and execution host, spooled before qmaster
# starts (each qconf costs a round trip).
mkdir -p "$STATE/etc/hosts" "$STATE/etc/exechosts"
echo "hostname $host" > "$STATE/etc/hosts/$host"
for h in "${exec_hosts[@]}"; do
  printf 'hostname %s\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' \
    "$h" > "$STATE/etc/exechosts/$h"
done
chown -R sgeadmin:sgeadmin "$cell" "$STATE/etc"
as_admin () { runuser -u sgeadmin -- env SGE_ROOT="$SGE_ROOT" SGE_CELL="$SGE_CELL" "$@"; }
{
  as_admin /usr/lib/gridengine/spoolinit classic libspoolc "$cell/common;$STATE/qmaster" init
  as_admin /usr/lib/gridengine/spooldefaults configuration "$STATE/etc/configuration"
  as_admin /usr/lib/gridengine/spooldefaults complexes /usr/share/gridengine/util/resources/centry
  as_admin /usr/lib/gridengine/spooldefaults usersets /usr/share/gridengine/util/resources/usersets
  as_admin /usr/lib/gridengine/spooldefaults managers sgeadmin root
  as_admin /usr/lib/gridengine/spooldefaults adminhosts "$STATE/etc/hosts"
  as_admin /usr/lib/gridengine/spooldefaults submithosts "$STATE/etc/hosts"
  as_admin /usr/lib/gridengine/spooldefaults exechosts "$STATE/etc/exechosts"
} >"$STATE/log/init.log" 2>&1 || die "initialising the cell failed"
cat > "$STATE/env" <<EOF
export SGE_ROOT=$SGE_ROOT
export SGE_CELL=$SGE_CELL
export SGE_QMASTER_PORT=$SGE_QMASTER_PORT
export SGE_EXECD_PORT=$SGE_EXECD_PORT
EOF

sge_arch=$("$SGE_ROOT/util/arch" 2>/dev/null || true)
if [ -n "$sge_arch" ] && [ -x "$SGE_ROOT/bin/$sge_arch/qconf" ]; then
  export SGE_ARCH=$sge_arch
  client_dir=$SGE_ROOT/bin/$sge_arch/
fi

phase "qmaster"
# --- qmaster ----------------------------------------------------------------
start sge_qmaster env SGE_ND=1 sge_qmaster
wait_for sge_qmaster 30 q qconf -sh

phase "Scheduler tuning"
# Scheduler tuning: qsub to running in about a second, not fifteen.
q qconf -ssconf > "$STATE/etc/sconf"
sed -i -e 's/^schedule_interval .*/schedule_interval                 0:0:1/' \
       -e 's/^flush_submit_sec .*/flush_submit_sec                  1/' \
       -e 's/^flush_finish_sec .*/flush_finish_sec                  1/' "$STATE/etc/sconf"
q qconf -Msconf "$STATE/etc/sconf" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Msconf failed"

phase "minna export"
# --- minna's export, as the export says to apply it -------------------------
q qconf -Ahgrp "$STATE/etc/export-hostgroup" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Ahgrp failed"
q qconf -Aq "$STATE/etc/export-queue_conf" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Aq failed"
q qconf -Arqs "$STATE/etc/export-rqs" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Arqs failed"
hgrp=$(awk '$1 == "group_name" { print $2 }' "$STATE/etc/export-hostgroup")
for h in "${exec_hosts[@]}"; do
  q qconf -aattr hostgroup hostlist "$h" "$hgrp" >>"$STATE/log/qconf.log" 2>&1 || die "adding $h to $hgrp failed"
done

# MINNA_SGE_EXTRA_POLICIES ("POLICY.conf ..."): more policies exported
# beside the first, each with its own [queue] name (its own queue, host
# group and quota), e.g. the twin scenarios' (tests/twin/scheduler-twin.py),
# applied as the export says: its pieces with qconf -Ahgrp, -Aq, -Arqs, its
# complex (GPUs: gpu / gpu_shard) added to the complex list, and the
# complex_values its comment names set on every execution host.
extra_i=0
for extra in ${MINNA_SGE_EXTRA_POLICIES:-}; do
  extra_i=$((extra_i + 1))
  x=$STATE/etc/export-extra$extra_i
  "$policy_bin" export --sge "$extra" > "$x.txt" || die "minna-policy export --sge $extra failed"
  for p in hostgroup queue_conf rqs complex; do
    sed -n "/^# ---- BEGIN $p ----\$/,/^# ---- END $p ----\$/p" "$x.txt" | sed '1d;$d' > "$x-$p"
  done
  if [ -s "$x-complex" ]; then
    q qconf -sc > "$x-complexes" || die "qconf -sc failed"
    while read -r name rest; do
      grep -q "^$name " "$x-complexes" || echo "$name $rest" >> "$x-complexes"
    done < "$x-complex"
    q qconf -Mc "$x-complexes" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Mc ($extra's complex) failed"
    for cv in $(grep -o 'complex_values [a-z_]*=[0-9]* HOST' "$x.txt" | awk '{ print $2 }'); do
      for h in "${exec_hosts[@]}"; do
        q qconf -aattr exechost complex_values "$cv" "$h" >>"$STATE/log/qconf.log" 2>&1 ||
          die "qconf -aattr exechost complex_values $cv $h failed"
      done
    done
  fi
  q qconf -Ahgrp "$x-hostgroup" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Ahgrp ($extra) failed"
  q qconf -Aq "$x-queue_conf" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Aq ($extra) failed"
  q qconf -Arqs "$x-rqs" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Arqs ($extra) failed"
  xg=$(awk '$1 == "group_name" { print $2 }' "$x-hostgroup")
  for h in "${exec_hosts[@]}"; do
    q qconf -aattr hostgroup hostlist "$h" "$xg" >>"$STATE/log/qconf.log" 2>&1 || die "adding $h to $xg failed"
  done
done

# Execution hosts that share one kernel (tests/cluster: network namespaces)
# must not hand out the same additional group id: an execd kills a deleted
# job's processes by that id, which would reach the other hosts' jobs.
if [ "${#exec_hosts[@]}" -gt 1 ]; then
  mkdir -p "$STATE/etc/local"
  g=65400
  for h in "${exec_hosts[@]}"; do
    echo "gid_range $g-$((g + 19))" > "$STATE/etc/local/$h"
    q qconf -Aconf "$STATE/etc/local/$h" >>"$STATE/log/qconf.log" 2>&1 || die "qconf -Aconf $h (gid_range) failed"
    g=$((g + 20))
  done
fi

phase "execd"
# --- execd ------------------------------------------------------------------
if [ -n "${MINNA_SGE_NODE_EXEC:-}" ]; then
  for h in "${exec_hosts[@]}"; do
    start "sge_execd-$h" $MINNA_SGE_NODE_EXEC "$h" env SGE_ND=1 sge_execd
  done
else
  start sge_execd env SGE_ND=1 sge_execd
fi
queue=$(awk '$1 == "qname" { print $2 }' "$STATE/etc/export-queue_conf")
queue_ready () {
  # the queue instance is listed without a/u (alarm/unknown) state
  local out
  out=$(timeout 5 "${client_dir}qstat" -f -q "$queue" 2>/dev/null | grep "^$queue@") || return 1
  [ "$(echo "$out" | wc -l)" -eq "${#exec_hosts[@]}" ] &&
    [ "$(echo "$out" | awk '{ print $6 }' | tr -d '\n')" = "" ]
}
wait_for "$queue ready" 60 queue_ready

phase "t1=$"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' > "$STATE/bringup-seconds"
say "up in $(cat "$STATE/bringup-seconds") s: $(timeout 5 qstat -g c | tail -n +3 | tr -s ' ' | tr '\n' ';')"
