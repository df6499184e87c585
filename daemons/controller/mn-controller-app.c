/* mn-controller-app.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-app.h"
#include "mn-controller-config.h"
#include "mn-config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static const gchar *const field_names[] = { "cores", "memory_gb", "gpus", "hours" };
static const gchar *const type_names[] = { "number", "select", "checkbox", "text", NULL };
static const gchar *const source_names[] = { "static", "policy", "user-kernels", "command", NULL };
static const gchar *const cap_names[] = { "none", "max_cores", "max_memory_gb", "max_gpus",
                                          "max_hours", NULL };
/* what the request and the portal already use; no field may be called so */
static const gchar *const reserved_names[] = { "app", "queue", "if_busy", NULL };

/* The resource fields' built-in bounds (TSUBAME3's interactive.q limits
 * unless the file says otherwise), as text the key table parses. */
static const struct {
  const gchar *min, *max, *def, *step, *label;
} resource_defaults[MN_APP_N_FIELDS] = {
  { "1", "7", "1", "1", "Cores" },
  { "1", "60", "4", "0", "Memory (GB)" },
  { "0", "1", "0", "1", "GPUs" },
  { "0.001", "24", "2", "0", "Hours" },
};

/* What loading one file holds while the table is read: the [app] keys land
 * in its strings through offsets, the field keys in its fields through
 * set_field_key. */
typedef struct {
  gchar      *name, *description, *command, *readiness_path;
  GPtrArray  *fields;    /* MnAppFormField*, index = MnConfigKey.index / N_FIELD_KEYS */
  guint8      seen[MN_APP_MAX_OWN_FIELDS + MN_APP_N_FIELDS][16];
} Loader;

/* The [app] group's keys; libminna-config (config/) reads them. */
#define APP(name_, field, def_, flags_, help_) \
  { .group = "app", .name = name_, .type = MN_CONFIG_STRING, \
    .offset = G_STRUCT_OFFSET (Loader, field), .def = def_, .flags = flags_, .help = help_ }

static const MnConfigKey app_keys[] = {
  APP ("name", name, NULL, MN_CONFIG_KEY_REQUIRED, "What the portal calls the app."),
  APP ("description", description, "", 0, "One line for the launch form."),
  APP ("command", command, NULL, MN_CONFIG_KEY_REQUIRED,
       "The app's launch template (placeholders: see mn-controller-app.h)."),
  APP ("readiness_path", readiness_path, "", 0,
       "Path below the session's base URL that answers once the app is ready."),
};

#undef APP

/* The keys of each [field NAME] group: the same for every field, stored by
 * set_field_key into the field that the key's index names. */
typedef enum {
  K_TYPE, K_LABEL, K_HELP, K_SOURCE, K_CAP, K_MIN, K_MAX, K_STEP, K_DEFAULT, K_OPTIONS,
  K_COMMAND, K_TIMEOUT, K_CACHE, K_PATTERN, K_MAX_LENGTH, K_REMEMBER, N_FIELD_KEYS
} FieldKey;

G_STATIC_ASSERT (N_FIELD_KEYS <= 16);

static const MnConfigKey field_key_templates[N_FIELD_KEYS] = {
  [K_TYPE] = { .name = "type", .type = MN_CONFIG_ENUM, .choices = type_names,
               .help = "number, select, checkbox or text (resource fields: number)." },
  [K_LABEL] = { .name = "label", .type = MN_CONFIG_STRING, .min = 1, .max = 80,
                .help = "What the form calls the field (default: its name)." },
  [K_HELP] = { .name = "help", .type = MN_CONFIG_STRING, .max = 400,
               .help = "One line under the field." },
  [K_SOURCE] = { .name = "source", .type = MN_CONFIG_ENUM, .choices = source_names,
                 .help = "Where options or bounds come from: static (this file), policy"
                         " (number: max capped by the policy's cap), user-kernels (select: the"
                         " user's Jupyter kernels), command (select: a site command's lines)." },
  [K_CAP] = { .name = "cap", .type = MN_CONFIG_ENUM, .choices = cap_names,
              .help = "source = policy: the policy's cap that bounds max on the interactive queue." },
  [K_MIN] = { .name = "min", .type = MN_CONFIG_DOUBLE, .min = -1000000000, .max = 1000000000,
              .help = "number: the smallest value." },
  [K_MAX] = { .name = "max", .type = MN_CONFIG_DOUBLE, .min = -1000000000, .max = 1000000000,
              .help = "number: the largest value." },
  [K_STEP] = { .name = "step", .type = MN_CONFIG_DOUBLE, .min = 0, .max = 1000000000,
               .help = "number: values are min + k * step (0: any)." },
  [K_DEFAULT] = { .name = "default", .type = MN_CONFIG_STRING, .max = 400,
                  .help = "The value the form starts with." },
  [K_OPTIONS] = { .name = "options", .type = MN_CONFIG_STRV,
                  .help = "select, source static: the values, separated by ','." },
  [K_COMMAND] = { .name = "command", .type = MN_CONFIG_STRING, .min = 1, .max = 4096,
                  .help = "select, source command: run by /bin/sh -c; each line of its output is an option." },
  [K_TIMEOUT] = { .name = "timeout", .type = MN_CONFIG_DURATION, .min = 1, .max = 60,
                  .help = "source command: how long the command may run." },
  [K_CACHE] = { .name = "cache", .type = MN_CONFIG_DURATION, .min = 0, .max = 86400,
                .help = "source command: how long its list is used before it is run again." },
  [K_PATTERN] = { .name = "pattern", .type = MN_CONFIG_STRING, .min = 1, .max = 400,
                  .help = "text: a regular expression (PCRE) the whole value must match." },
  [K_MAX_LENGTH] = { .name = "max_length", .type = MN_CONFIG_UINT, .min = 1, .max = 4096,
                     .help = "text: the longest value, in characters." },
  [K_REMEMBER] = { .name = "remember", .type = MN_CONFIG_BOOL,
                   .help = "Whether the user's last value is the form's default." },
};


