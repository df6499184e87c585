/* mn-policy-config.c: interactive.conf.  Every key lives in ONE table below;
 * parsing, validation, the written-back file and the key documentation are
 * all derived from it, so they cannot drift apart. */
#define G_LOG_DOMAIN "minna-policy"

#include <string.h>

#include "mn-policy-private.h"

G_DEFINE_QUARK (mn-policy-error-quark, mn_policy_error)

typedef enum {
  MN_KEY_UINT,      /* guint */
  MN_KEY_SIZE,      /* guint64 MiB, text "60G" */
  MN_KEY_DURATION,  /* gint64 seconds, text "24h" */
  MN_KEY_ENUM,      /* an enum stored as int, text one of choices */
  MN_KEY_STRING,    /* gchar *, min/max bound its length */
} MnKeyType;

typedef struct {
  const gchar       *group;
  const gchar       *key;
  MnKeyType          type;
  const gchar       *unit;     /* plural noun for UINT, stored unit otherwise */
  guint64            min;
  guint64            max;
  const gchar       *def;      /* default, as text: parsed like a file value */
  const gchar *const *choices; /* ENUM only, NULL-terminated, index = value */
  gsize              offset;
  const gchar       *help;
} MnPolicyKey;

static const gchar *const if_busy_names[] = { "wait", "give_up", NULL };
static const gchar *const gpu_mode_names[] = { "shared", "capped", "exclusive", NULL };

#define OFF(field) G_STRUCT_OFFSET (MnPolicyConfig, field)
#define MIB_G  G_GUINT64_CONSTANT (1024)
#define MIB_T  G_GUINT64_CONSTANT (1048576)
#define DAY    G_GUINT64_CONSTANT (86400)

static const MnPolicyKey policy_keys[] = {
  { "queue", "name", MN_KEY_STRING, "characters", 1, 64, "interactive.q", NULL,
    OFF (queue_name),
    "Name of the queue (Grid Engine) or partition (Slurm) that runs interactive "
    "jobs.  Letters, digits, '.', '_' and '-', starting with a letter." },
  { "queue", "nodes", MN_KEY_UINT, "nodes", 1, 1024, "4", NULL, OFF (nodes),
    "Number of compute nodes dedicated to the interactive queue." },
  { "queue", "max_walltime", MN_KEY_DURATION, "s", 60, 31 * DAY, "24h", NULL,
    OFF (max_walltime),
    "Longest run time of one interactive job (s, m, h or d suffix; HH:MM:SS "
    "also accepted).  Requests asking for more are refused; a request that "
    "asks for nothing gets this." },
  { "queue", "max_jobs_per_user", MN_KEY_UINT, "jobs", 1, 1000, "1", NULL,
    OFF (max_jobs_per_user),
    "Most interactive jobs one user may hold at once, running and waiting "
    "together." },
  { "queue", "idle_timeout", MN_KEY_DURATION, "s", 0, 31 * DAY, "0", NULL,
    OFF (idle_timeout),
    "A session with no kernel activity for this long is stopped and its slot "
    "freed; 0 turns this off." },
  { "queue", "if_busy", MN_KEY_ENUM, NULL, 0, 1, "wait", if_busy_names,
    OFF (if_busy),
    "What a request does by default when no slot is free: wait (join the "
    "FIFO) or give_up (refused at once, like qrsh -now y)." },

  { "node", "cores", MN_KEY_UINT, "cores", 1, 4096, "28", NULL, OFF (node_cores),
    "CPU cores of one node." },
  { "node", "gpus", MN_KEY_UINT, "GPUs", 0, 64, "4", NULL, OFF (node_gpus),
    "GPUs of one node." },
  { "node", "gpu_memory", MN_KEY_SIZE, "MiB", 0, MIB_T, "16G", NULL,
    OFF (gpu_memory_mb),
    "Memory of ONE GPU (M, G or T suffix; no suffix means MiB)." },
  { "node", "memory", MN_KEY_SIZE, "MiB", 64, 64 * MIB_T, "256G", NULL,
    OFF (node_memory_mb),
    "RAM of one node." },
  { "node", "swap", MN_KEY_SIZE, "MiB", 0, 64 * MIB_T, "1536G", NULL,
    OFF (node_swap_mb),
    "Swap of one node.  Jobs may together commit up to RAM + swap on a node; "
    "swap takes what RAM cannot hold." },

  { "logical_node", "per_node", MN_KEY_UINT, "logical nodes", 1, 256, "4", NULL,
    OFF (logical_per_node),
    "Logical nodes each node is split into (TSUBAME3 splits a node in four)." },
  { "logical_node", "cores", MN_KEY_UINT, "cores", 1, 4096, "7", NULL,
    OFF (logical_cores),
    "Cores of one logical node, shared by the jobs placed on it." },
  { "logical_node", "gpus", MN_KEY_UINT, "GPUs", 0, 64, "1", NULL,
    OFF (logical_gpus),
    "GPUs of one logical node." },
  { "logical_node", "memory", MN_KEY_SIZE, "MiB", 64, 64 * MIB_T, "64G", NULL,
    OFF (logical_memory_mb),
    "RAM share of one logical node; one job may not ask for more." },
  { "logical_node", "max_jobs", MN_KEY_UINT, "jobs", 1, 1024, "7", NULL,
    OFF (max_jobs_per_logical),
    "Most jobs placed on one logical node at once (they share its cores)." },

  { "job", "max_cores", MN_KEY_UINT, "cores", 1, 4096, "7", NULL,
    OFF (job_max_cores),
    "Most cores one job may ask for." },
  { "job", "max_memory", MN_KEY_SIZE, "MiB", 1, 64 * MIB_T, "60G", NULL,
    OFF (job_max_memory_mb),
    "Most memory one job may ask for; a job that asks for none is given this." },
  { "job", "max_gpus", MN_KEY_UINT, "GPUs", 0, 64, "1", NULL, OFF (job_max_gpus),
    "Most GPUs one job may ask for." },
  { "job", "max_gpu_memory", MN_KEY_SIZE, "MiB", 0, MIB_T, "16G", NULL,
    OFF (job_max_gpu_memory_mb),
    "Most GPU memory one job may ask for (over all its GPUs)." },
  { "job", "gpu_mode", MN_KEY_ENUM, NULL, 0, 2, "shared", gpu_mode_names,
    OFF (gpu_mode),
    "How jobs on a logical node share its GPUs: shared (all use them, GPU "
    "memory first come first served), capped (each job reserves its GPU-memory "
    "request) or exclusive (a job asking for GPUs gets them whole)." },
  { "job", "max_swap", MN_KEY_SIZE, "MiB", 0, 64 * MIB_T, "60G", NULL,
    OFF (job_max_swap_mb),
    "Swap allowance of one job: how much of its memory may be in swap when "
    "its node's RAM is full (at most its memory limit, which bounds RAM and "
    "swap together).  0 keeps every job's memory in RAM." },
};

