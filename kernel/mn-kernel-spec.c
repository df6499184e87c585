/* mn-kernel-spec.c: kernel names, kernel.json, the Jupyter data directory. */
#define G_LOG_DOMAIN "minna-kernel"

#include "mn-kernel-spec.h"

#include <string.h>

G_DEFINE_QUARK (mn-kernel-error-quark, mn_kernel_error)

static const gchar *const env_kind_names[] = {
  [MN_KERNEL_ENV_SYSTEM] = "system",
  [MN_KERNEL_ENV_PYTHON] = "python",
  [MN_KERNEL_ENV_VENV] = "venv",
  [MN_KERNEL_ENV_CONDA] = "conda",
};

const gchar *
mn_kernel_env_kind_to_string (MnKernelEnvKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (env_kind_names), "system");
  return env_kind_names[kind];
}

gboolean
mn_kernel_env_kind_from_string (const gchar *s, MnKernelEnvKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (env_kind_names); i++)
    if (g_strcmp0 (s, env_kind_names[i]) == 0)
      {
        *kind = (MnKernelEnvKind) i;
        return TRUE;
      }
  return FALSE;
}

MnKernelSpec *
mn_kernel_spec_new (const gchar *name)
{
  MnKernelSpec *spec = g_new0 (MnKernelSpec, 1);
  spec->name = g_strdup (name);
  spec->modules = g_ptr_array_new_with_free_func (g_free);
  spec->env_kind = MN_KERNEL_ENV_SYSTEM;
  return spec;
}

void
mn_kernel_spec_free (MnKernelSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->name);
  g_free (spec->display_name);
  g_ptr_array_unref (spec->modules);
  g_free (spec->env);
  g_free (spec->modulepath);
  g_free (spec->modules_init);
  g_free (spec);
}

gboolean
mn_kernel_name_validate (const gchar *name, GError **error)
{
  if (name == NULL || *name == '\0')
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "kernel name is empty");
      return FALSE;
    }
  if (strlen (name) > MN_KERNEL_NAME_MAX)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "kernel name '%.20s...' is longer than %d characters",
                   name, MN_KERNEL_NAME_MAX);
      return FALSE;
    }
  if (name[0] == '.' || name[0] == '-')
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "kernel name '%s' must not start with '%c'", name, name[0]);
      return FALSE;
    }
  for (const gchar *p = name; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-'))
      {
        g_autofree gchar *shown = g_strescape (name, NULL);
        g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                     "kernel name '%s' has a character Jupyter does not allow at "
                     "position %d; use a-z, 0-9, '.', '_' and '-'",
                     shown, (gint) (p - name) + 1);
        return FALSE;
      }
  for (const gchar *p = name; *p; p++)
    if (g_ascii_isupper (*p))
      {
        g_autofree gchar *lower = g_ascii_strdown (name, -1);
        /* Jupyter lower-cases directory names, so 'A' and 'a' would clash */
        g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                     "kernel name '%s' has upper-case letters; Jupyter names "
                     "kernels in lower case, use '%s'", name, lower);
        return FALSE;
      }
  return TRUE;
}

gboolean
mn_kernel_module_validate (const gchar *module, GError **error)
{
  if (module == NULL || *module == '\0')
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "--module: module name is empty");
      return FALSE;
    }
  if (module[0] == '-')
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "--module: '%s' looks like an option, not a module", module);
      return FALSE;
    }
  if (!g_utf8_validate (module, -1, NULL))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "--module: module name is not valid UTF-8");
      return FALSE;
    }
  for (const gchar *p = module; *p; p++)
    if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
      {
        g_autofree gchar *shown = g_strescape (module, NULL);
        g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                     "--module: '%s' contains a blank or control character", shown);
        return FALSE;
      }
  return TRUE;
}

static gboolean
text_validate (const gchar *what, const gchar *s, GError **error)
{
  if (!g_utf8_validate (s, -1, NULL))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "%s is not valid UTF-8", what);
      return FALSE;
    }
  for (const gchar *p = s; *p; p++)
    if (g_ascii_iscntrl (*p))
      {
        g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                     "%s contains a control character", what);
        return FALSE;
      }
  return TRUE;
}

