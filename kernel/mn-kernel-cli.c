/* mn-kernel-cli.c: subcommands of minna-kernel and their output. */
#define G_LOG_DOMAIN "minna-kernel"

#include "mn-kernel-cli.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mn-config-cli.h"
#include "mn-kernel-launcher.h"
#include "mn-kernel-spec.h"
#include "mn-kernel-store.h"

#define DEFAULT_TIMEOUT_S 120

static const gchar *const error_names[] = {
  [MN_KERNEL_ERROR_INVALID_ARGUMENT] = "invalid-argument",
  [MN_KERNEL_ERROR_EXISTS] = "exists",
  [MN_KERNEL_ERROR_NOT_FOUND] = "not-found",
  [MN_KERNEL_ERROR_NOT_MANAGED] = "not-managed",
  [MN_KERNEL_ERROR_MALFORMED] = "malformed",
  [MN_KERNEL_ERROR_IO] = "io",
  [MN_KERNEL_ERROR_NO_MODULE_SYSTEM] = "no-module-system",
  [MN_KERNEL_ERROR_MODULE] = "module",
  [MN_KERNEL_ERROR_ENVIRONMENT] = "environment",
  [MN_KERNEL_ERROR_PYTHON] = "python",
  [MN_KERNEL_ERROR_NO_IPYKERNEL] = "no-ipykernel",
  [MN_KERNEL_ERROR_CHECK_FAILED] = "check-failed",
};

const gchar *
mn_kernel_error_code_name (gint code)
{
  if (code < 0 || (gsize) code >= G_N_ELEMENTS (error_names))
    return "unknown";
  return error_names[code];
}

static const MnCliCommand commands[] = {
  { "add", "NAME --module M...", "check the environment, then write a kernel that loads the modules" },
  { "list", NULL, "kernels in the Jupyter data directory" },
  { "check", "NAME", "verify a kernel again (modules load, Python has ipykernel)" },
  { "remove", "NAME", "delete a kernel minna-kernel wrote" },
  { NULL }
};

static const gchar usage_description[] =
  "Kernels go to $JUPYTER_DATA_DIR/kernels, else $XDG_DATA_HOME/jupyter/kernels,\n"
  "else ~/.local/share/jupyter/kernels.  'minna-kernel COMMAND --help' for more.\n"
  "Exit status: 0 done, 1 refused or check failed, 2 usage error.";

static void
print_json (JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  g_autofree gchar *data = json_generator_to_data (gen, NULL);
  g_print ("%s\n", data);
}

static void
add_string_or_null (JsonBuilder *b, const gchar *key, const gchar *value)
{
  json_builder_set_member_name (b, key);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_spec_members (JsonBuilder *b, const MnKernelSpec *spec)
{
  json_builder_set_member_name (b, "modules");
  json_builder_begin_array (b);
  for (guint i = 0; spec && i < spec->modules->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (spec->modules, i));
  json_builder_end_array (b);
  add_string_or_null (b, "env_kind", spec ? mn_kernel_env_kind_to_string (spec->env_kind) : NULL);
  add_string_or_null (b, "env", spec ? spec->env : NULL);
}

static void
add_error_member (JsonBuilder *b, const GError *error)
{
  json_builder_set_member_name (b, "error");
  if (error == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, error->domain == MN_KERNEL_ERROR
                                    ? mn_kernel_error_code_name (error->code) : "unknown");
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, error->message);
  json_builder_end_object (b);
}

/* The report of add/check, for --json. */
static void
print_check_json (const gchar *name, const MnKernelSpec *spec, const MnKernelCheck *c,
                  const gchar *dir, const GError *error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string_or_null (b, "name", name);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, error == NULL && c && c->ok);
  add_string_or_null (b, "dir", dir);
  add_spec_members (b, spec);
  add_string_or_null (b, "module_system", c ? c->module_system : NULL);
  add_string_or_null (b, "python", c ? c->python : NULL);
  add_string_or_null (b, "python_version", c ? c->python_version : NULL);
  add_string_or_null (b, "ipykernel_version", c ? c->ipykernel_version : NULL);
  add_string_or_null (b, "failed_module", c ? c->failed_module : NULL);
  add_error_member (b, error);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  print_json (root);
}

