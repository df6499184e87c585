/* test-sim-kth.c: the KTH SP2 trace (100 processors, 28k jobs) replayed by the
 * simulator in processor mode with EASY, against an independent
 * implementation of issue 4's rules written here, deliberately slow and
 * obvious: no heap, no sorted structures, plain arrays scanned from the start
 * at every step, and every quantity recomputed from scratch.  Every job's
 * start time must be equal. */
#define G_LOG_DOMAIN "test-sim"

#include "mn-sim-engine.h"
#include "mn-trace-reader.h"

typedef struct {
  gint64 id, submit, procs, runtime, estimate;
  gint64 start;          /* -1 while not started; -2 skipped */
  gint   order;          /* position in (submit, id) order */
  gint64 pass;           /* the pass that started it */
} RefJob;

static gint
by_submit_then_id (gconstpointer a, gconstpointer b)
{
  const RefJob *x = a, *y = b;
  if (x->submit != y->submit)
    return x->submit < y->submit ? -1 : 1;
  return x->id < y->id ? -1 : (x->id > y->id);
}

/* Running at t during pass @pass: started and not yet ended, counting a job
 * of runtime 0 that this very pass started (it ends once the pass is over;
 * its completion then gets another pass at the same instant, issue 16). */
static gboolean
running_at (const RefJob *r, gint64 t, gint64 pass)
{
  return r->start >= 0 && (r->start + r->runtime > t || r->pass == pass);
}

/* Every job in [lo, hi) is looked at, at every step: lo is the first job not
 * yet over (everything before it is finished or skipped), hi the first job
 * not yet submitted.  Slow, but nothing clever to get wrong. */
static void
reference_easy (RefJob *jobs, gsize n, gint64 P)
{
  qsort (jobs, n, sizeof (RefJob), (int (*)(const void *, const void *)) by_submit_then_id);
  for (gsize i = 0; i < n; i++)
    {
      RefJob *j = &jobs[i];
      j->start = (j->runtime < 0 || j->procs <= 0 || j->procs > P) ? -2 : -1;
    }
  gsize lo = 0, hi = 0;
  gint64 t = G_MININT64, pass = 0;
  gboolean again = FALSE;
  for (;;)
    {
      /* The next instant: the next submit or the next end of a running job;
       * the same instant again when the last pass started a job of runtime 0. */
      if (!again)
        {
          gint64 next = hi < n ? jobs[hi].submit : G_MAXINT64;
          for (gsize i = lo; i < hi; i++)
            if (jobs[i].start >= 0 && jobs[i].start + jobs[i].runtime > t
                && jobs[i].start + jobs[i].runtime < next)
              next = jobs[i].start + jobs[i].runtime;
          if (next == G_MAXINT64)
            break;
          t = next;
        }
      again = FALSE;
      pass++;
      while (hi < n && jobs[hi].submit <= t)
        hi++;
      while (lo < hi && (jobs[lo].start == -2
                         || (jobs[lo].start >= 0 && !running_at (&jobs[lo], t, pass))))
        lo++;

      /* Free processors now. */
      gint64 free_now = P;
      for (gsize i = lo; i < hi; i++)
        if (jobs[i].start >= 0 && jobs[i].start + jobs[i].runtime > t)
          free_now -= jobs[i].procs;

      /* Waiting jobs, in (submit, id) order (the array's): start from the
       * head while it fits. */
      gsize h;
      for (h = lo; h < hi; h++)
        {
          RefJob *j = &jobs[h];
          if (j->start != -1)
            continue;
          if (j->procs > free_now)
            break;
          j->start = t;
          j->pass = pass;
          again |= j->runtime == 0;
          free_now -= j->procs;
        }
      if (h == hi)
        continue;
      RefJob *head = &jobs[h];

      /* Shadow time: try the expected ends of running jobs, smallest first;
       * the first at which the head would fit. */
      gint64 shadow = G_MININT64, free_at_shadow = 0;
      for (;;)
        {
          gint64 candidate = G_MAXINT64;
          for (gsize i = lo; i < hi; i++)
            if (running_at (&jobs[i], t, pass))
              {
                gint64 e = jobs[i].start + jobs[i].estimate;
                if (e > shadow && e < candidate)
                  candidate = e;
              }
          g_assert (candidate != G_MAXINT64);
          gint64 f = free_now;
          for (gsize i = lo; i < hi; i++)
            if (running_at (&jobs[i], t, pass) && jobs[i].start + jobs[i].estimate <= candidate)
              f += jobs[i].procs;
          shadow = candidate;
          free_at_shadow = f;
          if (f >= head->procs)
            break;
        }
      gint64 extra = free_at_shadow - head->procs;

      /* Everyone behind the head, in order. */
      for (gsize i = h + 1; i < hi; i++)
        {
          RefJob *j = &jobs[i];
          if (j->start != -1 || j->procs > free_now)
            continue;
          gboolean ends_before = t + j->estimate <= shadow;
          if (!ends_before && j->procs > extra)
            continue;
          j->start = t;
          j->pass = pass;
          again |= j->runtime == 0;
          free_now -= j->procs;
          if (!ends_before)
            extra -= j->procs;
        }
    }
}

