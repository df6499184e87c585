/* test-sweep-engine.c: sweeps on the real engine (mn-sweep-sim is
 * `minna-sim run/merge`): the lecture-burst scenario's story, its
 * recommended.conf through minna-policy, the Slurm array run by hand against
 * the in-process run, an unreadable trace, the report, and the KTH trace
 * when ../shared/traces has it. */
#define G_LOG_DOMAIN "minna-sweep-test"

#include <string.h>
#include <json-glib/json-glib.h>

#include "mn-policy.h"
#include "mn-sweep-check.h"

static gchar *
sim_exe (void)
{
  return g_test_build_filename (G_TEST_BUILT, "sweep", "mn-sweep-sim", NULL);
}

static gchar *
scenario_path (const gchar *name)
{
  return g_build_filename (g_getenv ("MINNA_SOURCE_DIR"), "scenarios", name, NULL);
}

/* The metrics of the first run of @point (-1: the baseline). */
static JsonObject *
run_metrics (JsonObject *results, gint point, guint seed)
{
  JsonObject *holder = point < 0 ? json_object_get_object_member (results, "baseline")
    : json_array_get_object_element (json_object_get_array_member (results, "points"), point);

  return json_object_get_object_member (json_array_get_object_element (json_object_get_array_member (holder, "runs"),
                                                                       seed), "metrics");
}

static JsonObject *
load_results (const gchar *dir)
{
  g_autofree gchar *path = g_build_filename (dir, "results.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* Run once for the whole file: the tests below read its output. */
static gchar *lecture_dir;

static void
test_lecture_story (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *scenario = scenario_path ("lecture-burst.scenario");
  g_autofree gchar *out = NULL;
  g_autoptr (JsonObject) r = NULL;
  JsonObject *baseline, *rec;
  const gchar *run[] = { sim, "run", scenario, "--out", lecture_dir, "--quiet", "--jobs", "2", NULL };

  g_assert_cmpint (mn_check_spawn (run, NULL, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  /* TSUBAME3's own answer: 4 nodes, 7 jobs per logical node, 1.5 TB swap
   * (without swap the 60 GB caps fit 4 jobs on a node). */
  g_assert_nonnull (strstr (out, "Recommended: point 17 of 30: nodes=4 jobs_per_logical=7 memory_cap=60G swap=1536G"));
  r = load_results (lecture_dir);
  baseline = json_object_get_object_member (run_metrics (r, -1, 0), "interactive");
  /* the report's problem: waits of hours on a busy machine ... */
  g_assert_cmpfloat (json_object_get_double_member (baseline, "wait_p99"), >, 3 * 3600);
  g_assert_cmpfloat (json_object_get_double_member (baseline, "share_immediate"), <, 0.1);
  /* ... and with interactive.q, immediate starts through the lecture */
  rec = json_array_get_object_element (json_object_get_array_member (r, "points"),
                                       json_object_get_int_member (r, "recommended"));
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (
                       json_object_get_object_member (rec, "targets"), "immediate_share_every_hour"), "min"), >=, 0.99);
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (
                       run_metrics (r, json_object_get_int_member (r, "recommended"), 0), "interactive"), "wait_p99"), ==, 0);
}

static void
test_lecture_conf (void)
{
  g_autofree gchar *policy = g_build_filename (g_getenv ("MINNA_BUILD_DIR"), "policy", "minna-policy", NULL);
  g_autofree gchar *conf_path = g_build_filename (lecture_dir, "recommended.conf", NULL);
  g_autofree gchar *text = NULL, *again = NULL, *err = NULL;
  g_autoptr (MnPolicyConfig) c = NULL, c2 = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *check[] = { policy, "check", conf_path, NULL };
  gsize len = 0;

  g_assert_cmpint (mn_check_spawn (check, NULL, NULL, &err), ==, 0);
  g_assert_true (g_file_get_contents (conf_path, &text, &len, NULL));
  c = mn_policy_config_load_data (text, len, conf_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->nodes, ==, 4);
  g_assert_cmpuint (c->max_jobs_per_logical, ==, 7);
  g_assert_cmpuint (c->node_swap_mb, ==, 1536 * 1024);
  g_assert_cmpuint (c->job_max_memory_mb, ==, 60 * 1024);
  /* round trip: the policy's own text of it loads to the same policy */
  again = mn_policy_config_to_data (c);
  g_assert_nonnull (strstr (text, again));
  c2 = mn_policy_config_load_data (again, strlen (again), "again", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c2->nodes, ==, c->nodes);
  g_assert_cmpuint (c2->node_swap_mb, ==, c->node_swap_mb);
  g_assert_cmpuint (c2->max_jobs_per_logical, ==, c->max_jobs_per_logical);
}

