/* mn-sim-engine.h: the discrete-event simulator of all.q (EASY backfilling or
 * plain FCFS) and interactive.q (decided by policy/), as a library.
 *
 * Use:
 *   workload = mn_sim_workload_new ();          one per trace
 *   mn_sim_workload_add_job (workload, job);    for every MnTraceJob read
 *   mn_sim_workload_set_header (workload, ...); what the trace header says
 *   mn_sim_config_init (&config); config.x = ...;
 *   result = mn_sim_run (workload, &config, progress, data, &error);
 *   mn_sim_result_get_metrics (result), mn_sim_result_write_jobs_csv (...)
 *
 * Threads: a workload is read-only once its first run starts, and may be
 * shared by any number of mn_sim_run() calls in parallel threads (issue 5's
 * sweeps).  The engine keeps no global state; each run owns everything it
 * touches.  Runs are deterministic: the same workload and config give the
 * same result, byte for byte, whatever else runs beside.
 *
 * Time is integer seconds throughout.  The metrics and the per-job CSV are
 * documented in sim/engine/README.md.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mn-trace-job.h"
#include "mn-trace-reader.h"
#include "policy/mn-policy.h"

G_BEGIN_DECLS

#define MN_SIM_ERROR (mn_sim_error_quark ())
GQuark mn_sim_error_quark (void);

typedef enum {
  MN_SIM_ERROR_INVALID_CONFIG,   /* an option out of range, inconsistent */
  MN_SIM_ERROR_EMPTY,            /* no job could be replayed */
  MN_SIM_ERROR_IO,               /* writing an output file failed */
  MN_SIM_ERROR_CANCELLED,
  MN_SIM_ERROR_NEVER_STARTED,    /* all.q jobs still queued when the replay ended */
} MnSimError;

typedef enum {
  MN_SIM_SCHEDULER_EASY,
  MN_SIM_SCHEDULER_FCFS,
} MnSimScheduler;

const gchar *mn_sim_scheduler_to_string (MnSimScheduler scheduler);
gboolean     mn_sim_scheduler_from_string (const gchar *text, MnSimScheduler *out,
                                           GError **error);

/* ---- Workload: the jobs of one trace, in a compact read-only form -------- */

typedef struct _MnSimWorkload MnSimWorkload;

MnSimWorkload *mn_sim_workload_new (void);
MnSimWorkload *mn_sim_workload_ref (MnSimWorkload *workload);
void           mn_sim_workload_unref (MnSimWorkload *workload);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSimWorkload, mn_sim_workload_unref)

/* Copies what the simulator uses from @job (the caller keeps @job). */
void   mn_sim_workload_add_job (MnSimWorkload *workload, const MnTraceJob *job);
/* From the trace header; -1 when unknown.  @utc_offset (seconds east of UTC)
 * places hours of day and days for the launch and utilization figures. */
void   mn_sim_workload_set_header (MnSimWorkload *workload, gint64 max_procs,
                                   gint64 max_nodes, gint64 utc_offset);
guint  mn_sim_workload_get_n_jobs (MnSimWorkload *workload);
guint  mn_sim_workload_get_n_interactive (MnSimWorkload *workload);

/* Issue 16: the site's maintenance windows (the machine is down; no all.q
 * job runs over one) and its all.q running caps, as the trace header gives
 * them (MnTraceHeader.maintenance, .limits; either may be NULL). */
void   mn_sim_workload_set_site (MnSimWorkload *workload, const GArray *maintenance,
                                 const GArray *limits);
/* Everything the simulator takes from a trace header (MnTraceHeader of
 * sim/trace/mn-trace-reader.h): MaxProcs, MaxNodes, the time zone (as
 * mn_sim_trace_utc_offset()), the maintenance windows and the limits. */
void   mn_sim_workload_set_trace_header (MnSimWorkload *workload, const MnTraceHeader *header);
/* The trace's UTC offset: its TimeZoneString at its start, else its
 * TimeZone offset, else 0.  `summary` and `replay` both use it. */
gint64 mn_sim_trace_utc_offset (const MnTraceHeader *header);
/* Issue 16: read a whole trace into a workload, the one way `replay` (and
 * the sweep) should: every job, the header (mn_sim_workload_set_trace_header),
 * the reading's own figures (skipped lines, merged records) and what it had
 * to decide (an SWF trace whose every job is in queue 0 is read as batch:
 * MN_TRACE_QUEUE_ZERO_NOTE).  Strict: the first unreadable line is an error.
 * The figures are kept in the workload, and every run's metrics carry them
 * ("trace" in the metrics JSON). */