static void
test_kth (void)
{
  const gchar *shared = g_getenv ("MINNA_SHARED_DIR");
  g_autofree gchar *path = g_build_filename (shared != NULL ? shared : "../shared", "traces",
                                             "KTH-SP2-1996-2.1-cln.swf.gz", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autofree gchar *msg = g_strdup_printf ("%s is absent", path);
      g_test_skip (msg);
      return;
    }
  g_autoptr(GError) error = NULL;
  MnTraceHeader header = { 0 };
  guint64 skipped = 0;
  g_autoptr(GPtrArray) jobs = mn_trace_load (path, MN_TRACE_FORMAT_SWF, FALSE, &header, &skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, >, 28000);
  gint64 P = header.max_procs;
  g_assert_cmpint (P, ==, 100);

  /* The simulator */
  g_autoptr(MnSimWorkload) w = mn_sim_workload_new ();
  for (guint i = 0; i < jobs->len; i++)
    mn_sim_workload_add_job (w, g_ptr_array_index (jobs, i));
  mn_sim_workload_set_header (w, header.max_procs, header.max_nodes, 0);
  MnSimConfig config;
  mn_sim_config_init (&config);
  g_autoptr(MnSimResult) r = mn_sim_run (w, &config, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  /* The reference, from the same records, with the rules restated. */
  gsize n = jobs->len;
  g_autofree RefJob *ref = g_new0 (RefJob, n);
  for (gsize i = 0; i < n; i++)
    {
      const MnTraceJob *j = g_ptr_array_index (jobs, i);
      RefJob *x = &ref[i];
      x->id = j->id;
      x->submit = j->submit;
      x->procs = j->procs > 0 ? j->procs : j->procs_alloc;
      x->runtime = j->runtime;
      x->estimate = j->walltime_req > 0 ? j->walltime_req : j->runtime;
      if (x->estimate < x->runtime)
        x->estimate = x->runtime;
    }
  reference_easy (ref, n, P);

  gsize compared = 0, mismatches = 0, skipped_jobs = 0;
  for (gsize i = 0; i < n; i++)
    {
      const MnSimJobResult *s = mn_sim_result_lookup (r, ref[i].id);
      g_assert_nonnull (s);
      gint64 want = ref[i].start == -2 ? -1 : ref[i].start;
      if (ref[i].start == -2)
        skipped_jobs++;
      if (s->start != want)
        {
          if (mismatches++ < 10)
            g_test_message ("job %" G_GINT64_FORMAT ": simulator %" G_GINT64_FORMAT
                            ", reference %" G_GINT64_FORMAT, ref[i].id, s->start, want);
        }
      compared++;
    }
  g_test_message ("%" G_GSIZE_FORMAT " jobs compared, %" G_GSIZE_FORMAT " skipped by both, %"
                  G_GSIZE_FORMAT " mismatches", compared, skipped_jobs, mismatches);
  g_assert_cmpuint (mismatches, ==, 0);
  g_assert_cmpuint (mn_sim_result_get_metrics (r)->skipped, ==, skipped_jobs);
  mn_trace_header_clear (&header);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/kth/easy-start-times", test_kth);
  return g_test_run ();
}
