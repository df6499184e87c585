/* mn-sweep-scenario.c: scenario files.  Every key is one row of keys[];
 * parsing, validation and the README's key reference come from it.  GKeyFile
 * reads the values; a first pass over the text records each key's line so
 * that every error can name FILE:LINE. */
#define G_LOG_DOMAIN "minna-sweep"

#include <errno.h>
#include <string.h>

#include "mn-sweep-scenario.h"

G_DEFINE_QUARK (mn-sweep-error-quark, mn_sweep_error)

typedef enum {
  KT_STRING,        /* gchar* */
  KT_PATH,          /* gchar*, resolved against the scenario's directory */
  KT_ENUM,          /* gint: index in choices */
  KT_STRV,          /* gchar**, comma-separated */
  KT_COUNT,         /* gint64 within [min, max] */
  KT_DURATION,      /* gint64 seconds */
  KT_LIST_COUNT,    /* values[param]: counts, lists or ranges */
  KT_LIST_SIZE,     /* values[param]: MiB */
  KT_LIST_DURATION, /* values[param]: seconds */
  KT_LIST_ENUM,     /* values[param]: indexes in choices */
  KT_TARGET_SHARE,  /* targets[target] */
  KT_TARGET_DURATION,
  KT_TARGET_COUNT,
  KT_MINIMISE,      /* minimise */
} KeyType;

typedef struct {
  const gchar *group;
  const gchar *key;
  KeyType      type;
  gsize        offset;     /* into MnSweepScenario, for scalar types */
  gint         index;      /* MnSweepParam or MnTargetKind */
  const gchar *choices;    /* KT_ENUM, KT_LIST_ENUM: "a|b|c" */
  gint64       min, max;   /* counts, sizes (MiB), durations (s) */
  const gchar *fallback;   /* text used when absent; NULL: see help */
  const gchar *help;
} KeyInfo;

#define OFF(field) G_STRUCT_OFFSET (MnSweepScenario, field)
#define BIG G_GINT64_CONSTANT (1000000000000)

