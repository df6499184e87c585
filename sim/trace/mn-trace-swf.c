/* mn-trace-swf.c: the Standard Workload Format v2.2 of the Parallel
 * Workloads Archive: 18 blank-separated integer fields per job, -1 for
 * unknown, header comments starting with ';'. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-private.h"

#include <string.h>

#define SWF_FIELDS 18

static const gchar *const swf_field_names[SWF_FIELDS] = {
  "job number", "submit time", "wait time", "run time", "allocated processors",
  "average CPU time", "used memory", "requested processors", "requested time",
  "requested memory", "status", "user", "group", "executable", "queue",
  "partition", "preceding job", "think time",
};

typedef struct {
  /* partition number -> resource type declared for it (minna-tracegen) */
  MnResourceType partition_rtype[64];
} SwfState;

static gboolean
swf_header_line (MnTraceReader *reader, const gchar *line, GError **error)
{
  SwfState *state = reader->state;
  const gchar *p = line;
  g_autofree gchar *key = NULL;
  const gchar *value;

  if (state == NULL)
    state = reader->state = g_new0 (SwfState, 1);
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return TRUE;
  if (*p != ';')
    return FALSE;
  if (!mn_trace_header_split (p + 1, &key, &value))
    return TRUE;
  mn_trace_header_set_key (&reader->header, key, value);
  if (g_ascii_strcasecmp (key, "Partition") == 0)
    {
      /* minna-tracegen declares "; Partition: 1 f_node ..." per resource type */
      g_auto(GStrv) words = g_strsplit_set (value, " \t", 3);
      gint64 number;

      if (g_strv_length (words) >= 2 && mn_trace_parse_int (words[0], &number) &&
          number >= 0 && number < (gint64) G_N_ELEMENTS (state->partition_rtype))
        state->partition_rtype[number] = mn_resource_type_from_string (words[1]);
    }
  return TRUE;
}

static gboolean
swf_parse_line (MnTraceReader *reader, gchar *line, MnTraceJob **job_out, GError **error)
{
  SwfState *state = reader->state;
  gchar *fields[SWF_FIELDS + 1];
  gint64 v[SWF_FIELDS];
  g_autoptr(MnTraceJob) job = NULL;
  gint64 base;
  guint n;

  *job_out = NULL;
  if (state == NULL)
    state = reader->state = g_new0 (SwfState, 1);
  n = mn_trace_split (line, ' ', fields, SWF_FIELDS + 1);
  if (n == 0)
    return TRUE;
  if (fields[0][0] == ';')
    {
      swf_header_line (reader, fields[0], NULL);
      return TRUE;
    }
  if (n != SWF_FIELDS)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                   "expected %d fields, found %s%u", SWF_FIELDS,
                   n > SWF_FIELDS ? "more than " : "", MIN (n, (guint) SWF_FIELDS));
      return FALSE;
    }
  for (guint i = 0; i < SWF_FIELDS; i++)
    {
      if (!mn_trace_parse_int (fields[i], &v[i]))
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                       "field %u (%s): not a number: '%.40s'", i + 1, swf_field_names[i],
                       fields[i]);
          return FALSE;
        }
      if (v[i] < -1)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                       "field %u (%s): negative value %" G_GINT64_FORMAT, i + 1,
                       swf_field_names[i], v[i]);
          return FALSE;
        }
    }
  if (v[1] < 0)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                   "field 2 (submit time): unknown");
      return FALSE;
    }
  /* Times are relative to UnixStartTime; keep them relative without it. */
  base = reader->header.unix_start_time >= 0 ? reader->header.unix_start_time : 0;
  if (v[1] > G_MAXINT64 / 4 || base > G_MAXINT64 / 4)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                   "field 2 (submit time): out of range");
      return FALSE;
    }

  job = mn_trace_job_new ();
  job->id = v[0];
  job->submit = base + v[1];
  if (v[2] >= 0 && v[2] < G_MAXINT64 / 4)
    job->start = job->submit + v[2];
  job->runtime = v[3];
  if (job->start >= 0 && v[3] >= 0 && v[3] < G_MAXINT64 / 4)
    job->end = job->start + v[3];
  job->procs_alloc = v[4];
  job->procs = v[7];
  job->walltime_req = v[8];
  {
    gint64 procs = job->procs_alloc > 0 ? job->procs_alloc : job->procs;

    if (v[5] >= 0 && procs > 0 && v[5] < G_MAXINT64 / (procs + 1))
      job->cpu_time = v[5] * procs;
    /* memory fields are KB per processor */
    if (v[6] >= 0 && procs > 0 && v[6] < G_MAXINT64 / (procs + 1))
      job->memory_used_mb = (v[6] * procs + 512) / 1024;
    if (v[9] >= 0 && v[7] > 0 && v[9] < G_MAXINT64 / (v[7] + 1))
      job->memory_req_mb = (v[9] * v[7] + 512) / 1024;
  }
  if (v[10] == 1)
    job->exit_status = 0;
  else if (v[10] == 0)
    job->exit_status = 1;
  if (v[11] >= 0)
    job->user = g_strdup_printf ("u%" G_GINT64_FORMAT, v[11]);
  if (v[12] >= 0)
    job->group = g_strdup_printf ("g%" G_GINT64_FORMAT, v[12]);
  if (v[14] >= 0)
    job->queue = g_strdup_printf ("%" G_GINT64_FORMAT, v[14]);
  /* SWF's convention: queue 0 holds the interactive jobs. */
  job->interactive = v[14] == 0;
  if (v[15] >= 0 && v[15] < (gint64) G_N_ELEMENTS (state->partition_rtype) &&
      state->partition_rtype[v[15]] != MN_RTYPE_NONE && job->procs > 0)
    {
      MnResourceType rtype = state->partition_rtype[v[15]];
      const MnResourceTypeInfo *info = mn_resource_type_info (rtype);

      job->rtype = rtype;
      job->rtype_count = (guint) MIN (job->procs / info->cores, G_MAXUINT);
      job->gpus = (gint64) job->rtype_count * info->gpus;
      /* the type fixes the memory; SWF's KB-per-processor figure rounds */
      job->memory_req_mb = (gint64) job->rtype_count * (gint64) info->memory_mb;
    }
  *job_out = g_steal_pointer (&job);
  return TRUE;
}

const MnTraceParser mn_trace_parser_swf = {
  .format = MN_TRACE_FORMAT_SWF,
  .header_line = swf_header_line,
  .parse_line = swf_parse_line,
  .flush = NULL,
  .free_state = g_free,
};
