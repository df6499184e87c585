/* mn-policy.h: the one place where interactive.q admission and placement are
 * decided, and the one written model of what an admitted job gets.  Pure:
 * GLib only, no file or network I/O (callers hand in text and observations),
 * no clock (callers pass `now`), no globals.  Used unchanged by the simulator
 * (sim/), the controller and its backends (daemons/controller/) and the
 * scheduler exports (`minna-policy export`).
 *
 * Units everywhere in this API: memory in MiB (guint64), time in seconds
 * (gint64, an absolute time is whatever epoch the caller uses, consistently).
 *
 * Placement rule (deterministic, what mn_policy_state_request() does when a
 * request may start):
 *   1. candidates are logical nodes with fewer than max_jobs_per_logical jobs,
 *      enough unreserved cores/GPUs for the request under the GPU mode (see
 *      below), and whose node has enough uncommitted memory for the job's
 *      memory limit within RAM + swap;
 *   2. among them pick the logical node with the fewest jobs,
 *   3. then the one whose node has the most uncommitted memory (RAM + swap
 *      minus the memory committed to its jobs),
 *   4. then the lowest node index, then the lowest logical index.
 * With [queue] placement = slurm, step 3 is left out: the order Slurm 22.05
 * gave a burst of jobs that name no socket in the exported partition
 * (CR_Socket, OverSubscribe=FORCE:max_jobs): a "row" at a time over every
 * socket, nodes and sockets in index order (measured: 12 one-core jobs on 2
 * nodes x 2 sockets went to node 1 socket 0, node 1 socket 1, node 2 socket
 * 0, node 2 socket 1, then again).  Slurm does not keep to it as jobs come
 * and go (the twin measured 10-17 of 42 sessions on another socket, not the
 * same ones from run to run), so minna does not leave the choice to Slurm:
 * the Slurm backend submits the node and logical node the rule chose
 * (mn_policy_submit_args_slurm: --nodelist and the logical node's "lnode"
 * GRES, bound to its socket's cores, with --gres-flags=enforce-binding), and
 * Slurm allocates exactly that socket, whichever rule is configured.
 * Only nodes the backend reports available take new jobs (NODE
 * AVAILABILITY, below).
 * Waiting: requests that may not start now (and want to wait) join one FIFO.
 * On every release the FIFO is scanned in order and each request that can
 * start (placement finds room and the user is under the per-user limit)
 * starts; a request blocked only by its user's limit keeps its place.  The
 * per-user limit counts running AND waiting requests: a user already holding
 * max_jobs_per_user (running or waiting) is refused at request time.  Jobs
 * that end at the same moment are released in the order they started (then
 * by job id): which waiting request lands on which freed logical node depends
 * on it, so the simulator and the controller both keep that order.
 *
 * ==== THE MODEL: what a started job gets (MnPolicyAllocation) ============
 *
 * Every START decision carries an MnPolicyAllocation; nothing else decides
 * it.  The simulator applies it, the local backend enforces it, the Slurm and
 * Grid Engine submit arguments (mn_policy_submit_args_*) and exports express
 * it.  With L = the job's memory limit, S = its swap allowance:
 *
 * Memory.  L = the job's memory request, 0 meaning the per-job cap
 *   [job] max_memory (a request above the cap is refused).  L bounds the
 *   job's whole footprint, RAM + swap together (Grid Engine's h_vmem sense):
 *   memory_max_mb = L (RAM), swap_max_mb = S = min (L, [job] max_swap),
 *   memory_swap_max_mb = L (RAM + swap).  A job whose footprint would pass L
 *   is killed by its cap: MN_END_MEMORY_CAP, whatever the node has free.
 * Node RAM + swap.  Admission commits L on the job's node; the sum of the
 *   commitments on a node stays within [node] memory + [node] swap (the
 *   TSUBAME over-commit).  Actual use is shared: when the jobs of a node use
 *   more than its RAM, the overflow is in swap, at most [node] swap and at
 *   most the sum over its jobs of min (use, S).  Past RAM + that swap the
 *   node's OOM killer ends the job using the most memory (ties: the lowest
 *   job id), again until the rest fits: MN_END_NODE_OOM, counted apart from
 *   cap kills.
 * CPU.  Logical node l of a node owns that node's cores
 *   l * [logical_node] cores .. (l + 1) * [logical_node] cores - 1
 *   (cpu_first, n_cpus: the cpuset); a job runs on all of them and may use at
 *   most its requested cores' worth of CPU time (cpu.max = cores x 100000 us
 *   per 100000 us).  The jobs of a logical node share its cores: while they
 *   want more than it has, each runs proportionally slower.
 * GPU.  Logical node l owns its node's physical GPUs
 *   l * [logical_node] gpus .. (l + 1) * [logical_node] gpus - 1.
 *   A job asking for g GPUs gets g of them (gpu_mask: bit i = physical GPU i
 *   of the node, i.e. CUDA_VISIBLE_DEVICES):
 *   - SHARED:    the first g GPUs of its logical node, the same ones as every
 *                other job there; GPU memory first come, first served
 *                (gpu_memory_mb = the GPUs' whole memory, nothing reserved).
 *                An allocation that does not fit what the others hold fails.
 *   - CAPPED:    the same GPUs; the job reserves its GPU-memory request (0
 *                meaning [job] max_gpu_memory; at most g x [node] gpu_memory)
 *                out of the logical node's GPU memory and may use that much
 *                (gpu_memory_mb); more fails.
 *   - EXCLUSIVE: the lowest-numbered g GPUs of its logical node that no other
 *                job holds, whole (gpu_memory_mb = g x [node] gpu_memory).
 *   A job using more GPU memory than gpu_memory_mb gets an allocation failure
 *   (counted; the job goes on).
 * Walltime.  Counted from the job's start: walltime_end = start + walltime,
 *   walltime = its request, 0 meaning [queue] max_walltime: MN_END_WALLTIME.
 * Idle.  Kernel inactivity, not network traffic: mn_policy_idle_decide().  A
 *   session is active while any of its kernels is busy (Jupyter's
 *   /api/kernels execution_state "busy" or "starting"); otherwise it is idle
 *   since the latest of its start and its kernels' last_activity.  The
 *   relay's traffic is only a second signal, used when the kernels could not
 *   be asked (an app without kernels, Jupyter not answering).  Idle for
 *   [queue] idle_timeout: MN_END_IDLE.  In the simulator a session's kernel
 *   is busy while its CPU is active (the trace's cpu_active share, from its
 *   start) and idle after.
 * OVER-SUBSCRIPTION ([oversubscribe], issue 19).  With design =
 *   oversubscribe there is no interactive.q: an interactive request starts
 *   on a batch node (one of all.q's) that qualifies: it holds fewer than
 *   max_extra_jobs_per_node interactive jobs, and its memory headroom
 *   covers the job's L:  [node] memory - the memory the batch jobs there
 *   hold (their requests) - the L of the interactive jobs already there
 *   >= L.  Among qualifying nodes: the fewest interactive jobs, then the
 *   most headroom, then the lowest index (mn_policy_oversub_place).  When
 *   none qualifies the request waits (FIFO, started when a node qualifies)
 *   or gives up, as if_busy says.  With design = hybrid, interactive.q
 *   ([queue] nodes) is tried first and over-subscription only when it has
 *   no room.  What the job gets is the same allocation (memory limit L,
 *   swap S, walltime, idle cut; cores = its request), on the batch node.
 *   CPU: while an interactive job is active it takes cpu_share of its
 *   node's CPU time from the batch jobs there: with k active interactive
 *   jobs on a node its batch jobs run at rate r = 1 - k x cpu_share
 *   (mn_policy_oversub_batch_rate; a batch job over several nodes runs at
 *   the slowest of their rates).  A batch job with remaining work W (seconds
 *   of its run alone) running at rate r ends W / r after now, rounded up to
 *   a second (mn_policy_oversub_end); when the interactive job leaves, the
 *   rate returns to 1.  Its time limit moves by the same stretch (the site
 *   extends it; a scheduler that kills at the old limit would lose the job),
 *   so the batch scheduler's expected ends move too.
 * Backends.  What each backend can and cannot express of all this:
 *   mn_policy_backend_support() and `minna-policy keys` (the table).
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

/* The interactive service's design (issue 19), [oversubscribe] design. */
typedef enum {
  MN_DESIGN_DEDICATED,     /* interactive.q: [queue] nodes carved out of the machine */
  MN_DESIGN_OVERSUBSCRIBE, /* interactive jobs start on batch nodes, sharing their cores */
  MN_DESIGN_HYBRID,        /* interactive.q first, over-subscription when it is full */
} MnDesign;

