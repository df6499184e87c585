/* controller-test-util.c */
#include "controller-test-util.h"
#include "mn-controller-config.h"

#include <gio/gio.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static gboolean
port_free (guint port)
{
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, (guint16) port);
  return g_socket_bind (s, addr, TRUE, NULL);
}

/* A random free port below the kernel's ephemeral range (read from
 * ip_local_port_range): a daemon restarted on it finds it free again.  One
 * from the ephemeral range, as bind (0) gives, is handed out as the source
 * port of other connections (six engineers' tests share this machine) the
 * moment the killed daemon lets go of it, and the restart then fails with
 * "Address already in use". */
guint
mn_test_free_port (void)
{
  g_autofree gchar *range = NULL;
  guint low = 32768;
  if (g_file_get_contents ("/proc/sys/net/ipv4/ip_local_port_range", &range, NULL, NULL))
    low = (guint) g_ascii_strtoull (range, NULL, 10);
  if (low > 12000)
    for (gint tries = 0; tries < 200; tries++)
      {
        guint port = (guint) g_random_int_range (10000, (gint32) low);
        if (port_free (port))
          return port;
      }
  {
    g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_assert_true (g_socket_bind (s, any, TRUE, NULL));
    bound = g_socket_get_local_address (s, NULL);
    return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  }
}

void
mn_test_write_file (const gchar *path, const gchar *text, int mode)
{
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

void
mn_test_write_script (const gchar *dir, const gchar *name, const gchar *body)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autofree gchar *text = g_strdup_printf ("#!/bin/sh\n%s\n", body);
  mn_test_write_file (path, text, 0755);
}

void
mn_test_remove_dir (const gchar *dir)
{
  if (g_getenv ("MINNA_KEEP_TEST_DIR") == NULL)
    {
      g_autofree gchar *quoted = g_shell_quote (dir);
      g_autofree gchar *cmd = g_strdup_printf ("rm -rf %s", quoted);
      if (system (cmd) != 0)
        g_printerr ("could not remove %s\n", dir);
    }
  else
    g_printerr ("kept %s\n", dir);
}

int
mn_test_run_in_child (void (*clean_up) (void))
{
  int status = 0;
  pid_t child;
  fflush (stdout);
  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    return -1;
  waitpid (child, &status, 0);
  clean_up ();
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  g_printerr ("test child died of signal %d\n", WTERMSIG (status));
  return 1;
}

void
mn_test_job_init (MnTestJob *job, const gchar *user, const gchar *prefix, const gchar *body)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *text = g_strdup_printf ("#!/bin/sh\n%s\n", body);
  g_autofree gchar *tmpl = g_strdup_printf ("%s-XXXXXX", prefix);
  struct passwd *pw = getpwnam (user);
  g_assert_nonnull (pw);
  job->user = user;
  job->dir = g_dir_make_tmp (tmpl, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chown (job->dir, pw->pw_uid, pw->pw_gid), ==, 0);
  job->script = g_build_filename (job->dir, "job.sh", NULL);
  job->output = g_build_filename (job->dir, "job.out", NULL);
  mn_test_write_file (job->script, text, 0755);
}

void
mn_test_job_clear (MnTestJob *job)
{
  g_autofree gchar *quoted = g_shell_quote (job->dir);
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf %s", quoted);
  g_assert_cmpint (system (cmd), ==, 0);
  g_clear_pointer (&job->backend, mn_backend_free);
  g_free (job->dir);
  g_free (job->script);
  g_free (job->output);
}

MnJobSpec
mn_test_job_spec (const MnTestJob *job, const gchar *session)
{
  MnJobSpec spec = {
    .session_id = session, .session_dir = job->dir, .script = job->script,
    .output = job->output, .unix_user = job->user, .cores = 1, .memory_mb = 100,
    .walltime = 600, .node = 0, .logical = 0,
  };
  return spec;
}

void
mn_test_scheduler_down (MnTestJob *job, MnBackend *impatient, const gchar *restart,
                        guint back_within)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) all = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *quoted = g_shell_quote (restart);
  g_autofree gchar *stop = g_strdup_printf ("%s stop", quoted);
  g_autofree gchar *start = g_strdup_printf ("%s start", quoted);
  MnJobSpec spec = mn_test_job_spec (job, "down");
  const gchar *ids[2] = { NULL, NULL };
  gint64 t0;

  id = mn_backend_submit (job->backend, &spec, 0, &error);
  g_assert_no_error (error);
  mn_job_status_free (mn_test_wait_for (job->backend, id, MN_JOB_RUNNING, 20));

  g_assert_cmpint (system (stop), ==, 0);
  ids[0] = id;
  t0 = g_get_monotonic_time ();
  all = mn_backend_poll (impatient, ids, 0, &error);
  g_assert_null (all);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE);
  g_test_message ("scheduler down: %s", error->message);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 10 * G_USEC_PER_SEC);
  g_clear_error (&error);

  g_assert_cmpint (system (start), ==, 0);
  mn_job_status_free (mn_test_wait_for (job->backend, id, MN_JOB_RUNNING, back_within));
  g_assert_true (mn_backend_cancel (job->backend, id, 0, &error));
  g_assert_no_error (error);
  /* the cancel reaches the node once its daemon has rejoined the restarted
   * one (Grid Engine: the execd's next report, up to load_report_time) */
  mn_job_status_free (mn_test_wait_for (job->backend, id, MN_JOB_DONE, MAX (30, back_within)));
  mn_test_job_clear (job);
}

