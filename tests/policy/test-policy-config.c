/* test-policy-config.c: interactive.conf parsing, validation, messages, the
 * conformance corpus tests/data/policy/{y,n}_*.conf and the round trip. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <string.h>

#include "mn-policy-test-util.h"

#define G (G_GUINT64_CONSTANT (1024))

static void
test_defaults (void)
{
  g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();
  g_autoptr (GError) error = NULL;

  /* TSUBAME3 interactive.q */
  g_assert_cmpstr (c->queue_name, ==, "interactive.q");
  g_assert_cmpuint (c->nodes, ==, 4);
  g_assert_cmpint (c->max_walltime, ==, 24 * 3600);
  g_assert_cmpuint (c->max_jobs_per_user, ==, 1);
  g_assert_cmpint (c->idle_timeout, ==, 0);
  g_assert_cmpint (c->if_busy, ==, MN_IF_BUSY_WAIT);
  g_assert_cmpuint (c->node_cores, ==, 28);
  g_assert_cmpuint (c->node_gpus, ==, 4);
  g_assert_cmpuint (c->gpu_memory_mb, ==, 16 * G);
  g_assert_cmpuint (c->node_memory_mb, ==, 256 * G);
  g_assert_cmpuint (c->node_swap_mb, ==, 1536 * G);
  g_assert_cmpuint (c->logical_per_node, ==, 4);
  g_assert_cmpuint (c->logical_cores, ==, 7);
  g_assert_cmpuint (c->logical_gpus, ==, 1);
  g_assert_cmpuint (c->logical_memory_mb, ==, 64 * G);
  g_assert_cmpuint (c->max_jobs_per_logical, ==, 7);
  g_assert_cmpuint (c->job_max_cores, ==, 7);
  g_assert_cmpuint (c->job_max_memory_mb, ==, 60 * G);
  g_assert_cmpuint (c->job_max_gpus, ==, 1);
  g_assert_cmpuint (c->job_max_gpu_memory_mb, ==, 16 * G);
  g_assert_cmpint (c->gpu_mode, ==, MN_GPU_MODE_SHARED);
  g_assert_true (mn_policy_config_validate (c, &error));
  g_assert_no_error (error);
}

/* ---- Values of one key: text in, number (as canonical text) or error out ---- */

typedef struct {
  const gchar *path;
  const gchar *group, *key, *value;
  const gchar *canonical;   /* NULL: must fail */
  gint         code;
  const gchar *message_has;
} SetCase;

