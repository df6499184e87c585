/* Integration: the admin API of the real minna-controller (real local
 * backend, real apps as processes, real SQLite) and the error pages of the
 * controller and the real minna-relay.  One controller for the whole run;
 * the tests run in order, as an admin and two users would. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller-test-util.h"
#include "mn-auth-cookie.h"

/* What the leaky app prints: a Jupyter-style URL with a token, a password,
 * and the session's own app token read from its token file. */
#define LEAK_URL_TOKEN "0123456789abcdef0123456789abcdef01234567"
#define LEAK_PASSWORD "hunter2hunter2"

typedef struct {
  gchar       *dir;
  gchar       *controller_bin;
  gchar       *relay_bin;
  gchar       *config;
  guint        port, relay_port, relay_admin;
  GPid         controller, relay;
  SoupSession *http;
  gchar       *alice_id, *bob_id;
} Harness;

static Harness h;

typedef struct {
  gchar *cookie;
  gchar *csrf;
} Login;

static Login ada, alice, bob, carol;

typedef struct {
  guint               status;
  JsonNode           *json;
  gchar              *body;
  SoupMessageHeaders *headers;
} Reply;

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->json, json_node_unref);
  g_clear_pointer (&r->body, g_free);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

static Reply
request_to (guint port, const gchar *method, const gchar *path, const Login *login,
            const gchar *body, const gchar *accept)
{
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  SoupMessageHeaders *hd = soup_message_get_request_headers (msg);
  Reply r = { 0 };
  if (login != NULL && login->cookie != NULL)
    {
      g_autofree gchar *c = g_strdup_printf ("%s=%s", MN_AUTH_COOKIE_NAME, login->cookie);
      soup_message_headers_replace (hd, "Cookie", c);
      soup_message_headers_replace (hd, "X-CSRF-Token", login->csrf);
    }
  if (accept != NULL)
    soup_message_headers_replace (hd, "Accept", accept);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/json",
                                              g_bytes_new (body, strlen (body)));
  bytes = soup_session_send_and_read (h.http, msg, NULL, &error);
  g_assert_no_error (error);
  r.status = soup_message_get_status (msg);
  r.body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  r.headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (json_parser_load_from_data (parser, r.body, -1, NULL))
    r.json = json_node_ref (json_parser_get_root (parser));
  return r;
}

static Reply
request (const gchar *method, const gchar *path, const Login *login, const gchar *body)
{
  return request_to (h.port, method, path, login, body, NULL);
}

static JsonObject *
object (const Reply *r)
{
  if (r->json == NULL || !JSON_NODE_HOLDS_OBJECT (r->json))
    g_error ("HTTP %u, not a JSON object: '%s'", r->status, r->body);
  return json_node_get_object (r->json);
}

static Login
login (const gchar *user)
{
  g_autofree gchar *body = g_strdup_printf ("{\"user\":\"%s\",\"password\":\"%s-password\"}", user, user);
  g_auto(Reply) r = request ("POST", "/api/v1/login", NULL, body);
  g_autofree gchar *prefix = g_strdup_printf ("%s=", MN_AUTH_COOKIE_NAME);
  const gchar *set_cookie;
  Login l = { 0 };
  if (r.status != 200)
    g_error ("login %s: %u %s", user, r.status, r.body);
  set_cookie = soup_message_headers_get_one (r.headers, "Set-Cookie");
  g_assert_true (g_str_has_prefix (set_cookie, prefix));
  l.cookie = g_strndup (set_cookie + strlen (prefix), strcspn (set_cookie + strlen (prefix), ";"));
  l.csrf = g_strdup (json_object_get_string_member (object (&r), "csrf_token"));
  return l;
}

static gchar *
session_field (const gchar *id, const gchar *field)
{
  g_autofree gchar *path = g_strdup_printf ("/api/v1/sessions/%s", id);
  g_auto(Reply) r = request ("GET", path, &ada, NULL);
  JsonObject *o;
  g_assert_cmpuint (r.status, ==, 200);
  o = object (&r);
  return json_object_get_null_member (o, field) ? NULL
         : g_strdup (json_object_get_string_member (o, field));
}

