/* test-backend-args.c: the Slurm and Grid Engine backends submit exactly
 * the arguments of the policy's model (mn_policy_submit_args_slurm/_sge),
 * the ones its exports configure the scheduler for, for every GPU mode
 * (issue 14 item 4): GRES gpu or shard, memory, time, cores, give_up; and
 * both pin the job to the policy's node (Slurm --nodelist, Grid Engine the
 * queue instance QUEUE@HOST of the export's host group's N-th host).
 *
 * The scheduler's commands are fakes here (a unit test: what the backend
 * hands sbatch and qsub); tests/slurm and tests/sge submit the same to the
 * real schedulers. */
#define G_LOG_DOMAIN "test-backend-args"

#include "controller-test-util.h"
#include "mn-backend-sge.h"
#include "mn-backend-slurm.h"
#include "mn-controller-config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gchar *bin_dir;    /* fake sbatch, squeue, qsub, qstat, qconf */
static gchar *argv_file;  /* what the fake submitter was given, one argument a line */
static gchar *hostgroup_file;  /* what the fake qconf -shgrp_resolved prints; absent: it fails */
static gchar *qconf_file;      /* what the fake qconf was asked, a line a call */

static void
make_fakes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *record = NULL;
  bin_dir = g_dir_make_tmp ("minna-fake-sched-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (bin_dir, 0755), ==, 0);
  argv_file = g_build_filename (bin_dir, "argv", NULL);
  mn_test_write_file (argv_file, "", 0666);
  record = g_strdup_printf ("for a in \"$@\"; do printf '%%s\\n' \"$a\"; done > '%s'", argv_file);
  /* sbatch --parsable prints the id; squeue knows no job of this name */
  {
    g_autofree gchar *sbatch = g_strdup_printf ("%s\necho 42", record);
    mn_test_write_script (bin_dir, "sbatch", sbatch);
  }
  mn_test_write_script (bin_dir, "squeue", "exit 0");
  /* the partition's nodes, named otherwise than the export's placeholders */
  mn_test_write_script (bin_dir, "scontrol", "case \"$*\" in\n"
              "  '-o show partition=interactive') echo 'PartitionName=interactive"
              " AllowGroups=ALL Nodes=site[1-4] State=UP' ;;\n"
              "  'show hostnames site[1-4]') printf 'site1\\nsite2\\nsite3\\nsite4\\n' ;;\n"
              "  *) echo \"fake scontrol: $*\" >&2; exit 1 ;;\n"
              "esac");
  {
    g_autofree gchar *qsub = g_strdup_printf ("%s\necho 43", record);
    mn_test_write_script (bin_dir, "qsub", qsub);
  }
  mn_test_write_script (bin_dir, "qstat", "echo '<?xml version=\"1.0\"?><job_info><queue_info></queue_info>"
                       "<job_info></job_info></job_info>'");
  /* the queue's host group, as a test sets it; Grid Engine's own words when
   * the group does not exist */
  hostgroup_file = g_build_filename (bin_dir, "hostgroup", NULL);
  qconf_file = g_build_filename (bin_dir, "qconf-asked", NULL);
  {
    g_autofree gchar *qconf = g_strdup_printf ("echo \"$*\" >> '%s'\n"
                                               "[ -e '%s' ] && exec cat '%s'\n"
                                               "echo \"Host group \\\"$2\\\" does not exist\"\n"
                                               "exit 1", qconf_file, hostgroup_file,
                                               hostgroup_file);
    mn_test_write_script (bin_dir, "qconf", qconf);
  }
}

/* The fake qconf's host group: @hosts ("host1 host2"), NULL: qconf fails. */
static void
set_hostgroup (const gchar *hosts)
{
  g_unlink (qconf_file);
  if (hosts == NULL)
    g_unlink (hostgroup_file);
  else
    mn_test_write_file (hostgroup_file, hosts, 0644);
}

/* The arguments the fake got, without the backend's own (name, output,
 * directory, user, the script). */
