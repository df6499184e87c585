/* mn-controller-recover.c: a controller (re)started: live sessions come back
 * from the store into the policy state, and their routes into the relay;
 * the store is compared with what really runs (issue 20). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

static void
add_line (GPtrArray *lines, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static void
add_line (GPtrArray *lines, const gchar *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_ptr_array_add (lines, g_strdup_vprintf (format, ap));
  va_end (ap);
}

gint
mn_controller_reconcile (MnControllerStore *store, MnBackend *backend, gboolean act,
                         GPtrArray *lines, GError **error)
{
  g_autoptr(GPtrArray) live = mn_controller_store_list (store, NULL, TRUE, error);
  g_autoptr(GHashTable) jobs = NULL;
  g_autoptr(GHashTable) live_jobs = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) local = NULL;
  gint differences = 0;
  GHashTableIter it;
  gpointer key, value;

  if (live == NULL)
    return -1;
  jobs = mn_backend_list_jobs (backend, &local);
  if (jobs == NULL)
    {
      add_line (lines, "running jobs not compared: %s", local->message);
      return 0;
    }
  for (guint i = 0; i < live->len; i++)
    {
      MnSession *s = g_ptr_array_index (live, i);
      /* local: the job id is the session id, also before it was stored */
      const gchar *job = s->job_id ? s->job_id : s->id;
      g_hash_table_add (live_jobs, (gpointer) job);
      if (s->job_id == NULL && g_hash_table_contains (jobs, s->id) &&
          s->state == MN_SESSION_STARTING)
        {
          differences++;
          add_line (lines, "session %s (%s) is starting without a job in the database, but"
                    " job %s runs (%s): adopted (its submission was not stored)", s->id,
                    s->user, s->id, (const gchar *) g_hash_table_lookup (jobs, s->id));
        }
      else if (s->job_id != NULL && !g_hash_table_contains (jobs, s->job_id) &&
               s->state != MN_SESSION_QUEUED)
        {
          differences++;
          add_line (lines, "session %s (%s) is %s in the database, but its job %s does not"
                    " run: the first poll ends it", s->id, s->user,
                    mn_session_state_to_string (s->state), s->job_id);
        }
    }
  g_hash_table_iter_init (&it, jobs);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      g_autoptr(MnSession) row = NULL;
      g_autoptr(GError) get_error = NULL;
      if (g_hash_table_contains (live_jobs, key))
        continue;
      differences++;
      row = mn_controller_store_get (store, key, &get_error);
      if (row != NULL)
        {
          /* the database says it is over, and a user saw that: it must
           * not live on */
          g_autoptr(GError) cancel_error = NULL;
          if (act && !mn_backend_cancel (backend, key, g_get_real_time () / G_USEC_PER_SEC,
                                         &cancel_error))
            add_line (lines, "job %s (%s) runs, but its session (%s) is %s in the database:"
                      " cancelling it failed: %s", (const gchar *) key, (const gchar *) value,
                      row->user, mn_session_state_to_string (row->state), cancel_error->message);
          else
            add_line (lines, "job %s (%s) runs, but its session (%s) is %s in the database: %s",
                      (const gchar *) key, (const gchar *) value, row->user,
                      mn_session_state_to_string (row->state),
                      act ? "cancelled" : "the controller cancels it at start");
        }
      else
        add_line (lines, "job %s (%s) runs, but the database has no session for it: an"
                  " orphan (the database was lost or replaced by an older copy?); left"
                  " running: restore the database that knows it, or end the job by hand",
                  (const gchar *) key, (const gchar *) value);
    }
  return differences;
}

/* The relay's routes against the live sessions: a route of a session
 * that is over (a controller killed between storing the end and removing
 * the route) is removed. */
static void
on_routes_listed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  MnControllerManager *self = data;
  JsonArray *routes = NULL;
  if (!ok || body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
    {
      g_message ("reconcile: the relay's routes were not compared: %s", message ? message : "no answer");
      mn_controller_manager_unref (self);
      return;
    }
  routes = json_object_get_array_member (json_node_get_object (body), "routes");
  for (guint i = 0; routes != NULL && i < json_array_get_length (routes); i++)
    {
      JsonObject *r = json_array_get_object_element (routes, i);
      const gchar *id = r ? json_object_get_string_member_with_default (r, "id", "") : "";
      MnSession *s = g_hash_table_lookup (self->live, id);
      g_autofree gchar *line = NULL;
      if (id[0] == '\0' || (s != NULL && s->host != NULL))
        continue;
      line = g_strdup_printf ("the relay had a route for session %s, which is %s: removed", id,
                              s ? mn_session_state_to_string (s->state) : "over");
      g_warning ("reconcile: %s", line);
      mn_controller_manager_add_reconcile (self, line);
      mn_manager_delete_route (self, id);
    }
  mn_controller_manager_unref (self);
}

gboolean
mn_controller_manager_recover (MnControllerManager *self, GError **error)
{
  g_autoptr(GPtrArray) live = NULL;
  g_autoptr(GPtrArray) tracked = g_ptr_array_new ();
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  gint differences;

  differences = mn_controller_reconcile (self->store, self->backend, TRUE, lines, error);
  if (differences < 0)
    return FALSE;
  for (guint i = 0; i < lines->len; i++)
    {
      const gchar *line = g_ptr_array_index (lines, i);
      if (differences > 0)
        g_warning ("reconcile: %s", line);
      else
        g_message ("reconcile: %s", line);
      mn_controller_manager_add_reconcile (self, line);
    }
  live = mn_controller_store_list (self->store, NULL, TRUE, error);
  if (live == NULL)
    return FALSE;
  for (guint i = 0; i < live->len; i++)
    {
      MnSession *s = g_ptr_array_steal_index (live, i--);
      mn_manager_track (self, s);
      g_ptr_array_add (tracked, s);
    }
  mn_manager_refill_policy (self, tracked, TRUE);
  for (guint i = 0; i < tracked->len; i++)
    {
      MnSession *s = g_ptr_array_index (tracked, i);
      if (!g_hash_table_contains (self->live, s->id))
        continue;
      if (s->state == MN_SESSION_RUNNING && s->host != NULL)
        mn_manager_refresh_route (self, s);
    }
  if (mn_controller_relay_enabled (self->relay))
    mn_controller_relay_list_routes (self->relay, on_routes_listed, mn_controller_manager_ref (self));
  g_message ("recovered %u live sessions from %s; %d difference%s from what runs", tracked->len,
             mn_controller_store_get_path (self->store), differences, differences == 1 ? "" : "s");
  return TRUE;
}
