/* mn-trace-job.h: the one in-memory job record that every trace reader
 * (SWF, Grid Engine accounting, Slurm sacct, minna native) fills, and that the
 * simulator replays.  Unknown values are -1 (integers) or NULL (strings).
 * Times are in seconds since the Unix epoch (or since the trace's start when
 * the trace does not know the epoch: SWF without UnixStartTime).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TSUBAME3 resource types (the generator's table and node-mode packing). */
typedef enum {
  MN_RTYPE_NONE = 0,   /* processor-count job (SWF), see MnTraceJob.procs */
  MN_RTYPE_F,          /* 28 cores, 4 GPUs, 240 GB */
  MN_RTYPE_H,          /* 14 cores, 2 GPUs, 120 GB */
  MN_RTYPE_Q,          /*  7 cores, 1 GPU,   60 GB */
  MN_RTYPE_C4,         /*  4 cores, 0 GPUs,  30 GB */
  MN_RTYPE_C1,         /*  1 core,  0 GPUs, 7.5 GB */
  MN_RTYPE_G1,         /*  2 cores, 1 GPU,   15 GB */
  MN_RTYPE_LAST
} MnResourceType;

typedef struct {
  const gchar *name;    /* "f_node", "h_node", "q_node", "s_core"... see .c */
  const gchar *short_name; /* "F", "H", "Q", "C4", "C1", "G1" */
  guint        cores;
  guint        gpus;
  guint64      memory_mb;
} MnResourceTypeInfo;

const MnResourceTypeInfo *mn_resource_type_info (MnResourceType type);
/* Accepts "F", "f_node", "q_node", "C4", "s_core"... ; MN_RTYPE_NONE if unknown */
MnResourceType mn_resource_type_from_string (const gchar *name);

/* A memory profile of an interactive session: piecewise-constant use over
 * the session's life.  Offsets are seconds from the job's start. */
typedef struct {
  gint64  offset;
  guint64 memory_mb;
} MnMemoryStep;

typedef struct {
  gint64          id;            /* job number in the trace */
  gchar          *user;          /* NULL if unknown; SWF: "u<N>" */
  gchar          *group;
  gchar          *queue;         /* SWF: queue number as text */
  gboolean        interactive;
  gchar          *name;          /* job name */

  gint64          submit;        /* -1 unknown */
  gint64          start;         /* -1 unknown */
  gint64          end;           /* -1 unknown */
  gint64          runtime;       /* seconds, -1 unknown */
  gint64          walltime_req;  /* requested walltime, -1 unknown */

  /* Resources requested: either a processor count ... */
  gint64          procs;         /* requested processors, -1 unknown */
  gint64          procs_alloc;   /* allocated processors, -1 unknown */
  /* ... or chunks of a TSUBAME resource type. */
  MnResourceType  rtype;
  guint           rtype_count;   /* number of chunks; 0 with MN_RTYPE_NONE */
  gint64          gpus;          /* GPUs requested in total, -1 unknown */

  gint64          memory_req_mb; /* requested memory, -1 unknown */
  gint64          memory_used_mb;/* maximum used, -1 unknown */
  gint64          cpu_time;      /* seconds of CPU, -1 unknown */
  double          cpu_active;    /* share of the session with CPU busy (0..1), -1 unknown */
  gint64          gpu_memory_mb; /* GPU memory footprint, -1 unknown */
  gint            exit_status;   /* -1 unknown */
  /* An interactive request's own if_busy (MnIfBusy of policy/: 0 wait,
   * 1 give up); -1 when the trace does not say: the policy's [queue]
   * if_busy applies, as for a portal request that names none. */
  gint            if_busy;

  /* Memory use over time (native format only); NULL otherwise. */
  GArray         *memory_profile; /* of MnMemoryStep, sorted by offset */
} MnTraceJob;

MnTraceJob *mn_trace_job_new (void);   /* every field unknown */
MnTraceJob *mn_trace_job_copy (const MnTraceJob *job);
void        mn_trace_job_free (MnTraceJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnTraceJob, mn_trace_job_free)

/* Added by issue 3 (helpers the readers, summary and generator share). */

/* Share of one 28-core/4-GPU/240-GB node that one chunk occupies: the
 * largest of its core, GPU and memory shares (F 1, H 1/2, Q 1/4, C4 1/7,
 * C1 1/28, G1 1/4); 0 for MN_RTYPE_NONE. */
double      mn_resource_type_node_share (MnResourceType type);
/* Processors of a job: allocated, else requested, else chunks x cores; -1. */
gint64      mn_trace_job_get_procs (const MnTraceJob *job);
/* Nodes of an rtype job (chunks x node share); -1 for processor-count jobs. */
double      mn_trace_job_get_nodes (const MnTraceJob *job);
/* Appends a step to the memory profile (creating it). */
void        mn_trace_job_add_memory_step (MnTraceJob *job, gint64 offset,
                                          guint64 memory_mb);

G_END_DECLS
