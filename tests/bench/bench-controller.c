/* bench-controller: the 10:00 lecture.  N users (100) press Launch at the
 * same moment on the local backend with a small test app; time from request
 * to running (p50, p99), how many ran or were refused with a reason, and the
 * controller's CPU time.  Baseline, in the same run: the same N apps started
 * directly (sh + the app, no controller), time to their first answer.
 *
 *   bench-controller [--users N] [--max-starting N] [--page hold|poll] [--json FILE]
 *
 * Each user's page follows its session as the portal does (--page hold,
 * the default): it asks for its list and the controller holds the request
 * until the list changes (?wait=25&since=TOKEN), then asks again 20 ms
 * later, so the page sees each change as soon as it is stored.  Its times
 * are compared with the baseline's apps as first answered (probed every
 * 50 ms).  --page poll is the portal before held lists: the page polls its
 * session every 500 ms, and is compared with the baseline as such a page
 * would see it.  The table shows the baseline both ways.  The last row is how long the
 * launch request itself took to be answered.  The measuring client stands for browsers on other machines:
 * as root it runs in a cpu cgroup of its own with the largest weight, and
 * puts the baseline's apps and the controller back in the root cgroup.
 * MINNA_BENCH_CGROUP=none runs the controller with rlimits instead of
 * cgroups (cgroup v1 mkdir is serialised in the kernel).
 *
 * Needs MINNA_BUILD_DIR (set by meson). */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller-test-util.h"
#include "mn-auth-cookie.h"
#include "mn-controller-auth.h"
#include "mn-policy.h"

/* A tiny HTTP answerer: perl (perl-base, always there) starts in ~15 ms of
 * CPU; python takes 4x that, which on a 2-core machine is the whole budget. */
#define APP_COMMAND \
  "exec perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>$ENV{MINNA_HOST}," \
  "LocalPort=>$ENV{MINNA_PORT},Listen=>64,ReuseAddr=>1) or die \"listen: $!\";" \
  " while($c=$s->accept){while(<$c>){last if /^\\r?$/} print $c \"HTTP/1.0 200 OK\\r\\n" \
  "Content-Length: 2\\r\\n\\r\\nok\"; close $c}'"

typedef struct {
  guint     i;
  gchar    *user;
  gchar    *cookie;
  gchar    *csrf;
  gchar    *id;
  gint64    t0, t1;       /* request sent, seen running (µs, monotonic) */
  gint64    t_answer;     /* the launch request answered */
  gint64    t_running;    /* the session's own "started" (the controller's clock, s) */
  gchar    *state;
  gchar    *reason;
  gboolean  done;
  gboolean  polling;
  gchar    *token;        /* the last list's "changes" (--page hold) */
  GPid      direct_pid;   /* baseline */
  guint     direct_port;
} User;

static SoupSession *http;
static guint page_requests;   /* the pages' requests while the sessions started */
static gboolean page_poll;   /* --page poll: 500 ms polls instead of held lists */
#define REHOLD_MS 20         /* the portal's pause between a list and the next held one */
static guint port, n_users = 100, n_done;
static GMainLoop *loop;
static User *users;

static SoupMessage *
message (const gchar *method, const gchar *path, User *u, const gchar *body)
{
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/api/v1/%s", port, path);
  SoupMessage *msg = soup_message_new (method, url);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (u && u->cookie)
    {
      g_autofree gchar *c = g_strdup_printf ("%s=%s", MN_AUTH_COOKIE_NAME, u->cookie);
      soup_message_headers_replace (h, "Cookie", c);
    }
  if (u && u->csrf)
    soup_message_headers_replace (h, "X-CSRF-Token", u->csrf);
  if (body)
    soup_message_set_request_body_from_bytes (msg, "application/json",
                                              g_bytes_new (body, strlen (body)));
  return msg;
}

static JsonObject *
parse (GBytes *bytes, JsonParser *p)
{
  if (bytes == NULL || !json_parser_load_from_data (p, g_bytes_get_data (bytes, NULL),
                                                    g_bytes_get_size (bytes), NULL))
    return NULL;
  return JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p))
         ? json_node_get_object (json_parser_get_root (p)) : NULL;
}

