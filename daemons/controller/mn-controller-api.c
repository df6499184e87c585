/* mn-controller-api.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api.h"
#include "mn-controller-admin.h"
#include "mn-controller-api-private.h"
#include "mn-controller-auth.h"
#include "mn-controller-form.h"
#include "mn-controller-kernels.h"
#include "mn-controller-logins.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <openssl/crypto.h>
#include <string.h>

#define MAX_BODY (64 * 1024)

struct _MnControllerApi {
  MnControllerConfig  *config;   /* borrowed: lives as long as main */
  MnControllerManager *manager;
  MnAuthKey           *key;
  gchar               *relay_secret;
  SoupServer          *server;
  MnLoginThrottle     *throttle;       /* per user */
  MnLoginThrottle     *addr_throttle;  /* per client address */
  MnControllerKernels *kernels;
  MnFormSources       *forms;    /* options of app form fields (site commands, kernels) */
  MnControllerRelay   *relay;    /* for the logins; the manager has its own */
  MnControllerLogins  *logins;
  gchar               *relay_proof;    /* what the relay shows (X-Minna-Relay-Proof) */
  gchar               *metrics_bearer; /* "Bearer SECRET" for /metrics, or NULL */
  guint64              logins_ok, logins_failed, logins_throttled, requests, bodies_refused;
};

/* ---- responses ------------------------------------------------------------ */

static void
reply_json (SoupServerMessage *msg, guint status, JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  gchar *text;
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

static void
reply_error (SoupServerMessage *msg, guint status, const gchar *field, const gchar *fmt, ...)
  G_GNUC_PRINTF (4, 5);

static void
reply_error (SoupServerMessage *msg, guint status, const gchar *field, const gchar *fmt, ...)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  va_list ap;
  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, text);
  if (field != NULL)
    {
      json_builder_set_member_name (b, "field");
      json_builder_add_string_value (b, field);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  reply_json (msg, status, root);
}

/* A failure's HTTP status: the store's refusals are 507 (its disk is full)
 * or 503 (read-only, locked, failing): nothing was done, try again later. */
static guint
error_status (const GError *error)
{
  if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_FULL))
    return 507;
  if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_UNAVAILABLE) ||
      g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE))
    return 503;
  return 500;
}


/* ---- auth helpers ------------------------------------------------------- */

static const gchar *
cookie_header (SoupServerMessage *msg)
{
  return soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Cookie");
}

/* CSRF tokens are bound to the login, not to its cookie's spelling. */
static gchar *
csrf_for (MnControllerApi *api, const gchar *login_id)
{
  g_autofree gchar *data = g_strconcat ("csrf:", login_id, NULL);
  return mn_auth_hmac_hex (api->key, data);
}

/* The logged-in user, or NULL (and a 401 sent): the cookie must name a
 * login that is live in the store (mn-controller-logins.h). */
static gchar *
require_user (MnControllerApi *api, SoupServerMessage *msg, gchar **login_id)
{
  g_autofree gchar *why = NULL;
  gchar *user = mn_controller_logins_check (api->logins, cookie_header (msg),
                                            mn_controller_manager_now (api->manager),
                                            login_id, &why);
  if (user == NULL)
    reply_error (msg, 401, NULL, "%s", why);
  return user;
}

/* What the relay says about the client (the last X-Forwarded-For entry,
 * which it appends, and X-Forwarded-Host) is believed only from the relay:
 * a peer address in [server] trusted_proxies that also shows the relay's
 * proof (X-Minna-Relay-Proof, from the admin secret the two share).  Any
 * other local process on the same loopback address is just a client. */
static gboolean
from_relay (MnControllerApi *api, SoupServerMessage *msg)
{
  const gchar *remote = soup_server_message_get_remote_host (msg);
  const gchar *proof = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     MN_AUTH_RELAY_PROOF_HEADER);
  g_autoptr(GInetAddress) peer = remote != NULL ? g_inet_address_new_from_string (remote) : NULL;
  gboolean listed = FALSE;
  if (peer == NULL || api->relay_proof == NULL || proof == NULL ||
      strlen (proof) != strlen (api->relay_proof) ||
      CRYPTO_memcmp (proof, api->relay_proof, strlen (proof)) != 0)
    return FALSE;
  for (gsize i = 0; api->config->trusted_proxies != NULL && api->config->trusted_proxies[i]; i++)
    {
      g_autoptr(GInetAddress) a = g_inet_address_new_from_string (api->config->trusted_proxies[i]);
      listed = listed || (a != NULL && g_inet_address_equal (a, peer));
    }
  return listed;
}

static gboolean
origin_ok (MnControllerApi *api, SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *origin = soup_message_headers_get_one (h, "Origin");
  const gchar *hosts[] = { soup_message_headers_get_one (h, "Host"),
                           from_relay (api, msg) ? soup_message_headers_get_one (h, "X-Forwarded-Host") : NULL };
  if (origin == NULL)
    return TRUE;
  if (api->config->allowed_origins &&
      g_strv_contains ((const gchar *const *) api->config->allowed_origins, origin))
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree gchar *same_https = NULL, *same_http = NULL;
      if (hosts[i] == NULL)
        continue;
      same_https = g_strconcat ("https://", hosts[i], NULL);
      same_http = g_strconcat ("http://", hosts[i], NULL);
      if (g_str_equal (origin, same_https) || g_str_equal (origin, same_http))
        return TRUE;
    }
  return FALSE;
}

