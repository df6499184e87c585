/* mn-sweep-results.c: targets, margins over seeds and the recommendation.
 *
 * The rule: a point is recommended only when it meets every target on every
 * seed and admits some request on each; among those, the least by the
 * scenario's minimise order.  One draw of a generated year is one
 * possible year: an answer that holds on seed 1 and not on seed 3 is not an
 * answer.  Beside the recommendation the results say how close the next
 * smaller configuration (one step down in the first minimise key) came, so
 * that a planner sees how much headroom the answer has. */
#define G_LOG_DOMAIN "minna-sweep"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mn-sweep-results.h"
#include "mn-sweep-world.h"

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

/* ---- targets -------------------------------------------------------------- */

/* What counts as "a lot" for each target when failures are compared. */
static gdouble
scale_of (MnTargetKind kind, gdouble limit)
{
  gdouble floor_ = g_str_equal (mn_target_unit (kind), "share") ? 0.01 : 1.0;

  return MAX (fabs (limit), floor_);
}

static gdouble
target_value (MnTargetKind kind, JsonObject *metrics, JsonObject *baseline, gint *worst_hour)
{
  *worst_hour = -1;
  switch (kind)
    {
    case MN_TARGET_IMMEDIATE_SHARE:
      return mn_sweep_worst_hour_share (metrics, worst_hour);
    case MN_TARGET_ADMITTED_SHARE:
      return mn_sweep_figure (metrics, baseline, MN_FIGURE_ADMITTED_SHARE);
    case MN_TARGET_WAIT_P99:
      /* No session started: no wait was measured, and 0 s would read as
       * the best possible service. */
      if (mn_sweep_metric (metrics, MN_METRIC_STARTED) == 0)
        return NAN;
      return mn_sweep_metric (metrics, MN_METRIC_WAIT_P99);
    case MN_TARGET_OOM_KILLS:
      return mn_sweep_metric (metrics, MN_METRIC_OOM_KILLS);
    case MN_TARGET_CAP_KILLS:
      return mn_sweep_metric (metrics, MN_METRIC_MEMORY_CAP_KILLS);
    case MN_TARGET_GPU_FAILURES:
      return mn_sweep_metric (metrics, MN_METRIC_GPU_ALLOC_FAILURES);
    case MN_TARGET_SWAP_SHARE:
      return mn_sweep_metric (metrics, MN_METRIC_SWAP_TIME_SHARE);
    case MN_TARGET_BATCH_WAIT_INCREASE:
      return mn_sweep_figure (metrics, baseline, MN_FIGURE_BATCH_WAIT_INCREASE);
    case MN_N_TARGETS:
    default:
      g_return_val_if_reached (NAN);
    }
}

static void
check_run (const MnSweepScenario *s, MnSweepRun *run)
{
  run->n_failed = 0;
  run->shortfall = 0;
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      MnTargetResult *t = &run->targets[k];

      t->set = s->targets[k].set;
      t->limit = s->targets[k].limit;
      t->value = target_value (k, run->metrics, run->baseline, &t->worst_hour);
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
          run->n_failed++;
          run->shortfall += isfinite (t->margin) ? -t->margin / scale_of (k, t->limit) : 1e9;
        }
    }
  /* Refusing every request would meet many targets trivially (no wait, no
   * swap, no kills): it is a failure whatever the targets say. */
  run->refuses_all = mn_sweep_refuses_all (run->metrics);
  if (run->refuses_all)
    {
      run->n_failed++;
      run->shortfall += 1e9;
    }
}

