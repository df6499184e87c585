/* test-config-units.c: the one grammar of sizes, durations, shares, whole
 * numbers and booleans, and their canonical text (table-driven). */
#define G_LOG_DOMAIN "minna-config-test"

#include <math.h>

#include "mn-config.h"

#define G (G_GUINT64_CONSTANT (1024))
#define T (G_GUINT64_CONSTANT (1048576))

typedef enum { SIZE, DURATION, UINT, INT, SHARE, BOOL, DOUBLE } Kind;

typedef struct {
  const gchar  *path;
  Kind          kind;
  const gchar  *text;
  MnConfigParse result;
  guint64       value;    /* UINT, SIZE, DURATION; INT as two's complement; BOOL */
  gdouble       share;    /* SHARE, DOUBLE */
} Case;

#define OK MN_CONFIG_PARSE_OK
#define BAD MN_CONFIG_PARSE_INVALID
#define BIG MN_CONFIG_PARSE_OVERFLOW

static const Case cases[] = {
  { "/config/units/size/plain-mib", SIZE, "512", OK, 512 },
  { "/config/units/size/m", SIZE, "512M", OK, 512 },
  { "/config/units/size/mb", SIZE, "512MB", OK, 512 },
  { "/config/units/size/g", SIZE, "60G", OK, 60 * G },
  { "/config/units/size/gib-lower", SIZE, "2gib", OK, 2 * G },
  { "/config/units/size/t", SIZE, "1T", OK, T },
  { "/config/units/size/fraction", SIZE, "1.5T", OK, 1536 * G },
  { "/config/units/size/half-g", SIZE, "0.5G", OK, 512 },
  { "/config/units/size/trailing-zeros", SIZE, "2.500G", OK, 2560 },
  { "/config/units/size/space-before-suffix", SIZE, "768 GiB", OK, 768 * G },
  { "/config/units/size/surrounding-space", SIZE, "  8G ", OK, 8 * G },
  { "/config/units/size/zero", SIZE, "0", OK, 0 },
  { "/config/units/size/leading-dot", SIZE, ".5G", OK, 512 },
  { "/config/units/size/trailing-dot", SIZE, "4.G", OK, 4 * G },
  { "/config/units/size/rounds-to-zero", SIZE, "0.3M", BAD },
  { "/config/units/size/rounded", SIZE, "0.05T", OK, 52429 },
  { "/config/units/size/rounded-half-up", SIZE, "1.5M", OK, 2 },
  { "/config/units/size/rounded-g", SIZE, "1.1G", OK, 1126 },
  { "/config/units/size/too-precise", SIZE, "1.0000000001G", BAD },
  { "/config/units/size/negative", SIZE, "-1G", BAD },
  { "/config/units/size/plus", SIZE, "+1G", BAD },
  { "/config/units/size/exponent", SIZE, "1e3", BAD },
  { "/config/units/size/hex", SIZE, "0x10", BAD },
  { "/config/units/size/inf", SIZE, "inf", BAD },
  { "/config/units/size/empty", SIZE, "", BAD },
  { "/config/units/size/dot", SIZE, ".", BAD },
  { "/config/units/size/bad-suffix", SIZE, "60X", BAD },
  { "/config/units/size/two-dots", SIZE, "1.2.3G", BAD },
  { "/config/units/size/inner-space", SIZE, "6 0G", BAD },
  { "/config/units/size/overflow-digits", SIZE, "99999999999999999999999", BIG },
  { "/config/units/size/overflow-scaled", SIZE, "99999999999999T", BIG },
  { "/config/units/duration/plain", DURATION, "90", OK, 90 },
  { "/config/units/duration/s", DURATION, "60s", OK, 60 },
  { "/config/units/duration/m", DURATION, "30m", OK, 1800 },
  { "/config/units/duration/min", DURATION, "30min", OK, 1800 },
  { "/config/units/duration/h", DURATION, "24h", OK, 86400 },
  { "/config/units/duration/d", DURATION, "2d", OK, 172800 },
  { "/config/units/duration/upper", DURATION, "2H", OK, 7200 },
  { "/config/units/duration/fraction", DURATION, "1.5h", OK, 5400 },
  { "/config/units/duration/space", DURATION, "10 m", OK, 600 },
  { "/config/units/duration/hms", DURATION, "12:30:00", OK, 45000 },
  { "/config/units/duration/hms-long", DURATION, "100:00:01", OK, 360001 },
  { "/config/units/duration/hms-minutes", DURATION, "0:75:00", BAD },
  { "/config/units/duration/hms-two-parts", DURATION, "12:30", BAD },
  { "/config/units/duration/hms-sign", DURATION, "-1:00:00", BAD },
  { "/config/units/duration/rounded", DURATION, "1.4s", OK, 1 },
  { "/config/units/duration/rounds-to-zero", DURATION, "0.4s", BAD },
  { "/config/units/duration/week", DURATION, "1w", BAD },
  { "/config/units/duration/suffix-only", DURATION, "h", BAD },
  { "/config/units/duration/negative", DURATION, "-1", BAD },
  { "/config/units/duration/words", DURATION, "soon", BAD },
  { "/config/units/duration/overflow", DURATION, "999999999999999999d", BIG },
  { "/config/units/uint/plain", UINT, "16", OK, 16 },
  { "/config/units/uint/leading-zero", UINT, "007", OK, 7 },
  { "/config/units/uint/max", UINT, "18446744073709551615", OK, G_MAXUINT64 },
  { "/config/units/uint/overflow", UINT, "18446744073709551616", BIG },
  { "/config/units/uint/plus", UINT, "+4", BAD },
  { "/config/units/uint/minus", UINT, "-4", BAD },
  { "/config/units/uint/fraction", UINT, "4.0", BAD },
  { "/config/units/uint/suffix", UINT, "4k", BAD },
  { "/config/units/uint/comment", UINT, "4 # four", BAD },
  { "/config/units/int/negative", INT, "-12", OK, (guint64) -12 },
  { "/config/units/int/min", INT, "-9223372036854775808", OK, (guint64) G_MININT64 },
  { "/config/units/int/below-min", INT, "-9223372036854775809", BIG },
  { "/config/units/int/above-max", INT, "9223372036854775808", BIG },
  { "/config/units/int/double-minus", INT, "--1", BAD },
  { "/config/units/share/fraction", SHARE, "0.99", OK, 0, 0.99 },
  { "/config/units/share/percent", SHARE, "99%", OK, 0, 0.99 },
  { "/config/units/share/percent-space", SHARE, "12.5 %", OK, 0, 0.125 },
  { "/config/units/share/word", SHARE, "5 percent", BAD },
  { "/config/units/share/exponent", SHARE, "1e-2", BAD },
  { "/config/units/share/negative", SHARE, "-0.1", BAD },
  { "/config/units/double/plain", DOUBLE, "0.001", OK, 0, 0.001 },
  { "/config/units/double/negative", DOUBLE, "-2.5", OK, 0, -2.5 },
  { "/config/units/double/whole", DOUBLE, " 24 ", OK, 0, 24 },
  { "/config/units/double/exponent", DOUBLE, "1e3", OK, 0, 1000 },
  { "/config/units/double/exponent-signed", DOUBLE, "-2.5E-2", OK, 0, -0.025 },
  { "/config/units/double/exponent-spaced", DOUBLE, "1 e3", BAD },
  { "/config/units/double/exponent-empty", DOUBLE, "1e", BAD },
  { "/config/units/double/suffix", DOUBLE, "3x", BAD },
  { "/config/units/double/nan", DOUBLE, "nan", BAD },
  { "/config/units/double/huge", DOUBLE, "1" "000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", BIG },
  { "/config/units/bool/true", BOOL, "true", OK, TRUE },
  { "/config/units/bool/yes", BOOL, "Yes", OK, TRUE },
  { "/config/units/bool/off", BOOL, "off", OK, FALSE },
  { "/config/units/bool/zero", BOOL, "0", OK, FALSE },
  { "/config/units/bool/maybe", BOOL, "maybe", BAD },
};

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  guint64 u = 0;
  gint64 i = 0;
  gdouble d = -1;
  gboolean b = FALSE;
  MnConfigParse r;

  switch (c->kind)
    {
    case SIZE: r = mn_config_parse_size (c->text, &u); break;
    case DURATION: r = mn_config_parse_duration (c->text, &u); break;
    case UINT: r = mn_config_parse_uint (c->text, &u); break;
    case INT: r = mn_config_parse_int (c->text, &i); u = (guint64) i; break;
    case SHARE: r = mn_config_parse_share (c->text, &d); break;
    case BOOL: r = mn_config_parse_bool (c->text, &b); u = b; break;
    case DOUBLE: r = mn_config_parse_double (c->text, &d); break;
    default: g_assert_not_reached ();
    }
  g_assert_cmpint (r, ==, c->result);
  if (r != OK)
    return;
  if (c->kind == SHARE || c->kind == DOUBLE)
    g_assert_cmpfloat_with_epsilon (d, c->share, 1e-12);
  else
    g_assert_cmpuint (u, ==, c->value);
}

