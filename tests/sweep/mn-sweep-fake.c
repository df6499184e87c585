/* mn-sweep-fake.c: the fake simulator.  interactive.q has
 *   capacity = nodes x 4 logical nodes x jobs_per_logical
 * slots.  Every hour of the day sees 10 launches, except 10:00 (40, the
 * lecture, + 10 per seed above 1 in a [world]: 40, 50, 60 on seeds 1, 2, 3)
 * and 11:00 (30).  An hour whose launches exceed the capacity starts
 * only capacity/launches of them immediately.  p99 wait = 60 s per missing
 * slot at the peak (40 - capacity).  Swap is in use 10% of the time with 7
 * jobs per logical node, else never.  OOM kills: one per GiB that
 * jobs_per_logical x memory_cap goes over a logical node's 64 GiB + a
 * quarter of the swap.  Batch mean wait: 1000 s + 30 s per node carved out
 * (baseline 1000 s), i.e. +3% per node.  A memory cap below 4 GiB refuses
 * every request (over the cap). */
#define G_LOG_DOMAIN "minna-sweep-test"

#include "mn-sweep-fake.h"

static JsonArray *
array_of (const gdouble *v, guint n, gboolean integers)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < n; i++)
    {
      if (integers)
        json_array_add_int_element (a, (gint64) v[i]);
      else
        json_array_add_double_element (a, v[i]);
    }
  return a;
}

