/* mn-sweep-results.c: targets, margins and the recommendation. */
#define G_LOG_DOMAIN "minna-sweep"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mn-sweep-results.h"

/* Engine metrics by path (sim/engine/README.md).  The only place that knows
 * the engine's JSON names. */
static const struct {
  const gchar *column;
  const gchar *path;
} metric_info[MN_N_METRICS] = {
  { "share_immediate", "interactive.share_immediate" },
  { "requests", "interactive.requests" },
  { "rejected", "interactive.rejected" },
  { "wait_p50_s", "interactive.wait_p50" },
  { "wait_p95_s", "interactive.wait_p95" },
  { "wait_p99_s", "interactive.wait_p99" },
  { "wait_max_s", "interactive.wait_max" },
  { "oom_kills", "interactive.oom_kills" },
  { "swap_time_share", "interactive.swap_time_share" },
  { "swap_peak_mb", "interactive.swap_peak_mb" },
  { "gpu_alloc_failures", "interactive.gpu_alloc_failures" },
  { "slot_occupancy", "interactive.slot_occupancy" },
  { "batch_wait_mean_s", "batch.wait_mean" },
  { "batch_wait_p95_s", "batch.wait_p95" },
  { "batch_bounded_slowdown_mean", "batch.bounded_slowdown_mean" },
  { "batch_utilization", "batch.utilization" },
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

GArray *
mn_sweep_json_series (JsonObject *obj, const gchar *path)
{
  JsonNode *node = obj != NULL ? mn_sweep_json_path (obj, path) : NULL;
  JsonArray *array;
  GArray *out;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  out = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gdouble v = mn_sweep_json_number (json_array_get_element (array, i));

      g_array_append_val (out, v);
    }
  return out;
}

gdouble
mn_sweep_metric (JsonObject *metrics, MnMetric metric)
{
  if (metrics == NULL)
    return NAN;
  return mn_sweep_json_number (mn_sweep_json_path (metrics, metric_info[metric].path));
}

GArray *
mn_sweep_series (JsonObject *metrics, MnSeries series)
{
  return mn_sweep_json_series (metrics, series_path[series]);
}

/* ---- targets -------------------------------------------------------------- */

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

static gdouble
batch_wait_increase (JsonObject *metrics, JsonObject *baseline)
{
  gdouble w = mn_sweep_metric (metrics, MN_METRIC_BATCH_WAIT_MEAN);
  gdouble b = mn_sweep_metric (baseline, MN_METRIC_BATCH_WAIT_MEAN);

  if (isnan (w) || isnan (b))
    return NAN;
  if (b <= 0)
    return w <= 0 ? 0.0 : INFINITY;
  return w / b - 1.0;
}

/* What counts as "a lot" for each target when failures are compared. */
static gdouble
scale_of (MnTargetKind kind, gdouble limit)
{
  gdouble floor_ = g_str_equal (mn_target_unit (kind), "share") ? 0.01 : 1.0;

  return MAX (fabs (limit), floor_);
}

static void
check_targets (const MnSweepScenario *s, MnSweepOutcome *o, JsonObject *baseline)
{
  o->n_failed = 0;
  o->shortfall = 0;
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      MnTargetResult *t = &o->targets[k];

      t->set = s->targets[k].set;
      t->limit = s->targets[k].limit;
      t->worst_hour = -1;
      switch ((MnTargetKind) k)
        {
        case MN_TARGET_IMMEDIATE_SHARE:
          t->value = mn_sweep_worst_hour_share (o->metrics, &t->worst_hour);
          break;
        case MN_TARGET_WAIT_P99:
          t->value = mn_sweep_metric (o->metrics, MN_METRIC_WAIT_P99);
          break;
        case MN_TARGET_OOM_KILLS:
          t->value = mn_sweep_metric (o->metrics, MN_METRIC_OOM_KILLS);
          break;
        case MN_TARGET_SWAP_SHARE:
          t->value = mn_sweep_metric (o->metrics, MN_METRIC_SWAP_TIME_SHARE);
          break;
        case MN_TARGET_BATCH_WAIT_INCREASE:
          t->value = batch_wait_increase (o->metrics, baseline);
          break;
        case MN_N_TARGETS:
        default:
          g_assert_not_reached ();
        }
      if (!t->set)
        {
          t->pass = TRUE;
          t->margin = NAN;
          continue;
        }
      t->margin = mn_target_is_minimum (k) ? t->value - t->limit : t->limit - t->value;
      /* A missing metric fails: a target nobody measured is not met. */
      t->pass = !isnan (t->margin) && t->margin >= -1e-12;
      if (!t->pass)
        {
          o->n_failed++;
          o->shortfall += isfinite (t->margin) ? -t->margin / scale_of (k, t->limit) : 1e9;
        }
    }
}