/* For POST/DELETE: Origin, then the CSRF token of the login. */
static gchar *
require_state_change (MnControllerApi *api, SoupServerMessage *msg, gchar **login_id)
{
  g_autofree gchar *cookie = NULL;
  g_autofree gchar *user = NULL;
  g_autofree gchar *want = NULL;
  const gchar *got;
  if (!origin_ok (api, msg))
    {
      reply_error (msg, 403, NULL, "request from a foreign origin refused");
      return NULL;
    }
  user = require_user (api, msg, &cookie);
  if (user == NULL)
    return NULL;
  want = csrf_for (api, cookie);
  got = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                      "X-CSRF-Token");
  if (got == NULL || strlen (got) != strlen (want) || CRYPTO_memcmp (got, want, strlen (want)) != 0)
    {
      reply_error (msg, 403, NULL, "missing or wrong X-CSRF-Token header");
      return NULL;
    }
  if (login_id != NULL)
    *login_id = g_steal_pointer (&cookie);
  return g_steal_pointer (&user);
}

static JsonObject *
parse_body (SoupServerMessage *msg, JsonParser *parser)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  if (body->length > MAX_BODY)
    {
      reply_error (msg, 413, NULL, "request body over %d bytes", MAX_BODY);
      return NULL;
    }
  if (body->length == 0 || !json_parser_load_from_data (parser, body->data, body->length, &error))
    {
      reply_error (msg, 400, NULL, "malformed JSON: %s", error ? error->message : "empty body");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      reply_error (msg, 400, NULL, "malformed JSON: expected an object");
      return NULL;
    }
  return json_node_get_object (root);
}

/* Unknown members are an error naming the member. */
static gboolean
only_fields (SoupServerMessage *msg, JsonObject *o, const gchar *const *allowed)
{
  g_autoptr(GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        reply_error (msg, 400, l->data, "unknown field '%s'", (const gchar *) l->data);
        return FALSE;
      }
  return TRUE;
}

static const gchar *
get_string (SoupServerMessage *msg, JsonObject *o, const gchar *field, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, field);
  if (n == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      reply_error (msg, 400, field, "field '%s': expected a string", field);
      *bad = TRUE;
      return NULL;
    }
  return json_node_get_string (n);
}

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
      reply_error (j->msg, 401, NULL, "wrong user name or password");
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
          reply_error (j->msg, error_status (error), NULL, "the login could not be stored: %s", error->message);
          g_object_unref (j->msg);   /* relay_told's reference: not called */
        }
      else
        {
          g_autofree gchar *csrf = csrf_for (api, login_id);
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
          reply_json (j->msg, 200, root);
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
  if (xff != NULL && from_relay (api, msg))
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

static void
handle_login (MnControllerApi *api, SoupServerMessage *msg)
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

  if (!origin_ok (api, msg))
    return reply_error (msg, 403, NULL, "request from a foreign origin refused");
  if ((o = parse_body (msg, parser)) == NULL || !only_fields (msg, o, fields))
    return;
  user = get_string (msg, o, "user", &bad);
  if (bad)
    return;
  password = get_string (msg, o, "password", &bad);
  if (bad)
    return;
  if (user == NULL || !mn_auth_user_name_valid (user))
    return reply_error (msg, 400, "user", "field 'user': missing or not a valid user name");
  if (password == NULL)
    return reply_error (msg, 400, "password", "field 'password': missing");

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
      reply_error (msg, 429, NULL, "too many failed logins; try again in %" G_GINT64_FORMAT " s", seconds);
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

static void
handle_logout (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *login_id = NULL;
  g_autofree gchar *user = require_state_change (api, msg, &login_id);
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
      return reply_error (msg, error_status (error), NULL, "the logout could not be stored: %s", error->message);
    }
  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie", header);
  {
    g_autoptr(JsonNode) root = json_from_string ("{\"logged_out\": true}", NULL);
    reply_json (msg, 200, root);
  }
  soup_server_message_pause (msg);
}

static void
handle_me (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *login_id = NULL;
  g_autofree gchar *user = require_user (api, msg, &login_id);
  g_autofree gchar *csrf = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *form = NULL;
  if (user == NULL)
    return;
  csrf = csrf_for (api, login_id);
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
  reply_json (msg, 200, root);
}

/* ---- apps ----------------------------------------------------------------- */

