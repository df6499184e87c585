/* test-backend-node.c: a running job on a compute node its scheduler cannot
 * reach is unknown, never ended, never running (issue 17: a compute node cut
 * off).  Slurm says so with sinfo --dead (the node "not responding"), Grid
 * Engine with qstat's queue instance state u (unheard within max_unheard).
 *
 * The scheduler's commands are fakes here, printing what the real ones
 * print in those states; tests/cluster cuts a real node's link under real
 * Slurm and Grid Engine.  Also: a running job's start is the scheduler's
 * own, and the Grid Engine backend runs the cell's own clients. */
#define G_LOG_DOMAIN "test-backend-node"

#include "controller-test-util.h"
#include "mn-backend-sge.h"
#include "mn-backend-slurm.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const gchar *path;
  const gchar *sched;       /* slurm | sge */
  const gchar *down;        /* Slurm: sinfo --dead's lines; SGE: unheard queue instances */
  gboolean     query_fails; /* sinfo --dead / qstat -f fails */
  MnJobState   want;
  const gchar *want_in_message;
} Case;

static const Case cases[] = {
  { "/backend/node/slurm/responding", "slurm", "", FALSE, MN_JOB_RUNNING, NULL },
  { "/backend/node/slurm/not-responding", "slurm", "interactive1", FALSE, MN_JOB_UNKNOWN,
    "node interactive1 does not respond" },
  { "/backend/node/slurm/other-node-down", "slurm", "interactive2\nn1", FALSE, MN_JOB_RUNNING, NULL },
  { "/backend/node/slurm/sinfo-fails", "slurm", "", TRUE, MN_JOB_RUNNING, NULL },
  { "/backend/node/sge/heard", "sge", "", FALSE, MN_JOB_RUNNING, NULL },
  { "/backend/node/sge/unheard", "sge", "interactive.q@cn1", FALSE, MN_JOB_UNKNOWN,
    "execution host cn1 is not heard from" },
  { "/backend/node/sge/other-host-unheard", "sge", "interactive.q@cn2", FALSE, MN_JOB_RUNNING, NULL },
  { "/backend/node/sge/qstat-f-fails", "sge", "", TRUE, MN_JOB_RUNNING, NULL },
};

static void
fake_slurm (const gchar *dir, const Case *c)
{
  g_autofree gchar *sinfo = NULL;
  g_autofree gchar *dead = c->query_fails ? g_strdup ("echo 'sinfo: error: something' >&2; exit 1")
                                          : g_strdup_printf ("printf '%%s\\n' '%s'", c->down);
  mn_test_write_script (dir, "sbatch", "exit 1");   /* the backend checks they are there */
  mn_test_write_script (dir, "scancel", "exit 1");
  mn_test_write_script (dir, "sacct", "exit 1");
  /* job 7 runs on interactive1 (NodeAddr 10.213.0.11) */
  mn_test_write_script (dir, "squeue", "echo '7|RUNNING|None|2026-12-07T04:00:00|interactive1'");
  sinfo = g_strdup_printf (
    "case \" $* \" in\n"
    "  *' --dead '*) echo asked >> '%s/asked'; %s ;;\n"
    "  *) printf 'interactive1|10.213.0.11\\ninteractive2|10.213.0.12\\n' ;;\n"
    "esac", dir, dead);
  mn_test_write_script (dir, "sinfo", sinfo);
}

