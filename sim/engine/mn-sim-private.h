/* mn-sim-private.h: what the engine's files share; not for other components. */
#pragma once

#include <math.h>

#include "mn-sim-engine.h"
#include "mn-sim-heap.h"

G_BEGIN_DECLS

/* One job as the simulator needs it (compact: a million fit in ~100 MB). */
typedef struct {
  gint64  id;
  gint64  submit;
  gint64  runtime;         /* -1 unknown */
  gint64  walltime_req;    /* -1 unknown */
  gint64  procs;           /* requested, else allocated; -1 unknown */
  gint64  memory_req_mb;   /* -1 unknown */
  gint64  memory_used_mb;  /* -1 unknown */
  gint64  gpu_memory_mb;   /* -1 unknown */
  gint64  cpu_time;        /* -1 unknown */
  float   cpu_active;      /* -1 unknown */
  gint32  gpus;            /* -1 unknown */
  gint64  logged_start;    /* start in the logged system; -1 unknown */
  guint32 user;
  guint32 group;           /* index into workload->groups */
  guint32 rtype_count;
  guint32 profile_first;   /* into workload->profile */
  guint32 profile_len;
  guint8  rtype;           /* MnResourceType */
  guint8  interactive;
  gint8   if_busy;         /* MnIfBusy the request names; -1: the policy's */
} MnSimJob;

struct _MnSimWorkload {
  gint        ref_count;
  GArray     *jobs;        /* MnSimJob */
  GArray     *profile;     /* MnMemoryStep */
  GPtrArray  *users;       /* gchar*, index = MnSimJob.user */
  GHashTable *user_index;  /* name -> index+1 (only while adding) */
  GPtrArray  *groups;      /* gchar*, index = MnSimJob.group */
  GHashTable *group_index;
  GArray     *maintenance; /* MnTraceWindow, sorted */
  GArray     *limits;      /* MnTraceLimits, sorted by from */
  guint64     n_logged;    /* jobs with a logged start */
  MnSimTraceStats stats;   /* what reading the trace found */
  gint64      max_procs, max_nodes, utc_offset;
  guint       n_interactive;
  gboolean    any_rtype;
  GMutex      lock;        /* guards the one-time sort below */
  guint32    *order;       /* indices sorted by (submit, id, trace order) */
};

/* Sorts the jobs once (thread-safe); returns the order array. */
const guint32 *mn_sim_workload_get_order (MnSimWorkload *workload);

/* ---- all.q -------------------------------------------------------------- */

#define MN_SIM_MAX_TYPES 8

typedef struct {
  guint32 cores;
  guint32 gpus;
  guint64 memory_mb;
} MnSimShape;

/* A job as all.q sees it: count chunks of one shape. */
typedef struct {
  guint32  job;            /* index into workload->jobs */
  guint32  user, group;    /* its owners, for the caps */
  guint32  type;           /* index into MnSimBatch.types */
  guint32  count;
  guint32  n_alloc;        /* (node, chunks) pairs while running */
  guint32  alloc_size;     /* room in alloc, in pairs (kept when the slot is reused) */
  guint32 *alloc;          /* 2 * n_alloc */
  gint64   runtime;
  gint64   estimate;
  gint64   start;
} MnSimBatchJob;

typedef struct {
  guint32 *cores;
  guint32 *gpus;
  guint64 *memory_mb;
} MnSimFree;

/* A running job in the order of expected ends (mn-sim-batch-running.c). */
typedef struct {
  gint64  end;             /* start + estimate */
  guint32 bj;
} MnSimRunning;

/* A queued job as the passes scan it: what the tests in queue order need,
 * in one sequential array (the scans over long queues dominate a congested
 * replay; chasing each job's record cost three cache misses a job). */
typedef struct {
  guint32 bj;              /* batch job; G_MAXUINT32 = removed */
  guint32 count;
  guint32 type;
  guint32 user, group;
  guint32 cores;           /* count x the type's cores (saturated) */
  gint64  estimate;
} MnSimQueued;

/* Lower bounds on the (count, estimate) of a block's jobs of one shape
 * (mn-sim-batch-blocks.c, MN_SIM_QBLOCK): up to MN_SIM_FRONT points,
 * counts rising and estimates falling. */
#define MN_SIM_FRONT 3
typedef struct {
  guint32 n;
  guint32 count[MN_SIM_FRONT];
  gint64  estimate[MN_SIM_FRONT];
} MnSimFront;

