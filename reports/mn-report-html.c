/* mn-report-html.c: report.html, one page that reads offline: the answer
 * with its margins over the seeds, how close the next smaller configuration
 * came, what it means for interactive and batch users, and the plots. */
#define G_LOG_DOMAIN "minna-report"

#include <math.h>
#include <string.h>

#include "mn-report-private.h"

static void
esc (GString *out, const gchar *text)
{
  g_autofree gchar *e = g_markup_escape_text (text != NULL ? text : "", -1);

  g_string_append (out, e);
}

static void
figure (GString *h, GPtrArray *shown, const gchar *base, const gchar *caption)
{
  gboolean drawn = FALSE;

  for (guint i = 0; i < shown->len && !drawn; i++)
    drawn = g_str_equal (g_ptr_array_index (shown, i), base);
  if (!drawn)
    return;
  g_string_append_printf (h, "<figure><img src=\"plots/%s.png\" alt=\"", base);
  esc (h, caption);
  g_string_append (h, "\" width=\"900\"><figcaption>");
  esc (h, caption);
  g_string_append_printf (h, " (<a href=\"plots/%s.svg\">SVG</a>, data: <a href=\"plots/%s.dat\">%s.dat</a>)"
                          "</figcaption></figure>\n", base, base, base);
}

static gchar *
seed_of (Report *r, JsonObject *target)
{
  JsonNode *n = mn_sweep_json_path (target, "worst_seed");

  /* the worst seed, when the seeds differ */
  if (!r->world || n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || mn_report_num (target, "min") == mn_report_num (target, "max"))
    return g_strdup ("");
  return g_strdup_printf (" (seed %" G_GINT64_FORMAT ")", json_node_get_int (n));
}

static gchar *
margin_text (const gchar *unit, gdouble margin)
{
  g_autofree gchar *abs = mn_report_value (unit, fabs (margin));

  if (isnan (margin))
    return g_strdup ("not measured");
  if (g_strcmp0 (unit, "share") == 0)
    return g_strdup_printf ("%+.2f points", margin * 100);
  return g_strdup_printf ("%s%s", margin < 0 ? "&minus;" : "+", abs);
}

/* One point's cells for a target: median (range), worst margin (seed),
 * seeds on which it is missed. */
static void
target_cells (Report *r, GString *h, JsonObject *point, const gchar *name, const gchar *unit)
{
  JsonObject *t = NULL;
  JsonNode *n = mn_sweep_json_path (point, "targets");
  MnRange v;
  g_autofree gchar *value = NULL, *margin = NULL, *seed = NULL;
  gint64 failed;

  if (n != NULL && JSON_NODE_HOLDS_OBJECT (n) && json_object_has_member (json_node_get_object (n), name))
    t = json_object_get_object_member (json_node_get_object (n), name);
  if (t == NULL)
    {
      g_string_append (h, "<td>n/a</td><td></td>");
      return;
    }
  v.median = mn_report_num (t, "value");
  v.min = mn_report_num (t, "min");
  v.max = mn_report_num (t, "max");
  v.n = r->n_seeds;
  value = mn_report_range_text (r, unit, &v);
  margin = margin_text (unit, mn_report_num (t, "worst_margin"));
  seed = seed_of (r, t);
  failed = (gint64) mn_report_num (t, "seeds_failed");
  g_string_append_printf (h, "<td class=\"%s\">%s</td><td class=\"%s\">%s%s", failed == 0 ? "pass" : "fail",
                          value, failed == 0 ? "pass" : "fail", margin, seed);
  if (failed > 0 && r->world)
    g_string_append_printf (h, "; <b>missed on %" G_GINT64_FORMAT " of %u seeds</b>", failed, r->n_seeds);
  else if (failed > 0)
    g_string_append (h, "; <b>missed</b>");
  g_string_append (h, "</td>");
}

