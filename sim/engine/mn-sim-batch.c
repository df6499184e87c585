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
 */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-private.h"

#define REMOVED G_MAXUINT32

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
#define QBLOCK 32

/* Add (@count, @estimate) to front @f, keeping it a lower bound. */
static void
front_add (MnSimFront *f, guint32 count, gint64 estimate)
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
  front_add (&blk->front[q->type], q->count, q->estimate);
}

static void
block_add (MnSimBatch *b, gsize slot, const MnSimQueued *q)
{
  gsize k = slot / QBLOCK;
  if (k >= b->n_blocks)
    {
      gsize n = MAX (k + 1, b->n_blocks * 2);
      b->blocks = g_renew (MnSimQBlock, b->blocks, n);
      for (gsize x = b->n_blocks; x < n; x++)
        block_reset (&b->blocks[x]);
      b->n_blocks = n;
    }
  MnSimQBlock *blk = &b->blocks[k];
  blk->live |= 1u << (slot % QBLOCK);
  blk->of_type[q->type] |= 1u << (slot % QBLOCK);
  bounds_add (blk, q);
}

/* @slot's job leaves the queue (its entry is still there). */
static inline void
block_remove (MnSimBatch *b, gsize slot)
{
  MnSimQBlock *blk = &b->blocks[slot / QBLOCK];
  guint t = b->queue[slot].type;
  blk->live &= ~(1u << (slot % QBLOCK));
  blk->of_type[t] &= ~(1u << (slot % QBLOCK));
  blk->loose |= 1u << t;
}

static void
blocks_rebuild (MnSimBatch *b)
{
  for (gsize x = 0; x < b->n_blocks; x++)
    block_reset (&b->blocks[x]);
  for (gsize i = 0; i < b->queue_len; i++)
    if (b->queue[i].bj != REMOVED)
      block_add (b, i, &b->queue[i]);
}

/* Chunks of @s that fit in (cores, gpus, memory).  Divisions are what a
 * congested replay spends its time on: most nodes have less than one chunk
 * free, which needs none, and memory is rarely the binding resource. */
static inline guint32
fit_values (guint32 cores, guint32 gpus, guint64 memory_mb, const MnSimShape *s)
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
fit_shape (const MnSimBatch *b, guint t, guint32 cores, guint32 gpus, guint64 memory_mb)
{
  const MnSimShape *s = &b->types[t];
  if (G_UNLIKELY (b->tab_cores == NULL))
    return fit_values (cores, gpus, memory_mb, s);
  guint64 k = MIN (b->tab_cores[cores * b->n_types + t], b->tab_gpus[gpus * b->n_types + t]);
  if (s->memory_mb > 0 && k * s->memory_mb > memory_mb)
    k = memory_mb / s->memory_mb;
  return (guint32) k;
}

static inline guint32
fit_count (const MnSimBatch *b, const MnSimFree *f, guint n, guint t)
{
  return fit_shape (b, t, f->cores[n], f->gpus[n], f->memory_mb[n]);
}

static inline guint32
fit_count_min (const MnSimBatch *b, guint n, guint t)
{
  const MnSimFree *f = &b->free, *e = &b->extra;
  return fit_shape (b, t, MIN (f->cores[n], e->cores[n]), MIN (f->gpus[n], e->gpus[n]),
                    MIN (f->memory_mb[n], e->memory_mb[n]));
}

static void
fit_tables_init (MnSimBatch *b)
{
  /* Processor mode on a large machine: one node of many processors, one
   * shape of one processor; no table worth its memory. */
  if (b->node.cores > 4096 || b->node.gpus > 4096)
    return;
  guint nt = b->n_types, nc = b->node.cores + 1, ng = b->node.gpus + 1;
  b->tab_cores = g_new (guint32, (gsize) nt * nc);
  b->tab_gpus = g_new (guint32, (gsize) nt * ng);
  for (guint t = 0; t < nt; t++)
    {
      const MnSimShape *s = &b->types[t];
      for (guint c = 0; c < nc; c++)
        b->tab_cores[c * nt + t] = c / s->cores;
      for (guint g = 0; g < ng; g++)
        b->tab_gpus[g * nt + t] = s->gpus > 0 ? g / s->gpus : G_MAXUINT32;
    }
  /* node_occupancy's shares of cores and GPUs, the same divisions done once */
  b->occ_cores = g_new (double, nc);
  for (guint c = 0; c < nc; c++)
    b->occ_cores[c] = (double) (b->node.cores - c) / b->node.cores;
  if (b->node.gpus > 0)
    {
      b->occ_gpus = g_new (double, ng);
      for (guint g = 0; g < ng; g++)
        b->occ_gpus[g] = (double) (b->node.gpus - g) / b->node.gpus;
    }
}

