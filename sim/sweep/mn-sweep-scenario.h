/* mn-sweep-scenario.h: a sizing scenario (a GKeyFile, every key in one
 * declarative table, documented in scenarios/README.md): the trace and how
 * to tell its interactive jobs, the machine, the base policy, the sweep, the
 * service targets and what to minimise.
 *
 * Units: memory in MiB, time in seconds, shares in 0..1 (text may say
 * "60G", "1.5T", "1h", "30m", "99%"). */
#pragma once

#include <glib.h>
#include "mn-policy.h"
#include "mn-trace-job.h"

G_BEGIN_DECLS

#define MN_SWEEP_ERROR (mn_sweep_error_quark ())
GQuark mn_sweep_error_quark (void);

typedef enum {
  MN_SWEEP_ERROR_PARSE,         /* not a key file / bad line */
  MN_SWEEP_ERROR_UNKNOWN_KEY,   /* key or group not in the table */
  MN_SWEEP_ERROR_INVALID_VALUE, /* bad value, out of range */
  MN_SWEEP_ERROR_MISSING_KEY,   /* a required key is absent */
  MN_SWEEP_ERROR_IO,            /* a file (scenario, trace, policy, results) */
  MN_SWEEP_ERROR_RUN,           /* a point failed to run */
  MN_SWEEP_ERROR_INVALID_ARGUMENT,
} MnSweepError;

/* How interactive jobs are told apart in the trace. */
typedef enum {
  MN_INTERACTIVE_BY_TRACE,  /* the reader's flag (minna-tracegen: queue 0) */
  MN_INTERACTIVE_BY_QUEUE,  /* queue in interactive_queues */
  MN_INTERACTIVE_BY_NAME,   /* job name matches interactive_name (glob) */
  MN_INTERACTIVE_BY_USERS,  /* user in interactive_users */
  MN_INTERACTIVE_BY_RULE,   /* procs <= max_procs and runtime <= max_runtime */
} MnInteractiveRule;

/* The swept parameters, in expansion order (outermost first). */
typedef enum {
  MN_SWEEP_PARAM_NODES,
  MN_SWEEP_PARAM_JOBS_PER_LOGICAL,
  MN_SWEEP_PARAM_MEMORY_CAP,
  MN_SWEEP_PARAM_SWAP,
  MN_SWEEP_PARAM_GPU_MODE,
  MN_SWEEP_PARAM_IDLE_TIMEOUT,
  /* Issue 19: shown (results, CSV, descriptions) only when the scenario
   * sweeps a design other than dedicated: mn_sweep_scenario_has_designs() */
  MN_SWEEP_PARAM_DESIGN,
  MN_SWEEP_PARAM_EXTRA_JOBS,
  MN_SWEEP_N_PARAMS
} MnSweepParam;

const gchar *mn_sweep_param_to_string (MnSweepParam param);    /* "nodes" ... */
gboolean     mn_sweep_param_from_string (const gchar *text, MnSweepParam *param);

/* The service targets.  A target is set when its `set` flag is TRUE. */
typedef enum {
  MN_TARGET_IMMEDIATE_SHARE,   /* min over hours of day of the share started at once >= limit */
  MN_TARGET_ADMITTED_SHARE,    /* sessions started / requests (own-limit refusals left out) >= limit */
  MN_TARGET_WAIT_P99,          /* interactive p99 wait <= limit (s) */
  MN_TARGET_OOM_KILLS,         /* node OOM kills <= limit */
  MN_TARGET_CAP_KILLS,         /* sessions killed by their own memory cap <= limit */
  MN_TARGET_GPU_FAILURES,      /* GPU memory allocation failures <= limit */
  MN_TARGET_SWAP_SHARE,        /* share of time with swap in use <= limit */
  MN_TARGET_BATCH_WAIT_INCREASE, /* batch mean wait / baseline - 1 <= limit */
  MN_N_TARGETS
} MnTargetKind;

/* The generated world's knobs ([world]), passed to minna-tracegen's model
 * (sim/trace/mn-trace-gen.h, same names as its options).  A knob not set
 * in the file keeps the generator's own default. */
typedef enum {
  MN_WORLD_MONTHS,              /* months from April of fiscal_year */
  MN_WORLD_LOAD,                /* x the monthly batch load */
  MN_WORLD_MAINTENANCE,         /* maintenance periods (0/1) */
  MN_WORLD_LIMITS,              /* TSUBAME3's all.q running caps (0/1) */
  MN_WORLD_TRIAL_START,         /* YYYYMM the interactive.q trial starts */
  MN_WORLD_INTERACTIVE_DEMAND,  /* x the regular users' launch rate */
  MN_WORLD_REGULAR_USERS,       /* regular interactive users in the first year */
  MN_WORLD_REGULAR_USERS_NEXT,  /* new ones in the next year */
  MN_WORLD_LECTURE_SIZE,        /* x every lecture's roster */
  MN_WORLD_WEBAPP_SHARE,        /* web apps among interactive.q jobs */
  MN_WORLD_WEBAPP_TO_ALLQ,      /* web-app launches sent to all.q */
  MN_WORLD_GPU_SHARE,           /* regular users' sessions that use a GPU */
  MN_WORLD_GPU_MEMORY,          /* median GPU memory of a GPU session (MiB) */
  MN_WORLD_MEMORY_TAIL_SHARE,   /* sessions in the heavy memory tail */
  MN_WORLD_MEMORY_TAIL_ALPHA,   /* its Pareto exponent */
  MN_WORLD_BUSY_SHARE,          /* sessions that keep their CPU busy */
  MN_WORLD_BUSY_CORES,          /* cores a session keeps busy while active */
  MN_WORLD_BUSY_CORES_HEAVY,    /* ... in the busy sessions */
  MN_WORLD_N_KNOBS
} MnWorldKnob;

