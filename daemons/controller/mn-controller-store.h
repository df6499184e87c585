/* mn-controller-store.h: controller state in one SQLite file (WAL).
 *
 * Schema version in PRAGMA user_version; mn_controller_store_open() applies
 * the migrations from the current version up, each in a transaction. */
#pragma once

#include <glib.h>
#include "mn-controller-session.h"

G_BEGIN_DECLS

typedef struct _MnControllerStore MnControllerStore;

typedef struct {
  gint64  time;
  gchar  *state;
  gchar  *message;
} MnStoreEvent;

#define MN_CONTROLLER_STORE_SCHEMA_VERSION 5
/* PRAGMA application_id of minna's database ("mnna"): a file with another
 * id is some other program's and is refused. */
#define MN_CONTROLLER_STORE_APPLICATION_ID 0x6d6e6e61

typedef enum {
  MN_STORE_OPEN_CREATE   = 1 << 0,  /* a missing, 0-byte or table-less file becomes a new
                                     * database; without it they are refused
                                     * (MN_CONTROLLER_ERROR_STORE_MISSING) */
  MN_STORE_OPEN_NO_CHECK = 1 << 1,  /* skip PRAGMA quick_check (reads every page) */
  MN_STORE_OPEN_NO_MIGRATE = 1 << 2, /* `check`: an older schema is read as it is */
  /* every commit on the disk before it returns (PRAGMA synchronous=FULL):
   * the daemon's, which acknowledges what it stored; without it (tests of
   * the logic) the last commits may be lost with the device or the power */
  MN_STORE_OPEN_DURABLE = 1 << 3,
} MnStoreOpenFlags;

/* Opens minna's database at @path, refusing (the error names the file and
 * what is wrong): a missing or empty file without MN_STORE_OPEN_CREATE
 * (..._STORE_MISSING), another program's file or a newer schema
 * (..._STORE_FOREIGN), a damaged one (..._STORE_DAMAGED), a read-only one
 * (..._STORE_UNAVAILABLE).  Then applies the migrations. */
MnControllerStore *mn_controller_store_open_full (const gchar *path, MnStoreOpenFlags flags,
                                                  GError **error);
/* mn_controller_store_open_full (path, MN_STORE_OPEN_CREATE, error) */
MnControllerStore *mn_controller_store_open (const gchar *path, GError **error);
/* Whether this open made the schema (the file was missing or empty). */
gboolean           mn_controller_store_was_created (MnControllerStore *store);
const gchar       *mn_controller_store_get_path (MnControllerStore *store);
/* A consistent copy of the whole database in @dest (mode 0600; written
 * beside it and renamed, so @dest is never half a file), taken with
 * SQLite's online backup while the controller runs. */
gboolean           mn_controller_store_backup (MnControllerStore *store, const gchar *dest,
                                               GError **error);
/* Tests: every write refused as by a read-only database (PRAGMA
 * query_only), until called again with FALSE. */
void               mn_controller_store_set_query_only (MnControllerStore *store, gboolean on);
/* Whether @error is one of the store's (SQLite) errors: STORE, STORE_FULL,
 * STORE_UNAVAILABLE.  FULL: the disk is full (HTTP 507); UNAVAILABLE: the
 * database is read-only, locked or failing (503); nothing was stored. */
gboolean           mn_controller_store_error_is_store (const GError *error);
void               mn_controller_store_free (MnControllerStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnControllerStore, mn_controller_store_free)

gint     mn_controller_store_schema_version (MnControllerStore *store);

/* Decides on a new session once its row exists: s->num is set (the policy's
 * job id is the row's number).  Sets the outcome in @s and the first event's
 * text in *@event; FALSE with @error (a refusal) leaves no row. */
typedef gboolean (*MnStoreDecideFunc) (MnSession *s, gchar **event, gpointer data,
                                       GError **error);
/* Inserts @s, lets @decide settle it and writes it with its first event, in
 * one transaction. */
gboolean mn_controller_store_insert (MnControllerStore *store, MnSession *s,
                                     gint64 now, MnStoreDecideFunc decide,
                                     gpointer data, GError **error);
/* The same, into the batch (see mn_controller_store_update_later): the row
 * is stored once the batch is committed. */
gboolean mn_controller_store_insert_later (MnControllerStore *store, MnSession *s,
                                           gint64 now, MnStoreDecideFunc decide,
                                           gpointer data, GError **error);
/* Writes every field of @s and appends an event, in one transaction. */
gboolean mn_controller_store_update (MnControllerStore *store, const MnSession *s,
                                     gint64 now, const gchar *event,
                                     GError **error);
