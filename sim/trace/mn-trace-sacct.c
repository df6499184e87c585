/* mn-trace-sacct.c: Slurm's `sacct -a -X -P` output: a header line naming
 * the columns, then '|'-separated rows; times in ISO form (local time),
 * durations as [D-]HH:MM:SS, memory like 30000M, TRES strings for GPUs.
 * The columns may come in any order; only JobID and Submit are required. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-private.h"

#include <stdio.h>
#include <string.h>

#define SACCT_MAX_COLUMNS 128

typedef enum {
  C_JOBID, C_JOBIDRAW, C_JOBNAME, C_USER, C_GROUP, C_ACCOUNT, C_PARTITION, C_QOS, C_SUBMIT,
  C_START, C_END, C_ELAPSED, C_ELAPSEDRAW, C_TIMELIMIT, C_TIMELIMITRAW, C_ALLOCCPUS, C_NCPUS,
  C_REQCPUS, C_REQMEM, C_MAXRSS, C_TOTALCPU, C_STATE, C_EXITCODE, C_ALLOCTRES, C_REQTRES,
  C_NNODES, C_LAST
} Column;

static const gchar *const column_names[C_LAST] = {
  "JobID", "JobIDRaw", "JobName", "User", "Group", "Account", "Partition", "QOS", "Submit",
  "Start", "End", "Elapsed", "ElapsedRaw", "Timelimit", "TimelimitRaw", "AllocCPUS", "NCPUS",
  "ReqCPUS", "ReqMem", "MaxRSS", "TotalCPU", "State", "ExitCode", "AllocTRES", "ReqTRES",
  "NNodes",
};

typedef struct {
  gint        index[C_LAST];    /* column position, -1 if absent */
  guint       n_columns;
  gchar       delimiter;        /* '|', or what `sacct --delimiter=X` used */
  gboolean    trailing;         /* `sacct -p`: every line ends with the delimiter */
  gboolean    have_header;
  GTimeZone  *tz;
} SacctState;

static void
sacct_free_state (gpointer data)
{
  SacctState *state = data;

  if (state->tz != NULL)
    g_time_zone_unref (state->tz);
  g_free (state);
}

static gboolean
sacct_header_line (MnTraceReader *reader, const gchar *line, GError **error)
{
  SacctState *state = reader->state;
  g_autofree gchar *copy = NULL;
  gchar *cols[SACCT_MAX_COLUMNS];
  guint n;

  if (state == NULL)
    {
      state = reader->state = g_new0 (SacctState, 1);
      /* sacct prints local time without an offset: read it in $TZ */
      state->tz = g_time_zone_new_local ();
    }
  if (line[0] == '\0')
    return TRUE;
  if (state->have_header)
    return FALSE;
  /* The delimiter is the character right after the first column's name
   * (`sacct -P --delimiter=X` writes X instead of '|'). */
  state->delimiter = '|';
  for (const gchar *p = line; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != ' ')
      {
        state->delimiter = *p;
        break;
      }
  copy = g_strdup (line);
  n = mn_trace_split (copy, state->delimiter, cols, SACCT_MAX_COLUMNS);
  for (guint c = 0; c < C_LAST; c++)
    state->index[c] = -1;
  for (guint i = 0; i < n; i++)
    for (guint c = 0; c < C_LAST; c++)
      if (g_ascii_strcasecmp (g_strstrip (cols[i]), column_names[c]) == 0)
        state->index[c] = (gint) i;
  state->n_columns = n;
  if (n > 0 && cols[n - 1][0] == '\0')
    {
      state->n_columns = n - 1;   /* `sacct -p` ends every line with '|' */
      state->trailing = TRUE;
    }
  if ((state->index[C_JOBID] < 0 && state->index[C_JOBIDRAW] < 0) ||
      state->index[C_SUBMIT] < 0)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                   "%s:%" G_GUINT64_FORMAT ": sacct output needs a header line naming at "
                   "least the JobID and Submit columns (run sacct -a -X -P "
                   "--format=JobID,User,Submit,Start,End,...)", reader->name, reader->line_no);
      return FALSE;
    }
  state->have_header = TRUE;
  return TRUE;
}

