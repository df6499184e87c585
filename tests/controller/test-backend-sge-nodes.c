/* test-backend-sge-nodes.c: Grid Engine's queue-instance states (issue 14:
 * no new job on a disabled, unknown, suspended... queue instance).  The
 * state letters, qstat -f -xml's Queue-Lists and the host group's hosts,
 * table-driven; then the backend's node_states() against fake qconf and
 * qstat printing what Grid Engine 8.1.9 prints (tests/sge disables a real
 * queue instance). */
#define G_LOG_DOMAIN "test-backend-sge-nodes"

#include "controller-test-util.h"
#include "mn-backend-sge.h"
#include "mn-backend-sge-nodes.h"
#include "mn-controller-config.h"

#include <string.h>

typedef struct {
  const gchar *state;
  gboolean     known;
  gboolean     available;
  const gchar *words;
} StateCase;

static const StateCase state_cases[] = {
  { "", TRUE, TRUE, "no state" },
  { "d", TRUE, FALSE, "d (disabled)" },
  { "D", TRUE, FALSE, "D (disabled by calendar)" },
  { "u", TRUE, FALSE, "u (unknown: execd not heard)" },
  { "E", TRUE, FALSE, "E (error)" },
  { "s", TRUE, FALSE, "s (suspended)" },
  { "S", TRUE, FALSE, "S (suspended by subordination)" },
  { "C", TRUE, FALSE, "C (suspended by calendar)" },
  { "o", TRUE, FALSE, "o (orphaned)" },
  { "a", TRUE, FALSE, "a (load alarm)" },
  { "A", TRUE, FALSE, "A (suspend alarm)" },
  { "c", TRUE, FALSE, "c (configuration ambiguous)" },
  { "P", TRUE, FALSE, "P (preempted)" },
  { "du", TRUE, FALSE, "du (disabled, unknown: execd not heard)" },
  { "auE", TRUE, FALSE, "auE (load alarm, unknown: execd not heard, error)" },
  { "dd", FALSE, FALSE, "not understood" },       /* each letter once */
  { "x", FALSE, FALSE, "not understood" },
  { "d ", FALSE, FALSE, "not understood" },
  { "disabled", FALSE, FALSE, "not understood" },
  { "-", FALSE, FALSE, "not understood" },
};

static void
test_state (gconstpointer data)
{
  const StateCase *c = data;
  gboolean available = !c->available;
  g_autofree gchar *words = mn_sge_queue_state_words (c->state);

  g_assert_cmpint (mn_sge_queue_state_available (c->state, &available), ==, c->known);
  if (c->known)
    g_assert_cmpint (available, ==, c->available);
  g_assert_cmpstr (words, ==, c->words);
}

/* One Queue-List as qstat -f -xml writes it (Grid Engine 8.1.9), with a
 * job running there: its job_list has a <state> and <queue_name> too. */
#define QL(name, state_element) \
  "  <Queue-List>\n    <name>" name "</name>\n    <qtype>BIP</qtype>\n" \
  "    <slots_used>1</slots_used>\n    <slots_resv>0</slots_resv>\n" \
  "    <slots_total>3</slots_total>\n    <load_avg>0.01000</load_avg>\n" \
  "    <arch>lx-amd64</arch>\n" state_element \
  "    <job_list state=\"running\">\n      <JB_job_number>7</JB_job_number>\n" \
  "      <JB_name>minna-x</JB_name>\n      <state>r</state>\n" \
  "      <queue_name>" name "</queue_name>\n    </job_list>\n  </Queue-List>\n"
#define DOC(queues) \
  "<?xml version='1.0'?>\n<job_info  xmlns:xsd=\"http://arc.liv.ac.uk/repos/darcs/sge/source/" \
  "dist/util/resources/schemas/qstat/qstat.xsd\">\n  <queue_info>\n" queues \
  "  </queue_info>\n  <job_info>\n    <job_list state=\"pending\">\n" \
  "      <JB_job_number>8</JB_job_number>\n      <state>qw</state>\n    </job_list>\n" \
  "  </job_info>\n</job_info>\n"

typedef struct {
  const gchar *path;
  const gchar *queue;     /* NULL: any */
  const gchar *text;
  const gchar *want;      /* "instance=state ..." sorted; NULL: an error */
  const gchar *problems;  /* joined by "; " (want NULL: a glob of the error's message) */
} QstatCase;

