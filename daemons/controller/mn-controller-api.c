/* mn-controller-api.c: the portal's HTTP API: its answers, the login checks
 * every route makes, request bodies as JSON, and the dispatch to the
 * route files (mn-controller-api-*.c). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-admin.h"
#include "mn-controller-api-private.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/crypto.h>
#include <string.h>

/* ---- responses ------------------------------------------------------------ */

void
mn_api_reply_json (SoupServerMessage *msg, guint status, JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  gchar *text;
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

/* {"error": @text[, "reason": @reason][, "field": @field]}, the members
 * that are not NULL, in that order. */
static void
reply_error (SoupServerMessage *msg, guint status, const gchar *field, const gchar *reason,
             const gchar *text)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, text);
  if (reason != NULL)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
    }
  if (field != NULL)
    {
      json_builder_set_member_name (b, "field");
      json_builder_add_string_value (b, field);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  mn_api_reply_json (msg, status, root);
}

void
mn_api_reply_errorf (SoupServerMessage *msg, guint status, const gchar *field, const gchar *fmt, ...)
  G_GNUC_PRINTF (4, 5);

void
mn_api_reply_errorf (SoupServerMessage *msg, guint status, const gchar *field, const gchar *fmt, ...)
{
  g_autofree gchar *text = NULL;
  va_list ap;
  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  reply_error (msg, status, field, NULL, text);
}

/* {"error": @text, "reason": @reason, "field": @field (when not NULL)}: a
 * request refused with a code the portal acts on (issue 14: codes, not
 * message text). */
void
mn_api_reply_refusal (SoupServerMessage *msg, guint status, const gchar *field,
                      const gchar *reason, const gchar *text)
{
  reply_error (msg, status, field, reason, text);
}

/* A failure's HTTP status: the store's refusals are 507 (its disk is full)
 * or 503 (read-only, locked, failing): nothing was done, try again later. */
guint
mn_api_error_status (const GError *error)
{
  if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_FULL))
    return 507;
  if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_UNAVAILABLE) ||
      g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE))
    return 503;
  return 500;
}


/* ---- auth helpers ------------------------------------------------------- */

const gchar *
mn_api_cookie_header (SoupServerMessage *msg)
{
  return soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Cookie");
}

/* CSRF tokens are bound to the login, not to its cookie's spelling. */
gchar *
mn_api_csrf_for (MnControllerApi *api, const gchar *login_id)
{
  g_autofree gchar *data = g_strconcat ("csrf:", login_id, NULL);
  return mn_auth_hmac_hex (api->key, data);
}

/* The logged-in user, or NULL (and a 401 sent): the cookie must name a
 * login that is live in the store (mn-controller-logins.h). */
gchar *
mn_api_require_user (MnControllerApi *api, SoupServerMessage *msg, gchar **login_id)
{
  g_autofree gchar *why = NULL;
  gchar *user = mn_controller_logins_check (api->logins, mn_api_cookie_header (msg),
                                            mn_controller_manager_now (api->manager),
                                            login_id, &why);
  if (user == NULL)
    mn_api_reply_errorf (msg, 401, NULL, "%s", why);
  return user;
}

/* What the relay says about the client (the last X-Forwarded-For entry,
 * which it appends, and X-Forwarded-Host) is believed only from the relay:
 * a peer address in [server] trusted_proxies that also shows the relay's
 * proof (X-Minna-Relay-Proof, from the admin secret the two share).  Any
 * other local process on the same loopback address is just a client. */
gboolean
mn_api_from_relay (MnControllerApi *api, SoupServerMessage *msg)
{
  const gchar *remote = soup_server_message_get_remote_host (msg);
  const gchar *proof = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     MN_AUTH_RELAY_PROOF_HEADER);
  g_autoptr(GInetAddress) peer = remote != NULL ? g_inet_address_new_from_string (remote) : NULL;
  gboolean listed = FALSE;
  if (peer == NULL || api->relay_proof == NULL || proof == NULL ||
      strlen (proof) != strlen (api->relay_proof) ||
      CRYPTO_memcmp (proof, api->relay_proof, strlen (proof)) != 0)
    return FALSE;
  for (gsize i = 0; api->config->trusted_proxies != NULL && api->config->trusted_proxies[i]; i++)
    {
      g_autoptr(GInetAddress) a = g_inet_address_new_from_string (api->config->trusted_proxies[i]);
      listed = listed || (a != NULL && g_inet_address_equal (a, peer));
    }
  return listed;
}

