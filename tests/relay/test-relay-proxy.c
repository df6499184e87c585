/* test-relay-proxy.c: minna-relay in front of real servers (libsoup HTTP
 * and WebSocket echo, a stand-in controller, a raw streaming upstream). */
#define G_LOG_DOMAIN "relay-test"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mn-auth-cookie.h"
#include "mn-auth-logins.h"
#include "relay-harness.h"

static Harness *h;
static MnRelay *relay;
static guint16  up_port;
static gchar   *alice, *bob;

#define TOKEN "tok-7f3a9c-secret"

static gchar *
relay_url (const gchar *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", mn_relay_get_port (relay, "http"), path);
}

static void
put_route (MnRelay *r, const gchar *id, guint16 port, const gchar *owner)
{
  g_autofree gchar *body = g_strdup_printf (
    "{\"upstream\": \"http://127.0.0.1:%u\", \"owner\": \"%s\", \"token\": \"%s\", "
    "\"expires\": 0}", port, owner, TOKEN);
  g_autofree gchar *path = g_strdup_printf ("/routes/%s", id);
  g_assert_cmpuint (harness_admin (r, h, "PUT", path, body, NULL), ==, 204);
}

static void
test_forwarding (void)
{
  put_route (relay, "abc", up_port, "alice");
  g_autofree gchar *url = relay_url ("/s/abc/api/status?x=1");
  g_autofree gchar *cookie = g_strdup_printf ("theme=dark; %s; _xsrf=2", alice);
  const gchar *headers[] = { "Cookie", cookie, "Authorization", "Basic Zm9vOmJhcg==",
                             "X-Forwarded-For", "10.9.8.7",
                             MN_AUTH_APP_TOKEN_HEADER, "forged-by-the-client", NULL };
  g_autofree gchar *body = NULL;
  g_autoptr(SoupMessageHeaders) rh = NULL;
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, &body, &rh), ==, 200);

  g_autofree gchar *want_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, TOKEN, -1);
  g_autofree gchar *want_auth = g_strdup_printf ("app_sha=%s\n", want_sha);
  g_autofree gchar *no_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "", -1);
  g_autofree gchar *no_auth = g_strdup_printf ("auth_sha=%s\n", no_sha);
  g_autofree gchar *want_host = g_strdup_printf ("xfh=127.0.0.1:%u\n",
                                                 mn_relay_get_port (relay, "http"));
  g_assert_nonnull (strstr (body, "path=/s/abc/api/status\n"));   /* prefix kept */
  g_assert_nonnull (strstr (body, want_auth));                     /* token added */
  g_assert_nonnull (strstr (body, no_auth));                       /* browser's Authorization dropped */
  g_assert_nonnull (strstr (body, "cookie=theme=dark; _xsrf=2\n")); /* portal cookie stripped */
  g_assert_nonnull (strstr (body, "xff=10.9.8.7, 127.0.0.1\n"));
  g_assert_nonnull (strstr (body, "xfp=http\n"));
  g_assert_nonnull (strstr (body, want_host));
  g_assert_null (strstr (body, TOKEN));
  g_assert_cmpstr (soup_message_headers_get_one (rh, "X-Upstream"), ==, "yes");
  SoupMessageHeadersIter it;
  const gchar *name, *value;
  soup_message_headers_iter_init (&it, rh);
  while (soup_message_headers_iter_next (&it, &name, &value))
    g_assert_null (strstr (value, TOKEN));

  /* A POST body and keep-alive through the same client connection. */
  g_autofree gchar *body2 = NULL;
  g_assert_cmpuint (harness_http ("POST", url, headers, "{\"a\": 1}", &body2, NULL), ==, 200);
  g_assert_nonnull (strstr (body2, "body=8\n"));
}

typedef struct {
  const gchar *name;
  const gchar *cookie_kind;
  guint        status;
} AuthCase;

static const AuthCase auth_cases[] = {
  { "owner", "alice", 200 },
  { "other-user", "bob", 403 },
  { "no-cookie", "none", 302 },
  { "forged", "forged", 302 },
  { "tampered", "tampered", 302 },
  { "expired", "expired", 302 },
  { "garbage", "garbage", 302 },
};

static gchar *
make_cookie (const gchar *kind)
{
  if (g_str_equal (kind, "alice"))
    return g_strdup (alice);
  if (g_str_equal (kind, "bob"))
    return g_strdup (bob);
  if (g_str_equal (kind, "expired"))
    return harness_cookie (h, "alice", -10);
  if (g_str_equal (kind, "garbage"))
    return g_strdup (MN_AUTH_COOKIE_NAME "=not.a.cookie");
  if (g_str_equal (kind, "forged"))
    {
      /* alice's live login, signed with another key */
      g_autoptr(MnAuthKey) other = mn_auth_key_new_from_data (
        (const guint8 *) "another-key-that-is-32-bytes-long!!", 35);
      const gchar *a = strchr (alice, '=') + 1;
      g_autofree gchar *id = g_strndup (a, (gsize) (strchr (a, '.') - a));
      g_autofree gchar *v = mn_auth_login_cookie (other, id);
      return g_strdup_printf ("%s=%s", MN_AUTH_COOKIE_NAME, v);
    }
  if (g_str_equal (kind, "tampered"))
    {
      /* bob's valid cookie with the login id swapped for alice's. */
      const gchar *a = strchr (alice, '=') + 1;
      const gchar *b = strchr (bob, '=') + 1;
      g_autofree gchar *id = g_strndup (a, (gsize) (strchr (a, '.') - a));
      return g_strdup_printf ("%s=%s%s", MN_AUTH_COOKIE_NAME, id, strchr (b, '.'));
    }
  return NULL;
}