static const KeyInfo keys[] = {
  { "scenario", "name", KT_STRING, OFF (name), 0, NULL, 0, 0, NULL,
    "Name of the scenario; the default output directory is reports/out/NAME. Default: the file's name without .scenario." },
  { "scenario", "description", KT_STRING, OFF (description), 0, NULL, 0, 0, "",
    "One line saying what the scenario asks; shown in the report." },

  { "trace", "path", KT_PATH, OFF (trace_path), 0, NULL, 0, 0, NULL,
    "The trace file (required), relative to the scenario file's directory; may be gzip-compressed. A leading $MINNA_SHARED_DIR/ stands for that variable (default: ../shared beside the source tree), where real traces live." },
  { "trace", "format", KT_ENUM, OFF (trace_format), 0, "auto|swf|sge|sacct|native", 0, 0, "auto",
    "Trace format; auto detects it from the content." },
  { "trace", "interactive", KT_ENUM, OFF (interactive), 0, "trace|queue|name|users|rule", 0, 0, "trace",
    "How to tell interactive jobs: trace = the reader's own flag (minna-tracegen marks them); queue = queue in interactive_queues; name = job name matches interactive_name; users = user in interactive_users; rule = at most interactive_max_procs processors and at most interactive_max_runtime." },
  { "trace", "interactive_queues", KT_STRV, OFF (interactive_queues), 0, NULL, 0, 0, "",
    "With interactive = queue: queue names or SWF queue numbers, comma-separated." },
  { "trace", "interactive_name", KT_STRING, OFF (interactive_name), 0, NULL, 0, 0, "",
    "With interactive = name: a glob pattern (* and ?) on the job name, e.g. jupyter*." },
  { "trace", "interactive_users", KT_STRV, OFF (interactive_users), 0, NULL, 0, 0, "",
    "With interactive = users: user names, comma-separated." },
  { "trace", "interactive_max_procs", KT_COUNT, OFF (interactive_max_procs), 0, NULL, 1, 1000000, "4",
    "With interactive = rule: largest processor count of an interactive job." },
  { "trace", "interactive_max_runtime", KT_DURATION, OFF (interactive_max_runtime), 0, NULL, 1, BIG, "1h",
    "With interactive = rule: longest runtime of an interactive job (s, or with m/h/d)." },
  { "trace", "max_jobs", KT_COUNT, OFF (max_jobs), 0, NULL, 0, BIG, "0",
    "Replay only the first N jobs of the trace (0 = all); for small test scenarios." },

  { "machine", "nodes", KT_COUNT, OFF (machine_nodes), 0, NULL, 0, 1000000, "540",
    "Nodes of the whole machine (all.q gets what interactive.q does not); 0 = processor-count mode." },
  { "machine", "procs", KT_COUNT, OFF (machine_procs), 0, NULL, 0, 100000000, "0",
    "Processor-count mode: processors of the machine (0 = the trace's MaxProcs)." },
  { "machine", "scheduler", KT_ENUM, OFF (scheduler), 0, "easy|fcfs", 0, 0, "easy",
    "all.q's scheduler: FCFS with EASY backfilling, or plain FCFS." },

  { "policy", "file", KT_PATH, OFF (policy_path), 0, NULL, 0, 0, NULL,
    "The base interactive.conf, relative to the scenario file (default: the built-in TSUBAME3 policy). The sweep overrides its keys point by point." },

  { "sweep", "nodes", KT_LIST_COUNT, 0, MN_SWEEP_PARAM_NODES, NULL, 1, 1024, NULL,
    "Nodes carved out for interactive.q ([queue] nodes): a list (2,4,8) or a range (1..8, 2..16:2). Default: the base policy's." },
  { "sweep", "jobs_per_logical", KT_LIST_COUNT, 0, MN_SWEEP_PARAM_JOBS_PER_LOGICAL, NULL, 1, 64, NULL,
    "Jobs sharing one logical node ([logical_node] max_jobs): list or range. Default: the base policy's." },
  { "sweep", "memory_cap", KT_LIST_SIZE, 0, MN_SWEEP_PARAM_MEMORY_CAP, NULL, 1024, 64 * 1024 * 1024, NULL,
    "Per-job memory cap ([job] max_memory): list or range of sizes (60G, 32G..64G:16G). Default: the base policy's." },
  { "sweep", "swap", KT_LIST_SIZE, 0, MN_SWEEP_PARAM_SWAP, NULL, 0, 64 * 1024 * 1024, NULL,
    "Swap per node ([node] swap): list or range of sizes (0, 768G, 1.5T). Default: the base policy's." },
  { "sweep", "gpu_mode", KT_LIST_ENUM, 0, MN_SWEEP_PARAM_GPU_MODE, "shared|capped|exclusive", 0, 0, NULL,
    "GPU sharing ([job] gpu_mode): a list of shared, capped, exclusive. Default: the base policy's." },
  { "sweep", "idle_timeout", KT_LIST_DURATION, 0, MN_SWEEP_PARAM_IDLE_TIMEOUT, NULL, 0, 7 * 86400, NULL,
    "Idle timeout ([queue] idle_timeout; 0 = off): list or range of durations (0, 30m, 2h). Default: the base policy's." },

  { "targets", "immediate_share_every_hour", KT_TARGET_SHARE, 0, MN_TARGET_IMMEDIATE_SHARE, NULL, 0, 0, NULL,
    "Share of interactive requests started immediately, in EVERY hour of the day that has requests, at least this (0.99 or 99%)." },
  { "targets", "wait_p99", KT_TARGET_DURATION, 0, MN_TARGET_WAIT_P99, NULL, 0, BIG, NULL,
    "99th percentile of the interactive wait at most this (60s, 5m)." },
  { "targets", "oom_kills", KT_TARGET_COUNT, 0, MN_TARGET_OOM_KILLS, NULL, 0, BIG, NULL,
    "Sessions ended by the OOM killer: at most this many (0)." },
  { "targets", "swap_share", KT_TARGET_SHARE, 0, MN_TARGET_SWAP_SHARE, NULL, 0, 0, NULL,
    "Share of time with swap in use on some interactive node: at most this (0.05 or 5%)." },
  { "targets", "batch_wait_increase", KT_TARGET_SHARE, 0, MN_TARGET_BATCH_WAIT_INCREASE, NULL, 0, 0, NULL,
    "Batch jobs' mean wait at most this much above the baseline without interactive.q (10% or 0.10)." },

  { "minimise", "order", KT_MINIMISE, 0, 0, NULL, 0, 0, "nodes, swap, jobs_per_logical",
    "What to minimise among the points that meet every target, in order: swept parameter names, comma-separated; -name prefers larger values. Remaining ties go to the earlier point." },
};

