/* mn-controller-store.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-store.h"
#include "mn-controller-store-checkpoint.h"
#include "mn-controller-config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

struct _MnControllerStore {
  sqlite3 *db;
  gchar   *path;
  gboolean created;    /* the file was new or empty: this open made the schema */
  /* group commit (issue 14): a transaction of writes that wait for one
   * commit (mn_controller_store_update_later); the callback hears how
   * every such transaction ended */
  gboolean         batch;
  MnStoreBatchFunc batch_func;
  gpointer         batch_data;
  MnStoreCheckpointer *checkpointer;   /* the daemon's: checkpoints in a thread */
  GHashTable *stmts;   /* SQL text -> its statement, prepared once (stmt_get) */
  /* whose sessions the open transaction changed (user names), told to
   * changed_func once it is committed */
  GHashTable        *touched;
  MnStoreChangedFunc changed_func;
  gpointer           changed_data;
};

/* Migration N takes the schema from version N to N+1.  Never edit one that
 * has shipped; append. */
static const gchar *const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE sessions ("
  "  num INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  id TEXT NOT NULL UNIQUE, user TEXT NOT NULL, app TEXT NOT NULL,"
  "  queue TEXT NOT NULL, cores INTEGER NOT NULL, memory_mb INTEGER NOT NULL,"
  "  gpus INTEGER NOT NULL, walltime INTEGER NOT NULL, give_up INTEGER NOT NULL,"
  "  state TEXT NOT NULL, prev_state TEXT, reason TEXT,"
  "  created INTEGER NOT NULL, submitted INTEGER, started INTEGER, ended INTEGER,"
  "  job_id TEXT, host TEXT, port INTEGER, node INTEGER, logical INTEGER,"
  "  token TEXT);"
  "CREATE INDEX sessions_user ON sessions (user);"
  "CREATE INDEX sessions_state ON sessions (state);"
  "CREATE INDEX sessions_created ON sessions (created);"
  "CREATE TABLE events ("
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL,"
  "  time INTEGER NOT NULL, state TEXT NOT NULL, message TEXT);"
  "CREATE INDEX events_session ON events (session);"
  "CREATE TABLE form_values (user TEXT PRIMARY KEY, json TEXT NOT NULL,"
  "  updated INTEGER NOT NULL);",
  /* 1 -> 2: stop requests and idle warnings must survive a restart */
  "ALTER TABLE sessions ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE sessions ADD COLUMN idle_warned INTEGER NOT NULL DEFAULT 0;",
  /* 2 -> 3: the policy's model (issue 14): GPU memory asked, the GPUs given,
   * the walltime counted from the job's start, how a session ended as a code */
  "ALTER TABLE sessions ADD COLUMN gpu_memory_mb INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE sessions ADD COLUMN gpu_mask INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE sessions ADD COLUMN job_started INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE sessions ADD COLUMN end_reason TEXT;",
  /* 3 -> 4: logins are server-side state (issue 15): a logout ends the
   * login at the controller and the relay, and survives restarts */
  "CREATE TABLE logins (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
  "  created INTEGER NOT NULL, expires INTEGER NOT NULL, revoked INTEGER,"
  "  address TEXT);"
  "CREATE INDEX logins_expires ON logins (expires);",
  /* 4 -> 5: issue 18: the values of an app's own form fields, cards the
   * user removed (the row stays), walltime added by Extend */
  "ALTER TABLE sessions ADD COLUMN form TEXT;"
  "ALTER TABLE sessions ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE sessions ADD COLUMN extended INTEGER NOT NULL DEFAULT 0;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == MN_CONTROLLER_STORE_SCHEMA_VERSION);

/* SQLite's result as the controller's code: what a caller answers (507 for
 * a full disk, 503 while the database cannot be written) depends on it. */
static gint
error_code (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      return MN_CONTROLLER_ERROR_STORE_FULL;
    case SQLITE_READONLY:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
      return MN_CONTROLLER_ERROR_STORE_UNAVAILABLE;
    default:
      return MN_CONTROLLER_ERROR_STORE;
    }
}

/* "disk I/O error" alone does not say that the file system went read-only
 * (EROFS) or the device failed (EIO): the system's error, where SQLite
 * has one, does. */