static const gchar *
col (SacctState *state, gchar **f, guint n, Column c)
{
  gint i = state->index[c];

  return i >= 0 && (guint) i < n ? f[i] : NULL;
}

static gboolean
bad (GError **error, const gchar *column, const gchar *value, const gchar *why)
{
  g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE, "column %s: %s: '%.40s'",
               column, why, value);
  return FALSE;
}

static gboolean
unknown_text (const gchar *v)
{
  return v == NULL || *v == '\0' || g_ascii_strcasecmp (v, "Unknown") == 0 ||
         g_ascii_strcasecmp (v, "None") == 0;
}

/* "2023-04-01T10:00:00" in local time; -1 for Unknown/None. */
static gboolean
parse_time (SacctState *state, const gchar *text, gint64 *t)
{
  gint y, mo, d, h, mi, s;
  gchar tail;
  g_autoptr(GDateTime) dt = NULL;

  if (unknown_text (text))
    {
      *t = -1;
      return TRUE;
    }
  if (sscanf (text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail) != 6)
    return FALSE;
  dt = g_date_time_new (state->tz, y, mo, d, h, mi, s);
  if (dt == NULL)
    return FALSE;
  *t = g_date_time_to_unix (dt);
  return TRUE;
}

static gint64
tres_value (const gchar *tres, const gchar *key, gboolean memory)
{
  g_auto(GStrv) items = NULL;
  gint64 total = -1;

  if (unknown_text (tres))
    return -1;
  items = g_strsplit (tres, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      gchar *eq = strchr (items[i], '=');
      gint64 v;

      if (eq == NULL)
        continue;
      *eq = '\0';
      /* "gres/gpu=2" and typed "gres/gpu:v100=2" both count */
      if (strcmp (items[i], key) == 0 ||
          (g_str_has_prefix (items[i], key) && items[i][strlen (key)] == ':'))
        {
          if ((memory ? mn_trace_parse_memory_mb (eq + 1, 'M', &v)
                      : mn_trace_parse_int (eq + 1, &v)) && v >= 0 && v < 1000000000000)
            {
              if (strcmp (items[i], key) == 0)
                return v;
              total = MAX (total, 0) + v;
            }
        }
    }
  return total;
}

static gboolean
is_interactive (const gchar *name, const gchar *partition, const gchar *qos)
{
  static const gchar *const shells[] = {
    "interactive", "bash", "sh", "zsh", "tcsh", "csh", "jupyter", "jupyterlab",
  };

  if ((partition != NULL && strstr (partition, "interactive") != NULL) ||
      (qos != NULL && strstr (qos, "interactive") != NULL))
    return TRUE;
  if (name == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (shells); i++)
    if (g_ascii_strcasecmp (name, shells[i]) == 0)
      return TRUE;
  /* Open OnDemand names its apps "sys/dashboard/sys/jupyter" and the like */
  return g_str_has_prefix (name, "sys/dashboard");
}

static gchar *
dup_known (const gchar *v)
{
  return v == NULL || *v == '\0' ? NULL : g_strdup (v);
}

