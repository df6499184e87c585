/* test-sim-oversub.c: the over-subscribing designs in the simulator (issue
 * 19), golden replays of tiny hand-made traces: a batch job's end moves by
 * exactly the stretch the model says (and comes back when the interactive
 * job goes idle), the batch scheduler sees the moved expected end (the job
 * queued behind starts then, a backfill uses the later shadow), no headroom
 * means wait or give up, the extra-jobs limit, hybrid (interactive.q first),
 * and a dedicated design untouched. */
#define G_LOG_DOMAIN "test-sim"

#include <string.h>

#include "mn-sim-engine.h"

#define GIB G_GUINT64_CONSTANT (1024)

static void
add_batch (MnSimWorkload *w, gint64 id, MnResourceType type, gint64 submit, gint64 runtime)
{
  g_autoptr(MnTraceJob) j = mn_trace_job_new ();
  j->id = id;
  j->user = g_strdup_printf ("b%" G_GINT64_FORMAT, id);
  j->submit = submit;
  j->runtime = runtime;
  j->walltime_req = runtime;   /* the estimate is exact: expected end = end */
  j->rtype = type;
  j->rtype_count = 1;
  mn_sim_workload_add_job (w, j);
}

/* A session asking for @memory_req_mb, active for @active of its @runtime. */
static void
add_session (MnSimWorkload *w, gint64 id, const gchar *user, gint64 submit, gint64 runtime,
             double active, gint64 memory_req_mb)
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
  j->memory_used_mb = memory_req_mb / 2;
  j->cpu_active = active;
  mn_sim_workload_add_job (w, j);
}

static MnPolicyConfig *
policy (const gchar *overrides)
{
  MnPolicyConfig *p = mn_policy_config_new_default ();
  g_auto (GStrv) items = g_strsplit (overrides, " ", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      if (items[i][0] == '\0')
        continue;
      g_auto (GStrv) kv = g_strsplit (items[i], "=", 2);
      g_auto (GStrv) gk = g_strsplit (kv[0], ".", 2);
      g_assert_true (mn_policy_config_set (p, gk[0], gk[1], kv[1], &error));
      g_assert_no_error (error);
    }
  return p;
}

static MnSimResult *
replay (MnSimWorkload *w, const gchar *overrides, gint64 machine_nodes, gint64 inodes)
{
  g_autoptr(MnPolicyConfig) p = policy (overrides);
  g_autoptr(GError) error = NULL;
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.policy = p;
  config.machine_nodes = machine_nodes;
  config.interactive_nodes = inodes;
  g_assert_true (mn_policy_config_validate (p, &error));
  MnSimResult *r = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return r;
}

#define START(r, id) (mn_sim_result_lookup ((r), (id))->start)
#define END(r, id)   (mn_sim_result_lookup ((r), (id))->end)

/* One all.q node.  A (full node, 1000 s) from 0; a session active from 100
 * to 300 takes 25%: A did 100 s, then 150 s of work in 200 s, then 750 s:
 * it ends at 1050, 50 s (= 200 x 25%) late.  B (one core) queued behind A
 * starts when A really ends. */
static void
test_stretch (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_batch (w, 1, MN_RTYPE_F, 0, 1000);
  add_batch (w, 2, MN_RTYPE_C1, 10, 100);
  add_session (w, 10, "alice", 100, 200, 1.0, 8 * GIB);
  g_autoptr(MnSimResult) r = replay (w, "oversubscribe.design=oversubscribe", 1, -1);
  const MnSimMetrics *m = mn_sim_result_get_metrics (r);

  g_assert_cmpint (START (r, 10), ==, 100);
  g_assert_cmpint (END (r, 10), ==, 300);
  g_assert_cmpint (END (r, 1), ==, 1050);
  g_assert_cmpint (START (r, 2), ==, 1050);
  g_assert_cmpint (END (r, 2), ==, 1150);
  g_assert_true (m->oversub.on);
  g_assert_cmpuint (m->oversub.started_shared, ==, 1);
  g_assert_cmpuint (m->oversub.batch_jobs_shared, ==, 1);
  g_assert_cmpfloat_with_epsilon (m->oversub.batch_stretch_max, 1.05, 1e-9);
  /* 50 s of a whole node */
  g_assert_cmpfloat_with_epsilon (m->oversub.batch_node_hours_lost, 50.0 / 3600, 1e-9);
  g_assert_cmpfloat (m->interactive.share_immediate, ==, 1.0);
  g_assert_cmpuint (m->interactive_nodes, ==, 0);
}

