/* test-twin.c: suite 'twin' (issue 14).  Each scenario of tests/twin/scenarios
 * runs (a) through minna-sim's interactive.q model (mn_twin_run_sim) and (b)
 * through the real minna-controller with the local backend, each session a
 * real process (minna-twin-app) that holds the scripted memory, shows its
 * kernel busy then idle, and exits as scripted.  The two are compared session
 * by session: admitted / waited / refused and the reason code, placement
 * (node, logical node, cpuset, GPU ids), start and end within the scenario's
 * tolerance, the end reason (cap kills, idle cuts, walltime).  Every
 * difference fails.  What this host cannot show (no GPU: GPU-memory
 * failures; the policy's node RAM and swap are not the host's: node OOM
 * kills) is printed as not compared, field by field or session by session. */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "minna-twin-test"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller-test-util.h"
#include "mn-auth-cookie.h"
#include "mn-twin.h"

typedef struct {
  gchar       *dir;            /* the whole run's directory */
  gchar       *controller_bin;
  gchar       *app_bin;
  SoupSession *http;
} Harness;

static Harness h;

/* One scenario's controller. */
typedef struct {
  const MnTwinScenario *sc;
  gchar      *dir;
  gchar      *config;
  gchar      *state;
  gchar      *sessions;     /* [state] sessions_dir */
  guint       port;
  GPid        pid;
  GHashTable *cookies;         /* user -> "cookie\ncsrf" */
} Run;

/* ---- host ------------------------------------------------------------------ */

static gboolean
host_has_gpu (void)
{
  return g_file_test ("/dev/nvidia0", G_FILE_TEST_EXISTS);
}

/* Whether this host has cgroup controller @name (v1 hierarchy or v2). */
static gboolean
host_has_controller (const gchar *name)
{
  g_autofree gchar *cgroups = NULL;
  g_autofree gchar *v2 = NULL;
  g_auto (GStrv) lines = NULL;

  if (g_file_get_contents ("/sys/fs/cgroup/cgroup.controllers", &v2, NULL, NULL))
    {
      g_auto (GStrv) names = g_strsplit_set (g_strstrip (v2), " ", -1);

      return g_strv_contains ((const gchar *const *) names, name);
    }
  if (!g_file_get_contents ("/proc/self/cgroup", &cgroups, NULL, NULL))
    return FALSE;
  lines = g_strsplit (cgroups, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ":", 3);
      g_auto (GStrv) ctrls = NULL;

      if (g_strv_length (f) != 3)
        continue;
      ctrls = g_strsplit (f[1], ",", -1);
      if (g_strv_contains ((const gchar *const *) ctrls, name))
        return TRUE;
    }
  return FALSE;
}

/* v1 swap accounting: memory.memsw.* beside our own memory cgroup. */
static gboolean
host_has_memsw (void)
{
  g_autofree gchar *cgroups = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/cgroup", &cgroups, NULL, NULL))
    return FALSE;
  lines = g_strsplit (cgroups, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ":", 3);
      g_autofree gchar *path = NULL;

      if (g_strv_length (f) == 3 && g_str_equal (f[1], "memory"))
        {
          path = g_build_filename ("/sys/fs/cgroup/memory", f[2], "memory.memsw.limit_in_bytes", NULL);
          return g_file_test (path, G_FILE_TEST_EXISTS);
        }
    }
  return FALSE;
}

static guint64
host_swap_mib (void)
{
  g_autofree gchar *info = NULL;
  const gchar *p;

  if (!g_file_get_contents ("/proc/meminfo", &info, NULL, NULL) ||
      (p = strstr (info, "SwapTotal:")) == NULL)
    return 0;
  return g_ascii_strtoull (p + strlen ("SwapTotal:"), NULL, 10) / 1024;
}

static void
say_host (void)
{
  g_test_message ("host: cgroup %s; memory controller %s (swap accounting %s), cpuset %s, "
                  "cpu %s; swap %" G_GUINT64_FORMAT " MiB; GPUs: %s",
                  g_file_test ("/sys/fs/cgroup/cgroup.controllers", G_FILE_TEST_EXISTS) ? "v2" : "v1",
                  host_has_controller ("memory") ? "yes" : "no",
                  g_file_test ("/sys/fs/cgroup/cgroup.controllers", G_FILE_TEST_EXISTS) || host_has_memsw ()
                  ? "yes" : "no",
                  host_has_controller ("cpuset") ? "yes" : "no",
                  host_has_controller ("cpu") ? "yes" : "no", host_swap_mib (),
                  host_has_gpu () ? "yes" : "none");
}

