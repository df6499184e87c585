/* mn-controller-api-status.c: what the relay and the portal read about
 * the whole queue: routes, interactive.q's occupancy, usage, faults and
 * the Prometheus /metrics. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

#include <openssl/crypto.h>
#include <string.h>

/* ---- routes, queue, usage, metrics ----------------------------------------------------- */

/* GET /api/v1/faults (admins): what the store refused and what a start
 * found amiss (mn_controller_manager_faults). */
void
mn_api_handle_faults (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = mn_api_require_user (api, msg, NULL);
  g_autoptr(JsonNode) root = NULL;
  if (user == NULL)
    return;
  if (!mn_controller_config_is_admin (api->config, user))
    return mn_api_reply_errorf (msg, 403, NULL, "only admins see the faults");
  root = mn_controller_manager_faults (api->manager);
  mn_api_reply_json (msg, 200, root);
}

void
mn_api_handle_routes (MnControllerApi *api, SoupServerMessage *msg)
{
  const gchar *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");
  g_autofree gchar *want = api->relay_secret ? g_strdup_printf ("Bearer %s", api->relay_secret) : NULL;
  g_autoptr(GPtrArray) live = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  if (want == NULL || auth == NULL || strlen (auth) != strlen (want) ||
      CRYPTO_memcmp (auth, want, strlen (want)) != 0)
    return mn_api_reply_errorf (msg, 401, NULL, "bearer secret required");
  live = mn_controller_manager_list_live (api->manager, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "routes");
  json_builder_begin_array (b);
  for (guint i = 0; i < live->len; i++)
    {
      MnSession *s = g_ptr_array_index (live, i);
      MnSessionState st = s->state == MN_SESSION_UNKNOWN ? s->prev_state : s->state;
      g_autofree gchar *upstream = NULL;
      if (st != MN_SESSION_RUNNING || s->host == NULL)
        continue;
      upstream = g_strdup_printf ("http://%s:%u", s->host, s->port);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, s->id);
      json_builder_set_member_name (b, "upstream");
      json_builder_add_string_value (b, upstream);
      json_builder_set_member_name (b, "owner");
      json_builder_add_string_value (b, s->user);
      json_builder_set_member_name (b, "token");
      json_builder_add_string_value (b, s->token);
      json_builder_set_member_name (b, "expires");
      json_builder_add_int_value (b, mn_session_walltime_end (s));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  /* the relay's live set of logins, loaded with the routes at its start */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonArray) logins = mn_controller_logins_json (api->logins,
                                                             mn_controller_manager_now (api->manager),
                                                             &error);
    if (logins == NULL)
      return mn_api_reply_errorf (msg, 500, NULL, "%s", error->message);
    json_builder_set_member_name (b, "logins");
    json_builder_add_value (b, json_node_init_array (json_node_alloc (), logins));
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  mn_api_reply_json (msg, 200, root);
}

void
mn_api_handle_queue (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = mn_api_require_user (api, msg, NULL);
  MnPolicyState *ps = mn_controller_manager_get_policy (api->manager);
  const MnPolicyConfig *c;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  MnLaunchRequest req = { 0 };
  gint64 est;
  if (user == NULL)
    return;
  c = mn_policy_state_get_config (ps);
  json_builder_begin_object (b);
  mn_api_add_occupancy (b, api->manager, FALSE);
  json_builder_set_member_name (b, "limits");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "max_jobs_per_user");
  json_builder_add_int_value (b, c->max_jobs_per_user);
  json_builder_set_member_name (b, "your_jobs");
  json_builder_add_int_value (b, mn_policy_state_user_jobs (ps, user));
  json_builder_set_member_name (b, "max_cores");
  json_builder_add_int_value (b, c->job_max_cores);
  json_builder_set_member_name (b, "max_memory_gb");
  json_builder_add_double_value (b, c->job_max_memory_mb / 1024.0);
  json_builder_set_member_name (b, "max_gpus");
  json_builder_add_int_value (b, c->job_max_gpus);
  json_builder_set_member_name (b, "max_hours");
  json_builder_add_double_value (b, c->max_walltime / 3600.0);
  json_builder_end_object (b);
  /* what the launch form offers: the policy's default for if_busy, and
   * whether batch requests are taken at all */
  json_builder_set_member_name (b, "if_busy");
  json_builder_add_string_value (b, mn_controller_if_busy_to_string (c->if_busy));
  json_builder_set_member_name (b, "batch");
  json_builder_add_boolean_value (b, mn_controller_manager_batch_allowed (api->manager));
  req.cores = 1;
  req.memory_mb = 1024;
  req.walltime = 3600;
  est = mn_controller_manager_estimate_start (api->manager, NULL, &req, user);
  json_builder_set_member_name (b, "estimated_start");
  if (est == G_MAXINT64)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, est);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  mn_api_reply_json (msg, 200, root);
}