typedef struct {
  MnTraceFormat format;          /* the format read */
  guint64       skipped_lines;
  guint64       merged_records;
  GPtrArray    *skipped;         /* the first "FILE:LINE: reason" messages (gchar*) */
  GPtrArray    *notes;           /* what the reading decided (gchar*), may be empty */
} MnSimTraceStats;

MnSimWorkload *mn_sim_workload_load (const gchar *path, MnTraceFormat format, gboolean strict,
                                     GError **error);
/* The workload's reading figures (zeros and empty arrays for a workload
 * built by hand); owned by the workload. */
const MnSimTraceStats *mn_sim_workload_get_trace_stats (MnSimWorkload *workload);
/* For workloads built job by job: record the reader's figures. */
void   mn_sim_workload_set_trace_stats (MnSimWorkload *workload, MnTraceReader *reader);
/* Every job becomes a batch job (the queue-0 rule), with @note kept. */
void   mn_sim_workload_make_batch (MnSimWorkload *workload, const gchar *note);

/* Jobs with a logged start time (the trace's own scheduler ran them). */
guint64 mn_sim_workload_get_n_logged (MnSimWorkload *workload);

/* ---- Configuration --------------------------------------------------------- */

/* all.q running caps (0 = none): a job whose user or group would go over one
 * by starting waits, and neither blocks nor reserves for the jobs behind it
 * (like Grid Engine's resource quotas and Slurm's QOS limits). */
typedef struct {
  guint32 user_jobs;     /* running jobs per user */
  guint32 group_jobs;    /* running jobs per group */
  guint64 user_cores;    /* running cores (processors) per user */
  guint64 group_cores;
} MnSimCaps;

typedef enum {
  MN_SIM_CAPS_TRACE,     /* the trace header's limits (none if it has none); default */
  MN_SIM_CAPS_OFF,       /* no caps: plain EASY/FCFS */
  MN_SIM_CAPS_FIXED,     /* MnSimConfig.caps for the whole replay */
} MnSimCapsMode;

typedef struct {
  MnSimScheduler scheduler;        /* all.q: EASY (default) or FCFS */
  /* Processor-count mode when > 0: all.q has this many processors minus what
   * interactive.q carves out.  0: processor mode with the trace's MaxProcs
   * (else MaxNodes) when no job names a resource type, node mode otherwise. */
  gint64   procs;
  /* Node mode: nodes of the whole machine (all.q + interactive.q); 0 = the
   * trace's MaxNodes, else 540 (TSUBAME3).  Node hardware (cores, GPUs,
   * memory) comes from the policy's [node] keys. */
  gint64   machine_nodes;
  /* Nodes carved out for interactive.q; -1 = the policy's [queue] nodes when
   * the trace has interactive jobs, else 0.  0 = the baseline: interactive
   * requests go to all.q as ordinary batch jobs. */
  gint64   interactive_nodes;
  const MnPolicyConfig *policy;    /* NULL = TSUBAME3 defaults; copied */
  /* Give-up requests rejected as busy are retried by their user after
   * retry_delay seconds, at most max_retries times (0 = never). */
  gint64   retry_delay;
  guint    max_retries;
  gboolean keep_jobs;              /* keep per-job rows for the CSV (default TRUE) */
  /* Issue 16 */
  MnSimCapsMode caps_mode;         /* default MN_SIM_CAPS_TRACE */
  MnSimCaps     caps;              /* with MN_SIM_CAPS_FIXED */
  gboolean      maintenance;       /* honour the trace's maintenance windows (default TRUE) */
} MnSimConfig;

void mn_sim_config_init (MnSimConfig *config);

/* ---- Results ---------------------------------------------------------------- */

typedef enum {
  MN_SIM_CLASS_BATCH,
  MN_SIM_CLASS_INTERACTIVE,
} MnSimJobClass;

typedef enum {
  MN_SIM_QUEUE_NONE,               /* never ran (skipped, rejected) */
  MN_SIM_QUEUE_ALL,                /* all.q */
  MN_SIM_QUEUE_INTERACTIVE,        /* interactive.q */
} MnSimQueue;

typedef enum {
  MN_SIM_STATUS_DONE,              /* ran to its end */
  MN_SIM_STATUS_WALLTIME,          /* interactive: cut at the walltime limit */
  MN_SIM_STATUS_IDLE,              /* interactive: cut by the idle timeout */
  MN_SIM_STATUS_OOM,               /* interactive: killed by its node's OOM killer */
  MN_SIM_STATUS_REJECTED,          /* interactive: refused by the policy */
  MN_SIM_STATUS_SKIPPED,           /* not replayable (see README) */
  MN_SIM_STATUS_MEMORY_CAP,        /* interactive: killed by its own memory limit */
} MnSimJobStatus;

