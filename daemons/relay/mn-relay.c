/* mn-relay.c: the relay's lifetime: secrets, listeners, reload, buffers,
 * metrics. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-private.h"
#include "mn-relay-http.h"
#include "mn-secure-file.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <unistd.h>

#define MN_RELAY_FREE_BUFFERS_MAX 256

static const gdouble latency_bounds[MN_RELAY_LATENCY_BUCKETS] = {
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
};

static gchar *
read_secret (const gchar *path, GError **error)
{
  g_autofree gchar *contents = NULL;
  g_autoptr(GError) local = NULL;

  if (!mn_secure_path_check (path, 0600, MN_SECURE_REFUSE, &local))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_SECRET_FILE,
                   "key admin_secret_file: %s", local->message);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, NULL, &local))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_SECRET_FILE,
                   "key admin_secret_file: %s", local->message);
      return NULL;
    }
  g_strstrip (contents);
  if (strlen (contents) < 16)
    {
      OPENSSL_cleanse (contents, strlen (contents));
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_SECRET_FILE,
                   "key admin_secret_file: %s: the secret must be at least 16 characters",
                   path);
      return NULL;
    }
  return g_steal_pointer (&contents);
}

gboolean
mn_relay_bearer_ok (MnRelay *r, const gchar *authorization)
{
  if (authorization == NULL || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    return FALSE;
  /* Comparing digests keeps the comparison constant-time and length-blind. */
  g_autofree gchar *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                                         authorization + 7, -1);
  return CRYPTO_memcmp (sha, r->admin_secret_sha, strlen (r->admin_secret_sha)) == 0;
}

/* What to do about a log that cannot be opened: its directory is the
 * admin's to make (the package's unit has systemd make it, LogsDirectory=),
 * and the relay's own user must be able to write there. */
static gchar *
access_log_hint (const gchar *path)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return g_strdup_printf (" (the directory %s does not exist: create it for the relay's "
                            "user, e.g. install -d -o minna -m 0700 %s, or let systemd make "
                            "it with LogsDirectory=)", dir, dir);
  if (g_access (dir, W_OK) != 0)
    return g_strdup_printf (" (the relay's user, uid %u, cannot write in %s: chown it to "
                            "that user)", (guint) geteuid (), dir);
  return g_strdup ("");
}

static FILE *
open_access_log (const gchar *spec, GError **error)
{
  if (spec[0] == '\0')
    return NULL;
  if (g_str_equal (spec, "-"))
    return stderr;
  /* 0600 whatever the umask; a looser existing log is tightened, logged */
  g_autoptr(GError) local = NULL;
  int fd = mn_secure_open_append (spec, &local);
  FILE *f = fd >= 0 ? fdopen (fd, "a") : NULL;
  if (f == NULL)
    {
      if (fd >= 0)
        close (fd);
      g_autofree gchar *hint = access_log_hint (spec);
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "key access_log: %s%s", local != NULL ? local->message : g_strerror (errno),
                   hint);
      return NULL;
    }
  setvbuf (f, NULL, _IOLBF, 0);
  return f;
}

static void
close_access_log (MnRelay *r)
{
  if (r->access_log != NULL && r->access_log != stderr)
    fclose (r->access_log);
  r->access_log = NULL;
}

/* The TLS key is the admin's (refused when others may read it) or the
 * self-signed one the relay made in state_dir (tightened, logged). */
static gboolean
check_tls_key (const MnRelayConfig *config, GError **error)
{
  if (config->key_file[0] != '\0')
    {
      if (mn_secure_path_check (config->key_file, 0600, MN_SECURE_REFUSE, error))
        return TRUE;
      g_prefix_error (error, "key key_file: ");
      return FALSE;
    }
  if (mn_secure_tree_check (config->state_dir, 0700, NULL, MN_SECURE_FIX, error))
    return TRUE;
  g_prefix_error (error, "key state_dir: ");
  return FALSE;
}

