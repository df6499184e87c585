/* test-relay-tls.c: TLS probes against the real minna-relay's HTTPS
 * listener (issue 15, items 4 and 9): versions before 1.2, CBC and SHA-1
 * suites, RSA key exchange and the like are refused; client-initiated
 * renegotiation is refused; handshakes that never finish, garbage and plain
 * HTTP on the TLS port end the connection; HTTPS itself works (GET, POST,
 * a WebSocket).  The client is OpenSSL with its own security level lowered
 * to 0, so that it really offers what the relay must refuse. */
#define G_LOG_DOMAIN "relay-security"

#include "sec-relay-util.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SecApp *app;
static gchar  *alice;

typedef struct {
  int      alert;           /* last alert received from the relay, -1 none */
  guint64  alerts_seen;     /* bit n: alert n (below 64) came */
  gboolean no_reneg;        /* no_renegotiation (100) came */
} Probe;

static void
info_cb (const SSL *ssl, int where, int ret)
{
  if ((where & SSL_CB_READ_ALERT) != 0)
    {
      Probe *p = SSL_get_app_data (ssl);
      p->alert = ret & 0xff;
      if (p->alert < 64)
        p->alerts_seen |= G_GUINT64_CONSTANT (1) << p->alert;
      p->no_reneg = p->no_reneg || p->alert == SSL_AD_NO_RENEGOTIATION;
    }
}

typedef struct {
  SSL_CTX *ctx;
  SSL     *ssl;
  int      fd;
  Probe    probe;
} Client;

