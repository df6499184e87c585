/* mn-policy-model.c: what a started job gets (THE MODEL in mn-policy.h):
 * its allocation, the memory and idle verdicts, the end and wait reason
 * codes, what each backend can express, and whether a host matches the
 * policy's node.  Pure functions of their arguments. */
#define G_LOG_DOMAIN "minna-policy"

#include <string.h>

#include "mn-policy-private.h"

#define CPU_PERIOD_US G_GUINT64_CONSTANT (100000)

/* ---- Codes as text --------------------------------------------------------- */

static const gchar *const wait_reason_names[] = {
  "none", "slots", "memory", "gpus", "gpu-memory", "unavailable", NULL
};

static const gchar *const end_reason_names[] = {
  "none", "exited", "user", "walltime", "idle", "memory-cap", "node-oom",
  "failed", "admin", "cancelled", NULL
};

static gboolean
value_of (const gchar *const *names, const gchar *text, guint *out)
{
  for (guint i = 0; text != NULL && names[i] != NULL; i++)
    if (g_str_equal (text, names[i]))
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

const gchar *
mn_wait_reason_to_string (MnWaitReason reason)
{
  return mn_policy_name_of (wait_reason_names, G_N_ELEMENTS (wait_reason_names), reason, "unknown");
}

const gchar *
mn_end_reason_to_string (MnEndReason reason)
{
  return mn_policy_name_of (end_reason_names, G_N_ELEMENTS (end_reason_names), reason, "unknown");
}

gboolean
mn_wait_reason_from_string (const gchar *text, MnWaitReason *out)
{
  guint v;

  if (!value_of (wait_reason_names, text, &v))
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
mn_end_reason_from_string (const gchar *text, MnEndReason *out)
{
  guint v;

  if (!value_of (end_reason_names, text, &v))
    return FALSE;
  *out = v;
  return TRUE;
}

const gchar *
mn_gpu_mode_to_string (MnGpuMode mode)
{
  return mn_policy_gpu_mode_to_string (mode);
}

/* ---- The allocation ------------------------------------------------------------ */

guint64
mn_policy_gpu_memory_request (const MnPolicyConfig *c, const MnPolicyRequest *r)
{
  guint64 want = r->gpu_memory_mb != 0 ? r->gpu_memory_mb : c->job_max_gpu_memory_mb;

  /* A job cannot use more than its GPUs hold, so it reserves no more. */
  if (r->gpus == 0)
    return r->gpu_memory_mb;
  return MIN (want, (guint64) r->gpus * c->gpu_memory_mb);
}

void
mn_policy_allocation_compute (const MnPolicyConfig *c, const MnPolicyRequest *r,
                              guint node, guint logical, guint64 gpu_mask,
                              gint64 start, MnPolicyAllocation *a)
{
  guint64 limit = r->memory_mb != 0 ? r->memory_mb : c->job_max_memory_mb;
  guint64 gpu_request = mn_policy_gpu_memory_request (c, r);
  guint gpus = MIN (r->gpus, c->logical_gpus);

  memset (a, 0, sizeof *a);
  a->job_id = r->job_id;
  a->node = node;
  a->logical = logical;

  a->cores = r->cores != 0 ? r->cores : 1;
  a->cpu_first = logical * c->logical_cores;
  a->n_cpus = c->logical_cores;
  a->cpu_period_us = CPU_PERIOD_US;
  a->cpu_quota_us = (guint64) a->cores * CPU_PERIOD_US;

  a->memory_max_mb = limit;
  a->swap_max_mb = MIN (limit, c->job_max_swap_mb);
  a->memory_swap_max_mb = limit;

  a->gpu_mode = c->gpu_mode;
  a->gpus = r->gpus;
  if (gpu_mask == 0 && gpus > 0)
    for (guint i = 0; i < gpus; i++)
      gpu_mask |= G_GUINT64_CONSTANT (1) << (logical * c->logical_gpus + i);
  a->gpu_mask = r->gpus > 0 ? gpu_mask : 0;
  if (r->gpus > 0)
    switch (c->gpu_mode)
      {
      case MN_GPU_MODE_CAPPED:
        a->gpu_memory_mb = gpu_request;
        a->gpu_memory_reserved_mb = gpu_request;
        break;
      case MN_GPU_MODE_EXCLUSIVE:
      case MN_GPU_MODE_SHARED:
      default:
        a->gpu_memory_mb = (guint64) r->gpus * c->gpu_memory_mb;
        break;
      }

  a->start = start;
  a->walltime = r->walltime > 0 ? r->walltime : c->max_walltime;
  a->walltime_end = start + a->walltime;
}

gchar *
mn_policy_allocation_cpu_list (const MnPolicyAllocation *a)
{
  if (a->n_cpus == 0)
    return g_strdup ("");
  if (a->n_cpus == 1)
    return g_strdup_printf ("%u", a->cpu_first);
  return g_strdup_printf ("%u-%u", a->cpu_first, a->cpu_first + a->n_cpus - 1);
}

gchar *
mn_policy_allocation_gpu_list (const MnPolicyAllocation *a)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < MN_POLICY_MAX_GPUS; i++)
    if (a->gpu_mask & (G_GUINT64_CONSTANT (1) << i))
      g_string_append_printf (out, "%s%u", out->len > 0 ? "," : "", i);
  return g_string_free (out, FALSE);
}

