/* mn-sweep-export.c: results.json, results.csv and recommended.conf. */
#define G_LOG_DOMAIN "minna-sweep"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mn-sweep-results.h"
#include "mn-sweep-world.h"

/* ---- files ---------------------------------------------------------------- */

/* JSON has no NaN or infinity: those become null. */
static void
add_number (JsonBuilder *b, const gchar *name, gdouble v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_range (JsonBuilder *b, const gchar *name, const MnRange *range)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  add_number (b, "median", range->median);
  add_number (b, "min", range->min);
  add_number (b, "max", range->max);
  json_builder_end_object (b);
}

static void
add_seed (JsonBuilder *b, MnSweepResults *r, guint s)
{
  json_builder_set_member_name (b, "seed");
  if (r->scenario->world)
    json_builder_add_int_value (b, (gint64) g_array_index (r->scenario->seeds, guint64, s));
  else
    json_builder_add_null_value (b);
}

static void
add_params (JsonBuilder *b, const MnSweepPoint *p)
{
  json_builder_set_member_name (b, "parameters");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_SWEEP_N_PARAMS; k++)
    {
      if (!mn_sweep_param_shown (p->scenario, k))
        continue;
      json_builder_set_member_name (b, mn_sweep_param_to_string (k));
      if (k == MN_SWEEP_PARAM_GPU_MODE || k == MN_SWEEP_PARAM_DESIGN)
        {
          g_autofree gchar *v = mn_sweep_format_param (k, p->values[k]);

          json_builder_add_string_value (b, v);
        }
      else
        json_builder_add_int_value (b, p->values[k]);
    }
  json_builder_end_object (b);
}

/* The figures a planner reads, median and range over the seeds. */
static void
add_summary (JsonBuilder *b, MnSweepResults *r, JsonObject *const *metrics, gboolean baseline)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  json_builder_set_member_name (b, "summary");
  json_builder_begin_object (b);
  for (guint m = 0; m < MN_N_METRICS; m++)
    {
      MnRange range;

      for (guint s = 0; s < r->n_seeds; s++)
        v[s] = mn_sweep_metric (metrics[s], m);
      range = mn_sweep_range (v, r->n_seeds);
      add_range (b, mn_metric_column (m), &range);
    }
  for (guint f = 0; f < MN_N_FIGURES; f++)
    {
      MnRange range;

      if (baseline && f == MN_FIGURE_BATCH_WAIT_INCREASE)
        continue;
      for (guint s = 0; s < r->n_seeds; s++)
        v[s] = mn_sweep_figure (metrics[s], g_ptr_array_index (r->baselines, s), f);
      range = mn_sweep_range (v, r->n_seeds);
      add_range (b, mn_figure_column (f), &range);
    }
  json_builder_end_object (b);
}

