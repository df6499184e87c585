/* mn-relay-config.c: the settings table and its parsers. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-config.h"
#include "mn-relay-http.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK (mn-relay-error-quark, mn_relay_error)

typedef enum { KEY_STRING, KEY_INT } KeyType;

typedef struct {
  const gchar *name;
  KeyType      type;
  gsize        offset;
  const gchar *def;
  gint64       min, max;
  const gchar *arg;
  const gchar *help;
} KeySpec;

#define S(field) G_STRUCT_OFFSET (MnRelayConfig, field)

static const KeySpec keys[] = {
  { "listen_https", KEY_STRING, S (listen_https), "0.0.0.0:8443", 0, 0, NULL,
    "HTTPS listener, HOST:PORT with an IP address; empty turns it off" },
  { "listen_http", KEY_STRING, S (listen_http), "", 0, 0, NULL,
    "plain-HTTP listener, loopback only (tests, or behind a site's TLS terminator); empty = off" },
  { "admin_listen", KEY_STRING, S (admin_listen), "127.0.0.1:8444", 0, 0, NULL,
    "admin API listener: loopback HOST:PORT or unix:/path/to/socket" },
  { "admin_secret_file", KEY_STRING, S (admin_secret_file), "/etc/minna/admin-secret", 0, 0, NULL,
    "file holding the admin API's bearer secret (must not be readable by others)" },
  { "cookie_key_file", KEY_STRING, S (cookie_key_file), "/etc/minna/cookie-key", 0, 0, NULL,
    "file holding the login cookie's HMAC key, shared with the controller (mode 0600)" },
  { "cert_file", KEY_STRING, S (cert_file), "", 0, 0, NULL,
    "TLS certificate chain (PEM); empty = self-signed one in state_dir" },
  { "key_file", KEY_STRING, S (key_file), "", 0, 0, NULL,
    "TLS private key (PEM); empty = self-signed one in state_dir" },
  { "state_dir", KEY_STRING, S (state_dir), "/var/lib/minna-relay", 0, 0, NULL,
    "directory for the generated self-signed certificate" },
  { "controller_url", KEY_STRING, S (controller_url), "", 0, 0, NULL,
    "controller, http://HOST:PORT: portal pages are proxied there and routes loaded from it at start" },
  { "login_path", KEY_STRING, S (login_path), "/login", 0, 0, NULL,
    "portal login page that users without a valid cookie are sent to (?next=... appended)" },
  { "public_origin", KEY_STRING, S (public_origin), "", 0, 0, NULL,
    "the site's origin as browsers see it, scheme://host[:port]: state-changing requests and "
    "WebSockets to apps must come from it; empty = the request's Host with the listener's "
    "scheme (set it behind a TLS terminator)" },
  { "access_log", KEY_STRING, S (access_log), "-", 0, 0, NULL,
    "access log file; '-' is standard error, empty turns it off" },
  { "max_header_bytes", KEY_INT, S (max_header_bytes), "16384", 1024, 1048576, "BYTES",
    "largest request or response head accepted (431/502 beyond)" },
  { "max_connections", KEY_INT, S (max_connections), "20000", 1, 1000000, "N",
    "client connections open at once; more get 503 and are closed" },
  { "read_timeout", KEY_INT, S (read_timeout), "30", 1, 86400, "SECONDS",
    "a request head, or progress on a body, must arrive within this time" },
  { "idle_timeout", KEY_INT, S (idle_timeout), "75", 1, 86400, "SECONDS",
    "keep-alive connections idle this long are closed" },
  { "websocket_idle_timeout", KEY_INT, S (websocket_idle_timeout), "86400", 0, 31536000, "SECONDS",
    "WebSockets without traffic this long are closed; 0 = never" },
  { "upstream_connect_timeout", KEY_INT, S (upstream_connect_timeout), "5", 1, 600, "SECONDS",
    "connecting to an app or the controller; past it the client gets 502" },
  { "upstream_timeout", KEY_INT, S (upstream_timeout), "300", 1, 86400, "SECONDS",
    "an upstream must start its answer, or make progress on a body, within this time" },
  { "buffer_size", KEY_INT, S (buffer_size), "32768", 4096, 4194304, "BYTES",
    "relay buffer per active transfer direction (idle connections hold none)" },
  { "upstream_keepalive", KEY_INT, S (upstream_keepalive), "64", 0, 10000, "N",
    "idle keep-alive connections kept per upstream" },
};

#undef S

static gchar **
str_slot (MnRelayConfig *c, const KeySpec *k)
{
  return (gchar **) ((guint8 *) c + k->offset);
}

static gint64 *
int_slot (MnRelayConfig *c, const KeySpec *k)
{
  return (gint64 *) ((guint8 *) c + k->offset);
}

static const KeySpec *
find_key (const gchar *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_str_equal (keys[i].name, name))
      return &keys[i];
  return NULL;
}

static gboolean
set_value (MnRelayConfig *c, const KeySpec *k, const gchar *value, GError **error)
{
  if (k->type == KEY_STRING)
    {
      gchar **slot = str_slot (c, k);
      g_free (*slot);
      *slot = g_strstrip (g_strdup (value));
      return TRUE;
    }
  g_autofree gchar *v = g_strstrip (g_strdup (value));
  gint64 n = 0;
  g_autoptr(GError) local = NULL;
  if (!g_ascii_string_to_signed (v, 10, k->min, k->max, &n, &local))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "key %s: '%s' is not an integer in %" G_GINT64_FORMAT
                   "..%" G_GINT64_FORMAT, k->name, v, k->min, k->max);
      return FALSE;
    }
  *int_slot (c, k) = n;
  return TRUE;
}

MnRelayConfig *
mn_relay_config_new (void)
{
  MnRelayConfig *c = g_new0 (MnRelayConfig, 1);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      gboolean ok = set_value (c, &keys[i], keys[i].def, NULL);
      g_assert (ok);
    }
  return c;
}

MnRelayConfig *
mn_relay_config_copy (const MnRelayConfig *config)
{
  MnRelayConfig *c = g_memdup2 (config, sizeof *c);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].type == KEY_STRING)
      *str_slot (c, &keys[i]) = g_strdup (*str_slot ((MnRelayConfig *) config, &keys[i]));
  return c;
}

void
mn_relay_config_free (MnRelayConfig *config)
{
  if (config == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].type == KEY_STRING)
      g_free (*str_slot (config, &keys[i]));
  g_free (config);
}

gboolean
mn_relay_config_set (MnRelayConfig *config, const gchar *key, const gchar *value,
                     GError **error)
{
  const KeySpec *k = find_key (key);
  if (k == NULL)
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "unknown key '%s'", key);
      return FALSE;
    }
  return set_value (config, k, value, error);
}

/* GKeyFile does not keep line numbers, so find the key's line ourselves for
 * the error message. */
