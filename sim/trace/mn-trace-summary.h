/* mn-trace-summary.h: what a trace holds (`minna-sim summary`): jobs,
 * interactive jobs, users, time span, largest job, machine size, offered
 * utilization (over the trace and by month), interactive launches by hour of
 * day, skipped lines.  Built one job at a time, so it streams. */
#pragma once

#include <json-glib/json-glib.h>
#include "mn-trace-reader.h"

G_BEGIN_DECLS

typedef struct {
  gint   year;
  gint   month;           /* 1..12, in the trace's time zone */
  double work;            /* node-seconds (or processor-seconds) submitted */
  double capacity;        /* nodes (or processors) x seconds of the month covered */
  double utilization;     /* work / capacity */
} MnTraceMonth;

typedef struct {
  gchar        *name;
  MnTraceFormat format;
  guint64       jobs;
  guint64       interactive_jobs;
  guint64       users;
  guint64       interactive_users;
  gint64        first_submit;      /* -1 if no jobs */
  gint64        last_submit;
  gint64        last_end;          /* -1 if no job has a known end */
  gint64        span_start;        /* UnixStartTime if given, else first submit */
  gint64        largest_id;
  gint64        largest_procs;
  double        largest_nodes;     /* -1 for processor-count traces */
  gint64        largest_runtime;
  gint64        max_procs;         /* machine size used (header or override), -1 unknown */
  gint64        max_nodes;
  gboolean      node_based;        /* utilization counted in nodes (TSUBAME types) */
  double        offered_utilization; /* -1 unknown (no machine size) */
  GArray       *months;            /* of MnTraceMonth, in order */
  gint          busiest_month;     /* index into months, -1 none */
  guint64       interactive_by_hour[24]; /* launches by local hour of day */
  gint64        time_zone_offset;
  guint64       skipped;
  guint64       merged;
  GPtrArray    *skipped_lines;     /* first "FILE:LINE: reason" messages */
  /* Issue 16 */
  gchar        *note;              /* how the jobs were read, when it needs saying; NULL */
  guint64       logged_starts;     /* jobs with a logged start time */
} MnTraceSummary;

/* Reads the whole trace.  @nodes / @procs (0 = from the header) give the
 * machine size when the trace does not. */
MnTraceSummary *mn_trace_summarize (const gchar *path, MnTraceFormat format, gboolean strict,
                                    gint64 nodes, gint64 procs, GError **error);
void            mn_trace_summary_free (MnTraceSummary *summary);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnTraceSummary, mn_trace_summary_free)

/* The two hours with the most interactive launches, most first (-1: none). */
void            mn_trace_summary_peak_hours (const MnTraceSummary *summary, gint *first,
                                             gint *second);
JsonNode       *mn_trace_summary_to_json (const MnTraceSummary *summary);
gchar          *mn_trace_summary_to_text (const MnTraceSummary *summary);

G_END_DECLS
