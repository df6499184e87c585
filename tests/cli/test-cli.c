/* test-cli.c: every installed program's command line in the one style
 * (issue 17), run as the built binaries: --help, --version, a bad option,
 * a left-over argument, and its man page (renders without warnings,
 * mentions every option --help lists).  The table is checked against what
 * meson installs, so a new program cannot go without a row. */
#define G_LOG_DOMAIN "minna-cli-test"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  const gchar *program;        /* "minna-sim" */
  const gchar *build_path;     /* under MINNA_BUILD_DIR */
  const gchar *man;            /* under MINNA_BUILD_DIR/man */
  const gchar *commands[6];    /* its subcommands; their --help options are in the page too */
  /* a command line that leaves "stray-argument" over; @tmp is a temporary
   * directory, @conf a configuration that would start a daemon */
  const gchar *leftover[8];
} CliProgram;

static const CliProgram programs[] = {
  { "minna-policy", "policy/minna-policy", "minna-policy.1",
    { "show", "check", "export", "keys" }, { "keys", "stray-argument" } },
  { "minna-tracegen", "sim/trace/minna-tracegen", "minna-tracegen.1",
    { NULL }, { "--out", "@tmp/t.native", "stray-argument" } },
  { "minna-sim", "sim/minna-sim", "minna-sim.1",
    { "summary", "replay", "run", "merge" }, { "merge", "@tmp", "stray-argument" } },
  { "minna-report", "reports/minna-report", "minna-report.1",
    { NULL }, { "@tmp", "stray-argument" } },
  { "minna-kernel", "kernel/minna-kernel", "minna-kernel.1",
    { "add", "list", "check", "remove" }, { "list", "stray-argument" } },
  /* everything after its options is the app's command line: nothing is left over */
  { "minna-job-launch", "daemons/controller/minna-job-launch", "minna-job-launch.1",
    { NULL }, { NULL } },
  { "minna-controller", "daemons/controller/minna-controller", "minna-controller.8",
    { "passwd", "job-launch" }, { "--config", "@conf", "stray-argument" } },
  { "minna-relay", "daemons/relay/minna-relay", "minna-relay.8",
    { "mint-cookie" }, { "--listen-http", "127.0.0.1:0", "--listen-https", "",
                         "stray-argument" } },
};

typedef struct {
  gint   status;   /* exit status, or -1 when it had to be killed */
  gchar *out;
  gchar *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static gchar *tmp_dir;
static gchar *conf_path;

static gchar *
build_file (const gchar *relative)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  g_assert_nonnull (build);
  return g_build_filename (build, relative, NULL);
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_exit_status (GPid pid, gint status, gpointer data)
{
  *(gint *) data = status;
}

static gchar *
read_all (gint fd)
{
  g_autoptr(GIOChannel) ch = g_io_channel_unix_new (fd);
  gchar *text = NULL;
  g_io_channel_set_close_on_unref (ch, TRUE);
  g_io_channel_set_encoding (ch, NULL, NULL);
  g_io_channel_read_to_end (ch, &text, NULL, NULL);
  return text != NULL ? text : g_strdup ("");
}

/* Runs @argv with @input on stdin; a program still running after 20 s was
 * started when it should not have been: killed, status -1.  Output beyond
 * the pipes' buffers is not expected from any case here. */
static void
run_argv (const gchar *const *argv, const gchar *input, Run *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_autoptr(GSource) timer = g_timeout_source_new_seconds (20);
  g_autoptr(GSource) watch = NULL;
  GPid pid;
  gint in_fd, out_fd, err_fd, status = G_MININT;
  gboolean timed_out = FALSE;

  g_main_context_push_thread_default (ctx);
  g_assert_true (g_spawn_async_with_pipes (NULL, (gchar **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                           NULL, NULL, &pid, &in_fd, &out_fd, &err_fd, &error));
  g_assert_no_error (error);
  if (input != NULL)
    g_assert_cmpint (write (in_fd, input, strlen (input)), ==, (gssize) strlen (input));
  close (in_fd);
  watch = g_child_watch_source_new (pid);
  g_source_set_callback (watch, (GSourceFunc) (void (*) (void)) on_exit_status, &status, NULL);
  g_source_attach (watch, ctx);
  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, ctx);
  while (status == G_MININT && !timed_out)
    g_main_context_iteration (ctx, TRUE);
  if (status == G_MININT)
    {
      kill (pid, SIGKILL);
      while (status == G_MININT)
        g_main_context_iteration (ctx, TRUE);
      r->status = -1;
    }
  else
    r->status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
  g_spawn_close_pid (pid);
  g_source_destroy (timer);
  r->out = read_all (out_fd);
  r->err = read_all (err_fd);
  g_main_context_pop_thread_default (ctx);
}

/* The program with @args (NULL-terminated; @tmp and @conf expanded). */
static void
run_program (const CliProgram *p, const gchar *const *args, const gchar *input, Run *r)
{
  g_autofree gchar *bin = build_file (p->build_path);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (bin));
  for (gsize i = 0; args != NULL && args[i] != NULL; i++)
    {
      if (g_str_has_prefix (args[i], "@tmp"))
        g_ptr_array_add (argv, g_strconcat (tmp_dir, args[i] + 4, NULL));
      else if (g_str_equal (args[i], "@conf"))
        g_ptr_array_add (argv, g_strdup (conf_path));
      else
        g_ptr_array_add (argv, g_strdup (args[i]));
    }
  g_ptr_array_add (argv, NULL);
  run_argv ((const gchar *const *) argv->pdata, input, r);
}

