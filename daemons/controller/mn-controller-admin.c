/* mn-controller-admin.c: the admin API and the error pages (see the header). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-admin.h"
#include "mn-controller-accounting.h"
#include "mn-controller-api-private.h"
#include "mn-controller-output.h"
#include "mn-controller-store-admin.h"

#include <string.h>

#define OUTPUT_DEFAULT (64 * 1024)
#define OUTPUT_MAX (1024 * 1024)
#define PAGE_DEFAULT 50
#define PAGE_MAX 500

static void G_GNUC_PRINTF (4, 5)
reply_error (SoupServerMessage *msg, guint status, const gchar *field, const gchar *fmt, ...)
{
  g_autofree gchar *text = NULL;
  va_list ap;
  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  mn_api_reply_error (msg, status, field, text);
}

static void
reply_builder (SoupServerMessage *msg, guint status, JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  mn_api_reply_json (msg, status, root);
}

/* The administrator's name, or NULL with 401/403 sent. */
static gchar *
require_admin (MnControllerApi *api, SoupServerMessage *msg, gboolean state_change)
{
  g_autofree gchar *user = state_change ? mn_api_require_state_change (api, msg, NULL)
                                        : mn_api_require_user (api, msg, NULL);
  if (user == NULL)
    return NULL;
  if (!mn_controller_config_is_admin (mn_api_get_config (api), user))
    {
      g_message ("%s asked for the admin API and was refused (not in [server] admins)", user);
      reply_error (msg, 403, NULL, "this needs an administrator's login");
      return NULL;
    }
  return g_steal_pointer (&user);
}

static const gchar *
param (GHashTable *query, const gchar *name)
{
  const gchar *v = query != NULL ? g_hash_table_lookup (query, name) : NULL;
  return v != NULL && *v != '\0' ? v : NULL;
}

/* An optional whole number in [min, max]; FALSE with a 400 naming it. */
static gboolean
int_param (SoupServerMessage *msg, GHashTable *query, const gchar *name, gint64 min, gint64 max,
           gint64 *out)
{
  const gchar *v = param (query, name);
  if (v == NULL)
    return TRUE;
  if (!g_ascii_string_to_signed (v, 10, min, max, out, NULL))
    {
      reply_error (msg, 400, name, "field '%s': '%s' is not a whole number in %" G_GINT64_FORMAT
                   "..%" G_GINT64_FORMAT, name, v, min, max);
      return FALSE;
    }
  return TRUE;
}

/* ---- GET admin/sessions ------------------------------------------------------- */

