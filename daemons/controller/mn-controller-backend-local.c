/* mn-controller-backend-local.c */
#define G_LOG_DOMAIN "minna-controller"
#define _GNU_SOURCE   /* clone() */

#include "mn-controller-backend-local.h"
#include "mn-controller-local-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  MnBackend   parent;
  gchar      *jobs_dir;
  gint64      kill_grace;
  MnLocalCgroups *cgroups;
  MnPolicyHost host;         /* what this host has (the policy's node must fit) */
  GArray     *host_cpus;     /* guint: the CPUs jobs may use (the controller's) */
  GHashTable *watches;       /* pid -> source id */
  GHashTable *exited;        /* pid -> wait status (children we reaped) */
  GHashTable *records;       /* id -> JobRecord*: the records' files, read once */
  GHashTable *oom_checked;   /* id -> the second its memory cgroup was last read */
  guint       sweep_source;  /* the start's sweep of earlier controllers' cgroups, pending */
  GMutex      lock;          /* watches, exited, records: submit runs in threads */
} MnBackendLocal;

typedef struct {
  gint    pid;
  guint64 starttime;
  gint64  deadline;
  gint64  term_at;
  gint64  kill_at;
  gchar  *reason;
  MnEndReason end;           /* why it was ended (walltime, cancelled), as a code */
  gchar  *cgroups;           /* ';'-separated dirs */
  gchar  *session_dir;
  gint64  started;           /* when it was started (the walltime counts from here) */
  gchar  *cpus;              /* the cpuset it got on this host, NULL: all */
  guint64 memory_mb;         /* its RAM limit, and RAM + swap */
  guint64 memory_swap_mb;
} JobRecord;

static void
job_record_free (JobRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->reason);
  g_free (r->cgroups);
  g_free (r->session_dir);
  g_free (r->cpus);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (JobRecord, job_record_free)

static gchar *
record_path (MnBackendLocal *self, const gchar *id)
{
  return g_build_filename (self->jobs_dir, id, NULL);
}

static gboolean
valid_id (const gchar *id)
{
  return mn_local_cgroups_valid_id (id);
}

static JobRecord *
record_copy (const JobRecord *r)
{
  JobRecord *c = g_memdup2 (r, sizeof *r);
  c->reason = g_strdup (r->reason);
  c->cgroups = g_strdup (r->cgroups);
  c->session_dir = g_strdup (r->session_dir);
  c->cpus = g_strdup (r->cpus);
  return c;
}

static JobRecord *
record_read (MnBackendLocal *self, const gchar *id, GError **error)
{
  g_autofree gchar *path = record_path (self, id);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  JobRecord *r;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return NULL;
  r = g_new0 (JobRecord, 1);
  r->pid = g_key_file_get_integer (kf, "job", "pid", NULL);
  r->starttime = g_key_file_get_uint64 (kf, "job", "starttime", NULL);
  r->deadline = g_key_file_get_int64 (kf, "job", "deadline", NULL);
  r->term_at = g_key_file_get_int64 (kf, "job", "term_at", NULL);
  r->kill_at = g_key_file_get_int64 (kf, "job", "kill_at", NULL);
  r->reason = g_key_file_get_string (kf, "job", "reason", NULL);
  {
    g_autofree gchar *end = g_key_file_get_string (kf, "job", "end", NULL);
    if (end == NULL || !mn_end_reason_from_string (end, &r->end))
      r->end = MN_END_NONE;
  }
  r->cgroups = g_key_file_get_string (kf, "job", "cgroups", NULL);
  r->session_dir = g_key_file_get_string (kf, "job", "session_dir", NULL);
  r->started = g_key_file_get_int64 (kf, "job", "started", NULL);
  r->cpus = g_key_file_get_string (kf, "job", "cpus", NULL);
  r->memory_mb = g_key_file_get_uint64 (kf, "job", "memory_mb", NULL);
  r->memory_swap_mb = g_key_file_get_uint64 (kf, "job", "memory_swap_mb", NULL);
  return r;
}

/* A copy of job @id's record: from memory once its file was read (every
 * poll asks for every job's; parsing each file ten times a second for a
 * hundred jobs kept the main loop from answering). */
static JobRecord *
record_load (MnBackendLocal *self, const gchar *id, GError **error)
{
  JobRecord *r;
  g_mutex_lock (&self->lock);
  r = g_hash_table_lookup (self->records, id);
  r = r ? record_copy (r) : NULL;
  g_mutex_unlock (&self->lock);
  if (r != NULL)
    return r;
  r = record_read (self, id, error);
  if (r != NULL)
    {
      g_mutex_lock (&self->lock);
      g_hash_table_replace (self->records, g_strdup (id), record_copy (r));
      g_mutex_unlock (&self->lock);
    }
  return r;
}

static gboolean
record_write (MnBackendLocal *self, const gchar *id, const JobRecord *r, GError **error)
{
  g_autofree gchar *path = record_path (self, id);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_key_file_set_integer (kf, "job", "pid", r->pid);
  g_key_file_set_uint64 (kf, "job", "starttime", r->starttime);
  g_key_file_set_int64 (kf, "job", "deadline", r->deadline);
  g_key_file_set_int64 (kf, "job", "term_at", r->term_at);
  g_key_file_set_int64 (kf, "job", "kill_at", r->kill_at);
  g_key_file_set_string (kf, "job", "reason", r->reason ? r->reason : "");
  if (r->end != MN_END_NONE)
    g_key_file_set_string (kf, "job", "end", mn_end_reason_to_string (r->end));
  g_key_file_set_string (kf, "job", "cgroups", r->cgroups ? r->cgroups : "");
  g_key_file_set_string (kf, "job", "session_dir", r->session_dir ? r->session_dir : "");
  g_key_file_set_int64 (kf, "job", "started", r->started);
  if (r->cpus != NULL)
    g_key_file_set_string (kf, "job", "cpus", r->cpus);
  g_key_file_set_uint64 (kf, "job", "memory_mb", r->memory_mb);
  g_key_file_set_uint64 (kf, "job", "memory_swap_mb", r->memory_swap_mb);
  return g_key_file_save_to_file (kf, path, error);
}

