/* mn-controller-routes.c: from a job's connection file to a relay route:
 * which host the app may listen on (job_host, the node's addresses), the
 * readiness probe, registering, refreshing and deleting routes. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

/* ---- job_host = node: the addresses of the node a job runs on ---------- */

void
mn_manager_node_addrs_free (NodeAddrs *n)
{
  g_strfreev (n->addrs);
  g_free (n);
}

typedef struct {
  MnControllerManager *self;
  gchar *node;
} ResolveCall;

static void
on_node_resolved (GObject *source, GAsyncResult *result, gpointer data)
{
  ResolveCall *c = data;
  g_autoptr(GError) error = NULL;
  GList *list = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  NodeAddrs *n = g_hash_table_lookup (c->self->node_addrs, c->node);
  if (n != NULL)
    {
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
      for (GList *l = list; l != NULL; l = l->next)
        {
          g_autofree gchar *a = g_inet_address_to_string (l->data);
          g_strv_builder_add (b, a);
        }
      n->pending = FALSE;
      g_clear_pointer (&n->addrs, g_strfreev);
      if (list != NULL)
        {
          n->addrs = g_strv_builder_end (b);
          n->expires = g_get_monotonic_time () / G_USEC_PER_SEC + 600;
        }
      else
        {
          /* asked again in 30 s: a node being added to DNS */
          g_warning ("job_host = node: node '%s' does not resolve: %s; its sessions cannot be"
                     " reached", c->node, error ? error->message : "no address");
          n->expires = g_get_monotonic_time () / G_USEC_PER_SEC + 30;
        }
      mn_manager_kick (c->self);
    }
  g_resolver_free_addresses (list);
  mn_controller_manager_unref (c->self);
  g_free (c->node);
  g_free (c);
}

/* The addresses @node resolves to, from a cache (10 min; failures 30 s);
 * NULL while a lookup runs (GResolver: the main loop never waits on DNS). */
static const gchar *const *
node_addresses (MnControllerManager *self, const gchar *node)
{
  gint64 now = g_get_monotonic_time () / G_USEC_PER_SEC;
  NodeAddrs *n = g_hash_table_lookup (self->node_addrs, node);
  if (n != NULL && (n->pending || now < n->expires))
    return (const gchar *const *) n->addrs;
  if (n == NULL)
    {
      n = g_new0 (NodeAddrs, 1);
      g_hash_table_insert (self->node_addrs, g_strdup (node), n);
    }
  n->pending = TRUE;
  {
    g_autoptr(GResolver) resolver = g_resolver_get_default ();
    ResolveCall *c = g_new0 (ResolveCall, 1);
    c->self = mn_controller_manager_ref (self);
    c->node = g_strdup (node);
    g_resolver_lookup_by_name_async (resolver, node, NULL, on_node_resolved, c);
  }
  return (const gchar *const *) n->addrs;
}

/* The node the job runs on: as the scheduler names it, this host for the
 * local backend, NULL while not known. */
static const gchar *
job_node (MnControllerManager *self, const MnSession *s)
{
  if (s->exec_node == NULL && g_str_equal (self->backend->klass->name, "local"))
    return g_get_host_name ();
  return s->exec_node;
}

/* May the app of @s listen on @host?  The connection file is the user's:
 * only what the job was allowed to pick counts, or a user could route their
 * session to any service the relay reaches.  job_host = node: an address of
 * the node the scheduler runs the job on (this host for the local backend). */
static gboolean
host_allowed (MnControllerManager *self, const MnSession *s, const gchar *host)
{
  const gchar *node = job_node (self, s);
  const gchar *const *addrs;
  if (!g_str_equal (self->config->job_host, "node"))
    return g_strcmp0 (host, self->config->job_host) == 0;
  if (node == NULL)
    return FALSE;
  addrs = node_addresses (self, node);
  return addrs != NULL && g_strv_contains (addrs, host);
}


static void
on_route_put (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = c->self;
  MnSession *s = g_hash_table_lookup (self->live, c->id);

  if (s != NULL && s->state == MN_SESSION_STARTING)
    {
      if (ok)
        {
          g_autofree gchar *ev = g_strdup_printf ("running at %s:%u, route /s/%s/ registered",
                                                  s->host, s->port, s->id);
          mn_manager_fault_point ("route-registered");
          s->state = MN_SESSION_RUNNING;
          s->route_failed = FALSE;
          s->started = mn_controller_manager_now (self);
          mn_manager_set_reason (s, NULL);
          self->counters.ready++;
          g_debug ("session %s: %s (%s)", s->id, ev, s->user);
          mn_manager_save_later (self, s, ev);
        }
      else
        {
          g_autofree gchar *why = g_strdup_printf ("the relay did not take the route (%s);"
                                                   " retrying", message);
          s->route_failed = TRUE;
          if (g_strcmp0 (s->reason, why) != 0)
            {
              mn_manager_set_reason (s, why);
              mn_manager_save (self, s, why);
            }
        }
    }
  else if (s != NULL && !ok)
    g_message ("session %s: route refresh: %s", s->id, message);
  mn_manager_call_free (c);
}

