/* mn-controller-manager.c: the session state machine. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _MnControllerManager {
  MnControllerConfig *config;      /* only the keys the manager reads */
  MnControllerStore  *store;
  MnBackend          *backend;
  MnControllerRelay  *relay;
  GPtrArray          *apps;
  MnPolicyState      *policy;
  GHashTable         *live;        /* id -> MnSession* (owned) */
  GHashTable         *by_num;      /* num -> MnSession* (borrowed from live) */
  GHashTable         *busy;        /* id -> "probe"/"route": a call in flight */
  GHashTable         *running_since; /* id -> gint64* first poll that saw RUNNING */
  GHashTable         *cancelling;  /* id: a cancel runs in a worker thread */
  GHashTable         *node_addrs;  /* job_host = node: node name -> NodeAddrs* */
  gboolean            polling;     /* a poll runs in a worker thread */
  MnClockFunc         clock;
  gpointer            clock_data;
  MnProbeFunc         probe;
  gpointer            probe_data;
  guint               timer;
  guint               kick;
  guint               ticks;
  gboolean            listing_routes;
  gint64              last_idle_check;
  MnManagerCounters   counters;
};

typedef struct _NodeAddrs NodeAddrs;
static void node_addrs_free (NodeAddrs *n);

static MnControllerConfig *
copy_config (const MnControllerConfig *c)
{
  MnControllerConfig *n = mn_controller_config_new_default ();
  g_free (n->state_dir);
  n->state_dir = g_strdup (c->state_dir);
  g_free (n->run_as);
  n->run_as = g_strdup (c->run_as);
  g_free (n->job_host);
  n->job_host = g_strdup (c->job_host);
  g_free (n->port_lock_dir);
  n->port_lock_dir = g_strdup (c->port_lock_dir);
  g_free (n->launcher);
  n->launcher = g_strdup (c->launcher);
  n->port_min = c->port_min;
  n->port_max = c->port_max;
  n->ready_timeout = c->ready_timeout;
  n->kill_grace = c->kill_grace;
  n->poll_interval_ms = c->poll_interval_ms;
  return n;
}

static gint64
real_clock (gpointer data)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
default_probe (const MnSession *session, const gchar *url, MnHttpDone done,
               gpointer done_data, gpointer user_data)
{
  MnControllerManager *self = user_data;
  mn_controller_probe (self->relay, url, session->token, done, done_data);
}

MnControllerManager *
mn_controller_manager_new (const MnControllerConfig *config, const MnPolicyConfig *policy,
                           MnControllerStore *store, MnBackend *backend,
                           MnControllerRelay *relay, GPtrArray *apps)
{
  MnControllerManager *self = g_atomic_rc_box_new0 (MnControllerManager);
  self->config = copy_config (config);
  self->store = store;
  self->backend = backend;
  self->relay = relay;
  self->apps = apps;
  self->policy = mn_policy_state_new (policy);
  self->live = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify) mn_session_free);
  self->by_num = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->running_since = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->cancelling = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->node_addrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) node_addrs_free);
  self->clock = real_clock;
  self->probe = default_probe;
  self->probe_data = self;
  return self;
}

MnControllerManager *
mn_controller_manager_ref (MnControllerManager *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
manager_clear (MnControllerManager *self)
{
  g_clear_handle_id (&self->timer, g_source_remove);
  g_clear_handle_id (&self->kick, g_source_remove);
  g_hash_table_destroy (self->by_num);
  g_hash_table_destroy (self->live);
  g_hash_table_destroy (self->busy);
  g_hash_table_destroy (self->running_since);
  g_hash_table_destroy (self->cancelling);
  g_hash_table_destroy (self->node_addrs);
  mn_policy_state_free (self->policy);
  mn_backend_free (self->backend);
  mn_controller_relay_free (self->relay);
  mn_controller_store_free (self->store);
  g_ptr_array_unref (self->apps);
  mn_controller_config_free (self->config);
}

void
mn_controller_manager_unref (MnControllerManager *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) manager_clear);
}

void
mn_controller_manager_set_clock (MnControllerManager *self, MnClockFunc clock, gpointer data)
{
  self->clock = clock;
  self->clock_data = data;
}

void
mn_controller_manager_set_prober (MnControllerManager *self, MnProbeFunc probe, gpointer data)
{
  self->probe = probe;
  self->probe_data = data;
}

gint64
mn_controller_manager_now (MnControllerManager *self)
{
  return self->clock (self->clock_data);
}

MnControllerStore *mn_controller_manager_get_store (MnControllerManager *self) { return self->store; }
MnPolicyState *mn_controller_manager_get_policy (MnControllerManager *self) { return self->policy; }
const GPtrArray *mn_controller_manager_get_apps (MnControllerManager *self) { return self->apps; }
MnBackend *mn_controller_manager_get_backend (MnControllerManager *self) { return self->backend; }
const MnManagerCounters *mn_controller_manager_get_counters (MnControllerManager *self) { return &self->counters; }

const MnApp *
mn_controller_manager_find_app (MnControllerManager *self, const gchar *id)
{
  for (guint i = 0; id != NULL && i < self->apps->len; i++)
    {
      const MnApp *app = g_ptr_array_index (self->apps, i);
      if (g_str_equal (app->id, id))
        return app;
    }
  return NULL;
}

gchar *
mn_controller_manager_session_dir (MnControllerManager *self, const gchar *id)
{
  return g_build_filename (self->config->state_dir, "sessions", id, NULL);
}

/* ---- helpers --------------------------------------------------------- */

static void
track (MnControllerManager *self, MnSession *s)
{
  g_hash_table_replace (self->live, s->id, s);
  g_hash_table_replace (self->by_num, &s->num, s);
}

static void
untrack (MnControllerManager *self, MnSession *s)
{
  g_hash_table_remove (self->by_num, &s->num);
  g_hash_table_remove (self->running_since, s->id);
  g_hash_table_remove (self->live, s->id);   /* frees s */
}

/* Write @s with an event; FALSE (logged) if the store refused, and then the
 * caller must not act on the change. */
static gboolean
save (MnControllerManager *self, MnSession *s, const gchar *event)
{
  g_autoptr(GError) error = NULL;
  if (!mn_controller_store_update (self->store, s, mn_controller_manager_now (self), event, &error))
    {
      g_warning ("session %s: not saved (%s): %s", s->id, event ? event : "", error->message);
      return FALSE;
    }
  return TRUE;
}

static void
set_reason (MnSession *s, const gchar *reason)
{
  gchar *old = s->reason;   /* @reason may be s->reason itself */
  s->reason = g_strdup (reason);
  g_free (old);
}

/* ---- job_host = node: the addresses of the node a job runs on ---------- */

