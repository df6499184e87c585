/* mn-controller-faults.c: what could not be stored, and what a start found
 * amiss (issue 20).  An end that happened in the world (a job ended, a
 * launch failed) but that the store refused is kept here and retried with
 * back-off (0.5 s doubling to 30 s) until the store takes it; until then the
 * session is shown as stored.  GET /api/v1/faults shows all of it to admins. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

void
mn_manager_pending_free (PendingFinish *p)
{
  if (p == NULL)
    return;
  g_free (p->reason);
  g_free (p->error);
  g_free (p);
}

gboolean
mn_manager_is_pending (MnControllerManager *self, const MnSession *s)
{
  return g_hash_table_contains (self->pending, s->id);
}

void
mn_manager_retry_pending (MnControllerManager *self)
{
  gint64 mono = g_get_monotonic_time ();
  g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, self->pending);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (((PendingFinish *) value)->next_try <= mono)
      g_ptr_array_add (due, g_strdup (key));
  for (guint i = 0; i < due->len; i++)
    {
      const gchar *id = g_ptr_array_index (due, i);
      PendingFinish *p = g_hash_table_lookup (self->pending, id);
      MnSession *s = g_hash_table_lookup (self->live, id);
      g_autofree gchar *reason = NULL;
      if (p == NULL)
        continue;
      if (s == NULL)
        {
          g_hash_table_remove (self->pending, id);
          continue;
        }
      reason = g_strdup (p->reason);   /* a stored end frees @p */
      mn_manager_finish (self, s, p->state, p->end, reason);
      if (!g_hash_table_contains (self->pending, id))
        g_message ("session %s: its end (%s) is stored now", id, reason ? reason : "");
    }
}

void
mn_controller_manager_add_reconcile (MnControllerManager *self, const gchar *line)
{
  g_ptr_array_add (self->reconcile, g_strdup (line));
}

JsonNode *
mn_controller_manager_faults (MnControllerManager *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GHashTableIter it;
  gpointer key, value;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "store");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, self->store_error == NULL && g_hash_table_size (self->pending) == 0
                                     && g_hash_table_size (self->unsaved_jobs) == 0);
  json_builder_set_member_name (b, "path");
  {
    g_autofree gchar *path = g_filename_display_name (mn_controller_store_get_path (self->store));
    json_builder_add_string_value (b, path);
  }
  json_builder_set_member_name (b, "last_error");
  if (self->store_error != NULL)
    json_builder_add_string_value (b, self->store_error);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "last_error_at");
  json_builder_add_int_value (b, self->store_error_at);
  json_builder_set_member_name (b, "refusals");
  json_builder_add_int_value (b, (gint64) self->store_refusals);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "pending");
  json_builder_begin_array (b);
  g_hash_table_iter_init (&it, self->pending);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      PendingFinish *p = value;
      MnSession *s = g_hash_table_lookup (self->live, key);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "session");
      json_builder_add_string_value (b, key);
      json_builder_set_member_name (b, "user");
      json_builder_add_string_value (b, s ? s->user : "");
      json_builder_set_member_name (b, "stored_state");
      json_builder_add_string_value (b, s ? mn_session_state_to_string (s->state) : "");
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, mn_session_state_to_string (p->state));
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, p->reason ? p->reason : "");
      json_builder_set_member_name (b, "attempts");
      json_builder_add_int_value (b, p->attempts);
      json_builder_set_member_name (b, "next_try_ms");
      json_builder_add_int_value (b, MAX (0, (p->next_try - g_get_monotonic_time ()) / 1000));
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, p->error ? p->error : "");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "unsaved_jobs");
  json_builder_begin_array (b);
  g_hash_table_iter_init (&it, self->unsaved_jobs);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "session");
      json_builder_add_string_value (b, key);
      json_builder_set_member_name (b, "job_id");
      json_builder_add_string_value (b, value);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "reconcile");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->reconcile->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (self->reconcile, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
mn_manager_retry_pending_for_tests (MnControllerManager *self)
{
  mn_manager_retry_pending (self);
}
