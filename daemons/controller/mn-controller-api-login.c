/* mn-controller-api-login.c: logging in (PAM in a thread, throttled per
 * user and per address, the relay told of the login), logging out, and
 * who is logged in. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

#include <string.h>

/* ---- login -------------------------------------------------------------- */

typedef struct {
  MnControllerApi   *api;
  SoupServerMessage *msg;
  gchar             *user;
  gchar             *password;
  gchar             *addr_key;
  gchar             *user_key;
  gboolean           ok;
  gchar             *error;
} LoginJob;

static void
login_job_free (LoginJob *j)
{
  g_object_unref (j->msg);
  g_free (j->user);
  if (j->password)
    {
      memset (j->password, 0, strlen (j->password));
      g_free (j->password);
    }
  g_free (j->addr_key);
  g_free (j->user_key);
  g_free (j->error);
  g_free (j);
}

static void
login_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LoginJob *j = data;
  g_auto(GStrv) methods = g_strsplit (j->api->config->auth, ",", -1);
  for (gsize i = 0; methods[i] != NULL && !j->ok; i++)
    {
      g_autoptr(GError) error = NULL;
      g_strstrip (methods[i]);
      if (g_str_equal (methods[i], "users-file"))
        j->ok = mn_auth_users_file_check (j->api->config->users_file, j->user, j->password, &error);
      else if (g_str_equal (methods[i], "pam"))
        j->ok = mn_auth_pam_check ("minna", j->user, j->password, &error);
      if (error != NULL)
        {
          g_warning ("login of %s: %s", j->user, error->message);
          g_free (j->error);
          j->error = g_strdup (error->message);
        }
    }
  g_task_return_boolean (task, TRUE);
}

/* The answer to a login or logout is held until the relay has the change:
 * the browser's next request through it must find the login (or not find
 * the logged-out one).  A relay that cannot be told gets the whole set
 * later; the answer goes out anyway. */
static void
relay_told (gboolean relay_knows, gpointer data)
{
  SoupServerMessage *msg = data;
  if (!relay_knows)
    g_message ("the relay has not taken a login change yet; it gets the whole set when it answers");
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
login_done (GObject *source, GAsyncResult *result, gpointer data)
{
  LoginJob *j = g_task_get_task_data (G_TASK (result));
  MnControllerApi *api = j->api;
  gint64 now = mn_controller_manager_now (api->manager);

  if (!j->ok)
    {
      /* already counted when it came in; the wait runs from now */
      gint64 mono = g_get_monotonic_time ();
      mn_login_throttle_settle (api->throttle, j->user_key, mono);
      mn_login_throttle_settle (api->addr_throttle, j->addr_key, mono);
      api->logins_failed++;
      g_message ("failed login for '%s' from %s", j->user, j->addr_key + 5);
      mn_api_reply_errorf (j->msg, 401, NULL, "wrong user name or password");
    }
  else
    {
      gint64 expires = now + api->config->cookie_lifetime;
      g_autoptr(GError) error = NULL;
      g_autofree gchar *login_id = NULL;
      g_autofree gchar *cookie = mn_controller_logins_create (api->logins, j->user,
                                                              j->addr_key + 5, now,
                                                              api->config->cookie_lifetime,
                                                              &login_id, relay_told,
                                                              g_object_ref (j->msg), &error);
      api->logins_ok++;
      /* the user proved the password at this address; the address only
       * gets this attempt back (someone's good login must not wipe the
       * count of guesses at other users from there) */
      mn_login_throttle_succeeded (api->throttle, j->user_key);
      mn_login_throttle_forgive (api->addr_throttle, j->addr_key);
      if (cookie == NULL)
        {
          g_warning ("login of %s: %s", j->user, error->message);
          mn_api_reply_errorf (j->msg, mn_api_error_status (error), NULL, "the login could not be stored: %s", error->message);
          g_object_unref (j->msg);   /* relay_told's reference: not called */
        }
      else
        {
          g_autofree gchar *csrf = mn_api_csrf_for (api, login_id);
          g_autofree gchar *header = g_strdup_printf ("%s=%s; Path=/; Max-Age=%" G_GINT64_FORMAT
                                                      "; HttpOnly; Secure; SameSite=Strict",
                                                      MN_AUTH_COOKIE_NAME, cookie,
                                                      api->config->cookie_lifetime);
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonNode) root = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "user");
          json_builder_add_string_value (b, j->user);
          json_builder_set_member_name (b, "csrf_token");
          json_builder_add_string_value (b, csrf);
          json_builder_set_member_name (b, "expires");
          json_builder_add_int_value (b, expires);
          json_builder_set_member_name (b, "admin");
          json_builder_add_boolean_value (b, mn_controller_config_is_admin (api->config, j->user));
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          soup_message_headers_append (soup_server_message_get_response_headers (j->msg),
                                       "Set-Cookie", header);
          mn_api_reply_json (j->msg, 200, root);
          return;   /* relay_told sends it */
        }
    }
  soup_server_message_unpause (j->msg);
}

/* For the per-address slow-down: behind the relay every login comes from
 * the relay, whose own last X-Forwarded-For entry names the client.  An
 * IPv6 client counts by its /64 (one host has them all). */