MnEndReason
mn_policy_memory_verdict (const MnPolicyAllocation *a, guint64 footprint_mb)
{
  return footprint_mb > a->memory_swap_max_mb ? MN_END_MEMORY_CAP : MN_END_NONE;
}

guint64
mn_policy_node_swap_room (const MnPolicyConfig *c, const guint64 *use_mb,
                          const guint64 *swap_max_mb, guint n_jobs)
{
  guint64 room = 0;

  for (guint i = 0; i < n_jobs && room < c->node_swap_mb; i++)
    room += MIN (use_mb[i], swap_max_mb[i]);
  return MIN (room, c->node_swap_mb);
}

/* ---- Idle ---------------------------------------------------------------------- */

gint64
mn_policy_idle_warning (const MnPolicyConfig *c)
{
  return CLAMP (c->idle_timeout / 10, 1, 300);
}

void
mn_policy_idle_decide (const MnPolicyConfig *c, const MnIdleObservation *o,
                       gint64 now, MnIdleVerdict *v)
{
  gint64 since;

  memset (v, 0, sizeof *v);
  if (c->idle_timeout <= 0)
    {
      v->kind = MN_IDLE_OFF;
      return;
    }
  if (o->kernels_known)
    {
      v->signal = MN_IDLE_SIGNAL_KERNELS;
      since = o->kernel_busy ? now : MAX (o->start, o->kernel_last_activity);
    }
  else if (o->traffic_known)
    {
      v->signal = MN_IDLE_SIGNAL_TRAFFIC;
      since = MAX (o->start, o->traffic_last_activity);
    }
  else
    {
      v->kind = MN_IDLE_UNKNOWN;
      return;
    }
  /* A clock step backwards must not make a session look idle for longer. */
  since = MIN (since, now);
  v->idle_since = since;
  v->idle_for = now - since;
  v->cut_at = since + c->idle_timeout;
  if (v->idle_for >= c->idle_timeout)
    v->kind = MN_IDLE_CUT;
  else if (v->idle_for >= c->idle_timeout - mn_policy_idle_warning (c))
    v->kind = MN_IDLE_WARN;
  else
    v->kind = MN_IDLE_ACTIVE;
}

const gchar *
mn_idle_verdict_to_string (MnIdleVerdictKind kind)
{
  static const gchar *const names[] = { "off", "active", "warn", "cut", "unknown", NULL };

  return mn_policy_name_of (names, G_N_ELEMENTS (names), kind, "unknown");
}

/* ---- Backends ------------------------------------------------------------------ */

#define EX  MN_SUPPORT_EXACT
#define AP  MN_SUPPORT_APPROXIMATE
#define CT  MN_SUPPORT_CONTROLLER
#define NO  MN_SUPPORT_NONE

