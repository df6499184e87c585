/* mn-kernel-launcher.c: write the launcher script, run its check mode. */
#define G_LOG_DOMAIN "minna-kernel"

#include "mn-kernel-launcher.h"

#include <gio/gio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mn-kernel-resources.h"

#define BODY_RESOURCE "/org/minna/kernel/mn-kernel-launcher-body.sh"

static void
append_var (GString *s, const gchar *name, const gchar *value)
{
  g_autofree gchar *q = g_shell_quote (value ? value : "");
  g_string_append_printf (s, "%s=%s\n", name, q);
}

gchar *
mn_kernel_launcher_script (const MnKernelSpec *spec)
{
  g_autoptr(GBytes) body = g_resource_lookup_data (mn_kernel_get_resource (), BODY_RESOURCE,
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_autoptr(GString) s = g_string_new ("#!/bin/bash\n");

  g_assert (body != NULL);
  g_string_append (s,
    "# Jupyter kernel launcher written by minna-kernel: loads environment\n"
    "# modules, activates the Python environment, then starts ipykernel.\n"
    "# Re-create it with `minna-kernel add --force` rather than editing it.\n");
  append_var (s, "MN_NAME", spec->name);
  g_string_append (s, "MN_MODULES=(");
  for (guint i = 0; i < spec->modules->len; i++)
    {
      g_autofree gchar *q = g_shell_quote (g_ptr_array_index (spec->modules, i));
      g_string_append_printf (s, "%s%s", i ? " " : "", q);
    }
  g_string_append (s, ")\n");
  append_var (s, "MN_ENV_KIND", mn_kernel_env_kind_to_string (spec->env_kind));
  append_var (s, "MN_ENV", spec->env);
  append_var (s, "MN_MODULEPATH_AT_ADD", spec->modulepath);
  append_var (s, "MN_MODULES_INIT_AT_ADD", spec->modules_init);
  g_string_append_len (s, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gchar *
mn_kernel_find_modules_init (const gchar * const *envp)
{
  gchar **env = (gchar **) envp;
  const gchar *vars[] = { "MINNA_MODULES_INIT", "LMOD_PKG", "LMOD_CMD", "MODULESHOME" };
  g_autoptr(GPtrArray) cands = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; i < G_N_ELEMENTS (vars); i++)
    {
      const gchar *v = g_environ_getenv (env, vars[i]);
      if (v == NULL || *v == '\0')
        continue;
      if (i == 0)
        g_ptr_array_add (cands, g_strdup (v));
      else if (i == 2 && g_str_has_suffix (v, "/libexec/lmod"))
        {
          g_autofree gchar *pkg = g_strndup (v, strlen (v) - strlen ("/libexec/lmod"));
          g_ptr_array_add (cands, g_build_filename (pkg, "init", "bash", NULL));
        }
      else if (i != 2)
        g_ptr_array_add (cands, g_build_filename (v, "init", "bash", NULL));
    }
  g_ptr_array_add (cands, g_strdup ("/usr/share/lmod/lmod/init/bash"));
  g_ptr_array_add (cands, g_strdup ("/usr/share/modules/init/bash"));
  g_ptr_array_add (cands, g_strdup ("/etc/profile.d/lmod.sh"));
  g_ptr_array_add (cands, g_strdup ("/etc/profile.d/modules.sh"));
  for (guint i = 0; i < cands->len; i++)
    {
      const gchar *c = g_ptr_array_index (cands, i);
      if (g_file_test (c, G_FILE_TEST_IS_REGULAR))
        return g_strdup (c);
    }
  return NULL;
}

void
mn_kernel_check_free (MnKernelCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->module_system);
  g_free (check->python);
  g_free (check->python_version);
  g_free (check->ipykernel_version);
  g_free (check->failed_module);
  g_free (check->log);
  g_free (check);
}

/* Quote for the shell only when a reader would need it. */
static gchar *
quote_if_needed (const gchar *s)
{
  for (const gchar *p = s; *p; p++)
    if (!(g_ascii_isalnum (*p) || strchr ("/._-+=:,@%", *p)))
      return g_shell_quote (s);
  return g_strdup (s);
}

gchar *
mn_kernel_ipykernel_install_hint (const MnKernelSpec *spec, const gchar *python)
{
  g_autofree gchar *qpy = quote_if_needed (python ? python : "python3");

  switch (spec->env_kind)
    {
    case MN_KERNEL_ENV_CONDA:
      {
        g_autofree gchar *qenv = quote_if_needed (spec->env);
        return g_strdup_printf ("conda install %s %s ipykernel",
                                strchr (spec->env, '/') ? "-p" : "-n", qenv);
      }
    case MN_KERNEL_ENV_VENV:
      return g_strdup_printf ("%s -m pip install ipykernel", qpy);
    case MN_KERNEL_ENV_SYSTEM:
    case MN_KERNEL_ENV_PYTHON:
    default:
      {
        /* Debian's own Python refuses pip (PEP 668): its package is the way */
        g_autofree gchar *real = python ? realpath (python, NULL) : NULL;
        if (real && g_str_has_prefix (real, "/usr/bin/python3") &&
            g_file_test ("/usr/bin/dpkg", G_FILE_TEST_EXISTS))
          return g_strdup ("apt-get install python3-ipykernel");
        return g_strdup_printf ("%s -m pip install ipykernel", qpy);
      }
    }
}

typedef struct {
  GSubprocess *proc;
  gboolean done;
  gboolean timed_out;
  gchar *out;
  gchar *err;
  GError *error;
} CheckRun;

static void
child_setup (gpointer data)
{
  /* own process group, so a timeout can take module tools and Python too */
  setpgid (0, 0);
}

static void
on_communicated (GObject *src, GAsyncResult *res, gpointer data)
{
  CheckRun *r = data;
  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (src), res, &r->out, &r->err, &r->error);
  r->done = TRUE;
}

