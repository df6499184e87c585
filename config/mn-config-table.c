/* mn-config-table.c: keys and values: lookup, parsing by type, bounds,
 * storing through the table's offsets, defaults, copies, equality and
 * validation. */
#define G_LOG_DOMAIN "minna-config"

#include <string.h>

#include "mn-config-private.h"
#include "mn-config-suggest.h"

G_DEFINE_QUARK (mn-config-error-quark, mn_config_error)

/* ---- Errors ------------------------------------------------------------- */

gboolean
mn_config_fail (GError **error, MnConfigError code, const gchar *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_propagate_error (error, g_error_new_valist (MN_CONFIG_ERROR, code, fmt, ap));
  va_end (ap);
  return FALSE;
}

void
mn_config_finish_error (const MnConfigTable *table, GError **error)
{
  GError *e = error != NULL ? *error : NULL;

  if (e == NULL || e->domain != MN_CONFIG_ERROR || table->error_quark == NULL ||
      e->code < 0 || e->code >= MN_CONFIG_N_ERRORS)
    return;
  e->domain = table->error_quark ();
  e->code = table->error_codes[e->code];
}

/* ---- The table ---------------------------------------------------------- */

const MnConfigKey *
mn_config_lookup (const MnConfigTable *table, const gchar *group, const gchar *name)
{
  for (gsize i = 0; i < table->n_keys; i++)
    if ((group == NULL || g_str_equal (table->keys[i].group, group)) &&
        g_str_equal (table->keys[i].name, name))
      return &table->keys[i];
  return NULL;
}

gboolean
mn_config_has_group (const MnConfigTable *table, const gchar *group)
{
  for (gsize i = 0; i < table->n_keys; i++)
    if (g_str_equal (table->keys[i].group, group))
      return TRUE;
  return FALSE;
}

const gchar **
mn_config_groups (const MnConfigTable *table)
{
  const gchar **groups = g_new0 (const gchar *, table->n_keys + 1);
  guint n = 0;

  for (gsize i = 0; i < table->n_keys; i++)
    if (!g_strv_contains (groups, table->keys[i].group))
      groups[n++] = table->keys[i].group;
  return groups;
}

gchar *
mn_config_key_label (const MnConfigTable *table, const MnConfigKey *key)
{
  if (table != NULL && (table->flags & MN_CONFIG_TABLE_ONE_GROUP))
    return g_strdup_printf ("key %s", key->name);
  return g_strdup_printf ("[%s] %s", key->group, key->name);
}

gboolean
mn_config_fail_unknown_group (const MnConfigTable *table, const gchar *group, GError **error)
{
  g_autofree const gchar **groups = mn_config_groups (table);
  const gchar *near = mn_config_suggest (group, groups);

  if (near != NULL)
    return mn_config_fail (error, MN_CONFIG_ERROR_UNKNOWN_KEY,
                           "unknown group [%s] (did you mean [%s]?)", group, near);
  {
    g_autofree gchar *all = g_strjoinv ("], [", (gchar **) groups);

    return mn_config_fail (error, MN_CONFIG_ERROR_UNKNOWN_KEY,
                           "unknown group [%s] (known groups: [%s])", group, all);
  }
}

gboolean
mn_config_fail_unknown_key (const MnConfigTable *table, const gchar *group,
                            const gchar *name, GError **error)
{
  const MnConfigKey *best = NULL;
  guint best_d = G_MAXUINT;

  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];
      /* A key of the same group is likelier than one elsewhere ... */
      gboolean same = g_str_equal (k->group, group);
      guint d = mn_config_edit_distance (name, k->name) * 2 + (same ? 0 : 1);

      /* ... and "cores" in [job] means max_cores, not [node] cores. */
      if (same && strlen (name) >= 3 && strstr (k->name, name) != NULL)
        d = 0;
      if (d < best_d)
        best_d = d, best = k;
    }
  if (best == NULL || !mn_config_close_enough (name, best_d / 2))
    return mn_config_fail (error, MN_CONFIG_ERROR_UNKNOWN_KEY,
                           "unknown key '%s' in [%s]", name, group);
  if (g_str_equal (best->group, group))
    return mn_config_fail (error, MN_CONFIG_ERROR_UNKNOWN_KEY,
                           "unknown key '%s' in [%s] (did you mean '%s'?)",
                           name, group, best->name);
  return mn_config_fail (error, MN_CONFIG_ERROR_UNKNOWN_KEY,
                         "unknown key '%s' in [%s] (did you mean '[%s] %s'?)",
                         name, group, best->group, best->name);
}