static gboolean
parse_time (const gchar *text, gint64 *out)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree gchar *iso = NULL;
  if (g_ascii_string_to_signed (text, 10, 0, G_MAXINT64 / 2, out, NULL))
    return TRUE;
  iso = strlen (text) == 10 ? g_strconcat (text, "T00:00:00Z", NULL) : g_strdup (text);
  dt = g_date_time_new_from_iso8601 (iso, g_time_zone_new_utc ());
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

void
mn_api_handle_usage (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query)
{
  g_autofree gchar *user = mn_api_require_user (api, msg, NULL);
  static const gchar *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  gint64 from = 0, to = mn_controller_manager_now (api->manager) + 1;
  guint64 by_hour[24], by_day[7], total = 0;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  const gchar *v;
  if (user == NULL)
    return;
  if (query && (v = g_hash_table_lookup (query, "from")) && !parse_time (v, &from))
    return mn_api_reply_errorf (msg, 400, "from", "field 'from': '%s' is neither Unix seconds nor an ISO 8601 date", v);
  if (query && (v = g_hash_table_lookup (query, "to")) && !parse_time (v, &to))
    return mn_api_reply_errorf (msg, 400, "to", "field 'to': '%s' is neither Unix seconds nor an ISO 8601 date", v);
  if (to < from)
    return mn_api_reply_errorf (msg, 400, "to", "field 'to': before 'from'");
  if (!mn_controller_store_usage (mn_controller_manager_get_store (api->manager), from, to,
                                  by_hour, by_day, &total, &error))
    return mn_api_reply_errorf (msg, 500, NULL, "%s", error->message);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "from");
  json_builder_add_int_value (b, from);
  json_builder_set_member_name (b, "to");
  json_builder_add_int_value (b, to);
  json_builder_set_member_name (b, "launches");
  json_builder_add_int_value (b, (gint64) total);
  json_builder_set_member_name (b, "by_hour");
  json_builder_begin_array (b);
  for (gint h = 0; h < 24; h++)
    json_builder_add_int_value (b, (gint64) by_hour[h]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "by_weekday");
  json_builder_begin_object (b);
  for (gint d = 0; d < 7; d++)
    {
      json_builder_set_member_name (b, days[d]);
      json_builder_add_int_value (b, (gint64) by_day[d]);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  mn_api_reply_json (msg, 200, root);
}

