/* test-report.c: minna-report on a fake sweep's results: every plot is a
 * valid PNG and SVG of sensible size with its title and axis labels, and
 * every file report.html refers to exists (no network). */
#define G_LOG_DOMAIN "minna-sweep-test"

#include <string.h>

#include "mn-sweep-check.h"

static const struct { const gchar *base; const gchar *title; const gchar *xlabel; } plots[] = {
  { "launches", "Interactive launches per hour of day", "hour of day" },
  { "wait-cdf", "Interactive wait time, cumulative over all requests", "wait before the session starts" },
  { "immediate-by-hour", "Started immediately, by hour of day", "hour of day the request was made" },
  { "heatmap-immediate", "Share started immediately in the worst hour", "nodes carved out" },
  { "heatmap-swap", "Swap in use (colour, scaled to the largest value) and OOM kills", "nodes carved out" },
  { "occupancy", "interactive.q occupancy by hour of day", "hour of day" },
  { "failures", "Sessions killed, GPU allocation failures, refusals", "nodes carved out" },
  { "batch-wait-month", "Batch wait by month, with and without interactive.q", "month of submission" },
  { "batch-wait-share", "Batch jobs that waited long, by month", "month of submission" },
  { "batch-cost", "Cost to batch work, dedicated design", "nodes carved out of all.q" },
  { "utilization", "Utilization of all.q by month", "month" },
};

static gchar *
report_exe (void)
{
  return g_build_filename (g_getenv ("MINNA_BUILD_DIR"), "reports", "minna-report", NULL);
}

static void
check_report_dir (const gchar *dir)
{
  g_autofree gchar *html = mn_check_read (dir, "report.html");

  for (gsize i = 0; i < G_N_ELEMENTS (plots); i++)
    {
      g_autofree gchar *png = g_strdup_printf ("%s/plots/%s.png", dir, plots[i].base);
      g_autofree gchar *svg = g_strdup_printf ("%s/plots/%s.svg", dir, plots[i].base);
      g_autofree gchar *img = g_strdup_printf ("src=\"plots/%s.png\"", plots[i].base);

      mn_check_png (png);
      mn_check_svg (svg, plots[i].title);
      mn_check_svg (svg, plots[i].xlabel);
      g_assert_nonnull (strstr (html, img));
    }
  g_assert_cmpuint (mn_check_html_references (dir), >=, 3 * G_N_ELEMENTS (plots));
}

