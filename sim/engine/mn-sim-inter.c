/* mn-sim-inter.c: interactive.q.  Every admission and placement is decided
 * by policy/ (mn_policy_state_request / _release), and what a started session
 * gets is the MnPolicyAllocation of its START decision (THE MODEL in
 * policy/mn-policy.h); this file applies that model on the simulated nodes:
 *
 * - Memory: a session uses its memory profile (native traces), else its
 *   maximum used memory from the start, else its request.  A session whose
 *   use passes its limit L (RAM + swap) is killed by its cap (status
 *   memory-cap).  When the sessions of a node use more than its RAM the
 *   overflow is in swap, at most the node's swap and at most the sum over its
 *   sessions of min (use, S); past RAM + that, the node's OOM killer ends the
 *   session with the largest use (ties: the lowest job id), again until the
 *   rest fits (status oom).  Checked once per instant, after every event of
 *   that instant: cap kills first, then the node.
 * - CPU: a session is active (its kernel busy) for the first cpu_active x
 *   runtime seconds, then idle (the forgotten open notebook); while active
 *   it keeps cpu_time / (cpu_active x runtime) of its cores busy (all of
 *   them when the trace does not give both).  Active sessions on one
 *   logical node share its cores: while
 *   they ask for A cores of C, each runs max(1, A / C) times slower; a
 *   session's slowdown is that factor averaged over its active time.
 *   Runtimes are not stretched by it (sessions are driven by people, not by
 *   work to finish).
 * - GPU: a session with GPUs allocates its GPU-memory footprint at start.
 *   It fails when above what its allocation gives (CAPPED: its reservation,
 *   the per-job cap; EXCLUSIVE and SHARED: its GPUs' memory) and, SHARED,
 *   when the logical node's GPU memory is already taken by others (first
 *   come, first served).  A failed allocation is counted; the session still
 *   runs.
 * - A session ends at the first of: its runtime, its allocation's
 *   walltime_end (counted from its start: status walltime), the idle cut of
 *   mn_policy_idle_decide() for a kernel idle since its CPU went idle
 *   (status idle), a kill by its cap or its node's OOM killer.
 * - Give-up requests rejected as busy are retried after the configured delay.
 */
#define G_LOG_DOMAIN "minna-sim"

#include <math.h>

#include "mn-sim-private.h"

static inline MnSimSession *
session_at (MnSimRun *run, guint32 s)
{
  return &g_array_index (run->sessions, MnSimSession, s);
}

static inline const MnSimJob *
job_of (MnSimRun *run, const MnSimSession *s)
{
  return &g_array_index (run->w->jobs, MnSimJob, s->job);
}

gboolean
mn_sim_inter_init (MnSimRun *run, GError **error)
{
  run->cpu_slowdowns = g_array_new (FALSE, FALSE, sizeof (double));
  if (run->interactive_nodes <= 0 && run->oversub == NULL)
    return TRUE;
  run->sessions = g_array_new (FALSE, TRUE, sizeof (MnSimSession));
  run->started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  /* design = oversubscribe: no interactive.q at all (issue 19) */
  if (run->interactive_nodes <= 0)
    return TRUE;
  run->policy->nodes = (guint) run->interactive_nodes;
  if (!mn_policy_config_validate (run->policy, error))
    {
      g_prefix_error (error, "--interactive-nodes %" G_GINT64_FORMAT ": ", run->interactive_nodes);
      return FALSE;
    }
  run->pstate = mn_policy_state_new (run->policy);
  guint nodes = run->policy->nodes;
  guint logicals = nodes * run->policy->logical_per_node;
  run->node_sessions = g_new0 (GArray *, nodes);
  for (guint n = 0; n < nodes; n++)
    run->node_sessions[n] = g_array_new (FALSE, FALSE, sizeof (guint32));
  run->node_mem = g_new0 (guint64, nodes);
  run->node_swappable = g_new0 (guint64, nodes);
  run->swap_level = g_new0 (guint64, nodes);
  run->swap_last = g_new0 (gint64, nodes);
  run->node_dirty = g_new0 (guint8, nodes);
  run->dirty = g_array_new (FALSE, FALSE, sizeof (guint32));
  run->logical_active = g_new0 (guint32, logicals);
  run->logical_integral = g_new0 (double, logicals);
  run->logical_last = g_new0 (gint64, logicals);
  run->logical_gpu_mb = g_new0 (guint64, logicals);
  return TRUE;
}

