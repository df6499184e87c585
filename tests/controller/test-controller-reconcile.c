/* test-controller-reconcile.c: the database against a fake listing of the
 * scheduler's queue (issue 20): each case is a few stored sessions, stored
 * rows of sessions that are over, the backend's listing, and the findings
 * expected, in order.  The real schedulers' listings are tested in the
 * slurm and sge suites, the local backend's in the faults suite. */
#include "mn-controller-reconcile.h"
#include "mn-controller-manager.h"
#include "mn-controller-store.h"
#include "mn-controller-config.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  const gchar *name;
  /* "id state job" (job "-": none; state unknown:running = unknown, was running) */
  const gchar *live[4];
  const gchar *over[3];     /* "id state" */
  /* "job session state" (state pending, running; leftover-empty, leftover-busy) */
  const gchar *listed[4];
  const gchar *expected[6]; /* "kind session job" */
} Case;

static const Case cases[] = {
  { "agree", { "s1 running 101", "s2 starting 102" }, { NULL },
    { "101 s1 running", "102 s2 pending" }, { NULL } },
  { "queued-has-no-job", { "s1 queued -" }, { NULL }, { NULL }, { NULL } },
  { "not-submitted-yet", { "s1 starting -" }, { NULL }, { NULL }, { NULL } },
  { "adopt-unstored-submission", { "s1 starting -" }, { NULL }, { "101 s1 running" },
    { "adopt s1 101" } },
  { "adopt-only-while-starting", { "s1 running -" }, { NULL }, { "101 s1 running" },
    { "orphan s1 101" } },
  { "gone-running", { "s1 running 101" }, { NULL }, { NULL }, { "gone s1 101" } },
  { "gone-starting-and-ending", { "s1 starting 101", "s2 ending 102", "s3 running 103" }, { NULL },
    { "103 s3 running" }, { "gone s1 101", "gone s2 102" } },
  { "gone-while-unknown", { "s1 unknown:running 101" }, { NULL }, { NULL }, { "gone s1 101" } },
  { "cancel-job-of-ended-session", { NULL }, { "s1 ended" }, { "101 s1 running" },
    { "cancel s1 101" } },
  { "orphan-no-row", { "s1 running 101" }, { NULL }, { "101 s1 running", "202 s9 pending" },
    { "orphan s9 202" } },
  { "second-job-of-live-session", { "s1 running 101" }, { NULL },
    { "101 s1 running", "102 s1 running" }, { "orphan s1 102" } },
  { "leftover-removed", { NULL }, { "s1 ended" }, { "s1 s1 leftover-empty" },
    { "leftover s1 s1" } },
  { "leftover-with-processes-reported", { NULL }, { NULL }, { "s1 s1 leftover-busy" },
    { "stray s1 s1" } },
  { "leftover-of-live-session-left-to-its-end", { "s1 running s1" }, { NULL },
    { "s1 s1 leftover-empty" }, { "gone s1 s1" } },
  { "everything-at-once", { "s1 starting -", "s2 running 102", "s3 queued -" }, { "s4 failed" },
    { "101 s1 running", "104 s4 running", "105 s5 running", "s6 s6 leftover-empty" },
    { "adopt s1 101", "gone s2 102", "cancel s4 104", "orphan s5 105", "leftover s6 s6" } },
};

