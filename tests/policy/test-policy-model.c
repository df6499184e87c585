/* test-policy-model.c: THE MODEL of mn-policy.h, table by table: the
 * allocation a START carries (cpuset, cpu.max, memory, swap, GPUs per mode,
 * walltime), GPU ids in exclusive mode across starts and releases, wait
 * reasons, the memory verdict and node swap room, the idle decision, reason
 * codes as text, the backend table and the host fit check. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <string.h>

#include "mn-policy-test-util.h"

#define G (G_GUINT64_CONSTANT (1024))

/* ---- Allocation ----------------------------------------------------------- */

typedef struct {
  const gchar *path;
  const gchar *config;
  guint        cores;
  guint64      memory_mb;
  guint        gpus;
  guint64      gpu_memory_mb;
  gint64       walltime;
  guint        node, logical;
  /* expected */
  const gchar *cpus;
  guint64      quota_us;
  guint64      memory_max, swap_max;
  const gchar *gpu_list;
  guint64      gpu_memory, gpu_reserved;
  gint64       walltime_end;       /* start is 1000 */
} AllocCase;

static const AllocCase alloc_cases[] = {
  { "/policy/model/allocation/defaults", NULL, 0, 0, 0, 0, 0, 0, 0,
    "0-6", 100000, 60 * G, 60 * G, "", 0, 0, 1000 + 24 * 3600 },
  { "/policy/model/allocation/logical-2-cores", NULL, 3, 8 * G, 0, 0, 3600, 1, 2,
    "14-20", 300000, 8 * G, 8 * G, "", 0, 0, 1000 + 3600 },
  { "/policy/model/allocation/swap-allowance-below-limit", "job.max_swap=4G", 1, 8 * G, 0, 0, 60, 0, 0,
    "0-6", 100000, 8 * G, 4 * G, "", 0, 0, 1060 },
  { "/policy/model/allocation/no-swap", "job.max_swap=0", 1, 8 * G, 0, 0, 60, 0, 0,
    "0-6", 100000, 8 * G, 0, "", 0, 0, 1060 },
  { "/policy/model/allocation/shared-gpu", NULL, 1, 1 * G, 1, 0, 60, 0, 3,
    "21-27", 100000, 1 * G, 1 * G, "3", 16 * G, 0, 1060 },
  { "/policy/model/allocation/capped-gpu-default", "job.gpu_mode=capped", 1, 1 * G, 1, 0, 60, 2, 1,
    "7-13", 100000, 1 * G, 1 * G, "1", 16 * G, 16 * G, 1060 },
  { "/policy/model/allocation/capped-gpu-asked", "job.gpu_mode=capped", 1, 1 * G, 1, 4 * G, 60, 0, 2,
    "14-20", 100000, 1 * G, 1 * G, "2", 4 * G, 4 * G, 1060 },
  { "/policy/model/allocation/exclusive-two-gpus",
    "logical_node.per_node=2 logical_node.cores=14 logical_node.gpus=2 logical_node.memory=128G "
    "job.max_gpus=2 job.max_gpu_memory=32G job.gpu_mode=exclusive", 2, 1 * G, 2, 0, 60, 0, 1,
    "14-27", 200000, 1 * G, 1 * G, "2,3", 32 * G, 0, 1060 },
  { "/policy/model/allocation/one-core-logical",
    "node.cores=2 logical_node.per_node=2 logical_node.cores=1 job.max_cores=1", 1, 1 * G, 0, 0, 60, 0, 1,
    "1", 100000, 1 * G, 1 * G, "", 0, 0, 1060 },
};