typedef struct {
  gint64   id;
  gint64   submit;
  gint64   start;                  /* -1 if it never started */
  gint64   end;                    /* -1 if it never started */
  guint32  user;                   /* index, see mn_sim_result_get_user() */
  guint32  procs;                  /* processors (cores in node mode) */
  float    cpu_slowdown;           /* interactive: time-weighted; batch: bounded slowdown */
  guint8   job_class;              /* MnSimJobClass */
  guint8   queue;                  /* MnSimQueue */
  guint8   status;                 /* MnSimJobStatus */
  guint8   reason;                 /* MnRejectReason when REJECTED */
  guint8   wait_reason;            /* interactive: MnWaitReason of its last request (WAIT, busy refusal) */
  guint8   gpu_failed;             /* interactive: its GPU allocation failed */
  guint8   swapped;                /* interactive: its node was in swap while it ran */
  guint16  attempts;               /* interactive: requests made (1 + retries) */
  /* interactive (issue 14): where it ran (valid when queue is interactive.q:
   * node, logical node, its cpuset cpu_first .. cpu_first + n_cpus - 1), its
   * GPUs (bit i = GPU i of its node), its memory limit L and the peak memory
   * its trace gives it (profile maximum, else memory used) */
  guint16  node, logical, cpu_first, n_cpus;
  guint64  gpu_mask;
  guint32  memory_limit_mb, memory_peak_mb;
} MnSimJobResult;

#define MN_SIM_N_REJECT_REASONS (MN_REJECT_MALFORMED + 1)

typedef struct {
  guint64 requests;                /* interactive jobs in the trace (not skipped) */
  guint64 started;
  guint64 started_immediately;     /* wait == 0 */
  double  share_immediate;         /* started_immediately / requests */
  guint64 rejected;                /* requests finally refused */
  guint64 rejected_attempts;       /* refusals including those retried */
  guint64 rejected_by_reason[MN_SIM_N_REJECT_REASONS];
  double  wait_mean, wait_p50, wait_p95, wait_p99, wait_max;
  guint64 peak_concurrent;
  double  slot_occupancy;          /* mean running / (logical nodes x max_jobs) */
  double  swap_time_share;         /* node-seconds with swap in use / node-seconds */
  guint64 swap_peak_mb;            /* largest swap use on one node */
  double  swap_mb_hours;           /* integral of swap in use */
  guint64 oom_kills;                /* node OOM kills */
  guint64 memory_cap_kills;         /* sessions killed by their own memory limit */
  guint64 sessions_above_memory_cap;/* started sessions whose trace peak passes their limit */
  guint64 gpu_alloc_failures;
  double  cpu_slowdown_p50, cpu_slowdown_p95;
  guint64 cut_walltime, cut_idle;
  guint64 launches_by_hour[24];    /* requests by local hour of day */
  guint64 immediate_by_hour[24];   /* of which started immediately */
  guint64 launches_by_weekday[7];  /* Monday = 0 */
} MnSimInteractiveMetrics;

/* One local month of all.q (issue 16): the batch-class jobs submitted in it
 * and the machine's occupancy over it.  The report's Figure 4 measure:
 * utilization = occupied node-seconds / (all.q nodes x the month's seconds
 * outside maintenance), a node occupied by the largest of its core, GPU and
 * memory shares in use (processor mode: busy processors / processors). */
typedef struct {
  gint    year, month;             /* local (the trace's time zone) */
  guint64 jobs;                    /* batch jobs submitted in the month that ran in all.q */
  double  wait_mean, wait_median, wait_p95;
  double  wait_ge_1h_share, wait_ge_24h_share;
  double  utilization;
  double  down_hours;              /* maintenance in the month */
  double  available_node_hours;    /* the utilization's denominator (weights for a year) */
  /* Validation against the log: the same jobs' logged waits (start - submit
   * in the trace), for those with a logged start; 0 jobs when none. */
  guint64 logged_jobs;
  double  replay_wait_mean, replay_wait_median, replay_wait_p95;   /* of those jobs */
  double  logged_wait_mean, logged_wait_median, logged_wait_p95;
} MnSimMonth;

/* Replayed against logged waits over the whole trace (batch-class jobs that
 * ran in all.q and have a logged start). */
typedef struct {
  guint64 jobs;
  double  replay_wait_mean, replay_wait_median, replay_wait_p95;
  double  logged_wait_mean, logged_wait_median, logged_wait_p95;
} MnSimLogComparison;