static const gchar *const param_names[MN_SWEEP_N_PARAMS] = {
  "nodes", "jobs_per_logical", "memory_cap", "swap", "gpu_mode", "idle_timeout",
};

const gchar *
mn_sweep_param_to_string (MnSweepParam param)
{
  g_return_val_if_fail (param < MN_SWEEP_N_PARAMS, "?");
  return param_names[param];
}

gboolean
mn_sweep_param_from_string (const gchar *text, MnSweepParam *param)
{
  for (guint i = 0; i < MN_SWEEP_N_PARAMS; i++)
    if (g_str_equal (text, param_names[i]))
      {
        *param = i;
        return TRUE;
      }
  return FALSE;
}

static const struct {
  const gchar *key;
  const gchar *describe;
  gboolean     minimum;
  const gchar *unit;
} target_info[MN_N_TARGETS] = {
  { "immediate_share_every_hour", "share started immediately, worst hour of day", TRUE, "share" },
  { "wait_p99", "interactive wait, 99th percentile", FALSE, "s" },
  { "oom_kills", "sessions killed by the OOM killer", FALSE, "kills" },
  { "swap_share", "share of time with swap in use", FALSE, "share" },
  { "batch_wait_increase", "batch mean wait above the baseline", FALSE, "share" },
};

const gchar *mn_target_to_string (MnTargetKind kind) { return target_info[kind].key; }
const gchar *mn_target_describe (MnTargetKind kind) { return target_info[kind].describe; }
gboolean     mn_target_is_minimum (MnTargetKind kind) { return target_info[kind].minimum; }
const gchar *mn_target_unit (MnTargetKind kind) { return target_info[kind].unit; }

static const gchar *const format_names[] = { "auto", "swf", "sge", "sacct", "native" };
static const gchar *const scheduler_names[] = { "easy", "fcfs" };

const gchar *
mn_sweep_scenario_trace_format (const MnSweepScenario *scenario)
{
  return format_names[scenario->trace_format];
}

const gchar *
mn_sweep_scenario_scheduler (const MnSweepScenario *scenario)
{
  return scheduler_names[scenario->scheduler];
}

/* ---- line numbers --------------------------------------------------------- */

typedef struct {
  GHashTable *lines;  /* "group\nkey" or "group" -> GINT_TO_POINTER (line) */
} LineMap;

static gchar *
line_key (const gchar *group, const gchar *key)
{
  return key != NULL ? g_strdup_printf ("%s\n%s", group, key) : g_strdup (group);
}

static gint
line_of (LineMap *map, const gchar *group, const gchar *key)
{
  g_autofree gchar *k = line_key (group, key);

  return GPOINTER_TO_INT (g_hash_table_lookup (map->lines, k));
}

/* The syntax pass: GKeyFile's own messages carry no line number, so every
 * malformed line and duplicate is caught here first. */
static gboolean
scan_lines (const gchar *data, gsize length, const gchar *filename, LineMap *map,
            GError **error)
{
  g_autofree gchar *text = g_strndup (data, length);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree gchar *group = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gchar *line = g_strstrip (lines[i]);
      gint lineno = i + 1;
      gchar *eq;

      if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
        continue;
      if (line[0] == '[')
        {
          gsize n = strlen (line);

          if (n < 3 || line[n - 1] != ']')
            {
              g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_PARSE,
                           "%s:%d: malformed group header '%s'", filename, lineno, line);
              return FALSE;
            }
          g_free (group);
          group = g_strndup (line + 1, n - 2);
          if (g_hash_table_contains (map->lines, group))
            {
              g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_PARSE,
                           "%s:%d: group [%s] appears twice", filename, lineno, group);
              return FALSE;
            }
          g_hash_table_insert (map->lines, g_strdup (group), GINT_TO_POINTER (lineno));
          continue;
        }
      eq = strchr (line, '=');
      if (eq == NULL)
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_PARSE,
                       "%s:%d: '%s' is not a 'key = value' line", filename, lineno, line);
          return FALSE;
        }
      if (group == NULL)
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_PARSE,
                       "%s:%d: key before the first [group]", filename, lineno);
          return FALSE;
        }
      *eq = '\0';
      g_strstrip (line);
      {
        g_autofree gchar *k = line_key (group, line);

        if (g_hash_table_contains (map->lines, k))
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_PARSE,
                         "%s:%d: [%s] %s: set twice (first on line %d)", filename, lineno,
                         group, line, GPOINTER_TO_INT (g_hash_table_lookup (map->lines, k)));
            return FALSE;
          }
        g_hash_table_insert (map->lines, g_steal_pointer (&k), GINT_TO_POINTER (lineno));
      }
    }
  return TRUE;
}