static void
assert_status (const Run *r, gint want, const gchar *what)
{
  if (r->status != want)
    g_error ("%s: exit %d, wanted %d%s\nstdout: %s\nstderr: %s", what, r->status, want,
             r->status == -1 ? " (still running after 20 s: killed)" : "", r->out, r->err);
}

/* "Usage:\n  PROGRAM[ COMMAND] [OPTION…][ PARAMS]\n\nA summary..." : the
 * arguments on the usage line, what it does in the summary below it */
static void
assert_usage (const gchar *out, const gchar *program)
{
  g_autofree gchar *usage = g_strdup_printf ("Usage:\n  %s [OPTION", program);
  const gchar *line = out + strlen ("Usage:\n");
  const gchar *end = strchr (line, '\n');

  if (!g_str_has_prefix (out, usage))
    g_error ("%s --help: wanted '%s...', got: %s", program, usage, out);
  g_assert_nonnull (end);
  g_assert_true (g_str_has_prefix (end, "\n\n"));
  if (g_strstr_len (line, end - line, " - ") != NULL)
    g_error ("%s --help: the usage line holds a summary: %.*s", program, (int) (end - line), line);
  g_assert_false (g_str_has_prefix (end + 2, "Help Options:"));  /* a summary is there */
}

static void
test_help (gconstpointer data)
{
  const CliProgram *p = data;
  const gchar *args[] = { "--help", NULL };
  g_auto(Run) r = { 0 };

  run_program (p, args, NULL, &r);
  assert_status (&r, 0, "--help");
  assert_usage (r.out, p->program);
  g_assert_cmpstr (r.err, ==, "");
  g_assert_nonnull (strstr (r.out, "  --version "));
  if (p->commands[0] != NULL)
    {
      const gchar *list = strstr (r.out, "\nCommands:\n");
      g_assert_nonnull (list);
      /* one line each, in a column */
      for (gsize i = 0; p->commands[i] != NULL; i++)
        {
          g_autofree gchar *line = g_strdup_printf ("\n  %s ", p->commands[i]);
          g_assert_nonnull (strstr (list, line));
        }
    }
  /* each command's own help, in the same style */
  for (gsize i = 0; p->commands[i] != NULL; i++)
    {
      const gchar *cargs[] = { p->commands[i], "--help", NULL };
      g_auto(Run) c = { 0 };
      g_autofree gchar *name = g_strdup_printf ("%s %s", p->program, p->commands[i]);
      run_program (p, cargs, NULL, &c);
      assert_status (&c, 0, p->commands[i]);
      assert_usage (c.out, name);
    }
}

static void
test_version (gconstpointer data)
{
  const CliProgram *p = data;
  const gchar *args[] = { "--version", NULL };
  const gchar *version = g_getenv ("MINNA_VERSION");
  g_auto(Run) r = { 0 };
  g_autofree gchar *want = NULL;

  g_assert_nonnull (version);
  want = g_strdup_printf ("%s %s\n", p->program, version);
  run_program (p, args, NULL, &r);
  assert_status (&r, 0, "--version");
  g_assert_cmpstr (r.out, ==, want);
  g_assert_cmpstr (r.err, ==, "");
}