static void
summarise (const MnSweepScenario *s, MnSweepOutcome *o, guint n_seeds)
{
  g_autofree gdouble *v = g_new (gdouble, n_seeds);

  o->seeds_failed = 0;
  o->failures = 0;
  o->shortfall = 0;
  o->refuses_all = FALSE;
  for (guint r = 0; r < n_seeds; r++)
    {
      o->seeds_failed += o->runs[r].n_failed > 0;
      o->failures += o->runs[r].n_failed;
      o->shortfall += o->runs[r].shortfall;
      o->refuses_all |= o->runs[r].refuses_all;
    }
  o->pass = o->seeds_failed == 0;
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      MnTargetSummary *t = &o->targets[k];

      t->set = s->targets[k].set;
      t->limit = s->targets[k].limit;
      t->seeds_failed = 0;
      t->worst_seed = 0;
      t->worst_margin = NAN;
      for (guint r = 0; r < n_seeds; r++)
        {
          const MnTargetResult *tr = &o->runs[r].targets[k];

          v[r] = tr->value;
          if (!t->set)
            continue;
          t->seeds_failed += !tr->pass;
          /* an unmeasured target (NAN) is the worst of all */
          if (r == 0 || (!isnan (t->worst_margin) && (isnan (tr->margin) || tr->margin < t->worst_margin)))
            {
              t->worst_margin = tr->margin;
              t->worst_seed = r;
            }
        }
      t->value = mn_sweep_range (v, n_seeds);
      t->pass = t->seeds_failed == 0;
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

/* Closest to meeting every target: a point that refuses everything last;
 * then the fewest seeds failing, the fewest misses in all, the smallest
 * shortfall, the cheapest. */
static gint
compare_closeness (const MnSweepScenario *s, const MnSweepOutcome *a, const MnSweepOutcome *b)
{
  if (a->refuses_all != b->refuses_all)
    return a->refuses_all ? 1 : -1;
  if (a->seeds_failed != b->seeds_failed)
    return a->seeds_failed < b->seeds_failed ? -1 : 1;
  if (a->failures != b->failures)
    return a->failures < b->failures ? -1 : 1;
  if (a->shortfall != b->shortfall)
    return a->shortfall < b->shortfall ? -1 : 1;
  return mn_sweep_compare_cost (s, a->point, b->point);
}

static MnSweepOutcome *
outcome_at (MnSweepResults *r, gint i)
{
  return i >= 0 ? g_ptr_array_index (r->outcomes, i) : NULL;
}

/* One step down from the recommendation in the first minimise key: of the
 * points whose value of it is cheaper, those with the value nearest the
 * recommended one; of them, the closest to passing. */
/* Whether minna-controller enforces the point's design: only dedicated
 * (issue 19: the over-subscribing designs are modelled and exported for
 * Slurm, and the controller refuses them at start). */
static gboolean
enforced (const MnSweepOutcome *o)
{
  return o->point->policy->design == MN_DESIGN_DEDICATED;
}

static gint
find_next_smaller (MnSweepResults *r)
{
  const MnSweepScenario *s = r->scenario;
  const MnSweepOutcome *rec = outcome_at (r, r->recommended);
  const MnMinimiseKey *k;
  gint64 rv, step = 0;
  gboolean have_step = FALSE;
  gint best = -1;

  if (rec == NULL || s->minimise == NULL || s->minimise->len == 0)
    return -1;
  k = &g_array_index (s->minimise, MnMinimiseKey, 0);
  rv = rec->point->values[k->param];
  for (guint i = 0; i < r->outcomes->len; i++)
    {
      gint64 v = outcome_at (r, i)->point->values[k->param];
      gboolean cheaper;

      if (!enforced (outcome_at (r, i)))
        continue;
      cheaper = k->larger_first ? v > rv : v < rv;

      if (cheaper && (!have_step || (k->larger_first ? v < step : v > step)))
        {
          step = v;
          have_step = TRUE;
        }
    }
  if (!have_step)
    return -1;
  for (guint i = 0; i < r->outcomes->len; i++)
    {
      const MnSweepOutcome *o = outcome_at (r, i);

      if (o->point->values[k->param] != step || !enforced (o))
        continue;
      if (best < 0 || compare_closeness (s, o, outcome_at (r, best)) < 0)
        best = i;
    }
  return best;
}

static void
outcome_free (MnSweepOutcome *o)
{
  g_free (o->runs);
  g_free (o);
}

static void
unref_metrics (gpointer m)
{
  if (m != NULL)
    json_object_unref (m);
}

MnSweepResults *
mn_sweep_results_new (const MnSweepScenario *scenario, GPtrArray *points,
                      GPtrArray *baselines, GPtrArray *metrics)
{
  MnSweepResults *r = g_new0 (MnSweepResults, 1);
  guint n_seeds = scenario->seeds->len;

  g_return_val_if_fail (metrics->len == points->len * n_seeds, NULL);
  g_return_val_if_fail (baselines == NULL || baselines->len == n_seeds, NULL);
  r->scenario = scenario;
  r->n_seeds = n_seeds;
  r->points = g_ptr_array_ref (points);
  /* the metrics live in this array; runs point into it */
  r->baselines = g_ptr_array_new_with_free_func (unref_metrics);
  for (guint s = 0; s < n_seeds; s++)
    {
      JsonObject *b = baselines != NULL ? g_ptr_array_index (baselines, s) : NULL;

      g_ptr_array_add (r->baselines, b != NULL ? json_object_ref (b) : NULL);
    }
  r->outcomes = g_ptr_array_new_with_free_func ((GDestroyNotify) outcome_free);
  r->recommended = -1;
  r->best = -1;
  r->next_smaller = -1;
  r->unenforced = -1;
  for (guint i = 0; i < points->len; i++)
    {
      MnSweepOutcome *o = g_new0 (MnSweepOutcome, 1);

      o->point = g_ptr_array_index (points, i);
      o->runs = g_new0 (MnSweepRun, n_seeds);
      for (guint s = 0; s < n_seeds; s++)
        {
          o->runs[s].metrics = json_object_ref (g_ptr_array_index (metrics, i * n_seeds + s));
          o->runs[s].baseline = g_ptr_array_index (r->baselines, s);
          check_run (scenario, &o->runs[s]);
        }
      summarise (scenario, o, n_seeds);
      g_ptr_array_add (r->outcomes, o);
      /* Recommended: what the controller will enforce as sized.  A cheaper
       * over-subscribing point is named beside it, never recommended. */
      if (o->pass && enforced (o)
          && (r->recommended < 0
              || mn_sweep_compare_cost (scenario, o->point, outcome_at (r, r->recommended)->point) < 0))
        r->recommended = i;
      if (o->pass && !enforced (o)
          && (r->unenforced < 0
              || mn_sweep_compare_cost (scenario, o->point, outcome_at (r, r->unenforced)->point) < 0))
        r->unenforced = i;
      if (r->best < 0 || compare_closeness (scenario, o, outcome_at (r, r->best)) < 0)
        r->best = i;
    }
  if (r->recommended >= 0)
    r->best = r->recommended;
  r->next_smaller = find_next_smaller (r);
  return r;
}

void
mn_sweep_results_free (MnSweepResults *r)
{
  if (r == NULL)
    return;
  for (guint i = 0; r->outcomes != NULL && i < r->outcomes->len; i++)
    {
      MnSweepOutcome *o = g_ptr_array_index (r->outcomes, i);

      for (guint s = 0; s < r->n_seeds; s++)
        g_clear_pointer (&o->runs[s].metrics, json_object_unref);
    }
  g_clear_pointer (&r->outcomes, g_ptr_array_unref);
  g_clear_pointer (&r->points, g_ptr_array_unref);
  g_clear_pointer (&r->baselines, g_ptr_array_unref);
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

gchar *
mn_sweep_format_margin (MnTargetKind kind, gdouble margin)
{
  g_autofree gchar *v = NULL;

  if (isnan (margin))
    return g_strdup ("n/a (not measured)");
  if (g_str_equal (mn_target_unit (kind), "share"))
    v = isinf (margin) ? g_strdup ("infinite") : g_strdup_printf ("%.2f points", fabs (margin) * 100.0);
  else
    v = mn_sweep_format_target_value (kind, fabs (margin));
  return g_strdup_printf ("%s%s", margin < 0 ? "-" : "+", v);
}

static gchar *
format_range (MnTargetKind kind, const MnRange *range, guint n_seeds)
{
  g_autofree gchar *med = mn_sweep_format_target_value (kind, range->median);
  g_autofree gchar *lo = NULL, *hi = NULL;

  if (n_seeds < 2 || range->n < 2 || range->min == range->max)
    return g_steal_pointer (&med);
  /* counts: "69 [51 .. 91] failures", the unit once */
  if (!g_str_equal (mn_target_unit (kind), "share") && !g_str_equal (mn_target_unit (kind), "s"))
    return g_strdup_printf ("%.0f [%.0f .. %.0f] %s", range->median, range->min, range->max,
                            mn_target_unit (kind));
  lo = mn_sweep_format_target_value (kind, range->min);
  hi = mn_sweep_format_target_value (kind, range->max);
  return g_strdup_printf ("%s [%s .. %s]", med, lo, hi);
}

/* A figure of every seed's metrics as "median [min .. max]". */
static gchar *
figure_range_text (MnSweepResults *r, JsonObject *const *metrics, MnMetric metric, MnTargetKind as)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);
  MnRange range;

  for (guint s = 0; s < r->n_seeds; s++)
    v[s] = mn_sweep_metric (metrics[s], metric);
  range = mn_sweep_range (v, r->n_seeds);
  return format_range (as, &range, r->n_seeds);
}

