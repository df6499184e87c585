/* test-twin-unit.c: the twin suite's own pieces, without daemons: the
 * scenario reader on its corpus (tests/data/twin: y_*.twin load, n_*.twin
 * fail with the FILE:LINE message their first line gives), rows as TSV, the
 * comparer (every difference counted, times within the tolerance, what is
 * not compared listed), the three scenarios through minna-sim's model with
 * what each is there to show, and `minna-twin` from the command line. */
#define G_LOG_DOMAIN "minna-twin-test"

#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "mn-twin.h"

static gchar *
source_path (const gchar *first, ...)
{
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  va_list ap;
  GPtrArray *parts = g_ptr_array_new ();
  gchar *path;

  g_ptr_array_add (parts, (gpointer) (src != NULL ? src : "."));
  g_ptr_array_add (parts, (gpointer) first);
  va_start (ap, first);
  for (const gchar *p = va_arg (ap, const gchar *); p != NULL; p = va_arg (ap, const gchar *))
    g_ptr_array_add (parts, (gpointer) p);
  va_end (ap);
  g_ptr_array_add (parts, NULL);
  path = g_build_filenamev ((gchar **) parts->pdata);
  g_ptr_array_free (parts, TRUE);
  return path;
}

/* ---- Corpus -------------------------------------------------------------- */

