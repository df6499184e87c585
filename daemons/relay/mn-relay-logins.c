/* mn-relay-logins.c: who is logged in, as the controller says (issue 15).
 *
 * A login cookie (daemons/common/mn-auth-cookie.h) names a login; the
 * relay lets it in only while that login is in its live set
 * (daemons/common/mn-auth-logins.h), which the controller keeps current:
 *
 *   PUT    /logins             {"logins": [{"id", "user", "expires"}, ...]}
 *                              the whole set (the controller's start, and
 *                              after a push it could not deliver)
 *   PUT    /logins/<id>        {"user", "expires"}   a login
 *   DELETE /logins/<id>        a logout (204, or 404 if unknown)
 *   GET    /logins             {"count": N}          (ids are not listed)
 *
 * and at the relay's start, the "logins" member of the controller's answer
 * to GET /api/v1/routes (merged with what was pushed meanwhile).  A logged-out cookie is refused from the moment
 * the DELETE is answered, and after either daemon restarts. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-private.h"
#include "mn-secure-file.h"

#include <gio/gunixsocketaddress.h>

#include <openssl/crypto.h>
#include <string.h>

/* Cookies whose MAC checked out, by their exact bytes -> login id: the
 * HMAC is computed once per cookie, the live set is asked every time. */
#define MN_RELAY_COOKIE_CACHE_MAX 4096

const gchar *
mn_relay_cookie_user (MnRelay *r, const gchar *cookie_header, gint64 now)
{
  g_autofree gchar *value = mn_auth_cookie_from_header (cookie_header);
  const gchar *id;
  if (value == NULL)
    return NULL;
  id = g_hash_table_lookup (r->cookie_cache, value);
  if (id == NULL)
    {
      gchar *checked = mn_auth_login_cookie_check (r->cookie_key, value, NULL);
      if (checked == NULL)
        return NULL;
      if (g_hash_table_size (r->cookie_cache) >= MN_RELAY_COOKIE_CACHE_MAX)
        g_hash_table_remove_all (r->cookie_cache);
      g_hash_table_insert (r->cookie_cache, g_steal_pointer (&value), checked);
      id = checked;
    }
  return mn_auth_logins_user (r->logins, id, now);
}

static void
reply (SoupServerMessage *msg, guint status, const gchar *error_text)
{
  soup_server_message_set_status (msg, status, NULL);
  if (error_text != NULL)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error_text);
      json_builder_end_object (b);
      g_autoptr(JsonNode) n = json_builder_get_root (b);
      g_autofree gchar *text = json_to_string (n, FALSE);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text,
                                        strlen (text));
    }
}

static JsonNode *
body_json (SoupServerMessage *msg, GError **error)
{
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const gchar *data = g_bytes_get_data (bytes, &len);
  JsonNode *root;
  if (!json_parser_load_from_data (parser, data != NULL ? data : "", (gssize) len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a JSON object");
      return NULL;
    }
  return json_node_copy (root);
}

gboolean
mn_relay_logins_admin (MnRelay *r, SoupServerMessage *msg, const gchar *method,
                       const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (g_str_equal (path, "/logins"))
    {
      if (g_str_equal (method, "GET"))
        {
          g_autofree gchar *text = g_strdup_printf ("{\"count\":%u}",
                                                    mn_auth_logins_count (r->logins));
          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text,
                                            strlen (text));
        }
      else if (g_str_equal (method, "PUT"))
        {
          JsonNode *list;
          gint n;
          if ((root = body_json (msg, &error)) == NULL)
            {
              g_autofree gchar *m = g_strdup_printf ("body: %s", error->message);
              reply (msg, 400, m);
              return TRUE;
            }
          list = json_object_get_member (json_node_get_object (root), "logins");
          if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
            {
              reply (msg, 400, "body: member logins: an array is needed");
              return TRUE;
            }
          n = mn_auth_logins_replace_json (r->logins, json_node_get_array (list), &error);
          if (n < 0)
            {
              reply (msg, 400, error->message);
              return TRUE;
            }
          g_message ("%d live login%s from the controller (admin API)", n, n == 1 ? "" : "s");
          reply (msg, 204, NULL);
        }
      else
        reply (msg, 405, "GET or PUT");
      return TRUE;
    }
  if (!g_str_has_prefix (path, "/logins/"))
    return FALSE;
  path += strlen ("/logins/");
  if (!mn_auth_login_id_valid (path))
    reply (msg, 400, "login id: not 32 lowercase hex digits");
  else if (g_str_equal (method, "PUT"))
    {
      if ((root = body_json (msg, &error)) == NULL ||
          !mn_auth_logins_put_json (r->logins, path, json_node_get_object (root), &error))
        {
          g_autofree gchar *m = g_strdup_printf ("body: %s", error->message);
          reply (msg, 400, m);
        }
      else
        reply (msg, 204, NULL);
    }
  else if (g_str_equal (method, "DELETE"))
    {
      if (mn_auth_logins_remove (r->logins, path))
        reply (msg, 204, NULL);
      else
        reply (msg, 404, "no such login");
    }
  else
    reply (msg, 405, "PUT or DELETE");
  return TRUE;
}

