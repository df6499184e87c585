/* mn-controller-manager.h: sessions from launch request to ended.
 *
 * Owns the policy state (interactive.q admission and placement), drives the
 * session state machine from backend polls, probes apps, registers routes.
 * Every state change is written to the store before anything is done about
 * it, so that a controller killed at any point resumes from the store. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "mn-policy.h"
#include "mn-controller-app.h"
#include "mn-controller-backend.h"
#include "mn-controller-config.h"
#include "mn-controller-relay.h"
#include "mn-controller-session.h"
#include "mn-controller-store.h"

G_BEGIN_DECLS

typedef struct _MnControllerManager MnControllerManager;

typedef gint64 (*MnClockFunc) (gpointer user_data);   /* Unix seconds */
/* Asks whether the app at @url answers; must call @done exactly once. */
typedef void (*MnProbeFunc) (const MnSession *session, const gchar *url,
                             MnHttpDone done, gpointer done_data, gpointer user_data);
/* Lists the relay's routes (GET /routes) for idle culling; must call @done
 * exactly once, with the relay's JSON. */
typedef void (*MnRouteListFunc) (MnHttpDone done, gpointer done_data, gpointer user_data);

typedef struct {
  const gchar *app;
  const gchar *queue;      /* "interactive" or "batch"; NULL: interactive */
  guint        cores;
  guint64      memory_mb;
  guint        gpus;
  gint64       walltime;   /* s */
  const gchar *if_busy;    /* "wait" or "give_up"; NULL: the policy's [queue] if_busy */
  const gchar *form;       /* the app's own fields' values, JSON object text (NULL none) */
} MnLaunchRequest;

/* The one spelling of if_busy values, the policy's ("wait", "give_up"), for
 * the API, the portal and the store alike. */
const gchar *mn_controller_if_busy_to_string (MnIfBusy if_busy);
gboolean     mn_controller_if_busy_from_string (const gchar *text, MnIfBusy *out);

/* Takes ownership of @store, @backend, @relay and @apps. */
MnControllerManager *mn_controller_manager_new (const MnControllerConfig *config,
                                                const MnPolicyConfig     *policy,
                                                MnControllerStore        *store,
                                                MnBackend                *backend,
                                                MnControllerRelay        *relay,
                                                GPtrArray                *apps);
MnControllerManager *mn_controller_manager_ref (MnControllerManager *self);
void                 mn_controller_manager_unref (MnControllerManager *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnControllerManager, mn_controller_manager_unref)

void mn_controller_manager_set_clock (MnControllerManager *self, MnClockFunc clock,
                                      gpointer user_data);
void mn_controller_manager_set_prober (MnControllerManager *self, MnProbeFunc probe,
                                       gpointer user_data);
/* Tests: a fake relay's route listing, which idle culling then asks even
 * though the manager's relay has no URL (NULL: the relay's, when it has). */
void mn_controller_manager_set_route_lister (MnControllerManager *self, MnRouteListFunc list,
                                             gpointer user_data);

/* Loads live sessions from the store, puts them back into the policy state,
 * submits what was admitted but not submitted, re-registers routes. */
gboolean mn_controller_manager_recover (MnControllerManager *self, GError **error);
/* The store against what @backend has now (issue 20; the scheduler's
 * queue, the local backend's job records and cgroups): a line per
 * difference appended to @lines (mn-controller-reconcile.h: a session
 * whose job is gone, a job whose session is over, a job the database does
 * not know, a leftover cgroup); with @act, a job whose session is over in
 * the database is cancelled and an empty leftover removed.  Returns the
 * number of differences, -1 with @error when the store cannot be read. */
gint     mn_controller_reconcile (MnControllerStore *store, MnBackend *backend, gboolean act,
                                  GPtrArray *lines, GError **error);
/* The same; @findings_out (if not NULL) gets the MnReconcileFinding*
 * (mn-controller-reconcile.h), NULL when the backend could not list. */