gboolean
mn_kernel_spec_validate (const MnKernelSpec *spec, GError **error)
{
  if (!mn_kernel_name_validate (spec->name, error))
    return FALSE;
  for (guint i = 0; i < spec->modules->len; i++)
    if (!mn_kernel_module_validate (g_ptr_array_index (spec->modules, i), error))
      return FALSE;
  if (spec->display_name != NULL &&
      (*spec->display_name == '\0' ||
       !text_validate ("--display-name", spec->display_name, error)))
    {
      if (*spec->display_name == '\0')
        g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                     "--display-name is empty");
      return FALSE;
    }
  if (spec->env_kind == MN_KERNEL_ENV_SYSTEM)
    return TRUE;
  const gchar *opt = spec->env_kind == MN_KERNEL_ENV_PYTHON ? "--python"
                   : spec->env_kind == MN_KERNEL_ENV_VENV ? "--venv" : "--conda";
  if (spec->env == NULL || *spec->env == '\0')
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "%s: value is empty", opt);
      return FALSE;
    }
  if (!text_validate (opt, spec->env, error))
    return FALSE;
  if (spec->env[0] == '-')
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' looks like an option", opt, spec->env);
      return FALSE;
    }
  return TRUE;
}

gchar *
mn_kernel_spec_default_display_name (const MnKernelSpec *spec)
{
  if (spec->modules->len == 0)
    return g_strdup (spec->name);
  g_autoptr(GString) s = g_string_new (spec->name);
  g_string_append (s, " (");
  for (guint i = 0; i < spec->modules->len; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "",
                            (const gchar *) g_ptr_array_index (spec->modules, i));
  g_string_append_c (s, ')');
  return g_string_free (g_steal_pointer (&s), FALSE);
}

JsonNode *
mn_kernel_spec_to_json (const MnKernelSpec *spec, const gchar *kernel_dir)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree gchar *launcher = g_build_filename (kernel_dir, MN_KERNEL_LAUNCHER_FILE, NULL);
  g_autofree gchar *display = spec->display_name ? g_strdup (spec->display_name)
                                                 : mn_kernel_spec_default_display_name (spec);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "argv");
  json_builder_begin_array (b);
  /* bash by path, so a home directory mounted noexec still works */
  json_builder_add_string_value (b, "/bin/bash");
  json_builder_add_string_value (b, launcher);
  json_builder_add_string_value (b, "-f");
  json_builder_add_string_value (b, "{connection_file}");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "display_name");
  json_builder_add_string_value (b, display);
  json_builder_set_member_name (b, "language");
  json_builder_add_string_value (b, "python");
  /* the launcher execs Python, so signals reach ipykernel itself */
  json_builder_set_member_name (b, "interrupt_mode");
  json_builder_add_string_value (b, "signal");
  json_builder_set_member_name (b, "metadata");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "minna");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "modules");
  json_builder_begin_array (b);
  for (guint i = 0; i < spec->modules->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (spec->modules, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "env_kind");
  json_builder_add_string_value (b, mn_kernel_env_kind_to_string (spec->env_kind));
  json_builder_set_member_name (b, "env");
  if (spec->env)
    json_builder_add_string_value (b, spec->env);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "modulepath");
  if (spec->modulepath)
    json_builder_add_string_value (b, spec->modulepath);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "modules_init");
  if (spec->modules_init)
    json_builder_add_string_value (b, spec->modules_init);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gchar *
mn_kernel_spec_to_json_data (const MnKernelSpec *spec, const gchar *kernel_dir)
{
  g_autoptr(JsonNode) root = mn_kernel_spec_to_json (spec, kernel_dir);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 1);
  json_generator_set_root (gen, root);
  g_autofree gchar *data = json_generator_to_data (gen, NULL);
  return g_strconcat (data, "\n", NULL);
}

/* A string member that may be null or absent; FALSE only for a wrong type. */
static gboolean
get_opt_string (JsonObject *o, const gchar *key, gchar **out, const gchar *path,
                GError **error)
{
  *out = NULL;
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: metadata.minna.%s: expected a string", path, key);
      return FALSE;
    }
  *out = g_strdup (json_node_get_string (n));
  return TRUE;
}

