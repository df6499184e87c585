/* Tests for the shared login cookie (one canonical spelling), the Cookie
 * header parser and the relay's live set of logins. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mn-auth-cookie.h"
#include "mn-auth-logins.h"

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
  for (gint i = 0; i < 50; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *id = mn_auth_login_id_new ();
      g_autofree gchar *c = mn_auth_login_cookie (key, id);
      g_autofree gchar *back = mn_auth_login_cookie_check (key, c, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (back, ==, id);
      g_assert_true (mn_auth_login_id_valid (id));
      g_assert_cmpuint (strlen (c), ==, MN_AUTH_LOGIN_ID_LEN + 1 + MN_AUTH_LOGIN_MAC_LEN);
    }
}

/* Every other spelling of a good cookie is refused, before or at the MAC. */
static void
test_one_spelling (void)
{
  g_autoptr(MnAuthKey) key = test_key ();
  static const guint8 other_k[] = "another-key-another-key-another-key!!";
  g_autoptr(MnAuthKey) other = mn_auth_key_new_from_data (other_k, sizeof other_k - 1);
  g_autofree gchar *id = mn_auth_login_id_new ();
  g_autofree gchar *id2 = mn_auth_login_id_new ();
  g_autofree gchar *good = mn_auth_login_cookie (key, id);
  g_autofree gchar *forged = mn_auth_login_cookie (other, id);
  g_autofree gchar *bob = mn_auth_login_cookie (key, id2);
  g_autofree gchar *upper = g_ascii_strup (good, -1);
  g_autofree gchar *upper_mac = g_strdup (good);
  g_autofree gchar *quoted = g_strdup_printf ("\"%s\"", good);
  g_autofree gchar *spaced = g_strdup_printf (" %s", good);
  g_autofree gchar *trailing = g_strdup_printf ("%s ", good);
  g_autofree gchar *nul_tail = g_strdup_printf ("%s=", good);
  g_autofree gchar *extra = g_strdup_printf ("%s.00", good);
  g_autofree gchar *colon = g_strdup (good);
  g_autofree gchar *short_mac = g_strndup (good, strlen (good) - 2);
  g_autofree gchar *pct = NULL;
  g_autofree gchar *spliced = g_strdup (good);
  g_autofree gchar *b64 = NULL;
  gchar *p;

  for (p = upper_mac + MN_AUTH_LOGIN_ID_LEN + 1; *p != '\0'; p++)
    *p = g_ascii_toupper (*p);
  colon[MN_AUTH_LOGIN_ID_LEN] = ':';
  pct = g_strdup_printf ("%.*s%%2E%s", MN_AUTH_LOGIN_ID_LEN, good, good + MN_AUTH_LOGIN_ID_LEN + 1);
  /* alice's id with bob's MAC */
  memcpy (spliced + MN_AUTH_LOGIN_ID_LEN + 1, bob + MN_AUTH_LOGIN_ID_LEN + 1, MN_AUTH_LOGIN_MAC_LEN);
  {
    guint8 raw[48];
    memset (raw, 'a', sizeof raw);
    b64 = g_base64_encode (raw, sizeof raw);
  }

  const struct { const gchar *name, *value; gint code; } cases[] = {
    { "forged", forged, MN_AUTH_ERROR_BAD_MAC },
    { "spliced", spliced, MN_AUTH_ERROR_BAD_MAC },
    { "upper-case", upper, MN_AUTH_ERROR_MALFORMED },
    { "upper-case-mac", upper_mac, MN_AUTH_ERROR_MALFORMED },
    { "quoted", quoted, MN_AUTH_ERROR_MALFORMED },
    { "leading-space", spaced, MN_AUTH_ERROR_MALFORMED },
    { "trailing-space", trailing, MN_AUTH_ERROR_MALFORMED },
    { "padding", nul_tail, MN_AUTH_ERROR_MALFORMED },
    { "extra-part", extra, MN_AUTH_ERROR_MALFORMED },
    { "colon", colon, MN_AUTH_ERROR_MALFORMED },
    { "percent-dot", pct, MN_AUTH_ERROR_MALFORMED },
    { "short-mac", short_mac, MN_AUTH_ERROR_MALFORMED },
    { "base64", b64, MN_AUTH_ERROR_MALFORMED },
    { "empty", "", MN_AUTH_ERROR_MALFORMED },
    { "old-format", "YWxpY2U.1796650324.IFnoLxbs_vIyl_cqX4_IpCbU5QpvQSq4naDOCioHL5Q", MN_AUTH_ERROR_MALFORMED },
    { "dots", "..", MN_AUTH_ERROR_MALFORMED },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *u = mn_auth_login_cookie_check (key, cases[i].value, &error);
      if (u != NULL)
        g_error ("%s: accepted", cases[i].name);
      g_assert_error (error, MN_AUTH_ERROR, cases[i].code);
    }
  g_assert_null (mn_auth_login_cookie_check (key, NULL, NULL));
}

