#include <stdio.h>
#include "mn-sim-commands.h"
int mn_sim_cmd_summary (int argc, char **argv) { fprintf (stderr, "minna-sim summary: not built yet (issue 3)\n"); return 1; }
