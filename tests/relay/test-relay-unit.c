/* test-relay-unit.c: the relay's pure parts: path checks, chunked bodies,
 * cookies, the config table, route JSON. */
#define G_LOG_DOMAIN "relay-test"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mn-relay-config.h"
#include "mn-relay-head.h"
#include "mn-relay-ws.h"
#include "mn-relay-http.h"
#include "mn-relay-log.h"
#include "mn-relay-route.h"

typedef struct {
  const gchar    *target;
  MnRelayPathKind kind;
  const gchar    *id;
} PathCase;

static const PathCase path_cases[] = {
  { "/", MN_RELAY_PATH_PORTAL, NULL },
  { "/login?next=/s/abc/", MN_RELAY_PATH_PORTAL, NULL },
  { "/s/abc/", MN_RELAY_PATH_SESSION, "abc" },
  { "/s/a-B_9/api/kernels?x=1", MN_RELAY_PATH_SESSION, "a-B_9" },
  { "/s/abc", MN_RELAY_PATH_ADD_SLASH, "abc" },
  { "/s/abc?x", MN_RELAY_PATH_ADD_SLASH, "abc" },
  { "/s/abc/files/my%20notebook.ipynb", MN_RELAY_PATH_SESSION, "abc" },
  { "/s/abc/../def/", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/%2e%2e/def/", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/%2E%2E/def/", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc%2fdef/", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/x%2Fy", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/x%5cy", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/x%00y", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/./x", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/..", MN_RELAY_PATH_BAD, NULL },
  { "/s/a.b/", MN_RELAY_PATH_BAD, NULL },
  { "/s//", MN_RELAY_PATH_BAD, NULL },
  { "/s/", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc\\x/", MN_RELAY_PATH_BAD, NULL },
  { "/s/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/", MN_RELAY_PATH_BAD, NULL },
  { "/../etc/passwd", MN_RELAY_PATH_BAD, NULL },
  { "http://host/s/abc/", MN_RELAY_PATH_BAD, NULL },
  { "*", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/50%", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/x%2", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/x%2?y", MN_RELAY_PATH_BAD, NULL },
  { "/s/abc/a..b/c.d/...", MN_RELAY_PATH_SESSION, "abc" },
  { "/s/abc/x?next=../../etc", MN_RELAY_PATH_SESSION, "abc" },
};

static void
test_path (gconstpointer data)
{
  const PathCase *c = data;
  g_autofree gchar *id = NULL;
  g_assert_cmpint (mn_relay_http_classify_path (c->target, &id), ==, c->kind);
  g_assert_cmpstr (id, ==, c->id);
}

typedef struct {
  const gchar *name;
  const gchar *input;
  MnRelayChunkedResult result;
  gsize consumed;
  const gchar *output;      /* what passes on (DONE and MORE) */
} ChunkCase;

static const ChunkCase chunk_cases[] = {
  { "simple", "5\r\nhello\r\n0\r\n\r\n", MN_RELAY_CHUNKED_DONE, 15, "5\r\nhello\r\n0\r\n\r\n" },
  { "pipelined", "3\r\nabc\r\n0\r\n\r\nGET /", MN_RELAY_CHUNKED_DONE, 13, "3\r\nabc\r\n0\r\n\r\n" },
  { "extension-dropped", "3;x=y\r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_DONE, 17,
    "3\r\nabc\r\n0\r\n\r\n" },
  { "extensions-quoted", "3 ; a ; b = \"q\\\"x;\" ;c=d\r\nabc\r\n0;last\r\n\r\n",
    MN_RELAY_CHUNKED_DONE, 41, "3\r\nabc\r\n0\r\n\r\n" },
  { "trailer-dropped", "1\r\na\r\n0\r\nX-T: 1\r\n\r\n", MN_RELAY_CHUNKED_DONE, 19,
    "1\r\na\r\n0\r\n\r\n" },
  { "trailers-dropped", "1\r\na\r\n0\r\nX-T: 1\r\nHost: evil\r\n\r\nGET", MN_RELAY_CHUNKED_DONE,
    31, "1\r\na\r\n0\r\n\r\n" },
  { "hex", "A\r\n0123456789\r\n0\r\n\r\n", MN_RELAY_CHUNKED_DONE, 20,
    "A\r\n0123456789\r\n0\r\n\r\n" },
  { "leading-zeros", "0003\r\nabc\r\n00\r\n\r\n", MN_RELAY_CHUNKED_DONE, 17,
    "0003\r\nabc\r\n00\r\n\r\n" },
  { "partial", "10\r\nabc", MN_RELAY_CHUNKED_MORE, 7, "10\r\nabc" },
  { "bad-size", "zz\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "empty-size", "\r\nabc", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "0x-size", "0x3\r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "negative-size", "-3\r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "missing-crlf", "3\r\nabcX", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "huge-size", "fffffffffffffffff\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "bare-lf", "3\nabc", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "bare-lf-after-data", "3\r\nabc\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "bare-cr-in-extension", "3;a\rb\r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "lf-in-extension", "3;a\nb\r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "space-without-extension", "3 \r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "extension-bad-name", "3;=x\r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "extension-control", "3;a=\x01\r\nabc\r\n0\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "extension-unterminated-quote", "3;a=\"x\r\nabc\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "trailer-request-line", "0\r\nX: y\r\nGET /api/v1/me HTTP/1.1\r\nHost: h\r\n\r\n",
    MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "trailer-obs-fold", "0\r\nX: y\r\n z\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "trailer-space-before-colon", "0\r\nX : y\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "trailer-bare-lf", "0\r\nX: y\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "trailer-no-colon", "0\r\nXY\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  /* "\x00" "b": a hex escape would swallow the b (\x00b is 0x0b) */
  { "trailer-nul", "0\r\nX: a\x00" "b\r\n\r\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
  { "final-bare-lf", "0\r\n\n", MN_RELAY_CHUNKED_ERROR, 0, NULL },
};

/* The filter writes into its input: run it on a copy. */
static MnRelayChunkedResult
filter_all (const ChunkCase *c, gsize step, gsize *consumed, GString *out)
{
  gsize len = c->name != NULL && g_str_equal (c->name, "trailer-nul") ? 13 : strlen (c->input);
  g_autofree guint8 *buf = g_memdup2 (c->input, len);
  MnRelayChunked ch;
  MnRelayChunkedResult r = MN_RELAY_CHUNKED_MORE;
  mn_relay_chunked_init (&ch);
  *consumed = 0;
  for (gsize i = 0; i < len && r == MN_RELAY_CHUNKED_MORE; i += step)
    {
      gsize n = MIN (step, len - i), used = 0, pass = 0;
      r = mn_relay_chunked_filter (&ch, buf + i, n, &used, &pass);
      g_assert_cmpuint (pass, <=, used);
      g_string_append_len (out, (const gchar *) buf + i, (gssize) pass);
      *consumed += used;
      /* What follows the body is left as it came. */
      if (r == MN_RELAY_CHUNKED_DONE)
        g_assert_cmpmem (buf + i + used, n - used, c->input + i + used, n - used);
    }
  return r;
}

static void
test_chunked (gconstpointer data)
{
  const ChunkCase *c = data;
  /* Whole, byte by byte and in odd pieces: state carries across reads. */
  const gsize steps[] = { G_MAXSIZE / 2, 1, 2, 7 };
  for (gsize s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      gsize consumed = 0;
      MnRelayChunkedResult r = filter_all (c, steps[s], &consumed, out);
      g_assert_cmpint (r, ==, c->result);
      if (r != MN_RELAY_CHUNKED_ERROR)
        {
          g_assert_cmpuint (consumed, ==, c->consumed);
          g_assert_cmpstr (out->str, ==, c->output);
        }
    }
}


typedef struct {
  const gchar *target;
  const gchar *logged;
} LogCase;

static const LogCase log_cases[] = {
  { "/s/a/tree", "/s/a/tree" },
  { "/s/a/tree?token=abc", "/s/a/tree?token=REDACTED" },
  { "/s/a/?x=1&Token=abc&y", "/s/a/?x=1&Token=REDACTED&y" },
  { "/s/a/?my_api_key=1;b=2", "/s/a/?my_api_key=REDACTED;b=2" },
  { "/s/a/?%74oken=abc", "/s/a/?%74oken=REDACTED" },
  { "/s/a/?%zz=abc", "/s/a/?%zz=REDACTED" },
  { "/s/a/?%00=abc", "/s/a/?%00=REDACTED" },
  { "/s/a/?token", "/s/a/?token" },
  { "/s/a/?next=/s/b/&page=2", "/s/a/?next=/s/b/&page=2" },
  { "/a\"b\\c d\x1b", "/a\\x22b\\x5Cc\\x20d\\x1B" },
  { NULL, "-" },
};

static void
test_log_target (gconstpointer data)
{
  const LogCase *lc = data;
  g_autofree gchar *got = mn_relay_log_target (lc->target);
  g_assert_cmpstr (got, ==, lc->logged);
}

typedef struct {
  const gchar *origin, *public_origin, *scheme, *host;
  gboolean     same;
} OriginCase;

static const OriginCase origin_cases[] = {
  { "http://h", "", "http", "h", TRUE },
  { "http://h:80", "", "http", "h", TRUE },
  { "http://h", "", "http", "h:80", TRUE },
  { "https://h", "", "https", "h:443", TRUE },
  { "HTTPS://H:8443", "", "https", "h:8443", TRUE },
  { "http://[::1]:8080", "", "http", "[::1]:8080", TRUE },
  { "https://h", "", "http", "h", FALSE },
  { "http://h:81", "", "http", "h", FALSE },
  { "http://h.x", "", "http", "h", FALSE },
  { "http://h/", "", "http", "h", FALSE },
  { "http://u@h", "", "http", "h", FALSE },
  { "null", "", "http", "h", FALSE },
  { "", "", "http", "h", FALSE },
  { NULL, "", "http", "h", FALSE },
  { "ftp://h", "", "ftp", "h", FALSE },
  { "https://portal.example", "https://portal.example", "http", "127.0.0.1:8080", TRUE },
  { "http://127.0.0.1:8080", "https://portal.example", "http", "127.0.0.1:8080", FALSE },
};

static void
test_same_origin (gconstpointer data)
{
  const OriginCase *oc = data;
  g_assert_cmpint (mn_relay_http_same_origin (oc->origin, oc->public_origin, oc->scheme,
                                              oc->host), ==, oc->same);
}

typedef struct {
  const gchar *set_cookie;
  gboolean     ok;
} AppCookieCase;

static const AppCookieCase app_cookie_cases[] = {
  { "a=1", TRUE },
  { "a=1; Path=/s/abc", TRUE },
  { "a=1; Path=/s/abc/; HttpOnly", TRUE },
  { "a=1; Path=/s/abc/x/y", TRUE },
  { "a=1; Path=relative", TRUE },
  { "a=1; Path=", TRUE },
  { "minna_session=x", FALSE },
  { "Minna_Session=x; Path=/s/abc/", FALSE },
  { "a=1; Path=/", FALSE },
  { "a=1; PATH=/", FALSE },
  { "a=1; Path=/s/abcd/", FALSE },
  { "a=1; Path=/s/ab", FALSE },
  { "a=1; Path=/s/abc/; Path=/", FALSE },
  { "a=1; Domain=example.org", FALSE },
  { "a=1; domain=", FALSE },
  { "__Host-a=1; Path=/; Secure", FALSE },
  { "__host-a=1", FALSE },
  { "", TRUE },                 /* found by fuzz-relay: an empty Set-Cookie */
};

static void
test_app_cookie (gconstpointer data)
{
  const AppCookieCase *ac = data;
  g_assert_cmpint (mn_relay_http_app_cookie_ok (ac->set_cookie, "abc"), ==, ac->ok);
}


/* ---- conformance corpora: tests/data/relay/<kind>/{y,n}_* ----
 * y_ files must be accepted, n_ files refused (a request's n_NNN_ names the
 * status it gets).  The same files seed the fuzzer (tests/fuzz). */

static void
test_corpus (gconstpointer data)
{
  const gchar *path = data;
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *kind = g_path_get_basename (dir);
  gboolean yes = g_str_has_prefix (base, "y_");
  g_autofree gchar *text = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));

  if (g_str_equal (kind, "request") || g_str_equal (kind, "response"))
    {
      gssize end = mn_relay_http_head_end (text, len, 0);
      g_assert_cmpint (end, >, 0);
      g_autofree MnRelayHead *h = g_new (MnRelayHead, 1);
      const gchar *why = NULL;
      MnRelayHeadResult r = g_str_equal (kind, "request")
        ? mn_relay_head_parse_request (text, (gsize) end, h, &why)
        : mn_relay_head_parse_response (text, (gsize) end, h, &why);
      if (!yes)
        g_test_message ("%s: %s", base, why);
      g_assert_cmpint (r == MN_RELAY_HEAD_OK, ==, yes);
      if (!yes && g_str_equal (kind, "request"))
        {
          static const guint codes[] = {
            [MN_RELAY_HEAD_BAD] = 400, [MN_RELAY_HEAD_TOO_MANY_FIELDS] = 431,
            [MN_RELAY_HEAD_VERSION] = 505, [MN_RELAY_HEAD_NOT_IMPLEMENTED] = 501,
          };
          g_assert_cmpuint (codes[r], ==, (guint) g_ascii_strtoull (base + 2, NULL, 10));
        }
    }
  else if (g_str_equal (kind, "chunked"))
    {
      MnRelayChunked c;
      gsize used = 0, pass = 0;
      mn_relay_chunked_init (&c);
      MnRelayChunkedResult r = mn_relay_chunked_filter (&c, (guint8 *) text, len, &used, &pass);
      g_assert_cmpint (r, ==, yes ? MN_RELAY_CHUNKED_DONE : MN_RELAY_CHUNKED_ERROR);
    }
  else
    {
      MnRelayWs ws;
      const gchar *why = NULL;
      mn_relay_ws_init (&ws, strstr (base, "_client_") != NULL, FALSE);
      gboolean ok = mn_relay_ws_feed (&ws, (const guint8 *) text, len, &why);
      if (!yes)
        g_test_message ("%s: %s", base, why);
      g_assert_cmpint (ok, ==, yes);
    }
}

static void
add_corpus (const gchar *kind)
{
  g_autofree gchar *dir = g_test_build_filename (G_TEST_DIST, "data", "relay", kind, NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "y_") || g_str_has_prefix (name, "n_"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) (void (*) (void)) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      const gchar *n = g_ptr_array_index (names, i);
      g_autofree gchar *test = g_strdup_printf ("/relay/unit/corpus/%s/%s", kind, n);
      /* the path lives as long as the test program */
      gchar *path = g_build_filename (dir, n, NULL);
      g_test_add_data_func_full (test, path, test_corpus, g_free);
    }
  g_assert_cmpuint (names->len, >, 0);
}

static void
test_head_end (void)
{
  const gchar *s = "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody";
  g_assert_cmpint (mn_relay_http_head_end (s, strlen (s), 0), ==, (gssize) strlen (s) - 4);
  g_assert_cmpint (mn_relay_http_head_end (s, 20, 0), ==, -1);
  /* Found when the terminator straddles two reads. */
  g_assert_cmpint (mn_relay_http_head_end (s, strlen (s), 26), ==, (gssize) strlen (s) - 4);
}

static void
test_cookies (void)
{
  g_autofree gchar *v = mn_relay_cookie_get ("a=1; minna_session=X.Y.Z; b=2", "minna_session");
  g_assert_cmpstr (v, ==, "X.Y.Z");
  g_autofree gchar *q = mn_relay_cookie_get ("minna_session=\"Q\"", "minna_session");
  g_assert_cmpstr (q, ==, "Q");
  g_assert_null (mn_relay_cookie_get ("xminna_session=1; a=2", "minna_session"));
  g_autofree gchar *s1 = mn_relay_cookie_strip ("a=1; minna_session=X; b=2", "minna_session");
  g_assert_cmpstr (s1, ==, "a=1; b=2");
  g_assert_null (mn_relay_cookie_strip ("minna_session=X", "minna_session"));
  g_autofree gchar *s2 = mn_relay_cookie_strip ("minna_sessionx=1", "minna_session");
  g_assert_cmpstr (s2, ==, "minna_sessionx=1");
}

typedef struct {
  const gchar *url;
  gboolean     ok;
  const gchar *host;
  guint16      port;
} UpstreamCase;

static const UpstreamCase upstream_cases[] = {
  { "http://127.0.0.1:8888", TRUE, "127.0.0.1", 8888 },
  { "http://127.0.0.1:8888/", TRUE, "127.0.0.1", 8888 },
  { "http://[::1]:9000", TRUE, "::1", 9000 },
  { "http://node12.cluster:40001", TRUE, "node12.cluster", 40001 },
  { "https://127.0.0.1:8888", FALSE, NULL, 0 },
  { "http://127.0.0.1", FALSE, NULL, 0 },
  { "http://127.0.0.1:0", FALSE, NULL, 0 },
  { "http://127.0.0.1:70000", FALSE, NULL, 0 },
  { "http://a b:80", FALSE, NULL, 0 },
  { "http://x:80/path", FALSE, NULL, 0 },
};

static void
test_upstream (gconstpointer data)
{
  const UpstreamCase *c = data;
  g_autofree gchar *host = NULL;
  guint16 port = 0;
  g_assert_cmpint (mn_relay_parse_upstream (c->url, &host, &port), ==, c->ok);
  if (c->ok)
    {
      g_assert_cmpstr (host, ==, c->host);
      g_assert_cmpuint (port, ==, c->port);
    }
}

typedef struct {
  const gchar *name;
  const gchar *text;
  const gchar *error_part;   /* NULL: must load */
} ConfigCase;

static const ConfigCase config_cases[] = {
  { "good", "[relay]\nlisten_http=127.0.0.1:8080\nmax_connections=10\n", NULL },
  { "unknown-key", "[relay]\n# c\nlisten_htp=127.0.0.1:1\n", ":3: unknown key 'listen_htp'" },
  { "bad-int", "[relay]\nread_timeout=soon\n", ":2: key read_timeout:" },
  { "out-of-range", "[relay]\n\nmax_connections=0\n", ":3: key max_connections:" },
  { "unknown-group", "[proxy]\nx=1\n", "unknown group [proxy]" },
  { "not-keyfile", "this is not a key file\n", "cfg" },
};

static void
test_config (gconstpointer data)
{
  const ConfigCase *c = data;
  g_autofree gchar *path = NULL;
  int fd = g_file_open_tmp ("relay-XXXXXX.cfg", &path, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_set_contents (path, c->text, -1, NULL));
  g_autoptr(MnRelayConfig) cfg = mn_relay_config_new ();
  g_autoptr(GError) error = NULL;
  gboolean ok = mn_relay_config_load_file (cfg, path, &error);
  g_unlink (path);
  if (c->error_part == NULL)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpint (cfg->max_connections, ==, 10);
      return;
    }
  g_assert_false (ok);
  g_assert_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, c->error_part));
}

