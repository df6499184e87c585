/* mn-backend-command.c: scheduler commands under a timeout. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-backend-command.h"

#include <string.h>
#include <sys/wait.h>

#include "mn-controller-config.h"

gboolean
mn_backend_command_run (const MnBackendCommand *command, const gchar *user,
                        const gchar *const *argv, gchar **out, gint *out_status,
                        GError **error)
{
  g_autoptr(GPtrArray) full = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *std_out = NULL;
  g_autofree gchar *std_err = NULL;
  g_autoptr(GError) local = NULL;
  gint status = -1;

  g_ptr_array_add (full, g_strdup ("timeout"));
  g_ptr_array_add (full, g_strdup ("-k"));
  g_ptr_array_add (full, g_strdup ("2"));
  g_ptr_array_add (full, g_strdup_printf ("%u", command->timeout));
  if (user != NULL)
    {
      g_ptr_array_add (full, g_strdup ("runuser"));
      g_ptr_array_add (full, g_strdup ("-u"));
      g_ptr_array_add (full, g_strdup (user));
      g_ptr_array_add (full, g_strdup ("--"));
    }
  g_ptr_array_add (full, command->bin_dir ? g_build_filename (command->bin_dir, argv[0], NULL)
                                          : g_strdup (argv[0]));
  for (gsize i = 1; argv[i] != NULL; i++)
    g_ptr_array_add (full, g_strdup (argv[i]));
  g_ptr_array_add (full, NULL);

  if (!g_spawn_sync ("/", (gchar **) full->pdata, command->envp, G_SPAWN_SEARCH_PATH,
                     NULL, NULL, &std_out, &std_err, &status, &local))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", argv[0], local->message);
      return FALSE;
    }
  if (out_status != NULL)
    *out_status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 124)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE,
                   "%s: no answer within %u s (is %s up?)", argv[0], command->timeout,
                   command->daemon);
      return FALSE;
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      /* Grid Engine's clients say why on standard output, Slurm's on error. */
      g_autofree gchar *said = g_strdup_printf ("%s %s", std_err, std_out);
      gint code = MN_CONTROLLER_ERROR_BACKEND;
      for (gsize i = 0; command->unreachable != NULL && command->unreachable[i] != NULL; i++)
        if (strstr (said, command->unreachable[i]) != NULL)
          code = MN_CONTROLLER_ERROR_UNREACHABLE;
      g_set_error (error, MN_CONTROLLER_ERROR, code, "%s failed: %s", argv[0], g_strstrip (said));
      return FALSE;
    }
  if (out != NULL)
    *out = g_steal_pointer (&std_out);
  return TRUE;
}

gboolean
mn_backend_log_once (GHashTable *told, const gchar *message)
{
  if (g_hash_table_size (told) > 256)
    g_hash_table_remove_all (told);
  if (!g_hash_table_add (told, g_strdup (message)))
    return FALSE;
  g_message ("%s", message);
  return TRUE;
}

void
mn_backend_log_problems_once (GHashTable *told, const gchar *command, GPtrArray *problems)
{
  for (guint i = 0; i < problems->len; i++)
    {
      g_autofree gchar *message = g_strdup_printf ("%s: %s (ignored)", command,
                                                   (const gchar *) g_ptr_array_index (problems, i));

      mn_backend_log_once (told, message);
    }
}