static void
test_header (void)
{
  const struct { const gchar *header, *want; } cases[] = {
    { "minna_session=abc", "abc" },
    { "a=1; minna_session=abc; b=2", "abc" },
    { "a=1;minna_session=abc", "abc" },
    { "  minna_session=abc  ", "abc" },
    { "minna_session=\"abc\"", "\"abc\"" },       /* no unquoting: refused later */
    { "minna_session=abc; minna_session=abc", NULL },   /* ambiguous */
    { "minna_session=abc; minna_session=def", NULL },
    { "xminna_session=abc", NULL },
    { "minna_sessionx=abc", NULL },
    { "Minna_Session=abc", NULL },
    { "minna_session =abc", NULL },
    { "minna_session", NULL },
    { "", NULL },
    { "a=1, minna_session=abc", NULL },            /* two headers joined by a comma */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *v = mn_auth_cookie_from_header (cases[i].header);
      if (g_strcmp0 (v, cases[i].want) != 0)
        g_error ("'%s': got '%s', want '%s'", cases[i].header, v ? v : "(null)",
                 cases[i].want ? cases[i].want : "(null)");
    }
  g_assert_null (mn_auth_cookie_from_header (NULL));
}

static void
test_logins (void)
{
  g_autoptr(MnAuthLogins) set = mn_auth_logins_new ();
  g_autofree gchar *a = mn_auth_login_id_new ();
  g_autofree gchar *b = mn_auth_login_id_new ();
  g_autofree gchar *c = mn_auth_login_id_new ();
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  mn_auth_logins_put (set, a, "alice", now + 100);
  mn_auth_logins_put (set, b, "bob", now - 1);
  g_assert_cmpstr (mn_auth_logins_user (set, a, now), ==, "alice");
  g_assert_null (mn_auth_logins_user (set, b, now));        /* expired */
  g_assert_null (mn_auth_logins_user (set, c, now));        /* unknown */
  g_assert_true (mn_auth_logins_remove (set, a));
  g_assert_null (mn_auth_logins_user (set, a, now));
  /* a late push or a whole set taken before the logout cannot bring it back */
  mn_auth_logins_put (set, a, "alice", now + 100);
  g_assert_null (mn_auth_logins_user (set, a, now));
  {
    g_autofree gchar *text = g_strdup_printf (
      "[{\"id\":\"%s\",\"user\":\"alice\",\"expires\":%" G_GINT64_FORMAT "},"
      "{\"id\":\"%s\",\"user\":\"carol\",\"expires\":%" G_GINT64_FORMAT "}]",
      a, now + 100, c, now + 100);
    g_autoptr(JsonNode) n = json_from_string (text, NULL);
    g_assert_cmpint (mn_auth_logins_replace_json (set, json_node_get_array (n), &error), ==, 1);
    g_assert_no_error (error);
    g_assert_null (mn_auth_logins_user (set, a, now));
    g_assert_cmpstr (mn_auth_logins_user (set, c, now), ==, "carol");
  }
  /* a bad entry changes nothing and is named */
  {
    const gchar *bad[][2] = {
      { "[{\"id\":\"nothex\",\"user\":\"x\",\"expires\":5}]", "logins[0]: field id" },
      { "[{\"id\":\"%s\",\"expires\":5}]", "logins[0]: field user" },
      { "[{\"id\":\"%s\",\"user\":\"x\",\"expires\":\"5\"}]", "logins[0]: field expires" },
      { "[1]", "logins[0]: not an object" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) e = NULL;
        g_autoptr(GString) t = g_string_new (bad[i][0]);
        g_autofree gchar *text = NULL;
        g_string_replace (t, "%s", b, 0);
        text = g_strdup (t->str);
        g_autoptr(JsonNode) n = json_from_string (text, NULL);
        g_assert_cmpint (mn_auth_logins_replace_json (set, json_node_get_array (n), &e), ==, -1);
        g_assert_nonnull (e);
        if (strstr (e->message, bad[i][1]) == NULL)
          g_error ("%s: %s", text, e->message);
        g_assert_cmpstr (mn_auth_logins_user (set, c, now), ==, "carol");
      }
  }
  g_assert_cmpuint (mn_auth_logins_count (set), ==, 1);
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
  g_assert_nonnull (strstr (error->message, "0644"));
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
  g_test_add_func ("/common/auth-cookie/one-spelling", test_one_spelling);
  g_test_add_func ("/common/auth-cookie/header", test_header);
  g_test_add_func ("/common/auth-cookie/logins", test_logins);
  g_test_add_func ("/common/auth-cookie/key-file", test_key_file);
  return g_test_run ();
}
