/* minna-policy: show, check, document and export interactive.conf.
 * A thin main: the library takes text, this file does the file I/O. */
#define G_LOG_DOMAIN "minna-policy"

#include <locale.h>
#include <stdlib.h>

#include "mn-config-cli.h"
#include "mn-policy.h"

enum {
  EXIT_OK = 0,
  EXIT_BAD_CONFIG = 1,  /* the file is wrong or unreadable */
  EXIT_USAGE = 2,       /* the command line is wrong */
};

static const MnCliCommand commands[] = {
  { "show", "[FILE]", "print the configuration (the defaults without FILE), with help" },
  { "check", "FILE", "say 'FILE: OK' (exit 0) or the error (exit 1)" },
  { "export", "--slurm|--sge [FILE]", "print scheduler settings for the configuration" },
  { "keys", NULL, "document every key of interactive.conf" },
  { NULL }
};

static int usage_error (const gchar *fmt, ...) G_GNUC_PRINTF (1, 2);

/* for the command being run: "minna-policy check: ..." */
static const gchar *program = "minna-policy";

static int
usage_error (const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return mn_cli_usage_error (program, "%s", msg);
}

static MnPolicyConfig *
load_config (const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize length = 0;
  g_autoptr (GError) local = NULL;

  if (path == NULL)
    return mn_policy_config_new_default ();
  if (!g_file_get_contents (path, &text, &length, &local))
    {
      /* GLib's message already names the file. */
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT,
                   "%s", local->message);
      return NULL;
    }
  return mn_policy_config_load_data (text, length, path, error);
}

/* Parse a command's own options; leaves its positional arguments in argv. */
static gboolean
parse_command_options (const gchar *command, const gchar *params,
                       GOptionEntry *entries, int *argc, char ***argv, int *status)
{
  g_autofree gchar *name = g_strdup_printf ("minna-policy %s", command);
  g_autofree gchar *summary = NULL;
  g_autoptr (MnCli) cli = NULL;

  for (gsize i = 0; commands[i].name != NULL; i++)
    if (g_str_equal (commands[i].name, command))
      summary = g_strdup_printf ("%c%s.", g_ascii_toupper (commands[i].help[0]), commands[i].help + 1);
  cli = mn_cli_new (name, params, summary, NULL, FALSE);
  if (entries != NULL)
    mn_cli_add_entries (cli, entries);
  *status = mn_cli_parse (cli, argc, argv);
  return *status == MN_CLI_CONTINUE;
}

static int
run_show_or_export (const gchar *command, int argc, char **argv)
{
  gboolean slurm = FALSE, sge = FALSE;
  gboolean is_export = g_str_equal (command, "export");
  GOptionEntry export_entries[] = {
    { "slurm", 0, 0, G_OPTION_ARG_NONE, &slurm, "Slurm settings", NULL },
    { "sge", 0, 0, G_OPTION_ARG_NONE, &sge, "Grid Engine settings", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (MnPolicyConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  int status = EXIT_OK;

  if (!parse_command_options (command, is_export ? "--slurm|--sge [FILE]" : "[FILE]",
                              is_export ? export_entries : NULL,
                              &argc, &argv, &status))
    return status;
  if (argc > 2)
    return usage_error ("too many arguments for '%s': unexpected argument '%s'", command, argv[2]);
  if (is_export && slurm == sge)
    return usage_error ("%s", "export needs exactly one of --slurm or --sge");

  config = load_config (argc == 2 ? argv[1] : NULL, &error);
  if (config == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_BAD_CONFIG;
    }
  if (!is_export)
    text = mn_policy_config_to_data (config);
  else if (slurm)
    text = mn_policy_export_slurm (config);
  else
    text = mn_policy_export_sge (config);
  g_print ("%s", text);
  return EXIT_OK;
}

static int
run_check (int argc, char **argv)
{
  g_autoptr (MnPolicyConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  int status = EXIT_OK;

  if (!parse_command_options ("check", "FILE", NULL, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return usage_error ("check needs exactly one FILE: unexpected argument '%s'", argv[2]);
  if (argc != 2)
    return usage_error ("%s", "check needs exactly one FILE");
  config = load_config (argv[1], &error);
  if (config == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_BAD_CONFIG;
    }
  g_print ("%s: OK\n", argv[1]);
  return EXIT_OK;
}

static int
run_keys (int argc, char **argv)
{
  g_autofree gchar *text = NULL;
  int status = EXIT_OK;

  if (!parse_command_options ("keys", "", NULL, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return usage_error ("keys takes no arguments: unexpected argument '%s'", argv[1]);
  text = mn_policy_config_describe_keys ();
  g_print ("%s", text);
  return EXIT_OK;
}

int
main (int argc, char **argv)
{
  g_autoptr (MnCli) cli = NULL;
  const gchar *command;
  int status;

  setlocale (LC_ALL, "");
  cli = mn_cli_new ("minna-policy", "COMMAND [ARGS…]",
                    "Show, check and export minna's interactive.q policy (interactive.conf).",
                    commands, TRUE);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE)
    return status;
  if (mn_cli_find_command (cli, argc, argv) < 0)
    return EXIT_USAGE;
  command = argv[1];
  program = g_strdup_printf ("minna-policy %s", command);
  /* The command's own parser sees "minna-policy CMD ARGS" as argv. */
  if (g_str_equal (command, "show") || g_str_equal (command, "export"))
    return run_show_or_export (command, argc - 1, argv + 1);
  if (g_str_equal (command, "check"))
    return run_check (argc - 1, argv + 1);
  return run_keys (argc - 1, argv + 1);
}
