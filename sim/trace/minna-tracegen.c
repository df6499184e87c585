/* minna-tracegen: writes a TSUBAME3-style world, April 2019 to August 2020
 * by default (see traces/README.md for the model and every knob). */
#define G_LOG_DOMAIN "minna-tracegen"

#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mn-config-cli.h"
#include "mn-trace-gen.h"
#include "mn-trace-writer.h"

int
main (int argc, char **argv)
{
  g_autoptr(MnCli) cli = NULL;
  gint status;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  g_autofree gchar *format_text = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *note = NULL;
  MnTraceGenOptions options;
  MnTraceHeader header;
  MnTraceFormat format;
  gint64 seed = 1;
  gint year = 2019, nodes = 540, months = 17;
  double load = 1.0;
  gboolean no_batch = FALSE, no_interactive = FALSE, no_maintenance = FALSE, no_limits = FALSE;
  MnTraceGenOptions d;
  g_autofree gchar *lectures = NULL;
  gint trial_start, regular_users, regular_users_next, busy_cores, busy_cores_heavy;
  double demand, lecture_size, webapp_share, webapp_to_allq, gpu_share, gpu_memory_mb,
         tail_share, tail_alpha, busy_share;

  mn_trace_gen_options_init (&d);
  trial_start = d.trial_start;
  regular_users = (gint) d.regular_users;
  regular_users_next = (gint) d.regular_users_next;
  busy_cores = (gint) d.busy_cores;
  busy_cores_heavy = (gint) d.busy_cores_heavy;
  demand = d.interactive_demand;
  lecture_size = d.lecture_size;
  webapp_share = d.webapp_share;
  webapp_to_allq = d.webapp_to_allq;
  gpu_share = d.gpu_share;
  gpu_memory_mb = d.gpu_memory_mb;
  tail_share = d.memory_tail_share;
  tail_alpha = d.memory_tail_alpha;
  busy_share = d.busy_share;
  const GOptionEntry entries[] = {
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 1)", "N" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, "native (default), swf or sge", "FORMAT" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output file, '-' for stdout; "
      "a .gz name is compressed", "FILE" },
    { "fiscal-year", 0, 0, G_OPTION_ARG_INT, &year, "Start in April of YEAR (default 2019)",
      "YEAR" },
    { "months", 0, 0, G_OPTION_ARG_INT, &months, "Months from that April (default 17: to "
      "August of the next year; 12 = one fiscal year)", "N" },
    { "nodes", 0, 0, G_OPTION_ARG_INT, &nodes, "Machine size in nodes (default 540)", "N" },
    { "load", 0, 0, G_OPTION_ARG_DOUBLE, &load, "Scale the monthly batch load (default 1.0)",
      "X" },
    { "no-batch", 0, 0, G_OPTION_ARG_NONE, &no_batch, "Interactive sessions only", NULL },
    { "no-interactive", 0, 0, G_OPTION_ARG_NONE, &no_interactive, "Batch jobs only", NULL },
    { "no-maintenance", 0, 0, G_OPTION_ARG_NONE, &no_maintenance, "No maintenance periods", NULL },
    { "no-limits", 0, 0, G_OPTION_ARG_NONE, &no_limits, "No per-user running caps in the header",
      NULL },
    { "trial-start", 0, 0, G_OPTION_ARG_INT, &trial_start, "interactive.q trial starts (default "
      "201911)", "YYYYMM" },
    { "interactive-demand", 0, 0, G_OPTION_ARG_DOUBLE, &demand, "x the regular users' launch "
      "rate (default 1)", "X" },
    { "regular-users", 0, 0, G_OPTION_ARG_INT, &regular_users, "Regular users in the first "
      "fiscal year (default 54)", "N" },
    { "regular-users-next", 0, 0, G_OPTION_ARG_INT, &regular_users_next, "New regular users "
      "in the next (default 14)", "N" },
    { "lectures", 0, 0, G_OPTION_ARG_STRING, &lectures, "Weekly lectures 'DAY HOUR[:ROSTER"
      "[:GPU_SHARE]], ...' (default '" MN_TRACE_GEN_DEFAULT_LECTURES "'; '' = none)", "LIST" },
    { "lecture-size", 0, 0, G_OPTION_ARG_DOUBLE, &lecture_size, "x every roster (default 1)",
      "X" },
    { "webapp-share", 0, 0, G_OPTION_ARG_DOUBLE, &webapp_share, "Web apps among interactive.q "
      "jobs (default 0.30)", "X" },
    { "webapp-to-allq", 0, 0, G_OPTION_ARG_DOUBLE, &webapp_to_allq, "Web-app launches sent to "
      "all.q (default 0.20)", "X" },
    { "gpu-share", 0, 0, G_OPTION_ARG_DOUBLE, &gpu_share, "Sessions of regular users that use "
      "a GPU (default 0.30)", "X" },
    { "gpu-memory", 0, 0, G_OPTION_ARG_DOUBLE, &gpu_memory_mb, "Median GPU memory of a GPU "
      "session, MiB (default 2500)", "MB" },
    { "memory-tail-share", 0, 0, G_OPTION_ARG_DOUBLE, &tail_share, "Sessions in the Pareto "
      "memory tail (default 0.12)", "X" },
    { "memory-tail-alpha", 0, 0, G_OPTION_ARG_DOUBLE, &tail_alpha, "Its exponent (default 1.1)",
      "A" },
    { "busy-share", 0, 0, G_OPTION_ARG_DOUBLE, &busy_share, "Sessions with a busy CPU "
      "(default 0.15)", "X" },
    { "busy-cores", 0, 0, G_OPTION_ARG_INT, &busy_cores, "Cores a session keeps busy while "
      "active (default 1)", "N" },
    { "busy-cores-heavy", 0, 0, G_OPTION_ARG_INT, &busy_cores_heavy, "... in busy sessions "
      "(default 4)", "N" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  cli = mn_cli_new ("minna-tracegen", NULL, "Generate a TSUBAME3-style year of jobs.", NULL, TRUE);
  mn_cli_add_entries (cli, entries);
  g_option_context_set_description (cli->context,
    "Deterministic from --seed.  Example:\n"
    "  minna-tracegen --seed 1 --format native --out year.native.gz\n");
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE ||
      (status = mn_cli_check_args (cli, argc, argv, 0, 0, NULL)) != MN_CLI_CONTINUE)
    return status;
  if (out == NULL)
    return mn_cli_usage_error ("minna-tracegen", "--out FILE is required ('-' for stdout)");
  if (!mn_trace_format_from_string (format_text != NULL ? format_text : "native", &format,
                                    &error) ||
      (format != MN_TRACE_FORMAT_NATIVE && format != MN_TRACE_FORMAT_SWF &&
       format != MN_TRACE_FORMAT_SGE))
    return mn_cli_usage_error ("minna-tracegen", "--format: %s",
                               error != NULL ? error->message : "expected native, swf or sge");
  if (seed < 0 || nodes < 1 || nodes > 100000 || year < 1970 || year > 2200 ||
      !(load > 0 && load <= 10) || months < 1 || regular_users < 0 || regular_users_next < 0 ||
      busy_cores < 1 || busy_cores_heavy < 1)
    return mn_cli_usage_error ("minna-tracegen", "--seed must be >= 0, --nodes 1..100000, "
                               "--fiscal-year 1970..2200, --months >= 1, --load in (0, 10], "
                               "user counts >= 0, busy cores >= 1");

  options = d;
  options.seed = (guint64) seed;
  options.fiscal_year = year;
  options.months = (guint) months;
  options.nodes = (guint) nodes;
  options.load_scale = load;
  options.batch = !no_batch;
  options.interactive = !no_interactive;
  options.maintenance = !no_maintenance;
  options.limits = !no_limits;
  options.trial_start = trial_start;
  options.interactive_demand = demand;
  options.regular_users = (guint) regular_users;
  options.regular_users_next = (guint) regular_users_next;
  options.lectures = lectures;
  options.lecture_size = lecture_size;
  options.webapp_share = webapp_share;
  options.webapp_to_allq = webapp_to_allq;
  options.gpu_share = gpu_share;
  options.gpu_memory_mb = gpu_memory_mb;
  options.memory_tail_share = tail_share;
  options.memory_tail_alpha = tail_alpha;
  options.busy_share = busy_share;
  options.busy_cores = (guint) busy_cores;
  options.busy_cores_heavy = (guint) busy_cores_heavy;
  if (!mn_trace_gen_options_validate (&options, &error))
    return mn_cli_usage_error ("minna-tracegen", "%s", error->message);
  jobs = mn_trace_generate (&options, &header);
  {
    /* Any knob besides the ones the note names makes a different world. */
    MnTraceGenOptions k = options;

    k.seed = d.seed;
    k.fiscal_year = d.fiscal_year;
    k.months = d.months;
    k.nodes = d.nodes;
    k.lectures = NULL;
    note = g_strdup_printf ("minna-tracegen --seed %" G_GINT64_FORMAT " --fiscal-year %d "
                            "--months %d --nodes %d%s: a TSUBAME3-style world, not a real log",
                            seed, year, months, nodes,
                            memcmp (&k, &d, sizeof d) != 0 || lectures != NULL
                            ? " (knobs set)" : "");
  }
  if (!mn_trace_save (out, format, jobs, &header, note, &error))
    {
      fprintf (stderr, "minna-tracegen: %s\n", error->message);
      mn_trace_header_clear (&header);
      return 1;
    }
  mn_trace_header_clear (&header);
  return 0;
}