/* Group commit (issue 14).  A durable commit waits for the disk (fsync,
 * milliseconds), and a hundred launches at once made hundreds of them one
 * after another on the main loop.  A change that nothing outside the
 * process depends on yet can wait for the next commit instead:
 * mn_controller_store_update_later() writes it into an open transaction
 * (the batch), mn_controller_store_commit_batch() commits the whole batch
 * with one fsync.  Any other write commits the batch with it (a write of
 * one statement commits the batch first).  Whoever acts on a change made
 * later (answers a client, submits, cancels) commits the batch first. */
typedef void (*MnStoreBatchFunc) (gboolean committed, const GError *error, gpointer data);
/* @func hears how each batch ended: committed, or lost (@error: why; then
 * none of its changes is stored). */
void     mn_controller_store_set_batch_func (MnControllerStore *store, MnStoreBatchFunc func,
                                             gpointer data);
/* Writes every field of @s and appends an event, in the batch (opened
 * if none is); FALSE: this change was not written (the batch may be lost
 * too, which the batch func hears). */
gboolean mn_controller_store_update_later (MnControllerStore *store, const MnSession *s,
                                           gint64 now, const gchar *event, GError **error);
/* Commits the batch, if one is open (TRUE if none). */
gboolean mn_controller_store_commit_batch (MnControllerStore *store, GError **error);
gboolean mn_controller_store_in_batch (MnControllerStore *store);

/* Who is told of committed changes: @func (@user, @data) once per user
 * whose session rows a transaction wrote (inserted, updated, hidden), after
 * its commit, never for one rolled back.  It is called inside the store's
 * call that committed: it must not use the store (note the user and act
 * later).  The API's waiting session lists (mn-controller-api-wait.c). */
typedef void (*MnStoreChangedFunc) (const gchar *user, gpointer data);
void     mn_controller_store_set_changed_func (MnControllerStore *store, MnStoreChangedFunc func,
                                               gpointer data);

/* @user NULL: everyone.  @live_only: not ended/failed.  Oldest first. */
GPtrArray *mn_controller_store_list (MnControllerStore *store, const gchar *user,
                                     gboolean live_only, GError **error);
MnSession *mn_controller_store_get (MnControllerStore *store, const gchar *id,
                                    GError **error);
GPtrArray *mn_controller_store_events (MnControllerStore *store, const gchar *id,
                                       GError **error);
void       mn_store_event_free (MnStoreEvent *e);

gboolean mn_controller_store_save_form (MnControllerStore *store, const gchar *user,
                                        const gchar *json, gint64 now, GError **error);
/* The same, into the batch (see mn_controller_store_update_later): a form's
 * last values are a convenience, not something a client was promised. */
gboolean mn_controller_store_save_form_later (MnControllerStore *store, const gchar *user,
                                              const gchar *json, gint64 now, GError **error);
gchar   *mn_controller_store_load_form (MnControllerStore *store, const gchar *user);

/* Launches (sessions created) in [from, to) by UTC hour of day and weekday
 * (0 = Monday). */
gboolean mn_controller_store_usage (MnControllerStore *store, gint64 from, gint64 to,
                                    guint64 by_hour[24], guint64 by_weekday[7],
                                    guint64 *total, GError **error);

/* Logins (issue 15): a login cookie (mn-auth-cookie.h) names a row here;
 * it is good while the row exists, is not revoked and has not expired.
 * Rows stay after expiry for a day (see prune), revoked ones too: a
 * logout survives every restart. */
typedef struct {
  gchar  *id;
  gchar  *user;
  gint64  created;
  gint64  expires;
  gint64  revoked;    /* 0: not revoked */
} MnStoreLogin;

void          mn_store_login_free (MnStoreLogin *login);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnStoreLogin, mn_store_login_free)
gboolean      mn_controller_store_login_insert (MnControllerStore *store, const gchar *id,
                                                const gchar *user, gint64 created,
                                                gint64 expires, const gchar *address,
                                                GError **error);
/* NULL with MN_CONTROLLER_ERROR_NOT_FOUND when there is no such login. */
MnStoreLogin *mn_controller_store_login_get (MnControllerStore *store, const gchar *id,
                                             GError **error);
gboolean      mn_controller_store_login_revoke (MnControllerStore *store, const gchar *id,
                                                gint64 now, GError **error);
/* Not revoked, not expired at @now; oldest first. */
GPtrArray    *mn_controller_store_logins_live (MnControllerStore *store, gint64 now,
                                               GError **error);
/* Deletes logins that expired before @before; how many, or -1. */
gint          mn_controller_store_logins_prune (MnControllerStore *store, gint64 before,
                                                GError **error);

/* The SQLite handle, for queries kept in their own files
 * (mn-controller-store-admin.c); calls on it are serialized by SQLite
 * (SQLITE_OPEN_FULLMUTEX). */
struct sqlite3 *mn_controller_store_get_db (MnControllerStore *store);

G_END_DECLS
