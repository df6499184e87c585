/* mn-controller-logins.c: logins in SQLite, mirrored to the relay. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-logins.h"
#include "mn-controller-config.h"

#include <string.h>

#define RESYNC_SECONDS 2
/* expired logins stay this long (the relay's tombstones outlive them) */
#define PRUNE_AFTER (24 * 3600)

typedef enum { OP_PUT, OP_DELETE, OP_SYNC } OpKind;

typedef struct {
  MnLoginsDone done;
  gpointer     data;
} Waiter;

typedef struct {
  OpKind     kind;
  gchar     *id;
  gchar     *user;
  gint64     expires;
  GPtrArray *waiters;   /* Waiter: told when the relay took this (or gave up) */
} Op;

struct _MnControllerLogins {
  MnControllerStore *store;
  const MnAuthKey   *key;
  MnControllerRelay *relay;
  GQueue             ops;        /* waiting, in order; head is in flight */
  gboolean           in_flight;
  guint              retry;      /* timeout source id */
  gboolean          *alive;      /* cleared at free: answers after it are dropped */
};

/* Tells the waiters whether the relay has the change, then frees @op. */
static void
op_finish (Op *op, gboolean relay_has_it)
{
  for (guint i = 0; op->waiters != NULL && i < op->waiters->len; i++)
    {
      Waiter *w = g_ptr_array_index (op->waiters, i);
      w->done (relay_has_it, w->data);
    }
  if (op->waiters != NULL)
    g_ptr_array_unref (op->waiters);
  g_free (op->id);
  g_free (op->user);
  g_free (op);
}

static void
op_drop (Op *op)
{
  op_finish (op, FALSE);
}

static void
op_wait (Op *op, MnLoginsDone done, gpointer data)
{
  Waiter *w;
  if (done == NULL)
    return;
  if (op->waiters == NULL)
    op->waiters = g_ptr_array_new_with_free_func (g_free);
  w = g_new0 (Waiter, 1);
  w->done = done;
  w->data = data;
  g_ptr_array_add (op->waiters, w);
}

MnControllerLogins *
mn_controller_logins_new (MnControllerStore *store, const MnAuthKey *key,
                          MnControllerRelay *relay)
{
  MnControllerLogins *l = g_new0 (MnControllerLogins, 1);
  l->store = store;
  l->key = key;
  l->relay = relay != NULL && mn_controller_relay_enabled (relay) ? relay : NULL;
  g_queue_init (&l->ops);
  l->alive = g_new (gboolean, 1);
  *l->alive = TRUE;
  return l;
}

void
mn_controller_logins_free (MnControllerLogins *l)
{
  if (l == NULL)
    return;
  if (l->retry != 0)
    g_source_remove (l->retry);
  g_queue_clear_full (&l->ops, (GDestroyNotify) op_drop);
  /* a push in flight answers later: its callback sees this and stops */
  *l->alive = FALSE;
  if (!l->in_flight)
    g_free (l->alive);
  g_free (l);
}

gboolean
mn_controller_logins_pending (MnControllerLogins *l)
{
  return l->in_flight || !g_queue_is_empty (&l->ops) || l->retry != 0;
}

static void send_next (MnControllerLogins *l);

typedef struct {
  MnControllerLogins *logins;
  gboolean           *alive;
} Flight;

static gboolean
resync (gpointer data)
{
  MnControllerLogins *l = data;
  l->retry = 0;
  send_next (l);
  return G_SOURCE_REMOVE;
}

static void
pushed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  Flight *f = data;
  MnControllerLogins *l = f->logins;
  gboolean *alive = f->alive;
  g_free (f);
  if (!*alive)
    {
      g_free (alive);
      return;
    }
  l->in_flight = FALSE;
  if (ok)
    {
      op_finish (g_queue_pop_head (&l->ops), TRUE);
      send_next (l);
      return;
    }
  /* what the relay holds is now unknown: drop the queue, send everything
   * (the store has it all) until the relay takes it */
  g_message ("cannot tell the relay about logins (%s); sending the whole set again every %d s",
             message != NULL ? message : "no answer", RESYNC_SECONDS);
  g_queue_clear_full (&l->ops, (GDestroyNotify) op_drop);
  {
    Op *op = g_new0 (Op, 1);
    op->kind = OP_SYNC;
    g_queue_push_tail (&l->ops, op);
  }
  if (l->retry == 0)
    l->retry = g_timeout_add_seconds (RESYNC_SECONDS, resync, l);
}

static void
send_next (MnControllerLogins *l)
{
  Op *op = g_queue_peek_head (&l->ops);
  Flight *f;
  if (op == NULL || l->in_flight || l->retry != 0)
    return;
  f = g_new0 (Flight, 1);
  f->logins = l;
  f->alive = l->alive;
  l->in_flight = TRUE;
  switch (op->kind)
    {
    case OP_PUT:
      mn_controller_relay_put_login (l->relay, op->id, op->user, op->expires, pushed, f);
      break;
    case OP_DELETE:
      mn_controller_relay_delete_login (l->relay, op->id, pushed, f);
      break;
    case OP_SYNC:
      {
        g_autoptr(GError) error = NULL;
        gint64 now = g_get_real_time () / G_USEC_PER_SEC;
        g_autoptr(JsonArray) set = mn_controller_logins_json (l, now, &error);
        if (set == NULL)
          {
            /* the store cannot answer: try again later, like a failed push */
            l->in_flight = FALSE;
            g_free (f);
            g_warning ("logins for the relay: %s", error->message);
            if (l->retry == 0)
              l->retry = g_timeout_add_seconds (RESYNC_SECONDS, resync, l);
            return;
          }
        mn_controller_relay_put_logins (l->relay, set, pushed, f);
      }
      break;
    }
}

