/* test-sim-easy.c: golden tests of all.q on small hand-built traces, each
 * where one EASY rule matters.  The expected start times are worked out by
 * hand in the comments (P = processors, "est" = the estimate, i.e. the
 * requested time, "run" = the runtime). */
#define G_LOG_DOMAIN "test-sim"

#include <glib/gstdio.h>

#include "mn-sim-engine.h"

typedef struct {
  gint64 id, submit, procs, runtime, estimate, expect_start;
} GJob;

typedef struct {
  const gchar   *path;
  MnSimScheduler scheduler;
  gint64         procs;
  const GJob    *jobs;      /* terminated by id 0 */
} GCase;

/* P = 10.
 *  t=0  J1 (6p, 100 s) starts; 4 free.
 *  t=1  J2 (8p) does not fit: the head.  Releasing J1 at 100 frees 10 >= 8,
 *       so shadow = 100, extra = 10 - 8 = 2.
 *  t=2  J3 (4p, est 50): fits the 4 free and 2 + 50 = 52 <= 100: starts at 2.
 *  t=3  J4 (2p, est 200): nothing free.
 *  t=52 J3 ends: 4 free; J4 ends after the shadow (252 > 100) but 2 <= extra
 *       2: it must backfill now, at 52.
 *  t=100 J1 ends: 10 - 2 = 8 free: J2 starts at 100. */
static const GJob backfill_happens[] = {
  { 1, 0, 6, 100, 100, 0 },
  { 2, 1, 8, 50, 50, 100 },
  { 3, 2, 4, 50, 50, 2 },
  { 4, 3, 2, 200, 200, 52 },
  { 0 }
};

/* The same start, but J3 asks for 150 s (runs 50):
 *  t=2  J3: 2 + 150 = 152 > 100 and 4 > extra 2: it must NOT start, it would
 *       delay J2.
 *  t=3  J4 (3p, est 96, run 10): 3 + 96 = 99 <= 100 and 3 <= 4 free: starts
 *       at 3, ends at 13 (which changes nothing for J3).
 *  t=100 J1 ends: J2 starts (2 free left); J3 is the head: J2's expected end
 *       150 frees 10, shadow 150.
 *  t=150 J2 ends: J3 starts at 150. */
static const GJob backfill_must_not[] = {
  { 1, 0, 6, 100, 100, 0 },
  { 2, 1, 8, 50, 50, 100 },
  { 3, 2, 4, 50, 150, 150 },
  { 4, 3, 3, 10, 96, 3 },
  { 0 }
};

/* P = 4.  Completions before arrivals, one pass per instant.
 *  t=0  J1 (4p, 10 s) starts.
 *  t=5  J3 (2p, 5 s) waits: nothing free.
 *  t=10 J1 ends FIRST (4 free), then J2 (4p) and J4 (2p, est 5) arrive; the
 *       queue is J3 (submit 5), J2, J4 (same submit, id order).  J3 starts
 *       (2 free left); J2 is the head: J3's expected end 15 frees 4, shadow 15;
 *       J4 ends at 10 + 5 = 15 <= 15: it backfills at 10.
 *  t=15 J3 and J4 end at the same instant: 4 free: J2 starts at 15. */
static const GJob simultaneous[] = {
  { 1, 0, 4, 10, 10, 0 },
  { 2, 10, 4, 10, 10, 15 },
  { 3, 5, 2, 5, 5, 10 },
  { 4, 10, 2, 5, 5, 10 },
  { 0 }
};

/* P = 4.  Ties in submit time are ordered by job id, not by file order (the
 * file lists 7, 5, 6).
 *  t=0  the queue is J5 (4p, 20 s), J6 (1p, 5 s), J7 (4p, 10 s): J5 starts;
 *       J6 is the head and nothing is free.
 *  t=20 J5 ends: J6 starts (3 free); J7 is the head, shadow = 25 (J6's end).
 *  t=25 J7 starts. */
static const GJob submit_ties[] = {
  { 7, 0, 4, 10, 10, 25 },
  { 5, 0, 4, 20, 20, 0 },
  { 6, 0, 1, 5, 5, 20 },
  { 0 }
};

/* backfill_happens under plain FCFS: nothing overtakes.
 *  t=100 J2 starts (8p, ends 150); J3 (4p) does not fit in 2.
 *  t=150 J2 ends: J3 and J4 start at 150. */