static gboolean
on_timeout (gpointer data)
{
  CheckRun *r = data;
  const gchar *id = g_subprocess_get_identifier (r->proc);
  r->timed_out = TRUE;
  if (id != NULL)
    kill (-(pid_t) g_ascii_strtoll (id, NULL, 10), SIGKILL);
  return G_SOURCE_REMOVE;
}

/* The launcher's own "minna-kernel NAME: ..." line, the reason it gave. */
static gchar *
launcher_reason (const gchar *err, const gchar *name)
{
  g_autofree gchar *prefix = g_strdup_printf ("minna-kernel %s: ", name);
  g_auto(GStrv) lines = g_strsplit (err ? err : "", "\n", -1);
  const gchar *found = NULL;
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix))
      found = lines[i] + strlen (prefix);
  return found ? g_strdup (found) : NULL;
}

/* Everything else the launcher's tools said, indented, for the message. */
static gchar *
other_output (const gchar *err, const gchar *name)
{
  g_autofree gchar *prefix = g_strdup_printf ("minna-kernel %s: ", name);
  g_auto(GStrv) lines = g_strsplit (err ? err : "", "\n", -1);
  g_autoptr(GString) s = g_string_new (NULL);
  guint n = 0;
  for (guint i = 0; lines[i] && n < 20; i++)
    {
      g_strstrip (lines[i]);
      if (*lines[i] == '\0' || g_str_has_prefix (lines[i], prefix))
        continue;
      g_string_append_printf (s, "\n  %s", lines[i]);
      n++;
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
parse_report (MnKernelCheck *c, const gchar *out)
{
  g_auto(GStrv) lines = g_strsplit (out ? out : "", "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const gchar *l = lines[i];
      if (!g_str_has_prefix (l, "minna-check:"))
        continue;
      l += strlen ("minna-check:");
      const gchar *eq = strchr (l, '=');
      g_autofree gchar *key = eq ? g_strndup (l, (gsize) (eq - l)) : g_strdup (l);
      const gchar *val = eq ? eq + 1 : "";
      gchar **slot = g_str_equal (key, "module-system") ? &c->module_system
                   : g_str_equal (key, "python") ? &c->python
                   : g_str_equal (key, "python-version") ? &c->python_version
                   : g_str_equal (key, "ipykernel") ? &c->ipykernel_version
                   : g_str_equal (key, "failed-module") ? &c->failed_module : NULL;
      if (slot)
        {
          g_free (*slot);
          *slot = g_strdup (val);
        }
      else if (g_str_equal (key, "ok"))
        c->ok = TRUE;
    }
}

MnKernelCheck *
mn_kernel_launcher_check (const MnKernelSpec *spec, const gchar *script_path,
                          const gchar * const *envp, guint timeout_s, GError **error)
{
  g_autoptr(MnKernelCheck) c = g_new0 (MnKernelCheck, 1);
  g_autoptr(GSubprocessLauncher) l =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                               G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_autofree gchar *script = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) local = NULL;
  CheckRun r = { 0 };

  g_ptr_array_add (argv, (gpointer) "/bin/bash");
  if (script_path)
    g_ptr_array_add (argv, (gpointer) script_path);
  else
    {
      /* the text about to be installed, run before anything is written */
      script = mn_kernel_launcher_script (spec);
      g_ptr_array_add (argv, (gpointer) "-c");
      g_ptr_array_add (argv, script);
      g_ptr_array_add (argv, (gpointer) MN_KERNEL_LAUNCHER_FILE);
    }
  g_ptr_array_add (argv, (gpointer) "--check");
  g_ptr_array_add (argv, NULL);

  if (envp)
    g_subprocess_launcher_set_environ (l, (gchar **) envp);
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  r.proc = g_subprocess_launcher_spawnv (l, (const gchar * const *) argv->pdata, &local);
  if (r.proc == NULL)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_CHECK_FAILED,
                   "cannot run /bin/bash for the check: %s", local->message);
      return NULL;
    }

  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  g_subprocess_communicate_utf8_async (r.proc, NULL, NULL, on_communicated, &r);
  g_autoptr(GSource) timer = g_timeout_source_new_seconds (timeout_s ? timeout_s : 120);
  g_source_set_callback (timer, on_timeout, &r, NULL);
  g_source_attach (timer, ctx);
  while (!r.done)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timer);
  g_subprocess_wait (r.proc, NULL, NULL);
  g_main_context_pop_thread_default (ctx);

  g_autoptr(GSubprocess) proc = r.proc;
  g_autofree gchar *out = r.out, *err = r.err;
  g_autoptr(GError) comm_error = r.error;
  c->log = g_strdup (err ? err : "");
  parse_report (c, out);

  if (r.timed_out)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_CHECK_FAILED,
                   "the check did not finish within %u s (slow module system?)",
                   timeout_s ? timeout_s : 120);
      c->ok = FALSE;
      return g_steal_pointer (&c);
    }
  if (comm_error)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_CHECK_FAILED,
                   "reading the check's output: %s", comm_error->message);
      c->ok = FALSE;
      return g_steal_pointer (&c);
    }

  gint status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  if (status == 0 && c->ok)
    return g_steal_pointer (&c);
  c->ok = FALSE;

  g_autofree gchar *reason = launcher_reason (err, spec->name);
  g_autofree gchar *detail = other_output (err, spec->name);
  switch (status)
    {
    case MN_KERNEL_CHECK_EXIT_NO_MODULE_SYSTEM:
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NO_MODULE_SYSTEM, "%s",
                   reason ? reason : "no module system found");
      break;
    case MN_KERNEL_CHECK_EXIT_MODULE:
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MODULE,
                   "%s; check its name with 'module avail %s'%s",
                   reason ? reason : "a module could not be loaded",
                   c->failed_module ? c->failed_module : "", detail);
      break;
    case MN_KERNEL_CHECK_EXIT_ENVIRONMENT:
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_ENVIRONMENT, "%s%s",
                   reason ? reason : "the Python environment could not be activated", detail);
      break;
    case MN_KERNEL_CHECK_EXIT_PYTHON:
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_PYTHON, "%s",
                   reason ? reason : "the Python interpreter is missing");
      break;
    case MN_KERNEL_CHECK_EXIT_NO_IPYKERNEL:
      {
        g_autofree gchar *hint = mn_kernel_ipykernel_install_hint (spec, c->python);
        g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NO_IPYKERNEL,
                     "python %s (in this environment%s) cannot import ipykernel; "
                     "install it with: %s", c->python ? c->python : "?",
                     spec->modules->len ? ", modules loaded" : "", hint);
      }
      break;
    default:
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_CHECK_FAILED,
                   "the launcher's check failed (exit status %d)%s", status, detail);
      break;
    }
  return g_steal_pointer (&c);
}