static void
wait_state (const gchar *id, const gchar *want, guint seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  for (;;)
    {
      g_autofree gchar *st = session_field (id, "state");
      if (g_str_equal (st, want))
        return;
      if (g_get_monotonic_time () > end || g_str_equal (st, "failed"))
        {
          g_autofree gchar *reason = session_field (id, "reason");
          g_error ("session %s is %s, not %s (%s)", id, st, want, reason);
        }
      g_usleep (100000);
    }
}

static gchar *
launch (const Login *l, const gchar *app)
{
  g_autofree gchar *body = g_strdup_printf ("{\"app\":\"%s\",\"queue\":\"interactive\",\"hours\":1}", app);
  g_auto(Reply) r = request ("POST", "/api/v1/sessions", l, body);
  if (r.status != 201)
    g_error ("launch %s: %u %s", app, r.status, r.body);
  return g_strdup (json_object_get_string_member (object (&r), "id"));
}

/* ---- processes -------------------------------------------------------------------- */

static void
record_pid (const gchar *name, GPid pid)
{
  g_autofree gchar *path = g_build_filename (h.dir, name, NULL);
  g_autofree gchar *text = g_strdup_printf ("%d\n", pid);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
kill_recorded (const gchar *name)
{
  g_autofree gchar *path = g_build_filename (h.dir, name, NULL);
  g_autofree gchar *text = NULL;
  gint pid;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  pid = (gint) g_ascii_strtoll (text, NULL, 10);
  if (pid > 1)
    kill (pid, SIGKILL);
}

static GPid
spawn (const gchar *name, const gchar *const *argv, guint port)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *log = g_strdup_printf ("%s/%s.log", h.dir, name);
  g_autofree gchar *pidfile = g_strdup_printf ("%s.pid", name);
  int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  GPid pid;
  g_assert_true (g_spawn_async_with_pipes_and_fds (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                                   NULL, NULL, -1, fd, fd, NULL, NULL, 0, &pid,
                                                   NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  close (fd);
  record_pid (pidfile, pid);
  for (gint i = 0; i < 200; i++)
    {
      g_autoptr(GSocketClient) c = g_socket_client_new ();
      g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (c, "127.0.0.1", port, NULL, NULL);
      if (conn != NULL)
        return pid;
      g_usleep (50000);
    }
  g_error ("%s did not come up; see %s", name, log);
}

static void
setup (void)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  g_autoptr(GError) error = NULL;
  g_autofree gchar *apps = g_build_filename (h.dir, "apps", NULL);
  g_autofree gchar *policy = g_build_filename (h.dir, "interactive.conf", NULL);
  g_autofree gchar *secret = g_build_filename (h.dir, "relay.secret", NULL);
  g_autofree gchar *key = g_build_filename (h.dir, "cookie.key", NULL);
  g_autofree gchar *webapp = NULL, *leaky = NULL, *conf = NULL, *text = NULL;
  const gchar *users[] = { "ada", "alice", "bob", "carol", NULL };

  g_assert_nonnull (build);
  g_assert_nonnull (src);
  h.controller_bin = g_build_filename (build, "daemons", "controller", "minna-controller", NULL);
  h.relay_bin = g_build_filename (build, "daemons", "relay", "minna-relay", NULL);
  h.port = mn_test_free_port ();
  h.relay_port = mn_test_free_port ();
  h.relay_admin = mn_test_free_port ();
  /* one node of two logical nodes: two sessions, one on each (spread) */
  mn_test_write_file (policy, "[queue]\nnodes = 1\nmax_jobs_per_user = 1\n"
                      "[logical_node]\nper_node = 2\nmax_jobs = 2\n", 0644);
  g_mkdir (apps, 0755);
  webapp = g_build_filename (src, "daemons", "controller", "apps", "webapp.app", NULL);
  g_assert_true (g_file_get_contents (webapp, &text, NULL, NULL));
  {
    g_autofree gchar *copy = g_build_filename (apps, "webapp.app", NULL);
    mn_test_write_file (copy, text, 0644);
  }
  leaky = g_build_filename (apps, "leaky.app", NULL);
  mn_test_write_file (leaky, "[app]\nname = Leaky\ndescription = prints secrets\n"
                      "command = echo \"Jupyter is at http://{host}:{port}/lab?token=" LEAK_URL_TOKEN "\"\\n"
                      "echo \"VNC password: " LEAK_PASSWORD "\"\\n"
                      "echo \"my app token is $(cat \"$MINNA_TOKEN_FILE\")\"\\n"
                      "echo 'an ordinary line'\\n"
                      "mkdir -p \"{session_dir}/www{base_url}\" && echo ok > \"{session_dir}/www{base_url}index.html\"\\n"
                      "exec /usr/bin/python3 -m http.server --bind \"{host}\" --directory \"{session_dir}/www\" \"{port}\"\n",
                      0644);
  /* a job replaces its output file with a symlink to a file it may not
   * read (as root the controller could); one keeps running, one fails */
  {
    g_autofree gchar *sneaky = g_build_filename (apps, "sneaky.app", NULL);
    g_autofree gchar *crash = g_build_filename (apps, "sneakycrash.app", NULL);
    mn_test_write_file (sneaky, "[app]\nname = Sneaky\n"
                        "command = rm -f \"{session_dir}/output.log\" && ln -s /etc/passwd \"{session_dir}/output.log\"\\n"
                        "mkdir -p \"{session_dir}/www{base_url}\" && echo ok > \"{session_dir}/www{base_url}index.html\"\\n"
                        "exec /usr/bin/python3 -m http.server --bind \"{host}\" --directory \"{session_dir}/www\" \"{port}\"\n",
                        0644);
    mn_test_write_file (crash, "[app]\nname = Sneaky crash\n"
                        "command = rm -f \"{session_dir}/output.log\" && ln -s /etc/passwd \"{session_dir}/output.log\"; exit 3\n",
                        0644);
  }
  mn_test_write_file (secret, "admin-api-test-relay-secret-0123456789", 0600);
  g_assert_true (mn_auth_key_create_file (key, &error));
  g_assert_no_error (error);
  conf = g_strdup_printf ("[server]\nlisten = 127.0.0.1\nadmins = ada\nwww_dir = %s/daemons/controller/www\n"
                          "[state]\nstate_dir = %s/state\napps_dir = %s\npolicy_file = %s\n"
                          "[auth]\nmethods = users-file\nusers_file = %s/users\nkey_file = %s\n"
                          "pbkdf2_iterations = 1000\n"
                          "[relay]\nurl = http://127.0.0.1:%u\nsecret_file = %s\n"
                          "[backend]\nrun_as = controller\nport_lock_dir = %s/ports\npoll_interval_ms = 100\n"
                          "kill_grace = 1s\nready_timeout = 60s\n"
                          "[accounting]\ncharge_coefficient = 0.2\n",
                          src, h.dir, apps, policy, h.dir, key, h.relay_admin, secret, h.dir);
  h.config = g_build_filename (h.dir, "controller.conf", NULL);
  mn_test_write_file (h.config, conf, 0600);
  for (gsize i = 0; users[i]; i++)
    {
      g_autofree gchar *c = g_strdup_printf ("sh -c 'echo %s-password | %s passwd --config %s %s >/dev/null'",
                                             users[i], h.controller_bin, h.config, users[i]);
      gint status = 0;
      g_assert_true (g_spawn_command_line_sync (c, NULL, NULL, &status, &error));
      g_assert_cmpint (status, ==, 0);
    }
  h.http = soup_session_new_with_options ("timeout", 60, NULL);
  {
    g_autofree gchar *port = g_strdup_printf ("server.port=%u", h.port);
    const gchar *argv[] = { h.controller_bin, "--config", h.config, "--set", port, NULL };
    h.controller = spawn ("controller", argv, h.port);
  }
  {
    g_autofree gchar *http = g_strdup_printf ("127.0.0.1:%u", h.relay_port);
    g_autofree gchar *admin = g_strdup_printf ("127.0.0.1:%u", h.relay_admin);
    g_autofree gchar *ctl = g_strdup_printf ("http://127.0.0.1:%u", h.port);
    g_autofree gchar *state = g_build_filename (h.dir, "relay-state", NULL);
    const gchar *argv[] = { h.relay_bin, "--listen-https", "", "--listen-http", http,
                            "--admin-listen", admin, "--admin-secret-file", secret,
                            "--cookie-key-file", key, "--controller-url", ctl,
                            "--state-dir", state, "--access-log", "", NULL };
    h.relay = spawn ("relay", argv, h.relay_port);
  }
  ada = login ("ada");
  alice = login ("alice");
  bob = login ("bob");
  carol = login ("carol");
}

/* ---- tests ---------------------------------------------------------------------- */

static void
test_not_admin (void)
{
  static const struct {
    const gchar *method, *path;
  } calls[] = {
    { "GET", "/api/v1/admin/sessions" },
    { "GET", "/api/v1/admin/sessions?user=alice" },
    { "GET", "/api/v1/admin/occupancy" },
    { "GET", "/api/v1/admin/accounting" },
    { "GET", "/api/v1/admin/accounting?format=csv" },
    { "GET", "/api/v1/admin/sessions/whatever/output" },
    { "POST", "/api/v1/admin/sessions/whatever/stop" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_auto(Reply) as_bob = request (calls[i].method, calls[i].path, &bob, NULL);
      g_auto(Reply) nobody = request (calls[i].method, calls[i].path, NULL, NULL);
      g_test_message ("%s %s: bob %u, nobody %u", calls[i].method, calls[i].path, as_bob.status, nobody.status);
      g_assert_cmpuint (as_bob.status, ==, 403);
      g_assert_nonnull (strstr (json_object_get_string_member (object (&as_bob), "error"), "administrator"));
      g_assert_true (nobody.status == 401 || nobody.status == 403);
    }
}

static void
test_launch_two (void)
{
  h.alice_id = launch (&alice, "leaky");
  h.bob_id = launch (&bob, "webapp");
  wait_state (h.alice_id, "running", 60);
  wait_state (h.bob_id, "running", 60);
  /* accounting counts whole seconds: let them run for some */
  g_usleep (2100000);
}

static guint
count_sessions (const gchar *query, gint64 *total)
{
  g_autofree gchar *path = g_strdup_printf ("/api/v1/admin/sessions%s", query);
  g_auto(Reply) r = request ("GET", path, &ada, NULL);
  JsonObject *o;
  if (r.status != 200)
    g_error ("%s: %u %s", path, r.status, r.body);
  o = object (&r);
  if (total != NULL)
    *total = json_object_get_int_member (o, "total");
  return json_array_get_length (json_object_get_array_member (o, "sessions"));
}

static void
test_filters (void)
{
  gint64 total = 0;
  static const struct {
    const gchar *query;
    guint n;
    gint64 total;
  } cases[] = {
    { "", 2, 2 },
    { "?user=alice", 1, 1 },
    { "?user=nobody", 0, 0 },
    { "?state=running", 2, 2 },
    { "?state=live", 2, 2 },
    { "?state=ended,failed", 0, 0 },
    { "?state=queued", 0, 0 },
    { "?user=bob&state=running", 1, 1 },
    { "?node=0", 2, 2 },
    { "?node=1", 0, 0 },
    { "?node=0&logical=0", 1, 1 },
    { "?node=0&logical=1", 1, 1 },
    { "?limit=1", 1, 2 },
    { "?limit=1&offset=1", 1, 2 },
    { "?limit=1&offset=2", 0, 2 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint n = count_sessions (cases[i].query, &total);
      g_test_message ("filter '%s': %u of %" G_GINT64_FORMAT, cases[i].query, n, total);
      g_assert_cmpuint (n, ==, cases[i].n);
      g_assert_cmpint (total, ==, cases[i].total);
    }
  /* the user filter gives only that user's, newest first; users are listed */
  {
    g_auto(Reply) r = request ("GET", "/api/v1/admin/sessions?user=alice", &ada, NULL);
    JsonArray *a = json_object_get_array_member (object (&r), "sessions");
    JsonArray *users = json_object_get_array_member (object (&r), "users");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 0), "user"), ==, "alice");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 0), "id"), ==, h.alice_id);
    g_assert_cmpuint (json_array_get_length (users), ==, 2);
    g_assert_cmpstr (json_array_get_string_element (users, 0), ==, "alice");
    g_assert_cmpstr (json_array_get_string_element (users, 1), ==, "bob");
  }
  /* bad filters name the field */
  {
    static const struct {
      const gchar *query, *field;
    } bad[] = {
      { "?state=sleeping", "state" }, { "?node=x", "node" }, { "?node=-1", "node" },
      { "?logical=1.5", "logical" }, { "?limit=0", "limit" }, { "?limit=501", "limit" },
      { "?offset=-3", "offset" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree gchar *path = g_strdup_printf ("/api/v1/admin/sessions%s", bad[i].query);
        g_auto(Reply) r = request ("GET", path, &ada, NULL);
        g_assert_cmpuint (r.status, ==, 400);
        g_assert_cmpstr (json_object_get_string_member (object (&r), "field"), ==, bad[i].field);
      }
  }
}

