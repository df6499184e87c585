/* test-sim-caps.c: all.q's options beyond EASY (issue 16), each on a small
 * hand-built trace with the start times worked out in the comments: per-user
 * and per-group running caps (a capped job is passed over: never the head,
 * reserving nothing), maintenance windows (no job runs over one), the caps
 * and windows a trace header carries, a zero-length completion's extra pass,
 * and the months of the metrics.  P = processors; "est" = the estimate. */
#define G_LOG_DOMAIN "test-sim"

#include "mn-sim-engine.h"

typedef struct {
  gint64       id, submit, procs, runtime, estimate;
  const gchar *user, *group;
  gint64       expect_start;
} CJob;

static MnSimWorkload *
workload_of (const CJob *jobs, gsize n)
{
  MnSimWorkload *w = mn_sim_workload_new ();
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      j->id = jobs[i].id;
      j->submit = jobs[i].submit;
      j->procs = jobs[i].procs;
      j->runtime = jobs[i].runtime;
      j->walltime_req = jobs[i].estimate;
      j->user = g_strdup (jobs[i].user);
      j->group = g_strdup (jobs[i].group);
      mn_sim_workload_add_job (w, j);
    }
  return w;
}

static MnSimResult *
run_with (MnSimWorkload *w, const MnSimCaps *caps, gint64 procs)
{
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.procs = procs;
  if (caps != NULL)
    {
      config.caps_mode = MN_SIM_CAPS_FIXED;
      config.caps = *caps;
    }
  g_autoptr(GError) error = NULL;
  MnSimResult *r = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return r;
}

static void
assert_starts (MnSimResult *r, const CJob *jobs, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      const MnSimJobResult *jr = mn_sim_result_lookup (r, jobs[i].id);
      g_assert_nonnull (jr);
      if (jr->start != jobs[i].expect_start)
        g_test_message ("job %" G_GINT64_FORMAT ": start %" G_GINT64_FORMAT ", expected %"
                        G_GINT64_FORMAT, jobs[i].id, jr->start, jobs[i].expect_start);
      g_assert_cmpint (jr->start, ==, jobs[i].expect_start);
      g_assert_cmpint (jr->status, ==, MN_SIM_STATUS_DONE);
    }
}

/* P = 10, one running job per user.
 *  t=0  J1 (a, 2p, 100 s) starts.
 *  t=1  J2 (a, 2p): a runs one already: passed over (8 processors free!).
 *  t=2  J3 (b, 2p): starts; J2 does not hold it back.
 *  t=100 J1 ends: J2 starts. */
static void
test_user_jobs (void)
{
  static const CJob jobs[] = {
    { 1, 0, 2, 100, 100, "a", "g", 0 },
    { 2, 1, 2, 10, 10, "a", "g", 100 },
    { 3, 2, 2, 10, 10, "b", "g", 2 },
  };
  g_autoptr(MnSimWorkload) w = workload_of (jobs, G_N_ELEMENTS (jobs));
  MnSimCaps caps = { .user_jobs = 1 };
  g_autoptr(MnSimResult) r = run_with (w, &caps, 10);
  assert_starts (r, jobs, G_N_ELEMENTS (jobs));

  /* The same trace without caps: plain EASY starts J2 at once. */
  g_autoptr(MnSimResult) plain = run_with (w, NULL, 10);
  g_assert_cmpint (mn_sim_result_lookup (plain, 2)->start, ==, 1);
}

/* P = 10, at most 8 running cores per user.  A capped job reserves nothing.
 *  t=0  J1 (a, 6p, 100 s) starts: 4 free.
 *  t=1  J2 (a, 4p): a would run 10 > 8 cores: passed over.
 *  t=2  J3 (b, 8p): 4 free, does not fit: the head.  Shadow = J1's end, 100;
 *       extra 10 - 8 = 2.  (Had J2 been the head, it would reserve.)
 *  t=3  J4 (c, 4p, est 50): 3 + 50 <= 100: backfills at 3, ends at 53.
 *  t=100 J1 ends, 10 free: J2 (a runs nothing now) starts first, in queue
 *       order; J3 (8p) no longer fits in 6: the head again, shadow = J2's
 *       end 110. */
