/* Config table, app definitions, password hashes, login slow-down, port
 * picking. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mn-controller-app.h"
#include "mn-controller-auth.h"
#include "mn-controller-config.h"
#include "mn-controller-joblaunch.h"
#include "mn-controller-relay.h"

typedef struct {
  const gchar *name;
  const gchar *text;
  const gchar *error_part;   /* NULL: must load */
} ConfigCase;

static const ConfigCase config_cases[] = {
  { "empty", "", NULL },
  { "comments", "# hi\n\n[server]\nport = 0\n", NULL },
  { "all-groups", "[server]\nlisten=0.0.0.0\nadmins=root, alice\n[state]\nstate_dir=/tmp/x\n"
                  "[auth]\nmethods=users-file,pam\ncookie_lifetime=2h\n[relay]\nurl=http://r:1\n"
                  "[backend]\nport_min=30000\nport_max=30010\nready_timeout=2m\n", NULL },
  { "unknown-key", "[server]\nprot = 1\n", "c.conf:2: unknown key 'prot' in [server] (did you mean 'port'?)" },
  { "unknown-group", "[srv]\n", "c.conf:1: unknown group [srv]" },
  { "out-of-range", "\n[server]\nport = 70000\n", "c.conf:3: [server] port: value '70000' out of range" },
  { "bad-duration", "[auth]\ncookie_lifetime = soon\n", "c.conf:2: [auth] cookie_lifetime: value 'soon' is not a duration" },
  { "no-equals", "[auth]\nmethods\n", "c.conf:2: line 'methods' is neither '[group]', 'key = value' nor a '#' comment" },
  { "bad-method", "[auth]\nmethods = ldap\n", "[auth] methods: unknown method 'ldap'" },
  { "ports-reversed", "[backend]\nport_min = 30000\nport_max = 20000\n", "port_min 30000 is above port_max 20000" },
  { "bad-run-as", "[backend]\nrun_as = nobody\n", "run_as: 'nobody'" },
  { "no-bracket", "[server\n", "c.conf:1: malformed group line '[server' (expected [name])" },
  { "slurm", "[backend]\ntype = slurm\npartition = inter\nbatch_partition = batch\n"
             "bin_dir = /opt/slurm/bin\ncommand_timeout = 1m\ngive_up_after = 20s\n", NULL },
  { "sge", "[backend]\ntype = sge\nqueue = i.q\nbatch_queue = all.q\nmemory_resource =\n"
           "sge_root = /var/lib/gridengine\nsge_cell = default\n", NULL },
  { "bad-backend", "[backend]\n\ntype = pbs\n", "c.conf:3: [backend] type: value 'pbs' is not one of: local, slurm, sge" },
  { "bad-command-timeout", "[backend]\ncommand_timeout = 0\n", "c.conf:2: [backend] command_timeout: value '0' out of range" },
  { "bad-give-up", "[backend]\ngive_up_after = 2h\n", "c.conf:2: [backend] give_up_after: value '2h' out of range" },
};

static void
test_config_case (gconstpointer data)
{
  const ConfigCase *c = data;
  g_autoptr(MnControllerConfig) config = mn_controller_config_new_default ();
  g_autoptr(GError) error = NULL;
  gboolean ok = mn_controller_config_load_data (config, c->text, "c.conf", &error);
  if (c->error_part == NULL)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  else
    {
      g_assert_false (ok);
      g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG);
      if (strstr (error->message, c->error_part) == NULL)
        g_error ("'%s' does not contain '%s'", error->message, c->error_part);
    }
}

