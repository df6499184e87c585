/* mn-sim-batch-queue.c: all.q's waiting queue and its job slots.
 *
 * The queue is one array of compact entries in (submit, id) order, scanned
 * by every pass; an entry whose job started or was parked is marked
 * MN_SIM_BATCH_REMOVED and the array is compacted now and then.  The jobs
 * themselves (queued and running) sit in reused slots. */
#define G_LOG_DOMAIN "minna-sim"

#include "mn-sim-batch-private.h"

void
mn_sim_batch_enqueue (MnSimBatch *b, guint32 bj)
{
  if (b->queue_len == b->queue_alloc)
    {
      b->queue_alloc = MAX (256, b->queue_alloc * 2);
      b->queue = g_renew (MnSimQueued, b->queue, b->queue_alloc);
    }
  const MnSimBatchJob *j = &g_array_index (b->jobs, MnSimBatchJob, bj);
  MnSimQueued *q = &b->queue[b->queue_len++];
  q->bj = bj;
  q->count = j->count;
  q->type = j->type;
  q->user = j->user;
  q->group = j->group;
  q->cores = (guint32) MIN ((guint64) j->count * b->types[j->type].cores, G_MAXUINT32);
  q->estimate = j->estimate;
  b->queue_live++;
  mn_sim_batch_block_add (b, b->queue_len - 1, q);
}

/* Slots are reused once their job ends: the array holds what is queued or
 * running (thousands), not every job of the trace, and stays in the cache.
 * (Ties of the running order by slot index do not matter: the shadow time
 * releases every job of one expected end at once.) */
guint32
mn_sim_batch_add (MnSimBatch *b, const MnSimBatchJob *job)
{
  guint32 slot;
  MnSimBatchJob *j;
  if (b->n_free_slots > 0)
    {
      slot = b->free_slots[--b->n_free_slots];
      j = mn_sim_batch_job (b, slot);
      guint32 *alloc = j->alloc, alloc_size = j->alloc_size;
      *j = *job;
      j->alloc = alloc;
      j->alloc_size = alloc_size;
    }
  else
    {
      slot = b->jobs->len;
      g_array_append_val (b->jobs, *job);
      j = mn_sim_batch_job (b, slot);
      j->alloc = NULL;
      j->alloc_size = 0;
    }
  j->n_alloc = 0;
  return slot;
}

guint64
mn_sim_batch_foreach_queued (MnSimBatch *b, void (*func) (guint32 job, gpointer data), gpointer data)
{
  guint64 n = 0;
  mn_sim_batch_unpark_all (b);
  for (gsize i = 0; i < b->queue_len; i++)
    if (b->queue[i].bj != MN_SIM_BATCH_REMOVED)
      {
        func (mn_sim_batch_job (b, b->queue[i].bj)->job, data);
        n++;
      }
  return n;
}

void
mn_sim_batch_queue_compact (MnSimBatch *b)
{
  gsize out = 0;
  for (gsize i = b->queue_head; i < b->queue_len; i++)
    if (b->queue[i].bj != MN_SIM_BATCH_REMOVED)
      b->queue[out++] = b->queue[i];
  b->queue_len = out;
  b->queue_head = 0;
  g_assert (out == b->queue_live);
  mn_sim_batch_blocks_rebuild (b);

}
