/* Unit tests: the launcher's check mode against fake Pythons, a fake conda
 * and a fake module system (the real Lmod and Python are in the integration
 * test). */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn-kernel-launcher.h"

static gchar *tmp;

static void
write_exec (const gchar *path, const gchar *text)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

/* A Python that knows two questions: its version, and ipykernel's. */
static const gchar fake_python_ok[] =
  "#!/bin/sh\n"
  "case \"$2\" in *ipykernel*) echo 6.99.0 ;; *) echo \"${VIRTUAL_ENV:+venv }3.99.1\" ;; esac\n";
static const gchar fake_python_noipk[] =
  "#!/bin/sh\n"
  "case \"$2\" in *ipykernel*) echo \"ModuleNotFoundError: No module named 'ipykernel'\" >&2; exit 1 ;;"
  " *) echo 3.99.2 ;; esac\n";
static const gchar fake_python_slow[] = "#!/bin/sh\nexec sleep 30\n";

/* Environment Modules stand-in: only "good" and "it's/1" load. */
static const gchar fake_modules_init[] =
  "module () {\n"
  "  case \"$1\" in\n"
  "    load) case \"$2\" in good|\"it's/1\") FAKE_LOADED=\"$FAKE_LOADED:$2:\"; export FAKE_MODULE_VAR=set ;;"
  " *) echo \"ERROR: Unable to locate a modulefile for '$2'\" >&2; return 1 ;; esac ;;\n"
  "    is-loaded) case \"$FAKE_LOADED\" in *\":$2:\"*) return 0 ;; *) return 1 ;; esac ;;\n"
  "    use) FAKE_USED=\"$FAKE_USED $3\" ;;\n"
  "  esac\n"
  "}\n";

static const gchar fake_conda[] =
  "#!/bin/sh\n"
  "[ \"$1\" = shell.bash ] && [ \"$2\" = hook ] || exit 2\n"
  "cat <<'EOF'\n"
  "conda () {\n"
  "  [ \"$1\" = activate ] || return 1\n"
  "  case \"$2\" in */*) p=$2 ;; *) p=$FAKE_CONDA_ROOT/envs/$2 ;; esac\n"
  "  [ -d \"$p\" ] || { echo \"EnvironmentNameNotFound: $2\" >&2; return 1; }\n"
  "  export CONDA_PREFIX=\"$p\"\n"
  "}\n"
  "EOF\n";

static gchar *
tpath (const gchar *rel)
{
  return g_build_filename (tmp, rel, NULL);
}

static void
setup_fakes (void)
{
  const struct { const gchar *rel; const gchar *text; } files[] = {
    { "bin/py-ok", fake_python_ok },
    { "bin/py-noipk", fake_python_noipk },
    { "bin/py-slow", fake_python_slow },
    { "bin/mn-fake-python", fake_python_ok },
    { "conda/bin/conda", fake_conda },
    { "conda/envs/good/bin/python", fake_python_ok },
    { "conda/envs/bare/bin/python", fake_python_noipk },
    { "venv-ok/bin/python", fake_python_ok },
    { "venv-bare/bin/python", fake_python_noipk },
    { "modules-init.sh", fake_modules_init },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree gchar *p = tpath (files[i].rel);
      write_exec (p, files[i].text);
    }
  g_autofree gchar *empty = tpath ("venv-empty");
  g_mkdir_with_parents (empty, 0755);
}

static gchar **
base_env (gboolean with_conda, gboolean with_modules)
{
  g_autofree gchar *bin = tpath ("bin");
  g_autofree gchar *cbin = tpath ("conda/bin");
  g_autofree gchar *path = g_strdup_printf ("%s:/usr/bin:/bin%s%s", bin,
                                            with_conda ? ":" : "", with_conda ? cbin : "");
  g_autofree gchar *croot = tpath ("conda");
  g_autofree gchar *init = tpath ("modules-init.sh");
  gchar **env = g_new0 (gchar *, 1);
  env = g_environ_setenv (env, "PATH", path, TRUE);
  env = g_environ_setenv (env, "FAKE_CONDA_ROOT", croot, TRUE);
  if (with_modules)
    env = g_environ_setenv (env, "MINNA_MODULES_INIT", init, TRUE);
  return env;
}

typedef struct {
  const gchar *label;
  MnKernelEnvKind kind;
  const gchar *env;        /* relative to tmp when starting with '@' */
  const gchar *modules[3];
  gboolean conda_on_path;
  gint code;               /* -1: ok */
  const gchar *parts[3];   /* in the message (or the python, when ok) */
} CheckCase;