/* What a backfill scan may skip (mn-sim-batch-blocks.c, MN_SIM_QBLOCK). */
typedef struct {
  guint32    live;         /* bit i: slot i of the block holds a queued job */
  guint32    types;        /* bit t: front[t] is set */
  guint32    loose;        /* bit t: a job of shape t left since front[t] was computed */
  guint32    of_type[MN_SIM_MAX_TYPES]; /* the live slots holding a job of shape t */
  MnSimFront front[MN_SIM_MAX_TYPES];
} MnSimQBlock;

/* Running counts against the caps, per user or group. */
typedef struct {
  guint32 jobs;
  guint64 cores;
} MnSimUse;

typedef struct {
  MnSimScheduler scheduler;
  /* Caps in force (0 = none; see MnSimCaps) and what runs per user/group */
  MnSimCaps   caps;
  gboolean    caps_on;
  MnSimUse   *user_use;
  MnSimUse   *group_use;
  guint       n_users, n_groups;
  GArray    **user_parked;   /* per user/group: jobs held by a jobs cap (mn-sim-batch-caps.c) */
  GArray    **group_parked;
  guint64     n_parked;
  MnSimQBlock *blocks;       /* per QBLOCK queue slots */
  gsize       n_blocks;
  /* The next (or current) maintenance window: no job may run over
   * [down_start, down_end); G_MAXINT64 when none is left. */
  gint64      down_start, down_end;
  /* Occupancy: sum over nodes of the largest of the core, GPU and memory
   * shares in use (Figure 4's measure); node_occ per node. */
  double      occupied;
  double     *node_occ;
  guint       words;       /* of a node bitmap: (n_nodes + 63) / 64 */
  guint64    *fc_bits;     /* bit n: node n has a free core now */
  guint64    *kbits;       /* per shape, bit n: k > 0 on node n now: [type * words + word] */
  guint64    *head_bits;   /* scratch: nodes that can take a chunk of the head at the shadow time */
  guint32    *tab_cores;   /* chunks of shape t that fit c free cores: [t * (node.cores + 1) + c] */
  guint32    *tab_gpus;    /* and g free GPUs (G_MAXUINT32 if it needs none); NULL: no tables */
  double     *occ_cores, *occ_gpus; /* share in use with c free cores, g free GPUs (or NULL) */
  guint       n_nodes;
  guint       n_types;
  MnSimShape  node;
  MnSimShape  types[MN_SIM_MAX_TYPES];
  MnSimFree   free;        /* now */
  guint32    *k;           /* chunks of each type that fit on each node now: [node * n_types + type] */
  guint64     cap[MN_SIM_MAX_TYPES]; /* sum of k over nodes */
  guint32     k_empty[MN_SIM_MAX_TYPES]; /* k of an empty node */
  /* The extra state (mn-sim-batch-shadow.c, "The extra, sparsely"): valid on the
   * nodes stamped with the current epoch, the others hold no copy. */
  MnSimFree   extra;
  guint32    *extra_stamp; /* extra[n] valid iff extra_stamp[n] == epoch */
  guint64    *hn_bits;     /* the head nodes (words) */
  gboolean    head_whole;  /* the head takes whole nodes: no core of a head node is in the extra */
  guint32    *extra_kh;    /* chunks of the head's shape that fit extra[n] (stamped nodes);
                            * a whole-node head: the node's jobs not yet released */
  guint32    *node_jobs;   /* running all.q jobs per node */
  /* The last whole-node shadow, kept while it holds (mn-sim-batch-shadow.c,
   * compute_shadow_whole). */
  gboolean    wc_valid;
  guint       wc_type;
  guint32     wc_count;
  gint64      wc_shadow;
  guint32    *wc_after;    /* per node: running jobs expected to end after wc_shadow */
  guint32    *wc_from;     /* ... at or after it (both valid where wc_stamp == wc_epoch;
                            * elsewhere every job on the node ends after it) */
  guint32    *wc_stamp;
  guint32     wc_epoch;
  gint64      wc_before;   /* nodes with no job ending at or after wc_shadow */
  gint64      wc_by;       /* nodes with no job ending after it */
  guint64    *wc_ready;    /* the nodes counted in wc_by (words) */
  guint64    *wh_bits;     /* the last whole-node head's nodes at its shadow time (words) */
  guint64     wh_sum[MN_SIM_MAX_TYPES]; /* sum of k over them, kept by node_refresh */
  guint32     epoch;
  gboolean    extra_none;  /* the head never fits: nothing fits the extra */
  guint64     extra_deficit[MN_SIM_MAX_TYPES]; /* cap minus min(now, extra)'s cap, per shape */
  guint32    *extra_k;     /* chunks of min(now, extra) on head nodes: [type * n_nodes + node] */
  gboolean    extra_valid; /* the extra follows changes of the free state */
  gboolean    extra_ready[MN_SIM_MAX_TYPES]; /* extra_deficit computed for this shape */

  GArray     *jobs;        /* MnSimBatchJob: queued and running jobs, and free slots */
  guint32    *free_slots;  /* slots of finished jobs, reused by the next ones */
  gsize       n_free_slots, free_slots_alloc;
  /* running jobs sorted by (start + estimate, index) */
  MnSimRunning *running;    /* into running_buf (running_make_room) */
  MnSimRunning *running_buf;
  gsize       n_running, running_alloc;
  /* waiting queue in (submit, id) order; G_MAXUINT32 = removed */
  MnSimQueued *queue;
  gsize       queue_len, queue_head, queue_alloc, queue_live;
  guint64     busy_cores;  /* cores in use now */
  /* What the last pass left (see mn_sim_batch_pass) */
  gboolean    changed;     /* a job ended since */
  gboolean    blocked;     /* it ended with a blocked head */
  gint64      shadow;      /* valid unless shadow_pending */
  gboolean    shadow_pending; /* computed when a job first needs it (mn_sim_batch_pass) */
  guint32     head_bj;     /* the blocked head */
  gsize       scan_from;   /* queue position of the first arrival since */
} MnSimBatch;