static void
test_occupancy (void)
{
  g_auto(Reply) r = request ("GET", "/api/v1/admin/occupancy", &ada, NULL);
  JsonObject *o = object (&r);
  JsonArray *nodes = json_object_get_array_member (o, "nodes");
  JsonArray *logical;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "running"), ==, 2);
  g_assert_cmpuint (json_array_get_length (nodes), ==, 1);
  logical = json_object_get_array_member (json_array_get_object_element (nodes, 0), "logical_nodes");
  g_assert_cmpuint (json_array_get_length (logical), ==, 2);
  /* spread placement: one session on each logical node, each listed there */
  for (guint l = 0; l < 2; l++)
    {
      JsonObject *ln = json_array_get_object_element (logical, l);
      JsonArray *sessions = json_object_get_array_member (ln, "sessions");
      g_assert_cmpint (json_object_get_int_member (ln, "jobs"), ==, 1);
      g_assert_cmpint (json_object_get_int_member (ln, "max_jobs"), ==, 2);
      g_assert_cmpuint (json_array_get_length (sessions), ==, 1);
      g_hash_table_add (seen, (gpointer) json_object_get_string_member (json_array_get_object_element (sessions, 0), "user"));
    }
  g_assert_true (g_hash_table_contains (seen, "alice"));
  g_assert_true (g_hash_table_contains (seen, "bob"));

  /* GET /api/v1/queue comes from the same builder without the admin's
   * detail: the same counts for every user, and nobody's name */
  {
    g_auto(Reply) q = request ("GET", "/api/v1/queue", &carol, NULL);
    JsonObject *qo = object (&q);
    JsonArray *qnodes = json_object_get_array_member (qo, "nodes");
    JsonArray *qlogical;
    g_assert_cmpuint (q.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (qo, "queue"), ==,
                     json_object_get_string_member (o, "queue"));
    g_assert_cmpint (json_object_get_int_member (qo, "running"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (qo, "waiting"), ==,
                     json_object_get_int_member (o, "waiting"));
    g_assert_false (json_object_has_member (qo, "waiting_sessions"));
    g_assert_cmpuint (json_array_get_length (qnodes), ==, 1);
    g_assert_false (json_object_has_member (json_array_get_object_element (qnodes, 0), "memory_gb"));
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (qnodes, 0), "jobs"), ==,
                     json_object_get_int_member (json_array_get_object_element (nodes, 0), "jobs"));
    qlogical = json_object_get_array_member (json_array_get_object_element (qnodes, 0), "logical_nodes");
    g_assert_cmpuint (json_array_get_length (qlogical), ==, 2);
    for (guint l = 0; l < 2; l++)
      {
        JsonObject *ln = json_array_get_object_element (qlogical, l);
        g_assert_cmpint (json_object_get_int_member (ln, "logical"), ==, l);
        g_assert_cmpint (json_object_get_int_member (ln, "jobs"), ==, 1);
        g_assert_cmpint (json_object_get_int_member (ln, "max_jobs"), ==, 2);
        g_assert_false (json_object_has_member (ln, "sessions"));
      }
    g_assert_null (strstr (q.body, "alice"));
  }
}

