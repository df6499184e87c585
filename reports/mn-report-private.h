/* mn-report-private.h: what the report's files share: results.json read
 * into one structure (every point's metrics on every seed), figures over
 * the seeds as median and range, and small writers. */
#pragma once

#include <json-glib/json-glib.h>

#include "mn-report.h"
#include "mn-sweep-results.h"

G_BEGIN_DECLS

typedef struct {
  const MnReportOptions *opt;
  gchar       *plots;        /* results_dir/plots, absolute */
  JsonObject  *top;
  JsonArray   *points;
  guint        n_points;
  guint        n_seeds;
  gboolean     world;        /* a generated world (seeds), else a trace file */
  JsonObject **baseline;     /* [n_seeds]; entries may be NULL */
  JsonObject **metrics;      /* [n_points * n_seeds], point-major */
  gint         recommended;  /* -1: none */
  gint         ref;          /* the recommended point, else the closest */
  gint         next;         /* the next smaller configuration, -1: none */
  const gchar *scenario;
  gchar       *ref_label;    /* "recommended: nodes=4 jobs_per_logical=7" */
  gchar       *next_label;   /* "next smaller: nodes=3 ..." or NULL */
} Report;

/* A point's metrics on seed @seed; @point < 0 is the baseline. */
JsonObject *mn_report_run (Report *r, gint point, guint seed);
JsonObject *mn_report_point (Report *r, gint point);

gdouble      mn_report_num (JsonObject *obj, const gchar *path);
const gchar *mn_report_str (JsonObject *obj, const gchar *path);

/* A number of the metrics at @path, over the seeds. */
MnRange  mn_report_path_range (Report *r, gint point, const gchar *path);
MnRange  mn_report_metric_range (Report *r, gint point, MnMetric metric);
MnRange  mn_report_figure_range (Report *r, gint point, MnFigure figure);
/* A number of each seed's run metrics at a dotted @path (NaN where absent). */
MnRange  mn_report_run_range (Report *r, gint point, const gchar *path);
/* Element @i of the series at @path, over the seeds; NAN when absent.
 * With @divide_by (a path, may be NULL): each seed's value over that
 * seed's number there. */
MnRange  mn_report_series_range (Report *r, gint point, const gchar *path, guint i,
                                 const gchar *divide_by);
/* The longest length of the series at @path over the seeds (0: absent). */
guint    mn_report_series_length (Report *r, gint point, const gchar *path);
/* The strings of the series at @path on the first seed that has it. */
GPtrArray *mn_report_labels (Report *r, gint point, const gchar *path);

/* "97.30%", "1.5 h", "12 kills" */
gchar   *mn_report_value (const gchar *unit, gdouble v);
/* "97.30% (95.10-98.00%)": the median, and the range when it has one */
gchar   *mn_report_range_text (Report *r, const gchar *unit, const MnRange *range);

/* plots/NAME with @text; the plot PNG+SVG through gnuplot.  @vars are
 * name, value pairs ending in NULL; names starting with '#' are numbers. */
gboolean mn_report_write_data (Report *r, const gchar *name, GString *text, GError **error);
gboolean mn_report_plot (Report *r, const gchar *script, const gchar *out_base,
                         const gchar *const *vars, GError **error);
/* A data value: NaN for gnuplot's missing. */
gchar   *mn_report_fmt (gdouble v);
/* TAB-separated numbers and a newline. */
void     mn_report_row (GString *out, guint n, ...);
void     mn_report_range_cols (GString *out, const MnRange *range, gdouble scale);

/* Every plot's data file and picture; what the page shows is in
 * mn-report-html.c.  Plots without data (no logged waits, say) are left
 * out: @shown lists the base names drawn. */
gboolean mn_report_plots (Report *r, GPtrArray *shown, GError **error);
gboolean mn_report_html (Report *r, GPtrArray *shown, GError **error);

G_END_DECLS