static void
html_targets (Report *r, GString *h)
{
  JsonObject *defs = json_object_get_object_member (json_object_get_object_member (r->top, "scenario"), "targets");
  g_autoptr (GList) names = defs != NULL ? json_object_get_members (defs) : NULL;
  JsonObject *ref = mn_report_point (r, r->ref), *next = mn_report_point (r, r->next);

  g_string_append (h, "<table><tr><th>target</th><th>limit</th><th>");
  esc (h, r->ref_label);
  g_string_append_printf (h, "%s</th><th>worst margin</th>", r->world ? " (median and range over the seeds)" : "");
  if (next != NULL)
    {
      g_string_append (h, "<th>");
      esc (h, r->next_label);
      g_string_append (h, "</th><th>worst margin</th>");
    }
  g_string_append (h, "</tr>\n");
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *d = json_object_get_object_member (defs, l->data);
      const gchar *unit = mn_report_str (d, "unit");
      g_autofree gchar *limit = mn_report_value (unit, mn_report_num (d, "limit"));

      g_string_append_printf (h, "<tr><td><code>%s</code><br><small>", (const gchar *) l->data);
      esc (h, mn_report_str (d, "describe"));
      g_string_append_printf (h, "</small></td><td>%s %s</td>",
                              g_strcmp0 (mn_report_str (d, "op"), ">=") == 0 ? "&ge;" : "&le;", limit);
      target_cells (r, h, ref, l->data, unit);
      if (next != NULL)
        target_cells (r, h, next, l->data, unit);
      g_string_append (h, "</tr>\n");
    }
  {
    gboolean ref_refuses = json_object_get_boolean_member_with_default (ref, "refuses_all", FALSE);
    gboolean next_refuses = next != NULL && json_object_get_boolean_member_with_default (next, "refuses_all", FALSE);

    if (ref_refuses || next_refuses)
      {
        g_string_append_printf (h, "<tr><td colspan=\"2\">admits at least one request (a point that refuses "
                                "every request is never recommended)</td><td class=\"%s\" colspan=\"2\">%s</td>",
                                ref_refuses ? "fail" : "pass", ref_refuses ? "<b>refuses every request</b>" : "yes");
        if (next != NULL)
          g_string_append_printf (h, "<td class=\"%s\" colspan=\"2\">%s</td>", next_refuses ? "fail" : "pass",
                                  next_refuses ? "<b>refuses every request</b>" : "yes");
        g_string_append (h, "</tr>\n");
      }
  }
  g_string_append (h, "</table>\n");
}

static void
story_row (Report *r, GString *h, gint point, const gchar *label)
{
  MnRange req = mn_report_metric_range (r, point, MN_METRIC_REQUESTS);
  MnRange cols[11];
  static const gchar *const units[11] = { "share", "share", "share", "s", "s", "s", "s", "share", "share",
                                          "", "" };
  g_autofree gdouble *own = g_new (gdouble, r->n_seeds);
  g_autofree gdouble *other = g_new (gdouble, r->n_seeds);

  for (guint s = 0; s < r->n_seeds; s++)
    {
      JsonObject *m = mn_report_run (r, point, s);
      gdouble n = mn_sweep_metric (m, MN_METRIC_REQUESTS);
      gdouble o = mn_sweep_metric (m, MN_METRIC_REJECTED_OWN_LIMIT);
      gdouble started = mn_sweep_metric (m, MN_METRIC_STARTED);

      own[s] = n > 0 ? (isnan (o) ? 0 : o) / n : NAN;
      /* 1 - a - b can come out a hair under 0 */
      other[s] = n > 0 ? MAX (0, 1 - started / n - own[s]) : NAN;
    }
  (void) req;
  cols[0] = mn_report_metric_range (r, point, MN_METRIC_SHARE_IMMEDIATE);
  cols[1] = mn_sweep_range (own, r->n_seeds);
  cols[2] = mn_sweep_range (other, r->n_seeds);
  cols[3] = mn_report_metric_range (r, point, MN_METRIC_WAIT_P50);
  cols[4] = mn_report_metric_range (r, point, MN_METRIC_WAIT_P99);
  cols[5] = mn_report_metric_range (r, point, MN_METRIC_WAIT_MAX);
  cols[6] = mn_report_metric_range (r, point, MN_METRIC_BATCH_WAIT_MEAN);
  cols[7] = point >= 0 ? mn_report_figure_range (r, point, MN_FIGURE_BATCH_WAIT_INCREASE)
                       : (MnRange) { 0, 0, 0, r->n_seeds };
  cols[8] = mn_report_path_range (r, point, "batch.wait_ge_24h_share");
  cols[9] = point >= 0 ? mn_report_metric_range (r, point, MN_METRIC_GPU_ALLOC_FAILURES)
                       : (MnRange) { NAN, NAN, NAN, 0 };
  cols[10] = point >= 0 ? mn_report_metric_range (r, point, MN_METRIC_MEMORY_CAP_KILLS)
                        : (MnRange) { NAN, NAN, NAN, 0 };
  g_string_append (h, "<tr><td>");
  esc (h, label);
  g_string_append (h, "</td>");
  for (guint c = 0; c < G_N_ELEMENTS (cols); c++)
    {
      g_autofree gchar *t = mn_report_range_text (r, units[c], &cols[c]);

      g_string_append_printf (h, "<td>%s</td>", t);
    }
  g_string_append (h, "</tr>\n");
}