static gboolean
sacct_parse_line (MnTraceReader *reader, gchar *line, MnTraceJob **job_out, GError **error)
{
  SacctState *state = reader->state;
  gchar *f[SACCT_MAX_COLUMNS + 1];
  g_autoptr(MnTraceJob) job = NULL;
  const gchar *id_text, *v, *name, *partition;
  gint64 n64, a = 0, b = 0;
  guint n;

  *job_out = NULL;
  if (line[0] == '\0')
    return TRUE;
  n = mn_trace_split (line, state->delimiter, f, SACCT_MAX_COLUMNS + 1);
  if ((state->trailing || n == state->n_columns + 1) && n > state->n_columns &&
      f[n - 1][0] == '\0')
    n--;
  if (n > state->n_columns && n <= SACCT_MAX_COLUMNS && state->index[C_JOBNAME] >= 0)
    {
      /* A job name holding the delimiter: sacct does not escape it.  The
       * name is the one free-text column, so the fields before and after it
       * are where the header says; the extra delimiters were in the name. */
      guint extra = n - state->n_columns;
      guint jn = (guint) state->index[C_JOBNAME];

      for (guint k = 0; k < extra; k++)
        f[jn + 1 + k][-1] = state->delimiter;   /* rejoin: the split wrote NULs there */
      for (guint i = jn + 1; i + extra < n; i++)
        f[i] = f[i + extra];
      n -= extra;
    }
  if (n != state->n_columns)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                   "expected %u '%c'-separated columns as in the header, found %u%s",
                   state->n_columns, state->delimiter, n,
                   n > state->n_columns ? " (a field holding the delimiter: run sacct with "
                   "--delimiter, see traces/README.md)" : "");
      return FALSE;
    }
  id_text = col (state, f, n, C_JOBIDRAW);
  if (id_text == NULL || *id_text == '\0')
    id_text = col (state, f, n, C_JOBID);
  if (id_text == NULL || *id_text == '\0')
    return bad (error, "JobID", "", "empty");
  /* job steps ("123.batch", "123.0") belong to their allocation */
  if (strchr (id_text, '.') != NULL)
    {
      reader->n_merged++;
      return TRUE;
    }
  v = col (state, f, n, C_JOBID);
  if (strchr (id_text, '[') != NULL || (v != NULL && strchr (v, '[') != NULL))
    return bad (error, "JobID", v != NULL ? v : id_text,
                "a pending job array not yet split into tasks");
  {
    /* "123", "123_4" (array task), "123+1" (heterogeneous component) */
    gchar *end = NULL;

    a = g_ascii_strtoll (id_text, &end, 10);
    if (end == id_text || a < 0 || a >= G_MAXINT64 / 1000000 - 1)
      return bad (error, "JobID", id_text, "not a job id");
    if (*end == '_' || *end == '+')
      {
        const gchar *rest = end + 1;

        if (!mn_trace_parse_int (rest, &b) || b < 0 || b >= 1000000)
          return bad (error, "JobID", id_text, "not a job id");
        a = a * 1000000 + b;
      }
    else if (*end != '\0')
      return bad (error, "JobID", id_text, "not a job id");
  }
  job = mn_trace_job_new ();
  job->id = a;
  name = col (state, f, n, C_JOBNAME);
  partition = col (state, f, n, C_PARTITION);
  job->name = dup_known (name);
  job->user = dup_known (col (state, f, n, C_USER));
  job->group = dup_known (col (state, f, n, C_GROUP));
  job->queue = dup_known (partition);
  job->interactive = is_interactive (name, partition, col (state, f, n, C_QOS));

  v = col (state, f, n, C_SUBMIT);
  if (!parse_time (state, v, &job->submit))
    return bad (error, "Submit", v, "not a time (YYYY-MM-DDTHH:MM:SS)");
  if (job->submit < 0)
    return bad (error, "Submit", v, "unknown");
  v = col (state, f, n, C_START);
  if (v != NULL && !parse_time (state, v, &job->start))
    return bad (error, "Start", v, "not a time");
  v = col (state, f, n, C_END);
  if (v != NULL && !parse_time (state, v, &job->end))
    return bad (error, "End", v, "not a time");
  if (job->start >= 0 && job->end >= 0 && job->end < job->start)
    return bad (error, "End", v, "before Start");

  if ((v = col (state, f, n, C_ELAPSEDRAW)) != NULL && *v != '\0')
    {
      if (!mn_trace_parse_int (v, &job->runtime) || job->runtime < 0)
        return bad (error, "ElapsedRaw", v, "not a number of seconds");
    }
  else if ((v = col (state, f, n, C_ELAPSED)) != NULL && *v != '\0')
    {
      if (!mn_trace_parse_duration (v, &job->runtime))
        return bad (error, "Elapsed", v, "not [D-]HH:MM:SS");
    }
  if (job->start < 0 && job->runtime == 0)
    job->runtime = -1;   /* never ran */
  if ((v = col (state, f, n, C_TIMELIMITRAW)) != NULL && *v != '\0' &&
      g_ascii_strcasecmp (v, "UNLIMITED") != 0 && g_ascii_strcasecmp (v, "Partition_Limit") != 0)
    {
      if (!mn_trace_parse_int (v, &n64) || n64 < 0 || n64 > G_MAXINT64 / 60)
        return bad (error, "TimelimitRaw", v, "not a number of minutes");
      job->walltime_req = n64 * 60;
    }
  else if ((v = col (state, f, n, C_TIMELIMIT)) != NULL && *v != '\0')
    {
      if (!mn_trace_parse_duration (v, &job->walltime_req))
        return bad (error, "Timelimit", v, "not [D-]HH:MM:SS or UNLIMITED");
    }

  if ((v = col (state, f, n, C_REQCPUS)) != NULL && *v != '\0')
    {
      if (!mn_trace_parse_int (v, &job->procs) || job->procs < 0)
        return bad (error, "ReqCPUS", v, "not a count");
    }
  v = col (state, f, n, C_ALLOCCPUS);
  if (v == NULL || *v == '\0')
    v = col (state, f, n, C_NCPUS);
  if (v != NULL && *v != '\0')
    {
      if (!mn_trace_parse_int (v, &n64) || n64 < 0)
        return bad (error, "AllocCPUS", v, "not a count");
      if (n64 > 0)
        job->procs_alloc = n64;
      if (job->procs < 0)
        job->procs = n64;
    }
  if ((v = col (state, f, n, C_REQMEM)) != NULL && *v != '\0')
    {
      gsize len = strlen (v);
      gint64 mb;

      if (!mn_trace_parse_memory_mb (v, 'M', &mb))
        return bad (error, "ReqMem", v, "not a memory size like 30000M");
      /* old Slurm: "4Gc" per CPU, "4Gn" per node */
      if (v[len - 1] == 'c' && job->procs > 0 && job->procs < 10000000)
        mb *= job->procs;
      else if (v[len - 1] == 'n')
        {
          const gchar *nodes = col (state, f, n, C_NNODES);

          if (nodes != NULL && mn_trace_parse_int (nodes, &n64) && n64 > 0 && n64 < 10000000)
            mb *= n64;
        }
      job->memory_req_mb = mb;
    }
  else
    job->memory_req_mb = tres_value (col (state, f, n, C_REQTRES), "mem", TRUE);
  if ((v = col (state, f, n, C_MAXRSS)) != NULL && *v != '\0')
    {
      if (!mn_trace_parse_memory_mb (v, 'K', &job->memory_used_mb))
        return bad (error, "MaxRSS", v, "not a memory size like 1234K");
    }
  if ((v = col (state, f, n, C_TOTALCPU)) != NULL && *v != '\0')
    {
      if (!mn_trace_parse_duration (v, &job->cpu_time))
        return bad (error, "TotalCPU", v, "not [D-]HH:MM:SS");
    }
  job->gpus = tres_value (col (state, f, n, C_ALLOCTRES), "gres/gpu", FALSE);
  if (job->gpus < 0)
    job->gpus = tres_value (col (state, f, n, C_REQTRES), "gres/gpu", FALSE);
  if (job->gpus < 0 && (col (state, f, n, C_ALLOCTRES) != NULL ||
                        col (state, f, n, C_REQTRES) != NULL))
    job->gpus = 0;
  if ((v = col (state, f, n, C_EXITCODE)) != NULL && *v != '\0')
    {
      gint64 code, sig;
      g_autofree gchar *copy = g_strdup (v);
      gchar *colon = strchr (copy, ':');

      if (colon != NULL)
        *colon = '\0';
      if (!mn_trace_parse_int (copy, &code) || code < 0 || code > 255 ||
          (colon != NULL && (!mn_trace_parse_int (colon + 1, &sig) || sig < 0 || sig > 255)))
        return bad (error, "ExitCode", v, "not CODE:SIGNAL");
      job->exit_status = (gint) (colon != NULL && sig > 0 ? 128 + sig : code);
    }
  *job_out = g_steal_pointer (&job);
  return TRUE;
}

const MnTraceParser mn_trace_parser_sacct = {
  .format = MN_TRACE_FORMAT_SACCT,
  .header_line = sacct_header_line,
  .parse_line = sacct_parse_line,
  .flush = NULL,
  .free_state = sacct_free_state,
};
