/* minna-kernel: Jupyter kernels that load environment modules first. */
#define G_LOG_DOMAIN "minna-kernel"

#include <locale.h>

#include "mn-kernel-cli.h"

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  return mn_kernel_cli_main (argc, argv);
}
