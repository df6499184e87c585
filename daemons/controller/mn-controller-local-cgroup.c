/* mn-controller-local-cgroup.c: see the header. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-local-cgroup.h"
#include "mn-controller-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _MnLocalCgroups {
  gchar      *v2_base;       /* cgroup v2 dir of the jobs, or NULL */
  gboolean    v2_memory, v2_cpu, v2_cpuset;   /* controllers it hands down */
  gchar      *v1_memory;     /* cgroup v1 dirs of the jobs, or NULL */
  gchar      *v1_cpu;
  gchar      *v1_cpuset;
  gboolean    v1_memsw;      /* memory.memsw.* exists (swap accounting) */
  gchar      *self_cpu;      /* the controller's own cpu cgroup beside the jobs, or NULL */
  gchar      *mode;
  GHashTable *stale;         /* dirs still busy when their job ended */
  GHashTable *weights;       /* job dir (cpu controller) -> its weight (cpu.shares / cpu.weight) */
  guint64     weight_sum;    /* of the jobs in @weights */
  GMutex      lock;          /* stale, weights: submits run in threads */
};

/* Writes @value to DIR/NAME; FALSE with errno set. */
static gboolean
write_file (const gchar *dir, const gchar *name, const gchar *value)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gssize n;
  int saved;
  if (fd < 0)
    return FALSE;
  n = write (fd, value, strlen (value));
  saved = errno;
  close (fd);
  errno = saved;
  return n == (gssize) strlen (value);
}

static gchar *
read_file (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gchar *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  return g_strstrip (data);
}

