/* mn-relay-config.c: the settings table; libminna-config (config/) parses,
 * checks and documents it. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-config.h"
#include "mn-relay-http.h"

#include <gio/gio.h>
#include <string.h>

#include "mn-config.h"

G_DEFINE_QUARK (mn-relay-error-quark, mn_relay_error)

#define S(field) .offset = G_STRUCT_OFFSET (MnRelayConfig, field)
#define KEY_STR(name_, field, def_, help_) \
  { .group = "relay", .name = name_, .type = MN_CONFIG_STRING, S (field), .def = def_, \
    .help = help_ }
#define KEY_PATH(name_, field, def_, help_) \
  { .group = "relay", .name = name_, .type = MN_CONFIG_PATH, S (field), .def = def_, \
    .help = help_ }
#define KEY_INT(name_, field, def_, min_, max_, arg_, help_) \
  { .group = "relay", .name = name_, .type = MN_CONFIG_INT, S (field), .def = def_, \
    .min = min_, .max = max_, .arg = arg_, .help = help_ }

static const MnConfigKey keys[] = {
  KEY_STR ("listen_https", listen_https, "0.0.0.0:8443",
    "HTTPS listener, HOST:PORT with an IP address; empty turns it off"),
  KEY_STR ("listen_http", listen_http, "",
    "plain-HTTP listener, loopback only (tests, or behind a site's TLS terminator); empty = off"),
  KEY_STR ("admin_listen", admin_listen, "127.0.0.1:8444",
    "admin API listener: loopback HOST:PORT or unix:/path/to/socket"),
  KEY_PATH ("admin_secret_file", admin_secret_file, "/etc/minna/admin-secret",
    "file holding the admin API's bearer secret (must not be readable by others)"),
  KEY_PATH ("cookie_key_file", cookie_key_file, "/etc/minna/cookie-key",
    "file holding the login cookie's HMAC key, shared with the controller (mode 0600)"),
  KEY_PATH ("cert_file", cert_file, "",
    "TLS certificate chain (PEM); empty = self-signed one in state_dir"),
  KEY_PATH ("key_file", key_file, "",
    "TLS private key (PEM); empty = self-signed one in state_dir"),
  KEY_PATH ("state_dir", state_dir, "/var/lib/minna-relay",
    "directory for the generated self-signed certificate"),
  KEY_STR ("controller_url", controller_url, "",
    "controller, http://HOST:PORT: portal pages are proxied there and routes loaded from it at start"),
  KEY_STR ("login_path", login_path, "/login",
    "portal login page that users without a valid cookie are sent to (?next=... appended)"),
  KEY_STR ("public_origin", public_origin, "",
    "the site's origin as browsers see it, scheme://host[:port]: state-changing requests and "
    "WebSockets to apps must come from it; empty = the request's Host with the listener's "
    "scheme (set it behind a TLS terminator)"),
  KEY_STR ("access_log", access_log, "-",
    "access log file; '-' is standard error, empty turns it off"),
  KEY_INT ("max_header_bytes", max_header_bytes, "16384", 1024, 1048576, "BYTES",
    "largest request or response head accepted (431/502 beyond)"),
  KEY_INT ("max_connections", max_connections, "20000", 1, 1000000, "N",
    "client connections open at once; more get 503 and are closed"),
  KEY_INT ("max_connections_per_address", max_connections_per_address, "1024", 0, 1000000, "N",
    "client connections open at once from one address (IPv6: one /64); more are refused "
    "(429 on plain HTTP) so that one client cannot take every slot; 0 = no limit (behind a "
    "TLS terminator that all clients come through)"),
  KEY_INT ("read_timeout", read_timeout, "30", 1, 86400, "SECONDS",
    "a whole request head (with the TLS handshake before the first) must arrive within this "
    "time of its first byte, however slowly it trickles; a body may not pause longer"),
  KEY_INT ("body_min_rate", body_min_rate, "1024", 0, 1073741824, "BYTES",
    "a request body must average this many bytes/s (after read_timeout of grace; time the "
    "relay waits on the upstream does not count); slower ones get 408; 0 = off"),
  KEY_INT ("idle_timeout", idle_timeout, "75", 1, 86400, "SECONDS",
    "keep-alive connections idle this long are closed"),
  KEY_INT ("websocket_idle_timeout", websocket_idle_timeout, "86400", 0, 31536000, "SECONDS",
    "WebSockets without traffic this long are closed; 0 = never"),
  KEY_INT ("upstream_connect_timeout", upstream_connect_timeout, "5", 1, 600, "SECONDS",
    "connecting to an app or the controller; past it the client gets 502"),
  KEY_INT ("upstream_timeout", upstream_timeout, "300", 1, 86400, "SECONDS",
    "an upstream must start its answer, or make progress on a body, within this time"),
  KEY_INT ("buffer_size", buffer_size, "32768", 4096, 4194304, "BYTES",
    "relay buffer per active transfer direction (idle connections hold none)"),
  KEY_INT ("upstream_keepalive", upstream_keepalive, "64", 0, 10000, "N",
    "idle keep-alive connections kept per upstream"),
};

#undef S
#undef KEY_STR
#undef KEY_PATH
#undef KEY_INT

static const MnConfigTable table = {
  keys, G_N_ELEMENTS (keys), MN_CONFIG_TABLE_ONE_GROUP, mn_relay_error_quark,
  { [0 ... MN_CONFIG_N_ERRORS - 1] = MN_RELAY_ERROR_INVALID_CONFIG },
};

MnRelayConfig *
mn_relay_config_new (void)
{
  return mn_config_new (&table, sizeof (MnRelayConfig));
}

MnRelayConfig *
mn_relay_config_copy (const MnRelayConfig *config)
{
  return mn_config_dup (&table, config, sizeof *config);
}

void
mn_relay_config_free (MnRelayConfig *config)
{
  mn_config_free (&table, config);
}

gboolean
mn_relay_config_set (MnRelayConfig *config, const gchar *key, const gchar *value,
                     GError **error)
{
  return mn_config_set (&table, config, NULL, key, value, error);
}

gboolean
mn_relay_config_load_file (MnRelayConfig *config, const gchar *path, GError **error)
{
  g_autofree gchar *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, &contents, &length, &local))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "%s: %s", path, local->message);
      return FALSE;
    }
  return mn_config_load_data (&table, config, contents, (gssize) length, path, NULL, error);
}

static gboolean
split_hostport (const gchar *text, gchar **host, guint64 *port)
{
  const gchar *colon;
  g_autofree gchar *h = NULL;

  if (text[0] == '[')
    {
      const gchar *close = strchr (text, ']');
      if (close == NULL || close[1] != ':')
        return FALSE;
      h = g_strndup (text + 1, (gsize) (close - text - 1));
      colon = close + 1;
    }
  else
    {
      colon = strrchr (text, ':');
      if (colon == NULL || strchr (text, ':') != colon)
        return FALSE;
      h = g_strndup (text, (gsize) (colon - text));
    }
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, port, NULL))
    return FALSE;
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string (h);
  if (addr == NULL)
    return FALSE;
  *host = g_steal_pointer (&h);
  return TRUE;
}

gboolean
mn_relay_parse_hostport (const gchar *text, gchar **host, guint16 *port, GError **error)
{
  g_autofree gchar *h = NULL;
  guint64 p = 0;

  if (!split_hostport (text, &h, &p))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "'%s' is not IP:PORT", text);
      return FALSE;
    }
  if (host != NULL)
    *host = g_steal_pointer (&h);
  if (port != NULL)
    *port = (guint16) p;
  return TRUE;
}

static gboolean
check_listen (const gchar *key, const gchar *value, gboolean loopback_only,
              gboolean unix_ok, GError **error)
{
  if (value[0] == '\0')
    return TRUE;
  if (unix_ok && g_str_has_prefix (value, "unix:"))
    {
      if (value[5] != '/')
        {
          g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                       "key %s: unix socket path must be absolute", key);
          return FALSE;
        }
      return TRUE;
    }
  g_autofree gchar *host = NULL;
  if (!mn_relay_parse_hostport (value, &host, NULL, error))
    {
      g_prefix_error (error, "key %s: ", key);
      return FALSE;
    }
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string (host);
  if (loopback_only && !g_inet_address_get_is_loopback (addr))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "key %s: %s is not a loopback address", key, host);
      return FALSE;
    }
  return TRUE;
}

gboolean
mn_relay_config_validate (const MnRelayConfig *c, GError **error)
{
  if (!check_listen ("listen_https", c->listen_https, FALSE, FALSE, error) ||
      !check_listen ("listen_http", c->listen_http, TRUE, FALSE, error) ||
      !check_listen ("admin_listen", c->admin_listen, TRUE, TRUE, error))
    return FALSE;
  if (c->listen_https[0] == '\0' && c->listen_http[0] == '\0')
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "keys listen_https and listen_http: both are empty, nothing to serve");
      return FALSE;
    }
  if (c->admin_listen[0] == '\0' || c->admin_secret_file[0] == '\0' ||
      c->cookie_key_file[0] == '\0')
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "keys admin_listen, admin_secret_file and cookie_key_file must be set");
      return FALSE;
    }
  if ((c->cert_file[0] == '\0') != (c->key_file[0] == '\0'))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "keys cert_file and key_file: set both or neither");
      return FALSE;
    }
  if (c->controller_url[0] != '\0')
    {
      if (!g_str_has_prefix (c->controller_url, "http://") ||
          !mn_relay_parse_hostport (c->controller_url + 7, NULL, NULL, NULL))
        {
          g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                       "key controller_url: '%s' is not http://IP:PORT", c->controller_url);
          return FALSE;
        }
    }
  if (c->public_origin[0] != '\0' &&
      !mn_relay_http_same_origin (c->public_origin, c->public_origin, "", NULL))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "key public_origin: '%s' is not http(s)://HOST[:PORT]", c->public_origin);
      return FALSE;
    }
  if (c->login_path[0] != '/')
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "key login_path: must start with '/'");
      return FALSE;
    }
  return TRUE;
}

const MnRelayConfigKeyInfo *
mn_relay_config_keys (guint *n_keys)
{
  static MnRelayConfigKeyInfo info[G_N_ELEMENTS (keys)];
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      info[i].name = keys[i].name;
      info[i].arg = keys[i].arg;
      info[i].help = keys[i].help;
    }
  *n_keys = G_N_ELEMENTS (keys);
  return info;
}

gchar *
mn_relay_config_describe (void)
{
  GString *s = g_string_new ("Configuration keys (group [relay]; each also --KEY=VALUE, with - for _):\n");
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_string_append_printf (s, "  %-26s %s (default '%s'", keys[i].name, keys[i].help,
                              keys[i].def);
      if (keys[i].type == MN_CONFIG_INT)
        g_string_append_printf (s, ", %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
                                keys[i].min, keys[i].max);
      g_string_append (s, ")\n");
    }
  return g_string_free (s, FALSE);
}
