/* mn-trace-summary.c: `minna-sim summary TRACE`: reads a trace once and says
 * what it holds. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-summary.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  MnTraceSummary *s;
  GHashTable     *users;
  GHashTable     *interactive_users;
  double          node_work;
  double          proc_work;
  /* the month being filled: [month_start, month_end) in UTC seconds */
  gint64          month_start;
  gint64          month_end;
  GArray         *month_node_work;
  GArray         *month_proc_work;
  guint           month_index;
} Acc;

void
mn_trace_summary_free (MnTraceSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->name);
  if (summary->months != NULL)
    g_array_unref (summary->months);
  if (summary->skipped_lines != NULL)
    g_ptr_array_unref (summary->skipped_lines);
  g_free (summary->note);
  g_free (summary);
}

/* Month containing @t (local time at @offset); its bounds in UTC seconds. */
static void
month_of (gint64 t, gint64 offset, gint *year, gint *month, gint64 *start, gint64 *end)
{
  g_autoptr(GDateTime) local = g_date_time_new_from_unix_utc (t + offset);
  g_autoptr(GDateTime) first = NULL;
  g_autoptr(GDateTime) next = NULL;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

  if (local == NULL)
    {
      *year = 0;
      *month = 1;
      *start = t;
      *end = t + 1;
      return;
    }
  *year = g_date_time_get_year (local);
  *month = g_date_time_get_month (local);
  first = g_date_time_new (utc, *year, *month, 1, 0, 0, 0);
  next = g_date_time_add_months (first, 1);
  *start = g_date_time_to_unix (first) - offset;
  *end = next != NULL ? g_date_time_to_unix (next) - offset : *start + 31 * 86400;
}

/* Index of the month holding @t (inserted in order if new); also makes it
 * the current month. */
static guint
find_month (Acc *acc, gint64 t)
{
  MnTraceSummary *s = acc->s;
  MnTraceMonth m = { 0 };
  double zero = 0;
  guint i;

  month_of (t, s->time_zone_offset, &m.year, &m.month, &acc->month_start, &acc->month_end);
  for (i = 0; i < s->months->len; i++)
    {
      MnTraceMonth *x = &g_array_index (s->months, MnTraceMonth, i);

      if (x->year == m.year && x->month == m.month)
        return i;
      if (x->year > m.year || (x->year == m.year && x->month > m.month))
        break;
    }
  g_array_insert_val (s->months, i, m);
  g_array_insert_val (acc->month_node_work, i, zero);
  g_array_insert_val (acc->month_proc_work, i, zero);
  return i;
}

static void
add_job (Acc *acc, const MnTraceJob *job)
{
  MnTraceSummary *s = acc->s;
  gint64 procs = mn_trace_job_get_procs (job);
  double nodes = mn_trace_job_get_nodes (job);
  double node_work = 0, proc_work = 0;

  s->jobs++;
  if (job->start >= 0 && job->submit >= 0 && job->start >= job->submit)
    s->logged_starts++;
  if (job->user != NULL && !g_hash_table_contains (acc->users, job->user))
    g_hash_table_add (acc->users, g_strdup (job->user));
  if (job->interactive)
    {
      s->interactive_jobs++;
      if (job->user != NULL && !g_hash_table_contains (acc->interactive_users, job->user))
        g_hash_table_add (acc->interactive_users, g_strdup (job->user));
      if (job->submit >= 0)
        {
          gint64 local = (job->submit + s->time_zone_offset) % 86400;

          s->interactive_by_hour[(local < 0 ? local + 86400 : local) / 3600]++;
        }
    }
  if (s->first_submit < 0 || job->submit < s->first_submit)
    s->first_submit = job->submit;
  if (job->submit > s->last_submit)
    s->last_submit = job->submit;
  if (job->end > s->last_end)
    s->last_end = job->end;
  if (procs > s->largest_procs || (procs == s->largest_procs && nodes > s->largest_nodes))
    {
      s->largest_procs = procs;
      s->largest_nodes = nodes;
      s->largest_id = job->id;
      s->largest_runtime = job->runtime;
    }
  if (job->runtime > 0)
    {
      if (nodes >= 0)
        node_work = nodes * job->runtime;
      else if (procs > 0)
        proc_work = (double) procs * job->runtime;
    }
  acc->node_work += node_work;
  acc->proc_work += proc_work;

  if (job->submit >= 0)
    {
      if (job->submit < acc->month_start || job->submit >= acc->month_end)
        acc->month_index = find_month (acc, job->submit);
      g_array_index (acc->month_node_work, double, acc->month_index) += node_work;
      g_array_index (acc->month_proc_work, double, acc->month_index) += proc_work;
    }
}

