/* test-trace-readers.c: each reader on small inline traces: fields, header
 * comments, format detection, gzip, skipped lines and strict mode, Grid
 * Engine merging, sacct steps and TRES. */
#include <glib/gstdio.h>

#include "mn-trace-reader.h"
#include "mn-trace-writer.h"
#include "test-trace-helpers.h"

static const gchar swf_text[] =
  "; Version: 2.2\n"
  "; Computer: test machine\n"
  "; MaxRecords: 4\n"
  "; UnixStartTime: 1000000\n"
  "; TimeZone: 3600\n"
  "; TimeZoneString: Europe/Stockholm\n"
  "; MaxNodes: 64\n"
  "; MaxProcs: 128\n"
  "; Queue: 0 interactive\n"
  "; Queue: 1 batch\n"
  ";\n"
  "    1    0   10  100   4  50  1024  4  3600  2048  1  7  2  -1  1 -1 -1 -1\n"
  "    2   20   -1   -1  -1  -1    -1  8    -1    -1  5  8  2  -1  0 -1 -1 -1\n"
  "this line is broken\n"
  "    3   30    0   60   2   -1   -1  2  120   -1  0  7  2  3  1 -1 -1 -1\n"
  "    4   40    0   60   2   -1   -1  2  120   -1 -7  7  2  3  1 -1 -1 -1\n";

static void
test_swf (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  guint64 n_skipped = 0;
  MnTraceJob *j;

  jobs = read_text (swf_text, "t.swf", MN_TRACE_FORMAT_AUTO, FALSE, &n_skipped, &skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 3);
  g_assert_cmpuint (n_skipped, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==,
                   "t.swf:14: expected 18 fields, found 4");
  g_assert_cmpstr (g_ptr_array_index (skipped, 1), ==,
                   "t.swf:16: field 11 (status): negative value -7");
  j = g_ptr_array_index (jobs, 0);
  g_assert_cmpint (j->id, ==, 1);
  g_assert_cmpint (j->submit, ==, 1000000);
  g_assert_cmpint (j->start, ==, 1000010);
  g_assert_cmpint (j->end, ==, 1000110);
  g_assert_cmpint (j->runtime, ==, 100);
  g_assert_cmpint (j->procs_alloc, ==, 4);
  g_assert_cmpint (j->procs, ==, 4);
  g_assert_cmpint (j->cpu_time, ==, 200);
  g_assert_cmpint (j->memory_used_mb, ==, 4);
  g_assert_cmpint (j->memory_req_mb, ==, 8);
  g_assert_cmpint (j->walltime_req, ==, 3600);
  g_assert_cmpint (j->exit_status, ==, 0);
  g_assert_cmpstr (j->user, ==, "u7");
  g_assert_cmpstr (j->group, ==, "g2");
  g_assert_cmpstr (j->queue, ==, "1");
  g_assert_false (j->interactive);
  j = g_ptr_array_index (jobs, 1);
  g_assert_true (j->interactive);
  g_assert_cmpint (j->start, ==, -1);
  g_assert_cmpint (j->end, ==, -1);
  g_assert_cmpint (j->runtime, ==, -1);
  g_assert_cmpint (j->exit_status, ==, -1);
  j = g_ptr_array_index (jobs, 2);
  g_assert_cmpint (j->exit_status, ==, 1);
}

static void
test_swf_header (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (swf_text, -1, NULL);
  g_autoptr(MnTraceReader) reader = mn_trace_reader_new_for_stream (in, "t.swf",
                                                                    MN_TRACE_FORMAT_SWF,
                                                                    FALSE, &error);
  const MnTraceHeader *h;

  g_assert_no_error (error);
  h = mn_trace_reader_get_header (reader);
  g_assert_cmpint (h->format, ==, MN_TRACE_FORMAT_SWF);
  g_assert_cmpint (h->max_records, ==, 4);
  g_assert_cmpint (h->max_procs, ==, 128);
  g_assert_cmpint (h->max_nodes, ==, 64);
  g_assert_cmpint (h->unix_start_time, ==, 1000000);
  g_assert_cmpint (h->time_zone_offset, ==, 3600);
  g_assert_cmpstr (h->time_zone, ==, "Europe/Stockholm");
  g_assert_cmpstr (h->computer, ==, "test machine");
  g_assert_cmpstr (g_hash_table_lookup (h->queues, "0"), ==, "interactive");
  g_assert_true (h->interactive_queue_zero);
}

