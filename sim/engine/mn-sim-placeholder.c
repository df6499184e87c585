#include <stdio.h>
#include "mn-sim-commands.h"
int mn_sim_cmd_replay (int argc, char **argv) { fprintf (stderr, "minna-sim replay: not built yet (issue 4)\n"); return 1; }
int mn_sim_cmd_run (int argc, char **argv) { fprintf (stderr, "minna-sim run: not built yet (issue 5)\n"); return 1; }
int mn_sim_cmd_merge (int argc, char **argv) { fprintf (stderr, "minna-sim merge: not built yet (issue 5)\n"); return 1; }
