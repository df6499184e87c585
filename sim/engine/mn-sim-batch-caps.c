/* mn-sim-batch-caps.c: all.q's per-user and per-group caps: what runs of
 * each owner (jobs, cores), and the parked lists of the jobs a cap holds
 * back.  The test itself (mn_sim_batch_capped) is inline in
 * mn-sim-batch-private.h: every pass asks it of every job it looks at. */
#define G_LOG_DOMAIN "minna-sim"

#include "mn-sim-batch-private.h"

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
    mn_sim_batch_unpark_all (b);
  b->caps = *caps;
  b->caps_on = b->user_use != NULL && (caps->user_jobs > 0 || caps->group_jobs > 0 ||
                                       caps->user_cores > 0 || caps->group_cores > 0);
  b->changed = TRUE;   /* jobs passed over may start now, or not any more */
}

static inline guint64
job_cores (const MnSimBatch *b, const MnSimBatchJob *j)
{
  return (guint64) j->count * b->types[j->type].cores;
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
  mn_sim_batch_block_remove (b, slot);
  b->queue[slot].bj = MN_SIM_BATCH_REMOVED;
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
      mn_sim_batch_block_add (b, p->slot, &p->q);
      b->queue_head = MIN (b->queue_head, p->slot);
    }
  b->queue_live += list->len;
  b->n_parked -= list->len;
  g_array_set_size (list, 0);
}

void
mn_sim_batch_unpark_all (MnSimBatch *b)
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
 * their jobs ends, which unparks them (mn_sim_batch_use_add), or the caps change
 * (mn_sim_batch_unpark_all): until then it stays capped. */
void
mn_sim_batch_park_capped (MnSimBatch *b, const MnSimQueued *q, gsize slot)
{
  const MnSimCaps *c = &b->caps;
  const MnSimUse *u = &b->user_use[q->user];
  if ((c->user_jobs > 0 && u->jobs >= c->user_jobs)
      || (c->user_cores > 0 && u->cores + q->cores > c->user_cores))
    park (b, b->user_parked, q->user, slot);
  else
    park (b, b->group_parked, q->group, slot);
}

void
mn_sim_batch_use_add (MnSimBatch *b, const MnSimBatchJob *j, gint sign)
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
