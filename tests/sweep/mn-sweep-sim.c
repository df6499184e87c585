/* mn-sweep-sim: `run` and `merge` exactly as minna-sim has them (the real
 * engine), for the integration tests, whatever minna-sim's wiring. */
#define G_LOG_DOMAIN "minna-sweep-test"

#include <locale.h>
#include <string.h>

#include "mn-sweep-commands.h"

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc >= 2 && strcmp (argv[1], "run") == 0)
    return mn_sweep_cmd_run (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "merge") == 0)
    return mn_sweep_cmd_merge (argc - 1, argv + 1);
  g_printerr ("Usage: %s run|merge ...\n", argv[0]);
  return 2;
}
