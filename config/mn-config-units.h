/* mn-config-units.h: the one grammar of each kind of configuration value
 * (whole numbers, sizes, durations, shares, booleans), as every minna file
 * and command line writes them, and their canonical text.
 *
 *   whole number  "16", "0"; "-3" only where signed                (no '+')
 *   number        ["-"] NUMBER ["e" ["+"|"-"] DIGITS]                ("0.001", "24", "1e-05")
 *   size          NUMBER [M|MB|MiB|G|GB|GiB|T|TB|TiB] -> MiB      ("60G", "1.5T", "512")
 *   duration      NUMBER [s|m|min|h|d] -> seconds, or H:MM:SS      ("24h", "90m", "12:30:00")
 *   share         NUMBER [%] -> a fraction                          ("0.99", "99%")
 *   boolean       true/false, yes/no, on/off, 1/0
 *
 * NUMBER is decimal digits with at most one '.' (no sign, hex, "inf" or
 * "nan"; an exponent only in a plain number, as C's %g writes one); white
 * space may stand between it and a unit, and units ignore case.  A size or duration is held in whole MiB or seconds:
 * a fraction is rounded to the nearest ("0.05T" is 52429 MiB), but a value
 * above zero that would round to zero is refused ("0.3M"), as is a fraction
 * of more than 9 significant digits.  Pure: GLib only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MN_CONFIG_PARSE_OK,
  MN_CONFIG_PARSE_INVALID,    /* not of the grammar */
  MN_CONFIG_PARSE_OVERFLOW,   /* of the grammar, but beyond 64 bits */
} MnConfigParse;

MnConfigParse mn_config_parse_uint (const gchar *text, guint64 *value);
MnConfigParse mn_config_parse_int (const gchar *text, gint64 *value);
MnConfigParse mn_config_parse_size (const gchar *text, guint64 *mib);
MnConfigParse mn_config_parse_duration (const gchar *text, guint64 *seconds);
MnConfigParse mn_config_parse_share (const gchar *text, gdouble *share);
MnConfigParse mn_config_parse_bool (const gchar *text, gboolean *value);
MnConfigParse mn_config_parse_double (const gchar *text, gdouble *value);

/* Canonical text, read back by the parsers to the same value. */
gchar *mn_config_format_size (guint64 mib);           /* "0", "512M", "60G", "1T" */
gchar *mn_config_format_duration (gint64 seconds);    /* "0", "90s", "90m", "24h", "3d" */
gchar *mn_config_format_hms (gint64 seconds);         /* "24:00:00" */
gchar *mn_config_format_share (gdouble share);        /* "99%", "12.5%" */
gchar *mn_config_format_double (gdouble value);       /* "0.001", "24", no exponent */

G_END_DECLS