static void
free_alloc (MnSimFree *f, guint n_nodes)
{
  f->cores = g_new (guint32, n_nodes);
  f->gpus = g_new (guint32, n_nodes);
  f->memory_mb = g_new (guint64, n_nodes);
}

static void
free_clear (MnSimFree *f)
{
  g_clear_pointer (&f->cores, g_free);
  g_clear_pointer (&f->gpus, g_free);
  g_clear_pointer (&f->memory_mb, g_free);
}

static inline void
free_take (MnSimFree *f, guint n, const MnSimShape *s, guint32 chunks)
{
  f->cores[n] -= chunks * s->cores;
  f->gpus[n] -= chunks * s->gpus;
  f->memory_mb[n] -= chunks * s->memory_mb;
}

static inline void
free_give (MnSimFree *f, guint n, const MnSimShape *s, guint32 chunks)
{
  f->cores[n] += chunks * s->cores;
  f->gpus[n] += chunks * s->gpus;
  f->memory_mb[n] += chunks * s->memory_mb;
}

static void unpark_all (MnSimBatch *b);

/* The node's occupancy: the largest of its core, GPU and memory shares in
 * use. */
static inline double
node_occupancy (const MnSimBatch *b, guint n)
{
  double occ = b->occ_cores != NULL ? b->occ_cores[b->free.cores[n]]
               : (double) (b->node.cores - b->free.cores[n]) / b->node.cores;
  if (b->node.gpus > 0)
    occ = MAX (occ, b->occ_gpus != NULL ? b->occ_gpus[b->free.gpus[n]]
                    : (double) (b->node.gpus - b->free.gpus[n]) / b->node.gpus);
  /* The memory share only where it passes the core share (never with
   * TSUBAME's shapes, whose memory per core is under the node's): compared
   * exactly in integers first, since a division is what this spent most of
   * its time waiting for.  (Rounding is monotone, so the share not above the
   * core share in exact terms is not above it as doubles either.) */
  guint64 used_mb = b->node.memory_mb - b->free.memory_mb[n];
  guint64 used_cores = b->node.cores - b->free.cores[n];
  if (b->node.memory_mb > 0
      && (b->node.memory_mb > G_MAXUINT32   /* (no overflow below) */
          || used_mb * b->node.cores > used_cores * b->node.memory_mb))
    occ = MAX (occ, (double) (b->node.memory_mb - b->free.memory_mb[n]) / (double) b->node.memory_mb);
  return occ;
}

/* Refresh k[], kbits, fc_bits and cap[] of node @n after its free state
 * changed (and the min(now, extra) view of a head node while a backfill
 * phase uses it).  Every start and end of a job calls this on each of its
 * nodes (two million times in the default world): @nt is a constant where
 * it is inlined, so that the loops over the shapes unroll. */
