/* mn-sweep-scenario.c: scenario files.  Every key is one row of keys[];
 * libminna-config (config/) reads the file with it (FILE:LINE errors, the
 * shared value grammar and "did you mean"), and the README's key reference
 * comes from it.  What is a scenario's own stays here: lists and ranges of
 * swept values ("2,4,8", "1..8", "0..1536G:768G", each item in the shared
 * grammar and bounds), targets, the minimise order, paths resolved against
 * the scenario's directory, and the checks of keys together. */
#define G_LOG_DOMAIN "minna-sweep"

#include <math.h>
#include <string.h>

#include "mn-config.h"
#include "mn-sweep-scenario.h"
#include "mn-sweep-world.h"

G_DEFINE_QUARK (mn-sweep-error-quark, mn_sweep_error)

#define OFF(field) G_STRUCT_OFFSET (MnSweepScenario, field)
#define BIG G_GINT64_CONSTANT (1000000000000)

static gboolean set_path (const MnConfigKey *key, gpointer object, const gchar *text,
                          GError **error);
static gboolean set_list (const MnConfigKey *key, gpointer object, const gchar *text,
                          GError **error);
static gboolean set_target (const MnConfigKey *key, gpointer object, const gchar *text,
                            GError **error);
static gboolean set_minimise (const MnConfigKey *key, gpointer object, const gchar *text,
                              GError **error);
static gboolean set_seeds (const MnConfigKey *key, gpointer object, const gchar *text,
                           GError **error);
static gboolean set_knob (const MnConfigKey *key, gpointer object, const gchar *text,
                          GError **error);

static const gchar *const format_choices[] = { "auto", "swf", "sge", "sacct", "native", NULL };
static const gchar *const rule_choices[] = { "trace", "queue", "name", "users", "rule", NULL };
static const gchar *const scheduler_choices[] = { "easy", "fcfs", NULL };
static const gchar *const gpu_mode_choices[] = { "shared", "capped", "exclusive", NULL };
static const gchar *const design_choices[] = { "dedicated", "oversubscribe", "hybrid", NULL };

#define SWEEP(name_, type_, param, min_, max_, help_) \
  { .group = "sweep", .name = name_, .type = MN_CONFIG_##type_, .set = set_list, \
    .index = param, .min = min_, .max = max_, .help = help_ }
#define KNOB(name_, type_, knob, min_, max_, help_) \
  { .group = "world", .name = name_, .type = MN_CONFIG_##type_, .set = set_knob, \
    .index = knob, .min = min_, .max = max_, .help = help_ }
#define TARGET(name_, type_, target, min_, max_, help_) \
  { .group = "targets", .name = name_, .type = MN_CONFIG_##type_, .set = set_target, \
    .index = target, .min = min_, .max = max_, .help = help_ }