static gboolean
record_save (MnBackendLocal *self, const gchar *id, const JobRecord *r, GError **error)
{
  gboolean ok = record_write (self, id, r, error);
  g_mutex_lock (&self->lock);
  if (ok)
    g_hash_table_replace (self->records, g_strdup (id), record_copy (r));
  else
    g_hash_table_remove (self->records, id);   /* the file decides */
  g_mutex_unlock (&self->lock);
  return ok;
}

/* Field 22 of /proc/PID/stat; 0 if the process is gone or a zombie. */
static guint64
proc_starttime (gint pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *data = NULL;
  gchar *p;
  g_auto(GStrv) fields = NULL;
  if (pid <= 0 || !g_file_get_contents (path, &data, NULL, NULL))
    return 0;
  p = strrchr (data, ')');   /* the command name may hold spaces */
  if (p == NULL)
    return 0;
  fields = g_strsplit (p + 2, " ", 0);
  /* fields[0] is field 3 (state) */
  if (g_strv_length (fields) < 20 || fields[0][0] == 'Z' || fields[0][0] == 'X')
    return 0;
  return g_ascii_strtoull (fields[19], NULL, 10);
}

/* Its process, not one that took its pid since.  A job that was over before
 * its start time could be read (starttime 0: a zombie or gone) is over. */
static gboolean
job_alive (const JobRecord *r)
{
  return r->pid > 0 && r->starttime != 0 && proc_starttime (r->pid) == r->starttime;
}

/* job_alive without /proc for the jobs this controller started: its child
 * watch knows (a poll every 100 ms of a hundred jobs read as many /proc
 * files ten times a second).  Jobs adopted after a restart: /proc. */
static gboolean
job_alive_here (MnBackendLocal *self, const JobRecord *r)
{
  gint known = 0;   /* 1 alive, -1 over, 0 not ours */
  if (r->pid <= 0 || r->starttime == 0)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (g_hash_table_contains (self->watches, GINT_TO_POINTER (r->pid)))
    known = 1;
  else if (g_hash_table_contains (self->exited, GINT_TO_POINTER (r->pid)))
    known = -1;
  g_mutex_unlock (&self->lock);
  return known != 0 ? known > 0 : job_alive (r);
}

/* Whether the kernel OOM-killed anything in the job's memory cgroup; read
 * at most once a second per job while it runs. */
static gboolean
oom_killed (MnBackendLocal *self, const gchar *id, const JobRecord *r, gint64 now, gboolean running)
{
  if (running)
    {
      gpointer last = g_hash_table_lookup (self->oom_checked, id);
      if (last != NULL && GPOINTER_TO_SIZE (last) == (gsize) now)
        return FALSE;
      g_hash_table_replace (self->oom_checked, g_strdup (id), GSIZE_TO_POINTER ((gsize) now));
    }
  return mn_local_cgroups_oom_kills (self->cgroups, r->cgroups) > 0;
}

static void
signal_job (const JobRecord *r, int sig)
{
  g_auto(GStrv) dirs = g_strsplit (r->cgroups ? r->cgroups : "", ";", -1);
  if (job_alive (r))
    kill (-r->pid, sig);
  /* processes that left the process group are still in the cgroup */
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      g_autofree gchar *procs = NULL;
      g_autofree gchar *path = NULL;
      g_auto(GStrv) pids = NULL;
      if (dirs[i][0] == '\0')
        continue;
      path = g_build_filename (dirs[i], "cgroup.procs", NULL);
      if (!g_file_get_contents (path, &procs, NULL, NULL))
        continue;
      pids = g_strsplit (procs, "\n", -1);
      for (gsize k = 0; pids[k] != NULL; k++)
        {
          /* a process of another pid namespace is listed as 0: kill (0)
           * would signal the controller's own process group */
          pid_t pid = (pid_t) g_ascii_strtoll (pids[k], NULL, 10);
          if (pid > 0)
            kill (pid, sig);
        }
    }
}

static void     job_limits (MnBackendLocal *self, const MnJobSpec *spec, MnLocalLimits *l,
                            gchar **cpus);
static gboolean cpu_set_from_list (const gchar *text, cpu_set_t *set);

static gint
mn_compare_guint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

/* ---- spawn --------------------------------------------------------------- */

/* the open-file limit the controller was started with: its jobs get it
 * (mn_backend_local_raise_fd_limit) */
static struct rlimit job_nofile;
static gboolean job_nofile_set;

void
mn_backend_local_raise_fd_limit (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    return;
  job_nofile = rl;
  job_nofile_set = TRUE;
  if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536)
    {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : MIN (rl.rlim_max, 65536);
      (void) setrlimit (RLIMIT_NOFILE, &rl);
    }
}