/* ---- values --------------------------------------------------------------- */

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
          guint best = MIN (row[j] + 1, row[j - 1] + 1);

          row[j] = MIN (best, diag + (a[i - 1] == b[j - 1] ? 0 : 1));
          diag = up;
        }
    }
  return row[lb];
}

static const KeyInfo *
find_key (const gchar *group, const gchar *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_str_equal (keys[i].group, group) && g_str_equal (keys[i].key, key))
      return &keys[i];
  return NULL;
}

static gboolean
known_group (const gchar *group)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_str_equal (keys[i].group, group))
      return TRUE;
  return FALSE;
}

static gchar *
suggest (const gchar *group, const gchar *key)
{
  const gchar *best = NULL;
  guint best_d = 3;

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      guint d;

      if (!g_str_equal (keys[i].group, group))
        continue;
      d = edit_distance (keys[i].key, key);
      if (d < best_d)
        {
          best_d = d;
          best = keys[i].key;
        }
    }
  return best != NULL ? g_strdup_printf (" (did you mean '%s'?)", best) : g_strdup ("");
}

static gint
enum_index (const gchar *choices, const gchar *text)
{
  g_auto (GStrv) names = g_strsplit (choices, "|", -1);

  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (names[i], text) == 0)
      return i;
  return -1;
}

/* One scalar of a list key. */
static gboolean
parse_item (const KeyInfo *info, const gchar *text, gint64 *value)
{
  gchar *end = NULL;

  switch (info->type)
    {
    case KT_LIST_COUNT:
    case KT_COUNT:
    case KT_TARGET_COUNT:
      if (text[0] == '-' || text[0] == '\0')
        return FALSE;
      errno = 0;
      *value = g_ascii_strtoll (text, &end, 10);
      return errno == 0 && end != text && *end == '\0';
    case KT_LIST_SIZE:
      return mn_sweep_parse_size (text, value);
    case KT_LIST_DURATION:
    case KT_DURATION:
    case KT_TARGET_DURATION:
      return mn_sweep_parse_duration (text, value);
    case KT_LIST_ENUM:
      *value = enum_index (info->choices, text);
      return *value >= 0;
    case KT_STRING:
    case KT_PATH:
    case KT_ENUM:
    case KT_STRV:
    case KT_TARGET_SHARE:
    case KT_MINIMISE:
    default:
      return FALSE;
    }
}

static const gchar *
item_kind (const KeyInfo *info)
{
  switch (info->type)
    {
    case KT_LIST_SIZE: return "a size (60G, 1.5T, 512M)";
    case KT_LIST_DURATION:
    case KT_DURATION:
    case KT_TARGET_DURATION: return "a duration (90, 30m, 2h)";
    case KT_LIST_ENUM: return info->choices;
    case KT_LIST_COUNT:
    case KT_COUNT:
    case KT_TARGET_COUNT:
    case KT_STRING:
    case KT_PATH:
    case KT_ENUM:
    case KT_STRV:
    case KT_TARGET_SHARE:
    case KT_MINIMISE:
    default: return "a whole number";
    }
}

static gboolean
check_bounds (const KeyInfo *info, const gchar *text, gint64 v, GError **error)
{
  if (info->type == KT_LIST_ENUM || (info->min == 0 && info->max == 0))
    return TRUE;
  if (v < info->min || v > info->max)
    {
      g_autofree gchar *lo = NULL, *hi = NULL;

      if (info->type == KT_LIST_SIZE)
        {
          lo = mn_sweep_format_param (MN_SWEEP_PARAM_SWAP, info->min);
          hi = mn_sweep_format_param (MN_SWEEP_PARAM_SWAP, info->max);
        }
      else
        {
          lo = g_strdup_printf ("%" G_GINT64_FORMAT, info->min);
          hi = g_strdup_printf ("%" G_GINT64_FORMAT, info->max);
        }
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                   "value '%s' out of range (allowed %s..%s)", text, lo, hi);
      return FALSE;
    }
  return TRUE;
}