struct _NodeAddrs {
  GStrv    addrs;     /* NULL: the lookup failed or runs */
  gint64   expires;   /* monotonic s */
  gboolean pending;
};

static void
node_addrs_free (NodeAddrs *n)
{
  g_strfreev (n->addrs);
  g_free (n);
}

typedef struct {
  MnControllerManager *self;
  gchar *node;
} ResolveCall;

static void kick (MnControllerManager *self);

static void
on_node_resolved (GObject *source, GAsyncResult *result, gpointer data)
{
  ResolveCall *c = data;
  g_autoptr(GError) error = NULL;
  GList *list = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  NodeAddrs *n = g_hash_table_lookup (c->self->node_addrs, c->node);
  if (n != NULL)
    {
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
      for (GList *l = list; l != NULL; l = l->next)
        {
          g_autofree gchar *a = g_inet_address_to_string (l->data);
          g_strv_builder_add (b, a);
        }
      n->pending = FALSE;
      g_clear_pointer (&n->addrs, g_strfreev);
      if (list != NULL)
        {
          n->addrs = g_strv_builder_end (b);
          n->expires = g_get_monotonic_time () / G_USEC_PER_SEC + 600;
        }
      else
        {
          /* asked again in 30 s: a node being added to DNS */
          g_warning ("job_host = node: node '%s' does not resolve: %s; its sessions cannot be"
                     " reached", c->node, error ? error->message : "no address");
          n->expires = g_get_monotonic_time () / G_USEC_PER_SEC + 30;
        }
      kick (c->self);
    }
  g_resolver_free_addresses (list);
  mn_controller_manager_unref (c->self);
  g_free (c->node);
  g_free (c);
}

/* The addresses @node resolves to, from a cache (10 min; failures 30 s);
 * NULL while a lookup runs (GResolver: the main loop never waits on DNS). */
static const gchar *const *
node_addresses (MnControllerManager *self, const gchar *node)
{
  gint64 now = g_get_monotonic_time () / G_USEC_PER_SEC;
  NodeAddrs *n = g_hash_table_lookup (self->node_addrs, node);
  if (n != NULL && (n->pending || now < n->expires))
    return (const gchar *const *) n->addrs;
  if (n == NULL)
    {
      n = g_new0 (NodeAddrs, 1);
      g_hash_table_insert (self->node_addrs, g_strdup (node), n);
    }
  n->pending = TRUE;
  {
    g_autoptr(GResolver) resolver = g_resolver_get_default ();
    ResolveCall *c = g_new0 (ResolveCall, 1);
    c->self = mn_controller_manager_ref (self);
    c->node = g_strdup (node);
    g_resolver_lookup_by_name_async (resolver, node, NULL, on_node_resolved, c);
  }
  return (const gchar *const *) n->addrs;
}

/* May the app of @s listen on @host?  The connection file is the user's:
 * only what the job was allowed to pick counts, or a user could route their
 * session to any service the relay reaches.  job_host = node: an address of
 * the node the scheduler runs the job on (this host for the local backend). */
/* The node the job runs on: as the scheduler names it, this host for the
 * local backend, NULL while not known. */
static const gchar *
job_node (MnControllerManager *self, const MnSession *s)
{
  if (s->exec_node == NULL && g_str_equal (self->backend->klass->name, "local"))
    return g_get_host_name ();
  return s->exec_node;
}

static gboolean
host_allowed (MnControllerManager *self, const MnSession *s, const gchar *host)
{
  const gchar *node = job_node (self, s);
  const gchar *const *addrs;
  if (!g_str_equal (self->config->job_host, "node"))
    return g_strcmp0 (host, self->config->job_host) == 0;
  if (node == NULL)
    return FALSE;
  addrs = node_addresses (self, node);
  return addrs != NULL && g_strv_contains (addrs, host);
}

static gchar *
random_hex (gsize bytes)
{
  g_autofree guint8 *buf = g_malloc (bytes);
  GString *out = g_string_sized_new (bytes * 2);
  if (RAND_bytes (buf, (int) bytes) != 1)
    g_error ("OpenSSL RAND_bytes failed: no entropy");
  for (gsize i = 0; i < bytes; i++)
    g_string_append_printf (out, "%02x", buf[i]);
  return g_string_free (out, FALSE);
}

static gboolean
is_interactive (const MnSession *s)
{
  return g_strcmp0 (s->queue, "interactive") == 0;
}

static void
fill_request (const MnSession *s, MnPolicyRequest *r)
{
  memset (r, 0, sizeof *r);
  r->job_id = (guint64) s->num;
  r->user = s->user;
  r->cores = s->cores;
  r->memory_mb = s->memory_mb;
  r->gpus = s->gpus;
  r->walltime = s->walltime;
  r->if_busy = s->give_up ? MN_IF_BUSY_GIVE_UP : MN_IF_BUSY_WAIT;
}

static gchar *
output_tail (MnControllerManager *self, const MnSession *s)
{
  g_autofree gchar *dir = mn_controller_manager_session_dir (self, s->id);
  g_autofree gchar *path = g_build_filename (dir, "output.log", NULL);
  g_autofree gchar *data = NULL;
  gsize len = 0;
  const gchar *start;
  guint lines = 0;

  if (!g_file_get_contents (path, &data, &len, NULL) || len == 0)
    return g_strdup ("(the job wrote no output)");
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
    data[--len] = '\0';
  start = data + len;
  /* the last 15 lines, at most 2000 bytes */
  while (start > data && lines < 15 && (data + len - start) < 2000)
    if (*--start == '\n')
      lines++;
  if (*start == '\n')
    start++;
  return g_utf8_make_valid (start, -1);
}

/* ---- cancelling --------------------------------------------------------- */

typedef struct {
  MnControllerManager *self;
  gchar *id, *job_id;
} CancelCall;

static void
cancel_call_free (CancelCall *c)
{
  g_hash_table_remove (c->self->cancelling, c->id);
  mn_controller_manager_unref (c->self);
  g_free (c->id);
  g_free (c->job_id);
  g_free (c);
}

static void
cancel_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  CancelCall *c = data;
  g_autoptr(GError) error = NULL;
  if (!mn_backend_cancel (c->self->backend, c->job_id, 0, &error))
    g_message ("session %s: cancel job %s: %s (will retry)", c->id, c->job_id, error->message);
  g_task_return_boolean (task, TRUE);
}

/* Cancels session @id's job.  A scheduler's scancel/qdel takes seconds and
 * hangs while its daemon is down, so it runs in a worker thread (one per
 * session at a time); the polls see the job end, and an ending session
 * cancels again if it does not. */
