/* mn-sim-batch-private.h: what the files of all.q (mn-sim-batch*.c) share.
 *
 * all.q is one model (the comment at the top of mn-sim-batch.c) kept in
 * several files, one concern each:
 *   mn-sim-batch.c           the life cycle, the scheduling pass, starts and ends
 *   mn-sim-batch-queue.c     the waiting queue and the job slots
 *   mn-sim-batch-blocks.c    the queue's blocks: what a backfill scan may skip
 *   mn-sim-batch-nodes.c     the nodes' free state and what each shape fits there
 *   mn-sim-batch-place.c     first-fit placement of a starting job
 *   mn-sim-batch-running.c   the running jobs in order of expected end
 *   mn-sim-batch-caps.c      per-user / per-group use against the caps, parking
 *   mn-sim-batch-shadow.c    the blocked head's shadow time and the extra
 *   mn-sim-batch-backfill.c  EASY's scan behind the blocked head
 * The helpers below are inline because the replay's hot loops call them
 * millions of times (they were static inline in one file before the split;
 * so that the split costs no call in those loops).  Not for other
 * components, nor for the engine's other files (they use mn-sim-private.h). */
#pragma once

#include "mn-sim-private.h"

G_BEGIN_DECLS

/* A queue entry whose job has left (started, or parked: mn-sim-batch-caps.c). */
#define MN_SIM_BATCH_REMOVED G_MAXUINT32

/* Queue blocks: per 32 slots, the live entries (bit masks, of all and per
 * shape) and, per shape, lower bounds on the (count, estimate) pairs of the
 * jobs enqueued there: a front of up to MN_SIM_FRONT points such that every
 * job has a point with a count and an estimate no larger (removals do not
 * raise them until a backfill scan looks at every job of the shape in the
 * block and recomputes them).  A backfill scan looks only at the jobs of the
 * shapes some job of which may start by these bounds: one that fits what is
 * free now and ends by the shadow time, or fits the extra; none of them runs
 * into a maintenance window.  The others are exactly jobs the entry-by-entry
 * tests would pass over.  (A front rather than the two smallest values: a
 * congested month's blocks hold short wide jobs and long narrow ones, of
 * which none may start, and the two minima said "maybe" for most of them.) */
#define MN_SIM_QBLOCK 32

static inline MnSimBatchJob *
mn_sim_batch_job (MnSimBatch *b, guint32 bj)
{
  return &g_array_index (b->jobs, MnSimBatchJob, bj);
}

/* Chunks of @s that fit in (cores, gpus, memory).  Divisions are what a
 * congested replay spends its time on: most nodes have less than one chunk
 * free, which needs none, and memory is rarely the binding resource. */
static inline guint32
mn_sim_fit_values (guint32 cores, guint32 gpus, guint64 memory_mb, const MnSimShape *s)
{
  if (cores < s->cores)
    return 0;
  guint64 k = s->cores == 1 ? cores : cores / s->cores;
  if (s->gpus > 0)
    {
      if (gpus < s->gpus)
        return 0;
      k = MIN (k, s->gpus == 1 ? gpus : gpus / s->gpus);
    }
  if (s->memory_mb > 0 && k * s->memory_mb > memory_mb)
    k = memory_mb / s->memory_mb;
  return (guint32) MIN (k, G_MAXUINT32);
}

/* The same through the per-shape tables of cores and GPUs (a node's state
 * never passes the node's own size): a congested replay asks this some
 * fifty million times. */
static inline guint32
mn_sim_fit_shape (const MnSimBatch *b, guint t, guint32 cores, guint32 gpus, guint64 memory_mb)
{
  const MnSimShape *s = &b->types[t];
  if (G_UNLIKELY (b->tab_cores == NULL))
    return mn_sim_fit_values (cores, gpus, memory_mb, s);
  guint64 k = MIN (b->tab_cores[cores * b->n_types + t], b->tab_gpus[gpus * b->n_types + t]);
  if (s->memory_mb > 0 && k * s->memory_mb > memory_mb)
    k = memory_mb / s->memory_mb;
  return (guint32) k;
}

static inline guint32
mn_sim_fit_count (const MnSimBatch *b, const MnSimFree *f, guint n, guint t)
{
  return mn_sim_fit_shape (b, t, f->cores[n], f->gpus[n], f->memory_mb[n]);
}

static inline guint32
mn_sim_fit_count_min (const MnSimBatch *b, guint n, guint t)
{
  const MnSimFree *f = &b->free, *e = &b->extra;
  return mn_sim_fit_shape (b, t, MIN (f->cores[n], e->cores[n]), MIN (f->gpus[n], e->gpus[n]),
                           MIN (f->memory_mb[n], e->memory_mb[n]));
}

static inline void
mn_sim_free_take (MnSimFree *f, guint n, const MnSimShape *s, guint32 chunks)
{
  f->cores[n] -= chunks * s->cores;
  f->gpus[n] -= chunks * s->gpus;
  f->memory_mb[n] -= chunks * s->memory_mb;
}

