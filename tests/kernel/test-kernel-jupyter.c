/* Integration test: minna-kernel with Debian's Lmod, Python with ipykernel
 * and a real jupyter-server.
 *
 * A module file written here sets a variable and prepends a PATH entry; a
 * kernel defined with it is started through jupyter-server's REST API and
 * runs code over the kernel WebSocket (Jupyter message protocol, JSON
 * framing), and the kernel must see what the module set.  Kernels whose
 * Python lacks ipykernel, or whose module does not exist, are refused.
 * Every process started here is killed by its process group at the end.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_VAR_VALUE "hello from a module"
#define TOKEN_LEN 32

static gchar *tmp;
static gchar *minna_kernel;
static gchar *skip_reason;

static gchar *
tpath (const gchar *rel)
{
  return g_build_filename (tmp, rel, NULL);
}

/* A clean environment: Debian's Python first, no module state inherited. */
static gchar **
clean_env (gboolean with_modulepath)
{
  g_autofree gchar *home = tpath ("home");
  g_autofree gchar *data = tpath ("data");
  g_autofree gchar *mods = tpath ("modules");
  gchar **env = g_new0 (gchar *, 1);
  env = g_environ_setenv (env, "PATH", "/usr/bin:/bin", TRUE);
  env = g_environ_setenv (env, "HOME", home, TRUE);
  env = g_environ_setenv (env, "LANG", "C.UTF-8", TRUE);
  env = g_environ_setenv (env, "JUPYTER_DATA_DIR", data, TRUE);
  if (with_modulepath)
    env = g_environ_setenv (env, "MODULEPATH", mods, TRUE);
  return env;
}