static void
test_strict (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = read_text (swf_text, "t.swf", MN_TRACE_FORMAT_SWF, TRUE, NULL,
                                         NULL, &error);

  g_assert_null (jobs);
  g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE);
  g_assert_cmpstr (error->message, ==, "t.swf:14: expected 18 fields, found 4");
}

/* SGE 6.2 / SoGE 8.1: 45 fields, seconds.  Job 10 is rescheduled once,
 * job 11 is a parallel job with two slave records before its master. */
static const gchar sge_text[] =
  "# Version: 8.1.9\n"
  "#\n"
  "# ATTENTION: This file contains redundant information.\n"
  "all.q:n1:staff:alice:run.sh:10:sge:0:1500000000:1500000100:1500000200:25:0:100:10:1:2048:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:NONE:1:0:11.000000:0:0:-U staff -l h_rt=600 -q all.q:0.000000:NONE:0:0:0\n"
  "all.q:n2:staff:alice:run.sh:10:sge:0:1500000000:1500000300:1500000500:0:0:200:20:1:4096:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:NONE:1:0:21.000000:0:0:-U staff -l h_rt=600 -q all.q:0.000000:NONE:5242880:0:0\n"
  "all.q:n3:staff:bob:mpi.sh:11:sge:0:1500000010:1500000020:1500001020:0:0:1000:500:0:1024:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:mpi:56:0:500.000000:0:0:-U staff -l h_rt=3600,f_node=2 -q all.q:0.000000:1.n3:0:0:0\n"
  "all.q:n4:staff:bob:mpi.sh:11:sge:0:1500000010:1500000020:1500001020:0:0:1000:400:0:1024:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:mpi:56:0:400.000000:0:0:-U staff -l h_rt=3600,f_node=2 -q all.q:0.000000:1.n4:0:0:0\n"
  "all.q:n3:staff:bob:mpi.sh:11:sge:0:1500000010:1500000020:1500001020:0:0:1000:10:0:1024:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:mpi:56:0:10.000000:0:0:-U staff -l h_rt=3600,f_node=2 -q all.q:0.000000:NONE:2147483648:0:0\n"
  "interactive.q:n5:stud:carol:QRLOGIN:12:sge:0:1500000030:1500000031:1500003631:0:0:3600:5:0:1024:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:NONE:1:0:5.000000:0:0:-U stud -l h_rt=7200,q_node=1 -q interactive.q:0.000000:NONE:0:0:0\n"
  "all.q:n6:stud:dave:QLOGIN:13:sge:0:1500000040:1500000041:1500000641:0:0:600:5:0:1024:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:NONE:1:0:5.000000:0:0:-U stud -l h_rt=1:00:00 -q all.q:0.000000:NONE:0:0:0\n"
  "short:line\n";

