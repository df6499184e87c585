/* mn-trace-job.c: the job record and TSUBAME3's resource-type table. */
#define G_LOG_DOMAIN "minna-trace"

#include "mn-trace-job.h"

#include <string.h>

/* TSUBAME3.0's resource types (the node is 28 cores, 4 GPUs, 240 GB usable). */
static const MnResourceTypeInfo resource_types[MN_RTYPE_LAST] = {
  [MN_RTYPE_NONE] = { "none",   "-",  0, 0, 0 },
  [MN_RTYPE_F]    = { "f_node", "F",  28, 4, 245760 },
  [MN_RTYPE_H]    = { "h_node", "H",  14, 2, 122880 },
  [MN_RTYPE_Q]    = { "q_node", "Q",  7,  1, 61440 },
  [MN_RTYPE_C4]   = { "q_core", "C4", 4,  0, 30720 },
  [MN_RTYPE_C1]   = { "s_core", "C1", 1,  0, 7680 },
  [MN_RTYPE_G1]   = { "s_gpu",  "G1", 2,  1, 15360 },
};

const MnResourceTypeInfo *
mn_resource_type_info (MnResourceType type)
{
  if ((guint) type >= MN_RTYPE_LAST)
    return &resource_types[MN_RTYPE_NONE];
  return &resource_types[type];
}

MnResourceType
mn_resource_type_from_string (const gchar *name)
{
  if (name == NULL)
    return MN_RTYPE_NONE;
  for (guint i = MN_RTYPE_F; i < MN_RTYPE_LAST; i++)
    if (g_ascii_strcasecmp (name, resource_types[i].name) == 0 ||
        g_ascii_strcasecmp (name, resource_types[i].short_name) == 0)
      return (MnResourceType) i;
  return MN_RTYPE_NONE;
}

double
mn_resource_type_node_share (MnResourceType type)
{
  const MnResourceTypeInfo *info = mn_resource_type_info (type);
  const MnResourceTypeInfo *node = &resource_types[MN_RTYPE_F];
  double share;

  if (type == MN_RTYPE_NONE)
    return 0.0;
  /* A chunk occupies the largest of its shares of cores, GPUs and memory. */
  share = (double) info->cores / node->cores;
  share = MAX (share, (double) info->gpus / node->gpus);
  share = MAX (share, (double) info->memory_mb / node->memory_mb);
  return share;
}

MnTraceJob *
mn_trace_job_new (void)
{
  MnTraceJob *job = g_new0 (MnTraceJob, 1);

  job->id = -1;
  job->submit = -1;
  job->start = -1;
  job->end = -1;
  job->runtime = -1;
  job->walltime_req = -1;
  job->procs = -1;
  job->procs_alloc = -1;
  job->rtype = MN_RTYPE_NONE;
  job->rtype_count = 0;
  job->gpus = -1;
  job->memory_req_mb = -1;
  job->memory_used_mb = -1;
  job->cpu_time = -1;
  job->cpu_active = -1.0;
  job->gpu_memory_mb = -1;
  job->exit_status = -1;
  job->if_busy = -1;
  return job;
}

MnTraceJob *
mn_trace_job_copy (const MnTraceJob *job)
{
  MnTraceJob *copy;

  g_return_val_if_fail (job != NULL, NULL);
  copy = g_memdup2 (job, sizeof *job);
  copy->user = g_strdup (job->user);
  copy->group = g_strdup (job->group);
  copy->queue = g_strdup (job->queue);
  copy->name = g_strdup (job->name);
  if (job->memory_profile != NULL)
    {
      copy->memory_profile = g_array_sized_new (FALSE, FALSE, sizeof (MnMemoryStep),
                                                job->memory_profile->len);
      g_array_append_vals (copy->memory_profile, job->memory_profile->data,
                           job->memory_profile->len);
    }
  return copy;
}

void
mn_trace_job_free (MnTraceJob *job)
{
  if (job == NULL)
    return;
  g_free (job->user);
  g_free (job->group);
  g_free (job->queue);
  g_free (job->name);
  if (job->memory_profile != NULL)
    g_array_unref (job->memory_profile);
  g_free (job);
}

gint64
mn_trace_job_get_procs (const MnTraceJob *job)
{
  if (job->procs_alloc > 0)
    return job->procs_alloc;
  if (job->procs > 0)
    return job->procs;
  if (job->rtype != MN_RTYPE_NONE && job->rtype_count > 0)
    return (gint64) job->rtype_count * mn_resource_type_info (job->rtype)->cores;
  return -1;
}

double
mn_trace_job_get_nodes (const MnTraceJob *job)
{
  if (job->rtype != MN_RTYPE_NONE && job->rtype_count > 0)
    return job->rtype_count * mn_resource_type_node_share (job->rtype);
  return -1.0;
}

void
mn_trace_job_add_memory_step (MnTraceJob *job, gint64 offset, guint64 memory_mb)
{
  MnMemoryStep step = { offset, memory_mb };

  if (job->memory_profile == NULL)
    job->memory_profile = g_array_new (FALSE, FALSE, sizeof (MnMemoryStep));
  g_array_append_val (job->memory_profile, step);
}