static void
finish_user (User *u, const gchar *state, const gchar *reason)
{
  if (u->done)
    return;
  u->done = TRUE;
  u->t1 = g_get_monotonic_time ();
  u->state = g_strdup (state);
  u->reason = g_strdup (reason);
  if (++n_done == n_users)
    g_main_loop_quit (loop);
}

static void poll_user (User *u);

/* @s (a session's JSON) is done starting (running, failed, ended): its
 * user is finished with it; FALSE while it starts. */
static gboolean
finish_if_settled (User *u, JsonObject *s)
{
  const gchar *st = s != NULL ? json_object_get_string_member_with_default (s, "state", "?") : "?";
  if (!g_str_equal (st, "running") && !g_str_equal (st, "failed") && !g_str_equal (st, "ended"))
    return FALSE;
  finish_user (u, st, json_object_get_null_member (s, "reason")
                      ? NULL : json_object_get_string_member (s, "reason"));
  return TRUE;
}

static void
on_get (GObject *src, GAsyncResult *res, gpointer data)
{
  User *u = data;
  SoupMessage *msg = g_object_get_data (src, "dummy");
  g_autoptr(GBytes) b = soup_session_send_and_read_finish (SOUP_SESSION (src), res, NULL);
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o = parse (b, p);
  (void) msg;
  u->polling = FALSE;
  finish_if_settled (u, o);
}

static void
poll_user (User *u)
{
  g_autofree gchar *path = g_strdup_printf ("sessions/%s", u->id);
  g_autoptr(SoupMessage) msg = message ("GET", path, u, NULL);
  u->polling = TRUE;
  page_requests++;
  soup_session_send_and_read_async (http, msg, G_PRIORITY_DEFAULT, NULL, on_get, u);
}

/* --page hold: the portal's list, held by the controller until it changes */
static void hold_user (User *u);

static gboolean
rehold (gpointer data)
{
  hold_user (data);
  return G_SOURCE_REMOVE;
}

static void
on_list (GObject *src, GAsyncResult *res, gpointer data)
{
  User *u = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = soup_session_send_and_read_finish (SOUP_SESSION (src), res, &error);
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o = parse (b, p);
  JsonArray *list = o && json_object_has_member (o, "sessions")
                    ? json_object_get_array_member (o, "sessions") : NULL;
  if (u->done)
    return;
  if (list == NULL)
    return finish_user (u, "error", error ? error->message : "the list is not JSON");
  g_free (u->token);
  u->token = g_strdup (json_object_get_string_member_with_default (o, "changes", ""));
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *s = json_array_get_object_element (list, i);
      if (g_str_equal (json_object_get_string_member_with_default (s, "id", ""), u->id) &&
          finish_if_settled (u, s))
        return;
    }
  g_timeout_add (REHOLD_MS, rehold, u);
}

static void
hold_user (User *u)
{
  g_autofree gchar *path = u->token != NULL && *u->token
                           ? g_strdup_printf ("sessions?all=0&wait=25&since=%s", u->token)
                           : g_strdup ("sessions?all=0");
  g_autoptr(SoupMessage) msg = message ("GET", path, u, NULL);
  page_requests++;
  soup_session_send_and_read_async (http, msg, G_PRIORITY_DEFAULT, NULL, on_list, u);
}

static gboolean
poll_all (gpointer data)
{
  for (guint i = 0; i < n_users; i++)
    if (users[i].id && !users[i].done && !users[i].polling)
      poll_user (&users[i]);
  return G_SOURCE_CONTINUE;
}

static void
on_launch (GObject *src, GAsyncResult *res, gpointer data)
{
  User *u = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = soup_session_send_and_read_finish (SOUP_SESSION (src), res, &error);
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o = parse (b, p);
  u->t_answer = g_get_monotonic_time ();
  if (o == NULL)
    return finish_user (u, "error", error ? error->message : "no JSON");
  if (json_object_has_member (o, "id"))
    {
      u->id = g_strdup (json_object_get_string_member (o, "id"));
      if (g_str_equal (json_object_get_string_member (o, "state"), "failed"))
        finish_user (u, "failed", json_object_get_string_member (o, "reason"));
      else if (!page_poll)
        hold_user (u);
    }
  else
    finish_user (u, "refused", json_object_get_string_member_with_default (o, "error", "?"));
}

