/* mn-sim-workload.c: the jobs of one trace in the compact form the engine
 * replays, shareable read-only between parallel runs. */
#define G_LOG_DOMAIN "minna-sim"


#include "mn-sim-private.h"
#include "mn-trace-reader.h"

MnSimWorkload *
mn_sim_workload_new (void)
{
  MnSimWorkload *w = g_new0 (MnSimWorkload, 1);
  w->ref_count = 1;
  w->jobs = g_array_new (FALSE, TRUE, sizeof (MnSimJob));
  w->profile = g_array_new (FALSE, TRUE, sizeof (MnMemoryStep));
  w->users = g_ptr_array_new_with_free_func (g_free);
  w->user_index = g_hash_table_new (g_str_hash, g_str_equal);
  w->groups = g_ptr_array_new_with_free_func (g_free);
  w->group_index = g_hash_table_new (g_str_hash, g_str_equal);
  w->max_procs = w->max_nodes = -1;
  w->stats.skipped = g_ptr_array_new_with_free_func (g_free);
  w->stats.notes = g_ptr_array_new_with_free_func (g_free);
  w->utc_offset = 0;
  g_mutex_init (&w->lock);
  return w;
}

MnSimWorkload *
mn_sim_workload_ref (MnSimWorkload *w)
{
  g_atomic_int_inc (&w->ref_count);
  return w;
}

void
mn_sim_workload_unref (MnSimWorkload *w)
{
  if (w == NULL || !g_atomic_int_dec_and_test (&w->ref_count))
    return;
  g_array_unref (w->jobs);
  g_array_unref (w->profile);
  g_clear_pointer (&w->user_index, g_hash_table_unref);
  g_ptr_array_unref (w->users);
  g_clear_pointer (&w->group_index, g_hash_table_unref);
  g_ptr_array_unref (w->groups);
  g_clear_pointer (&w->maintenance, g_array_unref);
  g_clear_pointer (&w->limits, g_array_unref);
  g_ptr_array_unref (w->stats.skipped);
  g_ptr_array_unref (w->stats.notes);
  g_free (w->order);
  g_mutex_clear (&w->lock);
  g_free (w);
}

static guint32
intern (GPtrArray *names, GHashTable *index, const gchar *name)
{
  gpointer v = g_hash_table_lookup (index, name);
  if (v != NULL)
    return GPOINTER_TO_UINT (v) - 1;
  gchar *copy = g_strdup (name);
  g_ptr_array_add (names, copy);
  g_hash_table_insert (index, copy, GUINT_TO_POINTER (names->len));
  return names->len - 1;
}

static guint32
intern_user (MnSimWorkload *w, const gchar *name)
{
  return intern (w->users, w->user_index, name);
}

void
mn_sim_workload_add_job (MnSimWorkload *w, const MnTraceJob *job)
{
  g_return_if_fail (w->order == NULL);
  MnSimJob j = { 0 };
  j.id = job->id;
  j.submit = job->submit;
  j.runtime = job->runtime;
  if (j.runtime < 0 && job->start >= 0 && job->end >= job->start)
    j.runtime = job->end - job->start;
  j.walltime_req = job->walltime_req;
  j.procs = job->procs > 0 ? job->procs : job->procs_alloc;
  j.memory_req_mb = job->memory_req_mb;
  j.memory_used_mb = job->memory_used_mb;
  j.gpu_memory_mb = job->gpu_memory_mb;
  j.cpu_time = job->cpu_time;
  j.cpu_active = (float) job->cpu_active;
  j.gpus = job->gpus < 0 ? -1 : (gint32) MIN (job->gpus, G_MAXINT32);
  j.rtype = job->rtype < MN_RTYPE_LAST ? (guint8) job->rtype : MN_RTYPE_NONE;
  j.rtype_count = job->rtype_count;
  if (j.rtype == MN_RTYPE_NONE)
    j.rtype_count = 0;
  else if (j.rtype_count > 0)
    w->any_rtype = TRUE;
  j.interactive = job->interactive ? 1 : 0;
  j.if_busy = job->if_busy == 0 || job->if_busy == 1 ? (gint8) job->if_busy : -1;
  /* Unknown users each count as their own, so the per-user limit does not
   * lump them together. */
  if (job->user != NULL)
    j.user = intern_user (w, job->user);
  else
    {
      g_autofree gchar *anon = g_strdup_printf ("?%" G_GINT64_FORMAT, job->id);
      j.user = intern_user (w, anon);
    }
  /* Unknown groups: the user's own (a group cap then acts per user). */
  if (job->group != NULL)
    j.group = intern (w->groups, w->group_index, job->group);
  else
    {
      g_autofree gchar *own = g_strdup_printf ("?user:%s", (const gchar *) g_ptr_array_index (w->users, j.user));
      j.group = intern (w->groups, w->group_index, own);
    }
  j.logged_start = job->start >= 0 && job->submit >= 0 && job->start >= job->submit ? job->start : -1;
  if (j.logged_start >= 0)
    w->n_logged++;
  if (job->memory_profile != NULL && job->memory_profile->len > 0)
    {
      j.profile_first = w->profile->len;
      j.profile_len = job->memory_profile->len;
      g_array_append_vals (w->profile, job->memory_profile->data, job->memory_profile->len);
    }
  if (j.interactive)
    w->n_interactive++;
  g_array_append_val (w->jobs, j);
}