const gchar *
mn_app_field_name (MnAppFieldId id)
{
  return field_names[id];
}

const gchar *
mn_app_form_type_to_string (MnAppFormType type)
{
  return type_names[type];
}

const gchar *
mn_app_source_to_string (MnAppSource source)
{
  return source_names[source];
}

const gchar *
mn_app_cap_to_string (MnAppCap cap)
{
  return cap_names[cap];
}

static void
form_field_free (MnAppFormField *f)
{
  if (f == NULL)
    return;
  g_free (f->name);
  g_free (f->label);
  g_free (f->help);
  g_free (f->def);
  g_strfreev (f->options);
  g_free (f->command);
  g_free (f->pattern);
  g_clear_pointer (&f->regex, g_regex_unref);
  g_free (f);
}

MnApp *
mn_app_ref (MnApp *app)
{
  g_atomic_int_inc (&app->ref_count);
  return app;
}

void
mn_app_free (MnApp *app)
{
  if (app == NULL || !g_atomic_int_dec_and_test (&app->ref_count))
    return;
  g_free (app->id);
  g_free (app->name);
  g_free (app->description);
  g_free (app->command);
  g_free (app->readiness_path);
  g_free (app->dir);
  g_free (app->path);
  g_clear_pointer (&app->form, g_ptr_array_unref);
  g_free (app);
}

const MnAppFormField *
mn_app_find_field (const MnApp *app, const gchar *name)
{
  for (guint i = 0; app->form != NULL && i < app->form->len; i++)
    {
      const MnAppFormField *f = g_ptr_array_index (app->form, i);
      if (g_str_equal (f->name, name))
        return f;
    }
  return NULL;
}

static gboolean
app_error (GError **error, const gchar *path, const gchar *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
app_error (GError **error, const gchar *path, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *msg = NULL;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_APP, "%s: %s", path, msg);
  return FALSE;
}

static gboolean
line_error (GError **error, const gchar *path, guint line, const gchar *fmt, ...)
  G_GNUC_PRINTF (4, 5);

static gboolean
line_error (GError **error, const gchar *path, guint line, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *msg = NULL;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_APP, "%s:%u: %s", path, line, msg);
  return FALSE;
}

static gboolean
field_error (GError **error, const gchar *path, guint line, const gchar *field,
             const gchar *key, const gchar *fmt, ...) G_GNUC_PRINTF (6, 7);

/* "FILE:LINE: [field NAME] key: what" */
static gboolean
field_error (GError **error, const gchar *path, guint line, const gchar *field,
             const gchar *key, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *msg = NULL;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_APP, "%s:%u: [field %s]%s%s: %s",
               path, line, field, key ? " " : "", key ? key : "", msg);
  return FALSE;
}

