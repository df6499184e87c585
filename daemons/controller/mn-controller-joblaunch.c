/* mn-controller-joblaunch.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-joblaunch.h"
#include "mn-config-cli.h"

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
#include <sys/sysmacros.h>
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

/* Who holds the port locks: /proc/locks names each flock's inode and the
 * pid that took it, /proc/<pid> that process's owner.  Returns inode ->
 * uid for the port-N files of @lock_dir, and in @per_uid how many of them
 * each uid holds. */
static GHashTable *
lock_holders (const gchar *lock_dir, GHashTable **per_uid)
{
  g_autoptr(GHashTable) ours = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  GHashTable *holders = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree gchar *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GDir) d = g_dir_open (lock_dir, 0, NULL);
  const gchar *name;
  struct stat dst;

  *per_uid = g_hash_table_new (g_direct_hash, g_direct_equal);
  if (d == NULL || stat (lock_dir, &dst) != 0 ||
      !g_file_get_contents ("/proc/locks", &text, NULL, NULL))
    return holders;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = NULL;
      struct stat st;
      if (!g_str_has_prefix (name, "port-"))
        continue;
      path = g_build_filename (lock_dir, name, NULL);
      if (lstat (path, &st) == 0 && S_ISREG (st.st_mode))
        g_hash_table_add (ours, g_memdup2 (&(gint64) { (gint64) st.st_ino }, sizeof (gint64)));
    }
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      /* "N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE START END"; "->" lines wait */
      g_auto(GStrv) f = g_strsplit_set (lines[i], " ", -1);
      g_autoptr(GPtrArray) w = g_ptr_array_new ();
      guint maj = 0, min = 0;
      guint64 ino = 0;
      gint64 pid = 0;
      for (gsize k = 0; f[k] != NULL; k++)
        if (f[k][0] != '\0')
          g_ptr_array_add (w, f[k]);
      if (w->len < 6 || !g_str_equal (g_ptr_array_index (w, 1), "FLOCK") ||
          sscanf (g_ptr_array_index (w, 5), "%x:%x:%" G_GUINT64_FORMAT, &maj, &min, &ino) != 3 ||
          !g_ascii_string_to_signed (g_ptr_array_index (w, 4), 10, 1, G_MAXINT, &pid, NULL) ||
          maj != major (dst.st_dev) || min != minor (dst.st_dev) ||
          !g_hash_table_contains (ours, &(gint64) { (gint64) ino }))
        continue;
      {
        g_autofree gchar *proc = g_strdup_printf ("/proc/%" G_GINT64_FORMAT, pid);
        struct stat pst;
        guint uid;
        if (stat (proc, &pst) != 0)
          continue;
        uid = (guint) pst.st_uid;
        if (g_hash_table_contains (holders, &(gint64) { (gint64) ino }))
          continue;
        g_hash_table_insert (holders, g_memdup2 (&(gint64) { (gint64) ino }, sizeof (gint64)),
                             GUINT_TO_POINTER (uid + 1));
        g_hash_table_insert (*per_uid, GUINT_TO_POINTER (uid + 1),
                             GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (*per_uid,
                                                                 GUINT_TO_POINTER (uid + 1))) + 1));
      }
    }
  return holders;
}

/* A held lock counts only if its holder keeps within the per-user limit
 * (issue 15: one user could take every port lock, flock needs no more than
 * a readable file).  Root's and our own user's locks always count. */
static gboolean
lock_over_limit (GHashTable *holders, GHashTable *per_uid, int fd, guint limit, guint *uid_out,
                 guint *held_out)
{
  struct stat st;
  gpointer holder;
  guint uid, held;
  if (limit == 0 || fstat (fd, &st) != 0 ||
      (holder = g_hash_table_lookup (holders, &(gint64) { (gint64) st.st_ino })) == NULL)
    return FALSE;
  uid = GPOINTER_TO_UINT (holder) - 1;
  held = GPOINTER_TO_UINT (g_hash_table_lookup (per_uid, holder));
  *uid_out = uid;
  *held_out = held;
  return uid != 0 && uid != getuid () && held > limit;
}

