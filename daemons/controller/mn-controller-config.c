/* mn-controller-config.c: the key table and the code driven by it. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (mn-controller-error-quark, mn_controller_error)

typedef enum {
  KEY_STRING,
  KEY_UINT,
  KEY_DURATION,
  KEY_LIST,
} KeyType;

typedef struct {
  const gchar *group;
  const gchar *key;
  KeyType      type;
  gsize        offset;
  const gchar *def;
  gint64       min;
  gint64       max;
  const gchar *help;
} KeyDef;

#define OFF(f) G_STRUCT_OFFSET (MnControllerConfig, f)

static const KeyDef keys[] = {
  { "server", "listen", KEY_STRING, OFF (listen), "127.0.0.1", 0, 0,
    "Address the JSON API listens on (loopback or the management network; the relay fronts it)." },
  { "server", "port", KEY_UINT, OFF (port), "8470", 0, 65535,
    "TCP port of the JSON API; 0 picks a free one and logs it." },
  { "server", "allowed_origins", KEY_LIST, OFF (allowed_origins), "", 0, 0,
    "Origins (scheme://host[:port]) browsers may send state-changing requests from, besides the request's own Host." },
  { "server", "admins", KEY_LIST, OFF (admins), "", 0, 0,
    "Users who see every session and may stop any of them." },
  { "server", "www_dir", KEY_STRING, OFF (www_dir), "/usr/share/minna/www", 0, 0,
    "Directory of the portal's pages (index.html, login.html, admin.html, static/); served on /, /login, /admin, /static/." },
  { "state", "state_dir", KEY_STRING, OFF (state_dir), "/var/lib/minna", 0, 0,
    "Directory of the controller's own state: the database, the local backend's job records (mode 0700, every file 0600; checked and tightened at start)." },
  { "state", "sessions_dir", KEY_STRING, OFF (sessions_dir), "", 0, 0,
    "Directory of the session directories (<id>/, 0700 each, owned by the job's user); users' jobs must reach it, so it is 0711. Empty means <state_dir>-sessions, or <state_dir>/sessions where an older controller made that (then state_dir stays 0711)." },
  { "state", "database", KEY_STRING, OFF (database), "", 0, 0,
    "SQLite database file; empty means <state_dir>/controller.db." },
  { "state", "apps_dir", KEY_STRING, OFF (apps_dir), "/usr/share/minna/apps", 0, 0,
    "Directory of app definitions (*.app key files)." },
  { "state", "policy_file", KEY_STRING, OFF (policy_file), "", 0, 0,
    "interactive.q policy (interactive.conf, see minna-policy); empty means the built-in TSUBAME3 defaults. Reloaded on SIGHUP." },
  { "auth", "methods", KEY_STRING, OFF (auth), "users-file", 0, 0,
    "How passwords are checked: users-file, pam, or both separated by a comma (tried in that order)." },
  { "auth", "users_file", KEY_STRING, OFF (users_file), "/etc/minna/users", 0, 0,
    "Users file: one 'user:$pbkdf2-sha256$ITER$SALT$HASH' a line; write entries with 'minna-controller passwd'." },
  { "auth", "key_file", KEY_STRING, OFF (key_file), "/etc/minna/cookie-key", 0, 0,
    "Key of the login cookie shared with the relay (mode 0600; created if missing)." },
  { "auth", "cookie_lifetime", KEY_DURATION, OFF (cookie_lifetime), "12h", 60, 30 * 86400,
    "How long a login lasts." },
  { "auth", "pbkdf2_iterations", KEY_UINT, OFF (pbkdf2_iterations), "200000", 1000, 10000000,
    "PBKDF2-HMAC-SHA256 iterations for new users-file entries." },
  { "auth", "login_max_delay", KEY_DURATION, OFF (login_max_delay), "60s", 1, 3600,
    "Longest wait imposed after repeated failed logins (per user and per address; doubles from 1 s)." },
  { "relay", "url", KEY_STRING, OFF (relay_url), "", 0, 0,
    "Admin URL of minna-relay (http://host:port); empty means no relay (routes are still served on /api/v1/routes)." },
  { "relay", "secret_file", KEY_STRING, OFF (relay_secret_file), "/etc/minna/admin-secret", 0, 0,
    "Bearer secret shared with the relay (mode 0600); guards /api/v1/routes and the relay's admin API." },
  { "backend", "type", KEY_STRING, OFF (backend), "local", 0, 0,
    "Scheduler backend: local (jobs are processes on this machine), slurm (sbatch/squeue/sacct/scancel) or sge (Grid Engine: qsub/qstat/qacct/qdel)." },
  { "backend", "batch", KEY_STRING, OFF (batch), "auto", 0, 0,
    "Whether requests with queue = batch are taken: auto: on slurm/sge (they go to batch_partition / batch_queue, where the scheduler's own limits apply), not on local (there nothing but the policy bounds a job, and batch requests bypass it); allow: on every backend, local too (a local batch job gets the cgroup limits of what it asked, within the app form's bounds, but no interactive.q admission); refuse: nowhere. A refused request gets 409 with reason 'batch-not-allowed'." },
  { "backend", "run_as", KEY_STRING, OFF (run_as), "user", 0, 0,
    "user: jobs run as the logged-in Unix user (controller must be root); controller: as the controller's own user." },
  { "backend", "job_host", KEY_STRING, OFF (job_host), "127.0.0.1", 0, 0,
    "Address apps listen on and the relay connects to: one address (the local backend, or a cluster of one host), or 'node': the job's own compute node (the job picks its node's address, a non-loopback IPv4 one of its host name when it has one; the controller accepts it only if the node the scheduler names for the job resolves to it)." },
  { "backend", "port_min", KEY_UINT, OFF (port_min), "20000", 1024, 65535,
    "Lowest port a job may pick for its app." },
  { "backend", "port_max", KEY_UINT, OFF (port_max), "20999", 1024, 65535,
    "Highest port a job may pick for its app." },
  { "backend", "port_lock_dir", KEY_STRING, OFF (port_lock_dir), "/run/minna/ports", 0, 0,
    "Directory (mode 1777) of per-port lock files that jobs hold while their app runs." },
  { "backend", "cgroup", KEY_STRING, OFF (cgroup), "auto", 0, 0,
    "auto: a cgroup per job below the controller's own (v2, or v1 memory+cpu); none: rlimits only; or a cgroup directory." },
  { "backend", "ready_timeout", KEY_DURATION, OFF (ready_timeout), "120s", 1, 86400,
    "How long an app may take, once its job runs, to answer its readiness path; then it is cancelled and failed." },
  { "backend", "kill_grace", KEY_DURATION, OFF (kill_grace), "10s", 0, 3600,
    "Time between SIGTERM and SIGKILL when a job is stopped or hits its walltime." },
  { "backend", "poll_interval_ms", KEY_UINT, OFF (poll_interval_ms), "1000", 10, 600000,
    "How often jobs are polled (one call for all of them)." },
  { "backend", "launcher", KEY_STRING, OFF (launcher), "", 0, 0,
    "Program job scripts run to pick and hold a port (minna-job-launch); empty means the one beside minna-controller." },
  { "backend", "kernel_program", KEY_STRING, OFF (kernel_program), "", 0, 0,
    "minna-kernel, run as each user (like jobs, see run_as) to list their Jupyter kernels for the launch form; empty means the one beside minna-controller, else PATH." },
  { "backend", "kernel_timeout", KEY_DURATION, OFF (kernel_timeout), "10s", 1, 600,
    "Longest 'minna-kernel list' may take (a hung home directory makes it hang); then it is killed and GET /api/v1/kernels answers 504." },
  { "backend", "partition", KEY_STRING, OFF (partition), "interactive", 0, 0,
    "slurm: partition of interactive.q jobs (minna-policy export --slurm names it 'interactive')." },
  { "backend", "batch_partition", KEY_STRING, OFF (batch_partition), "", 0, 0,
    "slurm: partition of batch jobs; empty means the cluster's default partition." },
  { "backend", "queue", KEY_STRING, OFF (queue), "interactive.q", 0, 0,
    "sge: cluster queue of interactive.q jobs (minna-policy export --sge names it 'interactive.q')." },
  { "backend", "batch_queue", KEY_STRING, OFF (batch_queue), "", 0, 0,
    "sge: cluster queue of batch jobs; empty means any queue." },
  { "backend", "bin_dir", KEY_STRING, OFF (bin_dir), "", 0, 0,
    "slurm/sge: directory of the scheduler's commands (sbatch... or qsub...); empty means PATH." },
  { "backend", "command_timeout", KEY_DURATION, OFF (command_timeout), "15s", 1, 600,
    "slurm/sge: longest a scheduler command may take (a down slurmctld/sge_qmaster makes them hang); then sessions become unknown." },
  { "backend", "give_up_after", KEY_DURATION, OFF (give_up_after), "10s", 1, 3600,
    "slurm: how long the job of a request with if_busy = give_up may wait in the partition's queue before it is cancelled and the session fails (jobs from outside minna can fill it although the policy admitted the request; Slurm 22.05 has no sbatch --immediate). sge uses qsub -now y instead. Requests that wait are never given up." },
  { "backend", "memory_resource", KEY_STRING, OFF (memory_resource), "h_vmem", 0, 0,
    "sge: complex a job's memory is requested as (-l NAME=...M); empty means memory is not requested." },
  { "backend", "sge_root", KEY_STRING, OFF (sge_root), "", 0, 0,
    "sge: SGE_ROOT for the Grid Engine commands; empty means the controller's environment." },
  { "backend", "sge_cell", KEY_STRING, OFF (sge_cell), "", 0, 0,
    "sge: SGE_CELL for the Grid Engine commands; empty means the controller's environment (or 'default')." },
};

/* String keys that take one of a few words: checked as they are set, so
 * that the error names the file's line. */