static gchar *
os_error (MnControllerStore *store, int rc)
{
  int os_errno = sqlite3_system_errno (store->db);
  switch (rc & 0xff)
    {
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_FULL:
      if (os_errno != 0)
        return g_strdup_printf (" (%s)", g_strerror (os_errno));
      {
        /* SQLite kept no errno (it reads errno after the fact): a write
         * beside the database says what the file system does now */
        g_autofree gchar *probe = g_strconcat (store->path, "-probe", NULL);
        int fd = open (probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int saved = errno;
        if (fd >= 0)
          {
            close (fd);
            unlink (probe);
            return g_strdup ("");
          }
        return g_strdup_printf (" (%s)", g_strerror (saved));
      }
    default:
      return g_strdup ("");
    }
}

static gboolean
fail (MnControllerStore *store, const gchar *what, GError **error)
{
  g_autofree gchar *path = g_filename_display_name (store->path);
  int rc = sqlite3_extended_errcode (store->db);
  g_autofree gchar *os = os_error (store, rc);
  g_set_error (error, MN_CONTROLLER_ERROR, error_code (rc), "%s: %s: %s%s", path, what,
               sqlite3_errmsg (store->db), os);
  return FALSE;
}

static gboolean
exec (MnControllerStore *store, const gchar *sql, GError **error)
{
  char *msg = NULL;
  int rc = sqlite3_exec (store->db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    {
      g_autofree gchar *path = g_filename_display_name (store->path);
      g_autofree gchar *os = os_error (store, sqlite3_extended_errcode (store->db));
      g_set_error (error, MN_CONTROLLER_ERROR, error_code (rc),
                   "%s: %s%s", path, msg ? msg : sqlite3_errstr (rc), os);
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

/* ---- group commit ------------------------------------------------------------ */

/* A session row of @user was written in the open transaction. */
static void
touch (MnControllerStore *store, const gchar *user)
{
  if (store->changed_func == NULL)
    return;
  if (store->touched == NULL)
    store->touched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (store->touched, g_strdup (user));
}

/* The open transaction is over: its changes are told if it was committed,
 * forgotten if not.  (A write rolled back to its savepoint inside a batch
 * stays touched: one needless wake-up, never a missed one.) */
static void
touched_end (MnControllerStore *store, gboolean committed)
{
  g_autoptr(GHashTable) touched = g_steal_pointer (&store->touched);
  GHashTableIter it;
  gpointer user;
  if (touched == NULL || !committed || store->changed_func == NULL)
    return;
  g_hash_table_iter_init (&it, touched);
  while (g_hash_table_iter_next (&it, &user, NULL))
    store->changed_func (user, store->changed_data);
}

void
mn_controller_store_set_changed_func (MnControllerStore *store, MnStoreChangedFunc func,
                                      gpointer data)
{
  store->changed_func = func;
  store->changed_data = data;
  g_clear_pointer (&store->touched, g_hash_table_unref);
}

/* The open batch is over (committed or lost): its writers hear it. */
static void
batch_ended (MnControllerStore *store, gboolean committed, const GError *error)
{
  store->batch = FALSE;
  touched_end (store, committed);
  if (store->batch_func != NULL)
    store->batch_func (committed, error, store->batch_data);
}

/* SQLite rolls a whole transaction back on some errors (a full disk, an
 * I/O error): an open batch may be gone after any failed statement. */
static void
batch_check_lost (MnControllerStore *store, const GError *error)
{
  if (store->batch && sqlite3_get_autocommit (store->db))
    batch_ended (store, FALSE, error);
}

gboolean
mn_controller_store_commit_batch (MnControllerStore *store, GError **error)
{
  g_autoptr(GError) local = NULL;
  if (!store->batch)
    return TRUE;
  if (sqlite3_get_autocommit (store->db))
    {
      g_autofree gchar *path = g_filename_display_name (store->path);
      g_set_error (&local, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_UNAVAILABLE,
                   "%s: the transaction was rolled back before its commit", path);
    }
  else if (!exec (store, "COMMIT", &local) && !sqlite3_get_autocommit (store->db))
    exec (store, "ROLLBACK", NULL);
  batch_ended (store, local == NULL, local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

gboolean
mn_controller_store_in_batch (MnControllerStore *store)
{
  return store->batch;
}

void
mn_controller_store_set_batch_func (MnControllerStore *store, MnStoreBatchFunc func,
                                    gpointer data)
{
  store->batch_func = func;
  store->batch_data = data;
}

/* One write of its own: a savepoint inside the open batch (which its
 * commit then commits with it), else a transaction. */
static gboolean
write_begin (MnControllerStore *store, GError **error)
{
  return exec (store, store->batch ? "SAVEPOINT mn_write" : "BEGIN IMMEDIATE", error);
}

static void
write_abort (MnControllerStore *store, const GError *why)
{
  if (!store->batch)
    {
      exec (store, "ROLLBACK", NULL);
      touched_end (store, FALSE);
      return;
    }
  batch_check_lost (store, why);
  if (store->batch)
    {
      exec (store, "ROLLBACK TO mn_write", NULL);
      exec (store, "RELEASE mn_write", NULL);
    }
}

static gboolean
write_commit (MnControllerStore *store, GError **error)
{
  if (!store->batch)
    {
      gboolean ok = exec (store, "COMMIT", error);
      if (!ok && !sqlite3_get_autocommit (store->db))
        exec (store, "ROLLBACK", NULL);
      touched_end (store, ok);
      return ok;
    }
  if (!exec (store, "RELEASE mn_write", error))
    {
      write_abort (store, error ? *error : NULL);
      return FALSE;
    }
  return mn_controller_store_commit_batch (store, error);
}

/* A single statement that commits by itself: the open batch first, so that
 * it does not wait in the batch (its own error stays its own). */
static void
settle_batch (MnControllerStore *store)
{
  mn_controller_store_commit_batch (store, NULL);
}

/* A write into the batch (opened if none is), in a savepoint of its own. */
static gboolean
batch_join (MnControllerStore *store, GError **error)
{
  if (!store->batch)
    {
      if (!exec (store, "BEGIN IMMEDIATE", error))
        return FALSE;
      store->batch = TRUE;
    }
  if (!exec (store, "SAVEPOINT mn_write", error))
    {
      batch_check_lost (store, error ? *error : NULL);
      return FALSE;
    }
  return TRUE;
}

static gboolean
batch_leave (MnControllerStore *store, gboolean ok, GError **error)
{
  if (ok && exec (store, "RELEASE mn_write", error))
    return TRUE;
  write_abort (store, error ? *error : NULL);
  return FALSE;
}

gboolean
mn_controller_store_error_is_store (const GError *error)
{
  return error != NULL && error->domain == MN_CONTROLLER_ERROR &&
         (error->code == MN_CONTROLLER_ERROR_STORE ||
          error->code == MN_CONTROLLER_ERROR_STORE_FULL ||
          error->code == MN_CONTROLLER_ERROR_STORE_UNAVAILABLE);
}

gint
mn_controller_store_schema_version (MnControllerStore *store)
{
  sqlite3_stmt *st = NULL;
  gint v = -1;
  if (sqlite3_prepare_v2 (store->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return v;
}

void
mn_controller_store_free (MnControllerStore *store)
{
  if (store == NULL)
    return;
  /* a batch still open is committed: its writers are gone, none hears it */
  store->batch_func = NULL;
  settle_batch (store);
  mn_store_checkpointer_stop (store->checkpointer, store->db);
  g_clear_pointer (&store->stmts, g_hash_table_unref);   /* before the close: it needs them gone */
  g_clear_pointer (&store->touched, g_hash_table_unref);
  sqlite3_close (store->db);
  g_free (store->path);
  g_free (store);
}

/* What is in the file before anything is written to it: minna's (by
 * application_id, or an older minna's by its schema), empty, or foreign. */
static gboolean
check_identity (MnControllerStore *store, gboolean *empty, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint64 app_id = -1, tables = -1, sessions = 0;
  gint version;
  g_autofree gchar *path = g_filename_display_name (store->path);
  int rc;

  *empty = FALSE;
  rc = sqlite3_prepare_v2 (store->db, "SELECT (SELECT application_id FROM pragma_application_id),"
                           " (SELECT COUNT(*) FROM sqlite_master),"
                           " (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                           "  AND name = 'sessions')", -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      app_id = sqlite3_column_int64 (st, 0);
      tables = sqlite3_column_int64 (st, 1);
      sessions = sqlite3_column_int64 (st, 2);
    }
  sqlite3_finalize (st);
  if (app_id < 0 && (rc & 0xff) == SQLITE_NOTADB)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_FOREIGN,
                   "%s is not a minna database: not an SQLite database at all (or its header"
                   " is damaged)", path);
      return FALSE;
    }
  if (app_id < 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_DAMAGED,
                   "%s is damaged (%s): truncated or overwritten?  Restore it from a backup"
                   " (docs/operations.md)", path, sqlite3_errmsg (store->db));
      return FALSE;
    }
  version = mn_controller_store_schema_version (store);
  if (app_id == MN_CONTROLLER_STORE_APPLICATION_ID)
    return TRUE;
  if (app_id == 0 && tables == 0 && version == 0)
    {
      *empty = TRUE;
      return TRUE;
    }
  /* databases made before the application id was set: minna's schema */
  if (app_id == 0 && version >= 1 && version <= MN_CONTROLLER_STORE_SCHEMA_VERSION && sessions == 1)
    return TRUE;
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_FOREIGN,
               "%s is not a minna database: application_id %" G_GINT64_FORMAT
               " (minna's is %d), schema version %d, %" G_GINT64_FORMAT " objects%s",
               path, app_id, MN_CONTROLLER_STORE_APPLICATION_ID, version, tables,
               sessions ? "" : ", no sessions table");
  return FALSE;
}

static gboolean
check_integrity (MnControllerStore *store, GError **error)
{
  sqlite3_stmt *st = NULL;
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autofree gchar *path = g_filename_display_name (store->path);
  int rc = sqlite3_prepare_v2 (store->db, "PRAGMA quick_check(5)", -1, &st, NULL);
  while (st != NULL && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const gchar *line = (const gchar *) sqlite3_column_text (st, 0);
      if (line != NULL && !g_str_equal (line, "ok"))
        g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", line);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE && rc != SQLITE_OK)
    g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", sqlite3_errmsg (store->db));
  if (problems->len == 0)
    return TRUE;
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_DAMAGED,
               "%s is damaged (PRAGMA quick_check: %s); restore it from a backup"
               " (docs/operations.md)", path, problems->str);
  return FALSE;
}

static gboolean
migrate (MnControllerStore *store, GError **error)
{
  gint version = mn_controller_store_schema_version (store);
  g_autofree gchar *path = g_filename_display_name (store->path);
  if (version > MN_CONTROLLER_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_FOREIGN,
                   "%s: schema version %d is newer than this controller's %d",
                   path, version, MN_CONTROLLER_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  for (gint v = MAX (version, 0); v < MN_CONTROLLER_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree gchar *bump = g_strdup_printf ("PRAGMA user_version=%d;", v + 1);
      if (!exec (store, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (store, migrations[v], error) || !exec (store, bump, error))
        {
          exec (store, "ROLLBACK", NULL);
          g_prefix_error (error, "migration %d -> %d: ", v, v + 1);
          return FALSE;
        }
      if (!exec (store, "COMMIT", error))
        return FALSE;
    }
  /* a file other programs (and `minna-controller check`) can tell apart */
  return exec (store, "PRAGMA application_id=" G_STRINGIFY (MN_CONTROLLER_STORE_APPLICATION_ID),
               error);
}

MnControllerStore *
mn_controller_store_open_full (const gchar *path, MnStoreOpenFlags flags, GError **error)
{
  g_autoptr(MnControllerStore) store = g_new0 (MnControllerStore, 1);
  g_autofree gchar *display = g_filename_display_name (path);
  gboolean may_create = (flags & MN_STORE_OPEN_CREATE) != 0;
  gboolean empty = FALSE;
  GStatBuf sb;
  int rc;

  store->path = g_strdup (path);
  if (g_stat (path, &sb) != 0)
    {
      if (errno != ENOENT)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_UNAVAILABLE,
                       "%s: %s", display, g_strerror (errno));
          return NULL;
        }
      if (!may_create)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_MISSING,
                       "%s does not exist", display);
          return NULL;
        }
    }
  else if (!S_ISREG (sb.st_mode))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_FOREIGN,
                   "%s is not a regular file", display);
      return NULL;
    }
  else if (sb.st_size == 0 && !may_create)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_MISSING,
                   "%s is empty (0 bytes)", display);
      return NULL;
    }
  rc = sqlite3_open_v2 (path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
                        (may_create ? SQLITE_OPEN_CREATE : 0), NULL);
  if (rc != SQLITE_OK)
    {
      fail (store, "cannot open", error);
      return NULL;
    }
  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, 5000);
  if (sqlite3_db_readonly (store->db, "main") == 1)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_UNAVAILABLE,
                   "%s is read-only: the controller must record every change", display);
      return NULL;
    }
  if (!check_identity (store, &empty, error))
    return NULL;
  if (empty && !may_create)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_MISSING,
                   "%s holds no tables (an empty database)", display);
      return NULL;
    }
  if (!empty && (flags & MN_STORE_OPEN_NO_CHECK) == 0 && !check_integrity (store, error))
    return NULL;
  /* durable: each commit is on the disk before it is acknowledged (NORMAL
   * leaves the WAL's last commits in the page cache, lost with the device or
   * the power: acknowledged sessions gone; the faults suite saw it) */
  if (!exec (store, "PRAGMA journal_mode=WAL;", error) ||
      !exec (store, (flags & MN_STORE_OPEN_DURABLE) ? "PRAGMA synchronous=FULL;"
                                                    : "PRAGMA synchronous=NORMAL;", error) ||
      !exec (store, "PRAGMA foreign_keys=ON;", error) ||
      ((flags & MN_STORE_OPEN_NO_MIGRATE) == 0 && !migrate (store, error)))
    {
      g_prefix_error (error, "%s: ", display);
      return NULL;
    }
  if (flags & MN_STORE_OPEN_DURABLE)
    store->checkpointer = mn_store_checkpointer_start (store->db, store->path);
  store->created = empty;
  return g_steal_pointer (&store);
}