static const QstatCase qstat_cases[] = {
  { "/backend/sge-nodes/qstat/plain", "interactive.q",
    DOC (QL ("interactive.q@n1", "") QL ("interactive.q@n2", "    <state>d</state>\n")),
    "interactive.q@n1= interactive.q@n2=d", "" },
  { "/backend/sge-nodes/qstat/no-queues", "interactive.q", DOC (""), "", "" },
  { "/backend/sge-nodes/qstat/compound-state", "interactive.q",
    DOC (QL ("interactive.q@n1.example.org", "    <state> du </state>\n")),
    "interactive.q@n1.example.org=du", "" },
  { "/backend/sge-nodes/qstat/any-queue", NULL,
    DOC (QL ("interactive.q@n1", "<state>u</state>") QL ("batch.q@n1", "")),
    "batch.q@n1= interactive.q@n1=u", "" },
  { "/backend/sge-nodes/qstat/unknown-state", "interactive.q",
    DOC (QL ("interactive.q@n1", "<state>dX</state>") QL ("interactive.q@n2", "")),
    "interactive.q@n2=", "queue instance 1 'interactive.q@n1': unknown queue state 'dX'" },
  { "/backend/sge-nodes/qstat/other-queue", "interactive.q",
    DOC (QL ("batch.q@n1", "")), "",
    "queue instance 1 'batch.q@n1': not an instance of interactive.q" },
  { "/backend/sge-nodes/qstat/no-at", "interactive.q",
    DOC (QL ("interactive.q", "")), "", "queue instance 1 'interactive.q': not QUEUE@HOST" },
  { "/backend/sge-nodes/qstat/bad-host", "interactive.q",
    DOC (QL ("interactive.q@n 1", "") QL ("interactive.q@", "") QL ("interactive.q@a@b", "")),
    "", "queue instance 1 'interactive.q@n 1': not a host name; "
    "queue instance 2 'interactive.q@': not a host name; "
    "queue instance 3 'interactive.q@a@b': not a host name" },
  { "/backend/sge-nodes/qstat/no-name", "interactive.q",
    DOC ("<Queue-List><state>d</state></Queue-List>\n"), "", "queue instance 1 '': no <name>" },
  { "/backend/sge-nodes/qstat/name-twice", "interactive.q",
    DOC ("<Queue-List><name>interactive.q@n1</name><name>interactive.q@n2</name></Queue-List>"),
    "", "queue instance 1 'interactive.q@n2': <name> given twice" },
  { "/backend/sge-nodes/qstat/state-twice", "interactive.q",
    DOC ("<Queue-List><name>interactive.q@n1</name><state>d</state><state></state></Queue-List>"),
    "", "queue instance 1 'interactive.q@n1': <state> given twice" },
  { "/backend/sge-nodes/qstat/listed-again", "interactive.q",
    DOC (QL ("interactive.q@n1", "") QL ("interactive.q@n1", "<state>d</state>")),
    "interactive.q@n1=", "queue instance 2 'interactive.q@n1': listed again" },
  { "/backend/sge-nodes/qstat/control-bytes", "interactive.q",
    DOC (QL ("interactive.q@n1", "<state>d&#27;[2J</state>")), "",
    "queue instance 1 'interactive.q@n1': unknown queue state 'd\\033[2J'" },
  { "/backend/sge-nodes/qstat/long-state", "interactive.q",
    DOC (QL ("interactive.q@n1", "<state>ddddddddddddddddddddddddddddddddddddddddddddd</state>")),
    "", "queue instance 1 'interactive.q@n1': unknown queue state "
    "'ddddddddddddddddddddddddddddddddddddd...'" },
  { "/backend/sge-nodes/qstat/not-xml", "interactive.q",
    "queuename  qtype resv/used/tot. load_avg arch states\n", NULL, "*" },
  { "/backend/sge-nodes/qstat/empty", "interactive.q", "", NULL, "*empty*" },
  { "/backend/sge-nodes/qstat/cut-short", "interactive.q",
    "<job_info><queue_info><Queue-List><name>interactive.q@n1</name>", NULL, "*" },
  { "/backend/sge-nodes/qstat/nested", "interactive.q",
    DOC ("<Queue-List><Queue-List></Queue-List></Queue-List>"), NULL,
    "*a Queue-List inside a Queue-List*" },
};

