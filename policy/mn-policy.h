/* mn-policy.h: the one place where interactive.q admission and placement are
 * decided.  Pure: GLib only, no file or network I/O (callers hand in text),
 * no clock (callers pass `now`), no globals.  Used unchanged by the simulator
 * (sim/) and the controller (daemons/controller/).
 *
 * Units everywhere in this API: memory in MiB (guint64), time in seconds
 * (gint64, an absolute time is whatever epoch the caller uses, consistently).
 *
 * Placement rule (deterministic, what mn_policy_state_request() does when a
 * request may start):
 *   1. candidates are logical nodes with fewer than max_jobs_per_logical jobs,
 *      enough unreserved cores/GPUs for the request under the GPU mode (see
 *      below), and whose node has enough uncommitted memory for the job's
 *      memory cap within RAM + swap;
 *   2. among them pick the logical node with the fewest jobs,
 *   3. then the one whose node has the most uncommitted memory (RAM + swap
 *      minus the memory committed to its jobs),
 *   4. then the lowest node index, then the lowest logical index.
 * Cores are over-committed (a job asks for at most a logical node's cores and
 * shares them with the other jobs of that logical node).  GPUs:
 *   - SHARED:    every job on a logical node may use its GPUs; GPU memory is
 *                first come, first served (nothing is reserved).
 *   - CAPPED:    the same, but each job reserves its GPU-memory request (at
 *                most job_max_gpu_memory) out of the logical node's GPU memory.
 *   - EXCLUSIVE: a job asking for GPUs reserves them whole; a logical node
 *                whose GPUs are all reserved takes only jobs with gpus = 0.
 * Memory: a job commits its memory request (at most the per-job cap).  The sum
 * committed on one node may not exceed RAM + swap (the over-commit that the
 * TSUBAME report relies on: RAM is shared, swap takes the overflow).
 *
 * Waiting: requests that may not start now (and want to wait) join one FIFO.
 * On every release the FIFO is scanned in order and each request that can
 * start (placement finds room and the user is under the per-user limit)
 * starts; a request blocked only by its user's limit keeps its place.  The
 * per-user limit counts running AND waiting requests: a user already holding
 * max_jobs_per_user (running or waiting) is refused at request time.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_POLICY_ERROR (mn_policy_error_quark ())
GQuark mn_policy_error_quark (void);

typedef enum {
  MN_POLICY_ERROR_INVALID_CONFIG, /* bad value, bad type, out of range */
  MN_POLICY_ERROR_UNKNOWN_KEY,    /* key or group not in the table */
  MN_POLICY_ERROR_PARSE,          /* not a key file at all */
  MN_POLICY_ERROR_INCONSISTENT,   /* keys valid alone, not together */
  MN_POLICY_ERROR_INVALID_ARGUMENT,
} MnPolicyError;

typedef enum {
  MN_GPU_MODE_SHARED,
  MN_GPU_MODE_CAPPED,
  MN_GPU_MODE_EXCLUSIVE,
} MnGpuMode;

typedef enum {
  MN_IF_BUSY_WAIT,
  MN_IF_BUSY_GIVE_UP,
} MnIfBusy;

/* ---- Configuration (interactive.conf) ---------------------------------- */

typedef struct {
  gchar    *queue_name;           /* [queue] name            "interactive.q" */
  guint     nodes;                /* [queue] nodes           4 */
  gint64    max_walltime;         /* [queue] max_walltime    24h (s) */
  guint     max_jobs_per_user;    /* [queue] max_jobs_per_user 1 */
  gint64    idle_timeout;         /* [queue] idle_timeout    0 = off (s) */
  MnIfBusy  if_busy;              /* [queue] if_busy         wait */

  guint     node_cores;           /* [node] cores            28 */
  guint     node_gpus;            /* [node] gpus             4 */
  guint64   gpu_memory_mb;        /* [node] gpu_memory       16G (per GPU) */
  guint64   node_memory_mb;       /* [node] memory           256G */
  guint64   node_swap_mb;         /* [node] swap             1536G */

  guint     logical_per_node;     /* [logical_node] per_node 4 */
  guint     logical_cores;        /* [logical_node] cores    7 */
  guint     logical_gpus;         /* [logical_node] gpus     1 */
  guint64   logical_memory_mb;    /* [logical_node] memory   64G (share) */
  guint     max_jobs_per_logical; /* [logical_node] max_jobs 7 */

  guint     job_max_cores;        /* [job] max_cores         7 */
  guint64   job_max_memory_mb;    /* [job] max_memory        60G */
  guint     job_max_gpus;         /* [job] max_gpus          1 */
  guint64   job_max_gpu_memory_mb;/* [job] max_gpu_memory    16G */
  MnGpuMode gpu_mode;             /* [job] gpu_mode          shared */
} MnPolicyConfig;

