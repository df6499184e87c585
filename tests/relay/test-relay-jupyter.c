/* test-relay-jupyter.c: a real Jupyter (Debian's notebook server) behind
 * minna-relay with base_url /s/<id>/, started as apps/jupyter.app starts it
 * (empty Jupyter token, apps/minna_jupyter_auth.py checking the relay's
 * header): api/status answers, a kernel starts, and 1+1 over the kernel's
 * WebSocket (message protocol v5) gives 2; a cross-site PUT and a kernel
 * WebSocket from a foreign origin are refused by the relay. */
#define G_LOG_DOMAIN "relay-test"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "relay-harness.h"
#include "mn-auth-cookie.h"

#define PYTHON "/usr/bin/python3"
#define SESSION "jup1"
#define JTOKEN "jupyter-token-4b1d0c-0123456789abcdef0123456789"
/* Jupyter's XSRF check stays on (double submit: the cookie and the header) */
#define XSRF "_xsrf=relay-test"

static Harness *h;
static MnRelay *relay;
static GSubprocess *jupyter;
static guint16 jport;
static gchar *alice;

static guint16
free_port (void)
{
  g_autoptr(GSocketListener) l = g_socket_listener_new ();
  guint16 p = g_socket_listener_add_any_inet_port (l, NULL, NULL);
  g_socket_listener_close (l);
  return p;
}

static gboolean
have_jupyter (void)
{
  const gchar *argv[] = { PYTHON, "-c", "import notebook, ipykernel", NULL };
  gint status = 1;
  if (!g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE) ||
      !g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                     G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL);
}

static gboolean
start_jupyter (void)
{
  jport = free_port ();
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (
    G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autofree gchar *rt = g_build_filename (h->dir, "jupyter-runtime", NULL);
  g_autofree gchar *nb = g_build_filename (h->dir, "notebooks", NULL);
  g_mkdir_with_parents (nb, 0700);
  /* The secret in a 0600 file, never on the command line. */
  g_autofree gchar *token_file = g_build_filename (h->dir, "app-token", NULL);
  g_assert_true (g_file_set_contents_full (token_file, JTOKEN "\n", -1,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  g_autofree gchar *apps = g_build_filename (g_getenv ("MINNA_SOURCE_DIR"), "daemons",
                                             "controller", "apps", NULL);
  g_subprocess_launcher_setenv (l, "MINNA_TOKEN_FILE", token_file, TRUE);
  g_subprocess_launcher_setenv (l, "PYTHONPATH", apps, TRUE);
  g_subprocess_launcher_setenv (l, "JUPYTER_RUNTIME_DIR", rt, TRUE);
  g_subprocess_launcher_setenv (l, "JUPYTER_CONFIG_DIR", h->dir, TRUE);
  g_subprocess_launcher_setenv (l, "JUPYTER_DATA_DIR", h->dir, TRUE);
  g_subprocess_launcher_setenv (l, "IPYTHONDIR", h->dir, TRUE);
  g_subprocess_launcher_setenv (l, "HOME", h->dir, TRUE);
  g_autofree gchar *port = g_strdup_printf ("--port=%u", jport);
  g_autofree gchar *dir = g_strdup_printf ("--notebook-dir=%s", nb);
  g_autoptr(GError) error = NULL;
  jupyter = g_subprocess_launcher_spawn (l, &error, PYTHON, "-m", "notebook", "--no-browser",
                                         "--ip=127.0.0.1", port, "--port-retries=0", dir,
                                         "--allow-root",
                                         "--NotebookApp.base_url=/s/" SESSION "/",
                                         "--NotebookApp.token=",
                                         "--NotebookApp.login_handler_class=minna_jupyter_auth.NotebookLogin",
                                         "--NotebookApp.allow_remote_access=True",
                                         "--NotebookApp.trust_xheaders=True", NULL);
  if (jupyter == NULL)
    {
      g_test_message ("cannot start Jupyter: %s", error->message);
      return FALSE;
    }
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/s/" SESSION "/api/status", jport);
  const gchar *headers[] = { MN_AUTH_APP_TOKEN_HEADER, JTOKEN, NULL };
  for (gint i = 0; i < 300; i++)
    {
      if (harness_http ("GET", url, headers, NULL, NULL, NULL) == 200)
        return TRUE;
      g_usleep (100000);
    }
  return FALSE;
}

static gchar *
relay_url (const gchar *scheme, const gchar *path)
{
  return g_strdup_printf ("%s://127.0.0.1:%u/s/" SESSION "/%s", scheme,
                          mn_relay_get_port (relay, "http"), path);
}

static JsonObject *
parse_object (const gchar *text, JsonParser *p)
{
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  JsonNode *root = json_parser_get_root (p);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

static void
test_status (void)
{
  g_autofree gchar *url = relay_url ("http", "api/status");
  const gchar *headers[] = { "Cookie", alice, NULL };
  g_autofree gchar *body = NULL;
  g_assert_cmpuint (harness_http ("GET", url, headers, NULL, &body, NULL), ==, 200);
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o = parse_object (body, p);
  g_assert_true (json_object_has_member (o, "started"));
  /* Without the portal cookie, the app is not reachable through the relay. */
  g_assert_cmpuint (harness_http ("GET", url, NULL, NULL, NULL, NULL), ==, 302);
}

typedef struct {
  GMainLoop *loop;
  SoupWebsocketConnection *ws;
  GError *error;
  gchar *result;
} Kernel;

static void
ws_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  Kernel *k = data;
  k->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &k->error);
  g_main_loop_quit (k->loop);
}

static void
ws_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  Kernel *k = data;
  g_autoptr(JsonParser) p = json_parser_new ();
  gsize len = 0;
  const gchar *text = g_bytes_get_data (message, &len);
  if (type != SOUP_WEBSOCKET_DATA_TEXT || !json_parser_load_from_data (p, text, (gssize) len, NULL))
    return;
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  JsonObject *header = json_object_get_object_member (o, "header");
  JsonObject *parent = json_object_get_object_member (o, "parent_header");
  if (header == NULL || parent == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (header, "msg_type", ""),
                 "execute_result") != 0 ||
      g_strcmp0 (json_object_get_string_member_with_default (parent, "msg_id", ""), "m-1") != 0)
    return;
  JsonObject *content = json_object_get_object_member (o, "content");
  JsonObject *d = json_object_get_object_member (content, "data");
  k->result = g_strdup (json_object_get_string_member_with_default (d, "text/plain", ""));
  g_main_loop_quit (k->loop);
}