/* The measuring client stands for the users' browsers, which are on other
 * machines: it must not wait for CPU behind the apps it measures (a
 * hundred starting jobs, or processes, would delay reading the answers and
 * every measurement would end at the same moment).  As root, with a cgroup
 * v1 cpu hierarchy, it moves into a cpu cgroup of its own with the largest
 * weight, for both the baseline and the controller; removed at the end. */
static gchar *client_cgroup;

/* cgroupfs takes a write to the file itself (no temporary file + rename). */
static gboolean
write_cgroup_file (const gchar *path, const gchar *value)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;
  if (fd < 0)
    return FALSE;
  ok = write (fd, value, strlen (value)) == (ssize_t) strlen (value);
  close (fd);
  return ok;
}

/* For the signal handler (async-signal-safe: no allocation there). */
static char client_cgroup_path[128];
static char client_pid_text[24];
static const int client_signals[] = { SIGABRT, SIGTRAP, SIGTERM, SIGINT, SIGHUP };

/* Back to the root cgroup, then the directory can go; the signals that
 * would have removed it are the default again. */
static void
client_priority_end_now (const gchar *dir)
{
  g_autofree gchar *pid = g_strdup_printf ("%d", (int) getpid ());
  write_cgroup_file ("/sys/fs/cgroup/cpu/cgroup.procs", pid);
  if (g_rmdir (dir) != 0)
    g_printerr ("bench-controller: could not remove %s: %s\n", dir, g_strerror (errno));
  for (gsize i = 0; i < G_N_ELEMENTS (client_signals); i++)
    signal (client_signals[i], SIG_DFL);
}

/* Killed (a meson timeout) or aborted (a failed assertion: SIGABRT, or
 * SIGTRAP from g_error): the process leaves its cgroup for the root's,
 * then the cgroup can go; then it dies of the signal as it would have. */
static void
client_cgroup_on_signal (int sig)
{
  int fd = open ("/sys/fs/cgroup/cpu/cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, client_pid_text, strlen (client_pid_text)) < 0)
        {
        }
      close (fd);
    }
  rmdir (client_cgroup_path);
  signal (sig, SIG_DFL);
  raise (sig);
}

/* The cgroups of earlier runs that ended without removing theirs (SIGKILL):
 * empty, and their process gone (rmdir never removes a busy one). */
static void
remove_stale_client_cgroups (void)
{
  g_autoptr(GDir) d = g_dir_open ("/sys/fs/cgroup/cpu", 0, NULL);
  const gchar *name;
  guint removed = 0;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      const gchar *digits = name + strlen ("minna-bench-client-");
      g_autofree gchar *path = NULL;
      pid_t pid;
      if (!g_str_has_prefix (name, "minna-bench-client-") || digits[0] == '\0' ||
          strspn (digits, "0123456789") != strlen (digits))
        continue;
      pid = (pid_t) g_ascii_strtoll (digits, NULL, 10);
      if (pid <= 0 || kill (pid, 0) == 0 || errno != ESRCH)
        continue;   /* its benchmark may still run */
      path = g_build_filename ("/sys/fs/cgroup/cpu", name, NULL);
      if (g_rmdir (path) == 0)
        removed++;
    }
  if (removed > 0)
    g_printerr ("bench-controller: removed %u cpu cgroup%s of earlier runs that were killed\n",
                removed, removed == 1 ? "" : "s");
}

static void
client_priority (void)
{
  g_autofree gchar *dir = g_strdup_printf ("/sys/fs/cgroup/cpu/minna-bench-client-%d", (int) getpid ());
  g_autofree gchar *shares = g_build_filename (dir, "cpu.shares", NULL);
  g_autofree gchar *procs = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree gchar *pid = g_strdup_printf ("%d", (int) getpid ());
  if (geteuid () != 0 || !g_file_test ("/sys/fs/cgroup/cpu/cpu.shares", G_FILE_TEST_EXISTS))
    return;
  remove_stale_client_cgroups ();
  if (g_mkdir (dir, 0755) != 0)
    return;
  g_strlcpy (client_cgroup_path, dir, sizeof client_cgroup_path);
  g_strlcpy (client_pid_text, pid, sizeof client_pid_text);
  for (gsize i = 0; i < G_N_ELEMENTS (client_signals); i++)
    signal (client_signals[i], client_cgroup_on_signal);
  if (write_cgroup_file (shares, "262144") && write_cgroup_file (procs, pid))
    client_cgroup = g_steal_pointer (&dir);
  else
    client_priority_end_now (dir);
}

