/* relay-harness.c: see relay-harness.h. */
#define G_LOG_DOMAIN "relay-test"

#include "relay-harness.h"
#include "mn-auth-cookie.h"
#include "mn-auth-logins.h"

#include <glib/gstdio.h>
#include <string.h>

/* Logins are server-side state (issue 15): every login a test makes is put
 * into every relay the harness runs, as the controller would push it. */
typedef struct {
  gchar  *id;
  gchar  *user;
  gint64  expires;
} TestLogin;

static GPtrArray *test_logins;   /* TestLogin, all made so far */
static GPtrArray *live_relays;   /* MnRelay, running */

static GThread      *server_thread;
static GMainContext *server_context;
static GMainLoop    *server_loop;
static SoupServer   *upstream;
static SoupServer   *controller;

typedef struct {
  GSourceFunc func;
  gpointer    data;
  GMutex      lock;
  GCond       cond;
  gboolean    done;
} Invocation;

static gpointer
server_main (gpointer data)
{
  g_main_context_push_thread_default (server_context);
  g_main_loop_run (server_loop);
  g_main_context_pop_thread_default (server_context);
  return NULL;
}

static gboolean
run_invocation (gpointer data)
{
  Invocation *inv = data;
  inv->func (inv->data);
  g_mutex_lock (&inv->lock);
  inv->done = TRUE;
  g_cond_signal (&inv->cond);
  g_mutex_unlock (&inv->lock);
  return G_SOURCE_REMOVE;
}

void
harness_invoke (GSourceFunc func, gpointer data)
{
  Invocation inv = { func, data };
  g_mutex_init (&inv.lock);
  g_cond_init (&inv.cond);
  g_main_context_invoke (server_context, run_invocation, &inv);
  g_mutex_lock (&inv.lock);
  while (!inv.done)
    g_cond_wait (&inv.cond, &inv.lock);
  g_mutex_unlock (&inv.lock);
  g_mutex_clear (&inv.lock);
  g_cond_clear (&inv.cond);
}

static void
write_private (const gchar *path, const gchar *text)
{
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
}

Harness *
harness_new (void)
{
  Harness *h = g_new0 (Harness, 1);
  h->dir = g_dir_make_tmp ("minna-relay-test-XXXXXX", NULL);
  g_assert_nonnull (h->dir);
  h->secret_path = g_build_filename (h->dir, "admin-secret", NULL);
  h->key_path = g_build_filename (h->dir, "cookie-key", NULL);
  h->secret = g_strdup ("test-admin-secret-0123456789");
  write_private (h->secret_path, h->secret);
  g_assert_true (mn_auth_key_create_file (h->key_path, NULL));
  if (server_thread == NULL)
    {
      server_context = g_main_context_new ();
      server_loop = g_main_loop_new (server_context, FALSE);
      server_thread = g_thread_new ("relay-servers", server_main, NULL);
    }
  return h;
}

