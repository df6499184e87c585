/* Tests for daemons/common/mn-secure-file: owner-only files, checked at
 * start (refused or tightened), whatever the umask. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn-secure-file.h"

static gchar *dir;

static gchar *
make_file (const gchar *name, guint mode)
{
  gchar *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, "secret\n", -1, NULL));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static guint
mode_of (const gchar *path)
{
  struct stat st;
  g_assert_cmpint (lstat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

typedef struct {
  const gchar *name;
  guint        mode;
  guint        max;
  gboolean     refused;
} ModeCase;

static const ModeCase refuse_cases[] = {
  { "owner-only", 0600, 0600, FALSE },
  { "read-only", 0400, 0600, FALSE },
  { "group-read", 0640, 0600, TRUE },
  { "world-read", 0644, 0600, TRUE },
  { "world-write", 0602, 0600, TRUE },
  { "group-exec", 0610, 0600, TRUE },
  { "setuid", 04600, 0600, TRUE },
  { "dir-0711", 0711, 0711, FALSE },
};

static void
test_refuse (gconstpointer data)
{
  const ModeCase *c = data;
  g_autofree gchar *path = make_file (c->name, c->mode);
  g_autoptr(GError) error = NULL;
  gboolean ok = mn_secure_path_check (path, c->max, MN_SECURE_REFUSE, &error);
  g_assert_cmpint (ok, ==, !c->refused);
  if (c->refused)
    {
      g_autofree gchar *mode = g_strdup_printf ("%04o", c->mode);
      g_assert_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_MODE);
      /* the message names the file and its mode */
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, mode));
      g_assert_cmpuint (mode_of (path), ==, c->mode);   /* refused, not touched */
    }
  g_unlink (path);
}

static void
test_fix (void)
{
  g_autofree gchar *path = make_file ("loose", 0644);
  g_autoptr(GError) error = NULL;
  g_test_expect_message ("minna-secure", G_LOG_LEVEL_MESSAGE, "*loose had mode 0644*now 0600*");
  g_assert_true (mn_secure_path_check (path, 0600, MN_SECURE_FIX, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (path), ==, 0600);
  g_unlink (path);
}

static void
test_symlink_and_missing (void)
{
  g_autofree gchar *target = make_file ("target", 0600);
  g_autofree gchar *link = g_build_filename (dir, "link", NULL);
  g_autofree gchar *missing = g_build_filename (dir, "missing", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (symlink (target, link), ==, 0);
  g_assert_false (mn_secure_path_check (link, 0600, MN_SECURE_FIX, &error));
  g_assert_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_TYPE);
  g_clear_error (&error);
  g_assert_false (mn_secure_path_check (missing, 0600, MN_SECURE_REFUSE, &error));
  g_assert_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_MISSING);
  g_unlink (link);
  g_unlink (target);
}

/* A state directory as an older version or a umask of 0 left it: every
 * file and directory below is tightened, the skipped entry is not. */