static void
assert_usage_error (const CliProgram *p, const Run *r, const gchar *named, const gchar *what)
{
  g_autofree gchar *try_help = g_strdup_printf ("\nTry '%s", p->program);

  assert_status (r, 2, what);
  /* "PROGRAM[ COMMAND]: MESSAGE NAMING IT\nTry 'PROGRAM[ COMMAND] --help'." */
  g_assert_true (g_str_has_prefix (r->err, p->program));
  g_assert_nonnull (strstr (r->err, named));
  g_assert_nonnull (strstr (r->err, try_help));
  g_assert_true (g_str_has_suffix (r->err, " --help'.\n"));
  g_assert_cmpstr (r->out, ==, "");
}

static void
test_bad_option (gconstpointer data)
{
  const CliProgram *p = data;
  const gchar *args[] = { "--no-such-option", NULL };
  g_auto(Run) r = { 0 };

  run_program (p, args, NULL, &r);
  assert_usage_error (p, &r, "--no-such-option", "bad option");
  for (gsize i = 0; p->commands[i] != NULL; i++)
    {
      const gchar *cargs[] = { p->commands[i], "--no-such-option", NULL };
      g_auto(Run) c = { 0 };
      run_program (p, cargs, NULL, &c);
      assert_usage_error (p, &c, "--no-such-option", p->commands[i]);
    }
}

static void
test_leftover (gconstpointer data)
{
  const CliProgram *p = data;
  g_auto(Run) r = { 0 };
  g_autofree gchar *written = g_build_filename (tmp_dir, "t.native", NULL);

  if (p->leftover[0] == NULL)
    {
      g_test_skip ("everything after the options is the app's command line");
      return;
    }
  run_program (p, p->leftover, NULL, &r);
  assert_usage_error (p, &r, "'stray-argument'", "left-over argument");
  /* nothing started, nothing written */
  g_assert_null (strstr (r.out, "listening"));
  g_assert_false (g_file_test (written, G_FILE_TEST_EXISTS));
}

/* Issue 17's case: the password is set, no second controller starts. */
static void
test_controller_passwd_after_config (void)
{
  const CliProgram *p = &programs[6];
  const gchar *args[] = { "--config", "@conf", "passwd", "alice", NULL };
  const gchar *extra[] = { "--config", "@conf", "passwd", "alice", "stray-argument", NULL };
  g_autofree gchar *users = g_build_filename (tmp_dir, "users", NULL);
  g_autofree gchar *text = NULL;
  g_auto(Run) r = { 0 };
  g_auto(Run) e = { 0 };

  g_assert_cmpstr (p->program, ==, "minna-controller");
  run_program (p, args, "a-long-password\n", &r);
  assert_status (&r, 0, "--config F passwd alice");
  g_assert_nonnull (strstr (r.out, "password of alice set in"));
  g_assert_null (strstr (r.out, "listening"));
  g_assert_true (g_file_get_contents (users, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "alice:") || strstr (text, "\nalice:") != NULL);

  run_program (p, extra, "a-long-password\n", &e);
  assert_usage_error (p, &e, "'stray-argument'", "passwd with a left-over argument");
}

/* The page's text with roff's escapes for - and fonts undone. */
static gchar *
man_source_text (const gchar *path)
{
  g_autofree gchar *text = NULL;
  g_autoptr(GRegex) fonts = g_regex_new ("\\\\f[BIRP]", 0, 0, NULL);
  g_autoptr(GString) s = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  s = g_string_new (text);
  g_string_replace (s, "\\-", "-", 0);
  return g_regex_replace_literal (fonts, s->str, -1, 0, "", 0, NULL);
}

