/* mn-controller-local-cgroup.h: the local backend's cgroups.
 *
 * One cgroup per job below the controller's own: cgroup v2 (memory.max,
 * memory.swap.max, memory.oom.group, cpu.max, cpu.weight, cpuset.cpus) or,
 * where the host has v1, one per hierarchy (memory: limit_in_bytes and
 * memsw.limit_in_bytes; cpu: cfs_quota_us/cfs_period_us and shares; cpuset:
 * cpus and mems).  What the limits are comes from the policy's model
 * (MnPolicyAllocation); this module only writes them and reads back what the
 * kernel did (OOM kills). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MnLocalCgroups MnLocalCgroups;

/* What one job may use.  0 means no limit of that kind. */
typedef struct {
  guint64      memory_mb;       /* RAM (v2 memory.max, v1 memory.limit_in_bytes) */
  guint64      memory_swap_mb;  /* RAM + swap (v1 memory.memsw.limit_in_bytes) */
  guint64      swap_mb;         /* swap alone (v2 memory.swap.max); with memory_mb set,
                                 * 0 means no swap */
  guint64      cpu_quota_us;    /* per cpu_period_us (v2 cpu.max, v1 cfs_quota_us) */
  guint64      cpu_period_us;
  guint        cpu_weight;      /* cores it counts as against other processes (weight) */
  const gchar *cpus;            /* cpuset.cpus on this host ("0-1"); NULL: the controller's */
} MnLocalLimits;

/* @setting: "auto" (below the controller's own cgroups), "none", or a
 * directory (v2 if it has cgroup.controllers, else a v1 memory dir). */
MnLocalCgroups *mn_local_cgroups_new (const gchar *setting);
/* Before it frees: the directories still busy when their job ended are
 * tried again for up to MN_LOCAL_CGROUPS_DRAIN_US (a controller stopped
 * right after its jobs were killed left them behind for good); those still
 * there are logged by path. */
void            mn_local_cgroups_free (MnLocalCgroups *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnLocalCgroups, mn_local_cgroups_free)

#define MN_LOCAL_CGROUPS_DRAIN_US   (2 * G_USEC_PER_SEC)
/* An empty job cgroup younger than this may be one another controller on
 * the host just made for a job it is about to put in it: never swept. */
#define MN_LOCAL_CGROUPS_SWEEP_AGE  60

/* A job id as the local backend names its jobs, records and cgroups:
 * 1-64 of [A-Za-z0-9_-]. */
gboolean mn_local_cgroups_valid_id (const gchar *id);

/* "cgroup v2 DIR", "cgroup v1 memory=DIR cpu=DIR cpuset=DIR", "none". */
const gchar *mn_local_cgroups_describe (MnLocalCgroups *self);
gboolean     mn_local_cgroups_any (MnLocalCgroups *self);
/* Whether the kernel confines the job's memory (a memory cgroup), its
 * RAM + swap (v1 memsw or v2 swap.max), its cores (a cpuset). */
gboolean     mn_local_cgroups_limits_memory (MnLocalCgroups *self);
gboolean     mn_local_cgroups_limits_swap (MnLocalCgroups *self);
gboolean     mn_local_cgroups_limits_cpus (MnLocalCgroups *self);

/* Makes job @id's cgroups with @limits; returns the ';'-joined directories
 * (the job's process joins each through its cgroup.procs), "" when cgroups
 * are off.  NULL with @error when a limit the job must have could not be
 * written (the directories made are removed). */
gchar   *mn_local_cgroups_make (MnLocalCgroups *self, const gchar *id,
                                const MnLocalLimits *limits, GError **error);
/* Removes a job's directories (those still busy are tried again by
 * mn_local_cgroups_retry). */
void     mn_local_cgroups_remove (MnLocalCgroups *self, const gchar *dirs);
void     mn_local_cgroups_retry (MnLocalCgroups *self);
/* Of a job's directories (@dirs, ';'-joined), those that still exist,
 * ';'-joined (NULL: none), and in *@procs the processes in them. */
gchar   *mn_local_cgroups_left (const gchar *dirs, guint *procs);
/* OOM kills the kernel made in the job's memory cgroup (one of @dirs). */
guint64  mn_local_cgroups_oom_kills (MnLocalCgroups *self, const gchar *dirs);
/* The jobs' parent weighs as much as its jobs together: counts the jobs
 * found at start (adopted after a restart). */
void     mn_local_cgroups_weigh (MnLocalCgroups *self);

/* Bounded retry of the busy directories (mn_local_cgroups_free's): returns
 * how many are still there after @timeout_us, each logged by path. */
guint    mn_local_cgroups_drain (MnLocalCgroups *self, gint64 timeout_us);

/* What the start's sweep makes of one entry @name of a jobs' parent
 * (opened as @parent_fd) at @now (seconds since the epoch): only a direct
 * child named like a job, a directory (never through a symlink) with a
 * cgroup.procs that lists no process and no cgroup below it, last changed
 * MN_LOCAL_CGROUPS_SWEEP_AGE or more seconds ago, and not in @keep (job
 * ids, may be NULL) is removed. */
typedef enum {
  MN_LOCAL_SWEEP_REMOVE,
  MN_LOCAL_SWEEP_NOT_A_JOB,      /* not a job id */
  MN_LOCAL_SWEEP_KEPT,           /* in @keep: a live job's */
  MN_LOCAL_SWEEP_NOT_A_DIR,      /* a file, a symlink, gone */
  MN_LOCAL_SWEEP_YOUNG,          /* changed less than the age ago */
  MN_LOCAL_SWEEP_NOT_A_CGROUP,   /* no cgroup.procs (or a symlink) */
  MN_LOCAL_SWEEP_BUSY,           /* processes in it */
  MN_LOCAL_SWEEP_HAS_CHILDREN,   /* a directory below it */
} MnLocalSweepVerdict;

MnLocalSweepVerdict mn_local_cgroups_sweep_verdict (int parent_fd, const gchar *name, gint64 now,
                                                    GHashTable *keep);
/* At a controller's start: every job cgroup of the jobs' parents (v2 base,
 * v1 memory, cpu, cpuset) that the verdict says to remove is removed
 * (rmdir, never recursively): those left by controllers stopped before they
 * could, or killed.  @keep: the ids of live jobs (adopted); returns how many
 * were removed, and logs it. */
guint    mn_local_cgroups_sweep (MnLocalCgroups *self, GHashTable *keep, gint64 now);

G_END_DECLS
