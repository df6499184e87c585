/* mn-report.c: results.json -> plots/ (data, PNG, SVG) -> report.html.
 * This file reads results.json (schema minna-sweep-results/2, see
 * scenarios/README.md), computes figures over the seeds, and runs gnuplot;
 * mn-report-data.c writes the plots' data, mn-report-html.c the page. */
#define G_LOG_DOMAIN "minna-report"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "mn-report-private.h"

G_DEFINE_QUARK (mn-report-error-quark, mn_report_error)

/* ---- reading results.json -------------------------------------------------- */

gdouble
mn_report_num (JsonObject *obj, const gchar *path)
{
  return obj != NULL ? mn_sweep_json_number (mn_sweep_json_path (obj, path)) : NAN;
}

const gchar *
mn_report_str (JsonObject *obj, const gchar *path)
{
  JsonNode *n = obj != NULL ? mn_sweep_json_path (obj, path) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

JsonObject *
mn_report_point (Report *r, gint point)
{
  return point >= 0 && (guint) point < r->n_points
    ? json_array_get_object_element (r->points, point) : NULL;
}

JsonObject *
mn_report_run (Report *r, gint point, guint seed)
{
  if (seed >= r->n_seeds)
    return NULL;
  if (point < 0)
    return r->baseline[seed];
  return (guint) point < r->n_points ? r->metrics[point * r->n_seeds + seed] : NULL;
}

MnRange
mn_report_path_range (Report *r, gint point, const gchar *path)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    v[s] = mn_report_num (mn_report_run (r, point, s), path);
  return mn_sweep_range (v, r->n_seeds);
}

MnRange
mn_report_metric_range (Report *r, gint point, MnMetric metric)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    v[s] = mn_sweep_metric (mn_report_run (r, point, s), metric);
  return mn_sweep_range (v, r->n_seeds);
}

MnRange
mn_report_run_range (Report *r, gint point, const gchar *path)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *m = mn_report_run (r, point, s);

      v[s] = m != NULL ? mn_sweep_json_number (mn_sweep_json_path (m, path)) : NAN;
    }
  return mn_sweep_range (v, r->n_seeds);
}

MnRange
mn_report_figure_range (Report *r, gint point, MnFigure figure)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *m = mn_report_run (r, point, s);

      v[s] = m != NULL ? mn_sweep_figure (m, r->baseline[s], figure) : NAN;
    }
  return mn_sweep_range (v, r->n_seeds);
}

MnRange
mn_report_series_range (Report *r, gint point, const gchar *path, guint i, const gchar *divide_by)
{
  g_autofree gdouble *v = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *m = mn_report_run (r, point, s);
      g_autoptr (GArray) a = mn_sweep_json_series (m, path);

      v[s] = a != NULL && i < a->len ? g_array_index (a, gdouble, i) : NAN;
      if (divide_by != NULL)
        {
          gdouble d = mn_report_num (m, divide_by);

          v[s] = d > 0 ? v[s] / d : NAN;
        }
    }
  return mn_sweep_range (v, r->n_seeds);
}

guint
mn_report_series_length (Report *r, gint point, const gchar *path)
{
  guint n = 0;

  for (guint s = 0; s < r->n_seeds; s++)
    {
      const gchar *member;
      JsonArray *a = mn_sweep_json_elements (mn_report_run (r, point, s), path, &member);

      if (a != NULL)
        n = MAX (n, json_array_get_length (a));
    }
  return n;
}

GPtrArray *
mn_report_labels (Report *r, gint point, const gchar *path)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint s = 0; s < r->n_seeds; s++)
    {
      const gchar *member;
      JsonArray *a = mn_sweep_json_elements (mn_report_run (r, point, s), path, &member);

      if (a == NULL)
        continue;
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          const gchar *text = NULL;

          if (member != NULL && JSON_NODE_HOLDS_OBJECT (e))
            text = mn_report_str (json_node_get_object (e), member);
          else if (member == NULL && JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
            text = json_node_get_string (e);
          g_ptr_array_add (out, g_strdup (text != NULL ? text : "?"));
        }
      break;
    }
  return out;
}

/* ---- text ------------------------------------------------------------------ */