static void
test_allocation (gconstpointer data)
{
  const AllocCase *ac = data;
  g_autoptr (MnPolicyConfig) c = mn_test_config (ac->config);
  MnPolicyRequest r = { .job_id = 9, .user = "u", .cores = ac->cores,
                        .memory_mb = ac->memory_mb, .gpus = ac->gpus,
                        .gpu_memory_mb = ac->gpu_memory_mb, .walltime = ac->walltime };
  MnPolicyAllocation a;
  g_autofree gchar *cpus = NULL;
  g_autofree gchar *gpus = NULL;

  mn_policy_allocation_compute (c, &r, ac->node, ac->logical, 0, 1000, &a);
  cpus = mn_policy_allocation_cpu_list (&a);
  gpus = mn_policy_allocation_gpu_list (&a);
  g_assert_cmpuint (a.job_id, ==, 9);
  g_assert_cmpuint (a.node, ==, ac->node);
  g_assert_cmpuint (a.logical, ==, ac->logical);
  g_assert_cmpstr (cpus, ==, ac->cpus);
  g_assert_cmpuint (a.cpu_quota_us, ==, ac->quota_us);
  g_assert_cmpuint (a.cpu_period_us, ==, 100000);
  g_assert_cmpuint (a.memory_max_mb, ==, ac->memory_max);
  g_assert_cmpuint (a.memory_swap_max_mb, ==, ac->memory_max);
  g_assert_cmpuint (a.swap_max_mb, ==, ac->swap_max);
  g_assert_cmpstr (gpus, ==, ac->gpu_list);
  g_assert_cmpuint (a.gpu_memory_mb, ==, ac->gpu_memory);
  g_assert_cmpuint (a.gpu_memory_reserved_mb, ==, ac->gpu_reserved);
  g_assert_cmpint (a.start, ==, 1000);
  g_assert_cmpint (a.walltime_end, ==, ac->walltime_end);
  g_assert_cmpint (a.gpu_mode, ==, c->gpu_mode);
}

/* ---- The state hands out allocations -------------------------------------- */

static void
request_ok (MnPolicyState *s, guint64 id, const gchar *user, guint gpus, gint64 now,
            MnDecision *d)
{
  MnPolicyRequest r = { .job_id = id, .user = user, .cores = 1, .memory_mb = 1 * G,
                        .gpus = gpus, .walltime = 600 };

  mn_policy_state_request (s, &r, now, d);
}

static void
test_state_allocation (void)
{
  g_autoptr (MnPolicyConfig) c = mn_test_config ("queue.nodes=2");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (c);
  MnDecision d;
  MnPolicyAllocation a;

  request_ok (s, 1, "a", 1, 50, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_START);
  g_assert_cmpuint (d.allocation.node, ==, d.node);
  g_assert_cmpuint (d.allocation.logical, ==, d.logical);
  g_assert_cmpint (d.allocation.walltime_end, ==, 650);
  g_assert_true (mn_policy_state_allocation (s, 1, &a));
  g_assert_cmpmem (&a, sizeof a, &d.allocation, sizeof d.allocation);
  mn_decision_clear (&d);
  g_assert_false (mn_policy_state_allocation (s, 2, &a));
}

/* Exclusive mode, one logical node of 2 GPUs: ids are handed out lowest
 * free first, given back on release, and a waiting job started by a release
 * gets the freed GPU in its START. */
