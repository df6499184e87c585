/* mn-controller-relay.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-relay.h"
#include "mn-controller-config.h"
#include "mn-auth-cookie.h"
#include "mn-secure-file.h"

#include <libsoup/soup.h>
#include <errno.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct _MnControllerRelay {
  gchar       *url;
  gchar       *secret;
  SoupSession *session;
};

typedef struct {
  MnHttpDone done;
  gpointer   user_data;
  SoupMessage *msg;
  gboolean   any_answer;   /* probes: 2xx/3xx counts */
  gboolean   not_found_ok; /* a DELETE of what is not there is done */
} Call;

MnControllerRelay *
mn_controller_relay_new (const gchar *url, const gchar *secret)
{
  MnControllerRelay *relay = g_new0 (MnControllerRelay, 1);
  relay->url = url && *url ? g_strdup (url) : NULL;
  if (relay->url && g_str_has_suffix (relay->url, "/"))
    relay->url[strlen (relay->url) - 1] = '\0';
  relay->secret = g_strdup (secret);
  /* Only apps and the relay, at addresses minna gave them: never through a
   * proxy.  Left to the default (libproxy, one lookup at a time in GIO's
   * shared thread pool, each reading its configuration), a lecture's
   * hundred readiness probes waited for each other and every session
   * turned running at the same moment, a second after its app answered.
   * A simple resolver with no proxy answers "direct://" at once. */
  g_autoptr(GProxyResolver) direct = g_simple_proxy_resolver_new (NULL, NULL);
  relay->session = soup_session_new_with_options ("timeout", 10, "max-conns", 256,
                                                  "max-conns-per-host", 32,
                                                  "proxy-resolver", direct, NULL);
  return relay;
}

void
mn_controller_relay_free (MnControllerRelay *relay)
{
  if (relay == NULL)
    return;
  soup_session_abort (relay->session);
  g_object_unref (relay->session);
  g_free (relay->url);
  g_free (relay->secret);
  g_free (relay);
}

gboolean
mn_controller_relay_enabled (MnControllerRelay *relay)
{
  return relay->url != NULL;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *call = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root = NULL;
  guint status = soup_message_get_status (call->msg);
  gboolean ok;
  g_autofree gchar *message = NULL;

  if (body != NULL && g_bytes_get_size (body) > 0 &&
      json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                  g_bytes_get_size (body), NULL))
    root = json_parser_get_root (parser);
  ok = error == NULL && ((status >= 200 && status < (call->any_answer ? 400u : 300u)) ||
                         (call->not_found_ok && status == 404));
  if (error != NULL)
    message = g_strdup (error->message);
  else if (!ok)
    message = g_strdup_printf ("HTTP %u %s", status,
                               soup_message_get_reason_phrase (call->msg) ?: "");
  call->done (ok, message, root, call->user_data);
  g_object_unref (call->msg);
  g_free (call);
}

static void
relay_send (MnControllerRelay *relay, SoupMessage *msg, gboolean any_answer,
            MnHttpDone done, gpointer user_data)
{
  Call *call = g_new0 (Call, 1);
  call->done = done;
  call->user_data = user_data;
  call->msg = msg;
  call->any_answer = any_answer;
  soup_session_send_and_read_async (relay->session, msg, G_PRIORITY_DEFAULT, NULL,
                                    on_done, call);
}

static SoupMessage *
admin_message (MnControllerRelay *relay, const gchar *method, const gchar *path)
{
  g_autofree gchar *uri = g_strconcat (relay->url, path, NULL);
  g_autofree gchar *auth = g_strdup_printf ("Bearer %s", relay->secret ? relay->secret : "");
  SoupMessage *msg = soup_message_new (method, uri);
  if (msg != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  return msg;
}

static gboolean
idle_ok (gpointer data)
{
  Call *call = data;
  call->done (TRUE, NULL, NULL, call->user_data);
  g_free (call);
  return G_SOURCE_REMOVE;
}

static void
succeed_later (MnHttpDone done, gpointer user_data)
{
  Call *call = g_new0 (Call, 1);
  call->done = done;
  call->user_data = user_data;
  /* default priority: an idle source would starve behind a burst of requests */
  g_idle_add_full (G_PRIORITY_DEFAULT, idle_ok, call, NULL);
}

void
mn_controller_relay_put_route (MnControllerRelay *relay, const gchar *id,
                               const gchar *upstream, const gchar *owner,
                               const gchar *token, gint64 expires,
                               MnHttpDone done, gpointer user_data)
{
  g_autofree gchar *path = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  gsize len = 0;
  SoupMessage *msg;

  if (relay->url == NULL)
    return succeed_later (done, user_data);
  path = g_strdup_printf ("/routes/%s", id);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "upstream");
  json_builder_add_string_value (b, upstream);
  json_builder_set_member_name (b, "owner");
  json_builder_add_string_value (b, owner);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, token);
  json_builder_set_member_name (b, "expires");
  json_builder_add_int_value (b, expires);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  msg = admin_message (relay, "PUT", path);
  if (msg == NULL)
    return done (FALSE, "bad relay URL", NULL, user_data);
  soup_message_set_request_body_from_bytes (msg, "application/json",
                                            g_bytes_new_take (g_steal_pointer (&text), len));
  relay_send (relay, msg, FALSE, done, user_data);
}

