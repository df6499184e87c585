/* mn-config-doc.c: what the table says in words: the written-back file
 * with help comments, the key references, the allowed values. */
#define G_LOG_DOMAIN "minna-config"

#include <string.h>

#include "mn-config-private.h"

static gchar *
format_bound (const MnConfigKey *key, gint64 v)
{
  switch (key->type)
    {
    case MN_CONFIG_SIZE:
      return mn_config_format_size ((guint64) v);
    case MN_CONFIG_DURATION:
      return mn_config_format_duration (v);
    case MN_CONFIG_SHARE:
      return g_strdup_printf ("%" G_GINT64_FORMAT "%%", v);
    case MN_CONFIG_BOOL:
    case MN_CONFIG_UINT:
    case MN_CONFIG_INT:
    case MN_CONFIG_DOUBLE:
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
    case MN_CONFIG_ENUM:
    case MN_CONFIG_STRV:
    default:
      return g_strdup_printf ("%" G_GINT64_FORMAT, v);
    }
}

gchar *
mn_config_describe_allowed (const MnConfigKey *key)
{
  g_autofree gchar *lo = NULL;
  g_autofree gchar *hi = NULL;

  if (key->choices != NULL)
    return g_strjoinv (", ", (gchar **) key->choices);
  if (key->min == 0 && key->max == 0)
    return g_strdup ("");
  lo = format_bound (key, key->min);
  hi = format_bound (key, key->max);
  if (key->unit != NULL)
    return g_strdup_printf ("%s..%s %s", lo, hi, key->unit);
  return g_strdup_printf ("%s..%s", lo, hi);
}

const gchar *
mn_config_type_name (const MnConfigKey *key)
{
  if (key->kind != NULL)
    return key->kind;
  switch (key->type)
    {
    case MN_CONFIG_BOOL:     return "boolean (true or false)";
    case MN_CONFIG_UINT:
    case MN_CONFIG_INT:      return "integer";
    case MN_CONFIG_SIZE:     return "size (M, G, T)";
    case MN_CONFIG_DURATION: return "duration (s, m, h, d)";
    case MN_CONFIG_SHARE:    return "share (0.99 or 99%)";
    case MN_CONFIG_DOUBLE:   return "number";
    case MN_CONFIG_STRING:   return key->choices != NULL ? "one of" : "string";
    case MN_CONFIG_PATH:     return "path";
    case MN_CONFIG_ENUM:     return "one of";
    case MN_CONFIG_STRV:     return "list (comma-separated)";
    default:                 return "?";
    }
}

void
mn_config_append_wrapped (GString *out, const gchar *prefix, const gchar *text, guint width)
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

/* The group's heading when @key starts a group; TRUE if it did. */
static gboolean
open_group (GString *out, const gchar **group, const MnConfigKey *key, gboolean markdown)
{
  if (*group != NULL && g_str_equal (*group, key->group))
    return FALSE;
  *group = key->group;
  if (markdown)
    g_string_append_printf (out, "\n### [%s]\n\n| key | default | meaning |\n"
                            "| --- | --- | --- |\n", key->group);
  else
    g_string_append_printf (out, "\n[%s]\n", key->group);
  return TRUE;
}

/* GKeyFile's escapes, so that the value reads back as it is. */
static gchar *
escape_value (const gchar *text)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const gchar *p = text; *p != '\0'; p++)
    switch (*p)
      {
      case '\\': g_string_append (out, "\\\\"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\t': g_string_append (out, "\\t"); break;
      case '\r': g_string_append (out, "\\r"); break;
      default: g_string_append_c (out, *p);
      }
  return g_string_free (out, FALSE);
}

gchar *
mn_config_write (const MnConfigTable *table, gconstpointer object, const gchar *header,
                 MnConfigWriteFlags flags)
{
  GString *out = g_string_new (header);
  const gchar *group = NULL;

  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];
      g_autofree gchar *value = object != NULL ? mn_config_format (k, object) : NULL;

      if (object != NULL && value == NULL)
        continue;   /* a key with its own setter: no field to write */
      if (!open_group (out, &group, k, FALSE) && (flags & MN_CONFIG_WRITE_SPACED))
        g_string_append_c (out, '\n');
      if (flags & MN_CONFIG_WRITE_WRAP)
        mn_config_append_wrapped (out, "# ", k->help, 76);
      else
        g_string_append_printf (out, "# %s\n", k->help);
      if (flags & MN_CONFIG_WRITE_ALLOWED)
        {
          g_autofree gchar *allowed = mn_config_describe_allowed (k);

          g_string_append (out, "# ");
          if (allowed[0] != '\0')
            g_string_append_printf (out, "Allowed: %s%s. ", k->choices != NULL ? "one of " : "",
                                    allowed);
          g_string_append_printf (out, "Default: %s.\n", k->def != NULL ? k->def : "none");
        }
      if (value != NULL)
        {
          g_autofree gchar *escaped = escape_value (value);

          g_string_append_printf (out, "%s = %s\n", k->name, escaped);
        }
      else
        g_string_append_printf (out, "%s = %s\n", k->name, k->def != NULL ? k->def : "");
    }
  return g_string_free (out, FALSE);
}

gchar *
mn_config_describe_text (const MnConfigTable *table)
{
  GString *out = g_string_new (NULL);
  const gchar *group = NULL;

  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];
      g_autofree gchar *allowed = mn_config_describe_allowed (k);

      open_group (out, &group, k, FALSE);
      if (k->def != NULL)
        g_string_append_printf (out, "  %s = %s\n", k->name, k->def);
      else
        g_string_append_printf (out, "  %s\n", k->name);
      g_string_append_printf (out, "      %s%s%s\n", mn_config_type_name (k),
                              allowed[0] != '\0' ? " " : "", allowed);
      mn_config_append_wrapped (out, "      ", k->help, 72);
    }
  return g_string_free (out, FALSE);
}

gchar *
mn_config_describe_markdown (const MnConfigTable *table)
{
  GString *out = g_string_new (NULL);
  const gchar *group = NULL;

  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];
      g_autofree gchar *values = k->choices != NULL ? g_strjoinv (", ", (gchar **) k->choices)
                                                    : NULL;

      open_group (out, &group, k, TRUE);
      /* a '|' would end the Markdown cell */
      g_string_append_printf (out, "| `%s` | %s | %s%s%s |\n", k->name,
                              k->def != NULL && k->def[0] != '\0' ? k->def : "-", k->help,
                              values != NULL ? " Values: " : "", values != NULL ? values : "");
    }
  return g_string_free (out, FALSE);
}