static void
handle_apps (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = require_user (api, msg, NULL);
  const GPtrArray *apps = mn_controller_manager_get_apps (api->manager);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  if (user == NULL)
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "apps");
  json_builder_begin_array (b);
  for (guint i = 0; i < apps->len; i++)
    {
      const MnApp *app = g_ptr_array_index (apps, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, app->id);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, app->name);
      json_builder_set_member_name (b, "description");
      json_builder_add_string_value (b, app->description);
      json_builder_set_member_name (b, "fields");
      json_builder_begin_object (b);
      for (gint f = 0; f < MN_APP_N_FIELDS; f++)
        {
          json_builder_set_member_name (b, mn_app_field_name (f));
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "min");
          json_builder_add_double_value (b, app->fields[f].min);
          json_builder_set_member_name (b, "max");
          json_builder_add_double_value (b, app->fields[f].max);
          json_builder_set_member_name (b, "default");
          json_builder_add_double_value (b, app->fields[f].def);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  reply_json (msg, 200, root);
}

/* The user's last values for @app_id: the "apps" map of the saved form
 * (one object per app), or, for forms saved before there was one, the
 * saved form itself when it was for that app.  Borrowed from @parser. */
static JsonObject *
last_values (JsonParser *parser, const gchar *saved, const gchar *app_id)
{
  JsonObject *o, *apps;
  if (saved == NULL || !json_parser_load_from_data (parser, saved, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
  if (json_object_has_member (o, "apps") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "apps")) &&
      (apps = json_object_get_object_member (o, "apps")) != NULL &&
      json_object_has_member (apps, app_id) &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (apps, app_id)))
    return json_object_get_object_member (apps, app_id);
  if (g_strcmp0 (json_object_get_string_member_with_default (o, "app", ""), app_id) == 0)
    return o;
  return NULL;
}

/* GET /api/v1/apps/ID/form: the app's form for this user (mn-controller-form.h) */
static void
handle_app_form (MnControllerApi *api, SoupServerMessage *msg, const gchar *rest)
{
  g_autofree gchar *user = require_user (api, msg, NULL);
  g_autofree gchar *id = g_strndup (rest, strlen (rest) - strlen ("/form"));
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree gchar *saved = NULL;
  g_autoptr(JsonNode) root = NULL;
  const MnApp *app;
  if (user == NULL)
    return;
  app = mn_controller_manager_find_app (api->manager, id);
  if (app == NULL)
    return reply_error (msg, 404, "app", "no app '%s'", id);
  saved = mn_controller_store_load_form (mn_controller_manager_get_store (api->manager), user);
  root = mn_form_describe (api->forms, app,
                           mn_policy_state_get_config (mn_controller_manager_get_policy (api->manager)),
                           last_values (parser, saved, app->id), user);
  reply_json (msg, 200, root);
}

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

static void
add_session (MnControllerApi *api, JsonBuilder *b, const MnSession *s, gboolean events)
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
  add_session (api, b, s, TRUE);
  root = json_builder_get_root (b);
  reply_json (msg, status, root);
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
      reply_error (msg, 400, field, "field '%s': expected a number", field);
      return FALSE;
    }
  v = t == G_TYPE_INT64 ? (gdouble) json_node_get_int (n) : json_node_get_double (n);
  if (integer && v != floor (v))
    {
      reply_error (msg, 400, field, "field '%s': expected a whole number, got %g", field, v);
      return FALSE;
    }
  if (!(v >= min && v <= max))
    {
      reply_error (msg, 400, field, "field '%s': %g is out of range (%g..%g)", field, v, min, max);
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

static void
handle_launch (MnControllerApi *api, SoupServerMessage *msg)
{
  static const gchar *const base_fields[] = { "app", "queue", "cores", "memory_gb", "gpus",
                                              "hours", "if_busy", NULL };
  g_autofree gchar *user = require_state_change (api, msg, NULL);
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
  if ((o = parse_body (msg, parser)) == NULL)
    return;
  last = mn_controller_store_load_form (mn_controller_manager_get_store (api->manager), user);
  if (last && json_parser_load_from_data (last_parser, last, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (last_parser)))
    lo = json_node_get_object (json_parser_get_root (last_parser));

  app_id = get_string (msg, o, "app", &bad);
  if (bad)
    return;
  if (app_id == NULL && lo && json_object_has_member (lo, "app"))
    app_id = json_object_get_string_member (lo, "app");
  if (app_id == NULL)
    return reply_error (msg, 400, "app", "field 'app': missing");
  app = mn_controller_manager_find_app (api->manager, app_id);
  if (app == NULL)
    return reply_error (msg, 400, "app", "field 'app': no app '%s'", app_id);
  /* the request's fields: ours and the app's own */
  g_strv_builder_addv (allowed_b, (const gchar **) base_fields);
  for (guint i = MN_APP_N_FIELDS; i < app->form->len; i++)
    g_strv_builder_add (allowed_b, ((const MnAppFormField *) g_ptr_array_index (app->form, i))->name);
  allowed = g_strv_builder_end (allowed_b);
  if (!only_fields (msg, o, (const gchar *const *) allowed))
    return;
  alo = last_values (app_last_parser, last, app->id);
  policy = mn_policy_state_get_config (mn_controller_manager_get_policy (api->manager));
  queue = get_string (msg, o, "queue", &bad);
  if (bad)
    return;
  if (queue == NULL)
    queue = "interactive";
  if (!g_str_equal (queue, "interactive") && !g_str_equal (queue, "batch"))
    return reply_error (msg, 400, "queue", "field 'queue': '%s' is neither 'interactive' nor 'batch'", queue);
  if_busy = get_string (msg, o, "if_busy", &bad);
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
    return reply_error (msg, 400, "if_busy", "field 'if_busy': '%s' is neither 'wait' nor 'give_up'", if_busy);

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
        return reply_error (msg, 400, name, "field '%s': %g is over the interactive queue's"
                            " limit of %g (the policy's %s)", name, v[f], cap,
                            mn_app_cap_to_string (ff->cap));
    }
  own = mn_form_read_own (api->forms, app, o, alo, user, &own_field, &error);
  if (own == NULL)
    return reply_error (msg, 400, own_field, "%s", error->message);
  req.app = app->id;
  req.queue = queue;
  req.cores = (guint) v[MN_APP_FIELD_CORES];
  req.memory_mb = (guint64) llround (v[MN_APP_FIELD_MEMORY_GB] * 1024);
  req.gpus = (guint) v[MN_APP_FIELD_GPUS];
  req.walltime = MAX ((gint64) llround (v[MN_APP_FIELD_HOURS] * 3600), 1);
  req.if_busy = if_busy;
  req.form = own;

  s = mn_controller_manager_launch (api->manager, user, &req, &reason, &error);
  if (s == NULL)
    {
      if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED))
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonNode) root = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, error->message);
          json_builder_set_member_name (b, "reason");
          json_builder_add_string_value (b, mn_reject_reason_to_string (reason));
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          return reply_json (msg, 409, root);
        }
      if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED))
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonNode) root = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, error->message);
          json_builder_set_member_name (b, "reason");
          json_builder_add_string_value (b, "batch-not-allowed");
          json_builder_set_member_name (b, "field");
          json_builder_add_string_value (b, "queue");
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          return reply_json (msg, 409, root);
        }
      if (g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID))
        return reply_error (msg, 400, NULL, "%s", error->message);
      return reply_error (msg, error_status (error), NULL, "%s", error->message);
    }
  text = saved_form (lo, app, queue, if_busy, v, own);
  mn_controller_store_save_form (mn_controller_manager_get_store (api->manager), user, text,
                                 mn_controller_manager_now (api->manager), NULL);
  reply_session (api, msg, 201, s);
}

