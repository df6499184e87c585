/* test-backend-sge.c: the controller's Grid Engine backend against a real
 * cell (run by run-sge-suite.sh, which brings it up, sets SGE_ROOT/SGE_CELL
 * and the ports, and names a test user in MINNA_TEST_USER).  Without them
 * the tests that need the daemons skip; the timeout test runs anywhere. */
#define G_LOG_DOMAIN "test-backend-sge"

#include "mn-backend-sge.h"
#include "mn-controller-config.h"
#include "controller-test-util.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef MnTestJob Fixture;

static gboolean
have_sge (void)
{
  if (g_getenv ("SGE_CELL") == NULL || g_getenv ("MINNA_TEST_USER") == NULL)
    {
      g_test_skip ("needs a running Grid Engine (run-sge-suite.sh sets SGE_CELL, MINNA_TEST_USER)");
      return FALSE;
    }
  return TRUE;
}

/* A session directory the test user owns, with a job script in it. */
static void
fixture_init (Fixture *f, const gchar *body)
{
  MnBackendSgeOptions opts = { .queue = "interactive.q", .memory_resource = "h_vmem" };
  g_autoptr(GError) error = NULL;
  mn_test_job_init (f, g_getenv ("MINNA_TEST_USER"), "mn-sge", body);
  f->backend = mn_backend_sge_new (&opts, &error);
  g_assert_no_error (error);
}

static void
test_run_and_exit_code (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *again = NULL;
  g_autofree gchar *out = NULL;
  MnJobSpec spec;
  MnJobStatus *st;
  if (!have_sge ())
    return;
  fixture_init (&f, "echo \"$(id -un)\"; sleep 2; exit 3");
  spec = mn_test_job_spec (&f, "exitcode");
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  again = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, again);
  mn_job_status_free (mn_test_wait_for (f.backend, id, MN_JOB_RUNNING, 20));
  st = mn_test_wait_for (f.backend, id, MN_JOB_DONE, 30);
  g_assert_cmpint (st->exit_code, ==, 3);
  mn_job_status_free (st);
  g_file_get_contents (f.output, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (out, f.user));
  mn_test_job_clear (&f);
}

static void
test_cancel_and_give_up (void)
{
  Fixture f = { 0 };
  Fixture g = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *second = NULL;
  MnJobSpec spec;
  MnJobStatus *st;
  if (!have_sge ())
    return;
  fixture_init (&f, "sleep 300");
  spec = mn_test_job_spec (&f, "cancel");
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  st = mn_test_wait_for (f.backend, id, MN_JOB_RUNNING, 20);
  /* qstat's queue instance names the host running it */
  g_assert_nonnull (st->node);
  g_assert_cmpstr (st->node, !=, "");
  mn_job_status_free (st);

  /* the user's one slot is taken (resource quota): a give-up request is
   * submitted with -now y and gives up */
  fixture_init (&g, "sleep 300");
  spec = mn_test_job_spec (&g, "giveup");
  spec.give_up = TRUE;
  second = mn_backend_submit (g.backend, &spec, 0, &error);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND);
  g_assert_nonnull (strstr (error->message, "busy"));
  g_assert_nonnull (strstr (error->message, "given up"));
  g_assert_null (second);
  g_clear_error (&error);
  mn_test_job_clear (&g);

  g_assert_true (mn_backend_cancel (f.backend, id, 0, &error));
  g_assert_no_error (error);
  st = mn_test_wait_for (f.backend, id, MN_JOB_DONE, 30);
  g_assert_cmpint (st->exit_code, ==, -1);
  mn_job_status_free (st);
  mn_test_job_clear (&f);
}

static void
test_walltime (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree gchar *id = NULL;
  MnJobSpec spec;
  MnJobStatus *st;
  if (!have_sge ())
    return;
  fixture_init (&f, "sleep 300");
  spec = mn_test_job_spec (&f, "walltime");
  spec.walltime = 3;
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  st = mn_test_wait_for (f.backend, id, MN_JOB_DONE, 40);
  g_assert_cmpint (st->exit_code, ==, -1);
  g_test_message ("walltime end: %s", st->message);
  mn_job_status_free (st);
  mn_test_job_clear (&f);
}

static void
test_unknown (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) all = NULL;
  const gchar *ids[] = { "999999", "999998", NULL };
  MnJobStatus *st;
  if (!have_sge ())
    return;
  fixture_init (&f, "true");
  all = mn_backend_poll (f.backend, ids, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (all), ==, 2);
  st = g_hash_table_lookup (all, "999999");
  g_assert_cmpint (st->state, ==, MN_JOB_UNKNOWN);
  mn_test_job_clear (&f);
}