static void
test_exclusive_gpu_ids (void)
{
  g_autoptr (MnPolicyConfig) c =
    mn_test_config ("queue.nodes=1 queue.max_jobs_per_user=5 logical_node.per_node=2 "
                    "logical_node.cores=14 logical_node.gpus=2 logical_node.memory=128G "
                    "job.gpu_mode=exclusive job.max_gpu_memory=16G");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (c);
  g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  static const struct { guint64 id; guint node, logical; const gchar *gpus; } want[] = {
    { 1, 0, 0, "0" }, { 2, 0, 1, "2" }, { 3, 0, 0, "1" }, { 4, 0, 1, "3" },
  };
  MnDecision d;

  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autofree gchar *list = NULL;

      request_ok (s, want[i].id, "a", 1, 0, &d);
      g_assert_cmpint (d.kind, ==, MN_DECISION_START);
      list = mn_policy_allocation_gpu_list (&d.allocation);
      g_assert_cmpuint (d.logical, ==, want[i].logical);
      g_assert_cmpstr (list, ==, want[i].gpus);
      mn_decision_clear (&d);
    }
  /* All four GPUs held: a GPU job waits, for GPUs; a CPU job still starts. */
  request_ok (s, 5, "a", 1, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_WAIT);
  g_assert_cmpint (d.wait_reason, ==, MN_WAIT_GPUS);
  mn_decision_clear (&d);
  request_ok (s, 6, "b", 0, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_START);
  g_assert_cmpuint (d.allocation.gpu_mask, ==, 0);
  mn_decision_clear (&d);
  /* Job 3 (GPU 1) ends: job 5 starts there with GPU 1. */
  g_assert_true (mn_policy_state_release (s, 3, 10, started));
  g_assert_cmpuint (started->len, ==, 1);
  {
    MnDecision *sd = &g_array_index (started, MnDecision, 0);
    g_autofree gchar *list = mn_policy_allocation_gpu_list (&sd->allocation);

    g_assert_cmpuint (sd->job_id, ==, 5);
    g_assert_cmpstr (list, ==, "1");
    g_assert_cmpint (sd->allocation.start, ==, 10);
    g_assert_cmpint (sd->allocation.walltime_end, ==, 610);
  }
}

static void
test_adopt_allocation (void)
{
  g_autoptr (MnPolicyConfig) c =
    mn_test_config ("queue.nodes=1 queue.max_jobs_per_user=5 logical_node.per_node=2 "
                    "logical_node.cores=14 logical_node.gpus=2 logical_node.memory=128G "
                    "job.gpu_mode=exclusive");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (c);
  g_autoptr (GError) error = NULL;
  MnPolicyRequest r = { .job_id = 1, .user = "a", .cores = 1, .memory_mb = G, .gpus = 1,
                        .walltime = 600 };
  MnPolicyAllocation a = { .node = 0, .logical = 0, .gpu_mask = 0x2 };
  MnPolicyAllocation got;
  MnDecision d;

  g_assert_true (mn_policy_state_adopt_allocation (s, &r, &a, 100, &error));
  g_assert_no_error (error);
  g_assert_true (mn_policy_state_allocation (s, 1, &got));
  g_assert_cmpuint (got.gpu_mask, ==, 0x2);
  g_assert_cmpint (got.walltime_end, ==, 700);
  /* GPU 1 is held: the next job on logical 0 gets GPU 0. */
  request_ok (s, 2, "a", 1, 0, &d);
  g_assert_cmpuint (d.logical, ==, 1);
  mn_decision_clear (&d);
  request_ok (s, 3, "a", 1, 0, &d);
  g_assert_cmpuint (d.logical, ==, 0);
  g_assert_cmpuint (d.allocation.gpu_mask, ==, 0x1);
  mn_decision_clear (&d);
  /* Refused: a GPU another job holds, one outside the logical node, a count
   * that does not match. */
  r.job_id = 4;
  a.gpu_mask = 0x1;
  g_assert_false (mn_policy_state_adopt_allocation (s, &r, &a, 0, &error));
  g_assert_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "another job holds"));
  g_clear_error (&error);
  a.gpu_mask = 0x4;
  g_assert_false (mn_policy_state_adopt_allocation (s, &r, &a, 0, &error));
  g_assert_nonnull (strstr (error->message, "outside that logical node"));
  g_clear_error (&error);
  a.logical = 1;
  a.gpu_mask = 0x8;
  r.gpus = 2;
  g_assert_false (mn_policy_state_adopt_allocation (s, &r, &a, 0, &error));
  g_assert_nonnull (strstr (error->message, "not as many GPUs"));
  g_clear_error (&error);
}

/* ---- Wait reasons ---------------------------------------------------------- */

