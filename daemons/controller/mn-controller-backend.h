/* mn-controller-backend.h: what the controller needs from a scheduler.
 *
 * Submit, cancel, poll many jobs in one call, describe.  A backend that
 * cannot answer (command failed, timed out) says so (MN_JOB_UNKNOWN or a
 * GError from poll); the controller then marks sessions unknown and asks
 * again, it never takes that for "job gone". */
#pragma once

#include <glib.h>
#include "mn-policy.h"

G_BEGIN_DECLS

typedef enum {
  MN_JOB_PENDING,
  MN_JOB_RUNNING,
  MN_JOB_DONE,
  MN_JOB_UNKNOWN,
} MnJobState;

typedef struct {
  MnJobState state;
  gint       exit_code;  /* DONE: exit code, -1 if killed or not known */
  gchar     *message;    /* DONE: how it ended; PENDING: why it waits; UNKNOWN: the
                          * scheduler's error */
  gint64     estimated_start; /* PENDING: the scheduler's expected start (s since
                               * the epoch); 0: it gives none */
  gchar     *node;       /* RUNNING: the host the scheduler runs it on; NULL: not said */
  gint64     started;    /* RUNNING: when it started (s since the epoch); 0: not said */
  /* DONE: how it ended as far as the backend can tell (walltime, its memory
   * cap, cancelled = MN_END_USER, exited, failed); MN_END_NONE: it cannot
   * say.  The controller decides on this code, never on @message. */
  MnEndReason end;
} MnJobStatus;

/* @message is copied (may be NULL). */
MnJobStatus *mn_job_status_new (MnJobState state, gint exit_code, const gchar *message);
MnJobStatus *mn_job_status_copy (const MnJobStatus *status);
void mn_job_status_free (MnJobStatus *status);

typedef struct {
  const gchar *session_id;
  const gchar *session_dir;
  const gchar *script;       /* path of the job script */
  const gchar *output;       /* path of the job's stdout+stderr */
  const gchar *unix_user;    /* run as; NULL: the controller's user */
  guint        cores;
  guint64      memory_mb;
  guint        gpus;
  gint64       walltime;     /* s */
  gint         node;         /* interactive.q placement, -1 for batch */
  gint         logical;
  /* interactive.q: what the policy gave the job (THE MODEL in mn-policy.h:
   * memory and swap limits, cpuset and quota, GPUs, walltime) and the policy
   * it comes from; both NULL for batch jobs, which get what they asked. */
  const MnPolicyAllocation *allocation;
  const MnPolicyConfig     *policy;
  /* if_busy = give_up: the scheduler starts the job at once or not at all
   * (the policy admitted it, but jobs from outside minna may fill the
   * queue); submit fails with a reason saying so. */
  gboolean   give_up;
} MnJobSpec;

/* One entry of a backend's listing (list_jobs). */
typedef struct {
  gchar      *job_id;       /* the scheduler's id (local: the session's id) */
  gchar      *session_id;   /* from the job's name minna-<session>; NULL: not minna's form */
  MnJobState  state;        /* PENDING or RUNNING; a leftover: RUNNING while it holds
                             * processes, else DONE */
  gchar      *description;  /* for people: "pid 12, session directory ...", "RUNNING on n1" */
  /* not a job but what one left (a cgroup of a job that is over): the
   * reconciliation removes it when no live session owns it and it is
   * empty, and reports it while it holds processes */
  gboolean    leftover;
} MnBackendJob;

MnBackendJob *mn_backend_job_new (const gchar *job_id, const gchar *session_id,
                                  MnJobState state, const gchar *description);
void          mn_backend_job_free (MnBackendJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnBackendJob, mn_backend_job_free)
/* "minna-ID" -> "ID" (a copy); NULL for any other job name. */
gchar        *mn_backend_session_of_job_name (const gchar *name);

/* One policy node as its scheduler sees it (node_states). */
typedef struct {
  gboolean  available;  /* takes new jobs (the policy's NODE AVAILABILITY) */
  gchar    *name;       /* the scheduler's name of the node: "interactive2" */
  gchar    *state;      /* the scheduler's words for its state: "drained", "idle*" */
} MnNodeState;

void mn_node_state_free (MnNodeState *state);

typedef struct _MnBackend MnBackend;

