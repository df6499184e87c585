/* test-policy-avail.c: node availability (NODE AVAILABILITY in mn-policy.h):
 * an unavailable node gets no new job, its running jobs stay, waiting
 * requests start in FIFO order when it comes back, estimates skip it.
 * Each case is a script of steps on one policy state. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <string.h>

#include "mn-policy-test-util.h"

#define G (G_GUINT64_CONSTANT (1024))
#define NEVER G_MAXINT64

typedef enum {
  END,
  REQ,        /* request job @id of user "u@id" at @t: expect @kind (START: on @node; WAIT: @why) */
  GIVE_UP,    /* the same with if_busy = give_up: expect REJECT busy-give-up */
  SET,        /* node @node available = @avail at @t: expect @changed and @started */
  RELEASE,    /* job @id ends at @t: expect @started */
  ESTIMATE,   /* waiting job @id (0: a new 1-core request) at @t: expect @estimate */
  RUNNING_ON, /* job @id runs on @node */
} Op;

typedef struct {
  Op             op;
  gint64         t;
  guint64        id;
  guint          node;
  gboolean       avail;
  MnDecisionKind kind;
  MnWaitReason   why;
  gboolean       changed;
  const gchar   *started;   /* "ID@NODE ..." in order; NULL or "" none */
  gint64         estimate;
} Step;

typedef struct {
  const gchar *path;
  const gchar *config;
  Step         steps[12];
} AvailCase;

/* 2 nodes of 1 logical node of 1 job each, one hour per job: who goes where is plain. */
#define TWO "queue.nodes=2 logical_node.per_node=1 logical_node.max_jobs=1"