typedef struct {
  const gchar *path;
  const gchar *config;
  guint        n_before;          /* jobs of 1 core, @before_memory, @gpus each */
  guint64      before_memory;
  guint        gpus;
  guint64      memory_mb;         /* the request that waits */
  MnWaitReason want;
} WaitCase;

static const WaitCase wait_cases[] = {
  { "/policy/model/wait/slots", MN_TEST_TINY, 1, G, 0, G, MN_WAIT_SLOTS },
  { "/policy/model/wait/memory",
    "queue.nodes=1 logical_node.per_node=1 logical_node.memory=64G node.memory=64G node.swap=0",
    1, 60 * G, 0, 8 * G, MN_WAIT_MEMORY },
  { "/policy/model/wait/gpus",
    "queue.nodes=1 logical_node.per_node=1 job.gpu_mode=exclusive", 1, G, 1, G, MN_WAIT_GPUS },
  { "/policy/model/wait/gpu-memory",
    "queue.nodes=1 logical_node.per_node=1 job.gpu_mode=capped", 1, G, 1, G, MN_WAIT_GPU_MEMORY },
};

static void
test_wait_reason (gconstpointer data)
{
  const WaitCase *wc = data;
  g_autofree gchar *cfg = g_strdup_printf ("%s queue.max_jobs_per_user=10", wc->config);
  g_autoptr (MnPolicyConfig) c = mn_test_config (cfg);
  g_autoptr (MnPolicyState) s = mn_policy_state_new (c);
  MnPolicyRequest r = { .user = "a", .cores = 1, .walltime = 60 };
  MnDecision d;

  for (guint i = 0; i < wc->n_before; i++)
    {
      r.job_id = i + 1;
      r.memory_mb = wc->before_memory;
      r.gpus = wc->gpus;
      mn_policy_state_request (s, &r, 0, &d);
      g_assert_cmpint (d.kind, ==, MN_DECISION_START);
      mn_decision_clear (&d);
    }
  r.job_id = 100;
  r.memory_mb = wc->memory_mb;
  mn_policy_state_request (s, &r, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_WAIT);
  g_assert_cmpint (d.wait_reason, ==, wc->want);
  mn_decision_clear (&d);
  /* Give-up gets the same reason with its refusal. */
  r.job_id = 101;
  r.user = "b";
  r.if_busy = MN_IF_BUSY_GIVE_UP;
  mn_policy_state_request (s, &r, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_REJECT);
  g_assert_cmpint (d.reason, ==, MN_REJECT_BUSY_GIVE_UP);
  g_assert_cmpint (d.wait_reason, ==, wc->want);
  mn_decision_clear (&d);
}

/* ---- Memory verdict and node swap room --------------------------------------- */

static void
test_memory (void)
{
  g_autoptr (MnPolicyConfig) c = mn_test_config ("node.swap=100G");
  MnPolicyRequest r = { .job_id = 1, .memory_mb = 10 * G };
  MnPolicyAllocation a;
  static const struct { guint64 use; MnEndReason want; } verdicts[] = {
    { 0, MN_END_NONE }, { 10 * G, MN_END_NONE }, { 10 * G + 1, MN_END_MEMORY_CAP },
  };
  guint64 use[3] = { 50 * G, 70 * G, 5 * G };
  guint64 swap[3] = { 60 * G, 10 * G, 0 };

  mn_policy_allocation_compute (c, &r, 0, 0, 0, 0, &a);
  for (guint i = 0; i < G_N_ELEMENTS (verdicts); i++)
    g_assert_cmpint (mn_policy_memory_verdict (&a, verdicts[i].use), ==, verdicts[i].want);
  /* min (50, 60) + min (70, 10) + min (5, 0) = 60G, within the node's 100G */
  g_assert_cmpuint (mn_policy_node_swap_room (c, use, swap, 3), ==, 60 * G);
  swap[2] = 100 * G;
  g_assert_cmpuint (mn_policy_node_swap_room (c, use, swap, 3), ==, 65 * G);
  use[0] = 200 * G;
  swap[0] = 200 * G;
  g_assert_cmpuint (mn_policy_node_swap_room (c, use, swap, 3), ==, 100 * G);
  g_assert_cmpuint (mn_policy_node_swap_room (c, use, swap, 0), ==, 0);
}

