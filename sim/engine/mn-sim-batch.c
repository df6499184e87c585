/* mn-sim-batch.c: all.q, FCFS with EASY backfilling (or plain FCFS).
 *
 * One model serves both modes.  The machine is n_nodes identical nodes and a
 * job asks for `count` chunks of one shape (cores, GPUs, memory):
 *   - processor mode: one node holding P processors, chunks of one processor;
 *   - node mode: the all.q nodes, chunks of a TSUBAME resource type.
 *
 * Packing is first fit: nodes are taken in index order and each takes as many
 * of the job's chunks as fit in what it has free, until all are placed.
 * (Chunks of one job are identical, so this is exactly placing them one at a
 * time on the lowest-numbered node where each fits.)  A job "fits" when the
 * sum over nodes of the chunks each can take reaches its count; that sum is
 * kept per shape (cap[]), so the test is O(1) and only a start is O(nodes).
 *
 * EASY, as issue 4 specifies it:
 *   1. start jobs from the head of the queue while they fit;
 *   2. if the head does not fit, release running jobs in order of expected end
 *      (start + estimate) on a copy of the free state until the head packs;
 *      that job's expected end is the shadow time, and every job expected to
 *      end at that same instant is released too (the state "at" the shadow
 *      time);
 *   3. the extra state is that shadow-time state minus the head packed into
 *      it first fit (in processor mode: the free processors at the shadow
 *      time minus the head's);
 *   4. every later job, in queue order, starts now if it fits now and either
 *      now + estimate <= shadow, or it packs into the per-node minimum of the
 *      free state now and the extra state; such a job (ending after the
 *      shadow time) is placed there and taken from both, so the head's room
 *      at the shadow time is never touched.  In processor mode this is the
 *      textbook rule "procs <= extra, and extra -= procs".
 *
 * This file: setting all.q up and down, the scheduling pass (steps 1. and
 * the hand-over to the backfill), a job's start and end, and what the
 * over-subscribing designs change.  The other concerns have files of their
 * own (list in mn-sim-batch-private.h).
 */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-batch-private.h"

void
mn_sim_batch_init (MnSimBatch *b, MnSimScheduler scheduler, guint n_nodes,
                   const MnSimShape *node, const MnSimShape *types, guint n_types)
{
  memset (b, 0, sizeof *b);
  g_assert (n_types <= MN_SIM_MAX_TYPES && n_nodes > 0);
  b->scheduler = scheduler;
  b->n_nodes = n_nodes;
  b->n_types = n_types;
  b->node = *node;
  memcpy (b->types, types, n_types * sizeof (MnSimShape));
  mn_sim_free_alloc (&b->free, n_nodes);
  mn_sim_free_alloc (&b->extra, n_nodes);
  b->extra_stamp = g_new0 (guint32, n_nodes);
  b->hn_bits = g_new0 (guint64, (n_nodes + 63) / 64);
  b->fc_bits = g_new0 (guint64, (n_nodes + 63) / 64);
  b->extra_kh = g_new0 (guint32, n_nodes);
  b->node_jobs = g_new0 (guint32, n_nodes);
  b->wc_after = g_new0 (guint32, n_nodes);
  b->wc_from = g_new0 (guint32, n_nodes);
  b->wc_stamp = g_new0 (guint32, n_nodes);
  b->wc_ready = g_new0 (guint64, (n_nodes + 63) / 64);
  b->wh_bits = g_new0 (guint64, (n_nodes + 63) / 64);
  b->k = g_new0 (guint32, (gsize) n_nodes * n_types);
  b->node_occ = g_new0 (double, n_nodes);
  b->words = (n_nodes + 63) / 64;
  b->kbits = g_new0 (guint64, (gsize) b->words * n_types);
  b->head_bits = g_new0 (guint64, b->words);
  mn_sim_batch_fit_tables_init (b);
  b->down_start = b->down_end = G_MAXINT64;
  b->extra_k = g_new0 (guint32, (gsize) n_nodes * n_types);
  for (guint t = 0; t < n_types; t++)
    b->k_empty[t] = mn_sim_fit_values (node->cores, node->gpus, node->memory_mb, &types[t]);
  for (guint n = 0; n < n_nodes; n++)
    {
      b->free.cores[n] = node->cores;
      b->free.gpus[n] = node->gpus;
      b->free.memory_mb[n] = node->memory_mb;
      mn_sim_batch_node_changed (b, n);
    }
  b->jobs = g_array_new (FALSE, TRUE, sizeof (MnSimBatchJob));
}