MnControllerStore *
mn_controller_store_open (const gchar *path, GError **error)
{
  return mn_controller_store_open_full (path, MN_STORE_OPEN_CREATE, error);
}

void
mn_controller_store_set_query_only (MnControllerStore *store, gboolean on)
{
  exec (store, on ? "PRAGMA query_only=1" : "PRAGMA query_only=0", NULL);
}

gboolean
mn_controller_store_was_created (MnControllerStore *store)
{
  return store->created;
}

const gchar *
mn_controller_store_get_path (MnControllerStore *store)
{
  return store->path;
}

gboolean
mn_controller_store_backup (MnControllerStore *store, const gchar *dest, GError **error)
{
  g_autofree gchar *tmp = g_strconcat (dest, ".partial", NULL);
  g_autofree gchar *display = g_filename_display_name (dest);
  sqlite3 *out = NULL;
  sqlite3_backup *b;
  int rc, fd;

  settle_batch (store);   /* the copy has what was acknowledged */
  /* a file of ours alone, whatever the umask; renamed into place when whole */
  g_unlink (tmp);
  fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE,
                   "%s.partial: %s", display, g_strerror (errno));
      return FALSE;
    }
  close (fd);
  rc = sqlite3_open_v2 (tmp, &out, SQLITE_OPEN_READWRITE, NULL);
  if (rc == SQLITE_OK)
    {
      b = sqlite3_backup_init (out, "main", store->db, "main");
      if (b == NULL)
        rc = sqlite3_errcode (out);
      else
        {
          /* the whole file in one step: the source stays readable (WAL) meanwhile */
          while ((rc = sqlite3_backup_step (b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
            g_usleep (50 * 1000);
          sqlite3_backup_finish (b);
          rc = rc == SQLITE_DONE ? sqlite3_errcode (out) : rc;
        }
    }
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, error_code (rc), "%s: backup: %s", display,
                   out ? sqlite3_errmsg (out) : sqlite3_errstr (rc));
      sqlite3_close (out);
      g_unlink (tmp);
      return FALSE;
    }
  sqlite3_close (out);
  if (g_rename (tmp, dest) != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE,
                   "%s: %s", display, g_strerror (errno));
      g_unlink (tmp);
      return FALSE;
    }
  return TRUE;
}

