/* mn-sim-metrics.c: the figures of a run, the per-job CSV and the metrics
 * JSON (schema in sim/engine/README.md). */
#define G_LOG_DOMAIN "minna-sim"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mn-sim-private.h"

#define DAY 86400
#define BSLD_TAU 10.0

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : (x > y);
}

/* Nearest rank: the smallest value with at least p% of the values at or
 * below it.  Sorts @values.  0 for every p when empty. */
void
mn_sim_percentiles (GArray *values, const double *p, double *out, gsize n)
{
  g_array_sort (values, cmp_double);
  for (gsize i = 0; i < n; i++)
    {
      if (values->len == 0)
        {
          out[i] = 0;
          continue;
        }
      gsize rank = (gsize) ceil (p[i] / 100.0 * values->len);
      rank = CLAMP (rank, 1, values->len);
      out[i] = g_array_index (values, double, rank - 1);
    }
}

static double
mean_of (GArray *values)
{
  double sum = 0;
  for (guint i = 0; i < values->len; i++)
    sum += g_array_index (values, double, i);
  return values->len > 0 ? sum / values->len : 0;
}

static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void
mn_sim_metrics_clear (MnSimMetrics *m)
{
  g_clear_pointer (&m->batch.utilization_by_day, g_array_unref);
  g_clear_pointer (&m->batch.by_month, g_array_unref);
}

