/* test-trace-parse.c: the number, duration and memory parsers and the
 * resource-type table. */
#include "mn-trace-private.h"
#include "mn-trace-job.h"

typedef struct {
  const gchar *text;
  gboolean     ok;
  gint64       value;
} IntCase;

static const IntCase duration_cases[] = {
  { "00:00:00", TRUE, 0 },
  { "01:00:00", TRUE, 3600 },
  { "1-00:00:00", TRUE, 86400 },
  { "2-03:04:05", TRUE, 2 * 86400 + 3 * 3600 + 4 * 60 + 5 },
  { "10:30", TRUE, 630 },
  { "59", TRUE, 59 },
  { "05:02.123", TRUE, 302 },
  { "1-12", TRUE, 86400 + 12 * 3600 },
  { "UNLIMITED", TRUE, -1 },
  { "Partition_Limit", TRUE, -1 },
  { "", FALSE, 0 },
  { "abc", FALSE, 0 },
  { "1:2:3:4", FALSE, 0 },
  { "-01:00", FALSE, 0 },
  { "1-", FALSE, 0 },
  { "12:xx", FALSE, 0 },
};

static const IntCase memory_cases[] = {
  { "30000M", TRUE, 30000 },
  { "4G", TRUE, 4096 },
  { "4Gn", TRUE, 4096 },
  { "2Gc", TRUE, 2048 },
  { "1024K", TRUE, 1 },
  { "1.5T", TRUE, 1572864 },
  { "512", TRUE, 512 },          /* default unit M */
  { "", FALSE, 0 },
  { "-5M", FALSE, 0 },
  { "12Q", FALSE, 0 },
  { "M", FALSE, 0 },
  { "5Mx", FALSE, 0 },
};

static const IntCase int_cases[] = {
  { "0", TRUE, 0 },
  { "-1", TRUE, -1 },
  { "12345678901", TRUE, 12345678901 },
  { "12.75", TRUE, 12 },
  { "+7", TRUE, 7 },
  { "", FALSE, 0 },
  { "-", FALSE, 0 },
  { "1e5", FALSE, 0 },
  { "99999999999999999999", FALSE, 0 },
  { "12 ", FALSE, 0 },
};

static void
test_duration (gconstpointer data)
{
  const IntCase *c = data;
  gint64 v = 12345;

  g_assert_cmpint (mn_trace_parse_duration (c->text, &v), ==, c->ok);
  if (c->ok)
    g_assert_cmpint (v, ==, c->value);
}

static void
test_memory (gconstpointer data)
{
  const IntCase *c = data;
  gint64 v = 12345;

  g_assert_cmpint (mn_trace_parse_memory_mb (c->text, 'M', &v), ==, c->ok);
  if (c->ok)
    g_assert_cmpint (v, ==, c->value);
}

static void
test_int (gconstpointer data)
{
  const IntCase *c = data;
  gint64 v = 12345;

  g_assert_cmpint (mn_trace_parse_int (c->text, &v), ==, c->ok);
  if (c->ok)
    g_assert_cmpint (v, ==, c->value);
}

static void
test_split (void)
{
  gchar line[] = "  1   2\t3  ";
  gchar line2[] = "a|b||d|";
  gchar *f[8];

  g_assert_cmpuint (mn_trace_split (line, ' ', f, 8), ==, 3);
  g_assert_cmpstr (f[0], ==, "1");
  g_assert_cmpstr (f[2], ==, "3");
  g_assert_cmpuint (mn_trace_split (line2, '|', f, 8), ==, 5);
  g_assert_cmpstr (f[2], ==, "");
  g_assert_cmpstr (f[3], ==, "d");
  g_assert_cmpstr (f[4], ==, "");
}

static void
test_resource_types (void)
{
  static const struct { const gchar *name; MnResourceType type; guint cores, gpus;
                        guint64 mb; double share; } table[] = {
    { "F", MN_RTYPE_F, 28, 4, 245760, 1.0 },
    { "h_node", MN_RTYPE_H, 14, 2, 122880, 0.5 },
    { "q_node", MN_RTYPE_Q, 7, 1, 61440, 0.25 },
    { "C4", MN_RTYPE_C4, 4, 0, 30720, 1.0 / 7 },
    { "s_core", MN_RTYPE_C1, 1, 0, 7680, 1.0 / 28 },
    { "G1", MN_RTYPE_G1, 2, 1, 15360, 0.25 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      const MnResourceTypeInfo *info;

      g_assert_cmpint (mn_resource_type_from_string (table[i].name), ==, table[i].type);
      info = mn_resource_type_info (table[i].type);
      g_assert_cmpuint (info->cores, ==, table[i].cores);
      g_assert_cmpuint (info->gpus, ==, table[i].gpus);
      g_assert_cmpuint (info->memory_mb, ==, table[i].mb);
      g_assert_cmpfloat_with_epsilon (mn_resource_type_node_share (table[i].type),
                                      table[i].share, 1e-9);
    }
  g_assert_cmpint (mn_resource_type_from_string ("x_node"), ==, MN_RTYPE_NONE);
  g_assert_cmpint (mn_resource_type_from_string (NULL), ==, MN_RTYPE_NONE);
  g_assert_nonnull (mn_resource_type_info ((MnResourceType) 99));
}

static void
test_job_copy (void)
{
  g_autoptr(MnTraceJob) job = mn_trace_job_new ();
  g_autoptr(MnTraceJob) copy = NULL;

  g_assert_cmpint (job->submit, ==, -1);
  g_assert_cmpint (job->exit_status, ==, -1);
  g_assert_cmpfloat (job->cpu_active, <, 0);
  job->user = g_strdup ("alice");
  job->rtype = MN_RTYPE_H;
  job->rtype_count = 3;
  mn_trace_job_add_memory_step (job, 0, 100);
  mn_trace_job_add_memory_step (job, 60, 2000);
  copy = mn_trace_job_copy (job);
  g_assert_cmpstr (copy->user, ==, "alice");
  g_assert_true (copy->user != job->user);
  g_assert_cmpuint (copy->memory_profile->len, ==, 2);
  g_assert_cmpuint (g_array_index (copy->memory_profile, MnMemoryStep, 1).memory_mb, ==, 2000);
  g_assert_cmpint (mn_trace_job_get_procs (copy), ==, 42);
  g_assert_cmpfloat_with_epsilon (mn_trace_job_get_nodes (copy), 1.5, 1e-9);
  mn_trace_job_free (NULL);
}

static void
add_cases (const gchar *prefix, const IntCase *cases, guint n, GTestDataFunc func)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree gchar *path = g_strdup_printf ("%s/%u-%s", prefix, i,
                                                cases[i].ok ? "good" : "bad");
      g_test_add_data_func (path, &cases[i], func);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  add_cases ("/trace/parse/duration", duration_cases, G_N_ELEMENTS (duration_cases),
             test_duration);
  add_cases ("/trace/parse/memory", memory_cases, G_N_ELEMENTS (memory_cases), test_memory);
  add_cases ("/trace/parse/int", int_cases, G_N_ELEMENTS (int_cases), test_int);
  g_test_add_func ("/trace/parse/split", test_split);
  g_test_add_func ("/trace/job/resource-types", test_resource_types);
  g_test_add_func ("/trace/job/copy", test_job_copy);
  return g_test_run ();
}