/* ---- statements, prepared once ------------------------------------------ */

/* The statements the daemon runs over and over are prepared once and kept
 * for the store's life (issue 14: in the launch benchmark, parsing the same
 * SQL again took a tenth of the controller's main thread).  Only the main
 * thread uses them.  Each use ends with stmt_done: the reset ends the
 * statement's read transaction, and dropping the bindings drops the copy
 * of what was bound (a login id, a token). */
static void
stmt_finalize (gpointer st)
{
  sqlite3_finalize (st);
}

static sqlite3_stmt *
stmt_get (MnControllerStore *store, const gchar *sql)
{
  sqlite3_stmt *st;
  if (store->stmts == NULL)
    store->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stmt_finalize);
  st = g_hash_table_lookup (store->stmts, sql);
  if (st == NULL &&
      sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) == SQLITE_OK)
    g_hash_table_insert (store->stmts, g_strdup (sql), st);
  return st;
}

/* After a failed step, sqlite3_reset returns that error again and leaves
 * its message for fail(). */
static void
stmt_done (sqlite3_stmt *st)
{
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
}

static void
bind_text (sqlite3_stmt *st, int i, const gchar *v)
{
  if (v == NULL)
    sqlite3_bind_null (st, i);
  else
    sqlite3_bind_text (st, i, v, -1, SQLITE_TRANSIENT);
}