typedef struct {
  gboolean  switch_user;
  uid_t     uid;
  gid_t     gid;
  gid_t     groups[256];
  int       ngroups;
  gchar    *procs[5];        /* cgroup.procs files to join */
  guint64   rlimit_as;       /* 0: none */
  gboolean  set_affinity;    /* no cpuset cgroup: bind to the cores instead */
  cpu_set_t affinity;
  const gchar        *dir;   /* working directory */
  const gchar *const *argv;
  const gchar *const *envp;
  int       in, out;         /* stdin (/dev/null), stdout+stderr; both >= 3 */
  int       child_errno;     /* set by the child when it cannot exec */
  const gchar *failed;       /* ... and what it was doing */
} ChildSetup;

/* The job's process is made with clone (CLONE_VM | CLONE_VFORK), as
 * posix_spawn does, not fork: a fork of this multi-threaded controller
 * write-protects its whole address space, and a hundred of them at the top
 * of a lecture made the main loop spend half its time in copy-on-write
 * faults (each a TLB shoot-down across the CPUs) instead of answering.  The
 * child shares our memory until it execs, so it only makes system calls:
 * no malloc, no locks, no glibc set*id wrappers (those signal every thread
 * of the process they believe they are in). */
static int
child_main (void *data)
{
  ChildSetup *c = data;
  struct sigaction dfl;
  sigset_t none;
  long fd_max;
  struct rlimit nofile;

  memset (&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  /* own handler table (no CLONE_SIGHAND): the controller's handlers would
   * run on its memory */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction (sig, &dfl, NULL);
  setsid ();
  /* First of all, nothing of the controller's may stay in the job: the
   * controller's listening socket among them.  A controller killed while
   * this child set up its cgroups left the socket open here, its port taken
   * and the connections it queued reset. */
  if (dup2 (c->in, 0) < 0 || dup2 (c->out, 1) < 0 || dup2 (c->out, 2) < 0)
    {
      c->child_errno = errno;
      c->failed = "redirect its output";
      _exit (127);
    }
  if (syscall (SYS_close_range, 3U, ~0U, 0U) != 0)
    {
      fd_max = getrlimit (RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
               ? (long) MIN (nofile.rlim_cur, 65536) : 65536;
      for (long fd = 3; fd < fd_max; fd++)
        close ((int) fd);
    }
  for (int i = 0; i < 5 && c->procs[i] != NULL; i++)
    {
      int fd = open (c->procs[i], O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, "0", 1) != 1)
            (void) !write (1, "minna: could not join cgroup\n", 29);
          close (fd);
        }
    }
  if (c->set_affinity)
    syscall (SYS_sched_setaffinity, 0, sizeof c->affinity, &c->affinity);
  if (c->rlimit_as > 0)
    {
      struct rlimit rl = { c->rlimit_as, c->rlimit_as };
      setrlimit (RLIMIT_AS, &rl);
    }
  if (job_nofile_set)
    setrlimit (RLIMIT_NOFILE, &job_nofile);
  if (c->switch_user &&
      (syscall (SYS_setgroups, (size_t) c->ngroups, c->groups) != 0 ||
       syscall (SYS_setgid, c->gid) != 0 || syscall (SYS_setuid, c->uid) != 0))
    {
      c->child_errno = errno;
      c->failed = "switch to the user";
      _exit (126);
    }
  if (chdir (c->dir) != 0)
    {
      c->child_errno = errno;
      c->failed = "change to the session directory";
      _exit (127);
    }
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  execve (c->argv[0], (char *const *) c->argv, (char *const *) c->envp);
  c->child_errno = errno;
  c->failed = "exec";
  _exit (127);
}

#define CHILD_STACK (64 * 1024)

/* Starts the job; its pid, or 0 with @error set. */
static GPid
spawn_job (ChildSetup *c, GError **error)
{
  g_autofree guint8 *stack = g_malloc (CHILD_STACK);
  sigset_t all, old;
  pid_t pid;
  int saved;

  c->child_errno = 0;
  c->failed = NULL;
  /* no signal handler may run in the child while it shares our memory */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  pid = clone (child_main, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
  saved = errno;
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (pid < 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "clone: %s", g_strerror (saved));
      return 0;
    }
  if (c->child_errno != 0)
    {
      /* it has exited: reap it here, nobody watches it yet */
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", c->failed, g_strerror (c->child_errno));
      return 0;
    }
  return pid;
}

static void
on_child_exit (GPid pid, gint status, gpointer data)
{
  MnBackendLocal *self = data;
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->watches, GINT_TO_POINTER (pid));
  g_hash_table_insert (self->exited, GINT_TO_POINTER (pid), GINT_TO_POINTER (status));
  g_mutex_unlock (&self->lock);
  g_spawn_close_pid (pid);
}

static void
add_env (GStrvBuilder *b, gchar *entry)
{
  g_strv_builder_add (b, entry);
  g_free (entry);
}

