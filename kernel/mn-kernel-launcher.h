/* mn-kernel-launcher.h: the bash launcher a minna kernelspec runs, and its
 * check mode.
 *
 * The launcher initialises the site's module system (Lmod or Environment
 * Modules, found at run time), loads each module (stopping loudly on the
 * first failure), activates the Python environment and execs
 * `python -m ipykernel_launcher "$@"`.  Run with --check as first argument it
 * does the same steps, then tries `import ipykernel` instead of starting the
 * kernel, and reports on stdout lines "minna-check:KEY=VALUE"; its exit
 * status says which step failed (MN_KERNEL_CHECK_EXIT_*).  `add` runs the very
 * text it is about to install this way, `check` runs the installed file.
 */
#pragma once

#include "mn-kernel-spec.h"

G_BEGIN_DECLS

enum {
  MN_KERNEL_CHECK_EXIT_NO_MODULE_SYSTEM = 10,
  MN_KERNEL_CHECK_EXIT_MODULE = 11,
  MN_KERNEL_CHECK_EXIT_ENVIRONMENT = 12,
  MN_KERNEL_CHECK_EXIT_PYTHON = 13,
  MN_KERNEL_CHECK_EXIT_NO_IPYKERNEL = 14,
};

/* The launcher script's text for @spec. */
gchar *mn_kernel_launcher_script (const MnKernelSpec *spec);

/* The first module-system init script this machine has (as the launcher
 * would find it in the environment @envp), or NULL. */
gchar *mn_kernel_find_modules_init (const gchar * const *envp);

typedef struct {
  gboolean ok;
  gchar *module_system;  /* init script used, NULL when no modules */
  gchar *python;         /* resolved interpreter */
  gchar *python_version;
  gchar *ipykernel_version;
  gchar *failed_module;  /* set on MN_KERNEL_ERROR_MODULE */
  gchar *log;            /* the launcher's stderr, for the curious */
} MnKernelCheck;

void mn_kernel_check_free (MnKernelCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnKernelCheck, mn_kernel_check_free)

/* Run the launcher in check mode: @script_path is an installed launcher, or
 * NULL to run @spec's script text directly (nothing written).  Returns the
 * report (also on failure, for --json); *error says what is missing and the
 * command that would install it. @timeout_s bounds slow module systems. */
MnKernelCheck *mn_kernel_launcher_check (const MnKernelSpec *spec,
                                         const gchar *script_path,
                                         const gchar * const *envp,
                                         guint timeout_s,
                                         GError **error);

/* The command that would install ipykernel into @python for @spec. */
gchar *mn_kernel_ipykernel_install_hint (const MnKernelSpec *spec, const gchar *python);

G_END_DECLS