static void
cancel_job (MnControllerManager *self, const gchar *id, const gchar *job_id)
{
  g_autoptr(GTask) task = NULL;
  CancelCall *c;
  if (!self->backend->klass->commands_block)
    {
      g_autoptr(GError) error = NULL;
      if (!mn_backend_cancel (self->backend, job_id, mn_controller_manager_now (self), &error))
        g_message ("session %s: cancel job %s: %s (will retry)", id, job_id, error->message);
      return;
    }
  if (g_hash_table_contains (self->cancelling, id))
    return;
  c = g_new0 (CancelCall, 1);
  c->self = mn_controller_manager_ref (self);
  c->id = g_strdup (id);
  c->job_id = g_strdup (job_id);
  g_hash_table_add (self->cancelling, g_strdup (id));
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, c, (GDestroyNotify) cancel_call_free);
  g_task_run_in_thread (task, cancel_thread);
}

/* ---- ending ---------------------------------------------------------- */

static void start_job (MnControllerManager *self, MnSession *s);

static void
on_route_deleted (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  g_autofree gchar *id = data;
  if (!ok)
    g_message ("session %s: relay did not remove the route: %s", id, message);
}

/* The session is over: store, release its slot, start whom that admits. */
static void
finish (MnControllerManager *self, MnSession *s, MnSessionState state, const gchar *reason)
{
  gint64 now = mn_controller_manager_now (self);
  gboolean had_slot = is_interactive (s) && (s->node >= 0 || s->state == MN_SESSION_QUEUED);
  gboolean had_route = s->host != NULL;
  g_autoptr(GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  g_autofree gchar *id = g_strdup (s->id);

  s->state = state;
  s->ended = now;
  set_reason (s, reason);   /* @reason may have been s->reason: use s->reason from here */
  if (state == MN_SESSION_FAILED)
    self->counters.failed++;
  if (!save (self, s, s->reason ? s->reason : mn_session_state_to_string (state)))
    return;
  if (had_route)
    mn_controller_relay_delete_route (self->relay, id, on_route_deleted, g_strdup (id));
  if (had_slot)
    mn_policy_state_release (self->policy, (guint64) s->num, now, started);
  untrack (self, s);
  for (guint i = 0; i < started->len; i++)
    {
      MnDecision *d = &g_array_index (started, MnDecision, i);
      gint64 num = (gint64) d->job_id;
      MnSession *next = g_hash_table_lookup (self->by_num, &num);
      if (next != NULL && next->state == MN_SESSION_QUEUED)
        {
          g_autofree gchar *ev = g_strdup_printf ("admitted on node %u, logical node %u",
                                                  d->node, d->logical);
          next->node = (gint) d->node;
          next->logical = (gint) d->logical;
          next->state = MN_SESSION_STARTING;
          set_reason (next, NULL);
          if (save (self, next, ev))
            start_job (self, next);
        }
      mn_decision_clear (d);
    }
}

/* ---- starting -------------------------------------------------------- */

static gboolean
write_private (const gchar *path, const gchar *data, mode_t mode, uid_t uid, gid_t gid,
               GError **error)
{
  int fd;
  gsize len = strlen (data), off = 0;
  unlink (path);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  while (off < len)
    {
      ssize_t n = write (fd, data + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                       "%s: %s", path, g_strerror (errno));
          close (fd);
          return FALSE;
        }
      off += (gsize) n;
    }
  if (geteuid () == 0 && fchown (fd, uid, gid) != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: chown: %s", path, g_strerror (errno));
      close (fd);
      return FALSE;
    }
  fchmod (fd, mode);
  close (fd);
  return TRUE;
}

/* Which Unix account runs the job (NULL: the controller's). */
static const gchar *
job_user (MnControllerManager *self, const MnSession *s)
{
  if (g_str_equal (self->config->run_as, "user") && geteuid () == 0)
    return s->user;
  return NULL;
}

/* minna-job-launch beside this binary (small: starts fast when a hundred
 * jobs start at once), else this binary's job-launch subcommand. */
static gchar *
default_launcher (const gchar *configured)
{
  g_autofree gchar *self_path = NULL, *dir = NULL, *small = NULL;
  if (configured != NULL && configured[0] != '\0')
    return g_strdup (configured);
  self_path = g_file_read_link ("/proc/self/exe", NULL);
  if (self_path == NULL)
    return g_strdup ("minna-job-launch");
  dir = g_path_get_dirname (self_path);
  small = g_build_filename (dir, "minna-job-launch", NULL);
  if (g_file_test (small, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&small);
  return g_strdup_printf ("%s job-launch", self_path);
}

static gboolean
prepare_dir (MnControllerManager *self, MnSession *s, const MnApp *app, GError **error)
{
  g_autofree gchar *dir = mn_controller_manager_session_dir (self, s->id);
  g_autofree gchar *job = NULL, *script = NULL, *app_script = NULL, *token = NULL;
  g_autofree gchar *launcher = NULL, *runtime = NULL, *output = NULL;
  const gchar *unix_user = job_user (self, s);
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  MnJobScriptOptions o;

  if (unix_user != NULL)
    {
      struct passwd *pw = getpwnam (unix_user);
      if (pw == NULL)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                       "user '%s' has no Unix account on this machine, so no job can run as them",
                       unix_user);
          return FALSE;
        }
      uid = pw->pw_uid;
      gid = pw->pw_gid;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      (geteuid () == 0 && chown (dir, uid, gid) != 0) || chmod (dir, 0700) != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  runtime = g_build_filename (dir, "runtime", NULL);
  if (g_mkdir_with_parents (runtime, 0700) != 0 || (geteuid () == 0 && chown (runtime, uid, gid) != 0))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "%s: %s", runtime, g_strerror (errno));
      return FALSE;
    }
  launcher = default_launcher (self->config->launcher);
  o.launcher = launcher;
  o.host = self->config->job_host;
  o.port_min = self->config->port_min;
  o.port_max = self->config->port_max;
  o.port_lock_dir = self->config->port_lock_dir;
  script = mn_app_render_job_script (app, s, dir, &o, error);
  app_script = mn_app_render_app_script (app, error);
  if (script == NULL || app_script == NULL)
    return FALSE;
  token = g_build_filename (dir, "token", NULL);
  job = g_build_filename (dir, "job.sh", NULL);
  {
    g_autofree gchar *app_path = g_build_filename (dir, "app.sh", NULL);
    g_autofree gchar *token_text = g_strconcat (s->token, "\n", NULL);
    /* rewritten files get new inodes: a job that is already running (a
     * controller killed mid-submit) keeps reading its own */
    if (!write_private (token, token_text, 0600, uid, gid, error) ||
        !write_private (job, script, 0700, uid, gid, error) ||
        !write_private (app_path, app_script, 0700, uid, gid, error))
      return FALSE;
  }
  output = g_build_filename (dir, "output.log", NULL);
  if (!g_file_test (output, G_FILE_TEST_EXISTS) &&
      !write_private (output, "", 0600, uid, gid, error))
    return FALSE;
  return TRUE;
}