void     mn_sim_batch_init (MnSimBatch *batch, MnSimScheduler scheduler, guint n_nodes,
                            const MnSimShape *node, const MnSimShape *types, guint n_types);
void     mn_sim_batch_clear (MnSimBatch *batch);
/* TRUE if @count chunks of @type pack onto an empty all.q. */
gboolean mn_sim_batch_can_ever_fit (MnSimBatch *batch, guint type, guint32 count);
/* A copy of @job in a free slot; returns its index (valid until it ends:
 * mn_sim_batch_finish() frees the slot). */
guint32  mn_sim_batch_add (MnSimBatch *batch, const MnSimBatchJob *job);
void     mn_sim_batch_enqueue (MnSimBatch *batch, guint32 batch_job);
/* Calls @func with the workload index of every job still queued, in
 * arrival order; returns their count. */
guint64  mn_sim_batch_foreach_queued (MnSimBatch *batch, void (*func) (guint32 job, gpointer data),
                                      gpointer data);
/* One scheduling pass; calls @started for every job started (in order). */
typedef void (*MnSimStartFunc) (guint32 batch_job, gpointer user_data);
void     mn_sim_batch_pass (MnSimBatch *batch, gint64 now, MnSimStartFunc started,
                            gpointer user_data);
void     mn_sim_batch_finish (MnSimBatch *batch, guint32 batch_job);
/* Users/groups for the caps (arrays indexed by workload job, kept by the
 * caller), set once before the first pass. */
void     mn_sim_batch_set_owners (MnSimBatch *batch, guint n_users, guint n_groups);
/* New caps from now on; the next pass looks at every queued job again. */
void     mn_sim_batch_set_caps (MnSimBatch *batch, const MnSimCaps *caps);
void     mn_sim_batch_set_down (MnSimBatch *batch, gint64 start, gint64 end);
/* Issue 19 (mn-sim-oversub.c): a running job's expected end moved (its
 * estimate becomes @end - start); memory taken from (@take) or given back to
 * node @n by an interactive job sharing it.  Both make the next pass a full
 * one. */
void     mn_sim_batch_set_expected_end (MnSimBatch *batch, guint32 batch_job, gint64 end);
void     mn_sim_batch_reserve_memory (MnSimBatch *batch, guint n, guint64 memory_mb,
                                      gboolean take);

/* ---- one run ------------------------------------------------------------ */

/* Event kinds, in the order they are handled at one instant: completions
 * first, then arrivals; the scheduling pass follows once all are done. */
