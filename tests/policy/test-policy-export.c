/* test-policy-export.c: the Slurm and Grid Engine snippets hold the lines a
 * configuration implies, their BEGIN/END pieces are well formed and hold no
 * comments (so they can be handed to qconf / slurmctld as they stand), and
 * what a scheduler cannot express is said in a comment. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <stdio.h>
#include <string.h>

#include "mn-policy-test-util.h"

/* Pieces between "# ---- BEGIN x ----" and "# ---- END x ----", by name. */
static GHashTable *
pieces_of (const gchar *text)
{
  GHashTable *pieces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree gchar *open = NULL;
  GString *body = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const gchar *l = lines[i];

      if (g_str_has_prefix (l, "# ---- BEGIN "))
        {
          g_assert_null (open);
          g_assert_true (g_str_has_suffix (l, " ----"));
          open = g_strndup (l + strlen ("# ---- BEGIN "),
                            strlen (l) - strlen ("# ---- BEGIN ") - strlen (" ----"));
          body = g_string_new (NULL);
        }
      else if (g_str_has_prefix (l, "# ---- END "))
        {
          g_autofree gchar *name = g_strdup_printf ("# ---- END %s ----", open);

          g_assert_nonnull (open);
          g_assert_cmpstr (l, ==, name);
          g_assert_false (g_hash_table_contains (pieces, open));
          g_hash_table_insert (pieces, g_steal_pointer (&open), g_string_free (body, FALSE));
          body = NULL;
        }
      else if (open != NULL)
        {
          /* Nothing but the daemon's own syntax inside a piece. */
          g_assert_false (l[0] == '#');
          g_assert_cmpuint (strlen (l), >, 0);
          g_string_append_printf (body, "%s\n", l);
        }
      else
        /* Outside the pieces: only comments and blank lines. */
        g_assert_true (l[0] == '\0' || l[0] == '#');
    }
  g_assert_null (open);
  return pieces;
}

static void
assert_has_line (const gchar *text, const gchar *line)
{
  g_autofree gchar *needle = g_strdup_printf ("\n%s\n", line);
  g_autofree gchar *padded = g_strdup_printf ("\n%s", text);

  if (strstr (padded, needle) == NULL)
    g_error ("missing line '%s' in:\n%s", line, text);
}