static gchar *
local_submit (MnBackend *backend, const MnJobSpec *spec, gint64 now, GError **error)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  g_autoptr(JobRecord) old = NULL;
  g_autoptr(JobRecord) r = g_new0 (JobRecord, 1);
  ChildSetup cs = { 0 };
  g_autofree gchar *home = NULL, *user_name = NULL, *shell = NULL;
  g_auto(GStrv) dirs = NULL;
  g_autoptr(GStrvBuilder) envb = g_strv_builder_new ();
  g_auto(GStrv) envp = NULL;
  g_autofree gchar *cpus = NULL;
  MnLocalLimits limits;
  const gchar *argv[] = { "/bin/sh", spec->script, NULL };
  GPid pid = 0;
  int out, null_in;

  if (!valid_id (spec->session_id))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "bad session id '%s'", spec->session_id);
      return NULL;
    }
  /* idempotent: the job of a submit that crashed before it was recorded */
  old = record_load (self, spec->session_id, NULL);
  if (old != NULL && job_alive (old))
    return g_strdup (spec->session_id);

  if (spec->unix_user != NULL)
    {
      /* getpwnam_r: submissions run in worker threads, beside PAM's
       * look-ups in the login threads (getpwnam's buffer is shared) */
      struct passwd pwbuf, *pw = NULL;
      gchar pwtext[4096];
      if (getpwnam_r (spec->unix_user, &pwbuf, pwtext, sizeof pwtext, &pw) != 0)
        pw = NULL;
      if (pw == NULL)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                       "no Unix account '%s'", spec->unix_user);
          return NULL;
        }
      cs.switch_user = TRUE;
      cs.uid = pw->pw_uid;
      cs.gid = pw->pw_gid;
      cs.ngroups = G_N_ELEMENTS (cs.groups);
      if (getgrouplist (pw->pw_name, pw->pw_gid, cs.groups, &cs.ngroups) < 0)
        cs.ngroups = 0;
      home = g_strdup (pw->pw_dir);
      user_name = g_strdup (pw->pw_name);
      shell = g_strdup (pw->pw_shell);
    }
  else
    {
      home = g_strdup (g_get_home_dir ());
      user_name = g_strdup (g_get_user_name ());
      shell = g_strdup ("/bin/sh");
    }

  job_limits (self, spec, &limits, &cpus);
  r->cgroups = mn_local_cgroups_make (self->cgroups, spec->session_id, &limits, error);
  if (r->cgroups == NULL)
    {
      g_prefix_error (error, "job %s: ", spec->session_id);
      return NULL;
    }
  dirs = g_strsplit (r->cgroups, ";", -1);
  for (gsize i = 0, k = 0; dirs[i] != NULL && k < G_N_ELEMENTS (cs.procs) - 1; i++)
    if (dirs[i][0] != '\0')
      cs.procs[k++] = g_build_filename (dirs[i], "cgroup.procs", NULL);
  if (!mn_local_cgroups_limits_memory (self->cgroups))
    cs.rlimit_as = limits.memory_swap_mb * 1024 * 1024;
  if (cpus != NULL && !mn_local_cgroups_limits_cpus (self->cgroups))
    cs.set_affinity = cpu_set_from_list (cpus, &cs.affinity);
  r->cpus = g_strdup (cpus);
  r->memory_mb = limits.memory_mb;
  r->memory_swap_mb = limits.memory_swap_mb;

  g_strv_builder_add (envb, "PATH=/usr/local/bin:/usr/bin:/bin");
  g_strv_builder_add (envb, "LANG=C.UTF-8");
  add_env (envb, g_strdup_printf ("HOME=%s", home));
  add_env (envb, g_strdup_printf ("USER=%s", user_name));
  add_env (envb, g_strdup_printf ("LOGNAME=%s", user_name));
  add_env (envb, g_strdup_printf ("SHELL=%s", shell));
  add_env (envb, g_strdup_printf ("MINNA_CORES=%u", spec->cores));
  add_env (envb, g_strdup_printf ("OMP_NUM_THREADS=%u", MAX (spec->cores, 1)));
  /* its GPUs (none: an empty list hides every GPU from CUDA) */
  if (spec->allocation != NULL)
    {
      g_autofree gchar *gpus = mn_policy_allocation_gpu_list (spec->allocation);
      add_env (envb, g_strdup_printf ("CUDA_VISIBLE_DEVICES=%s", gpus));
    }
  if (cpus != NULL)
    add_env (envb, g_strdup_printf ("MINNA_CPUS=%s", cpus));
  envp = g_strv_builder_end (envb);

  /* a new attempt must not see what an earlier one left */
  {
    g_autofree gchar *conn = g_build_filename (spec->session_dir, "connection", NULL);
    g_autofree gchar *code = g_build_filename (spec->session_dir, "exit_code", NULL);
    unlink (conn);
    unlink (code);
  }
  out = open (spec->output, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (out >= 0 && out < 3)
    {
      /* the child's dup2 onto 1 and 2 must not meet it there */
      int high = fcntl (out, F_DUPFD_CLOEXEC, 3);
      close (out);
      out = high;
    }
  null_in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_in >= 0 && null_in < 3)
    {
      int high = fcntl (null_in, F_DUPFD_CLOEXEC, 3);
      close (null_in);
      null_in = high;
    }
  if (out < 0 || null_in < 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", out < 0 ? spec->output : "/dev/null", g_strerror (errno));
      if (out >= 0)
        close (out);
      if (null_in >= 0)
        close (null_in);
      for (gsize i = 0; i < G_N_ELEMENTS (cs.procs); i++)
        g_free (cs.procs[i]);
      mn_local_cgroups_remove (self->cgroups, r->cgroups);
      return NULL;
    }
  cs.dir = spec->session_dir;
  cs.argv = argv;
  cs.envp = (const gchar *const *) envp;
  cs.in = null_in;
  cs.out = out;
  pid = spawn_job (&cs, error);
  close (null_in);
  if (pid == 0)
    {
      close (out);
      for (gsize i = 0; i < G_N_ELEMENTS (cs.procs); i++)
        g_free (cs.procs[i]);
      mn_local_cgroups_remove (self->cgroups, r->cgroups);
      g_prefix_error (error, "cannot start %s: ", spec->script);
      return NULL;
    }
  close (out);
  for (gsize i = 0; i < G_N_ELEMENTS (cs.procs); i++)
    g_free (cs.procs[i]);
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->exited, GINT_TO_POINTER (pid));   /* a pid used again */
  g_hash_table_insert (self->watches, GINT_TO_POINTER (pid),
                       GUINT_TO_POINTER (g_child_watch_add (pid, on_child_exit, self)));
  g_mutex_unlock (&self->lock);
  r->pid = pid;
  r->starttime = proc_starttime (pid);
  r->started = now;
  r->deadline = now + (spec->allocation ? spec->allocation->walltime : spec->walltime);
  r->session_dir = g_strdup (spec->session_dir);
  if (!record_save (self, spec->session_id, r, error))
    {
      signal_job (r, SIGKILL);
      return NULL;
    }
  return g_strdup (spec->session_id);
}