void
mn_manager_register_route (MnControllerManager *self, MnSession *s)
{
  g_autofree gchar *upstream = g_strdup_printf ("http://%s:%u", s->host, s->port);
  gint64 expires = mn_session_walltime_end (s);   /* the job's start + walltime */
  /* the relay learns the host and port once they are stored */
  if (!mn_manager_settle (self, s->id))
    return;
  g_hash_table_insert (self->busy, g_strdup (s->id), (gpointer) "route");
  mn_controller_relay_put_route (self->relay, s->id, upstream, s->user, s->token, expires,
                                 on_route_put, mn_manager_call_new (self, s->id));
}

static void
on_probe (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = mn_controller_manager_ref (c->self);
  g_autofree gchar *id = g_strdup (c->id);
  MnSession *s;

  /* its busy mark goes first: the route's own ("route") follows */
  mn_manager_call_free (c);
  s = g_hash_table_lookup (self->live, id);
  if (s != NULL && s->state == MN_SESSION_STARTING)
    {
      if (ok)
        {
          g_debug ("session %s: its app answers", s->id);
          mn_manager_register_route (self, s);
          mn_manager_start_next (self);   /* its start slot is free */
        }
      else
        mn_manager_recheck_later (self, s);   /* not answering yet: asked again soon */
    }
  mn_controller_manager_unref (self);
}

/* A connection file that names what the job may not pick: logged once per
 * content (the poll reads it every interval), and the session's reason and
 * events say so: its owner would otherwise see it "waiting" for ever. */
static void
refuse_connection (MnControllerManager *self, MnSession *s, const gchar *path,
                   const gchar *host, gint port, const gchar *why)
{
  g_autofree gchar *at = g_strdup_printf ("%s:%d", host ? host : "?", port);
  g_autofree gchar *reason = NULL;
  if (g_strcmp0 (s->refused_at, at) == 0)
    return;
  g_warning ("session %s: connection file %s names %s, %s; ignored", s->id, path, at, why);
  reason = g_strdup_printf ("the job's connection file names %s, %s; the session is not"
                            " routed there", at, why);
  mn_manager_set_reason (s, reason);
  mn_manager_save (self, s, reason);
  g_free (s->refused_at);
  s->refused_at = g_steal_pointer (&at);
}

/* The job writes host and port to its connection file once it holds a port. */
gboolean
mn_manager_read_connection (MnControllerManager *self, MnSession *s)
{
  g_autofree gchar *dir = mn_controller_manager_session_dir (self, s->id);
  g_autofree gchar *path = g_build_filename (dir, "connection", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *host = NULL;
  gint port;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  host = g_key_file_get_string (kf, "connection", "host", NULL);
  port = g_key_file_get_integer (kf, "connection", "port", NULL);
  if (host == NULL || port < (gint) self->config->port_min ||
      port > (gint) self->config->port_max)
    {
      refuse_connection (self, s, path, host, port, "outside the port range");
      return FALSE;
    }
  if (!host_allowed (self, s, host))
    {
      const gchar *node = job_node (self, s);
      NodeAddrs *n = node ? g_hash_table_lookup (self->node_addrs, node) : NULL;
      g_autofree gchar *why = NULL;
      if (g_str_equal (self->config->job_host, "node") && (node == NULL || n == NULL || n->pending))
        return FALSE;   /* asked again once the scheduler names the node and it is resolved */
      if (g_str_equal (self->config->job_host, "node"))
        why = g_strdup_printf ("not an address of node %s", node);
      else
        why = g_strdup_printf ("not job_host %s", self->config->job_host);
      refuse_connection (self, s, path, host, port, why);
      return FALSE;
    }
  if (g_strcmp0 (s->host, host) != 0 || s->port != (guint) port)
    {
      g_autofree gchar *ev = g_strdup_printf ("job listens on %s:%d; waiting for the app", host, port);
      g_free (s->host);
      s->host = g_steal_pointer (&host);
      s->port = (guint) port;
      mn_manager_set_reason (s, "waiting for the app to answer");
      mn_manager_save_later (self, s, ev);
    }
  return TRUE;
}


/* Asks the app whether it answers; once it does, its route is registered. */
void
mn_manager_probe_app (MnControllerManager *self, MnSession *s)
{
  const MnApp *app = mn_controller_manager_find_app (self, s->app);
  g_autofree gchar *url = g_strdup_printf ("http://%s:%u/s/%s/%s", s->host, s->port, s->id,
                                           app ? app->readiness_path : "");
  g_hash_table_insert (self->busy, g_strdup (s->id), (gpointer) "probe");
  self->probe (s, url, on_probe, mn_manager_call_new (self, s->id), self->probe_data);
}

static void
on_route_deleted (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  g_autofree gchar *id = data;
  if (!ok)
    g_message ("session %s: relay did not remove the route: %s", id, message);
}

void
mn_manager_delete_route (MnControllerManager *self, const gchar *id)
{
  mn_controller_relay_delete_route (self->relay, id, on_route_deleted, g_strdup (id));
}

static void
on_route_refreshed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  g_autofree gchar *id = data;
  if (!ok)
    g_message ("session %s: relay did not take the route again: %s", id, message);
}

/* After a restart: the relay may have lost the route of a running session. */
void
mn_manager_refresh_route (MnControllerManager *self, MnSession *s)
{
  gint64 expires = mn_session_walltime_end (s);
  g_autofree gchar *upstream = g_strdup_printf ("http://%s:%u", s->host, s->port);
  mn_controller_relay_put_route (self->relay, s->id, upstream, s->user, s->token,
                                 expires, on_route_refreshed, g_strdup (s->id));
}
