/* minna-report: render a sweep's results (results.json) as plots and one
 * report.html that reads offline. */
#define G_LOG_DOMAIN "minna-report"

#include <locale.h>

#include "mn-config-cli.h"
#include "mn-report.h"

int
main (int argc, char **argv)
{
  g_autofree gchar *scripts = NULL;
  g_autofree gchar *gnuplot = NULL;
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
    { "scripts", 0, 0, G_OPTION_ARG_FILENAME, &scripts, "Directory of the gnuplot scripts (default: $MINNA_REPORT_SCRIPTS, else "
      MN_REPORT_SCRIPTS_DIR " while it is there, else " MN_REPORT_SCRIPTS_INSTALL_DIR ")", "DIR" },
    { "gnuplot", 0, 0, G_OPTION_ARG_FILENAME, &gnuplot, "The gnuplot to run (default: gnuplot from PATH)", "PATH" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Do not list the files written", NULL },
    { NULL }
  };
  g_autoptr (MnCli) cli = NULL;
  g_autoptr (GError) error = NULL;
  MnReportOptions options = { 0 };
  gint status;

  setlocale (LC_ALL, "");
  cli = mn_cli_new ("minna-report", "DIR",
                    "Render a sweep's DIR/results.json as plots and DIR/report.html.", NULL, TRUE);
  mn_cli_add_entries (cli, entries);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE ||
      (status = mn_cli_check_args (cli, argc, argv, 1, 1, "expected the sweep's DIR")) != MN_CLI_CONTINUE)
    return status;
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
