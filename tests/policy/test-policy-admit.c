/* test-policy-admit.c: decisions on requests, placement order, release and
 * re-admission, the per-user limit, adopt and the start estimate. */
#define G_LOG_DOMAIN "minna-policy-test"

#include "mn-policy-test-util.h"

#define G (G_GUINT64_CONSTANT (1024))

typedef struct {
  guint64      id;
  const gchar *user;
  guint        cores;
  guint64      memory_mb;
  guint        gpus;
  guint64      gpu_memory_mb;
  gint64       walltime;
  MnIfBusy     if_busy;
} Req;

static MnPolicyRequest
to_request (const Req *r)
{
  return (MnPolicyRequest) { .job_id = r->id, .user = r->user, .cores = r->cores,
                             .memory_mb = r->memory_mb, .gpus = r->gpus,
                             .gpu_memory_mb = r->gpu_memory_mb,
                             .walltime = r->walltime, .if_busy = r->if_busy };
}

static MnDecisionKind
submit (MnPolicyState *s, const Req *r, gint64 now)
{
  MnPolicyRequest req = to_request (r);
  MnDecision d;
  MnDecisionKind kind;

  mn_policy_state_request (s, &req, now, &d);
  kind = d.kind;
  mn_decision_clear (&d);
  return kind;
}

/* ---- Table of single decisions ---------------------------------------------- */

typedef struct {
  const gchar   *path;
  const gchar   *config;       /* overrides for mn_test_config */
  Req            before[4];    /* submitted first (id 0 ends the list) */
  Req            req;
  MnDecisionKind kind;
  MnRejectReason reason;
  guint          node, logical, position;
  const gchar   *message_has;  /* REJECT: a piece of the human message */
} AdmitCase;