gboolean
mn_job_pick_port (const gchar *host, guint port_min, guint port_max, const gchar *lock_dir,
                  guint locks_per_user, guint *port, int *lock_fd, GError **error)
{
  g_autoptr(GHashTable) holders = NULL, per_uid = NULL;
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
      if (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          guint uid = 0, held = 0;
          if (holders == NULL)
            holders = lock_holders (lock_dir, &per_uid);
          if (!lock_over_limit (holders, per_uid, fd, locks_per_user, &uid, &held) ||
              !port_free (host, p))
            {
              close (fd);
              continue;
            }
          /* the bind test above still keeps us off a port really in use */
          g_printerr ("minna job-launch: port %u: its lock is one of %u held by uid %u, more than"
                      " the %u a user may hold; taking the port\n", p, held, uid, locks_per_user);
        }
      else if (!port_free (host, p))
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
  /* No fsync: the rename is what readers rely on (never a half-written
   * file), and the file matters only while this job lives, which a crash of
   * this machine ends anyway.  An fsync here made every app of a lecture
   * wait for a disk write before it could start (issue 14). */
  ok = close (fd) == 0 && ok;
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
mn_job_launch_main (const gchar *program, int argc, char **argv)
{
  g_autofree gchar *host = NULL, *ports = NULL, *lock_dir = NULL, *conn = NULL;
  gint locks_per_user = MN_JOB_LOCKS_PER_USER;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Address the app will listen on, or 'node':"
      " this node's own address", "ADDR" },
    { "ports", 0, 0, G_OPTION_ARG_STRING, &ports, "Port range", "MIN-MAX" },
    { "lock-dir", 0, 0, G_OPTION_ARG_FILENAME, &lock_dir, "Port lock directory", "DIR" },
    { "connection-file", 0, 0, G_OPTION_ARG_FILENAME, &conn, "Where to write host and port", "FILE" },
    { "locks-per-user", 0, 0, G_OPTION_ARG_INT, &locks_per_user, "Port locks another user's"
      " jobs may hold before their further ones are ignored (0: no limit)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, "-- COMMAND..." },
    { NULL }
  };
  g_autoptr(MnCli) cli = mn_cli_new (program, NULL,
                                     "Run by job scripts: pick and hold a port, write the"
                                     " connection file, exec the app with MINNA_HOST/MINNA_PORT set.",
                                     NULL, TRUE);
  g_autoptr(GError) error = NULL;
  gint status;
  guint port = 0, lo = 0, hi = 0;
  int fd = -1;
  g_autofree gchar *port_text = NULL;

  mn_cli_add_entries (cli, entries);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE)
    return status;
  if (host == NULL || ports == NULL || lock_dir == NULL || conn == NULL || rest == NULL ||
      rest[0] == NULL || sscanf (ports, "%u-%u", &lo, &hi) != 2)
    return mn_cli_usage_error (program, "need --host, --ports MIN-MAX, --lock-dir,"
                               " --connection-file and a command");
  if (g_str_equal (host, "node"))
    {
      g_free (host);
      host = node_address (&error);
      if (host == NULL)
        {
          g_printerr ("%s: %s\n", program, error->message);
          return 1;
        }
    }
  if (locks_per_user < 0)
    {
      return mn_cli_usage_error (program, "--locks-per-user must not be negative");
    }
  if (!mn_job_pick_port (host, lo, hi, lock_dir, (guint) locks_per_user, &port, &fd, &error) ||
      !write_connection (conn, host, port, &error))
    {
      g_printerr ("%s: %s\n", program, error->message);
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
  g_printerr ("%s: cannot run %s: %s\n", program, rest[0], g_strerror (errno));
  return 127;
}
