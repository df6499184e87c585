/* mn-controller-api-sessions.c: a session as JSON, and the routes that
 * launch, list, show, end, hide and extend the user's sessions. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

#include <math.h>
#include <string.h>

/* ---- sessions ------------------------------------------------------------------ */

/* Why a session ended, in its user's words (the code decides, not the
 * technical reason text, which the card shows as details). */
static const gchar *
end_text (const MnSession *s)
{
  switch (s->end_reason)
    {
    case MN_END_EXITED: return "You quit the app.";
    case MN_END_USER: return "You stopped it.";
    case MN_END_WALLTIME: return "Its time ran out.";
    case MN_END_IDLE: return "It was stopped because nobody used it for a while.";
    case MN_END_MEMORY_CAP: return "It used more memory than it asked for.";
    case MN_END_NODE_OOM: return "Its node ran out of memory, and it used the most.";
    case MN_END_FAILED: return s->started ? "The app stopped with an error."
                                          : "The app could not start.";
    case MN_END_ADMIN: return "The service stopped it.";
    case MN_END_CANCELLED: return "Withdrawn before it started.";
    default: return NULL;
    }
}

void
mn_api_add_session (MnControllerApi *api, JsonBuilder *b, const MnSession *s, gboolean events)
{
  gint64 now = mn_controller_manager_now (api->manager);
  g_autofree gchar *url = g_strdup_printf ("/s/%s/", s->id);

  json_builder_begin_object (b);
#define STR(k, v) json_builder_set_member_name (b, k); if (v) json_builder_add_string_value (b, v); else json_builder_add_null_value (b)
#define INT(k, v) json_builder_set_member_name (b, k); json_builder_add_int_value (b, v)
#define TIME(k, v) json_builder_set_member_name (b, k); if (v) json_builder_add_int_value (b, v); else json_builder_add_null_value (b)
  STR ("id", s->id);
  STR ("user", s->user);
  STR ("app", s->app);
  STR ("queue", s->queue);
  INT ("cores", s->cores);
  json_builder_set_member_name (b, "memory_gb");
  json_builder_add_double_value (b, s->memory_mb / 1024.0);
  INT ("gpus", s->gpus);
  json_builder_set_member_name (b, "hours");
  json_builder_add_double_value (b, s->walltime / 3600.0);
  STR ("if_busy", mn_controller_if_busy_to_string (s->give_up ? MN_IF_BUSY_GIVE_UP : MN_IF_BUSY_WAIT));
  /* the app's own fields as launched ({"kernel": "python3"}) */
  json_builder_set_member_name (b, "fields");
  {
    g_autoptr(JsonNode) form = s->form != NULL ? json_from_string (s->form, NULL) : NULL;
    if (form != NULL && JSON_NODE_HOLDS_OBJECT (form))
      json_builder_add_value (b, g_steal_pointer (&form));
    else
      json_builder_add_null_value (b);
  }
  STR ("state", mn_session_state_to_string (s->state));
  STR ("reason", s->reason);
  /* why it waits, as the policy's code (slots, memory, gpus, gpu-memory) */
  STR ("wait_reason", s->state == MN_SESSION_QUEUED && s->wait_reason != MN_WAIT_NONE
                      ? mn_wait_reason_to_string (s->wait_reason) : NULL);
  /* how it ended (or, while ending, why it is stopped) as a code */
  STR ("end_reason", s->end_reason != MN_END_NONE ? mn_end_reason_to_string (s->end_reason) : NULL);
  STR ("end_text", mn_session_state_is_final (s->state) ? end_text (s) : NULL);
  json_builder_set_member_name (b, "hidden");
  json_builder_add_boolean_value (b, s->hidden);
  /* Extend: what one more step would give, or why there is none */
  {
    const MnPolicyConfig *pc = mn_policy_state_get_config (mn_controller_manager_get_policy (api->manager));
    gint64 next = 0;
    g_autofree gchar *why = NULL;
    gboolean can = s->state == MN_SESSION_RUNNING && mn_policy_extend (pc, s->walltime, &next, &why);
    json_builder_set_member_name (b, "extended_hours");
    json_builder_add_double_value (b, s->extended / 3600.0);
    json_builder_set_member_name (b, "extend");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "allowed");
    json_builder_add_boolean_value (b, can);
    json_builder_set_member_name (b, "step_hours");
    json_builder_add_double_value (b, can ? (next - s->walltime) / 3600.0 : 0);
    json_builder_set_member_name (b, "limit_hours");
    json_builder_add_double_value (b, mn_policy_extend_limit (pc) / 3600.0);
    json_builder_set_member_name (b, "why_not");
    if (why != NULL && s->state == MN_SESSION_RUNNING)
      json_builder_add_string_value (b, why);
    else
      json_builder_add_null_value (b);
    json_builder_end_object (b);
  }
  TIME ("created", s->created);
  TIME ("submitted", s->submitted);
  TIME ("job_started", s->job_started);
  TIME ("started", s->started);
  TIME ("ended", s->ended);
  STR ("host", s->host);
  if (s->node >= 0)
    {
      INT ("node", s->node);
      INT ("logical_node", s->logical);
    }
  json_builder_set_member_name (b, "url");
  if (s->state == MN_SESSION_RUNNING)
    json_builder_add_string_value (b, url);
  else
    json_builder_add_null_value (b);
  {
    const gchar *source = NULL;
    gint64 est = mn_controller_manager_session_estimate (api->manager, s, &source);
    TIME ("estimated_start", est == G_MAXINT64 ? 0 : est);
    STR ("estimated_start_source", source);
  }
  json_builder_set_member_name (b, "time_left");
  if (s->state == MN_SESSION_RUNNING)
    json_builder_add_int_value (b, MAX (0, mn_session_walltime_end (s) - now));
  else
    json_builder_add_null_value (b);
  if (events)
    {
      g_autoptr(GPtrArray) evs = mn_controller_store_events (mn_controller_manager_get_store (api->manager),
                                                             s->id, NULL);
      json_builder_set_member_name (b, "events");
      json_builder_begin_array (b);
      for (guint i = 0; evs && i < evs->len; i++)
        {
          MnStoreEvent *e = g_ptr_array_index (evs, i);
          json_builder_begin_object (b);
          INT ("time", e->time);
          STR ("state", e->state);
          STR ("message", e->message);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
    }
#undef STR
#undef INT
#undef TIME
  json_builder_end_object (b);
}