static int
fail (gboolean json, const gchar *name, const MnKernelSpec *spec, const GError *error,
      const gchar *what)
{
  if (json)
    print_check_json (name, spec, NULL, NULL, error);
  else
    g_printerr ("minna-kernel: %s%s\n", what ? what : "", error->message);
  return MN_KERNEL_EXIT_FAILED;
}

/* Parse @argv of one subcommand; on usage errors prints and returns FALSE. */
static gboolean
parse_options (const gchar *command, const gchar *params, const gchar *summary,
               GOptionEntry *entries, int *argc, char ***argv, int *exit_code)
{
  g_autofree gchar *program = g_strdup_printf ("minna-kernel %s", command);
  g_autoptr(MnCli) cli = mn_cli_new (program, params, summary, NULL, FALSE);

  mn_cli_add_entries (cli, entries);
  *exit_code = mn_cli_parse (cli, argc, argv);
  return *exit_code == MN_CLI_CONTINUE;
}

static gboolean
one_name (const gchar *command, int argc, char **argv, const gchar **name, int *exit_code)
{
  g_autofree gchar *program = g_strdup_printf ("minna-kernel %s", command);

  if (argc > 2)
    {
      *exit_code = mn_cli_usage_error (program, "expected exactly one kernel NAME:"
                                       " unexpected argument '%s'", argv[2]);
      return FALSE;
    }
  if (argc < 2)
    {
      *exit_code = mn_cli_usage_error (program, "expected a kernel NAME");
      return FALSE;
    }
  *name = argv[1];
  return TRUE;
}

static gchar *
kernels_dir_from_env (void)
{
  g_auto(GStrv) env = g_get_environ ();
  g_autofree gchar *cwd = g_get_current_dir ();
  return mn_kernel_kernels_dir ((const gchar * const *) env, cwd);
}

