/* mn-trace-reader.c: the streaming reader core: opening (gzip detected from
 * the magic bytes), a bounded line buffer, format detection, skipped-line
 * bookkeeping and strict mode.  The formats live in mn-trace-<format>.c. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-private.h"

#include <gio/gunixinputstream.h>
#include <stdarg.h>
#include <string.h>

#define MN_TRACE_CHUNK        (256 * 1024)   /* largest read; small inputs read less */
#define MN_TRACE_FIRST_CHUNK  (16 * 1024)
#define MN_TRACE_MAX_LINE     (1024 * 1024)   /* a longer line is skipped (or the error) */
#define MN_TRACE_MAX_MESSAGES 200              /* skipped-line messages kept */
#define MN_TRACE_DETECT_BYTES (16 * 1024)

G_DEFINE_QUARK (mn-trace-error-quark, mn_trace_error)

static const gchar *const format_names[] = {
  [MN_TRACE_FORMAT_AUTO] = "auto",
  [MN_TRACE_FORMAT_SWF] = "swf",
  [MN_TRACE_FORMAT_SGE] = "sge",
  [MN_TRACE_FORMAT_SACCT] = "sacct",
  [MN_TRACE_FORMAT_NATIVE] = "native",
};

const gchar *
mn_trace_format_to_string (MnTraceFormat format)
{
  if ((guint) format >= G_N_ELEMENTS (format_names))
    return "unknown";
  return format_names[format];
}

gboolean
mn_trace_format_from_string (const gchar *text, MnTraceFormat *format, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (format_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, format_names[i]) == 0)
      {
        *format = (MnTraceFormat) i;
        return TRUE;
      }
  if (text != NULL && g_ascii_strcasecmp (text, "accounting") == 0)
    {
      *format = MN_TRACE_FORMAT_SGE;
      return TRUE;
    }
  g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
               "unknown trace format '%s' (expected swf, sge, sacct, native or auto)",
               text != NULL ? text : "(null)");
  return FALSE;
}

static const MnTraceParser *
parser_for (MnTraceFormat format)
{
  switch (format)
    {
    case MN_TRACE_FORMAT_SWF: return &mn_trace_parser_swf;
    case MN_TRACE_FORMAT_SGE: return &mn_trace_parser_sge;
    case MN_TRACE_FORMAT_SACCT: return &mn_trace_parser_sacct;
    case MN_TRACE_FORMAT_NATIVE: return &mn_trace_parser_native;
    case MN_TRACE_FORMAT_AUTO:
    default:
      return NULL;
    }
}

/* --- line buffer ------------------------------------------------------ */

/* Reads more input after the unconsumed bytes; FALSE on a read error. */
static gboolean
fill (MnTraceReader *reader, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize n;

  if (reader->pos > 0)
    {
      memmove (reader->buf, reader->buf + reader->pos, reader->len - reader->pos);
      reader->len -= reader->pos;
      reader->pos = 0;
    }
  /* Reads grow from 16 KiB to 256 KiB, so that small inputs stay cheap. */
  reader->chunk = reader->chunk == 0 ? MN_TRACE_FIRST_CHUNK : MIN (reader->chunk * 2,
                                                                   MN_TRACE_CHUNK);
  /* Growing by half at least: with a stream that returns a few bytes per
   * read (a pipe), growing by what was read made a realloc per read of a
   * long line, a copy of it each time with most allocators (quadratic). */
  if (reader->cap - reader->len < reader->chunk + 1)
    {
      reader->cap = MAX (reader->len + reader->chunk + 1, reader->cap + reader->cap / 2);
      reader->buf = g_realloc (reader->buf, reader->cap);
    }
  n = g_input_stream_read (reader->stream, reader->buf + reader->len,
                           reader->cap - reader->len - 1, NULL, &local_error);
  if (n < 0)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO, "%s: read error after line %"
                   G_GUINT64_FORMAT ": %s", reader->name, reader->line_no,
                   local_error->message);
      return FALSE;
    }
  if (n == 0)
    reader->eof = TRUE;
  reader->len += (gsize) n;
  return TRUE;
}

