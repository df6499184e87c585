/* mn-relay-route.c: the route table. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-route.h"
#include "mn-relay-config.h"
#include "mn-relay-http.h"

struct _MnRelayRoutes {
  GHashTable *by_id;   /* id -> MnRelayRoute */
};

MnRelayRoute *
mn_relay_route_ref (MnRelayRoute *route)
{
  g_atomic_int_inc (&route->ref_count);
  return route;
}

void
mn_relay_route_unref (MnRelayRoute *route)
{
  if (route == NULL || !g_atomic_int_dec_and_test (&route->ref_count))
    return;
  g_free (route->id);
  g_free (route->upstream);
  g_free (route->host);
  g_free (route->pool_key);
  g_free (route->owner);
  g_free (route->token);
  g_free (route);
}

static const gchar *
string_member (JsonObject *o, const gchar *name, gboolean required, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (required)
        g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                     "field %s: missing", name);
      return required ? NULL : "";
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                   "field %s: not a string", name);
      return NULL;
    }
  return json_node_get_string (n);
}

MnRelayRoute *
mn_relay_route_new_from_json (const gchar *id, JsonObject *o, GError **error)
{
  if (id == NULL && (id = string_member (o, "id", TRUE, error)) == NULL)
    return NULL;
  if (!mn_relay_session_id_valid (id))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                   "field id: '%s' is not 1-64 of A-Z a-z 0-9 - _", id);
      return NULL;
    }
  const gchar *upstream = string_member (o, "upstream", TRUE, error);
  if (upstream == NULL)
    return NULL;
  g_autofree gchar *host = NULL;
  guint16 port = 0;
  if (!mn_relay_parse_upstream (upstream, &host, &port))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                   "field upstream: '%s' is not http://HOST:PORT", upstream);
      return NULL;
    }
  const gchar *owner = string_member (o, "owner", TRUE, error);
  if (owner == NULL)
    return NULL;
  if (owner[0] == '\0')
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                           "field owner: empty");
      return NULL;
    }
  const gchar *token = string_member (o, "token", FALSE, error);
  if (token == NULL)
    return NULL;
  for (const gchar *t = token; *t != '\0'; t++)
    if ((guchar) *t < 0x21 || (guchar) *t > 0x7e)
      {
        g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                             "field token: only visible ASCII is allowed");
        return NULL;
      }
  gint64 expires = 0;
  JsonNode *e = json_object_get_member (o, "expires");
  if (e != NULL && !JSON_NODE_HOLDS_NULL (e))
    {
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64 ||
          json_node_get_int (e) < 0)
        {
          g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                               "field expires: not a non-negative integer (Unix seconds)");
          return NULL;
        }
      expires = json_node_get_int (e);
    }

  MnRelayRoute *r = g_new0 (MnRelayRoute, 1);
  r->ref_count = 1;
  r->id = g_strdup (id);
  r->upstream = g_strdup (upstream);
  r->host = g_steal_pointer (&host);
  r->port = port;
  r->pool_key = g_strdup_printf ("%s:%u", r->host, r->port);
  r->owner = g_strdup (owner);
  r->token = g_strdup (token);
  r->expires = expires;
  r->last_activity = g_get_real_time () / G_USEC_PER_SEC;
  return r;
}

MnRelayRoutes *
mn_relay_routes_new (void)
{
  MnRelayRoutes *routes = g_new0 (MnRelayRoutes, 1);
  routes->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) mn_relay_route_unref);
  return routes;
}

void
mn_relay_routes_free (MnRelayRoutes *routes)
{
  if (routes == NULL)
    return;
  g_hash_table_unref (routes->by_id);
  g_free (routes);
}

void
mn_relay_routes_put (MnRelayRoutes *routes, MnRelayRoute *route)
{
  MnRelayRoute *old = g_hash_table_lookup (routes->by_id, route->id);
  /* A re-registration keeps the activity seen so far. */
  if (old != NULL && old->last_activity > route->last_activity)
    route->last_activity = old->last_activity;
  g_hash_table_replace (routes->by_id, route->id, mn_relay_route_ref (route));
}

gboolean
mn_relay_routes_remove (MnRelayRoutes *routes, const gchar *id)
{
  return g_hash_table_remove (routes->by_id, id);
}

MnRelayRoute *
mn_relay_routes_lookup (MnRelayRoutes *routes, const gchar *id, gint64 now)
{
  MnRelayRoute *r = g_hash_table_lookup (routes->by_id, id);
  if (r == NULL)
    return NULL;
  if (r->expires != 0 && r->expires <= now)
    {
      g_message ("route %s expired, removed", id);
      g_hash_table_remove (routes->by_id, id);
      return NULL;
    }
  return mn_relay_route_ref (r);
}

guint
mn_relay_routes_count (MnRelayRoutes *routes)
{
  return g_hash_table_size (routes->by_id);
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

JsonNode *
mn_relay_routes_to_json (MnRelayRoutes *routes)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint n = 0;
  g_autofree gpointer keys = g_hash_table_get_keys_as_array (routes->by_id, &n);
  qsort (keys, n, sizeof (gpointer), compare_ids);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "routes");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      MnRelayRoute *r = g_hash_table_lookup (routes->by_id, ((gchar **) keys)[i]);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, r->id);
      json_builder_set_member_name (b, "upstream");
      json_builder_add_string_value (b, r->upstream);
      json_builder_set_member_name (b, "owner");
      json_builder_add_string_value (b, r->owner);
      json_builder_set_member_name (b, "expires");
      json_builder_add_int_value (b, r->expires);
      json_builder_set_member_name (b, "last_activity");
      json_builder_add_int_value (b, r->last_activity);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gint
mn_relay_routes_load_json (MnRelayRoutes *routes, JsonNode *root, GError **error)
{
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                           "not a JSON object");
      return -1;
    }
  JsonNode *list = json_object_get_member (json_node_get_object (root), "routes");
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                           "field routes: missing or not an array");
      return -1;
    }
  JsonArray *a = json_node_get_array (list);
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_relay_route_unref);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *item = json_array_get_element (a, i);
      MnRelayRoute *r = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (item))
        g_set_error_literal (&local, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_ROUTE,
                             "not an object");
      else
        r = mn_relay_route_new_from_json (NULL, json_node_get_object (item), &local);
      if (r == NULL)
        {
          /* One bad entry must not cost the others their routes. */
          g_message ("routes[%u]: %s (skipped)", i, local->message);
          g_clear_error (&local);
          continue;
        }
      g_ptr_array_add (parsed, r);
    }
  for (guint i = 0; i < parsed->len; i++)
    mn_relay_routes_put (routes, g_ptr_array_index (parsed, i));
  return (gint) parsed->len;
}