static gchar *
seed_list (MnSweepResults *r)
{
  GString *out = g_string_new (NULL);

  for (guint s = 0; s < r->n_seeds; s++)
    g_string_append_printf (out, "%s%" G_GUINT64_FORMAT, s > 0 ? ", " : "",
                            g_array_index (r->scenario->seeds, guint64, s));
  return g_string_free (out, FALSE);
}

static void
summary_targets (MnSweepResults *r, GString *out, const MnSweepOutcome *o)
{
  gboolean world = r->scenario->world && r->n_seeds > 1;

  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetSummary *t = &o->targets[k];
      const MnTargetResult *worst;
      g_autofree gchar *value = NULL, *limit = NULL, *margin = NULL, *seed = NULL;

      if (!t->set)
        continue;
      worst = &o->runs[t->worst_seed].targets[k];
      value = format_range (k, &t->value, r->n_seeds);
      limit = mn_sweep_format_target_value (k, t->limit);
      margin = mn_sweep_format_margin (k, t->worst_margin);
      seed = mn_sweep_scenario_describe_seed (r->scenario, t->worst_seed);
      g_string_append_printf (out, "  %-4s %-27s %s %s: %s, %smargin %s", t->pass ? "ok" : "FAIL",
                              mn_target_to_string (k), mn_target_is_minimum (k) ? ">=" : "<=",
                              limit, value, world ? "worst " : "", margin);
      /* the worst seed, when the seeds differ */
      if (world && t->value.min != t->value.max)
        g_string_append_printf (out, " (%s)", seed);
      if (k == MN_TARGET_IMMEDIATE_SHARE && worst->worst_hour >= 0 && worst->value < 1.0)
        g_string_append_printf (out, ", worst at %02d:00", worst->worst_hour);
      if (!t->pass && world)
        g_string_append_printf (out, "  <- missed on %u of %u seeds", t->seeds_failed, r->n_seeds);
      else if (!t->pass)
        g_string_append_printf (out, "  <- fails by %s", margin + 1);
      g_string_append_c (out, '\n');
    }
  if (o->refuses_all)
    {
      g_autoptr (GString) which = g_string_new (NULL);

      for (guint s = 0; s < r->n_seeds; s++)
        if (o->runs[s].refuses_all)
          {
            g_autofree gchar *seed = mn_sweep_scenario_describe_seed (r->scenario, s);

            g_string_append_printf (which, "%s%s", which->len > 0 ? ", " : "", seed);
          }
      g_string_append_printf (out, "  FAIL it refuses every interactive request (%s): never "
                              "recommended\n", which->str);
    }
}

/* How close the next smaller configuration came: on how many seeds it
 * meets everything, and each target it misses with its worst seed. */
static void
summary_next_smaller (MnSweepResults *r, GString *out)
{
  const MnSweepOutcome *n = outcome_at (r, r->next_smaller);
  g_autofree gchar *what = NULL;

  if (r->recommended < 0)
    return;
  if (n == NULL)
    {
      const MnMinimiseKey *k = r->scenario->minimise != NULL && r->scenario->minimise->len > 0
        ? &g_array_index (r->scenario->minimise, MnMinimiseKey, 0) : NULL;

      if (k != NULL)
        g_string_append_printf (out, "Next smaller: none swept (the recommendation has the %s "
                                "%s of the sweep).\n", k->larger_first ? "largest" : "smallest",
                                mn_sweep_param_to_string (k->param));
      return;
    }
  what = mn_sweep_point_describe (n->point, TRUE);
  if (n->refuses_all)
    {
      g_string_append_printf (out, "Next smaller: %s refuses every interactive request.\n", what);
      return;
    }
  if (r->scenario->world)
    g_string_append_printf (out, "Next smaller: %s meets every target on %u of %u seeds",
                            what, r->n_seeds - n->seeds_failed, r->n_seeds);
  else
    g_string_append_printf (out, "Next smaller: %s %s", what,
                            n->pass ? "meets every target" : "misses");
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetSummary *t = &n->targets[k];
      g_autofree gchar *margin = NULL, *value = NULL, *seed = NULL;

      if (!t->set || t->pass)
        continue;
      margin = mn_sweep_format_margin (k, t->worst_margin);
      value = mn_sweep_format_target_value (k, n->runs[t->worst_seed].targets[k].value);
      seed = mn_sweep_scenario_describe_seed (r->scenario, t->worst_seed);
      if (r->scenario->world)
        g_string_append_printf (out, "; %s missed on %u seed%s, worst %s on %s (%s)",
                                mn_target_to_string (k), t->seeds_failed,
                                t->seeds_failed == 1 ? "" : "s", margin + 1, seed, value);
      else
        g_string_append_printf (out, " %s by %s (%s)", mn_target_to_string (k), margin + 1, value);
    }
  g_string_append (out, ".\n");
}