static gboolean
local_cancel (MnBackend *backend, const gchar *job_id, gint64 now, GError **error)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  g_autoptr(JobRecord) r = NULL;
  if (!valid_id (job_id) || (r = record_load (self, job_id, error)) == NULL)
    {
      g_prefix_error (error, "job %s: ", job_id);
      return FALSE;
    }
  if (r->term_at != 0)
    return TRUE;
  r->term_at = now;
  if (r->reason == NULL || r->reason[0] == '\0')
    {
      g_free (r->reason);
      r->reason = g_strdup ("cancelled");
      r->end = MN_END_USER;
    }
  if (!record_save (self, job_id, r, error))
    return FALSE;
  signal_job (r, SIGTERM);
  return TRUE;
}

/* Extend: the controller's own walltime timer is the record's deadline. */
static gboolean
local_extend (MnBackend *backend, const gchar *job_id, gint64 walltime, gint64 now,
              GError **error)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  g_autoptr(JobRecord) r = NULL;
  if (!valid_id (job_id) || (r = record_load (self, job_id, error)) == NULL)
    {
      g_prefix_error (error, "job %s: ", job_id);
      return FALSE;
    }
  if (r->term_at != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "job %s is already being stopped (%s)", job_id, r->reason ? r->reason : "");
      return FALSE;
    }
  r->deadline = (r->started > 0 ? r->started : now) + walltime;
  return record_save (self, job_id, r, error);
}

static MnJobStatus *
poll_one (MnBackendLocal *self, const gchar *id, gint64 now)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JobRecord) r = NULL;
  gpointer wstatus = NULL;
  gboolean reaped;

  if (!valid_id (id))
    {
      g_autofree gchar *why = g_strdup_printf ("bad job id '%s'", id);
      return mn_job_status_new (MN_JOB_UNKNOWN, -1, why);
    }
  r = record_load (self, id, &error);
  if (r == NULL)
    {
      g_autofree gchar *why = g_strdup_printf ("no record of job %s: %s", id, error->message);
      return mn_job_status_new (MN_JOB_UNKNOWN, -1, why);
    }
  if (job_alive_here (self, r))
    {
      MnJobStatus *st;
      if (r->end != MN_END_MEMORY_CAP && oom_killed (self, id, r, now, TRUE))
        {
          /* the kernel killed one of its processes at the limit: the model
           * ends the whole job there (cgroup v2 does with memory.oom.group) */
          r->term_at = r->kill_at = now;
          g_free (r->reason);
          r->reason = g_strdup_printf ("killed by its memory limit (%" G_GUINT64_FORMAT " MB)",
                                       r->memory_swap_mb);
          r->end = MN_END_MEMORY_CAP;
          if (record_save (self, id, r, NULL))
            signal_job (r, SIGKILL);
        }
      else if (r->term_at == 0 && now >= r->deadline)
        {
          r->term_at = now;
          g_free (r->reason);
          r->reason = g_strdup ("walltime reached");
          r->end = MN_END_WALLTIME;
          if (record_save (self, id, r, NULL))
            signal_job (r, SIGTERM);
        }
      else if (r->term_at != 0 && r->kill_at == 0 && now >= r->term_at + self->kill_grace)
        {
          r->kill_at = now;
          if (record_save (self, id, r, NULL))
            signal_job (r, SIGKILL);
        }
      st = mn_job_status_new (MN_JOB_RUNNING, 0, NULL);
      st->started = r->started;
      return st;
    }

  /* over: nothing of it may stay behind; an OOM kill in its memory cgroup
   * (read before the cgroup goes) means its limit ended it */
  signal_job (r, SIGKILL);
  g_hash_table_remove (self->oom_checked, id);
  if (r->end != MN_END_MEMORY_CAP && oom_killed (self, id, r, now, FALSE))
    {
      g_free (r->reason);
      r->reason = g_strdup_printf ("killed by its memory limit (%" G_GUINT64_FORMAT " MB)",
                                   r->memory_swap_mb);
      r->end = MN_END_MEMORY_CAP;
      record_save (self, id, r, NULL);
    }
  mn_local_cgroups_remove (self->cgroups, r->cgroups);
  g_mutex_lock (&self->lock);
  reaped = g_hash_table_lookup_extended (self->exited, GINT_TO_POINTER (r->pid), NULL, &wstatus);
  g_mutex_unlock (&self->lock);
  {
    g_autofree gchar *code_path = g_build_filename (r->session_dir, "exit_code", NULL);
    g_autofree gchar *code_text = NULL;
    gint code = -1;
    g_autofree gchar *how = NULL;
    if (g_file_get_contents (code_path, &code_text, NULL, NULL))
      code = (gint) g_ascii_strtoll (code_text, NULL, 10);
    else if (reaped && WIFEXITED (GPOINTER_TO_INT (wstatus)))
      code = WEXITSTATUS (GPOINTER_TO_INT (wstatus));
    if (r->reason && r->reason[0] != '\0')
      how = g_strdup (r->reason);
    else if (code >= 0)
      how = g_strdup_printf ("exit code %d", code);
    else if (reaped && WIFSIGNALED (GPOINTER_TO_INT (wstatus)))
      how = g_strdup_printf ("killed by signal %d", WTERMSIG (GPOINTER_TO_INT (wstatus)));
    else
      how = g_strdup ("ended; no exit status was recorded");
    {
      MnJobStatus *st = mn_job_status_new (MN_JOB_DONE, code, how);
      st->end = r->end;
      /* over: its record is read from its file if it is asked again */
      g_mutex_lock (&self->lock);
      g_hash_table_remove (self->records, id);
      g_mutex_unlock (&self->lock);
      return st;
    }
  }
}