static const CheckCase check_cases[] = {
  { "python-ok", MN_KERNEL_ENV_PYTHON, "@bin/py-ok", { NULL }, FALSE, -1, { "bin/py-ok", "6.99.0" } },
  { "python-on-path", MN_KERNEL_ENV_PYTHON, "mn-fake-python", { NULL }, FALSE, -1, { "bin/mn-fake-python" } },
  { "python-no-ipykernel", MN_KERNEL_ENV_PYTHON, "@bin/py-noipk", { NULL }, FALSE,
    MN_KERNEL_ERROR_NO_IPYKERNEL, { "bin/py-noipk", "cannot import ipykernel", "-m pip install ipykernel" } },
  { "python-missing", MN_KERNEL_ENV_PYTHON, "/nonexistent/python9", { NULL }, FALSE,
    MN_KERNEL_ERROR_PYTHON, { "/nonexistent/python9", "does not exist" } },
  { "python-not-on-path", MN_KERNEL_ENV_PYTHON, "python-nowhere", { NULL }, FALSE,
    MN_KERNEL_ERROR_PYTHON, { "'python-nowhere' not found on PATH" } },
  { "venv-ok", MN_KERNEL_ENV_VENV, "@venv-ok", { NULL }, FALSE, -1, { "venv-ok/bin/python", "venv 3.99.1" } },
  { "venv-no-ipykernel", MN_KERNEL_ENV_VENV, "@venv-bare", { NULL }, FALSE,
    MN_KERNEL_ERROR_NO_IPYKERNEL, { "venv-bare/bin/python -m pip install ipykernel" } },
  { "venv-missing", MN_KERNEL_ENV_VENV, "@venv-nowhere", { NULL }, FALSE,
    MN_KERNEL_ERROR_ENVIRONMENT, { "venv-nowhere does not exist" } },
  { "venv-not-a-venv", MN_KERNEL_ENV_VENV, "@venv-empty", { NULL }, FALSE,
    MN_KERNEL_ERROR_PYTHON, { "venv-empty/bin/python does not exist" } },
  { "conda-ok", MN_KERNEL_ENV_CONDA, "good", { NULL }, TRUE, -1, { "conda/envs/good/bin/python" } },
  { "conda-no-ipykernel", MN_KERNEL_ENV_CONDA, "bare", { NULL }, TRUE,
    MN_KERNEL_ERROR_NO_IPYKERNEL, { "conda install -n bare ipykernel" } },
  { "conda-prefix-no-ipykernel", MN_KERNEL_ENV_CONDA, "@conda/envs/bare", { NULL }, TRUE,
    MN_KERNEL_ERROR_NO_IPYKERNEL, { "conda install -p /", "conda/envs/bare ipykernel" } },
  { "conda-env-missing", MN_KERNEL_ENV_CONDA, "nope", { NULL }, TRUE,
    MN_KERNEL_ERROR_ENVIRONMENT, { "conda environment 'nope'" } },
  { "conda-missing", MN_KERNEL_ENV_CONDA, "good", { NULL }, FALSE,
    MN_KERNEL_ERROR_ENVIRONMENT, { "conda not found" } },
  { "module-ok", MN_KERNEL_ENV_PYTHON, "@bin/py-ok", { "good", "it's/1" }, FALSE, -1, { "bin/py-ok" } },
  { "module-missing", MN_KERNEL_ENV_PYTHON, "@bin/py-ok", { "good", "cuda/99.9", "it's/1" }, FALSE,
    MN_KERNEL_ERROR_MODULE, { "module 'cuda/99.9' could not be loaded", "Unable to locate" } },
  { "module-quote-missing", MN_KERNEL_ENV_PYTHON, "@bin/py-ok", { "it's/2" }, FALSE,
    MN_KERNEL_ERROR_MODULE, { "module 'it's/2'" } },
};

static MnKernelSpec *
spec_for (const CheckCase *c)
{
  MnKernelSpec *s = mn_kernel_spec_new ("t");
  s->env_kind = c->kind;
  if (c->env && c->env[0] == '@')
    s->env = tpath (c->env + 1);
  else
    s->env = g_strdup (c->env);
  for (guint i = 0; i < G_N_ELEMENTS (c->modules) && c->modules[i]; i++)
    g_ptr_array_add (s->modules, g_strdup (c->modules[i]));
  return s;
}