typedef struct {
  MnLoginsDone done;
  gpointer     data;
} Later;

static gboolean
done_later (gpointer data)
{
  Later *later = data;
  later->done (TRUE, later->data);
  g_free (later);
  return G_SOURCE_REMOVE;
}

static void
enqueue (MnControllerLogins *l, OpKind kind, const gchar *id, const gchar *user, gint64 expires,
         MnLoginsDone done, gpointer data)
{
  Op *op;
  if (l->relay == NULL)
    {
      /* no relay: nobody else to tell */
      if (done != NULL)
        {
          Later *later = g_new0 (Later, 1);
          later->done = done;
          later->data = data;
          g_idle_add_full (G_PRIORITY_DEFAULT, done_later, later, NULL);
        }
      return;
    }
  /* a full set that is not sent yet will hold this change */
  for (GList *it = l->ops.head; it != NULL; it = it->next)
    if (((Op *) it->data)->kind == OP_SYNC && (it != l->ops.head || !l->in_flight))
      {
        op_wait (it->data, done, data);
        return;
      }
  op = g_new0 (Op, 1);
  op->kind = kind;
  op->id = g_strdup (id);
  op->user = g_strdup (user);
  op->expires = expires;
  op_wait (op, done, data);
  g_queue_push_tail (&l->ops, op);
  send_next (l);
}

void
mn_controller_logins_sync (MnControllerLogins *l)
{
  enqueue (l, OP_SYNC, NULL, NULL, 0, NULL, NULL);
}

gchar *
mn_controller_logins_create (MnControllerLogins *l, const gchar *user, const gchar *address,
                             gint64 now, gint64 lifetime, gchar **id_out,
                             MnLoginsDone done, gpointer data, GError **error)
{
  g_autofree gchar *id = mn_auth_login_id_new ();
  gint64 expires = now + lifetime;
  g_autoptr(GError) local = NULL;

  if (mn_controller_store_logins_prune (l->store, now - PRUNE_AFTER, &local) < 0)
    g_warning ("%s", local->message);
  if (!mn_controller_store_login_insert (l->store, id, user, now, expires, address, error))
    return NULL;
  enqueue (l, OP_PUT, id, user, expires, done, data);
  if (id_out != NULL)
    *id_out = g_strdup (id);
  return mn_auth_login_cookie (l->key, id);
}

gchar *
mn_controller_logins_check (MnControllerLogins *l, const gchar *cookie_header, gint64 now,
                            gchar **id_out, gchar **why)
{
  g_autofree gchar *value = mn_auth_cookie_from_header (cookie_header);
  g_autofree gchar *id = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnStoreLogin) row = NULL;

  if (value == NULL)
    {
      *why = g_strdup ("not logged in");
      return NULL;
    }
  if ((id = mn_auth_login_cookie_check (l->key, value, &error)) == NULL)
    {
      *why = g_strdup_printf ("login no longer valid: %s", error->message);
      return NULL;
    }
  if ((row = mn_controller_store_login_get (l->store, id, &error)) == NULL)
    {
      if (!g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_FOUND))
        g_warning ("login check: %s", error->message);
      *why = g_strdup ("login no longer valid: no such login");
      return NULL;
    }
  if (row->revoked != 0)
    {
      *why = g_strdup ("login no longer valid: logged out");
      return NULL;
    }
  if (row->expires <= now)
    {
      *why = g_strdup ("login no longer valid: it has expired");
      return NULL;
    }
  if (id_out != NULL)
    *id_out = g_steal_pointer (&id);
  return g_steal_pointer (&row->user);
}

gboolean
mn_controller_logins_revoke (MnControllerLogins *l, const gchar *id, gint64 now,
                             MnLoginsDone done, gpointer data, GError **error)
{
  if (!mn_controller_store_login_revoke (l->store, id, now, error))
    return FALSE;
  enqueue (l, OP_DELETE, id, NULL, 0, done, data);
  return TRUE;
}

JsonArray *
mn_controller_logins_json (MnControllerLogins *l, gint64 now, GError **error)
{
  g_autoptr(GPtrArray) live = mn_controller_store_logins_live (l->store, now, error);
  JsonArray *a;
  if (live == NULL)
    return NULL;
  a = json_array_sized_new (live->len);
  for (guint i = 0; i < live->len; i++)
    {
      MnStoreLogin *row = g_ptr_array_index (live, i);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "id", row->id);
      json_object_set_string_member (o, "user", row->user);
      json_object_set_int_member (o, "expires", row->expires);
      json_array_add_object_element (a, o);
    }
  return a;
}