static gboolean
client_open (Client *c, int min, int max, const gchar *ciphers, const gchar *suites)
{
  memset (c, 0, sizeof *c);
  c->probe.alert = -1;
  c->ctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX_set_security_level (c->ctx, 0);
  SSL_CTX_set_min_proto_version (c->ctx, min);
  SSL_CTX_set_max_proto_version (c->ctx, max);
  if (ciphers != NULL)
    g_assert_cmpint (SSL_CTX_set_cipher_list (c->ctx, ciphers), ==, 1);
  if (suites != NULL)
    g_assert_cmpint (SSL_CTX_set_ciphersuites (c->ctx, suites), ==, 1);
  SSL_CTX_set_info_callback (c->ctx, info_cb);
  c->fd = sec_connect (sec.https_port);
  struct timeval tv = { .tv_sec = 5 };
  setsockopt (c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  c->ssl = SSL_new (c->ctx);
  SSL_set_app_data (c->ssl, &c->probe);
  SSL_set_fd (c->ssl, c->fd);
  ERR_clear_error ();
  return SSL_connect (c->ssl) == 1;
}

static void
client_close (Client *c)
{
  SSL_free (c->ssl);
  SSL_CTX_free (c->ctx);
  close (c->fd);
}

/* One request over the TLS connection; the status. */
static guint
client_request (Client *c, const gchar *req)
{
  if (SSL_write (c->ssl, req, (int) strlen (req)) != (int) strlen (req))
    return 0;
  g_autoptr(GString) in = g_string_new (NULL);
  gchar buf[4096];
  while (strstr (in->str, "\r\n\r\n") == NULL)
    {
      int n = SSL_read (c->ssl, buf, sizeof buf);
      if (n <= 0)
        return 0;
      g_string_append_len (in, buf, n);
    }
  return g_str_has_prefix (in->str, "HTTP/1.1 ") ? (guint) atoi (in->str + 9) : 0;
}

typedef struct {
  const gchar *name;
  int          min, max;
  const gchar *ciphers;     /* TLS 1.2 and below */
  const gchar *suites;      /* TLS 1.3 */
  gboolean     accepted;
} TlsCase;

static const TlsCase tls_cases[] = {
  { "tls1.3-aes128-gcm", TLS1_3_VERSION, TLS1_3_VERSION, NULL, "TLS_AES_128_GCM_SHA256", TRUE },
  { "tls1.3-aes256-gcm", TLS1_3_VERSION, TLS1_3_VERSION, NULL, "TLS_AES_256_GCM_SHA384", TRUE },
  { "tls1.3-chacha20", TLS1_3_VERSION, TLS1_3_VERSION, NULL, "TLS_CHACHA20_POLY1305_SHA256", TRUE },
  { "tls1.2-ecdhe-aes128-gcm", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256",
    NULL, TRUE },
  { "tls1.2-ecdhe-aes256-gcm", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384",
    NULL, TRUE },
  { "tls1.2-ecdhe-chacha20", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305",
    NULL, TRUE },
  { "tls1.0", TLS1_VERSION, TLS1_VERSION, "ALL:@SECLEVEL=0", NULL, FALSE },
  { "tls1.1", TLS1_1_VERSION, TLS1_1_VERSION, "ALL:@SECLEVEL=0", NULL, FALSE },
  { "tls1.2-cbc-sha1", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA", NULL, FALSE },
  { "tls1.2-cbc-sha256", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256", NULL,
    FALSE },
  { "tls1.2-cbc-sha384", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384", NULL,
    FALSE },
  { "tls1.2-rsa-key-exchange", TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256:AES256-SHA",
    NULL, FALSE },
  { "tls1.2-dhe", TLS1_2_VERSION, TLS1_2_VERSION, "DHE-RSA-AES128-GCM-SHA256", NULL, FALSE },
  { "tls1.2-aria-gcm-not-listed", TLS1_2_VERSION, TLS1_2_VERSION,
    "ECDHE-ECDSA-ARIA128-GCM-SHA256", NULL, FALSE },
  { "tls1.2-camellia-cbc", TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-CAMELLIA128-SHA256",
    NULL, FALSE },
  { "tls1.2-null", TLS1_2_VERSION, TLS1_2_VERSION, "NULL:eNULL:@SECLEVEL=0", NULL, FALSE },
  { "tls1.2-anonymous", TLS1_2_VERSION, TLS1_2_VERSION, "aNULL:@SECLEVEL=0", NULL, FALSE },
};

static void
test_tls_case (gconstpointer data)
{
  const TlsCase *tc = data;
  Client c;
  gboolean ok = client_open (&c, tc->min, tc->max, tc->ciphers, tc->suites);
  if (ok)
    g_test_message ("%s: %s %s", tc->name, SSL_get_version (c.ssl),
                    SSL_get_cipher_name (c.ssl));
  else
    g_test_message ("%s: refused, alert %d (%s)", tc->name, c.probe.alert,
                    c.probe.alert >= 0 ? SSL_alert_desc_string_long (c.probe.alert) : "none");
  g_assert_cmpint (ok, ==, tc->accepted);
  if (ok)
    {
      /* and it carries a request */
      g_autofree gchar *req = g_strdup_printf ("GET /s/alice1/tls HTTP/1.1\r\nHost: h\r\n"
                                               "Cookie: %s\r\n\r\n", alice);
      g_assert_cmpuint (client_request (&c, req), ==, 200);
    }
  else
    /* the relay said no (protocol_version or handshake_failure), not a
     * client that gave up on its own */
    g_assert_true (c.probe.alert == SSL_AD_PROTOCOL_VERSION ||
                   c.probe.alert == SSL_AD_HANDSHAKE_FAILURE ||
                   c.probe.alert == SSL_AD_INSUFFICIENT_SECURITY);
  client_close (&c);
}

/* Client-initiated renegotiation (TLS 1.2): refused, and the connection
 * does not carry on with a second handshake. */
static void
test_renegotiation (void)
{
  Client c;
  g_assert_true (client_open (&c, TLS1_2_VERSION, TLS1_2_VERSION,
                              "ECDHE-ECDSA-AES128-GCM-SHA256", NULL));
  g_assert_cmpint (SSL_renegotiate (c.ssl), ==, 1);
  int rv = SSL_do_handshake (c.ssl);
  /* the request that would complete it */
  g_autofree gchar *req = g_strdup_printf ("GET /s/alice1/after HTTP/1.1\r\nHost: h\r\n"
                                           "Cookie: %s\r\n\r\n", alice);
  guint status = client_request (&c, req);
  g_test_message ("renegotiation: handshake %d, alert %d (%s), renegotiations %ld, status %u",
                  rv, c.probe.alert,
                  c.probe.alert >= 0 ? SSL_alert_desc_string_long (c.probe.alert) : "none",
                  SSL_num_renegotiations (c.ssl), status);
  /* OpenSSL answers no_renegotiation, or (TLS 1.2 with the extension
   * missing on a renegotiating hello) handshake_failure: refused either
   * way, and nothing more goes over the connection. */
  g_assert_true (c.probe.no_reneg || c.probe.alert == SSL_AD_HANDSHAKE_FAILURE);
  g_assert_cmpint (rv, <=, 0);
  g_assert_cmpuint (status, ==, 0);
  client_close (&c);
}

/* What is not TLS at all ends the connection; the relay stays up. */
static void
test_not_tls (void)
{
  static const gchar *const inputs[] = {
    "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "\x16\x03\x01\x00\x05garbage-after-a-record-header",
    "\x16\x03\x01\xff\xff",       /* a record that never comes: the deadline */
    "",                             /* nothing at all: the deadline */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      int fd = sec_connect (sec.https_port);
      sec_try_send (fd, inputs[i], -1);
      g_assert_true (sec_wait_closed (fd, 5000));
      close (fd);
    }
  Client c;
  g_assert_true (client_open (&c, TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL));
  client_close (&c);
}

/* HTTPS carries a body up and a WebSocket both ways. */
static void
test_https_post_and_websocket (void)
{
  Client c;
  g_assert_true (client_open (&c, TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL));
  g_autoptr(GString) body = g_string_new (NULL);
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (body, (gchar) ('a' + i % 26));
  g_autofree gchar *req = g_strdup_printf (
    "POST /s/alice1/post HTTP/1.1\r\nHost: h\r\nOrigin: https://h\r\nCookie: %s\r\n"
    "Content-Length: %zu\r\n\r\n%s", alice, body->len, body->str);
  g_assert_cmpuint (client_request (&c, req), ==, 200);
  client_close (&c);

  g_assert_true (client_open (&c, TLS1_3_VERSION, TLS1_3_VERSION, NULL, NULL));
  g_autofree gchar *up = g_strdup_printf (
    "GET /s/alice1/ws HTTP/1.1\r\nHost: h\r\nOrigin: https://h\r\nCookie: %s\r\n"
    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", alice);
  g_assert_cmpuint (client_request (&c, up), ==, 101);
  /* a masked text frame "ping"; the app answers "pong" unmasked */
  static const guint8 frame[] = { 0x81, 0x84, 1, 2, 3, 4, 'p' ^ 1, 'i' ^ 2, 'n' ^ 3, 'g' ^ 4 };
  g_assert_cmpint (SSL_write (c.ssl, frame, sizeof frame), ==, (int) sizeof frame);
  guint8 got[6] = { 0 };
  gsize have = 0;
  while (have < sizeof got)
    {
      int n = SSL_read (c.ssl, got + have, (int) (sizeof got - have));
      g_assert_cmpint (n, >, 0);
      have += (gsize) n;
    }
  g_assert_cmpmem (got, 6, "\x81\x04pong", 6);
  client_close (&c);
}

static void
app_handler (SecApp *a, int fd, const SecAppRequest *req, gpointer data)
{
  if (strstr (req->path, "/ws") == NULL)
    {
      sec_app_echo (a, fd, req, data);
      return;
    }
  sec_try_send (fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
                    "\r\n\r\n", -1);
  guint8 in[10];
  gsize have = 0;
  while (have < sizeof in)
    {
      gssize n = recv (fd, in + have, sizeof in - have, 0);
      if (n <= 0)
        return;
      have += (gsize) n;
    }
  sec_try_send (fd, "\x81\x04pong", 6);
}

int
main (int argc, char **argv)
{
  int status = sec_init (&argc, &argv, "tls");
  if (status >= 0)
    return status;
  /* a handshake that never completes is cut off with the head's deadline */
  const gchar *extra[] = { "--read-timeout=2", NULL };
  sec_relay_start (TRUE, extra, -1);
  app = sec_app_start (app_handler, NULL);
  sec_route_put ("alice1", sec_app_port (app), "alice", "tok-a");
  alice = sec_cookie ("alice");
  for (gsize i = 0; i < G_N_ELEMENTS (tls_cases); i++)
    {
      g_autofree gchar *n = g_strdup_printf ("/security/relay/tls/%s", tls_cases[i].name);
      g_test_add_data_func (n, &tls_cases[i], test_tls_case);
    }
  g_test_add_func ("/security/relay/tls/client-renegotiation", test_renegotiation);
  g_test_add_func ("/security/relay/tls/not-tls", test_not_tls);
  g_test_add_func ("/security/relay/tls/https-post-and-websocket", test_https_post_and_websocket);
  status = g_test_run ();
  sec_app_stop (app);
  sec_relay_stop ();
  _exit (status);
}