MnKernelSpec *
mn_kernel_spec_load (const gchar *path, const gchar *name, gchar **display_name,
                     GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;

  if (display_name)
    *display_name = NULL;
  if (!json_parser_load_from_file (parser, path, &local))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: %s", path, local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: expected a JSON object", path);
      return NULL;
    }
  JsonObject *o = json_node_get_object (root);
  JsonNode *dn = json_object_get_member (o, "display_name");
  if (dn == NULL || !JSON_NODE_HOLDS_VALUE (dn) || json_node_get_value_type (dn) != G_TYPE_STRING)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: display_name: missing or not a string", path);
      return NULL;
    }
  if (display_name)
    *display_name = g_strdup (json_node_get_string (dn));

  JsonNode *meta = json_object_get_member (o, "metadata");
  JsonNode *mn = NULL;
  if (meta && JSON_NODE_HOLDS_OBJECT (meta))
    mn = json_object_get_member (json_node_get_object (meta), "minna");
  if (mn == NULL)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_MANAGED,
                   "%s: not written by minna-kernel (no metadata.minna)", path);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (mn))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: metadata.minna: expected an object", path);
      return NULL;
    }
  JsonObject *m = json_node_get_object (mn);
  g_autoptr(MnKernelSpec) spec = mn_kernel_spec_new (name);
  spec->display_name = g_strdup (json_node_get_string (dn));

  JsonNode *mods = json_object_get_member (m, "modules");
  if (mods == NULL || !JSON_NODE_HOLDS_ARRAY (mods))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: metadata.minna.modules: missing or not an array", path);
      return NULL;
    }
  JsonArray *arr = json_node_get_array (mods);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *e = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                       "%s: metadata.minna.modules[%u]: expected a string", path, i);
          return NULL;
        }
      g_ptr_array_add (spec->modules, g_strdup (json_node_get_string (e)));
    }

  g_autofree gchar *kind = NULL;
  if (!get_opt_string (m, "env_kind", &kind, path, error) ||
      !get_opt_string (m, "env", &spec->env, path, error) ||
      !get_opt_string (m, "modulepath", &spec->modulepath, path, error) ||
      !get_opt_string (m, "modules_init", &spec->modules_init, path, error))
    return NULL;
  if (kind == NULL || !mn_kernel_env_kind_from_string (kind, &spec->env_kind))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: metadata.minna.env_kind: '%s' is not one of system, python, venv, conda",
                   path, kind ? kind : "(missing)");
      return NULL;
    }
  g_autoptr(GError) invalid = NULL;
  if (!mn_kernel_spec_validate (spec, &invalid))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: %s", path, invalid->message);
      return NULL;
    }
  return g_steal_pointer (&spec);
}

static gchar *
absolute (const gchar *p, const gchar *cwd)
{
  return g_canonicalize_filename (p, cwd);
}

gchar *
mn_kernel_data_dir (const gchar * const *envp, const gchar *cwd)
{
  gchar **env = (gchar **) envp;
  const gchar *jd = g_environ_getenv (env, "JUPYTER_DATA_DIR");
  if (jd && *jd)
    return absolute (jd, cwd);
  const gchar *xdg = g_environ_getenv (env, "XDG_DATA_HOME");
  if (xdg && *xdg)
    {
      g_autofree gchar *abs = absolute (xdg, cwd);
      return g_build_filename (abs, "jupyter", NULL);
    }
  const gchar *home = g_environ_getenv (env, "HOME");
  if (home == NULL || *home == '\0')
    home = g_get_home_dir ();
  g_autofree gchar *abs = absolute (home, cwd);
  return g_build_filename (abs, ".local", "share", "jupyter", NULL);
}

gchar *
mn_kernel_kernels_dir (const gchar * const *envp, const gchar *cwd)
{
  g_autofree gchar *d = mn_kernel_data_dir (envp, cwd);
  return g_build_filename (d, "kernels", NULL);
}
