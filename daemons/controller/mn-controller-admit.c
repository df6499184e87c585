/* mn-controller-admit.c: the bridge to policy/: a launch asks the policy
 * (start, wait or refuse), an ended session gives its slot back and starts
 * whom that admits, a restart or a new policy puts live sessions back, and
 * the start estimates. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

#include <string.h>

gboolean
mn_manager_is_interactive (const MnSession *s)
{
  return g_strcmp0 (s->queue, "interactive") == 0;
}

void
mn_manager_fill_request (const MnSession *s, MnPolicyRequest *r)
{
  memset (r, 0, sizeof *r);
  r->job_id = (guint64) s->num;
  r->user = s->user;
  r->cores = s->cores;
  r->memory_mb = s->memory_mb;
  r->gpus = s->gpus;
  r->gpu_memory_mb = s->gpu_memory_mb;
  r->walltime = s->walltime;
  r->if_busy = s->give_up ? MN_IF_BUSY_GIVE_UP : MN_IF_BUSY_WAIT;
}

/* What a GPU job asks of the policy's GPU memory: the per-job cap, as the
 * simulator's requests do (its fill of MnPolicyRequest), so that capped mode
 * admits the same numbers in both worlds.  Stored with the session, so that
 * a new policy does not change what a running job reserved. */
static guint64
gpu_memory_request (const MnPolicyConfig *policy, guint gpus)
{
  return gpus > 0 ? policy->job_max_gpu_memory_mb : 0;
}

static const gchar *const if_busy_names[] = {
  [MN_IF_BUSY_WAIT] = "wait",
  [MN_IF_BUSY_GIVE_UP] = "give_up",
};

const gchar *
mn_controller_if_busy_to_string (MnIfBusy if_busy)
{
  g_return_val_if_fail ((guint) if_busy < G_N_ELEMENTS (if_busy_names), "wait");
  return if_busy_names[if_busy];
}

gboolean
mn_controller_if_busy_from_string (const gchar *text, MnIfBusy *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (if_busy_names); i++)
    if (g_strcmp0 (text, if_busy_names[i]) == 0)
      {
        *out = (MnIfBusy) i;
        return TRUE;
      }
  return FALSE;
}

/* A START decision's placement, kept with the session: node, logical node
 * and GPUs (what a restart puts back). */
static void
take_placement (MnSession *s, const MnDecision *d)
{
  s->node = (gint) d->node;
  s->logical = (gint) d->logical;
  s->gpu_mask = d->allocation.gpu_mask;
}

/* The event text of a START: where, and what the model gives the job. */
static gchar *
admitted_event (const MnDecision *d, const gchar *prefix)
{
  const MnPolicyAllocation *a = &d->allocation;
  g_autofree gchar *cpus = mn_policy_allocation_cpu_list (a);
  g_autofree gchar *gpus = mn_policy_allocation_gpu_list (a);
  return g_strdup_printf ("%sadmitted on node %u, logical node %u (cpus %s, memory %" G_GUINT64_FORMAT
                          " MB + swap %" G_GUINT64_FORMAT " MB, GPUs %s)", prefix, d->node,
                          d->logical, cpus, a->memory_max_mb, a->swap_max_mb,
                          gpus[0] ? gpus : "none");
}

/* ---- ending ---------------------------------------------------------- */