static void
test_corpus (void)
{
  g_autofree gchar *dir = source_path ("tests", "data", "twin", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint y = 0, n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = g_build_filename (dir, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (MnTwinScenario) sc = NULL;

      if (g_str_has_prefix (name, "y_"))
        {
          sc = mn_twin_scenario_load (path, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (sc->sessions->len, >, 0);
          y++;
        }
      else if (g_str_has_prefix (name, "n_"))
        {
          g_autofree gchar *text = NULL;
          g_autofree gchar *want = NULL;

          g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
          g_assert_true (g_str_has_prefix (text, "# expect: "));
          want = g_strdup_printf ("%s:%.*s", path, (int) strcspn (text + 10, "\n"), text + 10);
          sc = mn_twin_scenario_load (path, &error);
          g_assert_null (sc);
          g_assert_error (error, MN_TWIN_ERROR, MN_TWIN_ERROR_PARSE);
          g_test_message ("%s", error->message);
          if (!g_str_has_prefix (error->message, want))
            g_error ("%s: got '%s', want it to start with '%s'", name, error->message, want);
          n++;
        }
    }
  g_assert_cmpuint (y, >=, 2);
  g_assert_cmpuint (n, >=, 10);
}

static void
test_expand (void)
{
  g_autofree gchar *path = source_path ("tests", "data", "twin", "y_everything.twin", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MnTwinScenario) sc = mn_twin_scenario_load (path, &error);
  const MnTwinSession *s;

  g_assert_no_error (error);
  g_assert_cmpstr (sc->name, ==, "everything");
  g_assert_cmpint (sc->tolerance, ==, 60);
  g_assert_cmpuint (sc->policy->nodes, ==, 2);
  g_assert_cmpint (sc->policy->gpu_mode, ==, MN_GPU_MODE_EXCLUSIVE);
  g_assert_cmpuint (sc->sessions->len, ==, 3);
  s = g_ptr_array_index (sc->sessions, 2);
  g_assert_cmpstr (s->name, ==, "many-03");
  g_assert_cmpstr (s->user, ==, "u03");
  g_assert_cmpint (s->at, ==, 14);
  g_assert_cmpuint (s->cores, ==, 2);
  g_assert_cmpuint (s->memory_mb, ==, 1536);
  g_assert_cmpint (s->walltime, ==, 3600);
  g_assert_cmpint (s->if_busy, ==, MN_IF_BUSY_GIVE_UP);
  g_assert_cmpint (s->busy, ==, 30);
  g_assert_cmpint (s->exit, ==, 122);   /* 2m + 2 x exit_every */
  g_assert_cmpuint (s->gpu_use_mb, ==, 2048);
  g_assert_cmpuint (s->use->len, ==, 3);
  g_assert_cmpuint (mn_twin_session_memory_at (s, 0), ==, 10);
  g_assert_cmpuint (mn_twin_session_memory_at (s, 4), ==, 10);
  g_assert_cmpuint (mn_twin_session_memory_at (s, 5), ==, 20);
  g_assert_cmpuint (mn_twin_session_memory_at (s, 3600), ==, 5);
}

/* ---- Rows and the comparer ---------------------------------------------------- */

static MnTwinRow *
row (const gchar *name, const gchar *decision, const gchar *start, const gchar *end,
     const gchar *end_reason)
{
  MnTwinRow *r = mn_twin_row_new ();

  mn_twin_row_set (r, MN_TWIN_FIELD_NAME, name);
  mn_twin_row_set (r, MN_TWIN_FIELD_USER, name);
  mn_twin_row_set (r, MN_TWIN_FIELD_DECISION, decision);
  mn_twin_row_set (r, MN_TWIN_FIELD_REASON, "");
  mn_twin_row_set (r, MN_TWIN_FIELD_NODE, "0");
  mn_twin_row_set (r, MN_TWIN_FIELD_LOGICAL, "1");
  mn_twin_row_set (r, MN_TWIN_FIELD_CPUS, "1");
  mn_twin_row_set (r, MN_TWIN_FIELD_GPUS, "");
  mn_twin_row_set (r, MN_TWIN_FIELD_START, start);
  mn_twin_row_set (r, MN_TWIN_FIELD_END, end);
  mn_twin_row_set (r, MN_TWIN_FIELD_END_REASON, end_reason);
  mn_twin_row_set (r, MN_TWIN_FIELD_GPU_FAILED, "0");
  return r;
}

typedef struct {
  const gchar *path;
  const gchar *decision, *start, *end, *end_reason;
  gboolean     drop, extra, cannot_end_reason, cannot_row;
  guint        want;
  const gchar *report_has;
  gboolean     cannot_cell;    /* a:end_reason declared not comparable */
} CompareCase;

/* Model: a starts 0, ends 10 exited; tolerance 2 s. */
static const CompareCase compare_cases[] = {
  { "/twin/compare/same", "start", "0", "10", "exited", FALSE, FALSE, FALSE, FALSE, 0, "OK" },
  { "/twin/compare/time-within", "start", "2", "8", "exited", FALSE, FALSE, FALSE, FALSE, 0, "OK" },
  { "/twin/compare/time-beyond", "start", "0", "13", "exited", FALSE, FALSE, FALSE, FALSE, 1,
    "end: model '10' real '13'" },
  { "/twin/compare/decision", "wait", "0", "10", "exited", FALSE, FALSE, FALSE, FALSE, 1,
    "decision: model 'start' real 'wait'" },
  { "/twin/compare/end-reason", "start", "0", "10", "failed", FALSE, FALSE, FALSE, FALSE, 1,
    "end_reason: model 'exited' real 'failed'" },
  { "/twin/compare/two-fields", "start", "5", "10", "idle", FALSE, FALSE, FALSE, FALSE, 2,
    "start: model '0' real '5'" },
  { "/twin/compare/unobserved", "start", "0", "?", "exited", FALSE, FALSE, FALSE, FALSE, 1,
    "end: model '10' real '?'" },
  { "/twin/compare/missing", "start", "0", "10", "exited", TRUE, FALSE, FALSE, FALSE, 1,
    "missing from the real run" },
  { "/twin/compare/extra", "start", "0", "10", "exited", FALSE, TRUE, FALSE, FALSE, 1,
    "not in the scenario's model run" },
  { "/twin/compare/cannot-field", "start", "0", "10", "node-oom", FALSE, FALSE, TRUE, FALSE, 0,
    "end_reason: not compared for any session: no swap here" },
  { "/twin/compare/cannot-row", "reject", "", "", "", FALSE, FALSE, FALSE, TRUE, 0,
    "a: not compared: no GPU here" },
  { "/twin/compare/cannot-cell", "start", "1", "10", "failed", FALSE, FALSE, FALSE, FALSE, 0,
    "a: end_reason not compared (model 'exited', real 'failed'): no code", TRUE },
  { "/twin/compare/cannot-cell-other-field", "start", "5", "10", "failed", FALSE, FALSE, FALSE,
    FALSE, 1, "start: model '0' real '5'", TRUE },
};

static void
test_compare (gconstpointer data)
{
  const CompareCase *cc = data;
  MnTwinScenario sc = { .name = (gchar *) "t", .tolerance = 2 };
  g_autoptr (GPtrArray) model = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_twin_row_free);
  g_autoptr (GPtrArray) real = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_twin_row_free);
  g_autoptr (GString) report = g_string_new (NULL);
  g_autoptr (GHashTable) rows = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) cells = g_hash_table_new (g_str_hash, g_str_equal);
  MnTwinCompareOptions options = { { NULL }, NULL, cc->cannot_cell ? cells : NULL };
  g_autofree gchar *tsv = NULL;
  g_autoptr (GPtrArray) back = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (model, row ("a", "start", "0", "10", "exited"));
  if (!cc->drop)
    g_ptr_array_add (real, row ("a", cc->decision, cc->start, cc->end, cc->end_reason));
  if (cc->extra)
    g_ptr_array_add (real, row ("b", "start", "0", "10", "exited"));
  if (cc->cannot_end_reason)
    options.cannot[MN_TWIN_FIELD_END_REASON] = "no swap here";
  if (cc->cannot_cell)
    g_hash_table_insert (cells, "a:end_reason", "no code");
  if (cc->cannot_row)
    {
      g_hash_table_insert (rows, "a", "no GPU here");
      options.cannot_rows = rows;
    }
  /* What is compared went through TSV and back, as scripts would have it. */
  tsv = mn_twin_rows_to_tsv (real);
  back = mn_twin_rows_from_tsv (tsv, "real.tsv", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mn_twin_compare (&sc, model, back, &options, report), ==, cc->want);
  g_test_message ("%s", report->str);
  g_assert_nonnull (strstr (report->str, cc->report_has));
}

