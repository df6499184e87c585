/* mn-relay.h: minna-relay, the one public entry point: portal pages are
 * proxied to the controller, /s/<session-id>/... to the session's app, for
 * the session's owner only. */
#pragma once

#include <glib.h>

#include "mn-relay-config.h"
#include "mn-relay-route.h"

G_BEGIN_DECLS

typedef struct _MnRelay MnRelay;

/* Reads the secrets (refusing files readable by others) and the TLS
 * certificate (creating a self-signed one when none is configured).
 * @config_path (may be NULL) is re-read by mn_relay_reload(). */
MnRelay *mn_relay_new (const MnRelayConfig *config, const gchar *config_path,
                       GError **error);
/* Opens the listeners in the thread-default main context and loads the
 * routes from the controller, when one is configured. */
gboolean mn_relay_start (MnRelay *relay, GError **error);
/* SIGHUP: the config file (limits, timeouts, secrets, access log,
 * controller) and the certificate again; listeners stay as they are. */
gboolean mn_relay_reload (MnRelay *relay, GError **error);
void     mn_relay_free (MnRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnRelay, mn_relay_free)

/* Bound ports (useful with port 0): "https", "http" or "admin". */
guint16        mn_relay_get_port (MnRelay *relay, const gchar *listener);
MnRelayRoutes *mn_relay_get_routes (MnRelay *relay);
/* Prometheus text exposition format. */
gchar         *mn_relay_metrics_text (MnRelay *relay);
guint          mn_relay_get_n_connections (MnRelay *relay);

/* A login of @user for @lifetime seconds, registered with the running
 * relay through the admin API named in @config (admin_listen,
 * admin_secret_file); returns its cookie value (mn-relay-logins.c). */
gchar *mn_relay_mint_cookie (const MnRelayConfig *config, const gchar *user,
                             gint64 lifetime, GError **error);
/* The live logins (the controller keeps them; tests put their own). */
struct _MnAuthLogins *mn_relay_get_logins (MnRelay *relay);

G_END_DECLS
