/* mn-trace-gen.c: minna-tracegen's model of a TSUBAME3-like machine from
 * April 2019 to August 2020 (traces/README.md has every figure and source).
 *
 * Batch load is budget driven: every day gets a target of node-seconds
 * (monthly load x weekday factor x machine size) and submissions are drawn
 * until the target is met, the overshoot carried to the next day.  A
 * submission is a burst of similar jobs from one user (parameter sweeps),
 * so the per-user running caps the header carries make real queues.
 * Interactive sessions start with the interactive.q trial (November 2019):
 * regular users all day, weekly lectures at 10:00 and 11:00 from April 2020,
 * a share of them web apps (Jupyter), some of those sent to all.q. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-gen.h"
#include "mn-trace-private.h"

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

/* Offered batch load (share of the machine's node-seconds) by month, April
 * 2019 to August 2020: quiet in April, the busy season October to March
 * (theses), the fiscal-year-end maintenance in March, a quieter April 2020
 * (the limits were loosened "as there are sufficient compute nodes") and
 * congestion again from July 2020 (the limits tightened on 2 July). */
static const double fy_load[17] = {
  0.76, 0.82, 0.86, 0.90, 0.84, 0.88, 0.92, 0.95, 0.98, 1.05, 1.04, 0.86,
  0.74, 0.82, 0.90, 1.00, 0.94,
};
/* Other months (other fiscal years): by calendar month, Jan..Dec. */
static const double month_load[12] = {
  1.05, 1.04, 0.86, 0.76, 0.82, 0.86, 0.90, 0.84, 0.88, 0.92, 0.95, 0.98,
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
static const double batch_type_weights[] = { 0.46, 0.08, 0.14, 0.08, 0.09, 0.15 };
/* f_node counts; 144 only from FY2020 (FY2019's maximum parallelism was 72). */
static const guint f_counts[] = { 1, 2, 4, 8, 16, 32, 64, 72, 128, 144 };
static const double f_count_weights[] = {
  0.34, 0.16, 0.15, 0.13, 0.10, 0.06, 0.03, 0.015, 0.01, 0.005,
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
#define MAX_REGULARS 4096
#define MAX_COURSES 16

/* A weekly lecture with a fixed roster, in term time while the trial runs. */
typedef struct {
  gint   weekday;      /* 1 = Monday */
  gint   hour;
  guint  roster;
  double gpu_share;    /* sessions that use the GPU; < 0 = the regular share */
} Course;

#define DEFAULT_LECTURES MN_TRACE_GEN_DEFAULT_LECTURES

typedef struct {
  MnRandom   rng;
  GPtrArray *jobs;
  guint64    seq;
  double     user_cdf[BATCH_USERS];
  const MnTraceGenOptions *o;
  double     webapp_p;   /* a session is a web app with this probability */
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

/* One batch job like @proto (or a fresh draw when NULL) at @submit; returns
 * its work in node-seconds. */
static double
batch_job (Gen *gen, gint64 submit, guint user, MnResourceType rtype, guint count,
           double median, gint64 walltime)
{
  MnRandom *rng = &gen->rng;
  MnTraceJob *job = new_job (gen, submit);
  double runtime;

  set_rtype (job, rtype, count);
  set_user (job, user);
  job->queue = g_strdup ("all.q");
  job->name = g_strdup (job_names[(user * 7) % G_N_ELEMENTS (job_names)]);
  if (mn_random_double (rng) < 0.08)
    {
      /* killed at its walltime */
      job->walltime_req = walltime;
      job->runtime = walltime;
      job->exit_status = 137;
    }
  else
    {
      runtime = lognormal (rng, median, 0.5);
      job->runtime = (gint64) CLAMP (runtime, 10, walltime - 1);
      job->walltime_req = walltime;
      job->exit_status = mn_random_double (rng) < 0.93 ? 0 : 1;
    }
  job->memory_used_mb = (gint64) (job->memory_req_mb * uniform (rng, 0.05, 0.85));
  job->cpu_time = (gint64) ((double) job->runtime * job->procs * uniform (rng, 0.2, 1.0));
  return job->runtime * count * mn_resource_type_node_share (rtype);
}

/* One submission on the day starting at @day: a burst of similar jobs from
 * one user (1 in 88%, else 2 to 40, log-uniform, for jobs of up to 8 chunks), submitted within
 * minutes.  Returns the work in node-seconds. */
static double
batch_submission (Gen *gen, gint64 day, gboolean wide_ok)
{
  MnRandom *rng = &gen->rng;
  gint64 submit = day + hour_start (gen, batch_hours);
  MnResourceType rtype = batch_types[pick (rng, batch_type_weights,
                                           G_N_ELEMENTS (batch_type_weights))];
  guint count = 1, user = pick_user (gen), n = 1;
  double median, work = 0;
  gint64 walltime;

  if (rtype == MN_RTYPE_F)
    {
      guint nc = wide_ok ? G_N_ELEMENTS (f_counts) : G_N_ELEMENTS (f_counts) - 2;
      count = f_counts[pick (rng, f_count_weights, nc)];
    }
  else if (mn_random_double (rng) < 0.2)
    count = 2 + uniform_int (rng, rtype == MN_RTYPE_H || rtype == MN_RTYPE_Q ? 3 : 7);
  /* Run time of the burst: 20% short (median 10 min), 80% long (median 6 h). */
  if (mn_random_double (rng) < 0.20)
    median = lognormal (rng, 600, 1.0);
  else
    median = lognormal (rng, 6 * HOUR, 0.8);
  median = CLAMP (median, 30, MAX_WALLTIME * 0.8);
  /* Wall time requested: a quarter ask for the 24 h maximum, the others for
   * the median x an over-estimate (log-uniform 1.5-8), rounded up to the hour. */
  if (mn_random_double (rng) < 0.25)
    walltime = MAX_WALLTIME;
  else
    {
      double over = exp (uniform (rng, log (1.5), log (8.0)));

      walltime = (gint64) ceil (median * over / HOUR) * HOUR;
      walltime = CLAMP (walltime, HOUR, MAX_WALLTIME);
    }
  if (mn_random_double (rng) >= 0.88 && count <= 8)
    n = (guint) exp (uniform (rng, log (2.0), log (40.0)));
  for (guint i = 0; i < n; i++)
    {
      gint64 at = submit + (i == 0 ? 0 : (gint64) uniform_int (rng, 600));

      at = MIN (at, day + DAY - 1);   /* the day's budget stays in its day */

      work += batch_job (gen, at, user, rtype, count, median, walltime);
    }
  return work;
}

/* What an interactive session does: memory (heavy tail past the 60 GB cap),
 * a mostly idle CPU, sometimes a GPU. */
static void
session_behaviour (Gen *gen, MnTraceJob *job, double gpu_share)
{
  const MnTraceGenOptions *o = gen->o;
  MnRandom *rng = &gen->rng;
  double used, active, gpu_mb;
  gint64 t1, t2, runtime = job->runtime;
  guint base;
  guint busy_cores;
  gboolean busy;

  set_rtype (job, MN_RTYPE_Q, 1);

  if (mn_random_double (rng) >= o->memory_tail_share)
    used = lognormal (rng, 1200, 0.9);
  else
    used = 6000.0 / pow (1.0 - mn_random_double (rng), 1.0 / o->memory_tail_alpha);   /* Pareto */
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

  /* CPU: busy for cpu_active of the session's life, on busy_cores cores
   * (the simulator reads the same figure back as cpu_time / (cpu_active x
   * runtime)). */
  busy = mn_random_double (rng) < o->busy_share;
  active = busy ? uniform (rng, 0.2, 0.9) : uniform (rng, 0.005, 0.08);
  job->cpu_active = round (active * 10000.0) / 10000.0;
  busy_cores = MIN (busy ? o->busy_cores_heavy : o->busy_cores, (guint) job->procs);
  job->cpu_time = (gint64) llround ((double) runtime * job->cpu_active * busy_cores);
  if (mn_random_double (rng) < gpu_share)
    {
      /* CLAMP and MIN evaluate their arguments twice: draw first */
      gpu_mb = lognormal (rng, o->gpu_memory_mb, 0.8);
      job->gpu_memory_mb = (gint64) CLAMP (gpu_mb, 300, 16280);
    }
  else
    {
      /* a session that does not use the GPU does not ask for one */
      job->gpu_memory_mb = 0;
      job->gpus = 0;
    }
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

/* Where a launch goes: a web app (Jupyter) or a shell (qrsh), and for a web
 * app interactive.q or, in webapp_to_allq of launches, all.q. */
static void
session_queue (Gen *gen, MnTraceJob *job)
{
  MnRandom *rng = &gen->rng;

  if (mn_random_double (rng) < gen->webapp_p)
    {
      job->name = g_strdup ("jupyter");
      if (mn_random_double (rng) < gen->o->webapp_to_allq)
        {
          job->queue = g_strdup ("all.q");
          job->interactive = FALSE;
          return;
        }
    }
  else
    job->name = g_strdup ("QRLOGIN");
  job->queue = g_strdup ("interactive.q");
  job->interactive = TRUE;
}

static void
regular_session (Gen *gen, gint64 day, guint user)
{
  MnRandom *rng = &gen->rng;
  MnTraceJob *job = new_job (gen, day + hour_start (gen, session_hours));

  set_user (job, user);
  session_queue (gen, job);
  job->walltime_req = walltime_choices[pick (rng, walltime_weights,
                                             G_N_ELEMENTS (walltime_weights))];
  finish_runtime (job, lognormal (rng, 1.5 * HOUR, 1.0));
  session_behaviour (gen, job, gen->o->gpu_share);
}

static void
student_session (Gen *gen, gint64 submit, guint user, guint course_no, const Course *course,
                 gboolean lecture)
{
  MnRandom *rng = &gen->rng;
  MnTraceJob *job = new_job (gen, submit);
  double runtime;

  job->user = g_strdup_printf ("u%u", user);
  job->group = g_strdup_printf ("g%u", 9000 + course_no);
  session_queue (gen, job);
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
  session_behaviour (gen, job, course->gpu_share >= 0 ? course->gpu_share : gen->o->gpu_share);
}

/* Term time: April (from the 8th) to July less Golden Week, October to
 * January less the New Year break. */
static gboolean
term_time (gint month, gint mday)
{
  return (month == 4 && mday >= 8 && mday < 29) || (month == 5 && mday > 6) ||
         month == 6 || month == 7 ||
         month == 10 || month == 11 || (month == 12 && mday < 25) || (month == 1 && mday > 7);
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
  options->months = 17;
  options->nodes = 540;
  options->load_scale = 1.0;
  options->batch = TRUE;
  options->interactive = TRUE;
  options->maintenance = TRUE;
  options->limits = TRUE;
  options->trial_start = 201911;
  options->interactive_demand = 1.0;
  options->regular_users = 54;
  options->regular_users_next = 14;
  options->lectures = NULL;
  options->lecture_size = 1.0;
  options->webapp_share = 0.30;
  options->webapp_to_allq = 0.20;
  options->gpu_share = 0.30;
  options->gpu_memory_mb = 2500;
  options->memory_tail_share = 0.12;
  options->memory_tail_alpha = 1.1;
  options->busy_share = 0.15;
  options->busy_cores = 1;
  options->busy_cores_heavy = 4;
}

static gboolean
parse_lectures (const gchar *text, Course *courses, guint *n_courses, GError **error)
{
  static const gchar *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
  g_auto(GStrv) entries = g_strsplit (text, ",", -1);

  *n_courses = 0;
  for (guint i = 0; entries[i] != NULL; i++)
    {
      g_autofree gchar *e = g_strstrip (g_strdup (entries[i]));
      g_auto(GStrv) parts = NULL;
      Course c = { 0, 0, 0, -1.0 };
      gint64 hour = -1, roster = 60;
      double gpu = -1;
      gchar *sp;

      if (*e == '\0')
        continue;
      if (*n_courses == MAX_COURSES)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "lectures: more than %d courses", MAX_COURSES);
          return FALSE;
        }
      sp = strchr (e, ' ');
      for (guint d = 0; sp != NULL && d < 7; d++)
        if (g_ascii_strncasecmp (e, days[d], 3) == 0 && sp - e == 3)
          c.weekday = (gint) d + 1;
      if (c.weekday == 0)
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "lectures: '%s' must start with a day (mon..sun) and a space", e);
          return FALSE;
        }
      parts = g_strsplit (g_strstrip (sp + 1), ":", 3);
      if (!mn_trace_parse_int (parts[0], &hour) || hour < 0 || hour > 23 ||
          (parts[1] != NULL && (!mn_trace_parse_int (parts[1], &roster) || roster < 0 ||
                                roster > 100000)) ||
          (parts[1] != NULL && parts[2] != NULL &&
           (!mn_trace_parse_double (parts[2], &gpu) || gpu < 0 || gpu > 1)))
        {
          g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                       "lectures: '%s' is not DAY HOUR[:ROSTER[:GPU_SHARE]] (hour 0-23, "
                       "roster a count, GPU share 0-1)", e);
          return FALSE;
        }
      c.hour = (gint) hour;
      c.roster = (guint) roster;
      c.gpu_share = gpu;
      courses[(*n_courses)++] = c;
    }
  return TRUE;
}