/* ---- HTTP ------------------------------------------------------------------ */

static guint
request (Run *run, const gchar *method, const gchar *path, const gchar *user,
         const gchar *body, JsonNode **json)
{
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/api/v1/%s", run->port, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  SoupMessageHeaders *hd = soup_message_get_request_headers (msg);
  const gchar *login = user != NULL ? g_hash_table_lookup (run->cookies, user) : NULL;

  if (login != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (login, "\n", 2);
      g_autofree gchar *c = g_strdup_printf ("%s=%s", MN_AUTH_COOKIE_NAME, parts[0]);

      soup_message_headers_replace (hd, "Cookie", c);
      soup_message_headers_replace (hd, "X-CSRF-Token", parts[1]);
    }
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/json",
                                              g_bytes_new (body, strlen (body)));
  bytes = soup_session_send_and_read (h.http, msg, NULL, &error);
  g_assert_no_error (error);
  if (json != NULL)
    {
      *json = NULL;
      if (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), NULL))
        *json = json_node_ref (json_parser_get_root (parser));
    }
  if (soup_message_get_status (msg) == 200 && g_str_equal (path, "login"))
    {
      const gchar *set = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                       "Set-Cookie");
      g_autofree gchar *prefix = g_strdup_printf ("%s=", MN_AUTH_COOKIE_NAME);
      JsonObject *o = json_node_get_object (*json);

      g_assert_nonnull (set);
      g_assert_true (g_str_has_prefix (set, prefix));
      g_hash_table_insert (run->cookies, g_strdup (user),
                           g_strdup_printf ("%.*s\n%s", (int) strcspn (set + strlen (prefix), ";"),
                                            set + strlen (prefix),
                                            json_object_get_string_member (o, "csrf_token")));
    }
  return soup_message_get_status (msg);
}

static const gchar *
str_member (JsonNode *node, const gchar *name)
{
  JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

  if (o == NULL || !json_object_has_member (o, name) || json_object_get_null_member (o, name))
    return NULL;
  return json_object_get_string_member (o, name);
}

static gint64
int_member (JsonNode *node, const gchar *name, gint64 otherwise)
{
  JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

  if (o == NULL || !json_object_has_member (o, name) || json_object_get_null_member (o, name))
    return otherwise;
  return json_object_get_int_member (o, name);
}

/* ---- the controller --------------------------------------------------------- */

static void
write_apps (Run *run, const gchar *apps, const gchar *scenario_path)
{
  const MnPolicyConfig *p = run->sc->policy;

  for (guint i = 0; i < run->sc->sessions->len; i++)
    {
      const MnTwinSession *s = g_ptr_array_index (run->sc->sessions, i);
      g_autofree gchar *file = g_strdup_printf ("%s/twin-%s.app", apps, s->name);
      /* Bounds as wide as the policy's caps allow and wider: the policy, not
       * the form, decides. */
      g_autofree gchar *text =
        g_strdup_printf ("[app]\nname = twin %s\nreadiness_path = api/status\n"
                         "command = exec %s --scenario %s --session %s --host {host} --port {port}"
                         " --base-url {base_url}\n"
                         "[field cores]\nmin = 1\nmax = 4096\ndefault = 1\n"
                         "[field memory_gb]\nmin = 0.0001\nmax = 65536\ndefault = %g\n"
                         "[field gpus]\nmin = 0\nmax = 64\ndefault = 0\n"
                         "[field hours]\nmin = 0.0001\nmax = 744\ndefault = %g\n",
                         s->name, h.app_bin, scenario_path, s->name,
                         p->job_max_memory_mb / 1024.0, p->max_walltime / 3600.0);

      mn_test_write_file (file, text, 0644);
    }
}

