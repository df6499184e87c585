/* mn-sim-engine.c: one run: the event loop, the machine, the job intake. */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-private.h"
#include "mn-trace-reader.h"

G_DEFINE_QUARK (mn-sim-error-quark, mn_sim_error)

/* TSUBAME3: the machine the defaults describe. */
#define MN_SIM_DEFAULT_MACHINE_NODES 540

struct _MnSimResult {
  MnSimMetrics    metrics;
  MnSimJobResult *jobs;            /* sorted by id; NULL unless keep_jobs */
  gsize           n_jobs;
  GPtrArray      *users;
  MnSimWorkload  *w;
  gboolean        node_mode;
};

const gchar *
mn_sim_scheduler_to_string (MnSimScheduler scheduler)
{
  return scheduler == MN_SIM_SCHEDULER_FCFS ? "fcfs" : "easy";
}

gboolean
mn_sim_scheduler_from_string (const gchar *text, MnSimScheduler *out, GError **error)
{
  if (g_strcmp0 (text, "easy") == 0)
    *out = MN_SIM_SCHEDULER_EASY;
  else if (g_strcmp0 (text, "fcfs") == 0)
    *out = MN_SIM_SCHEDULER_FCFS;
  else
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_INVALID_CONFIG,
                   "--scheduler: unknown scheduler '%s' (allowed: easy, fcfs)", text);
      return FALSE;
    }
  return TRUE;
}

const gchar *
mn_sim_job_status_to_string (MnSimJobStatus status)
{
  static const gchar *const names[] = { "done", "walltime", "idle", "oom", "rejected", "skipped", "memory-cap" };
  return status < G_N_ELEMENTS (names) ? names[status] : "?";
}

void
mn_sim_config_init (MnSimConfig *config)
{
  memset (config, 0, sizeof *config);
  config->scheduler = MN_SIM_SCHEDULER_EASY;
  config->interactive_nodes = -1;
  config->keep_jobs = TRUE;
  config->retry_delay = 0;
  config->max_retries = 0;
  config->caps_mode = MN_SIM_CAPS_TRACE;
  config->maintenance = TRUE;
}

/* The largest cores one user (group) may ever run under the caps in force
 * at some time; G_MAXUINT64 when some period has no such cap. */
static void
caps_ceiling (MnSimRun *run, guint64 *user_cores, guint64 *group_cores)
{
  *user_cores = *group_cores = G_MAXUINT64;
  if (run->config.caps_mode == MN_SIM_CAPS_FIXED)
    {
      if (run->config.caps.user_cores > 0)
        *user_cores = run->config.caps.user_cores;
      if (run->config.caps.group_cores > 0)
        *group_cores = run->config.caps.group_cores;
      return;
    }
  const GArray *l = run->w->limits;
  if (run->config.caps_mode != MN_SIM_CAPS_TRACE || l == NULL)
    return;
  guint64 u = 0, g = 0;
  for (guint i = 0; i < l->len; i++)
    {
      const MnTraceLimits *x = &g_array_index (l, MnTraceLimits, i);
      u = (u == G_MAXUINT64 || x->user_cores == 0) ? G_MAXUINT64 : MAX (u, x->user_cores);
      g = (g == G_MAXUINT64 || x->group_cores == 0) ? G_MAXUINT64 : MAX (g, x->group_cores);
    }
  *user_cores = u;
  *group_cores = g;
}

/* At @now: the caps of the trace's schedule in force, and the maintenance
 * window that is next or current; a MN_SIM_EV_MACHINE event for the next
 * change. */