static void
test_sge (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  guint64 n_skipped = 0;
  MnTraceJob *j;

  jobs = read_text (sge_text, "accounting", MN_TRACE_FORMAT_AUTO, FALSE, &n_skipped, &skipped,
                    &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 4);
  g_assert_cmpuint (n_skipped, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==,
                   "accounting:11: expected at least 45 colon-separated fields (Grid Engine "
                   "accounting), found 2");
  j = g_ptr_array_index (jobs, 0);        /* the retry: the second run counts */
  g_assert_cmpint (j->id, ==, 10);
  g_assert_cmpint (j->submit, ==, 1500000000);
  g_assert_cmpint (j->start, ==, 1500000300);
  g_assert_cmpint (j->end, ==, 1500000500);
  g_assert_cmpint (j->runtime, ==, 200);
  g_assert_cmpint (j->walltime_req, ==, 600);
  g_assert_cmpint (j->memory_used_mb, ==, 5);
  g_assert_cmpstr (j->user, ==, "alice");
  g_assert_cmpstr (j->group, ==, "staff");
  g_assert_cmpstr (j->queue, ==, "all.q");
  j = g_ptr_array_index (jobs, 1);        /* the parallel job: slaves merged */
  g_assert_cmpint (j->id, ==, 11);
  g_assert_cmpint (j->cpu_time, ==, 910);
  g_assert_cmpint (j->memory_used_mb, ==, 2048);
  g_assert_cmpint (j->rtype, ==, MN_RTYPE_F);
  g_assert_cmpuint (j->rtype_count, ==, 2);
  g_assert_cmpint (j->gpus, ==, 8);
  g_assert_cmpint (j->procs, ==, 56);
  g_assert_cmpint (j->walltime_req, ==, 3600);
  g_assert_false (j->interactive);
  j = g_ptr_array_index (jobs, 2);
  g_assert_true (j->interactive);
  g_assert_cmpint (j->rtype, ==, MN_RTYPE_Q);
  j = g_ptr_array_index (jobs, 3);
  g_assert_true (j->interactive);      /* by the name qlogin writes */
  g_assert_cmpint (j->walltime_req, ==, 3600);
}

static void
test_sge_merged_count (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (sge_text, -1, NULL);
  g_autoptr(MnTraceReader) reader = mn_trace_reader_new_for_stream (in, "a", MN_TRACE_FORMAT_SGE,
                                                                    FALSE, &error);
  MnTraceJob *job;
  guint n = 0;

  while ((job = mn_trace_reader_next (reader, &error)) != NULL)
    {
      mn_trace_job_free (job);
      n++;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpuint (mn_trace_reader_get_n_merged (reader), ==, 3);
}

/* Univa Grid Engine 8.x: more fields, times in epoch milliseconds. */
static const gchar uge_text[] =
  "all.q:n1:staff:alice:job:20:sge:0:1500000000123:1500000100456:1500000200789:0:0:100.333:1.0:0.5:2048:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:NONE:4:0:12.5:0:0:-U staff -l h_rt=600,h_vmem=2G -q all.q:0.0:NONE:0:0:0:batch:NONE:2048:2048:submithost:/home/alice:qsub job.sh:100.333:0\n";

static void
test_uge (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = read_text (uge_text, "uge", MN_TRACE_FORMAT_AUTO, TRUE, NULL, NULL,
                                         &error);
  MnTraceJob *j;

  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 1);
  j = g_ptr_array_index (jobs, 0);
  g_assert_cmpint (j->submit, ==, 1500000000);
  g_assert_cmpint (j->start, ==, 1500000100);
  g_assert_cmpint (j->end, ==, 1500000200);
  g_assert_cmpint (j->runtime, ==, 100);
  g_assert_cmpint (j->cpu_time, ==, 13);
  g_assert_cmpint (j->procs, ==, 4);
  g_assert_cmpint (j->memory_req_mb, ==, 8192);
  g_assert_cmpint (j->walltime_req, ==, 600);
}

