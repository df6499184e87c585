/* mn-trace-sge.c: Grid Engine accounting(5): one colon-separated record per
 * finished job (or parallel task), in the 45-field SGE 6.2 / SoGE 8.1 layout
 * (times in seconds) or the longer Univa Grid Engine 8.x layout (times in
 * epoch milliseconds).  A job written more than once (rescheduled retries,
 * the slave records of a tightly integrated parallel job) is merged and
 * yielded once: records are held back in a bounded window, so memory stays
 * bounded except for the set of job keys already yielded. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-private.h"

#include <string.h>

#define SGE_MIN_FIELDS 45
#define SGE_MAX_FIELDS 128
#define SGE_WINDOW 2048          /* records held back for merging */
#define SGE_MS_THRESHOLD G_GINT64_CONSTANT (100000000000)   /* > year 5138 in seconds */

enum {
  F_QNAME = 0, F_HOSTNAME, F_GROUP, F_OWNER, F_JOB_NAME, F_JOB_NUMBER, F_ACCOUNT, F_PRIORITY,
  F_SUBMIT, F_START, F_END, F_FAILED, F_EXIT, F_WALLCLOCK, F_UTIME, F_STIME, F_MAXRSS,
  F_PROJECT = 31, F_DEPARTMENT, F_GRANTED_PE, F_SLOTS, F_TASK, F_CPU, F_MEM, F_IO,
  F_CATEGORY, F_IOW, F_PE_TASKID, F_MAXVMEM, F_ARID, F_AR_SUBMIT,
};

typedef struct {
  gchar      *key;
  MnTraceJob *job;
  gboolean    slave_only;   /* built from parallel slave records so far */
} Pending;

typedef struct {
  GQueue     *queue;        /* of Pending*, oldest first */
  GHashTable *pending;      /* key -> Pending* (owned by the queue) */
  GHashTable *done;         /* keys already yielded */
} SgeState;

static void
pending_free (Pending *p)
{
  g_free (p->key);
  mn_trace_job_free (p->job);
  g_free (p);
}

static void
sge_free_state (gpointer data)
{
  SgeState *state = data;

  g_queue_free_full (state->queue, (GDestroyNotify) pending_free);
  g_hash_table_unref (state->pending);
  g_hash_table_unref (state->done);
  g_free (state);
}

static SgeState *
get_state (MnTraceReader *reader)
{
  SgeState *state = reader->state;

  if (state == NULL)
    {
      state = reader->state = g_new0 (SgeState, 1);
      state->queue = g_queue_new ();
      state->pending = g_hash_table_new (g_str_hash, g_str_equal);
      state->done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }
  return state;
}

static gboolean
sge_header_line (MnTraceReader *reader, const gchar *line, GError **error)
{
  g_autofree gchar *key = NULL;
  const gchar *value;

  get_state (reader);
  if (line[0] == '\0')
    return TRUE;
  if (line[0] != '#')
    return FALSE;
  /* "# Version: 8.1.9"; minna's own hints (MaxNodes...) use the same form */
  if (mn_trace_header_split (line + 1, &key, &value))
    mn_trace_header_set_key (&reader->header, key, value);
  return TRUE;
}

static gboolean
field_error (GError **error, guint index, const gchar *name, const gchar *value)
{
  g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
               "field %u (%s): not a number: '%.40s'", index + 1, name, value);
  return FALSE;
}

static gboolean
parse_number (gchar **f, guint index, const gchar *name, double *value, GError **error)
{
  if (!mn_trace_parse_double (f[index], value) || *value < -1 || *value > 1e18)
    return field_error (error, index, name, f[index]);
  return TRUE;
}

