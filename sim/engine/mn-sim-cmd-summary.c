/* mn-sim-cmd-summary.c: `minna-sim summary TRACE`: what a trace holds
 * (mn-trace-summary.c) and, when the trace logs start times, how far a
 * replay under EASY is from the site's own scheduler (issue 16): the
 * replayed waits of all.q beside the logged ones, over the trace and by
 * month (the metrics' batch.logged and batch.by_month[].logged). */
#define G_LOG_DOMAIN "minna-sim"

#include <stdio.h>

#include "mn-sim-commands.h"
#include "mn-sim-engine.h"
#include "mn-trace-summary.h"
#include "mn-config-cli.h"

static void
add_comparison (JsonBuilder *b, guint64 jobs, double rm, double rmed, double rp95, double lm,
                double lmed, double lp95)
{
  json_builder_set_member_name (b, "jobs");
  json_builder_add_int_value (b, (gint64) jobs);
  const struct { const gchar *name; double v; } f[] = {
    { "replay_wait_mean", rm }, { "replay_wait_median", rmed }, { "replay_wait_p95", rp95 },
    { "logged_wait_mean", lm }, { "logged_wait_median", lmed }, { "logged_wait_p95", lp95 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (f); i++)
    {
      json_builder_set_member_name (b, f[i].name);
      json_builder_add_double_value (b, f[i].v);
    }
}

/* "validation": { "scheduler": "easy", "jobs", replay_/logged_wait_mean,
 * _median, _p95, "by_month": [ { "month", the same } ] } or { "note" }. */
static void
add_validation_json (JsonObject *root, MnSimResult *replay, const gchar *note)
{
  if (replay == NULL && note == NULL)
    return;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (replay == NULL)
    {
      json_builder_set_member_name (b, "note");
      json_builder_add_string_value (b, note);
    }
  else
    {
      const MnSimBatchMetrics *m = &mn_sim_result_get_metrics (replay)->batch;
      const MnSimLogComparison *l = &m->logged;
      json_builder_set_member_name (b, "scheduler");
      json_builder_add_string_value (b, "easy");
      add_comparison (b, l->jobs, l->replay_wait_mean, l->replay_wait_median, l->replay_wait_p95,
                      l->logged_wait_mean, l->logged_wait_median, l->logged_wait_p95);
      json_builder_set_member_name (b, "by_month");
      json_builder_begin_array (b);
      for (guint i = 0; i < m->by_month->len; i++)
        {
          const MnSimMonth *mo = &g_array_index (m->by_month, MnSimMonth, i);
          g_autofree gchar *name = g_strdup_printf ("%04d-%02d", mo->year, mo->month);
          if (mo->logged_jobs == 0)
            continue;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "month");
          json_builder_add_string_value (b, name);
          add_comparison (b, mo->logged_jobs, mo->replay_wait_mean, mo->replay_wait_median,
                          mo->replay_wait_p95, mo->logged_wait_mean, mo->logged_wait_median,
                          mo->logged_wait_p95);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  json_object_set_member (root, "validation", json_builder_get_root (b));
}

static void
print_validation (MnSimResult *replay, const gchar *note)
{
  if (replay == NULL)
    {
      if (note != NULL)
        printf ("logged waits:        %s\n", note);
      return;
    }
  const MnSimBatchMetrics *m = &mn_sim_result_get_metrics (replay)->batch;
  const MnSimLogComparison *l = &m->logged;
  printf ("logged vs replayed waits (all.q under EASY, %" G_GUINT64_FORMAT " jobs with a logged start):\n",
          l->jobs);
  printf ("  %-8s %8s %12s %12s %12s %12s %12s %12s\n", "month", "jobs", "logged mean",
          "replay mean", "logged p50", "replay p50", "logged p95", "replay p95");
  printf ("  %-8s %8" G_GUINT64_FORMAT " %11.0fs %11.0fs %11.0fs %11.0fs %11.0fs %11.0fs\n", "all",
          l->jobs, l->logged_wait_mean, l->replay_wait_mean, l->logged_wait_median,
          l->replay_wait_median, l->logged_wait_p95, l->replay_wait_p95);
  for (guint i = 0; i < m->by_month->len; i++)
    {
      const MnSimMonth *mo = &g_array_index (m->by_month, MnSimMonth, i);
      if (mo->logged_jobs == 0)
        continue;
      printf ("  %04d-%02d  %8" G_GUINT64_FORMAT " %11.0fs %11.0fs %11.0fs %11.0fs %11.0fs %11.0fs\n",
              mo->year, mo->month, mo->logged_jobs, mo->logged_wait_mean, mo->replay_wait_mean,
              mo->logged_wait_median, mo->replay_wait_median, mo->logged_wait_p95,
              mo->replay_wait_p95);
    }
}

int
mn_sim_cmd_summary (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceSummary) summary = NULL;
  g_autofree gchar *format_text = NULL;
  g_auto(GStrv) args = NULL;
  gboolean strict = FALSE, json = FALSE, no_replay = FALSE;
  gint64 nodes = 0, procs = 0;
  MnTraceFormat format = MN_TRACE_FORMAT_AUTO;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text,
      "swf, sge, sacct or native (default: detected from the content)", "FORMAT" },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &strict,
      "Stop with exit status 1 at the first bad line", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "nodes", 0, 0, G_OPTION_ARG_INT64, &nodes,
      "Machine size in nodes, if the trace does not say", "N" },
    { "procs", 0, 0, G_OPTION_ARG_INT64, &procs,
      "Machine size in processors, if the trace does not say", "N" },
    { "no-replay", 0, 0, G_OPTION_ARG_NONE, &no_replay,
      "Do not replay a trace with logged start times to compare the waits", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args, NULL, NULL },
    { NULL }
  };

  g_set_prgname ("minna-sim summary");
  context = g_option_context_new ("TRACE");
  g_option_context_set_summary (context, "What a trace holds.");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "TRACE may be gzip-compressed; '-' reads standard input.  Skipped lines are\n"
    "listed as FILE:LINE: reason.  When the trace logs start times (SWF wait,\n"
    "Grid Engine start_time, sacct Start), it is also replayed under EASY on the\n"
    "same machine and the replayed waits of all.q are set beside the logged ones\n"
    "(mean, median, p95, by month).  Exit status: 0 read, 1 unreadable (or a bad\n"
    "line with --strict), 2 bad arguments.\n");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      return mn_cli_usage_error ("minna-sim summary", "%s", error->message);
    }
  if (args != NULL && g_strv_length (args) > 1)
    return mn_cli_usage_error ("minna-sim summary", "expected one TRACE: unexpected argument '%s'", args[1]);
  if (args == NULL || g_strv_length (args) != 1)
    return mn_cli_usage_error ("minna-sim summary", "expected one TRACE");
  if (format_text != NULL && !mn_trace_format_from_string (format_text, &format, &error))
    return mn_cli_usage_error ("minna-sim summary", "--format: %s", error->message);
  if (nodes < 0 || procs < 0)
    return mn_cli_usage_error ("minna-sim summary", "--nodes and --procs must be positive");
  summary = mn_trace_summarize (args[0], format, strict, nodes, procs, &error);
  if (summary == NULL)
    {
      fprintf (stderr, "minna-sim summary: %s\n", error->message);
      return 1;
    }
  /* Validation against the log: the same trace replayed, its waits beside
   * the logged ones.  Reading stdin twice is not possible: no replay then. */
  g_autoptr(MnSimResult) replay = NULL;
  g_autofree gchar *replay_note = NULL;
  if (summary->logged_starts > 0 && !no_replay && g_strcmp0 (args[0], "-") != 0)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(MnSimWorkload) w = mn_sim_workload_load (args[0], summary->format, strict, &local);
      MnSimConfig config;

      mn_sim_config_init (&config);
      config.procs = procs;
      config.machine_nodes = nodes;
      config.interactive_nodes = 0;
      config.keep_jobs = FALSE;
      if (w != NULL)
        replay = mn_sim_run (w, &config, NULL, NULL, NULL, &local);
      if (replay == NULL)
        replay_note = g_strdup_printf ("not replayed: %s", local->message);
    }
  if (json)
    {
      g_autoptr(JsonNode) root = mn_trace_summary_to_json (summary);
      g_autofree gchar *text = NULL;

      add_validation_json (json_node_get_object (root), replay, replay_note);
      text = json_to_string (root, TRUE);
      printf ("%s\n", text);
    }
  else
    {
      g_autofree gchar *text = mn_trace_summary_to_text (summary);

      fputs (text, stdout);
      print_validation (replay, replay_note);
    }
  return 0;
}