static void
test_slurm_default (void)
{
  g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();
  g_autofree gchar *text = mn_policy_export_slurm (c);
  g_autoptr (GHashTable) p = pieces_of (text);
  const gchar *conf = g_hash_table_lookup (p, "slurm.conf");
  const gchar *acct = g_hash_table_lookup (p, "sacctmgr.sh");

  g_assert_nonnull (conf);
  g_assert_nonnull (acct);
  g_assert_nonnull (g_hash_table_lookup (p, "gres.conf"));
  g_assert_nonnull (g_hash_table_lookup (p, "cgroup.conf"));
  assert_has_line (conf, "NodeName=interactive[1-4] Sockets=4 CoresPerSocket=7 "
                   "ThreadsPerCore=1 RealMemory=262144 Gres=lnode:l0:7,lnode:l1:7,lnode:l2:7,"
                   "lnode:l3:7,gpu:4,shard:28 State=UNKNOWN");
  assert_has_line (conf, "GresTypes=lnode,gpu,shard");
  assert_has_line (conf, "PartitionName=interactive Nodes=interactive[1-4] "
                   "OverSubscribe=FORCE:7 SelectTypeParameters=CR_Socket_Memory "
                   "MaxTime=24:00:00 DefaultTime=24:00:00 DefMemPerNode=61440 "
                   "MaxMemPerNode=61440 QOS=interactive State=UP");
  /* Over-MaxTime jobs are refused, not left waiting forever. */
  assert_has_line (conf, "EnforcePartLimits=ALL");
  /* memory is a consumable: only then is a job held to its --mem */
  assert_has_line (conf, "SelectTypeParameters=CR_Core_Memory");
  assert_has_line (acct, "sacctmgr -i add qos interactive");
  assert_has_line (acct, "sacctmgr -i modify qos interactive set MaxJobsPerUser=1 "
                   "MaxSubmitJobsPerUser=1 MaxWall=24:00:00 "
                   "MaxTRESPerJob=cpu=7,mem=61440,gres/shard=1");
  /* each logical node a GRES bound to its socket's cores, each GPU and its
   * shards bound to the cores of the logical node that owns it */
  assert_has_line (g_hash_table_lookup (p, "gres.conf"),
                   "NodeName=interactive[1-4] Name=lnode Type=l2 "
                   "File=/var/lib/minna/slurm-lnode/l2-[0-6] Cores=14-20");
  /* ... whose unit files the lnode-files.sh piece makes */
  assert_has_line (g_hash_table_lookup (p, "lnode-files.sh"),
                   "touch /var/lib/minna/slurm-lnode/l3-0 /var/lib/minna/slurm-lnode/l3-1 "
                   "/var/lib/minna/slurm-lnode/l3-2 /var/lib/minna/slurm-lnode/l3-3 "
                   "/var/lib/minna/slurm-lnode/l3-4 /var/lib/minna/slurm-lnode/l3-5 "
                   "/var/lib/minna/slurm-lnode/l3-6");
  assert_has_line (g_hash_table_lookup (p, "gres.conf"),
                   "NodeName=interactive[1-4] Name=gpu File=/dev/nvidia3 Cores=21-27");
  assert_has_line (g_hash_table_lookup (p, "gres.conf"),
                   "NodeName=interactive[1-4] Name=shard Count=7 File=/dev/nvidia3 Cores=21-27");
  /* What Slurm cannot do is said. */
  g_assert_nonnull (strstr (text, "RAM + swap (1792G)"));
  g_assert_null (strstr (text, "idle_timeout"));
}

static void
test_slurm_variants (void)
{
  g_autoptr (MnPolicyConfig) cpu = mn_test_config ("node.gpus=0 logical_node.gpus=0 "
                                                   "job.max_gpus=0 queue.idle_timeout=2h "
                                                   "queue.if_busy=give_up queue.name=cpu");
  g_autoptr (MnPolicyConfig) excl = mn_test_config ("job.gpu_mode=exclusive queue.max_walltime=36h");
  g_autoptr (MnPolicyConfig) capped = mn_test_config ("job.gpu_mode=capped");
  g_autofree gchar *t_cpu = mn_policy_export_slurm (cpu);
  g_autofree gchar *t_excl = mn_policy_export_slurm (excl);
  g_autofree gchar *t_capped = mn_policy_export_slurm (capped);
  g_autoptr (GHashTable) p_cpu = pieces_of (t_cpu);
  g_autoptr (GHashTable) p_excl = pieces_of (t_excl);
  g_autoptr (GHashTable) p_capped = pieces_of (t_capped);

  /* without GPUs the logical nodes' GRES alone */
  g_assert_null (strstr (g_hash_table_lookup (p_cpu, "gres.conf"), "Name=gpu"));
  g_assert_null (strstr (t_cpu, "Name=shard"));
  g_assert_null (strstr (t_cpu, ",shard:"));
  g_assert_nonnull (strstr (t_cpu, " Gres=lnode:l0:7,lnode:l1:7,lnode:l2:7,lnode:l3:7 State"));
  g_assert_nonnull (strstr (t_cpu, "GresTypes=lnode\n"));
  g_assert_nonnull (strstr (t_cpu, "idle_timeout = 2h"));
  g_assert_nonnull (strstr (t_cpu, "--immediate"));
  g_assert_nonnull (strstr (t_cpu, "PartitionName=cpu "));

  g_assert_null (strstr (t_excl, "Name=shard"));
  g_assert_null (strstr (t_excl, ",shard:"));
  g_assert_nonnull (strstr (t_excl, ",gpu:4 State"));
  g_assert_nonnull (strstr (t_excl, ",gres/gpu=1\n"));
  g_assert_nonnull (strstr (t_excl, "MaxTime=36:00:00"));

  g_assert_nonnull (strstr (t_capped, "no per-job GPU-memory cap (16G)"));
}