/* The category holds the request: "-U users -l h_rt=3600,f_node=2 -q interactive.q". */
static void
parse_category (MnTraceJob *job, const gchar *category, gint64 *mem_per_slot,
                gint64 *pe_slots)
{
  g_auto(GStrv) words = g_strsplit_set (category, " \t", -1);

  for (guint i = 0; words[i] != NULL; i++)
    {
      const gchar *opt = words[i];
      const gchar *arg;

      if (opt[0] != '-')
        continue;
      /* the option's argument is the next non-empty word */
      while (words[i + 1] != NULL && words[i + 1][0] == '\0')
        i++;
      arg = words[i + 1];
      if (arg == NULL)
        break;
      if (strcmp (opt, "-l") == 0 || strcmp (opt, "-hard") == 0)
        {
          g_auto(GStrv) items = g_strsplit (arg, ",", -1);

          for (guint k = 0; items[k] != NULL; k++)
            {
              gchar *eq = strchr (items[k], '=');
              MnResourceType rtype;
              gint64 v;

              if (eq == NULL)
                continue;
              *eq = '\0';
              if (strcmp (items[k], "h_rt") == 0 || strcmp (items[k], "s_rt") == 0)
                {
                  if (mn_trace_parse_duration (eq + 1, &v) && v >= 0)
                    job->walltime_req = v;
                }
              else if (strcmp (items[k], "h_vmem") == 0 || strcmp (items[k], "mem_req") == 0 ||
                       strcmp (items[k], "s_vmem") == 0 || strcmp (items[k], "mem_free") == 0)
                {
                  if (mn_trace_parse_memory_mb (eq + 1, 'B', &v))
                    *mem_per_slot = v;
                }
              else if (strcmp (items[k], "gpu") == 0 || strcmp (items[k], "gpus") == 0 ||
                       strcmp (items[k], "ngpus") == 0)
                {
                  if (mn_trace_parse_int (eq + 1, &v) && v >= 0)
                    job->gpus = v;
                }
              else if ((rtype = mn_resource_type_from_string (items[k])) != MN_RTYPE_NONE)
                {
                  if (mn_trace_parse_int (eq + 1, &v) && v > 0 && v <= 100000)
                    {
                      job->rtype = rtype;
                      job->rtype_count = (guint) v;
                    }
                }
            }
          i++;
        }
      else if (strcmp (opt, "-q") == 0)
        {
          if (strstr (arg, "interactive") != NULL)
            job->interactive = TRUE;
          i++;
        }
      else if (strcmp (opt, "-pe") == 0)
        {
          gint64 v;
          const gchar *n = words[i + 2];

          if (n != NULL && mn_trace_parse_int (n, &v) && v > 0)
            *pe_slots = v;
          i += 2;
        }
    }
}

static gboolean
is_interactive_name (const gchar *name)
{
  return strcmp (name, "QRLOGIN") == 0 || strcmp (name, "QLOGIN") == 0 ||
         strcmp (name, "QRSH") == 0 || strcmp (name, "INTERACTIVE") == 0;
}

/* Merges @job (a record of the job @p holds) into @p. */
static void
merge (Pending *p, MnTraceJob *job, gboolean slave)
{
  MnTraceJob *into = p->job;
  gint64 cpu = MAX (into->cpu_time, 0) + MAX (job->cpu_time, 0);
  gint64 mem = MAX (into->memory_used_mb, job->memory_used_mb);

  if (slave)
    {
      into->cpu_time = cpu;
      into->memory_used_mb = mem;
      return;
    }
  if (p->slave_only)
    {
      /* the master record arrives after its slaves: it describes the job */
      job->cpu_time = cpu;
      job->memory_used_mb = mem;
    }
  else
    {
      /* a retry: the later run is the one that counts; keep the first submit */
      if (into->submit >= 0 && (job->submit < 0 || into->submit < job->submit))
        job->submit = into->submit;
    }
  mn_trace_job_free (p->job);
  p->job = NULL;
  p->job = mn_trace_job_copy (job);
  p->slave_only = FALSE;
}

static MnTraceJob *
pop_oldest (MnTraceReader *reader)
{
  SgeState *state = get_state (reader);
  Pending *p;

  while ((p = g_queue_pop_head (state->queue)) != NULL)
    {
      MnTraceJob *job = g_steal_pointer (&p->job);

      g_hash_table_remove (state->pending, p->key);
      g_hash_table_add (state->done, g_steal_pointer (&p->key));
      g_free (p);
      return job;
    }
  return NULL;
}

