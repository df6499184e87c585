/* mn-policy-export.c: a configuration as Slurm (22.05) and Grid Engine (8.1)
 * settings.  Each applicable piece sits between "# ---- BEGIN name ----" and
 * "# ---- END name ----" lines and holds nothing else, so a script can cut it
 * out and hand it to the daemon as it stands; everything the scheduler cannot
 * express is said in comments before the first piece. */
#define G_LOG_DOMAIN "minna-policy"

#include <string.h>

#include "mn-policy-private.h"

static void
begin (GString *out, const gchar *name)
{
  g_string_append_printf (out, "\n# ---- BEGIN %s ----\n", name);
}

static void
end (GString *out, const gchar *name)
{
  g_string_append_printf (out, "# ---- END %s ----\n", name);
}

/* "interactive.q" -> "interactive": Slurm partitions are named without .q */
static gchar *
partition_name (const MnPolicyConfig *c)
{
  gchar *name = g_strdup (c->queue_name);

  if (g_str_has_suffix (name, ".q") && strlen (name) > 2)
    name[strlen (name) - 2] = '\0';
  return name;
}

/* ---- GPU units shared by the exports and the submit arguments ------------- */

static gboolean
has_gpus (const MnPolicyConfig *c)
{
  return c->node_gpus > 0 && c->logical_gpus > 0;
}

/* Shared and capped GPUs are split into max_jobs shards each (Slurm gres/shard,
 * Grid Engine consumable gpu_shard); exclusive GPUs are counted whole. */
static gboolean
uses_shards (const MnPolicyConfig *c)
{
  return has_gpus (c) && c->gpu_mode != MN_GPU_MODE_EXCLUSIVE;
}

static guint
shards_per_gpu (const MnPolicyConfig *c)
{
  return c->max_jobs_per_logical;
}

/* Shards (or whole GPUs in EXCLUSIVE mode) for @gpus GPUs and @reserved MiB
 * of reserved GPU memory: SHARED one per GPU, CAPPED the reservation in
 * shards of gpu_memory / shards_per_gpu, rounded up, at least one per GPU. */
static guint
gpu_units (const MnPolicyConfig *c, guint gpus, guint64 reserved)
{
  guint64 n;

  if (!has_gpus (c) || gpus == 0)
    return 0;
  if (c->gpu_mode != MN_GPU_MODE_CAPPED)
    return gpus;
  n = (reserved * shards_per_gpu (c) + c->gpu_memory_mb - 1) / MAX (c->gpu_memory_mb, 1);
  n = CLAMP (n, gpus, (guint64) gpus * shards_per_gpu (c));
  return (guint) n;
}

/* The most units one job may ask for: its GPU and GPU-memory caps. */
static guint
gpu_units_per_job (const MnPolicyConfig *c)
{
  return gpu_units (c, c->job_max_gpus, c->job_max_gpu_memory_mb);
}

gchar *
mn_policy_slurm_partition (const MnPolicyConfig *c)
{
  return partition_name (c);
}

gchar *
mn_policy_slurm_gres (const MnPolicyConfig *c, const MnPolicyAllocation *a)
{
  guint units = gpu_units (c, a->gpus, a->gpu_memory_reserved_mb);

  if (units == 0)
    return NULL;
  return g_strdup_printf ("%s:%u", uses_shards (c) ? "shard" : "gpu", units);
}

gchar *
mn_policy_slurm_node_name (const MnPolicyConfig *c, guint node)
{
  g_autofree gchar *part = partition_name (c);

  return g_strdup_printf ("%s%u", part, node + 1);
}

/* The logical node's cores in Slurm's core numbering (gres.conf Cores=:
 * socket by socket, core 0 the first of socket 0), which is the policy's. */
static gchar *
logical_cores (const MnPolicyConfig *c, guint logical)
{
  guint first = logical * c->logical_cores;

  if (c->logical_cores == 1)
    return g_strdup_printf ("%u", first);
  return g_strdup_printf ("%u-%u", first, first + c->logical_cores - 1);
}

