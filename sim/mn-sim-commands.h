/* mn-sim-commands.h: the subcommands of minna-sim.  Each takes the argv
 * after the subcommand name is removed (argv[0] is the subcommand) and
 * returns the process exit status.  summary lives in trace/ (issue 3);
 * replay, run and merge in engine/ (issues 4 and 5). */
#pragma once

int mn_sim_cmd_summary (int argc, char **argv);
int mn_sim_cmd_replay (int argc, char **argv);
int mn_sim_cmd_run (int argc, char **argv);
int mn_sim_cmd_merge (int argc, char **argv);