static gboolean
has_file (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* The controller's own cgroup in the hierarchy of @controller (NULL: v2). */
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

/* Where the controller's cgroups go in the hierarchy of @controller: its
 * own, or the one above when it is already in the minna-controller leaf an
 * earlier MnLocalCgroups of this process (or of the process that started
 * it) moved it to: otherwise each start nested minna-jobs and
 * minna-controller one level deeper, and the sweep looked for the jobs of
 * earlier controllers in a parent of its own. */
static gchar *
own_base (const gchar *controller)
{
  g_autofree gchar *own = own_cgroup (controller);
  g_autofree gchar *name = own ? g_path_get_basename (own) : NULL;
  if (name != NULL && g_str_equal (name, "minna-controller"))
    return g_path_get_dirname (own);
  return g_steal_pointer (&own);
}

static gboolean
try_dir (const gchar *dir)
{
  return g_mkdir_with_parents (dir, 0755) == 0 && access (dir, W_OK) == 0;
}

/* The jobs' dir in v1 hierarchy @controller (mounted at /sys/fs/cgroup/@mount). */
static gchar *
v1_dir (const gchar *controller, const gchar *mount)
{
  g_autofree gchar *own = own_base (controller);
  g_autofree gchar *dir = own ? g_build_filename ("/sys/fs/cgroup", mount, own, "minna-jobs", NULL) : NULL;
  if (dir == NULL || !try_dir (dir))
    return NULL;
  return g_steal_pointer (&dir);
}

/* A new v1 cpuset has no CPUs and no memory nodes: it takes its parent's. */
static gboolean
cpuset_inherit (const gchar *dir)
{
  g_autofree gchar *parent = g_path_get_dirname (dir);
  g_autofree gchar *cpus = read_file (parent, "cpuset.cpus");
  g_autofree gchar *mems = read_file (parent, "cpuset.mems");
  g_autofree gchar *have = read_file (dir, "cpuset.mems");
  if (have != NULL && have[0] != '\0')
    return TRUE;
  return cpus != NULL && mems != NULL && write_file (dir, "cpuset.cpus", cpus) &&
         write_file (dir, "cpuset.mems", mems);
}

static void
detect (MnLocalCgroups *self, const gchar *setting)
{
  if (g_str_equal (setting, "none"))
    return;
  if (!g_str_equal (setting, "auto"))
    {
      if (has_file (setting, "cgroup.controllers"))
        self->v2_base = g_strdup (setting);
      else
        self->v1_memory = g_strdup (setting);
    }
  else if (g_file_test ("/sys/fs/cgroup/cgroup.controllers", G_FILE_TEST_EXISTS))
    {
      g_autofree gchar *own = own_base (NULL);
      g_autofree gchar *base = own ? g_build_filename ("/sys/fs/cgroup", own, "minna-jobs", NULL) : NULL;
      /* v2 allows no processes in a cgroup that hands controllers down, so
       * jobs go in a subtree of their own; each controller on its own (a
       * delegation may lack cpuset) */
      g_autofree gchar *own_dir = own ? g_build_filename ("/sys/fs/cgroup", own, NULL) : NULL;
      g_autofree gchar *leaf = own ? g_build_filename ("/sys/fs/cgroup", own, "minna-controller", NULL) : NULL;
      /* the controller itself moves to a leaf beside the jobs (a cgroup with
       * processes hands no controller down), then its cgroup hands them
       * down to minna-jobs */
      if (leaf && try_dir (leaf))
        {
          g_autofree gchar *pid = g_strdup_printf ("%d", (int) getpid ());
          if (write_file (leaf, "cgroup.procs", pid))
            {
              write_file (own_dir, "cgroup.subtree_control", "+memory");
              write_file (own_dir, "cgroup.subtree_control", "+cpu");
              write_file (own_dir, "cgroup.subtree_control", "+cpuset");
              self->self_cpu = g_strdup (leaf);
            }
        }
      if (base && try_dir (base))
        {
          write_file (base, "cgroup.subtree_control", "+memory");
          write_file (base, "cgroup.subtree_control", "+cpu");
          write_file (base, "cgroup.subtree_control", "+cpuset");
          {
            g_autofree gchar *on = read_file (base, "cgroup.subtree_control");
            g_auto(GStrv) words = g_strsplit (on ? on : "", " ", -1);
            self->v2_memory = g_strv_contains ((const gchar *const *) words, "memory");
            self->v2_cpu = g_strv_contains ((const gchar *const *) words, "cpu");
            self->v2_cpuset = g_strv_contains ((const gchar *const *) words, "cpuset");
          }
          if (self->v2_memory || self->v2_cpu)
            self->v2_base = g_steal_pointer (&base);
        }
      if (base)
        rmdir (base);
    }
  else
    {
      self->v1_memory = v1_dir ("memory", "memory");
      self->v1_cpu = v1_dir ("cpu", "cpu");
      if (self->v1_cpu)
        {
          /* the controller's threads beside the jobs, weighed like them */
          g_autofree gchar *parent = g_path_get_dirname (self->v1_cpu);
          g_autofree gchar *leaf = g_build_filename (parent, "minna-controller", NULL);
          g_autofree gchar *pid = g_strdup_printf ("%d", (int) getpid ());
          if (try_dir (leaf) && write_file (leaf, "cgroup.procs", pid))
            self->self_cpu = g_steal_pointer (&leaf);
        }
      self->v1_cpuset = v1_dir ("cpuset", "cpuset");
      if (self->v1_cpuset && !cpuset_inherit (self->v1_cpuset))
        g_clear_pointer (&self->v1_cpuset, g_free);
    }
  if (self->v2_base && !g_str_equal (setting, "auto"))
    self->v2_memory = self->v2_cpu = TRUE;
  self->v1_memsw = self->v1_memory && has_file (self->v1_memory, "memory.memsw.limit_in_bytes");
}

MnLocalCgroups *
mn_local_cgroups_new (const gchar *setting)
{
  MnLocalCgroups *self = g_new0 (MnLocalCgroups, 1);
  self->stale = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->weights = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&self->lock);
  detect (self, setting);
  if (self->v2_base)
    self->mode = g_strdup_printf ("cgroup v2 %s (%s%s%s)", self->v2_base,
                                  self->v2_memory ? "memory " : "", self->v2_cpu ? "cpu " : "",
                                  self->v2_cpuset ? "cpuset" : "no cpuset");
  else if (self->v1_memory || self->v1_cpu || self->v1_cpuset)
    self->mode = g_strdup_printf ("cgroup v1 memory=%s%s cpu=%s cpuset=%s%s%s",
                                  self->v1_memory ? self->v1_memory : "-",
                                  self->v1_memory && !self->v1_memsw ? " (no memsw: swap not limited)" : "",
                                  self->v1_cpu ? self->v1_cpu : "-",
                                  self->v1_cpuset ? self->v1_cpuset : "-",
                                  self->self_cpu ? "; the controller in " : "",
                                  self->self_cpu ? self->self_cpu : "");
  else
    self->mode = g_strdup ("no cgroups (RLIMIT_AS = memory limit, CPU affinity = cpuset)");
  mn_local_cgroups_weigh (self);   /* the jobs adopted after a restart */
  return self;
}

