/* mn-controller-poll.c: one poll round asks the backend about every live
 * job (in a thread of its own for schedulers whose commands block, never
 * queued behind submissions: mn_manager_run_poll) and moves
 * each session on from its job's status. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

#include <string.h>

/* How a job that is over ended, as a code: the backend's when it can tell;
 * else, past its walltime, the walltime; else its exit code. */
static MnEndReason
job_end (const MnSession *s, const MnJobStatus *st, gint64 now)
{
  if (st->end != MN_END_NONE)
    return st->end;
  if (s->walltime > 0 && now >= mn_session_walltime_end (s))
    return MN_END_WALLTIME;
  return st->exit_code == 0 ? MN_END_EXITED : MN_END_FAILED;
}

/* "1 h", "90 min", "11 s": a walltime as it was asked. */
static gchar *
duration_text (gint64 s)
{
  if (s > 0 && s % 3600 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT " h", s / 3600);
  if (s > 0 && s % 60 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT " min", s / 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT " s", s);
}

/* The words a user reads for @end; the scheduler's own (st->message) where
 * they say more than the code. */
static gchar *
end_text (MnControllerManager *self, const MnSession *s, const MnJobStatus *st, MnEndReason end)
{
  const MnPolicyConfig *policy = mn_policy_state_get_config (self->policy);
  switch (end)
    {
    case MN_END_WALLTIME:
      {
        g_autofree gchar *wall = duration_text (s->walltime);
        return g_strdup_printf ("walltime of %s reached", wall);
      }
    case MN_END_MEMORY_CAP:
      return g_strdup_printf ("stopped by its memory limit: it used more than %.4g GB"
                              " (memory and swap together)",
                              (s->memory_mb ? s->memory_mb : policy->job_max_memory_mb) / 1024.0);
    case MN_END_NODE_OOM:
      return g_strdup ("its node ran out of memory and swap, and it used the most");
    case MN_END_USER:
      return g_strdup ("stopped");
    default:
      return g_strdup (st->message ? st->message : "the job ended");
    }
}

static void
handle_starting (MnControllerManager *self, MnSession *s, const MnJobStatus *st, gint64 now)
{
  gint64 *since;

  s->sched_pending = st->state == MN_JOB_PENDING;
  s->sched_estimate = s->sched_pending ? st->estimated_start : 0;
  if (st->state == MN_JOB_PENDING)
    {
      /* jobs from outside minna can fill the scheduler's queue although the
       * policy admitted this one; Slurm says why ("None" just after sbatch) */
      const gchar *why = st->message;
      g_autofree gchar *reason = NULL;
      if (why == NULL || why[0] == '\0' || g_str_equal (why, "None"))
        return;
      reason = g_strdup_printf ("waiting in the scheduler's queue (%s)", why);
      if (g_strcmp0 (s->reason, reason) != 0)
        {
          mn_manager_set_reason (s, reason);
          mn_manager_save (self, s, reason);
        }
      return;
    }
  if (st->node != NULL && g_strcmp0 (s->exec_node, st->node) != 0)
    {
      g_free (s->exec_node);
      s->exec_node = g_strdup (st->node);
    }
  if (st->state == MN_JOB_DONE)
    {
      MnEndReason end = job_end (s, st, now);
      g_autofree gchar *how = end_text (self, s, st, end);
      g_autofree gchar *tail = mn_manager_output_tail (self, s);
      g_autofree gchar *why = g_strdup_printf ("the app ended before it answered (%s); its last"
                                               " output:\n%s", how, tail);
      /* a cap or the walltime says more than "failed" */
      mn_manager_finish (self, s, MN_SESSION_FAILED,
                         end == MN_END_EXITED ? MN_END_FAILED : end, why);
      return;
    }
  if (s->job_started == 0)
    {
      /* the walltime counts from here (the relay's route lives until then) */
      g_autofree gchar *ev = g_strdup_printf ("job running%s%s", st->node ? " on " : "",
                                              st->node ? st->node : "");
      s->job_started = st->started > 0 ? st->started : now;
      mn_manager_save_later (self, s, ev);
    }
  since = g_hash_table_lookup (self->running_since, s->id);
  if (since == NULL)
    {
      since = g_new (gint64, 1);
      *since = now;
      g_hash_table_insert (self->running_since, g_strdup (s->id), since);
    }
  if (now - *since > self->config->ready_timeout)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *tail = mn_manager_output_tail (self, s);
      g_autofree gchar *why = g_strdup_printf ("the app did not answer within %" G_GINT64_FORMAT
                                               " s, so it was cancelled; its last output:\n%s",
                                               self->config->ready_timeout, tail);
      /* cancelled once its end is stored */
      g_hash_table_add (self->cancel_on_finish, g_strdup (s->id));
      mn_manager_finish (self, s, MN_SESSION_FAILED, MN_END_FAILED, why);
      return;
    }
  if (g_hash_table_contains (self->busy, s->id))
    return;
  if (s->host != NULL && s->port != 0 && s->route_failed)
    {
      mn_manager_register_route (self, s);   /* app answered before; the relay did not */
      return;
    }
  if (!mn_manager_read_connection (self, s))
    {
      mn_manager_recheck_later (self, s);   /* not written yet: looked for again soon */
      return;
    }
  mn_manager_probe_app (self, s);
}

