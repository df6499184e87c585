/* test-backend-local-sweep.c: the local backend leaves no job cgroup behind.
 *
 * - which entries of a jobs' parent the start's sweep removes, one case a
 *   row, on a fake cgroup tree in a temporary directory (runs anywhere);
 * - the sweep on the kernel's cgroupfs: only the old, empty job cgroups go
 *   (root and a v1 memory or v2 hierarchy; skips otherwise);
 * - freeing MnLocalCgroups (the controller stopping) waits, bounded, for the
 *   cgroups of ended jobs that were still busy, and logs those that stay.
 *
 * The cgroupfs tests work in a parent of their own,
 * minna-test-sweep-<pid>, which the parent process removes afterwards
 * (killing the test's processes in it by the PIDs its cgroups list), also
 * when an assertion fails in the child that runs the tests. */
#define G_LOG_DOMAIN "test-backend-local-sweep"

#include "controller-test-util.h"
#include "mn-controller-local-cgroup.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static gchar *fake_dir;    /* the fake tree (a temporary directory) */
static gchar *cg_parent;   /* on cgroupfs, NULL when it cannot be made */

/* ---- the verdict, on a fake tree --------------------------------------------- */

typedef enum { DIR_CGROUP, DIR_PLAIN, FILE_PLAIN, SYMLINK_TO_CGROUP, DIR_PROCS_SYMLINK,
               DIR_WITH_CHILD } Kind;

typedef struct {
  const gchar *name;
  Kind         kind;
  const gchar *procs;      /* cgroup.procs's text */
  gint         age;        /* seconds since its mtime */
  gboolean     kept;       /* a live job's */
  MnLocalSweepVerdict want;
} VerdictCase;

static const VerdictCase verdict_cases[] = {
  { "old-empty", DIR_CGROUP, "", 120, FALSE, MN_LOCAL_SWEEP_REMOVE },
  { "old-blank-lines", DIR_CGROUP, "\n", 120, FALSE, MN_LOCAL_SWEEP_REMOVE },
  { "at-the-age", DIR_CGROUP, "", MN_LOCAL_CGROUPS_SWEEP_AGE, FALSE, MN_LOCAL_SWEEP_REMOVE },
  { "just-made", DIR_CGROUP, "", 5, FALSE, MN_LOCAL_SWEEP_YOUNG },
  { "under-the-age", DIR_CGROUP, "", MN_LOCAL_CGROUPS_SWEEP_AGE - 1, FALSE, MN_LOCAL_SWEEP_YOUNG },
  { "in-the-future", DIR_CGROUP, "", -3600, FALSE, MN_LOCAL_SWEEP_YOUNG },
  { "busy", DIR_CGROUP, "4242\n", 120, FALSE, MN_LOCAL_SWEEP_BUSY },
  { "busy-late", DIR_CGROUP, "\n\n4242\n", 120, FALSE, MN_LOCAL_SWEEP_BUSY },
  { "adopted", DIR_CGROUP, "", 120, TRUE, MN_LOCAL_SWEEP_KEPT },
  { "no_procs", DIR_PLAIN, NULL, 120, FALSE, MN_LOCAL_SWEEP_NOT_A_CGROUP },
  { "procs-symlink", DIR_PROCS_SYMLINK, NULL, 120, FALSE, MN_LOCAL_SWEEP_NOT_A_CGROUP },
  { "a-file", FILE_PLAIN, NULL, 120, FALSE, MN_LOCAL_SWEEP_NOT_A_DIR },
  { "a-symlink", SYMLINK_TO_CGROUP, NULL, 120, FALSE, MN_LOCAL_SWEEP_NOT_A_DIR },
  { "with-child", DIR_WITH_CHILD, "", 120, FALSE, MN_LOCAL_SWEEP_HAS_CHILDREN },
  { "not.a.job", DIR_CGROUP, "", 120, FALSE, MN_LOCAL_SWEEP_NOT_A_JOB },
  { "cgroup.procs", FILE_PLAIN, NULL, 120, FALSE, MN_LOCAL_SWEEP_NOT_A_JOB },
  { "..", DIR_PLAIN, NULL, 120, FALSE, MN_LOCAL_SWEEP_NOT_A_JOB },
  { "a-64-character-name-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", DIR_CGROUP, "", 120,
    FALSE, MN_LOCAL_SWEEP_REMOVE },
  { "a-65-character-name-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", DIR_CGROUP, "", 120,
    FALSE, MN_LOCAL_SWEEP_NOT_A_JOB },
};

static void
set_age (const gchar *path, gint age, gint64 now)
{
  struct timespec t[2] = { { now - age, 0 }, { now - age, 0 } };
  g_assert_cmpint (utimensat (AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), ==, 0);
}