static void
test_qstat (gconstpointer data)
{
  const QstatCase *c = data;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) states = mn_sge_qstat_queue_states (c->text, -1, c->queue, problems,
                                                            &error);
  g_autoptr(GList) names = NULL;
  g_autoptr(GString) got = g_string_new (NULL);
  g_autofree gchar *said = NULL;

  if (c->want == NULL)
    {
      /* GMarkup's error or ours; no instance said anything */
      g_assert_null (states);
      g_assert_nonnull (error);
      g_assert_true (g_pattern_match_simple (c->problems, error->message));
      g_assert_cmpuint (problems->len, ==, 0);
      return;
    }
  g_assert_no_error (error);
  names = g_list_sort (g_hash_table_get_keys (states), (GCompareFunc) strcmp);
  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (got, "%s%s=%s", got->len ? " " : "", (const gchar *) l->data,
                            (const gchar *) g_hash_table_lookup (states, l->data));
  g_assert_cmpstr (got->str, ==, c->want);
  g_ptr_array_add (problems, NULL);
  said = g_strjoinv ("; ", (gchar **) problems->pdata);
  g_assert_cmpstr (said, ==, c->problems);
}

typedef struct {
  const gchar *path;
  const gchar *text;
  const gchar *want;   /* joined by " "; NULL: an error with this message */
  const gchar *error;
} HostgroupCase;

static const HostgroupCase hostgroup_cases[] = {
  { "/backend/sge-nodes/hostgroup/order-kept", "n3 n1 n2\n", "n3 n1 n2", NULL },
  { "/backend/sge-nodes/hostgroup/lines", "  n1.example.org\n n2\t\n", "n1.example.org n2", NULL },
  { "/backend/sge-nodes/hostgroup/none", "NONE\n", "", NULL },
  { "/backend/sge-nodes/hostgroup/empty", "", "", NULL },
  { "/backend/sge-nodes/hostgroup/none-among-hosts", "n1 NONE\n", NULL, "NONE among 2 words" },
  { "/backend/sge-nodes/hostgroup/bad-word", "n1 n;2\n", NULL, "word 2 'n;2' is not a host name" },
  { "/backend/sge-nodes/hostgroup/not-utf8", "n1 \377", NULL, "word 2 '\\377' is not a host name" },
};

static void
test_hostgroup (gconstpointer data)
{
  const HostgroupCase *c = data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) hosts = mn_sge_hostgroup_hosts (c->text, &error);
  g_autofree gchar *got = NULL;

  if (c->want == NULL)
    {
      g_assert_null (hosts);
      g_assert_error (error, MN_SGE_TEXT_ERROR, 0);
      g_assert_cmpstr (error->message, ==, c->error);
      return;
    }
  g_assert_no_error (error);
  got = g_strjoinv (" ", hosts);
  g_assert_cmpstr (got, ==, c->want);
}

/* Where an interactive job of policy node N is submitted: the queue
 * instance of the host group's N-th host (the instance node_states reads),
 * else the queue alone with the reason. */
typedef struct {
  const gchar *path;
  const gchar *hosts;   /* the host group's, joined by " "; NULL: not known */
  guint        node;
  const gchar *want;
  const gchar *why;     /* NULL: pinned */
} SubmitQueueCase;

static const SubmitQueueCase submit_queue_cases[] = {
  { "/backend/sge-nodes/submit-queue/node-0", "host1 host2", 0, "interactive.q@host1", NULL },
  { "/backend/sge-nodes/submit-queue/node-1", "host1 host2", 1, "interactive.q@host2", NULL },
  /* the host group's order, not the names' */
  { "/backend/sge-nodes/submit-queue/group-order", "in3 in1 in2", 0, "interactive.q@in3", NULL },
  { "/backend/sge-nodes/submit-queue/unknown", NULL, 0, "interactive.q",
    "the hosts of interactive.q are not known (its host group could not be read)" },
  { "/backend/sge-nodes/submit-queue/past-hosts", "host1 host2", 2, "interactive.q",
    "the policy placed the job on node 2 (0-based), but the host group of interactive.q has"
    " 2 hosts: [queue] nodes must match its hosts" },
  { "/backend/sge-nodes/submit-queue/one-host", "host1", 1, "interactive.q",
    "the policy placed the job on node 1 (0-based), but the host group of interactive.q has"
    " 1 host: [queue] nodes must match its hosts" },
  { "/backend/sge-nodes/submit-queue/no-hosts", "", 0, "interactive.q",
    "the host group of interactive.q has no hosts" },
};