gboolean
mn_trace_gen_options_validate (const MnTraceGenOptions *o, GError **error)
{
  Course courses[MAX_COURSES];
  guint n;
  const struct { const gchar *name; double value, lo, hi; } ranges[] = {
    { "load_scale", o->load_scale, 1e-6, 10 },
    { "interactive_demand", o->interactive_demand, 0, 100 },
    { "lecture_size", o->lecture_size, 0, 100 },
    { "webapp_share", o->webapp_share, 0, 1 },
    { "webapp_to_allq", o->webapp_to_allq, 0, 1 },
    { "gpu_share", o->gpu_share, 0, 1 },
    { "gpu_memory_mb", o->gpu_memory_mb, 1, 1e6 },
    { "memory_tail_share", o->memory_tail_share, 0, 1 },
    { "memory_tail_alpha", o->memory_tail_alpha, 0.1, 100 },
    { "busy_share", o->busy_share, 0, 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    if (!(ranges[i].value >= ranges[i].lo && ranges[i].value <= ranges[i].hi))
      {
        g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                     "%s: %g is out of range [%g, %g]", ranges[i].name, ranges[i].value,
                     ranges[i].lo, ranges[i].hi);
        return FALSE;
      }
  if (o->nodes < 1 || o->nodes > 100000 || o->months < 1 || o->months > 120 ||
      o->fiscal_year < 1970 || o->fiscal_year > 2200)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                   "nodes must be 1..100000, months 1..120, fiscal_year 1970..2200");
      return FALSE;
    }
  if (o->trial_start / 100 < 1970 || o->trial_start % 100 < 1 || o->trial_start % 100 > 12)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                   "trial_start: %d is not YYYYMM", o->trial_start);
      return FALSE;
    }
  if (o->busy_cores < 1 || o->busy_cores > 7 || o->busy_cores_heavy < 1 ||
      o->busy_cores_heavy > 7 || o->regular_users > MAX_REGULARS / 2 ||
      o->regular_users_next > MAX_REGULARS / 2)
    {
      g_set_error (error, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT,
                   "busy_cores and busy_cores_heavy must be 1..7 (a q_node's cores), "
                   "regular_users and regular_users_next at most %d", MAX_REGULARS / 2);
      return FALSE;
    }
  return parse_lectures (o->lectures != NULL ? o->lectures : DEFAULT_LECTURES, courses, &n,
                         error);
}