static void
test_auth (gconstpointer data)
{
  const AuthCase *c = data;
  put_route (relay, "own1", up_port, "alice");
  g_autofree gchar *cookie = make_cookie (c->cookie_kind);
  g_autofree gchar *url = relay_url ("/s/own1/tree?a=b");
  const gchar *headers[] = { "Cookie", cookie, NULL };
  g_autoptr(SoupMessageHeaders) rh = NULL;
  g_autofree gchar *body = NULL;
  guint st = harness_http ("GET", url, cookie != NULL ? headers : NULL, NULL, &body, &rh);
  g_assert_cmpuint (st, ==, c->status);
  if (st == 302)
    g_assert_cmpstr (soup_message_headers_get_one (rh, "Location"), ==,
                     "/login?next=/s/own1/tree%3Fa%3Db");
  if (st != 200)
    g_assert_null (soup_message_headers_get_one (rh, "X-Upstream"));
}

static const gchar *const bad_paths[] = {
  "/s/abc/../own1/", "/s/abc/%2e%2e/own1/", "/s/abc/%2E%2e/x", "/s/abc%2fown1/",
  "/s/abc/x%2Fy", "/s/..%2f/", "/s/%2e%2e/", "/s/abc/./x", "/s/abc/x/..",
  "/s/abc\\x/", "/s/abc/%5c..%5c/", "/s/abc/%00/", "/s/a.b/", "/s//", "/s/../etc/passwd",
  "/../s/abc/", "http://evil/s/abc/",
};

static void
test_path_tricks (gconstpointer data)
{
  const gchar *path = data;
  g_autofree gchar *req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
                                           "Connection: close\r\n\r\n", path, alice);
  g_autofree gchar *resp = NULL;
  guint st = harness_raw (mn_relay_get_port (relay, "http"), req, &resp);
  g_assert_cmpuint (st, ==, 400);
  g_assert_null (strstr (resp, "X-Upstream"));
}

static void
test_add_slash (void)
{
  g_autofree gchar *req = g_strdup_printf ("GET /s/abc?x=1 HTTP/1.1\r\nHost: x\r\n"
                                           "Connection: close\r\n\r\n");
  g_autofree gchar *resp = NULL;
  g_assert_cmpuint (harness_raw (mn_relay_get_port (relay, "http"), req, &resp), ==, 301);
  g_assert_nonnull (strstr (resp, "Location: /s/abc/?x=1\r\n"));
}

static void
test_route_removed (void)
{
  put_route (relay, "gone1", up_port, "alice");
  g_autofree gchar *url = relay_url ("/s/gone1/");
  const gchar *headers[] = { "Cookie", alice, NULL };
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, NULL, NULL), ==, 200);
  g_assert_cmpuint (harness_admin (relay, h, "DELETE", "/routes/gone1", NULL, NULL), ==, 204);
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, NULL, NULL), ==, 404);
  g_assert_cmpuint (harness_admin (relay, h, "DELETE", "/routes/gone1", NULL, NULL), ==, 404);
}

static void
test_upstream_down (void)
{
  /* A port that was just free: nothing listens there. */
  g_autoptr(GSocketListener) l = g_socket_listener_new ();
  guint16 dead = g_socket_listener_add_any_inet_port (l, NULL, NULL);
  g_socket_listener_close (l);
  put_route (relay, "down1", dead, "alice");
  g_autofree gchar *url = relay_url ("/s/down1/lab");
  const gchar *headers[] = { "Cookie", alice, NULL };
  g_autofree gchar *body = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, &body, NULL), ==, 502);
  g_assert_nonnull (strstr (body, "session is not answering"));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 5 * G_USEC_PER_SEC);
}