/* The baseline's apps run as the controller's would without it: in the
 * root cpu cgroup, not in the client's (async-signal-safe: open, write). */
static void
child_to_root (gpointer data)
{
  if (client_cgroup != NULL)
    {
      int fd = open ("/sys/fs/cgroup/cpu/cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, "0", 1) != 1)
            {
            }
          close (fd);
        }
    }
}

static void
client_priority_end (void)
{
  if (client_cgroup == NULL)
    return;
  client_priority_end_now (client_cgroup);
  g_clear_pointer (&client_cgroup, g_free);
}

static gdouble
pct (GArray *a, gdouble q)
{
  gsize k;
  if (a->len == 0)
    return 0;
  k = (gsize) ((a->len - 1) * q + 0.5);
  return g_array_index (a, gdouble, k);
}

static gint
cmp_d (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static gdouble
cpu_seconds (GPid pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *data = NULL;
  g_auto(GStrv) f = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    return -1;
  f = g_strsplit (strrchr (data, ')') + 2, " ", 0);
  /* utime, stime: fields 14, 15 -> index 11, 12 after the name */
  return (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) / sysconf (_SC_CLK_TCK);
}

/* ---- baseline: the apps started directly ---------------------------------------- */

static void
on_direct (GObject *src, GAsyncResult *res, gpointer data)
{
  User *u = data;
  g_autoptr(GBytes) b = soup_session_send_and_read_finish (SOUP_SESSION (src), res, NULL);
  u->polling = FALSE;
  if (b != NULL && g_bytes_get_size (b) == 2)
    finish_user (u, "running", NULL);
}

static gboolean
probe_direct (gpointer data)
{
  for (guint i = 0; i < n_users; i++)
    {
      User *u = &users[i];
      g_autofree gchar *url = NULL;
      g_autoptr(SoupMessage) msg = NULL;
      if (u->done || u->polling)
        continue;
      url = g_strdup_printf ("http://127.0.0.1:%u/", u->direct_port);
      msg = soup_message_new ("GET", url);
      u->polling = TRUE;
      soup_session_send_and_read_async (http, msg, G_PRIORITY_DEFAULT, NULL, on_direct, u);
    }
  return G_SOURCE_CONTINUE;
}

static void
reset_users (void)
{
  for (guint i = 0; i < n_users; i++)
    {
      g_clear_pointer (&users[i].state, g_free);
      g_clear_pointer (&users[i].reason, g_free);
      users[i].done = users[i].polling = FALSE;
      users[i].t0 = users[i].t1 = 0;
    }
  n_done = 0;
}

static GArray *
latencies (guint *ok)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gdouble));
  *ok = 0;
  for (guint i = 0; i < n_users; i++)
    if (g_strcmp0 (users[i].state, "running") == 0)
      {
        gdouble s = (users[i].t1 - users[i].t0) / 1e6;
        g_array_append_val (a, s);
        (*ok)++;
      }
  g_array_sort (a, cmp_d);
  return a;
}

/* The baseline as the controller's users see theirs: a page that polls every
 * 500 ms from the start (@tick0) sees an app at the first poll after it
 * answers.  The controller's times carry that delay; comparing them with
 * the 50 ms probes of the apps started directly compared two clocks. */
static gint64 baseline_tick0;

static GArray *
page_latencies (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gdouble));
  const gint64 poll = 500 * 1000;
  for (guint i = 0; i < n_users; i++)
    if (g_strcmp0 (users[i].state, "running") == 0)
      {
        gint64 seen = baseline_tick0 + ((users[i].t1 - baseline_tick0 + poll - 1) / poll) * poll;
        gdouble s = (seen - users[i].t0) / 1e6;
        g_array_append_val (a, s);
      }
  g_array_sort (a, cmp_d);
  return a;
}

