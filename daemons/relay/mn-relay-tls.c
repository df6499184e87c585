/* mn-relay-tls.c: the certificate: from the configured PEM files, or a
 * self-signed one made with OpenSSL on first start (mode 0600). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
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

GTlsCertificate *
mn_relay_tls_load (const MnRelayConfig *config, GError **error)
{
  g_autofree gchar *cert_path = NULL;
  g_autofree gchar *key_path = NULL;
  g_autoptr(GError) local = NULL;

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
  GTlsCertificate *cert = g_tls_certificate_new_from_files (cert_path, key_path, &local);
  if (cert == NULL)
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_TLS,
                   "keys cert_file/key_file: %s, %s: %s", cert_path, key_path, local->message);
      return NULL;
    }
  return cert;
}