static const AvailCase avail_cases[] = {
  { "/policy/avail/new-node-is-available", TWO, {
      { RUNNING_ON, .id = 0 },
      { END } } },
  { "/policy/avail/drained-node-gets-no-new-job", TWO, {
      { SET, 0, .node = 0, .avail = FALSE, .changed = TRUE },
      { REQ, 0, 1, .kind = MN_DECISION_START, .node = 1 },
      { REQ, 0, 2, .kind = MN_DECISION_WAIT, .why = MN_WAIT_UNAVAILABLE },
      { SET, 10, .node = 0, .avail = TRUE, .changed = TRUE, .started = "2@0" },
      { RUNNING_ON, .id = 2, .node = 0 },
      { END } } },
  { "/policy/avail/same-state-twice-is-no-change", TWO, {
      { SET, 0, .node = 1, .avail = TRUE, .changed = FALSE },
      { SET, 0, .node = 1, .avail = FALSE, .changed = TRUE },
      { SET, 0, .node = 1, .avail = FALSE, .changed = FALSE },
      { SET, 0, .node = 2, .avail = FALSE, .changed = FALSE },   /* out of range */
      { END } } },
  { "/policy/avail/running-job-stays", TWO, {
      { REQ, 0, 1, .kind = MN_DECISION_START, .node = 0 },
      { SET, 5, .node = 0, .avail = FALSE, .changed = TRUE },
      { RUNNING_ON, .id = 1, .node = 0 },
      { REQ, 6, 2, .kind = MN_DECISION_START, .node = 1 },
      /* node 0 is full too: slots, not unavailable */
      { REQ, 7, 3, .kind = MN_DECISION_WAIT, .why = MN_WAIT_SLOTS },
      /* its slot frees on a node that takes no new job: no one starts */
      { RELEASE, 8, 1, .started = "" },
      { RELEASE, 9, 2, .started = "3@1" },
      { END } } },
  { "/policy/avail/all-drained-waits-then-starts-in-fifo-order", TWO, {
      { SET, 0, .node = 0, .avail = FALSE, .changed = TRUE },
      { SET, 0, .node = 1, .avail = FALSE, .changed = TRUE },
      { REQ, 1, 1, .kind = MN_DECISION_WAIT, .why = MN_WAIT_UNAVAILABLE },
      { REQ, 2, 2, .kind = MN_DECISION_WAIT, .why = MN_WAIT_UNAVAILABLE },
      { REQ, 3, 3, .kind = MN_DECISION_WAIT, .why = MN_WAIT_UNAVAILABLE },
      { ESTIMATE, 3, 1, .estimate = NEVER },
      { ESTIMATE, 3, 0, .estimate = NEVER },
      { SET, 4, .node = 1, .avail = TRUE, .changed = TRUE, .started = "1@1" },
      { SET, 5, .node = 0, .avail = TRUE, .changed = TRUE, .started = "2@0" },
      { ESTIMATE, 5, 3, .estimate = 4 + 3600 },   /* job 1 ends first */
      { END } } },
  { "/policy/avail/give-up-when-only-drained-nodes-have-room", TWO, {
      { SET, 0, .node = 0, .avail = FALSE, .changed = TRUE },
      { REQ, 0, 1, .kind = MN_DECISION_START, .node = 1 },
      { GIVE_UP, 1, 2 },
      { END } } },
  { "/policy/avail/full-everywhere-is-slots", TWO, {
      { REQ, 0, 1, .kind = MN_DECISION_START, .node = 0 },
      { REQ, 0, 2, .kind = MN_DECISION_START, .node = 1 },
      { SET, 1, .node = 0, .avail = FALSE, .changed = TRUE },
      { REQ, 2, 3, .kind = MN_DECISION_WAIT, .why = MN_WAIT_SLOTS },
      /* the estimate counts on node 1's end only, not on node 0's */
      { ESTIMATE, 2, 3, .estimate = 3600 },
      { END } } },
  { "/policy/avail/estimate-skips-drained-node", TWO, {
      { REQ, 0, 1, .kind = MN_DECISION_START, .node = 0 },
      { SET, 1, .node = 1, .avail = FALSE, .changed = TRUE },
      { ESTIMATE, 2, 0, .estimate = 3600 },
      { SET, 3, .node = 1, .avail = TRUE, .changed = TRUE, .started = "" },
      { ESTIMATE, 3, 0, .estimate = 3 },
      { END } } },
  /* two logical nodes per node: the node's return starts as many as fit */
  { "/policy/avail/return-fills-every-logical-node",
    "queue.nodes=2 logical_node.per_node=2 logical_node.max_jobs=1", {
      { SET, 0, .node = 0, .avail = FALSE, .changed = TRUE },
      { REQ, 0, 1, .kind = MN_DECISION_START, .node = 1 },
      { REQ, 0, 2, .kind = MN_DECISION_START, .node = 1 },
      { REQ, 0, 3, .kind = MN_DECISION_WAIT, .why = MN_WAIT_UNAVAILABLE },
      { REQ, 0, 4, .kind = MN_DECISION_WAIT, .why = MN_WAIT_UNAVAILABLE },
      { REQ, 0, 5, .kind = MN_DECISION_WAIT, .why = MN_WAIT_UNAVAILABLE },
      { SET, 1, .node = 0, .avail = TRUE, .changed = TRUE, .started = "3@0 4@0" },
      { END } } },
};

static MnPolicyRequest
request_of (guint64 id, gchar *user, gsize user_size)
{
  g_snprintf (user, user_size, "u%" G_GUINT64_FORMAT, id);
  return (MnPolicyRequest) { .job_id = id, .user = user, .cores = 1, .memory_mb = 1 * G,
                             .walltime = 3600, .if_busy = MN_IF_BUSY_WAIT };
}

static gchar *
started_text (GArray *started)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < started->len; i++)
    {
      MnDecision *d = &g_array_index (started, MnDecision, i);

      g_assert_cmpint (d->kind, ==, MN_DECISION_START);
      g_string_append_printf (out, "%s%" G_GUINT64_FORMAT "@%u", i ? " " : "", d->job_id, d->node);
      mn_decision_clear (d);
    }
  return g_string_free (out, FALSE);
}