static gboolean
valid_field_name (const gchar *name)
{
  gsize n = strlen (name);
  if (n == 0 || n > MN_APP_FIELD_NAME_MAX || !(name[0] >= 'a' && name[0] <= 'z'))
    return FALSE;
  for (const gchar *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return FALSE;
  return TRUE;
}

static gint
resource_index (const gchar *name)
{
  for (gint i = 0; i < MN_APP_N_FIELDS; i++)
    if (g_str_equal (name, field_names[i]))
      return i;
  return -1;
}

static MnAppFormField *
field_new (const gchar *name, guint line)
{
  MnAppFormField *f = g_new0 (MnAppFormField, 1);
  gint r = resource_index (name);
  f->name = g_strdup (name);
  f->line = line;
  f->type = MN_APP_FORM_NUMBER;
  f->source = r >= 0 ? MN_APP_SOURCE_POLICY : MN_APP_SOURCE_STATIC;
  f->cap = r >= 0 ? (MnAppCap) (MN_APP_CAP_CORES + r) : MN_APP_CAP_NONE;
  f->min = r >= 0 ? g_ascii_strtod (resource_defaults[r].min, NULL) : 0;
  f->max = r >= 0 ? g_ascii_strtod (resource_defaults[r].max, NULL) : 0;
  f->step = r >= 0 ? g_ascii_strtod (resource_defaults[r].step, NULL) : 0;
  f->def = g_strdup (r >= 0 ? resource_defaults[r].def : "");
  f->label = g_strdup (r >= 0 ? resource_defaults[r].label : name);
  f->help = g_strdup ("");
  f->timeout = 5;
  f->cache = 60;
  f->max_length = 200;
  f->remember = TRUE;
  return f;
}

/* One key of a [field NAME] group, parsed with the table's grammar and
 * bounds (so its messages are the shared ones), stored in the field. */
static gboolean
set_field_key (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  Loader *ld = object;
  MnAppFormField *f = g_ptr_array_index (ld->fields, key->index / N_FIELD_KEYS);
  FieldKey which = key->index % N_FIELD_KEYS;
  MnConfigValue v;
  if (!mn_config_parse_value (key, text, &v, error))
    return FALSE;
  switch (which)
    {
    case K_TYPE: f->type = v.e; break;
    case K_LABEL: g_free (f->label); f->label = g_strdup (v.s); break;
    case K_HELP: g_free (f->help); f->help = g_strdup (v.s); break;
    case K_SOURCE: f->source = v.e; break;
    case K_CAP: f->cap = v.e; break;
    case K_MIN: f->min = v.d; break;
    case K_MAX: f->max = v.d; break;
    case K_STEP: f->step = v.d; break;
    case K_DEFAULT: g_free (f->def); f->def = g_strdup (v.s); break;
    case K_OPTIONS:
      {
        g_auto(GStrv) parts = g_strsplit_set (text, ",;", -1);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
        for (gsize i = 0; parts[i]; i++)
          {
            g_strstrip (parts[i]);
            if (parts[i][0] != '\0')
              g_ptr_array_add (out, g_strdup (parts[i]));
          }
        g_ptr_array_add (out, NULL);
        g_strfreev (f->options);
        f->options = (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
        break;
      }
    case K_COMMAND: g_free (f->command); f->command = g_strdup (v.s); break;
    case K_TIMEOUT: f->timeout = (gint64) v.u; break;
    case K_CACHE: f->cache = (gint64) v.u; break;
    case K_PATTERN: g_free (f->pattern); f->pattern = g_strdup (v.s); break;
    case K_MAX_LENGTH: f->max_length = (guint) v.u; break;
    case K_REMEMBER: f->remember = v.b; break;
    default: g_assert_not_reached ();
    }
  ld->seen[key->index / N_FIELD_KEYS][which] = 1;
  return TRUE;
}

/* The [field NAME] groups of @data with the line of each (first) group
 * line; a group line that starts "[field" but is not [field NAME] with a
 * valid NAME is an error here, as is a field named twice over ... fine: a
 * group may appear twice (its keys may not). */
static gboolean
scan_fields (const gchar *path, const gchar *data, gsize length, GPtrArray *fields,
             GError **error)
{
  const gchar *p = data, *end = data + length;
  guint lineno = 0, own = 0;
  if (length >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  while (p < end)
    {
      const gchar *nl = memchr (p, '\n', end - p);
      const gchar *stop = nl != NULL ? nl : end;
      g_autofree gchar *line = g_strndup (p, stop - p);
      gsize len;
      gboolean known = FALSE;
      lineno++;
      p = nl != NULL ? nl + 1 : end;
      g_strstrip (line);
      len = strlen (line);
      if (len < 2 || line[0] != '[' || line[len - 1] != ']' || strncmp (line + 1, "field", 5) != 0)
        continue;
      line[len - 1] = '\0';
      if (line[6] != ' ' || !valid_field_name (line + 7))
        return line_error (error, path, lineno, "group [%s]: a form field's group is [field NAME],"
                           " one space, NAME of a-z, 0-9 and '_' starting with a letter (at most"
                           " %d)", line + 1, MN_APP_FIELD_NAME_MAX);
      if (g_strv_contains (reserved_names, line + 7))
        return line_error (error, path, lineno, "[%s]: '%s' is what the request itself calls"
                           " a field (app, queue, if_busy); pick another name", line + 1,
                           line + 7);
      for (guint i = 0; i < fields->len; i++)
        known = known || g_str_equal (((MnAppFormField *) g_ptr_array_index (fields, i))->name,
                                      line + 7);
      if (known)
        continue;
      if (resource_index (line + 7) < 0 && ++own > MN_APP_MAX_OWN_FIELDS)
        return line_error (error, path, lineno, "[%s]: more than %d fields of the app's own",
                           line + 1, MN_APP_MAX_OWN_FIELDS);
      g_ptr_array_add (fields, field_new (line + 7, lineno));
    }
  return TRUE;
}

/* Whether @text is a number (the form's: decimal, optional '-' and
 * fraction) and its value. */
static gboolean
parse_number (const gchar *text, gdouble *out)
{
  gchar *end = NULL;
  gsize i = text[0] == '-' ? 1 : 0;
  gboolean digits = FALSE, dot = FALSE;
  for (; text[i]; i++)
    {
      if (g_ascii_isdigit (text[i]))
        digits = TRUE;
      else if (text[i] == '.' && !dot)
        dot = TRUE;
      else
        return FALSE;
    }
  if (!digits)
    return FALSE;
  *out = g_ascii_strtod (text, &end);
  return end != NULL && *end == '\0' && isfinite (*out);
}

static gboolean
on_step (const MnAppFormField *f, gdouble v)
{
  gdouble k;
  if (f->step <= 0)
    return TRUE;
  k = (v - f->min) / f->step;
  return fabs (k - round (k)) < 1e-6;
}

gboolean
mn_app_field_check (const MnAppFormField *f, const gchar *value, const gchar *const *options,
                    GError **error)
{
  switch (f->type)
    {
    case MN_APP_FORM_NUMBER:
      {
        gdouble v;
        if (!parse_number (value, &v))
          return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                              "'%s' is not a number", value), FALSE;
        if (v < f->min || v > f->max)
          return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                              "%s is out of range (%g..%g)", value, f->min, f->max), FALSE;
        if (!on_step (f, v))
          return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                              "%s is not %g plus a multiple of %g", value, f->min, f->step),
                 FALSE;
        return TRUE;
      }
    case MN_APP_FORM_CHECKBOX:
      if (g_str_equal (value, "true") || g_str_equal (value, "false"))
        return TRUE;
      return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                          "'%s' is neither true nor false", value), FALSE;
    case MN_APP_FORM_TEXT:
      if (!g_utf8_validate (value, -1, NULL) || g_utf8_strlen (value, -1) > f->max_length)
        return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                            "longer than %u characters", f->max_length), FALSE;
      for (const gchar *c = value; *c; c++)
        if ((guchar) *c < 0x20 || *c == 0x7f)
          return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                              "control characters are not allowed"), FALSE;
      if (f->regex != NULL && !g_regex_match (f->regex, value, 0, NULL))
        return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                            "'%s' does not match %s", value, f->pattern), FALSE;
      return TRUE;
    case MN_APP_FORM_SELECT:
      if (options == NULL)
        options = (const gchar *const *) f->options;
      if (options != NULL && g_strv_contains (options, value))
        return TRUE;
      return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                          "'%s' is not one of the options", value), FALSE;
    default:
      g_assert_not_reached ();
    }
}

