/* test-sim-replay-cli.c: `minna-sim replay` end to end, and the engine run
 * from parallel threads.
 *
 * tests/data/sim/small.swf is /sim/easy/backfill-happens as a file (starts
 * 0, 100, 2, 52 after the epoch 1554044400) plus a job wider than the
 * machine; its outputs are committed as small.expected.{csv,json}.  By hand:
 * busy processor-seconds 6x100 + 8x50 + 4x50 + 2x200 = 1600 over 10 x 252
 * (first submit to last end): utilization 0.634921; J2 waits 99 s and runs
 * 50: bounded slowdown 149/50 = 2.98; J4: 249/200 = 1.245. */
#define G_LOG_DOMAIN "test-sim"

#include <glib/gstdio.h>

#include "mn-sim-engine.h"

static gchar *
minna_sim_path (void)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  return g_build_filename (build != NULL ? build : ".", "sim", "minna-sim", NULL);
}

static gchar *
data_path (const gchar *name)
{
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  return g_build_filename (src != NULL ? src : ".", "tests", "data", "sim", name, NULL);
}

/* Runs minna-sim with @args; returns the exit status, stderr in @err. */
static gint
run_cli (const gchar *const *args, gchar **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, minna_sim_path ());
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, g_strdup (*args));
  g_ptr_array_add (argv, NULL);
  gint status = -1;
  g_autoptr(GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
assert_same_file (const gchar *got, const gchar *expected)
{
  g_autofree gchar *a = NULL, *b = NULL;
  g_assert_true (g_file_get_contents (got, &a, NULL, NULL));
  g_assert_true (g_file_get_contents (expected, &b, NULL, NULL));
  g_assert_cmpstr (a, ==, b);
}

static void
test_golden (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("test-sim-cli-XXXXXX", NULL);
  g_autofree gchar *trace = data_path ("small.swf");
  g_autofree gchar *csv = g_build_filename (dir, "jobs.csv", NULL);
  g_autofree gchar *json = g_build_filename (dir, "metrics.json", NULL);
  const gchar *args[] = { "replay", trace, "--jobs-out", csv, "--metrics-out", json, NULL };
  g_autofree gchar *err = NULL;
  g_assert_cmpint (run_cli (args, &err), ==, 0);
  g_autofree gchar *want_csv = data_path ("small.expected.csv");
  g_autofree gchar *want_json = data_path ("small.expected.json");
  assert_same_file (csv, want_csv);
  assert_same_file (json, want_json);
  g_unlink (csv);
  g_unlink (json);
  g_rmdir (dir);
}

typedef struct {
  const gchar *name;
  const gchar *args[8];
  gint         status;
  const gchar *message;   /* in stderr */
} CliCase;

static const CliCase cli_cases[] = {
  { "no-jobs-out", { "replay", "@small", NULL }, 2, "--jobs-out FILE.csv is required" },
  { "no-trace", { "replay", "--jobs-out", "@out", NULL }, 2, "exactly one TRACE" },
  { "bad-scheduler", { "replay", "@small", "--jobs-out", "@out", "--scheduler", "sjf", NULL }, 2,
    "unknown scheduler 'sjf'" },
  { "bad-format", { "replay", "@small", "--jobs-out", "@out", "--format", "csv", NULL }, 2, "csv" },
  { "missing-trace", { "replay", "/nonexistent/trace.swf", "--jobs-out", "@out", NULL }, 1,
    "/nonexistent/trace.swf" },
  { "carve-out-too-big", { "replay", "@small", "--jobs-out", "@out", "--interactive-nodes", "1", NULL }, 1,
    "interactive nodes" },
  { "missing-policy", { "replay", "@small", "--jobs-out", "@out", "--policy", "/nonexistent/i.conf", NULL }, 1,
    "/nonexistent/i.conf" },
};

static void
test_cli_error (gconstpointer data)
{
  const CliCase *c = data;
  g_autofree gchar *dir = g_dir_make_tmp ("test-sim-cli-XXXXXX", NULL);
  g_autofree gchar *small = data_path ("small.swf");
  g_autofree gchar *out = g_build_filename (dir, "jobs.csv", NULL);
  const gchar *args[G_N_ELEMENTS (c->args)] = { NULL };
  for (gsize i = 0; c->args[i] != NULL; i++)
    args[i] = g_strcmp0 (c->args[i], "@small") == 0 ? small
              : g_strcmp0 (c->args[i], "@out") == 0 ? out : c->args[i];
  g_autofree gchar *err = NULL;
  gint status = run_cli (args, &err);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (status, ==, c->status);
  g_assert_nonnull (strstr (err, c->message));
  g_unlink (out);
  g_rmdir (dir);
}

/* ---- issue 16's edge bugs, each on a small real-shaped file --------------- */

static gchar *
trace_data_path (const gchar *name)
{
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  return g_build_filename (src != NULL ? src : ".", "tests", "data", "trace", name, NULL);
}

/* Replays @trace with @extra args into a temporary directory; returns the
 * exit status, the CSV's lines, the metrics (NULL if none) and stderr. */
static gint
replay_file (const gchar *trace, const gchar *const *extra, gchar ***csv_lines,
             JsonObject **metrics, gchar **err)
{
  g_autofree gchar *dir = g_dir_make_tmp ("test-sim-edge-XXXXXX", NULL);
  g_autofree gchar *csv = g_build_filename (dir, "jobs.csv", NULL);
  g_autofree gchar *json = g_build_filename (dir, "metrics.json", NULL);
  const gchar *args[16] = { "replay", trace, "--jobs-out", csv, "--metrics-out", json, "--quiet" };
  guint n = 7;
  for (; extra != NULL && *extra != NULL; extra++)
    args[n++] = *extra;
  gint status = run_cli (args, err);
  g_autofree gchar *text = NULL;
  *csv_lines = g_file_get_contents (csv, &text, NULL, NULL) ? g_strsplit (text, "\n", -1) : NULL;
  *metrics = NULL;
  if (g_file_test (json, G_FILE_TEST_EXISTS))
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_file (parser, json, NULL));
      *metrics = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    }
  g_unlink (csv);
  g_unlink (json);
  g_rmdir (dir);
  return status;
}