static gboolean
add_event (MnControllerStore *store, const gchar *id, gint64 now,
           MnSessionState state, const gchar *message, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;
  if ((st = stmt_get (store, "INSERT INTO events (session, time, state, message)"
                             " VALUES (?, ?, ?, ?)")) == NULL)
    return fail (store, "prepare event", error);
  bind_text (st, 1, id);
  sqlite3_bind_int64 (st, 2, now);
  bind_text (st, 3, mn_session_state_to_string (state));
  bind_text (st, 4, message);
  ok = sqlite3_step (st) == SQLITE_DONE;
  stmt_done (st);
  return ok ? TRUE : fail (store, "insert event", error);
}

#define SESSION_COLUMNS \
  "id, user, app, queue, cores, memory_mb, gpus, walltime, give_up, state," \
  " prev_state, reason, created, submitted, started, ended, job_id, host, port," \
  " node, logical, token, stop_requested, idle_warned, gpu_memory_mb, gpu_mask," \
  " job_started, end_reason, form, hidden, extended"
#define SESSION_PARAMS "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?"
#define SESSION_NUM_PARAM "?32"

static void
bind_session (sqlite3_stmt *st, const MnSession *s)
{
  bind_text (st, 1, s->id);
  bind_text (st, 2, s->user);
  bind_text (st, 3, s->app);
  bind_text (st, 4, s->queue);
  sqlite3_bind_int64 (st, 5, s->cores);
  sqlite3_bind_int64 (st, 6, (gint64) s->memory_mb);
  sqlite3_bind_int64 (st, 7, s->gpus);
  sqlite3_bind_int64 (st, 8, s->walltime);
  sqlite3_bind_int (st, 9, s->give_up);
  bind_text (st, 10, mn_session_state_to_string (s->state));
  bind_text (st, 11, mn_session_state_to_string (s->prev_state));
  bind_text (st, 12, s->reason);
  sqlite3_bind_int64 (st, 13, s->created);
  sqlite3_bind_int64 (st, 14, s->submitted);
  sqlite3_bind_int64 (st, 15, s->started);
  sqlite3_bind_int64 (st, 16, s->ended);
  bind_text (st, 17, s->job_id);
  bind_text (st, 18, s->host);
  sqlite3_bind_int64 (st, 19, s->port);
  sqlite3_bind_int64 (st, 20, s->node);
  sqlite3_bind_int64 (st, 21, s->logical);
  bind_text (st, 22, s->token);
  sqlite3_bind_int64 (st, 23, s->stop_requested);
  sqlite3_bind_int64 (st, 24, s->idle_warned);
  sqlite3_bind_int64 (st, 25, (gint64) s->gpu_memory_mb);
  sqlite3_bind_int64 (st, 26, (gint64) s->gpu_mask);
  sqlite3_bind_int64 (st, 27, s->job_started);
  bind_text (st, 28, s->end_reason != MN_END_NONE ? mn_end_reason_to_string (s->end_reason) : NULL);
  bind_text (st, 29, s->form);
  sqlite3_bind_int (st, 30, s->hidden);
  sqlite3_bind_int64 (st, 31, s->extended);
}