static void
fake_sge (const gchar *dir, const Case *c)
{
  g_autofree gchar *qstat = NULL;
  g_autofree gchar *queues = g_strdup ("");
  g_autofree gchar *unheard = NULL;
  if (c->down[0] != '\0')
    {
      g_free (queues);
      /* a running job listed inside its queue instance must not be taken
       * for the instance (its own state and queue name elements) */
      queues = g_strdup_printf ("<Queue-List><name>%s</name><qtype>BIP</qtype>"
                                "<slots_used>1</slots_used><state>au</state>"
                                "<job_list state=\"running\"><JB_job_number>43</JB_job_number>"
                                "<state>r</state><queue_name>%s</queue_name></job_list>"
                                "</Queue-List>", c->down, c->down);
    }
  mn_test_write_script (dir, "qsub", "exit 1");     /* the backend checks they are there */
  mn_test_write_script (dir, "qdel", "exit 1");
  mn_test_write_script (dir, "qacct", "exit 1");
  unheard = c->query_fails
    ? g_strdup ("echo 'error: failed receiving gdi request' >&2; exit 1")
    : g_strdup_printf ("echo '<?xml version=\"1.0\"?><job_info><queue_info>%s"
                       "</queue_info><job_info></job_info></job_info>'", queues);
  qstat = g_strdup_printf (
    "case \" $* \" in\n"
    "  *' -f '*) echo asked >> '%s/asked'; %s ;;\n"
    "  *) echo '<?xml version=\"1.0\"?><job_info><queue_info><job_list state=\"running\">"
    "<JB_job_number>43</JB_job_number><JB_name>minna-x</JB_name><state>r</state>"
    "<JAT_start_time>2026-12-07T04:00:00</JAT_start_time>"
    "<queue_name>interactive.q@cn1</queue_name></job_list></queue_info>"
    "<job_info></job_info></job_info>' ;;\n"
    "esac", dir, unheard);
  mn_test_write_script (dir, "qstat", qstat);
}

static void
test_node (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("minna-fake-node-XXXXXX", &error);
  g_autoptr(MnBackend) b = NULL;
  g_autoptr(GHashTable) st = NULL;
  const gchar *id = g_str_equal (c->sched, "slurm") ? "7" : "43";
  const gchar *ids[] = { id, NULL };
  const MnJobStatus *js;
  g_autofree gchar *rm = NULL;
  g_assert_no_error (error);
  if (g_str_equal (c->sched, "slurm"))
    {
      MnBackendSlurmOptions o = { .bin_dir = dir, .command_timeout = 10 };
      fake_slurm (dir, c);
      b = mn_backend_slurm_new (&o, &error);
    }
  else
    {
      MnBackendSgeOptions o = { .queue = "interactive.q", .bin_dir = dir,
                                .memory_resource = "h_vmem", .command_timeout = 10 };
      fake_sge (dir, c);
      b = mn_backend_sge_new (&o, &error);
    }
  g_assert_no_error (error);
  st = mn_backend_poll (b, ids, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (st);
  js = g_hash_table_lookup (st, id);
  g_assert_nonnull (js);
  g_test_message ("state %d, message %s, node %s", js->state, js->message, js->node);
  g_assert_cmpint (js->state, ==, c->want);
  if (c->want_in_message != NULL)
    g_assert_nonnull (strstr (js->message, c->want_in_message));
  if (c->want == MN_JOB_RUNNING)
    {
      /* the scheduler's own start (local time), not the poll's */
      g_autoptr(GDateTime) t = g_date_time_new_local (2026, 12, 7, 4, 0, 0);
      g_assert_cmpstr (js->node, ==, g_str_equal (c->sched, "slurm") ? "10.213.0.11" : "cn1");
      if (g_str_equal (c->sched, "sge"))
        g_assert_cmpint (js->started, ==, g_date_time_to_unix (t));
    }
  /* asked again within 10 s: the last answer, not one more command */
  {
    g_autoptr(GHashTable) again = mn_backend_poll (b, ids, 0, &error);
    g_autofree gchar *asked_path = g_build_filename (dir, "asked", NULL);
    g_autofree gchar *asked = NULL;
    g_assert_no_error (error);
    g_assert_cmpint (((MnJobStatus *) g_hash_table_lookup (again, id))->state, ==, c->want);
    g_assert_true (g_file_get_contents (asked_path, &asked, NULL, NULL));
    g_assert_cmpstr (asked, ==, "asked\n");
  }
  rm = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (rm), ==, 0);
}