/* One processor, J1 and J3 of runtime 0: every job starts (0, 0, 10), no
 * row says done with start -1. */
static void
test_edge_zero_length (void)
{
  g_autofree gchar *trace = data_path ("zero-length.swf");
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonObject) m = NULL;
  g_autofree gchar *err = NULL;
  g_assert_cmpint (replay_file (trace, NULL, &lines, &m, &err), ==, 0);
  g_assert_true (g_str_has_prefix (lines[1], "1,batch,u1,1554044400,1554044400,1554044400,0,all.q,1,done,"));
  g_assert_true (g_str_has_prefix (lines[2], "2,batch,u2,1554044400,1554044400,1554044410,0,all.q,1,done,"));
  g_assert_true (g_str_has_prefix (lines[3], "3,batch,u3,1554044400,1554044410,1554044410,10,all.q,1,done,"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (m, "batch"), "never_started"), ==, 0);
}

/* No MaxProcs, no MaxNodes, no --procs: an error that names --procs and the
 * widest job, not a 1-processor machine with waits of days. */
static void
test_edge_no_machine_size (void)
{
  g_autofree gchar *trace = data_path ("no-machine-size.swf");
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonObject) m = NULL;
  g_autofree gchar *err = NULL;
  g_assert_cmpint (replay_file (trace, NULL, &lines, &m, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "no machine size"));
  g_assert_nonnull (strstr (err, "--procs N"));
  g_assert_nonnull (strstr (err, "widest job asks for 1 processors"));
  g_assert_null (m);
  g_clear_pointer (&lines, g_strfreev);
  g_clear_pointer (&err, g_free);
  const gchar *procs[] = { "--procs", "4", NULL };
  g_assert_cmpint (replay_file (trace, procs, &lines, &m, &err), ==, 0);
}

