/* mn-sim-months.c: all.q by local month (issue 16): the waits of the batch
 * jobs submitted in each month, the achieved utilization by the report's
 * Figure 4 measure (occupied node-seconds over the nodes' time outside
 * maintenance), and the replayed waits beside the logged ones when the
 * trace carries start times. */
#define G_LOG_DOMAIN "minna-sim"

#include <math.h>
#include <string.h>

#include "mn-sim-private.h"
#include "mn-trace-reader.h"

/* Months since year 0 of the local month holding @t. */
static gint64
month_of (const MnSimRun *run, gint64 t)
{
  g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc (t + run->utc_offset);
  if (d == NULL)
    return 0;
  return (gint64) g_date_time_get_year (d) * 12 + g_date_time_get_month (d) - 1;
}

/* Local time @t's month start, as Unix time. */
static gint64
month_start (const MnSimRun *run, gint64 m)
{
  g_autoptr(GDateTime) d = g_date_time_new_utc ((gint) (m / 12), (gint) (m % 12) + 1, 1, 0, 0, 0);
  return g_date_time_to_unix (d) - run->utc_offset;
}

static double *
slot (GArray *a, gint64 index)
{
  if (index < 0)
    index = 0;
  if ((guint) index >= a->len)
    g_array_set_size (a, (guint) index + 1);
  return &g_array_index (a, double, index);
}

void
mn_sim_months_init (MnSimRun *run, gint64 t0)
{
  run->month_occupied = g_array_new (FALSE, TRUE, sizeof (double));
  run->month_down = g_array_new (FALSE, TRUE, sizeof (double));
  run->month0 = month_of (run, t0);
  run->occ_last = t0;
  run->month_cur = run->month0;
  run->month_lo = month_start (run, run->month0);
  run->month_hi = month_start (run, run->month0 + 1);
}

void
mn_sim_months_clear (MnSimRun *run)
{
  g_clear_pointer (&run->month_occupied, g_array_unref);
  g_clear_pointer (&run->month_down, g_array_unref);
}

/* Add @value x the seconds of [a, b) to each month's bin it covers. */
static void
spread (MnSimRun *run, GArray *bins, gint64 a, gint64 b, double value)
{
  while (a < b)
    {
      gint64 m = month_of (run, a);
      gint64 end = MIN (b, month_start (run, m + 1));
      *slot (bins, m - run->month0) += value * (double) (end - a);
      a = end;
    }
}

void
mn_sim_months_advance (MnSimRun *run, gint64 now)
{
  if (run->month_occupied == NULL || now <= run->occ_last)
    return;
  /* Most steps stay inside one month: a cheap test first. */
  gint64 a = run->occ_last;
  run->occ_last = now;
  if (run->batch.occupied <= 0)
    return;
  if (a < run->month_lo || a >= run->month_hi)
    {
      run->month_cur = month_of (run, a);
      run->month_lo = month_start (run, run->month_cur);
      run->month_hi = month_start (run, run->month_cur + 1);
    }
  if (now <= run->month_hi)
    *slot (run->month_occupied, run->month_cur - run->month0) += run->batch.occupied * (double) (now - a);
  else
    spread (run, run->month_occupied, a, now, run->batch.occupied);
}

/* The k-th smallest of v[0..n) (0-based), partially ordering v: O(n),
 * where a sort per month cost more than the replay's own queue. */
static double
select_kth (double *v, gsize n, gsize k)
{
  gsize lo = 0, hi = n - 1;
  while (lo < hi)
    {
      double pivot = v[lo + (hi - lo) / 2];
      gsize i = lo, j = hi;
      while (i <= j)
        {
          while (v[i] < pivot)
            i++;
          while (v[j] > pivot)
            j--;
          if (i <= j)
            {
              double t = v[i];
              v[i] = v[j];
              v[j] = t;
              i++;
              if (j == 0)
                break;
              j--;
            }
        }
      if (k <= j)
        hi = j;
      else if (k >= i)
        lo = i;
      else
        return v[k];
    }
  return v[k];
}

/* Mean, median and p95 by nearest rank (as mn_sim_percentiles). */
static void
stats (GArray *v, double *mean, double *median, double *p95)
{
  double sum = 0;
  gsize n = v->len;
  *mean = *median = *p95 = 0;
  if (n == 0)
    return;
  for (gsize i = 0; i < n; i++)
    sum += g_array_index (v, double, i);
  *mean = sum / n;
  const double p[] = { 50, 95 };
  double *out[] = { median, p95 };
  for (guint i = 0; i < 2; i++)
    {
      gsize rank = (gsize) ceil (p[i] / 100.0 * n);
      rank = CLAMP (rank, 1, n);
      *out[i] = select_kth ((double *) v->data, n, rank - 1);
    }
}