static void
test_lecture_report (void)
{
  g_autofree gchar *report = g_build_filename (g_getenv ("MINNA_BUILD_DIR"), "reports", "minna-report", NULL);
  g_autofree gchar *gnuplot = g_find_program_in_path ("gnuplot");
  g_autofree gchar *png = g_build_filename (lecture_dir, "plots", "wait-cdf.png", NULL);
  g_autofree gchar *svg = g_build_filename (lecture_dir, "plots", "heatmap-immediate.svg", NULL);
  const gchar *render[] = { report, lecture_dir, "--quiet", NULL };

  if (gnuplot == NULL)
    {
      g_test_skip ("gnuplot is not installed (Debian package gnuplot-nox)");
      return;
    }
  g_assert_cmpint (mn_check_spawn (render, NULL, NULL, NULL), ==, 0);
  mn_check_png (png);
  mn_check_svg (svg, "Share started immediately in the worst hour");
  g_assert_cmpuint (mn_check_html_references (lecture_dir), >=, 3 * 10);
}

/* The Slurm array's tasks, one after another without Slurm, then merge:
 * the same files as the in-process run. */
static void
test_array_equals_run (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *scenario = scenario_path ("lecture-burst.scenario");
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-array-XXXXXX", NULL);
  g_autofree gchar *script = g_build_filename (tmp, "sweep.sbatch", NULL);
  const gchar *emit[] = { sim, "run", scenario, "--emit-slurm-array", tmp, NULL };
  const gchar *merge[] = { sim, "merge", tmp, NULL };
  static const gchar *const files[] = { "results.json", "results.csv", "recommended.conf" };

  g_assert_cmpint (mn_check_spawn (emit, NULL, NULL, NULL), ==, 0);
  for (guint task = 0; task <= 30; task++)
    {
      g_autofree gchar *id = g_strdup_printf ("SLURM_ARRAY_TASK_ID=%u", task);
      const gchar *argv[] = { "/bin/bash", script, NULL };
      const gchar *envp[] = { id, "PATH=/usr/bin:/bin", NULL };

      g_assert_cmpint (mn_check_spawn (argv, envp, NULL, NULL), ==, 0);
    }
  g_assert_cmpint (mn_check_spawn (merge, NULL, NULL, NULL), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree gchar *a = mn_check_read (lecture_dir, files[i]);
      g_autofree gchar *b = mn_check_read (tmp, files[i]);

      g_assert_cmpstr (a, ==, b);
    }
  mn_check_rm_rf (tmp);
}

static void
test_unreadable_trace (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (tmp, "missing.scenario", NULL);
  g_autofree gchar *err = NULL;
  const gchar *run[] = { sim, "run", path, "--out", tmp, "--quiet", NULL };

  g_assert_true (g_file_set_contents (path, "[trace]\npath = /nonexistent/dir/year.swf\n", -1, NULL));
  g_assert_cmpint (mn_check_spawn (run, NULL, NULL, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "[trace] path"));
  g_assert_nonnull (strstr (err, "'/nonexistent/dir/year.swf'"));
  mn_check_rm_rf (tmp);
}

/* The README's main command: the default world (on two of its seeds here,
 * to keep the suite short; ./setup.sh run does all five) finds an
 * interactive.q and tells the story (the numbers depend on the generated
 * years; the shape must hold). */