static int
cmd_add (int argc, char **argv)
{
  g_auto(GStrv) modules = NULL;
  g_autofree gchar *python = NULL, *venv = NULL, *conda = NULL, *display = NULL;
  gboolean force = FALSE, json = FALSE;
  gint timeout_s = DEFAULT_TIMEOUT_S;
  int code = 0;
  GOptionEntry entries[] = {
    { "module", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &modules,
      "Environment module to load, in order (repeat)", "M" },
    { "python", 0, 0, G_OPTION_ARG_STRING, &python,
      "Python interpreter (a path, or a command looked up after the modules load)", "PATH" },
    { "venv", 0, 0, G_OPTION_ARG_FILENAME, &venv, "Virtual environment to activate", "DIR" },
    { "conda", 0, 0, G_OPTION_ARG_STRING, &conda, "Conda environment (name or prefix)", "ENV" },
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &display, "Name shown in Jupyter", "TEXT" },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace a kernel of the same name", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Report as JSON", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up the check after SECONDS (120)", "SECONDS" },
    { NULL }
  };
  const gchar *name;

  if (!parse_options ("add", "NAME",
                      "Checks that the Python can import ipykernel with the modules loaded,\n"
                      "then writes kernel.json and a launcher into the Jupyter data directory.\n"
                      "Without --python/--venv/--conda the kernel runs python3 from PATH.",
                      entries, &argc, &argv, &code) ||
      !one_name ("add", argc, argv, &name, &code))
    return code;
  if ((python != NULL) + (venv != NULL) + (conda != NULL) > 1)
    return mn_cli_usage_error ("minna-kernel add", "--python, --venv and --conda exclude each other");
  if (timeout_s <= 0)
    return mn_cli_usage_error ("minna-kernel add", "--timeout: must be a positive number of seconds");

  g_autofree gchar *cwd = g_get_current_dir ();
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(MnKernelSpec) spec = mn_kernel_spec_new (name);
  g_autoptr(GError) error = NULL;
  for (guint i = 0; modules && modules[i]; i++)
    g_ptr_array_add (spec->modules, g_strdup (modules[i]));
  spec->display_name = g_strdup (display);
  if (python)
    {
      spec->env_kind = MN_KERNEL_ENV_PYTHON;
      /* a bare command is looked up on PATH once the modules are loaded */
      spec->env = strchr (python, '/') ? g_canonicalize_filename (python, cwd) : g_strdup (python);
    }
  else if (venv)
    {
      spec->env_kind = MN_KERNEL_ENV_VENV;
      spec->env = *venv ? g_canonicalize_filename (venv, cwd) : g_strdup ("");
    }
  else if (conda)
    {
      spec->env_kind = MN_KERNEL_ENV_CONDA;
      spec->env = strchr (conda, '/') ? g_canonicalize_filename (conda, cwd) : g_strdup (conda);
    }
  if (!mn_kernel_spec_validate (spec, &error))
    {
      if (json)
        print_check_json (name, spec, NULL, NULL, error);
      else
        g_printerr ("minna-kernel add: %s\n", error->message);
      return MN_KERNEL_EXIT_USAGE;
    }
  if (spec->modules->len > 0)
    {
      const gchar *mp = g_environ_getenv (env, "MODULEPATH");
      spec->modulepath = mp && *mp ? g_strdup (mp) : NULL;
      spec->modules_init = mn_kernel_find_modules_init ((const gchar * const *) env);
    }

  g_autofree gchar *kdir = mn_kernel_kernels_dir ((const gchar * const *) env, cwd);
  g_autofree gchar *dir = g_build_filename (kdir, name, NULL);
  if (!force && g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      g_set_error (&error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_EXISTS,
                   "kernel '%s' already exists in %s (use --force to replace it)", name, kdir);
      return fail (json, name, spec, error, NULL);
    }

  g_autoptr(MnKernelCheck) c =
    mn_kernel_launcher_check (spec, NULL, (const gchar * const *) env, (guint) timeout_s, &error);
  if (error)
    {
      g_autofree gchar *what = g_strdup_printf ("refusing to add kernel '%s': ", name);
      if (json)
        {
          print_check_json (name, spec, c, NULL, error);
          return MN_KERNEL_EXIT_FAILED;
        }
      return fail (FALSE, name, spec, error, what);
    }
  if (!mn_kernel_store_install (kdir, spec, force, &error))
    return fail (json, name, spec, error, NULL);

  if (json)
    print_check_json (name, spec, c, dir, NULL);
  else
    g_print ("added kernel '%s' in %s\n  python %s (%s), ipykernel %s%s%s\n",
             name, dir, c->python, c->python_version ? c->python_version : "?",
             c->ipykernel_version ? c->ipykernel_version : "?",
             spec->modules->len ? ", modules via " : "",
             spec->modules->len ? (c->module_system ? c->module_system : "?") : "");
  return MN_KERNEL_EXIT_OK;
}

static int
cmd_check (int argc, char **argv)
{
  gboolean json = FALSE;
  gint timeout_s = DEFAULT_TIMEOUT_S;
  int code = 0;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Report as JSON", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up after SECONDS (120)", "SECONDS" },
    { NULL }
  };
  const gchar *name;

  if (!parse_options ("check", "NAME",
                      "Runs the kernel's launcher in check mode: loads its modules, activates\n"
                      "its environment and imports ipykernel, as the kernel would start.",
                      entries, &argc, &argv, &code) ||
      !one_name ("check", argc, argv, &name, &code))
    return code;
  if (timeout_s <= 0)
    return mn_cli_usage_error ("minna-kernel check", "--timeout: must be a positive number of seconds");

  g_autofree gchar *kdir = kernels_dir_from_env ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MnKernelSpec) spec = mn_kernel_store_lookup (kdir, name, &error);
  if (spec == NULL)
    return fail (json, name, NULL, error, NULL);
  g_autofree gchar *dir = g_build_filename (kdir, name, NULL);
  g_autofree gchar *script = g_build_filename (dir, MN_KERNEL_LAUNCHER_FILE, NULL);
  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (&error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED,
                   "%s: launcher missing; re-create the kernel with 'minna-kernel add --force'",
                   script);
      return fail (json, name, spec, error, NULL);
    }
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(MnKernelCheck) c =
    mn_kernel_launcher_check (spec, script, (const gchar * const *) env, (guint) timeout_s, &error);
  if (json)
    print_check_json (name, spec, c, dir, error);
  else if (error)
    g_printerr ("minna-kernel: kernel '%s' would not start: %s\n", name, error->message);
  else
    g_print ("kernel '%s' ok: python %s (%s), ipykernel %s\n", name, c->python,
             c->python_version ? c->python_version : "?",
             c->ipykernel_version ? c->ipykernel_version : "?");
  return error ? MN_KERNEL_EXIT_FAILED : MN_KERNEL_EXIT_OK;
}