/* ---- Parsing one value ---------------------------------------------------- */

static const gchar *
type_expect (const MnConfigKey *key)
{
  switch (key->type)
    {
    case MN_CONFIG_BOOL:
      return "a boolean (true or false)";
    case MN_CONFIG_UINT:
    case MN_CONFIG_INT:
      return "a whole number";
    case MN_CONFIG_SIZE:
      return "a size (a number with an optional M, G or T suffix, e.g. 60G)";
    case MN_CONFIG_DURATION:
      return "a duration (a number with an optional s, m, h or d suffix, e.g. 24h, "
             "or HH:MM:SS)";
    case MN_CONFIG_SHARE:
      return "a share (0.99 or 99%)";
    case MN_CONFIG_DOUBLE:
      return "a number";
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
    case MN_CONFIG_ENUM:
    case MN_CONFIG_STRV:
    default:
      return key->expect != NULL ? key->expect : "valid";
    }
}

static gboolean
fail_not (const MnConfigKey *key, const gchar *text, GError **error)
{
  return mn_config_fail (error, MN_CONFIG_ERROR_INVALID_VALUE, "value '%s' is not %s",
                         text, type_expect (key));
}

static gboolean
fail_range (const MnConfigKey *key, const gchar *text, GError **error)
{
  g_autofree gchar *allowed = mn_config_describe_allowed (key);

  if (allowed[0] == '\0')
    return mn_config_fail (error, MN_CONFIG_ERROR_INVALID_VALUE,
                           "value '%s' out of range", text);
  return mn_config_fail (error, MN_CONFIG_ERROR_INVALID_VALUE,
                         "value '%s' out of range (allowed %s)", text, allowed);
}

static gboolean
fail_choice (const MnConfigKey *key, const gchar *text, GError **error)
{
  g_autofree gchar *allowed = g_strjoinv (", ", (gchar **) key->choices);

  return mn_config_fail (error, MN_CONFIG_ERROR_INVALID_VALUE,
                         "value '%s' is not one of: %s", text, allowed);
}

static gint
choice_index (const MnConfigKey *key, const gchar *text)
{
  for (guint i = 0; key->choices != NULL && key->choices[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, key->choices[i]) == 0)
      return i;
  return -1;
}

/* The result of a units parser as an error, or TRUE. */
static gboolean
parse_result (const MnConfigKey *key, const gchar *text, MnConfigParse r, GError **error)
{
  if (r == MN_CONFIG_PARSE_INVALID)
    return fail_not (key, text, error);
  if (r == MN_CONFIG_PARSE_OVERFLOW)
    return fail_range (key, text, error);
  return TRUE;
}