/* [aspect][backend]: local cgroup v2, local cgroup v1, Slurm, Grid Engine. */
static const MnBackendSupport support_table[MN_ASPECT_N][MN_BACKEND_N] = {
  [MN_ASPECT_MEMORY_LIMIT] = {
    { AP, "memory.max = L; v2 has no RAM + swap limit, so the kernel kills at L + S "
          "(exact when S = 0)" },
    { EX, "memory.limit_in_bytes = L, memory.memsw.limit_in_bytes = L: killed past L" },
    { EX, "--mem=L with ConstrainRAMSpace=yes, ConstrainSwapSpace=yes, "
          "AllowedSwapSpace=0 (cgroup v1: RAM + swap = L)" },
    { AP, "-l h_vmem=L: a limit on address space, not on use (allocations fail "
          "before the footprint reaches L)" },
  },
  [MN_ASPECT_SWAP] = {
    { EX, "memory.swap.max = S" },
    { AP, "memsw bounds RAM + swap at L; swap alone is not bounded below L "
          "(exact for S = L, the default)" },
    { AP, "AllowedSwapSpace=0: swap only under node pressure within --mem "
          "(cgroup v1); none at all under cgroup v2" },
    { NO, "Grid Engine does not limit swap" },
  },
  [MN_ASPECT_NODE_OVERCOMMIT] = {
    { CT, "the policy commits L per job within the node's RAM + swap" },
    { CT, "the policy commits L per job within the node's RAM + swap" },
    { CT, "Slurm sums --mem within RealMemory (RAM only); the controller's policy "
          "admits within RAM + swap" },
    { AP, "h_vmem consumable with complex_values h_vmem = RAM + swap per host "
          "(see the export)" },
  },
  [MN_ASPECT_PLACEMENT] = {
    { EX, "the policy's (node, logical node): the local host is node 0" },
    { EX, "the policy's (node, logical node): the local host is node 0" },
    { EX, "--nodelist = the policy's node, --gres=lnode:lL:1 (the logical node's GRES, "
          "bound to its socket's cores) with --gres-flags=enforce-binding" },
    { AP, "-q QUEUE@HOST: the policy's node (the host group's i-th host); no logical "
          "nodes (slots per host)" },
  },
  [MN_ASPECT_CPUSET] = {
    { EX, "cpuset.cpus = the logical node's cores" },
    { EX, "cpuset/cpuset.cpus = the logical node's cores" },
    { EX, "ConstrainCores=yes binds the job to its socket's cores: the policy's "
          "logical node (the lnode GRES binding)" },
    { NO, "no core binding in the exported queue" },
  },
  [MN_ASPECT_CPU_QUOTA] = {
    { EX, "cpu.max = cores x 100000 100000" },
    { EX, "cpu.cfs_quota_us = cores x 100000, cpu.cfs_period_us = 100000" },
    { AP, "--cpus-per-task=cores: cores counted, not time-sliced (OverSubscribe "
          "shares them)" },
    { NO, "one slot per job; cores are not limited" },
  },
  [MN_ASPECT_GPU_DEVICES] = {
    { EX, "CUDA_VISIBLE_DEVICES = the allocation's GPUs" },
    { EX, "CUDA_VISIBLE_DEVICES = the allocation's GPUs" },
    { AP, "--gres=gpu:g (exclusive) or shard:n (shared, capped), bound to the logical "
          "node's cores: Slurm picks among its GPUs (exact with one GPU per logical node) "
          "and sets CUDA_VISIBLE_DEVICES" },
    { AP, "-l gpu=g or gpu_shard=n counts GPUs; the device is not chosen by the "
          "queue" },
  },
  [MN_ASPECT_GPU_MEMORY] = {
    { CT, "admission reserves it (capped); no device-side limit" },
    { CT, "admission reserves it (capped); no device-side limit" },
    { AP, "capped: shards of [node] gpu_memory / max_jobs each, rounded up" },
    { AP, "capped: gpu_shard consumables, rounded up like Slurm's shards" },
  },
  [MN_ASPECT_WALLTIME] = {
    { EX, "the backend ends the job at walltime_end" },
    { EX, "the backend ends the job at walltime_end" },
    { EX, "--time from the job's start; MaxTime" },
    { EX, "-l h_rt from the job's start; queue h_rt" },
  },
  [MN_ASPECT_IDLE] = {
    { CT, "the controller asks Jupyter's /api/kernels (relay traffic second)" },
    { CT, "the controller asks Jupyter's /api/kernels (relay traffic second)" },
    { CT, "the controller asks Jupyter's /api/kernels (relay traffic second)" },
    { CT, "the controller asks Jupyter's /api/kernels (relay traffic second)" },
  },
  [MN_ASPECT_USER_LIMIT] = {
    { CT, "the policy: running + waiting" },
    { CT, "the policy: running + waiting" },
    { EX, "QOS MaxJobsPerUser + MaxSubmitJobsPerUser" },
    { AP, "resource quota counts running jobs only" },
  },
  [MN_ASPECT_GIVE_UP] = {
    { EX, "the policy refuses at once" },
    { EX, "the policy refuses at once" },
    { AP, "the backend cancels a job that does not start within its wait" },
    { EX, "qsub -now y" },
  },
  [MN_ASPECT_NODE_AVAILABILITY] = {
    { NO, "one host, always taken as available" },
    { NO, "one host, always taken as available" },
    { CT, "the controller asks sinfo for the partition's node states once per poll "
          "round (at most every 5 s); drained, down, failing, maintenance or not "
          "responding nodes get no new job, waiting jobs start when they return" },
    { CT, "the controller asks qstat for the queue's instances once per poll round "
          "(at most every 5 s); a host whose instance is disabled, unknown, in error, "
          "suspended, alarmed, orphaned or ambiguous gets no new job, waiting jobs "
          "start when it returns" },
  },
};