static void
submitted (MnControllerManager *self, MnSession *s, const gchar *job_id, const GError *error)
{
  g_autofree gchar *event = NULL;
  if (job_id == NULL && g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE))
    {
      /* not a refusal: the next poll submits again (submit finds a job
       * this one may have left after all) */
      g_autofree gchar *why = g_strdup_printf ("the scheduler did not answer (%s); submitting"
                                               " again", error->message);
      if (g_strcmp0 (s->reason, why) != 0)
        {
          set_reason (s, why);
          save (self, s, why);
        }
      return;
    }
  if (job_id == NULL)
    {
      g_autofree gchar *why = g_strdup_printf ("the scheduler refused the job: %s", error->message);
      finish (self, s, MN_SESSION_FAILED, why);
      return;
    }
  g_free (s->job_id);
  s->job_id = g_strdup (job_id);
  s->submitted = mn_controller_manager_now (self);
  set_reason (s, "waiting for the job to start");
  event = g_strdup_printf ("submitted as job %s", s->job_id);
  save (self, s, event);
}

/* Submissions wait on the scheduler (sbatch; for the local backend the
 * kernel's cgroup mkdir and the child's exec), so they run in threads and a
 * lecture hall's launches overlap instead of queueing on the main loop. */
typedef struct {
  MnControllerManager *self;
  gchar  *id, *dir, *script, *output, *user;
  MnJobSpec spec;
  gint64  now;
  gchar  *job_id;
  GError *error;
} SubmitCall;

static void
submit_call_free (SubmitCall *c)
{
  g_hash_table_remove (c->self->busy, c->id);
  mn_controller_manager_unref (c->self);
  g_free (c->id);
  g_free (c->dir);
  g_free (c->script);
  g_free (c->output);
  g_free (c->user);
  g_free (c->job_id);
  g_clear_error (&c->error);
  g_free (c);
}

static void
submit_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SubmitCall *c = data;
  c->job_id = mn_backend_submit (c->self->backend, &c->spec, c->now, &c->error);
  g_task_return_boolean (task, TRUE);
}

static void
submit_done (GObject *source, GAsyncResult *result, gpointer data)
{
  SubmitCall *c = g_task_get_task_data (G_TASK (result));
  MnControllerManager *self = c->self;
  MnSession *s = g_hash_table_lookup (self->live, c->id);
  if (s != NULL && s->state == MN_SESSION_STARTING && s->job_id == NULL)
    submitted (self, s, c->job_id, c->error);
  else if (c->job_id != NULL)
    cancel_job (self, c->id, c->job_id);   /* stopped while it was being submitted */
}

static void
submit_in_thread (MnControllerManager *self, MnSession *s, const MnJobSpec *spec)
{
  SubmitCall *c = g_new0 (SubmitCall, 1);
  g_autoptr(GTask) task = g_task_new (NULL, NULL, submit_done, NULL);
  c->self = mn_controller_manager_ref (self);
  c->id = g_strdup (s->id);
  c->dir = g_strdup (spec->session_dir);
  c->script = g_strdup (spec->script);
  c->output = g_strdup (spec->output);
  c->user = g_strdup (spec->unix_user);
  c->spec = *spec;
  c->spec.session_id = c->id;
  c->spec.session_dir = c->dir;
  c->spec.script = c->script;
  c->spec.output = c->output;
  c->spec.unix_user = c->user;
  c->now = mn_controller_manager_now (self);
  g_hash_table_insert (self->busy, g_strdup (s->id), (gpointer) "submit");
  g_task_set_task_data (task, c, (GDestroyNotify) submit_call_free);
  g_task_run_in_thread (task, submit_thread);
}

static void
start_job (MnControllerManager *self, MnSession *s)
{
  const MnApp *app = mn_controller_manager_find_app (self, s->app);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = mn_controller_manager_session_dir (self, s->id);
  g_autofree gchar *script = g_build_filename (dir, "job.sh", NULL);
  g_autofree gchar *output = g_build_filename (dir, "output.log", NULL);
  g_autofree gchar *job_id = NULL;
  MnJobSpec spec = { 0 };

  if (app == NULL)
    {
      g_autofree gchar *why = g_strdup_printf ("app '%s' is no longer defined", s->app);
      finish (self, s, MN_SESSION_FAILED, why);
      return;
    }
  if (!prepare_dir (self, s, app, &error))
    {
      finish (self, s, MN_SESSION_FAILED, error->message);
      return;
    }
  spec.session_id = s->id;
  spec.session_dir = dir;
  spec.script = script;
  spec.output = output;
  spec.unix_user = job_user (self, s);
  spec.cores = s->cores;
  spec.memory_mb = s->memory_mb;
  spec.gpus = s->gpus;
  spec.walltime = s->walltime;
  spec.node = s->node;
  spec.logical = s->logical;
  spec.give_up = s->give_up;
  if (self->backend->klass->submit_in_thread)
    {
      submit_in_thread (self, s, &spec);
      return;
    }
  job_id = mn_backend_submit (self->backend, &spec, mn_controller_manager_now (self), &error);
  submitted (self, s, job_id, error);
}

/* ---- launch ----------------------------------------------------------- */

static gboolean
kick_cb (gpointer data)
{
  MnControllerManager *self = data;
  self->kick = 0;
  mn_controller_manager_tick (self);
  return G_SOURCE_REMOVE;
}

static void
kick (MnControllerManager *self)
{
  if (self->kick == 0 && self->timer != 0)
    self->kick = g_timeout_add (50, kick_cb, self);
}

