/* test-relay-smuggling.c: request smuggling and pool poisoning against the
 * real minna-relay, with the real minna-controller as the portal upstream
 * and an app server run by the test (which plays a compromised app where
 * the case needs one).
 *
 * The attack of issue 15: a chunked request whose trailer section carries a
 * second request.  libsoup (the controller's server) reads one trailer line
 * and takes the rest for a new request on the relay's pooled connection;
 * its answer then goes to whoever sends the next request on that
 * connection, and the victim's answer (with her login cookie) to the one
 * after.  Before the fix the victim got the smuggled request's 401 and the
 * attacker her Set-Cookie in most rounds. */
#define G_LOG_DOMAIN "relay-security"

#include "sec-relay-util.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SecApp *app;
static gchar  *alice, *bob;

/* ---- the attack from the issue, against the real controller ---- */

static gboolean
has_session_cookie (const SecResponse *r)
{
  return r->head != NULL && strstr (r->head, MN_AUTH_COOKIE_NAME "=") != NULL;
}

static void
test_trailer_steals_login (void)
{
  static const gchar attack[] =
    "POST /api/v1/nothing HTTP/1.1\r\nHost: portal\r\nTransfer-Encoding: chunked\r\n\r\n"
    "0\r\nX: y\r\nGET /api/v1/me HTTP/1.1\r\nHost: portal\r\n\r\n";
  static const gchar login_body[] = "{\"user\":\"carol\",\"password\":\"carol-password\"}";
  g_autofree gchar *login = g_strdup_printf (
    "POST /api/v1/login HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\n"
    "Content-Length: %zu\r\n\r\n%s", strlen (login_body), login_body);
  guint rounds = 8, refused = 0, victim_ok = 0, stolen = 0;

  for (guint round = 0; round < rounds; round++)
    {
      SecResponse r;
      int a = sec_connect (sec.http_port);
      sec_send (a, attack, -1);
      if (sec_read_response (a, &r, FALSE, 5000) && r.status == 400)
        refused += sec_wait_closed (a, 2000) ? 1 : 0;
      sec_response_clear (&r);

      int v = sec_connect (sec.http_port);
      sec_send (v, login, -1);
      if (sec_read_response (v, &r, FALSE, 5000) && r.status == 200 && has_session_cookie (&r))
        victim_ok++;
      sec_response_clear (&r);
      close (v);

      /* The attacker then asks for anything, on the old connection and on
       * new ones, hoping for the victim's answer. */
      for (guint k = 0; k < 4; k++)
        {
          int b = k == 0 ? a : sec_connect (sec.http_port);
          if (sec_try_send (b, "GET /api/v1/nothing HTTP/1.1\r\nHost: portal\r\n\r\n", -1) &&
              sec_read_response (b, &r, FALSE, 2000) && has_session_cookie (&r))
            stolen++;
          sec_response_clear (&r);
          if (b != a)
            close (b);
        }
      close (a);
    }
  g_test_message ("%u rounds: %u attacks refused, %u logins answered to the victim, "
                  "%u login cookies seen by the attacker", rounds, refused, victim_ok, stolen);
  g_assert_cmpuint (stolen, ==, 0);
  g_assert_cmpuint (victim_ok, ==, rounds);
  g_assert_cmpuint (refused, ==, rounds);
}

/* ---- requests that two parsers could read two ways ---- */

typedef struct {
  const gchar *name;
  const gchar *request;     /* "{C}" is the owner's Cookie line */
  guint        status;
} BadCase;