static void
reply_session (MnControllerApi *api, SoupServerMessage *msg, guint status, const MnSession *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  mn_api_add_session (api, b, s, TRUE);
  root = json_builder_get_root (b);
  mn_api_reply_json (msg, status, root);
}

/* Reads a number field into @out within [min, max]; FALSE (reply sent) if bad. */
static gboolean
get_number (SoupServerMessage *msg, JsonObject *o, const gchar *field, gboolean integer,
            gdouble min, gdouble max, gdouble *out)
{
  JsonNode *n = json_object_get_member (o, field);
  gdouble v;
  GType t;
  if (n == NULL)
    return TRUE;
  t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    {
      mn_api_reply_errorf (msg, 400, field, "field '%s': expected a number", field);
      return FALSE;
    }
  v = t == G_TYPE_INT64 ? (gdouble) json_node_get_int (n) : json_node_get_double (n);
  if (integer && v != floor (v))
    {
      mn_api_reply_errorf (msg, 400, field, "field '%s': expected a whole number, got %g", field, v);
      return FALSE;
    }
  if (!(v >= min && v <= max))
    {
      mn_api_reply_errorf (msg, 400, field, "field '%s': %g is out of range (%g..%g)", field, v, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* The form saved for the next launch: this launch's choices at the top
 * (what the portal preselects), and per app its values ("apps": {ID: {...}})
 * so that each app keeps its own. */
static gchar *
saved_form (JsonObject *old, const MnApp *app, const gchar *queue, const gchar *if_busy,
            const gdouble *v, const gchar *own)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonParser) own_parser = json_parser_new ();
  JsonObject *own_o = NULL, *apps = NULL;
  if (own != NULL && json_parser_load_from_data (own_parser, own, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (own_parser)))
    own_o = json_node_get_object (json_parser_get_root (own_parser));
  if (old != NULL && json_object_has_member (old, "apps") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (old, "apps")))
    apps = json_object_get_object_member (old, "apps");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "app");
  json_builder_add_string_value (b, app->id);
  json_builder_set_member_name (b, "queue");
  json_builder_add_string_value (b, queue);
  for (gint f = 0; f < MN_APP_N_FIELDS; f++)
    {
      json_builder_set_member_name (b, mn_app_field_name (f));
      json_builder_add_double_value (b, v[f]);
    }
  json_builder_set_member_name (b, "if_busy");
  json_builder_add_string_value (b, if_busy);
  json_builder_set_member_name (b, "apps");
  json_builder_begin_object (b);
  {
    g_autoptr(GList) ids = apps != NULL ? json_object_get_members (apps) : NULL;
    for (GList *l = ids; l != NULL; l = l->next)
      if (!g_str_equal (l->data, app->id))
        {
          json_builder_set_member_name (b, l->data);
          json_builder_add_value (b, json_node_copy (json_object_get_member (apps, l->data)));
        }
  }
  json_builder_set_member_name (b, app->id);
  json_builder_begin_object (b);
  for (gint f = 0; f < MN_APP_N_FIELDS; f++)
    {
      json_builder_set_member_name (b, mn_app_field_name (f));
      json_builder_add_double_value (b, v[f]);
    }
  {
    g_autoptr(GList) names = own_o != NULL ? json_object_get_members (own_o) : NULL;
    for (GList *l = names; l != NULL; l = l->next)
      {
        json_builder_set_member_name (b, l->data);
        json_builder_add_value (b, json_node_copy (json_object_get_member (own_o, l->data)));
      }
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

typedef struct {
  MnControllerApi   *api;
  SoupServerMessage *msg;
  gchar             *id;
} LaunchReply;

/* A launch's row is committed (or the store refused it: nothing was made). */
static void
launch_stored (gboolean committed, const GError *error, gpointer data)
{
  LaunchReply *r = data;
  g_autoptr(MnSession) s = committed ? mn_controller_manager_get (r->api->manager, r->id, NULL)
                                     : NULL;
  if (s != NULL)
    reply_session (r->api, r->msg, 201, s);
  else if (error != NULL)
    mn_api_reply_errorf (r->msg, mn_api_error_status (error), NULL, "%s", error->message);
  else
    mn_api_reply_errorf (r->msg, 500, NULL, "session %s: not found after its launch", r->id);
  soup_server_message_unpause (r->msg);
  g_object_unref (r->msg);
  g_free (r->id);
  g_free (r);
}

void
mn_api_handle_launch (MnControllerApi *api, SoupServerMessage *msg)
{
  static const gchar *const base_fields[] = { "app", "queue", "cores", "memory_gb", "gpus",
                                              "hours", "if_busy", NULL };
  LaunchReply *r;
  g_autofree gchar *user = mn_api_require_state_change (api, msg, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) last_parser = json_parser_new ();
  g_autoptr(JsonParser) app_last_parser = json_parser_new ();
  g_autofree gchar *last = NULL, *own = NULL, *own_field = NULL, *text = NULL;
  g_autoptr(GStrvBuilder) allowed_b = g_strv_builder_new ();
  g_auto(GStrv) allowed = NULL;
  JsonObject *o, *lo = NULL, *alo = NULL;
  const gchar *app_id, *queue, *if_busy;
  MnIfBusy if_busy_value;
  const MnApp *app;
  const MnPolicyConfig *policy;
  gboolean bad = FALSE;
  gdouble v[MN_APP_N_FIELDS];
  MnLaunchRequest req = { 0 };
  MnRejectReason reason = MN_REJECT_NONE;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) s = NULL;

  if (user == NULL)
    return;
  if ((o = mn_api_parse_body (msg, parser)) == NULL)
    return;
  last = mn_controller_store_load_form (mn_controller_manager_get_store (api->manager), user);
  if (last && json_parser_load_from_data (last_parser, last, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (last_parser)))
    lo = json_node_get_object (json_parser_get_root (last_parser));

  app_id = mn_api_get_string (msg, o, "app", &bad);
  if (bad)
    return;
  if (app_id == NULL && lo && json_object_has_member (lo, "app"))
    app_id = json_object_get_string_member (lo, "app");
  if (app_id == NULL)
    return mn_api_reply_errorf (msg, 400, "app", "field 'app': missing");
  app = mn_controller_manager_find_app (api->manager, app_id);
  if (app == NULL)
    return mn_api_reply_errorf (msg, 400, "app", "field 'app': no app '%s'", app_id);
  /* the request's fields: ours and the app's own */
  g_strv_builder_addv (allowed_b, (const gchar **) base_fields);
  for (guint i = MN_APP_N_FIELDS; i < app->form->len; i++)
    g_strv_builder_add (allowed_b, ((const MnAppFormField *) g_ptr_array_index (app->form, i))->name);
  allowed = g_strv_builder_end (allowed_b);
  if (!mn_api_only_fields (msg, o, (const gchar *const *) allowed))
    return;
  alo = mn_api_last_values (app_last_parser, last, app->id);
  policy = mn_policy_state_get_config (mn_controller_manager_get_policy (api->manager));
  queue = mn_api_get_string (msg, o, "queue", &bad);
  if (bad)
    return;
  if (queue == NULL)
    queue = "interactive";
  if (!g_str_equal (queue, "interactive") && !g_str_equal (queue, "batch"))
    return mn_api_reply_errorf (msg, 400, "queue", "field 'queue': '%s' is neither 'interactive' nor 'batch'", queue);
  if_busy = mn_api_get_string (msg, o, "if_busy", &bad);
  if (bad)
    return;
  if (if_busy == NULL && lo && json_object_has_member (lo, "if_busy"))
    {
      /* the user's last choice; forms saved before the spelling was the
       * policy's said give-up */
      const gchar *last_if_busy = json_object_get_string_member_with_default (lo, "if_busy", "");
      if_busy = g_str_equal (last_if_busy, "give-up") ? "give_up" : last_if_busy;
      if (!mn_controller_if_busy_from_string (if_busy, &if_busy_value))
        if_busy = NULL;
    }
  if (if_busy == NULL)   /* the policy's [queue] if_busy */
    if_busy = mn_controller_if_busy_to_string (policy->if_busy);
  if (!mn_controller_if_busy_from_string (if_busy, &if_busy_value))
    return mn_api_reply_errorf (msg, 400, "if_busy", "field 'if_busy': '%s' is neither 'wait' nor 'give_up'", if_busy);

  for (gint f = 0; f < MN_APP_N_FIELDS; f++)
    {
      const gchar *name = mn_app_field_name (f);
      const MnAppFormField *ff = g_ptr_array_index (app->form, f);
      gboolean integer = f == MN_APP_FIELD_CORES || f == MN_APP_FIELD_GPUS;
      gdouble cap = mn_form_policy_cap (policy, ff->cap);
      gboolean interactive = g_str_equal (queue, "interactive");
      v[f] = app->fields[f].def;
      /* last values only when the same app: its bounds may differ */
      if (alo && ff->remember && json_object_has_member (alo, name) &&
          JSON_NODE_HOLDS_VALUE (json_object_get_member (alo, name)))
        {
          gdouble lv = json_object_get_double_member (alo, name);
          if (lv >= app->fields[f].min && lv <= app->fields[f].max &&
              (!interactive || lv <= cap))
            v[f] = lv;
        }
      /* the default, too, within the interactive queue's cap */
      if (interactive && v[f] > cap && !json_object_has_member (o, name))
        v[f] = MAX (app->fields[f].min, integer ? floor (cap) : cap);
      if (!get_number (msg, o, name, integer, app->fields[f].min, app->fields[f].max, &v[f]))
        return;
      /* the policy's cap, named with the field (the policy would refuse it
       * anyway, but without saying which field) */
      if (interactive && v[f] > cap)
        return mn_api_reply_errorf (msg, 400, name, "field '%s': %g is over the interactive queue's"
                            " limit of %g (the policy's %s)", name, v[f], cap,
                            mn_app_cap_to_string (ff->cap));
    }
  own = mn_form_read_own (api->forms, app, o, alo, user, &own_field, &error);
  if (own == NULL)
    return mn_api_reply_errorf (msg, 400, own_field, "%s", error->message);
  req.app = app->id;
  req.queue = queue;
  req.cores = (guint) v[MN_APP_FIELD_CORES];
  req.memory_mb = (guint64) llround (v[MN_APP_FIELD_MEMORY_GB] * 1024);
  req.gpus = (guint) v[MN_APP_FIELD_GPUS];
  req.walltime = MAX ((gint64) llround (v[MN_APP_FIELD_HOURS] * 3600), 1);
  req.if_busy = if_busy;
  req.form = own;

  s = mn_controller_manager_launch_later (api->manager, user, &req, &reason, &error);
  if (s == NULL)
    {
      if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED))
        return mn_api_reply_refusal (msg, 409, NULL, mn_reject_reason_to_string (reason),
                                     error->message);
      if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED))
        return mn_api_reply_refusal (msg, 409, "queue", "batch-not-allowed", error->message);
      if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID))
        return mn_api_reply_errorf (msg, 400, NULL, "%s", error->message);
      return mn_api_reply_errorf (msg, mn_api_error_status (error), NULL, "%s", error->message);
    }
  text = saved_form (lo, app, queue, if_busy, v, own);
  mn_controller_manager_save_form (api->manager, user, text);
  /* answered once the row is committed, with the launches beside it */
  r = g_new0 (LaunchReply, 1);
  r->api = api;
  r->msg = g_object_ref (msg);
  r->id = g_strdup (s->id);
  soup_server_message_pause (msg);
  mn_controller_manager_when_stored (api->manager, s->id, launch_stored, r);
}