void
mn_sim_metrics_compute (MnSimRun *run, MnSimMetrics *m)
{
  memset (m, 0, sizeof *m);
  MnSimWorkload *w = run->w;
  guint n = w->jobs->len;
  m->node_mode = run->node_mode;
  m->allq_procs = run->node_mode ? (gint64) run->allq_cores : run->allq_procs;
  m->allq_nodes = run->node_mode ? run->allq_nodes : 0;
  m->interactive_nodes = run->interactive_nodes;
  m->scheduler = run->config.scheduler;
  m->jobs = n;
  m->events = run->events;

  g_autoptr(GArray) bwait = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) bsld = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) iwait = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 first = G_MAXINT64, last = G_MININT64;
  for (guint i = 0; i < n; i++)
    {
      const MnSimJobResult *r = &run->res[i];
      if (r->status == MN_SIM_STATUS_SKIPPED)
        {
          m->skipped++;
          continue;
        }
      first = MIN (first, r->submit);
      if (r->end >= 0)
        last = MAX (last, r->end);
    }
  if (first == G_MAXINT64)
    first = 0;
  if (last < first)
    last = first;
  m->batch.first_submit = first;
  m->batch.last_end = last;
  m->batch.makespan = last - first;

  gint64 day0 = floor_div (first + run->utc_offset, DAY);
  gint64 days = floor_div (last + run->utc_offset, DAY) - day0 + 1;
  g_autofree double *busy = g_new0 (double, days);
  double busy_total = 0;
  MnSimInteractiveMetrics *im = &m->interactive;

  for (guint i = 0; i < n; i++)
    {
      MnSimJobResult *r = &run->res[i];
      if (r->status == MN_SIM_STATUS_SKIPPED)
        continue;
      gboolean ran = r->start >= 0;
      double wait = ran ? (double) (r->start - r->submit) : 0;
      if (ran && r->queue == MN_SIM_QUEUE_ALL)
        {
          /* all.q busy processor-seconds, split by local day. */
          for (gint64 t = r->start; t < r->end;)
            {
              gint64 d = floor_div (t + run->utc_offset, DAY);
              gint64 day_end = (d + 1) * DAY - run->utc_offset;
              gint64 upto = MIN (day_end, r->end);
              double cs = (double) r->procs * (double) (upto - t);
              busy[d - day0] += cs;
              busy_total += cs;
              t = upto;
            }
        }
      if (r->job_class == MN_SIM_CLASS_BATCH)
        {
          if (!ran)
            continue;
          double run_time = (double) (r->end - r->start);
          double sld = MAX (1.0, (wait + run_time) / MAX (run_time, BSLD_TAU));
          r->cpu_slowdown = (float) sld;
          m->batch.jobs++;
          g_array_append_val (bwait, wait);
          g_array_append_val (bsld, sld);
          continue;
        }
      /* interactive, wherever it ran */
      im->requests++;
      gint64 local = r->submit + run->utc_offset;
      guint hour = (guint) (floor_div (local, 3600) - floor_div (local, DAY) * 24);
      guint weekday = (guint) ((floor_div (local, DAY) % 7 + 7 + 3) % 7); /* 1970-01-01: Thursday */
      im->launches_by_hour[hour]++;
      im->launches_by_weekday[weekday]++;
      if (r->queue == MN_SIM_QUEUE_ALL && r->job_class == MN_SIM_CLASS_INTERACTIVE)
        r->cpu_slowdown = 1.0f;
      if (ran && r->queue == MN_SIM_QUEUE_INTERACTIVE && r->memory_peak_mb > r->memory_limit_mb)
        im->sessions_above_memory_cap++;
      if (ran)
        {
          im->started++;
          g_array_append_val (iwait, wait);
          if (wait == 0)
            {
              im->started_immediately++;
              im->immediate_by_hour[hour]++;
            }
        }
      if (r->status == MN_SIM_STATUS_REJECTED)
        {
          im->rejected++;
          im->rejected_by_reason[MIN (r->reason, MN_SIM_N_REJECT_REASONS - 1)]++;
        }
      else if (r->status == MN_SIM_STATUS_WALLTIME)
        im->cut_walltime++;
      else if (r->status == MN_SIM_STATUS_IDLE)
        im->cut_idle++;
    }

  /* batch */
  MnSimBatchMetrics *bm = &m->batch;
  bm->wait_mean = mean_of (bwait);
  bm->bounded_slowdown_mean = mean_of (bsld);
  const double pb[] = { 50, 95, 100 };
  double ob[3];
  mn_sim_percentiles (bwait, pb, ob, 3);
  bm->wait_median = ob[0];
  bm->wait_p95 = ob[1];
  bm->wait_max = ob[2];
  double span = (double) MAX (m->batch.makespan, 1);
  bm->utilization = busy_total / ((double) run->allq_cores * span);
  bm->utilization_by_day = g_array_sized_new (FALSE, FALSE, sizeof (double), (guint) days);
  for (gint64 d = 0; d < days; d++)
    {
      double u = busy[d] / ((double) run->allq_cores * DAY);
      g_array_append_val (bm->utilization_by_day, u);
    }

  /* interactive */
  im->share_immediate = im->requests > 0 ? (double) im->started_immediately / im->requests : 1.0;
  im->wait_mean = mean_of (iwait);
  const double pi[] = { 50, 95, 99, 100 };
  double oi[4];
  mn_sim_percentiles (iwait, pi, oi, 4);
  im->wait_p50 = oi[0];
  im->wait_p95 = oi[1];
  im->wait_p99 = oi[2];
  im->wait_max = oi[3];
  im->rejected_attempts = run->rejected_attempts;
  im->oom_kills = run->oom_kills;
  im->gpu_alloc_failures = run->gpu_failures;
  im->memory_cap_kills = run->memory_cap_kills;
  im->peak_concurrent = run->peak_running;
  im->swap_peak_mb = run->swap_peak_mb;
  im->swap_mb_hours = run->swap_mb_seconds / 3600.0;
  if (run->pstate != NULL)
    {
      const MnPolicyConfig *p = run->policy;
      double slots = (double) p->nodes * p->logical_per_node * p->max_jobs_per_logical;
      im->slot_occupancy = run->occupancy_integral / (slots * span);
      im->swap_time_share = run->swap_node_seconds / ((double) p->nodes * span);
    }
  const double ps[] = { 50, 95 };
  double os[2];
  mn_sim_percentiles (run->cpu_slowdowns, ps, os, 2);
  im->cpu_slowdown_p50 = run->cpu_slowdowns->len > 0 ? os[0] : 1.0;
  im->cpu_slowdown_p95 = run->cpu_slowdowns->len > 0 ? os[1] : 1.0;
  mn_sim_months_compute (run, m);
  mn_sim_oversub_metrics (run, m);
}

