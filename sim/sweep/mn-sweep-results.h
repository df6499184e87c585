/* mn-sweep-results.h: a finished sweep: every point's metrics on every
 * seed, the targets checked at each, the recommendation (the cheapest point
 * that meets every target on every seed), how close the next smaller one
 * came, and the files that say so (results.json, results.csv,
 * recommended.conf). */
#pragma once

#include "mn-sweep-runner.h"

G_BEGIN_DECLS

/* The engine metrics a sweep reads, by JSON path in the engine's schema
 * (sim/engine/README.md).  One table in mn-sweep-results.c maps them. */
typedef enum {
  MN_METRIC_SHARE_IMMEDIATE,
  MN_METRIC_REQUESTS,
  MN_METRIC_STARTED,
  MN_METRIC_REJECTED,
  MN_METRIC_REJECTED_OWN_LIMIT,
  MN_METRIC_WAIT_P50,
  MN_METRIC_WAIT_P95,
  MN_METRIC_WAIT_P99,
  MN_METRIC_WAIT_MAX,
  MN_METRIC_OOM_KILLS,
  MN_METRIC_MEMORY_CAP_KILLS,
  MN_METRIC_SWAP_TIME_SHARE,
  MN_METRIC_SWAP_PEAK_MB,
  MN_METRIC_GPU_ALLOC_FAILURES,
  MN_METRIC_SLOT_OCCUPANCY,
  MN_METRIC_BATCH_WAIT_MEAN,
  MN_METRIC_BATCH_WAIT_P95,
  MN_METRIC_BATCH_BSLD_MEAN,
  MN_METRIC_BATCH_UTILIZATION,
  MN_METRIC_BATCH_WAIT_GE_24H_SHARE,
  MN_N_METRICS
} MnMetric;

/* Figures the sweep derives from the metrics (and the baseline). */
typedef enum {
  MN_FIGURE_WORST_HOUR_SHARE,    /* see mn_sweep_worst_hour_share() */
  MN_FIGURE_ADMITTED_SHARE,      /* started / (requests - own-limit refusals) */
  MN_FIGURE_REFUSED_SHARE,       /* finally refused / requests, every reason */
  MN_FIGURE_BATCH_WAIT_INCREASE, /* batch mean wait / the same seed's baseline - 1 */
  MN_N_FIGURES
} MnFigure;

/* Per-hour / per-day series. */
typedef enum {
  MN_SERIES_LAUNCHES_BY_HOUR,
  MN_SERIES_IMMEDIATE_BY_HOUR,
  MN_SERIES_LAUNCHES_BY_WEEKDAY,
  MN_SERIES_UTILIZATION_BY_DAY,
  MN_SERIES_PER_USER_REJECTED_BY_HOUR,  /* the sweep adapter's, not the engine's */
  MN_N_SERIES
} MnSeries;

const gchar *mn_metric_column (MnMetric metric);   /* CSV column name */
const gchar *mn_figure_column (MnFigure figure);
/* The node at a dotted @path ("batch.wait_mean") below @obj, NULL if absent;
 * the number it holds (NAN if absent or not a number); the array of
 * numbers it holds (NULL if absent; free with g_array_unref).  A path
 * "a.b[].c" is member c of each object of the array a.b
 * ("batch.by_month[].wait_p95").  Also what minna-report reads
 * results.json with. */
JsonNode    *mn_sweep_json_path (JsonObject *obj, const gchar *path);
gdouble      mn_sweep_json_number (JsonNode *node);
GArray      *mn_sweep_json_series (JsonObject *obj, const gchar *path);
/* The array of @path ("a.b" or "a.b[].c"); @member gets "c" or NULL. */
JsonArray   *mn_sweep_json_elements (JsonObject *obj, const gchar *path, const gchar **member);
/* NAN when absent or not a number. */
gdouble      mn_sweep_metric (JsonObject *metrics, MnMetric metric);
/* NAN when what it needs is absent; @baseline only for the batch cost. */
gdouble      mn_sweep_figure (JsonObject *metrics, JsonObject *baseline, MnFigure figure);
/* NULL when absent; else an array of doubles (free with g_array_unref). */
GArray      *mn_sweep_series (JsonObject *metrics, MnSeries series);

/* min over hours of day of (started immediately / requests), leaving out
 * requests refused by the per-user limit; @hour gets the worst hour. */
gdouble      mn_sweep_worst_hour_share (JsonObject *metrics, gint *hour);
/* TRUE when interactive requests were made (beyond the user's own limit)
 * and not one got a session: such a point is never recommended. */
gboolean     mn_sweep_refuses_all (JsonObject *metrics);

/* A figure over the seeds: the median and the range.  NAN values are left
 * out; all NAN gives NAN. */
