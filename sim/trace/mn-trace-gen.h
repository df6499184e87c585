/* mn-trace-gen.h: a TSUBAME3-style world of jobs (batch and interactive),
 * April 2019 to August 2020 by default, deterministic from a seed.
 * traces/README.md describes the model, every knob below with its default
 * and source, and the calibration figures the default world meets.
 *
 * In-process use (issue 16: sweeps generate one world per seed):
 *   MnTraceGenOptions o;
 *   mn_trace_gen_options_init (&o);          the documented defaults
 *   o.seed = 3; o.gpu_share = 0.5; ...       the knobs
 *   if (!mn_trace_gen_options_validate (&o, &error)) ...
 *   jobs = mn_trace_generate (&o, &header);  GPtrArray of MnTraceJob
 *   ... mn_sim_workload_add_job () each, mn_sim_workload_set_site (&header)
 */
#pragma once

#include "mn-trace-reader.h"

G_BEGIN_DECLS

/* The default weekly lectures (spring 2020: a course of 70 on Tuesdays at
 * 10:00, a deep-learning course of 60, 90% on GPUs, on Thursdays at 11:00). */
#define MN_TRACE_GEN_DEFAULT_LECTURES "tue 10:70, thu 11:60:0.9"

typedef struct {
  guint64 seed;          /* default 1 */
  /* The period: @months calendar months from April of @fiscal_year.
   * Default 2019 and 17 (April 2019 to August 2020).  12 gives one fiscal
   * year, 24 two. */
  gint    fiscal_year;
  guint   months;
  guint   nodes;         /* default 540 (the batch load scales with it) */
  double  load_scale;    /* multiplies the monthly batch load targets; default 1.0 */
  gboolean batch;        /* generate batch jobs (default TRUE) */
  gboolean interactive;  /* generate interactive sessions (default TRUE) */
  gboolean maintenance;  /* the maintenance periods, no jobs in them (default TRUE) */
  gboolean limits;       /* TSUBAME3's per-user running caps in the header (default TRUE) */

  /* ---- interactive.q: the assumptions as knobs (defaults and sources in
   * traces/README.md) ---- */
  gint    trial_start;         /* YYYYMM the interactive.q trial starts: no session
                                * before it; default 201911 */
  double  interactive_demand;  /* x the launch rate of every regular user; default 1.0 */
  guint   regular_users;       /* regular (non-lecture) users by the first fiscal year's
                                * end; default 54 */
  guint   regular_users_next;  /* new regular users in the next fiscal year; default 14 */
  /* Weekly lectures in term time while the trial runs, comma-separated
   * "DAY HOUR[:ROSTER[:GPU_SHARE]]", e.g. "tue 10:70, thu 11:60:0.9".  NULL =
   * MN_TRACE_GEN_DEFAULT_LECTURES (spring 2020). "" = no lectures. */
  const gchar *lectures;
  double  lecture_size;        /* x every roster; default 1.0 */
  double  webapp_share;        /* web apps (Jupyter) among interactive.q jobs; default 0.30 */
  double  webapp_to_allq;      /* web-app launches sent to all.q instead; default 0.20 */
  double  gpu_share;           /* regular users' sessions that use a GPU; default 0.30 */
  double  gpu_memory_mb;       /* median GPU memory of a GPU session, MiB; default 2500 */
  double  memory_tail_share;   /* sessions in the Pareto memory tail; default 0.12 */
  double  memory_tail_alpha;   /* its Pareto exponent (from 6 GB); default 1.1 */
  double  busy_share;          /* sessions that keep their CPU busy (20-90% of the time);
                                * default 0.15 (the others 0.5-8%) */
  guint   busy_cores;          /* cores a session keeps busy while active; default 1 */
  guint   busy_cores_heavy;    /* ... in the busy sessions; default 4 */
} MnTraceGenOptions;

void       mn_trace_gen_options_init (MnTraceGenOptions *options);
/* FALSE (with @error naming the option) when a knob is out of range or the
 * lecture schedule does not parse. */
gboolean   mn_trace_gen_options_validate (const MnTraceGenOptions *options, GError **error);

/* Every job of the period, sorted by submit time, ids from 1.  @header_out
 * (may be NULL) receives the machine description, the maintenance windows
 * and the limits; clear it with mn_trace_header_clear().  The options must
 * validate (an invalid lecture schedule is then treated as no lectures). */
GPtrArray *mn_trace_generate (const MnTraceGenOptions *options, MnTraceHeader *header_out);

/* The shipped default world: `minna-tracegen --seed 1 --format native`,
 * compressed.  The path of the file to read: $MINNA_TRACES_DIR, else
 * $MINNA_SOURCE_DIR/traces, else the source tree's traces/, else the
 * installed copy; NULL (with @error) if none exists.  Free with g_free(). */
#define MN_TRACE_DEFAULT_YEAR_FILE "tsubame3-2019-2020.native.gz"
#define MN_TRACE_DEFAULT_YEAR_SEED 1
gchar     *mn_trace_default_year_path (GError **error);

/* The generator's own PRNG (xoshiro256** seeded by splitmix64), exposed for
 * tests: the output must not depend on GLib's or libc's random numbers. */
typedef struct { guint64 s[4]; } MnRandom;
void    mn_random_init (MnRandom *rng, guint64 seed);
guint64 mn_random_next (MnRandom *rng);
double  mn_random_double (MnRandom *rng);   /* [0, 1) */

G_END_DECLS
