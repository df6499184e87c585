/* mn-controller-form.c: an app's form for one user, and site commands that
 * list a select's options. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-form.h"
#include "mn-controller-config.h"

#include <gio/gio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef struct _Run Run;

/* One command field's list. */
typedef struct {
  GStrv    options;     /* last good list, NULL none */
  gint64   fetched;     /* monotonic µs of that list */
  gchar   *problem;     /* why the last run gave no list, NULL none */
  Run     *run;         /* running now */
} Entry;

struct _MnFormSources {
  MnControllerKernels *kernels;
  GHashTable          *entries;   /* "path\nfield\ncommand" -> Entry* */
};

struct _Run {
  MnFormSources *self;      /* NULL once the owner is gone */
  gchar         *key;
  gchar         *label;     /* "apps/x.app [field module]" for the log */
  GSubprocess   *proc;
  GInputStream  *out;
  GString       *buf;
  pid_t          pgid;
  guint          timeout_id;
  guint          timeout;
  gboolean       too_big, timed_out;
};

static void
entry_free (Entry *e)
{
  g_strfreev (e->options);
  g_free (e->problem);
  if (e->run != NULL)
    e->run->self = NULL;
  g_free (e);
}

MnFormSources *
mn_form_sources_new (MnControllerKernels *kernels)
{
  MnFormSources *self = g_new0 (MnFormSources, 1);
  self->kernels = kernels;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) entry_free);
  return self;
}

static void
kill_run (Run *r)
{
  if (r->pgid > 1)
    kill (-r->pgid, SIGKILL);
  else if (r->proc != NULL)
    g_subprocess_force_exit (r->proc);
}

void
mn_form_sources_free (MnFormSources *self)
{
  GHashTableIter it;
  gpointer value;
  if (self == NULL)
    return;
  g_hash_table_iter_init (&it, self->entries);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Entry *) value)->run != NULL)
      kill_run (((Entry *) value)->run);
  g_hash_table_destroy (self->entries);
  g_free (self);
}

static gchar *
entry_key (const MnApp *app, const MnAppFormField *f)
{
  return g_strdup_printf ("%s\n%s\n%s", app->path ? app->path : app->id, f->name, f->command);
}

/* ---- site commands ----------------------------------------------------------- */

static void
run_free (Run *r)
{
  g_clear_handle_id (&r->timeout_id, g_source_remove);
  g_clear_object (&r->proc);
  g_clear_object (&r->out);
  g_string_free (r->buf, TRUE);
  g_free (r->key);
  g_free (r->label);
  g_free (r);
}

/* Lines -> options: stripped, blank ones dropped, repeats dropped; a line
 * that is not UTF-8, holds control characters or is too long is skipped
 * (and counted in the log). */
static GStrv
parse_options (const gchar *text, guint *skipped)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = 0;
  *skipped = 0;
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      gchar *l = g_strstrip (lines[i]);
      gboolean ok = g_utf8_validate (l, -1, NULL) && strlen (l) <= MN_APP_MAX_OPTION_LENGTH;
      if (l[0] == '\0')
        continue;
      for (const gchar *c = l; ok && *c; c++)
        ok = (guchar) *c >= 0x20 && *c != 0x7f;
      if (!ok || n >= MN_APP_MAX_OPTIONS)
        {
          (*skipped)++;
          continue;
        }
      if (g_hash_table_add (seen, l))
        {
          g_strv_builder_add (b, l);
          n++;
        }
    }
  return g_strv_builder_end (b);
}

static void
run_done (Run *r, const gchar *problem)
{
  Entry *e = r->self != NULL ? g_hash_table_lookup (r->self->entries, r->key) : NULL;
  if (e != NULL && e->run == r)
    {
      e->run = NULL;
      g_clear_pointer (&e->problem, g_free);
      if (problem != NULL)
        {
          /* the last good list stays in use */
          e->problem = g_strdup (problem);
          g_warning ("%s: the site command failed: %s", r->label, problem);
        }
      else
        {
          guint skipped = 0;
          g_strfreev (e->options);
          e->options = parse_options (r->buf->str, &skipped);
          e->fetched = g_get_monotonic_time ();
          if (skipped > 0)
            g_warning ("%s: %u lines of the site command's output skipped (not UTF-8 text,"
                       " control characters, over %d bytes, or over %d options)", r->label,
                       skipped, MN_APP_MAX_OPTION_LENGTH, MN_APP_MAX_OPTIONS);
        }
    }
  run_free (r);
}

