/* mn-auth-logins.c: the relay's copy of the live logins. */
#define G_LOG_DOMAIN "minna-auth"

#include "mn-auth-logins.h"
#include "mn-auth-cookie.h"

#include <string.h>

/* A lecture hall logs in at once; a flood of logins beyond this many live
 * ones means something is wrong, and the oldest-expiring go first. */
#define MN_AUTH_LOGINS_MAX 200000

typedef struct {
  gchar  *user;
  gint64  expires;
} Login;

struct _MnAuthLogins {
  GHashTable *by_id;   /* id -> Login */
  /* logged-out ids -> when they would have expired: a set loaded later
   * (the controller's answer at the relay's start, taken before the
   * logout) or a push that arrives late cannot bring them back */
  GHashTable *gone;
};

/* a logout of a login this set never saw: remember it this long */
#define MN_AUTH_LOGINS_GONE_DEFAULT (31 * 86400)

static void
login_free (Login *l)
{
  g_free (l->user);
  g_free (l);
}

MnAuthLogins *
mn_auth_logins_new (void)
{
  MnAuthLogins *logins = g_new0 (MnAuthLogins, 1);
  logins->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) login_free);
  logins->gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return logins;
}

void
mn_auth_logins_free (MnAuthLogins *logins)
{
  if (logins == NULL)
    return;
  g_hash_table_destroy (logins->by_id);
  g_hash_table_destroy (logins->gone);
  g_free (logins);
}

static void
drop_expired (MnAuthLogins *logins, gint64 now)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, logins->by_id);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Login *) value)->expires <= now)
      g_hash_table_iter_remove (&it);
  g_hash_table_iter_init (&it, logins->gone);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (*(gint64 *) value <= now)
      g_hash_table_iter_remove (&it);
}

static gboolean
is_gone (MnAuthLogins *logins, const gchar *id)
{
  return g_hash_table_contains (logins->gone, id);
}

void
mn_auth_logins_put (MnAuthLogins *logins, const gchar *id, const gchar *user, gint64 expires)
{
  Login *l;
  g_return_if_fail (mn_auth_login_id_valid (id) && user != NULL);
  if (is_gone (logins, id))
    return;
  if (g_hash_table_size (logins->by_id) >= MN_AUTH_LOGINS_MAX)
    drop_expired (logins, g_get_real_time () / G_USEC_PER_SEC);
  l = g_new0 (Login, 1);
  l->user = g_strdup (user);
  l->expires = expires;
  g_hash_table_replace (logins->by_id, g_strdup (id), l);
}

gboolean
mn_auth_logins_remove (MnAuthLogins *logins, const gchar *id)
{
  Login *l;
  gint64 *until;
  if (!mn_auth_login_id_valid (id))
    return FALSE;
  l = g_hash_table_lookup (logins->by_id, id);
  until = g_new (gint64, 1);
  *until = l != NULL ? l->expires
                     : g_get_real_time () / G_USEC_PER_SEC + MN_AUTH_LOGINS_GONE_DEFAULT;
  if (g_hash_table_size (logins->gone) >= MN_AUTH_LOGINS_MAX)
    drop_expired (logins, g_get_real_time () / G_USEC_PER_SEC);
  g_hash_table_replace (logins->gone, g_strdup (id), until);
  return g_hash_table_remove (logins->by_id, id);
}

guint
mn_auth_logins_count (MnAuthLogins *logins)
{
  return g_hash_table_size (logins->by_id);
}

const gchar *
mn_auth_logins_user (MnAuthLogins *logins, const gchar *id, gint64 now)
{
  Login *l = id != NULL ? g_hash_table_lookup (logins->by_id, id) : NULL;
  if (l == NULL)
    return NULL;
  if (l->expires <= now)
    {
      g_hash_table_remove (logins->by_id, id);
      return NULL;
    }
  return l->user;
}

static gboolean
parse (const gchar *id, JsonObject *o, const gchar **out_id, const gchar **out_user,
       gint64 *out_expires, GError **error)
{
  JsonNode *n;
  if (id == NULL)
    {
      n = json_object_get_member (o, "id");
      id = n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
    }
  if (!mn_auth_login_id_valid (id))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "field id: not 32 lowercase hex digits");
      return FALSE;
    }
  n = json_object_get_member (o, "user");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING ||
      json_node_get_string (n)[0] == '\0' || strlen (json_node_get_string (n)) > 256)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "field user: a non-empty string is needed");
      return FALSE;
    }
  *out_user = json_node_get_string (n);
  n = json_object_get_member (o, "expires");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 ||
      json_node_get_int (n) <= 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "field expires: Unix seconds (a positive integer) are needed");
      return FALSE;
    }
  *out_expires = json_node_get_int (n);
  *out_id = id;
  return TRUE;
}

gboolean
mn_auth_logins_put_json (MnAuthLogins *logins, const gchar *id, JsonObject *object,
                         GError **error)
{
  const gchar *user = NULL;
  gint64 expires = 0;
  if (!parse (id, object, &id, &user, &expires, error))
    return FALSE;
  mn_auth_logins_put (logins, id, user, expires);
  return TRUE;
}

static gint
load_json (MnAuthLogins *logins, JsonArray *array, gboolean replace, GError **error)
{
  g_autoptr(GHashTable) fresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) login_free);
  guint n = json_array_get_length (array);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      const gchar *id = NULL, *user = NULL;
      gint64 expires = 0;
      Login *l;
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "logins[%u]: not an object", i);
          return -1;
        }
      if (!parse (NULL, json_node_get_object (e), &id, &user, &expires, error))
        {
          g_prefix_error (error, "logins[%u]: ", i);
          return -1;
        }
      if (is_gone (logins, id))
        continue;
      l = g_new0 (Login, 1);
      l->user = g_strdup (user);
      l->expires = expires;
      g_hash_table_replace (fresh, g_strdup (id), l);
    }
  if (!replace)
    {
      GHashTableIter it;
      gpointer key, value;
      g_hash_table_iter_init (&it, fresh);
      while (g_hash_table_iter_next (&it, &key, &value))
        {
          g_hash_table_iter_steal (&it);
          g_hash_table_replace (logins->by_id, key, value);
        }
      return (gint) n;
    }
  g_hash_table_destroy (logins->by_id);
  logins->by_id = g_steal_pointer (&fresh);
  return (gint) g_hash_table_size (logins->by_id);
}

gint
mn_auth_logins_replace_json (MnAuthLogins *logins, JsonArray *array, GError **error)
{
  return load_json (logins, array, TRUE, error);
}

gint
mn_auth_logins_merge_json (MnAuthLogins *logins, JsonArray *array, GError **error)
{
  return load_json (logins, array, FALSE, error);
}
