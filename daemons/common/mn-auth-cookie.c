/* mn-auth-cookie.c: HMAC-SHA256 login cookies shared by controller and relay. */
#define G_LOG_DOMAIN "minna-auth"

#include "mn-auth-cookie.h"
#include "mn-secure-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define MN_AUTH_KEY_MIN_BYTES 32
#define MN_AUTH_USER_MAX 256

struct _MnAuthKey {
  guint8 *data;
  gsize   length;
};

G_DEFINE_QUARK (mn-auth-error-quark, mn_auth_error)

MnAuthKey *
mn_auth_key_new_from_data (const guint8 *data, gsize length)
{
  MnAuthKey *key = g_new0 (MnAuthKey, 1);
  key->data = g_memdup2 (data, length);
  key->length = length;
  return key;
}

void
mn_auth_key_free (MnAuthKey *key)
{
  if (key == NULL)
    return;
  OPENSSL_cleanse (key->data, key->length);
  g_free (key->data);
  g_free (key);
}

MnAuthKey *
mn_auth_key_load (const gchar *path, GError **error)
{
  g_autofree gchar *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) local_error = NULL;

  /* like OpenSSH with a private key: refused, not fixed, when group or
   * others may read it or it is another user's */
  if (!mn_secure_path_check (path, 0600, MN_SECURE_REFUSE, &local_error))
    {
      g_set_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE, "key file %s",
                   local_error->message);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE,
                   "%s: cannot read key file: %s", path, local_error->message);
      return NULL;
    }
  while (length > 0 && g_ascii_isspace (contents[length - 1]))
    length--;
  if (length < MN_AUTH_KEY_MIN_BYTES)
    {
      OPENSSL_cleanse (contents, length);
      g_set_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE,
                   "%s: key is %" G_GSIZE_FORMAT " bytes, at least %d are needed",
                   path, length, MN_AUTH_KEY_MIN_BYTES);
      return NULL;
    }
  MnAuthKey *key = mn_auth_key_new_from_data ((const guint8 *) contents, length);
  OPENSSL_cleanse (contents, length);
  return key;
}

gboolean
mn_auth_key_create_file (const gchar *path, GError **error)
{
  guint8 raw[32];
  gchar hex[sizeof raw * 2 + 2];
  int fd;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (RAND_bytes (raw, sizeof raw) != 1)
    {
      g_set_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE,
                   "%s: no random bytes from OpenSSL", path);
      return FALSE;
    }
  for (gsize i = 0; i < sizeof raw; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", raw[i]);
  hex[sizeof raw * 2] = '\n';
  hex[sizeof raw * 2 + 1] = '\0';
  OPENSSL_cleanse (raw, sizeof raw);

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE,
                   "%s: cannot create key file: %s", path, g_strerror (saved));
      return FALSE;
    }
  gsize len = strlen (hex);
  gboolean ok = write (fd, hex, len) == (gssize) len;
  int saved = errno;
  ok = (close (fd) == 0) && ok;
  OPENSSL_cleanse (hex, sizeof hex);
  if (!ok)
    {
      g_set_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE,
                   "%s: cannot write key file: %s", path, g_strerror (saved));
      g_unlink (path);
      return FALSE;
    }
  return TRUE;
}