static void
test_tree (void)
{
  g_autofree gchar *top = g_build_filename (dir, "state", NULL);
  g_autofree gchar *sub = g_build_filename (top, "jobs", NULL);
  g_autofree gchar *skip = g_build_filename (top, "sessions", NULL);
  g_autofree gchar *db = g_build_filename (top, "controller.db", NULL);
  g_autofree gchar *rec = g_build_filename (sub, "job-1", NULL);
  g_autofree gchar *exe = g_build_filename (sub, "run.sh", NULL);
  g_autofree gchar *user = g_build_filename (skip, "s1", NULL);
  const gchar *skip_names[] = { "sessions", NULL };
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (user, 0755), ==, 0);
  g_assert_cmpint (g_chmod (top, 0755), ==, 0);
  g_assert_cmpint (g_chmod (sub, 0777), ==, 0);
  g_assert_cmpint (g_chmod (user, 0755), ==, 0);
  g_assert_true (g_file_set_contents (db, "x", -1, NULL));
  g_assert_cmpint (g_chmod (db, 0666), ==, 0);
  g_assert_true (g_file_set_contents (rec, "x", -1, NULL));
  g_assert_cmpint (g_chmod (rec, 0644), ==, 0);
  g_assert_true (g_file_set_contents (exe, "x", -1, NULL));
  g_assert_cmpint (g_chmod (exe, 0755), ==, 0);

  g_test_expect_message ("minna-secure", G_LOG_LEVEL_MESSAGE, "*state had mode 0755*");
  g_test_expect_message ("minna-secure", G_LOG_LEVEL_MESSAGE, "*");
  g_test_expect_message ("minna-secure", G_LOG_LEVEL_MESSAGE, "*");
  g_test_expect_message ("minna-secure", G_LOG_LEVEL_MESSAGE, "*");
  g_test_expect_message ("minna-secure", G_LOG_LEVEL_MESSAGE, "*");
  g_assert_true (mn_secure_tree_check (top, 0700, skip_names, MN_SECURE_FIX, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (top), ==, 0700);
  g_assert_cmpuint (mode_of (sub), ==, 0700);
  g_assert_cmpuint (mode_of (db), ==, 0600);
  g_assert_cmpuint (mode_of (rec), ==, 0600);
  g_assert_cmpuint (mode_of (exe), ==, 0700);
  g_assert_cmpuint (mode_of (user), ==, 0755);   /* skipped: another user's */

  /* refused rather than fixed */
  g_assert_cmpint (g_chmod (rec, 0640), ==, 0);
  g_assert_false (mn_secure_tree_check (top, 0700, skip_names, MN_SECURE_REFUSE, &error));
  g_assert_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_MODE);
  g_assert_nonnull (strstr (error->message, "job-1"));
  g_clear_error (&error);

  /* mn_secure_dir sets the mode asked, 0711 included */
  g_assert_true (mn_secure_dir (skip, 0711, &error));
  g_assert_cmpuint (mode_of (skip), ==, 0711);
}

static void
test_umask_and_append (void)
{
  g_autofree gchar *log = g_build_filename (dir, "access.log", NULL);
  g_autofree gchar *made = g_build_filename (dir, "made", NULL);
  g_autoptr(GError) error = NULL;
  mode_t old = umask (0);
  int fd = mn_secure_open_append (log, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_cmpuint (mode_of (log), ==, 0600);    /* under umask 0 */
  g_assert_cmpint (g_chmod (log, 0644), ==, 0);
  g_test_expect_message ("minna-secure", G_LOG_LEVEL_MESSAGE, "*access.log had mode 0644*");
  fd = mn_secure_open_append (log, &error);
  g_test_assert_expected_messages ();
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_cmpuint (mode_of (log), ==, 0600);
  mn_secure_umask ();
  g_assert_true (g_file_set_contents (made, "x", -1, NULL));
  g_assert_cmpuint (mode_of (made), ==, 0600);
  umask (old);
}

static void
remove_tree (const gchar *path)
{
  g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
  const gchar *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *p = g_build_filename (path, name, NULL);
      struct stat st;
      if (lstat (p, &st) == 0 && S_ISDIR (st.st_mode))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  int rc;
  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("mn-secure-XXXXXX", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (refuse_cases); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/common/secure-file/refuse/%s", refuse_cases[i].name);
      g_test_add_data_func (name, &refuse_cases[i], test_refuse);
    }
  g_test_add_func ("/common/secure-file/fix", test_fix);
  g_test_add_func ("/common/secure-file/symlink-and-missing", test_symlink_and_missing);
  g_test_add_func ("/common/secure-file/tree", test_tree);
  g_test_add_func ("/common/secure-file/umask-and-append", test_umask_and_append);
  rc = g_test_run ();
  remove_tree (dir);
  g_free (dir);
  return rc;
}