/* ---- Idle ---------------------------------------------------------------- */

typedef struct {
  const gchar      *path;
  gint64            timeout;
  MnIdleObservation o;
  gint64            now;
  MnIdleVerdictKind kind;
  MnIdleSignal      signal;
  gint64            idle_since;
} IdleCase;

/* start 1000; timeout 600 (warning 60 s before) unless said */
static const IdleCase idle_cases[] = {
  { "/policy/model/idle/off", 0, { .start = 1000, .kernels_known = TRUE }, 5000,
    MN_IDLE_OFF, MN_IDLE_SIGNAL_NONE, 0 },
  { "/policy/model/idle/unknown", 600, { .start = 1000 }, 5000,
    MN_IDLE_UNKNOWN, MN_IDLE_SIGNAL_NONE, 0 },
  { "/policy/model/idle/busy-kernel-is-active", 600,
    { .start = 1000, .kernels_known = TRUE, .n_kernels = 1, .kernel_busy = TRUE,
      .kernel_last_activity = 1001, .traffic_known = TRUE, .traffic_last_activity = 1000 },
    9000, MN_IDLE_ACTIVE, MN_IDLE_SIGNAL_KERNELS, 9000 },
  { "/policy/model/idle/traffic-does-not-keep-alive", 600,
    { .start = 1000, .kernels_known = TRUE, .n_kernels = 1, .kernel_last_activity = 1100,
      .traffic_known = TRUE, .traffic_last_activity = 1999 },
    2000, MN_IDLE_CUT, MN_IDLE_SIGNAL_KERNELS, 1100 },
  { "/policy/model/idle/kernel-activity", 600,
    { .start = 1000, .kernels_known = TRUE, .n_kernels = 2, .kernel_last_activity = 1500 },
    2000, MN_IDLE_ACTIVE, MN_IDLE_SIGNAL_KERNELS, 1500 },
  { "/policy/model/idle/warn", 600,
    { .start = 1000, .kernels_known = TRUE, .n_kernels = 1, .kernel_last_activity = 1500 },
    2040, MN_IDLE_WARN, MN_IDLE_SIGNAL_KERNELS, 1500 },
  { "/policy/model/idle/cut-at-timeout", 600,
    { .start = 1000, .kernels_known = TRUE, .n_kernels = 1, .kernel_last_activity = 1500 },
    2100, MN_IDLE_CUT, MN_IDLE_SIGNAL_KERNELS, 1500 },
  { "/policy/model/idle/no-kernels-since-start", 600,
    { .start = 1000, .kernels_known = TRUE }, 1599,
    MN_IDLE_WARN, MN_IDLE_SIGNAL_KERNELS, 1000 },
  { "/policy/model/idle/activity-before-start", 600,
    { .start = 1000, .kernels_known = TRUE, .n_kernels = 1, .kernel_last_activity = 10 },
    1100, MN_IDLE_ACTIVE, MN_IDLE_SIGNAL_KERNELS, 1000 },
  { "/policy/model/idle/traffic-when-no-kernels-known", 600,
    { .start = 1000, .traffic_known = TRUE, .traffic_last_activity = 1200 }, 1800,
    MN_IDLE_CUT, MN_IDLE_SIGNAL_TRAFFIC, 1200 },
  { "/policy/model/idle/clock-backwards", 600,
    { .start = 1000, .kernels_known = TRUE, .n_kernels = 1, .kernel_last_activity = 3000 },
    2000, MN_IDLE_ACTIVE, MN_IDLE_SIGNAL_KERNELS, 2000 },
};

