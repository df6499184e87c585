/* test-sweep.c: scenario files, point expansion, targets, margins, the
 * minimise order, the recommendation and the result files, on the fake
 * simulator (mn-sweep-fake.c). */
#define G_LOG_DOMAIN "minna-sweep-test"

#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "mn-sweep-commands.h"
#include "mn-sweep-fake.h"
#include "mn-sweep-check.h"
#include "mn-sweep-world.h"

static gchar *
data_path (const gchar *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "sweep", name, NULL);
}

static MnSweepScenario *
load (const gchar *name)
{
  g_autofree gchar *path = data_path (name);
  g_autoptr (GError) error = NULL;
  MnSweepScenario *s = mn_sweep_scenario_load_file (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

static MnSweepResults *
run_fake (const MnSweepScenario *s, guint threads)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) points = mn_sweep_points_expand (s, &error);
  g_autoptr (MnSweepRunner) runner = mn_sweep_fake_runner_new (s, NULL);
  MnSweepResults *r;

  g_assert_no_error (error);
  r = mn_sweep_run (s, points, runner, threads, TRUE, &error);
  g_assert_no_error (error);
  return r;
}

/* ---- units ------------------------------------------------------------------ */

static void
test_units (void)
{
  static const struct { const gchar *text; gint64 mib; gboolean ok; } sizes[] = {
    { "60G", 61440, TRUE }, { "1.5T", 1572864, TRUE }, { "512M", 512, TRUE }, { "0", 0, TRUE },
    { "768 GiB", 786432, TRUE }, { "-1G", 0, FALSE }, { "60X", 0, FALSE }, { "", 0, FALSE },
    { "0.3M", 0, FALSE },
  };
  static const struct { const gchar *text; gint64 s; gboolean ok; } durations[] = {
    { "60", 60, TRUE }, { "60s", 60, TRUE }, { "30m", 1800, TRUE }, { "2h", 7200, TRUE },
    { "1d", 86400, TRUE }, { "1.5h", 5400, TRUE }, { "1w", 0, FALSE }, { "h", 0, FALSE },
  };
  gdouble share;

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      gint64 v = -1;

      g_assert_cmpint (mn_sweep_parse_size (sizes[i].text, &v), ==, sizes[i].ok);
      if (sizes[i].ok)
        g_assert_cmpint (v, ==, sizes[i].mib);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (durations); i++)
    {
      gint64 v = -1;

      g_assert_cmpint (mn_sweep_parse_duration (durations[i].text, &v), ==, durations[i].ok);
      if (durations[i].ok)
        g_assert_cmpint (v, ==, durations[i].s);
    }
  g_assert_true (mn_sweep_parse_share ("99%", &share));
  g_assert_cmpfloat_with_epsilon (share, 0.99, 1e-12);
  g_assert_true (mn_sweep_parse_share ("0.05", &share));
  g_assert_cmpfloat_with_epsilon (share, 0.05, 1e-12);
  g_assert_false (mn_sweep_parse_share ("5 percent", &share));
  {
    g_autofree gchar *a = mn_sweep_format_param (MN_SWEEP_PARAM_SWAP, 1536 * 1024);
    g_autofree gchar *b = mn_sweep_format_param (MN_SWEEP_PARAM_SWAP, 768 * 1024);
    g_autofree gchar *c = mn_sweep_format_param (MN_SWEEP_PARAM_IDLE_TIMEOUT, 0);
    g_autofree gchar *d = mn_sweep_format_param (MN_SWEEP_PARAM_GPU_MODE, MN_GPU_MODE_CAPPED);

    g_assert_cmpstr (a, ==, "1536G");
    g_assert_cmpstr (b, ==, "768G");
    g_assert_cmpstr (c, ==, "off");
    g_assert_cmpstr (d, ==, "capped");
  }
}

/* ---- the scenario corpus ------------------------------------------------ */

static void
test_corpus_good (gconstpointer data)
{
  g_autoptr (MnSweepScenario) s = load (data);

  if (s->world)
    {
      /* a generated world: seeds, no trace file */
      g_assert_null (s->trace_path);
      g_assert_cmpint (s->seeds->len, ==, 3);
      g_assert_cmpint (g_array_index (s->seeds, guint64, 2), ==, 7);
      g_assert_true (s->knobs[MN_WORLD_LOAD].set);
      g_assert_cmpfloat (s->knobs[MN_WORLD_LOAD].value, ==, 1.1);
      g_assert_false (s->knobs[MN_WORLD_GPU_SHARE].set);
      g_assert_true (s->targets[MN_TARGET_ADMITTED_SHARE].set);
      g_assert_true (s->targets[MN_TARGET_GPU_FAILURES].set);
      return;
    }
  g_assert_nonnull (s->trace_path);
  g_assert_true (g_path_is_absolute (s->trace_path));
  g_assert_true (g_str_has_suffix (s->trace_path, "/tests/data/sweep/tiny.swf"));
  /* a trace file is one run */
  g_assert_false (s->world);
  g_assert_cmpint (s->seeds->len, ==, 1);
}

/* n_*.scenario: the first line says "# error: [LINE: ]TEXT"; the message must
 * name FILE:LINE and contain TEXT. */
static void
test_corpus_bad (gconstpointer data)
{
  g_autofree gchar *path = data_path (data);
  g_autofree gchar *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MnSweepScenario) s = NULL;
  g_auto (GStrv) lines = NULL;
  const gchar *expect;
  gchar *end = NULL;
  gint64 line;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", 2);
  g_assert_true (g_str_has_prefix (lines[0], "# error: "));
  expect = lines[0] + strlen ("# error: ");
  line = g_ascii_strtoll (expect, &end, 10);
  s = mn_sweep_scenario_load_file (path, &error);
  g_assert_null (s);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  if (end != expect && *end == ':')
    {
      g_autofree gchar *where = g_strdup_printf ("%s:%" G_GINT64_FORMAT ": ", (const gchar *) data, line);

      g_assert_nonnull (strstr (error->message, where));
      expect = end + 2;
    }
  else
    g_assert_nonnull (strstr (error->message, (const gchar *) data));
  g_assert_nonnull (strstr (error->message, expect));
}

