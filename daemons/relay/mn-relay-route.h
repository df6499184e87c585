/* mn-relay-route.h: the route table, session id -> upstream app, owner,
 * token, expiry and last activity. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  gint     ref_count;
  gchar   *id;
  gchar   *upstream;      /* "http://host:port" as given */
  gchar   *host;
  guint16  port;
  gchar   *pool_key;      /* "host:port": the relay's keep-alive pool for it */
  gchar   *owner;
  gchar   *token;         /* the app's own token, never sent to browsers */
  gint64   expires;       /* Unix seconds, 0 = never */
  gint64   last_activity; /* Unix seconds */
} MnRelayRoute;

MnRelayRoute *mn_relay_route_ref (MnRelayRoute *route);
void          mn_relay_route_unref (MnRelayRoute *route);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnRelayRoute, mn_relay_route_unref)

/* From a JSON object {"upstream", "owner", "token", "expires"} (and "id"
 * when @id is NULL); errors name the field. */
MnRelayRoute *mn_relay_route_new_from_json (const gchar *id, JsonObject *object,
                                            GError **error);

typedef struct _MnRelayRoutes MnRelayRoutes;

MnRelayRoutes *mn_relay_routes_new (void);
void           mn_relay_routes_free (MnRelayRoutes *routes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnRelayRoutes, mn_relay_routes_free)

void          mn_relay_routes_put (MnRelayRoutes *routes, MnRelayRoute *route);
gboolean      mn_relay_routes_remove (MnRelayRoutes *routes, const gchar *id);
/* A live route (expired ones are dropped here); caller owns the reference. */
MnRelayRoute *mn_relay_routes_lookup (MnRelayRoutes *routes, const gchar *id, gint64 now);
guint         mn_relay_routes_count (MnRelayRoutes *routes);
/* {"routes": [{id, upstream, owner, expires, last_activity}]}: no tokens. */
JsonNode     *mn_relay_routes_to_json (MnRelayRoutes *routes);
/* Loads {"routes": [...]} (the controller's answer); returns how many. */
gint          mn_relay_routes_load_json (MnRelayRoutes *routes, JsonNode *root,
                                         GError **error);

G_END_DECLS