MnJobStatus *
mn_test_wait_for (MnBackend *backend, const gchar *id, MnJobState state, guint seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  const gchar *ids[] = { id, NULL };
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) all = NULL;
      /* the local backend learns of its children's ends from child watches */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      all = mn_backend_poll (backend, ids, 0, &error);
      MnJobStatus *st;
      g_assert_no_error (error);
      st = g_hash_table_lookup (all, id);
      g_assert_nonnull (st);
      if (st->state == state || g_get_monotonic_time () > end)
        {
          g_assert_cmpint (st->state, ==, state);
          return mn_job_status_copy (st);
        }
      g_usleep (300 * 1000);
    }
}

MnPolicyConfig *
mn_test_policy_allocation (const gchar *rel_path, guint64 memory_mb, gint64 walltime,
                           MnPolicyAllocation *allocation)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = g_build_filename (g_getenv ("MINNA_SOURCE_DIR"), rel_path, NULL);
  g_autofree gchar *text = NULL;
  gsize len = 0;
  MnPolicyConfig *policy;
  g_autoptr(MnPolicyState) ps = NULL;
  MnPolicyRequest r = { .job_id = 1, .user = "u", .cores = 1, .memory_mb = memory_mb,
                        .walltime = walltime };
  MnDecision d = { 0 };
  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  policy = mn_policy_config_load_data (text, len, path, &error);
  g_assert_no_error (error);
  ps = mn_policy_state_new (policy);
  mn_policy_state_request (ps, &r, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_START);
  *allocation = d.allocation;
  mn_decision_clear (&d);
  return policy;
}

guint64
mn_test_proc_starttime (gint pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *data = NULL;
  g_auto(GStrv) fields = NULL;
  const gchar *p;

  if (pid <= 1 || !g_file_get_contents (path, &data, NULL, NULL) ||
      (p = strrchr (data, ')')) == NULL || p[1] == '\0')
    return 0;
  fields = g_strsplit (p + 2, " ", 0);
  return g_strv_length (fields) >= 20 ? g_ascii_strtoull (fields[19], NULL, 10) : 0;
}

/* Whatever still runs from this test's directory (a session whose job
 * record was gone by teardown: seen as a leftover job.sh and its app after
 * CI runs): killed by the name of what the test made, its directory. */
static void
kill_by_dir (const gchar *dir)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const gchar *name;
  while (proc && (name = g_dir_read_name (proc)))
    {
      gint pid = (gint) g_ascii_strtoll (name, NULL, 10);
      g_autofree gchar *path = NULL, *cmd = NULL;
      gsize len = 0;
      if (pid <= 1 || pid == getpid ())
        continue;
      path = g_strdup_printf ("/proc/%d/cmdline", pid);
      if (!g_file_get_contents (path, &cmd, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmd[i] == '\0')
          cmd[i] = ' ';
      if (strstr (cmd, dir) != NULL)
        kill (pid, SIGKILL);
    }
}

/* Each job the local backend recorded in @jobs_dir (state/jobs): its
 * process group, if its start time still matches (a reused pid is left
 * alone), then its cgroups. */
void
mn_test_kill_recorded_jobs (const gchar *jobs_dir)
{
  g_autoptr(GDir) d = g_dir_open (jobs_dir, 0, NULL);
  const gchar *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree gchar *p = g_build_filename (jobs_dir, name, NULL);
      g_autoptr(GKeyFile) kf = g_key_file_new ();
      if (g_key_file_load_from_file (kf, p, 0, NULL))
        {
          gint pid = g_key_file_get_integer (kf, "job", "pid", NULL);
          guint64 start = g_key_file_get_uint64 (kf, "job", "starttime", NULL);
          g_autofree gchar *list = g_key_file_get_string (kf, "job", "cgroups", NULL);
          g_auto(GStrv) cgroups = g_strsplit (list ? list : "", ";", -1);
          if (pid > 1 && start != 0 && mn_test_proc_starttime (pid) == start)
            kill (-pid, SIGKILL);
          g_usleep (100000);
          for (gsize i = 0; cgroups[i]; i++)
            if (cgroups[i][0])
              rmdir (cgroups[i]);
        }
    }
}

/* After a test's daemons are gone: kill each job its state directory
 * records (its process group) and remove its cgroups, then whatever else
 * still runs from @dir (a session whose record was gone by teardown). */
void
mn_test_kill_jobs (const gchar *dir)
{
  g_autofree gchar *jobs = g_build_filename (dir, "state", "jobs", NULL);
  mn_test_kill_recorded_jobs (jobs);
  kill_by_dir (dir);
}