static void
test_admin (void)
{
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/routes",
                                           mn_relay_get_port (relay, "admin"));
  g_assert_cmpuint (harness_http ("GET", url, NULL, NULL, NULL, NULL), ==, 401);
  const gchar *wrong[] = { "Authorization", "Bearer not-the-secret-at-all", NULL };
  g_assert_cmpuint (harness_http ("GET", url, wrong, NULL, NULL, NULL), ==, 401);
  g_autofree gchar *put_url = g_strdup_printf ("http://127.0.0.1:%u/routes/x1",
                                               mn_relay_get_port (relay, "admin"));
  g_assert_cmpuint (harness_http ("PUT", put_url, NULL, "{}", NULL, NULL), ==, 401);

  put_route (relay, "listed", up_port, "carol");
  g_autofree gchar *list = NULL;
  g_assert_cmpuint (harness_admin (relay, h, "GET", "/routes", NULL, &list), ==, 200);
  g_assert_nonnull (strstr (list, "\"id\":\"listed\""));
  g_assert_nonnull (strstr (list, "\"last_activity\":"));
  g_assert_null (strstr (list, TOKEN));

  g_autofree gchar *err = NULL;
  g_assert_cmpuint (harness_admin (relay, h, "PUT", "/routes/bad1",
                                   "{\"upstream\": \"ftp://x\", \"owner\": \"a\"}", &err), ==, 400);
  g_assert_nonnull (strstr (err, "upstream"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (harness_admin (relay, h, "PUT", "/routes/bad2",
                                   "{\"upstream\": \"http://127.0.0.1:9\"}", &err), ==, 400);
  g_assert_nonnull (strstr (err, "owner"));

  g_autofree gchar *metrics = NULL;
  g_assert_cmpuint (harness_admin (relay, h, "GET", "/metrics", NULL, &metrics), ==, 200);
  g_assert_nonnull (strstr (metrics, "minna_relay_requests_total{code=\"2xx\"}"));
  g_assert_nonnull (strstr (metrics, "minna_relay_request_duration_seconds_bucket{le=\"+Inf\"}"));
  g_assert_nonnull (strstr (metrics, "minna_relay_upstream_errors_total"));
  g_assert_nonnull (strstr (metrics, "minna_relay_websockets_open"));
}

static void
test_admin_unix_socket (void)
{
  g_autofree gchar *sock = g_build_filename (h->dir, "admin.sock", NULL);
  g_autofree gchar *spec = g_strdup_printf ("admin_listen=unix:%s", sock);
  const gchar *over[] = { spec, NULL };
  g_autoptr(GError) error = NULL;
  MnRelay *r = harness_relay_start (h, over, &error);
  g_assert_no_error (error);
  GStatBuf st;
  g_assert_cmpint (g_stat (sock, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);

  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new (sock);
  g_autoptr(SoupSession) session = soup_session_new_with_options ("remote-connectable", addr,
                                                                  NULL);
  for (gint with_secret = 0; with_secret < 2; with_secret++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", "http://localhost/routes");
      g_autofree gchar *auth = g_strdup_printf ("Bearer %s", h->secret);
      if (with_secret)
        soup_message_headers_append (soup_message_get_request_headers (msg), "Authorization",
                                     auth);
      g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (msg), ==, with_secret ? 200 : 401);
    }
  harness_relay_stop (r);
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));
}

static void
test_secret_file_mode (void)
{
  g_assert_cmpint (g_chmod (h->secret_path, 0644), ==, 0);
  g_autoptr(GError) error = NULL;
  MnRelay *r = harness_relay_start (h, NULL, &error);
  g_assert_cmpint (g_chmod (h->secret_path, 0600), ==, 0);
  g_assert_null (r);
  g_assert_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_SECRET_FILE);
  g_assert_nonnull (strstr (error->message, "readable by others"));
}

/* ---- WebSocket ---- */

typedef struct {
  GMainLoop *loop;
  SoupWebsocketConnection *ws;
  GBytes *got;
  GError *error;
} WsState;

static void
ws_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  WsState *s = data;
  s->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &s->error);
  g_main_loop_quit (s->loop);
}

static void
ws_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  WsState *s = data;
  g_clear_pointer (&s->got, g_bytes_unref);
  s->got = g_bytes_ref (message);
  g_main_loop_quit (s->loop);
}