static void
html_story (Report *r, GString *h)
{
  g_string_append (h, "<table><tr><th></th><th>started immediately</th><th>refused by the per-user limit</th>"
                      "<th>refused otherwise, or never started</th><th>median wait</th><th>p99 wait</th>"
                      "<th>longest wait</th><th>batch mean wait</th><th>batch mean wait above the baseline</th>"
                      "<th>batch jobs waiting 24 h or more</th><th>GPU memory allocation failures</th>"
                      "<th>sessions killed by their memory cap</th></tr>\n");
  story_row (r, h, -1, "baseline: interactive jobs in all.q");
  story_row (r, h, r->ref, r->ref_label);
  if (r->next >= 0)
    story_row (r, h, r->next, r->next_label);
  g_string_append (h, "</table>\n");
  if (r->world)
    g_string_append_printf (h, "<p class=\"note\">Each figure is the median over the %u seeds, with their "
                               "range in brackets.</p>\n", r->n_seeds);
}

static void
html_points (Report *r, GString *h)
{
  g_string_append (h, "<details><summary>Every point of the sweep</summary>\n<table><tr><th>point</th>"
                      "<th>parameters</th><th>started immediately (worst hour)</th><th>admitted</th>"
                      "<th>p99 wait</th><th>OOM kills</th><th>memory cap kills</th><th>GPU failures</th><th>swap in use</th>"
                      "<th>batch mean wait above the baseline</th><th>targets</th></tr>\n");
  for (guint i = 0; i < r->n_points; i++)
    {
      JsonObject *p = mn_report_point (r, i);
      gboolean pass = json_object_get_boolean_member_with_default (p, "pass", FALSE);
      gint64 passed = (gint64) mn_report_num (p, "seeds_passed");
      const struct { MnRange v; const gchar *unit; } cols[] = {
        { mn_report_figure_range (r, i, MN_FIGURE_WORST_HOUR_SHARE), "share" },
        { mn_report_figure_range (r, i, MN_FIGURE_ADMITTED_SHARE), "share" },
        { mn_report_metric_range (r, i, MN_METRIC_WAIT_P99), "s" },
        { mn_report_metric_range (r, i, MN_METRIC_OOM_KILLS), "" },
        { mn_report_metric_range (r, i, MN_METRIC_MEMORY_CAP_KILLS), "" },
        { mn_report_metric_range (r, i, MN_METRIC_GPU_ALLOC_FAILURES), "" },
        { mn_report_metric_range (r, i, MN_METRIC_SWAP_TIME_SHARE), "share" },
        { mn_report_figure_range (r, i, MN_FIGURE_BATCH_WAIT_INCREASE), "share" },
      };

      g_string_append_printf (h, "<tr class=\"%s\"><td>%u%s</td><td>", pass ? "pass" : "fail", i,
                              (gint) i == r->recommended ? " &#9733;" : (gint) i == r->next ? " &#9734;" : "");
      esc (h, mn_report_str (p, "describe"));
      g_string_append (h, "</td>");
      for (gsize c = 0; c < G_N_ELEMENTS (cols); c++)
        {
          g_autofree gchar *t = mn_report_range_text (r, cols[c].unit, &cols[c].v);

          g_string_append_printf (h, "<td>%s</td>", t);
        }
      if (json_object_get_boolean_member_with_default (p, "refuses_all", FALSE))
        g_string_append (h, "<td>refuses every request</td></tr>\n");
      else if (r->world)
        g_string_append_printf (h, "<td>all met on %" G_GINT64_FORMAT " of %u seeds</td></tr>\n", passed, r->n_seeds);
      else
        g_string_append_printf (h, "<td>%s</td></tr>\n", pass ? "all met" : "missed");
    }
  g_string_append (h, "</table></details>\n");
}

