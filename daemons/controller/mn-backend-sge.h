/* mn-backend-sge.h: the controller's jobs as Grid Engine jobs.
 *
 * qsub cannot submit for another user, so the controller (root) submits
 * through runuser as the user: qsub -terse, with -now y for a request that
 * gives up on a busy queue (MnJobSpec.give_up).  One qstat -xml lists every job of every user per poll;
 * jobs it no longer lists are looked up in the accounting with qacct.  qdel
 * cancels.  Every command runs under timeout(1). */
#pragma once

#include "mn-controller-backend.h"

G_BEGIN_DECLS

typedef struct {
  const gchar *queue;            /* interactive.q's name; NULL: "interactive.q" */
  const gchar *batch_queue;      /* jobs with node < 0; NULL: any queue */
  const gchar *bin_dir;          /* where qsub & co. are; NULL: PATH */
  const gchar *sge_root;         /* NULL: the environment's SGE_ROOT */
  const gchar *sge_cell;         /* NULL: the environment's SGE_CELL */
  /* the complex a job's memory is requested as ("h_vmem"); NULL or "": none */
  const gchar *memory_resource;
  guint        command_timeout;  /* s per command; 0: 15 */
} MnBackendSgeOptions;

MnBackend *mn_backend_sge_new (const MnBackendSgeOptions *options, GError **error);

G_END_DECLS
