/* mn-sim-batch-shadow.c: EASY's reservation for the blocked head: its
 * shadow time, and the extra state that later jobs may take without
 * delaying it (steps 2. and 3. of the comment at the top of
 * mn-sim-batch.c). */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-batch-private.h"

/* The extra, sparsely.  The extra state is E = F0 + R - H: the free state
 * F0 when the shadow time is computed, plus what the released jobs hold (R),
 * minus the head packed first fit (H).  A backfill phase only ever reads
 * min(F, E), F the free state now, which only decreases in the phase: every
 * job started takes from F, and a job ending after the shadow time takes the
 * same from E.  So on a node the head does not take from, E >= F holds from
 * the start (E = F0 + R >= F0) to the end of the phase, and min(F, E) = F:
 * the "min" view is the free view there.  It differs only on the head's
 * nodes, and of those only on the ones with a free core now (a node without
 * one gets nothing in the phase).  Those are the "head nodes": E is kept for
 * them alone, and per shape t the min view's cap is cap[t] minus the sum over
 * head nodes of (k - the min view's chunks), the deficit.  Copying the whole
 * free state per pass and re-deriving the min view over every free node
 * (what this did before) gave the same numbers at several times the cost.
 *
 * E is held for the nodes stamped with the current epoch: the released jobs'
 * nodes and the head's (a copy of F0 there first).  On the others E = F0,
 * whose chunks of the head's shape are k[] still. */

/* (__builtin_popcountll is a library call without -mpopcnt.) */
static inline guint32
popcount64 (guint64 x)
{
  x = x - ((x >> 1) & G_GUINT64_CONSTANT (0x5555555555555555));
  x = (x & G_GUINT64_CONSTANT (0x3333333333333333)) + ((x >> 2) & G_GUINT64_CONSTANT (0x3333333333333333));
  x = (x + (x >> 4)) & G_GUINT64_CONSTANT (0x0f0f0f0f0f0f0f0f);
  return (guint32) ((x * G_GUINT64_CONSTANT (0x0101010101010101)) >> 56);
}

/* compute_shadow for a head whose chunks take a whole node (F in node mode):
 * a chunk fits a node if and only if nothing runs there, that is from the
 * node's latest expected end on (node_end), so the shadow time is the first
 * expected end by which @count nodes are free, and the head at the shadow
 * time is the first @count such nodes, which keep no core free in the extra.
 * The same numbers as the general rule, without the node states: nearly
 * every blocked head of a congested TSUBAME world is one (wide f_node jobs).
 *
 * They are kept from one pass to the next while they hold: with the head's
 * shape and count the same, the shadow time s stays as long as fewer than
 * @count nodes are free before s and at least @count by s (node_end_set
 * keeps both counts as jobs start and end), and its nodes stay unless a
 * node up to the last of them went from one side of s to the other.  The
 * same head waits through most passes of a congested month, and walking the
 * running jobs again each time was the largest cost of its replay. */