static const gchar *const policy_groups[] = { "queue", "node", "logical_node", "job", NULL };

/* ---- Formatting ---------------------------------------------------------- */

gchar *
mn_policy_format_size (guint64 mib)
{
  if (mib == 0)
    return g_strdup ("0");
  if (mib % MIB_T == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "T", mib / MIB_T);
  if (mib % MIB_G == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "G", mib / MIB_G);
  return g_strdup_printf ("%" G_GUINT64_FORMAT "M", mib);
}

gchar *
mn_policy_format_duration (gint64 seconds)
{
  /* "24h" reads better than "1d"; days only from two on. */
  if (seconds == 0)
    return g_strdup ("0");
  if (seconds % 86400 == 0 && seconds >= 2 * 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT "d", seconds / 86400);
  if (seconds % 3600 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h", seconds / 3600);
  if (seconds % 60 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "m", seconds / 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT "s", seconds);
}

gchar *
mn_policy_format_hms (gint64 seconds)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                          (int) (seconds / 60 % 60), (int) (seconds % 60));
}

const gchar *
mn_policy_if_busy_to_string (MnIfBusy if_busy)
{
  return (guint) if_busy < G_N_ELEMENTS (if_busy_names) - 1
         ? if_busy_names[if_busy] : "invalid";
}

const gchar *
mn_policy_gpu_mode_to_string (MnGpuMode mode)
{
  return (guint) mode < G_N_ELEMENTS (gpu_mode_names) - 1
         ? gpu_mode_names[mode] : "invalid";
}

/* ---- Field access through the table's offsets ------------------------------ */

static guint64
key_get_number (const MnPolicyKey *k, const MnPolicyConfig *c)
{
  const guint8 *base = (const guint8 *) c + k->offset;

  switch (k->type)
    {
    case MN_KEY_UINT:
      return *(const guint *) base;
    case MN_KEY_SIZE:
      return *(const guint64 *) base;
    case MN_KEY_DURATION:
      return (guint64) *(const gint64 *) base;
    case MN_KEY_ENUM:
      return (guint64) (guint) *(const gint *) base;
    case MN_KEY_STRING:
    default:
      g_assert_not_reached ();
    }
}

