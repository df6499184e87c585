/* mn-twin-compare.c: what one session did (a row of text fields), rows as
 * TSV, and the session-by-session comparison that fails the twin suite on
 * every difference. */
#define G_LOG_DOMAIN "minna-twin"

#include <string.h>

#include "mn-twin.h"

static const gchar *const field_names[] = {
  "name", "user", "decision", "reason", "node", "logical", "cpus", "gpus", "memory_limit",
  "cpu_quota", "start", "end",
  "end_reason", "gpu_failed", NULL
};

G_STATIC_ASSERT (G_N_ELEMENTS (field_names) == MN_TWIN_N_FIELDS + 1);

const gchar *
mn_twin_field_to_string (MnTwinField field)
{
  return (guint) field < MN_TWIN_N_FIELDS ? field_names[field] : "unknown";
}

gboolean
mn_twin_field_from_string (const gchar *text, MnTwinField *field)
{
  for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
    if (g_strcmp0 (text, field_names[f]) == 0)
      {
        *field = f;
        return TRUE;
      }
  return FALSE;
}

MnTwinRow *
mn_twin_row_new (void)
{
  MnTwinRow *row = g_new0 (MnTwinRow, 1);

  for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
    row->v[f] = g_strdup ("?");
  return row;
}

void
mn_twin_row_free (MnTwinRow *row)
{
  if (row == NULL)
    return;
  for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
    g_free (row->v[f]);
  g_free (row);
}

void
mn_twin_row_set (MnTwinRow *row, MnTwinField field, const gchar *value)
{
  g_return_if_fail ((guint) field < MN_TWIN_N_FIELDS);
  g_free (row->v[field]);
  /* Tabs and newlines would break the TSV; nothing the rows hold needs them. */
  row->v[field] = g_strdelimit (g_strdup (value != NULL ? value : ""), "\t\n\r", ' ');
}

void
mn_twin_row_set_int (MnTwinRow *row, MnTwinField field, gint64 value)
{
  g_autofree gchar *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  mn_twin_row_set (row, field, text);
}

gchar *
mn_twin_rows_to_tsv (GPtrArray *rows)
{
  GString *out = g_string_new (NULL);

  for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
    g_string_append_printf (out, "%s%s", f ? "\t" : "", field_names[f]);
  g_string_append_c (out, '\n');
  for (guint i = 0; i < rows->len; i++)
    {
      const MnTwinRow *row = g_ptr_array_index (rows, i);

      for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
        g_string_append_printf (out, "%s%s", f ? "\t" : "", row->v[f]);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

GPtrArray *
mn_twin_rows_from_tsv (const gchar *text, const gchar *path, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_twin_row_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gint col[MN_TWIN_N_FIELDS];
  g_auto (GStrv) head = NULL;

  if (lines[0] == NULL || lines[0][0] == '\0')
    {
      g_set_error (error, MN_TWIN_ERROR, MN_TWIN_ERROR_PARSE, "%s:1: no header line", path);
      return NULL;
    }
  head = g_strsplit (lines[0], "\t", -1);
  for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
    {
      col[f] = -1;
      for (guint c = 0; head[c] != NULL; c++)
        if (g_str_equal (g_strstrip (head[c]), field_names[f]))
          col[f] = (gint) c;
    }
  if (col[MN_TWIN_FIELD_NAME] < 0)
    {
      g_set_error (error, MN_TWIN_ERROR, MN_TWIN_ERROR_PARSE,
                   "%s:1: the header has no 'name' column", path);
      return NULL;
    }
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) cells = NULL;
      MnTwinRow *row;
      guint n;

      if (lines[i][0] == '\0')
        continue;
      cells = g_strsplit (lines[i], "\t", -1);
      n = g_strv_length (cells);
      if (n != g_strv_length (head))
        {
          g_set_error (error, MN_TWIN_ERROR, MN_TWIN_ERROR_PARSE,
                       "%s:%u: %u fields, the header has %u", path, i + 1, n,
                       g_strv_length (head));
          return NULL;
        }
      row = mn_twin_row_new ();
      for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
        if (col[f] >= 0)
          mn_twin_row_set (row, f, cells[col[f]]);
      g_ptr_array_add (rows, row);
    }
  return g_steal_pointer (&rows);
}

/* ---- Comparing ------------------------------------------------------------------- */

static const MnTwinRow *
find_row (GPtrArray *rows, const gchar *name)
{
  for (guint i = 0; i < rows->len; i++)
    {
      const MnTwinRow *r = g_ptr_array_index (rows, i);

      if (g_str_equal (r->v[MN_TWIN_FIELD_NAME], name))
        return r;
    }
  return NULL;
}

static gboolean
is_time (MnTwinField f)
{
  return f == MN_TWIN_FIELD_START || f == MN_TWIN_FIELD_END;
}

