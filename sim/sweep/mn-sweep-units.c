/* mn-sweep-units.c: text <-> numbers for sizes, durations and shares, as
 * scenario files and reports write them: the shared grammar and canonical
 * text of libminna-config (config/mn-config-units.h). */
#define G_LOG_DOMAIN "minna-sweep"

#include "mn-config.h"
#include "mn-sweep-scenario.h"

/* A parse's result as the signed MiB or seconds the sweep keeps. */
static gboolean
as_int64 (MnConfigParse result, const guint64 *value, gint64 *out)
{
  if (result != MN_CONFIG_PARSE_OK || *value > (guint64) G_MAXINT64)
    return FALSE;
  *out = (gint64) *value;
  return TRUE;
}

gboolean
mn_sweep_parse_size (const gchar *text, gint64 *mib)
{
  guint64 v = 0;

  return as_int64 (mn_config_parse_size (text, &v), &v, mib);
}

gboolean
mn_sweep_parse_duration (const gchar *text, gint64 *seconds)
{
  guint64 v = 0;

  return as_int64 (mn_config_parse_duration (text, &v), &v, seconds);
}

gboolean
mn_sweep_parse_share (const gchar *text, gdouble *share)
{
  return mn_config_parse_share (text, share) == MN_CONFIG_PARSE_OK;
}

gchar *
mn_sweep_format_param (MnSweepParam param, gint64 value)
{
  static const gchar *const gpu_modes[] = { "shared", "capped", "exclusive" };

  switch (param)
    {
    case MN_SWEEP_PARAM_MEMORY_CAP:
    case MN_SWEEP_PARAM_SWAP:
      return mn_config_format_size ((guint64) value);
    case MN_SWEEP_PARAM_IDLE_TIMEOUT:
      return value == 0 ? g_strdup ("off") : mn_config_format_duration (value);
    case MN_SWEEP_PARAM_GPU_MODE:
      if (value >= 0 && value < (gint64) G_N_ELEMENTS (gpu_modes))
        return g_strdup (gpu_modes[value]);
      return g_strdup ("?");
    case MN_SWEEP_PARAM_DESIGN:
      return g_strdup (mn_policy_design_to_string ((MnDesign) value));
    case MN_SWEEP_PARAM_NODES:
    case MN_SWEEP_PARAM_JOBS_PER_LOGICAL:
    case MN_SWEEP_PARAM_EXTRA_JOBS:
    case MN_SWEEP_N_PARAMS:
    default:
      return g_strdup_printf ("%" G_GINT64_FORMAT, value);
    }
}