/* With no bin_dir and the cell named, the backend runs Grid Engine's own
 * clients from $SGE_ROOT/bin/ARCH, the architecture asked once
 * ($SGE_ROOT/util/arch) and handed to them as SGE_ARCH: not Debian's wrapper
 * in PATH, which runs util/arch twice on every call. */
static void
test_sge_cell_clients (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *root = g_dir_make_tmp ("minna-fake-sge-root-XXXXXX", &error);
  g_autofree gchar *util = g_build_filename (root, "util", NULL);
  g_autofree gchar *bin = g_build_filename (root, "bin", "lx-fake", NULL);
  g_autofree gchar *arch = NULL, *qstat = NULL, *asked = NULL, *said = NULL, *describe = NULL;
  g_autofree gchar *asked_path = NULL, *said_path = NULL, *rm = NULL;
  g_autoptr(MnBackend) b = NULL;
  g_autoptr(GHashTable) st = NULL;
  const gchar *ids[] = { "43", NULL };
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (util, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
  asked_path = g_build_filename (root, "arch-asked", NULL);
  said_path = g_build_filename (root, "qstat-env", NULL);
  arch = g_strdup_printf ("echo asked >> '%s'; echo lx-fake", asked_path);
  mn_test_write_script (util, "arch", arch);
  mn_test_write_script (bin, "qsub", "exit 1");
  mn_test_write_script (bin, "qdel", "exit 1");
  mn_test_write_script (bin, "qacct", "exit 1");
  qstat = g_strdup_printf (
    "echo \"$SGE_ROOT $SGE_CELL $SGE_ARCH\" >> '%s'\n"
    "case \" $* \" in\n"
    "  *' -f '*) echo '<?xml version=\"1.0\"?><job_info><queue_info></queue_info></job_info>' ;;\n"
    "  *) echo '<?xml version=\"1.0\"?><job_info><queue_info><job_list state=\"running\">"
    "<JB_job_number>43</JB_job_number><JB_name>minna-x</JB_name><state>r</state>"
    "<JAT_start_time>2026-12-07T04:00:00.519</JAT_start_time>"
    "<queue_name>interactive.q@cn1</queue_name></job_list></queue_info>"
    "<job_info></job_info></job_info>' ;;\n"
    "esac", said_path);
  mn_test_write_script (bin, "qstat", qstat);
  {
    MnBackendSgeOptions o = { .queue = "interactive.q", .sge_root = root, .sge_cell = "minna",
                              .command_timeout = 10 };
    b = mn_backend_sge_new (&o, &error);
  }
  g_assert_no_error (error);
  describe = mn_backend_describe (b);
  g_assert_nonnull (strstr (describe, bin));
  for (guint i = 0; i < 2; i++)
    {
      const MnJobStatus *js;
      g_autoptr(GDateTime) t = g_date_time_new_local (2026, 12, 7, 4, 0, 0);
      g_clear_pointer (&st, g_hash_table_unref);
      st = mn_backend_poll (b, ids, 0, &error);
      g_assert_no_error (error);
      js = g_hash_table_lookup (st, "43");
      g_assert_cmpint (js->state, ==, MN_JOB_RUNNING);
      g_assert_cmpint (js->started, ==, g_date_time_to_unix (t));
    }
  g_assert_true (g_file_get_contents (asked_path, &asked, NULL, NULL));
  g_assert_cmpstr (asked, ==, "asked\n");   /* once, at start */
  g_assert_true (g_file_get_contents (said_path, &said, NULL, NULL));
  g_assert_true (g_str_has_prefix (said, root));
  g_assert_nonnull (strstr (said, " minna lx-fake\n"));
  rm = g_strdup_printf ("rm -rf '%s'", root);
  g_assert_cmpint (system (rm), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], test_node);
  g_test_add_func ("/backend/sge/cell-clients", test_sge_cell_clients);
  return g_test_run ();
}
