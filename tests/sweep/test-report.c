/* test-report.c: minna-report on a fake sweep's results: every plot is a
 * valid PNG and SVG of sensible size with its title and axis labels, and
 * every file report.html refers to exists (no network). */
#define G_LOG_DOMAIN "minna-sweep-test"

#include <string.h>

#include "mn-sweep-check.h"

static const struct { const gchar *base; const gchar *title; const gchar *xlabel; } plots[] = {
  { "launches", "Interactive launches per hour of day", "hour of day" },
  { "utilization", "Utilization of all.q by day", "day of the trace" },
  { "wait-cdf", "Interactive wait time, cumulative distribution", "wait before the session starts" },
  { "heatmap-immediate", "Share started immediately in the worst hour", "nodes carved out" },
  { "heatmap-swap", "Swap in use (colour) and OOM kills (text)", "nodes carved out" },
  { "batch-cost", "Batch cost of interactive.q", "nodes carved out" },
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
  g_assert_nonnull (strstr (html, "<tr class=\"fail\"><td><code>swap_share</code>"));
  g_assert_null (strstr (html, "href=\"recommended.conf\""));
  g_assert_cmpuint (mn_check_html_references (tmp), >, 0);
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
  g_test_add_func ("/report/bad-input", test_report_bad_input);
  return g_test_run ();
}