static const struct {
  const gchar *group;
  const gchar *key;
  const gchar *const words[4];
} choices[] = {
  { "backend", "type", { "local", "slurm", "sge", NULL } },
  { "backend", "batch", { "auto", "allow", "refuse", NULL } },
};

static gboolean
check_choice (const KeyDef *def, const gchar *value, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (choices); i++)
    if (g_str_equal (choices[i].group, def->group) && g_str_equal (choices[i].key, def->key) &&
        !g_strv_contains (choices[i].words, value))
      {
        g_autofree gchar *known = g_strjoinv (", ", (gchar **) choices[i].words);
        g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                     "[%s] %s: unknown value '%s' (known: %s)", def->group, def->key, value,
                     known);
        return FALSE;
      }
  return TRUE;
}

static const KeyDef *
find_key (const gchar *group, const gchar *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_str_equal (keys[i].group, group) && g_str_equal (keys[i].key, key))
      return &keys[i];
  return NULL;
}

gboolean
mn_controller_parse_duration (const gchar *text, gint64 *out)
{
  gchar *end = NULL;
  gint64 mult = 1;
  gint64 v;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoll (text, &end, 10);
  if (errno != 0)
    return FALSE;
  if (*end == 's')
    end++;
  else if (*end == 'm')
    mult = 60, end++;
  else if (*end == 'h')
    mult = 3600, end++;
  else if (*end == 'd')
    mult = 86400, end++;
  if (*end != '\0' || v > G_MAXINT64 / mult)
    return FALSE;
  *out = v * mult;
  return TRUE;
}