static void
test_output (void)
{
  g_autofree gchar *path = g_strdup_printf ("/api/v1/admin/sessions/%s/output", h.alice_id);
  g_autofree gchar *token_file = g_build_filename (h.dir, "state-sessions", h.alice_id, "token", NULL);
  g_autofree gchar *token = NULL;
  g_autofree gchar *raw_file = g_build_filename (h.dir, "state-sessions", h.alice_id, "output.log", NULL);
  g_autofree gchar *raw = NULL;
  g_auto(Reply) r = request ("GET", path, &ada, NULL);
  const gchar *text;

  g_assert_cmpuint (r.status, ==, 200);
  text = json_object_get_string_member (object (&r), "text");
  g_test_message ("output as the admin sees it:\n%s", text);
  g_assert_true (g_file_get_contents (token_file, &token, NULL, NULL));
  g_strstrip (token);
  g_assert_cmpuint (strlen (token), >=, 16);
  /* the file itself has the secrets: the scrub is what keeps them out */
  g_assert_true (g_file_get_contents (raw_file, &raw, NULL, NULL));
  g_assert_nonnull (strstr (raw, LEAK_URL_TOKEN));
  g_assert_nonnull (strstr (raw, token));
  g_assert_null (strstr (text, LEAK_URL_TOKEN));
  g_assert_null (strstr (text, LEAK_PASSWORD));
  g_assert_null (strstr (text, token));
  g_assert_nonnull (strstr (text, "lab?token=[hidden]"));
  g_assert_nonnull (strstr (text, "VNC password: [hidden]"));
  g_assert_nonnull (strstr (text, "my app token is [hidden]"));
  g_assert_nonnull (strstr (text, "an ordinary line"));
  g_assert_false (json_object_get_boolean_member (object (&r), "truncated"));
  /* bounded: a tail of 40 bytes is cut, from a line start */
  {
    g_autofree gchar *p = g_strdup_printf ("%s?bytes=40", path);
    g_auto(Reply) t = request ("GET", p, &ada, NULL);
    g_assert_cmpuint (t.status, ==, 200);
    g_assert_true (json_object_get_boolean_member (object (&t), "truncated"));
    g_assert_cmpuint (strlen (json_object_get_string_member (object (&t), "text")), <=, 40);
  }
  {
    g_autofree gchar *p = g_strdup_printf ("%s?bytes=2000000", path);
    g_auto(Reply) t = request ("GET", p, &ada, NULL);
    g_assert_cmpuint (t.status, ==, 400);
    g_assert_cmpstr (json_object_get_string_member (object (&t), "field"), ==, "bytes");
  }
  {
    g_auto(Reply) t = request ("GET", "/api/v1/admin/sessions/nosuch/output", &ada, NULL);
    g_assert_cmpuint (t.status, ==, 404);
  }
}

