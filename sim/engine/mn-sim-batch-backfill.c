/* mn-sim-batch-backfill.c: EASY's step 4., the scan of the queue behind
 * the blocked head for jobs that may start now without delaying it,
 * skipping the blocks whose bounds say none may (mn-sim-batch-blocks.c). */
#define G_LOG_DOMAIN "minna-sim"

#include "mn-sim-batch-private.h"

/* Chunks of shape @t that fit min(now, extra) over all.q. */
static inline guint64
extra_cap (MnSimBatch *b, guint t)
{
  if (b->head_whole)
    return b->extra_none ? 0 : b->cap[t] - b->wh_sum[t];
  if (G_UNLIKELY (!b->extra_ready[t]))
    mn_sim_batch_extra_type_compute (b, t);
  return b->extra_none ? 0 : b->cap[t] - b->extra_deficit[t];
}

/* The slots of block @k whose jobs may start now by the block's bounds
 * (see MN_SIM_QBLOCK); 0 if none. */
static guint32
block_candidates (MnSimBatch *b, gsize k, gint64 now)
{
  MnSimQBlock *blk = &b->blocks[k];
  guint32 slots = 0;
  for (guint32 types = blk->types; types != 0; types &= types - 1)
    {
      guint t = (guint) __builtin_ctz (types);
      if (blk->of_type[t] == 0)
        {
          /* No job of the shape left: its bounds go. */
          blk->types &= ~(1u << t);
          blk->front[t].n = 0;
          continue;
        }
      const MnSimFront *f = &blk->front[t];
      guint64 cap = b->cap[t];
      if (cap < f->count[0]
          || (now < b->down_end && now + f->estimate[f->n - 1] > b->down_start))
        continue;
      /* The smallest estimate among counts that fit now: does one end by
       * the shadow time?  Else does the smallest count fit the extra? */
      guint32 i = 0;
      while (i + 1 < f->n && f->count[i + 1] <= cap)
        i++;
      mn_sim_batch_shadow_ensure (b);
      if (now + f->estimate[i] <= b->shadow || extra_cap (b, t) >= f->count[0])
        slots |= blk->of_type[t];
    }
  return slots;
}

/* Try the queued jobs from position @i on behind the blocked head.  A block
 * whose jobs of a shape are all looked at gets that shape's bounds
 * recomputed over those that stay (started and parked ones no longer hold
 * them down), so that the next passes skip them while none can start. */
void
mn_sim_batch_backfill_from (MnSimBatch *b, gsize i, gint64 now, MnSimStartFunc started,
                            gpointer user_data)
{
  while (i < b->queue_len)
    {
      gsize k = i / MN_SIM_QBLOCK, lo = k * MN_SIM_QBLOCK, hi = MIN (lo + MN_SIM_QBLOCK, b->queue_len);
      /* (The bounds hold for a block's tail too.) */
      guint32 slots = block_candidates (b, k, now);
      if (slots == 0)
        {
          i = hi;
          continue;
        }
      /* Shapes all of whose jobs in the block are looked at, and some of
       * which left since their bounds were computed. */
      gboolean whole = i == lo;
      guint32 refresh = 0;
      MnSimFront front[MN_SIM_MAX_TYPES];
      if (whole)
        for (guint32 types = b->blocks[k].types & b->blocks[k].loose; types != 0; types &= types - 1)
          {
            guint t = (guint) __builtin_ctz (types);
            if ((b->blocks[k].of_type[t] & ~slots) == 0)
              {
                refresh |= 1u << t;
                front[t].n = 0;
              }
          }
      /* The candidates from @i on (the masks change only at the job looked
       * at). */
      for (slots &= G_MAXUINT32 << (i - lo); slots != 0; slots &= slots - 1)
        {
          gsize x = lo + (gsize) __builtin_ctz (slots);
          const MnSimQueued *q = &b->queue[x];
          /* The reservation first (no memory but the entry's), then the caps. */
          gboolean by_shadow = FALSE;
          if (b->cap[q->type] < q->count || mn_sim_batch_time_blocked (b, q, now)
              || (mn_sim_batch_shadow_ensure (b),
                  by_shadow = now + q->estimate <= b->shadow,
                  !by_shadow && extra_cap (b, q->type) < q->count))
            {
              if (refresh & (1u << q->type))
                mn_sim_front_add (&front[q->type], q->count, q->estimate);
              continue;
            }
          if (mn_sim_batch_capped (b, q))
            {
              mn_sim_batch_park_capped (b, q, x);
              continue;
            }
          guint32 bj = q->bj;
          MnSimBatchJob *j = mn_sim_batch_job (b, bj);
          if (by_shadow)
            mn_sim_batch_place_now (b, j);
          else
            mn_sim_batch_place_now_and_extra (b, j);
          mn_sim_batch_start_job (b, bj, x, now);
          started (bj, user_data);
          if (!mn_sim_batch_anything_fits (b))
            return;
        }
      MnSimQBlock *blk = &b->blocks[k];
      for (; refresh != 0; refresh &= refresh - 1)
        {
          guint t = (guint) __builtin_ctz (refresh);
          blk->front[t] = front[t];
          blk->loose &= ~(1u << t);
          if (blk->of_type[t] == 0)
            blk->types &= ~(1u << t);
        }
      i = hi;
    }
}