typedef struct {
  const gchar *name;
  const gchar *setting;
  const gchar *error_part;
} ValidateCase;

static const ValidateCase validate_cases[] = {
  { "http-not-loopback", "listen_http=0.0.0.0:80", "listen_http" },
  { "admin-not-loopback", "admin_listen=10.0.0.1:9", "admin_listen" },
  { "admin-relative-unix", "admin_listen=unix:relay.sock", "admin_listen" },
  { "cert-without-key", "cert_file=/x.pem", "cert_file and key_file" },
  { "controller-https", "controller_url=https://127.0.0.1:1", "controller_url" },
  { "login-relative", "login_path=login", "login_path" },
  { "listen-hostname", "listen_https=example.org:443", "listen_https" },
};

static void
test_validate (gconstpointer data)
{
  const ValidateCase *c = data;
  g_autoptr(MnRelayConfig) cfg = mn_relay_config_new ();
  g_auto(GStrv) kv = g_strsplit (c->setting, "=", 2);
  g_assert_true (mn_relay_config_set (cfg, kv[0], kv[1], NULL));
  g_autoptr(GError) error = NULL;
  g_assert_false (mn_relay_config_validate (cfg, &error));
  g_assert_nonnull (strstr (error->message, c->error_part));
}

static void
test_defaults_valid (void)
{
  g_autoptr(MnRelayConfig) cfg = mn_relay_config_new ();
  g_autoptr(GError) error = NULL;
  g_assert_true (mn_relay_config_validate (cfg, &error));
  g_autofree gchar *doc = mn_relay_config_describe ();
  guint n = 0;
  const MnRelayConfigKeyInfo *keys = mn_relay_config_keys (&n);
  for (guint i = 0; i < n; i++)
    g_assert_nonnull (strstr (doc, keys[i].name));
}