static void
test_tsv_errors (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (mn_twin_rows_from_tsv ("", "x.tsv", &error));
  g_assert_nonnull (strstr (error->message, "x.tsv:1: no header line"));
  g_clear_error (&error);
  g_assert_null (mn_twin_rows_from_tsv ("decision\tstart\nstart\t0\n", "x.tsv", &error));
  g_assert_nonnull (strstr (error->message, "no 'name' column"));
  g_clear_error (&error);
  g_assert_null (mn_twin_rows_from_tsv ("name\tstart\na\t0\tx\n", "x.tsv", &error));
  g_assert_nonnull (strstr (error->message, "x.tsv:2: 3 fields, the header has 2"));
}

/* ---- The scenarios through the model ------------------------------------------ */

static GPtrArray *
model_rows (const gchar *scenario, MnTwinScenario **out)
{
  g_autofree gchar *path = source_path ("tests", "twin", "scenarios", scenario, NULL);
  g_autoptr (GError) error = NULL;
  MnTwinScenario *sc = mn_twin_scenario_load (path, &error);
  GPtrArray *rows;

  g_assert_no_error (error);
  rows = mn_twin_run_sim (sc, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, sc->sessions->len);
  {
    g_autofree gchar *tsv = mn_twin_rows_to_tsv (rows);

    g_test_message ("%s", tsv);
  }
  *out = sc;
  return rows;
}

static const gchar *
field (GPtrArray *rows, const gchar *name, MnTwinField f)
{
  for (guint i = 0; i < rows->len; i++)
    {
      const MnTwinRow *r = g_ptr_array_index (rows, i);

      if (g_str_equal (r->v[MN_TWIN_FIELD_NAME], name))
        return r->v[f];
    }
  g_error ("no row '%s'", name);
}

static guint
count (GPtrArray *rows, MnTwinField f, const gchar *value)
{
  guint n = 0;

  for (guint i = 0; i < rows->len; i++)
    n += g_str_equal (((MnTwinRow *) g_ptr_array_index (rows, i))->v[f], value);
  return n;
}