/* The keys that a field's type (and source) take; any other set in the
 * file is an error naming its line. */
static gboolean
key_applies (const MnAppFormField *f, FieldKey k)
{
  switch (k)
    {
    case K_TYPE: case K_LABEL: case K_HELP: case K_DEFAULT: case K_REMEMBER: case K_SOURCE:
      return TRUE;
    case K_MIN: case K_MAX: case K_STEP:
      return f->type == MN_APP_FORM_NUMBER;
    case K_CAP:
      return f->type == MN_APP_FORM_NUMBER && f->source == MN_APP_SOURCE_POLICY;
    case K_OPTIONS:
      return f->type == MN_APP_FORM_SELECT && f->source == MN_APP_SOURCE_STATIC;
    case K_COMMAND: case K_TIMEOUT: case K_CACHE:
      return f->type == MN_APP_FORM_SELECT && f->source == MN_APP_SOURCE_COMMAND;
    case K_PATTERN: case K_MAX_LENGTH:
      return f->type == MN_APP_FORM_TEXT;
    default:
      return FALSE;
    }
}

/* What is wrong only together: per type, per source. */
static gboolean
check_field (const gchar *path, MnAppFormField *f, const guint8 *seen,
             const MnConfigLines *lines, GError **error)
{
  g_autofree gchar *group = g_strdup_printf ("field %s", f->name);
  gint r = resource_index (f->name);
#define LINE(k) (mn_config_lines_find (lines, group, field_key_templates[k].name) ?: f->line)
  if (r < 0 && !seen[K_TYPE])
    return field_error (error, path, f->line, f->name, "type", "required key missing"
                        " (number, select, checkbox or text)");
  if (r >= 0 && f->type != MN_APP_FORM_NUMBER)
    return field_error (error, path, LINE (K_TYPE), f->name, "type", "'%s' is a resource"
                        " field: it must be a number", f->name);
  if (r >= 0 && f->source != MN_APP_SOURCE_POLICY)
    return field_error (error, path, LINE (K_SOURCE), f->name, "source", "'%s' is a resource"
                        " field: always bounded by the policy (source = policy)", f->name);
  if (r >= 0 && seen[K_CAP] && f->cap != (MnAppCap) (MN_APP_CAP_CORES + r))
    return field_error (error, path, LINE (K_CAP), f->name, "cap", "'%s' is capped by %s",
                        f->name, cap_names[MN_APP_CAP_CORES + r]);
  if ((f->source == MN_APP_SOURCE_POLICY && f->type != MN_APP_FORM_NUMBER) ||
      ((f->source == MN_APP_SOURCE_KERNELS || f->source == MN_APP_SOURCE_COMMAND) &&
       f->type != MN_APP_FORM_SELECT))
    return field_error (error, path, LINE (K_SOURCE), f->name, "source", "source %s does not"
                        " go with type %s (policy: number; user-kernels, command: select)",
                        source_names[f->source], type_names[f->type]);
  for (gint k = 0; k < N_FIELD_KEYS; k++)
    if (seen[k] && !key_applies (f, k))
      return field_error (error, path, LINE (k), f->name, field_key_templates[k].name,
                          "not a key of a %s field%s%s", type_names[f->type],
                          f->type == MN_APP_FORM_SELECT || f->type == MN_APP_FORM_NUMBER
                          ? " with source " : "",
                          f->type == MN_APP_FORM_SELECT || f->type == MN_APP_FORM_NUMBER
                          ? source_names[f->source] : "");
  switch (f->type)
    {
    case MN_APP_FORM_NUMBER:
      if (r < 0 && (!seen[K_MIN] || !seen[K_MAX]))
        return field_error (error, path, f->line, f->name, seen[K_MIN] ? "max" : "min",
                            "required key missing");
      if (f->source == MN_APP_SOURCE_POLICY && f->cap == MN_APP_CAP_NONE)
        return field_error (error, path, LINE (K_SOURCE), f->name, "cap", "source = policy"
                            " needs cap = max_cores, max_memory_gb, max_gpus or max_hours");
      if (f->min > f->max)
        return field_error (error, path, LINE (K_MIN), f->name, "min", "%g is above max %g",
                            f->min, f->max);
      if (r >= 0 && f->min < 0)
        return field_error (error, path, LINE (K_MIN), f->name, "min", "%g: a resource is"
                            " never negative", f->min);
      if ((r == MN_APP_FIELD_CORES || r == MN_APP_FIELD_GPUS) && f->step != 1)
        return field_error (error, path, LINE (K_STEP), f->name, "step", "%s are whole: step"
                            " must be 1", f->name);
      if (r == MN_APP_FIELD_HOURS && f->min <= 0)
        return field_error (error, path, LINE (K_MIN), f->name, "min", "a session needs some"
                            " time: min must be above 0");
      if (f->def[0] == '\0' && r < 0)
        {
          g_free (f->def);
          f->def = g_strdup_printf ("%g", f->min);
        }
      break;
    case MN_APP_FORM_SELECT:
      if (f->source == MN_APP_SOURCE_STATIC && (f->options == NULL || f->options[0] == NULL))
        return field_error (error, path, LINE (K_OPTIONS), f->name, "options", "a select with"
                            " source static needs options = a, b, ...");
      if (f->source == MN_APP_SOURCE_COMMAND && f->command == NULL)
        return field_error (error, path, f->line, f->name, "command", "required key missing"
                            " (source = command)");
      if (f->options != NULL)
        {
          if (g_strv_length (f->options) > MN_APP_MAX_OPTIONS)
            return field_error (error, path, LINE (K_OPTIONS), f->name, "options", "more"
                                " than %d options", MN_APP_MAX_OPTIONS);
          for (gsize i = 0; f->options[i]; i++)
            {
              if (strlen (f->options[i]) > MN_APP_MAX_OPTION_LENGTH)
                return field_error (error, path, LINE (K_OPTIONS), f->name, "options",
                                    "option %zu is longer than %d bytes", i + 1,
                                    MN_APP_MAX_OPTION_LENGTH);
              for (gsize j = 0; j < i; j++)
                if (g_str_equal (f->options[i], f->options[j]))
                  return field_error (error, path, LINE (K_OPTIONS), f->name, "options",
                                      "'%s' is listed twice", f->options[i]);
            }
        }
      break;
    case MN_APP_FORM_CHECKBOX:
      if (f->def[0] == '\0')
        {
          g_free (f->def);
          f->def = g_strdup ("false");
        }
      break;
    case MN_APP_FORM_TEXT:
      if (f->pattern != NULL)
        {
          g_autoptr(GError) local = NULL;
          g_autofree gchar *anchored = g_strdup_printf ("^(?:%s)$", f->pattern);
          f->regex = g_regex_new (anchored, G_REGEX_DOLLAR_ENDONLY, 0, &local);
          if (f->regex == NULL)
            return field_error (error, path, LINE (K_PATTERN), f->name, "pattern",
                                "not a regular expression: %s", local->message);
        }
      break;
    default:
      break;
    }
  /* a default the field itself would refuse (a select's from a list only
   * known later is checked then) */
  if (f->def[0] != '\0' &&
      !(f->type == MN_APP_FORM_SELECT && f->source != MN_APP_SOURCE_STATIC))
    {
      g_autoptr(GError) local = NULL;
      if (!mn_app_field_check (f, f->def, NULL, &local))
        return field_error (error, path, LINE (K_DEFAULT), f->name, "default", "%s",
                            local->message);
    }
  if (f->type == MN_APP_FORM_SELECT && f->source == MN_APP_SOURCE_STATIC && f->def[0] == '\0')
    {
      g_free (f->def);
      f->def = g_strdup (f->options[0]);
    }
#undef LINE
  return TRUE;
}

