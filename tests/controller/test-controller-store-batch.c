/* test-controller-store-batch: the store's group commit (issue 14) on a
 * real SQLite file, the daemon's way (durable, checkpoints in a thread).
 * A change written into the batch is invisible to another connection until
 * the batch is committed; any write that commits (an update, a launch's
 * insert, a login) commits the batch with it or before it; a refusal
 * inside the batch leaves no row and the rest of the batch intact; the
 * batch func hears each batch end once; the changed func hears each user
 * whose sessions a committed transaction wrote, once, after the commit,
 * and nobody for a refused or rolled-back write; and past 1000 pages of WAL
 * the checkpoint thread copies the WAL back into the database file. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "mn-controller-store.h"
#include "mn-controller-config.h"

typedef struct {
  gchar             *dir;
  gchar             *path;
  MnControllerStore *store;
  guint              committed, lost;
} Fixture;

static void
batch_func (gboolean committed, const GError *error, gpointer data)
{
  Fixture *fx = data;
  if (committed)
    fx->committed++;
  else
    fx->lost++;
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  fx->dir = g_dir_make_tmp ("minna-store-batch-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "controller.db", NULL);
  fx->store = mn_controller_store_open_full (fx->path, MN_STORE_OPEN_CREATE | MN_STORE_OPEN_DURABLE,
                                             &error);
  g_assert_no_error (error);
  mn_controller_store_set_batch_func (fx->store, batch_func, fx);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_autofree gchar *wal = g_strconcat (fx->path, "-wal", NULL);
  g_autofree gchar *shm = g_strconcat (fx->path, "-shm", NULL);
  mn_controller_store_free (fx->store);
  g_unlink (fx->path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
}

/* What another process would read: committed rows only. */
static gint
count_rows (Fixture *fx, const gchar *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint n = -1;
  g_assert_cmpint (sqlite3_open_v2 (fx->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return n;
}

static gint
sessions_stored (Fixture *fx)
{
  return count_rows (fx, "SELECT count(*) FROM sessions");
}

static MnSession *
new_session (const gchar *id)
{
  MnSession *s = mn_session_new ();
  s->id = g_strdup (id);
  s->user = g_strdup ("alice");
  s->app = g_strdup ("webapp");
  s->state = MN_SESSION_STARTING;
  s->node = -1;
  return s;
}

static gboolean
keep (MnSession *s, gchar **event, gpointer data, GError **error)
{
  *event = g_strdup ("requested");
  return TRUE;
}

static gboolean
refuse (MnSession *s, gchar **event, gpointer data, GError **error)
{
  g_set_error_literal (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED, "no room");
  return FALSE;
}

static void
test_commit (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) a = new_session ("aaaa000000000001");
  g_autoptr(MnSession) b = new_session ("aaaa000000000002");
  g_autoptr(GError) error = NULL;

  g_assert_true (mn_controller_store_insert_later (fx->store, a, 100, keep, NULL, &error));
  g_assert_true (mn_controller_store_insert_later (fx->store, b, 100, keep, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a->num, >, 0);
  g_assert_cmpint (b->num, ==, a->num + 1);   /* the row's number, before the commit */
  b->state = MN_SESSION_RUNNING;
  g_assert_true (mn_controller_store_update_later (fx->store, b, 101, "running", &error));
  g_assert_true (mn_controller_store_in_batch (fx->store));
  g_assert_cmpint (sessions_stored (fx), ==, 0);
  g_assert_cmpuint (fx->committed, ==, 0);

  g_assert_true (mn_controller_store_commit_batch (fx->store, &error));
  g_assert_no_error (error);
  g_assert_false (mn_controller_store_in_batch (fx->store));
  g_assert_cmpuint (fx->committed, ==, 1);
  g_assert_cmpuint (fx->lost, ==, 0);
  g_assert_cmpint (sessions_stored (fx), ==, 2);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM sessions WHERE state = 'running'"), ==, 1);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM events"), ==, 3);
  /* nothing open: committing again is a no-op, and nobody hears it */
  g_assert_true (mn_controller_store_commit_batch (fx->store, &error));
  g_assert_cmpuint (fx->committed, ==, 1);
}

/* A write that commits anyway takes the batch with it (or before it). */
typedef enum { BY_UPDATE, BY_INSERT, BY_LOGIN, BY_FORM } Committer;