MnSession *
mn_controller_manager_launch (MnControllerManager *self, const gchar *user,
                              const MnLaunchRequest *request, MnRejectReason *reason,
                              GError **error)
{
  gint64 now = mn_controller_manager_now (self);
  g_autoptr(MnSession) s = mn_session_new ();
  MnDecision d = { 0 };
  MnPolicyRequest pr;
  MnSession *live;
  gint64 num = 1;
  g_autofree gchar *event = NULL;
  g_autofree gchar *id = NULL;

  if (reason)
    *reason = MN_REJECT_NONE;
  if (mn_controller_manager_find_app (self, request->app) == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                   "app: no app '%s'", request->app ? request->app : "");
      return NULL;
    }
  /* the policy needs the job id before the row exists: use the next row */
  num = mn_controller_store_max_num (self->store) + 1;
  s->num = num;
  s->id = random_hex (8);
  s->user = g_strdup (user);
  s->app = g_strdup (request->app);
  g_free (s->queue);
  s->queue = g_strdup (request->queue ? request->queue : "interactive");
  s->cores = request->cores;
  s->memory_mb = request->memory_mb;
  s->gpus = request->gpus;
  s->walltime = request->walltime;
  s->give_up = request->give_up;
  s->created = now;
  s->token = random_hex (24);
  s->state = MN_SESSION_QUEUED;
  s->prev_state = MN_SESSION_QUEUED;

  if (is_interactive (s))
    {
      fill_request (s, &pr);
      mn_policy_state_request (self->policy, &pr, now, &d);
      if (d.kind == MN_DECISION_REJECT)
        {
          self->counters.refused++;
          if ((guint) d.reason < G_N_ELEMENTS (self->counters.refused_by_reason))
            self->counters.refused_by_reason[d.reason]++;
          if (reason)
            *reason = d.reason;
          g_set_error_literal (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED,
                               d.message ? d.message : "refused by the interactive.q policy");
          mn_decision_clear (&d);
          return NULL;
        }
      if (d.kind == MN_DECISION_START)
        {
          s->state = MN_SESSION_STARTING;
          s->node = (gint) d.node;
          s->logical = (gint) d.logical;
          event = g_strdup_printf ("requested; admitted on node %u, logical node %u",
                                   d.node, d.logical);
        }
      else
        {
          set_reason (s, "waiting for room in interactive.q");
          event = g_strdup_printf ("requested; waiting at position %u", d.position);
        }
      mn_decision_clear (&d);
    }
  else
    {
      s->state = MN_SESSION_STARTING;
      event = g_strdup ("requested (batch)");
    }

  if (!mn_controller_store_insert (self->store, s, now, event, error))
    {
      if (is_interactive (s))
        mn_policy_state_release (self->policy, (guint64) s->num, now, NULL);
      return NULL;
    }
  self->counters.launches++;
  live = g_steal_pointer (&s);
  id = g_strdup (live->id);
  track (self, live);
  if (live->state == MN_SESSION_STARTING)
    start_job (self, live);   /* may finish (fail) and free it */
  kick (self);
  live = g_hash_table_lookup (self->live, id);
  return live ? mn_session_copy (live) : mn_controller_store_get (self->store, id, error);
}

/* ---- stop ------------------------------------------------------------- */

gboolean
mn_controller_manager_stop (MnControllerManager *self, const gchar *id, const gchar *why,
                            GError **error)
{
  MnSession *s = g_hash_table_lookup (self->live, id);
  g_autoptr(GError) local = NULL;
  gint64 now = mn_controller_manager_now (self);

  if (s == NULL)
    {
      g_autoptr(MnSession) old = mn_controller_store_get (self->store, id, error);
      if (old == NULL)
        return FALSE;
      return TRUE;   /* already over: stopping is idempotent */
    }
  if (s->state == MN_SESSION_QUEUED || s->job_id == NULL)
    {
      finish (self, s, MN_SESSION_ENDED, why);
      return TRUE;
    }
  if (s->state != MN_SESSION_ENDING)
    {
      if (s->state == MN_SESSION_UNKNOWN)
        s->prev_state = MN_SESSION_ENDING;
      else
        s->state = MN_SESSION_ENDING;
      s->stop_requested = now;
      set_reason (s, why);
      if (!save (self, s, why))
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE,
                       "could not record the stop request");
          return FALSE;
        }
    }
  cancel_job (self, s->id, s->job_id);
  if (s->host != NULL)
    mn_controller_relay_delete_route (self->relay, s->id, on_route_deleted, g_strdup (s->id));
  kick (self);
  return TRUE;
}

/* ---- polling ------------------------------------------------------------ */

typedef struct {
  MnControllerManager *self;
  gchar               *id;
} CallData;

static CallData *
call_new (MnControllerManager *self, const gchar *id)
{
  CallData *c = g_new0 (CallData, 1);
  c->self = mn_controller_manager_ref (self);
  c->id = g_strdup (id);
  return c;
}

static void
call_free (CallData *c)
{
  g_hash_table_remove (c->self->busy, c->id);
  mn_controller_manager_unref (c->self);
  g_free (c->id);
  g_free (c);
}

static void
on_route_put (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = c->self;
  MnSession *s = g_hash_table_lookup (self->live, c->id);

  if (s != NULL && s->state == MN_SESSION_STARTING)
    {
      if (ok)
        {
          g_autofree gchar *ev = g_strdup_printf ("running at %s:%u, route /s/%s/ registered",
                                                  s->host, s->port, s->id);
          s->state = MN_SESSION_RUNNING;
          s->started = mn_controller_manager_now (self);
          set_reason (s, NULL);
          self->counters.ready++;
          save (self, s, ev);
        }
      else
        {
          g_autofree gchar *why = g_strdup_printf ("the relay did not take the route (%s);"
                                                   " retrying", message);
          if (g_strcmp0 (s->reason, why) != 0)
            {
              set_reason (s, why);
              save (self, s, why);
            }
        }
    }
  else if (s != NULL && !ok)
    g_message ("session %s: route refresh: %s", s->id, message);
  call_free (c);
}

static void
register_route (MnControllerManager *self, MnSession *s)
{
  g_autofree gchar *upstream = g_strdup_printf ("http://%s:%u", s->host, s->port);
  gint64 expires = (s->submitted ? s->submitted : s->created) + s->walltime;
  g_hash_table_insert (self->busy, g_strdup (s->id), (gpointer) "route");
  mn_controller_relay_put_route (self->relay, s->id, upstream, s->user, s->token, expires,
                                 on_route_put, call_new (self, s->id));
}

static void
on_probe (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = c->self;
  MnSession *s = g_hash_table_lookup (self->live, c->id);
  if (ok && s != NULL && s->state == MN_SESSION_STARTING)
    {
      g_hash_table_remove (self->busy, c->id);
      register_route (self, s);
    }
  call_free (c);
}

/* A connection file that names what the job may not pick: logged once per
 * content (the poll reads it every interval). */
static void
refuse_connection (MnSession *s, const gchar *path, const gchar *host, gint port,
                   const gchar *why)
{
  g_autofree gchar *at = g_strdup_printf ("%s:%d", host ? host : "?", port);
  if (g_strcmp0 (s->refused_at, at) == 0)
    return;
  g_warning ("session %s: connection file %s names %s, %s; ignored", s->id, path, at, why);
  g_free (s->refused_at);
  s->refused_at = g_steal_pointer (&at);
}