enum {
  MN_SIM_EV_BATCH_END,     /* arg: batch job */
  MN_SIM_EV_SESSION_END,   /* arg: session, tag: its generation */
  MN_SIM_EV_SESSION_IDLE,  /* a session stops using its cores */
  MN_SIM_EV_SESSION_MEM,   /* next step of a session's memory profile */
  MN_SIM_EV_ARRIVAL,       /* arg: position in the submit order */
  MN_SIM_EV_RETRY,         /* arg: session; a give-up request asked again */
  MN_SIM_EV_MACHINE,       /* caps change or a maintenance window ends */
};

typedef enum {
  MN_SIM_SESSION_NEW,
  MN_SIM_SESSION_WAITING,
  MN_SIM_SESSION_RUNNING,
  MN_SIM_SESSION_OVER,
} MnSimSessionState;

typedef struct {
  guint32 job;             /* workload index */
  guint32 node, logical;
  gint64  end;             /* planned end while running */
  gint64  active_end;      /* the session's cores go idle then */
  guint64 memory_mb;       /* use now */
  guint64 limit_mb;        /* its allocation's L (RAM + swap) */
  guint64 swap_max_mb;     /* its allocation's S */
  guint64 gpu_held_mb;     /* SHARED mode: GPU memory it holds */
  double  cpu_integral_start;
  guint32 profile_pos;     /* next memory step */
  guint32 cores;
  guint32 busy_cores;      /* cores busy while active */
  guint32 gen;             /* bumped when it ends: stale events are dropped */
  guint8  state;
  guint8  end_status;      /* MnSimJobStatus planned at start */
  guint8  active;          /* its cores are busy now */
  guint8  shared;          /* issue 19: it runs on all.q node `node`, over-subscribing it */
} MnSimSession;

typedef struct _MnSimOversub MnSimOversub;

typedef struct {
  MnSimWorkload   *w;
  MnSimConfig      config;
  MnPolicyConfig  *policy;
  MnSimHeap        heap;
  const guint32   *order;
  guint32          next_arrival;   /* position in the submit order; n when none is left */
  gint64           arrival_time;   /* when it arrives */
  gint64           now;
  guint64          events;
  MnSimJobResult  *res;            /* per workload job */
  gboolean         node_mode;
  gint64           allq_procs, allq_nodes, interactive_nodes;
  guint64          allq_cores;
  gint64           utc_offset;

  MnSimBatch       batch;
  guint64          max_user_cores, max_group_cores; /* larger jobs can never start */
  guint64          n_never;        /* all.q jobs never started (the run fails) */
  guint32          first_never;    /* the first of them, by arrival */

  /* interactive.q */
  MnPolicyState   *pstate;
  GArray          *sessions;       /* MnSimSession */
  GArray          *started;        /* MnDecision scratch */
  GArray         **node_sessions;  /* per node: guint32 sessions running there */
  guint64         *node_mem;       /* MiB in use per node */
  guint64         *node_swappable; /* per node: sum over its sessions of min (use, S) */
  guint64          memory_cap_kills;
  guint64         *swap_level;     /* MiB of swap in use per node (settled) */
  gint64          *swap_last;
  guint8          *node_dirty;
  GArray          *dirty;          /* guint32 nodes to settle */
  double           swap_node_seconds, swap_mb_seconds;
  guint64          swap_peak_mb;
  guint32         *logical_active; /* cores busy per logical node */
  double          *logical_integral;
  gint64          *logical_last;
  guint64         *logical_gpu_mb;
  guint64          n_running, peak_running;
  double           occupancy_integral;
  gint64           occupancy_last;
  guint64          oom_kills, gpu_failures, rejected_attempts;
  GArray          *cpu_slowdowns;  /* double */
  MnSimOversub    *oversub;        /* issue 19: NULL unless the design over-subscribes */

  /* all.q occupancy by local month (mn-sim-months.c) */
  GArray          *month_occupied; /* double: occupied node-seconds per month */
  GArray          *month_down;     /* double: maintenance seconds per month */
  gint64           month0;         /* months since year 0 of the first month */
  gint64           occ_last;       /* time the occupancy was last folded in */
  gint64           month_cur, month_lo, month_hi; /* the month of occ_last: [lo, hi) */
  guint            next_window, next_limits;
} MnSimRun;