void
mn_api_handle_list (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query)
{
  g_autofree gchar *user = mn_api_require_user (api, msg, NULL);
  gboolean admin, all;
  if (user == NULL)
    return;
  admin = mn_controller_config_is_admin (api->config, user);
  all = admin && !(query && g_strcmp0 (g_hash_table_lookup (query, "all"), "0") == 0);
  /* ?wait=S&since=TOKEN: held until the list changes (mn-controller-api-wait.c) */
  if (mn_api_waits_hold (api->waits, msg, query, user, all))
    return;
  mn_api_reply_list (api, msg, user, all);
}

void
mn_api_reply_list (MnControllerApi *api, SoupServerMessage *msg, const gchar *user, gboolean all)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *token = mn_api_waits_token (api->waits, user, all);
  list = mn_controller_store_list (mn_controller_manager_get_store (api->manager),
                                   all ? NULL : user, FALSE, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sessions");
  json_builder_begin_array (b);
  /* newest first, the last 200 */
  for (guint i = list ? list->len : 0, n = 0; i > 0 && n < 200; i--, n++)
    {
      const MnSession *row = g_ptr_array_index (list, i - 1);
      g_autoptr(MnSession) s = NULL;
      /* cards a user removed are not in their own list (the admin's "all" has them) */
      if (row->hidden && !all)
        {
          n--;
          continue;
        }
      s = mn_controller_manager_get (api->manager, row->id, NULL);
      if (s)
        mn_api_add_session (api, b, s, FALSE);
    }
  json_builder_end_array (b);
  /* the token of this list's last change: ?since= to wait for the next */
  json_builder_set_member_name (b, "changes");
  json_builder_add_string_value (b, token);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  mn_api_reply_json (msg, 200, root);
}