static void
machine_update (MnSimRun *run, gint64 now)
{
  const GArray *l = run->w->limits;
  gint64 next = G_MAXINT64;
  if (run->config.caps_mode == MN_SIM_CAPS_TRACE && l != NULL)
    {
      gboolean changed = FALSE;
      while (run->next_limits < l->len
             && g_array_index (l, MnTraceLimits, run->next_limits).from <= now)
        {
          run->next_limits++;
          changed = TRUE;
        }
      if (changed)
        {
          const MnTraceLimits *x = &g_array_index (l, MnTraceLimits, run->next_limits - 1);
          MnSimCaps caps = { x->user_jobs, x->group_jobs, x->user_cores, x->group_cores };
          mn_sim_batch_set_caps (&run->batch, &caps);
        }
      if (run->next_limits < l->len)
        next = g_array_index (l, MnTraceLimits, run->next_limits).from;
    }
  const GArray *m = run->w->maintenance;
  if (run->config.maintenance && m != NULL)
    {
      guint before = run->next_window;
      while (run->next_window < m->len && g_array_index (m, MnTraceWindow, run->next_window).end <= now)
        run->next_window++;
      if (run->next_window < m->len)
        {
          const MnTraceWindow *win = &g_array_index (m, MnTraceWindow, run->next_window);
          if (before != run->next_window || run->batch.down_end == G_MAXINT64)
            mn_sim_batch_set_down (&run->batch, win->start, win->end);
          next = MIN (next, win->end);
        }
      else if (run->batch.down_end != G_MAXINT64)
        mn_sim_batch_set_down (&run->batch, G_MAXINT64, G_MAXINT64);
    }
  if (next != G_MAXINT64)
    mn_sim_heap_push (&run->heap, next, MN_SIM_EV_MACHINE, 0, 0);
}

/* ---- intake ----------------------------------------------------------------- */

/* Turn job @ji into an all.q job, or mark it skipped. */
static void
batch_intake (MnSimRun *run, guint32 ji)
{
  const MnSimJob *j = &g_array_index (run->w->jobs, MnSimJob, ji);
  MnSimJobResult *r = &run->res[ji];
  MnSimBatchJob bj = { 0 };
  gint64 count;
  bj.job = ji;
  bj.user = j->user;
  bj.group = j->group;
  if (run->node_mode)
    {
      if (j->rtype != MN_RTYPE_NONE)
        {
          bj.type = j->rtype - 1;
          count = j->rtype_count;
        }
      else
        {
          /* A processor-count job on nodes: that many single cores. */
          bj.type = MN_RTYPE_C1 - 1;
          count = j->procs;
        }
    }
  else
    {
      bj.type = 0;
      count = j->procs;
      if (count <= 0 && j->rtype != MN_RTYPE_NONE)
        count = (gint64) mn_resource_type_info (j->rtype)->cores * j->rtype_count;
    }
  gboolean ok = j->runtime >= 0 && j->submit >= 0 && count > 0 && count <= G_MAXUINT32
                && mn_sim_batch_can_ever_fit (&run->batch, bj.type, (guint32) count)
                && (guint64) count * run->batch.types[bj.type].cores <= run->max_user_cores
                && (guint64) count * run->batch.types[bj.type].cores <= run->max_group_cores;
  if (!ok)
    {
      r->status = MN_SIM_STATUS_SKIPPED;
      return;
    }
  bj.count = (guint32) count;
  bj.runtime = j->runtime;
  bj.estimate = j->walltime_req > 0 ? j->walltime_req : j->runtime;
  bj.estimate = MAX (bj.estimate, bj.runtime);
  bj.start = -1;
  r->queue = MN_SIM_QUEUE_ALL;
  r->procs = (guint32) MIN ((guint64) bj.count * run->batch.types[bj.type].cores, G_MAXUINT32);
  mn_sim_batch_enqueue (&run->batch, mn_sim_batch_add (&run->batch, &bj));
}

static void
batch_started (guint32 bj, gpointer user_data)
{
  MnSimRun *run = user_data;
  MnSimBatchJob *j = &g_array_index (run->batch.jobs, MnSimBatchJob, bj);
  MnSimJobResult *r = &run->res[j->job];
  r->start = run->now;
  r->end = run->now + j->runtime;
  mn_sim_heap_push (&run->heap, r->end, MN_SIM_EV_BATCH_END, bj, 0);
  if (run->oversub != NULL)
    mn_sim_oversub_batch_started (run, bj);
}

static void
arrival (MnSimRun *run, guint32 pos)
{
  guint32 ji = run->order[pos];
  const MnSimJob *j = &g_array_index (run->w->jobs, MnSimJob, ji);
  if (j->interactive && (run->interactive_nodes > 0 || run->oversub != NULL))
    {
      MnSimSession s = { 0 };
      s.job = ji;
      s.state = MN_SIM_SESSION_NEW;
      guint32 index = run->sessions->len;
      g_array_append_val (run->sessions, s);
      mn_sim_inter_request (run, index);
    }
  else
    batch_intake (run, ji);
  run->next_arrival = pos + 1;
  if (pos + 1 < run->w->jobs->len)
    {
      const MnSimJob *next = &g_array_index (run->w->jobs, MnSimJob, run->order[pos + 1]);
      run->arrival_time = MAX (next->submit, run->now);
    }
}