static void
test_scenario_values (void)
{
  g_autoptr (MnSweepScenario) s = load ("y_ranges.scenario");
  static const gint64 nodes[] = { 1, 2, 3, 8 };
  static const gint64 jpl[] = { 1, 4, 7 };
  static const gint64 mem[] = { 32768, 49152, 65536 };
  GArray *v;

  g_assert_cmpstr (s->name, ==, "ranges");
  g_assert_cmpint (s->interactive, ==, MN_INTERACTIVE_BY_RULE);
  g_assert_cmpint (s->interactive_max_procs, ==, 8);
  g_assert_cmpint (s->interactive_max_runtime, ==, 7200);
  g_assert_cmpint (s->max_jobs, ==, 100);
  g_assert_cmpint (s->machine_nodes, ==, 0);
  g_assert_cmpint (s->machine_procs, ==, 100);
  g_assert_cmpstr (mn_sweep_scenario_scheduler (s), ==, "fcfs");
  g_assert_cmpstr (mn_sweep_scenario_trace_format (s), ==, "swf");
  v = s->values[MN_SWEEP_PARAM_NODES];
  g_assert_cmpmem (v->data, v->len * sizeof (gint64), nodes, sizeof nodes);
  v = s->values[MN_SWEEP_PARAM_JOBS_PER_LOGICAL];
  g_assert_cmpmem (v->data, v->len * sizeof (gint64), jpl, sizeof jpl);
  v = s->values[MN_SWEEP_PARAM_MEMORY_CAP];
  g_assert_cmpmem (v->data, v->len * sizeof (gint64), mem, sizeof mem);
  g_assert_cmpint (s->values[MN_SWEEP_PARAM_SWAP]->len, ==, 3);
  g_assert_cmpint (g_array_index (s->values[MN_SWEEP_PARAM_SWAP], gint64, 2), ==, 1536 * 1024);
  g_assert_cmpint (s->values[MN_SWEEP_PARAM_GPU_MODE]->len, ==, 3);
  g_assert_cmpint (g_array_index (s->values[MN_SWEEP_PARAM_IDLE_TIMEOUT], gint64, 1), ==, 1800);
  g_assert_true (s->targets[MN_TARGET_IMMEDIATE_SHARE].set);
  g_assert_cmpfloat_with_epsilon (s->targets[MN_TARGET_IMMEDIATE_SHARE].limit, 0.99, 1e-12);
  g_assert_cmpfloat (s->targets[MN_TARGET_WAIT_P99].limit, ==, 60);
  g_assert_cmpint (s->minimise->len, ==, 3);
  g_assert_true (g_array_index (s->minimise, MnMinimiseKey, 1).larger_first);
  g_assert_cmpint (g_array_index (s->minimise, MnMinimiseKey, 1).param, ==, MN_SWEEP_PARAM_MEMORY_CAP);
}

static void
test_scenario_defaults (void)
{
  g_autoptr (MnSweepScenario) s = load ("y_minimal.scenario");
  g_autoptr (MnPolicyConfig) def = mn_policy_config_new_default ();

  g_assert_cmpstr (s->name, ==, "y_minimal");
  g_assert_cmpint (s->machine_nodes, ==, 540);
  g_assert_cmpint (s->interactive, ==, MN_INTERACTIVE_BY_TRACE);
  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    g_assert_cmpint (s->values[p]->len, ==, 1);
  g_assert_cmpint (g_array_index (s->values[MN_SWEEP_PARAM_NODES], gint64, 0), ==, def->nodes);
  g_assert_cmpint (g_array_index (s->values[MN_SWEEP_PARAM_SWAP], gint64, 0), ==, def->node_swap_mb);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    g_assert_false (s->targets[k].set);
  /* default order: nodes, swap, jobs_per_logical */
  g_assert_cmpint (s->minimise->len, ==, 3);
  g_assert_cmpint (g_array_index (s->minimise, MnMinimiseKey, 0).param, ==, MN_SWEEP_PARAM_NODES);
}

static void
test_scenario_unreadable (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MnSweepScenario) s = mn_sweep_scenario_load_file ("/nonexistent/x.scenario", &error);

  g_assert_null (s);
  g_assert_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/x.scenario"));
}

static void
test_classify (void)
{
  g_autoptr (MnSweepScenario) q = load ("y_queue.scenario");
  g_autoptr (MnSweepScenario) r = load ("y_ranges.scenario");
  g_autoptr (MnTraceJob) job = g_new0 (MnTraceJob, 1);

  job->queue = g_strdup ("interactive.q");
  job->procs = 4;
  job->runtime = 3600;
  mn_sweep_scenario_classify (q, job);
  g_assert_true (job->interactive);
  g_free (job->queue);
  job->queue = g_strdup ("1");
  mn_sweep_scenario_classify (q, job);
  g_assert_false (job->interactive);
  /* rule: procs <= 8 and runtime <= 2 h */
  mn_sweep_scenario_classify (r, job);
  g_assert_true (job->interactive);
  job->runtime = 7201;
  mn_sweep_scenario_classify (r, job);
  g_assert_false (job->interactive);
  job->runtime = 60;
  job->procs = 9;
  mn_sweep_scenario_classify (r, job);
  g_assert_false (job->interactive);
  g_free (job->queue);
  job->queue = NULL;
}

/* Mangled scenario files give an error or a scenario, never a crash. */
static void
test_scenario_fuzz (void)
{
  g_autofree gchar *path = data_path ("y_ranges.scenario");
  g_autofree gchar *text = NULL;
  gsize len = 0;
  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  static const gchar pieces[] = "[]=,.:-%#\n 0123456789GTMhms..;\\";

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  for (guint round = 0; round < 3000; round++)
    {
      g_autofree gchar *copy = g_memdup2 (text, len + 1);
      gsize n = len;
      guint edits = g_rand_int_range (rng, 1, 8);
      g_autoptr (GError) error = NULL;
      g_autoptr (MnSweepScenario) s = NULL;

      for (guint e = 0; e < edits; e++)
        {
          gsize at = g_rand_int_range (rng, 0, (gint32) n);

          switch (g_rand_int_range (rng, 0, 3))
            {
            case 0: copy[at] = pieces[g_rand_int_range (rng, 0, sizeof pieces - 1)]; break;
            case 1: copy[at] = (gchar) g_rand_int_range (rng, 1, 256); break;
            default: n = at; copy[n] = '\0'; break;
            }
          if (n == 0)
            break;
        }
      s = mn_sweep_scenario_load_data (copy, n, path, &error);
      g_assert_true ((s == NULL) != (error == NULL));
      if (s != NULL)
        {
          g_autoptr (GPtrArray) points = mn_sweep_points_expand (s, &error);

          g_assert_true ((points == NULL) != (error == NULL));
        }
      else
        g_assert_true (g_str_has_prefix (error->message, path));
    }
}

/* scenarios/README.md carries the table's reference, word for word. */
static void
test_readme_in_sync (void)
{
  g_autofree gchar *path = g_build_filename (g_getenv ("MINNA_SOURCE_DIR"), "scenarios", "README.md", NULL);
  g_autofree gchar *readme = NULL;
  g_autofree gchar *keys = mn_sweep_scenario_describe_keys ();

  g_assert_true (g_file_get_contents (path, &readme, NULL, NULL));
  if (strstr (readme, keys) == NULL)
    g_error ("scenarios/README.md is out of date: paste in `minna-sim run --keys`");
}

/* ---- points ----------------------------------------------------------------- */

