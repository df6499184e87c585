/* mn-sim-oversub.c: the over-subscribing designs (issue 19), applied as
 * policy/ says (OVER-SUBSCRIPTION in mn-policy.h):
 *
 * - design = oversubscribe: no interactive.q.  A request within the caps and
 *   its user's limit starts on the all.q node mn_policy_oversub_place()
 *   picks (headroom for its L, fewer than max_extra_jobs_per_node there);
 *   its L is taken from the node's free memory as all.q sees it, so no batch
 *   job is placed into the room it holds.  None qualifies: it waits in one
 *   FIFO (scanned in order whenever room may have appeared: a batch job or
 *   a session ended) or gives up, per the policy's if_busy.
 * - design = hybrid: interactive.q first (the dedicated request as give-up:
 *   a START there is the ordinary session), then a batch node; waiting
 *   requests wait here and take whichever comes first.
 * - While a shared session is active (its CPU busy) the batch jobs of its
 *   node run at mn_policy_oversub_batch_rate(); a job over several nodes at
 *   the slowest.  Each batch job keeps its work left (alone seconds) and its
 *   estimate left; at every change of its rate both are brought to now, its
 *   end event is pushed again at mn_policy_oversub_end() (the older one is
 *   dropped by its generation) and all.q's expected end moves with the
 *   estimate (the backfill shadow sees it).
 * - A shared session gets the allocation a dedicated one would (memory
 *   limit, walltime, idle cut); its memory use above L is a cap kill.  GPUs
 *   of the batch node are not modelled for it (the batch jobs hold them).
 *
 * The per-user limit counts the user's sessions in interactive.q and here,
 * running and waiting, as interactive.q alone does.  A dedicated design
 * never reaches this file: its runs are what they were before. */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-private.h"

typedef struct {
  gdouble work;        /* alone-seconds of work left at `last` */
  gdouble est;         /* alone-seconds of estimate left at `last` */
  gint64  last;
  gdouble rate;
  guint64 gen;         /* tag of its current end event */
  guint8  used;        /* the slot held a job before (all.q reuses slots) */
  guint8  shared;      /* it ran beside an active interactive job */
} BatchState;

struct _MnSimOversub {
  guint          n_nodes;           /* all.q nodes */
  guint32       *extra_jobs;        /* per node: shared sessions there */
  guint32       *extra_active;      /* ... of which active */
  guint64       *extra_limit;       /* ... the sum of their L */
  guint64       *extra_use;         /* ... their memory in use */
  gdouble       *node_rate;
  GArray       **node_batch;        /* per node: running batch jobs (guint32) */
  GArray        *batch;             /* BatchState per batch job */
  MnOversubNode *view;              /* scratch for mn_policy_oversub_place */
  GArray        *fifo;              /* guint32 sessions waiting, in order */
  guint32       *user_held;         /* per user: sessions here, running or waiting */
  GArray        *to_check;          /* guint32 shared sessions whose use grew */
  GArray        *pending;           /* guint32 batch jobs whose expected end waits for the pass's end */
  gboolean       changed;           /* room may have appeared: scan the FIFO */
  gboolean       batch_dirty;       /* memory given back to all.q: pass again */
  guint64        next_gen;          /* end-event tags, unique over the run */
  GArray        *stretch;           /* double: ran / alone of each shared batch job */
  gdouble        lost_node_seconds;
  /* figures */
  guint64        started_shared, started_dedicated, cap_kills;
  GArray        *committed;         /* double: committed / RAM at each shared start */
  guint64       *swap_level;        /* per node: overflow of RAM now */
  gint64        *swap_last;
  gdouble        swap_mb_seconds;
  guint64        swap_peak_mb;
};

static inline MnSimSession *
session_at (MnSimRun *run, guint32 s)
{
  return &g_array_index (run->sessions, MnSimSession, s);
}

static inline BatchState *
batch_state (MnSimOversub *o, guint32 bj)
{
  return &g_array_index (o->batch, BatchState, bj);
}

gboolean
mn_sim_oversub_wanted (MnSimRun *run)
{
  return run->policy->design != MN_DESIGN_DEDICATED && run->config.interactive_nodes != 0
         && run->w->n_interactive > 0;
}