gint
mn_sweep_compare_cost (const MnSweepScenario *s, const MnSweepPoint *a, const MnSweepPoint *b)
{
  for (guint i = 0; s->minimise != NULL && i < s->minimise->len; i++)
    {
      const MnMinimiseKey *k = &g_array_index (s->minimise, MnMinimiseKey, i);
      gint64 va = a->values[k->param], vb = b->values[k->param];

      if (va != vb)
        return ((va < vb) != k->larger_first) ? -1 : 1;
    }
  return (a->index > b->index) - (a->index < b->index);
}

/* Closest to meeting every target: fewest failures, then the smallest
 * shortfall, then the cheapest. */
static gint
compare_failing (const MnSweepScenario *s, const MnSweepOutcome *a, const MnSweepOutcome *b)
{
  if (a->n_failed != b->n_failed)
    return a->n_failed < b->n_failed ? -1 : 1;
  if (a->shortfall != b->shortfall)
    return a->shortfall < b->shortfall ? -1 : 1;
  return mn_sweep_compare_cost (s, a->point, b->point);
}

static void
outcome_free (MnSweepOutcome *o)
{
  g_clear_pointer (&o->metrics, json_object_unref);
  g_free (o);
}

MnSweepResults *
mn_sweep_results_new (const MnSweepScenario *scenario, GPtrArray *points,
                      JsonObject *baseline, GPtrArray *metrics)
{
  MnSweepResults *r = g_new0 (MnSweepResults, 1);

  g_return_val_if_fail (points->len == metrics->len, NULL);
  r->scenario = scenario;
  r->points = g_ptr_array_ref (points);
  r->baseline = baseline != NULL ? json_object_ref (baseline) : NULL;
  r->outcomes = g_ptr_array_new_with_free_func ((GDestroyNotify) outcome_free);
  r->recommended = -1;
  r->best = -1;
  for (guint i = 0; i < points->len; i++)
    {
      MnSweepOutcome *o = g_new0 (MnSweepOutcome, 1);

      o->point = g_ptr_array_index (points, i);
      o->metrics = json_object_ref (g_ptr_array_index (metrics, i));
      check_targets (scenario, o, r->baseline);
      g_ptr_array_add (r->outcomes, o);
      if (o->n_failed == 0)
        {
          if (r->recommended < 0
              || mn_sweep_compare_cost (scenario, o->point,
                                        ((MnSweepOutcome *) g_ptr_array_index (r->outcomes, r->recommended))->point) < 0)
            r->recommended = i;
        }
      if (r->best < 0
          || compare_failing (scenario, o, g_ptr_array_index (r->outcomes, r->best)) < 0)
        r->best = i;
    }
  if (r->recommended >= 0)
    r->best = r->recommended;
  return r;
}

void
mn_sweep_results_free (MnSweepResults *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->outcomes, g_ptr_array_unref);
  g_clear_pointer (&r->points, g_ptr_array_unref);
  g_clear_pointer (&r->baseline, json_object_unref);
  g_free (r);
}

/* ---- text ----------------------------------------------------------------- */

