/* minna-tracegen: writes a TSUBAME3-style year (see traces/README.md). */
#define G_LOG_DOMAIN "minna-tracegen"

#include <glib.h>
#include <locale.h>
#include <stdio.h>

#include "mn-trace-gen.h"
#include "mn-trace-writer.h"

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  g_autofree gchar *format_text = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *note = NULL;
  MnTraceGenOptions options;
  MnTraceHeader header;
  MnTraceFormat format;
  gint64 seed = 1;
  gint year = 2019, nodes = 540;
  double load = 1.0;
  gboolean no_batch = FALSE, no_interactive = FALSE;
  const GOptionEntry entries[] = {
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 1)", "N" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, "native (default), swf or sge", "FORMAT" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output file, '-' for stdout; "
      "a .gz name is compressed", "FILE" },
    { "fiscal-year", 0, 0, G_OPTION_ARG_INT, &year, "Fiscal year: April of YEAR to March "
      "(default 2019)", "YEAR" },
    { "nodes", 0, 0, G_OPTION_ARG_INT, &nodes, "Machine size in nodes (default 540)", "N" },
    { "load", 0, 0, G_OPTION_ARG_DOUBLE, &load, "Scale the monthly batch load (default 1.0)",
      "X" },
    { "no-batch", 0, 0, G_OPTION_ARG_NONE, &no_batch, "Interactive sessions only", NULL },
    { "no-interactive", 0, 0, G_OPTION_ARG_NONE, &no_interactive, "Batch jobs only", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- generate a TSUBAME3-style year of jobs");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Deterministic from --seed.  Example:\n"
    "  minna-tracegen --seed 1 --format native --out year.native.gz\n");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "minna-tracegen: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      fprintf (stderr, "minna-tracegen: unexpected argument '%s'\n", argv[1]);
      return 2;
    }
  if (out == NULL)
    {
      fprintf (stderr, "minna-tracegen: --out FILE is required ('-' for stdout)\n");
      return 2;
    }
  if (!mn_trace_format_from_string (format_text != NULL ? format_text : "native", &format,
                                    &error) ||
      (format != MN_TRACE_FORMAT_NATIVE && format != MN_TRACE_FORMAT_SWF &&
       format != MN_TRACE_FORMAT_SGE))
    {
      fprintf (stderr, "minna-tracegen: --format: %s\n",
               error != NULL ? error->message : "expected native, swf or sge");
      return 2;
    }
  if (seed < 0 || nodes < 1 || nodes > 100000 || year < 1970 || year > 2200 ||
      !(load > 0 && load <= 10))
    {
      fprintf (stderr, "minna-tracegen: --seed must be >= 0, --nodes 1..100000, "
               "--fiscal-year 1970..2200, --load in (0, 10]\n");
      return 2;
    }

  mn_trace_gen_options_init (&options);
  options.seed = (guint64) seed;
  options.fiscal_year = year;
  options.nodes = (guint) nodes;
  options.load_scale = load;
  options.batch = !no_batch;
  options.interactive = !no_interactive;
  jobs = mn_trace_generate (&options, &header);
  note = g_strdup_printf ("minna-tracegen --seed %" G_GINT64_FORMAT " --fiscal-year %d "
                          "--nodes %d%s: a TSUBAME3-style year, not a real log", seed, year,
                          nodes, load != 1.0 ? " (load scaled)" : "");
  if (!mn_trace_save (out, format, jobs, &header, note, &error))
    {
      fprintf (stderr, "minna-tracegen: %s\n", error->message);
      mn_trace_header_clear (&header);
      return 1;
    }
  mn_trace_header_clear (&header);
  return 0;
}
