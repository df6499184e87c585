/* mn-controller-kernels.c: the user's Jupyter kernels, from minna-kernel. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-kernels.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT 10
/* minna-kernel's whole answer; a list of kernels is a few kB */
#define MAX_OUTPUT (1024 * 1024)
/* forget expired answers once this many users are remembered */
#define PRUNE_AT 256

typedef struct _Listing Listing;

/* One user's answer and the requests waiting for it. */
typedef struct {
  gchar     *user;
  gchar     *answer;     /* JSON text of the last 200, NULL if none */
  gint64     expires;    /* monotonic µs */
  GPtrArray *waiters;    /* paused SoupServerMessage */
  Listing   *listing;    /* the minna-kernel running for this user, or NULL */
} Entry;

struct _MnControllerKernels {
  const MnControllerConfig *config;
  GHashTable               *entries;   /* user -> Entry */
  gboolean                  stopped;
};

/* A running `minna-kernel list`; holds a reference on the owner, so that a
 * listing finishing after mn_controller_kernels_free finds it still there. */
struct _Listing {
  MnControllerKernels *self;
  Entry               *entry;     /* NULL once the entry was answered */
  GSubprocess         *proc;
  GCancellable        *cancellable;
  pid_t                pgid;
  guint                timeout_id;
  guint                timeout;   /* s */
  gchar               *program;
};

static void
entry_free (Entry *e)
{
  g_free (e->user);
  g_free (e->answer);
  g_ptr_array_unref (e->waiters);
  g_free (e);
}

static void
kernels_clear (MnControllerKernels *self)
{
  g_hash_table_destroy (self->entries);
}

static void
listing_free (Listing *l)
{
  g_clear_handle_id (&l->timeout_id, g_source_remove);
  g_clear_object (&l->proc);
  g_clear_object (&l->cancellable);
  g_free (l->program);
  g_rc_box_release_full (l->self, (GDestroyNotify) kernels_clear);
  g_free (l);
}

/* ---- answers ---------------------------------------------------------------- */

static void
reply (SoupServerMessage *msg, guint status, const gchar *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    json, strlen (json));
}

static gchar *
node_to_text (JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static gchar *
error_text (const gchar *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return node_to_text (root);
}

/* The page keeps working without kernels: an empty list that says why. */
static gchar *
warning_text (const gchar *user, const gchar *warning)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_message ("kernels of '%s': %s", user, warning);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kernels");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "kernels_dir");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "warning");
  json_builder_add_string_value (b, warning);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return node_to_text (root);
}

/* minna-kernel's `list --json` -> our answer, or NULL with @why.  Only
 * entries with a name are passed on; their members as minna-kernel wrote
 * them (kernel/README.md: name, display_name, dir, managed, modules,
 * env_kind, env, problem). */
static gchar *
answer_from_output (const gchar *out, gchar **why)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *o;
  JsonArray *kernels;
  const gchar *dir = NULL;

  if (!json_parser_load_from_data (parser, out, -1, &error))
    {
      *why = g_strdup_printf ("its output is not JSON: %s", error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ||
      (o = json_node_get_object (json_parser_get_root (parser))) == NULL ||
      !json_object_has_member (o, "kernels") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "kernels")))
    {
      *why = g_strdup ("its output has no \"kernels\" array");
      return NULL;
    }
  kernels = json_object_get_array_member (o, "kernels");
  if (json_object_has_member (o, "kernels_dir") &&
      json_node_get_value_type (json_object_get_member (o, "kernels_dir")) == G_TYPE_STRING)
    dir = json_object_get_string_member (o, "kernels_dir");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kernels");
  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (kernels); i++)
    {
      JsonNode *k = json_array_get_element (kernels, i);
      JsonNode *name;
      if (!JSON_NODE_HOLDS_OBJECT (k) ||
          (name = json_object_get_member (json_node_get_object (k), "name")) == NULL ||
          json_node_get_value_type (name) != G_TYPE_STRING)
        continue;
      json_builder_add_value (b, json_node_copy (k));
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "kernels_dir");
  if (dir != NULL)
    json_builder_add_string_value (b, dir);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "warning");
  json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return node_to_text (root);
}

/* Answers everyone waiting for @e; a 200 is kept for the next requests. */
static void
entry_answer (Entry *e, guint status, gchar *json)
{
  for (guint i = 0; i < e->waiters->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (e->waiters, i);
      reply (msg, status, json);
      soup_server_message_unpause (msg);
    }
  g_ptr_array_set_size (e->waiters, 0);
  if (e->listing != NULL)
    e->listing->entry = NULL;
  e->listing = NULL;
  if (status == 200)
    {
      g_free (e->answer);
      e->answer = json;
      e->expires = g_get_monotonic_time () + MN_CONTROLLER_KERNELS_CACHE_SECONDS * G_USEC_PER_SEC;
    }
  else
    g_free (json);
}

/* ---- running minna-kernel ------------------------------------------------------ */