typedef enum {
  MN_PLACEMENT_SPREAD,   /* steps 1-4 of the placement rule below */
  MN_PLACEMENT_SLURM,    /* steps 1, 2 and 4: Slurm's order (no memory step) */
} MnPlacement;

/* ---- Configuration (interactive.conf) ---------------------------------- */

typedef struct {
  gchar    *queue_name;           /* [queue] name            "interactive.q" */
  guint     nodes;                /* [queue] nodes           4 */
  gint64    max_walltime;         /* [queue] max_walltime    24h (s) */
  guint     max_jobs_per_user;    /* [queue] max_jobs_per_user 1 */
  gint64    idle_timeout;         /* [queue] idle_timeout    0 = off (s) */
  MnIfBusy  if_busy;              /* [queue] if_busy         wait */
  MnPlacement placement;          /* [queue] placement       spread */

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
  guint64   job_max_swap_mb;      /* [job] max_swap          60G */
  gint64    job_extend_step;      /* [job] extend_step       1h (s; 0 = no Extend) */
  gint64    job_extend_max;       /* [job] extend_max        0 = [queue] max_walltime (s) */

  /* Issue 19: over-subscribing batch nodes (see OVER-SUBSCRIPTION below) */
  MnDesign  design;               /* [oversubscribe] design  dedicated */
  guint     max_extra_jobs;       /* [oversubscribe] max_extra_jobs_per_node 2 */
  gdouble   cpu_share;            /* [oversubscribe] cpu_share 0.25 */
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

/* The value grammar of interactive.conf, for other files that use the same
 * sizes and durations (twin scenarios): a size "512M", "1.5G", "2T" (no
 * suffix: MiB) in MiB; a duration "90s", "10m", "2h", "1d", "01:30:00" (no
 * suffix: seconds) in seconds.  FALSE if @text is not one. */
gboolean mn_policy_parse_size (const gchar *text, guint64 *mib);
gboolean mn_policy_parse_duration (const gchar *text, gint64 *seconds);

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
 * h_vmem = the cap); walltime 0 = the queue's maximum; gpu_memory_mb 0 with
 * gpus > 0 = the per-job GPU-memory cap (what CAPPED mode reserves for it). */
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