typedef struct {
  const gchar *name;
  const gchar *json;
  const gchar *error_part;
} RouteCase;

static const RouteCase route_cases[] = {
  { "good", "{\"upstream\":\"http://127.0.0.1:9\",\"owner\":\"a\",\"token\":\"t\",\"expires\":5}", NULL },
  { "no-token", "{\"upstream\":\"http://127.0.0.1:9\",\"owner\":\"a\"}", NULL },
  { "no-upstream", "{\"owner\":\"a\"}", "field upstream" },
  { "bad-upstream", "{\"upstream\":\"127.0.0.1:9\",\"owner\":\"a\"}", "field upstream" },
  { "no-owner", "{\"upstream\":\"http://127.0.0.1:9\"}", "field owner" },
  { "owner-number", "{\"upstream\":\"http://127.0.0.1:9\",\"owner\":3}", "field owner" },
  { "token-space", "{\"upstream\":\"http://127.0.0.1:9\",\"owner\":\"a\",\"token\":\"a b\"}", "field token" },
  { "expires-text", "{\"upstream\":\"http://127.0.0.1:9\",\"owner\":\"a\",\"expires\":\"x\"}", "field expires" },
  { "expires-negative", "{\"upstream\":\"http://127.0.0.1:9\",\"owner\":\"a\",\"expires\":-1}", "field expires" },
};