/* Active for half its 400 s: the rate comes back at 300 when its kernel
 * goes idle, though the session runs to 500.  Half share: 100 s late. */
static void
test_stretch_idle (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_batch (w, 1, MN_RTYPE_F, 0, 1000);
  add_session (w, 10, "alice", 100, 400, 0.5, 8 * GIB);
  g_autoptr(MnSimResult) r = replay (w, "oversubscribe.design=oversubscribe "
                                        "oversubscribe.cpu_share=50% "
                                        "oversubscribe.max_extra_jobs_per_node=1", 1, -1);
  g_assert_cmpint (END (r, 10), ==, 500);
  g_assert_cmpint (END (r, 1), ==, 1100);
}

/* The backfill shadow sees the moved end.  Node 0: A (half node, 1000 s);
 * node 1: E (full node, 5000 s).  H (a full node) queued at 50 waits for A.
 * The session on node 0 (most headroom) from 100, active to 300, makes A's
 * expected end 1300 at 150, when C (one core, 1020 s) arrives: it ends by
 * that shadow, so it backfills.  C is slowed too (from 150 to 300): 1020 s
 * of work end at 300 + 907.5 -> 1208, when H starts; A ends at 1050. */
static void
test_backfill_sees_stretch (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_batch (w, 1, MN_RTYPE_H, 0, 1000);
  add_batch (w, 2, MN_RTYPE_F, 0, 5000);
  add_batch (w, 3, MN_RTYPE_F, 50, 100);
  add_batch (w, 4, MN_RTYPE_C1, 150, 1020);
  add_session (w, 10, "alice", 100, 200, 1.0, 8 * GIB);
  g_autoptr(MnSimResult) r = replay (w, "oversubscribe.design=oversubscribe", 2, -1);
  g_assert_cmpint (mn_sim_result_lookup (r, 10)->node, ==, 0);
  g_assert_cmpint (END (r, 1), ==, 1050);
  g_assert_cmpint (START (r, 4), ==, 150);
  g_assert_cmpint (END (r, 4), ==, 1208);
  g_assert_cmpint (START (r, 3), ==, 1208);
  g_assert_cmpint (END (r, 2), ==, 5000);

  /* Without the session the shadow is 1000: C (150 + 1020 > 1000) cannot
   * pass H, which starts at 1000. */
  g_autoptr(MnSimWorkload) w2 = mn_sim_workload_new ();
  add_batch (w2, 1, MN_RTYPE_H, 0, 1000);
  add_batch (w2, 2, MN_RTYPE_F, 0, 5000);
  add_batch (w2, 3, MN_RTYPE_F, 50, 100);
  add_batch (w2, 4, MN_RTYPE_C1, 150, 1020);
  g_autoptr(MnSimResult) r2 = replay (w2, "", 2, 0);
  g_assert_cmpint (START (r2, 3), ==, 1000);
  g_assert_cmpint (START (r2, 4), ==, 1100);
}

/* A full-node job leaves 16G of headroom: a 60G session waits for it to
 * end (wait), or is refused (give_up); an 8G one starts at once. */
static void
test_headroom (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_batch (w, 1, MN_RTYPE_F, 0, 1000);
  add_session (w, 10, "alice", 100, 200, 1.0, 60 * GIB);
  add_session (w, 11, "bob", 120, 200, 0.0, 8 * GIB);
  g_autoptr(MnSimResult) r = replay (w, "oversubscribe.design=oversubscribe", 1, -1);
  g_assert_cmpint (START (r, 10), ==, 1000);
  g_assert_cmpint (mn_sim_result_lookup (r, 10)->wait_reason, ==, MN_WAIT_MEMORY);
  g_assert_cmpint (START (r, 11), ==, 120);
  /* bob's kernel is idle from the start: A is not slowed by him, and alice
   * came after A */
  g_assert_cmpint (END (r, 1), ==, 1000);

  g_autoptr(MnSimResult) g = replay (w, "oversubscribe.design=oversubscribe queue.if_busy=give_up", 1, -1);
  g_assert_cmpint (mn_sim_result_lookup (g, 10)->status, ==, MN_SIM_STATUS_REJECTED);
  g_assert_cmpint (mn_sim_result_lookup (g, 10)->reason, ==, MN_REJECT_BUSY_GIVE_UP);
}