static gboolean
give_up (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
test_kernel (void)
{
  g_autofree gchar *url = relay_url ("http", "api/kernels");
  g_autofree gchar *cookies = g_strdup_printf ("%s; " XSRF, alice);
  const gchar *headers[] = { "Cookie", cookies, "X-XSRFToken", "relay-test", NULL };
  g_autofree gchar *body = NULL;
  g_assert_cmpuint (harness_http ("POST", url, headers, "{\"name\": \"python3\"}", &body, NULL),
                    ==, 201);
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o = parse_object (body, p);
  const gchar *kid = json_object_get_string_member (o, "id");
  g_assert_nonnull (kid);

  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  Kernel k = { g_main_loop_new (ctx, FALSE) };
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree gchar *path = g_strdup_printf ("api/kernels/%s/channels", kid);
  g_autofree gchar *wsurl = relay_url ("ws", path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", wsurl);
  soup_message_headers_append (soup_message_get_request_headers (msg), "Cookie", alice);
  g_autofree gchar *origin = relay_url ("http", "");
  origin[strlen (origin) - strlen ("/s/" SESSION "/")] = '\0';
  soup_session_websocket_connect_async (session, msg, origin, NULL, G_PRIORITY_DEFAULT, NULL,
                                        ws_connected, &k);
  g_main_loop_run (k.loop);
  g_assert_no_error (k.error);
  soup_websocket_connection_set_max_incoming_payload_size (k.ws, 0);
  g_signal_connect (k.ws, "message", G_CALLBACK (ws_message), &k);

  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *date = g_date_time_format_iso8601 (now);
  g_autofree gchar *request = g_strdup_printf (
    "{\"header\": {\"msg_id\": \"m-1\", \"username\": \"alice\", \"session\": \"relay-test\", "
    "\"msg_type\": \"execute_request\", \"version\": \"5.3\", \"date\": \"%s\"}, "
    "\"parent_header\": {}, \"metadata\": {}, \"channel\": \"shell\", \"buffers\": [], "
    "\"content\": {\"code\": \"1+1\", \"silent\": false, \"store_history\": false, "
    "\"user_expressions\": {}, \"allow_stdin\": false, \"stop_on_error\": true}}", date);
  soup_websocket_connection_send_text (k.ws, request);
  GSource *t = g_timeout_source_new_seconds (60);
  g_source_set_callback (t, give_up, k.loop, NULL);
  g_source_attach (t, ctx);
  g_main_loop_run (k.loop);
  g_source_destroy (t);
  g_source_unref (t);
  g_assert_cmpstr (k.result, ==, "2");

  soup_websocket_connection_close (k.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  for (gint i = 0; i < 200 && soup_websocket_connection_get_state (k.ws) != SOUP_WEBSOCKET_STATE_CLOSED; i++)
    g_main_context_iteration (ctx, TRUE);
  g_clear_object (&k.ws);
  g_free (k.result);
  g_main_loop_unref (k.loop);
  g_main_context_pop_thread_default (ctx);

  g_autofree gchar *kurl = g_strdup_printf ("%s/%s", url, kid);
  g_assert_cmpuint (harness_http ("DELETE", kurl, headers, NULL, NULL, NULL), ==, 204);

  /* The relay saw the activity. */
  g_autofree gchar *routes = NULL;
  g_assert_cmpuint (harness_admin (relay, h, "GET", "/routes", NULL, &routes), ==, 200);
  g_assert_nonnull (strstr (routes, "\"id\":\"" SESSION "\""));
}

/* The attack of issue 15, item 8, against the real Jupyter: a cross-site,
 * form-style PUT that would write a file in the user's home, and a kernel
 * WebSocket opened from a foreign page.  Jupyter takes the relay's header
 * for proof enough; the relay refuses both (403), and the file is not
 * there.  The same PUT from the site's own origin works. */
static void
test_foreign_origin (void)
{
  g_autofree gchar *url = relay_url ("http", "api/contents/planted.txt");
  g_autofree gchar *cookies = g_strdup_printf ("%s; " XSRF, alice);
  static const gchar file[] = "{\"type\": \"file\", \"format\": \"text\", \"content\": \"x\"}";
  const gchar *foreign[] = { "Cookie", cookies, "X-XSRFToken", "relay-test",
                             "Origin", "http://evil.example", NULL };
  g_assert_cmpuint (harness_http ("PUT", url, foreign, file, NULL, NULL), ==, 403);
  const gchar *cross[] = { "Cookie", cookies, "X-XSRFToken", "relay-test",
                           "Sec-Fetch-Site", "cross-site", NULL };
  g_assert_cmpuint (harness_http ("PUT", url, cross, file, NULL, NULL), ==, 403);
  const gchar *get[] = { "Cookie", alice, NULL };
  g_assert_cmpuint (harness_http ("GET", url, get, NULL, NULL, NULL), ==, 404);

  g_autofree gchar *kurl = relay_url ("http", "api/kernels");
  g_autofree gchar *body = NULL;
  const gchar *own[] = { "Cookie", cookies, "X-XSRFToken", "relay-test", NULL };
  g_assert_cmpuint (harness_http ("POST", kurl, own, "{\"name\": \"python3\"}", &body, NULL),
                    ==, 201);
  g_autoptr(JsonParser) p = json_parser_new ();
  const gchar *kid = json_object_get_string_member (parse_object (body, p), "id");
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  Kernel k = { g_main_loop_new (ctx, FALSE) };
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree gchar *path = g_strdup_printf ("api/kernels/%s/channels", kid);
  g_autofree gchar *wsurl = relay_url ("ws", path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", wsurl);
  soup_message_headers_append (soup_message_get_request_headers (msg), "Cookie", alice);
  soup_session_websocket_connect_async (session, msg, "http://evil.example", NULL,
                                        G_PRIORITY_DEFAULT, NULL, ws_connected, &k);
  g_main_loop_run (k.loop);
  g_assert_null (k.ws);
  g_assert_nonnull (k.error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 403);
  g_main_loop_unref (k.loop);
  g_main_context_pop_thread_default (ctx);
  g_clear_error (&k.error);

  g_autofree gchar *del = g_strdup_printf ("%s/%s", kurl, kid);
  g_assert_cmpuint (harness_http ("DELETE", del, own, NULL, NULL, NULL), ==, 204);
  g_assert_cmpuint (harness_http ("PUT", url, own, file, NULL, NULL), ==, 201);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!have_jupyter ())
    {
      g_test_skip ("Debian's Jupyter (jupyter-notebook, python3-ipykernel) is not installed "
                   "for " PYTHON);
      return g_test_run ();
    }
  h = harness_new ();
  if (!start_jupyter ())
    {
      g_printerr ("Jupyter did not come up on port %u\n", jport);
      return 1;
    }
  g_autoptr(GError) error = NULL;
  relay = harness_relay_start (h, NULL, &error);
  g_assert_no_error (error);
  alice = harness_cookie (h, "alice", 3600);
  g_autofree gchar *route = g_strdup_printf (
    "{\"upstream\": \"http://127.0.0.1:%u\", \"owner\": \"alice\", \"token\": \"" JTOKEN "\"}",
    jport);
  g_assert_cmpuint (harness_admin (relay, h, "PUT", "/routes/" SESSION, route, NULL), ==, 204);

  g_test_add_func ("/relay/jupyter/api-status", test_status);
  g_test_add_func ("/relay/jupyter/kernel-1+1", test_kernel);
  g_test_add_func ("/relay/jupyter/foreign-origin-refused", test_foreign_origin);
  int rc = g_test_run ();

  harness_relay_stop (relay);
  g_subprocess_send_signal (jupyter, SIGTERM);
  if (!g_subprocess_wait (jupyter, NULL, NULL))
    g_subprocess_force_exit (jupyter);
  g_clear_object (&jupyter);
  harness_free (h);
  g_free (alice);
  return rc;
}
