/* minna-controller: thin main.  Subcommands:
 *   minna-controller [--config FILE] [--set group.key=value]...   serve
 *   minna-controller [--config FILE] passwd [--config FILE] USER  (password on stdin)
 *   minna-controller job-launch ...               (run by job scripts)
 *   minna-controller --help-config | --example-config */
#define G_LOG_DOMAIN "minna-controller"

#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn-controller-api.h"
#include "mn-controller-auth.h"
#include "mn-backend-sge.h"
#include "mn-backend-slurm.h"
#include "mn-controller-backend-local.h"
#include "mn-controller-joblaunch.h"
#include "mn-controller-manager.h"
#include "mn-config-cli.h"
#include "mn-log-limit.h"
#include "mn-secure-file.h"

typedef struct {
  GMainLoop           *loop;
  MnControllerConfig  *config;
  MnControllerManager *manager;
} Daemon;

static gboolean
load_config (const gchar *path, gchar **sets, MnControllerConfig **out, GError **error)
{
  g_autoptr(MnControllerConfig) config = mn_controller_config_new_default ();
  if (path && !mn_controller_config_load_file (config, path, error))
    return FALSE;
  for (gsize i = 0; sets && sets[i]; i++)
    {
      g_auto(GStrv) kv = g_strsplit (sets[i], "=", 2);
      g_auto(GStrv) gk = NULL;
      if (g_strv_length (kv) != 2 || (gk = g_strsplit (kv[0], ".", 2)) == NULL ||
          g_strv_length (gk) != 2)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                       "--set '%s': expected group.key=value", sets[i]);
          return FALSE;
        }
      if (!mn_controller_config_set (config, gk[0], gk[1], kv[1], error))
        return FALSE;
    }
  *out = g_steal_pointer (&config);
  return TRUE;
}

static MnPolicyConfig *
load_policy (const MnControllerConfig *config, GError **error)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;
  if (config->policy_file == NULL || config->policy_file[0] == '\0')
    return mn_policy_config_new_default ();
  if (!g_file_get_contents (config->policy_file, &data, &len, error))
    return NULL;
  g_autoptr (MnPolicyConfig) policy = mn_policy_config_load_data (data, len, config->policy_file, error);
  if (policy == NULL)
    return NULL;
  /* Enforce what is modelled, or refuse: the simulator models the
   * over-subscribing designs (issue 19), but this controller places
   * sessions only on interactive.q, and would silently run a smaller
   * dedicated queue than the planner sized. */
  if (policy->design != MN_DESIGN_DEDICATED)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "%s: [oversubscribe] design = %s: minna-controller enforces only design = dedicated "
                   "so far (the simulator models %s, and 'minna-policy export --slurm' writes its "
                   "partitions for a site to run without minna-controller)",
                   config->policy_file, mn_policy_design_to_string (policy->design),
                   mn_policy_design_to_string (policy->design));
      return NULL;
    }
  return g_steal_pointer (&policy);
}

static const gchar *
or_null (const gchar *s)
{
  return s != NULL && s[0] != '\0' ? s : NULL;
}

/* [backend] type: the scheduler jobs go to.  A request with if_busy =
 * give_up is refused by the policy when interactive.q is full; when the
 * policy admits it, the scheduler must start it at once too (jobs from
 * outside minna may fill the queue): Slurm waits give_up_after for it to
 * run, Grid Engine submits it with qsub -now y. */
static MnBackend *
make_backend (const MnControllerConfig *config, GError **error)
{
  if (g_str_equal (config->backend, "slurm"))
    {
      MnBackendSlurmOptions o = {
        .partition = or_null (config->partition),
        .batch_partition = or_null (config->batch_partition),
        .bin_dir = or_null (config->bin_dir),
        .command_timeout = (guint) config->command_timeout,
        .give_up_after = (guint) config->give_up_after,
      };
      return mn_backend_slurm_new (&o, error);
    }
  if (g_str_equal (config->backend, "sge"))
    {
      MnBackendSgeOptions o = {
        .queue = or_null (config->queue),
        .batch_queue = or_null (config->batch_queue),
        .bin_dir = or_null (config->bin_dir),
        .sge_root = or_null (config->sge_root),
        .sge_cell = or_null (config->sge_cell),
        .memory_resource = or_null (config->memory_resource),
        .command_timeout = (guint) config->command_timeout,
      };
      return mn_backend_sge_new (&o, error);
    }
  return mn_backend_local_new (config, error);
}

