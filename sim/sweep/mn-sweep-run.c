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
mn_sweep_runner_set_release (MnSweepRunner *runner, MnSweepReleaseFunc release)
{
  runner->release = release;
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
  const MnSweepScenario *scenario;
  MnSweepRunner *runner;
  GMutex         lock;
  guint          total;
  guint          done;
  guint          n_points;
  guint         *left;       /* [n_seeds]: runs of that seed not finished */
  gboolean       quiet;
  gint64         started_at;
  JsonObject   **metrics;    /* [n_seeds][n_points + 1]; the last of each seed is its baseline */
  GError        *error;      /* the first failure */
} RunState;

typedef struct {
  const MnSweepPoint *point;
  guint               seed;   /* index */
  guint               slot;
} Task;

static void
report_progress (RunState *st, const Task *task, JsonObject *m, gdouble secs)
{
  g_autofree gchar *what = mn_sweep_point_describe (task->point, TRUE);
  g_autofree gchar *seed = st->scenario->world
    ? mn_sweep_scenario_describe_seed (st->scenario, task->seed) : NULL;
  gdouble elapsed = (g_get_monotonic_time () - st->started_at) / 1e6;
  gdouble eta = st->done > 0 ? elapsed / st->done * (st->total - st->done) : 0;

  if (st->quiet)
    return;
  if (m == NULL)
    {
      g_printerr ("[%u/%u] %s%s%s: failed\n", st->done, st->total, what,
                  seed != NULL ? ", " : "", seed != NULL ? seed : "");
      return;
    }
  g_printerr ("[%u/%u] %s%s%s: %.1f%% started immediately, p99 wait %.0f s, batch mean wait %.0f s"
              " (%.1f s; ETA %.0f s)\n", st->done, st->total, what,
              seed != NULL ? ", " : "", seed != NULL ? seed : "",
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
  gboolean skip, release;

  g_mutex_lock (&st->lock);
  skip = st->error != NULL;
  g_mutex_unlock (&st->lock);
  if (!skip)
    {
      g_autoptr (JsonObject) raw = st->runner->run (task->point, task->seed,
                                                    st->runner->user_data, &local);

      if (raw != NULL)
        m = mn_sweep_normalise_metrics (raw);
    }
  g_mutex_lock (&st->lock);
  st->done++;
  release = --st->left[task->seed] == 0;
  if (m != NULL)
    st->metrics[task->slot] = m;
  else if (!skip && st->error == NULL)
    {
      g_autofree gchar *what = mn_sweep_point_describe (task->point, FALSE);
      g_autofree gchar *seed = mn_sweep_scenario_describe_seed (st->scenario, task->seed);

      st->error = g_error_new (MN_SWEEP_ERROR, MN_SWEEP_ERROR_RUN, "%s (%s): %s", what, seed,
                               local != NULL ? local->message : "the runner returned nothing");
    }
  if (!skip)
    report_progress (st, task, m, (g_get_monotonic_time () - t0) / 1e6);
  g_mutex_unlock (&st->lock);
  /* The last run of a seed lets its world go. */
  if (release && st->runner->release != NULL)
    st->runner->release (task->seed, st->runner->user_data);
}

MnSweepResults *
mn_sweep_run (const MnSweepScenario *scenario, GPtrArray *points, MnSweepRunner *runner,
              guint n_threads, gboolean quiet, GError **error)
{
  g_autoptr (MnSweepPoint) baseline = mn_sweep_point_new_baseline (scenario);
  guint n_seeds = scenario->seeds->len, per_seed = points->len + 1;
  RunState st = { 0 };
  GThreadPool *pool;
  g_autoptr (GPtrArray) metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (GPtrArray) baselines = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  MnSweepResults *results = NULL;

  st.scenario = scenario;
  st.runner = runner;
  st.n_points = points->len;
  st.total = per_seed * n_seeds;
  st.quiet = quiet;
  st.started_at = g_get_monotonic_time ();
  st.metrics = g_new0 (JsonObject *, st.total);
  st.left = g_new0 (guint, n_seeds);
  g_mutex_init (&st.lock);
  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  if (!quiet)
    {
      if (scenario->world)
        g_printerr ("minna-sim run %s: %u points and the baseline on %u seeds on %u threads\n",
                    scenario->name, points->len, n_seeds, n_threads);
      else
        g_printerr ("minna-sim run %s: %u points and the baseline on %u threads\n",
                    scenario->name, points->len, n_threads);
    }

  pool = g_thread_pool_new (run_task, &st, n_threads, TRUE, NULL);
  /* Seed after seed, so that few worlds are alive at once; in each, the
   * baseline first: it is usually the slowest (all.q is busiest). */
  for (guint s = 0; s < n_seeds; s++)
    {
      st.left[s] = per_seed;
      for (guint i = 0; i < per_seed; i++)
        {
          Task *t = g_new0 (Task, 1);

          t->point = i == 0 ? baseline : g_ptr_array_index (points, i - 1);
          t->seed = s;
          t->slot = s * per_seed + (i == 0 ? points->len : i - 1);
          g_thread_pool_push (pool, t, NULL);
        }
    }
  g_thread_pool_free (pool, FALSE, TRUE);

  if (st.error != NULL)
    g_propagate_error (error, st.error);
  else
    {
      /* point-major for the results: point i on seed s at i * n_seeds + s */
      for (guint i = 0; i < points->len; i++)
        for (guint s = 0; s < n_seeds; s++)
          g_ptr_array_add (metrics, json_object_ref (st.metrics[s * per_seed + i]));
      for (guint s = 0; s < n_seeds; s++)
        g_ptr_array_add (baselines, json_object_ref (st.metrics[s * per_seed + points->len]));
      results = mn_sweep_results_new (scenario, points, baselines, metrics);
    }
  for (guint i = 0; i < st.total; i++)
    g_clear_pointer (&st.metrics[i], json_object_unref);
  g_free (st.metrics);
  g_free (st.left);
  g_mutex_clear (&st.lock);
  return results;
}

/* ---- array runs ------------------------------------------------------------ */

static gchar *
point_file (const MnSweepScenario *scenario, const gchar *dir, gint index, guint seed_index)
{
  g_autofree gchar *what = index < 0 ? g_strdup ("baseline") : g_strdup_printf ("%d", index);
  g_autofree gchar *name = scenario->world
    ? g_strdup_printf ("point-%s-seed-%" G_GUINT64_FORMAT ".json", what,
                       g_array_index (scenario->seeds, guint64, seed_index))
    : g_strdup_printf ("point-%s.json", what);

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

static gchar *
seeds_text (const MnSweepScenario *scenario)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < scenario->seeds->len; i++)
    g_string_append_printf (out, "%s%" G_GUINT64_FORMAT, i > 0 ? " " : "",
                            g_array_index (scenario->seeds, guint64, i));
  return g_string_free (out, FALSE);
}

