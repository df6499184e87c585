/* mn-trace-native.c: minna's own trace format (documented field by field in
 * traces/README.md): a "#minna-trace 1" line, "# Key: value" header
 * comments, then one tab-separated line of MN_TRACE_NATIVE_COLUMNS fields
 * per job.  It carries everything the simulator uses. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-private.h"
#include "mn-trace-writer.h"

#include <string.h>

#define NATIVE_MAGIC "#minna-trace"
#define NATIVE_VERSION 1
#define NATIVE_COLUMNS 23
#define NATIVE_MAX_STEPS 10000

static const gchar *const native_columns[NATIVE_COLUMNS] = {
  "id", "submit", "start", "end", "runtime", "walltime_req", "user", "group", "queue",
  "interactive", "name", "rtype", "rtype_count", "procs", "procs_alloc", "gpus",
  "memory_req_mb", "memory_used_mb", "cpu_time", "cpu_active", "gpu_memory_mb",
  "exit_status", "memory_profile",
};

const gchar *
mn_trace_native_column_name (guint index)
{
  return index < NATIVE_COLUMNS ? native_columns[index] : NULL;
}

typedef struct {
  gboolean seen_magic;
} NativeState;

static gboolean
native_header_line (MnTraceReader *reader, const gchar *line, GError **error)
{
  NativeState *state = reader->state;
  g_autofree gchar *key = NULL;
  const gchar *value;

  if (state == NULL)
    state = reader->state = g_new0 (NativeState, 1);
  if (line[0] == '\0')
    return TRUE;
  if (line[0] != '#')
    return FALSE;
  if (g_str_has_prefix (line, NATIVE_MAGIC) || g_str_has_prefix (line, "# minna-trace"))
    {
      const gchar *v = line + (line[1] == ' ' ? 13 : 12);
      gint64 version;
      g_autofree gchar *text = g_strstrip (g_strdup (v));

      if (!mn_trace_parse_int (text, &version) || version != NATIVE_VERSION)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "%s:%" G_GUINT64_FORMAT ": unsupported minna-trace version '%s' "
                       "(this reader knows version %d)", reader->name, reader->line_no,
                       text, NATIVE_VERSION);
          return FALSE;
        }
      state->seen_magic = TRUE;
      return TRUE;
    }
  if (mn_trace_header_split (line + 1, &key, &value))
    mn_trace_header_set_key (&reader->header, key, value);
  return TRUE;
}

/* "-" is unknown; otherwise %XX escapes are decoded in place. */
static gboolean
decode_string (gchar *text, gchar **out)
{
  gchar *r = text, *w = text;

  if (strcmp (text, "-") == 0)
    {
      *out = NULL;
      return TRUE;
    }
  while (*r != '\0')
    {
      if (*r == '%')
        {
          gint hi = g_ascii_xdigit_value (r[1]);
          gint lo = hi >= 0 ? g_ascii_xdigit_value (r[2]) : -1;

          if (lo < 0 || (hi == 0 && lo == 0))
            return FALSE;
          *w++ = (gchar) (hi * 16 + lo);
          r += 3;
        }
      else
        *w++ = *r++;
    }
  *w = '\0';
  *out = g_strdup (text);
  return TRUE;
}

static gboolean
parse_profile (gchar *text, MnTraceJob *job, GError **error)
{
  gchar *p = text;
  gint64 last = -1;

  if (strcmp (text, "-") == 0)
    return TRUE;
  while (*p != '\0')
    {
      gchar *comma = strchr (p, ',');
      gchar *colon;
      gint64 offset, mb;

      if (comma != NULL)
        *comma = '\0';
      colon = strchr (p, ':');
      if (colon == NULL)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                       "field 23 (memory_profile): step '%.30s' is not OFFSET:MB", p);
          return FALSE;
        }
      *colon = '\0';
      if (!mn_trace_parse_int (p, &offset) || !mn_trace_parse_int (colon + 1, &mb) ||
          offset < 0 || mb < 0 || offset <= last)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                       "field 23 (memory_profile): bad step '%.20s:%.20s' (offsets must "
                       "increase, values be >= 0)", p, colon + 1);
          return FALSE;
        }
      if (job->memory_profile != NULL && job->memory_profile->len >= NATIVE_MAX_STEPS)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                       "field 23 (memory_profile): more than %d steps", NATIVE_MAX_STEPS);
          return FALSE;
        }
      mn_trace_job_add_memory_step (job, offset, (guint64) mb);
      last = offset;
      if (comma == NULL)
        break;
      p = comma + 1;
    }
  return TRUE;
}

