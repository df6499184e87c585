/* mn-config-cli.c: the one command-line style (see mn-config-cli.h). */
#define G_LOG_DOMAIN "minna-cli"

#include <locale.h>
#include <stdarg.h>
#include <string.h>

#include "mn-config-cli.h"
#include "mn-version.h"

const gchar *
mn_cli_version (void)
{
  return MN_VERSION;
}

static gchar *
commands_text (const gchar *summary, const MnCliCommand *commands)
{
  GString *text = g_string_new (summary);
  gsize width = 0;

  /* one line each: the name and its arguments in one column, the help after */
  for (gsize i = 0; commands[i].name != NULL; i++)
    {
      gsize w = strlen (commands[i].name) + (commands[i].params ? 1 + strlen (commands[i].params) : 0);
      width = MAX (width, w);
    }
  if (text->len > 0)
    g_string_append (text, "\n\n");
  g_string_append (text, "Commands:");
  for (gsize i = 0; commands[i].name != NULL; i++)
    {
      g_autofree gchar *left = g_strjoin (commands[i].params ? " " : "", commands[i].name,
                                          commands[i].params ? commands[i].params : "", NULL);
      g_string_append_printf (text, "\n  %-*s  %s", (int) width, left, commands[i].help);
    }
  return g_string_free (text, FALSE);
}

MnCli *
mn_cli_new (const gchar *program, const gchar *params, const gchar *summary,
            const MnCliCommand *commands, gboolean with_version)
{
  MnCli *cli = g_new0 (MnCli, 1);

  cli->program = g_strdup (program);
  cli->context = g_option_context_new (params);
  cli->commands = commands;
  if (commands != NULL)
    {
      g_autofree gchar *text = commands_text (summary ? summary : "", commands);
      g_option_context_set_summary (cli->context, text);
      g_option_context_set_strict_posix (cli->context, TRUE);
    }
  else if (summary != NULL)
    g_option_context_set_summary (cli->context, summary);
  if (with_version)
    {
      const GOptionEntry version[] = {
        { "version", 0, 0, G_OPTION_ARG_NONE, &cli->version, "Print the version and exit", NULL },
        G_OPTION_ENTRY_NULL
      };
      g_option_context_add_main_entries (cli->context, version, NULL);
    }
  return cli;
}

void
mn_cli_free (MnCli *cli)
{
  if (cli == NULL)
    return;
  g_option_context_free (cli->context);
  g_free (cli->program);
  g_free (cli);
}

void
mn_cli_add_entries (MnCli *cli, const GOptionEntry *entries)
{
  g_option_context_add_main_entries (cli->context, entries, NULL);
}

gint
mn_cli_usage_error (const gchar *program, const gchar *format, ...)
{
  va_list ap;
  g_autofree gchar *message = NULL;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_printerr ("%s: %s\nTry '%s --help'.\n", program, message, program);
  return MN_CLI_EXIT_USAGE;
}

gint
mn_cli_parse (MnCli *cli, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  /* GOption's "Usage:" line names the program (or "program command"); its
   * "[OPTION…]" and ours need the terminal's character set, which is all
   * of the locale taken here (numbers keep the C locale's format) */
  setlocale (LC_CTYPE, "");
  g_set_prgname (cli->program);
  if (!g_option_context_parse (cli->context, argc, argv, &error))
    return mn_cli_usage_error (cli->program, "%s", error->message);
  if (cli->version)
    {
      g_print ("%s %s\n", cli->program, MN_VERSION);
      return MN_CLI_EXIT_OK;
    }
  return MN_CLI_CONTINUE;
}

gint
mn_cli_check_args (MnCli *cli, int argc, char **argv, gint min, gint max, const gchar *missing)
{
  gint n = argc - 1;

  if (max >= 0 && n > max)
    return mn_cli_usage_error (cli->program, "unexpected argument '%s'", argv[1 + max]);
  if (n < min)
    return mn_cli_usage_error (cli->program, "%s", missing);
  return MN_CLI_CONTINUE;
}

gint
mn_cli_find_command (MnCli *cli, int argc, char **argv)
{
  g_return_val_if_fail (cli->commands != NULL, -1);
  if (argc < 2)
    {
      mn_cli_usage_error (cli->program, "no command given");
      return -1;
    }
  for (gint i = 0; cli->commands[i].name != NULL; i++)
    if (g_str_equal (argv[1], cli->commands[i].name))
      return i;
  mn_cli_usage_error (cli->program, "unknown command '%s'", argv[1]);
  return -1;
}