/* ---- CSV ---------------------------------------------------------------------- */

/* The model's columns (issue 14): for a session that ran in interactive.q,
 * why it ended (the policy's end reason), where (node, logical node, cpuset,
 * GPU ids separated by ';'); for every interactive-class row its memory
 * limit and the peak its trace gives it.  Empty where they do not apply. */
static inline gchar *
put_str (gchar *p, const gchar *s)
{
  gsize n = strlen (s);
  memcpy (p, s, n);
  return p + n;
}

static inline gchar *
put_int (gchar *p, gint64 v)
{
  gchar tmp[24];
  gint n = 0;
  guint64 u = v < 0 ? (guint64) 0 - (guint64) v : (guint64) v;
  if (v < 0)
    *p++ = '-';
  do
    tmp[n++] = (gchar) ('0' + u % 10);
  while ((u /= 10) != 0);
  while (n > 0)
    *p++ = tmp[--n];
  return p;
}

/* %.4f for the slowdowns (floats, finite, >= 0, well below 10^14). */
static inline gchar *
put_fixed4 (gchar *p, double v)
{
  /* round half to even, as printf does; exact for the float slowdowns */
  gint64 x = (gint64) nearbyint (v * 10000.0);
  p = put_int (p, x / 10000);
  *p++ = '.';
  gint64 frac = x % 10000;
  for (gint64 d = 1000; d > 0; d /= 10)
    *p++ = (gchar) ('0' + (frac / d) % 10);
  return p;
}

static void
write_model_columns (FILE *f, const MnSimJobResult *r)
{
  static const MnEndReason end_of[] = {
    [MN_SIM_STATUS_DONE] = MN_END_EXITED, [MN_SIM_STATUS_WALLTIME] = MN_END_WALLTIME,
    [MN_SIM_STATUS_IDLE] = MN_END_IDLE, [MN_SIM_STATUS_OOM] = MN_END_NODE_OOM,
    [MN_SIM_STATUS_REJECTED] = MN_END_NONE, [MN_SIM_STATUS_SKIPPED] = MN_END_NONE,
    [MN_SIM_STATUS_MEMORY_CAP] = MN_END_MEMORY_CAP,
  };
  if (r->queue == MN_SIM_QUEUE_INTERACTIVE && r->start >= 0)
    {
      MnPolicyAllocation a = { .node = r->node, .logical = r->logical, .gpu_mask = r->gpu_mask,
                               .cpu_first = r->cpu_first, .n_cpus = r->n_cpus };
      g_autofree gchar *cpus = mn_policy_allocation_cpu_list (&a);
      g_autofree gchar *gpus = mn_policy_allocation_gpu_list (&a);

      g_strdelimit (gpus, ",", ';');
      fprintf (f, ",%s,%u,%u,%s,%s", mn_end_reason_to_string (end_of[MIN (r->status, G_N_ELEMENTS (end_of) - 1)]),
               r->node, r->logical, cpus, gpus);
    }
  else
    fputs (",,,,,", f);
  if (r->job_class == MN_SIM_CLASS_INTERACTIVE && r->memory_limit_mb > 0)
    fprintf (f, ",%u,%u\n", r->memory_limit_mb, r->memory_peak_mb);
  else
    fputs (",,\n", f);
}