static void
test_expand (void)
{
  g_autoptr (MnSweepScenario) s = load ("y_ranges.scenario");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) points = mn_sweep_points_expand (s, &error);
  MnSweepPoint *p;

  g_assert_no_error (error);
  /* 4 nodes x 3 jpl x 3 mem x 3 swap x 3 gpu x 3 idle */
  g_assert_cmpint (points->len, ==, 4 * 3 * 3 * 3 * 3 * 3);
  p = g_ptr_array_index (points, 0);
  g_assert_cmpint (p->index, ==, 0);
  g_assert_cmpint (p->values[MN_SWEEP_PARAM_NODES], ==, 1);
  g_assert_cmpint (p->values[MN_SWEEP_PARAM_IDLE_TIMEOUT], ==, 0);
  /* the last parameter turns fastest */
  p = g_ptr_array_index (points, 1);
  g_assert_cmpint (p->values[MN_SWEEP_PARAM_IDLE_TIMEOUT], ==, 1800);
  g_assert_cmpint (p->values[MN_SWEEP_PARAM_NODES], ==, 1);
  p = g_ptr_array_index (points, 3 * 3 * 3 * 3 * 3);
  g_assert_cmpint (p->values[MN_SWEEP_PARAM_NODES], ==, 2);
  g_assert_cmpint (p->values[MN_SWEEP_PARAM_JOBS_PER_LOGICAL], ==, 1);
  /* the point's policy carries its values */
  p = g_ptr_array_index (points, points->len - 1);
  g_assert_cmpint (p->policy->nodes, ==, 8);
  g_assert_cmpint (p->policy->max_jobs_per_logical, ==, 7);
  g_assert_cmpint (p->policy->job_max_memory_mb, ==, 65536);
  g_assert_cmpint (p->policy->node_swap_mb, ==, 1536 * 1024);
  g_assert_cmpint (p->policy->gpu_mode, ==, MN_GPU_MODE_EXCLUSIVE);
  g_assert_cmpint (p->policy->idle_timeout, ==, 7200);
  {
    g_autofree gchar *d = mn_sweep_point_describe (p, FALSE);

    g_assert_cmpstr (d, ==, "nodes=8 jobs_per_logical=7 memory_cap=64G swap=1536G gpu_mode=exclusive idle_timeout=2h");
  }
}

/* ---- targets and the recommendation -------------------------------------- */

/* Worked by hand from the fake's formulas (mn-sweep-fake.c), points are
 * nodes 1..4 (outer) x jobs_per_logical 2, 4, 7:
 *   capacity = nodes x 4 x jpl must be >= 40 for the 10:00 peak (share 1.0,
 *   p99 0 s): (2,7)=56 (3,4)=48 (3,7) (4,4)=64 (4,7);
 *   jpl = 7 has swap in use 10% of the time > 5%: out go (2,7) (3,7) (4,7);
 *   batch wait +3% per node <= 10%: nodes <= 3, out goes (4,4).
 * Left: (3,4) = point (3-1) x 3 + 1 = 7. */
static void
test_recommend_by_hand (void)
{
  g_autoptr (MnSweepScenario) s = load ("fake-small.scenario");
  g_autoptr (MnSweepResults) r = run_fake (s, 2);
  const MnSweepOutcome *o;

  g_assert_cmpint (r->points->len, ==, 12);
  g_assert_cmpint (r->recommended, ==, 7);
  o = g_ptr_array_index (r->outcomes, 7);
  g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_NODES], ==, 3);
  g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_JOBS_PER_LOGICAL], ==, 4);
  g_assert_true (o->pass);
  g_assert_cmpint (o->runs[0].n_failed, ==, 0);
  /* margins: share 1.0 - 0.99; p99 60 - 0; kills 0 - 0; swap 0.05 - 0; batch 0.10 - 0.09 */
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_IMMEDIATE_SHARE].worst_margin, 0.01, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_WAIT_P99].worst_margin, 60, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_OOM_KILLS].worst_margin, 0, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_SWAP_SHARE].worst_margin, 0.05, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].value.median, 0.09, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].worst_margin, 0.01, 1e-9);
  /* (2,4): capacity 32, 10:00 starts 32 of 40 at once -> 0.8, worst hour 10 */
  o = g_ptr_array_index (r->outcomes, 4);
  g_assert_false (o->targets[MN_TARGET_IMMEDIATE_SHARE].pass);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_IMMEDIATE_SHARE].value.median, 0.8, 1e-9);
  g_assert_cmpint (o->runs[0].targets[MN_TARGET_IMMEDIATE_SHARE].worst_hour, ==, 10);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_WAIT_P99].value.median, 480, 1e-9);
  /* (4,4) passes everything but the batch cost: 12% > 10% */
  o = g_ptr_array_index (r->outcomes, 10);
  g_assert_cmpint (o->runs[0].n_failed, ==, 1);
  g_assert_false (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].pass);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].worst_margin, -0.02, 1e-9);
  /* the next smaller: nodes=2, closest (2,7) missing only the swap share */
  g_assert_cmpint (r->next_smaller, ==, 5);
  {
    g_autofree gchar *summary = mn_sweep_results_summary (r);

    g_test_message ("%s", summary);
    g_assert_nonnull (strstr (summary, "Recommended: point 7 of 12: nodes=3 jobs_per_logical=4"));
  }
}

/* The minimise order decides between points that all pass. */
static void
test_minimise_order (void)
{
  static const gchar *const text =
    "[trace]\npath = tiny.swf\n[sweep]\nnodes = 1..4\njobs_per_logical = 2, 4, 7\n"
    "memory_cap = 8G\n[targets]\nimmediate_share_every_hour = 99%%\n"
    "[minimise]\norder = %s\n";
  static const struct { const gchar *order; gint64 nodes, jpl; } cases[] = {
    { "nodes, jobs_per_logical", 2, 7 },   /* fewest nodes first: (2,7) */
    { "jobs_per_logical, nodes", 4, 4 },   /* least over-commit first: jpl 4 needs 3 nodes... */
    { "-nodes", 4, 4 },                    /* most nodes; ties go to the earlier point */
    { "nodes, -jobs_per_logical", 2, 7 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *data = g_strdup_printf (text, cases[i].order);
      g_autofree gchar *file = data_path ("inline.scenario");
      g_autoptr (GError) error = NULL;
      g_autoptr (MnSweepScenario) s = mn_sweep_scenario_load_data (data, strlen (data), file, &error);
      g_autoptr (MnSweepResults) r = NULL;
      const MnSweepOutcome *o;

      g_assert_no_error (error);
      r = run_fake (s, 1);
      g_assert_cmpint (r->recommended, >=, 0);
      o = g_ptr_array_index (r->outcomes, r->recommended);
      g_test_message ("order %s -> nodes=%" G_GINT64_FORMAT " jpl=%" G_GINT64_FORMAT, cases[i].order,
                      o->point->values[0], o->point->values[1]);
      if (i == 1)
        {
          /* jpl 2 never reaches 40 slots with <= 4 nodes (32); jpl 4 does at 3 nodes */
          g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_JOBS_PER_LOGICAL], ==, 4);
          g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_NODES], ==, 3);
          continue;
        }
      if (i == 2)
        {
          /* nodes=4: jpl 2 gives 32 slots (fails), jpl 4 is the earlier passing point */
          g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_NODES], ==, 4);
          g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_JOBS_PER_LOGICAL], ==, 4);
          continue;
        }
      g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_NODES], ==, cases[i].nodes);
      g_assert_cmpint (o->point->values[MN_SWEEP_PARAM_JOBS_PER_LOGICAL], ==, cases[i].jpl);
    }
}

