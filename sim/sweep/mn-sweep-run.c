/* mn-sweep-run.c: a sweep's points on a GThreadPool, one point for an array
 * task, the Slurm array script, and merging the array's pieces. */
#define G_LOG_DOMAIN "minna-sweep"

#include <errno.h>
#include <stdio.h>
#include <glib/gstdio.h>

#include "mn-sweep-run.h"

MnSweepRunner *
mn_sweep_runner_new (MnSweepRunFunc run, gpointer user_data, GDestroyNotify destroy)
{
  MnSweepRunner *r = g_new0 (MnSweepRunner, 1);

  r->run = run;
  r->user_data = user_data;
  r->destroy = destroy;
  return r;
}

void
mn_sweep_runner_free (MnSweepRunner *r)
{
  if (r == NULL)
    return;
  if (r->destroy != NULL)
    r->destroy (r->user_data);
  g_free (r);
}

JsonObject *
mn_sweep_normalise_metrics (JsonObject *metrics)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), metrics);
  g_autofree gchar *text = json_to_string (node, FALSE);
  g_autoptr (JsonNode) back = json_from_string (text, NULL);

  g_assert (back != NULL && JSON_NODE_HOLDS_OBJECT (back));
  return json_object_ref (json_node_get_object (back));
}

/* ---- in-process ------------------------------------------------------------ */

typedef struct {
  MnSweepRunner *runner;
  GMutex         lock;
  GCond          cond;
  guint          total;
  guint          done;
  gboolean       quiet;
  gint64         started_at;
  JsonObject   **metrics;    /* [total]; the last one is the baseline */
  GError        *error;      /* the first failure */
} RunState;

typedef struct {
  const MnSweepPoint *point;
  guint               slot;
} Task;

static void
report_progress (RunState *st, const MnSweepPoint *point, JsonObject *m, gdouble secs)
{
  g_autofree gchar *what = mn_sweep_point_describe (point, TRUE);
  gdouble elapsed = (g_get_monotonic_time () - st->started_at) / 1e6;
  gdouble eta = st->done > 0 ? elapsed / st->done * (st->total - st->done) : 0;

  if (st->quiet)
    return;
  if (m == NULL)
    {
      g_printerr ("[%u/%u] %s: failed\n", st->done, st->total, what);
      return;
    }
  g_printerr ("[%u/%u] %s: %.1f%% started immediately, p99 wait %.0f s, batch mean wait %.0f s"
              " (%.1f s; ETA %.0f s)\n", st->done, st->total, what,
              mn_sweep_metric (m, MN_METRIC_SHARE_IMMEDIATE) * 100,
              mn_sweep_metric (m, MN_METRIC_WAIT_P99),
              mn_sweep_metric (m, MN_METRIC_BATCH_WAIT_MEAN), secs, eta);
}

static void
run_task (gpointer data, gpointer user_data)
{
  g_autofree Task *task = data;
  RunState *st = user_data;
  g_autoptr (GError) local = NULL;
  gint64 t0 = g_get_monotonic_time ();
  JsonObject *m = NULL;
  gboolean skip;

  g_mutex_lock (&st->lock);
  skip = st->error != NULL;
  g_mutex_unlock (&st->lock);
  if (!skip)
    {
      g_autoptr (JsonObject) raw = st->runner->run (task->point, st->runner->user_data, &local);

      if (raw != NULL)
        m = mn_sweep_normalise_metrics (raw);
    }
  g_mutex_lock (&st->lock);
  st->done++;
  if (m != NULL)
    st->metrics[task->slot] = m;
  else if (!skip && st->error == NULL)
    {
      g_autofree gchar *what = mn_sweep_point_describe (task->point, FALSE);

      st->error = g_error_new (MN_SWEEP_ERROR, MN_SWEEP_ERROR_RUN, "%s: %s", what,
                               local != NULL ? local->message : "the runner returned nothing");
    }
  if (!skip)
    report_progress (st, task->point, m, (g_get_monotonic_time () - t0) / 1e6);
  g_cond_signal (&st->cond);
  g_mutex_unlock (&st->lock);
}

