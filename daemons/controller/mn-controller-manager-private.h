/* mn-controller-manager-private.h: what the manager's files share.
 *
 * The manager is one object split by concern:
 *   mn-controller-manager.c  the object, clock, live-session table, save, timers, queries
 *   mn-controller-admit.c    policy bridge: launch, finish (release, admit next), refill, estimates
 *   mn-controller-jobs.c     a session's job: directory, submit, cancel, stop
 *   mn-controller-poll.c     poll rounds: job statuses move sessions on
 *   mn-controller-routes.c   connection file, job_host, readiness probe, relay routes
 *   mn-controller-idle.c     idle culling
 *   mn-controller-recover.c  restart: sessions back from the store
 * Nothing here is for use outside daemons/controller/mn-controller-*.c. */
#pragma once

#include "mn-controller-manager.h"
#include "mn-log-limit.h"

G_BEGIN_DECLS

typedef struct _NodeAddrs NodeAddrs;
typedef struct _PendingFinish PendingFinish;
typedef struct _IdleState IdleState;

struct _NodeAddrs {
  GStrv    addrs;     /* NULL: the lookup failed or runs */
  gint64   expires;   /* monotonic s */
  gboolean pending;
};

struct _MnControllerManager {
  MnControllerConfig *config;      /* only the keys the manager reads */
  MnControllerStore  *store;
  MnBackend          *backend;
  MnControllerRelay  *relay;
  GPtrArray          *apps;
  MnPolicyState      *policy;
  GHashTable         *live;        /* id -> MnSession* (owned) */
  GHashTable         *by_num;      /* num -> MnSession* (borrowed from live) */
  GHashTable         *busy;        /* id -> "probe"/"route": a call in flight */
  GHashTable         *running_since; /* id -> gint64* first poll that saw RUNNING */
  GHashTable         *cancelling;  /* id: a cancel runs in a worker thread */
  GHashTable         *node_addrs;  /* job_host = node: node name -> NodeAddrs* */
  GHashTable         *idle;        /* id -> IdleState*: what idle culling saw */
  GThreadPool        *workers;     /* submits, cancels, extends: see mn_manager_run_in_worker */
  GThreadPool        *poller;      /* the status poll's own lane (mn_manager_run_poll) */
  GMainContext       *context;     /* where their results are applied */
  gboolean            polling;     /* a poll runs in a worker thread */
  MnClockFunc         clock;
  gpointer            clock_data;
  MnProbeFunc         probe;
  gpointer            probe_data;
  MnRouteListFunc     list_routes;  /* tests' fake relay; NULL: the relay's */
  gpointer            list_routes_data;
  guint               timer;
  guint               kick;
  guint               ticks;
  gboolean            listing_routes;
  gint64              last_idle_check;
  MnManagerCounters   counters;
  /* issue 20: write before acting */
  GHashTable         *stored;      /* id -> MnSession*: each live session as last stored */
  GHashTable         *pending;     /* id -> PendingFinish*: an end the store refused, retried */
  GHashTable         *unsaved_jobs; /* id -> job id: submitted, the id not stored yet */
  GHashTable         *cancel_on_finish; /* id: cancel its job once its end is stored */
  MnLogLimit         *log;         /* repeated failures: once, then counted */
  gchar              *store_error; /* the last change the store refused (NULL: none since) */
  gint64              store_error_at;  /* Unix s */
  guint64             store_refusals;
  GPtrArray          *reconcile;   /* strings: what the last start found amiss */
  gboolean            refill_needed; /* the policy admitted what the store did not take */
  /* issue 14: group commit (mn-controller-commit.c) */
  GHashTable         *batch;       /* id -> MnSession*: as written in the store's batch */
  guint               commit_source; /* commits the batch at the end of this iteration */
  GHashTable         *unborn;      /* id -> MnSession*: launched, its row in the batch */
  GHashTable         *waiters;     /* id -> Waiter*: whom to tell when its row is stored */
  GPtrArray          *births;      /* Birth*: rows whose batch ended, to start or drop */
  guint               births_source;
  /* node availability (mn-controller-nodes.c): per policy node, NULL while
   * available, else the scheduler's name and words ("interactive2: drained") */
  GPtrArray          *unavailable;
  gint64              nodes_asked;  /* the manager's clock (s), 0: never */
  /* issue 14: start slots and readiness rechecks (mn-controller-starts.c) */
  guint               start_slots;  /* jobs starting at once on this host; 0: no limit */
  guint               start_next_source;
  GHashTable         *rechecks;     /* id -> Recheck*: the next look at a starting job */
};

