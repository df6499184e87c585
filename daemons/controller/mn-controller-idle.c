/* mn-controller-idle.c: idle culling: the relay knows when a route last
 * carried traffic. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

static gint64
idle_warning (gint64 timeout)
{
  return CLAMP (timeout / 10, 1, 300);
}

static void
on_routes_listed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = c->self;
  gint64 now = mn_controller_manager_now (self);
  gint64 timeout = mn_policy_state_get_config (self->policy)->idle_timeout;
  JsonArray *routes = NULL;

  self->listing_routes = FALSE;
  if (!ok || body == NULL || !JSON_NODE_HOLDS_OBJECT (body) || timeout <= 0)
    {
      if (!ok)
        g_message ("idle check: relay routes: %s", message);
      mn_manager_call_free (c);
      return;
    }
  routes = json_object_get_array_member (json_node_get_object (body), "routes");
  for (guint i = 0; routes != NULL && i < json_array_get_length (routes); i++)
    {
      JsonObject *r = json_array_get_object_element (routes, i);
      const gchar *id = r ? json_object_get_string_member_with_default (r, "id", "") : "";
      MnSession *s = g_hash_table_lookup (self->live, id);
      gint64 idle;
      if (s == NULL || s->state != MN_SESSION_RUNNING || !json_object_has_member (r, "last_activity"))
        continue;
      idle = now - json_object_get_int_member (r, "last_activity");
      if (idle >= timeout)
        {
          g_autofree gchar *why = g_strdup_printf ("ended after %" G_GINT64_FORMAT " s without use"
                                                   " (idle timeout %" G_GINT64_FORMAT " s)", idle, timeout);
          mn_controller_manager_stop (self, s->id, MN_END_IDLE, why, NULL);
        }
      else if (idle >= timeout - idle_warning (timeout) && s->idle_warned == 0)
        {
          g_autoptr(GDateTime) at = g_date_time_new_from_unix_utc (now + timeout - idle);
          g_autofree gchar *when = g_date_time_format (at, "%H:%M:%S UTC");
          g_autofree gchar *why = g_strdup_printf ("idle for %" G_GINT64_FORMAT " s: it will be ended"
                                                   " at %s unless it is used", idle, when);
          s->idle_warned = now;
          mn_manager_set_reason (s, why);
          mn_manager_save (self, s, why);
        }
      else if (idle < timeout - idle_warning (timeout) && s->idle_warned != 0)
        {
          s->idle_warned = 0;
          mn_manager_set_reason (s, NULL);
          mn_manager_save (self, s, "in use again");
        }
    }
  mn_manager_call_free (c);
}

void
mn_manager_check_idle (MnControllerManager *self, gint64 now)
{
  gint64 timeout = mn_policy_state_get_config (self->policy)->idle_timeout;
  if (timeout <= 0 || !mn_controller_relay_enabled (self->relay) || self->listing_routes ||
      now - self->last_idle_check < CLAMP (timeout / 10, 1, 30))
    return;
  self->last_idle_check = now;
  self->listing_routes = TRUE;
  mn_controller_relay_list_routes (self->relay, on_routes_listed, mn_manager_call_new (self, "(idle check)"));
}