/* "2,4,8", "1..8", "0..1536G:768G", "shared,capped". */
static GArray *
parse_list (const KeyInfo *info, const gchar *text, GError **error)
{
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_auto (GStrv) items = g_strsplit (text, ",", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      gchar *item = g_strstrip (items[i]);
      gchar *dots = strstr (item, "..");
      gint64 a, b, step = 1;

      if (item[0] == '\0')
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "empty item in the list '%s'", text);
          return NULL;
        }
      if (dots == NULL)
        {
          if (!parse_item (info, item, &a))
            {
              g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                           "'%s' is not %s", item, item_kind (info));
              return NULL;
            }
          if (!check_bounds (info, item, a, error))
            return NULL;
          g_array_append_val (values, a);
          continue;
        }
      {
        gchar *hi = dots + 2;
        gchar *colon = strchr (hi, ':');

        *dots = '\0';
        if (colon != NULL)
          *colon = '\0';
        g_strstrip (item);
        g_strstrip (hi);
        if (info->type == KT_LIST_ENUM || !parse_item (info, item, &a) || !parse_item (info, hi, &b))
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s..%s' is not a range of %s", item, hi, item_kind (info));
            return NULL;
          }
        if (colon != NULL)
          {
            gchar *st = g_strstrip (colon + 1);

            if (!parse_item (info, st, &step) || step <= 0)
              {
                g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                             "range step '%s' is not a positive %s", st, item_kind (info));
                return NULL;
              }
          }
        else if (info->type != KT_LIST_COUNT && a != b)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "range '%s..%s' needs a step (%s..%s:STEP)", item, hi, item, hi);
            return NULL;
          }
        if (b < a)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "range '%s..%s' is empty", item, hi);
            return NULL;
          }
        if ((b - a) / step >= 10000)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "range '%s..%s' has too many values (at most 10000)", item, hi);
            return NULL;
          }
        if (!check_bounds (info, item, a, error) || !check_bounds (info, hi, b, error))
          return NULL;
        for (gint64 v = a; v <= b; v += step)
          g_array_append_val (values, v);
      }
    }
  /* Duplicates would only run the same point twice. */
  for (guint i = 0; i < values->len; i++)
    for (guint j = i + 1; j < values->len; j++)
      if (g_array_index (values, gint64, i) == g_array_index (values, gint64, j))
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "the list '%s' names one value twice", text);
          return NULL;
        }
  return g_steal_pointer (&values);
}

static gboolean
parse_minimise (const gchar *text, GArray **out, GError **error)
{
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (MnMinimiseKey));
  g_auto (GStrv) items = g_strsplit (text, ",", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      gchar *item = g_strstrip (items[i]);
      MnMinimiseKey k = { 0, FALSE };

      if (item[0] == '\0' && items[1] == NULL)
        break;
      if (item[0] == '-')
        {
          k.larger_first = TRUE;
          item = g_strstrip (item + 1);
        }
      if (!mn_sweep_param_from_string (item, &k.param))
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "'%s' is not a swept parameter (nodes, jobs_per_logical, memory_cap, "
                       "swap, gpu_mode, idle_timeout)", item);
          return FALSE;
        }
      for (guint j = 0; j < order->len; j++)
        if (g_array_index (order, MnMinimiseKey, j).param == k.param)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s' is named twice", item);
            return FALSE;
          }
      g_array_append_val (order, k);
    }
  *out = g_steal_pointer (&order);
  return TRUE;
}

static gchar *
resolve_path (const gchar *base_dir, const gchar *text)
{
  g_autofree gchar *expanded = NULL;

  /* ~ and $MINNA_SHARED_DIR let one scenario find ../shared/traces from the
   * source tree or an install. */
  if (g_str_has_prefix (text, "$MINNA_SHARED_DIR/"))
    {
      const gchar *shared = g_getenv ("MINNA_SHARED_DIR");

      if (shared != NULL && shared[0] != '\0')
        expanded = g_build_filename (shared, text + strlen ("$MINNA_SHARED_DIR/"), NULL);
      else
        expanded = g_build_filename (base_dir, "..", "..", "shared",
                                     text + strlen ("$MINNA_SHARED_DIR/"), NULL);
      return g_canonicalize_filename (expanded, NULL);
    }
  return g_canonicalize_filename (text, base_dir);
}