/* The {field_NAME} placeholders: a field's value as ${MINNA_FIELD_NAME}. */
static gboolean
own_field_placeholder (const MnApp *app, const gchar *name, gsize len, GString *out)
{
  if (len <= 6 || strncmp (name, "field_", 6) != 0 || app == NULL || app->form == NULL)
    return FALSE;
  for (guint i = 0; i < app->form->len; i++)
    {
      const MnAppFormField *f = g_ptr_array_index (app->form, i);
      if (strlen (f->name) == len - 6 && strncmp (f->name, name + 6, len - 6) == 0 &&
          resource_index (f->name) < 0)
        {
          g_autofree gchar *upper = g_ascii_strup (f->name, -1);
          g_string_append_printf (out, "${MINNA_FIELD_%s}", upper);
          return TRUE;
        }
    }
  return FALSE;
}

static const gchar *const known_placeholders[] = {
  "host", "port", "base_url", "token_file", "session_dir", "session_id", "app_dir",
};
static const gchar *const placeholder_vars[] = {
  "${MINNA_HOST}", "${MINNA_PORT}", "${MINNA_BASE_URL}", "${MINNA_TOKEN_FILE}",
  "${MINNA_SESSION_DIR}", "${MINNA_SESSION_ID}", "${MINNA_APP_DIR}",
};