static gboolean
set_value (MnControllerConfig *config, const KeyDef *def, const gchar *raw,
           GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P (config, def->offset);
  g_autofree gchar *value = g_strstrip (g_strdup (raw));

  switch (def->type)
    {
    case KEY_STRING:
      if (!check_choice (def, value, error))
        return FALSE;
      g_free (*(gchar **) field);
      *(gchar **) field = g_steal_pointer (&value);
      return TRUE;
    case KEY_LIST:
      g_strfreev (*(gchar ***) field);
      {
        g_auto(GStrv) parts = g_strsplit_set (value, ",;", -1);
        g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
        for (gsize i = 0; parts[i] != NULL; i++)
          {
            g_strstrip (parts[i]);
            if (parts[i][0] != '\0')
              g_strv_builder_add (b, parts[i]);
          }
        *(gchar ***) field = g_strv_builder_end (b);
      }
      return TRUE;
    case KEY_UINT:
    case KEY_DURATION:
      {
        gint64 v = 0;
        gboolean ok;
        if (def->type == KEY_UINT)
          {
            guint64 u = 0;
            ok = g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &u, NULL);
            v = (gint64) u;
          }
        else
          ok = mn_controller_parse_duration (value, &v);
        if (!ok || v < def->min || v > def->max)
          {
            g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                         "[%s] %s: value '%s' %s (allowed %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "%s)",
                         def->group, def->key, value, ok ? "out of range" : "is not valid",
                         def->min, def->max, def->type == KEY_DURATION ? " s; suffixes s m h d" : "");
            return FALSE;
          }
        if (def->type == KEY_UINT)
          *(guint *) field = (guint) v;
        else
          *(gint64 *) field = v;
        return TRUE;
      }
    }
  g_assert_not_reached ();
}

