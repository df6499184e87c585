/* test-backend-slurm-nodes.c: Slurm's node states (issue 14: no new job on a
 * drained or down node).  The state words and sinfo's lines, table-driven;
 * then the backend's node_states() against fake scontrol and sinfo printing
 * what Slurm 22.05 prints (tests/slurm drains a real node). */
#define G_LOG_DOMAIN "test-backend-slurm-nodes"

#include "controller-test-util.h"
#include "mn-backend-slurm.h"
#include "mn-backend-slurm-nodes.h"
#include "mn-controller-config.h"

#include <string.h>

typedef struct {
  const gchar *state;
  gboolean     known;
  gboolean     available;
} StateCase;

static const StateCase state_cases[] = {
  { "idle", TRUE, TRUE },
  { "mixed", TRUE, TRUE },
  { "allocated", TRUE, TRUE },
  { "allocated+", TRUE, TRUE },       /* some of its jobs completing */
  { "completing", TRUE, TRUE },
  { "planned", TRUE, TRUE },
  { "idle~", TRUE, TRUE },            /* powered off: Slurm powers it up for a job */
  { "idle#", TRUE, TRUE },
  { "mixed-", TRUE, TRUE },
  { "idle@", TRUE, TRUE },
  { "idle*", TRUE, FALSE },           /* not responding */
  { "mixed*", TRUE, FALSE },
  { "idle$", TRUE, FALSE },           /* maintenance reservation */
  { "idle%", TRUE, FALSE },
  { "idle!", TRUE, FALSE },
  { "drained", TRUE, FALSE },
  { "draining", TRUE, FALSE },
  { "drain", TRUE, FALSE },
  { "drained*", TRUE, FALSE },
  { "down", TRUE, FALSE },
  { "down*", TRUE, FALSE },
  { "fail", TRUE, FALSE },
  { "failing", TRUE, FALSE },
  { "maint", TRUE, FALSE },
  { "reserved", TRUE, FALSE },
  { "inval", TRUE, FALSE },
  { "unknown", TRUE, FALSE },
  { "future", TRUE, FALSE },
  { "powered_down", TRUE, FALSE },
  { "reboot_issued", TRUE, FALSE },
  { "mixed+drain", TRUE, FALSE },     /* newer Slurm's compound form */
  { "idle+planned", TRUE, TRUE },
  { "", FALSE, FALSE },
  { "IDLE", FALSE, FALSE },           /* %T is lower case: anything else is not understood */
  { "idle?", FALSE, FALSE },
  { "*", FALSE, FALSE },
  { "idle++", FALSE, FALSE },
  { "+idle", FALSE, FALSE },
  { "sleepy", FALSE, FALSE },
  { "idle drained", FALSE, FALSE },
  { "mixed+weird", FALSE, FALSE },
};

static void
test_state (gconstpointer data)
{
  const StateCase *c = data;
  gboolean available = !c->available;

  g_assert_cmpint (mn_slurm_node_state_available (c->state, &available), ==, c->known);
  if (c->known)
    g_assert_cmpint (available, ==, c->available);
}

typedef struct {
  const gchar *path;
  const gchar *text;
  const gchar *want;      /* "name=state ..." sorted by name */
  const gchar *problems;  /* the problems joined by "; " */
} SinfoCase;

static const SinfoCase sinfo_cases[] = {
  { "/backend/slurm-nodes/sinfo/plain", "interactive1|idle\ninteractive2|drained\n",
    "interactive1=idle interactive2=drained", "" },
  { "/backend/slurm-nodes/sinfo/empty", "", "", "" },
  { "/backend/slurm-nodes/sinfo/blank-lines-and-spaces", "\n  interactive1|mixed  \n\n",
    "interactive1=mixed", "" },
  { "/backend/slurm-nodes/sinfo/unknown-state", "n1|idle\nn2|sleepy\n", "n1=idle",
    "line 2 'n2|sleepy': unknown node state 'sleepy'" },
  { "/backend/slurm-nodes/sinfo/no-bar", "n1 idle\nn2|down*", "n2=down*",
    "line 1 'n1 idle': not NAME|STATE" },
  { "/backend/slurm-nodes/sinfo/two-bars", "n1|idle|x", "", "line 1 'n1|idle|x': not NAME|STATE" },
  { "/backend/slurm-nodes/sinfo/bad-name", "n 1|idle\n|idle\nn;rm|idle", "",
    "line 1 'n 1|idle': not a node name; line 2 '|idle': not a node name; "
    "line 3 'n;rm|idle': not a node name" },
  { "/backend/slurm-nodes/sinfo/twice", "n1|idle\nn1|down", "n1=idle",
    "line 2 'n1|down': node n1 listed again" },
  { "/backend/slurm-nodes/sinfo/control-bytes", "n1|idle\x1b[2J", "",
    "line 1 'n1|idle\\033[2J': unknown node state 'idle\\033[2J'" },
  { "/backend/slurm-nodes/sinfo/not-utf8", "n1|\377\377allocated", "",
    "line 1 'n1|\\377\\377allocated': unknown node state '\\377\\377allocated'" },
  { "/backend/slurm-nodes/sinfo/long-state",
    "n1|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "",
    "line 1 'n1|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': unknown node state "
    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
};

static void
test_sinfo (gconstpointer data)
{
  const SinfoCase *c = data;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) states = mn_slurm_sinfo_node_states (c->text, problems);
  g_autoptr(GList) names = g_list_sort (g_hash_table_get_keys (states), (GCompareFunc) strcmp);
  g_autoptr(GString) got = g_string_new (NULL);
  g_autofree gchar *said = NULL;

  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (got, "%s%s=%s", got->len ? " " : "", (const gchar *) l->data,
                            (const gchar *) g_hash_table_lookup (states, l->data));
  g_assert_cmpstr (got->str, ==, c->want);
  g_ptr_array_add (problems, NULL);
  said = g_strjoinv ("; ", (gchar **) problems->pdata);
  g_assert_cmpstr (said, ==, c->problems);
}