static void
test_unreachable (void)
{
  g_autoptr (MnSweepScenario) s = load ("fake-unreachable.scenario");
  g_autoptr (MnSweepResults) r = run_fake (s, 2);
  g_autofree gchar *summary = mn_sweep_results_summary (r);
  g_autoptr (JsonNode) root = mn_sweep_results_to_json (r);
  JsonObject *top = json_node_get_object (root);
  JsonArray *failing = json_object_get_array_member (top, "failing");
  JsonObject *f;
  const MnSweepOutcome *o;

  g_test_message ("%s", summary);
  g_assert_cmpint (r->recommended, ==, -1);
  g_assert_cmpint (r->best, ==, 5);
  o = g_ptr_array_index (r->outcomes, 5);
  g_assert_cmpint (o->runs[0].n_failed, ==, 1);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_SWAP_SHARE].worst_margin, -0.05, 1e-9);
  g_assert_nonnull (strstr (summary, "No point meets every target"));
  g_assert_nonnull (strstr (summary, "FAIL swap_share"));
  g_assert_nonnull (strstr (summary, "fails by 5.00 points"));
  g_assert_null (mn_sweep_results_recommended_conf (r));
  g_assert_true (json_node_is_null (json_object_get_member (top, "recommended")));
  g_assert_cmpint (json_array_get_length (failing), ==, 1);
  f = json_array_get_object_element (failing, 0);
  g_assert_cmpstr (json_object_get_string_member (f, "target"), ==, "swap_share");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (f, "shortfall"), 0.05, 1e-9);
}

/* A target whose metric is missing fails (nobody measured it). */
static void
test_missing_metric (void)
{
  g_autoptr (MnSweepScenario) s = load ("fake-small.scenario");
  g_autoptr (GPtrArray) points = mn_sweep_points_expand (s, NULL);
  g_autoptr (GPtrArray) metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (MnSweepResults) r = NULL;
  const MnSweepOutcome *o;

  for (guint i = 0; i < points->len; i++)
    g_ptr_array_add (metrics, json_object_new ());
  r = mn_sweep_results_new (s, points, NULL, metrics);
  g_assert_cmpint (r->recommended, ==, -1);
  o = g_ptr_array_index (r->outcomes, 0);
  g_assert_cmpint (o->runs[0].n_failed, ==, 5);
  g_assert_true (isnan (o->targets[MN_TARGET_WAIT_P99].value.median));
  g_assert_true (isnan (o->targets[MN_TARGET_WAIT_P99].worst_margin));
}

/* ---- the rule over seeds, table-driven ----------------------------------- */

/* Metrics of one run as the engine's schema has them: 100 requests in every
 * hour of the day, @immediate of them started at once, @started of all
 * requests started at all, p99 wait @p99, batch mean wait 1050 s (the
 * baseline's 1000 s: +5%). */
static JsonObject *
synthetic_run (gdouble immediate, gdouble started, gdouble p99)
{
  JsonObject *m = json_object_new (), *inter = json_object_new (), *batch = json_object_new ();
  JsonArray *launches = json_array_new (), *now = json_array_new ();

  for (guint h = 0; h < 24; h++)
    {
      json_array_add_int_element (launches, 100);
      json_array_add_int_element (now, (gint64) round (100 * immediate));
    }
  json_object_set_int_member (inter, "requests", 2400);
  json_object_set_int_member (inter, "started", (gint64) round (2400 * started));
  json_object_set_int_member (inter, "rejected", 2400 - (gint64) round (2400 * started));
  json_object_set_object_member (inter, "rejected_by_reason", json_object_new ());
  json_object_set_double_member (inter, "share_immediate", immediate);
  json_object_set_double_member (inter, "wait_p99", p99);
  json_object_set_array_member (inter, "launches_by_hour", launches);
  json_object_set_array_member (inter, "immediate_by_hour", now);
  json_object_set_double_member (batch, "wait_mean", 1050);
  json_object_set_object_member (m, "interactive", inter);
  json_object_set_object_member (m, "batch", batch);
  return m;
}

typedef struct {
  gint    point;   /* -1 ends the list */
  gint    seed;    /* index; -1 = every seed */
  gchar   field;   /* 'i' immediate share, 's' started share, 'w' p99 wait */
  gdouble value;
} Override;

/* Points: nodes 1..3 (outer) x jobs_per_logical 4, 7, minimised in that
 * order: 0 = (1,4), 1 = (1,7), 2 = (2,4), 3 = (2,7), 4 = (3,4), 5 = (3,7).
 * Every run meets everything unless an override says otherwise. */
static const struct {
  const gchar *name;
  const gchar *seeds;
  const gchar *targets;
  Override     overrides[8];
  gint         recommended, best, next, next_seeds_passed;
} rule_cases[] = {
  { "cheapest-passing", "1..3", "immediate_share_every_hour = 99%",
    { { -1 } }, 0, 0, -1, 0 },
  /* (2,7) misses on seed 2 by a point: not an answer; it is the next
   * smaller, on 2 of 3 seeds */
  { "every-seed", "1..3", "immediate_share_every_hour = 99%",
    { { 0, -1, 'i', 0.9 }, { 1, -1, 'i', 0.9 }, { 2, -1, 'i', 0.9 }, { 3, 1, 'i', 0.98 }, { -1 } },
    4, 4, 3, 2 },
  /* the same on seed 1 alone: (2,7) is the answer */
  { "one-seed", "1", "immediate_share_every_hour = 99%",
    { { 0, -1, 'i', 0.9 }, { 1, -1, 'i', 0.9 }, { 2, -1, 'i', 0.9 }, { 3, 1, 'i', 0.98 }, { -1 } },
    3, 3, 0, 0 },
  /* only a wait target: (1,4) refuses everything (and so waits 0 s): never
   * recommended, and last among the next smaller's candidates */
  { "refuses-everything", "1..3", "wait_p99 = 60s",
    { { 0, -1, 's', 0 }, { 0, -1, 'i', 0 }, { 0, -1, 'w', 0 }, { 1, -1, 'w', 120 }, { -1 } },
    2, 2, 1, 0 },
  /* refusing everything on one seed fails that seed */
  { "refuses-on-one-seed", "1..3", "wait_p99 = 60s",
    { { 0, 2, 's', 0 }, { 0, 2, 'i', 0 }, { 0, 2, 'w', 0 }, { -1 } },
    1, 1, -1, 0 },
  { "admitted-share", "1..3", "admitted_share = 99%",
    { { 0, -1, 's', 0.95 }, { 1, -1, 's', 0.95 }, { -1 } },
    2, 2, 0, 0 },
  /* nothing passes: the closest fails on the fewest seeds */
  { "nothing-passes", "1..3", "immediate_share_every_hour = 99%",
    { { 0, -1, 'i', 0.9 }, { 1, -1, 'i', 0.9 }, { 2, -1, 'i', 0.9 }, { 3, -1, 'i', 0.9 },
      { 4, -1, 'i', 0.9 }, { 5, 2, 'i', 0.9 }, { -1 } },
    -1, 5, -1, 0 },
  /* nothing passes, and the point that refuses everything is not the
   * closest although it "waits" least */
  { "refuser-never-closest", "1..3", "wait_p99 = 60s",
    { { 0, -1, 's', 0 }, { 0, -1, 'i', 0 }, { 0, -1, 'w', 0 }, { 1, -1, 'w', 120 }, { 2, -1, 'w', 120 },
      { 3, -1, 'w', 120 }, { 4, -1, 'w', 120 }, { 5, -1, 'w', 120 }, },
    -1, 1, -1, 0 },
};

