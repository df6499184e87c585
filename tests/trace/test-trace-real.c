/* test-trace-real.c: the real SWF logs in ../shared/traces (Parallel
 * Workloads Archive): job counts (the header's MaxRecords minus what the
 * reader skipped) and the summary's figures. */
#include "mn-trace-reader.h"
#include "mn-trace-summary.h"

typedef struct {
  const gchar *file;
  guint64      jobs;
  gint64       removed_by_cleaning;  /* MaxRecords counts the uncleaned log */
  guint64      users;
  gint64       max_procs;
  double       utilization_lo, utilization_hi;
  gint64       first_id, last_id;
} RealCase;

static const RealCase cases[] = {
  /* KTH's MaxRecords already counts the cleaned log */
  { "KTH-SP2-1996-2.1-cln.swf.gz", 28476, 0, 214, 100, 0.68, 0.70, 15, 28490 },
  /* NASA's header keeps the original MaxRecords; its Note says the cleaning
   * filter removed 24025 jobs */
  { "NASA-iPSC-1993-3.1-cln.swf.gz", 18239, 24025, 69, 128, 0.45, 0.48, 1, 42264 },
};

static gchar *
shared_trace (const gchar *file)
{
  const gchar *shared = g_getenv ("MINNA_SHARED_DIR");
  g_autofree gchar *path = g_build_filename (shared != NULL ? shared : "../shared", "traces",
                                             file, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  return g_steal_pointer (&path);
}

static void
test_count (gconstpointer data)
{
  const RealCase *c = data;
  g_autofree gchar *path = shared_trace (c->file);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceReader) reader = NULL;
  const MnTraceHeader *header;
  MnTraceJob *job;
  guint64 n = 0;
  gint64 first_id = -1, last_id = -1, last_submit = -1;

  if (path == NULL)
    {
      g_test_skip ("the real traces are not in $MINNA_SHARED_DIR/traces");
      return;
    }
  reader = mn_trace_reader_open (path, MN_TRACE_FORMAT_AUTO, TRUE, &error);
  g_assert_no_error (error);
  header = mn_trace_reader_get_header (reader);
  g_assert_cmpint (header->format, ==, MN_TRACE_FORMAT_SWF);
  g_assert_cmpint (header->max_procs, ==, c->max_procs);
  while ((job = mn_trace_reader_next (reader, &error)) != NULL)
    {
      if (first_id < 0)
        first_id = job->id;
      last_id = job->id;
      g_assert_cmpint (job->submit, >=, header->unix_start_time);
      g_assert_cmpint (job->submit, >=, last_submit);   /* SWF is in submit order */
      last_submit = job->submit;
      mn_trace_job_free (job);
      n++;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (mn_trace_reader_get_n_skipped (reader), ==, 0);
  g_assert_cmpuint (n, ==, c->jobs);
  g_assert_cmpint ((gint64) n, ==, header->max_records - c->removed_by_cleaning -
                   (gint64) mn_trace_reader_get_n_skipped (reader));
  g_assert_cmpint (first_id, ==, c->first_id);
  g_assert_cmpint (last_id, ==, c->last_id);
}

static void
test_summary (gconstpointer data)
{
  const RealCase *c = data;
  g_autofree gchar *path = shared_trace (c->file);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceSummary) s = NULL;
  g_autoptr(JsonNode) json = NULL;
  JsonObject *o;

  if (path == NULL)
    {
      g_test_skip ("the real traces are not in $MINNA_SHARED_DIR/traces");
      return;
    }
  s = mn_trace_summarize (path, MN_TRACE_FORMAT_AUTO, TRUE, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->jobs, ==, c->jobs);
  g_assert_cmpuint (s->users, ==, c->users);
  g_assert_cmpuint (s->interactive_jobs, ==, 0);
  g_assert_cmpint (s->largest_procs, ==, c->max_procs);
  g_assert_false (s->node_based);
  g_assert_cmpfloat (s->offered_utilization, >, c->utilization_lo);
  g_assert_cmpfloat (s->offered_utilization, <, c->utilization_hi);
  g_assert_cmpint (s->busiest_month, >=, 0);
  json = mn_trace_summary_to_json (s);
  o = json_node_get_object (json);
  g_assert_cmpint (json_object_get_int_member (o, "jobs"), ==, (gint64) c->jobs);
  g_assert_cmpint (json_object_get_int_member (o, "skipped"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "format"), ==, "swf");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *p1 = g_strdup_printf ("/trace/real/%s/count", cases[i].file);
      g_autofree gchar *p2 = g_strdup_printf ("/trace/real/%s/summary", cases[i].file);

      g_test_add_data_func (p1, &cases[i], test_count);
      g_test_add_data_func (p2, &cases[i], test_summary);
    }
  return g_test_run ();
}