/* Maintenance of the whole machine (JST): the campus-wide power outage of
 * summer 2019 and the fiscal-year-end maintenance of March 2020. */
static const struct { gint y, mo, d, h, days; } maintenance_table[] = {
  { 2019, 8, 9, 9, 3 },
  { 2020, 3, 25, 9, 7 },
};

static void
add_limits (GArray *limits, gint64 from, guint32 jobs, guint64 cores)
{
  MnTraceLimits l = { from, jobs, 0, cores, 0 };

  if (limits->len > 0)
    {
      MnTraceLimits *last = &g_array_index (limits, MnTraceLimits, limits->len - 1);

      if (last->user_jobs == jobs && last->user_cores == cores)
        return;
    }
  g_array_append_val (limits, l);
}

/* TSUBAME3's per-user running caps, day by day: FY2019 150 jobs (April to
 * September) and 50 (October to March), 2016 cores; FY2020 weekdays 30 jobs
 * (72 from 16 April, 50 from 2 July) and 2016 cores, weekends 100 jobs and
 * 4032 cores. */
static void
limits_for_day (GArray *limits, gint64 day, gint year, gint month, gint mday, gint wday)
{
  gint fy = month >= 4 ? year : year - 1;
  gint ymd = year * 10000 + month * 100 + mday;

  if (fy <= 2019)
    add_limits (limits, day, month >= 4 && month <= 9 ? 150 : 50, 2016);
  else if (wday >= 6)
    add_limits (limits, day, 100, 4032);
  else
    add_limits (limits, day, ymd < 20200416 ? 30 : ymd < 20200702 ? 72 : 50, 2016);
}