gboolean
mn_sim_result_write_jobs_csv (MnSimResult *result, const gchar *path, GError **error)
{
  gsize n;
  const MnSimJobResult *jobs = mn_sim_result_get_jobs (result, &n);
  if (jobs == NULL)
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_INVALID_CONFIG,
                   "%s: the run kept no per-job rows (keep_jobs was off)", path);
      return FALSE;
    }
  FILE *f = fopen (path, "w");
  if (f == NULL)
    {
      int e = errno;
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_IO, "%s: %s", path, g_strerror (e));
      return FALSE;
    }
  setvbuf (f, NULL, _IOFBF, 1 << 16);
  fputs ("job_id,class,user,submit,start,end,wait,queue,procs,status,reason,attempts,slowdown,gpu_failed,swapped,"
         "end_reason,node,logical,cpus,gpus,memory_limit_mb,memory_peak_mb\n", f);
  static const gchar *const queues[] = { "-", "all.q", "interactive.q" };
  for (gsize i = 0; i < n; i++)
    {
      const MnSimJobResult *r = &jobs[i];
      gint64 wait = r->start >= 0 ? r->start - r->submit : -1;
      const gchar *reason = r->status == MN_SIM_STATUS_REJECTED
                            ? (r->reason == MN_REJECT_NONE ? "never-started" : mn_reject_reason_to_string (r->reason))
                            : "";
      const gchar *user = mn_sim_result_get_user (result, r->user);
      /* Formatted by hand: fprintf was a fifth of a 450k-job replay. */
      gchar row[512], *p = row;
      p = put_int (p, r->id);
      p = put_str (p, r->job_class == MN_SIM_CLASS_INTERACTIVE ? ",interactive," : ",batch,");
      p = put_str (p, user != NULL && strchr (user, ',') == NULL && strlen (user) < 200 ? user : "?");
      *p++ = ',';
      p = put_int (p, r->submit);
      *p++ = ',';
      p = put_int (p, r->start);
      *p++ = ',';
      p = put_int (p, r->end);
      *p++ = ',';
      p = put_int (p, wait);
      *p++ = ',';
      p = put_str (p, queues[MIN (r->queue, 2)]);
      *p++ = ',';
      p = put_int (p, r->procs);
      *p++ = ',';
      p = put_str (p, mn_sim_job_status_to_string (r->status));
      *p++ = ',';
      p = put_str (p, reason);
      *p++ = ',';
      p = put_int (p, r->attempts);
      *p++ = ',';
      p = put_fixed4 (p, r->start >= 0 ? (double) r->cpu_slowdown : 0.0);
      *p++ = ',';
      p = put_int (p, r->gpu_failed);
      *p++ = ',';
      p = put_int (p, r->swapped);
      fwrite (row, 1, (gsize) (p - row), f);
      write_model_columns (f, r);
    }
  gboolean ok = !ferror (f);
  int e = errno;
  if (fclose (f) != 0 || !ok)
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_IO, "%s: write failed: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* ---- JSON --------------------------------------------------------------------- */

static void
add_uint_array (JsonBuilder *b, const gchar *name, const guint64 *v, gsize n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (gsize i = 0; i < n; i++)
    json_builder_add_int_value (b, (gint64) v[i]);
  json_builder_end_array (b);
}