static const MnConfigKey keys[] = {
  { .group = "scenario", .name = "name", .type = MN_CONFIG_STRING, .offset = OFF (name),
    .help = "Name of the scenario; the default output directory is reports/out/NAME. Default: the file's name without .scenario." },
  { .group = "scenario", .name = "description", .type = MN_CONFIG_STRING,
    .offset = OFF (description), .def = "",
    .help = "One line saying what the scenario asks; shown in the report." },

  { .group = "trace", .name = "path", .type = MN_CONFIG_PATH, .offset = OFF (trace_path),
    .set = set_path,
    .help = "The trace file (required unless the scenario has a [world]), relative to the scenario file's directory; may be gzip-compressed. A leading $MINNA_SHARED_DIR/ stands for that variable (default: ../shared beside the source tree), where real traces live." },
  { .group = "trace", .name = "format", .type = MN_CONFIG_ENUM, .offset = OFF (trace_format),
    .choices = format_choices, .def = "auto",
    .help = "Trace format; auto detects it from the content." },
  { .group = "trace", .name = "interactive", .type = MN_CONFIG_ENUM, .offset = OFF (interactive),
    .choices = rule_choices, .def = "trace",
    .help = "How to tell interactive jobs: trace = the reader's own flag (minna-tracegen marks them); queue = queue in interactive_queues; name = job name matches interactive_name; users = user in interactive_users; rule = at most interactive_max_procs processors and at most interactive_max_runtime." },
  { .group = "trace", .name = "interactive_queues", .type = MN_CONFIG_STRV,
    .offset = OFF (interactive_queues), .def = "",
    .help = "With interactive = queue: queue names or SWF queue numbers, comma-separated." },
  { .group = "trace", .name = "interactive_name", .type = MN_CONFIG_STRING,
    .offset = OFF (interactive_name), .def = "",
    .help = "With interactive = name: a glob pattern (* and ?) on the job name, e.g. jupyter*." },
  { .group = "trace", .name = "interactive_users", .type = MN_CONFIG_STRV,
    .offset = OFF (interactive_users), .def = "",
    .help = "With interactive = users: user names, comma-separated." },
  { .group = "trace", .name = "interactive_max_procs", .type = MN_CONFIG_INT,
    .offset = OFF (interactive_max_procs), .min = 1, .max = 1000000, .def = "4",
    .help = "With interactive = rule: largest processor count of an interactive job." },
  { .group = "trace", .name = "interactive_max_runtime", .type = MN_CONFIG_DURATION,
    .offset = OFF (interactive_max_runtime), .min = 1, .max = BIG, .def = "1h",
    .help = "With interactive = rule: longest runtime of an interactive job (s, or with m/h/d)." },
  { .group = "trace", .name = "max_jobs", .type = MN_CONFIG_INT, .offset = OFF (max_jobs),
    .min = 0, .max = BIG, .def = "0",
    .help = "Replay only the first N jobs of the trace (0 = all); for small test scenarios." },

  /* [world]: the generator's options under its own names; no default here
   * (the generator's own stands, and the key reference prints it from the
   * generator: see mn_sweep_scenario_describe_keys) */
  { .group = "world", .name = "seeds", .type = MN_CONFIG_INT, .set = set_seeds, .def = "1..5",
    .min = 0, .max = G_MAXINT64 / 4,
    .help = "A generated TSUBAME-style world (minna-tracegen's model, traces/README.md) instead of [trace] path: the seeds it is drawn with, a list or range. The sweep replays every point on every seed's world and recommends only what meets every target on every seed." },
  { .group = "world", .name = "fiscal_year", .type = MN_CONFIG_INT, .offset = OFF (fiscal_year),
    .def = "2019", .min = 1970, .max = 2200,
    .help = "The world starts in April of this year." },
  KNOB ("months", UINT, MN_WORLD_MONTHS, 1, 120,
    "Months generated from that April (12 = one fiscal year)."),
  KNOB ("load", DOUBLE, MN_WORLD_LOAD, 0, 10,
    "Batch load: a factor on the generator's monthly load of all.q (1 = as calibrated)."),
  KNOB ("maintenance", BOOL, MN_WORLD_MAINTENANCE, 0, 0,
    "Maintenance periods in which no job runs (true or false)."),
  KNOB ("limits", BOOL, MN_WORLD_LIMITS, 0, 0,
    "TSUBAME3's per-user and per-group running caps on all.q (true or false)."),
  KNOB ("trial_start", UINT, MN_WORLD_TRIAL_START, 197001, 220012,
    "Month (YYYYMM) the interactive.q trial starts: no session before it."),
  KNOB ("interactive_demand", DOUBLE, MN_WORLD_INTERACTIVE_DEMAND, 0, 100,
    "Interactive demand outside lectures: a factor on the rate at which every regular user launches sessions."),
  KNOB ("regular_users", UINT, MN_WORLD_REGULAR_USERS, 0, 100000,
    "Regular (non-lecture) interactive users by the end of the first fiscal year."),
  KNOB ("regular_users_next", UINT, MN_WORLD_REGULAR_USERS_NEXT, 0, 100000,
    "New regular interactive users in the next fiscal year."),
  { .group = "world", .name = "lectures", .type = MN_CONFIG_STRING, .offset = OFF (lectures),
    .help = "Weekly lectures in term time while the trial runs: comma-separated 'DAY HOUR[:ROSTER[:GPU_SHARE]]' (" MN_TRACE_GEN_DEFAULT_LECTURES "); empty for none." },
  KNOB ("lecture_size", DOUBLE, MN_WORLD_LECTURE_SIZE, 0, 100,
    "A factor on every lecture's roster (1 = as scheduled)."),
  KNOB ("webapp_share", SHARE, MN_WORLD_WEBAPP_SHARE, 0, 100,
    "Web apps (Jupyter) among interactive.q jobs (0.3 or 30%)."),
  KNOB ("webapp_to_allq", SHARE, MN_WORLD_WEBAPP_TO_ALLQ, 0, 100,
    "Web-app launches sent to all.q instead of interactive.q."),
  KNOB ("gpu_share", SHARE, MN_WORLD_GPU_SHARE, 0, 100,
    "Regular users' sessions that use a GPU (lectures set their own in the schedule)."),
  KNOB ("gpu_memory", SIZE, MN_WORLD_GPU_MEMORY, 1, 1024 * 1024,
    "Median GPU memory a GPU session allocates (2500M, 8G); the spread around it is the generator's."),
  KNOB ("memory_tail_share", SHARE, MN_WORLD_MEMORY_TAIL_SHARE, 0, 100,
    "Sessions whose memory comes from the heavy (Pareto) tail rather than the small-kernel body."),
  KNOB ("memory_tail_alpha", DOUBLE, MN_WORLD_MEMORY_TAIL_ALPHA, 0, 10,
    "The memory tail's Pareto exponent, from 6 GB (smaller: heavier)."),
  KNOB ("busy_share", SHARE, MN_WORLD_BUSY_SHARE, 0, 100,
    "Activity: sessions that keep their CPU busy 20-90% of the time; the others are busy 0.5-8%."),
  KNOB ("busy_cores", UINT, MN_WORLD_BUSY_CORES, 1, 28,
    "Cores a session keeps busy while it is active (the simulator uses what the generator says)."),
  KNOB ("busy_cores_heavy", UINT, MN_WORLD_BUSY_CORES_HEAVY, 1, 28,
    "... in the busy sessions."),

  { .group = "machine", .name = "nodes", .type = MN_CONFIG_INT, .offset = OFF (machine_nodes),
    .min = 0, .max = 1000000, .def = "540",
    .help = "Nodes of the whole machine (all.q gets what interactive.q does not); 0 = processor-count mode." },
  { .group = "machine", .name = "procs", .type = MN_CONFIG_INT, .offset = OFF (machine_procs),
    .min = 0, .max = 100000000, .def = "0",
    .help = "Processor-count mode: processors of the machine (0 = the trace's MaxProcs)." },
  { .group = "machine", .name = "scheduler", .type = MN_CONFIG_ENUM, .offset = OFF (scheduler),
    .choices = scheduler_choices, .def = "easy",
    .help = "all.q's scheduler: FCFS with EASY backfilling, or plain FCFS." },

  { .group = "policy", .name = "file", .type = MN_CONFIG_PATH, .offset = OFF (policy_path),
    .set = set_path,
    .help = "The base interactive.conf, relative to the scenario file (default: the built-in TSUBAME3 policy). The sweep overrides its keys point by point." },

  SWEEP ("nodes", INT, MN_SWEEP_PARAM_NODES, 1, 1024,
    "Nodes carved out for interactive.q ([queue] nodes): a list (2,4,8) or a range (1..8, 2..16:2). Default: the base policy's."),
  SWEEP ("jobs_per_logical", INT, MN_SWEEP_PARAM_JOBS_PER_LOGICAL, 1, 64,
    "Jobs sharing one logical node ([logical_node] max_jobs): list or range. Default: the base policy's."),
  SWEEP ("memory_cap", SIZE, MN_SWEEP_PARAM_MEMORY_CAP, 1024, 64 * 1024 * 1024,
    "Per-job memory cap ([job] max_memory): list or range of sizes (60G, 32G..64G:16G). Default: the base policy's."),
  SWEEP ("swap", SIZE, MN_SWEEP_PARAM_SWAP, 0, 64 * 1024 * 1024,
    "Swap per node ([node] swap): list or range of sizes (0, 768G, 1.5T). Default: the base policy's."),
  { .group = "sweep", .name = "gpu_mode", .type = MN_CONFIG_ENUM, .set = set_list,
    .index = MN_SWEEP_PARAM_GPU_MODE, .choices = gpu_mode_choices,
    .help = "GPU sharing ([job] gpu_mode): a list of shared, capped, exclusive. Default: the base policy's." },
  SWEEP ("idle_timeout", DURATION, MN_SWEEP_PARAM_IDLE_TIMEOUT, 0, 7 * 86400,
    "Idle timeout ([queue] idle_timeout; 0 = off): list or range of durations (0, 30m, 2h). Default: the base policy's."),
  { .group = "sweep", .name = "design", .type = MN_CONFIG_ENUM, .set = set_list,
    .index = MN_SWEEP_PARAM_DESIGN, .choices = design_choices,
    .help = "The interactive service's design ([oversubscribe] design): a list of dedicated (interactive.q of `nodes`), oversubscribe (no interactive.q: jobs share batch nodes; nodes and jobs_per_logical do not apply, shown as nodes=0) and hybrid (interactive.q of `nodes` first, then batch nodes). Default: the base policy's." },
  SWEEP ("max_extra_jobs_per_node", INT, MN_SWEEP_PARAM_EXTRA_JOBS, 1, 64,
    "Interactive jobs sharing one batch node at most ([oversubscribe] max_extra_jobs_per_node), for the oversubscribe and hybrid designs: list or range. Default: the base policy's."),

  /* shares in percent: at most 100%, a batch wait increase at most 1000x */
  TARGET ("immediate_share_every_hour", SHARE, MN_TARGET_IMMEDIATE_SHARE, 0, 100,
    "Share of interactive requests started immediately, in EVERY hour of the day that has requests, at least this (0.99 or 99%)."),
  TARGET ("admitted_share", SHARE, MN_TARGET_ADMITTED_SHARE, 0, 100,
    "Share of interactive requests that got a session at all (started, whatever the wait), at least this (0.99 or 99%). Requests refused by the one-job-per-user limit count in neither part. Whatever the targets, a point that refuses every request is never recommended."),
  TARGET ("wait_p99", DURATION, MN_TARGET_WAIT_P99, 0, BIG,
    "99th percentile of the interactive wait at most this (60s, 5m); not met when no session started."),
  TARGET ("oom_kills", INT, MN_TARGET_OOM_KILLS, 0, BIG,
    "Sessions ended by a node's OOM killer: at most this many (0)."),
  TARGET ("cap_kills", INT, MN_TARGET_CAP_KILLS, 0, BIG,
    "Sessions killed by their own memory limit ([job] max_memory plus their swap allowance): at most this many."),
  TARGET ("gpu_failures", INT, MN_TARGET_GPU_FAILURES, 0, BIG,
    "Sessions whose GPU memory allocation failed (GPU memory shared first come, first served): at most this many (0)."),
  TARGET ("swap_share", SHARE, MN_TARGET_SWAP_SHARE, 0, 100,
    "Share of time with swap in use on some interactive node: at most this (0.05 or 5%)."),
  TARGET ("batch_wait_increase", SHARE, MN_TARGET_BATCH_WAIT_INCREASE, 0, 100000,
    "Batch jobs' mean wait at most this much above the baseline without interactive.q (10% or 0.10)."),

  { .group = "minimise", .name = "order", .type = MN_CONFIG_STRV, .set = set_minimise,
    .def = "nodes, swap, jobs_per_logical",
    .help = "What to minimise among the points that meet every target, in order: swept parameter names, comma-separated; -name prefers larger values. Remaining ties go to the earlier point." },
};

