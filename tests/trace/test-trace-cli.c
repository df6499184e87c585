/* test-trace-cli.c: `minna-sim summary` and `minna-tracegen` as users run
 * them: exit statuses, messages naming file:line, JSON output. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "test-trace-helpers.h"

static gchar *
build_path (const gchar *rel)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");

  return g_build_filename (build != NULL ? build : ".", rel, NULL);
}

/* Runs @argv (NULL-terminated); returns the exit status. */
static gint
run (gchar **out, gchar **err, const gchar *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const gchar *arg;
  gint status = -1;
  va_list ap;

  g_ptr_array_add (argv, g_strdup (first));
  va_start (ap, first);
  while ((arg = va_arg (ap, const gchar *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                &status, &error);
  g_assert_no_error (error);
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return -1;
}

static gchar *minna_sim;
static gchar *tracegen;

static void
test_summary_text (void)
{
  g_autofree gchar *path = test_source_path ("y_swf_minimal.swf", NULL);
  g_autofree gchar *out = NULL, *err = NULL;

  g_assert_cmpint (run (&out, &err, minna_sim, "summary", path, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "jobs:                1\n"));
  g_assert_nonnull (strstr (out, "(swf)"));
  g_assert_nonnull (strstr (out, "skipped lines:       0\n"));
}

static void
test_summary_json (void)
{
  g_autofree gchar *path = test_source_path ("y_sacct_parsable_trailing_bar.txt", NULL);
  g_autofree gchar *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  g_assert_cmpint (run (&out, &err, minna_sim, "summary", "--json", path, NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "format"), ==, "sacct");
  g_assert_cmpint (json_object_get_int_member (o, "jobs"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o, "merged_records"), ==, 1);
  g_assert_true (json_object_has_member (o, "offered_utilization"));
}

static void
test_summary_strict (void)
{
  g_autofree gchar *path = test_source_path ("n_swf_text.swf", NULL);
  g_autofree gchar *out = NULL, *err = NULL;
  g_autofree gchar *want = g_strdup_printf ("%s:4: field 4 (run time): not a number: 'abc'", path);

  g_assert_cmpint (run (&out, &err, minna_sim, "summary", "--strict", path, NULL), ==, 1);
  g_assert_nonnull (strstr (err, want));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* lenient: read, with the line listed as skipped */
  g_assert_cmpint (run (&out, &err, minna_sim, "summary", path, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "skipped lines:       1\n"));
  g_assert_nonnull (strstr (out, want));
}

static void
test_summary_forced_format (void)
{
  g_autofree gchar *path = test_source_path ("y_swf_minimal.swf", NULL);
  g_autofree gchar *out = NULL, *err = NULL;

  g_assert_cmpint (run (&out, &err, minna_sim, "summary", "--format", "native", "--strict", path,
                        NULL), ==, 1);
  g_assert_nonnull (strstr (err, ".swf:1: expected 23 tab-separated fields, found 1"));
}

typedef struct {
  const gchar *args[4];
  gint         status;
  const gchar *message;
} MisuseCase;

static const MisuseCase misuse_cases[] = {
  { { NULL }, 2, "expected one TRACE" },
  { { "a", "b", NULL }, 2, "expected one TRACE" },
  { { "--format", "csv", "x", NULL }, 2, "unknown trace format 'csv'" },
  { { "--nodes", "-3", "x", NULL }, 2, "must be positive" },
  { { "--bogus", "x", NULL }, 2, "Unknown option --bogus" },
  { { "/nonexistent/trace", NULL }, 1, "/nonexistent/trace: cannot open" },
};

static void
test_summary_misuse (gconstpointer data)
{
  const MisuseCase *c = data;
  g_autofree gchar *out = NULL, *err = NULL;
  gint status = run (&out, &err, minna_sim, "summary", c->args[0], c->args[1], c->args[2],
                     c->args[3], NULL);

  g_assert_cmpint (status, ==, c->status);
  if (strstr (err, c->message) == NULL)
    g_error ("stderr '%s' lacks '%s'", err, c->message);
}

static void
test_tracegen_summary (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("minna-tracegen-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "year.sge", NULL);
  g_autofree gchar *out = NULL, *err = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (run (&out, &err, tracegen, "--seed", "5", "--nodes", "54", "--no-interactive",
                        "--format", "sge", "--out", path, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (&out, &err, minna_sim, "summary", "--strict", path, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "(sge)"));
  g_assert_nonnull (strstr (out, "interactive jobs:    0 "));
  g_assert_nonnull (strstr (out, ", 54 nodes\n"));
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_tracegen_stdout (void)
{
  g_autofree gchar *out = NULL, *err = NULL;

  g_assert_cmpint (run (&out, &err, tracegen, "--nodes", "5", "--no-interactive", "--format",
                        "swf", "--out", "-", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "; Version: 2.2\n"));
  g_assert_nonnull (strstr (out, "; MaxNodes: 5\n"));
}

static const MisuseCase tracegen_misuse[] = {
  { { "--format", "native", NULL }, 2, "--out FILE is required" },
  { { "--format", "sacct", "--out", "-" }, 2, "--format" },
  { { "--seed", "-1", "--out", "-" }, 2, "--seed must be >= 0" },
  { { "--out", "/nonexistent/dir/x", NULL }, 1, "/nonexistent/dir/x: cannot create" },
};

static void
test_tracegen_misuse (gconstpointer data)
{
  const MisuseCase *c = data;
  g_autofree gchar *out = NULL, *err = NULL;
  gint status = run (&out, &err, tracegen, c->args[0], c->args[1], c->args[2], c->args[3], NULL);

  g_assert_cmpint (status, ==, c->status);
  if (strstr (err, c->message) == NULL)
    g_error ("stderr '%s' lacks '%s'", err, c->message);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  minna_sim = build_path ("sim/minna-sim");
  tracegen = build_path ("sim/trace/minna-tracegen");
  g_test_add_func ("/trace/cli/summary/text", test_summary_text);
  g_test_add_func ("/trace/cli/summary/json", test_summary_json);
  g_test_add_func ("/trace/cli/summary/strict", test_summary_strict);
  g_test_add_func ("/trace/cli/summary/forced-format", test_summary_forced_format);
  for (guint i = 0; i < G_N_ELEMENTS (misuse_cases); i++)
    {
      g_autofree gchar *p = g_strdup_printf ("/trace/cli/summary/misuse/%u", i);
      g_test_add_data_func (p, &misuse_cases[i], test_summary_misuse);
    }
  g_test_add_func ("/trace/cli/tracegen/sge-then-summary", test_tracegen_summary);
  g_test_add_func ("/trace/cli/tracegen/stdout", test_tracegen_stdout);
  for (guint i = 0; i < G_N_ELEMENTS (tracegen_misuse); i++)
    {
      g_autofree gchar *p = g_strdup_printf ("/trace/cli/tracegen/misuse/%u", i);
      g_test_add_data_func (p, &tracegen_misuse[i], test_tracegen_misuse);
    }
  status = g_test_run ();
  g_free (minna_sim);
  g_free (tracegen);
  return status;
}