static MnSession *
session_of (const gchar *spec)
{
  g_auto(GStrv) f = g_strsplit (spec, " ", 3);
  MnSession *s = mn_session_new ();
  s->id = g_strdup (f[0]);
  s->user = g_strdup ("alice");
  if (g_str_has_prefix (f[1], "unknown:"))
    {
      s->state = MN_SESSION_UNKNOWN;
      g_assert_true (mn_session_state_from_string (f[1] + 8, &s->prev_state));
    }
  else
    g_assert_true (mn_session_state_from_string (f[1], &s->state));
  if (f[2] != NULL && !g_str_equal (f[2], "-"))
    s->job_id = g_strdup (f[2]);
  return s;
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_session_free);
  g_autoptr(GPtrArray) listed = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_backend_job_free);
  g_autoptr(GHashTable) over = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) mn_session_free);
  g_autoptr(GPtrArray) found = NULL;
  guint n_expected = 0;

  for (guint i = 0; i < G_N_ELEMENTS (c->live) && c->live[i]; i++)
    g_ptr_array_add (live, session_of (c->live[i]));
  for (guint i = 0; i < G_N_ELEMENTS (c->over) && c->over[i]; i++)
    {
      MnSession *s = session_of (c->over[i]);
      g_hash_table_insert (over, g_strdup (s->id), s);
    }
  for (guint i = 0; i < G_N_ELEMENTS (c->listed) && c->listed[i]; i++)
    {
      g_auto(GStrv) f = g_strsplit (c->listed[i], " ", 3);
      gboolean leftover = g_str_has_prefix (f[2], "leftover");
      MnJobState st = g_str_equal (f[2], "pending") ? MN_JOB_PENDING
                      : g_str_equal (f[2], "leftover-empty") ? MN_JOB_DONE : MN_JOB_RUNNING;
      MnBackendJob *j = mn_backend_job_new (f[0], f[1], st, "described");
      j->leftover = leftover;
      g_ptr_array_add (listed, j);
    }
  found = mn_reconcile_diff (live, over, listed, TRUE);
  for (guint i = 0; i < found->len; i++)
    g_test_message ("found: %s", ((MnReconcileFinding *) g_ptr_array_index (found, i))->line);
  while (n_expected < G_N_ELEMENTS (c->expected) && c->expected[n_expected])
    n_expected++;
  g_assert_cmpuint (found->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    {
      MnReconcileFinding *f = g_ptr_array_index (found, i);
      g_autofree gchar *got = g_strdup_printf ("%s %s %s", mn_reconcile_kind_to_string (f->kind),
                                               f->session_id ? f->session_id : "-", f->job_id);
      g_assert_cmpstr (got, ==, c->expected[i]);
      /* every line names the job and says what is done */
      g_assert_nonnull (strstr (f->line, f->job_id));
    }
}

static void
test_job_names (void)
{
  static const struct { const gchar *name, *session; } names[] = {
    { "minna-a1b2", "a1b2" }, { "minna-", NULL }, { "jupyter", NULL }, { NULL, NULL },
    { "minna-x-y", "x-y" }, { "Minna-a1", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree gchar *got = mn_backend_session_of_job_name (names[i].name);
      g_assert_cmpstr (got, ==, names[i].session);
    }
}

/* ---- the same through a real store and a backend's listing ---------------- */

typedef struct {
  MnBackend  parent;
  gboolean   answers;     /* FALSE: the scheduler does not answer */
  GPtrArray *cancelled;   /* job ids */
} ListingBackend;

static GPtrArray *
listing_list (MnBackend *b, GError **error)
{
  ListingBackend *f = (ListingBackend *) b;
  GPtrArray *out;
  if (!f->answers)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE,
                   "squeue: Unable to contact slurm controller");
      return NULL;
    }
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_backend_job_free);
  g_ptr_array_add (out, mn_backend_job_new ("101", "s-live", MN_JOB_RUNNING, "RUNNING on n1"));
  g_ptr_array_add (out, mn_backend_job_new ("102", "s-over", MN_JOB_RUNNING, "RUNNING on n1"));
  g_ptr_array_add (out, mn_backend_job_new ("103", "s-lost", MN_JOB_PENDING, "PENDING"));
  return out;
}

static gboolean
listing_cancel (MnBackend *b, const gchar *job_id, gint64 now, GError **error)
{
  g_ptr_array_add (((ListingBackend *) b)->cancelled, g_strdup (job_id));
  return TRUE;
}

static gchar *listing_describe (MnBackend *b) { return g_strdup ("listing"); }

