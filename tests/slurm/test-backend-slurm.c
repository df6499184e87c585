/* test-backend-slurm.c: the controller's Slurm backend against a real
 * slurmctld (run by run-slurm-suite.sh, which brings Slurm up, sets
 * SLURM_CONF and names a test user in MINNA_TEST_USER).  Without them the
 * tests that need the daemons skip; the timeout test runs anywhere. */
#define G_LOG_DOMAIN "test-backend-slurm"

#include "mn-backend-slurm.h"
#include "mn-controller-config.h"
#include "controller-test-util.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef MnTestJob Fixture;

static gboolean
have_slurm (void)
{
  if (g_getenv ("SLURM_CONF") == NULL || g_getenv ("MINNA_TEST_USER") == NULL)
    {
      g_test_skip ("needs a running Slurm (run-slurm-suite.sh sets SLURM_CONF, MINNA_TEST_USER)");
      return FALSE;
    }
  return TRUE;
}

/* A session directory the test user owns, with a job script in it. */
static void
fixture_init_as (Fixture *f, const gchar *user, const gchar *body, guint give_up_after)
{
  MnBackendSlurmOptions opts = { .partition = "interactive", .give_up_after = give_up_after };
  g_autoptr(GError) error = NULL;
  mn_test_job_init (f, user, "mn-slurm", body);
  f->backend = mn_backend_slurm_new (&opts, &error);
  g_assert_no_error (error);
}

static void
fixture_init (Fixture *f, const gchar *body, guint give_up_after)
{
  fixture_init_as (f, g_getenv ("MINNA_TEST_USER"), body, give_up_after);
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
  if (!have_slurm ())
    return;
  fixture_init (&f, "echo \"$(id -un) $HOME\"; sleep 2; exit 3", 0);
  spec = mn_test_job_spec (&f, "exitcode");
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  /* the same session again: the same job, not a second one */
  again = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, again);
  mn_job_status_free (mn_test_wait_for (f.backend, id, MN_JOB_RUNNING, 20));
  st = mn_test_wait_for (f.backend, id, MN_JOB_DONE, 30);
  g_assert_cmpint (st->exit_code, ==, 3);
  g_assert_cmpstr (st->message, ==, "FAILED");
  mn_job_status_free (st);
  g_file_get_contents (f.output, &out, NULL, &error);
  g_assert_no_error (error);
  /* ran as the user, with the user's environment (--export=NONE) */
  g_assert_true (g_str_has_prefix (out, f.user));
  g_assert_null (strstr (out, "/root"));
  mn_test_job_clear (&f);
}

static void
test_cancel_running (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree gchar *id = NULL;
  MnJobSpec spec;
  MnJobStatus *st;
  if (!have_slurm ())
    return;
  fixture_init (&f, "sleep 300", 0);
  spec = mn_test_job_spec (&f, "cancel");
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  mn_job_status_free (mn_test_wait_for (f.backend, id, MN_JOB_RUNNING, 20));
  g_assert_true (mn_backend_cancel (f.backend, id, 0, &error));
  g_assert_no_error (error);
  st = mn_test_wait_for (f.backend, id, MN_JOB_DONE, 30);
  g_assert_cmpstr (st->message, ==, "CANCELLED");
  g_assert_cmpint (st->exit_code, ==, -1);
  mn_job_status_free (st);
  mn_test_job_clear (&f);
}

static void
test_unknown_and_many (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) all = NULL;
  const gchar *ids[] = { "999999", "999998", NULL };
  MnJobStatus *st;
  if (!have_slurm ())
    return;
  fixture_init (&f, "true", 0);
  all = mn_backend_poll (f.backend, ids, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (all), ==, 2);
  /* never "gone": a job nobody knows is unknown */
  st = g_hash_table_lookup (all, "999999");
  g_assert_cmpint (st->state, ==, MN_JOB_UNKNOWN);
  mn_test_job_clear (&f);
}

/* The interactive partition full (three users' jobs on its one logical
 * node, MINNA_TEST_FILL_USERS): with give-up the fourth job is cancelled and
 * the submission fails; without, it queues with an expected start. */