static void
test_sge_default (void)
{
  g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();
  g_autofree gchar *text = mn_policy_export_sge (c);
  g_autoptr (GHashTable) p = pieces_of (text);
  const gchar *q = g_hash_table_lookup (p, "queue_conf");
  const gchar *rqs = g_hash_table_lookup (p, "rqs");
  const gchar *hg = g_hash_table_lookup (p, "hostgroup");

  g_assert_nonnull (q);
  g_assert_nonnull (rqs);
  g_assert_nonnull (hg);
  assert_has_line (hg, "group_name @interactive");
  assert_has_line (q, "qname                 interactive.q");
  assert_has_line (q, "hostlist              @interactive");
  assert_has_line (q, "qtype                 BATCH INTERACTIVE");
  assert_has_line (q, "slots                 28");
  assert_has_line (q, "h_rt                  24:00:00");
  assert_has_line (q, "h_vmem                60G");
  assert_has_line (q, "s_vmem                60G");
  assert_has_line (rqs, "   limit        users {*} queues interactive.q to slots=1");
  /* A complete queue_conf: every attribute qconf -sq prints. */
  {
    g_auto (GStrv) lines = g_strsplit (q, "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), ==, 50 + 1);
  }
  g_assert_nonnull (strstr (text, "h_vmem=1792G"));
}

static void
test_sge_variants (void)
{
  g_autoptr (MnPolicyConfig) c = mn_test_config ("queue.max_jobs_per_user=3 "
                                                 "logical_node.max_jobs=5 "
                                                 "queue.max_walltime=90m "
                                                 "job.max_memory=1536M "
                                                 "queue.idle_timeout=30m");
  g_autofree gchar *text = mn_policy_export_sge (c);
  g_autoptr (GHashTable) p = pieces_of (text);

  assert_has_line (g_hash_table_lookup (p, "queue_conf"), "slots                 20");
  assert_has_line (g_hash_table_lookup (p, "queue_conf"), "h_rt                  1:30:00");
  assert_has_line (g_hash_table_lookup (p, "queue_conf"), "h_vmem                1536M");
  assert_has_line (g_hash_table_lookup (p, "rqs"),
                   "   limit        users {*} queues interactive.q to slots=3");
  g_assert_nonnull (strstr (text, "idle_timeout = 30m"));
}


/* ---- The exports and the submit arguments agree ----------------------------- */

/* The value of KEY= in the first line of @text holding @line_prefix. */
static gchar *
setting (const gchar *text, const gchar *line_prefix, const gchar *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree gchar *k = g_strdup_printf ("%s=", key);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) words = NULL;

      if (!g_str_has_prefix (lines[i], line_prefix))
        continue;
      words = g_strsplit_set (lines[i], " ,", -1);
      for (guint w = 0; words[w] != NULL; w++)
        if (g_str_has_prefix (words[w], k))
          return g_strdup (words[w] + strlen (k));
    }
  return NULL;
}

/* The value of KEY= on the first line of @text that holds @word, or NULL. */
static gchar *
gres_line_value (const gchar *text, const gchar *word, const gchar *key)
{
  g_auto (GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  g_autofree gchar *k = g_strdup_printf ("%s=", key);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) words = NULL;

      if (strstr (lines[i], word) == NULL)
        continue;
      words = g_strsplit (lines[i], " ", -1);
      for (guint w = 0; words[w] != NULL; w++)
        if (g_str_has_prefix (words[w], k))
          return g_strdup (words[w] + strlen (k));
    }
  return NULL;
}