MnControllerConfig *
mn_controller_config_new_default (void)
{
  MnControllerConfig *config = g_new0 (MnControllerConfig, 1);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      gboolean ok = set_value (config, &keys[i], keys[i].def, NULL);
      g_assert (ok);
    }
  return config;
}

void
mn_controller_config_free (MnControllerConfig *config)
{
  if (config == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      gpointer field = G_STRUCT_MEMBER_P (config, keys[i].offset);
      if (keys[i].type == KEY_STRING)
        g_free (*(gchar **) field);
      else if (keys[i].type == KEY_LIST)
        g_strfreev (*(gchar ***) field);
    }
  g_free (config);
}

static gsize
edit_distance (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree gsize *row = g_new (gsize, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      gsize diag = row[0];
      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          gsize up = row[j];
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
          diag = up;
        }
    }
  return row[lb];
}

static const gchar *
closest_key (const gchar *group, const gchar *key)
{
  const gchar *best = NULL;
  gsize best_d = 3;   /* suggest only near misses */
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      gsize d;
      if (!g_str_equal (keys[i].group, group))
        continue;
      d = edit_distance (key, keys[i].key);
      if (d < best_d)
        best_d = d, best = keys[i].key;
    }
  return best;
}

static gboolean
check (MnControllerConfig *config, const gchar *filename, GError **error)
{
  if (config->port_min > config->port_max)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "%s: [backend] port_min %u is above port_max %u",
                   filename, config->port_min, config->port_max);
      return FALSE;
    }
  if (!g_str_equal (config->run_as, "user") && !g_str_equal (config->run_as, "controller"))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "%s: [backend] run_as: '%s' is neither 'user' nor 'controller'",
                   filename, config->run_as);
      return FALSE;
    }
  {
    g_auto(GStrv) m = g_strsplit (config->auth, ",", -1);
    for (gsize i = 0; m[i] != NULL; i++)
      {
        g_strstrip (m[i]);
        if (!g_str_equal (m[i], "users-file") && !g_str_equal (m[i], "pam"))
          {
            g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                         "%s: [auth] methods: unknown method '%s' (known: users-file, pam)",
                         filename, m[i]);
            return FALSE;
          }
      }
  }
  return TRUE;
}