/* The busiest hour of the day (the lecture): what a user pressing Launch
 * then sees in the baseline and at the chosen point, seed by seed. */
static void
summary_peak (MnSweepResults *r, GString *out, const MnSweepOutcome *o)
{
  g_autofree gdouble *b_share = g_new (gdouble, r->n_seeds);
  g_autofree gdouble *b_mean = g_new (gdouble, r->n_seeds);
  g_autofree gdouble *b_p95 = g_new (gdouble, r->n_seeds);
  g_autofree gdouble *p_share = g_new (gdouble, r->n_seeds);
  g_autofree gdouble *n_launch = g_new (gdouble, r->n_seeds);
  g_autofree gchar *mean = NULL, *p95 = NULL, *bs = NULL, *ps = NULL;
  MnRange rs;
  gint peak = -1;

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *baseline = g_ptr_array_index (r->baselines, s), *point = o->runs[s].metrics;
      g_autoptr (GArray) launches = mn_sweep_series (baseline, MN_SERIES_LAUNCHES_BY_HOUR);
      g_autoptr (GArray) b_now = mn_sweep_series (baseline, MN_SERIES_IMMEDIATE_BY_HOUR);
      g_autoptr (GArray) p_now = mn_sweep_series (point, MN_SERIES_IMMEDIATE_BY_HOUR);
      g_autoptr (GArray) own = mn_sweep_series (point, MN_SERIES_PER_USER_REJECTED_BY_HOUR);
      g_autoptr (GArray) bm = mn_sweep_json_series (baseline, "sweep.wait_mean_by_hour_s");
      g_autoptr (GArray) bp = mn_sweep_json_series (baseline, "sweep.wait_p95_by_hour_s");
      gdouble n, admitted;

      if (launches == NULL || launches->len != 24 || b_now == NULL || b_now->len != 24
          || p_now == NULL || p_now->len != 24 || bm == NULL || bm->len != 24 || bp == NULL
          || bp->len != 24)
        return;
      /* the peak hour of the first seed's year names the line */
      if (peak < 0)
        {
          peak = 0;
          for (guint h = 1; h < 24; h++)
            if (g_array_index (launches, gdouble, h) > g_array_index (launches, gdouble, peak))
              peak = h;
        }
      n = g_array_index (launches, gdouble, peak);
      admitted = n - (own != NULL && own->len == 24 ? g_array_index (own, gdouble, peak) : 0);
      if (!(n > 0) || !(admitted > 0))
        return;
      n_launch[s] = n;
      b_share[s] = g_array_index (b_now, gdouble, peak) / n;
      b_mean[s] = g_array_index (bm, gdouble, peak);
      b_p95[s] = g_array_index (bp, gdouble, peak);
      p_share[s] = g_array_index (p_now, gdouble, peak) / admitted;
    }
  if (peak < 0)
    return;
  rs = mn_sweep_range (b_mean, r->n_seeds);
  mean = format_range (MN_TARGET_WAIT_P99, &rs, r->n_seeds);
  rs = mn_sweep_range (b_p95, r->n_seeds);
  p95 = format_range (MN_TARGET_WAIT_P99, &rs, r->n_seeds);
  rs = mn_sweep_range (b_share, r->n_seeds);
  bs = format_range (MN_TARGET_IMMEDIATE_SHARE, &rs, r->n_seeds);
  rs = mn_sweep_range (p_share, r->n_seeds);
  ps = format_range (MN_TARGET_IMMEDIATE_SHARE, &rs, r->n_seeds);
  rs = mn_sweep_range (n_launch, r->n_seeds);
  g_string_append_printf (out, "Peak hour %02d:00 (%.0f launches): baseline %s started immediately, "
                          "mean wait %s, p95 %s; with this interactive.q %s of those admitted.\n",
                          peak, rs.median, bs, mean, p95, ps);
}

/* What reading the trace file found (the "trace" member of the baseline's
 * metrics: every run read the same file), or NULL for a generated world or
 * a runner that does not say. */
static JsonObject *
trace_read (MnSweepResults *r)
{
  JsonObject *m;

  if (r->scenario->world || r->baselines->len == 0)
    return NULL;
  m = g_ptr_array_index (r->baselines, 0);
  if (m == NULL || !json_object_has_member (m, "trace"))
    return NULL;
  return json_object_get_object_member (m, "trace");
}

static void
summary_trace_read (MnSweepResults *r, GString *out)
{
  JsonObject *t = trace_read (r);
  gint64 skipped, merged;

  if (t == NULL)
    return;
  skipped = json_object_get_int_member_with_default (t, "skipped_lines", 0);
  merged = json_object_get_int_member_with_default (t, "merged_records", 0);
  g_string_append_printf (out, "Trace %s: %" G_GINT64_FORMAT " line%s skipped as unreadable",
                          r->scenario->trace_path, skipped, skipped == 1 ? "" : "s");
  if (merged > 0)
    g_string_append_printf (out, ", %" G_GINT64_FORMAT " record%s merged", merged,
                            merged == 1 ? "" : "s");
  g_string_append (out, skipped > 0 ? " (minna-sim summary --strict names them).\n" : ".\n");
}