static void
key_set_number (const MnPolicyKey *k, MnPolicyConfig *c, guint64 v)
{
  guint8 *base = (guint8 *) c + k->offset;

  switch (k->type)
    {
    case MN_KEY_UINT:
      *(guint *) base = (guint) v;
      break;
    case MN_KEY_SIZE:
      *(guint64 *) base = v;
      break;
    case MN_KEY_DURATION:
      *(gint64 *) base = (gint64) v;
      break;
    case MN_KEY_ENUM:
      *(gint *) base = (gint) v;
      break;
    case MN_KEY_STRING:
    default:
      g_assert_not_reached ();
    }
}

static gchar **
key_string_field (const MnPolicyKey *k, const MnPolicyConfig *c)
{
  return (gchar **) ((guint8 *) c + k->offset);
}

/* The value of @k in @c as canonical text (what to_data writes). */
static gchar *
key_format (const MnPolicyKey *k, const MnPolicyConfig *c)
{
  guint64 v;

  if (k->type == MN_KEY_STRING)
    {
      const gchar *s = *key_string_field (k, c);
      return g_strdup (s != NULL ? s : "");
    }
  v = key_get_number (k, c);
  switch (k->type)
    {
    case MN_KEY_SIZE:
      return mn_policy_format_size (v);
    case MN_KEY_DURATION:
      return mn_policy_format_duration ((gint64) v);
    case MN_KEY_ENUM:
      return g_strdup (v <= k->max ? k->choices[v] : "invalid");
    case MN_KEY_UINT:
    case MN_KEY_STRING:
    default:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, v);
    }
}

static gchar *
key_format_bound (const MnPolicyKey *k, guint64 v)
{
  if (k->type == MN_KEY_SIZE)
    return mn_policy_format_size (v);
  if (k->type == MN_KEY_DURATION)
    return mn_policy_format_duration ((gint64) v);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, v);
}

/* "1..1024 nodes", "0..1T", "wait, give_up", "1..64 characters" */
static gchar *
key_describe_allowed (const MnPolicyKey *k)
{
  g_autofree gchar *lo = NULL;
  g_autofree gchar *hi = NULL;

  if (k->type == MN_KEY_ENUM)
    return g_strjoinv (", ", (gchar **) k->choices);
  lo = key_format_bound (k, k->min);
  hi = key_format_bound (k, k->max);
  if (k->type == MN_KEY_UINT || k->type == MN_KEY_STRING)
    return g_strdup_printf ("%s..%s %s", lo, hi, k->unit);
  return g_strdup_printf ("%s..%s", lo, hi);
}

static const gchar *
key_type_name (const MnPolicyKey *k)
{
  switch (k->type)
    {
    case MN_KEY_UINT:     return "integer";
    case MN_KEY_SIZE:     return "size (M, G, T)";
    case MN_KEY_DURATION: return "duration (s, m, h, d)";
    case MN_KEY_ENUM:     return "one of";
    case MN_KEY_STRING:   return "name";
    default:              return "?";
    }
}

/* ---- Parsing values ---------------------------------------------------------- */

/* A plain decimal "12", "1.5" followed by an optional alphabetic suffix.
 * strtod alone would also take "inf", hex and exponents, which a config file
 * should not. */
static gboolean
split_number (const gchar *text, gdouble *number, gchar **suffix)
{
  const gchar *p = text;
  guint digits = 0;
  gboolean dot = FALSE;
  g_autofree gchar *num = NULL;

  for (; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        digits++;
      else if (*p == '.' && !dot)
        dot = TRUE;
      else
        break;
    }
  if (digits == 0 || digits > 15)
    return FALSE;
  for (const gchar *s = p; *s != '\0'; s++)
    if (!g_ascii_isalpha (*s))
      return FALSE;
  num = g_strndup (text, p - text);
  *number = g_ascii_strtod (num, NULL);
  *suffix = g_ascii_strdown (p, -1);
  return TRUE;
}

static gboolean
parse_size (const gchar *text, guint64 *out)
{
  gdouble n, v;
  g_autofree gchar *suffix = NULL;
  guint64 mult;

  if (!split_number (text, &n, &suffix))
    return FALSE;
  if (g_str_equal (suffix, "") || g_str_equal (suffix, "m") ||
      g_str_equal (suffix, "mb") || g_str_equal (suffix, "mib"))
    mult = 1;
  else if (g_str_equal (suffix, "g") || g_str_equal (suffix, "gb") ||
           g_str_equal (suffix, "gib"))
    mult = MIB_G;
  else if (g_str_equal (suffix, "t") || g_str_equal (suffix, "tb") ||
           g_str_equal (suffix, "tib"))
    mult = MIB_T;
  else
    return FALSE;
  v = n * (gdouble) mult;
  /* Out of every range; let the range check say so. */
  *out = v > 1e15 ? G_MAXUINT64 : (guint64) (v + 0.5);
  return TRUE;
}

