/* mn-policy-config.c: interactive.conf.  Every key lives in ONE table below;
 * libminna-config (config/) derives parsing, validation, the written-back
 * file and the key documentation from it, so they cannot drift apart.  What
 * is wrong only of keys together is checked here. */
#define G_LOG_DOMAIN "minna-policy"

#include <string.h>

#include "mn-config.h"
#include "mn-policy-private.h"

G_DEFINE_QUARK (mn-policy-error-quark, mn_policy_error)

static const gchar *const if_busy_names[] = { "wait", "give_up", NULL };
static const gchar *const gpu_mode_names[] = { "shared", "capped", "exclusive", NULL };
static const gchar *const placement_names[] = { "spread", "slurm", NULL };
static const gchar *const design_names[] = { "dedicated", "oversubscribe", "hybrid", NULL };

static gboolean
queue_name_is_valid (const gchar *s)
{
  if (!g_ascii_isalpha (s[0]))
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && *s != '.' && *s != '_' && *s != '-')
      return FALSE;
  return TRUE;
}

#define QUEUE_NAME_EXPECT \
  "a valid name (letters, digits, '.', '_' and '-', starting with a letter, 1..64 characters)"
#define OFF(field) G_STRUCT_OFFSET (MnPolicyConfig, field)
#define MIB_T  G_GINT64_CONSTANT (1048576)
#define DAY    G_GINT64_CONSTANT (86400)