static gboolean
ws_timeout (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Runs @loop until something quits it, or @seconds pass. */
static void
run_until (GMainLoop *loop, GMainContext *ctx, guint seconds)
{
  GSource *t = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (t, ws_timeout, loop, NULL);
  g_source_attach (t, ctx);
  g_main_loop_run (loop);
  g_source_destroy (t);
  g_source_unref (t);
}

static guint64
metric (const gchar *name)
{
  g_autofree gchar *m = NULL;
  harness_admin (relay, h, "GET", "/metrics", NULL, &m);
  g_autofree gchar *needle = g_strdup_printf ("\n%s ", name);
  const gchar *p = strstr (m, needle);
  g_assert_nonnull (p);
  return g_ascii_strtoull (p + strlen (needle), NULL, 10);
}

static gint64
route_activity (const gchar *id)
{
  g_autofree gchar *list = NULL;
  g_assert_cmpuint (harness_admin (relay, h, "GET", "/routes", NULL, &list), ==, 200);
  g_autofree gchar *needle = g_strdup_printf ("\"id\":\"%s\"", id);
  const gchar *p = strstr (list, needle);
  g_assert_nonnull (p);
  p = strstr (p, "\"last_activity\":");
  g_assert_nonnull (p);
  return g_ascii_strtoll (p + strlen ("\"last_activity\":"), NULL, 10);
}

static void
test_websocket_echo (void)
{
  put_route (relay, "ws1", up_port, "alice");
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  WsState s = { g_main_loop_new (ctx, FALSE) };
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree gchar *url = g_strdup_printf ("ws://127.0.0.1:%u/s/ws1/echo",
                                           mn_relay_get_port (relay, "http"));
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  soup_message_headers_append (soup_message_get_request_headers (msg), "Cookie", alice);
  g_autofree gchar *origin = g_strdup_printf ("http://127.0.0.1:%u",
                                              mn_relay_get_port (relay, "http"));
  soup_session_websocket_connect_async (session, msg, origin, NULL, G_PRIORITY_DEFAULT, NULL,
                                        ws_connected, &s);
  g_main_loop_run (s.loop);
  g_assert_no_error (s.error);
  g_assert_nonnull (s.ws);
  soup_websocket_connection_set_max_incoming_payload_size (s.ws, 0);
  g_signal_connect (s.ws, "message", G_CALLBACK (ws_message), &s);
  g_assert_cmpuint (metric ("minna_relay_websockets_open"), ==, 1);

  /* WebSocket frames count as activity on the route (for idle culling). */
  gint64 before = route_activity ("ws1");
  g_usleep (1100 * 1000);
  soup_websocket_connection_send_text (s.ws, "hello through the relay");
  run_until (s.loop, ctx, 10);
  g_assert_cmpint (route_activity ("ws1"), >, before);
  g_assert_nonnull (s.got);
  g_assert_cmpmem (g_bytes_get_data (s.got, NULL), g_bytes_get_size (s.got),
                   "hello through the relay", 23);

  /* A 4 MB message: the relay itself sets no message size limit. */
  gsize big = 4 * 1024 * 1024;
  g_autofree guint8 *payload = g_malloc (big);
  for (gsize i = 0; i < big; i++)
    payload[i] = (guint8) (i * 7);
  soup_websocket_connection_send_binary (s.ws, payload, big);
  run_until (s.loop, ctx, 30);
  g_assert_cmpmem (g_bytes_get_data (s.got, NULL), g_bytes_get_size (s.got), payload, big);

  soup_websocket_connection_close (s.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  while (soup_websocket_connection_get_state (s.ws) != SOUP_WEBSOCKET_STATE_CLOSED)
    g_main_context_iteration (ctx, TRUE);
  g_clear_object (&s.ws);
  g_clear_pointer (&s.got, g_bytes_unref);
  g_main_loop_unref (s.loop);
  g_main_context_pop_thread_default (ctx);
  for (gint i = 0; i < 50 && metric ("minna_relay_websockets_open") != 0; i++)
    g_usleep (20000);
  g_assert_cmpuint (metric ("minna_relay_websockets_open"), ==, 0);
}

/* ---- large bodies, through a raw upstream that streams ---- */

typedef struct {
  GSocketListener *listener;
  guint16          port;
  GThread         *thread;
} RawUpstream;

static gboolean
read_head_line (GInputStream *in, GString *head)
{
  gchar ch;
  while (!g_str_has_suffix (head->str, "\r\n\r\n"))
    {
      if (g_input_stream_read (in, &ch, 1, NULL, NULL) != 1)
        return FALSE;
      g_string_append_c (head, ch);
    }
  return TRUE;
}

static gpointer
raw_upstream_main (gpointer data)
{
  RawUpstream *u = data;
  for (;;)
    {
      g_autoptr(GSocketConnection) c = g_socket_listener_accept (u->listener, NULL, NULL, NULL);
      if (c == NULL)
        return NULL;
      GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c));
      GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (c));
      g_autoptr(GString) head = g_string_new (NULL);
      if (!read_head_line (in, head))
        continue;
      if (g_str_equal (head->str, "QUIT\r\n\r\n"))
        return NULL;
      const gchar *cl = strstr (head->str, "Content-Length: ");
      guint64 want = cl != NULL ? g_ascii_strtoull (cl + 16, NULL, 10) : 0, got = 0;
      g_autofree guint8 *buf = g_malloc (65536);
      while (got < want)
        {
          gssize n = g_input_stream_read (in, buf, MIN (65536, want - got), NULL, NULL);
          if (n <= 0)
            break;
          got += (guint64) n;
        }
      if (strstr (head->str, "?hang") != NULL)
        {
          /* An app that accepted the request and went quiet. */
          g_usleep (3 * G_USEC_PER_SEC);
          continue;
        }
      guint64 send = 0;
      const gchar *q = strstr (head->str, "?send=");
      if (q != NULL)
        send = g_ascii_strtoull (q + 6, NULL, 10);
      /* ?lie: close without saying so, as an upstream whose keep-alive
       * timer ran out does; the relay has pooled the connection by then. */
      gboolean lie = strstr (head->str, "?lie") != NULL;
      g_autofree gchar *reply = g_strdup_printf (
        "HTTP/1.1 200 OK\r\nContent-Length: %" G_GUINT64_FORMAT "\r\nX-Received: %"
        G_GUINT64_FORMAT "\r\n%s\r\n", send, got, lie ? "" : "Connection: close\r\n");
      g_output_stream_write_all (out, reply, strlen (reply), NULL, NULL, NULL);
      memset (buf, 'z', 65536);
      while (send > 0)
        {
          gsize n = (gsize) MIN (send, 65536);
          if (!g_output_stream_write_all (out, buf, n, NULL, NULL, NULL))
            break;
          send -= n;
        }
    }
}

static void
raw_upstream_start (RawUpstream *u)
{
  u->listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) eff = NULL;
  g_assert_true (g_socket_listener_add_address (u->listener, sa, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &eff, NULL));
  u->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (eff));
  u->thread = g_thread_new ("raw-upstream", raw_upstream_main, u);
}