gboolean
mn_api_origin_ok (MnControllerApi *api, SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *origin = soup_message_headers_get_one (h, "Origin");
  const gchar *hosts[] = { soup_message_headers_get_one (h, "Host"),
                           mn_api_from_relay (api, msg) ? soup_message_headers_get_one (h, "X-Forwarded-Host") : NULL };
  if (origin == NULL)
    return TRUE;
  if (api->config->allowed_origins &&
      g_strv_contains ((const gchar *const *) api->config->allowed_origins, origin))
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree gchar *same_https = NULL, *same_http = NULL;
      if (hosts[i] == NULL)
        continue;
      same_https = g_strconcat ("https://", hosts[i], NULL);
      same_http = g_strconcat ("http://", hosts[i], NULL);
      if (g_str_equal (origin, same_https) || g_str_equal (origin, same_http))
        return TRUE;
    }
  return FALSE;
}

/* For POST/DELETE: Origin, then the CSRF token of the login. */
gchar *
mn_api_require_state_change (MnControllerApi *api, SoupServerMessage *msg, gchar **login_id)
{
  g_autofree gchar *cookie = NULL;
  g_autofree gchar *user = NULL;
  g_autofree gchar *want = NULL;
  const gchar *got;
  if (!mn_api_origin_ok (api, msg))
    {
      mn_api_reply_errorf (msg, 403, NULL, "request from a foreign origin refused");
      return NULL;
    }
  user = mn_api_require_user (api, msg, &cookie);
  if (user == NULL)
    return NULL;
  want = mn_api_csrf_for (api, cookie);
  got = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                      "X-CSRF-Token");
  if (got == NULL || strlen (got) != strlen (want) || CRYPTO_memcmp (got, want, strlen (want)) != 0)
    {
      mn_api_reply_errorf (msg, 403, NULL, "missing or wrong X-CSRF-Token header");
      return NULL;
    }
  if (login_id != NULL)
    *login_id = g_steal_pointer (&cookie);
  return g_steal_pointer (&user);
}

JsonObject *
mn_api_parse_body (SoupServerMessage *msg, JsonParser *parser)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  if (body->length > MAX_BODY)
    {
      mn_api_reply_errorf (msg, 413, NULL, "request body over %d bytes", MAX_BODY);
      return NULL;
    }
  if (body->length == 0 || !json_parser_load_from_data (parser, body->data, body->length, &error))
    {
      mn_api_reply_errorf (msg, 400, NULL, "malformed JSON: %s", error ? error->message : "empty body");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      mn_api_reply_errorf (msg, 400, NULL, "malformed JSON: expected an object");
      return NULL;
    }
  return json_node_get_object (root);
}

/* Unknown members are an error naming the member. */
gboolean
mn_api_only_fields (SoupServerMessage *msg, JsonObject *o, const gchar *const *allowed)
{
  g_autoptr(GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        mn_api_reply_errorf (msg, 400, l->data, "unknown field '%s'", (const gchar *) l->data);
        return FALSE;
      }
  return TRUE;
}

const gchar *
mn_api_get_string (SoupServerMessage *msg, JsonObject *o, const gchar *field, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, field);
  if (n == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      mn_api_reply_errorf (msg, 400, field, "field '%s': expected a string", field);
      *bad = TRUE;
      return NULL;
    }
  return json_node_get_string (n);
}

/* ---- dispatch ------------------------------------------------------------------ */