gchar *
mn_report_value (const gchar *unit, gdouble v)
{
  if (isnan (v))
    return g_strdup ("n/a");
  if (g_strcmp0 (unit, "share") == 0)
    return g_strdup_printf ("%.2f%%", v * 100);
  if (g_strcmp0 (unit, "s") == 0)
    {
      if (v < 120)
        return g_strdup_printf ("%.0f s", v);
      if (v < 7200)
        return g_strdup_printf ("%.1f min", v / 60);
      return g_strdup_printf ("%.1f h", v / 3600);
    }
  if (unit == NULL || unit[0] == '\0')
    return g_strdup_printf ("%.0f", v);
  return g_strdup_printf ("%.0f %s", v, unit);
}

gchar *
mn_report_range_text (Report *r, const gchar *unit, const MnRange *range)
{
  g_autofree gchar *med = mn_report_value (unit, range->median);
  g_autofree gchar *lo = NULL, *hi = NULL;

  if (r->n_seeds < 2 || range->n < 2 || range->min == range->max)
    return g_steal_pointer (&med);
  lo = mn_report_value (unit, range->min);
  hi = mn_report_value (unit, range->max);
  return g_strdup_printf ("%s <span class=\"range\">(%s&ndash;%s)</span>", med, lo, hi);
}

/* ---- data files ------------------------------------------------------------ */

gchar *
mn_report_fmt (gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    return g_strdup ("NaN");
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

gboolean
mn_report_write_data (Report *r, const gchar *name, GString *text, GError **error)
{
  g_autofree gchar *path = g_build_filename (r->plots, name, NULL);
  g_autoptr (GError) local = NULL;

  if (!g_file_set_contents (path, text->str, text->len, &local))
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_IO, "cannot write '%s': %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

void
mn_report_row (GString *out, guint n, ...)
{
  va_list ap;

  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree gchar *v = mn_report_fmt (va_arg (ap, gdouble));

      g_string_append_printf (out, "%s%s", i > 0 ? "\t" : "", v);
    }
  va_end (ap);
  g_string_append_c (out, '\n');
}

/* "\tmedian\tmin\tmax", each times @scale */
void
mn_report_range_cols (GString *out, const MnRange *range, gdouble scale)
{
  g_autofree gchar *a = mn_report_fmt (range->median * scale);
  g_autofree gchar *b = mn_report_fmt (range->min * scale);
  g_autofree gchar *c = mn_report_fmt (range->max * scale);

  g_string_append_printf (out, "\t%s\t%s\t%s", a, b, c);
}

/* ---- gnuplot ------------------------------------------------------------- */

/* A gnuplot single-quoted string: '' stands for '. */
static gchar *
gp_quote (const gchar *s)
{
  g_auto (GStrv) parts = g_strsplit (s, "'", -1);
  g_autofree gchar *joined = g_strjoinv ("''", parts);

  return g_strdup_printf ("'%s'", joined);
}

const gchar *
mn_report_default_scripts_dir (void)
{
  /* an installed program built from a tree that is gone reads its own copy */
  if (g_file_test (MN_REPORT_SCRIPTS_DIR "/mn-report-common.gp", G_FILE_TEST_IS_REGULAR))
    return MN_REPORT_SCRIPTS_DIR;
  return MN_REPORT_SCRIPTS_INSTALL_DIR;
}

gboolean
mn_report_plot (Report *r, const gchar *script, const gchar *out_base, const gchar *const *vars,
                GError **error)
{
  static const gchar *const terms[][2] = { { "pngcairo", "png" }, { "svg", "svg" } };
  const gchar *scripts = r->opt->scripts_dir != NULL ? r->opt->scripts_dir
                                                     : mn_report_default_scripts_dir ();
  g_autofree gchar *script_path = g_build_filename (scripts, script, NULL);
  const gchar *gnuplot = r->opt->gnuplot != NULL ? r->opt->gnuplot : "gnuplot";

  for (gsize t = 0; t < G_N_ELEMENTS (terms); t++)
    {
      g_autoptr (GString) e = g_string_new (NULL);
      g_autofree gchar *name = g_strdup_printf ("%s.%s", out_base, terms[t][1]);
      g_autofree gchar *outfile = g_build_filename (r->plots, name, NULL);
      g_autofree gchar *q_dir = gp_quote (scripts);
      g_autofree gchar *q_out = gp_quote (outfile);
      g_autofree gchar *q_scn = gp_quote (r->scenario);
      g_autofree gchar *err = NULL;
      g_autoptr (GError) local = NULL;
      gint status = 0;
      const gchar *argv[] = { gnuplot, "-e", NULL, script_path, NULL };

      g_string_append_printf (e, "scriptdir=%s; outfile=%s; term='%s'; scenario=%s; ", q_dir,
                              q_out, terms[t][0], q_scn);
      /* Names starting with '#' are numbers, passed bare; the rest are
       * strings.  Data files are relative to plots/, where gnuplot runs. */
      for (guint i = 0; vars[i] != NULL; i += 2)
        {
          g_autofree gchar *q = gp_quote (vars[i + 1]);

          if (vars[i][0] == '#')
            g_string_append_printf (e, "%s=%s; ", vars[i] + 1, vars[i + 1]);
          else
            g_string_append_printf (e, "%s=%s; ", vars[i], q);
        }
      argv[2] = e->str;
      if (!g_spawn_sync (r->plots, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                         NULL, NULL, NULL, &err, &status, &local))
        {
          g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_GNUPLOT,
                       "cannot run %s: %s (install gnuplot-nox)", gnuplot, local->message);
          return FALSE;
        }
      if (!g_spawn_check_wait_status (status, &local) || !g_file_test (outfile, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_GNUPLOT,
                       "%s %s (%s) failed: %s", gnuplot, script_path, terms[t][0],
                       err != NULL && err[0] != '\0' ? err : "no output");
          return FALSE;
        }
      if (!r->opt->quiet)
        g_printerr ("minna-report: %s\n", outfile);
    }
  return TRUE;
}