static void
test_user_cores (void)
{
  static const CJob jobs[] = {
    { 1, 0, 6, 100, 100, "a", "ga", 0 },
    { 2, 1, 4, 10, 10, "a", "ga", 100 },
    { 3, 2, 8, 10, 10, "b", "gb", 110 },
    { 4, 3, 4, 50, 50, "c", "gc", 3 },
  };
  g_autoptr(MnSimWorkload) w = workload_of (jobs, G_N_ELEMENTS (jobs));
  MnSimCaps caps = { .user_cores = 8 };
  g_autoptr(MnSimResult) r = run_with (w, &caps, 10);
  assert_starts (r, jobs, G_N_ELEMENTS (jobs));
}

/* P = 10, one running job per group: a and b share group g.
 *  t=0 J1 (a) starts;  t=1 J2 (b, group g) is passed over;  t=2 J3 (c,
 *  group h) starts;  t=100 J1 ends: J2 starts.  Group cores: the same with
 *  at most 3 cores per group (J1 takes 2, J2's 2 would make 4). */
static void
test_group_caps (void)
{
  static const CJob jobs[] = {
    { 1, 0, 2, 100, 100, "a", "g", 0 },
    { 2, 1, 2, 10, 10, "b", "g", 100 },
    { 3, 2, 2, 10, 10, "c", "h", 2 },
  };
  g_autoptr(MnSimWorkload) w = workload_of (jobs, G_N_ELEMENTS (jobs));
  MnSimCaps by_jobs = { .group_jobs = 1 };
  MnSimCaps by_cores = { .group_cores = 3 };
  g_autoptr(MnSimResult) r1 = run_with (w, &by_jobs, 10);
  g_autoptr(MnSimResult) r2 = run_with (w, &by_cores, 10);
  assert_starts (r1, jobs, G_N_ELEMENTS (jobs));
  assert_starts (r2, jobs, G_N_ELEMENTS (jobs));
}

/* A job wider than a user's core cap can never start: skipped, not left
 * queued for ever. */
static void
test_over_cap_skipped (void)
{
  static const CJob jobs[] = {
    { 1, 0, 8, 10, 10, "a", "g", -1 },
    { 2, 0, 2, 10, 10, "a", "g", 0 },
  };
  g_autoptr(MnSimWorkload) w = workload_of (jobs, G_N_ELEMENTS (jobs));
  MnSimCaps caps = { .user_cores = 4 };
  g_autoptr(MnSimResult) r = run_with (w, &caps, 10);
  g_assert_cmpint (mn_sim_result_lookup (r, 1)->status, ==, MN_SIM_STATUS_SKIPPED);
  g_assert_cmpint (mn_sim_result_lookup (r, 2)->start, ==, 0);
}

/* P = 10, maintenance [100, 200) from the header, and the header's caps
 * (one running job per user from t=0, none from t=150).
 *  t=0  J1 (a, 4p, 50 s) ends by 100: starts.
 *  t=10 J2 (b, 4p, est 150): would run into the window: the head, waiting
 *       for its end; shadow 200.
 *  t=20 J3 (c, 4p, est 20) ends by 100: backfills at 20.
 *  t=30 J4 (d, 2p, est 90): 30 + 90 > 100: must not start.
 *  t=40 J5 (c, 1p, est 10): c runs J3 (until 40... J3 ends at 40, first):
 *       starts at 40.
 *  t=45 J6 (c, 1p, est 10) while J5 runs: capped (one job per user).
 *  t=50 J5 ends: J6 starts.
 *  t=200 the window ends: J2 and J4 start. */