gchar *
mn_controller_kernels_program (const MnControllerConfig *config)
{
  g_autofree gchar *self_path = NULL, *dir = NULL, *beside = NULL;
  if (config->kernel_program != NULL && config->kernel_program[0] != '\0')
    return g_strdup (config->kernel_program);
  self_path = g_file_read_link ("/proc/self/exe", NULL);
  if (self_path != NULL)
    {
      dir = g_path_get_dirname (self_path);
      beside = g_build_filename (dir, "minna-kernel", NULL);
      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
    }
  return g_strdup ("minna-kernel");
}

/* Which account runs minna-kernel: the user's, like their jobs, when we can
 * switch to it (see job_user in mn-controller-manager.c). */
static gboolean
as_user (const MnControllerConfig *config)
{
  return g_strcmp0 (config->run_as, "user") == 0 && geteuid () == 0;
}

/* Its own process group, so that a timeout kills runuser and minna-kernel
 * (and anything they started) alike. */
static void
child_setup (gpointer data)
{
  setpgid (0, 0);
}

static gboolean
listing_timed_out (gpointer data)
{
  Listing *l = data;
  g_autofree gchar *text = NULL;
  l->timeout_id = 0;
  if (l->pgid > 1)
    kill (-l->pgid, SIGKILL);
  g_cancellable_cancel (l->cancellable);
  if (l->entry != NULL)
    {
      g_message ("kernels of '%s': %s list did not answer within %u s; killed",
                 l->entry->user, l->program, l->timeout);
      text = g_strdup_printf ("%s list did not answer within %u s (is the home directory "
                              "reachable?); it was killed", l->program, l->timeout);
      entry_answer (l->entry, 504, error_text (text));
    }
  return G_SOURCE_REMOVE;
}

static void
listing_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Listing *l = data;
  g_autofree gchar *out = NULL, *err = NULL, *why = NULL, *answer = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result,
                                                      &out, &err, &error);

  if (l->entry == NULL || l->self->stopped)
    {
      /* answered already (timeout) or shutting down */
      listing_free (l);
      return;
    }
  if (!ok)
    why = g_strdup_printf ("reading the output of %s list: %s", l->program, error->message);
  else if (!g_subprocess_get_if_exited (l->proc) || g_subprocess_get_exit_status (l->proc) != 0)
    {
      g_autofree gchar *said = g_strstrip (g_strdup (err ? err : ""));
      gchar *nl = strchr (said, '\n');
      if (nl != NULL)
        *nl = '\0';
      if (g_subprocess_get_if_exited (l->proc))
        why = g_strdup_printf ("%s list failed (exit status %d)%s%s", l->program,
                               g_subprocess_get_exit_status (l->proc), said[0] ? ": " : "", said);
      else
        why = g_strdup_printf ("%s list was killed by signal %d", l->program,
                               g_subprocess_get_term_sig (l->proc));
    }
  else if (strlen (out) > MAX_OUTPUT)
    why = g_strdup_printf ("%s list printed over %d bytes", l->program, MAX_OUTPUT);
  else
    {
      g_autofree gchar *inner = NULL;
      answer = answer_from_output (out, &inner);
      if (answer == NULL)
        why = g_strdup_printf ("%s list --json: %s", l->program, inner);
    }
  if (answer != NULL)
    entry_answer (l->entry, 200, g_steal_pointer (&answer));
  else
    entry_answer (l->entry, 200, warning_text (l->entry->user, why));
  listing_free (l);
}

/* A program name without a slash is looked up in PATH here, so that a
 * missing one is reported as such rather than as runuser's failure. */
static gchar *
resolve_program (const gchar *program, gchar **why)
{
  if (strchr (program, '/') == NULL)
    {
      gchar *found = g_find_program_in_path (program);
      if (found == NULL)
        *why = g_strdup_printf ("%s is not installed (not beside minna-controller, not in PATH;"
                                " see [backend] kernel_program)", program);
      return found;
    }
  if (!g_file_test (program, G_FILE_TEST_IS_EXECUTABLE) || g_file_test (program, G_FILE_TEST_IS_DIR))
    {
      *why = g_strdup_printf ("%s is missing or not executable ([backend] kernel_program)", program);
      return NULL;
    }
  return g_strdup (program);
}