gboolean
mn_config_parse_scalar (const MnConfigKey *key, const gchar *text, MnConfigValue *value,
                        GError **error)
{
  MnConfigParse r;

  memset (value, 0, sizeof *value);
  switch (key->type)
    {
    case MN_CONFIG_BOOL:
      return parse_result (key, text, mn_config_parse_bool (text, &value->b), error);
    case MN_CONFIG_UINT:
    case MN_CONFIG_SIZE:
    case MN_CONFIG_DURATION:
      r = key->type == MN_CONFIG_UINT ? mn_config_parse_uint (text, &value->u)
        : key->type == MN_CONFIG_SIZE ? mn_config_parse_size (text, &value->u)
        : mn_config_parse_duration (text, &value->u);
      /* Stored in a guint, a gint64: beyond that is out of every range. */
      if (r == MN_CONFIG_PARSE_OK &&
          value->u > (key->type == MN_CONFIG_UINT ? G_MAXUINT : (guint64) G_MAXINT64))
        r = MN_CONFIG_PARSE_OVERFLOW;
      return parse_result (key, text, r, error);
    case MN_CONFIG_INT:
      if (key->min < 0)
        return parse_result (key, text, mn_config_parse_int (text, &value->i), error);
      r = mn_config_parse_uint (text, &value->u);
      if (r == MN_CONFIG_PARSE_OK && value->u > (guint64) G_MAXINT64)
        r = MN_CONFIG_PARSE_OVERFLOW;
      value->i = (gint64) value->u;
      return parse_result (key, text, r, error);
    case MN_CONFIG_SHARE:
      return parse_result (key, text, mn_config_parse_share (text, &value->d), error);
    case MN_CONFIG_DOUBLE:
      return parse_result (key, text, mn_config_parse_double (text, &value->d), error);
    case MN_CONFIG_ENUM:
      value->e = choice_index (key, text);
      return value->e >= 0 ? TRUE : fail_choice (key, text, error);
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
      if (key->valid != NULL && !key->valid (text))
        return fail_not (key, text, error);
      if (key->choices != NULL)
        {
          gint i = choice_index (key, text);

          if (i < 0)
            return fail_choice (key, text, error);
          value->s = key->choices[i];
          return TRUE;
        }
      value->s = text;
      return TRUE;
    case MN_CONFIG_STRV:
      value->s = text;
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

gboolean
mn_config_check_bounds (const MnConfigKey *key, const gchar *text, const MnConfigValue *value,
                        GError **error)
{
  gboolean ok = TRUE;

  if (key->min == 0 && key->max == 0)
    return TRUE;
  switch (key->type)
    {
    case MN_CONFIG_UINT:
    case MN_CONFIG_SIZE:
    case MN_CONFIG_DURATION:
      ok = value->u <= (guint64) G_MAXINT64 && (gint64) value->u >= key->min &&
           (gint64) value->u <= key->max;
      break;
    case MN_CONFIG_INT:
      ok = value->i >= key->min && value->i <= key->max;
      break;
    case MN_CONFIG_SHARE:
      /* Bounds in percent; a hair of slack for 0.29 * 100 = 28.999... */
      ok = value->d * 100.0 >= key->min - 1e-9 && value->d * 100.0 <= key->max + 1e-9;
      break;
    case MN_CONFIG_DOUBLE:
      ok = value->d >= key->min && value->d <= key->max;
      break;
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
      {
        gsize len = strlen (value->s);

        if (len >= (gsize) key->min && len <= (gsize) key->max)
          return TRUE;
        return key->expect != NULL ? fail_not (key, text, error)
                                   : fail_range (key, text, error);
      }
    case MN_CONFIG_BOOL:
    case MN_CONFIG_ENUM:
    case MN_CONFIG_STRV:
    default:
      return TRUE;
    }
  return ok ? TRUE : fail_range (key, text, error);
}

gboolean
mn_config_parse_value (const MnConfigKey *key, const gchar *text, MnConfigValue *value,
                       GError **error)
{
  return mn_config_parse_scalar (key, text, value, error) &&
         mn_config_check_bounds (key, text, value, error);
}

/* ---- Fields --------------------------------------------------------------- */

#define FIELD(object, key, type) G_STRUCT_MEMBER (type, (object), (key)->offset)

static gchar **
split_list (const gchar *text)
{
  g_auto (GStrv) parts = g_strsplit_set (text, ",;", -1);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (g_strstrip (parts[i])[0] != '\0')
      g_strv_builder_add (b, parts[i]);
  return g_strv_builder_end (b);
}

static void
store (const MnConfigKey *key, gpointer object, const MnConfigValue *v)
{
  switch (key->type)
    {
    case MN_CONFIG_BOOL:
      FIELD (object, key, gboolean) = v->b;
      break;
    case MN_CONFIG_UINT:
      FIELD (object, key, guint) = (guint) v->u;
      break;
    case MN_CONFIG_INT:
      FIELD (object, key, gint64) = v->i;
      break;
    case MN_CONFIG_SIZE:
      FIELD (object, key, guint64) = v->u;
      break;
    case MN_CONFIG_DURATION:
      FIELD (object, key, gint64) = (gint64) v->u;
      break;
    case MN_CONFIG_SHARE:
    case MN_CONFIG_DOUBLE:
      FIELD (object, key, gdouble) = v->d;
      break;
    case MN_CONFIG_ENUM:
      FIELD (object, key, gint) = v->e;
      break;
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
      {
        gchar *copy = g_strdup (v->s);   /* v->s may be the old value itself */

        g_free (FIELD (object, key, gchar *));
        FIELD (object, key, gchar *) = copy;
        break;
      }
    case MN_CONFIG_STRV:
      {
        gchar **list = split_list (v->s);

        g_strfreev (FIELD (object, key, gchar **));
        FIELD (object, key, gchar **) = list;
        break;
      }
    default:
      g_assert_not_reached ();
    }
}

gboolean
mn_config_set_key (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  g_autofree gchar *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));
  MnConfigValue v;

  if (key->set != NULL)
    return key->set (key, object, stripped, error);
  if (!mn_config_parse_value (key, stripped, &v, error))
    return FALSE;
  store (key, object, &v);
  return TRUE;
}