void
mn_local_cgroups_free (MnLocalCgroups *self)
{
  if (self == NULL)
    return;
  mn_local_cgroups_drain (self, MN_LOCAL_CGROUPS_DRAIN_US);
  g_hash_table_destroy (self->stale);
  g_hash_table_destroy (self->weights);
  g_mutex_clear (&self->lock);
  g_free (self->v2_base);
  g_free (self->v1_memory);
  g_free (self->v1_cpu);
  g_free (self->v1_cpuset);
  g_free (self->self_cpu);
  g_free (self->mode);
  g_free (self);
}

const gchar *mn_local_cgroups_describe (MnLocalCgroups *self) { return self->mode; }

gboolean
mn_local_cgroups_valid_id (const gchar *id)
{
  if (id == NULL || *id == '\0' || strlen (id) > 64)
    return FALSE;
  for (const gchar *c = id; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return FALSE;
  return TRUE;
}

gboolean
mn_local_cgroups_any (MnLocalCgroups *self)
{
  return self->v2_base || self->v1_memory || self->v1_cpu || self->v1_cpuset;
}

gboolean
mn_local_cgroups_limits_memory (MnLocalCgroups *self)
{
  return (self->v2_base && self->v2_memory) || self->v1_memory;
}

gboolean
mn_local_cgroups_limits_swap (MnLocalCgroups *self)
{
  return (self->v2_base && self->v2_memory) || self->v1_memsw;
}

gboolean
mn_local_cgroups_limits_cpus (MnLocalCgroups *self)
{
  return (self->v2_base && self->v2_cpuset) || self->v1_cpuset;
}

/* ---- weight --------------------------------------------------------------- */

/* The jobs' parent cgroup weighs as much as its jobs together (the sum of
 * their cpu.shares or cpu.weight), as the same processes would without
 * cgroups.  At its default weight the whole jobs subtree counted as ONE
 * process against every other process on the machine: a hundred apps
 * starting at once got the CPU share of a single compiler, and took three
 * times as long to start as the same apps run directly.  And the
 * controller weighs as much again (its threads move to a minna-controller
 * cgroup beside minna-jobs): as one process against a hundred starting
 * jobs it got a hundredth of the CPU, answered nothing until they had all
 * started, and every session of a lecture turned running at the same
 * moment, seconds after its app was up.  The sum is kept
 * as jobs come and go (re-reading every job's cgroup at each start and end
 * was quadratic: a lecture's submissions waited on it, one at a time).
 * Callers hold self->lock. */
static void
write_weight (MnLocalCgroups *self)
{
  g_autofree gchar *text = NULL;
  if (self->v2_base && self->v2_cpu)
    {
      text = g_strdup_printf ("%" G_GUINT64_FORMAT, CLAMP (self->weight_sum, 100, 10000));
      write_file (self->v2_base, "cpu.weight", text);
      if (self->self_cpu)
        write_file (self->self_cpu, "cpu.weight", text);
    }
  if (self->v1_cpu)
    {
      g_free (text);
      text = g_strdup_printf ("%" G_GUINT64_FORMAT, CLAMP (self->weight_sum, 1024, 262144));
      write_file (self->v1_cpu, "cpu.shares", text);
      if (self->self_cpu)
        write_file (self->self_cpu, "cpu.shares", text);
    }
}

/* The directory of the cpu controller and the file its weight is in. */
static const gchar *
weight_parent (MnLocalCgroups *self, const gchar **file)
{
  if (self->v1_cpu)
    {
      *file = "cpu.shares";
      return self->v1_cpu;
    }
  if (self->v2_base && self->v2_cpu)
    {
      *file = "cpu.weight";
      return self->v2_base;
    }
  return NULL;
}

/* At start: the jobs adopted after a restart (empty dirs weigh nothing). */
void
mn_local_cgroups_weigh (MnLocalCgroups *self)
{
  const gchar *file = NULL;
  const gchar *parent = weight_parent (self, &file);
  g_autoptr(GDir) d = parent ? g_dir_open (parent, 0, NULL) : NULL;
  const gchar *name;
  g_mutex_lock (&self->lock);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *dir = g_build_filename (parent, name, NULL);
      g_autofree gchar *members = read_file (dir, "cgroup.procs");
      g_autofree gchar *value = read_file (dir, file);
      if (members != NULL && members[0] != '\0' && value != NULL &&
          !g_hash_table_contains (self->weights, dir))
        {
          guint64 w = g_ascii_strtoull (value, NULL, 10);
          g_hash_table_insert (self->weights, g_steal_pointer (&dir), GSIZE_TO_POINTER ((gsize) w));
          self->weight_sum += w;
        }
    }
  if (parent != NULL)
    write_weight (self);
  g_mutex_unlock (&self->lock);
}