static gchar *
expand (const MnApp *app, const gchar *tmpl, const gchar *path, GError **error)
{
  GString *out = g_string_new (NULL);
  for (const gchar *p = tmpl; *p != '\0'; p++)
    {
      const gchar *close;
      gboolean found = FALSE;
      if (*p != '{')
        {
          g_string_append_c (out, *p);
          continue;
        }
      /* only {lower_case} is a placeholder: shell and perl braces pass */
      close = p + 1;
      while (*close == '_' || (*close >= 'a' && *close <= 'z') || (*close >= '0' && *close <= '9'))
        close++;
      if (*close != '}' || close == p + 1 || !(p[1] >= 'a' && p[1] <= 'z'))
        {
          g_string_append_c (out, *p);
          continue;
        }
      for (gsize i = 0; i < G_N_ELEMENTS (known_placeholders); i++)
        if ((gsize) (close - p - 1) == strlen (known_placeholders[i]) &&
            strncmp (p + 1, known_placeholders[i], close - p - 1) == 0)
          {
            g_string_append (out, placeholder_vars[i]);
            found = TRUE;
          }
      if (!found)
        found = own_field_placeholder (app, p + 1, close - p - 1, out);
      if (!found)
        {
          g_autofree gchar *name = g_strndup (p + 1, close - p - 1);
          app_error (error, path, "[app] command: unknown placeholder {%s} (known: host, port,"
                     " base_url, token_file, session_dir, session_id, app_dir, and field_NAME"
                     " for each [field NAME] of the app's own)", name);
          g_string_free (out, TRUE);
          return NULL;
        }
      p = close;
    }
  return g_string_free (out, FALSE);
}

gchar *
mn_app_expand_command (const MnApp *app, GError **error)
{
  return expand (app, app->command, app->id, error);
}

static void
loader_clear (Loader *ld)
{
  g_clear_pointer (&ld->fields, g_ptr_array_unref);
  g_clear_pointer (&ld->name, g_free);
  g_clear_pointer (&ld->description, g_free);
  g_clear_pointer (&ld->command, g_free);
  g_clear_pointer (&ld->readiness_path, g_free);
}

