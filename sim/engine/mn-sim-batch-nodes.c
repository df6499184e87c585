/* mn-sim-batch-nodes.c: the nodes of all.q: their free state and, kept
 * up to date at every change, how many chunks of each shape each node fits
 * (k[]), their sum per shape (cap[]: the O(1) "does it fit" of
 * mn-sim-batch.c), the bitmaps of nodes that fit a chunk, and the
 * occupancy (Figure 4's measure). */
#define G_LOG_DOMAIN "minna-sim"

#include <string.h>

#include "mn-sim-batch-private.h"

void
mn_sim_batch_fit_tables_init (MnSimBatch *b)
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

void
mn_sim_free_alloc (MnSimFree *f, guint n_nodes)
{
  f->cores = g_new (guint32, n_nodes);
  f->gpus = g_new (guint32, n_nodes);
  f->memory_mb = g_new (guint64, n_nodes);
}

void
mn_sim_free_clear (MnSimFree *f)
{
  g_clear_pointer (&f->cores, g_free);
  g_clear_pointer (&f->gpus, g_free);
  g_clear_pointer (&f->memory_mb, g_free);
}

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
      kv[t] = mn_sim_fit_values (cores, gpus, memory_mb, &b->types[t]);
  guint32 *kn = &b->k[(gsize) n * nt];
  if (G_UNLIKELY ((b->wh_bits[w] & bit) != 0))
    for (guint t = 0; t < nt; t++)
      b->wh_sum[t] = b->wh_sum[t] - kn[t] + kv[t];
  if (G_UNLIKELY (b->extra_valid && !b->head_whole && (b->hn_bits[w] & bit) != 0))
    for (guint t = 0; t < nt; t++)
      if (b->extra_ready[t])
        {
          guint32 *xslot = &b->extra_k[(gsize) t * b->n_nodes + n];
          guint32 m = mn_sim_fit_count_min (b, n, t);
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

void
mn_sim_batch_node_changed (MnSimBatch *b, guint n)
{
  if (b->n_types == MN_RTYPE_LAST - 1)      /* node mode: TSUBAME's shapes */
    node_refresh (b, n, MN_RTYPE_LAST - 1);
  else if (b->n_types == 1)                 /* processor mode */
    node_refresh (b, n, 1);
  else
    node_refresh (b, n, b->n_types);
}