gchar *
mn_sweep_results_summary (MnSweepResults *r)
{
  GString *out = g_string_new (NULL);
  const MnSweepOutcome *o;
  g_autofree gchar *what = NULL;
  g_autofree gchar *seeds = seed_list (r);
  JsonObject **point_metrics;

  if (r->best < 0)
    return g_string_free (g_string_append (out, "The sweep has no points.\n"), FALSE);
  summary_trace_read (r, out);
  o = outcome_at (r, r->best);
  what = mn_sweep_point_describe (o->point, FALSE);
  if (r->recommended >= 0)
    g_string_append_printf (out, "Recommended: point %u of %u: %s\n", o->point->index,
                            r->points->len, what);
  else
    g_string_append_printf (out, "No point meets every target%s.  Closest: point %u of %u: %s\n",
                            r->scenario->world ? " on every seed" : "",
                            o->point->index, r->points->len, what);
  if (r->scenario->world)
    {
      if (r->recommended >= 0)
        g_string_append_printf (out, "  meets every target on each of %u seeds (%s); median "
                                "[min .. max] over the seeds:\n", r->n_seeds, seeds);
      else
        g_string_append_printf (out, "  meets every target on %u of %u seeds (%s); median "
                                "[min .. max] over the seeds:\n", r->n_seeds - o->seeds_failed,
                                r->n_seeds, seeds);
    }
  summary_targets (r, out, o);
  summary_next_smaller (r, out);
  if (r->unenforced >= 0)
    {
      const MnSweepOutcome *u = outcome_at (r, r->unenforced);
      g_autofree gchar *uwhat = mn_sweep_point_describe (u->point, FALSE);

      g_string_append_printf (out, "Not recommended, though it meets every target%s: point %u of %u: %s\n"
                              "  (minna-controller does not enforce design = %s yet and refuses it at start; "
                              "'minna-policy export --slurm' writes its partitions); median [min .. max]:\n",
                              r->scenario->world ? " on every seed" : "", u->point->index,
                              r->points->len, uwhat, mn_policy_design_to_string (u->point->policy->design));
      summary_targets (r, out, u);
    }
  summary_peak (r, out, o);
  point_metrics = g_new (JsonObject *, r->n_seeds);
  for (guint s = 0; s < r->n_seeds; s++)
    point_metrics[s] = o->runs[s].metrics;
  if (g_ptr_array_index (r->baselines, 0) != NULL)
    {
      JsonObject **b = (JsonObject **) r->baselines->pdata;
      g_autofree gchar *bi = figure_range_text (r, b, MN_METRIC_SHARE_IMMEDIATE, MN_TARGET_IMMEDIATE_SHARE);
      g_autofree gchar *bw = figure_range_text (r, b, MN_METRIC_WAIT_P99, MN_TARGET_WAIT_P99);
      g_autofree gchar *bm = figure_range_text (r, b, MN_METRIC_WAIT_MAX, MN_TARGET_WAIT_P99);
      g_autofree gchar *pw = figure_range_text (r, point_metrics, MN_METRIC_WAIT_P99, MN_TARGET_WAIT_P99);
      g_autofree gdouble *adm = g_new (gdouble, r->n_seeds);
      g_autofree gdouble *own = g_new (gdouble, r->n_seeds);
      g_autofree gdouble *inc = g_new (gdouble, r->n_seeds);
      g_autofree gchar *adm_s = NULL, *own_s = NULL, *inc_s = NULL;
      MnRange ra;

      for (guint s = 0; s < r->n_seeds; s++)
        {
          JsonObject *m = point_metrics[s];
          gdouble req = mn_sweep_metric (m, MN_METRIC_REQUESTS);
          gdouble n_own = mn_sweep_metric (m, MN_METRIC_REJECTED_OWN_LIMIT);

          adm[s] = req > n_own ? mn_sweep_metric (m, MN_METRIC_SHARE_IMMEDIATE) * req / (req - n_own) : NAN;
          own[s] = req > 0 ? n_own / req : NAN;
          inc[s] = mn_sweep_figure (m, b[s], MN_FIGURE_BATCH_WAIT_INCREASE);
        }
      ra = mn_sweep_range (adm, r->n_seeds);
      adm_s = format_range (MN_TARGET_IMMEDIATE_SHARE, &ra, r->n_seeds);
      ra = mn_sweep_range (own, r->n_seeds);
      own_s = format_range (MN_TARGET_IMMEDIATE_SHARE, &ra, r->n_seeds);
      ra = mn_sweep_range (inc, r->n_seeds);
      inc_s = format_range (MN_TARGET_BATCH_WAIT_INCREASE, &ra, r->n_seeds);
      g_string_append_printf (out, "Baseline (interactive jobs in all.q): %s started immediately, "
                              "p99 wait %s, longest %s.\n", bi, bw, bm);
      g_string_append_printf (out, "With this interactive.q: %s of the requests it admits started "
                              "immediately, p99 wait %s", adm_s, pw);
      ra = mn_sweep_range (own, r->n_seeds);
      if (ra.max > 0)
        g_string_append_printf (out, " (%s of all requests refused by the per-user limit)", own_s);
      ra = mn_sweep_range (inc, r->n_seeds);
      g_string_append_printf (out, "; batch mean wait %s%s against the baseline.\n",
                              ra.median >= 0 ? "+" : "", inc_s);
    }
  {
    /* what goes wrong for sessions, whether or not a target asks */
    g_autofree gchar *gpu = figure_range_text (r, point_metrics, MN_METRIC_GPU_ALLOC_FAILURES, MN_TARGET_GPU_FAILURES);
    g_autofree gchar *cap = figure_range_text (r, point_metrics, MN_METRIC_MEMORY_CAP_KILLS, MN_TARGET_CAP_KILLS);
    g_autofree gchar *oom = figure_range_text (r, point_metrics, MN_METRIC_OOM_KILLS, MN_TARGET_OOM_KILLS);

    g_string_append_printf (out, "Sessions over the trace: GPU memory allocations that failed: %s; "
                            "sessions killed by their memory cap: %s, by a node's OOM killer: %s.\n",
                            gpu, cap, oom);
  }
  g_free (point_metrics);
  return g_string_free (out, FALSE);
}

