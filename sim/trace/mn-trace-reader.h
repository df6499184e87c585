/* mn-trace-reader.h: streaming readers for the trace formats sites have.
 * One reader yields MnTraceJob records one at a time; memory does not grow
 * with the file beyond what the caller keeps.  Skipped lines are reported as
 * "FILE:LINE: reason" (kept, bounded, and counted); in strict mode the first
 * bad line is an error instead. */
#pragma once

#include <gio/gio.h>
#include "mn-trace-job.h"

G_BEGIN_DECLS

#define MN_TRACE_ERROR (mn_trace_error_quark ())
GQuark mn_trace_error_quark (void);

typedef enum {
  MN_TRACE_ERROR_IO,          /* cannot open/read the file (message names it) */
  MN_TRACE_ERROR_FORMAT,      /* unknown or undetectable format */
  MN_TRACE_ERROR_BAD_LINE,    /* strict mode: "FILE:LINE: reason" */
} MnTraceError;

typedef enum {
  MN_TRACE_FORMAT_AUTO = 0,   /* detect from the content */
  MN_TRACE_FORMAT_SWF,
  MN_TRACE_FORMAT_SGE,
  MN_TRACE_FORMAT_SACCT,
  MN_TRACE_FORMAT_NATIVE,
} MnTraceFormat;

const gchar  *mn_trace_format_to_string (MnTraceFormat format);  /* "swf" ... */
/* FALSE (with error naming the text) if unknown; "auto" is accepted. */
gboolean      mn_trace_format_from_string (const gchar *text, MnTraceFormat *format,
                                           GError **error);

/* What the file's header says (SWF comments, native header); -1 / NULL when
 * not given. */
typedef struct {
  MnTraceFormat format;       /* the format actually read */
  gint64        max_procs;
  gint64        max_nodes;
  gint64        max_records;
  gint64        unix_start_time;
  gchar        *time_zone;    /* TimeZoneString */
  GHashTable   *queues;       /* queue number/name (gchar*) -> description (gchar*), may be empty */
  gboolean      interactive_queue_zero; /* SWF written by minna-tracegen: queue 0 = interactive */
  /* Added by issue 3: */
  GHashTable   *partitions;   /* SWF partition number (gchar*) -> description (gchar*) */
  gchar        *computer;     /* SWF "Computer", native "Computer"; NULL if not given */
  gint64        time_zone_offset; /* SWF/native "TimeZone": seconds east of UTC; 0 if not given */
  /* Added by issue 16 (NULL when the file says nothing): */
  GArray       *maintenance;  /* MnTraceWindow, sorted: the machine is down ("Maintenance: START END") */
  GArray       *limits;       /* MnTraceLimits, sorted by from: the site's all.q running caps
                               * ("Limits: FROM user_jobs=N user_cores=N group_jobs=N group_cores=N") */
} MnTraceHeader;

/* A period the whole machine is down for maintenance, [start, end) in Unix
 * time.  No job runs over it; submissions in it are the trace's business. */
typedef struct {
  gint64 start;
  gint64 end;
} MnTraceWindow;

/* all.q running caps in force from @from (Unix time) until the next entry;
 * 0 = no cap.  "Running" counts started jobs and their cores. */
typedef struct {
  gint64  from;
  guint32 user_jobs;
  guint32 group_jobs;
  guint64 user_cores;
  guint64 group_cores;
} MnTraceLimits;

/* The trace's local time as one fixed offset (seconds east of UTC): its
 * TimeZoneString at its start (UnixStartTime), else its TimeZone offset,
 * else 0.  `summary` and `replay` both place days, hours and months by it. */
gint64   mn_trace_header_utc_offset (const MnTraceHeader *header);

/* "START END" / "FROM key=value ..." as in the header comments; FALSE with
 * @error naming the bad part. */
gboolean mn_trace_window_parse (const gchar *text, MnTraceWindow *out, GError **error);
gboolean mn_trace_limits_parse (const gchar *text, MnTraceLimits *out, GError **error);
/* The header comment lines for the maintenance windows and limits, each line
 * starting with @comment ("# " or "; "). */
void     mn_trace_header_append_site (GString *out, const MnTraceHeader *header,
                                      const gchar *comment);

typedef struct _MnTraceReader MnTraceReader;

/* @path may be gzip-compressed (detected from the magic bytes). */
MnTraceReader *mn_trace_reader_open (const gchar *path, MnTraceFormat format,
                                     gboolean strict, GError **error);
/* Same, from a stream; @name is used in messages. */
MnTraceReader *mn_trace_reader_new_for_stream (GInputStream *stream, const gchar *name,
                                               MnTraceFormat format, gboolean strict,
                                               GError **error);
void           mn_trace_reader_free (MnTraceReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnTraceReader, mn_trace_reader_free)

/* The next job (caller frees), or NULL at the end (error unset) or on error.
 * Duplicate records of one job (Grid Engine retries, slave records) are merged
 * and yielded once. */
MnTraceJob   *mn_trace_reader_next (MnTraceReader *reader, GError **error);

/* Valid after open (header comments come first in every format). */
const MnTraceHeader *mn_trace_reader_get_header (MnTraceReader *reader);
guint64       mn_trace_reader_get_n_skipped (MnTraceReader *reader);
/* The first few hundred "FILE:LINE: reason" messages (array of gchar*). */
GPtrArray    *mn_trace_reader_get_skipped (MnTraceReader *reader);

/* Convenience: every job, in file order, as a GPtrArray of MnTraceJob*
 * (free func set).  @header_out (may be NULL) receives a copy of the header;
 * clear it with mn_trace_header_clear(). */
GPtrArray    *mn_trace_load (const gchar *path, MnTraceFormat format, gboolean strict,
                             MnTraceHeader *header_out, guint64 *n_skipped_out,
                             GError **error);
void          mn_trace_header_clear (MnTraceHeader *header);

/* Added by issue 3. */
/* Records merged into an earlier job (Grid Engine retries and parallel
 * slave records, sacct job steps): not jobs, not skipped either. */
guint64       mn_trace_reader_get_n_merged (MnTraceReader *reader);
/* Issue 16: TRUE after the last job of an SWF trace whose every job was in
 * queue 0 while the header does not declare queue 0 interactive ("; Queue:
 * 0 interactive").  Such a log did not record queues: its jobs are batch
 * jobs, not 100% interactive ones; callers reclassify them and say so. */
gboolean      mn_trace_reader_queue_zero_only (MnTraceReader *reader);
#define MN_TRACE_QUEUE_ZERO_NOTE "every job is in SWF queue 0 and the header does not declare " \
  "queue 0 interactive ('; Queue: 0 interactive'): read as batch jobs, not as 100% interactive"
/* The number of the line read last (for messages). */
guint64       mn_trace_reader_get_line (MnTraceReader *reader);

G_END_DECLS