void
mn_sim_inter_clear (MnSimRun *run)
{
  g_clear_pointer (&run->pstate, mn_policy_state_free);
  g_clear_pointer (&run->sessions, g_array_unref);
  g_clear_pointer (&run->started, g_array_unref);
  if (run->node_sessions != NULL)
    for (guint n = 0; n < (guint) run->interactive_nodes; n++)
      g_array_unref (run->node_sessions[n]);
  g_clear_pointer (&run->node_sessions, g_free);
  g_clear_pointer (&run->node_mem, g_free);
  g_clear_pointer (&run->node_swappable, g_free);
  g_clear_pointer (&run->swap_level, g_free);
  g_clear_pointer (&run->swap_last, g_free);
  g_clear_pointer (&run->node_dirty, g_free);
  g_clear_pointer (&run->dirty, g_array_unref);
  g_clear_pointer (&run->logical_active, g_free);
  g_clear_pointer (&run->logical_integral, g_free);
  g_clear_pointer (&run->logical_last, g_free);
  g_clear_pointer (&run->logical_gpu_mb, g_free);
  g_clear_pointer (&run->cpu_slowdowns, g_array_unref);
}

/* ---- bookkeeping ------------------------------------------------------------ */

static void
occupancy_changed (MnSimRun *run, gint delta)
{
  run->occupancy_integral += (double) run->n_running * (double) (run->now - run->occupancy_last);
  run->occupancy_last = run->now;
  run->n_running += delta;
  run->peak_running = MAX (run->peak_running, run->n_running);
}

static void
mark_dirty (MnSimRun *run, guint node)
{
  if (run->node_dirty[node])
    return;
  run->node_dirty[node] = 1;
  g_array_append_val (run->dirty, node);
}

static inline guint
logical_index (MnSimRun *run, const MnSimSession *s)
{
  return s->node * run->policy->logical_per_node + s->logical;
}

/* Fold the time since the last change into the logical node's integral of
 * the slowdown factor, then apply @delta cores. */
static void
cpu_changed (MnSimRun *run, guint l, gint64 delta)
{
  double factor = MAX (1.0, (double) run->logical_active[l] / (double) run->policy->logical_cores);
  run->logical_integral[l] += factor * (double) (run->now - run->logical_last[l]);
  run->logical_last[l] = run->now;
  run->logical_active[l] = (guint32) ((gint64) run->logical_active[l] + delta);
}

static guint64
profile_memory (MnSimRun *run, const MnSimJob *j, guint32 pos)
{
  return g_array_index (run->w->profile, MnMemoryStep, j->profile_first + pos).memory_mb;
}

static void
set_memory (MnSimRun *run, MnSimSession *s, guint64 memory_mb)
{
  if (s->shared)
    {
      mn_sim_oversub_set_memory (run, (guint32) (s - session_at (run, 0)), memory_mb);
      return;
    }
  run->node_mem[s->node] = run->node_mem[s->node] - s->memory_mb + memory_mb;
  run->node_swappable[s->node] = run->node_swappable[s->node] - MIN (s->memory_mb, s->swap_max_mb)
                                 + MIN (memory_mb, s->swap_max_mb);
  s->memory_mb = memory_mb;
  mark_dirty (run, s->node);
}