static gint
line_of_key (const gchar *contents, const gchar *key)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  for (gint i = 0; lines[i] != NULL; i++)
    {
      const gchar *l = lines[i];
      while (*l == ' ' || *l == '\t')
        l++;
      gsize n = strlen (key);
      if (strncmp (l, key, n) == 0 && (l[n] == '=' || l[n] == ' ' || l[n] == '\t'))
        return i + 1;
    }
  return 0;
}

gboolean
mn_relay_config_load_file (MnRelayConfig *config, const gchar *path, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_autofree gchar *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, &local))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "%s: %s", path, local->message);
      return FALSE;
    }
  if (!g_key_file_load_from_data (kf, contents, length, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                   "%s: %s", path, local->message);
      return FALSE;
    }
  g_auto(GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (gsize g = 0; groups[g] != NULL; g++)
    if (!g_str_equal (groups[g], "relay"))
      {
        g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                     "%s: unknown group [%s] (only [relay])", path, groups[g]);
        return FALSE;
      }
  if (!g_key_file_has_group (kf, "relay"))
    return TRUE;
  g_auto(GStrv) names = g_key_file_get_keys (kf, "relay", NULL, NULL);
  for (gsize i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree gchar *value = g_key_file_get_string (kf, "relay", names[i], &local);
      gint line = line_of_key (contents, names[i]);
      if (value == NULL)
        {
          g_set_error (error, MN_RELAY_ERROR, MN_RELAY_ERROR_INVALID_CONFIG,
                       "%s:%d: key %s: %s", path, line, names[i], local->message);
          return FALSE;
        }
      if (!mn_relay_config_set (config, names[i], value, error))
        {
          g_prefix_error (error, "%s:%d: ", path, line);
          return FALSE;
        }
    }
  return TRUE;
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
      if (keys[i].type == KEY_INT)
        g_string_append_printf (s, ", %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
                                keys[i].min, keys[i].max);
      g_string_append (s, ")\n");
    }
  return g_string_free (s, FALSE);
}