static void
test_config_values (void)
{
  g_autoptr(MnControllerConfig) config = mn_controller_config_new_default ();
  g_autofree gchar *example = mn_controller_config_example ();
  g_autofree gchar *help = mn_controller_config_describe ();
  g_autoptr(MnControllerConfig) again = mn_controller_config_new_default ();
  gint64 d = 0;
  g_assert_true (mn_controller_config_load_data (config, config_cases[2].text, "c", NULL));
  g_assert_cmpstr (config->listen, ==, "0.0.0.0");
  g_assert_cmpint (config->cookie_lifetime, ==, 7200);
  g_assert_cmpint (config->ready_timeout, ==, 120);
  g_assert_true (mn_controller_config_is_admin (config, "alice"));
  g_assert_false (mn_controller_config_is_admin (config, "bob"));
  /* the example file loads and documents every key */
  g_assert_true (mn_controller_config_load_data (again, example, "example", NULL));
  g_assert_nonnull (strstr (help, "poll_interval_ms"));
  g_assert_cmpstr (config->backend, ==, "local");
  g_assert_cmpint (config->command_timeout, ==, 15);
  g_assert_cmpint (config->give_up_after, ==, 10);
  g_assert_nonnull (strstr (help, "give_up_after"));
  g_assert_nonnull (strstr (example, "\nsge_root = \n"));
  {
    g_autoptr(MnControllerConfig) sl = mn_controller_config_new_default ();
    g_autoptr(MnControllerConfig) sg = mn_controller_config_new_default ();
    g_autoptr(GError) error = NULL;
    g_assert_true (mn_controller_config_load_data (sl, config_cases[12].text, "c", NULL));
    g_assert_cmpstr (sl->backend, ==, "slurm");
    g_assert_cmpstr (sl->partition, ==, "inter");
    g_assert_cmpstr (sl->batch_partition, ==, "batch");
    g_assert_cmpstr (sl->bin_dir, ==, "/opt/slurm/bin");
    g_assert_cmpint (sl->command_timeout, ==, 60);
    g_assert_cmpint (sl->give_up_after, ==, 20);
    g_assert_true (mn_controller_config_load_data (sg, config_cases[13].text, "c", NULL));
    g_assert_cmpstr (sg->backend, ==, "sge");
    g_assert_cmpstr (sg->queue, ==, "i.q");
    g_assert_cmpstr (sg->memory_resource, ==, "");
    g_assert_cmpstr (sg->sge_root, ==, "/var/lib/gridengine");
    /* --set checks the word too */
    g_assert_false (mn_controller_config_set (sg, "backend", "type", "lsf", &error));
    g_assert_nonnull (strstr (error->message, "value 'lsf' is not one of"));
    g_assert_cmpstr (sg->backend, ==, "sge");
  }
  g_assert_true (mn_controller_parse_duration ("2d", &d));
  g_assert_cmpint (d, ==, 172800);
  g_assert_false (mn_controller_parse_duration ("-1", &d));
  g_assert_false (mn_controller_parse_duration ("5w", &d));
}