G_ALWAYS_INLINE static inline void
node_refresh (MnSimBatch *b, guint n, const guint nt)
{
  const guint words = b->words;
  const gsize w = n / 64;
  const guint64 bit = G_GUINT64_CONSTANT (1) << (n % 64);
  const guint32 cores = b->free.cores[n], gpus = b->free.gpus[n];
  const guint64 memory_mb = b->free.memory_mb[n];
  b->fc_bits[w] = cores > 0 ? b->fc_bits[w] | bit : b->fc_bits[w] & ~bit;
  double occ = node_occupancy (b, n);
  b->occupied += occ - b->node_occ[n];
  b->node_occ[n] = occ;
  guint32 kv[MN_SIM_MAX_TYPES];
  /* A node with no core free takes nothing (every shape has a core); an
   * empty one takes what init found: the two states whole-node jobs leave. */
  if (cores == 0)
    memset (kv, 0, nt * sizeof (guint32));
  else if (cores == b->node.cores && gpus == b->node.gpus && memory_mb == b->node.memory_mb)
    memcpy (kv, b->k_empty, nt * sizeof (guint32));
  else if (G_LIKELY (b->tab_cores != NULL))
    {
      const guint32 *tc = &b->tab_cores[cores * nt], *tg = &b->tab_gpus[gpus * nt];
#pragma GCC unroll 8
      for (guint t = 0; t < nt; t++)
        {
          /* (A shape without memory: 0 > memory_mb never holds.) */
          guint64 x = MIN (tc[t], tg[t]), m = b->types[t].memory_mb;
          if (x * m > memory_mb)
            x = memory_mb / m;
          kv[t] = (guint32) x;
        }
    }
  else
    for (guint t = 0; t < nt; t++)
      kv[t] = fit_values (cores, gpus, memory_mb, &b->types[t]);
  guint32 *kn = &b->k[(gsize) n * nt];
  if (G_UNLIKELY ((b->wh_bits[w] & bit) != 0))
    for (guint t = 0; t < nt; t++)
      b->wh_sum[t] = b->wh_sum[t] - kn[t] + kv[t];
  if (G_UNLIKELY (b->extra_valid && !b->head_whole && (b->hn_bits[w] & bit) != 0))
    for (guint t = 0; t < nt; t++)
      if (b->extra_ready[t])
        {
          guint32 *xslot = &b->extra_k[(gsize) t * b->n_nodes + n];
          guint32 m = fit_count_min (b, n, t);
          b->extra_deficit[t] = b->extra_deficit[t] - (kn[t] - *xslot) + (kv[t] - m);
          *xslot = m;
        }
  guint64 *kbits = &b->kbits[w];
#pragma GCC unroll 8
  for (guint t = 0; t < nt; t++)
    {
      guint32 k = kv[t], old = kn[t];
      b->cap[t] = b->cap[t] - old + k;
      kn[t] = k;
      if ((k > 0) != (old > 0))
        kbits[t * words] ^= bit;
    }
}

static void
node_changed (MnSimBatch *b, guint n)
{
  if (b->n_types == MN_RTYPE_LAST - 1)      /* node mode: TSUBAME's shapes */
    node_refresh (b, n, MN_RTYPE_LAST - 1);
  else if (b->n_types == 1)                 /* processor mode */
    node_refresh (b, n, 1);
  else
    node_refresh (b, n, b->n_types);
}

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
  free_alloc (&b->free, n_nodes);
  free_alloc (&b->extra, n_nodes);
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
  fit_tables_init (b);
  b->down_start = b->down_end = G_MAXINT64;
  b->extra_k = g_new0 (guint32, (gsize) n_nodes * n_types);
  for (guint t = 0; t < n_types; t++)
    b->k_empty[t] = fit_values (node->cores, node->gpus, node->memory_mb, &types[t]);
  for (guint n = 0; n < n_nodes; n++)
    {
      b->free.cores[n] = node->cores;
      b->free.gpus[n] = node->gpus;
      b->free.memory_mb[n] = node->memory_mb;
      node_changed (b, n);
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

  free_clear (&b->free);
  free_clear (&b->extra);
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
  guint64 per_node = fit_values (b->node.cores, b->node.gpus, b->node.memory_mb, &b->types[type]);
  return count > 0 && per_node * b->n_nodes >= count;
}

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
  block_add (b, b->queue_len - 1, q);
}