void
mn_sim_months_compute (MnSimRun *run, MnSimMetrics *m)
{
  MnSimBatchMetrics *bm = &m->batch;
  MnSimWorkload *w = run->w;
  m->trace_skipped_lines = w->stats.skipped_lines;
  m->trace_merged_records = w->stats.merged_records;
  bm->by_month = g_array_new (FALSE, TRUE, sizeof (MnSimMonth));
  if (run->month_occupied == NULL)
    return;
  gint64 first = bm->first_submit, last = MAX (bm->last_end, first + 1);
  gint64 m0 = run->month0, m1 = month_of (run, last - 1);
  guint n_months = (guint) MAX (m1 - m0 + 1, 1);

  /* Maintenance seconds per month, inside [first, last). */
  if (run->config.maintenance && w->maintenance != NULL)
    for (guint i = 0; i < w->maintenance->len; i++)
      {
        const MnTraceWindow *win = &g_array_index (w->maintenance, MnTraceWindow, i);
        spread (run, run->month_down, MAX (win->start, first), MIN (win->end, last), 1.0);
      }

  GArray **waits = g_new0 (GArray *, n_months);
  GArray **lw = g_new0 (GArray *, n_months), **rw = g_new0 (GArray *, n_months);
  g_autoptr(GArray) all_l = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) all_r = g_array_new (FALSE, FALSE, sizeof (double));
  guint64 ge24 = 0, ran = 0;
  for (guint i = 0; i < n_months; i++)
    {
      waits[i] = g_array_new (FALSE, FALSE, sizeof (double));
      lw[i] = g_array_new (FALSE, FALSE, sizeof (double));
      rw[i] = g_array_new (FALSE, FALSE, sizeof (double));
    }
  for (guint i = 0; i < w->jobs->len; i++)
    {
      const MnSimJobResult *r = &run->res[i];
      const MnSimJob *j = &g_array_index (w->jobs, MnSimJob, i);
      if (r->job_class != MN_SIM_CLASS_BATCH || r->queue != MN_SIM_QUEUE_ALL || r->start < 0)
        continue;
      double wait = (double) (r->start - r->submit);
      if (r->submit < run->month_lo || r->submit >= run->month_hi)
        {
          run->month_cur = month_of (run, r->submit);
          run->month_lo = month_start (run, run->month_cur);
          run->month_hi = month_start (run, run->month_cur + 1);
        }
      gint64 mi = run->month_cur - m0;
      ran++;
      ge24 += wait >= 86400;
      if (mi < 0 || mi >= n_months)
        continue;
      g_array_append_val (waits[mi], wait);
      if (j->logged_start >= 0)
        {
          double lwait = (double) (j->logged_start - j->submit);
          g_array_append_val (lw[mi], lwait);
          g_array_append_val (rw[mi], wait);
          g_array_append_val (all_l, lwait);
          g_array_append_val (all_r, wait);
        }
    }
  bm->wait_ge_24h_share = ran > 0 ? (double) ge24 / (double) ran : 0;

  for (guint i = 0; i < n_months; i++)
    {
      MnSimMonth mo = { 0 };
      gint64 mm = m0 + i;
      mo.year = (gint) (mm / 12);
      mo.month = (gint) (mm % 12) + 1;
      GArray *v = waits[i];
      mo.jobs = v->len;
      guint64 ge1 = 0, ge24m = 0;
      for (guint k = 0; k < v->len; k++)
        {
          double x = g_array_index (v, double, k);
          ge1 += x >= 3600;
          ge24m += x >= 86400;
        }
      mo.wait_ge_1h_share = v->len > 0 ? (double) ge1 / v->len : 0;
      mo.wait_ge_24h_share = v->len > 0 ? (double) ge24m / v->len : 0;
      stats (v, &mo.wait_mean, &mo.wait_median, &mo.wait_p95);
      /* The part of the month the run covers, less maintenance. */
      gint64 a = MAX (month_start (run, mm), first), b = MIN (month_start (run, mm + 1), last);
      double down = i < run->month_down->len ? g_array_index (run->month_down, double, i) : 0;
      double nodes = run->node_mode ? (double) run->allq_nodes : 1.0;
      double avail = nodes * ((double) (b - a) - down);
      double occ = i < run->month_occupied->len ? g_array_index (run->month_occupied, double, i) : 0;
      mo.utilization = avail > 0 ? occ / avail : 0;
      mo.available_node_hours = avail / 3600.0;
      mo.down_hours = down / 3600.0;
      mo.logged_jobs = lw[i]->len;
      stats (lw[i], &mo.logged_wait_mean, &mo.logged_wait_median, &mo.logged_wait_p95);
      stats (rw[i], &mo.replay_wait_mean, &mo.replay_wait_median, &mo.replay_wait_p95);
      g_array_append_val (bm->by_month, mo);
      g_array_unref (v);
      g_array_unref (lw[i]);
      g_array_unref (rw[i]);
    }
  g_free (waits);
  g_free (lw);
  g_free (rw);
  MnSimLogComparison *lc = &bm->logged;
  lc->jobs = all_l->len;
  stats (all_l, &lc->logged_wait_mean, &lc->logged_wait_median, &lc->logged_wait_p95);
  stats (all_r, &lc->replay_wait_mean, &lc->replay_wait_median, &lc->replay_wait_p95);
}