static void
weight_add (MnLocalCgroups *self, const gchar *dir, guint64 w)
{
  g_mutex_lock (&self->lock);
  if (!g_hash_table_contains (self->weights, dir))
    {
      g_hash_table_insert (self->weights, g_strdup (dir), GSIZE_TO_POINTER ((gsize) w));
      self->weight_sum += w;
      write_weight (self);
    }
  g_mutex_unlock (&self->lock);
}

/* Callers hold self->lock. */
static void
weight_remove_locked (MnLocalCgroups *self, const gchar *dir)
{
  gpointer w;
  if (g_hash_table_lookup_extended (self->weights, dir, NULL, &w))
    {
      self->weight_sum -= MIN (self->weight_sum, (guint64) GPOINTER_TO_SIZE (w));
      g_hash_table_remove (self->weights, dir);
      write_weight (self);
    }
}

/* ---- one job ---------------------------------------------------------------- */

static gboolean
set_or_fail (const gchar *dir, const gchar *name, const gchar *value, GError **error)
{
  if (write_file (dir, name, value))
    return TRUE;
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
               "cannot set %s/%s to %s: %s", dir, name, value, g_strerror (errno));
  return FALSE;
}

static gchar *
bytes (guint64 mb)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, mb * 1024 * 1024);
}

static gboolean
make_v2 (MnLocalCgroups *self, const gchar *d, const MnLocalLimits *l, GError **error)
{
  if (!try_dir (d))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "cannot make cgroup %s: %s", d, g_strerror (errno));
      return FALSE;
    }
  if (self->v2_memory && l->memory_mb > 0)
    {
      g_autofree gchar *mem = bytes (l->memory_mb), *swap = bytes (l->swap_mb);
      if (!set_or_fail (d, "memory.max", mem, error))
        return FALSE;
      /* no swap accounting (swapaccount=0) leaves no file to write */
      if (has_file (d, "memory.swap.max") && !set_or_fail (d, "memory.swap.max", swap, error))
        return FALSE;
      /* past its limit the whole job ends, as the model says, not one process */
      write_file (d, "memory.oom.group", "1");
    }
  if (self->v2_cpu)
    {
      g_autofree gchar *w = g_strdup_printf ("%u", CLAMP (l->cpu_weight * 100, 1, 10000));
      write_file (d, "cpu.weight", w);
      if (l->cpu_quota_us > 0)
        {
          g_autofree gchar *max = g_strdup_printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                                   l->cpu_quota_us, l->cpu_period_us);
          if (!set_or_fail (d, "cpu.max", max, error))
            return FALSE;
        }
    }
  if (self->v2_cpuset && l->cpus != NULL && !set_or_fail (d, "cpuset.cpus", l->cpus, error))
    return FALSE;
  return TRUE;
}

static gboolean
make_v1_memory (MnLocalCgroups *self, const gchar *d, const MnLocalLimits *l, GError **error)
{
  g_autofree gchar *mem = bytes (l->memory_mb), *memsw = bytes (l->memory_swap_mb);
  if (!try_dir (d))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "cannot make cgroup %s: %s", d, g_strerror (errno));
      return FALSE;
    }
  if (l->memory_mb == 0)
    return TRUE;
  /* memsw may never be below the RAM limit: RAM first on a new dir (both
   * start unlimited), memsw first on one left by an earlier attempt */
  if (!write_file (d, "memory.limit_in_bytes", mem) &&
      !(self->v1_memsw && write_file (d, "memory.memsw.limit_in_bytes", memsw)))
    return set_or_fail (d, "memory.limit_in_bytes", mem, error);
  if (!set_or_fail (d, "memory.limit_in_bytes", mem, error))
    return FALSE;
  if (self->v1_memsw && l->memory_swap_mb > 0 &&
      !set_or_fail (d, "memory.memsw.limit_in_bytes", memsw, error))
    return FALSE;
  return TRUE;
}

