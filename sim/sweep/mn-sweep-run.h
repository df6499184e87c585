/* mn-sweep-run.h: running a sweep's points (in parallel, or one per Slurm
 * array task) and putting the pieces back together. */
#pragma once

#include "mn-sweep-results.h"

G_BEGIN_DECLS

typedef struct {
  MnSweepRunFunc run;
  gpointer       user_data;
  GDestroyNotify destroy;
} MnSweepRunner;

MnSweepRunner *mn_sweep_runner_new (MnSweepRunFunc run, gpointer user_data, GDestroyNotify destroy);
void           mn_sweep_runner_free (MnSweepRunner *runner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSweepRunner, mn_sweep_runner_free)

/* Makes a runner for a scenario (the real one loads the trace once). */
typedef MnSweepRunner *(*MnSweepRunnerNewFunc) (const MnSweepScenario *scenario, GError **error);

/* Run the baseline and every point on @n_threads threads (0 = one per
 * core); progress lines on stderr unless @quiet.  The metrics go through
 * JSON text once, so that an in-process run and a merged array run hold
 * exactly the same numbers. */
MnSweepResults *mn_sweep_run (const MnSweepScenario *scenario, GPtrArray *points,
                              MnSweepRunner *runner, guint n_threads, gboolean quiet,
                              GError **error);

/* One point of an array run: writes DIR/points/point-K.json (K = "baseline"
 * for the baseline).  @index = -1 runs the baseline. */
gboolean mn_sweep_run_one (const MnSweepScenario *scenario, GPtrArray *points, gint index,
                           MnSweepRunner *runner, const gchar *dir, GError **error);

/* DIR/sweep.json (the scenario's path and the number of points) and
 * DIR/sweep.sbatch, a Slurm job array with one task per point plus one for
 * the baseline.  @minna_sim is the command the tasks run. */
gboolean mn_sweep_emit_slurm_array (const MnSweepScenario *scenario, GPtrArray *points,
                                    const gchar *scenario_path, const gchar *minna_sim,
                                    const gchar *dir, GError **error);

/* Reads DIR/sweep.json and every point file; names the missing ones.
 * @scenario_out receives the scenario (it outlives the results). */
MnSweepResults *mn_sweep_merge (const gchar *dir, MnSweepScenario **scenario_out,
                                GError **error);

/* The metrics through JSON text and back (see mn_sweep_run). */
JsonObject *mn_sweep_normalise_metrics (JsonObject *metrics);

G_END_DECLS