/* Store one value; errors get the FILE:LINE: [group] key: prefix from the caller. */
static gboolean
store (MnSweepScenario *s, const KeyInfo *info, const gchar *text, GError **error)
{
  guint8 *base = (guint8 *) s;

  switch (info->type)
    {
    case KT_STRING:
      g_free (G_STRUCT_MEMBER (gchar *, base, info->offset));
      G_STRUCT_MEMBER (gchar *, base, info->offset) = g_strdup (text);
      return TRUE;
    case KT_PATH:
      if (text[0] == '\0')
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE, "empty path");
          return FALSE;
        }
      g_free (G_STRUCT_MEMBER (gchar *, base, info->offset));
      G_STRUCT_MEMBER (gchar *, base, info->offset) = resolve_path (s->base_dir, text);
      return TRUE;
    case KT_ENUM:
      {
        gint idx = enum_index (info->choices, text);

        if (idx < 0)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s' is not one of %s", text, info->choices);
            return FALSE;
          }
        G_STRUCT_MEMBER (gint, base, info->offset) = idx;
        return TRUE;
      }
    case KT_STRV:
      {
        g_auto (GStrv) items = g_strsplit (text, ",", -1);
        g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);

        for (guint i = 0; items[i] != NULL; i++)
          if (g_strstrip (items[i])[0] != '\0')
            g_ptr_array_add (kept, g_strdup (items[i]));
        g_ptr_array_add (kept, NULL);
        g_strfreev (G_STRUCT_MEMBER (gchar **, base, info->offset));
        G_STRUCT_MEMBER (gchar **, base, info->offset) =
          (gchar **) g_ptr_array_steal (kept, NULL);
        return TRUE;
      }
    case KT_COUNT:
    case KT_DURATION:
      {
        gint64 v;

        if (!parse_item (info, text, &v))
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s' is not %s", text, item_kind (info));
            return FALSE;
          }
        if (!check_bounds (info, text, v, error))
          return FALSE;
        G_STRUCT_MEMBER (gint64, base, info->offset) = v;
        return TRUE;
      }
    case KT_LIST_COUNT:
    case KT_LIST_SIZE:
    case KT_LIST_DURATION:
    case KT_LIST_ENUM:
      {
        GArray *values = parse_list (info, text, error);

        if (values == NULL)
          return FALSE;
        g_clear_pointer (&s->values[info->index], g_array_unref);
        s->values[info->index] = values;
        return TRUE;
      }
    case KT_TARGET_SHARE:
      {
        gdouble v;

        if (!mn_sweep_parse_share (text, &v) || v < 0 || v > 1000)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s' is not a share (0.99 or 99%%)", text);
            return FALSE;
          }
        if (info->index != MN_TARGET_BATCH_WAIT_INCREASE && v > 1)
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "value '%s' out of range (allowed 0..1 or 0%%..100%%)", text);
            return FALSE;
          }
        s->targets[info->index].set = TRUE;
        s->targets[info->index].limit = v;
        return TRUE;
      }
    case KT_TARGET_DURATION:
    case KT_TARGET_COUNT:
      {
        gint64 v;

        if (!parse_item (info, text, &v))
          {
            g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                         "'%s' is not %s", text, item_kind (info));
            return FALSE;
          }
        s->targets[info->index].set = TRUE;
        s->targets[info->index].limit = v;
        return TRUE;
      }
    case KT_MINIMISE:
      g_clear_pointer (&s->minimise, g_array_unref);
      return parse_minimise (text, &s->minimise, error);
    default:
      g_assert_not_reached ();
    }
}

static gint64
policy_value (const MnPolicyConfig *p, MnSweepParam param)
{
  switch (param)
    {
    case MN_SWEEP_PARAM_NODES: return p->nodes;
    case MN_SWEEP_PARAM_JOBS_PER_LOGICAL: return p->max_jobs_per_logical;
    case MN_SWEEP_PARAM_MEMORY_CAP: return (gint64) p->job_max_memory_mb;
    case MN_SWEEP_PARAM_SWAP: return (gint64) p->node_swap_mb;
    case MN_SWEEP_PARAM_GPU_MODE: return p->gpu_mode;
    case MN_SWEEP_PARAM_IDLE_TIMEOUT: return p->idle_timeout;
    case MN_SWEEP_N_PARAMS:
    default: g_assert_not_reached ();
    }
}

