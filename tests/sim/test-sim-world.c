/* test-sim-world.c: the default world (minna-tracegen --seed 1, April 2019 to
 * August 2020) replayed as `minna-sim replay` replays it (TSUBAME3 policy,
 * 4 interactive nodes, EASY with the header's caps and maintenance windows)
 * meets every row of the calibration table in traces/README.md.  Each row is
 * one assertion below, with the report's figure beside it. */
#define G_LOG_DOMAIN "test-sim"

#include <math.h>

#include "mn-sim-engine.h"
#include "mn-trace-gen.h"

static GPtrArray *jobs;
static MnTraceHeader header;
static MnSimResult *result;

static const MnSimMonth *
month (const MnSimMetrics *m, gint year, gint mon)
{
  for (guint i = 0; i < m->batch.by_month->len; i++)
    {
      const MnSimMonth *mo = &g_array_index (m->batch.by_month, MnSimMonth, i);
      if (mo->year == year && mo->month == mon)
        return mo;
    }
  g_error ("no month %04d-%02d in the replay", year, mon);
  return NULL;
}

/* Busiest month: >= 10% of batch jobs wait 24 h or more, median over 1 h. */
static void
test_busiest_month_waits (void)
{
  const MnSimMetrics *m = mn_sim_result_get_metrics (result);
  const MnSimMonth *busiest = NULL;
  for (guint i = 0; i < m->batch.by_month->len; i++)
    {
      const MnSimMonth *mo = &g_array_index (m->batch.by_month, MnSimMonth, i);
      g_test_message ("%04d-%02d: %" G_GUINT64_FORMAT " jobs, median wait %.0f s, >= 24 h %.3f, "
                      "utilization %.3f, down %.0f h", mo->year, mo->month, mo->jobs,
                      mo->wait_median, mo->wait_ge_24h_share, mo->utilization, mo->down_hours);
      if (mo->jobs > 1000 && (busiest == NULL || mo->wait_ge_24h_share > busiest->wait_ge_24h_share))
        busiest = mo;
    }
  g_assert_nonnull (busiest);
  g_assert_cmpfloat (busiest->wait_ge_24h_share, >=, 0.10);
  g_assert_cmpfloat (busiest->wait_median, >, 3600);
  /* and not everywhere: the quiet months start at once */
  g_assert_cmpfloat (month (m, 2019, 4)->wait_median, <, 600);
}

/* Figure 4's measure: FY2019 over 80%, some month over 96%. */
static void
test_utilization (void)
{
  const MnSimMetrics *m = mn_sim_result_get_metrics (result);
  double occ = 0, avail = 0, best = 0;
  for (gint k = 0; k < 12; k++)
    {
      const MnSimMonth *mo = month (m, 2019 + (k + 3) / 12, (k + 3) % 12 + 1);
      occ += mo->utilization * mo->available_node_hours;
      avail += mo->available_node_hours;
      best = MAX (best, mo->utilization);
    }
  g_test_message ("FY2019 %.3f, best month %.3f", occ / avail, best);
  g_assert_cmpfloat (occ / avail, >, 0.80);
  g_assert_cmpfloat (best, >, 0.96);
}

/* Maintenance periods: the machine is down, nothing is submitted. */
static void
test_maintenance (void)
{
  const MnSimMetrics *m = mn_sim_result_get_metrics (result);
  g_assert_nonnull (header.maintenance);
  g_assert_cmpuint (header.maintenance->len, ==, 2);
  g_assert_cmpfloat (month (m, 2019, 8)->down_hours, ==, 72);
  g_assert_cmpfloat (month (m, 2020, 3)->down_hours + month (m, 2020, 4)->down_hours, ==, 168);
}

/* The interactive.q trial from November 2019: about 54 users in FY2019,
 * about 188 April-August 2020; launches peak at 10:00 and 11:00 (replayed). */