const MnBackendSupport *
mn_policy_backend_support (MnPolicyBackend backend, MnPolicyAspect aspect)
{
  g_return_val_if_fail ((guint) backend < MN_BACKEND_N, NULL);
  g_return_val_if_fail ((guint) aspect < MN_ASPECT_N, NULL);
  return &support_table[aspect][backend];
}

const gchar *
mn_policy_backend_to_string (MnPolicyBackend backend)
{
  static const gchar *const names[] = { "local-cgroup-v2", "local-cgroup-v1", "slurm",
                                        "sge", NULL };

  return mn_policy_name_of (names, G_N_ELEMENTS (names), backend, "unknown");
}

const gchar *
mn_policy_aspect_to_string (MnPolicyAspect aspect)
{
  static const gchar *const names[] = {
    "memory-limit", "swap", "node-overcommit", "placement", "cpuset", "cpu-quota",
    "gpu-devices", "gpu-memory", "walltime", "idle", "user-limit", "give-up",
    "node-availability", NULL
  };

  return mn_policy_name_of (names, G_N_ELEMENTS (names), aspect, "unknown");
}

const gchar *
mn_support_level_to_string (MnSupportLevel level)
{
  static const gchar *const names[] = { "exact", "approximate", "controller", "none", NULL };

  return mn_policy_name_of (names, G_N_ELEMENTS (names), level, "unknown");
}

gchar *
mn_policy_describe_model (void)
{
  GString *out = g_string_new (NULL);

  g_string_append (out,
    "What a started job gets (L = its memory limit, S = its swap allowance):\n"
    "  memory    L = its request, else [job] max_memory; RAM + swap together may not\n"
    "            pass L: past it the job is killed by its cap (end reason memory-cap).\n"
    "            S = min (L, [job] max_swap) of it may be in swap.\n"
    "  node      admission commits L within [node] memory + swap; the jobs' use above\n"
    "            RAM is in swap (at most [node] swap, at most the sum of min (use, S));\n"
    "            past that the node's OOM killer ends the largest (node-oom).\n"
    "  cpu       logical node l owns cores l x [logical_node] cores and up (its\n"
    "            cpuset); a job may use its requested cores' worth (cpu.max).\n"
    "  gpu       logical node l owns GPUs l x [logical_node] gpus and up; shared: the\n"
    "            first g, memory first come first served; capped: the same, each job\n"
    "            reserves its GPU memory (default [job] max_gpu_memory); exclusive: g\n"
    "            free GPUs whole.  More GPU memory than given: an allocation failure.\n"
    "  walltime  from the job's start: its request, else [queue] max_walltime.\n"
    "  idle      no kernel busy and no kernel activity (Jupyter /api/kernels\n"
    "            execution_state, last_activity) for [queue] idle_timeout; relay\n"
    "            traffic counts only when the kernels cannot be asked.\n"
    "\nNODE AVAILABILITY: a node the backend reports unavailable (Slurm: drained,\n"
    "down, failing, maintenance, not responding; Grid Engine: its queue instance\n"
    "disabled, unknown, in error, suspended...) gets no new job; its running jobs\n"
    "are left alone (the scheduler says what becomes of them); requests that only it\n"
    "could take wait (wait reason unavailable) and start, in FIFO order, when it is\n"
    "back; start estimates do not count on it.\n"
    "\nOVER-SUBSCRIPTION ([oversubscribe] design = oversubscribe, or hybrid when\n"
    "interactive.q is full): a job starts on a batch node that holds fewer than\n"
    "max_extra_jobs_per_node interactive jobs and whose headroom, [node] memory - the\n"
    "batch jobs' memory - the L of the interactive jobs there, is at least its L\n"
    "(the fewest interactive jobs, then the most headroom, then the lowest node);\n"
    "none: it waits or gives up per if_busy.  While active it takes cpu_share of the\n"
    "node's CPU time: with k active interactive jobs the batch jobs there run at\n"
    "r = 1 - k x cpu_share (over several nodes, the slowest); a batch job with W s\n"
    "of work left ends ceil (W / r) s later, and its rate returns to 1 when they\n"
    "leave; its time limit moves with it.\n"
    "\nWhat each backend expresses (exact, approximate, controller = minna does it,\n"
    "none = nothing enforces it):\n");
  for (guint a = 0; a < MN_ASPECT_N; a++)
    {
      g_string_append_printf (out, "  %s\n", mn_policy_aspect_to_string (a));
      for (guint b = 0; b < MN_BACKEND_N; b++)
        {
          const MnBackendSupport *s = &support_table[a][b];

          g_string_append_printf (out, "    %-16s %-12s %s\n", mn_policy_backend_to_string (b),
                                  mn_support_level_to_string (s->level), s->how);
        }
    }
  return g_string_free (out, FALSE);
}