static void
add_target_summaries (JsonBuilder *b, MnSweepResults *r, const MnSweepOutcome *o, gboolean failing_only)
{
  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetSummary *t = &o->targets[k];

      if (!t->set || (failing_only && t->pass))
        continue;
      json_builder_set_member_name (b, mn_target_to_string (k));
      json_builder_begin_object (b);
      add_number (b, "limit", t->limit);
      add_number (b, "value", t->value.median);
      add_number (b, "min", t->value.min);
      add_number (b, "max", t->value.max);
      add_number (b, "worst_margin", t->worst_margin);
      json_builder_set_member_name (b, "worst_seed");
      if (r->scenario->world)
        json_builder_add_int_value (b, (gint64) g_array_index (r->scenario->seeds, guint64, t->worst_seed));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "seeds_failed");
      json_builder_add_int_value (b, t->seeds_failed);
      json_builder_set_member_name (b, "pass");
      json_builder_add_boolean_value (b, t->pass);
      if (k == MN_TARGET_IMMEDIATE_SHARE && o->runs[t->worst_seed].targets[k].worst_hour >= 0)
        {
          json_builder_set_member_name (b, "worst_hour");
          json_builder_add_int_value (b, o->runs[t->worst_seed].targets[k].worst_hour);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

static void
add_run_targets (JsonBuilder *b, const MnSweepRun *run)
{
  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    {
      const MnTargetResult *t = &run->targets[k];

      if (!t->set)
        continue;
      json_builder_set_member_name (b, mn_target_to_string (k));
      json_builder_begin_object (b);
      add_number (b, "value", t->value);
      add_number (b, "margin", t->margin);
      json_builder_set_member_name (b, "pass");
      json_builder_add_boolean_value (b, t->pass);
      if (t->worst_hour >= 0)
        {
          json_builder_set_member_name (b, "worst_hour");
          json_builder_add_int_value (b, t->worst_hour);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

static void
add_outcome_head (JsonBuilder *b, MnSweepResults *r, const MnSweepOutcome *o)
{
  g_autofree gchar *what = mn_sweep_point_describe (o->point, FALSE);

  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, o->point->index);
  json_builder_set_member_name (b, "describe");
  json_builder_add_string_value (b, what);
  json_builder_set_member_name (b, "pass");
  json_builder_add_boolean_value (b, o->pass);
  json_builder_set_member_name (b, "seeds_passed");
  json_builder_add_int_value (b, r->n_seeds - o->seeds_failed);
  json_builder_set_member_name (b, "refuses_all");
  json_builder_add_boolean_value (b, o->refuses_all);
}

static void
add_trace_read (JsonBuilder *b, MnSweepResults *r)
{
  JsonObject *t = mn_sweep_results_trace_read (r);

  if (t == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "skipped_lines");
  json_builder_add_int_value (b, json_object_get_int_member_with_default (t, "skipped_lines", 0));
  json_builder_set_member_name (b, "merged_records");
  json_builder_add_int_value (b, json_object_get_int_member_with_default (t, "merged_records", 0));
  json_builder_end_object (b);
}

static void
add_scenario (JsonBuilder *b, MnSweepResults *r)
{
  const MnSweepScenario *s = r->scenario;

  json_builder_set_member_name (b, "scenario");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, s->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, s->description);
  json_builder_set_member_name (b, "trace");
  if (s->trace_path != NULL)
    {
      g_autofree gchar *trace = g_path_get_basename (s->trace_path);

      json_builder_add_string_value (b, trace);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "trace_read");
  add_trace_read (b, r);
  json_builder_set_member_name (b, "world");
  if (s->world)
    json_builder_add_value (b, json_node_init_object (json_node_alloc (), mn_sweep_world_describe (s)));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "seeds");
  json_builder_begin_array (b);
  for (guint i = 0; s->world && i < s->seeds->len; i++)
    json_builder_add_int_value (b, (gint64) g_array_index (s->seeds, guint64, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "machine_nodes");
  json_builder_add_int_value (b, s->machine_nodes);
  json_builder_set_member_name (b, "swept");
  json_builder_begin_array (b);
  for (guint k = 0; k < MN_SWEEP_N_PARAMS; k++)
    if (s->values[k]->len > 1 && mn_sweep_param_shown (s, k))
      json_builder_add_string_value (b, mn_sweep_param_to_string (k));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ranges");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_SWEEP_N_PARAMS; k++)
    {
      if (!mn_sweep_param_shown (s, k))
        continue;
      json_builder_set_member_name (b, mn_sweep_param_to_string (k));
      json_builder_begin_array (b);
      for (guint i = 0; i < s->values[k]->len; i++)
        {
          gint64 v = g_array_index (s->values[k], gint64, i);

          if (k == MN_SWEEP_PARAM_GPU_MODE || k == MN_SWEEP_PARAM_DESIGN)
            {
              g_autofree gchar *t = mn_sweep_format_param (k, v);

              json_builder_add_string_value (b, t);
            }
          else
            json_builder_add_int_value (b, v);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "minimise");
  json_builder_begin_array (b);
  for (guint i = 0; s->minimise != NULL && i < s->minimise->len; i++)
    {
      const MnMinimiseKey *k = &g_array_index (s->minimise, MnMinimiseKey, i);
      g_autofree gchar *text = g_strdup_printf ("%s%s", k->larger_first ? "-" : "",
                                                mn_sweep_param_to_string (k->param));

      json_builder_add_string_value (b, text);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
  for (guint k = 0; k < MN_N_TARGETS; k++)
    if (s->targets[k].set)
      {
        json_builder_set_member_name (b, mn_target_to_string (k));
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "op");
        json_builder_add_string_value (b, mn_target_is_minimum (k) ? ">=" : "<=");
        add_number (b, "limit", s->targets[k].limit);
        json_builder_set_member_name (b, "unit");
        json_builder_add_string_value (b, mn_target_unit (k));
        json_builder_set_member_name (b, "describe");
        json_builder_add_string_value (b, mn_target_describe (k));
        json_builder_end_object (b);
      }
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
add_index_or_null (JsonBuilder *b, const gchar *name, gint index)
{
  json_builder_set_member_name (b, name);
  if (index >= 0)
    json_builder_add_int_value (b, index);
  else
    json_builder_add_null_value (b);
}

JsonNode *
mn_sweep_results_to_json (MnSweepResults *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree JsonObject **m = g_new (JsonObject *, r->n_seeds);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, "minna-sweep-results/2");
  add_scenario (b, r);
  add_index_or_null (b, "recommended", r->recommended);
  add_index_or_null (b, "best", r->best);

  /* how close the next smaller configuration came */
  json_builder_set_member_name (b, "next_smaller");
  if (r->next_smaller >= 0)
    {
      const MnSweepOutcome *o = mn_sweep_results_outcome_at (r, r->next_smaller);

      json_builder_begin_object (b);
      add_outcome_head (b, r, o);
      add_target_summaries (b, r, o, FALSE);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  /* when nothing passes: what the closest point misses */
  json_builder_set_member_name (b, "failing");
  json_builder_begin_array (b);
  if (r->recommended < 0 && r->best >= 0)
    {
      const MnSweepOutcome *o = mn_sweep_results_outcome_at (r, r->best);

      for (guint k = 0; k < MN_N_TARGETS; k++)
        if (o->targets[k].set && !o->targets[k].pass)
          {
            json_builder_begin_object (b);
            json_builder_set_member_name (b, "target");
            json_builder_add_string_value (b, mn_target_to_string (k));
            add_number (b, "value", o->runs[o->targets[k].worst_seed].targets[k].value);
            add_number (b, "limit", o->targets[k].limit);
            add_number (b, "shortfall", -o->targets[k].worst_margin);
            json_builder_set_member_name (b, "seeds_failed");
            json_builder_add_int_value (b, o->targets[k].seeds_failed);
            json_builder_end_object (b);
          }
      if (o->refuses_all)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "target");
          json_builder_add_string_value (b, "refuses_every_request");
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "baseline");
  json_builder_begin_object (b);
  add_summary (b, r, (JsonObject *const *) r->baselines->pdata, TRUE);
  json_builder_set_member_name (b, "runs");
  json_builder_begin_array (b);
  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *bm = g_ptr_array_index (r->baselines, s);

      json_builder_begin_object (b);
      add_seed (b, r, s);
      json_builder_set_member_name (b, "metrics");
      if (bm != NULL)
        json_builder_add_value (b, json_node_init_object (json_node_alloc (), bm));
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->outcomes->len; i++)
    {
      const MnSweepOutcome *o = mn_sweep_results_outcome_at (r, i);

      json_builder_begin_object (b);
      add_outcome_head (b, r, o);
      add_params (b, o->point);
      add_target_summaries (b, r, o, FALSE);
      for (guint s = 0; s < r->n_seeds; s++)
        m[s] = o->runs[s].metrics;
      add_summary (b, r, m, FALSE);
      json_builder_set_member_name (b, "runs");
      json_builder_begin_array (b);
      for (guint s = 0; s < r->n_seeds; s++)
        {
          const MnSweepRun *run = &o->runs[s];

          json_builder_begin_object (b);
          add_seed (b, r, s);
          json_builder_set_member_name (b, "pass");
          json_builder_add_boolean_value (b, run->n_failed == 0);
          json_builder_set_member_name (b, "failed");
          json_builder_add_int_value (b, run->n_failed);
          json_builder_set_member_name (b, "refuses_all");
          json_builder_add_boolean_value (b, run->refuses_all);
          add_run_targets (b, run);
          json_builder_set_member_name (b, "metrics");
          json_builder_add_value (b, json_node_init_object (json_node_alloc (), run->metrics));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
csv_number (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_c (out, ',');
  if (isfinite (v))
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.10g", v));
}

/* One row per point and seed (the baseline's rows first, point -1), so that
 * a spreadsheet sees every run. */
gchar *
mn_sweep_results_to_csv (MnSweepResults *r)
{
  GString *out = g_string_new ("point,seed,nodes,jobs_per_logical,memory_cap_mb,swap_mb,gpu_mode,idle_timeout_s");
  gboolean designs = mn_sweep_scenario_has_designs (r->scenario);
  static const gchar *const oversub_columns[] = {
    "oversubscribe.started_shared", "oversubscribe.started_dedicated",
    "oversubscribe.batch_jobs_shared", "oversubscribe.batch_stretch_mean",
    "oversubscribe.batch_stretch_p95", "oversubscribe.batch_node_hours_lost",
    "oversubscribe.dedicated_node_hours", "oversubscribe.memory_committed_mean",
    "oversubscribe.memory_committed_max", "oversubscribe.swap_peak_mb",
  };

  for (guint m = 0; m < MN_N_METRICS; m++)
    g_string_append_printf (out, ",%s", mn_metric_column (m));
  for (guint f = 0; f < MN_N_FIGURES; f++)
    g_string_append_printf (out, ",%s", mn_figure_column (f));
  g_string_append (out, ",worst_hour");
  for (guint k = 0; k < MN_N_TARGETS; k++)
    if (r->scenario->targets[k].set)
      g_string_append_printf (out, ",margin_%s", mn_target_to_string (k));
  g_string_append (out, ",failed,pass,pass_every_seed,recommended");
  /* Issue 19: only a sweep of designs has these (a dedicated sweep's file is
   * what it was). */
  if (designs)
    {
      g_string_append (out, ",design,max_extra_jobs_per_node");
      for (guint c = 0; c < G_N_ELEMENTS (oversub_columns); c++)
        g_string_append_printf (out, ",%s", strchr (oversub_columns[c], '.') + 1);
    }
  g_string_append_c (out, '\n');
  for (gint i = -1; i < (gint) r->outcomes->len; i++)
    {
      const MnSweepOutcome *o = i >= 0 ? mn_sweep_results_outcome_at (r, i) : NULL;

      for (guint s = 0; s < r->n_seeds; s++)
        {
          JsonObject *bm = g_ptr_array_index (r->baselines, s);
          JsonObject *m = o != NULL ? o->runs[s].metrics : bm;
          const gint64 *v = o != NULL ? o->point->values : NULL;
          g_autofree gchar *gpu = v != NULL ? mn_sweep_format_param (MN_SWEEP_PARAM_GPU_MODE, v[MN_SWEEP_PARAM_GPU_MODE])
                                            : g_strdup ("");
          gint hour;

          g_string_append_printf (out, "%d,", i);
          if (r->scenario->world)
            g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_array_index (r->scenario->seeds, guint64, s));
          if (v != NULL)
            g_string_append_printf (out, ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                                    ",%" G_GINT64_FORMAT ",%s,%" G_GINT64_FORMAT, v[0], v[1], v[2], v[3],
                                    gpu, v[5]);
          else
            g_string_append (out, ",0,,,,,");
          for (guint k = 0; k < MN_N_METRICS; k++)
            csv_number (out, mn_sweep_metric (m, k));
          for (guint f = 0; f < MN_N_FIGURES; f++)
            csv_number (out, o != NULL || f != MN_FIGURE_BATCH_WAIT_INCREASE
                               ? mn_sweep_figure (m, bm, f) : NAN);
          mn_sweep_worst_hour_share (m, &hour);
          g_string_append_printf (out, ",%d", hour);
          for (guint k = 0; k < MN_N_TARGETS; k++)
            if (r->scenario->targets[k].set)
              csv_number (out, o != NULL ? o->runs[s].targets[k].margin : NAN);
          if (o != NULL)
            g_string_append_printf (out, ",%u,%d,%d,%d", o->runs[s].n_failed, o->runs[s].n_failed == 0,
                                    o->pass, i == r->recommended);
          else
            g_string_append (out, ",,,,");
          if (designs)
            {
              g_autofree gchar *design = v != NULL ? mn_sweep_format_param (MN_SWEEP_PARAM_DESIGN, v[MN_SWEEP_PARAM_DESIGN])
                                                   : g_strdup ("");
              g_string_append_printf (out, ",%s,", design);
              if (v != NULL && v[MN_SWEEP_PARAM_DESIGN] != MN_DESIGN_DEDICATED)
                g_string_append_printf (out, "%" G_GINT64_FORMAT, v[MN_SWEEP_PARAM_EXTRA_JOBS]);
              for (guint c = 0; c < G_N_ELEMENTS (oversub_columns); c++)
                csv_number (out, mn_sweep_json_number (mn_sweep_json_path (m, oversub_columns[c])));
            }
          g_string_append_c (out, '\n');
        }
    }
  return g_string_free (out, FALSE);
}

static gboolean
write_text (const gchar *dir, const gchar *name, const gchar *text, GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local = NULL;

  if (!g_file_set_contents (path, text, -1, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot write '%s': %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
mn_sweep_results_write (MnSweepResults *r, const gchar *dir, GError **error)
{
  g_autoptr (JsonNode) root = mn_sweep_results_to_json (r);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree gchar *json = NULL;
  g_autofree gchar *csv = mn_sweep_results_to_csv (r);
  g_autofree gchar *conf = mn_sweep_results_recommended_conf (r);
  g_autofree gchar *json_nl = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot create '%s': %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json = json_generator_to_data (gen, NULL);
  json_nl = g_strconcat (json, "\n", NULL);
  if (!write_text (dir, "results.json", json_nl, error) || !write_text (dir, "results.csv", csv, error))
    return FALSE;
  if (conf != NULL)
    return write_text (dir, "recommended.conf", conf, error);
  {
    g_autofree gchar *path = g_build_filename (dir, "recommended.conf", NULL);

    /* A stale file from an earlier run would look like an answer. */
    g_unlink (path);
  }
  return TRUE;
}