/* Schedule the next memory step of @s, if any, after @start. */
static void
push_memory_step (MnSimRun *run, guint32 si, gint64 start)
{
  MnSimSession *s = session_at (run, si);
  const MnSimJob *j = job_of (run, s);
  if (s->profile_pos >= j->profile_len)
    return;
  MnMemoryStep *step = &g_array_index (run->w->profile, MnMemoryStep, j->profile_first + s->profile_pos);
  gint64 t = start + MAX (step->offset, 0);
  if (t < s->end)
    mn_sim_heap_push (&run->heap, t, MN_SIM_EV_SESSION_MEM, si, s->gen);
}

static void start_session (MnSimRun *run, guint32 si, const MnPolicyAllocation *a);

static void
start_released (MnSimRun *run)
{
  /* Copy out first: starting may release again (never here, but keep the
   * scratch array private to this call). */
  guint n = run->started->len;
  if (n == 0)
    return;
  g_autofree MnDecision *dec = g_memdup2 (run->started->data, n * sizeof (MnDecision));
  g_array_set_size (run->started, 0);
  for (guint i = 0; i < n; i++)
    {
      if (dec[i].kind == MN_DECISION_START)
        start_session (run, (guint32) (dec[i].job_id - 1), &dec[i].allocation);
      mn_decision_clear (&dec[i]);
    }
}

/* The session's cores go idle (or it ends): its slowdown is the factor
 * averaged over the time it was active. */
static void
session_cpu_stop (MnSimRun *run, guint32 si)
{
  MnSimSession *s = session_at (run, si);
  if (!s->active)
    return;
  MnSimJobResult *r = &run->res[s->job];
  if (s->shared)
    {
      /* It takes its share of the batch node (the batch jobs slow down). */
      mn_sim_oversub_session_idle (run, si);
      s->active = 0;
      double one = 1.0;
      r->cpu_slowdown = 1.0f;
      if (run->now > r->start)
        g_array_append_val (run->cpu_slowdowns, one);
      return;
    }
  guint l = logical_index (run, s);
  cpu_changed (run, l, -(gint64) s->busy_cores);
  s->active = 0;
  gint64 active_time = run->now - r->start;
  double sd = active_time > 0
              ? (run->logical_integral[l] - s->cpu_integral_start) / (double) active_time : 1.0;
  sd = MAX (sd, 1.0);
  r->cpu_slowdown = (float) sd;
  if (active_time > 0)
    g_array_append_val (run->cpu_slowdowns, sd);
}

/* End a running session now with @status. */
static void
end_session (MnSimRun *run, guint32 si, MnSimJobStatus status)
{
  MnSimSession *s = session_at (run, si);
  g_assert (s->state == MN_SIM_SESSION_RUNNING);
  MnSimJobResult *r = &run->res[s->job];
  if (s->shared)
    {
      session_cpu_stop (run, si);
      mn_sim_oversub_session_end (run, si);
      s->state = MN_SIM_SESSION_OVER;
      s->gen++;
      r->end = run->now;
      r->status = status;
      return;
    }
  guint l = logical_index (run, s);
  session_cpu_stop (run, si);
  set_memory (run, s, 0);
  if (s->gpu_held_mb > 0)
    run->logical_gpu_mb[l] -= s->gpu_held_mb;
  GArray *on_node = run->node_sessions[s->node];
  for (guint i = 0; i < on_node->len; i++)
    if (g_array_index (on_node, guint32, i) == si)
      {
        g_array_remove_index (on_node, i);
        break;
      }
  s->state = MN_SIM_SESSION_OVER;
  s->gen++;
  r->end = run->now;
  r->status = status;
  occupancy_changed (run, -1);
  mn_policy_state_release (run->pstate, (guint64) si + 1, run->now, run->started);
  start_released (run);
  if (run->oversub != NULL)
    mn_sim_oversub_changed (run);
}

/* When a started session ends, and why: its runtime, its walltime end
 * (counted from its start), the idle cut of the model (its kernel is busy
 * while its CPU is active, from the start, and idle after).  Sets the
 * session's end, active end, end status and busy cores, pushes its end
 * event; returns its active seconds. */