static const SetCase set_cases[] = {
  { "/policy/config/set/size-g", "job", "max_memory", "60G", "60G", 0, NULL },
  { "/policy/config/set/size-fraction", "node", "swap", "1.5T", "1536G", 0, NULL },
  { "/policy/config/set/size-plain-mib", "job", "max_memory", "512", "512M", 0, NULL },
  { "/policy/config/set/size-gib", "job", "max_memory", "2GiB", "2G", 0, NULL },
  { "/policy/config/set/size-lower", "job", "max_memory", "2g", "2G", 0, NULL },
  { "/policy/config/set/size-t", "node", "memory", "1T", "1T", 0, NULL },
  { "/policy/config/set/size-spaces", "job", "max_memory", "  8G ", "8G", 0, NULL },
  { "/policy/config/set/size-bad-suffix", "job", "max_memory", "60X", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "is not a size" },
  { "/policy/config/set/size-negative", "job", "max_memory", "-1G", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "is not a size" },
  { "/policy/config/set/size-exponent", "job", "max_memory", "1e3", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "is not a size" },
  { "/policy/config/set/size-empty", "job", "max_memory", "", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "is not a size" },
  { "/policy/config/set/size-huge", "node", "memory", "99999999999999T", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "out of range (allowed 64M..64T)" },
  { "/policy/config/set/duration-h", "queue", "max_walltime", "24h", "24h", 0, NULL },
  { "/policy/config/set/duration-d", "queue", "max_walltime", "3d", "3d", 0, NULL },
  { "/policy/config/set/duration-1d", "queue", "max_walltime", "1d", "24h", 0, NULL },
  { "/policy/config/set/duration-m", "queue", "max_walltime", "90m", "90m", 0, NULL },
  { "/policy/config/set/duration-s", "queue", "max_walltime", "3601", "3601s", 0, NULL },
  { "/policy/config/set/duration-fraction", "queue", "max_walltime", "1.5h", "90m", 0, NULL },
  { "/policy/config/set/duration-hms", "queue", "max_walltime", "12:30:00", "750m", 0, NULL },
  { "/policy/config/set/duration-hms-bad", "queue", "max_walltime", "12:75:00", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "is not a duration" },
  { "/policy/config/set/duration-too-short", "queue", "max_walltime", "30s", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "out of range (allowed 1m..31d)" },
  { "/policy/config/set/duration-too-long", "queue", "max_walltime", "32d", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "out of range" },
  { "/policy/config/set/idle-off", "queue", "idle_timeout", "0", "0", 0, NULL },
  { "/policy/config/set/uint", "queue", "nodes", "16", "16", 0, NULL },
  { "/policy/config/set/uint-zero", "queue", "nodes", "0", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "value '0' out of range (allowed 1..1024 nodes)" },
  { "/policy/config/set/uint-overflow", "queue", "nodes", "99999999999999999999999", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "out of range" },
  { "/policy/config/set/uint-text", "queue", "nodes", "four", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "is not a whole number" },
  { "/policy/config/set/uint-signed", "queue", "nodes", "+4", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "is not a whole number" },
  { "/policy/config/set/enum", "job", "gpu_mode", "exclusive", "exclusive", 0, NULL },
  { "/policy/config/set/enum-case", "queue", "if_busy", "Give_Up", "give_up", 0, NULL },
  { "/policy/config/set/enum-bad", "job", "gpu_mode", "mig", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "not one of: shared, capped, exclusive" },
  { "/policy/config/set/name", "queue", "name", "gpu-int.q", "gpu-int.q", 0, NULL },
  { "/policy/config/set/name-bad", "queue", "name", "int q", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "not a valid name" },
  { "/policy/config/set/name-empty", "queue", "name", "", NULL,
    MN_POLICY_ERROR_INVALID_CONFIG, "not a valid name" },
  { "/policy/config/set/unknown-key", "queue", "nodez", "4", NULL,
    MN_POLICY_ERROR_UNKNOWN_KEY, "did you mean 'nodes'?" },
  { "/policy/config/set/unknown-key-other-group", "queue", "per_node", "4", NULL,
    MN_POLICY_ERROR_UNKNOWN_KEY, "did you mean '[logical_node] per_node'?" },
  { "/policy/config/set/unknown-key-same-group-first", "job", "swap", "4", NULL,
    MN_POLICY_ERROR_UNKNOWN_KEY, "did you mean 'max_swap'?" },
  { "/policy/config/set/unknown-key-far", "job", "colour", "4", NULL,
    MN_POLICY_ERROR_UNKNOWN_KEY, "unknown key 'colour' in [job]" },
  { "/policy/config/set/unknown-group", "jobs", "max_cores", "4", NULL,
    MN_POLICY_ERROR_UNKNOWN_KEY, "did you mean [job]?" },
};

static void
test_set_case (gconstpointer data)
{
  const SetCase *tc = data;
  g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();
  g_autoptr (GError) error = NULL;
  gboolean ok = mn_policy_config_set (c, tc->group, tc->key, tc->value, &error);

  if (tc->canonical != NULL)
    {
      g_autofree gchar *got = NULL;

      g_assert_no_error (error);
      g_assert_true (ok);
      got = mn_policy_config_get (c, tc->group, tc->key);
      g_assert_cmpstr (got, ==, tc->canonical);
    }
  else
    {
      g_assert_false (ok);
      g_assert_error (error, MN_POLICY_ERROR, tc->code);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, tc->message_has));
      /* Every message names the key (or the group, if that is what's wrong). */
      g_assert_nonnull (strstr (error->message, tc->key) != NULL
                        ? error->message : strstr (error->message, tc->group));
    }
}

