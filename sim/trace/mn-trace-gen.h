/* mn-trace-gen.h: a TSUBAME3-style year of jobs (batch and interactive),
 * deterministic from a seed.  traces/README.md describes the model and the
 * calibration figures it meets. */
#pragma once

#include "mn-trace-reader.h"

G_BEGIN_DECLS

typedef struct {
  guint64 seed;          /* default 1 */
  gint    fiscal_year;   /* April of this year to March of the next; default 2019 */
  guint   nodes;         /* default 540 */
  double  load_scale;    /* multiplies the monthly load targets; default 1.0 */
  gboolean batch;        /* generate batch jobs (default TRUE) */
  gboolean interactive;  /* generate interactive sessions (default TRUE) */
} MnTraceGenOptions;

void       mn_trace_gen_options_init (MnTraceGenOptions *options);

/* Every job of the year, sorted by submit time, ids from 1.  @header_out
 * (may be NULL) receives the machine description; clear it with
 * mn_trace_header_clear(). */
GPtrArray *mn_trace_generate (const MnTraceGenOptions *options, MnTraceHeader *header_out);

/* The shipped default year: `minna-tracegen --seed 1 --format native`
 * (FY2019), compressed.  The path of the file to read: $MINNA_TRACES_DIR,
 * else $MINNA_SOURCE_DIR/traces, else the source tree's traces/, else the
 * installed copy; NULL (with @error) if none exists.  Free with g_free(). */
#define MN_TRACE_DEFAULT_YEAR_FILE "tsubame3-fy2019.native.gz"
#define MN_TRACE_DEFAULT_YEAR_SEED 1
gchar     *mn_trace_default_year_path (GError **error);

/* The generator's own PRNG (xoshiro256** seeded by splitmix64), exposed for
 * tests: the output must not depend on GLib's or libc's random numbers. */
typedef struct { guint64 s[4]; } MnRandom;
void    mn_random_init (MnRandom *rng, guint64 seed);
guint64 mn_random_next (MnRandom *rng);
double  mn_random_double (MnRandom *rng);   /* [0, 1) */

G_END_DECLS