/* The session is over: store, release its slot, start whom that admits. */
gboolean
mn_manager_try_finish (MnControllerManager *self, MnSession *s, MnSessionState state,
                       MnEndReason end, const gchar *reason, GError **error)
{
  gint64 now = mn_controller_manager_now (self);
  gboolean had_slot = mn_manager_is_interactive (s) && (s->node >= 0 || s->state == MN_SESSION_QUEUED);
  gboolean had_route = s->host != NULL;
  g_autoptr(GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  g_autofree gchar *id = g_strdup (s->id);
  g_autofree gchar *job_id = NULL;

  s->state = state;
  s->ended = now;
  s->end_reason = end;
  mn_manager_set_reason (s, reason);   /* @reason may have been s->reason: use s->reason from here */
  mn_manager_fault_point ("finish-before-save");
  if (!mn_manager_save_or_error (self, s, s->reason ? s->reason : mn_session_state_to_string (state),
                                 error))
    return FALSE;
  mn_manager_fault_point ("finish-stored");
  if (state == MN_SESSION_FAILED)
    self->counters.failed++;
  /* its end is stored: now its job may go (a job whose id the store never
   * took, too: nobody else knows of it) */
  job_id = g_strdup (g_hash_table_lookup (self->unsaved_jobs, id));
  if (job_id == NULL && g_hash_table_contains (self->cancel_on_finish, id))
    job_id = g_strdup (s->job_id);
  g_hash_table_remove (self->unsaved_jobs, id);
  g_hash_table_remove (self->cancel_on_finish, id);
  if (job_id != NULL)
    mn_manager_cancel_job (self, id, job_id);
  if (had_route)
    mn_manager_delete_route (self, id);
  if (had_slot)
    mn_policy_state_release (self->policy, (guint64) s->num, now, started);
  mn_manager_untrack (self, s);
  mn_manager_start_admitted (self, started);
  return TRUE;
}

void
mn_manager_start_admitted (MnControllerManager *self, GArray *started)
{
  for (guint i = 0; i < started->len; i++)
    {
      MnDecision *d = &g_array_index (started, MnDecision, i);
      gint64 num = (gint64) d->job_id;
      MnSession *next = g_hash_table_lookup (self->by_num, &num);
      if (next != NULL && next->state == MN_SESSION_QUEUED)
        {
          g_autofree gchar *ev = admitted_event (d, "");
          take_placement (next, d);
          next->wait_reason = MN_WAIT_NONE;
          next->state = MN_SESSION_STARTING;
          mn_manager_set_reason (next, NULL);
          if (mn_manager_save (self, next, ev))
            mn_manager_start_job (self, next);
          else
            self->refill_needed = TRUE;   /* the policy started it, the store did not
                                           * record that: the policy is built again from
                                           * what is stored at the next tick */
        }
      mn_decision_clear (d);
    }
  g_array_set_size (started, 0);
}

void
mn_manager_finish (MnControllerManager *self, MnSession *s, MnSessionState state,
                   MnEndReason end, const gchar *reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *id = g_strdup (s->id);
  g_autofree gchar *why = g_strdup (reason);   /* a refused save frees s->reason */
  PendingFinish *p;

  if (mn_manager_try_finish (self, s, state, end, why, &error))
    return;
  /* the end happened in the world (the job ended, the launch failed): it
   * must not be dropped, and the session must not look alive after a
   * restart: retried with back-off until the store takes it */
  p = g_hash_table_lookup (self->pending, id);
  if (p == NULL)
    {
      p = g_new0 (PendingFinish, 1);
      g_hash_table_insert (self->pending, g_strdup (id), p);
    }
  p->state = state;
  p->end = end;
  g_free (p->reason);
  p->reason = g_steal_pointer (&why);
  p->attempts++;
  p->delay = p->delay == 0 ? 500 * 1000 : MIN (p->delay * 2, 30 * G_USEC_PER_SEC);
  p->next_try = g_get_monotonic_time () + p->delay;
  g_free (p->error);
  p->error = g_strdup (error->message);
  mn_log_limit_log (self->log, G_LOG_LEVEL_WARNING, "pending",
                    "session %s: its end (%s: %s) could not be stored: %s; retrying with"
                    " back-off (shown in GET /api/v1/faults)", id,
                    mn_session_state_to_string (state), p->reason ? p->reason : "", error->message);
}

/* ---- launch ----------------------------------------------------------- */

typedef struct {
  MnControllerManager *self;
  gint64      now;
  MnDecision  d;
  gboolean    asked;       /* the policy holds a decision on the row */
} LaunchCall;

/* Inside the store's insert: the row exists, its number is the job id. */
static gboolean
decide_launch (MnSession *s, gchar **event, gpointer data, GError **error)
{
  LaunchCall *c = data;
  MnPolicyRequest pr;

  if (!mn_manager_is_interactive (s))
    {
      s->state = MN_SESSION_STARTING;
      *event = g_strdup ("requested (batch)");
      return TRUE;
    }
  mn_manager_fill_request (s, &pr);
  mn_policy_state_request (c->self->policy, &pr, c->now, &c->d);
  switch (c->d.kind)
    {
    case MN_DECISION_REJECT:
      g_set_error_literal (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED,
                           c->d.message ? c->d.message : "refused by the interactive.q policy");
      return FALSE;
    case MN_DECISION_START:
      c->asked = TRUE;
      s->state = MN_SESSION_STARTING;
      take_placement (s, &c->d);
      *event = admitted_event (&c->d, "requested; ");
      return TRUE;
    case MN_DECISION_WAIT:
    default:
      {
        g_autofree gchar *why = g_strdup_printf ("waiting for room in interactive.q (%s)",
                                                 mn_wait_reason_to_string (c->d.wait_reason));
        c->asked = TRUE;
        s->wait_reason = c->d.wait_reason;
        mn_manager_set_reason (s, why);
        *event = g_strdup_printf ("requested; waiting at position %u (%s)", c->d.position,
                                  mn_wait_reason_to_string (c->d.wait_reason));
        return TRUE;
      }
    }
}

gboolean
mn_controller_manager_batch_allowed (MnControllerManager *self)
{
  if (g_strcmp0 (self->config->batch, "allow") == 0)
    return TRUE;
  if (g_strcmp0 (self->config->batch, "refuse") == 0)
    return FALSE;
  /* auto: a scheduler's batch partition has limits of its own; on the local
   * backend nothing but the policy would bound the job */
  return !g_str_equal (self->backend->klass->name, "local");
}

static MnSession *launch (MnControllerManager *self, const gchar *user,
                          const MnLaunchRequest *request, gboolean later,
                          MnRejectReason *reason, GError **error);

MnSession *
mn_controller_manager_launch (MnControllerManager *self, const gchar *user,
                              const MnLaunchRequest *request, MnRejectReason *reason,
                              GError **error)
{
  return launch (self, user, request, FALSE, reason, error);
}

MnSession *
mn_controller_manager_launch_later (MnControllerManager *self, const gchar *user,
                                    const MnLaunchRequest *request, MnRejectReason *reason,
                                    GError **error)
{
  return launch (self, user, request, TRUE, reason, error);
}

static MnSession *
launch (MnControllerManager *self, const gchar *user, const MnLaunchRequest *request,
        gboolean later, MnRejectReason *reason, GError **error)
{
  gint64 now = mn_controller_manager_now (self);
  const MnPolicyConfig *policy = mn_policy_state_get_config (self->policy);
  g_autoptr(MnSession) s = mn_session_new ();
  LaunchCall c = { self, now, { 0 }, FALSE };
  g_autoptr(GError) local = NULL;
  MnSession *live;
  MnIfBusy if_busy = policy->if_busy;
  const gchar *queue = request->queue ? request->queue : "interactive";
  g_autofree gchar *id = NULL;

  if (reason)
    *reason = MN_REJECT_NONE;
  if (mn_controller_manager_find_app (self, request->app) == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                   "app: no app '%s'", request->app ? request->app : "");
      return NULL;
    }
  if (!g_str_equal (queue, "interactive") && !g_str_equal (queue, "batch"))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                   "queue: '%s' is neither 'interactive' nor 'batch'", queue);
      return NULL;
    }
  if (request->if_busy != NULL && !mn_controller_if_busy_from_string (request->if_busy, &if_busy))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                   "if_busy: '%s' is neither 'wait' nor 'give_up'", request->if_busy);
      return NULL;
    }
  if (g_str_equal (queue, "batch") && !mn_controller_manager_batch_allowed (self))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED,
                   "batch sessions are not taken here: on this %s backend they would bypass the"
                   " interactive.q policy ([backend] batch = %s); launch on the interactive queue",
                   self->backend->klass->name, self->config->batch);
      return NULL;
    }
  s->id = mn_manager_random_hex (8);
  s->user = g_strdup (user);
  s->app = g_strdup (request->app);
  g_free (s->queue);
  s->queue = g_strdup (queue);
  s->cores = request->cores;
  s->memory_mb = request->memory_mb;
  s->gpus = request->gpus;
  s->gpu_memory_mb = gpu_memory_request (policy, request->gpus);
  s->walltime = request->walltime;
  s->form = g_strdup (request->form);
  s->give_up = if_busy == MN_IF_BUSY_GIVE_UP;
  s->created = now;
  s->token = mn_manager_random_hex (24);
  s->state = MN_SESSION_QUEUED;
  s->prev_state = MN_SESSION_QUEUED;

  if (!(later ? mn_controller_store_insert_later (self->store, s, now, decide_launch, &c, &local)
              : mn_controller_store_insert (self->store, s, now, decide_launch, &c, &local)))
    {
      if (later)
        mn_manager_commit_soon (self);   /* whatever else the batch holds */
      if (c.d.kind == MN_DECISION_REJECT && g_error_matches (local, MN_CONTROLLER_ERROR,
                                                             MN_CONTROLLER_ERROR_REFUSED))
        {
          self->counters.refused++;
          if ((guint) c.d.reason < G_N_ELEMENTS (self->counters.refused_by_reason))
            self->counters.refused_by_reason[c.d.reason]++;
          if (reason)
            *reason = c.d.reason;
        }
      else if (c.asked)
        mn_policy_state_release (self->policy, (guint64) s->num, now, NULL);
      if (mn_controller_store_error_is_store (local))
        {
          self->store_refusals++;
          self->store_error_at = now;
          g_free (self->store_error);
          self->store_error = g_strdup (local->message);
          mn_log_limit_log (self->log, G_LOG_LEVEL_WARNING, "refused-launch",
                            "launch for %s refused: the database did not take it: %s",
                            user, local->message);
        }
      mn_decision_clear (&c.d);
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  mn_decision_clear (&c.d);
  self->counters.launches++;
  live = g_steal_pointer (&s);
  id = g_strdup (live->id);
  mn_manager_track (self, live);
  if (later)
    {
      /* started once the batch is committed (mn-controller-commit.c) */
      mn_manager_unborn_add (self, live);
      return mn_session_copy (live);
    }
  mn_manager_fault_point ("launch-stored");
  if (live->state == MN_SESSION_STARTING)
    mn_manager_start_job (self, live);   /* may finish (fail) and free it */
  mn_manager_kick (self);
  live = g_hash_table_lookup (self->live, id);
  return live ? mn_session_copy (live) : mn_controller_store_get (self->store, id, error);
}