/* Why a request could not start at once (WAIT, and REJECT busy-give-up):
 * UNAVAILABLE when an unavailable node could take it, else the first of
 * these, in this order, that no logical node of an available node passes. */
typedef enum {
  MN_WAIT_NONE = 0,
  MN_WAIT_SLOTS,       /* every logical node holds max_jobs jobs */
  MN_WAIT_MEMORY,      /* no node with a free slot has L uncommitted (RAM + swap) */
  MN_WAIT_GPUS,        /* EXCLUSIVE: no free slot with g unreserved GPUs there */
  MN_WAIT_GPU_MEMORY,  /* CAPPED: no free slot with the GPU memory unreserved */
  MN_WAIT_UNAVAILABLE, /* it would fit on a node that is unavailable (drained, down):
                        * checked first, before the others */
} MnWaitReason;

/* How a session ended; the simulator's statuses and the controller's stored
 * sessions use these codes (their strings are stable: they are stored). */
typedef enum {
  MN_END_NONE = 0,     /* not ended */
  MN_END_EXITED,       /* the app ended by itself (the trace's runtime) */
  MN_END_USER,         /* its user stopped it */
  MN_END_WALLTIME,     /* walltime_end reached */
  MN_END_IDLE,         /* idle for [queue] idle_timeout (mn_policy_idle_decide) */
  MN_END_MEMORY_CAP,   /* its footprint passed its memory limit L */
  MN_END_NODE_OOM,     /* its node ran out of RAM + swap, it used the most */
  MN_END_FAILED,       /* the job failed (could not start, exited in error) */
  MN_END_ADMIN,        /* stopped by the service (admin, shutdown) */
  MN_END_CANCELLED,    /* withdrawn while waiting, never started */
} MnEndReason;

