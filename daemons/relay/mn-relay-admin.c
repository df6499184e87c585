/* mn-relay-admin.c: the admin API (libsoup server on loopback TCP or a Unix
 * socket, bearer secret) and loading routes from the controller. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-log-limit.h"
#include "mn-relay-private.h"
#include "mn-relay-http.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define CONTROLLER_RETRY_SECONDS 5


/* The relay's one rate-limited log (mn-log-limit.h): lives as long as the
 * process. */
static MnLogLimit *
controller_log (void)
{
  static MnLogLimit *log = NULL;
  if (g_once_init_enter (&log))
    g_once_init_leave (&log, mn_log_limit_new (G_LOG_DOMAIN, 60));
  return log;
}

static void
reply_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree gchar *text = json_to_string (node, FALSE);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    text, strlen (text));
}

static void
reply_error (SoupServerMessage *msg, guint status, const gchar *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  g_autoptr(JsonNode) n = json_builder_get_root (b);
  reply_json (msg, status, n);
}

static void
put_route (MnRelay *r, SoupServerMessage *msg, const gchar *id)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const gchar *data = g_bytes_get_data (bytes, &len);

  if (!json_parser_load_from_data (parser, data != NULL ? data : "", (gssize) len, &error))
    {
      g_autofree gchar *m = g_strdup_printf ("body: %s", error->message);
      reply_error (msg, 400, m);
      return;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      reply_error (msg, 400, "body: not a JSON object");
      return;
    }
  g_autoptr(MnRelayRoute) route = mn_relay_route_new_from_json (id, json_node_get_object (root),
                                                                &error);
  if (route == NULL)
    {
      reply_error (msg, 400, error->message);
      return;
    }
  mn_relay_routes_put (r->routes, route);
  g_message ("route %s -> %s for %s (admin API)", route->id, route->upstream, route->owner);
  soup_server_message_set_status (msg, 204, NULL);
}

static void
admin_handler (SoupServer *server, SoupServerMessage *msg, const gchar *path,
               GHashTable *query, gpointer data)
{
  MnRelay *r = data;
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  if (!mn_relay_bearer_ok (r, soup_message_headers_get_one (h, "Authorization")))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer realm=\"minna-relay\"");
      reply_error (msg, 401, "missing or wrong bearer secret");
      return;
    }
  if (g_str_equal (path, "/metrics") && g_str_equal (method, "GET"))
    {
      g_autofree gchar *text = mn_relay_metrics_text (r);
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_COPY,
                                        text, strlen (text));
      return;
    }
  if (mn_relay_logins_admin (r, msg, method, path))
    return;
  if (g_str_equal (path, "/routes"))
    {
      if (!g_str_equal (method, "GET"))
        {
          reply_error (msg, 405, "GET only");
          return;
        }
      g_autoptr(JsonNode) n = mn_relay_routes_to_json (r->routes);
      reply_json (msg, 200, n);
      return;
    }
  if (g_str_has_prefix (path, "/routes/"))
    {
      const gchar *id = path + strlen ("/routes/");
      if (!mn_relay_session_id_valid (id))
        {
          reply_error (msg, 400, "route id: not 1-64 of A-Z a-z 0-9 - _");
          return;
        }
      if (g_str_equal (method, "PUT"))
        put_route (r, msg, id);
      else if (g_str_equal (method, "DELETE"))
        {
          if (mn_relay_routes_remove (r->routes, id))
            {
              g_message ("route %s removed (admin API)", id);
              soup_server_message_set_status (msg, 204, NULL);
            }
          else
            reply_error (msg, 404, "no such route");
        }
      else
        reply_error (msg, 405, "PUT or DELETE");
      return;
    }
  reply_error (msg, 404, "not found");
}

/* Largest admin request body: the whole set of logins the controller
 * sends (a few hundred bytes each) fits many times over. */
#define ADMIN_BODY_MAX (16 * 1024 * 1024)

/* Before a body is read: a request without the secret, with a body past
 * the limit or of unknown length is refused, and its body (libsoup reads
 * it before answering) is dropped as it comes, never kept: no local user
 * can make the relay hold a body it refuses. */
static void
admin_early (SoupServer *server, SoupServerMessage *msg, const gchar *path, GHashTable *query,
             gpointer data)
{
  MnRelay *r = data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupEncoding enc = soup_message_headers_get_encoding (h);
  guint status = 0;
  const gchar *why = NULL;
  if (!mn_relay_bearer_ok (r, soup_message_headers_get_one (h, "Authorization")))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer realm=\"minna-relay\"");
      status = 401;
      why = "missing or wrong bearer secret";
    }
  else if (enc == SOUP_ENCODING_CHUNKED || enc == SOUP_ENCODING_EOF)
    {
      status = 411;
      why = "a request body needs a Content-Length";
    }
  else if (enc == SOUP_ENCODING_CONTENT_LENGTH &&
           soup_message_headers_get_content_length (h) > ADMIN_BODY_MAX)
    {
      status = 413;
      why = "request body too large";
    }
  if (status == 0)
    return;
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  reply_error (msg, status, why);
}