static const GJob fcfs[] = {
  { 1, 0, 6, 100, 100, 0 },
  { 2, 1, 8, 50, 50, 100 },
  { 3, 2, 4, 50, 50, 150 },
  { 4, 3, 2, 200, 200, 150 },
  { 0 }
};

/* P = 10.  Long backfilled jobs take their processors from the extra.
 *  t=0  J1 (6p, 100 s) starts.  t=1 J2 (8p, run 50) blocked: shadow 100,
 *       extra 2.
 *  t=2  J3 (1p, 500 s): ends after the shadow, 1 <= extra 2: starts; extra 1.
 *  t=3  J4 (2p, 500 s): 2 > extra 1: waits.
 *  t=4  J5 (1p, 500 s): 1 <= extra 1: starts; extra 0.
 *  t=100 J1 ends: 10 - 2 = 8 free: J2 starts; J4 is the head.
 *  t=150 J2 ends: J4 starts at 150. */
static const GJob extra_taken[] = {
  { 1, 0, 6, 100, 100, 0 },
  { 2, 1, 8, 50, 50, 100 },
  { 3, 2, 1, 500, 500, 2 },
  { 4, 3, 2, 500, 500, 150 },
  { 5, 4, 1, 500, 500, 4 },
  { 0 }
};

/* Skips: a job wider than P, a negative runtime; neither blocks the rest.
 * An estimate below the runtime is raised to the runtime: J3 asks 10 s but
 * runs 60, so its expected end is 60, not 10.
 *  t=0  J3 (9p) starts; 1 free.
 *  t=1  J4 (10p) is the head: shadow 60 (not 10), extra 0.
 *  t=2  J5 (1p, est 50): 2 + 50 = 52 <= 60: backfills at 2 (with shadow 10 it
 *       could not).
 *  t=60 J3 ends: J4 starts. */
static const GJob skips_and_estimates[] = {
  { 1, 0, 11, 10, 10, -1 },
  { 2, 0, 2, -1, 10, -1 },
  { 3, 0, 9, 60, 10, 0 },
  { 4, 1, 10, 5, 5, 60 },
  { 5, 2, 1, 50, 50, 2 },
  { 0 }
};

static const GCase cases[] = {
  { "/sim/easy/backfill-happens", MN_SIM_SCHEDULER_EASY, 10, backfill_happens },
  { "/sim/easy/backfill-must-not", MN_SIM_SCHEDULER_EASY, 10, backfill_must_not },
  { "/sim/easy/simultaneous-completions-and-arrivals", MN_SIM_SCHEDULER_EASY, 4, simultaneous },
  { "/sim/easy/submit-time-ties", MN_SIM_SCHEDULER_EASY, 4, submit_ties },
  { "/sim/easy/extra-taken", MN_SIM_SCHEDULER_EASY, 10, extra_taken },
  { "/sim/easy/skips-and-estimates", MN_SIM_SCHEDULER_EASY, 10, skips_and_estimates },
  { "/sim/fcfs/no-backfill", MN_SIM_SCHEDULER_FCFS, 10, fcfs },
};

static MnSimWorkload *
workload_from (const GJob *jobs)
{
  MnSimWorkload *w = mn_sim_workload_new ();
  for (const GJob *g = jobs; g->id != 0; g++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      j->id = g->id;
      j->submit = g->submit;
      j->procs = g->procs;
      j->runtime = g->runtime;
      j->walltime_req = g->estimate;
      j->user = g_strdup_printf ("u%" G_GINT64_FORMAT, g->id);
      mn_sim_workload_add_job (w, j);
    }
  return w;
}

static void
test_case (gconstpointer data)
{
  const GCase *c = data;
  g_autoptr(MnSimWorkload) w = workload_from (c->jobs);
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.scheduler = c->scheduler;
  config.procs = c->procs;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSimResult) r = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  for (const GJob *g = c->jobs; g->id != 0; g++)
    {
      const MnSimJobResult *jr = mn_sim_result_lookup (r, g->id);
      g_assert_nonnull (jr);
      if (jr->start != g->expect_start)
        g_test_message ("job %" G_GINT64_FORMAT ": start %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                        g->id, jr->start, g->expect_start);
      g_assert_cmpint (jr->start, ==, g->expect_start);
      if (g->expect_start >= 0)
        g_assert_cmpint (jr->end, ==, jr->start + g->runtime);
      else
        g_assert_cmpint (jr->status, ==, MN_SIM_STATUS_SKIPPED);
    }
}