static gboolean
bad_field (GError **error, guint index, const gchar *value, const gchar *why)
{
  g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE, "field %u (%s): %s: '%.40s'",
               index + 1, native_columns[index], why, value);
  return FALSE;
}

static gboolean
native_parse_line (MnTraceReader *reader, gchar *line, MnTraceJob **job_out, GError **error)
{
  gchar *f[NATIVE_COLUMNS + 1];
  g_autoptr(MnTraceJob) job = NULL;
  gint64 v;
  guint n;
  /* integer columns and where they go; -1 means unknown everywhere */
  static const guint int_cols[] = { 0, 1, 2, 3, 4, 5, 13, 14, 15, 16, 17, 18, 20, 21 };

  *job_out = NULL;
  if (line[0] == '\0' || line[0] == '#')
    return TRUE;
  n = mn_trace_split (line, '\t', f, NATIVE_COLUMNS + 1);
  if (n != NATIVE_COLUMNS)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_BAD_LINE,
                   "expected %d tab-separated fields, found %s%u", NATIVE_COLUMNS,
                   n > NATIVE_COLUMNS ? "more than " : "", MIN (n, (guint) NATIVE_COLUMNS));
      return FALSE;
    }
  job = mn_trace_job_new ();
  for (guint i = 0; i < G_N_ELEMENTS (int_cols); i++)
    {
      guint c = int_cols[i];
      gint64 *slot;

      if (!mn_trace_parse_int (f[c], &v))
        return bad_field (error, c, f[c], "not an integer");
      if (v < -1 || (c == 21 && (v > 255)))
        return bad_field (error, c, f[c], "out of range");
      switch (c)
        {
        case 0: slot = &job->id; break;
        case 1: slot = &job->submit; break;
        case 2: slot = &job->start; break;
        case 3: slot = &job->end; break;
        case 4: slot = &job->runtime; break;
        case 5: slot = &job->walltime_req; break;
        case 13: slot = &job->procs; break;
        case 14: slot = &job->procs_alloc; break;
        case 15: slot = &job->gpus; break;
        case 16: slot = &job->memory_req_mb; break;
        case 17: slot = &job->memory_used_mb; break;
        case 18: slot = &job->cpu_time; break;
        case 20: slot = &job->gpu_memory_mb; break;
        default: job->exit_status = (gint) v; continue;
        }
      *slot = v;
    }
  if (job->submit < 0)
    return bad_field (error, 1, f[1], "submit time unknown");
  if (job->start >= 0 && job->end >= 0 && job->end < job->start)
    return bad_field (error, 3, f[3], "end before start");
  if (!decode_string (f[6], &job->user))
    return bad_field (error, 6, f[6], "bad %-escape");
  if (!decode_string (f[7], &job->group))
    return bad_field (error, 7, f[7], "bad %-escape");
  if (!decode_string (f[8], &job->queue))
    return bad_field (error, 8, f[8], "bad %-escape");
  if (strcmp (f[9], "0") != 0 && strcmp (f[9], "1") != 0)
    return bad_field (error, 9, f[9], "expected 0 or 1");
  job->interactive = f[9][0] == '1';
  if (!decode_string (f[10], &job->name))
    return bad_field (error, 10, f[10], "bad %-escape");
  if (strcmp (f[11], "-") == 0)
    job->rtype = MN_RTYPE_NONE;
  else if ((job->rtype = mn_resource_type_from_string (f[11])) == MN_RTYPE_NONE)
    return bad_field (error, 11, f[11], "unknown resource type (F, H, Q, C4, C1, G1 or -)");
  if (!mn_trace_parse_int (f[12], &v) || v < 0 || v > 1000000)
    return bad_field (error, 12, f[12], "not a chunk count");
  if ((v == 0) != (job->rtype == MN_RTYPE_NONE))
    return bad_field (error, 12, f[12], "a count is needed with a resource type, 0 without");
  job->rtype_count = (guint) v;
  if (!mn_trace_parse_double (f[19], &job->cpu_active) ||
      !((job->cpu_active >= 0 && job->cpu_active <= 1) || job->cpu_active == -1))
    return bad_field (error, 19, f[19], "expected a share from 0 to 1, or -1");
  if (!parse_profile (f[22], job, error))
    return FALSE;
  *job_out = g_steal_pointer (&job);
  return TRUE;
}

