/* mn-controller-idle.c: idle culling as the policy's model defines it:
 * kernel inactivity, from Jupyter's own GET {base}api/kernels
 * (execution_state, last_activity), asked of the app directly with its
 * token; the relay's traffic (its routes' last_activity) only as a second
 * signal, for apps without kernels or that do not answer.  The decision is
 * the policy's pure mn_policy_idle_decide(); this file only observes.  It
 * needs no relay: without one, only the kernels are asked. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

#include <string.h>

struct _IdleState {
  MnIdleObservation obs;     /* what was last seen (start filled when deciding) */
  gboolean          asking;  /* a kernels query is in flight */
  gint64            cut_at;  /* when the last verdict would cut it (0: none) */
  gboolean          kernels_seen;  /* a kernels query was answered (or failed) once */
};

void
mn_manager_idle_state_free (IdleState *st)
{
  g_free (st);
}

static IdleState *
idle_state (MnControllerManager *self, const gchar *id)
{
  IdleState *st = g_hash_table_lookup (self->idle, id);
  if (st == NULL)
    {
      st = g_new0 (IdleState, 1);
      g_hash_table_insert (self->idle, g_strdup (id), st);
    }
  return st;
}

/* Acts on the policy's verdict for running session @s. */
static void
decide (MnControllerManager *self, MnSession *s, gint64 now)
{
  const MnPolicyConfig *config = mn_policy_state_get_config (self->policy);
  IdleState *st = idle_state (self, s->id);
  MnIdleObservation o = st->obs;
  MnIdleVerdict v;
  const gchar *what;

  o.start = s->job_started ? s->job_started : s->started;
  mn_policy_idle_decide (config, &o, now, &v);
  st->cut_at = v.kind == MN_IDLE_WARN || v.kind == MN_IDLE_ACTIVE ? v.cut_at : 0;
  what = v.signal == MN_IDLE_SIGNAL_KERNELS ? "its kernels were idle" : "nothing went through the relay";
  switch (v.kind)
    {
    case MN_IDLE_CUT:
      {
        g_autofree gchar *why = g_strdup_printf ("ended after %" G_GINT64_FORMAT " s without use (%s;"
                                                 " idle timeout %" G_GINT64_FORMAT " s)",
                                                 v.idle_for, what, config->idle_timeout);
        mn_controller_manager_stop (self, s->id, MN_END_IDLE, why, NULL);
        break;
      }
    case MN_IDLE_WARN:
      if (s->idle_warned == 0)
        {
          g_autoptr(GDateTime) at = g_date_time_new_from_unix_utc (v.cut_at);
          g_autofree gchar *when = g_date_time_format (at, "%H:%M:%S UTC");
          g_autofree gchar *why = g_strdup_printf ("idle for %" G_GINT64_FORMAT " s: it will be ended"
                                                   " at %s unless it is used", v.idle_for, when);
          s->idle_warned = now;
          mn_manager_set_reason (s, why);
          mn_manager_save (self, s, why);
        }
      break;
    case MN_IDLE_ACTIVE:
      if (s->idle_warned != 0)
        {
          s->idle_warned = 0;
          mn_manager_set_reason (s, NULL);
          mn_manager_save (self, s, "in use again");
        }
      break;
    case MN_IDLE_OFF:
    case MN_IDLE_UNKNOWN:
    default:
      break;
    }
}

/* ---- the kernels: Jupyter's GET api/kernels -------------------------------------- */

/* Jupyter's "2024-05-01T10:00:00.123456Z"; 0 if it does not parse. */
static gint64
iso_time (const gchar *text)
{
  g_autoptr(GDateTime) dt = text ? g_date_time_new_from_iso8601 (text, NULL) : NULL;
  return dt ? g_date_time_to_unix (dt) : 0;
}

/* Reads Jupyter's kernel list into @o; FALSE if @body is not one. */
static gboolean
read_kernels (JsonNode *body, MnIdleObservation *o)
{
  JsonArray *list;
  if (body == NULL || !JSON_NODE_HOLDS_ARRAY (body))
    return FALSE;
  list = json_node_get_array (body);
  o->n_kernels = 0;
  o->kernel_busy = FALSE;
  o->kernel_last_activity = 0;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *k = json_array_get_object_element (list, i);
      const gchar *state;
      if (k == NULL)
        return FALSE;
      state = json_object_get_string_member_with_default (k, "execution_state", "");
      o->n_kernels++;
      if (g_str_equal (state, "busy") || g_str_equal (state, "starting"))
        o->kernel_busy = TRUE;
      o->kernel_last_activity = MAX (o->kernel_last_activity,
                                     iso_time (json_object_get_string_member_with_default (k, "last_activity", NULL)));
    }
  return TRUE;
}