static gboolean
parse_hms (const gchar *text, guint64 *out)
{
  g_auto (GStrv) parts = g_strsplit (text, ":", -1);
  guint64 h, m, s;

  if (g_strv_length (parts) != 3 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, 100000, &h, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 0, 59, &m, NULL) ||
      !g_ascii_string_to_unsigned (parts[2], 10, 0, 59, &s, NULL))
    return FALSE;
  *out = h * 3600 + m * 60 + s;
  return TRUE;
}

static gboolean
parse_duration (const gchar *text, guint64 *out)
{
  gdouble n, v;
  g_autofree gchar *suffix = NULL;
  guint64 mult;

  if (strchr (text, ':') != NULL)
    return parse_hms (text, out);
  if (!split_number (text, &n, &suffix))
    return FALSE;
  if (g_str_equal (suffix, "") || g_str_equal (suffix, "s"))
    mult = 1;
  else if (g_str_equal (suffix, "m") || g_str_equal (suffix, "min"))
    mult = 60;
  else if (g_str_equal (suffix, "h"))
    mult = 3600;
  else if (g_str_equal (suffix, "d"))
    mult = 86400;
  else
    return FALSE;
  v = n * (gdouble) mult;
  *out = v > 1e15 ? G_MAXUINT64 : (guint64) (v + 0.5);
  return TRUE;
}

gboolean
mn_policy_parse_size (const gchar *text, guint64 *mib)
{
  g_autofree gchar *t = g_strstrip (g_strdup (text != NULL ? text : ""));

  return parse_size (t, mib) && *mib != G_MAXUINT64;
}

gboolean
mn_policy_parse_duration (const gchar *text, gint64 *seconds)
{
  g_autofree gchar *t = g_strstrip (g_strdup (text != NULL ? text : ""));
  guint64 v;

  if (!parse_duration (t, &v) || v > G_MAXINT64 / 2)
    return FALSE;
  *seconds = (gint64) v;
  return TRUE;
}

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

static gboolean
set_error_out_of_range (const MnPolicyKey *k, const gchar *text, GError **error)
{
  g_autofree gchar *allowed = key_describe_allowed (k);

  g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG,
               "[%s] %s: value '%s' out of range (allowed %s)",
               k->group, k->key, text, allowed);
  return FALSE;
}

/* Parse @text for @k and store it in @c; messages name the key but carry no
 * file position (callers prefix it). */
static gboolean
key_set_from_text (const MnPolicyKey *k, MnPolicyConfig *c,
                   const gchar *raw, GError **error)
{
  g_autofree gchar *text = g_strstrip (g_strdup (raw));
  guint64 v = 0;
  gboolean ok = FALSE;
  const gchar *expect = NULL;

  switch (k->type)
    {
    case MN_KEY_STRING:
      {
        gsize len = strlen (text);

        if (len < k->min || len > k->max || !queue_name_is_valid (text))
          {
            g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG,
                         "[%s] %s: value '%s' is not a valid name (letters, "
                         "digits, '.', '_' and '-', starting with a letter, "
                         "%" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " %s)",
                         k->group, k->key, text, k->min, k->max, k->unit);
            return FALSE;
          }
        g_free (*key_string_field (k, c));
        *key_string_field (k, c) = g_steal_pointer (&text);
        return TRUE;
      }
    case MN_KEY_ENUM:
      for (guint i = 0; k->choices[i] != NULL; i++)
        if (g_ascii_strcasecmp (text, k->choices[i]) == 0)
          {
            key_set_number (k, c, i);
            return TRUE;
          }
      {
        g_autofree gchar *allowed = key_describe_allowed (k);

        g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG,
                     "[%s] %s: value '%s' is not one of: %s",
                     k->group, k->key, text, allowed);
        return FALSE;
      }
    case MN_KEY_UINT:
      {
        g_autoptr (GError) local = NULL;

        ok = g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &v, &local);
        if (!ok && local != NULL &&
            g_error_matches (local, G_NUMBER_PARSER_ERROR,
                             G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
          return set_error_out_of_range (k, text, error);
        expect = "a whole number";
        break;
      }
    case MN_KEY_SIZE:
      ok = parse_size (text, &v);
      expect = "a size (a number with an optional M, G or T suffix, e.g. 60G)";
      break;
    case MN_KEY_DURATION:
      ok = parse_duration (text, &v);
      expect = "a duration (a number with an optional s, m, h or d suffix, "
               "e.g. 24h, or HH:MM:SS)";
      break;
    default:
      g_assert_not_reached ();
    }
  if (!ok)
    {
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG,
                   "[%s] %s: value '%s' is not %s", k->group, k->key, text, expect);
      return FALSE;
    }
  if (v < k->min || v > k->max)
    return set_error_out_of_range (k, text, error);
  key_set_number (k, c, v);
  return TRUE;
}

