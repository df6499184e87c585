/* mn-controller-app.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-app.h"
#include "mn-controller-config.h"
#include "mn-config.h"

#include <string.h>

static const gchar *const field_names[] = { "cores", "memory_gb", "gpus", "hours" };

/* The app file's keys: [app] and one [field NAME] group per form field
 * with its bounds and default (TSUBAME3's interactive.q limits unless the
 * file says otherwise); libminna-config (config/) reads them. */
#define APP(name_, field, def_, flags_, help_) \
  { .group = "app", .name = name_, .type = MN_CONFIG_STRING, \
    .offset = G_STRUCT_OFFSET (MnApp, field), .def = def_, .flags = flags_, .help = help_ }
#define BOUND(group_, name_, f, member, def_) \
  { .group = group_, .name = name_, .type = MN_CONFIG_DOUBLE, \
    .offset = G_STRUCT_OFFSET (MnApp, fields[f].member), .def = def_, \
    .help = "The form field's " name_ " value." }
#define FIELD(group_, f, min_, max_, def_) \
  BOUND (group_, "min", f, min, min_), BOUND (group_, "max", f, max, max_), \
  BOUND (group_, "default", f, def, def_)

static const MnConfigKey app_keys[] = {
  APP ("name", name, NULL, MN_CONFIG_KEY_REQUIRED, "What the portal calls the app."),
  APP ("description", description, "", 0, "One line for the launch form."),
  APP ("command", command, NULL, MN_CONFIG_KEY_REQUIRED,
       "The app's launch template (placeholders: see mn-controller-app.h)."),
  APP ("readiness_path", readiness_path, "", 0,
       "Path below the session's base URL that answers once the app is ready."),
  FIELD ("field cores", MN_APP_FIELD_CORES, "1", "7", "1"),
  FIELD ("field memory_gb", MN_APP_FIELD_MEMORY_GB, "1", "60", "4"),
  FIELD ("field gpus", MN_APP_FIELD_GPUS, "0", "1", "0"),
  FIELD ("field hours", MN_APP_FIELD_HOURS, "0.001", "24", "2"),
};

#undef APP
#undef BOUND
#undef FIELD

static const MnConfigTable app_table = {
  app_keys, G_N_ELEMENTS (app_keys), 0, mn_controller_error_quark,
  { [0 ... MN_CONFIG_N_ERRORS - 1] = MN_CONTROLLER_ERROR_APP },
};

const gchar *
mn_app_field_name (MnAppFieldId id)
{
  return field_names[id];
}

void
mn_app_free (MnApp *app)
{
  if (app == NULL)
    return;
  g_free (app->id);
  g_free (app->name);
  g_free (app->description);
  g_free (app->command);
  g_free (app->readiness_path);
  g_free (app->dir);
  g_free (app);
}

static gboolean
app_error (GError **error, const gchar *path, const gchar *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
app_error (GError **error, const gchar *path, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *msg = NULL;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_APP, "%s: %s", path, msg);
  return FALSE;
}

static const gchar *const known_placeholders[] = {
  "host", "port", "base_url", "token_file", "session_dir", "session_id", "app_dir",
};
static const gchar *const placeholder_vars[] = {
  "${MINNA_HOST}", "${MINNA_PORT}", "${MINNA_BASE_URL}", "${MINNA_TOKEN_FILE}",
  "${MINNA_SESSION_DIR}", "${MINNA_SESSION_ID}", "${MINNA_APP_DIR}",
};

static gchar *
expand (const gchar *tmpl, const gchar *path, GError **error)
{
  GString *out = g_string_new (NULL);
  for (const gchar *p = tmpl; *p != '\0'; p++)
    {
      const gchar *close;
      gboolean found = FALSE;
      if (*p != '{')
        {
          g_string_append_c (out, *p);
          continue;
        }
      /* only {lower_case} is a placeholder: shell and perl braces pass */
      close = p + 1;
      while (*close == '_' || (*close >= 'a' && *close <= 'z'))
        close++;
      if (*close != '}' || close == p + 1)
        {
          g_string_append_c (out, *p);
          continue;
        }
      for (gsize i = 0; i < G_N_ELEMENTS (known_placeholders); i++)
        if ((gsize) (close - p - 1) == strlen (known_placeholders[i]) &&
            strncmp (p + 1, known_placeholders[i], close - p - 1) == 0)
          {
            g_string_append (out, placeholder_vars[i]);
            found = TRUE;
          }
      if (!found)
        {
          g_autofree gchar *name = g_strndup (p + 1, close - p - 1);
          app_error (error, path, "[app] command: unknown placeholder {%s} (known: host, port,"
                     " base_url, token_file, session_dir, session_id, app_dir)", name);
          g_string_free (out, TRUE);
          return NULL;
        }
      p = close;
    }
  return g_string_free (out, FALSE);
}

gchar *
mn_app_expand_command (const MnApp *app, GError **error)
{
  return expand (app->command, app->id, error);
}