static void
test_get_unknown (void)
{
  g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();

  g_autoptr (GError) error = NULL;

  g_assert_null (mn_policy_config_get (c, "queue", "nope"));
  g_assert_null (mn_policy_config_get (c, NULL, "nodes"));
  g_assert_false (mn_policy_config_set (c, "queue", "nodes", NULL, &error));
  g_assert_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT);
}

/* ---- Whole files: messages carry FILE:LINE --------------------------------------- */

typedef struct {
  const gchar *path;
  const gchar *text;
  gint         code;
  const gchar *message;   /* exact */
} LoadCase;

static const LoadCase load_cases[] = {
  { "/policy/config/load/out-of-range", "[queue]\n# c\nnodes = 4000\n",
    MN_POLICY_ERROR_INVALID_CONFIG,
    "t.conf:3: [queue] nodes: value '4000' out of range (allowed 1..1024 nodes)" },
  { "/policy/config/load/size-out-of-range", "\n[job]\nmax_memory=100T\n",
    MN_POLICY_ERROR_INVALID_CONFIG,
    "t.conf:3: [job] max_memory: value '100T' out of range (allowed 1M..64T)" },
  { "/policy/config/load/unknown-key", "[queue]\nnodez = 4\n",
    MN_POLICY_ERROR_UNKNOWN_KEY,
    "t.conf:2: unknown key 'nodez' in [queue] (did you mean 'nodes'?)" },
  { "/policy/config/load/unknown-group", "[queue]\nnodes=2\n[nodes]\ncores=4\n",
    MN_POLICY_ERROR_UNKNOWN_KEY,
    "t.conf:3: unknown group [nodes] (did you mean [node]?)" },
  { "/policy/config/load/unknown-group-far", "[zzzzzzzz]\na=1\n",
    MN_POLICY_ERROR_UNKNOWN_KEY,
    "t.conf:1: unknown group [zzzzzzzz] (known groups: [queue], [node], [logical_node], [job], [oversubscribe])" },
  { "/policy/config/load/inconsistent-cores", "[node]\ncores = 28\n[logical_node]\ncores = 8\n",
    MN_POLICY_ERROR_INCONSISTENT,
    "t.conf:4: [logical_node] cores: 4 logical nodes x 8 cores = 32 exceeds "
    "the node's 28 cores ([node] cores)" },
  { "/policy/config/load/inconsistent-not-in-file", "[node]\ncores = 20\n",
    MN_POLICY_ERROR_INCONSISTENT,
    "t.conf:2: [logical_node] cores: 4 logical nodes x 7 cores = 28 exceeds "
    "the node's 20 cores ([node] cores)" },
  { "/policy/config/load/job-over-logical", "[job]\nmax_memory = 65G\n",
    MN_POLICY_ERROR_INCONSISTENT,
    "t.conf:2: [job] max_memory: 65G exceeds a logical node's 64G share "
    "([logical_node] memory)" },
  { "/policy/config/load/duplicate", "[queue]\nnodes=2\n\n[queue]\nnodes=3\n",
    MN_POLICY_ERROR_INVALID_CONFIG,
    "t.conf:5: [queue] nodes: set twice (first on line 2)" },
  { "/policy/config/load/before-group", "nodes = 4\n",
    MN_POLICY_ERROR_PARSE, "t.conf:1: key 'nodes' comes before any [group]" },
  { "/policy/config/load/not-a-line", "[queue]\nnodes 4\n",
    MN_POLICY_ERROR_PARSE,
    "t.conf:2: line 'nodes 4' is neither '[group]', 'key = value' nor a '#' comment" },
  { "/policy/config/load/bad-group-line", "[queue\n",
    MN_POLICY_ERROR_PARSE, "t.conf:1: malformed group line '[queue' (expected [name])" },
  { "/policy/config/load/inline-comment", "[queue]\nnodes = 4 # four\n",
    MN_POLICY_ERROR_INVALID_CONFIG,
    "t.conf:2: [queue] nodes: value '4 # four' is not a whole number" },
  { "/policy/config/load/bad-utf8", "[queue]\nname = \xff\n",
    MN_POLICY_ERROR_PARSE, NULL },
  { "/policy/config/load/locale-key", "[queue]\nname[fr] = x\n",
    MN_POLICY_ERROR_UNKNOWN_KEY, NULL },
};