#undef SWEEP
#undef KNOB
#undef TARGET

static const MnConfigTable table = {
  keys, G_N_ELEMENTS (keys), 0, mn_sweep_error_quark,
  { [MN_CONFIG_ERROR_PARSE] = MN_SWEEP_ERROR_PARSE,
    [MN_CONFIG_ERROR_UNKNOWN_KEY] = MN_SWEEP_ERROR_UNKNOWN_KEY,
    [MN_CONFIG_ERROR_INVALID_VALUE] = MN_SWEEP_ERROR_INVALID_VALUE,
    [MN_CONFIG_ERROR_DUPLICATE] = MN_SWEEP_ERROR_PARSE,
    [MN_CONFIG_ERROR_MISSING_KEY] = MN_SWEEP_ERROR_MISSING_KEY,
    [MN_CONFIG_ERROR_INVALID_ARGUMENT] = MN_SWEEP_ERROR_INVALID_ARGUMENT },
};

static const gchar *const param_names[MN_SWEEP_N_PARAMS] = {
  "nodes", "jobs_per_logical", "memory_cap", "swap", "gpu_mode", "idle_timeout",
  "design", "max_extra_jobs_per_node",
};

gboolean
mn_sweep_scenario_has_designs (const MnSweepScenario *s)
{
  GArray *d = s->values[MN_SWEEP_PARAM_DESIGN];

  for (guint i = 0; d != NULL && i < d->len; i++)
    if (g_array_index (d, gint64, i) != MN_DESIGN_DEDICATED)
      return TRUE;
  return FALSE;
}

