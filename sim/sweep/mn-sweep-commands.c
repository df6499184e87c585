/* mn-sweep-commands.c: the command lines of `minna-sim run` and `merge`. */
#define G_LOG_DOMAIN "minna-sweep"

#include <stdio.h>
#include <string.h>

#include "mn-sweep-commands.h"
#include "mn-config-cli.h"

/* minna-report sits in the build tree at reports/ beside sim/, and in an
 * install beside minna-sim; MINNA_REPORT overrides both. */
static gchar *
find_minna_report (void)
{
  const gchar *env = g_getenv ("MINNA_REPORT");
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (self != NULL)
    {
      g_autofree gchar *dir = g_path_get_dirname (self);
      const gchar *const tries[] = { "../reports/minna-report", "../../reports/minna-report",
                                     "minna-report" };

      for (gsize i = 0; i < G_N_ELEMENTS (tries); i++)
        {
          g_autofree gchar *path = g_canonicalize_filename (tries[i], dir);

          if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer (&path);
        }
    }
  return g_find_program_in_path ("minna-report");
}

static gboolean
run_report (const gchar *dir, gboolean quiet)
{
  g_autofree gchar *prog = find_minna_report ();
  g_autoptr (GError) error = NULL;
  gint status = 0;
  const gchar *argv[] = { prog, dir, quiet ? "--quiet" : NULL, NULL };

  if (prog == NULL)
    {
      g_printerr ("minna-sim: --report: minna-report not found (set MINNA_REPORT)\n");
      return FALSE;
    }
  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                     NULL, NULL, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("minna-sim: --report: %s: %s\n", prog, error->message);
      return FALSE;
    }
  return TRUE;
}

static int
finish (MnSweepResults *results, const gchar *dir, gboolean report, gboolean quiet)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *summary = NULL;

  if (!mn_sweep_results_write (results, dir, &error))
    {
      g_printerr ("minna-sim: %s\n", error->message);
      return 1;
    }
  summary = mn_sweep_results_summary (results);
  g_print ("%s", summary);
  g_print ("Results: %s/results.json, %s/results.csv\n", dir, dir);
  if (results->recommended >= 0)
    g_print ("Recommended policy: %s/recommended.conf\n", dir);
  if (report)
    {
      if (!run_report (dir, quiet))
        return 1;
      g_print ("Report: %s/report.html\n", dir);
    }
  return results->recommended >= 0 ? 0 : 3;
}