static void
handle_status (MnControllerManager *self, MnSession *s, const MnJobStatus *st, gint64 now)
{
  if (st->state == MN_JOB_UNKNOWN)
    {
      if (s->state != MN_SESSION_UNKNOWN)
        {
          g_autofree gchar *why = g_strdup_printf ("the scheduler cannot say how the job is (%s);"
                                                   " asking again", st->message ? st->message : "no answer");
          s->prev_state = s->state;
          s->state = MN_SESSION_UNKNOWN;
          mn_manager_set_reason (s, why);
          mn_manager_save (self, s, why);
        }
      return;
    }
  if (s->state == MN_SESSION_UNKNOWN)
    {
      s->state = s->prev_state;
      mn_manager_set_reason (s, NULL);
      if (!mn_manager_save (self, s, "the scheduler answers again"))
        return;
    }
  switch (s->state)
    {
    case MN_SESSION_STARTING:
      handle_starting (self, s, st, now);
      break;
    case MN_SESSION_RUNNING:
      if (st->state == MN_JOB_DONE)
        {
          MnEndReason end = job_end (s, st, now);
          g_autofree gchar *why = end_text (self, s, st, end);
          mn_manager_finish (self, s, MN_SESSION_ENDED, end, why);
        }
      else if (s->idle_warned == 0 && s->reason == NULL && now > mn_session_walltime_end (s))
        mn_manager_set_reason (s, "walltime reached; stopping");
      break;
    case MN_SESSION_ENDING:
      if (st->state == MN_JOB_DONE)
        mn_manager_finish (self, s, MN_SESSION_ENDED,
                           s->end_reason != MN_END_NONE ? s->end_reason : MN_END_USER,
                           s->reason ? s->reason : "stopped");
      else if (now - s->stop_requested > self->config->kill_grace + 5)
        mn_manager_cancel_job (self, s->id, s->job_id);  /* repeat: a cancel lost in a restart
                                                * must not leave the job running */
      break;
    default:
      break;
    }
}

/* Hands each polled session its job's status.  @asked: session id ->
 * the job id that was polled (a session submitted while the poll ran is
 * left for the next one); @statuses NULL: the poll failed with @error. */
typedef struct {
  const gchar *id;
  const gchar *job_id;
  gint64       start;   /* the policy's start of its job, else its creation */
  gint64       num;
} Polled;

static gint
by_start (gconstpointer a, gconstpointer b)
{
  const Polled *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->num < y->num ? -1 : x->num > y->num;
}

static void
apply_statuses (MnControllerManager *self, GHashTable *asked, GHashTable *statuses,
                const GError *error)
{
  gint64 now = mn_controller_manager_now (self);
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (Polled));
  GHashTableIter it;
  gpointer key, value;

  /* jobs that ended in the same poll give their slots back in the order
   * they started (then by job id), as the policy's model says: which
   * waiting session lands on which freed logical node depends on it */
  g_hash_table_iter_init (&it, asked);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      MnSession *s = g_hash_table_lookup (self->live, key);
      Polled p = { key, value, 0, 0 };
      if (s == NULL)
        continue;
      p.num = s->num;
      p.start = mn_manager_start_key (self, s);
      g_array_append_val (order, p);
    }
  g_array_sort (order, by_start);
  for (guint i = 0; i < order->len; i++)
    {
      const Polled *p = &g_array_index (order, Polled, i);
      MnSession *s = g_hash_table_lookup (self->live, p->id);
      MnJobStatus unknown = { MN_JOB_UNKNOWN, -1, error ? error->message : (gchar *) "no answer", 0, NULL };
      const MnJobStatus *st;
      if (s == NULL || mn_manager_is_pending (self, s))
        continue;   /* its end waits for the store (mn-controller-faults.c) */
      if (s->job_id == NULL)
        {
          const gchar *unsaved = g_hash_table_lookup (self->unsaved_jobs, s->id);
          /* submitted, but the store did not take its id: store it again */
          if (unsaved != NULL && s->state == MN_SESSION_STARTING)
            mn_manager_submitted_again (self, s, unsaved);
          /* admitted but never submitted (killed in between): submit now */
          else if (mn_manager_awaits_submit (self, s))
            mn_manager_start_job (self, s);
          continue;
        }
      if (p->job_id[0] == '\0' || g_strcmp0 (s->job_id, p->job_id) != 0)
        continue;
      st = statuses ? g_hash_table_lookup (statuses, s->job_id) : NULL;
      handle_status (self, s, st ? st : &unknown, now);
    }
}

