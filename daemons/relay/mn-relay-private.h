/* mn-relay-private.h: what the relay's own files share. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <json-glib/json-glib.h>

#include "mn-auth-cookie.h"
#include "mn-auth-logins.h"
#include "mn-relay.h"
#include "mn-relay-io.h"

G_BEGIN_DECLS

#define MN_RELAY_LATENCY_BUCKETS 12

typedef struct {
  guint64 requests[6];          /* by status class: 1xx..5xx, [0] other */
  guint64 bytes_in, bytes_out;  /* client side */
  guint64 websockets_open, websockets_total;
  guint64 upstream_errors;
  guint64 rejected_connections;
  guint64 rejected_per_address;
  guint64 latency_count;
  gdouble latency_sum;
  guint64 latency_bucket[MN_RELAY_LATENCY_BUCKETS];
} MnRelayMetrics;

struct _MnRelay {
  MnRelayConfig   *config;
  gchar           *config_path;
  MnAuthKey       *cookie_key;
  gchar           *admin_secret;       /* sent to the controller */
  gchar           *admin_secret_sha;   /* hex SHA-256 of the secret, compared */
  gchar           *relay_proof;        /* X-Minna-Relay-Proof to the controller */
  SSL_CTX         *ssl_ctx;           /* NULL without HTTPS; SSL objects hold their own ref */
  MnRelayRoutes   *routes;

  MnRelayListener *https_listener;
  MnRelayListener *http_listener;
  guint16          https_port, http_port, admin_port;
  SoupServer      *admin;
  gchar           *admin_socket_path;
  SoupSession     *session;            /* to the controller */
  GSource         *controller_retry;
  gboolean         routes_loading;     /* first load from the controller pending */

  gchar           *controller_host;
  guint16          controller_port;
  gchar           *controller_key;     /* "host:port", its keep-alive pool */

  GHashTable      *pool;               /* "host:port" -> GQueue of MnRelayEnd */
  GQueue           conns;              /* every open client connection */
  GHashTable      *per_address;        /* address (IPv6: its /64) -> connections open */
  GSource         *sweep_source;
  gint64           last_sweep;         /* monotonic µs of the last sweep */
  guint            conns_peak;         /* most connections open since the last trim */
  gint64           last_trim;          /* monotonic µs of the last malloc_trim */
  FILE            *access_log;
  MnRelayMetrics   metrics;
  GPtrArray       *free_buffers;
  gsize            buffer_size;        /* fixed at start: pooled buffers share it */
  GPtrArray       *free_heads;
  GPtrArray       *free_strings;       /* GStrings for the heads the relay writes */
  gsize            head_size;          /* max_header_bytes at start */
  GHashTable      *cookie_cache;       /* cookie value (MAC checked) -> login id */
  MnAuthLogins    *logins;             /* live logins, kept by the controller */
};

/* mn-relay-proxy.c */
void     mn_relay_proxy_accept (MnRelay *relay, int fd, const struct sockaddr *addr,
                                socklen_t addr_len, gboolean tls);
void     mn_relay_proxy_sweep (MnRelay *relay);
void     mn_relay_proxy_close_all (MnRelay *relay);
void     mn_relay_pool_clear (MnRelay *relay);

/* mn-relay-tls.c */
/* The TLS context: the certificate (self-signed when none is configured),
 * TLS 1.2+ with AEAD suites, no renegotiation, buffers released when idle. */
SSL_CTX *mn_relay_tls_load (const MnRelayConfig *config, GError **error);

/* mn-relay-admin.c */
gboolean mn_relay_admin_start (MnRelay *relay, GError **error);
void     mn_relay_admin_stop (MnRelay *relay);
void     mn_relay_controller_load (MnRelay *relay);
gboolean mn_relay_bearer_ok (MnRelay *relay, const gchar *authorization);

/* mn-relay.c */
/* Timers and idles in the thread-default main context (tests run relays
 * in their own threads); the caller owns the returned reference. */
GSource *mn_relay_timeout_source (guint seconds, GSourceFunc func, gpointer data,
                                  GDestroyNotify notify);
GSource *mn_relay_idle_source (GSourceFunc func, gpointer data, GDestroyNotify notify);
void     mn_relay_source_clear (GSource **source);
gchar   *mn_relay_head_get (MnRelay *relay);
void     mn_relay_head_put (MnRelay *relay, gchar *head);
/* mn-relay-logins.c */
/* The user of the live login named by the minna_session cookie in
 * @cookie_header (one spelling; MAC checked once per cookie, the live set
 * every time), or NULL. */
const gchar *mn_relay_cookie_user (MnRelay *relay, const gchar *cookie_header, gint64 now);
/* The admin API's /logins and /logins/<id>; FALSE if @path is neither. */
gboolean mn_relay_logins_admin (MnRelay *relay, SoupServerMessage *msg, const gchar *method,
                                const gchar *path);
/* The "logins" member of the controller's GET /api/v1/routes answer. */
gboolean mn_relay_logins_from_controller (MnRelay *relay, JsonNode *root, GError **error);
/* An empty GString for a head to write, from a pool (the hot path then
 * allocates little per request); put it back when done. */
GString *mn_relay_string_get (MnRelay *relay);
void     mn_relay_string_put (MnRelay *relay, GString *s);
guint8  *mn_relay_buffer_get (MnRelay *relay);
void     mn_relay_buffer_put (MnRelay *relay, guint8 *buffer);
void     mn_relay_observe_latency (MnRelay *relay, gdouble seconds);

G_END_DECLS
