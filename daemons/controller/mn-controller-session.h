/* mn-controller-session.h: one launch request and its life. */
#pragma once

#include <glib.h>
#include "mn-policy.h"

G_BEGIN_DECLS

/* queued -> starting -> running -> ending -> ended; any live state may go
 * to failed, and to unknown when the scheduler cannot be asked (it goes back
 * to prev_state once the scheduler answers again: never taken for ended). */
typedef enum {
  MN_SESSION_QUEUED,
  MN_SESSION_STARTING,
  MN_SESSION_RUNNING,
  MN_SESSION_ENDING,
  MN_SESSION_ENDED,
  MN_SESSION_FAILED,
  MN_SESSION_UNKNOWN,
} MnSessionState;

typedef struct {
  gint64          num;         /* database row; the policy's job id */
  gchar          *id;          /* public id: in URLs /s/<id>/ */
  gchar          *user;
  gchar          *app;
  gchar          *queue;       /* "interactive" or "batch" */
  guint           cores;
  guint64         memory_mb;
  guint           gpus;
  gint64          walltime;    /* s */
  gboolean        give_up;     /* if_busy = give_up */
  guint64         gpu_memory_mb; /* GPU memory asked of the policy (0 none) */
  MnSessionState  state;
  MnSessionState  prev_state;  /* what unknown returns to */
  gchar          *reason;
  gint64          created;
  gint64          submitted;   /* job handed to the backend */
  gint64          job_started; /* the backend first saw the job running: the
                                * walltime counts from here */
  gint64          started;     /* app answered */
  gint64          ended;
  gint64          stop_requested;  /* ending since */
  gchar          *job_id;      /* backend's id */
  gchar          *host;
  guint           port;
  gint            node;        /* -1: not placed */
  gint            logical;
  guint64         gpu_mask;    /* the policy's GPUs (bit i: GPU i of the node) */
  gchar          *token;
  gint64          idle_warned; /* when the idle warning was given, 0 none */
  /* Why it ended (ended/failed; MN_END_NONE while live), or, while ending,
   * why it is being stopped.  The code decides; @reason is for people. */
  MnEndReason     end_reason;
  /* The values of the app's own form fields, as a JSON object text
   * ({"kernel": "python3"}; NULL none): the job script exports each as
   * MINNA_FIELD_<NAME>. */
  gchar          *form;
  /* The user removed its card (ended/failed only); the row stays for the
   * admin's history and the accounting. */
  gboolean        hidden;
  /* Seconds of walltime added by Extend (walltime includes them). */
  gint64          extended;
  /* From the last poll, not stored: a starting session's job waits in the
   * scheduler's queue (with its expected start, 0 none); the node the
   * scheduler runs it on. */
  gboolean        sched_pending;
  gint64          sched_estimate;
  gchar          *exec_node;
  gchar          *refused_at;  /* the connection file's host:port last refused */
  gboolean        route_failed; /* the app answered; the relay did not take the route */
  MnWaitReason    wait_reason; /* queued: what the policy found missing (not stored:
                                * a restart asks the policy again) */
} MnSession;

MnSession   *mn_session_new (void);
MnSession   *mn_session_copy (const MnSession *s);
void         mn_session_free (MnSession *s);
/* Puts back into @dst every stored field of @stored (a copy of what the
 * store holds): a change the store refused is undone.  @dst keeps its
 * pointer, id and the fields that are not stored (from the last poll). */
void         mn_session_restore (MnSession *dst, const MnSession *stored);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSession, mn_session_free)

const gchar *mn_session_state_to_string (MnSessionState state);
gboolean     mn_session_state_from_string (const gchar *text, MnSessionState *out);
gboolean     mn_session_state_is_final (MnSessionState state);
/* When the walltime runs out: the job's start (as the backend first saw it
 * running; before that the submission, for sessions stored before it was
 * recorded) + walltime.  G_MAXINT64 while the job has not been submitted. */
gint64       mn_session_walltime_end (const MnSession *s);

G_END_DECLS
