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
 * save; a job id not stored is kept and stored again (unsaved_jobs).
 *
 * A launch from the API goes the same way (mn_controller_manager_launch_later):
 * its row is written into the batch, the answer and the submission wait for
 * the commit, so the hundred launches a lecture's first seconds bring share
 * a few commits instead of one fsync each.  A refused commit drops those
 * sessions (their slots released) and answers their launches with the
 * store's error. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

/* how long a change may wait for the commit of its batch */
#define MN_COMMIT_WINDOW_MS 5

typedef struct {
  MnStoredFunc func;
  gpointer     data;
} Waiter;

typedef struct {
  gchar    *id;
  gboolean  committed;
  GError   *error;
} Birth;

static void
birth_free (Birth *b)
{
  g_free (b->id);
  g_clear_error (&b->error);
  g_free (b);
}

static void
notify (MnControllerManager *self, const gchar *id, gboolean committed, const GError *error)
{
  gpointer key, value;
  if (g_hash_table_steal_extended (self->waiters, id, &key, &value))
    {
      Waiter *w = value;
      w->func (committed, error, w->data);
      g_free (key);
      g_free (w);
    }
}

/* The launches whose batch ended, at the top of the main loop (not inside
 * the store call that ended it, which may be working on another session):
 * started, or dropped. */
static gboolean
births_idle (gpointer data)
{
  MnControllerManager *self = data;
  g_autoptr(GPtrArray) births = g_steal_pointer (&self->births);
  gint64 now = mn_controller_manager_now (self);
  self->births = g_ptr_array_new_with_free_func ((GDestroyNotify) birth_free);
  self->births_source = 0;
  for (guint i = 0; i < births->len; i++)
    {
      Birth *b = g_ptr_array_index (births, i);
      MnSession *s = g_hash_table_lookup (self->live, b->id);
      if (b->committed)
        {
          mn_manager_fault_point ("launch-stored");
          if (s != NULL && s->state == MN_SESSION_STARTING && s->job_id == NULL &&
              !g_hash_table_contains (self->busy, s->id))
            mn_manager_start_job (self, s);   /* may finish (fail) and free it */
        }
      else if (s != NULL)
        {
          mn_log_limit_log (self->log, G_LOG_LEVEL_WARNING, "refused-launch",
                            "launch for %s refused: the database did not take it: %s",
                            s->user, b->error->message);
          /* its slot goes back; the policy is rebuilt from the live sessions */
          if (mn_manager_is_interactive (s))
            mn_policy_state_release (self->policy, (guint64) s->num, now, NULL);
          self->refill_needed = TRUE;
          if (self->counters.launches > 0)
            self->counters.launches--;
          mn_manager_untrack (self, s);
        }
      notify (self, b->id, b->committed, b->error);
    }
  mn_manager_kick (self);
  return G_SOURCE_REMOVE;
}

static void
unborn_ended (MnControllerManager *self, gboolean committed, const GError *error)
{
  g_autoptr(GHashTable) unborn = g_steal_pointer (&self->unborn);
  GHashTableIter it;
  gpointer key, value;
  self->unborn = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) mn_session_free);
  g_hash_table_iter_init (&it, unborn);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Birth *b = g_new0 (Birth, 1);
      b->id = g_strdup (key);
      b->committed = committed;
      b->error = committed ? NULL
                 : error ? g_error_copy (error)
                 : g_error_new_literal (MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE,
                                        "the commit failed");
      if (committed && g_hash_table_contains (self->live, key))
        {
          g_hash_table_iter_steal (&it);
          g_hash_table_replace (self->stored, key, value);
        }
      g_ptr_array_add (self->births, b);
    }
  if (self->births->len > 0 && self->births_source == 0)
    self->births_source = g_idle_add_full (G_PRIORITY_HIGH, births_idle, self, NULL);
}

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

  unborn_ended (self, committed, error);

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

void
mn_manager_commit_soon (MnControllerManager *self)
{
  /* a few ms: the requests and results that arrive meanwhile (a lecture's
   * launches come over some tens of ms) share the commit; whoever must
   * act or answer earlier commits at once */
  if (self->commit_source == 0 && mn_controller_store_in_batch (self->store))
    self->commit_source = g_timeout_add (MN_COMMIT_WINDOW_MS, commit_idle, self);
}

