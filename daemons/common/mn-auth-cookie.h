/* mn-auth-cookie.h: the portal's login cookie, shared by the controller
 * (which issues it at login) and the relay (which checks it on every request
 * to /s/<id>/).
 *
 * Cookie name: "minna_session".  Value: "USER.EXPIRY.MAC" where USER is
 * base64url (no padding) of the user name, EXPIRY is decimal Unix seconds and
 * MAC is base64url (no padding) of HMAC-SHA256(key, "USER.EXPIRY") (OpenSSL),
 * compared in constant time (CRYPTO_memcmp).
 *
 * The key is read from a file that must not be readable by group or others.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_AUTH_COOKIE_NAME "minna_session"

/* The header in which the relay (and the controller's readiness probe) hand
 * an app its session's secret (apps/minna_jupyter_auth.py).  Not
 * Authorization: Jupyter echoes a token accepted there into its pages.  The
 * relay drops this header from everything clients send. */
#define MN_AUTH_APP_TOKEN_HEADER "X-Minna-App-Token"

#define MN_AUTH_ERROR (mn_auth_error_quark ())
GQuark mn_auth_error_quark (void);

typedef enum {
  MN_AUTH_ERROR_KEY_FILE,     /* missing, unreadable, too open, too short */
  MN_AUTH_ERROR_MALFORMED,
  MN_AUTH_ERROR_BAD_MAC,
  MN_AUTH_ERROR_EXPIRED,
} MnAuthError;

typedef struct _MnAuthKey MnAuthKey;

/* Load the key from @path; refuses files with mode & 077 != 0 and keys under
 * 32 bytes.  Trailing whitespace is stripped. */
MnAuthKey *mn_auth_key_load (const gchar *path, GError **error);
MnAuthKey *mn_auth_key_new_from_data (const guint8 *data, gsize length);
/* Create @path (mode 0600) with 32 random bytes, hex, if it does not exist. */
gboolean   mn_auth_key_create_file (const gchar *path, GError **error);
void       mn_auth_key_free (MnAuthKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnAuthKey, mn_auth_key_free)

/* The cookie's value (not the Set-Cookie header). */
gchar *mn_auth_cookie_mint (const MnAuthKey *key, const gchar *user, gint64 expiry);

/* Checks format, MAC (constant time) and expiry against @now; returns the
 * user name. */
gchar *mn_auth_cookie_verify (const MnAuthKey *key, const gchar *value,
                              gint64 now, GError **error);

/* HMAC-SHA256 over @data, hex; used for CSRF tokens as well. */
gchar *mn_auth_hmac_hex (const MnAuthKey *key, const gchar *data);

G_END_DECLS