static void
test_avail_case (gconstpointer data)
{
  const AvailCase *c = data;
  g_autoptr (MnPolicyConfig) config = mn_test_config (c->config);
  g_autoptr (MnPolicyState) state = mn_policy_state_new (config);

  for (const Step *s = c->steps; s->op != END; s++)
    {
      g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
      g_autofree gchar *got = NULL;
      gchar user[32];
      MnPolicyRequest r = request_of (s->id, user, sizeof user);
      MnDecision d = { 0 };
      guint node = G_MAXUINT;
      MnNodeInfo info;

      g_test_message ("step %u: op %d id %" G_GUINT64_FORMAT " node %u", (guint) (s - c->steps),
                      s->op, s->id, s->node);
      switch (s->op)
        {
        case REQ:
        case GIVE_UP:
          r.if_busy = s->op == GIVE_UP ? MN_IF_BUSY_GIVE_UP : MN_IF_BUSY_WAIT;
          mn_policy_state_request (state, &r, s->t, &d);
          if (s->op == GIVE_UP)
            {
              g_assert_cmpint (d.kind, ==, MN_DECISION_REJECT);
              g_assert_cmpint (d.reason, ==, MN_REJECT_BUSY_GIVE_UP);
              g_assert_cmpint (d.wait_reason, ==, MN_WAIT_UNAVAILABLE);
              g_assert_nonnull (strstr (d.message, "drained or down"));
            }
          else
            {
              g_assert_cmpint (d.kind, ==, s->kind);
              if (s->kind == MN_DECISION_START)
                g_assert_cmpuint (d.node, ==, s->node);
              else
                g_assert_cmpint (d.wait_reason, ==, s->why);
            }
          mn_decision_clear (&d);
          break;
        case SET:
          g_assert_cmpint (mn_policy_state_set_node_available (state, s->node, s->avail, s->t,
                                                               started), ==, s->changed);
          got = started_text (started);
          g_assert_cmpstr (got, ==, s->started ? s->started : "");
          if (s->node < config->nodes)
            {
              g_assert_cmpint (mn_policy_state_node_available (state, s->node), ==, s->avail);
              mn_policy_state_node_info (state, s->node, &info);
              g_assert_cmpint (info.available, ==, s->avail);
            }
          else
            g_assert_false (mn_policy_state_node_available (state, s->node));
          break;
        case RELEASE:
          g_assert_true (mn_policy_state_release (state, s->id, s->t, started));
          got = started_text (started);
          g_assert_cmpstr (got, ==, s->started ? s->started : "");
          break;
        case ESTIMATE:
          g_assert_cmpint (mn_policy_state_estimate_start (state, s->id, s->id ? NULL : &r, s->t),
                           ==, s->estimate);
          break;
        case RUNNING_ON:
          if (s->id == 0)
            {
              for (guint n = 0; n < config->nodes; n++)
                g_assert_true (mn_policy_state_node_available (state, n));
              break;
            }
          g_assert_true (mn_policy_state_lookup (state, s->id, &node, NULL));
          g_assert_cmpuint (node, ==, s->node);
          break;
        case END:
        default:
          g_assert_not_reached ();
        }
    }
}

/* A new state (a new policy) starts with every node available: the caller
 * (the controller) hands availability to it again. */
static void
test_new_state_all_available (void)
{
  g_autoptr (MnPolicyConfig) config = mn_test_config (TWO);
  g_autoptr (MnPolicyState) a = mn_policy_state_new (config);
  g_autoptr (MnPolicyState) b = NULL;

  g_assert_true (mn_policy_state_set_node_available (a, 0, FALSE, 0, NULL));
  b = mn_policy_state_new (config);
  g_assert_false (mn_policy_state_node_available (a, 0));
  g_assert_true (mn_policy_state_node_available (b, 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (avail_cases); i++)
    g_test_add_data_func (avail_cases[i].path, &avail_cases[i], test_avail_case);
  g_test_add_func ("/policy/avail/new-state-all-available", test_new_state_all_available);
  return g_test_run ();
}