/* ---- entry ----------------------------------------------------------------- */

static gchar *
point_label (Report *r, gint point, const gchar *what)
{
  JsonObject *p = mn_report_point (r, point);
  JsonArray *swept = json_object_get_array_member (json_object_get_object_member (r->top, "scenario"), "swept");
  g_autoptr (GString) text = g_string_new (NULL);

  /* Only the swept parameters: the rest are the same at every point. */
  for (guint i = 0; swept != NULL && i < json_array_get_length (swept); i++)
    {
      const gchar *name = json_array_get_string_element (swept, i);
      g_autofree gchar *member = g_strdup_printf ("parameters.%s", name);
      const gchar *s = mn_report_str (p, member);
      MnSweepParam param;

      if (s != NULL)
        g_string_append_printf (text, "%s%s=%s", text->len > 0 ? " " : "", name, s);
      else if (mn_sweep_param_from_string (name, &param))
        {
          /* as the scenario writes it: 60G, 30m */
          g_autofree gchar *v = mn_sweep_format_param (param, (gint64) mn_report_num (p, member));

          g_string_append_printf (text, "%s%s=%s", text->len > 0 ? " " : "", name, v);
        }
      else
        g_string_append_printf (text, "%s%s=%.0f", text->len > 0 ? " " : "", name,
                                mn_report_num (p, member));
    }
  return g_strdup_printf ("%s: %s", what, text->len > 0 ? text->str : mn_report_str (p, "describe"));
}

static gint
index_member (JsonObject *obj, const gchar *name)
{
  JsonNode *n = mn_sweep_json_path (obj, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return -1;
  return (gint) json_node_get_int (n);
}

static gboolean
bad (GError **error, const gchar *path, const gchar *what)
{
  g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_BAD_RESULTS, "%s: %s", path, what);
  return FALSE;
}