static const gchar sacct_text[] =
  "JobID|JobIDRaw|JobName|User|Group|Partition|QOS|Submit|Start|End|Elapsed|Timelimit|AllocCPUS|ReqCPUS|ReqMem|MaxRSS|TotalCPU|State|ExitCode|AllocTRES\n"
  "100|100|train|alice|lab|gpu|normal|2023-04-01T10:00:00|2023-04-01T10:05:00|2023-04-01T12:05:00|02:00:00|1-00:00:00|8|8|30000M||01:30:00|COMPLETED|0:0|billing=8,cpu=8,gres/gpu=2,mem=30000M,node=1\n"
  "100.batch|100.batch|batch|||gpu||2023-04-01T10:05:00|2023-04-01T10:05:00|2023-04-01T12:05:00|02:00:00||8|8||2000K|01:30:00|COMPLETED|0:0|cpu=8,mem=30000M,node=1\n"
  "101_3|105|bash|bob|lab|interactive|normal|2023-04-01T11:00:00|Unknown|Unknown|00:00:00|UNLIMITED|0|1|2Gc||00:00:00|PENDING|0:0|\n"
  "102|102|sim|bob|lab|batch|normal|2023-04-01T11:30:00|2023-04-01T11:31:00|2023-04-01T11:41:00|10:00|00:30:00|4|4|4Gn||05:00.500|FAILED|1:0|billing=4,cpu=4,gres/gpu:v100=1,gres/gpu:a100=1,node=1\n"
  "103|103|sim|bob|lab|batch|normal|2023-04-01T11:30:00|2023-04-01T11:31:00|2023-04-01T11:41:00|10:00|00:30:00|4|4|4G||05:00|CANCELLED by 0|0:9|\n"
  "104|104|sim|bob|lab|batch|normal|yesterday|2023-04-01T11:31:00|2023-04-01T11:41:00|10:00|00:30:00|4|4|4G||05:00|COMPLETED|0:0|\n"
  "105|105|sim|bob\n"
  "106_[1-5]|106|arr|bob|lab|batch|normal|2023-04-01T11:30:00|Unknown|Unknown|00:00:00|00:30:00|0|1|4G||00:00|PENDING|0:0|\n";

static void
test_sacct (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  guint64 n_skipped = 0;
  MnTraceJob *j;

  g_setenv ("TZ", "UTC", TRUE);
  jobs = read_text (sacct_text, "sacct.txt", MN_TRACE_FORMAT_AUTO, FALSE, &n_skipped, &skipped,
                    &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 4);
  g_assert_cmpuint (n_skipped, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==,
                   "sacct.txt:7: column Submit: not a time (YYYY-MM-DDTHH:MM:SS): 'yesterday'");
  g_assert_cmpstr (g_ptr_array_index (skipped, 1), ==,
                   "sacct.txt:8: expected 20 '|'-separated columns as in the header, found 4");
  g_assert_true (strstr (g_ptr_array_index (skipped, 2), "sacct.txt:9: column JobID") != NULL);
  j = g_ptr_array_index (jobs, 0);
  g_assert_cmpint (j->id, ==, 100);
  g_assert_cmpint (j->submit, ==, 1680343200);
  g_assert_cmpint (j->start, ==, 1680343500);
  g_assert_cmpint (j->end, ==, 1680350700);
  g_assert_cmpint (j->runtime, ==, 7200);
  g_assert_cmpint (j->walltime_req, ==, 86400);
  g_assert_cmpint (j->procs_alloc, ==, 8);
  g_assert_cmpint (j->memory_req_mb, ==, 30000);
  g_assert_cmpint (j->cpu_time, ==, 5400);
  g_assert_cmpint (j->gpus, ==, 2);
  g_assert_cmpint (j->exit_status, ==, 0);
  g_assert_cmpstr (j->queue, ==, "gpu");
  g_assert_false (j->interactive);
  j = g_ptr_array_index (jobs, 1);
  g_assert_cmpint (j->id, ==, 105);            /* JobIDRaw wins */
  g_assert_true (j->interactive);
  g_assert_cmpint (j->start, ==, -1);
  g_assert_cmpint (j->runtime, ==, -1);
  g_assert_cmpint (j->walltime_req, ==, -1);
  g_assert_cmpint (j->memory_req_mb, ==, 2048);
  g_assert_cmpint (j->procs_alloc, ==, -1);
  j = g_ptr_array_index (jobs, 2);
  g_assert_cmpint (j->runtime, ==, 600);
  g_assert_cmpint (j->walltime_req, ==, 1800);
  g_assert_cmpint (j->cpu_time, ==, 300);
  g_assert_cmpint (j->gpus, ==, 2);
  g_assert_cmpint (j->exit_status, ==, 1);
  j = g_ptr_array_index (jobs, 3);
  g_assert_cmpint (j->exit_status, ==, 137);
}