static void
on_wait (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *r = data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *problem = NULL;
  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error))
    problem = g_strdup (error->message);
  else if (r->timed_out)
    problem = g_strdup_printf ("it did not finish within %u s", r->timeout);
  else if (r->too_big)
    problem = g_strdup_printf ("its output is over %d bytes", MN_FORM_COMMAND_MAX_OUTPUT);
  else if (g_subprocess_get_if_signaled (r->proc))
    problem = g_strdup_printf ("it was killed by signal %d", g_subprocess_get_term_sig (r->proc));
  else if (g_subprocess_get_exit_status (r->proc) != 0)
    problem = g_strdup_printf ("it exited with status %d", g_subprocess_get_exit_status (r->proc));
  run_done (r, problem);
}

static void on_read (GObject *source, GAsyncResult *result, gpointer data);

static void
read_more (Run *r)
{
  g_input_stream_read_bytes_async (r->out, 8192, G_PRIORITY_DEFAULT, NULL, on_read, r);
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result,
                                                              &error);
  if (bytes != NULL && g_bytes_get_size (bytes) > 0)
    {
      if (r->buf->len + g_bytes_get_size (bytes) > MN_FORM_COMMAND_MAX_OUTPUT)
        {
          r->too_big = TRUE;
          kill_run (r);
        }
      else
        {
          g_string_append_len (r->buf, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
          read_more (r);
          return;
        }
    }
  /* end of output (or an error, or too much): the exit status decides */
  g_subprocess_wait_async (r->proc, NULL, on_wait, r);
}

static gboolean
on_timeout (gpointer data)
{
  Run *r = data;
  r->timeout_id = 0;
  r->timed_out = TRUE;
  kill_run (r);
  return G_SOURCE_REMOVE;
}

static void
child_setup (gpointer data)
{
  /* its own process group, so that a timeout kills what it started too */
  setpgid (0, 0);
}

static void
start_run (MnFormSources *self, Entry *e, const gchar *key, const MnApp *app,
           const MnAppFormField *f)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE |
                               G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_autoptr(GError) error = NULL;
  const gchar *argv[] = { "/bin/sh", "-c", f->command, NULL };
  Run *r = g_new0 (Run, 1);
  const gchar *pid;
  r->self = self;
  r->key = g_strdup (key);
  r->label = g_strdup_printf ("%s [field %s]", app->path ? app->path : app->id, f->name);
  r->buf = g_string_new (NULL);
  r->timeout = (guint) f->timeout;
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_set_cwd (launcher, app->dir != NULL ? app->dir : "/");
  g_subprocess_launcher_setenv (launcher, "MINNA_APP_DIR", app->dir != NULL ? app->dir : "/", TRUE);
  r->proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (r->proc == NULL)
    {
      e->run = r;
      run_done (r, error->message);
      return;
    }
  pid = g_subprocess_get_identifier (r->proc);
  r->pgid = pid != NULL ? (pid_t) g_ascii_strtoll (pid, NULL, 10) : 0;
  r->out = g_object_ref (g_subprocess_get_stdout_pipe (r->proc));
  r->timeout_id = g_timeout_add_seconds (r->timeout, on_timeout, r);
  e->run = r;
  read_more (r);
}

static Entry *
command_entry (MnFormSources *self, const MnApp *app, const MnAppFormField *f, gboolean start)
{
  g_autofree gchar *key = entry_key (app, f);
  Entry *e = g_hash_table_lookup (self->entries, key);
  gint64 now = g_get_monotonic_time ();
  if (e == NULL)
    {
      e = g_new0 (Entry, 1);
      g_hash_table_insert (self->entries, g_strdup (key), e);
    }
  if (start && e->run == NULL &&
      (e->options == NULL || now - e->fetched > f->cache * G_USEC_PER_SEC))
    start_run (self, e, key, app, f);
  return e;
}

void
mn_form_sources_prefetch (MnFormSources *self, const GPtrArray *apps)
{
  for (guint i = 0; i < apps->len; i++)
    {
      const MnApp *app = g_ptr_array_index (apps, i);
      for (guint j = 0; app->form != NULL && j < app->form->len; j++)
        {
          const MnAppFormField *f = g_ptr_array_index (app->form, j);
          if (f->type == MN_APP_FORM_SELECT && f->source == MN_APP_SOURCE_COMMAND)
            command_entry (self, app, f, TRUE);
        }
    }
}

gboolean
mn_form_sources_pending (MnFormSources *self, const MnApp *app, const MnAppFormField *f)
{
  g_autofree gchar *key = NULL;
  Entry *e;
  if (f->source != MN_APP_SOURCE_COMMAND)
    return FALSE;
  key = entry_key (app, f);
  e = g_hash_table_lookup (self->entries, key);
  return e != NULL && e->run != NULL;
}

