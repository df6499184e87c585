/* mn-sweep-measure.c: what a sweep measures from the engine's per-job rows
 * beyond the engine's own metrics: the interactive wait quantiles (the CDF
 * plot), launches by hour on weekdays and weekends, and interactive.q's own
 * occupancy by hour and month.  (The batch waits by month are the
 * engine's: batch.by_month.)  Local time is the trace's one fixed UTC
 * offset, as in the engine. */
#define G_LOG_DOMAIN "minna-sweep"

#include <math.h>
#include <stdlib.h>

#include "mn-sweep-measure.h"

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static JsonArray *
int_array (const guint64 *v, guint n)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < n; i++)
    json_array_add_int_element (a, (gint64) v[i]);
  return a;
}

static JsonArray *
rounded_array (const gdouble *v, guint n)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < n; i++)
    {
      /* 6 significant digits: enough for a plot, and results.json stays small */
      gdouble r = v[i] == 0 || !isfinite (v[i]) ? 0 : v[i];

      if (r != 0)
        {
          gdouble scale = pow (10, 5 - floor (log10 (fabs (r))));

          r = round (r * scale) / scale;
        }
      json_array_add_double_element (a, r);
    }
  return a;
}

/* Nearest rank, as the engine's percentiles: the smallest value with at
 * least p% at or below it.  @v sorted, @n > 0. */
static gint64
nearest_rank (const gint64 *v, gsize n, guint percent)
{
  gsize rank = (gsize) ((percent * (guint64) n + 99) / 100);

  return v[rank > 0 ? rank - 1 : 0];
}

static gint64
local_day (gint64 t, gint64 utc_offset)
{
  gint64 local = t + utc_offset;

  return local >= 0 ? local / 86400 : (local - 86399) / 86400;
}

/* Monday = 0; 1970-01-01 was a Thursday. */
static guint
day_of_week (gint64 day)
{
  return (guint) (((day % 7) + 7 + 3) % 7);
}

/* Year and month (1..12) of a day since the epoch (H. Hinnant's
 * civil_from_days). */
static void
civil_from_days (gint64 z, gint *year, guint *month)
{
  gint64 era, yoe, doy, mp, y;
  guint64 doe;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (guint64) (z - era * 146097);
  yoe = (gint64) ((doe - doe / 1460 + doe / 36524 - doe / 146096) / 365);
  y = yoe + era * 400;
  doy = (gint64) doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *month = (guint) (mp < 10 ? mp + 3 : mp - 9);
  *year = (gint) (y + (*month <= 2));
}

/* Months counted from year 0, so that consecutive months differ by one. */
static gint64
month_index (gint64 t, gint64 utc_offset)
{
  gint year;
  guint month;

  civil_from_days (local_day (t, utc_offset), &year, &month);
  return (gint64) year * 12 + (month - 1);
}

static JsonArray *
month_names (gint64 first, guint n)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < n; i++)
    {
      g_autofree gchar *name = g_strdup_printf ("%04" G_GINT64_FORMAT "-%02" G_GINT64_FORMAT,
                                                (first + i) / 12, (first + i) % 12 + 1);

      json_array_add_string_element (a, name);
    }
  return a;
}

/* Launches by local hour of day, weekdays and weekends apart (the report's
 * Figures 5 and 8), how many days of each kind the trace spans (launches
 * per day), refusals by the per-user limit by hour, and waits by hour. */