/* The next line (NUL-terminated, newline and CR removed, valid until the
 * next call) in *line_out, or NULL at the end.  A line whose content
 * (without its "\n" or "\r\n") is longer than MN_TRACE_MAX_LINE is returned
 * as the marker "" with *too_long set, however its bytes were buffered: a
 * line that arrived whole in one read is measured when its newline is found,
 * one that did not is known too long as soon as MN_TRACE_MAX_LINE + 2 bytes
 * of it hold no newline, and its bytes are dropped as they come so that
 * memory stays bounded; at the end of the input, a last line without a
 * newline is judged the same way. */
static gboolean
read_line (MnTraceReader *reader, gchar **line_out, gboolean *too_long, GError **error)
{
  gboolean discarding = FALSE;
  gsize scanned = 0;   /* bytes after pos known to hold no newline */

  *too_long = FALSE;
  reader->nul_at = 0;
  if (reader->unread != NULL)
    {
      *line_out = reader->unread;
      reader->unread = NULL;
      return TRUE;
    }
  for (;;)
    {
      gchar *start = reader->buf + reader->pos;
      gsize avail = reader->len - reader->pos;
      /* (searching only the new bytes keeps short reads linear) */
      gchar *nl = avail > scanned ? memchr (start + scanned, '\n', avail - scanned) : NULL;

      /* (discarding: the dropped head of an overlong last line counts too) */
      if (nl != NULL || (reader->eof && (avail > 0 || discarding)))
        {
          gsize line_len = nl != NULL ? (gsize) (nl - start) : avail;

          /* the buffer always keeps one spare byte for this NUL */
          start[line_len] = '\0';
          reader->pos += line_len + (nl != NULL ? 1 : 0);
          reader->line_no++;
          if (line_len > 0 && start[line_len - 1] == '\r')
            start[--line_len] = '\0';
          if (discarding || line_len > MN_TRACE_MAX_LINE)
            {
              *too_long = TRUE;
              start[0] = '\0';
            }
          else
            {
              const gchar *nul = memchr (start, '\0', line_len);

              /* A NUL inside the line would cut it short unseen: the line is bad. */
              if (nul != NULL)
                reader->nul_at = (gsize) (nul - start) + 1;
            }
          *line_out = start;
          return TRUE;
        }
      if (reader->eof)
        {
          *line_out = NULL;
          return TRUE;
        }
      scanned = avail;
      /* No newline in MAX + 2 bytes: at least MAX + 1 bytes of content even
       * if a CR comes last.  Drop them and keep reading to the line's end. */
      if (avail >= MN_TRACE_MAX_LINE + 2)
        {
          discarding = TRUE;
          reader->pos = reader->len;
          scanned = 0;
        }
      if (!fill (reader, error))
        return FALSE;
    }
}

gboolean
mn_trace_reader_skip (MnTraceReader *reader, GError **error, const gchar *format, ...)
{
  g_autofree gchar *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  if (reader->strict)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE, "%s:%" G_GUINT64_FORMAT
                   ": %s", reader->name, reader->line_no, reason);
      return FALSE;
    }
  reader->n_skipped++;
  if (reader->skipped->len < MN_TRACE_MAX_MESSAGES)
    g_ptr_array_add (reader->skipped, g_strdup_printf ("%s:%" G_GUINT64_FORMAT ": %s",
                                                       reader->name, reader->line_no,
                                                       reason));
  return TRUE;
}

/* --- header keys ------------------------------------------------------- */

static void
set_int_header (gint64 *slot, const gchar *value)
{
  g_autofree gchar *copy = g_strstrip (g_strdup (value));
  gint64 v;

  if (mn_trace_parse_int (copy, &v))
    *slot = v;
}

/* "0 interactive" -> ("0", "interactive") */
static void
add_declaration (GHashTable *table, const gchar *value)
{
  g_autofree gchar *copy = g_strstrip (g_strdup (value));
  gchar *rest = copy;

  while (*rest != '\0' && !g_ascii_isspace (*rest))
    rest++;
  if (*rest != '\0')
    *rest++ = '\0';
  if (*copy != '\0')
    g_hash_table_replace (table, g_strdup (copy), g_strdup (g_strstrip (rest)));
}