#define MN_POLICY_MAX_GPUS 64 /* [node] gpus bound: gpu_mask is a guint64 */

/* What a started job gets: see THE MODEL above.  Plain data (no pointers),
 * so it can be copied, stored and compared. */
typedef struct {
  guint64   job_id;
  guint     node;            /* 0 .. nodes-1 */
  guint     logical;         /* 0 .. logical_per_node-1 */
  /* CPU: the logical node's cores on its node, and the job's quota */
  guint     cores;           /* cores the job may use at once (its request) */
  guint     cpu_first;       /* first core of its logical node (node-relative) */
  guint     n_cpus;          /* [logical_node] cores */
  guint64   cpu_quota_us;    /* cpu.max quota: cores x cpu_period_us */
  guint64   cpu_period_us;   /* cpu.max period: 100000 */
  /* Memory */
  guint64   memory_max_mb;       /* L: RAM limit */
  guint64   swap_max_mb;         /* S = min (L, [job] max_swap) */
  guint64   memory_swap_max_mb;  /* L: RAM + swap limit; past it MN_END_MEMORY_CAP */
  /* GPU */
  MnGpuMode gpu_mode;
  guint     gpus;            /* GPUs asked for and given */
  guint64   gpu_mask;        /* bit i: physical GPU i of the node */
  guint64   gpu_memory_mb;   /* GPU memory it may use (all its GPUs together) */
  guint64   gpu_memory_reserved_mb; /* CAPPED: what it reserved; else 0 */
  /* Time */
  gint64    start;
  gint64    walltime;        /* effective: request, else [queue] max_walltime */
  gint64    walltime_end;    /* start + walltime */
} MnPolicyAllocation;

typedef struct {
  MnDecisionKind kind;
  guint64        job_id;
  /* START */
  guint          node;       /* 0 .. nodes-1 (= allocation.node) */
  guint          logical;    /* 0 .. logical_per_node-1 (= allocation.logical) */
  MnPolicyAllocation allocation;
  /* WAIT: 1-based position in the FIFO */
  guint          position;
  /* WAIT, and REJECT busy-give-up: what was missing */
  MnWaitReason   wait_reason;
  /* REJECT */
  MnRejectReason reason;
  gchar         *message;    /* human text, for users; NULL unless REJECT */
} MnDecision;

void mn_decision_clear (MnDecision *decision);

const gchar *mn_reject_reason_to_string (MnRejectReason reason); /* "per-user-limit" */
const gchar *mn_decision_kind_to_string (MnDecisionKind kind);   /* "start" */
const gchar *mn_wait_reason_to_string (MnWaitReason reason);     /* "slots" */
const gchar *mn_end_reason_to_string (MnEndReason reason);       /* "memory-cap" */
/* Parse back what the *_to_string functions give; FALSE if unknown. */
gboolean     mn_reject_reason_from_string (const gchar *text, MnRejectReason *out);
gboolean     mn_wait_reason_from_string (const gchar *text, MnWaitReason *out);
gboolean     mn_end_reason_from_string (const gchar *text, MnEndReason *out);
const gchar *mn_gpu_mode_to_string (MnGpuMode mode);             /* "capped" */

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

/* Like adopt, but with the GPUs the job held before (@allocation's node,
 * logical and gpu_mask, as stored from its START); its other fields are
 * recomputed from @request and @start_time.  FALSE if out of bounds, the job
 * id is in use, or (EXCLUSIVE) one of its GPUs is already held. */