gboolean
mn_sweep_param_shown (const MnSweepScenario *s, MnSweepParam param)
{
  return param < MN_SWEEP_PARAM_DESIGN || mn_sweep_scenario_has_designs (s);
}

const gchar *
mn_sweep_param_to_string (MnSweepParam param)
{
  g_return_val_if_fail (param < MN_SWEEP_N_PARAMS, "?");
  return param_names[param];
}

gboolean
mn_sweep_param_from_string (const gchar *text, MnSweepParam *param)
{
  for (guint i = 0; i < MN_SWEEP_N_PARAMS; i++)
    if (g_str_equal (text, param_names[i]))
      {
        *param = i;
        return TRUE;
      }
  return FALSE;
}

static const struct {
  const gchar *key;
  const gchar *describe;
  gboolean     minimum;
  const gchar *unit;
} target_info[MN_N_TARGETS] = {
  { "immediate_share_every_hour", "share started immediately, worst hour of day", TRUE, "share" },
  { "admitted_share", "share of requests that got a session", TRUE, "share" },
  { "wait_p99", "interactive wait, 99th percentile", FALSE, "s" },
  { "oom_kills", "sessions killed by a node's OOM killer", FALSE, "kills" },
  { "cap_kills", "sessions killed by their own memory cap", FALSE, "kills" },
  { "gpu_failures", "GPU memory allocation failures", FALSE, "failures" },
  { "swap_share", "share of time with swap in use", FALSE, "share" },
  { "batch_wait_increase", "batch mean wait above the baseline", FALSE, "share" },
};

const gchar *mn_target_to_string (MnTargetKind kind) { return target_info[kind].key; }
const gchar *mn_target_describe (MnTargetKind kind) { return target_info[kind].describe; }
gboolean     mn_target_is_minimum (MnTargetKind kind) { return target_info[kind].minimum; }
const gchar *mn_target_unit (MnTargetKind kind) { return target_info[kind].unit; }

const gchar *
mn_world_knob_to_string (MnWorldKnob knob)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].set == set_knob && keys[i].index == (gint) knob)
      return keys[i].name;
  g_return_val_if_reached ("?");
}

gchar *
mn_sweep_scenario_describe_seed (const MnSweepScenario *s, guint seed_index)
{
  if (!s->world)
    return g_strdup ("the trace");
  return g_strdup_printf ("seed %" G_GUINT64_FORMAT, g_array_index (s->seeds, guint64, seed_index));
}

/* Where each [world] default comes from (the report, or an assumption);
 * the key reference prints it after the key's help. */