static void
launches_by_kind_of_day (const MnSimJobResult *jobs, gsize n_jobs, gint64 utc_offset,
                         JsonObject *out)
{
  guint64 weekday[24] = { 0 }, weekend[24] = { 0 }, own_limit[24] = { 0 };
  gint64 first = G_MAXINT64, last = G_MININT64;
  guint64 n_weekdays = 0, n_weekend = 0;
  GArray *waits[24];
  JsonArray *mean = json_array_new (), *p95 = json_array_new ();

  for (guint h = 0; h < 24; h++)
    waits[h] = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (gsize i = 0; i < n_jobs; i++)
    {
      gint64 day;
      guint hour;

      if (jobs[i].job_class != MN_SIM_CLASS_INTERACTIVE || jobs[i].status == MN_SIM_STATUS_SKIPPED)
        continue;
      day = local_day (jobs[i].submit, utc_offset);
      hour = (guint) ((jobs[i].submit + utc_offset - day * 86400) / 3600);
      if (jobs[i].status == MN_SIM_STATUS_REJECTED && jobs[i].reason == MN_REJECT_PER_USER_LIMIT)
        own_limit[hour]++;
      if (day_of_week (day) >= 5)
        weekend[hour]++;
      else
        weekday[hour]++;
      first = MIN (first, day);
      last = MAX (last, day);
      if (jobs[i].start >= 0)
        {
          gint64 w = jobs[i].start - jobs[i].submit;

          g_array_append_val (waits[hour], w);
        }
    }
  /* Waits by hour of day: what a user pressing Launch at that hour sees. */
  for (guint h = 0; h < 24; h++)
    {
      gdouble sum = 0;

      /* an empty GArray has no data at all */
      if (waits[h]->len > 1)
        qsort (waits[h]->data, waits[h]->len, sizeof (gint64), compare_gint64);
      for (guint k = 0; k < waits[h]->len; k++)
        sum += g_array_index (waits[h], gint64, k);
      json_array_add_double_element (mean, waits[h]->len > 0 ? round (sum / waits[h]->len) : 0);
      json_array_add_int_element (p95, waits[h]->len > 0
                                  ? nearest_rank ((gint64 *) (gpointer) waits[h]->data, waits[h]->len, 95) : 0);
      g_array_unref (waits[h]);
    }
  json_object_set_array_member (out, "wait_mean_by_hour_s", mean);
  json_object_set_array_member (out, "wait_p95_by_hour_s", p95);
  for (gint64 d = first; first <= last && d <= last; d++)
    {
      if (day_of_week (d) >= 5)
        n_weekend++;
      else
        n_weekdays++;
    }
  json_object_set_array_member (out, "launches_by_hour_weekday", int_array (weekday, 24));
  json_object_set_array_member (out, "launches_by_hour_weekend", int_array (weekend, 24));
  /* Refused by the one-job-per-user rule: the user's own limit, not a
   * shortage of slots, so the immediate-start target leaves them out. */
  json_object_set_array_member (out, "per_user_rejected_by_hour", int_array (own_limit, 24));
  json_object_set_int_member (out, "weekdays", n_weekdays);
  json_object_set_int_member (out, "weekend_days", n_weekend);
}

/* 101 quantiles (0%, 1%, ..., 100%) of the interactive jobs' waits, nearest
 * rank; requests that never started are left out and counted. */
static void
wait_quantiles (const MnSimJobResult *jobs, gsize n_jobs, JsonObject *out)
{
  g_autoptr (GArray) waits = g_array_new (FALSE, FALSE, sizeof (gint64));
  JsonArray *q = json_array_new ();
  guint64 never = 0;

  for (gsize i = 0; i < n_jobs; i++)
    {
      gint64 w;

      if (jobs[i].job_class != MN_SIM_CLASS_INTERACTIVE || jobs[i].status == MN_SIM_STATUS_SKIPPED)
        continue;
      if (jobs[i].start < 0)
        {
          never++;
          continue;
        }
      w = jobs[i].start - jobs[i].submit;
      g_array_append_val (waits, w);
    }
  if (waits->len > 1)
    qsort (waits->data, waits->len, sizeof (gint64), compare_gint64);
  for (guint p = 0; p <= 100 && waits->len > 0; p++)
    json_array_add_int_element (q, nearest_rank ((gint64 *) (gpointer) waits->data, waits->len, p));
  json_object_set_int_member (out, "started", waits->len);
  json_object_set_int_member (out, "never_started", never);
  json_object_set_array_member (out, "wait_quantiles_s", q);
}

typedef struct {
  gint64 time;
  gint   delta;   /* +1 start, -1 end */
} Edge;

static int
compare_edges (const void *a, const void *b)
{
  const Edge *x = a, *y = b;

  if (x->time != y->time)
    return (x->time > y->time) - (x->time < y->time);
  /* ends first: a slot freed and taken at one instant is not two sessions */
  return x->delta - y->delta;
}

/* interactive.q's own occupancy: running sessions over its slots (nodes x
 * logical nodes x jobs per logical node), as a mean and a peak by local
 * hour of day on weekdays, and by month. */