/* Everything a reload may change, loaded before anything is swapped in. */
static gboolean
apply_config (MnRelay *r, const MnRelayConfig *config, GError **error)
{
  if (!mn_relay_config_validate (config, error))
    return FALSE;
  g_autoptr(MnAuthKey) key = mn_auth_key_load (config->cookie_key_file, error);
  if (key == NULL)
    {
      g_prefix_error (error, "key cookie_key_file: ");
      return FALSE;
    }
  g_autofree gchar *secret = read_secret (config->admin_secret_file, error);
  if (secret == NULL)
    return FALSE;
  SSL_CTX *ctx = NULL;
  if (config->listen_https[0] != '\0' &&
      ((ctx = mn_relay_tls_load (config, error)) == NULL || !check_tls_key (config, error)))
    {
      SSL_CTX_free (ctx);
      return FALSE;
    }
  g_autoptr(GError) local = NULL;
  FILE *log = open_access_log (config->access_log, &local);
  if (local != NULL)
    {
      SSL_CTX_free (ctx);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  g_autofree gchar *chost = NULL;
  guint16 cport = 0;
  if (config->controller_url[0] != '\0')
    mn_relay_parse_upstream (config->controller_url, &chost, &cport);

  mn_relay_config_free (r->config);
  r->config = mn_relay_config_copy (config);
  mn_auth_key_free (r->cookie_key);
  r->cookie_key = g_steal_pointer (&key);
  if (r->cookie_cache != NULL)
    g_hash_table_remove_all (r->cookie_cache);
  g_free (r->admin_secret_sha);
  r->admin_secret_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, secret, -1);
  g_free (r->relay_proof);
  r->relay_proof = mn_auth_relay_proof (secret);
  if (r->admin_secret != NULL)
    OPENSSL_cleanse (r->admin_secret, strlen (r->admin_secret));
  g_free (r->admin_secret);
  r->admin_secret = g_steal_pointer (&secret);
  /* Connections open keep the context they started with. */
  SSL_CTX_free (r->ssl_ctx);
  r->ssl_ctx = ctx;
  close_access_log (r);
  r->access_log = log;
  g_free (r->controller_host);
  r->controller_host = g_steal_pointer (&chost);
  r->controller_port = cport;
  g_free (r->controller_key);
  r->controller_key = r->controller_host != NULL
    ? g_strdup_printf ("%s:%u", r->controller_host, r->controller_port) : NULL;
  return TRUE;
}

static void
string_free (gpointer s)
{
  g_string_free (s, TRUE);
}

MnRelay *
mn_relay_new (const MnRelayConfig *config, const gchar *config_path, GError **error)
{
  g_autoptr(MnRelay) r = g_new0 (MnRelay, 1);
  r->config_path = g_strdup (config_path);
  r->routes = mn_relay_routes_new ();
  r->pool = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) g_queue_free);
  r->free_buffers = g_ptr_array_new_with_free_func (g_free);
  r->free_heads = g_ptr_array_new_with_free_func (g_free);
  r->free_strings = g_ptr_array_new_with_free_func (string_free);
  r->cookie_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  r->logins = mn_auth_logins_new ();
  g_queue_init (&r->conns);
  r->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!apply_config (r, config, error))
    return NULL;
  r->buffer_size = (gsize) r->config->buffer_size;
  r->head_size = (gsize) r->config->max_header_bytes;
  return g_steal_pointer (&r);
}

static void
incoming_http (int fd, const struct sockaddr *addr, socklen_t len, gpointer data)
{
  mn_relay_proxy_accept (data, fd, addr, len, FALSE);
}

static void
incoming_https (int fd, const struct sockaddr *addr, socklen_t len, gpointer data)
{
  mn_relay_proxy_accept (data, fd, addr, len, TRUE);
}

/* A non-blocking listening socket, accepted from in the relay's own event
 * loop: no GObject per connection. */