typedef struct {
  guint64 jobs;                    /* jobs that ran in all.q */
  double  wait_mean, wait_median, wait_p95, wait_max;
  double  bounded_slowdown_mean;   /* tau = 10 s */
  double  utilization;             /* busy processor-seconds / capacity, first submit .. last end */
  GArray *utilization_by_day;      /* double, day 0 = local day of the first submit */
  gint64  makespan;                /* last end - first submit */
  gint64  first_submit;
  gint64  last_end;
  /* Issue 16 */
  double  wait_ge_24h_share;       /* of batch-class jobs that ran in all.q */
  GArray *by_month;                /* MnSimMonth, from the month of the first submit */
  MnSimLogComparison logged;       /* jobs = 0 when the trace logs no starts */
  guint64 never_started;           /* all.q jobs still queued at the end (an error) */
} MnSimBatchMetrics;

/* Issue 19: the over-subscribing designs ([oversubscribe] design =
 * oversubscribe or hybrid); all zero for a dedicated design. */
typedef struct {
  gboolean on;                     /* the run over-subscribed batch nodes */
  MnDesign design;
  guint64  started_shared;         /* interactive sessions started on batch nodes */
  guint64  started_dedicated;      /* ... in interactive.q (hybrid) */
  guint64  batch_jobs_shared;      /* batch jobs that ran beside an active interactive job */
  double   batch_stretch_mean;     /* of those: ran time / alone time */
  double   batch_stretch_p95, batch_stretch_max;
  double   batch_node_hours_lost;  /* sum of (ran - alone) x the job's node share */
  double   dedicated_node_hours;   /* interactive.q nodes x the replay's span */
  double   memory_committed_mean;  /* node memory committed (batch + interactive limits) */
  double   memory_committed_max;   /*   / RAM, at each start on a batch node */
  guint64  swap_peak_mb;           /* RAM overflow on a shared node (batch requests + use) */
  double   swap_mb_hours;
  guint64  memory_cap_kills;       /* shared sessions killed by their own limit */
} MnSimOversubMetrics;

typedef struct {
  /* the run */
  gboolean node_mode;
  gint64   allq_procs;             /* processor mode: all.q processors */
  gint64   allq_nodes;             /* node mode: all.q nodes */
  gint64   interactive_nodes;
  MnSimScheduler scheduler;
  guint64  jobs;                   /* in the workload */
  guint64  skipped;                /* not replayable */
  guint64  events;                 /* events processed */
  /* Issue 16: reading the trace (MnSimTraceStats of the workload) */
  guint64  trace_skipped_lines;
  guint64  trace_merged_records;
  MnSimBatchMetrics       batch;   /* batch-class jobs */
  MnSimInteractiveMetrics interactive; /* interactive-class jobs, wherever they ran */
  MnSimOversubMetrics     oversub; /* issue 19 */
} MnSimMetrics;

typedef struct _MnSimResult MnSimResult;

/* Progress: @fraction of the trace's time span replayed (0..1). */
typedef void (*MnSimProgressFunc) (double fraction, gpointer user_data);

/* Run one simulation.  @cancellable may be NULL. */
MnSimResult *mn_sim_run (MnSimWorkload     *workload,
                         const MnSimConfig *config,
                         MnSimProgressFunc  progress,
                         gpointer           user_data,
                         GCancellable      *cancellable,
                         GError           **error);
void         mn_sim_result_free (MnSimResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSimResult, mn_sim_result_free)

const MnSimMetrics   *mn_sim_result_get_metrics (MnSimResult *result);
/* The workload the run replayed (not a new reference). */
MnSimWorkload        *mn_sim_result_get_workload (MnSimResult *result);
/* Per-job rows sorted by job id (then trace order); NULL unless keep_jobs. */
const MnSimJobResult *mn_sim_result_get_jobs (MnSimResult *result, gsize *n_jobs);
const gchar          *mn_sim_result_get_user (MnSimResult *result, guint32 user);
/* The job with trace id @id (the first one if repeated); NULL if none. */
const MnSimJobResult *mn_sim_result_lookup (MnSimResult *result, gint64 id);

gboolean mn_sim_result_write_jobs_csv (MnSimResult *result, const gchar *path,
                                       GError **error);
/* The metrics JSON object; with @baseline, adds "baseline" (its metrics) and
 * "difference" (this run minus the baseline). */
JsonNode *mn_sim_result_to_json (MnSimResult *result, MnSimResult *baseline);
/* The same as text (two-space indent, doubles to 10 significant digits). */
gchar    *mn_sim_result_to_json_text (MnSimResult *result, MnSimResult *baseline);
gboolean  mn_sim_result_write_json (MnSimResult *result, MnSimResult *baseline,
                                    const gchar *path, GError **error);

const gchar *mn_sim_job_status_to_string (MnSimJobStatus status);

G_END_DECLS