static gchar *
write_tmp (const gchar *dir, const gchar *name, const gchar *text)
{
  gchar *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_apps (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("minna-apps-XXXXXX", NULL);
  g_autofree gchar *good = write_tmp (dir, "good.app",
    "[app]\nname=Good\ncommand=run --port={port} --base={base_url} --tok={token_file}\n"
    "[field cores]\nmin=1\nmax=4\ndefault=2\n");
  g_autofree gchar *bad1 = write_tmp (dir, "bad1.app", "[app]\nname=B\ncommand=run {prot}\n");
  g_autofree gchar *bad2 = write_tmp (dir, "bad2.app", "[app]\nname=B\ncommand=x\n[field cores]\nmin=5\nmax=4\n");
  g_autofree gchar *bad3 = write_tmp (dir, "bad3.app", "[app]\ncommand=x\n");
  g_autofree gchar *bad4 = write_tmp (dir, "bad4.app", "[app]\nname=B\ncommand=x\ncolor=red\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(MnApp) app = mn_app_load (good, &error);
  g_autofree gchar *cmd = NULL;
  g_autoptr(GPtrArray) apps = NULL;
  g_autofree gchar *shipped = g_build_filename (g_getenv ("MINNA_SOURCE_DIR"), "daemons",
                                                "controller", "apps", NULL);
  g_autofree gchar *rm = g_strdup_printf ("rm -rf '%s'", dir);

  g_assert_no_error (error);
  g_assert_cmpstr (app->id, ==, "good");
  g_assert_cmpfloat (app->fields[MN_APP_FIELD_CORES].def, ==, 2);
  cmd = mn_app_expand_command (app, &error);
  g_assert_cmpstr (cmd, ==, "run --port=${MINNA_PORT} --base=${MINNA_BASE_URL} --tok=${MINNA_TOKEN_FILE}");
  g_assert_null (mn_app_load (bad1, &error));
  g_assert_nonnull (strstr (error->message, "unknown placeholder {prot}"));
  g_clear_error (&error);
  g_assert_null (mn_app_load (bad2, &error));
  g_assert_nonnull (strstr (error->message, "[field cores]"));
  g_clear_error (&error);
  g_assert_null (mn_app_load (bad3, &error));
  g_assert_nonnull (strstr (error->message, "[app] name"));
  g_clear_error (&error);
  g_assert_null (mn_app_load (bad4, &error));
  g_assert_nonnull (strstr (error->message, "unknown key 'color'"));
  g_clear_error (&error);
  /* the shipped definitions load */
  apps = mn_app_load_dir (shipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apps->len, >=, 2);
  g_assert_cmpint (system (rm), ==, 0);
}

/* tests/data/apps: y_*.app load; n_*.app fail with a message that names
 * the file and holds what its first line's "# expect: TEXT" says (the line
 * number and the group and key, where there is one). */
static void
test_app_corpus (gconstpointer data)
{
  const gchar *path = data;
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnApp) app = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  app = mn_app_load (path, &error);
  if (g_str_has_prefix (base, "y_"))
    {
      g_assert_no_error (error);
      g_assert_nonnull (app);
      g_assert_cmpuint (app->form->len, >=, MN_APP_N_FIELDS);
      return;
    }
  g_assert_null (app);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, path));
  if (g_str_has_prefix (text, "# expect: "))
    {
      g_autofree gchar *want = g_strndup (text + 10, strcspn (text + 10, "\n"));
      if (strstr (error->message, want) == NULL)
        g_error ("%s: wanted '%s' in: %s", base, want, error->message);
    }
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* A field's values as the controller checks a launch's. */
static void
test_app_field_check (void)
{
  g_autofree gchar *path = g_build_filename (g_getenv ("MINNA_SOURCE_DIR"), "tests", "data", "apps",
                                             "y_checkbox_text_number.app", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnApp) app = mn_app_load (path, &error);
  const struct { const gchar *field, *value; gboolean ok; } cases[] = {
    { "threads", "8", TRUE }, { "threads", "65", FALSE }, { "threads", "1.5", FALSE },
    { "threads", "x", FALSE }, { "threads", "-1", FALSE }, { "threads", "", FALSE },
    { "project", "physics", TRUE }, { "project", "Physics", FALSE }, { "project", "ph", FALSE },
    { "project", "physics\n", FALSE }, { "project", "a-very-long-project-name", FALSE },
    { "gpu_debug", "true", TRUE }, { "gpu_debug", "yes", FALSE },
  };
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const MnAppFormField *f = mn_app_find_field (app, cases[i].field);
      g_autoptr(GError) e = NULL;
      g_assert_nonnull (f);
      if (mn_app_field_check (f, cases[i].value, NULL, &e) != cases[i].ok)
        g_error ("%s = '%s': wanted %s (%s)", cases[i].field, cases[i].value,
                 cases[i].ok ? "ok" : "refused", e ? e->message : "accepted");
    }
  /* {field_NAME} becomes the variable the job script exports */
  {
    g_autofree gchar *cmd = mn_app_expand_command (app, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (cmd, ==, "run ${MINNA_FIELD_GPU_DEBUG} ${MINNA_FIELD_PROJECT} ${MINNA_FIELD_THREADS}");
  }
}

