/* test-sim-interactive.c: interactive.q in the simulator, decided by policy/:
 * swap then a node OOM kill exactly at the thresholds (with the per-session
 * swap allowance binding), cap kills apart from node kills, GPU ids and
 * cpusets from the allocation, the per-user limit,
 * give-up rejections (and retries), walltime and idle cuts, CPU sharing, GPU
 * memory first come first served, and the baseline (interactive requests as
 * batch jobs) against a carved-out interactive.q. */
#define G_LOG_DOMAIN "test-sim"

#include <string.h>

#include <glib/gstdio.h>

#include "mn-sim-engine.h"

#define GIB G_GUINT64_CONSTANT (1024)

static void
add_session_full (MnSimWorkload *w, gint64 id, const gchar *user, gint64 submit, gint64 runtime,
                  gint64 memory_req_mb, gint64 memory_used_mb, const MnMemoryStep *steps,
                  guint n_steps)
{
  g_autoptr(MnTraceJob) j = mn_trace_job_new ();
  j->id = id;
  j->user = g_strdup (user);
  j->submit = submit;
  j->runtime = runtime;
  j->interactive = TRUE;
  j->rtype = MN_RTYPE_Q;
  j->rtype_count = 1;
  j->gpus = 0;
  j->memory_req_mb = memory_req_mb;
  j->memory_used_mb = memory_used_mb;
  j->cpu_active = 0;
  for (guint i = 0; i < n_steps; i++)
    mn_trace_job_add_memory_step (j, steps[i].offset, steps[i].memory_mb);
  mn_sim_workload_add_job (w, j);
}

/* A session asking for 10 GiB, using @memory_used_mb. */
static void
add_session (MnSimWorkload *w, gint64 id, const gchar *user, gint64 submit, gint64 runtime,
             gint64 memory_used_mb)
{
  add_session_full (w, id, user, submit, runtime, 10 * GIB, memory_used_mb, NULL, 0);
}

static MnPolicyConfig *
policy_with (const gchar *const *kv)
{
  MnPolicyConfig *p = mn_policy_config_new_default ();
  for (; kv != NULL && kv[0] != NULL; kv += 3)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (mn_policy_config_set (p, kv[0], kv[1], kv[2], &error));
      g_assert_no_error (error);
    }
  g_autoptr(GError) error = NULL;
  g_assert_true (mn_policy_config_validate (p, &error));
  return p;
}

static MnSimResult *
run (MnSimWorkload *w, const MnPolicyConfig *p, gint64 machine_nodes, gint64 inodes,
     gint64 retry_delay, guint max_retries)
{
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.policy = p;
  config.machine_nodes = machine_nodes;
  config.interactive_nodes = inodes;
  config.retry_delay = retry_delay;
  config.max_retries = max_retries;
  g_autoptr(GError) error = NULL;
  MnSimResult *r = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return r;
}

/* One node (two logical nodes of 128 GiB, jobs up to 100 GiB): 256 GiB
 * RAM, 64 GiB swap, a swap allowance of 10 GiB per
 * session (so its sessions may swap 40 GiB at most, not the node's 64).
 * Sessions (limit / use, GiB): 1: 100/100 @0, 2: 100/100 @10, 3: 60/56 @20
 * (= RAM exactly: no swap yet), 4: 60/40 @30 (40 GiB over RAM = the 4 x 10
 * GiB the sessions may swap: no kill), and 40 GiB + 1 MiB @40: over RAM +
 * swap room, so the OOM killer ends the largest (100 GiB; the tie goes to
 * the lower id, job 1), which leaves 196 GiB + 1 MiB: no swap.  Swap was in
 * use from 30 to 40.  Nobody passed their own limit: no cap kill. */
