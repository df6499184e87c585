/* test-trace-generator.c: minna-tracegen's world: deterministic from the
 * seed, the shipped default world is exactly what the generator writes, the
 * trace-side calibration figures of traces/README.md hold (the replay-side
 * ones are checked by tests/sim/test-sim-world.c), the knobs do what they
 * say, and every writer's output reads back as the same jobs (within each
 * format's precision), maintenance windows and limits included. */
#include <math.h>

#include "mn-trace-gen.h"
#include "mn-trace-writer.h"
#include "mn-trace-summary.h"
#include "test-trace-helpers.h"

static GPtrArray *default_year;      /* seed 1, shared by the tests */
static MnTraceHeader default_header;

static GBytes *
serialize (GPtrArray *jobs, const MnTraceHeader *header, MnTraceFormat format, const gchar *note)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceWriter) writer = mn_trace_writer_new (out, "mem", format, header, note, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < jobs->len; i++)
    g_assert_true (mn_trace_writer_write (writer, g_ptr_array_index (jobs, i), &error));
  g_assert_true (mn_trace_writer_flush (writer, &error));
  g_assert_true (g_output_stream_close (out, NULL, &error));
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static GPtrArray *
small_year (guint64 seed, MnTraceHeader *header)
{
  MnTraceGenOptions options;

  mn_trace_gen_options_init (&options);
  options.seed = seed;
  options.nodes = 54;   /* a tenth of the machine: fewer batch jobs, same sessions */
  return mn_trace_generate (&options, header);
}

static void
test_prng (void)
{
  static const guint64 expected[] = {
    G_GUINT64_CONSTANT (12966619160104079557),
    G_GUINT64_CONSTANT (9600361134598540522),
    G_GUINT64_CONSTANT (10590380919521690900),
  };
  MnRandom rng;

  mn_random_init (&rng, 1);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (mn_random_next (&rng), ==, expected[i]);
  for (guint i = 0; i < 1000; i++)
    {
      double x = mn_random_double (&rng);

      g_assert_cmpfloat (x, >=, 0.0);
      g_assert_cmpfloat (x, <, 1.0);
    }
}

static void
test_deterministic (void)
{
  MnTraceHeader h1, h2, h3;
  g_autoptr(GPtrArray) a = small_year (7, &h1);
  g_autoptr(GPtrArray) b = small_year (7, &h2);
  g_autoptr(GPtrArray) c = small_year (8, &h3);
  g_autoptr(GBytes) ba = serialize (a, &h1, MN_TRACE_FORMAT_NATIVE, NULL);
  g_autoptr(GBytes) bb = serialize (b, &h2, MN_TRACE_FORMAT_NATIVE, NULL);
  g_autoptr(GBytes) bc = serialize (c, &h3, MN_TRACE_FORMAT_NATIVE, NULL);

  g_assert_true (g_bytes_equal (ba, bb));
  g_assert_false (g_bytes_equal (ba, bc));
  mn_trace_header_clear (&h1);
  mn_trace_header_clear (&h2);
  mn_trace_header_clear (&h3);
}

/* The file in traces/ is `minna-tracegen --seed 1 --format native`. */
static void
test_shipped_default (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = mn_trace_default_year_path (&error);
  g_autofree gchar *note = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) raw = NULL;
  g_autoptr(GZlibDecompressor) gunzip = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GBytes) shipped = NULL;
  g_autoptr(GBytes) generated = NULL;
  GFileInfo *info;

  g_assert_no_error (error);
  file = g_file_new_for_path (path);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_file_info_get_size (info), <=, 10 * 1000 * 1000);
  g_object_unref (info);
  raw = g_file_read (file, NULL, &error);
  g_assert_no_error (error);
  in = g_converter_input_stream_new (G_INPUT_STREAM (raw), G_CONVERTER (gunzip));
  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  shipped = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  note = g_strdup ("minna-tracegen --seed 1 --fiscal-year 2019 --months 17 --nodes 540: a "
                   "TSUBAME3-style world, not a real log");
  generated = serialize (default_year, &default_header, MN_TRACE_FORMAT_NATIVE, note);
  if (!g_bytes_equal (shipped, generated))
    g_error ("%s is not what `minna-tracegen --seed 1` writes (%" G_GSIZE_FORMAT " vs %"
             G_GSIZE_FORMAT " bytes): regenerate it", path, g_bytes_get_size (shipped),
             g_bytes_get_size (generated));
}

