/* minna-twin-app: the app the twin suite launches through the real
 * controller, one process per scenario session.  It plays its session's
 * script and shows what the job was given:
 *
 *   minna-twin-app --scenario FILE --session NAME --host H --port P --base-url /s/ID/
 *
 * - memory: from its start it holds the scripted footprint (`use`), on top of
 *   its own few MiB, in touched anonymous pages;
 * - its "kernel" is busy for `busy` seconds (burning a fifth of a core, so
 *   that CPU use is real but 40 of them do not starve the machine), then
 *   idle; it answers GET {base}api/kernels as Jupyter does (execution_state,
 *   last_activity) and GET {base}api/status (readiness);
 * - it exits by itself after `exit` seconds, unless that is 'never';
 * - at start it writes $MINNA_SESSION_DIR/twin-report.json (else ./): its
 *   cpuset (Cpus_allowed_list), CUDA_VISIBLE_DEVICES, its cgroups and, where
 *   it can read them, its memory limits; GET {base}twin serves the same.
 * A GPU footprint (`gpu_use`) is only reported: there is no GPU to allocate
 * on the machines the suite runs on. */
#define G_LOG_DOMAIN "minna-twin-app"

#include <errno.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mn-twin.h"

typedef struct {
  const MnTwinSession *session;
  GMainLoop *loop;
  gint64     t0;               /* monotonic, us */
  gint64     wall0;            /* real, s */
  GArray    *chunks;           /* Chunk */
  guint64    held_mb;
  gchar     *report;           /* JSON text */
  gchar     *base;
  volatile gint busy;
} App;

typedef struct {
  void  *p;
  gsize  size;
} Chunk;

static gchar *
read_text (const gchar *path)
{
  gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

/* "Cpus_allowed_list:\t0-1" from /proc/self/status */
static gchar *
cpus_allowed (void)
{
  g_autofree gchar *status = read_text ("/proc/self/status");
  const gchar *p = status != NULL ? strstr (status, "Cpus_allowed_list:") : NULL;

  if (p == NULL)
    return g_strdup ("?");
  p += strlen ("Cpus_allowed_list:");
  while (*p == ' ' || *p == '\t')
    p++;
  return g_strndup (p, strcspn (p, "\n"));
}

/* The memory limit of our cgroup, v2 or v1 ("max" or bytes), if readable. */
static void
add_memory_limits (JsonBuilder *b, const gchar *cgroups)
{
  g_auto (GStrv) lines = g_strsplit (cgroups != NULL ? cgroups : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ":", 3);
      static const struct { const gchar *ctrl, *dir, *file, *name; } files[] = {
        { "", "/sys/fs/cgroup", "memory.max", "memory_max" },
        { "", "/sys/fs/cgroup", "memory.swap.max", "memory_swap_max" },
        { "", "/sys/fs/cgroup", "cpu.max", "cpu_max" },
        { "memory", "/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory_limit_in_bytes" },
        { "memory", "/sys/fs/cgroup/memory", "memory.memsw.limit_in_bytes", "memory_memsw_limit_in_bytes" },
        { "cpu", "/sys/fs/cgroup/cpu", "cpu.cfs_quota_us", "cpu_cfs_quota_us" },
        { "cpu", "/sys/fs/cgroup/cpu", "cpu.cfs_period_us", "cpu_cfs_period_us" },
      };

      if (g_strv_length (f) != 3)
        continue;
      for (gsize k = 0; k < G_N_ELEMENTS (files); k++)
        {
          g_auto (GStrv) ctrls = g_strsplit (f[1], ",", -1);
          g_autofree gchar *path = NULL;
          g_autofree gchar *value = NULL;

          if (!g_strv_contains ((const gchar *const *) ctrls, files[k].ctrl) &&
              !(files[k].ctrl[0] == '\0' && f[1][0] == '\0'))
            continue;
          path = g_build_filename (files[k].dir, f[2], files[k].file, NULL);
          value = read_text (path);
          if (value != NULL)
            {
              json_builder_set_member_name (b, files[k].name);
              json_builder_add_string_value (b, value);
            }
        }
    }
}