/* Node mode, 2 nodes of 28 cores, 4 GPUs, 256 GB (the policy's defaults).
 *  t=0  J1 F x1 (100 s) takes node 0.
 *  t=1  J2 F x2 (run 10) is the head: it needs both nodes; shadow 100 (J1's
 *       end); the extra is empty (J2 fills both nodes at 100).
 *  t=2  J3 Q x4 (est 50) packs onto node 1 (4 x 7 cores, 4 GPUs, 240 GB)
 *       and ends at 52 <= 100: starts at 2.
 *  t=3  J4 C1 x1 (1000 s): nothing free.   t=4 J5 H x1 (10 s): nothing free.
 *  t=52 J3 ends, node 1 is free: J4 would end after the shadow and the extra
 *       is empty: no; J5 ends at 62 <= 100: starts at 52.
 *  t=100 J1 ends: J2 takes both nodes; J4 starts when J2 ends, at 110. */
static void
test_node_mode (void)
{
  static const struct { gint64 id, submit; MnResourceType t; guint n; gint64 run, est, expect; } jobs[] = {
    { 1, 0, MN_RTYPE_F, 1, 100, 100, 0 },
    { 2, 1, MN_RTYPE_F, 2, 10, 10, 100 },
    { 3, 2, MN_RTYPE_Q, 4, 50, 50, 2 },
    { 4, 3, MN_RTYPE_C1, 1, 1000, 1000, 110 },
    { 5, 4, MN_RTYPE_H, 1, 10, 10, 52 },
  };
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      j->id = jobs[i].id;
      j->submit = jobs[i].submit;
      j->rtype = jobs[i].t;
      j->rtype_count = jobs[i].n;
      j->runtime = jobs[i].run;
      j->walltime_req = jobs[i].est;
      j->user = g_strdup ("u");
      mn_sim_workload_add_job (w, j);
    }
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.machine_nodes = 2;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSimResult) r = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mn_sim_result_get_metrics (r)->node_mode);
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    g_assert_cmpint (mn_sim_result_lookup (r, jobs[i].id)->start, ==, jobs[i].expect);
}

/* The same inputs give byte-identical outputs; the CSV is sorted by id. */
static void
test_deterministic_output (void)
{
  g_autoptr(MnSimWorkload) w = workload_from (extra_taken);
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.procs = 10;
  g_autofree gchar *dir = g_dir_make_tmp ("test-sim-XXXXXX", NULL);
  g_autofree gchar *texts[2][2] = { { NULL } };
  for (int k = 0; k < 2; k++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MnSimResult) r = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_autofree gchar *csv = g_build_filename (dir, "jobs.csv", NULL);
      g_autofree gchar *json = g_build_filename (dir, "metrics.json", NULL);
      g_assert_true (mn_sim_result_write_jobs_csv (r, csv, &error));
      g_assert_true (mn_sim_result_write_json (r, NULL, json, &error));
      g_assert_true (g_file_get_contents (csv, &texts[k][0], NULL, NULL));
      g_assert_true (g_file_get_contents (json, &texts[k][1], NULL, NULL));
      g_unlink (csv);
      g_unlink (json);
    }
  g_rmdir (dir);
  g_assert_cmpstr (texts[0][0], ==, texts[1][0]);
  g_assert_cmpstr (texts[0][1], ==, texts[1][1]);
  g_assert_true (g_str_has_prefix (texts[0][0], "job_id,class,user,submit,start,end,wait,"));
  g_auto(GStrv) lines = g_strsplit (texts[0][0], "\n", -1);
  g_assert_true (g_str_has_prefix (lines[1], "1,batch,u1,0,0,100,0,"));
  g_assert_true (g_str_has_prefix (lines[4], "4,batch,u4,3,150,650,147,"));
  for (int k = 0; k < 2; k++)
    {
      g_free (texts[k][0]);
      g_free (texts[k][1]);
      texts[k][0] = texts[k][1] = NULL;
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], test_case);
  g_test_add_func ("/sim/easy/node-mode", test_node_mode);
  g_test_add_func ("/sim/output/deterministic", test_deterministic_output);
  return g_test_run ();
}