static gint
compare_window (gconstpointer a, gconstpointer b)
{
  const MnTraceWindow *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

static gint
compare_limits (gconstpointer a, gconstpointer b)
{
  const MnTraceLimits *x = a, *y = b;

  return x->from < y->from ? -1 : x->from > y->from;
}

static void
set_string_header (gchar **slot, const gchar *value)
{
  g_free (*slot);
  *slot = g_strstrip (g_strdup (value));
}

void
mn_trace_header_set_key (MnTraceHeader *header, const gchar *key, const gchar *value)
{
  if (g_ascii_strcasecmp (key, "MaxProcs") == 0)
    set_int_header (&header->max_procs, value);
  else if (g_ascii_strcasecmp (key, "MaxNodes") == 0)
    set_int_header (&header->max_nodes, value);
  else if (g_ascii_strcasecmp (key, "MaxRecords") == 0)
    set_int_header (&header->max_records, value);
  else if (g_ascii_strcasecmp (key, "UnixStartTime") == 0)
    {
      set_int_header (&header->unix_start_time, value);
      if (header->unix_start_time > MN_TRACE_MAX_TIME)
        header->unix_start_time = -1;
    }
  else if (g_ascii_strcasecmp (key, "TimeZone") == 0)
    {
      set_int_header (&header->time_zone_offset, value);
      /* real offsets are within a day; anything else is noise */
      if (ABS (header->time_zone_offset) > 86400)
        header->time_zone_offset = 0;
    }
  else if (g_ascii_strcasecmp (key, "TimeZoneString") == 0)
    set_string_header (&header->time_zone, value);
  else if (g_ascii_strcasecmp (key, "Computer") == 0)
    set_string_header (&header->computer, value);
  else if (g_ascii_strcasecmp (key, "Queue") == 0)
    {
      const gchar *desc;

      add_declaration (header->queues, value);
      desc = g_hash_table_lookup (header->queues, "0");
      header->interactive_queue_zero = desc != NULL && strstr (desc, "interactive") != NULL;
    }
  else if (g_ascii_strcasecmp (key, "Partition") == 0)
    add_declaration (header->partitions, value);
  else if (g_ascii_strcasecmp (key, "Maintenance") == 0)
    {
      MnTraceWindow w;

      /* a bad one is ignored like any unreadable header value */
      if (mn_trace_window_parse (value, &w, NULL))
        {
          if (header->maintenance == NULL)
            header->maintenance = g_array_new (FALSE, FALSE, sizeof (MnTraceWindow));
          g_array_append_val (header->maintenance, w);
          g_array_sort (header->maintenance, compare_window);
        }
    }
  else if (g_ascii_strcasecmp (key, "Limits") == 0)
    {
      MnTraceLimits l;

      if (mn_trace_limits_parse (value, &l, NULL))
        {
          if (header->limits == NULL)
            header->limits = g_array_new (FALSE, FALSE, sizeof (MnTraceLimits));
          g_array_append_val (header->limits, l);
          g_array_sort (header->limits, compare_limits);
        }
    }
}

gint64
mn_trace_header_utc_offset (const MnTraceHeader *h)
{
  if (h->time_zone != NULL)
    {
      g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (h->time_zone);

      if (tz != NULL)
        {
          gint64 at = h->unix_start_time >= 0 ? h->unix_start_time : 0;
          gint interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, at);

          if (interval >= 0)
            return g_time_zone_get_offset (tz, interval);
        }
    }
  return h->time_zone_offset;
}

gboolean
mn_trace_window_parse (const gchar *text, MnTraceWindow *out, GError **error)
{
  g_auto(GStrv) parts = g_strsplit_set (text, " \t", -1);
  gint64 v[2];
  guint n = 0;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0')
        continue;
      if (n == 2 || !mn_trace_parse_int (parts[i], &v[n]) || v[n] < 0 || v[n] > MN_TRACE_MAX_TIME)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "maintenance '%s': expected START END (Unix times)", text);
          return FALSE;
        }
      n++;
    }
  if (n != 2 || v[1] <= v[0])
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                   "maintenance '%s': expected START END (Unix times, END after START)", text);
      return FALSE;
    }
  out->start = v[0];
  out->end = v[1];
  return TRUE;
}