static void
handle_sessions (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query)
{
  MnControllerManager *manager = mn_api_get_manager (api);
  MnControllerStore *store = mn_controller_manager_get_store (manager);
  g_autofree gchar *admin = require_admin (api, msg, FALSE);
  g_auto(GStrv) states = NULL;
  g_auto(GStrv) users = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  MnStoreSessionFilter f = { .node = -1, .logical = -1 };
  gint64 node = -1, logical = -1, limit = PAGE_DEFAULT, offset = 0;
  guint64 total = 0;

  if (admin == NULL)
    return;
  if (!int_param (msg, query, "node", 0, G_MAXINT, &node) ||
      !int_param (msg, query, "logical", 0, G_MAXINT, &logical) ||
      !int_param (msg, query, "limit", 1, PAGE_MAX, &limit) ||
      !int_param (msg, query, "offset", 0, G_MAXINT, &offset))
    return;
  f.user = param (query, "user");
  f.node = (gint) node;
  f.logical = (gint) logical;
  if (param (query, "state") != NULL)
    {
      states = g_strsplit (param (query, "state"), ",", -1);
      for (gsize i = 0; states[i] != NULL; i++)
        {
          MnSessionState st;
          g_strstrip (states[i]);
          if (!g_str_equal (states[i], "live") && !mn_session_state_from_string (states[i], &st))
            return reply_error (msg, 400, "state",
                                "field 'state': '%s' is not a state (queued, starting, running,"
                                " ending, ended, failed, unknown, or live)", states[i]);
        }
      f.states = (const gchar *const *) states;
    }
  ids = mn_controller_store_admin_list (store, &f, (guint) limit, (guint) offset, &total, &error);
  users = ids != NULL ? mn_controller_store_admin_users (store, &error) : NULL;
  if (ids == NULL || users == NULL)
    return reply_error (msg, 500, NULL, "%s", error->message);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sessions");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    {
      /* the manager's copy of a live one has what the last poll saw */
      g_autoptr(MnSession) s = mn_controller_manager_get (manager, g_ptr_array_index (ids, i), NULL);
      if (s != NULL)
        mn_api_add_session (api, b, s, FALSE);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total");
  json_builder_add_int_value (b, (gint64) total);
  json_builder_set_member_name (b, "limit");
  json_builder_add_int_value (b, limit);
  json_builder_set_member_name (b, "offset");
  json_builder_add_int_value (b, offset);
  json_builder_set_member_name (b, "users");
  json_builder_begin_array (b);
  for (gsize i = 0; users[i] != NULL; i++)
    json_builder_add_string_value (b, users[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  reply_builder (msg, 200, b);
}

/* ---- admin/sessions/<id>/stop, /output ---------------------------------------------- */

static void
handle_stop (MnControllerApi *api, SoupServerMessage *msg, const gchar *id)
{
  MnControllerManager *manager = mn_api_get_manager (api);
  g_autofree gchar *admin = require_admin (api, msg, TRUE);
  g_autofree gchar *why = NULL;
  g_autoptr(MnSession) s = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (admin == NULL)
    return;
  s = mn_controller_manager_get (manager, id, NULL);
  if (s == NULL)
    return reply_error (msg, 404, NULL, "no session '%s'", id);
  if (mn_session_state_is_final (s->state))
    return reply_error (msg, 409, NULL, "session %s of %s has already %s", id, s->user,
                        mn_session_state_to_string (s->state));
  why = g_strdup_printf ("stopped by the administrator %s", admin);
  /* the log says who stopped whose session, whatever the page shows */
  g_message ("admin %s stops session %s of %s (%s)", admin, id, s->user,
             mn_session_state_to_string (s->state));
  if (!mn_controller_manager_stop (manager, id, MN_END_ADMIN, why, &error))
    return reply_error (msg, 500, NULL, "%s", error->message);
  mn_session_free (g_steal_pointer (&s));
  s = mn_controller_manager_get (manager, id, NULL);
  if (s == NULL)
    return reply_error (msg, 500, NULL, "session %s was stopped but cannot be read back", id);
  mn_api_add_session (api, b, s, FALSE);
  reply_builder (msg, 200, b);
}

static void
handle_output (MnControllerApi *api, SoupServerMessage *msg, const gchar *id, GHashTable *query)
{
  MnControllerManager *manager = mn_api_get_manager (api);
  g_autofree gchar *admin = require_admin (api, msg, FALSE);
  g_autoptr(MnSession) s = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree gchar *dir = NULL, *path = NULL, *raw = NULL, *text = NULL;
  gint64 bytes = OUTPUT_DEFAULT;
  guint64 size = 0;
  gboolean truncated = FALSE, exists = TRUE;

  if (admin == NULL)
    return;
  if (!int_param (msg, query, "bytes", 1, OUTPUT_MAX, &bytes))
    return;
  s = mn_controller_manager_get (manager, id, NULL);
  if (s == NULL)
    return reply_error (msg, 404, NULL, "no session '%s'", id);
  dir = mn_controller_manager_session_dir (manager, id);
  path = g_build_filename (dir, "output.log", NULL);
  raw = mn_controller_output_tail (path, (gsize) bytes, &size, &truncated, &error);
  if (raw == NULL && g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_FOUND))
    {
      exists = FALSE;   /* not submitted yet, or cleaned away */
      raw = g_strdup ("");
    }
  else if (raw == NULL)
    {
      g_warning ("output of session %s: %s", id, error->message);
      return reply_error (msg, 409, NULL, "the output of session %s cannot be shown: %s", id,
                          error->message);
    }
  {
    const gchar *secrets[] = { s->token, NULL };
    text = mn_controller_output_scrub (raw, secrets);
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, s->id);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, s->user);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, mn_session_state_to_string (s->state));
  json_builder_set_member_name (b, "exists");
  json_builder_add_boolean_value (b, exists);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) size);
  json_builder_set_member_name (b, "truncated");
  json_builder_add_boolean_value (b, truncated);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  reply_builder (msg, 200, b);
}