#define SA "/s/alice1/a"
static const BadCase bad_cases[] = {
  { "cl-te", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: 4\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
  { "te-cl", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
             "Content-Length: 4\r\n\r\n0\r\n\r\n", 400 },
  { "cl-duplicate-same", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: 2\r\n"
                         "Content-Length: 2\r\n\r\nhi", 400 },
  { "cl-duplicate-different", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: 2\r\n"
                              "Content-Length: 40\r\n\r\nhi", 400 },
  { "cl-list", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: 2, 2\r\n\r\nhi", 400 },
  { "cl-plus", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: +2\r\n\r\nhi", 400 },
  { "cl-negative", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: -1\r\n\r\nhi", 400 },
  { "cl-hex", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: 0x2\r\n\r\nhi", 400 },
  { "cl-inner-space", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: 1 1\r\n\r\nhi", 400 },
  { "cl-empty", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length:\r\n\r\nhi", 400 },
  { "cl-overflow", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length: "
                   "18446744073709551617\r\n\r\nhi", 400 },
  { "cl-space-before-colon", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Content-Length : 2\r\n\r\nhi",
    400 },
  { "te-space-before-colon", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding : chunked"
                             "\r\n\r\n0\r\n\r\n", 400 },
  { "te-tab-before-colon", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding\t: chunked"
                           "\r\n\r\n0\r\n\r\n", 400 },
  { "te-duplicate", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
  { "te-gzip", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: gzip\r\n\r\n", 501 },
  { "te-gzip-chunked", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: gzip, chunked"
                       "\r\n\r\n0\r\n\r\n", 501 },
  { "te-chunked-twice", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked, "
                        "chunked\r\n\r\n0\r\n\r\n", 501 },
  { "te-identity", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: identity\r\n\r\n",
    501 },
  { "te-xchunked", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: xchunked\r\n\r\n",
    501 },
  { "te-trailing-comma", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked,\r\n"
                         "\r\n0\r\n\r\n", 501 },
  { "te-in-http10", "POST " SA " HTTP/1.0\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n\r\n"
                    "0\r\n\r\n", 400 },
  { "te-obs-fold", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}X-A: b\r\n Transfer-Encoding: chunked"
                   "\r\n\r\n0\r\n\r\n", 400 },
  { "obs-fold-tab", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X-A: b\r\n\tc\r\n\r\n", 400 },
  { "bare-lf-line", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X-A: b\nX-B: c\r\n\r\n", 400 },
  { "bare-lf-request-line", "GET " SA " HTTP/1.1\nHost: h\r\n{C}\r\n", 400 },
  { "bare-cr", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X-A: b\rX-B: c\r\n\r\n", 400 },
  { "nul-in-value", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X-A: b\x01" "c\r\n\r\n", 400 },
  { "ctl-in-value", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X-A: b\x02" "c\r\n\r\n", 400 },
  { "del-in-value", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X-A: b\x7f" "c\r\n\r\n", 400 },
  { "space-in-name", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X A: b\r\n\r\n", 400 },
  { "empty-name", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}: b\r\n\r\n", 400 },
  { "no-colon", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding chunked\r\n\r\n", 400 },
  { "bad-name-byte", "GET " SA " HTTP/1.1\r\nHost: h\r\n{C}X(A): b\r\n\r\n", 400 },
  { "request-line-two-spaces", "GET  " SA " HTTP/1.1\r\nHost: h\r\n{C}\r\n", 400 },
  { "request-line-tab", "GET\t" SA " HTTP/1.1\r\nHost: h\r\n{C}\r\n", 400 },
  { "version-lowercase", "GET " SA " http/1.1\r\nHost: h\r\n{C}\r\n", 400 },
  { "version-short", "GET " SA " HTTP/1\r\nHost: h\r\n{C}\r\n", 400 },
  { "version-2", "GET " SA " HTTP/2.0\r\nHost: h\r\n{C}\r\n", 505 },
  { "version-missing", "GET " SA "\r\nHost: h\r\n{C}\r\n", 400 },
  { "target-high-byte", "GET " SA "\xc3\xa9 HTTP/1.1\r\nHost: h\r\n{C}\r\n", 400 },
  { "absolute-form", "GET http://h" SA " HTTP/1.1\r\nHost: h\r\n{C}\r\n", 400 },
  { "connect", "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: h\r\n{C}\r\n", 400 },
  { "no-host", "GET " SA " HTTP/1.1\r\n{C}\r\n", 400 },
  { "host-duplicate", "GET " SA " HTTP/1.1\r\nHost: h\r\nHost: evil\r\n{C}\r\n", 400 },
  { "host-slash", "GET " SA " HTTP/1.1\r\nHost: h/x\r\n{C}\r\n", 400 },
  { "host-at", "GET " SA " HTTP/1.1\r\nHost: a@h\r\n{C}\r\n", 400 },
  { "host-empty", "GET " SA " HTTP/1.1\r\nHost:\r\n{C}\r\n", 400 },
  { "origin-duplicate", "GET " SA " HTTP/1.1\r\nHost: h\r\nOrigin: http://h\r\n"
                        "Origin: http://evil\r\n{C}\r\n", 400 },
  { "chunk-size-0x", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n\r\n"
                     "0x2\r\nhi\r\n0\r\n\r\n", 400 },
  { "chunk-size-negative", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
                           "\r\n-2\r\nhi\r\n0\r\n\r\n", 400 },
  { "chunk-size-overflow", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
                           "\r\n10000000000000002\r\nhi\r\n0\r\n\r\n", 400 },
  { "chunk-size-space", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
                        "\r\n2 \r\nhi\r\n0\r\n\r\n", 400 },
  { "chunk-size-bare-lf", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
                          "\r\n2\nhi\r\n0\r\n\r\n", 400 },
  { "chunk-extension-bare-lf", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: "
                               "chunked\r\n\r\n2;a\nb\r\nhi\r\n0\r\n\r\n", 400 },
  { "chunk-extension-bare-cr", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: "
                               "chunked\r\n\r\n2;a\rb\r\nhi\r\n0\r\n\r\n", 400 },
  { "chunk-data-too-long", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked"
                           "\r\n\r\n2\r\nhiX\r\n0\r\n\r\n", 400 },
  { "chunk-data-bare-lf", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked"
                          "\r\n\r\n2\r\nhi\n0\r\n\r\n", 400 },
  { "trailer-request-line", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked"
                            "\r\n\r\n0\r\nX: y\r\nGET /s/alice1/smuggled HTTP/1.1\r\nHost: h\r\n"
                            "\r\n", 400 },
  { "trailer-obs-fold", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
                        "\r\n0\r\nX: y\r\n z\r\n\r\n", 400 },
  { "trailer-space-before-colon", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: "
                                  "chunked\r\n\r\n0\r\nX : y\r\n\r\n", 400 },
  { "trailer-bare-lf", "POST " SA " HTTP/1.1\r\nHost: h\r\n{C}Transfer-Encoding: chunked\r\n"
                       "\r\n0\r\nX: y\n\r\n", 400 },
};

static gchar *
fill (const gchar *tmpl)
{
  g_autofree gchar *c = g_strdup_printf ("Cookie: %s\r\nOrigin: http://h\r\n", alice);
  g_auto(GStrv) parts = g_strsplit (tmpl, "{C}", -1);
  return g_strjoinv (c, parts);
}

static void
test_bad_request (gconstpointer data)
{
  const BadCase *bc = data;
  g_autofree gchar *req = fill (bc->request);
  /* A valid request right behind it must never be read: after a refusal
   * nothing on the connection can be trusted to start a request. */
  g_autofree gchar *both = g_strdup_printf (
    "%sGET /s/alice1/smuggled HTTP/1.1\r\nHost: h\r\nCookie: %s\r\n\r\n", req, alice);
  guint before = sec_app_requests (app);
  SecResponse r;
  gsize len = strlen (both);
  if (strstr (bc->name, "nul") != NULL)
    both[strstr (both, "\x01") - both] = '\0';     /* a real NUL byte */
  guint status = sec_exchange (sec.http_port, both, len, &r);
  g_assert_cmpuint (status, ==, bc->status);
  g_assert_true (r.closed);
  sec_response_clear (&r);
  g_assert_cmpuint (sec_app_requests (app), ==, before);
  g_autoptr(GString) got = sec_app_received (app);
  g_assert_null (strstr (got->str, "smuggled"));
}

/* ---- what valid framing turns into upstream ---- */

static void
test_trailers_dropped (void)
{
  g_autofree gchar *req = g_strdup_printf (
    "POST /s/alice1/t HTTP/1.1\r\nHost: h\r\nCookie: %s\r\nTransfer-Encoding: chunked\r\n"
    "Origin: http://h\r\n\r\n"
    "5;name=\"v;x\"\r\nhello\r\n6 ; a = b\r\n world\r\n0\r\nX-Trailer: 1\r\nHost: evil\r\n\r\n",
    alice);
  GString *before = sec_app_received (app);
  SecResponse r;
  g_assert_cmpuint (sec_exchange (sec.http_port, req, strlen (req), &r), ==, 200);
  sec_response_clear (&r);
  g_autoptr(GString) after = sec_app_received (app);
  const gchar *mine = after->str + before->len;
  g_string_free (before, TRUE);
  /* Extensions and trailers do not reach the app; the data does. */
  g_assert_nonnull (strstr (mine, "\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  g_assert_null (strstr (mine, "X-Trailer"));
  g_assert_null (strstr (mine, "evil"));
  g_assert_null (strstr (mine, "name="));
}

static void
test_pipelined_valid (void)
{
  g_autofree gchar *req = g_strdup_printf (
    "\r\nPOST /s/alice1/one HTTP/1.1\r\nHost: h\r\nCookie: %s\r\nOrigin: http://h\r\n"
    "Content-Length: 3\r\n\r\nabc"
    "GET /s/alice1/two HTTP/1.1\r\nHost: h\r\nCookie: %s\r\n\r\n", alice, alice);
  int fd = sec_connect (sec.http_port);
  sec_send (fd, req, -1);
  SecResponse r;
  g_assert_true (sec_read_response (fd, &r, FALSE, 5000));
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.body->str, ==, "ok /s/alice1/one");
  sec_response_clear (&r);
  g_assert_true (sec_read_response (fd, &r, FALSE, 5000));
  g_assert_cmpstr (r.body->str, ==, "ok /s/alice1/two");
  sec_response_clear (&r);
  close (fd);
}

/* ---- a compromised app poisoning the relay's connection pool ----
 * alice's app and bob's share an upstream address, so they share pooled
 * connections: whatever alice's app says beyond its answer must never be
 * read as the answer to bob's request. */

static const gchar poison[] =
  "HTTP/1.1 200 OK\r\nSet-Cookie: " MN_AUTH_COOKIE_NAME "=forged; Path=/\r\n"
  "Content-Length: 6\r\n\r\nPOISON";

static void
hostile_app (SecApp *a, int fd, const SecAppRequest *req, gpointer data)
{
  const gchar *p = req->path;
  g_autofree gchar *answer = NULL;
  if (strstr (p, "/extra") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok%s", poison);
  else if (strstr (p, "/late") != NULL)
    {
      sec_try_send (fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", -1);
      g_usleep (100000);
      answer = g_strdup (poison);
    }
  else if (strstr (p, "/body-on-204") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 204 No Content\r\n\r\n%s", poison);
  else if (strstr (p, "/body-on-304") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 304 Not Modified\r\n\r\n%s", poison);
  else if (strstr (p, "/body-on-head") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                              strlen (poison), poison);
  else if (strstr (p, "/cl-te") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: "
                              "chunked\r\n\r\n0\r\n\r\n%s", poison);
  else if (strstr (p, "/cl-twice") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 0\r\n"
                              "\r\nok%s", poison);
  else if (strstr (p, "/space-colon") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\nok%s", poison);
  else if (strstr (p, "/obs-fold") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nX-A: b\r\n Content-Length: 0\r\n"
                              "Content-Length: 2\r\n\r\nok%s", poison);
  else if (strstr (p, "/trailer-response") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "2\r\nok\r\n0\r\nX: y\r\n%s\r\n\r\n", poison);
  else if (strstr (p, "/chunked-extra") != NULL)
    answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "2\r\nok\r\n0\r\n\r\n%s", poison);
  else
    {
      sec_app_echo (a, fd, req, data);
      return;
    }
  sec_try_send (fd, answer, -1);
}

static void
test_pool_poisoning (gconstpointer data)
{
  const gchar *what = data;
  gboolean head = g_str_equal (what, "body-on-head");
  for (guint round = 0; round < 3; round++)
    {
      g_autofree gchar *req = g_strdup_printf ("%s /s/alice1/%s HTTP/1.1\r\nHost: h\r\n"
                                               "Cookie: %s\r\n\r\n", head ? "HEAD" : "GET",
                                               what, alice);
      int fd = sec_connect (sec.http_port);
      sec_send (fd, req, -1);
      SecResponse r;
      /* alice gets her app's answer, or 502 for one it could mean two ways */
      if (sec_read_response (fd, &r, head, 3000))
        g_assert_true (r.status == 200 || r.status == 204 || r.status == 304 ||
                       r.status == 502);
      sec_response_clear (&r);
      close (fd);
      if (g_str_equal (what, "late"))
        g_usleep (300000);
      for (guint k = 0; k < 3; k++)
        {
          g_autofree gchar *breq = g_strdup_printf ("GET /s/bob1/mine%u HTTP/1.1\r\nHost: h\r\n"
                                                    "Cookie: %s\r\n\r\n", k, bob);
          SecResponse b;
          g_assert_cmpuint (sec_exchange (sec.http_port, breq, strlen (breq), &b), ==, 200);
          g_autofree gchar *want = g_strdup_printf ("ok /s/bob1/mine%u", k);
          g_assert_cmpstr (b.body->str, ==, want);
          g_assert_null (strstr (b.head, "forged"));
          sec_response_clear (&b);
        }
    }
}

int
main (int argc, char **argv)
{
  int status = sec_init (&argc, &argv, "smuggling");
  if (status >= 0)
    return status;

  static const gchar *const users[] = { "carol:carol-password", NULL };
  sec_controller_start (users);
  sec_relay_start (FALSE, NULL, -1);
  app = sec_app_start (hostile_app, NULL);
  sec_route_put ("alice1", sec_app_port (app), "alice", "tok-a");
  sec_route_put ("bob1", sec_app_port (app), "bob", "tok-b");
  alice = sec_cookie ("alice");
  bob = sec_cookie ("bob");

  g_test_add_func ("/security/relay/smuggling/trailer-steals-login", test_trailer_steals_login);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/security/relay/smuggling/refused/%s",
                                             bad_cases[i].name);
      g_test_add_data_func (n, &bad_cases[i], test_bad_request);
    }
  g_test_add_func ("/security/relay/smuggling/trailers-dropped", test_trailers_dropped);
  g_test_add_func ("/security/relay/smuggling/pipelined-valid", test_pipelined_valid);
  static const gchar *const poisons[] = {
    "extra", "late", "body-on-204", "body-on-304", "body-on-head", "cl-te", "cl-twice",
    "space-colon", "obs-fold", "trailer-response", "chunked-extra",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (poisons); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/security/relay/pool-poisoning/%s", poisons[i]);
      g_test_add_data_func (n, poisons[i], test_pool_poisoning);
    }
  status = g_test_run ();
  sec_app_stop (app);
  sec_relay_stop ();
  sec_controller_stop ();
  _exit (status);
}
