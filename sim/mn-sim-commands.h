/* mn-sim-commands.h: the subcommands of minna-sim.  Each takes the argv
 * after the subcommand name is removed (argv[0] is the subcommand) and
 * returns the process exit status.  summary and replay live in engine/; run and merge are in sweep/mn-sweep-commands.h. */
#pragma once

int mn_sim_cmd_summary (int argc, char **argv);
int mn_sim_cmd_replay (int argc, char **argv);