gboolean
mn_controller_config_load_data (MnControllerConfig *config, const gchar *data,
                                const gchar *filename, GError **error)
{
  g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
  g_autofree gchar *group = NULL;

  /* Parsed line by line (not with GKeyFile) so that every error can name its
   * line; the syntax is the GKeyFile/INI subset: [group], key = value, #. */
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      gchar *line = g_strstrip (lines[i]);
      gchar *eq;
      const KeyDef *def;
      g_autoptr(GError) local = NULL;

      if (*line == '\0' || *line == '#' || *line == ';')
        continue;
      if (*line == '[')
        {
          gsize len = strlen (line);
          gboolean known = FALSE;
          if (line[len - 1] != ']')
            {
              g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                           "%s:%zu: group header '%s' has no closing ']'", filename, i + 1, line);
              return FALSE;
            }
          g_free (group);
          group = g_strndup (line + 1, len - 2);
          for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
            known |= g_str_equal (keys[k].group, group);
          if (!known)
            {
              g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                           "%s:%zu: unknown group [%s] (known: server, state, auth, relay, backend)",
                           filename, i + 1, group);
              return FALSE;
            }
          continue;
        }
      eq = strchr (line, '=');
      if (eq == NULL || group == NULL)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                       "%s:%zu: expected 'key = value' inside a [group], got '%s'",
                       filename, i + 1, line);
          return FALSE;
        }
      *eq = '\0';
      g_strstrip (line);
      def = find_key (group, line);
      if (def == NULL)
        {
          const gchar *near = closest_key (group, line);
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                       "%s:%zu: unknown key '%s' in [%s]%s%s%s", filename, i + 1, line, group,
                       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
          return FALSE;
        }
      if (!set_value (config, def, eq + 1, &local))
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                       "%s:%zu: %s", filename, i + 1, local->message);
          return FALSE;
        }
    }
  return check (config, filename, error);
}

gboolean
mn_controller_config_load_file (MnControllerConfig *config, const gchar *path,
                                GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, &data, NULL, &local))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "%s: %s", path, local->message);
      return FALSE;
    }
  return mn_controller_config_load_data (config, data, path, error);
}

gboolean
mn_controller_config_set (MnControllerConfig *config, const gchar *group,
                          const gchar *key, const gchar *value, GError **error)
{
  const KeyDef *def = find_key (group, key);
  if (def == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "unknown key '%s' in [%s]", key, group);
      return FALSE;
    }
  return set_value (config, def, value, error) && check (config, "--set", error);
}

static const gchar *
type_name (KeyType t)
{
  switch (t)
    {
    case KEY_STRING: return "string";
    case KEY_UINT: return "integer";
    case KEY_DURATION: return "duration";
    case KEY_LIST: return "list";
    }
  return "?";
}

gchar *
mn_controller_config_describe (void)
{
  GString *s = g_string_new ("Configuration keys (file given with --config):\n");
  const gchar *group = "";
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      if (!g_str_equal (group, keys[i].group))
        g_string_append_printf (s, "\n[%s]\n", group = keys[i].group);
      g_string_append_printf (s, "  %-18s %-8s default '%s'", keys[i].key,
                              type_name (keys[i].type), keys[i].def);
      if (keys[i].type == KEY_UINT || keys[i].type == KEY_DURATION)
        g_string_append_printf (s, ", %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, keys[i].min, keys[i].max);
      g_string_append_printf (s, "\n      %s\n", keys[i].help);
    }
  return g_string_free (s, FALSE);
}

gchar *
mn_controller_config_example (void)
{
  GString *s = g_string_new ("# minna-controller configuration; every key with its default.\n");
  const gchar *group = "";
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      if (!g_str_equal (group, keys[i].group))
        g_string_append_printf (s, "\n[%s]\n", group = keys[i].group);
      g_string_append_printf (s, "# %s\n%s = %s\n", keys[i].help, keys[i].key, keys[i].def);
    }
  return g_string_free (s, FALSE);
}

gboolean
mn_controller_config_is_admin (const MnControllerConfig *config, const gchar *user)
{
  return user != NULL && config->admins != NULL &&
         g_strv_contains ((const gchar * const *) config->admins, user);
}

gchar *
mn_controller_config_sessions_dir (const MnControllerConfig *config)
{
  g_autofree gchar *inside = NULL;
  if (config->sessions_dir != NULL && config->sessions_dir[0] != '\0')
    return g_strdup (config->sessions_dir);
  inside = g_build_filename (config->state_dir, "sessions", NULL);
  if (g_file_test (inside, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&inside);
  {
    g_autofree gchar *state = g_canonicalize_filename (config->state_dir, NULL);
    return g_strconcat (state, "-sessions", NULL);
  }
}