/* Utilization: node-seconds over node capacity for TSUBAME-type jobs,
 * processor-seconds over processor capacity otherwise (both if mixed). */
static double
utilization (MnTraceSummary *s, double node_work, double proc_work, double seconds)
{
  double u = 0;

  if (seconds <= 0)
    return -1;
  if ((node_work > 0 && s->max_nodes <= 0) || (proc_work > 0 && s->max_procs <= 0))
    return -1;
  if (node_work > 0)
    u += node_work / ((double) s->max_nodes * seconds);
  if (proc_work > 0)
    u += proc_work / ((double) s->max_procs * seconds);
  return u;
}

static void
finish (Acc *acc)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  MnTraceSummary *s = acc->s;
  gint64 span_end;
  double best = -1;

  s->users = g_hash_table_size (acc->users);
  s->interactive_users = g_hash_table_size (acc->interactive_users);
  s->node_based = acc->node_work > 0;
  s->busiest_month = -1;
  if (s->jobs == 0)
    return;
  if (s->span_start < 0 || s->span_start > s->first_submit)
    s->span_start = s->first_submit;
  /* Offered load: what was submitted over the time submissions cover. */
  span_end = s->last_submit;
  s->offered_utilization = utilization (s, acc->node_work, acc->proc_work,
                                        (double) (span_end - s->span_start));
  for (guint i = 0; i < s->months->len; i++)
    {
      MnTraceMonth *m = &g_array_index (s->months, MnTraceMonth, i);
      g_autoptr(GDateTime) first = g_date_time_new (utc, m->year, m->month, 1, 0, 0, 0);
      g_autoptr(GDateTime) next = first != NULL ? g_date_time_add_months (first, 1) : NULL;
      double node_work = g_array_index (acc->month_node_work, double, i);
      double proc_work = g_array_index (acc->month_proc_work, double, i);
      gint64 start, end;
      double seconds;

      m->utilization = -1;
      if (next == NULL)
        continue;
      /* only the part of the month the trace covers */
      start = MAX (g_date_time_to_unix (first) - s->time_zone_offset, s->span_start);
      end = MIN (g_date_time_to_unix (next) - s->time_zone_offset, span_end);
      seconds = (double) (end - start);
      m->work = node_work + proc_work;
      m->capacity = seconds * (double) (s->node_based ? s->max_nodes : s->max_procs);
      m->utilization = utilization (s, node_work, proc_work, seconds);
      /* a sliver of a month (under a week) says little about load */
      if (seconds >= 7 * 86400 && m->utilization > best)
        {
          best = m->utilization;
          s->busiest_month = (gint) i;
        }
    }
}

MnTraceSummary *
mn_trace_summarize (const gchar *path, MnTraceFormat format, gboolean strict, gint64 nodes,
                    gint64 procs, GError **error)
{
  g_autoptr(MnTraceReader) reader = mn_trace_reader_open (path, format, strict, error);
  g_autoptr(MnTraceSummary) s = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GHashTable) interactive_users = NULL;
  g_autoptr(GArray) node_work = NULL;
  g_autoptr(GArray) proc_work = NULL;
  const MnTraceHeader *header;
  GPtrArray *skipped;
  MnTraceJob *job;
  Acc acc = { 0 };

  if (reader == NULL)
    return NULL;
  header = mn_trace_reader_get_header (reader);
  s = g_new0 (MnTraceSummary, 1);
  s->name = g_strdup (path);
  s->format = header->format;
  s->first_submit = -1;
  s->last_submit = -1;
  s->last_end = -1;
  s->largest_id = -1;
  s->largest_procs = -1;
  s->largest_nodes = -1;
  s->largest_runtime = -1;
  s->offered_utilization = -1;
  s->busiest_month = -1;
  s->span_start = header->unix_start_time;
  s->time_zone_offset = mn_trace_header_utc_offset (header);
  s->max_nodes = nodes > 0 ? nodes : header->max_nodes;
  s->max_procs = procs > 0 ? procs : header->max_procs;
  s->months = g_array_new (FALSE, FALSE, sizeof (MnTraceMonth));
  s->skipped_lines = g_ptr_array_new_with_free_func (g_free);
  users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  interactive_users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  node_work = g_array_new (FALSE, FALSE, sizeof (double));
  proc_work = g_array_new (FALSE, FALSE, sizeof (double));
  acc.s = s;
  acc.users = users;
  acc.interactive_users = interactive_users;
  acc.month_node_work = node_work;
  acc.month_proc_work = proc_work;
  acc.month_start = G_MAXINT64;
  acc.month_end = G_MININT64;

  while ((job = mn_trace_reader_next (reader, &local_error)) != NULL)
    {
      add_job (&acc, job);
      mn_trace_job_free (job);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (mn_trace_reader_queue_zero_only (reader))
    {
      s->interactive_jobs = 0;
      g_hash_table_remove_all (interactive_users);
      memset (s->interactive_by_hour, 0, sizeof s->interactive_by_hour);
      s->note = g_strdup (MN_TRACE_QUEUE_ZERO_NOTE);
    }
  finish (&acc);
  s->skipped = mn_trace_reader_get_n_skipped (reader);
  s->merged = mn_trace_reader_get_n_merged (reader);
  skipped = mn_trace_reader_get_skipped (reader);
  for (guint i = 0; i < skipped->len; i++)
    g_ptr_array_add (s->skipped_lines, g_strdup (g_ptr_array_index (skipped, i)));
  return g_steal_pointer (&s);
}