static gint
run_cli (gchar **out, gchar **err, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) env = clean_env (TRUE);
  va_list ap;
  gint status = -1;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, minna_kernel);
  va_start (ap, err);
  for (const gchar *a = va_arg (ap, const gchar *); a; a = va_arg (ap, const gchar *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (tmp, (gchar **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static gboolean
kernel_dir_exists (const gchar *name)
{
  g_autofree gchar *d = g_build_filename (tmp, "data", "kernels", name, NULL);
  return g_file_test (d, G_FILE_TEST_EXISTS);
}

static void
write_file (const gchar *rel, const gchar *text, int mode)
{
  g_autofree gchar *p = tpath (rel);
  g_autofree gchar *dir = g_path_get_dirname (p);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (p, text, -1, NULL));
  g_assert_cmpint (g_chmod (p, mode), ==, 0);
}

static gboolean
python_has (const gchar *module)
{
  g_autofree gchar *code = g_strdup_printf ("import %s", module);
  const gchar *argv[] = { "/usr/bin/python3", "-c", code, NULL };
  gint status = -1;
  return g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                       G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL) &&
         g_spawn_check_wait_status (status, NULL);
}

static gboolean
skipped (void)
{
  if (skip_reason)
    g_test_skip (skip_reason);
  return skip_reason != NULL;
}

static void
test_refuse_missing_module (void)
{
  if (skipped ())
    return;
  g_autofree gchar *out = NULL, *err = NULL;
  gint code = run_cli (&out, &err, "add", "nomod", "--module", "minna-test/1.0",
                       "--module", "minna-absent/9.9", "--python", "/usr/bin/python3", NULL);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (code, ==, 1);
  g_assert_nonnull (strstr (err, "refusing to add kernel 'nomod'"));
  g_assert_nonnull (strstr (err, "module 'minna-absent/9.9' could not be loaded"));
  g_assert_false (kernel_dir_exists ("nomod"));
}

static void
test_refuse_no_ipykernel (void)
{
  if (skipped ())
    return;
  /* a venv outside Debian's site packages: Python there, ipykernel not */
  g_autofree gchar *venv = tpath ("venv-bare");
  const gchar *argv[] = { "/usr/bin/python3", "-m", "venv", "--without-pip", venv, NULL };
  gint status = -1;
  g_autoptr(GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  g_autofree gchar *out = NULL, *err = NULL;
  gint code = run_cli (&out, &err, "add", "bare", "--module", "minna-test/1.0",
                       "--venv", venv, NULL);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (code, ==, 1);
  g_autofree gchar *hint = g_strdup_printf ("install it with: %s/bin/python -m pip install ipykernel", venv);
  g_assert_nonnull (strstr (err, "cannot import ipykernel"));
  g_assert_nonnull (strstr (err, hint));
  g_assert_false (kernel_dir_exists ("bare"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  code = run_cli (&out, &err, "add", "nopy", "--module", "minna-test/1.0",
                  "--python", "/nonexistent/bin/python3", NULL);
  g_assert_cmpint (code, ==, 1);
  g_assert_nonnull (strstr (err, "python /nonexistent/bin/python3 does not exist"));
  g_assert_false (kernel_dir_exists ("nopy"));
}

static void
test_add_check_list (void)
{
  if (skipped ())
    return;
  g_autofree gchar *out = NULL, *err = NULL;
  gint code = run_cli (&out, &err, "add", "envtest", "--module", "minna-test/1.0",
                       "--python", "/usr/bin/python3", "--display-name", "Env test", NULL);
  g_test_message ("stdout: %s\nstderr: %s", out, err);
  g_assert_cmpint (code, ==, 0);
  g_assert_true (kernel_dir_exists ("envtest"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "check", "envtest", "--json", NULL), ==, 0);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_assert_true (json_parser_load_from_data (p, out, -1, &error));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  g_assert_true (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpstr (json_object_get_string_member (o, "python"), ==, "/usr/bin/python3");
  g_assert_nonnull (json_object_get_string_member (o, "ipykernel_version"));
  g_assert_nonnull (json_object_get_string_member (o, "module_system"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "envtest"));
  g_assert_nonnull (strstr (out, "Env test"));
}

/* --- jupyter-server ----------------------------------------------------- */

typedef struct {
  GSubprocess *proc;
  gint pgid;
  guint16 port;
  gchar *token;
  gchar *base;
  gchar *log;
} Server;

static void
child_setup (gpointer data)
{
  setpgid (0, 0);
}

static guint16
free_port (void)
{
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                       G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) a = g_inet_socket_address_new (lo, 0);
  g_assert_true (g_socket_bind (s, a, FALSE, NULL));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static SoupMessage *
api_message (Server *srv, const gchar *method, const gchar *path)
{
  g_autofree gchar *url = g_strconcat (srv->base, path, NULL);
  SoupMessage *m = soup_message_new (method, url);
  g_autofree gchar *auth = g_strdup_printf ("token %s", srv->token);
  soup_message_headers_append (soup_message_get_request_headers (m), "Authorization", auth);
  return m;
}

/* What a failed assertion (abort) must still take down. */
static volatile sig_atomic_t server_pgid;
static volatile sig_atomic_t kernel_pid;

static void
on_abort (int sig)
{
  if (server_pgid > 0)
    kill (-server_pgid, SIGKILL);
  if (kernel_pid > 0)
    kill (-kernel_pid, SIGKILL);
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
server_stop (Server *srv)
{
  if (srv->proc == NULL)
    return;
  /* jupyter-server shuts its kernels down on SIGTERM; the group kill after
   * catches anything else it started in its group */
  kill (srv->pgid, SIGTERM);
  for (gint i = 0; i < 100 && g_subprocess_get_identifier (srv->proc) != NULL; i++)
    g_usleep (50000);
  kill (-srv->pgid, SIGKILL);
  g_subprocess_wait (srv->proc, NULL, NULL);
  g_clear_object (&srv->proc);
  server_pgid = 0;
}

static gchar *
read_log (Server *srv)
{
  gchar *text = NULL;
  if (!g_file_get_contents (srv->log, &text, NULL, NULL))
    text = g_strdup ("(no log)");
  return text;
}

static gboolean
server_start (Server *srv, SoupSession *session, GError **error)
{
  g_auto(GStrv) env = clean_env (FALSE);
  g_autofree gchar *runtime = tpath ("runtime");
  g_autofree gchar *config = tpath ("config");
  g_autofree gchar *root = tpath ("home");
  g_autofree gchar *port_arg = NULL, *root_arg = NULL;
  g_autoptr(GSubprocessLauncher) l = NULL;

  srv->port = free_port ();
  srv->token = g_uuid_string_random ();
  srv->base = g_strdup_printf ("http://127.0.0.1:%u", srv->port);
  srv->log = tpath ("jupyter-server.log");
  /* the kernel must find its modules without help: no MODULEPATH here */
  env = g_environ_setenv (env, "JUPYTER_RUNTIME_DIR", runtime, TRUE);
  env = g_environ_setenv (env, "JUPYTER_CONFIG_DIR", config, TRUE);
  env = g_environ_setenv (env, "JUPYTER_TOKEN", srv->token, TRUE);
  port_arg = g_strdup_printf ("--port=%u", srv->port);
  root_arg = g_strdup_printf ("--ServerApp.root_dir=%s", root);

  l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_environ (l, env);
  g_subprocess_launcher_set_stdout_file_path (l, srv->log);
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  srv->proc = g_subprocess_launcher_spawn (l, error, "/usr/bin/python3", "-m", "jupyter_server",
                                           "--no-browser", "--ip=127.0.0.1", port_arg,
                                           "--port-retries=0", "--allow-root", root_arg, NULL);
  if (srv->proc == NULL)
    return FALSE;
  srv->pgid = (gint) g_ascii_strtoll (g_subprocess_get_identifier (srv->proc), NULL, 10);
  server_pgid = srv->pgid;

  for (gint i = 0; i < 300; i++)
    {
      if (g_subprocess_get_identifier (srv->proc) == NULL)
        break;
      g_autoptr(SoupMessage) m = api_message (srv, "GET", "/api/status");
      g_autoptr(GBytes) body = soup_session_send_and_read (session, m, NULL, NULL);
      if (body && soup_message_get_status (m) == SOUP_STATUS_OK)
        return TRUE;
      g_usleep (100000);
    }
  g_autofree gchar *log = read_log (srv);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "jupyter-server did not answer; log:\n%s", log);
  return FALSE;
}

static JsonObject *
parse_object (GBytes *bytes, JsonParser *p)
{
  gsize n = 0;
  const gchar *d = g_bytes_get_data (bytes, &n);
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data (p, d, (gssize) n, &error))
    g_error ("bad JSON from jupyter: %s: %.*s", error->message, (int) n, d);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)));
  return json_node_get_object (json_parser_get_root (p));
}

typedef struct {
  GMainLoop *loop;
  SoupWebsocketConnection *ws;
  GError *error;
  gchar *msg_id;
  GString *stream;
  gchar *result;
  gchar *reply_status;
  gboolean idle;
  gboolean timed_out;
} Exec;

static void
on_ws_message (SoupWebsocketConnection *ws, gint type, GBytes *bytes, gpointer data)
{
  Exec *x = data;
  g_autoptr(JsonParser) p = json_parser_new ();
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  JsonObject *o = parse_object (bytes, p);
  JsonObject *parent = json_object_get_object_member (o, "parent_header");
  if (parent == NULL || g_strcmp0 (json_object_get_string_member_with_default (parent, "msg_id", ""), x->msg_id) != 0)
    return;
  const gchar *type_s = json_object_get_string_member (json_object_get_object_member (o, "header"), "msg_type");
  JsonObject *content = json_object_get_object_member (o, "content");
  if (g_str_equal (type_s, "stream"))
    g_string_append (x->stream, json_object_get_string_member (content, "text"));
  else if (g_str_equal (type_s, "execute_result"))
    {
      g_free (x->result);
      x->result = g_strdup (json_object_get_string_member (json_object_get_object_member (content, "data"),
                                                           "text/plain"));
    }
  else if (g_str_equal (type_s, "error"))
    g_string_append_printf (x->stream, "ERROR %s: %s\n",
                            json_object_get_string_member (content, "ename"),
                            json_object_get_string_member (content, "evalue"));
  else if (g_str_equal (type_s, "execute_reply"))
    x->reply_status = g_strdup (json_object_get_string_member (content, "status"));
  else if (g_str_equal (type_s, "status") &&
           g_str_equal (json_object_get_string_member (content, "execution_state"), "idle"))
    x->idle = TRUE;
  if (x->reply_status && x->idle)
    g_main_loop_quit (x->loop);
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  Exec *x = data;
  x->ws = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &x->error);
  g_main_loop_quit (x->loop);
}

static gboolean
on_exec_timeout (gpointer data)
{
  Exec *x = data;
  x->timed_out = TRUE;
  g_main_loop_quit (x->loop);
  return G_SOURCE_REMOVE;
}

static gchar *
execute_request (const gchar *msg_id, const gchar *session_id, const gchar *code)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *date = g_date_time_format_iso8601 (now);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "header");
  json_builder_begin_object (b);
  const gchar *kv[][2] = { { "msg_id", msg_id }, { "session", session_id }, { "username", "minna-test" },
                           { "msg_type", "execute_request" }, { "version", "5.3" }, { "date", date } };
  for (gsize i = 0; i < G_N_ELEMENTS (kv); i++)
    {
      json_builder_set_member_name (b, kv[i][0]);
      json_builder_add_string_value (b, kv[i][1]);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "parent_header");
  json_builder_begin_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "metadata");
  json_builder_begin_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "content");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "silent");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "store_history");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "user_expressions");
  json_builder_begin_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "allow_stdin");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "stop_on_error");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "channel");
  json_builder_add_string_value (b, "shell");
  json_builder_set_member_name (b, "buffers");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static void