gchar *
mn_sweep_format_target_value (MnTargetKind kind, gdouble v)
{
  const gchar *unit = mn_target_unit (kind);

  if (isnan (v))
    return g_strdup ("n/a");
  if (isinf (v))
    return g_strdup (v > 0 ? "infinite" : "-infinite");
  if (g_str_equal (unit, "share"))
    return g_strdup_printf ("%.2f%%", v * 100.0);
  if (g_str_equal (unit, "s"))
    {
      gdouble a = fabs (v);

      if (a < 120)
        return g_strdup_printf ("%.0f s", v);
      if (a < 7200)
        return g_strdup_printf ("%.1f min", v / 60);
      return g_strdup_printf ("%.1f h", v / 3600);
    }
  return g_strdup_printf ("%.0f %s", v, unit);
}

static gchar *
format_margin (MnTargetKind kind, gdouble margin)
{
  g_autofree gchar *v = mn_sweep_format_target_value (kind, fabs (margin));

  if (isnan (margin))
    return g_strdup ("n/a");
  if (g_str_equal (mn_target_unit (kind), "share"))
    {
      g_free (v);
      v = g_strdup_printf ("%.2f points", fabs (margin) * 100.0);
    }
  return g_strdup_printf ("%s%s", margin < 0 ? "-" : "+", v);
}

/* The busiest hour of the day (the lecture): what a user pressing Launch
 * then sees in the baseline and at the chosen point. */
static void
summary_peak (GString *out, JsonObject *baseline, JsonObject *point)
{
  g_autoptr (GArray) launches = mn_sweep_series (baseline, MN_SERIES_LAUNCHES_BY_HOUR);
  g_autoptr (GArray) b_now = mn_sweep_series (baseline, MN_SERIES_IMMEDIATE_BY_HOUR);
  g_autoptr (GArray) p_now = mn_sweep_series (point, MN_SERIES_IMMEDIATE_BY_HOUR);
  g_autoptr (GArray) own = mn_sweep_series (point, MN_SERIES_PER_USER_REJECTED_BY_HOUR);
  JsonNode *bm = mn_sweep_json_path (baseline, "sweep.wait_mean_by_hour_s");
  JsonNode *bp = mn_sweep_json_path (baseline, "sweep.wait_p95_by_hour_s");
  guint peak = 0;
  gdouble n, admitted;
  g_autofree gchar *mean = NULL, *p95 = NULL;

  if (launches == NULL || launches->len != 24 || b_now == NULL || p_now == NULL
      || bm == NULL || bp == NULL || !JSON_NODE_HOLDS_ARRAY (bm) || !JSON_NODE_HOLDS_ARRAY (bp))
    return;
  for (guint h = 1; h < 24; h++)
    if (g_array_index (launches, gdouble, h) > g_array_index (launches, gdouble, peak))
      peak = h;
  n = g_array_index (launches, gdouble, peak);
  admitted = n - (own != NULL && own->len == 24 ? g_array_index (own, gdouble, peak) : 0);
  if (!(n > 0) || !(admitted > 0))
    return;
  mean = mn_sweep_format_target_value (MN_TARGET_WAIT_P99,
                                       mn_sweep_json_number (json_array_get_element (json_node_get_array (bm), peak)));
  p95 = mn_sweep_format_target_value (MN_TARGET_WAIT_P99,
                                      mn_sweep_json_number (json_array_get_element (json_node_get_array (bp), peak)));
  g_string_append_printf (out, "Peak hour %02d:00 (%.0f launches): baseline %.1f%% started immediately, "
                          "mean wait %s, p95 %s; with this interactive.q %.1f%% of those admitted.\n",
                          peak, n, g_array_index (b_now, gdouble, peak) / n * 100, mean, p95,
                          g_array_index (p_now, gdouble, peak) / admitted * 100);
}