typedef struct {
  gboolean set;
  gdouble  value;
} MnWorldValue;

typedef struct {
  gboolean set;
  gdouble  limit;
} MnTarget;

/* One entry of the minimise order: a parameter, smaller first unless
 * `larger_first` (written "-name" in the file). */
typedef struct {
  MnSweepParam param;
  gboolean     larger_first;
} MnMinimiseKey;

typedef struct {
  gchar            *name;         /* [scenario] name (default: file's basename) */
  gchar            *description;
  gchar            *filename;     /* the file it was read from */
  gchar            *base_dir;     /* relative paths are resolved from here */

  /* [trace] */
  gchar            *trace_path;   /* absolute (resolved); NULL for a [world] */
  gint              trace_format; /* index in "auto|swf|sge|sacct|native" (MnTraceFormat order) */
  gint              interactive;  /* MnInteractiveRule */
  gchar           **interactive_queues;
  gchar            *interactive_name;
  gchar           **interactive_users;
  gint64            interactive_max_procs;
  gint64            interactive_max_runtime;
  gint64            max_jobs;     /* 0 = all; first N jobs only (small tests) */

  /* [world]: a world generated per seed instead of a trace file */
  gboolean          world;        /* TRUE when the file has a [world] group */
  GArray           *seeds;        /* guint64, never empty; { 0 } for a trace file */
  gint64            fiscal_year;
  MnWorldValue      knobs[MN_WORLD_N_KNOBS];
  gchar            *lectures;     /* the lecture schedule; NULL = the generator's */

  /* [machine] */
  gint64            machine_nodes;  /* 0 = processor mode */
  gint64            machine_procs;  /* 0 = from the trace */
  gint              scheduler;      /* 0 = "easy", 1 = "fcfs" */

  /* [policy] */
  gchar            *policy_path;    /* NULL = built-in defaults */
  MnPolicyConfig   *policy;         /* the base policy, loaded */

  /* [sweep]: one GArray of gint64 per parameter (never empty) */
  GArray           *values[MN_SWEEP_N_PARAMS];

  /* [targets] */
  MnTarget          targets[MN_N_TARGETS];

  /* [minimise] */
  GArray           *minimise;       /* of MnMinimiseKey */
} MnSweepScenario;

/* @data is the file's text; @filename names it in errors and locates
 * relative paths.  Errors read "FILE:LINE: [group] key: reason". */
MnSweepScenario *mn_sweep_scenario_load_data (const gchar *data, gsize length,
                                              const gchar *filename, GError **error);
MnSweepScenario *mn_sweep_scenario_load_file (const gchar *path, GError **error);
void             mn_sweep_scenario_free (MnSweepScenario *scenario);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSweepScenario, mn_sweep_scenario_free)

const gchar *mn_sweep_scenario_trace_format (const MnSweepScenario *scenario); /* "auto"... */
const gchar *mn_sweep_scenario_scheduler (const MnSweepScenario *scenario);    /* "easy"... */

/* Replace a [world]'s seeds with @text ("1..10", "3, 7"), as the key
 * reads it (minna-sim run --seeds). */
gboolean mn_sweep_scenario_set_seeds (MnSweepScenario *scenario, const gchar *text, GError **error);

/* Issue 19: does the sweep hold a design other than dedicated?  Only then
 * do the design and max_extra_jobs_per_node parameters appear in its
 * results, so a dedicated sweep's files are what they were. */
gboolean mn_sweep_scenario_has_designs (const MnSweepScenario *scenario);
/* Is @param one the results show for @scenario? */
gboolean mn_sweep_param_shown (const MnSweepScenario *scenario, MnSweepParam param);

/* Apply the interactive rule to @job (sets job->interactive). */
void mn_sweep_scenario_classify (const MnSweepScenario *scenario, MnTraceJob *job);

/* Markdown reference of every key, from the table (scenarios/README.md). */
gchar *mn_sweep_scenario_describe_keys (void);

/* Text parsers shared with the results readers ("60G" -> MiB, "1h" -> s). */
gboolean mn_sweep_parse_size (const gchar *text, gint64 *mib);
gboolean mn_sweep_parse_duration (const gchar *text, gint64 *seconds);
gboolean mn_sweep_parse_share (const gchar *text, gdouble *share);
gchar   *mn_sweep_format_param (MnSweepParam param, gint64 value);  /* "60G", "1h", "capped" */

const gchar *mn_target_to_string (MnTargetKind kind);   /* the [targets] key */
const gchar *mn_target_describe (MnTargetKind kind);    /* human, for reports */
/* TRUE for ">= limit" targets, FALSE for "<= limit" */
gboolean     mn_target_is_minimum (MnTargetKind kind);
const gchar *mn_target_unit (MnTargetKind kind);        /* "share", "s", "kills" */

const gchar *mn_world_knob_to_string (MnWorldKnob knob); /* the [world] key */
/* "seed 3", or "the trace" for a trace file's single run. */
gchar       *mn_sweep_scenario_describe_seed (const MnSweepScenario *scenario, guint seed_index);

G_END_DECLS