/* max_extra_jobs_per_node = 1 on one node: the second session waits for
 * the first; A is slowed over both (100..300 and 300..500 at 75%): 400 s
 * of work by 500, 600 left: it ends at 1100. */
static void
test_extra_limit (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_batch (w, 1, MN_RTYPE_F, 0, 1000);
  add_session (w, 10, "alice", 100, 200, 1.0, 8 * GIB);
  add_session (w, 11, "bob", 110, 200, 1.0, 8 * GIB);
  g_autoptr(MnSimResult) r = replay (w, "oversubscribe.design=oversubscribe "
                                        "oversubscribe.max_extra_jobs_per_node=1", 1, -1);
  g_assert_cmpint (START (r, 11), ==, 300);
  g_assert_cmpint (mn_sim_result_lookup (r, 11)->wait_reason, ==, MN_WAIT_SLOTS);
  g_assert_cmpint (END (r, 1), ==, 1100);

  /* Two at once at the default limit (2): 50% from 110 to 300. */
  g_autoptr(MnSimResult) r2 = replay (w, "oversubscribe.design=oversubscribe", 1, -1);
  g_assert_cmpint (START (r2, 11), ==, 110);
  /* 100 + 10 x 0.75 + 190 x 0.5 + 10 x 0.75 = 210 by 310; 790 left: 1100 */
  g_assert_cmpint (END (r2, 1), ==, 1100);
}

/* Hybrid: one dedicated slot first, a batch node when it is full; the
 * per-user limit counts both. */
static void
test_hybrid (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_batch (w, 1, MN_RTYPE_F, 0, 1000);
  add_session (w, 10, "alice", 100, 200, 1.0, 8 * GIB);
  add_session (w, 11, "bob", 110, 200, 1.0, 8 * GIB);
  add_session (w, 12, "bob", 120, 200, 1.0, 8 * GIB);
  g_autoptr(MnSimResult) r = replay (w, "oversubscribe.design=hybrid logical_node.per_node=1 "
                                        "logical_node.max_jobs=1", 2, 1);
  const MnSimMetrics *m = mn_sim_result_get_metrics (r);
  g_assert_cmpint (START (r, 10), ==, 100);
  g_assert_cmpint (START (r, 11), ==, 110);
  g_assert_cmpint (mn_sim_result_lookup (r, 12)->status, ==, MN_SIM_STATUS_REJECTED);
  g_assert_cmpint (mn_sim_result_lookup (r, 12)->reason, ==, MN_REJECT_PER_USER_LIMIT);
  g_assert_cmpuint (m->oversub.started_dedicated, ==, 1);
  g_assert_cmpuint (m->oversub.started_shared, ==, 1);
  /* bob shared A's node from 110 to 310: 50 s late */
  g_assert_cmpint (END (r, 1), ==, 1050);
  g_assert_cmpuint (m->interactive_nodes, ==, 1);
}

/* design = dedicated: nothing over-subscribes, the JSON has no such object. */
static void
test_dedicated_untouched (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  add_batch (w, 1, MN_RTYPE_F, 0, 1000);
  add_session (w, 10, "alice", 100, 200, 1.0, 8 * GIB);
  g_autoptr(MnSimResult) r = replay (w, "", 2, 1);
  g_autofree gchar *json = mn_sim_result_to_json_text (r, NULL);
  g_assert_cmpint (END (r, 1), ==, 1000);
  g_assert_false (mn_sim_result_get_metrics (r)->oversub.on);
  g_assert_null (strstr (json, "oversubscribe"));
  /* The baseline of an over-subscribing policy (no interactive nodes) is a
   * plain all.q too. */
  g_autoptr(MnSimResult) b = replay (w, "oversubscribe.design=oversubscribe", 1, 0);
  g_assert_false (mn_sim_result_get_metrics (b)->oversub.on);
  g_assert_cmpint (mn_sim_result_lookup (b, 10)->queue, ==, MN_SIM_QUEUE_ALL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/oversub/stretch", test_stretch);
  g_test_add_func ("/sim/oversub/stretch-until-idle", test_stretch_idle);
  g_test_add_func ("/sim/oversub/backfill-sees-stretch", test_backfill_sees_stretch);
  g_test_add_func ("/sim/oversub/headroom", test_headroom);
  g_test_add_func ("/sim/oversub/extra-jobs-limit", test_extra_limit);
  g_test_add_func ("/sim/oversub/hybrid", test_hybrid);
  g_test_add_func ("/sim/oversub/dedicated-untouched", test_dedicated_untouched);
  return g_test_run ();
}