static gchar *
client_address (MnControllerApi *api, SoupServerMessage *msg)
{
  const gchar *remote = soup_server_message_get_remote_host (msg);
  const gchar *xff = soup_message_headers_get_list (soup_server_message_get_request_headers (msg),
                                                    "X-Forwarded-For");
  g_autofree gchar *addr = NULL;
  g_autoptr(GInetAddress) ia = NULL;
  if (xff != NULL && mn_api_from_relay (api, msg))
    {
      const gchar *last = strrchr (xff, ',');
      addr = g_strstrip (g_strdup (last ? last + 1 : xff));
    }
  else
    addr = g_strdup (remote ? remote : "unknown");
  ia = g_inet_address_new_from_string (addr);
  if (ia != NULL && g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6 &&
      !g_inet_address_get_is_loopback (ia))
    {
      const guint8 *b = g_inet_address_to_bytes (ia);
      return g_strdup_printf ("%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", b[0], b[1], b[2], b[3],
                              b[4], b[5], b[6], b[7]);
    }
  /* a relay that says nothing usable still counts as one address */
  return ia != NULL ? g_inet_address_to_string (ia) : g_strdup ("unknown");
}

void
mn_api_handle_login (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  static const gchar *const fields[] = { "user", "password", NULL };
  JsonObject *o;
  const gchar *user, *password;
  gboolean bad = FALSE;
  gint64 now = g_get_monotonic_time ();   /* the throttle's clock */
  gint64 wait;
  LoginJob *j;
  g_autoptr(GTask) task = NULL;

  if (!mn_api_origin_ok (api, msg))
    return mn_api_reply_errorf (msg, 403, NULL, "request from a foreign origin refused");
  if ((o = mn_api_parse_body (msg, parser)) == NULL || !mn_api_only_fields (msg, o, fields))
    return;
  user = mn_api_get_string (msg, o, "user", &bad);
  if (bad)
    return;
  password = mn_api_get_string (msg, o, "password", &bad);
  if (bad)
    return;
  if (user == NULL || !mn_auth_user_name_valid (user))
    return mn_api_reply_errorf (msg, 400, "user", "field 'user': missing or not a valid user name");
  if (password == NULL)
    return mn_api_reply_errorf (msg, 400, "password", "field 'password': missing");

  j = g_new0 (LoginJob, 1);
  j->api = api;
  j->msg = g_object_ref (msg);
  j->user = g_strdup (user);
  j->password = g_strdup (password);
  {
    g_autofree gchar *addr = client_address (api, msg);
    j->addr_key = g_strdup_printf ("addr:%s", addr);
    /* per user at this address: guesses from elsewhere never slow the real
     * user down (mn-controller-auth.h) */
    j->user_key = g_strdup_printf ("user:%s@%s", user, addr);
  }
  wait = MAX (mn_login_throttle_wait (api->throttle, j->user_key, now),
              mn_login_throttle_wait (api->addr_throttle, j->addr_key, now));
  if (wait > 0)
    {
      /* whole seconds, rounded up: a client that waits as told finds the
       * wait over */
      gint64 seconds = (wait + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
      g_autofree gchar *retry = g_strdup_printf ("%" G_GINT64_FORMAT, seconds);
      api->logins_throttled++;
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", retry);
      mn_api_reply_errorf (msg, 429, NULL, "too many failed logins; try again in %" G_GINT64_FORMAT " s", seconds);
      login_job_free (j);
      return;
    }
  /* counted before it is checked: parallel guesses see each other (a
   * right password takes it back in login_done) */
  mn_login_throttle_failed (api->throttle, j->user_key, now);
  mn_login_throttle_failed (api->addr_throttle, j->addr_key, now);
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, login_done, NULL);
  g_task_set_task_data (task, j, (GDestroyNotify) login_job_free);
  g_task_run_in_thread (task, login_thread);
}

void
mn_api_handle_logout (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *login_id = NULL;
  g_autofree gchar *user = mn_api_require_state_change (api, msg, &login_id);
  g_autofree gchar *header = g_strdup_printf ("%s=; Path=/; Max-Age=0; HttpOnly; Secure;"
                                              " SameSite=Strict", MN_AUTH_COOKIE_NAME);
  g_autoptr(GError) error = NULL;
  if (user == NULL)
    return;
  /* revoked in the store before the answer (a restart keeps it), and the
   * relay told at once (mn-controller-logins.h) */
  if (!mn_controller_logins_revoke (api->logins, login_id,
                                    mn_controller_manager_now (api->manager), relay_told,
                                    g_object_ref (msg), &error))
    {
      g_object_unref (msg);
      return mn_api_reply_errorf (msg, mn_api_error_status (error), NULL, "the logout could not be stored: %s", error->message);
    }
  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie", header);
  {
    g_autoptr(JsonNode) root = json_from_string ("{\"logged_out\": true}", NULL);
    mn_api_reply_json (msg, 200, root);
  }
  soup_server_message_pause (msg);
}

void
mn_api_handle_me (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *login_id = NULL;
  g_autofree gchar *user = mn_api_require_user (api, msg, &login_id);
  g_autofree gchar *csrf = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *form = NULL;
  if (user == NULL)
    return;
  csrf = mn_api_csrf_for (api, login_id);
  form = mn_controller_store_load_form (mn_controller_manager_get_store (api->manager), user);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, user);
  json_builder_set_member_name (b, "admin");
  json_builder_add_boolean_value (b, mn_controller_config_is_admin (api->config, user));
  json_builder_set_member_name (b, "csrf_token");
  json_builder_add_string_value (b, csrf);
  json_builder_set_member_name (b, "last_form");
  if (form != NULL)
    json_builder_add_value (b, json_from_string (form, NULL));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  mn_api_reply_json (msg, 200, root);
}
