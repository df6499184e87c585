/* mn-report.h: from a sweep's results.json to plots (gnuplot, PNG and SVG)
 * and one report.html that reads offline.  The gnuplot scripts are files in
 * reports/ (data in, picture out); this code writes their data files and
 * runs them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_REPORT_ERROR (mn_report_error_quark ())
GQuark mn_report_error_quark (void);

typedef enum {
  MN_REPORT_ERROR_IO,
  MN_REPORT_ERROR_BAD_RESULTS,  /* results.json missing a member (named) */
  MN_REPORT_ERROR_GNUPLOT,      /* gnuplot missing or failed (its stderr) */
} MnReportError;

typedef struct {
  const gchar *results_dir;   /* holds results.json; report.html goes here */
  const gchar *scripts_dir;   /* the .gp files; NULL = built-in default */
  const gchar *gnuplot;       /* NULL = "gnuplot" from PATH */
  gboolean     quiet;
} MnReportOptions;

/* Writes RESULTS_DIR/plots/{*.dat,*.png,*.svg} and RESULTS_DIR/report.html. */
gboolean mn_report_render (const MnReportOptions *options, GError **error);

/* The scripts' directory when none is given: the source tree's reports/
 * while it is there (a build), else the installed copy. */
const gchar *mn_report_default_scripts_dir (void);

G_END_DECLS
