/* mn-controller-backend-local.c */
#define G_LOG_DOMAIN "minna-controller"
#define _GNU_SOURCE   /* clone() */

#include "mn-controller-backend-local.h"

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
  gchar      *cgroup_setting;
  gchar      *mode;          /* described */
  gchar      *v2_base;       /* cgroup v2 dir for jobs, or NULL */
  gchar      *v1_memory;     /* cgroup v1 memory dir for jobs, or NULL */
  gchar      *v1_cpu;
  GHashTable *watches;       /* pid -> source id */
  GHashTable *exited;        /* pid -> wait status (children we reaped) */
  GHashTable *stale;         /* cgroup dirs still busy when their job ended */
  GMutex      lock;          /* watches, exited, stale: submit runs in threads */
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
} JobRecord;

static void
job_record_free (JobRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->reason);
  g_free (r->cgroups);
  g_free (r->session_dir);
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
  if (id == NULL || *id == '\0' || strlen (id) > 64)
    return FALSE;
  for (const gchar *c = id; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return FALSE;
  return TRUE;
}

static JobRecord *
record_load (MnBackendLocal *self, const gchar *id, GError **error)
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
  return r;
}

static gboolean
record_save (MnBackendLocal *self, const gchar *id, const JobRecord *r, GError **error)
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
  return g_key_file_save_to_file (kf, path, error);
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

static gboolean
job_alive (const JobRecord *r)
{
  return r->pid > 0 && proc_starttime (r->pid) == r->starttime;
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
        if (pids[k][0] != '\0')
          kill ((pid_t) g_ascii_strtoll (pids[k], NULL, 10), sig);
    }
}

static void weigh_jobs (MnBackendLocal *self, const gchar *new_job);

/* A cgroup cannot be removed while exiting processes are still in it:
 * those are tried again at every poll. */
static void
remove_cgroups (MnBackendLocal *self, const JobRecord *r)
{
  g_auto(GStrv) dirs = g_strsplit (r->cgroups ? r->cgroups : "", ";", -1);
  g_mutex_lock (&self->lock);
  for (gsize i = 0; dirs[i] != NULL; i++)
    if (dirs[i][0] != '\0' && rmdir (dirs[i]) != 0 && errno != ENOENT)
      g_hash_table_add (self->stale, g_strdup (dirs[i]));
  weigh_jobs (self, NULL);
  g_mutex_unlock (&self->lock);
}

static void
retry_stale (MnBackendLocal *self)
{
  GHashTableIter it;
  gpointer dir;
  gboolean removed = FALSE;
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->stale);
  while (g_hash_table_iter_next (&it, &dir, NULL))
    if (rmdir (dir) == 0 || errno == ENOENT)
      {
        g_hash_table_iter_remove (&it);
        removed = TRUE;
      }
  if (removed)
    weigh_jobs (self, NULL);
  g_mutex_unlock (&self->lock);
}

/* ---- cgroups ----------------------------------------------------------- */

static gboolean
write_file (const gchar *dir, const gchar *name, const gchar *value)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;
  if (fd < 0)
    return FALSE;
  ok = write (fd, value, strlen (value)) == (ssize_t) strlen (value);
  close (fd);
  return ok;
}

static gchar *
own_cgroup (const gchar *controller)
{
  g_autofree gchar *data = NULL;
  g_auto(GStrv) lines = NULL;
  if (!g_file_get_contents ("/proc/self/cgroup", &data, NULL, NULL))
    return NULL;
  lines = g_strsplit (data, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ":", 3);
      g_auto(GStrv) names = NULL;
      if (g_strv_length (f) != 3)
        continue;
      names = g_strsplit (f[1], ",", -1);
      if (controller == NULL ? g_str_equal (f[0], "0") && f[1][0] == '\0'
                             : g_strv_contains ((const gchar *const *) names, controller))
        return g_strdup (f[2]);
    }
  return NULL;
}

static gboolean
try_dir (const gchar *dir)
{
  return g_mkdir_with_parents (dir, 0755) == 0 && access (dir, W_OK) == 0;
}