static const MnPolicyKey *
key_lookup (const gchar *group, const gchar *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    if (g_str_equal (policy_keys[i].group, group) &&
        g_str_equal (policy_keys[i].key, key))
      return &policy_keys[i];
  return NULL;
}

static gboolean
group_is_known (const gchar *group)
{
  return g_strv_contains (policy_groups, group);
}

/* ---- Suggestions for unknown names ------------------------------------------- */

static guint
edit_distance (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diag = row[0];

      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
          diag = up;
        }
    }
  return row[lb];
}

static gboolean
close_enough (const gchar *wrong, guint distance)
{
  return distance <= MAX (2, strlen (wrong) / 3);
}

/* " (did you mean 'nodes'?)", " (did you mean '[job] max_cores'?)" or "". */
static gchar *
suggest_key (const gchar *group, const gchar *key)
{
  const MnPolicyKey *best = NULL;
  guint best_d = G_MAXUINT;

  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    {
      const MnPolicyKey *k = &policy_keys[i];
      /* A key of the same group is likelier than one elsewhere. */
      gboolean same = g_str_equal (k->group, group);
      guint d = edit_distance (key, k->key) * 2 + (same ? 0 : 1);

      /* "cores" in [job] means max_cores more likely than [node] cores. */
      if (same && strlen (key) >= 3 && strstr (k->key, key) != NULL)
        d = 0;

      if (d < best_d)
        best_d = d, best = k;
    }
  if (best == NULL || !close_enough (key, best_d / 2))
    return g_strdup ("");
  if (g_str_equal (best->group, group))
    return g_strdup_printf (" (did you mean '%s'?)", best->key);
  return g_strdup_printf (" (did you mean '[%s] %s'?)", best->group, best->key);
}

static gchar *
suggest_group (const gchar *group)
{
  const gchar *best = NULL;
  guint best_d = G_MAXUINT;

  for (guint i = 0; policy_groups[i] != NULL; i++)
    {
      guint d = edit_distance (group, policy_groups[i]);

      if (d < best_d)
        best_d = d, best = policy_groups[i];
    }
  if (best == NULL || !close_enough (group, best_d))
    {
      g_autofree gchar *all = g_strjoinv ("], [", (gchar **) policy_groups);
      return g_strdup_printf (" (known groups: [%s])", all);
    }
  return g_strdup_printf (" (did you mean [%s]?)", best);
}

/* ---- Defaults, copy, free, equality ------------------------------------------ */

MnPolicyConfig *
mn_policy_config_new_default (void)
{
  MnPolicyConfig *c = g_new0 (MnPolicyConfig, 1);

  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    {
      g_autoptr (GError) error = NULL;

      if (!key_set_from_text (&policy_keys[i], c, policy_keys[i].def, &error))
        g_error ("built-in default: %s", error->message);
    }
  return c;
}

MnPolicyConfig *
mn_policy_config_copy (const MnPolicyConfig *config)
{
  MnPolicyConfig *c = g_memdup2 (config, sizeof *config);

  c->queue_name = g_strdup (config->queue_name);
  return c;
}

void
mn_policy_config_free (MnPolicyConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->queue_name);
  g_free (config);
}

gboolean
mn_policy_config_equal (const MnPolicyConfig *a, const MnPolicyConfig *b)
{
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    {
      const MnPolicyKey *k = &policy_keys[i];

      if (k->type == MN_KEY_STRING)
        {
          if (g_strcmp0 (*key_string_field (k, a), *key_string_field (k, b)) != 0)
            return FALSE;
        }
      else if (key_get_number (k, a) != key_get_number (k, b))
        return FALSE;
    }
  return TRUE;
}

/* ---- Validation --------------------------------------------------------------- */

/* @blame[0] is the key the message names; @blame[1] the other key it
 * mentions, whose line is shown when the first is not in the file. */
static gboolean
fail_inconsistent (const MnPolicyKey **blame, const gchar *group,
                   const gchar *key, const gchar *other_group,
                   const gchar *other_key, GError **error,
                   const gchar *fmt, ...) G_GNUC_PRINTF (7, 8);