static MnRelayListener *
listen_on (MnRelay *r, const gchar *key, const gchar *spec, guint16 *port, gboolean tls,
           GError **error)
{
  g_autofree gchar *host = NULL;
  guint16 p = 0;
  if (!mn_relay_parse_hostport (spec, &host, &p, error))
    {
      g_prefix_error (error, "key %s: ", key);
      return NULL;
    }
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string (host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (ia, p);
  struct sockaddr_storage ss;
  gssize sl = g_socket_address_get_native_size (sa);
  g_socket_address_to_native (sa, &ss, sizeof ss, NULL);
  int fd = socket (ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind (fd, (struct sockaddr *) &ss, (socklen_t) sl) != 0 || listen (fd, 1024) != 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_LISTEN, "key %s: %s: %s", key, spec,
                   g_strerror (saved));
      return NULL;
    }
  socklen_t bl = sizeof ss;
  getsockname (fd, (struct sockaddr *) &ss, &bl);
  *port = ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                          : ((struct sockaddr_in *) &ss)->sin_port);
  return mn_relay_listener_new (fd, tls ? incoming_https : incoming_http, r);
}

/* Memory freed by connections that ended goes back to the system: glibc
 * keeps freed heap memory for reuse, so after a burst of connections (a
 * lecture's, or an attacker's) the relay would stay at its peak.  At most
 * every 10 s, and only after many connections ended. */
static void
give_back_memory (MnRelay *r)
{
  guint open = g_queue_get_length (&r->conns);
  if (open > r->conns_peak)
    r->conns_peak = open;
  gint64 now = g_get_monotonic_time ();
  if (r->conns_peak - open >= 256 && now - r->last_trim >= 10 * G_USEC_PER_SEC)
    {
      malloc_trim (0);
      r->last_trim = now;
      r->conns_peak = open;
    }
}

static gboolean
sweep (gpointer data)
{
  mn_relay_proxy_sweep (data);
  give_back_memory (data);
  return G_SOURCE_CONTINUE;
}