/* @config_path: the top-level --config, if given before "passwd" */
static int
cmd_passwd (const gchar *top_config_path, int argc, char **argv)
{
  g_autofree gchar *config_path = g_strdup (top_config_path);
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Controller configuration", "FILE" },
    { NULL }
  };
  g_autoptr(MnCli) cli = mn_cli_new ("minna-controller passwd", "USER",
                                     "Set USER's password in the users file ([auth] users_file);"
                                     " the password is read from stdin.", NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnControllerConfig) config = NULL;
  g_autofree gchar *hash = NULL;
  gchar line[1024];
  gsize len;
  gint status;

  mn_cli_add_entries (cli, entries);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE ||
      (status = mn_cli_check_args (cli, argc, argv, 1, 1, "need exactly one USER")) != MN_CLI_CONTINUE)
    return status;
  if (!load_config (config_path, NULL, &config, &error))
    {
      g_printerr ("minna-controller: %s\n", error->message);
      return 1;
    }
  if (fgets (line, sizeof line, stdin) == NULL)
    {
      g_printerr ("minna-controller passwd: no password on stdin\n");
      return 1;
    }
  len = strlen (line);
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  if (len < 8)
    {
      g_printerr ("minna-controller passwd: password shorter than 8 characters\n");
      return 1;
    }
  hash = mn_auth_hash_password (line, config->pbkdf2_iterations);
  memset (line, 0, sizeof line);
  if (!mn_auth_users_file_set (config->users_file, argv[1], hash, &error))
    {
      g_printerr ("minna-controller passwd: %s\n", error->message);
      return 1;
    }
  g_print ("password of %s set in %s\n", argv[1], config->users_file);
  return 0;
}

static gboolean
on_quit (gpointer data)
{
  Daemon *d = data;
  g_message ("stopping");
  if (d->manager != NULL)
    mn_controller_manager_flush (d->manager);   /* what waits for its commit */
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_hup (gpointer data)
{
  Daemon *d = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnPolicyConfig) policy = NULL;
  if (d->manager == NULL)   /* still starting: it reads the files itself */
    return G_SOURCE_CONTINUE;
  policy = load_policy (d->config, &error);
  if (policy == NULL || !mn_controller_manager_check_host (d->manager, policy, &error))
    g_warning ("policy not reloaded, the old one stays: %s", error->message);
  else
    {
      mn_controller_manager_set_policy (d->manager, policy);
      g_message ("policy reloaded from %s", d->config->policy_file);
    }
  /* adding an app is dropping a file into the apps directory and SIGHUP; a
   * bad file keeps every old app (and says which file, which line) */
  {
    g_autoptr(GError) app_error = NULL;
    GPtrArray *apps = mn_app_load_dir (d->config->apps_dir, &app_error);
    if (apps == NULL)
      g_warning ("apps not reloaded, the old ones stay: %s", app_error->message);
    else
      {
        g_message ("apps reloaded from %s: %u apps", d->config->apps_dir, apps->len);
        mn_controller_manager_set_apps (d->manager, apps);
      }
  }
  return G_SOURCE_CONTINUE;
}

/* Jobs run as the logged-in users (who must reach their session
 * directories) or as the controller's own account. */
static gboolean
jobs_run_as_users (const MnControllerConfig *config)
{
  return geteuid () == 0 && g_str_equal (config->run_as, "user");
}

static gboolean
path_inside (const gchar *path, const gchar *dir)
{
  g_autofree gchar *p = g_canonicalize_filename (path, NULL);
  g_autofree gchar *d = g_canonicalize_filename (dir, NULL);
  return g_str_has_prefix (p, d) && (p[strlen (d)] == '/' || p[strlen (d)] == '\0');
}

/* Issue 15: nothing of the controller's is readable by another local user,
 * whatever the umask it was started with.  The state directory is 0700 and
 * every file below it 0600 (tightened here, logged, if an older version or
 * a hand left them looser); the session directories live apart, in a 0711
 * directory that users' jobs may pass through but not list; the secrets the
 * admin provides are refused when group or others may read them. */
