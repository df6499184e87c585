/* mn-policy-waitindex.h: the waiting FIFO as a segment tree over positions
 * (FIFO order), each range keeping the least memory (a) and least GPU need
 * (b) of its requests.  Finding the oldest request that fits what a release
 * freed costs O(log n) instead of a walk down a long queue. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint     size;    /* leaves, a power of two (0 before the first reset) */
  guint     used;    /* next free position; positions only grow until reset */
  guint64  *min_a;   /* 2 * size, node 1 is the root */
  guint64  *min_b;
  gpointer *items;   /* size; NULL where removed */
} MnWaitIndex;

typedef gboolean (*MnWaitAccept) (gpointer item, gpointer data);

void     mn_wait_index_clear (MnWaitIndex *ix);
/* Empty the index with room for at least @capacity appends. */
void     mn_wait_index_reset (MnWaitIndex *ix, guint capacity);
gboolean mn_wait_index_full (const MnWaitIndex *ix);
/* Requires !full; returns the item's position. */
guint    mn_wait_index_append (MnWaitIndex *ix, gpointer item, guint64 a, guint64 b);
void     mn_wait_index_remove (MnWaitIndex *ix, guint pos);
/* The least position >= @from whose item has a <= @max_a, b <= @max_b and
 * @accept (item) TRUE; -1 if none. */
gint     mn_wait_index_find (const MnWaitIndex *ix, guint from, guint64 max_a,
                             guint64 max_b, MnWaitAccept accept, gpointer data);

G_END_DECLS