gboolean
mn_trace_limits_parse (const gchar *text, MnTraceLimits *out, GError **error)
{
  g_auto(GStrv) parts = g_strsplit_set (text, " \t", -1);
  gboolean have_from = FALSE;

  memset (out, 0, sizeof *out);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const gchar *eq;
      gint64 v;

      if (*parts[i] == '\0')
        continue;
      if (!have_from)
        {
          if (!mn_trace_parse_int (parts[i], &out->from) || out->from < 0)
            {
              g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                           "limits '%s': expected FROM (a Unix time) first", text);
              return FALSE;
            }
          have_from = TRUE;
          continue;
        }
      eq = strchr (parts[i], '=');
      if (eq == NULL || !mn_trace_parse_int (eq + 1, &v) || v < 0 || v > G_MAXUINT32)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "limits '%s': '%s' is not KEY=N", text, parts[i]);
          return FALSE;
        }
      if (g_str_has_prefix (parts[i], "user_jobs="))
        out->user_jobs = (guint32) v;
      else if (g_str_has_prefix (parts[i], "group_jobs="))
        out->group_jobs = (guint32) v;
      else if (g_str_has_prefix (parts[i], "user_cores="))
        out->user_cores = (guint64) v;
      else if (g_str_has_prefix (parts[i], "group_cores="))
        out->group_cores = (guint64) v;
      else
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "limits '%s': unknown key in '%s' (user_jobs, user_cores, group_jobs, "
                       "group_cores)", text, parts[i]);
          return FALSE;
        }
    }
  if (!have_from)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                   "limits '%s': expected FROM key=N ...", text);
      return FALSE;
    }
  return TRUE;
}

void
mn_trace_header_append_site (GString *out, const MnTraceHeader *header, const gchar *comment)
{
  for (guint i = 0; header->maintenance != NULL && i < header->maintenance->len; i++)
    {
      const MnTraceWindow *w = &g_array_index (header->maintenance, MnTraceWindow, i);

      g_string_append_printf (out, "%sMaintenance: %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
                              comment, w->start, w->end);
    }
  for (guint i = 0; header->limits != NULL && i < header->limits->len; i++)
    {
      const MnTraceLimits *l = &g_array_index (header->limits, MnTraceLimits, i);

      g_string_append_printf (out, "%sLimits: %" G_GINT64_FORMAT " user_jobs=%u user_cores=%"
                              G_GUINT64_FORMAT " group_jobs=%u group_cores=%" G_GUINT64_FORMAT
                              "\n", comment, l->from, l->user_jobs, l->user_cores,
                              l->group_jobs, l->group_cores);
    }
}

gboolean
mn_trace_header_split (const gchar *text, gchar **key, const gchar **value)
{
  const gchar *colon = strchr (text, ':');
  const gchar *v;

  if (colon == NULL)
    return FALSE;
  *key = g_strstrip (g_strndup (text, (gsize) (colon - text)));
  if (**key == '\0' || strpbrk (*key, " \t") != NULL)
    {
      g_clear_pointer (key, g_free);
      return FALSE;
    }
  v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  *value = v;
  return TRUE;
}

/* --- format detection --------------------------------------------------- */

static gboolean
is_swf_data_line (const gchar *line, gsize len)
{
  guint fields = 0;
  gboolean in_field = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      gchar c = line[i];

      if (c == ' ' || c == '\t')
        in_field = FALSE;
      else if (g_ascii_isdigit (c) || c == '-' || c == '.')
        {
          if (!in_field)
            fields++;
          in_field = TRUE;
        }
      else
        return FALSE;
    }
  return fields >= 17 && fields <= 19;
}