static void
test_rule_case (gconstpointer data)
{
  gsize c = GPOINTER_TO_SIZE (data);
  g_autofree gchar *text = g_strdup_printf ("[world]\nseeds = %s\n[sweep]\nnodes = 1..3\n"
                                            "jobs_per_logical = 4, 7\n[targets]\n%s\n"
                                            "[minimise]\norder = nodes, jobs_per_logical\n",
                                            rule_cases[c].seeds, rule_cases[c].targets);
  g_autofree gchar *file = data_path ("rule.scenario");
  g_autoptr (GError) error = NULL;
  g_autoptr (MnSweepScenario) s = mn_sweep_scenario_load_data (text, strlen (text), file, &error);
  g_autoptr (GPtrArray) points = NULL;
  g_autoptr (GPtrArray) metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (GPtrArray) baselines = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (MnSweepResults) r = NULL;
  guint n_seeds;

  g_assert_no_error (error);
  points = mn_sweep_points_expand (s, &error);
  g_assert_no_error (error);
  g_assert_cmpint (points->len, ==, 6);
  n_seeds = s->seeds->len;
  for (guint i = 0; i < points->len; i++)
    for (guint k = 0; k < n_seeds; k++)
      {
        gdouble imm = 1, started = 1, p99 = 0;

        for (const Override *o = rule_cases[c].overrides; o < rule_cases[c].overrides + 8 && o->point >= 0; o++)
          if (o->point == (gint) i && (o->seed < 0 || o->seed == (gint) k))
            {
              if (o->field == 'i')
                imm = o->value;
              else if (o->field == 's')
                started = o->value;
              else
                p99 = o->value;
            }
        g_ptr_array_add (metrics, synthetic_run (imm, started, p99));
      }
  for (guint k = 0; k < n_seeds; k++)
    {
      JsonObject *b = synthetic_run (0.5, 1, 3600);

      json_object_set_double_member (json_object_get_object_member (b, "batch"), "wait_mean", 1000);
      g_ptr_array_add (baselines, b);
    }
  r = mn_sweep_results_new (s, points, baselines, metrics);
  {
    g_autofree gchar *summary = mn_sweep_results_summary (r);

    g_test_message ("%s:\n%s", rule_cases[c].name, summary);
    if (rule_cases[c].recommended < 0)
      g_assert_nonnull (strstr (summary, "No point meets every target"));
    if (g_str_equal (rule_cases[c].name, "refuses-everything"))
      {
        const MnSweepOutcome *o = g_ptr_array_index (r->outcomes, 0);

        g_assert_true (o->refuses_all);
        g_assert_false (o->pass);
        /* the wait target is unmeasured there, not met with 0 s */
        g_assert_false (o->targets[MN_TARGET_WAIT_P99].pass);
        g_assert_true (isnan (o->targets[MN_TARGET_WAIT_P99].value.median));
      }
  }
  g_assert_cmpint (r->recommended, ==, rule_cases[c].recommended);
  g_assert_cmpint (r->best, ==, rule_cases[c].best);
  g_assert_cmpint (r->next_smaller, ==, rule_cases[c].next);
  if (r->next_smaller >= 0)
    {
      const MnSweepOutcome *n = g_ptr_array_index (r->outcomes, r->next_smaller);

      g_assert_cmpuint (n_seeds - n->seeds_failed, ==, rule_cases[c].next_seeds_passed);
    }
  if (g_str_equal (rule_cases[c].name, "every-seed"))
    {
      /* how close it came: the worst seed and its margin */
      const MnSweepOutcome *n = g_ptr_array_index (r->outcomes, 3);
      const MnTargetSummary *t = &n->targets[MN_TARGET_IMMEDIATE_SHARE];
      g_autoptr (JsonNode) root = mn_sweep_results_to_json (r);
      JsonObject *ns = json_object_get_object_member (json_node_get_object (root), "next_smaller");
      JsonObject *nt = json_object_get_object_member (json_object_get_object_member (ns, "targets"),
                                                      "immediate_share_every_hour");
      g_autofree gchar *summary = mn_sweep_results_summary (r);

      g_assert_cmpuint (t->seeds_failed, ==, 1);
      g_assert_cmpuint (t->worst_seed, ==, 1);
      g_assert_cmpfloat_with_epsilon (t->worst_margin, -0.01, 1e-9);
      g_assert_cmpfloat_with_epsilon (t->value.min, 0.98, 1e-9);
      g_assert_cmpfloat_with_epsilon (t->value.median, 1.0, 1e-9);
      g_assert_cmpint (json_object_get_int_member (ns, "index"), ==, 3);
      g_assert_cmpint (json_object_get_int_member (ns, "seeds_passed"), ==, 2);
      g_assert_cmpint (json_object_get_int_member (nt, "worst_seed"), ==, 2);
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (nt, "worst_margin"), -0.01, 1e-9);
      g_assert_nonnull (strstr (summary, "Next smaller: nodes=2 jobs_per_logical=7 meets every target on 2 of 3 seeds; "
                                         "immediate_share_every_hour missed on 1 seed, worst 1.00 points on seed 2 (98.00%)"));
    }
}

/* The fake over three seeds (tests/data/sweep/fake-seeds.scenario, worked
 * there by hand). */
static void
test_seeds_by_hand (void)
{
  g_autoptr (MnSweepScenario) s = load ("fake-seeds.scenario");
  g_autoptr (MnSweepResults) r = run_fake (s, 2);
  g_autoptr (JsonNode) root = mn_sweep_results_to_json (r);
  JsonObject *top = json_node_get_object (root);
  JsonArray *seeds = json_object_get_array_member (json_object_get_object_member (top, "scenario"), "seeds");
  JsonObject *p7 = json_array_get_object_element (json_object_get_array_member (top, "points"), 7);
  JsonArray *runs = json_object_get_array_member (p7, "runs");
  JsonObject *t = json_object_get_object_member (json_object_get_object_member (p7, "targets"),
                                                 "immediate_share_every_hour");
  const MnSweepOutcome *o;
  g_autofree gchar *csv = mn_sweep_results_to_csv (r);
  g_auto (GStrv) rows = g_strsplit (csv, "\n", -1);

  g_assert_cmpint (r->n_seeds, ==, 3);
  g_assert_cmpint (r->recommended, ==, 11);
  g_assert_cmpint (r->next_smaller, ==, 7);
  o = g_ptr_array_index (r->outcomes, 7);
  g_assert_cmpuint (o->seeds_failed, ==, 1);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_IMMEDIATE_SHARE].worst_margin, 56.0 / 60 - 0.99, 1e-9);
  /* the memory cap of 2G refuses everything: no such point passes */
  for (guint i = 0; i < r->outcomes->len; i += 2)
    {
      o = g_ptr_array_index (r->outcomes, i);
      g_assert_true (o->refuses_all);
      g_assert_false (o->pass);
    }
  /* results.json: the seeds, a run per seed, ranges */
  g_assert_cmpint (json_array_get_length (seeds), ==, 3);
  g_assert_cmpint (json_array_get_int_element (seeds, 2), ==, 3);
  g_assert_cmpint (json_array_get_length (runs), ==, 3);
  for (guint k = 0; k < 3; k++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (runs, k), "seed"), ==, k + 1);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (t, "min"), 56.0 / 60, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (t, "max"), 1.0, 1e-9);
  g_assert_cmpint (json_object_get_int_member (t, "seeds_failed"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (t, "worst_seed"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (p7, "seeds_passed"), ==, 2);
  g_assert_true (json_object_has_member (json_object_get_object_member (json_object_get_object_member (p7, "summary"),
                                                                        "share_immediate"), "median"));
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (json_object_get_object_member (top, "baseline"),
                                                                        "runs")), ==, 3);
  /* results.csv: a row per point and seed, the baseline's first */
  g_assert_cmpint (g_strv_length (rows), ==, 1 + 3 + 16 * 3 + 1);
  g_assert_true (g_str_has_prefix (rows[1], "-1,1,0,"));
  g_assert_true (g_str_has_prefix (rows[4 + 7 * 3 + 2], "7,3,2,7,"));
  /* one seed: (2,7) would be the answer */
  {
    g_autoptr (MnSweepScenario) one = load ("fake-seeds.scenario");
    g_autoptr (MnSweepResults) r1 = NULL;
    g_autoptr (GError) error = NULL;

    g_assert_true (mn_sweep_scenario_set_seeds (one, "1", &error));
    r1 = run_fake (one, 1);
    g_assert_cmpint (r1->recommended, ==, 7);
  }
}

