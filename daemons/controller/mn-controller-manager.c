/* mn-controller-manager.c: the manager object: construction, clock, the
 * table of live sessions, saving a change, timers, queries.  The session
 * state machine lives in the other mn-controller-*.c files named in
 * mn-controller-manager-private.h. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

#include <openssl/rand.h>
#include <signal.h>

static void worker (gpointer item, gpointer pool_data);

static MnControllerConfig *
copy_config (const MnControllerConfig *c)
{
  MnControllerConfig *n = mn_controller_config_new_default ();
  g_free (n->state_dir);
  n->state_dir = g_strdup (c->state_dir);
  g_free (n->sessions_dir);
  n->sessions_dir = g_strdup (c->sessions_dir);
  g_free (n->run_as);
  n->run_as = g_strdup (c->run_as);
  g_free (n->job_host);
  n->job_host = g_strdup (c->job_host);
  g_free (n->port_lock_dir);
  n->port_lock_dir = g_strdup (c->port_lock_dir);
  g_free (n->launcher);
  n->launcher = g_strdup (c->launcher);
  g_free (n->batch);
  n->batch = g_strdup (c->batch);
  g_free (n->host_fit);
  n->host_fit = g_strdup (c->host_fit);
  g_free (n->policy_file);
  n->policy_file = g_strdup (c->policy_file);
  n->port_min = c->port_min;
  n->port_max = c->port_max;
  n->port_locks_per_user = c->port_locks_per_user;
  n->ready_timeout = c->ready_timeout;
  n->kill_grace = c->kill_grace;
  n->poll_interval_ms = c->poll_interval_ms;
  g_free (n->backend);
  n->backend = g_strdup (c->backend);
  n->max_starting = c->max_starting;
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
  if (mn_controller_port_refuses (session->host, session->port))
    return done (FALSE, "connection refused", NULL, done_data);
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
                                            (GDestroyNotify) mn_manager_node_addrs_free);
  self->idle = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) mn_manager_idle_state_free);
  self->stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) mn_session_free);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) mn_manager_pending_free);
  self->unsaved_jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->cancel_on_finish = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->log = mn_log_limit_new (G_LOG_DOMAIN, 60);
  self->reconcile = g_ptr_array_new_with_free_func (g_free);
  self->unavailable = g_ptr_array_new_with_free_func (g_free);
  /* enough for a lecture's submissions to overlap their waits on the
   * kernel (cgroups, exec) and the scheduler's commands; more took CPU from
   * the main loop (the same process, the same cgroup's share) and the
   * launch benchmark's p50 grew */
  self->workers = g_thread_pool_new (worker, NULL, 4, FALSE, NULL);
  self->poller = g_thread_pool_new (worker, NULL, 1, FALSE, NULL);
  self->context = g_main_context_ref_thread_default ();
  self->clock = real_clock;
  self->probe = default_probe;
  self->probe_data = self;
  mn_manager_commit_init (self);
  mn_manager_starts_init (self);
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
  mn_manager_commit_clear (self);
  mn_manager_starts_clear (self);
  g_hash_table_destroy (self->by_num);
  g_hash_table_destroy (self->live);
  g_hash_table_destroy (self->busy);
  g_hash_table_destroy (self->running_since);
  g_hash_table_destroy (self->cancelling);
  g_hash_table_destroy (self->node_addrs);
  g_hash_table_destroy (self->idle);
  g_hash_table_destroy (self->stored);
  g_hash_table_destroy (self->pending);
  g_hash_table_destroy (self->unsaved_jobs);
  g_hash_table_destroy (self->cancel_on_finish);
  mn_log_limit_free (self->log);
  g_free (self->store_error);
  g_ptr_array_unref (self->reconcile);
  g_ptr_array_unref (self->unavailable);
  /* every item holds a reference: none is queued or running by now */
  g_thread_pool_free (self->workers, FALSE, TRUE);
  g_thread_pool_free (self->poller, FALSE, TRUE);
  g_main_context_unref (self->context);
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

void
mn_controller_manager_set_route_lister (MnControllerManager *self, MnRouteListFunc list,
                                        gpointer data)
{
  self->list_routes = list;
  self->list_routes_data = data;
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

void
mn_controller_manager_set_apps (MnControllerManager *self, GPtrArray *apps)
{
  g_ptr_array_unref (self->apps);
  self->apps = apps;
}

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
  g_autofree gchar *dir = mn_controller_config_sessions_dir (self->config);
  return g_build_filename (dir, id, NULL);
}

/* ---- helpers --------------------------------------------------------- */

