/* mn-controller-kernels.h: GET /api/v1/kernels, the logged-in user's own
 * Jupyter kernels for the launch form.
 *
 * The list comes from `minna-kernel list --json` run as that user (runuser
 * when the controller is root and [backend] run_as = user, else as the
 * controller's own account), asynchronously, killed with its process group
 * after [backend] kernel_timeout, and kept per user for a short while so that
 * a page reload does not fork again.  Answers:
 *
 *   200 {"kernels": [{"name", "display_name", ...}], "kernels_dir", "warning": null}
 *   200 {"kernels": [], "kernels_dir": null, "warning": "why there is no list"}
 *       minna-kernel missing, failing or answering nonsense (logged too)
 *   504 {"error": "... did not answer within N s ..."}
 */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include "mn-controller-config.h"

G_BEGIN_DECLS

/* How long one user's list is reused, in seconds. */
#define MN_CONTROLLER_KERNELS_CACHE_SECONDS 30

typedef struct _MnControllerKernels MnControllerKernels;

/* @config is borrowed and must outlive the returned object. */
MnControllerKernels *mn_controller_kernels_new (const MnControllerConfig *config);
/* Kills listings still running; their requests are answered 503. */
void                 mn_controller_kernels_free (MnControllerKernels *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnControllerKernels, mn_controller_kernels_free)

/* Answers @msg for @user (already authenticated): at once from the cache,
 * else pauses @msg until minna-kernel has answered or timed out. */
void mn_controller_kernels_handle (MnControllerKernels *self, SoupServerMessage *msg,
                                   const gchar *user);

/* The names in @user's last list (however old), NULL when none was made:
 * what a launch's kernel field is checked against. */
GStrv mn_controller_kernels_cached_names (MnControllerKernels *self, const gchar *user);

/* The program that is run: [backend] kernel_program, else minna-kernel
 * beside this binary, else "minna-kernel" from PATH. */
gchar *mn_controller_kernels_program (const MnControllerConfig *config);

G_END_DECLS
