/* mn-controller-joblaunch.h: `minna-controller job-launch`, run by job
 * scripts on the node: pick a free port in a range, hold it, write the
 * connection file, exec the app.
 *
 * A port is held by an exclusive flock on <lock-dir>/port-<N>; the lock fd
 * is inherited by the app, so it is held for as long as the app lives and
 * two jobs never pick the same port even before their apps bind it.  The
 * connection file (key file, [connection] host, port) is written 0600 and
 * atomically (rename).
 *
 * Any user can flock a readable lock file, so one user could hold every
 * port's lock; /proc/locks tells who holds which, and locks of a user
 * holding more than --locks-per-user are not honoured by other users'
 * jobs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_JOB_LAUNCH_ERROR (mn_job_launch_error_quark ())
GQuark mn_job_launch_error_quark (void);

/* Port locks of one user that count (issue 15): a user's locks beyond
 * this many are ignored by other users' jobs (the bind test still keeps
 * them off ports in use), so nobody can take every port.  Root's locks and
 * the job's own user's always count. */
#define MN_JOB_LOCKS_PER_USER 8

/* Picks and locks a port; returns it, and the locked fd in @lock_fd.
 * @locks_per_user: see MN_JOB_LOCKS_PER_USER (0: no limit). */
gboolean mn_job_pick_port (const gchar *host, guint port_min, guint port_max,
                           const gchar *lock_dir, guint locks_per_user, guint *port,
                           int *lock_fd, GError **error);

/* argv after the subcommand name; does not return on success.  @program:
 * "minna-job-launch" or "minna-controller job-launch", for messages. */
int mn_job_launch_main (const gchar *program, int argc, char **argv);

G_END_DECLS