MnApp *
mn_app_load_data (const gchar *path, const gchar *data, gsize length, GError **error)
{
  g_autoptr(MnApp) app = g_new0 (MnApp, 1);
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *check = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, TRUE, sizeof (MnConfigKey));
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(MnConfigLines) lines = NULL;
  g_autoptr(GPtrArray) own = NULL;
  MnConfigTable table = { 0 };
  g_autofree Loader *ld = g_new0 (Loader, 1);
  gboolean ok;

  app->ref_count = 1;
  app->path = g_strdup (path);
  if (g_str_has_suffix (base, ".app"))
    base[strlen (base) - 4] = '\0';
  app->id = g_steal_pointer (&base);
  {
    g_autofree gchar *dir = g_path_get_dirname (path);
    app->dir = g_canonicalize_filename (dir, NULL);
  }
  if (app->id[0] == '\0' || strlen (app->id) > 64)
    return app_error (error, path, "app id '%s' (the file name) must be 1 to 64 characters",
                      app->id), NULL;
  for (const gchar *c = app->id; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return app_error (error, path, "app id '%s' (the file name) may hold only letters,"
                        " digits, '-' and '_'", app->id), NULL;
  ld->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) form_field_free);
  /* the resource fields are always there, with the built-in bounds */
  for (gint r = 0; r < MN_APP_N_FIELDS; r++)
    g_ptr_array_add (ld->fields, field_new (field_names[r], 0));
  if (!scan_fields (path, data, length, ld->fields, error))
    return loader_clear (ld), NULL;
  /* one table for this file: [app], and the field keys of each group seen */
  g_array_append_vals (keys, app_keys, G_N_ELEMENTS (app_keys));
  for (guint i = 0; i < ld->fields->len; i++)
    {
      MnAppFormField *f = g_ptr_array_index (ld->fields, i);
      gchar *group = g_strdup_printf ("field %s", f->name);
      g_ptr_array_add (groups, group);
      for (gint k = 0; k < N_FIELD_KEYS; k++)
        {
          MnConfigKey key = field_key_templates[k];
          key.group = group;
          key.set = set_field_key;
          key.index = (gint) (i * N_FIELD_KEYS + k);
          g_array_append_val (keys, key);
        }
    }
  table.keys = (const MnConfigKey *) (gpointer) keys->data;
  table.n_keys = keys->len;
  table.error_quark = mn_controller_error_quark;
  for (gint c = 0; c < MN_CONFIG_N_ERRORS; c++)
    table.error_codes[c] = MN_CONTROLLER_ERROR_APP;
  mn_config_init (&table, ld);
  ok = mn_config_load_data (&table, ld, data, (gssize) length, path, &lines, error);
  app->name = g_steal_pointer (&ld->name);
  app->description = g_steal_pointer (&ld->description);
  app->command = g_steal_pointer (&ld->command);
  app->readiness_path = g_steal_pointer (&ld->readiness_path);
  if (!ok)
    return loader_clear (ld), NULL;
  if (app->readiness_path[0] == '/')
    return loader_clear (ld), app_error (error, path, "[app] readiness_path: '%s' must be"
                                         " relative to the base URL (no leading '/')",
                                         app->readiness_path), NULL;
  for (guint i = 0; i < ld->fields->len; i++)
    if (!check_field (path, g_ptr_array_index (ld->fields, i), ld->seen[i], lines, error))
      return loader_clear (ld), NULL;
  for (gint r = 0; r < MN_APP_N_FIELDS; r++)
    {
      MnAppFormField *f = g_ptr_array_index (ld->fields, r);
      app->fields[r].min = f->min;
      app->fields[r].max = f->max;
      app->fields[r].def = g_ascii_strtod (f->def, NULL);
    }
  app->form = g_steal_pointer (&ld->fields);
  {
    g_autofree gchar *where = g_strdup_printf ("%s:%u", path,
                                               mn_config_lines_find (lines, "app", "command"));
    check = expand (app, app->command, where, error);
  }
  if (check == NULL)
    return NULL;
  return g_steal_pointer (&app);
}

MnApp *
mn_app_load (const gchar *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree gchar *data = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &data, &length, &local))
    return app_error (error, path, "%s", local->message), NULL;
  return mn_app_load_data (path, data, length, error);
}

static gint
app_cmp (gconstpointer a, gconstpointer b)
{
  const MnApp *x = *(MnApp *const *) a, *y = *(MnApp *const *) b;
  return strcmp (x->id, y->id);
}

GPtrArray *
mn_app_load_dir (const gchar *dir, GError **error)
{
  g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_app_free);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  const gchar *name;

  d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    return app_error (error, dir, "%s", local->message), NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = NULL;
      MnApp *app;
      if (!g_str_has_suffix (name, ".app"))
        continue;
      path = g_build_filename (dir, name, NULL);
      app = mn_app_load (path, error);
      if (app == NULL)
        return NULL;
      g_ptr_array_add (apps, app);
    }
  g_ptr_array_sort (apps, app_cmp);
  return g_steal_pointer (&apps);
}

gchar *
mn_shell_quote (const gchar *text)
{
  return g_shell_quote (text);
}