/* Makes the case's entry under @parent (a fresh one each time). */
static void
make_entry (const gchar *parent, const VerdictCase *c, gint64 now)
{
  g_autofree gchar *path = g_build_filename (parent, c->name, NULL);
  g_autofree gchar *procs = g_build_filename (path, "cgroup.procs", NULL);
  if (g_str_equal (c->name, ".."))
    return;
  switch (c->kind)
    {
    case DIR_CGROUP:
    case DIR_WITH_CHILD:
      g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
      g_assert_true (g_file_set_contents (procs, c->procs, -1, NULL));
      if (c->kind == DIR_WITH_CHILD)
        {
          g_autofree gchar *child = g_build_filename (path, "below", NULL);
          g_assert_cmpint (g_mkdir (child, 0755), ==, 0);
        }
      break;
    case DIR_PLAIN:
      g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
      break;
    case DIR_PROCS_SYMLINK:
      g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
      g_assert_cmpint (symlink ("/dev/null", procs), ==, 0);
      break;
    case FILE_PLAIN:
      g_assert_true (g_file_set_contents (path, "", -1, NULL));
      break;
    case SYMLINK_TO_CGROUP:
      {
        /* to an old, empty cgroup outside the parent: never followed */
        g_autofree gchar *target = g_strdup_printf ("%s-target", path);
        g_autofree gchar *tprocs = g_build_filename (target, "cgroup.procs", NULL);
        g_assert_cmpint (g_mkdir (target, 0755), ==, 0);
        g_assert_true (g_file_set_contents (tprocs, "", -1, NULL));
        set_age (target, c->age, now);
        g_assert_cmpint (symlink (target, path), ==, 0);
      }
      break;
    }
  set_age (path, c->age, now);
}

static void
test_verdict (gconstpointer data)
{
  const VerdictCase *c = data;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree gchar *parent = g_build_filename (fake_dir, "verdict", NULL);
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  int fd;
  MnLocalSweepVerdict got;

  mn_test_remove_dir (parent);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  make_entry (parent, c, now);
  if (c->kept)
    g_hash_table_add (keep, (gpointer) c->name);
  fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  got = mn_local_cgroups_sweep_verdict (fd, c->name, now, keep);
  close (fd);
  g_test_message ("%s: verdict %d, want %d", c->name, got, c->want);
  g_assert_cmpint (got, ==, c->want);
  mn_test_remove_dir (parent);
}

/* A fake tree as the configured cgroup directory: the sweep reads it
 * through the same path as a real one, and removes nothing it must keep
 * (rmdir of a fake cgroup with its cgroup.procs file fails: counted, not
 * removed). */
static void
test_fake_tree_keeps (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree gchar *parent = g_build_filename (fake_dir, "tree", NULL);
  g_autofree gchar *controllers = g_build_filename (parent, "cgroup.controllers", NULL);
  g_autoptr(MnLocalCgroups) cg = NULL;
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);

  mn_test_remove_dir (parent);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (controllers, "memory cpu", -1, NULL));
  cg = mn_local_cgroups_new (parent);
  g_assert_true (g_str_has_prefix (mn_local_cgroups_describe (cg), "cgroup v2 "));
  for (gsize i = 0; i < G_N_ELEMENTS (verdict_cases); i++)
    if (verdict_cases[i].want != MN_LOCAL_SWEEP_REMOVE)
      {
        make_entry (parent, &verdict_cases[i], now);
        if (verdict_cases[i].kept)
          g_hash_table_add (keep, (gpointer) verdict_cases[i].name);
      }
  g_assert_cmpuint (mn_local_cgroups_sweep (cg, keep, now), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (verdict_cases); i++)
    {
      g_autofree gchar *path = g_build_filename (parent, verdict_cases[i].name, NULL);
      struct stat st;
      if (verdict_cases[i].want != MN_LOCAL_SWEEP_REMOVE && !g_str_equal (verdict_cases[i].name, ".."))
        g_assert_cmpint (lstat (path, &st), ==, 0);
    }
  g_clear_pointer (&cg, mn_local_cgroups_free);
  mn_test_remove_dir (parent);
}

/* ---- on cgroupfs ------------------------------------------------------------- */

static gboolean
need_cgroupfs (void)
{
  if (cg_parent == NULL)
    {
      g_test_skip ("needs root and a writable cgroup v1 memory or v2 hierarchy"
                   " (/sys/fs/cgroup/memory or /sys/fs/cgroup with cgroup.controllers)");
      return FALSE;
    }
  return TRUE;
}

static void
cg_mkdir (const gchar *name, gint age, gint64 now)
{
  g_autofree gchar *path = g_build_filename (cg_parent, name, NULL);
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  if (age > 0)
    set_age (path, age, now);
}