static gboolean
secure_files (MnControllerConfig *config, GError **error)
{
  g_autofree gchar *sessions = mn_controller_config_sessions_dir (config);
  gboolean legacy = path_inside (sessions, config->state_dir);
  guint state_mode = legacy && jobs_run_as_users (config) ? 0711 : 0700;
  const gchar *skip[] = { "sessions", NULL };
  g_autofree gchar *base = g_path_get_basename (sessions);

  /* resolved once: later runs of mn_controller_config_sessions_dir agree */
  g_free (config->sessions_dir);
  config->sessions_dir = g_strdup (sessions);
  skip[0] = base;
  if (!mn_secure_dir (config->state_dir, state_mode, error) ||
      !mn_secure_tree_check (config->state_dir, state_mode, legacy ? skip : NULL,
                             MN_SECURE_FIX, error) ||
      !mn_secure_dir (sessions, jobs_run_as_users (config) ? 0711 : 0700, error))
    return FALSE;
  if (state_mode != 0700)
    g_message ("%s is 0711, not 0700, so that users' jobs reach their session directories"
               " in %s; set [state] sessions_dir to a directory outside it (and move"
               " sessions/ there while no session runs) to make it 0700",
               config->state_dir, sessions);
  if (config->database[0] != '\0' && !path_inside (config->database, config->state_dir))
    {
      const gchar *suffixes[] = { "", "-wal", "-shm", "-journal" };
      for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree gchar *path = g_strconcat (config->database, suffixes[i], NULL);
          g_autoptr(GError) local = NULL;
          if (!mn_secure_path_check (path, 0600, MN_SECURE_FIX, &local) &&
              !g_error_matches (local, MN_SECURE_ERROR, MN_SECURE_ERROR_MISSING))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return FALSE;
            }
        }
    }
  /* password hashes: refused like a key when others may read them */
  if (strstr (config->auth, "users-file") != NULL && g_file_test (config->users_file, G_FILE_TEST_EXISTS) &&
      !mn_secure_path_check (config->users_file, 0600, MN_SECURE_REFUSE, error))
    {
      g_prefix_error (error, "[auth] users_file: ");
      return FALSE;
    }
  return TRUE;
}

/* The database's path: [state] database, else <state_dir>/controller.db. */
static gchar *
database_path (const MnControllerConfig *config)
{
  return config->database[0] ? g_strdup (config->database)
                             : g_build_filename (config->state_dir, "controller.db", NULL);
}

/* Entries of @dir (0 when it is missing). */
static guint
count_entries (const gchar *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* Issue 20: a missing or empty database is a new install only where the
 * state directory shows no earlier run; otherwise it was lost, and starting
 * with an empty one would orphan every running job. */
static MnControllerStore *
open_store (const MnControllerConfig *config, GError **error)
{
  g_autofree gchar *db = database_path (config);
  g_autofree gchar *jobs = g_build_filename (config->state_dir, "jobs", NULL);
  g_autofree gchar *sessions = mn_controller_config_sessions_dir (config);
  g_autofree gchar *display = g_filename_display_name (db);
  guint n_jobs = count_entries (jobs), n_sessions = count_entries (sessions);
  MnStoreOpenFlags flags = MN_STORE_OPEN_DURABLE;   /* what it answers is on the disk */
  g_autoptr(GError) local = NULL;
  MnControllerStore *store;

  if (g_str_equal (config->create_database, "yes") ||
      (g_str_equal (config->create_database, "auto") && !g_file_test (db, G_FILE_TEST_EXISTS) &&
       n_jobs == 0 && n_sessions == 0))
    flags |= MN_STORE_OPEN_CREATE;
  if (g_str_equal (config->create_database, "no"))
    flags |= MN_STORE_OPEN_NO_MIGRATE;   /* check: offline, changes nothing */
  store = mn_controller_store_open_full (db, flags, &local);
  if (store != NULL)
    {
      if (mn_controller_store_was_created (store))
        g_message ("%s: a new, empty database was made ([state] create_database = %s)",
                   display, config->create_database);
      return store;
    }
  if (g_error_matches (local, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_MISSING) &&
      (n_jobs > 0 || n_sessions > 0))
    g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_MISSING,
                 "refusing to start: %s, but the state directory holds an earlier run's"
                 " %u job record%s (%s) and %u session director%s (%s), whose jobs would be"
                 " orphaned; restore the database from a backup (docs/operations.md), or start"
                 " with --set state.create_database=yes to begin with an empty one",
                 local->message, n_jobs, n_jobs == 1 ? "" : "s", jobs, n_sessions,
                 n_sessions == 1 ? "y" : "ies", sessions);
  else if (g_error_matches (local, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_MISSING))
    g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_MISSING,
                 "refusing to start: %s; restore it from a backup (docs/operations.md), or"
                 " start with --set state.create_database=yes to begin with an empty one",
                 local->message);
  else
    g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
}