static void
test_swap_then_oom (void)
{
  const gchar *const kv[] = { "node", "swap", "64G", "job", "max_swap", "10G",
                              "logical_node", "per_node", "2", "logical_node", "cores", "14",
                              "logical_node", "gpus", "2", "logical_node", "memory", "128G",
                              "job", "max_memory", "100G", NULL };
  g_autoptr(MnPolicyConfig) p = policy_with (kv);
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  const MnMemoryStep grow[] = { { 0, 40 * GIB }, { 10, 40 * GIB + 1 } };
  add_session_full (w, 1, "a", 0, 1000, 100 * GIB, 100 * GIB, NULL, 0);
  add_session_full (w, 2, "b", 10, 1000, 100 * GIB, 100 * GIB, NULL, 0);
  add_session_full (w, 3, "c", 20, 1000, 60 * GIB, 56 * GIB, NULL, 0);
  add_session_full (w, 4, "d", 30, 1000, 60 * GIB, -1, grow, G_N_ELEMENTS (grow));
  g_autoptr(MnSimResult) r = run (w, p, 2, 1, 0, 0);
  const MnSimInteractiveMetrics *im = &mn_sim_result_get_metrics (r)->interactive;
  g_assert_cmpuint (im->oom_kills, ==, 1);
  g_assert_cmpuint (im->memory_cap_kills, ==, 0);
  g_assert_cmpuint (im->sessions_above_memory_cap, ==, 0);
  g_assert_cmpuint (im->swap_peak_mb, ==, 40 * GIB);
  /* 10 node-seconds of swap over the span 0 .. 1030 on one node */
  g_assert_cmpfloat_with_epsilon (im->swap_time_share, 10.0 / 1030.0, 1e-9);
  const MnSimJobResult *j1 = mn_sim_result_lookup (r, 1);
  g_assert_cmpint (j1->status, ==, MN_SIM_STATUS_OOM);
  g_assert_cmpint (j1->end, ==, 40);
  g_assert_cmpint (mn_sim_result_lookup (r, 2)->status, ==, MN_SIM_STATUS_DONE);
  g_assert_cmpint (mn_sim_result_lookup (r, 4)->swapped, ==, 1);
  g_assert_cmpuint (im->started_immediately, ==, 4);
  g_assert_cmpuint (im->peak_concurrent, ==, 4);
}

/* The same node with the default allowance (S = L): the sessions may swap
 * as much as the node has, and since admission keeps their limits within
 * RAM + swap, only their own caps can kill.  Five sessions of limit 60 GiB
 * grow 20 -> 60 GiB at offset 50 (300 GiB: 44 GiB of swap) and drop to 2 at
 * 80: swap share 0.3 of 100 s, peak 44 GiB, no kill.  A sixth asks 8 GiB and
 * grows to 8 GiB + 1 MiB at 30: killed by its cap at 30, the excess never
 * reaches the node. */
static void
test_memory_profile (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  const MnMemoryStep steps[] = { { 0, 20 * GIB }, { 50, 60 * GIB }, { 80, 2 * GIB } };
  const MnMemoryStep over[] = { { 0, GIB }, { 30, 8 * GIB + 1 } };
  for (gint64 i = 1; i <= 5; i++)
    {
      g_autofree gchar *u = g_strdup_printf ("p%" G_GINT64_FORMAT, i);
      add_session_full (w, i, u, 0, 100, 60 * GIB, -1, steps, G_N_ELEMENTS (steps));
    }
  add_session_full (w, 6, "hog", 0, 100, 8 * GIB, -1, over, G_N_ELEMENTS (over));
  g_autoptr(MnSimResult) r = run (w, NULL, 2, 1, 0, 0);
  const MnSimInteractiveMetrics *im = &mn_sim_result_get_metrics (r)->interactive;
  g_assert_cmpuint (im->swap_peak_mb, ==, 44 * GIB);
  g_assert_cmpfloat_with_epsilon (im->swap_time_share, 0.3, 1e-12);
  g_assert_cmpuint (im->oom_kills, ==, 0);
  g_assert_cmpuint (im->memory_cap_kills, ==, 1);
  g_assert_cmpuint (im->sessions_above_memory_cap, ==, 1);
  g_assert_cmpint (mn_sim_result_lookup (r, 1)->swapped, ==, 1);
  const MnSimJobResult *hog = mn_sim_result_lookup (r, 6);
  g_assert_cmpint (hog->status, ==, MN_SIM_STATUS_MEMORY_CAP);
  g_assert_cmpint (hog->end, ==, 30);
  g_assert_cmpuint (hog->memory_limit_mb, ==, 8 * GIB);
  g_assert_cmpuint (hog->memory_peak_mb, ==, 8 * GIB + 1);
  g_assert_cmpstr (mn_sim_job_status_to_string (hog->status), ==, "memory-cap");
}