static gint
month_index (gint64 t, gint64 t0)
{
  g_autoptr(GDateTime) start = g_date_time_new_from_unix_utc (t0 + 9 * 3600);
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (t + 9 * 3600);

  return (g_date_time_get_year (now) - g_date_time_get_year (start)) * 12 +
         g_date_time_get_month (now) - g_date_time_get_month (start);
}

/* minna-tracegen's students are u100000 and above */
static gboolean
is_student (const MnTraceJob *j)
{
  return strlen (j->user) >= 7;
}

static gboolean
is_webapp (const MnTraceJob *j)
{
  return g_strcmp0 (j->name, "jupyter") == 0;
}

/* The trace-side figures of the TSUBAME3.0 report (traces/README.md's
 * calibration table, rows marked "trace"). */
static void
test_calibration (void)
{
  GPtrArray *jobs = default_year;
  gint64 t0 = default_header.unix_start_time, last = 0;
  guint64 by_hour[24] = { 0 }, batch = 0, sessions = 0, over_cap = 0, gpu = 0, idle = 0;
  guint64 web_iq = 0, web_allq = 0, before_trial = 0, in_maintenance = 0;
  g_autoptr(GHashTable) users_fy2019 = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) users_2020 = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) lecture_days = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint max_lecture = 0, min_lecture = G_MAXUINT;
  GHashTableIter iter;
  gpointer key, value;
  GArray *win = default_header.maintenance;

  g_assert_cmpint (default_header.max_nodes, ==, 540);
  g_assert_nonnull (win);
  g_assert_cmpuint (win->len, ==, 2);
  g_assert_nonnull (default_header.limits);
  for (guint i = 0; i < jobs->len; i++)
    {
      MnTraceJob *j = g_ptr_array_index (jobs, i);
      gint m = month_index (j->submit, t0);

      g_assert_cmpint (j->id, ==, i + 1);
      g_assert_cmpint (j->submit, >=, last);
      last = j->submit;
      g_assert_cmpint (m, >=, 0);
      g_assert_cmpint (m, <, 17);   /* April 2019 to August 2020 */
      g_assert_cmpint (j->runtime, >, 0);
      g_assert_cmpint (j->runtime, <=, j->walltime_req);
      g_assert_cmpint (j->walltime_req, <=, 24 * 3600);
      /* FY2019's maximum parallelism was 72 nodes, FY2020's 144 */
      g_assert_cmpfloat (mn_trace_job_get_nodes (j), <=, m < 12 ? 72 : 144);
      for (guint w = 0; w < win->len; w++)
        in_maintenance += j->submit >= g_array_index (win, MnTraceWindow, w).start &&
                          j->submit < g_array_index (win, MnTraceWindow, w).end;
      if (!j->interactive)
        {
          batch++;
          web_allq += is_webapp (j);
          continue;
        }
      sessions++;
      web_iq += is_webapp (j);
      if (m < 7)   /* before November 2019 */
        before_trial++;
      by_hour[((j->submit - t0) % 86400) / 3600]++;
      g_hash_table_add (m < 12 ? users_fy2019 : users_2020, j->user);
      if (j->memory_used_mb > 61440)
        over_cap++;
      if (j->gpu_memory_mb > 0)
        {
          gpu++;
          g_assert_cmpint (j->gpus, ==, 1);
        }
      else
        g_assert_cmpint (j->gpus, ==, 0);   /* no GPU use, no GPU asked */
      g_assert_cmpint (j->gpu_memory_mb, <=, 16384);
      if (j->cpu_active < 0.1)
        idle++;
      /* busy cores while active: 1 or 4 (what the simulator reads back) */
      if (j->cpu_active > 0 && j->runtime > 0)
        {
          double active = j->cpu_active * j->runtime;

          /* cpu_time is whole seconds */
          g_assert_true (fabs (j->cpu_time - active) <= 1 || fabs (j->cpu_time - 4 * active) <= 1);
        }
      g_assert_nonnull (j->memory_profile);
      g_assert_cmpint (g_array_index (j->memory_profile, MnMemoryStep, 0).offset, ==, 0);
      /* a lecture: launches from 10:00 or 11:00 within 40 minutes */
      {
        gint64 in_day = (j->submit - t0) % 86400;

        if ((in_day / 3600 == 10 || in_day / 3600 == 11) && in_day % 3600 <= 40 * 60 &&
            is_student (j))
          {
            gpointer day = GINT_TO_POINTER ((gint) ((j->submit - t0) / 86400) * 2 +
                                            (gint) (in_day / 3600 - 10));
            g_hash_table_insert (lecture_days, day,
                                 GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (lecture_days, day)) + 1));
          }
      }
    }
  g_hash_table_iter_init (&iter, lecture_days);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint n = GPOINTER_TO_UINT (value);

      /* homework sessions can land there too: count only lecture-sized groups */
      if (n >= 10)
        {
          max_lecture = MAX (max_lecture, n);
          min_lecture = MIN (min_lecture, n);
        }
    }
  g_test_message ("%" G_GUINT64_FORMAT " batch jobs, %" G_GUINT64_FORMAT " sessions, users "
                  "FY2019 %u, April-August 2020 %u, lectures %u..%u, web apps %.3f of "
                  "interactive.q, %.3f of web-app launches to all.q, %" G_GUINT64_FORMAT
                  " over 60 GB, %" G_GUINT64_FORMAT " with GPU, peaks %" G_GUINT64_FORMAT
                  " at 10:00, %" G_GUINT64_FORMAT " at 11:00",
                  batch, sessions, g_hash_table_size (users_fy2019),
                  g_hash_table_size (users_2020), min_lecture, max_lecture,
                  (double) web_iq / sessions, (double) web_allq / (web_allq + web_iq),
                  over_cap, gpu, by_hour[10], by_hour[11]);

  g_assert_cmpuint (batch, <, 400000);
  g_assert_cmpuint (batch, >, 150000);
  g_assert_cmpuint (in_maintenance, ==, 0);
  /* the trial from November 2019: about 54 users in FY2019, 188 April-August 2020 */
  g_assert_cmpuint (before_trial, ==, 0);
  g_assert_cmpuint (g_hash_table_size (users_fy2019), >=, 49);
  g_assert_cmpuint (g_hash_table_size (users_fy2019), <=, 59);
  g_assert_cmpuint (g_hash_table_size (users_2020), >=, 178);
  g_assert_cmpuint (g_hash_table_size (users_2020), <=, 198);
  /* web apps about 30% of interactive.q jobs; about 20% of their launches to all.q */
  g_assert_cmpfloat (fabs ((double) web_iq / sessions - 0.30), <, 0.03);
  g_assert_cmpfloat (fabs ((double) web_allq / (web_allq + web_iq) - 0.20), <, 0.04);
  /* launches by hour of day peak at 10:00 and 11:00 */
  for (guint h = 0; h < 24; h++)
    if (h != 10 && h != 11)
      {
        g_assert_cmpuint (by_hour[h], <, by_hour[10]);
        g_assert_cmpuint (by_hour[h], <, by_hour[11]);
      }
  /* lectures of 50 to 100 students */
  g_assert_cmpuint (min_lecture, >=, 45);
  g_assert_cmpuint (max_lecture, <=, 100);
  /* heavy-tailed memory: some sessions above the 60 GB cap, not many */
  g_assert_cmpuint (over_cap, >, 0);
  g_assert_cmpfloat ((double) over_cap / sessions, <, 0.05);
  /* mostly idle CPU; a GPU in a share of the sessions, not all */
  g_assert_cmpfloat ((double) idle / sessions, >, 0.7);
  g_assert_cmpfloat ((double) gpu / sessions, >, 0.2);
  g_assert_cmpfloat ((double) gpu / sessions, <, 0.6);
}

