/* mn-controller-admin.h: the admin API and the portal's error pages.
 *
 * Every call needs an administrator's login ([server] admins): 401 without
 * a login, 403 for anyone else.
 *
 *   GET  /api/v1/admin/sessions?user=&state=&node=&logical=&limit=&offset=
 *        every session, newest first: {"sessions", "total", "limit",
 *        "offset", "users"}; state is a comma list of states or "live"
 *   POST /api/v1/admin/sessions/<id>/stop      (X-CSRF-Token)
 *        stops anyone's session: end_reason "admin", the reason and the log
 *        name the administrator; 409 when it has already ended
 *   GET  /api/v1/admin/sessions/<id>/output?bytes=
 *        the tail (default 64 KiB, at most 1 MiB) of the job's output.log,
 *        secrets hidden (mn-controller-output.h)
 *   GET  /api/v1/admin/occupancy
 *        interactive.q by logical node, from the policy's placement, with
 *        the sessions on each
 *   GET  /api/v1/admin/accounting?from=YYYY-MM&to=YYYY-MM&by=user|group&format=json|csv
 *        node-hours per month (mn-controller-accounting.h); csv is a download
 *
 * The portal's 403 and 404 pages (www/403.html, www/404.html) go to browsers
 * (GET or HEAD asking for text/html); programs get JSON. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>
#include "mn-controller-api.h"

G_BEGIN_DECLS

/* @path is what follows /api/v1/admin/. */
void     mn_controller_admin_dispatch (MnControllerApi *api, SoupServerMessage *msg,
                                       const gchar *method, const gchar *path,
                                       GHashTable *query);

/* Sends the styled page for @status (403 or 404) if the request is a
 * browser's page load; FALSE (nothing sent) otherwise. */
gboolean mn_controller_admin_error_page (MnControllerApi *api, SoupServerMessage *msg,
                                         const gchar *method, guint status);

/* GET /admin by a logged-in user who is not an administrator: sends the 403
 * page, TRUE.  Anyone else gets admin.html (whose script sends a visitor
 * without a login to the login page): FALSE. */
gboolean mn_controller_admin_page_refused (MnControllerApi *api, SoupServerMessage *msg,
                                           const gchar *method);

G_END_DECLS