static void
start_controller (Run *run, const gchar *scenario_path)
{
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  g_autofree gchar *apps = g_build_filename (run->dir, "apps", NULL);
  g_autofree gchar *policy = g_build_filename (run->dir, "interactive.conf", NULL);
  g_autofree gchar *policy_text = mn_policy_config_to_data (run->sc->policy);
  g_autofree gchar *key = g_build_filename (run->dir, "cookie.key", NULL);
  g_autofree gchar *users = g_build_filename (run->dir, "users", NULL);
  g_autofree gchar *log = g_build_filename (run->dir, "controller.log", NULL);
  g_autofree gchar *conf = NULL;
  g_autofree gchar *port = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  int fd;

  g_assert_cmpint (g_mkdir (apps, 0755), ==, 0);
  write_apps (run, apps, scenario_path);
  mn_test_write_file (policy, policy_text, 0644);
  g_assert_true (mn_auth_key_create_file (key, &error));
  g_assert_no_error (error);
  run->state = g_build_filename (run->dir, "state", NULL);
  run->sessions = g_build_filename (run->dir, "sessions", NULL);
  run->port = mn_test_free_port ();
  conf = g_strdup_printf ("[server]\nlisten = 127.0.0.1\nwww_dir = %s/daemons/controller/www\n"
                          "[state]\nstate_dir = %s\nsessions_dir = %s\napps_dir = %s\npolicy_file = %s\n"
                          "[auth]\nmethods = users-file\nusers_file = %s\nkey_file = %s\n"
                          "pbkdf2_iterations = 1000\n"
                          "[relay]\nurl =\n"
                          "[backend]\ntype = local\nrun_as = controller\nport_lock_dir = %s/ports\n"
                          "poll_interval_ms = 100\nkill_grace = 1s\nready_timeout = 60s\n",
                          src, run->state, run->sessions, apps, policy, users, key, run->dir);
  run->config = g_build_filename (run->dir, "controller.conf", NULL);
  mn_test_write_file (run->config, conf, 0600);
  for (guint i = 0; i < run->sc->sessions->len; i++)
    {
      const MnTwinSession *s = g_ptr_array_index (run->sc->sessions, i);
      g_autofree gchar *cmd = NULL;
      gint status = -1;

      if (g_hash_table_contains (seen, s->user))
        continue;
      g_hash_table_add (seen, s->user);
      cmd = g_strdup_printf ("sh -c 'echo %s-twin-password | %s passwd --config %s %s >/dev/null'", s->user,
                             h.controller_bin, run->config, s->user);
      g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, &error));
      g_assert_no_error (error);
      g_assert_cmpint (status, ==, 0);
    }

  port = g_strdup_printf ("server.port=%u", run->port);
  {
    const gchar *argv[] = { h.controller_bin, "--config", run->config, "--set", port, NULL };
    g_autofree gchar *pidfile = g_build_filename (run->dir, "controller.pid", NULL);
    g_autofree gchar *pidtext = NULL;

    fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    g_assert_true (g_spawn_async_with_pipes_and_fds (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                                     NULL, NULL, -1, fd, fd, NULL, NULL, 0,
                                                     &run->pid, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    close (fd);
    pidtext = g_strdup_printf ("%d\n", run->pid);
    g_assert_true (g_file_set_contents (pidfile, pidtext, -1, NULL));
  }
  for (gint i = 0; i < 200; i++)
    {
      g_autoptr (GSocketClient) c = g_socket_client_new ();
      g_autoptr (GSocketConnection) conn =
        g_socket_client_connect_to_host (c, "127.0.0.1", run->port, NULL, NULL);

      if (conn != NULL)
        return;
      g_usleep (50000);
    }
  g_error ("minna-controller did not come up; see %s", log);
}

/* /proc/PID/stat field 22, as the local backend records it; 0 if gone. */
static guint64
proc_starttime (gint64 pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree gchar *data = NULL;
  g_auto (GStrv) fields = NULL;
  const gchar *p;

  if (pid <= 1 || !g_file_get_contents (path, &data, NULL, NULL) ||
      (p = strrchr (data, ')')) == NULL)
    return 0;
  fields = g_strsplit (p + 2, " ", 0);
  return g_strv_length (fields) >= 20 ? g_ascii_strtoull (fields[19], NULL, 10) : 0;
}

/* Kills what a run may have left, also after an aborted test: first the
 * controller its pid file names (else it would start waiting sessions as
 * others die), then every job the local backend recorded in its state
 * (state/jobs/: its process group, if its start time still matches, so a
 * reused pid is left alone), then the job cgroups those records name. */
static void
kill_leftovers (const gchar *dir)
{
  g_autofree gchar *pidfile = g_build_filename (dir, "controller.pid", NULL);
  g_autofree gchar *jobs = g_build_filename (dir, "state", "jobs", NULL);
  g_autofree gchar *pidtext = NULL;
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) cgroups = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  if (g_file_get_contents (pidfile, &pidtext, NULL, NULL))
    {
      gint64 pid = g_ascii_strtoll (pidtext, NULL, 10);

      if (pid > 1 && kill ((pid_t) pid, SIGKILL) == 0)
        for (gint i = 0; i < 100 && kill ((pid_t) pid, 0) == 0; i++)
          g_usleep (20000);
    }
  d = g_dir_open (jobs, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = g_build_filename (jobs, name, NULL);
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_autofree gchar *dirs = NULL;
      gint64 pid;
      guint64 started;

      if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
        continue;
      pid = g_key_file_get_int64 (kf, "job", "pid", NULL);
      started = g_key_file_get_uint64 (kf, "job", "starttime", NULL);
      if (pid > 1 && started != 0 && proc_starttime (pid) == started)
        kill (-(pid_t) pid, SIGKILL);
      dirs = g_key_file_get_string (kf, "job", "cgroups", NULL);
      if (dirs != NULL && dirs[0] != '\0')
        {
          g_auto (GStrv) each = g_strsplit (dirs, ";", -1);

          for (guint i = 0; each[i] != NULL; i++)
            if (strstr (each[i], "/minna-jobs/") != NULL)
              g_ptr_array_add (cgroups, g_strdup (each[i]));
        }
    }
  /* A cgroup goes once its killed processes are reaped. */
  for (guint i = 0; i < cgroups->len; i++)
    for (gint k = 0; k < 40 && g_file_test (cgroups->pdata[i], G_FILE_TEST_IS_DIR) &&
                     g_rmdir (cgroups->pdata[i]) != 0; k++)
      g_usleep (50000);
}

