/* mn-config-cli.h: the one command-line style of every minna program
 * (issue 17): a GOptionContext with --version, "Usage:" in GLib's form,
 * subcommands listed one per line in --help, and usage errors printed as
 *
 *   PROGRAM: MESSAGE
 *   Try 'PROGRAM --help'.
 *
 * with exit status 2.  The command line is the last layer of configuration
 * (defaults < files < command line), hence its place beside libminna-config;
 * it prints, so it is a library of its own and libminna-config stays pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum {
  MN_CLI_EXIT_OK = 0,
  MN_CLI_EXIT_USAGE = 2,   /* the command line is wrong: nothing was done */
};

/* Returned by mn_cli_parse() and friends when the caller should go on. */
#define MN_CLI_CONTINUE (-1)

typedef struct {
  const gchar *name;     /* "check" */
  const gchar *params;   /* "FILE", shown after the name; may be NULL */
  const gchar *help;     /* one line */
} MnCliCommand;

typedef struct {
  gchar          *program;   /* "minna-policy" or "minna-policy check" */
  GOptionContext *context;   /* add entries, a description, strict POSIX... */
  const MnCliCommand *commands;  /* static; NULL for a program without commands */
  gboolean        version;
} MnCli;

/* A context for @program; @params follow "[OPTION…]" in the usage line
 * ("COMMAND [ARGS…]", "DIR"); @summary is one or a few lines; @commands, if
 * not NULL, ends with a { NULL } entry and is listed after the summary.
 * Top-level contexts (@with_version) get --version; a program with
 * @commands stops parsing at the first non-option (strict POSIX), which is
 * the command, so "PROGRAM --global X COMMAND --own Y" parses in two steps. */
MnCli *mn_cli_new (const gchar *program, const gchar *params, const gchar *summary,
                   const MnCliCommand *commands, gboolean with_version);
void   mn_cli_free (MnCli *cli);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnCli, mn_cli_free)

void   mn_cli_add_entries (MnCli *cli, const GOptionEntry *entries);

/* Parse; prints the version or a usage error itself.  Returns
 * MN_CLI_CONTINUE, or the exit status to return from main(). */
gint   mn_cli_parse (MnCli *cli, int *argc, char ***argv);

/* After mn_cli_parse(): between @min and @max positional arguments (max -1:
 * any number).  Too many names the first extra one ("unexpected argument
 * 'X'"); too few prints @missing.  Returns MN_CLI_CONTINUE or 2. */
gint   mn_cli_check_args (MnCli *cli, int argc, char **argv, gint min, gint max,
                          const gchar *missing);

/* The command named by argv[1] (after a strict parse), as an index into
 * @commands; -1 after printing "no command given" or "unknown command 'X'". */
gint   mn_cli_find_command (MnCli *cli, int argc, char **argv);

/* Prints "PROGRAM: MESSAGE\nTry 'PROGRAM --help'.\n"; returns 2. */
gint   mn_cli_usage_error (const gchar *program, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

/* A daemon's fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) is
 * reported on stderr with a backtrace, then the process dies of it as it
 * would have (mn-cli-crash.c). */
void   mn_cli_install_crash_handler (const gchar *program);

/* minna's version, from meson's project version */
const gchar *mn_cli_version (void);

G_END_DECLS