/* Every job in queue 0, no "Queue: 0 interactive" declared: batch jobs, and
 * both commands say so. */
static void
test_edge_queue_zero (void)
{
  g_autofree gchar *trace = data_path ("queue-zero.swf");
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonObject) m = NULL;
  g_autofree gchar *err = NULL;
  g_assert_cmpint (replay_file (trace, NULL, &lines, &m, &err), ==, 0);
  g_assert_nonnull (strstr (err, "every job is in SWF queue 0"));
  for (guint i = 1; i <= 3; i++)
    g_assert_nonnull (strstr (lines[i], ",batch,"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (m, "machine"), "interactive_nodes"), ==, 0);
  JsonArray *notes = json_object_get_array_member (json_object_get_object_member (m, "trace"), "notes");
  g_assert_cmpuint (json_array_get_length (notes), ==, 1);
  const gchar *summary[] = { "summary", trace, NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *serr = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, minna_sim_path ());
  for (const gchar *const *a = summary; *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
  gint status;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, 0, NULL, NULL, &out, &serr, &status, NULL));
  g_assert_nonnull (strstr (out, "interactive jobs:    0 (0 users)"));
  g_assert_nonnull (strstr (out, "every job is in SWF queue 0"));
}

/* A line starting with a NUL byte is a bad line: counted, in the metrics
 * and on stderr; --strict refuses it. */
static void
test_edge_nul_line (void)
{
  g_autofree gchar *trace = trace_data_path ("n_swf_nul_line.swf");
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonObject) m = NULL;
  g_autofree gchar *err = NULL;
  g_assert_cmpint (replay_file (trace, NULL, &lines, &m, &err), ==, 0);
  g_assert_nonnull (strstr (err, "1 unreadable lines skipped"));
  g_assert_nonnull (strstr (err, "a NUL byte"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (m, "trace"), "skipped_lines"), ==, 1);
  g_clear_pointer (&lines, g_strfreev);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&m, json_object_unref);
  const gchar *strict[] = { "--strict", NULL };
  g_assert_cmpint (replay_file (trace, strict, &lines, &m, &err), ==, 1);
  g_assert_nonnull (strstr (err, "n_swf_nul_line.swf:4: a NUL byte"));
}

/* A RICC-shaped header (Asia/Tokyo named, no offset): replay's months are
 * summary's months (2019-04 and 2019-05 in JST, not both April in UTC), and
 * the logged waits travel into the metrics. */
static void
test_edge_time_zone_and_logged (void)
{
  g_autofree gchar *trace = data_path ("logged-tz.swf");
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonObject) m = NULL;
  g_autofree gchar *err = NULL;
  g_assert_cmpint (replay_file (trace, NULL, &lines, &m, &err), ==, 0);
  JsonObject *batch = json_object_get_object_member (m, "batch");
  JsonArray *months = json_object_get_array_member (batch, "by_month");
  g_assert_cmpuint (json_array_get_length (months), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (months, 0), "month"), ==, "2019-04");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (months, 1), "month"), ==, "2019-05");
  JsonObject *logged = json_object_get_object_member (batch, "logged");
  g_assert_cmpint (json_object_get_int_member (logged, "jobs"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (logged, "logged_wait_mean"), ==, 330);
  g_assert_cmpfloat (json_object_get_double_member (logged, "logged_wait_p95"), ==, 900);
  /* J3 waits for J2 (2 of 4 processors until 7800): 500 s */
  g_assert_cmpfloat (json_object_get_double_member (logged, "replay_wait_p95"), ==, 500);
  JsonObject *may = json_object_get_object_member (json_array_get_object_element (months, 1), "logged");
  g_assert_cmpint (json_object_get_int_member (may, "jobs"), ==, 2);

  /* summary --json: the same months and the same comparison */
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, minna_sim_path ());
  g_ptr_array_add (argv, g_strdup ("summary"));
  g_ptr_array_add (argv, g_strdup ("--json"));
  g_ptr_array_add (argv, g_strdup (trace));
  g_ptr_array_add (argv, NULL);
  g_autofree gchar *out = NULL;
  gint status;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL));
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  JsonObject *s = json_node_get_object (json_parser_get_root (parser));
  JsonArray *smonths = json_object_get_array_member (s, "months");
  g_assert_cmpuint (json_array_get_length (smonths), ==, 2);
  JsonObject *v = json_object_get_object_member (s, "validation");
  g_assert_cmpint (json_object_get_int_member (v, "jobs"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (v, "replay_wait_p95"), ==, 500);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (v, "by_month")), ==, 2);
}