static void
stop_controller (Run *run)
{
  if (run->pid > 0)
    {
      g_autofree gchar *pidfile = g_build_filename (run->dir, "controller.pid", NULL);

      kill (run->pid, SIGTERM);
      waitpid (run->pid, NULL, 0);
      run->pid = 0;
      /* reaped: its pid may be anyone's now */
      g_unlink (pidfile);
    }
  soup_session_abort (h.http);
  kill_leftovers (run->dir);
}

/* ---- the real run ------------------------------------------------------------ */

typedef struct {
  const MnTwinSession *s;
  gchar    *id;          /* NULL: refused */
  gchar    *decision;
  gchar    *reason;
  JsonNode *last;        /* the session as last read */
  gboolean  final;
} Played;

static void
played_clear (Played *p)
{
  g_free (p->id);
  g_free (p->decision);
  g_free (p->reason);
  g_clear_pointer (&p->last, json_node_unref);
}

static gchar *
launch_body (const MnTwinScenario *sc, const MnTwinSession *s)
{
  gint64 walltime = s->walltime > 0 ? s->walltime : sc->policy->max_walltime;
  guint64 memory = s->memory_mb > 0 ? s->memory_mb : sc->policy->job_max_memory_mb;
  gchar hours[G_ASCII_DTOSTR_BUF_SIZE], gb[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_dtostr (hours, sizeof hours, walltime / 3600.0);
  g_ascii_dtostr (gb, sizeof gb, memory / 1024.0);
  return g_strdup_printf ("{\"app\": \"twin-%s\", \"queue\": \"interactive\", \"cores\": %u, "
                          "\"memory_gb\": %s, \"gpus\": %u, \"hours\": %s, \"if_busy\": \"%s\"}",
                          s->name, s->cores > 0 ? s->cores : 1, gb, s->gpus, hours,
                          s->if_busy == MN_IF_BUSY_GIVE_UP ? "give_up" : "wait");
}

static void
play (Run *run, GArray *played, gint64 *t0_out)
{
  gint64 t0_mono, t0;
  gint64 deadline;

  /* Everyone logs in first: the launches then go out at their times. */
  for (guint i = 0; i < run->sc->sessions->len; i++)
    {
      const MnTwinSession *s = g_ptr_array_index (run->sc->sessions, i);
      g_autofree gchar *body = g_strdup_printf ("{\"user\": \"%s\", \"password\": \"%s-twin-password\"}",
                                                s->user, s->user);
      g_autoptr (JsonNode) json = NULL;

      if (!g_hash_table_contains (run->cookies, s->user))
        g_assert_cmpuint (request (run, "POST", "login", s->user, body, &json), ==, 200);
    }
  t0_mono = g_get_monotonic_time ();
  t0 = g_get_real_time () / G_USEC_PER_SEC;
  *t0_out = t0;
  for (guint i = 0; i < run->sc->sessions->len; i++)
    {
      const MnTwinSession *s = g_ptr_array_index (run->sc->sessions, i);
      g_autofree gchar *body = launch_body (run->sc, s);
      g_autoptr (JsonNode) json = NULL;
      gint64 wake = t0_mono + s->at * G_USEC_PER_SEC;
      Played p = { .s = s };
      guint status;
      const gchar *state;

      if (g_get_monotonic_time () < wake)
        g_usleep (wake - g_get_monotonic_time ());
      status = request (run, "POST", "sessions", s->user, body, &json);
      if (status == 409)
        {
          p.decision = g_strdup ("reject");
          p.reason = g_strdup (str_member (json, "reason") ? str_member (json, "reason") : "?");
          p.final = TRUE;
        }
      else
        {
          if (status != 201)
            {
              g_autofree gchar *text = json ? json_to_string (json, FALSE) : g_strdup ("?");

              g_error ("launch of %s: HTTP %u %s", s->name, status, text);
            }
          p.id = g_strdup (str_member (json, "id"));
          state = str_member (json, "state");
          if (g_strcmp0 (state, "queued") == 0)
            {
              p.decision = g_strdup ("wait");
              p.reason = g_strdup (str_member (json, "wait_reason") ? str_member (json, "wait_reason") : "?");
            }
          else
            {
              p.decision = g_strdup ("start");
              p.reason = g_strdup ("");
            }
          p.last = json_node_ref (json);
        }
      g_test_message ("%.1f s: %s launched: %s%s%s", (g_get_monotonic_time () - t0_mono) / 1e6,
                      s->name, p.decision, p.reason[0] ? " " : "", p.reason);
      g_array_append_val (played, p);
    }

  /* Until every session is over: the longest a scenario session can live is
   * its launch + the queue's walltime, plus waiting; give it that and a minute. */
  deadline = g_get_monotonic_time () + (run->sc->policy->max_walltime * 2 + 60) * G_USEC_PER_SEC;
  for (;;)
    {
      guint open = 0;

      for (guint i = 0; i < played->len; i++)
        {
          Played *p = &g_array_index (played, Played, i);
          g_autofree gchar *path = NULL;
          JsonNode *json = NULL;
          const gchar *state;

          if (p->final)
            continue;
          path = g_strdup_printf ("sessions/%s", p->id);
          g_assert_cmpuint (request (run, "GET", path, p->s->user, NULL, &json), ==, 200);
          g_clear_pointer (&p->last, json_node_unref);
          p->last = json;
          state = str_member (json, "state");
          if (g_strcmp0 (state, "ended") == 0 || g_strcmp0 (state, "failed") == 0)
            p->final = TRUE;
          else
            open++;
        }
      if (open == 0)
        break;
      if (g_get_monotonic_time () > deadline)
        {
          g_test_message ("%u sessions still open at the deadline", open);
          break;
        }
      g_usleep (250000);
    }
}

static gchar *
report_value (Run *run, const gchar *id, const gchar *member)
{
  g_autofree gchar *path = g_build_filename (run->sessions, id, "twin-report.json", NULL);
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;

  if (!json_parser_load_from_file (p, path, NULL))
    return NULL;
  o = json_node_get_object (json_parser_get_root (p));
  if (!json_object_has_member (o, member))
    return NULL;
  if (json_object_get_null_member (o, member))
    return g_strdup ("");
  return g_strdup (json_object_get_string_member (o, member));
}

/* "max" for no limit (v1 writes 2^63 rounded down to a page), else MiB. */
static gchar *
limit_mib (const gchar *bytes)
{
  guint64 v;

  if (bytes == NULL)
    return NULL;
  if (g_str_equal (bytes, "max"))
    return g_strdup ("max");
  if (!g_ascii_string_to_unsigned (bytes, 10, 0, G_MAXUINT64, &v, NULL))
    return NULL;
  if (v >= (G_GUINT64_CONSTANT (1) << 62))
    return g_strdup ("max");
  return g_strdup_printf ("%" G_GUINT64_FORMAT, v >> 20);
}

/* What the job's cgroup lets it hold, RAM and swap together: v1
 * memory.memsw.limit_in_bytes (else the RAM limit: without swap accounting,
 * swap is not limited); v2 memory.max, plus memory.swap.max when the host has
 * swap (v2 bounds the two apart: run_scenario says so). */
static gchar *
real_memory_limit (Run *run, const gchar *id)
{
  g_autofree gchar *v2 = report_value (run, id, "memory_max");
  g_autofree gchar *v2swap = report_value (run, id, "memory_swap_max");
  g_autofree gchar *memsw = report_value (run, id, "memory_memsw_limit_in_bytes");
  g_autofree gchar *ram = report_value (run, id, "memory_limit_in_bytes");

  if (v2 != NULL)
    {
      g_autofree gchar *a = limit_mib (v2);
      g_autofree gchar *b = limit_mib (host_swap_mib () == 0 ? "0"
                                       : v2swap != NULL ? v2swap : "max");

      if (a == NULL || b == NULL)
        return NULL;
      if (g_str_equal (a, "max") || g_str_equal (b, "max"))
        return g_strdup ("max");
      return g_strdup_printf ("%" G_GUINT64_FORMAT,
                              g_ascii_strtoull (a, NULL, 10) + g_ascii_strtoull (b, NULL, 10));
    }
  return limit_mib (memsw != NULL ? memsw : ram);
}

/* CPU time per 100000 us: v2 cpu.max "QUOTA PERIOD", v1 cfs quota/period. */
static gchar *
real_cpu_quota (Run *run, const gchar *id)
{
  g_autofree gchar *v2 = report_value (run, id, "cpu_max");
  g_autofree gchar *quota = report_value (run, id, "cpu_cfs_quota_us");
  g_autofree gchar *period = report_value (run, id, "cpu_cfs_period_us");
  gint64 q, p;

  if (v2 != NULL)
    {
      g_auto (GStrv) f = g_strsplit (v2, " ", 2);

      if (g_str_equal (f[0], "max"))
        return g_strdup ("max");
      q = g_ascii_strtoll (f[0], NULL, 10);
      p = f[1] != NULL ? g_ascii_strtoll (f[1], NULL, 10) : 100000;
    }
  else if (quota != NULL)
    {
      q = g_ascii_strtoll (quota, NULL, 10);
      p = period != NULL ? g_ascii_strtoll (period, NULL, 10) : 100000;
      if (q < 0)
        return g_strdup ("max");
    }
  else
    return NULL;
  return p > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, q * 100000 / p) : NULL;
}