typedef struct {
  Kind         kind;
  guint64      value;
  const gchar *text;
} FormatCase;

static const FormatCase format_cases[] = {
  { SIZE, 0, "0" }, { SIZE, 512, "512M" }, { SIZE, 1537, "1537M" }, { SIZE, 60 * G, "60G" },
  { SIZE, 1536 * G, "1536G" }, { SIZE, 2 * T, "2T" },
  { DURATION, 0, "0" }, { DURATION, 3601, "3601s" }, { DURATION, 5400, "90m" },
  { DURATION, 86400, "24h" }, { DURATION, 172800, "2d" }, { DURATION, 31 * 86400, "31d" },
};

static void
test_format (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (format_cases); i++)
    {
      const FormatCase *c = &format_cases[i];
      g_autofree gchar *text = c->kind == SIZE ? mn_config_format_size (c->value)
                                               : mn_config_format_duration ((gint64) c->value);

      g_assert_cmpstr (text, ==, c->text);
    }
  {
    g_autofree gchar *a = mn_config_format_share (0.99);
    g_autofree gchar *b = mn_config_format_share (0.125);
    g_autofree gchar *c = mn_config_format_hms (45061);

    g_assert_cmpstr (a, ==, "99%");
    g_assert_cmpstr (b, ==, "12.5%");
    g_assert_cmpstr (c, ==, "12:31:01");
  }
  {
    static const struct { gdouble v; const gchar *text; } doubles[] = {
      { 0.1, "0.1" }, { 24, "24" }, { -2.5, "-2.5" }, { 1.25e-5, "0.0000125" },
      { 1e20, "100000000000000000000" }, { -3e-7, "-0.0000003" }, { 0, "0" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (doubles); i++)
      {
        g_autofree gchar *t = mn_config_format_double (doubles[i].v);

        g_assert_cmpstr (t, ==, doubles[i].text);
      }
  }
}