/* The job writes host and port to its connection file once it holds a port. */
static gboolean
read_connection (MnControllerManager *self, MnSession *s)
{
  g_autofree gchar *dir = mn_controller_manager_session_dir (self, s->id);
  g_autofree gchar *path = g_build_filename (dir, "connection", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *host = NULL;
  gint port;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  host = g_key_file_get_string (kf, "connection", "host", NULL);
  port = g_key_file_get_integer (kf, "connection", "port", NULL);
  if (host == NULL || port < (gint) self->config->port_min ||
      port > (gint) self->config->port_max)
    {
      refuse_connection (s, path, host, port, "outside the port range");
      return FALSE;
    }
  if (!host_allowed (self, s, host))
    {
      const gchar *node = job_node (self, s);
      NodeAddrs *n = node ? g_hash_table_lookup (self->node_addrs, node) : NULL;
      g_autofree gchar *why = NULL;
      if (g_str_equal (self->config->job_host, "node") && (node == NULL || n == NULL || n->pending))
        return FALSE;   /* asked again once the scheduler names the node and it is resolved */
      if (g_str_equal (self->config->job_host, "node"))
        why = g_strdup_printf ("not an address of node %s", node);
      else
        why = g_strdup_printf ("not job_host %s", self->config->job_host);
      refuse_connection (s, path, host, port, why);
      return FALSE;
    }
  if (g_strcmp0 (s->host, host) != 0 || s->port != (guint) port)
    {
      g_autofree gchar *ev = g_strdup_printf ("job listens on %s:%d; waiting for the app", host, port);
      g_free (s->host);
      s->host = g_steal_pointer (&host);
      s->port = (guint) port;
      set_reason (s, "waiting for the app to answer");
      save (self, s, ev);
    }
  return TRUE;
}

static void
handle_starting (MnControllerManager *self, MnSession *s, const MnJobStatus *st, gint64 now)
{
  const MnApp *app;
  gint64 *since;

  s->sched_pending = st->state == MN_JOB_PENDING;
  s->sched_estimate = s->sched_pending ? st->estimated_start : 0;
  if (st->state == MN_JOB_PENDING)
    {
      /* jobs from outside minna can fill the scheduler's queue although the
       * policy admitted this one; Slurm says why ("None" just after sbatch) */
      const gchar *why = st->message;
      g_autofree gchar *reason = NULL;
      if (why == NULL || why[0] == '\0' || g_str_equal (why, "None"))
        return;
      reason = g_strdup_printf ("waiting in the scheduler's queue (%s)", why);
      if (g_strcmp0 (s->reason, reason) != 0)
        {
          set_reason (s, reason);
          save (self, s, reason);
        }
      return;
    }
  if (st->node != NULL && g_strcmp0 (s->exec_node, st->node) != 0)
    {
      g_free (s->exec_node);
      s->exec_node = g_strdup (st->node);
    }
  if (st->state == MN_JOB_DONE)
    {
      g_autofree gchar *tail = output_tail (self, s);
      g_autofree gchar *why = g_strdup_printf ("the app ended before it answered (%s); its last"
                                               " output:\n%s",
                                               st->message ? st->message : "ended", tail);
      finish (self, s, MN_SESSION_FAILED, why);
      return;
    }
  since = g_hash_table_lookup (self->running_since, s->id);
  if (since == NULL)
    {
      since = g_new (gint64, 1);
      *since = now;
      g_hash_table_insert (self->running_since, g_strdup (s->id), since);
    }
  if (now - *since > self->config->ready_timeout)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *tail = output_tail (self, s);
      g_autofree gchar *why = g_strdup_printf ("the app did not answer within %" G_GINT64_FORMAT
                                               " s, so it was cancelled; its last output:\n%s",
                                               self->config->ready_timeout, tail);
      cancel_job (self, s->id, s->job_id);
      finish (self, s, MN_SESSION_FAILED, why);
      return;
    }
  if (g_hash_table_contains (self->busy, s->id))
    return;
  if (s->host != NULL && s->port != 0 && g_strcmp0 (s->reason, "waiting for the app to answer") != 0
      && g_str_has_prefix (s->reason ? s->reason : "", "the relay"))
    {
      register_route (self, s);   /* app answered before; the relay did not */
      return;
    }
  if (!read_connection (self, s))
    return;
  app = mn_controller_manager_find_app (self, s->app);
  {
    g_autofree gchar *url = g_strdup_printf ("http://%s:%u/s/%s/%s", s->host, s->port, s->id,
                                             app ? app->readiness_path : "");
    g_hash_table_insert (self->busy, g_strdup (s->id), (gpointer) "probe");
    self->probe (s, url, on_probe, call_new (self, s->id), self->probe_data);
  }
}

static void
handle_status (MnControllerManager *self, MnSession *s, const MnJobStatus *st, gint64 now)
{
  if (st->state == MN_JOB_UNKNOWN)
    {
      if (s->state != MN_SESSION_UNKNOWN)
        {
          g_autofree gchar *why = g_strdup_printf ("the scheduler cannot say how the job is (%s);"
                                                   " asking again", st->message ? st->message : "no answer");
          s->prev_state = s->state;
          s->state = MN_SESSION_UNKNOWN;
          set_reason (s, why);
          save (self, s, why);
        }
      return;
    }
  if (s->state == MN_SESSION_UNKNOWN)
    {
      s->state = s->prev_state;
      set_reason (s, NULL);
      if (!save (self, s, "the scheduler answers again"))
        return;
    }
  switch (s->state)
    {
    case MN_SESSION_STARTING:
      handle_starting (self, s, st, now);
      break;
    case MN_SESSION_RUNNING:
      if (st->state == MN_JOB_DONE && s->walltime > 0 && now >= s->submitted + s->walltime &&
          (st->message == NULL || strstr (st->message, "walltime") == NULL))
        {
          /* the scheduler's words ("TIMEOUT", "killed by signal 9") do
           * not tell the user it was the hours they asked for */
          g_autofree gchar *why = g_strdup_printf ("walltime of %.4g h reached (the scheduler: %s)",
                                                   s->walltime / 3600.0,
                                                   st->message ? st->message : "ended");
          finish (self, s, MN_SESSION_ENDED, why);
        }
      else if (st->state == MN_JOB_DONE)
        finish (self, s, MN_SESSION_ENDED, st->message ? st->message : "the job ended");
      else if (s->idle_warned == 0 && s->reason == NULL && now > s->submitted + s->walltime)
        set_reason (s, "walltime reached; stopping");
      break;
    case MN_SESSION_ENDING:
      if (st->state == MN_JOB_DONE)
        finish (self, s, MN_SESSION_ENDED, s->reason ? s->reason : "stopped");
      else if (now - s->stop_requested > self->config->kill_grace + 5)
        cancel_job (self, s->id, s->job_id);  /* repeat: a cancel lost in a restart
                                                * must not leave the job running */
      break;
    default:
      break;
    }
}

/* ---- idle culling: the relay knows when a route last carried traffic ---- */