/* mn-sim-inter.c */
gboolean mn_sim_inter_init (MnSimRun *run, GError **error);
void     mn_sim_inter_clear (MnSimRun *run);
void     mn_sim_inter_request (MnSimRun *run, guint32 session);
void     mn_sim_inter_event (MnSimRun *run, const MnSimEvent *ev);
void     mn_sim_inter_settle (MnSimRun *run);
void     mn_sim_inter_finish (MnSimRun *run, gint64 end);

/* Used by mn-sim-oversub.c: start a session with its dedicated START's
 * allocation; plan a started session's end (pushes its end event; returns
 * its active seconds); its memory at the start (pushes its next step). */
void     mn_sim_inter_start (MnSimRun *run, guint32 session, const MnPolicyAllocation *a);
void     mn_sim_inter_end (MnSimRun *run, guint32 session, MnSimJobStatus status);
gint64   mn_sim_inter_plan (MnSimRun *run, guint32 session, const MnPolicyAllocation *a);
guint64  mn_sim_inter_initial_memory (MnSimRun *run, guint32 session);
/* The request of session @si as interactive.q gets it (also fills the
 * session's and its result's request fields). */
void     mn_sim_inter_make_request (MnSimRun *run, guint32 session, MnPolicyRequest *req);
/* A session refused now: retried later (give-up retries) or over. */
void     mn_sim_inter_refused (MnSimRun *run, guint32 session, MnRejectReason reason);

/* mn-sim-oversub.c (issue 19) */
gboolean mn_sim_oversub_wanted (MnSimRun *run);
gboolean mn_sim_oversub_init (MnSimRun *run, GError **error);
void     mn_sim_oversub_clear (MnSimRun *run);
void     mn_sim_oversub_request (MnSimRun *run, guint32 session, const MnPolicyRequest *req);
void     mn_sim_oversub_session_end (MnSimRun *run, guint32 session);
void     mn_sim_oversub_session_idle (MnSimRun *run, guint32 session);
void     mn_sim_oversub_set_memory (MnSimRun *run, guint32 session, guint64 memory_mb);
void     mn_sim_oversub_changed (MnSimRun *run);        /* room may have appeared */
void     mn_sim_oversub_settle (MnSimRun *run);
gboolean mn_sim_oversub_take_batch_dirty (MnSimRun *run);
void     mn_sim_oversub_batch_started (MnSimRun *run, guint32 batch_job);  /* in a pass */
void     mn_sim_oversub_after_pass (MnSimRun *run);
/* FALSE: a stale end event of a stretched job (drop it). */
gboolean mn_sim_oversub_batch_end (MnSimRun *run, const MnSimEvent *ev);
void     mn_sim_oversub_finish (MnSimRun *run);
void     mn_sim_oversub_metrics (MnSimRun *run, MnSimMetrics *m);

/* mn-sim-months.c */
void     mn_sim_months_init (MnSimRun *run, gint64 t0);
void     mn_sim_months_advance (MnSimRun *run, gint64 now);   /* fold occupancy up to @now */
void     mn_sim_months_compute (MnSimRun *run, MnSimMetrics *m);
void     mn_sim_months_clear (MnSimRun *run);
void     mn_sim_months_add_json (JsonBuilder *b, const MnSimBatchMetrics *m);
void     mn_sim_months_add_trace_json (JsonBuilder *b, MnSimWorkload *w, const MnSimMetrics *m);

/* The metrics JSON's members (mn-sim-metrics.c, mn-sim-months.c): doubles
 * rounded to six decimals, plenty, and the files stay readable. */
static inline double
mn_sim_round6 (double v)
{
  return round (v * 1e6) / 1e6;
}

#define MN_SIM_MEMBER_INT(b, name, v) \
  G_STMT_START { json_builder_set_member_name (b, name); json_builder_add_int_value (b, (gint64) (v)); } G_STMT_END
#define MN_SIM_MEMBER_DOUBLE(b, name, v) \
  G_STMT_START { json_builder_set_member_name (b, name); \
                 json_builder_add_double_value (b, mn_sim_round6 (v)); } G_STMT_END

/* mn-sim-metrics.c */
void     mn_sim_metrics_compute (MnSimRun *run, MnSimMetrics *m);
void     mn_sim_metrics_clear (MnSimMetrics *m);
void     mn_sim_percentiles (GArray *values, const double *p, double *out, gsize n);

G_END_DECLS