static void
test_passwords (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("minna-users-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "users", NULL);
  g_autofree gchar *h1 = mn_auth_hash_password ("correct horse", 1000);
  g_autofree gchar *h2 = mn_auth_hash_password ("correct horse", 1000);
  g_autofree gchar *h3 = mn_auth_hash_password ("battery staple", 1000);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *rm = g_strdup_printf ("rm -rf '%s'", dir);
  GStatBuf st;

  g_assert_cmpstr (h1, !=, h2);   /* salted */
  g_assert_true (g_str_has_prefix (h1, "$pbkdf2-sha256$1000$"));
  g_assert_true (mn_auth_verify_password ("correct horse", h1));
  g_assert_false (mn_auth_verify_password ("correct horsE", h1));
  g_assert_false (mn_auth_verify_password ("x", "$md5$1$2"));
  g_assert_true (mn_auth_users_file_set (path, "alice", h1, &error));
  g_assert_true (mn_auth_users_file_set (path, "bob", h3, &error));
  g_assert_true (mn_auth_users_file_set (path, "alice", h3, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (mn_auth_users_file_check (path, "alice", "battery staple", &error));
  g_assert_false (mn_auth_users_file_check (path, "alice", "correct horse", &error));
  g_assert_false (mn_auth_users_file_check (path, "ali", "battery staple", &error));
  g_assert_false (mn_auth_users_file_check (path, "carol", "battery staple", &error));
  g_assert_no_error (error);
  g_assert_false (mn_auth_users_file_set (path, "a:b", h1, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_AUTH);
  g_assert_cmpint (system (rm), ==, 0);
}

/* the throttle counts in microseconds of the monotonic clock */
#define S G_USEC_PER_SEC

static void
test_throttle (void)
{
  g_autoptr(MnLoginThrottle) t = mn_login_throttle_new (8, 3);
  gint64 now = 1000 * S;
  mn_login_throttle_failed (t, "user:a", now);
  mn_login_throttle_failed (t, "user:a", now);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:a", now), ==, 0);
  mn_login_throttle_failed (t, "user:a", now);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:a", now), ==, 1 * S);
  for (gint i = 0; i < 10; i++)
    mn_login_throttle_failed (t, "user:a", now);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:a", now), ==, 8 * S);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:a", now + 8 * S), ==, 0);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:b", now), ==, 0);
  mn_login_throttle_succeeded (t, "user:a");
  g_assert_cmpint (mn_login_throttle_wait (t, "user:a", now), ==, 0);

  /* settle: a check that failed late starts its wait from then */
  for (gint i = 0; i < 3; i++)
    mn_login_throttle_failed (t, "user:c", now);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:c", now + 5 * S), ==, 0);
  mn_login_throttle_settle (t, "user:c", now + 5 * S);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:c", now + 5 * S), ==, 1 * S);
  /* forgive: one right attempt is taken back, the others stay */
  for (gint i = 0; i < 3; i++)
    mn_login_throttle_failed (t, "addr:x", now);
  g_assert_cmpint (mn_login_throttle_wait (t, "addr:x", now), ==, 1 * S);
  mn_login_throttle_forgive (t, "addr:x");
  g_assert_cmpint (mn_login_throttle_wait (t, "addr:x", now), ==, 0);
  mn_login_throttle_failed (t, "addr:x", now);
  g_assert_cmpint (mn_login_throttle_wait (t, "addr:x", now), ==, 1 * S);
}

/* A flood of new keys (user names from one address) cannot wipe the wait
 * of the key being slowed down. */
static void
test_throttle_flood (void)
{
  g_autoptr(MnLoginThrottle) t = mn_login_throttle_new (60, 3);
  gint64 now = 1000 * S;
  for (gint i = 0; i < 8; i++)
    mn_login_throttle_failed (t, "user:victim@1.2.3.4", now);
  g_assert_cmpint (mn_login_throttle_wait (t, "user:victim@1.2.3.4", now), ==, 32 * S);
  for (gint i = 0; i < 120000; i++)
    {
      gchar key[64];
      g_snprintf (key, sizeof key, "user:flood%d@5.6.7.8", i);
      mn_login_throttle_failed (t, key, now);
    }
  g_assert_cmpint (mn_login_throttle_wait (t, "user:victim@1.2.3.4", now), ==, 32 * S);
}

#undef S

static void
test_pick_port (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("minna-ports-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *rm = g_strdup_printf ("rm -rf '%s'", dir);
  guint p1 = 0, p2 = 0, p3 = 0;
  int fd1 = -1, fd2 = -1, fd3 = -1;
  /* a wide range: other programs on this machine may hold some ports */
  guint base = 41000 + (guint) (getpid () % 200) * 50;

  g_assert_true (mn_job_pick_port ("127.0.0.1", base, base + 49, dir, MN_JOB_LOCKS_PER_USER, &p1, &fd1, &error));
  g_assert_no_error (error);
  for (gint i = 0; i < 10; i++)
    {
      /* the first port stays held by its lock */
      g_assert_true (mn_job_pick_port ("127.0.0.1", base, base + 49, dir, MN_JOB_LOCKS_PER_USER, &p2, &fd2, &error));
      g_assert_cmpuint (p2, !=, p1);
      close (fd2);
    }
  g_assert_false (mn_job_pick_port ("127.0.0.1", p1, p1, dir, MN_JOB_LOCKS_PER_USER, &p3, &fd3, &error));
  g_assert_nonnull (strstr (error->message, "no free port"));
  g_clear_error (&error);
  close (fd1);
  g_assert_true (mn_job_pick_port ("127.0.0.1", p1, p1, dir, MN_JOB_LOCKS_PER_USER, &p3, &fd3, &error));
  g_assert_cmpuint (p3, ==, p1);
  close (fd3);
  g_assert_cmpint (system (rm), ==, 0);
}

/* The readiness probe's quick look (mn_controller_port_refuses): a port
 * nobody listens on is known at once; one that listens, a name, a bad port
 * or no host is left to the HTTP probe (FALSE). */
static void
test_port_refuses (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  guint port;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, any, FALSE, &error));
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  /* bound, not listening: the kernel refuses a connect */
  g_assert_true (mn_controller_port_refuses ("127.0.0.1", port));
  g_assert_true (g_socket_listen (sock, &error));
  g_assert_false (mn_controller_port_refuses ("127.0.0.1", port));
  g_assert_false (mn_controller_port_refuses ("localhost", port));   /* a name: not looked up here */
  g_assert_false (mn_controller_port_refuses (NULL, port));
  g_assert_false (mn_controller_port_refuses ("127.0.0.1", 0));
  g_assert_false (mn_controller_port_refuses ("127.0.0.1", 70000));
  g_assert_false (mn_controller_port_refuses ("not an address", port));
  g_socket_close (sock, NULL);
  g_assert_true (mn_controller_port_refuses ("127.0.0.1", port));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (config_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/controller/config/%s", config_cases[i].name);
      g_test_add_data_func (path, &config_cases[i], test_config_case);
    }
  g_test_add_func ("/controller/config/values", test_config_values);
  g_test_add_func ("/controller/app/load", test_apps);
  g_test_add_func ("/controller/app/field-check", test_app_field_check);
  {
    g_autofree gchar *dir = g_build_filename (g_getenv ("MINNA_SOURCE_DIR"), "tests", "data", "apps", NULL);
    g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    const gchar *name;
    g_assert_nonnull (d);
    while ((name = g_dir_read_name (d)) != NULL)
      if (g_str_has_suffix (name, ".app"))
        g_ptr_array_add (names, g_strdup (name));
    g_ptr_array_sort (names, compare_names);
    for (guint i = 0; i < names->len; i++)
      {
        const gchar *n = g_ptr_array_index (names, i);
        g_autofree gchar *tpath = g_strdup_printf ("/controller/app/corpus/%s", n);
        /* the path lives as long as the tests; freed with them (LeakSanitizer) */
        g_test_add_data_func_full (tpath, g_build_filename (dir, n, NULL), test_app_corpus, g_free);
      }
  }
  g_test_add_func ("/controller/auth/passwords", test_passwords);
  g_test_add_func ("/controller/auth/throttle", test_throttle);
  g_test_add_func ("/controller/auth/throttle-flood", test_throttle_flood);
  g_test_add_func ("/controller/joblaunch/pick-port", test_pick_port);
  g_test_add_func ("/controller/probe/port-refuses", test_port_refuses);
  return g_test_run ();
}
