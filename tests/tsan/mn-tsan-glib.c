/* mn-tsan-glib.c: LD_PRELOAD'ed into minna's ThreadSanitizer runs
 * (tests/README.md).  Debian's GLib is not instrumented: its GMutex is a
 * futex in GLib's own code, and the hand-overs of GThreadPool, of a source
 * attached to a context and of the last reference of a refcount happen out
 * of ThreadSanitizer's sight.  Without this every value that our code guards
 * with a GMutex or hands to a worker thread is reported as a race.  These
 * wrappers tell ThreadSanitizer what GLib guarantees (acquire/release at the
 * same points) and call GLib's own function.  Calls inside GLib itself are
 * bound directly and are not seen: only our code's calls are.  In a process
 * without ThreadSanitizer (a job's child) the annotations are no-ops. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib-object.h>

void __tsan_acquire (void *addr) __attribute__ ((weak));
void __tsan_release (void *addr) __attribute__ ((weak));

static void
acquire (const void *addr)
{
  if (__tsan_acquire != NULL)
    __tsan_acquire ((void *) addr);
}

static void
release (const void *addr)
{
  if (__tsan_release != NULL)
    __tsan_release ((void *) addr);
}

#define REAL(ret, name, ...) \
  static ret (*real) (__VA_ARGS__) = NULL; \
  if (real == NULL) \
    real = (ret (*) (__VA_ARGS__)) dlsym (RTLD_NEXT, #name)

/* ---- locks ---------------------------------------------------------------- */

void
g_mutex_lock (GMutex *m)
{
  REAL (void, g_mutex_lock, GMutex *);
  real (m);
  acquire (m);
}

gboolean
g_mutex_trylock (GMutex *m)
{
  REAL (gboolean, g_mutex_trylock, GMutex *);
  gboolean ok = real (m);
  if (ok)
    acquire (m);
  return ok;
}

void
g_mutex_unlock (GMutex *m)
{
  REAL (void, g_mutex_unlock, GMutex *);
  release (m);
  real (m);
}

void
g_cond_wait (GCond *c, GMutex *m)
{
  REAL (void, g_cond_wait, GCond *, GMutex *);
  release (m);
  real (c, m);
  acquire (m);
}

gboolean
g_cond_wait_until (GCond *c, GMutex *m, gint64 end_time)
{
  REAL (gboolean, g_cond_wait_until, GCond *, GMutex *, gint64);
  gboolean ok;
  release (m);
  ok = real (c, m, end_time);
  acquire (m);
  return ok;
}

void
g_rec_mutex_lock (GRecMutex *m)
{
  REAL (void, g_rec_mutex_lock, GRecMutex *);
  real (m);
  acquire (m);
}

void
g_rec_mutex_unlock (GRecMutex *m)
{
  REAL (void, g_rec_mutex_unlock, GRecMutex *);
  release (m);
  real (m);
}

/* g_once_init_enter's fast path is an atomic load in our code: a release
 * on the same address pairs with it */
void
(g_once_init_leave) (volatile void *location, gsize result)
{
  REAL (void, g_once_init_leave, volatile void *, gsize);
  release ((const void *) location);
  real (location, result);
}

/* ---- hand-overs to other threads -------------------------------------------- */

typedef struct {
  GFunc    func;
  gpointer user_data;
} PoolFunc;

static void
pool_trampoline (gpointer item, gpointer data)
{
  PoolFunc *p = data;
  acquire (item);
  p->func (item, p->user_data);
}