static void
test_load_case (gconstpointer data)
{
  const LoadCase *tc = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MnPolicyConfig) c = mn_policy_config_load_data (tc->text, strlen (tc->text),
                                                             "t.conf", &error);

  g_assert_null (c);
  g_assert_error (error, MN_POLICY_ERROR, tc->code);
  g_test_message ("%s", error->message);
  if (tc->message != NULL)
    g_assert_cmpstr (error->message, ==, tc->message);
  else
    g_assert_true (g_str_has_prefix (error->message, "t.conf:"));
}

static void
test_load_nul_and_length (void)
{
  static const gchar text[] = "[queue]\nnodes = 2\0[queue]\nnodes=3\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (MnPolicyConfig) c = NULL;

  c = mn_policy_config_load_data (text, sizeof text - 1, "t.conf", &error);
  g_assert_null (c);
  g_assert_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_PARSE);
  g_assert_cmpstr (error->message, ==, "t.conf:2: NUL byte in a text file");
  g_clear_error (&error);

  /* The length bounds the text: only "nodes = 2" is read. */
  c = mn_policy_config_load_data (text, strlen (text), "t.conf", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->nodes, ==, 2);
  g_clear_pointer (&c, mn_policy_config_free);

  /* -1 means NUL-terminated; NULL and empty give the defaults. */
  c = mn_policy_config_load_data ("[queue]\nnodes=5\n", (gsize) -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->nodes, ==, 5);
  g_clear_pointer (&c, mn_policy_config_free);
  c = mn_policy_config_load_data (NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->nodes, ==, 4);
}

static void
test_validate_direct (void)
{
  g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();
  g_autoptr (GError) error = NULL;

  c->nodes = 0;
  g_assert_false (mn_policy_config_validate (c, &error));
  g_assert_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "[queue] nodes"));
  g_clear_error (&error);
  c->nodes = 4;
  c->gpu_mode = (MnGpuMode) 7;
  g_assert_false (mn_policy_config_validate (c, &error));
  g_assert_nonnull (strstr (error->message, "gpu_mode"));
  g_clear_error (&error);
  c->gpu_mode = MN_GPU_MODE_SHARED;
  g_clear_pointer (&c->queue_name, g_free);
  g_assert_false (mn_policy_config_validate (c, &error));
  g_assert_nonnull (strstr (error->message, "[queue] name"));
}

/* ---- The corpus: one runner, every file ---------------------------------------------- */

static gchar *
read_file_or_die (const gchar *path, gsize *length)
{
  gchar *text = NULL;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (path, &text, length, &error);
  g_assert_no_error (error);
  return text;
}

