/* mn-sim-cmd-replay.c: `minna-sim replay TRACE ...`, a thin command line over
 * mn_sim_run(). */
#define G_LOG_DOMAIN "minna-sim"

#include <stdio.h>

#include "mn-sim-commands.h"
#include "mn-sim-engine.h"
#include "mn-trace-reader.h"
#include "mn-config-cli.h"

typedef struct {
  gint64   t_start;      /* monotonic, µs */
  gint64   t_last;
  gboolean shown;
  gboolean quiet;
  const gchar *what;
} Progress;

/* Percent of the trace's time span and an ETA, once the run has taken more
 * than a second; redrawn at most four times a second. */
static void
progress_cb (double fraction, gpointer user_data)
{
  Progress *p = user_data;
  if (p->quiet)
    return;
  gint64 now = g_get_monotonic_time ();
  gint64 elapsed = now - p->t_start;
  if (elapsed < G_USEC_PER_SEC || (now - p->t_last < G_USEC_PER_SEC / 4 && fraction < 1.0))
    return;
  p->t_last = now;
  double eta = fraction > 0 ? (double) elapsed / 1e6 * (1.0 - fraction) / fraction : 0;
  fprintf (stderr, "\r%s: %5.1f%% of the trace's time, ETA %.0f s   ", p->what, 100.0 * fraction, eta);
  p->shown = TRUE;
}

static void
progress_done (Progress *p)
{
  if (p->shown)
    fputc ('\n', stderr);
  p->shown = FALSE;
}

