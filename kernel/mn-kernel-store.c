/* mn-kernel-store.c: install, list and remove kernelspec directories. */
#define G_LOG_DOMAIN "minna-kernel"

#include "mn-kernel-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mn-kernel-launcher.h"

static gboolean
io_error (GError **error, const gchar *what, const gchar *path, int errsv)
{
  g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_IO, "%s %s: %s",
               what, path, g_strerror (errsv));
  return FALSE;
}

/* Our kernel directories hold plain files only, at most one level down
 * (Jupyter allows logos); anything deeper is removed the same way. */
static gboolean
remove_tree (const gchar *path, GError **error)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return errno == ENOENT ? TRUE : io_error (error, "cannot stat", path, errno);
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GDir) d = g_dir_open (path, 0, &local);
      if (d == NULL)
        {
          g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_IO, "%s", local->message);
          return FALSE;
        }
      const gchar *n;
      while ((n = g_dir_read_name (d)) != NULL)
        {
          g_autofree gchar *child = g_build_filename (path, n, NULL);
          if (!remove_tree (child, error))
            return FALSE;
        }
      if (g_rmdir (path) != 0)
        return io_error (error, "cannot remove", path, errno);
      return TRUE;
    }
  if (g_unlink (path) != 0)
    return io_error (error, "cannot remove", path, errno);
  return TRUE;
}

static gboolean
write_file (const gchar *path, const gchar *text, int mode, GError **error)
{
  g_autoptr(GError) local = NULL;
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 mode, &local))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}

/* A hidden sibling name: Jupyter skips directories whose names it cannot
 * use as kernel names, and ours start with '.'. */
static gchar *
make_hidden_dir (const gchar *kernels_dir, const gchar *tag, const gchar *name, GError **error)
{
  g_autofree gchar *tmpl = g_strdup_printf ("%s/.minna-%s-%s-XXXXXX", kernels_dir, tag, name);
  if (g_mkdtemp_full (tmpl, 0755) == NULL)
    {
      io_error (error, "cannot create", tmpl, errno);
      return NULL;
    }
  return g_steal_pointer (&tmpl);
}

gboolean
mn_kernel_store_install (const gchar *kernels_dir, const MnKernelSpec *spec,
                         gboolean force, GError **error)
{
  g_autofree gchar *final = g_build_filename (kernels_dir, spec->name, NULL);

  if (!mn_kernel_spec_validate (spec, error))
    return FALSE;
  if (g_mkdir_with_parents (kernels_dir, 0755) != 0)
    return io_error (error, "cannot create", kernels_dir, errno);
  gboolean exists = g_file_test (final, G_FILE_TEST_EXISTS);
  if (exists && !force)
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_EXISTS,
                   "kernel '%s' already exists in %s (use --force to replace it)",
                   spec->name, kernels_dir);
      return FALSE;
    }

  g_autofree gchar *staging = make_hidden_dir (kernels_dir, "new", spec->name, error);
  if (staging == NULL)
    return FALSE;
  g_autofree gchar *json = mn_kernel_spec_to_json_data (spec, final);
  g_autofree gchar *script = mn_kernel_launcher_script (spec);
  g_autofree gchar *json_path = g_build_filename (staging, MN_KERNEL_SPEC_FILE, NULL);
  g_autofree gchar *script_path = g_build_filename (staging, MN_KERNEL_LAUNCHER_FILE, NULL);
  if (!write_file (script_path, script, 0755, error) ||
      !write_file (json_path, json, 0644, error))
    {
      remove_tree (staging, NULL);
      return FALSE;
    }

  g_autofree gchar *trash = NULL;
  g_autofree gchar *old = NULL;
  if (exists)
    {
      trash = make_hidden_dir (kernels_dir, "old", spec->name, error);
      if (trash == NULL)
        {
          remove_tree (staging, NULL);
          return FALSE;
        }
      old = g_build_filename (trash, spec->name, NULL);
      if (g_rename (final, old) != 0)
        {
          int errsv = errno;
          remove_tree (staging, NULL);
          remove_tree (trash, NULL);
          return io_error (error, "cannot move away", final, errsv);
        }
    }
  if (g_rename (staging, final) != 0)
    {
      int errsv = errno;
      if (old)
        (void) g_rename (old, final);
      remove_tree (staging, NULL);
      if (trash)
        remove_tree (trash, NULL);
      return io_error (error, "cannot rename into place", final, errsv);
    }
  if (trash)
    remove_tree (trash, NULL);
  return TRUE;
}

