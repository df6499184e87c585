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

#include <math.h>

#include "mn-sweep-results.h"

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

MnSweepOutcome *
mn_sweep_results_outcome_at (MnSweepResults *r, gint i)
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
  const MnSweepOutcome *rec = mn_sweep_results_outcome_at (r, r->recommended);
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
      gint64 v = mn_sweep_results_outcome_at (r, i)->point->values[k->param];
      gboolean cheaper;

      if (!enforced (mn_sweep_results_outcome_at (r, i)))
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
      const MnSweepOutcome *o = mn_sweep_results_outcome_at (r, i);

      if (o->point->values[k->param] != step || !enforced (o))
        continue;
      if (best < 0 || compare_closeness (s, o, mn_sweep_results_outcome_at (r, best)) < 0)
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
              || mn_sweep_compare_cost (scenario, o->point, mn_sweep_results_outcome_at (r, r->recommended)->point) < 0))
        r->recommended = i;
      if (o->pass && !enforced (o)
          && (r->unenforced < 0
              || mn_sweep_compare_cost (scenario, o->point, mn_sweep_results_outcome_at (r, r->unenforced)->point) < 0))
        r->unenforced = i;
      if (r->best < 0 || compare_closeness (scenario, o, mn_sweep_results_outcome_at (r, r->best)) < 0)
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