GPtrArray *
mn_trace_generate (const MnTraceGenOptions *options, MnTraceHeader *header_out)
{
  const MnTraceGenOptions *o = options;
  g_autoptr(GTimeZone) tz = g_time_zone_new_offset (JST_OFFSET);
  g_autoptr(GDateTime) first = g_date_time_new (tz, o->fiscal_year, 4, 1, 0, 0, 0);
  g_autoptr(GDateTime) last = g_date_time_add_months (first, (gint) o->months);
  gint64 t0 = g_date_time_to_unix (first);
  gint n_days = (gint) ((g_date_time_to_unix (last) - t0) / DAY);
  g_autofree Gen *gen = g_new0 (Gen, 1);
  MnRandom users_rng;
  guint n_regulars = o->regular_users + o->regular_users_next;
  g_autofree guint *regulars = g_new0 (guint, MAX (n_regulars, 1));
  g_autofree gint *join_day = g_new0 (gint, MAX (n_regulars, 1));
  g_autofree gint *leave_day = g_new0 (gint, MAX (n_regulars, 1));
  g_autofree double *rate = g_new0 (double, MAX (n_regulars, 1));
  g_autoptr(GArray) windows = g_array_new (FALSE, FALSE, sizeof (MnTraceWindow));
  g_autoptr(GArray) limits = g_array_new (FALSE, FALSE, sizeof (MnTraceLimits));
  Course courses[MAX_COURSES];
  guint n_courses = 0;
  gint trial_day, lectures_day, next_fy_day;
  double carry = 0, s = o->webapp_share, q = o->webapp_to_allq;

  if (!parse_lectures (o->lectures != NULL ? o->lectures : DEFAULT_LECTURES, courses,
                       &n_courses, NULL))
    n_courses = 0;
  mn_random_init (&gen->rng, o->seed);
  gen->o = o;
  /* Web apps are s of interactive.q jobs after q of them went to all.q. */
  gen->webapp_p = s > 0 ? s / ((1 - q) * (1 - s) + s) : 0;
  gen->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_trace_job_free);
  for (guint u = 0; u < BATCH_USERS; u++)
    gen->user_cdf[u] = (u > 0 ? gen->user_cdf[u - 1] : 0) + 1.0 / (u + 5.0);

  /* Days (from t0) of the trial's start, the lectures' start (the first
   * April on or after the trial: the report's lectures are of FY2020) and
   * the next fiscal year. */
  {
    g_autoptr(GDateTime) trial = g_date_time_new (tz, o->trial_start / 100, o->trial_start % 100,
                                                  1, 0, 0, 0);
    gint ty = o->trial_start / 100 + (o->trial_start % 100 > 4 ? 1 : 0);
    g_autoptr(GDateTime) lect = g_date_time_new (tz, ty, 4, 1, 0, 0, 0);
    g_autoptr(GDateTime) next = g_date_time_new (tz, o->fiscal_year + 1, 4, 1, 0, 0, 0);

    trial_day = (gint) ((g_date_time_to_unix (trial) - t0) / DAY);
    lectures_day = (gint) ((g_date_time_to_unix (lect) - t0) / DAY);
    next_fy_day = MAX (trial_day, (gint) ((g_date_time_to_unix (next) - t0) / DAY));
  }

  /* Regular interactive users (batch users too): regular_users join over the
   * first 60% of the trial's first fiscal year, 20% of them leave at its end
   * (graduation), regular_users_next join over the next spring. */
  mn_random_init (&users_rng, o->seed ^ G_GUINT64_CONSTANT (0x5EED0F05E55105));
  for (guint i = 0; i < n_regulars; i++)
    {
      gboolean taken;

      do
        {
          regulars[i] = 1 + uniform_int (&users_rng, BATCH_USERS);
          taken = FALSE;
          for (guint j = 0; j < i; j++)
            taken |= regulars[j] == regulars[i];
        }
      while (taken && n_regulars < BATCH_USERS / 2);
      if (i < o->regular_users)
        {
          gint span = MAX (1, (next_fy_day - trial_day) * 6 / 10);

          join_day[i] = trial_day + (gint) uniform_int (&users_rng, (guint) span);
          leave_day[i] = mn_random_double (&users_rng) < 0.2 ? next_fy_day : G_MAXINT;
        }
      else
        {
          join_day[i] = MAX (next_fy_day, trial_day) + (gint) uniform_int (&users_rng, 60);
          leave_day[i] = G_MAXINT;
        }
      rate[i] = lognormal (&users_rng, 0.25, 0.8);
      rate[i] = MIN (rate[i], 3.0) * o->interactive_demand;
    }

  if (o->maintenance)
    for (guint i = 0; i < G_N_ELEMENTS (maintenance_table); i++)
      {
        g_autoptr(GDateTime) ws = g_date_time_new (tz, maintenance_table[i].y,
                                                   maintenance_table[i].mo,
                                                   maintenance_table[i].d,
                                                   maintenance_table[i].h, 0, 0);
        MnTraceWindow w;

        w.start = g_date_time_to_unix (ws);
        w.end = w.start + (gint64) maintenance_table[i].days * DAY;
        if (w.end > t0 && w.start < g_date_time_to_unix (last))
          g_array_append_val (windows, w);
      }

  for (gint d = 0; d < n_days; d++)
    {
      gint64 day = t0 + (gint64) d * DAY;
      g_autoptr(GDateTime) date = g_date_time_add_days (first, d);
      gint year = g_date_time_get_year (date);
      gint month = g_date_time_get_month (date);
      gint mday = g_date_time_get_day_of_month (date);
      gint wday = g_date_time_get_day_of_week (date);   /* 1 = Monday */
      gint fy = month >= 4 ? year : year - 1;
      gint m17 = (year - 2019) * 12 + month - 4;        /* 0 = April 2019 */
      gboolean weekend = wday >= 6;
      guint first_job = gen->jobs->len;

      if (o->limits)
        limits_for_day (limits, day, year, month, mday, wday);
      if (o->batch)
        {
          double load = m17 >= 0 && m17 < (gint) G_N_ELEMENTS (fy_load) ? fy_load[m17]
                                                                         : month_load[month - 1];
          double target = load * weekday_factor[wday - 1] * o->load_scale * o->nodes *
                          (double) DAY;
          double done = carry;

          while (done < target)
            done += batch_submission (gen, day, fy >= 2020);
          carry = done - target;
        }
      if (o->interactive && d >= trial_day)
        {
          for (guint i = 0; i < n_regulars; i++)
            {
              guint n;

              if (d < join_day[i] || d >= leave_day[i])
                continue;
              n = poisson (&gen->rng, weekend ? rate[i] * 0.2 : rate[i]);
              for (guint k = 0; k < n; k++)
                regular_session (gen, day, regulars[i]);
            }
          for (guint c = 0; d >= lectures_day && c < n_courses; c++)
            {
              const Course *course = &courses[c];
              guint roster = (guint) llround (course->roster * o->lecture_size);

              if (!term_time (month, mday))
                continue;
              for (guint st = 0; st < roster; st++)
                {
                  guint user = 100000 * (c + 1) + st;   /* u100000...: students */

                  if (!weekend && wday == course->weekday && mn_random_double (&gen->rng) < 0.9)
                    {
                      double wait = -log (1.0 - mn_random_double (&gen->rng)) * 240;
                      gint64 delay = (gint64) MIN (wait, 40 * 60);
                      student_session (gen, day + course->hour * HOUR + delay, user, c, course,
                                       TRUE);
                    }
                  if (mn_random_double (&gen->rng) < 0.03)
                    student_session (gen, day + hour_start (gen, homework_hours), user, c, course,
                                     FALSE);
                }
            }
        }

      /* Nothing is submitted while the machine is down; a session that would
       * run into the maintenance ends when it starts. */
      for (guint w = 0; w < windows->len; w++)
        {
          const MnTraceWindow *win = &g_array_index (windows, MnTraceWindow, w);

          if (win->end <= day || win->start >= day + 2 * DAY)
            continue;
          for (guint i = first_job; i < gen->jobs->len; i++)
            {
              MnTraceJob *job = g_ptr_array_index (gen->jobs, i);

              if (job->submit >= win->start && job->submit < win->end)
                job->submit = -1;   /* dropped below */
              else if (job->interactive && job->submit < win->start &&
                       job->submit + job->runtime > win->start)
                {
                  gint64 cut = MAX (60, win->start - job->submit);

                  /* the same busy cores over the shorter life */
                  job->cpu_time = (gint64) llround ((double) job->cpu_time * cut / job->runtime);
                  job->runtime = cut;
                }
            }
        }
    }

  /* After the period the caps are lifted, so the jobs queued at its end
   * drain (a 144-node job submitted after the last weekend of FY2020 could
   * otherwise never start). */
  if (o->limits)
    {
      MnTraceLimits lift = { g_date_time_to_unix (last), 0, 0, 0, 0 };

      g_array_append_val (limits, lift);
    }

  {
    guint out = 0;

    for (guint i = 0; i < gen->jobs->len; i++)
      {
        MnTraceJob *job = g_ptr_array_index (gen->jobs, i);

        if (job->submit < 0)
          mn_trace_job_free (job);
        else
          gen->jobs->pdata[out++] = job;
      }
    /* the pointers past @out were freed or moved: drop them without the free func */
    gen->jobs->len = out;
  }
  g_ptr_array_sort (gen->jobs, compare_submit);
  for (guint i = 0; i < gen->jobs->len; i++)
    ((MnTraceJob *) g_ptr_array_index (gen->jobs, i))->id = i + 1;

  if (header_out != NULL)
    {
      memset (header_out, 0, sizeof *header_out);
      header_out->format = MN_TRACE_FORMAT_NATIVE;
      header_out->max_nodes = o->nodes;
      header_out->max_procs = (gint64) o->nodes * 28;
      header_out->max_records = gen->jobs->len;
      header_out->unix_start_time = t0;
      header_out->time_zone = g_strdup ("Asia/Tokyo");
      header_out->time_zone_offset = JST_OFFSET;
      header_out->computer = g_strdup_printf ("TSUBAME3-like, %u nodes of 28 cores, 4 GPUs, "
                                              "240 GB", o->nodes);
      header_out->queues = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      header_out->partitions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (header_out->queues, g_strdup ("all.q"), g_strdup ("batch"));
      g_hash_table_insert (header_out->queues, g_strdup ("interactive.q"),
                           g_strdup ("interactive"));
      if (windows->len > 0)
        header_out->maintenance = g_steal_pointer (&windows);
      if (limits->len > 0)
        header_out->limits = g_steal_pointer (&limits);
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