gboolean
mn_sim_oversub_init (MnSimRun *run, GError **error)
{
  if (!mn_sim_oversub_wanted (run))
    return TRUE;
  if (!run->node_mode)
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_INVALID_CONFIG,
                   "[oversubscribe] design = %s needs nodes (a trace with resource "
                   "types, or [machine] nodes); this replay counts processors",
                   mn_policy_design_to_string (run->policy->design));
      return FALSE;
    }
  MnSimOversub *o = g_new0 (MnSimOversub, 1);
  guint n = run->batch.n_nodes;
  o->n_nodes = n;
  o->extra_jobs = g_new0 (guint32, n);
  o->extra_active = g_new0 (guint32, n);
  o->extra_limit = g_new0 (guint64, n);
  o->extra_use = g_new0 (guint64, n);
  o->node_rate = g_new (gdouble, n);
  o->node_batch = g_new0 (GArray *, n);
  for (guint i = 0; i < n; i++)
    {
      o->node_rate[i] = 1.0;
      o->node_batch[i] = g_array_new (FALSE, FALSE, sizeof (guint32));
    }
  o->batch = g_array_new (FALSE, TRUE, sizeof (BatchState));
  o->view = g_new0 (MnOversubNode, n);
  o->fifo = g_array_new (FALSE, FALSE, sizeof (guint32));
  o->user_held = g_new0 (guint32, MAX (run->w->users->len, 1));
  o->to_check = g_array_new (FALSE, FALSE, sizeof (guint32));
  o->pending = g_array_new (FALSE, FALSE, sizeof (guint32));
  o->stretch = g_array_new (FALSE, FALSE, sizeof (double));
  o->committed = g_array_new (FALSE, FALSE, sizeof (double));
  o->swap_level = g_new0 (guint64, n);
  o->swap_last = g_new0 (gint64, n);
  run->oversub = o;
  return TRUE;
}

void
mn_sim_oversub_clear (MnSimRun *run)
{
  MnSimOversub *o = run->oversub;
  if (o == NULL)
    return;
  for (guint i = 0; i < o->n_nodes; i++)
    g_array_unref (o->node_batch[i]);
  g_free (o->node_batch);
  g_free (o->extra_jobs);
  g_free (o->extra_active);
  g_free (o->extra_limit);
  g_free (o->extra_use);
  g_free (o->node_rate);
  g_array_unref (o->batch);
  g_free (o->view);
  g_array_unref (o->fifo);
  g_free (o->user_held);
  g_array_unref (o->to_check);
  g_array_unref (o->pending);
  g_array_unref (o->stretch);
  g_array_unref (o->committed);
  g_free (o->swap_level);
  g_free (o->swap_last);
  g_free (o);
  run->oversub = NULL;
}

/* ---- batch jobs and their rates ------------------------------------------------ */

static gdouble
job_rate (MnSimRun *run, const MnSimBatchJob *j)
{
  gdouble r = 1.0;
  for (guint32 a = 0; a < j->n_alloc; a++)
    r = MIN (r, run->oversub->node_rate[j->alloc[2 * a]]);
  return r;
}

/* all.q's expected end of @bj from its estimate left. */
static void
expected_end_moves (MnSimRun *run, guint32 bj)
{
  const BatchState *st = batch_state (run->oversub, bj);
  gint64 end = run->res[g_array_index (run->batch.jobs, MnSimBatchJob, bj).job].end;
  mn_sim_batch_set_expected_end (&run->batch, bj,
                                 MAX (mn_policy_oversub_end (st->last, st->est, st->rate), end));
}

/* Bring @bj's work to now at its old rate, then go on at @rate: its end
 * event and all.q's expected end move (@defer: after the pass under way,
 * which must not see its running list change). */
static void
set_rate (MnSimRun *run, guint32 bj, gdouble rate, gboolean defer)
{
  MnSimOversub *o = run->oversub;
  BatchState *st = batch_state (o, bj);
  MnSimBatchJob *j = &g_array_index (run->batch.jobs, MnSimBatchJob, bj);
  if (rate == st->rate)
    return;
  st->work = mn_policy_oversub_work_left (st->work, st->last, run->now, st->rate);
  st->est = mn_policy_oversub_work_left (st->est, st->last, run->now, st->rate);
  st->last = run->now;
  st->rate = rate;
  if (rate < 1.0)
    st->shared = 1;
  gint64 end = mn_policy_oversub_end (run->now, st->work, rate);
  st->gen = ++o->next_gen;
  run->res[j->job].end = end;
  mn_sim_heap_push (&run->heap, end, MN_SIM_EV_BATCH_END, bj, st->gen);
  if (defer)
    g_array_append_val (o->pending, bj);
  else
    expected_end_moves (run, bj);
}