static void
remove_tree (const gchar *path)
{
  g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
  const gchar *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *p = g_build_filename (path, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

void
harness_free (Harness *h)
{
  remove_tree (h->dir);
  g_free (h->dir);
  g_free (h->secret_path);
  g_free (h->key_path);
  g_free (h->secret);
  g_free (h);
}

typedef struct {
  Harness            *h;
  const gchar *const *overrides;
  MnRelay            *relay;
  GError             *error;
} StartRelay;

static gboolean
start_relay_cb (gpointer data)
{
  StartRelay *s = data;
  g_autoptr(MnRelayConfig) c = mn_relay_config_new ();
  g_autofree gchar *state = g_build_filename (s->h->dir, "state", NULL);
  mn_relay_config_set (c, "listen_https", "", NULL);
  mn_relay_config_set (c, "listen_http", "127.0.0.1:0", NULL);
  mn_relay_config_set (c, "admin_listen", "127.0.0.1:0", NULL);
  mn_relay_config_set (c, "admin_secret_file", s->h->secret_path, NULL);
  mn_relay_config_set (c, "cookie_key_file", s->h->key_path, NULL);
  mn_relay_config_set (c, "state_dir", state, NULL);
  /* RELAY_TEST_ACCESS_LOG=- shows the relay's access log while debugging. */
  mn_relay_config_set (c, "access_log", g_getenv ("RELAY_TEST_ACCESS_LOG") != NULL
                                        ? g_getenv ("RELAY_TEST_ACCESS_LOG") : "", NULL);
  for (gsize i = 0; s->overrides != NULL && s->overrides[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (s->overrides[i], "=", 2);
      if (!mn_relay_config_set (c, kv[0], kv[1] != NULL ? kv[1] : "", &s->error))
        return G_SOURCE_REMOVE;
    }
  s->relay = mn_relay_new (c, NULL, &s->error);
  if (s->relay != NULL && !mn_relay_start (s->relay, &s->error))
    g_clear_pointer (&s->relay, mn_relay_free);
  return G_SOURCE_REMOVE;
}

MnRelay *
harness_relay_start (Harness *h, const gchar *const *overrides, GError **error)
{
  StartRelay s = { h, overrides };
  harness_invoke (start_relay_cb, &s);
  if (s.error != NULL)
    g_propagate_error (error, s.error);
  if (s.relay != NULL)
    harness_relay_adopt (s.relay);
  return s.relay;
}

static gboolean
stop_relay_cb (gpointer data)
{
  mn_relay_free (data);
  return G_SOURCE_REMOVE;
}

void
harness_relay_stop (MnRelay *relay)
{
  if (relay != NULL && live_relays != NULL)
    g_ptr_array_remove (live_relays, relay);
  if (relay != NULL)
    harness_invoke (stop_relay_cb, relay);
}

/* ---- upstream ---- */

static void
upstream_handler (SoupServer *server, SoupServerMessage *msg, const gchar *path,
                  GHashTable *query, gpointer data)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *auth = soup_message_headers_get_one (h, "Authorization");
  const gchar *app = soup_message_headers_get_list (h, MN_AUTH_APP_TOKEN_HEADER);
  const gchar *cookie = soup_message_headers_get_list (h, "Cookie");
  const gchar *xff = soup_message_headers_get_one (h, "X-Forwarded-For");
  const gchar *xfp = soup_message_headers_get_one (h, "X-Forwarded-Proto");
  const gchar *xfh = soup_message_headers_get_one (h, "X-Forwarded-Host");
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  /* The token is reported as a digest, so a test can check that it never
   * comes back in clear. */
  g_autofree gchar *auth_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                                              auth != NULL ? auth : "", -1);
  g_autofree gchar *app_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                                             app != NULL ? app : "", -1);
  g_autofree gchar *text = g_strdup_printf (
    "path=%s\nmethod=%s\nauth_sha=%s\napp_sha=%s\ncookie=%s\nxff=%s\nxfp=%s\nxfh=%s\nbody=%" G_GINT64_FORMAT "\n",
    path, soup_server_message_get_method (msg), auth_sha, app_sha,
    cookie != NULL ? cookie : "", xff != NULL ? xff : "", xfp != NULL ? xfp : "",
    xfh != NULL ? xfh : "", body->length);
  soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "X-Upstream", "yes");
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
echo_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  soup_websocket_connection_send_message (ws, type, message);
}

static void
echo_closed (SoupWebsocketConnection *ws, gpointer data)
{
  g_object_unref (ws);
}

static void
websocket_handler (SoupServer *server, SoupServerMessage *msg, const gchar *path,
                   SoupWebsocketConnection *ws, gpointer data)
{
  g_object_ref (ws);
  soup_websocket_connection_set_max_incoming_payload_size (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (echo_message), NULL);
  g_signal_connect (ws, "closed", G_CALLBACK (echo_closed), NULL);
}