const MnTraceParser mn_trace_parser_native = {
  .format = MN_TRACE_FORMAT_NATIVE,
  .header_line = native_header_line,
  .parse_line = native_parse_line,
  .flush = NULL,
  .free_state = g_free,
};

/* --- writing ------------------------------------------------------------ */

static void
append_string (GString *out, const gchar *text)
{
  if (text == NULL)
    {
      g_string_append_c (out, '-');
      return;
    }
  if (strcmp (text, "-") == 0)
    {
      /* a name that is "-" itself, kept distinct from unknown */
      g_string_append (out, "%2D");
      return;
    }
  for (const gchar *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '%' || c == '\t' || c == '\n' || c == '\r' || c == ' ' || c < 0x20)
        g_string_append_printf (out, "%%%02X", c);
      else
        g_string_append_c (out, (gchar) c);
    }
}

void
mn_trace_native_append_header (GString *out, const MnTraceHeader *header, const gchar *note)
{
  g_string_append_printf (out, NATIVE_MAGIC " %d\n", NATIVE_VERSION);
  if (note != NULL)
    g_string_append_printf (out, "# Note: %s\n", note);
  if (header->computer != NULL)
    g_string_append_printf (out, "# Computer: %s\n", header->computer);
  if (header->max_records >= 0)
    g_string_append_printf (out, "# MaxRecords: %" G_GINT64_FORMAT "\n", header->max_records);
  if (header->max_nodes >= 0)
    g_string_append_printf (out, "# MaxNodes: %" G_GINT64_FORMAT "\n", header->max_nodes);
  if (header->max_procs >= 0)
    g_string_append_printf (out, "# MaxProcs: %" G_GINT64_FORMAT "\n", header->max_procs);
  if (header->unix_start_time >= 0)
    g_string_append_printf (out, "# UnixStartTime: %" G_GINT64_FORMAT "\n",
                            header->unix_start_time);
  if (header->time_zone_offset != 0)
    g_string_append_printf (out, "# TimeZone: %" G_GINT64_FORMAT "\n",
                            header->time_zone_offset);
  if (header->time_zone != NULL)
    g_string_append_printf (out, "# TimeZoneString: %s\n", header->time_zone);
  if (header->queues != NULL)
    {
      g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (header->queues),
                                           (GCompareFunc) g_strcmp0);
      for (GList *l = keys; l != NULL; l = l->next)
        g_string_append_printf (out, "# Queue: %s %s\n", (const gchar *) l->data,
                                (const gchar *) g_hash_table_lookup (header->queues, l->data));
    }
  mn_trace_header_append_site (out, header, "# ");
  g_string_append (out, "# Columns:");
  for (guint i = 0; i < NATIVE_COLUMNS; i++)
    g_string_append_printf (out, " %s", native_columns[i]);
  g_string_append_c (out, '\n');
}

void
mn_trace_native_append_job (GString *out, const MnTraceJob *job)
{
  gchar active[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
                          "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t",
                          job->id, job->submit, job->start, job->end, job->runtime,
                          job->walltime_req);
  append_string (out, job->user);
  g_string_append_c (out, '\t');
  append_string (out, job->group);
  g_string_append_c (out, '\t');
  append_string (out, job->queue);
  g_string_append_printf (out, "\t%d\t", job->interactive ? 1 : 0);
  append_string (out, job->name);
  g_string_append_printf (out, "\t%s\t%u", job->rtype == MN_RTYPE_NONE ? "-" :
                          mn_resource_type_info (job->rtype)->short_name,
                          job->rtype == MN_RTYPE_NONE ? 0 : job->rtype_count);
  if (job->cpu_active < 0)
    g_strlcpy (active, "-1", sizeof active);
  else
    g_ascii_formatd (active, sizeof active, "%.4f", job->cpu_active);
  g_string_append_printf (out, "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
                          "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
                          "\t%s\t%" G_GINT64_FORMAT "\t%d\t",
                          job->procs, job->procs_alloc, job->gpus, job->memory_req_mb,
                          job->memory_used_mb, job->cpu_time, active, job->gpu_memory_mb,
                          job->exit_status);
  if (job->memory_profile == NULL || job->memory_profile->len == 0)
    g_string_append_c (out, '-');
  else
    for (guint i = 0; i < job->memory_profile->len; i++)
      {
        const MnMemoryStep *step = &g_array_index (job->memory_profile, MnMemoryStep, i);

        g_string_append_printf (out, "%s%" G_GINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                i > 0 ? "," : "", step->offset, step->memory_mb);
      }
  g_string_append_c (out, '\n');
}