/* node_states(): policy node i is the partition's i-th node (scontrol), its
 * state what sinfo says of that name; a node sinfo does not list or a line
 * it cannot read says nothing; a failing sinfo is an error. */
static void
test_backend (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("minna-fake-slurm-nodes-XXXXXX", &error);
  g_autofree gchar *sinfo = NULL;
  g_autofree gchar *asked = NULL;
  g_autofree gchar *asked_path = NULL;
  g_autoptr(MnBackend) b = NULL;
  g_autoptr(GPtrArray) states = NULL;
  MnBackendSlurmOptions o = { .partition = "interactive", .command_timeout = 10 };
  const MnNodeState *ns;

  g_assert_no_error (error);
  o.bin_dir = dir;
  mn_test_write_script (dir, "sbatch", "exit 1");
  /* Nodes= in Slurm's order, which is not the names' */
  mn_test_write_script (dir, "scontrol",
              "case \"$*\" in\n"
              "  '-o show partition=interactive') echo 'PartitionName=interactive Nodes=in[3,1-2] State=UP' ;;\n"
              "  'show hostnames in[3,1-2]') printf 'in3\\nin1\\nin2\\n' ;;\n"
              "  *) echo \"unexpected: $*\" >&2; exit 1 ;;\n"
              "esac");
  asked_path = g_build_filename (dir, "asked", NULL);
  sinfo = g_strdup_printf ("echo \"$*\" >> '%s'\n"
                           "[ -e '%s/fail' ] && { echo 'sinfo: error: Unable to contact slurm"
                           " controller' >&2; exit 1; }\n"
                           "printf 'in1|idle\\nin3|drained*\\nin2|x?\\nn9|down\\n'", asked_path, dir);
  mn_test_write_script (dir, "sinfo", sinfo);
  b = mn_backend_slurm_new (&o, &error);
  g_assert_no_error (error);

  g_test_expect_message ("minna-controller", G_LOG_LEVEL_MESSAGE,
                         "*line 3 'in2|x?': unknown node state 'x?'*");
  states = mn_backend_node_states (b, 4, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 4);
  ns = g_ptr_array_index (states, 0);
  g_assert_cmpstr (ns->name, ==, "in3");
  g_assert_cmpstr (ns->state, ==, "drained*");
  g_assert_false (ns->available);
  ns = g_ptr_array_index (states, 1);
  g_assert_cmpstr (ns->name, ==, "in1");
  g_assert_true (ns->available);
  g_assert_null (g_ptr_array_index (states, 2));   /* in2: its line was not understood */
  g_assert_null (g_ptr_array_index (states, 3));   /* the partition has 3 nodes */
  g_assert_true (g_file_get_contents (asked_path, &asked, NULL, NULL));
  g_assert_cmpstr (asked, ==, "-h -N -p interactive -o %N|%T\n");

  /* the same odd line again: not logged again (a message would fail here) */
  g_clear_pointer (&states, g_ptr_array_unref);
  states = mn_backend_node_states (b, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 3);

  /* slurmctld down: an error saying so, nothing guessed */
  g_clear_pointer (&states, g_ptr_array_unref);
  {
    g_autofree gchar *fail = g_build_filename (dir, "fail", NULL);
    mn_test_write_file (fail, "", 0644);
  }
  states = mn_backend_node_states (b, 3, &error);
  g_assert_null (states);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "partition interactive"));
  mn_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (state_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/backend/slurm-nodes/state/%u", i);
      g_test_add_data_func (path, &state_cases[i], test_state);
    }
  for (guint i = 0; i < G_N_ELEMENTS (sinfo_cases); i++)
    g_test_add_data_func (sinfo_cases[i].path, &sinfo_cases[i], test_sinfo);
  g_test_add_func ("/backend/slurm-nodes/node-states", test_backend);
  return g_test_run ();
}