/* Starts minna-kernel for @e; NULL, or why it could not be started. */
static gchar *
listing_start (MnControllerKernels *self, Entry *e)
{
  g_autofree gchar *configured = mn_controller_kernels_program (self->config);
  g_autofree gchar *program = NULL, *why = NULL, *runuser = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Listing *l;

  program = resolve_program (configured, &why);
  if (program == NULL)
    return g_steal_pointer (&why);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_set_cwd (launcher, "/");
  if (as_user (self->config))
    {
      /* nothing of ours (JUPYTER_DATA_DIR, XDG_*) may pick the user's
       * directory; runuser sets HOME, USER, LOGNAME and SHELL */
      const gchar *lang = g_getenv ("LANG");
      g_auto(GStrv) env = g_new0 (gchar *, 1);
      env = g_environ_setenv (env, "PATH", "/usr/local/bin:/usr/bin:/bin", TRUE);
      env = g_environ_setenv (env, "LANG", lang ? lang : "C.UTF-8", TRUE);
      g_subprocess_launcher_set_environ (launcher, env);
      runuser = g_find_program_in_path ("runuser");
      g_ptr_array_add (argv, runuser ? runuser : (gchar *) "/usr/sbin/runuser");
      g_ptr_array_add (argv, (gchar *) "-u");
      g_ptr_array_add (argv, e->user);
      g_ptr_array_add (argv, (gchar *) "--");
    }
  g_ptr_array_add (argv, program);
  g_ptr_array_add (argv, (gchar *) "list");
  g_ptr_array_add (argv, (gchar *) "--json");
  g_ptr_array_add (argv, NULL);

  l = g_new0 (Listing, 1);
  l->self = g_rc_box_acquire (self);
  l->entry = e;
  l->program = g_strdup (configured);
  l->timeout = self->config->kernel_timeout > 0 ? (guint) self->config->kernel_timeout
                                                : DEFAULT_TIMEOUT;
  l->proc = g_subprocess_launcher_spawnv (launcher, (const gchar *const *) argv->pdata, &error);
  if (l->proc == NULL)
    {
      listing_free (l);
      return g_strdup_printf ("cannot run %s: %s", configured, error->message);
    }
  /* GLib's worker thread reaps a child that exits at once, and then the
   * identifier is NULL: such a listing has no process group left to kill
   * (this NULL crashed the controller under load) */
  {
    const gchar *id = g_subprocess_get_identifier (l->proc);
    l->pgid = id != NULL ? (pid_t) g_ascii_strtoll (id, NULL, 10) : 0;
  }
  l->cancellable = g_cancellable_new ();
  e->listing = l;
  l->timeout_id = g_timeout_add (l->timeout * 1000, listing_timed_out, l);
  g_subprocess_communicate_utf8_async (l->proc, NULL, l->cancellable, listing_done, l);
  return NULL;
}

/* ---- public ------------------------------------------------------------------- */

MnControllerKernels *
mn_controller_kernels_new (const MnControllerConfig *config)
{
  MnControllerKernels *self = g_rc_box_new0 (MnControllerKernels);
  self->config = config;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) entry_free);
  return self;
}

void
mn_controller_kernels_free (MnControllerKernels *self)
{
  GHashTableIter it;
  Entry *e;
  if (self == NULL)
    return;
  self->stopped = TRUE;
  g_hash_table_iter_init (&it, self->entries);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &e))
    if (e->listing != NULL)
      {
        Listing *l = e->listing;
        if (l->pgid > 1)
          kill (-l->pgid, SIGKILL);
        g_clear_handle_id (&l->timeout_id, g_source_remove);
        g_cancellable_cancel (l->cancellable);
        entry_answer (e, 503, error_text ("the controller is stopping"));
      }
  g_rc_box_release_full (self, (GDestroyNotify) kernels_clear);
}

static void
prune (MnControllerKernels *self, gint64 now)
{
  GHashTableIter it;
  Entry *e;
  if (g_hash_table_size (self->entries) < PRUNE_AT)
    return;
  g_hash_table_iter_init (&it, self->entries);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &e))
    if (e->listing == NULL && e->waiters->len == 0 && e->expires <= now)
      g_hash_table_iter_remove (&it);
}

void
mn_controller_kernels_handle (MnControllerKernels *self, SoupServerMessage *msg,
                              const gchar *user)
{
  gint64 now = g_get_monotonic_time ();
  Entry *e;

  prune (self, now);
  e = g_hash_table_lookup (self->entries, user);
  if (e == NULL)
    {
      e = g_new0 (Entry, 1);
      e->user = g_strdup (user);
      e->waiters = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->entries, e->user, e);
    }
  if (e->answer == NULL || now >= e->expires)
    {
      if (e->listing == NULL)
        {
          g_autofree gchar *failed = listing_start (self, e);
          if (failed != NULL)
            entry_answer (e, 200, warning_text (user, failed));
        }
      if (e->listing != NULL)
        {
          /* one minna-kernel per user at a time: later requests wait for it too */
          g_ptr_array_add (e->waiters, g_object_ref (msg));
          soup_server_message_pause (msg);
          return;
        }
    }
  reply (msg, 200, e->answer);
}

GStrv
mn_controller_kernels_cached_names (MnControllerKernels *self, const gchar *user)
{
  Entry *e = g_hash_table_lookup (self->entries, user);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  JsonArray *kernels;
  if (e == NULL || e->answer == NULL ||
      !json_parser_load_from_data (parser, e->answer, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  kernels = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                          "kernels");
  for (guint i = 0; kernels != NULL && i < json_array_get_length (kernels); i++)
    g_strv_builder_add (names, json_object_get_string_member (json_array_get_object_element (kernels, i),
                                                              "name"));
  return g_strv_builder_end (names);
}