/* ---- restart, new policy ----------------------------------------------------- */

void
mn_manager_refill_policy (MnControllerManager *self, GPtrArray *sessions, gboolean start_admitted)
{
  gint64 now = mn_controller_manager_now (self);
  /* running jobs first, so that queued ones see the real occupancy */
  for (guint i = 0; i < sessions->len; i++)
    {
      MnSession *s = g_ptr_array_index (sessions, i);
      MnPolicyRequest r;
      g_autoptr(GError) error = NULL;
      if (!mn_manager_is_interactive (s) || s->node < 0 || s->state == MN_SESSION_QUEUED)
        continue;
      MnPolicyAllocation a = { 0 };
      mn_manager_fill_request (s, &r);
      a.job_id = r.job_id;
      a.node = (guint) s->node;
      a.logical = (guint) s->logical;
      a.gpu_mask = s->gpu_mask;
      /* the same GPUs as before: its processes hold them */
      if (!mn_policy_state_adopt_allocation (self->policy, &r, &a,
                                             s->job_started ? s->job_started
                                             : s->submitted ? s->submitted : s->created, &error))
        g_warning ("session %s: cannot put back on node %d/%d: %s", s->id, s->node,
                   s->logical, error ? error->message : "out of bounds");
    }
  for (guint i = 0; i < sessions->len; i++)
    {
      MnSession *s = g_ptr_array_index (sessions, i);
      MnPolicyRequest r;
      MnDecision d = { 0 };
      if (!mn_manager_is_interactive (s) || s->state != MN_SESSION_QUEUED)
        continue;
      mn_manager_fill_request (s, &r);
      r.if_busy = MN_IF_BUSY_WAIT;
      mn_policy_state_request (self->policy, &r, now, &d);
      if (d.kind == MN_DECISION_START && start_admitted)
        {
          g_autofree gchar *ev = admitted_event (&d, "");
          take_placement (s, &d);
          s->state = MN_SESSION_STARTING;
          mn_manager_set_reason (s, NULL);
          if (mn_manager_save (self, s, ev))
            mn_manager_start_job (self, s);
        }
      else if (d.kind == MN_DECISION_REJECT)
        mn_manager_finish (self, s, MN_SESSION_FAILED, MN_END_CANCELLED, d.message);
      else if (d.kind == MN_DECISION_WAIT)
        s->wait_reason = d.wait_reason;
      mn_decision_clear (&d);
    }
}