MnSweepResults *
mn_sweep_run (const MnSweepScenario *scenario, GPtrArray *points, MnSweepRunner *runner,
              guint n_threads, gboolean quiet, GError **error)
{
  g_autoptr (MnSweepPoint) baseline = mn_sweep_point_new_baseline (scenario);
  RunState st = { 0 };
  GThreadPool *pool;
  g_autoptr (GPtrArray) metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  MnSweepResults *results;

  st.runner = runner;
  st.total = points->len + 1;
  st.quiet = quiet;
  st.started_at = g_get_monotonic_time ();
  st.metrics = g_new0 (JsonObject *, st.total);
  g_mutex_init (&st.lock);
  g_cond_init (&st.cond);
  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  if (!quiet)
    g_printerr ("minna-sim run %s: %u points and the baseline on %u threads\n",
                scenario->name, points->len, n_threads);

  pool = g_thread_pool_new (run_task, &st, n_threads, TRUE, NULL);
  /* The baseline first: it is usually the slowest (all.q is busiest). */
  {
    Task *t = g_new0 (Task, 1);

    t->point = baseline;
    t->slot = points->len;
    g_thread_pool_push (pool, t, NULL);
  }
  for (guint i = 0; i < points->len; i++)
    {
      Task *t = g_new0 (Task, 1);

      t->point = g_ptr_array_index (points, i);
      t->slot = i;
      g_thread_pool_push (pool, t, NULL);
    }
  g_thread_pool_free (pool, FALSE, TRUE);

  if (st.error != NULL)
    {
      g_propagate_error (error, st.error);
      for (guint i = 0; i < st.total; i++)
        g_clear_pointer (&st.metrics[i], json_object_unref);
      g_free (st.metrics);
      g_mutex_clear (&st.lock);
      g_cond_clear (&st.cond);
      return NULL;
    }
  for (guint i = 0; i < points->len; i++)
    g_ptr_array_add (metrics, st.metrics[i]);
  results = mn_sweep_results_new (scenario, points, st.metrics[points->len], metrics);
  json_object_unref (st.metrics[points->len]);
  g_free (st.metrics);
  g_mutex_clear (&st.lock);
  g_cond_clear (&st.cond);
  return results;
}

/* ---- array runs ------------------------------------------------------------ */

static gchar *
point_file (const gchar *dir, gint index)
{
  g_autofree gchar *name = index < 0 ? g_strdup ("point-baseline.json")
                                     : g_strdup_printf ("point-%d.json", index);

  return g_build_filename (dir, "points", name, NULL);
}