static GPtrArray *
real_rows (Run *run, GArray *played, gint64 t0)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_twin_row_free);

  for (guint i = 0; i < played->len; i++)
    {
      Played *p = &g_array_index (played, Played, i);
      MnTwinRow *row = mn_twin_row_new ();
      g_autofree gchar *cpus = NULL;
      g_autofree gchar *gpus = NULL;
      gint64 start, end;
      const gchar *end_reason;

      g_ptr_array_add (rows, row);
      mn_twin_row_set (row, MN_TWIN_FIELD_NAME, p->s->name);
      mn_twin_row_set (row, MN_TWIN_FIELD_USER, p->s->user);
      mn_twin_row_set (row, MN_TWIN_FIELD_DECISION, p->decision);
      mn_twin_row_set (row, MN_TWIN_FIELD_REASON, p->reason);
      if (p->id == NULL)
        {
          for (guint f = MN_TWIN_FIELD_NODE; f < MN_TWIN_N_FIELDS; f++)
            mn_twin_row_set (row, f, "");
          continue;
        }
      if (int_member (p->last, "node", -1) >= 0)
        {
          mn_twin_row_set_int (row, MN_TWIN_FIELD_NODE, int_member (p->last, "node", -1));
          mn_twin_row_set_int (row, MN_TWIN_FIELD_LOGICAL, int_member (p->last, "logical_node", -1));
        }
      cpus = report_value (run, p->id, "cpus");
      gpus = report_value (run, p->id, "cuda_visible_devices");
      if (cpus != NULL)
        mn_twin_row_set (row, MN_TWIN_FIELD_CPUS, cpus);
      {
        g_autofree gchar *mem = real_memory_limit (run, p->id);
        g_autofree gchar *cpu = real_cpu_quota (run, p->id);

        if (mem != NULL)
          mn_twin_row_set (row, MN_TWIN_FIELD_MEMORY_LIMIT, mem);
        if (cpu != NULL)
          mn_twin_row_set (row, MN_TWIN_FIELD_CPU_QUOTA, cpu);
      }
      if (gpus != NULL)
        mn_twin_row_set (row, MN_TWIN_FIELD_GPUS, g_strdelimit (gpus, ",", ';'));
      /* The job's start as the backend saw it, else the session's */
      start = int_member (p->last, "job_started", int_member (p->last, "started", -1));
      end = int_member (p->last, "ended", -1);
      if (start > 0)
        mn_twin_row_set_int (row, MN_TWIN_FIELD_START, start - t0);
      if (end > 0)
        mn_twin_row_set_int (row, MN_TWIN_FIELD_END, end - t0);
      end_reason = str_member (p->last, "end_reason");
      if (end_reason != NULL)
        mn_twin_row_set (row, MN_TWIN_FIELD_END_REASON, end_reason);
      /* Nothing to allocate on a GPU: nothing can fail (sessions with a GPU
       * footprint are declared not comparable below). */
      if (p->s->gpu_use_mb == 0)
        mn_twin_row_set (row, MN_TWIN_FIELD_GPU_FAILED, "0");
    }
  return rows;
}

