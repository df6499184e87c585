/* test-policy-oversub.c: the over-subscription rules of the model (issue 19),
 * table by table: memory headroom and the extra-jobs limit, which node a job
 * is placed on, the batch rate, the stretch arithmetic, and the keys. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <string.h>

#include "mn-policy-test-util.h"

#define G (G_GUINT64_CONSTANT (1024))

/* ---- Headroom and the limit ------------------------------------------------- */

typedef struct {
  const gchar *path;
  const gchar *config;
  guint64      batch_mb, extra_mb;
  guint        extra_jobs;
  guint64      limit_mb;          /* the job's L */
  /* expected */
  guint64      headroom;
  gboolean     ok;
  MnWaitReason why;
} QualifyCase;

static const QualifyCase qualify_cases[] = {
  /* 256G node: a full-node batch job (240G) leaves 16G */
  { "/policy/oversub/qualify/empty-node", NULL, 0, 0, 0, 60 * G, 256 * G, TRUE, MN_WAIT_NONE },
  { "/policy/oversub/qualify/full-node-batch-leaves-16G", NULL, 240 * G, 0, 0, 60 * G,
    16 * G, FALSE, MN_WAIT_MEMORY },
  { "/policy/oversub/qualify/exactly-enough", NULL, 196 * G, 0, 0, 60 * G, 60 * G, TRUE, MN_WAIT_NONE },
  { "/policy/oversub/qualify/one-mib-short", NULL, 196 * G + 1, 0, 0, 60 * G,
    60 * G - 1, FALSE, MN_WAIT_MEMORY },
  { "/policy/oversub/qualify/extra-jobs-count", NULL, 120 * G, 60 * G, 1, 60 * G,
    76 * G, TRUE, MN_WAIT_NONE },
  { "/policy/oversub/qualify/extra-jobs-limit", NULL, 0, 120 * G, 2, 1 * G,
    136 * G, FALSE, MN_WAIT_SLOTS },
  { "/policy/oversub/qualify/limit-raised", "oversubscribe.max_extra_jobs_per_node=3",
    0, 120 * G, 2, 1 * G, 136 * G, TRUE, MN_WAIT_NONE },
  { "/policy/oversub/qualify/over-committed-node", NULL, 250 * G, 60 * G, 1, 1,
    0, FALSE, MN_WAIT_MEMORY },
  { "/policy/oversub/qualify/small-node", "node.memory=64G logical_node.memory=16G job.max_memory=16G job.max_swap=16G",
    48 * G, 0, 0, 16 * G, 16 * G, TRUE, MN_WAIT_NONE },
};

static void
test_qualify (gconstpointer data)
{
  const QualifyCase *c = data;
  g_autoptr (MnPolicyConfig) config = mn_test_config (c->config);
  MnOversubNode node = { c->batch_mb, c->extra_mb, c->extra_jobs };
  MnWaitReason why = 99;

  g_assert_cmpuint (mn_policy_oversub_headroom (config, &node), ==, c->headroom);
  g_assert_cmpint (mn_policy_oversub_qualifies (config, &node, c->limit_mb, &why), ==, c->ok);
  g_assert_cmpint (why, ==, c->why);
}

/* ---- Placement ---------------------------------------------------------------- */

typedef struct {
  const gchar *path;
  guint64      limit_mb;
  MnOversubNode nodes[4];
  gint         expect;
  MnWaitReason why;
} PlaceCase;

static const PlaceCase place_cases[] = {
  { "/policy/oversub/place/most-headroom", 60 * G,
    { { 120 * G, 0, 0 }, { 60 * G, 0, 0 }, { 180 * G, 0, 0 }, { 60 * G, 0, 0 } }, 1, MN_WAIT_NONE },
  { "/policy/oversub/place/fewest-extra-jobs-first", 8 * G,
    { { 0, 60 * G, 1 }, { 200 * G, 0, 0 }, { 240 * G, 0, 0 }, { 0, 8 * G, 1 } }, 1, MN_WAIT_NONE },
  { "/policy/oversub/place/lowest-index-on-ties", 8 * G,
    { { 240 * G, 0, 0 }, { 100 * G, 0, 0 }, { 100 * G, 0, 0 }, { 100 * G, 0, 0 } }, 1, MN_WAIT_NONE },
  { "/policy/oversub/place/none-memory", 60 * G,
    { { 240 * G, 0, 0 }, { 200 * G, 0, 0 }, { 0, 120 * G, 2 }, { 240 * G, 0, 0 } }, -1, MN_WAIT_MEMORY },
  { "/policy/oversub/place/none-slots", 1 * G,
    { { 0, 2 * G, 2 }, { 0, 2 * G, 2 }, { 0, 2 * G, 2 }, { 0, 2 * G, 2 } }, -1, MN_WAIT_SLOTS },
};