static void
add_batch (JsonBuilder *b, const MnSimBatchMetrics *m, gboolean with_days)
{
  json_builder_begin_object (b);
  MN_SIM_MEMBER_INT (b, "jobs", m->jobs);
  MN_SIM_MEMBER_DOUBLE (b, "wait_mean", m->wait_mean);
  MN_SIM_MEMBER_DOUBLE (b, "wait_median", m->wait_median);
  MN_SIM_MEMBER_DOUBLE (b, "wait_p95", m->wait_p95);
  MN_SIM_MEMBER_DOUBLE (b, "wait_max", m->wait_max);
  MN_SIM_MEMBER_DOUBLE (b, "bounded_slowdown_mean", m->bounded_slowdown_mean);
  MN_SIM_MEMBER_DOUBLE (b, "utilization", m->utilization);
  MN_SIM_MEMBER_INT (b, "makespan", m->makespan);
  MN_SIM_MEMBER_INT (b, "first_submit", m->first_submit);
  MN_SIM_MEMBER_INT (b, "last_end", m->last_end);
  if (with_days)
    mn_sim_months_add_json (b, m);
  if (with_days)
    {
      json_builder_set_member_name (b, "utilization_by_day");
      json_builder_begin_array (b);
      for (guint i = 0; i < m->utilization_by_day->len; i++)
        json_builder_add_double_value (b, mn_sim_round6 (g_array_index (m->utilization_by_day, double, i)));
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
}

static void
add_interactive (JsonBuilder *b, const MnSimInteractiveMetrics *m, gboolean with_arrays)
{
  json_builder_begin_object (b);
  MN_SIM_MEMBER_INT (b, "requests", m->requests);
  MN_SIM_MEMBER_INT (b, "started", m->started);
  MN_SIM_MEMBER_INT (b, "started_immediately", m->started_immediately);
  MN_SIM_MEMBER_DOUBLE (b, "share_immediate", m->share_immediate);
  MN_SIM_MEMBER_INT (b, "rejected", m->rejected);
  MN_SIM_MEMBER_INT (b, "rejected_attempts", m->rejected_attempts);
  if (with_arrays)
    {
      json_builder_set_member_name (b, "rejected_by_reason");
      json_builder_begin_object (b);
      for (guint r = MN_REJECT_PER_USER_LIMIT; r < MN_SIM_N_REJECT_REASONS; r++)
        MN_SIM_MEMBER_INT (b, mn_reject_reason_to_string (r), m->rejected_by_reason[r]);
      MN_SIM_MEMBER_INT (b, "never-started", m->rejected_by_reason[MN_REJECT_NONE]);
      json_builder_end_object (b);
    }
  MN_SIM_MEMBER_DOUBLE (b, "wait_mean", m->wait_mean);
  MN_SIM_MEMBER_DOUBLE (b, "wait_p50", m->wait_p50);
  MN_SIM_MEMBER_DOUBLE (b, "wait_p95", m->wait_p95);
  MN_SIM_MEMBER_DOUBLE (b, "wait_p99", m->wait_p99);
  MN_SIM_MEMBER_DOUBLE (b, "wait_max", m->wait_max);
  MN_SIM_MEMBER_INT (b, "peak_concurrent", m->peak_concurrent);
  MN_SIM_MEMBER_DOUBLE (b, "slot_occupancy", m->slot_occupancy);
  MN_SIM_MEMBER_DOUBLE (b, "swap_time_share", m->swap_time_share);
  MN_SIM_MEMBER_INT (b, "swap_peak_mb", m->swap_peak_mb);
  MN_SIM_MEMBER_DOUBLE (b, "swap_mb_hours", m->swap_mb_hours);
  MN_SIM_MEMBER_INT (b, "oom_kills", m->oom_kills);
  MN_SIM_MEMBER_INT (b, "node_oom_kills", m->oom_kills);
  MN_SIM_MEMBER_INT (b, "memory_cap_kills", m->memory_cap_kills);
  MN_SIM_MEMBER_INT (b, "sessions_above_memory_cap", m->sessions_above_memory_cap);
  MN_SIM_MEMBER_INT (b, "gpu_alloc_failures", m->gpu_alloc_failures);
  MN_SIM_MEMBER_DOUBLE (b, "cpu_slowdown_p50", m->cpu_slowdown_p50);
  MN_SIM_MEMBER_DOUBLE (b, "cpu_slowdown_p95", m->cpu_slowdown_p95);
  MN_SIM_MEMBER_INT (b, "cut_walltime", m->cut_walltime);
  MN_SIM_MEMBER_INT (b, "cut_idle", m->cut_idle);
  if (with_arrays)
    {
      add_uint_array (b, "launches_by_hour", m->launches_by_hour, 24);
      add_uint_array (b, "immediate_by_hour", m->immediate_by_hour, 24);
      add_uint_array (b, "launches_by_weekday", m->launches_by_weekday, 7);
    }
  json_builder_end_object (b);
}

static void
add_run (JsonBuilder *b, const MnSimMetrics *m, MnSimWorkload *w)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "machine");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, m->node_mode ? "nodes" : "processors");
  json_builder_set_member_name (b, "scheduler");
  json_builder_add_string_value (b, mn_sim_scheduler_to_string (m->scheduler));
  MN_SIM_MEMBER_INT (b, "allq_procs", m->allq_procs);
  MN_SIM_MEMBER_INT (b, "allq_nodes", m->allq_nodes);
  MN_SIM_MEMBER_INT (b, "interactive_nodes", m->interactive_nodes);
  json_builder_end_object (b);
  MN_SIM_MEMBER_INT (b, "jobs", m->jobs);
  MN_SIM_MEMBER_INT (b, "skipped", m->skipped);
  MN_SIM_MEMBER_INT (b, "events", m->events);
  mn_sim_months_add_trace_json (b, w, m);
  json_builder_set_member_name (b, "batch");
  add_batch (b, &m->batch, TRUE);
  json_builder_set_member_name (b, "interactive");
  add_interactive (b, &m->interactive, TRUE);
  /* Issue 19: only a run that over-subscribed has the object (a dedicated
   * design's metrics are what they were). */
  if (m->oversub.on)
    {
      const MnSimOversubMetrics *o = &m->oversub;
      json_builder_set_member_name (b, "oversubscribe");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "design");
      json_builder_add_string_value (b, mn_policy_design_to_string (o->design));
      MN_SIM_MEMBER_INT (b, "started_shared", o->started_shared);
      MN_SIM_MEMBER_INT (b, "started_dedicated", o->started_dedicated);
      MN_SIM_MEMBER_INT (b, "batch_jobs_shared", o->batch_jobs_shared);
      MN_SIM_MEMBER_DOUBLE (b, "batch_stretch_mean", o->batch_stretch_mean);
      MN_SIM_MEMBER_DOUBLE (b, "batch_stretch_p95", o->batch_stretch_p95);
      MN_SIM_MEMBER_DOUBLE (b, "batch_stretch_max", o->batch_stretch_max);
      MN_SIM_MEMBER_DOUBLE (b, "batch_node_hours_lost", o->batch_node_hours_lost);
      MN_SIM_MEMBER_DOUBLE (b, "dedicated_node_hours", o->dedicated_node_hours);
      MN_SIM_MEMBER_DOUBLE (b, "memory_committed_mean", o->memory_committed_mean);
      MN_SIM_MEMBER_DOUBLE (b, "memory_committed_max", o->memory_committed_max);
      MN_SIM_MEMBER_INT (b, "swap_peak_mb", o->swap_peak_mb);
      MN_SIM_MEMBER_DOUBLE (b, "swap_mb_hours", o->swap_mb_hours);
      MN_SIM_MEMBER_INT (b, "memory_cap_kills", o->memory_cap_kills);
      json_builder_end_object (b);
    }
}