static MnSession *
own_session (MnControllerApi *api, SoupServerMessage *msg, const gchar *user, const gchar *id)
{
  MnSession *s = mn_controller_manager_get (api->manager, id, NULL);
  /* someone else's session looks like no session at all */
  if (s == NULL || (g_strcmp0 (s->user, user) != 0 && !mn_controller_config_is_admin (api->config, user)))
    {
      mn_session_free (s);
      mn_api_reply_errorf (msg, 404, NULL, "no session '%s'", id);
      return NULL;
    }
  return s;
}

void
mn_api_handle_session (MnControllerApi *api, SoupServerMessage *msg, const gchar *method, const gchar *id)
{
  g_autofree gchar *user = NULL;
  g_autoptr(MnSession) s = NULL;
  g_autoptr(GError) error = NULL;

  if (g_str_equal (method, "GET"))
    {
      if ((user = mn_api_require_user (api, msg, NULL)) == NULL || (s = own_session (api, msg, user, id)) == NULL)
        return;
      return reply_session (api, msg, 200, s);
    }
  if (!g_str_equal (method, "DELETE"))
    return mn_api_reply_errorf (msg, 405, NULL, "method %s not allowed here", method);
  if ((user = mn_api_require_state_change (api, msg, NULL)) == NULL || (s = own_session (api, msg, user, id)) == NULL)
    return;
  {
    g_autofree gchar *why = g_str_equal (user, s->user) ? g_strdup ("stopped by the user")
                                                        : g_strdup_printf ("stopped by %s", user);
    MnEndReason end = g_str_equal (user, s->user) ? MN_END_USER : MN_END_ADMIN;
    if (!mn_controller_manager_stop (api->manager, id, end, why, &error))
      return mn_api_reply_errorf (msg, mn_api_error_status (error), NULL, "%s", error->message);
  }
  mn_session_free (g_steal_pointer (&s));
  s = mn_controller_manager_get (api->manager, id, NULL);
  reply_session (api, msg, 200, s);
}

