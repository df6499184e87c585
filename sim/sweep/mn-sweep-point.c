/* mn-sweep-point.c: expanding a sweep into points. */
#define G_LOG_DOMAIN "minna-sweep"

#include "mn-sweep-runner.h"

static void
apply (MnPolicyConfig *p, MnSweepParam param, gint64 v)
{
  switch (param)
    {
    case MN_SWEEP_PARAM_NODES: p->nodes = v; break;
    case MN_SWEEP_PARAM_JOBS_PER_LOGICAL: p->max_jobs_per_logical = v; break;
    case MN_SWEEP_PARAM_MEMORY_CAP: p->job_max_memory_mb = v; break;
    case MN_SWEEP_PARAM_SWAP: p->node_swap_mb = v; break;
    case MN_SWEEP_PARAM_GPU_MODE: p->gpu_mode = v; break;
    case MN_SWEEP_PARAM_IDLE_TIMEOUT: p->idle_timeout = v; break;
    case MN_SWEEP_PARAM_DESIGN: p->design = (MnDesign) v; break;
    case MN_SWEEP_PARAM_EXTRA_JOBS: p->max_extra_jobs = (guint) v; break;
    case MN_SWEEP_N_PARAMS:
    default: g_assert_not_reached ();
    }
}

void
mn_sweep_point_free (MnSweepPoint *point)
{
  if (point == NULL)
    return;
  g_clear_pointer (&point->policy, mn_policy_config_free);
  g_free (point);
}

gchar *
mn_sweep_point_describe (const MnSweepPoint *point, gboolean only_varying)
{
  GString *out = g_string_new (NULL);

  if (point->baseline)
    return g_string_free (g_string_append (out, "baseline (no interactive.q)"), FALSE);
  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    {
      g_autofree gchar *v = NULL;

      if ((only_varying && point->scenario->values[p]->len < 2)
          || !mn_sweep_param_shown (point->scenario, p))
        continue;
      /* Parameters the point's design does not use are left out. */
      if (point->values[MN_SWEEP_PARAM_DESIGN] == MN_DESIGN_OVERSUBSCRIBE
          && p == MN_SWEEP_PARAM_JOBS_PER_LOGICAL)
        continue;
      if (point->values[MN_SWEEP_PARAM_DESIGN] == MN_DESIGN_DEDICATED
          && p == MN_SWEEP_PARAM_EXTRA_JOBS)
        continue;
      v = mn_sweep_format_param (p, point->values[p]);
      g_string_append_printf (out, "%s%s=%s", out->len > 0 ? " " : "",
                              mn_sweep_param_to_string (p), v);
    }
  if (out->len == 0)
    g_string_append_printf (out, "point %u", point->index);
  return g_string_free (out, FALSE);
}

MnSweepPoint *
mn_sweep_point_new_baseline (const MnSweepScenario *scenario)
{
  MnSweepPoint *point = g_new0 (MnSweepPoint, 1);

  point->index = G_MAXUINT;
  point->baseline = TRUE;
  point->scenario = scenario;
  point->policy = mn_policy_config_copy (scenario->policy);
  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    point->values[p] = g_array_index (scenario->values[p], gint64, 0);
  point->values[MN_SWEEP_PARAM_NODES] = 0;
  /* nodes = 0 is not a valid interactive.q; the runner sends its jobs to
   * all.q and never builds a policy state from this copy. */
  point->policy->nodes = 0;
  return point;
}

GPtrArray *
mn_sweep_points_expand (const MnSweepScenario *scenario, GError **error)
{
  g_autoptr (GPtrArray) points = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_sweep_point_free);
  guint counter[MN_SWEEP_N_PARAMS] = { 0 };
  guint total = 1;

  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    total *= scenario->values[p]->len;
  for (guint k = 0; k < total; k++)
    {
      g_autoptr (MnSweepPoint) point = g_new0 (MnSweepPoint, 1);
      g_autoptr (GError) local = NULL;

      point->index = k;
      point->scenario = scenario;
      point->policy = mn_policy_config_copy (scenario->policy);
      for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
        {
          point->values[p] = g_array_index (scenario->values[p], gint64, counter[p]);
          apply (point->policy, p, point->values[p]);
        }
      /* Issue 19: a design ignores some parameters; of the combinations that
       * differ only in them, the first stands for all. */
      gboolean same_as_earlier = FALSE;
      if (point->values[MN_SWEEP_PARAM_DESIGN] == MN_DESIGN_DEDICATED)
        same_as_earlier = counter[MN_SWEEP_PARAM_EXTRA_JOBS] > 0;
      else if (point->values[MN_SWEEP_PARAM_DESIGN] == MN_DESIGN_OVERSUBSCRIBE)
        {
          same_as_earlier = counter[MN_SWEEP_PARAM_NODES] > 0
                            || counter[MN_SWEEP_PARAM_JOBS_PER_LOGICAL] > 0;
          /* nothing is carved out: the results say 0 nodes (minimise sees it) */
          point->values[MN_SWEEP_PARAM_NODES] = 0;
        }
      if (same_as_earlier)
        {
          for (gint p = MN_SWEEP_N_PARAMS - 1; p >= 0; p--)
            {
              if (++counter[p] < scenario->values[p]->len)
                break;
              counter[p] = 0;
            }
          continue;
        }
      point->index = points->len;
      if (!mn_policy_config_validate (point->policy, &local))
        {
          g_autofree gchar *what = mn_sweep_point_describe (point, FALSE);

          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "%s: [sweep] point %u (%s) is not a valid policy: %s",
                       scenario->filename, k, what, local->message);
          return NULL;
        }
      g_ptr_array_add (points, g_steal_pointer (&point));
      /* Odometer: the last parameter turns fastest. */
      for (gint p = MN_SWEEP_N_PARAMS - 1; p >= 0; p--)
        {
          if (++counter[p] < scenario->values[p]->len)
            break;
          counter[p] = 0;
        }
    }
  return g_steal_pointer (&points);
}