static void
test_place (gconstpointer data)
{
  const PlaceCase *c = data;
  g_autoptr (MnPolicyConfig) config = mn_test_config (NULL);
  MnWaitReason why = 99;

  g_assert_cmpint (mn_policy_oversub_place (config, c->nodes, 4, c->limit_mb, &why), ==, c->expect);
  g_assert_cmpint (why, ==, c->why);
}

/* ---- Rate and stretch ---------------------------------------------------------- */

typedef struct {
  const gchar *path;
  const gchar *config;
  guint        active;
  gdouble      rate;
} RateCase;

static const RateCase rate_cases[] = {
  { "/policy/oversub/rate/none-active", NULL, 0, 1.0 },
  { "/policy/oversub/rate/one-active", NULL, 1, 0.75 },
  { "/policy/oversub/rate/two-active", NULL, 2, 0.5 },
  { "/policy/oversub/rate/half-share", "oversubscribe.cpu_share=50% oversubscribe.max_extra_jobs_per_node=1", 1, 0.5 },
  { "/policy/oversub/rate/never-zero", "oversubscribe.cpu_share=90% oversubscribe.max_extra_jobs_per_node=1", 2, 0.05 },
};

static void
test_rate (gconstpointer data)
{
  const RateCase *c = data;
  g_autoptr (MnPolicyConfig) config = mn_test_config (c->config);

  g_assert_cmpfloat_with_epsilon (mn_policy_oversub_batch_rate (config, c->active), c->rate, 1e-12);
}

typedef struct {
  const gchar *path;
  gint64       now;
  gdouble      work;
  gdouble      rate;
  gint64       end;
} EndCase;

static const EndCase end_cases[] = {
  { "/policy/oversub/end/alone", 100, 900, 1.0, 1000 },
  { "/policy/oversub/end/half-rate", 100, 900, 0.5, 1900 },
  { "/policy/oversub/end/three-quarters", 0, 900, 0.75, 1200 },
  { "/policy/oversub/end/rounds-up", 0, 10, 0.75, 14 },
  { "/policy/oversub/end/no-work-left", 50, 0, 0.5, 50 },
  { "/policy/oversub/end/fraction-of-a-second", 0, 0.25, 0.5, 1 },
};

static void
test_end (gconstpointer data)
{
  const EndCase *c = data;

  g_assert_cmpint (mn_policy_oversub_end (c->now, c->work, c->rate), ==, c->end);
}

/* The whole arithmetic on one batch job: 1000 s of work from t = 0; an
 * interactive job active on its node from 100 to 300 takes 25%: the job did
 * 100 s alone, 150 s of work in the 200 s shared, and ends at 300 + 750 =
 * 1050: 50 s later, active time x share / 1 (the rate comes back after). */
static void
test_stretch_sequence (void)
{
  g_autoptr (MnPolicyConfig) config = mn_test_config (NULL);
  gdouble w = 1000;
  gdouble r = mn_policy_oversub_batch_rate (config, 0);

  g_assert_cmpint (mn_policy_oversub_end (0, w, r), ==, 1000);
  w = mn_policy_oversub_work_left (w, 0, 100, r);
  r = mn_policy_oversub_batch_rate (config, 1);
  g_assert_cmpint (mn_policy_oversub_end (100, w, r), ==, 1300);
  w = mn_policy_oversub_work_left (w, 100, 300, r);
  g_assert_cmpfloat_with_epsilon (w, 750.0, 1e-9);
  r = mn_policy_oversub_batch_rate (config, 0);
  g_assert_cmpint (mn_policy_oversub_end (300, w, r), ==, 1050);
  /* Past the end there is nothing left, never a negative amount. */
  g_assert_cmpfloat (mn_policy_oversub_work_left (w, 300, 2000, r), ==, 0.0);
}

