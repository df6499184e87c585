/* mn-controller-backend-local.h: the embedded backend; jobs are processes
 * on this machine, which is every node of the policy.
 *
 * Each job: its own session (setsid), run as the user (when root), in its
 * own cgroups below the controller's with the limits of the policy's model
 * (MnPolicyAllocation; mn-controller-local-cgroup.h): memory L for RAM and
 * for RAM + swap (v2: memory.max = L, memory.swap.max = S), the logical
 * node's cores as its cpuset, its cores as a CFS quota, its GPUs as
 * CUDA_VISIBLE_DEVICES; past L the whole job is killed (MN_END_MEMORY_CAP).
 * Without cgroups: RLIMIT_AS and CPU affinity.  A record per
 * job in <state_dir>/jobs/<id> (owned by the controller, not the user) keeps
 * pid, process start time and deadline, so jobs are adopted again after a
 * controller restart and the walltime is enforced (SIGTERM, then SIGKILL
 * after kill_grace) from that record. */
#pragma once

#include "mn-controller-backend.h"
#include "mn-controller-config.h"

G_BEGIN_DECLS

MnBackend *mn_backend_local_new (const MnControllerConfig *config, GError **error);
/* Raises the process's open-file soft limit to its hard limit (at most
 * 65536); the local backend's jobs are started with the soft limit as it
 * was before (they get what the site set, not the controller's). */
void       mn_backend_local_raise_fd_limit (void);

/* "cgroup v2 /sys/fs/cgroup/...", "cgroup v1 memory=... cpu=... cpuset=...",
 * or "no cgroups ...". */
const gchar *mn_backend_local_cgroup_mode (MnBackend *backend);
/* What this host has for jobs (CPUs, RAM, swap, GPUs). */
void         mn_backend_local_host (MnBackend *backend, MnPolicyHost *host);

G_END_DECLS
