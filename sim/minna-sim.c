/* minna-sim: the planners' tool.  A thin dispatcher; the work lives in
 * libminna-trace and libminna-sim. */
#define G_LOG_DOMAIN "minna-sim"

#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mn-sim-commands.h"
#include "mn-sweep-commands.h"

static const struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "summary", mn_sim_cmd_summary, "TRACE [--format F] [--strict] [--json]   what a trace holds" },
  { "replay",  mn_sim_cmd_replay,  "TRACE --jobs-out FILE.csv [...]           replay a trace on all.q + interactive.q" },
  { "run",     mn_sweep_cmd_run,     "SCENARIO [--out DIR] [--jobs N]           run a sizing sweep" },
  { "merge",   mn_sweep_cmd_merge,   "DIR                                       merge the points of an array sweep" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: minna-sim COMMAND [OPTIONS...]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].help);
  fprintf (out, "\n'minna-sim COMMAND --help' describes each command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "minna-sim: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