static gboolean
same (MnTwinField f, const gchar *a, const gchar *b, gint64 tolerance)
{
  gint64 x, y;

  if (g_str_equal (a, b))
    return TRUE;
  if (!is_time (f) || a[0] == '\0' || b[0] == '\0' ||
      !g_ascii_string_to_signed (a, 10, G_MININT64 / 4, G_MAXINT64 / 4, &x, NULL) ||
      !g_ascii_string_to_signed (b, 10, G_MININT64 / 4, G_MAXINT64 / 4, &y, NULL))
    return FALSE;
  return ABS (x - y) <= tolerance;
}

guint
mn_twin_compare (const MnTwinScenario *sc, GPtrArray *expected, GPtrArray *actual,
                 const MnTwinCompareOptions *options, GString *report)
{
  guint differences = 0;
  gint64 tol = sc != NULL ? sc->tolerance : 0;
  GString *not_compared = g_string_new (NULL);
  static const MnTwinCompareOptions none = { { NULL }, NULL, NULL };

  if (options == NULL)
    options = &none;
  g_string_append_printf (report, "twin %s: %u sessions (model) vs %u (real), times within %"
                          G_GINT64_FORMAT " s\n", sc != NULL ? sc->name : "?", expected->len,
                          actual->len, tol);
  for (guint i = 0; i < expected->len; i++)
    {
      const MnTwinRow *e = g_ptr_array_index (expected, i);
      const gchar *name = e->v[MN_TWIN_FIELD_NAME];
      const MnTwinRow *a = find_row (actual, name);
      const gchar *why_row = options->cannot_rows != NULL
                             ? g_hash_table_lookup (options->cannot_rows, name) : NULL;
      GString *line = g_string_new (NULL);
      guint diffs = 0;

      if (why_row != NULL)
        {
          g_string_append_printf (not_compared, "  %s: not compared: %s\n", name, why_row);
          g_string_append_printf (report, "  %-16s NOT COMPARED (%s)\n", name, why_row);
          g_string_free (line, TRUE);
          continue;
        }
      if (a == NULL)
        {
          g_string_append_printf (report, "  %-16s DIFF missing from the real run\n", name);
          differences++;
          g_string_free (line, TRUE);
          continue;
        }
      for (guint f = MN_TWIN_FIELD_USER; f < MN_TWIN_N_FIELDS; f++)
        {
          if (options->cannot[f] != NULL)
            continue;
          if (options->cannot_cells != NULL)
            {
              g_autofree gchar *key = g_strdup_printf ("%s:%s", name, field_names[f]);
              const gchar *why = g_hash_table_lookup (options->cannot_cells, key);

              if (why != NULL)
                {
                  g_string_append_printf (not_compared, "  %s: %s not compared (model '%s',"
                                          " real '%s'): %s\n", name, field_names[f], e->v[f],
                                          a->v[f], why);
                  continue;
                }
            }
          if (!same (f, e->v[f], a->v[f], tol))
            {
              g_string_append_printf (line, " %s: model '%s' real '%s';", field_names[f],
                                      e->v[f], a->v[f]);
              diffs++;
            }
        }
      if (diffs == 0)
        g_string_append_printf (report, "  %-16s OK   %s %s%s%s node %s/%s cpus %s gpus '%s' "
                                "start %s end %s %s\n", name, e->v[MN_TWIN_FIELD_DECISION],
                                e->v[MN_TWIN_FIELD_REASON][0] ? "(" : "",
                                e->v[MN_TWIN_FIELD_REASON],
                                e->v[MN_TWIN_FIELD_REASON][0] ? ")" : "",
                                e->v[MN_TWIN_FIELD_NODE], e->v[MN_TWIN_FIELD_LOGICAL],
                                e->v[MN_TWIN_FIELD_CPUS], e->v[MN_TWIN_FIELD_GPUS],
                                e->v[MN_TWIN_FIELD_START], e->v[MN_TWIN_FIELD_END],
                                e->v[MN_TWIN_FIELD_END_REASON]);
      else
        g_string_append_printf (report, "  %-16s DIFF%s\n", name, line->str);
      differences += diffs;
      g_string_free (line, TRUE);
    }
  for (guint i = 0; i < actual->len; i++)
    {
      const MnTwinRow *a = g_ptr_array_index (actual, i);

      if (find_row (expected, a->v[MN_TWIN_FIELD_NAME]) == NULL)
        {
          g_string_append_printf (report, "  %-16s DIFF not in the scenario's model run\n",
                                  a->v[MN_TWIN_FIELD_NAME]);
          differences++;
        }
    }
  for (guint f = 0; f < MN_TWIN_N_FIELDS; f++)
    if (options->cannot[f] != NULL)
      g_string_append_printf (not_compared, "  %s: not compared for any session: %s\n",
                              field_names[f], options->cannot[f]);
  if (not_compared->len > 0)
    g_string_append_printf (report, "not compared:\n%s", not_compared->str);
  g_string_append_printf (report, "twin %s: %u difference%s\n", sc != NULL ? sc->name : "?",
                          differences, differences == 1 ? "" : "s");
  g_string_free (not_compared, TRUE);
  return differences;
}