/* Every run's metrics, checked for shape: the plots index them freely. */
static gboolean
load_runs (Report *r, const gchar *path, GError **error)
{
  JsonNode *bn = mn_sweep_json_path (r->top, "baseline.runs");
  JsonArray *seeds = json_object_get_array_member (json_object_get_object_member (r->top, "scenario"), "seeds");

  if (bn == NULL || !JSON_NODE_HOLDS_ARRAY (bn) || json_array_get_length (json_node_get_array (bn)) == 0)
    return bad (error, path, "no 'baseline.runs' array");
  r->n_seeds = json_array_get_length (json_node_get_array (bn));
  r->world = seeds != NULL && json_array_get_length (seeds) > 0;
  r->baseline = g_new0 (JsonObject *, r->n_seeds);
  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonNode *run = json_array_get_element (json_node_get_array (bn), s);
      JsonNode *m = JSON_NODE_HOLDS_OBJECT (run) ? mn_sweep_json_path (json_node_get_object (run), "metrics") : NULL;

      r->baseline[s] = m != NULL && JSON_NODE_HOLDS_OBJECT (m) ? json_node_get_object (m) : NULL;
    }
  r->metrics = g_new0 (JsonObject *, r->n_points * r->n_seeds);
  for (guint i = 0; i < r->n_points; i++)
    {
      JsonNode *pn = json_array_get_element (r->points, i);
      JsonNode *runs = JSON_NODE_HOLDS_OBJECT (pn) ? mn_sweep_json_path (json_node_get_object (pn), "runs") : NULL;

      if (runs == NULL || !JSON_NODE_HOLDS_ARRAY (runs)
          || json_array_get_length (json_node_get_array (runs)) != r->n_seeds)
        {
          g_autofree gchar *what = g_strdup_printf ("point %u: 'runs' is not one per seed (%u)", i, r->n_seeds);

          return bad (error, path, what);
        }
      for (guint s = 0; s < r->n_seeds; s++)
        {
          JsonNode *run = json_array_get_element (json_node_get_array (runs), s);
          JsonNode *m = JSON_NODE_HOLDS_OBJECT (run) ? mn_sweep_json_path (json_node_get_object (run), "metrics") : NULL;

          if (m == NULL || !JSON_NODE_HOLDS_OBJECT (m))
            {
              g_autofree gchar *what = g_strdup_printf ("point %u, run %u: no 'metrics' object", i, s);

              return bad (error, path, what);
            }
          r->metrics[i * r->n_seeds + s] = json_node_get_object (m);
        }
    }
  return TRUE;
}

static gboolean
render (Report *r, const MnReportOptions *opt, GError **error)
{
  g_autofree gchar *path = g_build_filename (opt->results_dir, "results.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) shown = g_ptr_array_new_with_free_func (g_free);
  JsonNode *root, *pts;

  if (!json_parser_load_from_file (parser, path, &local))
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_IO, "cannot read '%s': %s", path,
                   local->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || g_strcmp0 (mn_report_str (json_node_get_object (root), "schema"), "minna-sweep-results/2") != 0)
    return bad (error, path, "not a sweep's results (schema minna-sweep-results/2)");
  r->top = json_node_get_object (root);
  pts = mn_sweep_json_path (r->top, "points");
  if (pts == NULL || !JSON_NODE_HOLDS_ARRAY (pts) || json_array_get_length (json_node_get_array (pts)) == 0)
    return bad (error, path, "no points");
  r->points = json_node_get_array (pts);
  r->n_points = json_array_get_length (r->points);
  r->recommended = index_member (r->top, "recommended");
  r->ref = index_member (r->top, "best");
  r->next = index_member (r->top, "next_smaller.index");
  if (r->ref < 0 || r->ref >= (gint) r->n_points || r->recommended >= (gint) r->n_points
      || r->next >= (gint) r->n_points)
    return bad (error, path, "'best', 'recommended' or 'next_smaller' out of range");
  if (json_object_get_object_member (r->top, "scenario") == NULL)
    return bad (error, path, "no 'scenario' object");
  if (!load_runs (r, path, error))
    return FALSE;
  r->scenario = mn_report_str (r->top, "scenario.name") != NULL ? mn_report_str (r->top, "scenario.name") : "?";
  r->ref_label = point_label (r, r->ref, r->recommended >= 0 ? "recommended" : "closest point");
  r->next_label = r->next >= 0 ? point_label (r, r->next, "next smaller") : NULL;
  {
    /* gnuplot runs inside plots/, so every path it gets is absolute. */
    g_autofree gchar *abs = g_canonicalize_filename (opt->results_dir, NULL);

    r->plots = g_build_filename (abs, "plots", NULL);
  }
  if (g_mkdir_with_parents (r->plots, 0755) != 0)
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_IO, "cannot create '%s': %s", r->plots,
                   g_strerror (errno));
      return FALSE;
    }
  return mn_report_plots (r, shown, error) && mn_report_html (r, shown, error);
}

gboolean
mn_report_render (const MnReportOptions *opt, GError **error)
{
  Report r = { .opt = opt, .recommended = -1, .ref = -1, .next = -1 };
  gboolean ok = render (&r, opt, error);

  g_free (r.plots);
  g_free (r.ref_label);
  g_free (r.next_label);
  g_free (r.baseline);
  g_free (r.metrics);
  return ok;
}
