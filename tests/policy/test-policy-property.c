/* test-policy-property.c: long random sequences of requests and releases
 * (fixed seeds), checked after every step against counters this test keeps
 * itself: no logical node over its job limit, no node over RAM + swap, no GPU
 * over-reservation, no user over the limit, placement by the written rule,
 * waiting requests started in FIFO order and none left waiting that fits;
 * every START's allocation: its place, memory limit, and GPUs inside its
 * logical node (exclusive GPUs never held by two jobs at once).  Some cases
 * also take nodes out and bring them back (node availability): nothing new
 * is placed on an unavailable node, and a return starts the waiting
 * requests that fit, in FIFO order. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <string.h>

#include "mn-policy-test-util.h"

#define G (G_GUINT64_CONSTANT (1024))

typedef struct {
  guint64  id;
  guint    user;
  guint    cores;
  guint64  memory_mb;
  guint    gpus;
  guint64  gpu_memory_mb;
  gboolean running;
  guint    node, logical;
  guint64  gpu_mask;
} TJob;

typedef struct {
  const MnPolicyConfig *c;
  GHashTable *jobs;       /* id -> TJob */
  GQueue      waiting;    /* TJob, oldest first */
  guint      *lg_jobs;    /* per logical node */
  guint      *lg_gpus;
  guint64    *lg_gpu_mem;
  guint64    *lg_held;    /* EXCLUSIVE: GPUs held, as masks */
  guint64    *node_mem;
  guint      *user_running;
  guint      *user_waiting;
  guint       n_users;
  gboolean   *node_down;  /* unavailable: no new placement */
} Model;

static guint
lg_index (const Model *m, guint n, guint l)
{
  return n * m->c->logical_per_node + l;
}

static gboolean
model_fits (const Model *m, const TJob *j, guint n, guint l)
{
  const MnPolicyConfig *c = m->c;
  guint i = lg_index (m, n, l);

  if (m->node_down[n] || m->lg_jobs[i] >= c->max_jobs_per_logical || j->cores > c->logical_cores ||
      j->gpus > c->logical_gpus ||
      m->node_mem[n] + j->memory_mb > c->node_memory_mb + c->node_swap_mb)
    return FALSE;
  if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE && m->lg_gpus[i] + j->gpus > c->logical_gpus)
    return FALSE;
  if (c->gpu_mode == MN_GPU_MODE_CAPPED &&
      m->lg_gpu_mem[i] + j->gpu_memory_mb > c->logical_gpus * c->gpu_memory_mb)
    return FALSE;
  return TRUE;
}

/* The placement rule as the header states it, written independently. */
static gboolean
model_best (const Model *m, const TJob *j, guint *bn, guint *bl)
{
  const MnPolicyConfig *c = m->c;
  gboolean found = FALSE;

  for (guint n = 0; n < c->nodes; n++)
    for (guint l = 0; l < c->logical_per_node; l++)
      {
        guint64 total = c->node_memory_mb + c->node_swap_mb;

        if (!model_fits (m, j, n, l))
          continue;
        if (found)
          {
            guint a = m->lg_jobs[lg_index (m, n, l)], b = m->lg_jobs[lg_index (m, *bn, *bl)];
            guint64 fa = total - m->node_mem[n], fb = total - m->node_mem[*bn];

            /* slurm: no memory step, the lowest index wins ties */
            if (a > b || (a == b && (c->placement == MN_PLACEMENT_SLURM || fa <= fb)))
              continue;
          }
        found = TRUE;
        *bn = n;
        *bl = l;
      }
  return found;
}

static void
model_place (Model *m, TJob *j, guint n, guint l)
{
  const MnPolicyConfig *c = m->c;
  guint i = lg_index (m, n, l);

  g_assert_true (model_fits (m, j, n, l));
  g_assert_false (m->node_down[n]);
  j->running = TRUE;
  j->node = n;
  j->logical = l;
  m->lg_jobs[i]++;
  m->node_mem[n] += j->memory_mb;
  if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
    m->lg_gpus[i] += j->gpus;
  if (c->gpu_mode == MN_GPU_MODE_CAPPED)
    m->lg_gpu_mem[i] += j->gpu_memory_mb;
  m->user_running[j->user]++;
  /* The limits, checked on the test's own counters. */
  g_assert_cmpuint (m->lg_jobs[i], <=, c->max_jobs_per_logical);
  g_assert_cmpuint (m->node_mem[n], <=, c->node_memory_mb + c->node_swap_mb);
  g_assert_cmpuint (m->lg_gpus[i], <=, c->logical_gpus);
  g_assert_cmpuint (m->lg_gpu_mem[i], <=, c->logical_gpus * c->gpu_memory_mb);
}

