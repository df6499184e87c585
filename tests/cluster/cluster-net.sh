#!/usr/bin/env bash
# cluster-net.sh up|down: the test cluster's network, as root.
#
# up: one network namespace per host (svc: controller, relay and the
# schedulers' masters; cn1, cn2: compute nodes; client: the user's side) and
# one more (br) holding the bridge that joins them, each host by a veth pair
# made straight inside the namespaces (the machine's own namespace never
# holds a link or an address of it).  Addresses 10.213.0.0/24 exist only in
# the namespaces and there is no route out, so no packet leaves.  Each host
# gets a UTS namespace with its own name (mncl-svc, mncl-cn1, ...), kept in
# $MNCL_DIR/uts/NODE, and every host the same hosts file, $MNCL_DIR/hosts
# (on-node.sh bind-mounts it as /etc/hosts).
#
# down: every process still in one of these namespaces is killed (by PID,
# `ip netns pids`, each only while it is still in the namespace, since PIDs
# wrap within minutes here), then the namespaces, UTS namespaces and
# $MNCL_DIR are removed.  Safe to run twice or after a half-done up.
#
# MNCL_DIR (required): the cluster's directory; its basename is the prefix of
# the namespace names (mncl-<pid>-), so two clusters never meet.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/proc-record.sh"
dir=${MNCL_DIR:?set MNCL_DIR, the test cluster directory, e.g. /run/mncl-PID}
prefix=$(basename "$dir")-
NET=10.213.0
# node address
NODES="svc:1 cn1:11 cn2:12 client:100"

up () {
  set -e
  mkdir -p "$dir/uts"
  chmod 755 "$dir"
  echo "$prefix" > "$dir/prefix"
  {
    echo "127.0.0.1 localhost"
    for na in $NODES; do echo "$NET.${na#*:} mncl-${na%%:*}"; done
  } > "$dir/hosts"
  chmod 644 "$dir/hosts"
  ip netns add "${prefix}br"
  ip -n "${prefix}br" link set lo up
  ip -n "${prefix}br" link add br0 type bridge
  ip -n "${prefix}br" link set br0 up
  for na in $NODES; do
    local node=${na%%:*} addr=$NET.${na#*:}
    ip netns add "$prefix$node"
    ip -n "$prefix$node" link set lo up
    ip -n "${prefix}br" link add "$node" type veth peer name eth0 netns "$prefix$node"
    ip -n "${prefix}br" link set "$node" master br0 up
    ip -n "$prefix$node" addr add "$addr/24" dev eth0
    ip -n "$prefix$node" link set eth0 up
    touch "$dir/uts/$node"
    unshare --uts="$dir/uts/$node" hostname "mncl-$node"
  done
}

# in_ns PID: PID's network namespace is $ns_id (the namespace being
# emptied), checked right before the kill: a PID listed a moment ago that
# ended and was reused by a process elsewhere is left alone.
in_ns () { [ "$(readlink "/proc/$1/ns/net" 2>/dev/null)" = "$ns_id" ]; }

down () {
  local ns pids p start round
  for ns in "${prefix}client" "${prefix}svc" "${prefix}cn1" "${prefix}cn2" "${prefix}br"; do
    [ -e "/run/netns/$ns" ] || continue
    ns_id="net:[$(stat -L -c %i "/run/netns/$ns")]"
    # a few rounds: what is killed may have forked meanwhile
    for round in 1 2 3; do
      pids=$(ip netns pids "$ns" 2>/dev/null)
      [ -n "$pids" ] || break
      echo "cluster-net: killing what is left in $ns: $(echo $pids)" >&2
      for p in $pids; do
        proc_starttime "$p" || continue
        start=$REPLY
        in_ns "$p" && proc_signal KILL "$p" "$start"
      done
      sleep 0.2
    done
  done
  for ns in "${prefix}client" "${prefix}svc" "${prefix}cn1" "${prefix}cn2" "${prefix}br"; do
    [ -e "/run/netns/$ns" ] && ip netns del "$ns"
  done
  for f in "$dir"/uts/*; do
    [ -e "$f" ] || continue
    umount "$f" 2>/dev/null
  done
  rm -rf "$dir"
  return 0
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: cluster-net.sh up|down" >&2; exit 2 ;;
esac