static gint64
hms_seconds (const gchar *text)
{
  gint64 d = 0, h = 0, m = 0, s = 0;
  const gchar *dash = strchr (text, '-');

  if (dash != NULL)
    {
      d = g_ascii_strtoll (text, NULL, 10);
      text = dash + 1;
    }
  g_assert_cmpint (sscanf (text, "%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                           &h, &m, &s), ==, 3);
  return d * 86400 + h * 3600 + m * 60 + s;
}

static const gchar *
arg_value (GStrv args, const gchar *prefix)
{
  for (guint i = 0; args[i] != NULL; i++)
    if (g_str_has_prefix (args[i], prefix))
      return args[i] + strlen (prefix);
  return NULL;
}

typedef struct {
  const gchar *path;
  const gchar *config;
} AgreeCase;

static const AgreeCase agree_cases[] = {
  { "/policy/export/agree/shared", "job.gpu_mode=shared" },
  { "/policy/export/agree/capped", "job.gpu_mode=capped" },
  { "/policy/export/agree/exclusive", "job.gpu_mode=exclusive" },
  { "/policy/export/agree/capped-small-cap", "job.gpu_mode=capped job.max_gpu_memory=5G" },
  { "/policy/export/agree/two-gpus-capped",
    "job.gpu_mode=capped logical_node.per_node=2 logical_node.cores=14 logical_node.gpus=2 "
    "logical_node.memory=128G job.max_gpus=2 job.max_gpu_memory=32G" },
  { "/policy/export/agree/two-gpus-exclusive",
    "job.gpu_mode=exclusive logical_node.per_node=2 logical_node.cores=14 logical_node.gpus=2 "
    "logical_node.memory=128G job.max_gpus=2 job.max_gpu_memory=32G" },
  { "/policy/export/agree/no-gpus",
    "node.gpus=0 logical_node.gpus=0 job.max_gpus=0 job.max_gpu_memory=0" },
};

/* Jobs from the smallest to the largest each cap allows. */
static void
agree_jobs (const MnPolicyConfig *c, GArray *out)
{
  for (guint gpus = 0; gpus <= c->job_max_gpus; gpus++)
    for (guint k = 0; k < 4; k++)
      {
        guint64 gmem[] = { 0, 1, c->job_max_gpu_memory_mb / 3 + 1, c->job_max_gpu_memory_mb };
        MnPolicyRequest r = { .job_id = out->len + 1, .user = "u",
                              .cores = k == 3 ? c->job_max_cores : 1,
                              .memory_mb = k == 3 ? 0 : 1024 * (k + 1),
                              .gpus = gpus, .gpu_memory_mb = gpus > 0 ? gmem[k] : 0,
                              .walltime = k == 3 ? 0 : 3600 * (k + 1) + 17 };
        MnPolicyAllocation a;

        /* on every node and logical node in turn: the placement is submitted */
        mn_policy_allocation_compute (c, &r, out->len % c->nodes, out->len % c->logical_per_node,
                                      0, 0, &a);
        g_array_append_val (out, a);
      }
}

static void
test_agree_slurm (const MnPolicyConfig *c, GArray *jobs)
{
  g_autofree gchar *text = mn_policy_export_slurm (c);
  g_autoptr (GHashTable) p = pieces_of (text);
  const gchar *conf = g_hash_table_lookup (p, "slurm.conf");
  const gchar *acct = g_hash_table_lookup (p, "sacctmgr.sh");
  const gchar *gres_conf = g_hash_table_lookup (p, "gres.conf");
  g_autofree gchar *part = setting (conf, "PartitionName=", "PartitionName");
  g_autofree gchar *max_time = setting (conf, "PartitionName=", "MaxTime");
  g_autofree gchar *max_mem = setting (conf, "PartitionName=", "MaxMemPerNode");
  g_autofree gchar *gres_types = g_strdup (strstr (conf, "GresTypes="));
  g_autofree gchar *tres_cpu = setting (acct, "sacctmgr -i modify", "MaxTRESPerJob=cpu");
  g_autofree gchar *tres_shard = setting (acct, "sacctmgr -i modify", "gres/shard");
  g_autofree gchar *tres_gpu = setting (acct, "sacctmgr -i modify", "gres/gpu");
  g_autofree gchar *node_gres = g_strdup (strstr (conf, " Gres="));
  g_autofree gchar *shard_per_gpu = gres_line_value (gres_conf, "Name=shard", "Count");
  g_autofree gchar *shard_count = shard_per_gpu == NULL ? NULL
    : g_strdup_printf ("%" G_GUINT64_FORMAT,
                       g_ascii_strtoull (shard_per_gpu, NULL, 10) * c->node_gpus);

  g_assert_nonnull (part);
  for (guint i = 0; i < jobs->len; i++)
    {
      const MnPolicyAllocation *a = &g_array_index (jobs, MnPolicyAllocation, i);
      g_auto (GStrv) args = mn_policy_submit_args_slurm (c, a);
      const gchar *all_gres = arg_value (args, "--gres=");
      const gchar *gres = strchr (all_gres, ',') ? strchr (all_gres, ',') + 1 : NULL;
      g_autofree gchar *want_part = mn_policy_slurm_partition (c);
      g_autofree gchar *want_node = mn_policy_slurm_node_name (c, a->node);
      g_autofree gchar *lnode = g_strdup_printf ("lnode:l%u:", a->logical);
      g_autofree gchar *lnode_type = g_strdup_printf ("Type=l%u", a->logical);
      g_autofree gchar *lnode_cores = gres_line_value (gres_conf, lnode_type, "Cores");
      g_autofree gchar *cpus = mn_policy_allocation_cpu_list (a);

      g_assert_cmpstr (arg_value (args, "--partition="), ==, part);
      g_assert_cmpstr (want_part, ==, part);
      g_assert_cmpint (hms_seconds (arg_value (args, "--time=")), ==, a->walltime);
      g_assert_cmpint (hms_seconds (arg_value (args, "--time=")), <=, hms_seconds (max_time));
      g_assert_cmpuint (g_ascii_strtoull (arg_value (args, "--mem="), NULL, 10), ==, a->memory_max_mb);
      g_assert_cmpuint (g_ascii_strtoull (arg_value (args, "--mem="), NULL, 10), <=,
                        g_ascii_strtoull (max_mem, NULL, 10));
      g_assert_cmpuint (g_ascii_strtoull (arg_value (args, "--cpus-per-task="), NULL, 10), ==, a->cores);
      g_assert_cmpuint (a->cores, <=, g_ascii_strtoull (tres_cpu, NULL, 10));
      /* The placement: the policy's node (one of the export's), one unit of
       * its logical node's GRES, bound to that logical node's cores, with
       * binding enforced; its GPUs bound to the same cores. */
      g_assert_cmpstr (arg_value (args, "--nodelist="), ==, want_node);
      g_assert_cmpuint (g_ascii_strtoull (want_node + strlen (part), NULL, 10), >=, 1);
      g_assert_cmpuint (g_ascii_strtoull (want_node + strlen (part), NULL, 10), <=, c->nodes);
      g_assert_true (g_str_has_prefix (all_gres, lnode));
      g_assert_cmpuint (g_ascii_strtoull (all_gres + strlen (lnode), NULL, 10), ==, 1);
      g_assert_cmpstr (arg_value (args, "--gres-flags="), ==, "enforce-binding");
      {
        g_autofree gchar *units = g_strdup_printf ("%s%u", lnode, c->max_jobs_per_logical);

        g_assert_nonnull (strstr (node_gres, units));
      }
      g_assert_cmpstr (lnode_cores, ==, cpus);
      for (guint g = 0; g < MN_POLICY_MAX_GPUS; g++)
        if (a->gpu_mask & (G_GUINT64_CONSTANT (1) << g))
          {
            g_autofree gchar *file = g_strdup_printf ("File=/dev/nvidia%u ", g);
            g_autofree gchar *gpu_cores = gres_line_value (gres_conf, file, "Cores");

            g_assert_cmpstr (gpu_cores, ==, cpus);
          }
      if (a->gpus == 0)
        {
          g_assert_null (gres);
          continue;
        }
      g_assert_nonnull (gres);
      g_assert_nonnull (gres_types);
      if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
        {
          /* Whole GPUs, as many as the policy gives, within the QOS. */
          g_assert_cmpuint (g_ascii_strtoull (gres + strlen ("gpu:"), NULL, 10), ==, a->gpus);
          g_assert_true (g_str_has_prefix (gres, "gpu:"));
          g_assert_null (strstr (gres_types, "shard"));
          g_assert_cmpuint (a->gpus, <=, g_ascii_strtoull (tres_gpu, NULL, 10));
        }
      else
        {
          guint64 units;

          g_assert_true (g_str_has_prefix (gres, "shard:"));
          g_assert_nonnull (strstr (gres_types, "shard"));
          g_assert_nonnull (shard_count);
          g_assert_nonnull (strstr (node_gres, "shard:"));
          units = g_ascii_strtoull (gres + strlen ("shard:"), NULL, 10);
          g_assert_cmpuint (units, >=, a->gpus);
          g_assert_cmpuint (units, <=, g_ascii_strtoull (tres_shard, NULL, 10));
          g_assert_cmpuint (units, <=, g_ascii_strtoull (shard_count, NULL, 10));
          /* binding: its shards come from its logical node's GPUs */
          g_assert_cmpuint (units, <=, g_ascii_strtoull (shard_per_gpu, NULL, 10) * c->logical_gpus);
          if (c->gpu_mode == MN_GPU_MODE_SHARED)
            g_assert_cmpuint (units, ==, a->gpus);
          else
            {
              /* Capped: the shards hold at least the reservation, and at most
               * one shard more; Slurm then never fits more such jobs on a GPU
               * than the policy's reservations do. */
              guint64 per_gpu = g_ascii_strtoull (shard_per_gpu, NULL, 10);

              g_assert_cmpuint (units * c->gpu_memory_mb, >=, a->gpu_memory_reserved_mb * per_gpu);
              if (units > a->gpus)
                g_assert_cmpuint ((units - 1) * c->gpu_memory_mb, <,
                                  a->gpu_memory_reserved_mb * per_gpu);
              if (a->gpus == 1)
                g_assert_cmpuint (per_gpu / units, <=,
                                  c->gpu_memory_mb / MAX (a->gpu_memory_reserved_mb, 1));
            }
        }
    }
}

static void
test_agree_sge (const MnPolicyConfig *c, GArray *jobs)
{
  g_autofree gchar *text = mn_policy_export_sge (c);
  g_autoptr (GHashTable) p = pieces_of (text);
  const gchar *q = g_hash_table_lookup (p, "queue_conf");
  const gchar *complex = g_hash_table_lookup (p, "complex");
  g_auto (GStrv) qlines = g_strsplit (q, "\n", -1);
  const gchar *qname = NULL, *h_rt = NULL, *h_vmem = NULL;
  guint64 vmem_mb;

  for (guint i = 0; qlines[i] != NULL; i++)
    {
      g_auto (GStrv) w = g_strsplit_set (qlines[i], " ", 2);

      if (w[0] == NULL || w[1] == NULL)
        continue;
      if (g_str_equal (w[0], "qname"))
        qname = g_intern_string (g_strstrip (w[1]));
      else if (g_str_equal (w[0], "h_rt"))
        h_rt = g_intern_string (g_strstrip (w[1]));
      else if (g_str_equal (w[0], "h_vmem"))
        h_vmem = g_intern_string (g_strstrip (w[1]));
    }
  g_assert_nonnull (qname);
  g_assert_nonnull (h_rt);
  g_assert_nonnull (h_vmem);
  vmem_mb = g_str_has_suffix (h_vmem, "G") ? g_ascii_strtoull (h_vmem, NULL, 10) * 1024
            : g_ascii_strtoull (h_vmem, NULL, 10);
  for (guint i = 0; i < jobs->len; i++)
    {
      const MnPolicyAllocation *a = &g_array_index (jobs, MnPolicyAllocation, i);
      g_auto (GStrv) args = mn_policy_submit_args_sge (c, a, i % 2 == 0);
      g_autofree gchar *res = NULL;
      g_autofree gchar *rt = NULL;
      g_autofree gchar *vm = NULL;
      g_autofree gchar *gpu = NULL;
      g_autofree gchar *shard = NULL;
      guint n = g_strv_length (args);

      g_assert_cmpstr (args[0], ==, "-q");
      g_assert_cmpstr (args[1], ==, qname);
      g_assert_cmpstr (args[n - 2], ==, "-l");
      g_assert_cmpint (g_strv_contains ((const gchar *const *) args, "-now"), ==, i % 2 == 0);
      res = g_strdup_printf ("X %s", args[n - 1]);
      rt = setting (res, "X", "h_rt");
      vm = setting (res, "X", "h_vmem");
      gpu = setting (res, "X", "gpu");
      shard = setting (res, "X", "gpu_shard");
      g_assert_cmpint (hms_seconds (rt), ==, a->walltime);
      g_assert_cmpint (hms_seconds (rt), <=, hms_seconds (h_rt));
      g_assert_cmpuint (g_ascii_strtoull (vm, NULL, 10), ==, a->memory_swap_max_mb);
      g_assert_cmpuint (g_ascii_strtoull (vm, NULL, 10), <=, vmem_mb);
      if (a->gpus == 0)
        {
          g_assert_null (gpu);
          g_assert_null (shard);
          continue;
        }
      g_assert_nonnull (complex);
      if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
        {
          g_assert_null (shard);
          g_assert_cmpuint (g_ascii_strtoull (gpu, NULL, 10), ==, a->gpus);
          g_assert_true (g_str_has_prefix (complex, "gpu "));
        }
      else
        {
          /* The same units as Slurm's shards. */
          g_autofree gchar *sgres = mn_policy_slurm_gres (c, a);
          g_autofree gchar *per_host = g_strdup_printf ("complex_values gpu_shard=%u",
                                                        c->node_gpus * c->max_jobs_per_logical);

          g_assert_null (gpu);
          g_assert_cmpstr (shard, ==, sgres + strlen ("shard:"));
          g_assert_true (g_str_has_prefix (complex, "gpu_shard "));
          g_assert_nonnull (strstr (text, per_host));
        }
    }
}

static void
test_agree (gconstpointer data)
{
  const AgreeCase *ac = data;
  g_autoptr (MnPolicyConfig) c = mn_test_config (ac->config);
  g_autoptr (GArray) jobs = g_array_new (FALSE, FALSE, sizeof (MnPolicyAllocation));

  agree_jobs (c, jobs);
  g_assert_cmpuint (jobs->len, >=, 4);
  test_agree_slurm (c, jobs);
  test_agree_sge (c, jobs);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/export/slurm/default", test_slurm_default);
  g_test_add_func ("/policy/export/slurm/variants", test_slurm_variants);
  g_test_add_func ("/policy/export/sge/default", test_sge_default);
  g_test_add_func ("/policy/export/sge/variants", test_sge_variants);
  for (gsize i = 0; i < G_N_ELEMENTS (agree_cases); i++)
    g_test_add_data_func (agree_cases[i].path, &agree_cases[i], test_agree);
  return g_test_run ();
}