static void
test_default_year (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *scenario = scenario_path ("tsubame3-fy2019.scenario");
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-year-XXXXXX", NULL);
  g_autofree gchar *out = NULL;
  const gchar *run[] = { sim, "run", scenario, "--seeds", "1,2", "--out", tmp, "--quiet", NULL };
  g_autoptr (JsonObject) r = NULL;
  JsonObject *rec;
  JsonArray *seeds;

  g_assert_cmpint (mn_check_spawn (run, NULL, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "Recommended: point "));
  g_assert_nonnull (strstr (out, "meets every target on each of 2 seeds (1, 2)"));
  g_assert_nonnull (strstr (out, "Peak hour 10:00"));
  r = load_results (tmp);
  seeds = json_object_get_array_member (json_object_get_object_member (r, "scenario"), "seeds");
  g_assert_cmpint (json_array_get_length (seeds), ==, 2);
  /* every node count from 1 to 6 is tried */
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (
                     json_object_get_object_member (json_object_get_object_member (r, "scenario"), "ranges"),
                     "nodes")), ==, 6);
  /* and the three designs of issue 19 on the same seeds */
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (
                     json_object_get_object_member (json_object_get_object_member (r, "scenario"), "ranges"),
                     "design")), ==, 3);
  for (guint s = 0; s < 2; s++)
    g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (
                         run_metrics (r, -1, s), "interactive"), "wait_p99"), >, 1800);
  rec = json_array_get_object_element (json_object_get_array_member (r, "points"),
                                       json_object_get_int_member (r, "recommended"));
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (
                       json_object_get_object_member (rec, "targets"), "immediate_share_every_hour"), "min"), >=, 0.99);
  g_assert_false (json_object_get_boolean_member (rec, "refuses_all"));
  /* only a design minna-controller enforces is recommended */
  {
    const gchar *line = strstr (out, "Recommended: point ");
    g_autofree gchar *first = g_strndup (line, strcspn (line, "\n"));

    g_assert_true (g_str_has_suffix (first, " design=dedicated"));
  }
  mn_check_rm_rf (tmp);
}

/* A generated world on the real engine: each seed's year is made
 * in-process; the seeds differ; an array run (each task generating its own
 * seed's world) merges to the same files. */
