/* mn-controller-reconcile.h: the database against what the scheduler has
 * (issue 20), as a pure comparison: the live sessions as stored, the
 * backend's listing (mn_backend_list_jobs), and the stored rows of listed
 * jobs whose sessions are over; out come the differences, each with what
 * the controller does about it.  No I/O: the start (mn-controller-recover.c)
 * and 'minna-controller check' act on or print the findings. */
#pragma once

#include <glib.h>
#include "mn-controller-backend.h"
#include "mn-controller-session.h"

G_BEGIN_DECLS

typedef enum {
  /* a live session without a stored job id, whose job (minna-<session>)
   * the scheduler has: its id is stored (its submission was not) */
  MN_RECONCILE_ADOPT,
  /* a live session whose stored job the scheduler no longer has: ended
   * (failed if it was starting) with the reason said */
  MN_RECONCILE_GONE,
  /* a job whose session is over in the database: cancelled (a user saw it end) */
  MN_RECONCILE_CANCEL,
  /* a job of minna's the database has no session for, or a second job of a
   * live session: reported, left running (an admin decides) */
  MN_RECONCILE_ORPHAN,
  /* an empty leftover (cgroup) of no live session: removed */
  MN_RECONCILE_LEFTOVER,
  /* a leftover of no live session that still holds processes: reported */
  MN_RECONCILE_STRAY,
} MnReconcileKind;

typedef struct {
  MnReconcileKind kind;
  gchar          *session_id;   /* NULL: the job names none */
  gchar          *job_id;
  MnBackendJob   *job;          /* a copy of the listed job; NULL for GONE */
  gchar          *line;         /* for people: what differs, and what is done */
} MnReconcileFinding;

void mn_reconcile_finding_free (MnReconcileFinding *f);
const gchar *mn_reconcile_kind_to_string (MnReconcileKind kind);

/* @live: MnSession* as stored, live ones only; @over: session id ->
 * MnSession*, the stored rows of listed jobs' sessions that are not live
 * (absent: the database has no such session); @listed: MnBackendJob*.
 * @act says whether the lines say what is done now or what a start would
 * do.  Returns MnReconcileFinding*, live sessions first in @live's order. */
GPtrArray *mn_reconcile_diff (GPtrArray *live, GHashTable *over, GPtrArray *listed,
                              gboolean act);

G_END_DECLS
