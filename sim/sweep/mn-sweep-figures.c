/* mn-sweep-figures.c: what a run measured, read from the engine's metrics
 * JSON (the only place that knows its names), and the figures the targets
 * are set on (worst hour, cost against the baseline, ranges over seeds). */
#define G_LOG_DOMAIN "minna-sweep"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mn-sweep-results.h"

/* Engine metrics by path (sim/engine/README.md).  The only place that knows
 * the engine's JSON names. */
static const struct {
  const gchar *column;
  const gchar *path;
} metric_info[MN_N_METRICS] = {
  { "share_immediate", "interactive.share_immediate" },
  { "requests", "interactive.requests" },
  { "started", "interactive.started" },
  { "rejected", "interactive.rejected" },
  { "rejected_own_limit", "interactive.rejected_by_reason.per-user-limit" },
  { "wait_p50_s", "interactive.wait_p50" },
  { "wait_p95_s", "interactive.wait_p95" },
  { "wait_p99_s", "interactive.wait_p99" },
  { "wait_max_s", "interactive.wait_max" },
  { "oom_kills", "interactive.oom_kills" },
  { "memory_cap_kills", "interactive.memory_cap_kills" },
  { "swap_time_share", "interactive.swap_time_share" },
  { "swap_peak_mb", "interactive.swap_peak_mb" },
  { "gpu_alloc_failures", "interactive.gpu_alloc_failures" },
  { "slot_occupancy", "interactive.slot_occupancy" },
  { "batch_wait_mean_s", "batch.wait_mean" },
  { "batch_wait_p95_s", "batch.wait_p95" },
  { "batch_bounded_slowdown_mean", "batch.bounded_slowdown_mean" },
  { "batch_utilization", "batch.utilization" },
  { "batch_wait_ge_24h_share", "batch.wait_ge_24h_share" },
};

static const gchar *const figure_column[MN_N_FIGURES] = {
  "immediate_share_worst_hour", "admitted_share", "refused_share", "batch_wait_increase",
};

static const gchar *const series_path[MN_N_SERIES] = {
  "interactive.launches_by_hour",
  "interactive.immediate_by_hour",
  "interactive.launches_by_weekday",
  "batch.utilization_by_day",
  "sweep.per_user_rejected_by_hour",
};

const gchar *
mn_metric_column (MnMetric metric)
{
  return metric_info[metric].column;
}

const gchar *
mn_figure_column (MnFigure figure)
{
  return figure_column[figure];
}

JsonNode *
mn_sweep_json_path (JsonObject *obj, const gchar *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *node = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (obj == NULL || !json_object_has_member (obj, parts[i]))
        return NULL;
      node = json_object_get_member (obj, parts[i]);
      obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
    }
  return node;
}

gdouble
mn_sweep_json_number (JsonNode *node)
{
  GType t;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  t = json_node_get_value_type (node);
  if (t == G_TYPE_INT64)
    return (gdouble) json_node_get_int (node);
  if (t == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return NAN;
}

JsonArray *
mn_sweep_json_elements (JsonObject *obj, const gchar *path, const gchar **member)
{
  g_autofree gchar *head = NULL;
  const gchar *split = strstr (path, "[].");
  JsonNode *node;

  *member = NULL;
  if (split != NULL)
    {
      head = g_strndup (path, split - path);
      *member = split + 3;
    }
  node = obj != NULL ? mn_sweep_json_path (obj, head != NULL ? head : path) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  return json_node_get_array (node);
}

GArray *
mn_sweep_json_series (JsonObject *obj, const gchar *path)
{
  const gchar *member = NULL;
  JsonArray *array = mn_sweep_json_elements (obj, path, &member);
  GArray *out;

  if (array == NULL)
    return NULL;
  out = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      gdouble v;

      if (member != NULL)
        v = JSON_NODE_HOLDS_OBJECT (e) ? mn_sweep_json_number (mn_sweep_json_path (json_node_get_object (e), member))
                                       : NAN;
      else
        v = mn_sweep_json_number (e);
      g_array_append_val (out, v);
    }
  return out;
}

gdouble
mn_sweep_metric (JsonObject *metrics, MnMetric metric)
{
  gdouble v;

  if (metrics == NULL)
    return NAN;
  v = mn_sweep_json_number (mn_sweep_json_path (metrics, metric_info[metric].path));
  /* The engine lists only the reasons that occurred. */
  if (isnan (v) && metric == MN_METRIC_REJECTED_OWN_LIMIT
      && mn_sweep_json_path (metrics, "interactive.rejected_by_reason") != NULL)
    return 0;
  return v;
}

