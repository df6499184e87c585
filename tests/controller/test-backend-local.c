/* test-backend-local.c: the local backend enforces the policy's model on
 * this host with real processes and the kernel's cgroups (issue 14 item 3):
 * each job's memory limit, RAM + swap, CPU quota and cpuset as the
 * policy's MnPolicyAllocation says, CUDA_VISIBLE_DEVICES, a job over its
 * memory limit killed by the cgroup with the cap's end code, the walltime's
 * code, the startup check of the policy's [node] against this host, and a
 * policy larger than the host folding onto it.
 *
 * What is read back is the kernel's: /proc/PID/status, /proc/PID/environ
 * and the job's cgroup files.  Needs root and a memory cgroup (v1 or v2);
 * skips otherwise.  Every job is killed by the PID its record names, also
 * when an assertion fails (the tests run in a child). */
#define G_LOG_DOMAIN "test-backend-local"
#define _GNU_SOURCE   /* sched_getaffinity */

#include <sched.h>

#include "controller-test-util.h"
#include "mn-controller-backend-local.h"
#include "mn-controller-config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gchar *state_dir;

/* One host node of 2 logical nodes of 1 core: what this 2-CPU test machine
 * holds (the twin scenarios' shape). */
static MnPolicyConfig *
small_policy (guint cores, guint logical_per_node)
{
  MnPolicyConfig *c = mn_policy_config_new_default ();
  c->nodes = 1;
  c->node_cores = cores;
  c->node_gpus = 0;
  c->gpu_memory_mb = 0;
  c->node_memory_mb = 2048;
  c->node_swap_mb = 0;
  c->logical_per_node = logical_per_node;
  c->logical_cores = cores / logical_per_node;
  c->logical_gpus = 0;
  c->logical_memory_mb = 2048 / logical_per_node;
  c->max_jobs_per_logical = 4;
  c->job_max_cores = c->logical_cores;
  c->job_max_memory_mb = 256;
  c->job_max_gpus = 0;
  c->job_max_gpu_memory_mb = 0;
  c->job_max_swap_mb = 0;
  c->max_jobs_per_user = 8;
  return c;
}

static MnBackend *
make_backend (void)
{
  g_autoptr(MnControllerConfig) config = mn_controller_config_new_default ();
  g_autoptr(GError) error = NULL;
  MnBackend *b;
  g_free (config->state_dir);
  config->state_dir = g_strdup (state_dir);
  config->kill_grace = 1;
  b = mn_backend_local_new (config, &error);
  g_assert_no_error (error);
  return b;
}

static gboolean
have_cgroups (MnBackend *b)
{
  const gchar *mode = mn_backend_local_cgroup_mode (b);
  if (geteuid () != 0 || g_str_has_prefix (mode, "no cgroups"))
    {
      g_test_skip ("needs root and a memory cgroup");
      return FALSE;
    }
  return TRUE;
}

/* A job of root's running @command on a fresh backend; FALSE (skipped)
 * without root or cgroups, @job cleared. */
static gboolean
start_cgroup_test (MnTestJob *job, const gchar *command)
{
  mn_test_job_init (job, "root", "mn-local", command);
  job->backend = make_backend ();
  if (!have_cgroups (job->backend))
    {
      mn_test_job_clear (job);
      return FALSE;
    }
  return TRUE;
}

/* The allocation the policy gives a request of @memory_mb. */
static void
admit (MnPolicyState *ps, guint64 id, guint64 memory_mb, MnPolicyAllocation *a)
{
  MnPolicyRequest r = { .job_id = id, .user = "u", .cores = 1, .memory_mb = memory_mb,
                        .walltime = 600 };
  MnDecision d = { 0 };
  gchar *user = g_strdup_printf ("user%" G_GUINT64_FORMAT, id);
  r.user = user;
  mn_policy_state_request (ps, &r, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_START);
  *a = d.allocation;
  mn_decision_clear (&d);
  g_free (user);
}

static GKeyFile *
job_record (const gchar *id)
{
  g_autofree gchar *path = g_build_filename (state_dir, "jobs", id, NULL);
  GKeyFile *kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (kf, path, 0, NULL));
  return kf;
}