static MnTraceFormat
detect_format (const gchar *data, gsize len)
{
  gsize pos = 0;
  guint lines = 0;
  gboolean hash_comments = FALSE;

  if (len >= 12 && (g_str_has_prefix (data, "#minna-trace") ||
                    g_str_has_prefix (data, "# minna-trace")))
    return MN_TRACE_FORMAT_NATIVE;

  while (pos < len && lines < 100)
    {
      const gchar *line = data + pos;
      const gchar *nl = memchr (line, '\n', len - pos);
      gsize line_len = nl != NULL ? (gsize) (nl - line) : len - pos;
      guint colons = 0, bars = 0;

      pos += line_len + 1;
      lines++;
      while (line_len > 0 && (line[line_len - 1] == '\r' || line[line_len - 1] == ' '))
        line_len--;
      if (line_len == 0)
        continue;
      if (line[0] == ';')
        return MN_TRACE_FORMAT_SWF;
      if (line[0] == '#')
        {
          hash_comments = TRUE;
          continue;   /* Grid Engine's "# Version: 8.1.9" and friends */
        }
      for (gsize i = 0; i < line_len; i++)
        {
          if (line[i] == ':')
            colons++;
          else if (line[i] == '|')
            bars++;
        }
      /* sacct's header; with --delimiter=X the bars may be any character */
      if (g_ascii_strncasecmp (line, "JobID", 5) == 0 && line_len > 5 &&
          (bars >= 1 || !g_ascii_isalnum (line[5]) || g_ascii_strncasecmp (line, "JobIDRaw", 8) == 0))
        return MN_TRACE_FORMAT_SACCT;
      if ((bars >= 1 && g_ascii_strncasecmp (line, "JobID", 5) == 0) ||
          (bars >= 2 && bars > colons))
        return MN_TRACE_FORMAT_SACCT;
      if (colons >= 40)
        return MN_TRACE_FORMAT_SGE;
      if (is_swf_data_line (line, line_len))
        return MN_TRACE_FORMAT_SWF;
      if (bars >= 2)
        return MN_TRACE_FORMAT_SACCT;
      /* a broken first record after Grid Engine's comments */
      if (hash_comments && colons >= 3)
        return MN_TRACE_FORMAT_SGE;
      return MN_TRACE_FORMAT_AUTO;
    }
  return MN_TRACE_FORMAT_AUTO;
}

/* --- open / next ----------------------------------------------------------- */

static void
header_init (MnTraceHeader *header)
{
  memset (header, 0, sizeof *header);
  header->max_procs = -1;
  header->max_nodes = -1;
  header->max_records = -1;
  header->unix_start_time = -1;
  header->queues = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  header->partitions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
mn_trace_header_clear (MnTraceHeader *header)
{
  if (header == NULL)
    return;
  g_clear_pointer (&header->time_zone, g_free);
  g_clear_pointer (&header->queues, g_hash_table_unref);
  g_clear_pointer (&header->partitions, g_hash_table_unref);
  g_clear_pointer (&header->computer, g_free);
  g_clear_pointer (&header->maintenance, g_array_unref);
  g_clear_pointer (&header->limits, g_array_unref);
}

static GHashTable *
copy_table (GHashTable *src)
{
  GHashTable *dest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, src);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (dest, g_strdup (key), g_strdup (value));
  return dest;
}

static void
header_copy (const MnTraceHeader *src, MnTraceHeader *dest)
{
  *dest = *src;
  dest->time_zone = g_strdup (src->time_zone);
  dest->computer = g_strdup (src->computer);
  dest->queues = copy_table (src->queues);
  dest->partitions = copy_table (src->partitions);
  dest->maintenance = src->maintenance != NULL ? g_array_copy (src->maintenance) : NULL;
  dest->limits = src->limits != NULL ? g_array_copy (src->limits) : NULL;
}

void
mn_trace_reader_free (MnTraceReader *reader)
{
  if (reader == NULL)
    return;
  if (reader->parser != NULL && reader->parser->free_state != NULL && reader->state != NULL)
    reader->parser->free_state (reader->state);
  g_clear_object (&reader->stream);
  g_free (reader->name);
  g_free (reader->buf);
  mn_trace_header_clear (&reader->header);
  g_ptr_array_unref (reader->skipped);
  g_free (reader);
}

