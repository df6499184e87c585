/* mn-controller-backend-local.h: the embedded backend; jobs are processes
 * on this machine.
 *
 * Each job: its own session (setsid), run as the user (when root), in its
 * own cgroup below the controller's (v2: memory.max, memory.swap.max,
 * cpu.weight; v1: memory.limit_in_bytes, memory.memsw.limit_in_bytes,
 * cpu.shares), or under RLIMIT_AS when no cgroup can be made.  A record per
 * job in <state_dir>/jobs/<id> (owned by the controller, not the user) keeps
 * pid, process start time and deadline, so jobs are adopted again after a
 * controller restart and the walltime is enforced (SIGTERM, then SIGKILL
 * after kill_grace) from that record. */
#pragma once

#include "mn-controller-backend.h"
#include "mn-controller-config.h"

G_BEGIN_DECLS

MnBackend *mn_backend_local_new (const MnControllerConfig *config, GError **error);

/* "v2 /sys/fs/cgroup/...", "v1 memory=... cpu=...", or "rlimits". */
const gchar *mn_backend_local_cgroup_mode (MnBackend *backend);

G_END_DECLS
