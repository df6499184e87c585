/* mn-secure-file.h: the daemons' own files are theirs alone.
 *
 * Both daemons hold secrets in files (the cookie key, the relay's admin
 * secret, the users file, the controller's database with every app token,
 * logs with user names and addresses).  Like OpenSSH with a key readable by
 * others, they check these at start: a path must be owned by the daemon's
 * user (for a daemon running as root: any owner, so that a key shared with
 * the relay may belong to the relay's account) and give group and others
 * nothing; what the daemon made itself (its state, its logs) must be its
 * own even for root.  What the admin provides (keys, secrets, the users file) is
 * refused when looser; what the daemon made itself (its state directory,
 * database, logs) is tightened, with a log line naming the file and both
 * modes.  Symbolic links are refused: a link could point anywhere. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_SECURE_ERROR (mn_secure_error_quark ())
GQuark mn_secure_error_quark (void);

typedef enum {
  MN_SECURE_ERROR_MISSING,   /* no such file */
  MN_SECURE_ERROR_MODE,      /* group or others have access */
  MN_SECURE_ERROR_OWNER,     /* owned by another user */
  MN_SECURE_ERROR_TYPE,      /* a symlink, or not a file / directory */
  MN_SECURE_ERROR_IO,        /* stat, chmod, open failed */
} MnSecureError;

typedef enum {
  MN_SECURE_REFUSE,  /* a looser mode or a foreign owner is an error */
  MN_SECURE_FIX,     /* tightened (chmod, chown when root), logged */
} MnSecureAction;

/* umask 077 for everything the process creates from now on, whatever the
 * umask it was started with.  Each daemon calls it first. */
void     mn_secure_umask (void);

/* @path (not followed if a symlink) must be owned by the effective user and
 * have no mode bits outside @max_mode (0600 for files, 0700 for
 * directories; 0711 for a directory others may only pass through). */
gboolean mn_secure_path_check (const gchar *path, guint max_mode,
                               MnSecureAction action, GError **error);

/* @dir as mn_secure_path_check (dir_mode), and below it every file and
 * directory without group or other bits (mode & 077 == 0), recursively.
 * Entries of @dir named in @skip (NULL-terminated, may be NULL) are not
 * looked at (a directory whose children belong to other users). */
gboolean mn_secure_tree_check (const gchar *dir, guint dir_mode,
                               const gchar *const *skip,
                               MnSecureAction action, GError **error);

/* A directory with exactly @mode (created with its parents if missing; an
 * existing one is fixed, logged), owned by the effective user. */
gboolean mn_secure_dir (const gchar *path, guint mode, GError **error);

/* Opens @path for appending (a log), created 0600; an existing file with a
 * looser mode is fixed first (logged).  Returns the fd or -1. */
int      mn_secure_open_append (const gchar *path, GError **error);

G_END_DECLS
