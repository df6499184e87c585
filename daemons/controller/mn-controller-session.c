/* mn-controller-session.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-session.h"

static const gchar *const state_names[] = {
  "queued", "starting", "running", "ending", "ended", "failed", "unknown",
};

MnSession *
mn_session_new (void)
{
  MnSession *s = g_new0 (MnSession, 1);
  s->node = -1;
  s->logical = -1;
  s->queue = g_strdup ("interactive");
  return s;
}

MnSession *
mn_session_copy (const MnSession *src)
{
  MnSession *s = g_memdup2 (src, sizeof *src);
  s->id = g_strdup (src->id);
  s->user = g_strdup (src->user);
  s->app = g_strdup (src->app);
  s->queue = g_strdup (src->queue);
  s->reason = g_strdup (src->reason);
  s->job_id = g_strdup (src->job_id);
  s->host = g_strdup (src->host);
  s->token = g_strdup (src->token);
  s->exec_node = g_strdup (src->exec_node);
  s->refused_at = g_strdup (src->refused_at);
  s->form = g_strdup (src->form);
  return s;
}

void
mn_session_restore (MnSession *dst, const MnSession *stored)
{
  MnSession *c = mn_session_copy (stored);
  MnSession *old = g_memdup2 (dst, sizeof *dst);
  *dst = *c;
  g_free (c);
  /* the identity (the live table's keys point at it) and what the last
   * poll saw are not stored: they stay */
  g_free (dst->id);
  dst->id = g_steal_pointer (&old->id);
  dst->num = old->num;
  g_free (dst->exec_node);
  dst->exec_node = g_steal_pointer (&old->exec_node);
  g_free (dst->refused_at);
  dst->refused_at = g_steal_pointer (&old->refused_at);
  dst->sched_pending = old->sched_pending;
  dst->sched_estimate = old->sched_estimate;
  dst->route_failed = old->route_failed;
  dst->wait_reason = old->wait_reason;
  mn_session_free (old);
}

void
mn_session_free (MnSession *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->user);
  g_free (s->app);
  g_free (s->queue);
  g_free (s->reason);
  g_free (s->job_id);
  g_free (s->host);
  g_free (s->token);
  g_free (s->exec_node);
  g_free (s->refused_at);
  g_free (s->form);
  g_free (s);
}

const gchar *
mn_session_state_to_string (MnSessionState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), "unknown");
  return state_names[state];
}

gboolean
mn_session_state_from_string (const gchar *text, MnSessionState *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      {
        *out = (MnSessionState) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
mn_session_state_is_final (MnSessionState state)
{
  return state == MN_SESSION_ENDED || state == MN_SESSION_FAILED;
}

gint64
mn_session_walltime_end (const MnSession *s)
{
  gint64 start = s->job_started ? s->job_started : s->submitted;
  if (start == 0)
    return G_MAXINT64;
  return start + s->walltime;
}