void
mn_manager_commit_init (MnControllerManager *self)
{
  self->batch = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) mn_session_free);
  self->unborn = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) mn_session_free);
  self->waiters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->births = g_ptr_array_new_with_free_func ((GDestroyNotify) birth_free);
  mn_controller_store_set_batch_func (self->store, batch_ended, self);
}

void
mn_manager_commit_clear (MnControllerManager *self)
{
  g_clear_handle_id (&self->commit_source, g_source_remove);
  mn_controller_manager_flush (self);
  mn_controller_store_set_batch_func (self->store, NULL, NULL);
  g_clear_handle_id (&self->births_source, g_source_remove);
  g_clear_pointer (&self->batch, g_hash_table_unref);
  g_clear_pointer (&self->unborn, g_hash_table_unref);
  g_clear_pointer (&self->waiters, g_hash_table_unref);   /* stopping: nobody is answered */
  g_clear_pointer (&self->births, g_ptr_array_unref);
}

const MnSession *
mn_manager_last_written (MnControllerManager *self, const gchar *id)
{
  MnSession *s = g_hash_table_lookup (self->batch, id);
  if (s == NULL)
    s = g_hash_table_lookup (self->unborn, id);
  return s != NULL ? s : g_hash_table_lookup (self->stored, id);
}

void
mn_manager_unborn_add (MnControllerManager *self, MnSession *s)
{
  g_hash_table_remove (self->stored, s->id);   /* not stored before the commit */
  g_hash_table_replace (self->unborn, g_strdup (s->id), mn_session_copy (s));
  mn_manager_commit_soon (self);
}

void
mn_controller_manager_when_stored (MnControllerManager *self, const gchar *id,
                                   MnStoredFunc func, gpointer data)
{
  Waiter *w;
  gboolean ending = FALSE;
  for (guint i = 0; i < self->births->len && !ending; i++)
    ending = g_str_equal (((Birth *) g_ptr_array_index (self->births, i))->id, id);
  if (!g_hash_table_contains (self->unborn, id) && !ending)
    {
      func (TRUE, NULL, data);   /* stored at once */
      return;
    }
  /* births_idle tells it: committed, or lost with its batch (a later write
   * of the same request, such as the form's values, may have lost it) */
  w = g_new0 (Waiter, 1);
  w->func = func;
  w->data = data;
  g_hash_table_replace (self->waiters, g_strdup (id), w);
}

gboolean
mn_manager_save_later (MnControllerManager *self, MnSession *s, const gchar *event)
{
  g_autoptr(GError) local = NULL;
  if (!mn_controller_store_update_later (self->store, s, mn_controller_manager_now (self), event,
                                         &local))
    {
      mn_manager_save_refused (self, s, event, local);
      mn_manager_commit_soon (self);   /* what else the batch holds */
      return FALSE;
    }
  g_hash_table_replace (self->batch, g_strdup (s->id), mn_session_copy (s));
  mn_manager_commit_soon (self);
  return TRUE;
}

void
mn_controller_manager_save_form (MnControllerManager *self, const gchar *user, const gchar *json)
{
  g_autoptr(GError) error = NULL;
  if (!mn_controller_store_save_form_later (self->store, user, json,
                                            mn_controller_manager_now (self), &error))
    g_message ("the form values of %s were not stored: %s", user, error->message);
  mn_manager_commit_soon (self);
}

gboolean
mn_controller_manager_flush_sessions (MnControllerManager *self, gboolean launches)
{
  if (g_hash_table_size (self->batch) == 0 &&
      !(launches && g_hash_table_size (self->unborn) > 0))
    return TRUE;
  return mn_controller_manager_flush (self);
}

gboolean
mn_controller_manager_flush (MnControllerManager *self)
{
  g_clear_handle_id (&self->commit_source, g_source_remove);
  return mn_controller_store_commit_batch (self->store, NULL);
}

/* A launch whose row a refused commit took with it, not dropped yet. */
static gboolean
doomed (MnControllerManager *self, const gchar *id)
{
  for (guint i = 0; i < self->births->len; i++)
    {
      Birth *b = g_ptr_array_index (self->births, i);
      if (!b->committed && g_str_equal (b->id, id))
        return TRUE;
    }
  return FALSE;
}

gboolean
mn_manager_settle (MnControllerManager *self, const gchar *id)
{
  if (doomed (self, id))
    return FALSE;
  if (!g_hash_table_contains (self->batch, id) && !g_hash_table_contains (self->unborn, id))
    return TRUE;
  return mn_controller_manager_flush (self) && g_hash_table_contains (self->live, id);
}
