/* test-trace-conformance.c: the corpus in tests/data/trace: every y_* file
 * must load in strict mode (its format detected from the content, the name
 * saying which); every n_* file must fail in strict mode with the message
 * in its .expect file ("LINE: reason"), prefixed by the file's name, and in
 * lenient mode be read with that line skipped. */
#include "mn-trace-reader.h"
#include "test-trace-helpers.h"

static MnTraceFormat
format_of_name (const gchar *base)
{
  MnTraceFormat format = MN_TRACE_FORMAT_AUTO;
  g_auto(GStrv) parts = g_strsplit (base, "_", 3);

  g_assert_cmpuint (g_strv_length (parts), >=, 3);
  g_assert_true (mn_trace_format_from_string (parts[1], &format, NULL));
  return format;
}

static void
test_good (gconstpointer data)
{
  const gchar *path = data;
  g_autofree gchar *base = g_path_get_basename (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  MnTraceHeader header;
  guint64 n_skipped = 99;

  g_setenv ("TZ", "UTC", TRUE);
  jobs = mn_trace_load (path, MN_TRACE_FORMAT_AUTO, TRUE, &header, &n_skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpint (header.format, ==, format_of_name (base));
  g_assert_cmpuint (n_skipped, ==, 0);
  if (strstr (base, "empty") == NULL)
    g_assert_cmpuint (jobs->len, >, 0);
  for (guint i = 0; i < jobs->len; i++)
    {
      MnTraceJob *job = g_ptr_array_index (jobs, i);

      g_assert_cmpint (job->submit, >=, 0);
    }
  mn_trace_header_clear (&header);
}

static void
test_bad (gconstpointer data)
{
  const gchar *path = data;
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *expect_path = g_strconcat (path, ".expect", NULL);
  g_autofree gchar *expect = NULL;
  g_autofree gchar *want = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  MnTraceHeader header;
  guint64 n_skipped = 0;

  g_setenv ("TZ", "UTC", TRUE);
  g_assert_true (g_file_get_contents (expect_path, &expect, NULL, &error));
  g_assert_no_error (error);
  want = g_strdup_printf ("%s:%s", path, g_strstrip (expect));

  jobs = mn_trace_load (path, MN_TRACE_FORMAT_AUTO, TRUE, NULL, NULL, &error);
  g_assert_null (jobs);
  g_assert_nonnull (error);
  if (!g_str_has_prefix (error->message, want))
    g_error ("%s: got '%s', want it to begin '%s'", base, error->message, want);
  if (error->code == MN_TRACE_ERROR_FORMAT)
    return;     /* the header itself is wrong: nothing to read */
  g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE);

  /* lenient: the same line is skipped with the same reason */
  g_clear_error (&error);
  jobs = mn_trace_load (path, format_of_name (base), FALSE, &header, &n_skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_skipped, ==, 1);
  mn_trace_header_clear (&header);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

int
main (int argc, char **argv)
{
  g_autofree gchar *dir_path = test_source_path (NULL);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const gchar *name;
  guint good = 0, bad = 0;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    if ((g_str_has_prefix (name, "y_") || g_str_has_prefix (name, "n_")) &&
        !g_str_has_suffix (name, ".expect"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      const gchar *n = g_ptr_array_index (names, i);
      gchar *path = g_build_filename (dir_path, n, NULL);
      g_autofree gchar *test_path = g_strdup_printf ("/trace/conformance/%s", n);

      g_ptr_array_add (paths, path);
      if (n[0] == 'y')
        {
          g_test_add_data_func (test_path, path, test_good);
          good++;
        }
      else
        {
          g_test_add_data_func (test_path, path, test_bad);
          bad++;
        }
    }
  g_assert_cmpuint (good, >=, 10);
  g_assert_cmpuint (bad, >=, 20);
  return g_test_run ();
}
