/* mn-trace-writer.c: jobs out as minna native, SWF v2.2 and Grid Engine
 * accounting(5) in the 45-field SGE 6.2 / SoGE 8.1 layout. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-writer.h"
#include "mn-trace-private.h"

#include <gio/gunixoutputstream.h>
#include <string.h>

#define FLUSH_AT (256 * 1024)

struct _MnTraceWriter {
  GOutputStream *out;
  gchar         *name;
  MnTraceFormat  format;
  GString       *buf;
  gint64         base_time;      /* SWF: UnixStartTime */
  GHashTable    *numbers;        /* SWF: user/group name -> number */
  gint64         next_number;
};

void
mn_trace_writer_free (MnTraceWriter *writer)
{
  if (writer == NULL)
    return;
  g_clear_object (&writer->out);
  g_free (writer->name);
  g_string_free (writer->buf, TRUE);
  g_hash_table_unref (writer->numbers);
  g_free (writer);
}

gboolean
mn_trace_writer_flush (MnTraceWriter *writer, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  if (writer->buf->len == 0)
    return TRUE;
  if (!g_output_stream_write_all (writer->out, writer->buf->str, writer->buf->len, NULL, NULL,
                                  &local_error))
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO, "%s: cannot write: %s",
                   writer->name, local_error->message);
      return FALSE;
    }
  g_string_truncate (writer->buf, 0);
  return TRUE;
}

/* SWF wants numbers: "u12" stays 12; other names get numbers of their own. */
static gint64
swf_number (MnTraceWriter *writer, const gchar *name, gchar prefix)
{
  gint64 v;
  gpointer found;

  if (name == NULL)
    return -1;
  if (name[0] == prefix && mn_trace_parse_int (name + 1, &v) && v >= 0 &&
      strchr (name, '.') == NULL && g_ascii_isdigit (name[1]))
    return v;
  found = g_hash_table_lookup (writer->numbers, name);
  if (found != NULL)
    return GPOINTER_TO_SIZE (found);
  v = writer->next_number++;
  g_hash_table_insert (writer->numbers, g_strdup (name), GSIZE_TO_POINTER ((gsize) v));
  return v;
}

static void
swf_append_header (MnTraceWriter *writer, const MnTraceHeader *header, const gchar *note)
{
  GString *out = writer->buf;

  g_string_append (out, "; Version: 2.2\n");
  if (header->computer != NULL)
    g_string_append_printf (out, "; Computer: %s\n", header->computer);
  if (note != NULL)
    g_string_append_printf (out, "; Note: %s\n", note);
  if (header->max_records >= 0)
    g_string_append_printf (out, "; MaxJobs: %" G_GINT64_FORMAT "\n; MaxRecords: %"
                            G_GINT64_FORMAT "\n", header->max_records, header->max_records);
  if (header->unix_start_time >= 0)
    g_string_append_printf (out, "; UnixStartTime: %" G_GINT64_FORMAT "\n",
                            header->unix_start_time);
  if (header->time_zone_offset != 0)
    g_string_append_printf (out, "; TimeZone: %" G_GINT64_FORMAT "\n", header->time_zone_offset);
  if (header->time_zone != NULL)
    g_string_append_printf (out, "; TimeZoneString: %s\n", header->time_zone);
  if (header->max_nodes >= 0)
    g_string_append_printf (out, "; MaxNodes: %" G_GINT64_FORMAT "\n", header->max_nodes);
  if (header->max_procs >= 0)
    g_string_append_printf (out, "; MaxProcs: %" G_GINT64_FORMAT "\n", header->max_procs);
  mn_trace_header_append_site (out, header, "; ");
  g_string_append (out, "; MaxQueues: 2\n; Queue: 0 interactive (minna: interactive.q)\n"
                        "; Queue: 1 batch\n");
  /* Partitions name TSUBAME3's resource types, so the reader gets them back. */
  g_string_append_printf (out, "; MaxPartitions: %d\n", MN_RTYPE_LAST - 1);
  for (guint t = MN_RTYPE_F; t < MN_RTYPE_LAST; t++)
    {
      const MnResourceTypeInfo *info = mn_resource_type_info ((MnResourceType) t);

      g_string_append_printf (out, "; Partition: %u %s (%s: %u cores, %u GPUs, %"
                              G_GUINT64_FORMAT " MB per chunk)\n", t, info->name,
                              info->short_name, info->cores, info->gpus, info->memory_mb);
    }
  g_string_append (out, ";\n");
}