static void
test_committed_with (Fixture *fx, gconstpointer data)
{
  Committer how = GPOINTER_TO_INT (data);
  g_autoptr(MnSession) a = new_session ("bbbb000000000001");
  g_autoptr(MnSession) b = new_session ("bbbb000000000002");
  g_autoptr(GError) error = NULL;

  g_assert_true (mn_controller_store_insert (fx->store, a, 100, keep, NULL, &error));
  g_assert_cmpuint (fx->committed, ==, 0);   /* no batch was open */
  a->state = MN_SESSION_RUNNING;
  g_assert_true (mn_controller_store_update_later (fx->store, a, 101, "running", &error));
  g_assert_true (mn_controller_store_save_form_later (fx->store, "alice", "{\"cores\":2}", 101,
                                                      &error));
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM sessions WHERE state = 'running'"), ==, 0);
  switch (how)
    {
    case BY_UPDATE:
      a->state = MN_SESSION_ENDING;
      g_assert_true (mn_controller_store_update (fx->store, a, 102, "stopping", &error));
      break;
    case BY_INSERT:
      g_assert_true (mn_controller_store_insert (fx->store, b, 102, keep, NULL, &error));
      break;
    case BY_LOGIN:
      g_assert_true (mn_controller_store_login_insert (fx->store, "login-1", "alice", 102, 9999,
                                                       "127.0.0.1", &error));
      break;
    case BY_FORM:
      g_assert_true (mn_controller_store_save_form (fx->store, "bob", "{}", 102, &error));
      break;
    }
  g_assert_no_error (error);
  g_assert_false (mn_controller_store_in_batch (fx->store));
  g_assert_cmpuint (fx->committed, ==, 1);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM sessions WHERE state IN"
                                   " ('running', 'ending')"), ==, 1);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM form_values WHERE user = 'alice'"), ==, 1);
  g_assert_cmpint (sessions_stored (fx), ==, how == BY_INSERT ? 2 : 1);
}

/* A refusal inside the batch rolls back its own row only. */
static void
test_refusal (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) a = new_session ("cccc000000000001");
  g_autoptr(MnSession) b = new_session ("cccc000000000002");
  g_autoptr(GError) error = NULL;

  g_assert_true (mn_controller_store_insert_later (fx->store, a, 100, keep, NULL, &error));
  g_assert_false (mn_controller_store_insert_later (fx->store, b, 100, refuse, NULL, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED);
  g_assert_true (mn_controller_store_in_batch (fx->store));
  g_assert_cmpuint (fx->lost, ==, 0);
  g_clear_error (&error);
  g_assert_true (mn_controller_store_commit_batch (fx->store, &error));
  g_assert_cmpint (sessions_stored (fx), ==, 1);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM sessions WHERE id = 'cccc000000000002'"),
                   ==, 0);
}

/* Past 1000 pages of WAL the thread checkpoints: the database file grows
 * while the controller's connection goes on committing. */
static void
test_checkpoint (Fixture *fx, gconstpointer data)
{
  g_autofree gchar *filler = g_strnfill (3000, 'x');
  GStatBuf before, after;
  gint64 end;
  g_assert_cmpint (g_stat (fx->path, &before), ==, 0);
  for (guint i = 0; i < 1500; i++)
    {
      g_autofree gchar *user = g_strdup_printf ("user%04u", i);
      g_autoptr(GError) error = NULL;
      g_assert_true (mn_controller_store_save_form_later (fx->store, user, filler, i, &error));
      if (i % 50 == 49)
        g_assert_true (mn_controller_store_commit_batch (fx->store, &error));
      g_assert_no_error (error);
    }
  g_assert_true (mn_controller_store_commit_batch (fx->store, NULL));
  /* the thread runs by itself: waited for, 20 s at most */
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  do
    {
      g_usleep (50000);
      g_assert_cmpint (g_stat (fx->path, &after), ==, 0);
    }
  while (after.st_size <= before.st_size + 1000 * 1024 && g_get_monotonic_time () < end);
  if (after.st_size <= before.st_size + 1000 * 1024)
    g_printerr ("the database file stayed at %" G_GINT64_FORMAT " bytes (from %" G_GINT64_FORMAT
                "): no checkpoint within 20 s\n", (gint64) after.st_size, (gint64) before.st_size);
  g_assert_cmpint (after.st_size, >, before.st_size + 1000 * 1024);
}

/* Who changed, as the API's held session lists hear it: once per user of a
 * committed transaction, after its commit, never for a refused write. */
static void
changed_func (const gchar *user, gpointer data)
{
  g_ptr_array_add (data, g_strdup (user));
}

static gint
by_text (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

static gchar *
told (GPtrArray *heard)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  gchar *text;
  for (guint i = 0; i < heard->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (heard, i));
  g_ptr_array_sort (sorted, by_text);
  g_ptr_array_add (sorted, NULL);
  text = g_strjoinv (",", (gchar **) sorted->pdata);
  g_ptr_array_set_size (heard, 0);
  return text;
}