static const MnConfigKey policy_keys[] = {
  { .group = "queue", .name = "name", .type = MN_CONFIG_STRING,
    .min = 1, .max = 64, .unit = "characters", .def = "interactive.q", .kind = "name",
    .valid = queue_name_is_valid, .expect = QUEUE_NAME_EXPECT,
    .offset = OFF (queue_name), .help =
    "Name of the queue (Grid Engine) or partition (Slurm) that runs interactive "
    "jobs.  Letters, digits, '.', '_' and '-', starting with a letter." },
  { .group = "queue", .name = "nodes", .type = MN_CONFIG_UINT,
    .min = 1, .max = 1024, .unit = "nodes", .def = "4",
    .offset = OFF (nodes), .help =
    "Number of compute nodes dedicated to the interactive queue." },
  { .group = "queue", .name = "max_walltime", .type = MN_CONFIG_DURATION,
    .min = 60, .max = 31 * DAY, .def = "24h",
    .offset = OFF (max_walltime), .help =
    "Longest run time of one interactive job (s, m, h or d suffix; HH:MM:SS "
    "also accepted).  Requests asking for more are refused; a request that "
    "asks for nothing gets this." },
  { .group = "queue", .name = "max_jobs_per_user", .type = MN_CONFIG_UINT,
    .min = 1, .max = 1000, .unit = "jobs", .def = "1",
    .offset = OFF (max_jobs_per_user), .help =
    "Most interactive jobs one user may hold at once, running and waiting "
    "together." },
  { .group = "queue", .name = "idle_timeout", .type = MN_CONFIG_DURATION,
    .min = 0, .max = 31 * DAY, .def = "0",
    .offset = OFF (idle_timeout), .help =
    "A session with no kernel activity for this long is stopped and its slot "
    "freed; 0 turns this off." },
  { .group = "queue", .name = "if_busy", .type = MN_CONFIG_ENUM,
    .choices = if_busy_names, .def = "wait",
    .offset = OFF (if_busy), .help =
    "What a request does by default when no slot is free: wait (join the "
    "FIFO) or give_up (refused at once, like qrsh -now y)." },
  { .group = "queue", .name = "placement", .type = MN_CONFIG_ENUM,
    .choices = placement_names, .def = "spread",
    .offset = OFF (placement), .help =
    "Which logical node a job starts on: spread (the logical node with the "
    "fewest jobs, then the node with the most uncommitted memory, then the "
    "lowest index) or slurm (the fewest jobs, then the lowest node and socket, "
    "memory aside: the order Slurm 22.05 gave a burst of jobs that name no "
    "socket).  Every backend that places enforces the rule chosen: the local "
    "one by cpuset, Slurm's by submitting the node and the logical node's GRES "
    "(see minna-policy export --slurm)." },

  { .group = "node", .name = "cores", .type = MN_CONFIG_UINT,
    .min = 1, .max = 4096, .unit = "cores", .def = "28",
    .offset = OFF (node_cores), .help =
    "CPU cores of one node." },
  { .group = "node", .name = "gpus", .type = MN_CONFIG_UINT,
    .min = 0, .max = 64, .unit = "GPUs", .def = "4",
    .offset = OFF (node_gpus), .help =
    "GPUs of one node." },
  { .group = "node", .name = "gpu_memory", .type = MN_CONFIG_SIZE,
    .min = 0, .max = MIB_T, .def = "16G",
    .offset = OFF (gpu_memory_mb), .help =
    "Memory of ONE GPU (M, G or T suffix; no suffix means MiB)." },
  { .group = "node", .name = "memory", .type = MN_CONFIG_SIZE,
    .min = 64, .max = 64 * MIB_T, .def = "256G",
    .offset = OFF (node_memory_mb), .help =
    "RAM of one node." },
  { .group = "node", .name = "swap", .type = MN_CONFIG_SIZE,
    .min = 0, .max = 64 * MIB_T, .def = "1536G",
    .offset = OFF (node_swap_mb), .help =
    "Swap of one node.  Jobs may together commit up to RAM + swap on a node; "
    "swap takes what RAM cannot hold." },

  { .group = "logical_node", .name = "per_node", .type = MN_CONFIG_UINT,
    .min = 1, .max = 256, .unit = "logical nodes", .def = "4",
    .offset = OFF (logical_per_node), .help =
    "Logical nodes each node is split into (TSUBAME3 splits a node in four)." },
  { .group = "logical_node", .name = "cores", .type = MN_CONFIG_UINT,
    .min = 1, .max = 4096, .unit = "cores", .def = "7",
    .offset = OFF (logical_cores), .help =
    "Cores of one logical node, shared by the jobs placed on it." },
  { .group = "logical_node", .name = "gpus", .type = MN_CONFIG_UINT,
    .min = 0, .max = 64, .unit = "GPUs", .def = "1",
    .offset = OFF (logical_gpus), .help =
    "GPUs of one logical node." },
  { .group = "logical_node", .name = "memory", .type = MN_CONFIG_SIZE,
    .min = 64, .max = 64 * MIB_T, .def = "64G",
    .offset = OFF (logical_memory_mb), .help =
    "RAM share of one logical node; one job may not ask for more." },
  { .group = "logical_node", .name = "max_jobs", .type = MN_CONFIG_UINT,
    .min = 1, .max = 1024, .unit = "jobs", .def = "7",
    .offset = OFF (max_jobs_per_logical), .help =
    "Most jobs placed on one logical node at once (they share its cores)." },

  { .group = "job", .name = "max_cores", .type = MN_CONFIG_UINT,
    .min = 1, .max = 4096, .unit = "cores", .def = "7",
    .offset = OFF (job_max_cores), .help =
    "Most cores one job may ask for." },
  { .group = "job", .name = "max_memory", .type = MN_CONFIG_SIZE,
    .min = 1, .max = 64 * MIB_T, .def = "60G",
    .offset = OFF (job_max_memory_mb), .help =
    "Most memory one job may ask for; a job that asks for none is given this." },
  { .group = "job", .name = "max_gpus", .type = MN_CONFIG_UINT,
    .min = 0, .max = 64, .unit = "GPUs", .def = "1",
    .offset = OFF (job_max_gpus), .help =
    "Most GPUs one job may ask for." },
  { .group = "job", .name = "max_gpu_memory", .type = MN_CONFIG_SIZE,
    .min = 0, .max = MIB_T, .def = "16G",
    .offset = OFF (job_max_gpu_memory_mb), .help =
    "Most GPU memory one job may ask for (over all its GPUs)." },
  { .group = "job", .name = "gpu_mode", .type = MN_CONFIG_ENUM,
    .choices = gpu_mode_names, .def = "shared",
    .offset = OFF (gpu_mode), .help =
    "How jobs on a logical node share its GPUs: shared (all use them, GPU "
    "memory first come first served), capped (each job reserves its GPU-memory "
    "request) or exclusive (a job asking for GPUs gets them whole)." },
  { .group = "job", .name = "max_swap", .type = MN_CONFIG_SIZE,
    .min = 0, .max = 64 * MIB_T, .def = "60G",
    .offset = OFF (job_max_swap_mb), .help =
    "Swap allowance of one job: how much of its memory may be in swap when "
    "its node's RAM is full (at most its memory limit, which bounds RAM and "
    "swap together).  0 keeps every job's memory in RAM." },
  { .group = "job", .name = "extend_step", .type = MN_CONFIG_DURATION,
    .min = 0, .max = 31 * DAY, .def = "1h",
    .offset = OFF (job_extend_step), .help =
    "How much walltime one Extend adds to a running job (the portal's Extend "
    "button, POST /api/v1/sessions/ID/extend).  0 turns Extend off." },
  { .group = "job", .name = "extend_max", .type = MN_CONFIG_DURATION,
    .min = 0, .max = 31 * DAY, .def = "0",
    .offset = OFF (job_extend_max), .help =
    "Longest walltime a job may reach by extending it, counted from its "
    "start; 0 means [queue] max_walltime.  At most [queue] max_walltime (the "
    "schedulers' partitions and queues are exported with that limit)." },

  /* Issue 19.  Last in the table: a file of the dedicated design leaves the
   * group out when it holds the defaults (N_OVERSUB_KEYS below). */
  { .group = "oversubscribe", .name = "design", .type = MN_CONFIG_ENUM,
    .choices = design_names, .def = "dedicated",
    .offset = OFF (design), .help =
    "How interactive jobs get nodes: dedicated (interactive.q, [queue] nodes "
    "carved out of the machine), oversubscribe (no interactive.q: a job starts "
    "on a batch node with the memory headroom for its limit and takes "
    "cpu_share of its CPU time from the batch jobs there, which run longer) or "
    "hybrid (interactive.q first, over-subscription when it is full)." },
  { .group = "oversubscribe", .name = "max_extra_jobs_per_node", .type = MN_CONFIG_UINT,
    .min = 1, .max = 64, .unit = "jobs", .def = "2",
    .offset = OFF (max_extra_jobs), .help =
    "Most interactive jobs over-subscribing one batch node at once." },
  { .group = "oversubscribe", .name = "cpu_share", .type = MN_CONFIG_SHARE,
    .min = 1, .max = 90, .def = "25%",
    .offset = OFF (cpu_share), .help =
    "Share of a batch node's CPU time one active interactive job takes from "
    "the batch jobs there (25% = 7 of 28 cores): they run at 1 - k x this with "
    "k active interactive jobs on the node." },
};