/* POST /api/v1/sessions/ID/hide: the user removes an ended card from their
 * list; the row stays (the admin's history, usage accounting). */
void
mn_api_handle_hide (MnControllerApi *api, SoupServerMessage *msg, const gchar *id)
{
  g_autofree gchar *user = mn_api_require_state_change (api, msg, NULL);
  g_autoptr(MnSession) s = NULL;
  g_autoptr(GError) error = NULL;
  MnControllerStore *store = mn_controller_manager_get_store (api->manager);
  if (user == NULL || (s = own_session (api, msg, user, id)) == NULL)
    return;
  if (!mn_session_state_is_final (s->state))
    return mn_api_reply_errorf (msg, 409, NULL, "session '%s' is %s: only an ended session's card can"
                        " be removed (stop it first)", id, mn_session_state_to_string (s->state));
  if (!s->hidden)
    {
      s->hidden = TRUE;
      if (!mn_controller_store_update (store, s, mn_controller_manager_now (api->manager),
                                       "removed from the user's list", &error))
        return mn_api_reply_errorf (msg, 500, NULL, "%s", error->message);
    }
  reply_session (api, msg, 200, s);
}

/* POST /api/v1/sessions/ID/extend: the answer waits for the scheduler. */
typedef struct {
  MnControllerApi   *api;
  SoupServerMessage *msg;
  gboolean           paused;
} ExtendReply;

