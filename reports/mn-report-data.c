/* mn-report-data.c: each plot's data file (plots/NAME.dat, TAB-separated,
 * NaN for missing) and its gnuplot run.  A figure over the seeds is three
 * columns: median, min, max; the scripts draw the median as a line and the
 * range as a band or error bars. */
#define G_LOG_DOMAIN "minna-report"

#include <math.h>
#include <string.h>

#include "mn-report-private.h"

static const gchar *const params[] = { "nodes", "jobs_per_logical", "memory_cap", "swap",
                                       "gpu_mode", "idle_timeout", "design",
                                       "max_extra_jobs_per_node" };

/* ---- demand -------------------------------------------------------------- */

static gboolean
data_launches (Report *r, GError **error)
{
  g_autoptr (GString) out = g_string_new ("# hour\tweekday launches/day: median\tmin\tmax"
                                          "\tweekend launches/day: median\tmin\tmax\n");

  for (guint h = 0; h < 24; h++)
    {
      MnRange wd = mn_report_series_range (r, -1, "sweep.launches_by_hour_weekday", h, "sweep.weekdays");
      MnRange we = mn_report_series_range (r, -1, "sweep.launches_by_hour_weekend", h, "sweep.weekend_days");

      g_string_append_printf (out, "%u", h);
      mn_report_range_cols (out, &wd, 1);
      mn_report_range_cols (out, &we, 1);
      g_string_append_c (out, '\n');
    }
  return mn_report_write_data (r, "launches.dat", out, error);
}

/* ---- service ------------------------------------------------------------- */

/* Share of all requests that got a session; the rest were refused (or never
 * started), which the wait plot shows as the gap under 100%. */
static MnRange
started_range (Report *r, gint point)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *m = mn_report_run (r, point, s);
      gdouble req = mn_sweep_metric (m, MN_METRIC_REQUESTS);

      v[s] = req > 0 ? mn_sweep_metric (m, MN_METRIC_STARTED) / req : NAN;
    }
  return mn_sweep_range (v, r->n_seeds);
}

/* "refused: 2.7% (per-user limit 2.7%, other 0.0%)": each part the median
 * over the seeds of that seed's share. */
static gchar *
refused_text (Report *r, gint point)
{
  g_autofree gdouble *all = g_new (gdouble, r->n_seeds);
  g_autofree gdouble *own = g_new (gdouble, r->n_seeds);
  g_autofree gdouble *other = g_new (gdouble, r->n_seeds);
  MnRange a, o, x;

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *m = mn_report_run (r, point, s);
      gdouble req = mn_sweep_metric (m, MN_METRIC_REQUESTS);
      gdouble n_own = mn_sweep_metric (m, MN_METRIC_REJECTED_OWN_LIMIT);

      all[s] = req > 0 ? 1 - mn_sweep_metric (m, MN_METRIC_STARTED) / req : NAN;
      own[s] = req > 0 ? (isnan (n_own) ? 0 : n_own) / req : NAN;
      other[s] = all[s] - own[s];
    }
  a = mn_sweep_range (all, r->n_seeds);
  o = mn_sweep_range (own, r->n_seeds);
  x = mn_sweep_range (other, r->n_seeds);
  if (isnan (a.median))
    return g_strdup ("");
  if (point < 0)
    return g_strdup_printf ("never started: %.1f%%", a.median * 100);
  return g_strdup_printf ("refused: %.1f%% (per-user limit %.1f%%, other %.1f%%)", a.median * 100,
                          o.median * 100, MAX (0, x.median) * 100);
}

static gboolean
data_wait_cdf (Report *r, GError **error)
{
  gint who[3] = { -1, r->ref, r->next };
  g_autoptr (GString) out = g_string_new ("# for the baseline, the reference point, the next smaller:"
                                          " share of ALL requests started within the wait (%), wait s median\tmin\tmax\n");

  for (guint q = 0; q <= 100; q++)
    {
      for (guint c = 0; c < 3; c++)
        {
          MnRange st = who[c] >= 0 || c == 0 ? started_range (r, who[c]) : (MnRange) { NAN, NAN, NAN, 0 };
          MnRange w = who[c] >= 0 || c == 0 ? mn_report_series_range (r, who[c], "sweep.wait_quantiles_s", q, NULL)
                                            : (MnRange) { NAN, NAN, NAN, 0 };
          g_autofree gchar *y = mn_report_fmt (q * st.median);

          /* 0 s drawn at 1 s on the log scale */
          w.median = MAX (w.median, 1);
          w.min = MAX (w.min, 1);
          w.max = MAX (w.max, 1);
          g_string_append_printf (out, "%s%s", c > 0 ? "\t" : "", y);
          mn_report_range_cols (out, &w, 1);
        }
      g_string_append_c (out, '\n');
    }
  return mn_report_write_data (r, "wait-cdf.dat", out, error);
}