typedef struct {
  const gchar *name;
  /* submit() may be called from a worker thread (while the other calls run
   * on the main thread): the backend guards its own state. */
  gboolean     submit_in_thread;
  /* poll() and cancel() run the scheduler's commands, which take seconds
   * (and hang until their timeout while its daemon is down): the controller
   * runs them in a worker thread, one poll at a time, so its API stays
   * responsive.  Such a backend's calls must be safe from any thread. */
  gboolean     commands_block;
  /* Returns the job id.  Must be idempotent for the same session (a
   * controller killed mid-submit submits again after its restart). */
  gchar      *(*submit)   (MnBackend *self, const MnJobSpec *spec, gint64 now,
                           GError **error);
  gboolean    (*cancel)   (MnBackend *self, const gchar *job_id, gint64 now,
                           GError **error);
  /* job id -> MnJobStatus* for every id asked. */
  GHashTable *(*poll)     (MnBackend *self, const gchar *const *job_ids, gint64 now,
                           GError **error);
  gchar      *(*describe) (MnBackend *self);
  /* Optional: what of @policy this backend cannot do here (a host smaller
   * than the policy's node, a limit the kernel cannot set), one line each
   * naming the policy's keys, appended to @problems; TRUE if none. */
  gboolean    (*check_policy) (MnBackend *self, const MnPolicyConfig *policy,
                               GPtrArray *problems);
  /* Optional: every job this backend has now that minna submitted (the
   * scheduler's whole queue, recognised by the job name minna-<session>),
   * and what ended jobs left behind (the local backend's cgroups), as
   * MnBackendJob*, for the reconciliation with the database at every start
   * and in 'check' (issue 20).  NULL with @error when it cannot say: then
   * nothing is compared, nothing is taken for gone.  Blocks like poll(). */
  GPtrArray  *(*list_jobs) (MnBackend *self, GError **error);
  /* Optional: removes what @job (a leftover of list_jobs) names; FALSE
   * with @error when it cannot (it still holds processes). */
  gboolean    (*remove_leftover) (MnBackend *self, const MnBackendJob *job, GError **error);
  /* Optional (Extend): the job's walltime, counted from its start, is now
   * @walltime s.  An error says why not in the scheduler's words
   * (MN_CONTROLLER_ERROR_BACKEND: it refused; _UNREACHABLE: it did not
   * answer).  Blocks like cancel() where commands_block. */
  gboolean    (*extend)   (MnBackend *self, const gchar *job_id, gint64 walltime,
                           gint64 now, GError **error);
  /* Optional: whether each of the policy's @n_nodes nodes takes new jobs,
   * as the scheduler says now: @n_nodes MnNodeState* in policy node order
   * (a NULL entry: it says nothing of that node, which keeps what it was),
   * or NULL with @error when the scheduler could not be asked.  Without it
   * (local) every node is always available.  Blocks like
   * poll(); the controller asks at most once per poll round. */
  GPtrArray  *(*node_states) (MnBackend *self, guint n_nodes, GError **error);
  void        (*free)     (MnBackend *self);
} MnBackendClass;

struct _MnBackend {
  const MnBackendClass *klass;
};

gchar      *mn_backend_submit (MnBackend *self, const MnJobSpec *spec, gint64 now, GError **error);
gboolean    mn_backend_cancel (MnBackend *self, const gchar *job_id, gint64 now, GError **error);
GHashTable *mn_backend_poll (MnBackend *self, const gchar *const *job_ids, gint64 now, GError **error);
gchar      *mn_backend_describe (MnBackend *self);
/* FALSE (MN_CONTROLLER_ERROR_NOT_ALLOWED) for a backend without extend(). */
gboolean    mn_backend_extend (MnBackend *self, const gchar *job_id, gint64 walltime,
                               gint64 now, GError **error);
gboolean    mn_backend_check_policy (MnBackend *self, const MnPolicyConfig *policy,
                                     GPtrArray *problems);
/* MnBackendJob*; NULL with MN_CONTROLLER_ERROR_NOT_ALLOWED when the
 * backend cannot list its jobs, or its error when the scheduler did not
 * answer. */
GPtrArray  *mn_backend_list_jobs (MnBackend *self, GError **error);
/* FALSE (MN_CONTROLLER_ERROR_NOT_ALLOWED) for a backend without it. */
gboolean    mn_backend_remove_leftover (MnBackend *self, const MnBackendJob *job, GError **error);
/* MnNodeState*; NULL with MN_CONTROLLER_ERROR_NOT_ALLOWED for a backend
 * without node_states(), or its error. */
GPtrArray  *mn_backend_node_states (MnBackend *self, guint n_nodes, GError **error);
void        mn_backend_free (MnBackend *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnBackend, mn_backend_free)

G_END_DECLS
