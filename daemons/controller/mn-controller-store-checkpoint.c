/* mn-controller-store-checkpoint.c: the WAL's checkpoints in a thread of
 * their own (issue 14).
 *
 * SQLite copies the WAL back into the database file (a checkpoint) when it
 * has grown past 1000 pages, inside the commit that crossed the mark: on
 * the controller's main loop, with an fsync of the WAL and one of the
 * database file.  Measured with bench-controller on this shared machine,
 * those commits took 90-650 ms (the others a few ms), and the main loop
 * answered nothing meanwhile; with checkpoints off the longest commit was
 * 54 ms.  The commit of the WAL itself is what makes a change durable; the
 * checkpoint only moves what is already safe.  So the WAL hook (which
 * replaces SQLite's automatic checkpoint) wakes this thread, which
 * checkpoints through a connection of its own, PASSIVE: it never waits for
 * the controller's writes, and they do not wait for it. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-store-checkpoint.h"

#include <sqlite3.h>

/* SQLite's own default for the automatic checkpoint */
#define CHECKPOINT_PAGES 1000

struct _MnStoreCheckpointer {
  gchar   *path;
  GThread *thread;
  GMutex   lock;
  GCond    cond;
  gboolean wanted;
  gboolean quit;
};

static gpointer
checkpoint_thread (gpointer data)
{
  MnStoreCheckpointer *c = data;
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK)
    {
      g_warning ("%s: the checkpoint thread cannot open it (%s); the WAL grows until the"
                 " controller stops", c->path, db ? sqlite3_errmsg (db) : "no memory");
      sqlite3_close (db);
      db = NULL;
    }
  if (db != NULL)
    {
      sqlite3_busy_timeout (db, 5000);
      /* the database file is synced after each checkpoint, as the daemon's */
      sqlite3_exec (db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    }
  g_mutex_lock (&c->lock);
  while (!c->quit)
    {
      if (!c->wanted)
        {
          g_cond_wait (&c->cond, &c->lock);
          continue;
        }
      c->wanted = FALSE;
      g_mutex_unlock (&c->lock);
      if (db != NULL)
        {
          int rc = sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
          /* the main connection's commits say what is wrong with the disk */
          if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            g_debug ("%s: checkpoint: %s", c->path, sqlite3_errmsg (db));
        }
      g_mutex_lock (&c->lock);
    }
  g_mutex_unlock (&c->lock);
  sqlite3_close (db);
  return NULL;
}

/* After each commit of the main connection (its thread): the WAL's size. */
static int
wal_hook (void *data, sqlite3 *db, const char *name, int pages)
{
  MnStoreCheckpointer *c = data;
  if (pages >= CHECKPOINT_PAGES)
    {
      g_mutex_lock (&c->lock);
      c->wanted = TRUE;
      g_cond_signal (&c->cond);
      g_mutex_unlock (&c->lock);
    }
  return SQLITE_OK;
}

MnStoreCheckpointer *
mn_store_checkpointer_start (struct sqlite3 *db, const gchar *path)
{
  MnStoreCheckpointer *c = g_new0 (MnStoreCheckpointer, 1);
  c->path = g_strdup (path);
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->thread = g_thread_new ("minna-checkpoint", checkpoint_thread, c);
  sqlite3_wal_hook (db, wal_hook, c);
  return c;
}

void
mn_store_checkpointer_stop (MnStoreCheckpointer *c, struct sqlite3 *db)
{
  if (c == NULL)
    return;
  sqlite3_wal_hook (db, NULL, NULL);
  g_mutex_lock (&c->lock);
  c->quit = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  g_thread_join (c->thread);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c->path);
  g_free (c);
}