static void
test_idle (gconstpointer data)
{
  const IdleCase *ic = data;
  g_autofree gchar *cfg = g_strdup_printf ("queue.idle_timeout=%" G_GINT64_FORMAT, ic->timeout);
  g_autoptr (MnPolicyConfig) c = mn_test_config (cfg);
  MnIdleVerdict v;

  mn_policy_idle_decide (c, &ic->o, ic->now, &v);
  g_assert_cmpstr (mn_idle_verdict_to_string (v.kind), ==, mn_idle_verdict_to_string (ic->kind));
  g_assert_cmpint (v.signal, ==, ic->signal);
  if (ic->kind == MN_IDLE_OFF || ic->kind == MN_IDLE_UNKNOWN)
    return;
  g_assert_cmpint (v.idle_since, ==, ic->idle_since);
  g_assert_cmpint (v.idle_for, ==, ic->now - ic->idle_since);
  g_assert_cmpint (v.cut_at, ==, ic->idle_since + ic->timeout);
}

/* ---- Codes as text ----------------------------------------------------------- */

static void
test_codes (void)
{
  for (guint r = MN_END_NONE; r <= MN_END_CANCELLED; r++)
    {
      MnEndReason back = MN_END_NONE;

      g_assert_cmpstr (mn_end_reason_to_string (r), !=, "unknown");
      g_assert_true (mn_end_reason_from_string (mn_end_reason_to_string (r), &back));
      g_assert_cmpint (back, ==, r);
    }
  for (guint r = MN_WAIT_NONE; r <= MN_WAIT_UNAVAILABLE; r++)
    {
      MnWaitReason back = MN_WAIT_NONE;

      g_assert_true (mn_wait_reason_from_string (mn_wait_reason_to_string (r), &back));
      g_assert_cmpint (back, ==, r);
    }
  for (guint r = MN_REJECT_NONE; r <= MN_REJECT_MALFORMED; r++)
    {
      MnRejectReason back = MN_REJECT_NONE;

      g_assert_true (mn_reject_reason_from_string (mn_reject_reason_to_string (r), &back));
      g_assert_cmpint (back, ==, r);
    }
  g_assert_cmpstr (mn_end_reason_to_string (MN_END_MEMORY_CAP), ==, "memory-cap");
  g_assert_cmpstr (mn_end_reason_to_string (MN_END_NODE_OOM), ==, "node-oom");
  g_assert_cmpstr (mn_end_reason_to_string (999), ==, "unknown");
  g_assert_false (mn_end_reason_from_string ("nonsense", &(MnEndReason) { 0 }));
  g_assert_false (mn_end_reason_from_string (NULL, &(MnEndReason) { 0 }));
  g_assert_cmpstr (mn_gpu_mode_to_string (MN_GPU_MODE_CAPPED), ==, "capped");
}

/* ---- Backend table ----------------------------------------------------------- */

