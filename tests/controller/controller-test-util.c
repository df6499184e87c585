/* controller-test-util.c */
#include "controller-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

guint
mn_test_free_port (void)
{
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_assert_true (g_socket_bind (s, any, TRUE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

void
mn_test_write_file (const gchar *path, const gchar *text, int mode)
{
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

void
mn_test_remove_dir (const gchar *dir)
{
  if (g_getenv ("MINNA_KEEP_TEST_DIR") == NULL)
    {
      g_autofree gchar *quoted = g_shell_quote (dir);
      g_autofree gchar *cmd = g_strdup_printf ("rm -rf %s", quoted);
      if (system (cmd) != 0)
        g_printerr ("could not remove %s\n", dir);
    }
  else
    g_printerr ("kept %s\n", dir);
}

int
mn_test_run_in_child (void (*clean_up) (void))
{
  int status = 0;
  pid_t child;
  fflush (stdout);
  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    return -1;
  waitpid (child, &status, 0);
  clean_up ();
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  g_printerr ("test child died of signal %d\n", WTERMSIG (status));
  return 1;
}