static void
swf_append_job (MnTraceWriter *writer, const MnTraceJob *job)
{
  gint64 procs_req = job->procs;
  gint64 procs_alloc = job->procs_alloc;
  gint64 procs, wait = -1, avg_cpu = -1, mem_used = -1, mem_req = -1, status = -1, queue = 1;
  gint64 partition = job->rtype != MN_RTYPE_NONE ? (gint64) job->rtype : -1;

  if (procs_req < 0 && job->rtype != MN_RTYPE_NONE)
    procs_req = (gint64) job->rtype_count * mn_resource_type_info (job->rtype)->cores;
  procs = procs_alloc > 0 ? procs_alloc : procs_req;
  if (job->start >= 0 && job->submit >= 0)
    wait = job->start - job->submit;
  if (procs > 0)
    {
      if (job->cpu_time >= 0)
        avg_cpu = (job->cpu_time + procs / 2) / procs;
      if (job->memory_used_mb >= 0)
        mem_used = (job->memory_used_mb * 1024 + procs / 2) / procs;
    }
  if (job->memory_req_mb >= 0 && procs_req > 0)
    mem_req = (job->memory_req_mb * 1024 + procs_req / 2) / procs_req;
  if (job->exit_status == 0)
    status = 1;
  else if (job->exit_status > 0)
    status = 0;
  if (job->interactive)
    queue = 0;
  else if (job->queue != NULL && mn_trace_parse_int (job->queue, &queue) && queue >= 1)
    ;
  else
    queue = 1;
  g_string_append_printf (writer->buf,
                          "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " -1 %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " -1 -1\n",
                          job->id, job->submit >= 0 ? job->submit - writer->base_time : -1,
                          wait, job->runtime, procs_alloc, avg_cpu, mem_used, procs_req,
                          job->walltime_req, mem_req, status,
                          swf_number (writer, job->user, 'u'),
                          swf_number (writer, job->group, 'g'), queue, partition);
}

/* Grid Engine fields are colon-separated: keep colons and newlines out. */
static void
sge_append_string (GString *out, const gchar *text, const gchar *unknown)
{
  if (text == NULL || *text == '\0')
    text = unknown;
  for (const gchar *p = text; *p != '\0'; p++)
    g_string_append_c (out, (*p == ':' || *p == '\n' || *p == '\r') ? '_' : *p);
  g_string_append_c (out, ':');
}

static void
sge_append_header (MnTraceWriter *writer, const MnTraceHeader *header, const gchar *note)
{
  GString *out = writer->buf;

  g_string_append (out, "# Version: 8.1.9\n#\n");
  g_string_append (out, "# ATTENTION: This file contains redundant information.\n"
                        "#            Do not edit or you may lose data.\n");
  if (note != NULL)
    g_string_append_printf (out, "# Note: %s\n", note);
  /* Not part of accounting(5); minna's reader takes them as hints. */
  if (header->computer != NULL)
    g_string_append_printf (out, "# Computer: %s\n", header->computer);
  if (header->max_nodes >= 0)
    g_string_append_printf (out, "# MaxNodes: %" G_GINT64_FORMAT "\n", header->max_nodes);
  if (header->max_procs >= 0)
    g_string_append_printf (out, "# MaxProcs: %" G_GINT64_FORMAT "\n", header->max_procs);
  if (header->time_zone_offset != 0)
    g_string_append_printf (out, "# TimeZone: %" G_GINT64_FORMAT "\n", header->time_zone_offset);
  mn_trace_header_append_site (out, header, "# ");
}

static void
sge_append_job (MnTraceWriter *writer, const MnTraceJob *job)
{
  GString *out = writer->buf;
  const gchar *queue = job->queue != NULL ? job->queue
                                          : job->interactive ? "interactive.q" : "all.q";
  gint64 slots = mn_trace_job_get_procs (job);
  gint64 used_mb = job->memory_used_mb;
  gint64 cpu = job->cpu_time >= 0 ? job->cpu_time : 0;

  sge_append_string (out, queue, "all.q");
  sge_append_string (out, NULL, "unknown");                     /* hostname */
  sge_append_string (out, job->group, "unknown");
  sge_append_string (out, job->user, "unknown");
  sge_append_string (out, job->name, job->interactive ? "QRLOGIN" : "job");
  g_string_append_printf (out, "%" G_GINT64_FORMAT ":sge:0:%" G_GINT64_FORMAT ":%"
                          G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":0:%d:%" G_GINT64_FORMAT
                          ":%" G_GINT64_FORMAT ":0:%" G_GINT64_FORMAT,
                          job->id, MAX (job->submit, 0), MAX (job->start, 0),
                          MAX (job->end, 0), job->exit_status >= 0 ? job->exit_status : 0,
                          MAX (job->runtime, 0), cpu, used_mb >= 0 ? used_mb * 1024 : 0);
  /* ru_ixrss .. ru_nivcsw (14 fields), project, department */
  g_string_append (out, ":0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:defaultdepartment:");
  g_string_append_printf (out, "%s:%" G_GINT64_FORMAT ":0:%" G_GINT64_FORMAT ".000000:0:0:",
                          job->rtype == MN_RTYPE_NONE && slots > 1 ? "mpi" : "NONE",
                          MAX (slots, 1), cpu);
  /* category: what was requested */
  g_string_append (out, "-U ");
  sge_append_string (out, job->group, "users");
  g_string_truncate (out, out->len - 1);
  if (job->walltime_req >= 0 || job->rtype != MN_RTYPE_NONE || job->memory_req_mb >= 0)
    {
      gboolean comma = FALSE;

      g_string_append (out, " -l ");
      if (job->walltime_req >= 0)
        {
          g_string_append_printf (out, "h_rt=%" G_GINT64_FORMAT, job->walltime_req);
          comma = TRUE;
        }
      if (job->rtype != MN_RTYPE_NONE)
        {
          g_string_append_printf (out, "%s%s=%u", comma ? "," : "",
                                  mn_resource_type_info (job->rtype)->name, job->rtype_count);
          comma = TRUE;
        }
      else if (job->memory_req_mb >= 0)
        g_string_append_printf (out, "%sh_vmem=%" G_GINT64_FORMAT "M", comma ? "," : "",
                                (job->memory_req_mb + MAX (slots, 1) / 2) / MAX (slots, 1));
    }
  g_string_append (out, " -q ");
  sge_append_string (out, queue, "all.q");
  g_string_truncate (out, out->len - 1);
  if (job->rtype == MN_RTYPE_NONE && slots > 1)
    g_string_append_printf (out, " -pe mpi %" G_GINT64_FORMAT, slots);
  g_string_append_printf (out, ":0.000000:NONE:%" G_GINT64_FORMAT ":0:0\n",
                          used_mb >= 0 ? used_mb * 1024 * 1024 : 0);
}