void
mn_sim_batch_clear (MnSimBatch *b)
{
  if (b->jobs != NULL)
    for (guint i = 0; i < b->jobs->len; i++)
      g_free (g_array_index (b->jobs, MnSimBatchJob, i).alloc);
  g_clear_pointer (&b->jobs, g_array_unref);

  mn_sim_free_clear (&b->free);
  mn_sim_free_clear (&b->extra);
  g_clear_pointer (&b->extra_stamp, g_free);
  g_clear_pointer (&b->hn_bits, g_free);
  g_clear_pointer (&b->fc_bits, g_free);
  g_clear_pointer (&b->extra_kh, g_free);
  g_clear_pointer (&b->node_jobs, g_free);
  g_clear_pointer (&b->wc_after, g_free);
  g_clear_pointer (&b->wc_from, g_free);
  g_clear_pointer (&b->wc_stamp, g_free);
  g_clear_pointer (&b->wc_ready, g_free);
  g_clear_pointer (&b->wh_bits, g_free);
  g_clear_pointer (&b->k, g_free);
  g_clear_pointer (&b->extra_k, g_free);
  g_clear_pointer (&b->node_occ, g_free);
  g_clear_pointer (&b->kbits, g_free);
  g_clear_pointer (&b->head_bits, g_free);
  g_clear_pointer (&b->tab_cores, g_free);
  g_clear_pointer (&b->tab_gpus, g_free);
  g_clear_pointer (&b->occ_cores, g_free);
  g_clear_pointer (&b->occ_gpus, g_free);
  g_clear_pointer (&b->user_use, g_free);
  g_clear_pointer (&b->group_use, g_free);
  for (guint u = 0; b->user_parked != NULL && u < b->n_users; u++)
    if (b->user_parked[u] != NULL)
      g_array_unref (b->user_parked[u]);
  for (guint g = 0; b->group_parked != NULL && g < b->n_groups; g++)
    if (b->group_parked[g] != NULL)
      g_array_unref (b->group_parked[g]);
  g_clear_pointer (&b->user_parked, g_free);
  g_clear_pointer (&b->group_parked, g_free);
  g_clear_pointer (&b->running_buf, g_free);
  b->running = NULL;
  g_clear_pointer (&b->free_slots, g_free);
  g_clear_pointer (&b->queue, g_free);
  g_clear_pointer (&b->blocks, g_free);
}

gboolean
mn_sim_batch_can_ever_fit (MnSimBatch *b, guint type, guint32 count)
{
  guint64 per_node = mn_sim_fit_values (b->node.cores, b->node.gpus, b->node.memory_mb, &b->types[type]);
  return count > 0 && per_node * b->n_nodes >= count;
}

void
mn_sim_batch_set_down (MnSimBatch *b, gint64 start, gint64 end)
{
  b->down_start = start;
  b->down_end = end;
  b->changed = TRUE;
}

void
mn_sim_batch_start_job (MnSimBatch *b, guint32 bj, gsize queue_pos, gint64 now)
{
  MnSimBatchJob *j = mn_sim_batch_job (b, bj);
  j->start = now;
  gint64 end = now + j->estimate;
  for (guint32 a = 0; a < j->n_alloc; a++)
    {
      guint n = j->alloc[2 * a];
      b->node_jobs[n]++;
      if (b->wc_valid)
        mn_sim_batch_wc_job (b, n, end, 1);
    }
  mn_sim_batch_running_insert (b, bj);
  mn_sim_batch_use_add (b, j, +1);
  b->busy_cores += (guint64) j->count * b->types[j->type].cores;
  mn_sim_batch_block_remove (b, queue_pos);
  b->queue[queue_pos].bj = MN_SIM_BATCH_REMOVED;
  b->queue_live--;
}