/* TSUBAME3 interactive.q defaults. */
MnPolicyConfig *mn_policy_config_new_default (void);
MnPolicyConfig *mn_policy_config_copy (const MnPolicyConfig *config);
void            mn_policy_config_free (MnPolicyConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnPolicyConfig, mn_policy_config_free)

/* Parse interactive.conf text.  @filename is used only in messages.  Keys not
 * present keep their defaults.  Errors read
 *   "FILE:LINE: [group] key: value 'X' out of range (allowed 1..64 nodes)"
 *   "FILE:LINE: unknown key 'nodez' in [queue] (did you mean 'nodes'?)"  */
MnPolicyConfig *mn_policy_config_load_data (const gchar *data,
                                            gsize        length,
                                            const gchar *filename,
                                            GError     **error);

/* Cross-key validation (already done by load_data). */
gboolean mn_policy_config_validate (const MnPolicyConfig *config,
                                    GError              **error);

/* A complete interactive.conf, each key preceded by its help as comments;
 * load_data (to_data (c)) equals c. */
gchar *mn_policy_config_to_data (const MnPolicyConfig *config);

/* `--help`-style documentation of every key, from the same table. */
gchar *mn_policy_config_describe_keys (void);

/* Set one key from text ("60G", "24h", "shared"), as a sweep or a command
 * line does; same validation as the file for that key alone.  Cross-key
 * checks are left to mn_policy_config_validate(), to be called after the last
 * set (a sweep may pass through inconsistent states key by key). */
gboolean mn_policy_config_set (MnPolicyConfig *config,
                               const gchar    *group,
                               const gchar    *key,
                               const gchar    *value,
                               GError        **error);

/* One key's value as canonical text ("60G", "24h"); NULL if no such key. */
gchar *mn_policy_config_get (const MnPolicyConfig *config,
                             const gchar          *group,
                             const gchar          *key);

/* Every key equal. */
gboolean mn_policy_config_equal (const MnPolicyConfig *a,
                                 const MnPolicyConfig *b);

/* Scheduler exports: text snippets with comments for what the scheduler
 * cannot express. */
gchar *mn_policy_export_slurm (const MnPolicyConfig *config);
gchar *mn_policy_export_sge (const MnPolicyConfig *config);

/* ---- Requests and decisions --------------------------------------------- */

/* Defaults applied to a request: cores 0 = 1 core; memory_mb 0 = the per-job
 * memory cap (a job that states nothing is limited, and charged, like
 * h_vmem = the cap); walltime 0 = the queue's maximum.  gpus and
 * gpu_memory_mb are taken as given (0 = none reserved). */
typedef struct {
  guint64   job_id;          /* unique among live requests */
  const gchar *user;         /* copied by the state */
  guint     cores;
  guint64   memory_mb;
  guint     gpus;
  guint64   gpu_memory_mb;
  gint64    walltime;        /* seconds; 0 = the queue's maximum */
  MnIfBusy  if_busy;
} MnPolicyRequest;

typedef enum {
  MN_DECISION_START,
  MN_DECISION_WAIT,
  MN_DECISION_REJECT,
} MnDecisionKind;

typedef enum {
  MN_REJECT_NONE = 0,
  MN_REJECT_PER_USER_LIMIT,
  MN_REJECT_OVER_CORES_CAP,
  MN_REJECT_OVER_MEMORY_CAP,
  MN_REJECT_OVER_GPUS_CAP,
  MN_REJECT_OVER_GPU_MEMORY_CAP,
  MN_REJECT_WALLTIME_TOO_LONG,
  MN_REJECT_BUSY_GIVE_UP,
  MN_REJECT_MALFORMED,
} MnRejectReason;