void
mn_manager_track (MnControllerManager *self, MnSession *s)
{
  g_hash_table_replace (self->live, s->id, s);
  g_hash_table_replace (self->by_num, &s->num, s);
  g_hash_table_replace (self->stored, g_strdup (s->id), mn_session_copy (s));
}

void
mn_manager_untrack (MnControllerManager *self, MnSession *s)
{
  g_hash_table_remove (self->by_num, &s->num);
  g_hash_table_remove (self->running_since, s->id);
  g_hash_table_remove (self->idle, s->id);
  g_hash_table_remove (self->stored, s->id);
  g_hash_table_remove (self->batch, s->id);
  g_hash_table_remove (self->unborn, s->id);
  g_hash_table_remove (self->pending, s->id);
  mn_manager_starts_forget (self, s->id);
  g_hash_table_remove (self->live, s->id);   /* frees s */
  mn_manager_start_next (self);   /* it may have held a start slot */
}

gboolean
mn_manager_save_or_error (MnControllerManager *self, MnSession *s, const gchar *event,
                          GError **error)
{
  g_autoptr(GError) local = NULL;
  if (mn_controller_store_update (self->store, s, mn_controller_manager_now (self), event, &local))
    {
      g_hash_table_replace (self->stored, g_strdup (s->id), mn_session_copy (s));
      if (self->store_error != NULL)
        {
          mn_log_limit_clear (self->log, "store", "the database takes changes again");
          g_clear_pointer (&self->store_error, g_free);
        }
      return TRUE;
    }
  mn_manager_save_refused (self, s, event, local);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

void
mn_manager_save_refused (MnControllerManager *self, MnSession *s, const gchar *event,
                         const GError *error)
{
  const MnSession *written;
  self->store_refusals++;
  self->store_error_at = mn_controller_manager_now (self);
  g_free (self->store_error);
  self->store_error = g_strdup (error->message);
  /* before the restore: @event may be s->reason */
  mn_log_limit_log (self->log, G_LOG_LEVEL_WARNING, "store",
                    "session %s: change refused, not carried out (%s): %s", s->id,
                    event ? event : "", error->message);
  /* nothing changes in memory either: what the API shows is what is
   * stored (or waits in the batch for its commit) */
  written = mn_manager_last_written (self, s->id);
  if (written != NULL)
    mn_session_restore (s, written);
}

gboolean
mn_manager_save (MnControllerManager *self, MnSession *s, const gchar *event)
{
  return mn_manager_save_or_error (self, s, event, NULL);
}

void
mn_manager_fault_point (const gchar *name)
{
  static const gchar *point = NULL;
  static gboolean stop = FALSE;
  static gint fired = 0;
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      point = g_getenv ("MINNA_FAULT_POINT");
      stop = g_strcmp0 (g_getenv ("MINNA_FAULT_ACTION"), "stop") == 0;
      g_once_init_leave (&once, 1);
    }
  if (point == NULL || !g_str_equal (point, name))
    return;
  if (!stop)
    {
      g_printerr ("minna-controller: MINNA_FAULT_POINT=%s reached: killing itself\n", name);
      raise (SIGKILL);
    }
  /* stop: once, so that the test changes the world (fills the disk) and
   * lets it go on with SIGCONT */
  if (g_atomic_int_compare_and_exchange (&fired, 0, 1))
    {
      g_printerr ("minna-controller: MINNA_FAULT_POINT=%s reached: stopping itself\n", name);
      raise (SIGSTOP);
    }
}

void
mn_manager_set_reason (MnSession *s, const gchar *reason)
{
  gchar *old = s->reason;   /* @reason may be s->reason itself */
  s->reason = g_strdup (reason);
  g_free (old);
}

gchar *
mn_manager_random_hex (gsize bytes)
{
  g_autofree guint8 *buf = g_malloc (bytes);
  GString *out = g_string_sized_new (bytes * 2);
  if (RAND_bytes (buf, (int) bytes) != 1)
    g_error ("OpenSSL RAND_bytes failed: no entropy");
  for (gsize i = 0; i < bytes; i++)
    g_string_append_printf (out, "%02x", buf[i]);
  return g_string_free (out, FALSE);
}

CallData *
mn_manager_call_new (MnControllerManager *self, const gchar *id)
{
  CallData *c = g_new0 (CallData, 1);
  c->self = mn_controller_manager_ref (self);
  c->id = g_strdup (id);
  return c;
}

