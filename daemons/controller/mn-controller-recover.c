/* mn-controller-recover.c: a controller (re)started: live sessions come back
 * from the store into the policy state, and their routes into the relay. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

gboolean
mn_controller_manager_recover (MnControllerManager *self, GError **error)
{
  g_autoptr(GPtrArray) live = mn_controller_store_list (self->store, NULL, TRUE, error);
  g_autoptr(GPtrArray) tracked = g_ptr_array_new ();
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
  g_message ("recovered %u live sessions", tracked->len);
  return TRUE;
}

