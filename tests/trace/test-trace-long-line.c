/* test-trace-long-line.c: a line longer than the reader's 1 MiB limit gets
 * the same "FILE:LINE: line longer than 1048576 bytes" whatever the format
 * and however its bytes arrive (all at once, or in short reads from a stream
 * that returns a few bytes per call), strict and lenient, with the long line
 * in the middle, last with a newline or last without one; a line exactly at
 * the limit is read as any other.  Each case builds a valid job line padded
 * to the length wanted, so that only its length can make it bad. */
#include "mn-trace-reader.h"
#include "test-trace-helpers.h"

#define MAX_LINE (1024 * 1024)   /* MN_TRACE_MAX_LINE in mn-trace-reader.c */

/* --- a stream that returns at most max_read bytes per read ------------- */

typedef struct
{
  GInputStream parent;
  GBytes      *bytes;
  gsize        pos;
  gsize        max_read;
} ShortStream;

typedef struct
{
  GInputStreamClass parent_class;
} ShortStreamClass;

GType short_stream_get_type (void);
G_DEFINE_TYPE (ShortStream, short_stream, G_TYPE_INPUT_STREAM)

static gssize
short_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                   GError **error)
{
  ShortStream *self = (ShortStream *) stream;
  gsize size;
  const guint8 *data = g_bytes_get_data (self->bytes, &size);
  gsize n = MIN (count, MIN (self->max_read, size - self->pos));

  memcpy (buffer, data + self->pos, n);
  self->pos += n;
  return (gssize) n;
}

static void
short_stream_finalize (GObject *object)
{
  g_bytes_unref (((ShortStream *) object)->bytes);
  G_OBJECT_CLASS (short_stream_parent_class)->finalize (object);
}

static void
short_stream_class_init (ShortStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = short_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = short_stream_read;
}

static void
short_stream_init (ShortStream *self)
{
}

/* max_read 0: a memory stream, which gives all the reader asks for */
static GInputStream *
input_for (GBytes *bytes, gsize max_read)
{
  ShortStream *s;

  if (max_read == 0)
    return g_memory_input_stream_new_from_bytes (bytes);
  s = g_object_new (short_stream_get_type (), NULL);
  s->bytes = g_bytes_ref (bytes);
  s->max_read = max_read;
  return G_INPUT_STREAM (s);
}

/* --- the cases ------------------------------------------------------------ */

typedef struct
{
  MnTraceFormat format;
  const gchar  *name;
  const gchar  *header;    /* the lines before the jobs */
  guint         header_lines;
  const gchar  *job;       /* {id}: the job's id, {pad}: the padding (in a free-text field) */
} FormatCase;

static const FormatCase formats[] = {
  { MN_TRACE_FORMAT_SWF, "t.swf", "; Version: 2.2\n; MaxProcs: 64\n", 2,
    "{id} 0 5 100 4 -1 -1 4 600 -1 1 1 1 -1 1 -1 -1 -1{pad}" },
  { MN_TRACE_FORMAT_NATIVE, "t.mntrace", "#minna-trace 1\n# MaxNodes: 540\n", 2,
    "{id}\t200\t210\t310\t100\t600\tu2\tg1\tall.q\t0\trun{pad}\tF\t4\t112\t112\t16\t983040\t1000\t"
    "100\t-1\t-1\t0\t-" },
  { MN_TRACE_FORMAT_SGE, "t.acct", "# Version: 8.1.9\n", 1,
    "all.q:h:g:u:job{pad}:{id}:sge:0:1500000000:1500000010:1500000070:0:0:60:1:0:1024:0:0:0:0:0:0:"
    "0:0:0:0:0:0:0:0:NONE:defaultdepartment:NONE:1:0:5.000000:0:0:-U g -l h_rt=600 -q all.q:"
    "0.000000:NONE:0:0:0" },
  { MN_TRACE_FORMAT_SACCT, "t.txt", "JobID|JobName|Submit\n", 1,
    "{id}|run{pad}|2023-04-01T10:00:00" },
};