void
mn_api_handle_metrics (MnControllerApi *api, SoupServerMessage *msg)
{
  GString *s = g_string_new (NULL);
  const MnManagerCounters *c = mn_controller_manager_get_counters (api->manager);
  MnPolicyState *ps = mn_controller_manager_get_policy (api->manager);
  g_autoptr(GPtrArray) live = mn_controller_manager_list_live (api->manager, NULL);
  guint by_state[MN_SESSION_UNKNOWN + 1] = { 0 };
  gsize len;

  for (guint i = 0; i < live->len; i++)
    by_state[((MnSession *) g_ptr_array_index (live, i))->state]++;
  g_string_append (s, "# HELP minna_sessions Live sessions by state.\n# TYPE minna_sessions gauge\n");
  for (gint st = 0; st <= MN_SESSION_UNKNOWN; st++)
    if (!mn_session_state_is_final (st))
      g_string_append_printf (s, "minna_sessions{state=\"%s\"} %u\n", mn_session_state_to_string (st), by_state[st]);
  g_string_append_printf (s, "# HELP minna_launches_total Launch requests admitted.\n# TYPE minna_launches_total counter\n"
                          "minna_launches_total %" G_GUINT64_FORMAT "\n", c->launches);
  g_string_append (s, "# HELP minna_refusals_total Launch requests refused by the policy.\n# TYPE minna_refusals_total counter\n");
  for (gint r = 1; r <= MN_REJECT_MALFORMED; r++)
    g_string_append_printf (s, "minna_refusals_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            mn_reject_reason_to_string (r), c->refused_by_reason[r]);
  g_string_append_printf (s, "# TYPE minna_sessions_ready_total counter\nminna_sessions_ready_total %" G_GUINT64_FORMAT "\n"
                          "# TYPE minna_sessions_failed_total counter\nminna_sessions_failed_total %" G_GUINT64_FORMAT "\n"
                          "# TYPE minna_backend_polls_total counter\nminna_backend_polls_total %" G_GUINT64_FORMAT "\n"
                          "# TYPE minna_backend_poll_errors_total counter\nminna_backend_poll_errors_total %" G_GUINT64_FORMAT "\n",
                          c->ready, c->failed, c->polls, c->poll_errors);
  g_string_append_printf (s, "# TYPE minna_logins_total counter\nminna_logins_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
                          "minna_logins_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n"
                          "minna_logins_total{result=\"throttled\"} %" G_GUINT64_FORMAT "\n"
                          "# TYPE minna_request_bodies_refused_total counter\n"
                          "minna_request_bodies_refused_total %" G_GUINT64_FORMAT "\n",
                          api->logins_ok, api->logins_failed, api->logins_throttled,
                          api->bodies_refused);
  g_string_append_printf (s, "# TYPE minna_interactive_running gauge\nminna_interactive_running %u\n"
                          "# TYPE minna_interactive_waiting gauge\nminna_interactive_waiting %u\n"
                          "# TYPE minna_http_requests_total counter\nminna_http_requests_total %" G_GUINT64_FORMAT "\n",
                          mn_policy_state_n_running (ps), mn_policy_state_n_waiting (ps), api->requests);
  g_string_append_printf (s, "# HELP minna_session_lists_held Session lists held until they change (?wait=).\n"
                          "# TYPE minna_session_lists_held gauge\nminna_session_lists_held %u\n",
                          mn_api_waits_n_held (api->waits));
  {
    /* issue 20: what the store refused and what is still to be stored */
    g_autoptr(JsonNode) faults = mn_controller_manager_faults (api->manager);
    JsonObject *f = json_node_get_object (faults);
    JsonObject *store = json_object_get_object_member (f, "store");
    g_string_append_printf (s, "# HELP minna_store_refusals_total Changes the database refused (not carried out).\n"
                            "# TYPE minna_store_refusals_total counter\nminna_store_refusals_total %" G_GINT64_FORMAT "\n"
                            "# HELP minna_store_pending Ends and job ids that happened but are not stored yet (retried).\n"
                            "# TYPE minna_store_pending gauge\nminna_store_pending{kind=\"end\"} %u\n"
                            "minna_store_pending{kind=\"job_id\"} %u\n"
                            "# HELP minna_reconcile_findings What the last start found amiss between the database and what runs.\n"
                            "# TYPE minna_reconcile_findings gauge\nminna_reconcile_findings %u\n",
                            json_object_get_int_member (store, "refusals"),
                            json_array_get_length (json_object_get_array_member (f, "pending")),
                            json_array_get_length (json_object_get_array_member (f, "unsaved_jobs")),
                            json_array_get_length (json_object_get_array_member (f, "reconcile")));
  }
  len = s->len;
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE,
                                    g_string_free (s, FALSE), len);
}

/* /metrics tells who is busy and how logins fare: not for the internet
 * (the relay passes every portal path on).  A scraper shows the bearer of
 * [server] metrics_secret_file; a browser, an admin's login. */
gboolean
mn_api_metrics_allowed (MnControllerApi *api, SoupServerMessage *msg)
{
  const gchar *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");
  g_autofree gchar *user = NULL, *why = NULL;
  if (api->metrics_bearer != NULL && auth != NULL && strlen (auth) == strlen (api->metrics_bearer) &&
      CRYPTO_memcmp (auth, api->metrics_bearer, strlen (auth)) == 0)
    return TRUE;
  user = mn_controller_logins_check (api->logins, mn_api_cookie_header (msg),
                                     mn_controller_manager_now (api->manager), NULL, &why);
  if (user != NULL && mn_controller_config_is_admin (api->config, user))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "WWW-Authenticate", "Bearer realm=\"minna-controller metrics\"");
  mn_api_reply_errorf (msg, user != NULL ? 403 : 401, NULL,
               "/metrics needs the bearer of [server] metrics_secret_file or an admin's login");
  return FALSE;
}