void
mn_sim_workload_set_header (MnSimWorkload *w, gint64 max_procs, gint64 max_nodes,
                            gint64 utc_offset)
{
  w->max_procs = max_procs;
  w->max_nodes = max_nodes;
  w->utc_offset = utc_offset;
}

gint64
mn_sim_trace_utc_offset (const MnTraceHeader *h)
{
  return mn_trace_header_utc_offset (h);
}

void
mn_sim_workload_set_trace_header (MnSimWorkload *w, const MnTraceHeader *h)
{
  mn_sim_workload_set_header (w, h->max_procs, h->max_nodes, mn_sim_trace_utc_offset (h));
  mn_sim_workload_set_site (w, h->maintenance, h->limits);
}

void
mn_sim_workload_set_site (MnSimWorkload *w, const GArray *maintenance, const GArray *limits)
{
  g_clear_pointer (&w->maintenance, g_array_unref);
  g_clear_pointer (&w->limits, g_array_unref);
  if (maintenance != NULL && maintenance->len > 0)
    w->maintenance = g_array_copy ((GArray *) maintenance);
  if (limits != NULL && limits->len > 0)
    w->limits = g_array_copy ((GArray *) limits);
}

void
mn_sim_workload_set_trace_stats (MnSimWorkload *w, MnTraceReader *reader)
{
  GPtrArray *skipped = mn_trace_reader_get_skipped (reader);
  w->stats.format = mn_trace_reader_get_header (reader)->format;
  w->stats.skipped_lines = mn_trace_reader_get_n_skipped (reader);
  w->stats.merged_records = mn_trace_reader_get_n_merged (reader);
  g_ptr_array_set_size (w->stats.skipped, 0);
  for (guint i = 0; i < skipped->len; i++)
    g_ptr_array_add (w->stats.skipped, g_strdup (g_ptr_array_index (skipped, i)));
}

const MnSimTraceStats *
mn_sim_workload_get_trace_stats (MnSimWorkload *w)
{
  return &w->stats;
}

void
mn_sim_workload_make_batch (MnSimWorkload *w, const gchar *note)
{
  g_return_if_fail (w->order == NULL);
  for (guint i = 0; i < w->jobs->len; i++)
    g_array_index (w->jobs, MnSimJob, i).interactive = 0;
  w->n_interactive = 0;
  if (note != NULL)
    g_ptr_array_add (w->stats.notes, g_strdup (note));
}

MnSimWorkload *
mn_sim_workload_load (const gchar *path, MnTraceFormat format, gboolean strict, GError **error)
{
  g_autoptr(MnTraceReader) reader = mn_trace_reader_open (path, format, strict, error);
  if (reader == NULL)
    return NULL;
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  gint64 expect = mn_trace_reader_get_header (reader)->max_records;
  /* Room for what the header announces: no copies while the array grows. */
  if (expect > 0 && expect < 100000000)
    {
      g_array_set_size (w->jobs, (guint) expect);
      g_array_set_size (w->jobs, 0);
    }
  for (;;)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(MnTraceJob) job = mn_trace_reader_next (reader, &local);
      if (job == NULL)
        {
          if (local != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return NULL;
            }
          break;
        }
      mn_sim_workload_add_job (w, job);
    }
  mn_sim_workload_set_trace_header (w, mn_trace_reader_get_header (reader));
  mn_sim_workload_set_trace_stats (w, reader);
  if (mn_trace_reader_queue_zero_only (reader))
    mn_sim_workload_make_batch (w, MN_TRACE_QUEUE_ZERO_NOTE);
  return g_steal_pointer (&w);
}

guint64
mn_sim_workload_get_n_logged (MnSimWorkload *w)
{
  return w->n_logged;
}

guint
mn_sim_workload_get_n_jobs (MnSimWorkload *w)
{
  return w->jobs->len;
}

guint
mn_sim_workload_get_n_interactive (MnSimWorkload *w)
{
  return w->n_interactive;
}

static gint
cmp_order (gconstpointer a, gconstpointer b, gpointer data)
{
  const MnSimJob *jobs = data;
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  const MnSimJob *p = &jobs[x], *q = &jobs[y];
  if (p->submit != q->submit)
    return p->submit < q->submit ? -1 : 1;
  if (p->id != q->id)
    return p->id < q->id ? -1 : 1;
  return x < y ? -1 : (x > y);
}

const guint32 *
mn_sim_workload_get_order (MnSimWorkload *w)
{
  g_mutex_lock (&w->lock);
  if (w->order == NULL)
    {
      guint32 *order = g_new (guint32, MAX (1, w->jobs->len));
      gboolean sorted = TRUE;
      for (guint i = 0; i < w->jobs->len; i++)
        {
          order[i] = i;
          if (i > 0 && sorted)
            {
              guint32 prev = i - 1;
              sorted = cmp_order (&prev, &order[i], w->jobs->data) < 0;
            }
        }
      /* Traces are mostly in submit order already: sort only when not. */
      if (!sorted)
        g_qsort_with_data (order, (gint) w->jobs->len, sizeof (guint32), cmp_order, w->jobs->data);
      /* Adding is over; the name index is not needed by runs. */
      g_clear_pointer (&w->user_index, g_hash_table_unref);
      g_clear_pointer (&w->group_index, g_hash_table_unref);
      w->order = order;
    }
  g_mutex_unlock (&w->lock);
  return w->order;
}