static const AdmitCase admit_cases[] = {
  { "/policy/admit/start-first", NULL, { { 0 } },
    { 1, "alice", 1, 1 * G, 0, 0, 3600, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 0, 0, 0, NULL },
  { "/policy/admit/start-at-every-cap", NULL, { { 0 } },
    { 1, "alice", 7, 60 * G, 1, 16 * G, 24 * 3600, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 0, 0, 0, NULL },
  { "/policy/admit/defaults-for-zero", NULL, { { 0 } },
    { 1, "alice", 0, 0, 0, 0, 0, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 0, 0, 0, NULL },
  { "/policy/admit/per-user-limit-running", NULL,
    { { 1, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_PER_USER_LIMIT, 0, 0, 0, "alice" },
  { "/policy/admit/per-user-limit-waiting", MN_TEST_TINY,
    { { 1, "bob", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
      { 2, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 3, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_PER_USER_LIMIT, 0, 0, 0, "running or waiting" },
  { "/policy/admit/per-user-limit-two", "queue.max_jobs_per_user=2",
    { { 1, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
      { 2, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 3, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_PER_USER_LIMIT, 0, 0, 0, "allows 2 per user" },
  { "/policy/admit/other-user-not-limited", NULL,
    { { 1, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "bob", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 1, 0, 0, NULL },
  { "/policy/admit/over-cores-cap", NULL, { { 0 } },
    { 1, "alice", 8, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_OVER_CORES_CAP, 0, 0, 0, "at most 7" },
  { "/policy/admit/over-memory-cap", NULL, { { 0 } },
    { 1, "alice", 1, 60 * G + 1, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_OVER_MEMORY_CAP, 0, 0, 0, "at most 60G" },
  { "/policy/admit/over-gpus-cap", NULL, { { 0 } },
    { 1, "alice", 1, 1 * G, 2, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_OVER_GPUS_CAP, 0, 0, 0, "2 GPUs" },
  { "/policy/admit/over-gpu-memory-cap", NULL, { { 0 } },
    { 1, "alice", 1, 1 * G, 1, 17 * G, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_OVER_GPU_MEMORY_CAP, 0, 0, 0, "17G" },
  { "/policy/admit/walltime-too-long", NULL, { { 0 } },
    { 1, "alice", 1, 1 * G, 0, 0, 24 * 3600 + 1, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_WALLTIME_TOO_LONG, 0, 0, 0, "at most 24h" },
  { "/policy/admit/busy-give-up", MN_TEST_TINY,
    { { 1, "bob", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_GIVE_UP },
    MN_DECISION_REJECT, MN_REJECT_BUSY_GIVE_UP, 0, 0, 0, "not to wait" },
  { "/policy/admit/busy-wait-position", MN_TEST_TINY,
    { { 1, "bob", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
      { 2, "carol", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 3, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_WAIT, MN_REJECT_NONE, 0, 0, 2, NULL },
  { "/policy/admit/malformed-id-zero", NULL, { { 0 } },
    { 0, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, "reserved" },
  { "/policy/admit/malformed-id-in-use", NULL,
    { { 7, "bob", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 7, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, "in use" },
  { "/policy/admit/malformed-no-user", NULL, { { 0 } },
    { 1, NULL, 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, "no user" },
  { "/policy/admit/malformed-empty-user", NULL, { { 0 } },
    { 1, "", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, "no user" },
  { "/policy/admit/malformed-bad-utf8-user", NULL, { { 0 } },
    { 1, "\xff\xfe", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, "UTF-8" },
  { "/policy/admit/malformed-negative-walltime", NULL, { { 0 } },
    { 1, "alice", 1, 1 * G, 0, 0, -5, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, "negative" },
  { "/policy/admit/malformed-if-busy", NULL, { { 0 } },
    { 1, "alice", 1, 1 * G, 0, 0, 60, (MnIfBusy) 9 },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, "if_busy" },
  /* Malformed is judged before the caps, the caps before the user limit. */
  { "/policy/admit/order-malformed-before-cap", NULL, { { 0 } },
    { 0, "alice", 99, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_MALFORMED, 0, 0, 0, NULL },
  { "/policy/admit/order-cap-before-user-limit", NULL,
    { { 1, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 99, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_REJECT, MN_REJECT_OVER_CORES_CAP, 0, 0, 0, NULL },
  { "/policy/admit/exclusive-gpu-taken-waits", MN_TEST_TINY " logical_node.max_jobs=7 job.gpu_mode=exclusive",
    { { 1, "bob", 1, 1 * G, 1, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 1 * G, 1, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_WAIT, MN_REJECT_NONE, 0, 0, 1, NULL },
  { "/policy/admit/exclusive-gpu-taken-cpu-job-starts", MN_TEST_TINY " logical_node.max_jobs=7 job.gpu_mode=exclusive",
    { { 1, "bob", 1, 1 * G, 1, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 0, 0, 0, NULL },
  { "/policy/admit/shared-gpu-is-shared", MN_TEST_TINY " logical_node.max_jobs=7",
    { { 1, "bob", 1, 1 * G, 1, 16 * G, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 1 * G, 1, 16 * G, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 0, 0, 0, NULL },
  { "/policy/admit/capped-gpu-memory-full-waits", MN_TEST_TINY " logical_node.max_jobs=7 job.gpu_mode=capped",
    { { 1, "bob", 1, 1 * G, 1, 10 * G, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 1 * G, 1, 7 * G, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_WAIT, MN_REJECT_NONE, 0, 0, 1, NULL },
  { "/policy/admit/capped-gpu-memory-fits", MN_TEST_TINY " logical_node.max_jobs=7 job.gpu_mode=capped",
    { { 1, "bob", 1, 1 * G, 1, 10 * G, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 1 * G, 1, 6 * G, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 0, 0, 0, NULL },
  { "/policy/admit/node-memory-full-waits",
    MN_TEST_TINY " logical_node.max_jobs=7 node.memory=64G node.swap=0",
    { { 1, "bob", 1, 40 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 25 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_WAIT, MN_REJECT_NONE, 0, 0, 1, NULL },
  { "/policy/admit/node-memory-swap-counts",
    MN_TEST_TINY " logical_node.max_jobs=7 node.memory=64G node.swap=1G",
    { { 1, "bob", 1, 40 * G, 0, 0, 60, MN_IF_BUSY_WAIT } },
    { 2, "alice", 1, 25 * G, 0, 0, 60, MN_IF_BUSY_WAIT },
    MN_DECISION_START, MN_REJECT_NONE, 0, 0, 0, NULL },
};

static void
test_admit_case (gconstpointer data)
{
  const AdmitCase *tc = data;
  g_autoptr (MnPolicyConfig) config = mn_test_config (tc->config);
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  MnPolicyRequest req = to_request (&tc->req);
  MnDecision d;

  for (guint i = 0; i < G_N_ELEMENTS (tc->before) && tc->before[i].id != 0; i++)
    g_assert_cmpint (submit (s, &tc->before[i], 0), !=, MN_DECISION_REJECT);

  mn_policy_state_request (s, &req, 10, &d);
  g_assert_cmpstr (mn_decision_kind_to_string (d.kind), ==,
                   mn_decision_kind_to_string (tc->kind));
  g_assert_cmpstr (mn_reject_reason_to_string (d.reason), ==,
                   mn_reject_reason_to_string (tc->reason));
  g_assert_cmpuint (d.job_id, ==, tc->req.id);
  switch (tc->kind)
    {
    case MN_DECISION_START:
      g_assert_cmpuint (d.node, ==, tc->node);
      g_assert_cmpuint (d.logical, ==, tc->logical);
      g_assert_null (d.message);
      g_assert_true (mn_policy_state_lookup (s, tc->req.id, NULL, NULL));
      break;
    case MN_DECISION_WAIT:
      g_assert_cmpuint (d.position, ==, tc->position);
      g_assert_cmpuint (mn_policy_state_position (s, tc->req.id), ==, tc->position);
      g_assert_null (d.message);
      break;
    case MN_DECISION_REJECT:
      g_assert_nonnull (d.message);
      if (tc->message_has != NULL)
        g_assert_nonnull (strstr (d.message, tc->message_has));
      /* A refused request leaves no trace (unless its id was someone else's). */
      if (tc->reason != MN_REJECT_MALFORMED)
        g_assert_false (mn_policy_state_lookup (s, tc->req.id, NULL, NULL));
      break;
    default:
      g_assert_not_reached ();
    }
  mn_decision_clear (&d);
  g_assert_null (d.message);
}

/* Every reason code has a case above, so none goes untested. */
static void
test_every_reason_covered (void)
{
  gboolean seen[MN_REJECT_MALFORMED + 1] = { FALSE };

  for (gsize i = 0; i < G_N_ELEMENTS (admit_cases); i++)
    if (admit_cases[i].kind == MN_DECISION_REJECT)
      seen[admit_cases[i].reason] = TRUE;
  for (guint r = MN_REJECT_PER_USER_LIMIT; r <= MN_REJECT_MALFORMED; r++)
    {
      g_test_message ("reason %s", mn_reject_reason_to_string (r));
      g_assert_true (seen[r]);
      g_assert_cmpstr (mn_reject_reason_to_string (r), !=, "unknown");
    }
}

static void
test_null_request (void)
{
  g_autoptr (MnPolicyConfig) config = mn_policy_config_new_default ();
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  MnDecision d;

  mn_policy_state_request (s, NULL, 0, &d);
  g_assert_cmpint (d.kind, ==, MN_DECISION_REJECT);
  g_assert_cmpint (d.reason, ==, MN_REJECT_MALFORMED);
  mn_decision_clear (&d);
}

/* ---- Placement order ------------------------------------------------------------ */

static void
test_placement_spreads (void)
{
  /* Equal jobs go round the nodes first (most free memory), then to the
   * next logical node of each, then pile up from (0, 0) again. */
  g_autoptr (MnPolicyConfig) config = mn_policy_config_new_default ();
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);

  for (guint i = 0; i < 20; i++)
    {
      g_autofree gchar *user = g_strdup_printf ("u%u", i);
      MnPolicyRequest req = { .job_id = i + 1, .user = user, .cores = 1,
                              .memory_mb = 4 * G };
      MnDecision d;

      mn_policy_state_request (s, &req, 0, &d);
      g_assert_cmpint (d.kind, ==, MN_DECISION_START);
      g_assert_cmpuint (d.node, ==, i % 4);
      g_assert_cmpuint (d.logical, ==, (i / 4) % 4);
      mn_decision_clear (&d);
    }
}

static void
test_placement_fewest_jobs_then_memory (void)
{
  g_autoptr (MnPolicyConfig) config = mn_test_config ("queue.nodes=2 logical_node.per_node=2");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  const Req fill[] = {
    { 1, "a", 1, 50 * G, 0, 0, 60, MN_IF_BUSY_WAIT }, /* (0,0): node 0 now has less free */
    { 2, "b", 1, 10 * G, 0, 0, 60, MN_IF_BUSY_WAIT }, /* (1,0) */
    { 3, "c", 1, 10 * G, 0, 0, 60, MN_IF_BUSY_WAIT }, /* fewest jobs: (0,1) or (1,1); node 1 freer */
    { 4, "d", 1, 10 * G, 0, 0, 60, MN_IF_BUSY_WAIT }, /* (0,1) is the only one with 0 jobs */
    { 5, "e", 1, 10 * G, 0, 0, 60, MN_IF_BUSY_WAIT }, /* all have 1: node 1 freer, lowest logical */
  };
  const guint where[][2] = { { 0, 0 }, { 1, 0 }, { 1, 1 }, { 0, 1 }, { 1, 0 } };

  for (gsize i = 0; i < G_N_ELEMENTS (fill); i++)
    {
      MnPolicyRequest req = to_request (&fill[i]);
      MnDecision d;

      mn_policy_state_request (s, &req, 0, &d);
      g_assert_cmpint (d.kind, ==, MN_DECISION_START);
      g_assert_cmpuint (d.node, ==, where[i][0]);
      g_assert_cmpuint (d.logical, ==, where[i][1]);
      mn_decision_clear (&d);
    }
}

/* placement = slurm: what Slurm 22.05 did with the exported partition (2
 * nodes x 2 sockets, one-core jobs one after the other): a row at a time,
 * node by node, socket by socket, whatever memory each node has left. */
static void
test_placement_slurm (void)
{
  g_autoptr (MnPolicyConfig) config =
    mn_test_config ("queue.nodes=2 logical_node.per_node=2 logical_node.max_jobs=3 "
                    "queue.placement=slurm queue.max_jobs_per_user=20");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  const guint where[][2] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 }, { 0, 0 }, { 0, 1 },
                             { 1, 0 }, { 1, 1 }, { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } };

  for (gsize i = 0; i < G_N_ELEMENTS (where); i++)
    {
      /* The first job is the largest: spread would leave its node for last. */
      MnPolicyRequest req = { .job_id = i + 1, .user = "u", .cores = 1,
                              .memory_mb = i == 0 ? 50 * G : 100 };
      MnDecision d;

      mn_policy_state_request (s, &req, 0, &d);
      g_assert_cmpint (d.kind, ==, MN_DECISION_START);
      g_assert_cmpuint (d.node, ==, where[i][0]);
      g_assert_cmpuint (d.logical, ==, where[i][1]);
      mn_decision_clear (&d);
    }
}

static void
test_placement_info (void)
{
  g_autoptr (MnPolicyConfig) config = mn_test_config ("job.gpu_mode=capped");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  const Req r1 = { 1, "a", 2, 0, 1, 5 * G, 60, MN_IF_BUSY_WAIT };
  MnNodeInfo ni;
  MnLogicalNodeInfo li;
  guint n = 9, l = 9;

  g_assert_cmpint (submit (s, &r1, 0), ==, MN_DECISION_START);
  g_assert_true (mn_policy_state_lookup (s, 1, &n, &l));
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (l, ==, 0);
  mn_policy_state_node_info (s, 0, &ni);
  g_assert_cmpuint (ni.memory_committed_mb, ==, 60 * G); /* memory 0 = the cap */
  g_assert_cmpuint (ni.jobs, ==, 1);
  mn_policy_state_logical_info (s, 0, 0, &li);
  g_assert_cmpuint (li.jobs, ==, 1);
  g_assert_cmpuint (li.gpu_memory_reserved_mb, ==, 5 * G);
  g_assert_cmpuint (li.gpus_reserved, ==, 0);
  g_assert_cmpuint (mn_policy_state_n_running (s), ==, 1);
  g_assert_cmpuint (mn_policy_state_user_jobs (s, "a"), ==, 1);
  g_assert_cmpuint (mn_policy_state_user_jobs (s, "nobody"), ==, 0);
  g_assert_true (mn_policy_state_release (s, 1, 5, NULL));
  mn_policy_state_node_info (s, 0, &ni);
  g_assert_cmpuint (ni.memory_committed_mb, ==, 0);
  mn_policy_state_logical_info (s, 0, 0, &li);
  g_assert_cmpuint (li.gpu_memory_reserved_mb, ==, 0);
  g_assert_cmpuint (mn_policy_state_user_jobs (s, "a"), ==, 0);
  g_assert_false (mn_policy_state_release (s, 1, 5, NULL));
}

/* ---- Release and re-admission ------------------------------------------------------ */

static void
assert_started (GArray *started, const guint64 *ids, guint n)
{
  g_assert_cmpuint (started->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      MnDecision *d = &g_array_index (started, MnDecision, i);

      g_assert_cmpint (d->kind, ==, MN_DECISION_START);
      g_assert_cmpuint (d->job_id, ==, ids[i]);
      g_assert_null (d->message);
    }
  g_array_set_size (started, 0);
}

static void
test_release_fifo (void)
{
  g_autoptr (MnPolicyConfig) config = mn_test_config (MN_TEST_TINY " logical_node.max_jobs=2");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  const gchar *users[] = { "a", "b", "c", "d", "e" };

  for (guint i = 0; i < 5; i++)
    {
      Req r = { i + 1, users[i], 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT };

      g_assert_cmpint (submit (s, &r, 0), ==, i < 2 ? MN_DECISION_START : MN_DECISION_WAIT);
    }
  g_assert_cmpuint (mn_policy_state_n_waiting (s), ==, 3);
  g_assert_cmpuint (mn_policy_state_position (s, 5), ==, 3);

  g_assert_true (mn_policy_state_release (s, 1, 10, started));
  assert_started (started, (guint64[]) { 3 }, 1);
  g_assert_cmpuint (mn_policy_state_position (s, 4), ==, 1);

  /* Cancelling a waiting request frees no slot. */
  g_assert_true (mn_policy_state_release (s, 4, 11, started));
  assert_started (started, NULL, 0);
  g_assert_cmpuint (mn_policy_state_position (s, 5), ==, 1);
  g_assert_cmpuint (mn_policy_state_user_jobs (s, "d"), ==, 0);

  g_assert_true (mn_policy_state_release (s, 2, 12, started));
  assert_started (started, (guint64[]) { 5 }, 1);
  g_assert_cmpuint (mn_policy_state_n_waiting (s), ==, 0);
  g_assert_cmpuint (mn_policy_state_n_running (s), ==, 2);
  g_assert_false (mn_policy_state_release (s, 99, 13, started));
}

static void
test_release_skips_what_does_not_fit (void)
{
  /* The head asks for more GPU memory than frees up; the next fits and
   * starts; the head keeps its place. */
  g_autoptr (MnPolicyConfig) config =
    mn_test_config (MN_TEST_TINY " logical_node.max_jobs=7 job.gpu_mode=capped");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  const Req reqs[] = {
    { 1, "a", 1, 1 * G, 1, 8 * G, 60, MN_IF_BUSY_WAIT },
    { 2, "b", 1, 1 * G, 1, 8 * G, 60, MN_IF_BUSY_WAIT },
    { 3, "c", 1, 1 * G, 1, 12 * G, 60, MN_IF_BUSY_WAIT },
    { 4, "d", 1, 1 * G, 1, 4 * G, 60, MN_IF_BUSY_WAIT },
    { 5, "e", 1, 1 * G, 1, 4 * G, 60, MN_IF_BUSY_WAIT },
  };
  const MnDecisionKind expect[] = { MN_DECISION_START, MN_DECISION_START,
                                    MN_DECISION_WAIT, MN_DECISION_WAIT,
                                    MN_DECISION_WAIT };

  for (guint i = 0; i < G_N_ELEMENTS (reqs); i++)
    g_assert_cmpint (submit (s, &reqs[i], 0), ==, expect[i]);
  g_assert_true (mn_policy_state_release (s, 1, 5, started));
  assert_started (started, (guint64[]) { 4, 5 }, 2);
  g_assert_cmpuint (mn_policy_state_position (s, 3), ==, 1);
  g_assert_true (mn_policy_state_release (s, 2, 6, started));
  assert_started (started, NULL, 0);
  g_assert_true (mn_policy_state_release (s, 4, 7, started));
  g_assert_true (mn_policy_state_release (s, 5, 7, started));
  assert_started (started, (guint64[]) { 3 }, 1);
}

static void
test_user_limit_across_waiting_and_running (void)
{
  g_autoptr (MnPolicyConfig) config =
    mn_test_config (MN_TEST_TINY " queue.max_jobs_per_user=2");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  Req r = { 1, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT };

  g_assert_cmpint (submit (s, &r, 0), ==, MN_DECISION_START);
  r.id = 2;
  g_assert_cmpint (submit (s, &r, 0), ==, MN_DECISION_WAIT);
  r.id = 3;
  g_assert_cmpint (submit (s, &r, 0), ==, MN_DECISION_REJECT);
  g_assert_cmpuint (mn_policy_state_user_jobs (s, "alice"), ==, 2);
  /* The waiting one starts when the running one ends: still 2 in all. */
  g_assert_true (mn_policy_state_release (s, 1, 5, started));
  assert_started (started, (guint64[]) { 2 }, 1);
  g_assert_cmpuint (mn_policy_state_user_jobs (s, "alice"), ==, 1);
  r.id = 3;
  g_assert_cmpint (submit (s, &r, 6), ==, MN_DECISION_WAIT);
  r.id = 4;
  g_assert_cmpint (submit (s, &r, 6), ==, MN_DECISION_REJECT);
}

static void
test_user_limit_blocks_waiting_after_adopt (void)
{
  /* After a restart the controller may adopt more jobs for a user than the
   * limit; their waiting request must then keep its place, not start. */
  g_autoptr (MnPolicyConfig) config =
    mn_test_config ("queue.nodes=1 logical_node.per_node=2 logical_node.max_jobs=1");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  g_autoptr (GError) error = NULL;
  MnPolicyRequest adopt = { .job_id = 1, .user = "bob", .cores = 1, .memory_mb = G,
                            .walltime = 100 };
  const Req alice = { 2, "alice", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT };
  const Req carol = { 3, "carol", 1, 1 * G, 0, 0, 60, MN_IF_BUSY_WAIT };

  g_assert_true (mn_policy_state_adopt (s, &adopt, 0, 0, 0, &error));
  g_assert_no_error (error);
  adopt.job_id = 4, adopt.user = "alice";
  g_assert_true (mn_policy_state_adopt (s, &adopt, 0, 1, 0, &error));
  g_assert_no_error (error);
  /* alice is at her limit already: refused. */
  g_assert_cmpint (submit (s, &alice, 1), ==, MN_DECISION_REJECT);
  g_assert_cmpint (submit (s, &carol, 1), ==, MN_DECISION_WAIT);

  /* Now adopt a second running job for carol while her request waits. */
  adopt.job_id = 5, adopt.user = "carol";
  g_assert_true (mn_policy_state_adopt (s, &adopt, 0, 1, 0, &error));
  g_assert_true (mn_policy_state_release (s, 1, 5, started));
  assert_started (started, NULL, 0);  /* carol's 1 running = limit */
  g_assert_cmpuint (mn_policy_state_position (s, 3), ==, 1);
  g_assert_true (mn_policy_state_release (s, 5, 6, started));
  assert_started (started, (guint64[]) { 3 }, 1);
}

/* ---- Adopt ------------------------------------------------------------------------------ */

static void
test_adopt (void)
{
  g_autoptr (MnPolicyConfig) config = mn_policy_config_new_default ();
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  MnPolicyRequest req = { .job_id = 5, .user = "a", .cores = 2, .memory_mb = 2 * G };
  guint n, l;
  MnNodeInfo ni;

  {
    g_autoptr (GError) error = NULL;

    g_assert_false (mn_policy_state_adopt (s, &req, 4, 0, 0, &error));
    g_assert_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "4 nodes"));
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (mn_policy_state_adopt (s, &req, 0, 4, 0, &error));
    g_assert_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (mn_policy_state_adopt (s, NULL, 0, 0, 0, &error));
    g_assert_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT);
  }
  g_assert_true (mn_policy_state_adopt (s, &req, 3, 2, 0, NULL));
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (mn_policy_state_adopt (s, &req, 3, 2, 0, &error));
    g_assert_nonnull (strstr (error->message, "in use"));
  }
  g_assert_true (mn_policy_state_lookup (s, 5, &n, &l));
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpuint (l, ==, 2);
  mn_policy_state_node_info (s, 3, &ni);
  g_assert_cmpuint (ni.memory_committed_mb, ==, 2 * G);
  g_assert_cmpuint (mn_policy_state_user_jobs (s, "a"), ==, 1);
}

/* ---- Start estimate ---------------------------------------------------------------------- */

static void
test_estimate (void)
{
  g_autoptr (MnPolicyConfig) config = mn_test_config (MN_TEST_TINY " logical_node.max_jobs=2");
  g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
  const Req reqs[] = {
    { 1, "a", 1, 1 * G, 0, 0, 100, MN_IF_BUSY_WAIT },  /* runs 0..100 */
    { 2, "b", 1, 1 * G, 0, 0, 300, MN_IF_BUSY_WAIT },  /* runs 0..300 */
    { 3, "c", 1, 1 * G, 0, 0, 50, MN_IF_BUSY_WAIT },   /* waits: 100..150 */
    { 4, "d", 1, 1 * G, 0, 0, 500, MN_IF_BUSY_WAIT },  /* waits: 150..650 */
    { 5, "e", 1, 1 * G, 0, 0, 10, MN_IF_BUSY_WAIT },   /* waits: 300.. */
  };
  MnPolicyRequest fresh = { .job_id = 0, .user = "f", .cores = 1, .memory_mb = G,
                            .walltime = 10 };
  MnPolicyRequest too_big = { .job_id = 0, .user = "f", .cores = 8 };

  g_assert_cmpint (mn_policy_state_estimate_start (s, 0, &fresh, 7), ==, 7);
  for (guint i = 0; i < G_N_ELEMENTS (reqs); i++)
    submit (s, &reqs[i], 0);
  g_assert_cmpint (mn_policy_state_estimate_start (s, 1, NULL, 20), ==, 0);
  g_assert_cmpint (mn_policy_state_estimate_start (s, 3, NULL, 20), ==, 100);
  g_assert_cmpint (mn_policy_state_estimate_start (s, 4, NULL, 20), ==, 150);
  g_assert_cmpint (mn_policy_state_estimate_start (s, 5, NULL, 20), ==, 300);
  /* A new request goes behind all three: 5 ends at 310. */
  g_assert_cmpint (mn_policy_state_estimate_start (s, 0, &fresh, 20), ==, 310);
  g_assert_cmpint (mn_policy_state_estimate_start (s, 0, &too_big, 20), ==, G_MAXINT64);
  g_assert_cmpint (mn_policy_state_estimate_start (s, 99, NULL, 20), ==, G_MAXINT64);
  g_assert_cmpint (mn_policy_state_estimate_start (s, 0, NULL, 20), ==, G_MAXINT64);
  /* An overdue running job is taken to end now. */
  g_assert_cmpint (mn_policy_state_estimate_start (s, 3, NULL, 200), ==, 200);
  /* The estimate changes nothing. */
  g_assert_cmpuint (mn_policy_state_n_running (s), ==, 2);
  g_assert_cmpuint (mn_policy_state_n_waiting (s), ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (admit_cases); i++)
    g_test_add_data_func (admit_cases[i].path, &admit_cases[i], test_admit_case);
  g_test_add_func ("/policy/admit/every-reason-covered", test_every_reason_covered);
  g_test_add_func ("/policy/admit/null-request", test_null_request);
  g_test_add_func ("/policy/placement/spreads", test_placement_spreads);
  g_test_add_func ("/policy/placement/fewest-jobs-then-memory",
                   test_placement_fewest_jobs_then_memory);
  g_test_add_func ("/policy/placement/info", test_placement_info);
  g_test_add_func ("/policy/placement/slurm", test_placement_slurm);
  g_test_add_func ("/policy/release/fifo", test_release_fifo);
  g_test_add_func ("/policy/release/skips-what-does-not-fit",
                   test_release_skips_what_does_not_fit);
  g_test_add_func ("/policy/user-limit/waiting-and-running",
                   test_user_limit_across_waiting_and_running);
  g_test_add_func ("/policy/user-limit/blocks-waiting-after-adopt",
                   test_user_limit_blocks_waiting_after_adopt);
  g_test_add_func ("/policy/adopt/bounds-and-lookup", test_adopt);
  g_test_add_func ("/policy/estimate/replay", test_estimate);
  return g_test_run ();
}