static void
test_lecture (void)
{
  g_autoptr (MnTwinScenario) sc = NULL;
  g_autoptr (GPtrArray) rows = model_rows ("lecture-burst.twin", &sc);

  g_assert_cmpuint (rows->len, ==, 42);
  g_assert_cmpuint (count (rows, MN_TWIN_FIELD_DECISION, "start"), ==, 32);
  g_assert_cmpuint (count (rows, MN_TWIN_FIELD_DECISION, "wait"), ==, 8);
  g_assert_cmpuint (count (rows, MN_TWIN_FIELD_REASON, "slots"), ==, 8);
  g_assert_cmpstr (field (rows, "again", MN_TWIN_FIELD_REASON), ==, "per-user-limit");
  /* The session's own if_busy, not the queue's default (wait). */
  g_assert_cmpstr (field (rows, "hurry", MN_TWIN_FIELD_DECISION), ==, "reject");
  g_assert_cmpstr (field (rows, "hurry", MN_TWIN_FIELD_REASON), ==, "busy-give-up");
  /* Fewest jobs first: the two logical nodes (one core each) alternate. */
  g_assert_cmpstr (field (rows, "lecture-01", MN_TWIN_FIELD_CPUS), ==, "0");
  g_assert_cmpstr (field (rows, "lecture-02", MN_TWIN_FIELD_CPUS), ==, "1");
  /* The students leave a second apart from 12 s; each waiting session takes
   * the slot the next one frees. */
  g_assert_cmpstr (field (rows, "lecture-32", MN_TWIN_FIELD_END), ==, "43");
  g_assert_cmpstr (field (rows, "late-01", MN_TWIN_FIELD_START), ==, "12");
  g_assert_cmpstr (field (rows, "late-01", MN_TWIN_FIELD_CPUS), ==, "0");
  g_assert_cmpstr (field (rows, "late-02", MN_TWIN_FIELD_CPUS), ==, "1");
  g_assert_cmpstr (field (rows, "late-08", MN_TWIN_FIELD_START), ==, "19");
  g_assert_cmpstr (field (rows, "late-08", MN_TWIN_FIELD_END), ==, "27");
  g_assert_cmpstr (field (rows, "late-08", MN_TWIN_FIELD_MEMORY_LIMIT), ==, "64");
  g_assert_cmpstr (field (rows, "late-08", MN_TWIN_FIELD_CPU_QUOTA), ==, "100000");
  g_assert_cmpuint (count (rows, MN_TWIN_FIELD_END_REASON, "exited"), ==, 40);
}