static inline MnSimBatchJob *
job_at (MnSimBatch *b, guint32 bj)
{
  return &g_array_index (b->jobs, MnSimBatchJob, bj);
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
      j = job_at (b, slot);
      guint32 *alloc = j->alloc, alloc_size = j->alloc_size;
      *j = *job;
      j->alloc = alloc;
      j->alloc_size = alloc_size;
    }
  else
    {
      slot = b->jobs->len;
      g_array_append_val (b->jobs, *job);
      j = job_at (b, slot);
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
  unpark_all (b);
  for (gsize i = 0; i < b->queue_len; i++)
    if (b->queue[i].bj != REMOVED)
      {
        func (job_at (b, b->queue[i].bj)->job, data);
        n++;
      }
  return n;
}

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

static void
running_insert (MnSimBatch *b, guint32 bj)
{
  running_make_room (b);
  const MnSimBatchJob *j = job_at (b, bj);
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

static void
running_remove (MnSimBatch *b, guint32 bj)
{
  const MnSimBatchJob *j = job_at (b, bj);
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

/* Place @j first fit on the free state now; the caller checked cap[]. */
static void
place_now (MnSimBatch *b, MnSimBatchJob *j)
{
  const MnSimShape *s = &b->types[j->type];
  guint32 left = j->count;
  /* First fit over the nodes that can take a chunk (the others take
   * nothing). */
  const guint64 *kbits = &b->kbits[(gsize) j->type * b->words];
  for (guint w = 0; w < b->words && left > 0; w++)
    for (guint64 bits = kbits[w]; bits != 0 && left > 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        guint32 k = b->k[(gsize) n * b->n_types + j->type];
        if (k == 0)
          continue;
        guint32 take = MIN (k, left);
        free_take (&b->free, n, s, take);
        node_changed (b, n);
        alloc_push (j, n, take);
        left -= take;
      }
  g_assert (left == 0);
}

/* Place @j first fit on min(now, extra), taking from both (the extra is
 * kept on head nodes alone: see "The extra, sparsely"). */
static void
place_now_and_extra (MnSimBatch *b, MnSimBatchJob *j)
{
  const MnSimShape *s = &b->types[j->type];
  guint32 left = j->count;
  /* Only nodes that can take a chunk now can take one in the min view. */
  const guint64 *kbits = &b->kbits[(gsize) j->type * b->words];
  for (guint w = 0; w < b->words && left > 0; w++)
    for (guint64 bits = kbits[w]; bits != 0 && left > 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        gboolean head = (b->hn_bits[w] >> (n % 64)) & 1;
        guint32 k = !head ? b->k[(gsize) n * b->n_types + j->type]
                    : b->head_whole ? 0 : b->extra_k[(gsize) j->type * b->n_nodes + n];
        if (k == 0)
          continue;
        guint32 take = MIN (k, left);
        free_take (&b->free, n, s, take);
        if (head)
          free_take (&b->extra, n, s, take);
        node_changed (b, n);
        alloc_push (j, n, take);
        left -= take;
      }
  g_assert (left == 0);
}

void
mn_sim_batch_set_owners (MnSimBatch *b, guint n_users, guint n_groups)
{
  g_free (b->user_use);
  g_free (b->group_use);
  b->user_use = g_new0 (MnSimUse, MAX (n_users, 1));
  b->group_use = g_new0 (MnSimUse, MAX (n_groups, 1));
  b->n_users = n_users;
  b->n_groups = n_groups;
  b->user_parked = g_new0 (GArray *, MAX (n_users, 1));
  b->group_parked = g_new0 (GArray *, MAX (n_groups, 1));
}

void
mn_sim_batch_set_caps (MnSimBatch *b, const MnSimCaps *caps)
{
  if (b->user_use != NULL)
    unpark_all (b);
  b->caps = *caps;
  b->caps_on = b->user_use != NULL && (caps->user_jobs > 0 || caps->group_jobs > 0 ||
                                       caps->user_cores > 0 || caps->group_cores > 0);
  b->changed = TRUE;   /* jobs passed over may start now, or not any more */
}

void
mn_sim_batch_set_down (MnSimBatch *b, gint64 start, gint64 end)
{
  b->down_start = start;
  b->down_end = end;
  b->changed = TRUE;
}

static inline guint64
job_cores (const MnSimBatch *b, const MnSimBatchJob *j)
{
  return (guint64) j->count * b->types[j->type].cores;
}

/* Would starting @q take its user or group over a cap? */
static inline gboolean
capped (const MnSimBatch *b, const MnSimQueued *q)
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

/* Parking (the replay's speed, not its semantics): a job whose user (or
 * group) is at its running-jobs cap cannot start whatever its size until
 * one of their jobs ends, so it leaves the scanned queue for its owner's
 * parked list, and goes back to its own slot (queue order kept) when the
 * owner drops below the cap or the caps change.  A congested month holds
 * thousands of such jobs at the front of the queue, and every pass used to
 * walk over them.  Before the queue is compacted everything goes back
 * (slots move), to be parked again by the pass. */
typedef struct {
  gsize       slot;
  MnSimQueued q;
} Parked;

static void
park (MnSimBatch *b, GArray **lists, guint32 key, gsize slot)
{
  if (lists[key] == NULL)
    lists[key] = g_array_new (FALSE, FALSE, sizeof (Parked));
  Parked p = { slot, b->queue[slot] };
  g_array_append_val (lists[key], p);
  block_remove (b, slot);
  b->queue[slot].bj = REMOVED;
  b->queue_live--;
  b->n_parked++;
}

static void
unpark (MnSimBatch *b, GArray *list)
{
  if (list == NULL || list->len == 0)
    return;
  for (guint i = 0; i < list->len; i++)
    {
      const Parked *p = &g_array_index (list, Parked, i);
      b->queue[p->slot] = p->q;
      block_add (b, p->slot, &p->q);
      b->queue_head = MIN (b->queue_head, p->slot);
    }
  b->queue_live += list->len;
  b->n_parked -= list->len;
  g_array_set_size (list, 0);
}

static void
unpark_all (MnSimBatch *b)
{
  if (b->n_parked == 0)
    return;
  for (guint u = 0; u < b->n_users; u++)
    unpark (b, b->user_parked[u]);
  for (guint g = 0; g < b->n_groups; g++)
    unpark (b, b->group_parked[g]);
}

/* @q at @slot is capped: park it with the owner whose cap holds it (its
 * user's if both).  What runs of a user or group only grows until one of
 * their jobs ends, which unparks them (use_add), or the caps change
 * (unpark_all): until then it stays capped. */
static void
park_capped (MnSimBatch *b, const MnSimQueued *q, gsize slot)
{
  const MnSimCaps *c = &b->caps;
  const MnSimUse *u = &b->user_use[q->user];
  if ((c->user_jobs > 0 && u->jobs >= c->user_jobs)
      || (c->user_cores > 0 && u->cores + q->cores > c->user_cores))
    park (b, b->user_parked, q->user, slot);
  else
    park (b, b->group_parked, q->group, slot);
}

/* Would @q, started now, run (by its estimate) into the maintenance window? */
static inline gboolean
time_blocked (const MnSimBatch *b, const MnSimQueued *q, gint64 now)
{
  return now < b->down_end && now + q->estimate > b->down_start;
}

static void
use_add (MnSimBatch *b, const MnSimBatchJob *j, gint sign)
{
  if (b->user_use == NULL)
    return;
  guint64 cores = job_cores (b, j);
  MnSimUse *u = &b->user_use[j->user];
  MnSimUse *g = &b->group_use[j->group];
  u->jobs += sign;
  g->jobs += sign;
  u->cores = sign > 0 ? u->cores + cores : u->cores - cores;
  g->cores = sign > 0 ? g->cores + cores : g->cores - cores;
  if (sign < 0 && b->n_parked > 0)
    {
      unpark (b, b->user_parked[j->user]);
      unpark (b, b->group_parked[j->group]);
    }
}

/* A job expected to end at @end starts (@sign 1) or ends (-1) on node @n:
 * keep the counts of the kept whole-node shadow (compute_shadow_whole). */
static inline void
wc_job (MnSimBatch *b, guint n, gint64 end, gint sign)
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

static void
start_job (MnSimBatch *b, guint32 bj, gsize queue_pos, gint64 now)
{
  MnSimBatchJob *j = job_at (b, bj);
  j->start = now;
  gint64 end = now + j->estimate;
  for (guint32 a = 0; a < j->n_alloc; a++)
    {
      guint n = j->alloc[2 * a];
      b->node_jobs[n]++;
      if (b->wc_valid)
        wc_job (b, n, end, 1);
    }
  running_insert (b, bj);
  use_add (b, j, +1);
  b->busy_cores += (guint64) j->count * b->types[j->type].cores;
  block_remove (b, queue_pos);
  b->queue[queue_pos].bj = REMOVED;
  b->queue_live--;
}

static gboolean
anything_fits (MnSimBatch *b)
{
  for (guint t = 0; t < b->n_types; t++)
    if (b->cap[t] > 0)
      return TRUE;
  return FALSE;
}

static void
queue_compact (MnSimBatch *b)
{
  gsize out = 0;
  for (gsize i = b->queue_head; i < b->queue_len; i++)
    if (b->queue[i].bj != REMOVED)
      b->queue[out++] = b->queue[i];
  b->queue_len = out;
  b->queue_head = 0;
  g_assert (out == b->queue_live);
  blocks_rebuild (b);

}

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
          MnSimBatchJob *rj = job_at (b, b->running[r].bj);
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
          const MnSimBatchJob *gj = job_at (b, b->running[g].bj);
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
      MnSimBatchJob *rj = job_at (b, b->running[r].bj);
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
          free_give (&b->extra, n, rs, rj->alloc[2 * a + 1]);
          guint32 k = fit_count (b, &b->extra, n, h->type);
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
        free_take (&b->extra, n, hs, k);
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
static void
extra_type_compute (MnSimBatch *b, guint t)
{
  const guint nt = b->n_types;
  const guint32 *k = b->k;
  guint32 *xk = &b->extra_k[(gsize) t * b->n_nodes];
  guint64 deficit = 0;
  for (guint w = 0; w < b->words; w++)
    for (guint64 bits = b->hn_bits[w]; bits != 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        guint32 m = fit_count_min (b, n, t);
        xk[n] = m;
        deficit += k[(gsize) n * nt + t] - m;
      }
  b->extra_deficit[t] = deficit;
  b->extra_ready[t] = TRUE;
}

/* Chunks of shape @t that fit min(now, extra) over all.q. */
static inline guint64
extra_cap (MnSimBatch *b, guint t)
{
  if (b->head_whole)
    return b->extra_none ? 0 : b->cap[t] - b->wh_sum[t];
  if (G_UNLIKELY (!b->extra_ready[t]))
    extra_type_compute (b, t);
  return b->extra_none ? 0 : b->cap[t] - b->extra_deficit[t];
}

/* The shadow time and the extra, computed by the first look that needs
 * them: a job that fits now and would not run into a maintenance window.
 * Nothing starts before (a start needs them), so they are what the pass
 * would have computed first; a pass that finds no such job (about a fifth
 * of them in a congested world) never computes them. */
static void
shadow_ensure (MnSimBatch *b)
{
  if (G_LIKELY (!b->shadow_pending))
    return;
  b->shadow_pending = FALSE;
  MnSimBatchJob *head = job_at (b, b->head_bj);
  b->shadow = compute_shadow (b, head);
  /* Started at its shadow time it would run into the window: it waits for
   * the window's end, and every job ending before the window may pass it
   * (they all end by the shadow time). */
  if (b->shadow < b->down_end && b->shadow + head->estimate > b->down_start)
    b->shadow = b->down_end;
}

/* The slots of block @k whose jobs may start now by the block's bounds
 * (see QBLOCK); 0 if none. */
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
      shadow_ensure (b);
      if (now + f->estimate[i] <= b->shadow || extra_cap (b, t) >= f->count[0])
        slots |= blk->of_type[t];
    }
  return slots;
}