static void
test_trial_users_and_peaks (void)
{
  g_autoptr(GHashTable) fy2019 = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) spring2020 = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GTimeZone) jst = g_time_zone_new_offset (9 * 3600);
  g_autoptr(GDateTime) nov = g_date_time_new (jst, 2019, 11, 1, 0, 0, 0);
  g_autoptr(GDateTime) apr = g_date_time_new (jst, 2020, 4, 1, 0, 0, 0);
  g_autoptr(GDateTime) sep = g_date_time_new (jst, 2020, 9, 1, 0, 0, 0);
  for (guint i = 0; i < jobs->len; i++)
    {
      const MnTraceJob *j = g_ptr_array_index (jobs, i);
      if (!j->interactive)
        continue;
      g_assert_cmpint (j->submit, >=, g_date_time_to_unix (nov));
      if (j->submit < g_date_time_to_unix (apr))
        g_hash_table_add (fy2019, j->user);
      else if (j->submit < g_date_time_to_unix (sep))
        g_hash_table_add (spring2020, j->user);
    }
  g_test_message ("users FY2019 %u, April-August 2020 %u", g_hash_table_size (fy2019),
                  g_hash_table_size (spring2020));
  g_assert_cmpint (ABS ((gint) g_hash_table_size (fy2019) - 54), <=, 5);
  g_assert_cmpint (ABS ((gint) g_hash_table_size (spring2020) - 188), <=, 10);

  const MnSimInteractiveMetrics *im = &mn_sim_result_get_metrics (result)->interactive;
  for (guint h = 0; h < 24; h++)
    if (h != 10 && h != 11)
      {
        g_assert_cmpuint (im->launches_by_hour[h], <, im->launches_by_hour[10]);
        g_assert_cmpuint (im->launches_by_hour[h], <, im->launches_by_hour[11]);
      }
}

/* Web apps about 30% of interactive.q jobs; about 20% of web-app launches
 * went to all.q (they ran there, as batch jobs); a GPU in a share of the
 * sessions only (the knob), so not every session asks for one. */
static void
test_webapps_and_gpu (void)
{
  guint64 web_iq = 0, web_allq = 0, iq = 0, gpu = 0, web_allq_ran = 0;
  for (guint i = 0; i < jobs->len; i++)
    {
      const MnTraceJob *j = g_ptr_array_index (jobs, i);
      gboolean web = g_strcmp0 (j->name, "jupyter") == 0;
      if (j->interactive)
        {
          iq++;
          web_iq += web;
          gpu += j->gpus > 0;
        }
      else if (web)
        {
          web_allq++;
          web_allq_ran += mn_sim_result_lookup (result, j->id)->queue == MN_SIM_QUEUE_ALL;
        }
    }
  g_test_message ("web apps %.3f of interactive.q jobs, %.3f of launches to all.q, GPU %.3f",
                  (double) web_iq / iq, (double) web_allq / (web_iq + web_allq), (double) gpu / iq);
  g_assert_cmpfloat (fabs ((double) web_iq / iq - 0.30), <, 0.03);
  g_assert_cmpfloat (fabs ((double) web_allq / (web_iq + web_allq) - 0.20), <, 0.04);
  g_assert_cmpuint (web_allq_ran, ==, web_allq);
  g_assert_cmpfloat ((double) gpu / iq, >, 0.2);
  g_assert_cmpfloat ((double) gpu / iq, <, 0.6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  MnTraceGenOptions options;
  mn_trace_gen_options_init (&options);
  jobs = mn_trace_generate (&options, &header);
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  for (guint i = 0; i < jobs->len; i++)
    mn_sim_workload_add_job (w, g_ptr_array_index (jobs, i));
  mn_sim_workload_set_trace_header (w, &header);
  MnSimConfig config;
  mn_sim_config_init (&config);
  g_autoptr(GError) error = NULL;
  result = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mn_sim_result_get_metrics (result)->interactive_nodes, ==, 4);

  g_test_add_func ("/sim/world/busiest-month-waits", test_busiest_month_waits);
  g_test_add_func ("/sim/world/utilization-figure-4", test_utilization);
  g_test_add_func ("/sim/world/maintenance", test_maintenance);
  g_test_add_func ("/sim/world/trial-users-and-peaks", test_trial_users_and_peaks);
  g_test_add_func ("/sim/world/webapps-and-gpu-share", test_webapps_and_gpu);
  int status = g_test_run ();
  mn_sim_result_free (result);
  g_ptr_array_unref (jobs);
  mn_trace_header_clear (&header);
  return status;
}