/* Exclusive GPUs, one node split in two logical nodes of 2 GPUs each: four
 * one-GPU sessions get GPUs 0, 2, 1, 3 (fewest jobs first, then the lowest
 * free GPU of the logical node), cpusets 0-13 and 14-27; a fifth waits for
 * a GPU and gets the one the first frees (GPU 0) at 100. */
static void
test_gpu_exclusive_ids (void)
{
  const gchar *const kv[] = { "job", "gpu_mode", "exclusive", "logical_node", "per_node", "2",
                              "logical_node", "cores", "14", "logical_node", "gpus", "2",
                              "logical_node", "memory", "128G", NULL };
  g_autoptr(MnPolicyConfig) p = policy_with (kv);
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  static const struct { gint64 run; guint logical; guint64 mask; gint64 start; } want[] = {
    { 100, 0, 0x1, 0 }, { 1000, 1, 0x4, 0 }, { 1000, 0, 0x2, 0 }, { 1000, 1, 0x8, 0 },
    { 1000, 0, 0x1, 100 },
  };
  for (gint64 i = 0; i < (gint64) G_N_ELEMENTS (want); i++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      j->id = i + 1;
      j->user = g_strdup_printf ("x%" G_GINT64_FORMAT, i);
      j->submit = 0;
      j->runtime = want[i].run;
      j->interactive = TRUE;
      j->rtype = MN_RTYPE_Q;
      j->rtype_count = 1;
      j->gpus = 1;
      j->gpu_memory_mb = 4 * GIB;
      j->memory_req_mb = j->memory_used_mb = GIB;
      j->cpu_active = 0;
      mn_sim_workload_add_job (w, j);
    }
  g_autoptr(MnSimResult) r = run (w, p, 2, 1, 0, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      const MnSimJobResult *j = mn_sim_result_lookup (r, (gint64) i + 1);
      g_assert_cmpint (j->start, ==, want[i].start);
      g_assert_cmpuint (j->node, ==, 0);
      g_assert_cmpuint (j->logical, ==, want[i].logical);
      g_assert_cmpuint (j->cpu_first, ==, want[i].logical * 14);
      g_assert_cmpuint (j->n_cpus, ==, 14);
      g_assert_cmpuint (j->gpu_mask, ==, want[i].mask);
      g_assert_cmpint (j->gpu_failed, ==, 0);
    }
}

/* One session per user (running or waiting): alice's second is refused. */
static void
test_per_user_limit (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_session (w, 1, "alice", 0, 100, GIB);
  add_session (w, 2, "alice", 10, 100, GIB);
  add_session (w, 3, "bob", 10, 100, GIB);
  add_session (w, 4, "alice", 100, 100, GIB);  /* after her first ended: fine */
  g_autoptr(MnSimResult) r = run (w, NULL, 2, 1, 0, 0);
  const MnSimJobResult *j2 = mn_sim_result_lookup (r, 2);
  g_assert_cmpint (j2->status, ==, MN_SIM_STATUS_REJECTED);
  g_assert_cmpint (j2->reason, ==, MN_REJECT_PER_USER_LIMIT);
  g_assert_cmpint (mn_sim_result_lookup (r, 3)->start, ==, 10);
  g_assert_cmpint (mn_sim_result_lookup (r, 4)->start, ==, 100);
  const MnSimInteractiveMetrics *im = &mn_sim_result_get_metrics (r)->interactive;
  g_assert_cmpuint (im->rejected, ==, 1);
  g_assert_cmpuint (im->rejected_by_reason[MN_REJECT_PER_USER_LIMIT], ==, 1);
  g_assert_cmpfloat_with_epsilon (im->share_immediate, 0.75, 1e-12);
}