static gboolean
make_v1_cpu (const gchar *d, const MnLocalLimits *l, GError **error)
{
  g_autofree gchar *shares = g_strdup_printf ("%u", MAX (l->cpu_weight, 1) * 1024);
  if (!try_dir (d) || !set_or_fail (d, "cpu.shares", shares, error))
    {
      if (error && *error == NULL)
        g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                     "cannot make cgroup %s: %s", d, g_strerror (errno));
      return FALSE;
    }
  if (l->cpu_quota_us > 0)
    {
      g_autofree gchar *period = g_strdup_printf ("%" G_GUINT64_FORMAT, l->cpu_period_us);
      g_autofree gchar *quota = g_strdup_printf ("%" G_GUINT64_FORMAT, l->cpu_quota_us);
      if (!set_or_fail (d, "cpu.cfs_period_us", period, error) ||
          !set_or_fail (d, "cpu.cfs_quota_us", quota, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
make_v1_cpuset (const gchar *d, const MnLocalLimits *l, GError **error)
{
  if (!try_dir (d))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "cannot make cgroup %s: %s", d, g_strerror (errno));
      return FALSE;
    }
  /* mems before anyone joins; cpus: the allocation's, else the parent's */
  if (!cpuset_inherit (d))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "cannot give cgroup %s its parent's cpuset: %s", d, g_strerror (errno));
      return FALSE;
    }
  return l->cpus == NULL || set_or_fail (d, "cpuset.cpus", l->cpus, error);
}

gchar *
mn_local_cgroups_make (MnLocalCgroups *self, const gchar *id, const MnLocalLimits *limits,
                       GError **error)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local = NULL;
  g_autofree gchar *joined = NULL;
  gboolean ok = TRUE;

  if (self->v2_base)
    {
      gchar *d = g_build_filename (self->v2_base, id, NULL);
      g_ptr_array_add (dirs, d);
      ok = make_v2 (self, d, limits, &local);
      if (ok && self->v2_cpu)
        weight_add (self, d, CLAMP (limits->cpu_weight * 100, 1, 10000));
    }
  if (ok && self->v1_memory)
    {
      gchar *d = g_build_filename (self->v1_memory, id, NULL);
      g_ptr_array_add (dirs, d);
      ok = make_v1_memory (self, d, limits, &local);
    }
  if (ok && self->v1_cpu)
    {
      gchar *d = g_build_filename (self->v1_cpu, id, NULL);
      g_ptr_array_add (dirs, d);
      ok = make_v1_cpu (d, limits, &local);
      if (ok)
        weight_add (self, d, (guint64) MAX (limits->cpu_weight, 1) * 1024);
    }
  if (ok && self->v1_cpuset)
    {
      gchar *d = g_build_filename (self->v1_cpuset, id, NULL);
      g_ptr_array_add (dirs, d);
      ok = make_v1_cpuset (d, limits, &local);
    }
  g_ptr_array_add (dirs, NULL);
  joined = g_strjoinv (";", (gchar **) dirs->pdata);
  if (!ok)
    {
      mn_local_cgroups_remove (self, joined);
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_steal_pointer (&joined);
}

/* A cgroup cannot be removed while exiting processes are still in it:
 * those are tried again at every poll. */
void
mn_local_cgroups_remove (MnLocalCgroups *self, const gchar *joined)
{
  g_auto(GStrv) dirs = g_strsplit (joined ? joined : "", ";", -1);
  g_mutex_lock (&self->lock);
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      if (dirs[i][0] == '\0')
        continue;
      /* its processes are gone or going: it weighs nothing from now */
      weight_remove_locked (self, dirs[i]);
      if (rmdir (dirs[i]) != 0 && errno != ENOENT)
        g_hash_table_add (self->stale, g_strdup (dirs[i]));
    }
  g_mutex_unlock (&self->lock);
}

void
mn_local_cgroups_retry (MnLocalCgroups *self)
{
  GHashTableIter it;
  gpointer dir;
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->stale);
  while (g_hash_table_iter_next (&it, &dir, NULL))
    if (rmdir (dir) == 0 || errno == ENOENT)
      g_hash_table_iter_remove (&it);
  g_mutex_unlock (&self->lock);
}