static inline void
mn_sim_free_give (MnSimFree *f, guint n, const MnSimShape *s, guint32 chunks)
{
  f->cores[n] += chunks * s->cores;
  f->gpus[n] += chunks * s->gpus;
  f->memory_mb[n] += chunks * s->memory_mb;
}

/* Would starting @q take its user or group over a cap? */
static inline gboolean
mn_sim_batch_capped (const MnSimBatch *b, const MnSimQueued *q)
{
  if (!b->caps_on)
    return FALSE;
  const MnSimCaps *c = &b->caps;
  guint64 cores = q->cores;
  const MnSimUse *u = &b->user_use[q->user];
  const MnSimUse *g = &b->group_use[q->group];
  return (c->user_jobs > 0 && u->jobs >= c->user_jobs)
         || (c->user_cores > 0 && u->cores + cores > c->user_cores)
         || (c->group_jobs > 0 && g->jobs >= c->group_jobs)
         || (c->group_cores > 0 && g->cores + cores > c->group_cores);
}

/* Would @q, started now, run (by its estimate) into the maintenance window? */
static inline gboolean
mn_sim_batch_time_blocked (const MnSimBatch *b, const MnSimQueued *q, gint64 now)
{
  return now < b->down_end && now + q->estimate > b->down_start;
}

static inline gboolean
mn_sim_batch_anything_fits (MnSimBatch *b)
{
  for (guint t = 0; t < b->n_types; t++)
    if (b->cap[t] > 0)
      return TRUE;
  return FALSE;
}

/* A job expected to end at @end starts (@sign 1) or ends (-1) on node @n:
 * keep the counts of the kept whole-node shadow (compute_shadow_whole). */
static inline void
mn_sim_batch_wc_job (MnSimBatch *b, guint n, gint64 end, gint sign)
{
  gint64 s = b->wc_shadow;
  if (b->wc_stamp[n] != b->wc_epoch)
    {
      /* Every job on it (before this one) ends after s. */
      b->wc_stamp[n] = b->wc_epoch;
      b->wc_after[n] = b->wc_from[n] = b->node_jobs[n] - sign;
    }
  if (end < s)
    return;
  guint32 from = b->wc_from[n];
  b->wc_from[n] = from + sign;
  b->wc_before -= (from == 0) - (from + sign == 0);
  if (end == s)
    return;
  guint32 after = b->wc_after[n];
  b->wc_after[n] = after + sign;
  if ((after == 0) != (after + sign == 0))
    {
      b->wc_by -= sign;
      b->wc_ready[n / 64] ^= G_GUINT64_CONSTANT (1) << (n % 64);
    }
}

/* mn-sim-batch-queue.c */
void     mn_sim_batch_queue_compact (MnSimBatch *b);

/* mn-sim-batch-blocks.c */
void     mn_sim_front_add (MnSimFront *f, guint32 count, gint64 estimate);
void     mn_sim_batch_block_add (MnSimBatch *b, gsize slot, const MnSimQueued *q);
void     mn_sim_batch_block_remove (MnSimBatch *b, gsize slot);
void     mn_sim_batch_blocks_rebuild (MnSimBatch *b);

/* mn-sim-batch-nodes.c */
void     mn_sim_free_alloc (MnSimFree *f, guint n_nodes);
void     mn_sim_free_clear (MnSimFree *f);
void     mn_sim_batch_fit_tables_init (MnSimBatch *b);
/* Node @n's free state changed: refresh what each shape fits there. */
void     mn_sim_batch_node_changed (MnSimBatch *b, guint n);

/* mn-sim-batch-place.c */
void     mn_sim_batch_place_now (MnSimBatch *b, MnSimBatchJob *j);
void     mn_sim_batch_place_now_and_extra (MnSimBatch *b, MnSimBatchJob *j);

/* mn-sim-batch-running.c */
void     mn_sim_batch_running_insert (MnSimBatch *b, guint32 bj);
void     mn_sim_batch_running_remove (MnSimBatch *b, guint32 bj);

/* mn-sim-batch-caps.c */
void     mn_sim_batch_use_add (MnSimBatch *b, const MnSimBatchJob *j, gint sign);
void     mn_sim_batch_park_capped (MnSimBatch *b, const MnSimQueued *q, gsize slot);
void     mn_sim_batch_unpark_all (MnSimBatch *b);

/* mn-sim-batch-shadow.c */
void     mn_sim_batch_shadow_compute (MnSimBatch *b);
void     mn_sim_batch_extra_type_compute (MnSimBatch *b, guint t);

/* The shadow time and the extra, computed by the first look that needs
 * them (mn_sim_batch_shadow_compute); the test is inline, the work is not. */
static inline void
mn_sim_batch_shadow_ensure (MnSimBatch *b)
{
  if (G_LIKELY (!b->shadow_pending))
    return;
  mn_sim_batch_shadow_compute (b);
}

/* mn-sim-batch-backfill.c */
void     mn_sim_batch_backfill_from (MnSimBatch *b, gsize i, gint64 now, MnSimStartFunc started,
                                     gpointer user_data);

/* mn-sim-batch.c */
void     mn_sim_batch_start_job (MnSimBatch *b, guint32 bj, gsize queue_pos, gint64 now);

G_END_DECLS