static void
test_world (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *scenario = g_test_build_filename (G_TEST_DIST, "data", "sweep", "engine-world.scenario", NULL);
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-world-XXXXXX", NULL);
  g_autofree gchar *a = g_build_filename (tmp, "inprocess", NULL);
  g_autofree gchar *b = g_build_filename (tmp, "array", NULL);
  g_autofree gchar *script = g_build_filename (b, "sweep.sbatch", NULL);
  g_autofree gchar *out = NULL;
  const gchar *run[] = { sim, "run", scenario, "--out", a, "--quiet", NULL };
  const gchar *emit[] = { sim, "run", scenario, "--emit-slurm-array", b, NULL };
  const gchar *merge[] = { sim, "merge", b, NULL };
  static const gchar *const files[] = { "results.json", "results.csv", "recommended.conf" };
  g_autoptr (JsonObject) r = NULL;
  JsonObject *b1, *b2, *world;

  g_assert_cmpint (mn_check_spawn (run, NULL, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  r = load_results (a);
  world = json_object_get_object_member (json_object_get_object_member (r, "scenario"), "world");
  g_assert_nonnull (world);
  g_assert_cmpstr (json_object_get_string_member (world, "generator"), ==, "minna-tracegen");
  g_assert_true (json_node_is_null (json_object_get_member (json_object_get_object_member (r, "scenario"), "trace")));
  b1 = json_object_get_object_member (run_metrics (r, -1, 0), "interactive");
  b2 = json_object_get_object_member (run_metrics (r, -1, 1), "interactive");
  g_assert_cmpint (json_object_get_int_member (run_metrics (r, -1, 0), "jobs"), >, 10000);
  g_assert_cmpint (json_object_get_int_member (b1, "requests"), >, 100);
  /* the scenario's knobs reached the generator */
  g_assert_cmpint (json_object_get_int_member (world, "months"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (world, "trial_start"), ==, 201904);
  g_assert_cmpstr (json_object_get_string_member (world, "lectures"), ==, "tue 10:70");
  /* two draws of the year are two different years */
  g_assert_cmpint (json_object_get_int_member (b1, "requests"), !=, json_object_get_int_member (b2, "requests"));
  /* the engine's batch waits by month; the sweep's interactive.q occupancy */
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (json_object_get_object_member (
                     run_metrics (r, 0, 0), "batch"), "by_month")), >=, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_object_get_object_member (
                     run_metrics (r, 1, 1), "sweep"), "occupancy"), "slots"), ==, 2 * 4 * 7);

  g_assert_cmpint (mn_check_spawn (emit, NULL, NULL, NULL), ==, 0);
  for (guint task = 0; task < 6; task++)
    {
      g_autofree gchar *id = g_strdup_printf ("SLURM_ARRAY_TASK_ID=%u", task);
      const gchar *argv[] = { "/bin/bash", script, NULL };
      const gchar *envp[] = { id, "PATH=/usr/bin:/bin", NULL };

      g_assert_cmpint (mn_check_spawn (argv, envp, NULL, NULL), ==, 0);
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

/* The world the sweep makes in-process for seed 1 is the shipped file
 * (minna-tracegen --seed 1): the same metrics, member for member. */
static void
test_world_is_the_file (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *world = g_test_build_filename (G_TEST_DIST, "data", "sweep", "world-seed1.scenario", NULL);
  g_autofree gchar *file = g_test_build_filename (G_TEST_DIST, "data", "sweep", "file-seed1.scenario", NULL);
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-seed1-XXXXXX", NULL);
  g_autofree gchar *a = g_build_filename (tmp, "world", NULL);
  g_autofree gchar *b = g_build_filename (tmp, "file", NULL);
  const gchar *run_a[] = { sim, "run", world, "--out", a, "--quiet", NULL };
  const gchar *run_b[] = { sim, "run", file, "--out", b, "--quiet", NULL };
  g_autoptr (JsonObject) ra = NULL, rb = NULL;

  g_assert_cmpint (mn_check_spawn (run_a, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint (mn_check_spawn (run_b, NULL, NULL, NULL), ==, 0);
  ra = load_results (a);
  rb = load_results (b);
  for (gint point = -1; point <= 0; point++)
    {
      g_autoptr (JsonNode) na = json_node_init_object (json_node_alloc (), run_metrics (ra, point, 0));
      g_autoptr (JsonNode) nb = json_node_init_object (json_node_alloc (), run_metrics (rb, point, 0));
      g_autofree gchar *ta = json_to_string (na, TRUE);
      g_autofree gchar *tb = json_to_string (nb, TRUE);

      g_assert_cmpstr (ta, ==, tb);
    }
  mn_check_rm_rf (tmp);
}

/* Issue 16's bug on the real engine: with only a wait target, the point
 * whose memory cap refuses every request "waits" 0 s; it is not the
 * answer. */
static void
test_refuse_all (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *scenario = g_test_build_filename (G_TEST_DIST, "data", "sweep", "refuse-all.scenario", NULL);
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-refuse-XXXXXX", NULL);
  g_autofree gchar *out = NULL;
  const gchar *run[] = { sim, "run", scenario, "--out", tmp, "--quiet", NULL };
  g_autoptr (JsonObject) r = NULL;
  JsonObject *p0, *m0;

  g_assert_cmpint (mn_check_spawn (run, NULL, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "Recommended: point 1 of 2: nodes=4 jobs_per_logical=7 memory_cap=60G"));
  r = load_results (tmp);
  p0 = json_array_get_object_element (json_object_get_array_member (r, "points"), 0);
  m0 = json_object_get_object_member (run_metrics (r, 0, 0), "interactive");
  g_assert_true (json_object_get_boolean_member (p0, "refuses_all"));
  g_assert_false (json_object_get_boolean_member (p0, "pass"));
  g_assert_cmpint (json_object_get_int_member (m0, "started"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (m0, "rejected_by_reason"),
                                               "over-memory-cap"), ==, json_object_get_int_member (m0, "requests"));
  mn_check_rm_rf (tmp);
}

/* Issue 16: lines the reader skipped are counted in run's output and in
 * results.json, not only on stderr. */
static void
test_skipped_lines (void)
{
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *scenario = g_test_build_filename (G_TEST_DIST, "data", "sweep", "broken-lines.scenario", NULL);
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-sweep-skipped-XXXXXX", NULL);
  g_autofree gchar *out = NULL;
  const gchar *run[] = { sim, "run", scenario, "--out", tmp, "--quiet", NULL };
  g_autoptr (JsonObject) r = NULL;
  JsonObject *read;

  g_assert_cmpint (mn_check_spawn (run, NULL, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "tiny-broken.swf: 2 lines skipped as unreadable"));
  r = load_results (tmp);
  read = json_object_get_object_member (json_object_get_object_member (r, "scenario"), "trace_read");
  g_assert_nonnull (read);
  g_assert_cmpint (json_object_get_int_member (read, "skipped_lines"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (run_metrics (r, 0, 0), "trace"),
                                               "skipped_lines"), ==, 2);
  mn_check_rm_rf (tmp);
}

static void
test_kth (void)
{
  g_autofree gchar *trace = g_build_filename (g_getenv ("MINNA_SHARED_DIR"), "traces",
                                              "KTH-SP2-1996-2.1-cln.swf.gz", NULL);
  g_autofree gchar *sim = sim_exe ();
  g_autofree gchar *scenario = scenario_path ("kth-sp2.scenario");
  g_autofree gchar *tmp = NULL;
  g_autofree gchar *out = NULL;
  g_autoptr (JsonObject) r = NULL;

  if (!g_file_test (trace, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no KTH trace in MINNA_SHARED_DIR/traces");
      return;
    }

  tmp = g_dir_make_tmp ("mn-sweep-kth-XXXXXX", NULL);
  const gchar *run[] = { sim, "run", scenario, "--out", tmp, "--quiet", NULL };
  g_assert_cmpint (mn_check_spawn (run, NULL, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  r = load_results (tmp);
  /* the real SP2 made short jobs wait for hours */
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (
                       run_metrics (r, -1, 0), "interactive"), "wait_p99"), >, 3600);
  g_assert_cmpint (json_object_get_int_member (r, "recommended"), >=, 0);
  mn_check_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  lecture_dir = g_dir_make_tmp ("mn-sweep-lecture-XXXXXX", NULL);
  /* in order: the later ones read what the first one wrote */
  g_test_add_func ("/sweep/engine/lecture-burst/story", test_lecture_story);
  g_test_add_func ("/sweep/engine/lecture-burst/recommended-conf", test_lecture_conf);
  g_test_add_func ("/sweep/engine/lecture-burst/report", test_lecture_report);
  g_test_add_func ("/sweep/engine/lecture-burst/array-equals-run", test_array_equals_run);
  g_test_add_func ("/sweep/engine/unreadable-trace", test_unreadable_trace);
  g_test_add_func ("/sweep/engine/kth", test_kth);
  g_test_add_func ("/sweep/engine/world", test_world);
  g_test_add_func ("/sweep/engine/refuse-all", test_refuse_all);
  g_test_add_func ("/sweep/engine/skipped-lines", test_skipped_lines);
  g_test_add_func ("/sweep/engine/world-is-the-file", test_world_is_the_file);
  g_test_add_func ("/sweep/engine/tsubame3-fy2019", test_default_year);
  status = g_test_run ();
  mn_check_rm_rf (lecture_dir);
  g_free (lecture_dir);
  return status;
}
