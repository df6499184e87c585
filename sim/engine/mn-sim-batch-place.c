/* mn-sim-batch-place.c: first-fit placement of a starting job, on the
 * free state now or, for a backfilled job ending after the shadow time, on
 * min(now, extra) (mn-sim-batch-shadow.c).  The callers checked that it
 * fits. */
#define G_LOG_DOMAIN "minna-sim"

#include "mn-sim-batch-private.h"

static void
alloc_push (MnSimBatchJob *j, guint32 node, guint32 chunks)
{
  if (j->n_alloc == j->alloc_size)
    {
      j->alloc_size = MAX (4, j->alloc_size * 2);
      j->alloc = g_renew (guint32, j->alloc, 2 * (gsize) j->alloc_size);
    }
  j->alloc[2 * j->n_alloc] = node;
  j->alloc[2 * j->n_alloc + 1] = chunks;
  j->n_alloc++;
}

/* Place @j first fit over the nodes that can take a chunk now (the others
 * take nothing; in the min view too).  @with_extra: on min(now, extra),
 * taking from both; the extra is kept on the head nodes alone (see "The
 * extra, sparsely"), elsewhere the min view is the free state now.  One
 * loop for both; @with_extra is a constant in each caller, so each gets
 * its own copy without the other's test. */
G_ALWAYS_INLINE static inline void
place_first_fit (MnSimBatch *b, MnSimBatchJob *j, const gboolean with_extra)
{
  const MnSimShape *s = &b->types[j->type];
  guint32 left = j->count;
  const guint64 *kbits = &b->kbits[(gsize) j->type * b->words];
  for (guint w = 0; w < b->words && left > 0; w++)
    for (guint64 bits = kbits[w]; bits != 0 && left > 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        gboolean head = with_extra && ((b->hn_bits[w] >> (n % 64)) & 1);
        guint32 k = !head ? b->k[(gsize) n * b->n_types + j->type]
                    : b->head_whole ? 0 : b->extra_k[(gsize) j->type * b->n_nodes + n];
        if (k == 0)
          continue;
        guint32 take = MIN (k, left);
        mn_sim_free_take (&b->free, n, s, take);
        if (head)
          mn_sim_free_take (&b->extra, n, s, take);
        mn_sim_batch_node_changed (b, n);
        alloc_push (j, n, take);
        left -= take;
      }
  g_assert (left == 0);
}

/* Place @j first fit on the free state now; the caller checked cap[]. */
void
mn_sim_batch_place_now (MnSimBatch *b, MnSimBatchJob *j)
{
  place_first_fit (b, j, FALSE);
}

/* Place @j first fit on min(now, extra), taking from both. */
void
mn_sim_batch_place_now_and_extra (MnSimBatch *b, MnSimBatchJob *j)
{
  place_first_fit (b, j, TRUE);
}