static void
add_comparison (JsonBuilder *b, guint64 jobs, double rm, double rmed, double rp95, double lm,
                double lmed, double lp95)
{
  json_builder_begin_object (b);
  MN_SIM_MEMBER_INT (b, "jobs", jobs);
  MN_SIM_MEMBER_DOUBLE (b, "replay_wait_mean", rm);
  MN_SIM_MEMBER_DOUBLE (b, "replay_wait_median", rmed);
  MN_SIM_MEMBER_DOUBLE (b, "replay_wait_p95", rp95);
  MN_SIM_MEMBER_DOUBLE (b, "logged_wait_mean", lm);
  MN_SIM_MEMBER_DOUBLE (b, "logged_wait_median", lmed);
  MN_SIM_MEMBER_DOUBLE (b, "logged_wait_p95", lp95);
  json_builder_end_object (b);
}

/* The "trace" member of a run: what reading the trace found. */
void
mn_sim_months_add_trace_json (JsonBuilder *b, MnSimWorkload *w, const MnSimMetrics *m)
{
  json_builder_set_member_name (b, "trace");
  json_builder_begin_object (b);
  MN_SIM_MEMBER_INT (b, "skipped_lines", m->trace_skipped_lines);
  MN_SIM_MEMBER_INT (b, "merged_records", m->trace_merged_records);
  json_builder_set_member_name (b, "notes");
  json_builder_begin_array (b);
  for (guint i = 0; w != NULL && i < w->stats.notes->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (w->stats.notes, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* Members of the "batch" object: wait_ge_24h_share, never_started,
 * by_month [...], and "logged" when the trace has logged starts. */
void
mn_sim_months_add_json (JsonBuilder *b, const MnSimBatchMetrics *m)
{
  MN_SIM_MEMBER_DOUBLE (b, "wait_ge_24h_share", m->wait_ge_24h_share);
  MN_SIM_MEMBER_INT (b, "never_started", m->never_started);
  if (m->logged.jobs > 0)
    {
      const MnSimLogComparison *l = &m->logged;
      json_builder_set_member_name (b, "logged");
      add_comparison (b, l->jobs, l->replay_wait_mean, l->replay_wait_median, l->replay_wait_p95,
                      l->logged_wait_mean, l->logged_wait_median, l->logged_wait_p95);
    }
  if (m->by_month == NULL)
    return;
  json_builder_set_member_name (b, "by_month");
  json_builder_begin_array (b);
  for (guint i = 0; i < m->by_month->len; i++)
    {
      const MnSimMonth *mo = &g_array_index (m->by_month, MnSimMonth, i);
      g_autofree gchar *name = g_strdup_printf ("%04d-%02d", mo->year, mo->month);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "month");
      json_builder_add_string_value (b, name);
      MN_SIM_MEMBER_INT (b, "jobs", mo->jobs);
      MN_SIM_MEMBER_DOUBLE (b, "wait_mean", mo->wait_mean);
      MN_SIM_MEMBER_DOUBLE (b, "wait_median", mo->wait_median);
      MN_SIM_MEMBER_DOUBLE (b, "wait_p95", mo->wait_p95);
      MN_SIM_MEMBER_DOUBLE (b, "wait_ge_1h_share", mo->wait_ge_1h_share);
      MN_SIM_MEMBER_DOUBLE (b, "wait_ge_24h_share", mo->wait_ge_24h_share);
      MN_SIM_MEMBER_DOUBLE (b, "utilization", mo->utilization);
      MN_SIM_MEMBER_DOUBLE (b, "down_hours", mo->down_hours);
      MN_SIM_MEMBER_DOUBLE (b, "available_node_hours", mo->available_node_hours);
      if (mo->logged_jobs > 0)
        {
          json_builder_set_member_name (b, "logged");
          add_comparison (b, mo->logged_jobs, mo->replay_wait_mean, mo->replay_wait_median,
                          mo->replay_wait_p95, mo->logged_wait_mean, mo->logged_wait_median,
                          mo->logged_wait_p95);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}