/* Slurm's D-HH:MM:SS; Slurm counts whole minutes and rounds up itself. */
static gchar *
slurm_duration (gint64 seconds)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT "-%02d:%02d:%02d", seconds / 86400,
                          (int) (seconds / 3600 % 24), (int) (seconds / 60 % 60),
                          (int) (seconds % 60));
}

GStrv
mn_policy_submit_args_slurm (const MnPolicyConfig *c, const MnPolicyAllocation *a)
{
  GPtrArray *b = g_ptr_array_new ();
  g_autofree gchar *part = partition_name (c);
  g_autofree gchar *time = slurm_duration (a->walltime);
  g_autofree gchar *gres = mn_policy_slurm_gres (c, a);

  g_autofree gchar *node = mn_policy_slurm_node_name (c, a->node);

  g_ptr_array_add (b, g_strdup_printf ("--partition=%s", part));
  g_ptr_array_add (b, g_strdup_printf ("--time=%s", time));
  g_ptr_array_add (b, g_strdup_printf ("--mem=%" G_GUINT64_FORMAT "M", a->memory_max_mb));
  g_ptr_array_add (b, g_strdup_printf ("--cpus-per-task=%u", a->cores));
  /* The policy's placement, enforced: its node, and its logical node as one
   * unit of that socket's lnode GRES, whose cores (and GPUs, shards) are
   * bound to the socket in the export's gres.conf; enforce-binding makes
   * Slurm allocate the job those cores and no others. */
  g_ptr_array_add (b, g_strdup_printf ("--nodelist=%s", node));
  g_ptr_array_add (b, g_strdup_printf ("--gres=" MN_POLICY_SLURM_LNODE ":l%u:1%s%s", a->logical,
                                       gres != NULL ? "," : "", gres != NULL ? gres : ""));
  g_ptr_array_add (b, g_strdup ("--gres-flags=enforce-binding"));
  g_ptr_array_add (b, NULL);
  return (GStrv) g_ptr_array_free (b, FALSE);
}

GStrv
mn_policy_submit_args_sge (const MnPolicyConfig *c, const MnPolicyAllocation *a,
                           gboolean give_up)
{
  GPtrArray *b = g_ptr_array_new ();
  g_autofree gchar *rt = mn_policy_format_hms (a->walltime);
  GString *res = g_string_new (NULL);
  guint units = gpu_units (c, a->gpus, a->gpu_memory_reserved_mb);

  g_ptr_array_add (b, g_strdup ("-q"));
  g_ptr_array_add (b, g_strdup (c->queue_name));
  if (give_up)
    {
      g_ptr_array_add (b, g_strdup ("-now"));
      g_ptr_array_add (b, g_strdup ("y"));
    }
  g_string_append_printf (res, "h_rt=%s,h_vmem=%" G_GUINT64_FORMAT "M", rt,
                          a->memory_swap_max_mb);
  if (units > 0)
    g_string_append_printf (res, ",%s=%u", uses_shards (c) ? "gpu_shard" : "gpu", units);
  g_ptr_array_add (b, g_strdup ("-l"));
  g_ptr_array_add (b, g_string_free (res, FALSE));
  g_ptr_array_add (b, NULL);
  return (GStrv) g_ptr_array_free (b, FALSE);
}

