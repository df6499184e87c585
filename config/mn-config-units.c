/* mn-config-units.c: numbers, sizes, durations, shares and booleans as text
 * (the grammar is in mn-config-units.h). */
#define G_LOG_DOMAIN "minna-config"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mn-config-units.h"

#define MIB_G G_GUINT64_CONSTANT (1024)
#define MIB_T G_GUINT64_CONSTANT (1048576)
#define DAY   86400

/* A decimal number as written: the whole part, the fraction's digits as a
 * whole number (trailing zeros dropped) and their count, and what follows. */
typedef struct {
  guint64      whole;
  guint64      frac;
  guint        frac_digits;
  gboolean     overflow;     /* the whole part does not fit 64 bits */
  gboolean     too_precise;  /* more than 9 significant fraction digits */
  const gchar *number;       /* where the digits start */
  gsize        number_len;
  gchar       *suffix;       /* stripped; owned */
} Decimal;

static void
decimal_clear (Decimal *d)
{
  g_clear_pointer (&d->suffix, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Decimal, decimal_clear)

static gboolean
scan_decimal (const gchar *text, Decimal *d)
{
  const gchar *p = text;
  guint digits = 0;
  guint frac_seen = 0;
  guint64 frac = 0;

  memset (d, 0, sizeof *d);
  if (text == NULL)
    return FALSE;
  while (g_ascii_isspace (*p))
    p++;
  d->number = p;
  for (; g_ascii_isdigit (*p); p++, digits++)
    {
      guint v = *p - '0';

      if (d->whole > (G_MAXUINT64 - v) / 10)
        d->overflow = TRUE;
      else
        d->whole = d->whole * 10 + v;
    }
  if (*p == '.')
    for (p++; g_ascii_isdigit (*p); p++, digits++)
      {
        /* 18 digits fit 64 bits; more are kept only as "too precise". */
        if (frac_seen < 18)
          {
            frac = frac * 10 + (guint64) (*p - '0');
            frac_seen++;
          }
        else if (*p != '0')
          d->too_precise = TRUE;
      }
  if (digits == 0)
    return FALSE;
  d->number_len = p - d->number;
  while (frac_seen > 0 && frac % 10 == 0)
    frac /= 10, frac_seen--;
  if (frac_seen > 9)
    d->too_precise = TRUE;
  d->frac = frac;
  d->frac_digits = frac_seen;
  d->suffix = g_strstrip (g_strdup (p));
  return TRUE;
}

/* @d times @mult, rounded to the nearest whole number (half up).  A value
 * above zero that would round to zero is refused: 0 means "none" or "off"
 * for many keys, and "0.3M" should not quietly become that. */
static MnConfigParse
decimal_scale (const Decimal *d, guint64 mult, guint64 *out)
{
  guint64 pow10 = 1, part;

  if (d->too_precise)
    return MN_CONFIG_PARSE_INVALID;
  for (guint i = 0; i < d->frac_digits; i++)
    pow10 *= 10;
  /* frac < 10^9 and mult <= 2^20: no overflow. */
  part = (d->frac * mult + pow10 / 2) / pow10;
  if (d->overflow || d->whole > (G_MAXUINT64 - part) / mult)
    return MN_CONFIG_PARSE_OVERFLOW;
  if (d->whole == 0 && part == 0 && d->frac != 0)
    return MN_CONFIG_PARSE_INVALID;
  *out = d->whole * mult + part;
  return MN_CONFIG_PARSE_OK;
}

static gboolean
suffix_is (const gchar *suffix, const gchar *const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (suffix, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Digits only (surrounding white space allowed). */
static MnConfigParse
parse_digits (const gchar *text, guint64 *value)
{
  Decimal d;
  MnConfigParse r;

  if (!scan_decimal (text, &d))
    return MN_CONFIG_PARSE_INVALID;
  r = d.suffix[0] == '\0' && memchr (d.number, '.', d.number_len) == NULL
      ? (d.overflow ? MN_CONFIG_PARSE_OVERFLOW : MN_CONFIG_PARSE_OK)
      : MN_CONFIG_PARSE_INVALID;
  if (r == MN_CONFIG_PARSE_OK)
    *value = d.whole;
  decimal_clear (&d);
  return r;
}

MnConfigParse
mn_config_parse_uint (const gchar *text, guint64 *value)
{
  return parse_digits (text, value);
}

/* Past leading white space and a '-': where the digits of @text start,
 * or NULL if no digit (or '.') is there. */
static const gchar *
skip_sign (const gchar *text, gboolean *negative)
{
  const gchar *p = text;

  if (text == NULL)
    return NULL;
  while (g_ascii_isspace (*p))
    p++;
  *negative = *p == '-';
  if (*negative)
    p++;
  return g_ascii_isdigit (*p) || *p == '.' ? p : NULL;
}

MnConfigParse
mn_config_parse_int (const gchar *text, gint64 *value)
{
  gboolean negative = FALSE;
  const gchar *p = skip_sign (text, &negative);
  guint64 magnitude = 0;
  MnConfigParse r;

  if (p == NULL || !g_ascii_isdigit (*p))
    return MN_CONFIG_PARSE_INVALID;
  r = parse_digits (p, &magnitude);
  if (r != MN_CONFIG_PARSE_OK)
    return r;
  if (magnitude > (guint64) G_MAXINT64 + (negative ? 1 : 0))
    return MN_CONFIG_PARSE_OVERFLOW;
  *value = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;
  return MN_CONFIG_PARSE_OK;
}

MnConfigParse
mn_config_parse_size (const gchar *text, guint64 *mib)
{
  static const gchar *const m[] = { "", "m", "mb", "mib", NULL };
  static const gchar *const g[] = { "g", "gb", "gib", NULL };
  static const gchar *const t[] = { "t", "tb", "tib", NULL };
  g_auto (Decimal) d = { 0 };
  guint64 mult;

  if (!scan_decimal (text, &d))
    return MN_CONFIG_PARSE_INVALID;
  if (suffix_is (d.suffix, m))
    mult = 1;
  else if (suffix_is (d.suffix, g))
    mult = MIB_G;
  else if (suffix_is (d.suffix, t))
    mult = MIB_T;
  else
    return MN_CONFIG_PARSE_INVALID;
  return decimal_scale (&d, mult, mib);
}

static MnConfigParse
parse_hms (const gchar *text, guint64 *seconds)
{
  g_autofree gchar *copy = g_strstrip (g_strdup (text));
  g_auto (GStrv) parts = g_strsplit (copy, ":", -1);
  guint64 h, m, s;
  MnConfigParse r;

  if (g_strv_length (parts) != 3)
    return MN_CONFIG_PARSE_INVALID;
  for (guint i = 0; i < 3; i++)
    if (!g_ascii_isdigit (parts[i][0]))
      return MN_CONFIG_PARSE_INVALID;
  if ((r = parse_digits (parts[0], &h)) != MN_CONFIG_PARSE_OK)
    return r;
  if (parse_digits (parts[1], &m) != MN_CONFIG_PARSE_OK || m > 59 ||
      parse_digits (parts[2], &s) != MN_CONFIG_PARSE_OK || s > 59)
    return MN_CONFIG_PARSE_INVALID;
  if (h > (G_MAXUINT64 - m * 60 - s) / 3600)
    return MN_CONFIG_PARSE_OVERFLOW;
  *seconds = h * 3600 + m * 60 + s;
  return MN_CONFIG_PARSE_OK;
}

MnConfigParse
mn_config_parse_duration (const gchar *text, guint64 *seconds)
{
  static const gchar *const s[] = { "", "s", NULL };
  static const gchar *const m[] = { "m", "min", NULL };
  static const gchar *const h[] = { "h", NULL };
  static const gchar *const d[] = { "d", NULL };
  g_auto (Decimal) dec = { 0 };
  guint64 mult;

  if (text != NULL && strchr (text, ':') != NULL)
    return parse_hms (text, seconds);
  if (!scan_decimal (text, &dec))
    return MN_CONFIG_PARSE_INVALID;
  if (suffix_is (dec.suffix, s))
    mult = 1;
  else if (suffix_is (dec.suffix, m))
    mult = 60;
  else if (suffix_is (dec.suffix, h))
    mult = 3600;
  else if (suffix_is (dec.suffix, d))
    mult = DAY;
  else
    return MN_CONFIG_PARSE_INVALID;
  return decimal_scale (&dec, mult, seconds);
}

MnConfigParse
mn_config_parse_share (const gchar *text, gdouble *share)
{
  g_auto (Decimal) d = { 0 };
  g_autofree gchar *number = NULL;
  gdouble v;

  if (!scan_decimal (text, &d))
    return MN_CONFIG_PARSE_INVALID;
  if (d.suffix[0] != '\0' && !g_str_equal (d.suffix, "%"))
    return MN_CONFIG_PARSE_INVALID;
  if (d.overflow)
    return MN_CONFIG_PARSE_OVERFLOW;
  /* Only digits and one '.' reach strtod: no exponent, hex or "inf". */
  number = g_strndup (d.number, d.number_len);
  v = g_ascii_strtod (number, NULL);
  *share = d.suffix[0] == '%' ? v / 100.0 : v;
  return MN_CONFIG_PARSE_OK;
}

/* "", "e5", "E-3", "e+12": what may follow a plain number's digits (a number
 * as C's %g writes it; sizes, durations and shares take no exponent). */
static gboolean
is_exponent (const gchar *s)
{
  if (s[0] == '\0')
    return TRUE;
  if (s[0] != 'e' && s[0] != 'E')
    return FALSE;
  s++;
  if (*s == '+' || *s == '-')
    s++;
  if (!g_ascii_isdigit (*s))
    return FALSE;
  while (g_ascii_isdigit (*s))
    s++;
  return *s == '\0';
}

MnConfigParse
mn_config_parse_double (const gchar *text, gdouble *value)
{
  gboolean negative = FALSE;
  const gchar *p = skip_sign (text, &negative);
  g_auto (Decimal) d = { 0 };
  g_autofree gchar *number = NULL;
  gdouble v;

  if (p == NULL || !scan_decimal (p, &d) || !is_exponent (d.suffix) ||
      (d.suffix[0] != '\0' && d.number[d.number_len] != d.suffix[0]))
    return MN_CONFIG_PARSE_INVALID;
  /* Only digits, one '.' and an exponent reach strtod: no hex or "inf". */
  number = g_strdup_printf ("%.*s%s", (int) d.number_len, d.number, d.suffix);
  v = g_ascii_strtod (number, NULL);
  if (!isfinite (v))
    return MN_CONFIG_PARSE_OVERFLOW;
  *value = negative ? -v : v;
  return MN_CONFIG_PARSE_OK;
}

MnConfigParse
mn_config_parse_bool (const gchar *text, gboolean *value)
{
  static const gchar *const yes[] = { "true", "yes", "on", "1", NULL };
  static const gchar *const no[] = { "false", "no", "off", "0", NULL };
  g_autofree gchar *copy = NULL;

  if (text == NULL)
    return MN_CONFIG_PARSE_INVALID;
  copy = g_strstrip (g_strdup (text));
  if (suffix_is (copy, yes))
    *value = TRUE;
  else if (suffix_is (copy, no))
    *value = FALSE;
  else
    return MN_CONFIG_PARSE_INVALID;
  return MN_CONFIG_PARSE_OK;
}

gchar *
mn_config_format_size (guint64 mib)
{
  if (mib == 0)
    return g_strdup ("0");
  if (mib % MIB_T == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "T", mib / MIB_T);
  if (mib % MIB_G == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "G", mib / MIB_G);
  return g_strdup_printf ("%" G_GUINT64_FORMAT "M", mib);
}

gchar *
mn_config_format_duration (gint64 seconds)
{
  /* "24h" reads better than "1d"; days only from two on. */
  if (seconds == 0)
    return g_strdup ("0");
  if (seconds % DAY == 0 && seconds >= 2 * DAY)
    return g_strdup_printf ("%" G_GINT64_FORMAT "d", seconds / DAY);
  if (seconds % 3600 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h", seconds / 3600);
  if (seconds % 60 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "m", seconds / 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT "s", seconds);
}

gchar *
mn_config_format_hms (gint64 seconds)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                          (int) (seconds / 60 % 60), (int) (seconds % 60));
}

gchar *
mn_config_format_share (gdouble share)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Ten significant digits: 0.99 is "99%", not "98.99999999999999%". */
  return g_strdup_printf ("%s%%", g_ascii_formatd (buf, sizeof buf, "%.10g", share * 100.0));
}

/* "1.25e-05" as "0.0000125": the grammar has no exponent. */
static gchar *
without_exponent (const gchar *text)
{
  const gchar *e = strchr (text, 'e');
  GString *digits = g_string_new (NULL);
  GString *out = g_string_new (NULL);
  gint exp10, point;

  for (const gchar *p = text; p < e; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (digits, *p);
  exp10 = atoi (e + 1);
  if (text[0] == '-')
    g_string_append_c (out, '-');
  /* the digits are d.ddd x 10^exp10: the point goes after 1 + exp10 of them */
  point = 1 + exp10;
  if (point <= 0)
    {
      g_string_append (out, "0.");
      for (gint i = 0; i < -point; i++)
        g_string_append_c (out, '0');
      g_string_append (out, digits->str);
    }
  else
    {
      while ((gint) digits->len < point)
        g_string_append_c (digits, '0');
      g_string_append_len (out, digits->str, point);
      if ((gint) digits->len > point)
        g_string_append_printf (out, ".%s", digits->str + point);
    }
  g_string_free (digits, TRUE);
  return g_string_free (out, FALSE);
}

gchar *
mn_config_format_double (gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* The shortest of 15, 16, 17 digits that reads back to the same value. */
  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  if (g_ascii_strtod (buf, NULL) != value)
    g_ascii_formatd (buf, sizeof buf, "%.16g", value);
  if (g_ascii_strtod (buf, NULL) != value)
    g_ascii_formatd (buf, sizeof buf, "%.17g", value);
  return strchr (buf, 'e') != NULL ? without_exponent (buf) : g_strdup (buf);
}