static void
handle_list (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query)
{
  g_autofree gchar *user = require_user (api, msg, NULL);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  gboolean admin, all;
  if (user == NULL)
    return;
  admin = mn_controller_config_is_admin (api->config, user);
  all = admin && !(query && g_strcmp0 (g_hash_table_lookup (query, "all"), "0") == 0);
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
        add_session (api, b, s, FALSE);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  reply_json (msg, 200, root);
}

static MnSession *
own_session (MnControllerApi *api, SoupServerMessage *msg, const gchar *user, const gchar *id)
{
  MnSession *s = mn_controller_manager_get (api->manager, id, NULL);
  /* someone else's session looks like no session at all */
  if (s == NULL || (g_strcmp0 (s->user, user) != 0 && !mn_controller_config_is_admin (api->config, user)))
    {
      mn_session_free (s);
      reply_error (msg, 404, NULL, "no session '%s'", id);
      return NULL;
    }
  return s;
}

static void
handle_session (MnControllerApi *api, SoupServerMessage *msg, const gchar *method, const gchar *id)
{
  g_autofree gchar *user = NULL;
  g_autoptr(MnSession) s = NULL;
  g_autoptr(GError) error = NULL;

  if (g_str_equal (method, "GET"))
    {
      if ((user = require_user (api, msg, NULL)) == NULL || (s = own_session (api, msg, user, id)) == NULL)
        return;
      return reply_session (api, msg, 200, s);
    }
  if (!g_str_equal (method, "DELETE"))
    return reply_error (msg, 405, NULL, "method %s not allowed here", method);
  if ((user = require_state_change (api, msg, NULL)) == NULL || (s = own_session (api, msg, user, id)) == NULL)
    return;
  {
    g_autofree gchar *why = g_str_equal (user, s->user) ? g_strdup ("stopped by the user")
                                                        : g_strdup_printf ("stopped by %s", user);
    MnEndReason end = g_str_equal (user, s->user) ? MN_END_USER : MN_END_ADMIN;
    if (!mn_controller_manager_stop (api->manager, id, end, why, &error))
      return reply_error (msg, error_status (error), NULL, "%s", error->message);
  }
  mn_session_free (g_steal_pointer (&s));
  s = mn_controller_manager_get (api->manager, id, NULL);
  reply_session (api, msg, 200, s);
}

/* POST /api/v1/sessions/ID/hide: the user removes an ended card from their
 * list; the row stays (the admin's history, usage accounting). */