/* ---- Host fit ------------------------------------------------------------------ */

static void
problem (GPtrArray *problems, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
problem (GPtrArray *problems, const gchar *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_ptr_array_add (problems, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

gboolean
mn_policy_host_fit (const MnPolicyConfig *c, const MnPolicyHost *h, GPtrArray *problems)
{
  guint before = problems->len;
  guint need_cores = c->logical_per_node * c->logical_cores;
  guint need_gpus = c->logical_per_node * c->logical_gpus;

  if (h->nodes > 0 && c->nodes > h->nodes)
    problem (problems, "[queue] nodes = %u, but the backend runs jobs on %u host%s",
             c->nodes, h->nodes, h->nodes == 1 ? "" : "s");
  if (h->cores > 0 && need_cores > h->cores)
    problem (problems, "[logical_node] per_node x cores = %u cores, but this host "
             "has %u ([node] cores = %u)", need_cores, h->cores, c->node_cores);
  if (h->cores > 0 && c->node_cores != h->cores && need_cores <= h->cores)
    problem (problems, "[node] cores = %u, but this host has %u", c->node_cores, h->cores);
  if (h->memory_mb > 0 && c->node_memory_mb > h->memory_mb)
    {
      g_autofree gchar *want = mn_policy_format_size (c->node_memory_mb);
      g_autofree gchar *have = mn_policy_format_size (h->memory_mb);

      problem (problems, "[node] memory = %s, but this host has %s of RAM", want, have);
    }
  if (c->node_swap_mb > h->swap_mb)
    {
      g_autofree gchar *want = mn_policy_format_size (c->node_swap_mb);
      g_autofree gchar *have = mn_policy_format_size (h->swap_mb);

      problem (problems, "[node] swap = %s, but this host has %s of swap", want, have);
    }
  if (need_gpus > h->gpus)
    problem (problems, "[logical_node] per_node x gpus = %u GPUs, but this host has "
             "%u ([node] gpus = %u)", need_gpus, h->gpus, c->node_gpus);
  return problems->len == before;
}

/* ---- Extend ------------------------------------------------------------------ */

gint64
mn_policy_extend_limit (const MnPolicyConfig *c)
{
  return c->job_extend_max > 0 ? MIN (c->job_extend_max, c->max_walltime) : c->max_walltime;
}

gboolean
mn_policy_extend (const MnPolicyConfig *c, gint64 walltime, gint64 *new_walltime, gchar **why)
{
  gint64 limit = mn_policy_extend_limit (c);

  if (c->job_extend_step <= 0)
    {
      *why = g_strdup ("this service does not extend sessions ([job] extend_step is 0)");
      return FALSE;
    }
  if (walltime >= limit)
    {
      g_autofree gchar *l = mn_policy_format_duration (limit);
      *why = g_strdup_printf ("the session already has the longest run time allowed (%s)", l);
      return FALSE;
    }
  /* the last step may be shorter: up to the limit, not past it */
  *new_walltime = MIN (walltime + c->job_extend_step, limit);
  return TRUE;
}