static void
raw_upstream_stop (RawUpstream *u)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) q = g_socket_client_connect_to_host (client, "127.0.0.1", u->port,
                                                                    NULL, NULL);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (q)), "QUIT\r\n\r\n", 8,
                             NULL, NULL, NULL);
  g_thread_join (u->thread);
  g_socket_listener_close (u->listener);
  g_object_unref (u->listener);
}

/* The upstream closed a kept-alive connection the relay had pooled: the
 * next request on it fails at the first read and is sent again on a fresh
 * connection, the client sees nothing of it. */
static void
test_stale_pooled_connection (void)
{
  RawUpstream u = { 0 };
  raw_upstream_start (&u);
  put_route (relay, "stale", u.port, "alice");
  g_autofree gchar *url = relay_url ("/s/stale/x?lie");
  const gchar *headers[] = { "Cookie", alice, NULL };
  for (gint i = 0; i < 3; i++)
    {
      g_autoptr(SoupMessageHeaders) rh = NULL;
      g_assert_cmpuint (harness_http ("GET", url, headers, NULL, NULL, &rh), ==, 200);
      g_assert_cmpstr (soup_message_headers_get_one (rh, "X-Received"), ==, "0");
      g_usleep (100000);
    }
  raw_upstream_stop (&u);
}

/* An upstream that takes the request and never answers: 502, no hang. */
static void
test_upstream_silent (void)
{
  RawUpstream u = { 0 };
  raw_upstream_start (&u);
  const gchar *over[] = { "upstream_timeout=1", NULL };
  g_autoptr(GError) error = NULL;
  MnRelay *r = harness_relay_start (h, over, &error);
  g_assert_no_error (error);
  put_route (r, "quiet", u.port, "alice");
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/s/quiet/?hang",
                                           mn_relay_get_port (r, "http"));
  const gchar *headers[] = { "Cookie", alice, NULL };
  gint64 t0 = g_get_monotonic_time ();
  g_autofree gchar *body = NULL;
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, &body, NULL), ==, 502);
  g_assert_nonnull (strstr (body, "not answering"));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 3 * G_USEC_PER_SEC);
  harness_relay_stop (r);
  raw_upstream_stop (&u);
}

#define BIG ((guint64) 512 * 1024 * 1024)

static void
test_large_body (void)
{
  RawUpstream u = { 0 };
  raw_upstream_start (&u);
  put_route (relay, "big", u.port, "alice");

  g_autoptr(GSocketClient) client = g_socket_client_new ();
  gint64 rss0 = harness_rss_kb ();
  harness_reset_peak_rss ();

  /* Upload. */
  {
    g_autoptr(GSocketConnection) c = g_socket_client_connect_to_host (
      client, "127.0.0.1", mn_relay_get_port (relay, "http"), NULL, NULL);
    g_assert_nonnull (c);
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (c));
    GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c));
    g_autofree gchar *req = g_strdup_printf (
      "PUT /s/big/upload HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nCookie: %s\r\nContent-Length: %"
      G_GUINT64_FORMAT "\r\n\r\n", alice, BIG);
    g_assert_true (g_output_stream_write_all (out, req, strlen (req), NULL, NULL, NULL));
    g_autofree guint8 *buf = g_malloc0 (65536);
    for (guint64 sent = 0; sent < BIG; sent += 65536)
      g_assert_true (g_output_stream_write_all (out, buf, 65536, NULL, NULL, NULL));
    g_autoptr(GString) head = g_string_new (NULL);
    g_assert_true (read_head_line (in, head));
    g_autofree gchar *want = g_strdup_printf ("X-Received: %" G_GUINT64_FORMAT "\r\n", BIG);
    g_assert_nonnull (strstr (head->str, want));
  }
  /* Download. */
  {
    g_autoptr(GSocketConnection) c = g_socket_client_connect_to_host (
      client, "127.0.0.1", mn_relay_get_port (relay, "http"), NULL, NULL);
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (c));
    GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c));
    g_autofree gchar *req = g_strdup_printf (
      "GET /s/big/download?send=%" G_GUINT64_FORMAT " HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n",
      BIG, alice);
    g_assert_true (g_output_stream_write_all (out, req, strlen (req), NULL, NULL, NULL));
    g_autoptr(GString) head = g_string_new (NULL);
    g_assert_true (read_head_line (in, head));
    g_assert_true (g_str_has_prefix (head->str, "HTTP/1.1 200"));
    g_autofree guint8 *buf = g_malloc (65536);
    guint64 got = 0;
    while (got < BIG)
      {
        gssize n = g_input_stream_read (in, buf, 65536, NULL, NULL);
        g_assert_cmpint (n, >, 0);
        got += (guint64) n;
      }
    g_assert_cmpuint (got, ==, BIG);
  }
  gint64 peak = harness_peak_rss_kb ();
  g_test_message ("RSS before %" G_GINT64_FORMAT " kB, peak during 2 x 512 MB %" G_GINT64_FORMAT
                  " kB", rss0, peak);
  /* Test client, relay and upstream share this process: all of them
   * together stay far below the body size. */
  g_assert_cmpint (peak - rss0, <, 32 * 1024);
  raw_upstream_stop (&u);
}