static gchar *
format_time (gint64 t, gint64 offset)
{
  g_autoptr(GDateTime) dt = t >= 0 ? g_date_time_new_from_unix_utc (t + offset) : NULL;
  gint h = (gint) (ABS (offset) / 3600), m = (gint) (ABS (offset) % 3600 / 60);

  if (dt == NULL)
    return g_strdup ("unknown");
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                          g_date_time_get_year (dt), g_date_time_get_month (dt),
                          g_date_time_get_day_of_month (dt), g_date_time_get_hour (dt),
                          g_date_time_get_minute (dt), g_date_time_get_second (dt),
                          offset < 0 ? '-' : '+', h, m);
}

/* The two hours with the most interactive launches, most first (-1: none). */
void
mn_trace_summary_peak_hours (const MnTraceSummary *s, gint *first, gint *second)
{
  *first = *second = -1;
  for (gint h = 0; h < 24; h++)
    {
      if (s->interactive_by_hour[h] == 0)
        continue;
      if (*first < 0 || s->interactive_by_hour[h] > s->interactive_by_hour[*first])
        {
          *second = *first;
          *first = h;
        }
      else if (*second < 0 || s->interactive_by_hour[h] > s->interactive_by_hour[*second])
        *second = h;
    }
}

static void
add_int (JsonBuilder *b, const gchar *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_share (JsonBuilder *b, const gchar *name, double value)
{
  json_builder_set_member_name (b, name);
  if (value >= 0)
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

static gchar *
month_label (const MnTraceSummary *s, gint index)
{
  const MnTraceMonth *m;

  if (index < 0)
    return NULL;
  m = &g_array_index (s->months, MnTraceMonth, index);
  return g_strdup_printf ("%04d-%02d", m->year, m->month);
}

JsonNode *
mn_trace_summary_to_json (const MnTraceSummary *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree gchar *first = format_time (s->first_submit, s->time_zone_offset);
  g_autofree gchar *last = format_time (s->last_submit, s->time_zone_offset);
  g_autofree gchar *busiest = month_label (s, s->busiest_month);
  gint p1, p2;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "trace");
  json_builder_add_string_value (b, s->name);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, mn_trace_format_to_string (s->format));
  add_int (b, "jobs", (gint64) s->jobs);
  add_int (b, "interactive_jobs", (gint64) s->interactive_jobs);
  add_int (b, "users", (gint64) s->users);
  add_int (b, "interactive_users", (gint64) s->interactive_users);
  add_int (b, "first_submit", s->first_submit);
  add_int (b, "last_submit", s->last_submit);
  json_builder_set_member_name (b, "first_submit_time");
  json_builder_add_string_value (b, first);
  json_builder_set_member_name (b, "last_submit_time");
  json_builder_add_string_value (b, last);
  json_builder_set_member_name (b, "span_days");
  json_builder_add_double_value (b, s->jobs > 0 ? (s->last_submit - s->span_start) / 86400.0
                                                : 0.0);
  json_builder_set_member_name (b, "largest_job");
  json_builder_begin_object (b);
  add_int (b, "id", s->largest_id);
  add_int (b, "procs", s->largest_procs);
  add_share (b, "nodes", s->largest_nodes);
  add_int (b, "runtime", s->largest_runtime);
  json_builder_end_object (b);
  add_int (b, "max_procs", s->max_procs);
  add_int (b, "max_nodes", s->max_nodes);
  json_builder_set_member_name (b, "utilization_unit");
  json_builder_add_string_value (b, s->node_based ? "nodes" : "processors");
  add_share (b, "offered_utilization", s->offered_utilization);
  json_builder_set_member_name (b, "busiest_month");
  if (busiest != NULL)
    json_builder_add_string_value (b, busiest);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "months");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->months->len; i++)
    {
      g_autofree gchar *label = month_label (s, (gint) i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "month");
      json_builder_add_string_value (b, label);
      add_share (b, "offered_utilization", g_array_index (s->months, MnTraceMonth, i).utilization);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "interactive_by_hour");
  json_builder_begin_array (b);
  for (guint h = 0; h < 24; h++)
    json_builder_add_int_value (b, (gint64) s->interactive_by_hour[h]);
  json_builder_end_array (b);
  mn_trace_summary_peak_hours (s, &p1, &p2);
  json_builder_set_member_name (b, "interactive_peak_hours");
  json_builder_begin_array (b);
  if (p1 >= 0)
    json_builder_add_int_value (b, p1);
  if (p2 >= 0)
    json_builder_add_int_value (b, p2);
  json_builder_end_array (b);
  add_int (b, "merged_records", (gint64) s->merged);
  add_int (b, "logged_starts", (gint64) s->logged_starts);
  if (s->note != NULL)
    {
      json_builder_set_member_name (b, "note");
      json_builder_add_string_value (b, s->note);
    }
  add_int (b, "skipped", (gint64) s->skipped);
  json_builder_set_member_name (b, "skipped_lines");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->skipped_lines->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (s->skipped_lines, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gchar *
mn_trace_summary_to_text (const MnTraceSummary *s)
{
  GString *out = g_string_new (NULL);
  g_autofree gchar *first = format_time (s->first_submit, s->time_zone_offset);
  g_autofree gchar *last = format_time (s->last_submit, s->time_zone_offset);
  g_autofree gchar *busiest = month_label (s, s->busiest_month);
  gint p1, p2;

  g_string_append_printf (out, "trace:               %s (%s)\n", s->name,
                          mn_trace_format_to_string (s->format));
  g_string_append_printf (out, "jobs:                %" G_GUINT64_FORMAT "\n", s->jobs);
  g_string_append_printf (out, "interactive jobs:    %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                          " users)\n", s->interactive_jobs, s->interactive_users);
  g_string_append_printf (out, "users:               %" G_GUINT64_FORMAT "\n", s->users);
  g_string_append_printf (out, "time span:           %s .. %s (%.1f days)\n", first, last,
                          s->jobs > 0 ? (s->last_submit - s->span_start) / 86400.0 : 0.0);
  if (s->largest_id >= 0)
    {
      g_string_append_printf (out, "largest job:         #%" G_GINT64_FORMAT ": %"
                              G_GINT64_FORMAT " processors", s->largest_id, s->largest_procs);
      if (s->largest_nodes >= 0)
        g_string_append_printf (out, " (%.4g nodes)", s->largest_nodes);
      g_string_append_printf (out, ", %" G_GINT64_FORMAT " s\n", s->largest_runtime);
    }
  else
    g_string_append (out, "largest job:         none\n");
  g_string_append (out, "machine:             ");
  if (s->max_procs > 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT " processors", s->max_procs);
  if (s->max_nodes > 0)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT " nodes", s->max_procs > 0 ? ", " : "",
                            s->max_nodes);
  if (s->max_procs <= 0 && s->max_nodes <= 0)
    g_string_append (out, "unknown (give --nodes or --procs)");
  g_string_append_c (out, '\n');
  if (s->offered_utilization >= 0)
    {
      g_string_append_printf (out, "offered utilization: %.3f of the %s", s->offered_utilization,
                              s->node_based ? "nodes" : "processors");
      if (busiest != NULL)
        g_string_append_printf (out, " (busiest month %s: %.3f)", busiest,
                                g_array_index (s->months, MnTraceMonth,
                                               s->busiest_month).utilization);
      g_string_append_c (out, '\n');
    }
  else
    g_string_append (out, "offered utilization: unknown (machine size not in the trace)\n");
  mn_trace_summary_peak_hours (s, &p1, &p2);
  if (p1 >= 0)
    g_string_append_printf (out, "interactive peaks:   %02d:00, then %02d:00\n", p1, MAX (p2, 0));
  if (s->note != NULL)
    g_string_append_printf (out, "note:                %s\n", s->note);
  if (s->merged > 0)
    g_string_append_printf (out, "merged records:      %" G_GUINT64_FORMAT
                            " (retries, parallel slave records, job steps)\n", s->merged);
  g_string_append_printf (out, "skipped lines:       %" G_GUINT64_FORMAT "\n", s->skipped);
  for (guint i = 0; i < s->skipped_lines->len; i++)
    g_string_append_printf (out, "  %s\n", (const gchar *) g_ptr_array_index (s->skipped_lines, i));
  if (s->skipped > s->skipped_lines->len)
    g_string_append_printf (out, "  ... and %" G_GUINT64_FORMAT " more\n",
                            s->skipped - s->skipped_lines->len);
  return g_string_free (out, FALSE);
}