gchar *
mn_sweep_results_summary (MnSweepResults *r)
{
  GString *out = g_string_new (NULL);
  const MnSweepOutcome *o;
  g_autofree gchar *what = NULL;

  if (r->best < 0)
    return g_string_free (g_string_append (out, "The sweep has no points.\n"), FALSE);
  o = g_ptr_array_index (r->outcomes, r->best);
  what = mn_sweep_point_describe (o->point, FALSE);
  if (r->recommended >= 0)
    g_string_append_printf (out, "Recommended: point %u of %u: %s\n", o->point->index,
                            r->points->len, what);
  else
    g_string_append_printf (out, "No point meets every target.  Closest: point %u of %u: %s\n",
                            o->point->index, r->points->len, what);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetResult *t = &o->targets[k];
      g_autofree gchar *value = NULL, *limit = NULL, *margin = NULL;

      if (!t->set)
        continue;
      value = mn_sweep_format_target_value (k, t->value);
      limit = mn_sweep_format_target_value (k, t->limit);
      margin = format_margin (k, t->margin);
      g_string_append_printf (out, "  %-4s %-27s %s %s %s: %s (margin %s)", t->pass ? "ok" : "FAIL",
                              mn_target_to_string (k), mn_target_is_minimum (k) ? ">=" : "<=",
                              limit, t->pass ? "met" : "missed", value, margin);
      if (k == MN_TARGET_IMMEDIATE_SHARE && t->worst_hour >= 0 && t->value < 1.0)
        g_string_append_printf (out, ", worst at %02d:00", t->worst_hour);
      if (!t->pass)
        g_string_append_printf (out, "  <- fails by %s", margin + 1);
      g_string_append_c (out, '\n');
    }
  if (r->baseline != NULL)
    summary_peak (out, r->baseline, o->metrics);
  if (r->baseline != NULL)
    {
      g_autofree gchar *bw = mn_sweep_format_target_value (MN_TARGET_WAIT_P99,
                                                           mn_sweep_metric (r->baseline, MN_METRIC_WAIT_P99));
      g_autofree gchar *bm = mn_sweep_format_target_value (MN_TARGET_WAIT_P99,
                                                           mn_sweep_metric (r->baseline, MN_METRIC_WAIT_MAX));
      g_autofree gchar *pw = mn_sweep_format_target_value (MN_TARGET_WAIT_P99,
                                                           mn_sweep_metric (o->metrics, MN_METRIC_WAIT_P99));
      gdouble bi = mn_sweep_metric (r->baseline, MN_METRIC_SHARE_IMMEDIATE);
      gdouble pi = mn_sweep_metric (o->metrics, MN_METRIC_SHARE_IMMEDIATE);

      g_string_append_printf (out, "Baseline (interactive jobs in all.q): %.1f%% started immediately, "
                              "p99 wait %s, longest %s.\n", bi * 100, bw, bm);
      {
        JsonNode *n = mn_sweep_json_path (o->metrics, "interactive.rejected_by_reason.per-user-limit");
        gdouble own = mn_sweep_json_number (n), req = mn_sweep_metric (o->metrics, MN_METRIC_REQUESTS);

        if (own > 0 && req > own)
          g_string_append_printf (out, "With this interactive.q: %.1f%% of the requests it admits started "
                                  "immediately, p99 wait %s (%.1f%% of all requests were refused by the "
                                  "per-user limit).\n", pi * req / (req - own) * 100, pw,
                                  own / req * 100);
        else
          g_string_append_printf (out, "With this interactive.q: %.1f%% started immediately, p99 wait %s.\n",
                                  pi * 100, pw);
      }
    }
  return g_string_free (out, FALSE);
}

gchar *
mn_sweep_results_recommended_conf (MnSweepResults *r)
{
  const MnSweepOutcome *o;
  g_autofree gchar *body = NULL;
  g_autofree gchar *what = NULL;

  if (r->recommended < 0)
    return NULL;
  o = g_ptr_array_index (r->outcomes, r->recommended);
  body = mn_policy_config_to_data (o->point->policy);
  what = mn_sweep_point_describe (o->point, FALSE);
  return g_strdup_printf ("# interactive.q sized by minna-sim run %s\n"
                          "# scenario %s, point %u: %s\n"
                          "# Every service target of the scenario is met; see results.json.\n\n%s",
                          r->scenario->name, r->scenario->name, o->point->index, what, body);
}

/* ---- files ---------------------------------------------------------------- */