/* ---- GET admin/occupancy ------------------------------------------------------------ */

static void
handle_occupancy (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *admin = require_admin (api, msg, FALSE);
  g_autoptr(JsonBuilder) b = NULL;

  if (admin == NULL)
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  mn_api_add_occupancy (b, mn_api_get_manager (api), TRUE);
  json_builder_end_object (b);
  reply_builder (msg, 200, b);
}

/* ---- GET admin/accounting ----------------------------------------------------------- */

static void
handle_accounting (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query)
{
  MnControllerManager *manager = mn_api_get_manager (api);
  const MnControllerConfig *config = mn_api_get_config (api);
  const MnPolicyConfig *policy = mn_policy_state_get_config (mn_controller_manager_get_policy (manager));
  g_autofree gchar *admin = require_admin (api, msg, FALSE);
  gint64 now = mn_controller_manager_now (manager);
  g_autofree gchar *this_month = mn_accounting_month_of (now);
  const gchar *from_text = param (query, "from"), *to_text = param (query, "to");
  const gchar *by = param (query, "by"), *format = param (query, "format");
  gint64 from = 0, from_next = 0, to_start = 0, to = 0;
  gboolean by_group;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sessions = NULL;
  g_autoptr(GPtrArray) rows = NULL;

  if (admin == NULL)
    return;
  /* months, both included; by default this month, or just 'from' */
  if (from_text == NULL)
    from_text = this_month;
  if (to_text == NULL)
    to_text = from_text;
  if (!mn_accounting_parse_month (from_text, "from", &from, &from_next, &error))
    return reply_error (msg, 400, "from", "%s", error->message);
  if (!mn_accounting_parse_month (to_text, "to", &to_start, &to, &error))
    return reply_error (msg, 400, "to", "%s", error->message);
  if (to <= from)
    return reply_error (msg, 400, "to", "field 'to': %s is before 'from' (%s)", to_text, from_text);
  if (by != NULL && !g_str_equal (by, "user") && !g_str_equal (by, "group"))
    return reply_error (msg, 400, "by", "field 'by': '%s' is neither 'user' nor 'group'", by);
  if (format != NULL && !g_str_equal (format, "json") && !g_str_equal (format, "csv"))
    return reply_error (msg, 400, "format", "field 'format': '%s' is neither 'json' nor 'csv'", format);
  by_group = by != NULL && g_str_equal (by, "group");
  sessions = mn_controller_store_accounting (mn_controller_manager_get_store (manager), from, to, &error);
  if (sessions == NULL)
    return reply_error (msg, 500, NULL, "%s", error->message);
  rows = mn_accounting_compute (policy, sessions, from, to, now, config->charge_coefficient,
                                by_group, mn_accounting_unix_group, NULL);

  if (format != NULL && g_str_equal (format, "csv"))
    {
      g_autofree gchar *first = mn_accounting_month_of (from);
      g_autofree gchar *last = mn_accounting_month_of (to - 1);
      g_autofree gchar *disposition = g_strdup_printf ("attachment; filename=\"minna-accounting-%s-to-%s-by-%s.csv\"",
                                                       first, last, by_group ? "group" : "user");
      gchar *csv = mn_accounting_csv (rows, by_group);
      SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
      soup_message_headers_replace (h, "Content-Disposition", disposition);
      soup_message_headers_replace (h, "Cache-Control", "no-store");
      soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/csv; charset=utf-8", SOUP_MEMORY_TAKE, csv,
                                        strlen (csv));
      return;
    }
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autofree gchar *first = mn_accounting_month_of (from);
    g_autofree gchar *last = mn_accounting_month_of (to - 1);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "from");
    json_builder_add_string_value (b, first);
    json_builder_set_member_name (b, "to");
    json_builder_add_string_value (b, last);
    json_builder_set_member_name (b, "by");
    json_builder_add_string_value (b, by_group ? "group" : "user");
    json_builder_set_member_name (b, "charge_coefficient");
    json_builder_add_double_value (b, config->charge_coefficient);
    json_builder_set_member_name (b, "node_cores");
    json_builder_add_int_value (b, policy->node_cores);
    json_builder_set_member_name (b, "rows");
    json_builder_begin_array (b);
    for (guint i = 0; i < rows->len; i++)
      {
        const MnAccountingRow *r = g_ptr_array_index (rows, i);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "month");
        json_builder_add_string_value (b, r->month);
        if (!by_group)
          {
            json_builder_set_member_name (b, "user");
            json_builder_add_string_value (b, r->user);
          }
        json_builder_set_member_name (b, "group");
        json_builder_add_string_value (b, r->group);
        json_builder_set_member_name (b, "sessions");
        json_builder_add_int_value (b, r->sessions);
        json_builder_set_member_name (b, "hours");
        json_builder_add_double_value (b, r->hours);
        json_builder_set_member_name (b, "node_hours");
        json_builder_add_double_value (b, r->node_hours);
        json_builder_set_member_name (b, "charged_node_hours");
        json_builder_add_double_value (b, r->charged_node_hours);
        json_builder_end_object (b);
      }
    json_builder_end_array (b);
    json_builder_end_object (b);
    reply_builder (msg, 200, b);
  }
}