int
mn_sweep_cmd_run_with (int argc, char **argv, MnSweepRunnerNewFunc runner_new)
{
  g_autofree gchar *out = NULL;
  g_autofree gchar *point = NULL;
  g_autofree gchar *emit = NULL;
  g_autofree gchar *seed = NULL;
  g_autofree gchar *seeds = NULL;
  gint jobs = 0;
  gboolean report = FALSE, quiet = FALSE, keys = FALSE;
  const GOptionEntry entries[] = {
    { "keys", 0, 0, G_OPTION_ARG_NONE, &keys, "Print the reference of every scenario key (Markdown) and exit", NULL },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the results here (default reports/out/NAME)", "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Points run at once (default: one per core)", "N" },
    { "report", 0, 0, G_OPTION_ARG_NONE, &report, "Render the report (minna-report) afterwards", NULL },
    { "point", 0, 0, G_OPTION_ARG_STRING, &point, "Run only point K (or 'baseline') into DIR/points/", "K" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed, "With --point and a [world]: on the world of seed S only", "S" },
    { "seeds", 0, 0, G_OPTION_ARG_STRING, &seeds, "A [world]'s seeds instead of the scenario's (1..10, 3,7)", "LIST" },
    { "emit-slurm-array", 0, 0, G_OPTION_ARG_FILENAME, &emit, "Write a Slurm job array for the sweep into DIR", "DIR" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("SCENARIO");
  g_autoptr (GError) error = NULL;
  g_autoptr (MnSweepScenario) scenario = NULL;
  g_autoptr (GPtrArray) points = NULL;
  g_autoptr (MnSweepRunner) runner = NULL;
  g_autoptr (MnSweepResults) results = NULL;

  g_set_prgname ("minna-sim run");
  g_option_context_set_summary (ctx, "Run a sizing sweep.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Exit status: 0 a point meets every target, 3 none does, 1 error, 2 usage.\n"
    "Scenario keys: scenarios/README.md.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      return mn_cli_usage_error ("minna-sim run", "%s", error->message);
    }
  if (keys)
    {
      g_autofree gchar *text = mn_sweep_scenario_describe_keys ();

      g_print ("%s", text);
      return 0;
    }
  if (argc > 2)
    return mn_cli_usage_error ("minna-sim run", "unexpected argument '%s'", argv[2]);
  if (argc != 2)
    return mn_cli_usage_error ("minna-sim run", "expected one SCENARIO");
  if (jobs < 0)
    return mn_cli_usage_error ("minna-sim run", "--jobs must not be negative");
  if (point != NULL && emit != NULL)
    return mn_cli_usage_error ("minna-sim run", "--point and --emit-slurm-array exclude each other");
  if (seed != NULL && point == NULL)
    return mn_cli_usage_error ("minna-sim run", "--seed needs --point");
  scenario = mn_sweep_scenario_load_file (argv[1], &error);
  if (scenario == NULL || (points = mn_sweep_points_expand (scenario, &error)) == NULL
      || (seeds != NULL && !mn_sweep_scenario_set_seeds (scenario, seeds, &error)))
    {
      g_printerr ("minna-sim run: %s\n", error->message);
      return 1;
    }
  if (out == NULL)
    out = g_build_filename ("reports", "out", scenario->name, NULL);

  if (emit != NULL)
    {
      g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);

      if (!mn_sweep_emit_slurm_array (scenario, points, argv[1], self != NULL ? self : "minna-sim",
                                      emit, &error))
        {
          g_printerr ("minna-sim run: %s\n", error->message);
          return 1;
        }
      g_print ("Slurm array of %u points + the baseline: sbatch %s/sweep.sbatch, then "
               "minna-sim merge %s\n", points->len, emit, emit);
      return 0;
    }

  runner = runner_new (scenario, &error);
  if (runner == NULL)
    {
      g_printerr ("minna-sim run: %s\n", error->message);
      return 1;
    }
  if (point != NULL)
    {
      gint64 k = -1;
      guint64 seed_value = 0;
      guint seed_index = 0;

      if (!g_str_equal (point, "baseline")
          && (!g_ascii_string_to_signed (point, 10, 0, G_MAXINT, &k, NULL)))
        return mn_cli_usage_error ("minna-sim run", "--point: '%s' is not a point number or 'baseline'", point);
      if (seed != NULL && !g_ascii_string_to_unsigned (seed, 10, 0, G_MAXUINT64, &seed_value, NULL))
        return mn_cli_usage_error ("minna-sim run", "--seed: '%s' is not a seed number", seed);
      if (scenario->world && seed == NULL && scenario->seeds->len > 1)
        return mn_cli_usage_error ("minna-sim run", "--point on a generated [world] needs --seed S");
      if ((seed != NULL || scenario->world)
          && !mn_sweep_seed_index (scenario, seed != NULL ? seed_value
                                   : g_array_index (scenario->seeds, guint64, 0), &seed_index, &error))
        {
          g_printerr ("minna-sim run: %s\n", error->message);
          return 1;
        }
      if (!mn_sweep_run_one (scenario, points, (gint) k, seed_index, runner, out, &error))
        {
          g_printerr ("minna-sim run: %s\n", error->message);
          return 1;
        }
      return 0;
    }
  results = mn_sweep_run (scenario, points, runner, jobs, quiet, &error);
  if (results == NULL)
    {
      g_printerr ("minna-sim run: %s\n", error->message);
      return 1;
    }
  return finish (results, out, report, quiet);
}

int
mn_sweep_cmd_run (int argc, char **argv)
{
  return mn_sweep_cmd_run_with (argc, argv, mn_sweep_engine_runner_new);
}

int
mn_sweep_cmd_merge (int argc, char **argv)
{
  gboolean report = FALSE, quiet = FALSE;
  const GOptionEntry entries[] = {
    { "report", 0, 0, G_OPTION_ARG_NONE, &report, "Render the report (minna-report) afterwards", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Less output", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR");
  g_autoptr (GError) error = NULL;
  g_autoptr (MnSweepScenario) scenario = NULL;
  g_autoptr (MnSweepResults) results = NULL;

  g_set_prgname ("minna-sim merge");
  g_option_context_set_summary (ctx, "Merge the points of an array sweep.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      return mn_cli_usage_error ("minna-sim merge", "%s", error->message);
    }
  if (argc > 2)
    return mn_cli_usage_error ("minna-sim merge", "unexpected argument '%s'", argv[2]);
  if (argc != 2)
    return mn_cli_usage_error ("minna-sim merge", "expected one DIR");
  results = mn_sweep_merge (argv[1], &scenario, &error);
  if (results == NULL)
    {
      g_printerr ("minna-sim merge: %s\n", error->message);
      return 1;
    }
  return finish (results, argv[1], report, quiet);
}
