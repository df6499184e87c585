/* mn-controller-joblaunch.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-joblaunch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (mn-job-launch-error-quark, mn_job_launch_error)

static gboolean
port_free (const gchar *host, guint port)
{
  struct sockaddr_in sa = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  gboolean ok;
  if (fd < 0)
    return FALSE;
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((uint16_t) port);
  if (inet_pton (AF_INET, host, &sa.sin_addr) != 1)
    sa.sin_addr.s_addr = htonl (INADDR_ANY);
  /* the app sets SO_REUSEADDR too; TIME_WAIT leftovers do not block it */
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ok = bind (fd, (struct sockaddr *) &sa, sizeof sa) == 0;
  close (fd);
  return ok;
}

gboolean
mn_job_pick_port (const gchar *host, guint port_min, guint port_max, const gchar *lock_dir,
                  guint *port, int *lock_fd, GError **error)
{
  guint n = port_max - port_min + 1;
  /* start at a random place so that simultaneous jobs rarely contend */
  guint first = g_random_int_range (0, (gint32) n);

  if (port_min > port_max || port_min == 0)
    {
      g_set_error (error, MN_JOB_LAUNCH_ERROR, 0,
                   "bad port range %u-%u", port_min, port_max);
      return FALSE;
    }
  if (g_mkdir_with_parents (lock_dir, 01777) != 0)
    {
      g_set_error (error, MN_JOB_LAUNCH_ERROR, 0,
                   "%s: %s", lock_dir, g_strerror (errno));
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      guint p = port_min + (first + i) % n;
      g_autofree gchar *path = g_strdup_printf ("%s/port-%u", lock_dir, p);
      /* lock files stay (another user's job may not delete them in a sticky
       * dir); 0644 lets every user open them read-only to lock them */
      int fd = open (path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0)
        continue;
      fchmod (fd, 0644);
      if (flock (fd, LOCK_EX | LOCK_NB) != 0 || !port_free (host, p))
        {
          close (fd);
          continue;
        }
      *port = p;
      *lock_fd = fd;
      return TRUE;
    }
  g_set_error (error, MN_JOB_LAUNCH_ERROR, 0,
               "no free port in %u-%u on %s", port_min, port_max, host);
  return FALSE;
}

static gboolean
write_connection (const gchar *path, const gchar *host, guint port, GError **error)
{
  g_autofree gchar *tmp = g_strdup_printf ("%s.tmp", path);
  g_autofree gchar *text = g_strdup_printf ("[connection]\nhost=%s\nport=%u\n", host, port);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  gboolean ok;
  if (fd < 0)
    {
      g_set_error (error, MN_JOB_LAUNCH_ERROR, 0,
                   "%s: %s", tmp, g_strerror (errno));
      return FALSE;
    }
  fchmod (fd, 0600);
  ok = write (fd, text, strlen (text)) == (ssize_t) strlen (text);
  ok = (fsync (fd) == 0) && ok;
  close (fd);
  if (!ok || rename (tmp, path) != 0)
    {
      g_set_error (error, MN_JOB_LAUNCH_ERROR, 0,
                   "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* --host node: the address this compute node is reached at, from its own
 * name (a non-loopback IPv4 address when the name has one).  The controller
 * accepts it only if the node the scheduler names for the job resolves to
 * it. */
static gchar *
node_address (GError **error)
{
  struct addrinfo hints = { 0 }, *res = NULL;
  const gchar *name = g_get_host_name ();
  gchar *best = NULL;
  int rc;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo (name, NULL, &hints, &res);
  if (rc != 0)
    {
      g_set_error (error, MN_JOB_LAUNCH_ERROR, 0,
                   "--host node: this node's name '%s' does not resolve: %s", name,
                   gai_strerror (rc));
      return NULL;
    }
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
    {
      char buf[INET_ADDRSTRLEN];
      const struct sockaddr_in *sin = (const struct sockaddr_in *) ai->ai_addr;
      if (inet_ntop (AF_INET, &sin->sin_addr, buf, sizeof buf) == NULL)
        continue;
      if (!g_str_has_prefix (buf, "127."))
        {
          g_free (best);
          best = g_strdup (buf);
          break;
        }
      if (best == NULL)
        best = g_strdup (buf);
    }
  freeaddrinfo (res);
  if (best == NULL)
    g_set_error (error, MN_JOB_LAUNCH_ERROR, 0,
                 "--host node: this node's name '%s' has no IPv4 address", name);
  return best;
}

int
mn_job_launch_main (int argc, char **argv)
{
  g_autofree gchar *host = NULL, *ports = NULL, *lock_dir = NULL, *conn = NULL;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Address the app will listen on, or 'node':"
      " this node's own address", "ADDR" },
    { "ports", 0, 0, G_OPTION_ARG_STRING, &ports, "Port range", "MIN-MAX" },
    { "lock-dir", 0, 0, G_OPTION_ARG_FILENAME, &lock_dir, "Port lock directory", "DIR" },
    { "connection-file", 0, 0, G_OPTION_ARG_FILENAME, &conn, "Where to write host and port", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, "-- COMMAND..." },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-- COMMAND [ARG...]");
  g_autoptr(GError) error = NULL;
  guint port = 0, lo = 0, hi = 0;
  int fd = -1;
  g_autofree gchar *port_text = NULL;

  g_option_context_set_summary (ctx, "Run by job scripts: pick and hold a port, write the"
                                " connection file, exec the app with MINNA_HOST/MINNA_PORT set.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("minna job-launch: %s\n", error->message);
      return 2;
    }
  if (host == NULL || ports == NULL || lock_dir == NULL || conn == NULL || rest == NULL ||
      rest[0] == NULL || sscanf (ports, "%u-%u", &lo, &hi) != 2)
    {
      g_printerr ("minna job-launch: need --host, --ports MIN-MAX, --lock-dir,"
                  " --connection-file and a command\n");
      return 2;
    }
  if (g_str_equal (host, "node"))
    {
      g_free (host);
      host = node_address (&error);
      if (host == NULL)
        {
          g_printerr ("minna job-launch: %s\n", error->message);
          return 1;
        }
    }
  if (!mn_job_pick_port (host, lo, hi, lock_dir, &port, &fd, &error) ||
      !write_connection (conn, host, port, &error))
    {
      g_printerr ("minna job-launch: %s\n", error->message);
      return 1;
    }
  /* keep the lock across exec: the app holds it while it lives */
  fcntl (fd, F_SETFD, 0);
  port_text = g_strdup_printf ("%u", port);
  g_setenv ("MINNA_HOST", host, TRUE);
  g_setenv ("MINNA_PORT", port_text, TRUE);
  g_print ("minna: app on %s:%u\n", host, port);
  fflush (stdout);
  execvp (rest[0], rest);
  g_printerr ("minna job-launch: cannot run %s: %s\n", rest[0], g_strerror (errno));
  return 127;
}