GArray *
mn_sweep_series (JsonObject *metrics, MnSeries series)
{
  return mn_sweep_json_series (metrics, series_path[series]);
}

/* ---- figures -------------------------------------------------------------- */

/* The worst hour of day by share started immediately; hours without
 * requests do not count.  1.0 when there are no requests at all.  Requests
 * refused by the per-user limit are the user's own doing, not a shortage of
 * slots: they count in neither part of the share. */
gdouble
mn_sweep_worst_hour_share (JsonObject *metrics, gint *hour)
{
  g_autoptr (GArray) launches = mn_sweep_series (metrics, MN_SERIES_LAUNCHES_BY_HOUR);
  g_autoptr (GArray) immediate = mn_sweep_series (metrics, MN_SERIES_IMMEDIATE_BY_HOUR);
  g_autoptr (GArray) own = mn_sweep_series (metrics, MN_SERIES_PER_USER_REJECTED_BY_HOUR);
  gdouble worst = 1.0;

  *hour = -1;
  if (launches == NULL || immediate == NULL || launches->len != immediate->len)
    return NAN;
  for (guint h = 0; h < launches->len; h++)
    {
      gdouble n = g_array_index (launches, gdouble, h);
      gdouble share;

      if (own != NULL && own->len == launches->len)
        n -= g_array_index (own, gdouble, h);

      if (!(n > 0))
        continue;
      share = g_array_index (immediate, gdouble, h) / n;
      if (*hour < 0 || share < worst)
        {
          worst = share;
          *hour = h;
        }
    }
  return worst;
}

/* Requests that the queue could have served: all of them but those refused
 * because the user already had a session. */
static gdouble
servable (JsonObject *metrics)
{
  gdouble req = mn_sweep_metric (metrics, MN_METRIC_REQUESTS);
  gdouble own = mn_sweep_metric (metrics, MN_METRIC_REJECTED_OWN_LIMIT);

  return req - (isnan (own) ? 0 : own);
}

gboolean
mn_sweep_refuses_all (JsonObject *metrics)
{
  gdouble started = mn_sweep_metric (metrics, MN_METRIC_STARTED);

  return servable (metrics) > 0 && started == 0;
}

gdouble
mn_sweep_figure (JsonObject *metrics, JsonObject *baseline, MnFigure figure)
{
  switch (figure)
    {
    case MN_FIGURE_WORST_HOUR_SHARE:
      {
        gint hour;

        return mn_sweep_worst_hour_share (metrics, &hour);
      }
    case MN_FIGURE_ADMITTED_SHARE:
      {
        gdouble n = servable (metrics), started = mn_sweep_metric (metrics, MN_METRIC_STARTED);

        if (isnan (n) || isnan (started))
          return NAN;
        return n > 0 ? MIN (1.0, started / n) : 1.0;
      }
    case MN_FIGURE_REFUSED_SHARE:
      {
        gdouble req = mn_sweep_metric (metrics, MN_METRIC_REQUESTS);
        gdouble rej = mn_sweep_metric (metrics, MN_METRIC_REJECTED);

        if (isnan (req) || isnan (rej))
          return NAN;
        return req > 0 ? rej / req : 0.0;
      }
    case MN_FIGURE_BATCH_WAIT_INCREASE:
      {
        gdouble w = mn_sweep_metric (metrics, MN_METRIC_BATCH_WAIT_MEAN);
        gdouble b = mn_sweep_metric (baseline, MN_METRIC_BATCH_WAIT_MEAN);

        if (isnan (w) || isnan (b))
          return NAN;
        if (b <= 0)
          return w <= 0 ? 0.0 : INFINITY;
        return w / b - 1.0;
      }
    case MN_N_FIGURES:
    default:
      g_return_val_if_reached (NAN);
    }
}

static int
compare_doubles (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

MnRange
mn_sweep_range (const gdouble *values, guint n)
{
  g_autofree gdouble *v = g_new (gdouble, MAX (n, 1));
  MnRange r = { NAN, NAN, NAN, 0 };

  for (guint i = 0; i < n; i++)
    if (!isnan (values[i]))
      v[r.n++] = values[i];
  if (r.n == 0)
    return r;
  qsort (v, r.n, sizeof (gdouble), compare_doubles);
  r.min = v[0];
  r.max = v[r.n - 1];
  r.median = r.n % 2 == 1 ? v[r.n / 2] : (v[r.n / 2 - 1] + v[r.n / 2]) / 2;
  return r;
}