static int
cmd_list (int argc, char **argv)
{
  gboolean json = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "List as JSON", NULL },
    { NULL }
  };

  if (!parse_options ("list", "", "Lists the kernels in the user's Jupyter data directory;\n"
                      "\"managed\" ones were written by minna-kernel.",
                      entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return mn_cli_usage_error ("minna-kernel list", "unexpected argument '%s'", argv[1]);
  g_autofree gchar *kdir = kernels_dir_from_env ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = mn_kernel_store_list (kdir, &error);
  if (all == NULL)
    {
      g_printerr ("minna-kernel: %s\n", error->message);
      return MN_KERNEL_EXIT_FAILED;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_string_or_null (b, "kernels_dir", kdir);
      json_builder_set_member_name (b, "kernels");
      json_builder_begin_array (b);
      for (guint i = 0; i < all->len; i++)
        {
          MnKernelEntry *e = g_ptr_array_index (all, i);
          json_builder_begin_object (b);
          add_string_or_null (b, "name", e->name);
          add_string_or_null (b, "display_name", e->display_name);
          add_string_or_null (b, "dir", e->dir);
          json_builder_set_member_name (b, "managed");
          json_builder_add_boolean_value (b, e->spec != NULL);
          add_spec_members (b, e->spec);
          add_string_or_null (b, "problem", e->problem);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      print_json (root);
      return MN_KERNEL_EXIT_OK;
    }
  if (all->len == 0)
    {
      g_print ("no kernels in %s\n", kdir);
      return MN_KERNEL_EXIT_OK;
    }
  for (guint i = 0; i < all->len; i++)
    {
      MnKernelEntry *e = g_ptr_array_index (all, i);
      g_autoptr(GString) what = g_string_new (NULL);
      if (e->problem)
        g_string_append_printf (what, "unreadable: %s", e->problem);
      else if (e->spec == NULL)
        g_string_append (what, "(not written by minna-kernel)");
      else
        {
          g_string_append (what, mn_kernel_env_kind_to_string (e->spec->env_kind));
          if (e->spec->env)
            g_string_append_printf (what, " %s", e->spec->env);
          for (guint j = 0; j < e->spec->modules->len; j++)
            g_string_append_printf (what, "%s%s", j ? ", " : "; modules ",
                                    (const gchar *) g_ptr_array_index (e->spec->modules, j));
        }
      g_print ("%-20s %-32s %s\n", e->name, e->display_name ? e->display_name : "-", what->str);
    }
  return MN_KERNEL_EXIT_OK;
}

static int
cmd_remove (int argc, char **argv)
{
  gboolean force = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Also remove kernelspecs minna-kernel did not write", NULL },
    { NULL }
  };
  const gchar *name;

  if (!parse_options ("remove", "NAME", "Deletes a kernel from the Jupyter data directory.",
                      entries, &argc, &argv, &code) ||
      !one_name ("remove", argc, argv, &name, &code))
    return code;
  g_autofree gchar *kdir = kernels_dir_from_env ();
  g_autoptr(GError) error = NULL;
  if (!mn_kernel_store_remove (kdir, name, force, &error))
    return fail (FALSE, name, NULL, error, NULL);
  g_print ("removed kernel '%s' from %s\n", name, kdir);
  return MN_KERNEL_EXIT_OK;
}

int
mn_kernel_cli_main (int argc, char **argv)
{
  static int (*const runs[]) (int argc, char **argv) = {   /* in the order of commands[] */
    cmd_add, cmd_list, cmd_check, cmd_remove,
  };
  g_autoptr(MnCli) cli = mn_cli_new ("minna-kernel", "COMMAND [ARGS…]",
                                     "Jupyter kernels that load environment modules first.",
                                     commands, TRUE);
  gint code, command;

  g_option_context_set_description (cli->context, usage_description);
  if ((code = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE)
    return code;
  if ((command = mn_cli_find_command (cli, argc, argv)) < 0)
    return MN_KERNEL_EXIT_USAGE;
  return runs[command] (argc - 1, argv + 1);
}