/* Every job record whose process still runs; and of those whose process is
 * gone, the cgroups still there (a controller killed between a job's end
 * and their removal): leftovers.  Only this controller's records count:
 * other controllers on the host make their jobs' cgroups beside ours. */
static GPtrArray *
local_list_jobs (MnBackend *backend, GError **error)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_backend_job_free);
  g_autoptr(GDir) dir = g_dir_open (self->jobs_dir, 0, error);
  const gchar *name;
  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autoptr(JobRecord) r = NULL;
      if (!valid_id (name) || (r = record_read (self, name, NULL)) == NULL)
        continue;
      if (job_alive (r))
        {
          g_autofree gchar *what = g_strdup_printf ("pid %d, session directory %s", r->pid,
                                                    r->session_dir ? r->session_dir : "?");
          g_ptr_array_add (out, mn_backend_job_new (name, name, MN_JOB_RUNNING, what));
        }
      else
        {
          guint procs = 0;
          g_autofree gchar *left = mn_local_cgroups_left (r->cgroups, &procs);
          g_autofree gchar *what = NULL;
          MnBackendJob *job;
          if (left == NULL)
            continue;
          what = procs > 0 ? g_strdup_printf ("cgroup %s, still holding %u process%s", left,
                                              procs, procs == 1 ? "" : "es")
                           : g_strdup_printf ("cgroup %s, empty", left);
          job = mn_backend_job_new (name, name, procs > 0 ? MN_JOB_RUNNING : MN_JOB_DONE, what);
          job->leftover = TRUE;
          g_ptr_array_add (out, job);
        }
    }
  return g_steal_pointer (&out);
}

/* A leftover's cgroups, only while empty: processes in them are reported,
 * never killed (whose they are is for an admin to say). */
static gboolean
local_remove_leftover (MnBackend *backend, const MnBackendJob *job, GError **error)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  g_autoptr(JobRecord) r = NULL;
  g_autofree gchar *left = NULL;
  guint procs = 0;
  if (!valid_id (job->job_id) || (r = record_read (self, job->job_id, error)) == NULL)
    return FALSE;
  if (job_alive (r))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "job %s runs again (pid %d)", job->job_id, r->pid);
      return FALSE;
    }
  left = mn_local_cgroups_left (r->cgroups, &procs);
  if (procs > 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "cgroup %s still holds %u process%s", left, procs, procs == 1 ? "" : "es");
      return FALSE;
    }
  mn_local_cgroups_remove (self->cgroups, left);
  g_free (left);
  left = mn_local_cgroups_left (r->cgroups, &procs);
  if (left != NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "cgroup %s could not be removed yet (tried again at every poll)", left);
      return FALSE;
    }
  return TRUE;
}

static GHashTable *
local_poll (MnBackend *backend, const gchar *const *ids, gint64 now, GError **error)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) mn_job_status_free);
  mn_local_cgroups_retry (self->cgroups);
  for (gsize i = 0; ids[i] != NULL; i++)
    g_hash_table_replace (out, g_strdup (ids[i]), poll_one (self, ids[i], now));
  return out;
}

/* ---- this host and the policy's node ------------------------------------------ */

/* "0-3,6" -> the CPU numbers, ascending; FALSE if it does not parse. */
static gboolean
parse_cpu_list (const gchar *text, GArray *out)
{
  g_auto(GStrv) parts = g_strsplit (text ? text : "", ",", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    {
      g_auto(GStrv) ends = g_strsplit (g_strstrip (parts[i]), "-", 2);
      guint64 a, b;
      if (ends[0] == NULL || ends[0][0] == '\0')
        continue;
      if (!g_ascii_string_to_unsigned (ends[0], 10, 0, CPU_SETSIZE - 1, &a, NULL))
        return FALSE;
      b = a;
      if (ends[1] != NULL && !g_ascii_string_to_unsigned (ends[1], 10, a, CPU_SETSIZE - 1, &b, NULL))
        return FALSE;
      for (guint64 c = a; c <= b; c++)
        {
          guint v = (guint) c;
          g_array_append_val (out, v);
        }
    }
  return out->len > 0;
}

/* Ascending CPU numbers as ranges: "0-2,5". */
static gchar *
format_cpu_list (const guint *cpus, guint n)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n;)
    {
      guint k = i;
      while (k + 1 < n && cpus[k + 1] == cpus[k] + 1)
        k++;
      g_string_append_printf (s, "%s%u", s->len ? "," : "", cpus[i]);
      if (k > i)
        g_string_append_printf (s, "-%u", cpus[k]);
      i = k + 1;
    }
  return g_string_free (s, FALSE);
}