/* minna-controller check: the database (missing, empty, foreign, damaged)
 * and the backend's jobs (the scheduler's queue, the local job records and
 * their leftover cgroups), compared; exit 0 when they agree, 1 when
 * something differs or is wrong.  Acts on nothing. */
static int
cmd_check (const gchar *top_config_path, int argc, char **argv)
{
  g_autofree gchar *config_path = g_strdup (top_config_path);
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Controller configuration", "FILE" },
    { NULL }
  };
  g_autoptr(MnCli) cli = mn_cli_new ("minna-controller check", "",
                                     "Check the database (missing, empty, foreign, damaged) and"
                                     " compare it with the jobs that run; exit 0 when they agree,"
                                     " 1 when not.", NULL, FALSE);
  gint status;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnControllerConfig) config = NULL;
  g_autoptr(MnControllerStore) store = NULL;
  g_autoptr(MnBackend) backend = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) live = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autofree gchar *db = NULL;
  gint differences;

  mn_cli_add_entries (cli, entries);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE ||
      (status = mn_cli_check_args (cli, argc, argv, 0, 0, "no arguments expected")) != MN_CLI_CONTINUE)
    return status;
  if (!load_config (config_path, NULL, &config, &error))
    {
      g_printerr ("minna-controller check: %s\n", error->message);
      return 1;
    }
  /* offline: never makes a database */
  g_free (config->create_database);
  config->create_database = g_strdup ("no");
  db = database_path (config);
  if ((store = open_store (config, &error)) == NULL)
    {
      g_print ("FAIL database: %s\n", error->message);
      return 1;
    }
  live = mn_controller_store_list (store, NULL, TRUE, &error);
  if (live == NULL)
    {
      g_print ("FAIL database: %s\n", error->message);
      return 1;
    }
  {
    g_autofree gchar *display = g_filename_display_name (db);
    g_print ("ok   database %s: minna schema %d, integrity ok, %u live session%s\n", display,
             mn_controller_store_schema_version (store), live->len, live->len == 1 ? "" : "s");
  }
  if ((backend = make_backend (config, &error)) == NULL)
    {
      g_print ("FAIL backend: %s\n", error->message);
      return 1;
    }
  differences = mn_controller_reconcile_full (store, backend, FALSE, lines, &findings, &error);
  if (differences < 0)
    {
      g_print ("FAIL database: %s\n", error->message);
      return 1;
    }
  if (findings == NULL)
    {
      /* the scheduler did not answer: nothing is known to agree */
      for (guint i = 0; i < lines->len; i++)
        g_print ("FAIL backend: %s\n", (const gchar *) g_ptr_array_index (lines, i));
      return 1;
    }
  for (guint i = 0; i < lines->len; i++)
    g_print ("%s %s\n", differences > 0 ? "DIFF" : "note", (const gchar *) g_ptr_array_index (lines, i));
  if (differences == 0)
    g_print ("ok   the database and the running jobs agree\n");
  return differences > 0 ? 1 : 0;
}

/* minna-controller backup DEST: SQLite's online backup of the database,
 * also while the controller runs. */