static void
test_changed (Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) heard = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(MnSession) a = new_session ("dddd000000000001");
  g_autoptr(MnSession) b = new_session ("dddd000000000002");
  g_autoptr(MnSession) c = new_session ("dddd000000000003");
  g_autoptr(GError) error = NULL;
  g_autofree gchar *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL, *t5 = NULL, *t6 = NULL;
  g_autofree gchar *t7 = NULL, *t8 = NULL;

  g_free (b->user);
  b->user = g_strdup ("bob");
  g_free (c->user);
  c->user = g_strdup ("carol");
  mn_controller_store_set_changed_func (fx->store, changed_func, heard);

  g_assert_true (mn_controller_store_insert (fx->store, a, 100, keep, NULL, &error));
  t1 = told (heard);
  g_assert_cmpstr (t1, ==, "alice");
  /* in the batch: told at its commit, each user once */
  a->state = MN_SESSION_RUNNING;
  g_assert_true (mn_controller_store_update_later (fx->store, a, 101, "running", &error));
  g_assert_true (mn_controller_store_insert_later (fx->store, b, 101, keep, NULL, &error));
  a->state = MN_SESSION_ENDING;
  g_assert_true (mn_controller_store_update_later (fx->store, a, 102, "stopping", &error));
  g_assert_cmpuint (heard->len, ==, 0);
  g_assert_true (mn_controller_store_commit_batch (fx->store, &error));
  t2 = told (heard);
  g_assert_cmpstr (t2, ==, "alice,bob");
  /* a refused launch changes nobody's list */
  g_assert_false (mn_controller_store_insert_later (fx->store, c, 103, refuse, NULL, &error));
  g_clear_error (&error);
  g_assert_true (mn_controller_store_commit_batch (fx->store, &error));
  t3 = told (heard);
  g_assert_cmpstr (t3, ==, "");
  /* a form's values are no session */
  g_assert_true (mn_controller_store_save_form (fx->store, "carol", "{}", 104, &error));
  t4 = told (heard);
  g_assert_cmpstr (t4, ==, "");
  /* a write that commits takes the batch's users with it */
  b->state = MN_SESSION_RUNNING;
  g_assert_true (mn_controller_store_update_later (fx->store, b, 105, "running", &error));
  a->state = MN_SESSION_ENDED;
  g_assert_true (mn_controller_store_update (fx->store, a, 105, "ended", &error));
  t5 = told (heard);
  g_assert_cmpstr (t5, ==, "alice,bob");
  /* a write rolled back after its row was written (its event refused, by
   * a trigger this test adds): alone, nobody is told; in a batch, its
   * savepoint is undone and its user is told at the commit (one needless
   * wake-up, never a missed one) */
  {
    sqlite3 *db = NULL;
    g_assert_cmpint (sqlite3_open (fx->path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "CREATE TRIGGER boom BEFORE INSERT ON events"
                                       " WHEN NEW.message = 'boom'"
                                       " BEGIN SELECT RAISE (ABORT, 'boom'); END", NULL, NULL,
                                   NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  g_assert_false (mn_controller_store_update (fx->store, b, 106, "boom", &error));
  g_clear_error (&error);
  t6 = told (heard);
  g_assert_cmpstr (t6, ==, "");
  g_assert_false (mn_controller_store_update_later (fx->store, b, 107, "boom", &error));
  g_clear_error (&error);
  g_assert_true (mn_controller_store_commit_batch (fx->store, &error));
  t7 = told (heard);
  g_assert_cmpstr (t7, ==, "bob");
  /* unset: nobody is told */
  mn_controller_store_set_changed_func (fx->store, NULL, NULL);
  g_assert_true (mn_controller_store_update (fx->store, b, 108, NULL, &error));
  t8 = told (heard);
  g_assert_cmpstr (t8, ==, "");
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/controller/store-batch/commit", Fixture, NULL, fixture_set_up, test_commit,
              fixture_tear_down);
  g_test_add ("/controller/store-batch/with-update", Fixture, GINT_TO_POINTER (BY_UPDATE),
              fixture_set_up, test_committed_with, fixture_tear_down);
  g_test_add ("/controller/store-batch/with-insert", Fixture, GINT_TO_POINTER (BY_INSERT),
              fixture_set_up, test_committed_with, fixture_tear_down);
  g_test_add ("/controller/store-batch/with-login", Fixture, GINT_TO_POINTER (BY_LOGIN),
              fixture_set_up, test_committed_with, fixture_tear_down);
  g_test_add ("/controller/store-batch/with-form", Fixture, GINT_TO_POINTER (BY_FORM),
              fixture_set_up, test_committed_with, fixture_tear_down);
  g_test_add ("/controller/store-batch/changed", Fixture, NULL, fixture_set_up, test_changed,
              fixture_tear_down);
  g_test_add ("/controller/store-batch/refusal", Fixture, NULL, fixture_set_up, test_refusal,
              fixture_tear_down);
  g_test_add ("/controller/store-batch/checkpoint", Fixture, NULL, fixture_set_up,
              test_checkpoint, fixture_tear_down);
  return g_test_run ();
}
