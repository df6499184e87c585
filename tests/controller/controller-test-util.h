/* controller-test-util.h: what the controller's integration tests and its
 * launch benchmark share: a free loopback port, a file with a mode, and
 * running the tests in a child so that the parent cleans up even after an
 * aborted assertion. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A TCP port on 127.0.0.1 that was free a moment ago. */
guint mn_test_free_port (void);

/* Writes @text to @path and sets its mode; asserts. */
void  mn_test_write_file (const gchar *path, const gchar *text, int mode);

/* Removes the test's directory, or keeps it (saying so) when
 * MINNA_KEEP_TEST_DIR is set. */
void  mn_test_remove_dir (const gchar *dir);

/* Forks.  In the parent: waits for the child, runs @clean_up, returns the
 * child's exit status (1 if it died of a signal).  In the child: returns
 * -1, and the caller goes on to run the tests and _exit() with their
 * status. */
int   mn_test_run_in_child (void (*clean_up) (void));

G_END_DECLS