/* A line of /proc/PID/status ("Cpus_allowed_list"). */
static gchar *
proc_status (gint pid, const gchar *key)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree gchar *data = NULL;
  g_auto(GStrv) lines = NULL;
  g_assert_true (g_file_get_contents (path, &data, NULL, NULL));
  lines = g_strsplit (data, "\n", -1);
  for (gsize i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], key) && lines[i][strlen (key)] == ':')
      return g_strstrip (g_strdup (lines[i] + strlen (key) + 1));
  return NULL;
}

/* One variable of the process's environment, NULL if unset. */
static gchar *
proc_env (gint pid, const gchar *name)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/environ", pid);
  g_autofree gchar *data = NULL;
  gsize len = 0;
  /* empty while the job's shell execs its command: read again */
  for (gint i = 0; i < 40 && len == 0; i++)
    {
      g_clear_pointer (&data, g_free);
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      if (len == 0)
        g_usleep (50 * 1000);
    }
  g_assert_cmpuint (len, >, 0);
  for (gsize off = 0; off < len; off += strlen (data + off) + 1)
    if (g_str_has_prefix (data + off, name) && data[off + strlen (name)] == '=')
      return g_strdup (data + off + strlen (name) + 1);
  return NULL;
}

/* The value of cgroup file @name in the job's dir that has it. */
static gchar *
cgroup_value (GKeyFile *record, const gchar *name)
{
  g_autofree gchar *list = g_key_file_get_string (record, "job", "cgroups", NULL);
  g_auto(GStrv) dirs = g_strsplit (list ? list : "", ";", -1);
  for (gsize i = 0; dirs[i]; i++)
    {
      g_autofree gchar *path = g_build_filename (dirs[i], name, NULL);
      gchar *value = NULL;
      if (dirs[i][0] && g_file_get_contents (path, &value, NULL, NULL))
        return g_strstrip (value);
    }
  return NULL;
}

static gint
job_pid (const gchar *id)
{
  g_autoptr(GKeyFile) kf = job_record (id);
  return g_key_file_get_integer (kf, "job", "pid", NULL);
}

static void
submit (MnTestJob *job, const gchar *id, const MnPolicyAllocation *a,
        const MnPolicyConfig *policy)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *got = NULL;
  MnJobSpec spec = mn_test_job_spec (job, id);
  spec.unix_user = NULL;
  spec.memory_mb = a->memory_max_mb;
  spec.node = (gint) a->node;
  spec.logical = (gint) a->logical;
  spec.allocation = a;
  spec.policy = policy;
  got = mn_backend_submit (job->backend, &spec, g_get_real_time () / G_USEC_PER_SEC, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got, ==, id);
}

static void
cancel_and_wait (MnBackend *b, const gchar *id)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (mn_backend_cancel (b, id, g_get_real_time () / G_USEC_PER_SEC, &error));
  mn_job_status_free (mn_test_wait_for (b, id, MN_JOB_DONE, 15));
}

/* Two jobs on the two logical nodes: each in its logical node's cpuset,
 * under its memory limit for RAM and for RAM + swap, with a CPU quota of its
 * cores, and no GPU visible. */
