/* bench-trace-read-tool: reads a trace with the streaming reader, as the
 * simulator does, and prints one JSON line: jobs, skipped, seconds.  Used by
 * tests/bench/bench-trace-read. */
#include <stdio.h>

#include "mn-trace-reader.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceReader) reader = NULL;
  MnTraceFormat format = MN_TRACE_FORMAT_AUTO;
  gint64 start, jobs = 0, procs = 0;
  MnTraceJob *job;

  if (argc < 2 || argc > 3 || (argc == 3 && !mn_trace_format_from_string (argv[2], &format, &error)))
    {
      fprintf (stderr, "usage: bench-trace-read-tool TRACE [FORMAT]\n");
      return 2;
    }
  start = g_get_monotonic_time ();
  reader = mn_trace_reader_open (argv[1], format, FALSE, &error);
  if (reader == NULL)
    {
      fprintf (stderr, "bench-trace-read-tool: %s\n", error->message);
      return 1;
    }
  while ((job = mn_trace_reader_next (reader, &error)) != NULL)
    {
      procs += job->procs;   /* keep the work from being optimised away */
      jobs++;
      mn_trace_job_free (job);
    }
  if (error != NULL)
    {
      fprintf (stderr, "bench-trace-read-tool: %s\n", error->message);
      return 1;
    }
  printf ("{\"jobs\": %" G_GINT64_FORMAT ", \"skipped\": %" G_GUINT64_FORMAT
          ", \"seconds\": %.6f, \"format\": \"%s\", \"checksum\": %" G_GINT64_FORMAT "}\n", jobs,
          mn_trace_reader_get_n_skipped (reader), (g_get_monotonic_time () - start) / 1e6,
          mn_trace_format_to_string (mn_trace_reader_get_header (reader)->format), procs);
  return 0;
}