test_run_through_server (void)
{
  if (skipped ())
    return;
  g_assert_true (kernel_dir_exists ("envtest"));
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 20, NULL);
  Server srv = { 0 };
  g_autoptr(GError) error = NULL;

  /* the port was free a moment ago; another test may have taken it since */
  for (gint attempt = 0; !server_start (&srv, session, &error); attempt++)
    {
      server_stop (&srv);
      g_clear_pointer (&srv.token, g_free);
      g_clear_pointer (&srv.base, g_free);
      g_clear_pointer (&srv.log, g_free);
      if (attempt == 2)
        g_error ("%s", error->message);
      g_test_message ("jupyter-server did not start, trying another port: %s", error->message);
      g_clear_error (&error);
    }

  g_autoptr(SoupMessage) m = api_message (&srv, "POST", "/api/kernels");
  g_autoptr(GBytes) req = g_bytes_new_static ("{\"name\": \"envtest\"}", strlen ("{\"name\": \"envtest\"}"));
  soup_message_set_request_body_from_bytes (m, "application/json", req);
  g_autoptr(GBytes) body = soup_session_send_and_read (session, m, NULL, &error);
  g_assert_no_error (error);
  if (soup_message_get_status (m) != SOUP_STATUS_CREATED)
    {
      g_autofree gchar *log = read_log (&srv);
      server_stop (&srv);
      g_error ("POST /api/kernels: %u %.*s\n%s", soup_message_get_status (m),
               (int) g_bytes_get_size (body), (const gchar *) g_bytes_get_data (body, NULL), log);
    }
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *k = parse_object (body, p);
  g_autofree gchar *kid = g_strdup (json_object_get_string_member (k, "id"));
  g_assert_cmpstr (json_object_get_string_member (k, "name"), ==, "envtest");

  g_autofree gchar *chan = g_strdup_printf ("/api/kernels/%s/channels", kid);
  g_autoptr(SoupMessage) wsm = api_message (&srv, "GET", chan);
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  Exec x = { 0 };
  x.loop = g_main_loop_new (ctx, FALSE);
  x.stream = g_string_new (NULL);
  g_autoptr(GSource) timer = g_timeout_source_new_seconds (60);
  g_source_set_callback (timer, on_exec_timeout, &x, NULL);
  g_source_attach (timer, ctx);

  soup_session_websocket_connect_async (session, wsm, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_ws_connected, &x);
  g_main_loop_run (x.loop);
  if (x.ws == NULL)
    {
      g_autofree gchar *log = read_log (&srv);
      server_stop (&srv);
      g_error ("kernel WebSocket: %s\n%s", x.error ? x.error->message : "timed out", log);
    }
  g_signal_connect (x.ws, "message", G_CALLBACK (on_ws_message), &x);
  x.msg_id = g_uuid_string_random ();
  g_autofree gchar *session_id = g_uuid_string_random ();
  g_autofree gchar *req_text = execute_request (x.msg_id, session_id,
    "import os, shutil, sys\n"
    "print('VAR=' + os.environ.get('MINNA_TEST_VAR', '<unset>'))\n"
    "print('TOOL=' + str(shutil.which('minna-test-tool')))\n"
    "print('PY=' + sys.executable)\n"
    "print('PID=%d' % os.getpid())\n"
    "6 * 7\n");
  soup_websocket_connection_send_text (x.ws, req_text);
  g_main_loop_run (x.loop);
  g_test_message ("kernel said: %s (result %s)", x.stream->str, x.result);

  gboolean timed_out = x.timed_out;
  g_autofree gchar *stream = g_string_free (x.stream, FALSE);
  g_autofree gchar *result = x.result;
  g_autofree gchar *status = x.reply_status;
  soup_websocket_connection_close (x.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&x.ws);
  g_source_destroy (timer);
  g_main_loop_unref (x.loop);
  g_free (x.msg_id);
  g_main_context_pop_thread_default (ctx);

  /* jupyter starts each kernel in a session of its own: find it to be
   * sure it goes */
  const gchar *pid_at = strstr (stream, "PID=");
  if (pid_at)
    kernel_pid = (sig_atomic_t) g_ascii_strtoll (pid_at + 4, NULL, 10);
  g_autofree gchar *del_path = g_strdup_printf ("/api/kernels/%s", kid);
  g_autoptr(SoupMessage) del = api_message (&srv, "DELETE", del_path);
  g_autoptr(GBytes) del_body = soup_session_send_and_read (session, del, NULL, NULL);
  guint del_status = soup_message_get_status (del);
  gboolean kernel_left = FALSE;
  for (gint i = 0; kernel_pid > 0 && i < 100 && kill (kernel_pid, 0) == 0; i++)
    g_usleep (50000);
  if (kernel_pid > 0 && kill (kernel_pid, 0) == 0)
    {
      kernel_left = TRUE;
      kill (-kernel_pid, SIGKILL);
    }
  kernel_pid = 0;
  g_autofree gchar *log = read_log (&srv);
  server_stop (&srv);

  if (timed_out)
    g_error ("no execute_reply within 60 s; output so far: %s\nserver log:\n%s", stream, log);
  g_autofree gchar *tool = tpath ("tool-bin/minna-test-tool");
  g_autofree gchar *want_var = g_strdup_printf ("VAR=%s\n", TEST_VAR_VALUE);
  g_autofree gchar *want_tool = g_strdup_printf ("TOOL=%s\n", tool);
  g_assert_cmpstr (status, ==, "ok");
  g_assert_nonnull (strstr (stream, want_var));
  g_assert_nonnull (strstr (stream, want_tool));
  g_assert_nonnull (strstr (stream, "PY=/usr/bin/python3\n"));
  g_assert_cmpstr (result, ==, "42");
  g_assert_cmpuint (del_status, ==, SOUP_STATUS_NO_CONTENT);
  g_assert_nonnull (pid_at);
  g_assert_false (kernel_left);
  g_free (srv.token);
  g_free (srv.base);
  g_free (srv.log);
}

