/* mn-controller-auth.h: password checks (users file, PAM) and the slow-down
 * after failed logins. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "$pbkdf2-sha256$ITERATIONS$SALT$HASH" (salt and hash base64), 16-byte
 * salt from OpenSSL RAND, 32-byte PBKDF2-HMAC-SHA256. */
gchar   *mn_auth_hash_password (const gchar *password, guint iterations);
gboolean mn_auth_verify_password (const gchar *password, const gchar *encoded);

/* PBKDF2 iterations of an unknown user's check when the file has no entry
 * to copy them from (the [auth] pbkdf2_iterations default). */
#define MN_AUTH_DEFAULT_ITERATIONS 200000

/* TRUE: user and password match a line of @path ("user:HASH").  FALSE with
 * no error: they do not.  FALSE with an error: the file is unusable.  A
 * user name the file does not have costs the same PBKDF2 work as one it has
 * (the iterations of its first entry), so timing does not tell them apart. */
gboolean mn_auth_users_file_check (const gchar *path, const gchar *user,
                                   const gchar *password, GError **error);
/* Adds or replaces @user's line (file kept 0600, replaced atomically). */
gboolean mn_auth_users_file_set (const gchar *path, const gchar *user,
                                 const gchar *encoded, GError **error);
gboolean mn_auth_user_name_valid (const gchar *user);

/* PAM service @service (auth + account).  FALSE with no error: refused. */
gboolean mn_auth_pam_check (const gchar *service, const gchar *user,
                            const gchar *password, GError **error);

/* Per key failure counts: after @free_failures failures each further one
 * doubles the wait, from 1 s up to @max_delay (a slow-down, never a lock).
 * The controller counts an attempt as failed when it arrives, before its
 * password is checked, and forgets the key's count when the password was
 * right: parallel guesses cannot all slip in before the first failure is
 * counted.  Keys: per client address ("addr:IP", IPv6 by /64; a lecture
 * room shares one NAT address, so it allows more) and per user at that
 * address ("user:NAME@IP"): guesses from elsewhere never slow the real user
 * down.  The table is bounded; a flood of new keys evicts entries whose wait
 * ended, never everything.  @max_delay is in seconds; every @now is in
 * microseconds of the monotonic clock (g_get_monotonic_time ()), so a 1 s
 * wait lasts a whole second wherever in a second it began. */
typedef struct _MnLoginThrottle MnLoginThrottle;
MnLoginThrottle *mn_login_throttle_new (gint64 max_delay, guint free_failures);
void             mn_login_throttle_free (MnLoginThrottle *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnLoginThrottle, mn_login_throttle_free)
/* Microseconds until @key may try again (0: now). */
gint64           mn_login_throttle_wait (MnLoginThrottle *t, const gchar *key, gint64 now);
void             mn_login_throttle_failed (MnLoginThrottle *t, const gchar *key, gint64 now);
void             mn_login_throttle_succeeded (MnLoginThrottle *t, const gchar *key);
/* A counted attempt turned out wrong at @now: the wait runs from now (a
 * slow check, PAM's own delay, must not use it up). */
void             mn_login_throttle_settle (MnLoginThrottle *t, const gchar *key, gint64 now);
/* One attempt counted for @key was right after all: it no longer counts
 * (the address of a good login; its other failures stay). */
void             mn_login_throttle_forgive (MnLoginThrottle *t, const gchar *key);

G_END_DECLS