static gboolean
fail_inconsistent (const MnPolicyKey **blame, const gchar *group,
                   const gchar *key, const gchar *other_group,
                   const gchar *other_key, GError **error,
                   const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *detail = NULL;

  va_start (ap, fmt);
  detail = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  blame[0] = key_lookup (group, key);
  blame[1] = key_lookup (other_group, other_key);
  g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INCONSISTENT,
               "[%s] %s: %s", group, key, detail);
  return FALSE;
}

/* Every key alone, then the keys together.  @blame gets the key the message
 * names, so load_data can point at its line. */
static gboolean
validate_config (const MnPolicyConfig *c, const MnPolicyKey *blame[2], GError **error)
{
  g_autofree gchar *a = NULL;
  g_autofree gchar *b = NULL;
  g_autofree gchar *d = NULL;

  blame[0] = blame[1] = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    {
      const MnPolicyKey *k = &policy_keys[i];
      g_autofree gchar *text = NULL;
      g_autoptr (MnPolicyConfig) scratch = NULL;

      if (k->type == MN_KEY_STRING && *key_string_field (k, c) == NULL)
        {
          blame[0] = k;
          g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG,
                       "[%s] %s: not set", k->group, k->key);
          return FALSE;
        }
      /* Round-trip through the parser: the same checks as a file value. */
      text = key_format (k, c);
      scratch = mn_policy_config_copy (c);
      if (!key_set_from_text (k, scratch, text, error))
        {
          blame[0] = k;
          return FALSE;
        }
    }

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
      a = mn_policy_format_size (c->logical_memory_mb);
      b = mn_policy_format_size (c->node_memory_mb);
      d = mn_policy_format_size (c->logical_per_node * c->logical_memory_mb);
      return fail_inconsistent (blame, "logical_node", "memory", "node", "memory", error,
                                "%u logical nodes x %s = %s exceeds the node's "
                                "%s of RAM ([node] memory)",
                                c->logical_per_node, a, d, b);
    }
  if (c->node_gpus > 0 && c->gpu_memory_mb == 0)
    return fail_inconsistent (blame, "node", "gpu_memory", "node", "gpus", error,
                              "is 0 but the node has %u GPUs; give the memory "
                              "of one GPU", c->node_gpus);
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
      a = mn_policy_format_size (c->job_max_memory_mb);
      b = mn_policy_format_size (c->logical_memory_mb);
      return fail_inconsistent (blame, "job", "max_memory", "logical_node", "memory", error,
                                "%s exceeds a logical node's %s share "
                                "([logical_node] memory)", a, b);
    }
  if (c->logical_gpus > 0 &&
      c->job_max_gpu_memory_mb > c->logical_gpus * c->gpu_memory_mb)
    {
      a = mn_policy_format_size (c->job_max_gpu_memory_mb);
      b = mn_policy_format_size (c->gpu_memory_mb);
      return fail_inconsistent (blame, "job", "max_gpu_memory", "logical_node", "gpus", error,
                                "%s exceeds a logical node's %u x %s of GPU "
                                "memory ([logical_node] gpus x [node] gpu_memory)",
                                a, c->logical_gpus, b);
    }
  return TRUE;
}

gboolean
mn_policy_config_validate (const MnPolicyConfig *config, GError **error)
{
  const MnPolicyKey *blame[2];

  return validate_config (config, blame, error);
}

gboolean
mn_policy_config_set (MnPolicyConfig *config, const gchar *group,
                      const gchar *key, const gchar *value, GError **error)
{
  const MnPolicyKey *k;

  if (group == NULL || key == NULL || value == NULL)
    {
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT,
                   "a group, a key and a value are needed");
      return FALSE;
    }
  if (!group_is_known (group))
    {
      g_autofree gchar *hint = suggest_group (group);

      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_UNKNOWN_KEY,
                   "unknown group [%s]%s", group, hint);
      return FALSE;
    }
  k = key_lookup (group, key);
  if (k == NULL)
    {
      g_autofree gchar *hint = suggest_key (group, key);

      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_UNKNOWN_KEY,
                   "unknown key '%s' in [%s]%s", key, group, hint);
      return FALSE;
    }
  return key_set_from_text (k, config, value, error);
}

gchar *
mn_policy_config_get (const MnPolicyConfig *config, const gchar *group,
                      const gchar *key)
{
  const MnPolicyKey *k = group != NULL && key != NULL ? key_lookup (group, key) : NULL;

  return k != NULL ? key_format (k, config) : NULL;
}

/* ---- Loading a file ----------------------------------------------------------- */

typedef struct {
  gchar *group;
  gchar *key;
  guint  line;
} MnKeyLine;