/* The knobs move what they name, and validation names a bad one. */
static void
test_knobs (void)
{
  MnTraceGenOptions o;
  g_autoptr(GError) error = NULL;
  guint64 gpu = 0, sessions = 0, web = 0, tail = 0, busy4 = 0, students = 0;

  mn_trace_gen_options_init (&o);
  g_assert_true (mn_trace_gen_options_validate (&o, &error));
  o.batch = FALSE;
  o.gpu_share = 1.0;
  o.webapp_share = 1.0;
  o.webapp_to_allq = 0.0;
  o.memory_tail_share = 0.0;
  o.busy_share = 1.0;
  o.busy_cores_heavy = 2;
  o.lectures = "mon 9:10";
  o.lecture_size = 2.0;
  g_assert_true (mn_trace_gen_options_validate (&o, &error));
  {
    g_autoptr(GPtrArray) jobs = mn_trace_generate (&o, NULL);
    g_autoptr(GHashTable) roster = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = 0; i < jobs->len; i++)
      {
        MnTraceJob *j = g_ptr_array_index (jobs, i);

        g_assert_true (j->interactive);
        sessions++;
        gpu += j->gpus == 1;
        web += is_webapp (j);
        tail += j->memory_used_mb > 20000;
        busy4 += fabs (j->cpu_time - 2 * j->cpu_active * j->runtime) <= 0.5;
        if (is_student (j))
          {
            students++;
            g_hash_table_add (roster, j->user);
          }
      }
    g_assert_cmpuint (gpu, ==, sessions);   /* the lecture has no share of its own */
    g_assert_cmpuint (students, >, 0);
    g_assert_cmpuint (web, ==, sessions);
    g_assert_cmpuint (busy4, >=, sessions * 99 / 100);   /* whole seconds, sessions cut by maintenance */
    g_assert_cmpuint (g_hash_table_size (roster), ==, 20);
    g_assert_cmpfloat ((double) tail / sessions, <, 0.005);
  }

  mn_trace_gen_options_init (&o);
  o.lectures = "monday 10";
  g_assert_false (mn_trace_gen_options_validate (&o, &error));
  g_assert_nonnull (strstr (error->message, "lectures"));
  g_clear_error (&error);
  o.lectures = "tue 25:70";
  g_assert_false (mn_trace_gen_options_validate (&o, &error));
  g_clear_error (&error);
  mn_trace_gen_options_init (&o);
  o.gpu_share = 1.5;
  g_assert_false (mn_trace_gen_options_validate (&o, &error));
  g_assert_nonnull (strstr (error->message, "gpu_share"));
}