static void
handle_hide (MnControllerApi *api, SoupServerMessage *msg, const gchar *id)
{
  g_autofree gchar *user = require_state_change (api, msg, NULL);
  g_autoptr(MnSession) s = NULL;
  g_autoptr(GError) error = NULL;
  MnControllerStore *store = mn_controller_manager_get_store (api->manager);
  if (user == NULL || (s = own_session (api, msg, user, id)) == NULL)
    return;
  if (!mn_session_state_is_final (s->state))
    return reply_error (msg, 409, NULL, "session '%s' is %s: only an ended session's card can"
                        " be removed (stop it first)", id, mn_session_state_to_string (s->state));
  if (!s->hidden)
    {
      s->hidden = TRUE;
      if (!mn_controller_store_update (store, s, mn_controller_manager_now (api->manager),
                                       "removed from the user's list", &error))
        return reply_error (msg, 500, NULL, "%s", error->message);
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
  mn_controller_manager_flush (r->api->manager);   /* what it answers is stored */
  if (s != NULL)
    reply_session (r->api, r->msg, 200, s);
  else
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      guint status = g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED) ||
                     g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND)
                     ? 409 : 500;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error->message);
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, g_error_matches (error, MN_CONTROLLER_ERROR,
                                                         MN_CONTROLLER_ERROR_BACKEND)
                                        ? "scheduler" : "policy");
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      reply_json (r->msg, status, root);
    }
  if (r->paused)
    soup_server_message_unpause (r->msg);
  g_object_unref (r->msg);
  g_free (r);
}

static void
handle_extend (MnControllerApi *api, SoupServerMessage *msg, const gchar *id)
{
  g_autofree gchar *user = require_state_change (api, msg, NULL);
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

/* ---- routes, queue, usage, metrics ----------------------------------------------------- */

/* GET /api/v1/faults (admins): what the store refused and what a start
 * found amiss (mn_controller_manager_faults). */
static void
handle_faults (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = require_user (api, msg, NULL);
  g_autoptr(JsonNode) root = NULL;
  if (user == NULL)
    return;
  if (!mn_controller_config_is_admin (api->config, user))
    return reply_error (msg, 403, NULL, "only admins see the faults");
  root = mn_controller_manager_faults (api->manager);
  reply_json (msg, 200, root);
}

static void
handle_routes (MnControllerApi *api, SoupServerMessage *msg)
{
  const gchar *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");
  g_autofree gchar *want = api->relay_secret ? g_strdup_printf ("Bearer %s", api->relay_secret) : NULL;
  g_autoptr(GPtrArray) live = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  if (want == NULL || auth == NULL || strlen (auth) != strlen (want) ||
      CRYPTO_memcmp (auth, want, strlen (want)) != 0)
    return reply_error (msg, 401, NULL, "bearer secret required");
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
      return reply_error (msg, 500, NULL, "%s", error->message);
    json_builder_set_member_name (b, "logins");
    json_builder_add_value (b, json_node_init_array (json_node_alloc (), logins));
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  reply_json (msg, 200, root);
}

static void
handle_queue (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = require_user (api, msg, NULL);
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
  reply_json (msg, 200, root);
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

static void
handle_usage (MnControllerApi *api, SoupServerMessage *msg, GHashTable *query)
{
  g_autofree gchar *user = require_user (api, msg, NULL);
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
    return reply_error (msg, 400, "from", "field 'from': '%s' is neither Unix seconds nor an ISO 8601 date", v);
  if (query && (v = g_hash_table_lookup (query, "to")) && !parse_time (v, &to))
    return reply_error (msg, 400, "to", "field 'to': '%s' is neither Unix seconds nor an ISO 8601 date", v);
  if (to < from)
    return reply_error (msg, 400, "to", "field 'to': before 'from'");
  if (!mn_controller_store_usage (mn_controller_manager_get_store (api->manager), from, to,
                                  by_hour, by_day, &total, &error))
    return reply_error (msg, 500, NULL, "%s", error->message);
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
  reply_json (msg, 200, root);
}

static void
handle_metrics (MnControllerApi *api, SoupServerMessage *msg)
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
static gboolean
metrics_allowed (MnControllerApi *api, SoupServerMessage *msg)
{
  const gchar *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");
  g_autofree gchar *user = NULL, *why = NULL;
  if (api->metrics_bearer != NULL && auth != NULL && strlen (auth) == strlen (api->metrics_bearer) &&
      CRYPTO_memcmp (auth, api->metrics_bearer, strlen (auth)) == 0)
    return TRUE;
  user = mn_controller_logins_check (api->logins, cookie_header (msg),
                                     mn_controller_manager_now (api->manager), NULL, &why);
  if (user != NULL && mn_controller_config_is_admin (api->config, user))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "WWW-Authenticate", "Bearer realm=\"minna-controller metrics\"");
  reply_error (msg, user != NULL ? 403 : 401, NULL,
               "/metrics needs the bearer of [server] metrics_secret_file or an admin's login");
  return FALSE;
}

/* ---- portal pages (daemons/controller/www/README.md has the table) ------------ */

static const gchar *
content_type (const gchar *file)
{
  if (g_str_has_suffix (file, ".html"))
    return "text/html; charset=utf-8";
  if (g_str_has_suffix (file, ".css"))
    return "text/css; charset=utf-8";
  if (g_str_has_suffix (file, ".js"))
    return "text/javascript; charset=utf-8";
  if (g_str_has_suffix (file, ".svg"))
    return "image/svg+xml";
  return NULL;
}

/* "static/NAME": NAME is [a-z0-9][a-z0-9_-]*.(css|js|svg), so no path can
 * leave the directory. */
static gboolean
static_name_ok (const gchar *name)
{
  const gchar *dot = strrchr (name, '.');
  if (dot == NULL || dot == name || !(g_ascii_islower (name[0]) || g_ascii_isdigit (name[0])))
    return FALSE;
  for (const gchar *c = name; c < dot; c++)
    if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '_' && *c != '-')
      return FALSE;
  return g_str_equal (dot, ".css") || g_str_equal (dot, ".js") || g_str_equal (dot, ".svg");
}