#define N_OVERSUB_KEYS 3

#define POLICY_ERROR_CODES \
  { [MN_CONFIG_ERROR_PARSE] = MN_POLICY_ERROR_PARSE, \
    [MN_CONFIG_ERROR_UNKNOWN_KEY] = MN_POLICY_ERROR_UNKNOWN_KEY, \
    [MN_CONFIG_ERROR_INVALID_VALUE] = MN_POLICY_ERROR_INVALID_CONFIG, \
    [MN_CONFIG_ERROR_DUPLICATE] = MN_POLICY_ERROR_INVALID_CONFIG, \
    [MN_CONFIG_ERROR_MISSING_KEY] = MN_POLICY_ERROR_INVALID_CONFIG, \
    [MN_CONFIG_ERROR_INVALID_ARGUMENT] = MN_POLICY_ERROR_INVALID_ARGUMENT }

static const MnConfigTable table = {
  policy_keys, G_N_ELEMENTS (policy_keys), 0, mn_policy_error_quark, POLICY_ERROR_CODES,
};

/* The keys without [oversubscribe]: what a dedicated design's file is
 * written with, byte for byte what it was before the group existed. */
static const MnConfigTable table_dedicated = {
  policy_keys, G_N_ELEMENTS (policy_keys) - N_OVERSUB_KEYS, 0, mn_policy_error_quark,
  POLICY_ERROR_CODES,
};