static const struct { const gchar *key, *source; } world_sources[] = {
  { "seeds", "one draw of the world is not an answer: on the FY2019 year the batch cost of 4 x 7 ranged from +3.6% to +13.3% over seeds 1-5" },
  { "fiscal_year", "the TSUBAME3.0 report's trial of interactive.q (FY2019)" },
  { "months", "the report's figures run from FY2019 to August 2020" },
  { "load", "traces/README.md, calibration table (the report's Fig. 4: over 80% busy over the year, over 96% at the peak)" },
  { "maintenance", "the report's Fig. 4 (utilization with its maintenance periods)" },
  { "limits", "TSUBAME3's published running limits per user" },
  { "trial_start", "the report: the trial began in November 2019" },
  { "interactive_demand", "assumption: the report gives no launch rate (traces/README.md: log-normal, median 0.25 a day per regular user)" },
  { "regular_users", "the report: about 54 interactive.q users in FY2019" },
  { "regular_users_next", "the report: about 188 users in April-August 2020, with the lecture rosters (traces/README.md)" },
  { "lectures", "the report's Figs. 5 and 8: launches peak at 10:00 and 11:00, from lectures" },
  { "lecture_size", "the report: lectures of 50-100 students" },
  { "webapp_share", "the report: web apps were about 30% of interactive.q jobs" },
  { "webapp_to_allq", "the report: about 80% of web-app launches went to interactive.q; the rest are all.q jobs" },
  { "gpu_share", "assumption: the report gives no figure; GPU memory first come, first served is its open problem" },
  { "gpu_memory", "assumption (a TSUBAME3 P100 has 16 GB)" },
  { "memory_tail_share", "assumption: the report's 60 GB cap and 1.5 TB swap are there because some sessions grow large" },
  { "memory_tail_alpha", "assumption" },
  { "busy_share", "the report: most interactive jobs are mostly idle, hence 7 jobs per quarter node; the share is an assumption" },
  { "busy_cores", "assumption" },
  { "busy_cores_heavy", "assumption" },
};


const gchar *
mn_sweep_scenario_trace_format (const MnSweepScenario *scenario)
{
  return format_choices[scenario->trace_format];
}

const gchar *
mn_sweep_scenario_scheduler (const MnSweepScenario *scenario)
{
  return scheduler_choices[scenario->scheduler];
}


/* ---- values ---------------------------------------------------------------- */

/* One item of a list as the swept parameter's number (MiB, s, an index). */
static gint64
item_number (const MnConfigKey *key, const MnConfigValue *v)
{
  switch (key->type)
    {
    case MN_CONFIG_INT: return v->i;
    case MN_CONFIG_ENUM: return v->e;
    case MN_CONFIG_SIZE:
    case MN_CONFIG_DURATION: return (gint64) v->u;
    case MN_CONFIG_BOOL:
    case MN_CONFIG_UINT:
    case MN_CONFIG_SHARE:
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
    case MN_CONFIG_STRV:
    default: g_assert_not_reached ();
    }
}

static gboolean
parse_item (const MnConfigKey *key, const gchar *text, gint64 *value)
{
  MnConfigValue v;

  if (!mn_config_parse_scalar (key, text, &v, NULL))
    return FALSE;
  *value = item_number (key, &v);
  return TRUE;
}

static const gchar *
item_kind (const MnConfigKey *key)
{
  switch (key->type)
    {
    case MN_CONFIG_SIZE: return "a size (60G, 1.5T, 512M)";
    case MN_CONFIG_DURATION: return "a duration (90, 30m, 2h)";
    case MN_CONFIG_ENUM: return key->index == MN_SWEEP_PARAM_DESIGN
                                ? "dedicated|oversubscribe|hybrid" : "shared|capped|exclusive";
    case MN_CONFIG_BOOL:
    case MN_CONFIG_UINT:
    case MN_CONFIG_INT:
    case MN_CONFIG_SHARE:
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
    case MN_CONFIG_STRV:
    default: return "a whole number";
    }
}

static gboolean
check_bounds (const MnConfigKey *key, const gchar *text, gint64 v, GError **error)
{
  MnConfigValue value = { .i = v };

  if (key->type != MN_CONFIG_INT)
    value.u = (guint64) v;
  return mn_config_check_bounds (key, text, &value, error);
}

/* "2,4,8", "1..8", "0..1536G:768G", "shared,capped": the list and range
 * layer over the shared scalar grammar. */
static GArray *
parse_list (const MnConfigKey *info, const gchar *text, GError **error)
{
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_auto (GStrv) items = g_strsplit (text, ",", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      gchar *item = g_strstrip (items[i]);
      gchar *dots = strstr (item, "..");
      gint64 a, b, step = 1;

      if (item[0] == '\0')
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "empty item in the list '%s'", text);
          return NULL;
        }
      if (dots == NULL)
        {
          MnConfigValue v;

          if (!mn_config_parse_value (info, item, &v, error))
            return NULL;
          a = item_number (info, &v);
          g_array_append_val (values, a);
          continue;
        }
      {
        gchar *hi = dots + 2;
        gchar *colon = strchr (hi, ':');

        *dots = '\0';
        if (colon != NULL)
          *colon = '\0';
        g_strstrip (item);
        g_strstrip (hi);
        if (info->type == MN_CONFIG_ENUM || !parse_item (info, item, &a) || !parse_item (info, hi, &b))
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s..%s' is not a range of %s", item, hi, item_kind (info));
            return NULL;
          }
        if (colon != NULL)
          {
            gchar *st = g_strstrip (colon + 1);

            if (!parse_item (info, st, &step) || step <= 0)
              {
                g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                             "range step '%s' is not a positive %s", st, item_kind (info));
                return NULL;
              }
          }
        else if (info->type != MN_CONFIG_INT && a != b)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "range '%s..%s' needs a step (%s..%s:STEP)", item, hi, item, hi);
            return NULL;
          }
        if (b < a)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "range '%s..%s' is empty", item, hi);
            return NULL;
          }
        if ((b - a) / step >= 10000)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "range '%s..%s' has too many values (at most 10000)", item, hi);
            return NULL;
          }
        if (!check_bounds (info, item, a, error) || !check_bounds (info, hi, b, error))
          return NULL;
        for (gint64 v = a; v <= b; v += step)
          g_array_append_val (values, v);
      }
    }
  /* Duplicates would only run the same point twice. */
  for (guint i = 0; i < values->len; i++)
    for (guint j = i + 1; j < values->len; j++)
      if (g_array_index (values, gint64, i) == g_array_index (values, gint64, j))
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "the list '%s' names one value twice", text);
          return NULL;
        }
  return g_steal_pointer (&values);
}