static void
test_check (gconstpointer data)
{
  const CheckCase *c = data;
  g_autoptr(MnKernelSpec) spec = spec_for (c);
  g_auto(GStrv) env = base_env (c->conda_on_path, spec->modules->len > 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnKernelCheck) r = mn_kernel_launcher_check (spec, NULL, (const gchar * const *) env,
                                                         20, &error);
  g_assert_nonnull (r);
  if (c->code < 0)
    {
      g_assert_no_error (error);
      g_assert_true (r->ok);
      g_autofree gchar *all = g_strjoin (" ", r->python, r->python_version, r->ipykernel_version, NULL);
      for (guint i = 0; i < G_N_ELEMENTS (c->parts) && c->parts[i]; i++)
        if (!strstr (all, c->parts[i]))
          g_error ("%s: '%s' lacks '%s'", c->label, all, c->parts[i]);
      return;
    }
  g_assert_false (r->ok);
  g_assert_error (error, MN_KERNEL_ERROR, c->code);
  for (guint i = 0; i < G_N_ELEMENTS (c->parts) && c->parts[i]; i++)
    if (!strstr (error->message, c->parts[i]))
      g_error ("%s: '%s' lacks '%s'", c->label, error->message, c->parts[i]);
  if (c->code == MN_KERNEL_ERROR_MODULE)
    g_assert_nonnull (r->failed_module);
}

static void
test_timeout (void)
{
  g_autoptr(MnKernelSpec) spec = mn_kernel_spec_new ("slow");
  g_auto(GStrv) env = base_env (FALSE, FALSE);
  g_autoptr(GError) error = NULL;
  spec->env_kind = MN_KERNEL_ENV_PYTHON;
  spec->env = tpath ("bin/py-slow");
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(MnKernelCheck) r = mn_kernel_launcher_check (spec, NULL, (const gchar * const *) env,
                                                         1, &error);
  g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_CHECK_FAILED);
  g_assert_nonnull (strstr (error->message, "within 1 s"));
  /* the whole process group went, not only bash */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 10 * G_USEC_PER_SEC);
}

/* The generated script is valid bash whatever the names hold. */
static void
test_script_syntax (void)
{
  g_autoptr(MnKernelSpec) s = mn_kernel_spec_new ("q");
  g_ptr_array_add (s->modules, g_strdup ("it's/\"1\"$(rm)"));
  g_ptr_array_add (s->modules, g_strdup ("`x`"));
  s->env_kind = MN_KERNEL_ENV_VENV;
  s->env = g_strdup ("/a b/'c'");
  s->modulepath = g_strdup ("/m 1:/m'2");
  g_autofree gchar *text = mn_kernel_launcher_script (s);
  g_autofree gchar *path = tpath ("syntax.sh");
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  const gchar *argv[] = { "/bin/bash", "-n", path, NULL };
  gint status = -1;
  g_autoptr(GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (g_str_has_prefix (text, "#!/bin/bash\n"));
  g_assert_nonnull (strstr (text, "exec \"$MN_PY\" -m ipykernel_launcher \"$@\""));

  /* and hands the names to the module system unchanged */
  g_auto(GStrv) env = base_env (FALSE, TRUE);
  g_autoptr(GError) cerr = NULL;
  g_autoptr(MnKernelCheck) r = mn_kernel_launcher_check (s, path, (const gchar * const *) env, 20, &cerr);
  g_assert_error (cerr, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MODULE);
  g_assert_cmpstr (r->failed_module, ==, "it's/\"1\"$(rm)");
}

static void
test_install_hint (void)
{
  g_autoptr(MnKernelSpec) s = mn_kernel_spec_new ("h");
  g_autofree gchar *h1 = mn_kernel_ipykernel_install_hint (s, "/opt/py 3/bin/python");
  g_assert_cmpstr (h1, ==, "'/opt/py 3/bin/python' -m pip install ipykernel");
  s->env_kind = MN_KERNEL_ENV_CONDA;
  s->env = g_strdup ("torch");
  g_autofree gchar *h2 = mn_kernel_ipykernel_install_hint (s, "/c/envs/torch/bin/python");
  g_assert_cmpstr (h2, ==, "conda install -n torch ipykernel");
  if (g_file_test ("/usr/bin/dpkg", G_FILE_TEST_EXISTS) &&
      g_file_test ("/usr/bin/python3", G_FILE_TEST_EXISTS))
    {
      s->env_kind = MN_KERNEL_ENV_SYSTEM;
      g_autofree gchar *h3 = mn_kernel_ipykernel_install_hint (s, "/usr/bin/python3");
      g_assert_cmpstr (h3, ==, "apt-get install python3-ipykernel");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("mn-kernel-launcher-XXXXXX", NULL);
  setup_fakes ();
  for (gsize i = 0; i < G_N_ELEMENTS (check_cases); i++)
    {
      g_autofree gchar *p = g_strdup_printf ("/kernel/launcher/check/%s", check_cases[i].label);
      g_test_add_data_func (p, &check_cases[i], test_check);
    }
  g_test_add_func ("/kernel/launcher/timeout", test_timeout);
  g_test_add_func ("/kernel/launcher/script-syntax", test_script_syntax);
  g_test_add_func ("/kernel/launcher/install-hint", test_install_hint);
  int rc = g_test_run ();
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  if (system (cmd) != 0)
    g_printerr ("# could not remove %s\n", tmp);
  return rc;
}
