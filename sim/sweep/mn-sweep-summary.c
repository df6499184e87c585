/* mn-sweep-summary.c: what a planner reads on stdout: the recommendation,
 * every target's median, range and worst margin over the seeds, how close
 * the next smaller configuration came, and the recommended policy file. */
#define G_LOG_DOMAIN "minna-sweep"

#include <math.h>

#include "mn-sweep-results.h"

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
  const MnSweepOutcome *n = mn_sweep_results_outcome_at (r, r->next_smaller);
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
JsonObject *
mn_sweep_results_trace_read (MnSweepResults *r)
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
  JsonObject *t = mn_sweep_results_trace_read (r);
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
  o = mn_sweep_results_outcome_at (r, r->best);
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
      const MnSweepOutcome *u = mn_sweep_results_outcome_at (r, r->unenforced);
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
  o = mn_sweep_results_outcome_at (r, r->recommended);
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