static gboolean
cpu_set_from_list (const gchar *text, cpu_set_t *set)
{
  g_autoptr(GArray) cpus = g_array_new (FALSE, FALSE, sizeof (guint));
  if (!parse_cpu_list (text, cpus))
    return FALSE;
  CPU_ZERO (set);
  for (guint i = 0; i < cpus->len; i++)
    CPU_SET (g_array_index (cpus, guint, i), set);
  return TRUE;
}

static guint64
meminfo_mb (const gchar *key)
{
  g_autofree gchar *data = NULL;
  const gchar *p;
  if (!g_file_get_contents ("/proc/meminfo", &data, NULL, NULL) || (p = strstr (data, key)) == NULL)
    return 0;
  return g_ascii_strtoull (p + strlen (key), NULL, 10) / 1024;   /* kB */
}

/* What this host gives jobs: the controller's CPUs (its affinity: a
 * container or cpuset may give it fewer than the machine has), RAM (at most
 * its own memory cgroup's limit), swap, and the GPUs it sees. */
static void
measure_host (MnBackendLocal *self)
{
  cpu_set_t set;
  g_autofree gchar *own = NULL;
  self->host_cpus = g_array_new (FALSE, FALSE, sizeof (guint));
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    for (guint c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET (c, &set))
        g_array_append_val (self->host_cpus, c);
  self->host.nodes = 1;
  self->host.cores = self->host_cpus->len;
  self->host.memory_mb = meminfo_mb ("MemTotal:");
  self->host.swap_mb = meminfo_mb ("SwapTotal:");
  {
    /* a memory cgroup limit below the RAM is what the jobs really have */
    g_autofree gchar *data = NULL;
    if (g_file_get_contents ("/proc/self/cgroup", &data, NULL, NULL))
      {
        g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
        for (gsize i = 0; lines[i] != NULL; i++)
          {
            g_auto(GStrv) f = g_strsplit (lines[i], ":", 3);
            g_autofree gchar *path = NULL, *limit = NULL;
            guint64 mb;
            if (g_strv_length (f) != 3)
              continue;
            if (g_str_equal (f[1], "memory"))
              path = g_build_filename ("/sys/fs/cgroup/memory", f[2], "memory.limit_in_bytes", NULL);
            else if (g_str_equal (f[0], "0") && f[1][0] == '\0')
              path = g_build_filename ("/sys/fs/cgroup", f[2], "memory.max", NULL);
            if (path == NULL || !g_file_get_contents (path, &limit, NULL, NULL) ||
                !g_ascii_isdigit (limit[0]))
              continue;
            mb = g_ascii_strtoull (limit, NULL, 10) / (1024 * 1024);
            if (mb > 0 && mb < self->host.memory_mb)
              self->host.memory_mb = mb;
          }
      }
  }
  {
    /* NVIDIA's device nodes, /dev/nvidia0..N */
    g_autoptr(GDir) dev = g_dir_open ("/dev", 0, NULL);
    const gchar *name;
    while (dev != NULL && (name = g_dir_read_name (dev)) != NULL)
      if (g_str_has_prefix (name, "nvidia") && name[6] != '\0' &&
          strspn (name + 6, "0123456789") == strlen (name + 6))
        self->host.gpus++;
  }
  own = format_cpu_list ((const guint *) self->host_cpus->data, self->host_cpus->len);
  g_debug ("host: cpus %s, %" G_GUINT64_FORMAT " MB RAM, %" G_GUINT64_FORMAT " MB swap, %u GPUs",
           own, self->host.memory_mb, self->host.swap_mb, self->host.gpus);
}

/* The host CPUs of the allocation's cpuset.  The policy numbers the cores
 * of a node 0..[node] cores - 1 and this host is every node of it: core c
 * is the host's c-th CPU.  A policy whose node has more cores than the host
 * (the startup check warned) folds onto it, c -> CPU (c mod host CPUs), so
 * jobs still run, sharing what there is. */
static gchar *
host_cpu_list (MnBackendLocal *self, const MnPolicyAllocation *a)
{
  guint n = self->host_cpus->len;
  g_autoptr(GArray) picked = NULL;
  gboolean seen[CPU_SETSIZE] = { FALSE };
  if (n == 0 || a->n_cpus == 0)
    return NULL;
  picked = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < a->n_cpus; i++)
    {
      guint cpu = g_array_index (self->host_cpus, guint, (a->cpu_first + i) % n);
      if (!seen[cpu])
        {
          seen[cpu] = TRUE;
          g_array_append_val (picked, cpu);
        }
    }
  g_array_sort (picked, (GCompareFunc) mn_compare_guint);
  return format_cpu_list ((const guint *) picked->data, picked->len);
}

/* THE MODEL's limits for the job (mn-policy.h): memory L (RAM, and RAM + swap
 * together), swap S, cores as a CFS quota, the logical node's cores as its
 * cpuset.  A batch job (no allocation; [backend] batch = allow) gets what it
 * asked: its memory with no swap, its cores as a quota, every CPU. */
static void
job_limits (MnBackendLocal *self, const MnJobSpec *spec, MnLocalLimits *l, gchar **cpus)
{
  const MnPolicyAllocation *a = spec->allocation;
  memset (l, 0, sizeof *l);
  *cpus = NULL;
  if (a != NULL)
    {
      l->memory_mb = a->memory_max_mb;
      l->memory_swap_mb = a->memory_swap_max_mb;
      l->swap_mb = a->swap_max_mb;
      l->cpu_quota_us = a->cpu_quota_us;
      l->cpu_period_us = a->cpu_period_us;
      l->cpu_weight = a->cores;
      *cpus = host_cpu_list (self, a);
    }
  else
    {
      l->memory_mb = spec->memory_mb;
      l->memory_swap_mb = spec->memory_mb;
      l->swap_mb = 0;
      l->cpu_period_us = 100000;
      l->cpu_quota_us = (guint64) MAX (spec->cores, 1) * l->cpu_period_us;
      l->cpu_weight = MAX (spec->cores, 1);
    }
  l->cpus = *cpus;
}