static void
html_source (Report *r, GString *h)
{
  JsonNode *world = mn_sweep_json_path (r->top, "scenario.world");

  if (world != NULL && JSON_NODE_HOLDS_OBJECT (world))
    {
      JsonObject *w = json_node_get_object (world);
      g_autoptr (GList) names = json_object_get_members (w);
      JsonArray *seeds = json_object_get_array_member (json_object_get_object_member (r->top, "scenario"), "seeds");

      g_string_append (h, "<p>The world: TSUBAME-style, generated by <code>minna-tracegen</code>'s model "
                          "(<code>traces/README.md</code>) on each of the seeds ");
      for (guint i = 0; i < json_array_get_length (seeds); i++)
        g_string_append_printf (h, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", json_array_get_int_element (seeds, i));
      g_string_append (h, "; every point is replayed on every seed, and the answer must hold on each.</p>\n"
                          "<table><tr><th>world knob (<code>[world]</code> in the scenario)</th><th>value</th><th></th></tr>\n");
      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *v = json_object_get_member (w, l->data);
          JsonNode *set = json_object_get_member (w, "set");
          gboolean was_set = FALSE;

          if (g_str_equal (l->data, "set") || g_str_equal (l->data, "generator"))
            continue;
          for (guint i = 0; set != NULL && JSON_NODE_HOLDS_ARRAY (set) && i < json_array_get_length (json_node_get_array (set)); i++)
            was_set |= g_strcmp0 (json_array_get_string_element (json_node_get_array (set), i), l->data) == 0;
          g_string_append_printf (h, "<tr><td><code>%s</code></td><td>", (const gchar *) l->data);
          if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
            esc (h, json_node_get_string (v));
          else if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_BOOLEAN)
            g_string_append (h, json_node_get_boolean (v) ? "true" : "false");
          else
            {
              g_autofree gchar *t = mn_report_fmt (mn_sweep_json_number (v));

              g_string_append (h, t);
              if (g_str_equal (l->data, "gpu_memory"))
                g_string_append (h, " MiB");
            }
          g_string_append_printf (h, "</td><td>%s</td></tr>\n",
                                  g_str_equal (l->data, "fiscal_year") || g_str_equal (l->data, "nodes")
                                    ? "" : was_set ? "set in the scenario" : "the generator's default");
        }
      g_string_append (h, "</table>\n<p class=\"note\">Every knob, its default and its source: "
                          "<code>scenarios/README.md</code> ([world]) and <code>traces/README.md</code>.</p>\n");
    }
  else
    {
      g_string_append (h, "<p>Trace: <code>");
      esc (h, mn_report_str (r->top, "scenario.trace"));
      g_string_append (h, "</code>, replayed once per point.</p>\n");
    }
}

/* When the trace logs start times: how far the replay is from the site's
 * own scheduler (the baseline: every node in all.q, as the site ran). */
static void
html_validation (Report *r, GString *h, GPtrArray *shown)
{
  static const struct { const gchar *name, *logged, *replay; } rows[] = {
    { "mean", "batch.logged.logged_wait_mean", "batch.logged.replay_wait_mean" },
    { "median", "batch.logged.logged_wait_median", "batch.logged.replay_wait_median" },
    { "95th percentile", "batch.logged.logged_wait_p95", "batch.logged.replay_wait_p95" },
  };
  MnRange jobs = mn_report_path_range (r, -1, "batch.logged.jobs");

  if (!(jobs.median > 0))
    return;
  g_string_append_printf (h, "<h2>Validation against the log</h2>\n<p>The trace logs when its jobs started: "
                             "for its %.0f batch jobs with a logged start, the waits the replay gives "
                             "(all.q under %s) against the ones the site's scheduler gave.</p>\n"
                             "<table><tr><th>batch wait</th><th>logged</th><th>replayed</th></tr>\n",
                          jobs.median, mn_report_str (r->baseline[0], "machine.scheduler") != NULL
                            ? mn_report_str (r->baseline[0], "machine.scheduler") : "the replay's scheduler");
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      MnRange l = mn_report_path_range (r, -1, rows[i].logged);
      MnRange p = mn_report_path_range (r, -1, rows[i].replay);
      g_autofree gchar *lt = mn_report_range_text (r, "s", &l);
      g_autofree gchar *pt = mn_report_range_text (r, "s", &p);

      g_string_append_printf (h, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", rows[i].name, lt, pt);
    }
  g_string_append (h, "</table>\n");
  figure (h, shown, "validation", "Replayed against logged batch waits by month: mean, median and 95th percentile");
}