static void
test_sacct_no_header (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = read_text ("100|alice|2023-04-01T10:00:00\n", "s",
                                         MN_TRACE_FORMAT_SACCT, FALSE, NULL, NULL, &error);

  g_assert_null (jobs);
  g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT);
  g_assert_true (g_str_has_prefix (error->message, "s:1: sacct output needs a header line"));
}

static const gchar native_text[] =
  "#minna-trace 1\n"
  "# MaxNodes: 540\n"
  "# Queue: interactive.q interactive\n"
  "1\t100\t-1\t-1\t3600\t7200\tu1\tg1\tinteractive.q\t1\tjupyter\tQ\t1\t7\t-1\t1\t61440\t2048\t90\t0.0250\t1500\t0\t0:300,600:2048,3000:900\n"
  "2\t200\t210\t310\t100\t600\tmy%09user\t-\t%2D\t0\t-\t-\t0\t4\t4\t-1\t-1\t-1\t-1\t-1\t-1\t-1\t-\n"
  "3\t200\t210\t310\t100\t600\tu\tg\tq\t2\t-\t-\t0\t4\t4\t-1\t-1\t-1\t-1\t-1\t-1\t-1\t-\n"
  "4\t200\t210\t310\t100\t600\tu\tg\tq\t0\t-\tX\t1\t4\t4\t-1\t-1\t-1\t-1\t-1\t-1\t-1\t-\n"
  "5\t200\t210\t310\t100\t600\tu\tg\tq\t0\t-\t-\t0\t4\t4\t-1\t-1\t-1\t-1\t1.5\t-1\t-1\t-\n"
  "6\t200\t210\t310\t100\t600\tu\tg\tq\t0\t-\t-\t0\t4\t4\t-1\t-1\t-1\t-1\t-1\t-1\t-1\t10:5,5:6\n"
  "7\t200\t310\t210\t100\t600\tu\tg\tq\t0\t-\t-\t0\t4\t4\t-1\t-1\t-1\t-1\t-1\t-1\t-1\t-\n"
  "8\t200\n";

static void
test_native (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  guint64 n_skipped = 0;
  MnTraceJob *j;
  static const gchar *const reasons[] = {
    "t.mn:6: field 10 (interactive): expected 0 or 1: '2'",
    "t.mn:7: field 12 (rtype): unknown resource type (F, H, Q, C4, C1, G1 or -): 'X'",
    "t.mn:8: field 20 (cpu_active): expected a share from 0 to 1, or -1: '1.5'",
    "t.mn:9: field 23 (memory_profile): bad step '5:6' (offsets must increase, values be >= 0)",
    "t.mn:10: field 4 (end): end before start: '210'",
    "t.mn:11: expected 23 tab-separated fields, found 2",
  };

  jobs = read_text (native_text, "t.mn", MN_TRACE_FORMAT_AUTO, FALSE, &n_skipped, &skipped,
                    &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 2);
  g_assert_cmpuint (n_skipped, ==, G_N_ELEMENTS (reasons));
  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    g_assert_cmpstr (g_ptr_array_index (skipped, i), ==, reasons[i]);
  j = g_ptr_array_index (jobs, 0);
  g_assert_true (j->interactive);
  g_assert_cmpint (j->rtype, ==, MN_RTYPE_Q);
  g_assert_cmpfloat_with_epsilon (j->cpu_active, 0.025, 1e-9);
  g_assert_cmpint (j->gpu_memory_mb, ==, 1500);
  g_assert_cmpuint (j->memory_profile->len, ==, 3);
  g_assert_cmpint (g_array_index (j->memory_profile, MnMemoryStep, 2).offset, ==, 3000);
  j = g_ptr_array_index (jobs, 1);
  g_assert_cmpstr (j->user, ==, "my\tuser");
  g_assert_null (j->group);
  g_assert_cmpstr (j->queue, ==, "-");
  g_assert_null (j->name);
  g_assert_null (j->memory_profile);
}

