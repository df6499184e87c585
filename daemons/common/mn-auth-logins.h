/* mn-auth-logins.h: the set of live logins (id -> user, expiry), as the
 * relay holds it.
 *
 * The controller owns logins (its SQLite table `logins`, see
 * mn-controller-store.h) and keeps the relay's copy current: the live set
 * at the relay's start (in its answer to GET /api/v1/routes, member
 * "logins", merged), the whole set whenever the controller starts or could
 * not deliver a change (PUT /logins, replaces), then each login (PUT
 * /logins/<id>) and logout (DELETE /logins/<id>) as it happens.
 * A login the relay does not know is no login there: a missed push fails
 * closed (the user logs in again), never open.  A removed id is remembered
 * until its login would have expired, so that neither a late push nor a
 * whole set taken before the logout brings it back.
 *
 * JSON of one login: {"id": "<32 hex>", "user": "alice", "expires": <unix s>}. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _MnAuthLogins MnAuthLogins;

MnAuthLogins *mn_auth_logins_new (void);
void          mn_auth_logins_free (MnAuthLogins *logins);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnAuthLogins, mn_auth_logins_free)

void          mn_auth_logins_put (MnAuthLogins *logins, const gchar *id, const gchar *user,
                                  gint64 expires);
gboolean      mn_auth_logins_remove (MnAuthLogins *logins, const gchar *id);
guint         mn_auth_logins_count (MnAuthLogins *logins);
/* The user of live login @id at @now (expired ones are dropped here), or
 * NULL.  Valid until the set next changes. */
const gchar  *mn_auth_logins_user (MnAuthLogins *logins, const gchar *id, gint64 now);

/* One login from its JSON object; an error names the field.  @id NULL:
 * from the object's "id". */
gboolean      mn_auth_logins_put_json (MnAuthLogins *logins, const gchar *id,
                                       JsonObject *object, GError **error);
/* Replaces the whole set with the JSON array @array (of login objects).
 * Nothing changes if an entry is bad; the error names its index and
 * field.  Returns how many, or -1. */
gint          mn_auth_logins_replace_json (MnAuthLogins *logins, JsonArray *array,
                                           GError **error);

/* Adds the logins of @array to the set (the controller's answer at the
 * relay's start: pushes that came meanwhile stay).  All or nothing, like
 * replace. */
gint          mn_auth_logins_merge_json (MnAuthLogins *logins, JsonArray *array,
                                         GError **error);

G_END_DECLS
