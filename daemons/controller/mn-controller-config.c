/* mn-controller-config.c: the key table; libminna-config (config/) parses,
 * checks and documents it.  What only makes sense of keys together is
 * checked here (check ()). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-config.h"

#include <string.h>

#include "mn-config.h"

G_DEFINE_QUARK (mn-controller-error-quark, mn_controller_error)

#define OFF(f) G_STRUCT_OFFSET (MnControllerConfig, f)
#define KEY(group_, name_, type_, field, def_, min_, max_, help_) \
  { .group = group_, .name = name_, .type = MN_CONFIG_##type_, .offset = OFF (field), \
    .def = def_, .min = min_, .max = max_, .help = help_ }

static const gchar *const backend_types[] = { "local", "slurm", "sge", NULL };
static const gchar *const batch_modes[] = { "auto", "allow", "refuse", NULL };
static const gchar *const host_fit_modes[] = { "warn", "refuse", NULL };
static const gchar *const create_database_modes[] = { "auto", "yes", "no", NULL };

static const MnConfigKey keys[] = {
  KEY ("server", "listen", STRING, listen, "127.0.0.1", 0, 0,
    "Address the JSON API listens on (loopback or the management network; the relay fronts it)."),
  KEY ("server", "port", UINT, port, "8470", 0, 65535,
    "TCP port of the JSON API; 0 picks a free one and logs it."),
  KEY ("server", "allowed_origins", STRV, allowed_origins, "", 0, 0,
    "Origins (scheme://host[:port]) browsers may send state-changing requests from, besides the request's own Host."),
  KEY ("server", "trusted_proxies", STRV, trusted_proxies, "127.0.0.1, ::1", 0, 0,
    "Addresses of the relay: X-Forwarded-For (the client's address, for the login slow-down) and X-Forwarded-Host are believed from these peers only, and only with the relay's proof (X-Minna-Relay-Proof, from [relay] secret_file); from anyone else they are ignored."),
  KEY ("server", "metrics_secret_file", STRING, metrics_secret_file, "", 0, 0,
    "Bearer secret (mode 0600) a Prometheus scraper shows for /metrics; empty means only admins' logins may read /metrics."),
  KEY ("server", "admins", STRV, admins, "", 0, 0,
    "Users who see every session and may stop any of them."),
  KEY ("server", "www_dir", STRING, www_dir, "/usr/share/minna/www", 0, 0,
    "Directory of the portal's pages (index.html, login.html, admin.html, static/); served on /, /login, /admin, /static/."),
  KEY ("state", "state_dir", STRING, state_dir, "/var/lib/minna", 0, 0,
    "Directory of the controller's own state: the database, the local backend's job records (mode 0700, every file 0600; checked and tightened at start)."),
  KEY ("state", "sessions_dir", STRING, sessions_dir, "", 0, 0,
    "Directory of the session directories (<id>/, 0700 each, owned by the job's user); users' jobs must reach it, so it is 0711. Empty means <state_dir>-sessions, or <state_dir>/sessions where an older controller made that (then state_dir stays 0711)."),
  KEY ("state", "database", STRING, database, "", 0, 0,
    "SQLite database file; empty means <state_dir>/controller.db."),
  { .group = "state", .name = "create_database", .type = MN_CONFIG_STRING,
    .offset = OFF (create_database), .def = "auto", .choices = create_database_modes, .help =
    "Whether the controller may make a new database at start.  auto: only on a first install (the file is missing and the state directory holds no job record or session directory of an earlier run); yes: also where the file is missing or empty (0 bytes) in a used state directory (after a loss: restore from a backup first, see docs/operations.md); no: never.  A foreign or damaged file is always refused." },
  KEY ("state", "apps_dir", STRING, apps_dir, "/usr/share/minna/apps", 0, 0,
    "Directory of app definitions (*.app key files)."),
  KEY ("state", "policy_file", STRING, policy_file, "", 0, 0,
    "interactive.q policy (interactive.conf, see minna-policy); empty means the built-in TSUBAME3 defaults. Reloaded on SIGHUP."),
  KEY ("auth", "methods", STRING, auth, "users-file", 0, 0,
    "How passwords are checked: users-file, pam, or both separated by a comma (tried in that order)."),
  KEY ("auth", "users_file", STRING, users_file, "/etc/minna/users", 0, 0,
    "Users file: one 'user:$pbkdf2-sha256$ITER$SALT$HASH' a line; write entries with 'minna-controller passwd'."),
  KEY ("auth", "key_file", STRING, key_file, "/etc/minna/cookie-key", 0, 0,
    "Key of the login cookie shared with the relay (mode 0600; created if missing)."),
  KEY ("auth", "cookie_lifetime", DURATION, cookie_lifetime, "12h", 60, 30 * 86400,
    "How long a login lasts."),
  KEY ("auth", "pbkdf2_iterations", UINT, pbkdf2_iterations, "200000", 1000, 10000000,
    "PBKDF2-HMAC-SHA256 iterations for new users-file entries."),
  KEY ("auth", "login_max_delay", DURATION, login_max_delay, "60s", 1, 3600,
    "Longest wait imposed after repeated failed logins (per user and per address; doubles from 1 s)."),
  KEY ("relay", "url", STRING, relay_url, "", 0, 0,
    "Admin URL of minna-relay (http://host:port); empty means no relay (routes are still served on /api/v1/routes)."),
  KEY ("relay", "secret_file", STRING, relay_secret_file, "/etc/minna/admin-secret", 0, 0,
    "Bearer secret shared with the relay (mode 0600); guards /api/v1/routes and the relay's admin API."),
  { .group = "backend", .name = "type", .type = MN_CONFIG_STRING, .offset = OFF (backend),
    .def = "local", .choices = backend_types, .help =
    "Scheduler backend: local (jobs are processes on this machine), slurm (sbatch/squeue/sacct/scancel) or sge (Grid Engine: qsub/qstat/qacct/qdel)." },
  { .group = "backend", .name = "host_fit", .type = MN_CONFIG_STRING, .offset = OFF (host_fit),
    .def = "warn", .choices = host_fit_modes, .help =
    "What to do when the policy does not fit the backend: local: the policy's [node] (cores, memory, swap, GPUs) or [queue] nodes describe more than this host has, or the kernel cannot set a limit of the model; slurm/sge: [backend] partition/queue is not the one the policy's export configures. warn: log each mismatch naming the keys and run anyway (local: every policy node is this host, a logical node's cores fold onto its CPUs: the host holds more jobs than it was sized for); refuse: do not start (and keep the old policy on SIGHUP)." },
  { .group = "backend", .name = "batch", .type = MN_CONFIG_STRING, .offset = OFF (batch),
    .def = "auto", .choices = batch_modes, .help =
    "Whether requests with queue = batch are taken: auto: on slurm/sge (they go to batch_partition / batch_queue, where the scheduler's own limits apply), not on local (there nothing but the policy bounds a job, and batch requests bypass it); allow: on every backend, local too (a local batch job gets the cgroup limits of what it asked, within the app form's bounds, but no interactive.q admission); refuse: nowhere. A refused request gets 409 with reason 'batch-not-allowed'." },
  KEY ("backend", "run_as", STRING, run_as, "user", 0, 0,
    "user: jobs run as the logged-in Unix user (controller must be root); controller: as the controller's own user."),
  KEY ("backend", "job_host", STRING, job_host, "127.0.0.1", 0, 0,
    "Address apps listen on and the relay connects to: one address (the local backend, or a cluster of one host), or 'node': the job's own compute node (the job picks its node's address, a non-loopback IPv4 one of its host name when it has one; the controller accepts it only if the node the scheduler names for the job resolves to it)."),
  KEY ("backend", "port_min", UINT, port_min, "20000", 1024, 65535,
    "Lowest port a job may pick for its app."),
  KEY ("backend", "port_max", UINT, port_max, "20999", 1024, 65535,
    "Highest port a job may pick for its app."),
  KEY ("backend", "port_locks_per_user", UINT, port_locks_per_user, "8", 0, 10000,
    "Port locks one user's jobs may hold on a node before other users' jobs ignore the rest (any user can lock any port's file; 0: no limit). Locks of root and of the job's own user always count."),
  KEY ("backend", "port_lock_dir", STRING, port_lock_dir, "/run/minna/ports", 0, 0,
    "Directory (mode 1777) of per-port lock files that jobs hold while their app runs."),
  KEY ("backend", "cgroup", STRING, cgroup, "auto", 0, 0,
    "auto: a cgroup per job below the controller's own (v2, or v1 memory+cpu); none: rlimits only; or a cgroup directory."),
  KEY ("backend", "ready_timeout", DURATION, ready_timeout, "120s", 1, 86400,
    "How long an app may take, once its job runs, to answer its readiness path; then it is cancelled and failed."),
  KEY ("backend", "kill_grace", DURATION, kill_grace, "10s", 0, 3600,
    "Time between SIGTERM and SIGKILL when a job is stopped or hits its walltime."),
  KEY ("backend", "poll_interval_ms", UINT, poll_interval_ms, "1000", 10, 600000,
    "How often jobs are polled (one call for all of them)."),
  KEY ("backend", "max_starting", UINT, max_starting, "0", 0, 100000,
    "local: at most this many jobs start at once on this host (submitted, their app not answering yet, for at most 10 s each); the sessions admitted after them wait for a slot in launch order, so a lecture's sessions come up in the order they were launched, not all at the moment the last one does. 0: 4 per CPU of this host. slurm/sge: not used (the scheduler starts jobs on its nodes)."),
  KEY ("backend", "launcher", STRING, launcher, "", 0, 0,
    "Program job scripts run to pick and hold a port (minna-job-launch); empty means the one beside minna-controller."),
  KEY ("backend", "kernel_program", STRING, kernel_program, "", 0, 0,
    "minna-kernel, run as each user (like jobs, see run_as) to list their Jupyter kernels for the launch form; empty means the one beside minna-controller, else PATH."),
  KEY ("backend", "kernel_timeout", DURATION, kernel_timeout, "10s", 1, 600,
    "Longest 'minna-kernel list' may take (a hung home directory makes it hang); then it is killed and GET /api/v1/kernels answers 504."),
  KEY ("backend", "partition", STRING, partition, "interactive", 0, 0,
    "slurm: partition of interactive.q jobs (minna-policy export --slurm names it 'interactive')."),
  KEY ("backend", "batch_partition", STRING, batch_partition, "", 0, 0,
    "slurm: partition of batch jobs; empty means the cluster's default partition."),
  KEY ("backend", "queue", STRING, queue, "interactive.q", 0, 0,
    "sge: cluster queue of interactive.q jobs (minna-policy export --sge names it 'interactive.q')."),
  KEY ("backend", "batch_queue", STRING, batch_queue, "", 0, 0,
    "sge: cluster queue of batch jobs; empty means any queue."),
  KEY ("backend", "bin_dir", STRING, bin_dir, "", 0, 0,
    "slurm/sge: directory of the scheduler's commands (sbatch... or qsub...); empty means PATH (sge: $SGE_ROOT/bin/$SGE_ARCH when SGE_ROOT and SGE_CELL are set, Grid Engine's own clients rather than Debian's wrapper, which spends 0.3 s of CPU per call working out the architecture)."),
  KEY ("backend", "command_timeout", DURATION, command_timeout, "15s", 1, 600,
    "slurm/sge: longest a scheduler command may take (a down slurmctld/sge_qmaster makes them hang); then sessions become unknown."),
  KEY ("backend", "give_up_after", DURATION, give_up_after, "10s", 1, 3600,
    "slurm: how long the job of a request with if_busy = give_up may wait in the partition's queue before it is cancelled and the session fails (jobs from outside minna can fill it although the policy admitted the request; Slurm 22.05 has no sbatch --immediate). sge uses qsub -now y instead. Requests that wait are never given up."),
  KEY ("backend", "memory_resource", STRING, memory_resource, "h_vmem", 0, 0,
    "sge: complex a job's memory is requested as (-l NAME=...M); empty means memory is not requested."),
  KEY ("backend", "sge_root", STRING, sge_root, "", 0, 0,
    "sge: SGE_ROOT for the Grid Engine commands; empty means the controller's environment."),
  KEY ("backend", "sge_cell", STRING, sge_cell, "", 0, 0,
    "sge: SGE_CELL for the Grid Engine commands; empty means the controller's environment (or 'default')."),
  KEY ("accounting", "charge_coefficient", SHARE, charge_coefficient, "0.2", 0, 100,
    "Fraction of a node billed for each hour an interactive.q job runs, whatever it asked (TSUBAME3 charged 0.2); the admin page's usage accounting shows it as charged node-hours beside the node-hours of each session's CPU allocation (docs/accounting.md)."),
};

#undef KEY

static const MnConfigTable table = {
  keys, G_N_ELEMENTS (keys), 0, mn_controller_error_quark,
  { [0 ... MN_CONFIG_N_ERRORS - 1] = MN_CONTROLLER_ERROR_CONFIG },
};

gboolean
mn_controller_parse_duration (const gchar *text, gint64 *out)
{
  guint64 v = 0;

  if (mn_config_parse_duration (text, &v) != MN_CONFIG_PARSE_OK || v > (guint64) G_MAXINT64)
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

MnControllerConfig *
mn_controller_config_new_default (void)
{
  return mn_config_new (&table, sizeof (MnControllerConfig));
}

void
mn_controller_config_free (MnControllerConfig *config)
{
  mn_config_free (&table, config);
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
  return mn_config_load_data (&table, config, data, -1, filename, NULL, error) &&
         check (config, filename, error);
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
  return mn_config_set (&table, config, group, key, value, error) &&
         check (config, "--set", error);
}

static const gchar *
type_name (MnConfigType t)
{
  switch (t)
    {
    case MN_CONFIG_UINT: return "integer";
    case MN_CONFIG_DURATION: return "duration";
    case MN_CONFIG_STRV: return "list";
    case MN_CONFIG_STRING:
    case MN_CONFIG_BOOL:
    case MN_CONFIG_INT:
    case MN_CONFIG_SIZE:
    case MN_CONFIG_SHARE:
    case MN_CONFIG_PATH:
    case MN_CONFIG_ENUM:
    default: return "string";
    }
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
      g_string_append_printf (s, "  %-18s %-8s default '%s'", keys[i].name,
                              type_name (keys[i].type), keys[i].def);
      if (keys[i].type == MN_CONFIG_UINT || keys[i].type == MN_CONFIG_DURATION)
        g_string_append_printf (s, ", %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, keys[i].min, keys[i].max);
      g_string_append_printf (s, "\n      %s\n", keys[i].help);
    }
  return g_string_free (s, FALSE);
}

gchar *
mn_controller_config_example (void)
{
  return mn_config_write (&table, NULL,
                          "# minna-controller configuration; every key with its default.\n", 0);
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