gboolean
mn_relay_logins_from_controller (MnRelay *r, JsonNode *root, GError **error)
{
  JsonNode *list;
  gint n;
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return TRUE;
  list = json_object_get_member (json_node_get_object (root), "logins");
  /* a controller from before server-side logins: the set stays as pushed */
  if (list == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (list))
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_CONTROLLER,
                           "member logins: an array is needed");
      return FALSE;
    }
  /* merged: a login pushed while the answer was on its way stays, a
   * logout pushed meanwhile is remembered and not brought back */
  n = mn_auth_logins_merge_json (r->logins, json_node_get_array (list), error);
  if (n < 0)
    return FALSE;
  g_message ("loaded %d live login%s from the controller", n, n == 1 ? "" : "s");
  return TRUE;
}

MnAuthLogins *
mn_relay_get_logins (MnRelay *r)
{
  return r->logins;
}

/* ---- mint-cookie: a login registered with the running relay ---- */

static gchar *
read_admin_secret (const gchar *path, GError **error)
{
  gchar *text = NULL;
  if (!mn_secure_path_check (path, 0600, MN_SECURE_REFUSE, error) ||
      !g_file_get_contents (path, &text, NULL, error))
    {
      g_prefix_error (error, "key admin_secret_file: ");
      return NULL;
    }
  return g_strstrip (text);
}

gchar *
mn_relay_mint_cookie (const MnRelayConfig *config, const gchar *user, gint64 lifetime,
                      GError **error)
{
  g_autoptr(MnAuthKey) key = mn_auth_key_load (config->cookie_key_file, error);
  g_autofree gchar *secret = NULL, *id = NULL, *url = NULL, *auth = NULL, *body = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) answer = NULL;
  const gchar *spec = config->admin_listen;

  if (key == NULL)
    {
      g_prefix_error (error, "key cookie_key_file: ");
      return NULL;
    }
  if (user == NULL || user[0] == '\0')
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                           "--user: a user name is needed");
      return NULL;
    }
  if (strpbrk (user, "\"\\") != NULL)
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                           "--user: no quotes or backslashes in a user name");
      return NULL;
    }
  if ((secret = read_admin_secret (config->admin_secret_file, error)) == NULL)
    return NULL;
  id = mn_auth_login_id_new ();
  if (g_str_has_prefix (spec, "unix:"))
    {
      g_autoptr(GSocketAddress) sa = g_unix_socket_address_new (spec + 5);
      session = soup_session_new_with_options ("remote-connectable", sa, "timeout", 10, NULL);
      url = g_strdup_printf ("http://localhost/logins/%s", id);
    }
  else
    {
      session = soup_session_new_with_options ("timeout", 10, NULL);
      url = g_strdup_printf ("http://%s/logins/%s", spec, id);
    }
  msg = soup_message_new ("PUT", url);
  if (msg == NULL)
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "key admin_listen: '%s' is not an address to reach", spec);
      return NULL;
    }
  auth = g_strdup_printf ("Bearer %s", secret);
  OPENSSL_cleanse (secret, strlen (secret));
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  body = g_strdup_printf ("{\"user\":\"%s\",\"expires\":%" G_GINT64_FORMAT "}", user,
                          g_get_real_time () / G_USEC_PER_SEC + lifetime);
  soup_message_set_request_body_from_bytes (msg, "application/json",
                                            g_bytes_new (body, strlen (body)));
  answer = soup_session_send_and_read (session, msg, NULL, error);
  if (answer == NULL)
    {
      g_prefix_error (error, "the running relay's admin API (%s): ", spec);
      return NULL;
    }
  if (soup_message_get_status (msg) != 204)
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_CONTROLLER,
                   "the running relay's admin API (%s) answered %u to PUT /logins/ID", spec,
                   soup_message_get_status (msg));
      return NULL;
    }
  return mn_auth_login_cookie (key, id);
}