GStrv
mn_form_sources_options (MnFormSources *self, const MnApp *app, const MnAppFormField *f,
                         const gchar *user, gchar **why)
{
  switch (f->source)
    {
    case MN_APP_SOURCE_KERNELS:
      {
        GStrv names = self->kernels != NULL
                      ? mn_controller_kernels_cached_names (self->kernels, user) : NULL;
        if (names == NULL && why != NULL)
          *why = g_strdup ("your kernels have not been listed yet (GET /api/v1/kernels)");
        return names;
      }
    case MN_APP_SOURCE_COMMAND:
      {
        Entry *e = command_entry (self, app, f, TRUE);
        if (e->options != NULL)
          return g_strdupv (e->options);
        if (why != NULL)
          *why = e->problem != NULL
                 ? g_strdup_printf ("the site's list of options is not available: %s", e->problem)
                 : g_strdup ("the site's list of options is being made; try again in a moment");
        return NULL;
      }
    default:
      return g_strdupv (f->options);
    }
}

/* ---- the form as JSON ------------------------------------------------------------ */

gdouble
mn_form_policy_cap (const MnPolicyConfig *c, MnAppCap cap)
{
  switch (cap)
    {
    case MN_APP_CAP_CORES: return c->job_max_cores;
    case MN_APP_CAP_MEMORY_GB: return c->job_max_memory_mb / 1024.0;
    case MN_APP_CAP_GPUS: return c->job_max_gpus;
    case MN_APP_CAP_HOURS: return c->max_walltime / 3600.0;
    default: return INFINITY;
    }
}

/* 0.2 as "0.2", not the double's every digit */
static gchar *
format_number (gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.10g", v));
}

/* The user's last value of @f as text, if it is one @f takes now. */
static gchar *
last_value (const MnAppFormField *f, JsonObject *last, const gchar *const *options)
{
  JsonNode *n;
  g_autofree gchar *text = NULL;
  if (last == NULL || !f->remember || (n = json_object_get_member (last, f->name)) == NULL ||
      !JSON_NODE_HOLDS_VALUE (n))
    return NULL;
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_STRING: text = g_strdup (json_node_get_string (n)); break;
    case G_TYPE_INT64: text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n)); break;
    case G_TYPE_DOUBLE: text = format_number (json_node_get_double (n)); break;
    case G_TYPE_BOOLEAN: text = g_strdup (json_node_get_boolean (n) ? "true" : "false"); break;
    default: return NULL;
    }
  if (f->type == MN_APP_FORM_SELECT && text[0] == '\0' && f->def[0] == '\0')
    return g_steal_pointer (&text);
  if (f->type == MN_APP_FORM_SELECT && options == NULL)
    return NULL;
  return mn_app_field_check (f, text, options, NULL) ? g_steal_pointer (&text) : NULL;
}

JsonNode *
mn_form_describe (MnFormSources *self, const MnApp *app, const MnPolicyConfig *policy,
                  JsonObject *last, const gchar *user)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "app");
  json_builder_add_string_value (b, app->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, app->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, app->description);
  json_builder_set_member_name (b, "fields");
  json_builder_begin_array (b);
  for (guint i = 0; i < app->form->len; i++)
    {
      const MnAppFormField *f = g_ptr_array_index (app->form, i);
      g_autofree gchar *why = NULL, *lastv = NULL;
      g_auto(GStrv) options = NULL;
      json_builder_begin_object (b);
#define STR(k, v) json_builder_set_member_name (b, k); json_builder_add_string_value (b, v)
      STR ("name", f->name);
      STR ("type", mn_app_form_type_to_string (f->type));
      STR ("label", f->label);
      STR ("help", f->help);
      STR ("source", mn_app_source_to_string (f->source));
      json_builder_set_member_name (b, "resource");
      json_builder_add_boolean_value (b, i < MN_APP_N_FIELDS);
      json_builder_set_member_name (b, "remember");
      json_builder_add_boolean_value (b, f->remember);
      if (f->type == MN_APP_FORM_NUMBER)
        {
          json_builder_set_member_name (b, "min");
          json_builder_add_double_value (b, f->min);
          json_builder_set_member_name (b, "max");
          json_builder_add_double_value (b, f->max);
          json_builder_set_member_name (b, "step");
          json_builder_add_double_value (b, f->step);
          if (f->source == MN_APP_SOURCE_POLICY)
            {
              /* the interactive queue's bound: the policy's cap as it is now */
              STR ("cap", mn_app_cap_to_string (f->cap));
              json_builder_set_member_name (b, "policy_max");
              json_builder_add_double_value (b, mn_form_policy_cap (policy, f->cap));
            }
        }
      if (f->type == MN_APP_FORM_TEXT)
        {
          json_builder_set_member_name (b, "pattern");
          if (f->pattern != NULL)
            json_builder_add_string_value (b, f->pattern);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "max_length");
          json_builder_add_int_value (b, f->max_length);
        }
      if (f->type == MN_APP_FORM_SELECT)
        {
          options = mn_form_sources_options (self, app, f, user, &why);
          json_builder_set_member_name (b, "options");
          if (options != NULL)
            {
              json_builder_begin_array (b);
              for (gsize o = 0; options[o]; o++)
                json_builder_add_string_value (b, options[o]);
              json_builder_end_array (b);
            }
          else
            json_builder_add_null_value (b);
          /* no list yet: the portal asks again (pending) or says why */
          json_builder_set_member_name (b, "options_pending");
          json_builder_add_boolean_value (b, mn_form_sources_pending (self, app, f));
          json_builder_set_member_name (b, "options_problem");
          if (why != NULL)
            json_builder_add_string_value (b, why);
          else
            json_builder_add_null_value (b);
        }
      STR ("default", f->def);
      lastv = last_value (f, last, (const gchar *const *) options);
      json_builder_set_member_name (b, "value");
      json_builder_add_string_value (b, lastv != NULL ? lastv : f->def);