static gint64
idle_warning (gint64 timeout)
{
  return CLAMP (timeout / 10, 1, 300);
}

static void
on_routes_listed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  CallData *c = data;
  MnControllerManager *self = c->self;
  gint64 now = mn_controller_manager_now (self);
  gint64 timeout = mn_policy_state_get_config (self->policy)->idle_timeout;
  JsonArray *routes = NULL;

  self->listing_routes = FALSE;
  if (!ok || body == NULL || !JSON_NODE_HOLDS_OBJECT (body) || timeout <= 0)
    {
      if (!ok)
        g_message ("idle check: relay routes: %s", message);
      call_free (c);
      return;
    }
  routes = json_object_get_array_member (json_node_get_object (body), "routes");
  for (guint i = 0; routes != NULL && i < json_array_get_length (routes); i++)
    {
      JsonObject *r = json_array_get_object_element (routes, i);
      const gchar *id = r ? json_object_get_string_member_with_default (r, "id", "") : "";
      MnSession *s = g_hash_table_lookup (self->live, id);
      gint64 idle;
      if (s == NULL || s->state != MN_SESSION_RUNNING || !json_object_has_member (r, "last_activity"))
        continue;
      idle = now - json_object_get_int_member (r, "last_activity");
      if (idle >= timeout)
        {
          g_autofree gchar *why = g_strdup_printf ("ended after %" G_GINT64_FORMAT " s without use"
                                                   " (idle timeout %" G_GINT64_FORMAT " s)", idle, timeout);
          mn_controller_manager_stop (self, s->id, why, NULL);
        }
      else if (idle >= timeout - idle_warning (timeout) && s->idle_warned == 0)
        {
          g_autoptr(GDateTime) at = g_date_time_new_from_unix_utc (now + timeout - idle);
          g_autofree gchar *when = g_date_time_format (at, "%H:%M:%S UTC");
          g_autofree gchar *why = g_strdup_printf ("idle for %" G_GINT64_FORMAT " s: it will be ended"
                                                   " at %s unless it is used", idle, when);
          s->idle_warned = now;
          set_reason (s, why);
          save (self, s, why);
        }
      else if (idle < timeout - idle_warning (timeout) && s->idle_warned != 0)
        {
          s->idle_warned = 0;
          set_reason (s, NULL);
          save (self, s, "in use again");
        }
    }
  call_free (c);
}

static void
check_idle (MnControllerManager *self, gint64 now)
{
  gint64 timeout = mn_policy_state_get_config (self->policy)->idle_timeout;
  if (timeout <= 0 || !mn_controller_relay_enabled (self->relay) || self->listing_routes ||
      now - self->last_idle_check < CLAMP (timeout / 10, 1, 30))
    return;
  self->last_idle_check = now;
  self->listing_routes = TRUE;
  mn_controller_relay_list_routes (self->relay, on_routes_listed, call_new (self, "(idle check)"));
}

/* Hands each polled session its job's status.  @asked: session id ->
 * the job id that was polled (a session submitted while the poll ran is
 * left for the next one); @statuses NULL: the poll failed with @error. */
static void
apply_statuses (MnControllerManager *self, GHashTable *asked, GHashTable *statuses,
                const GError *error)
{
  gint64 now = mn_controller_manager_now (self);
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, asked);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      MnSession *s = g_hash_table_lookup (self->live, key);
      const gchar *job_id = value;
      MnJobStatus unknown = { MN_JOB_UNKNOWN, -1, error ? error->message : (gchar *) "no answer", 0, NULL };
      const MnJobStatus *st;
      if (s == NULL)
        continue;
      if (s->job_id == NULL)
        {
          /* admitted but never submitted (killed in between): submit now */
          if (s->state == MN_SESSION_STARTING && !g_hash_table_contains (self->busy, s->id))
            start_job (self, s);
          continue;
        }
      if (job_id[0] == '\0' || g_strcmp0 (s->job_id, job_id) != 0)
        continue;
      st = statuses ? g_hash_table_lookup (statuses, s->job_id) : NULL;
      handle_status (self, s, st ? st : &unknown, now);
    }
}

typedef struct {
  MnControllerManager *self;
  GHashTable *asked;     /* session id -> job id ("" none) */
  GStrv       job_ids;
  gint64      now;
  GHashTable *statuses;
  GError     *error;
} PollCall;

static void
poll_call_free (PollCall *c)
{
  c->self->polling = FALSE;
  mn_controller_manager_unref (c->self);
  g_hash_table_unref (c->asked);
  g_strfreev (c->job_ids);
  g_clear_pointer (&c->statuses, g_hash_table_unref);
  g_clear_error (&c->error);
  g_free (c);
}

static void
poll_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  PollCall *c = data;
  c->statuses = mn_backend_poll (c->self->backend, (const gchar *const *) c->job_ids, c->now,
                                 &c->error);
  g_task_return_boolean (task, TRUE);
}

static void
poll_done (GObject *source, GAsyncResult *result, gpointer data)
{
  PollCall *c = g_task_get_task_data (G_TASK (result));
  if (c->statuses == NULL)
    c->self->counters.poll_errors++;
  apply_statuses (c->self, c->asked, c->statuses, c->error);
}

void
mn_controller_manager_tick (MnControllerManager *self)
{
  g_autoptr(GHashTable) asked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) statuses = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = mn_controller_manager_now (self);
  GHashTableIter it;
  gpointer v;

  self->ticks++;
  check_idle (self, now);
  if (self->polling)
    return;   /* the last poll still waits on the scheduler */
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MnSession *s = v;
      if (s->job_id != NULL && s->state != MN_SESSION_QUEUED)
        {
          g_ptr_array_add (ids, g_strdup (s->job_id));
          g_hash_table_replace (asked, g_strdup (s->id), g_strdup (s->job_id));
        }
      else if (s->state == MN_SESSION_STARTING && s->job_id == NULL)
        g_hash_table_replace (asked, g_strdup (s->id), g_strdup (""));
    }
  if (g_hash_table_size (asked) == 0)
    return;
  g_ptr_array_add (ids, NULL);
  self->counters.polls++;
  if (ids->len > 1 && self->backend->klass->commands_block)
    {
      PollCall *c = g_new0 (PollCall, 1);
      g_autoptr(GTask) task = g_task_new (NULL, NULL, poll_done, NULL);
      c->self = mn_controller_manager_ref (self);
      c->asked = g_steal_pointer (&asked);
      c->job_ids = (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
      c->now = now;
      self->polling = TRUE;
      g_task_set_task_data (task, c, (GDestroyNotify) poll_call_free);
      g_task_run_in_thread (task, poll_thread);
      return;
    }
  if (ids->len > 1)
    {
      statuses = mn_backend_poll (self->backend, (const gchar *const *) ids->pdata, now, &error);
      if (statuses == NULL)
        self->counters.poll_errors++;
    }
  apply_statuses (self, asked, statuses, error);
}