static void
test_backend_table (void)
{
  g_autofree gchar *model = mn_policy_describe_model ();
  g_autofree gchar *keys = mn_policy_config_describe_keys ();

  for (guint b = 0; b < MN_BACKEND_N; b++)
    for (guint a = 0; a < MN_ASPECT_N; a++)
      {
        const MnBackendSupport *s = mn_policy_backend_support (b, a);

        g_assert_nonnull (s);
        g_assert_nonnull (s->how);
        g_assert_cmpuint (strlen (s->how), >, 10);
        g_assert_cmpstr (mn_support_level_to_string (s->level), !=, "unknown");
        g_assert_nonnull (strstr (model, s->how));
      }
  for (guint a = 0; a < MN_ASPECT_N; a++)
    g_assert_nonnull (strstr (model, mn_policy_aspect_to_string (a)));
  /* `minna-policy keys` carries the model and the table. */
  g_assert_nonnull (strstr (keys, model));
  g_assert_nonnull (strstr (keys, "max_swap"));
  /* What the issue named: the local backend places, and Slurm places where
   * the policy says (the backend submits the node and the logical node's
   * bound GRES); Grid Engine runs the job on the policy's node (its queue
   * instance), but has no logical nodes. */
  g_assert_cmpint (mn_policy_backend_support (MN_BACKEND_LOCAL_CGROUP_V1, MN_ASPECT_PLACEMENT)->level,
                   ==, MN_SUPPORT_EXACT);
  g_assert_cmpint (mn_policy_backend_support (MN_BACKEND_SLURM, MN_ASPECT_PLACEMENT)->level,
                   ==, MN_SUPPORT_EXACT);
  g_assert_cmpint (mn_policy_backend_support (MN_BACKEND_SLURM, MN_ASPECT_CPUSET)->level,
                   ==, MN_SUPPORT_EXACT);
  g_assert_cmpint (mn_policy_backend_support (MN_BACKEND_SGE, MN_ASPECT_PLACEMENT)->level,
                   ==, MN_SUPPORT_APPROXIMATE);
  g_assert_cmpint (mn_policy_backend_support (MN_BACKEND_SGE, MN_ASPECT_IDLE)->level,
                   ==, MN_SUPPORT_CONTROLLER);
}

/* ---- Host fit ---------------------------------------------------------------- */

typedef struct {
  const gchar *path;
  const gchar *config;
  MnPolicyHost host;
  const gchar *problems[6];   /* a piece of each expected line, in order */
} HostCase;

static const HostCase host_cases[] = {
  { "/policy/model/host/fits",
    "queue.nodes=1 node.cores=2 node.gpus=0 node.memory=8G node.swap=0 logical_node.per_node=2 "
    "logical_node.cores=1 logical_node.gpus=0 logical_node.memory=4G job.max_cores=1 "
    "job.max_gpus=0 job.max_memory=4G job.max_gpu_memory=0",
    { 1, 2, 8 * G, 0, 0 }, { NULL } },
  { "/policy/model/host/tsubame-on-a-laptop", NULL,
    { 1, 2, 8 * G, 0, 0 },
    { "[queue] nodes = 4", "[logical_node] per_node x cores = 28 cores", "[node] memory = 256G",
      "[node] swap = 1536G", "per_node x gpus = 4 GPUs, but this host has 0" } },
  { "/policy/model/host/gpus-missing",
    "queue.nodes=1 node.swap=0", { 1, 28, 256 * G, 0, 2 },
    { "per_node x gpus = 4 GPUs, but this host has 2" } },
  { "/policy/model/host/more-cores-than-said",
    "queue.nodes=1 node.swap=0 node.gpus=4", { 1, 32, 512 * G, 0, 4 },
    { "[node] cores = 28, but this host has 32" } },
};