static void
route_request (MnControllerApi *api, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  const gchar *method = soup_server_message_get_method (msg);
  gboolean get = g_str_equal (method, "GET"), post = g_str_equal (method, "POST");

  api->requests++;
  if (g_str_equal (path, "/metrics") && get)
    return mn_api_metrics_allowed (api, msg) ? mn_api_handle_metrics (api, msg) : (void) 0;
  /* a logged-in user who is not an admin gets the 403 page, not the page */
  if (g_str_equal (path, "/admin") && mn_controller_admin_page_refused (api, msg, method))
    return;
  if (!g_str_has_prefix (path, "/api/") && mn_api_serve_page (api, msg, method, path))
    return;
  if (!g_str_has_prefix (path, "/api/v1/"))
    {
      /* a browser gets the styled page with a way back, a program JSON */
      if (mn_controller_admin_error_page (api, msg, method, 404))
        return;
      return mn_api_reply_errorf (msg, 404, NULL, "no such path '%s'", path);
    }
  /* a NUL in a query value would cut it short where libsoup decodes it
   * ("wait=5%00x" read as "5"): ambiguous, refused */
  {
    const gchar *raw = g_uri_get_query (soup_server_message_get_uri (msg));
    if (raw != NULL && strstr (raw, "%00") != NULL)
      return mn_api_reply_errorf (msg, 400, "query", "the query holds a NUL byte (%%00)");
  }
  path += strlen ("/api/v1/");
  if (g_str_equal (path, "login") && post)
    return mn_api_handle_login (api, msg);
  if (g_str_equal (path, "logout") && post)
    return mn_api_handle_logout (api, msg);
  if (g_str_equal (path, "me") && get)
    return mn_api_handle_me (api, msg);
  if (g_str_equal (path, "apps") && get)
    return mn_api_handle_apps (api, msg);
  if (g_str_equal (path, "kernels") && get)
    return mn_api_handle_kernels (api, msg);
  if (g_str_has_prefix (path, "apps/") && g_str_has_suffix (path, "/form") && get)
    return mn_api_handle_app_form (api, msg, path + 5);
  if (g_str_equal (path, "sessions") && post)
    return mn_api_handle_launch (api, msg);
  if (g_str_equal (path, "sessions") && get)
    return mn_api_handle_list (api, msg, query);
  if (g_str_has_prefix (path, "sessions/") && strchr (path + 9, '/') == NULL && path[9] != '\0')
    return mn_api_handle_session (api, msg, method, path + 9);
  if (g_str_equal (path, "faults") && get)
    return mn_api_handle_faults (api, msg);
  if (g_str_has_prefix (path, "sessions/") && g_str_has_suffix (path, "/extend") && post &&
      strchr (path + 9, '/') == path + strlen (path) - strlen ("/extend"))
    {
      g_autofree gchar *id = g_strndup (path + 9, strlen (path + 9) - strlen ("/extend"));
      return mn_api_handle_extend (api, msg, id);
    }
  if (g_str_has_prefix (path, "sessions/") && g_str_has_suffix (path, "/hide") && post &&
      strchr (path + 9, '/') == path + strlen (path) - strlen ("/hide"))
    {
      g_autofree gchar *id = g_strndup (path + 9, strlen (path + 9) - strlen ("/hide"));
      return mn_api_handle_hide (api, msg, id);
    }
  if (g_str_equal (path, "routes") && get)
    return mn_api_handle_routes (api, msg);
  if (g_str_equal (path, "queue") && get)
    return mn_api_handle_queue (api, msg);
  if (g_str_equal (path, "usage") && get)
    return mn_api_handle_usage (api, msg, query);
  if (g_str_has_prefix (path, "admin/"))
    return mn_controller_admin_dispatch (api, msg, method, path + 6, query);
  mn_api_reply_errorf (msg, 404, NULL, "no %s /api/v1/%s", method, path);
}

/* What a client reads is stored: the sessions' changes and launches that
 * wait for their commit (group commit, mn-controller-commit.c) are
 * committed before the request reads them, and the changes it made (a
 * backend that submits inline) before the answer goes out.  A form's last
 * values wait (they are no promise), and so does a launch's row: its
 * answer waits for the commit, so that a lecture's launches share it. */
static void
dispatch (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  MnControllerApi *api = data;
  gboolean launch = g_str_equal (path, "/api/v1/sessions") &&
                    g_str_equal (soup_server_message_get_method (msg), "POST");
  /* a launch reads no other session: the launches before it stay in the
   * batch with it (each is answered once its row is committed) */
  mn_controller_manager_flush_sessions (api->manager, !launch);
  route_request (api, msg, path, query);
  mn_controller_manager_flush_sessions (api->manager, FALSE);
}