/* base64url without padding (RFC 4648 section 5). */
static gchar *
b64url_encode (const guint8 *data, gsize length)
{
  gchar *s = g_base64_encode (data, length);
  gsize j = 0;
  for (gsize i = 0; s[i] != '\0'; i++)
    {
      if (s[i] == '=')
        break;
      s[j++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    }
  s[j] = '\0';
  return s;
}

static guint8 *
b64url_decode (const gchar *s, gsize length, gsize *out_length)
{
  if (length > 4 * MN_AUTH_USER_MAX)
    return NULL;
  GString *t = g_string_sized_new (length + 3);
  for (gsize i = 0; i < length; i++)
    {
      gchar c = s[i];
      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (!g_ascii_isalnum (c))
        {
          g_string_free (t, TRUE);
          return NULL;
        }
      g_string_append_c (t, c);
    }
  if (t->len % 4 == 1)
    {
      g_string_free (t, TRUE);
      return NULL;
    }
  while (t->len % 4 != 0)
    g_string_append_c (t, '=');
  guint8 *out = g_base64_decode (t->str, out_length);
  g_string_free (t, TRUE);
  return out;
}

static void
hmac_sha256 (const MnAuthKey *key, const gchar *data, gsize length,
             guint8 mac[32])
{
  unsigned int mac_len = 32;
  HMAC (EVP_sha256 (), key->data, (int) key->length,
        (const unsigned char *) data, length, mac, &mac_len);
}

gchar *
mn_auth_hmac_hex (const MnAuthKey *key, const gchar *data)
{
  guint8 mac[32];
  hmac_sha256 (key, data, strlen (data), mac);
  GString *s = g_string_sized_new (64);
  for (gsize i = 0; i < sizeof mac; i++)
    g_string_append_printf (s, "%02x", mac[i]);
  return g_string_free (s, FALSE);
}

gchar *
mn_auth_cookie_mint (const MnAuthKey *key, const gchar *user, gint64 expiry)
{
  guint8 mac[32];
  g_return_val_if_fail (key != NULL && user != NULL, NULL);
  g_autofree gchar *u = b64url_encode ((const guint8 *) user, strlen (user));
  g_autofree gchar *payload = g_strdup_printf ("%s.%" G_GINT64_FORMAT, u, expiry);
  hmac_sha256 (key, payload, strlen (payload), mac);
  g_autofree gchar *m = b64url_encode (mac, sizeof mac);
  return g_strdup_printf ("%s.%s", payload, m);
}

gchar *
mn_auth_cookie_verify (const MnAuthKey *key, const gchar *value, gint64 now,
                       GError **error)
{
  guint8 mac[32];
  const gchar *dot1, *dot2;
  gsize mac_len = 0, user_len = 0;

  if (value == NULL || (dot1 = strchr (value, '.')) == NULL ||
      (dot2 = strchr (dot1 + 1, '.')) == NULL || strchr (dot2 + 1, '.') != NULL ||
      dot1 == value || dot2 == dot1 + 1 || dot2[1] == '\0')
    {
      g_set_error_literal (error, MN_AUTH_ERROR, MN_AUTH_ERROR_MALFORMED,
                           "malformed session cookie");
      return NULL;
    }

  /* The MAC first, in constant time, before anything else is trusted. */
  g_autofree guint8 *given = b64url_decode (dot2 + 1, strlen (dot2 + 1), &mac_len);
  hmac_sha256 (key, value, (gsize) (dot2 - value), mac);
  if (given == NULL || mac_len != sizeof mac ||
      CRYPTO_memcmp (given, mac, sizeof mac) != 0)
    {
      g_set_error_literal (error, MN_AUTH_ERROR, MN_AUTH_ERROR_BAD_MAC,
                           "session cookie signature does not match");
      return NULL;
    }

  g_autofree gchar *expiry_text = g_strndup (dot1 + 1, (gsize) (dot2 - dot1 - 1));
  guint64 expiry = 0;
  if (!g_ascii_string_to_unsigned (expiry_text, 10, 0, G_MAXINT64, &expiry, NULL))
    {
      g_set_error_literal (error, MN_AUTH_ERROR, MN_AUTH_ERROR_MALFORMED,
                           "malformed expiry in session cookie");
      return NULL;
    }
  if ((gint64) expiry <= now)
    {
      g_set_error_literal (error, MN_AUTH_ERROR, MN_AUTH_ERROR_EXPIRED,
                           "session cookie has expired");
      return NULL;
    }

  g_autofree guint8 *user = b64url_decode (value, (gsize) (dot1 - value), &user_len);
  if (user == NULL || user_len == 0 || user_len > MN_AUTH_USER_MAX ||
      memchr (user, '\0', user_len) != NULL ||
      !g_utf8_validate ((const gchar *) user, (gssize) user_len, NULL))
    {
      g_set_error_literal (error, MN_AUTH_ERROR, MN_AUTH_ERROR_MALFORMED,
                           "malformed user in session cookie");
      return NULL;
    }
  return g_strndup ((const gchar *) user, user_len);
}