gchar *
mn_config_format (const MnConfigKey *key, gconstpointer object)
{
  gpointer o = (gpointer) object;

  if (key->set != NULL)
    return NULL;
  switch (key->type)
    {
    case MN_CONFIG_BOOL:
      return g_strdup (FIELD (o, key, gboolean) ? "true" : "false");
    case MN_CONFIG_UINT:
      return g_strdup_printf ("%u", FIELD (o, key, guint));
    case MN_CONFIG_INT:
      return g_strdup_printf ("%" G_GINT64_FORMAT, FIELD (o, key, gint64));
    case MN_CONFIG_SIZE:
      return mn_config_format_size (FIELD (o, key, guint64));
    case MN_CONFIG_DURATION:
      return mn_config_format_duration (FIELD (o, key, gint64));
    case MN_CONFIG_SHARE:
      return mn_config_format_share (FIELD (o, key, gdouble));
    case MN_CONFIG_DOUBLE:
      return mn_config_format_double (FIELD (o, key, gdouble));
    case MN_CONFIG_ENUM:
      {
        gint e = FIELD (o, key, gint);

        return g_strdup (e >= 0 && (guint) e < g_strv_length ((gchar **) key->choices)
                         ? key->choices[e] : "invalid");
      }
    case MN_CONFIG_STRING:
    case MN_CONFIG_PATH:
      return g_strdup (FIELD (o, key, gchar *) != NULL ? FIELD (o, key, gchar *) : "");
    case MN_CONFIG_STRV:
      return FIELD (o, key, gchar **) != NULL ? g_strjoinv (", ", FIELD (o, key, gchar **))
                                              : g_strdup ("");
    default:
      g_assert_not_reached ();
    }
}

/* ---- Whole objects ----------------------------------------------------------- */

void
mn_config_init (const MnConfigTable *table, gpointer object)
{
  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];
      g_autoptr (GError) error = NULL;

      if (k->def != NULL && !mn_config_set_key (k, object, k->def, &error))
        g_error ("built-in default of [%s] %s: %s", k->group, k->name, error->message);
    }
}

void
mn_config_clear (const MnConfigTable *table, gpointer object)
{
  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];

      if (k->set != NULL)
        continue;
      if (k->type == MN_CONFIG_STRING || k->type == MN_CONFIG_PATH)
        g_clear_pointer (&FIELD (object, k, gchar *), g_free);
      else if (k->type == MN_CONFIG_STRV)
        g_clear_pointer (&FIELD (object, k, gchar **), g_strfreev);
    }
}

void
mn_config_copy_fields (const MnConfigTable *table, gpointer dest, gconstpointer src)
{
  gpointer s = (gpointer) src;

  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];

      if (k->set != NULL)
        continue;
      if (k->type == MN_CONFIG_STRING || k->type == MN_CONFIG_PATH)
        FIELD (dest, k, gchar *) = g_strdup (FIELD (s, k, gchar *));
      else if (k->type == MN_CONFIG_STRV)
        FIELD (dest, k, gchar **) = g_strdupv (FIELD (s, k, gchar **));
    }
}

gpointer
mn_config_new (const MnConfigTable *table, gsize size)
{
  gpointer object = g_malloc0 (size);

  mn_config_init (table, object);
  return object;
}

gpointer
mn_config_dup (const MnConfigTable *table, gconstpointer object, gsize size)
{
  gpointer copy = g_memdup2 (object, size);

  mn_config_copy_fields (table, copy, object);
  return copy;
}

void
mn_config_free (const MnConfigTable *table, gpointer object)
{
  if (object == NULL)
    return;
  mn_config_clear (table, object);
  g_free (object);
}

gboolean
mn_config_equal (const MnConfigTable *table, gconstpointer a, gconstpointer b)
{
  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];
      g_autofree gchar *ta = NULL;
      g_autofree gchar *tb = NULL;

      if (k->set != NULL)
        continue;
      if (k->type == MN_CONFIG_SHARE || k->type == MN_CONFIG_DOUBLE)
        {
          if (FIELD ((gpointer) a, k, gdouble) != FIELD ((gpointer) b, k, gdouble))
            return FALSE;
          continue;
        }
      if ((k->type == MN_CONFIG_STRING || k->type == MN_CONFIG_PATH) &&
          (FIELD ((gpointer) a, k, gchar *) == NULL) != (FIELD ((gpointer) b, k, gchar *) == NULL))
        return FALSE;
      /* Canonical text is one-to-one for every other type. */
      ta = mn_config_format (k, a);
      tb = mn_config_format (k, b);
      if (!g_str_equal (ta, tb))
        return FALSE;
    }
  return TRUE;
}