/* Whatever is formatted parses back to the same value. */
static void
test_round_trip_random (void)
{
  GRand *rand = g_rand_new_with_seed (14);

  for (guint i = 0; i < 20000; i++)
    {
      /* whole units of each size often, so that every suffix is produced */
      guint64 scale = (guint64[]) { 1, 1, 1024, 1048576 }[g_rand_int_range (rand, 0, 4)];
      guint64 mib = (guint64) g_rand_int_range (rand, 0, 1 << 20) * scale;
      gint64 secs = (gint64) g_rand_int_range (rand, 0, 1 << 20) *
                    (gint64[]) { 1, 60, 3600, 86400 }[g_rand_int_range (rand, 0, 4)];
      gdouble share = g_rand_int_range (rand, 0, 100001) / 1000.0 / 100.0;
      g_autofree gchar *ts = mn_config_format_size (mib);
      g_autofree gchar *td = mn_config_format_duration (secs);
      g_autofree gchar *th = mn_config_format_hms (secs);
      g_autofree gchar *tp = mn_config_format_share (share);
      guint64 back = 0;
      gdouble sback = -1;

      g_assert_cmpint (mn_config_parse_size (ts, &back), ==, OK);
      g_assert_cmpuint (back, ==, mib);
      g_assert_cmpint (mn_config_parse_duration (td, &back), ==, OK);
      g_assert_cmpuint (back, ==, (guint64) secs);
      g_assert_cmpint (mn_config_parse_duration (th, &back), ==, OK);
      g_assert_cmpuint (back, ==, (guint64) secs);
      g_assert_cmpint (mn_config_parse_share (tp, &sback), ==, OK);
      g_assert_cmpfloat_with_epsilon (sback, share, 1e-12);
      {
        /* any finite double, also tiny and huge ones, reads back exactly */
        gdouble v = g_rand_double_range (rand, -1, 1) *
                    pow (10, g_rand_int_range (rand, -300, 300));
        g_autofree gchar *tx = mn_config_format_double (v);
        gdouble back_d = 0;

        g_assert_cmpint (mn_config_parse_double (tx, &back_d), ==, OK);
        g_assert_true (back_d == v);
      }
    }
  g_rand_free (rand);
}

static void
test_suggest (void)
{
  static const gchar *const names[] = { "nodes", "max_walltime", "idle_timeout", NULL };

  g_assert_cmpuint (mn_config_edit_distance ("", ""), ==, 0);
  g_assert_cmpuint (mn_config_edit_distance ("kitten", "sitting"), ==, 3);
  g_assert_cmpuint (mn_config_edit_distance ("NODES", "nodes"), ==, 0);
  g_assert_cmpuint (mn_config_edit_distance ("prot", "port"), ==, 2);
  g_assert_cmpstr (mn_config_suggest ("nodez", names), ==, "nodes");
  g_assert_cmpstr (mn_config_suggest ("max_waltime", names), ==, "max_walltime");
  g_assert_null (mn_config_suggest ("colour", names));
  g_assert_null (mn_config_suggest ("x", NULL));
  g_assert_true (mn_config_close_enough ("ab", 2));
  g_assert_false (mn_config_close_enough ("abc", 3));
  g_assert_true (mn_config_close_enough ("abcdefghijkl", 4));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], test_case);
  g_test_add_func ("/config/units/format", test_format);
  g_test_add_func ("/config/units/round-trip-random", test_round_trip_random);
  g_test_add_func ("/config/suggest", test_suggest);
  return g_test_run ();
}