/* JSON has no NaN or infinity: those become null. */
static void
add_number (JsonBuilder *b, const gchar *name, gdouble v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_params (JsonBuilder *b, const MnSweepPoint *p)
{
  json_builder_set_member_name (b, "parameters");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_SWEEP_N_PARAMS; k++)
    {
      json_builder_set_member_name (b, mn_sweep_param_to_string (k));
      if (k == MN_SWEEP_PARAM_GPU_MODE)
        {
          g_autofree gchar *v = mn_sweep_format_param (k, p->values[k]);

          json_builder_add_string_value (b, v);
        }
      else
        json_builder_add_int_value (b, p->values[k]);
    }
  json_builder_end_object (b);
}

static void
add_targets (JsonBuilder *b, const MnSweepOutcome *o)
{
  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetResult *t = &o->targets[k];

      if (!t->set)
        continue;
      json_builder_set_member_name (b, mn_target_to_string (k));
      json_builder_begin_object (b);
      add_number (b, "value", t->value);
      add_number (b, "limit", t->limit);
      add_number (b, "margin", t->margin);
      json_builder_set_member_name (b, "pass");
      json_builder_add_boolean_value (b, t->pass);
      if (t->worst_hour >= 0)
        {
          json_builder_set_member_name (b, "worst_hour");
          json_builder_add_int_value (b, t->worst_hour);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

JsonNode *
mn_sweep_results_to_json (MnSweepResults *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const MnSweepScenario *s = r->scenario;
  g_autofree gchar *trace = g_path_get_basename (s->trace_path);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, "minna-sweep-results/1");
  json_builder_set_member_name (b, "scenario");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, s->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, s->description);
  json_builder_set_member_name (b, "trace");
  json_builder_add_string_value (b, trace);
  json_builder_set_member_name (b, "machine_nodes");
  json_builder_add_int_value (b, s->machine_nodes);
  json_builder_set_member_name (b, "swept");
  json_builder_begin_array (b);
  for (guint k = 0; k < MN_SWEEP_N_PARAMS; k++)
    if (s->values[k]->len > 1)
      json_builder_add_string_value (b, mn_sweep_param_to_string (k));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "minimise");
  json_builder_begin_array (b);
  for (guint i = 0; s->minimise != NULL && i < s->minimise->len; i++)
    {
      const MnMinimiseKey *k = &g_array_index (s->minimise, MnMinimiseKey, i);
      g_autofree gchar *text = g_strdup_printf ("%s%s", k->larger_first ? "-" : "",
                                                mn_sweep_param_to_string (k->param));

      json_builder_add_string_value (b, text);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    if (s->targets[k].set)
      {
        json_builder_set_member_name (b, mn_target_to_string (k));
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "op");
        json_builder_add_string_value (b, mn_target_is_minimum (k) ? ">=" : "<=");
        add_number (b, "limit", s->targets[k].limit);
        json_builder_set_member_name (b, "unit");
        json_builder_add_string_value (b, mn_target_unit (k));
        json_builder_set_member_name (b, "describe");
        json_builder_add_string_value (b, mn_target_describe (k));
        json_builder_end_object (b);
      }
  json_builder_end_object (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "recommended");
  if (r->recommended >= 0)
    json_builder_add_int_value (b, r->recommended);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "best");
  if (r->best >= 0)
    json_builder_add_int_value (b, r->best);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "failing");
  json_builder_begin_array (b);
  if (r->recommended < 0 && r->best >= 0)
    {
      const MnSweepOutcome *o = g_ptr_array_index (r->outcomes, r->best);

      for (guint k = 0; k < MN_N_TARGETS; k++)
        if (o->targets[k].set && !o->targets[k].pass)
          {
            json_builder_begin_object (b);
            json_builder_set_member_name (b, "target");
            json_builder_add_string_value (b, mn_target_to_string (k));
            add_number (b, "value", o->targets[k].value);
            add_number (b, "limit", o->targets[k].limit);
            add_number (b, "shortfall", -o->targets[k].margin);
            json_builder_end_object (b);
          }
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "baseline");
  if (r->baseline != NULL)
    {
      JsonNode *n = json_node_init_object (json_node_alloc (), r->baseline);

      json_builder_add_value (b, n);
    }
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->outcomes->len; i++)
    {
      const MnSweepOutcome *o = g_ptr_array_index (r->outcomes, i);
      g_autofree gchar *what = mn_sweep_point_describe (o->point, FALSE);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, o->point->index);
      json_builder_set_member_name (b, "describe");
      json_builder_add_string_value (b, what);
      add_params (b, o->point);
      json_builder_set_member_name (b, "pass");
      json_builder_add_boolean_value (b, o->n_failed == 0);
      json_builder_set_member_name (b, "failed");
      json_builder_add_int_value (b, o->n_failed);
      {
        gint hour;

        add_number (b, "worst_hour_share", mn_sweep_worst_hour_share (o->metrics, &hour));
        json_builder_set_member_name (b, "worst_hour");
        json_builder_add_int_value (b, hour);
      }
      add_targets (b, o);
      json_builder_set_member_name (b, "metrics");
      json_builder_add_value (b, json_node_init_object (json_node_alloc (), o->metrics));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