/* `check` again once the module is gone, as after a site upgrade. */
static void
test_check_after_module_gone (void)
{
  if (skipped ())
    return;
  g_autofree gchar *from = tpath ("modules/minna-test");
  g_autofree gchar *to = tpath ("modules-moved");
  g_assert_cmpint (g_rename (from, to), ==, 0);
  g_autofree gchar *out = NULL, *err = NULL;
  gint code = run_cli (&out, &err, "check", "envtest", NULL);
  g_assert_cmpint (g_rename (to, from), ==, 0);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (code, ==, 1);
  g_assert_nonnull (strstr (err, "kernel 'envtest' would not start"));
  g_assert_nonnull (strstr (err, "module 'minna-test/1.0' could not be loaded"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "remove", "envtest", NULL), ==, 0);
  g_assert_false (kernel_dir_exists ("envtest"));
}

static void
setup (void)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  g_assert_nonnull (build);
  minna_kernel = g_build_filename (build, "kernel", "minna-kernel", NULL);
  tmp = g_dir_make_tmp ("mn-kernel-jupyter-XXXXXX", NULL);
  g_autofree gchar *tool = tpath ("tool-bin");
  g_autofree gchar *modfile = g_strdup_printf (
    "#%%Module1.0\n"
    "## written by test-kernel-jupyter\n"
    "setenv MINNA_TEST_VAR \"%s\"\n"
    "prepend-path PATH %s\n", TEST_VAR_VALUE, tool);
  write_file ("modules/minna-test/1.0", modfile, 0644);
  write_file ("tool-bin/minna-test-tool", "#!/bin/sh\necho tool\n", 0755);
  g_autofree gchar *home = tpath ("home");
  g_mkdir_with_parents (home, 0755);

  if (!g_file_test ("/usr/share/lmod/lmod/init/bash", G_FILE_TEST_EXISTS) &&
      !g_file_test ("/usr/share/modules/init/bash", G_FILE_TEST_EXISTS))
    skip_reason = g_strdup ("neither lmod nor environment-modules is installed (scripts/packages/kernel.txt)");
  else if (!python_has ("ipykernel") || !python_has ("jupyter_server"))
    skip_reason = g_strdup ("/usr/bin/python3 lacks ipykernel or jupyter_server "
                            "(python3-ipykernel, python3-jupyter-server)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGABRT, on_abort);
  setup ();
  g_test_add_func ("/kernel/jupyter/refuse-missing-module", test_refuse_missing_module);
  g_test_add_func ("/kernel/jupyter/refuse-no-ipykernel", test_refuse_no_ipykernel);
  g_test_add_func ("/kernel/jupyter/add-check-list", test_add_check_list);
  g_test_add_func ("/kernel/jupyter/run-through-server", test_run_through_server);
  g_test_add_func ("/kernel/jupyter/check-after-module-gone", test_check_after_module_gone);
  int rc = g_test_run ();
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  if (system (cmd) != 0)
    g_printerr ("# could not remove %s\n", tmp);
  return rc;
}