gboolean mn_policy_state_adopt_allocation (MnPolicyState            *state,
                                           const MnPolicyRequest    *request,
                                           const MnPolicyAllocation *allocation,
                                           gint64                    start_time,
                                           GError                  **error);

/* A job's walltime changed by Extend (estimates count from it); FALSE if
 * the state has no such job. */
gboolean mn_policy_state_set_walltime (MnPolicyState *state, guint64 job_id, gint64 walltime);

/* Extend, pure: a running job's walltime (s from its start) grown by
 * [job] extend_step, up to mn_policy_extend_limit() (the last step may be
 * shorter).  FALSE, with @why in words for its user, when Extend is off or
 * the job is already at the limit. */
gboolean mn_policy_extend (const MnPolicyConfig *config, gint64 walltime,
                           gint64 *new_walltime, gchar **why);
/* [job] extend_max, or [queue] max_walltime when that is 0. */
gint64   mn_policy_extend_limit (const MnPolicyConfig *config);

/* The allocation of a running job (what its START said); FALSE if it is not
 * running. */
gboolean mn_policy_state_allocation (MnPolicyState      *state,
                                     guint64             job_id,
                                     MnPolicyAllocation *allocation);

/* NODE AVAILABILITY.  Whether policy node @node takes new jobs, as the
 * backend observes it (a Slurm node drained, down, failing, in maintenance,
 * not responding: mn-backend-slurm-nodes.c says which states count).  Every
 * node is available in a new state.  An unavailable node gets no new
 * placement: requests that only it could take wait (MN_WAIT_UNAVAILABLE;
 * with give_up they are refused), estimates do not count on it, and a job
 * released there starts no one.  Jobs running there are left as they are:
 * the backend reports what becomes of them.  When the node is available
 * again, the waiting requests that now fit start, in FIFO order, exactly as
 * after a release: their START decisions are appended to @started (an
 * array of MnDecision, may be NULL).  Returns TRUE if the node's
 * availability changed, FALSE if not or @node is out of range. */
gboolean mn_policy_state_set_node_available (MnPolicyState *state,
                                             guint          node,
                                             gboolean       available,
                                             gint64         now,
                                             GArray        *started);
/* FALSE for an unavailable node, or one out of range. */
gboolean mn_policy_state_node_available (MnPolicyState *state, guint node);

/* Estimated start of @job_id (waiting) or of a new request (job_id = 0 with
 * @request), from the walltimes of running jobs: running jobs are assumed to
 * end at start + walltime and the FIFO ahead is replayed, on the available
 * nodes only (an unavailable node is taken to stay so).  Returns @now if it
 * would start now, G_MAXINT64 if it can never start (over a cap, or only an
 * unavailable node could take it). */
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
  guint    node;
  guint64  memory_committed_mb;
  guint    jobs;
  gboolean available;        /* mn_policy_state_set_node_available */
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

/* ---- The model, applied ------------------------------------------------- */

/* The allocation a job of @request's shape would get at (node, logical) at
 * @start with the GPUs of @gpu_mask (0: the lowest-numbered that the mode
 * gives; the state picks free ones in EXCLUSIVE mode).  Applies the request
 * defaults.  What mn_policy_state_request() puts in a START decision. */
void mn_policy_allocation_compute (const MnPolicyConfig    *config,
                                   const MnPolicyRequest   *request,
                                   guint                    node,
                                   guint                    logical,
                                   guint64                  gpu_mask,
                                   gint64                   start,
                                   MnPolicyAllocation      *allocation);

/* The GPU memory a request reserves (CAPPED) / is charged with: its
 * gpu_memory_mb, 0 meaning [job] max_gpu_memory, at most its GPUs' memory;
 * as given (normally 0) without GPUs.  Caps are checked on the request as
 * given. */
guint64 mn_policy_gpu_memory_request (const MnPolicyConfig  *config,
                                      const MnPolicyRequest *request);

/* The cpuset of the allocation, node-relative ("7-13", "3"), and its GPUs as
 * CUDA_VISIBLE_DEVICES wants them ("1", "0,1"; "" when none). */