static void
note_common (GString *out, const MnPolicyConfig *c, const gchar *memory_hint,
             const gchar *placement_note, const gchar *busy_hint)
{
  g_autofree gchar *commit = mn_policy_format_size (c->node_memory_mb + c->node_swap_mb);
  g_autofree gchar *idle = mn_policy_format_duration (c->idle_timeout);

  g_string_append (out, "# Not expressible here (minna's controller enforces these):\n");
  g_string_append_printf (out,
                          "# - memory over-commit: minna admits a job only while the "
                          "memory committed on its\n#   node stays within RAM + swap "
                          "(%s); the scheduler does not sum requests that way.\n",
                          commit);
  if (memory_hint != NULL)
    g_string_append (out, memory_hint);
  g_string_append (out, placement_note);
  if (c->idle_timeout > 0)
    g_string_append_printf (out, "# - idle_timeout = %s: idle sessions are stopped "
                            "by the controller.\n", idle);
  if (c->logical_gpus > 0 && c->gpu_mode == MN_GPU_MODE_CAPPED)
    {
      g_autofree gchar *cap = mn_policy_format_size (c->job_max_gpu_memory_mb);

      g_string_append_printf (out, "# - gpu_mode = capped: no per-job GPU-memory cap "
                              "(%s) in the scheduler.\n", cap);
    }
  if (c->logical_gpus > 0 && c->gpu_mode == MN_GPU_MODE_SHARED)
    g_string_append (out, "# - gpu_mode = shared: GPU memory is first come, first "
                     "served among the jobs.\n");
  if (c->if_busy == MN_IF_BUSY_GIVE_UP)
    g_string_append_printf (out, "# - if_busy = give_up: submit with %s.\n", busy_hint);
}