static void
test_give_up_and_estimate (void)
{
  Fixture f = { 0 };
  Fixture fill[3] = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *fill_ids[3] = { NULL };
  g_auto(GStrv) fill_users = NULL;
  MnJobSpec spec;
  gint64 start = 0;
  gboolean have = FALSE;
  gint64 end;
  if (!have_slurm ())
    return;
  if (g_getenv ("MINNA_TEST_FILL_USERS") == NULL)
    {
      g_test_skip ("needs MINNA_TEST_FILL_USERS (three users)");
      return;
    }
  fill_users = g_strsplit (g_getenv ("MINNA_TEST_FILL_USERS"), " ", 3);
  g_assert_cmpuint (g_strv_length (fill_users), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree gchar *sid = g_strdup_printf ("fill-%u", i);
      fixture_init_as (&fill[i], fill_users[i], "sleep 300", 0);
      spec = mn_test_job_spec (&fill[i], sid);
      fill_ids[i] = mn_backend_submit (fill[i].backend, &spec, 0, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < 3; i++)
    {
      MnJobStatus *st = mn_test_wait_for (fill[i].backend, fill_ids[i], MN_JOB_RUNNING, 30);
      /* the node running it, for the controller's check of the app's address */
      g_assert_nonnull (st->node);
      g_assert_cmpstr (st->node, !=, "");
      mn_job_status_free (st);
    }

  fixture_init (&f, "sleep 300", 2);
  spec = mn_test_job_spec (&f, "giveup");
  spec.give_up = TRUE;
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND);
  g_assert_nonnull (strstr (error->message, "busy"));
  g_assert_nonnull (strstr (error->message, "given up"));
  g_assert_null (id);
  g_clear_error (&error);

  /* the same request without give-up queues, with an expected start (the
   * cancelled one left nothing behind, or the QOS would refuse this one) */
  spec.give_up = FALSE;
  id = mn_backend_submit (fill[0].backend, &spec, 0, &error);
  g_assert_no_error (error);
  mn_job_status_free (mn_test_wait_for (f.backend, id, MN_JOB_PENDING, 5));
  end = g_get_monotonic_time () + 45 * G_USEC_PER_SEC;
  /* the poll's one squeue carries backfill's expected start */
  while (!have && g_get_monotonic_time () < end)
    {
      const gchar *ids[] = { id, NULL };
      g_autoptr(GHashTable) sts = mn_backend_poll (f.backend, ids, 0, &error);
      MnJobStatus *st;
      g_assert_no_error (error);
      st = g_hash_table_lookup (sts, id);
      g_assert_nonnull (st);
      g_assert_cmpint (st->state, ==, MN_JOB_PENDING);
      start = st->estimated_start;
      have = start > 0;
      if (!have)
        g_usleep (500 * 1000);
    }
  g_assert_true (have);
  g_assert_cmpint (start, >, g_get_real_time () / G_USEC_PER_SEC - 60);
  g_assert_true (mn_backend_cancel (f.backend, id, 0, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (mn_backend_cancel (fill[i].backend, fill_ids[i], 0, &error));
      g_assert_no_error (error);
      mn_test_job_clear (&fill[i]);
    }
  mn_test_job_clear (&f);
}

/* An interactive job is submitted with the policy's model (the partition,
 * --time, --mem = its memory limit, --cpus-per-task): Slurm holds it to
 * them, and a job past its limit is OOM-killed by Slurm's cgroup and ends
 * with the cap's code. */
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
  if (!have_slurm ())
    return;
  policy = mn_test_policy_allocation ("tests/slurm/test-policy.conf", 100, 600, &a);
  fixture_init (&f, "sleep 2; perl -e '$x = \"x\" x (300 * 1024 * 1024); sleep 60'", 0);
  spec = mn_test_job_spec (&f, "model-cap");
  spec.memory_mb = a.memory_max_mb;
  spec.allocation = &a;
  spec.policy = policy;
  id = mn_backend_submit (f.backend, &spec, 0, &error);
  g_assert_no_error (error);
  cmd = g_strdup_printf ("scontrol show job %s", id);
  g_assert_true (g_spawn_command_line_sync (cmd, &show, NULL, NULL, NULL));
  g_test_message ("%s", show);
  g_assert_nonnull (strstr (show, "Partition=interactive"));
  g_assert_nonnull (strstr (show, "TimeLimit=00:10:00"));
  g_assert_nonnull (strstr (show, "MinMemoryNode=100M"));
  g_assert_nonnull (strstr (show, "MinCPUsNode=1"));
  /* the user's job of the test before may hold the QOS's one job per user
   * while Slurm completes it (KillWait); whatever happens, the job goes */
  {
    gint64 end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
    const gchar *ids[] = { id, NULL };
    st = NULL;
    while (st == NULL && g_get_monotonic_time () < end)
      {
        g_autoptr(GHashTable) all = mn_backend_poll (f.backend, ids, 0, &error);
        MnJobStatus *one;
        g_assert_no_error (error);
        one = g_hash_table_lookup (all, id);
        if (one != NULL && one->state == MN_JOB_DONE)
          st = mn_job_status_copy (one);
        else
          g_usleep (500 * 1000);
      }
    mn_backend_cancel (f.backend, id, 0, NULL);
    g_assert_nonnull (st);
  }
  g_test_message ("over its limit: %s (end %s)", st->message, mn_end_reason_to_string (st->end));
  g_assert_cmpstr (st->message, ==, "OUT_OF_MEMORY");
  g_assert_cmpint (st->end, ==, MN_END_MEMORY_CAP);
  mn_job_status_free (st);
  mn_test_job_clear (&f);
}

