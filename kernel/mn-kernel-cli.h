/* mn-kernel-cli.h: the minna-kernel command line (add, list, remove, check).
 *
 * Exit status: 0 done, 1 refused or check failed, 2 usage error.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum {
  MN_KERNEL_EXIT_OK = 0,
  MN_KERNEL_EXIT_FAILED = 1,
  MN_KERNEL_EXIT_USAGE = 2,
};

int mn_kernel_cli_main (int argc, char **argv);

/* Stable names for MnKernelError codes, as used in --json output. */
const gchar *mn_kernel_error_code_name (gint code);

G_END_DECLS