/* Every [world] key reaches the generator's option of the same name, and
 * what is left out keeps the generator's default. */
static void
test_world_options (void)
{
  static const gchar *const text =
    "[world]\nseeds = 4\nfiscal_year = 2020\nmonths = 12\nload = 1.2\nmaintenance = false\n"
    "limits = no\ntrial_start = 202004\ninteractive_demand = 2\nregular_users = 80\n"
    "regular_users_next = 20\nlectures = mon 13:100\nlecture_size = 1.5\nwebapp_share = 40%\n"
    "webapp_to_allq = 0.1\ngpu_share = 0.5\ngpu_memory = 8G\nmemory_tail_share = 0.2\n"
    "memory_tail_alpha = 1.5\nbusy_share = 0.25\nbusy_cores = 2\nbusy_cores_heavy = 6\n"
    "[machine]\nnodes = 300\n";
  g_autofree gchar *file = data_path ("inline.scenario");
  g_autoptr (GError) error = NULL;
  g_autoptr (MnSweepScenario) s = mn_sweep_scenario_load_data (text, strlen (text), file, &error);
  g_autoptr (MnSweepScenario) bare = NULL;
  MnTraceGenOptions o, def;

  g_assert_no_error (error);
  mn_sweep_world_options (s, 4, &o);
  g_assert_cmpuint (o.seed, ==, 4);
  g_assert_cmpint (o.fiscal_year, ==, 2020);
  g_assert_cmpuint (o.nodes, ==, 300);
  g_assert_cmpuint (o.months, ==, 12);
  g_assert_cmpfloat (o.load_scale, ==, 1.2);
  g_assert_false (o.maintenance);
  g_assert_false (o.limits);
  g_assert_cmpint (o.trial_start, ==, 202004);
  g_assert_cmpfloat (o.interactive_demand, ==, 2);
  g_assert_cmpuint (o.regular_users, ==, 80);
  g_assert_cmpuint (o.regular_users_next, ==, 20);
  g_assert_cmpstr (o.lectures, ==, "mon 13:100");
  g_assert_cmpfloat (o.lecture_size, ==, 1.5);
  g_assert_cmpfloat_with_epsilon (o.webapp_share, 0.4, 1e-12);
  g_assert_cmpfloat (o.webapp_to_allq, ==, 0.1);
  g_assert_cmpfloat (o.gpu_share, ==, 0.5);
  g_assert_cmpfloat (o.gpu_memory_mb, ==, 8192);
  g_assert_cmpfloat (o.memory_tail_share, ==, 0.2);
  g_assert_cmpfloat (o.memory_tail_alpha, ==, 1.5);
  g_assert_cmpfloat (o.busy_share, ==, 0.25);
  g_assert_cmpuint (o.busy_cores, ==, 2);
  g_assert_cmpuint (o.busy_cores_heavy, ==, 6);
  g_assert_true (mn_trace_gen_options_validate (&o, &error));
  g_assert_no_error (error);
  /* left out: the generator's defaults, shown as such in the key table */
  bare = mn_sweep_scenario_load_data ("[world]\n", 8, file, &error);
  g_assert_no_error (error);
  mn_sweep_world_options (bare, 1, &o);
  mn_trace_gen_options_init (&def);
  for (guint k = 0; k < MN_WORLD_N_KNOBS; k++)
    {
      g_autofree gchar *shown = mn_sweep_world_default_text (k);

      g_assert_cmpfloat (mn_sweep_world_get (&o, k), ==, mn_sweep_world_get (&def, k));
      g_assert_nonnull (shown);
    }
  g_assert_null (o.lectures);
  g_assert_cmpint (bare->seeds->len, ==, 5);
  /* a value the generator refuses names the key */
  {
    static const gchar *const bad = "[world]\nseeds = 1\nlectures = someday 25\n";
    g_autoptr (MnSweepScenario) b = mn_sweep_scenario_load_data (bad, strlen (bad), file, &error);

    g_assert_null (b);
    g_assert_nonnull (strstr (error->message, "inline.scenario:3: [world] lectures: the generator refuses it"));
  }
}

/* --seeds belongs to a [world] */
static void
test_set_seeds (void)
{
  g_autoptr (MnSweepScenario) world = load ("fake-seeds.scenario");
  g_autoptr (MnSweepScenario) trace = load ("fake-small.scenario");
  g_autoptr (GError) error = NULL;

  g_assert_true (mn_sweep_scenario_set_seeds (world, "4, 9..10", &error));
  g_assert_cmpint (world->seeds->len, ==, 3);
  g_assert_cmpint (g_array_index (world->seeds, guint64, 1), ==, 9);
  g_assert_false (mn_sweep_scenario_set_seeds (world, "3..1", &error));
  g_assert_nonnull (strstr (error->message, "--seeds: range '3..1' is empty"));
  g_clear_error (&error);
  g_assert_false (mn_sweep_scenario_set_seeds (trace, "1..5", &error));
  g_assert_nonnull (strstr (error->message, "has no seeds"));
  g_assert_cmpint (trace->seeds->len, ==, 1);
}

/* ---- files ------------------------------------------------------------------ */