static void
key_line_free (gpointer p)
{
  MnKeyLine *l = p;

  g_free (l->group);
  g_free (l->key);
  g_free (l);
}

/* GKeyFile reports no line numbers, so walk the text once to find where each
 * key is and to catch malformed lines and repeated keys with their line. */
static gboolean
scan_lines (const gchar *data, gsize length, const gchar *filename,
            GPtrArray *lines, GError **error)
{
  g_autofree gchar *group = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                        g_free, NULL);
  const gchar *p = data, *end = data + length;
  guint lineno = 0;

  while (p < end)
    {
      const gchar *nl = memchr (p, '\n', end - p);
      const gchar *stop = nl != NULL ? nl : end;
      g_autofree gchar *line = g_strndup (p, stop - p);
      const gchar *eq;

      lineno++;
      p = nl != NULL ? nl + 1 : end;
      if (!g_utf8_validate (line, -1, NULL))
        {
          g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_PARSE,
                       "%s:%u: not UTF-8 text", filename, lineno);
          return FALSE;
        }
      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#')
        continue;
      if (line[0] == '[')
        {
          gsize len = strlen (line);

          if (len < 3 || line[len - 1] != ']')
            {
              g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_PARSE,
                           "%s:%u: malformed group line '%s' (expected [name])",
                           filename, lineno, line);
              return FALSE;
            }
          g_free (group);
          group = g_strndup (line + 1, len - 2);
          if (!group_is_known (group))
            {
              g_autofree gchar *hint = suggest_group (group);

              g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_UNKNOWN_KEY,
                           "%s:%u: unknown group [%s]%s", filename, lineno,
                           group, hint);
              return FALSE;
            }
          continue;
        }
      eq = strchr (line, '=');
      if (eq == NULL || eq == line)
        {
          g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_PARSE,
                       "%s:%u: line '%s' is neither '[group]', 'key = value' "
                       "nor a '#' comment", filename, lineno, line);
          return FALSE;
        }
      if (group == NULL)
        {
          g_autofree gchar *key = g_strstrip (g_strndup (line, eq - line));

          g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_PARSE,
                       "%s:%u: key '%s' comes before any [group]",
                       filename, lineno, key);
          return FALSE;
        }
      {
        MnKeyLine *kl = g_new0 (MnKeyLine, 1);
        gchar *both;
        gpointer first;

        kl->group = g_strdup (group);
        kl->key = g_strstrip (g_strndup (line, eq - line));
        kl->line = lineno;
        g_ptr_array_add (lines, kl);
        both = g_strdup_printf ("[%s] %s", kl->group, kl->key);
        if (g_hash_table_lookup_extended (seen, both, NULL, &first))
          {
            g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG,
                         "%s:%u: [%s] %s: set twice (first on line %u)",
                         filename, lineno, kl->group, kl->key,
                         GPOINTER_TO_UINT (first));
            g_free (both);
            return FALSE;
          }
        g_hash_table_insert (seen, both, GUINT_TO_POINTER (lineno));
      }
    }
  return TRUE;
}

static guint
line_of (GPtrArray *lines, const MnPolicyKey *k)
{
  for (guint i = 0; k != NULL && i < lines->len; i++)
    {
      MnKeyLine *kl = g_ptr_array_index (lines, i);

      if (g_str_equal (kl->group, k->group) && g_str_equal (kl->key, k->key))
        return kl->line;
    }
  return 0;
}

