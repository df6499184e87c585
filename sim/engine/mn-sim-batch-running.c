/* mn-sim-batch-running.c: the running jobs in order of expected end
 * (start + estimate, then slot), the order the shadow time releases them
 * in. */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-batch-private.h"

/* Running order: expected end, then index. */
static inline gsize
running_before (const MnSimRunning *r, gint64 end, guint32 bj)
{
  return (gsize) ((r->end < end) | ((r->end == end) & (r->bj < bj)));
}

static gsize
running_lower_bound (MnSimBatch *b, gint64 end, guint32 bj)
{
  /* (The steps by arithmetic, not branches: the comparisons are a coin
   * toss, and every start and end of a job does this.) */
  const MnSimRunning *base = b->running;
  gsize n = b->n_running;
  if (n == 0)
    return 0;
  while (n > 1)
    {
      gsize half = n / 2;
      base += running_before (base + half, end, bj) * half;
      n -= half;
    }
  return (gsize) (base - b->running) + running_before (base, end, bj);
}

/* The running list sits in running_buf with room on both sides, and an
 * insertion or removal moves the shorter side: jobs end mostly near the
 * front (the earliest expected ends) and start mostly towards the back, and
 * moving the rest of a list of thousands each time was a good part of a
 * congested replay. */
static void
running_make_room (MnSimBatch *b)
{
  gsize n = b->n_running, off = (gsize) (b->running - b->running_buf);
  if (b->running_buf != NULL && off > 0 && off + n < b->running_alloc)
    return;
  if (n + 2 > b->running_alloc / 2)
    {
      gsize alloc = MAX (256, b->running_alloc * 2);
      MnSimRunning *buf = g_new (MnSimRunning, alloc);
      gsize noff = (alloc - n) / 2;
      if (n > 0)
        memcpy (buf + noff, b->running, n * sizeof (MnSimRunning));
      g_free (b->running_buf);
      b->running_buf = buf;
      b->running_alloc = alloc;
      b->running = buf + noff;
      return;
    }
  MnSimRunning *to = b->running_buf + (b->running_alloc - n) / 2;
  memmove (to, b->running, n * sizeof (MnSimRunning));
  b->running = to;
}

void
mn_sim_batch_running_insert (MnSimBatch *b, guint32 bj)
{
  running_make_room (b);
  const MnSimBatchJob *j = mn_sim_batch_job (b, bj);
  gint64 end = j->start + j->estimate;
  gsize n = b->n_running, pos = running_lower_bound (b, end, bj);
  if (pos < n / 2)
    {
      memmove (b->running - 1, b->running, pos * sizeof (MnSimRunning));
      b->running--;
    }
  else
    memmove (&b->running[pos + 1], &b->running[pos], (n - pos) * sizeof (MnSimRunning));
  b->running[pos] = (MnSimRunning) { end, bj };
  b->n_running++;
}

void
mn_sim_batch_running_remove (MnSimBatch *b, guint32 bj)
{
  const MnSimBatchJob *j = mn_sim_batch_job (b, bj);
  gsize n = b->n_running, pos = running_lower_bound (b, j->start + j->estimate, bj);
  g_assert (pos < n && b->running[pos].bj == bj);
  if (pos < n / 2)
    {
      memmove (b->running + 1, b->running, pos * sizeof (MnSimRunning));
      b->running++;
    }
  else
    memmove (&b->running[pos], &b->running[pos + 1], (n - pos - 1) * sizeof (MnSimRunning));
  b->n_running--;
}