/* A session's end that could not be stored: retried with back-off until it
 * is (the session stays as stored meanwhile, and is shown in the faults). */
struct _PendingFinish {
  MnSessionState state;
  MnEndReason    end;
  gchar         *reason;
  guint          attempts;
  gint64         next_try;   /* monotonic µs */
  gint64         delay;      /* µs */
  gchar         *error;
};

/* An asynchronous call about one session: holds a manager reference; freeing
 * it clears the session's busy mark. */
typedef struct {
  MnControllerManager *self;
  gchar               *id;
} CallData;

/* mn-controller-manager.c */
void      mn_manager_track (MnControllerManager *self, MnSession *s);
void      mn_manager_untrack (MnControllerManager *self, MnSession *s);   /* frees @s */
/* Write @s with an event; FALSE (logged, rate-limited) if the store
 * refused, and then @s is back as it was stored (the change is undone in
 * memory) and the caller must not act on it. */
gboolean  mn_manager_save (MnControllerManager *self, MnSession *s, const gchar *event);
/* The same, with the store's error for the caller to answer (507/503). */
gboolean  mn_manager_save_or_error (MnControllerManager *self, MnSession *s,
                                    const gchar *event, GError **error);
/* What the store refused (@error): counted, logged, and @s is back as it
 * was last written. */
void      mn_manager_save_refused (MnControllerManager *self, MnSession *s, const gchar *event,
                                   const GError *error);
/* MINNA_FAULT_POINT=@name in the environment: the controller kills itself
 * (SIGKILL) here, or with MINNA_FAULT_ACTION=stop stops itself (SIGSTOP,
 * the first time only) until the test sends SIGCONT; for the faults suite
 * (tests/faults/README.md lists the points); nothing when unset. */
void      mn_manager_fault_point (const gchar *name);
void      mn_manager_set_reason (MnSession *s, const gchar *reason);
gchar    *mn_manager_random_hex (gsize bytes);
CallData *mn_manager_call_new (MnControllerManager *self, const gchar *id);
void      mn_manager_call_free (CallData *c);
/* Runs @work (@data) in one of the manager's own worker threads, then @done
 * (@data) on the manager's main context, then @free (@data).  Not GTask's
 * shared pool: that one also runs GIO's own asynchronous work (the proxy
 * and address lookups of every readiness probe), and a lecture's hundred
 * submissions queued there held every probe until the last was done. */
typedef void (*MnWorkFunc) (gpointer data);
void      mn_manager_run_in_worker (MnControllerManager *self, MnWorkFunc work, MnWorkFunc done,
                                    gpointer data, GDestroyNotify free_func);
/* The same for the status poll, in a lane (thread) of its own: a poll
 * queued behind a lecture's submissions in the workers' pool saw jobs
 * running 5-30 s late on Grid Engine, and a job that ended meanwhile
 * was taken for an app that died before it answered.  One poll runs at
 * a time (self->polling), so one thread is enough. */
void      mn_manager_run_poll (MnControllerManager *self, MnWorkFunc work, MnWorkFunc done,
                               gpointer data, GDestroyNotify free_func);
/* A poll round soon (50 ms), once the timer runs. */
void      mn_manager_kick (MnControllerManager *self);
gint      mn_manager_by_num (gconstpointer a, gconstpointer b);

/* mn-controller-commit.c: group commit (issue 14) */
void      mn_manager_commit_init (MnControllerManager *self);
void      mn_manager_commit_clear (MnControllerManager *self);
/* Writes @s with an event into the store's batch, committed at the end
 * of this main-loop iteration or by the next commit, whichever is first:
 * for changes nothing outside the process acts on before that commit.
 * FALSE as mn_manager_save; a batch the store refuses at its commit
 * restores its sessions as stored. */
gboolean  mn_manager_save_later (MnControllerManager *self, MnSession *s, const gchar *event);
/* Before acting on session @id outside the process: commits the batch if
 * it holds a change of @id.  FALSE: the store refused it (@id is back as
 * stored; do not act). */
gboolean  mn_manager_settle (MnControllerManager *self, const gchar *id);
/* The session as last written: in the batch, else as stored. */
const MnSession *mn_manager_last_written (MnControllerManager *self, const gchar *id);
/* A session launched into the batch (mn_controller_manager_launch_later):
 * started once its row is committed, dropped (its slot released) if the
 * commit is refused. */