guint
mn_local_cgroups_drain (MnLocalCgroups *self, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;
  GHashTableIter it;
  gpointer dir;
  guint left;
  for (;;)
    {
      gint64 now;
      mn_local_cgroups_retry (self);
      g_mutex_lock (&self->lock);
      left = g_hash_table_size (self->stale);
      g_mutex_unlock (&self->lock);
      now = g_get_monotonic_time ();
      if (left == 0 || now >= end)
        break;
      /* exiting processes leave within milliseconds; a short nap each time */
      g_usleep (MIN (end - now, 20 * 1000));
    }
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->stale);
  while (g_hash_table_iter_next (&it, &dir, NULL))
    g_message ("cgroup %s of a job that is over could not be removed (still busy after %.1f s);"
               " the next controller to start on this host removes it once it is empty",
               (const gchar *) dir, timeout_us / (gdouble) G_USEC_PER_SEC);
  g_mutex_unlock (&self->lock);
  return left;
}

/* ---- leftovers of earlier controllers ---------------------------------------- */

/* Whether directory @fd has a cgroup.procs (not a symlink) listing no
 * process, and no directory below it. */
static MnLocalSweepVerdict
leaf_verdict (int fd)
{
  gchar buf[256];
  gssize n = 0;
  int procs = openat (fd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  int dfd;
  DIR *d;
  struct dirent *e;
  MnLocalSweepVerdict v = MN_LOCAL_SWEEP_REMOVE;
  if (procs < 0)
    return MN_LOCAL_SWEEP_NOT_A_CGROUP;
  while (v == MN_LOCAL_SWEEP_REMOVE && (n = read (procs, buf, sizeof buf)) > 0)
    for (gssize i = 0; i < n; i++)
      if (!g_ascii_isspace (buf[i]))
        v = MN_LOCAL_SWEEP_BUSY;
  if (n < 0 && v == MN_LOCAL_SWEEP_REMOVE)
    v = MN_LOCAL_SWEEP_NOT_A_CGROUP;
  close (procs);
  if (v != MN_LOCAL_SWEEP_REMOVE)
    return v;
  /* a cgroup below it: not a job's (the kernel would refuse it anyway) */
  dfd = dup (fd);
  d = dfd >= 0 ? fdopendir (dfd) : NULL;
  if (d == NULL)
    {
      if (dfd >= 0)
        close (dfd);
      return MN_LOCAL_SWEEP_NOT_A_DIR;
    }
  while (v == MN_LOCAL_SWEEP_REMOVE && (e = readdir (d)) != NULL)
    {
      struct stat st;
      if (g_str_equal (e->d_name, ".") || g_str_equal (e->d_name, ".."))
        continue;
      if (e->d_type == DT_DIR ||
          (e->d_type == DT_UNKNOWN && fstatat (fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR (st.st_mode)))
        v = MN_LOCAL_SWEEP_HAS_CHILDREN;
    }
  closedir (d);
  return v;
}

MnLocalSweepVerdict
mn_local_cgroups_sweep_verdict (int parent_fd, const gchar *name, gint64 now, GHashTable *keep)
{
  struct stat st;
  MnLocalSweepVerdict v;
  int fd;
  if (!mn_local_cgroups_valid_id (name))
    return MN_LOCAL_SWEEP_NOT_A_JOB;
  if (keep != NULL && g_hash_table_contains (keep, name))
    return MN_LOCAL_SWEEP_KEPT;
  if (fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR (st.st_mode))
    return MN_LOCAL_SWEEP_NOT_A_DIR;
  /* a clock set back makes every directory young: nothing is swept */
  if (now - (gint64) st.st_mtime < MN_LOCAL_CGROUPS_SWEEP_AGE)
    return MN_LOCAL_SWEEP_YOUNG;
  fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return MN_LOCAL_SWEEP_NOT_A_DIR;
  v = leaf_verdict (fd);
  close (fd);
  return v;
}

/* The job cgroups of one parent directory that the verdict says to remove;
 * *@failed counts those the kernel refused. */
static guint
sweep_parent (MnLocalCgroups *self, const gchar *parent, GHashTable *keep, gint64 now,
              guint *failed)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  int pfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int dfd = pfd >= 0 ? dup (pfd) : -1;
  DIR *d = dfd >= 0 ? fdopendir (dfd) : NULL;
  struct dirent *e;
  guint removed = 0;
  if (d == NULL)
    {
      if (dfd >= 0)
        close (dfd);
      if (pfd >= 0)
        close (pfd);
      return 0;
    }
  /* names first: the directory changes as they go */
  while ((e = readdir (d)) != NULL)
    if (mn_local_cgroups_valid_id (e->d_name))
      g_ptr_array_add (names, g_strdup (e->d_name));
  closedir (d);
  for (guint i = 0; i < names->len; i++)
    {
      const gchar *name = g_ptr_array_index (names, i);
      g_autofree gchar *path = g_build_filename (parent, name, NULL);
      if (mn_local_cgroups_sweep_verdict (pfd, name, now, keep) != MN_LOCAL_SWEEP_REMOVE)
        continue;
      if (unlinkat (pfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
        {
          removed++;
          g_mutex_lock (&self->lock);
          g_hash_table_remove (self->stale, path);
          g_mutex_unlock (&self->lock);
        }
      else
        {
          /* a process joined since it was read, or another controller's
           * job took the name again: left alone */
          g_debug ("cgroup %s not removed: %s", path, g_strerror (errno));
          (*failed)++;
        }
    }
  close (pfd);
  return removed;
}

guint
mn_local_cgroups_sweep (MnLocalCgroups *self, GHashTable *keep, gint64 now)
{
  const gchar *parents[] = { self->v2_base, self->v1_memory, self->v1_cpu, self->v1_cpuset };
  g_autoptr(GString) where = g_string_new (NULL);
  guint removed = 0, failed = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (parents); i++)
    if (parents[i] != NULL)
      {
        removed += sweep_parent (self, parents[i], keep, now, &failed);
        g_string_append_printf (where, "%s%s", where->len ? ", " : "", parents[i]);
      }
  if (removed > 0 || failed > 0)
    {
      g_autofree gchar *refused = failed > 0 ? g_strdup_printf ("; %u could not be removed"
                                                                " (busy again)", failed) : NULL;
      g_message ("removed %u empty job cgroup%s left by earlier controllers (no process, older"
                 " than %d s) in %s%s", removed, removed == 1 ? "" : "s",
                 MN_LOCAL_CGROUPS_SWEEP_AGE, where->str, refused ? refused : "");
    }
  return removed;
}

gchar *
mn_local_cgroups_left (const gchar *joined, guint *procs)
{
  g_auto(GStrv) dirs = g_strsplit (joined ? joined : "", ";", -1);
  g_autoptr(GPtrArray) left = g_ptr_array_new ();
  *procs = 0;
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      g_autofree gchar *members = NULL;
      g_auto(GStrv) pids = NULL;
      if (dirs[i][0] == '\0' || !g_file_test (dirs[i], G_FILE_TEST_IS_DIR))
        continue;
      g_ptr_array_add (left, dirs[i]);
      members = read_file (dirs[i], "cgroup.procs");
      pids = g_strsplit (members ? members : "", "\n", -1);
      for (gsize k = 0; pids[k] != NULL; k++)
        if (g_strstrip (pids[k])[0] != '\0')
          (*procs)++;
    }
  if (left->len == 0)
    return NULL;
  g_ptr_array_add (left, NULL);
  return g_strjoinv (";", (gchar **) left->pdata);
}

/* "oom_kill N" from memory.events (v2) or memory.oom_control (v1). */
static guint64
oom_count (const gchar *dir, const gchar *file)
{
  g_autofree gchar *text = read_file (dir, file);
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "oom_kill "))
      return g_ascii_strtoull (lines[i] + strlen ("oom_kill "), NULL, 10);
  return 0;
}

guint64
mn_local_cgroups_oom_kills (MnLocalCgroups *self, const gchar *joined)
{
  g_auto(GStrv) dirs = g_strsplit (joined ? joined : "", ";", -1);
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      if (self->v2_base && g_str_has_prefix (dirs[i], self->v2_base))
        return oom_count (dirs[i], "memory.events");
      if (self->v1_memory && g_str_has_prefix (dirs[i], self->v1_memory))
        return oom_count (dirs[i], "memory.oom_control");
    }
  return 0;
}