/* The jobs' parent cgroup weighs as much as its jobs together (the sum of
 * their cpu.shares or cpu.weight), as the same processes would without
 * cgroups.  At its default weight the whole jobs subtree counted as ONE
 * process against every other process on the machine: a hundred apps
 * starting at once got the CPU share of a single compiler, and took three
 * times as long to start as the same apps run directly.  Callers hold
 * self->lock (submits run in threads). */
static void
weigh_parent (const gchar *parent, const gchar *file, guint64 floor, guint64 ceiling,
              const gchar *new_job)
{
  g_autoptr(GDir) d = parent ? g_dir_open (parent, 0, NULL) : NULL;
  const gchar *name;
  guint64 sum = 0;
  g_autofree gchar *text = NULL;
  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = g_build_filename (parent, name, file, NULL);
      g_autofree gchar *procs = g_build_filename (parent, name, "cgroup.procs", NULL);
      g_autofree gchar *value = NULL, *members = NULL;
      /* empty ones (jobs that ended, not yet removed) weigh nothing; the
       * job being started has not joined yet */
      if ((g_strcmp0 (name, new_job) == 0 ||
           (g_file_get_contents (procs, &members, NULL, NULL) && members[0] != '\0')) &&
          g_file_get_contents (path, &value, NULL, NULL))
        sum += g_ascii_strtoull (value, NULL, 10);
    }
  text = g_strdup_printf ("%" G_GUINT64_FORMAT, CLAMP (sum, floor, ceiling));
  write_file (parent, file, text);
}

static void
weigh_jobs (MnBackendLocal *self, const gchar *new_job)
{
  if (self->v2_base)
    weigh_parent (self->v2_base, "cpu.weight", 100, 10000, new_job);
  if (self->v1_cpu)
    weigh_parent (self->v1_cpu, "cpu.shares", 1024, 262144, new_job);
}

static void
detect_cgroups (MnBackendLocal *self)
{
  if (g_str_equal (self->cgroup_setting, "none"))
    return;
  if (!g_str_equal (self->cgroup_setting, "auto"))
    {
      g_autofree gchar *ctl = g_build_filename (self->cgroup_setting, "cgroup.controllers", NULL);
      if (g_file_test (ctl, G_FILE_TEST_EXISTS))
        self->v2_base = g_strdup (self->cgroup_setting);
      else
        self->v1_memory = g_strdup (self->cgroup_setting);
      return;
    }
  if (g_file_test ("/sys/fs/cgroup/cgroup.controllers", G_FILE_TEST_EXISTS))
    {
      g_autofree gchar *own = own_cgroup (NULL);
      g_autofree gchar *base = own ? g_build_filename ("/sys/fs/cgroup", own, "minna-jobs", NULL) : NULL;
      /* v2 allows no processes in a cgroup that hands controllers down, so
       * jobs go in a sibling-free subtree of their own */
      if (base && try_dir (base) && write_file (base, "cgroup.subtree_control", "+memory +cpu"))
        self->v2_base = g_steal_pointer (&base);
      else if (base)
        rmdir (base);
      return;
    }
  {
    g_autofree gchar *mem = own_cgroup ("memory");
    g_autofree gchar *cpu = own_cgroup ("cpu");
    g_autofree gchar *mdir = mem ? g_build_filename ("/sys/fs/cgroup/memory", mem, "minna-jobs", NULL) : NULL;
    g_autofree gchar *cdir = cpu ? g_build_filename ("/sys/fs/cgroup/cpu", cpu, "minna-jobs", NULL) : NULL;
    if (mdir && try_dir (mdir))
      self->v1_memory = g_steal_pointer (&mdir);
    if (cdir && try_dir (cdir))
      self->v1_cpu = g_steal_pointer (&cdir);
  }
}

/* Makes the job's cgroups with their limits; returns the ';'-joined dirs
 * (the child joins each through its cgroup.procs). */