static gchar *
col_text (sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text (st, i);
  return t ? g_strdup ((const gchar *) t) : NULL;
}

static MnSession *
read_session (sqlite3_stmt *st)
{
  MnSession *s = mn_session_new ();
  g_autofree gchar *state = NULL, *prev = NULL;
  g_free (s->queue);
  s->num = sqlite3_column_int64 (st, 0);
  s->id = col_text (st, 1);
  s->user = col_text (st, 2);
  s->app = col_text (st, 3);
  s->queue = col_text (st, 4);
  s->cores = sqlite3_column_int (st, 5);
  s->memory_mb = sqlite3_column_int64 (st, 6);
  s->gpus = sqlite3_column_int (st, 7);
  s->walltime = sqlite3_column_int64 (st, 8);
  s->give_up = sqlite3_column_int (st, 9);
  state = col_text (st, 10);
  prev = col_text (st, 11);
  if (!mn_session_state_from_string (state, &s->state))
    s->state = MN_SESSION_UNKNOWN;
  if (!mn_session_state_from_string (prev, &s->prev_state))
    s->prev_state = MN_SESSION_QUEUED;
  s->reason = col_text (st, 12);
  s->created = sqlite3_column_int64 (st, 13);
  s->submitted = sqlite3_column_int64 (st, 14);
  s->started = sqlite3_column_int64 (st, 15);
  s->ended = sqlite3_column_int64 (st, 16);
  s->job_id = col_text (st, 17);
  s->host = col_text (st, 18);
  s->port = sqlite3_column_int (st, 19);
  s->node = sqlite3_column_int (st, 20);
  s->logical = sqlite3_column_int (st, 21);
  s->token = col_text (st, 22);
  s->stop_requested = sqlite3_column_int64 (st, 23);
  s->idle_warned = sqlite3_column_int64 (st, 24);
  s->gpu_memory_mb = (guint64) sqlite3_column_int64 (st, 25);
  s->gpu_mask = (guint64) sqlite3_column_int64 (st, 26);
  s->job_started = sqlite3_column_int64 (st, 27);
  {
    g_autofree gchar *end = col_text (st, 28);
    if (end == NULL || !mn_end_reason_from_string (end, &s->end_reason))
      s->end_reason = MN_END_NONE;
  }
  s->form = col_text (st, 29);
  s->hidden = sqlite3_column_int (st, 30);
  s->extended = sqlite3_column_int64 (st, 31);
  return s;
}

/* UPDATE of every column of @s; inside the caller's transaction. */
static gboolean
write_session (MnControllerStore *store, const MnSession *s, GError **error)
{
  sqlite3_stmt *st = NULL;
  if ((st = stmt_get (store, "UPDATE sessions SET (" SESSION_COLUMNS ") ="
                             " (" SESSION_PARAMS ") WHERE num = " SESSION_NUM_PARAM)) == NULL)
    return fail (store, "prepare update", error);
  bind_session (st, s);
  sqlite3_bind_int64 (st, 32, s->num);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      fail (store, "update session", error);
      stmt_done (st);
      return FALSE;
    }
  stmt_done (st);
  touch (store, s->user);
  return TRUE;
}

/* The rows of a new session, inside the caller's transaction or savepoint. */
static gboolean
insert_rows (MnControllerStore *store, MnSession *s, gint64 now, MnStoreDecideFunc decide,
             gpointer data, GError **error)
{
  sqlite3_stmt *st = NULL;
  g_autofree gchar *event = NULL;
  if ((st = stmt_get (store, "INSERT INTO sessions (" SESSION_COLUMNS ") VALUES"
                             " (" SESSION_PARAMS ")")) == NULL)
    return fail (store, "prepare insert", error);
  bind_session (st, s);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      fail (store, "insert session", error);
      stmt_done (st);
      return FALSE;
    }
  stmt_done (st);
  s->num = sqlite3_last_insert_rowid (store->db);
  /* the decision needs the row's number, and a refusal leaves no row */
  return decide (s, &event, data, error) &&
         write_session (store, s, error) && add_event (store, s->id, now, s->state, event, error);
}

gboolean
mn_controller_store_insert (MnControllerStore *store, MnSession *s, gint64 now,
                            MnStoreDecideFunc decide, gpointer data, GError **error)
{
  if (!write_begin (store, error))
    return FALSE;
  if (!insert_rows (store, s, now, decide, data, error))
    {
      write_abort (store, error ? *error : NULL);
      return FALSE;
    }
  return write_commit (store, error);
}

gboolean
mn_controller_store_insert_later (MnControllerStore *store, MnSession *s, gint64 now,
                                  MnStoreDecideFunc decide, gpointer data, GError **error)
{
  if (!batch_join (store, error))
    return FALSE;
  return batch_leave (store, insert_rows (store, s, now, decide, data, error), error);
}