static void
test_report_fake (void)
{
  g_autofree gchar *sim = g_test_build_filename (G_TEST_BUILT, "sweep", "mn-sweep-fake-sim", NULL);
  g_autofree gchar *report = report_exe ();
  g_autofree gchar *scenario = g_test_build_filename (G_TEST_DIST, "data", "sweep", "fake-small.scenario", NULL);
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-report-XXXXXX", NULL);
  g_autofree gchar *html = NULL, *err = NULL;
  const gchar *run[] = { sim, "run", scenario, "--out", tmp, "--quiet", NULL };
  const gchar *render[] = { report, tmp, "--quiet", NULL };

  g_assert_cmpint (mn_check_spawn (run, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint (mn_check_spawn (render, NULL, NULL, &err), ==, 0);
  check_report_dir (tmp);
  html = mn_check_read (tmp, "report.html");
  /* the recommendation and the targets' margins are in the table */
  g_assert_nonnull (strstr (html, "<b>Recommended:</b> nodes=3 jobs_per_logical=4"));
  g_assert_nonnull (strstr (html, "<code>batch_wait_increase</code>"));
  g_assert_nonnull (strstr (html, "+1.00 points"));
  g_assert_nonnull (strstr (html, "href=\"recommended.conf\""));
  /* the fake's trace logs start times: the replay against the log */
  g_assert_nonnull (strstr (html, "<h2>Validation against the log</h2>"));
  g_assert_nonnull (strstr (html, "<tr><td>mean</td><td>66.7 min</td><td>33.3 min</td></tr>"));
  {
    g_autofree gchar *png = g_build_filename (tmp, "plots", "validation.png", NULL);
    g_autofree gchar *svg = g_build_filename (tmp, "plots", "validation.svg", NULL);

    mn_check_png (png);
    mn_check_svg (svg, "Replayed against logged batch waits, by month");
  }
  mn_check_rm_rf (tmp);
}

static void
test_report_unreachable (void)
{
  g_autofree gchar *sim = g_test_build_filename (G_TEST_BUILT, "sweep", "mn-sweep-fake-sim", NULL);
  g_autofree gchar *report = report_exe ();
  g_autofree gchar *scenario = g_test_build_filename (G_TEST_DIST, "data", "sweep", "fake-unreachable.scenario", NULL);
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-report-XXXXXX", NULL);
  g_autofree gchar *html = NULL;
  const gchar *run[] = { sim, "run", scenario, "--out", tmp, "--quiet", NULL };
  const gchar *render[] = { report, tmp, "--quiet", NULL };

  g_assert_cmpint (mn_check_spawn (run, NULL, NULL, NULL), ==, 3);
  g_assert_cmpint (mn_check_spawn (render, NULL, NULL, NULL), ==, 0);
  html = mn_check_read (tmp, "report.html");
  g_assert_nonnull (strstr (html, "No point meets every target."));
  g_assert_nonnull (strstr (html, "<td><code>swap_share</code>"));
  g_assert_nonnull (strstr (html, "<td class=\"fail\">-5.00 points; <b>missed</b></td>"));
  g_assert_null (strstr (html, "href=\"recommended.conf\""));
  g_assert_cmpuint (mn_check_html_references (tmp), >, 0);
  mn_check_rm_rf (tmp);
}

/* Over seeds: every figure with its range, the next smaller
 * configuration's margins beside the recommendation's, the refusals. */
static void
test_report_seeds (void)
{
  g_autofree gchar *sim = g_test_build_filename (G_TEST_BUILT, "sweep", "mn-sweep-fake-sim", NULL);
  g_autofree gchar *report = report_exe ();
  g_autofree gchar *scenario = g_test_build_filename (G_TEST_DIST, "data", "sweep", "fake-seeds.scenario", NULL);
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-report-XXXXXX", NULL);
  g_autofree gchar *html = NULL, *heat = NULL, *cdf = NULL, *hours = NULL;
  g_auto (GStrv) rows = NULL;
  const gchar *run[] = { sim, "run", scenario, "--out", tmp, "--quiet", NULL };
  const gchar *render[] = { report, tmp, "--quiet", NULL };

  g_assert_cmpint (mn_check_spawn (run, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint (mn_check_spawn (render, NULL, NULL, NULL), ==, 0);
  check_report_dir (tmp);
  html = mn_check_read (tmp, "report.html");
  g_assert_nonnull (strstr (html, "<b>Recommended:</b> nodes=3 jobs_per_logical=7 memory_cap=8G"));
  g_assert_nonnull (strstr (html, "meets every target on 2 of 3 seeds"));
  g_assert_nonnull (strstr (html, "<th>next smaller: nodes=2 jobs_per_logical=7 memory_cap=8G</th>"));
  /* the next smaller's hourly share: median 100%, range 93.33-100%, worst on seed 3 */
  g_assert_nonnull (strstr (html, "<td class=\"fail\">100.00% <span class=\"range\">(93.33%&ndash;100.00%)</span></td>"
                                  "<td class=\"fail\">-5.67 points (seed 3); <b>missed on 1 of 3 seeds</b></td>"));
  g_assert_nonnull (strstr (html, "seeds 1, 2, 3"));
  /* a generated world logs no start times: no validation section */
  g_assert_null (strstr (html, "Validation against the log"));
  heat = mn_check_read (tmp, "plots/heatmap-immediate.dat");
  g_assert_nonnull (strstr (heat, "passes 3/3"));
  g_assert_nonnull (strstr (heat, "passes 2/3"));
  g_assert_nonnull (strstr (heat, "min 93.3%"));
  /* the wait CDF: 101 quantiles, three curves of four columns each */
  cdf = mn_check_read (tmp, "plots/wait-cdf.dat");
  rows = g_strsplit (cdf, "\n", -1);
  g_assert_cmpint (g_strv_length (rows), ==, 1 + 101 + 1);
  {
    g_auto (GStrv) cols = g_strsplit (rows[101], "\t", -1);

    g_assert_cmpint (g_strv_length (cols), ==, 12);
  }
  /* started immediately by hour: 10:00 for the recommendation (100%) and
   * the next smaller (median 100%, down to 93.3% on seed 3) */
  hours = mn_check_read (tmp, "plots/immediate-by-hour.dat");
  g_assert_nonnull (strstr (hours, "\n10\t100\t100\t100\t100\t93.3333\t100\n"));
  mn_check_rm_rf (tmp);
}

static void
test_report_bad_input (void)
{
  g_autofree gchar *report = report_exe ();
  g_autofree gchar *tmp = g_dir_make_tmp ("mn-report-XXXXXX", NULL);
  g_autofree gchar *json = g_build_filename (tmp, "results.json", NULL);
  g_autofree gchar *err = NULL;
  const gchar *render[] = { report, tmp, NULL };
  const gchar *usage[] = { report, NULL };

  g_assert_cmpint (mn_check_spawn (render, NULL, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "results.json"));
  g_clear_pointer (&err, g_free);
  g_assert_true (g_file_set_contents (json, "{\"schema\": \"something-else\"}", -1, NULL));
  g_assert_cmpint (mn_check_spawn (render, NULL, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "not a sweep's results"));
  g_assert_cmpint (mn_check_spawn (usage, NULL, NULL, NULL), ==, 2);
  mn_check_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_autofree gchar *gnuplot = g_find_program_in_path ("gnuplot");

  g_test_init (&argc, &argv, NULL);
  if (gnuplot == NULL)
    {
      g_test_skip ("gnuplot is not installed (Debian package gnuplot-nox)");
      return g_test_run ();
    }
  g_test_add_func ("/report/fake-sweep", test_report_fake);
  g_test_add_func ("/report/unreachable", test_report_unreachable);
  g_test_add_func ("/report/seeds", test_report_seeds);
  g_test_add_func ("/report/bad-input", test_report_bad_input);
  return g_test_run ();
}