static void
test_route (gconstpointer data)
{
  const RouteCase *c = data;
  g_autoptr(JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, c->json, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(MnRelayRoute) r = mn_relay_route_new_from_json (
    "s1", json_node_get_object (json_parser_get_root (p)), &error);
  if (c->error_part == NULL)
    {
      g_assert_no_error (error);
      g_assert_cmpstr (r->host, ==, "127.0.0.1");
      g_assert_cmpuint (r->port, ==, 9);
      return;
    }
  g_assert_null (r);
  g_assert_nonnull (strstr (error->message, c->error_part));
}

static void
test_routes_table (void)
{
  g_autoptr(MnRelayRoutes) t = mn_relay_routes_new ();
  g_autoptr(JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p,
    "{\"routes\": [{\"id\": \"a1\", \"upstream\": \"http://127.0.0.1:1\", \"owner\": \"u\", "
    "\"token\": \"secret-tok\", \"expires\": 0}, "
    "{\"id\": \"old\", \"upstream\": \"http://127.0.0.1:2\", \"owner\": \"u\", \"expires\": 100}, "
    "{\"id\": \"../x\", \"upstream\": \"http://127.0.0.1:3\", \"owner\": \"u\"}]}", -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (mn_relay_routes_load_json (t, json_parser_get_root (p), &error), ==, 2);
  g_autoptr(MnRelayRoute) a = mn_relay_routes_lookup (t, "a1", 1000);
  g_assert_nonnull (a);
  g_assert_null (mn_relay_routes_lookup (t, "old", 1000));   /* expired */
  g_assert_cmpuint (mn_relay_routes_count (t), ==, 1);
  g_autoptr(JsonNode) out = mn_relay_routes_to_json (t);
  g_autofree gchar *text = json_to_string (out, FALSE);
  g_assert_nonnull (strstr (text, "\"a1\""));
  g_assert_null (strstr (text, "secret-tok"));
  g_assert_true (mn_relay_routes_remove (t, "a1"));
  g_assert_false (mn_relay_routes_remove (t, "a1"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (path_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/path/%" G_GSIZE_FORMAT, i);
      g_test_add_data_func (n, &path_cases[i], test_path);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (chunk_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/chunked/%s", chunk_cases[i].name);
      g_test_add_data_func (n, &chunk_cases[i], test_chunked);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (upstream_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/upstream/%" G_GSIZE_FORMAT, i);
      g_test_add_data_func (n, &upstream_cases[i], test_upstream);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (config_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/config/%s", config_cases[i].name);
      g_test_add_data_func (n, &config_cases[i], test_config);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (validate_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/validate/%s", validate_cases[i].name);
      g_test_add_data_func (n, &validate_cases[i], test_validate);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (route_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/route/%s", route_cases[i].name);
      g_test_add_data_func (n, &route_cases[i], test_route);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (log_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/log-target/%" G_GSIZE_FORMAT, i);
      g_test_add_data_func (n, &log_cases[i], test_log_target);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (origin_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/same-origin/%" G_GSIZE_FORMAT, i);
      g_test_add_data_func (n, &origin_cases[i], test_same_origin);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (app_cookie_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/relay/unit/app-cookie/%" G_GSIZE_FORMAT, i);
      g_test_add_data_func (n, &app_cookie_cases[i], test_app_cookie);
    }
  add_corpus ("request");
  add_corpus ("response");
  add_corpus ("chunked");
  add_corpus ("websocket");
  g_test_add_func ("/relay/unit/head-end", test_head_end);
  g_test_add_func ("/relay/unit/cookies", test_cookies);
  g_test_add_func ("/relay/unit/config/defaults", test_defaults_valid);
  g_test_add_func ("/relay/unit/routes/table", test_routes_table);
  return g_test_run ();
}