gboolean
mn_controller_store_update (MnControllerStore *store, const MnSession *s, gint64 now,
                            const gchar *event, GError **error)
{
  if (!write_begin (store, error))
    return FALSE;
  if (!write_session (store, s, error) ||
      (event != NULL && !add_event (store, s->id, now, s->state, event, error)))
    {
      write_abort (store, error ? *error : NULL);
      return FALSE;
    }
  return write_commit (store, error);
}

gboolean
mn_controller_store_update_later (MnControllerStore *store, const MnSession *s, gint64 now,
                                  const gchar *event, GError **error)
{
  if (!batch_join (store, error))
    return FALSE;
  return batch_leave (store, write_session (store, s, error) &&
                             (event == NULL || add_event (store, s->id, now, s->state, event, error)),
                      error);
}

GPtrArray *
mn_controller_store_list (MnControllerStore *store, const gchar *user,
                          gboolean live_only, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_session_free);
  g_autofree gchar *sql = g_strdup_printf ("SELECT num, " SESSION_COLUMNS " FROM sessions"
                                           " WHERE (?1 IS NULL OR user = ?1) %s ORDER BY num",
                                           live_only ? "AND state NOT IN ('ended','failed')" : "");
  sqlite3_stmt *st = NULL;
  int rc;
  if ((st = stmt_get (store, sql)) == NULL)
    {
      fail (store, "prepare list", error);
      return NULL;
    }
  bind_text (st, 1, user);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (out, read_session (st));
  stmt_done (st);
  if (rc != SQLITE_DONE)
    {
      fail (store, "list sessions", error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

MnSession *
mn_controller_store_get (MnControllerStore *store, const gchar *id, GError **error)
{
  sqlite3_stmt *st = NULL;
  MnSession *s = NULL;
  int rc;
  if ((st = stmt_get (store, "SELECT num, " SESSION_COLUMNS
                             " FROM sessions WHERE id = ?")) == NULL)
    {
      fail (store, "prepare get", error);
      return NULL;
    }
  bind_text (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    s = read_session (st);
  else if (rc == SQLITE_DONE)
    g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_FOUND,
                 "no session '%s'", id);
  else
    fail (store, "get session", error);
  stmt_done (st);
  return s;
}

void
mn_store_event_free (MnStoreEvent *e)
{
  if (e == NULL)
    return;
  g_free (e->state);
  g_free (e->message);
  g_free (e);
}

GPtrArray *
mn_controller_store_events (MnControllerStore *store, const gchar *id, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_store_event_free);
  sqlite3_stmt *st = NULL;
  int rc;
  if ((st = stmt_get (store, "SELECT time, state, message FROM events"
                             " WHERE session = ? ORDER BY seq")) == NULL)
    {
      fail (store, "prepare events", error);
      return NULL;
    }
  bind_text (st, 1, id);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      MnStoreEvent *e = g_new0 (MnStoreEvent, 1);
      e->time = sqlite3_column_int64 (st, 0);
      e->state = col_text (st, 1);
      e->message = col_text (st, 2);
      g_ptr_array_add (out, e);
    }
  stmt_done (st);
  if (rc != SQLITE_DONE)
    {
      fail (store, "list events", error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

static gboolean
write_form (MnControllerStore *store, const gchar *user, const gchar *json, gint64 now,
            GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;
  if ((st = stmt_get (store, "INSERT INTO form_values (user, json, updated)"
                             " VALUES (?1, ?2, ?3) ON CONFLICT (user) DO UPDATE SET"
                             " json = ?2, updated = ?3")) == NULL)
    return fail (store, "prepare form", error);
  bind_text (st, 1, user);
  bind_text (st, 2, json);
  sqlite3_bind_int64 (st, 3, now);
  ok = sqlite3_step (st) == SQLITE_DONE;
  stmt_done (st);
  return ok ? TRUE : fail (store, "save form", error);
}

gboolean
mn_controller_store_save_form (MnControllerStore *store, const gchar *user,
                               const gchar *json, gint64 now, GError **error)
{
  settle_batch (store);
  return write_form (store, user, json, now, error);
}

gboolean
mn_controller_store_save_form_later (MnControllerStore *store, const gchar *user,
                                     const gchar *json, gint64 now, GError **error)
{
  if (!batch_join (store, error))
    return FALSE;
  return batch_leave (store, write_form (store, user, json, now, error), error);
}

gchar *
mn_controller_store_load_form (MnControllerStore *store, const gchar *user)
{
  sqlite3_stmt *st = NULL;
  gchar *json = NULL;
  if ((st = stmt_get (store, "SELECT json FROM form_values WHERE user = ?")) == NULL)
    return NULL;
  bind_text (st, 1, user);
  if (sqlite3_step (st) == SQLITE_ROW)
    json = col_text (st, 0);
  stmt_done (st);
  return json;
}

gboolean
mn_controller_store_usage (MnControllerStore *store, gint64 from, gint64 to,
                           guint64 by_hour[24], guint64 by_weekday[7],
                           guint64 *total, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;
  memset (by_hour, 0, 24 * sizeof (guint64));
  memset (by_weekday, 0, 7 * sizeof (guint64));
  *total = 0;
  /* strftime %w: 0 = Sunday; shifted so that 0 = Monday like the simulator. */
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT CAST(strftime('%H', created, 'unixepoch') AS INTEGER),"
                          " (CAST(strftime('%w', created, 'unixepoch') AS INTEGER) + 6) % 7,"
                          " COUNT(*) FROM sessions WHERE created >= ? AND created < ?"
                          " GROUP BY 1, 2", -1, &st, NULL) != SQLITE_OK)
    return fail (store, "prepare usage", error);
  sqlite3_bind_int64 (st, 1, from);
  sqlite3_bind_int64 (st, 2, to);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint h = sqlite3_column_int (st, 0), d = sqlite3_column_int (st, 1);
      guint64 n = sqlite3_column_int64 (st, 2);
      if (h >= 0 && h < 24)
        by_hour[h] += n;
      if (d >= 0 && d < 7)
        by_weekday[d] += n;
      *total += n;
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : fail (store, "usage", error);
}

/* ---- logins ------------------------------------------------------------ */

void
mn_store_login_free (MnStoreLogin *l)
{
  if (l == NULL)
    return;
  g_free (l->id);
  g_free (l->user);
  g_free (l);
}

gboolean
mn_controller_store_login_insert (MnControllerStore *store, const gchar *id, const gchar *user,
                                  gint64 created, gint64 expires, const gchar *address,
                                  GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;
  settle_batch (store);
  if ((st = stmt_get (store, "INSERT INTO logins (id, user, created, expires, address)"
                             " VALUES (?, ?, ?, ?, ?)")) == NULL)
    return fail (store, "prepare login", error);
  bind_text (st, 1, id);
  bind_text (st, 2, user);
  sqlite3_bind_int64 (st, 3, created);
  sqlite3_bind_int64 (st, 4, expires);
  bind_text (st, 5, address);
  ok = sqlite3_step (st) == SQLITE_DONE;
  stmt_done (st);
  return ok ? TRUE : fail (store, "insert login", error);
}

MnStoreLogin *
mn_controller_store_login_get (MnControllerStore *store, const gchar *id, GError **error)
{
  sqlite3_stmt *st = NULL;
  MnStoreLogin *l = NULL;
  int rc;
  if ((st = stmt_get (store, "SELECT id, user, created, expires, revoked FROM logins"
                             " WHERE id = ?")) == NULL)
    {
      fail (store, "prepare login", error);
      return NULL;
    }
  bind_text (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      l = g_new0 (MnStoreLogin, 1);
      l->id = col_text (st, 0);
      l->user = col_text (st, 1);
      l->created = sqlite3_column_int64 (st, 2);
      l->expires = sqlite3_column_int64 (st, 3);
      l->revoked = sqlite3_column_int64 (st, 4);
    }
  else if (rc == SQLITE_DONE)
    g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_FOUND, "no such login");
  else
    fail (store, "get login", error);
  stmt_done (st);
  return l;
}

