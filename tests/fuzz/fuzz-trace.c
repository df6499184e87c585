/* fuzz-trace.c: a libFuzzer harness for one trace parser, chosen at build
 * time with -DFUZZ_FORMAT=<MnTraceFormat> (0 = detect from the content).
 * Every input is read leniently and strictly: it must give jobs or an error,
 * never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stddef.h>

#include "mn-trace-reader.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT 0
#endif

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
read_all (const uint8_t *data, size_t size, gboolean strict)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (g_memdup2 (data, size),
                                                                    (gssize) size, g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnTraceReader) reader = mn_trace_reader_new_for_stream (in, "fuzz",
                                                                    (MnTraceFormat) FUZZ_FORMAT,
                                                                    strict, &error);
  MnTraceJob *job;

  if (reader == NULL)
    {
      g_assert (error != NULL && error->message != NULL);
      return;
    }
  (void) mn_trace_reader_get_header (reader);
  while ((job = mn_trace_reader_next (reader, &error)) != NULL)
    {
      /* touch what a consumer reads */
      g_assert (job->rtype < MN_RTYPE_LAST);
      (void) mn_trace_job_get_procs (job);
      (void) mn_trace_job_get_nodes (job);
      mn_trace_job_free (job);
    }
  if (error != NULL)
    g_assert (error->message != NULL);
  g_assert (mn_trace_reader_get_skipped (reader)->len <= mn_trace_reader_get_n_skipped (reader));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  read_all (data, size, FALSE);
  read_all (data, size, TRUE);
  return 0;
}