void
mn_sim_oversub_after_pass (MnSimRun *run)
{
  MnSimOversub *o = run->oversub;
  for (guint i = 0; i < o->pending->len; i++)
    expected_end_moves (run, g_array_index (o->pending, guint32, i));
  g_array_set_size (o->pending, 0);
}

/* Node @n's count of active shared sessions changed by @delta. */
static void
node_active_changed (MnSimRun *run, guint n, gint delta)
{
  MnSimOversub *o = run->oversub;
  o->extra_active[n] = (guint32) ((gint) o->extra_active[n] + delta);
  o->node_rate[n] = mn_policy_oversub_batch_rate (run->policy, o->extra_active[n]);
  GArray *jobs = o->node_batch[n];
  for (guint i = 0; i < jobs->len; i++)
    {
      guint32 bj = g_array_index (jobs, guint32, i);
      set_rate (run, bj, job_rate (run, &g_array_index (run->batch.jobs, MnSimBatchJob, bj)), FALSE);
    }
}

void
mn_sim_oversub_batch_started (MnSimRun *run, guint32 bj)
{
  MnSimOversub *o = run->oversub;
  const MnSimBatchJob *j = &g_array_index (run->batch.jobs, MnSimBatchJob, bj);
  if (o->batch->len <= bj)
    g_array_set_size (o->batch, run->batch.jobs->len);
  BatchState *st = batch_state (o, bj);
  st->work = (gdouble) j->runtime;
  st->est = (gdouble) j->estimate;
  st->last = run->now;
  st->rate = 1.0;
  st->shared = 0;
  for (guint32 a = 0; a < j->n_alloc; a++)
    g_array_append_val (o->node_batch[j->alloc[2 * a]], bj);
  if (st->used)
    {
      /* A reused slot: older end events of its earlier job may still be
       * queued with any tag but 0's successors; this job's own carries a new
       * one (and the engine's tag-0 event is stale). */
      st->gen = ++o->next_gen;
      mn_sim_heap_push (&run->heap, run->res[j->job].end, MN_SIM_EV_BATCH_END, bj, st->gen);
    }
  else
    st->gen = 0;
  st->used = 1;
  /* Started on a node an active interactive job already slows. */
  set_rate (run, bj, job_rate (run, j), TRUE);
}

gboolean
mn_sim_oversub_batch_end (MnSimRun *run, const MnSimEvent *ev)
{
  MnSimOversub *o = run->oversub;
  guint32 bj = ev->arg;
  if (ev->tag != batch_state (o, bj)->gen)
    return FALSE;
  const MnSimBatchJob *j = &g_array_index (run->batch.jobs, MnSimBatchJob, bj);
  const BatchState *st = batch_state (o, bj);
  if (st->shared)
    {
      gint64 ran = run->now - j->start;
      double x = j->runtime > 0 ? (double) ran / (double) j->runtime : 1.0;
      g_array_append_val (o->stretch, x);
      o->lost_node_seconds += (gdouble) (ran - j->runtime) * (gdouble) j->count
                              * (gdouble) run->batch.types[j->type].cores / (gdouble) run->batch.node.cores;
    }
  for (guint32 a = 0; a < j->n_alloc; a++)
    {
      GArray *jobs = o->node_batch[j->alloc[2 * a]];
      for (guint i = 0; i < jobs->len; i++)
        if (g_array_index (jobs, guint32, i) == bj)
          {
            g_array_remove_index_fast (jobs, i);
            break;
          }
    }
  /* Its memory is free again: a waiting request may fit now. */
  o->changed = TRUE;
  return TRUE;
}

/* ---- shared nodes' memory -------------------------------------------------------- */

/* The RAM overflow of node @n: batch requests + interactive use above RAM
 * (none while every session stays within its L: the headroom rule). */