int
mn_sim_cmd_replay (int argc, char **argv)
{
  g_autofree gchar *format_text = NULL, *scheduler_text = NULL, *policy_path = NULL;
  g_autofree gchar *jobs_out = NULL, *metrics_out = NULL;
  gint64 procs = 0, nodes = 0, interactive_nodes = -1, retry_delay = 0;
  gint max_retries = 3;
  gboolean quiet = FALSE, baseline = FALSE, no_caps = FALSE, no_maintenance = FALSE, strict = FALSE;
  gint64 user_jobs = -1, user_cores = -1, group_jobs = -1, group_cores = -1;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "Trace format (default: detected)", "swf|sge|sacct|native" },
    { "scheduler", 0, 0, G_OPTION_ARG_STRING, &scheduler_text, "all.q scheduler (default easy)", "easy|fcfs" },
    { "procs", 0, 0, G_OPTION_ARG_INT64, &procs, "Processor-count mode with N processors (default: the trace's MaxProcs)", "N" },
    { "nodes", 0, 0, G_OPTION_ARG_INT64, &nodes, "Node mode: nodes of the whole machine (default: MaxNodes, else 540)", "N" },
    { "interactive-nodes", 0, 0, G_OPTION_ARG_INT64, &interactive_nodes, "Nodes carved out for interactive.q; 0 = baseline (default: the policy's)", "N" },
    { "policy", 0, 0, G_OPTION_ARG_FILENAME, &policy_path, "interactive.conf (default: TSUBAME3)", "FILE" },
    { "jobs-out", 0, 0, G_OPTION_ARG_FILENAME, &jobs_out, "Per-job CSV (required)", "FILE.csv" },
    { "metrics-out", 0, 0, G_OPTION_ARG_FILENAME, &metrics_out, "Metrics JSON", "FILE.json" },
    { "baseline", 0, 0, G_OPTION_ARG_NONE, &baseline, "Also replay with --interactive-nodes 0 and report it and the differences", NULL },
    { "retry-delay", 0, 0, G_OPTION_ARG_INT64, &retry_delay, "Give-up requests refused as busy are retried after S seconds (default: never)", "S" },
    { "max-retries", 0, 0, G_OPTION_ARG_INT, &max_retries, "Retries per request with --retry-delay (default 3)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &strict, "Fail on the first unreadable line of the trace", NULL },
    { "user-max-jobs", 0, 0, G_OPTION_ARG_INT64, &user_jobs, "all.q cap: running jobs per user (0 = none; any cap option replaces the trace's limits)", "N" },
    { "user-max-cores", 0, 0, G_OPTION_ARG_INT64, &user_cores, "all.q cap: running cores (processors) per user", "N" },
    { "group-max-jobs", 0, 0, G_OPTION_ARG_INT64, &group_jobs, "all.q cap: running jobs per group", "N" },
    { "group-max-cores", 0, 0, G_OPTION_ARG_INT64, &group_cores, "all.q cap: running cores (processors) per group", "N" },
    { "no-caps", 0, 0, G_OPTION_ARG_NONE, &no_caps, "Ignore the trace's all.q limits: plain EASY/FCFS", NULL },
    { "no-maintenance", 0, 0, G_OPTION_ARG_NONE, &no_maintenance, "Ignore the trace's maintenance windows", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, "TRACE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx, "Replay a trace on all.q and interactive.q.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
      "Writes one CSV row per job (sorted by job id) and, with --metrics-out, the metrics\n"
      "JSON; both are documented in sim/engine/README.md.");
  g_autoptr(GError) error = NULL;
  g_autofree gchar *prgname = g_strdup ("minna-sim replay");
  argv[0] = prgname;
  g_set_prgname (prgname);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      return mn_cli_usage_error ("minna-sim replay", "%s", error->message);
    }
  if (rest != NULL && g_strv_length (rest) > 1)
    return mn_cli_usage_error ("minna-sim replay", "expected exactly one TRACE: unexpected argument '%s'", rest[1]);
  if (rest == NULL || g_strv_length (rest) != 1)
    return mn_cli_usage_error ("minna-sim replay", "expected exactly one TRACE");
  if (jobs_out == NULL)
    return mn_cli_usage_error ("minna-sim replay", "--jobs-out FILE.csv is required");
  if (max_retries < 0)
    return mn_cli_usage_error ("minna-sim replay", "--max-retries must not be negative");

  MnTraceFormat format = MN_TRACE_FORMAT_AUTO;
  MnSimConfig config;
  mn_sim_config_init (&config);
  if ((format_text != NULL && !mn_trace_format_from_string (format_text, &format, &error))
      || (scheduler_text != NULL && !mn_sim_scheduler_from_string (scheduler_text, &config.scheduler, &error)))
    return mn_cli_usage_error ("minna-sim replay", "%s", error->message);
  g_autoptr(MnPolicyConfig) policy = NULL;
  if (policy_path != NULL)
    {
      g_autofree gchar *text = NULL;
      gsize len;
      if (!g_file_get_contents (policy_path, &text, &len, &error)
          || (policy = mn_policy_config_load_data (text, len, policy_path, &error)) == NULL)
        {
          fprintf (stderr, "minna-sim replay: %s\n", error->message);
          return 1;
        }
    }
  config.policy = policy;
  config.procs = procs;
  config.machine_nodes = nodes;
  config.interactive_nodes = interactive_nodes;
  config.retry_delay = retry_delay;
  config.maintenance = !no_maintenance;
  if (user_jobs >= 0 || user_cores >= 0 || group_jobs >= 0 || group_cores >= 0)
    {
      if (no_caps || user_jobs > G_MAXUINT32 || group_jobs > G_MAXUINT32)
        return mn_cli_usage_error ("minna-sim replay", "--no-caps and the --*-max-* caps exclude"
                                   " each other; job caps must be below 2^32");
      config.caps_mode = MN_SIM_CAPS_FIXED;
      config.caps.user_jobs = (guint32) MAX (user_jobs, 0);
      config.caps.user_cores = (guint64) MAX (user_cores, 0);
      config.caps.group_jobs = (guint32) MAX (group_jobs, 0);
      config.caps.group_cores = (guint64) MAX (group_cores, 0);
    }
  else if (no_caps)
    config.caps_mode = MN_SIM_CAPS_OFF;
  config.max_retries = retry_delay > 0 ? (guint) max_retries : 0;

  g_autoptr(MnSimWorkload) w = mn_sim_workload_load (rest[0], format, strict, &error);
  if (w == NULL)
    {
      fprintf (stderr, "minna-sim replay: %s\n", error->message);
      return 1;
    }
  /* What reading decided is said whatever --quiet says: it changes results. */
  const MnSimTraceStats *stats = mn_sim_workload_get_trace_stats (w);
  if (stats->skipped_lines > 0)
    fprintf (stderr, "minna-sim replay: %s: %" G_GUINT64_FORMAT " unreadable lines skipped "
             "(the first: %s; 'minna-sim summary' lists them; --strict refuses them)\n",
             rest[0], stats->skipped_lines, (const gchar *) g_ptr_array_index (stats->skipped, 0));
  for (guint i = 0; i < stats->notes->len; i++)
    fprintf (stderr, "minna-sim replay: %s: %s\n", rest[0], (const gchar *) g_ptr_array_index (stats->notes, i));

  Progress prog = { g_get_monotonic_time (), 0, FALSE, quiet, "replay" };
  g_autoptr(MnSimResult) result = mn_sim_run (w, &config, progress_cb, &prog, NULL, &error);
  progress_done (&prog);
  if (result == NULL)
    {
      fprintf (stderr, "minna-sim replay: %s: %s\n", rest[0], error->message);
      return 1;
    }
  g_autoptr(MnSimResult) base = NULL;
  if (baseline)
    {
      MnSimConfig bconfig = config;
      bconfig.interactive_nodes = 0;
      bconfig.keep_jobs = FALSE;
      prog = (Progress) { g_get_monotonic_time (), 0, FALSE, quiet, "baseline" };
      base = mn_sim_run (w, &bconfig, progress_cb, &prog, NULL, &error);
      progress_done (&prog);
      if (base == NULL)
        {
          fprintf (stderr, "minna-sim replay: baseline: %s\n", error->message);
          return 1;
        }
    }
  if (!mn_sim_result_write_jobs_csv (result, jobs_out, &error)
      || (metrics_out != NULL && !mn_sim_result_write_json (result, base, metrics_out, &error)))
    {
      fprintf (stderr, "minna-sim replay: %s\n", error->message);
      return 1;
    }
  return 0;
}
