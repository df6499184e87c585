/* mn-relay-config.h: minna-relay's settings, from one declarative table
 * (name, type, bounds, default, help): built-in defaults < config file
 * (GKeyFile, group [relay]) < command line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_RELAY_ERROR (mn_relay_error_quark ())
GQuark mn_relay_error_quark (void);

typedef enum {
  MN_RELAY_ERROR_INVALID_CONFIG,
  MN_RELAY_ERROR_SECRET_FILE,
  MN_RELAY_ERROR_TLS,
  MN_RELAY_ERROR_LISTEN,
  MN_RELAY_ERROR_INVALID_ROUTE,
  MN_RELAY_ERROR_CONTROLLER,
} MnRelayError;

typedef struct {
  gchar *listen_https;          /* "host:port", "" = off */
  gchar *listen_http;           /* loopback "host:port", "" = off */
  gchar *admin_listen;          /* "host:port" (loopback) or "unix:/path" */
  gchar *admin_secret_file;
  gchar *cookie_key_file;
  gchar *cert_file;
  gchar *key_file;
  gchar *state_dir;
  gchar *controller_url;        /* "http://host:port", "" = none */
  gchar *login_path;
  gchar *public_origin;         /* "scheme://host[:port]", "" = from each request */
  gchar *access_log;            /* "-" stderr, "" off, else a file */
  gint64 max_header_bytes;
  gint64 max_connections;
  gint64 max_connections_per_address;
  gint64 read_timeout;          /* seconds */
  gint64 body_min_rate;         /* bytes/s a request body must average; 0 = off */
  gint64 idle_timeout;
  gint64 websocket_idle_timeout;
  gint64 upstream_connect_timeout;
  gint64 upstream_timeout;
  gint64 buffer_size;
  gint64 upstream_keepalive;
} MnRelayConfig;

MnRelayConfig *mn_relay_config_new (void);   /* built-in defaults */
MnRelayConfig *mn_relay_config_copy (const MnRelayConfig *config);
void           mn_relay_config_free (MnRelayConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnRelayConfig, mn_relay_config_free)

/* Sets @key (a table name) from text; errors name the key. */
gboolean mn_relay_config_set (MnRelayConfig *config, const gchar *key,
                              const gchar *value, GError **error);
/* Reads group [relay] of @path; unknown keys are errors naming file and key. */
gboolean mn_relay_config_load_file (MnRelayConfig *config, const gchar *path,
                                    GError **error);
/* Checks what only makes sense as a whole (listeners, files named). */
gboolean mn_relay_config_validate (const MnRelayConfig *config, GError **error);

/* The table, for --help, the command-line options and the example file. */
typedef struct {
  const gchar *name;
  const gchar *arg;       /* NULL for strings; "SECONDS", "BYTES", "N" */
  const gchar *help;
} MnRelayConfigKeyInfo;
const MnRelayConfigKeyInfo *mn_relay_config_keys (guint *n_keys);
gchar *mn_relay_config_describe (void);  /* the documented keys as text */

/* "host:port" / "[v6]:port" with an IP literal host. */
gboolean mn_relay_parse_hostport (const gchar *text, gchar **host, guint16 *port,
                                  GError **error);

G_END_DECLS