void
mn_sim_batch_pass (MnSimBatch *b, gint64 now, MnSimStartFunc started, gpointer user_data)
{
  /* Only arrivals since the last pass, which ended with a blocked head: the
   * free state, the running jobs, the shadow time and the extra are what
   * that pass left, and every job it did not start still cannot start (it
   * does not fit, or it now ends even later after the shadow time), so only
   * the new arrivals need a look.  Exactly what a full pass would do. */
  if (!b->changed && b->blocked)
    {
      if (b->scheduler == MN_SIM_SCHEDULER_EASY && mn_sim_batch_anything_fits (b))
        mn_sim_batch_backfill_from (b, b->scan_from, now, started, user_data);
      b->scan_from = b->queue_len;
      return;
    }

  /* Parked jobs hold their slots: they go back first (and are parked again
   * by this pass). */
  gsize kept = b->queue_live + b->n_parked;
  if (b->queue_len - b->queue_head > kept + kept / 4 + 64)
    {
      mn_sim_batch_unpark_all (b);
      mn_sim_batch_queue_compact (b);
    }

  /* 1. From the head while the jobs fit (passing over capped ones). */
  gsize i = b->queue_head;
  MnSimBatchJob *head = NULL;
  gboolean head_waits_window = FALSE;
  for (; i < b->queue_len; i++)
    {
      const MnSimQueued *q = &b->queue[i];
      guint32 bj = q->bj;
      if (bj == MN_SIM_BATCH_REMOVED)
        continue;
      if (mn_sim_batch_capped (b, q))
        {
          mn_sim_batch_park_capped (b, q, i);
          continue;
        }
      MnSimBatchJob *j = mn_sim_batch_job (b, bj);
      if (b->cap[q->type] < q->count)
        {
          head = j;
          break;
        }
      if (mn_sim_batch_time_blocked (b, q, now))
        {
          head = j;
          head_waits_window = TRUE;
          break;
        }
      mn_sim_batch_place_now (b, j);
      mn_sim_batch_start_job (b, bj, i, now);
      started (bj, user_data);
    }
  b->queue_head = i;
  b->changed = FALSE;
  b->blocked = head != NULL;
  b->scan_from = b->queue_len;
  b->extra_valid = FALSE;
  b->shadow_pending = FALSE;
  if (head == NULL || b->scheduler == MN_SIM_SCHEDULER_FCFS || !mn_sim_batch_anything_fits (b))
    return;

  /* 2.-4. Backfill behind the blocked head (mn_sim_batch_shadow_ensure). */
  if (head_waits_window)
    b->shadow = b->down_end;
  else
    {
      b->shadow_pending = TRUE;
      b->head_bj = b->queue[i].bj;
    }
  mn_sim_batch_backfill_from (b, i + 1, now, started, user_data);
}

void
mn_sim_batch_finish (MnSimBatch *b, guint32 bj)
{
  MnSimBatchJob *j = mn_sim_batch_job (b, bj);
  const MnSimShape *s = &b->types[j->type];
  mn_sim_batch_running_remove (b, bj);
  mn_sim_batch_use_add (b, j, -1);
  for (guint32 a = 0; a < j->n_alloc; a++)
    {
      guint n = j->alloc[2 * a];
      mn_sim_free_give (&b->free, n, s, j->alloc[2 * a + 1]);
      b->node_jobs[n]--;
      if (b->wc_valid)
        mn_sim_batch_wc_job (b, n, j->start + j->estimate, -1);
      mn_sim_batch_node_changed (b, n);
    }
  b->busy_cores -= (guint64) j->count * s->cores;
  b->changed = TRUE;
  b->extra_valid = FALSE;
  j->n_alloc = 0;
  if (b->n_free_slots == b->free_slots_alloc)
    {
      b->free_slots_alloc = MAX (256, b->free_slots_alloc * 2);
      b->free_slots = g_renew (guint32, b->free_slots, b->free_slots_alloc);
    }
  b->free_slots[b->n_free_slots++] = bj;
}

/* ---- Issue 19: over-subscribed nodes (mn-sim-oversub.c) ---------------------- */

void
mn_sim_batch_set_expected_end (MnSimBatch *b, guint32 bj, gint64 end)
{
  MnSimBatchJob *j = mn_sim_batch_job (b, bj);
  /* The running order is by expected end: out at the old key, in at the new. */
  mn_sim_batch_running_remove (b, bj);
  j->estimate = end - j->start;
  mn_sim_batch_running_insert (b, bj);
  b->changed = TRUE;
  b->extra_valid = FALSE;
  /* The kept shadow counted the job at its old end. */
  b->wc_valid = FALSE;
}

void
mn_sim_batch_reserve_memory (MnSimBatch *b, guint n, guint64 memory_mb, gboolean take)
{
  g_assert (!take || b->free.memory_mb[n] >= memory_mb);
  b->free.memory_mb[n] = take ? b->free.memory_mb[n] - memory_mb : b->free.memory_mb[n] + memory_mb;
  mn_sim_batch_node_changed (b, n);
  b->changed = TRUE;
  b->extra_valid = FALSE;
  b->wc_valid = FALSE;
}