/* slurmctld down while a job runs: polls fail within the command timeout
 * (the controller then marks the session unknown), nothing is lost, and
 * the same job is running again once slurmctld is back. */
static void
test_scheduler_down (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  const gchar *restart = g_getenv ("MINNA_TEST_SCHED_RESTART");
  MnBackendSlurmOptions opts = { .partition = "interactive", .command_timeout = 3 };
  g_autoptr(MnBackend) impatient = NULL;
  if (!have_slurm ())
    return;
  if (restart == NULL)
    {
      g_test_skip ("needs MINNA_TEST_SCHED_RESTART (slurmctld-restart.sh)");
      return;
    }
  fixture_init (&f, "sleep 300", 0);
  impatient = mn_backend_slurm_new (&opts, &error);
  g_assert_no_error (error);
  mn_test_scheduler_down (&f, impatient, restart, 20);
}

/* slurmctld down makes the clients hang: the poll must come back with an
 * error within the command timeout, not hang the controller. */
static void
test_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("mn-slurm-bin-XXXXXX", &error);
  g_autofree gchar *squeue = g_build_filename (dir, "squeue", NULL);
  g_autofree gchar *sbatch = g_build_filename (dir, "sbatch", NULL);
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  MnBackendSlurmOptions opts = { .bin_dir = dir, .command_timeout = 1 };
  g_autoptr(MnBackend) b = NULL;
  g_autoptr(GHashTable) all = NULL;
  const gchar *ids[] = { "1", NULL };
  gint64 t0;
  g_assert_no_error (error);
  g_file_set_contents (squeue, "#!/bin/sh\nexec sleep 30\n", -1, &error);
  g_file_set_contents (sbatch, "#!/bin/sh\nexit 1\n", -1, &error);
  g_chmod (squeue, 0755);
  g_chmod (sbatch, 0755);
  b = mn_backend_slurm_new (&opts, &error);
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
  g_test_add_func ("/backend/slurm/timeout", test_timeout);
  g_test_add_func ("/backend/slurm/run-and-exit-code", test_run_and_exit_code);
  g_test_add_func ("/backend/slurm/cancel-running", test_cancel_running);
  g_test_add_func ("/backend/slurm/model-and-cap", test_model_and_cap);
  g_test_add_func ("/backend/slurm/unknown-and-many", test_unknown_and_many);
  g_test_add_func ("/backend/slurm/give-up-and-estimate", test_give_up_and_estimate);
  g_test_add_func ("/backend/slurm/scheduler-down", test_scheduler_down);
  return g_test_run ();
}