void
mn_controller_relay_delete_route (MnControllerRelay *relay, const gchar *id,
                                  MnHttpDone done, gpointer user_data)
{
  g_autofree gchar *path = NULL;
  SoupMessage *msg;
  if (relay->url == NULL)
    return succeed_later (done, user_data);
  path = g_strdup_printf ("/routes/%s", id);
  msg = admin_message (relay, "DELETE", path);
  if (msg == NULL)
    return done (FALSE, "bad relay URL", NULL, user_data);
  relay_send (relay, msg, FALSE, done, user_data);
}

static void
send_json (MnControllerRelay *relay, const gchar *method, const gchar *path, JsonNode *root,
           gboolean not_found_ok, MnHttpDone done, gpointer user_data)
{
  SoupMessage *msg = admin_message (relay, method, path);
  if (msg == NULL)
    return done (FALSE, "bad relay URL", NULL, user_data);
  if (root != NULL)
    {
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      gsize len = 0;
      gchar *text;
      json_generator_set_root (gen, root);
      text = json_generator_to_data (gen, &len);
      soup_message_set_request_body_from_bytes (msg, "application/json",
                                                g_bytes_new_take (text, len));
    }
  {
    Call *call = g_new0 (Call, 1);
    call->done = done;
    call->user_data = user_data;
    call->msg = msg;
    call->not_found_ok = not_found_ok;
    soup_session_send_and_read_async (relay->session, msg, G_PRIORITY_DEFAULT, NULL,
                                      on_done, call);
  }
}

void
mn_controller_relay_put_login (MnControllerRelay *relay, const gchar *id, const gchar *user,
                               gint64 expires, MnHttpDone done, gpointer user_data)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *path = g_strdup_printf ("/logins/%s", id);
  if (relay->url == NULL)
    return succeed_later (done, user_data);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, user);
  json_builder_set_member_name (b, "expires");
  json_builder_add_int_value (b, expires);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (relay, "PUT", path, root, FALSE, done, user_data);
}

void
mn_controller_relay_delete_login (MnControllerRelay *relay, const gchar *id,
                                  MnHttpDone done, gpointer user_data)
{
  g_autofree gchar *path = g_strdup_printf ("/logins/%s", id);
  if (relay->url == NULL)
    return succeed_later (done, user_data);
  send_json (relay, "DELETE", path, NULL, TRUE, done, user_data);
}

void
mn_controller_relay_put_logins (MnControllerRelay *relay, JsonArray *array,
                                MnHttpDone done, gpointer user_data)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonObject) o = json_object_new ();
  if (relay->url == NULL)
    return succeed_later (done, user_data);
  json_object_set_array_member (o, "logins", json_array_ref (array));
  json_node_set_object (root, o);
  send_json (relay, "PUT", "/logins", root, FALSE, done, user_data);
}

void
mn_controller_relay_list_routes (MnControllerRelay *relay, MnHttpDone done, gpointer user_data)
{
  SoupMessage *msg;
  if (relay->url == NULL)
    return succeed_later (done, user_data);
  msg = admin_message (relay, "GET", "/routes");
  if (msg == NULL)
    return done (FALSE, "bad relay URL", NULL, user_data);
  relay_send (relay, msg, FALSE, done, user_data);
}

void
mn_controller_probe (MnControllerRelay *relay, const gchar *url, const gchar *token,
                     MnHttpDone done, gpointer user_data)
{
  SoupMessage *msg = soup_message_new ("GET", url);
  if (msg == NULL)
    return done (FALSE, "bad app URL", NULL, user_data);
  soup_message_headers_replace (soup_message_get_request_headers (msg), MN_AUTH_APP_TOKEN_HEADER,
                                token ? token : "");
  relay_send (relay, msg, TRUE, done, user_data);
}

/* Whether nothing listens on @host:@port, known at once: a non-blocking
 * connect to an address (not a name) that the kernel has refused by the
 * time it returns, as it does on this host (the connect itself says "in
 * progress"; a poll that does not wait finds the refusal).  A starting app
 * is looked for every 25 ms or more until it answers
 * (mn-controller-starts.c); a full HTTP probe of a port nobody listens on
 * yet costs the main loop a client connection's worth of work, and a
 * lecture makes hundreds of them (issue 14).  Anything else (a name, a
 * connect still in progress, one that succeeded) is left to the HTTP probe;
 * a connect that succeeded is closed without a byte sent, which an HTTP
 * server takes as a client that went away. */
gboolean
mn_controller_port_refuses (const gchar *host, guint port)
{
  g_autoptr(GInetAddress) addr = host ? g_inet_address_new_from_string (host) : NULL;
  g_autoptr(GSocketAddress) sa = NULL;
  struct sockaddr_storage ss;
  int fd, rc, err;

  if (addr == NULL || port == 0 || port > 65535)
    return FALSE;
  sa = g_inet_socket_address_new (addr, (guint16) port);
  if (!g_socket_address_to_native (sa, &ss, sizeof ss, NULL))
    return FALSE;
  fd = socket (ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  rc = connect (fd, (struct sockaddr *) &ss, g_socket_address_get_native_size (sa));
  err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS)
    {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      socklen_t len = sizeof err;
      if (poll (&p, 1, 0) != 1 || getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = 0;
    }
  close (fd);
  return err == ECONNREFUSED;
}

gchar *
mn_controller_read_secret (const gchar *path, GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr(GError) local = NULL;
  if (!mn_secure_path_check (path, 0600, MN_SECURE_REFUSE, &local))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG, "%s", local->message);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, NULL, &local))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "%s: %s", path, local->message);
      return NULL;
    }
  g_strstrip (data);
  if (strlen (data) < 16)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "%s: secret shorter than 16 characters", path);
      return NULL;
    }
  return g_steal_pointer (&data);
}