gint     mn_controller_reconcile_full (MnControllerStore *store, MnBackend *backend, gboolean act,
                                       GPtrArray *lines, GPtrArray **findings_out, GError **error);
/* The policy (@policy, NULL: the current one) against what the backend can
 * do on its host (the local backend: [node] cores, memory, swap, GPUs,
 * [queue] nodes; limits the kernel cannot set).  Each mismatch is logged,
 * naming the keys; with [backend] host_fit = refuse they are an error. */
gboolean mn_controller_manager_check_host (MnControllerManager *self,
                                           const MnPolicyConfig *policy, GError **error);
/* Poll timer on the thread-default main context. */
void     mn_controller_manager_start (MnControllerManager *self);
/* One poll round (the timer calls this). */
void     mn_controller_manager_tick (MnControllerManager *self);
/* Commits the changes that wait for their commit (group commit, issue 14;
 * mn-controller-commit.c).  The API calls it before it answers: what a
 * client reads is stored.  FALSE: the store refused them (they are undone
 * in memory, logged, shown in the faults). */
gboolean mn_controller_manager_flush (MnControllerManager *self);
/* The same, if a session's change waits (not only a form's values), or
 * with @launches a launch's row (mn_controller_manager_launch_later). */
gboolean mn_controller_manager_flush_sessions (MnControllerManager *self, gboolean launches);
/* Stores @user's last form values (@json) with the next commit; a refusal
 * is logged (the form shows its defaults then). */
void     mn_controller_manager_save_form (MnControllerManager *self, const gchar *user,
                                          const gchar *json);

/* Returns the new session (queued or starting), or NULL with
 * MN_CONTROLLER_ERROR_REFUSED (message: the policy's text; *@reason set),
 * MN_CONTROLLER_ERROR_NOT_ALLOWED (queue = batch where [backend] batch does
 * not take it), MN_CONTROLLER_ERROR_INVALID, or a store/backend error.  The
 * policy's job id is the session's row number. */
MnSession *mn_controller_manager_launch (MnControllerManager *self, const gchar *user,
                                         const MnLaunchRequest *request,
                                         MnRejectReason *reason, GError **error);
/* The same, but the row is stored with the next commit of the batch (group
 * commit, issue 14: a lecture's launches share one fsync), and the session
 * is started after it.  The caller answers only in @func, called once the
 * commit is done: @committed FALSE with @error (the store refused the
 * batch; the session is gone, nothing was started).  A refusal by the
 * policy and the other errors come at once, as from ..._launch. */
typedef void (*MnStoredFunc) (gboolean committed, const GError *error, gpointer data);
MnSession *mn_controller_manager_launch_later (MnControllerManager *self, const gchar *user,
                                               const MnLaunchRequest *request,
                                               MnRejectReason *reason, GError **error);
void       mn_controller_manager_when_stored (MnControllerManager *self, const gchar *id,
                                              MnStoredFunc func, gpointer data);
/* Ends session @id; @end says why (MN_END_USER, MN_END_IDLE, MN_END_ADMIN),
 * @why in words for its user. */
gboolean   mn_controller_manager_stop (MnControllerManager *self, const gchar *id,
                                       MnEndReason end, const gchar *why, GError **error);
/* Extend (mn-controller-extend.c): session @id's walltime grown by the
 * policy's [job] extend_step up to its limit, applied by the backend, then
 * recorded.  @done gets the session (borrowed; NULL on error) or why not:
 * MN_CONTROLLER_ERROR_REFUSED (the policy, or a session that is not
 * running), _BACKEND (the scheduler said no: its words), _STORE.  It may be
 * called before this returns (backends whose commands do not block). */
typedef void (*MnExtendDone) (const MnSession *session, const GError *error, gpointer data);
void       mn_controller_manager_extend (MnControllerManager *self, const gchar *id,
                                         MnExtendDone done, gpointer data);