gint64
mn_sim_inter_plan (MnSimRun *run, guint32 si, const MnPolicyAllocation *a)
{
  MnSimSession *s = session_at (run, si);
  const MnSimJob *j = job_of (run, s);
  const MnPolicyConfig *p = run->policy;
  gint64 now = run->now;
  gint64 runtime = j->runtime;
  double act = j->cpu_active;
  /* Busy cores while active: the trace's own figure, cpu_time / (cpu_active
   * x runtime) (minna-tracegen writes 1, or 4 in busy sessions); all the
   * session's cores when the trace gives only one of the two. */
  s->busy_cores = s->cores;
  if (act > 0 && j->cpu_time >= 0 && runtime > 0)
    {
      double busy = (double) j->cpu_time / (act * (double) runtime);
      s->busy_cores = (guint32) CLAMP (floor (busy + 0.5), 1, MAX (s->cores, 1));
    }
  if (act < 0)
    act = (j->cpu_time >= 0 && runtime > 0 && s->cores > 0)
          ? (double) j->cpu_time / ((double) runtime * s->cores) : 1.0;
  act = CLAMP (act, 0.0, 1.0);
  gint64 active = (gint64) floor (act * (double) runtime + 0.5);
  gint64 length = runtime;
  s->end_status = MN_SIM_STATUS_DONE;
  if (a->walltime_end - now < length)
    {
      length = a->walltime_end - now;
      s->end_status = MN_SIM_STATUS_WALLTIME;
    }
  if (active < length)
    {
      MnIdleObservation o = { .start = now, .kernels_known = TRUE, .n_kernels = 1,
                              .kernel_last_activity = now + active };
      MnIdleVerdict v;
      mn_policy_idle_decide (p, &o, now + active, &v);
      if (v.kind != MN_IDLE_OFF && v.cut_at - now < length)
        {
          length = v.cut_at - now;
          s->end_status = MN_SIM_STATUS_IDLE;
        }
    }
  active = MIN (active, length);
  s->end = now + length;
  s->active_end = now + active;
  mn_sim_heap_push (&run->heap, s->end, MN_SIM_EV_SESSION_END, si, s->gen);
  return active;
}

/* The session's memory at its start: its profile's steps at offset <= 0
 * (and the next step scheduled), else its maximum used, else its request. */
guint64
mn_sim_inter_initial_memory (MnSimRun *run, guint32 si)
{
  MnSimSession *s = session_at (run, si);
  const MnSimJob *j = job_of (run, s);
  guint64 mem;
  if (j->profile_len > 0)
    {
      /* Steps at offset <= 0 apply from the start. */
      mem = 0;
      while (s->profile_pos < j->profile_len
             && g_array_index (run->w->profile, MnMemoryStep, j->profile_first + s->profile_pos).offset <= 0)
        mem = profile_memory (run, j, s->profile_pos++);
      push_memory_step (run, si, run->now);
    }
  else if (j->memory_used_mb >= 0)
    mem = (guint64) j->memory_used_mb;
  else if (j->memory_req_mb > 0)
    mem = (guint64) j->memory_req_mb;
  else
    mem = 0;
  return mem;
}

void
mn_sim_inter_end (MnSimRun *run, guint32 si, MnSimJobStatus status)
{
  end_session (run, si, status);
}

void
mn_sim_inter_start (MnSimRun *run, guint32 si, const MnPolicyAllocation *a)
{
  start_session (run, si, a);
}