MnApp *
mn_app_load (const gchar *path, GError **error)
{
  g_autoptr(MnApp) app = g_new0 (MnApp, 1);
  g_autoptr(GError) local = NULL;
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *data = NULL;
  g_autofree gchar *check = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &data, &length, &local))
    return app_error (error, path, "%s", local->message), NULL;
  if (g_str_has_suffix (base, ".app"))
    base[strlen (base) - 4] = '\0';
  app->id = g_steal_pointer (&base);
  {
    g_autofree gchar *dir = g_path_get_dirname (path);
    app->dir = g_canonicalize_filename (dir, NULL);
  }
  for (const gchar *c = app->id; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return app_error (error, path, "app id '%s' (the file name) may hold only letters,"
                        " digits, '-' and '_'", app->id), NULL;
  mn_config_init (&app_table, app);
  if (!mn_config_load_data (&app_table, app, data, (gssize) length, path, NULL, error))
    return NULL;
  if (app->readiness_path[0] == '/')
    return app_error (error, path, "[app] readiness_path: '%s' must be relative to the base URL"
                      " (no leading '/')", app->readiness_path), NULL;
  check = expand (app->command, path, error);
  if (check == NULL)
    return NULL;
  for (gint which = 0; which < MN_APP_N_FIELDS; which++)
    {
      g_autofree gchar *group = g_strdup_printf ("field %s", field_names[which]);

      if (app->fields[which].min > app->fields[which].max ||
          app->fields[which].def < app->fields[which].min ||
          app->fields[which].def > app->fields[which].max || app->fields[which].min < 0)
        return app_error (error, path, "[%s]: need 0 <= min <= default <= max", group), NULL;
    }
  return g_steal_pointer (&app);
}

static gint
app_cmp (gconstpointer a, gconstpointer b)
{
  const MnApp *x = *(MnApp *const *) a, *y = *(MnApp *const *) b;
  return strcmp (x->id, y->id);
}

GPtrArray *
mn_app_load_dir (const gchar *dir, GError **error)
{
  g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_app_free);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  const gchar *name;

  d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    return app_error (error, dir, "%s", local->message), NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = NULL;
      MnApp *app;
      if (!g_str_has_suffix (name, ".app"))
        continue;
      path = g_build_filename (dir, name, NULL);
      app = mn_app_load (path, error);
      if (app == NULL)
        return NULL;
      g_ptr_array_add (apps, app);
    }
  g_ptr_array_sort (apps, app_cmp);
  return g_steal_pointer (&apps);
}

gchar *
mn_shell_quote (const gchar *text)
{
  return g_shell_quote (text);
}

gchar *
mn_app_render_job_script (const MnApp *app, const MnSession *session,
                          const gchar *session_dir, const MnJobScriptOptions *o,
                          GError **error)
{
  g_autofree gchar *q_id = NULL, *q_dir = NULL, *q_launcher = NULL, *q_host = NULL;
  g_autofree gchar *q_lock = NULL, *base_url = NULL, *q_base = NULL, *q_app_dir = NULL;
  q_id = g_shell_quote (session->id);
  q_dir = g_shell_quote (session_dir);
  /* "PATH job-launch" (the subcommand) or the small binary's PATH */
  if (g_str_has_suffix (o->launcher, " job-launch"))
    {
      g_autofree gchar *bin = g_strndup (o->launcher, strlen (o->launcher) - strlen (" job-launch"));
      g_autofree gchar *qb = g_shell_quote (bin);
      q_launcher = g_strconcat (qb, " job-launch", NULL);
    }
  else
    q_launcher = g_shell_quote (o->launcher);
  q_host = g_shell_quote (o->host);
  q_lock = g_shell_quote (o->port_lock_dir);
  base_url = g_strdup_printf ("/s/%s/", session->id);
  q_base = g_shell_quote (base_url);
  q_app_dir = g_shell_quote (app->dir != NULL ? app->dir : ".");

  /* The app runs in a child shell so that this one can record its exit code
   * (the controller may have restarted and cannot wait() for it).  The port
   * is picked by `minna-controller job-launch`, which keeps the port's lock
   * open in the app's process for as long as the app lives. */
  return g_strdup_printf (
    "#!/bin/sh\n"
    "# Job script of minna session %s (app %s), written by minna-controller.\n"
    "umask 077\n"
    "MINNA_SESSION_ID=%s; export MINNA_SESSION_ID\n"
    "MINNA_SESSION_DIR=%s; export MINNA_SESSION_DIR\n"
    "MINNA_BASE_URL=%s; export MINNA_BASE_URL\n"
    "MINNA_TOKEN_FILE=\"$MINNA_SESSION_DIR/token\"; export MINNA_TOKEN_FILE\n"
    "MINNA_APP_DIR=%s; export MINNA_APP_DIR\n"
    "JUPYTER_RUNTIME_DIR=\"$MINNA_SESSION_DIR/runtime\"; export JUPYTER_RUNTIME_DIR\n"
    "cd \"${HOME:-$MINNA_SESSION_DIR}\" 2>/dev/null || cd \"$MINNA_SESSION_DIR\"\n"
    "echo \"minna: session $MINNA_SESSION_ID starting\"\n"
    "%s --host %s --ports %u-%u --lock-dir %s --locks-per-user %u \\\n"
    "  --connection-file \"$MINNA_SESSION_DIR/connection\" -- \\\n"
    "  /bin/sh \"$MINNA_SESSION_DIR/app.sh\"\n"
    "code=$?\n"
    "echo \"$code\" > \"$MINNA_SESSION_DIR/exit_code\"\n"
    "exit \"$code\"\n",
    session->id, app->id, q_id, q_dir, q_base, q_app_dir, q_launcher, q_host, o->port_min,
    o->port_max, q_lock, o->locks_per_user);
}

gchar *
mn_app_render_app_script (const MnApp *app, GError **error)
{
  g_autofree gchar *command = mn_app_expand_command (app, error);
  if (command == NULL)
    return NULL;
  return g_strdup_printf ("#!/bin/sh\n# App %s (%s), from its definition's command.\n%s\n",
                          app->id, app->name, command);
}