static gint64
compute_shadow_whole (MnSimBatch *b, MnSimBatchJob *h)
{
  guint32 epoch = b->epoch;
  gint64 shadow;
  b->head_whole = TRUE;
  if (b->wc_valid && b->wc_type == h->type && b->wc_count == h->count
      && b->wc_before < (gint64) h->count && b->wc_by >= (gint64) h->count)
    shadow = b->wc_shadow;
  else
    {
      /* Release the running jobs in order of expected end (head_bits: the
       * empty nodes so far): a node is free once all of its jobs are. */
      guint64 cap = b->cap[h->type], before = cap;
      gint64 group = G_MININT64;
      gsize r, group_first = 0;
      shadow = G_MAXINT64;
      for (r = 0; r < b->n_running; r++)
        {
          gint64 end = b->running[r].end;
          if (shadow != G_MAXINT64 && end != shadow)
            break;
          if (end != group)
            {
              group = end;
              group_first = r;
              before = cap;
            }
          MnSimBatchJob *rj = mn_sim_batch_job (b, b->running[r].bj);
          for (guint32 a = 0; a < rj->n_alloc; a++)
            {
              guint n = rj->alloc[2 * a];
              if (b->extra_stamp[n] != epoch)
                {
                  b->extra_stamp[n] = epoch;
                  b->extra_kh[n] = b->node_jobs[n];
                }
              if (--b->extra_kh[n] == 0)
                {
                  cap++;
                  b->head_bits[n / 64] |= G_GUINT64_CONSTANT (1) << (n % 64);
                }
            }
          if (shadow == G_MAXINT64 && cap >= h->count)
            shadow = end;
        }
      /* Never fitting cannot happen for a job that fits an empty all.q;
       * keep the extra empty then so nothing can overtake it. */
      b->wc_valid = cap >= h->count;
      if (!b->wc_valid)
        {
          b->extra_none = TRUE;
          memset (b->hn_bits, 0, b->words * sizeof (guint64));
          memset (b->extra_ready, 0, sizeof b->extra_ready);
          b->extra_valid = TRUE;
          return shadow;
        }
      b->wc_type = h->type;
      b->wc_count = h->count;
      b->wc_shadow = shadow;
      b->wc_before = (gint64) before;
      b->wc_by = (gint64) cap;
      memcpy (b->wc_ready, b->head_bits, b->words * sizeof (guint64));
      /* Per node, the jobs not released (ending after the shadow time), and
       * those with the ones ending at it: on the released nodes (the others
       * have all their jobs ending after it). */
      if (++b->wc_epoch == 0)
        {
          memset (b->wc_stamp, 0, b->n_nodes * sizeof (guint32));
          b->wc_epoch = 1;
        }
      for (gsize g = 0; g < r; g++)
        {
          const MnSimBatchJob *gj = mn_sim_batch_job (b, b->running[g].bj);
          for (guint32 a = 0; a < gj->n_alloc; a++)
            {
              guint n = gj->alloc[2 * a];
              if (b->wc_stamp[n] != b->wc_epoch)
                {
                  b->wc_stamp[n] = b->wc_epoch;
                  b->wc_after[n] = b->wc_from[n] = b->extra_kh[n];
                }
              if (g >= group_first)
                b->wc_from[n]++;
            }
        }
    }
  /* The head at the shadow time (wh_bits): the first @count nodes free by
   * then.  The head nodes are those of them with a free core now. */
  guint32 need = h->count;
  for (guint w = 0; w < b->words; w++)
    {
      guint64 ready = need > 0 ? b->wc_ready[w] : 0;
      guint32 here = popcount64 (ready);
      if (here > need)
        {
          /* Keep the first @need of them. */
          guint64 x = ready;
          for (guint32 i = 1; i < need; i++)
            x &= x - 1;
          guint64 last = x & -x;
          ready &= last | (last - 1);
          here = need;
        }
      need -= here;
      b->hn_bits[w] = ready & b->fc_bits[w];
      /* The extra's deficit (extra_cap) is what the head's nodes hold:
       * node_refresh keeps it; the nodes that join or leave change it. */
      for (guint64 bits = ready ^ b->wh_bits[w]; bits != 0; bits &= bits - 1)
        {
          guint n = w * 64 + (guint) __builtin_ctzll (bits);
          const guint32 *kn = &b->k[(gsize) n * b->n_types];
          if (ready & (G_GUINT64_CONSTANT (1) << (n % 64)))
            for (guint t = 0; t < b->n_types; t++)
              b->wh_sum[t] += kn[t];
          else
            for (guint t = 0; t < b->n_types; t++)
              b->wh_sum[t] -= kn[t];
        }
      b->wh_bits[w] = ready;
    }
  b->extra_none = FALSE;
  memset (b->extra_ready, 0, sizeof b->extra_ready);
  b->extra_valid = TRUE;
  return shadow;
}