gchar *mn_policy_allocation_cpu_list (const MnPolicyAllocation *allocation);
gchar *mn_policy_allocation_gpu_list (const MnPolicyAllocation *allocation);

/* The memory verdict for one job: MN_END_MEMORY_CAP when @footprint_mb (RAM +
 * swap in use) passes its limit, else MN_END_NONE. */
MnEndReason mn_policy_memory_verdict (const MnPolicyAllocation *allocation,
                                      guint64                   footprint_mb);

/* The swap a node's jobs may use together: min ([node] swap, sum over them of
 * min (use, S)); the node's OOM killer acts when the jobs' total use passes
 * [node] memory + this.  @use_mb and @swap_max_mb: @n_jobs values each. */
guint64 mn_policy_node_swap_room (const MnPolicyConfig *config,
                                  const guint64        *use_mb,
                                  const guint64        *swap_max_mb,
                                  guint                 n_jobs);

/* ---- Over-subscription (issue 19, OVER-SUBSCRIPTION above) ---------------- */

/* The per-job caps a request passes or not, as mn_policy_state_request()
 * checks them first (request defaults applied): MN_REJECT_NONE, or the cap
 * with a message for the user in @message (may be NULL; free it).  The
 * over-subscribing path admits with it too. */
MnRejectReason mn_policy_request_check_caps (const MnPolicyConfig  *config,
                                             const MnPolicyRequest *request,
                                             gchar                **message);

const gchar *mn_policy_design_to_string (MnDesign design);   /* "hybrid" */

/* One batch node as the over-subscription rule sees it. */
typedef struct {
  guint64 batch_memory_mb;   /* memory the batch jobs there hold (their requests) */
  guint64 extra_memory_mb;   /* sum of L of the interactive jobs already there */
  guint   extra_jobs;        /* interactive jobs already there */
} MnOversubNode;

/* [node] memory - batch - extra (0 when over). */
guint64  mn_policy_oversub_headroom (const MnPolicyConfig *config, const MnOversubNode *node);
/* May an interactive job of limit @memory_limit_mb (its L) start on @node?
 * When not, @why (may be NULL) gets MN_WAIT_SLOTS (max_extra_jobs_per_node
 * reached) or MN_WAIT_MEMORY (headroom below L). */
gboolean mn_policy_oversub_qualifies (const MnPolicyConfig *config, const MnOversubNode *node,
                                      guint64 memory_limit_mb, MnWaitReason *why);
/* The node it starts on: the qualifying one with the fewest interactive
 * jobs, then the most headroom, then the lowest index; -1 if none (then
 * @why gets the reason of the node that came closest: MN_WAIT_MEMORY when
 * some node had a free place, else MN_WAIT_SLOTS). */
gint     mn_policy_oversub_place (const MnPolicyConfig *config, const MnOversubNode *nodes,
                                  guint n_nodes, guint64 memory_limit_mb, MnWaitReason *why);
/* The rate of a node's batch jobs with @active_extra_jobs active
 * interactive jobs there: 1 - active x cpu_share (never below 0.05). */
gdouble  mn_policy_oversub_batch_rate (const MnPolicyConfig *config, guint active_extra_jobs);
/* The end of a batch job with @remaining_work seconds of work at @rate from
 * @now: now + ceil (W / r) (a hair under a whole second is that second). */
gint64   mn_policy_oversub_end (gint64 now, gdouble remaining_work, gdouble rate);
/* Work left after running from @from to @to at @rate (never below 0). */
gdouble  mn_policy_oversub_work_left (gdouble work, gint64 from, gint64 to, gdouble rate);

/* ---- Idle: kernel inactivity ------------------------------------------------ */

/* What the controller observed of one running session at @now.  Fill what
 * was asked; leave the rest 0/FALSE. */