JsonNode *
mn_sim_result_to_json (MnSimResult *result, MnSimResult *baseline)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const MnSimMetrics *m = mn_sim_result_get_metrics (result);
  add_run (b, m, mn_sim_result_get_workload (result));
  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, "minna-sim-metrics/1");
  if (baseline != NULL)
    {
      const MnSimMetrics *bm = mn_sim_result_get_metrics (baseline);
      json_builder_set_member_name (b, "baseline");
      add_run (b, bm, mn_sim_result_get_workload (baseline));
      json_builder_end_object (b);
      /* this run minus the baseline, scalar figures only */
      const MnSimBatchMetrics *p = &m->batch, *q = &bm->batch;
      const MnSimInteractiveMetrics *x = &m->interactive, *y = &bm->interactive;
      json_builder_set_member_name (b, "difference");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "batch");
      json_builder_begin_object (b);
      MN_SIM_MEMBER_INT (b, "jobs", (gint64) m->batch.jobs - (gint64) bm->batch.jobs);
      MN_SIM_MEMBER_DOUBLE (b, "wait_mean", p->wait_mean - q->wait_mean);
      MN_SIM_MEMBER_DOUBLE (b, "wait_median", p->wait_median - q->wait_median);
      MN_SIM_MEMBER_DOUBLE (b, "wait_p95", p->wait_p95 - q->wait_p95);
      MN_SIM_MEMBER_DOUBLE (b, "wait_max", p->wait_max - q->wait_max);
      MN_SIM_MEMBER_DOUBLE (b, "bounded_slowdown_mean", p->bounded_slowdown_mean - q->bounded_slowdown_mean);
      MN_SIM_MEMBER_DOUBLE (b, "utilization", p->utilization - q->utilization);
      MN_SIM_MEMBER_INT (b, "makespan", p->makespan - q->makespan);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "interactive");
      json_builder_begin_object (b);
      MN_SIM_MEMBER_INT (b, "started", (gint64) x->started - (gint64) y->started);
      MN_SIM_MEMBER_INT (b, "started_immediately", (gint64) x->started_immediately - (gint64) y->started_immediately);
      MN_SIM_MEMBER_DOUBLE (b, "share_immediate", x->share_immediate - y->share_immediate);
      MN_SIM_MEMBER_INT (b, "rejected", (gint64) x->rejected - (gint64) y->rejected);
      MN_SIM_MEMBER_DOUBLE (b, "wait_mean", x->wait_mean - y->wait_mean);
      MN_SIM_MEMBER_DOUBLE (b, "wait_p50", x->wait_p50 - y->wait_p50);
      MN_SIM_MEMBER_DOUBLE (b, "wait_p95", x->wait_p95 - y->wait_p95);
      MN_SIM_MEMBER_DOUBLE (b, "wait_p99", x->wait_p99 - y->wait_p99);
      MN_SIM_MEMBER_DOUBLE (b, "wait_max", x->wait_max - y->wait_max);
      MN_SIM_MEMBER_INT (b, "oom_kills", (gint64) x->oom_kills - (gint64) y->oom_kills);
      MN_SIM_MEMBER_INT (b, "memory_cap_kills", (gint64) x->memory_cap_kills - (gint64) y->memory_cap_kills);
      MN_SIM_MEMBER_INT (b, "gpu_alloc_failures", (gint64) x->gpu_alloc_failures - (gint64) y->gpu_alloc_failures);
      MN_SIM_MEMBER_DOUBLE (b, "swap_time_share", x->swap_time_share - y->swap_time_share);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* JSON text with doubles in %.10g: json-glib writes 17 digits
 * (0.69923800000000003), which is exact but hard to read; ten significant
 * digits keep every figure the metrics carry. */
