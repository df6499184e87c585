/* Tests for the shared login cookie. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mn-auth-cookie.h"

static MnAuthKey *
test_key (void)
{
  static const guint8 k[] = "0123456789abcdef0123456789abcdef-test-key";
  return mn_auth_key_new_from_data (k, sizeof k - 1);
}

static void
test_round_trip (void)
{
  g_autoptr(MnAuthKey) key = test_key ();
  g_autoptr(GError) error = NULL;
  const gchar *users[] = { "alice", "b.o-b_1", "ユーザー", "a.b.c" };

  for (gsize i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree gchar *c = mn_auth_cookie_mint (key, users[i], 2000);
      g_autofree gchar *u = mn_auth_cookie_verify (key, c, 1000, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (u, ==, users[i]);
    }
}

static void
test_refused (void)
{
  g_autoptr(MnAuthKey) key = test_key ();
  static const guint8 other_k[] = "another-key-another-key-another-key!!";
  g_autoptr(MnAuthKey) other = mn_auth_key_new_from_data (other_k, sizeof other_k - 1);
  g_autofree gchar *good = mn_auth_cookie_mint (key, "alice", 2000);
  g_autofree gchar *forged = mn_auth_cookie_mint (other, "alice", 2000);
  g_autofree gchar *bob = mn_auth_cookie_mint (key, "bob", 2000);
  /* alice's payload with bob's MAC */
  g_autofree gchar *spliced = g_strconcat (good, NULL);
  strcpy (strrchr (spliced, '.'), strrchr (bob, '.'));
  /* expiry pushed forward without re-signing */
  g_autofree gchar *tampered = g_strdup (good);
  *strchr (strchr (tampered, '.') + 1, '2') = '9';

  const struct { const gchar *value; gint64 now; gint code; } cases[] = {
    { good, 2000, MN_AUTH_ERROR_EXPIRED },
    { good, 2001, MN_AUTH_ERROR_EXPIRED },
    { forged, 1000, MN_AUTH_ERROR_BAD_MAC },
    { spliced, 1000, MN_AUTH_ERROR_BAD_MAC },
    { tampered, 1000, MN_AUTH_ERROR_BAD_MAC },
    { "", 1000, MN_AUTH_ERROR_MALFORMED },
    { "alice", 1000, MN_AUTH_ERROR_MALFORMED },
    { "a.b", 1000, MN_AUTH_ERROR_MALFORMED },
    { "a.b.c.d", 1000, MN_AUTH_ERROR_MALFORMED },
    { "..", 1000, MN_AUTH_ERROR_MALFORMED },
    { "YQ.99.!!!!", 1000, MN_AUTH_ERROR_BAD_MAC },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *u = mn_auth_cookie_verify (key, cases[i].value, cases[i].now, &error);
      g_assert_null (u);
      g_assert_error (error, MN_AUTH_ERROR, cases[i].code);
    }
}

static void
test_key_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("mn-auth-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree gchar *path = g_build_filename (dir, "key", NULL);

  g_assert_true (mn_auth_key_create_file (path, &error));
  g_assert_no_error (error);
  g_autoptr(MnAuthKey) key = mn_auth_key_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (key);

  g_chmod (path, 0644);
  g_autoptr(MnAuthKey) open_key = mn_auth_key_load (path, &error);
  g_assert_null (open_key);
  g_assert_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (path, "short\n", -1, NULL));
  g_chmod (path, 0600);
  g_autoptr(MnAuthKey) short_key = mn_auth_key_load (path, &error);
  g_assert_null (short_key);
  g_assert_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE);
  g_clear_error (&error);

  g_unlink (path);
  g_autoptr(MnAuthKey) missing = mn_auth_key_load (path, &error);
  g_assert_null (missing);
  g_assert_error (error, MN_AUTH_ERROR, MN_AUTH_ERROR_KEY_FILE);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/auth-cookie/round-trip", test_round_trip);
  g_test_add_func ("/common/auth-cookie/refused", test_refused);
  g_test_add_func ("/common/auth-cookie/key-file", test_key_file);
  return g_test_run ();
}