void
mn_controller_manager_set_policy (MnControllerManager *self, const MnPolicyConfig *policy)
{
  g_autoptr(GPtrArray) sessions = g_ptr_array_new ();
  GHashTableIter it;
  gpointer v;
  mn_policy_state_free (self->policy);
  self->policy = mn_policy_state_new (policy);
  mn_manager_nodes_reapply (self);   /* before the waiting sessions are placed */
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_add (sessions, v);
  g_ptr_array_sort (sessions, mn_manager_by_num);   /* keep the FIFO order */
  mn_manager_refill_policy (self, sessions, TRUE);
}

/* ---- estimates ---------------------------------------------------------------- */

gint64
mn_controller_manager_estimate_start (MnControllerManager *self, const MnSession *session,
                                      const MnLaunchRequest *request, const gchar *user)
{
  gint64 now = mn_controller_manager_now (self);
  MnPolicyRequest r = { 0 };
  if (session != NULL)
    return mn_policy_state_estimate_start (self->policy, (guint64) session->num, NULL, now);
  r.job_id = 0;
  r.user = user;
  r.cores = request->cores;
  r.memory_mb = request->memory_mb;
  r.gpus = request->gpus;
  r.gpu_memory_mb = gpu_memory_request (mn_policy_state_get_config (self->policy), request->gpus);
  r.walltime = request->walltime;
  r.if_busy = MN_IF_BUSY_WAIT;
  return mn_policy_state_estimate_start (self->policy, 0, &r, now);
}

gint64
mn_controller_manager_session_estimate (MnControllerManager *self, const MnSession *session,
                                        const gchar **source)
{
  MnSessionState shown = session->state == MN_SESSION_UNKNOWN ? session->prev_state
                                                               : session->state;
  *source = NULL;
  if (shown == MN_SESSION_STARTING && session->sched_pending && session->sched_estimate > 0)
    {
      *source = "scheduler";
      return session->sched_estimate;
    }
  if (shown == MN_SESSION_QUEUED)
    {
      gint64 est = mn_controller_manager_estimate_start (self, session, NULL, NULL);
      if (est != G_MAXINT64)
        *source = "policy";
      return est;
    }
  return G_MAXINT64;
}