static int
cmd_backup (const gchar *top_config_path, int argc, char **argv)
{
  g_autofree gchar *config_path = g_strdup (top_config_path);
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Controller configuration", "FILE" },
    { NULL }
  };
  g_autoptr(MnCli) cli = mn_cli_new ("minna-controller backup", "DEST",
                                     "Copy the database to DEST (mode 0600) with SQLite's online"
                                     " backup: consistent also while the controller serves.",
                                     NULL, FALSE);
  gint status;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnControllerConfig) config = NULL;
  g_autoptr(MnControllerStore) store = NULL;
  g_autofree gchar *db = NULL, *dest = NULL;

  mn_cli_add_entries (cli, entries);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE ||
      (status = mn_cli_check_args (cli, argc, argv, 1, 1, "need exactly one DEST")) != MN_CLI_CONTINUE)
    return status;
  if (!load_config (config_path, NULL, &config, &error))
    {
      g_printerr ("minna-controller backup: %s\n", error->message);
      return 1;
    }
  db = database_path (config);
  dest = g_filename_display_name (argv[1]);
  if ((store = mn_controller_store_open_full (db, MN_STORE_OPEN_NO_CHECK, &error)) == NULL ||
      !mn_controller_store_backup (store, argv[1], &error))
    {
      g_printerr ("minna-controller backup: %s\n", error->message);
      return 1;
    }
  g_print ("backup of %s written to %s\n", mn_controller_store_get_path (store), dest);
  return 0;
}

static int
serve (MnControllerConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnPolicyConfig) policy = NULL;
  g_autoptr(GPtrArray) apps = NULL;
  g_autoptr(MnControllerStore) store = NULL;
  g_autoptr(MnBackend) backend = NULL;
  g_autoptr(MnControllerManager) manager = NULL;
  g_autoptr(MnControllerApi) api = NULL;
  g_autoptr(MnAuthKey) key = NULL;
  g_autofree gchar *secret = NULL, *describe = NULL;
  MnControllerRelay *relay = NULL;   /* the manager's */
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Daemon d = { loop, config, NULL };
  guint port = 0;

  mn_cli_install_crash_handler ("minna-controller");

  /* Handled from the first moment, before the start's reconciling and
   * before the port takes connections: a SIGHUP that came then killed the
   * controller silently (the signal's default action).  Now it waits for
   * the main loop: a reload (the start reads the files anyway), or a clean
   * stop for SIGTERM. */
  g_unix_signal_add (SIGTERM, on_quit, &d);
  g_unix_signal_add (SIGINT, on_quit, &d);
  g_unix_signal_add (SIGHUP, on_hup, &d);

  if (!secure_files (config, &error))
    {
      g_printerr ("minna-controller: %s\n", error->message);
      return 1;
    }
  if (g_mkdir_with_parents (config->port_lock_dir, 01777) == 0 && geteuid () == 0)
    chmod (config->port_lock_dir, 01777);
  if ((policy = load_policy (config, &error)) == NULL ||
      (apps = mn_app_load_dir (config->apps_dir, &error)) == NULL ||
      (store = open_store (config, &error)) == NULL ||
      (!g_file_test (config->key_file, G_FILE_TEST_EXISTS) &&
       !mn_auth_key_create_file (config->key_file, &error)) ||
      (key = mn_auth_key_load (config->key_file, &error)) == NULL ||
      (backend = make_backend (config, &error)) == NULL)
    {
      g_printerr ("minna-controller: %s\n", error->message);
      return 1;
    }
  if (g_file_test (config->relay_secret_file, G_FILE_TEST_EXISTS) &&
      (secret = mn_controller_read_secret (config->relay_secret_file, &error)) == NULL)
    {
      g_printerr ("minna-controller: [relay] secret_file: %s\n", error->message);
      return 1;
    }
  if (!mn_controller_relay_check_url (config->relay_url, &error))
    {
      g_printerr ("minna-controller: %s\n", error->message);
      return 1;
    }
  if (secret == NULL && config->relay_url[0])
    {
      g_printerr ("minna-controller: [relay] url is set but %s does not exist\n",
                  config->relay_secret_file);
      return 1;
    }
  describe = mn_backend_describe (backend);
  manager = mn_controller_manager_new (config, policy, g_steal_pointer (&store),
                                       g_steal_pointer (&backend),
                                       relay = mn_controller_relay_new (config->relay_url, secret),
                                       g_steal_pointer (&apps));
  d.manager = manager;
  if (!mn_controller_manager_check_host (manager, NULL, &error) ||
      !mn_controller_manager_recover (manager, &error))
    {
      g_printerr ("minna-controller: %s\n", error->message);
      return 1;
    }
  api = mn_controller_api_new (config, manager, g_steal_pointer (&key), secret);
  if (config->metrics_secret_file[0] != '\0')
    {
      g_autofree gchar *metrics = mn_controller_read_secret (config->metrics_secret_file, &error);
      if (metrics == NULL)
        {
          g_printerr ("minna-controller: [server] metrics_secret_file: %s\n", error->message);
          return 1;
        }
      mn_controller_api_set_metrics_secret (api, metrics);
    }
  if (!mn_controller_api_listen (api, config->listen, config->port, &port, &error))
    {
      g_printerr ("minna-controller: listen on %s:%u: %s\n", config->listen, config->port,
                  error->message);
      return 1;
    }
  mn_controller_manager_start (manager);
  mn_controller_relay_check_reachable (relay, config->relay_url);
  g_message ("backend %s", describe);
  /* tests and service managers read this line for the bound port */
  g_print ("minna-controller listening on http://%s:%u\n", config->listen, port);
  fflush (stdout);
  g_main_loop_run (loop);
  return 0;
}

