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

/* Queue blocks: per 32 slots, the live entries and, per shape, the smallest
 * count and estimate ever enqueued there (lower bounds: removals do not
 * raise them).  A backfill scan skips a block none of whose jobs can start:
 * every shape too wide for what is free now, or ending after the shadow
 * time and too wide for the extra, or running into a maintenance window.
 * Exactly the jobs the entry-by-entry tests would pass over. */
#define QBLOCK 32

static void
block_add (MnSimBatch *b, gsize slot, const MnSimQueued *q)
{
  gsize k = slot / QBLOCK;
  if (k >= b->n_blocks)
    {
      gsize n = MAX (k + 1, b->n_blocks * 2);
      b->blocks = g_renew (MnSimQBlock, b->blocks, n);
      for (gsize x = b->n_blocks; x < n; x++)
        {
          b->blocks[x].live = 0;
          for (guint t = 0; t < MN_SIM_MAX_TYPES; t++)
            {
              b->blocks[x].min_count[t] = G_MAXUINT32;
              b->blocks[x].min_estimate[t] = G_MAXINT64;
            }
        }
      b->n_blocks = n;
    }
  MnSimQBlock *blk = &b->blocks[k];
  blk->live++;
  blk->min_count[q->type] = MIN (blk->min_count[q->type], q->count);
  blk->min_estimate[q->type] = MIN (blk->min_estimate[q->type], q->estimate);
}

static inline void
block_remove (MnSimBatch *b, gsize slot)
{
  b->blocks[slot / QBLOCK].live--;
}