static void
unref_object (gpointer object)
{
  if (object != NULL)
    json_object_unref (object);
}

gboolean
mn_sweep_seed_index (const MnSweepScenario *scenario, guint64 seed, guint *index, GError **error)
{
  g_autofree gchar *all = NULL;

  for (guint i = 0; i < scenario->seeds->len; i++)
    if (g_array_index (scenario->seeds, guint64, i) == seed)
      {
        *index = i;
        return TRUE;
      }
  all = seeds_text (scenario);
  if (!scenario->world)
    g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_ARGUMENT,
                 "--seed: the scenario replays a trace file, which has no seeds");
  else
    g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_ARGUMENT,
                 "--seed %" G_GUINT64_FORMAT ": the scenario's seeds are %s", seed, all);
  return FALSE;
}

gboolean
mn_sweep_run_one (const MnSweepScenario *scenario, GPtrArray *points, gint index,
                  guint seed_index, MnSweepRunner *runner, const gchar *dir, GError **error)
{
  g_autoptr (MnSweepPoint) baseline = mn_sweep_point_new_baseline (scenario);
  const MnSweepPoint *point;
  g_autoptr (JsonObject) raw = NULL;
  g_autoptr (JsonObject) out = json_object_new ();
  g_autofree gchar *path = NULL;
  g_autofree gchar *pdir = NULL;
  g_autofree gchar *what = NULL;
  g_autofree gchar *seed = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (index >= (gint) points->len)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_ARGUMENT,
                   "--point %d: the sweep has points 0..%u (and 'baseline')", index,
                   points->len - 1);
      return FALSE;
    }
  g_return_val_if_fail (seed_index < scenario->seeds->len, FALSE);
  path = point_file (scenario, dir, index, seed_index);
  pdir = g_path_get_dirname (path);
  point = index < 0 ? baseline : g_ptr_array_index (points, index);
  what = mn_sweep_point_describe (point, FALSE);
  seed = mn_sweep_scenario_describe_seed (scenario, seed_index);
  raw = runner->run (point, seed_index, runner->user_data, error);
  if (raw == NULL)
    {
      g_prefix_error (error, "%s (%s): ", what, seed);
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
  if (scenario->world)
    json_object_set_int_member (out, "seed", (gint64) g_array_index (scenario->seeds, guint64, seed_index));
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
  g_autofree gchar *seeds = seeds_text (scenario);
  g_autoptr (JsonObject) m = json_object_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *script = NULL;
  g_autoptr (GError) local = NULL;
  JsonArray *seed_array = json_array_new ();
  guint per_seed = points->len + 1;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot create '%s': %s", dir,
                   g_strerror (errno));
      json_array_unref (seed_array);
      return FALSE;
    }
  json_object_set_string_member (m, "schema", "minna-sweep-array/2");
  json_object_set_string_member (m, "scenario", abs_scenario);
  json_object_set_int_member (m, "points", points->len);
  for (guint i = 0; scenario->world && i < scenario->seeds->len; i++)
    json_array_add_int_element (seed_array, (gint64) g_array_index (scenario->seeds, guint64, i));
  json_object_set_array_member (m, "seeds", seed_array);
  root = json_node_init_object (json_node_alloc (), m);
  if (!write_json (manifest, root, error))
    return FALSE;

  /* Task T runs seed T / (N + 1), and on it point T mod (N + 1), the last
   * of each seed being its baseline. */
  {
    GString *t = g_string_new (NULL);

    g_string_append_printf (t,
      "#!/bin/bash\n"
      "# Sizing sweep '%s' as a Slurm job array: one task per point%s, the last\n"
      "# task%s runs the baseline.  Submit with:  sbatch %s\n"
      "# then, when every task is done:        minna-sim merge %s\n"
      "#SBATCH --job-name=minna-sweep-%s\n"
      "#SBATCH --array=0-%u\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output=%s/logs/task-%%a.log\n"
      "set -euo pipefail\n"
      "task=${SLURM_ARRAY_TASK_ID:?run this script with sbatch (or set SLURM_ARRAY_TASK_ID)}\n"
      "k=$((task %% %u))\n"
      "if [ \"$k\" -eq %u ]; then point=baseline; else point=$k; fi\n",
      scenario->name, scenario->world ? " and seed" : "", scenario->world ? " of each seed" : "",
      script_path, abs_dir, scenario->name, per_seed * scenario->seeds->len - 1, q_dir,
      per_seed, points->len);
    if (scenario->world)
      {
        g_autofree gchar *list = g_strdelimit (g_strdup (seeds), " ", ',');

        g_string_append_printf (t, "seeds=(%s)\nseed=${seeds[$((task / %u))]}\n"
                                "exec %s run %s --seeds %s --point \"$point\" --seed \"$seed\" --out %s --quiet\n",
                                seeds, per_seed, q_sim, q_scn, list, q_dir);
      }
    else
      g_string_append_printf (t, "exec %s run %s --point \"$point\" --out %s --quiet\n",
                              q_sim, q_scn, q_dir);
    script = g_string_free (t, FALSE);
  }
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
  g_autoptr (GPtrArray) baselines = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (GString) missing = g_string_new (NULL);
  g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (unref_object);
  guint n_missing = 0, n_seeds, per_seed;
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
  {
    /* the array's seeds (run --seeds may have chosen them) */
    JsonNode *sn = json_object_get_member (m, "seeds");
    JsonArray *sa = sn != NULL && JSON_NODE_HOLDS_ARRAY (sn) ? json_node_get_array (sn) : NULL;

    if (sa == NULL || (json_array_get_length (sa) > 0) != scenario->world)
      {
        g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                     "%s: the array's seeds do not fit the scenario (was the scenario edited?)",
                     manifest);
        return NULL;
      }
    if (scenario->world)
      {
        g_array_set_size (scenario->seeds, 0);
        for (guint i = 0; i < json_array_get_length (sa); i++)
          {
            guint64 v = (guint64) json_array_get_int_element (sa, i);

            g_array_append_val (scenario->seeds, v);
          }
      }
  }
  n_seeds = scenario->seeds->len;
  per_seed = points->len + 1;
  g_ptr_array_set_size (got, per_seed * n_seeds);
  for (guint s = 0; s < n_seeds; s++)
    for (gint i = -1; i < (gint) points->len; i++)
      {
        g_autofree gchar *path = point_file (scenario, dir, i, s);
        g_autoptr (JsonObject) p = NULL;
        JsonObject *pm;

        if (!g_file_test (path, G_FILE_TEST_EXISTS))
          {
            if (n_missing++ < 10)
              {
                g_string_append (missing, missing->len > 0 ? ", " : "");
                if (i < 0)
                  g_string_append (missing, "baseline");
                else
                  g_string_append_printf (missing, "%d", i);
                if (scenario->world)
                  g_string_append_printf (missing, " seed %" G_GUINT64_FORMAT,
                                          g_array_index (scenario->seeds, guint64, s));
              }
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
        got->pdata[s * per_seed + (i < 0 ? points->len : (guint) i)] = pm;
      }
  if (n_missing > 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s: %u of %u point results missing (%s%s); rerun those tasks "
                   "(minna-sim run SCENARIO --point K%s --out %s)", dir, n_missing,
                   per_seed * n_seeds, missing->str, n_missing > 10 ? ", ..." : "",
                   scenario->world ? " --seed S" : "", dir);
      return NULL;
    }
  for (guint i = 0; i < points->len; i++)
    for (guint s = 0; s < n_seeds; s++)
      g_ptr_array_add (metrics, json_object_ref (g_ptr_array_index (got, s * per_seed + i)));
  for (guint s = 0; s < n_seeds; s++)
    g_ptr_array_add (baselines, json_object_ref (g_ptr_array_index (got, s * per_seed + points->len)));
  results = mn_sweep_results_new (scenario, points, baselines, metrics);
  *scenario_out = g_steal_pointer (&scenario);
  return results;
}
