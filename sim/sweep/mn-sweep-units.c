/* mn-sweep-units.c: text <-> numbers for sizes, durations and shares, as
 * scenario files and reports write them. */
#define G_LOG_DOMAIN "minna-sweep"

#include <math.h>
#include <string.h>

#include "mn-sweep-scenario.h"

/* A finite number followed by an optional suffix; the suffix is returned
 * stripped and lower-cased in @suffix (at most 3 chars). */
static gboolean
split_number (const gchar *text, gdouble *number, gchar suffix[4])
{
  g_autofree gchar *copy = g_strstrip (g_strdup (text));
  gchar *end = NULL;
  gsize n;

  if (copy[0] == '\0' || copy[0] == '-' || copy[0] == '+')
    return FALSE;
  *number = g_ascii_strtod (copy, &end);
  if (end == copy || !isfinite (*number))
    return FALSE;
  while (*end == ' ')
    end++;
  n = strlen (end);
  if (n > 3)
    return FALSE;
  for (gsize i = 0; i <= n; i++)
    suffix[i] = g_ascii_tolower (end[i]);
  return TRUE;
}

gboolean
mn_sweep_parse_size (const gchar *text, gint64 *mib)
{
  gdouble v;
  gchar s[4];
  gdouble scale;

  if (!split_number (text, &v, s))
    return FALSE;
  if (s[0] == '\0' || g_str_equal (s, "m") || g_str_equal (s, "mb") || g_str_equal (s, "mib"))
    scale = 1;
  else if (g_str_equal (s, "g") || g_str_equal (s, "gb") || g_str_equal (s, "gib"))
    scale = 1024;
  else if (g_str_equal (s, "t") || g_str_equal (s, "tb") || g_str_equal (s, "tib"))
    scale = 1024.0 * 1024;
  else
    return FALSE;
  v *= scale;
  if (v > (gdouble) G_MAXINT32 * 1024 || v != floor (v))
    return FALSE;
  *mib = (gint64) v;
  return TRUE;
}

gboolean
mn_sweep_parse_duration (const gchar *text, gint64 *seconds)
{
  gdouble v;
  gchar s[4];
  gdouble scale;

  if (!split_number (text, &v, s))
    return FALSE;
  if (s[0] == '\0' || g_str_equal (s, "s"))
    scale = 1;
  else if (g_str_equal (s, "m") || g_str_equal (s, "min"))
    scale = 60;
  else if (g_str_equal (s, "h"))
    scale = 3600;
  else if (g_str_equal (s, "d"))
    scale = 86400;
  else
    return FALSE;
  v *= scale;
  if (v > 1e12 || v != floor (v))
    return FALSE;
  *seconds = (gint64) v;
  return TRUE;
}

gboolean
mn_sweep_parse_share (const gchar *text, gdouble *share)
{
  gdouble v;
  gchar s[4];

  if (!split_number (text, &v, s))
    return FALSE;
  if (g_str_equal (s, "%"))
    v /= 100.0;
  else if (s[0] != '\0')
    return FALSE;
  *share = v;
  return TRUE;
}

static gchar *
format_size (gint64 mib)
{
  if (mib != 0 && mib % (1024 * 1024) == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "T", mib / (1024 * 1024));
  if (mib != 0 && mib % 1024 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "G", mib / 1024);
  return g_strdup_printf ("%" G_GINT64_FORMAT "M", mib);
}

static gchar *
format_duration (gint64 s)
{
  if (s != 0 && s % 3600 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h", s / 3600);
  if (s != 0 && s % 60 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "m", s / 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT "s", s);
}

gchar *
mn_sweep_format_param (MnSweepParam param, gint64 value)
{
  static const gchar *const gpu_modes[] = { "shared", "capped", "exclusive" };

  switch (param)
    {
    case MN_SWEEP_PARAM_MEMORY_CAP:
    case MN_SWEEP_PARAM_SWAP:
      return format_size (value);
    case MN_SWEEP_PARAM_IDLE_TIMEOUT:
      return value == 0 ? g_strdup ("off") : format_duration (value);
    case MN_SWEEP_PARAM_GPU_MODE:
      if (value >= 0 && value < (gint64) G_N_ELEMENTS (gpu_modes))
        return g_strdup (gpu_modes[value]);
      return g_strdup ("?");
    case MN_SWEEP_PARAM_NODES:
    case MN_SWEEP_PARAM_JOBS_PER_LOGICAL:
    case MN_SWEEP_N_PARAMS:
    default:
      return g_strdup_printf ("%" G_GINT64_FORMAT, value);
    }
}