static gboolean
sge_parse_line (MnTraceReader *reader, gchar *line, MnTraceJob **job_out, GError **error)
{
  SgeState *state = get_state (reader);
  gchar *f[SGE_MAX_FIELDS];
  g_autoptr(MnTraceJob) job = NULL;
  g_autofree gchar *category = NULL;
  g_autofree gchar *key = NULL;
  double submit, start, end, wallclock, cpu, maxrss, maxvmem, slots;
  gint64 v, mem_per_slot = -1, pe_slots = -1, scale;
  gboolean slave;
  Pending *p;
  guint n;

  *job_out = NULL;
  if (line[0] == '\0' || line[0] == '#')
    return TRUE;
  n = mn_trace_split (line, ':', f, SGE_MAX_FIELDS);
  if (n < SGE_MIN_FIELDS)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                   "expected at least %d colon-separated fields (Grid Engine accounting), "
                   "found %u", SGE_MIN_FIELDS, n);
      return FALSE;
    }
  if (!mn_trace_parse_int (f[F_JOB_NUMBER], &v) || v < 0)
    return field_error (error, F_JOB_NUMBER, "job_number", f[F_JOB_NUMBER]);
  if (!parse_number (f, F_SUBMIT, "submission_time", &submit, error) ||
      !parse_number (f, F_START, "start_time", &start, error) ||
      !parse_number (f, F_END, "end_time", &end, error) ||
      !parse_number (f, F_WALLCLOCK, "ru_wallclock", &wallclock, error) ||
      !parse_number (f, F_MAXRSS, "ru_maxrss", &maxrss, error) ||
      !parse_number (f, F_SLOTS, "slots", &slots, error) ||
      !parse_number (f, F_CPU, "cpu", &cpu, error))
    return FALSE;
  /* maxvmem may carry a unit in some versions ("1.5G") */
  if (!mn_trace_parse_double (f[F_MAXVMEM], &maxvmem) || maxvmem < -1 || maxvmem > 1e21)
    {
      gint64 mb;

      if (!mn_trace_parse_memory_mb (f[F_MAXVMEM], 'B', &mb))
        return field_error (error, F_MAXVMEM, "maxvmem", f[F_MAXVMEM]);
      maxvmem = (double) mb * 1048576.0;
    }
  /* Univa writes epoch milliseconds; SGE and SoGE seconds.  A 45-field line
   * with more fields has colons inside its category: rejoin them. */
  scale = submit > SGE_MS_THRESHOLD ? 1000 : 1;
  if (scale == 1 && n > SGE_MIN_FIELDS)
    {
      guint extra = n - SGE_MIN_FIELDS;
      GString *c = g_string_new (f[F_CATEGORY]);

      for (guint i = 1; i <= extra; i++)
        g_string_append_printf (c, ":%s", f[F_CATEGORY + i]);
      category = g_string_free (c, FALSE);
      for (guint i = F_IOW; i < SGE_MIN_FIELDS; i++)
        f[i] = f[i + extra];
    }
  else
    category = g_strdup (f[F_CATEGORY]);
  if (submit <= 0)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                   "field %d (submission_time): unknown", F_SUBMIT + 1);
      return FALSE;
    }

  job = mn_trace_job_new ();
  job->id = v;
  job->queue = g_strdup (f[F_QNAME]);
  job->group = g_strdup (f[F_GROUP]);
  job->user = g_strdup (f[F_OWNER]);
  job->name = g_strdup (f[F_JOB_NAME]);
  job->submit = (gint64) submit / scale;
  job->start = start > 0 ? (gint64) start / scale : -1;
  job->end = end > 0 ? (gint64) end / scale : -1;
  job->runtime = wallclock >= 0 ? (gint64) (wallclock + 0.5) : -1;
  if (mn_trace_parse_int (f[F_EXIT], &v))
    job->exit_status = (gint) CLAMP (v, -1, G_MAXINT);
  job->cpu_time = (gint64) (cpu + 0.5);
  if (maxvmem > 0)
    job->memory_used_mb = (gint64) (maxvmem / 1048576.0 + 0.5);
  else if (maxrss > 0)
    job->memory_used_mb = (gint64) (maxrss / 1024.0 + 0.5);
  else
    job->memory_used_mb = 0;
  parse_category (job, category, &mem_per_slot, &pe_slots);
  job->procs = slots > 0 ? (gint64) slots : pe_slots;
  if (job->start >= 0 && slots > 0)
    job->procs_alloc = (gint64) slots;
  if (job->rtype != MN_RTYPE_NONE)
    {
      const MnResourceTypeInfo *info = mn_resource_type_info (job->rtype);

      job->memory_req_mb = (gint64) job->rtype_count * (gint64) info->memory_mb;
      if (job->gpus < 0)
        job->gpus = (gint64) job->rtype_count * info->gpus;
    }
  else if (mem_per_slot >= 0 && job->procs < 10000000)
    job->memory_req_mb = mem_per_slot * MAX (job->procs, 1);
  if (strstr (f[F_QNAME], "interactive") != NULL || is_interactive_name (f[F_JOB_NAME]))
    job->interactive = TRUE;

  slave = strcmp (f[F_PE_TASKID], "NONE") != 0 && f[F_PE_TASKID][0] != '\0';
  key = g_strdup_printf ("%" G_GINT64_FORMAT ".%s", job->id, f[F_TASK]);
  if (g_hash_table_contains (state->done, key))
    {
      reader->n_merged++;    /* a late record of a job already yielded */
      return TRUE;
    }
  p = g_hash_table_lookup (state->pending, key);
  if (p != NULL)
    {
      merge (p, job, slave);
      reader->n_merged++;
      return TRUE;
    }
  p = g_new0 (Pending, 1);
  p->key = g_steal_pointer (&key);
  p->job = g_steal_pointer (&job);
  p->slave_only = slave;
  g_queue_push_tail (state->queue, p);
  g_hash_table_insert (state->pending, p->key, p);
  if (g_queue_get_length (state->queue) > SGE_WINDOW)
    *job_out = pop_oldest (reader);
  return TRUE;
}

static MnTraceJob *
sge_flush (MnTraceReader *reader)
{
  return pop_oldest (reader);
}

const MnTraceParser mn_trace_parser_sge = {
  .format = MN_TRACE_FORMAT_SGE,
  .header_line = sge_header_line,
  .parse_line = sge_parse_line,
  .flush = sge_flush,
  .free_state = sge_free_state,
};