static const MnCliCommand commands[] = {
  { "passwd", "USER", "set USER's password in the users file (read from stdin)" },
  { "check", "", "check the database and compare it with the jobs that run (offline)" },
  { "backup", "DEST", "copy the database to DEST (SQLite online backup, also while serving)" },
  { "job-launch", "...", "run by job scripts: hold a port, write the connection file, exec the app" },
  { NULL }
};

int
main (int argc, char **argv)
{
  g_autofree gchar *config_path = NULL;
  g_auto(GStrv) sets = NULL;
  gboolean help_config = FALSE, example = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file (see --help-config)", "FILE" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override one key, e.g. server.port=0", "GROUP.KEY=VALUE" },
    { "help-config", 0, 0, G_OPTION_ARG_NONE, &help_config, "Describe every configuration key", NULL },
    { "example-config", 0, 0, G_OPTION_ARG_NONE, &example, "Print a complete example configuration", NULL },
    { NULL }
  };
  g_autoptr(MnCli) cli = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnControllerConfig) config = NULL;
  gint status;

  /* UTF-8 whatever the locale: paths and GIO's quotes were '?' in C */
  mn_log_use_utf8 ();
  /* job scripts run this as the user, with the job script's umask */
  if (argc > 1 && g_str_equal (argv[1], "job-launch"))
    return mn_job_launch_main ("minna-controller job-launch", argc - 1, argv + 1);

  cli = mn_cli_new ("minna-controller", "[COMMAND [ARGS…]]",
                    "minna's service controller: without a COMMAND it serves.  Launches apps\n"
                    "(Jupyter) as jobs for logged-in users, admits them with the interactive.q\n"
                    "policy, registers them with minna-relay.", commands, TRUE);
  mn_cli_add_entries (cli, entries);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE)
    return status;
  if (argc > 1)
    {
      /* "--config F passwd USER" as well as "passwd --config F USER" */
      gint command = mn_cli_find_command (cli, argc, argv);
      if (command < 0)
        return MN_CLI_EXIT_USAGE;
      if (sets != NULL || help_config || example)
        return mn_cli_usage_error ("minna-controller", "--set, --help-config and --example-config"
                                   " do not go with a command ('%s')", argv[1]);
      if (g_str_equal (argv[1], "job-launch"))
        {
          if (config_path != NULL)
            return mn_cli_usage_error ("minna-controller", "job-launch takes no --config");
          return mn_job_launch_main ("minna-controller job-launch", argc - 1, argv + 1);
        }
      /* whatever umask we were started with: every file we make is ours alone */
      mn_secure_umask ();
      if (g_str_equal (argv[1], "check"))
        return cmd_check (config_path, argc - 1, argv + 1);
      if (g_str_equal (argv[1], "backup"))
        return cmd_backup (config_path, argc - 1, argv + 1);
      return cmd_passwd (config_path, argc - 1, argv + 1);
    }
  if (help_config)
    {
      g_autofree gchar *text = mn_controller_config_describe ();
      g_print ("%s", text);
      return 0;
    }
  if (example)
    {
      g_autofree gchar *text = mn_controller_config_example ();
      g_print ("%s", text);
      return 0;
    }
  mn_secure_umask ();
  /* held session lists keep connections open: the hard limit (jobs get the
   * soft one the controller was started with) */
  mn_backend_local_raise_fd_limit ();
  if (!load_config (config_path, sets, &config, &error))
    {
      g_printerr ("minna-controller: %s\n", error->message);
      return 1;
    }
  return serve (config);
}
