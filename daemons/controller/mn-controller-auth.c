/* mn-controller-auth.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-auth.h"
#include "mn-controller-config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <security/pam_appl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define MN_LOGIN_THROTTLE_MAX 100000

static void dummy_verify (const gchar *password, gchar **lines);

gchar *
mn_auth_hash_password (const gchar *password, guint iterations)
{
  guint8 salt[SALT_LEN], hash[HASH_LEN];
  g_autofree gchar *s64 = NULL, *h64 = NULL;
  if (RAND_bytes (salt, sizeof salt) != 1)
    g_error ("OpenSSL RAND_bytes failed");
  if (PKCS5_PBKDF2_HMAC (password, (int) strlen (password), salt, sizeof salt,
                         (int) iterations, EVP_sha256 (), sizeof hash, hash) != 1)
    g_error ("PBKDF2 failed");
  s64 = g_base64_encode (salt, sizeof salt);
  h64 = g_base64_encode (hash, sizeof hash);
  return g_strdup_printf ("$pbkdf2-sha256$%u$%s$%s", iterations, s64, h64);
}

gboolean
mn_auth_verify_password (const gchar *password, const gchar *encoded)
{
  /* a malformed entry costs a PBKDF2 all the same */
  g_auto(GStrv) parts = g_strsplit (encoded ? encoded : "", "$", -1);
  g_autofree guchar *salt = NULL, *want = NULL;
  gsize salt_len = 0, want_len = 0;
  guint8 got[HASH_LEN];
  guint64 iter = 0;

  /* "", "pbkdf2-sha256", ITER, SALT, HASH */
  if (g_strv_length (parts) != 5 || !g_str_equal (parts[1], "pbkdf2-sha256") ||
      !g_ascii_string_to_unsigned (parts[2], 10, 1, 100000000, &iter, NULL) ||
      (salt = g_base64_decode (parts[3], &salt_len)) == NULL || salt_len == 0 ||
      (want = g_base64_decode (parts[4], &want_len)) == NULL || want_len != HASH_LEN)
    {
      static const gchar *const none[] = { NULL };
      dummy_verify (password, (gchar **) none);
      return FALSE;
    }
  if (PKCS5_PBKDF2_HMAC (password, (int) strlen (password), salt, (int) salt_len, (int) iter,
                         EVP_sha256 (), sizeof got, got) != 1)
    return FALSE;
  return CRYPTO_memcmp (got, want, HASH_LEN) == 0;
}

gboolean
mn_auth_user_name_valid (const gchar *user)
{
  if (user == NULL || *user == '\0' || strlen (user) > 64)
    return FALSE;
  for (const gchar *c = user; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
      return FALSE;
  return user[0] != '-' && user[0] != '.';
}

/* The work of checking a password against an entry that does not exist:
 * PBKDF2 with the iterations of the file's first entry (what its real
 * entries cost), so that an unknown user name takes as long as a known one
 * (issue 15: 1.5 ms against 79 ms told them apart). */
static void
dummy_verify (const gchar *password, gchar **lines)
{
  static const guint8 salt[SALT_LEN] = "minna-no-user!!";
  guint8 out[HASH_LEN];
  guint64 iter = MN_AUTH_DEFAULT_ITERATIONS;
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) parts = NULL;
      const gchar *colon = strchr (lines[i], ':');
      if (colon == NULL)
        continue;
      parts = g_strsplit (colon + 1, "$", -1);
      if (g_strv_length (parts) == 5 &&
          g_ascii_string_to_unsigned (parts[2], 10, 1, 100000000, &iter, NULL))
        break;
      iter = MN_AUTH_DEFAULT_ITERATIONS;
    }
  PKCS5_PBKDF2_HMAC (password, (int) strlen (password), salt, sizeof salt, (int) iter,
                     EVP_sha256 (), sizeof out, out);
  OPENSSL_cleanse (out, sizeof out);
}

gboolean
mn_auth_users_file_check (const gchar *path, const gchar *user, const gchar *password,
                          GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) lines = NULL;
  gsize ulen = strlen (user);

  if (!g_file_get_contents (path, &data, NULL, &local))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_AUTH,
                   "users file %s: %s", path, local->message);
      return FALSE;
    }
  lines = g_strsplit (data, "\n", -1);
  OPENSSL_cleanse (data, strlen (data));
  for (gsize i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], user, ulen) == 0 && lines[i][ulen] == ':')
      return mn_auth_verify_password (password, g_strstrip (lines[i] + ulen + 1));
  dummy_verify (password, lines);
  return FALSE;
}

gboolean
mn_auth_users_file_set (const gchar *path, const gchar *user, const gchar *encoded,
                        GError **error)
{
  g_autofree gchar *data = NULL;
  g_autofree gchar *tmp = g_strdup_printf ("%s.tmp", path);
  g_auto(GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  gboolean replaced = FALSE;
  gsize ulen = strlen (user);
  int fd;
  gboolean ok;

  if (!mn_auth_user_name_valid (user))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_AUTH,
                   "user name '%s': use letters, digits, '.', '-', '_'", user);
      g_string_free (out, TRUE);
      return FALSE;
    }
  if (g_file_get_contents (path, &data, NULL, NULL))
    {
      lines = g_strsplit (data, "\n", -1);
      for (gsize i = 0; lines[i] != NULL; i++)
        {
          if (lines[i][0] == '\0')
            continue;
          if (strncmp (lines[i], user, ulen) == 0 && lines[i][ulen] == ':')
            {
              g_string_append_printf (out, "%s:%s\n", user, encoded);
              replaced = TRUE;
            }
          else
            g_string_append_printf (out, "%s\n", lines[i]);
        }
    }
  if (!replaced)
    g_string_append_printf (out, "%s:%s\n", user, encoded);
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_AUTH,
                   "%s: %s", tmp, g_strerror (errno));
      g_string_free (out, TRUE);
      return FALSE;
    }
  fchmod (fd, 0600);
  ok = write (fd, out->str, out->len) == (ssize_t) out->len && fsync (fd) == 0;
  close (fd);
  g_string_free (out, TRUE);
  if (!ok || rename (tmp, path) != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_AUTH,
                   "%s: %s", path, g_strerror (errno));
      unlink (tmp);
      return FALSE;
    }
  return TRUE;
}

