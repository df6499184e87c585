/* mn-twin-sim.c: a twin scenario through minna-sim's interactive.q model
 * (the engine library, exactly what `minna-sim replay` runs), one row per
 * session.  The scenario becomes a trace: a session is an interactive job
 * submitted at its launch time, with its request (cores, memory limit, GPUs,
 * walltime), its memory footprint as a memory profile, its busy time as the
 * share of its runtime with the CPU active, its exit as its runtime (a
 * session that never exits runs until the model cuts it), and its GPU
 * memory as its GPU footprint. */
#define G_LOG_DOMAIN "minna-twin"

#include "mn-sim-engine.h"
#include "mn-twin.h"

static MnSimWorkload *
workload_of (const MnTwinScenario *sc)
{
  MnSimWorkload *w = mn_sim_workload_new ();

  for (guint i = 0; i < sc->sessions->len; i++)
    {
      const MnTwinSession *s = g_ptr_array_index (sc->sessions, i);
      g_autoptr (MnTraceJob) j = mn_trace_job_new ();
      gint64 walltime = s->walltime > 0 ? s->walltime : sc->policy->max_walltime;
      guint64 peak = 0;

      j->id = i + 1;
      j->user = g_strdup (s->user);
      j->submit = s->at;
      j->interactive = TRUE;
      j->queue = g_strdup ("interactive.q");
      j->procs = s->cores > 0 ? s->cores : 1;
      j->gpus = s->gpus;
      j->gpu_memory_mb = s->gpu_use_mb > 0 ? (gint64) s->gpu_use_mb : -1;
      j->memory_req_mb = s->memory_mb > 0 ? (gint64) s->memory_mb : -1;
      j->walltime_req = s->walltime > 0 ? s->walltime : -1;
      /* The session's own choice, as its launch sends it to the controller. */
      j->if_busy = s->if_busy;
      /* Never exiting: longer than anything that can cut it. */
      j->runtime = s->exit >= 0 ? s->exit : walltime + 86400;
      j->cpu_active = j->runtime > 0 ? MIN (1.0, (double) s->busy / (double) j->runtime) : 0;
      for (guint k = 0; k < s->use->len; k++)
        {
          const MnTwinStep *st = &g_array_index (s->use, MnTwinStep, k);

          mn_trace_job_add_memory_step (j, st->offset, st->memory_mb);
          peak = MAX (peak, st->memory_mb);
        }
      j->memory_used_mb = (gint64) peak;
      mn_sim_workload_add_job (w, j);
    }
  return w;
}

static const gchar *
end_reason_of (MnSimJobStatus status)
{
  switch (status)
    {
    case MN_SIM_STATUS_DONE:       return mn_end_reason_to_string (MN_END_EXITED);
    case MN_SIM_STATUS_WALLTIME:   return mn_end_reason_to_string (MN_END_WALLTIME);
    case MN_SIM_STATUS_IDLE:       return mn_end_reason_to_string (MN_END_IDLE);
    case MN_SIM_STATUS_OOM:        return mn_end_reason_to_string (MN_END_NODE_OOM);
    case MN_SIM_STATUS_MEMORY_CAP: return mn_end_reason_to_string (MN_END_MEMORY_CAP);
    case MN_SIM_STATUS_REJECTED:
    case MN_SIM_STATUS_SKIPPED:
    default:                       return "";
    }
}

GPtrArray *
mn_twin_run_sim (const MnTwinScenario *sc, GError **error)
{
  g_autoptr (MnSimWorkload) w = workload_of (sc);
  g_autoptr (MnSimResult) result = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_twin_row_free);
  const MnPolicyConfig *p = sc->policy;
  MnSimConfig config;

  mn_sim_config_init (&config);
  config.policy = p;
  config.interactive_nodes = p->nodes;
  /* Processor mode with one all.q processor to spare: no batch job runs. */
  config.procs = (gint64) p->nodes * p->node_cores + 1;
  result = mn_sim_run (w, &config, NULL, NULL, NULL, error);
  if (result == NULL)
    {
      g_prefix_error (error, "%s: the simulator: ", sc->path);
      return NULL;
    }
  for (guint i = 0; i < sc->sessions->len; i++)
    {
      const MnTwinSession *s = g_ptr_array_index (sc->sessions, i);
      const MnSimJobResult *r = mn_sim_result_lookup (result, i + 1);
      MnTwinRow *row = mn_twin_row_new ();

      g_ptr_array_add (rows, row);
      mn_twin_row_set (row, MN_TWIN_FIELD_NAME, s->name);
      mn_twin_row_set (row, MN_TWIN_FIELD_USER, s->user);
      if (r->status == MN_SIM_STATUS_REJECTED)
        {
          mn_twin_row_set (row, MN_TWIN_FIELD_DECISION, "reject");
          mn_twin_row_set (row, MN_TWIN_FIELD_REASON,
                           r->reason == MN_REJECT_NONE ? "never-started"
                           : mn_reject_reason_to_string (r->reason));
        }
      else if (r->start > r->submit)
        {
          mn_twin_row_set (row, MN_TWIN_FIELD_DECISION, "wait");
          mn_twin_row_set (row, MN_TWIN_FIELD_REASON, mn_wait_reason_to_string (r->wait_reason));
        }
      else
        {
          mn_twin_row_set (row, MN_TWIN_FIELD_DECISION, "start");
          mn_twin_row_set (row, MN_TWIN_FIELD_REASON, "");
        }
      if (r->start < 0)
        {
          for (guint f = MN_TWIN_FIELD_NODE; f < MN_TWIN_N_FIELDS; f++)
            mn_twin_row_set (row, f, "");
          continue;
        }
      {
        MnPolicyAllocation a = { .gpu_mask = r->gpu_mask, .cpu_first = r->cpu_first,
                                 .n_cpus = r->n_cpus };
        g_autofree gchar *cpus = mn_policy_allocation_cpu_list (&a);
        g_autofree gchar *gpus = mn_policy_allocation_gpu_list (&a);

        g_strdelimit (gpus, ",", ';');
        mn_twin_row_set_int (row, MN_TWIN_FIELD_NODE, r->node);
        mn_twin_row_set_int (row, MN_TWIN_FIELD_LOGICAL, r->logical);
        mn_twin_row_set (row, MN_TWIN_FIELD_CPUS, cpus);
        mn_twin_row_set (row, MN_TWIN_FIELD_GPUS, gpus);
      }
      /* The allocation's limits: L, and the requested cores' worth of CPU time. */
      mn_twin_row_set_int (row, MN_TWIN_FIELD_MEMORY_LIMIT, r->memory_limit_mb);
      mn_twin_row_set_int (row, MN_TWIN_FIELD_CPU_QUOTA, (gint64) r->procs * 100000);
      mn_twin_row_set_int (row, MN_TWIN_FIELD_START, r->start);
      mn_twin_row_set_int (row, MN_TWIN_FIELD_END, r->end);
      mn_twin_row_set (row, MN_TWIN_FIELD_END_REASON, end_reason_of (r->status));
      mn_twin_row_set_int (row, MN_TWIN_FIELD_GPU_FAILED, r->gpu_failed);
    }
  return g_steal_pointer (&rows);
}