/* The session directory is its user's: the controller neither follows a
 * symlink there into the admin page nor into a failed session's reason. */
static void
test_output_symlink (void)
{
  g_autofree gchar *id = launch (&carol, "sneaky");
  g_autofree gchar *path = NULL, *crash = NULL, *reason = NULL, *state = NULL;
  wait_state (id, "running", 60);
  path = g_strdup_printf ("/api/v1/admin/sessions/%s/output", id);
  {
    g_auto(Reply) r = request ("GET", path, &ada, NULL);
    g_test_message ("output behind a symlink: %u %s", r.status, r.body);
    g_assert_cmpuint (r.status, ==, 409);
    g_assert_nonnull (strstr (json_object_get_string_member (object (&r), "error"), "symbolic link"));
    g_assert_null (strstr (r.body, "root:"));
  }
  {
    g_autofree gchar *stop = g_strdup_printf ("/api/v1/admin/sessions/%s/stop", id);
    g_auto(Reply) r = request ("POST", stop, &ada, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    wait_state (id, "ended", 30);
  }
  crash = launch (&carol, "sneakycrash");
  for (gint i = 0; i < 300; i++)
    {
      g_free (state);
      state = session_field (crash, "state");
      if (g_str_equal (state, "failed") || g_str_equal (state, "ended"))
        break;
      g_usleep (100000);
    }
  g_assert_cmpstr (state, ==, "failed");
  reason = session_field (crash, "reason");
  g_test_message ("failed session's reason: %s", reason);
  g_assert_null (strstr (reason, "root:"));
  g_assert_nonnull (strstr (reason, "no output"));
}

static void
test_stop (void)
{
  g_autofree gchar *path = g_strdup_printf ("/api/v1/admin/sessions/%s/stop", h.bob_id);
  g_autofree gchar *reason = NULL, *end = NULL, *log = NULL;
  g_autofree gchar *log_path = g_build_filename (h.dir, "controller.log", NULL);
  /* a state change needs the CSRF token like every other */
  {
    Login no_csrf = { ada.cookie, (gchar *) "wrong" };
    g_auto(Reply) r = request ("POST", path, &no_csrf, NULL);
    g_assert_cmpuint (r.status, ==, 403);
  }
  {
    g_auto(Reply) r = request ("POST", path, &ada, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (object (&r), "user"), ==, "bob");
  }
  wait_state (h.bob_id, "ended", 30);
  reason = session_field (h.bob_id, "reason");
  end = session_field (h.bob_id, "end_reason");
  g_assert_cmpstr (end, ==, "admin");
  g_assert_nonnull (strstr (reason, "administrator ada"));
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  {
    g_autofree gchar *line = g_strdup_printf ("admin ada stops session %s of bob", h.bob_id);
    g_assert_nonnull (strstr (log, line));
  }
  /* bob sees it ended in his own list; stopping again is a conflict */
  {
    g_auto(Reply) r = request ("POST", path, &ada, NULL);
    g_assert_cmpuint (r.status, ==, 409);
  }
  {
    g_auto(Reply) r = request ("POST", "/api/v1/admin/sessions/nosuch/stop", &ada, NULL);
    g_assert_cmpuint (r.status, ==, 404);
  }
  g_assert_cmpuint (count_sessions ("?state=ended", NULL), ==, 1);
  g_assert_cmpuint (count_sessions ("?state=live", NULL), ==, 1);
}

static void
test_accounting (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *month = g_date_time_format (now, "%Y-%m");
  g_autofree gchar *path = g_strdup_printf ("/api/v1/admin/accounting?from=%s&to=%s", month, month);
  g_auto(Reply) r = request ("GET", path, &ada, NULL);
  JsonObject *o = object (&r);
  JsonArray *rows = json_object_get_array_member (o, "rows");
  gboolean bob_seen = FALSE;

  g_assert_cmpuint (r.status, ==, 200);
  g_test_message ("accounting: %s", r.body);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "charge_coefficient"), 0.2, 1e-9);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      gdouble hours = json_object_get_double_member (row, "hours");
      gdouble node_hours = json_object_get_double_member (row, "node_hours");
      gdouble charged = json_object_get_double_member (row, "charged_node_hours");
      g_assert_cmpstr (json_object_get_string_member (row, "month"), ==, month);
      g_assert_cmpfloat (hours, >, 0);
      g_assert_cmpfloat (hours, <, 1);
      /* 1 core of the default policy's 28-core node; 0.2 of a node billed */
      g_assert_cmpfloat_with_epsilon (node_hours, hours / 28, 1e-9);
      g_assert_cmpfloat_with_epsilon (charged, hours * 0.2, 1e-9);
      bob_seen = bob_seen || g_str_equal (json_object_get_string_member (row, "user"), "bob");
    }
  g_assert_true (bob_seen);
  /* the CSV download */
  {
    g_autofree gchar *csv_path = g_strdup_printf ("%s&format=csv&by=group", path);
    g_auto(Reply) c = request ("GET", csv_path, &ada, NULL);
    g_autofree gchar *want = g_strdup_printf ("attachment; filename=\"minna-accounting-%s-to-%s-by-group.csv\"",
                                              month, month);
    g_assert_cmpuint (c.status, ==, 200);
    g_assert_true (g_str_has_prefix (soup_message_headers_get_one (c.headers, "Content-Type"), "text/csv"));
    g_assert_cmpstr (soup_message_headers_get_one (c.headers, "Content-Disposition"), ==, want);
    g_assert_true (g_str_has_prefix (c.body, "month,group,sessions,hours,node_hours,charged_node_hours\r\n"));
    g_test_message ("CSV:\n%s", c.body);
  }
  {
    g_auto(Reply) c = request ("GET", "/api/v1/admin/accounting?from=2026-13", &ada, NULL);
    g_assert_cmpuint (c.status, ==, 400);
    g_assert_cmpstr (json_object_get_string_member (object (&c), "field"), ==, "from");
  }
  {
    g_auto(Reply) c = request ("GET", "/api/v1/admin/accounting?from=2026-12&to=2026-01", &ada, NULL);
    g_assert_cmpuint (c.status, ==, 400);
    g_assert_cmpstr (json_object_get_string_member (object (&c), "field"), ==, "to");
  }
  {
    g_auto(Reply) c = request ("GET", "/api/v1/admin/accounting?by=project", &ada, NULL);
    g_assert_cmpuint (c.status, ==, 400);
    g_assert_cmpstr (json_object_get_string_member (object (&c), "field"), ==, "by");
  }
}