typedef struct {
  gdouble median;
  gdouble min;
  gdouble max;
  guint   n;        /* values that were numbers */
} MnRange;

MnRange      mn_sweep_range (const gdouble *values, guint n);

typedef struct {
  gboolean set;
  gdouble  value;     /* measured; NAN if the metric is missing */
  gdouble  limit;
  gdouble  margin;    /* >= 0 passes; in the target's unit, signed so that larger is better */
  gboolean pass;
  gint     worst_hour;/* MN_TARGET_IMMEDIATE_SHARE: the hour of the minimum, else -1 */
} MnTargetResult;

/* One point on one seed. */
typedef struct {
  JsonObject    *metrics;
  JsonObject    *baseline;    /* the same seed's baseline (not owned) */
  MnTargetResult targets[MN_N_TARGETS];
  gboolean       refuses_all;
  guint          n_failed;    /* targets missed, + 1 when it refuses every request */
  gdouble        shortfall;   /* sum of relative shortfalls of failed targets */
} MnSweepRun;

/* One target over the seeds. */
typedef struct {
  gboolean set;
  gdouble  limit;
  MnRange  value;
  gdouble  worst_margin;   /* the smallest margin over the seeds (NAN if unmeasured on one) */
  guint    worst_seed;     /* seed index of the worst margin */
  guint    seeds_failed;
  gboolean pass;           /* met on every seed */
} MnTargetSummary;

typedef struct {
  MnSweepPoint   *point;       /* owned by the results' points array */
  MnSweepRun     *runs;        /* [n_seeds] */
  MnTargetSummary targets[MN_N_TARGETS];
  guint           seeds_failed;
  guint           failures;    /* (target, seed) pairs missed, refusals included */
  gdouble         shortfall;   /* summed over the seeds */
  gboolean        refuses_all; /* on some seed */
  gboolean        pass;        /* every target on every seed, and admits something */
} MnSweepOutcome;

typedef struct {
  const MnSweepScenario *scenario;
  GPtrArray             *points;    /* MnSweepPoint*, index order */
  guint                  n_seeds;   /* scenario->seeds->len */
  GPtrArray             *baselines; /* JsonObject* per seed (NULL entries if not run) */
  GPtrArray             *outcomes;  /* MnSweepOutcome*, one per point */
  gint                   recommended; /* point index, -1 if none meets every target on every seed */
  gint                   best;        /* == recommended, else the closest point */
  /* The closest of the points one step cheaper in the first minimise key
   * (nodes=3 when 4 is recommended); -1 when there is none. */
  gint                   next_smaller;
  gint                   unenforced;   /* cheapest point meeting every target whose design minna-controller does not enforce, -1 */
} MnSweepResults;

/* Takes references to @points; @baselines (one per seed, entries may be
 * NULL) and @metrics (point-major: point i on seed s at i * n_seeds + s)
 * are referenced.  Checks the targets and recommends. */
MnSweepResults *mn_sweep_results_new (const MnSweepScenario *scenario,
                                      GPtrArray             *points,
                                      GPtrArray             *baselines,
                                      GPtrArray             *metrics);
void            mn_sweep_results_free (MnSweepResults *results);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSweepResults, mn_sweep_results_free)

/* The outcome of point @index, NULL for -1. */
MnSweepOutcome *mn_sweep_results_outcome_at (MnSweepResults *results, gint index);
/* The trace reader's figures of a replay (the same for every run), or NULL
 * for a generated world or a runner that does not say. */
JsonObject     *mn_sweep_results_trace_read (MnSweepResults *results);

/* Compare two points by the scenario's minimise order (<0: @a is cheaper). */
gint mn_sweep_compare_cost (const MnSweepScenario *scenario,
                            const MnSweepPoint *a, const MnSweepPoint *b);

JsonNode *mn_sweep_results_to_json (MnSweepResults *results);
gchar    *mn_sweep_results_to_csv (MnSweepResults *results);
/* The recommended point's policy file, NULL if there is none. */
gchar    *mn_sweep_results_recommended_conf (MnSweepResults *results);
/* What a planner reads on stdout: the recommendation and every target's
 * median, range and worst margin over the seeds, how close the next smaller
 * configuration came, or which targets fail at the best point and by how
 * much. */
gchar    *mn_sweep_results_summary (MnSweepResults *results);

/* results.json, results.csv and recommended.conf (removed when there is no
 * recommendation) in @dir, created if needed. */
gboolean  mn_sweep_results_write (MnSweepResults *results, const gchar *dir, GError **error);

/* Text of a number for people: 0.973 -> "97.30%", 3600 s -> "60.0 min". */
gchar *mn_sweep_format_target_value (MnTargetKind kind, gdouble value);
/* "+0.80 points", "-60 s". */
gchar *mn_sweep_format_margin (MnTargetKind kind, gdouble margin);

G_END_DECLS