static void
test_native_version (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = read_text ("#minna-trace 7\n", "v.mn", MN_TRACE_FORMAT_AUTO, FALSE,
                                         NULL, NULL, &error);

  g_assert_null (jobs);
  g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT);
  g_assert_true (g_str_has_prefix (error->message, "v.mn:1: unsupported minna-trace version"));
}

typedef struct {
  const gchar  *text;
  MnTraceFormat format;
} DetectCase;

static const DetectCase detect_cases[] = {
  { "; Version: 2.2\n1 0 0 1 1 -1 -1 1 1 -1 1 1 1 -1 1 -1 -1 -1\n", MN_TRACE_FORMAT_SWF },
  { "\n\n  1 0 0 1 1 -1 -1 1 1 -1 1 1 1 -1 1 -1 -1 -1\n", MN_TRACE_FORMAT_SWF },
  { "#minna-trace 1\n", MN_TRACE_FORMAT_NATIVE },
  { "# Version: 8.1.9\nall.q:h:g:u:n:1:sge:0:1:1:1:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:"
    "NONE:d:NONE:1:0:0:0:0:-U g:0:NONE:0:0:0\n", MN_TRACE_FORMAT_SGE },
  { "JobID|User|Submit\n1|a|2023-01-01T00:00:00\n", MN_TRACE_FORMAT_SACCT },
  { "jobid|user|submit\n", MN_TRACE_FORMAT_SACCT },
  { "hello world\n", MN_TRACE_FORMAT_AUTO },
  { "", MN_TRACE_FORMAT_AUTO },
};

static void
test_detect (gconstpointer data)
{
  const DetectCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (c->text, -1, NULL);
  g_autoptr(MnTraceReader) reader = mn_trace_reader_new_for_stream (in, "d",
                                                                    MN_TRACE_FORMAT_AUTO, FALSE,
                                                                    &error);

  if (c->format == MN_TRACE_FORMAT_AUTO)
    {
      g_assert_null (reader);
      g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT);
      g_assert_true (g_str_has_prefix (error->message, "d: cannot tell the trace format"));
      return;
    }
  g_assert_no_error (error);
  g_assert_cmpint (mn_trace_reader_get_header (reader)->format, ==, c->format);
}

static void
test_gzip (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("minna-trace-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "t.anyname", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GOutputStream) raw = NULL;
  g_autoptr(GOutputStream) gz = NULL;
  g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  g_autoptr(GPtrArray) jobs = NULL;
  MnTraceHeader header;
  guint64 n_skipped = 99;

  g_assert_no_error (error);
  raw = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, 0, NULL, &error));
  g_assert_no_error (error);
  gz = g_converter_output_stream_new (raw, G_CONVERTER (compressor));
  g_assert_true (g_output_stream_write_all (gz, swf_text, strlen (swf_text), NULL, NULL, &error));
  g_assert_true (g_output_stream_close (gz, NULL, &error));
  g_assert_no_error (error);

  jobs = mn_trace_load (path, MN_TRACE_FORMAT_AUTO, FALSE, &header, &n_skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 3);
  g_assert_cmpuint (n_skipped, ==, 2);
  g_assert_cmpint (header.max_procs, ==, 128);
  g_assert_cmpstr (g_hash_table_lookup (header.queues, "1"), ==, "batch");
  mn_trace_header_clear (&header);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_truncated_gzip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  guchar out[4096];
  gsize read = 0, written = 0;
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(MnTraceReader) reader = NULL;
  MnTraceJob *job;

  g_converter_convert (G_CONVERTER (compressor), swf_text, strlen (swf_text), out, sizeof out,
                       G_CONVERTER_INPUT_AT_END, &read, &written, &error);
  g_assert_no_error (error);
  /* cut the stream short, and corrupt what follows the header */
  out[written / 2] ^= 0x55;
  in = g_memory_input_stream_new_from_data (out, (gssize) (written / 2 + 5), NULL);
  reader = mn_trace_reader_new_for_stream (in, "cut.gz", MN_TRACE_FORMAT_SWF, FALSE, &error);
  if (reader == NULL)
    {
      g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO);
      return;
    }
  while ((job = mn_trace_reader_next (reader, &error)) != NULL)
    mn_trace_job_free (job);
  g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "cut.gz: "));
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceReader) reader = mn_trace_reader_open ("/nonexistent/trace.swf",
                                                          MN_TRACE_FORMAT_AUTO, FALSE, &error);

  g_assert_null (reader);
  g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "/nonexistent/trace.swf: cannot open"));
}