static void
test_limits (void)
{
  g_autoptr(MnPolicyConfig) policy = small_policy (2, 2);
  g_autoptr(MnPolicyState) ps = mn_policy_state_new (policy);
  MnTestJob job = { 0 };
  MnPolicyAllocation a, b;
  const gchar *ids[] = { "limits-a", "limits-b" };
  MnPolicyAllocation *allocs[] = { &a, &b };

  if (!start_cgroup_test (&job, "exec sleep 60"))
    return;
  admit (ps, 1, 100, &a);
  admit (ps, 2, 200, &b);
  g_assert_cmpuint (a.logical, !=, b.logical);
  for (guint i = 0; i < 2; i++)
    submit (&job, ids[i], allocs[i], policy);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GKeyFile) rec = NULL;
      g_autofree gchar *cpus = NULL, *want_cpus = mn_policy_allocation_cpu_list (allocs[i]);
      g_autofree gchar *cuda = NULL, *mem = NULL, *memsw = NULL, *quota = NULL, *period = NULL;
      g_autofree gchar *want_mem = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                    allocs[i]->memory_max_mb * 1024 * 1024);
      gint pid;
      mn_job_status_free (mn_test_wait_for (job.backend, ids[i], MN_JOB_RUNNING, 10));
      rec = job_record (ids[i]);
      pid = job_pid (ids[i]);
      cpus = proc_status (pid, "Cpus_allowed_list");
      g_test_message ("%s: logical node %u, cpus %s (model %s)", ids[i], allocs[i]->logical,
                      cpus, want_cpus);
      g_assert_cmpstr (cpus, ==, want_cpus);
      cuda = proc_env (pid, "CUDA_VISIBLE_DEVICES");
      g_assert_cmpstr (cuda, ==, "");
      mem = cgroup_value (rec, "memory.limit_in_bytes");
      if (mem == NULL)
        mem = cgroup_value (rec, "memory.max");
      g_assert_cmpstr (mem, ==, want_mem);
      memsw = cgroup_value (rec, "memory.memsw.limit_in_bytes");
      if (memsw != NULL)
        g_assert_cmpstr (memsw, ==, want_mem);   /* RAM + swap = L */
      quota = cgroup_value (rec, "cpu.cfs_quota_us");
      period = cgroup_value (rec, "cpu.cfs_period_us");
      if (quota != NULL)
        {
          g_assert_cmpstr (quota, ==, "100000");
          g_assert_cmpstr (period, ==, "100000");
        }
      else
        {
          g_autofree gchar *max = cgroup_value (rec, "cpu.max");
          g_assert_cmpstr (max, ==, "100000 100000");
        }
    }
  for (guint i = 0; i < 2; i++)
    cancel_and_wait (job.backend, ids[i]);
  mn_test_job_clear (&job);
}

/* A job whose footprint passes its limit L: the kernel kills it in its
 * cgroup, and the backend says so with the cap's code.  Its helper process
 * keeps running (a Jupyter server whose kernel died): the whole job ends. */
static void
test_memory_cap (void)
{
  g_autoptr(MnPolicyConfig) policy = small_policy (2, 2);
  g_autoptr(MnPolicyState) ps = mn_policy_state_new (policy);
  MnTestJob job = { 0 };
  MnPolicyAllocation a;
  MnJobStatus *st;
  /* 300 MB touched against a 128 MB limit, in a child; the job's own shell
   * would outlive it */
  if (!start_cgroup_test (&job, "perl -e '$x = \"x\" x (300 * 1024 * 1024); sleep 60' &\n"
                    "sleep 60\n"))
    return;
  admit (ps, 1, 128, &a);
  submit (&job, "cap", &a, policy);
  st = mn_test_wait_for (job.backend, "cap", MN_JOB_DONE, 20);
  g_test_message ("over its limit: %s (end %s)", st->message, mn_end_reason_to_string (st->end));
  g_assert_cmpint (st->end, ==, MN_END_MEMORY_CAP);
  g_assert_nonnull (strstr (st->message, "memory limit (128 MB)"));
  mn_job_status_free (st);
  mn_test_job_clear (&job);
}

/* Under its limit nothing happens: the same job with room runs on. */
static void
test_under_cap (void)
{
  g_autoptr(MnPolicyConfig) policy = small_policy (2, 2);
  g_autoptr(MnPolicyState) ps = mn_policy_state_new (policy);
  MnTestJob job = { 0 };
  MnPolicyAllocation a;
  MnJobStatus *st;
  if (!start_cgroup_test (&job, "perl -e '$x = \"x\" x (100 * 1024 * 1024); sleep 2'; echo $? > exit_code\n"))
    return;
  admit (ps, 1, 256, &a);
  submit (&job, "room", &a, policy);
  st = mn_test_wait_for (job.backend, "room", MN_JOB_DONE, 20);
  g_assert_cmpint (st->end, ==, MN_END_NONE);
  g_assert_cmpint (st->exit_code, ==, 0);
  mn_job_status_free (st);
  mn_test_job_clear (&job);
}