/* 4 slots (4 logical nodes x 1 job), give-up requests.  u1..u4 fill them at
 * 0 (u1 for 30 s); u5 and u6 at 5 find no slot and are refused.  With a
 * 60 s retry (once): both ask again at 65; u1's slot is free since 30: u5
 * (first in order) starts at 65, u6 is refused for good. */
static void
test_give_up (gconstpointer data)
{
  gboolean retry = GPOINTER_TO_INT (data);
  const gchar *const kv[] = { "queue", "if_busy", "give_up", "logical_node", "max_jobs", "1", NULL };
  g_autoptr(MnPolicyConfig) p = policy_with (kv);
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_session (w, 1, "u1", 0, 30, GIB);
  for (gint64 i = 2; i <= 4; i++)
    {
      g_autofree gchar *u = g_strdup_printf ("u%" G_GINT64_FORMAT, i);
      add_session (w, i, u, 0, 1000, GIB);
    }
  add_session (w, 5, "u5", 5, 100, GIB);
  add_session (w, 6, "u6", 5, 100, GIB);
  g_autoptr(MnSimResult) r = run (w, p, 2, 1, retry ? 60 : 0, retry ? 1 : 0);
  const MnSimInteractiveMetrics *im = &mn_sim_result_get_metrics (r)->interactive;
  const MnSimJobResult *j5 = mn_sim_result_lookup (r, 5), *j6 = mn_sim_result_lookup (r, 6);
  g_assert_cmpint (j6->status, ==, MN_SIM_STATUS_REJECTED);
  g_assert_cmpint (j6->reason, ==, MN_REJECT_BUSY_GIVE_UP);
  if (!retry)
    {
      g_assert_cmpint (j5->status, ==, MN_SIM_STATUS_REJECTED);
      g_assert_cmpuint (im->rejected, ==, 2);
      g_assert_cmpuint (im->rejected_attempts, ==, 2);
    }
  else
    {
      g_assert_cmpint (j5->start, ==, 65);
      g_assert_cmpint (j5->attempts, ==, 2);
      g_assert_cmpint (j6->attempts, ==, 2);
      g_assert_cmpuint (im->rejected, ==, 1);
      g_assert_cmpuint (im->rejected_attempts, ==, 3);
      g_assert_cmpfloat (im->wait_max, ==, 60);
    }
  g_assert_cmpuint (im->rejected_by_reason[MN_REJECT_BUSY_GIVE_UP], ==, im->rejected);
}

/* Walltime and idle cuts; CPU sharing and GPU memory on one logical node per
 * node (7 cores, 1 GPU of 16 GiB):
 *  - job 1 asks 100 s and would run 200 (always active): cut at 100;
 *  - job 2 is active half of its 1000 s, then idle: the 60 s idle timeout
 *    ends it at 560;
 *  - jobs 3 and 4 (7 cores each, always active) share the logical node's 7
 *    cores for 100 s: slowdown 2; both want 10 GiB of the 16 GiB GPU: the
 *    second allocation fails (shared mode: first come, first served). */