/* An n_ file's first line, "# expect: KEY", names the key its error names. */
static gchar *
expected_key (const gchar *text)
{
  const gchar *prefix = "# expect: ";
  g_auto (GStrv) lines = g_strsplit (text, "\n", 2);

  g_assert_true (g_str_has_prefix (lines[0], prefix));
  return g_strstrip (g_strdup (lines[0] + strlen (prefix)));
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

static void
test_corpus_file (gconstpointer data)
{
  const gchar *path = data;
  g_autofree gchar *base = g_path_get_basename (path);
  gsize length = 0;
  g_autofree gchar *text = read_file_or_die (path, &length);
  g_autoptr (GError) error = NULL;
  g_autoptr (MnPolicyConfig) c = mn_policy_config_load_data (text, length, base, &error);

  if (g_str_has_prefix (base, "y_"))
    {
      g_autofree gchar *again = NULL;
      g_autoptr (MnPolicyConfig) c2 = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (c);
      /* Whatever loads also round-trips. */
      again = mn_policy_config_to_data (c);
      c2 = mn_policy_config_load_data (again, strlen (again), base, &error);
      g_assert_no_error (error);
      g_assert_true (mn_policy_config_equal (c, c2));
    }
  else
    {
      g_autofree gchar *expect = expected_key (text);

      g_assert_null (c);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, base));
      g_assert_nonnull (strstr (error->message, expect));
    }
}

static GPtrArray *
corpus_files (void)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *dir = g_test_build_filename (G_TEST_DIST, "data", "policy", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (d == NULL)
    return files;
  while ((name = g_dir_read_name (d)) != NULL)
    if ((g_str_has_prefix (name, "y_") || g_str_has_prefix (name, "n_")) &&
        g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (files, compare_paths);
  return files;
}

static void
test_corpus_present (gconstpointer data)
{
  const GPtrArray *files = data;
  guint y = 0, n = 0;

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree gchar *base = g_path_get_basename (g_ptr_array_index (files, i));

      if (base[0] == 'y')
        y++;
      else
        n++;
    }
  g_assert_cmpuint (y, >=, 5);
  g_assert_cmpuint (n, >=, 10);
}

/* ---- Round trip and documentation --------------------------------------------------- */

static void
assert_round_trip (const MnPolicyConfig *c)
{
  g_autofree gchar *text = mn_policy_config_to_data (c);
  g_autofree gchar *text2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MnPolicyConfig) back = mn_policy_config_load_data (text, strlen (text),
                                                                "rt.conf", &error);

  g_assert_no_error (error);
  g_assert_true (mn_policy_config_equal (c, back));
  text2 = mn_policy_config_to_data (back);
  g_assert_cmpstr (text, ==, text2);
}

static void
test_round_trip (void)
{
  static const gchar *const variants[] = {
    NULL,
    "queue.name=gpu.q queue.nodes=64 queue.max_walltime=3601 queue.idle_timeout=90m "
    "queue.if_busy=give_up queue.max_jobs_per_user=3",
    "node.cores=64 node.gpus=8 node.gpu_memory=80G node.memory=1.5T node.swap=0 "
    "logical_node.per_node=8 logical_node.cores=8 logical_node.gpus=1 "
    "logical_node.memory=190G logical_node.max_jobs=3 job.max_cores=8 "
    "job.max_memory=1537M job.max_gpus=1 job.max_gpu_memory=80G job.gpu_mode=capped",
    "node.gpus=0 logical_node.gpus=0 job.max_gpus=0 job.max_gpu_memory=0 "
    "job.gpu_mode=exclusive",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      g_autoptr (MnPolicyConfig) c = mn_test_config (variants[i]);

      assert_round_trip (c);
    }
}