/* How long the POST /api/v1/sessions of each user took to be answered. */
static GArray *
answer_latencies (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (guint i = 0; i < n_users; i++)
    if (users[i].t_answer > 0)
      {
        gdouble s = (users[i].t_answer - users[i].t0) / 1e6;
        g_array_append_val (a, s);
      }
  g_array_sort (a, cmp_d);
  return a;
}

static void
baseline (const gchar *dir)
{
  g_autofree gchar *script = g_build_filename (dir, "direct-app.sh", NULL);
  g_autofree gchar *text = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *cmd = NULL;
  g_autofree gchar *appfile = g_build_filename (dir, "apps", "tiny.app", NULL);
  guint timer;
  g_autoptr(GHashTable) taken = g_hash_table_new (NULL, NULL);
  g_assert (g_key_file_load_from_file (kf, appfile, 0, NULL));
  cmd = g_key_file_get_string (kf, "app", "command", NULL);
  text = g_strdup_printf ("#!/bin/sh\n%s\n", cmd);
  g_assert (g_file_set_contents (script, text, -1, NULL));
  reset_users ();
  baseline_tick0 = g_get_monotonic_time ();
  for (guint i = 0; i < n_users; i++)
    {
      User *u = &users[i];
      g_autofree gchar *port_env = NULL;
      const gchar *argv[] = { "/bin/sh", script, NULL };
      gchar *envp[] = { "MINNA_HOST=127.0.0.1", NULL, "PATH=/usr/bin:/bin", NULL };
      /* a free port each, none twice */
      do
        u->direct_port = mn_test_free_port ();
      while (g_hash_table_contains (taken, GUINT_TO_POINTER (u->direct_port)));
      g_hash_table_add (taken, GUINT_TO_POINTER (u->direct_port));
      port_env = g_strdup_printf ("MINNA_PORT=%u", u->direct_port);
      envp[1] = port_env;
      u->t0 = g_get_monotonic_time ();
      g_assert (g_spawn_async (NULL, (gchar **) argv, envp, G_SPAWN_DO_NOT_REAP_CHILD |
                               G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                               child_to_root, NULL, &u->direct_pid, NULL));
    }
  timer = g_timeout_add (50, probe_direct, NULL);
  g_main_loop_run (loop);
  g_source_remove (timer);
  for (guint i = 0; i < n_users; i++)
    {
      kill (users[i].direct_pid, SIGKILL);
      waitpid (users[i].direct_pid, NULL, 0);
    }
}