typedef enum { LONG_MIDDLE, LONG_LAST_NEWLINE, LONG_LAST_NO_NEWLINE } Layout;
static const gchar *const layout_names[] = { "middle", "last-newline", "last-no-newline" };

typedef struct
{
  const gchar *name;
  gsize        length;     /* of the long line, without its newline */
} SizeCase;

static const SizeCase sizes[] = {
  { "at-limit", MAX_LINE },
  { "one-over", MAX_LINE + 1 },
  { "far-over", 5 * MAX_LINE + 3 },
};

/* 0: whole (a memory stream); else bytes per read */
static const gsize reads[] = { 0, 1, 7, 4093 };

typedef struct
{
  const FormatCase *format;
  const SizeCase   *size;
  Layout            layout;
  gsize             max_read;
  gboolean          gzip;
  gchar            *path;
} Case;

static gchar *
job_line (const FormatCase *f, gint id, gsize length)
{
  g_autoptr(GString) line = g_string_new (f->job);
  g_autofree gchar *id_text = g_strdup_printf ("%d", id);
  g_autofree gchar *pad = NULL;

  g_string_replace (line, "{id}", id_text, 1);
  if (length != 0)
    g_assert_cmpuint (length + strlen ("{pad}"), >=, line->len);
  /* spaces end an SWF line harmlessly; the other formats pad a name */
  pad = length == 0 ? g_strdup ("")
                    : g_strnfill (length + strlen ("{pad}") - line->len,
                                  f->format == MN_TRACE_FORMAT_SWF ? ' ' : 'x');
  g_string_replace (line, "{pad}", pad, 1);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

static GBytes *
gzip_bytes (const gchar *data, gsize len)
{
  g_autoptr(GZlibCompressor) gz = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_data (data, (gssize) len, NULL);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (mem, G_CONVERTER (gz));
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static GPtrArray *
read_all (const Case *c, GBytes *bytes, gboolean strict, guint64 *n_skipped, GPtrArray **skipped,
          GError **error)
{
  g_autoptr(GInputStream) in = input_for (bytes, c->max_read);
  g_autoptr(MnTraceReader) reader = mn_trace_reader_new_for_stream (in, c->format->name,
                                                                    MN_TRACE_FORMAT_AUTO, strict,
                                                                    error);
  g_autoptr(GPtrArray) jobs = NULL;
  MnTraceJob *job;

  if (reader == NULL)
    return NULL;
  g_assert_cmpint (mn_trace_reader_get_header (reader)->format, ==, c->format->format);
  jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_trace_job_free);
  while ((job = mn_trace_reader_next (reader, error)) != NULL)
    g_ptr_array_add (jobs, job);
  if (*error != NULL)
    return NULL;
  *n_skipped = mn_trace_reader_get_n_skipped (reader);
  *skipped = g_ptr_array_ref (mn_trace_reader_get_skipped (reader));
  return g_steal_pointer (&jobs);
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  const FormatCase *f = c->format;
  g_autoptr(GString) text = g_string_new (f->header);
  g_autofree gchar *first = job_line (f, 1, 0);
  g_autofree gchar *longl = job_line (f, 2, c->size->length);
  g_autofree gchar *last = job_line (f, 3, 0);
  g_autofree gchar *want = g_strdup_printf ("%s:%u: line longer than 1048576 bytes", f->name,
                                            f->header_lines + 2);
  g_autoptr(GBytes) bytes = NULL;
  gboolean too_long = c->size->length > MAX_LINE;
  guint n_jobs = c->layout == LONG_MIDDLE ? 3 : 2;

  g_assert_cmpuint (strlen (longl), ==, c->size->length);
  g_string_append_printf (text, "%s\n%s", first, longl);
  if (c->layout == LONG_MIDDLE)
    g_string_append_printf (text, "\n%s\n", last);
  else if (c->layout == LONG_LAST_NEWLINE)
    g_string_append_c (text, '\n');
  bytes = c->gzip ? gzip_bytes (text->str, text->len)
                  : g_bytes_new (text->str, text->len);

  for (gint strict = 0; strict <= 1; strict++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) skipped = NULL;
      g_autoptr(GPtrArray) jobs = NULL;
      guint64 n_skipped = 99;

      jobs = read_all (c, bytes, strict, &n_skipped, &skipped, &error);
      if (too_long && strict)
        {
          if (error == NULL || g_strcmp0 (error->message, want) != 0)
            g_error ("%s strict: got '%s', want '%s'", c->path,
                     error != NULL ? error->message : "(no error)", want);
          g_assert_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE);
          continue;
        }
      if (error != NULL)
        g_error ("%s %s: %s", c->path, strict ? "strict" : "lenient", error->message);
      /* nothing read before (or after) the long line is lost */
      g_assert_cmpuint (jobs->len, ==, too_long ? n_jobs - 1 : n_jobs);
      g_assert_cmpuint (n_skipped, ==, too_long ? 1 : 0);
      if (too_long)
        g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==, want);
      g_assert_cmpint (((MnTraceJob *) g_ptr_array_index (jobs, 0))->id, ==, 1);
      if (!too_long)
        g_assert_cmpint (((MnTraceJob *) g_ptr_array_index (jobs, 1))->id, ==, 2);
      if (c->layout == LONG_MIDDLE)
        g_assert_cmpint (((MnTraceJob *) g_ptr_array_index (jobs, jobs->len - 1))->id, ==, 3);
    }
}