/* Every WebSocket is two descriptors: take what the hard limit allows. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      (void) setrlimit (RLIMIT_NOFILE, &rl);
    }
}

GSource *
mn_relay_timeout_source (guint seconds, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *s = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (s, func, data, notify);
  g_source_attach (s, g_main_context_get_thread_default ());
  return s;
}

GSource *
mn_relay_idle_source (GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *s = g_idle_source_new ();
  g_source_set_callback (s, func, data, notify);
  g_source_attach (s, g_main_context_get_thread_default ());
  return s;
}

void
mn_relay_source_clear (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_source_unref (*source);
  *source = NULL;
}

gboolean
mn_relay_start (MnRelay *r, GError **error)
{
  raise_fd_limit ();
  if (r->config->listen_https[0] != '\0' &&
      (r->https_listener = listen_on (r, "listen_https", r->config->listen_https,
                                      &r->https_port, TRUE, error)) == NULL)
    return FALSE;
  if (r->config->listen_http[0] != '\0' &&
      (r->http_listener = listen_on (r, "listen_http", r->config->listen_http,
                                     &r->http_port, FALSE, error)) == NULL)
    return FALSE;
  if (!mn_relay_admin_start (r, error))
    return FALSE;
  r->sweep_source = mn_relay_timeout_source (1, sweep, r, NULL);
  r->last_sweep = g_get_monotonic_time ();
  if (r->https_port != 0)
    g_message ("HTTPS on %s (port %u)", r->config->listen_https, r->https_port);
  if (r->http_port != 0)
    g_message ("plain HTTP on %s (port %u)", r->config->listen_http, r->http_port);
  mn_relay_controller_load (r);
  return TRUE;
}

gboolean
mn_relay_reload (MnRelay *r, GError **error)
{
  g_autoptr(MnRelayConfig) c = mn_relay_config_new ();
  if (r->config_path != NULL && !mn_relay_config_load_file (c, r->config_path, error))
    return FALSE;
  if (r->config_path == NULL)
    {
      mn_relay_config_free (c);
      c = mn_relay_config_copy (r->config);
    }
  const gchar *fixed[] = { "listen_https, listen_http", "admin_listen", "buffer_size", "max_header_bytes" };
  if (g_strcmp0 (c->listen_https, r->config->listen_https) != 0 ||
      g_strcmp0 (c->listen_http, r->config->listen_http) != 0 ||
      g_strcmp0 (c->admin_listen, r->config->admin_listen) != 0 ||
      c->buffer_size != r->config->buffer_size || c->max_header_bytes != r->config->max_header_bytes)
    g_message ("reload: %s, %s, %s and %s only change at a restart", fixed[0], fixed[1],
               fixed[2], fixed[3]);
  if (!apply_config (r, c, error))
    return FALSE;
  g_message ("reloaded configuration%s%s", r->config_path != NULL ? " from " : "",
             r->config_path != NULL ? r->config_path : "");
  return TRUE;
}

void
mn_relay_free (MnRelay *r)
{
  if (r == NULL)
    return;
  mn_relay_source_clear (&r->sweep_source);
  mn_relay_source_clear (&r->controller_retry);
  g_clear_pointer (&r->https_listener, mn_relay_listener_free);
  g_clear_pointer (&r->http_listener, mn_relay_listener_free);
  mn_relay_admin_stop (r);
  mn_relay_proxy_close_all (r);
  mn_relay_pool_clear (r);
  g_hash_table_unref (r->pool);
  g_hash_table_unref (r->per_address);
  g_ptr_array_unref (r->free_buffers);
  g_ptr_array_unref (r->free_heads);
  g_ptr_array_unref (r->free_strings);
  g_hash_table_unref (r->cookie_cache);
  mn_auth_logins_free (r->logins);
  mn_relay_routes_free (r->routes);
  close_access_log (r);
  g_clear_pointer (&r->ssl_ctx, SSL_CTX_free);
  if (r->session != NULL)
    soup_session_abort (r->session);
  g_clear_object (&r->session);
  mn_auth_key_free (r->cookie_key);
  g_free (r->admin_secret_sha);
  g_free (r->relay_proof);
  if (r->admin_secret != NULL)
    OPENSSL_cleanse (r->admin_secret, strlen (r->admin_secret));
  g_free (r->admin_secret);
  g_free (r->controller_host);
  g_free (r->controller_key);
  g_free (r->config_path);
  mn_relay_config_free (r->config);
  g_free (r);
}

guint16
mn_relay_get_port (MnRelay *r, const gchar *listener)
{
  if (g_str_equal (listener, "https"))
    return r->https_port;
  if (g_str_equal (listener, "http"))
    return r->http_port;
  if (g_str_equal (listener, "admin"))
    return r->admin_port;
  return 0;
}

MnRelayRoutes *
mn_relay_get_routes (MnRelay *r)
{
  return r->routes;
}

guint
mn_relay_get_n_connections (MnRelay *r)
{
  return g_queue_get_length (&r->conns);
}

gchar *
mn_relay_head_get (MnRelay *r)
{
  if (r->free_heads->len > 0)
    return g_ptr_array_steal_index_fast (r->free_heads, r->free_heads->len - 1);
  return g_malloc (r->head_size + 1);
}

void
mn_relay_head_put (MnRelay *r, gchar *head)
{
  if (r->free_heads->len < MN_RELAY_FREE_BUFFERS_MAX)
    g_ptr_array_add (r->free_heads, head);
  else
    g_free (head);
}

GString *
mn_relay_string_get (MnRelay *r)
{
  if (r->free_strings->len > 0)
    return g_ptr_array_steal_index_fast (r->free_strings, r->free_strings->len - 1);
  return g_string_sized_new (1024);
}

void
mn_relay_string_put (MnRelay *r, GString *s)
{
  /* Ones grown by a kept request body (up to 64 kB) are not kept. */
  if (s == NULL)
    return;
  if (r->free_strings->len < MN_RELAY_FREE_BUFFERS_MAX && s->allocated_len <= 4096)
    {
      g_string_truncate (s, 0);
      g_ptr_array_add (r->free_strings, s);
    }
  else
    g_string_free (s, TRUE);
}

guint8 *
mn_relay_buffer_get (MnRelay *r)
{
  if (r->free_buffers->len > 0)
    return g_ptr_array_steal_index_fast (r->free_buffers, r->free_buffers->len - 1);
  return g_malloc (r->buffer_size);
}

void
mn_relay_buffer_put (MnRelay *r, guint8 *buffer)
{
  if (r->free_buffers->len < MN_RELAY_FREE_BUFFERS_MAX)
    g_ptr_array_add (r->free_buffers, buffer);
  else
    g_free (buffer);
}