static void
extend_done (const MnSession *s, const GError *error, gpointer data)
{
  ExtendReply *r = data;
  mn_controller_manager_flush_sessions (r->api->manager, TRUE);   /* what it answers is stored */
  if (s != NULL)
    reply_session (r->api, r->msg, 200, s);
  else
    {
      gboolean scheduler = g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND);
      guint status = scheduler || g_error_matches (error, MN_CONTROLLER_ERROR,
                                                   MN_CONTROLLER_ERROR_REFUSED) ? 409 : 500;
      mn_api_reply_refusal (r->msg, status, NULL, scheduler ? "scheduler" : "policy",
                            error->message);
    }
  if (r->paused)
    soup_server_message_unpause (r->msg);
  g_object_unref (r->msg);
  g_free (r);
}

void
mn_api_handle_extend (MnControllerApi *api, SoupServerMessage *msg, const gchar *id)
{
  g_autofree gchar *user = mn_api_require_state_change (api, msg, NULL);
  g_autoptr(MnSession) s = NULL;
  ExtendReply *r;
  if (user == NULL || (s = own_session (api, msg, user, id)) == NULL)
    return;
  r = g_new0 (ExtendReply, 1);
  r->api = api;
  r->msg = g_object_ref (msg);
  /* paused only while the scheduler's command runs: done may come at once */
  soup_server_message_pause (msg);
  r->paused = TRUE;
  mn_controller_manager_extend (api->manager, id, extend_done, r);
}