/* ---- limits ---- */

static void
test_header_too_large (void)
{
  GString *req = g_string_new ("GET /s/abc/ HTTP/1.1\r\nHost: x\r\n");
  for (gint i = 0; i < 400; i++)
    g_string_append_printf (req, "X-Filler-%d: %s\r\n", i, "0123456789012345678901234567890123456789");
  g_string_append (req, "\r\n");
  g_autofree gchar *resp = NULL;
  g_assert_cmpuint (harness_raw (mn_relay_get_port (relay, "http"), req->str, &resp), ==, 431);
  g_string_free (req, TRUE);
}

static void
test_slow_client (void)
{
  const gchar *over[] = { "read_timeout=1", NULL };
  g_autoptr(GError) error = NULL;
  MnRelay *r = harness_relay_start (h, over, &error);
  g_assert_no_error (error);
  gint64 t0 = g_get_monotonic_time ();
  g_autofree gchar *resp = NULL;
  /* Half a head, never finished. */
  guint st = harness_raw (mn_relay_get_port (r, "http"), "GET /s/abc/ HTTP/1.1\r\nHost: x\r\n",
                          &resp);
  g_assert_cmpuint (st, ==, 408);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 4 * G_USEC_PER_SEC);
  harness_relay_stop (r);
}

static void
test_max_connections (void)
{
  const gchar *over[] = { "max_connections=2", NULL };
  g_autoptr(GError) error = NULL;
  MnRelay *r = harness_relay_start (h, over, &error);
  g_assert_no_error (error);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  guint16 port = mn_relay_get_port (r, "http");
  g_autoptr(GSocketConnection) a = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  g_autoptr(GSocketConnection) b = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  for (gint i = 0; i < 100 && mn_relay_get_n_connections (r) < 2; i++)
    g_usleep (10000);
  g_autofree gchar *resp = NULL;
  g_assert_cmpuint (harness_raw (port, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n", &resp), ==, 503);
  harness_relay_stop (r);
}

/* ---- controller: portal pages and routes restored at a restart ---- */

static void
test_restart_from_controller (void)
{
  g_autofree gchar *routes = g_strdup_printf (
    "{\"routes\": [{\"id\": \"ctl1\", \"upstream\": \"http://127.0.0.1:%u\", "
    "\"owner\": \"alice\", \"token\": \"%s\", \"expires\": %" G_GINT64_FORMAT "}, "
    "{\"id\": \"bad id\", \"upstream\": \"http://127.0.0.1:1\", \"owner\": \"x\"}]}",
    up_port, TOKEN, g_get_real_time () / G_USEC_PER_SEC + 3600);
  guint16 cport = harness_controller_start (h->secret, routes);
  g_autofree gchar *curl = g_strdup_printf ("controller_url=http://127.0.0.1:%u", cport);
  const gchar *over[] = { curl, NULL };

  for (gint round = 0; round < 2; round++)
    {
      g_autoptr(GError) error = NULL;
      MnRelay *r = harness_relay_start (h, over, &error);
      g_assert_no_error (error);
      g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/s/ctl1/x",
                                               mn_relay_get_port (r, "http"));
      const gchar *headers[] = { "Cookie", alice, NULL };
      guint st = 0;
      for (gint i = 0; i < 100; i++)
        {
          st = harness_http ("GET", url, headers, NULL, NULL, NULL);
          if (st != 503)
            break;
          g_usleep (20000);
        }
      g_assert_cmpuint (st, ==, 200);
      /* Portal pages go to the controller, cookie and all. */
      g_autofree gchar *purl = g_strdup_printf ("http://127.0.0.1:%u/login?next=/s/ctl1/",
                                                mn_relay_get_port (r, "http"));
      g_autofree gchar *page = NULL;
      g_assert_cmpuint (harness_http ("GET", purl, NULL, NULL, &page, NULL), ==, 200);
      g_assert_cmpstr (page, ==, "portal page /login\n");
      harness_relay_stop (r);
    }
  harness_controller_stop ();
}

/* ---- TLS ---- */

static gboolean
accept_any (SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer d)
{
  return TRUE;
}

static void
test_tls_self_signed (void)
{
  const gchar *over[] = { "listen_https=127.0.0.1:0", NULL };
  g_autoptr(GError) error = NULL;
  MnRelay *r = harness_relay_start (h, over, &error);
  g_assert_no_error (error);
  g_autofree gchar *cert = g_build_filename (h->dir, "state", "relay-cert.pem", NULL);
  g_autofree gchar *key = g_build_filename (h->dir, "state", "relay-key.pem", NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (cert, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree gchar *url = g_strdup_printf ("https://127.0.0.1:%u/s/abc/over-tls",
                                           mn_relay_get_port (r, "https"));
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any), NULL);
  /* Routes live in each relay: register abc on this one too. */
  put_route (r, "abc", up_port, "alice");
  soup_message_headers_append (soup_message_get_request_headers (msg), "Cookie", alice);
  g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_nonnull (strstr (g_bytes_get_data (body, NULL), "xfp=https\n"));

  /* wss:// as browsers use it: TLS on the client side, plain upstream. */
  put_route (r, "ws1", up_port, "alice");
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  WsState s = { g_main_loop_new (ctx, FALSE) };
  g_autoptr(SoupSession) wss = soup_session_new ();
  g_autofree gchar *wsurl = g_strdup_printf ("wss://127.0.0.1:%u/s/ws1/echo",
                                             mn_relay_get_port (r, "https"));
  g_autoptr(SoupMessage) wmsg = soup_message_new ("GET", wsurl);
  g_signal_connect (wmsg, "accept-certificate", G_CALLBACK (accept_any), NULL);
  soup_message_headers_append (soup_message_get_request_headers (wmsg), "Cookie", alice);
  g_autofree gchar *worigin = g_strdup_printf ("https://127.0.0.1:%u",
                                               mn_relay_get_port (r, "https"));
  soup_session_websocket_connect_async (wss, wmsg, worigin, NULL, G_PRIORITY_DEFAULT, NULL,
                                        ws_connected, &s);
  g_main_loop_run (s.loop);
  g_assert_no_error (s.error);
  soup_websocket_connection_set_max_incoming_payload_size (s.ws, 0);
  g_signal_connect (s.ws, "message", G_CALLBACK (ws_message), &s);
  gsize big = 1024 * 1024;
  g_autofree guint8 *payload = g_malloc (big);
  for (gsize i = 0; i < big; i++)
    payload[i] = (guint8) (i * 13);
  soup_websocket_connection_send_binary (s.ws, payload, big);
  run_until (s.loop, ctx, 30);
  g_assert_nonnull (s.got);
  g_assert_cmpmem (g_bytes_get_data (s.got, NULL), g_bytes_get_size (s.got), payload, big);
  soup_websocket_connection_close (s.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  for (gint i = 0; i < 200 && soup_websocket_connection_get_state (s.ws) != SOUP_WEBSOCKET_STATE_CLOSED; i++)
    g_main_context_iteration (ctx, TRUE);
  g_clear_object (&s.ws);
  g_clear_pointer (&s.got, g_bytes_unref);
  g_main_loop_unref (s.loop);
  g_main_context_pop_thread_default (ctx);
  harness_relay_stop (r);
}

/* ---- SIGHUP reload and the binary's own entry points ---- */

typedef struct {
  const gchar *path;
  MnRelay     *relay;
  GError      *error;
} FileRelay;

static gboolean
file_relay_start (gpointer data)
{
  FileRelay *f = data;
  g_autoptr(MnRelayConfig) c = mn_relay_config_new ();
  if (mn_relay_config_load_file (c, f->path, &f->error))
    {
      f->relay = mn_relay_new (c, f->path, &f->error);
      if (f->relay != NULL && !mn_relay_start (f->relay, &f->error))
        g_clear_pointer (&f->relay, mn_relay_free);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
file_relay_reload (gpointer data)
{
  FileRelay *f = data;
  mn_relay_reload (f->relay, &f->error);
  return G_SOURCE_REMOVE;
}

static gchar *
write_config (const gchar *login_path)
{
  g_autofree gchar *path = g_build_filename (h->dir, "relay.conf", NULL);
  g_autofree gchar *text = g_strdup_printf (
    "[relay]\nlisten_https=\nlisten_http=127.0.0.1:0\nadmin_listen=127.0.0.1:0\n"
    "admin_secret_file=%s\ncookie_key_file=%s\naccess_log=%s/access.log\nlogin_path=%s\n",
    h->secret_path, h->key_path, h->dir, login_path);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return g_steal_pointer (&path);
}

static void
test_reload (void)
{
  g_autofree gchar *path = write_config ("/login");
  FileRelay f = { path };
  harness_invoke (file_relay_start, &f);
  g_assert_no_error (f.error);
  harness_relay_adopt (f.relay);
  put_route (f.relay, "rl1", up_port, "alice");
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/s/rl1/",
                                           mn_relay_get_port (f.relay, "http"));
  g_autoptr(SoupMessageHeaders) h1 = NULL;
  g_assert_cmpuint (harness_http ("GET", url, NULL, NULL, NULL, &h1), ==, 302);
  g_assert_cmpstr (soup_message_headers_get_one (h1, "Location"), ==, "/login?next=/s/rl1/");

  g_free (write_config ("/portal/login"));
  harness_invoke (file_relay_reload, &f);
  g_assert_no_error (f.error);
  g_autoptr(SoupMessageHeaders) h2 = NULL;
  g_assert_cmpuint (harness_http ("GET", url, NULL, NULL, NULL, &h2), ==, 302);
  g_assert_cmpstr (soup_message_headers_get_one (h2, "Location"), ==,
                   "/portal/login?next=/s/rl1/");
  /* Routes survive a reload. */
  const gchar *headers[] = { "Cookie", alice, NULL };
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, NULL, NULL), ==, 200);

  /* A broken file keeps the running configuration. */
  g_assert_true (g_file_set_contents (path, "[relay]\nmax_connections=none\n", -1, NULL));
  harness_invoke (file_relay_reload, &f);
  g_assert_error (f.error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (f.error->message, ":2: key max_connections"));
  g_clear_error (&f.error);
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, NULL, NULL), ==, 200);
  harness_relay_stop (f.relay);

  /* One access-log line per request, with user and session. */
  g_autofree gchar *log_path = g_build_filename (h->dir, "access.log", NULL);
  g_autofree gchar *log = NULL;
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "\"GET /s/rl1/\" 302 "));
  g_assert_nonnull (strstr (log, "\"GET /s/rl1/\" 200 "));
  g_assert_nonnull (strstr (log, " user=alice session=rl1\n"));
  g_assert_nonnull (strstr (log, " user=- session=rl1\n"));
}

