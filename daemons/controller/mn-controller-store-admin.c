/* mn-controller-store-admin.c: the admin page's queries (see the header). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-store-admin.h"
#include "mn-controller-accounting.h"
#include "mn-controller-config.h"

#include <sqlite3.h>

static const gchar *const live_states[] = { "queued", "starting", "running", "ending", "unknown", NULL };

static gpointer
fail (MnControllerStore *store, const gchar *what, GError **error)
{
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE, "%s: %s: %s",
               mn_controller_store_get_path (store), what,
               sqlite3_errmsg (mn_controller_store_get_db (store)));
  return NULL;
}

/* " WHERE ..." with ?1 user, ?2 node, ?3 logical, then one ? per state. */
static gchar *
where_clause (const MnStoreSessionFilter *f, GPtrArray *states)
{
  GString *w = g_string_new (" WHERE (?1 IS NULL OR user = ?1) AND (?2 < 0 OR node = ?2)"
                             " AND (?3 < 0 OR logical = ?3)");
  for (gsize i = 0; f->states != NULL && f->states[i] != NULL; i++)
    {
      if (g_str_equal (f->states[i], "live"))
        for (gsize j = 0; live_states[j]; j++)
          g_ptr_array_add (states, (gpointer) live_states[j]);
      else
        g_ptr_array_add (states, (gpointer) f->states[i]);
    }
  if (states->len > 0)
    {
      g_string_append (w, " AND state IN (");
      for (guint i = 0; i < states->len; i++)
        g_string_append_printf (w, "%s?%u", i ? ", " : "", i + 4);
      g_string_append (w, ")");
    }
  return g_string_free (w, FALSE);
}

static void
bind_filter (sqlite3_stmt *st, const MnStoreSessionFilter *f, GPtrArray *states)
{
  if (f->user != NULL)
    sqlite3_bind_text (st, 1, f->user, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (st, 1);
  sqlite3_bind_int (st, 2, f->node);
  sqlite3_bind_int (st, 3, f->logical);
  for (guint i = 0; i < states->len; i++)
    sqlite3_bind_text (st, (int) i + 4, g_ptr_array_index (states, i), -1, SQLITE_TRANSIENT);
}

GPtrArray *
mn_controller_store_admin_list (MnControllerStore *store, const MnStoreSessionFilter *filter,
                                guint limit, guint offset, guint64 *total, GError **error)
{
  sqlite3 *db = mn_controller_store_get_db (store);
  g_autoptr(GPtrArray) states = g_ptr_array_new ();
  g_autofree gchar *where = where_clause (filter, states);
  g_autofree gchar *count_sql = g_strconcat ("SELECT COUNT(*) FROM sessions", where, NULL);
  g_autofree gchar *list_sql = g_strdup_printf ("SELECT id FROM sessions%s ORDER BY num DESC"
                                                " LIMIT %u OFFSET %u", where, limit, offset);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, count_sql, -1, &st, NULL) != SQLITE_OK)
    return fail (store, "prepare session count", error);
  bind_filter (st, filter, states);
  rc = sqlite3_step (st);
  *total = rc == SQLITE_ROW ? (guint64) sqlite3_column_int64 (st, 0) : 0;
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW)
    return fail (store, "count sessions", error);
  if (sqlite3_prepare_v2 (db, list_sql, -1, &st, NULL) != SQLITE_OK)
    return fail (store, "prepare session page", error);
  bind_filter (st, filter, states);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup ((const gchar *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return fail (store, "list sessions", error);
  return g_steal_pointer (&ids);
}

GStrv
mn_controller_store_admin_users (MnControllerStore *store, GError **error)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  sqlite3_stmt *st = NULL;
  int rc;
  if (sqlite3_prepare_v2 (mn_controller_store_get_db (store),
                          "SELECT DISTINCT user FROM sessions ORDER BY user", -1, &st, NULL) != SQLITE_OK)
    return fail (store, "prepare users", error);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_strv_builder_add (b, (const gchar *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return fail (store, "list users", error);
  return g_strv_builder_end (b);
}

GPtrArray *
mn_controller_store_accounting (MnControllerStore *store, gint64 from, gint64 to, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_accounting_session_free);
  sqlite3_stmt *st = NULL;
  int rc;
  /* the run starts when the backend first saw the job running (older rows:
   * when the app answered); a live session (ended 0) runs on */
  if (sqlite3_prepare_v2 (mn_controller_store_get_db (store),
                          "SELECT user, queue, cores, memory_mb, gpus, gpu_memory_mb, walltime, run_start,"
                          " ended FROM (SELECT *, CASE WHEN job_started > 0 THEN job_started"
                          " ELSE COALESCE(started, 0) END AS run_start FROM sessions"
                          " WHERE queue = 'interactive')"
                          " WHERE run_start > 0 AND run_start < ?2"
                          " AND (ended IS NULL OR ended = 0 OR ended > ?1) ORDER BY num",
                          -1, &st, NULL) != SQLITE_OK)
    return fail (store, "prepare accounting", error);
  sqlite3_bind_int64 (st, 1, from);
  sqlite3_bind_int64 (st, 2, to);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      MnAccountingSession *s = g_new0 (MnAccountingSession, 1);
      s->user = g_strdup ((const gchar *) sqlite3_column_text (st, 0));
      s->queue = g_strdup ((const gchar *) sqlite3_column_text (st, 1));
      s->cores = (guint) sqlite3_column_int (st, 2);
      s->memory_mb = (guint64) sqlite3_column_int64 (st, 3);
      s->gpus = (guint) sqlite3_column_int (st, 4);
      s->gpu_memory_mb = (guint64) sqlite3_column_int64 (st, 5);
      s->walltime = sqlite3_column_int64 (st, 6);
      s->start = sqlite3_column_int64 (st, 7);
      s->end = sqlite3_column_int64 (st, 8);
      g_ptr_array_add (out, s);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return fail (store, "accounting", error);
  return g_steal_pointer (&out);
}