static JsonObject *
occupancy (const MnSimJobResult *jobs, gsize n_jobs, gint64 utc_offset, guint slots)
{
  JsonObject *out = json_object_new ();
  g_autoptr (GArray) edges = g_array_new (FALSE, FALSE, sizeof (Edge));
  gdouble hour_busy[24] = { 0 }, hour_peak[24] = { 0 }, hour_mean[24] = { 0 };
  guint64 hour_count[24] = { 0 };
  gint64 t0, t1, first_month, last_month, running = 0, prev;
  guint n_months;
  g_autofree gdouble *month_busy = NULL, *month_span = NULL, *month_peak = NULL;

  for (gsize i = 0; i < n_jobs; i++)
    if (jobs[i].queue == MN_SIM_QUEUE_INTERACTIVE && jobs[i].start >= 0 && jobs[i].end > jobs[i].start)
      {
        Edge a = { jobs[i].start, +1 }, b = { jobs[i].end, -1 };

        g_array_append_val (edges, a);
        g_array_append_val (edges, b);
      }
  json_object_set_int_member (out, "slots", slots);
  if (edges->len == 0 || slots == 0)
    return out;
  qsort (edges->data, edges->len, sizeof (Edge), compare_edges);
  t0 = g_array_index (edges, Edge, 0).time;
  t1 = g_array_index (edges, Edge, edges->len - 1).time;
  first_month = month_index (t0, utc_offset);
  last_month = month_index (t1, utc_offset);
  n_months = (guint) (last_month - first_month + 1);
  month_busy = g_new0 (gdouble, n_months);
  month_span = g_new0 (gdouble, n_months);
  month_peak = g_new0 (gdouble, n_months);

  /* Walk the time line hour by hour between edges, so that every piece of
   * time falls in one local hour and one month. */
  prev = t0;
  for (guint e = 0; e < edges->len; e++)
    {
      const Edge *edge = &g_array_index (edges, Edge, e);

      while (prev < edge->time)
        {
          gint64 local = prev + utc_offset;
          gint64 hour_end = (local >= 0 ? local / 3600 + 1 : (local - 3599) / 3600 + 1) * 3600 - utc_offset;
          gint64 next = MIN (hour_end, edge->time);
          gint64 day = local_day (prev, utc_offset);
          guint h = (guint) ((local - day * 86400) / 3600);
          guint m = (guint) (month_index (prev, utc_offset) - first_month);

          if (day_of_week (day) < 5)
            hour_busy[h] += (gdouble) running * (next - prev);
          month_busy[m] += (gdouble) running * (next - prev);
          month_span[m] += next - prev;
          prev = next;
        }
      running += edge->delta;
      {
        gint64 day = local_day (edge->time, utc_offset);
        guint h = (guint) ((edge->time + utc_offset - day * 86400) / 3600);
        guint m = (guint) (month_index (edge->time, utc_offset) - first_month);

        hour_peak[h] = MAX (hour_peak[h], (gdouble) running / slots);
        month_peak[m] = MAX (month_peak[m], (gdouble) running / slots);
      }
    }
  /* weekday hours of each hour of day in the span */
  for (gint64 d = local_day (t0, utc_offset); d <= local_day (t1, utc_offset); d++)
    if (day_of_week (d) < 5)
      for (guint h = 0; h < 24; h++)
        hour_count[h]++;
  for (guint h = 0; h < 24; h++)
    hour_mean[h] = hour_count[h] > 0 ? hour_busy[h] / (hour_count[h] * 3600.0 * slots) : 0;
  for (guint m = 0; m < n_months; m++)
    month_busy[m] = month_span[m] > 0 ? month_busy[m] / (month_span[m] * slots) : 0;
  json_object_set_array_member (out, "mean_by_hour_weekday", rounded_array (hour_mean, 24));
  json_object_set_array_member (out, "peak_by_hour", rounded_array (hour_peak, 24));
  json_object_set_array_member (out, "months", month_names (first_month, n_months));
  json_object_set_array_member (out, "mean_by_month", rounded_array (month_busy, n_months));
  json_object_set_array_member (out, "peak_by_month", rounded_array (month_peak, n_months));
  return out;
}

JsonObject *
mn_sweep_measure (MnSimResult *result, const MnPolicyConfig *policy, gboolean baseline,
                  gint64 utc_offset)
{
  gsize n_jobs = 0;
  const MnSimJobResult *jobs = mn_sim_result_get_jobs (result, &n_jobs);
  JsonObject *out = json_object_new ();

  if (jobs == NULL)
    n_jobs = 0;
  wait_quantiles (jobs, n_jobs, out);
  launches_by_kind_of_day (jobs, n_jobs, utc_offset, out);
  if (!baseline)
    json_object_set_object_member (out, "occupancy",
                                   occupancy (jobs, n_jobs, utc_offset,
                                              policy->nodes * policy->logical_per_node
                                              * policy->max_jobs_per_logical));
  return out;
}
