/* mn-controller-backend.c: dispatch through the backend's class. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-backend.h"
#include "mn-controller-config.h"

MnJobStatus *
mn_job_status_new (MnJobState state, gint exit_code, const gchar *message)
{
  MnJobStatus *status = g_new0 (MnJobStatus, 1);
  status->state = state;
  status->exit_code = exit_code;
  status->message = g_strdup (message);
  return status;
}

MnJobStatus *
mn_job_status_copy (const MnJobStatus *status)
{
  MnJobStatus *copy = g_memdup2 (status, sizeof *status);
  copy->message = g_strdup (status->message);
  copy->node = g_strdup (status->node);
  return copy;
}

void
mn_job_status_free (MnJobStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->message);
  g_free (status->node);
  g_free (status);
}

gchar *
mn_backend_submit (MnBackend *self, const MnJobSpec *spec, gint64 now, GError **error)
{
  return self->klass->submit (self, spec, now, error);
}

gboolean
mn_backend_cancel (MnBackend *self, const gchar *job_id, gint64 now, GError **error)
{
  return self->klass->cancel (self, job_id, now, error);
}

GHashTable *
mn_backend_poll (MnBackend *self, const gchar *const *job_ids, gint64 now, GError **error)
{
  return self->klass->poll (self, job_ids, now, error);
}

gchar *
mn_backend_describe (MnBackend *self)
{
  return self->klass->describe (self);
}

gboolean
mn_backend_check_policy (MnBackend *self, const MnPolicyConfig *policy, GPtrArray *problems)
{
  if (self->klass->check_policy == NULL)
    return TRUE;
  return self->klass->check_policy (self, policy, problems);
}

void
mn_backend_free (MnBackend *self)
{
  if (self != NULL)
    self->klass->free (self);
}

MnBackendJob *
mn_backend_job_new (const gchar *job_id, const gchar *session_id, MnJobState state,
                    const gchar *description)
{
  MnBackendJob *job = g_new0 (MnBackendJob, 1);
  job->job_id = g_strdup (job_id);
  job->session_id = g_strdup (session_id);
  job->state = state;
  job->description = g_strdup (description);
  return job;
}

void
mn_backend_job_free (MnBackendJob *job)
{
  if (job == NULL)
    return;
  g_free (job->job_id);
  g_free (job->session_id);
  g_free (job->description);
  g_free (job);
}

gchar *
mn_backend_session_of_job_name (const gchar *name)
{
  if (name == NULL || !g_str_has_prefix (name, "minna-") || name[6] == '\0')
    return NULL;
  return g_strdup (name + 6);
}

gboolean
mn_backend_remove_leftover (MnBackend *self, const MnBackendJob *job, GError **error)
{
  if (self->klass->remove_leftover == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED,
                   "the %s backend leaves nothing to remove", self->klass->name);
      return FALSE;
    }
  return self->klass->remove_leftover (self, job, error);
}

void
mn_node_state_free (MnNodeState *state)
{
  if (state == NULL)
    return;
  g_free (state->name);
  g_free (state->state);
  g_free (state);
}

GPtrArray *
mn_backend_node_states (MnBackend *self, guint n_nodes, GError **error)
{
  if (self->klass->node_states == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED,
                   "the %s backend does not report node states", self->klass->name);
      return NULL;
    }
  return self->klass->node_states (self, n_nodes, error);
}

GPtrArray *
mn_backend_list_jobs (MnBackend *self, GError **error)
{
  if (self->klass->list_jobs == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED,
                   "the %s backend cannot list its jobs", self->klass->name);
      return NULL;
    }
  return self->klass->list_jobs (self, error);
}

gboolean
mn_backend_extend (MnBackend *self, const gchar *job_id, gint64 walltime, gint64 now,
                   GError **error)
{
  if (self->klass->extend == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED,
                   "the %s backend cannot change a job's walltime", self->klass->name);
      return FALSE;
    }
  return self->klass->extend (self, job_id, walltime, now, error);
}
