/* mn-controller-auth.h: password checks (users file, PAM) and the slow-down
 * after failed logins. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "$pbkdf2-sha256$ITERATIONS$SALT$HASH" (salt and hash base64), 16-byte
 * salt from OpenSSL RAND, 32-byte PBKDF2-HMAC-SHA256. */
gchar   *mn_auth_hash_password (const gchar *password, guint iterations);
gboolean mn_auth_verify_password (const gchar *password, const gchar *encoded);

/* TRUE: user and password match a line of @path ("user:HASH").  FALSE with
 * no error: they do not.  FALSE with an error: the file is unusable. */
gboolean mn_auth_users_file_check (const gchar *path, const gchar *user,
                                   const gchar *password, GError **error);
/* Adds or replaces @user's line (file kept 0600, replaced atomically). */
gboolean mn_auth_users_file_set (const gchar *path, const gchar *user,
                                 const gchar *encoded, GError **error);
gboolean mn_auth_user_name_valid (const gchar *user);

/* PAM service @service (auth + account).  FALSE with no error: refused. */
gboolean mn_auth_pam_check (const gchar *service, const gchar *user,
                            const gchar *password, GError **error);

/* Per key ("user:NAME", "addr:IP") failure counts: after @free_failures
 * failures each further one doubles the wait, from 1 s up to @max_delay.
 * (The controller allows more per address than per user: a lecture room
 * shares one NAT address.) */
typedef struct _MnLoginThrottle MnLoginThrottle;
MnLoginThrottle *mn_login_throttle_new (gint64 max_delay, guint free_failures);
void             mn_login_throttle_free (MnLoginThrottle *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnLoginThrottle, mn_login_throttle_free)
/* Seconds until @key may try again (0: now). */
gint64           mn_login_throttle_wait (MnLoginThrottle *t, const gchar *key, gint64 now);
void             mn_login_throttle_failed (MnLoginThrottle *t, const gchar *key, gint64 now);
void             mn_login_throttle_succeeded (MnLoginThrottle *t, const gchar *key);

G_END_DECLS