MnTraceWriter *
mn_trace_writer_new (GOutputStream *out, const gchar *name, MnTraceFormat format,
                     const MnTraceHeader *header, const gchar *note, GError **error)
{
  g_autoptr(MnTraceWriter) writer = g_new0 (MnTraceWriter, 1);
  MnTraceHeader empty = { 0, -1, -1, -1, -1, NULL, NULL, FALSE, NULL, NULL, 0, NULL, NULL };

  if (header == NULL)
    header = &empty;
  writer->out = g_object_ref (out);
  writer->name = g_strdup (name != NULL ? name : "(stream)");
  writer->format = format;
  writer->buf = g_string_sized_new (FLUSH_AT + 4096);
  writer->numbers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  writer->next_number = 1000000;
  writer->base_time = header->unix_start_time >= 0 ? header->unix_start_time : 0;
  switch (format)
    {
    case MN_TRACE_FORMAT_NATIVE:
      mn_trace_native_append_header (writer->buf, header, note);
      break;
    case MN_TRACE_FORMAT_SWF:
      swf_append_header (writer, header, note);
      break;
    case MN_TRACE_FORMAT_SGE:
      sge_append_header (writer, header, note);
      break;
    case MN_TRACE_FORMAT_AUTO:
    case MN_TRACE_FORMAT_SACCT:
    default:
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                   "%s: cannot write format '%s' (native, swf or sge)", writer->name,
                   mn_trace_format_to_string (format));
      return NULL;
    }
  return g_steal_pointer (&writer);
}

gboolean
mn_trace_writer_write (MnTraceWriter *writer, const MnTraceJob *job, GError **error)
{
  switch (writer->format)
    {
    case MN_TRACE_FORMAT_NATIVE:
      mn_trace_native_append_job (writer->buf, job);
      break;
    case MN_TRACE_FORMAT_SWF:
      swf_append_job (writer, job);
      break;
    case MN_TRACE_FORMAT_SGE:
    default:
      sge_append_job (writer, job);
      break;
    }
  if (writer->buf->len >= FLUSH_AT)
    return mn_trace_writer_flush (writer, error);
  return TRUE;
}

gboolean
mn_trace_save (const gchar *path, MnTraceFormat format, GPtrArray *jobs,
               const MnTraceHeader *header, const gchar *note, GError **error)
{
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(MnTraceWriter) writer = NULL;
  g_autoptr(GError) local_error = NULL;

  if (g_strcmp0 (path, "-") == 0)
    out = g_unix_output_stream_new (1, FALSE);
  else
    {
      g_autoptr(GFile) file = g_file_new_for_path (path);
      g_autoptr(GFileOutputStream) fout = g_file_replace (file, NULL, FALSE,
                                                          G_FILE_CREATE_REPLACE_DESTINATION,
                                                          NULL, &local_error);
      if (fout == NULL)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO, "%s: cannot create: %s", path,
                       local_error->message);
          return FALSE;
        }
      if (g_str_has_suffix (path, ".gz"))
        {
          g_autoptr(GZlibCompressor) gzip =
            g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
          out = g_converter_output_stream_new (G_OUTPUT_STREAM (fout), G_CONVERTER (gzip));
        }
      else
        out = G_OUTPUT_STREAM (g_steal_pointer (&fout));
    }
  writer = mn_trace_writer_new (out, path, format, header, note, error);
  if (writer == NULL)
    return FALSE;
  for (guint i = 0; i < jobs->len; i++)
    if (!mn_trace_writer_write (writer, g_ptr_array_index (jobs, i), error))
      return FALSE;
  if (!mn_trace_writer_flush (writer, error))
    return FALSE;
  if (!g_output_stream_close (out, NULL, &local_error))
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO, "%s: cannot write: %s", path,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}
