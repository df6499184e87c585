/* mn-trace-parse.c: number, duration and memory parsing shared by the text
 * formats.  Hand-written because the readers are bound by parsing speed and
 * must not depend on the locale. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-private.h"

#include <string.h>

gboolean
mn_trace_parse_int (const gchar *text, gint64 *value)
{
  const gchar *p = text;
  gboolean negative = FALSE;
  guint64 v = 0;
  guint digits = 0;

  if (p == NULL)
    return FALSE;
  if (*p == '-' || *p == '+')
    negative = (*p++ == '-');
  while (g_ascii_isdigit (*p))
    {
      if (v > (G_MAXINT64 - 9) / 10)
        return FALSE;   /* overflow */
      v = v * 10 + (guint64) (*p++ - '0');
      digits++;
    }
  /* A fraction ("12.50") is accepted and truncated: SWF logs have some. */
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        {
          p++;
          digits++;
        }
    }
  if (digits == 0 || *p != '\0')
    return FALSE;
  *value = negative ? -(gint64) v : (gint64) v;
  return TRUE;
}

gboolean
mn_trace_parse_double (const gchar *text, double *value)
{
  gchar *end = NULL;
  double v;

  if (text == NULL || *text == '\0')
    return FALSE;
  v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || v != v)
    return FALSE;
  *value = v;
  return TRUE;
}

guint
mn_trace_split (gchar *line, gchar sep, gchar **fields, guint max)
{
  guint n = 0;
  gchar *p = line;

  if (max == 0)
    return 0;
  if (sep == ' ')
    {
      for (;;)
        {
          while (*p == ' ' || *p == '\t')
            p++;
          if (*p == '\0')
            return n;
          if (n == max - 1)
            {
              fields[n++] = p;
              return n;
            }
          fields[n++] = p;
          while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
          if (*p == '\0')
            return n;
          *p++ = '\0';
        }
    }
  fields[n++] = p;
  while (n < max)
    {
      gchar *s = strchr (p, sep);

      if (s == NULL)
        break;
      *s = '\0';
      p = s + 1;
      fields[n++] = p;
    }
  return n;
}

gboolean
mn_trace_parse_duration (const gchar *text, gint64 *seconds)
{
  gint64 parts[3] = { 0, 0, 0 };
  gint64 days = 0;
  guint n = 0;
  const gchar *p = text;
  const gchar *dash;

  if (text == NULL || *text == '\0')
    return FALSE;
  if (g_ascii_strcasecmp (text, "UNLIMITED") == 0 ||
      g_ascii_strcasecmp (text, "Partition_Limit") == 0 ||
      g_ascii_strcasecmp (text, "INFINITY") == 0)
    {
      *seconds = -1;
      return TRUE;
    }
  dash = strchr (text, '-');
  if (dash != NULL)
    {
      days = 0;
      for (p = text; p < dash; p++)
        {
          if (!g_ascii_isdigit (*p) || days > 1000000)
            return FALSE;
          days = days * 10 + (*p - '0');
        }
      if (p == text)
        return FALSE;
      p = dash + 1;
    }
  for (;;)
    {
      gint64 v = 0;
      const gchar *q = p;

      while (g_ascii_isdigit (*p))
        {
          if (v > 100000000)
            return FALSE;
          v = v * 10 + (*p++ - '0');
        }
      /* Slurm prints "MM:SS.mmm" for short elapsed times; drop the fraction. */
      if (*p == '.')
        {
          p++;
          while (g_ascii_isdigit (*p))
            p++;
        }
      if (p == q || n == 3)
        return FALSE;
      parts[n++] = v;
      if (*p == '\0')
        break;
      if (*p != ':')
        return FALSE;
      p++;
    }
  switch (n)
    {
    case 1: *seconds = dash != NULL ? parts[0] * 3600 : parts[0]; break;   /* "D-HH" */
    case 2: *seconds = dash != NULL ? parts[0] * 3600 + parts[1] * 60
                                    : parts[0] * 60 + parts[1]; break;
    default: *seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]; break;
    }
  *seconds += days * 86400;
  return TRUE;
}

gboolean
mn_trace_parse_memory_mb (const gchar *text, gchar default_unit, gint64 *mb)
{
  gchar *end = NULL;
  double v, factor;
  gchar unit;

  if (text == NULL || *text == '\0' || *text == '-')
    return FALSE;
  v = g_ascii_strtod (text, &end);
  if (end == text || !(v >= 0) || v > 1e15)
    return FALSE;
  unit = *end != '\0' ? g_ascii_toupper (*end++) : default_unit;
  /* Slurm's "4Gn" / "4Gc" (per node / per CPU) */
  if (*end == 'n' || *end == 'c' || *end == 'B' || *end == 'b')
    end++;
  if (*end != '\0')
    return FALSE;
  switch (unit)
    {
    case 'B': factor = 1.0 / (1024.0 * 1024.0); break;
    case 'K': factor = 1.0 / 1024.0; break;
    case 'M': factor = 1.0; break;
    case 'G': factor = 1024.0; break;
    case 'T': factor = 1024.0 * 1024.0; break;
    default: return FALSE;
    }
  v = v * factor + 0.5;
  if (v > 1e15)    /* a petabyte: nonsense, and keeps the sums in range */
    return FALSE;
  *mb = (gint64) v;
  return TRUE;
}