/* Is the next event the next arrival?  Arrivals come in submit order, one
 * at a time, so the next one waits beside the heap rather than in it; it
 * goes where the heap's order (time, kind) would put it: after the
 * completions of its instant, before retries and changes of the machine. */
static inline gboolean
arrival_next (const MnSimRun *run, const MnSimEvent *top)
{
  if (run->next_arrival >= run->w->jobs->len)
    return FALSE;
  return top == NULL || run->arrival_time < top->time
         || (run->arrival_time == top->time && top->kind > MN_SIM_EV_ARRIVAL);
}

/* ---- setup ------------------------------------------------------------------- */

static gboolean
setup_machine (MnSimRun *run, GError **error)
{
  MnSimWorkload *w = run->w;
  const MnSimConfig *c = &run->config;
  if (c->procs < 0 || c->machine_nodes < 0 || c->retry_delay < 0)
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_INVALID_CONFIG,
                   "--procs, --nodes and the retry delay must not be negative");
      return FALSE;
    }
  run->interactive_nodes = c->interactive_nodes >= 0 ? c->interactive_nodes
                           : (w->n_interactive > 0 ? run->policy->nodes : 0);
  /* Issue 19: design = oversubscribe carves nothing out; hybrid keeps its
   * interactive.q.  (A baseline, interactive_nodes = 0, never shares.) */
  if (mn_sim_oversub_wanted (run) && run->policy->design == MN_DESIGN_OVERSUBSCRIBE)
    run->interactive_nodes = 0;
  run->node_mode = c->procs == 0 && w->any_rtype;
  MnSimShape node = { run->policy->node_cores, run->policy->node_gpus, run->policy->node_memory_mb };
  if (!run->node_mode)
    {
      gint64 p = c->procs > 0 ? c->procs : (w->max_procs > 0 ? w->max_procs : w->max_nodes);
      if (p <= 0)
        {
          /* No machine size: taking the widest job as the machine (what this
           * did before) made one real log a 1-processor machine with waits
           * of days.  Refuse, and say what the guess would have been. */
          gint64 widest = 0;
          for (guint i = 0; i < w->jobs->len; i++)
            widest = MAX (widest, g_array_index (w->jobs, MnSimJob, i).procs);
          g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_INVALID_CONFIG,
                       "the trace gives no machine size (no MaxProcs or MaxNodes in its "
                       "header): give --procs N (its widest job asks for %" G_GINT64_FORMAT
                       " processors)", widest);
          return FALSE;
        }
      run->allq_procs = p - run->interactive_nodes * (gint64) node.cores;
      if (run->allq_procs <= 0 || run->allq_procs > G_MAXUINT32)
        {
          g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_INVALID_CONFIG,
                       "%" G_GINT64_FORMAT " processors (--procs, else the trace's MaxProcs) leave %" G_GINT64_FORMAT
                       " for all.q after %" G_GINT64_FORMAT " interactive nodes of %u cores",
                       p, run->allq_procs, run->interactive_nodes, node.cores);
          return FALSE;
        }
      MnSimShape one_proc = { (guint32) run->allq_procs, 0, 0 };
      MnSimShape proc = { 1, 0, 0 };
      mn_sim_batch_init (&run->batch, c->scheduler, 1, &one_proc, &proc, 1);
      run->allq_cores = (guint64) run->allq_procs;
      return TRUE;
    }
  gint64 total = c->machine_nodes > 0 ? c->machine_nodes
                 : (w->max_nodes > 0 ? w->max_nodes : MN_SIM_DEFAULT_MACHINE_NODES);
  run->allq_nodes = total - run->interactive_nodes;
  if (run->allq_nodes <= 0 || run->allq_nodes > G_MAXUINT32)
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_INVALID_CONFIG,
                   "--interactive-nodes: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                   " nodes leaves no node for all.q", run->interactive_nodes, total);
      return FALSE;
    }
  MnSimShape types[MN_RTYPE_LAST - 1];
  for (guint t = MN_RTYPE_F; t < MN_RTYPE_LAST; t++)
    {
      const MnResourceTypeInfo *info = mn_resource_type_info (t);
      types[t - 1] = (MnSimShape) { MAX (info->cores, 1), info->gpus, info->memory_mb };
    }
  mn_sim_batch_init (&run->batch, c->scheduler, (guint) run->allq_nodes, &node, types,
                     MN_RTYPE_LAST - 1);
  run->allq_cores = (guint64) run->allq_nodes * node.cores;
  return TRUE;
}

