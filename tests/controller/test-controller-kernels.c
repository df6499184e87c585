/* Integration: GET /api/v1/kernels of the real minna-controller, listing
 * kernels written by the real minna-kernel.
 *
 * As root the controller runs with [backend] run_as = user and each portal
 * user is a real Unix account created here (kernels in their own home; the
 * controller's own JUPYTER_DATA_DIR holds a decoy that must never show);
 * otherwise run_as = controller and both portal users share this account.
 * The controller is restarted with other [backend] kernel_program values for
 * the failure cases: missing, failing, nonsense, hanging.  Everything
 * started here is killed by PID, accounts are deleted, in a parent process
 * that outlives an aborted assertion. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller-test-util.h"
#include "mn-auth-cookie.h"

/* Unix accounts (as root) and portal users */
#define USER_NONE "minnakern1"
#define USER_HAS  "minnakern2"

static struct {
  gchar       *dir;
  gchar       *controller_bin;
  gchar       *kernel_bin;    /* a copy in dir, which every account can run */
  gchar       *config;
  guint        port;
  GPid         controller;
  gboolean     accounts;      /* root, with Unix accounts for the users */
  SoupSession *http;
} h;

/* ---- small helpers -------------------------------------------------------------- */

static gchar *
tpath (const gchar *rel)
{
  return g_build_filename (h.dir, rel, NULL);
}

/* A fake minna-kernel: a shell script in the test directory. */
static gchar *
fake_program (const gchar *name, const gchar *body)
{
  gchar *path = tpath (name);
  g_autofree gchar *text = g_strdup_printf ("#!/bin/sh\n%s\n", body);
  mn_test_write_file (path, text, 0755);
  return path;
}

/* @env NULL: ours; commands are looked up in our PATH. */
static gint
run (const gchar *const *argv, const gchar *const *env, gchar **out, gchar **err)
{
  g_autoptr(GError) error = NULL;
  gint status = -1;
  g_assert_true (g_spawn_sync ("/", (gchar **) argv, (gchar **) env, G_SPAWN_SEARCH_PATH,
                               NULL, NULL, out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* ---- HTTP -------------------------------------------------------------------- */

typedef struct {
  guint     status;
  JsonNode *json;
  gchar    *body;
} Reply;

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->json, json_node_unref);
  g_clear_pointer (&r->body, g_free);
}

static Reply
request (SoupSession *session, const gchar *method, const gchar *path, const gchar *cookie,
         const gchar *body, gchar **set_cookie)
{
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/api/v1/%s", h.port, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Reply r = { 0 };
  if (cookie)
    {
      g_autofree gchar *c = g_strdup_printf ("%s=%s", MN_AUTH_COOKIE_NAME, cookie);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Cookie", c);
    }
  if (body)
    soup_message_set_request_body_from_bytes (msg, "application/json",
                                              g_bytes_new (body, strlen (body)));
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  r.status = soup_message_get_status (msg);
  r.body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (json_parser_load_from_data (parser, r.body, -1, NULL))
    r.json = json_node_ref (json_parser_get_root (parser));
  if (set_cookie)
    {
      const gchar *sc = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                      "Set-Cookie");
      g_autofree gchar *prefix = g_strdup_printf ("%s=", MN_AUTH_COOKIE_NAME);
      *set_cookie = NULL;
      if (sc && g_str_has_prefix (sc, prefix))
        *set_cookie = g_strndup (sc + strlen (prefix), strcspn (sc + strlen (prefix), ";"));
    }
  return r;
}

static gchar *
login (const gchar *user)
{
  g_autofree gchar *body = g_strdup_printf ("{\"user\":\"%s\",\"password\":\"%s-pw\"}", user, user);
  gchar *cookie = NULL;
  Reply r = request (h.http, "POST", "login", NULL, body, &cookie);
  if (r.status != 200 || cookie == NULL)
    g_error ("login %s: %u %s", user, r.status, r.body);
  reply_clear (&r);
  return cookie;
}

static JsonObject *
object (const Reply *r)
{
  if (r->json == NULL || !JSON_NODE_HOLDS_OBJECT (r->json))
    g_error ("HTTP %u, not a JSON object: '%s'", r->status, r->body);
  return json_node_get_object (r->json);
}