static void
test_submit_queue (gconstpointer data)
{
  const SubmitQueueCase *c = data;
  g_auto(GStrv) hosts = c->hosts == NULL ? NULL : g_strsplit (c->hosts, " ", -1);
  g_autofree gchar *why = NULL;
  g_autofree gchar *got = NULL;
  g_autofree gchar *instance = NULL;

  /* "" splits into no host at all */
  if (hosts != NULL && c->hosts[0] == '\0')
    g_clear_pointer (&hosts[0], g_free);
  got = mn_sge_submit_queue ("interactive.q", (const gchar *const *) hosts, c->node, &why);
  g_assert_cmpstr (got, ==, c->want);
  g_assert_cmpstr (why, ==, c->why);
  /* one mapping: the instance node_states reads is the one submitted to */
  instance = mn_sge_queue_instance ("interactive.q", (const gchar *const *) hosts, c->node);
  g_assert_cmpstr (instance, ==, c->why == NULL ? c->want : NULL);
}

/* node_states(): policy node i is host group @interactive's i-th host
 * (qconf -shgrp_resolved), its state what qstat -f -q interactive.q -xml
 * says of interactive.q@HOST; an instance it cannot read or does not list
 * says nothing; a failing qstat is an error. */
static void
test_backend (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("minna-fake-sge-nodes-XXXXXX", &error);
  g_autofree gchar *qstat = NULL;
  g_autofree gchar *qconf = NULL;
  g_autofree gchar *asked = NULL;
  g_autofree gchar *asked_path = NULL;
  g_autofree gchar *xml_path = NULL;
  g_autofree gchar *group_path = NULL;
  g_autoptr(MnBackend) b = NULL;
  g_autoptr(GPtrArray) states = NULL;
  MnBackendSgeOptions o = { .queue = "interactive.q", .command_timeout = 10 };
  const MnNodeState *ns;

  g_assert_no_error (error);
  o.bin_dir = dir;
  asked_path = g_build_filename (dir, "asked", NULL);
  xml_path = g_build_filename (dir, "qstat.xml", NULL);
  group_path = g_build_filename (dir, "group", NULL);
  mn_test_write_script (dir, "qsub", "exit 1");
  /* the host group's order, which is not the names' */
  mn_test_write_file (group_path, "in3 in1 in2\n", 0644);
  qconf = g_strdup_printf ("echo \"qconf $*\" >> '%s'\n"
                           "case \"$*\" in\n"
                           "  '-shgrp_resolved @interactive') cat '%s' ;;\n"
                           "  *) echo \"unexpected: $*\" >&2; exit 1 ;;\n"
                           "esac", asked_path, group_path);
  mn_test_write_script (dir, "qconf", qconf);
  qstat = g_strdup_printf ("echo \"qstat $*\" >> '%s'\n"
                           "[ -e '%s/fail' ] && { echo 'error: commlib error: got select error"
                           " (Connection refused)' >&2; echo 'unable to send message to qmaster'"
                           " >&2; exit 1; }\n"
                           "cat '%s'", asked_path, dir, xml_path);
  mn_test_write_script (dir, "qstat", qstat);
  mn_test_write_file (xml_path,
                      DOC (QL ("interactive.q@in1", "")
                           QL ("interactive.q@in3", "    <state>d</state>\n")
                           QL ("interactive.q@in2", "    <state>x?</state>\n")
                           QL ("interactive.q@n9", "    <state>u</state>\n")), 0644);
  b = mn_backend_sge_new (&o, &error);
  g_assert_no_error (error);

  g_test_expect_message ("minna-controller", G_LOG_LEVEL_MESSAGE,
                         "*qstat -f -q interactive.q -xml: queue instance 3 "
                         "'interactive.q@in2': unknown queue state 'x?' (ignored)*");
  g_test_expect_message ("minna-controller", G_LOG_LEVEL_MESSAGE,
                         "[queue] nodes = 4, but interactive.q's host group has 3 host(s):"
                         " sessions the policy places on nodes 4-4 run wherever Grid Engine"
                         " puts them*");
  states = mn_backend_node_states (b, 4, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 4);
  ns = g_ptr_array_index (states, 0);
  g_assert_cmpstr (ns->name, ==, "in3");
  g_assert_cmpstr (ns->state, ==, "d (disabled)");
  g_assert_false (ns->available);
  ns = g_ptr_array_index (states, 1);
  g_assert_cmpstr (ns->name, ==, "in1");
  g_assert_cmpstr (ns->state, ==, "no state");
  g_assert_true (ns->available);
  g_assert_null (g_ptr_array_index (states, 2));   /* in2: its state was not understood */
  g_assert_null (g_ptr_array_index (states, 3));   /* the host group has 3 hosts */
  g_assert_true (g_file_get_contents (asked_path, &asked, NULL, NULL));
  g_assert_cmpstr (asked, ==, "qconf -shgrp_resolved @interactive\n"
                              "qstat -f -q interactive.q -xml\n");

  /* the same odd instance again: not logged again (a message would fail
   * here); the host group is asked again (unchanged: nothing logged); in3
   * enabled */
  g_clear_pointer (&states, g_ptr_array_unref);
  mn_test_write_file (xml_path,
                      DOC (QL ("interactive.q@in1", "    <state>a</state>\n")
                           QL ("interactive.q@in3", "")
                           QL ("interactive.q@in2", "    <state>x?</state>\n")), 0644);
  states = mn_backend_node_states (b, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 3);
  ns = g_ptr_array_index (states, 0);
  g_assert_true (ns->available);
  ns = g_ptr_array_index (states, 1);
  g_assert_false (ns->available);
  g_assert_cmpstr (ns->state, ==, "a (load alarm)");
  g_clear_pointer (&asked, g_free);
  g_assert_true (g_file_get_contents (asked_path, &asked, NULL, NULL));
  g_assert_cmpstr (asked, ==, "qconf -shgrp_resolved @interactive\n"
                              "qstat -f -q interactive.q -xml\n"
                              "qconf -shgrp_resolved @interactive\n"
                              "qstat -f -q interactive.q -xml\n");

  /* a host left the group, another moved: the next poll maps the nodes
   * anew and says so, no restart */
  g_clear_pointer (&states, g_ptr_array_unref);
  mn_test_write_file (group_path, "in1 in3\n", 0644);
  g_test_expect_message ("minna-controller", G_LOG_LEVEL_MESSAGE,
                         "host group @interactive changed: in1 in3 (was in3 in1 in2);"
                         " policy node i is its i-th host");
  states = mn_backend_node_states (b, 2, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 2);
  ns = g_ptr_array_index (states, 0);
  g_assert_cmpstr (ns->name, ==, "in1");
  g_assert_false (ns->available);
  ns = g_ptr_array_index (states, 1);
  g_assert_cmpstr (ns->name, ==, "in3");
  g_assert_true (ns->available);

  /* not XML: an error naming the command, nothing guessed */
  g_clear_pointer (&states, g_ptr_array_unref);
  mn_test_write_file (xml_path, "queuename qtype\n", 0644);
  states = mn_backend_node_states (b, 3, &error);
  g_assert_null (states);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND);
  g_assert_nonnull (strstr (error->message, "qstat -f -q interactive.q -xml"));
  g_clear_error (&error);

  /* sge_qmaster down: an error saying so */
  {
    g_autofree gchar *fail = g_build_filename (dir, "fail", NULL);
    mn_test_write_file (fail, "", 0644);
  }
  states = mn_backend_node_states (b, 3, &error);
  g_assert_null (states);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "interactive.q"));
  mn_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (state_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/backend/sge-nodes/state/%u", i);
      g_test_add_data_func (path, &state_cases[i], test_state);
    }
  for (guint i = 0; i < G_N_ELEMENTS (qstat_cases); i++)
    g_test_add_data_func (qstat_cases[i].path, &qstat_cases[i], test_qstat);
  for (guint i = 0; i < G_N_ELEMENTS (hostgroup_cases); i++)
    g_test_add_data_func (hostgroup_cases[i].path, &hostgroup_cases[i], test_hostgroup);
  for (guint i = 0; i < G_N_ELEMENTS (submit_queue_cases); i++)
    g_test_add_data_func (submit_queue_cases[i].path, &submit_queue_cases[i], test_submit_queue);
  g_test_add_func ("/backend/sge-nodes/node-states", test_backend);
  return g_test_run ();
}