typedef struct {
  gint64   start;                 /* when the session started */
  /* Jupyter's GET /api/kernels answered (an empty list counts) */
  gboolean kernels_known;
  guint    n_kernels;
  gboolean kernel_busy;           /* some execution_state is "busy" or "starting" */
  gint64   kernel_last_activity;  /* latest last_activity over its kernels; 0: none */
  /* The relay's route for the session was listed */
  gboolean traffic_known;
  gint64   traffic_last_activity; /* last request or frame through it; 0: none */
} MnIdleObservation;

typedef enum {
  MN_IDLE_OFF,       /* [queue] idle_timeout = 0 */
  MN_IDLE_ACTIVE,    /* in use, or idle for less than the warning point */
  MN_IDLE_WARN,      /* idle; will be cut at cut_at unless used */
  MN_IDLE_CUT,       /* idle for idle_timeout or more: end it (MN_END_IDLE) */
  MN_IDLE_UNKNOWN,   /* neither kernels nor traffic known: nothing to decide */
} MnIdleVerdictKind;

typedef enum {
  MN_IDLE_SIGNAL_NONE,
  MN_IDLE_SIGNAL_KERNELS,  /* decided on the kernels (the definition) */
  MN_IDLE_SIGNAL_TRAFFIC,  /* kernels unknown: decided on the relay's traffic */
} MnIdleSignal;

typedef struct {
  MnIdleVerdictKind kind;
  MnIdleSignal      signal;
  gint64            idle_since;  /* ACTIVE/WARN/CUT: start of the idle period (now when busy) */
  gint64            idle_for;    /* now - idle_since */
  gint64            cut_at;      /* idle_since + idle_timeout (0 when OFF/UNKNOWN) */
} MnIdleVerdict;

/* The warning point: a session idle for idle_timeout - this is warned. */
gint64 mn_policy_idle_warning (const MnPolicyConfig *config);
void   mn_policy_idle_decide (const MnPolicyConfig      *config,
                              const MnIdleObservation   *observation,
                              gint64                     now,
                              MnIdleVerdict             *verdict);
const gchar *mn_idle_verdict_to_string (MnIdleVerdictKind kind);  /* "cut" */

/* ---- Backends: what each can express --------------------------------------- */

typedef enum {
  MN_BACKEND_LOCAL_CGROUP_V2,
  MN_BACKEND_LOCAL_CGROUP_V1,
  MN_BACKEND_SLURM,
  MN_BACKEND_SGE,
  MN_BACKEND_N,
} MnPolicyBackend;

typedef enum {
  MN_ASPECT_MEMORY_LIMIT,     /* L, and the cap kill past it */
  MN_ASPECT_SWAP,             /* S, and RAM + swap = L */
  MN_ASPECT_NODE_OVERCOMMIT,  /* admission within node RAM + swap */
  MN_ASPECT_PLACEMENT,        /* minna's node / logical node */
  MN_ASPECT_CPUSET,           /* the logical node's cores */
  MN_ASPECT_CPU_QUOTA,        /* cores x period */
  MN_ASPECT_GPU_DEVICES,      /* gpu_mask / CUDA_VISIBLE_DEVICES */
  MN_ASPECT_GPU_MEMORY,       /* gpu_memory_mb per mode */
  MN_ASPECT_WALLTIME,         /* walltime_end from start */
  MN_ASPECT_IDLE,             /* idle_timeout on kernel inactivity */
  MN_ASPECT_USER_LIMIT,       /* max_jobs_per_user, running + waiting */
  MN_ASPECT_GIVE_UP,          /* if_busy = give_up: start now or never */
  MN_ASPECT_NODE_AVAILABILITY, /* no new job on a drained / down node */
  MN_ASPECT_N,
} MnPolicyAspect;

typedef enum {
  MN_SUPPORT_EXACT,        /* the backend enforces it as the model says */
  MN_SUPPORT_APPROXIMATE,  /* enforced, with a difference the text names */
  MN_SUPPORT_CONTROLLER,   /* the scheduler cannot; minna's controller does */
  MN_SUPPORT_NONE,         /* nothing enforces it on this backend */
} MnSupportLevel;

typedef struct {
  MnSupportLevel level;
  const gchar   *how;      /* one line: the setting, or what differs */
} MnBackendSupport;

