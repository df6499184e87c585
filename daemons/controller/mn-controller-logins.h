/* mn-controller-logins.h: logins as server-side state (issue 15).
 *
 * A login is a row of the store's `logins` table (id, user, created,
 * expires, revoked, address); the cookie (daemons/common/mn-auth-cookie.h)
 * names it in one canonical spelling.  Both daemons check the row, not just
 * the cookie: the controller in SQLite on every request, the relay in its
 * live set (daemons/common/mn-auth-logins.h), which this module keeps
 * current:
 *
 *   - at the controller's start: the whole live set (PUT /logins);
 *   - each login (PUT /logins/<id>) and logout (DELETE /logins/<id>), one
 *     at a time and in order;
 *   - at the relay's start the relay asks GET /api/v1/routes, whose answer
 *     carries the live set as "logins" (mn_controller_logins_json);
 *   - when a push fails (the relay down or restarting), the queue is
 *     dropped and the whole set is sent again every 2 s until it is taken.
 *
 * So a logout is refused at once by both, and stays refused after either
 * daemon restarts; a login the relay missed fails closed (a new login). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "mn-auth-cookie.h"
#include "mn-controller-relay.h"
#include "mn-controller-store.h"

G_BEGIN_DECLS

typedef struct _MnControllerLogins MnControllerLogins;

/* Called (on the main context) once the relay has taken a change
 * (@relay_knows) or the push failed (then the whole set follows later). */
typedef void (*MnLoginsDone) (gboolean relay_knows, gpointer data);

/* Borrows @store, @key and @relay (NULL: no relay to tell). */
MnControllerLogins *mn_controller_logins_new (MnControllerStore *store, const MnAuthKey *key,
                                              MnControllerRelay *relay);
void                mn_controller_logins_free (MnControllerLogins *logins);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnControllerLogins, mn_controller_logins_free)

/* Sends the whole live set to the relay (the controller's start). */
void     mn_controller_logins_sync (MnControllerLogins *logins);

/* A new login of @user from @address until @now + @lifetime: the row is
 * written and the relay told (@done once it has it: answer the browser
 * then, so that its next request through the relay finds the login);
 * returns the cookie value and the login id. */
gchar   *mn_controller_logins_create (MnControllerLogins *logins, const gchar *user,
                                      const gchar *address, gint64 now, gint64 lifetime,
                                      gchar **id, MnLoginsDone done, gpointer data,
                                      GError **error);

/* The user of the login named by the minna_session cookie in
 * @cookie_header, if that login is live at @now; its id in @id.  NULL with
 * a message for the 401 in @why. */
gchar   *mn_controller_logins_check (MnControllerLogins *logins, const gchar *cookie_header,
                                     gint64 now, gchar **id, gchar **why);

/* Ends login @id: revoked in the store (kept until it would have expired),
 * removed from the relay (@done once it is). */
gboolean mn_controller_logins_revoke (MnControllerLogins *logins, const gchar *id, gint64 now,
                                      MnLoginsDone done, gpointer data, GError **error);

/* The live set as a JSON array of {"id", "user", "expires"}. */
JsonArray *mn_controller_logins_json (MnControllerLogins *logins, gint64 now, GError **error);

/* TRUE while pushes to the relay wait or fail (tests, metrics). */
gboolean mn_controller_logins_pending (MnControllerLogins *logins);

G_END_DECLS