static void
blocks_rebuild (MnSimBatch *b)
{
  for (gsize x = 0; x < b->n_blocks; x++)
    {
      b->blocks[x].live = 0;
      for (guint t = 0; t < MN_SIM_MAX_TYPES; t++)
        {
          b->blocks[x].min_count[t] = G_MAXUINT32;
          b->blocks[x].min_estimate[t] = G_MAXINT64;
        }
    }
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

static inline guint32
fit_count (const MnSimFree *f, guint n, const MnSimShape *s)
{
  return fit_values (f->cores[n], f->gpus[n], f->memory_mb[n], s);
}

static inline guint32
fit_count_min (const MnSimFree *a, const MnSimFree *b, guint n, const MnSimShape *s)
{
  return fit_values (MIN (a->cores[n], b->cores[n]), MIN (a->gpus[n], b->gpus[n]),
                     MIN (a->memory_mb[n], b->memory_mb[n]), s);
}

static void
free_alloc (MnSimFree *f, guint n_nodes)
{
  f->cores = g_new (guint32, n_nodes);
  f->gpus = g_new (guint32, n_nodes);
  f->memory_mb = g_new (guint64, n_nodes);
}

static void
free_copy (MnSimFree *dst, const MnSimFree *src, guint n_nodes)
{
  memcpy (dst->cores, src->cores, n_nodes * sizeof (guint32));
  memcpy (dst->gpus, src->gpus, n_nodes * sizeof (guint32));
  memcpy (dst->memory_mb, src->memory_mb, n_nodes * sizeof (guint64));
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

static void extra_node_changed (MnSimBatch *b, guint n);
static void unpark_all (MnSimBatch *b);

/* The node's occupancy: the largest of its core, GPU and memory shares in
 * use. */
static inline double
node_occupancy (const MnSimBatch *b, guint n)
{
  double occ = (double) (b->node.cores - b->free.cores[n]) / b->node.cores;
  if (b->node.gpus > 0)
    occ = MAX (occ, (double) (b->node.gpus - b->free.gpus[n]) / b->node.gpus);
  if (b->node.memory_mb > 0)
    occ = MAX (occ, (double) (b->node.memory_mb - b->free.memory_mb[n]) / (double) b->node.memory_mb);
  return occ;
}

/* Refresh k[] and cap[] of node @n after its free state changed (and the
 * min(now, extra) view while a backfill phase uses it). */
static void
node_changed (MnSimBatch *b, guint n)
{
  if (b->extra_valid)
    extra_node_changed (b, n);
  if (b->free.cores[n] > 0)
    b->free_bits[n / 64] |= G_GUINT64_CONSTANT (1) << (n % 64);
  else
    b->free_bits[n / 64] &= ~(G_GUINT64_CONSTANT (1) << (n % 64));
  double occ = node_occupancy (b, n);
  b->occupied += occ - b->node_occ[n];
  b->node_occ[n] = occ;
  for (guint t = 0; t < b->n_types; t++)
    {
      guint32 k = fit_count (&b->free, n, &b->types[t]);
      guint32 *slot = &b->k[(gsize) n * b->n_types + t];
      b->cap[t] = b->cap[t] - *slot + k;
      *slot = k;
    }
}

static void
extra_node_changed (MnSimBatch *b, guint n)
{
  for (guint t = 0; t < b->n_types; t++)
    {
      if (!b->extra_ready[t])
        continue;
      guint32 k = fit_count_min (&b->free, &b->extra, n, &b->types[t]);
      guint32 *slot = &b->extra_k[(gsize) t * b->n_nodes + n];
      b->extra_cap[t] = b->extra_cap[t] - *slot + k;
      *slot = k;
    }
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
  free_alloc (&b->scratch, n_nodes);
  free_alloc (&b->extra, n_nodes);
  b->k = g_new0 (guint32, (gsize) n_nodes * n_types);
  b->node_occ = g_new0 (double, n_nodes);
  b->free_bits = g_new0 (guint64, (n_nodes + 63) / 64);
  b->extra_bits = g_new0 (guint64, (n_nodes + 63) / 64);
  b->down_start = b->down_end = G_MAXINT64;
  b->extra_k = g_new0 (guint32, (gsize) n_nodes * n_types);
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
  free_clear (&b->scratch);
  free_clear (&b->extra);
  g_clear_pointer (&b->k, g_free);
  g_clear_pointer (&b->extra_k, g_free);
  g_clear_pointer (&b->node_occ, g_free);
  g_clear_pointer (&b->free_bits, g_free);
  g_clear_pointer (&b->extra_bits, g_free);
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
  g_clear_pointer (&b->running, g_free);
  g_clear_pointer (&b->queue, g_free);
  g_clear_pointer (&b->blocks, g_free);
}

gboolean
mn_sim_batch_can_ever_fit (MnSimBatch *b, guint type, guint32 count)
{
  guint64 per_node = fit_count (&(MnSimFree) { &b->node.cores, &b->node.gpus, &b->node.memory_mb },
                                0, &b->types[type]);
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
  q->user = b->job_user != NULL ? b->job_user[j->job] : 0;
  q->group = b->job_group != NULL ? b->job_group[j->job] : 0;
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

/* Running order: expected end, then index. */
static inline gboolean
running_before (MnSimBatch *b, guint32 x, guint32 y)
{
  MnSimBatchJob *a = job_at (b, x), *c = job_at (b, y);
  gint64 ea = a->start + a->estimate, ec = c->start + c->estimate;
  return ea != ec ? ea < ec : x < y;
}

static gsize
running_lower_bound (MnSimBatch *b, guint32 bj)
{
  gsize lo = 0, hi = b->n_running;
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      if (running_before (b, b->running[mid], bj))
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
running_insert (MnSimBatch *b, guint32 bj)
{
  if (b->n_running == b->running_alloc)
    {
      b->running_alloc = MAX (256, b->running_alloc * 2);
      b->running = g_renew (guint32, b->running, b->running_alloc);
    }
  gsize pos = running_lower_bound (b, bj);
  memmove (&b->running[pos + 1], &b->running[pos], (b->n_running - pos) * sizeof (guint32));
  b->running[pos] = bj;
  b->n_running++;
}

static void
running_remove (MnSimBatch *b, guint32 bj)
{
  gsize pos = running_lower_bound (b, bj);
  g_assert (pos < b->n_running && b->running[pos] == bj);
  memmove (&b->running[pos], &b->running[pos + 1], (b->n_running - pos - 1) * sizeof (guint32));
  b->n_running--;
}

static void
alloc_push (MnSimBatchJob *j, guint32 node, guint32 chunks, guint32 *alloc_size)
{
  if (j->n_alloc == *alloc_size)
    {
      *alloc_size = MAX (4, *alloc_size * 2);
      j->alloc = g_renew (guint32, j->alloc, 2 * (gsize) *alloc_size);
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
  guint32 left = j->count, alloc_size = 0;
  /* First fit over the nodes with a free core (the others take nothing). */
  for (guint w = 0; w < (b->n_nodes + 63) / 64 && left > 0; w++)
    for (guint64 bits = b->free_bits[w]; bits != 0 && left > 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        guint32 k = b->k[(gsize) n * b->n_types + j->type];
        if (k == 0)
          continue;
        guint32 take = MIN (k, left);
        free_take (&b->free, n, s, take);
        node_changed (b, n);
        alloc_push (j, n, take, &alloc_size);
        left -= take;
      }
  g_assert (left == 0);
}

/* Place @j first fit on min(now, extra), taking from both. */
static void
place_now_and_extra (MnSimBatch *b, MnSimBatchJob *j)
{
  const MnSimShape *s = &b->types[j->type];
  guint32 left = j->count, alloc_size = 0;
  /* Only nodes with a free core can take a chunk; extra_k holds values for
   * those alone (extra_type_ensure). */
  for (guint w = 0; w < (b->n_nodes + 63) / 64 && left > 0; w++)
    for (guint64 bits = b->free_bits[w]; bits != 0 && left > 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        guint32 k = b->extra_k[(gsize) j->type * b->n_nodes + n];
        if (k == 0)
          continue;
        guint32 take = MIN (k, left);
        free_take (&b->free, n, s, take);
        free_take (&b->extra, n, s, take);
        node_changed (b, n);
        alloc_push (j, n, take, &alloc_size);
        left -= take;
      }
  g_assert (left == 0);
}

void
mn_sim_batch_set_owners (MnSimBatch *b, const guint32 *job_user, const guint32 *job_group,
                         guint n_users, guint n_groups)
{
  b->job_user = job_user;
  b->job_group = job_group;
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
  b->queue[slot].bj = REMOVED;
  b->queue_live--;
  block_remove (b, slot);
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
      b->blocks[p->slot / QBLOCK].live++;
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

/* @q at @slot is capped: park it when a jobs cap holds it (any job of its
 * owner would be); TRUE if parked. */
static gboolean
park_if_job_capped (MnSimBatch *b, const MnSimQueued *q, gsize slot)
{
  if (b->caps.user_jobs > 0 && b->user_use[q->user].jobs >= b->caps.user_jobs)
    park (b, b->user_parked, q->user, slot);
  else if (b->caps.group_jobs > 0 && b->group_use[q->group].jobs >= b->caps.group_jobs)
    park (b, b->group_parked, q->group, slot);
  else
    return FALSE;
  return TRUE;
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
  MnSimUse *u = &b->user_use[b->job_user[j->job]];
  MnSimUse *g = &b->group_use[b->job_group[j->job]];
  u->jobs += sign;
  g->jobs += sign;
  u->cores = sign > 0 ? u->cores + cores : u->cores - cores;
  g->cores = sign > 0 ? g->cores + cores : g->cores - cores;
  if (sign < 0 && b->n_parked > 0)
    {
      unpark (b, b->user_parked[b->job_user[j->job]]);
      unpark (b, b->group_parked[b->job_group[j->job]]);
    }
}

static void
start_job (MnSimBatch *b, guint32 bj, gsize queue_pos, gint64 now)
{
  MnSimBatchJob *j = job_at (b, bj);
  j->start = now;
  running_insert (b, bj);
  use_add (b, j, +1);
  b->busy_cores += (guint64) j->count * b->types[j->type].cores;
  b->queue[queue_pos].bj = REMOVED;
  b->queue_live--;
  block_remove (b, queue_pos);
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

/* Shadow time and extra state for the blocked head @h (see the top). */
static gint64
compute_shadow (MnSimBatch *b, MnSimBatchJob *h)
{
  const MnSimShape *hs = &b->types[h->type];
  free_copy (&b->extra, &b->free, b->n_nodes);
  /* Nodes with a free core at the shadow time: free now, or released. */
  guint words = (b->n_nodes + 63) / 64;
  memcpy (b->extra_bits, b->free_bits, words * sizeof (guint64));
  guint64 cap = b->cap[h->type];
  gint64 shadow = G_MAXINT64;
  for (gsize r = 0; r < b->n_running; r++)
    {
      MnSimBatchJob *rj = job_at (b, b->running[r]);
      gint64 end = rj->start + rj->estimate;
      if (shadow != G_MAXINT64 && end != shadow)
        break;
      const MnSimShape *rs = &b->types[rj->type];
      for (guint32 a = 0; a < rj->n_alloc; a++)
        {
          guint n = rj->alloc[2 * a];
          guint32 before = fit_count (&b->extra, n, hs);
          free_give (&b->extra, n, rs, rj->alloc[2 * a + 1]);
          cap += fit_count (&b->extra, n, hs) - before;
          b->extra_bits[n / 64] |= G_GUINT64_CONSTANT (1) << (n % 64);
        }
      if (shadow == G_MAXINT64 && cap >= h->count)
        shadow = end;
    }
  /* The head at the shadow time, first fit: what remains is the extra. */
  guint32 left = h->count;
  for (guint w = 0; w < words && left > 0; w++)
    for (guint64 bits = b->extra_bits[w]; bits != 0 && left > 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        guint32 k = MIN (fit_count (&b->extra, n, hs), left);
        if (k == 0)
          continue;
        free_take (&b->extra, n, hs, k);
        left -= k;
      }
  /* Never fitting cannot happen for a job that fits an empty all.q; keep
   * the extra empty then so nothing can overtake it. */
  if (left > 0)
    memset (b->extra.cores, 0, b->n_nodes * sizeof (guint32));
  /* min(now, extra) per shape is computed when a job first needs it. */
  memset (b->extra_ready, 0, sizeof b->extra_ready);
  b->extra_valid = TRUE;
  return shadow;
}

/* min(now, extra) of shape @t on every node.  Only nodes with a free core
 * now can take anything: on a busy machine they are few, so they are found
 * through the free_bits bitmap rather than by looking at every node. */
static void
extra_type_ensure (MnSimBatch *b, guint t)
{
  if (b->extra_ready[t])
    return;
  /* Slots of nodes without a free core are left as they are: nothing reads
   * them (place_now_and_extra walks free_bits; such a node cannot change
   * before the next full pass recomputes). */
  guint32 *k = &b->extra_k[(gsize) t * b->n_nodes];
  guint64 cap = 0;
  for (guint w = 0; w < (b->n_nodes + 63) / 64; w++)
    for (guint64 bits = b->free_bits[w]; bits != 0; bits &= bits - 1)
      {
        guint n = w * 64 + (guint) __builtin_ctzll (bits);
        k[n] = fit_count_min (&b->free, &b->extra, n, &b->types[t]);
        cap += k[n];
      }
  b->extra_cap[t] = cap;
  b->extra_ready[t] = TRUE;
}

/* Try the queued jobs from position @i on behind the blocked head. */
/* Can no job of block @k start now (see QBLOCK)? */
static gboolean
block_hopeless (MnSimBatch *b, gsize k, gint64 now)
{
  const MnSimQBlock *blk = &b->blocks[k];
  if (blk->live == 0)
    return TRUE;
  for (guint t = 0; t < b->n_types; t++)
    {
      guint32 c = blk->min_count[t];
      gint64 e = blk->min_estimate[t];
      if (c == G_MAXUINT32 || b->cap[t] < c || (now < b->down_end && now + e > b->down_start))
        continue;
      if (now + e <= b->shadow)
        return FALSE;
      extra_type_ensure (b, t);
      if (b->extra_cap[t] >= c)
        return FALSE;
    }
  return TRUE;
}

static void
backfill_from (MnSimBatch *b, gsize i, gint64 now, MnSimStartFunc started, gpointer user_data)
{
  for (; i < b->queue_len; i++)
    {
      if (i % QBLOCK == 0 && block_hopeless (b, i / QBLOCK, now))
        {
          i += QBLOCK - 1;
          continue;
        }
      const MnSimQueued *q = &b->queue[i];
      if (q->bj == REMOVED || b->cap[q->type] < q->count || time_blocked (b, q, now))
        continue;
      /* The reservation first (no memory but the entry's), then the caps. */
      gboolean by_shadow = now + q->estimate <= b->shadow;
      if (!by_shadow && (extra_type_ensure (b, q->type), b->extra_cap[q->type] < q->count))
        continue;
      if (capped (b, q))
        {
          park_if_job_capped (b, q, i);
          continue;
        }
      guint32 bj = q->bj;
      MnSimBatchJob *j = job_at (b, bj);
      if (by_shadow)
        place_now (b, j);
      else
        place_now_and_extra (b, j);
      start_job (b, bj, i, now);
      started (bj, user_data);
      if (!anything_fits (b))
        break;
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
  gsize i = b->queue_head, first_kept = G_MAXSIZE;
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
          if (!park_if_job_capped (b, q, i))
            first_kept = MIN (first_kept, i);
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
  b->queue_head = MIN (first_kept, i);
  b->changed = FALSE;
  b->blocked = head != NULL;
  b->scan_from = b->queue_len;
  b->extra_valid = FALSE;
  if (head == NULL || b->scheduler == MN_SIM_SCHEDULER_FCFS || !anything_fits (b))
    return;

  /* 2.-4. Backfill behind the blocked head. */
  if (head_waits_window)
    b->shadow = b->down_end;
  else
    {
      b->shadow = compute_shadow (b, head);
      /* Started at its shadow time it would run into the window: it waits
       * for the window's end, and every job ending before the window may
       * pass it (they all end by the shadow time). */
      if (b->shadow < b->down_end && b->shadow + head->estimate > b->down_start)
        b->shadow = b->down_end;
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
      node_changed (b, n);
    }
  b->busy_cores -= (guint64) j->count * s->cores;
  b->changed = TRUE;
  b->extra_valid = FALSE;
  g_clear_pointer (&j->alloc, g_free);
  j->n_alloc = 0;
}