typedef struct {
  MnDecisionKind kind;
  guint64        job_id;
  /* START */
  guint          node;       /* 0 .. nodes-1 */
  guint          logical;    /* 0 .. logical_per_node-1 */
  /* WAIT: 1-based position in the FIFO */
  guint          position;
  /* REJECT */
  MnRejectReason reason;
  gchar         *message;    /* human text, for users; NULL unless REJECT */
} MnDecision;

void mn_decision_clear (MnDecision *decision);

const gchar *mn_reject_reason_to_string (MnRejectReason reason); /* "per-user-limit" */
const gchar *mn_decision_kind_to_string (MnDecisionKind kind);   /* "start" */

/* ---- State -------------------------------------------------------------- */

typedef struct _MnPolicyState MnPolicyState;

/* The state keeps its own copy of @config. */
MnPolicyState *mn_policy_state_new (const MnPolicyConfig *config);
void           mn_policy_state_free (MnPolicyState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnPolicyState, mn_policy_state_free)

const MnPolicyConfig *mn_policy_state_get_config (MnPolicyState *state);

/* Decide on a new request at @now.  On START the job holds its slot until
 * mn_policy_state_release(); on WAIT it is queued.  Always fills @decision. */
void mn_policy_state_request (MnPolicyState         *state,
                              const MnPolicyRequest *request,
                              gint64                 now,
                              MnDecision            *decision);

/* A running job ended (or a waiting one was cancelled).  Waiting requests
 * that can now start are started, in FIFO order; their START decisions are
 * appended to @started (an array of MnDecision, may be NULL).  Returns FALSE
 * if @job_id is not known. */
gboolean mn_policy_state_release (MnPolicyState *state,
                                  guint64        job_id,
                                  gint64         now,
                                  GArray        *started);

/* Put back a job already running at (node, logical), e.g. after a controller
 * restart; no limits are checked beyond bounds.  FALSE if out of bounds or the
 * job id is in use. */
gboolean mn_policy_state_adopt (MnPolicyState         *state,
                                const MnPolicyRequest *request,
                                guint                  node,
                                guint                  logical,
                                gint64                 start_time,
                                GError               **error);

/* Estimated start of @job_id (waiting) or of a new request (job_id = 0 with
 * @request), from the walltimes of running jobs: running jobs are assumed to
 * end at start + walltime and the FIFO ahead is replayed.  Returns @now if it
 * would start now, G_MAXINT64 if it can never start (over a cap). */
gint64 mn_policy_state_estimate_start (MnPolicyState         *state,
                                       guint64                job_id,
                                       const MnPolicyRequest *request,
                                       gint64                 now);

/* Read-only views for reports, the portal and tests. */
typedef struct {
  guint   node;
  guint   logical;
  guint   jobs;              /* jobs placed here */
  guint   gpus_reserved;     /* EXCLUSIVE mode */
  guint64 gpu_memory_reserved_mb; /* CAPPED mode */
} MnLogicalNodeInfo;

typedef struct {
  guint   node;
  guint64 memory_committed_mb;
  guint   jobs;
} MnNodeInfo;

guint mn_policy_state_n_running (MnPolicyState *state);
guint mn_policy_state_n_waiting (MnPolicyState *state);
guint mn_policy_state_user_jobs (MnPolicyState *state, const gchar *user); /* running + waiting */
void  mn_policy_state_logical_info (MnPolicyState *state, guint node, guint logical,
                                    MnLogicalNodeInfo *info);
void  mn_policy_state_node_info (MnPolicyState *state, guint node, MnNodeInfo *info);
/* 1-based place of a waiting job in the FIFO; 0 if not waiting. */
guint mn_policy_state_position (MnPolicyState *state, guint64 job_id);
/* Where a running job is; FALSE if not running. */
gboolean mn_policy_state_lookup (MnPolicyState *state, guint64 job_id,
                                 guint *node, guint *logical);

G_END_DECLS
