/* test-relay-origin.c: cross-site requests to apps, and an app that tries
 * to set the portal's cookie, against the real minna-relay (issue 15, items
 * 8 and 9).  Every request through the relay carries the app's secret, so
 * an app cannot tell a forged cross-site request from its own page's: the
 * relay refuses state-changing requests and WebSocket upgrades to /s/ from
 * another origin.  The app here is a test server playing a compromised (or
 * merely permissive) app. */
#define G_LOG_DOMAIN "relay-security"

#include "sec-relay-util.h"

#include <string.h>
#include <unistd.h>

static SecApp *app;
static gchar  *alice;

/* ---- Origin and Sec-Fetch-Site ---- */

typedef struct {
  const gchar *name;
  const gchar *method;
  const gchar *fields;      /* extra request fields, each ending in CRLF */
  guint        status;
} OriginCase;

static const OriginCase origin_cases[] = {
  { "get-no-origin", "GET", "", 200 },
  { "head-no-origin", "HEAD", "", 200 },
  { "options-no-origin", "OPTIONS", "", 200 },
  { "get-foreign-origin", "GET", "Origin: http://evil.example\r\n", 200 },
  { "post-same-origin", "POST", "Origin: http://h\r\n", 200 },
  { "post-same-origin-default-port", "POST", "Origin: http://h:80\r\n", 200 },
  { "post-same-origin-upper-case", "POST", "Origin: HTTP://H\r\n", 200 },
  { "post-same-origin-fetch-same-origin", "POST",
    "Origin: http://h\r\nSec-Fetch-Site: same-origin\r\n", 200 },
  { "post-no-origin", "POST", "", 403 },
  { "post-foreign-origin", "POST", "Origin: http://evil.example\r\n", 403 },
  { "post-null-origin", "POST", "Origin: null\r\n", 403 },
  { "post-other-scheme", "POST", "Origin: https://h\r\n", 403 },
  { "post-other-port", "POST", "Origin: http://h:8080\r\n", 403 },
  { "post-suffix-host", "POST", "Origin: http://h.evil.example\r\n", 403 },
  { "post-prefix-host", "POST", "Origin: http://evil-h\r\n", 403 },
  { "post-origin-with-path", "POST", "Origin: http://h/\r\n", 403 },
  { "post-origin-with-userinfo", "POST", "Origin: http://evil@h\r\n", 403 },
  { "post-origin-garbage", "POST", "Origin: h\r\n", 403 },
  { "post-fetch-cross-site", "POST", "Origin: http://h\r\nSec-Fetch-Site: cross-site\r\n", 403 },
  { "post-fetch-same-site", "POST", "Origin: http://h\r\nSec-Fetch-Site: same-site\r\n", 403 },
  { "put-form-style-foreign", "PUT", "Origin: http://evil.example\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n", 403 },
  { "delete-no-origin", "DELETE", "", 403 },
  { "patch-foreign", "PATCH", "Origin: http://evil.example\r\n", 403 },
  { "lower-case-method-foreign", "post", "Origin: http://evil.example\r\n", 403 },
  { "custom-method-no-origin", "PROPFIND", "", 403 },
  { "websocket-same-origin", "GET", "Origin: http://h\r\nConnection: Upgrade\r\n"
    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 101 },
  { "websocket-foreign-origin", "GET", "Origin: http://evil.example\r\nConnection: Upgrade\r\n"
    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 403 },
  { "websocket-no-origin", "GET", "Connection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 403 },
  { "websocket-cross-site-fetch", "GET", "Origin: http://h\r\nSec-Fetch-Site: cross-site\r\n"
    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 403 },
};

static void
test_origin (gconstpointer data)
{
  const OriginCase *oc = data;
  gboolean ws = strstr (oc->fields, "Upgrade: websocket") != NULL;
  g_autofree gchar *req = g_strdup_printf (
    "%s /s/alice1/%s HTTP/1.1\r\nHost: h\r\nCookie: %s\r\n%sContent-Length: %d\r\n\r\n%s",
    oc->method, ws ? "ws" : "api/contents/x", alice, oc->fields, ws ? 0 : 4, ws ? "" : "data");
  guint before = sec_app_requests (app);
  SecResponse r;
  guint status = sec_exchange (sec.http_port, req, strlen (req), &r);
  g_assert_cmpuint (status, ==, oc->status);
  sec_response_clear (&r);
  /* A refused request never reaches the app. */
  if (oc->status == 403)
    g_assert_cmpuint (sec_app_requests (app), ==, before);
}

/* Behind a TLS terminator the relay is told its public origin. */
static void
test_public_origin (void)
{
  /* a second relay with public_origin set */
  SecEnv saved = sec;
  const gchar *extra[] = { "--public-origin=https://portal.example.org", NULL };
  sec.relay_pid = 0;
  sec_relay_start (FALSE, extra, -1);
  sec_route_put ("alice1", sec_app_port (app), "alice", "tok-a");
  struct { const gchar *origin; guint status; } cases[] = {
    { "https://portal.example.org", 200 }, { "https://portal.example.org:443", 200 },
    { "http://h", 403 }, { "http://portal.example.org", 403 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *req = g_strdup_printf (
        "POST /s/alice1/x HTTP/1.1\r\nHost: h\r\nCookie: %s\r\nOrigin: %s\r\n"
        "Content-Length: 0\r\n\r\n", alice, cases[i].origin);
      SecResponse r;
      g_assert_cmpuint (sec_exchange (sec.http_port, req, strlen (req), &r), ==, cases[i].status);
      sec_response_clear (&r);
    }
  sec_relay_stop ();
  sec.relay_pid = saved.relay_pid;
  sec.http_port = saved.http_port;
  sec.admin_port = saved.admin_port;
}

/* ---- an app setting cookies ---- */

typedef struct {
  const gchar *name;
  const gchar *field;       /* the whole Set-Cookie line the app sends */
  gboolean     kept;
} CookieCase;

static const CookieCase cookie_cases[] = {
  { "portal-cookie", "Set-Cookie: " MN_AUTH_COOKIE_NAME "=forged; Path=/; HttpOnly", FALSE },
  { "portal-cookie-no-path", "Set-Cookie: " MN_AUTH_COOKIE_NAME "=forged", FALSE },
  { "portal-cookie-session-path", "Set-Cookie: " MN_AUTH_COOKIE_NAME "=forged; Path=/s/alice1/",
    FALSE },
  { "portal-cookie-upper-case", "Set-Cookie: MINNA_SESSION=forged; Path=/", FALSE },
  { "portal-cookie-spaces", "Set-Cookie:  " MN_AUTH_COOKIE_NAME " =forged", FALSE },
  { "path-root", "Set-Cookie: app=1; Path=/", FALSE },
  { "path-root-lower-case", "Set-Cookie: app=1; path=/", FALSE },
  { "path-s", "Set-Cookie: app=1; Path=/s/", FALSE },
  { "path-other-session", "Set-Cookie: app=1; Path=/s/bob1/", FALSE },
  { "path-prefix-trick", "Set-Cookie: app=1; Path=/s/alice10/", FALSE },
  { "path-portal-api", "Set-Cookie: app=1; Path=/api/v1", FALSE },
  { "second-path-wins", "Set-Cookie: app=1; Path=/s/alice1/; Path=/", FALSE },
  { "domain", "Set-Cookie: app=1; Domain=127.0.0.1; Path=/s/alice1/", FALSE },
  { "host-prefix", "Set-Cookie: __Host-app=1; Path=/; Secure", FALSE },
  { "set-cookie2", "Set-Cookie2: app=1; Version=1", FALSE },
  { "own-cookie", "Set-Cookie: app=1", TRUE },
  { "own-path", "Set-Cookie: _xsrf=2|abc; Path=/s/alice1/", TRUE },
  { "own-path-no-slash", "Set-Cookie: app=1; Path=/s/alice1", TRUE },
  { "own-subpath", "Set-Cookie: app=1; Path=/s/alice1/tree; HttpOnly; SameSite=Lax", TRUE },
  { "relative-path", "Set-Cookie: app=1; Path=x", TRUE },
};

static void
hostile_app (SecApp *a, int fd, const SecAppRequest *req, gpointer data)
{
  const gchar *q = strstr (req->path, "cookie=");
  if (strstr (req->path, "/ws") != NULL)
    {
      sec_try_send (fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
                        "\r\n\r\n", -1);
      return;
    }
  if (q == NULL)
    {
      sec_app_echo (a, fd, req, data);
      return;
    }
  guint k = (guint) g_ascii_strtoull (q + 7, NULL, 10);
  g_autofree gchar *resp = g_strdup_printf (
    "HTTP/1.1 200 OK\r\n%s\r\nSet-Cookie: kept-marker=1\r\nContent-Length: 2\r\n\r\nok",
    cookie_cases[k].field);
  sec_try_send (fd, resp, -1);
}

static void
test_cookie (gconstpointer data)
{
  const CookieCase *cc = data;
  guint k = (guint) (cc - cookie_cases);
  g_autofree gchar *req = g_strdup_printf ("GET /s/alice1/page?cookie=%u HTTP/1.1\r\nHost: h\r\n"
                                           "Cookie: %s\r\n\r\n", k, alice);
  SecResponse r;
  g_assert_cmpuint (sec_exchange (sec.http_port, req, strlen (req), &r), ==, 200);
  const gchar *colon = strchr (cc->field, ':');
  g_autofree gchar *line = g_strdup_printf ("\r\n%s", cc->field);
  line[colon - cc->field + 3] = '\0';                 /* "\r\nSet-Cookie: " */
  g_autofree gchar *value = g_strdup (colon + 1);
  g_strstrip (value);
  if (cc->kept)
    g_assert_nonnull (strstr (r.head, value));
  else
    {
      g_assert_null (strstr (r.head, value));
      g_assert_null (strstr (r.head, "forged"));
    }
  /* The app's other cookie in the same answer is not affected. */
  g_assert_nonnull (strstr (r.head, "Set-Cookie: kept-marker=1"));
  sec_response_clear (&r);
}

/* The portal's own Set-Cookie (not under /s/) passes: the relay only
 * guards what apps send. */
static void
test_portal_cookie_passes (void)
{
  static const gchar body[] = "{\"user\":\"carol\",\"password\":\"carol-password\"}";
  g_autofree gchar *req = g_strdup_printf (
    "POST /api/v1/login HTTP/1.1\r\nHost: h\r\nOrigin: http://h\r\n"
    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen (body), body);
  SecResponse r;
  g_assert_cmpuint (sec_exchange (sec.http_port, req, strlen (req), &r), ==, 200);
  g_assert_nonnull (strstr (r.head, "Set-Cookie: " MN_AUTH_COOKIE_NAME "="));
  sec_response_clear (&r);
}

int
main (int argc, char **argv)
{
  int status = sec_init (&argc, &argv, "origin");
  if (status >= 0)
    return status;
  static const gchar *const users[] = { "carol:carol-password", NULL };
  sec_controller_start (users);
  sec_relay_start (FALSE, NULL, -1);
  app = sec_app_start (hostile_app, NULL);
  sec_route_put ("alice1", sec_app_port (app), "alice", "tok-a");
  alice = sec_cookie ("alice");

  for (gsize i = 0; i < G_N_ELEMENTS (origin_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/security/relay/origin/%s", origin_cases[i].name);
      g_test_add_data_func (n, &origin_cases[i], test_origin);
    }
  g_test_add_func ("/security/relay/origin/public-origin", test_public_origin);
  for (gsize i = 0; i < G_N_ELEMENTS (cookie_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/security/relay/app-cookie/%s",
                                             cookie_cases[i].name);
      g_test_add_data_func (n, &cookie_cases[i], test_cookie);
    }
  g_test_add_func ("/security/relay/app-cookie/portal-login-passes", test_portal_cookie_passes);
  status = g_test_run ();
  sec_app_stop (app);
  sec_relay_stop ();
  sec_controller_stop ();
  _exit (status);
}
