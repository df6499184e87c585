/* test-controller-reconcile.c: the database against a fake listing of the
 * scheduler's queue (issue 20): each case is a few stored sessions, stored
 * rows of sessions that are over, the backend's listing, and the findings
 * expected, in order.  The real schedulers' listings are tested in the
 * slurm and sge suites, the local backend's in the faults suite. */
#include "mn-controller-reconcile.h"

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
  return g_test_run ();
}