static void
swap_update (MnSimRun *run, guint n)
{
  MnSimOversub *o = run->oversub;
  guint64 ram = run->batch.node.memory_mb;
  guint64 batch_mem = ram - run->batch.free.memory_mb[n] - o->extra_limit[n];
  guint64 used = batch_mem + o->extra_use[n];
  guint64 level = used > ram ? used - ram : 0;
  o->swap_mb_seconds += (gdouble) o->swap_level[n] * (gdouble) (run->now - o->swap_last[n]);
  o->swap_level[n] = level;
  o->swap_last[n] = run->now;
  o->swap_peak_mb = MAX (o->swap_peak_mb, level);
}

void
mn_sim_oversub_set_memory (MnSimRun *run, guint32 si, guint64 memory_mb)
{
  MnSimOversub *o = run->oversub;
  MnSimSession *s = session_at (run, si);
  o->extra_use[s->node] = o->extra_use[s->node] - s->memory_mb + memory_mb;
  s->memory_mb = memory_mb;
  swap_update (run, s->node);
  if (memory_mb > s->limit_mb)
    g_array_append_val (o->to_check, si);
}

/* ---- sessions -------------------------------------------------------------------- */

static void
start_shared (MnSimRun *run, guint32 si, const MnPolicyRequest *req, guint node)
{
  MnSimOversub *o = run->oversub;
  MnSimSession *s = session_at (run, si);
  MnSimJobResult *r = &run->res[s->job];
  MnPolicyAllocation a;

  mn_policy_allocation_compute (run->policy, req, node, 0, 0, run->now, &a);
  a.gpu_mask = 0;
  s->state = MN_SIM_SESSION_RUNNING;
  s->shared = 1;
  s->node = node;
  s->logical = 0;
  s->limit_mb = a.memory_swap_max_mb;
  s->swap_max_mb = a.swap_max_mb;
  r->start = run->now;
  r->queue = MN_SIM_QUEUE_INTERACTIVE;
  r->node = (guint16) MIN (node, G_MAXUINT16);
  r->logical = 0;
  r->cpu_first = 0;
  r->n_cpus = (guint16) MIN (run->batch.node.cores, G_MAXUINT16);
  r->gpu_mask = 0;
  r->memory_limit_mb = (guint32) MIN (a.memory_swap_max_mb, G_MAXUINT32);
  r->cpu_slowdown = 1.0f;

  /* Its L leaves all.q's free memory on the node (the headroom rule keeps
   * it there: the node's free memory is the headroom). */
  guint64 ram = run->batch.node.memory_mb;
  mn_sim_batch_reserve_memory (&run->batch, node, s->limit_mb, TRUE);
  o->extra_jobs[node]++;
  o->extra_limit[node] += s->limit_mb;
  gdouble committed = (gdouble) (ram - run->batch.free.memory_mb[node]) / (gdouble) ram;
  g_array_append_val (o->committed, committed);
  o->started_shared++;

  gint64 active = mn_sim_inter_plan (run, si, &a);
  gint64 length = s->end - run->now;
  if (active > 0)
    {
      s->active = 1;
      node_active_changed (run, node, +1);
      if (active < length)
        mn_sim_heap_push (&run->heap, s->active_end, MN_SIM_EV_SESSION_IDLE, si, s->gen);
    }
  mn_sim_oversub_set_memory (run, si, mn_sim_inter_initial_memory (run, si));
}

void
mn_sim_oversub_session_idle (MnSimRun *run, guint32 si)
{
  node_active_changed (run, session_at (run, si)->node, -1);
}

void
mn_sim_oversub_session_end (MnSimRun *run, guint32 si)
{
  MnSimOversub *o = run->oversub;
  MnSimSession *s = session_at (run, si);
  guint node = s->node;
  mn_sim_oversub_set_memory (run, si, 0);
  o->extra_jobs[node]--;
  o->extra_limit[node] -= s->limit_mb;
  mn_sim_batch_reserve_memory (&run->batch, node, s->limit_mb, FALSE);
  o->batch_dirty = TRUE;
  o->changed = TRUE;
  o->user_held[g_array_index (run->w->jobs, MnSimJob, s->job).user]--;
}

void
mn_sim_oversub_changed (MnSimRun *run)
{
  run->oversub->changed = TRUE;
}