static gboolean
write_json (const gchar *path, JsonNode *root, GError **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GError) local = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  if (!json_generator_to_file (gen, path, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot write '%s': %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
read_json_object (const gchar *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (!json_parser_load_from_file (parser, path, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot read '%s': %s", path,
                   local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "%s: not a JSON object", path);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

gboolean
mn_sweep_run_one (const MnSweepScenario *scenario, GPtrArray *points, gint index,
                  MnSweepRunner *runner, const gchar *dir, GError **error)
{
  g_autoptr (MnSweepPoint) baseline = mn_sweep_point_new_baseline (scenario);
  const MnSweepPoint *point;
  g_autoptr (JsonObject) raw = NULL;
  g_autoptr (JsonObject) out = json_object_new ();
  g_autofree gchar *path = point_file (dir, index);
  g_autofree gchar *pdir = g_path_get_dirname (path);
  g_autofree gchar *what = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (index >= (gint) points->len)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_ARGUMENT,
                   "--point %d: the sweep has points 0..%u (and 'baseline')", index,
                   points->len - 1);
      return FALSE;
    }
  point = index < 0 ? baseline : g_ptr_array_index (points, index);
  what = mn_sweep_point_describe (point, FALSE);
  raw = runner->run (point, runner->user_data, error);
  if (raw == NULL)
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  if (g_mkdir_with_parents (pdir, 0755) != 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot create '%s': %s", pdir,
                   g_strerror (errno));
      return FALSE;
    }
  json_object_set_int_member (out, "index", index);
  json_object_set_string_member (out, "describe", what);
  json_object_set_object_member (out, "metrics", json_object_ref (raw));
  root = json_node_init_object (json_node_alloc (), out);
  return write_json (path, root, error);
}

gboolean
mn_sweep_emit_slurm_array (const MnSweepScenario *scenario, GPtrArray *points,
                           const gchar *scenario_path, const gchar *minna_sim,
                           const gchar *dir, GError **error)
{
  g_autofree gchar *abs_scenario = g_canonicalize_filename (scenario_path, NULL);
  g_autofree gchar *abs_dir = g_canonicalize_filename (dir, NULL);
  g_autofree gchar *manifest = g_build_filename (dir, "sweep.json", NULL);
  g_autofree gchar *script_path = g_build_filename (dir, "sweep.sbatch", NULL);
  g_autofree gchar *q_sim = g_shell_quote (minna_sim);
  g_autofree gchar *q_scn = g_shell_quote (abs_scenario);
  g_autofree gchar *q_dir = g_shell_quote (abs_dir);
  g_autoptr (JsonObject) m = json_object_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *script = NULL;
  g_autoptr (GError) local = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot create '%s': %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  json_object_set_string_member (m, "schema", "minna-sweep-array/1");
  json_object_set_string_member (m, "scenario", abs_scenario);
  json_object_set_int_member (m, "points", points->len);
  root = json_node_init_object (json_node_alloc (), m);
  if (!write_json (manifest, root, error))
    return FALSE;

  /* Task N (the last) is the baseline; the others are points 0..N-1. */
  script = g_strdup_printf (
    "#!/bin/bash\n"
    "# Sizing sweep '%s' as a Slurm job array: one task per point, the last\n"
    "# task runs the baseline.  Submit with:  sbatch %s\n"
    "# then, when every task is done:        minna-sim merge %s\n"
    "#SBATCH --job-name=minna-sweep-%s\n"
    "#SBATCH --array=0-%u\n"
    "#SBATCH --ntasks=1\n"
    "#SBATCH --cpus-per-task=1\n"
    "#SBATCH --output=%s/logs/task-%%a.log\n"
    "set -euo pipefail\n"
    "task=${SLURM_ARRAY_TASK_ID:?run this script with sbatch (or set SLURM_ARRAY_TASK_ID)}\n"
    "if [ \"$task\" -eq %u ]; then point=baseline; else point=$task; fi\n"
    "exec %s run %s --point \"$point\" --out %s --quiet\n",
    scenario->name, script_path, abs_dir, scenario->name, points->len, q_dir, points->len,
    q_sim, q_scn, q_dir);
  {
    g_autofree gchar *logs = g_build_filename (dir, "logs", NULL);

    g_mkdir_with_parents (logs, 0755);
  }
  if (!g_file_set_contents (script_path, script, -1, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot write '%s': %s",
                   script_path, local->message);
      return FALSE;
    }
  g_chmod (script_path, 0755);
  return TRUE;
}

MnSweepResults *
mn_sweep_merge (const gchar *dir, MnSweepScenario **scenario_out, GError **error)
{
  g_autofree gchar *manifest = g_build_filename (dir, "sweep.json", NULL);
  g_autoptr (JsonObject) m = read_json_object (manifest, error);
  g_autoptr (MnSweepScenario) scenario = NULL;
  g_autoptr (GPtrArray) points = NULL;
  g_autoptr (GPtrArray) metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (JsonObject) baseline = NULL;
  g_autoptr (GString) missing = g_string_new (NULL);
  guint n_missing = 0;
  MnSweepResults *results;

  if (m == NULL)
    return NULL;
  if (!json_object_has_member (m, "scenario") || !json_object_has_member (m, "points"))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s: not a sweep manifest (no 'scenario' or 'points')", manifest);
      return NULL;
    }
  scenario = mn_sweep_scenario_load_file (json_object_get_string_member (m, "scenario"), error);
  if (scenario == NULL)
    return NULL;
  points = mn_sweep_points_expand (scenario, error);
  if (points == NULL)
    return NULL;
  if ((gint64) points->len != json_object_get_int_member (m, "points"))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s: the scenario now has %u points, the array had %" G_GINT64_FORMAT
                   " (was the scenario edited?)", manifest, points->len,
                   json_object_get_int_member (m, "points"));
      return NULL;
    }
  for (gint i = -1; i < (gint) points->len; i++)
    {
      g_autofree gchar *path = point_file (dir, i);
      g_autoptr (JsonObject) p = NULL;
      g_autoptr (GError) local = NULL;
      JsonObject *pm;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          if (n_missing++ < 10 && i < 0)
            g_string_append_printf (missing, "%sbaseline", missing->len > 0 ? ", " : "");
          else if (n_missing <= 10)
            g_string_append_printf (missing, "%s%d", missing->len > 0 ? ", " : "", i);
          continue;
        }
      p = read_json_object (path, error);
      if (p == NULL)
        return NULL;
      if (!json_object_has_member (p, "metrics")
          || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (p, "metrics")))
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "%s: no 'metrics' object", path);
          return NULL;
        }
      pm = mn_sweep_normalise_metrics (json_object_get_object_member (p, "metrics"));
      if (i < 0)
        baseline = pm;
      else
        g_ptr_array_add (metrics, pm);
    }
  if (n_missing > 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s: %u of %u point results missing (%s%s); rerun those tasks "
                   "(minna-sim run SCENARIO --point K --out %s)", dir, n_missing,
                   points->len + 1, missing->str, n_missing > 10 ? ", ..." : "", dir);
      return NULL;
    }
  results = mn_sweep_results_new (scenario, points, baseline, metrics);
  *scenario_out = g_steal_pointer (&scenario);
  return results;
}
