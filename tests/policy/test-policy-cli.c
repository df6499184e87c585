/* test-policy-cli.c: the minna-policy program, run as a subprocess (the
 * built binary, MINNA_BUILD_DIR/policy/minna-policy), misuse included. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "mn-policy-test-util.h"

static gchar *tmp_dir;

typedef struct {
  const gchar *path;
  const gchar *args;         /* split on spaces; @good @bad @missing @dir are files */
  gint         exit_code;
  const gchar *stdout_has;   /* NULL: not checked; "" : must be empty */
  const gchar *stderr_has;
} CliCase;

static const CliCase cli_cases[] = {
  { "/policy/cli/help", "--help", 0, "export --slurm|--sge", "" },
  { "/policy/cli/no-command", "", 2, "", "no command given" },
  { "/policy/cli/unknown-command", "frobnicate", 2, "", "unknown command 'frobnicate'" },
  { "/policy/cli/unknown-option", "--frob", 2, "", "Unknown option" },
  { "/policy/cli/show-default", "show", 0, "max_jobs = 7", "" },
  { "/policy/cli/show-file", "show @good", 0, "nodes = 9", "" },
  { "/policy/cli/show-bad-file", "show @bad", 1, "", "bad.conf:3: [queue] max_walltime: value '2w'" },
  { "/policy/cli/show-too-many", "show @good @good", 2, "", "too many arguments" },
  { "/policy/cli/check-good", "check @good", 0, "good.conf: OK", "" },
  { "/policy/cli/check-bad", "check @bad", 1, "", "max_walltime" },
  { "/policy/cli/check-missing", "check @missing", 1, "", "missing.conf" },
  { "/policy/cli/check-directory", "check @dir", 1, "", NULL },
  { "/policy/cli/check-no-file", "check", 2, "", "exactly one FILE" },
  { "/policy/cli/check-two-files", "check @good @good", 2, "", "exactly one FILE" },
  { "/policy/cli/check-bad-option", "check --slurm @good", 2, "", "Unknown option" },
  { "/policy/cli/export-slurm", "export --slurm", 0, "OverSubscribe=FORCE:7", "" },
  { "/policy/cli/export-slurm-file", "export --slurm @good", 0, "interactive[1-9]", "" },
  { "/policy/cli/export-sge", "export --sge", 0, "qtype                 BATCH INTERACTIVE", "" },
  { "/policy/cli/export-sge-bad", "export --sge @bad", 1, "", "max_walltime" },
  { "/policy/cli/export-none", "export", 2, "", "exactly one of --slurm or --sge" },
  { "/policy/cli/export-both", "export --slurm --sge", 2, "", "exactly one of" },
  { "/policy/cli/keys", "keys", 0, "max_gpu_memory = 16G", "" },
  { "/policy/cli/keys-extra", "keys @good", 2, "", "no arguments" },
};

static gchar *
binary_path (void)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");

  g_assert_nonnull (build);
  return g_build_filename (build, "policy", "minna-policy", NULL);
}

static void
run (const gchar *const *args, gint *code, gchar **out, gchar **err)
{
  g_autofree gchar *bin = binary_path ();
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  gint status = 0;

  g_ptr_array_add (argv, bin);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                out, err, &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  *code = WEXITSTATUS (status);
}

static void
test_cli_case (gconstpointer data)
{
  const CliCase *tc = data;
  g_auto (GStrv) words = g_strsplit (tc->args, " ", -1);
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint code;

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (g_str_equal (words[i], "@dir"))
        g_ptr_array_add (args, g_strdup (tmp_dir));
      else if (words[i][0] == '@')
        g_ptr_array_add (args, g_strdup_printf ("%s/%s.conf", tmp_dir, words[i] + 1));
      else
        g_ptr_array_add (args, g_strdup (words[i]));
    }
  g_ptr_array_add (args, NULL);
  run ((const gchar *const *) args->pdata, &code, &out, &err);
  g_test_message ("exit %d\nstdout: %.300s\nstderr: %s", code, out, err);
  g_assert_cmpint (code, ==, tc->exit_code);
  if (tc->stdout_has != NULL && tc->stdout_has[0] == '\0')
    g_assert_cmpstr (out, ==, "");
  else if (tc->stdout_has != NULL)
    g_assert_nonnull (strstr (out, tc->stdout_has));
  if (tc->stderr_has != NULL && tc->stderr_has[0] == '\0')
    g_assert_cmpstr (err, ==, "");
  else if (tc->stderr_has != NULL)
    g_assert_nonnull (strstr (err, tc->stderr_has));
}

/* `show` prints a file that loads back to what it showed. */
static void
test_cli_show_round_trip (void)
{
  const gchar *args[] = { "show", NULL, NULL };
  g_autofree gchar *good = g_build_filename (tmp_dir, "good.conf", NULL);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (MnPolicyConfig) shown = NULL;
  g_autoptr (MnPolicyConfig) original = NULL;
  g_autoptr (GError) error = NULL;
  gint code;

  args[1] = good;
  run (args, &code, &out, &err);
  g_assert_cmpint (code, ==, 0);
  shown = mn_policy_config_load_data (out, strlen (out), "shown", &error);
  g_assert_no_error (error);
  g_file_get_contents (good, &text, NULL, &error);
  g_assert_no_error (error);
  original = mn_policy_config_load_data (text, strlen (text), "good.conf", &error);
  g_assert_no_error (error);
  g_assert_true (mn_policy_config_equal (shown, original));
}

static void
write_file (const gchar *name, const gchar *text)
{
  g_autofree gchar *path = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("minna-policy-cli-XXXXXX", &error);
  g_assert_no_error (error);
  write_file ("good.conf", "[queue]\nnodes = 9\nmax_walltime = 12h\n");
  write_file ("bad.conf", "[queue]\n# two weeks is too long\nmax_walltime = 2w\n");

  for (gsize i = 0; i < G_N_ELEMENTS (cli_cases); i++)
    g_test_add_data_func (cli_cases[i].path, &cli_cases[i], test_cli_case);
  g_test_add_func ("/policy/cli/show-round-trip", test_cli_show_round_trip);
  status = g_test_run ();

  for (const gchar *name = "good.conf"; name != NULL;
       name = g_str_equal (name, "good.conf") ? "bad.conf" : NULL)
    {
      g_autofree gchar *path = g_build_filename (tmp_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return status;
}