gboolean
mn_controller_store_login_revoke (MnControllerStore *store, const gchar *id, gint64 now,
                                  GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;
  settle_batch (store);
  if ((st = stmt_get (store, "UPDATE logins SET revoked = ?2 WHERE id = ?1"
                             " AND revoked IS NULL")) == NULL)
    return fail (store, "prepare logout", error);
  bind_text (st, 1, id);
  sqlite3_bind_int64 (st, 2, now);
  ok = sqlite3_step (st) == SQLITE_DONE;
  stmt_done (st);
  return ok ? TRUE : fail (store, "logout", error);
}

GPtrArray *
mn_controller_store_logins_live (MnControllerStore *store, gint64 now, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_store_login_free);
  sqlite3_stmt *st = NULL;
  int rc;
  if ((st = stmt_get (store, "SELECT id, user, created, expires FROM logins"
                             " WHERE revoked IS NULL AND expires > ? ORDER BY created")) == NULL)
    {
      fail (store, "prepare live logins", error);
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, now);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      MnStoreLogin *l = g_new0 (MnStoreLogin, 1);
      l->id = col_text (st, 0);
      l->user = col_text (st, 1);
      l->created = sqlite3_column_int64 (st, 2);
      l->expires = sqlite3_column_int64 (st, 3);
      g_ptr_array_add (out, l);
    }
  stmt_done (st);
  if (rc != SQLITE_DONE)
    {
      fail (store, "list live logins", error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

gint
mn_controller_store_logins_prune (MnControllerStore *store, gint64 before, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;
  settle_batch (store);
  if ((st = stmt_get (store, "DELETE FROM logins WHERE expires < ?")) == NULL)
    {
      fail (store, "prepare prune logins", error);
      return -1;
    }
  sqlite3_bind_int64 (st, 1, before);
  ok = sqlite3_step (st) == SQLITE_DONE;
  stmt_done (st);
  if (!ok)
    {
      fail (store, "prune logins", error);
      return -1;
    }
  return sqlite3_changes (store->db);
}

struct sqlite3 *
mn_controller_store_get_db (MnControllerStore *store)
{
  return store->db;
}