MnControllerApi *
mn_controller_api_new (const MnControllerConfig *config, MnControllerManager *manager,
                       MnAuthKey *key, const gchar *relay_secret)
{
  MnControllerApi *api = g_new0 (MnControllerApi, 1);
  api->config = (MnControllerConfig *) config;
  api->manager = mn_controller_manager_ref (manager);
  api->key = key;
  api->relay_secret = g_strdup (relay_secret);
  api->throttle = mn_login_throttle_new (config->login_max_delay, 3);
  api->addr_throttle = mn_login_throttle_new (config->login_max_delay, 20);
  api->relay = mn_controller_relay_new (config->relay_url, relay_secret);
  api->relay_proof = mn_auth_relay_proof (relay_secret);
  api->logins = mn_controller_logins_new (mn_controller_manager_get_store (manager), key,
                                          api->relay);
  /* the relay learns the live set now, or as soon as it answers */
  mn_controller_logins_sync (api->logins);
  api->kernels = mn_controller_kernels_new (config);
  api->forms = mn_form_sources_new (api->kernels);
  mn_form_sources_prefetch (api->forms, mn_controller_manager_get_apps (manager));
  api->waits = mn_api_waits_new (api);
  api->server = soup_server_new ("server-header", "minna-controller", NULL);
  soup_server_add_early_handler (api->server, NULL, mn_api_body_early, api, NULL);
  soup_server_add_handler (api->server, NULL, dispatch, api, NULL);
  return api;
}

void
mn_controller_api_free (MnControllerApi *api)
{
  if (api == NULL)
    return;
  g_clear_pointer (&api->waits, mn_api_waits_free);
  soup_server_disconnect (api->server);
  g_object_unref (api->server);
  mn_controller_manager_unref (api->manager);
  mn_auth_key_free (api->key);
  g_free (api->relay_secret);
  mn_login_throttle_free (api->throttle);
  mn_login_throttle_free (api->addr_throttle);
  mn_form_sources_free (api->forms);
  mn_controller_kernels_free (api->kernels);
  mn_controller_logins_free (api->logins);
  g_free (api->relay_proof);
  if (api->metrics_bearer != NULL)
    OPENSSL_cleanse (api->metrics_bearer, strlen (api->metrics_bearer));
  g_free (api->metrics_bearer);
  mn_controller_relay_free (api->relay);
  g_free (api);
}

gboolean
mn_controller_api_listen (MnControllerApi *api, const gchar *address, guint port,
                          guint *bound, GError **error)
{
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) sa = NULL;
  g_autoptr(GSocket) sock = NULL;
  GSList *uris;
  if (ia == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "[server] listen: '%s' is not an IP address", address);
      return FALSE;
    }
  sa = g_inet_socket_address_new (ia, (guint16) port);
  /* our own socket for a deep accept queue: a lecture hall presses Launch
   * within the same second */
  sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_STREAM,
                       G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return FALSE;
  g_socket_set_listen_backlog (sock, 1024);
  if (!g_socket_bind (sock, sa, TRUE, error) || !g_socket_listen (sock, error) ||
      !soup_server_listen_socket (api->server, sock, 0, error))
    return FALSE;
  uris = soup_server_get_uris (api->server);
  if (bound && uris)
    *bound = (guint) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return TRUE;
}

void
mn_controller_api_set_metrics_secret (MnControllerApi *api, const gchar *secret)
{
  if (api->metrics_bearer != NULL)
    OPENSSL_cleanse (api->metrics_bearer, strlen (api->metrics_bearer));
  g_free (api->metrics_bearer);
  api->metrics_bearer = secret != NULL ? g_strdup_printf ("Bearer %s", secret) : NULL;
}

/* ---- for the admin API (mn-controller-api-private.h) -------------------------- */

MnControllerManager *
mn_api_get_manager (MnControllerApi *api)
{
  return api->manager;
}

const MnControllerConfig *
mn_api_get_config (MnControllerApi *api)
{
  return api->config;
}


void
mn_api_reply_error (SoupServerMessage *msg, guint status, const gchar *field, const gchar *text)
{
  mn_api_reply_errorf (msg, status, field, "%s", text);
}



gchar *
mn_api_login_user (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *why = NULL;
  return mn_controller_logins_check (api->logins, mn_api_cookie_header (msg),
                                     mn_controller_manager_now (api->manager), NULL, &why);
}