/* The walltime from the job's start, ended with its code. */
static void
test_walltime (void)
{
  g_autoptr(MnPolicyConfig) policy = small_policy (2, 2);
  g_autoptr(MnPolicyState) ps = mn_policy_state_new (policy);
  MnTestJob job = { 0 };
  MnPolicyRequest r = { .job_id = 1, .user = "u", .cores = 1, .memory_mb = 64, .walltime = 2 };
  MnDecision d = { 0 };
  MnJobStatus *st;
  mn_test_job_init (&job, "root", "mn-local", "exec sleep 60");
  job.backend = make_backend ();
  mn_policy_state_request (ps, &r, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_START);
  submit (&job, "wall", &d.allocation, policy);
  /* polls with the clock: the deadline is checked against it */
  for (gint i = 0; i < 100; i++)
    {
      g_autoptr(GError) error = NULL;
      const gchar *ids[] = { "wall", NULL };
      g_autoptr(GHashTable) all = NULL;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      all = mn_backend_poll (job.backend, ids, g_get_real_time () / G_USEC_PER_SEC, &error);
      g_assert_no_error (error);
      if (((MnJobStatus *) g_hash_table_lookup (all, "wall"))->state == MN_JOB_DONE)
        break;
      g_usleep (200 * 1000);
    }
  st = mn_test_wait_for (job.backend, "wall", MN_JOB_DONE, 1);
  g_assert_cmpint (st->end, ==, MN_END_WALLTIME);
  mn_job_status_free (st);
  mn_decision_clear (&d);
  mn_test_job_clear (&job);
}

/* The startup check names the policy's keys that this host does not
 * match; a policy the size of the host passes. */
static void
test_host_fit (void)
{
  g_autoptr(MnPolicyConfig) tsubame = mn_policy_config_new_default ();
  g_autoptr(MnPolicyConfig) fits = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(MnBackend) b = make_backend ();
  g_autoptr(GString) all = g_string_new (NULL);
  MnPolicyHost host;
  mn_backend_local_host (b, &host);
  g_assert_cmpuint (host.nodes, ==, 1);
  g_assert_cmpuint (host.cores, >=, 1);
  g_assert_cmpuint (host.memory_mb, >, 0);
  g_assert_false (mn_backend_check_policy (b, tsubame, problems));
  for (guint i = 0; i < problems->len; i++)
    {
      g_test_message ("TSUBAME3 policy here: %s", (const gchar *) g_ptr_array_index (problems, i));
      g_string_append_printf (all, "%s\n", (const gchar *) g_ptr_array_index (problems, i));
    }
  g_assert_nonnull (strstr (all->str, "[queue] nodes = 4"));
  if (host.cores < 28)
    g_assert_nonnull (strstr (all->str, "[logical_node] per_node x cores = 28 cores"));
  if (host.memory_mb < 256 * 1024)
    g_assert_nonnull (strstr (all->str, "[node] memory = 256G"));
  if (host.swap_mb < 1536 * 1024)
    g_assert_nonnull (strstr (all->str, "[node] swap"));
  if (host.gpus < 4)
    g_assert_nonnull (strstr (all->str, "[logical_node] per_node x gpus = 4 GPUs"));
  /* this host's own shape */
  fits = small_policy (host.cores, 1);
  fits->node_memory_mb = MIN (host.memory_mb, 2048);
  fits->node_swap_mb = 0;
  g_ptr_array_set_size (problems, 0);
  if (!mn_backend_check_policy (b, fits, problems))
    for (guint i = 0; i < problems->len; i++)
      g_test_message ("fitting policy: %s", (const gchar *) g_ptr_array_index (problems, i));
  for (guint i = 0; i < problems->len; i++)
    g_assert_null (strstr (g_ptr_array_index (problems, i), "[node]"));
}

/* A policy node larger than the host (4 logical nodes of 1 core on a host
 * of fewer CPUs): the jobs still run, each logical node's core folded onto
 * the host's CPUs (core c -> the host's CPU c mod its count). */
