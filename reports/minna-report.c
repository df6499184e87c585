/* minna-report: render a sweep's results (results.json) as plots and one
 * report.html that reads offline. */
#define G_LOG_DOMAIN "minna-report"

#include <locale.h>

#include "mn-report.h"

int
main (int argc, char **argv)
{
  g_autofree gchar *scripts = NULL;
  g_autofree gchar *gnuplot = NULL;
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
    { "scripts", 0, 0, G_OPTION_ARG_FILENAME, &scripts, "Directory of the gnuplot scripts (default: " MN_REPORT_SCRIPTS_DIR ")", "DIR" },
    { "gnuplot", 0, 0, G_OPTION_ARG_FILENAME, &gnuplot, "The gnuplot to run (default: gnuplot from PATH)", "PATH" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Do not list the files written", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR - render DIR/results.json as DIR/report.html");
  g_autoptr (GError) error = NULL;
  MnReportOptions options = { 0 };

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("minna-report: %s\n", error->message);
      return 2;
    }
  if (argc != 2)
    {
      g_printerr ("Usage: minna-report DIR [--scripts DIR] [--gnuplot PATH] [--quiet]\n");
      return 2;
    }
  options.results_dir = argv[1];
  options.scripts_dir = scripts != NULL ? scripts : g_getenv ("MINNA_REPORT_SCRIPTS");
  options.gnuplot = gnuplot != NULL ? gnuplot : g_getenv ("GNUPLOT");
  options.quiet = quiet;
  if (!mn_report_render (&options, &error))
    {
      g_printerr ("minna-report: %s\n", error->message);
      return 1;
    }
  return 0;
}