/* What a START gives: its place, its memory limit, its GPUs. */
static void
check_allocation (Model *m, TJob *j, const MnDecision *d)
{
  const MnPolicyConfig *c = m->c;
  const MnPolicyAllocation *a = &d->allocation;
  guint i = lg_index (m, d->node, d->logical);
  guint64 own = 0;
  guint bits = 0;

  g_assert_cmpuint (a->job_id, ==, j->id);
  g_assert_cmpuint (a->node, ==, d->node);
  g_assert_cmpuint (a->logical, ==, d->logical);
  g_assert_cmpuint (a->memory_swap_max_mb, ==, j->memory_mb);
  g_assert_cmpuint (a->cpu_first, ==, d->logical * c->logical_cores);
  g_assert_cmpuint (a->cores, ==, j->cores);
  for (guint g = 0; g < c->logical_gpus; g++)
    own |= G_GUINT64_CONSTANT (1) << (d->logical * c->logical_gpus + g);
  for (guint64 x = a->gpu_mask; x != 0; x &= x - 1)
    bits++;
  g_assert_cmpuint (bits, ==, j->gpus);
  g_assert_cmpuint (a->gpu_mask & ~own, ==, 0);
  if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
    {
      g_assert_cmpuint (a->gpu_mask & m->lg_held[i], ==, 0);
      m->lg_held[i] |= a->gpu_mask;
    }
  j->gpu_mask = a->gpu_mask;
}