static void
start_session (MnSimRun *run, guint32 si, const MnPolicyAllocation *a)
{
  MnSimSession *s = session_at (run, si);
  const MnSimJob *j = job_of (run, s);
  MnSimJobResult *r = &run->res[s->job];
  const MnPolicyConfig *p = run->policy;

  s->state = MN_SIM_SESSION_RUNNING;
  s->node = a->node;
  s->logical = a->logical;
  s->limit_mb = a->memory_swap_max_mb;
  s->swap_max_mb = a->swap_max_mb;
  r->start = run->now;
  r->queue = MN_SIM_QUEUE_INTERACTIVE;
  r->node = (guint16) a->node;
  r->logical = (guint16) a->logical;
  r->cpu_first = (guint16) a->cpu_first;
  r->n_cpus = (guint16) a->n_cpus;
  r->gpu_mask = a->gpu_mask;
  r->memory_limit_mb = (guint32) MIN (a->memory_swap_max_mb, G_MAXUINT32);
  g_array_append_val (run->node_sessions[a->node], si);
  occupancy_changed (run, +1);

  gint64 active = mn_sim_inter_plan (run, si, a);
  gint64 length = s->end - run->now;

  /* CPU */
  guint l = logical_index (run, s);
  cpu_changed (run, l, 0);
  s->cpu_integral_start = run->logical_integral[l];
  r->cpu_slowdown = 1.0f;
  if (active > 0)
    {
      cpu_changed (run, l, s->busy_cores);
      s->active = 1;
      if (active < length)
        mn_sim_heap_push (&run->heap, s->active_end, MN_SIM_EV_SESSION_IDLE, si, s->gen);
    }

  /* GPU: its footprint against what its allocation gives; in SHARED mode
   * also against what the other sessions of its logical node hold (first
   * come, first served). */
  if (a->gpus > 0 && j->gpu_memory_mb > 0)
    {
      guint64 want = (guint64) j->gpu_memory_mb;
      guint64 room = (guint64) p->logical_gpus * p->gpu_memory_mb;
      gboolean failed = want > a->gpu_memory_mb;
      if (a->gpu_mode == MN_GPU_MODE_SHARED && !failed)
        {
          failed = run->logical_gpu_mb[l] + want > room;
          if (!failed)
            {
              s->gpu_held_mb = want;
              run->logical_gpu_mb[l] += want;
            }
        }
      if (failed)
        {
          run->gpu_failures++;
          r->gpu_failed = 1;
        }
    }

  /* Memory */
  set_memory (run, s, mn_sim_inter_initial_memory (run, si));
}

/* The peak memory the trace gives a session: what the cap is checked on. */
static guint64
trace_peak (MnSimRun *run, const MnSimJob *j)
{
  guint64 peak = 0;
  for (guint32 i = 0; i < j->profile_len; i++)
    peak = MAX (peak, profile_memory (run, j, i));
  if (j->profile_len > 0)
    return peak;
  if (j->memory_used_mb >= 0)
    return (guint64) j->memory_used_mb;
  return j->memory_req_mb > 0 ? (guint64) j->memory_req_mb : 0;
}

/* ---- requests ----------------------------------------------------------------- */

void
mn_sim_inter_make_request (MnSimRun *run, guint32 si, MnPolicyRequest *out)
{
  MnSimSession *s = session_at (run, si);
  const MnSimJob *j = job_of (run, s);
  MnSimJobResult *r = &run->res[s->job];
  const MnPolicyConfig *p = run->policy;
  const MnResourceTypeInfo *info = j->rtype != MN_RTYPE_NONE ? mn_resource_type_info (j->rtype) : NULL;
  MnPolicyRequest req = { 0 };
  req.job_id = (guint64) si + 1;
  req.user = g_ptr_array_index (run->w->users, j->user);
  gint64 cores = info != NULL ? (gint64) info->cores * j->rtype_count : (j->procs > 0 ? j->procs : 1);
  req.cores = (guint) CLAMP (cores, 1, G_MAXUINT);
  s->cores = req.cores;
  r->procs = req.cores;
  req.memory_mb = j->memory_req_mb > 0 ? (guint64) j->memory_req_mb
                  : (info != NULL ? info->memory_mb * j->rtype_count : p->job_max_memory_mb);
  gint64 gpus = j->gpus >= 0 ? j->gpus : (info != NULL ? (gint64) info->gpus * j->rtype_count : 0);
  req.gpus = (guint) CLAMP (gpus, 0, G_MAXUINT);
  /* GPU memory asked: none, so the policy's default (the per-job cap, what
   * CAPPED mode reserves), as a controller request that names none; its real
   * footprint is what start_session() allocates. */
  req.gpu_memory_mb = 0;
  req.walltime = j->walltime_req > 0 ? j->walltime_req : 0;
  /* The request's own choice, as the portal's form sends it; a trace that
   * does not say gets the policy's default, as a request naming none. */
  req.if_busy = j->if_busy >= 0 ? (MnIfBusy) j->if_busy : p->if_busy;
  r->memory_limit_mb = (guint32) MIN (req.memory_mb, G_MAXUINT32);
  r->memory_peak_mb = (guint32) MIN (trace_peak (run, j), G_MAXUINT32);
  *out = req;
}

