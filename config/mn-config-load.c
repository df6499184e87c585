/* mn-config-load.c: a key file's text, line by line, into an object through
 * its table.  GKeyFile reports no line numbers, so the lines are read here;
 * the syntax is GKeyFile's ([group], key = value, comments, its escapes). */
#define G_LOG_DOMAIN "minna-config"

#include <string.h>

#include "mn-config-private.h"

struct _MnConfigLines {
  GHashTable *lines;   /* "group\nkey" -> GUINT_TO_POINTER (line) */
};

static gchar *
lines_key (const gchar *group, const gchar *name)
{
  return g_strdup_printf ("%s\n%s", group, name);
}

guint
mn_config_lines_find (const MnConfigLines *lines, const gchar *group, const gchar *name)
{
  g_autofree gchar *k = NULL;

  if (lines == NULL || group == NULL || name == NULL)
    return 0;
  k = lines_key (group, name);
  return GPOINTER_TO_UINT (g_hash_table_lookup (lines->lines, k));
}

void
mn_config_lines_free (MnConfigLines *lines)
{
  if (lines == NULL)
    return;
  g_hash_table_unref (lines->lines);
  g_free (lines);
}

/* GKeyFile's escapes: \s \n \t \r \\.  NULL (and an error) for any other. */
static gchar *
unescape (const gchar *text, GError **error)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const gchar *p = text; *p != '\0'; p++)
    {
      if (*p != '\\')
        {
          g_string_append_c (out, *p);
          continue;
        }
      p++;
      switch (*p)
        {
        case 's': g_string_append_c (out, ' '); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '\0':
          g_string_free (out, TRUE);
          mn_config_fail (error, MN_CONFIG_ERROR_INVALID_VALUE,
                          "value '%s' ends in an escape character ('\\')", text);
          return NULL;
        default:
          {
            /* the whole UTF-8 character after the backslash */
            g_autofree gchar *what = g_strndup (p, g_utf8_next_char (p) - p);

            g_string_free (out, TRUE);
            mn_config_fail (error, MN_CONFIG_ERROR_INVALID_VALUE,
                            "value '%s' has an invalid escape '\\%s' (known: \\s \\n \\t "
                            "\\r \\\\)", text, what);
            return NULL;
          }
        }
    }
  return g_string_free (out, FALSE);
}

/* One "key = value" line of [group]: looked up, checked against repeats,
 * unescaped and stored.  Errors carry no file position. */
static gboolean
load_line (const MnConfigTable *table, gpointer object, MnConfigLines *lines,
           const gchar *group, gchar *line, gchar *eq, guint lineno, GError **error)
{
  const MnConfigKey *k;
  g_autofree gchar *label = NULL;
  g_autofree gchar *where = NULL;
  g_autofree gchar *value = NULL;
  gpointer first;

  *eq = '\0';
  g_strstrip (line);
  k = mn_config_lookup (table, group, line);
  if (k == NULL)
    return mn_config_fail_unknown_key (table, group, line, error);
  label = mn_config_key_label (table, k);
  where = lines_key (group, line);
  if (g_hash_table_lookup_extended (lines->lines, where, NULL, &first))
    return mn_config_fail (error, MN_CONFIG_ERROR_DUPLICATE,
                           "%s: set twice (first on line %u)", label,
                           GPOINTER_TO_UINT (first));
  g_hash_table_insert (lines->lines, g_steal_pointer (&where), GUINT_TO_POINTER (lineno));
  value = unescape (g_strstrip (eq + 1), error);
  if (value == NULL || !mn_config_set_key (k, object, value, error))
    {
      g_prefix_error (error, "%s: ", label);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_text (const MnConfigTable *table, gpointer object, const gchar *data, gsize length,
           const gchar *filename, MnConfigLines *lines, GError **error)
{
  g_autofree gchar *group = NULL;
  const gchar *p = data, *end = data + length;
  const gchar *nul = memchr (data, '\0', length);
  guint lineno = 0;

  if (nul != NULL)
    {
      lineno = 1;
      for (const gchar *q = data; q < nul; q++)
        lineno += *q == '\n';
      return mn_config_fail (error, MN_CONFIG_ERROR_PARSE, "%s:%u: NUL byte in a text file",
                             filename, lineno);
    }
  while (p < end)
    {
      const gchar *nl = memchr (p, '\n', end - p);
      const gchar *stop = nl != NULL ? nl : end;
      g_autofree gchar *line = g_strndup (p, stop - p);
      gchar *eq;

      lineno++;
      p = nl != NULL ? nl + 1 : end;
      if (!g_utf8_validate (line, -1, NULL))
        return mn_config_fail (error, MN_CONFIG_ERROR_PARSE, "%s:%u: not UTF-8 text",
                               filename, lineno);
      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
        continue;
      if (line[0] == '[')
        {
          gsize len = strlen (line);

          if (len < 3 || line[len - 1] != ']')
            return mn_config_fail (error, MN_CONFIG_ERROR_PARSE,
                                   "%s:%u: malformed group line '%s' (expected [name])",
                                   filename, lineno, line);
          g_free (group);
          group = g_strndup (line + 1, len - 2);
          if (!mn_config_has_group (table, group))
            {
              mn_config_fail_unknown_group (table, group, error);
              g_prefix_error (error, "%s:%u: ", filename, lineno);
              return FALSE;
            }
          continue;
        }
      eq = strchr (line, '=');
      if (eq == NULL || eq == line)
        return mn_config_fail (error, MN_CONFIG_ERROR_PARSE,
                               "%s:%u: line '%s' is neither '[group]', 'key = value' nor "
                               "a '#' comment", filename, lineno, line);
      if (group == NULL)
        {
          *eq = '\0';
          return mn_config_fail (error, MN_CONFIG_ERROR_PARSE,
                                 "%s:%u: key '%s' comes before any [group]",
                                 filename, lineno, g_strstrip (line));
        }
      if (!load_line (table, object, lines, group, line, eq, lineno, error))
        {
          g_prefix_error (error, "%s:%u: ", filename, lineno);
          return FALSE;
        }
    }

  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];

      if ((k->flags & MN_CONFIG_KEY_REQUIRED) && mn_config_lines_find (lines, k->group, k->name) == 0)
        {
          g_autofree gchar *label = mn_config_key_label (table, k);

          return mn_config_fail (error, MN_CONFIG_ERROR_MISSING_KEY,
                                 "%s: %s: required key missing", filename, label);
        }
    }
  return TRUE;
}

gboolean
mn_config_load_data (const MnConfigTable *table, gpointer object, const gchar *data,
                     gssize length, const gchar *filename, MnConfigLines **lines_out,
                     GError **error)
{
  g_autoptr (MnConfigLines) lines = g_new0 (MnConfigLines, 1);
  gsize len;

  lines->lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (filename == NULL)
    filename = "(configuration)";
  if (data == NULL)
    data = "", length = 0;
  len = length < 0 ? strlen (data) : (gsize) length;
  /* Some editors start UTF-8 files with a byte-order mark; it is not text. */
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    data += 3, len -= 3;
  if (!load_text (table, object, data, len, filename, lines, error))
    {
      mn_config_finish_error (table, error);
      return FALSE;
    }
  if (lines_out != NULL)
    *lines_out = g_steal_pointer (&lines);
  return TRUE;
}