/* ---- Formatting and the value grammar (shared with twin scenarios) -------- */

gchar *
mn_policy_format_size (guint64 mib)
{
  return mn_config_format_size (mib);
}

gchar *
mn_policy_format_duration (gint64 seconds)
{
  return mn_config_format_duration (seconds);
}

gchar *
mn_policy_format_hms (gint64 seconds)
{
  return mn_config_format_hms (seconds);
}

gboolean
mn_policy_parse_size (const gchar *text, guint64 *mib)
{
  return mn_config_parse_size (text, mib) == MN_CONFIG_PARSE_OK;
}

gboolean
mn_policy_parse_duration (const gchar *text, gint64 *seconds)
{
  guint64 v;

  if (mn_config_parse_duration (text, &v) != MN_CONFIG_PARSE_OK || v > G_MAXINT64 / 2)
    return FALSE;
  *seconds = (gint64) v;
  return TRUE;
}

const gchar *
mn_policy_if_busy_to_string (MnIfBusy if_busy)
{
  return mn_policy_name_of (if_busy_names, G_N_ELEMENTS (if_busy_names), if_busy, "invalid");
}

const gchar *
mn_policy_placement_to_string (MnPlacement placement)
{
  return mn_policy_name_of (placement_names, G_N_ELEMENTS (placement_names), placement, "invalid");
}

const gchar *
mn_policy_design_to_string (MnDesign design)
{
  return mn_policy_name_of (design_names, G_N_ELEMENTS (design_names), design, "invalid");
}

const gchar *
mn_policy_gpu_mode_to_string (MnGpuMode mode)
{
  return mn_policy_name_of (gpu_mode_names, G_N_ELEMENTS (gpu_mode_names), mode, "invalid");
}

/* ---- Defaults, copy, free, equality ------------------------------------------ */

MnPolicyConfig *
mn_policy_config_new_default (void)
{
  return mn_config_new (&table, sizeof (MnPolicyConfig));
}

MnPolicyConfig *
mn_policy_config_copy (const MnPolicyConfig *config)
{
  return mn_config_dup (&table, config, sizeof *config);
}

void
mn_policy_config_free (MnPolicyConfig *config)
{
  mn_config_free (&table, config);
}

gboolean
mn_policy_config_equal (const MnPolicyConfig *a, const MnPolicyConfig *b)
{
  return mn_config_equal (&table, a, b);
}

/* ---- Validation --------------------------------------------------------------- */

/* @blame[0] is the key the message names; @blame[1] the other key it
 * mentions, whose line is shown when the first is not in the file. */
static gboolean
fail_inconsistent (const MnConfigKey **blame, const gchar *group,
                   const gchar *key, const gchar *other_group,
                   const gchar *other_key, GError **error,
                   const gchar *fmt, ...) G_GNUC_PRINTF (7, 8);

static gboolean
fail_inconsistent (const MnConfigKey **blame, const gchar *group,
                   const gchar *key, const gchar *other_group,
                   const gchar *other_key, GError **error,
                   const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *detail = NULL;

  va_start (ap, fmt);
  detail = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  blame[0] = mn_config_lookup (&table, group, key);
  blame[1] = mn_config_lookup (&table, other_group, other_key);
  g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INCONSISTENT,
               "[%s] %s: %s", group, key, detail);
  return FALSE;
}

/* Every key alone, then the keys together.  @blame gets the key the message
 * names, so load_data can point at its line. */