static GPtrArray *
recorded (void)
{
  g_autofree gchar *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (g_file_get_contents (argv_file, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (lines[i]));
  return out;
}

static gboolean
contains_in_order (GPtrArray *args, const gchar *const *want)
{
  guint at = 0;
  for (gsize i = 0; want[i] != NULL; i++)
    {
      while (at < args->len && !g_str_equal (g_ptr_array_index (args, at), want[i]))
        at++;
      if (at == args->len)
        return FALSE;
      at++;
    }
  return TRUE;
}

typedef struct {
  const gchar *path;
  const gchar *keys;     /* interactive.conf GROUP.KEY=VALUE ... */
  guint        gpus;
  gboolean     give_up;
} Case;

static const Case cases[] = {
  { "/backend/args/shared", "job.gpu_mode=shared", 1, FALSE },
  { "/backend/args/capped", "job.gpu_mode=capped", 1, FALSE },
  { "/backend/args/capped-small", "job.gpu_mode=capped job.max_gpu_memory=5G", 1, TRUE },
  { "/backend/args/exclusive", "job.gpu_mode=exclusive", 1, TRUE },
  { "/backend/args/no-gpu", "job.gpu_mode=exclusive", 0, FALSE },
};

static MnPolicyConfig *
policy_of (const Case *c)
{
  MnPolicyConfig *p = mn_policy_config_new_default ();
  g_auto(GStrv) kv = g_strsplit (c->keys, " ", -1);
  for (gsize i = 0; kv[i] != NULL; i++)
    {
      g_auto(GStrv) gk = g_strsplit_set (kv[i], ".=", 3);
      g_autoptr(GError) error = NULL;
      g_assert_true (mn_policy_config_set (p, gk[0], gk[1], gk[2], &error));
      g_assert_no_error (error);
    }
  return p;
}

/* The allocation of the (@node + 1)-th job of an empty queue: the policy
 * spreads them, so it is on policy node @node. */
static void
allocation_on (const MnPolicyConfig *p, guint gpus, guint node, MnPolicyAllocation *a)
{
  g_autoptr(MnPolicyState) ps = mn_policy_state_new (p);
  MnDecision d = { 0 };
  for (guint64 id = 1; id <= node + 1; id++)
    {
      g_autofree gchar *user = g_strdup_printf ("u%" G_GUINT64_FORMAT, id);
      MnPolicyRequest r = { .job_id = id, .user = user, .cores = 2,
                            .memory_mb = 3000, .gpus = gpus, .walltime = 5400 };

      mn_decision_clear (&d);
      mn_policy_state_request (ps, &r, 0, &d);
      g_assert_cmpint (d.kind, ==, MN_DECISION_START);
    }
  g_assert_cmpuint (d.allocation.node, ==, node);
  *a = d.allocation;
  mn_decision_clear (&d);
}

/* the second job: another node than the first (node and logical node are
 * submitted) */
static void
allocation_of (const MnPolicyConfig *p, guint gpus, MnPolicyAllocation *a)
{
  allocation_on (p, gpus, 1, a);
}

static MnJobSpec
spec_of (const MnPolicyConfig *p, const MnPolicyAllocation *a, gboolean give_up)
{
  MnJobSpec s = {
    .session_id = "argscheck", .session_dir = "/tmp", .script = "/tmp/job.sh",
    .output = "/tmp/job.out", .unix_user = NULL, .cores = 2, .memory_mb = 3000,
    .walltime = 5400, .node = 0, .logical = 0, .give_up = give_up,
    .allocation = a, .policy = p,
  };
  return s;
}

static void
test_slurm (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(MnPolicyConfig) p = policy_of (c);
  MnBackendSlurmOptions o = { .partition = "interactive", .bin_dir = bin_dir,
                              .command_timeout = 10, .give_up_after = 1 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MnBackend) b = mn_backend_slurm_new (&o, &error);
  g_autoptr(GPtrArray) got = NULL;
  g_auto(GStrv) model = NULL;
  g_autofree gchar *export = mn_policy_export_slurm (p);
  g_autofree gchar *id = NULL;
  MnPolicyAllocation a;
  MnJobSpec spec;
  g_assert_no_error (error);
  allocation_of (p, c->gpus, &a);
  spec = spec_of (p, &a, FALSE);   /* give_up on Slurm waits on squeue: covered in tests/slurm */
  id = mn_backend_submit (b, &spec, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "42");
  got = recorded ();
  model = mn_policy_submit_args_slurm (p, &a);
  for (gsize i = 0; model[i] != NULL; i++)
    {
      g_test_message ("model: %s", model[i]);
      /* the export's node name becomes the site's: the partition's
       * (node + 1)-th node as Slurm lists them */
      if (g_str_has_prefix (model[i], "--nodelist="))
        {
          g_autofree gchar *site = g_strdup_printf ("--nodelist=site%u", a.node + 1);

          g_assert_cmpstr (model[i], ==, "--nodelist=interactive2");
          g_assert_true (g_ptr_array_find_with_equal_func (got, site, g_str_equal, NULL));
          continue;
        }
      g_assert_true (g_ptr_array_find_with_equal_func (got, model[i], g_str_equal, NULL));
    }
  /* the GRES it asks for is the one the export configures: its logical
   * node's, bound, and its gpu or shard GRES */
  {
    g_autofree gchar *lnode = g_strdup_printf ("--gres=lnode:l%u:1", a.logical);
    g_autofree gchar *conf = g_strdup_printf ("Name=lnode Type=l%u ", a.logical);
    gboolean found = FALSE;

    g_assert_nonnull (strstr (export, conf));
    g_assert_true (g_ptr_array_find_with_equal_func (got, "--gres-flags=enforce-binding",
                                                     g_str_equal, NULL));
    for (guint i = 0; i < got->len; i++)
      {
        const gchar *arg = g_ptr_array_index (got, i);

        if (!g_str_has_prefix (arg, "--gres="))
          continue;
        found = TRUE;
        g_assert_true (g_str_has_prefix (arg, lnode));
        if (c->gpus == 0)
          g_assert_cmpstr (arg, ==, lnode);
        else if (strstr (arg, ",shard:") != NULL)
          g_assert_nonnull (strstr (export, "Name=shard"));
        else
          {
            g_assert_nonnull (strstr (arg, ",gpu:"));
            g_assert_nonnull (strstr (export, "Name=gpu"));
          }
      }
    g_assert_true (found);
  }
}

static void
test_sge (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(MnPolicyConfig) p = policy_of (c);
  MnBackendSgeOptions o = { .queue = "interactive.q", .bin_dir = bin_dir,
                            .memory_resource = "h_vmem", .command_timeout = 10 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MnBackend) b = mn_backend_sge_new (&o, &error);
  g_autoptr(GPtrArray) got = NULL;
  g_auto(GStrv) model = NULL;
  g_autofree gchar *export = mn_policy_export_sge (p);
  g_autofree gchar *id = NULL;
  MnPolicyAllocation a;
  MnJobSpec spec;
  g_assert_no_error (error);
  set_hostgroup ("site1 site2");
  allocation_of (p, c->gpus, &a);
  spec = spec_of (p, &a, c->give_up);
  /* Grid Engine runs no job as root: as root, through runuser */
  if (geteuid () == 0)
    spec.unix_user = "nobody";
  id = mn_backend_submit (b, &spec, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "43");
  got = recorded ();
  model = mn_policy_submit_args_sge (p, &a, c->give_up);
  for (gsize i = 0; model[i] != NULL; i++)
    {
      g_test_message ("model: %s", model[i]);
      if (strstr (model[i], "gpu_shard=") != NULL)
        g_assert_nonnull (strstr (export, "gpu_shard"));
      /* the export's queue, pinned: the instance of the policy's node's
       * host, the (node + 1)-th of the export's host group */
      if (i > 0 && g_str_equal (model[i - 1], "-q"))
        {
          g_autofree gchar *instance = g_strdup_printf ("%s@site%u", model[i], a.node + 1);
          g_autofree gchar *group = NULL;
          g_autofree gchar *part = mn_policy_slurm_partition (p);

          g_assert_cmpstr (model[i], ==, "interactive.q");
          /* the export tells the admin so: the hosts in node order */
          g_assert_nonnull (strstr (export, "-q QUEUE@HOST; node i is the host group's i-th"));
          g_assert_nonnull (strstr (export, "nodes in order, node 1 first"));
          g_free (model[i]);
          model[i] = g_steal_pointer (&instance);
          group = g_strdup_printf ("group_name @%s\n", part);
          g_assert_nonnull (strstr (export, group));
          g_clear_pointer (&group, g_free);
          g_assert_true (g_file_get_contents (qconf_file, &group, NULL, NULL));
          g_assert_cmpstr (group, ==, "-shgrp_resolved @interactive\n");
        }
    }
  g_assert_true (contains_in_order (got, (const gchar *const *) model));
  if (c->give_up)
    g_assert_true (contains_in_order (got, (const gchar *[]) { "-now", "y", NULL }));
}

/* Grid Engine runs the job where the policy placed it: -q QUEUE@HOST, HOST
 * the (node + 1)-th of the queue's host group as qconf lists it; without
 * the host list (qconf fails) -q QUEUE, logged once with the reason. */
typedef struct {
  const gchar *path;
  const gchar *hosts;   /* the host group's; NULL: qconf fails */
  guint        node;    /* where the policy places the job */
  const gchar *queue;   /* -q's value */
  const gchar *logged;  /* pattern of the message; NULL: none */
} PinCase;

static const PinCase pin_cases[] = {
  { "/backend/args/sge-pin/node-0", "host1 host2\n", 0, "interactive.q@host1", NULL },
  { "/backend/args/sge-pin/node-1", "host1 host2\n", 1, "interactive.q@host2", NULL },
  { "/backend/args/sge-pin/unknown", NULL, 0, "interactive.q",
    "qsub -q interactive.q: not pinned to the policy's node (Grid Engine picks the host):"
    " the hosts of interactive.q are not known (its host group could not be read):"
    " qconf failed: *Host group \"@interactive\" does not exist" },
  { "/backend/args/sge-pin/past-hosts", "host1\n", 1, "interactive.q",
    "qsub -q interactive.q: not pinned to the policy's node (Grid Engine picks the host):"
    " the policy placed the job on node 1 (0-based), but the host group of interactive.q"
    " has 1 host: [queue] nodes must match its hosts" },
};

static void
test_sge_pin (gconstpointer data)
{
  const PinCase *c = data;
  g_autoptr(MnPolicyConfig) p = mn_policy_config_new_default ();
  MnBackendSgeOptions o = { .queue = "interactive.q", .bin_dir = bin_dir,
                            .command_timeout = 10 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MnBackend) b = mn_backend_sge_new (&o, &error);
  MnPolicyAllocation a;
  MnJobSpec spec;

  g_assert_no_error (error);
  set_hostgroup (c->hosts);
  allocation_on (p, 0, c->node, &a);
  spec = spec_of (p, &a, FALSE);
  if (geteuid () == 0)
    spec.unix_user = "nobody";
  /* twice: the reason is logged the first time only (a second message
   * would not match the sentinel expected after it, and fail) */
  for (guint round = 0; round < 2; round++)
    {
      g_autofree gchar *id = NULL;
      g_autoptr(GPtrArray) got = NULL;

      if (c->logged != NULL && round == 0)
        g_test_expect_message ("minna-controller", G_LOG_LEVEL_MESSAGE, c->logged);
      g_test_expect_message ("minna-controller", G_LOG_LEVEL_MESSAGE, "sentinel");
      id = mn_backend_submit (b, &spec, 0, &error);
      g_log ("minna-controller", G_LOG_LEVEL_MESSAGE, "sentinel");
      g_test_assert_expected_messages ();
      g_assert_no_error (error);
      g_assert_cmpstr (id, ==, "43");
      got = recorded ();
      g_assert_true (contains_in_order (got, (const gchar *[]) { "-q", c->queue, "-l", NULL }));
    }
}

static void
clean_up (void)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", bin_dir);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", bin_dir);
}

int
main (int argc, char **argv)
{
  int rc;
  g_test_init (&argc, &argv, NULL);
  make_fakes ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *slurm = g_strdup_printf ("%s/slurm", cases[i].path);
      g_autofree gchar *sge = g_strdup_printf ("%s/sge", cases[i].path);
      g_test_add_data_func (slurm, &cases[i], test_slurm);
      g_test_add_data_func (sge, &cases[i], test_sge);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (pin_cases); i++)
    g_test_add_data_func (pin_cases[i].path, &pin_cases[i], test_sge_pin);
  rc = g_test_run ();
  clean_up ();
  return rc;
}