MnKernelSpec *
mn_kernel_store_lookup (const gchar *kernels_dir, const gchar *name, GError **error)
{
  if (!mn_kernel_name_validate (name, error))
    return NULL;
  g_autofree gchar *dir = g_build_filename (kernels_dir, name, NULL);
  g_autofree gchar *json = g_build_filename (dir, MN_KERNEL_SPEC_FILE, NULL);
  if (!g_file_test (json, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_FOUND,
                   "no kernel '%s' in %s", name, kernels_dir);
      return NULL;
    }
  return mn_kernel_spec_load (json, name, NULL, error);
}

gboolean
mn_kernel_store_remove (const gchar *kernels_dir, const gchar *name, gboolean force,
                        GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(MnKernelSpec) spec = mn_kernel_store_lookup (kernels_dir, name, &local);
  g_autofree gchar *dir = g_build_filename (kernels_dir, name, NULL);

  if (spec == NULL)
    {
      if (g_error_matches (local, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_FOUND) &&
          mn_kernel_name_validate (name, NULL) && g_file_test (dir, G_FILE_TEST_IS_DIR) && force)
        ; /* a broken directory without kernel.json: --force clears it */
      else if (!force || !(g_error_matches (local, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_MANAGED) ||
                           g_error_matches (local, MN_KERNEL_ERROR, MN_KERNEL_ERROR_MALFORMED)))
        {
          if (g_error_matches (local, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_MANAGED))
            g_prefix_error (&local, "refusing to remove a kernel minna-kernel did not write "
                            "(use --force): ");
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  g_autofree gchar *trash = make_hidden_dir (kernels_dir, "old", name, error);
  if (trash == NULL)
    return FALSE;
  g_autofree gchar *old = g_build_filename (trash, name, NULL);
  if (g_rename (dir, old) != 0)
    {
      int errsv = errno;
      remove_tree (trash, NULL);
      return io_error (error, "cannot move away", dir, errsv);
    }
  return remove_tree (trash, error);
}

void
mn_kernel_entry_free (MnKernelEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->name);
  g_free (e->dir);
  g_free (e->display_name);
  mn_kernel_spec_free (e->spec);
  g_free (e->problem);
  g_free (e);
}

static gint
entry_cmp (gconstpointer a, gconstpointer b)
{
  const MnKernelEntry *ea = *(MnKernelEntry * const *) a;
  const MnKernelEntry *eb = *(MnKernelEntry * const *) b;
  return strcmp (ea->name, eb->name);
}

GPtrArray *
mn_kernel_store_list (const gchar *kernels_dir, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_kernel_entry_free);
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) d = g_dir_open (kernels_dir, 0, &local);

  if (d == NULL)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&out);
      g_set_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_IO, "%s", local->message);
      return NULL;
    }
  const gchar *n;
  while ((n = g_dir_read_name (d)) != NULL)
    {
      if (n[0] == '.')
        continue;
      g_autofree gchar *dir = g_build_filename (kernels_dir, n, NULL);
      g_autofree gchar *json = g_build_filename (dir, MN_KERNEL_SPEC_FILE, NULL);
      if (!g_file_test (json, G_FILE_TEST_IS_REGULAR))
        continue;
      MnKernelEntry *e = g_new0 (MnKernelEntry, 1);
      g_autoptr(GError) lerr = NULL;
      e->name = g_strdup (n);
      e->dir = g_steal_pointer (&dir);
      e->spec = mn_kernel_spec_load (json, n, &e->display_name, &lerr);
      if (e->spec == NULL && !g_error_matches (lerr, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_MANAGED))
        e->problem = g_strdup (lerr->message);
      g_ptr_array_add (out, e);
    }
  g_ptr_array_sort (out, entry_cmp);
  return g_steal_pointer (&out);
}
