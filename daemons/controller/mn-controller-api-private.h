/* mn-controller-api-private.h: what the files of the portal's API share
 * (mn-controller-api*.c, one file per group of routes, dispatched by
 * mn-controller-api.c) and what they lend the files that add routes to its
 * server (mn-controller-admin.c): the answers, the login checks and the
 * session JSON, so that there is one of each. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "mn-controller-api.h"
#include "mn-controller-auth.h"
#include "mn-controller-form.h"
#include "mn-controller-kernels.h"
#include "mn-controller-logins.h"

G_BEGIN_DECLS

typedef struct _MnApiWaits MnApiWaits;

/* a request body over this is refused (413) before it is buffered */
#define MAX_BODY (64 * 1024)

struct _MnControllerApi {
  MnControllerConfig  *config;   /* borrowed: lives as long as main */
  MnControllerManager *manager;
  MnAuthKey           *key;
  gchar               *relay_secret;
  SoupServer          *server;
  MnLoginThrottle     *throttle;       /* per user */
  MnLoginThrottle     *addr_throttle;  /* per client address */
  MnControllerKernels *kernels;
  MnFormSources       *forms;    /* options of app form fields (site commands, kernels) */
  MnControllerRelay   *relay;    /* for the logins; the manager has its own */
  MnControllerLogins  *logins;
  MnApiWaits          *waits;    /* session lists held until they change */
  gchar               *relay_proof;    /* what the relay shows (X-Minna-Relay-Proof) */
  gchar               *metrics_bearer; /* "Bearer SECRET" for /metrics, or NULL */
  guint64              logins_ok, logins_failed, logins_throttled, requests, bodies_refused;
};

/* mn-controller-api.c: answers, login checks, request bodies as JSON, dispatch */
void mn_api_reply_json (SoupServerMessage *msg, guint status, JsonNode *root);
void mn_api_reply_errorf (SoupServerMessage *msg, guint status, const gchar *field,
                          const gchar *fmt, ...) G_GNUC_PRINTF (4, 5);
void mn_api_reply_refusal (SoupServerMessage *msg, guint status, const gchar *field,
                           const gchar *reason, const gchar *text);
guint mn_api_error_status (const GError *error);
const gchar *mn_api_cookie_header (SoupServerMessage *msg);
gchar *mn_api_csrf_for (MnControllerApi *api, const gchar *login_id);
gchar *mn_api_require_user (MnControllerApi *api, SoupServerMessage *msg, gchar **login_id);
gboolean mn_api_from_relay (MnControllerApi *api, SoupServerMessage *msg);
gboolean mn_api_origin_ok (MnControllerApi *api, SoupServerMessage *msg);
gchar *mn_api_require_state_change (MnControllerApi *api, SoupServerMessage *msg, gchar **login_id);
JsonObject *mn_api_parse_body (SoupServerMessage *msg, JsonParser *parser);
gboolean mn_api_only_fields (SoupServerMessage *msg, JsonObject *o, const gchar *const *allowed);
const gchar *mn_api_get_string (SoupServerMessage *msg, JsonObject *o, const gchar *field, gboolean *bad);

/* mn-controller-api-login.c: POST /api/v1/login, /logout, GET /me */
void mn_api_handle_login (MnControllerApi *api, SoupServerMessage *msg);
void mn_api_handle_logout (MnControllerApi *api, SoupServerMessage *msg);
void mn_api_handle_me (MnControllerApi *api, SoupServerMessage *msg);

/* mn-controller-api-apps.c: GET /api/v1/apps and an app's form */
void mn_api_handle_apps (MnControllerApi *api, SoupServerMessage *msg);
JsonObject *mn_api_last_values (JsonParser *parser, const gchar *saved, const gchar *app_id);
void mn_api_handle_app_form (MnControllerApi *api, SoupServerMessage *msg, const gchar *rest);

/* mn-controller-api-sessions.c: launching, listing, ending, hiding, extending sessions */
void mn_api_add_session (MnControllerApi *api, JsonBuilder *b, const MnSession *s, gboolean events);
void mn_api_handle_launch (MnControllerApi *api, SoupServerMessage *msg);
void mn_api_handle_list (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query);
/* {"sessions": [...], "changes": TOKEN}: @user's sessions (@all: everyone's) */
void mn_api_reply_list (MnControllerApi *api, SoupServerMessage *msg, const gchar *user, gboolean all);
void mn_api_handle_session (MnControllerApi *api, SoupServerMessage *msg, const gchar *method, const gchar *id);
void mn_api_handle_hide (MnControllerApi *api, SoupServerMessage *msg, const gchar *id);
void mn_api_handle_extend (MnControllerApi *api, SoupServerMessage *msg, const gchar *id);

/* mn-controller-api-wait.c: session lists held until they change (?wait=&since=) */
MnApiWaits *mn_api_waits_new (MnControllerApi *api);
void        mn_api_waits_free (MnApiWaits *waits);
gchar      *mn_api_waits_token (MnApiWaits *waits, const gchar *user, gboolean all);
/* TRUE: the request is held, or refused (answered); FALSE: answer it now */
gboolean    mn_api_waits_hold (MnApiWaits *waits, SoupServerMessage *msg, GHashTable *query,
                               const gchar *user, gboolean all);
guint       mn_api_waits_n_held (MnApiWaits *waits);

/* mn-controller-api-status.c: routes for the relay, the queue, usage, faults, /metrics */
void mn_api_handle_faults (MnControllerApi *api, SoupServerMessage *msg);
void mn_api_handle_routes (MnControllerApi *api, SoupServerMessage *msg);
void mn_api_handle_queue (MnControllerApi *api, SoupServerMessage *msg);
void mn_api_handle_usage (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query);
void mn_api_handle_metrics (MnControllerApi *api, SoupServerMessage *msg);
gboolean mn_api_metrics_allowed (MnControllerApi *api, SoupServerMessage *msg);

/* mn-controller-api-pages.c: the portal's pages and the user's kernels */
void mn_api_page_headers (SoupServerMessage *msg);
gboolean mn_api_serve_page (MnControllerApi *api, SoupServerMessage *msg, const gchar *method, const gchar *path);
void mn_api_handle_kernels (MnControllerApi *api, SoupServerMessage *msg);

/* mn-controller-api-body.c: request bodies checked as they come */
void mn_api_body_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data);

/* mn-controller-api.c: for the admin API (mn-controller-admin.c) */
MnControllerManager *mn_api_get_manager (MnControllerApi *api);
const MnControllerConfig *mn_api_get_config (MnControllerApi *api);
void mn_api_reply_error (SoupServerMessage *msg, guint status, const gchar *field, const gchar *text);
gchar *mn_api_login_user (MnControllerApi *api, SoupServerMessage *msg);
/* interactive.q by node and logical node (mn-controller-occupancy.c):
 * the members queue, running, waiting and nodes of the object @b is in.
 * @admin_detail adds who is placed where (user names: admins only), the
 * cores asked, the nodes' memory and waiting_sessions. */
void   mn_api_add_occupancy (JsonBuilder *b, MnControllerManager *manager, gboolean admin_detail);

G_END_DECLS