typedef struct {
  MnControllerManager *self;
  GHashTable *asked;     /* session id -> job id ("" none) */
  GStrv       job_ids;
  gint64      now;
  GHashTable *statuses;
  GError     *error;
  guint       n_nodes;   /* > 0: ask the node states too (mn-controller-nodes.c) */
  GPtrArray  *nodes;
  GError     *nodes_error;
} PollCall;

static void
poll_call_free (PollCall *c)
{
  c->self->polling = FALSE;
  mn_controller_manager_unref (c->self);
  g_hash_table_unref (c->asked);
  g_strfreev (c->job_ids);
  g_clear_pointer (&c->statuses, g_hash_table_unref);
  g_clear_error (&c->error);
  g_clear_pointer (&c->nodes, g_ptr_array_unref);
  g_clear_error (&c->nodes_error);
  g_free (c);
}

/* In the poll's thread for backends whose commands block, else inline. */
static void
poll_work (gpointer data)
{
  PollCall *c = data;
  if (c->n_nodes > 0)
    c->nodes = mn_backend_node_states (c->self->backend, c->n_nodes, &c->nodes_error);
  if (c->job_ids[0] != NULL)
    c->statuses = mn_backend_poll (c->self->backend, (const gchar *const *) c->job_ids, c->now,
                                   &c->error);
}

static void
poll_done (gpointer data)
{
  PollCall *c = data;
  /* availability first: a slot freed below on a node just drained must not
   * start a waiting session there */
  if (c->n_nodes > 0)
    mn_manager_nodes_apply (c->self, c->nodes, c->nodes_error);
  if (c->job_ids[0] != NULL && c->statuses == NULL)
    c->self->counters.poll_errors++;
  apply_statuses (c->self, c->asked, c->statuses, c->error);
}

void
mn_controller_manager_tick (MnControllerManager *self)
{
  g_autoptr(GHashTable) asked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  gint64 now = mn_controller_manager_now (self);
  GHashTableIter it;
  gpointer v;
  PollCall *c;
  guint n_nodes;

  self->ticks++;
  if (self->refill_needed)
    {
      g_autoptr(MnPolicyConfig) policy = mn_policy_config_copy (mn_policy_state_get_config (self->policy));
      self->refill_needed = FALSE;
      mn_controller_manager_set_policy (self, policy);
    }
  mn_manager_check_idle (self, now);
  if (self->polling)
    return;   /* the last poll still waits on the scheduler */
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MnSession *s = v;
      if (s->job_id != NULL && s->state != MN_SESSION_QUEUED)
        {
          g_ptr_array_add (ids, g_strdup (s->job_id));
          g_hash_table_replace (asked, g_strdup (s->id), g_strdup (s->job_id));
        }
      else if (s->state == MN_SESSION_STARTING && s->job_id == NULL)
        g_hash_table_replace (asked, g_strdup (s->id), g_strdup (""));
    }
  /* node states are asked also with no job to poll: a session launched
   * next must not be placed on a node drained meanwhile */
  n_nodes = mn_manager_nodes_due (self) ? mn_policy_state_get_config (self->policy)->nodes : 0;
  if (g_hash_table_size (asked) == 0 && n_nodes == 0)
    return;
  g_ptr_array_add (ids, NULL);
  if (g_hash_table_size (asked) > 0)
    self->counters.polls++;
  c = g_new0 (PollCall, 1);
  c->self = mn_controller_manager_ref (self);
  c->asked = g_steal_pointer (&asked);
  c->job_ids = (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
  c->now = now;
  c->n_nodes = n_nodes;
  self->polling = TRUE;
  if ((c->job_ids[0] != NULL || n_nodes > 0) && self->backend->klass->commands_block)
    {
      mn_manager_run_poll (self, poll_work, poll_done, c, (GDestroyNotify) poll_call_free);
      return;
    }
  poll_work (c);
  poll_done (c);
  poll_call_free (c);
}