gchar *
mn_policy_export_slurm (const MnPolicyConfig *c)
{
  GString *out = g_string_new (NULL);
  g_autofree gchar *part = partition_name (c);
  g_autofree gchar *wall = mn_policy_format_hms (c->max_walltime);
  gboolean gpus = has_gpus (c);
  gboolean shards = uses_shards (c);
  guint n_shards = c->node_gpus * shards_per_gpu (c);
  const gchar *gpu_tres = shards ? "gres/shard" : "gres/gpu";

  g_string_append_printf (out,
                          "# minna policy for Slurm 22.05: partition '%s' (%s), %u nodes.\n"
                          "# Each logical node is a socket: with CR_Socket_Memory and "
                          "OverSubscribe=FORCE:%u\n# exactly %u jobs share one. "
                          "Node names %s[1-%u] are placeholders for your hosts\n"
                          "# (here and in gres.conf; policy node i is the partition's "
                          "(i+1)-th node, in\n# Slurm's order).\n"
                          "# minna places every job itself (the policy's node and logical "
                          "node): it submits\n# --nodelist=NODE --gres=%s:lL:1 "
                          "--gres-flags=enforce-binding, one unit of the\n# socket's "
                          "%s GRES, which gres.conf binds to that socket's cores%s:\n# Slurm "
                          "allocates exactly that socket.  Run lnode-files.sh on every "
                          "interactive\n# node: Slurm binds a GRES to cores only when "
                          "its units are files.\n",
                          part, c->queue_name, c->nodes, c->max_jobs_per_logical,
                          c->max_jobs_per_logical, part, c->nodes, MN_POLICY_SLURM_LNODE,
                          MN_POLICY_SLURM_LNODE,
                          gpus ? " (and its\n# GPUs and their shards to the same cores)" : "");
  if (shards && c->gpu_mode == MN_GPU_MODE_CAPPED)
    g_string_append_printf (out, "# GPUs are shared through gres/shard: %u per GPU; a job "
                            "asks its GPU-memory\n# reservation in shards of "
                            "[node] gpu_memory / %u, rounded up, at least one per GPU.\n",
                            shards_per_gpu (c), shards_per_gpu (c));
  else if (shards)
    g_string_append_printf (out, "# GPUs are shared through gres/shard: %u per GPU, "
                            "one per job and GPU used.\n", shards_per_gpu (c));
  note_common (out, c, NULL,
               gpus && c->logical_gpus > 1
               ? "# - placement: a job that names no lnode GRES is placed by Slurm, on "
                 "any socket\n#   (differently from run to run).  Slurm chooses which "
                 "of a logical node's\n#   GPUs a job's gpu or shard GRES comes from.\n"
               : "# - placement: a job that names no lnode GRES is placed by Slurm, on "
                 "any socket\n#   (differently from run to run).\n",
               "srun --immediate or salloc --immediate");
  g_string_append (out, "# - the per-user limit counts waiting jobs too: "
                   "MaxSubmitJobsPerUser below.\n");
  if (c->design != MN_DESIGN_DEDICATED)
    g_string_append_printf (out,
      "# - design = %s (issue 19): partition '%s-shared' overlaps the batch nodes\n"
      "#   (Nodes=batch[1-N] is a placeholder for them) with OverSubscribe=FORCE:%u, so\n"
      "#   an interactive job starts at once on a node running batch work.  The batch\n"
      "#   partition(s) of those nodes need OverSubscribe=FORCE:1 (one batch job per\n"
      "#   core, as before): Slurm shares no core of a partition without it.  Memory\n"
      "#   is a consumable, so a job starts only where the batch jobs' --mem leaves\n"
      "#   its own: the model's headroom rule, exact when batch jobs state --mem.\n"
      "#   Not expressed: max_extra_jobs_per_node (FORCE:%u counts jobs per core,\n"
      "#   batch included, not interactive jobs per node); cpu_share (the kernel\n"
      "#   shares the cores; the model's rate is an estimate, not a limit); batch time\n"
      "#   limits are not extended by the stretch (give batch jobs the margin);%s\n",
      mn_policy_design_to_string (c->design), part, c->max_extra_jobs + 1,
      c->max_extra_jobs + 1,
      c->design == MN_DESIGN_HYBRID
      ? "\n#   hybrid: submit to the dedicated partition first (--immediate), then to\n"
        "#   the shared one; minna's controller does not do that yet."
      : " the\n#   dedicated partition above is not needed for this design.");

  begin (out, "slurm.conf");
  /* memory a consumable (_Memory): only then does task/cgroup limit a job
   * to its --mem (without, its cgroup gets the whole node: "alloc=0MB") */
  g_string_append (out, "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core_Memory\n");
  /* Refuse at submission what no partition limit allows (a walltime over
   * MaxTime); without it such a job waits forever (PartitionTimeLimit). */
  g_string_append (out, "EnforcePartLimits=ALL\n");
  g_string_append_printf (out, "GresTypes=%s%s%s\n", MN_POLICY_SLURM_LNODE,
                          gpus ? ",gpu" : "", shards ? ",shard" : "");
  g_string_append (out,
                   "AccountingStorageType=accounting_storage/slurmdbd\n"
                   "AccountingStorageEnforce=associations,limits,qos\n");
  if (gpus)
    g_string_append_printf (out, "AccountingStorageTRES=gres/gpu%s\n",
                            shards ? ",gres/shard" : "");
  g_string_append_printf (out,
                          "NodeName=%s[1-%u] Sockets=%u CoresPerSocket=%u ThreadsPerCore=1 "
                          "RealMemory=%" G_GUINT64_FORMAT,
                          part, c->nodes, c->logical_per_node, c->logical_cores,
                          c->node_memory_mb);
  g_string_append (out, " Gres=");
  for (guint l = 0; l < c->logical_per_node; l++)
    g_string_append_printf (out, "%s%s:l%u:%u", l > 0 ? "," : "", MN_POLICY_SLURM_LNODE, l,
                            c->max_jobs_per_logical);
  if (gpus)
    g_string_append_printf (out, ",gpu:%u", c->node_gpus);
  if (gpus && shards)
    g_string_append_printf (out, ",shard:%u", n_shards);
  g_string_append (out, " State=UNKNOWN\n");
  g_string_append_printf (out,
                          "PartitionName=%s Nodes=%s[1-%u] OverSubscribe=FORCE:%u "
                          "SelectTypeParameters=CR_Socket_Memory MaxTime=%s DefaultTime=%s "
                          "DefMemPerNode=%" G_GUINT64_FORMAT " MaxMemPerNode=%"
                          G_GUINT64_FORMAT " QOS=%s State=UP\n",
                          part, part, c->nodes, c->max_jobs_per_logical, wall, wall,
                          c->job_max_memory_mb, c->job_max_memory_mb, part);
  if (c->design != MN_DESIGN_DEDICATED)
    {
      /* Issue 19: interactive jobs share the batch nodes.  Slurm counts
       * OverSubscribe=FORCE:N in jobs per core, the batch job included;
       * memory stays a consumable, so a job starts only where the batch
       * jobs' --mem leaves its own: the model's headroom rule. */
      g_string_append_printf (out,
                              "PartitionName=%s-shared Nodes=batch[1-N] OverSubscribe=FORCE:%u "
                              "MaxTime=%s DefaultTime=%s DefMemPerNode=%" G_GUINT64_FORMAT
                              " MaxMemPerNode=%" G_GUINT64_FORMAT " QOS=%s State=UP\n",
                              part, c->max_extra_jobs + 1, wall, wall, c->job_max_memory_mb,
                              c->job_max_memory_mb, part);
    }
  end (out, "slurm.conf");

  /* Every logical node a typed lnode GRES of max_jobs units bound to its
   * socket's cores, and every GPU (and its shards) to the cores of the
   * logical node that owns it (GPU i: logical i / [logical_node] gpus).
   * One empty file per unit: Slurm 22.05 binds a GRES to its Cores= only
   * when it tracks the units by file (measured: a count-only lnode:l1 job,
   * with or without Flags=CountOnly, got socket 0's core when it also
   * asked for shards, and lecture jobs alternated sockets as if unbound). */
  begin (out, "gres.conf");
  for (guint l = 0; l < c->logical_per_node; l++)
    {
      g_autofree gchar *cores = logical_cores (c, l);

      if (c->max_jobs_per_logical == 1)
        g_string_append_printf (out, "NodeName=%s[1-%u] Name=%s Type=l%u File=%s/l%u-0 "
                                "Cores=%s\n", part, c->nodes, MN_POLICY_SLURM_LNODE, l,
                                MN_POLICY_SLURM_LNODE_DIR, l, cores);
      else
        g_string_append_printf (out, "NodeName=%s[1-%u] Name=%s Type=l%u File=%s/l%u-[0-%u] "
                                "Cores=%s\n", part, c->nodes, MN_POLICY_SLURM_LNODE, l,
                                MN_POLICY_SLURM_LNODE_DIR, l, c->max_jobs_per_logical - 1,
                                cores);
    }
  for (guint g = 0; gpus && g < c->node_gpus; g++)
    {
      guint l = MIN (g / c->logical_gpus, c->logical_per_node - 1);
      g_autofree gchar *cores = logical_cores (c, l);

      g_string_append_printf (out, "NodeName=%s[1-%u] Name=gpu File=/dev/nvidia%u Cores=%s\n",
                              part, c->nodes, g, cores);
      if (shards)
        g_string_append_printf (out, "NodeName=%s[1-%u] Name=shard Count=%u "
                                "File=/dev/nvidia%u Cores=%s\n", part, c->nodes,
                                shards_per_gpu (c), g, cores);
    }
  end (out, "gres.conf");

  /* The lnode GRES's files, on every interactive node (empty: Slurm only
   * needs them to exist; no job opens them). */
  begin (out, "lnode-files.sh");
  g_string_append_printf (out, "mkdir -p %s\n", MN_POLICY_SLURM_LNODE_DIR);
  for (guint l = 0; l < c->logical_per_node; l++)
    {
      g_string_append_printf (out, "touch");
      for (guint j = 0; j < c->max_jobs_per_logical; j++)
        g_string_append_printf (out, " %s/l%u-%u", MN_POLICY_SLURM_LNODE_DIR, l, j);
      g_string_append_c (out, '\n');
    }
  end (out, "lnode-files.sh");

  begin (out, "cgroup.conf");
  g_string_append (out, "ConstrainCores=yes\nConstrainRAMSpace=yes\n"
                   "ConstrainSwapSpace=yes\nAllowedSwapSpace=0\n");
  end (out, "cgroup.conf");

  /* Run against slurmdbd before slurmctld starts; every user also needs an
   * association (sacctmgr -i add user NAME account=ACCOUNT). */
  begin (out, "sacctmgr.sh");
  g_string_append_printf (out, "sacctmgr -i add qos %s\n", part);
  g_string_append_printf (out,
                          "sacctmgr -i modify qos %s set MaxJobsPerUser=%u "
                          "MaxSubmitJobsPerUser=%u MaxWall=%s "
                          "MaxTRESPerJob=cpu=%u,mem=%" G_GUINT64_FORMAT,
                          part, c->max_jobs_per_user, c->max_jobs_per_user, wall,
                          c->job_max_cores, c->job_max_memory_mb);
  if (gpus)
    g_string_append_printf (out, ",%s=%u", gpu_tres, gpu_units_per_job (c));
  g_string_append_c (out, '\n');
  end (out, "sacctmgr.sh");
  return g_string_free (out, FALSE);
}

