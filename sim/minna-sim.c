/* minna-sim: the planners' tool.  A thin dispatcher; the work lives in
 * libminna-trace and libminna-sim. */
#define G_LOG_DOMAIN "minna-sim"

#include <glib.h>
#include <locale.h>

#include "mn-config-cli.h"
#include "mn-sim-commands.h"
#include "mn-sweep-commands.h"

static const MnCliCommand commands[] = {
  { "summary", "TRACE", "what a trace holds (jobs, users, load; logged vs replayed waits)" },
  { "replay", "TRACE --jobs-out FILE.csv", "replay a trace on all.q + interactive.q" },
  { "run", "SCENARIO", "run a sizing sweep (--report: and render its report)" },
  { "merge", "DIR", "merge the points of an array sweep" },
  { NULL }
};

/* in the order of commands[] */
static int (*const runs[]) (int argc, char **argv) = {
  mn_sim_cmd_summary, mn_sim_cmd_replay, mn_sweep_cmd_run, mn_sweep_cmd_merge,
};

int
main (int argc, char **argv)
{
  g_autoptr(MnCli) cli = NULL;
  gint status, command;

  setlocale (LC_ALL, "");
  cli = mn_cli_new ("minna-sim", "COMMAND [ARGS…]",
                    "Replay traces and size interactive.q.\n'minna-sim COMMAND --help'"
                    " describes each command's options.", commands, TRUE);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE)
    return status;
  if ((command = mn_cli_find_command (cli, argc, argv)) < 0)
    return MN_CLI_EXIT_USAGE;
  return runs[command] (argc - 1, argv + 1);
}