/* Compares what @format carries of @a (written) and @b (read back). */
static void
assert_same_job (MnTraceFormat format, const MnTraceJob *a, const MnTraceJob *b)
{
  gint64 procs = mn_trace_job_get_procs (a);

  g_assert_cmpint (a->id, ==, b->id);
  g_assert_cmpint (a->submit, ==, b->submit);
  g_assert_cmpint (a->runtime, ==, b->runtime);
  g_assert_cmpint (a->walltime_req, ==, b->walltime_req);
  g_assert_cmpint (a->start, ==, b->start);
  g_assert_cmpint (a->end, ==, b->end);
  g_assert_cmpstr (a->user, ==, b->user);
  g_assert_cmpstr (a->group, ==, b->group);
  g_assert_cmpint (a->interactive, ==, b->interactive);
  g_assert_cmpint (a->rtype, ==, b->rtype);
  g_assert_cmpuint (a->rtype_count, ==, b->rtype_count);
  g_assert_cmpint (a->procs, ==, b->procs);
  /* SWF and Grid Engine give a typed job its type's GPUs: a session that
   * asks for none on a q_node reads back with the q_node's one */
  if (format == MN_TRACE_FORMAT_NATIVE || a->gpus != 0 || a->rtype == MN_RTYPE_NONE ||
      mn_resource_type_info (a->rtype)->gpus == 0)
    g_assert_cmpint (a->gpus, ==, b->gpus);
  g_assert_cmpint (a->memory_req_mb, ==, b->memory_req_mb);
  switch (format)
    {
    case MN_TRACE_FORMAT_NATIVE:
      g_assert_cmpstr (a->queue, ==, b->queue);
      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->memory_used_mb, ==, b->memory_used_mb);
      g_assert_cmpint (a->cpu_time, ==, b->cpu_time);
      g_assert_cmpfloat_with_epsilon (a->cpu_active, b->cpu_active, 1e-9);
      g_assert_cmpint (a->gpu_memory_mb, ==, b->gpu_memory_mb);
      g_assert_cmpint (a->exit_status, ==, b->exit_status);
      g_assert_cmpint (a->procs_alloc, ==, b->procs_alloc);
      g_assert_cmpint (a->memory_profile != NULL, ==, b->memory_profile != NULL);
      if (a->memory_profile != NULL)
        {
          g_assert_cmpuint (a->memory_profile->len, ==, b->memory_profile->len);
          g_assert_cmpmem (a->memory_profile->data, a->memory_profile->len * sizeof (MnMemoryStep),
                           b->memory_profile->data, b->memory_profile->len * sizeof (MnMemoryStep));
        }
      break;
    case MN_TRACE_FORMAT_SGE:
      g_assert_cmpstr (a->queue, ==, b->queue);
      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->memory_used_mb, ==, b->memory_used_mb);
      g_assert_cmpint (a->cpu_time, ==, b->cpu_time);
      g_assert_cmpint (a->exit_status, ==, b->exit_status);
      break;
    case MN_TRACE_FORMAT_SWF:
    default:
      /* SWF keeps per-processor averages in whole KB and seconds */
      g_assert_cmpint (ABS (a->memory_used_mb - b->memory_used_mb), <=, procs / 1024 + 1);
      g_assert_cmpint (ABS (a->cpu_time - b->cpu_time), <=, procs);
      g_assert_cmpint (a->exit_status == 0, ==, b->exit_status == 0);
      g_assert_cmpstr (b->queue, ==, a->interactive ? "0" : "1");
      break;
    }
}