int
main (int argc, char **argv)
{
  g_autofree gchar *json_out = NULL, *page_opt = NULL;
  gint users_opt = 100, max_starting = 0;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_out, "Write the results as JSON", "FILE" },
    { "users", 0, 0, G_OPTION_ARG_INT, &users_opt, "Users launching at once (100)", "N" },
    { "page", 0, 0, G_OPTION_ARG_STRING, &page_opt,
      "How each user's page follows its session: hold (the portal's held lists, default) or poll"
      " (every 500 ms)", "hold|poll" },
    { "max-starting", 0, 0, G_OPTION_ARG_INT, &max_starting,
      "The controller's [backend] max_starting (0: its default, 4 per CPU)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- 100 users launch at once");
  g_autoptr(GError) error = NULL;
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  g_autofree gchar *dir = NULL, *bin = NULL, *conf = NULL, *apps = NULL, *policy = NULL;
  g_autofree gchar *users_file = NULL, *key = NULL, *log = NULL, *setport = NULL;
  g_autoptr(MnPolicyConfig) pol = mn_policy_config_new_default ();
  g_autoptr(GString) uf = g_string_new (NULL);
  g_autofree gchar *hash = NULL, *poltext = NULL;
  GPid controller;
  gdouble cpu_before, cpu_after, cpu_idle, wall, ratio;
  gboolean met;
  gint64 t_start;
  guint ok_ctl = 0, ok_direct = 0, refused = 0, failed = 0, timer;
  g_autoptr(GArray) lat_ctl = NULL;
  g_autoptr(GArray) lat_direct = NULL;
  g_autoptr(GArray) lat_answer = NULL;
  g_autoptr(GArray) lat_page = NULL;
  int fd;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("bench-controller: %s\n", error->message);
      return 2;
    }
  if (build == NULL)
    {
      g_printerr ("bench-controller: set MINNA_BUILD_DIR (meson does)\n");
      return 2;
    }
  n_users = (guint) CLAMP (users_opt, 1, 1000);
  if (page_opt != NULL && !g_str_equal (page_opt, "hold") && !g_str_equal (page_opt, "poll"))
    {
      g_printerr ("bench-controller: --page: expected hold or poll, got '%s'\n", page_opt);
      return 2;
    }
  page_poll = g_strcmp0 (page_opt, "poll") == 0;
  client_priority ();
  users = g_new0 (User, n_users);
  loop = g_main_loop_new (NULL, FALSE);
  http = soup_session_new_with_options ("timeout", 60, "max-conns", 256,
                                        "max-conns-per-host", 256, NULL);
  dir = g_dir_make_tmp ("minna-bench-ctl-XXXXXX", &error);
  g_assert_no_error (error);
  bin = g_build_filename (build, "daemons", "controller", "minna-controller", NULL);
  apps = g_build_filename (dir, "apps", NULL);
  g_mkdir (apps, 0755);
  {
    g_autofree gchar *app = g_build_filename (apps, "tiny.app", NULL);
    g_autofree gchar *text = g_strdup_printf ("[app]\nname=Tiny\ncommand=%s\n[field memory_gb]\nmin=0.1\nmax=4\ndefault=0.5\n",
                                              APP_COMMAND);
    g_assert (g_file_set_contents (app, text, -1, NULL));
  }
  /* TSUBAME3 interactive.q: 4 nodes x 4 logical x 7 = 112 slots */
  poltext = mn_policy_config_to_data (pol);
  policy = g_build_filename (dir, "interactive.conf", NULL);
  g_assert (g_file_set_contents (policy, poltext, -1, NULL));
  hash = mn_auth_hash_password ("bench-password", 1000);
  for (guint i = 0; i < n_users; i++)
    {
      users[i].i = i;
      users[i].user = g_strdup_printf ("student%03u", i);
      g_string_append_printf (uf, "%s:%s\n", users[i].user, hash);
    }
  users_file = g_build_filename (dir, "users", NULL);
  /* password hashes: the controller refuses a users file others may read */
  mn_test_write_file (users_file, uf->str, 0600);
  key = g_build_filename (dir, "cookie.key", NULL);
  conf = g_strdup_printf ("[state]\nstate_dir=%s/state\napps_dir=%s\npolicy_file=%s\n"
                          "[auth]\nusers_file=%s\nkey_file=%s\n[relay]\nsecret_file=%s/none\n"
                          "[backend]\nrun_as=controller\nport_lock_dir=%s/ports\npoll_interval_ms=100\n"
                          "port_min=20000\nport_max=20999\ncgroup=%s\nmax_starting=%d\n",
                          dir, apps, policy, users_file, key, dir, dir,
                          g_getenv ("MINNA_BENCH_CGROUP") ? g_getenv ("MINNA_BENCH_CGROUP") : "auto",
                          MAX (max_starting, 0));
  {
    g_autofree gchar *path = g_build_filename (dir, "controller.conf", NULL);
    const gchar *cargv[] = { bin, "--config", path, "--set", NULL, NULL };
    mn_test_write_file (path, conf, 0600);
    port = mn_test_free_port ();
    setport = g_strdup_printf ("server.port=%u", port);
    cargv[4] = setport;
    log = g_build_filename (dir, "controller.log", NULL);
    fd = open (log, O_WRONLY | O_CREAT, 0600);
    g_assert (g_spawn_async_with_pipes_and_fds (NULL, cargv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_to_root, NULL,
                                                -1, fd, fd, NULL, NULL, 0, &controller, NULL, NULL, NULL,
                                                &error));
    close (fd);
  }
  for (gint i = 0; i < 100; i++)
    {
      g_autoptr(GSocketClient) c = g_socket_client_new ();
      g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (c, "127.0.0.1", port, NULL, NULL);
      if (conn)
        break;
      g_usleep (50000);
    }

  /* log everyone in first: not part of the measurement */
  for (guint i = 0; i < n_users; i++)
    {
      g_autofree gchar *body = g_strdup_printf ("{\"user\":\"%s\",\"password\":\"bench-password\"}", users[i].user);
      g_autoptr(SoupMessage) msg = message ("POST", "login", NULL, body);
      g_autoptr(GBytes) b = soup_session_send_and_read (http, msg, NULL, &error);
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonObject *o = parse (b, p);
      const gchar *sc = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Set-Cookie");
      if (o == NULL || sc == NULL)
        g_error ("login of %s failed (%s); see %s", users[i].user, error ? error->message : "", log);
      users[i].csrf = g_strdup (json_object_get_string_member (o, "csrf_token"));
      sc += strlen (MN_AUTH_COOKIE_NAME) + 1;
      users[i].cookie = g_strndup (sc, strcspn (sc, ";"));
    }

  /* the lecture starts */
  g_usleep (500000);
  cpu_before = cpu_seconds (controller);
  t_start = g_get_monotonic_time ();
  for (guint i = 0; i < n_users; i++)
    {
      g_autoptr(SoupMessage) msg = message ("POST", "sessions", &users[i], "{\"app\":\"tiny\",\"hours\":1}");
      users[i].t0 = g_get_monotonic_time ();
      soup_session_send_and_read_async (http, msg, G_PRIORITY_DEFAULT, NULL, on_launch, &users[i]);
    }
  /* --page poll: as the portal's page polled before held lists */
  timer = page_poll ? g_timeout_add (500, poll_all, NULL) : 0;
  g_main_loop_run (loop);
  if (timer != 0)
    g_source_remove (timer);
  wall = (g_get_monotonic_time () - t_start) / 1e6;
  cpu_after = cpu_seconds (controller);
  lat_ctl = latencies (&ok_ctl);
  lat_answer = answer_latencies ();
  for (guint i = 0; i < n_users; i++)
    {
      if (g_strcmp0 (users[i].state, "refused") == 0)
        refused++;
      else if (g_strcmp0 (users[i].state, "running") != 0)
        {
          failed++;
          g_printerr ("%s: %s %s\n", users[i].user, users[i].state, users[i].reason ? users[i].reason : "");
        }
    }
  /* 2 s with 100 apps running: the controller's cost of just watching them */
  g_usleep (2000000);
  cpu_idle = cpu_seconds (controller) - cpu_after;

  /* stop them all */
  for (guint i = 0; i < n_users; i++)
    if (users[i].id)
      {
        g_autofree gchar *path = g_strdup_printf ("sessions/%s", users[i].id);
        g_autoptr(SoupMessage) msg = message ("DELETE", path, &users[i], NULL);
        g_autoptr(GBytes) b = soup_session_send_and_read (http, msg, NULL, NULL);
      }
  g_usleep (1500000);
  kill (controller, SIGTERM);
  waitpid (controller, NULL, 0);
  {
    /* leftovers, by the PIDs the controller recorded (its own only) */
    g_autofree gchar *jobs = g_build_filename (dir, "state", "jobs", NULL);
    mn_test_kill_recorded_jobs (jobs);
  }

  baseline (dir);
  lat_direct = latencies (&ok_direct);
  lat_page = page_latencies ();

  /* like with like: a held list sees a change when it is stored, as the
   * 50 ms probe sees the baseline's apps; a 500 ms poll is compared with
   * the baseline as such a poll sees it */
  {
    GArray *base = page_poll ? lat_page : lat_direct;
    ratio = pct (base, 0.5) > 0 ? pct (lat_ctl, 0.5) / pct (base, 0.5) : 0.0;
  }
  met = pct (lat_ctl, 0.99) < 5.0 && ratio <= 1.5 && failed == 0;
  {
    g_autofree gchar *slots = max_starting > 0 ? g_strdup_printf ("%d", max_starting)
                                               : g_strdup_printf ("%d (4 per CPU)",
                                                                  4 * g_get_num_processors ());
    g_print ("bench-controller: %u users launch a small app at once (local backend, controller poll 100 ms,"
             " page %s, limits by %s, max_starting %s)\n\n", n_users,
             page_poll ? "polls every 500 ms" : "held lists (?wait=)",
             g_getenv ("MINNA_BENCH_CGROUP") ? g_getenv ("MINNA_BENCH_CGROUP") : "cgroups (auto)", slots);
  }
  g_print ("%-34s %10s %10s %10s %8s\n", "", "p50 (s)", "p99 (s)", "max (s)", "running");
  g_print ("%-34s %10.3f %10.3f %10.3f %8u\n", "baseline: apps started directly",
           pct (lat_direct, 0.5), pct (lat_direct, 0.99), pct (lat_direct, 1.0), ok_direct);
  g_print ("%-34s %10.3f %10.3f %10.3f %8u\n", "  as a 500 ms page poll sees them",
           pct (lat_page, 0.5), pct (lat_page, 0.99), pct (lat_page, 1.0), ok_direct);
  g_print ("%-34s %10.3f %10.3f %10.3f %8u\n", page_poll ? "controller: request -> running"
                                                           : "controller: request -> seen running",
           pct (lat_ctl, 0.5), pct (lat_ctl, 0.99), pct (lat_ctl, 1.0), ok_ctl);
  g_print ("%-34s %10.3f %10.3f %10.3f %8s\n", "  of which: launch answered",
           pct (lat_answer, 0.5), pct (lat_answer, 0.99), pct (lat_answer, 1.0), "");
  g_print ("\nrefused with a reason: %u; failed or lost: %u; all done after %.2f s;"
           " the pages asked %u times\n", refused, failed, wall, page_requests);
  g_print ("controller CPU: %.2f s for the %u launches, %.2f s for 2 s of watching %u apps\n",
           cpu_after - cpu_before, n_users, cpu_idle, ok_ctl);
  g_print ("p50 against the baseline's in this run (%s): %.2fx\n",
           page_poll ? "both seen by a 500 ms page poll" : "held list against the apps as first answered",
           ratio);
  g_print ("target: p99 < 5 s, p50 within 1.5x of the baseline's, every launch running or refused"
           " with its reason: %s\n", met ? "met" : "NOT met");

  if (json_out)
    {
      g_autofree gchar *j = g_strdup_printf (
        "{\"benchmark\":\"controller-launch\",\"users\":%u,\"page\":\"%s\","
        "\"baseline\":{\"p50_s\":%.4f,\"p99_s\":%.4f,\"max_s\":%.4f,\"running\":%u},"
        "\"baseline_page_poll\":{\"p50_s\":%.4f,\"p99_s\":%.4f,\"max_s\":%.4f},"
        "\"controller\":{\"p50_s\":%.4f,\"p99_s\":%.4f,\"max_s\":%.4f,\"running\":%u,"
        "\"refused\":%u,\"failed\":%u,\"wall_s\":%.3f,\"cpu_s\":%.3f,\"cpu_watch_2s\":%.3f,"
        "\"launch_answered\":{\"p50_s\":%.4f,\"p99_s\":%.4f,\"max_s\":%.4f}},"
        "\"p50_ratio\":%.3f,\"target_met\":%s}\n",
        n_users, page_poll ? "poll" : "hold", pct (lat_direct, 0.5), pct (lat_direct, 0.99), pct (lat_direct, 1.0), ok_direct,
        pct (lat_page, 0.5), pct (lat_page, 0.99), pct (lat_page, 1.0),
        pct (lat_ctl, 0.5), pct (lat_ctl, 0.99), pct (lat_ctl, 1.0), ok_ctl, refused, failed, wall,
        cpu_after - cpu_before, cpu_idle,
        pct (lat_answer, 0.5), pct (lat_answer, 0.99), pct (lat_answer, 1.0),
        ratio, met ? "true" : "false");
      if (!g_file_set_contents (json_out, j, -1, &error))
        g_printerr ("bench-controller: %s\n", error->message);
    }
  client_priority_end ();
  if (g_getenv ("MINNA_KEEP_TEST_DIR") == NULL)
    {
      g_autofree gchar *rm = g_strdup_printf ("rm -rf '%s'", dir);
      if (system (rm) != 0)
        g_printerr ("could not remove %s\n", dir);
    }
  return failed == 0 ? 0 : 1;
}