static gboolean
load_policy (MnSweepScenario *s, LineMap *map, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (s->policy_path == NULL)
    {
      s->policy = mn_policy_config_new_default ();
      return TRUE;
    }
  if (!g_file_get_contents (s->policy_path, &text, &len, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO,
                   "%s:%d: [policy] file: cannot read '%s': %s", s->filename,
                   line_of (map, "policy", "file"), s->policy_path, local->message);
      return FALSE;
    }
  s->policy = mn_policy_config_load_data (text, len, s->policy_path, &local);
  if (s->policy == NULL)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                   "%s:%d: [policy] file: %s", s->filename,
                   line_of (map, "policy", "file"), local->message);
      return FALSE;
    }
  return TRUE;
}

static const gchar *const rule_names[] = { "trace", "queue", "name", "users", "rule" };

/* Keys that are valid alone but not together. */
static gboolean
check_consistency (MnSweepScenario *s, LineMap *map, GError **error)
{
  struct { MnInteractiveRule rule; const gchar *key; gboolean missing; } needs[] = {
    { MN_INTERACTIVE_BY_QUEUE, "interactive_queues", g_strv_length (s->interactive_queues) == 0 },
    { MN_INTERACTIVE_BY_NAME, "interactive_name", s->interactive_name[0] == '\0' },
    { MN_INTERACTIVE_BY_USERS, "interactive_users", g_strv_length (s->interactive_users) == 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (needs); i++)
    if ((gint) needs[i].rule == s->interactive && needs[i].missing)
      {
        g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_MISSING_KEY,
                     "%s:%d: [trace] interactive: '%s' needs [trace] %s", s->filename,
                     line_of (map, "trace", "interactive"),
                     rule_names[s->interactive], needs[i].key);
        return FALSE;
      }
  if (s->machine_nodes > 0)
    for (guint i = 0; i < s->values[MN_SWEEP_PARAM_NODES]->len; i++)
      if (g_array_index (s->values[MN_SWEEP_PARAM_NODES], gint64, i) >= s->machine_nodes)
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                       "%s:%d: [sweep] nodes: %" G_GINT64_FORMAT " nodes carved out leave "
                       "nothing for all.q (the machine has %" G_GINT64_FORMAT ")", s->filename,
                       line_of (map, "sweep", "nodes"),
                       g_array_index (s->values[MN_SWEEP_PARAM_NODES], gint64, i), s->machine_nodes);
          return FALSE;
        }
  return TRUE;
}

MnSweepScenario *
mn_sweep_scenario_load_data (const gchar *data, gsize length, const gchar *filename,
                             GError **error)
{
  g_autoptr (MnSweepScenario) s = g_new0 (MnSweepScenario, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;
  LineMap map = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) };
  g_autoptr (GHashTable) lines = map.lines;
  g_autofree gchar *base = g_path_get_basename (filename);

  s->filename = g_strdup (filename);
  {
    g_autofree gchar *dir = g_path_get_dirname (filename);

    s->base_dir = g_canonicalize_filename (dir, NULL);
  }
  if (!scan_lines (data, length, filename, &map, error))
    return NULL;
  if (!g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_PARSE, "%s: %s", filename,
                   local->message);
      return NULL;
    }

  /* Defaults first, then the file's keys in the file's order. */
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].fallback != NULL && !store (s, &keys[i], keys[i].fallback, NULL))
      g_assert_not_reached ();
  s->name = g_str_has_suffix (base, ".scenario")
    ? g_strndup (base, strlen (base) - strlen (".scenario")) : g_strdup (base);

  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g] != NULL; g++)
    {
      g_auto (GStrv) names = g_key_file_get_keys (kf, groups[g], NULL, NULL);

      if (!known_group (groups[g]))
        {
          g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_UNKNOWN_KEY,
                       "%s:%d: unknown group [%s] (groups: scenario, trace, machine, policy, "
                       "sweep, targets, minimise)", filename, line_of (&map, groups[g], NULL),
                       groups[g]);
          return NULL;
        }
      for (guint k = 0; names != NULL && names[k] != NULL; k++)
        {
          const KeyInfo *info = find_key (groups[g], names[k]);
          g_autofree gchar *value = NULL;
          gint lineno = line_of (&map, groups[g], names[k]);

          if (info == NULL)
            {
              g_autofree gchar *hint = suggest (groups[g], names[k]);

              g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_UNKNOWN_KEY,
                           "%s:%d: unknown key '%s' in [%s]%s", filename, lineno, names[k],
                           groups[g], hint);
              return NULL;
            }
          value = g_key_file_get_string (kf, groups[g], names[k], &local);
          /* GKeyFile may return a value AND an error (a trailing backslash). */
          if (value == NULL || local != NULL)
            {
              g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE,
                           "%s:%d: [%s] %s: %s", filename, lineno, groups[g], names[k],
                           local->message);
              return NULL;
            }
          g_strstrip (value);
          if (!store (s, info, value, &local))
            {
              g_set_error (error, MN_SWEEP_ERROR, local->code, "%s:%d: [%s] %s: %s",
                           filename, lineno, groups[g], names[k], local->message);
              return NULL;
            }
        }
    }

  if (s->trace_path == NULL)
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_MISSING_KEY,
                   "%s: [trace] path: required key missing", filename);
      return NULL;
    }
  if (!load_policy (s, &map, error))
    return NULL;
  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    if (s->values[p] == NULL)
      {
        gint64 v = policy_value (s->policy, p);

        s->values[p] = g_array_new (FALSE, FALSE, sizeof (gint64));
        g_array_append_val (s->values[p], v);
      }
  if (!check_consistency (s, &map, error))
    return NULL;
  return g_steal_pointer (&s);
}

