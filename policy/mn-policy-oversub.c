/* mn-policy-oversub.c: the over-subscription rules of the model (issue 19,
 * OVER-SUBSCRIPTION in mn-policy.h): which batch node an interactive job may
 * share, and how much longer the batch jobs there then run.  Pure, like the
 * rest of policy/: the simulator hands in what each node holds. */
#define G_LOG_DOMAIN "minna-policy"

#include "mn-policy-private.h"

/* Never a standstill: a rate this low already means the policy is absurd,
 * and validation keeps max_extra_jobs x cpu_share <= 95%. */
#define MIN_RATE 0.05

guint64
mn_policy_oversub_headroom (const MnPolicyConfig *config, const MnOversubNode *node)
{
  guint64 held = node->batch_memory_mb + node->extra_memory_mb;

  return held >= config->node_memory_mb ? 0 : config->node_memory_mb - held;
}

gboolean
mn_policy_oversub_qualifies (const MnPolicyConfig *config, const MnOversubNode *node,
                             guint64 memory_limit_mb, MnWaitReason *why)
{
  MnWaitReason r = MN_WAIT_NONE;

  if (node->extra_jobs >= config->max_extra_jobs)
    r = MN_WAIT_SLOTS;
  else if (mn_policy_oversub_headroom (config, node) < memory_limit_mb)
    r = MN_WAIT_MEMORY;
  if (why != NULL)
    *why = r;
  return r == MN_WAIT_NONE;
}

gint
mn_policy_oversub_place (const MnPolicyConfig *config, const MnOversubNode *nodes,
                         guint n_nodes, guint64 memory_limit_mb, MnWaitReason *why)
{
  gint best = -1;
  guint64 best_room = 0;
  gboolean any_place = FALSE;

  for (guint n = 0; n < n_nodes; n++)
    {
      MnWaitReason r;
      if (!mn_policy_oversub_qualifies (config, &nodes[n], memory_limit_mb, &r))
        {
          any_place |= r == MN_WAIT_MEMORY;
          continue;
        }
      guint64 room = mn_policy_oversub_headroom (config, &nodes[n]);
      if (best < 0 || nodes[n].extra_jobs < nodes[best].extra_jobs
          || (nodes[n].extra_jobs == nodes[best].extra_jobs && room > best_room))
        {
          best = (gint) n;
          best_room = room;
        }
    }
  if (why != NULL)
    *why = best >= 0 ? MN_WAIT_NONE : (any_place ? MN_WAIT_MEMORY : MN_WAIT_SLOTS);
  return best;
}

gdouble
mn_policy_oversub_batch_rate (const MnPolicyConfig *config, guint active_extra_jobs)
{
  return MAX (MIN_RATE, 1.0 - (gdouble) active_extra_jobs * config->cpu_share);
}

gint64
mn_policy_oversub_end (gint64 now, gdouble remaining_work, gdouble rate)
{
  if (remaining_work <= 0.0)
    return now;
  /* W / r computed in doubles: 900 s at 0.5 must give exactly 1800, not 1801
   * from a rounding error, so a hair above a whole second is that second. */
  gdouble t = remaining_work / MAX (rate, MIN_RATE) - 1e-6;
  gint64 whole = (gint64) t;   /* t > -1e-6: truncation is floor here */

  return now + (t > (gdouble) whole ? whole + 1 : whole);
}

gdouble
mn_policy_oversub_work_left (gdouble work, gint64 from, gint64 to, gdouble rate)
{
  gdouble left = work - (gdouble) (to - from) * rate;

  return left > 1e-6 ? left : 0.0;
}
