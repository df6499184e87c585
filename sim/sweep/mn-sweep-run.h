/* mn-sweep-run.h: running a sweep's points (in parallel, or one per Slurm
 * array task) and putting the pieces back together. */
#pragma once

#include "mn-sweep-results.h"

G_BEGIN_DECLS

typedef struct {
  MnSweepRunFunc     run;
  MnSweepReleaseFunc release;   /* may be NULL */
  gpointer           user_data;
  GDestroyNotify     destroy;
} MnSweepRunner;

MnSweepRunner *mn_sweep_runner_new (MnSweepRunFunc run, gpointer user_data, GDestroyNotify destroy);
void           mn_sweep_runner_set_release (MnSweepRunner *runner, MnSweepReleaseFunc release);
void           mn_sweep_runner_free (MnSweepRunner *runner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSweepRunner, mn_sweep_runner_free)

/* Makes a runner for a scenario (the real one loads the trace once). */
typedef MnSweepRunner *(*MnSweepRunnerNewFunc) (const MnSweepScenario *scenario, GError **error);

/* Run the baseline and every point on every seed on @n_threads threads
 * (0 = one per core), seed after seed, so that only a seed or two's worlds
 * are held at once; progress lines on stderr unless @quiet.  The metrics go through
 * JSON text once, so that an in-process run and a merged array run hold
 * exactly the same numbers. */
MnSweepResults *mn_sweep_run (const MnSweepScenario *scenario, GPtrArray *points,
                              MnSweepRunner *runner, guint n_threads, gboolean quiet,
                              GError **error);

/* One point of an array run on one seed: writes
 * DIR/points/point-K[-seed-S].json (K = "baseline" for the baseline; the
 * seed part for a generated world).  @index = -1 runs the baseline. */
gboolean mn_sweep_run_one (const MnSweepScenario *scenario, GPtrArray *points, gint index,
                           guint seed_index, MnSweepRunner *runner, const gchar *dir,
                           GError **error);
/* The index in scenario->seeds of the seed @seed, FALSE (with an error
 * naming the seeds) when the scenario has no such seed. */
gboolean mn_sweep_seed_index (const MnSweepScenario *scenario, guint64 seed, guint *index,
                              GError **error);

/* DIR/sweep.json (the scenario's path, the number of points and the seeds)
 * and DIR/sweep.sbatch, a Slurm job array with one task per point and seed
 * plus one per seed for the baseline.  @minna_sim is the command the tasks
 * run. */
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