static void
test_long_line (void)
{
  g_autoptr(GString) text = g_string_new ("; Version: 2.2\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  guint64 n_skipped = 0;

  g_string_append (text, "1 0 0 1 1 -1 -1 1 1 -1 1 1 1 -1 1 -1 -1 -1\n");
  for (guint i = 0; i < 300000; i++)
    g_string_append (text, "1234567 ");
  g_string_append (text, "\n2 0 0 1 1 -1 -1 1 1 -1 1 1 1 -1 1 -1 -1 -1");   /* no final newline */
  jobs = read_text (text->str, "long.swf", MN_TRACE_FORMAT_SWF, FALSE, &n_skipped, &skipped,
                    &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 2);
  g_assert_cmpuint (n_skipped, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==, "long.swf:3: line longer than 1048576 bytes");
  g_assert_cmpint (((MnTraceJob *) g_ptr_array_index (jobs, 1))->id, ==, 2);
}

static void
test_many_skipped (void)
{
  g_autoptr(GString) text = g_string_new ("; Version: 2.2\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  guint64 n_skipped = 0;

  for (guint i = 0; i < 1000; i++)
    g_string_append (text, "x\n");
  jobs = read_text (text->str, "bad.swf", MN_TRACE_FORMAT_SWF, FALSE, &n_skipped, &skipped,
                    &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 0);
  g_assert_cmpuint (n_skipped, ==, 1000);
  g_assert_cmpuint (skipped->len, ==, 200);    /* bounded */
  g_assert_cmpstr (g_ptr_array_index (skipped, 199), ==,
                   "bad.swf:201: expected 18 fields, found 1");
}

static void
test_format_names (void)
{
  g_autoptr(GError) error = NULL;
  MnTraceFormat format;

  for (guint f = MN_TRACE_FORMAT_AUTO; f <= MN_TRACE_FORMAT_NATIVE; f++)
    {
      g_assert_true (mn_trace_format_from_string (mn_trace_format_to_string (f), &format, &error));
      g_assert_cmpint (format, ==, f);
    }
  g_assert_false (mn_trace_format_from_string ("csv", &format, &error));
  g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT);
  g_assert_true (strstr (error->message, "'csv'") != NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace/swf/fields", test_swf);
  g_test_add_func ("/trace/swf/header", test_swf_header);
  g_test_add_func ("/trace/swf/strict", test_strict);
  g_test_add_func ("/trace/sge/fields-and-merging", test_sge);
  g_test_add_func ("/trace/sge/merged-count", test_sge_merged_count);
  g_test_add_func ("/trace/sge/univa-milliseconds", test_uge);
  g_test_add_func ("/trace/sacct/fields", test_sacct);
  g_test_add_func ("/trace/sacct/no-header", test_sacct_no_header);
  g_test_add_func ("/trace/native/fields", test_native);
  g_test_add_func ("/trace/native/version", test_native_version);
  for (guint i = 0; i < G_N_ELEMENTS (detect_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/trace/detect/%u-%s", i,
                                                mn_trace_format_to_string (detect_cases[i].format));
      g_test_add_data_func (path, &detect_cases[i], test_detect);
    }
  g_test_add_func ("/trace/reader/gzip", test_gzip);
  g_test_add_func ("/trace/reader/truncated-gzip", test_truncated_gzip);
  g_test_add_func ("/trace/reader/missing-file", test_missing_file);
  g_test_add_func ("/trace/reader/long-line", test_long_line);
  g_test_add_func ("/trace/reader/skipped-bounded", test_many_skipped);
  g_test_add_func ("/trace/reader/format-names", test_format_names);
  return g_test_run ();
}
