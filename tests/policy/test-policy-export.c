/* test-policy-export.c: the Slurm and Grid Engine snippets hold the lines a
 * configuration implies, their BEGIN/END pieces are well formed and hold no
 * comments (so they can be handed to qconf / slurmctld as they stand), and
 * what a scheduler cannot express is said in a comment. */
#define G_LOG_DOMAIN "minna-policy-test"

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
                   "ThreadsPerCore=1 RealMemory=262144 Gres=gpu:4,shard:28 State=UNKNOWN");
  assert_has_line (conf, "PartitionName=interactive Nodes=interactive[1-4] "
                   "OverSubscribe=FORCE:7 SelectTypeParameters=CR_Socket "
                   "MaxTime=24:00:00 DefaultTime=24:00:00 DefMemPerNode=61440 "
                   "MaxMemPerNode=61440 QOS=interactive State=UP");
  /* Over-MaxTime jobs are refused, not left waiting forever. */
  assert_has_line (conf, "EnforcePartLimits=ALL");
  assert_has_line (acct, "sacctmgr -i add qos interactive");
  assert_has_line (acct, "sacctmgr -i modify qos interactive set MaxJobsPerUser=1 "
                   "MaxSubmitJobsPerUser=1 MaxWall=24:00:00 "
                   "MaxTRESPerJob=cpu=7,mem=61440,gres/shard=1");
  assert_has_line (g_hash_table_lookup (p, "gres.conf"), "Name=gpu File=/dev/nvidia[0-3]");
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

  g_assert_null (g_hash_table_lookup (p_cpu, "gres.conf"));
  g_assert_null (strstr (t_cpu, "Gres="));
  g_assert_nonnull (strstr (t_cpu, "idle_timeout = 2h"));
  g_assert_nonnull (strstr (t_cpu, "--immediate"));
  g_assert_nonnull (strstr (t_cpu, "PartitionName=cpu "));

  g_assert_null (strstr (t_excl, "shard"));
  g_assert_nonnull (strstr (t_excl, "Gres=gpu:4 State"));
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/export/slurm/default", test_slurm_default);
  g_test_add_func ("/policy/export/slurm/variants", test_slurm_variants);
  g_test_add_func ("/policy/export/sge/default", test_sge_default);
  g_test_add_func ("/policy/export/sge/variants", test_sge_variants);
  return g_test_run ();
}