static guint16
server_port (SoupServer *s)
{
  GSList *uris = soup_server_get_uris (s);
  guint16 port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

static gboolean
upstream_start_cb (gpointer data)
{
  upstream = soup_server_new ("server-header", "test-upstream", NULL);
  soup_server_add_websocket_handler (upstream, "/s/ws1/echo", NULL, NULL, websocket_handler, NULL,
                                     NULL);
  soup_server_add_handler (upstream, NULL, upstream_handler, NULL, NULL);
  g_assert_true (soup_server_listen_local (upstream, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  *(guint16 *) data = server_port (upstream);
  return G_SOURCE_REMOVE;
}

guint16
harness_upstream_start (void)
{
  guint16 port = 0;
  harness_invoke (upstream_start_cb, &port);
  return port;
}

static gboolean
server_stop_cb (gpointer data)
{
  SoupServer **s = data;
  if (*s != NULL)
    soup_server_disconnect (*s);
  g_clear_object (s);
  return G_SOURCE_REMOVE;
}

void
harness_upstream_stop (void)
{
  harness_invoke (server_stop_cb, &upstream);
}

/* ---- controller stand-in ---- */

typedef struct {
  gchar *secret;
  gchar *routes;
} ControllerData;

static void
controller_data_free (gpointer p)
{
  ControllerData *d = p;
  g_free (d->secret);
  g_free (d->routes);
  g_free (d);
}

static void
controller_handler (SoupServer *server, SoupServerMessage *msg, const gchar *path,
                    GHashTable *query, gpointer data)
{
  ControllerData *d = data;
  if (g_str_equal (path, "/api/v1/routes"))
    {
      g_autofree gchar *want = g_strdup_printf ("Bearer %s", d->secret);
      const gchar *auth = soup_message_headers_get_one (
        soup_server_message_get_request_headers (msg), "Authorization");
      if (g_strcmp0 (auth, want) != 0)
        {
          soup_server_message_set_status (msg, 401, NULL);
          return;
        }
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                        d->routes, strlen (d->routes));
      return;
    }
  g_autofree gchar *page = g_strdup_printf ("portal page %s\n", path);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, page, strlen (page));
}

typedef struct {
  const gchar *secret, *routes;
  guint16      port;
} ControllerStart;

static gboolean
controller_start_cb (gpointer data)
{
  ControllerStart *s = data;
  ControllerData *d = g_new0 (ControllerData, 1);
  d->secret = g_strdup (s->secret);
  d->routes = g_strdup (s->routes);
  controller = soup_server_new ("server-header", "test-controller", NULL);
  soup_server_add_handler (controller, NULL, controller_handler, d, controller_data_free);
  g_assert_true (soup_server_listen_local (controller, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  s->port = server_port (controller);
  return G_SOURCE_REMOVE;
}

guint16
harness_controller_start (const gchar *secret, const gchar *routes_json)
{
  ControllerStart s = { secret, routes_json, 0 };
  harness_invoke (controller_start_cb, &s);
  return s.port;
}

void
harness_controller_stop (void)
{
  harness_invoke (server_stop_cb, &controller);
}

/* ---- clients ---- */

guint
harness_http (const gchar *method, const gchar *url, const gchar *const *headers,
              const gchar *body, gchar **response_body, SoupMessageHeaders **response_headers)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 30, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_assert_nonnull (msg);
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  for (gsize i = 0; headers != NULL && headers[i] != NULL; i += 2)
    soup_message_headers_append (soup_message_get_request_headers (msg), headers[i],
                                 headers[i + 1]);
  /* As a browser does on the site's own pages (the relay refuses
   * state-changing requests to apps from other origins). */
  SoupMessageHeaders *rq = soup_message_get_request_headers (msg);
  if (soup_message_headers_get_one (rq, "Origin") == NULL)
    {
      GUri *u = soup_message_get_uri (msg);
      g_autofree gchar *origin = g_strdup_printf ("%s://%s:%d", g_uri_get_scheme (u),
                                                  g_uri_get_host (u), g_uri_get_port (u));
      soup_message_headers_append (rq, "Origin", origin);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", b);
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = soup_session_send_and_read (session, msg, NULL, &error);
  if (out == NULL)
    {
      g_test_message ("%s %s: %s", method, url, error->message);
      return 0;
    }
  if (response_body != NULL)
    *response_body = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  if (response_headers != NULL)
    *response_headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  return soup_message_get_status (msg);
}

/* Logins are server-side state (issue 15): every login a test makes is put
 * into every relay the harness runs, as the controller would push it. */


static gboolean
put_logins_cb (gpointer data)
{
  MnRelay *relay = data;
  for (guint i = 0; test_logins != NULL && i < test_logins->len; i++)
    {
      TestLogin *l = g_ptr_array_index (test_logins, i);
      mn_auth_logins_put (mn_relay_get_logins (relay), l->id, l->user, l->expires);
    }
  return G_SOURCE_REMOVE;
}

void
harness_relay_adopt (MnRelay *relay)
{
  if (live_relays == NULL)
    live_relays = g_ptr_array_new ();
  g_ptr_array_add (live_relays, relay);
  harness_invoke (put_logins_cb, relay);
}

gchar *
harness_cookie (Harness *h, const gchar *user, gint64 lifetime)
{
  g_autoptr(MnAuthKey) key = mn_auth_key_load (h->key_path, NULL);
  TestLogin *l = g_new0 (TestLogin, 1);
  g_assert_nonnull (key);
  l->id = mn_auth_login_id_new ();
  l->user = g_strdup (user);
  l->expires = g_get_real_time () / G_USEC_PER_SEC + lifetime;
  if (test_logins == NULL)
    test_logins = g_ptr_array_new ();
  g_ptr_array_add (test_logins, l);
  for (guint i = 0; live_relays != NULL && i < live_relays->len; i++)
    harness_invoke (put_logins_cb, g_ptr_array_index (live_relays, i));
  g_autofree gchar *v = mn_auth_login_cookie (key, l->id);
  return g_strdup_printf ("%s=%s", MN_AUTH_COOKIE_NAME, v);
}

guint
harness_admin (MnRelay *relay, Harness *h, const gchar *method, const gchar *path,
               const gchar *body, gchar **response_body)
{
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u%s",
                                           mn_relay_get_port (relay, "admin"), path);
  g_autofree gchar *auth = g_strdup_printf ("Bearer %s", h->secret);
  const gchar *headers[] = { "Authorization", auth, NULL };
  return harness_http (method, url, headers, body, response_body, NULL);
}

guint
harness_raw (guint16 port, const gchar *request, gchar **response)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 20);
  g_autoptr(GSocketConnection) conn =
    g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (conn == NULL)
    return 0;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  if (!g_output_stream_write_all (out, request, strlen (request), NULL, NULL, NULL))
    return 0;
  GString *s = g_string_new (NULL);
  gchar buf[4096];
  for (;;)
    {
      gssize n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        break;
      g_string_append_len (s, buf, n);
      /* One answer is enough: stop at the end of a Content-Length body. */
      const gchar *end = strstr (s->str, "\r\n\r\n");
      const gchar *cl = end != NULL ? strstr (s->str, "Content-Length: ") : NULL;
      if (cl != NULL && cl < end &&
          s->len >= (gsize) (end + 4 - s->str) + g_ascii_strtoull (cl + 16, NULL, 10))
        break;
    }
  guint status = 0;
  if (g_str_has_prefix (s->str, "HTTP/1.1 ") && s->len >= 12)
    status = (guint) g_ascii_strtoull (s->str + 9, NULL, 10);
  if (response != NULL)
    *response = g_string_free (s, FALSE);
  else
    g_string_free (s, TRUE);
  return status;
}

static gint64
status_kb (const gchar *field)
{
  g_autofree gchar *text = NULL;
  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return -1;
  const gchar *p = strstr (text, field);
  return p != NULL ? g_ascii_strtoll (p + strlen (field), NULL, 10) : -1;
}

gint64
harness_rss_kb (void)
{
  return status_kb ("VmRSS:");
}

gint64
harness_peak_rss_kb (void)
{
  return status_kb ("VmHWM:");
}

void
harness_reset_peak_rss (void)
{
  g_file_set_contents ("/proc/self/clear_refs", "5", 1, NULL);
}