static void
listing_free (MnBackend *b)
{
  g_ptr_array_unref (((ListingBackend *) b)->cancelled);
  g_free (b);
}

static const MnBackendClass listing_class = {
  .name = "listing", .cancel = listing_cancel, .describe = listing_describe,
  .list_jobs = listing_list, .free = listing_free,
};

static gboolean
keep (MnSession *s, gchar **event, gpointer data, GError **error)
{
  *event = g_strdup ("stored");
  return TRUE;
}

static void
store_session (MnControllerStore *store, const gchar *id, MnSessionState state,
               const gchar *job_id)
{
  g_autoptr(MnSession) s = mn_session_new ();
  g_autoptr(GError) error = NULL;
  s->id = g_strdup (id);
  s->user = g_strdup ("alice");
  s->app = g_strdup ("webapp");
  s->state = state;
  s->job_id = g_strdup (job_id);
  s->node = -1;
  g_assert_true (mn_controller_store_insert (store, s, 1000, keep, NULL, &error));
  g_assert_no_error (error);
}

static void
test_store (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("minna-reconcile-XXXXXX", NULL);
  g_autofree gchar *db = g_build_filename (dir, "c.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MnControllerStore) store = mn_controller_store_open (db, &error);
  ListingBackend *f = g_new0 (ListingBackend, 1);
  g_autoptr(MnBackend) backend = &f->parent;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) findings = NULL;
  gint n;

  g_assert_no_error (error);
  f->parent.klass = &listing_class;
  f->cancelled = g_ptr_array_new_with_free_func (g_free);
  store_session (store, "s-live", MN_SESSION_RUNNING, "101");
  store_session (store, "s-over", MN_SESSION_ENDED, "102");
  store_session (store, "s-gone", MN_SESSION_RUNNING, "104");

  /* the scheduler does not answer: nothing compared, nothing taken for gone */
  f->answers = FALSE;
  n = mn_controller_reconcile_full (store, backend, TRUE, lines, &findings, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_assert_null (findings);
  g_assert_cmpuint (lines->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (lines, 0), "not compared: squeue"));
  g_assert_cmpuint (f->cancelled->len, ==, 0);

  /* check (act FALSE): said, not done */
  f->answers = TRUE;
  g_ptr_array_set_size (lines, 0);
  n = mn_controller_reconcile_full (store, backend, FALSE, lines, &findings, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpuint (f->cancelled->len, ==, 0);
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* a start: the job of the ended session is cancelled; the lost one reported */
  g_ptr_array_set_size (lines, 0);
  n = mn_controller_reconcile_full (store, backend, TRUE, lines, &findings, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 3);
  for (guint i = 0; i < lines->len; i++)
    g_test_message ("%s", (const gchar *) g_ptr_array_index (lines, i));
  g_assert_cmpuint (f->cancelled->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->cancelled, 0), ==, "102");
  g_assert_cmpint (((MnReconcileFinding *) g_ptr_array_index (findings, 0))->kind, ==, MN_RECONCILE_GONE);
  g_assert_cmpstr (((MnReconcileFinding *) g_ptr_array_index (findings, 0))->session_id, ==, "s-gone");
  g_assert_cmpint (((MnReconcileFinding *) g_ptr_array_index (findings, 1))->kind, ==, MN_RECONCILE_CANCEL);
  g_assert_cmpint (((MnReconcileFinding *) g_ptr_array_index (findings, 2))->kind, ==, MN_RECONCILE_ORPHAN);
  g_assert_nonnull (strstr (g_ptr_array_index (lines, 2), "no session for it"));

  g_clear_pointer (&store, mn_controller_store_free);
  for (const gchar *const *sfx = (const gchar *const[]) { "", "-wal", "-shm", NULL }; *sfx; sfx++)
    {
      g_autofree gchar *path = g_strconcat (db, *sfx, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/controller/reconcile/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/controller/reconcile/job-names", test_job_names);
  g_test_add_func ("/controller/reconcile/store-and-listing", test_store);
  return g_test_run ();
}
