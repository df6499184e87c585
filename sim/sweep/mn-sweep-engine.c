/* mn-sweep-engine.c: the real runner.  The trace is read once into the
 * engine's workload (read-only, shared by every thread); each point is one
 * mn_sim_run() with its policy.  The metrics are the engine's JSON, plus the
 * interactive wait quantiles that the report's CDF plot needs. */
#define G_LOG_DOMAIN "minna-sweep"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mn-sim-engine.h"
#include "mn-trace-reader.h"
#include "mn-sweep-commands.h"

typedef struct {
  MnSimWorkload         *workload;
  const MnSweepScenario *scenario;
  gint64                 utc_offset;
} EngineRunner;

static void
engine_runner_free (gpointer data)
{
  EngineRunner *e = data;

  g_clear_pointer (&e->workload, mn_sim_workload_unref);
  g_free (e);
}

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* 101 quantiles (0%, 1%, ..., 100%) of the interactive jobs' waits, nearest
 * rank; requests that never started are left out and counted. */
static JsonArray *
int_array (const guint64 *v, guint n)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < n; i++)
    json_array_add_int_element (a, (gint64) v[i]);
  return a;
}

/* Launches by local hour of day, weekdays and weekends apart (the report's
 * Figures 5 and 8), and how many days of each kind the trace spans, so that
 * the report can show launches per day. */
static void
launches_by_kind_of_day (MnSimResult *result, gint64 utc_offset, JsonObject *out)
{
  gsize n_jobs = 0;
  const MnSimJobResult *jobs = mn_sim_result_get_jobs (result, &n_jobs);
  guint64 weekday[24] = { 0 }, weekend[24] = { 0 }, own_limit[24] = { 0 };
  gint64 first = G_MAXINT64, last = G_MININT64;
  guint64 n_weekdays = 0, n_weekend = 0;
  GArray *waits[24];
  JsonArray *mean = json_array_new (), *p95 = json_array_new ();

  for (guint h = 0; h < 24; h++)
    waits[h] = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (gsize i = 0; jobs != NULL && i < n_jobs; i++)
    {
      gint64 local, day;
      guint hour, dow;

      if (jobs[i].job_class != MN_SIM_CLASS_INTERACTIVE || jobs[i].status == MN_SIM_STATUS_SKIPPED)
        continue;
      local = jobs[i].submit + utc_offset;
      day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
      hour = (guint) ((local - day * 86400) / 3600);
      /* 1970-01-01 was a Thursday; Monday = 0. */
      dow = (guint) (((day % 7) + 7 + 3) % 7);
      if (jobs[i].status == MN_SIM_STATUS_REJECTED && jobs[i].reason == MN_REJECT_PER_USER_LIMIT)
        own_limit[hour]++;
      if (dow >= 5)
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

      qsort (waits[h]->data, waits[h]->len, sizeof (gint64), compare_gint64);
      for (guint k = 0; k < waits[h]->len; k++)
        sum += g_array_index (waits[h], gint64, k);
      json_array_add_double_element (mean, waits[h]->len > 0 ? round (sum / waits[h]->len) : 0);
      json_array_add_int_element (p95, waits[h]->len > 0
                                  ? g_array_index (waits[h], gint64, (waits[h]->len * 95 + 99) / 100 - 1) : 0);
      g_array_unref (waits[h]);
    }
  json_object_set_array_member (out, "wait_mean_by_hour_s", mean);
  json_object_set_array_member (out, "wait_p95_by_hour_s", p95);
  for (gint64 d = first; first <= last && d <= last; d++)
    {
      if ((((d % 7) + 7 + 3) % 7) >= 5)
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

static JsonObject *
wait_quantiles (MnSimResult *result)
{
  gsize n_jobs = 0;
  const MnSimJobResult *jobs = mn_sim_result_get_jobs (result, &n_jobs);
  g_autoptr (GArray) waits = g_array_new (FALSE, FALSE, sizeof (gint64));
  JsonObject *out = json_object_new ();
  JsonArray *q = json_array_new ();
  guint64 never = 0;

  for (gsize i = 0; jobs != NULL && i < n_jobs; i++)
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
  qsort (waits->data, waits->len, sizeof (gint64), compare_gint64);
  for (guint p = 0; p <= 100 && waits->len > 0; p++)
    {
      gsize rank = (gsize) ((p * (guint64) waits->len + 99) / 100);

      json_array_add_int_element (q, g_array_index (waits, gint64, rank > 0 ? rank - 1 : 0));
    }
  json_object_set_int_member (out, "started", waits->len);
  json_object_set_int_member (out, "never_started", never);
  json_object_set_array_member (out, "wait_quantiles_s", q);
  return out;
}

static JsonObject *
engine_run (const MnSweepPoint *point, gpointer user_data, GError **error)
{
  EngineRunner *e = user_data;
  const MnSweepScenario *s = e->scenario;
  MnSimConfig config;
  g_autoptr (MnSimResult) result = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *metrics;

  mn_sim_config_init (&config);
  config.scheduler = s->scheduler == 1 ? MN_SIM_SCHEDULER_FCFS : MN_SIM_SCHEDULER_EASY;
  config.procs = s->machine_nodes == 0 ? s->machine_procs : 0;
  config.machine_nodes = s->machine_nodes;
  config.interactive_nodes = point->baseline ? 0 : point->values[MN_SWEEP_PARAM_NODES];
  /* The baseline's copy says nodes = 0, which no policy accepts; the engine
   * only needs the hardware keys then. */
  config.policy = point->baseline ? s->policy : point->policy;
  config.keep_jobs = TRUE;
  result = mn_sim_run (e->workload, &config, NULL, NULL, NULL, error);
  if (result == NULL)
    return NULL;
  node = mn_sim_result_to_json (result, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_RUN, "the engine gave no metrics object");
      return NULL;
    }
  metrics = json_object_ref (json_node_get_object (node));
  {
    JsonObject *extra = wait_quantiles (result);

    launches_by_kind_of_day (result, e->utc_offset, extra);
    json_object_set_object_member (metrics, "sweep", extra);
  }
  return metrics;
}

static gint64
utc_offset_of (const MnTraceHeader *h)
{
  g_autoptr (GTimeZone) tz = NULL;
  gint interval;

  if (h->time_zone == NULL || h->time_zone[0] == '\0')
    return 0;
  tz = g_time_zone_new_identifier (h->time_zone);
  if (tz == NULL)
    return 0;
  interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL,
                                        h->unix_start_time > 0 ? h->unix_start_time : 0);
  return interval >= 0 ? g_time_zone_get_offset (tz, interval) : 0;
}

