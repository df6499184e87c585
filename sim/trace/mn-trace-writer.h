/* mn-trace-writer.h: writing jobs as minna native, SWF v2.2 or Grid Engine
 * accounting (SoGE 8.1 layout), so every reader can be checked against the
 * generator's output (round trips). */
#pragma once

#include <gio/gio.h>
#include "mn-trace-reader.h"

G_BEGIN_DECLS

typedef struct _MnTraceWriter MnTraceWriter;

/* @header gives the machine, start time, MaxRecords... (may be NULL);
 * @note is one line of text for the header comments (may be NULL).
 * Formats: NATIVE, SWF, SGE. */
MnTraceWriter *mn_trace_writer_new (GOutputStream *out, const gchar *name, MnTraceFormat format,
                                    const MnTraceHeader *header, const gchar *note,
                                    GError **error);
gboolean       mn_trace_writer_write (MnTraceWriter *writer, const MnTraceJob *job,
                                      GError **error);
/* Flushes what is buffered (the stream stays open). */
gboolean       mn_trace_writer_flush (MnTraceWriter *writer, GError **error);
void           mn_trace_writer_free (MnTraceWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnTraceWriter, mn_trace_writer_free)

/* Writes all @jobs to @path ("-" = stdout); ".gz" paths are compressed. */
gboolean       mn_trace_save (const gchar *path, MnTraceFormat format, GPtrArray *jobs,
                              const MnTraceHeader *header, const gchar *note, GError **error);

/* The native format's column names, in order (NULL past the end). */
const gchar   *mn_trace_native_column_name (guint index);

G_END_DECLS
