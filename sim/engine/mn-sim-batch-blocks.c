/* mn-sim-batch-blocks.c: the queue's blocks of MN_SIM_QBLOCK slots, and
 * the lower bounds (fronts) per shape that let a backfill scan skip a block
 * none of whose jobs may start (mn-sim-batch-private.h, MN_SIM_QBLOCK; the
 * scan: mn-sim-batch-backfill.c). */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-batch-private.h"

/* Add (@count, @estimate) to front @f, keeping it a lower bound. */
void
mn_sim_front_add (MnSimFront *f, guint32 count, gint64 estimate)
{
  /* A point with a count and an estimate no larger: nothing to do. */
  guint32 i = 0;
  while (i < f->n && f->count[i] < count)
    {
      if (f->estimate[i] <= estimate)
        return;
      i++;
    }
  if (i < f->n && f->count[i] == count && f->estimate[i] <= estimate)
    return;
  /* The points it is below go: from @i on (counts >= count), those with
   * estimates >= estimate, a run since estimates fall. */
  guint32 j = i;
  while (j < f->n && f->estimate[j] >= estimate)
    j++;
  guint32 count_v[MN_SIM_FRONT + 1];
  gint64 estimate_v[MN_SIM_FRONT + 1];
  guint32 n = 0;
  for (guint32 x = 0; x < i; x++, n++)
    count_v[n] = f->count[x], estimate_v[n] = f->estimate[x];
  count_v[n] = count, estimate_v[n] = estimate, n++;
  for (guint32 x = j; x < f->n; x++, n++)
    count_v[n] = f->count[x], estimate_v[n] = f->estimate[x];
  if (n > MN_SIM_FRONT)
    {
      /* One point too many: the last two become one below both (the first's
       * count, the second's estimate). */
      estimate_v[MN_SIM_FRONT - 1] = estimate_v[MN_SIM_FRONT];
      n = MN_SIM_FRONT;
    }
  f->n = n;
  memcpy (f->count, count_v, n * sizeof (guint32));
  memcpy (f->estimate, estimate_v, n * sizeof (gint64));
}

static inline void
block_reset (MnSimQBlock *blk)
{
  blk->live = 0;
  blk->types = 0;
  blk->loose = 0;
  for (guint t = 0; t < MN_SIM_MAX_TYPES; t++)
    {
      blk->of_type[t] = 0;
      blk->front[t].n = 0;
    }
}

static inline void
bounds_add (MnSimQBlock *blk, const MnSimQueued *q)
{
  blk->types |= 1u << q->type;
  mn_sim_front_add (&blk->front[q->type], q->count, q->estimate);
}

void
mn_sim_batch_block_add (MnSimBatch *b, gsize slot, const MnSimQueued *q)
{
  gsize k = slot / MN_SIM_QBLOCK;
  if (k >= b->n_blocks)
    {
      gsize n = MAX (k + 1, b->n_blocks * 2);
      b->blocks = g_renew (MnSimQBlock, b->blocks, n);
      for (gsize x = b->n_blocks; x < n; x++)
        block_reset (&b->blocks[x]);
      b->n_blocks = n;
    }
  MnSimQBlock *blk = &b->blocks[k];
  blk->live |= 1u << (slot % MN_SIM_QBLOCK);
  blk->of_type[q->type] |= 1u << (slot % MN_SIM_QBLOCK);
  bounds_add (blk, q);
}

/* @slot's job leaves the queue (its entry is still there). */
void
mn_sim_batch_block_remove (MnSimBatch *b, gsize slot)
{
  MnSimQBlock *blk = &b->blocks[slot / MN_SIM_QBLOCK];
  guint t = b->queue[slot].type;
  blk->live &= ~(1u << (slot % MN_SIM_QBLOCK));
  blk->of_type[t] &= ~(1u << (slot % MN_SIM_QBLOCK));
  blk->loose |= 1u << t;
}

void
mn_sim_batch_blocks_rebuild (MnSimBatch *b)
{
  for (gsize x = 0; x < b->n_blocks; x++)
    block_reset (&b->blocks[x]);
  for (gsize i = 0; i < b->queue_len; i++)
    if (b->queue[i].bj != MN_SIM_BATCH_REMOVED)
      mn_sim_batch_block_add (b, i, &b->queue[i]);
}
