/* mn-backend-slurm.h: the controller's jobs as Slurm jobs.
 *
 * Submits with sbatch (as root: --uid/--gid/--export=NONE, so the job runs
 * as the user with the user's own environment), polls every job with one
 * squeue call (which also gives a pending job's expected start and a
 * running job's node, reported as its NodeAddr from sinfo, asked once per
 * node) and asks sacct once for those squeue no longer knows, cancels
 * with scancel.  Every command runs under timeout(1): with slurmctld down
 * the clients hang, and a hung poll must become "unknown", not a stuck
 * controller. */
#pragma once

#include "mn-controller-backend.h"

G_BEGIN_DECLS

typedef struct {
  const gchar *partition;        /* interactive.q's partition; NULL: "interactive" */
  const gchar *batch_partition;  /* jobs with node < 0; NULL: the default partition */
  const gchar *bin_dir;          /* where sbatch & co. are; NULL: PATH */
  guint        command_timeout;  /* s per command; 0: 15 */
  /* A give-up job (MnJobSpec.give_up) not running this many seconds after
   * sbatch is cancelled and the submission fails (22.05 has no sbatch
   * --immediate); 0: 10 s.  Other jobs wait in the queue. */
  guint        give_up_after;
} MnBackendSlurmOptions;

MnBackend *mn_backend_slurm_new (const MnBackendSlurmOptions *options, GError **error);

G_END_DECLS