static void
test_round_trip_random (void)
{
  /* Random values for each numeric key, kept when they validate. */
  static const struct { const gchar *group, *key; guint64 lo, hi; const gchar *unit; } keys[] = {
    { "queue", "nodes", 1, 64, "" },
    { "queue", "max_walltime", 60, 7 * 86400, "s" },
    { "queue", "idle_timeout", 0, 86400, "s" },
    { "queue", "max_jobs_per_user", 1, 9, "" },
    { "node", "swap", 0, 4 << 20, "M" },
    { "logical_node", "max_jobs", 1, 20, "" },
    { "logical_node", "memory", 1024, 64 << 10, "M" },
    { "job", "max_memory", 1, 64 << 10, "M" },
    { "job", "max_gpu_memory", 0, 16 << 10, "M" },
  };
  GRand *rand = g_rand_new_with_seed (42);
  guint kept = 0;

  for (guint round = 0; round < 300; round++)
    {
      g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();

      for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          guint64 v = keys[k].lo + (guint64) (g_rand_double (rand) * (keys[k].hi - keys[k].lo + 1));
          g_autofree gchar *text = g_strdup_printf ("%" G_GUINT64_FORMAT "%s", v, keys[k].unit);

          g_assert_true (mn_policy_config_set (c, keys[k].group, keys[k].key, text, NULL));
        }
      if (!mn_policy_config_validate (c, NULL))
        continue;
      kept++;
      assert_round_trip (c);
    }
  g_assert_cmpuint (kept, >, 20);
  g_rand_free (rand);
}

static void
test_describe_keys (void)
{
  g_autofree gchar *doc = mn_policy_config_describe_keys ();
  g_autoptr (MnPolicyConfig) c = mn_policy_config_new_default ();
  g_autofree gchar *data = mn_policy_config_to_data (c);
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);
  guint n_keys = 0;

  /* Every key written to the file is documented, and preceded by help. */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree gchar *needle = NULL;
      const gchar *eq = strstr (lines[i], " = ");

      if (lines[i][0] == '#' || lines[i][0] == '[' || eq == NULL)
        continue;
      n_keys++;
      g_assert_true (i > 0 && lines[i - 1][0] == '#');
      needle = g_strdup_printf ("  %.*s = ", (int) (eq - lines[i]), lines[i]);
      g_assert_nonnull (strstr (doc, needle));
    }
  g_assert_cmpuint (n_keys, ==, 25);
}

static void
test_copy_equal (void)
{
  g_autoptr (MnPolicyConfig) a = mn_policy_config_new_default ();
  g_autoptr (MnPolicyConfig) b = mn_policy_config_copy (a);

  g_assert_true (mn_policy_config_equal (a, b));
  g_assert_true (a->queue_name != b->queue_name);
  mn_policy_config_set (b, "queue", "name", "x.q", NULL);
  g_assert_false (mn_policy_config_equal (a, b));
  mn_policy_config_set (b, "queue", "name", "interactive.q", NULL);
  b->node_swap_mb++;
  g_assert_false (mn_policy_config_equal (a, b));
  mn_policy_config_free (NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) files = NULL;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/config/defaults", test_defaults);
  for (gsize i = 0; i < G_N_ELEMENTS (set_cases); i++)
    g_test_add_data_func (set_cases[i].path, &set_cases[i], test_set_case);
  g_test_add_func ("/policy/config/get-unknown", test_get_unknown);
  for (gsize i = 0; i < G_N_ELEMENTS (load_cases); i++)
    g_test_add_data_func (load_cases[i].path, &load_cases[i], test_load_case);
  g_test_add_func ("/policy/config/load/nul-and-length", test_load_nul_and_length);
  g_test_add_func ("/policy/config/validate", test_validate_direct);
  g_test_add_func ("/policy/config/round-trip", test_round_trip);
  g_test_add_func ("/policy/config/round-trip-random", test_round_trip_random);
  g_test_add_func ("/policy/config/describe-keys", test_describe_keys);
  g_test_add_func ("/policy/config/copy-equal", test_copy_equal);

  files = corpus_files ();
  g_test_add_data_func ("/policy/corpus/present", files, test_corpus_present);
  for (guint i = 0; i < files->len; i++)
    {
      const gchar *path = g_ptr_array_index (files, i);
      g_autofree gchar *base = g_path_get_basename (path);
      g_autofree gchar *test_path = g_strdup_printf ("/policy/corpus/%s", base);

      g_test_add_data_func (test_path, path, test_corpus_file);
    }
  return g_test_run ();
}
