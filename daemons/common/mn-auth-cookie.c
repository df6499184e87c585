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

static void
hmac_sha256 (const MnAuthKey *key, const gchar *data, gsize length,
             guint8 mac[32])
{
  unsigned int mac_len = 32;
  HMAC (EVP_sha256 (), key->data, (int) key->length,
        (const unsigned char *) data, length, mac, &mac_len);
}

static void
hex_lower (const guint8 *data, gsize length, gchar *out)
{
  static const gchar digits[] = "0123456789abcdef";
  for (gsize i = 0; i < length; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 15];
    }
  out[2 * length] = '\0';
}

gchar *
mn_auth_hmac_hex (const MnAuthKey *key, const gchar *data)
{
  guint8 mac[32];
  gchar *hex = g_malloc (sizeof mac * 2 + 1);
  hmac_sha256 (key, data, strlen (data), mac);
  hex_lower (mac, sizeof mac, hex);
  return hex;
}

/* Only 0-9 a-f: the one spelling of a hex string. */
static gboolean
lower_hex (const gchar *s, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return FALSE;
  return TRUE;
}

gboolean
mn_auth_login_id_valid (const gchar *id)
{
  return id != NULL && strlen (id) == MN_AUTH_LOGIN_ID_LEN &&
         lower_hex (id, MN_AUTH_LOGIN_ID_LEN);
}

gchar *
mn_auth_login_id_new (void)
{
  guint8 raw[MN_AUTH_LOGIN_ID_LEN / 2];
  gchar *id = g_malloc (MN_AUTH_LOGIN_ID_LEN + 1);
  if (RAND_bytes (raw, sizeof raw) != 1)
    g_error ("OpenSSL RAND_bytes failed");
  hex_lower (raw, sizeof raw, id);
  return id;
}

static void
login_mac (const MnAuthKey *key, const gchar *id, gchar out[MN_AUTH_LOGIN_MAC_LEN + 1])
{
  guint8 mac[32];
  gchar data[sizeof "minna-login:" + MN_AUTH_LOGIN_ID_LEN];
  g_snprintf (data, sizeof data, "minna-login:%s", id);
  hmac_sha256 (key, data, strlen (data), mac);
  hex_lower (mac, sizeof mac, out);
  OPENSSL_cleanse (mac, sizeof mac);
}

gchar *
mn_auth_login_cookie (const MnAuthKey *key, const gchar *id)
{
  gchar mac[MN_AUTH_LOGIN_MAC_LEN + 1];
  g_return_val_if_fail (key != NULL && mn_auth_login_id_valid (id), NULL);
  login_mac (key, id, mac);
  return g_strdup_printf ("%s.%s", id, mac);
}

gchar *
mn_auth_login_cookie_check (const MnAuthKey *key, const gchar *value, GError **error)
{
  gchar mac[MN_AUTH_LOGIN_MAC_LEN + 1];
  g_autofree gchar *id = NULL;

  /* the shape first: one spelling, nothing decoded, nothing tolerated */
  if (value == NULL || strlen (value) != MN_AUTH_LOGIN_ID_LEN + 1 + MN_AUTH_LOGIN_MAC_LEN ||
      value[MN_AUTH_LOGIN_ID_LEN] != '.' || !lower_hex (value, MN_AUTH_LOGIN_ID_LEN) ||
      !lower_hex (value + MN_AUTH_LOGIN_ID_LEN + 1, MN_AUTH_LOGIN_MAC_LEN))
    {
      g_set_error_literal (error, MN_AUTH_ERROR, MN_AUTH_ERROR_MALFORMED,
                           "malformed session cookie");
      return NULL;
    }
  id = g_strndup (value, MN_AUTH_LOGIN_ID_LEN);
  login_mac (key, id, mac);
  if (CRYPTO_memcmp (mac, value + MN_AUTH_LOGIN_ID_LEN + 1, MN_AUTH_LOGIN_MAC_LEN) != 0)
    {
      g_set_error_literal (error, MN_AUTH_ERROR, MN_AUTH_ERROR_BAD_MAC,
                           "session cookie signature does not match");
      return NULL;
    }
  return g_steal_pointer (&id);
}

gchar *
mn_auth_cookie_from_header (const gchar *header)
{
  const gsize nlen = strlen (MN_AUTH_COOKIE_NAME);
  g_autofree gchar *found = NULL;
  const gchar *p = header;

  while (p != NULL && *p != '\0')
    {
      const gchar *end = strchr (p, ';');
      const gchar *stop = end != NULL ? end : p + strlen (p);
      while (p < stop && (*p == ' ' || *p == '\t'))
        p++;
      while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
      if ((gsize) (stop - p) > nlen && strncmp (p, MN_AUTH_COOKIE_NAME, nlen) == 0 &&
          p[nlen] == '=')
        {
          if (found != NULL)
            return NULL;
          found = g_strndup (p + nlen + 1, (gsize) (stop - p) - nlen - 1);
        }
      p = end != NULL ? end + 1 : NULL;
    }
  return g_steal_pointer (&found);
}

gchar *
mn_auth_relay_proof (const gchar *admin_secret)
{
  g_autoptr(MnAuthKey) key = NULL;
  if (admin_secret == NULL || admin_secret[0] == '\0')
    return NULL;
  key = mn_auth_key_new_from_data ((const guint8 *) admin_secret, strlen (admin_secret));
  return mn_auth_hmac_hex (key, "minna-relay-forwarded");
}
