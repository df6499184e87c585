/* mn-controller-accounting.h: node-hours of interactive.q per month, by
 * user or by group, for the admin page and its CSV (docs/accounting.md).
 *
 * Pure: sessions, the policy and the clock come in, rows come out.
 *
 *   hours              the time the job ran inside the month: from when the
 *                      backend first saw it running (job_started) to its end
 *                      (now while it runs), cut at the month's bounds (UTC)
 *   node_hours         hours x the session's share of a node, from the
 *                      policy's START allocation: its cores (the cpu.max
 *                      quota it may use at once) / [node] cores
 *   charged_node_hours hours x [accounting] charge_coefficient: what the
 *                      site bills, a fixed fraction of a node whatever the
 *                      job asked (TSUBAME3 charged interactive.q at 0.2)
 *
 * Only interactive-queue sessions count; batch jobs are the scheduler's own
 * accounting.  A session that never ran counts for nothing. */
#pragma once

#include <glib.h>
#include "mn-policy.h"

G_BEGIN_DECLS

typedef struct {
  gchar   *user;
  gchar   *queue;        /* "interactive" or "batch" */
  guint    cores;
  guint64  memory_mb;
  guint    gpus;
  guint64  gpu_memory_mb;
  gint64   walltime;
  gint64   start;        /* the job ran from here; 0: it never ran */
  gint64   end;          /* 0: still running (counts up to now) */
} MnAccountingSession;

void mn_accounting_session_free (MnAccountingSession *s);

typedef struct {
  gchar   *month;        /* "2026-12" */
  gchar   *user;         /* NULL in rows by group */
  gchar   *group;
  guint    sessions;     /* sessions that ran during the month */
  gdouble  hours;
  gdouble  node_hours;
  gdouble  charged_node_hours;
} MnAccountingRow;

void mn_accounting_row_free (MnAccountingRow *r);

/* The group a user is billed to; a new string. */
typedef gchar *(*MnAccountingGroupFunc) (const gchar *user, gpointer data);

/* The primary Unix group of @user (getpwnam_r, getgrgid_r), "(none)" when
 * the user has no account here (a users-file login). */
gchar *mn_accounting_unix_group (const gchar *user, gpointer data);

/* "YYYY-MM" -> the month's first second (UTC) in *@start and the next
 * month's in *@next.  FALSE with a message naming @field otherwise. */
gboolean mn_accounting_parse_month (const gchar *text, const gchar *field,
                                    gint64 *start, gint64 *next, GError **error);
/* The "YYYY-MM" of Unix time @t (UTC). */
gchar   *mn_accounting_month_of (gint64 t);

/* Rows for the months [@from, @to) (month starts), sorted by month, then
 * user (or group); sessions are MnAccountingSession.  @by_group: one row per
 * (month, group) instead of per (month, user, group). */
GPtrArray *mn_accounting_compute (const MnPolicyConfig  *policy,
                                  const GPtrArray       *sessions,
                                  gint64                 from,
                                  gint64                 to,
                                  gint64                 now,
                                  gdouble                charge_coefficient,
                                  gboolean               by_group,
                                  MnAccountingGroupFunc  group,
                                  gpointer               group_data);

/* The session's share of a node under @policy: its allocation's cores /
 * [node] cores. */
gdouble mn_accounting_node_share (const MnPolicyConfig *policy, const MnAccountingSession *s);

/* RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
 * A field that a spreadsheet would run as a formula (=, +, -, @, tab, CR
 * first) gets a leading apostrophe inside the quotes. */
void   mn_csv_append_field (GString *out, const gchar *field);
/* The rows as CSV with a header line, CRLF line ends. */
gchar *mn_accounting_csv (const GPtrArray *rows, gboolean by_group);

G_END_DECLS