gchar *
mn_sweep_results_recommended_conf (MnSweepResults *r)
{
  const MnSweepOutcome *o;
  g_autofree gchar *body = NULL;
  g_autofree gchar *what = NULL;
  g_autofree gchar *seeds = seed_list (r);
  g_autofree gchar *where = NULL;

  if (r->recommended < 0)
    return NULL;
  o = outcome_at (r, r->recommended);
  body = mn_policy_config_to_data (o->point->policy);
  what = mn_sweep_point_describe (o->point, FALSE);
  where = r->scenario->world ? g_strdup_printf (" on every one of its %u generated years (seeds %s)",
                                                r->n_seeds, seeds)
                             : g_strdup ("");
  return g_strdup_printf ("# interactive.q sized by minna-sim run %s\n"
                          "# scenario %s, point %u: %s\n"
                          "# Every service target of the scenario is met%s; see results.json.\n\n%s",
                          r->scenario->name, r->scenario->name, o->point->index, what, where, body);
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
add_range (JsonBuilder *b, const gchar *name, const MnRange *range)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  add_number (b, "median", range->median);
  add_number (b, "min", range->min);
  add_number (b, "max", range->max);
  json_builder_end_object (b);
}

static void
add_seed (JsonBuilder *b, MnSweepResults *r, guint s)
{
  json_builder_set_member_name (b, "seed");
  if (r->scenario->world)
    json_builder_add_int_value (b, (gint64) g_array_index (r->scenario->seeds, guint64, s));
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
      if (!mn_sweep_param_shown (p->scenario, k))
        continue;
      json_builder_set_member_name (b, mn_sweep_param_to_string (k));
      if (k == MN_SWEEP_PARAM_GPU_MODE || k == MN_SWEEP_PARAM_DESIGN)
        {
          g_autofree gchar *v = mn_sweep_format_param (k, p->values[k]);

          json_builder_add_string_value (b, v);
        }
      else
        json_builder_add_int_value (b, p->values[k]);
    }
  json_builder_end_object (b);
}

/* The figures a planner reads, median and range over the seeds. */
static void
add_summary (JsonBuilder *b, MnSweepResults *r, JsonObject *const *metrics, gboolean baseline)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  json_builder_set_member_name (b, "summary");
  json_builder_begin_object (b);
  for (guint m = 0; m < MN_N_METRICS; m++)
    {
      MnRange range;

      for (guint s = 0; s < r->n_seeds; s++)
        v[s] = mn_sweep_metric (metrics[s], m);
      range = mn_sweep_range (v, r->n_seeds);
      add_range (b, mn_metric_column (m), &range);
    }
  for (guint f = 0; f < MN_N_FIGURES; f++)
    {
      MnRange range;

      if (baseline && f == MN_FIGURE_BATCH_WAIT_INCREASE)
        continue;
      for (guint s = 0; s < r->n_seeds; s++)
        v[s] = mn_sweep_figure (metrics[s], g_ptr_array_index (r->baselines, s), f);
      range = mn_sweep_range (v, r->n_seeds);
      add_range (b, mn_figure_column (f), &range);
    }
  json_builder_end_object (b);
}