static void
test_fold (void)
{
  g_autoptr(MnPolicyConfig) policy = small_policy (4, 4);
  g_autoptr(MnPolicyState) ps = mn_policy_state_new (policy);
  MnTestJob job = { 0 };
  MnPolicyHost host;
  MnPolicyAllocation a[4];
  gchar ids[4][16];

  mn_test_job_init (&job, "root", "mn-local", "exec sleep 60");
  job.backend = make_backend ();
  mn_backend_local_host (job.backend, &host);
  if (!have_cgroups (job.backend))
    {
      mn_test_job_clear (&job);
      return;
    }
  for (guint i = 0; i < 4; i++)
    {
      admit (ps, i + 1, 64, &a[i]);
      g_snprintf (ids[i], sizeof ids[i], "fold-%u", i);
      submit (&job, ids[i], &a[i], policy);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_autofree gchar *cpus = NULL;
      cpu_set_t own;
      guint want = 0, seen = 0;
      mn_job_status_free (mn_test_wait_for (job.backend, ids[i], MN_JOB_RUNNING, 10));
      cpus = proc_status (job_pid (ids[i]), "Cpus_allowed_list");
      /* the (cpu_first mod n)-th of the controller's CPUs */
      g_assert_cmpint (sched_getaffinity (0, sizeof own, &own), ==, 0);
      for (guint c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET (c, &own) && seen++ == a[i].cpu_first % host.cores)
          {
            want = c;
            break;
          }
      g_test_message ("logical node %u (core %u) -> cpus %s", a[i].logical, a[i].cpu_first, cpus);
      {
        g_autofree gchar *w = g_strdup_printf ("%u", want);
        g_assert_cmpstr (cpus, ==, w);
      }
    }
  for (guint i = 0; i < 4; i++)
    cancel_and_wait (job.backend, ids[i]);
  mn_test_job_clear (&job);
}

/* The directories a test makes beside the jobs' cgroups, one a line, for
 * clean_up to remove whatever happened. */
static void
note_fixture (const gchar *path)
{
  g_autofree gchar *list = g_build_filename (state_dir, "fixtures", NULL);
  FILE *f = fopen (list, "a");
  g_assert_nonnull (f);
  fprintf (f, "%s\n", path);
  fclose (f);
}

static void
age_dir (const gchar *path, gint seconds)
{
  gint64 when = g_get_real_time () / G_USEC_PER_SEC - seconds;
  struct timespec t[2] = { { when, 0 }, { when, 0 } };
  g_assert_cmpint (utimensat (AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), ==, 0);
}

/* A controller started again sweeps the empty job cgroups that others left
 * beside its jobs once they are old enough, keeps a young one (another
 * controller's job about to join it), and adopts its job, which then ends
 * with nothing of it left. */