void      mn_manager_unborn_add (MnControllerManager *self, MnSession *s);
/* The batch is committed at the end of this main-loop iteration. */
void      mn_manager_commit_soon (MnControllerManager *self);

/* mn-controller-admit.c */
gboolean  mn_manager_is_interactive (const MnSession *s);
void      mn_manager_fill_request (const MnSession *s, MnPolicyRequest *r);
/* The session is over (@end: why, as a code; @reason: in words): store,
 * release its slot, start whom that admits. */
void      mn_manager_finish (MnControllerManager *self, MnSession *s, MnSessionState state,
                             MnEndReason end, const gchar *reason);
/* The same, but a refusal of the store is the caller's (returned, nothing
 * changed, no retry): a user's stop. */
gboolean  mn_manager_try_finish (MnControllerManager *self, MnSession *s, MnSessionState state,
                                 MnEndReason end, const gchar *reason, GError **error);

/* The START decisions the policy made on its own (a release, a node back):
 * each waiting session is stored as admitted and its job submitted; @started
 * (MnDecision) is emptied. */
void      mn_manager_start_admitted (MnControllerManager *self, GArray *started);

/* mn-controller-nodes.c: node availability from the backend (issue 14) */
/* Whether this poll round should ask the backend's node states. */
gboolean  mn_manager_nodes_due (MnControllerManager *self);
/* The backend's answer (@states NULL: it failed with @error): hands each
 * change to the policy (logged once), starts whom a node's return admits. */
void      mn_manager_nodes_apply (MnControllerManager *self, GPtrArray *states,
                                  const GError *error);
/* Asks the backend now, in this thread (it blocks): at a start, before the
 * queued sessions are placed again. */
void      mn_manager_nodes_refresh (MnControllerManager *self);
/* A new policy state: the unavailable nodes it must know of. */
void      mn_manager_nodes_reapply (MnControllerManager *self);

/* mn-controller-faults.c */
void      mn_manager_pending_free (PendingFinish *p);
/* Retries the ends the store refused whose time has come. */
void      mn_manager_retry_pending (MnControllerManager *self);
/* Whether @s waits for its end to be stored (polls leave it alone). */
gboolean  mn_manager_is_pending (MnControllerManager *self, const MnSession *s);
void      mn_manager_refill_policy (MnControllerManager *self, GPtrArray *sessions,
                                    gboolean start_admitted);

/* mn-controller-jobs.c */
gchar    *mn_manager_output_tail (MnControllerManager *self, const MnSession *s);
void      mn_manager_start_job (MnControllerManager *self, MnSession *s);

/* mn-controller-starts.c */
void      mn_manager_starts_init (MnControllerManager *self);
void      mn_manager_starts_clear (MnControllerManager *self);
guint     mn_manager_n_starting (MnControllerManager *self);
/* admitted, not submitted, nothing in flight for it: start_job's to do */
gboolean  mn_manager_awaits_submit (MnControllerManager *self, const MnSession *s);
/* the order sessions are submitted in: the policy's start of the job
 * (interactive), else the session's creation */
gint64    mn_manager_start_key (MnControllerManager *self, const MnSession *s);
/* FALSE (and the session's reason says why) while every start slot is taken */
gboolean  mn_manager_may_start (MnControllerManager *self, MnSession *s);
/* soon, in launch order, the admitted sessions that wait for a start slot */
void      mn_manager_start_next (MnControllerManager *self);
void      mn_manager_recheck_later (MnControllerManager *self, MnSession *s);
void      mn_manager_starts_forget (MnControllerManager *self, const gchar *id);
void      mn_manager_cancel_job (MnControllerManager *self, const gchar *id, const gchar *job_id);
/* Stores @job_id (submitted earlier; the store refused it then) again. */
void      mn_manager_submitted_again (MnControllerManager *self, MnSession *s,
                                      const gchar *job_id);

/* mn-controller-routes.c */
void      mn_manager_node_addrs_free (NodeAddrs *n);
gboolean  mn_manager_read_connection (MnControllerManager *self, MnSession *s);
void      mn_manager_probe_app (MnControllerManager *self, MnSession *s);
void      mn_manager_register_route (MnControllerManager *self, MnSession *s);
void      mn_manager_refresh_route (MnControllerManager *self, MnSession *s);
void      mn_manager_delete_route (MnControllerManager *self, const gchar *id);

/* mn-controller-idle.c */
void      mn_manager_check_idle (MnControllerManager *self, gint64 now);
void      mn_manager_idle_state_free (IdleState *st);

G_END_DECLS
