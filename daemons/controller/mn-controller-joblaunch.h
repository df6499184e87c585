/* mn-controller-joblaunch.h: `minna-controller job-launch`, run by job
 * scripts on the node: pick a free port in a range, hold it, write the
 * connection file, exec the app.
 *
 * A port is held by an exclusive flock on <lock-dir>/port-<N>; the lock fd
 * is inherited by the app, so it is held for as long as the app lives and
 * two jobs never pick the same port even before their apps bind it.  The
 * connection file (key file, [connection] host, port) is written 0600 and
 * atomically (rename). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_JOB_LAUNCH_ERROR (mn_job_launch_error_quark ())
GQuark mn_job_launch_error_quark (void);

/* Picks and locks a port; returns it, and the locked fd in @lock_fd. */
gboolean mn_job_pick_port (const gchar *host, guint port_min, guint port_max,
                           const gchar *lock_dir, guint *port, int *lock_fd,
                           GError **error);

/* argv after the subcommand name; does not return on success. */
int mn_job_launch_main (int argc, char **argv);

G_END_DECLS