gchar *
mn_policy_export_sge (const MnPolicyConfig *c)
{
  GString *out = g_string_new (NULL);
  g_autofree gchar *part = partition_name (c);
  g_autofree gchar *wall = mn_policy_format_hms (c->max_walltime);
  g_autofree gchar *vmem = mn_policy_format_size (c->job_max_memory_mb);
  g_autofree gchar *commit = mn_policy_format_size (c->node_memory_mb + c->node_swap_mb);
  guint slots = c->logical_per_node * c->max_jobs_per_logical;
  g_autofree gchar *memory_hint = NULL;

  g_string_append_printf (out,
                          "# minna policy for Grid Engine: queue %s on host group @%s "
                          "(%u nodes).\n"
                          "# Apply with qconf -Ahgrp, -Aq and -Arqs on the pieces below; "
                          "then add the\n# nodes in order, node 1 first: qconf -aattr hostgroup hostlist "
                          "HOST @%s\n"
                          "# slots = %u (%u logical nodes x %u jobs); one slot per job.\n",
                          c->queue_name, part, c->nodes, part, slots, c->logical_per_node,
                          c->max_jobs_per_logical);
  memory_hint = g_strdup_printf ("#   (for Grid Engine to check it too: make h_vmem "
                                 "consumable with qconf -mc and\n#   set complex_values "
                                 "h_vmem=%s on each exec host with qconf -me HOST)\n",
                                 commit);
  note_common (out, c, memory_hint,
               "# - placement: each job is submitted to its policy node's queue instance "
               "(qsub\n#   -q QUEUE@HOST; node i is the host group's i-th host, so add the "
               "hosts in\n#   node order); the logical node is not enforced.\n",
               "qrsh -now y / qsub -now y");
  g_string_append_printf (out,
                          "# - logical nodes: Grid Engine sees %u slots per host, not %u "
                          "groups of %u;\n#   per-job caps of %u cores are not enforced "
                          "by the queue.\n",
                          slots, c->logical_per_node, c->max_jobs_per_logical,
                          c->job_max_cores);
  if (has_gpus (c))
    g_string_append_printf (out,
                            "# - GPUs: the consumable complex '%s' below (add it to "
                            "qconf -sc, load with qconf -Mc),\n#   %u per host: "
                            "qconf -aattr exechost complex_values %s=%u HOST.  A job asks "
                            "%s\n#   (at most %u); the device is not chosen by the queue.\n",
                            uses_shards (c) ? "gpu_shard" : "gpu",
                            c->node_gpus * (uses_shards (c) ? shards_per_gpu (c) : 1),
                            uses_shards (c) ? "gpu_shard" : "gpu",
                            c->node_gpus * (uses_shards (c) ? shards_per_gpu (c) : 1),
                            c->gpu_mode == MN_GPU_MODE_CAPPED
                            ? "its GPU-memory reservation in shards of gpu_memory / max_jobs"
                            : uses_shards (c) ? "one shard per GPU it uses" : "whole GPUs",
                            gpu_units_per_job (c));
  g_string_append_printf (out,
                          "# - the per-user limit counts waiting jobs too; the quota "
                          "below counts running\n#   jobs only (max_u_jobs in "
                          "qconf -mconf is cluster-wide).\n");

  begin (out, "hostgroup");
  g_string_append_printf (out, "group_name @%s\nhostlist NONE\n", part);
  end (out, "hostgroup");

  begin (out, "queue_conf");
  g_string_append_printf (out,
                          "qname                 %s\n"
                          "hostlist              @%s\n",
                          c->queue_name, part);
  g_string_append (out,
                   "seq_no                0\n"
                   "load_thresholds       NONE\n"
                   "suspend_thresholds    NONE\n"
                   "nsuspend              1\n"
                   "suspend_interval      00:05:00\n"
                   "priority              0\n"
                   "min_cpu_interval      00:05:00\n"
                   "processors            UNDEFINED\n"
                   "qtype                 BATCH INTERACTIVE\n"
                   "ckpt_list             NONE\n"
                   "pe_list               NONE\n"
                   "rerun                 FALSE\n");
  g_string_append_printf (out, "slots                 %u\n", slots);
  g_string_append (out,
                   "tmpdir                /tmp\n"
                   "shell                 /bin/sh\n"
                   "prolog                NONE\n"
                   "epilog                NONE\n"
                   "shell_start_mode      posix_compliant\n"
                   "starter_method        NONE\n"
                   "suspend_method        NONE\n"
                   "resume_method         NONE\n"
                   "terminate_method      NONE\n"
                   "notify                00:00:60\n"
                   "owner_list            NONE\n"
                   "user_lists            NONE\n"
                   "xuser_lists           NONE\n"
                   "subordinate_list      NONE\n"
                   "complex_values        NONE\n"
                   "projects              NONE\n"
                   "xprojects             NONE\n"
                   "calendar              NONE\n"
                   "initial_state         default\n"
                   "s_rt                  INFINITY\n");
  g_string_append_printf (out, "h_rt                  %s\n", wall);
  g_string_append (out,
                   "s_cpu                 INFINITY\n"
                   "h_cpu                 INFINITY\n"
                   "s_fsize               INFINITY\n"
                   "h_fsize               INFINITY\n"
                   "s_data                INFINITY\n"
                   "h_data                INFINITY\n"
                   "s_stack               INFINITY\n"
                   "h_stack               INFINITY\n"
                   "s_core                INFINITY\n"
                   "h_core                INFINITY\n"
                   "s_rss                 INFINITY\n"
                   "h_rss                 INFINITY\n");
  g_string_append_printf (out, "s_vmem                %s\nh_vmem                %s\n",
                          vmem, vmem);
  end (out, "queue_conf");

  begin (out, "rqs");
  g_string_append_printf (out,
                          "{\n"
                          "   name         %s_per_user\n"
                          "   description  \"minna: max_jobs_per_user of %s\"\n"
                          "   enabled      TRUE\n"
                          "   limit        users {*} queues %s to slots=%u\n"
                          "}\n",
                          part, c->queue_name, c->queue_name, c->max_jobs_per_user);
  end (out, "rqs");

  if (has_gpus (c))
    {
      begin (out, "complex");
      g_string_append_printf (out, "%-10s %-10s INT <= YES YES 0 0\n",
                              uses_shards (c) ? "gpu_shard" : "gpu",
                              uses_shards (c) ? "gpu_shard" : "gpu");
      end (out, "complex");
    }
  return g_string_free (out, FALSE);
}