static gboolean
parse_minimise (const gchar *text, GArray **out, GError **error)
{
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (MnMinimiseKey));
  g_auto (GStrv) items = g_strsplit (text, ",", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      gchar *item = g_strstrip (items[i]);
      MnMinimiseKey k = { 0, FALSE };

      if (item[0] == '\0' && items[1] == NULL)
        break;
      if (item[0] == '-')
        {
          k.larger_first = TRUE;
          item = g_strstrip (item + 1);
        }
      if (!mn_sweep_param_from_string (item, &k.param))
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "'%s' is not a swept parameter (nodes, jobs_per_logical, memory_cap, "
                       "swap, gpu_mode, idle_timeout)", item);
          return FALSE;
        }
      for (guint j = 0; j < order->len; j++)
        if (g_array_index (order, MnMinimiseKey, j).param == k.param)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s' is named twice", item);
            return FALSE;
          }
      g_array_append_val (order, k);
    }
  *out = g_steal_pointer (&order);
  return TRUE;
}

static gchar *
resolve_path (const gchar *base_dir, const gchar *text)
{
  g_autofree gchar *expanded = NULL;

  /* ~ and $MINNA_SHARED_DIR let one scenario find ../shared/traces from the
   * source tree or an install. */
  if (g_str_has_prefix (text, "$MINNA_SHARED_DIR/"))
    {
      const gchar *shared = g_getenv ("MINNA_SHARED_DIR");

      if (shared != NULL && shared[0] != '\0')
        expanded = g_build_filename (shared, text + strlen ("$MINNA_SHARED_DIR/"), NULL);
      else
        expanded = g_build_filename (base_dir, "..", "..", "shared",
                                     text + strlen ("$MINNA_SHARED_DIR/"), NULL);
      return g_canonicalize_filename (expanded, NULL);
    }
  return g_canonicalize_filename (text, base_dir);
}


static gboolean
set_path (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  MnSweepScenario *s = object;

  if (text[0] == '\0')
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE, "empty path");
      return FALSE;
    }
  g_free (G_STRUCT_MEMBER (gchar *, s, key->offset));
  G_STRUCT_MEMBER (gchar *, s, key->offset) = resolve_path (s->base_dir, text);
  return TRUE;
}

static gboolean
set_list (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  MnSweepScenario *s = object;
  GArray *values = parse_list (key, text, error);

  if (values == NULL)
    return FALSE;
  g_clear_pointer (&s->values[key->index], g_array_unref);
  s->values[key->index] = values;
  return TRUE;
}

static gboolean
set_target (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  MnSweepScenario *s = object;
  MnConfigValue v;

  if (!mn_config_parse_value (key, text, &v, error))
    return FALSE;
  s->targets[key->index].set = TRUE;
  s->targets[key->index].limit = key->type == MN_CONFIG_SHARE ? v.d
                               : key->type == MN_CONFIG_INT ? (gdouble) v.i : (gdouble) v.u;
  return TRUE;
}

static gboolean
set_minimise (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  MnSweepScenario *s = object;
  GArray *order = NULL;

  if (!parse_minimise (text, &order, error))
    return FALSE;
  g_clear_pointer (&s->minimise, g_array_unref);
  s->minimise = order;
  return TRUE;
}

static gboolean
set_seeds (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  MnSweepScenario *s = object;
  GArray *values = parse_list (key, text, error);

  if (values == NULL)
    return FALSE;
  /* gint64 items of a list are the seeds' guint64, never negative */
  g_clear_pointer (&s->seeds, g_array_unref);
  s->seeds = values;
  return TRUE;
}

static gboolean
set_knob (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  MnSweepScenario *s = object;
  MnConfigValue v;
  gdouble d;

  if (!mn_config_parse_value (key, text, &v, error))
    return FALSE;
  switch (key->type)
    {
    case MN_CONFIG_BOOL: d = v.b ? 1 : 0; break;
    case MN_CONFIG_SHARE:
    case MN_CONFIG_DOUBLE: d = v.d; break;
    case MN_CONFIG_INT: d = (gdouble) v.i; break;
    case MN_CONFIG_UINT:
    case MN_CONFIG_SIZE:
    case MN_CONFIG_DURATION: d = (gdouble) v.u; break;
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
    case MN_CONFIG_ENUM:
    case MN_CONFIG_STRV:
    default: g_assert_not_reached ();
    }
  s->knobs[key->index].set = TRUE;
  s->knobs[key->index].value = d;
  return TRUE;
}