static void
assert_options_in_page (const gchar *help, const gchar *page, const gchar *what)
{
  g_autoptr(GRegex) option = g_regex_new ("^ +(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)",
                                          G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  guint n = 0;

  for (g_regex_match (option, help, 0, &m); g_match_info_matches (m); g_match_info_next (m, NULL))
    {
      g_autofree gchar *name = g_match_info_fetch (m, 1);
      g_autofree gchar *pattern = g_strdup_printf ("%s(?![a-z0-9-])", name);
      if (!g_regex_match_simple (pattern, page, 0, 0))
        g_error ("%s: the man page does not mention %s", what, name);
      n++;
    }
  g_assert_cmpuint (n, >=, 1);  /* --help itself at least */
}

static void
test_man (gconstpointer data)
{
  const CliProgram *p = data;
  g_autofree gchar *rel = g_build_filename ("man", p->man, NULL);
  g_autofree gchar *path = build_file (rel);
  const gchar *groff[] = { "groff", "-man", "-Tutf8", "-ww", "-z", path, NULL };
  g_autofree gchar *page = NULL;
  const gchar *help_args[] = { "--help", NULL };
  g_auto(Run) g = { 0 };
  g_auto(Run) h = { 0 };
  g_autofree gchar *groff_path = g_find_program_in_path ("groff");

  if (groff_path == NULL)
    {
      g_test_skip ("groff is not installed (Debian package groff)");
      return;
    }
  run_argv (groff, NULL, &g);
  assert_status (&g, 0, "groff");
  g_assert_cmpstr (g.err, ==, "");

  page = man_source_text (path);
  g_assert_nonnull (strstr (page, p->program));
  run_program (p, help_args, NULL, &h);
  assert_options_in_page (h.out, page, p->program);
  for (gsize i = 0; p->commands[i] != NULL; i++)
    {
      const gchar *cargs[] = { p->commands[i], "--help", NULL };
      g_auto(Run) c = { 0 };
      run_program (p, cargs, NULL, &c);
      g_assert_nonnull (strstr (page, p->commands[i]));
      assert_options_in_page (c.out, page, p->commands[i]);
    }
}

/* Every program meson installs has a row above and an installed man page. */
static void
test_installed (void)
{
  g_autofree gchar *intro = build_file ("meson-info/intro-installed.json");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *installed;
  g_autoptr(GList) members = NULL;
  guint programs_seen = 0;

  json_parser_load_from_file (parser, intro, &error);
  g_assert_no_error (error);
  installed = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (installed);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const gchar *dest = json_object_get_string_member (installed, l->data);
      g_autofree gchar *dir = g_path_get_dirname (dest);
      g_autofree gchar *base = g_path_get_basename (dest);
      gboolean known = FALSE;

      if (!g_str_has_suffix (dir, "/bin") && !g_str_has_suffix (dir, "/sbin"))
        continue;
      programs_seen++;
      for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
        if (g_str_equal (programs[i].program, base))
          {
            g_autoptr(GList) again = json_object_get_members (installed);
            gboolean man = FALSE;
            for (GList *k = again; k != NULL; k = k->next)
              {
                const gchar *d = json_object_get_string_member (installed, k->data);
                g_autofree gchar *b = g_path_get_basename (d);
                if (strstr (d, "/man/man") != NULL && g_str_has_prefix (b, programs[i].man))
                  man = TRUE;
              }
            if (!man)
              g_error ("%s: no man page %s is installed", base, programs[i].man);
            known = TRUE;
          }
      if (!known)
        g_error ("%s is installed but tests/cli/test-cli.c has no row for it", base);
    }
  g_assert_cmpuint (programs_seen, ==, G_N_ELEMENTS (programs));
}

static void
remove_tree (const gchar *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static void
write_conf (void)
{
  g_autofree gchar *users = g_build_filename (tmp_dir, "users", NULL);
  g_autofree gchar *state = g_build_filename (tmp_dir, "state", NULL);
  g_autofree gchar *text = g_strdup_printf (
    "[server]\nport = 0\n"
    "[state]\nstate_dir = %s\n"
    "[auth]\nusers_file = %s\nkey_file = %s/cookie-key\npbkdf2_iterations = 1000\n",
    state, users, tmp_dir);

  conf_path = g_build_filename (tmp_dir, "controller.conf", NULL);
  g_assert_true (g_file_set_contents (conf_path, text, -1, NULL));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("minna-cli-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  write_conf ();
  for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
    {
      const struct { const gchar *name; GTestDataFunc func; } cases[] = {
        { "help", test_help }, { "version", test_version }, { "bad-option", test_bad_option },
        { "left-over", test_leftover }, { "man", test_man },
      };
      for (gsize j = 0; j < G_N_ELEMENTS (cases); j++)
        {
          g_autofree gchar *path = g_strdup_printf ("/cli/%s/%s", programs[i].program, cases[j].name);
          g_test_add_data_func (path, &programs[i], cases[j].func);
        }
    }
  g_test_add_func ("/cli/minna-controller/passwd-after-config", test_controller_passwd_after_config);
  g_test_add_func ("/cli/installed", test_installed);
  status = g_test_run ();
  remove_tree (tmp_dir);
  return status;
}
