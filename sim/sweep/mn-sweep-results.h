/* mn-sweep-results.h: a finished sweep: every point's metrics, the targets
 * checked at each point, the recommendation, and the files that say so
 * (results.json, results.csv, recommended.conf). */
#pragma once

#include "mn-sweep-runner.h"

G_BEGIN_DECLS

/* The engine metrics a sweep reads, by JSON path in the engine's schema
 * (sim/engine/README.md).  One table in mn-sweep-results.c maps them. */
typedef enum {
  MN_METRIC_SHARE_IMMEDIATE,
  MN_METRIC_REQUESTS,
  MN_METRIC_REJECTED,
  MN_METRIC_WAIT_P50,
  MN_METRIC_WAIT_P95,
  MN_METRIC_WAIT_P99,
  MN_METRIC_WAIT_MAX,
  MN_METRIC_OOM_KILLS,
  MN_METRIC_SWAP_TIME_SHARE,
  MN_METRIC_SWAP_PEAK_MB,
  MN_METRIC_GPU_ALLOC_FAILURES,
  MN_METRIC_SLOT_OCCUPANCY,
  MN_METRIC_BATCH_WAIT_MEAN,
  MN_METRIC_BATCH_WAIT_P95,
  MN_METRIC_BATCH_BSLD_MEAN,
  MN_METRIC_BATCH_UTILIZATION,
  MN_N_METRICS
} MnMetric;

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
/* The node at a dotted @path ("batch.wait_mean") below @obj, NULL if absent;
 * the number it holds (NAN if absent or not a number); the array of
 * numbers it holds (NULL if absent; free with g_array_unref).  Also what
 * minna-report reads results.json with. */
JsonNode    *mn_sweep_json_path (JsonObject *obj, const gchar *path);
gdouble      mn_sweep_json_number (JsonNode *node);
GArray      *mn_sweep_json_series (JsonObject *obj, const gchar *path);
/* NAN when absent or not a number. */
gdouble      mn_sweep_metric (JsonObject *metrics, MnMetric metric);
/* NULL when absent; else an array of doubles (free with g_array_unref). */
GArray      *mn_sweep_series (JsonObject *metrics, MnSeries series);

/* min over hours of day of (started immediately / requests), leaving out
 * requests refused by the per-user limit; @hour gets the worst hour. */
gdouble      mn_sweep_worst_hour_share (JsonObject *metrics, gint *hour);

typedef struct {
  gboolean set;
  gdouble  value;     /* measured; NAN if the metric is missing */
  gdouble  limit;
  gdouble  margin;    /* >= 0 passes; in the target's unit, signed so that larger is better */
  gboolean pass;
  gint     worst_hour;/* MN_TARGET_IMMEDIATE_SHARE: the hour of the minimum, else -1 */
} MnTargetResult;

typedef struct {
  MnSweepPoint  *point;       /* owned by the results' points array */
  JsonObject    *metrics;
  MnTargetResult targets[MN_N_TARGETS];
  guint          n_failed;
  gdouble        shortfall;   /* sum of relative shortfalls of failed targets */
} MnSweepOutcome;

typedef struct {
  const MnSweepScenario *scenario;
  GPtrArray             *points;    /* MnSweepPoint*, index order */
  MnSweepPoint          *baseline_point;
  JsonObject            *baseline;  /* the baseline's metrics; NULL if not run */
  GPtrArray             *outcomes;  /* MnSweepOutcome*, one per point */
  gint                   recommended; /* point index, -1 if none meets every target */
  gint                   best;        /* == recommended, else the closest point */
} MnSweepResults;

/* Takes references to @points; @baseline and each of @metrics (one per point,
 * in order) are referenced.  Checks the targets and recommends. */
MnSweepResults *mn_sweep_results_new (const MnSweepScenario *scenario,
                                      GPtrArray             *points,
                                      JsonObject            *baseline,
                                      GPtrArray             *metrics);
void            mn_sweep_results_free (MnSweepResults *results);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSweepResults, mn_sweep_results_free)

/* Compare two points by the scenario's minimise order (<0: @a is cheaper). */
gint mn_sweep_compare_cost (const MnSweepScenario *scenario,
                            const MnSweepPoint *a, const MnSweepPoint *b);

JsonNode *mn_sweep_results_to_json (MnSweepResults *results);
gchar    *mn_sweep_results_to_csv (MnSweepResults *results);
/* The recommended point's policy file, NULL if there is none. */
gchar    *mn_sweep_results_recommended_conf (MnSweepResults *results);
/* What a planner reads on stdout: the recommendation and every target's
 * margin, or which targets fail at the best point and by how much. */
gchar    *mn_sweep_results_summary (MnSweepResults *results);

/* results.json, results.csv and recommended.conf (removed when there is no
 * recommendation) in @dir, created if needed. */
gboolean  mn_sweep_results_write (MnSweepResults *results, const gchar *dir, GError **error);

/* Text of a number for people: 0.973 -> "97.3%", 3600 s -> "1 h 0 min". */
gchar *mn_sweep_format_target_value (MnTargetKind kind, gdouble value);

G_END_DECLS