/* ---- dispatch ------------------------------------------------------------------ */

void
mn_controller_admin_dispatch (MnControllerApi *api, SoupServerMessage *msg, const gchar *method,
                              const gchar *path, GHashTable *query)
{
  gboolean get = g_str_equal (method, "GET"), post = g_str_equal (method, "POST");
  if (g_str_equal (path, "sessions") && get)
    return handle_sessions (api, msg, query);
  if (g_str_equal (path, "occupancy") && get)
    return handle_occupancy (api, msg);
  if (g_str_equal (path, "accounting") && get)
    return handle_accounting (api, msg, query);
  if (g_str_has_prefix (path, "sessions/"))
    {
      const gchar *id = path + strlen ("sessions/");
      const gchar *slash = strchr (id, '/');
      g_autofree gchar *sid = slash != NULL ? g_strndup (id, slash - id) : NULL;
      if (sid != NULL && *sid != '\0' && g_str_equal (slash, "/stop") && post)
        return handle_stop (api, msg, sid);
      if (sid != NULL && *sid != '\0' && g_str_equal (slash, "/output") && get)
        return handle_output (api, msg, sid, query);
    }
  reply_error (msg, 404, NULL, "no %s /api/v1/admin/%s", method, path);
}

/* ---- error pages --------------------------------------------------------------- */

static gboolean
wants_page (SoupServerMessage *msg, const gchar *method)
{
  const gchar *accept = soup_message_headers_get_list (soup_server_message_get_request_headers (msg),
                                                       "Accept");
  return (g_str_equal (method, "GET") || g_str_equal (method, "HEAD")) && accept != NULL &&
         strstr (accept, "text/html") != NULL;
}

gboolean
mn_controller_admin_error_page (MnControllerApi *api, SoupServerMessage *msg, const gchar *method,
                                guint status)
{
  g_autofree gchar *name = g_strdup_printf ("%u.html", status);
  g_autofree gchar *full = g_build_filename (mn_api_get_config (api)->www_dir, name, NULL);
  gchar *data = NULL;
  gsize len = 0;
  if (!wants_page (msg, method) || !g_file_get_contents (full, &data, &len, NULL))
    return FALSE;
  mn_api_page_headers (msg);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE, data, len);
  return TRUE;
}

gboolean
mn_controller_admin_page_refused (MnControllerApi *api, SoupServerMessage *msg, const gchar *method)
{
  g_autofree gchar *user = NULL;
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    return FALSE;
  user = mn_api_login_user (api, msg);
  if (user == NULL || mn_controller_config_is_admin (mn_api_get_config (api), user))
    return FALSE;
  if (mn_controller_admin_error_page (api, msg, method, 403))
    return TRUE;
  return FALSE;
}