static void
test_write_files (void)
{
  g_autoptr (MnSweepScenario) s = load ("fake-small.scenario");
  g_autoptr (MnSweepResults) r = run_fake (s, 2);
  g_autofree gchar *dir = g_dir_make_tmp ("mn-sweep-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *csv = NULL, *conf = NULL, *json = NULL;
  g_auto (GStrv) rows = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree gchar *csv_path = g_build_filename (dir, "results.csv", NULL);
  g_autofree gchar *conf_path = g_build_filename (dir, "recommended.conf", NULL);
  g_autofree gchar *json_path = g_build_filename (dir, "results.json", NULL);
  JsonObject *top;

  g_assert_true (mn_sweep_results_write (r, dir, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  rows = g_strsplit (csv, "\n", -1);
  /* the header, the baseline, 12 points; a trace file has one run (no seed) */
  g_assert_cmpint (g_strv_length (rows), ==, 1 + 1 + 12 + 1);
  g_assert_true (g_str_has_prefix (rows[0], "point,seed,nodes,jobs_per_logical,memory_cap_mb,swap_mb,gpu_mode,idle_timeout_s,share_immediate"));
  g_assert_true (g_str_has_suffix (rows[0], ",failed,pass,pass_every_seed,recommended"));
  g_assert_true (g_str_has_prefix (rows[1], "-1,,0,"));
  g_assert_true (g_str_has_prefix (rows[9], "7,,3,4,8192,1572864,shared,0,"));
  g_assert_true (g_str_has_suffix (rows[9], ",0,1,1,1"));
  g_assert_true (g_file_get_contents (conf_path, &conf, NULL, NULL));
  g_assert_nonnull (strstr (conf, "point 7: nodes=3 jobs_per_logical=4"));
  g_assert_true (json_parser_load_from_file (parser, json_path, &error));
  top = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (top, "schema"), ==, "minna-sweep-results/2");
  g_assert_cmpint (json_object_get_int_member (top, "recommended"), ==, 7);
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (top, "points")), ==, 12);
  g_assert_true (json_object_has_member (top, "baseline"));

  /* an unreachable run removes a stale recommended.conf */
  {
    g_autoptr (MnSweepScenario) u = load ("fake-unreachable.scenario");
    g_autoptr (MnSweepResults) ru = run_fake (u, 1);

    g_assert_true (mn_sweep_results_write (ru, dir, &error));
    g_assert_false (g_file_test (conf_path, G_FILE_TEST_EXISTS));
  }
  g_unlink (csv_path);
  g_unlink (json_path);
  g_rmdir (dir);
}

/* Threads change nothing: 1 and 2 threads give the same results.json. */
static void
test_threads_deterministic (void)
{
  g_autoptr (MnSweepScenario) s = load ("fake-small.scenario");
  g_autoptr (MnSweepResults) a = run_fake (s, 1);
  g_autoptr (MnSweepResults) b = run_fake (s, 2);
  g_autoptr (JsonNode) ja = mn_sweep_results_to_json (a);
  g_autoptr (JsonNode) jb = mn_sweep_results_to_json (b);
  g_autofree gchar *ta = json_to_string (ja, TRUE);
  g_autofree gchar *tb = json_to_string (jb, TRUE);

  g_assert_cmpstr (ta, ==, tb);
}

static void
test_runner_failure (void)
{
  g_autoptr (MnSweepScenario) s = load ("fake-small.scenario");
  g_autoptr (GPtrArray) points = mn_sweep_points_expand (s, NULL);
  g_autoptr (MnSweepRunner) runner = mn_sweep_runner_new (mn_sweep_fake_run, GUINT_TO_POINTER (5 + 1), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MnSweepResults) r = NULL;

  r = mn_sweep_run (s, points, runner, 2, TRUE, &error);
  g_assert_null (r);
  g_assert_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_RUN);
  g_assert_nonnull (strstr (error->message, "nodes=2 jobs_per_logical=7"));
  g_assert_nonnull (strstr (error->message, "fake failure"));
}

/* ---- the command line, and the Slurm array run without Slurm --------------- */

/* The emitted array's tasks, run one after another by hand, then merge:
 * the same results.json, results.csv and recommended.conf as in-process. */