static void
on_kernels (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = c->self;
  MnSession *s = g_hash_table_lookup (self->live, c->id);
  IdleState *st = g_hash_table_lookup (self->idle, c->id);

  if (st != NULL)
    {
      st->asking = FALSE;
      st->kernels_seen = TRUE;
    }
  if (s != NULL && st != NULL && s->state == MN_SESSION_RUNNING)
    {
      /* not Jupyter, or it does not answer: the relay's traffic decides */
      st->obs.kernels_known = ok && read_kernels (body, &st->obs);
      decide (self, s, mn_controller_manager_now (self));
    }
  /* not the session's busy mark: kernels are asked beside probes and routes */
  mn_controller_manager_unref (c->self);
  g_free (c->id);
  g_free (c);
}

static void
ask_kernels (MnControllerManager *self, MnSession *s)
{
  IdleState *st = idle_state (self, s->id);
  g_autofree gchar *url = NULL;
  CallData *c;
  if (st->asking || s->host == NULL)
    return;
  url = g_strdup_printf ("http://%s:%u/s/%s/api/kernels", s->host, s->port, s->id);
  st->asking = TRUE;
  c = g_new0 (CallData, 1);
  c->self = mn_controller_manager_ref (self);
  c->id = g_strdup (s->id);
  self->probe (s, url, on_kernels, c, self->probe_data);
}

/* ---- the relay's traffic: the second signal -------------------------------------- */

static void
on_routes_listed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = c->self;
  gint64 now = mn_controller_manager_now (self);
  JsonArray *routes = NULL;

  self->listing_routes = FALSE;
  if (!ok || body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
    {
      if (!ok)
        g_message ("idle check: relay routes: %s", message);
      mn_manager_call_free (c);
      return;
    }
  routes = json_object_get_array_member (json_node_get_object (body), "routes");
  for (guint i = 0; routes != NULL && i < json_array_get_length (routes); i++)
    {
      JsonObject *r = json_array_get_object_element (routes, i);
      const gchar *id = r ? json_object_get_string_member_with_default (r, "id", "") : "";
      if (id == NULL)
        id = "";   /* not a string: json-glib answers NULL (it crashed the lookup) */
      MnSession *s = g_hash_table_lookup (self->live, id);
      IdleState *st;
      if (s == NULL || s->state != MN_SESSION_RUNNING || !json_object_has_member (r, "last_activity"))
        continue;
      st = idle_state (self, s->id);
      st->obs.traffic_known = TRUE;
      st->obs.traffic_last_activity = json_object_get_int_member (r, "last_activity");
      /* not before the kernels were asked: traffic is only the second
       * signal, and a kernel computing with its tab closed has none (the
       * first check after a start or a reload listed routes before the
       * kernels answered, and cut a busy Jupyter on its silence) */
      if (st->kernels_seen)
        decide (self, s, now);
    }
  mn_manager_call_free (c);
}

void
mn_manager_check_idle (MnControllerManager *self, gint64 now)
{
  gint64 timeout = mn_policy_state_get_config (self->policy)->idle_timeout;
  g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer v;
  gboolean due;
  if (timeout <= 0)
    return;
  /* every tenth of the timeout (1 to 30 s), and at once for a session whose
   * cut time has come: it is cut when the model says, not a round later */
  due = now - self->last_idle_check >= CLAMP (timeout / 10, 1, 30);
  if (due)
    self->last_idle_check = now;
  /* a prober may answer at once, and a cut changes the session */
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MnSession *s = v;
      IdleState *st = g_hash_table_lookup (self->idle, s->id);
      if (s->state == MN_SESSION_RUNNING && (due || (st && st->cut_at > 0 && now >= st->cut_at)))
        g_ptr_array_add (running, g_strdup (s->id));
    }
  for (guint i = 0; i < running->len; i++)
    {
      MnSession *s = g_hash_table_lookup (self->live, g_ptr_array_index (running, i));
      if (s != NULL && s->state == MN_SESSION_RUNNING)
        ask_kernels (self, s);
    }
  if (due && !self->listing_routes && self->list_routes != NULL)
    {
      self->listing_routes = TRUE;
      self->list_routes (on_routes_listed, mn_manager_call_new (self, "(idle check)"),
                         self->list_routes_data);
    }
  else if (due && !self->listing_routes && mn_controller_relay_enabled (self->relay))
    {
      self->listing_routes = TRUE;
      mn_controller_relay_list_routes (self->relay, on_routes_listed,
                                       mn_manager_call_new (self, "(idle check)"));
    }
}