/* What every page answer carries (www/README.md). */
static void
page_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Cache-Control", "no-cache");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "Referrer-Policy", "same-origin");
  soup_message_headers_replace (h, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none';"
                                " base-uri 'none'; form-action 'self'");
}

/* TRUE if @path is a page (answered, found or not). */
static gboolean
serve_page (MnControllerApi *api, SoupServerMessage *msg, const gchar *method, const gchar *path)
{
  static const gchar *const pages[][2] = {
    { "/", "index.html" }, { "/login", "login.html" }, { "/admin", "admin.html" },
    { "/favicon.ico", "static/favicon.svg" },
  };
  g_autofree gchar *file = NULL, *full = NULL, *data = NULL;
  gsize len = 0;

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (pages); i++)
    if (g_str_equal (path, pages[i][0]))
      file = g_strdup (pages[i][1]);
  if (file == NULL && g_str_has_prefix (path, "/static/") && static_name_ok (path + 8))
    file = g_strdup (path + 1);
  if (file == NULL)
    return FALSE;
  full = g_build_filename (api->config->www_dir, file, NULL);
  if (!g_file_get_contents (full, &data, &len, NULL))
    {
      reply_error (msg, 404, NULL, "no page '%s'", path);
      return TRUE;
    }
  page_headers (msg);
  soup_server_message_set_status (msg, 200, NULL);
  /* HEAD: libsoup sends the headers (and Content-Length) without the body */
  soup_server_message_set_response (msg, content_type (file), SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&data), len);
  return TRUE;
}

/* GET /api/v1/kernels: mn-controller-kernels.c */
static void
handle_kernels (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = require_user (api, msg, NULL);
  if (user != NULL)
    mn_controller_kernels_handle (api->kernels, msg, user);
}

/* ---- request bodies: checked as they come (issue 15 item 7) ---------------------- */

/* A body over MAX_BODY is never buffered: a Content-Length over it is
 * answered before a byte of the body is read, a chunked body as soon as it
 * grows past it.  libsoup would read (and keep) the whole body before any
 * handler runs, so the connection is taken from it, the 413 written by
 * hand, and the rest of the upload read and thrown away for a moment (a
 * reset could destroy the answer in the client's buffer) before it closes. */

#define LINGER_BYTES (1024 * 1024)
#define LINGER_MS 2000

typedef struct {
  GIOStream *stream;
  GSource   *source;    /* input readable */
  guint      timeout;
  gsize      drained;
} Linger;

static void
linger_end (Linger *l)
{
  if (l->timeout != 0)
    g_source_remove (l->timeout);
  g_source_destroy (l->source);
  g_source_unref (l->source);
  g_io_stream_close (l->stream, NULL, NULL);
  g_object_unref (l->stream);
  g_free (l);
}

static gboolean
linger_read (GObject *pollable, gpointer data)
{
  Linger *l = data;
  gchar buf[16384];
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (pollable),
                                                           buf, sizeof buf, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n <= 0 || (l->drained += (gsize) n) >= LINGER_BYTES)
        break;
    }
  linger_end (l);
  return G_SOURCE_REMOVE;
}

static gboolean
linger_timeout (gpointer data)
{
  Linger *l = data;
  l->timeout = 0;
  linger_end (l);
  return G_SOURCE_REMOVE;
}

