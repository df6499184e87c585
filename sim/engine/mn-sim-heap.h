/* mn-sim-heap.h: the simulator's one event queue, a binary min-heap.
 *
 * Events are ordered by (time, kind, seq): at one instant every event of a
 * lower kind comes first (the engine numbers completions before arrivals),
 * and within a kind the order of insertion decides, so replays are
 * deterministic.  push and pop are O(log n). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint64  time;
  guint32 kind;
  guint32 arg;     /* what the event is about (a job or session index) */
  guint64 seq;     /* insertion number; ties broken by it */
  guint64 tag;     /* a generation number the engine uses to drop stale events */
} MnSimEvent;

typedef struct {
  MnSimEvent *items;
  gsize       len;
  gsize       alloc;
  guint64     next_seq;
} MnSimHeap;

void     mn_sim_heap_init  (MnSimHeap *heap);
void     mn_sim_heap_clear (MnSimHeap *heap);
void     mn_sim_heap_push  (MnSimHeap *heap, gint64 time, guint32 kind,
                            guint32 arg, guint64 tag);
/* FALSE when empty. */
gboolean mn_sim_heap_pop   (MnSimHeap *heap, MnSimEvent *out);
/* The earliest event without removing it; NULL when empty. */
const MnSimEvent *mn_sim_heap_peek (const MnSimHeap *heap);

static inline gsize
mn_sim_heap_size (const MnSimHeap *heap)
{
  return heap->len;
}

G_END_DECLS