/* An interactive job is submitted with the policy's model (the queue,
 * h_rt, h_vmem = its memory limit): Grid Engine holds it to them.  h_vmem
 * limits its address space, so a job asking past it gets no memory (the
 * model's table says so: approximate) and fails. */
static void
test_model_and_cap (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MnPolicyConfig) policy = NULL;
  g_autofree gchar *id = NULL, *show = NULL, *cmd = NULL;
  MnPolicyAllocation a;
  MnJobSpec spec;
  MnJobStatus *st;
  if (!have_sge ())
    return;
  policy = mn_test_policy_allocation ("tests/sge/test-policy.conf", 100, 600, &a);
  fixture_init (&f, "sleep 4; perl -e '$x = \"x\" x (300 * 1024 * 1024); sleep 60'");
  spec = mn_test_job_spec (&f, "model-cap");
  spec.memory_mb = a.memory_max_mb;
  spec.allocation = &a;
  spec.policy = policy;
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  mn_job_status_free (mn_test_wait_for (f.backend, id, MN_JOB_RUNNING, 30));
  cmd = g_strdup_printf ("qstat -j %s", id);
  g_assert_true (g_spawn_command_line_sync (cmd, &show, NULL, NULL, NULL));
  g_test_message ("%s", show);
  g_assert_nonnull (strstr (show, "h_vmem=100M"));
  g_assert_nonnull (strstr (show, "h_rt=600"));
  g_assert_nonnull (strstr (show, "interactive.q"));
  st = mn_test_wait_for (f.backend, id, MN_JOB_DONE, 40);
  g_test_message ("over its limit: %s (exit %d)", st->message, st->exit_code);
  g_assert_cmpint (st->exit_code, !=, 0);
  mn_job_status_free (st);
  mn_test_job_clear (&f);
}

/* sge_qmaster down while a job runs: polls fail within the command timeout
 * (the controller marks the session unknown), nothing is lost, and the
 * same job is running again once the qmaster is back. */
static void
test_scheduler_down (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  const gchar *restart = g_getenv ("MINNA_TEST_SCHED_RESTART");
  MnBackendSgeOptions opts = { .queue = "interactive.q", .command_timeout = 3 };
  g_autoptr(MnBackend) impatient = NULL;
  if (!have_sge ())
    return;
  if (restart == NULL)
    {
      g_test_skip ("needs MINNA_TEST_SCHED_RESTART (qmaster-restart.sh)");
      return;
    }
  fixture_init (&f, "sleep 300");
  impatient = mn_backend_sge_new (&opts, &error);
  g_assert_no_error (error);
  /* A restarted qmaster reads its spool and hears from execd again before
   * qstat lists the job; that took over 30 s once on a loaded 2-core host,
   * and over 90 s twice at load 40 (the job unknown, not lost, meanwhile). */
  mn_test_scheduler_down (&f, impatient, restart, 180);
}

/* qmaster down makes the clients hang: the poll must come back with an
 * error within the command timeout. */
static void
test_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("mn-sge-bin-XXXXXX", &error);
  g_autofree gchar *qstat = g_build_filename (dir, "qstat", NULL);
  g_autofree gchar *qsub = g_build_filename (dir, "qsub", NULL);
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  MnBackendSgeOptions opts = { .bin_dir = dir, .command_timeout = 1 };
  g_autoptr(MnBackend) b = NULL;
  g_autoptr(GHashTable) all = NULL;
  const gchar *ids[] = { "1", NULL };
  gint64 t0;
  g_assert_no_error (error);
  g_file_set_contents (qstat, "#!/bin/sh\nexec sleep 30\n", -1, &error);
  g_file_set_contents (qsub, "#!/bin/sh\nexit 1\n", -1, &error);
  g_chmod (qstat, 0755);
  g_chmod (qsub, 0755);
  b = mn_backend_sge_new (&opts, &error);
  g_assert_no_error (error);
  t0 = g_get_monotonic_time ();
  all = mn_backend_poll (b, ids, 0, &error);
  g_assert_null (all);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "no answer within 1 s"));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (system (cmd), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/backend/sge/timeout", test_timeout);
  g_test_add_func ("/backend/sge/run-and-exit-code", test_run_and_exit_code);
  g_test_add_func ("/backend/sge/cancel-and-give-up", test_cancel_and_give_up);
  g_test_add_func ("/backend/sge/walltime", test_walltime);
  g_test_add_func ("/backend/sge/model-and-cap", test_model_and_cap);
  g_test_add_func ("/backend/sge/unknown", test_unknown);
  g_test_add_func ("/backend/sge/scheduler-down", test_scheduler_down);
  return g_test_run ();
}