static gchar *
make_cgroups (MnBackendLocal *self, const MnJobSpec *spec)
{
  GString *dirs = g_string_new (NULL);
  g_autofree gchar *mem = g_strdup_printf ("%" G_GUINT64_FORMAT, spec->memory_mb * 1024 * 1024);
  g_autofree gchar *memsw = g_strdup_printf ("%" G_GUINT64_FORMAT, spec->memory_mb * 2 * 1024 * 1024);
  if (self->v2_base)
    {
      g_autofree gchar *d = g_build_filename (self->v2_base, spec->session_id, NULL);
      g_autofree gchar *w = g_strdup_printf ("%u", CLAMP (spec->cores * 100, 1, 10000));
      if (try_dir (d) && write_file (d, "memory.max", mem))
        {
          write_file (d, "memory.swap.max", mem);
          write_file (d, "cpu.weight", w);
          g_string_append (dirs, d);
        }
    }
  if (self->v1_memory)
    {
      g_autofree gchar *d = g_build_filename (self->v1_memory, spec->session_id, NULL);
      if (try_dir (d) && write_file (d, "memory.limit_in_bytes", mem))
        {
          /* memsw counts RAM + swap: allow as much swap as RAM (the over-commit) */
          write_file (d, "memory.memsw.limit_in_bytes", memsw);
          g_string_append_printf (dirs, "%s%s", dirs->len ? ";" : "", d);
        }
    }
  if (self->v1_cpu)
    {
      g_autofree gchar *d = g_build_filename (self->v1_cpu, spec->session_id, NULL);
      g_autofree gchar *shares = g_strdup_printf ("%u", MAX (spec->cores, 1) * 1024);
      if (try_dir (d) && write_file (d, "cpu.shares", shares))
        g_string_append_printf (dirs, "%s%s", dirs->len ? ";" : "", d);
    }
  g_mutex_lock (&self->lock);
  weigh_jobs (self, spec->session_id);
  g_mutex_unlock (&self->lock);
  return g_string_free (dirs, FALSE);
}

/* ---- spawn --------------------------------------------------------------- */

typedef struct {
  gboolean  switch_user;
  uid_t     uid;
  gid_t     gid;
  gid_t     groups[256];
  int       ngroups;
  gchar    *procs[4];        /* cgroup.procs files to join */
  guint64   rlimit_as;       /* 0: none */
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
  for (int i = 0; i < 4 && c->procs[i] != NULL; i++)
    {
      int fd = open (c->procs[i], O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, "0", 1) != 1)
            (void) !write (c->out, "minna: could not join cgroup\n", 29);
          close (fd);
        }
    }
  if (c->rlimit_as > 0)
    {
      struct rlimit rl = { c->rlimit_as, c->rlimit_as };
      setrlimit (RLIMIT_AS, &rl);
    }
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
  if (dup2 (c->in, 0) < 0 || dup2 (c->out, 1) < 0 || dup2 (c->out, 2) < 0)
    {
      c->child_errno = errno;
      c->failed = "redirect its output";
      _exit (127);
    }
  /* nothing of the controller's may leak into the job */
  if (syscall (SYS_close_range, 3U, ~0U, 0U) != 0)
    {
      fd_max = getrlimit (RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
               ? (long) MIN (nofile.rlim_cur, 65536) : 65536;
      for (long fd = 3; fd < fd_max; fd++)
        close ((int) fd);
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
      struct passwd *pw = getpwnam (spec->unix_user);
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

  r->cgroups = make_cgroups (self, spec);
  dirs = g_strsplit (r->cgroups, ";", -1);
  for (gsize i = 0, k = 0; dirs[i] != NULL && k < 4; i++)
    if (dirs[i][0] != '\0')
      cs.procs[k++] = g_build_filename (dirs[i], "cgroup.procs", NULL);
  if (cs.procs[0] == NULL)
    cs.rlimit_as = spec->memory_mb * 1024 * 1024;

  g_strv_builder_add (envb, "PATH=/usr/local/bin:/usr/bin:/bin");
  g_strv_builder_add (envb, "LANG=C.UTF-8");
  add_env (envb, g_strdup_printf ("HOME=%s", home));
  add_env (envb, g_strdup_printf ("USER=%s", user_name));
  add_env (envb, g_strdup_printf ("LOGNAME=%s", user_name));
  add_env (envb, g_strdup_printf ("SHELL=%s", shell));
  add_env (envb, g_strdup_printf ("MINNA_CORES=%u", spec->cores));
  add_env (envb, g_strdup_printf ("OMP_NUM_THREADS=%u", MAX (spec->cores, 1)));
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
      for (int i = 0; i < 4; i++)
        g_free (cs.procs[i]);
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
      for (int i = 0; i < 4; i++)
        g_free (cs.procs[i]);
      remove_cgroups (self, r);
      g_prefix_error (error, "cannot start %s: ", spec->script);
      return NULL;
    }
  close (out);
  for (int i = 0; i < 4; i++)
    g_free (cs.procs[i]);
  g_mutex_lock (&self->lock);
  g_hash_table_insert (self->watches, GINT_TO_POINTER (pid),
                       GUINT_TO_POINTER (g_child_watch_add (pid, on_child_exit, self)));
  g_mutex_unlock (&self->lock);
  r->pid = pid;
  r->starttime = proc_starttime (pid);
  r->deadline = now + spec->walltime;
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
  if (job_alive (r))
    {
      if (r->term_at == 0 && now >= r->deadline)
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
      return mn_job_status_new (MN_JOB_RUNNING, 0, NULL);
    }

  /* over: nothing of it may stay behind */
  signal_job (r, SIGKILL);
  remove_cgroups (self, r);
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
      return st;
    }
  }
}