static gchar *
relay_binary (void)
{
  const gchar *b = g_getenv ("MINNA_BUILD_DIR");
  return g_build_filename (b != NULL ? b : ".", "daemons", "relay", "minna-relay", NULL);
}

static void
test_binary (void)
{
  g_autofree gchar *bin = relay_binary ();
  if (!g_file_test (bin, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("minna-relay binary not found (MINNA_BUILD_DIR unset)");
      return;
    }
  /* mint-cookie registers a login with the running relay (its admin API,
   * from the config) and prints its cookie, which that relay then takes */
  g_autofree gchar *path = g_build_filename (h->dir, "mint.conf", NULL);
  g_autofree gchar *conf = g_strdup_printf (
    "[relay]\nadmin_listen=127.0.0.1:%u\nadmin_secret_file=%s\ncookie_key_file=%s\n",
    mn_relay_get_port (relay, "admin"), h->secret_path, h->key_path);
  g_assert_true (g_file_set_contents (path, conf, -1, NULL));
  g_autofree gchar *out = NULL, *err = NULL;
  gint status = 0;
  const gchar *mint[] = { bin, "mint-cookie", "--config", path, "--user", "alice", NULL };
  g_assert_true (g_spawn_sync (NULL, (gchar **) mint, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("mint-cookie: %s", err);
  g_autoptr(MnAuthKey) key = mn_auth_key_load (h->key_path, NULL);
  g_autofree gchar *id = mn_auth_login_cookie_check (key, g_strstrip (out), NULL);
  g_assert_nonnull (id);
  g_assert_cmpstr (mn_auth_logins_user (mn_relay_get_logins (relay), id,
                                        g_get_real_time () / G_USEC_PER_SEC), ==, "alice");

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const gchar *help[] = { bin, "--help", NULL };
  g_assert_true (g_spawn_sync (NULL, (gchar **) help, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "--upstream-connect-timeout"));
  g_assert_nonnull (strstr (out, "websocket_idle_timeout"));

  g_autofree gchar *bad = g_build_filename (h->dir, "bad.conf", NULL);
  g_assert_true (g_file_set_contents (bad, "[relay]\n\nlisten_htps=1\n", -1, NULL));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const gchar *run[] = { bin, "--config", bad, NULL };
  g_assert_true (g_spawn_sync (NULL, (gchar **) run, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, NULL));
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, ":3: unknown key 'listen_htps'"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  h = harness_new ();
  up_port = harness_upstream_start ();
  g_autoptr(GError) error = NULL;
  relay = harness_relay_start (h, NULL, &error);
  g_assert_no_error (error);
  alice = harness_cookie (h, "alice", 3600);
  bob = harness_cookie (h, "bob", 3600);

  g_test_add_func ("/relay/route/forwarding", test_forwarding);
  for (gsize i = 0; i < G_N_ELEMENTS (auth_cases); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/relay/auth/%s", auth_cases[i].name);
      g_test_add_data_func (name, &auth_cases[i], test_auth);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_paths); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/relay/path/refused/%" G_GSIZE_FORMAT, i);
      g_test_add_data_func (name, bad_paths[i], test_path_tricks);
    }
  g_test_add_func ("/relay/path/add-slash", test_add_slash);
  g_test_add_func ("/relay/route/removed", test_route_removed);
  g_test_add_func ("/relay/upstream/down", test_upstream_down);
  g_test_add_func ("/relay/admin/api", test_admin);
  g_test_add_func ("/relay/admin/secret-file-mode", test_secret_file_mode);
  g_test_add_func ("/relay/admin/unix-socket", test_admin_unix_socket);
  g_test_add_func ("/relay/websocket/echo", test_websocket_echo);
  g_test_add_func ("/relay/body/large-streamed", test_large_body);
  g_test_add_func ("/relay/upstream/stale-pooled-connection", test_stale_pooled_connection);
  g_test_add_func ("/relay/upstream/silent", test_upstream_silent);
  g_test_add_func ("/relay/limits/header-too-large", test_header_too_large);
  g_test_add_func ("/relay/limits/slow-client", test_slow_client);
  g_test_add_func ("/relay/limits/max-connections", test_max_connections);
  g_test_add_func ("/relay/controller/restart", test_restart_from_controller);
  g_test_add_func ("/relay/tls/self-signed", test_tls_self_signed);
  g_test_add_func ("/relay/config/reload", test_reload);
  g_test_add_func ("/relay/main/mint-cookie-help-errors", test_binary);
  int rc = g_test_run ();
  harness_relay_stop (relay);
  harness_upstream_stop ();
  harness_free (h);
  g_free (alice);
  g_free (bob);
  return rc;
}
