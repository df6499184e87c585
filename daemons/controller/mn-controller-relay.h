/* mn-controller-relay.h: talking HTTP to the relay's admin API and to apps
 * (readiness probes).  All asynchronous on the main context. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _MnControllerRelay MnControllerRelay;

/* ok: the request succeeded (2xx); message: why not; body: parsed JSON or NULL. */
typedef void (*MnHttpDone) (gboolean ok, const gchar *message, JsonNode *body,
                            gpointer user_data);

/* @url may be NULL or "": no relay; every call then succeeds at once. */
MnControllerRelay *mn_controller_relay_new (const gchar *url, const gchar *secret);
void               mn_controller_relay_free (MnControllerRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnControllerRelay, mn_controller_relay_free)
gboolean           mn_controller_relay_enabled (MnControllerRelay *relay);

void mn_controller_relay_put_route (MnControllerRelay *relay, const gchar *id,
                                    const gchar *upstream, const gchar *owner,
                                    const gchar *token, gint64 expires,
                                    MnHttpDone done, gpointer user_data);
void mn_controller_relay_delete_route (MnControllerRelay *relay, const gchar *id,
                                       MnHttpDone done, gpointer user_data);
/* Logins (mn-controller-logins.h): one (PUT /logins/<id>), a logout
 * (DELETE /logins/<id>; 404 counts as done), the whole live set (PUT
 * /logins, @array of {"id", "user", "expires"}). */
void mn_controller_relay_put_login (MnControllerRelay *relay, const gchar *id,
                                    const gchar *user, gint64 expires,
                                    MnHttpDone done, gpointer user_data);
void mn_controller_relay_delete_login (MnControllerRelay *relay, const gchar *id,
                                       MnHttpDone done, gpointer user_data);
void mn_controller_relay_put_logins (MnControllerRelay *relay, JsonArray *array,
                                     MnHttpDone done, gpointer user_data);

/* GET /routes; body is the relay's JSON. */
void mn_controller_relay_list_routes (MnControllerRelay *relay,
                                      MnHttpDone done, gpointer user_data);

/* GET @url with @token in MN_AUTH_APP_TOKEN_HEADER; ok when it answers 2xx/3xx. */
gboolean mn_controller_port_refuses (const gchar *host, guint port);
void mn_controller_probe (MnControllerRelay *relay, const gchar *url, const gchar *token,
                          MnHttpDone done, gpointer user_data);

/* Startup checks (mn-controller-relay-check.c).  @url must be empty or an
 * http(s)://HOST:PORT URL (an error naming [relay] url); the reachability
 * check asks the relay's admin API (GET /routes) for a few seconds and logs
 * a warning naming the key if it never answers.  @relay must outlive it
 * (the manager's). */
gboolean mn_controller_relay_check_url (const gchar *url, GError **error);
void     mn_controller_relay_check_reachable (MnControllerRelay *relay, const gchar *url);

/* The secret in @path: must exist with mode & 077 == 0. */
gchar *mn_controller_read_secret (const gchar *path, GError **error);

G_END_DECLS