static void
refuse_body (MnControllerApi *api, SoupServerMessage *msg, const gchar *why)
{
  g_autofree gchar *body = g_strdup_printf ("{\"error\": \"request body %s (at most %d bytes)\"}",
                                            why, MAX_BODY);
  g_autofree gchar *answer = g_strdup_printf ("HTTP/1.1 413 Content Too Large\r\n"
                                              "Content-Type: application/json\r\n"
                                              "Cache-Control: no-store\r\nConnection: close\r\n"
                                              "Content-Length: %zu\r\n\r\n%s",
                                              strlen (body), body);
  GIOStream *stream = soup_server_message_steal_connection (msg);
  GOutputStream *out;
  GInputStream *in;
  Linger *l;
  api->bodies_refused++;
  if (stream == NULL)
    return;
  out = g_io_stream_get_output_stream (stream);
  in = g_io_stream_get_input_stream (stream);
  /* a few hundred bytes into an empty send buffer: does not block */
  if (!g_output_stream_write_all (out, answer, strlen (answer), NULL, NULL, NULL) ||
      !G_IS_POLLABLE_INPUT_STREAM (in))
    {
      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
      return;
    }
  g_output_stream_flush (out, NULL, NULL);
  if (G_IS_SOCKET_CONNECTION (stream))
    g_socket_shutdown (g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream)), FALSE, TRUE,
                       NULL);
  l = g_new0 (Linger, 1);
  l->stream = stream;
  l->source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (in), NULL);
  g_source_set_callback (l->source, (GSourceFunc) (void (*) (void)) linger_read, l, NULL);
  g_source_attach (l->source, g_main_context_get_thread_default ());
  l->timeout = g_timeout_add (LINGER_MS, linger_timeout, l);
}

static void
body_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  MnControllerApi *api = data;
  /* the chunk is already in the body (libsoup appends, then signals) */
  if (soup_server_message_get_request_body (msg)->length > MAX_BODY)
    {
      g_signal_handlers_disconnect_by_func (msg, body_chunk, api);
      refuse_body (api, msg, "grew too large");
    }
}

static void
early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
       gpointer data)
{
  MnControllerApi *api = data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (h) > MAX_BODY)
    return refuse_body (api, msg, "too large");
  g_signal_connect (msg, "got-chunk", G_CALLBACK (body_chunk), api);
}

/* ---- dispatch ------------------------------------------------------------------ */

static void
route_request (MnControllerApi *api, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  const gchar *method = soup_server_message_get_method (msg);
  gboolean get = g_str_equal (method, "GET"), post = g_str_equal (method, "POST");

  api->requests++;
  if (g_str_equal (path, "/metrics") && get)
    return metrics_allowed (api, msg) ? handle_metrics (api, msg) : (void) 0;
  /* a logged-in user who is not an admin gets the 403 page, not the page */
  if (g_str_equal (path, "/admin") && mn_controller_admin_page_refused (api, msg, method))
    return;
  if (!g_str_has_prefix (path, "/api/") && serve_page (api, msg, method, path))
    return;
  if (!g_str_has_prefix (path, "/api/v1/"))
    {
      /* a browser gets the styled page with a way back, a program JSON */
      if (mn_controller_admin_error_page (api, msg, method, 404))
        return;
      return reply_error (msg, 404, NULL, "no such path '%s'", path);
    }
  path += strlen ("/api/v1/");
  if (g_str_equal (path, "login") && post)
    return handle_login (api, msg);
  if (g_str_equal (path, "logout") && post)
    return handle_logout (api, msg);
  if (g_str_equal (path, "me") && get)
    return handle_me (api, msg);
  if (g_str_equal (path, "apps") && get)
    return handle_apps (api, msg);
  if (g_str_equal (path, "kernels") && get)
    return handle_kernels (api, msg);
  if (g_str_has_prefix (path, "apps/") && g_str_has_suffix (path, "/form") && get)
    return handle_app_form (api, msg, path + 5);
  if (g_str_equal (path, "sessions") && post)
    return handle_launch (api, msg);
  if (g_str_equal (path, "sessions") && get)
    return handle_list (api, msg, query);
  if (g_str_has_prefix (path, "sessions/") && strchr (path + 9, '/') == NULL && path[9] != '\0')
    return handle_session (api, msg, method, path + 9);
  if (g_str_equal (path, "faults") && get)
    return handle_faults (api, msg);
  if (g_str_has_prefix (path, "sessions/") && g_str_has_suffix (path, "/extend") && post &&
      strchr (path + 9, '/') == path + strlen (path) - strlen ("/extend"))
    {
      g_autofree gchar *id = g_strndup (path + 9, strlen (path + 9) - strlen ("/extend"));
      return handle_extend (api, msg, id);
    }
  if (g_str_has_prefix (path, "sessions/") && g_str_has_suffix (path, "/hide") && post &&
      strchr (path + 9, '/') == path + strlen (path) - strlen ("/hide"))
    {
      g_autofree gchar *id = g_strndup (path + 9, strlen (path + 9) - strlen ("/hide"));
      return handle_hide (api, msg, id);
    }
  if (g_str_equal (path, "routes") && get)
    return handle_routes (api, msg);
  if (g_str_equal (path, "queue") && get)
    return handle_queue (api, msg);
  if (g_str_equal (path, "usage") && get)
    return handle_usage (api, msg, query);
  if (g_str_has_prefix (path, "admin/"))
    return mn_controller_admin_dispatch (api, msg, method, path + 6, query);
  reply_error (msg, 404, NULL, "no %s /api/v1/%s", method, path);
}

/* What a client reads is stored: the changes that wait for their commit
 * (group commit, mn-controller-commit.c) are committed before the request
 * reads the sessions, and those it made (a backend that submits inline) before
 * the answer goes out. */
