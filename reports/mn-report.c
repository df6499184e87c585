/* mn-report.c: results.json -> plots/ (data, PNG, SVG) -> report.html. */
#define G_LOG_DOMAIN "minna-report"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "mn-report.h"
#include "mn-sweep-results.h"

G_DEFINE_QUARK (mn-report-error-quark, mn_report_error)

/* ---- reading results.json -------------------------------------------------- */

static gdouble
num (JsonObject *obj, const gchar *path)
{
  return mn_sweep_json_number (mn_sweep_json_path (obj, path));
}

static const gchar *
str (JsonObject *obj, const gchar *path)
{
  JsonNode *n = mn_sweep_json_path (obj, path);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static GArray *
series (JsonObject *obj, const gchar *path)
{
  return mn_sweep_json_series (obj, path);
}

/* The sweep's own measure (requests refused by the per-user limit left out). */
static gdouble
worst_hour_share (JsonObject *metrics)
{
  gint hour;
  return mn_sweep_worst_hour_share (metrics, &hour);
}

typedef struct {
  const MnReportOptions *opt;
  gchar                 *plots;      /* results_dir/plots (freed by render) */
  JsonObject            *top;
  JsonArray             *points;
  JsonObject            *ref;        /* recommended, else the closest point */
  JsonObject            *ref_metrics;
  JsonObject            *baseline;   /* may be NULL */
  gint                   recommended;
  const gchar           *scenario;
  gchar                 *ref_label;  /* freed by render */
} Report;

static JsonObject *
point_at (Report *r, guint i)
{
  return json_array_get_object_element (r->points, i);
}

/* ---- data files ------------------------------------------------------------ */

static gchar *
fmt (gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    return g_strdup ("NaN");
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

static gboolean
write_data (Report *r, const gchar *name, GString *text, GError **error)
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

static void
row (GString *out, guint n, ...)
{
  va_list ap;

  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree gchar *v = fmt (va_arg (ap, gdouble));

      g_string_append_printf (out, "%s%s", i > 0 ? "\t" : "", v);
    }
  va_end (ap);
  g_string_append_c (out, '\n');
}

static gboolean
data_launches (Report *r, GError **error)
{
  JsonObject *m = r->baseline != NULL ? r->baseline : r->ref_metrics;
  g_autoptr (GArray) wd = series (m, "sweep.launches_by_hour_weekday");
  g_autoptr (GArray) we = series (m, "sweep.launches_by_hour_weekend");
  g_autoptr (GArray) all = series (m, "interactive.launches_by_hour");
  gdouble nwd = num (m, "sweep.weekdays"), nwe = num (m, "sweep.weekend_days");
  g_autoptr (GString) out = g_string_new ("# hour\tweekday launches/day\tweekend launches/day\n");

  for (guint h = 0; h < 24; h++)
    {
      gdouble a = NAN, b = NAN;

      if (wd != NULL && we != NULL && wd->len == 24 && we->len == 24)
        {
          a = nwd > 0 ? g_array_index (wd, gdouble, h) / nwd : 0;
          b = nwe > 0 ? g_array_index (we, gdouble, h) / nwe : 0;
        }
      else if (all != NULL && all->len == 24)
        a = g_array_index (all, gdouble, h);
      g_string_append_printf (out, "%u", h);
      {
        g_autofree gchar *sa = fmt (a), *sb = fmt (b);

        g_string_append_printf (out, "\t%s\t%s\n", sa, sb);
      }
    }
  return write_data (r, "launches.dat", out, error);
}

static gboolean
data_utilization (Report *r, GError **error)
{
  g_autoptr (GArray) b = series (r->baseline, "batch.utilization_by_day");
  g_autoptr (GArray) p = series (r->ref_metrics, "batch.utilization_by_day");
  g_autoptr (GString) out = g_string_new ("# day\tbaseline %\trecommended %\n");
  guint n = MAX (b != NULL ? b->len : 0, p != NULL ? p->len : 0);

  for (guint d = 0; d < n; d++)
    row (out, 3, (gdouble) d,
         b != NULL && d < b->len ? g_array_index (b, gdouble, d) * 100 : NAN,
         p != NULL && d < p->len ? g_array_index (p, gdouble, d) * 100 : NAN);
  if (n == 0)
    row (out, 3, 0.0, NAN, NAN);
  return write_data (r, "utilization.dat", out, error);
}

static gboolean
data_wait_cdf (Report *r, GError **error)
{
  g_autoptr (GArray) b = series (r->baseline, "sweep.wait_quantiles_s");
  g_autoptr (GArray) p = series (r->ref_metrics, "sweep.wait_quantiles_s");
  g_autoptr (GString) out = g_string_new ("# share\tbaseline wait s\trecommended wait s\n");

  for (guint q = 0; q <= 100; q++)
    row (out, 3, q / 100.0,
         b != NULL && q < b->len ? g_array_index (b, gdouble, q) : NAN,
         p != NULL && q < p->len ? g_array_index (p, gdouble, q) : NAN);
  return write_data (r, "wait-cdf.dat", out, error);
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

/* The distinct values of one parameter, sorted. */
static GArray *
distinct (Report *r, const gchar *param)
{
  GArray *v = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autofree gchar *path = g_strdup_printf ("parameters.%s", param);

  for (guint i = 0; i < json_array_get_length (r->points); i++)
    {
      gdouble x = num (point_at (r, i), path);
      gboolean seen = FALSE;

      for (guint j = 0; j < v->len && !seen; j++)
        seen = g_array_index (v, gdouble, j) == x;
      if (!seen)
        g_array_append_val (v, x);
    }
  g_array_sort (v, cmp_double);
  return v;
}

static guint
index_of (GArray *v, gdouble x)
{
  for (guint i = 0; i < v->len; i++)
    if (g_array_index (v, gdouble, i) == x)
      return i;
  return 0;
}

/* Same values as the reference point in every parameter but @free1/@free2:
 * the slice of the sweep that a 2-D plot shows. */
static gboolean
in_slice (Report *r, JsonObject *p, const gchar *free1, const gchar *free2)
{
  static const gchar *const params[] = { "nodes", "jobs_per_logical", "memory_cap", "swap",
                                         "gpu_mode", "idle_timeout" };

  for (gsize k = 0; k < G_N_ELEMENTS (params); k++)
    {
      g_autofree gchar *path = g_strdup_printf ("parameters.%s", params[k]);
      const gchar *sa, *sb;

      if (g_strcmp0 (params[k], free1) == 0 || g_strcmp0 (params[k], free2) == 0)
        continue;
      sa = str (p, path);
      sb = str (r->ref, path);
      if (sa != NULL || sb != NULL)
        {
          if (g_strcmp0 (sa, sb) != 0)
            return FALSE;
        }
      else if (num (p, path) != num (r->ref, path))
        return FALSE;
    }
  return TRUE;
}

static gchar *
tics_spec (GArray *v)
{
  GString *s = g_string_new ("(");

  for (guint i = 0; i < v->len; i++)
    g_string_append_printf (s, "%s\"%.0f\" %u", i > 0 ? ", " : "", g_array_index (v, gdouble, i), i);
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

static gboolean
data_heatmaps (Report *r, gchar **xtics, gchar **ytics, guint *xmax, guint *ymax, GError **error)
{
  g_autoptr (GArray) xs = distinct (r, "nodes");
  g_autoptr (GArray) ys = distinct (r, "jobs_per_logical");
  g_autoptr (GString) imm = g_string_new ("# x\ty\tworst-hour share started immediately %\tlabel\n");
  g_autoptr (GString) swp = g_string_new ("# x\ty\tswap in use % of time\tlabel\n");
  g_autoptr (GString) mark = g_string_new ("# x\ty (recommended)\n");

  for (guint i = 0; i < json_array_get_length (r->points); i++)
    {
      JsonObject *p = point_at (r, i);
      JsonObject *m = json_object_get_object_member (p, "metrics");
      guint x = index_of (xs, num (p, "parameters.nodes"));
      guint y = index_of (ys, num (p, "parameters.jobs_per_logical"));
      gdouble share = worst_hour_share (m) * 100;
      gdouble swap = num (m, "interactive.swap_time_share") * 100;
      gdouble oom = num (m, "interactive.oom_kills");

      if (!in_slice (r, p, "nodes", "jobs_per_logical"))
        continue;
      g_string_append_printf (imm, "%u\t%u\t%.3f\t%.1f%%\n", x, y, share, share);
      g_string_append_printf (swp, "%u\t%u\t%.3f\t%.1f%% / %.0f OOM\n", x, y, swap, swap, oom);
    }
  g_string_append_printf (mark, "%u\t%u\n", index_of (xs, num (r->ref, "parameters.nodes")),
                          index_of (ys, num (r->ref, "parameters.jobs_per_logical")));
  *xtics = tics_spec (xs);
  *ytics = tics_spec (ys);
  *xmax = xs->len - 1;
  *ymax = ys->len - 1;
  return write_data (r, "heatmap-immediate.dat", imm, error)
      && write_data (r, "heatmap-swap.dat", swp, error)
      && write_data (r, "recommended.dat", mark, error);
}

static gboolean
data_batch_cost (Report *r, GError **error)
{
  g_autoptr (GArray) xs = distinct (r, "nodes");
  g_autoptr (GString) out = g_string_new ("# nodes\tbatch mean wait h\tmean bounded slowdown\n");

  if (r->baseline != NULL)
    row (out, 3, 0.0, num (r->baseline, "batch.wait_mean") / 3600,
         num (r->baseline, "batch.bounded_slowdown_mean"));
  for (guint k = 0; k < xs->len; k++)
    for (guint i = 0; i < json_array_get_length (r->points); i++)
      {
        JsonObject *p = point_at (r, i);
        JsonObject *m = json_object_get_object_member (p, "metrics");

        if (num (p, "parameters.nodes") != g_array_index (xs, gdouble, k) || !in_slice (r, p, "nodes", NULL))
          continue;
        row (out, 3, g_array_index (xs, gdouble, k), num (m, "batch.wait_mean") / 3600,
             num (m, "batch.bounded_slowdown_mean"));
      }
  return write_data (r, "batch-cost.dat", out, error);
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

static gboolean
plot (Report *r, const gchar *script, const gchar *out_base, const gchar *const *vars,
      GError **error)
{
  static const gchar *const terms[][2] = { { "pngcairo", "png" }, { "svg", "svg" } };
  const gchar *scripts = r->opt->scripts_dir != NULL ? r->opt->scripts_dir : MN_REPORT_SCRIPTS_DIR;
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

/* ---- HTML -------------------------------------------------------------------- */

static gchar *
human_seconds (gdouble s)
{
  if (isnan (s))
    return g_strdup ("n/a");
  if (s < 120)
    return g_strdup_printf ("%.0f s", s);
  if (s < 7200)
    return g_strdup_printf ("%.1f min", s / 60);
  return g_strdup_printf ("%.1f h", s / 3600);
}

static gchar *
target_value (const gchar *unit, gdouble v)
{
  if (isnan (v))
    return g_strdup ("n/a");
  if (g_strcmp0 (unit, "share") == 0)
    return g_strdup_printf ("%.2f%%", v * 100);
  if (g_strcmp0 (unit, "s") == 0)
    return human_seconds (v);
  return g_strdup_printf ("%.0f %s", v, unit);
}

static void
html_escape_append (GString *out, const gchar *text)
{
  g_autofree gchar *e = g_markup_escape_text (text != NULL ? text : "", -1);

  g_string_append (out, e);
}

static void
html_figure (GString *h, const gchar *base, const gchar *caption)
{
  g_string_append_printf (h, "<figure><img src=\"plots/%s.png\" alt=\"", base);
  html_escape_append (h, caption);
  g_string_append (h, "\" width=\"900\"><figcaption>");
  html_escape_append (h, caption);
  g_string_append_printf (h, " (<a href=\"plots/%s.svg\">SVG</a>, data: <a href=\"plots/%s.dat\">%s.dat</a>)"
                          "</figcaption></figure>\n", base, base, base);
}

static gdouble
own_share (JsonObject *metrics)
{
  gdouble own = num (metrics, "interactive.rejected_by_reason.per-user-limit");
  gdouble req = num (metrics, "interactive.requests");

  return req > 0 && !isnan (own) ? own / req : 0.0;
}

static void
html_story (Report *r, GString *h)
{
  g_autofree gchar *bp99 = human_seconds (num (r->baseline, "interactive.wait_p99"));
  g_autofree gchar *bmax = human_seconds (num (r->baseline, "interactive.wait_max"));
  g_autofree gchar *bp50 = human_seconds (num (r->baseline, "interactive.wait_p50"));
  g_autofree gchar *rp99 = human_seconds (num (r->ref_metrics, "interactive.wait_p99"));

  g_string_append (h, "<table><tr><th></th><th>started immediately</th><th>refused by the per-user limit</th>"
                      "<th>worst hour (of those admitted)</th><th>median wait</th><th>p99 wait</th>"
                      "<th>longest wait</th><th>batch mean wait</th></tr>\n");
  if (r->baseline != NULL)
    {
      g_autofree gchar *bw = human_seconds (num (r->baseline, "batch.wait_mean"));

      g_string_append_printf (h, "<tr><td>baseline: interactive jobs in all.q</td><td>%.1f%%</td><td>%.1f%%</td>"
                              "<td>%.1f%%</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                              num (r->baseline, "interactive.share_immediate") * 100,
                              own_share (r->baseline) * 100,
                              worst_hour_share (r->baseline) * 100, bp50, bp99, bmax, bw);
    }
  {
    g_autofree gchar *p50 = human_seconds (num (r->ref_metrics, "interactive.wait_p50"));
    g_autofree gchar *pmax = human_seconds (num (r->ref_metrics, "interactive.wait_max"));
    g_autofree gchar *pw = human_seconds (num (r->ref_metrics, "batch.wait_mean"));

    g_string_append (h, "<tr><td>");
    html_escape_append (h, r->ref_label);
    g_string_append_printf (h, "</td><td>%.1f%%</td><td>%.1f%%</td><td>%.1f%%</td><td>%s</td><td>%s</td><td>%s</td>"
                            "<td>%s</td></tr>\n</table>\n",
                            num (r->ref_metrics, "interactive.share_immediate") * 100,
                            own_share (r->ref_metrics) * 100,
                            worst_hour_share (r->ref_metrics) * 100, p50, rp99, pmax, pw);
  }
}

static void
html_targets (Report *r, GString *h)
{
  JsonObject *defs = json_object_get_object_member (json_object_get_object_member (r->top, "scenario"),
                                                    "targets");
  JsonObject *got = json_object_get_object_member (r->ref, "targets");
  g_autoptr (GList) names = json_object_get_members (defs);

  g_string_append (h, "<table><tr><th>target</th><th>meaning</th><th>limit</th><th>value</th>"
                      "<th>margin</th><th></th></tr>\n");
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *d = json_object_get_object_member (defs, l->data);
      JsonObject *g = got != NULL && json_object_has_member (got, l->data)
        ? json_object_get_object_member (got, l->data) : NULL;
      const gchar *unit = str (d, "unit");
      g_autofree gchar *limit = target_value (unit, num (d, "limit"));
      g_autofree gchar *value = target_value (unit, g != NULL ? num (g, "value") : NAN);
      gdouble margin = g != NULL ? num (g, "margin") : NAN;
      g_autofree gchar *mabs = target_value (unit, fabs (margin));
      g_autofree gchar *mtext = isnan (margin) ? g_strdup ("n/a")
        : g_strcmp0 (unit, "share") == 0 ? g_strdup_printf ("%+.2f points", margin * 100)
        : g_strdup_printf ("%s%s", margin < 0 ? "-" : "+", mabs);
      gboolean pass = g != NULL && json_object_get_boolean_member (g, "pass");

      g_string_append_printf (h, "<tr class=\"%s\"><td><code>%s</code></td><td>", pass ? "pass" : "fail",
                              (const gchar *) l->data);
      html_escape_append (h, str (d, "describe"));
      g_string_append_printf (h, "</td><td>%s %s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                              g_strcmp0 (str (d, "op"), ">=") == 0 ? "&ge;" : "&le;", limit, value,
                              mtext, pass ? "met" : "<b>MISSED</b>");
    }
  g_string_append (h, "</table>\n");
}

static void
html_points (Report *r, GString *h)
{
  g_string_append (h, "<details><summary>Every point of the sweep</summary>\n<table><tr><th>point</th>"
                      "<th>parameters</th><th>started immediately (worst hour)</th><th>p99 wait</th>"
                      "<th>OOM kills</th><th>swap in use</th><th>batch mean wait</th><th>targets</th></tr>\n");
  for (guint i = 0; i < json_array_get_length (r->points); i++)
    {
      JsonObject *p = point_at (r, i);
      JsonObject *m = json_object_get_object_member (p, "metrics");
      g_autofree gchar *p99 = human_seconds (num (m, "interactive.wait_p99"));
      g_autofree gchar *bw = human_seconds (num (m, "batch.wait_mean"));
      gboolean pass = json_object_get_boolean_member (p, "pass");

      g_string_append_printf (h, "<tr class=\"%s\"><td>%u%s</td><td>", pass ? "pass" : "fail", i,
                              (gint) i == r->recommended ? " &#9733;" : "");
      html_escape_append (h, str (p, "describe"));
      g_string_append_printf (h, "</td><td>%.1f%%</td><td>%s</td><td>%.0f</td><td>%.2f%%</td><td>%s</td>"
                              "<td>%s</td></tr>\n", worst_hour_share (m) * 100, p99,
                              num (m, "interactive.oom_kills"), num (m, "interactive.swap_time_share") * 100,
                              bw, pass ? "all met" : "missed");
    }
  g_string_append (h, "</table></details>\n");
}

static gboolean
write_html (Report *r, GError **error)
{
  g_autoptr (GString) h = g_string_new (NULL);
  g_autofree gchar *conf_path = g_build_filename (r->opt->results_dir, "recommended.conf", NULL);
  g_autofree gchar *conf = NULL;
  g_autofree gchar *path = g_build_filename (r->opt->results_dir, "report.html", NULL);
  g_autoptr (GError) local = NULL;

  g_string_append (h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>minna sizing report: ");
  html_escape_append (h, r->scenario);
  g_string_append (h, "</title>\n<style>\n"
                      "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}\n"
                      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\n"
                      "tr.fail td{background:#fde0dc}tr.pass td{background:#e8f5e9}\n"
                      "figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
                      "pre{background:#f6f6f6;padding:1em;overflow-x:auto}\n</style></head><body>\n");
  g_string_append (h, "<h1>Sizing interactive.q: ");
  html_escape_append (h, r->scenario);
  g_string_append (h, "</h1>\n<p>");
  html_escape_append (h, str (r->top, "scenario.description"));
  g_string_append_printf (h, " Trace: <code>");
  html_escape_append (h, str (r->top, "scenario.trace"));
  g_string_append_printf (h, "</code>; %u points swept.</p>\n", json_array_get_length (r->points));

  g_string_append (h, "<h2>Answer</h2>\n");
  if (r->recommended >= 0)
    {
      g_string_append (h, "<p><b>Recommended:</b> ");
      html_escape_append (h, str (r->ref, "describe"));
      g_string_append (h, ", the cheapest point that meets every target (minimising ");
      {
        JsonArray *order = json_object_get_array_member (json_object_get_object_member (r->top, "scenario"), "minimise");

        for (guint i = 0; i < json_array_get_length (order); i++)
          {
            g_string_append (h, i > 0 ? ", then " : "");
            html_escape_append (h, json_array_get_string_element (order, i));
          }
      }
      g_string_append (h, ").</p>\n");
    }
  else
    {
      g_string_append (h, "<p><b>No point meets every target.</b> Closest: ");
      html_escape_append (h, str (r->ref, "describe"));
      g_string_append (h, "; the targets it misses are marked below, with how far off they are.</p>\n");
    }
  html_targets (r, h);
  html_story (r, h);
  if (g_file_get_contents (conf_path, &conf, NULL, NULL))
    {
      g_string_append (h, "<p>The policy file (<a href=\"recommended.conf\">recommended.conf</a>), "
                          "loadable unchanged by <code>minna-policy check</code> and the controller:</p>\n<pre>");
      html_escape_append (h, conf);
      g_string_append (h, "</pre>\n");
    }

  g_string_append (h, "<h2>Demand</h2>\n");
  html_figure (h, "launches", "Interactive launches per hour of day, weekdays and weekends");
  g_string_append (h, "<h2>Service</h2>\n");
  html_figure (h, "wait-cdf", "Interactive wait time: baseline (no interactive.q) against the recommended configuration");
  html_figure (h, "heatmap-immediate", "The sweep: share started immediately in the worst hour of day");
  html_figure (h, "heatmap-swap", "The sweep: swap in use and OOM kills");
  g_string_append (h, "<h2>Cost to batch users</h2>\n");
  html_figure (h, "utilization", "Utilization of all.q by day, with and without the interactive nodes");
  html_figure (h, "batch-cost", "Batch mean wait and bounded slowdown against nodes carved out");
  html_points (r, h);
  g_string_append (h, "<p>Made by <code>minna-report</code> from <a href=\"results.json\">results.json</a> "
                      "(also <a href=\"results.csv\">results.csv</a>).</p>\n</body></html>\n");
  if (!g_file_set_contents (path, h->str, h->len, &local))
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_IO, "cannot write '%s': %s", path,
                   local->message);
      return FALSE;
    }
  if (!r->opt->quiet)
    g_printerr ("minna-report: %s\n", path);
  return TRUE;
}

/* ---- entry ----------------------------------------------------------------- */

static gboolean render (Report *r, const MnReportOptions *opt, GError **error);

gboolean
mn_report_render (const MnReportOptions *opt, GError **error)
{
  Report r = { .opt = opt, .recommended = -1 };
  gboolean ok = render (&r, opt, error);

  g_free (r.plots);
  g_free (r.ref_label);
  return ok;
}

static gboolean
render (Report *r, const MnReportOptions *opt, GError **error)
{
  g_autofree gchar *path = g_build_filename (opt->results_dir, "results.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root, *rec, *best;
  gint ref;
  g_autofree gchar *xt = NULL, *yt = NULL;
  guint xmax = 0, ymax = 0;
  g_autofree gchar *xmax_s = NULL, *ymax_s = NULL, *recnodes = NULL;

  if (!json_parser_load_from_file (parser, path, &local))
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_IO, "cannot read '%s': %s", path,
                   local->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || g_strcmp0 (str (json_node_get_object (root), "schema"), "minna-sweep-results/1") != 0)
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_BAD_RESULTS,
                   "%s: not a sweep's results (schema minna-sweep-results/1)", path);
      return FALSE;
    }
  r->top = json_node_get_object (root);
  rec = mn_sweep_json_path (r->top, "recommended");
  best = mn_sweep_json_path (r->top, "best");
  if (!json_object_has_member (r->top, "points") || best == NULL || json_node_is_null (best)
      || json_array_get_length (json_object_get_array_member (r->top, "points")) == 0)
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_BAD_RESULTS, "%s: no points", path);
      return FALSE;
    }
  r->points = json_object_get_array_member (r->top, "points");
  r->recommended = rec != NULL && !json_node_is_null (rec) ? (gint) json_node_get_int (rec) : -1;
  ref = (gint) json_node_get_int (best);
  if (ref < 0 || ref >= (gint) json_array_get_length (r->points))
    {
      g_set_error (error, MN_REPORT_ERROR, MN_REPORT_ERROR_BAD_RESULTS, "%s: 'best' out of range", path);
      return FALSE;
    }
  r->ref = point_at (r, ref);
  r->ref_metrics = json_object_get_object_member (r->ref, "metrics");
  r->baseline = mn_sweep_json_path (r->top, "baseline") != NULL && JSON_NODE_HOLDS_OBJECT (mn_sweep_json_path (r->top, "baseline"))
    ? json_object_get_object_member (r->top, "baseline") : NULL;
  r->scenario = str (r->top, "scenario.name") != NULL ? str (r->top, "scenario.name") : "?";
  {
    /* Only the swept parameters: the rest are the same at every point. */
    JsonArray *swept = json_object_get_array_member (json_object_get_object_member (r->top, "scenario"), "swept");
    g_autoptr (GString) what = g_string_new (NULL);

    for (guint i = 0; swept != NULL && i < json_array_get_length (swept); i++)
      {
        const gchar *name = json_array_get_string_element (swept, i);
        g_autofree gchar *member = g_strdup_printf ("parameters.%s", name);
        const gchar *text = str (r->ref, member);

        if (text != NULL)
          g_string_append_printf (what, "%s%s=%s", what->len > 0 ? " " : "", name, text);
        else
          g_string_append_printf (what, "%s%s=%.0f", what->len > 0 ? " " : "", name, num (r->ref, member));
      }
    r->ref_label = g_strdup_printf ("%s: %s", r->recommended >= 0 ? "recommended" : "closest point",
                                    what->len > 0 ? what->str : str (r->ref, "describe"));
  }
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
  if (!data_launches (r, error) || !data_utilization (r, error) || !data_wait_cdf (r, error)
      || !data_heatmaps (r, &xt, &yt, &xmax, &ymax, error) || !data_batch_cost (r, error))
    return FALSE;
  xmax_s = g_strdup_printf ("%u", xmax);
  ymax_s = g_strdup_printf ("%u", ymax);
  recnodes = g_strdup_printf ("%.0f", num (r->ref, "parameters.nodes"));
  {
    const gchar *launches[] = { "datafile", "launches.dat", NULL };
    const gchar *util[] = { "datafile", "utilization.dat", "label", r->ref_label, NULL };
    const gchar *cdf[] = { "datafile", "wait-cdf.dat", "label", r->ref_label, NULL };
    const gchar *heat_i[] = { "datafile", "heatmap-immediate.dat", "markfile", "recommended.dat",
                              "xtics_spec", xt, "ytics_spec", yt,
                              "what", "started immediately, worst hour of day (%)",
                              "plottitle", "Share started immediately in the worst hour",
                              "palette", "good-high", "#xmax", xmax_s, "#ymax", ymax_s, NULL };
    const gchar *heat_s[] = { "datafile", "heatmap-swap.dat", "markfile", "recommended.dat",
                              "xtics_spec", xt, "ytics_spec", yt,
                              "what", "time with swap in use (%)",
                              "plottitle", "Swap in use (colour) and OOM kills (text)",
                              "palette", "good-low", "#xmax", xmax_s, "#ymax", ymax_s, NULL };
    g_autofree gchar *xstep = g_strdup_printf ("%u", MAX (1u, (guint) ceil (num (point_at (r, json_array_get_length (r->points) - 1), "parameters.nodes") / 10.0)));
    const gchar *cost[] = { "datafile", "batch-cost.dat", "#recnodes", recnodes, "#xstep", xstep, NULL };

    if (!plot (r, "launches.gp", "launches", launches, error)
        || !plot (r, "utilization.gp", "utilization", util, error)
        || !plot (r, "wait-cdf.gp", "wait-cdf", cdf, error)
        || !plot (r, "heatmap.gp", "heatmap-immediate", heat_i, error)
        || !plot (r, "heatmap.gp", "heatmap-swap", heat_s, error)
        || !plot (r, "batch-cost.gp", "batch-cost", cost, error))
      return FALSE;
  }
  return write_html (r, error);
}