static void
run_scenario (gconstpointer data)
{
  const gchar *file = data;
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  g_autofree gchar *path = g_build_filename (src, "tests", "twin", "scenarios", file, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MnTwinScenario) sc = mn_twin_scenario_load (path, &error);
  g_autoptr (GPtrArray) model = NULL;
  g_autoptr (GPtrArray) real = NULL;
  g_autoptr (GArray) played = g_array_new (FALSE, TRUE, sizeof (Played));
  g_autoptr (GString) report = g_string_new (NULL);
  g_autoptr (GHashTable) cannot_rows = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GString) gpu_sessions = g_string_new (NULL);
  MnTwinCompareOptions options = { { NULL }, cannot_rows, NULL };
  g_autofree gchar *why_gpu = NULL;
  Run run = { 0 };
  gint64 t0 = 0;
  guint diffs;

  g_assert_no_error (error);
  say_host ();
  model = mn_twin_run_sim (sc, &error);
  g_assert_no_error (error);

  run.sc = sc;
  run.dir = g_build_filename (h.dir, sc->name, NULL);
  run.cookies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_assert_cmpint (g_mkdir (run.dir, 0700), ==, 0);
  start_controller (&run, path);
  play (&run, played, &t0);
  stop_controller (&run);
  real = real_rows (&run, played, t0);

  /* What this host cannot show, said for every field or session concerned. */
  for (guint i = 0; i < sc->sessions->len; i++)
    {
      const MnTwinSession *s = g_ptr_array_index (sc->sessions, i);
      const MnTwinRow *m = g_ptr_array_index (model, i);

      if (s->gpu_use_mb > 0)
        g_string_append_printf (gpu_sessions, "%s%s", gpu_sessions->len ? ", " : "", s->name);
      if (g_str_equal (m->v[MN_TWIN_FIELD_END_REASON], "node-oom"))
        g_hash_table_insert (cannot_rows, s->name,
                             "a node OOM kill needs the policy's node RAM and swap; this host "
                             "has its own");
    }
  if (!host_has_controller ("cpuset"))
    options.cannot[MN_TWIN_FIELD_CPUS] = "no cpuset controller on this host";
  if (!host_has_controller ("memory"))
    options.cannot[MN_TWIN_FIELD_MEMORY_LIMIT] = "no memory controller on this host";
  else if (host_swap_mib () > 0 && g_file_test ("/sys/fs/cgroup/cgroup.controllers", G_FILE_TEST_EXISTS))
    options.cannot[MN_TWIN_FIELD_MEMORY_LIMIT] =
      "cgroup v2 with swap: memory.max and memory.swap.max bound RAM and swap apart, not "
      "RAM + swap together as the model's limit does";
  else if (host_swap_mib () > 0 && !host_has_memsw ())
    options.cannot[MN_TWIN_FIELD_MEMORY_LIMIT] =
      "cgroup v1 without swap accounting (no memory.memsw): swap is not limited";
  if (!host_has_controller ("cpu"))
    options.cannot[MN_TWIN_FIELD_CPU_QUOTA] = "no cpu controller on this host";
  if (gpu_sessions->len > 0 && !host_has_gpu ())
    {
      why_gpu = g_strdup_printf ("no GPU on this host: the GPU memory of %s is never allocated, "
                                 "so its failure cannot be seen", gpu_sessions->str);
      options.cannot[MN_TWIN_FIELD_GPU_FAILED] = why_gpu;
    }

  diffs = mn_twin_compare (sc, model, real, &options, report);
  {
    g_autofree gchar *m = mn_twin_rows_to_tsv (model);
    g_autofree gchar *r = mn_twin_rows_to_tsv (real);
    g_autofree gchar *mp = g_build_filename (run.dir, "model.tsv", NULL);
    g_autofree gchar *rp = g_build_filename (run.dir, "real.tsv", NULL);

    g_file_set_contents (mp, m, -1, NULL);
    g_file_set_contents (rp, r, -1, NULL);
  }
  /* The report goes to the TAP log line by line. */
  {
    g_auto (GStrv) lines = g_strsplit (report->str, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      if (lines[i][0] != '\0')
        g_test_message ("%s", lines[i]);
  }
  for (guint i = 0; i < played->len; i++)
    played_clear (&g_array_index (played, Played, i));
  g_hash_table_unref (run.cookies);
  g_free (run.config);
  g_free (run.state);
  g_free (run.sessions);
  if (diffs > 0)
    g_test_fail_printf ("%u difference%s between the model and the real controller "
                        "(rows in %s/{model,real}.tsv)", diffs, diffs == 1 ? "" : "s", run.dir);
  g_free (run.dir);
}

