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
  r->walltime = s->walltime;
  r->if_busy = s->give_up ? MN_IF_BUSY_GIVE_UP : MN_IF_BUSY_WAIT;
}


/* ---- ending ---------------------------------------------------------- */

/* The session is over: store, release its slot, start whom that admits. */
void
mn_manager_finish (MnControllerManager *self, MnSession *s, MnSessionState state, const gchar *reason)
{
  gint64 now = mn_controller_manager_now (self);
  gboolean had_slot = mn_manager_is_interactive (s) && (s->node >= 0 || s->state == MN_SESSION_QUEUED);
  gboolean had_route = s->host != NULL;
  g_autoptr(GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  g_autofree gchar *id = g_strdup (s->id);

  s->state = state;
  s->ended = now;
  mn_manager_set_reason (s, reason);   /* @reason may have been s->reason: use s->reason from here */
  if (state == MN_SESSION_FAILED)
    self->counters.failed++;
  if (!mn_manager_save (self, s, s->reason ? s->reason : mn_session_state_to_string (state)))
    return;
  if (had_route)
    mn_manager_delete_route (self, id);
  if (had_slot)
    mn_policy_state_release (self->policy, (guint64) s->num, now, started);
  mn_manager_untrack (self, s);
  for (guint i = 0; i < started->len; i++)
    {
      MnDecision *d = &g_array_index (started, MnDecision, i);
      gint64 num = (gint64) d->job_id;
      MnSession *next = g_hash_table_lookup (self->by_num, &num);
      if (next != NULL && next->state == MN_SESSION_QUEUED)
        {
          g_autofree gchar *ev = g_strdup_printf ("admitted on node %u, logical node %u",
                                                  d->node, d->logical);
          next->node = (gint) d->node;
          next->logical = (gint) d->logical;
          next->state = MN_SESSION_STARTING;
          mn_manager_set_reason (next, NULL);
          if (mn_manager_save (self, next, ev))
            mn_manager_start_job (self, next);
        }
      mn_decision_clear (d);
    }
}


/* ---- launch ----------------------------------------------------------- */

MnSession *
mn_controller_manager_launch (MnControllerManager *self, const gchar *user,
                              const MnLaunchRequest *request, MnRejectReason *reason,
                              GError **error)
{
  gint64 now = mn_controller_manager_now (self);
  g_autoptr(MnSession) s = mn_session_new ();
  MnDecision d = { 0 };
  MnPolicyRequest pr;
  MnSession *live;
  gint64 num = 1;
  g_autofree gchar *event = NULL;
  g_autofree gchar *id = NULL;

  if (reason)
    *reason = MN_REJECT_NONE;
  if (mn_controller_manager_find_app (self, request->app) == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                   "app: no app '%s'", request->app ? request->app : "");
      return NULL;
    }
  /* the policy needs the job id before the row exists: use the next row */
  num = mn_controller_store_max_num (self->store) + 1;
  s->num = num;
  s->id = mn_manager_random_hex (8);
  s->user = g_strdup (user);
  s->app = g_strdup (request->app);
  g_free (s->queue);
  s->queue = g_strdup (request->queue ? request->queue : "interactive");
  s->cores = request->cores;
  s->memory_mb = request->memory_mb;
  s->gpus = request->gpus;
  s->walltime = request->walltime;
  s->give_up = request->give_up;
  s->created = now;
  s->token = mn_manager_random_hex (24);
  s->state = MN_SESSION_QUEUED;
  s->prev_state = MN_SESSION_QUEUED;

  if (mn_manager_is_interactive (s))
    {
      mn_manager_fill_request (s, &pr);
      mn_policy_state_request (self->policy, &pr, now, &d);
      if (d.kind == MN_DECISION_REJECT)
        {
          self->counters.refused++;
          if ((guint) d.reason < G_N_ELEMENTS (self->counters.refused_by_reason))
            self->counters.refused_by_reason[d.reason]++;
          if (reason)
            *reason = d.reason;
          g_set_error_literal (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED,
                               d.message ? d.message : "refused by the interactive.q policy");
          mn_decision_clear (&d);
          return NULL;
        }
      if (d.kind == MN_DECISION_START)
        {
          s->state = MN_SESSION_STARTING;
          s->node = (gint) d.node;
          s->logical = (gint) d.logical;
          event = g_strdup_printf ("requested; admitted on node %u, logical node %u",
                                   d.node, d.logical);
        }
      else
        {
          mn_manager_set_reason (s, "waiting for room in interactive.q");
          event = g_strdup_printf ("requested; waiting at position %u", d.position);
        }
      mn_decision_clear (&d);
    }
  else
    {
      s->state = MN_SESSION_STARTING;
      event = g_strdup ("requested (batch)");
    }

  if (!mn_controller_store_insert (self->store, s, now, event, error))
    {
      if (mn_manager_is_interactive (s))
        mn_policy_state_release (self->policy, (guint64) s->num, now, NULL);
      return NULL;
    }
  self->counters.launches++;
  live = g_steal_pointer (&s);
  id = g_strdup (live->id);
  mn_manager_track (self, live);
  if (live->state == MN_SESSION_STARTING)
    mn_manager_start_job (self, live);   /* may mn_manager_finish (fail) and free it */
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
      mn_manager_fill_request (s, &r);
      if (!mn_policy_state_adopt (self->policy, &r, (guint) s->node, (guint) s->logical,
                                  s->submitted ? s->submitted : s->created, &error))
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
          g_autofree gchar *ev = g_strdup_printf ("admitted on node %u, logical node %u",
                                                  d.node, d.logical);
          s->node = (gint) d.node;
          s->logical = (gint) d.logical;
          s->state = MN_SESSION_STARTING;
          mn_manager_set_reason (s, NULL);
          if (mn_manager_save (self, s, ev))
            mn_manager_start_job (self, s);
        }
      else if (d.kind == MN_DECISION_REJECT)
        mn_manager_finish (self, s, MN_SESSION_FAILED, d.message);
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

