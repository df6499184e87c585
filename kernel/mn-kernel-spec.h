/* mn-kernel-spec.h: what a minna kernel is (name, modules, Python
 * environment) and how it reads and writes as a Jupyter kernel.json.
 *
 * A minna kernelspec lives in <jupyter data dir>/kernels/<name>/ and holds
 * kernel.json and MN_KERNEL_LAUNCHER_FILE.  kernel.json's "metadata" carries
 * a "minna" object so that list/check/remove can tell our kernels from
 * others and re-read what was asked for.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MN_KERNEL_LAUNCHER_FILE "minna-launch.sh"
#define MN_KERNEL_SPEC_FILE "kernel.json"
#define MN_KERNEL_NAME_MAX 64

#define MN_KERNEL_ERROR (mn_kernel_error_quark ())
GQuark mn_kernel_error_quark (void);

typedef enum {
  MN_KERNEL_ERROR_INVALID_ARGUMENT, /* bad name, module, path, option mix */
  MN_KERNEL_ERROR_EXISTS,           /* add without --force over a kernel */
  MN_KERNEL_ERROR_NOT_FOUND,        /* no such kernel */
  MN_KERNEL_ERROR_NOT_MANAGED,      /* a kernelspec minna did not write */
  MN_KERNEL_ERROR_MALFORMED,        /* kernel.json unreadable or wrong */
  MN_KERNEL_ERROR_IO,
  MN_KERNEL_ERROR_NO_MODULE_SYSTEM, /* neither Lmod nor Environment Modules */
  MN_KERNEL_ERROR_MODULE,           /* `module load` failed */
  MN_KERNEL_ERROR_ENVIRONMENT,      /* venv/conda env missing, no conda */
  MN_KERNEL_ERROR_PYTHON,           /* the Python is not there */
  MN_KERNEL_ERROR_NO_IPYKERNEL,     /* Python there, ipykernel not */
  MN_KERNEL_ERROR_CHECK_FAILED,     /* launcher check died otherwise */
} MnKernelError;

typedef enum {
  MN_KERNEL_ENV_SYSTEM, /* python3 from PATH once the modules are loaded */
  MN_KERNEL_ENV_PYTHON, /* an interpreter path, or a command looked up on PATH */
  MN_KERNEL_ENV_VENV,   /* a virtualenv directory */
  MN_KERNEL_ENV_CONDA,  /* a conda env, by name or prefix path */
} MnKernelEnvKind;

const gchar *mn_kernel_env_kind_to_string (MnKernelEnvKind kind);
gboolean     mn_kernel_env_kind_from_string (const gchar *s, MnKernelEnvKind *kind);

typedef struct {
  gchar *name;
  gchar *display_name;
  GPtrArray *modules;       /* gchar*, in load order */
  MnKernelEnvKind env_kind;
  gchar *env;               /* NULL for MN_KERNEL_ENV_SYSTEM */
  /* Module search path seen when the kernel was added (may be NULL): the
   * launcher appends what is missing, so a Jupyter started from a batch job
   * with a bare environment still finds the modules that were verified. */
  gchar *modulepath;
  gchar *modules_init;      /* init script found at add time, a hint */
} MnKernelSpec;

MnKernelSpec *mn_kernel_spec_new (const gchar *name);
void          mn_kernel_spec_free (MnKernelSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnKernelSpec, mn_kernel_spec_free)

/* Jupyter lists kernels by lower-cased directory name ([a-z0-9._-]); also
 * refuse leading '.' or '-' (hidden dirs, option look-alikes). */
gboolean mn_kernel_name_validate (const gchar *name, GError **error);
/* Modules are passed to `module load`: no blanks, controls, leading '-'. */
gboolean mn_kernel_module_validate (const gchar *module, GError **error);
/* Whole-spec checks: name, modules, display name, env value. */
gboolean mn_kernel_spec_validate (const MnKernelSpec *spec, GError **error);

/* "NAME (mod1, mod2)" when no display name was given. */
gchar *mn_kernel_spec_default_display_name (const MnKernelSpec *spec);

/* kernel.json for the spec installed in @kernel_dir (absolute). */
JsonNode *mn_kernel_spec_to_json (const MnKernelSpec *spec, const gchar *kernel_dir);
gchar    *mn_kernel_spec_to_json_data (const MnKernelSpec *spec, const gchar *kernel_dir);
/* Read back a kernel.json; @name is the directory's name.  Errors name
 * @path and the key.  Kernels without minna metadata give
 * MN_KERNEL_ERROR_NOT_MANAGED (with *display_name set when readable). */
MnKernelSpec *mn_kernel_spec_load (const gchar *path, const gchar *name,
                                   gchar **display_name, GError **error);

/* Jupyter's user data directory as jupyter_core computes it:
 * $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else $HOME/.local/share/jupyter.
 * @envp: the environment to read (g_get_environ () in the tool); relative
 * results are made absolute against @cwd. */
gchar *mn_kernel_data_dir (const gchar * const *envp, const gchar *cwd);
gchar *mn_kernel_kernels_dir (const gchar * const *envp, const gchar *cwd);

G_END_DECLS