static void
test_error_pages (void)
{
  const gchar *html = "text/html,application/xhtml+xml,*/*;q=0.8";
  /* the controller's 404: a page for a browser, JSON for a program */
  {
    g_auto(Reply) r = request_to (h.port, "GET", "/no/such/page", NULL, NULL, html);
    g_assert_cmpuint (r.status, ==, 404);
    g_assert_true (g_str_has_prefix (soup_message_headers_get_one (r.headers, "Content-Type"), "text/html"));
    g_assert_nonnull (strstr (r.body, "href=\"/\""));
    g_assert_nonnull (strstr (r.body, "Back to the portal"));
    g_assert_nonnull (strstr (r.body, "/static/portal.css"));
    g_assert_nonnull (soup_message_headers_get_one (r.headers, "Content-Security-Policy"));
  }
  {
    g_auto(Reply) r = request_to (h.port, "GET", "/no/such/page", NULL, NULL, "application/json");
    g_assert_cmpuint (r.status, ==, 404);
    g_assert_nonnull (json_object_get_string_member (object (&r), "error"));
  }
  /* /admin: 403 page for a user who is not an admin, the page for the admin
   * and for a visitor (whose script sends them to the login) */
  {
    g_auto(Reply) r = request_to (h.port, "GET", "/admin", &bob, NULL, html);
    g_assert_cmpuint (r.status, ==, 403);
    g_assert_nonnull (strstr (r.body, "Back to the portal"));
  }
  {
    g_auto(Reply) r = request_to (h.port, "GET", "/admin", &ada, NULL, html);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_nonnull (strstr (r.body, "admin.js"));
  }
  {
    g_auto(Reply) r = request_to (h.port, "GET", "/admin", NULL, NULL, html);
    g_assert_cmpuint (r.status, ==, 200);
  }
  /* the relay's own pages: another user's session and one that is gone */
  {
    g_autofree gchar *p = g_strdup_printf ("/s/%s/", h.alice_id);
    g_auto(Reply) r = request_to (h.relay_port, "GET", p, &bob, NULL, html);
    g_assert_cmpuint (r.status, ==, 403);
    g_assert_nonnull (strstr (r.body, "href=\"/\""));
    g_assert_nonnull (strstr (r.body, "Back to the portal"));
    g_assert_nonnull (strstr (r.body, "<style"));
  }
  {
    g_auto(Reply) r = request_to (h.relay_port, "GET", "/s/0123456789abcdef/", &bob, NULL, html);
    g_assert_cmpuint (r.status, ==, 404);
    g_assert_nonnull (strstr (r.body, "Back to the portal"));
  }
  /* and the portal's 404 through the relay */
  {
    g_auto(Reply) r = request_to (h.relay_port, "GET", "/no/such/page", &bob, NULL, html);
    g_assert_cmpuint (r.status, ==, 404);
    g_assert_nonnull (strstr (r.body, "Back to the portal"));
  }
}