gboolean
mn_report_html (Report *r, GPtrArray *shown, GError **error)
{
  g_autoptr (GString) h = g_string_new (NULL);
  g_autofree gchar *conf_path = g_build_filename (r->opt->results_dir, "recommended.conf", NULL);
  g_autofree gchar *conf = NULL;
  g_autofree gchar *path = g_build_filename (r->opt->results_dir, "report.html", NULL);
  g_autoptr (GError) local = NULL;
  JsonObject *ref = mn_report_point (r, r->ref);

  g_string_append (h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>minna sizing report: ");
  esc (h, r->scenario);
  g_string_append (h, "</title>\n<style>\n"
                      "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}\n"
                      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n"
                      "td.fail,tr.fail td{background:#fde0dc}td.pass,tr.pass td{background:#e8f5e9}\n"
                      ".range{color:#666;font-size:90%}.note{color:#555}\n"
                      "figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
                      "pre{background:#f6f6f6;padding:1em;overflow-x:auto}\n</style></head><body>\n");
  g_string_append (h, "<h1>Sizing interactive.q: ");
  esc (h, r->scenario);
  g_string_append (h, "</h1>\n<p>");
  esc (h, mn_report_str (r->top, "scenario.description"));
  g_string_append_printf (h, " %u points swept.</p>\n", r->n_points);
  html_source (r, h);

  g_string_append (h, "<h2>Answer</h2>\n");
  if (r->recommended >= 0)
    {
      JsonArray *order = json_object_get_array_member (json_object_get_object_member (r->top, "scenario"), "minimise");

      g_string_append (h, "<p><b>Recommended:</b> ");
      esc (h, mn_report_str (ref, "describe"));
      g_string_append_printf (h, ", the cheapest point that meets every target%s (minimising ",
                              r->world ? " on every seed" : "");
      for (guint i = 0; order != NULL && i < json_array_get_length (order); i++)
        {
          g_string_append (h, i > 0 ? ", then " : "");
          esc (h, json_array_get_string_element (order, i));
        }
      g_string_append (h, ").");
      if (r->next >= 0)
        {
          JsonObject *next = mn_report_point (r, r->next);

          g_string_append (h, " The next smaller configuration, ");
          esc (h, mn_report_str (next, "describe"));
          if (r->world)
            g_string_append_printf (h, ", meets every target on %.0f of %u seeds.",
                                    mn_report_num (next, "seeds_passed"), r->n_seeds);
          else
            g_string_append (h, ", misses (see its margins).");
        }
      g_string_append (h, "</p>\n");
    }
  else
    {
      g_string_append_printf (h, "<p><b>No point meets every target%s.</b> Closest: ",
                              r->world ? " on every seed" : "");
      esc (h, mn_report_str (ref, "describe"));
      g_string_append (h, "; the targets it misses are marked below, with how far off they are.</p>\n");
    }
  html_targets (r, h);
  html_story (r, h);
  if (g_file_get_contents (conf_path, &conf, NULL, NULL))
    {
      g_string_append (h, "<p>The policy file (<a href=\"recommended.conf\">recommended.conf</a>), "
                          "loadable unchanged by <code>minna-policy check</code> and the controller:</p>\n<pre>");
      esc (h, conf);
      g_string_append (h, "</pre>\n");
    }

  g_string_append (h, "<h2>Interactive users</h2>\n");
  figure (h, shown, "wait-cdf", "Interactive wait over all requests: the baseline (no interactive.q), the recommendation and the next smaller configuration; the gap under 100% is the share refused");
  figure (h, shown, "immediate-by-hour", "Share started immediately, hour by hour: the recommendation against the next smaller configuration and the target");
  figure (h, shown, "heatmap-immediate", "The sweep: share started immediately in the worst hour of day");
  figure (h, shown, "occupancy", "interactive.q's own occupancy: running sessions as a share of its slots, by hour of day");
  figure (h, shown, "failures", "Sessions killed by the node's OOM killer or by their own memory cap, GPU memory allocation failures and refusals, by nodes carved out");
  figure (h, shown, "heatmap-swap", "The sweep: swap in use (colour scale to the largest value) and OOM kills");
  g_string_append (h, "<h2>Cost to batch users</h2>\n");
  figure (h, shown, "batch-wait-month", "Batch wait by month: mean, median and 90th percentile, without and with interactive.q");
  figure (h, shown, "batch-wait-share", "Batch jobs that waited 1 h or more and 24 h or more, by month, without and with interactive.q");
  figure (h, shown, "batch-cost", "Cost to batch work of the reference point's design: batch mean wait above the baseline against nodes carved out");
  figure (h, shown, "designs", "The designs side by side (issue 19): every point's batch mean wait above the baseline against the share started at once in the worst hour; interactive.q sizes (dedicated), over-subscription of batch nodes (xN: at most N per node) and hybrids (nodes+xN)");
  g_string_append (h, "<h2>Demand and the world</h2>\n");
  figure (h, shown, "launches", "Interactive launches per hour of day, weekdays and weekends");
  figure (h, shown, "utilization", "Utilization of all.q by month (the report's Figure 4 measure), with and without the interactive nodes");
  html_validation (r, h, shown);
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
