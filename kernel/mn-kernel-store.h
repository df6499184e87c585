/* mn-kernel-store.h: kernelspecs on disk, in <data dir>/kernels.
 *
 * Writes are atomic as Jupyter sees them: a kernel directory is filled under
 * a hidden name beside it and renamed into place, and a removed or replaced
 * one is renamed away before it is deleted.
 */
#pragma once

#include "mn-kernel-spec.h"

G_BEGIN_DECLS

/* Install @spec as @kernels_dir/<name>/ (creating @kernels_dir).  An existing
 * kernel of that name is replaced only with @force. */
gboolean mn_kernel_store_install (const gchar *kernels_dir, const MnKernelSpec *spec,
                                  gboolean force, GError **error);

/* Remove @name; kernelspecs minna did not write only with @force. */
gboolean mn_kernel_store_remove (const gchar *kernels_dir, const gchar *name,
                                 gboolean force, GError **error);

/* A minna kernel's spec; MN_KERNEL_ERROR_NOT_FOUND / _NOT_MANAGED / _MALFORMED. */
MnKernelSpec *mn_kernel_store_lookup (const gchar *kernels_dir, const gchar *name,
                                      GError **error);

typedef struct {
  gchar *name;
  gchar *dir;
  gchar *display_name;   /* NULL when kernel.json is unreadable */
  MnKernelSpec *spec;    /* NULL unless written by minna-kernel */
  gchar *problem;        /* why kernel.json could not be read, or NULL */
} MnKernelEntry;

void mn_kernel_entry_free (MnKernelEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnKernelEntry, mn_kernel_entry_free)

/* Every kernelspec in @kernels_dir (minna's and others), sorted by name; a
 * missing directory is an empty list. */
GPtrArray *mn_kernel_store_list (const gchar *kernels_dir, GError **error);

G_END_DECLS