/* "MINNA_FIELD_KERNEL='python3'; export MINNA_FIELD_KERNEL\n" for each field
 * of the app's own: the session's value (checked at launch), else the
 * field's default.  Values are quoted: never pasted into shell text. */
static gchar *
own_field_exports (const MnApp *app, const gchar *form)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *values = NULL;
  GString *out = g_string_new (NULL);
  if (form != NULL && json_parser_load_from_data (parser, form, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    values = json_node_get_object (json_parser_get_root (parser));
  for (guint i = 0; app->form != NULL && i < app->form->len; i++)
    {
      const MnAppFormField *f = g_ptr_array_index (app->form, i);
      const gchar *v = f->def;
      g_autofree gchar *upper = NULL, *quoted = NULL;
      JsonNode *n;
      if (resource_index (f->name) >= 0)
        continue;
      if (values != NULL && (n = json_object_get_member (values, f->name)) != NULL &&
          JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        v = json_node_get_string (n);
      upper = g_ascii_strup (f->name, -1);
      quoted = g_shell_quote (v);
      g_string_append_printf (out, "MINNA_FIELD_%s=%s; export MINNA_FIELD_%s\n", upper, quoted,
                              upper);
    }
  return g_string_free (out, FALSE);
}

gchar *
mn_app_render_job_script (const MnApp *app, const MnSession *session,
                          const gchar *session_dir, const MnJobScriptOptions *o,
                          GError **error)
{
  g_autofree gchar *q_id = NULL, *q_dir = NULL, *q_launcher = NULL, *q_host = NULL;
  g_autofree gchar *q_lock = NULL, *base_url = NULL, *q_base = NULL, *q_app_dir = NULL;
  g_autofree gchar *exports = NULL;
  q_id = g_shell_quote (session->id);
  q_dir = g_shell_quote (session_dir);
  /* "PATH job-launch" (the subcommand) or the small binary's PATH */
  if (g_str_has_suffix (o->launcher, " job-launch"))
    {
      g_autofree gchar *bin = g_strndup (o->launcher, strlen (o->launcher) - strlen (" job-launch"));
      g_autofree gchar *qb = g_shell_quote (bin);
      q_launcher = g_strconcat (qb, " job-launch", NULL);
    }
  else
    q_launcher = g_shell_quote (o->launcher);
  q_host = g_shell_quote (o->host);
  q_lock = g_shell_quote (o->port_lock_dir);
  base_url = g_strdup_printf ("/s/%s/", session->id);
  q_base = g_shell_quote (base_url);
  q_app_dir = g_shell_quote (app->dir != NULL ? app->dir : ".");
  exports = own_field_exports (app, session->form);

  /* The app runs in a child shell so that this one can record its exit code
   * (the controller may have restarted and cannot wait() for it).  The port
   * is picked by `minna-controller job-launch`, which keeps the port's lock
   * open in the app's process for as long as the app lives. */
  return g_strdup_printf (
    "#!/bin/sh\n"
    "# Job script of minna session %s (app %s), written by minna-controller.\n"
    "umask 077\n"
    "MINNA_SESSION_ID=%s; export MINNA_SESSION_ID\n"
    "MINNA_SESSION_DIR=%s; export MINNA_SESSION_DIR\n"
    "MINNA_BASE_URL=%s; export MINNA_BASE_URL\n"
    "MINNA_TOKEN_FILE=\"$MINNA_SESSION_DIR/token\"; export MINNA_TOKEN_FILE\n"
    "MINNA_APP_DIR=%s; export MINNA_APP_DIR\n"
    "JUPYTER_RUNTIME_DIR=\"$MINNA_SESSION_DIR/runtime\"; export JUPYTER_RUNTIME_DIR\n"
    "%s"
    "cd \"${HOME:-$MINNA_SESSION_DIR}\" 2>/dev/null || cd \"$MINNA_SESSION_DIR\"\n"
    "echo \"minna: session $MINNA_SESSION_ID starting\"\n"
    "%s --host %s --ports %u-%u --lock-dir %s --locks-per-user %u \\\n"
    "  --connection-file \"$MINNA_SESSION_DIR/connection\" -- \\\n"
    "  /bin/sh \"$MINNA_SESSION_DIR/app.sh\"\n"
    "code=$?\n"
    "echo \"$code\" > \"$MINNA_SESSION_DIR/exit_code\"\n"
    "exit \"$code\"\n",
    session->id, app->id, q_id, q_dir, q_base, q_app_dir, exports, q_launcher, q_host, o->port_min,
    o->port_max, q_lock, o->locks_per_user);
}

gchar *
mn_app_render_app_script (const MnApp *app, GError **error)
{
  g_autofree gchar *command = mn_app_expand_command (app, error);
  if (command == NULL)
    return NULL;
  return g_strdup_printf ("#!/bin/sh\n# App %s (%s), from its definition's command.\n%s\n",
                          app->id, app->name, command);
}
