/* mn-sim-cmd-later.c: the sweep commands, until issue 5 replaces this file. */
#define G_LOG_DOMAIN "minna-sim"

#include <stdio.h>

#include "mn-sim-commands.h"

int mn_sim_cmd_run (int argc, char **argv) { fprintf (stderr, "minna-sim run: not built yet (issue 5)\n"); return 1; }
int mn_sim_cmd_merge (int argc, char **argv) { fprintf (stderr, "minna-sim merge: not built yet (issue 5)\n"); return 1; }
