#!/usr/bin/env bash
# on-node.sh NODE CMD...: run CMD on node NODE (svc, cn1, cn2, client) of the
# test cluster that cluster-net.sh made: in the node's network namespace,
# under its host name (its UTS namespace) and with the cluster's /etc/hosts
# (bind-mounted in a mount namespace of CMD's own).  Every step execs, so the
# PID the caller sees is CMD's and stopping it by PID stops CMD.
#
# Not `ip netns exec`: that remounts /sys for the namespace, which hides
# /sys/fs/cgroup, and slurmd, Grid Engine's shepherd and the controller's
# jobs need their cgroups.  MNCL_DIR names the cluster (cluster-net.sh).
set -euo pipefail
dir=${MNCL_DIR:?set MNCL_DIR, the test cluster directory (cluster-net.sh up)}
node=${1:?usage: on-node.sh NODE CMD...}
node=${node#mncl-}   # its host name works too
shift
prefix=$(cat "$dir/prefix")
exec nsenter --net="/run/netns/$prefix$node" --uts="$dir/uts/$node" -- \
  unshare --mount --propagation private -- \
  sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$dir/hosts" "$@"
