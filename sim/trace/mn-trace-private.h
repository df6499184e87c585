/* mn-trace-private.h: what the reader core shares with the per-format
 * parsers (mn-trace-swf.c, -sge.c, -sacct.c, -native.c).  Not installed. */
#pragma once

#include "mn-trace-reader.h"

G_BEGIN_DECLS

typedef struct _MnTraceParser MnTraceParser;

/* Latest time or longest duration accepted (about the year 300000). */
#define MN_TRACE_MAX_TIME G_GINT64_CONSTANT (10000000000000)

struct _MnTraceParser {
  MnTraceFormat format;
  /* A line before the first job (comments, column names): TRUE if it was
   * header, FALSE if it is the first data line.  May fail (strict). */
  gboolean    (*header_line) (MnTraceReader *reader, const gchar *line, GError **error);
  /* One data line (NUL-terminated, no newline, writable).  Sets *job_out to
   * a finished job or NULL (comment, record merged into a pending job).
   * FALSE with @error set to the reason (without file:line) if bad. */
  gboolean    (*parse_line) (MnTraceReader *reader, gchar *line, MnTraceJob **job_out,
                             GError **error);
  /* End of input: the next job still held back (merging), or NULL. */
  MnTraceJob *(*flush) (MnTraceReader *reader);
  void        (*free_state) (gpointer state);
};

extern const MnTraceParser mn_trace_parser_swf;
extern const MnTraceParser mn_trace_parser_sge;
extern const MnTraceParser mn_trace_parser_sacct;
extern const MnTraceParser mn_trace_parser_native;

struct _MnTraceReader {
  GInputStream        *stream;
  gchar               *name;
  gboolean             strict;
  MnTraceHeader        header;
  const MnTraceParser *parser;
  gpointer             state;        /* the parser's */

  /* Line buffer: bytes [pos, len) are not consumed yet. */
  gchar               *buf;
  gsize                cap;
  gsize                pos;
  gsize                len;
  gsize                chunk;        /* size of the next read */
  gboolean             eof;
  guint64              line_no;      /* of the line last returned */
  gchar               *unread;       /* a line given back by the header pass */
  gsize                nul_at;       /* 1 + offset of a NUL in the line last read, else 0 */

  guint64              n_skipped;
  guint64              n_merged;
  guint64              n_jobs;       /* yielded */
  guint64              n_queue_zero; /* SWF jobs in queue 0 (read as interactive) */
  GPtrArray           *skipped;
};

/* Records a skipped line (reason formatted); in strict mode sets @error to
 * MN_TRACE_ERROR_BAD_LINE "FILE:LINE: reason" and returns FALSE. */
gboolean mn_trace_reader_skip (MnTraceReader *reader, GError **error,
                               const gchar *format, ...) G_GNUC_PRINTF (3, 4);

/* A "Key: value" header comment shared by SWF (";"), native and Grid
 * Engine ("#"): MaxProcs, MaxNodes, MaxRecords, UnixStartTime, TimeZone,
 * TimeZoneString, Computer, Queue, Partition.  Other keys are ignored. */
void     mn_trace_header_set_key (MnTraceHeader *header, const gchar *key, const gchar *value);
/* Splits "# Key: value" / "; Key: value" (after the comment character);
 * FALSE if the line has no key. */
gboolean mn_trace_header_split (const gchar *text, gchar **key, const gchar **value);

/* Number parsing shared by the text formats.  TRUE if @text (up to the end
 * or a separator) is a whole decimal integer; fractions are truncated. */
gboolean mn_trace_parse_int (const gchar *text, gint64 *value);
gboolean mn_trace_parse_double (const gchar *text, double *value);
/* Splits @line in place at @sep; returns the number of fields found (at most
 * @max, the last holding the rest).  With @sep = ' ' runs of blanks and tabs
 * separate and leading blanks are ignored. */
guint    mn_trace_split (gchar *line, gchar sep, gchar **fields, guint max);

/* Parses "[D-]HH:MM:SS", "MM:SS", "SS" (and "UNLIMITED" -> -1). */
gboolean mn_trace_parse_duration (const gchar *text, gint64 *seconds);
/* Parses "30000M", "4G", "512K", "1.5T", "4Gn", "4Gc" (per node/CPU suffix is
 * ignored) into MiB; plain numbers are @default_unit ('K', 'M', 'G'). */
gboolean mn_trace_parse_memory_mb (const gchar *text, gchar default_unit, gint64 *mb);

G_END_DECLS

G_BEGIN_DECLS
/* Line writers, one per format (mn-trace-<format>.c). */
void mn_trace_native_append_header (GString *out, const MnTraceHeader *header, const gchar *note);
void mn_trace_native_append_job (GString *out, const MnTraceJob *job);
G_END_DECLS