MnSweepScenario *
mn_sweep_scenario_load_file (const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_IO, "cannot read scenario '%s': %s",
                   path, local->message);
      return NULL;
    }
  return mn_sweep_scenario_load_data (text, len, path, error);
}

void
mn_sweep_scenario_free (MnSweepScenario *s)
{
  if (s == NULL)
    return;
  g_free (s->name);
  g_free (s->description);
  g_free (s->filename);
  g_free (s->base_dir);
  g_free (s->trace_path);
  g_strfreev (s->interactive_queues);
  g_free (s->interactive_name);
  g_strfreev (s->interactive_users);
  g_free (s->policy_path);
  g_clear_pointer (&s->policy, mn_policy_config_free);
  for (guint p = 0; p < MN_SWEEP_N_PARAMS; p++)
    g_clear_pointer (&s->values[p], g_array_unref);
  g_clear_pointer (&s->minimise, g_array_unref);
  g_free (s);
}

void
mn_sweep_scenario_classify (const MnSweepScenario *s, MnTraceJob *job)
{
  switch ((MnInteractiveRule) s->interactive)
    {
    case MN_INTERACTIVE_BY_TRACE:
      return;
    case MN_INTERACTIVE_BY_QUEUE:
      job->interactive = job->queue != NULL
        && g_strv_contains ((const gchar *const *) s->interactive_queues, job->queue);
      return;
    case MN_INTERACTIVE_BY_NAME:
      job->interactive = job->name != NULL
        && g_pattern_match_simple (s->interactive_name, job->name);
      return;
    case MN_INTERACTIVE_BY_USERS:
      job->interactive = job->user != NULL
        && g_strv_contains ((const gchar *const *) s->interactive_users, job->user);
      return;
    case MN_INTERACTIVE_BY_RULE:
      {
        gint64 procs = job->procs > 0 ? job->procs : job->procs_alloc;

        if (procs <= 0 && job->rtype != MN_RTYPE_NONE)
          procs = (gint64) mn_resource_type_info (job->rtype)->cores * job->rtype_count;
        job->interactive = procs > 0 && procs <= s->interactive_max_procs
          && job->runtime >= 0 && job->runtime <= s->interactive_max_runtime;
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

gchar *
mn_sweep_scenario_describe_keys (void)
{
  GString *out = g_string_new (NULL);
  const gchar *group = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      if (group == NULL || !g_str_equal (group, keys[i].group))
        {
          group = keys[i].group;
          g_string_append_printf (out, "\n### [%s]\n\n| key | default | meaning |\n| --- | --- | --- |\n",
                                  group);
        }
      g_auto (GStrv) choices = keys[i].choices != NULL ? g_strsplit (keys[i].choices, "|", -1) : NULL;
      g_autofree gchar *values = choices != NULL ? g_strjoinv (", ", choices) : NULL;

      /* a '|' would end the Markdown cell */
      g_string_append_printf (out, "| `%s` | %s | %s%s%s |\n", keys[i].key,
                              keys[i].fallback != NULL && keys[i].fallback[0] != '\0'
                                ? keys[i].fallback : "-",
                              keys[i].help,
                              values != NULL ? " Values: " : "",
                              values != NULL ? values : "");
    }
  return g_string_free (out, FALSE);
}