static void
dispatch (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  MnControllerApi *api = data;
  mn_controller_manager_flush (api->manager);
  route_request (api, msg, path, query);
  mn_controller_manager_flush (api->manager);
}

MnControllerApi *
mn_controller_api_new (const MnControllerConfig *config, MnControllerManager *manager,
                       MnAuthKey *key, const gchar *relay_secret)
{
  MnControllerApi *api = g_new0 (MnControllerApi, 1);
  api->config = (MnControllerConfig *) config;
  api->manager = mn_controller_manager_ref (manager);
  api->key = key;
  api->relay_secret = g_strdup (relay_secret);
  api->throttle = mn_login_throttle_new (config->login_max_delay, 3);
  api->addr_throttle = mn_login_throttle_new (config->login_max_delay, 20);
  api->relay = mn_controller_relay_new (config->relay_url, relay_secret);
  api->relay_proof = mn_auth_relay_proof (relay_secret);
  api->logins = mn_controller_logins_new (mn_controller_manager_get_store (manager), key,
                                          api->relay);
  /* the relay learns the live set now, or as soon as it answers */
  mn_controller_logins_sync (api->logins);
  api->kernels = mn_controller_kernels_new (config);
  api->forms = mn_form_sources_new (api->kernels);
  mn_form_sources_prefetch (api->forms, mn_controller_manager_get_apps (manager));
  api->server = soup_server_new ("server-header", "minna-controller", NULL);
  soup_server_add_early_handler (api->server, NULL, early, api, NULL);
  soup_server_add_handler (api->server, NULL, dispatch, api, NULL);
  return api;
}

void
mn_controller_api_free (MnControllerApi *api)
{
  if (api == NULL)
    return;
  soup_server_disconnect (api->server);
  g_object_unref (api->server);
  mn_controller_manager_unref (api->manager);
  mn_auth_key_free (api->key);
  g_free (api->relay_secret);
  mn_login_throttle_free (api->throttle);
  mn_login_throttle_free (api->addr_throttle);
  mn_form_sources_free (api->forms);
  mn_controller_kernels_free (api->kernels);
  mn_controller_logins_free (api->logins);
  g_free (api->relay_proof);
  if (api->metrics_bearer != NULL)
    OPENSSL_cleanse (api->metrics_bearer, strlen (api->metrics_bearer));
  g_free (api->metrics_bearer);
  mn_controller_relay_free (api->relay);
  g_free (api);
}

gboolean
mn_controller_api_listen (MnControllerApi *api, const gchar *address, guint port,
                          guint *bound, GError **error)
{
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) sa = NULL;
  g_autoptr(GSocket) sock = NULL;
  GSList *uris;
  if (ia == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "[server] listen: '%s' is not an IP address", address);
      return FALSE;
    }
  sa = g_inet_socket_address_new (ia, (guint16) port);
  /* our own socket for a deep accept queue: a lecture hall presses Launch
   * within the same second */
  sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_STREAM,
                       G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return FALSE;
  g_socket_set_listen_backlog (sock, 1024);
  if (!g_socket_bind (sock, sa, TRUE, error) || !g_socket_listen (sock, error) ||
      !soup_server_listen_socket (api->server, sock, 0, error))
    return FALSE;
  uris = soup_server_get_uris (api->server);
  if (bound && uris)
    *bound = (guint) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return TRUE;
}

void
mn_controller_api_set_metrics_secret (MnControllerApi *api, const gchar *secret)
{
  if (api->metrics_bearer != NULL)
    OPENSSL_cleanse (api->metrics_bearer, strlen (api->metrics_bearer));
  g_free (api->metrics_bearer);
  api->metrics_bearer = secret != NULL ? g_strdup_printf ("Bearer %s", secret) : NULL;
}

/* ---- for the admin API (mn-controller-api-private.h) -------------------------- */

MnControllerManager *
mn_api_get_manager (MnControllerApi *api)
{
  return api->manager;
}

const MnControllerConfig *
mn_api_get_config (MnControllerApi *api)
{
  return api->config;
}

void
mn_api_reply_json (SoupServerMessage *msg, guint status, JsonNode *root)
{
  reply_json (msg, status, root);
}

void
mn_api_reply_error (SoupServerMessage *msg, guint status, const gchar *field, const gchar *text)
{
  reply_error (msg, status, field, "%s", text);
}

gchar *
mn_api_require_user (MnControllerApi *api, SoupServerMessage *msg)
{
  return require_user (api, msg, NULL);
}

gchar *
mn_api_require_state_change (MnControllerApi *api, SoupServerMessage *msg)
{
  return require_state_change (api, msg, NULL);
}

gchar *
mn_api_login_user (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *why = NULL;
  return mn_controller_logins_check (api->logins, cookie_header (msg),
                                     mn_controller_manager_now (api->manager), NULL, &why);
}

void
mn_api_add_session (MnControllerApi *api, JsonBuilder *b, const MnSession *s)
{
  add_session (api, b, s, FALSE);
}

void
mn_api_page_headers (SoupServerMessage *msg)
{
  page_headers (msg);
}
