/* mn-sim-heap.c: binary min-heap of simulator events. */
#define G_LOG_DOMAIN "minna-sim"

#include "mn-sim-heap.h"

static inline gboolean
event_before (const MnSimEvent *a, const MnSimEvent *b)
{
  if (a->time != b->time)
    return a->time < b->time;
  if (a->kind != b->kind)
    return a->kind < b->kind;
  return a->seq < b->seq;
}

void
mn_sim_heap_init (MnSimHeap *heap)
{
  heap->items = NULL;
  heap->len = 0;
  heap->alloc = 0;
  heap->next_seq = 0;
}

void
mn_sim_heap_clear (MnSimHeap *heap)
{
  g_clear_pointer (&heap->items, g_free);
  heap->len = 0;
  heap->alloc = 0;
}

void
mn_sim_heap_push (MnSimHeap *heap, gint64 time, guint32 kind, guint32 arg, guint64 tag)
{
  if (heap->len == heap->alloc)
    {
      heap->alloc = MAX (64, heap->alloc * 2);
      heap->items = g_renew (MnSimEvent, heap->items, heap->alloc);
    }
  MnSimEvent ev = { time, kind, arg, heap->next_seq++, tag };
  gsize i = heap->len++;
  while (i > 0)
    {
      gsize parent = (i - 1) / 2;
      if (!event_before (&ev, &heap->items[parent]))
        break;
      heap->items[i] = heap->items[parent];
      i = parent;
    }
  heap->items[i] = ev;
}

gboolean
mn_sim_heap_pop (MnSimHeap *heap, MnSimEvent *out)
{
  if (heap->len == 0)
    return FALSE;
  *out = heap->items[0];
  MnSimEvent last = heap->items[--heap->len];
  gsize n = heap->len;
  gsize i = 0;
  for (;;)
    {
      gsize child = 2 * i + 1;
      if (child >= n)
        break;
      if (child + 1 < n && event_before (&heap->items[child + 1], &heap->items[child]))
        child++;
      if (!event_before (&heap->items[child], &last))
        break;
      heap->items[i] = heap->items[child];
      i = child;
    }
  if (n > 0)
    heap->items[i] = last;
  return TRUE;
}

const MnSimEvent *
mn_sim_heap_peek (const MnSimHeap *heap)
{
  return heap->len > 0 ? &heap->items[0] : NULL;
}