JsonObject *
mn_sweep_fake_run (const MnSweepPoint *point, guint seed_index, gpointer user_data, GError **error)
{
  const MnSweepScenario *s = point->scenario;
  guint64 seed = s->world ? g_array_index (s->seeds, guint64, seed_index) : 1;
  gdouble peak = 40 + 10.0 * (seed - 1);
  gboolean refuse = !point->baseline && point->values[MN_SWEEP_PARAM_MEMORY_CAP] < 4096;
  gint64 nodes = point->baseline ? 0 : point->values[MN_SWEEP_PARAM_NODES];
  gint64 jpl = point->values[MN_SWEEP_PARAM_JOBS_PER_LOGICAL];
  gint64 cap_g = point->values[MN_SWEEP_PARAM_MEMORY_CAP] / 1024;
  gint64 swap_g = point->values[MN_SWEEP_PARAM_SWAP] / 1024;
  gdouble capacity = point->baseline ? 0 : nodes * 4 * jpl;
  gdouble launches[24], immediate[24], weekday[7], util[30], quantiles[101];
  gdouble requests = 0, started_now = 0;
  gint64 over = jpl * cap_g - (64 + swap_g / 4);
  JsonObject *m = json_object_new ();
  JsonObject *inter = json_object_new ();
  JsonObject *batch = json_object_new ();
  JsonObject *sweep = json_object_new ();

  /* user_data = 1 + the index of a point to fail, for the error path. */
  if (!point->baseline && GPOINTER_TO_UINT (user_data) == point->index + 1)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_RUN, "fake failure");
      return NULL;
    }
  for (guint h = 0; h < 24; h++)
    {
      launches[h] = h == 10 ? peak : h == 11 ? 30 : 10;
      /* The baseline has no interactive.q: a few start at once in all.q. */
      immediate[h] = point->baseline ? 1 : refuse ? 0 : MIN (launches[h], capacity);
      requests += launches[h];
      started_now += immediate[h];
    }
  for (guint d = 0; d < 7; d++)
    weekday[d] = d < 5 ? 60 : 20;
  for (guint d = 0; d < 30; d++)
    util[d] = 0.80 + 0.005 * d - 0.002 * nodes;
  for (guint p = 0; p <= 100; p++)
    quantiles[p] = point->baseline ? p * 360.0 : (capacity >= peak ? 0 : (p > 90 ? (p - 90) * 30.0 : 0));

  json_object_set_int_member (inter, "requests", (gint64) requests);
  json_object_set_double_member (inter, "share_immediate", started_now / requests);
  json_object_set_int_member (inter, "started", refuse ? 0 : (gint64) requests);
  json_object_set_int_member (inter, "rejected", refuse ? (gint64) requests : 0);
  {
    JsonObject *reasons = json_object_new ();

    if (refuse)
      json_object_set_int_member (reasons, "over-memory-cap", (gint64) requests);
    json_object_set_object_member (inter, "rejected_by_reason", reasons);
  }
  json_object_set_double_member (inter, "wait_p50", point->baseline ? 18000 : 0);
  json_object_set_double_member (inter, "wait_p95", point->baseline ? 34200 : 0);
  /* the engine reports 0 s when no session started */
  json_object_set_double_member (inter, "wait_p99",
                                 point->baseline ? 36000 : refuse ? 0 : MAX (0, peak - capacity) * 60.0);
  json_object_set_double_member (inter, "wait_max", point->baseline ? 36000 : refuse ? 0 : MAX (0, peak - capacity) * 90.0);
  json_object_set_int_member (inter, "oom_kills", point->baseline ? 0 : MAX (0, over));
  json_object_set_double_member (inter, "swap_time_share", !point->baseline && !refuse && jpl >= 7 ? 0.1 : 0.0);
  json_object_set_int_member (inter, "swap_peak_mb", !point->baseline && jpl >= 7 ? 40960 : 0);
  json_object_set_int_member (inter, "gpu_alloc_failures", 0);
  json_object_set_double_member (inter, "slot_occupancy", capacity > 0 ? 10.0 / capacity : 0);
  json_object_set_array_member (inter, "launches_by_hour", array_of (launches, 24, TRUE));
  json_object_set_array_member (inter, "immediate_by_hour", array_of (immediate, 24, TRUE));
  json_object_set_array_member (inter, "launches_by_weekday", array_of (weekday, 7, TRUE));
  json_object_set_double_member (batch, "wait_mean", 1000 + 30 * nodes);
  json_object_set_double_member (batch, "wait_p95", 5000 + 100 * nodes);
  json_object_set_double_member (batch, "bounded_slowdown_mean", 3.0 + 0.1 * nodes);
  json_object_set_double_member (batch, "utilization", 0.85);
  json_object_set_array_member (batch, "utilization_by_day", array_of (util, 30, FALSE));
  json_object_set_int_member (sweep, "started", refuse ? 0 : (gint64) requests);
  json_object_set_int_member (sweep, "never_started", 0);
  json_object_set_array_member (sweep, "wait_quantiles_s", array_of (quantiles, 101, TRUE));
  {
    gdouble wd[24], we[24];

    for (guint h = 0; h < 24; h++)
      {
        wd[h] = launches[h] * 20;
        we[h] = h == 10 || h == 11 ? 10 : launches[h] * 4;
      }
    json_object_set_array_member (sweep, "launches_by_hour_weekday", array_of (wd, 24, TRUE));
    json_object_set_array_member (sweep, "launches_by_hour_weekend", array_of (we, 24, TRUE));
    json_object_set_int_member (sweep, "weekdays", 20);
    json_object_set_int_member (sweep, "weekend_days", 8);
  }
  {
    /* three months of batch waits (the engine's batch.by_month): + 3% per
     * node, as the mean */
    static const gchar *const months[] = { "2019-04", "2019-05", "2019-06" };
    JsonArray *bm = json_array_new ();

    for (guint k = 0; k < 3; k++)
      {
        JsonObject *mo = json_object_new ();
        gdouble f = (1.0 + 0.03 * nodes) * (k + 1);

        json_object_set_string_member (mo, "month", months[k]);
        json_object_set_int_member (mo, "jobs", 1000);
        json_object_set_double_member (mo, "wait_mean", 1000 * f);
        json_object_set_double_member (mo, "wait_median", 300 * f);
        json_object_set_double_member (mo, "wait_p95", 5000 * f);
        json_object_set_double_member (mo, "wait_ge_1h_share", 0.1 * f);
        json_object_set_double_member (mo, "wait_ge_24h_share", 0.001 * f);
        json_object_set_double_member (mo, "utilization", 0.80 + 0.05 * k);
        json_object_set_double_member (mo, "down_hours", 0);
        if (!s->world)
          {
            /* a trace file logs when its jobs started: the log waited
             * twice as long as the replay */
            JsonObject *lg = json_object_new ();

            json_object_set_int_member (lg, "jobs", 900);
            json_object_set_double_member (lg, "replay_wait_mean", 1000 * f);
            json_object_set_double_member (lg, "replay_wait_median", 300 * f);
            json_object_set_double_member (lg, "replay_wait_p95", 5000 * f);
            json_object_set_double_member (lg, "logged_wait_mean", 2000 * f);
            json_object_set_double_member (lg, "logged_wait_median", 600 * f);
            json_object_set_double_member (lg, "logged_wait_p95", 10000 * f);
            json_object_set_object_member (mo, "logged", lg);
          }
        json_array_add_object_element (bm, mo);
      }
    json_object_set_array_member (batch, "by_month", bm);
    if (!s->world)
      {
        JsonObject *lg = json_object_new ();

        json_object_set_int_member (lg, "jobs", 2700);
        json_object_set_double_member (lg, "replay_wait_mean", 2000);
        json_object_set_double_member (lg, "replay_wait_median", 600);
        json_object_set_double_member (lg, "replay_wait_p95", 10000);
        json_object_set_double_member (lg, "logged_wait_mean", 4000);
        json_object_set_double_member (lg, "logged_wait_median", 1200);
        json_object_set_double_member (lg, "logged_wait_p95", 20000);
        json_object_set_object_member (batch, "logged", lg);
      }
    json_object_set_double_member (batch, "wait_ge_24h_share", 0.002 * (1.0 + 0.03 * nodes));
  }
  if (!point->baseline)
    {
      /* a session lasts an hour: the launches of an hour are what runs */
      JsonObject *occ = json_object_new ();
      gdouble o_mean[24], o_peak[24];

      for (guint h = 0; h < 24; h++)
        {
          o_peak[h] = capacity > 0 ? MIN (1.0, immediate[h] / capacity) : 0;
          o_mean[h] = o_peak[h] / 2;
        }
      json_object_set_int_member (occ, "slots", (gint64) capacity);
      json_object_set_array_member (occ, "mean_by_hour_weekday", array_of (o_mean, 24, FALSE));
      json_object_set_array_member (occ, "peak_by_hour", array_of (o_peak, 24, FALSE));
      json_object_set_object_member (sweep, "occupancy", occ);
    }
  json_object_set_int_member (m, "interactive_nodes", nodes);
  json_object_set_object_member (m, "interactive", inter);
  json_object_set_object_member (m, "batch", batch);
  json_object_set_object_member (m, "sweep", sweep);
  return m;
}

MnSweepRunner *
mn_sweep_fake_runner_new (const MnSweepScenario *scenario, GError **error)
{
  return mn_sweep_runner_new (mn_sweep_fake_run, NULL, NULL);
}
