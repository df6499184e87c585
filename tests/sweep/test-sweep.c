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

  g_assert_nonnull (s->trace_path);
  g_assert_true (g_path_is_absolute (s->trace_path));
  g_assert_true (g_str_has_suffix (s->trace_path, "/tests/data/sweep/tiny.swf"));
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
  g_assert_cmpint (o->n_failed, ==, 0);
  /* margins: share 1.0 - 0.99; p99 60 - 0; kills 0 - 0; swap 0.05 - 0; batch 0.10 - 0.09 */
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_IMMEDIATE_SHARE].margin, 0.01, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_WAIT_P99].margin, 60, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_OOM_KILLS].margin, 0, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_SWAP_SHARE].margin, 0.05, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].value, 0.09, 1e-9);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].margin, 0.01, 1e-9);
  /* (2,4): capacity 32, 10:00 starts 32 of 40 at once -> 0.8, worst hour 10 */
  o = g_ptr_array_index (r->outcomes, 4);
  g_assert_false (o->targets[MN_TARGET_IMMEDIATE_SHARE].pass);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_IMMEDIATE_SHARE].value, 0.8, 1e-9);
  g_assert_cmpint (o->targets[MN_TARGET_IMMEDIATE_SHARE].worst_hour, ==, 10);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_WAIT_P99].value, 480, 1e-9);
  /* (4,4) passes everything but the batch cost: 12% > 10% */
  o = g_ptr_array_index (r->outcomes, 10);
  g_assert_cmpint (o->n_failed, ==, 1);
  g_assert_false (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].pass);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_BATCH_WAIT_INCREASE].margin, -0.02, 1e-9);
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
  g_assert_cmpint (o->n_failed, ==, 1);
  g_assert_cmpfloat_with_epsilon (o->targets[MN_TARGET_SWAP_SHARE].margin, -0.05, 1e-9);
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
  g_assert_cmpint (o->n_failed, ==, 5);
  g_assert_true (isnan (o->targets[MN_TARGET_WAIT_P99].value));
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
  g_assert_cmpint (g_strv_length (rows), ==, 1 + 12 + 1);
  g_assert_true (g_str_has_prefix (rows[0], "point,nodes,jobs_per_logical,memory_cap_mb,swap_mb,gpu_mode,idle_timeout_s,share_immediate"));
  g_assert_true (g_str_has_suffix (rows[0], ",failed,pass,recommended"));
  g_assert_true (g_str_has_prefix (rows[8], "7,3,4,8192,1572864,shared,0,"));
  g_assert_true (g_str_has_suffix (rows[8], ",0,1,1"));
  g_assert_true (g_file_get_contents (conf_path, &conf, NULL, NULL));
  g_assert_nonnull (strstr (conf, "point 7: nodes=3 jobs_per_logical=4"));
  g_assert_true (json_parser_load_from_file (parser, json_path, &error));
  top = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (top, "schema"), ==, "minna-sweep-results/1");
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
  g_test_add_func ("/sweep/results/write", test_write_files);
  g_test_add_func ("/sweep/run/threads-deterministic", test_threads_deterministic);
  g_test_add_func ("/sweep/run/runner-failure", test_runner_failure);
  g_test_add_func ("/sweep/command/array-equals-run", test_array_equals_run);
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