/* Try the queued jobs from position @i on behind the blocked head.  A block
 * whose jobs of a shape are all looked at gets that shape's bounds
 * recomputed over those that stay (started and parked ones no longer hold
 * them down), so that the next passes skip them while none can start. */
static void
backfill_from (MnSimBatch *b, gsize i, gint64 now, MnSimStartFunc started, gpointer user_data)
{
  while (i < b->queue_len)
    {
      gsize k = i / QBLOCK, lo = k * QBLOCK, hi = MIN (lo + QBLOCK, b->queue_len);
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
          if (b->cap[q->type] < q->count || time_blocked (b, q, now)
              || (shadow_ensure (b), by_shadow = now + q->estimate <= b->shadow,
                  !by_shadow && extra_cap (b, q->type) < q->count))
            {
              if (refresh & (1u << q->type))
                front_add (&front[q->type], q->count, q->estimate);
              continue;
            }
          if (capped (b, q))
            {
              park_capped (b, q, x);
              continue;
            }
          guint32 bj = q->bj;
          MnSimBatchJob *j = job_at (b, bj);
          if (by_shadow)
            place_now (b, j);
          else
            place_now_and_extra (b, j);
          start_job (b, bj, x, now);
          started (bj, user_data);
          if (!anything_fits (b))
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
      if (b->scheduler == MN_SIM_SCHEDULER_EASY && anything_fits (b))
        backfill_from (b, b->scan_from, now, started, user_data);
      b->scan_from = b->queue_len;
      return;
    }

  /* Parked jobs hold their slots: they go back first (and are parked again
   * by this pass). */
  gsize kept = b->queue_live + b->n_parked;
  if (b->queue_len - b->queue_head > kept + kept / 4 + 64)
    {
      unpark_all (b);
      queue_compact (b);
    }

  /* 1. From the head while the jobs fit (passing over capped ones). */
  gsize i = b->queue_head;
  MnSimBatchJob *head = NULL;
  gboolean head_waits_window = FALSE;
  for (; i < b->queue_len; i++)
    {
      const MnSimQueued *q = &b->queue[i];
      guint32 bj = q->bj;
      if (bj == REMOVED)
        continue;
      if (capped (b, q))
        {
          park_capped (b, q, i);
          continue;
        }
      MnSimBatchJob *j = job_at (b, bj);
      if (b->cap[q->type] < q->count)
        {
          head = j;
          break;
        }
      if (time_blocked (b, q, now))
        {
          head = j;
          head_waits_window = TRUE;
          break;
        }
      place_now (b, j);
      start_job (b, bj, i, now);
      started (bj, user_data);
    }
  b->queue_head = i;
  b->changed = FALSE;
  b->blocked = head != NULL;
  b->scan_from = b->queue_len;
  b->extra_valid = FALSE;
  b->shadow_pending = FALSE;
  if (head == NULL || b->scheduler == MN_SIM_SCHEDULER_FCFS || !anything_fits (b))
    return;

  /* 2.-4. Backfill behind the blocked head (shadow_ensure). */
  if (head_waits_window)
    b->shadow = b->down_end;
  else
    {
      b->shadow_pending = TRUE;
      b->head_bj = b->queue[i].bj;
    }
  backfill_from (b, i + 1, now, started, user_data);
}

void
mn_sim_batch_finish (MnSimBatch *b, guint32 bj)
{
  MnSimBatchJob *j = job_at (b, bj);
  const MnSimShape *s = &b->types[j->type];
  running_remove (b, bj);
  use_add (b, j, -1);
  for (guint32 a = 0; a < j->n_alloc; a++)
    {
      guint n = j->alloc[2 * a];
      free_give (&b->free, n, s, j->alloc[2 * a + 1]);
      b->node_jobs[n]--;
      if (b->wc_valid)
        wc_job (b, n, j->start + j->estimate, -1);
      node_changed (b, n);
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
  MnSimBatchJob *j = job_at (b, bj);
  /* The running order is by expected end: out at the old key, in at the new. */
  running_remove (b, bj);
  j->estimate = end - j->start;
  running_insert (b, bj);
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
  node_changed (b, n);
  b->changed = TRUE;
  b->extra_valid = FALSE;
  b->wc_valid = FALSE;
}
