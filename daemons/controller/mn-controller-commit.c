/* mn-controller-commit.c: group commit of the changes nothing outside waits
 * for (issue 14).
 *
 * Every commit of the store waits for the disk (synchronous=FULL: an fsync
 * of the WAL, 1-10 ms here).  A lecture's hundred launches made about six
 * hundred of them, one after another on the main loop: measured with
 * bench-controller, the main loop spent 1.9 s of 2.4 s in commits, and the
 * results of the submissions, the polls and the probes queued behind them
 * until every session turned running at about the same moment.
 *
 * A change that only moves a session on (its job id, its job running, the
 * port its app listens on, running) is written into the store's batch
 * (mn_manager_save_later) and committed with the others of this main-loop
 * iteration, by one commit: at the end of the iteration (an idle source),
 * or earlier by any write that commits anyway.  Nothing outside the
 * process learns such a change before its commit: the API commits the
 * batch before it answers (mn_controller_manager_flush), and whoever acts
 * on a session outside (submit, route, cancel) commits its changes first
 * (mn_manager_settle).  A controller killed before the commit loses only
 * changes nobody saw, and finds the same again from the world.  A commit
 * the store refuses restores the sessions as last stored, like a refused
 * save; a job id not stored is kept and stored again (unsaved_jobs). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

/* The store says how a batch ended (from a commit, or from a write whose
 * failure lost it). */
static void
batch_ended (gboolean committed, const GError *error, gpointer data)
{
  MnControllerManager *self = data;
  g_autoptr(GHashTable) batch = g_steal_pointer (&self->batch);
  GHashTableIter it;
  gpointer key, value;
  guint lost = 0;

  self->batch = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) mn_session_free);
  g_hash_table_iter_init (&it, batch);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      MnSession *written = value;
      MnSession *old = g_hash_table_lookup (self->stored, key);
      MnSession *s = g_hash_table_lookup (self->live, key);
      gboolean job_id_new = written->job_id != NULL && (old == NULL || old->job_id == NULL);
      if (old == NULL || s == NULL)
        continue;   /* no longer live */
      if (committed)
        {
          g_hash_table_iter_steal (&it);
          g_hash_table_replace (self->stored, key, written);
          if (job_id_new)
            {
              g_hash_table_remove (self->unsaved_jobs, s->id);
              mn_manager_fault_point ("submitted-stored");
            }
          continue;
        }
      /* lost: the session is what the store has; a job id the store does
       * not know is kept and stored again by the next poll */
      lost++;
      if (job_id_new)
        g_hash_table_replace (self->unsaved_jobs, g_strdup (s->id), g_strdup (written->job_id));
      mn_session_restore (s, old);
    }
  if (committed)
    {
      if (self->store_error != NULL && g_hash_table_size (batch) > 0)
        {
          mn_log_limit_clear (self->log, "store", "the database takes changes again");
          g_clear_pointer (&self->store_error, g_free);
        }
      return;
    }
  self->store_refusals++;
  self->store_error_at = mn_controller_manager_now (self);
  g_free (self->store_error);
  self->store_error = g_strdup (error ? error->message : "the commit failed");
  mn_log_limit_log (self->log, G_LOG_LEVEL_WARNING, "store",
                    "%u session changes refused at their commit, not carried out: %s", lost,
                    self->store_error);
}

static gboolean
commit_idle (gpointer data)
{
  MnControllerManager *self = data;
  self->commit_source = 0;
  mn_controller_manager_flush (self);
  return G_SOURCE_REMOVE;
}

static void
commit_soon (MnControllerManager *self)
{
  /* G_PRIORITY_DEFAULT: after what else is ready in this iteration */
  if (self->commit_source == 0)
    self->commit_source = g_idle_add_full (G_PRIORITY_DEFAULT, commit_idle, self, NULL);
}

void
mn_manager_commit_init (MnControllerManager *self)
{
  self->batch = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) mn_session_free);
  mn_controller_store_set_batch_func (self->store, batch_ended, self);
}

void
mn_manager_commit_clear (MnControllerManager *self)
{
  g_clear_handle_id (&self->commit_source, g_source_remove);
  mn_controller_manager_flush (self);
  mn_controller_store_set_batch_func (self->store, NULL, NULL);
  g_clear_pointer (&self->batch, g_hash_table_unref);
}

const MnSession *
mn_manager_last_written (MnControllerManager *self, const gchar *id)
{
  MnSession *s = g_hash_table_lookup (self->batch, id);
  return s != NULL ? s : g_hash_table_lookup (self->stored, id);
}

gboolean
mn_manager_save_later (MnControllerManager *self, MnSession *s, const gchar *event)
{
  g_autoptr(GError) local = NULL;
  if (!mn_controller_store_update_later (self->store, s, mn_controller_manager_now (self), event,
                                         &local))
    {
      mn_manager_save_refused (self, s, event, local);
      return FALSE;
    }
  g_hash_table_replace (self->batch, g_strdup (s->id), mn_session_copy (s));
  commit_soon (self);
  return TRUE;
}

void
mn_controller_manager_save_form (MnControllerManager *self, const gchar *user, const gchar *json)
{
  g_autoptr(GError) error = NULL;
  if (mn_controller_store_save_form_later (self->store, user, json,
                                           mn_controller_manager_now (self), &error))
    commit_soon (self);
  else
    g_message ("the form values of %s were not stored: %s", user, error->message);
}

gboolean
mn_controller_manager_flush_sessions (MnControllerManager *self)
{
  if (g_hash_table_size (self->batch) == 0)
    return TRUE;
  return mn_controller_manager_flush (self);
}

gboolean
mn_controller_manager_flush (MnControllerManager *self)
{
  g_clear_handle_id (&self->commit_source, g_source_remove);
  return mn_controller_store_commit_batch (self->store, NULL);
}

gboolean
mn_manager_settle (MnControllerManager *self, const gchar *id)
{
  if (!g_hash_table_contains (self->batch, id))
    return TRUE;
  return mn_controller_manager_flush (self);
}