/* 3600 -> "1 h", 5400 -> "1 h 30 min", 900 -> "15 min" */
gchar     *mn_controller_format_hours (gint64 seconds);
/* Whether requests with queue = batch are taken ([backend] batch). */
gboolean   mn_controller_manager_batch_allowed (MnControllerManager *self);

MnSession *mn_controller_manager_get (MnControllerManager *self, const gchar *id,
                                      GError **error);
/* Live sessions (user NULL: all), oldest first; copies. */
GPtrArray *mn_controller_manager_list_live (MnControllerManager *self, const gchar *user);

MnControllerStore    *mn_controller_manager_get_store (MnControllerManager *self);
MnPolicyState        *mn_controller_manager_get_policy (MnControllerManager *self);
const GPtrArray      *mn_controller_manager_get_apps (MnControllerManager *self);
const MnApp          *mn_controller_manager_find_app (MnControllerManager *self, const gchar *id);
MnBackend            *mn_controller_manager_get_backend (MnControllerManager *self);
gint64                mn_controller_manager_now (MnControllerManager *self);
gchar                *mn_controller_manager_session_dir (MnControllerManager *self,
                                                         const gchar *id);
/* Why policy node @node takes no new session ("interactive2: drained", the
 * scheduler's name and words), NULL while it is available (or the backend
 * does not report node states). */
const gchar          *mn_controller_manager_node_unavailable (MnControllerManager *self,
                                                              guint node);
/* Replaces the policy (SIGHUP); live sessions are carried over.  Call
 * mn_controller_manager_check_host() on it first. */
void                  mn_controller_manager_set_policy (MnControllerManager *self,
                                                        const MnPolicyConfig *policy);
/* Replaces the apps (SIGHUP: the apps directory read again); takes @apps.
 * Sessions of an app that is gone keep running; submissions in flight hold
 * their own reference. */
void                  mn_controller_manager_set_apps (MnControllerManager *self,
                                                      GPtrArray *apps);
/* Estimated start (Unix s) of a queued session, or of a new request when
 * @session is NULL. */
gint64                mn_controller_manager_estimate_start (MnControllerManager *self,
                                                            const MnSession *session,
                                                            const MnLaunchRequest *request,
                                                            const gchar *user);
/* When a waiting session should start (Unix s), G_MAXINT64 when nobody can
 * say or it does not wait: for one queued by the policy, the policy's
 * estimate (@source "policy"); for one whose job waits in the scheduler's
 * queue (admitted by the policy, but jobs from outside minna fill it), the
 * scheduler's own (Slurm's backfill; @source "scheduler") when it has one:
 * the policy cannot see those jobs. */
gint64                mn_controller_manager_session_estimate (MnControllerManager *self,
                                                              const MnSession *session,
                                                              const gchar **source);

typedef struct {
  guint64 launches;
  guint64 refused;
  guint64 refused_by_reason[MN_REJECT_MALFORMED + 1];
  guint64 polls;
  guint64 poll_errors;
  guint64 ready;
  guint64 failed;
} MnManagerCounters;

const MnManagerCounters *mn_controller_manager_get_counters (MnControllerManager *self);

/* Issue 20, for admins (GET /api/v1/faults, the admin page): the store's
 * state ("ok", "last_error", "refusals"), the ends it refused that are
 * being retried ("pending": session, stored_state, state, reason,
 * attempts, next_try_ms, error), submitted jobs whose id it has not
 * taken yet ("unsaved_jobs"), and what the last start found amiss
 * between the database and what runs ("reconcile", lines). */
JsonNode *mn_controller_manager_faults (MnControllerManager *self);
void      mn_controller_manager_add_reconcile (MnControllerManager *self, const gchar *line);
/* Tests: the retry of ends the store refused (the poll timer's). */
void      mn_manager_retry_pending_for_tests (MnControllerManager *self);

G_END_DECLS