static void
test_start_sweeps (void)
{
  g_autoptr(MnPolicyConfig) policy = small_policy (2, 2);
  g_autoptr(MnPolicyState) ps = mn_policy_state_new (policy);
  MnTestJob job = { 0 };
  MnPolicyAllocation a;
  g_autoptr(GKeyFile) rec = NULL;
  g_autofree gchar *list = NULL;
  g_auto(GStrv) dirs = NULL;
  g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) young = g_ptr_array_new_with_free_func (g_free);
  gint64 end;
  gboolean gone = FALSE;

  if (!start_cgroup_test (&job, "exec sleep 60"))
    return;
  admit (ps, 1, 64, &a);
  submit (&job, "sweep-live", &a, policy);
  mn_job_status_free (mn_test_wait_for (job.backend, "sweep-live", MN_JOB_RUNNING, 10));
  rec = job_record ("sweep-live");
  list = g_key_file_get_string (rec, "job", "cgroups", NULL);
  dirs = g_strsplit (list, ";", -1);
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      g_autofree gchar *parent = g_path_get_dirname (dirs[i]);
      gchar *o = g_strdup_printf ("%s/sweep-old-%d", parent, (int) getpid ());
      gchar *y = g_strdup_printf ("%s/sweep-young-%d", parent, (int) getpid ());
      note_fixture (o);
      note_fixture (y);
      g_assert_cmpint (g_mkdir (o, 0755), ==, 0);
      g_assert_cmpint (g_mkdir (y, 0755), ==, 0);
      age_dir (o, 3600);
      g_ptr_array_add (old, o);
      g_ptr_array_add (young, y);
    }
  /* (that an adopted job's cgroup is kept even when empty and old is the
   * fake tree's case in backend-local-sweep: here, in the parent every
   * controller on this host sweeps, another test's controller starting at
   * that moment would remove it) */
  /* the controller stops (its job runs on) and starts again */
  g_clear_pointer (&job.backend, mn_backend_free);
  job.backend = make_backend ();
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!gone && g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      gone = TRUE;
      for (guint i = 0; i < old->len; i++)
        if (g_file_test (g_ptr_array_index (old, i), G_FILE_TEST_EXISTS))
          gone = FALSE;
      if (!gone)
        g_usleep (50 * 1000);
    }
  for (guint i = 0; i < old->len; i++)
    {
      g_test_message ("old %s: %s; young %s: %s", (const gchar *) g_ptr_array_index (old, i),
                      g_file_test (g_ptr_array_index (old, i), G_FILE_TEST_EXISTS) ? "still there" : "removed",
                      (const gchar *) g_ptr_array_index (young, i),
                      g_file_test (g_ptr_array_index (young, i), G_FILE_TEST_EXISTS) ? "kept" : "removed");
      g_assert_false (g_file_test (g_ptr_array_index (old, i), G_FILE_TEST_EXISTS));
      g_assert_true (g_file_test (g_ptr_array_index (young, i), G_FILE_TEST_IS_DIR));
    }
  /* adopted: it still runs, and ends with nothing of it left */
  mn_job_status_free (mn_test_wait_for (job.backend, "sweep-live", MN_JOB_RUNNING, 1));
  cancel_and_wait (job.backend, "sweep-live");
  g_clear_pointer (&job.backend, mn_backend_free);
  for (gsize i = 0; dirs[i] != NULL; i++)
    g_assert_false (g_file_test (dirs[i], G_FILE_TEST_EXISTS));
  for (guint i = 0; i < young->len; i++)
    g_assert_cmpint (g_rmdir (g_ptr_array_index (young, i)), ==, 0);
  mn_test_job_clear (&job);
}

/* Whatever happened in the child: the jobs by their recorded PIDs, and the
 * directories the tests made beside the jobs' cgroups. */
static void
clean_up (void)
{
  g_autofree gchar *jobs = g_build_filename (state_dir, "jobs", NULL);
  g_autofree gchar *list = g_build_filename (state_dir, "fixtures", NULL);
  g_autofree gchar *text = NULL;
  mn_test_kill_recorded_jobs (jobs);
  if (g_file_get_contents (list, &text, NULL, NULL))
    {
      g_auto(GStrv) paths = g_strsplit (text, "\n", -1);
      for (gsize i = 0; paths[i] != NULL; i++)
        if (paths[i][0] != '\0')
          g_rmdir (paths[i]);   /* cgroups: rmdir, never recursively */
    }
  mn_test_remove_dir (state_dir);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int rc;
  g_test_init (&argc, &argv, NULL);
  state_dir = g_dir_make_tmp ("minna-local-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/backend/local/limits", test_limits);
  g_test_add_func ("/backend/local/memory-cap", test_memory_cap);
  g_test_add_func ("/backend/local/under-cap", test_under_cap);
  g_test_add_func ("/backend/local/walltime", test_walltime);
  g_test_add_func ("/backend/local/host-fit", test_host_fit);
  g_test_add_func ("/backend/local/fold", test_fold);
  g_test_add_func ("/backend/local/start-sweeps", test_start_sweeps);
  if ((rc = mn_test_run_in_child (clean_up)) >= 0)
    return rc;
  rc = g_test_run ();
  fflush (stdout);
  _exit (rc);
}