gboolean
mn_relay_admin_start (MnRelay *r, GError **error)
{
  const gchar *spec = r->config->admin_listen;
  g_autoptr(GError) local = NULL;

  r->admin = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_early_handler (r->admin, NULL, admin_early, r, NULL);
  soup_server_add_handler (r->admin, NULL, admin_handler, r, NULL);
  if (g_str_has_prefix (spec, "unix:"))
    {
      const gchar *path = spec + 5;
      g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_DEFAULT, &local);
      g_autoptr(GSocketAddress) sa = g_unix_socket_address_new (path);
      g_unlink (path);
      /* Only the relay's own user may talk to it, secret or not. */
      mode_t old = umask (0077);
      gboolean ok = sock != NULL && g_socket_bind (sock, sa, FALSE, &local) &&
                    g_socket_listen (sock, &local);
      umask (old);
      if (ok && g_chmod (path, 0600) != 0)
        {
          int saved = errno;
          g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_LISTEN, "key admin_listen: %s: %s",
                       spec, g_strerror (saved));
          return FALSE;
        }
      if (!ok || !soup_server_listen_socket (r->admin, sock, 0, &local))
        {
          g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_LISTEN, "key admin_listen: %s: %s",
                       spec, local->message);
          return FALSE;
        }
      r->admin_socket_path = g_strdup (path);
      g_message ("admin API on %s", spec);
      return TRUE;
    }
  g_autofree gchar *host = NULL;
  guint16 port = 0;
  if (!mn_relay_parse_hostport (spec, &host, &port, error))
    {
      g_prefix_error (error, "key admin_listen: ");
      return FALSE;
    }
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string (host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (ia, port);
  if (!soup_server_listen (r->admin, sa, 0, &local))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_LISTEN, "key admin_listen: %s: %s",
                   spec, local->message);
      return FALSE;
    }
  GSList *uris = soup_server_get_uris (r->admin);
  if (uris != NULL)
    r->admin_port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_message ("admin API on %s (port %u)", spec, r->admin_port);
  return TRUE;
}

void
mn_relay_admin_stop (MnRelay *r)
{
  if (r->admin != NULL)
    {
      soup_server_disconnect (r->admin);
      g_clear_object (&r->admin);
    }
  if (r->admin_socket_path != NULL)
    {
      g_unlink (r->admin_socket_path);
      g_clear_pointer (&r->admin_socket_path, g_free);
    }
}

/* ---- routes from the controller ---- */

static void load_routes (MnRelay *r);

static gboolean
retry_load (gpointer data)
{
  MnRelay *r = data;
  load_routes (r);
  return G_SOURCE_REMOVE;
}

static void
loaded (GObject *source, GAsyncResult *res, gpointer data)
{
  MnRelay *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), res,
                                                              &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), res);
  guint status = msg != NULL ? soup_message_get_status (msg) : 0;
  if (body != NULL && status == 200)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      gsize len = 0;
      const gchar *data_ = g_bytes_get_data (body, &len);
      if (json_parser_load_from_data (parser, data_ != NULL ? data_ : "", (gssize) len, &error))
        {
          gint n = mn_relay_routes_load_json (r->routes, json_parser_get_root (parser), &error);
          if (n >= 0 && !mn_relay_logins_from_controller (r, json_parser_get_root (parser), &error))
            n = -1;
          if (n >= 0)
            {
              mn_log_limit_clear (controller_log (), "load-routes", "loading routes from the controller");
              g_message ("loaded %d route%s from the controller %s", n, n == 1 ? "" : "s",
                         r->config->controller_url);
              r->routes_loading = FALSE;
              return;
            }
        }
    }
  else if (error == NULL)
    g_set_error (&error, MN_RELAY_ERROR, MN_RELAY_ERROR_CONTROLLER, "HTTP status %u", status);
  /* while the controller is down this repeats every few seconds: logged
   * once, then counted (issue 20) */
  mn_log_limit_log (controller_log (), G_LOG_LEVEL_MESSAGE, "load-routes",
                    "cannot load routes from the controller %s/api/v1/routes: %s; retrying every %d s",
                    r->config->controller_url, error->message, CONTROLLER_RETRY_SECONDS);
  mn_relay_source_clear (&r->controller_retry);
  r->controller_retry = mn_relay_timeout_source (CONTROLLER_RETRY_SECONDS, retry_load, r, NULL);
}

static void
load_routes (MnRelay *r)
{
  if (r->config->controller_url[0] == '\0')
    {
      r->routes_loading = FALSE;
      return;
    }
  if (r->session == NULL)
    r->session = soup_session_new_with_options ("timeout", (guint) 30, "idle-timeout",
                                                (guint) 30, NULL);
  g_autofree gchar *url = g_strdup_printf ("%s/api/v1/routes", r->config->controller_url);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  if (msg == NULL)
    return;
  g_autofree gchar *auth = g_strdup_printf ("Bearer %s", r->admin_secret);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  soup_session_send_and_read_async (r->session, msg, G_PRIORITY_DEFAULT, NULL, loaded, r);
}

void
mn_relay_controller_load (MnRelay *r)
{
  r->routes_loading = r->config->controller_url[0] != '\0';
  load_routes (r);
}
