/* test-relay-secrets.c: what another local user could read, and what a
 * client could write into the relay's logs (issue 15, items 2 and 9):
 * files and sockets the real minna-relay creates are 0600/0700 even when it
 * is started with umask 0; tokens in query strings never reach a log; raw
 * control bytes a client chooses are escaped in the access log. */
#define G_LOG_DOMAIN "relay-security"

#include "sec-relay-util.h"
#include "controller-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static SecApp *app;

static guint
mode_of (const gchar *path)
{
  GStatBuf st;
  g_assert_cmpint (g_lstat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

/* Started with umask 0, with a state directory, certificate, key, access
 * log and admin socket that do not exist yet. */
static void
test_modes_umask_zero (void)
{
  g_autofree gchar *sock = g_build_filename (sec.dir, "run", "admin.sock", NULL);
  g_autofree gchar *run = g_path_get_dirname (sock);
  g_assert_cmpint (g_mkdir (run, 0755), ==, 0);
  g_autofree gchar *admin = g_strdup_printf ("--admin-listen=unix:%s", sock);
  const gchar *extra[] = { admin, NULL };
  sec_relay_start (TRUE, extra, 0);

  g_autofree gchar *cert = g_build_filename (sec.state_dir, "relay-cert.pem", NULL);
  g_autofree gchar *key = g_build_filename (sec.state_dir, "relay-key.pem", NULL);
  g_test_message ("state dir %04o, cert %04o, key %04o, socket %04o, access log %04o",
                  mode_of (sec.state_dir), mode_of (cert), mode_of (key), mode_of (sock),
                  mode_of (sec.access_log));
  g_assert_cmpuint (mode_of (sec.state_dir), ==, 0700);
  g_assert_cmpuint (mode_of (cert), ==, 0600);
  g_assert_cmpuint (mode_of (key), ==, 0600);
  g_assert_cmpuint (mode_of (sock) & 077, ==, 0);
  g_assert_cmpuint (mode_of (sec.access_log), ==, 0600);
  sec_relay_stop ();
}

/* Files left too open by someone else are closed down at start, saying so. */
static void
test_modes_fixed (void)
{
  g_assert_cmpint (g_chmod (sec.access_log, 0644), ==, 0);
  g_assert_cmpint (g_chmod (sec.state_dir, 0755), ==, 0);
  g_autofree gchar *cert = g_build_filename (sec.state_dir, "relay-cert.pem", NULL);
  g_autofree gchar *key = g_build_filename (sec.state_dir, "relay-key.pem", NULL);
  g_assert_cmpint (g_unlink (cert), ==, 0);
  g_assert_cmpint (g_unlink (key), ==, 0);
  sec_relay_start (TRUE, NULL, 022);
  g_assert_cmpuint (mode_of (sec.access_log), ==, 0600);
  g_assert_cmpuint (mode_of (sec.state_dir), ==, 0700);
  g_autofree gchar *log = NULL;
  g_assert_true (g_file_get_contents (sec.relay_log, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "had mode 0644"));
  g_assert_nonnull (strstr (log, "had mode 0755"));
  sec_relay_stop ();
}

/* ---- tokens in URLs ---- */

typedef struct {
  const gchar *query;
  const gchar *secret;      /* must not be in any log */
  const gchar *shown;       /* must be in the access log */
} TokenCase;

static const TokenCase token_cases[] = {
  { "token=SECRETtok1", "SECRETtok1", "token=REDACTED" },
  { "x=1&token=SECRETtok2&y=2", "SECRETtok2", "x=1&token=REDACTED&y=2" },
  { "TOKEN=SECRETtok3", "SECRETtok3", "TOKEN=REDACTED" },
  { "access_token=SECRETtok4", "SECRETtok4", "access_token=REDACTED" },
  { "%74oken=SECRETtok5", "SECRETtok5", "%74oken=REDACTED" },
  { "_xsrf=SECRETtok6", "SECRETtok6", "_xsrf=REDACTED" },
  { "password=SECRETtok7", "SECRETtok7", "password=REDACTED" },
  { "api_key=SECRETtok8", "SECRETtok8", "api_key=REDACTED" },
  { "a=1;session=SECRETtok9", "SECRETtok9", "a=1;session=REDACTED" },
  { "code=SECRETtok10", "SECRETtok10", "code=REDACTED" },
  { "%00=SECRETtok11", "SECRETtok11", "%00=REDACTED" },
  { "next=%2Fs%2Fx%2F&page=2", NULL, "next=%2Fs%2Fx%2F&page=2" },
};

static gboolean
log_has (gpointer data)
{
  g_autofree gchar *log = sec_access_log ();
  return strstr (log, data) != NULL;
}

/* The log tests share one relay, with a route to the app and one to a
 * port nothing listens on. */
static void
log_relay (void)
{
  if (sec.relay_pid != 0)
    return;
  sec_relay_start (FALSE, NULL, -1);
  sec_route_put ("alice1", sec_app_port (app), "alice", "app-token-SECRET");
  sec_route_put ("down1", (guint16) mn_test_free_port (), "alice", "app-token-SECRET");
}

static void
test_tokens_not_logged (void)
{
  log_relay ();
  g_autofree gchar *alice = sec_cookie ("alice");
  for (gsize i = 0; i < G_N_ELEMENTS (token_cases); i++)
    {
      const TokenCase *tc = &token_cases[i];
      /* one through an app, one whose upstream is down (logged as a failure) */
      const gchar *routes[] = { "alice1", "down1" };
      for (gsize k = 0; k < G_N_ELEMENTS (routes); k++)
        {
          g_autofree gchar *req = g_strdup_printf ("GET /s/%s/tree?%s HTTP/1.1\r\nHost: h\r\n"
                                                   "Cookie: %s\r\n\r\n", routes[k], tc->query,
                                                   alice);
          SecResponse r;
          g_assert_cmpuint (sec_exchange (sec.http_port, req, strlen (req), &r), ==,
                            k == 0 ? 200 : 502);
          sec_response_clear (&r);
        }
      g_autofree gchar *want = g_strdup_printf ("/s/down1/tree?%s", tc->shown);
      g_assert_true (sec_wait_for (log_has, want, 3000));
    }
  g_autofree gchar *access = sec_access_log ();
  g_autofree gchar *relay = NULL;
  g_assert_true (g_file_get_contents (sec.relay_log, &relay, NULL, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (token_cases); i++)
    if (token_cases[i].secret != NULL)
      {
        g_assert_null (strstr (access, token_cases[i].secret));
        g_assert_null (strstr (relay, token_cases[i].secret));
      }
  /* The app's token and the admin secret are in no log either. */
  g_assert_null (strstr (access, "app-token-SECRET"));
  g_assert_null (strstr (relay, "app-token-SECRET"));
  g_assert_null (strstr (access, sec.secret));
  g_assert_null (strstr (relay, sec.secret));
}

/* ---- control bytes a client chooses ---- */

static void
test_control_bytes_escaped (void)
{
  log_relay ();
  /* A user name (from a cookie the portal minted) and an app's cookie are
   * the client-chosen text that reaches the log unparsed. */
  const gchar *users[] = { "mallory\x1b[2J\x1b]0;pwned\x07",
                           "eve\nFAKE 10.0.0.1 \"GET /admin\" 200 0 0 0.1 user=root session=-",
                           "quote\"back\\slash\rspace user", };
  g_autofree gchar *before = sec_access_log ();
  for (gsize i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree gchar *c = sec_cookie (users[i]);
      g_autofree gchar *req = g_strdup_printf ("GET /s/alice1/x HTTP/1.1\r\nHost: h\r\n"
                                               "Cookie: %s\r\n\r\n", c);
      SecResponse r;
      g_assert_cmpuint (sec_exchange (sec.http_port, req, strlen (req), &r), ==, 403);
      sec_response_clear (&r);
    }
  /* and raw control bytes in a request line, refused by the parser */
  SecResponse r;
  static const gchar raw[] = "GET /s/alice1/\x1b[31mred HTTP/1.1\r\nHost: h\r\n\r\n";
  g_assert_cmpuint (sec_exchange (sec.http_port, raw, strlen (raw), &r), ==, 400);
  sec_response_clear (&r);
  g_assert_true (sec_wait_for (log_has, "user=quote", 3000));
  g_autofree gchar *after = sec_access_log ();
  const gchar *mine = after + strlen (before);
  guint lines = 0;
  for (const gchar *p = mine; *p != '\0'; p++)
    {
      lines += *p == '\n';
      g_assert_true (*p == '\n' || ((guchar) *p >= 0x20 && (guchar) *p < 0x7f));
    }
  g_test_message ("%s", mine);
  g_assert_cmpuint (lines, ==, 4);
  g_assert_nonnull (strstr (mine, "user=mallory\\x1B[2J\\x1B]0;pwned\\x07"));
  g_assert_nonnull (strstr (mine, "user=eve\\x0AFAKE\\x2010.0.0.1"));
  g_assert_nonnull (strstr (mine, "user=quote\\x22back\\x5Cslash\\x0Dspace\\x20user"));
}

int
main (int argc, char **argv)
{
  int status = sec_init (&argc, &argv, "secrets");
  if (status >= 0)
    return status;
  app = sec_app_start (sec_app_echo, NULL);
  g_test_add_func ("/security/relay/files/modes-under-umask-0", test_modes_umask_zero);
  g_test_add_func ("/security/relay/files/looser-modes-fixed", test_modes_fixed);
  g_test_add_func ("/security/relay/logs/tokens-not-logged", test_tokens_not_logged);
  g_test_add_func ("/security/relay/logs/control-bytes-escaped", test_control_bytes_escaped);
  status = g_test_run ();
  sec_app_stop (app);
  sec_relay_stop ();
  _exit (status);
}