/* The next line a parser may look at in *line_out, or NULL at the end: a
 * line too long or with a NUL byte in it is skipped on the way (counted,
 * or the error under --strict), whether the header or the jobs are being
 * read. */
static gboolean
read_usable_line (MnTraceReader *reader, gchar **line_out, GError **error)
{
  for (;;)
    {
      gboolean too_long;

      if (!read_line (reader, line_out, &too_long, error))
        return FALSE;
      if (*line_out == NULL)
        return TRUE;
      if (too_long)
        {
          if (!mn_trace_reader_skip (reader, error, "line longer than %d bytes",
                                     MN_TRACE_MAX_LINE))
            return FALSE;
          continue;
        }
      if (reader->nul_at > 0)
        {
          if (!mn_trace_reader_skip (reader, error, "a NUL byte at byte %" G_GSIZE_FORMAT
                                     " of the line", reader->nul_at))
            return FALSE;
          continue;
        }
      return TRUE;
    }
}

/* Reads the header lines (they come first in every format) and gives back
 * the first data line. */
static gboolean
read_header (MnTraceReader *reader, GError **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      gchar *line;

      if (!read_usable_line (reader, &line, error))
        return FALSE;
      if (line == NULL)
        return TRUE;
      if (!reader->parser->header_line (reader, line, &local_error))
        {
          if (local_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          /* The first data line: give it back to next(). */
          reader->unread = line;
          return TRUE;
        }
    }
}

MnTraceReader *
mn_trace_reader_new_for_stream (GInputStream *stream, const gchar *name,
                                MnTraceFormat format, gboolean strict, GError **error)
{
  g_autoptr(MnTraceReader) reader = g_new0 (MnTraceReader, 1);
  GInputStream *input = g_object_ref (stream);

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);

  reader->name = g_strdup (name != NULL ? name : "(stream)");
  reader->strict = strict;
  reader->skipped = g_ptr_array_new_with_free_func (g_free);
  header_init (&reader->header);

  /* gzip is recognised by its magic bytes, whatever the file is called. */
  {
    g_autoptr(GBufferedInputStream) buffered =
      G_BUFFERED_INPUT_STREAM (g_buffered_input_stream_new (input));
    g_autoptr(GError) local_error = NULL;
    gsize avail = 0;
    const guchar *peek;

    g_object_unref (input);
    /* one fill may bring a single byte (a pipe): the magic needs two */
    for (;;)
      {
        gssize n = g_buffered_input_stream_get_available (buffered) >= 2 ? 0
          : g_buffered_input_stream_fill (buffered, 2, NULL, &local_error);

        if (n < 0)
          {
            g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO, "%s: cannot read: %s",
                         reader->name, local_error->message);
            return NULL;
          }
        if (n == 0)
          break;
      }
    peek = g_buffered_input_stream_peek_buffer (buffered, &avail);
    if (avail >= 2 && peek[0] == 0x1f && peek[1] == 0x8b)
      {
        g_autoptr(GZlibDecompressor) gunzip =
          g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
        reader->stream = g_converter_input_stream_new (G_INPUT_STREAM (buffered),
                                                       G_CONVERTER (gunzip));
      }
    else
      reader->stream = G_INPUT_STREAM (g_steal_pointer (&buffered));
  }

  /* Enough of the content to recognise the format. */
  while (!reader->eof && reader->len < MN_TRACE_DETECT_BYTES)
    if (!fill (reader, error))
      return NULL;
  if (format == MN_TRACE_FORMAT_AUTO)
    {
      format = detect_format (reader->buf, reader->len);
      if (format == MN_TRACE_FORMAT_AUTO)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "%s: cannot tell the trace format from the content "
                       "(use --format swf|sge|sacct|native)", reader->name);
          return NULL;
        }
    }
  reader->parser = parser_for (format);
  if (reader->parser == NULL)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT, "%s: unknown format %d",
                   reader->name, (int) format);
      return NULL;
    }
  reader->header.format = format;
  if (!read_header (reader, error))
    return NULL;
  return g_steal_pointer (&reader);
}