/* ---- Keys ---------------------------------------------------------------------------- */

static void
test_keys (void)
{
  g_autoptr (MnPolicyConfig) d = mn_policy_config_new_default ();
  g_autoptr (MnPolicyConfig) h = mn_test_config ("oversubscribe.design=hybrid oversubscribe.cpu_share=20%");
  g_autoptr (MnPolicyConfig) back = NULL;
  g_autofree gchar *dtext = mn_policy_config_to_data (d);
  g_autofree gchar *htext = mn_policy_config_to_data (h);
  g_autofree gchar *keys = mn_policy_config_describe_keys ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (d->design, ==, MN_DESIGN_DEDICATED);
  g_assert_cmpuint (d->max_extra_jobs, ==, 2);
  g_assert_cmpfloat_with_epsilon (d->cpu_share, 0.25, 1e-12);
  /* A dedicated file is what it was before the group existed. */
  g_assert_null (strstr (dtext, "[oversubscribe]"));
  g_assert_nonnull (strstr (htext, "[oversubscribe]"));
  g_assert_nonnull (strstr (htext, "design = hybrid"));
  back = mn_policy_config_load_data (htext, -1, "h.conf", &error);
  g_assert_no_error (error);
  g_assert_true (mn_policy_config_equal (back, h));
  g_assert_nonnull (strstr (keys, "max_extra_jobs_per_node"));
  g_assert_nonnull (strstr (keys, "OVER-SUBSCRIPTION"));
  g_assert_cmpstr (mn_policy_design_to_string (MN_DESIGN_OVERSUBSCRIBE), ==, "oversubscribe");
}

/* The Slurm export: a partition over the batch nodes with OverSubscribe =
 * max_extra + 1 jobs per core and the interactive QOS, what Slurm cannot say
 * as comments; nothing of it for a dedicated design. */
static void
test_export_slurm (void)
{
  g_autoptr (MnPolicyConfig) d = mn_test_config (NULL);
  g_autoptr (MnPolicyConfig) o = mn_test_config ("oversubscribe.design=oversubscribe "
                                                 "oversubscribe.max_extra_jobs_per_node=3");
  g_autofree gchar *dt = mn_policy_export_slurm (d);
  g_autofree gchar *ot = mn_policy_export_slurm (o);

  g_assert_null (strstr (dt, "-shared"));
  g_assert_null (strstr (dt, "design ="));
  g_assert_nonnull (strstr (ot, "\nPartitionName=interactive-shared Nodes=batch[1-N] OverSubscribe=FORCE:4 "));
  g_assert_nonnull (strstr (ot, "QOS=interactive State=UP\n# ---- END slurm.conf ----"));
  g_assert_nonnull (strstr (ot, "OverSubscribe=FORCE:1"));        /* what the batch partition needs */
  g_assert_nonnull (strstr (ot, "Not expressed: max_extra_jobs_per_node"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (qualify_cases); i++)
    g_test_add_data_func (qualify_cases[i].path, &qualify_cases[i], test_qualify);
  for (gsize i = 0; i < G_N_ELEMENTS (place_cases); i++)
    g_test_add_data_func (place_cases[i].path, &place_cases[i], test_place);
  for (gsize i = 0; i < G_N_ELEMENTS (rate_cases); i++)
    g_test_add_data_func (rate_cases[i].path, &rate_cases[i], test_rate);
  for (gsize i = 0; i < G_N_ELEMENTS (end_cases); i++)
    g_test_add_data_func (end_cases[i].path, &end_cases[i], test_end);
  g_test_add_func ("/policy/oversub/stretch-sequence", test_stretch_sequence);
  g_test_add_func ("/policy/oversub/keys", test_keys);
  g_test_add_func ("/policy/oversub/export-slurm", test_export_slurm);
  return g_test_run ();
}