static void
add_case (GPtrArray *cases, const FormatCase *f, const SizeCase *s, Layout layout, gsize max_read,
          gboolean gzip)
{
  Case *c = g_new0 (Case, 1);

  c->format = f;
  c->size = s;
  c->layout = layout;
  c->max_read = max_read;
  c->gzip = gzip;
  c->path = max_read == 0
    ? g_strdup_printf ("/trace/long-line/%s/%s/%s/whole%s", mn_trace_format_to_string (f->format),
                       s->name, layout_names[layout], gzip ? "-gzip" : "")
    : g_strdup_printf ("/trace/long-line/%s/%s/%s/reads-of-%" G_GSIZE_FORMAT "%s",
                       mn_trace_format_to_string (f->format), s->name, layout_names[layout],
                       max_read, gzip ? "-gzip" : "");
  g_ptr_array_add (cases, c);
  g_test_add_data_func (c->path, c, test_case);
}

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->path);
  g_free (c);
}

int
main (int argc, char **argv)
{
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (case_free);

  g_test_init (&argc, &argv, NULL);
  g_setenv ("TZ", "UTC", TRUE);
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      for (guint l = LONG_MIDDLE; l <= LONG_LAST_NO_NEWLINE; l++)
        for (guint r = 0; r < G_N_ELEMENTS (reads); r++)
          {
            /* a few bytes per read through 5 MiB costs seconds under ASan:
             * the lines near the limit cover them, one-byte reads the
             * hardest case (one over, the end of the input inside it) */
            if (reads[r] < 16 && sizes[s].length > 2 * MAX_LINE)
              continue;
            if (reads[r] == 1 && (l != LONG_LAST_NO_NEWLINE || sizes[s].length == MAX_LINE))
              continue;
            add_case (cases, &formats[f], &sizes[s], l, reads[r], FALSE);
          }
  /* gzip: the decompressor's own buffering in front of the reader's */
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        add_case (cases, &formats[f], &sizes[s], LONG_MIDDLE, 0, TRUE);
        add_case (cases, &formats[f], &sizes[s], LONG_LAST_NO_NEWLINE, 7, TRUE);
        /* (the gzip magic itself split across reads) */
        if (sizes[s].length == MAX_LINE + 1)
          add_case (cases, &formats[f], &sizes[s], LONG_MIDDLE, 1, TRUE);
      }
  return g_test_run ();
}
