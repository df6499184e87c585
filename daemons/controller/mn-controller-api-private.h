/* mn-controller-api-private.h: what mn-controller-api.c lends the files
 * that add routes to its server (mn-controller-admin.c): its answers, its
 * login checks and its session JSON, so that there is one of each. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "mn-controller-api.h"

G_BEGIN_DECLS

MnControllerManager      *mn_api_get_manager (MnControllerApi *api);
const MnControllerConfig *mn_api_get_config (MnControllerApi *api);
void   mn_api_reply_json (SoupServerMessage *msg, guint status, JsonNode *root);
/* {"error": @text, "field": @field (when not NULL)} */
void   mn_api_reply_error (SoupServerMessage *msg, guint status, const gchar *field,
                           const gchar *text);
/* The logged-in user, or NULL with a 401 sent. */
gchar *mn_api_require_user (MnControllerApi *api, SoupServerMessage *msg);
/* For POST/DELETE: Origin and the login's CSRF token too; NULL with 401/403 sent. */
gchar *mn_api_require_state_change (MnControllerApi *api, SoupServerMessage *msg);
/* The logged-in user or NULL; sends nothing. */
gchar *mn_api_login_user (MnControllerApi *api, SoupServerMessage *msg);
/* A session as GET /api/v1/sessions lists it. */
void   mn_api_add_session (MnControllerApi *api, JsonBuilder *b, const MnSession *s);
/* interactive.q by node and logical node (mn-controller-occupancy.c):
 * the members queue, running, waiting and nodes of the object @b is in.
 * @admin_detail adds who is placed where (user names: admins only), the
 * cores asked, the nodes' memory and waiting_sessions. */
void   mn_api_add_occupancy (JsonBuilder *b, MnControllerManager *manager, gboolean admin_detail);
/* The headers of every page answer (CSP, nosniff, ...). */
void   mn_api_page_headers (SoupServerMessage *msg);

G_END_DECLS
