/* mn-relay-tls.c: the certificate: from the configured PEM files, or a
 * self-signed one made with OpenSSL on first start (mode 0600). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

static gboolean
write_private (const gchar *path, const gchar *data, gsize len, GError **error)
{
  g_autofree gchar *tmp = g_strdup_printf ("%s.tmp", path);
  g_unlink (tmp);
  int fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS, "%s: %s", tmp,
                   g_strerror (saved));
      return FALSE;
    }
  gboolean ok = write (fd, data, len) == (gssize) len;
  ok = fsync (fd) == 0 && ok;
  ok = close (fd) == 0 && ok;
  if (!ok || g_rename (tmp, path) != 0)
    {
      int saved = errno;
      g_unlink (tmp);
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS, "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gchar *
bio_text (BIO *bio, gsize *len)
{
  char *p = NULL;
  long n = BIO_get_mem_data (bio, &p);
  *len = (gsize) n;
  return g_strndup (p, (gsize) n);
}

static gboolean
create_self_signed (const gchar *cert_path, const gchar *key_path, GError **error)
{
  g_autoptr(EVP_PKEY) pkey = EVP_EC_gen ("P-256");
  g_autoptr(X509) x = X509_new ();
  const gchar *host = g_get_host_name ();
  guint8 serial[16];

  if (pkey == NULL || x == NULL || RAND_bytes (serial, sizeof serial) != 1)
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS,
                           "OpenSSL could not make a key");
      return FALSE;
    }
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn (serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x));
  BN_free (bn);
  X509_set_version (x, 2);
  X509_gmtime_adj (X509_getm_notBefore (x), -3600);
  X509_gmtime_adj (X509_getm_notAfter (x), 10L * 365 * 24 * 3600);
  X509_set_pubkey (x, pkey);
  X509_NAME *name = X509_get_subject_name (x);
  X509_NAME_add_entry_by_txt (name, "O", MBSTRING_ASC, (const guchar *) "minna", -1, -1, 0);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const guchar *) host, -1, -1, 0);
  X509_set_issuer_name (x, name);
  g_autofree gchar *san = g_strdup_printf ("DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", host);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_subject_alt_name, san);
  if (ext != NULL)
    {
      X509_add_ext (x, ext, -1);
      X509_EXTENSION_free (ext);
    }
  if (X509_sign (x, pkey, EVP_sha256 ()) == 0)
    {
      g_set_error_literal (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS,
                           "OpenSSL could not sign the certificate");
      return FALSE;
    }

  g_autoptr(BIO) kb = BIO_new (BIO_s_mem ());
  g_autoptr(BIO) cb = BIO_new (BIO_s_mem ());
  PEM_write_bio_PrivateKey (kb, pkey, NULL, NULL, 0, NULL, NULL);
  PEM_write_bio_X509 (cb, x);
  gsize klen = 0, clen = 0;
  g_autofree gchar *ktext = bio_text (kb, &klen);
  g_autofree gchar *ctext = bio_text (cb, &clen);
  gboolean ok = write_private (key_path, ktext, klen, error) &&
                write_private (cert_path, ctext, clen, error);
  OPENSSL_cleanse (ktext, klen);
  if (!ok)
    return FALSE;

  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  X509_digest (x, EVP_sha256 (), md, &mdlen);
  GString *fp = g_string_new (NULL);
  for (unsigned int i = 0; i < mdlen; i++)
    g_string_append_printf (fp, "%s%02X", i > 0 ? ":" : "", md[i]);
  g_message ("created a self-signed certificate %s (key %s, mode 0600) for %s; "
             "SHA-256 fingerprint %s. Configure cert_file and key_file for a real one.",
             cert_path, key_path, host, fp->str);
  g_string_free (fp, TRUE);
  return TRUE;
}

/* TLS 1.2 with ECDHE and AEAD suites only (no CBC, no SHA-1 MACs, no RSA
 * key exchange), or TLS 1.3 (AEAD by definition), as Mozilla's
 * "intermediate" profile. */
#define MN_RELAY_TLS12_CIPHERS \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static gchar *
ssl_error_text (void)
{
  unsigned long code = ERR_get_error ();
  gchar buf[256];
  if (code == 0)
    return g_strdup ("unknown OpenSSL error");
  ERR_error_string_n (code, buf, sizeof buf);
  ERR_clear_error ();
  return g_strdup (buf);
}

/* The relay speaks HTTP/1.1 only: say so to clients that offer ALPN. */
static int
select_alpn (SSL *ssl, const guchar **out, guchar *outlen, const guchar *in, unsigned int inlen,
             void *data)
{
  static const guchar http11[] = "\x08http/1.1";
  guchar *sel = NULL;
  if (SSL_select_next_proto (&sel, outlen, http11, sizeof http11 - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *
mn_relay_tls_load (const MnRelayConfig *config, GError **error)
{
  g_autofree gchar *cert_path = NULL;
  g_autofree gchar *key_path = NULL;

  if (config->cert_file[0] != '\0')
    {
      cert_path = g_strdup (config->cert_file);
      key_path = g_strdup (config->key_file);
    }
  else
    {
      cert_path = g_build_filename (config->state_dir, "relay-cert.pem", NULL);
      key_path = g_build_filename (config->state_dir, "relay-key.pem", NULL);
      if (!g_file_test (cert_path, G_FILE_TEST_EXISTS) ||
          !g_file_test (key_path, G_FILE_TEST_EXISTS))
        {
          if (g_mkdir_with_parents (config->state_dir, 0700) != 0)
            {
              int saved = errno;
              g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS,
                           "key state_dir: %s: %s", config->state_dir, g_strerror (saved));
              return NULL;
            }
          if (!create_self_signed (cert_path, key_path, error))
            return NULL;
        }
    }

  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
  if (ctx == NULL)
    {
      g_autofree gchar *why = ssl_error_text ();
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS, "OpenSSL: %s", why);
      return NULL;
    }
  /* TLS 1.2 and 1.3 only, modern AEAD suites, no renegotiation (a client
   * could make the server redo the handshake's work at will), no
   * compression (CRIME). */
  SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
  SSL_CTX_set_options (ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                            SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  /* Memory per connection: read and write buffers only while a record is in
   * flight (an idle connection holds none), no server-side session cache
   * (it would grow with every client and outlive the connections; session
   * tickets resume without it). */
  SSL_CTX_set_mode (ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                         SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_read_ahead (ctx, 1);
  SSL_CTX_set_alpn_select_cb (ctx, select_alpn, NULL);
  if (SSL_CTX_set_cipher_list (ctx, MN_RELAY_TLS12_CIPHERS) != 1 ||
      SSL_CTX_use_certificate_chain_file (ctx, cert_path) != 1 ||
      SSL_CTX_use_PrivateKey_file (ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key (ctx) != 1)
    {
      g_autofree gchar *why = ssl_error_text ();
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS,
                   "keys cert_file/key_file: %s, %s: %s", cert_path, key_path, why);
      SSL_CTX_free (ctx);
      return NULL;
    }
  return ctx;
}