MnPolicyConfig *
mn_policy_config_load_data (const gchar *data, gsize length,
                            const gchar *filename, GError **error)
{
  g_autoptr (MnPolicyConfig) config = mn_policy_config_new_default ();
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (key_line_free);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  const MnPolicyKey *blame[2] = { NULL, NULL };
  const gchar *nul;

  if (filename == NULL)
    filename = "interactive.conf";
  if (data == NULL)
    data = "", length = 0;
  if (length == (gsize) -1)
    length = strlen (data);
  /* Some editors start UTF-8 files with a byte-order mark; it is not text. */
  if (length >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    data += 3, length -= 3;

  nul = memchr (data, '\0', length);
  if (nul != NULL)
    {
      guint lineno = 1;

      for (const gchar *q = data; q < nul; q++)
        lineno += *q == '\n';
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_PARSE,
                   "%s:%u: NUL byte in a text file", filename, lineno);
      return NULL;
    }
  if (!scan_lines (data, length, filename, lines, error))
    return NULL;
  if (!g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_PARSE,
                   "%s: not a valid key file: %s", filename, local->message);
      return NULL;
    }

  for (guint i = 0; i < lines->len; i++)
    {
      MnKeyLine *kl = g_ptr_array_index (lines, i);
      const MnPolicyKey *k;
      g_autofree gchar *value = NULL;

      if (!group_is_known (kl->group))
        {
          g_autofree gchar *hint = suggest_group (kl->group);

          g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_UNKNOWN_KEY,
                       "%s:%u: unknown group [%s]%s", filename, kl->line,
                       kl->group, hint);
          return NULL;
        }
      k = key_lookup (kl->group, kl->key);
      if (k == NULL)
        {
          g_autofree gchar *hint = suggest_key (kl->group, kl->key);

          g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_UNKNOWN_KEY,
                       "%s:%u: unknown key '%s' in [%s]%s", filename, kl->line,
                       kl->key, kl->group, hint);
          return NULL;
        }
      value = g_key_file_get_string (kf, kl->group, kl->key, &local);
      if (value == NULL)
        {
          g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_CONFIG,
                       "%s:%u: [%s] %s: %s", filename, kl->line, k->group,
                       k->key, local != NULL ? local->message : "no value");
          return NULL;
        }
      if (!key_set_from_text (k, config, value, error))
        {
          g_prefix_error (error, "%s:%u: ", filename, kl->line);
          return NULL;
        }
    }

  if (!validate_config (config, blame, error))
    {
      guint lineno = line_of (lines, blame[0]);

      if (lineno == 0)
        lineno = line_of (lines, blame[1]);

      if (lineno > 0)
        g_prefix_error (error, "%s:%u: ", filename, lineno);
      else
        g_prefix_error (error, "%s: ", filename);
      return NULL;
    }
  return g_steal_pointer (&config);
}

/* ---- Writing back and documenting ------------------------------------------------ */

/* Word-wrap @text into lines of at most @width after @prefix. */
static void
append_wrapped (GString *out, const gchar *prefix, const gchar *text, guint width)
{
  g_auto (GStrv) words = g_strsplit (text, " ", -1);
  gsize col = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      gsize len = strlen (words[i]);

      if (len == 0)
        continue;
      if (col > 0 && col + 1 + len > width)
        {
          g_string_append_c (out, '\n');
          col = 0;
        }
      if (col == 0)
        g_string_append (out, prefix);
      else
        g_string_append_c (out, ' ');
      g_string_append (out, words[i]);
      col += (col > 0 ? 1 : 0) + len;
    }
  if (col > 0)
    g_string_append_c (out, '\n');
}

gchar *
mn_policy_config_to_data (const MnPolicyConfig *config)
{
  GString *out = g_string_new (NULL);
  const gchar *group = NULL;

  g_string_append (out,
                   "# interactive.conf: the interactive queue policy of minna.\n"
                   "# Sizes take M, G or T (MiB, GiB, TiB); durations s, m, h or d.\n"
                   "# `minna-policy keys` documents every key.\n");
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    {
      const MnPolicyKey *k = &policy_keys[i];
      g_autofree gchar *value = key_format (k, config);
      g_autofree gchar *allowed = key_describe_allowed (k);

      if (group == NULL || !g_str_equal (group, k->group))
        {
          group = k->group;
          g_string_append_printf (out, "\n[%s]\n", group);
        }
      else
        g_string_append_c (out, '\n');
      append_wrapped (out, "# ", k->help, 76);
      g_string_append_printf (out, "# Allowed: %s%s. Default: %s.\n",
                              k->type == MN_KEY_ENUM ? "one of " : "",
                              allowed, k->def);
      g_string_append_printf (out, "%s = %s\n", k->key, value);
    }
  return g_string_free (out, FALSE);
}

gchar *
mn_policy_config_describe_keys (void)
{
  GString *out = g_string_new (NULL);
  const gchar *group = NULL;

  g_string_append (out,
                   "Keys of interactive.conf (a GLib key file).  A key left out "
                   "keeps its default,\nthe TSUBAME3 interactive.q setting.\n");
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    {
      const MnPolicyKey *k = &policy_keys[i];
      g_autofree gchar *allowed = key_describe_allowed (k);

      if (group == NULL || !g_str_equal (group, k->group))
        {
          group = k->group;
          g_string_append_printf (out, "\n[%s]\n", group);
        }
      g_string_append_printf (out, "  %s = %s\n      %s %s\n", k->key, k->def,
                              key_type_name (k), allowed);
      append_wrapped (out, "      ", k->help, 72);
    }
  {
    g_autofree gchar *model = mn_policy_describe_model ();

    g_string_append_c (out, '\n');
    g_string_append (out, model);
  }
  return g_string_free (out, FALSE);
}
