/* mn-policy-waitindex.c: see mn-policy-waitindex.h. */
#define G_LOG_DOMAIN "minna-policy"

#include "mn-policy-waitindex.h"

void
mn_wait_index_clear (MnWaitIndex *ix)
{
  g_clear_pointer (&ix->min_a, g_free);
  g_clear_pointer (&ix->min_b, g_free);
  g_clear_pointer (&ix->items, g_free);
  ix->size = ix->used = 0;
}

void
mn_wait_index_reset (MnWaitIndex *ix, guint capacity)
{
  guint size = 16;

  while (size < capacity)
    size *= 2;
  mn_wait_index_clear (ix);
  ix->size = size;
  ix->min_a = g_new (guint64, 2 * size);
  ix->min_b = g_new (guint64, 2 * size);
  ix->items = g_new0 (gpointer, size);
  for (guint i = 0; i < 2 * size; i++)
    ix->min_a[i] = ix->min_b[i] = G_MAXUINT64;
}

gboolean
mn_wait_index_full (const MnWaitIndex *ix)
{
  return ix->used >= ix->size;
}

static void
set_leaf (MnWaitIndex *ix, guint pos, guint64 a, guint64 b)
{
  guint node = ix->size + pos;

  ix->min_a[node] = a;
  ix->min_b[node] = b;
  for (node /= 2; node >= 1; node /= 2)
    {
      ix->min_a[node] = MIN (ix->min_a[2 * node], ix->min_a[2 * node + 1]);
      ix->min_b[node] = MIN (ix->min_b[2 * node], ix->min_b[2 * node + 1]);
    }
}

guint
mn_wait_index_append (MnWaitIndex *ix, gpointer item, guint64 a, guint64 b)
{
  guint pos = ix->used++;

  g_assert (pos < ix->size);
  ix->items[pos] = item;
  set_leaf (ix, pos, a, b);
  return pos;
}

void
mn_wait_index_remove (MnWaitIndex *ix, guint pos)
{
  g_assert (pos < ix->used);
  ix->items[pos] = NULL;
  set_leaf (ix, pos, G_MAXUINT64, G_MAXUINT64);
}

static gint
find_in (const MnWaitIndex *ix, guint node, guint lo, guint hi, guint from,
         guint64 max_a, guint64 max_b, MnWaitAccept accept, gpointer data)
{
  guint mid;
  gint found;

  /* Both minima are necessary conditions, so a range failing either holds
   * nothing that fits. */
  if (hi < from || lo >= ix->used || ix->min_a[node] > max_a || ix->min_b[node] > max_b)
    return -1;
  if (node >= ix->size)
    return ix->items[lo] != NULL && (accept == NULL || accept (ix->items[lo], data))
           ? (gint) lo : -1;
  mid = lo + (hi - lo) / 2;
  found = find_in (ix, 2 * node, lo, mid, from, max_a, max_b, accept, data);
  if (found >= 0)
    return found;
  return find_in (ix, 2 * node + 1, mid + 1, hi, from, max_a, max_b, accept, data);
}

gint
mn_wait_index_find (const MnWaitIndex *ix, guint from, guint64 max_a,
                    guint64 max_b, MnWaitAccept accept, gpointer data)
{
  if (ix->size == 0)
    return -1;
  return find_in (ix, 1, 0, ix->size - 1, from, max_a, max_b, accept, data);
}