static void
test_array_equals_run (void)
{
  g_autofree gchar *sim = g_test_build_filename (G_TEST_BUILT, "sweep", "mn-sweep-fake-sim", NULL);
  g_autofree gchar *scenario = data_path ("fake-small.scenario");
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-array-XXXXXX", NULL);
  g_autofree gchar *a = g_build_filename (tmp, "inprocess", NULL);
  g_autofree gchar *b = g_build_filename (tmp, "array", NULL);
  g_autofree gchar *script = g_build_filename (b, "sweep.sbatch", NULL);
  g_autofree gchar *text = NULL, *out = NULL, *err = NULL;
  const gchar *run[] = { sim, "run", scenario, "--out", a, "--quiet", NULL };
  const gchar *emit[] = { sim, "run", scenario, "--emit-slurm-array", b, NULL };
  const gchar *merge[] = { sim, "merge", b, NULL };
  static const gchar *const files[] = { "results.json", "results.csv", "recommended.conf" };

  g_assert_cmpint (mn_check_spawn (run, NULL, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "Recommended: point 7 of 12"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mn_check_spawn (emit, NULL, NULL, NULL), ==, 0);
  text = mn_check_read (b, "sweep.sbatch");
  g_assert_nonnull (strstr (text, "#SBATCH --array=0-12\n"));
  g_assert_nonnull (strstr (text, "--point \"$point\""));
  for (guint task = 0; task <= 12; task++)
    {
      g_autofree gchar *id = g_strdup_printf ("SLURM_ARRAY_TASK_ID=%u", task);
      const gchar *argv[] = { "/bin/bash", script, NULL };
      const gchar *envp[] = { id, "PATH=/usr/bin:/bin", NULL };

      g_assert_cmpint (mn_check_spawn (argv, envp, NULL, NULL), ==, 0);
      if (task == 3)
        {
          /* merge before the array is done names what is missing */
          g_assert_cmpint (mn_check_spawn (merge, NULL, NULL, &err), ==, 1);
          g_assert_nonnull (strstr (err, "9 of 13 point results missing (baseline, 4, 5"));
          g_clear_pointer (&err, g_free);
        }
    }
  g_assert_cmpint (mn_check_spawn (merge, NULL, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Recommended: point 7 of 12"));
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree gchar *ta = mn_check_read (a, files[i]);
      g_autofree gchar *tb = mn_check_read (b, files[i]);

      g_assert_cmpstr (ta, ==, tb);
    }
  mn_check_rm_rf (tmp);
}

/* The same over seeds: the array has a task per point and seed (the seeds
 * chosen by --seeds travel with it), and merge writes what run does. */
static void
test_array_seeds_equals_run (void)
{
  g_autofree gchar *sim = g_test_build_filename (G_TEST_BUILT, "sweep", "mn-sweep-fake-sim", NULL);
  g_autofree gchar *scenario = data_path ("fake-seeds.scenario");
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-array-XXXXXX", NULL);
  g_autofree gchar *a = g_build_filename (tmp, "inprocess", NULL);
  g_autofree gchar *b = g_build_filename (tmp, "array", NULL);
  g_autofree gchar *script = g_build_filename (b, "sweep.sbatch", NULL);
  g_autofree gchar *text = NULL, *out = NULL, *err = NULL;
  const gchar *run[] = { sim, "run", scenario, "--seeds", "2,3", "--out", a, "--quiet", NULL };
  const gchar *emit[] = { sim, "run", scenario, "--seeds", "2,3", "--emit-slurm-array", b, NULL };
  const gchar *merge[] = { sim, "merge", b, NULL };
  static const gchar *const files[] = { "results.json", "results.csv", "recommended.conf" };

  g_assert_cmpint (mn_check_spawn (run, NULL, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "meets every target on each of 2 seeds (2, 3)"));
  g_assert_cmpint (mn_check_spawn (emit, NULL, NULL, NULL), ==, 0);
  text = mn_check_read (b, "sweep.sbatch");
  /* 16 points + the baseline, on 2 seeds */
  g_assert_nonnull (strstr (text, "#SBATCH --array=0-33\n"));
  g_assert_nonnull (strstr (text, "--seeds 2,3 --point \"$point\" --seed \"$seed\""));
  for (guint task = 0; task <= 33; task++)
    {
      g_autofree gchar *id = g_strdup_printf ("SLURM_ARRAY_TASK_ID=%u", task);
      const gchar *argv[] = { "/bin/bash", script, NULL };
      const gchar *envp[] = { id, "PATH=/usr/bin:/bin", NULL };

      g_assert_cmpint (mn_check_spawn (argv, envp, NULL, NULL), ==, 0);
      if (task == 20)
        {
          /* seed 3's point 3 onwards are missing, and named */
          g_assert_cmpint (mn_check_spawn (merge, NULL, NULL, &err), ==, 1);
          g_assert_nonnull (strstr (err, "13 of 34 point results missing (baseline seed 3, 4 seed 3, 5 seed 3"));
          g_clear_pointer (&err, g_free);
        }
    }
  {
    g_autofree gchar *one = g_build_filename (b, "points", "point-7-seed-3.json", NULL);

    g_assert_true (g_file_test (one, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_cmpint (mn_check_spawn (merge, NULL, NULL, NULL), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree gchar *ta = mn_check_read (a, files[i]);
      g_autofree gchar *tb = mn_check_read (b, files[i]);

      g_assert_cmpstr (ta, ==, tb);
    }
  mn_check_rm_rf (tmp);
}

static void
test_command_exit_codes (void)
{
  g_autofree gchar *sim = g_test_build_filename (G_TEST_BUILT, "sweep", "mn-sweep-fake-sim", NULL);
  g_autofree gchar *unreachable = data_path ("fake-unreachable.scenario");
  g_autofree gchar *bad = data_path ("n_unknown-key.scenario");
  g_autofree gchar *small = data_path ("fake-small.scenario");
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-cmd-XXXXXX", NULL);
  g_autofree gchar *out = NULL, *err = NULL;
  const gchar *run_u[] = { sim, "run", unreachable, "--out", tmp, "--quiet", NULL };
  const gchar *run_bad[] = { sim, "run", bad, "--out", tmp, NULL };
  const gchar *usage[] = { sim, "run", NULL };
  const gchar *bad_point[] = { sim, "run", small, "--out", tmp, "--point", "12", NULL };

  g_assert_cmpint (mn_check_spawn (run_u, NULL, &out, NULL), ==, 3);
  g_assert_nonnull (strstr (out, "FAIL swap_share"));
  g_assert_cmpint (mn_check_spawn (run_bad, NULL, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "n_unknown-key.scenario:5: unknown key 'nodez'"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mn_check_spawn (usage, NULL, NULL, NULL), ==, 2);
  g_assert_cmpint (mn_check_spawn (bad_point, NULL, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "points 0..11"));
  g_clear_pointer (&err, g_free);
  {
    g_autofree gchar *seeds = data_path ("fake-seeds.scenario");
    const gchar *no_point[] = { sim, "run", seeds, "--out", tmp, "--seed", "2", NULL };
    const gchar *no_seed[] = { sim, "run", seeds, "--out", tmp, "--point", "1", NULL };
    const gchar *bad_seed[] = { sim, "run", seeds, "--out", tmp, "--point", "1", "--seed", "9", NULL };
    const gchar *trace_seeds[] = { sim, "run", small, "--out", tmp, "--seeds", "1..3", NULL };

    g_assert_cmpint (mn_check_spawn (no_point, NULL, NULL, NULL), ==, 2);
    g_assert_cmpint (mn_check_spawn (no_seed, NULL, NULL, &err), ==, 2);
    g_assert_nonnull (strstr (err, "needs --seed S"));
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (mn_check_spawn (bad_seed, NULL, NULL, &err), ==, 1);
    g_assert_nonnull (strstr (err, "--seed 9: the scenario's seeds are 1 2 3"));
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (mn_check_spawn (trace_seeds, NULL, NULL, &err), ==, 1);
    g_assert_nonnull (strstr (err, "has no seeds"));
  }
  mn_check_rm_rf (tmp);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GDir) dir = NULL;
  g_autofree gchar *data_dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep/units", test_units);
  g_test_add_func ("/sweep/scenario/values", test_scenario_values);
  g_test_add_func ("/sweep/scenario/defaults", test_scenario_defaults);
  g_test_add_func ("/sweep/scenario/unreadable", test_scenario_unreadable);
  g_test_add_func ("/sweep/scenario/classify", test_classify);
  g_test_add_func ("/sweep/scenario/readme-in-sync", test_readme_in_sync);
  g_test_add_func ("/sweep/scenario/fuzz", test_scenario_fuzz);
  g_test_add_func ("/sweep/points/expand", test_expand);
  g_test_add_func ("/sweep/recommend/by-hand", test_recommend_by_hand);
  g_test_add_func ("/sweep/recommend/minimise-order", test_minimise_order);
  g_test_add_func ("/sweep/recommend/unreachable", test_unreachable);
  g_test_add_func ("/sweep/recommend/missing-metric", test_missing_metric);
  for (gsize c = 0; c < G_N_ELEMENTS (rule_cases); c++)
    {
      g_autofree gchar *path = g_strdup_printf ("/sweep/recommend/rule/%s", rule_cases[c].name);

      g_test_add_data_func (path, GSIZE_TO_POINTER (c), test_rule_case);
    }
  g_test_add_func ("/sweep/recommend/seeds-by-hand", test_seeds_by_hand);
  g_test_add_func ("/sweep/scenario/set-seeds", test_set_seeds);
  g_test_add_func ("/sweep/scenario/world-options", test_world_options);
  g_test_add_func ("/sweep/results/write", test_write_files);
  g_test_add_func ("/sweep/run/threads-deterministic", test_threads_deterministic);
  g_test_add_func ("/sweep/run/runner-failure", test_runner_failure);
  g_test_add_func ("/sweep/command/array-equals-run", test_array_equals_run);
  g_test_add_func ("/sweep/command/array-seeds-equals-run", test_array_seeds_equals_run);
  g_test_add_func ("/sweep/command/exit-codes", test_command_exit_codes);

  data_dir = g_test_build_filename (G_TEST_DIST, "data", "sweep", NULL);
  dir = g_dir_open (data_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".scenario")
        && (g_str_has_prefix (name, "y_") || g_str_has_prefix (name, "n_")))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      const gchar *n = g_ptr_array_index (names, i);
      g_autofree gchar *path = g_strdup_printf ("/sweep/scenario/corpus/%s", n);

      g_test_add_data_func (path, n, n[0] == 'y' ? test_corpus_good : test_corpus_bad);
    }
  return g_test_run ();
}