static void
run_clear (MnSimRun *run)
{
  mn_sim_months_clear (run);
  mn_sim_oversub_clear (run);
  mn_sim_batch_clear (&run->batch);
  mn_sim_inter_clear (run);
  mn_sim_heap_clear (&run->heap);
  g_free (run->res);
  g_clear_pointer (&run->policy, mn_policy_config_free);
}

/* An all.q job still queued when the events ran out (in arrival order). */
static void
never_started (guint32 job, gpointer data)
{
  MnSimRun *run = data;
  MnSimJobResult *r = &run->res[job];
  if (run->n_never++ == 0)
    run->first_never = job;
  r->status = MN_SIM_STATUS_REJECTED;
  r->reason = MN_REJECT_NONE;   /* "never-started" */
}

static gint
cmp_result (gconstpointer a, gconstpointer b, gpointer data)
{
  const MnSimJobResult *x = a, *y = b;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  return 0;
}

MnSimResult *
mn_sim_run (MnSimWorkload *w, const MnSimConfig *config, MnSimProgressFunc progress,
            gpointer user_data, GCancellable *cancellable, GError **error)
{
  MnSimRun run = { 0 };
  run.w = w;
  run.config = *config;
  run.policy = config->policy != NULL ? mn_policy_config_copy (config->policy)
                                      : mn_policy_config_new_default ();
  run.config.policy = NULL;
  run.order = mn_sim_workload_get_order (w);
  run.utc_offset = w->utc_offset;
  mn_sim_heap_init (&run.heap);
  guint n = w->jobs->len;
  if (n == 0)
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_EMPTY, "the trace holds no job");
      run_clear (&run);
      return NULL;
    }
  if (!setup_machine (&run, error) || !mn_sim_oversub_init (&run, error)
      || !mn_sim_inter_init (&run, error))
    {
      run_clear (&run);
      return NULL;
    }
  mn_sim_batch_set_owners (&run.batch, w->users->len, w->groups->len);
  if (config->caps_mode == MN_SIM_CAPS_FIXED)
    mn_sim_batch_set_caps (&run.batch, &config->caps);
  caps_ceiling (&run, &run.max_user_cores, &run.max_group_cores);
  run.res = g_new0 (MnSimJobResult, n);
  for (guint i = 0; i < n; i++)
    {
      const MnSimJob *j = &g_array_index (w->jobs, MnSimJob, i);
      MnSimJobResult *r = &run.res[i];
      r->id = j->id;
      r->submit = j->submit;
      r->start = r->end = -1;
      r->user = j->user;
      r->job_class = j->interactive ? MN_SIM_CLASS_INTERACTIVE : MN_SIM_CLASS_BATCH;
      r->status = MN_SIM_STATUS_DONE;
      r->queue = MN_SIM_QUEUE_NONE;
      r->procs = j->procs > 0 ? (guint32) MIN (j->procs, G_MAXUINT32) : 0;
    }

  gint64 t0 = g_array_index (w->jobs, MnSimJob, run.order[0]).submit;
  gint64 t1 = g_array_index (w->jobs, MnSimJob, run.order[n - 1]).submit;
  run.now = t0;
  run.occupancy_last = t0;
  mn_sim_months_init (&run, t0);
  run.next_arrival = 0;
  run.arrival_time = t0;
  machine_update (&run, t0);

  MnSimEvent ev;
  for (;;)
    {
      const MnSimEvent *top = mn_sim_heap_peek (&run.heap);
      if (arrival_next (&run, top))
        run.now = run.arrival_time;
      else if (top != NULL)
        run.now = top->time;
      else
        break;
      mn_sim_months_advance (&run, run.now);
      gboolean batch_changed = FALSE;
      for (;;)
        {
          top = mn_sim_heap_peek (&run.heap);
          gboolean arriving = arrival_next (&run, top) && run.arrival_time == run.now;
          if (!arriving && (top == NULL || top->time != run.now))
            break;
          run.events++;
          if (arriving)
            ev.kind = MN_SIM_EV_ARRIVAL;
          else
            mn_sim_heap_pop (&run.heap, &ev);
          switch (ev.kind)
            {
            case MN_SIM_EV_BATCH_END:
              if (run.oversub != NULL && !mn_sim_oversub_batch_end (&run, &ev))
                break;
              mn_sim_batch_finish (&run.batch, ev.arg);
              batch_changed = TRUE;
              break;
            case MN_SIM_EV_ARRIVAL:
              arrival (&run, run.next_arrival);
              batch_changed = TRUE;
              break;
            case MN_SIM_EV_MACHINE:
              machine_update (&run, run.now);
              batch_changed = TRUE;
              break;
            default:
              mn_sim_inter_event (&run, &ev);
              break;
            }
          if ((run.events & 0xffff) == 0)
            {
              if (progress != NULL && t1 > t0)
                progress (CLAMP ((double) (run.now - t0) / (double) (t1 - t0), 0.0, 1.0), user_data);
              if (g_cancellable_is_cancelled (cancellable))
                {
                  g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_CANCELLED, "cancelled");
                  run_clear (&run);
                  return NULL;
                }
            }
        }
      mn_sim_inter_settle (&run);
      /* A pass after the instant's completions and arrivals.  A job of
       * runtime 0 it starts ends at this same instant: that completion is an
       * event like any other, and the inner loop above takes it (and any
       * arrival of the instant), so another pass runs at the same instant. */
      if (run.oversub != NULL && mn_sim_oversub_take_batch_dirty (&run))
        batch_changed = TRUE;
      if (batch_changed)
        mn_sim_batch_pass (&run.batch, run.now, batch_started, &run);
      if (batch_changed && run.oversub != NULL)
        mn_sim_oversub_after_pass (&run);
    }
  if (progress != NULL)
    progress (1.0, user_data);
  mn_sim_months_advance (&run, run.now);
  mn_sim_inter_finish (&run, run.now);

  /* A job still queued here could never start (a cap or a maintenance
   * window it can never pass): never silent. */
  gint64 first_never = -1;
  guint64 never = mn_sim_batch_foreach_queued (&run.batch, never_started, &run);
  if (never > 0)
    {
      first_never = run.res[run.first_never].id;
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_NEVER_STARTED,
                   "%" G_GUINT64_FORMAT " all.q jobs never started (the first: job %" G_GINT64_FORMAT
                   "); the scheduler could never place them (caps or maintenance windows)",
                   never, first_never);
      run_clear (&run);
      return NULL;
    }

  MnSimResult *result = g_new0 (MnSimResult, 1);
  mn_sim_metrics_compute (&run, &result->metrics);
  result->w = mn_sim_workload_ref (w);
  result->users = g_ptr_array_ref (w->users);
  result->node_mode = run.node_mode;
  if (config->keep_jobs)
    {
      /* Sorted by id; equal ids keep the trace order (a stable sort).  A
       * trace in id order (most are) needs none: the sort's copy of the
       * rows (80 bytes a job) was a tenth of the replay's memory. */
      gboolean sorted = TRUE;
      for (guint i = 1; i < n && sorted; i++)
        sorted = run.res[i - 1].id <= run.res[i].id;
      if (!sorted)
        g_qsort_with_data (run.res, (gint) n, sizeof (MnSimJobResult), cmp_result, NULL);
      result->jobs = g_steal_pointer (&run.res);
      result->n_jobs = n;
    }
  run_clear (&run);
  return result;
}

void
mn_sim_result_free (MnSimResult *result)
{
  if (result == NULL)
    return;
  mn_sim_metrics_clear (&result->metrics);
  g_free (result->jobs);
  g_ptr_array_unref (result->users);
  mn_sim_workload_unref (result->w);
  g_free (result);
}

const MnSimMetrics *
mn_sim_result_get_metrics (MnSimResult *result)
{
  return &result->metrics;
}

MnSimWorkload *
mn_sim_result_get_workload (MnSimResult *result)
{
  return result->w;
}

const MnSimJobResult *
mn_sim_result_get_jobs (MnSimResult *result, gsize *n_jobs)
{
  if (n_jobs != NULL)
    *n_jobs = result->n_jobs;
  return result->jobs;
}

const gchar *
mn_sim_result_get_user (MnSimResult *result, guint32 user)
{
  return user < result->users->len ? g_ptr_array_index (result->users, user) : NULL;
}

const MnSimJobResult *
mn_sim_result_lookup (MnSimResult *result, gint64 id)
{
  gsize lo = 0, hi = result->n_jobs;
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      if (result->jobs[mid].id < id)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < result->n_jobs && result->jobs[lo].id == id ? &result->jobs[lo] : NULL;
}