void
mn_sim_inter_refused (MnSimRun *run, guint32 si, MnRejectReason reason)
{
  MnSimSession *s = session_at (run, si);
  MnSimJobResult *r = &run->res[s->job];
  run->rejected_attempts++;
  if (reason == MN_REJECT_BUSY_GIVE_UP && run->config.retry_delay > 0
      && r->attempts <= run->config.max_retries)
    mn_sim_heap_push (&run->heap, run->now + run->config.retry_delay, MN_SIM_EV_RETRY, si, s->gen);
  else
    {
      r->status = MN_SIM_STATUS_REJECTED;
      r->reason = (guint8) reason;
      s->state = MN_SIM_SESSION_OVER;
    }
}

void
mn_sim_inter_request (MnSimRun *run, guint32 si)
{
  MnSimSession *s = session_at (run, si);
  const MnSimJob *j = job_of (run, s);
  MnSimJobResult *r = &run->res[s->job];

  if (r->attempts == 0 && (j->runtime < 0 || j->submit < 0))
    {
      r->status = MN_SIM_STATUS_SKIPPED;
      s->state = MN_SIM_SESSION_OVER;
      return;
    }
  r->attempts++;
  MnPolicyRequest req;
  mn_sim_inter_make_request (run, si, &req);
  if (run->oversub != NULL)
    {
      mn_sim_oversub_request (run, si, &req);
      return;
    }

  MnDecision d = { 0 };
  mn_policy_state_request (run->pstate, &req, run->now, &d);
  r->wait_reason = (guint8) d.wait_reason;
  switch (d.kind)
    {
    case MN_DECISION_START:
      start_session (run, si, &d.allocation);
      break;
    case MN_DECISION_WAIT:
      s->state = MN_SIM_SESSION_WAITING;
      break;
    case MN_DECISION_REJECT:
    default:
      mn_sim_inter_refused (run, si, d.reason);
      break;
    }
  mn_decision_clear (&d);
}