static void
test_host_fit (gconstpointer data)
{
  const HostCase *hc = data;
  g_autoptr (MnPolicyConfig) c = mn_test_config (hc->config);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  guint n = 0;

  while (n < G_N_ELEMENTS (hc->problems) && hc->problems[n] != NULL)
    n++;
  g_assert_cmpint (mn_policy_host_fit (c, &hc->host, problems), ==, n == 0);
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("%s", (const gchar *) problems->pdata[i]);
  g_assert_cmpuint (problems->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_nonnull (strstr (problems->pdata[i], hc->problems[i]));
}

/* ---- The value grammar, shared with twin scenarios ---------------------------- */

static void
test_parse (void)
{
  static const struct { const gchar *text; gboolean ok; guint64 mib; } sizes[] = {
    { "512M", TRUE, 512 }, { "1.5G", TRUE, 1536 }, { "2T", TRUE, 2 * 1048576 }, { "64", TRUE, 64 },
    { " 8G ", TRUE, 8192 }, { "", FALSE, 0 }, { "G", FALSE, 0 }, { "-1M", FALSE, 0 },
    { "1e3M", FALSE, 0 }, { "12X", FALSE, 0 }, { NULL, FALSE, 0 },
  };
  static const struct { const gchar *text; gboolean ok; gint64 s; } durations[] = {
    { "90s", TRUE, 90 }, { "10m", TRUE, 600 }, { "2h", TRUE, 7200 }, { "1d", TRUE, 86400 },
    { "01:30:00", TRUE, 5400 }, { "45", TRUE, 45 }, { "0.5m", TRUE, 30 }, { "1:60:00", FALSE, 0 },
    { "soon", FALSE, 0 }, { "-3s", FALSE, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      guint64 v = 0;

      g_assert_cmpint (mn_policy_parse_size (sizes[i].text, &v), ==, sizes[i].ok);
      if (sizes[i].ok)
        g_assert_cmpuint (v, ==, sizes[i].mib);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (durations); i++)
    {
      gint64 v = 0;

      g_assert_cmpint (mn_policy_parse_duration (durations[i].text, &v), ==, durations[i].ok);
      if (durations[i].ok)
        g_assert_cmpint (v, ==, durations[i].s);
    }
}

/* Extend: the step, the last one shorter, the limit, off. */
static void
test_extend (void)
{
  const struct { gint64 step, max, walltime_max, walltime; gboolean ok; gint64 want; const gchar *why; } cases[] = {
    { 3600, 0, 86400, 7200, TRUE, 10800, NULL },            /* a step */
    { 3600, 0, 86400, 84600, TRUE, 86400, NULL },           /* the last is shorter */
    { 3600, 0, 86400, 86400, FALSE, 0, "longest run time allowed (24h)" },
    { 1800, 14400, 28800, 13000, TRUE, 14400, NULL },       /* extend_max bounds it */
    { 1800, 14400, 28800, 14400, FALSE, 0, "(4h)" },
    { 0, 0, 86400, 3600, FALSE, 0, "extend_step is 0" },    /* off */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();
      g_autofree gchar *why = NULL;
      gint64 got = 0;
      c->job_extend_step = cases[i].step;
      c->job_extend_max = cases[i].max;
      c->max_walltime = cases[i].walltime_max;
      g_assert_cmpint (mn_policy_extend (c, cases[i].walltime, &got, &why), ==, cases[i].ok);
      if (cases[i].ok)
        g_assert_cmpint (got, ==, cases[i].want);
      else
        {
          g_test_message ("refused: %s", why);
          g_assert_nonnull (strstr (why, cases[i].why));
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/model/parse", test_parse);
  for (gsize i = 0; i < G_N_ELEMENTS (alloc_cases); i++)
    g_test_add_data_func (alloc_cases[i].path, &alloc_cases[i], test_allocation);
  g_test_add_func ("/policy/model/state/allocation", test_state_allocation);
  g_test_add_func ("/policy/model/state/exclusive-gpu-ids", test_exclusive_gpu_ids);
  g_test_add_func ("/policy/model/state/adopt-allocation", test_adopt_allocation);
  for (gsize i = 0; i < G_N_ELEMENTS (wait_cases); i++)
    g_test_add_data_func (wait_cases[i].path, &wait_cases[i], test_wait_reason);
  g_test_add_func ("/policy/model/memory", test_memory);
  for (gsize i = 0; i < G_N_ELEMENTS (idle_cases); i++)
    g_test_add_data_func (idle_cases[i].path, &idle_cases[i], test_idle);
  g_test_add_func ("/policy/model/codes", test_codes);
  g_test_add_func ("/policy/model/extend", test_extend);
  g_test_add_func ("/policy/model/backends", test_backend_table);
  for (gsize i = 0; i < G_N_ELEMENTS (host_cases); i++)
    g_test_add_data_func (host_cases[i].path, &host_cases[i], test_host_fit);
  return g_test_run ();
}