static void
clean_up (void)
{
  g_autoptr (GDir) d = g_dir_open (h.dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *sub = g_build_filename (h.dir, name, NULL);

      if (g_file_test (sub, G_FILE_TEST_IS_DIR))
        kill_leftovers (sub);
    }
  mn_test_remove_dir (h.dir);
}

int
main (int argc, char **argv)
{
  /* scheduler-queue.twin is the one the slurm and sge suites play too */
  static const gchar *const scenarios[] = { "lecture-burst.twin", "memory-hog.twin",
                                            "gpu-capped.twin", "scheduler-queue.twin" };
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  g_autoptr (GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (build);
  h.dir = g_dir_make_tmp ("minna-twin-XXXXXX", &error);
  g_assert_no_error (error);
  /* The tests run in a child, so that the parent cleans up even after an
   * aborted assertion. */
  if ((rc = mn_test_run_in_child (clean_up)) >= 0)
    return rc;
  h.controller_bin = g_build_filename (build, "daemons", "controller", "minna-controller", NULL);
  h.app_bin = g_build_filename (build, "tests", "twin", "minna-twin-app", NULL);
  h.http = soup_session_new_with_options ("timeout", 60, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      g_autofree gchar *test = g_strdup_printf ("/twin/local/%.*s", (int) (strlen (scenarios[i]) - 5),
                                                scenarios[i]);

      g_test_add_data_func (test, scenarios[i], run_scenario);
    }
  rc = g_test_run ();
  g_object_unref (h.http);
  fflush (stdout);
  _exit (rc);
}