static void
test_roundtrip (gconstpointer data)
{
  MnTraceFormat format = GPOINTER_TO_INT (data);
  MnTraceHeader header, back_header;
  g_autoptr(GPtrArray) jobs = small_year (3, &header);
  g_autoptr(GBytes) bytes = serialize (jobs, &header, format, "round trip");
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (bytes);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceReader) reader = mn_trace_reader_new_for_stream (in, "rt",
                                                                    MN_TRACE_FORMAT_AUTO, TRUE,
                                                                    &error);
  guint n = 0;
  MnTraceJob *job;

  g_assert_no_error (error);
  back_header = *mn_trace_reader_get_header (reader);
  g_assert_cmpint (back_header.format, ==, format);
  g_assert_cmpint (back_header.max_nodes, ==, 54);
  g_assert_cmpint (back_header.max_procs, ==, 54 * 28);
  if (format != MN_TRACE_FORMAT_SGE)
    {
      g_assert_cmpint (back_header.unix_start_time, ==, header.unix_start_time);
      g_assert_cmpint (back_header.max_records, ==, jobs->len);
    }
  g_assert_cmpint (back_header.time_zone_offset, ==, 9 * 3600);
  /* the site travels with the trace in every format */
  g_assert_nonnull (back_header.maintenance);
  g_assert_cmpmem (back_header.maintenance->data, back_header.maintenance->len * sizeof (MnTraceWindow),
                   header.maintenance->data, header.maintenance->len * sizeof (MnTraceWindow));
  g_assert_nonnull (back_header.limits);
  g_assert_cmpmem (back_header.limits->data, back_header.limits->len * sizeof (MnTraceLimits),
                   header.limits->data, header.limits->len * sizeof (MnTraceLimits));
  while ((job = mn_trace_reader_next (reader, &error)) != NULL)
    {
      g_assert_cmpuint (n, <, jobs->len);
      assert_same_job (format, g_ptr_array_index (jobs, n), job);
      mn_trace_job_free (job);
      n++;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, jobs->len);
  g_assert_cmpuint (mn_trace_reader_get_n_skipped (reader), ==, 0);
  mn_trace_header_clear (&header);
}

static void
test_summary_of_default (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = mn_trace_default_year_path (&error);
  g_autoptr(MnTraceSummary) s = NULL;
  gint p1, p2;

  g_assert_no_error (error);
  s = mn_trace_summarize (path, MN_TRACE_FORMAT_AUTO, TRUE, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->jobs, ==, default_year->len);
  g_assert_true (s->node_based);
  g_assert_cmpfloat (s->offered_utilization, >, 0.80);
  g_assert_cmpint (s->busiest_month, >=, 0);
  g_assert_cmpfloat (g_array_index (s->months, MnTraceMonth, s->busiest_month).utilization, >,
                     0.96);
  mn_trace_summary_peak_hours (s, &p1, &p2);
  g_assert_cmpint (MIN (p1, p2), ==, 10);
  g_assert_cmpint (MAX (p1, p2), ==, 11);
  g_assert_cmpint (s->largest_procs, ==, 144 * 28);
}

int
main (int argc, char **argv)
{
  MnTraceGenOptions options;
  int status;

  g_test_init (&argc, &argv, NULL);
  mn_trace_gen_options_init (&options);
  default_year = mn_trace_generate (&options, &default_header);

  g_test_add_func ("/trace/gen/prng-stable", test_prng);
  g_test_add_func ("/trace/gen/deterministic", test_deterministic);
  g_test_add_func ("/trace/gen/shipped-default-year", test_shipped_default);
  g_test_add_func ("/trace/gen/calibration", test_calibration);
  g_test_add_func ("/trace/gen/knobs", test_knobs);
  g_test_add_func ("/trace/gen/summary-of-default-year", test_summary_of_default);
  g_test_add_data_func ("/trace/roundtrip/native", GINT_TO_POINTER (MN_TRACE_FORMAT_NATIVE),
                        test_roundtrip);
  g_test_add_data_func ("/trace/roundtrip/swf", GINT_TO_POINTER (MN_TRACE_FORMAT_SWF),
                        test_roundtrip);
  g_test_add_data_func ("/trace/roundtrip/sge", GINT_TO_POINTER (MN_TRACE_FORMAT_SGE),
                        test_roundtrip);
  status = g_test_run ();
  g_ptr_array_unref (default_year);
  mn_trace_header_clear (&default_header);
  return status;
}