/* Share started immediately by hour of day, of the requests the queue
 * could serve (the per-user limit's refusals left out, as in the target). */
static MnRange
immediate_at (Report *r, gint point, guint h)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *m = mn_report_run (r, point, s);
      g_autoptr (GArray) n = mn_sweep_series (m, MN_SERIES_LAUNCHES_BY_HOUR);
      g_autoptr (GArray) now = mn_sweep_series (m, MN_SERIES_IMMEDIATE_BY_HOUR);
      g_autoptr (GArray) own = mn_sweep_series (m, MN_SERIES_PER_USER_REJECTED_BY_HOUR);
      gdouble d;

      v[s] = NAN;
      if (n == NULL || now == NULL || h >= n->len || h >= now->len)
        continue;
      d = g_array_index (n, gdouble, h) - (own != NULL && h < own->len ? g_array_index (own, gdouble, h) : 0);
      if (d > 0)
        v[s] = g_array_index (now, gdouble, h) / d;
    }
  return mn_sweep_range (v, r->n_seeds);
}

static gboolean
data_immediate_by_hour (Report *r, gdouble *lowest, GError **error)
{
  g_autoptr (GString) out = g_string_new ("# hour\treference point: share started immediately % median\tmin\tmax"
                                          "\tnext smaller: median\tmin\tmax\n");

  *lowest = 100;
  for (guint h = 0; h < 24; h++)
    {
      MnRange a = immediate_at (r, r->ref, h);
      MnRange b = r->next >= 0 ? immediate_at (r, r->next, h) : (MnRange) { NAN, NAN, NAN, 0 };

      if (!isnan (a.min))
        *lowest = MIN (*lowest, a.min * 100);
      if (!isnan (b.min))
        *lowest = MIN (*lowest, b.min * 100);
      g_string_append_printf (out, "%u", h);
      mn_report_range_cols (out, &a, 100);
      mn_report_range_cols (out, &b, 100);
      g_string_append_c (out, '\n');
    }
  return mn_report_write_data (r, "immediate-by-hour.dat", out, error);
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

/* The distinct values of one parameter, sorted. */
static GArray *
distinct (Report *r, const gchar *param)
{
  GArray *v = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autofree gchar *path = g_strdup_printf ("parameters.%s", param);

  for (guint i = 0; i < r->n_points; i++)
    {
      gdouble x = mn_report_num (mn_report_point (r, i), path);
      gboolean seen = FALSE;

      for (guint j = 0; j < v->len && !seen; j++)
        seen = g_array_index (v, gdouble, j) == x;
      if (!seen)
        g_array_append_val (v, x);
    }
  g_array_sort (v, cmp_double);
  return v;
}

static guint
index_of (GArray *v, gdouble x)
{
  for (guint i = 0; i < v->len; i++)
    if (g_array_index (v, gdouble, i) == x)
      return i;
  return 0;
}

/* Same values as the reference point in every parameter but @free1/@free2:
 * the slice of the sweep that a 2-D plot shows. */
static gboolean
in_slice (Report *r, JsonObject *p, const gchar *free1, const gchar *free2)
{
  JsonObject *ref = mn_report_point (r, r->ref);

  for (gsize k = 0; k < G_N_ELEMENTS (params); k++)
    {
      g_autofree gchar *path = g_strdup_printf ("parameters.%s", params[k]);
      const gchar *sa, *sb;

      if (g_strcmp0 (params[k], free1) == 0 || g_strcmp0 (params[k], free2) == 0)
        continue;
      sa = mn_report_str (p, path);
      sb = mn_report_str (ref, path);
      if (sa != NULL || sb != NULL)
        {
          if (g_strcmp0 (sa, sb) != 0)
            return FALSE;
        }
      else if (isnan (mn_report_num (p, path)) && isnan (mn_report_num (ref, path)))
        continue;   /* a parameter these results do not have (issue 19's) */
      else if (mn_report_num (p, path) != mn_report_num (ref, path))
        return FALSE;
    }
  return TRUE;
}

static gchar *
tics_spec (GArray *v)
{
  GString *s = g_string_new ("(");

  for (guint i = 0; i < v->len; i++)
    g_string_append_printf (s, "%s\"%.0f\" %u", i > 0 ? ", " : "", g_array_index (v, gdouble, i), i);
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

typedef struct {
  gchar  *xtics, *ytics, *xmax, *ymax, *swap_max;
} Heat;

static void
heat_clear (Heat *h)
{
  g_free (h->xtics);
  g_free (h->ytics);
  g_free (h->xmax);
  g_free (h->ymax);
  g_free (h->swap_max);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Heat, heat_clear)

static gboolean
data_heatmaps (Report *r, Heat *heat, GError **error)
{
  g_autoptr (GArray) xs = distinct (r, "nodes");
  g_autoptr (GArray) ys = distinct (r, "jobs_per_logical");
  g_autoptr (GString) imm = g_string_new ("# x\ty\tworst-hour share started immediately % (median over seeds)\tlabel lines 1, 2, 3\n");
  g_autoptr (GString) swp = g_string_new ("# x\ty\tswap in use % of time (median over seeds)\tlabel lines 1, 2, 3\n");
  g_autoptr (GString) mark = g_string_new ("# x\ty (recommended)\n");
  JsonObject *ref = mn_report_point (r, r->ref);
  gdouble swap_max = 0;

  for (guint i = 0; i < r->n_points; i++)
    {
      JsonObject *p = mn_report_point (r, i);
      guint x = index_of (xs, mn_report_num (p, "parameters.nodes"));
      guint y = index_of (ys, mn_report_num (p, "parameters.jobs_per_logical"));
      MnRange share = mn_report_figure_range (r, i, MN_FIGURE_WORST_HOUR_SHARE);
      MnRange swap = mn_report_metric_range (r, i, MN_METRIC_SWAP_TIME_SHARE);
      MnRange oom = mn_report_metric_range (r, i, MN_METRIC_OOM_KILLS);

      if (!in_slice (r, p, "nodes", "jobs_per_logical"))
        continue;
      /* three short lines of text per cell: the median, the worst seed,
       * whether every target holds on every seed */
      g_string_append_printf (imm, "%u\t%u\t%.3f\t%.1f%%\t", x, y, share.median * 100, share.median * 100);
      if (r->n_seeds > 1)
        g_string_append_printf (imm, "min %.1f%%\t", share.min * 100);
      else
        g_string_append (imm, " \t");
      if (json_object_get_boolean_member_with_default (p, "refuses_all", FALSE))
        g_string_append (imm, "refuses all\n");
      else if (r->world)
        g_string_append_printf (imm, "passes %.0f/%u\n", mn_report_num (p, "seeds_passed"), r->n_seeds);
      else
        g_string_append_printf (imm, "%s\n",
                                json_object_get_boolean_member_with_default (p, "pass", FALSE) ? "passes" : "fails");
      /* enough digits that small shares differ */
      g_string_append_printf (swp, "%u\t%u\t%.5f\t%.3g%%\t%.0f OOM kills\t \n", x, y, swap.median * 100,
                              swap.median * 100, oom.median);
      if (!isnan (swap.median))
        swap_max = MAX (swap_max, swap.median * 100);
    }
  g_string_append_printf (mark, "%u\t%u\n", index_of (xs, mn_report_num (ref, "parameters.nodes")),
                          index_of (ys, mn_report_num (ref, "parameters.jobs_per_logical")));
  heat->xtics = tics_spec (xs);
  heat->ytics = tics_spec (ys);
  heat->xmax = g_strdup_printf ("%u", xs->len - 1);
  heat->ymax = g_strdup_printf ("%u", ys->len - 1);
  /* the colour scale ends at the largest value, so that 0.01% and 0.03%
   * look different; at least 0.01% so that all-zero is one colour */
  heat->swap_max = mn_report_fmt (MAX (swap_max, 0.01));
  return mn_report_write_data (r, "heatmap-immediate.dat", imm, error)
      && mn_report_write_data (r, "heatmap-swap.dat", swp, error)
      && mn_report_write_data (r, "recommended.dat", mark, error);
}

static gboolean
data_occupancy (Report *r, gboolean *any, GError **error)
{
  g_autoptr (GString) out = g_string_new ("# hour\tmean occupancy on weekdays % of slots: median\tmin\tmax"
                                          "\tpeak % of slots: median\tmin\tmax\n");

  *any = FALSE;
  for (guint h = 0; h < 24; h++)
    {
      MnRange mean = mn_report_series_range (r, r->ref, "sweep.occupancy.mean_by_hour_weekday", h, NULL);
      MnRange peak = mn_report_series_range (r, r->ref, "sweep.occupancy.peak_by_hour", h, NULL);

      *any |= !isnan (mean.median);
      g_string_append_printf (out, "%u", h);
      mn_report_range_cols (out, &mean, 100);
      mn_report_range_cols (out, &peak, 100);
      g_string_append_c (out, '\n');
    }
  return mn_report_write_data (r, "occupancy.dat", out, error);
}

/* What goes wrong for sessions, by nodes carved out (the reference
 * point's other parameters): OOM kills, GPU memory allocation failures,
 * requests refused for lack of room. */
static gboolean
data_failures (Report *r, GError **error)
{
  g_autoptr (GArray) xs = distinct (r, "nodes");
  g_autoptr (GString) out = g_string_new ("# nodes\tOOM kills: median\tmin\tmax\tGPU allocation failures: median\tmin\tmax"
                                          "\trefused (not the per-user limit): median\tmin\tmax"
                                          "\tmemory cap kills: median\tmin\tmax\tx label\n");

  for (guint k = 0; k < xs->len; k++)
    for (guint i = 0; i < r->n_points; i++)
      {
        JsonObject *p = mn_report_point (r, i);
        g_autofree gdouble *refused = g_new (gdouble, r->n_seeds);
        MnRange oom, gpu, ref, cap;

        if (mn_report_num (p, "parameters.nodes") != g_array_index (xs, gdouble, k) || !in_slice (r, p, "nodes", NULL))
          continue;
        oom = mn_report_metric_range (r, i, MN_METRIC_OOM_KILLS);
        gpu = mn_report_metric_range (r, i, MN_METRIC_GPU_ALLOC_FAILURES);
        cap = mn_report_metric_range (r, i, MN_METRIC_MEMORY_CAP_KILLS);
        for (guint s = 0; s < r->n_seeds; s++)
          {
            JsonObject *m = mn_report_run (r, i, s);

            refused[s] = mn_sweep_metric (m, MN_METRIC_REJECTED) - mn_sweep_metric (m, MN_METRIC_REJECTED_OWN_LIMIT);
          }
        ref = mn_sweep_range (refused, r->n_seeds);
        g_string_append_printf (out, "%.0f", g_array_index (xs, gdouble, k));
        mn_report_range_cols (out, &oom, 1);
        mn_report_range_cols (out, &gpu, 1);
        mn_report_range_cols (out, &ref, 1);
        mn_report_range_cols (out, &cap, 1);
        /* the recommendation named on the axis */
        g_string_append_printf (out, "\t%.0f%s\n", g_array_index (xs, gdouble, k),
                                (gint) i == r->ref ? (r->recommended >= 0 ? " (recommended)" : " (closest)") : "");
      }
  return mn_report_write_data (r, "failures.dat", out, error);
}

/* ---- cost to batch users ------------------------------------------------- */

/* A month in which no batch job was submitted (the drain after the trace's
 * last submission) has no waits to show, only the end of the last jobs. */
static gboolean
month_has_jobs (Report *r, guint i)
{
  MnRange jobs = mn_report_series_range (r, -1, "batch.by_month[].jobs", i, NULL);

  return jobs.max > 0;
}

/* The engine's batch.by_month (sim/engine/README.md): the batch wait
 * distribution and the long-wait shares by month of submission, for the
 * baseline and the reference point. */
static gboolean
data_batch_by_month (Report *r, gboolean *any, GError **error)
{
  g_autoptr (GPtrArray) months = mn_report_labels (r, -1, "batch.by_month[].month");
  g_autoptr (GString) waits = g_string_new ("# month index\tmonth\tbaseline mean wait h: median\tmin\tmax\tmedian wait\t\t\t"
                                            "p95\t\t\treference point: mean\t\t\tmedian\t\t\tp95\n");
  g_autoptr (GString) shares = g_string_new ("# month index\tmonth\tbaseline share waiting >= 1 h %: median\tmin\tmax"
                                             "\t>= 24 h\t\t\treference point: >= 1 h\t\t\t>= 24 h\n");
  static const gchar *const wait_paths[] = { "batch.by_month[].wait_mean", "batch.by_month[].wait_median",
                                             "batch.by_month[].wait_p95" };
  static const gchar *const share_paths[] = { "batch.by_month[].wait_ge_1h_share", "batch.by_month[].wait_ge_24h_share" };
  gint who[2] = { -1, r->ref };

  *any = months->len > 0;
  for (guint i = 0; i < months->len; i++)
    {
      if (!month_has_jobs (r, i))
        continue;
      g_string_append_printf (waits, "%u\t%s", i, (const gchar *) g_ptr_array_index (months, i));
      g_string_append_printf (shares, "%u\t%s", i, (const gchar *) g_ptr_array_index (months, i));
      for (guint c = 0; c < 2; c++)
        {
          for (gsize k = 0; k < G_N_ELEMENTS (wait_paths); k++)
            {
              MnRange w = mn_report_series_range (r, who[c], wait_paths[k], i, NULL);

              mn_report_range_cols (waits, &w, 1 / 3600.0);
            }
          for (gsize k = 0; k < G_N_ELEMENTS (share_paths); k++)
            {
              MnRange w = mn_report_series_range (r, who[c], share_paths[k], i, NULL);

              mn_report_range_cols (shares, &w, 100);
            }
        }
      g_string_append_c (waits, '\n');
      g_string_append_c (shares, '\n');
    }
  return mn_report_write_data (r, "batch-wait-month.dat", waits, error)
      && mn_report_write_data (r, "batch-wait-share.dat", shares, error);
}

/* all.q's utilization by month, the report's Figure 4 measure (the
 * engine's batch.by_month[].utilization), with and without the
 * interactive nodes. */
static gboolean
data_utilization (Report *r, gboolean *any, GError **error)
{
  g_autoptr (GPtrArray) months = mn_report_labels (r, -1, "batch.by_month[].month");
  g_autoptr (GString) out = g_string_new ("# month index\tmonth\tbaseline %: median\tmin\tmax\treference point %: median\tmin\tmax"
                                          "\tmaintenance h\n");

  *any = FALSE;
  for (guint i = 0; i < months->len; i++)
    {
      MnRange b = mn_report_series_range (r, -1, "batch.by_month[].utilization", i, NULL);
      MnRange p = mn_report_series_range (r, r->ref, "batch.by_month[].utilization", i, NULL);
      MnRange down = mn_report_series_range (r, -1, "batch.by_month[].down_hours", i, NULL);
      g_autofree gchar *d = mn_report_fmt (down.median);

      if (!month_has_jobs (r, i))
        continue;
      *any |= !isnan (b.median);
      g_string_append_printf (out, "%u\t%s", i, (const gchar *) g_ptr_array_index (months, i));
      mn_report_range_cols (out, &b, 100);
      mn_report_range_cols (out, &p, 100);
      g_string_append_printf (out, "\t%s\n", d);
    }
  return mn_report_write_data (r, "utilization.dat", out, error);
}

/* Validation against the log (a trace with logged start times): replayed
 * against logged batch waits by month, the engine's
 * batch.by_month[].logged, for the baseline (the site's machine as it
 * was: every node in all.q). */
static gboolean
data_validation (Report *r, gboolean *any, GError **error)
{
  g_autoptr (GPtrArray) months = mn_report_labels (r, -1, "batch.by_month[].month");
  g_autoptr (GString) out = g_string_new ("# month index\tmonth\tlogged mean h\tmedian\tp95\treplayed mean h\tmedian\tp95\tjobs\n");
  static const gchar *const paths[] = {
    "batch.by_month[].logged.logged_wait_mean", "batch.by_month[].logged.logged_wait_median",
    "batch.by_month[].logged.logged_wait_p95", "batch.by_month[].logged.replay_wait_mean",
    "batch.by_month[].logged.replay_wait_median", "batch.by_month[].logged.replay_wait_p95",
  };

  *any = FALSE;
  for (guint i = 0; i < months->len; i++)
    {
      MnRange jobs = mn_report_series_range (r, -1, "batch.by_month[].logged.jobs", i, NULL);

      if (!month_has_jobs (r, i))
        continue;
      g_string_append_printf (out, "%u\t%s", i, (const gchar *) g_ptr_array_index (months, i));
      for (gsize k = 0; k < G_N_ELEMENTS (paths); k++)
        {
          MnRange v = mn_report_series_range (r, -1, paths[k], i, NULL);
          g_autofree gchar *t = mn_report_fmt (v.median / 3600);

          g_string_append_printf (out, "\t%s", t);
        }
      {
        g_autofree gchar *t = mn_report_fmt (jobs.median);

        g_string_append_printf (out, "\t%s\n", t);
      }
      *any |= jobs.median > 0;
    }
  return mn_report_write_data (r, "validation.dat", out, error);
}

static gboolean
data_batch_cost (Report *r, GError **error)
{
  g_autoptr (GArray) xs = distinct (r, "nodes");
  g_autoptr (GString) out = g_string_new ("# nodes\tbatch mean wait above the baseline %: median\tmin\tmax"
                                          "\tbatch mean wait h: median\tmin\tmax\n");

  {
    MnRange zero = { 0, 0, 0, r->n_seeds };
    MnRange w = mn_report_metric_range (r, -1, MN_METRIC_BATCH_WAIT_MEAN);

    g_string_append (out, "0");
    mn_report_range_cols (out, &zero, 1);
    mn_report_range_cols (out, &w, 1 / 3600.0);
    g_string_append_c (out, '\n');
  }
  for (guint k = 0; k < xs->len; k++)
    for (guint i = 0; i < r->n_points; i++)
      {
        JsonObject *p = mn_report_point (r, i);
        MnRange inc, w;

        if (mn_report_num (p, "parameters.nodes") != g_array_index (xs, gdouble, k) || !in_slice (r, p, "nodes", NULL))
          continue;
        inc = mn_report_figure_range (r, i, MN_FIGURE_BATCH_WAIT_INCREASE);
        w = mn_report_metric_range (r, i, MN_METRIC_BATCH_WAIT_MEAN);
        g_string_append_printf (out, "%.0f", g_array_index (xs, gdouble, k));
        mn_report_range_cols (out, &inc, 100);
        mn_report_range_cols (out, &w, 1 / 3600.0);
        g_string_append_c (out, '\n');
      }
  return mn_report_write_data (r, "batch-cost.dat", out, error);
}

/* Issue 19: every point of a sweep of designs on one plot: what it costs
 * batch users (x) against the worst hour's share started at once (y),
 * median and range over the seeds, one series per design.  @any: the
 * results have designs. */
static gboolean
data_designs (Report *r, gboolean *any, GError **error)
{
  static const gchar *const designs[] = { "dedicated", "oversubscribe", "hybrid" };
  g_autoptr (GString) out = g_string_new ("# design index\tbatch mean wait above the baseline %: median\tmin\tmax"
                                          "\tworst-hour share started at once %: median\tmin\tmax"
                                          "\tbatch node-hours lost to stretch: median\tmin\tmax\tlabel\n");

  *any = FALSE;
  for (guint i = 0; i < r->n_points; i++)
    {
      JsonObject *p = mn_report_point (r, i);
      const gchar *d = mn_report_str (p, "parameters.design");
      MnRange inc, imm, lost;
      guint k;

      if (d == NULL)
        continue;
      for (k = 0; k < G_N_ELEMENTS (designs) && g_strcmp0 (d, designs[k]) != 0; k++)
        ;
      *any |= k > 0;
      inc = mn_report_figure_range (r, i, MN_FIGURE_BATCH_WAIT_INCREASE);
      imm = mn_report_figure_range (r, i, MN_FIGURE_WORST_HOUR_SHARE);
      lost = mn_report_run_range (r, i, "oversubscribe.batch_node_hours_lost");
      g_string_append_printf (out, "%u", k);
      mn_report_range_cols (out, &inc, 100);
      mn_report_range_cols (out, &imm, 100);
      mn_report_range_cols (out, &lost, 1);
      if (k == 1)
        g_string_append_printf (out, "\tx%.0f\n", mn_report_num (p, "parameters.max_extra_jobs_per_node"));
      else if (k == 2)
        g_string_append_printf (out, "\t%.0f+x%.0f\n", mn_report_num (p, "parameters.nodes"),
                                mn_report_num (p, "parameters.max_extra_jobs_per_node"));
      else
        g_string_append_printf (out, "\t%.0f\n", mn_report_num (p, "parameters.nodes"));
    }
  return mn_report_write_data (r, "designs.dat", out, error);
}

/* ---- all plots ------------------------------------------------------------ */

gboolean
mn_report_plots (Report *r, GPtrArray *shown, GError **error)
{
  g_auto (Heat) heat = { 0 };
  gdouble lowest = 100;
  gboolean occupancy = FALSE, by_month = FALSE, utilization = FALSE, validation = FALSE;
  gboolean has_designs = FALSE;
  JsonObject *target = json_object_get_object_member (json_object_get_object_member (r->top, "scenario"), "targets");
  gdouble imm_target = target != NULL ? mn_report_num (target, "immediate_share_every_hour.limit") * 100 : NAN;
  gdouble cost_target = target != NULL ? mn_report_num (target, "batch_wait_increase.limit") * 100 : NAN;
  g_autofree gchar *imm_t = mn_report_fmt (imm_target);
  g_autofree gchar *cost_t = mn_report_fmt (cost_target);
  g_autofree gchar *ymin = NULL;
  g_autofree gchar *recnodes = g_strdup_printf ("%.0f", mn_report_num (mn_report_point (r, r->ref), "parameters.nodes"));
  /* The design of the plots' slices (a sweep of dedicated queues alone does
   * not write it: dedicated). */
  const gchar *ref_design = mn_report_str (mn_report_point (r, r->ref), "parameters.design");
  g_autofree gchar *seeds = g_strdup_printf ("%u", r->n_seeds);
  g_autofree gchar *ref_refused = refused_text (r, r->ref);
  g_autofree gchar *next_refused = r->next >= 0 ? refused_text (r, r->next) : g_strdup ("");
  g_autofree gchar *base_refused = refused_text (r, -1);
  g_autofree gchar *ref_started = mn_report_fmt (started_range (r, r->ref).median * 100);
  g_autofree gchar *next_started = mn_report_fmt (r->next >= 0 ? started_range (r, r->next).median * 100 : NAN);
  g_autofree gchar *cdf_ymin = NULL;
  gdouble swap_target = target != NULL ? mn_report_num (target, "swap_share.limit") * 100 : NAN;
  g_autofree gchar *swap_what = isnan (swap_target)
    ? g_strdup ("time with swap in use (%)")
    : g_strdup_printf ("time with swap in use (%%; target at most %g%%)", swap_target);
  const gchar *next_label = r->next_label != NULL ? r->next_label : "";

  if (!data_launches (r, error) || !data_wait_cdf (r, error) || !data_immediate_by_hour (r, &lowest, error)
      || !data_heatmaps (r, &heat, error) || !data_occupancy (r, &occupancy, error)
      || !data_failures (r, error) || !data_batch_by_month (r, &by_month, error) || !data_batch_cost (r, error)
      || !data_utilization (r, &utilization, error) || !data_validation (r, &validation, error)
      || !data_designs (r, &has_designs, error))
    return FALSE;
  {
    /* the CDF from below its lowest start (what started at once), so that
     * the part where the curves differ fills the plot */
    gdouble low = 100;
    gint who[3] = { -1, r->ref, r->next };

    for (guint c = 0; c < 3; c++)
      if (c == 0 || who[c] >= 0)
        {
          MnRange st = mn_report_metric_range (r, who[c], MN_METRIC_SHARE_IMMEDIATE);

          if (!isnan (st.min))
            low = MIN (low, st.min * 100);
        }
    cdf_ymin = mn_report_fmt (MAX (0, floor (low / 10) * 10 - 10));
  }
  /* the lowest hour, or the target, with room below */
  ymin = mn_report_fmt (floor (MIN (lowest, isnan (imm_target) ? lowest : imm_target) - 1));
  {
    const gchar *launches[] = { "datafile", "launches.dat", "#seeds", seeds, NULL };
    const gchar *cdf[] = { "datafile", "wait-cdf.dat", "label", r->ref_label, "nextlabel", next_label,
                           "refused", ref_refused, "nextrefused", next_refused, "baserefused", base_refused,
                           "#started", ref_started, "#nextstarted", next_started, "#ymin", cdf_ymin,
                           "#seeds", seeds, NULL };
    const gchar *by_hour[] = { "datafile", "immediate-by-hour.dat", "label", r->ref_label, "nextlabel", next_label,
                               "#target", imm_t, "#ymin", ymin, "#seeds", seeds, NULL };
    const gchar *heat_i[] = { "datafile", "heatmap-immediate.dat", "markfile", "recommended.dat",
                              "xtics_spec", heat.xtics, "ytics_spec", heat.ytics,
                              "what", "started immediately, worst hour of day (%)",
                              "plottitle", "Share started immediately in the worst hour",
                              "palette", "good-high", "#xmax", heat.xmax, "#ymax", heat.ymax,
                              "#cbmin", "0", "#cbmax", "100", "#seeds", seeds, NULL };
    const gchar *heat_s[] = { "datafile", "heatmap-swap.dat", "markfile", "recommended.dat",
                              "xtics_spec", heat.xtics, "ytics_spec", heat.ytics,
                              "what", swap_what,
                              "plottitle", "Swap in use (colour, scaled to the largest value) and OOM kills",
                              "palette", "good-low", "#xmax", heat.xmax, "#ymax", heat.ymax,
                              "#cbmin", "0", "#cbmax", heat.swap_max, "#seeds", seeds, NULL };
    const gchar *occ[] = { "datafile", "occupancy.dat", "label", r->ref_label, "#seeds", seeds, NULL };
    const gchar *fail[] = { "datafile", "failures.dat", "label", r->ref_label, "#recnodes", recnodes,
                            "#seeds", seeds, NULL };
    const gchar *month[] = { "datafile", "batch-wait-month.dat", "label", r->ref_label, "#seeds", seeds, NULL };
    const gchar *share[] = { "datafile", "batch-wait-share.dat", "label", r->ref_label, "#seeds", seeds, NULL };
    const gchar *cost[] = { "datafile", "batch-cost.dat", "#recnodes", recnodes, "#target", cost_t,
                            "design", ref_design != NULL ? ref_design : "dedicated", "#seeds", seeds, NULL };
    const gchar *util[] = { "datafile", "utilization.dat", "label", r->ref_label, "#seeds", seeds, NULL };
    const gchar *valid[] = { "datafile", "validation.dat", NULL };
    const gchar *design[] = { "datafile", "designs.dat", "#target", cost_t, "#imm", imm_t,
                              "#seeds", seeds, NULL };
    const struct { const gchar *script, *base; const gchar *const *vars; gboolean draw; } plots[] = {
      { "launches.gp", "launches", launches, TRUE },
      { "wait-cdf.gp", "wait-cdf", cdf, TRUE },
      { "immediate-by-hour.gp", "immediate-by-hour", by_hour, TRUE },
      { "heatmap.gp", "heatmap-immediate", heat_i, TRUE },
      { "heatmap.gp", "heatmap-swap", heat_s, TRUE },
      { "occupancy.gp", "occupancy", occ, occupancy },
      { "failures.gp", "failures", fail, TRUE },
      { "batch-wait-month.gp", "batch-wait-month", month, by_month },
      { "batch-wait-share.gp", "batch-wait-share", share, by_month },
      { "batch-cost.gp", "batch-cost", cost, TRUE },
      { "designs.gp", "designs", design, has_designs },
      { "utilization.gp", "utilization", util, utilization },
      { "validation.gp", "validation", valid, validation },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (plots); i++)
      {
        if (!plots[i].draw)
          continue;
        if (!mn_report_plot (r, plots[i].script, plots[i].base, plots[i].vars, error))
          return FALSE;
        g_ptr_array_add (shown, g_strdup (plots[i].base));
      }
  }
  return TRUE;
}