/* Every key alone, then the keys together.  @blame gets the key the message
 * names, so load_data can point at its line. */
static gboolean
validate_config (const MnPolicyConfig *c, const MnConfigKey *blame[2], GError **error)
{
  g_autofree gchar *a = NULL;
  g_autofree gchar *b = NULL;
  g_autofree gchar *d = NULL;

  blame[0] = blame[1] = NULL;
  if (!mn_config_validate (&table, c, &blame[0], error))
    return FALSE;

  if ((guint64) c->logical_per_node * c->logical_cores > c->node_cores)
    return fail_inconsistent (blame, "logical_node", "cores", "node", "cores", error,
                              "%u logical nodes x %u cores = %" G_GUINT64_FORMAT
                              " exceeds the node's %u cores ([node] cores)",
                              c->logical_per_node, c->logical_cores,
                              (guint64) c->logical_per_node * c->logical_cores,
                              c->node_cores);
  if ((guint64) c->logical_per_node * c->logical_gpus > c->node_gpus)
    return fail_inconsistent (blame, "logical_node", "gpus", "node", "gpus", error,
                              "%u logical nodes x %u GPUs = %" G_GUINT64_FORMAT
                              " exceeds the node's %u GPUs ([node] gpus)",
                              c->logical_per_node, c->logical_gpus,
                              (guint64) c->logical_per_node * c->logical_gpus,
                              c->node_gpus);
  if (c->logical_per_node * c->logical_memory_mb > c->node_memory_mb)
    {
      a = mn_config_format_size (c->logical_memory_mb);
      b = mn_config_format_size (c->node_memory_mb);
      d = mn_config_format_size (c->logical_per_node * c->logical_memory_mb);
      return fail_inconsistent (blame, "logical_node", "memory", "node", "memory", error,
                                "%u logical nodes x %s = %s exceeds the node's "
                                "%s of RAM ([node] memory)",
                                c->logical_per_node, a, d, b);
    }
  if (c->node_gpus > 0 && c->gpu_memory_mb == 0)
    return fail_inconsistent (blame, "node", "gpu_memory", "node", "gpus", error,
                              "is 0 but the node has %u GPUs; give the memory "
                              "of one GPU", c->node_gpus);
  if (c->job_extend_max > c->max_walltime)
    {
      g_autofree gchar *asked = mn_config_format_duration (c->job_extend_max);
      g_autofree gchar *most = mn_config_format_duration (c->max_walltime);
      return fail_inconsistent (blame, "job", "extend_max", "queue", "max_walltime", error,
                                "%s exceeds [queue] max_walltime %s (a job never runs longer)",
                                asked, most);
    }
  if (c->job_max_cores > c->logical_cores)
    return fail_inconsistent (blame, "job", "max_cores", "logical_node", "cores", error,
                              "%u exceeds a logical node's %u cores "
                              "([logical_node] cores)",
                              c->job_max_cores, c->logical_cores);
  if (c->job_max_gpus > c->logical_gpus)
    return fail_inconsistent (blame, "job", "max_gpus", "logical_node", "gpus", error,
                              "%u exceeds a logical node's %u GPU%s "
                              "([logical_node] gpus)",
                              c->job_max_gpus, c->logical_gpus,
                              c->logical_gpus == 1 ? "" : "s");
  if (c->job_max_memory_mb > c->logical_memory_mb)
    {
      a = mn_config_format_size (c->job_max_memory_mb);
      b = mn_config_format_size (c->logical_memory_mb);
      return fail_inconsistent (blame, "job", "max_memory", "logical_node", "memory", error,
                                "%s exceeds a logical node's %s share "
                                "([logical_node] memory)", a, b);
    }
  if (c->logical_gpus > 0 &&
      c->job_max_gpu_memory_mb > c->logical_gpus * c->gpu_memory_mb)
    {
      a = mn_config_format_size (c->job_max_gpu_memory_mb);
      b = mn_config_format_size (c->gpu_memory_mb);
      return fail_inconsistent (blame, "job", "max_gpu_memory", "logical_node", "gpus", error,
                                "%s exceeds a logical node's %u x %s of GPU "
                                "memory ([logical_node] gpus x [node] gpu_memory)",
                                a, c->logical_gpus, b);
    }
  /* Rates stay above 0: a batch job must always progress. */
  if (c->max_extra_jobs * c->cpu_share > 0.95 + 1e-9)
    return fail_inconsistent (blame, "oversubscribe", "cpu_share", "oversubscribe",
                              "max_extra_jobs_per_node", error,
                              "%g%% x %u jobs ([oversubscribe] max_extra_jobs_per_node) "
                              "takes %g%% of a node's CPU from its batch jobs; at most 95%%",
                              c->cpu_share * 100.0, c->max_extra_jobs,
                              c->max_extra_jobs * c->cpu_share * 100.0);
  return TRUE;
}