gboolean
mn_sim_oversub_take_batch_dirty (MnSimRun *run)
{
  gboolean d = run->oversub->batch_dirty;
  run->oversub->batch_dirty = FALSE;
  return d;
}

/* The room of every node as the rule sees it. */
static void
fill_view (MnSimRun *run)
{
  MnSimOversub *o = run->oversub;
  guint64 ram = run->batch.node.memory_mb;
  for (guint n = 0; n < o->n_nodes; n++)
    {
      o->view[n].extra_jobs = o->extra_jobs[n];
      o->view[n].extra_memory_mb = o->extra_limit[n];
      o->view[n].batch_memory_mb = ram - run->batch.free.memory_mb[n] - o->extra_limit[n];
    }
}

/* Start @si now if anything has room: interactive.q first (hybrid), then a
 * batch node.  FALSE, with the reason in its result, if nothing has. */
static gboolean
try_start (MnSimRun *run, guint32 si, const MnPolicyRequest *req, gboolean view_fresh)
{
  MnSimOversub *o = run->oversub;
  MnSimJobResult *r = &run->res[session_at (run, si)->job];
  if (run->pstate != NULL)
    {
      MnPolicyRequest now_or_never = *req;
      MnDecision d = { 0 };
      now_or_never.if_busy = MN_IF_BUSY_GIVE_UP;
      mn_policy_state_request (run->pstate, &now_or_never, run->now, &d);
      gboolean started = d.kind == MN_DECISION_START;
      if (started)
        {
          o->started_dedicated++;
          mn_sim_inter_start (run, si, &d.allocation);
        }
      mn_decision_clear (&d);
      if (started)
        return TRUE;
    }
  if (!view_fresh)
    fill_view (run);
  MnWaitReason why;
  MnPolicyAllocation a;
  mn_policy_allocation_compute (run->policy, req, 0, 0, 0, run->now, &a);
  gint node = mn_policy_oversub_place (run->policy, o->view, o->n_nodes, a.memory_swap_max_mb, &why);
  if (node < 0)
    {
      r->wait_reason = (guint8) why;
      return FALSE;
    }
  start_shared (run, si, req, (guint) node);
  return TRUE;
}

void
mn_sim_oversub_request (MnSimRun *run, guint32 si, const MnPolicyRequest *req)
{
  MnSimOversub *o = run->oversub;
  MnSimSession *s = session_at (run, si);
  guint32 user = g_array_index (run->w->jobs, MnSimJob, s->job).user;
  g_autofree gchar *message = NULL;
  MnRejectReason reason = mn_policy_request_check_caps (run->policy, req, &message);
  guint held = o->user_held[user]
               + (run->pstate != NULL ? mn_policy_state_user_jobs (run->pstate, req->user) : 0);
  if (reason == MN_REJECT_NONE && held >= run->policy->max_jobs_per_user)
    reason = MN_REJECT_PER_USER_LIMIT;
  if (reason != MN_REJECT_NONE)
    {
      mn_sim_inter_refused (run, si, reason);
      return;
    }
  if (try_start (run, si, req, FALSE))
    {
      if (s->shared)
        o->user_held[user]++;
      return;
    }
  if (req->if_busy == MN_IF_BUSY_WAIT)
    {
      s->state = MN_SIM_SESSION_WAITING;
      o->user_held[user]++;
      g_array_append_val (o->fifo, si);
      return;
    }
  mn_sim_inter_refused (run, si, MN_REJECT_BUSY_GIVE_UP);
}

/* Start what the FIFO's requests can, in order.  A request whose L found
 * no node rules out every later one asking as much (the nodes do not change
 * but by a start, which only takes room). */
