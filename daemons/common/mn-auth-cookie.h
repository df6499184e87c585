/* mn-auth-cookie.h: the portal's login cookie, shared by the controller
 * (which issues it at login) and the relay (which checks it on every request
 * to /s/<id>/).
 *
 * A login is server-side state: a row in the controller's SQLite (id, user,
 * created, expires, revoked), pushed to the relay's live set.  The cookie
 * only names it.  Cookie name: "minna_session".  Value, in exactly one
 * spelling: "ID.MAC", where ID is 32 lowercase hex digits (16 bytes from
 * OpenSSL RAND) and MAC is the 64 lowercase hex digits of
 * HMAC-SHA256(key, "minna-login:" ID).  Anything else (upper case, padding,
 * quotes, spaces, extra parts, another length) is refused before the MAC is
 * computed; the MAC is compared in constant time (CRYPTO_memcmp).  A cookie
 * with a good MAC is still only as good as its login: the controller and
 * the relay look the id up in their live set.
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

/* What the relay adds to every request it passes to the controller, so
 * that the controller believes its X-Forwarded-For (the client's address,
 * for the login slow-down) and nobody else's: HMAC-SHA256 of a fixed label
 * under the admin secret the two share, hex.  Apps never get it; the relay
 * drops every X-Minna-* header clients send. */
#define MN_AUTH_RELAY_PROOF_HEADER "X-Minna-Relay-Proof"
gchar *mn_auth_relay_proof (const gchar *admin_secret);

#define MN_AUTH_ERROR (mn_auth_error_quark ())
GQuark mn_auth_error_quark (void);

typedef enum {
  MN_AUTH_ERROR_KEY_FILE,     /* missing, unreadable, too open, too short */
  MN_AUTH_ERROR_MALFORMED,
  MN_AUTH_ERROR_BAD_MAC,
  MN_AUTH_ERROR_EXPIRED,      /* (not used by the cookie itself any more) */
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

#define MN_AUTH_LOGIN_ID_LEN 32
#define MN_AUTH_LOGIN_MAC_LEN 64

/* A fresh login id: 32 lowercase hex digits from OpenSSL RAND. */
gchar   *mn_auth_login_id_new (void);
/* TRUE if @id is 32 lowercase hex digits. */
gboolean mn_auth_login_id_valid (const gchar *id);
/* The cookie's value (not the Set-Cookie header) for login @id. */
gchar   *mn_auth_login_cookie (const MnAuthKey *key, const gchar *id);
/* The login id if @value is, byte for byte, the cookie @key makes for it;
 * else NULL with MN_AUTH_ERROR_MALFORMED (not the one spelling) or
 * MN_AUTH_ERROR_BAD_MAC.  Whether the login is live is the caller's
 * question. */
gchar   *mn_auth_login_cookie_check (const MnAuthKey *key, const gchar *value,
                                     GError **error);

/* The minna_session value in a Cookie header ("a=b; c=d", RFC 6265), as
 * sent: no unquoting, no decoding.  NULL when there is none, or when there
 * is more than one (ambiguous: refused, whichever a server would pick). */
gchar   *mn_auth_cookie_from_header (const gchar *header);

/* HMAC-SHA256 over @data, hex; used for CSRF tokens as well. */
gchar *mn_auth_hmac_hex (const MnAuthKey *key, const gchar *data);

G_END_DECLS