static void
clean_up (void)
{
  kill_recorded ("relay.pid");
  kill_recorded ("controller.pid");
  mn_test_kill_jobs (h.dir);
  mn_test_remove_dir (h.dir);
}

int
main (int argc, char **argv)
{
  int rc;
  g_autoptr(GError) error = NULL;
  g_test_init (&argc, &argv, NULL);
  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_message ("no /usr/bin/python3");
      return 77;
    }
  h.dir = g_dir_make_tmp ("minna-admin-api-XXXXXX", &error);
  g_assert_no_error (error);
  if ((rc = mn_test_run_in_child (clean_up)) >= 0)
    return rc;
  setup ();
  g_test_add_func ("/controller/admin-api/not-admin-gets-403", test_not_admin);
  g_test_add_func ("/controller/admin-api/launch-two", test_launch_two);
  g_test_add_func ("/controller/admin-api/filters", test_filters);
  g_test_add_func ("/controller/admin-api/occupancy", test_occupancy);
  g_test_add_func ("/controller/admin-api/output-scrubbed", test_output);
  g_test_add_func ("/controller/admin-api/stop", test_stop);
  g_test_add_func ("/controller/admin-api/output-symlink-refused", test_output_symlink);
  g_test_add_func ("/controller/admin-api/accounting", test_accounting);
  g_test_add_func ("/controller/admin-api/error-pages", test_error_pages);
  rc = g_test_run ();
  kill (h.relay, SIGTERM);
  waitpid (h.relay, NULL, 0);
  kill (h.controller, SIGTERM);
  waitpid (h.controller, NULL, 0);
  g_object_unref (h.http);
  fflush (stdout);
  _exit (rc);
}