static gboolean
cg_exists (const gchar *name)
{
  g_autofree gchar *path = g_build_filename (cg_parent, name, NULL);
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

/* A process of ours that sleeps in cgroup @name until killed. */
static GPid
sleeper_in (const gchar *name)
{
  g_autofree gchar *procs = g_build_filename (cg_parent, name, "cgroup.procs", NULL);
  g_autofree gchar *pid_text = NULL;
  const gchar *argv[] = { "sleep", "300", NULL };
  g_autoptr(GError) error = NULL;
  GPid pid = 0;
  g_assert_true (g_spawn_async (NULL, (gchar **) argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                &error));
  g_assert_no_error (error);
  pid_text = g_strdup_printf ("%d", (int) pid);
  /* cgroupfs takes the write on the file itself */
  {
    int fd = open (procs, O_WRONLY | O_CLOEXEC);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (write (fd, pid_text, strlen (pid_text)), ==, (gssize) strlen (pid_text));
    close (fd);
  }
  return pid;
}

static void
end_sleeper (GPid pid)
{
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

/* Of the old empty job cgroups only those of no live job go; the young, the
 * busy, the adopted and those not named like a job stay. */
static void
test_sweep_cgroupfs (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(MnLocalCgroups) cg = NULL;
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  GPid busy;

  if (!need_cgroupfs ())
    return;
  cg = mn_local_cgroups_new (cg_parent);
  g_test_message ("%s", mn_local_cgroups_describe (cg));
  cg_mkdir ("old-empty-1", 3600, now);
  cg_mkdir ("old-empty-2", 120, now);
  cg_mkdir ("young", 0, now);
  cg_mkdir ("old-busy", 0, now);
  cg_mkdir ("adopted", 3600, now);
  cg_mkdir ("not.a.job", 3600, now);
  busy = sleeper_in ("old-busy");
  {
    g_autofree gchar *path = g_build_filename (cg_parent, "old-busy", NULL);
    set_age (path, 3600, now);
  }
  g_hash_table_add (keep, "adopted");

  g_assert_cmpuint (mn_local_cgroups_sweep (cg, keep, now), ==, 2);
  g_assert_false (cg_exists ("old-empty-1"));
  g_assert_false (cg_exists ("old-empty-2"));
  g_assert_true (cg_exists ("young"));
  g_assert_true (cg_exists ("old-busy"));
  g_assert_true (cg_exists ("adopted"));
  g_assert_true (cg_exists ("not.a.job"));
  /* a second start finds nothing more to do */
  g_assert_cmpuint (mn_local_cgroups_sweep (cg, keep, now), ==, 0);

  end_sleeper (busy);
  g_clear_pointer (&cg, mn_local_cgroups_free);
  for (const gchar *const *n = (const gchar *const[]) { "young", "old-busy", "adopted", "not.a.job", NULL };
       *n != NULL; n++)
    {
      g_autofree gchar *path = g_build_filename (cg_parent, *n, NULL);
      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
}

typedef struct {
  GPid pid;
  gint delay_ms;
} LateEnd;

static gpointer
end_later (gpointer data)
{
  LateEnd *l = data;
  g_usleep (l->delay_ms * 1000);
  end_sleeper (l->pid);
  return NULL;
}

/* A job's cgroup still busy when it ended goes when the controller stops,
 * as soon as its last process has left; one whose process never leaves
 * holds the stop no longer than the bound, and is logged by its path. */
static void
test_stop_drains (void)
{
  MnLocalLimits limits = { 0 };
  g_autoptr(MnLocalCgroups) cg = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *late = NULL, *stuck = NULL;
  g_autofree gchar *late_dir = NULL, *stuck_dir = NULL, *pattern = NULL;
  GThread *t;
  LateEnd l;
  GPid stuck_pid;
  gint64 t0, took;

  if (!need_cgroupfs ())
    return;
  cg = mn_local_cgroups_new (cg_parent);
  late = mn_local_cgroups_make (cg, "drain-late", &limits, &error);
  g_assert_no_error (error);
  late_dir = g_build_filename (cg_parent, "drain-late", NULL);
  g_assert_cmpstr (late, ==, late_dir);
  l.pid = sleeper_in ("drain-late");
  l.delay_ms = 300;
  /* the job is over but a process is still in its cgroup: kept for later */
  mn_local_cgroups_remove (cg, late);
  g_assert_true (cg_exists ("drain-late"));

  t = g_thread_new ("end-later", end_later, &l);
  t0 = g_get_monotonic_time ();
  g_clear_pointer (&cg, mn_local_cgroups_free);
  took = g_get_monotonic_time () - t0;
  g_thread_join (t);
  g_test_message ("stop waited %.2f s for a process that left after 0.3 s", took / 1e6);
  g_assert_false (cg_exists ("drain-late"));
  g_assert_cmpint (took, <, MN_LOCAL_CGROUPS_DRAIN_US + 5 * G_USEC_PER_SEC);

  /* never leaves: bounded, and named in the log */
  cg = mn_local_cgroups_new (cg_parent);
  stuck = mn_local_cgroups_make (cg, "drain-stuck", &limits, &error);
  g_assert_no_error (error);
  stuck_dir = g_build_filename (cg_parent, "drain-stuck", NULL);
  stuck_pid = sleeper_in ("drain-stuck");
  mn_local_cgroups_remove (cg, stuck);
  pattern = g_strdup_printf ("cgroup %s of a job that is over could not be removed*", stuck_dir);
  g_test_expect_message ("minna-controller", G_LOG_LEVEL_MESSAGE, pattern);
  t0 = g_get_monotonic_time ();
  g_clear_pointer (&cg, mn_local_cgroups_free);
  took = g_get_monotonic_time () - t0;
  g_test_assert_expected_messages ();
  g_test_message ("stop gave up after %.2f s (bound %.1f s)", took / 1e6,
                  MN_LOCAL_CGROUPS_DRAIN_US / 1e6);
  g_assert_cmpint (took, >=, MN_LOCAL_CGROUPS_DRAIN_US);
  g_assert_cmpint (took, <, MN_LOCAL_CGROUPS_DRAIN_US + 5 * G_USEC_PER_SEC);
  g_assert_true (cg_exists ("drain-stuck"));
  end_sleeper (stuck_pid);
  g_assert_cmpint (g_rmdir (stuck_dir), ==, 0);
}

/* ---- set-up and clean-up ----------------------------------------------------- */

/* minna-test-sweep-<pid> in the v1 memory hierarchy, else in v2's root. */
static gchar *
make_cg_parent (void)
{
  const gchar *roots[] = { "/sys/fs/cgroup/memory", "/sys/fs/cgroup" };
  const gchar *marks[] = { "memory.limit_in_bytes", "cgroup.controllers" };
  if (geteuid () != 0)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (roots); i++)
    {
      g_autofree gchar *mark = g_build_filename (roots[i], marks[i], NULL);
      g_autofree gchar *dir = g_strdup_printf ("%s/minna-test-sweep-%d", roots[i], (int) getpid ());
      if (g_file_test (mark, G_FILE_TEST_EXISTS) && g_mkdir (dir, 0755) == 0)
        return g_steal_pointer (&dir);
    }
  return NULL;
}

/* Whatever happened in the child: the processes the test put in its own
 * cgroups (by the PIDs they list), then the cgroups, then the parent. */
static void
clean_up (void)
{
  g_autoptr(GDir) d = cg_parent ? g_dir_open (cg_parent, 0, NULL) : NULL;
  const gchar *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *dir = g_build_filename (cg_parent, name, NULL);
      g_autofree gchar *procs = g_build_filename (dir, "cgroup.procs", NULL);
      g_autofree gchar *text = NULL;
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        continue;
      if (g_file_get_contents (procs, &text, NULL, NULL))
        {
          g_auto(GStrv) pids = g_strsplit (text, "\n", -1);
          for (gsize i = 0; pids[i] != NULL; i++)
            if (pids[i][0] != '\0')
              kill ((pid_t) g_ascii_strtoll (pids[i], NULL, 10), SIGKILL);
        }
      for (gint i = 0; i < 100 && g_rmdir (dir) != 0; i++)
        g_usleep (20 * 1000);
    }
  if (cg_parent != NULL && g_rmdir (cg_parent) != 0)
    g_printerr ("could not remove %s\n", cg_parent);
  mn_test_remove_dir (fake_dir);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int rc;
  g_test_init (&argc, &argv, NULL);
  fake_dir = g_dir_make_tmp ("minna-sweep-XXXXXX", &error);
  g_assert_no_error (error);
  cg_parent = make_cg_parent ();
  for (gsize i = 0; i < G_N_ELEMENTS (verdict_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/backend/local/sweep/verdict/%s",
                                                g_str_equal (verdict_cases[i].name, "..")
                                                ? "dot-dot" : verdict_cases[i].name);
      g_test_add_data_func (path, &verdict_cases[i], test_verdict);
    }
  g_test_add_func ("/backend/local/sweep/fake-tree-keeps", test_fake_tree_keeps);
  g_test_add_func ("/backend/local/sweep/cgroupfs", test_sweep_cgroupfs);
  g_test_add_func ("/backend/local/stop/drains-busy-cgroups", test_stop_drains);
  if ((rc = mn_test_run_in_child (clean_up)) >= 0)
    return rc;
  rc = g_test_run ();
  fflush (stdout);
  _exit (rc);
}
