/* mn-controller-reconcile.c: see the header. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-reconcile.h"

void
mn_reconcile_finding_free (MnReconcileFinding *f)
{
  if (f == NULL)
    return;
  g_free (f->session_id);
  g_free (f->job_id);
  mn_backend_job_free (f->job);
  g_free (f->line);
  g_free (f);
}

const gchar *
mn_reconcile_kind_to_string (MnReconcileKind kind)
{
  switch (kind)
    {
    case MN_RECONCILE_ADOPT: return "adopt";
    case MN_RECONCILE_GONE: return "gone";
    case MN_RECONCILE_CANCEL: return "cancel";
    case MN_RECONCILE_ORPHAN: return "orphan";
    case MN_RECONCILE_LEFTOVER: return "leftover";
    case MN_RECONCILE_STRAY: return "stray";
    default: return "?";
    }
}

static MnBackendJob *
job_copy (const MnBackendJob *j)
{
  MnBackendJob *c = mn_backend_job_new (j->job_id, j->session_id, j->state, j->description);
  c->leftover = j->leftover;
  return c;
}

static void
add (GPtrArray *out, MnReconcileKind kind, const gchar *session_id, const gchar *job_id,
     const MnBackendJob *job, const gchar *format, ...) G_GNUC_PRINTF (6, 7);

static void
add (GPtrArray *out, MnReconcileKind kind, const gchar *session_id, const gchar *job_id,
     const MnBackendJob *job, const gchar *format, ...)
{
  MnReconcileFinding *f = g_new0 (MnReconcileFinding, 1);
  va_list ap;
  f->kind = kind;
  f->session_id = g_strdup (session_id);
  f->job_id = g_strdup (job_id);
  f->job = job ? job_copy (job) : NULL;
  va_start (ap, format);
  f->line = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_ptr_array_add (out, f);
}

static const gchar *
runs (const MnBackendJob *j)
{
  return j->state == MN_JOB_PENDING ? "waits in the queue" : "runs";
}

/* unknown (the scheduler could not be asked) counts as what it was */
static MnSessionState
effective_state (const MnSession *s)
{
  return s->state == MN_SESSION_UNKNOWN ? s->prev_state : s->state;
}

GPtrArray *
mn_reconcile_diff (GPtrArray *live, GHashTable *over, GPtrArray *listed, gboolean act)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_reconcile_finding_free);
  g_autoptr(GHashTable) by_job = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) by_session = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) live_ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) used = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (guint i = 0; i < listed->len; i++)
    {
      MnBackendJob *j = g_ptr_array_index (listed, i);
      if (j->leftover)
        continue;
      g_hash_table_insert (by_job, j->job_id, j);
      if (j->session_id != NULL && !g_hash_table_contains (by_session, j->session_id))
        g_hash_table_insert (by_session, j->session_id, j);
    }
  for (guint i = 0; i < live->len; i++)
    {
      MnSession *s = g_ptr_array_index (live, i);
      MnSessionState state = effective_state (s);
      MnBackendJob *j;
      g_hash_table_add (live_ids, s->id);
      if (state == MN_SESSION_QUEUED)
        continue;   /* the policy holds it: no job yet */
      if (s->job_id == NULL)
        {
          j = g_hash_table_lookup (by_session, s->id);
          if (j == NULL || state != MN_SESSION_STARTING)
            continue;   /* not submitted yet: the first poll submits it */
          g_hash_table_add (used, j);
          add (out, MN_RECONCILE_ADOPT, s->id, j->job_id, j,
               "session %s (%s) is starting without a job in the database, but its job %s"
               " is there (%s): %s", s->id, s->user, j->job_id, j->description,
               act ? "adopted (its submission had not been stored)" : "the controller adopts it at start");
          continue;
        }
      j = g_hash_table_lookup (by_job, s->job_id);
      if (j != NULL)
        {
          g_hash_table_add (used, j);
          continue;
        }
      add (out, MN_RECONCILE_GONE, s->id, s->job_id, NULL,
           "session %s (%s) is %s in the database, but the scheduler no longer has its job %s"
           " (it ended or was deleted while the controller was not watching): %s", s->id,
           s->user, mn_session_state_to_string (state), s->job_id,
           act ? "ended" : "the controller ends it at start");
    }
  for (guint i = 0; i < listed->len; i++)
    {
      MnBackendJob *j = g_ptr_array_index (listed, i);
      MnSession *row;
      if (g_hash_table_contains (used, j))
        continue;
      if (j->leftover)
        {
          if (j->session_id != NULL && g_hash_table_contains (live_ids, j->session_id))
            continue;   /* its session's end (the first poll) removes it */
          if (j->state == MN_JOB_RUNNING)
            add (out, MN_RECONCILE_STRAY, j->session_id, j->job_id, j,
                 "job %s is over but left %s, and no live session owns it: reported, left"
                 " alone (end those processes by hand)", j->job_id, j->description);
          else
            add (out, MN_RECONCILE_LEFTOVER, j->session_id, j->job_id, j,
                 "job %s is over but left %s, and no live session owns it: %s", j->job_id,
                 j->description, act ? "removed" : "the controller removes it at start");
          continue;
        }
      if (j->session_id != NULL && g_hash_table_contains (live_ids, j->session_id))
        add (out, MN_RECONCILE_ORPHAN, j->session_id, j->job_id, j,
             "job %s (%s) is named for session %s, which the database gives another job:"
             " reported, left running (cancel it by hand if it is not needed)", j->job_id,
             j->description, j->session_id);
      else if (j->session_id != NULL && over != NULL &&
               (row = g_hash_table_lookup (over, j->session_id)) != NULL)
        add (out, MN_RECONCILE_CANCEL, j->session_id, j->job_id, j,
             "job %s (%s) %s, but its session %s (%s) is %s in the database: %s", j->job_id,
             j->description, runs (j), row->id, row->user, mn_session_state_to_string (row->state),
             act ? "cancelled" : "the controller cancels it at start");
      else
        add (out, MN_RECONCILE_ORPHAN, j->session_id, j->job_id, j,
             "job %s (%s) of session %s %s, but the database has no session for it: an"
             " orphan (the database was lost or replaced by an older copy?); left as it is:"
             " restore the database that knows it, or end the job by hand", j->job_id,
             j->description, j->session_id ? j->session_id : "?", runs (j));
    }
  return out;
}