#undef STR
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- a launch request's own fields --------------------------------------------- */

/* A request member as text: strings as they are, numbers for number
 * fields, booleans for checkboxes; NULL (and @error) for anything else. */
static gchar *
member_text (const MnAppFormField *f, JsonNode *n, GError **error)
{
  GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  if (f->type == MN_APP_FORM_NUMBER && t == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
  if (f->type == MN_APP_FORM_NUMBER && t == G_TYPE_DOUBLE)
    return format_number (json_node_get_double (n));
  if (f->type == MN_APP_FORM_CHECKBOX && t == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (n) ? "true" : "false");
  g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID, "expected %s",
               f->type == MN_APP_FORM_NUMBER ? "a number"
               : f->type == MN_APP_FORM_CHECKBOX ? "true or false" : "a string");
  return NULL;
}

/* One field's value from the request (or the user's last, or the
 * default), checked; NULL with @error. */
static gchar *
read_field (MnFormSources *self, const MnApp *app, const MnAppFormField *f, JsonObject *request,
            JsonObject *last, const gchar *user, GError **error)
{
  JsonNode *n = request != NULL ? json_object_get_member (request, f->name) : NULL;
  g_autofree gchar *value = NULL, *why = NULL;
  g_auto(GStrv) options = NULL;
  if (f->type == MN_APP_FORM_SELECT && f->source != MN_APP_SOURCE_STATIC)
    options = mn_form_sources_options (self, app, f, user, &why);
  if (n != NULL && (value = member_text (f, n, error)) == NULL)
    return NULL;
  /* a kernel the user no longer has would be Jupyter's default and fail
   * every new notebook: a request that names none gets Jupyter's own (the
   * portal sends the last one when it is still in the user's list) */
  if (value == NULL && f->source != MN_APP_SOURCE_KERNELS)
    value = last_value (f, last, (const gchar *const *) options);
  if (value == NULL)
    value = g_strdup (f->def);
  if (f->type == MN_APP_FORM_SELECT && value[0] == '\0' && f->def[0] == '\0')
    return g_steal_pointer (&value);   /* not chosen: the app's own default (a kernel: Jupyter's) */
  if (f->type == MN_APP_FORM_SELECT && f->source == MN_APP_SOURCE_KERNELS && options == NULL)
    {
      /* no list made for the user yet: a name Jupyter could have; a kernel
       * that does not exist then fails in Jupyter, not here */
      gboolean ok = strlen (value) <= 64;
      for (const gchar *c = value; ok && *c; c++)
        ok = g_ascii_isalnum (*c) || *c == '.' || *c == '_' || *c == '-';
      if (!ok)
        return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                            "'%s' is not a kernel name", value), NULL;
      return g_steal_pointer (&value);
    }
  if (f->type == MN_APP_FORM_SELECT && f->source == MN_APP_SOURCE_COMMAND && options == NULL)
    return g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID, "%s", why), NULL;
  if (!mn_app_field_check (f, value, (const gchar *const *) options, error))
    return NULL;
  return g_steal_pointer (&value);
}

gchar *
mn_form_read_own (MnFormSources *self, const MnApp *app, JsonObject *request, JsonObject *last,
                  const gchar *user, gchar **field, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  json_builder_begin_object (b);
  for (guint i = MN_APP_N_FIELDS; i < app->form->len; i++)
    {
      const MnAppFormField *f = g_ptr_array_index (app->form, i);
      g_autoptr(GError) local = NULL;
      g_autofree gchar *value = read_field (self, app, f, request, last, user, &local);
      if (value == NULL)
        {
          /* the field's own message, with its name in front */
          *field = g_strdup (f->name);
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID, "field '%s': %s",
                       f->name, local->message);
          return NULL;
        }
      json_builder_set_member_name (b, f->name);
      json_builder_add_string_value (b, value);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}