/* The startup check: the policy's [node] against this host, and what the
 * kernel here cannot enforce of the model. */
static gboolean
local_check_policy (MnBackend *backend, const MnPolicyConfig *policy, GPtrArray *problems)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  guint before = problems->len;
  mn_policy_host_fit (policy, &self->host, problems);
  if (!mn_local_cgroups_limits_memory (self->cgroups))
    g_ptr_array_add (problems, g_strdup ("no memory cgroup: [job] max_memory is enforced as"
                                         " RLIMIT_AS (address space), not as memory in use"));
  else if (!mn_local_cgroups_limits_swap (self->cgroups) && policy->node_swap_mb > 0)
    g_ptr_array_add (problems, g_strdup ("no swap accounting (memory.memsw): [node] swap is"
                                         " not bounded per job"));
  if (!mn_local_cgroups_limits_cpus (self->cgroups))
    g_ptr_array_add (problems, g_strdup ("no cpuset cgroup: a job's cores are set as its CPU"
                                         " affinity, which it may change"));
  return problems->len == before;
}

static gchar *
local_describe (MnBackend *backend)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  g_autofree gchar *cpus = format_cpu_list ((const guint *) self->host_cpus->data,
                                            self->host_cpus->len);
  return g_strdup_printf ("local: jobs are processes on this machine (CPUs %s, %" G_GUINT64_FORMAT
                          " MB RAM, %" G_GUINT64_FORMAT " MB swap, %u GPUs); limits by %s",
                          cpus, self->host.memory_mb, self->host.swap_mb, self->host.gpus,
                          mn_local_cgroups_describe (self->cgroups));
}

/* At start, from the main loop (so that 'minna-controller check', which
 * runs none, changes nothing): the empty job cgroups that stopped or killed
 * controllers left beside ours, except those of the jobs this one adopts. */
static gboolean
sweep_at_start (gpointer data)
{
  MnBackendLocal *self = data;
  g_autoptr(GHashTable) keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GDir) dir = g_dir_open (self->jobs_dir, 0, NULL);
  const gchar *name;
  self->sweep_source = 0;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autoptr(JobRecord) r = NULL;
      if (valid_id (name) && (r = record_read (self, name, NULL)) != NULL && job_alive (r))
        g_hash_table_add (keep, g_strdup (name));
    }
  /* and those started since (in memory until they are over) */
  g_mutex_lock (&self->lock);
  {
    GHashTableIter it;
    gpointer id;
    g_hash_table_iter_init (&it, self->records);
    while (g_hash_table_iter_next (&it, &id, NULL))
      g_hash_table_add (keep, g_strdup (id));
  }
  g_mutex_unlock (&self->lock);
  mn_local_cgroups_sweep (self->cgroups, keep, g_get_real_time () / G_USEC_PER_SEC);
  return G_SOURCE_REMOVE;
}

static void
local_free (MnBackend *backend)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  GHashTableIter it;
  gpointer v;
  if (self->sweep_source != 0)
    g_source_remove (self->sweep_source);
  g_hash_table_iter_init (&it, self->watches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_source_remove (GPOINTER_TO_UINT (v));
  g_hash_table_destroy (self->watches);
  g_hash_table_destroy (self->exited);
  g_hash_table_destroy (self->records);
  g_hash_table_destroy (self->oom_checked);
  g_mutex_clear (&self->lock);
  g_clear_pointer (&self->cgroups, mn_local_cgroups_free);
  g_clear_pointer (&self->host_cpus, g_array_unref);
  g_free (self->jobs_dir);
  g_free (self);
}

static const MnBackendClass local_class = {
  .name = "local",
  .submit_in_thread = TRUE,
  .submit = local_submit,
  .cancel = local_cancel,
  .extend = local_extend,
  .poll = local_poll,
  .describe = local_describe,
  .check_policy = local_check_policy,
  .list_jobs = local_list_jobs,
  .remove_leftover = local_remove_leftover,
  .free = local_free,
};

MnBackend *
mn_backend_local_new (const MnControllerConfig *config, GError **error)
{
  MnBackendLocal *self = g_new0 (MnBackendLocal, 1);
  self->parent.klass = &local_class;
  self->jobs_dir = g_build_filename (config->state_dir, "jobs", NULL);
  self->kill_grace = config->kill_grace;
  self->watches = g_hash_table_new (NULL, NULL);
  self->exited = g_hash_table_new (NULL, NULL);
  self->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) job_record_free);
  self->oom_checked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&self->lock);
  measure_host (self);
  if (g_mkdir_with_parents (self->jobs_dir, 0700) != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", self->jobs_dir, g_strerror (errno));
      local_free (&self->parent);
      return NULL;
    }
  self->cgroups = mn_local_cgroups_new (config->cgroup);
  if (mn_local_cgroups_any (self->cgroups))
    self->sweep_source = g_idle_add_full (G_PRIORITY_LOW, sweep_at_start, self, NULL);
  return &self->parent;
}

const gchar *
mn_backend_local_cgroup_mode (MnBackend *backend)
{
  return mn_local_cgroups_describe (((MnBackendLocal *) backend)->cgroups);
}

void
mn_backend_local_host (MnBackend *backend, MnPolicyHost *host)
{
  *host = ((MnBackendLocal *) backend)->host;
}