/* ---- parallel runs ------------------------------------------------------ */

typedef struct {
  MnSimWorkload *w;
  gint64         procs;
  gchar         *json;
} ThreadRun;

static gpointer
thread_run (gpointer data)
{
  ThreadRun *t = data;
  MnSimConfig config;
  mn_sim_config_init (&config);
  config.procs = t->procs;
  g_autoptr(MnSimResult) r = mn_sim_run (t->w, &config, NULL, NULL, NULL, NULL);
  t->json = r != NULL ? mn_sim_result_to_json_text (r, NULL) : NULL;
  return NULL;
}

/* Sweeps (issue 5) run many points on one workload in threads: each run must
 * give what it gives alone. */
static void
test_parallel_threads (void)
{
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  GRand *rand = g_rand_new_with_seed (4);
  gint64 t = 0;
  for (gint64 i = 1; i <= 20000; i++)
    {
      g_autoptr(MnTraceJob) j = mn_trace_job_new ();
      t += g_rand_int_range (rand, 0, 120);
      j->id = i;
      j->submit = t;
      j->procs = 1 << g_rand_int_range (rand, 0, 7);
      j->runtime = g_rand_int_range (rand, 0, 20000);
      j->walltime_req = j->runtime * g_rand_int_range (rand, 1, 4);
      j->user = g_strdup_printf ("u%d", g_rand_int_range (rand, 0, 50));
      mn_sim_workload_add_job (w, j);
    }
  g_rand_free (rand);
  enum { N = 4 };
  ThreadRun runs[N], alone[N];
  GThread *threads[N];
  for (int i = 0; i < N; i++)
    {
      runs[i] = (ThreadRun) { w, 64 + 32 * (i % 2), NULL };
      threads[i] = g_thread_new ("sim", thread_run, &runs[i]);
    }
  for (int i = 0; i < N; i++)
    g_thread_join (threads[i]);
  for (int i = 0; i < N; i++)
    {
      alone[i] = (ThreadRun) { w, runs[i].procs, NULL };
      thread_run (&alone[i]);
      g_assert_nonnull (runs[i].json);
      g_assert_cmpstr (runs[i].json, ==, alone[i].json);
      g_free (runs[i].json);
      g_free (alone[i].json);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/replay/golden-small-swf", test_golden);
  for (gsize i = 0; i < G_N_ELEMENTS (cli_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/sim/replay/error/%s", cli_cases[i].name);
      g_test_add_data_func (path, &cli_cases[i], test_cli_error);
    }
  g_test_add_func ("/sim/engine/parallel-threads", test_parallel_threads);
  g_test_add_func ("/sim/replay/edge/zero-length", test_edge_zero_length);
  g_test_add_func ("/sim/replay/edge/no-machine-size", test_edge_no_machine_size);
  g_test_add_func ("/sim/replay/edge/queue-zero", test_edge_queue_zero);
  g_test_add_func ("/sim/replay/edge/nul-line", test_edge_nul_line);
  g_test_add_func ("/sim/replay/edge/time-zone-and-logged-waits", test_edge_time_zone_and_logged);
  return g_test_run ();
}
