/* mn-trace-gen.c: minna-tracegen's model of a TSUBAME3-like year.
 *
 * Batch load is budget driven: every day gets a target of node-seconds
 * (monthly load x weekday factor x machine size) and jobs are drawn until the
 * target is met, the overshoot carried to the next day.  That way the
 * calibration figures (offered utilization > 0.80 over the year, > 0.96 in
 * the busiest month) hold by construction, while job sizes, run times and
 * walltime over-estimates stay random.  Interactive sessions come from
 * regular users (all day) and weekday lectures (10:00 and 11:00). */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-gen.h"

#include <math.h>
#include <string.h>

#define DAY 86400
#define HOUR 3600
#define JST_OFFSET (9 * 3600)

/* --- PRNG --------------------------------------------------------------- */

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void
mn_random_init (MnRandom *rng, guint64 seed)
{
  for (guint i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&seed);
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

guint64
mn_random_next (MnRandom *rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

double
mn_random_double (MnRandom *rng)
{
  return (double) (mn_random_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

static double
uniform (MnRandom *rng, double lo, double hi)
{
  return lo + (hi - lo) * mn_random_double (rng);
}

static guint
uniform_int (MnRandom *rng, guint n)   /* [0, n) */
{
  return (guint) (mn_random_double (rng) * n);
}

static double
normal (MnRandom *rng)
{
  double u1 = 1.0 - mn_random_double (rng);   /* (0, 1] */
  double u2 = mn_random_double (rng);

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

static double
lognormal (MnRandom *rng, double median, double sigma)
{
  return median * exp (sigma * normal (rng));
}

static guint
poisson (MnRandom *rng, double mean)
{
  double limit = exp (-mean), p = 1.0;
  guint k = 0;

  do
    {
      k++;
      p *= mn_random_double (rng);
    }
  while (p > limit && k < 1000);
  return k - 1;
}

/* Index drawn from cumulative weights. */
static guint
pick (MnRandom *rng, const double *weights, guint n)
{
  double total = 0, x;

  for (guint i = 0; i < n; i++)
    total += weights[i];
  x = mn_random_double (rng) * total;
  for (guint i = 0; i < n; i++)
    {
      if (x < weights[i])
        return i;
      x -= weights[i];
    }
  return n - 1;
}

/* --- the model's tables ---------------------------------------------------- */

/* Offered batch load by calendar month (Jan..Dec) as a share of the machine:
 * a Japanese fiscal year, quiet in April, busiest before the theses of
 * January and February. */
static const double month_load[12] = {
  0.990, 0.980, 0.800, 0.700, 0.780, 0.830, 0.870, 0.800, 0.830, 0.860, 0.890, 0.910,
};
static const double weekday_factor[7] = { 1.06, 1.06, 1.06, 1.06, 1.06, 0.85, 0.85 };

/* Submissions by hour of day: batch, and interactive sessions of regular
 * users (afternoon-heavy; the 10:00/11:00 peaks come from lectures). */
static const double batch_hours[24] = {
  2, 1.5, 1, 1, 1, 1, 1.5, 2, 3, 5, 6, 6, 5, 6, 6, 6, 5.5, 5, 4.5, 4, 3.5, 3, 2.5, 2,
};
static const double session_hours[24] = {
  0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 1.0, 1.8, 2.0, 2.0, 1.4, 2.4, 2.6, 2.6, 2.4, 2.0,
  1.5, 1.3, 1.2, 1.0, 0.8, 0.5,
};
static const double homework_hours[24] = {
  0.5, 0.3, 0.1, 0, 0, 0, 0, 0.1, 0.2, 0.3, 0.3, 0.3, 0.8, 0.6, 0.6, 0.6, 0.8, 1.0, 1.2,
  1.6, 2.0, 2.2, 1.8, 1.0,
};

static const MnResourceType batch_types[] = {
  MN_RTYPE_F, MN_RTYPE_H, MN_RTYPE_Q, MN_RTYPE_C4, MN_RTYPE_C1, MN_RTYPE_G1,
};
static const double batch_type_weights[] = { 0.30, 0.08, 0.17, 0.12, 0.15, 0.18 };
static const guint f_counts[] = { 1, 2, 4, 8, 16, 32, 64, 128, 144 };
static const double f_count_weights[] = {
  0.30, 0.15, 0.15, 0.13, 0.10, 0.08, 0.05, 0.025, 0.015,
};
static const gint64 walltime_choices[] = { 1 * HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR,
                                           24 * HOUR };
static const double walltime_weights[] = { 0.20, 0.20, 0.20, 0.15, 0.10, 0.15 };
static const gchar *const job_names[] = {
  "run.sh", "job.sh", "a.out", "train.py", "md_run", "vasp", "gromacs", "lammps", "qe",
  "openfoam",
};

#define BATCH_USERS 1400
#define USERS_PER_GROUP 6
#define MAX_WALLTIME (24 * HOUR)

/* Lecture courses: a fixed roster meets weekly in one semester. */
typedef struct {
  const gchar *title;
  gboolean     spring;       /* April-July, else October-January */
  gint         weekday;      /* 1 = Monday */
  gint         hour;         /* 10 or 11 */
  guint        roster;
  double       gpu_share;    /* sessions that use the GPU */
  guint        first_user;   /* roster is u<first_user> ... */
} Course;

static const Course courses[] = {
  { "introduction to HPC",      TRUE,  2, 10, 70, 0.05, 5001 },
  { "deep learning practice",   TRUE,  4, 11, 60, 0.90, 5101 },
  { "scientific computing",     FALSE, 1, 10, 90, 0.05, 5201 },
  { "data science",             FALSE, 3, 11, 62, 0.30, 5301 },
};

#define REGULARS_SPRING 60
#define REGULARS_LATER 45

typedef struct {
  MnRandom   rng;
  GPtrArray *jobs;
  guint64    seq;
  double     user_cdf[BATCH_USERS];
} Gen;

static guint
pick_user (Gen *gen)
{
  double x = mn_random_double (&gen->rng) * gen->user_cdf[BATCH_USERS - 1];
  guint lo = 0, hi = BATCH_USERS - 1;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (gen->user_cdf[mid] > x)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo + 1;
}

static MnTraceJob *
new_job (Gen *gen, gint64 submit)
{
  MnTraceJob *job = mn_trace_job_new ();

  job->id = (gint64) gen->seq++;   /* ordering key until the final sort */
  job->submit = submit;
  g_ptr_array_add (gen->jobs, job);
  return job;
}

static void
set_user (MnTraceJob *job, guint user)
{
  job->user = g_strdup_printf ("u%u", user);
  job->group = g_strdup_printf ("g%u", 1 + (user - 1) / USERS_PER_GROUP);
}

static void
set_rtype (MnTraceJob *job, MnResourceType rtype, guint count)
{
  const MnResourceTypeInfo *info = mn_resource_type_info (rtype);

  job->rtype = rtype;
  job->rtype_count = count;
  job->procs = (gint64) count * info->cores;
  job->gpus = (gint64) count * info->gpus;
  job->memory_req_mb = (gint64) count * (gint64) info->memory_mb;
}

static gint64
hour_start (Gen *gen, const double *hours)
{
  return (gint64) pick (&gen->rng, hours, 24) * HOUR + uniform_int (&gen->rng, HOUR);
}

/* One batch job submitted on the day starting at @day; returns its work in
 * node-seconds. */
static double
batch_job (Gen *gen, gint64 day)
{
  MnRandom *rng = &gen->rng;
  MnTraceJob *job = new_job (gen, day + hour_start (gen, batch_hours));
  MnResourceType rtype = batch_types[pick (rng, batch_type_weights,
                                           G_N_ELEMENTS (batch_type_weights))];
  guint count = 1, user = pick_user (gen);
  double runtime;

  if (rtype == MN_RTYPE_F)
    count = f_counts[pick (rng, f_count_weights, G_N_ELEMENTS (f_count_weights))];
  else if (mn_random_double (rng) < 0.2)
    count = 2 + uniform_int (rng, rtype == MN_RTYPE_H || rtype == MN_RTYPE_Q ? 3 : 7);
  set_rtype (job, rtype, count);
  set_user (job, user);
  job->queue = g_strdup ("all.q");
  job->name = g_strdup (job_names[(user * 7) % G_N_ELEMENTS (job_names)]);

  if (mn_random_double (rng) < 0.08)
    {
      /* killed at its walltime */
      job->walltime_req = walltime_choices[pick (rng, walltime_weights,
                                                 G_N_ELEMENTS (walltime_weights))];
      job->runtime = job->walltime_req;
      job->exit_status = 137;
    }
  else
    {
      if (mn_random_double (rng) < 0.35)
        runtime = lognormal (rng, 600, 1.2);
      else
        runtime = lognormal (rng, 4 * HOUR, 1.0);
      job->runtime = (gint64) CLAMP (runtime, 10, MAX_WALLTIME - 60);
      if (mn_random_double (rng) < 0.25)
        job->walltime_req = MAX_WALLTIME;
      else
        {
          /* users over-estimate, then round up to the hour */
          double over = exp (uniform (rng, 0, log (8.0)));
          gint64 want = (gint64) ceil (job->runtime * over / HOUR) * HOUR;

          job->walltime_req = CLAMP (want, HOUR, MAX_WALLTIME);
        }
      job->exit_status = mn_random_double (rng) < 0.93 ? 0 : 1;
    }
  job->memory_used_mb = (gint64) (job->memory_req_mb * uniform (rng, 0.05, 0.85));
  job->cpu_time = (gint64) ((double) job->runtime * job->procs * uniform (rng, 0.2, 1.0));
  return job->runtime * count * mn_resource_type_node_share (rtype);
}

/* What an interactive session does: memory (heavy tail past the 60 GB cap),
 * a mostly idle CPU, sometimes a GPU. */
static void
session_behaviour (Gen *gen, MnTraceJob *job, double gpu_share)
{
  MnRandom *rng = &gen->rng;
  double used, active, gpu_mb;
  gint64 t1, t2, runtime = job->runtime;
  guint base;
  guint busy_cores;

  set_rtype (job, MN_RTYPE_Q, 1);
  job->queue = g_strdup ("interactive.q");
  job->interactive = TRUE;

  if (mn_random_double (rng) < 0.88)
    used = lognormal (rng, 1200, 0.9);
  else
    used = 6000.0 / pow (1.0 - mn_random_double (rng), 1.0 / 1.1);   /* Pareto */
  used = CLAMP (used, 120, 250000);
  job->memory_used_mb = (gint64) used;

  /* Profile: the kernel starts small, grows to the peak, may shrink again. */
  t1 = (gint64) (runtime * uniform (rng, 0.05, 0.3));
  t2 = (gint64) (runtime * uniform (rng, 0.35, 0.8));
  base = 150 + uniform_int (rng, 200);
  mn_trace_job_add_memory_step (job, 0, (guint64) MIN (used, base));
  if (t1 > 0)
    mn_trace_job_add_memory_step (job, t1, (guint64) (used * uniform (rng, 0.3, 0.7)));
  if (t2 > t1 && t2 > 0)
    mn_trace_job_add_memory_step (job, t2, (guint64) used);
  else
    g_array_index (job->memory_profile, MnMemoryStep, job->memory_profile->len - 1).memory_mb =
      (guint64) used;
  if (mn_random_double (rng) < 0.5)
    {
      gint64 t3 = (gint64) (runtime * uniform (rng, 0.85, 0.97));

      if (t3 > t2 && t3 > t1)
        mn_trace_job_add_memory_step (job, t3, (guint64) (used * uniform (rng, 0.2, 0.6)));
    }

  if (mn_random_double (rng) < 0.85)
    active = uniform (rng, 0.005, 0.08);
  else
    active = uniform (rng, 0.2, 0.9);
  job->cpu_active = round (active * 10000.0) / 10000.0;
  busy_cores = mn_random_double (rng) < 0.15 ? 4 : 1;
  job->cpu_time = (gint64) (runtime * job->cpu_active * busy_cores);
  if (mn_random_double (rng) < gpu_share)
    {
      /* CLAMP and MIN evaluate their arguments twice: draw first */
      gpu_mb = lognormal (rng, 2500, 0.8);
      job->gpu_memory_mb = (gint64) CLAMP (gpu_mb, 300, 16280);
    }
  else
    job->gpu_memory_mb = 0;
}

static void
finish_runtime (MnTraceJob *job, double runtime)
{
  job->runtime = (gint64) MAX (runtime, 60);
  if (job->runtime >= job->walltime_req)
    {
      job->runtime = job->walltime_req;
      job->exit_status = 137;
    }
  else
    job->exit_status = 0;
}

static void
regular_session (Gen *gen, gint64 day, guint user)
{
  MnRandom *rng = &gen->rng;
  MnTraceJob *job = new_job (gen, day + hour_start (gen, session_hours));

  set_user (job, user);
  job->name = g_strdup (mn_random_double (rng) < 0.75 ? "jupyter" : "QRLOGIN");
  job->walltime_req = walltime_choices[pick (rng, walltime_weights,
                                             G_N_ELEMENTS (walltime_weights))];
  finish_runtime (job, lognormal (rng, 1.5 * HOUR, 1.0));
  session_behaviour (gen, job, 0.3);
}

static void
student_session (Gen *gen, gint64 submit, guint user, const Course *course, gboolean lecture)
{
  MnRandom *rng = &gen->rng;
  MnTraceJob *job = new_job (gen, submit);
  double runtime;

  job->user = g_strdup_printf ("u%u", user);
  job->group = g_strdup_printf ("g%u", 900 + (course->first_user / 100) % 100);
  job->name = g_strdup ("jupyter");
  job->walltime_req = 4 * HOUR;
  if (lecture)
    {
      runtime = uniform (rng, 55 * 60, 100 * 60);
      if (mn_random_double (rng) < 0.25)   /* left open after class */
        runtime += lognormal (rng, 2 * HOUR, 0.8);
    }
  else
    runtime = lognormal (rng, 1 * HOUR, 0.8);
  finish_runtime (job, runtime);
  session_behaviour (gen, job, course->gpu_share);
}

/* Lectures run in term time, except Golden Week and the New Year break. */
static gboolean
course_meets (const Course *course, gint month, gint mday)
{
  if (course->spring)
    return (month == 4 && mday >= 8 && mday < 29) || (month == 5 && mday > 6) ||
           month == 6 || month == 7;
  return month == 10 || month == 11 || (month == 12 && mday < 25) ||
         (month == 1 && mday > 7);
}

static gint
compare_submit (gconstpointer a, gconstpointer b)
{
  const MnTraceJob *x = *(MnTraceJob * const *) a;
  const MnTraceJob *y = *(MnTraceJob * const *) b;

  if (x->submit != y->submit)
    return x->submit < y->submit ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

void
mn_trace_gen_options_init (MnTraceGenOptions *options)
{
  memset (options, 0, sizeof *options);
  options->seed = 1;
  options->fiscal_year = 2019;
  options->nodes = 540;
  options->load_scale = 1.0;
  options->batch = TRUE;
  options->interactive = TRUE;
}

GPtrArray *
mn_trace_generate (const MnTraceGenOptions *options, MnTraceHeader *header_out)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_offset (JST_OFFSET);
  g_autoptr(GDateTime) first = g_date_time_new (tz, options->fiscal_year, 4, 1, 0, 0, 0);
  g_autoptr(GDateTime) last = g_date_time_new (tz, options->fiscal_year + 1, 4, 1, 0, 0, 0);
  gint64 t0 = g_date_time_to_unix (first);
  gint n_days = (gint) ((g_date_time_to_unix (last) - t0) / DAY);
  g_autofree Gen *gen = g_new0 (Gen, 1);
  MnRandom users_rng;
  guint regulars[REGULARS_SPRING + REGULARS_LATER];
  gint join_day[REGULARS_SPRING + REGULARS_LATER];
  double rate[REGULARS_SPRING + REGULARS_LATER];
  double carry = 0;

  mn_random_init (&gen->rng, options->seed);
  gen->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_trace_job_free);
  for (guint u = 0; u < BATCH_USERS; u++)
    gen->user_cdf[u] = (u > 0 ? gen->user_cdf[u - 1] : 0) + 1.0 / (u + 5.0);

  /* Regular interactive users: batch users too, some joining later. */
  mn_random_init (&users_rng, options->seed ^ G_GUINT64_CONSTANT (0x5EED0F05E55105));
  for (guint i = 0; i < G_N_ELEMENTS (regulars); i++)
    {
      gboolean taken;

      do
        {
          regulars[i] = 1 + uniform_int (&users_rng, BATCH_USERS);
          taken = FALSE;
          for (guint j = 0; j < i; j++)
            taken |= regulars[j] == regulars[i];
        }
      while (taken);
      join_day[i] = i < REGULARS_SPRING ? 0 : 153 + (gint) uniform_int (&users_rng, 180);
      rate[i] = lognormal (&users_rng, 0.25, 0.8);
      rate[i] = MIN (rate[i], 3.0);
    }

  for (gint d = 0; d < n_days; d++)
    {
      gint64 day = t0 + (gint64) d * DAY;
      g_autoptr(GDateTime) date = g_date_time_add_days (first, d);
      gint month = g_date_time_get_month (date);
      gint mday = g_date_time_get_day_of_month (date);
      gint wday = g_date_time_get_day_of_week (date);   /* 1 = Monday */
      gboolean weekend = wday >= 6;

      if (options->batch)
        {
          double target = month_load[month - 1] * weekday_factor[wday - 1] *
                          options->load_scale * options->nodes * (double) DAY;
          double done = carry;

          while (done < target)
            done += batch_job (gen, day);
          carry = done - target;
        }
      if (!options->interactive)
        continue;
      for (guint i = 0; i < G_N_ELEMENTS (regulars); i++)
        {
          guint n;

          if (d < join_day[i])
            continue;
          n = poisson (&gen->rng, weekend ? rate[i] * 0.2 : rate[i]);
          for (guint k = 0; k < n; k++)
            regular_session (gen, day, regulars[i]);
        }
      for (guint c = 0; c < G_N_ELEMENTS (courses); c++)
        {
          const Course *course = &courses[c];

          if (!course_meets (course, month, mday))
            continue;
          for (guint s = 0; s < course->roster; s++)
            {
              guint user = course->first_user + s;

              if (!weekend && wday == course->weekday && mn_random_double (&gen->rng) < 0.9)
                {
                  double wait = -log (1.0 - mn_random_double (&gen->rng)) * 240;
                  gint64 delay = (gint64) MIN (wait, 40 * 60);
                  student_session (gen, day + course->hour * HOUR + delay, user, course, TRUE);
                }
              if (mn_random_double (&gen->rng) < 0.03)
                student_session (gen, day + hour_start (gen, homework_hours), user, course,
                                 FALSE);
            }
        }
    }

  g_ptr_array_sort (gen->jobs, compare_submit);
  for (guint i = 0; i < gen->jobs->len; i++)
    ((MnTraceJob *) g_ptr_array_index (gen->jobs, i))->id = i + 1;

  if (header_out != NULL)
    {
      memset (header_out, 0, sizeof *header_out);
      header_out->format = MN_TRACE_FORMAT_NATIVE;
      header_out->max_nodes = options->nodes;
      header_out->max_procs = (gint64) options->nodes * 28;
      header_out->max_records = gen->jobs->len;
      header_out->unix_start_time = t0;
      header_out->time_zone = g_strdup ("Asia/Tokyo");
      header_out->time_zone_offset = JST_OFFSET;
      header_out->computer = g_strdup_printf ("TSUBAME3-like, %u nodes of 28 cores, 4 GPUs, "
                                              "240 GB", options->nodes);
      header_out->queues = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      header_out->partitions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (header_out->queues, g_strdup ("all.q"), g_strdup ("batch"));
      g_hash_table_insert (header_out->queues, g_strdup ("interactive.q"),
                           g_strdup ("interactive"));
    }
  return g_steal_pointer (&gen->jobs);
}

gchar *
mn_trace_default_year_path (GError **error)
{
  const gchar *env = g_getenv ("MINNA_TRACES_DIR");
  const gchar *source = g_getenv ("MINNA_SOURCE_DIR");
  g_autofree gchar *source_traces = source != NULL ? g_build_filename (source, "traces", NULL)
                                                   : NULL;
  const gchar *dirs[] = {
    env,
    source_traces,
#ifdef MINNA_TRACES_DIR
    MINNA_TRACES_DIR,
#endif
#ifdef MINNA_TRACES_INSTALL_DIR
    MINNA_TRACES_INSTALL_DIR,
#endif
  };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree gchar *path = NULL;

      if (dirs[i] == NULL)
        continue;
      path = g_build_filename (dirs[i], MN_TRACE_DEFAULT_YEAR_FILE, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_IO,
               "the default year %s is in none of $MINNA_TRACES_DIR, "
               "$MINNA_SOURCE_DIR/traces, the source tree's traces/ or the installed data", MN_TRACE_DEFAULT_YEAR_FILE);
  return NULL;
}