static void
node_to_text (JsonNode *node, GString *out, guint depth)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (node);
        g_autoptr(GList) members = json_object_get_members (o);
        g_string_append (out, "{");
        for (GList *l = members; l != NULL; l = l->next)
          {
            g_autofree gchar *key = g_strescape (l->data, NULL);
            g_string_append_printf (out, "%s\n%*s\"%s\": ", l == members ? "" : ",",
                                    (int) (depth + 1) * 2, "", key);
            node_to_text (json_object_get_member (o, l->data), out, depth + 1);
          }
        g_string_append_printf (out, "\n%*s}", (int) depth * 2, "");
      }
      break;
    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (node);
        g_string_append (out, "[");
        for (guint i = 0; i < json_array_get_length (a); i++)
          {
            g_string_append (out, i == 0 ? "" : ", ");
            node_to_text (json_array_get_element (a, i), out, depth + 1);
          }
        g_string_append (out, "]");
      }
      break;
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;
    case JSON_NODE_VALUE:
    default:
      if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
        {
          gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
          double v = json_node_get_double (node);
          g_string_append (out, isfinite (v) ? g_ascii_formatd (buf, sizeof buf, "%.10g", v) : "null");
        }
      else if (json_node_get_value_type (node) == G_TYPE_INT64)
        g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
        g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      else
        {
          g_autofree gchar *esc = g_strescape (json_node_get_string (node), NULL);
          g_string_append_printf (out, "\"%s\"", esc);
        }
      break;
    }
}

gchar *
mn_sim_result_to_json_text (MnSimResult *result, MnSimResult *baseline)
{
  g_autoptr(JsonNode) root = mn_sim_result_to_json (result, baseline);
  GString *out = g_string_new (NULL);
  node_to_text (root, out, 0);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

gboolean
mn_sim_result_write_json (MnSimResult *result, MnSimResult *baseline, const gchar *path,
                          GError **error)
{
  g_autofree gchar *text = mn_sim_result_to_json_text (result, baseline);
  g_autoptr(GError) local = NULL;
  if (!g_file_set_contents (path, text, -1, &local))
    {
      g_set_error (error, MN_SIM_ERROR, MN_SIM_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}
