/* minna-job-launch: what job scripts run on the node to pick and hold a
 * port, write the connection file and exec the app (see
 * mn-controller-joblaunch.h).  A separate, small program: a hundred of
 * them start at once at the top of a lecture. */
#include "mn-controller-joblaunch.h"

int
main (int argc, char **argv)
{
  return mn_job_launch_main ("minna-job-launch", argc, argv);
}