static void
add_target_summaries (JsonBuilder *b, MnSweepResults *r, const MnSweepOutcome *o, gboolean failing_only)
{
  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetSummary *t = &o->targets[k];

      if (!t->set || (failing_only && t->pass))
        continue;
      json_builder_set_member_name (b, mn_target_to_string (k));
      json_builder_begin_object (b);
      add_number (b, "limit", t->limit);
      add_number (b, "value", t->value.median);
      add_number (b, "min", t->value.min);
      add_number (b, "max", t->value.max);
      add_number (b, "worst_margin", t->worst_margin);
      json_builder_set_member_name (b, "worst_seed");
      if (r->scenario->world)
        json_builder_add_int_value (b, (gint64) g_array_index (r->scenario->seeds, guint64, t->worst_seed));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "seeds_failed");
      json_builder_add_int_value (b, t->seeds_failed);
      json_builder_set_member_name (b, "pass");
      json_builder_add_boolean_value (b, t->pass);
      if (k == MN_TARGET_IMMEDIATE_SHARE && o->runs[t->worst_seed].targets[k].worst_hour >= 0)
        {
          json_builder_set_member_name (b, "worst_hour");
          json_builder_add_int_value (b, o->runs[t->worst_seed].targets[k].worst_hour);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

static void
add_run_targets (JsonBuilder *b, const MnSweepRun *run)
{
  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetResult *t = &run->targets[k];

      if (!t->set)
        continue;
      json_builder_set_member_name (b, mn_target_to_string (k));
      json_builder_begin_object (b);
      add_number (b, "value", t->value);
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

static void
add_outcome_head (JsonBuilder *b, MnSweepResults *r, const MnSweepOutcome *o)
{
  g_autofree gchar *what = mn_sweep_point_describe (o->point, FALSE);

  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, o->point->index);
  json_builder_set_member_name (b, "describe");
  json_builder_add_string_value (b, what);
  json_builder_set_member_name (b, "pass");
  json_builder_add_boolean_value (b, o->pass);
  json_builder_set_member_name (b, "seeds_passed");
  json_builder_add_int_value (b, r->n_seeds - o->seeds_failed);
  json_builder_set_member_name (b, "refuses_all");
  json_builder_add_boolean_value (b, o->refuses_all);
}

static void
add_trace_read (JsonBuilder *b, MnSweepResults *r)
{
  JsonObject *t = trace_read (r);

  if (t == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "skipped_lines");
  json_builder_add_int_value (b, json_object_get_int_member_with_default (t, "skipped_lines", 0));
  json_builder_set_member_name (b, "merged_records");
  json_builder_add_int_value (b, json_object_get_int_member_with_default (t, "merged_records", 0));
  json_builder_end_object (b);
}

static void
add_scenario (JsonBuilder *b, MnSweepResults *r)
{
  const MnSweepScenario *s = r->scenario;

  json_builder_set_member_name (b, "scenario");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, s->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, s->description);
  json_builder_set_member_name (b, "trace");
  if (s->trace_path != NULL)
    {
      g_autofree gchar *trace = g_path_get_basename (s->trace_path);

      json_builder_add_string_value (b, trace);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "trace_read");
  add_trace_read (b, r);
  json_builder_set_member_name (b, "world");
  if (s->world)
    json_builder_add_value (b, json_node_init_object (json_node_alloc (), mn_sweep_world_describe (s)));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "seeds");
  json_builder_begin_array (b);
  for (guint i = 0; s->world && i < s->seeds->len; i++)
    json_builder_add_int_value (b, (gint64) g_array_index (s->seeds, guint64, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "machine_nodes");
  json_builder_add_int_value (b, s->machine_nodes);
  json_builder_set_member_name (b, "swept");
  json_builder_begin_array (b);
  for (guint k = 0; k < MN_SWEEP_N_PARAMS; k++)
    if (s->values[k]->len > 1 && mn_sweep_param_shown (s, k))
      json_builder_add_string_value (b, mn_sweep_param_to_string (k));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ranges");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_SWEEP_N_PARAMS; k++)
    {
      if (!mn_sweep_param_shown (s, k))
        continue;
      json_builder_set_member_name (b, mn_sweep_param_to_string (k));
      json_builder_begin_array (b);
      for (guint i = 0; i < s->values[k]->len; i++)
        {
          gint64 v = g_array_index (s->values[k], gint64, i);

          if (k == MN_SWEEP_PARAM_GPU_MODE || k == MN_SWEEP_PARAM_DESIGN)
            {
              g_autofree gchar *t = mn_sweep_format_param (k, v);

              json_builder_add_string_value (b, t);
            }
          else
            json_builder_add_int_value (b, v);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
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
}

static void
add_index_or_null (JsonBuilder *b, const gchar *name, gint index)
{
  json_builder_set_member_name (b, name);
  if (index >= 0)
    json_builder_add_int_value (b, index);
  else
    json_builder_add_null_value (b);
}

JsonNode *
mn_sweep_results_to_json (MnSweepResults *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree JsonObject **m = g_new (JsonObject *, r->n_seeds);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, "minna-sweep-results/2");
  add_scenario (b, r);
  add_index_or_null (b, "recommended", r->recommended);
  add_index_or_null (b, "best", r->best);

  /* how close the next smaller configuration came */
  json_builder_set_member_name (b, "next_smaller");
  if (r->next_smaller >= 0)
    {
      const MnSweepOutcome *o = outcome_at (r, r->next_smaller);

      json_builder_begin_object (b);
      add_outcome_head (b, r, o);
      add_target_summaries (b, r, o, FALSE);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  /* when nothing passes: what the closest point misses */
  json_builder_set_member_name (b, "failing");
  json_builder_begin_array (b);
  if (r->recommended < 0 && r->best >= 0)
    {
      const MnSweepOutcome *o = outcome_at (r, r->best);

      for (guint k = 0; k < MN_N_TARGETS; k++)
        if (o->targets[k].set && !o->targets[k].pass)
          {
            json_builder_begin_object (b);
            json_builder_set_member_name (b, "target");
            json_builder_add_string_value (b, mn_target_to_string (k));
            add_number (b, "value", o->runs[o->targets[k].worst_seed].targets[k].value);
            add_number (b, "limit", o->targets[k].limit);
            add_number (b, "shortfall", -o->targets[k].worst_margin);
            json_builder_set_member_name (b, "seeds_failed");
            json_builder_add_int_value (b, o->targets[k].seeds_failed);
            json_builder_end_object (b);
          }
      if (o->refuses_all)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "target");
          json_builder_add_string_value (b, "refuses_every_request");
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "baseline");
  json_builder_begin_object (b);
  add_summary (b, r, (JsonObject *const *) r->baselines->pdata, TRUE);
  json_builder_set_member_name (b, "runs");
  json_builder_begin_array (b);
  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *bm = g_ptr_array_index (r->baselines, s);

      json_builder_begin_object (b);
      add_seed (b, r, s);
      json_builder_set_member_name (b, "metrics");
      if (bm != NULL)
        json_builder_add_value (b, json_node_init_object (json_node_alloc (), bm));
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->outcomes->len; i++)
    {
      const MnSweepOutcome *o = outcome_at (r, i);

      json_builder_begin_object (b);
      add_outcome_head (b, r, o);
      add_params (b, o->point);
      add_target_summaries (b, r, o, FALSE);
      for (guint s = 0; s < r->n_seeds; s++)
        m[s] = o->runs[s].metrics;
      add_summary (b, r, m, FALSE);
      json_builder_set_member_name (b, "runs");
      json_builder_begin_array (b);
      for (guint s = 0; s < r->n_seeds; s++)
        {
          const MnSweepRun *run = &o->runs[s];

          json_builder_begin_object (b);
          add_seed (b, r, s);
          json_builder_set_member_name (b, "pass");
          json_builder_add_boolean_value (b, run->n_failed == 0);
          json_builder_set_member_name (b, "failed");
          json_builder_add_int_value (b, run->n_failed);
          json_builder_set_member_name (b, "refuses_all");
          json_builder_add_boolean_value (b, run->refuses_all);
          add_run_targets (b, run);
          json_builder_set_member_name (b, "metrics");
          json_builder_add_value (b, json_node_init_object (json_node_alloc (), run->metrics));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
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

/* One row per point and seed (the baseline's rows first, point -1), so that
 * a spreadsheet sees every run. */
gchar *
mn_sweep_results_to_csv (MnSweepResults *r)
{
  GString *out = g_string_new ("point,seed,nodes,jobs_per_logical,memory_cap_mb,swap_mb,gpu_mode,idle_timeout_s");
  gboolean designs = mn_sweep_scenario_has_designs (r->scenario);
  static const gchar *const oversub_columns[] = {
    "oversubscribe.started_shared", "oversubscribe.started_dedicated",
    "oversubscribe.batch_jobs_shared", "oversubscribe.batch_stretch_mean",
    "oversubscribe.batch_stretch_p95", "oversubscribe.batch_node_hours_lost",
    "oversubscribe.dedicated_node_hours", "oversubscribe.memory_committed_mean",
    "oversubscribe.memory_committed_max", "oversubscribe.swap_peak_mb",
  };

  for (guint m = 0; m < MN_N_METRICS; m++)
    g_string_append_printf (out, ",%s", mn_metric_column (m));
  for (guint f = 0; f < MN_N_FIGURES; f++)
    g_string_append_printf (out, ",%s", mn_figure_column (f));
  g_string_append (out, ",worst_hour");
  for (guint k = 0; k < MN_N_TARGETS; k++)
    if (r->scenario->targets[k].set)
      g_string_append_printf (out, ",margin_%s", mn_target_to_string (k));
  g_string_append (out, ",failed,pass,pass_every_seed,recommended");
  /* Issue 19: only a sweep of designs has these (a dedicated sweep's file is
   * what it was). */
  if (designs)
    {
      g_string_append (out, ",design,max_extra_jobs_per_node");
      for (guint c = 0; c < G_N_ELEMENTS (oversub_columns); c++)
        g_string_append_printf (out, ",%s", strchr (oversub_columns[c], '.') + 1);
    }
  g_string_append_c (out, '\n');
  for (gint i = -1; i < (gint) r->outcomes->len; i++)
    {
      const MnSweepOutcome *o = i >= 0 ? outcome_at (r, i) : NULL;

      for (guint s = 0; s < r->n_seeds; s++)
        {
          JsonObject *bm = g_ptr_array_index (r->baselines, s);
          JsonObject *m = o != NULL ? o->runs[s].metrics : bm;
          const gint64 *v = o != NULL ? o->point->values : NULL;
          g_autofree gchar *gpu = v != NULL ? mn_sweep_format_param (MN_SWEEP_PARAM_GPU_MODE, v[MN_SWEEP_PARAM_GPU_MODE])
                                            : g_strdup ("");
          gint hour;

          g_string_append_printf (out, "%d,", i);
          if (r->scenario->world)
            g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_array_index (r->scenario->seeds, guint64, s));
          if (v != NULL)
            g_string_append_printf (out, ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                                    ",%" G_GINT64_FORMAT ",%s,%" G_GINT64_FORMAT, v[0], v[1], v[2], v[3],
                                    gpu, v[5]);
          else
            g_string_append (out, ",0,,,,,");
          for (guint k = 0; k < MN_N_METRICS; k++)
            csv_number (out, mn_sweep_metric (m, k));
          for (guint f = 0; f < MN_N_FIGURES; f++)
            csv_number (out, o != NULL || f != MN_FIGURE_BATCH_WAIT_INCREASE
                               ? mn_sweep_figure (m, bm, f) : NAN);
          mn_sweep_worst_hour_share (m, &hour);
          g_string_append_printf (out, ",%d", hour);
          for (guint k = 0; k < MN_N_TARGETS; k++)
            if (r->scenario->targets[k].set)
              csv_number (out, o != NULL ? o->runs[s].targets[k].margin : NAN);
          if (o != NULL)
            g_string_append_printf (out, ",%u,%d,%d,%d", o->runs[s].n_failed, o->runs[s].n_failed == 0,
                                    o->pass, i == r->recommended);
          else
            g_string_append (out, ",,,,");
          if (designs)
            {
              g_autofree gchar *design = v != NULL ? mn_sweep_format_param (MN_SWEEP_PARAM_DESIGN, v[MN_SWEEP_PARAM_DESIGN])
                                                   : g_strdup ("");
              g_string_append_printf (out, ",%s,", design);
              if (v != NULL && v[MN_SWEEP_PARAM_DESIGN] != MN_DESIGN_DEDICATED)
                g_string_append_printf (out, "%" G_GINT64_FORMAT, v[MN_SWEEP_PARAM_EXTRA_JOBS]);
              for (guint c = 0; c < G_N_ELEMENTS (oversub_columns); c++)
                csv_number (out, mn_sweep_json_number (mn_sweep_json_path (m, oversub_columns[c])));
            }
          g_string_append_c (out, '\n');
        }
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