static GHashTable *
local_poll (MnBackend *backend, const gchar *const *ids, gint64 now, GError **error)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) mn_job_status_free);
  retry_stale (self);
  for (gsize i = 0; ids[i] != NULL; i++)
    g_hash_table_replace (out, g_strdup (ids[i]), poll_one (self, ids[i], now));
  return out;
}

static gchar *
local_describe (MnBackend *backend)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  return g_strdup_printf ("local: jobs are processes on this machine; limits by %s", self->mode);
}

static void
local_free (MnBackend *backend)
{
  MnBackendLocal *self = (MnBackendLocal *) backend;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, self->watches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_source_remove (GPOINTER_TO_UINT (v));
  g_hash_table_destroy (self->watches);
  g_hash_table_destroy (self->exited);
  g_hash_table_destroy (self->stale);
  g_mutex_clear (&self->lock);
  g_free (self->jobs_dir);
  g_free (self->cgroup_setting);
  g_free (self->mode);
  g_free (self->v2_base);
  g_free (self->v1_memory);
  g_free (self->v1_cpu);
  g_free (self);
}

static const MnBackendClass local_class = {
  .name = "local",
  .submit_in_thread = TRUE,
  .submit = local_submit,
  .cancel = local_cancel,
  .poll = local_poll,
  .describe = local_describe,
  .free = local_free,
};

MnBackend *
mn_backend_local_new (const MnControllerConfig *config, GError **error)
{
  MnBackendLocal *self = g_new0 (MnBackendLocal, 1);
  self->parent.klass = &local_class;
  self->jobs_dir = g_build_filename (config->state_dir, "jobs", NULL);
  self->kill_grace = config->kill_grace;
  self->cgroup_setting = g_strdup (config->cgroup);
  self->watches = g_hash_table_new (NULL, NULL);
  self->exited = g_hash_table_new (NULL, NULL);
  self->stale = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&self->lock);
  if (g_mkdir_with_parents (self->jobs_dir, 0700) != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", self->jobs_dir, g_strerror (errno));
      local_free (&self->parent);
      return NULL;
    }
  detect_cgroups (self);
  weigh_jobs (self, NULL);   /* the jobs adopted after a restart */
  if (self->v2_base)
    self->mode = g_strdup_printf ("cgroup v2 %s", self->v2_base);
  else if (self->v1_memory || self->v1_cpu)
    self->mode = g_strdup_printf ("cgroup v1 memory=%s cpu=%s", self->v1_memory ? self->v1_memory : "-",
                                  self->v1_cpu ? self->v1_cpu : "-");
  else
    self->mode = g_strdup ("rlimits (RLIMIT_AS = memory cap)");
  return &self->parent;
}

const gchar *
mn_backend_local_cgroup_mode (MnBackend *backend)
{
  return ((MnBackendLocal *) backend)->mode;
}