static gint64
compute_shadow (MnSimBatch *b, MnSimBatchJob *h)
{
  const MnSimShape *hs = &b->types[h->type];
  guint nt = b->n_types, words = b->words;
  if (++b->epoch == 0)
    {
      memset (b->extra_stamp, 0, b->n_nodes * sizeof (guint32));
      b->epoch = 1;
    }
  guint32 epoch = b->epoch;
  /* Nodes that can take a chunk of the head at the shadow time: those that
   * can now, and released ones that can then. */
  memcpy (b->head_bits, &b->kbits[(gsize) h->type * words], words * sizeof (guint64));
  if (hs->cores == b->node.cores)
    return compute_shadow_whole (b, h);
  b->head_whole = FALSE;
  guint64 cap = b->cap[h->type];
  gint64 shadow = G_MAXINT64;
  for (gsize r = 0; r < b->n_running; r++)
    {
      gint64 end = b->running[r].end;
      if (shadow != G_MAXINT64 && end != shadow)
        break;
      MnSimBatchJob *rj = mn_sim_batch_job (b, b->running[r].bj);
      const MnSimShape *rs = &b->types[rj->type];
      for (guint32 a = 0; a < rj->n_alloc; a++)
        {
          guint n = rj->alloc[2 * a];
          if (b->extra_stamp[n] != epoch)
            {
              b->extra_stamp[n] = epoch;
              b->extra.cores[n] = b->free.cores[n];
              b->extra.gpus[n] = b->free.gpus[n];
              b->extra.memory_mb[n] = b->free.memory_mb[n];
              b->extra_kh[n] = b->k[(gsize) n * nt + h->type];
            }
          mn_sim_free_give (&b->extra, n, rs, rj->alloc[2 * a + 1]);
          guint32 k = mn_sim_fit_count (b, &b->extra, n, h->type);
          cap += k - b->extra_kh[n];
          b->extra_kh[n] = k;
          if (k > 0)
            b->head_bits[n / 64] |= G_GUINT64_CONSTANT (1) << (n % 64);
        }
      if (shadow == G_MAXINT64 && cap >= h->count)
        shadow = end;
    }
  /* The head at the shadow time, first fit: what remains is the extra. */
  guint32 left = h->count;
  memset (b->hn_bits, 0, words * sizeof (guint64));
  for (guint w = 0; w < words && left > 0; w++)
    for (guint64 bits = b->head_bits[w]; bits != 0 && left > 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        gboolean stamped = b->extra_stamp[n] == epoch;
        guint32 k = MIN (stamped ? b->extra_kh[n] : b->k[(gsize) n * nt + h->type], left);
        if (k == 0)
          continue;
        if (!stamped)
          {
            b->extra_stamp[n] = epoch;
            b->extra.cores[n] = b->free.cores[n];
            b->extra.gpus[n] = b->free.gpus[n];
            b->extra.memory_mb[n] = b->free.memory_mb[n];
          }
        mn_sim_free_take (&b->extra, n, hs, k);
        if (b->free.cores[n] > 0)
          b->hn_bits[w] |= G_GUINT64_CONSTANT (1) << (n % 64);
        left -= k;
      }
  /* Never fitting cannot happen for a job that fits an empty all.q; keep
   * the extra empty then so nothing can overtake it. */
  b->extra_none = left > 0;
  if (b->extra_none)
    memset (b->hn_bits, 0, words * sizeof (guint64));
  /* The min view per shape is computed when a job first needs it. */
  memset (b->extra_ready, 0, sizeof b->extra_ready);
  b->extra_valid = TRUE;
  return shadow;
}

/* The min(now, extra) view of shape @t on the head nodes, and its deficit.
 * (Under a whole-node head, a head node has no core in the extra: it takes
 * nothing.) */
void
mn_sim_batch_extra_type_compute (MnSimBatch *b, guint t)
{
  const guint nt = b->n_types;
  const guint32 *k = b->k;
  guint32 *xk = &b->extra_k[(gsize) t * b->n_nodes];
  guint64 deficit = 0;
  for (guint w = 0; w < b->words; w++)
    for (guint64 bits = b->hn_bits[w]; bits != 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        guint32 m = mn_sim_fit_count_min (b, n, t);
        xk[n] = m;
        deficit += k[(gsize) n * nt + t] - m;
      }
  b->extra_deficit[t] = deficit;
  b->extra_ready[t] = TRUE;
}

/* The shadow time and the extra, computed by the first look that needs
 * them (mn_sim_batch_shadow_ensure): a job that fits now and would not run
 * into a maintenance window.  Nothing starts before (a start needs them), so
 * they are what the pass would have computed first; a pass that finds no
 * such job (about a fifth of them in a congested world) never computes
 * them. */
void
mn_sim_batch_shadow_compute (MnSimBatch *b)
{
  b->shadow_pending = FALSE;
  MnSimBatchJob *head = mn_sim_batch_job (b, b->head_bj);
  b->shadow = compute_shadow (b, head);
  /* Started at its shadow time it would run into the window: it waits for
   * the window's end, and every job ending before the window may pass it
   * (they all end by the shadow time). */
  if (b->shadow < b->down_end && b->shadow + head->estimate > b->down_start)
    b->shadow = b->down_end;
}
