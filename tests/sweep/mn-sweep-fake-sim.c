/* mn-sweep-fake-sim: `run` and `merge` as minna-sim has them, on the fake
 * simulator; the array test runs the emitted Slurm script against it. */
#define G_LOG_DOMAIN "minna-sweep-test"

#include <locale.h>
#include <string.h>

#include "mn-sweep-commands.h"
#include "mn-sweep-fake.h"

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc >= 2 && strcmp (argv[1], "run") == 0)
    return mn_sweep_cmd_run_with (argc - 1, argv + 1, mn_sweep_fake_runner_new);
  if (argc >= 2 && strcmp (argv[1], "merge") == 0)
    return mn_sweep_cmd_merge (argc - 1, argv + 1);
  g_printerr ("Usage: %s run|merge ...\n", argv[0]);
  return 2;
}
