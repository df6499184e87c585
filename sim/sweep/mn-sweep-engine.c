/* mn-sweep-engine.c: the real runner.  A trace file is read once into the
 * engine's workload; a generated [world] is made per seed, in-process, the
 * first time a run of that seed needs it, and let go when the last run of
 * the seed is done (mn_sweep_run goes seed after seed, so a seed or two's
 * worlds are alive at once).  A workload is read-only and shared by every
 * thread; each point is one mn_sim_run() with its policy.  The metrics are
 * the engine's JSON plus the sweep's own measures (mn-sweep-measure.c). */
#define G_LOG_DOMAIN "minna-sweep"

#include <errno.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mn-sim-engine.h"
#include "mn-trace-reader.h"
#include "mn-sweep-commands.h"
#include "mn-sweep-measure.h"
#include "mn-sweep-world.h"

typedef struct {
  MnSimWorkload *workload;   /* NULL until built, and after release */
  gint64         utc_offset;
  gboolean       building;
} SeedWorld;

typedef struct {
  const MnSweepScenario *scenario;
  GMutex                 lock;
  GCond                  built;
  SeedWorld             *seeds;   /* [scenario->seeds->len] */
} EngineRunner;

static void
engine_runner_free (gpointer data)
{
  EngineRunner *e = data;

  for (guint s = 0; s < e->scenario->seeds->len; s++)
    g_clear_pointer (&e->seeds[s].workload, mn_sim_workload_unref);
  g_free (e->seeds);
  g_mutex_clear (&e->lock);
  g_cond_clear (&e->built);
  g_free (e);
}

static void
warn_no_interactive (const MnSweepScenario *s, MnSimWorkload *workload, const gchar *what)
{
  if (mn_sim_workload_get_n_interactive (workload) == 0)
    g_warning ("%s: no interactive job in %s under [trace] interactive = %s", s->filename, what,
               (const gchar *[]) { "trace", "queue", "name", "users", "rule" }[s->interactive]);
}

/* The world of seed number @index, as minna-tracegen makes it. */
static MnSimWorkload *
generate_world (const MnSweepScenario *s, guint index, gint64 *utc_offset)
{
  MnTraceGenOptions options;
  MnTraceHeader header;
  g_autoptr (GPtrArray) jobs = NULL;
  MnSimWorkload *workload = mn_sim_workload_new ();

  mn_sweep_world_options (s, g_array_index (s->seeds, guint64, index), &options);
  jobs = mn_trace_generate (&options, &header);
  for (guint i = 0; i < jobs->len; i++)
    {
      MnTraceJob *job = g_ptr_array_index (jobs, i);

      if (s->max_jobs > 0 && i >= (guint64) s->max_jobs)
        break;
      mn_sweep_scenario_classify (s, job);
      mn_sim_workload_add_job (workload, job);
    }
  /* the header carries the world's maintenance windows and all.q caps */
  *utc_offset = mn_sim_trace_utc_offset (&header);
  mn_sim_workload_set_trace_header (workload, &header);
  mn_trace_header_clear (&header);
  if (index == 0)
    {
      g_autofree gchar *what = g_strdup_printf ("the world of seed %" G_GUINT64_FORMAT,
                                                g_array_index (s->seeds, guint64, 0));

      warn_no_interactive (s, workload, what);
    }
  return workload;
}

/* The workload of seed number @index, built by the first thread that needs
 * it while the others wait for it. */
static MnSimWorkload *
workload_for (EngineRunner *e, guint index, gint64 *utc_offset)
{
  SeedWorld *w = &e->seeds[index];
  MnSimWorkload *workload;
  gint64 offset = 0;

  g_mutex_lock (&e->lock);
  while (w->building)
    g_cond_wait (&e->built, &e->lock);
  if (w->workload != NULL)
    {
      workload = mn_sim_workload_ref (w->workload);
      *utc_offset = w->utc_offset;
      g_mutex_unlock (&e->lock);
      return workload;
    }
  w->building = TRUE;
  g_mutex_unlock (&e->lock);

  workload = generate_world (e->scenario, index, &offset);

  g_mutex_lock (&e->lock);
  w->workload = workload;
  w->utc_offset = offset;
  w->building = FALSE;
  g_cond_broadcast (&e->built);
  g_mutex_unlock (&e->lock);
  *utc_offset = offset;
  return mn_sim_workload_ref (workload);
}

static void
engine_release (guint index, gpointer user_data)
{
  EngineRunner *e = user_data;

  /* a trace file is read once for the whole run */
  if (!e->scenario->world)
    return;
  g_mutex_lock (&e->lock);
  g_clear_pointer (&e->seeds[index].workload, mn_sim_workload_unref);
  g_mutex_unlock (&e->lock);
}