GThreadPool *
g_thread_pool_new (GFunc func, gpointer user_data, gint max_threads, gboolean exclusive,
                   GError **error)
{
  REAL (GThreadPool *, g_thread_pool_new, GFunc, gpointer, gint, gboolean, GError **);
  PoolFunc *p = g_new0 (PoolFunc, 1);   /* lives as long as the process */
  p->func = func;
  p->user_data = user_data;
  return real (pool_trampoline, p, max_threads, exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool *pool, gpointer data, GError **error)
{
  REAL (gboolean, g_thread_pool_push, GThreadPool *, gpointer, GError **);
  release (data);
  return real (pool, data, error);
}

typedef struct {
  GSourceFunc    func;
  gpointer       data;
  GDestroyNotify notify;
  GSource       *source;
} SourceFunc;

static gboolean
source_trampoline (gpointer data)
{
  SourceFunc *s = data;
  acquire (s->source);
  return s->func (s->data);
}

static void
source_func_free (gpointer data)
{
  SourceFunc *s = data;
  if (s->notify != NULL)
    s->notify (s->data);
  g_free (s);
}

void
g_source_set_callback (GSource *source, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  REAL (void, g_source_set_callback, GSource *, GSourceFunc, gpointer, GDestroyNotify);
  SourceFunc *s;
  /* other sources call their callback with their own arguments (a
   * socket's: the socket, the condition, the data) */
  if (source->source_funcs != &g_idle_funcs && source->source_funcs != &g_timeout_funcs)
    return real (source, func, data, notify);
  s = g_new0 (SourceFunc, 1);
  s->func = func;
  s->data = data;
  s->notify = notify;
  s->source = source;
  real (source, source_trampoline, s, source_func_free);
}

guint
g_source_attach (GSource *source, GMainContext *context)
{
  REAL (guint, g_source_attach, GSource *, GMainContext *);
  release (source);
  return real (source, context);
}

typedef struct {
  GSourceFunc func;
  gpointer    data;
} InvokeFunc;

static gboolean
invoke_trampoline (gpointer data)
{
  InvokeFunc *f = data;
  gboolean again;
  acquire (f);
  again = f->func (f->data);
  if (!again)
    g_free (f);
  return again;
}

void
g_main_context_invoke (GMainContext *context, GSourceFunc function, gpointer data)
{
  REAL (void, g_main_context_invoke, GMainContext *, GSourceFunc, gpointer);
  InvokeFunc *f = g_new0 (InvokeFunc, 1);
  f->func = function;
  f->data = data;
  release (f);
  real (context, invoke_trampoline, f);
}

/* GLib fills its cache of the user's entry once, under its own lock; every
 * caller then reads the same strings (a submit thread copied "root" that
 * another had put there).  Each caller's answer is published to the next. */
static int user_entry_token;

#define ONCE_STRING(name) \
  const gchar *name (void) \
  { \
    REAL (const gchar *, name, void); \
    const gchar *v = real (); \
    release (&user_entry_token); \
    acquire (&user_entry_token); \
    return v; \
  }

ONCE_STRING (g_get_user_name)
ONCE_STRING (g_get_real_name)
ONCE_STRING (g_get_home_dir)
ONCE_STRING (g_get_tmp_dir)

/* ---- last references ------------------------------------------------------- */

/* Whoever drops a reference has finished with the object; whoever drops
 * the last one frees it after every other thread's use. */
#define UNREF(type, name) \
  void name (type p) \
  { \
    REAL (void, name, type); \
    if (p != NULL) \
      { \
        release (p); \
        acquire (p); \
      } \
    real (p); \
  }

UNREF (gpointer, g_object_unref)
UNREF (GHashTable *, g_hash_table_unref)
UNREF (GBytes *, g_bytes_unref)
UNREF (GMainContext *, g_main_context_unref)
UNREF (GSource *, g_source_unref)

void
g_atomic_rc_box_release_full (gpointer mem_block, GDestroyNotify clear_func)
{
  REAL (void, g_atomic_rc_box_release_full, gpointer, GDestroyNotify);
  release (mem_block);
  acquire (mem_block);
  real (mem_block, clear_func);
}

/* ---- the local backend's clone (CLONE_VM | CLONE_VFORK) ------------------------ */

/* Its child runs on the parent's memory, so its intercepted calls (the
 * sigaction of every signal to SIG_DFL) write ThreadSanitizer's own state of
 * the controller: the controller's SIGTERM handler was lost (it no longer
 * stopped) and the submitting worker's clock was taken over (false reports
 * on the submission's data).  Under ThreadSanitizer the child is a fork
 * instead (ThreadSanitizer's fork, which it knows), and the parent waits, as
 * for CLONE_VFORK, until the child execs or exits (the job is in its cgroups
 * when clone returns).  An exec failure reads as a job that exits at once. */
static __thread volatile int *exec_started;   /* the forked child's, in a shared page */

int
execve (const char *path, char *const argv[], char *const envp[])
{
  REAL (int, execve, const char *, char *const *, char *const *);
  if (exec_started != NULL)
    __atomic_store_n (exec_started, 1, __ATOMIC_SEQ_CST);
  return real (path, argv, envp);
}

int
clone (int (*fn) (void *), void *stack, int flags, void *arg, ...)
{
  static int (*real) (int (*) (void *), void *, int, void *, ...) = NULL;
  va_list ap;
  void *ptid, *tls, *ctid;
  if (real == NULL)
    real = (int (*) (int (*) (void *), void *, int, void *, ...)) dlsym (RTLD_NEXT, "clone");
  if (__tsan_acquire != NULL && (flags & CLONE_VM))
    {
      int *page = mmap (NULL, sizeof (int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
      pid_t pid;
      if (page == MAP_FAILED)
        return -1;
      *page = 0;
      exec_started = page;
      pid = fork ();
      if (pid == 0)
        _exit (fn (arg));
      exec_started = NULL;
      while (pid > 0 && !__atomic_load_n (page, __ATOMIC_SEQ_CST))
        {
          siginfo_t info = { 0 };
          if (waitid (P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
              info.si_pid != 0)
            break;   /* it exited (the exec failed) */
          usleep (200);
        }
      munmap (page, sizeof (int));
      return pid;
    }
  va_start (ap, arg);
  ptid = va_arg (ap, void *);
  tls = va_arg (ap, void *);
  ctid = va_arg (ap, void *);
  va_end (ap);
  return real (fn, stack, flags, arg, ptid, tls, ctid);
}
