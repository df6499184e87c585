/* mn-controller-extend.c: Extend, a running session's walltime grown by the
 * policy's [job] extend_step up to its limit (mn_policy_extend), applied by
 * the backend (the local backend's own timer, scontrol update TimeLimit,
 * qalter -l h_rt) before it is recorded. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

typedef struct {
  MnControllerManager *self;
  gchar               *id;
  gchar               *job_id;
  gint64               walltime;   /* asked for */
  gint64               now;
  GError              *error;      /* the backend's answer */
  MnExtendDone         done;
  gpointer             data;
} ExtendCall;

static void
extend_call_free (ExtendCall *c)
{
  g_hash_table_remove (c->self->busy, c->id);
  mn_controller_manager_unref (c->self);
  g_free (c->id);
  g_free (c->job_id);
  g_clear_error (&c->error);
  g_free (c);
}

/* In a worker thread where the scheduler's commands block. */
static void
extend_work (gpointer data)
{
  ExtendCall *c = data;
  mn_backend_extend (c->self->backend, c->job_id, c->walltime, c->now, &c->error);
}

/* On the main loop: record what the backend did, tell the caller. */
static void
extend_applied (gpointer data)
{
  ExtendCall *c = data;
  MnControllerManager *self = c->self;
  MnSession *s = g_hash_table_lookup (self->live, c->id);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *event = NULL, *added = NULL, *total = NULL;

  if (c->error != NULL)
    {
      g_set_error (&error, MN_CONTROLLER_ERROR,
                   g_error_matches (c->error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED)
                   ? MN_CONTROLLER_ERROR_REFUSED : MN_CONTROLLER_ERROR_BACKEND,
                   "the scheduler did not extend the session: %s", c->error->message);
      c->done (NULL, error, c->data);
      return;
    }
  if (s == NULL || s->state != MN_SESSION_RUNNING)
    {
      g_set_error (&error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED,
                   "the session ended while it was being extended");
      c->done (NULL, error, c->data);
      return;
    }
  added = mn_controller_format_hours (c->walltime - s->walltime);
  total = mn_controller_format_hours (c->walltime);
  event = g_strdup_printf ("extended by %s (run time now %s)", added, total);
  s->extended += c->walltime - s->walltime;
  s->walltime = c->walltime;
  if (!mn_manager_save (self, s, event))
    {
      g_set_error (&error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE,
                   "the extension could not be recorded");
      c->done (NULL, error, c->data);
      return;
    }
  /* the policy's estimates count from the new end; the relay's route lives
   * as long as the session */
  if (mn_manager_is_interactive (s))
    mn_policy_state_set_walltime (self->policy, (guint64) s->num, s->walltime);
  if (s->host != NULL)
    mn_manager_refresh_route (self, s);
  c->done (s, NULL, c->data);
}

static void
extend_run (ExtendCall *c)
{
  extend_work (c);
  extend_applied (c);
  extend_call_free (c);
}

void
mn_controller_manager_extend (MnControllerManager *self, const gchar *id, MnExtendDone done,
                              gpointer data)
{
  MnSession *s = g_hash_table_lookup (self->live, id);
  const MnPolicyConfig *policy = mn_policy_state_get_config (self->policy);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *why = NULL;
  gint64 walltime = 0;
  ExtendCall *c;

  if (s == NULL || s->state != MN_SESSION_RUNNING || s->job_id == NULL)
    {
      /* say what it is: "unknown" (the scheduler did not answer) is not "over" */
      g_set_error (&error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED,
                   "only a running session can be extended (this one is %s)",
                   s == NULL ? "over" : s->state == MN_SESSION_UNKNOWN
                   ? "being checked: the scheduler did not answer; try again in a moment"
                   : mn_session_state_to_string (s->state));
      return done (NULL, error, data);
    }
  if (g_hash_table_contains (self->busy, id))
    {
      g_set_error (&error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED,
                   "the session is busy (being extended or checked); try again in a moment");
      return done (NULL, error, data);
    }
  if (!mn_policy_extend (policy, s->walltime, &walltime, &why))
    {
      g_set_error (&error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED, "%s", why);
      return done (NULL, error, data);
    }
  c = g_new0 (ExtendCall, 1);
  c->self = mn_controller_manager_ref (self);
  c->id = g_strdup (id);
  c->job_id = g_strdup (s->job_id);
  c->walltime = walltime;
  c->now = mn_controller_manager_now (self);
  c->done = done;
  c->data = data;
  g_hash_table_insert (self->busy, g_strdup (id), (gpointer) "extend");
  if (self->backend->klass->commands_block)
    mn_manager_run_in_worker (self, extend_work, extend_applied, c,
                              (GDestroyNotify) extend_call_free);
  else
    extend_run (c);
}

gchar *
mn_controller_format_hours (gint64 seconds)
{
  if (seconds % 3600 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT " h", seconds / 3600);
  if (seconds < 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT " min", (seconds + 59) / 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT " h %" G_GINT64_FORMAT " min", seconds / 3600,
                          (seconds % 3600 + 59) / 60);
}