gboolean
mn_config_validate (const MnConfigTable *table, gconstpointer object,
                    const MnConfigKey **bad_key, GError **error)
{
  if (bad_key != NULL)
    *bad_key = NULL;
  for (gsize i = 0; i < table->n_keys; i++)
    {
      const MnConfigKey *k = &table->keys[i];
      g_autofree gchar *text = NULL;
      g_autofree gchar *label = NULL;
      MnConfigValue v;
      gboolean ok;

      if (k->set != NULL)
        continue;
      label = mn_config_key_label (table, k);
      if ((k->type == MN_CONFIG_STRING || k->type == MN_CONFIG_PATH) && k->def != NULL &&
          G_STRUCT_MEMBER (gchar *, (gpointer) object, k->offset) == NULL)
        ok = mn_config_fail (error, MN_CONFIG_ERROR_INVALID_VALUE, "%s: not set", label);
      else
        {
          /* Through the parser: the same checks as a value in a file. */
          text = mn_config_format (k, object);
          ok = mn_config_parse_value (k, text, &v, error);
          if (!ok)
            g_prefix_error (error, "%s: ", label);
        }
      if (!ok)
        {
          if (bad_key != NULL)
            *bad_key = k;
          mn_config_finish_error (table, error);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- Setting by name ---------------------------------------------------------- */

static const gchar *
only_group (const MnConfigTable *table)
{
  return (table->flags & MN_CONFIG_TABLE_ONE_GROUP) && table->n_keys > 0
         ? table->keys[0].group : NULL;
}

static gboolean
set_by_name (const MnConfigTable *table, gpointer object, const gchar *group,
             const gchar *name, const gchar *text, GError **error)
{
  const MnConfigKey *k;

  if (group == NULL)
    group = only_group (table);
  if (group == NULL || name == NULL || text == NULL)
    return mn_config_fail (error, MN_CONFIG_ERROR_INVALID_ARGUMENT,
                           "a group, a key and a value are needed");
  if (!mn_config_has_group (table, group))
    return mn_config_fail_unknown_group (table, group, error);
  k = mn_config_lookup (table, group, name);
  if (k == NULL)
    return mn_config_fail_unknown_key (table, group, name, error);
  if (!mn_config_set_key (k, object, text, error))
    {
      g_autofree gchar *label = mn_config_key_label (table, k);

      g_prefix_error (error, "%s: ", label);
      return FALSE;
    }
  return TRUE;
}

gboolean
mn_config_set (const MnConfigTable *table, gpointer object, const gchar *group,
               const gchar *name, const gchar *text, GError **error)
{
  gboolean ok = set_by_name (table, object, group, name, text, error);

  mn_config_finish_error (table, error);
  return ok;
}

gboolean
mn_config_set_assignment (const MnConfigTable *table, gpointer object,
                          const gchar *assignment, GError **error)
{
  const gchar *eq = assignment != NULL ? strchr (assignment, '=') : NULL;
  g_autofree gchar *left = NULL;
  const gchar *dot;
  gboolean ok;

  if (eq == NULL)
    {
      ok = mn_config_fail (error, MN_CONFIG_ERROR_INVALID_ARGUMENT,
                           "'%s' is not group.key=value",
                           assignment != NULL ? assignment : "(null)");
      mn_config_finish_error (table, error);
      return ok;
    }
  left = g_strstrip (g_strndup (assignment, eq - assignment));
  dot = strchr (left, '.');
  if (dot == NULL && only_group (table) == NULL)
    {
      ok = mn_config_fail (error, MN_CONFIG_ERROR_INVALID_ARGUMENT,
                           "'%s' is not group.key=value", assignment);
      mn_config_finish_error (table, error);
      return ok;
    }
  if (dot != NULL)
    {
      g_autofree gchar *group = g_strndup (left, dot - left);

      return mn_config_set (table, object, group, dot + 1, eq + 1, error);
    }
  return mn_config_set (table, object, NULL, left, eq + 1, error);
}

gchar *
mn_config_get (const MnConfigTable *table, gconstpointer object, const gchar *group,
               const gchar *name)
{
  const MnConfigKey *k = group != NULL && name != NULL
                         ? mn_config_lookup (table, group, name) : NULL;

  return k != NULL ? mn_config_format (k, object) : NULL;
}