/* ---- PAM ------------------------------------------------------------------ */

static int
conversation (int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
  struct pam_response *r = calloc ((size_t) n, sizeof *r);
  if (r == NULL)
    return PAM_BUF_ERR;
  for (int i = 0; i < n; i++)
    {
      /* the password is the only thing we can answer */
      if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
        r[i].resp = strdup (data);
    }
  *resp = r;
  return PAM_SUCCESS;
}

gboolean
mn_auth_pam_check (const gchar *service, const gchar *user, const gchar *password,
                   GError **error)
{
  struct pam_conv conv = { conversation, (void *) password };
  pam_handle_t *pamh = NULL;
  int rc = pam_start (service, user, &conv, &pamh);
  if (rc != PAM_SUCCESS)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_AUTH,
                   "PAM service '%s': %s", service, pam_strerror (pamh, rc));
      if (pamh)
        pam_end (pamh, rc);
      return FALSE;
    }
  rc = pam_authenticate (pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (rc == PAM_SUCCESS)
    rc = pam_acct_mgmt (pamh, PAM_SILENT);
  pam_end (pamh, rc);
  return rc == PAM_SUCCESS;
}

/* ---- throttle ------------------------------------------------------------- */

/* Times are microseconds of the monotonic clock: with whole seconds, a
 * burst that straddles a second boundary found a 1 s wait already over a
 * moment after it began (a parallel guess too many got checked). */
typedef struct {
  guint  failures;
  gint64 until;   /* µs */
} Entry;

struct _MnLoginThrottle {
  gint64      max_delay;
  guint       free_failures;
  GHashTable *entries;
};

MnLoginThrottle *
mn_login_throttle_new (gint64 max_delay, guint free_failures)
{
  MnLoginThrottle *t = g_new0 (MnLoginThrottle, 1);
  t->max_delay = max_delay * G_USEC_PER_SEC;
  t->free_failures = MAX (free_failures, 1);
  t->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return t;
}

void
mn_login_throttle_free (MnLoginThrottle *t)
{
  if (t == NULL)
    return;
  g_hash_table_destroy (t->entries);
  g_free (t);
}

gint64
mn_login_throttle_wait (MnLoginThrottle *t, const gchar *key, gint64 now)
{
  Entry *e = g_hash_table_lookup (t->entries, key);
  return e && e->until > now ? e->until - now : 0;
}

/* Bounded, and never by forgetting everything: a flood of new keys (user
 * names from one address) must not wipe the slow-down of the others.
 * Entries whose wait ended long ago go first; if that is not enough, the
 * ones whose wait ends soonest. */
static void
make_room (MnLoginThrottle *t, gint64 now)
{
  GHashTableIter it;
  gpointer value;
  gint64 cut = now - 2 * t->max_delay;
  if (g_hash_table_size (t->entries) < MN_LOGIN_THROTTLE_MAX)
    return;
  g_hash_table_iter_init (&it, t->entries);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Entry *) value)->until < cut)
      g_hash_table_iter_remove (&it);
  while (g_hash_table_size (t->entries) >= MN_LOGIN_THROTTLE_MAX * 9 / 10)
    {
      gint64 soonest = G_MAXINT64;
      g_hash_table_iter_init (&it, t->entries);
      while (g_hash_table_iter_next (&it, NULL, &value))
        soonest = MIN (soonest, ((Entry *) value)->until);
      g_hash_table_iter_init (&it, t->entries);
      while (g_hash_table_iter_next (&it, NULL, &value))
        if (((Entry *) value)->until <= soonest)
          g_hash_table_iter_remove (&it);
    }
}

void
mn_login_throttle_failed (MnLoginThrottle *t, const gchar *key, gint64 now)
{
  Entry *e = g_hash_table_lookup (t->entries, key);
  if (e == NULL)
    {
      make_room (t, now);
      e = g_new0 (Entry, 1);
      g_hash_table_insert (t->entries, g_strdup (key), e);
    }
  e->failures++;
  if (e->failures >= t->free_failures)
    {
      guint shift = MIN (e->failures - t->free_failures, 20u);
      e->until = now + MIN (((gint64) 1 << shift) * G_USEC_PER_SEC, t->max_delay);
    }
}

void
mn_login_throttle_succeeded (MnLoginThrottle *t, const gchar *key)
{
  g_hash_table_remove (t->entries, key);
}

void
mn_login_throttle_forgive (MnLoginThrottle *t, const gchar *key)
{
  Entry *e = g_hash_table_lookup (t->entries, key);
  if (e == NULL)
    return;
  if (e->failures > 0)
    e->failures--;
  if (e->failures < t->free_failures)
    e->until = 0;
}

void
mn_login_throttle_settle (MnLoginThrottle *t, const gchar *key, gint64 now)
{
  Entry *e = g_hash_table_lookup (t->entries, key);
  if (e == NULL || e->failures < t->free_failures)
    return;
  e->until = MAX (e->until,
                  now + MIN (((gint64) 1 << MIN (e->failures - t->free_failures, 20u)) * G_USEC_PER_SEC,
                             t->max_delay));
}