gboolean
mn_sweep_scenario_set_seeds (MnSweepScenario *s, const gchar *text, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!s->world)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_ARGUMENT,
                   "--seeds: %s replays a trace file, which has no seeds (seeds are for a [world])",
                   s->filename);
      return FALSE;
    }
  if (!set_seeds (mn_config_lookup (&table, "world", "seeds"), s, text, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_ARGUMENT, "--seeds: %s",
                   local->message);
      return FALSE;
    }
  return TRUE;
}

static gint64
policy_value (const MnPolicyConfig *p, MnSweepParam param)
{
  switch (param)
    {
    case MN_SWEEP_PARAM_NODES: return p->nodes;
    case MN_SWEEP_PARAM_JOBS_PER_LOGICAL: return p->max_jobs_per_logical;
    case MN_SWEEP_PARAM_MEMORY_CAP: return (gint64) p->job_max_memory_mb;
    case MN_SWEEP_PARAM_SWAP: return (gint64) p->node_swap_mb;
    case MN_SWEEP_PARAM_GPU_MODE: return p->gpu_mode;
    case MN_SWEEP_PARAM_IDLE_TIMEOUT: return p->idle_timeout;
    case MN_SWEEP_PARAM_DESIGN: return p->design;
    case MN_SWEEP_PARAM_EXTRA_JOBS: return p->max_extra_jobs;
    case MN_SWEEP_N_PARAMS:
    default: g_assert_not_reached ();
    }
}

static gboolean
load_policy (MnSweepScenario *s, const MnConfigLines *lines, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (s->policy_path == NULL)
    {
      s->policy = mn_policy_config_new_default ();
      return TRUE;
    }
  if (!g_file_get_contents (s->policy_path, &text, &len, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s:%d: [policy] file: cannot read '%s': %s", s->filename,
                   mn_config_lines_find (lines, "policy", "file"), s->policy_path, local->message);
      return FALSE;
    }
  s->policy = mn_policy_config_load_data (text, len, s->policy_path, &local);
  if (s->policy == NULL)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                   "%s:%d: [policy] file: %s", s->filename,
                   mn_config_lines_find (lines, "policy", "file"), local->message);
      return FALSE;
    }
  return TRUE;
}

/* Whether the text has a [@group] line: a [world] with no key at all still
 * asks for a generated world (with the generator's defaults). */
static gboolean
has_group (const gchar *data, gsize length, const gchar *group)
{
  g_autofree gchar *text = g_strndup (data, length);
  g_autofree gchar *want = g_strdup_printf ("[%s]", group);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_equal (g_strstrip (lines[i]), want))
      return TRUE;
  return FALSE;
}

/* Either a trace file or a generated [world], and a world the generator
 * takes. */
static gboolean
check_source (MnSweepScenario *s, const MnConfigLines *lines, GError **error)
{
  if (s->trace_path == NULL && !s->world)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_MISSING_KEY,
                   "%s: [trace] path: required key missing (or a [world] group to generate "
                   "the world)", s->filename);
      return FALSE;
    }
  if (s->trace_path != NULL && s->world)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                   "%s:%u: [trace] path: a scenario replays either a trace file or a "
                   "generated [world], not both", s->filename,
                   mn_config_lines_find (lines, "trace", "path"));
      return FALSE;
    }
  if (!s->world)
    {
      /* a trace file is one run; "seed 0" stands for it */
      guint64 zero = 0;

      g_array_set_size (s->seeds, 0);
      g_array_append_val (s->seeds, zero);
      return TRUE;
    }
  {
    const gchar *key = NULL;
    g_autoptr (GError) local = NULL;

    if (!mn_sweep_world_check (s, &key, &local))
      {
        g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE, "%s:%u: [world] %s: %s",
                     s->filename, mn_config_lines_find (lines, "world", key), key, local->message);
        return FALSE;
      }
  }
  return TRUE;
}

/* Keys that are valid alone but not together. */
static gboolean
check_consistency (MnSweepScenario *s, const MnConfigLines *lines, GError **error)
{
  struct { MnInteractiveRule rule; const gchar *key; gboolean missing; } needs[] = {
    { MN_INTERACTIVE_BY_QUEUE, "interactive_queues", g_strv_length (s->interactive_queues) == 0 },
    { MN_INTERACTIVE_BY_NAME, "interactive_name", s->interactive_name[0] == '\0' },
    { MN_INTERACTIVE_BY_USERS, "interactive_users", g_strv_length (s->interactive_users) == 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (needs); i++)
    if ((gint) needs[i].rule == s->interactive && needs[i].missing)
      {
        g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_MISSING_KEY,
                     "%s:%d: [trace] interactive: '%s' needs [trace] %s", s->filename,
                     mn_config_lines_find (lines, "trace", "interactive"),
                     rule_choices[s->interactive], needs[i].key);
        return FALSE;
      }
  if (s->machine_nodes > 0)
    for (guint i = 0; i < s->values[MN_SWEEP_PARAM_NODES]->len; i++)
      if (g_array_index (s->values[MN_SWEEP_PARAM_NODES], gint64, i) >= s->machine_nodes)
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "%s:%d: [sweep] nodes: %" G_GINT64_FORMAT " nodes carved out leave "
                       "nothing for all.q (the machine has %" G_GINT64_FORMAT ")", s->filename,
                       mn_config_lines_find (lines, "sweep", "nodes"),
                       g_array_index (s->values[MN_SWEEP_PARAM_NODES], gint64, i), s->machine_nodes);
          return FALSE;
        }
  return TRUE;
}