static void
test_maintenance_and_header_caps (void)
{
  static const CJob jobs[] = {
    { 1, 0, 4, 50, 50, "a", "g", 0 },
    { 2, 10, 4, 50, 150, "b", "g", 200 },
    { 3, 20, 4, 20, 20, "c", "g", 20 },
    { 4, 30, 2, 10, 90, "d", "g", 200 },
    { 5, 40, 1, 10, 10, "c", "g", 40 },
    { 6, 45, 1, 10, 10, "c", "g", 50 },
  };
  g_autoptr(MnSimWorkload) w = workload_of (jobs, G_N_ELEMENTS (jobs));
  g_autoptr(GArray) windows = g_array_new (FALSE, FALSE, sizeof (MnTraceWindow));
  g_autoptr(GArray) limits = g_array_new (FALSE, FALSE, sizeof (MnTraceLimits));
  MnTraceWindow win = { 100, 200 };
  MnTraceLimits l1 = { 0, 1, 0, 0, 0 }, l2 = { 150, 0, 0, 0, 0 };
  g_array_append_val (windows, win);
  g_array_append_val (limits, l1);
  g_array_append_val (limits, l2);
  mn_sim_workload_set_site (w, windows, limits);
  g_autoptr(MnSimResult) r = run_with (w, NULL, 10);
  assert_starts (r, jobs, G_N_ELEMENTS (jobs));

  /* Figure 4's measure leaves the window out of the capacity. */
  const MnSimMetrics *m = mn_sim_result_get_metrics (r);
  g_assert_cmpuint (m->batch.by_month->len, ==, 1);
  const MnSimMonth *mo = &g_array_index (m->batch.by_month, MnSimMonth, 0);
  g_assert_cmpfloat_with_epsilon (mo->down_hours, 100.0 / 3600, 1e-9);
  /* busy processor-seconds 4x50 + 4x20 + 1x10 + 1x10 + 4x50 + 2x10 = 520
   * over 10 x (250 - 0 - 100) */
  g_assert_cmpfloat_with_epsilon (mo->utilization, 520.0 / (10 * 150), 1e-9);

  /* Switched off: EASY as without them. */
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.procs = 10;
  config.maintenance = FALSE;
  config.caps_mode = MN_SIM_CAPS_OFF;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSimResult) off = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mn_sim_result_lookup (off, 2)->start, ==, 10);
  g_assert_cmpuint (mn_sim_result_get_metrics (off)->batch.by_month->len, ==, 1);
  g_assert_cmpfloat (g_array_index (mn_sim_result_get_metrics (off)->batch.by_month, MnSimMonth, 0).down_hours, ==, 0);
}

/* P = 1: the 3-job trace.  J1 (0 s) starts at 0 and ends at once;
 * its completion gets another pass at the same instant: J2 (10 s) starts at
 * 0, J3 (0 s) when J2 ends, at 10.  Before, J2 and J3 never started and the
 * CSV said 'done' with start -1. */
static void
test_zero_length (void)
{
  static const CJob jobs[] = {
    { 1, 0, 1, 0, 0, "a", "g", 0 },
    { 2, 0, 1, 10, 10, "b", "g", 0 },
    { 3, 0, 1, 0, 0, "c", "g", 10 },
  };
  g_autoptr(MnSimWorkload) w = workload_of (jobs, G_N_ELEMENTS (jobs));
  g_autoptr(MnSimResult) r = run_with (w, NULL, 1);
  assert_starts (r, jobs, G_N_ELEMENTS (jobs));
  g_assert_cmpuint (mn_sim_result_get_metrics (r)->batch.never_started, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/caps/user-jobs", test_user_jobs);
  g_test_add_func ("/sim/caps/user-cores-no-reservation", test_user_cores);
  g_test_add_func ("/sim/caps/group", test_group_caps);
  g_test_add_func ("/sim/caps/wider-than-cap-skipped", test_over_cap_skipped);
  g_test_add_func ("/sim/caps/maintenance-and-header-caps", test_maintenance_and_header_caps);
  g_test_add_func ("/sim/easy/zero-length-gets-a-pass", test_zero_length);
  return g_test_run ();
}