static gboolean
timer_cb (gpointer data)
{
  mn_controller_manager_tick (data);
  return G_SOURCE_CONTINUE;
}

void
mn_controller_manager_start (MnControllerManager *self)
{
  if (self->timer == 0)
    self->timer = g_timeout_add (self->config->poll_interval_ms, timer_cb, self);
}

static gint
by_num (gconstpointer a, gconstpointer b)
{
  const MnSession *x = *(MnSession *const *) a, *y = *(MnSession *const *) b;
  return x->num < y->num ? -1 : x->num > y->num;
}

/* ---- recovery, policy ------------------------------------------------------ */

static void
refill_policy (MnControllerManager *self, GPtrArray *sessions, gboolean start_admitted)
{
  gint64 now = mn_controller_manager_now (self);
  /* running jobs first, so that queued ones see the real occupancy */
  for (guint i = 0; i < sessions->len; i++)
    {
      MnSession *s = g_ptr_array_index (sessions, i);
      MnPolicyRequest r;
      g_autoptr(GError) error = NULL;
      if (!is_interactive (s) || s->node < 0 || s->state == MN_SESSION_QUEUED)
        continue;
      fill_request (s, &r);
      if (!mn_policy_state_adopt (self->policy, &r, (guint) s->node, (guint) s->logical,
                                  s->submitted ? s->submitted : s->created, &error))
        g_warning ("session %s: cannot put back on node %d/%d: %s", s->id, s->node,
                   s->logical, error ? error->message : "out of bounds");
    }
  for (guint i = 0; i < sessions->len; i++)
    {
      MnSession *s = g_ptr_array_index (sessions, i);
      MnPolicyRequest r;
      MnDecision d = { 0 };
      if (!is_interactive (s) || s->state != MN_SESSION_QUEUED)
        continue;
      fill_request (s, &r);
      r.if_busy = MN_IF_BUSY_WAIT;
      mn_policy_state_request (self->policy, &r, now, &d);
      if (d.kind == MN_DECISION_START && start_admitted)
        {
          g_autofree gchar *ev = g_strdup_printf ("admitted on node %u, logical node %u",
                                                  d.node, d.logical);
          s->node = (gint) d.node;
          s->logical = (gint) d.logical;
          s->state = MN_SESSION_STARTING;
          set_reason (s, NULL);
          if (save (self, s, ev))
            start_job (self, s);
        }
      else if (d.kind == MN_DECISION_REJECT)
        finish (self, s, MN_SESSION_FAILED, d.message);
      mn_decision_clear (&d);
    }
}

static void
on_route_refreshed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  g_autofree gchar *id = data;
  if (!ok)
    g_message ("session %s: relay did not take the route again: %s", id, message);
}

gboolean
mn_controller_manager_recover (MnControllerManager *self, GError **error)
{
  g_autoptr(GPtrArray) live = mn_controller_store_list (self->store, NULL, TRUE, error);
  g_autoptr(GPtrArray) tracked = g_ptr_array_new ();
  if (live == NULL)
    return FALSE;
  for (guint i = 0; i < live->len; i++)
    {
      MnSession *s = g_ptr_array_steal_index (live, i--);
      track (self, s);
      g_ptr_array_add (tracked, s);
    }
  refill_policy (self, tracked, TRUE);
  for (guint i = 0; i < tracked->len; i++)
    {
      MnSession *s = g_ptr_array_index (tracked, i);
      if (!g_hash_table_contains (self->live, s->id))
        continue;
      if (s->state == MN_SESSION_RUNNING && s->host != NULL)
        {
          gint64 expires = (s->submitted ? s->submitted : s->created) + s->walltime;
          g_autofree gchar *upstream = g_strdup_printf ("http://%s:%u", s->host, s->port);
          mn_controller_relay_put_route (self->relay, s->id, upstream, s->user, s->token,
                                         expires, on_route_refreshed, g_strdup (s->id));
        }
    }
  g_message ("recovered %u live sessions", tracked->len);
  return TRUE;
}

void
mn_controller_manager_set_policy (MnControllerManager *self, const MnPolicyConfig *policy)
{
  g_autoptr(GPtrArray) sessions = g_ptr_array_new ();
  GHashTableIter it;
  gpointer v;
  mn_policy_state_free (self->policy);
  self->policy = mn_policy_state_new (policy);
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_add (sessions, v);
  g_ptr_array_sort (sessions, by_num);   /* keep the FIFO order */
  refill_policy (self, sessions, TRUE);
}

/* ---- queries ---------------------------------------------------------------- */

MnSession *
mn_controller_manager_get (MnControllerManager *self, const gchar *id, GError **error)
{
  MnSession *s = g_hash_table_lookup (self->live, id);
  if (s != NULL)
    return mn_session_copy (s);
  return mn_controller_store_get (self->store, id, error);
}

GPtrArray *
mn_controller_manager_list_live (MnControllerManager *self, const gchar *user)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_session_free);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (user == NULL || g_strcmp0 (((MnSession *) v)->user, user) == 0)
      g_ptr_array_add (out, mn_session_copy (v));
  g_ptr_array_sort (out, by_num);
  return out;
}

gint64
mn_controller_manager_estimate_start (MnControllerManager *self, const MnSession *session,
                                      const MnLaunchRequest *request, const gchar *user)
{
  gint64 now = mn_controller_manager_now (self);
  MnPolicyRequest r = { 0 };
  if (session != NULL)
    return mn_policy_state_estimate_start (self->policy, (guint64) session->num, NULL, now);
  r.job_id = 0;
  r.user = user;
  r.cores = request->cores;
  r.memory_mb = request->memory_mb;
  r.gpus = request->gpus;
  r.walltime = request->walltime;
  r.if_busy = MN_IF_BUSY_WAIT;
  return mn_policy_state_estimate_start (self->policy, 0, &r, now);
}

gint64
mn_controller_manager_session_estimate (MnControllerManager *self, const MnSession *session,
                                        const gchar **source)
{
  MnSessionState shown = session->state == MN_SESSION_UNKNOWN ? session->prev_state
                                                               : session->state;
  *source = NULL;
  if (shown == MN_SESSION_STARTING && session->sched_pending && session->sched_estimate > 0)
    {
      *source = "scheduler";
      return session->sched_estimate;
    }
  if (shown == MN_SESSION_QUEUED)
    {
      gint64 est = mn_controller_manager_estimate_start (self, session, NULL, NULL);
      if (est != G_MAXINT64)
        *source = "policy";
      return est;
    }
  return G_MAXINT64;
}
