/* minna-twin: the twin suite's pieces for scripts (the Slurm and Grid
 * Engine twins may drive their scheduler from a shell script):
 *
 *   minna-twin check SCENARIO            "SCENARIO: OK" or the error (exit 1)
 *   minna-twin sim SCENARIO              the model's rows as TSV on stdout
 *   minna-twin policy SCENARIO           the scenario's policy as an interactive.conf (what
 *                                        the scheduler twins export and give the controller)
 *   minna-twin plan SCENARIO             the sessions to play, as TSV: name user at cores
 *                                        memory_mb gpus walltime if_busy exit (s; -1 never),
 *                                        in launch order (a script's driver reads this, not
 *                                        the scenario file)
 *   minna-twin compare SCENARIO EXPECTED.tsv ACTUAL.tsv [--cannot FIELD=WHY]...
 *                      [--cannot-cell NAME:FIELD=WHY]...
 *                                        the comparison; exit 1 on any difference; a
 *                                        field (of every session, or of one) that the
 *                                        backend cannot show is listed with why
 */
#define G_LOG_DOMAIN "minna-twin"

#include <locale.h>
#include <string.h>

#include "mn-twin.h"

static int
usage (const gchar *msg)
{
  g_printerr ("minna-twin: %s\nusage: minna-twin check|sim|plan|policy SCENARIO\n"
              "       minna-twin compare SCENARIO EXPECTED.tsv ACTUAL.tsv [--cannot FIELD=WHY]..."
              " [--cannot-cell NAME:FIELD=WHY]...\n",
              msg);
  return 2;
}

static GPtrArray *
load_rows (const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  return mn_twin_rows_from_tsv (text, path, error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MnTwinScenario) sc = NULL;

  setlocale (LC_ALL, "");
  if (argc < 3)
    return usage ("a command and a SCENARIO are needed");
  sc = mn_twin_scenario_load (argv[2], &error);
  if (sc == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (g_str_equal (argv[1], "check") && argc == 3)
    {
      g_print ("%s: OK (%u sessions)\n", argv[2], sc->sessions->len);
      return 0;
    }
  if (g_str_equal (argv[1], "sim") && argc == 3)
    {
      g_autoptr (GPtrArray) rows = mn_twin_run_sim (sc, &error);
      g_autofree gchar *tsv = NULL;

      if (rows == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      tsv = mn_twin_rows_to_tsv (rows);
      g_print ("%s", tsv);
      return 0;
    }
  if (g_str_equal (argv[1], "policy") && argc == 3)
    {
      g_autofree gchar *text = mn_policy_config_to_data (sc->policy);

      g_print ("%s", text);
      return 0;
    }
  if (g_str_equal (argv[1], "plan") && argc == 3)
    {
      g_print ("name\tuser\tat\tcores\tmemory_mb\tgpus\twalltime\tif_busy\texit\n");
      for (guint i = 0; i < sc->sessions->len; i++)
        {
          const MnTwinSession *s = g_ptr_array_index (sc->sessions, i);
          g_print ("%s\t%s\t%" G_GINT64_FORMAT "\t%u\t%" G_GUINT64_FORMAT "\t%u\t%" G_GINT64_FORMAT
                   "\t%s\t%" G_GINT64_FORMAT "\n", s->name, s->user, s->at,
                   s->cores != 0 ? s->cores : 1,
                   s->memory_mb != 0 ? s->memory_mb : sc->policy->job_max_memory_mb, s->gpus,
                   s->walltime != 0 ? s->walltime : sc->policy->max_walltime,
                   s->if_busy == MN_IF_BUSY_GIVE_UP ? "give_up" : "wait", s->exit);
        }
      return 0;
    }
  if (g_str_equal (argv[1], "compare") && argc >= 5)
    {
      g_autoptr (GPtrArray) expected = load_rows (argv[3], &error);
      g_autoptr (GPtrArray) actual = expected ? load_rows (argv[4], &error) : NULL;
      g_autoptr (GString) report = g_string_new (NULL);
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GHashTable) cells = g_hash_table_new (g_str_hash, g_str_equal);
      MnTwinCompareOptions options = { { NULL }, NULL, cells };
      guint n;

      if (actual == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      for (int i = 5; i < argc; i++)
        {
          MnTwinField f;
          gchar *eq;

          if (g_str_equal (argv[i], "--cannot-cell") && i + 1 < argc)
            {
              gchar *colon;

              /* NAME:FIELD=WHY: one field of one session */
              eq = strchr (argv[++i], '=');
              colon = eq != NULL ? memchr (argv[i], ':', eq - argv[i]) : NULL;
              if (colon == NULL)
                return usage ("--cannot-cell takes NAME:FIELD=WHY");
              *eq = '\0';
              if (!mn_twin_field_from_string (colon + 1, &f))
                return usage ("--cannot-cell: unknown field");
              g_hash_table_insert (cells, argv[i], eq + 1);
              continue;
            }
          if (!g_str_equal (argv[i], "--cannot") || i + 1 >= argc)
            return usage ("extra arguments: only --cannot FIELD=WHY and --cannot-cell NAME:FIELD=WHY");
          eq = strchr (argv[++i], '=');
          if (eq == NULL)
            return usage ("--cannot takes FIELD=WHY");
          *eq = '\0';
          if (!mn_twin_field_from_string (argv[i], &f))
            return usage ("--cannot: unknown field");
          options.cannot[f] = eq + 1;
        }
      n = mn_twin_compare (sc, expected, actual, &options, report);
      g_print ("%s", report->str);
      return n == 0 ? 0 : 1;
    }
  return usage ("unknown command or wrong number of arguments");
}