static void
model_unplace (Model *m, TJob *j)
{
  guint i = lg_index (m, j->node, j->logical);

  m->lg_held[i] &= ~j->gpu_mask;
  m->lg_jobs[i]--;
  m->node_mem[j->node] -= j->memory_mb;
  if (m->c->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
    m->lg_gpus[i] -= j->gpus;
  if (m->c->gpu_mode == MN_GPU_MODE_CAPPED)
    m->lg_gpu_mem[i] -= j->gpu_memory_mb;
  m->user_running[j->user]--;
}

static void
check_against_state (Model *m, MnPolicyState *s, gchar **user_names)
{
  const MnPolicyConfig *c = m->c;
  guint n_running = 0;

  for (guint n = 0; n < c->nodes; n++)
    {
      MnNodeInfo ni;
      guint node_jobs = 0;

      for (guint l = 0; l < c->logical_per_node; l++)
        {
          MnLogicalNodeInfo li;
          guint i = lg_index (m, n, l);

          mn_policy_state_logical_info (s, n, l, &li);
          g_assert_cmpuint (li.jobs, ==, m->lg_jobs[i]);
          g_assert_cmpuint (li.gpus_reserved, ==, m->lg_gpus[i]);
          g_assert_cmpuint (li.gpu_memory_reserved_mb, ==, m->lg_gpu_mem[i]);
          node_jobs += m->lg_jobs[i];
        }
      mn_policy_state_node_info (s, n, &ni);
      g_assert_cmpuint (ni.memory_committed_mb, ==, m->node_mem[n]);
      g_assert_cmpuint (ni.jobs, ==, node_jobs);
      n_running += node_jobs;
    }
  g_assert_cmpuint (mn_policy_state_n_running (s), ==, n_running);
  g_assert_cmpuint (mn_policy_state_n_waiting (s), ==, m->waiting.length);
  for (guint u = 0; u < m->n_users; u++)
    {
      g_assert_cmpuint (m->user_running[u] + m->user_waiting[u], <=, c->max_jobs_per_user);
      g_assert_cmpuint (mn_policy_state_user_jobs (s, user_names[u]), ==,
                        m->user_running[u] + m->user_waiting[u]);
    }
  for (guint n = 0; n < c->nodes; n++)
    g_assert_cmpint (mn_policy_state_node_available (s, n), ==, !m->node_down[n]);
  /* Nothing waits that could start now (the per-user limit never binds
   * here: a waiting request already counts against it; an unavailable
   * node does not count). */
  for (GList *it = m->waiting.head; it != NULL; it = it->next)
    {
      guint bn, bl;

      g_assert_false (model_best (m, it->data, &bn, &bl));
    }
}

/* The START decisions of a release or a node's return: waiting requests,
 * in FIFO order, each where the rule places it now. */
static void
check_started (Model *m, GArray *started)
{
  gint last = -1;

  for (guint i = 0; i < started->len; i++)
    {
      MnDecision *d = &g_array_index (started, MnDecision, i);
      TJob *w = g_hash_table_lookup (m->jobs, &d->job_id);
      gint pos;
      guint bn = 0, bl = 0;

      g_assert_nonnull (w);
      g_assert_false (w->running);
      /* FIFO: each started request stood behind the previous one. */
      pos = g_queue_index (&m->waiting, w);
      g_assert_cmpint (pos, >=, 0);
      g_assert_cmpint (pos, >=, last);
      last = pos;
      g_assert_true (model_best (m, w, &bn, &bl));
      g_assert_cmpuint (d->node, ==, bn);
      g_assert_cmpuint (d->logical, ==, bl);
      /* Once it leaves, the next one's index is >= its old one. */
      g_queue_remove (&m->waiting, w);
      m->user_waiting[w->user]--;
      check_allocation (m, w, d);
      model_place (m, w, bn, bl);
    }
}

typedef struct {
  const gchar *name;
  const gchar *config;
  guint        n_users;
  guint        churn;     /* per mille of steps: a node taken out or brought back */
} PropCase;

static const PropCase prop_cases[] = {
  { "default", NULL, 400 },
  { "memory-bound", "queue.nodes=2 logical_node.max_jobs=4 node.memory=128G node.swap=64G "
    "logical_node.memory=32G job.max_memory=30G queue.max_jobs_per_user=2", 60 },
  { "capped", "queue.nodes=1 logical_node.max_jobs=5 job.gpu_mode=capped", 40 },
  { "exclusive", "queue.nodes=2 job.gpu_mode=exclusive queue.max_jobs_per_user=3", 50 },
  { "slurm-placement", "queue.nodes=2 logical_node.max_jobs=3 queue.placement=slurm "
    "node.memory=128G node.swap=0 logical_node.memory=32G job.max_memory=30G", 60 },
  /* Two GPUs per logical node, jobs of one or two: which GPU ids a job gets. */
  { "exclusive-two-gpus", "queue.nodes=2 job.gpu_mode=exclusive queue.max_jobs_per_user=3 "
    "logical_node.per_node=2 logical_node.cores=14 logical_node.gpus=2 logical_node.memory=128G "
    "job.max_gpus=2 job.max_gpu_memory=32G", 50 },
  /* Nodes drained and back while requests come and go. */
  { "node-churn", "queue.nodes=3 logical_node.max_jobs=3 node.memory=128G node.swap=0 "
    "logical_node.memory=32G job.max_memory=30G", 60, 20 },
  { "node-churn-exclusive", "queue.nodes=3 job.gpu_mode=exclusive queue.max_jobs_per_user=2", 50, 30 },
};

static const guint32 seeds[] = { 1, 7, 2024 };
#define N_STEPS 40000

/* A request mostly within the caps; each dimension goes over its cap now
 * and then, so every refusal reason shows up too. */
static gboolean
over (GRand *r)
{
  return g_rand_int_range (r, 0, 40) == 0;
}

static guint64
pick_size (GRand *r, guint64 cap)
{
  static const guint64 sizes[] = { 0, 1 * G, 2 * G, 4 * G, 8 * G, 16 * G, 30 * G, 60 * G };
  guint64 v;

  if (over (r))
    return cap + 1;
  do
    v = sizes[g_rand_int_range (r, 0, G_N_ELEMENTS (sizes))];
  while (v > cap);
  return v;
}

static void
request_shape (GRand *r, const MnPolicyConfig *c, MnPolicyRequest *req)
{
  static const gint64 walls[] = { 0, 600, 3600, 86400 };

  req->cores = over (r) ? c->job_max_cores + 1 : (guint) g_rand_int_range (r, 0, c->job_max_cores + 1);
  req->memory_mb = pick_size (r, c->job_max_memory_mb);
  req->gpus = over (r) ? c->job_max_gpus + 1 : (guint) g_rand_int_range (r, 0, c->job_max_gpus + 1);
  req->gpu_memory_mb = pick_size (r, c->job_max_gpu_memory_mb);
  req->walltime = over (r) ? c->max_walltime + 1 : walls[g_rand_int_range (r, 0, G_N_ELEMENTS (walls))];
  req->if_busy = g_rand_int_range (r, 0, 4) == 0 ? MN_IF_BUSY_GIVE_UP : MN_IF_BUSY_WAIT;
}

static MnRejectReason
expected_reason (const Model *m, const TJob *j, gint64 walltime)
{
  const MnPolicyConfig *c = m->c;

  if (j->cores > c->job_max_cores)
    return MN_REJECT_OVER_CORES_CAP;
  if (j->memory_mb > c->job_max_memory_mb)
    return MN_REJECT_OVER_MEMORY_CAP;
  if (j->gpus > c->job_max_gpus)
    return MN_REJECT_OVER_GPUS_CAP;
  if (j->gpu_memory_mb > c->job_max_gpu_memory_mb)
    return MN_REJECT_OVER_GPU_MEMORY_CAP;
  if (walltime > c->max_walltime)
    return MN_REJECT_WALLTIME_TOO_LONG;
  if (m->user_running[j->user] + m->user_waiting[j->user] >= c->max_jobs_per_user)
    return MN_REJECT_PER_USER_LIMIT;
  return MN_REJECT_NONE;
}

static void
test_property (gconstpointer data)
{
  const PropCase *pc = data;
  g_autoptr (MnPolicyConfig) config = mn_test_config (pc->config);
  g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  g_auto (GStrv) user_names = g_new0 (gchar *, pc->n_users + 1);
  guint n_logical = config->nodes * config->logical_per_node;
  guint counts[3] = { 0 };
  guint counts_avail[2] = { 0 };   /* nodes back, nodes out */

  for (guint u = 0; u < pc->n_users; u++)
    user_names[u] = g_strdup_printf ("user%03u", u);

  for (gsize si = 0; si < G_N_ELEMENTS (seeds); si++)
    {
      g_autoptr (MnPolicyState) s = mn_policy_state_new (config);
      GRand *r = g_rand_new_with_seed (seeds[si]);
      g_autoptr (GArray) live = g_array_new (FALSE, FALSE, sizeof (guint64));
      Model m = { .c = config, .n_users = pc->n_users };
      guint64 next_id = 1;

      m.jobs = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
      g_queue_init (&m.waiting);
      m.lg_jobs = g_new0 (guint, n_logical);
      m.lg_gpus = g_new0 (guint, n_logical);
      m.lg_gpu_mem = g_new0 (guint64, n_logical);
      m.lg_held = g_new0 (guint64, n_logical);
      m.node_mem = g_new0 (guint64, config->nodes);
      m.user_running = g_new0 (guint, pc->n_users);
      m.user_waiting = g_new0 (guint, pc->n_users);
      m.node_down = g_new0 (gboolean, config->nodes);

      for (gint64 now = 0; now < N_STEPS; now++)
        {
          if (pc->churn > 0 && (guint) g_rand_int_range (r, 0, 1000) < pc->churn)
            {
              guint n = g_rand_int_range (r, 0, config->nodes);

              m.node_down[n] = !m.node_down[n];
              g_array_set_size (started, 0);
              g_assert_true (mn_policy_state_set_node_available (s, n, !m.node_down[n], now,
                                                                 started));
              if (m.node_down[n])
                g_assert_cmpuint (started->len, ==, 0);
              check_started (&m, started);
              check_against_state (&m, s, user_names);
              counts_avail[m.node_down[n]]++;
              continue;
            }
          /* Slightly more requests than releases keeps the queue busy. */
          if (live->len == 0 || g_rand_int_range (r, 0, 100) < 62)
            {
              MnPolicyRequest req = { .job_id = next_id++ };
              TJob *j = g_new0 (TJob, 1);
              MnDecision d;
              MnRejectReason want;
              guint bn = 0, bl = 0;
              gboolean fits;

              j->id = req.job_id;
              j->user = g_rand_int_range (r, 0, pc->n_users);
              req.user = user_names[j->user];
              request_shape (r, config, &req);
              j->cores = req.cores ? req.cores : 1;
              j->memory_mb = req.memory_mb ? req.memory_mb : config->job_max_memory_mb;
              j->gpus = req.gpus;
              /* A GPU job that names no GPU memory reserves the cap. */
              j->gpu_memory_mb = req.gpu_memory_mb || !req.gpus
                                 ? req.gpu_memory_mb : config->job_max_gpu_memory_mb;
              want = expected_reason (&m, j, req.walltime ? req.walltime : config->max_walltime);
              /* ... and no more than its GPUs hold. */
              if (j->gpus > 0)
                j->gpu_memory_mb = MIN (j->gpu_memory_mb, j->gpus * config->gpu_memory_mb);
              fits = model_best (&m, j, &bn, &bl);
              if (want == MN_REJECT_NONE && !fits && req.if_busy == MN_IF_BUSY_GIVE_UP)
                want = MN_REJECT_BUSY_GIVE_UP;

              mn_policy_state_request (s, &req, now, &d);
              counts[d.kind]++;
              if (want != MN_REJECT_NONE)
                {
                  g_assert_cmpint (d.kind, ==, MN_DECISION_REJECT);
                  g_assert_cmpstr (mn_reject_reason_to_string (d.reason), ==,
                                   mn_reject_reason_to_string (want));
                  g_free (j);
                }
              else if (fits)
                {
                  g_assert_cmpint (d.kind, ==, MN_DECISION_START);
                  g_assert_cmpuint (d.node, ==, bn);
                  g_assert_cmpuint (d.logical, ==, bl);
                  check_allocation (&m, j, &d);
                  model_place (&m, j, bn, bl);
                  g_hash_table_insert (m.jobs, &j->id, j);
                  g_array_append_val (live, j->id);
                }
              else
                {
                  g_assert_cmpint (d.kind, ==, MN_DECISION_WAIT);
                  g_queue_push_tail (&m.waiting, j);
                  m.user_waiting[j->user]++;
                  g_assert_cmpuint (d.position, ==, m.waiting.length);
                  g_hash_table_insert (m.jobs, &j->id, j);
                  g_array_append_val (live, j->id);
                }
              mn_decision_clear (&d);
            }
          else
            {
              guint k = g_rand_int_range (r, 0, live->len);
              guint64 id = g_array_index (live, guint64, k);
              TJob *j = g_hash_table_lookup (m.jobs, &id);

              g_array_remove_index_fast (live, k);
              if (j->running)
                model_unplace (&m, j);
              else
                {
                  g_queue_remove (&m.waiting, j);
                  m.user_waiting[j->user]--;
                }
              g_array_set_size (started, 0);
              g_assert_true (mn_policy_state_release (s, id, now, started));
              g_hash_table_remove (m.jobs, &id);

              check_started (&m, started);
            }
          check_against_state (&m, s, user_names);

          if (now % 500 == 0 && m.waiting.length > 0)
            {
              TJob *head = m.waiting.head->data;
              gint64 est = mn_policy_state_estimate_start (s, head->id, NULL, now);
              gboolean any_up = FALSE;

              for (guint n = 0; n < config->nodes; n++)
                any_up = any_up || !m.node_down[n];
              g_assert_cmpint (est, >=, now);
              /* never, only while every node is out (any node takes it empty) */
              if (any_up)
                g_assert_cmpint (est, <, G_MAXINT64);
              else
                g_assert_cmpint (est, ==, G_MAXINT64);
            }
        }
      g_test_message ("%s up to seed %u: %u started, %u waited, %u refused", pc->name,
                      seeds[si], counts[0], counts[1], counts[2]);
      g_rand_free (r);
      g_queue_clear (&m.waiting);
      g_hash_table_destroy (m.jobs);
      g_free (m.lg_jobs);
      g_free (m.lg_gpus);
      g_free (m.lg_gpu_mem);
      g_free (m.lg_held);
      g_free (m.node_mem);
      g_free (m.user_running);
      g_free (m.user_waiting);
      g_free (m.node_down);
    }
  /* The sequences really exercised all three outcomes. */
  g_assert_cmpuint (counts[MN_DECISION_START], >, 1000);
  g_assert_cmpuint (counts[MN_DECISION_WAIT], >, 100);
  g_assert_cmpuint (counts[MN_DECISION_REJECT], >, 100);
  if (pc->churn > 0)
    g_assert_cmpuint (MIN (counts_avail[0], counts_avail[1]), >, 100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (prop_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/policy/property/%s", prop_cases[i].name);

      g_test_add_data_func (path, &prop_cases[i], test_property);
    }
  return g_test_run ();
}
