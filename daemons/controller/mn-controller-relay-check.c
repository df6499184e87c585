/* mn-controller-relay-check.c: the controller's startup checks of [relay] url.
 *
 * A relay the controller cannot reach leaves every launch "starting" (its
 * route is never registered), so an admin learns of it at start, with the
 * key to fix, instead of from each launch's "bad relay URL". */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-relay.h"

/* Attempts before the warning: the relay may be starting at the same moment
 * (both units at boot), so a refusal in the first seconds is not news. */
#define RELAY_CHECK_TRIES 6
#define RELAY_CHECK_INTERVAL_S 2

gboolean
mn_controller_relay_check_url (const gchar *url, GError **error)
{
  g_autoptr(GUri) uri = NULL;
  const gchar *scheme;

  if (url == NULL || url[0] == '\0')
    return TRUE;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[relay] url: '%s' is not an http://HOST:PORT URL; the relay's admin API must "
                   "listen on TCP for the controller to reach it (relay.conf admin_listen, e.g. "
                   "127.0.0.1:8444, and url = http://127.0.0.1:8444 here)", url);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  MnControllerRelay *relay;
  gchar *url;
  guint tries;
} Check;

static void check_once (Check *c);

static gboolean
check_again (gpointer data)
{
  check_once (data);
  return G_SOURCE_REMOVE;
}

static void
on_checked (gboolean ok, const gchar *message, JsonNode *body, gpointer user_data)
{
  Check *c = user_data;

  if (ok)
    {
      g_message ("[relay] url %s: the relay's admin API answers", c->url);
      g_free (c->url);
      g_free (c);
      return;
    }
  if (++c->tries < RELAY_CHECK_TRIES)
    {
      g_timeout_add_seconds (RELAY_CHECK_INTERVAL_S, check_again, c);
      return;
    }
  g_warning ("[relay] url %s: the relay's admin API does not answer (%s) after %u s; "
             "launches stay 'starting' until it does: check [relay] url and secret_file here "
             "against admin_listen and admin_secret_file in the relay's configuration",
             c->url, message ? message : "no answer",
             RELAY_CHECK_TRIES * RELAY_CHECK_INTERVAL_S);
  g_free (c->url);
  g_free (c);
}

static void
check_once (Check *c)
{
  mn_controller_relay_list_routes (c->relay, on_checked, c);
}

void
mn_controller_relay_check_reachable (MnControllerRelay *relay, const gchar *url)
{
  Check *c;

  if (!mn_controller_relay_enabled (relay))
    return;
  c = g_new0 (Check, 1);
  c->relay = relay;
  c->url = g_strdup (url);
  check_once (c);
}