static void
test_memory_hog (void)
{
  g_autoptr (MnTwinScenario) sc = NULL;
  g_autoptr (GPtrArray) rows = model_rows ("memory-hog.twin", &sc);
  static const struct { const gchar *name, *end, *reason; } want[] = {
    { "hog", "6", "memory-cap" }, { "greedy", "4", "memory-cap" }, { "modest", "11", "exited" },
    { "idler", "13", "idle" }, { "worker", "18", "exited" }, { "short", "10", "walltime" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_assert_cmpstr (field (rows, want[i].name, MN_TWIN_FIELD_DECISION), ==, "start");
      g_assert_cmpstr (field (rows, want[i].name, MN_TWIN_FIELD_END), ==, want[i].end);
      g_assert_cmpstr (field (rows, want[i].name, MN_TWIN_FIELD_END_REASON), ==, want[i].reason);
    }
  g_assert_cmpstr (field (rows, "hog-again", MN_TWIN_FIELD_DECISION), ==, "reject");
  g_assert_cmpstr (field (rows, "hog-again", MN_TWIN_FIELD_REASON), ==, "per-user-limit");
}

static void
test_gpu_capped (void)
{
  g_autoptr (MnTwinScenario) sc = NULL;
  g_autoptr (GPtrArray) rows = model_rows ("gpu-capped.twin", &sc);

  for (guint i = 1; i <= 4; i++)
    {
      g_autofree gchar *name = g_strdup_printf ("class-%02u", i);

      g_assert_cmpstr (field (rows, name, MN_TWIN_FIELD_DECISION), ==, "start");
      /* A GPU session's GPU is its logical node's. */
      g_assert_cmpstr (field (rows, name, MN_TWIN_FIELD_GPUS), ==,
                       field (rows, name, MN_TWIN_FIELD_LOGICAL));
      g_assert_cmpstr (field (rows, name, MN_TWIN_FIELD_GPU_FAILED), ==, "0");
    }
  g_assert_cmpstr (field (rows, "class-05", MN_TWIN_FIELD_DECISION), ==, "wait");
  g_assert_cmpstr (field (rows, "class-05", MN_TWIN_FIELD_REASON), ==, "gpu-memory");
  g_assert_cmpstr (field (rows, "class-06", MN_TWIN_FIELD_START), ==, "9");
  g_assert_cmpstr (field (rows, "big", MN_TWIN_FIELD_START), ==, "10");
  g_assert_cmpstr (field (rows, "big", MN_TWIN_FIELD_REASON), ==, "gpu-memory");
  g_assert_cmpstr (field (rows, "big", MN_TWIN_FIELD_GPU_FAILED), ==, "1");
  g_assert_cmpstr (field (rows, "cpu-01", MN_TWIN_FIELD_DECISION), ==, "start");
  g_assert_cmpstr (field (rows, "cpu-01", MN_TWIN_FIELD_GPUS), ==, "");
  g_assert_cmpstr (field (rows, "cpu-02", MN_TWIN_FIELD_DECISION), ==, "start");
  g_assert_cmpuint (count (rows, MN_TWIN_FIELD_GPU_FAILED, "1"), ==, 1);
}

/* ---- minna-twin ---------------------------------------------------------------- */

static gint
run_twin (const gchar *const *args, gchar **out)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  g_autofree gchar *bin = g_build_filename (build != NULL ? build : ".", "tests", "twin",
                                            "minna-twin", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  gint status = -1;

  g_ptr_array_add (argv, bin);
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, out, NULL, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_cli (void)
{
  g_autofree gchar *sc = source_path ("tests", "twin", "scenarios", "memory-hog.twin", NULL);
  g_autofree gchar *bad = source_path ("tests", "data", "twin", "n_bad-size.twin", NULL);
  g_autofree gchar *dir = g_dir_make_tmp ("twin-cli-XXXXXX", NULL);
  g_autofree gchar *model = g_build_filename (dir, "model.tsv", NULL);
  g_autofree gchar *real = g_build_filename (dir, "real.tsv", NULL);
  g_autofree gchar *out = NULL;
  g_autofree gchar *changed = NULL;
  const gchar *check[] = { "check", sc, NULL };
  const gchar *check_bad[] = { "check", bad, NULL };
  const gchar *sim[] = { "sim", sc, NULL };
  const gchar *cmp[] = { "compare", sc, model, real, "--cannot", "gpu_failed=no GPU", NULL };

  g_assert_cmpint (run_twin (check, &out), ==, 0);
  g_assert_nonnull (strstr (out, "OK (7 sessions)"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_twin (check_bad, &out), ==, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_twin (sim, &out), ==, 0);
  g_assert_true (g_str_has_prefix (out, "name\tuser\tdecision\t"));
  g_assert_true (g_file_set_contents (model, out, -1, NULL));
  g_assert_true (g_file_set_contents (real, out, -1, NULL));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_twin (cmp, &out), ==, 0);
  g_assert_nonnull (strstr (out, "twin memory-hog: 0 differences"));
  g_assert_nonnull (strstr (out, "gpu_failed: not compared for any session: no GPU"));
  g_clear_pointer (&out, g_free);
  /* The real run says the hog exited: one difference, exit status 1. */
  g_assert_true (g_file_get_contents (model, &out, NULL, NULL));
  {
    gchar *p = strstr (out, "memory-cap");

    g_assert_nonnull (p);
    memcpy (p, "exited\t\t\t", 6);
    memmove (p + 6, p + 10, strlen (p + 10) + 1);
  }
  g_assert_true (g_file_set_contents (real, out, -1, NULL));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_twin (cmp, &out), ==, 1);
  g_assert_nonnull (strstr (out, "end_reason: model 'memory-cap' real 'exited'"));
  g_unlink (model);
  g_unlink (real);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twin/scenario/corpus", test_corpus);
  g_test_add_func ("/twin/scenario/expand", test_expand);
  for (gsize i = 0; i < G_N_ELEMENTS (compare_cases); i++)
    g_test_add_data_func (compare_cases[i].path, &compare_cases[i], test_compare);
  g_test_add_func ("/twin/rows/tsv-errors", test_tsv_errors);
  g_test_add_func ("/twin/model/lecture-burst", test_lecture);
  g_test_add_func ("/twin/model/memory-hog", test_memory_hog);
  g_test_add_func ("/twin/model/gpu-capped", test_gpu_capped);
  g_test_add_func ("/twin/cli", test_cli);
  return g_test_run ();
}
