/* test-trace-helpers.h: small helpers the trace tests share (header-only). */
#pragma once

#include <string.h>
#include "mn-trace-reader.h"

/* Reads @text (as file @name) with @format; all jobs, or NULL with @error. */
static inline GPtrArray *
read_text (const gchar *text, const gchar *name, MnTraceFormat format, gboolean strict,
           guint64 *n_skipped, GPtrArray **skipped_out, GError **error)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (g_strdup (text),
                                                                    (gssize) strlen (text),
                                                                    g_free);
  g_autoptr(MnTraceReader) reader = mn_trace_reader_new_for_stream (in, name, format, strict,
                                                                    error);
  g_autoptr(GPtrArray) jobs = NULL;
  GError *local_error = NULL;
  MnTraceJob *job;

  if (reader == NULL)
    return NULL;
  jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_trace_job_free);
  while ((job = mn_trace_reader_next (reader, &local_error)) != NULL)
    g_ptr_array_add (jobs, job);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (n_skipped != NULL)
    *n_skipped = mn_trace_reader_get_n_skipped (reader);
  if (skipped_out != NULL)
    *skipped_out = g_ptr_array_ref (mn_trace_reader_get_skipped (reader));
  return g_steal_pointer (&jobs);
}

static inline gchar *
test_source_path (const gchar *first, ...)
{
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");

  return g_build_filename (src != NULL ? src : ".", "tests", "data", "trace", first, NULL);
}