gboolean
mn_policy_config_validate (const MnPolicyConfig *config, GError **error)
{
  const MnConfigKey *blame[2];

  return validate_config (config, blame, error);
}

gboolean
mn_policy_config_set (MnPolicyConfig *config, const gchar *group,
                      const gchar *key, const gchar *value, GError **error)
{
  return mn_config_set (&table, config, group, key, value, error);
}

gchar *
mn_policy_config_get (const MnPolicyConfig *config, const gchar *group,
                      const gchar *key)
{
  return mn_config_get (&table, config, group, key);
}

/* ---- Loading a file ----------------------------------------------------------- */

MnPolicyConfig *
mn_policy_config_load_data (const gchar *data, gsize length,
                            const gchar *filename, GError **error)
{
  g_autoptr (MnPolicyConfig) config = mn_policy_config_new_default ();
  g_autoptr (MnConfigLines) lines = NULL;
  const MnConfigKey *blame[2] = { NULL, NULL };
  guint lineno = 0;

  if (filename == NULL)
    filename = "interactive.conf";
  if (!mn_config_load_data (&table, config, data,
                            length == (gsize) -1 ? -1 : (gssize) length, filename,
                            &lines, error))
    return NULL;
  if (!validate_config (config, blame, error))
    {
      for (guint i = 0; i < 2 && lineno == 0; i++)
        if (blame[i] != NULL)
          lineno = mn_config_lines_find (lines, blame[i]->group, blame[i]->name);
      if (lineno > 0)
        g_prefix_error (error, "%s:%u: ", filename, lineno);
      else
        g_prefix_error (error, "%s: ", filename);
      return NULL;
    }
  return g_steal_pointer (&config);
}

/* ---- Writing back and documenting ------------------------------------------------ */

/* A dedicated design with the over-subscription keys at their defaults. */
static gboolean
oversub_is_default (const MnPolicyConfig *config)
{
  g_autoptr (MnPolicyConfig) d = mn_policy_config_new_default ();

  return config->design == d->design && config->max_extra_jobs == d->max_extra_jobs
         && config->cpu_share == d->cpu_share;
}

gchar *
mn_policy_config_to_data (const MnPolicyConfig *config)
{
  return mn_config_write (oversub_is_default (config) ? &table_dedicated : &table, config,
                          "# interactive.conf: the interactive queue policy of minna.\n"
                          "# Sizes take M, G or T (MiB, GiB, TiB); durations s, m, h or d.\n"
                          "# `minna-policy keys` documents every key.\n",
                          MN_CONFIG_WRITE_WRAP | MN_CONFIG_WRITE_ALLOWED |
                          MN_CONFIG_WRITE_SPACED);
}

gchar *
mn_policy_config_describe_keys (void)
{
  g_autofree gchar *keys = mn_config_describe_text (&table);
  g_autofree gchar *model = mn_policy_describe_model ();

  return g_strconcat ("Keys of interactive.conf (a GLib key file).  A key left out "
                      "keeps its default,\nthe TSUBAME3 interactive.q setting.\n",
                      keys, "\n", model, NULL);
}