static void
scan_fifo (MnSimRun *run)
{
  MnSimOversub *o = run->oversub;
  guint64 no_room_from = G_MAXUINT64;
  gboolean fresh = FALSE;
  guint kept = 0;
  for (guint i = 0; i < o->fifo->len; i++)
    {
      guint32 si = g_array_index (o->fifo, guint32, i);
      MnSimSession *s = session_at (run, si);
      MnPolicyRequest req;
      guint32 user = g_array_index (run->w->jobs, MnSimJob, s->job).user;
      mn_sim_inter_make_request (run, si, &req);
      MnPolicyAllocation a;
      mn_policy_allocation_compute (run->policy, &req, 0, 0, 0, run->now, &a);
      gboolean started = FALSE;
      if (a.memory_swap_max_mb < no_room_from || run->pstate != NULL)
        {
          if (!fresh)
            fill_view (run);
          fresh = TRUE;
          /* It leaves the waiting count and comes back as running. */
          o->user_held[user]--;
          started = try_start (run, si, &req, TRUE);
          if (started && s->shared)
            {
              o->user_held[user]++;
              fresh = FALSE;
            }
          else if (!started)
            {
              o->user_held[user]++;
              no_room_from = MIN (no_room_from, a.memory_swap_max_mb);
            }
        }
      if (!started)
        g_array_index (o->fifo, guint32, kept++) = si;
    }
  g_array_set_size (o->fifo, kept);
}

void
mn_sim_oversub_settle (MnSimRun *run)
{
  MnSimOversub *o = run->oversub;
  /* A session's own limit: past L it is killed (mn_policy_memory_verdict). */
  while (o->to_check->len > 0)
    {
      guint32 si = g_array_index (o->to_check, guint32, o->to_check->len - 1);
      g_array_set_size (o->to_check, o->to_check->len - 1);
      MnSimSession *s = session_at (run, si);
      if (s->state == MN_SIM_SESSION_RUNNING && s->memory_mb > s->limit_mb)
        {
          o->cap_kills++;
          run->memory_cap_kills++;
          mn_sim_inter_end (run, si, MN_SIM_STATUS_MEMORY_CAP);
        }
    }
  if (o->changed && o->fifo->len > 0)
    scan_fifo (run);
  o->changed = FALSE;
}

void
mn_sim_oversub_finish (MnSimRun *run)
{
  MnSimOversub *o = run->oversub;
  for (guint n = 0; n < o->n_nodes; n++)
    {
      o->swap_mb_seconds += (gdouble) o->swap_level[n] * (gdouble) (run->now - o->swap_last[n]);
      o->swap_last[n] = run->now;
    }
  /* Requests still waiting when the trace is over never started. */
  for (guint i = 0; i < o->fifo->len; i++)
    {
      MnSimSession *s = session_at (run, g_array_index (o->fifo, guint32, i));
      run->res[s->job].status = MN_SIM_STATUS_REJECTED;
      run->res[s->job].reason = MN_REJECT_NONE;
      s->state = MN_SIM_SESSION_OVER;
    }
  g_array_set_size (o->fifo, 0);
}

/* ---- figures ------------------------------------------------------------------------ */

void
mn_sim_oversub_metrics (MnSimRun *run, MnSimMetrics *m)
{
  MnSimOversub *o = run->oversub;
  MnSimOversubMetrics *om = &m->oversub;
  memset (om, 0, sizeof *om);
  om->design = run->policy->design;
  if (o == NULL)
    return;
  om->on = TRUE;
  om->started_shared = o->started_shared;
  om->started_dedicated = o->started_dedicated;
  om->memory_cap_kills = o->cap_kills;
  GArray *stretch = o->stretch;
  gdouble lost = o->lost_node_seconds, sum = 0;
  for (guint i = 0; i < stretch->len; i++)
    sum += g_array_index (stretch, double, i);
  om->batch_jobs_shared = stretch->len;
  om->batch_stretch_mean = stretch->len > 0 ? sum / stretch->len : 1.0;
  const double p[] = { 95, 100 };
  double out[2] = { 1.0, 1.0 };
  if (stretch->len > 0)
    mn_sim_percentiles (stretch, p, out, 2);
  om->batch_stretch_p95 = out[0];
  om->batch_stretch_max = out[1];
  om->batch_node_hours_lost = lost / 3600.0;
  om->dedicated_node_hours = (gdouble) run->interactive_nodes * (gdouble) MAX (m->batch.makespan, 0) / 3600.0;
  double csum = 0, cmax = 0;
  for (guint i = 0; i < o->committed->len; i++)
    {
      double c = g_array_index (o->committed, double, i);
      csum += c;
      cmax = MAX (cmax, c);
    }
  om->memory_committed_mean = o->committed->len > 0 ? csum / o->committed->len : 0;
  om->memory_committed_max = cmax;
  om->swap_peak_mb = o->swap_peak_mb;
  om->swap_mb_hours = o->swap_mb_seconds / 3600.0;
}