const MnBackendSupport *mn_policy_backend_support (MnPolicyBackend backend,
                                                   MnPolicyAspect  aspect);
const gchar *mn_policy_backend_to_string (MnPolicyBackend backend); /* "slurm" */
const gchar *mn_policy_aspect_to_string (MnPolicyAspect aspect);    /* "memory-limit" */
const gchar *mn_support_level_to_string (MnSupportLevel level);     /* "exact" */
/* The model and the table as text (`minna-policy keys` prints it). */
gchar *mn_policy_describe_model (void);

/* ---- Host fit: does the policy's node describe this host? ----------------- */

/* What the local backend found on its host (0 for unknown counts). */
typedef struct {
  guint   nodes;          /* hosts the backend runs jobs on (local: 1); 0 unknown */
  guint   cores;          /* CPUs it may use (its cpuset) */
  guint64 memory_mb;      /* RAM */
  guint64 swap_mb;        /* swap */
  guint   gpus;           /* GPUs it can see */
} MnPolicyHost;

/* One line per key of [node] / [logical_node] that the host does not match,
 * naming the key, the policy's value and the host's, appended to @problems
 * (gchar*, owned).  Returns TRUE if nothing was appended.  Pure: the caller
 * measures the host. */
gboolean mn_policy_host_fit (const MnPolicyConfig *config,
                             const MnPolicyHost   *host,
                             GPtrArray            *problems);

/* ---- Scheduler submit arguments, from the same place as the exports -------- */

/* The Slurm partition / Grid Engine queue of the export ("interactive",
 * "interactive.q"). */
gchar *mn_policy_slurm_partition (const MnPolicyConfig *config);

/* Slurm GRES a job of @allocation asks for: "gpu:2", "shard:3", or NULL
 * without GPUs.  EXCLUSIVE asks whole GPUs; SHARED one shard per GPU;
 * CAPPED ceil (gpu_memory_reserved / shard size) shards, at least one per
 * GPU (shard size = [node] gpu_memory / [logical_node] max_jobs, the
 * export's shards per GPU). */
gchar *mn_policy_slurm_gres (const MnPolicyConfig *config,
                             const MnPolicyAllocation *allocation);

/* The GRES that pins a job to its logical node on Slurm: the export gives
 * every node one typed GRES per socket ("lnode:l0:MAX_JOBS,lnode:l1:..."),
 * bound in gres.conf to that socket's cores. */
#define MN_POLICY_SLURM_LNODE "lnode"
/* Where its unit files are on each node (lL-0 .. lL-(MAX_JOBS-1), empty):
 * Slurm binds a GRES to cores only when it tracks its units by file. */
#define MN_POLICY_SLURM_LNODE_DIR "/var/lib/minna/slurm-lnode"

/* The export's name of policy node @node (0-based): "interactive1", ... */
gchar *mn_policy_slurm_node_name (const MnPolicyConfig *config, guint node);

/* sbatch arguments that carry the policy: --partition, --time, --mem,
 * --cpus-per-task, the placement (--nodelist = the export's name of its node,
 * --gres = lnode:lL:1 for its logical node L, then its gpu or shard GRES,
 * --gres-flags=enforce-binding).  NULL-terminated; the backend adds its own
 * (--job-name, --output, --chdir, --uid, the script) and puts its partition's
 * name and node names in place of the export's. */
GStrv mn_policy_submit_args_slurm (const MnPolicyConfig     *config,
                                   const MnPolicyAllocation *allocation);

/* qsub arguments that carry the policy: -q QUEUE, -l h_rt=..,h_vmem=..[,gpu=g
 * | gpu_shard=n], and -now y when @give_up.  The backend puts its queue's
 * name in place of the export's, as the queue instance of the allocation's
 * node (QUEUE@HOST, HOST the export's host group's node-th host), so Grid
 * Engine runs the job on the node the policy counted it on. */
GStrv mn_policy_submit_args_sge (const MnPolicyConfig     *config,
                                 const MnPolicyAllocation *allocation,
                                 gboolean                  give_up);

G_END_DECLS