void
mn_sim_inter_event (MnSimRun *run, const MnSimEvent *ev)
{
  MnSimSession *s = session_at (run, ev->arg);
  if (ev->kind == MN_SIM_EV_RETRY)
    {
      mn_sim_inter_request (run, ev->arg);
      return;
    }
  if (s->state != MN_SIM_SESSION_RUNNING || ev->tag != s->gen)
    return;   /* it ended before (an OOM kill) */
  switch (ev->kind)
    {
    case MN_SIM_EV_SESSION_END:
      end_session (run, ev->arg, s->end_status);
      break;
    case MN_SIM_EV_SESSION_IDLE:
      session_cpu_stop (run, ev->arg);
      break;
    case MN_SIM_EV_SESSION_MEM:
      {
        const MnSimJob *j = job_of (run, s);
        set_memory (run, s, profile_memory (run, j, s->profile_pos++));
        push_memory_step (run, ev->arg, run->res[s->job].start);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The OOM killer and the swap figures, once per instant. */
void
mn_sim_inter_settle (MnSimRun *run)
{
  if (run->oversub != NULL)
    mn_sim_oversub_settle (run);
  if (run->pstate == NULL)
    return;
  const MnPolicyConfig *p = run->policy;
  guint64 ram = p->node_memory_mb;
  /* Kills release slots, which may start waiting sessions and dirty more
   * nodes: loop until nothing is left to check. */
  while (run->dirty->len > 0)
    {
      guint node = g_array_index (run->dirty, guint32, run->dirty->len - 1);
      g_array_set_size (run->dirty, run->dirty->len - 1);
      run->node_dirty[node] = 0;
      /* A session's own limit acts first (mn_policy_memory_verdict: use
       * above L); an end may start others here, so look again from the top. */
      GArray *here = run->node_sessions[node];
      for (guint i = 0; i < here->len;)
        {
          guint32 si = g_array_index (here, guint32, i);
          MnSimSession *s = session_at (run, si);
          if (s->memory_mb > s->limit_mb)
            {
              run->memory_cap_kills++;
              end_session (run, si, MN_SIM_STATUS_MEMORY_CAP);
              i = 0;
              continue;
            }
          i++;
        }
      /* The node: RAM plus the swap its sessions may use
       * (mn_policy_node_swap_room, kept up to date by set_memory). */
      while (run->node_mem[node] > ram + MIN (p->node_swap_mb, run->node_swappable[node]))
        {
          GArray *on = run->node_sessions[node];
          guint32 victim = G_MAXUINT32;
          for (guint i = 0; i < on->len; i++)
            {
              guint32 si = g_array_index (on, guint32, i);
              if (victim == G_MAXUINT32)
                victim = si;
              else
                {
                  MnSimSession *a = session_at (run, si), *v = session_at (run, victim);
                  gint64 ida = run->res[a->job].id, idv = run->res[v->job].id;
                  if (a->memory_mb > v->memory_mb || (a->memory_mb == v->memory_mb && ida < idv))
                    victim = si;
                }
            }
          g_assert (victim != G_MAXUINT32);
          run->oom_kills++;
          end_session (run, victim, MN_SIM_STATUS_OOM);
        }
      if (run->node_dirty[node])
        continue;     /* re-queued by a start on the same node */
      guint64 level = run->node_mem[node] > ram ? run->node_mem[node] - ram : 0;
      gint64 dt = run->now - run->swap_last[node];
      if (run->swap_level[node] > 0)
        {
          run->swap_node_seconds += (double) dt;
          run->swap_mb_seconds += (double) run->swap_level[node] * (double) dt;
        }
      run->swap_level[node] = level;
      run->swap_last[node] = run->now;
      run->swap_peak_mb = MAX (run->swap_peak_mb, level);
      if (level > 0)
        {
          GArray *on = run->node_sessions[node];
          for (guint i = 0; i < on->len; i++)
            run->res[session_at (run, g_array_index (on, guint32, i))->job].swapped = 1;
        }
    }
}

void
mn_sim_inter_finish (MnSimRun *run, gint64 end)
{
  if (run->oversub != NULL)
    {
      run->now = end;
      mn_sim_oversub_finish (run);
    }
  if (run->pstate == NULL)
    return;
  run->now = end;
  occupancy_changed (run, 0);
  for (guint n = 0; n < run->policy->nodes; n++)
    {
      if (run->swap_level[n] > 0)
        {
          run->swap_node_seconds += (double) (end - run->swap_last[n]);
          run->swap_mb_seconds += (double) run->swap_level[n] * (double) (end - run->swap_last[n]);
        }
      run->swap_last[n] = end;
    }
  /* Requests still waiting when the trace is over never started. */
  for (guint i = 0; i < run->sessions->len; i++)
    {
      MnSimSession *s = session_at (run, i);
      if (s->state == MN_SIM_SESSION_WAITING)
        {
          run->res[s->job].status = MN_SIM_STATUS_REJECTED;
          run->res[s->job].reason = MN_REJECT_NONE;
          s->state = MN_SIM_SESSION_OVER;
        }
    }
}