static gchar *
make_report (App *app)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *cpus = cpus_allowed ();
  g_autofree gchar *cgroups = read_text ("/proc/self/cgroup");
  const gchar *cuda = g_getenv ("CUDA_VISIBLE_DEVICES");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, app->session->name);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "started");
  json_builder_add_int_value (b, app->wall0);
  json_builder_set_member_name (b, "cpus");
  json_builder_add_string_value (b, cpus);
  json_builder_set_member_name (b, "cuda_visible_devices");
  if (cuda != NULL)
    json_builder_add_string_value (b, cuda);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "cgroups");
  json_builder_add_string_value (b, cgroups != NULL ? cgroups : "");
  add_memory_limits (b, cgroups);
  json_builder_set_member_name (b, "gpu_use_mb");
  json_builder_add_int_value (b, (gint64) app->session->gpu_use_mb);
  json_builder_set_member_name (b, "gpu_allocated");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}

/* ---- memory ------------------------------------------------------------------ */

static void
hold (App *app, guint64 mb)
{
  while (app->held_mb > mb && app->chunks->len > 0)
    {
      Chunk *c = &g_array_index (app->chunks, Chunk, app->chunks->len - 1);

      munmap (c->p, c->size);
      app->held_mb -= c->size >> 20;
      g_array_set_size (app->chunks, app->chunks->len - 1);
    }
  while (app->held_mb < mb)
    {
      /* Chunks of at most 16 MiB: growth is step by step, as a program's. */
      guint64 step = MIN (mb - app->held_mb, 16);
      Chunk c = { mmap (NULL, step << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  step << 20 };

      if (c.p == MAP_FAILED)
        g_error ("mmap %" G_GUINT64_FORMAT " MiB: %s", step, g_strerror (errno));
      memset (c.p, 0x5a, c.size);
      g_array_append_val (app->chunks, c);
      app->held_mb += step;
    }
  g_print ("%.1f s: holding %" G_GUINT64_FORMAT " MiB\n",
           (g_get_monotonic_time () - app->t0) / 1e6, mb);
}

typedef struct {
  App     *app;
  guint64  mb;
} Step;

static gboolean
on_step (gpointer data)
{
  Step *s = data;

  hold (s->app, s->mb);
  return G_SOURCE_REMOVE;
}

/* ---- the kernel -------------------------------------------------------------- */

static gpointer
burn (gpointer data)
{
  App *app = data;

  /* A fifth of a core while busy. */
  while (g_atomic_int_get (&app->busy))
    {
      gint64 until = g_get_monotonic_time () + 20000;

      while (g_get_monotonic_time () < until)
        ;
      g_usleep (80000);
    }
  return NULL;
}

static gboolean
on_idle (gpointer data)
{
  App *app = data;

  g_atomic_int_set (&app->busy, 0);
  g_print ("%.1f s: kernel idle\n", (g_get_monotonic_time () - app->t0) / 1e6);
  return G_SOURCE_REMOVE;
}

static gboolean
on_scripted_exit (gpointer data)
{
  App *app = data;

  g_print ("%.1f s: exiting as scripted\n", (g_get_monotonic_time () - app->t0) / 1e6);
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gchar *
iso_time (gint64 t)
{
  g_autoptr (GDateTime) d = g_date_time_new_from_unix_utc (t);

  return g_date_time_format (d, "%Y-%m-%dT%H:%M:%S.000000Z");
}

static void
reply (SoupServerMessage *msg, guint status, const gchar *type, const gchar *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body, strlen (body));
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer data)
{
  App *app = data;
  const gchar *rest;
  gboolean busy = g_atomic_int_get (&app->busy);
  gint64 elapsed = (g_get_monotonic_time () - app->t0) / G_USEC_PER_SEC;
  /* Busy: active now; idle: last active when it went idle. */
  gint64 last = app->wall0 + (busy ? elapsed : MIN (elapsed, app->session->busy));
  g_autofree gchar *when = iso_time (last);
  g_autofree gchar *body = NULL;

  if (!g_str_has_prefix (path, app->base))
    return reply (msg, 404, "text/plain", "not under the session's base URL\n");
  rest = path + strlen (app->base);
  if (g_str_equal (rest, "api/kernels"))
    body = g_strdup_printf ("[{\"id\": \"twin-%s\", \"name\": \"python3\", \"last_activity\": "
                            "\"%s\", \"execution_state\": \"%s\", \"connections\": 0}]",
                            app->session->name, when, busy ? "busy" : "idle");
  else if (g_str_equal (rest, "api/status"))
    {
      g_autofree gchar *started = iso_time (app->wall0);

      body = g_strdup_printf ("{\"started\": \"%s\", \"last_activity\": \"%s\", \"kernels\": 1, "
                              "\"connections\": 0}", started, when);
    }
  else if (g_str_equal (rest, "twin"))
    body = g_strdup (app->report);
  else if (rest[0] == '\0')
    body = g_strdup_printf ("{\"app\": \"minna-twin-app\", \"session\": \"%s\"}", app->session->name);
  if (body == NULL)
    return reply (msg, 404, "text/plain", "no such page\n");
  reply (msg, 200, "application/json", body);
}

static gboolean
on_signal (gpointer data)
{
  App *app = data;

  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *scenario_path = NULL, *name = NULL, *host = NULL, *base = NULL;
  gint port = 0;
  GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario_path, "scenario file", "FILE" },
    { "session", 0, 0, G_OPTION_ARG_STRING, &name, "session name in it", "NAME" },
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "address to listen on", "ADDR" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "port", "PORT" },
    { "base-url", 0, 0, G_OPTION_ARG_STRING, &base, "the session's base URL", "/s/ID/" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- a twin scenario session");
  g_autoptr (GError) error = NULL;
  g_autoptr (MnTwinScenario) sc = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (GInetAddress) addr = NULL;
  g_autoptr (GSocketAddress) sa = NULL;
  g_autofree gchar *report_path = NULL;
  GThread *burner = NULL;
  App app = { 0 };
  const gchar *dir = g_getenv ("MINNA_SESSION_DIR");

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (scenario_path == NULL || name == NULL || host == NULL || port <= 0 || base == NULL)
    g_error ("--scenario, --session, --host, --port and --base-url are needed");
  sc = mn_twin_scenario_load (scenario_path, &error);
  if (sc == NULL)
    g_error ("%s", error->message);
  for (guint i = 0; i < sc->sessions->len; i++)
    if (g_str_equal (((MnTwinSession *) g_ptr_array_index (sc->sessions, i))->name, name))
      app.session = g_ptr_array_index (sc->sessions, i);
  if (app.session == NULL)
    g_error ("%s: no session '%s'", scenario_path, name);

  app.t0 = g_get_monotonic_time ();
  app.wall0 = g_get_real_time () / G_USEC_PER_SEC;
  app.chunks = g_array_new (FALSE, FALSE, sizeof (Chunk));
  app.loop = g_main_loop_new (NULL, FALSE);
  app.base = g_str_has_suffix (base, "/") ? g_strdup (base) : g_strdup_printf ("%s/", base);
  app.report = make_report (&app);
  report_path = g_build_filename (dir != NULL ? dir : ".", "twin-report.json", NULL);
  if (!g_file_set_contents (report_path, app.report, -1, &error))
    g_error ("%s", error->message);
  {
    g_autofree gchar *cpus = cpus_allowed ();

    g_print ("minna-twin-app %s: cpus %s, CUDA_VISIBLE_DEVICES %s\n", name, cpus,
             g_getenv ("CUDA_VISIBLE_DEVICES") ? g_getenv ("CUDA_VISIBLE_DEVICES") : "(unset)");
  }

  /* Memory from the start: steps at offset 0 now, the others on timers. */
  for (guint i = 0; i < app.session->use->len; i++)
    {
      const MnTwinStep *st = &g_array_index (app.session->use, MnTwinStep, i);
      Step *s = g_new (Step, 1);

      s->app = &app;
      s->mb = st->memory_mb;
      if (st->offset <= 0)
        {
          on_step (s);
          g_free (s);
        }
      else
        g_timeout_add_full (G_PRIORITY_HIGH, (guint) (st->offset * 1000), on_step, s, g_free);
    }
  if (app.session->busy > 0)
    {
      app.busy = 1;
      burner = g_thread_new ("kernel", burn, &app);
      g_timeout_add_full (G_PRIORITY_HIGH, (guint) (app.session->busy * 1000), on_idle, &app, NULL);
    }
  if (app.session->exit >= 0)
    g_timeout_add_full (G_PRIORITY_HIGH, (guint) (app.session->exit * 1000), on_scripted_exit, &app, NULL);

  server = soup_server_new ("server-header", "minna-twin-app", NULL);
  soup_server_add_handler (server, NULL, on_request, &app, NULL);
  addr = g_inet_address_new_from_string (host);
  if (addr == NULL)
    g_error ("--host %s: not an address", host);
  sa = g_inet_socket_address_new (addr, (guint16) port);
  if (!soup_server_listen (server, sa, 0, &error))
    g_error ("listen %s:%d: %s", host, port, error->message);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_main_loop_run (app.loop);

  g_atomic_int_set (&app.busy, 0);
  if (burner != NULL)
    g_thread_join (burner);
  hold (&app, 0);
  g_array_unref (app.chunks);
  g_main_loop_unref (app.loop);
  g_free (app.report);
  g_free (app.base);
  return 0;
}