static JsonObject *
engine_run (const MnSweepPoint *point, guint seed_index, gpointer user_data, GError **error)
{
  EngineRunner *e = user_data;
  const MnSweepScenario *s = e->scenario;
  MnSimConfig config;
  g_autoptr (MnSimWorkload) workload = NULL;
  g_autoptr (MnSimResult) result = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *metrics;
  gint64 utc_offset = 0;

  workload = workload_for (e, seed_index, &utc_offset);
  mn_sim_config_init (&config);
  config.scheduler = s->scheduler == 1 ? MN_SIM_SCHEDULER_FCFS : MN_SIM_SCHEDULER_EASY;
  config.procs = s->machine_nodes == 0 ? s->machine_procs : 0;
  config.machine_nodes = s->machine_nodes;
  config.interactive_nodes = point->baseline ? 0 : point->values[MN_SWEEP_PARAM_NODES];
  /* design = oversubscribe carves nothing (nodes = 0 in its results), but 0
   * means the baseline to the engine: -1 lets the design decide. */
  if (!point->baseline && point->policy->design == MN_DESIGN_OVERSUBSCRIBE)
    config.interactive_nodes = -1;
  /* The baseline's copy says nodes = 0, which no policy accepts; the engine
   * only needs the hardware keys then. */
  config.policy = point->baseline ? s->policy : point->policy;
  config.keep_jobs = TRUE;
  result = mn_sim_run (workload, &config, NULL, NULL, NULL, error);
  if (result == NULL)
    return NULL;
  node = mn_sim_result_to_json (result, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_RUN, "the engine gave no metrics object");
      return NULL;
    }
  metrics = json_object_ref (json_node_get_object (node));
  json_object_set_object_member (metrics, "sweep",
                                 mn_sweep_measure (result, point->policy, point->baseline,
                                                   utc_offset));
  return metrics;
}

/* A trace file: read it now, so that an unreadable one fails before any
 * run starts. */
static gboolean
load_trace (EngineRunner *e, GError **error)
{
  const MnSweepScenario *s = e->scenario;
  MnTraceFormat format = MN_TRACE_FORMAT_AUTO;
  g_autoptr (MnTraceReader) reader = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (MnSimWorkload) workload = NULL;
  const MnTraceHeader *h;
  guint64 n = 0;

  if (!mn_trace_format_from_string (mn_sweep_scenario_trace_format (s), &format, error))
    return FALSE;
  if (g_access (s->trace_path, R_OK) != 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s: [trace] path: cannot read the trace '%s': %s", s->filename,
                   s->trace_path, g_strerror (errno));
      return FALSE;
    }
  reader = mn_trace_reader_open (s->trace_path, format, FALSE, &local);
  if (reader == NULL)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "%s: [trace] path: '%s': %s",
                   s->filename, s->trace_path, local->message);
      return FALSE;
    }
  workload = mn_sim_workload_new ();
  for (;;)
    {
      g_autoptr (MnTraceJob) job = NULL;

      if (s->max_jobs > 0 && n >= (guint64) s->max_jobs)
        break;
      job = mn_trace_reader_next (reader, &local);
      if (job == NULL)
        break;
      mn_sweep_scenario_classify (s, job);
      mn_sim_workload_add_job (workload, job);
      n++;
    }
  if (local != NULL)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "%s: [trace] path: '%s': %s",
                   s->filename, s->trace_path, local->message);
      return FALSE;
    }
  h = mn_trace_reader_get_header (reader);
  e->seeds[0].utc_offset = mn_sim_trace_utc_offset (h);
  mn_sim_workload_set_trace_header (workload, h);
  /* Every run's metrics then carry the reading's skipped-line count
   * (trace.skipped_lines), which results.json and run's summary report. */
  mn_sim_workload_set_trace_stats (workload, reader);
  {
    g_autofree gchar *what = g_strdup_printf ("'%s'", s->trace_path);

    warn_no_interactive (s, workload, what);
  }
  e->seeds[0].workload = g_steal_pointer (&workload);
  return TRUE;
}

MnSweepRunner *
mn_sweep_engine_runner_new (const MnSweepScenario *s, GError **error)
{
  EngineRunner *e = g_new0 (EngineRunner, 1);
  MnSweepRunner *runner;

  e->scenario = s;
  e->seeds = g_new0 (SeedWorld, s->seeds->len);
  g_mutex_init (&e->lock);
  g_cond_init (&e->built);
  if (!s->world && !load_trace (e, error))
    {
      engine_runner_free (e);
      return NULL;
    }
  runner = mn_sweep_runner_new (engine_run, e, engine_runner_free);
  mn_sweep_runner_set_release (runner, engine_release);
  return runner;
}