/* GET /api/v1/kernels for @user: the kernels array; the warning in @warning. */
static JsonArray *
kernels_of (const gchar *user, gchar **warning)
{
  g_autofree gchar *cookie = login (user);
  Reply r = request (h.http, "GET", "kernels", cookie, NULL, NULL);
  JsonObject *o = object (&r);
  JsonArray *a;
  g_test_message ("GET kernels as %s: %u %s", user, r.status, r.body);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_true (json_object_has_member (o, "warning"));
  if (warning)
    *warning = json_object_get_null_member (o, "warning")
               ? NULL : g_strdup (json_object_get_string_member (o, "warning"));
  a = json_array_ref (json_object_get_array_member (o, "kernels"));
  reply_clear (&r);
  return a;
}

/* ---- the controller ---------------------------------------------------------- */

static void
record_pid (GPid pid)
{
  g_autofree gchar *path = tpath ("controller.pid");
  g_autofree gchar *text = g_strdup_printf ("%d\n", pid);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
stop_controller (void)
{
  if (h.controller <= 0)
    return;
  kill (h.controller, SIGTERM);
  waitpid (h.controller, NULL, 0);
  h.controller = 0;
  soup_session_abort (h.http);
}

/* (Re)starts the controller with @program as [backend] kernel_program. */
static void
start_controller (const gchar *program, const gchar *timeout)
{
  g_autofree gchar *port = g_strdup_printf ("server.port=%u", h.port);
  g_autofree gchar *prog = g_strdup_printf ("backend.kernel_program=%s", program);
  g_autofree gchar *tmo = g_strdup_printf ("backend.kernel_timeout=%s", timeout);
  const gchar *argv[] = { h.controller_bin, "--config", h.config, "--set", port,
                          "--set", prog, "--set", tmo, NULL };
  g_autofree gchar *log = tpath ("controller.log");
  g_autofree gchar *decoy = tpath ("controller-data");
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);

  stop_controller ();
  /* the controller's own Jupyter data directory: as root (run_as = user)
   * nothing from it may show; otherwise it is the shared account's */
  env = g_environ_setenv (env, "JUPYTER_DATA_DIR", decoy, TRUE);
  g_assert_true (g_spawn_async_with_pipes_and_fds (NULL, argv, (const gchar *const *) env,
                                                   G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                                   -1, fd, fd, NULL, NULL, 0, &h.controller,
                                                   NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  close (fd);
  record_pid (h.controller);
  for (gint i = 0; i < 200; i++)
    {
      g_autoptr(GSocketClient) c = g_socket_client_new ();
      g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_to_host (c, "127.0.0.1", h.port, NULL, NULL);
      if (conn != NULL)
        return;
      g_usleep (50000);
    }
  g_error ("the controller did not come up; see %s", log);
}

/* `minna-kernel add` as @user (as root) or as this account, into the
 * directory the controller will look at. */
static void
add_kernel (const gchar *user, const gchar *name, const gchar *display)
{
  g_autofree gchar *out = NULL, *err = NULL;
  g_autofree gchar *data = tpath ("controller-data");
  g_autofree gchar *data_env = g_strdup_printf ("JUPYTER_DATA_DIR=%s", data);
  const gchar *as_user[] = { "runuser", "-u", user, "--", h.kernel_bin, "add", name,
                             "--python", "/usr/bin/python3", "--display-name", display, NULL };
  const gchar *as_us[] = { h.kernel_bin, "add", name, "--python", "/usr/bin/python3",
                           "--display-name", display, NULL };
  /* runuser adds the user's HOME */
  const gchar *user_env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
  const gchar *our_env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", data_env, NULL };
  gint code = h.accounts ? run (as_user, user_env, &out, &err) : run (as_us, our_env, &out, &err);
  g_test_message ("minna-kernel add %s as %s: %d\n%s%s", name, user, code, out, err);
  g_assert_cmpint (code, ==, 0);
}

/* ---- tests ------------------------------------------------------------------- */

static void
test_logged_out (void)
{
  Reply r = request (h.http, "GET", "kernels", NULL, NULL, NULL);
  g_assert_cmpuint (r.status, ==, 401);
  g_assert_nonnull (json_object_get_string_member (object (&r), "error"));
  reply_clear (&r);
  r = request (h.http, "GET", "kernels", "alice.123.bogus", NULL, NULL);
  g_assert_cmpuint (r.status, ==, 401);
  reply_clear (&r);
  /* only GET */
  {
    g_autofree gchar *cookie = login (USER_NONE);
    r = request (h.http, "DELETE", "kernels", cookie, NULL, NULL);
    g_assert_cmpuint (r.status, ==, 404);
    reply_clear (&r);
  }
}

static void
test_none (void)
{
  g_autofree gchar *warning = NULL;
  g_autoptr(JsonArray) a = kernels_of (USER_NONE, &warning);
  g_assert_cmpuint (json_array_get_length (a), ==, 0);
  g_assert_null (warning);
}

static void
test_listed (void)
{
  g_autofree gchar *warning = NULL;
  g_autoptr(JsonArray) a = NULL;
  JsonObject *k;

  add_kernel (USER_HAS, "physics", "Physics (modules)");
  a = kernels_of (USER_HAS, &warning);
  g_assert_null (warning);
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  k = json_array_get_object_element (a, 0);
  g_assert_cmpstr (json_object_get_string_member (k, "name"), ==, "physics");
  g_assert_cmpstr (json_object_get_string_member (k, "display_name"), ==, "Physics (modules)");
  g_assert_true (json_object_get_boolean_member (k, "managed"));
  g_assert_true (json_object_has_member (k, "modules"));
  g_assert_true (json_object_get_null_member (k, "problem"));
}

/* The first user's answer is kept: a kernel added since does not show
 * until the cache expires (no fork per page load). */
static void
test_cached (void)
{
  g_autofree gchar *warning = NULL;
  g_autoptr(JsonArray) a = NULL;
  add_kernel (USER_NONE, "later", "Added later");
  a = kernels_of (USER_NONE, &warning);
  g_assert_cmpuint (json_array_get_length (a), ==, 0);
}

typedef struct {
  const gchar *name;
  const gchar *script;     /* NULL: a program that does not exist */
  const gchar *warning;    /* part of the warning */
} FailCase;

static const FailCase fail_cases[] = {
  { "missing", NULL, "missing or not executable" },
  { "fails", "echo 'cannot read the home directory' >&2; exit 3",
    "failed (exit status 3): cannot read the home directory" },
  { "nonsense", "echo 'kernels: none'", "is not JSON" },
  { "no-list", "echo '{\"kernels\": 3}'", "no \"kernels\" array" },
};

static void
test_failure (gconstpointer data)
{
  const FailCase *c = data;
  g_autofree gchar *file = g_strdup_printf ("fake-%s", c->name);
  g_autofree gchar *program = c->script ? fake_program (file, c->script) : tpath (file);
  g_autofree gchar *warning = NULL;
  g_autoptr(JsonArray) a = NULL;
  start_controller (program, "10s");
  a = kernels_of (USER_HAS, &warning);
  g_assert_cmpuint (json_array_get_length (a), ==, 0);
  g_assert_nonnull (warning);
  if (strstr (warning, c->warning) == NULL)
    g_error ("warning '%s' does not contain '%s'", warning, c->warning);
  {
    /* logged too */
    g_autofree gchar *log_path = tpath ("controller.log");
    g_autofree gchar *log = NULL;
    g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
    g_assert_nonnull (strstr (log, c->warning));
  }
}

typedef struct {
  gchar *cookie;
  Reply  reply;
  gint64 took;   /* µs */
} Pending;

static gpointer
pending_thread (gpointer data)
{
  Pending *p = data;
  g_autoptr(SoupSession) s = soup_session_new_with_options ("timeout", 60, NULL);
  gint64 t0 = g_get_monotonic_time ();
  p->reply = request (s, "GET", "kernels", p->cookie, NULL, NULL);
  p->took = g_get_monotonic_time () - t0;
  return NULL;
}

static gboolean
process_gone (pid_t pid)
{
  g_autofree gchar *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *stat = NULL;
  const gchar *paren;
  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return TRUE;
  paren = strrchr (stat, ')');
  return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

/* A hanging minna-kernel: the controller keeps answering, both waiting
 * requests share one run, which is killed with its child after the
 * timeout, and the answer is a 504 naming the cause. */
static void
test_timeout (void)
{
  g_autofree gchar *runs = tpath ("hang-runs");
  g_autofree gchar *pidfile = tpath ("hang-sleep.pid");
  g_autofree gchar *body = g_strdup_printf ("echo run >> %s; sleep 60 & echo $! > %s; wait",
                                            runs, pidfile);
  g_autofree gchar *program = fake_program ("fake-hang", body);
  g_autofree gchar *cookie = NULL;
  g_autofree gchar *text = NULL;
  Pending p[2] = { { 0 } };
  GThread *t[2];
  pid_t sleeper = 0;

  /* the directory is writable by the user minna-kernel runs as */
  g_assert_cmpint (g_chmod (h.dir, 01777), ==, 0);
  start_controller (program, "5s");
  cookie = login (USER_HAS);
  for (gint i = 0; i < 2; i++)
    {
      p[i].cookie = cookie;
      t[i] = g_thread_new ("kernels", pending_thread, &p[i]);
    }
  /* meanwhile other requests are answered: a main loop blocked on
   * minna-kernel would hold them until the kill, 5 s */
  for (gint i = 0; i < 10; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      Reply r = request (h.http, "GET", "me", cookie, NULL, NULL);
      g_assert_cmpuint (r.status, ==, 200);
      g_assert_cmpint (g_get_monotonic_time () - t0, <, 3 * G_USEC_PER_SEC);
      reply_clear (&r);
      g_usleep (100000);
    }
  for (gint i = 0; i < 2; i++)
    {
      g_thread_join (t[i]);
      g_test_message ("hanging: %u %s after %.1f s", p[i].reply.status, p[i].reply.body,
                      p[i].took / 1e6);
      g_assert_cmpuint (p[i].reply.status, ==, 504);
      g_assert_nonnull (strstr (json_object_get_string_member (object (&p[i].reply), "error"),
                                "did not answer within 5 s"));
      g_assert_cmpint (p[i].took, >=, 9 * G_USEC_PER_SEC / 2);
      g_assert_cmpint (p[i].took, <, 30 * G_USEC_PER_SEC);
      reply_clear (&p[i].reply);
    }
  g_assert_true (g_file_get_contents (runs, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "run\n");
  /* the script's own child is gone too (its process group was killed) */
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (pidfile, &text, NULL, NULL));
  sleeper = (pid_t) g_ascii_strtoll (text, NULL, 10);
  g_assert_cmpint (sleeper, >, 1);
  for (gint i = 0; i < 50 && !process_gone (sleeper); i++)
    g_usleep (100000);
  g_assert_true (process_gone (sleeper));
  g_assert_cmpint (g_chmod (h.dir, 0755), ==, 0);
}

/* ---- set-up ------------------------------------------------------------------ */

static void
delete_accounts (void)
{
  const gchar *users[] = { USER_NONE, USER_HAS };
  for (gsize i = 0; i < G_N_ELEMENTS (users); i++)
    if (getpwnam (users[i]) != NULL)
      {
        const gchar *argv[] = { "userdel", "-r", users[i], NULL };
        g_autofree gchar *err = NULL;
        run (argv, NULL, NULL, &err);
      }
}

static void
setup (void)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  const gchar *users[] = { USER_NONE, USER_HAS, NULL };
  g_autofree gchar *key = tpath ("cookie.key");
  g_autofree gchar *conf = NULL, *built = NULL, *home = tpath ("home"), *useradd = NULL;
  g_autoptr(GFile) from = NULL, to = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (build);
  h.controller_bin = g_build_filename (build, "daemons", "controller", "minna-controller", NULL);
  built = g_build_filename (build, "kernel", "minna-kernel", NULL);
  /* other accounts may not reach the build directory (/root/...) */
  h.kernel_bin = tpath ("minna-kernel");
  from = g_file_new_for_path (built);
  to = g_file_new_for_path (h.kernel_bin);
  g_assert_true (g_file_copy (from, to, G_FILE_COPY_NONE, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (h.kernel_bin, 0755), ==, 0);
  g_assert_cmpint (g_chmod (h.dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (home, 0755), ==, 0);
  {
    g_autofree gchar *apps = tpath ("apps");
    g_autofree gchar *app = tpath ("apps/web.app");
    g_assert_cmpint (g_mkdir (apps, 0755), ==, 0);
    mn_test_write_file (app, "[app]\nname = Web\ncommand = sleep 1\n", 0644);
  }
  h.port = mn_test_free_port ();
  useradd = g_find_program_in_path ("useradd");
  h.accounts = geteuid () == 0 && useradd != NULL;
  if (h.accounts)
    {
      delete_accounts ();
      for (gsize i = 0; users[i] && h.accounts; i++)
        {
          g_autofree gchar *dir = g_build_filename (home, users[i], NULL);
          const gchar *argv[] = { "useradd", "-m", "-d", dir, "-s", "/bin/sh", users[i], NULL };
          g_autofree gchar *err = NULL;
          if (run (argv, NULL, NULL, &err) != 0)
            {
              g_test_message ("useradd %s: %s", users[i], err);
              h.accounts = FALSE;
            }
        }
    }
  g_test_message ("%s", h.accounts ? "root: run_as = user, real accounts " USER_NONE " and " USER_HAS
                                   : "run_as = controller: both portal users are this account");
  g_assert_true (mn_auth_key_create_file (key, &error));
  g_assert_no_error (error);
  conf = g_strdup_printf ("[server]\nlisten = 127.0.0.1\n"
                          "[state]\nstate_dir = %s/state\napps_dir = %s/apps\n"
                          "[auth]\nmethods = users-file\nusers_file = %s/users\nkey_file = %s\n"
                          "pbkdf2_iterations = 1000\n"
                          "[relay]\nurl = \n"
                          "[backend]\nrun_as = %s\nport_lock_dir = %s/ports\n",
                          h.dir, h.dir, h.dir, key, h.accounts ? "user" : "controller", h.dir);
  h.config = tpath ("controller.conf");
  mn_test_write_file (h.config, conf, 0600);
  for (gsize i = 0; users[i]; i++)
    {
      g_autofree gchar *c = g_strdup_printf ("sh -c 'echo %s-pw | %s passwd --config %s %s >/dev/null'",
                                             users[i], h.controller_bin, h.config, users[i]);
      gint status = 0;
      g_assert_true (g_spawn_command_line_sync (c, NULL, NULL, &status, &error));
      g_assert_cmpint (status, ==, 0);
    }
  h.http = soup_session_new_with_options ("timeout", 60, NULL);
  if (h.accounts)
    {
      /* a kernel of the controller's own account: must not show for users */
      g_autofree gchar *out = NULL, *err = NULL;
      g_autofree gchar *data = tpath ("controller-data");
      g_autofree gchar *data_env = g_strdup_printf ("JUPYTER_DATA_DIR=%s", data);
      const gchar *argv[] = { h.kernel_bin, "add", "decoy", "--python", "/usr/bin/python3", NULL };
      const gchar *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", data_env, NULL };
      if (run (argv, env, &out, &err) != 0)
        g_error ("minna-kernel add decoy: %s%s", out, err);
    }
  start_controller (h.kernel_bin, "10s");
}

static void
clean_up (void)
{
  g_autofree gchar *pid_path = tpath ("controller.pid");
  g_autofree gchar *text = NULL;
  if (g_file_get_contents (pid_path, &text, NULL, NULL))
    {
      gint pid = (gint) g_ascii_strtoll (text, NULL, 10);
      if (pid > 1)
        kill (pid, SIGKILL);
    }
  if (geteuid () == 0)
    delete_accounts ();
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
      g_test_message ("no /usr/bin/python3 (minna-kernel add needs a Python with ipykernel)");
      return 77;
    }
  h.dir = g_dir_make_tmp ("minna-ctl-kernels-XXXXXX", &error);
  g_assert_no_error (error);
  /* the tests run in a child, so that the parent cleans up even after an
   * aborted assertion */
  if ((rc = mn_test_run_in_child (clean_up)) >= 0)
    return rc;
  setup ();
  g_test_add_func ("/controller/kernels/logged-out", test_logged_out);
  g_test_add_func ("/controller/kernels/none", test_none);
  g_test_add_func ("/controller/kernels/listed", test_listed);
  g_test_add_func ("/controller/kernels/cached", test_cached);
  for (gsize i = 0; i < G_N_ELEMENTS (fail_cases); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/controller/kernels/warning/%s", fail_cases[i].name);
      g_test_add_data_func (name, &fail_cases[i], test_failure);
    }
  g_test_add_func ("/controller/kernels/timeout", test_timeout);
  rc = g_test_run ();
  stop_controller ();
  fflush (stdout);
  _exit (rc);
}