static void
test_cuts_cpu_gpu (void)
{
  const gchar *const kv[] = { "queue", "idle_timeout", "60", "logical_node", "per_node", "1",
                              "queue", "max_jobs_per_user", "4", NULL };
  g_autoptr(MnPolicyConfig) p = policy_with (kv);
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  static const struct { gint64 id, submit, run, wall; double active; gint gpus; gint64 gmem; } jobs[] = {
    { 1, 0, 200, 100, 1.0, 0, -1 },
    { 2, 0, 1000, -1, 0.5, 0, -1 },
    { 3, 2000, 100, -1, 1.0, 1, 10 * GIB },
    { 4, 2000, 100, -1, 1.0, 1, 10 * GIB },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      j->id = jobs[i].id;
      j->user = g_strdup ("same");
      j->submit = jobs[i].submit;
      j->runtime = jobs[i].run;
      j->walltime_req = jobs[i].wall;
      j->interactive = TRUE;
      j->rtype = MN_RTYPE_Q;
      j->rtype_count = 1;
      j->gpus = jobs[i].gpus;
      j->gpu_memory_mb = jobs[i].gmem;
      j->memory_req_mb = GIB;
      j->memory_used_mb = GIB;
      j->cpu_active = jobs[i].active;
      mn_sim_workload_add_job (w, j);
    }
  g_autoptr(MnSimResult) r = run (w, p, 2, 1, 0, 0);
  const MnSimInteractiveMetrics *im = &mn_sim_result_get_metrics (r)->interactive;
  const MnSimJobResult *j1 = mn_sim_result_lookup (r, 1), *j2 = mn_sim_result_lookup (r, 2);
  g_assert_cmpint (j1->status, ==, MN_SIM_STATUS_WALLTIME);
  g_assert_cmpint (j1->end, ==, 100);
  g_assert_cmpint (j2->status, ==, MN_SIM_STATUS_IDLE);
  g_assert_cmpint (j2->end, ==, 560);
  g_assert_cmpuint (im->cut_walltime, ==, 1);
  g_assert_cmpuint (im->cut_idle, ==, 1);
  g_assert_cmpfloat_with_epsilon (mn_sim_result_lookup (r, 3)->cpu_slowdown, 2.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (mn_sim_result_lookup (r, 4)->cpu_slowdown, 2.0, 1e-6);
  g_assert_cmpuint (im->gpu_alloc_failures, ==, 1);
  g_assert_cmpint (mn_sim_result_lookup (r, 3)->gpu_failed, ==, 0);
  g_assert_cmpint (mn_sim_result_lookup (r, 4)->gpu_failed, ==, 1);
  g_assert_cmpfloat_with_epsilon (im->cpu_slowdown_p95, 2.0, 1e-6);
}

/* CAPPED GPU mode, one logical node with one 16 GiB GPU: each GPU session
 * reserves the 16 GiB cap, so the policy runs them one after another; a
 * session whose footprint (20 GiB) exceeds the cap fails its own allocation
 * and nobody else's:
 *  job 1 (10 GiB) starts at 0; job 2 (10 GiB) waits, starts at 100; job 3
 *  (20 GiB) starts at 200 and its allocation fails. */
static void
test_gpu_capped (void)
{
  const gchar *const kv[] = { "job", "gpu_mode", "capped", "logical_node", "per_node", "1", NULL };
  g_autoptr(MnPolicyConfig) p = policy_with (kv);
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  static const gint64 footprint[] = { 10 * GIB, 10 * GIB, 20 * GIB };
  for (gint64 i = 0; i < 3; i++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      j->id = i + 1;
      j->user = g_strdup_printf ("g%" G_GINT64_FORMAT, i);
      j->submit = 0;
      j->runtime = 100;
      j->interactive = TRUE;
      j->rtype = MN_RTYPE_Q;
      j->rtype_count = 1;
      j->gpus = 1;
      j->gpu_memory_mb = footprint[i];
      j->memory_req_mb = j->memory_used_mb = GIB;
      j->cpu_active = 0;
      mn_sim_workload_add_job (w, j);
    }
  g_autoptr(MnSimResult) r = run (w, p, 2, 1, 0, 0);
  const MnSimInteractiveMetrics *im = &mn_sim_result_get_metrics (r)->interactive;
  g_assert_cmpint (mn_sim_result_lookup (r, 1)->start, ==, 0);
  g_assert_cmpint (mn_sim_result_lookup (r, 2)->start, ==, 100);
  g_assert_cmpint (mn_sim_result_lookup (r, 3)->start, ==, 200);
  g_assert_cmpuint (im->gpu_alloc_failures, ==, 1);
  g_assert_cmpint (mn_sim_result_lookup (r, 3)->gpu_failed, ==, 1);
  g_assert_cmpint (mn_sim_result_lookup (r, 2)->gpu_failed, ==, 0);
  g_assert_cmpfloat (im->wait_max, ==, 200);
}

/* A busy machine: 5 nodes, 50 full-node batch jobs of 10 h at t=0, and five
 * 30-minute sessions an hour apart.  Baseline (no interactive.q): the
 * sessions queue behind the batch jobs (nothing ever frees for a backfill)
 * and wait days.  With one node carved out: every session starts at once. */
static void
test_baseline_vs_interactive_q (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  for (gint64 i = 1; i <= 50; i++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      j->id = i;
      j->user = g_strdup_printf ("b%" G_GINT64_FORMAT, i % 7);
      j->submit = 0;
      j->runtime = j->walltime_req = 36000;
      j->rtype = MN_RTYPE_F;
      j->rtype_count = 1;
      mn_sim_workload_add_job (w, j);
    }
  for (gint64 k = 1; k <= 5; k++)
    {
      g_autofree gchar *u = g_strdup_printf ("i%" G_GINT64_FORMAT, k);
      add_session (w, 100 + k, u, 3600 * k, 1800, GIB);
    }
  g_autoptr(MnSimResult) base = run (w, NULL, 5, 0, 0, 0);
  g_autoptr(MnSimResult) iq = run (w, NULL, 5, 1, 0, 0);
  const MnSimInteractiveMetrics *b = &mn_sim_result_get_metrics (base)->interactive;
  const MnSimInteractiveMetrics *q = &mn_sim_result_get_metrics (iq)->interactive;
  g_test_message ("baseline interactive wait p50 %.0f s, max %.0f s", b->wait_p50, b->wait_max);
  g_assert_cmpfloat (b->wait_p50, >, 24 * 3600.0);
  g_assert_cmpfloat (b->share_immediate, ==, 0.0);
  g_assert_cmpint (mn_sim_result_lookup (base, 101)->queue, ==, MN_SIM_QUEUE_ALL);
  g_assert_cmpfloat (q->share_immediate, ==, 1.0);
  g_assert_cmpfloat (q->wait_max, ==, 0.0);
  g_assert_cmpint (mn_sim_result_lookup (iq, 101)->queue, ==, MN_SIM_QUEUE_INTERACTIVE);
  /* the batch side pays: 4 nodes instead of 5 */
  g_assert_cmpfloat (mn_sim_result_get_metrics (iq)->batch.wait_mean, >,
                     mn_sim_result_get_metrics (base)->batch.wait_mean);

  /* The JSON with the baseline carries both and the difference. */
  g_autoptr(JsonNode) node = mn_sim_result_to_json (iq, base);
  JsonObject *o = json_node_get_object (node);
  g_assert_true (json_object_has_member (o, "baseline"));
  JsonObject *d = json_object_get_object_member (json_object_get_object_member (o, "difference"), "interactive");
  g_assert_cmpfloat (json_object_get_double_member (d, "wait_p50"), <, -24 * 3600.0);
}

/* Issue 14's check on the default year: `minna-sim replay` reports as many
 * cap kills as there are sessions that started and whose peak memory is
 * above their limit, and the per-job CSV names exactly those sessions. */
static void
test_default_year_cap_kills (void)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  g_autofree gchar *sim = g_build_filename (build ? build : ".", "sim", "minna-sim", NULL);
  g_autofree gchar *trace = g_build_filename (src ? src : ".", "traces", "tsubame3-fy2019.native.gz", NULL);
  g_autofree gchar *dir = g_dir_make_tmp ("test-sim-year-XXXXXX", NULL);
  g_autofree gchar *csv = g_build_filename (dir, "jobs.csv", NULL);
  g_autofree gchar *json = g_build_filename (dir, "metrics.json", NULL);
  const gchar *argv[] = { sim, "replay", trace, "--jobs-out", csv, "--metrics-out", json, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gint status = -1;
  guint64 kills = 0, above = 0, above_started = 0, col_status = 0, col_start = 0, col_limit = 0,
          col_peak = 0, col_end_reason = 0;

  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_file (parser, json, &error));
  g_assert_no_error (error);
  JsonObject *im = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                                  "interactive");
  gsize length = 0;
  g_assert_true (g_file_get_contents (csv, &text, &length, NULL));
  /* Lines by hand: g_strsplit's strstr is quadratic under ASan's interceptor. */
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  for (gchar *p = text, *end = text + length; p < end;)
    {
      gchar *nl = memchr (p, '\n', end - p);
      g_ptr_array_add (lines, p);
      if (nl == NULL)
        break;
      *nl = '\0';
      p = nl + 1;
    }
  g_ptr_array_add (lines, NULL);
  g_auto(GStrv) head = g_strsplit (lines->pdata[0], ",", -1);
  for (guint c = 0; head[c] != NULL; c++)
    {
      if (g_str_equal (head[c], "status")) col_status = c;
      if (g_str_equal (head[c], "start")) col_start = c;
      if (g_str_equal (head[c], "memory_limit_mb")) col_limit = c;
      if (g_str_equal (head[c], "memory_peak_mb")) col_peak = c;
      if (g_str_equal (head[c], "end_reason")) col_end_reason = c;
    }
  g_assert_true (col_status && col_start && col_limit && col_peak && col_end_reason);
  for (guint i = 1; lines->pdata[i] != NULL && ((gchar *) lines->pdata[i])[0] != '\0'; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines->pdata[i], ",", -1);
      gboolean over = f[col_peak][0] != '\0'
                      && g_ascii_strtoull (f[col_peak], NULL, 10) > g_ascii_strtoull (f[col_limit], NULL, 10);
      gboolean killed = g_str_equal (f[col_status], "memory-cap");
      above += over;
      if (over && g_ascii_strtoll (f[col_start], NULL, 10) >= 0)
        {
          above_started++;
          /* every session above its limit that ran was killed by it ... */
          g_assert_true (killed);
        }
      /* ... and nobody else */
      if (killed)
        {
          g_assert_true (over);
          g_assert_cmpstr (f[col_end_reason], ==, "memory-cap");
          kills++;
        }
    }
  g_test_message ("default year: %" G_GUINT64_FORMAT " sessions above their memory limit, %"
                  G_GUINT64_FORMAT " of them started, %" G_GUINT64_FORMAT " cap kills",
                  above, above_started, kills);
  g_assert_cmpuint (kills, >, 100);
  g_assert_cmpuint (kills, ==, above_started);
  g_assert_cmpint (json_object_get_int_member (im, "memory_cap_kills"), ==, (gint64) kills);
  g_assert_cmpint (json_object_get_int_member (im, "sessions_above_memory_cap"), ==, (gint64) kills);
  /* the swap the report showed came from those sessions: none is left */
  g_assert_cmpint (json_object_get_int_member (im, "node_oom_kills"), ==, 0);
  g_unlink (csv);
  g_unlink (json);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/interactive/swap-then-oom", test_swap_then_oom);
  g_test_add_func ("/sim/interactive/memory-profile", test_memory_profile);
  g_test_add_func ("/sim/interactive/per-user-limit", test_per_user_limit);
  g_test_add_data_func ("/sim/interactive/give-up", GINT_TO_POINTER (FALSE), test_give_up);
  g_test_add_data_func ("/sim/interactive/give-up-retry", GINT_TO_POINTER (TRUE), test_give_up);
  g_test_add_func ("/sim/interactive/cuts-cpu-gpu", test_cuts_cpu_gpu);
  g_test_add_func ("/sim/interactive/gpu-capped", test_gpu_capped);
  g_test_add_func ("/sim/interactive/gpu-exclusive-ids", test_gpu_exclusive_ids);
  g_test_add_func ("/sim/interactive/baseline-vs-interactive-q", test_baseline_vs_interactive_q);
  g_test_add_func ("/sim/interactive/default-year-cap-kills", test_default_year_cap_kills);
  return g_test_run ();
}