MnSweepRunner *
mn_sweep_engine_runner_new (const MnSweepScenario *s, GError **error)
{
  MnTraceFormat format = MN_TRACE_FORMAT_AUTO;
  g_autoptr (MnTraceReader) reader = NULL;
  g_autoptr (GError) local = NULL;
  EngineRunner *e;
  const MnTraceHeader *h;
  guint64 n = 0;

  if (!mn_trace_format_from_string (mn_sweep_scenario_trace_format (s), &format, error))
    return NULL;
  if (g_access (s->trace_path, R_OK) != 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s: [trace] path: cannot read the trace '%s': %s", s->filename,
                   s->trace_path, g_strerror (errno));
      return NULL;
    }
  reader = mn_trace_reader_open (s->trace_path, format, FALSE, &local);
  if (reader == NULL)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "%s: [trace] path: '%s': %s",
                   s->filename, s->trace_path, local->message);
      return NULL;
    }
  e = g_new0 (EngineRunner, 1);
  e->scenario = s;
  e->workload = mn_sim_workload_new ();
  for (;;)
    {
      g_autoptr (MnTraceJob) job = NULL;

      if (s->max_jobs > 0 && n >= (guint64) s->max_jobs)
        break;
      job = mn_trace_reader_next (reader, &local);
      if (job == NULL)
        break;
      mn_sweep_scenario_classify (s, job);
      mn_sim_workload_add_job (e->workload, job);
      n++;
    }
  if (local != NULL)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "%s: [trace] path: '%s': %s",
                   s->filename, s->trace_path, local->message);
      engine_runner_free (e);
      return NULL;
    }
  h = mn_trace_reader_get_header (reader);
  e->utc_offset = utc_offset_of (h);
  mn_sim_workload_set_header (e->workload, h->max_procs, h->max_nodes, e->utc_offset);
  if (mn_sim_workload_get_n_interactive (e->workload) == 0)
    g_warning ("%s: no interactive job in '%s' under [trace] interactive = %s",
               s->filename, s->trace_path,
               (const gchar *[]) { "trace", "queue", "name", "users", "rule" }[s->interactive]);
  return mn_sweep_runner_new (engine_run, e, engine_runner_free);
}
