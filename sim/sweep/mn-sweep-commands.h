/* mn-sweep-commands.h: `minna-sim run` and `minna-sim merge`.  argv[0] is
 * the subcommand's name; each returns the process exit status:
 *   0  done (run: a point meets every target; recommended.conf written)
 *   1  error (message on stderr)
 *   2  usage
 *   3  run/merge finished, but no point meets every target (the summary
 *      says which target fails at the closest point, and by how much) */
#pragma once

#include "mn-sweep-run.h"

G_BEGIN_DECLS

int mn_sweep_cmd_run (int argc, char **argv);
int mn_sweep_cmd_merge (int argc, char **argv);

/* The same with another runner (tests use a fake simulator). */
int mn_sweep_cmd_run_with (int argc, char **argv, MnSweepRunnerNewFunc runner_new);

/* The real runner: loads the scenario's trace once into the engine's
 * workload and replays it per point (mn-sweep-engine.c). */
MnSweepRunner *mn_sweep_engine_runner_new (const MnSweepScenario *scenario, GError **error);

G_END_DECLS
