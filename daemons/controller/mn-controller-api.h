/* mn-controller-api.h: the JSON API (libsoup 3 server, json-glib).
 *
 *   POST   /api/v1/login            {"user","password"} -> cookie + csrf_token
 *   POST   /api/v1/logout
 *   GET    /api/v1/me
 *   GET    /api/v1/apps
 *   GET    /api/v1/kernels          own Jupyter kernels (minna-kernel list, as the user)
 *   POST   /api/v1/sessions         launch (policy admission)
 *   GET    /api/v1/sessions         own (all for admins; ?all=1)
 *   GET    /api/v1/sessions/<id>
 *   DELETE /api/v1/sessions/<id>
 *   GET    /api/v1/routes           bearer secret (the relay)
 *   GET    /api/v1/queue
 *   GET    /api/v1/usage?from=&to=
 *   GET    /metrics                 Prometheus text (an admin's login, or the
 *                                    bearer of [server] metrics_secret_file)
 *
 * State-changing requests need the X-CSRF-Token from login and are refused
 * when an Origin header names another origin. */
#pragma once

#include <glib.h>
#include "mn-auth-cookie.h"
#include "mn-controller-manager.h"

G_BEGIN_DECLS

typedef struct _MnControllerApi MnControllerApi;

/* Takes @key; @relay_secret may be NULL (then /api/v1/routes is refused). */
MnControllerApi *mn_controller_api_new (const MnControllerConfig *config,
                                        MnControllerManager      *manager,
                                        MnAuthKey                *key,
                                        const gchar              *relay_secret);
void             mn_controller_api_free (MnControllerApi *api);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnControllerApi, mn_controller_api_free)

/* GET /metrics answers an admin's login, and "Authorization: Bearer
 * @secret" when one is set ([server] metrics_secret_file). */
void mn_controller_api_set_metrics_secret (MnControllerApi *api, const gchar *secret);

/* Port 0: any; the bound port is returned in @bound. */
gboolean mn_controller_api_listen (MnControllerApi *api, const gchar *address, guint port,
                                   guint *bound, GError **error);

G_END_DECLS