MnTraceReader *
mn_trace_reader_open (const gchar *path, MnTraceFormat format, gboolean strict,
                      GError **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_strcmp0 (path, "-") == 0)
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
      return mn_trace_reader_new_for_stream (in, "(stdin)", format, strict, error);
    }
  file = g_file_new_for_path (path);
  stream = g_file_read (file, NULL, &local_error);
  if (stream == NULL)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO, "%s: cannot open: %s", path,
                   local_error->message);
      return NULL;
    }
  return mn_trace_reader_new_for_stream (G_INPUT_STREAM (stream), path, format, strict,
                                         error);
}

/* Times and durations beyond this are nonsense; keeping them out keeps
 * every sum and offset the consumers compute in range. */
static gboolean
job_in_range (const MnTraceJob *job)
{
  return job->submit <= MN_TRACE_MAX_TIME && job->start <= MN_TRACE_MAX_TIME &&
         job->end <= MN_TRACE_MAX_TIME && job->runtime <= MN_TRACE_MAX_TIME &&
         job->walltime_req <= MN_TRACE_MAX_TIME && job->cpu_time <= G_MAXINT64 / 4 &&
         job->procs <= G_MAXINT64 / 4 && job->procs_alloc <= G_MAXINT64 / 4;
}

MnTraceJob *
mn_trace_reader_next (MnTraceReader *reader, GError **error)
{
  g_return_val_if_fail (reader != NULL, NULL);

  for (;;)
    {
      g_autoptr(GError) reason = NULL;
      MnTraceJob *job = NULL;
      gchar *line;

      if (!read_usable_line (reader, &line, error))
        return NULL;
      if (line == NULL)
        return reader->parser->flush != NULL ? reader->parser->flush (reader) : NULL;
      if (!reader->parser->parse_line (reader, line, &job, &reason))
        {
          if (!mn_trace_reader_skip (reader, error, "%s", reason->message))
            return NULL;
          continue;
        }
      if (job != NULL && !job_in_range (job))
        {
          g_clear_pointer (&job, mn_trace_job_free);
          if (!mn_trace_reader_skip (reader, error, "a time or duration beyond the year 300000"))
            return NULL;
          continue;
        }
      if (job != NULL)
        {
          reader->n_jobs++;
          if (reader->header.format == MN_TRACE_FORMAT_SWF && job->interactive)
            reader->n_queue_zero++;
          return job;
        }
    }
}

gboolean
mn_trace_reader_queue_zero_only (MnTraceReader *reader)
{
  return reader->header.format == MN_TRACE_FORMAT_SWF && !reader->header.interactive_queue_zero &&
         reader->n_jobs > 0 && reader->n_queue_zero == reader->n_jobs;
}

const MnTraceHeader *
mn_trace_reader_get_header (MnTraceReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);
  return &reader->header;
}

guint64
mn_trace_reader_get_n_skipped (MnTraceReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);
  return reader->n_skipped;
}

GPtrArray *
mn_trace_reader_get_skipped (MnTraceReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);
  return reader->skipped;
}

guint64
mn_trace_reader_get_n_merged (MnTraceReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);
  return reader->n_merged;
}

guint64
mn_trace_reader_get_line (MnTraceReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);
  return reader->line_no;
}

GPtrArray *
mn_trace_load (const gchar *path, MnTraceFormat format, gboolean strict,
               MnTraceHeader *header_out, guint64 *n_skipped_out, GError **error)
{
  g_autoptr(MnTraceReader) reader = mn_trace_reader_open (path, format, strict, error);
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GError) local_error = NULL;
  MnTraceJob *job;

  if (reader == NULL)
    return NULL;
  jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_trace_job_free);
  while ((job = mn_trace_reader_next (reader, &local_error)) != NULL)
    g_ptr_array_add (jobs, job);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (header_out != NULL)
    header_copy (&reader->header, header_out);
  if (n_skipped_out != NULL)
    *n_skipped_out = reader->n_skipped;
  return g_steal_pointer (&jobs);
}