MnSweepScenario *
mn_sweep_scenario_load_data (const gchar *data, gsize length, const gchar *filename,
                             GError **error)
{
  g_autoptr (MnSweepScenario) s = g_new0 (MnSweepScenario, 1);
  g_autoptr (MnConfigLines) lines = NULL;
  g_autofree gchar *base = g_path_get_basename (filename);
  g_autofree gchar *dir = g_path_get_dirname (filename);

  s->filename = g_strdup (filename);
  s->base_dir = g_canonicalize_filename (dir, NULL);
  /* Defaults first, then the file's keys in the file's order. */
  mn_config_init (&table, s);
  s->name = g_str_has_suffix (base, ".scenario")
    ? g_strndup (base, strlen (base) - strlen (".scenario")) : g_strdup (base);
  if (!mn_config_load_data (&table, s, data, (gssize) length, filename, &lines, error))
    return NULL;
  s->world = has_group (data, length, "world");
  if (!check_source (s, lines, error))
    return NULL;
  if (!load_policy (s, lines, error))
    return NULL;
  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    if (s->values[p] == NULL)
      {
        gint64 v = policy_value (s->policy, p);

        s->values[p] = g_array_new (FALSE, FALSE, sizeof (gint64));
        g_array_append_val (s->values[p], v);
      }
  if (!check_consistency (s, lines, error))
    return NULL;
  return g_steal_pointer (&s);
}

MnSweepScenario *
mn_sweep_scenario_load_file (const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot read scenario '%s': %s",
                   path, local->message);
      return NULL;
    }
  return mn_sweep_scenario_load_data (text, len, path, error);
}

void
mn_sweep_scenario_free (MnSweepScenario *s)
{
  if (s == NULL)
    return;
  g_free (s->name);
  g_free (s->description);
  g_free (s->filename);
  g_free (s->base_dir);
  g_free (s->trace_path);
  g_clear_pointer (&s->seeds, g_array_unref);
  g_free (s->lectures);
  g_strfreev (s->interactive_queues);
  g_free (s->interactive_name);
  g_strfreev (s->interactive_users);
  g_free (s->policy_path);
  g_clear_pointer (&s->policy, mn_policy_config_free);
  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    g_clear_pointer (&s->values[p], g_array_unref);
  g_clear_pointer (&s->minimise, g_array_unref);
  g_free (s);
}

void
mn_sweep_scenario_classify (const MnSweepScenario *s, MnTraceJob *job)
{
  switch ((MnInteractiveRule) s->interactive)
    {
    case MN_INTERACTIVE_BY_TRACE:
      return;
    case MN_INTERACTIVE_BY_QUEUE:
      job->interactive = job->queue != NULL
        && g_strv_contains ((const gchar *const *) s->interactive_queues, job->queue);
      return;
    case MN_INTERACTIVE_BY_NAME:
      job->interactive = job->name != NULL
        && g_pattern_match_simple (s->interactive_name, job->name);
      return;
    case MN_INTERACTIVE_BY_USERS:
      job->interactive = job->user != NULL
        && g_strv_contains ((const gchar *const *) s->interactive_users, job->user);
      return;
    case MN_INTERACTIVE_BY_RULE:
      {
        gint64 procs = job->procs > 0 ? job->procs : job->procs_alloc;

        if (procs <= 0 && job->rtype != MN_RTYPE_NONE)
          procs = (gint64) mn_resource_type_info (job->rtype)->cores * job->rtype_count;
        job->interactive = procs > 0 && procs <= s->interactive_max_procs
          && job->runtime >= 0 && job->runtime <= s->interactive_max_runtime;
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

/* The table's reference, with each [world] knob's default printed from the
 * generator (mn_trace_gen_options_init) and its source after its help: the
 * README and the generator cannot disagree. */
gchar *
mn_sweep_scenario_describe_keys (void)
{
  g_autofree MnConfigKey *copy = g_memdup2 (keys, sizeof keys);
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  MnConfigTable t = table;

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      gchar *def = NULL, *help = NULL;

      if (!g_str_equal (keys[i].group, "world"))
        continue;
      if (keys[i].set == set_knob)
        def = mn_sweep_world_default_text (keys[i].index);
      else if (g_str_equal (keys[i].name, "lectures"))
        def = mn_sweep_world_default_lectures ();
      if (def != NULL)
        {
          g_ptr_array_add (texts, def);
          copy[i].def = def;
        }
      for (gsize k = 0; k < G_N_ELEMENTS (world_sources); k++)
        if (g_str_equal (world_sources[k].key, keys[i].name))
          {
            help = g_strdup_printf ("%s Source: %s.", keys[i].help, world_sources[k].source);
            g_ptr_array_add (texts, help);
            copy[i].help = help;
          }
    }
  t.keys = copy;
  return mn_config_describe_markdown (&t);
}