void
mn_relay_observe_latency (MnRelay *r, gdouble seconds)
{
  r->metrics.latency_count++;
  r->metrics.latency_sum += seconds;
  for (guint i = 0; i < MN_RELAY_LATENCY_BUCKETS; i++)
    if (seconds <= latency_bounds[i])
      {
        r->metrics.latency_bucket[i]++;
        break;
      }
}

gchar *
mn_relay_metrics_text (MnRelay *r)
{
  MnRelayMetrics *m = &r->metrics;
  GString *s = g_string_new (NULL);
  static const gchar *const classes[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };

  g_string_append (s, "# HELP minna_relay_requests_total HTTP requests answered, by status class.\n"
                      "# TYPE minna_relay_requests_total counter\n");
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    g_string_append_printf (s, "minna_relay_requests_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            classes[i], m->requests[i]);
  g_string_append_printf (s,
    "# HELP minna_relay_received_bytes_total Bytes received from clients.\n"
    "# TYPE minna_relay_received_bytes_total counter\n"
    "minna_relay_received_bytes_total %" G_GUINT64_FORMAT "\n"
    "# HELP minna_relay_sent_bytes_total Bytes sent to clients.\n"
    "# TYPE minna_relay_sent_bytes_total counter\n"
    "minna_relay_sent_bytes_total %" G_GUINT64_FORMAT "\n"
    "# HELP minna_relay_websockets_open WebSocket connections open now.\n"
    "# TYPE minna_relay_websockets_open gauge\n"
    "minna_relay_websockets_open %" G_GUINT64_FORMAT "\n"
    "# HELP minna_relay_websockets_total WebSocket connections relayed.\n"
    "# TYPE minna_relay_websockets_total counter\n"
    "minna_relay_websockets_total %" G_GUINT64_FORMAT "\n"
    "# HELP minna_relay_upstream_errors_total Failures to reach or read an upstream.\n"
    "# TYPE minna_relay_upstream_errors_total counter\n"
    "minna_relay_upstream_errors_total %" G_GUINT64_FORMAT "\n"
    "# HELP minna_relay_rejected_connections_total Connections refused at max_connections.\n"
    "# TYPE minna_relay_rejected_connections_total counter\n"
    "minna_relay_rejected_connections_total %" G_GUINT64_FORMAT "\n"
    "# HELP minna_relay_rejected_per_address_total Connections refused at max_connections_per_address.\n"
    "# TYPE minna_relay_rejected_per_address_total counter\n"
    "minna_relay_rejected_per_address_total %" G_GUINT64_FORMAT "\n"
    "# HELP minna_relay_connections_open Client connections open now.\n"
    "# TYPE minna_relay_connections_open gauge\n"
    "minna_relay_connections_open %u\n"
    "# HELP minna_relay_routes Routes known.\n"
    "# TYPE minna_relay_routes gauge\n"
    "minna_relay_routes %u\n",
    m->bytes_in, m->bytes_out, m->websockets_open, m->websockets_total, m->upstream_errors,
    m->rejected_connections, m->rejected_per_address, g_queue_get_length (&r->conns),
    mn_relay_routes_count (r->routes));
  g_string_append (s, "# HELP minna_relay_request_duration_seconds Time from request to the end of the answer.\n"
                      "# TYPE minna_relay_request_duration_seconds histogram\n");
  guint64 cum = 0;
  for (guint i = 0; i < MN_RELAY_LATENCY_BUCKETS; i++)
    {
      cum += m->latency_bucket[i];
      gchar b[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append_printf (s, "minna_relay_request_duration_seconds_bucket{le=\"%s\"} %"
                              G_GUINT64_FORMAT "\n",
                              g_ascii_dtostr (b, sizeof b, latency_bounds[i]), cum);
    }
  gchar sum[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (s, "minna_relay_request_duration_seconds_bucket{le=\"+Inf\"} %"
                          G_GUINT64_FORMAT "\n"
                          "minna_relay_request_duration_seconds_sum %s\n"
                          "minna_relay_request_duration_seconds_count %" G_GUINT64_FORMAT "\n",
                          m->latency_count, g_ascii_dtostr (sum, sizeof sum, m->latency_sum),
                          m->latency_count);
  return g_string_free (s, FALSE);
}
