/* mn-secure-file.c: owner-only files and directories, checked at start. */
#define G_LOG_DOMAIN "minna-secure"

#include "mn-secure-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

G_DEFINE_QUARK (mn-secure-error-quark, mn_secure_error)

void
mn_secure_umask (void)
{
  umask (077);
}

static gboolean
io_error (GError **error, const gchar *path, const gchar *what, int saved)
{
  g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_IO, "%s: %s: %s", path, what,
               g_strerror (saved));
  return FALSE;
}

/* The checks on one entry whose lstat is @st.  @made_by_us: the daemon
 * made it (its state, its logs), so even root's must be its own; else it
 * may be a secret shared with the other daemon's account. */
static gboolean
check_stat (const gchar *path, const struct stat *st, guint max_mode, gboolean made_by_us,
            MnSecureAction action, GError **error)
{
  uid_t me = geteuid ();
  guint mode = st->st_mode & 07777;

  if (S_ISLNK (st->st_mode))
    {
      g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_TYPE,
                   "%s is a symbolic link; give the real path", path);
      return FALSE;
    }
  if (!S_ISREG (st->st_mode) && !S_ISDIR (st->st_mode) && !S_ISSOCK (st->st_mode))
    {
      g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_TYPE,
                   "%s is neither a file nor a directory", path);
      return FALSE;
    }
  if (st->st_uid != me && me == 0 && made_by_us && action == MN_SECURE_FIX)
    {
      if (lchown (path, me, getegid ()) != 0)
        return io_error (error, path, "chown", errno);
      g_message ("%s was owned by uid %u; now by uid %u, this daemon's user", path,
                 (guint) st->st_uid, (guint) me);
    }
  /* root reads every file anyway: a key shared with the relay may belong
   * to the relay's account */
  else if (st->st_uid != me && (me != 0 || made_by_us))
    {
      g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_OWNER,
                   "%s is owned by uid %u, not by this daemon's user (uid %u); chown it",
                   path, (guint) st->st_uid, (guint) me);
      return FALSE;
    }
  if ((mode & ~max_mode) == 0)
    return TRUE;
  if (action == MN_SECURE_REFUSE)
    {
      g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_MODE,
                   "%s is %s by others (mode %04o, at most %04o allowed); chmod %o it",
                   path, (mode & 044) != 0 ? "readable" : "usable", mode, max_mode,
                   max_mode & 0777);
      return FALSE;
    }
  if (g_chmod (path, mode & max_mode) != 0)
    return io_error (error, path, "chmod", errno);
  g_message ("%s had mode %04o (group or others could use it); now %04o", path, mode,
             mode & max_mode);
  return TRUE;
}

gboolean
mn_secure_path_check (const gchar *path, guint max_mode, MnSecureAction action,
                      GError **error)
{
  struct stat st;
  if (lstat (path, &st) != 0)
    {
      int saved = errno;
      if (saved == ENOENT)
        {
          g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_MISSING, "%s: %s", path,
                       g_strerror (saved));
          return FALSE;
        }
      return io_error (error, path, "stat", saved);
    }
  return check_stat (path, &st, max_mode, FALSE, action, error);
}

static gboolean
walk (const gchar *dir, const gchar *const *skip, MnSecureAction action, guint depth,
      GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, &local);
  const gchar *name;

  if (d == NULL)
    {
      g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  if (depth > 32)
    {
      g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_TYPE,
                   "%s: directories nested deeper than 32 levels", dir);
      return FALSE;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = NULL;
      struct stat st;
      if (depth == 0 && skip != NULL && g_strv_contains (skip, name))
        continue;
      path = g_build_filename (dir, name, NULL);
      if (lstat (path, &st) != 0)
        {
          if (errno == ENOENT)   /* gone meanwhile (SQLite's -shm) */
            continue;
          return io_error (error, path, "stat", errno);
        }
      if (!check_stat (path, &st, S_ISDIR (st.st_mode) ? 0700 : 0600 | (st.st_mode & 0100),
                       TRUE, action, error))
        return FALSE;
      if (S_ISDIR (st.st_mode) && !walk (path, NULL, action, depth + 1, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
mn_secure_tree_check (const gchar *dir, guint dir_mode, const gchar *const *skip,
                      MnSecureAction action, GError **error)
{
  struct stat st;
  if (lstat (dir, &st) != 0)
    return io_error (error, dir, "stat", errno);
  return check_stat (dir, &st, dir_mode, TRUE, action, error) &&
         walk (dir, skip, action, 0, error);
}

gboolean
mn_secure_dir (const gchar *path, guint mode, GError **error)
{
  struct stat st;
  if (g_mkdir_with_parents (path, (gint) mode) != 0)
    return io_error (error, path, "mkdir", errno);
  if (lstat (path, &st) != 0)
    return io_error (error, path, "stat", errno);
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, MN_SECURE_ERROR, MN_SECURE_ERROR_TYPE, "%s is not a directory", path);
      return FALSE;
    }
  if (!check_stat (path, &st, mode, TRUE, MN_SECURE_FIX, error))
    return FALSE;
  /* wider than asked is fixed above; narrower (0700 where 0711 is needed
   * so that jobs can pass) is set here, quietly: it gives nothing away */
  if ((st.st_mode & 07777) != mode && g_chmod (path, mode) != 0)
    return io_error (error, path, "chmod", errno);
  return TRUE;
}

int
mn_secure_open_append (const gchar *path, GError **error)
{
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  struct stat st;
  if (fd < 0)
    {
      io_error (error, path, "open", errno);
      return -1;
    }
  if (fstat (fd, &st) != 0 || !check_stat (path, &st, 0600, TRUE, MN_SECURE_FIX, error))
    {
      if (error != NULL && *error == NULL)
        io_error (error, path, "stat", errno);
      close (fd);
      return -1;
    }
  return fd;
}