void
mn_manager_call_free (CallData *c)
{
  g_hash_table_remove (c->self->busy, c->id);
  mn_controller_manager_unref (c->self);
  g_free (c->id);
  g_free (c);
}

/* ---- the policy against the backend's host ------------------------------------ */

gboolean
mn_controller_manager_check_host (MnControllerManager *self, const MnPolicyConfig *policy,
                                  GError **error)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  const gchar *file = self->config->policy_file[0] ? self->config->policy_file
                                                    : "the built-in policy";
  if (policy == NULL)
    policy = mn_policy_state_get_config (self->policy);
  if (mn_backend_check_policy (self->backend, policy, problems))
    return TRUE;
  if (g_strcmp0 (self->config->host_fit, "refuse") == 0)
    {
      g_autoptr(GString) all = g_string_new (NULL);
      for (guint i = 0; i < problems->len; i++)
        g_string_append_printf (all, "\n  %s", (const gchar *) g_ptr_array_index (problems, i));
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "%s does not fit the %s backend's host ([backend] host_fit = refuse):%s",
                   file, self->backend->klass->name, all->str);
      return FALSE;
    }
  for (guint i = 0; i < problems->len; i++)
    g_warning ("%s: %s", file, (const gchar *) g_ptr_array_index (problems, i));
  g_warning ("%s: jobs run anyway ([backend] host_fit = warn): every node of the policy is"
             " this host and a logical node's cores fold onto its CPUs, so it may hold more"
             " jobs than it can serve", file);
  return TRUE;
}

/* ---- worker threads ----------------------------------------------------------- */

typedef struct {
  MnControllerManager *self;
  MnWorkFunc     work, done;
  gpointer       data;
  GDestroyNotify free_func;
} WorkItem;

static gboolean
work_done (gpointer data)
{
  WorkItem *w = data;
  if (w->done != NULL)
    w->done (w->data);
  if (w->free_func != NULL)
    w->free_func (w->data);
  mn_controller_manager_unref (w->self);
  g_free (w);
  return G_SOURCE_REMOVE;
}

static void
worker (gpointer item, gpointer pool_data)
{
  WorkItem *w = item;
  g_autoptr(GSource) idle = g_idle_source_new ();
  w->work (w->data);
  /* Not g_main_context_invoke: when no thread iterates the context at that
   * moment (the start's recovery submits before the main loop runs; tests
   * iterate between sleeps) it acquires the context and runs @done here, in
   * this worker, beside the main thread's use of the sessions and the store. */
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, work_done, w, NULL);
  g_source_attach (idle, w->self->context);
}

static void
push_work (MnControllerManager *self, GThreadPool *pool, MnWorkFunc work, MnWorkFunc done,
           gpointer data, GDestroyNotify free_func)
{
  WorkItem *w = g_new0 (WorkItem, 1);
  w->self = mn_controller_manager_ref (self);
  w->work = work;
  w->done = done;
  w->data = data;
  w->free_func = free_func;
  g_thread_pool_push (pool, w, NULL);
}

void
mn_manager_run_in_worker (MnControllerManager *self, MnWorkFunc work, MnWorkFunc done,
                          gpointer data, GDestroyNotify free_func)
{
  push_work (self, self->workers, work, done, data, free_func);
}

void
mn_manager_run_poll (MnControllerManager *self, MnWorkFunc work, MnWorkFunc done,
                     gpointer data, GDestroyNotify free_func)
{
  push_work (self, self->poller, work, done, data, free_func);
}

/* ---- timers ----------------------------------------------------------------- */

static gboolean
kick_cb (gpointer data)
{
  MnControllerManager *self = data;
  self->kick = 0;
  mn_controller_manager_tick (self);
  return G_SOURCE_REMOVE;
}

void
mn_manager_kick (MnControllerManager *self)
{
  if (self->kick == 0 && self->timer != 0)
    self->kick = g_timeout_add (50, kick_cb, self);
}

static gboolean
timer_cb (gpointer data)
{
  mn_manager_retry_pending (data);
  mn_controller_manager_tick (data);
  return G_SOURCE_CONTINUE;
}

void
mn_controller_manager_start (MnControllerManager *self)
{
  if (self->timer == 0)
    self->timer = g_timeout_add (self->config->poll_interval_ms, timer_cb, self);
}

gint
mn_manager_by_num (gconstpointer a, gconstpointer b)
{
  const MnSession *x = *(MnSession *const *) a, *y = *(MnSession *const *) b;
  return x->num < y->num ? -1 : x->num > y->num;
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
  g_ptr_array_sort (out, mn_manager_by_num);
  return out;
}