csv_number (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_c (out, ',');
  if (isfinite (v))
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.10g", v));
}

gchar *
mn_sweep_results_to_csv (MnSweepResults *r)
{
  GString *out = g_string_new ("point,nodes,jobs_per_logical,memory_cap_mb,swap_mb,gpu_mode,idle_timeout_s");

  for (guint m = 0; m < MN_N_METRICS; m++)
    g_string_append_printf (out, ",%s", mn_metric_column (m));
  g_string_append (out, ",immediate_share_worst_hour,worst_hour,batch_wait_increase");
  for (guint k = 0; k < MN_N_TARGETS; k++)
    if (r->scenario->targets[k].set)
      g_string_append_printf (out, ",margin_%s", mn_target_to_string (k));
  g_string_append (out, ",failed,pass,recommended\n");
  for (guint i = 0; i < r->outcomes->len; i++)
    {
      const MnSweepOutcome *o = g_ptr_array_index (r->outcomes, i);
      const MnSweepPoint *p = o->point;
      g_autofree gchar *gpu = mn_sweep_format_param (MN_SWEEP_PARAM_GPU_MODE, p->values[MN_SWEEP_PARAM_GPU_MODE]);
      gint hour;
      gdouble worst = mn_sweep_worst_hour_share (o->metrics, &hour);

      g_string_append_printf (out, "%u,%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                              ",%" G_GINT64_FORMAT ",%s,%" G_GINT64_FORMAT,
                              p->index, p->values[0], p->values[1], p->values[2], p->values[3], gpu,
                              p->values[5]);
      for (guint m = 0; m < MN_N_METRICS; m++)
        csv_number (out, mn_sweep_metric (o->metrics, m));
      csv_number (out, worst);
      g_string_append_printf (out, ",%d", hour);
      csv_number (out, batch_wait_increase (o->metrics, r->baseline));
      for (guint k = 0; k < MN_N_TARGETS; k++)
        if (r->scenario->targets[k].set)
          csv_number (out, o->targets[k].margin);
      g_string_append_printf (out, ",%u,%d,%d\n", o->n_failed, o->n_failed == 0,
                              (gint) i == r->recommended);
    }
  return g_string_free (out, FALSE);
}

static gboolean
write_text (const gchar *dir, const gchar *name, const gchar *text, GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local = NULL;

  if (!g_file_set_contents (path, text, -1, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot write '%s': %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
mn_sweep_results_write (MnSweepResults *r, const gchar *dir, GError **error)
{
  g_autoptr (JsonNode) root = mn_sweep_results_to_json (r);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree gchar *json = NULL;
  g_autofree gchar *csv = mn_sweep_results_to_csv (r);
  g_autofree gchar *conf = mn_sweep_results_recommended_conf (r);
  g_autofree gchar *json_nl = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot create '%s': %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json = json_generator_to_data (gen, NULL);
  json_nl = g_strconcat (json, "\n", NULL);
  if (!write_text (dir, "results.json", json_nl, error) || !write_text (dir, "results.csv", csv, error))
    return FALSE;
  if (conf != NULL)
    return write_text (dir, "recommended.conf", conf, error);
  {
    g_autofree gchar *path = g_build_filename (dir, "recommended.conf", NULL);

    /* A stale file from an earlier run would look like an answer. */
    g_unlink (path);
  }
  return TRUE;
}
