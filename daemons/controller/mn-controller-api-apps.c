/* mn-controller-api-apps.c: the apps a user may launch and the options of
 * their forms, with the values of the user's last launch. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

#include <string.h>

/* ---- apps ----------------------------------------------------------------- */

void
mn_api_handle_apps (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = mn_api_require_user (api, msg, NULL);
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
  mn_api_reply_json (msg, 200, root);
}

/* The user's last values for @app_id: the "apps" map of the saved form
 * (one object per app), or, for forms saved before there was one, the
 * saved form itself when it was for that app.  Borrowed from @parser. */
JsonObject *
mn_api_last_values (JsonParser *parser, const gchar *saved, const gchar *app_id)
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
void
mn_api_handle_app_form (MnControllerApi *api, SoupServerMessage *msg, const gchar *rest)
{
  g_autofree gchar *user = mn_api_require_user (api, msg, NULL);
  g_autofree gchar *id = g_strndup (rest, strlen (rest) - strlen ("/form"));
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree gchar *saved = NULL;
  g_autoptr(JsonNode) root = NULL;
  const MnApp *app;
  if (user == NULL)
    return;
  app = mn_controller_manager_find_app (api->manager, id);
  if (app == NULL)
    return mn_api_reply_errorf (msg, 404, "app", "no app '%s'", id);
  saved = mn_controller_store_load_form (mn_controller_manager_get_store (api->manager), user);
  root = mn_form_describe (api->forms, app,
                           mn_policy_state_get_config (mn_controller_manager_get_policy (api->manager)),
                           mn_api_last_values (parser, saved, app->id), user);
  mn_api_reply_json (msg, 200, root);
}
