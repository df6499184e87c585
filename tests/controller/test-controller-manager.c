/* Session state machine on a fake backend, a fake clock, a fake prober and
 * a fake relay's route listing: every transition, including unknown and the
 * failures. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mn-controller-manager.h"

/* ---- fake backend ---------------------------------------------------------- */

typedef struct {
  MnBackend   parent;
  GHashTable *jobs;        /* job id -> MnJobStatus* */
  gboolean    fail_submit;
  guint       unreachable_submits;  /* this many submits find no scheduler */
  gboolean    fail_poll;
  guint       submits;
  guint       cancels;
  gboolean    cancel_ends; /* cancel makes the job DONE at once */
  gboolean    last_give_up;
  /* commands_block: poll waits for the test to open the gate */
  GMutex      lock;
  GCond       cond;
  gboolean    gated;
  guint       polls;
  guint       polls_returned;
  /* submit_in_thread: submissions wait for the test to open this gate */
  gboolean    submit_gated;
  guint       submits_waiting;  /* in fake_submit, behind the gate */
  /* node_states (the "nodes" class): each node's state (the fixture's, so
   * that it outlives a restart), NULL says nothing; "idle" or anything
   * else = unavailable */
  const gchar *const *node_state;
  gboolean    fail_nodes;
  guint       node_asks;
} FakeBackend;

static gchar *
fake_submit (MnBackend *b, const MnJobSpec *spec, gint64 now, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  MnJobStatus *st;
  g_autoptr(GMutexLocker) locked = g_mutex_locker_new (&f->lock);
  f->submits_waiting++;
  g_cond_broadcast (&f->cond);
  while (f->submit_gated)
    g_cond_wait (&f->cond, &f->lock);
  f->submits_waiting--;
  f->submits++;
  f->last_give_up = spec->give_up;
  if (f->unreachable_submits > 0)
    {
      f->unreachable_submits--;
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE,
                   "sbatch: no answer within 15 s (is slurmctld up?)");
      return NULL;
    }
  if (f->fail_submit)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND, "queue is closed");
      return NULL;
    }
  st = g_new0 (MnJobStatus, 1);
  st->state = MN_JOB_PENDING;
  g_hash_table_replace (f->jobs, g_strdup_printf ("job-%s", spec->session_id), st);
  return g_strdup_printf ("job-%s", spec->session_id);
}

static gboolean
fake_cancel (MnBackend *b, const gchar *id, gint64 now, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  MnJobStatus *st;
  g_mutex_lock (&f->lock);
  st = g_hash_table_lookup (f->jobs, id);
  f->cancels++;
  if (st && f->cancel_ends)
    {
      st->state = MN_JOB_DONE;
      g_free (st->message);
      st->message = g_strdup ("cancelled");
    }
  g_mutex_unlock (&f->lock);
  return TRUE;
}

static GHashTable *
fake_poll (MnBackend *b, const gchar *const *ids, gint64 now, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  GHashTable *out;
  g_mutex_lock (&f->lock);
  f->polls++;
  g_cond_broadcast (&f->cond);
  while (f->gated)
    g_cond_wait (&f->cond, &f->lock);
  if (f->fail_poll)
    {
      g_mutex_unlock (&f->lock);
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND, "squeue timed out");
      return NULL;
    }
  out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) mn_job_status_free);
  for (gsize i = 0; ids[i]; i++)
    {
      MnJobStatus *st = g_hash_table_lookup (f->jobs, ids[i]);
      MnJobStatus *copy = g_new0 (MnJobStatus, 1);
      copy->state = st ? st->state : MN_JOB_UNKNOWN;
      copy->exit_code = st ? st->exit_code : -1;
      copy->message = g_strdup (st ? st->message : "no such job");
      copy->estimated_start = st ? st->estimated_start : 0;
      copy->node = g_strdup (st ? st->node : NULL);
      copy->started = st ? st->started : 0;
      copy->end = st ? st->end : MN_END_NONE;
      g_hash_table_replace (out, g_strdup (ids[i]), copy);
    }
  f->polls_returned++;
  g_cond_broadcast (&f->cond);
  g_mutex_unlock (&f->lock);
  return out;
}

static GPtrArray *
fake_node_states (MnBackend *b, guint n_nodes, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  GPtrArray *out;
  f->node_asks++;
  if (f->fail_nodes)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE, "sinfo timed out");
      return NULL;
    }
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_node_state_free);
  for (guint n = 0; n < n_nodes; n++)
    {
      MnNodeState *ns = NULL;
      if (n < 4 && f->node_state[n] != NULL)
        {
          ns = g_new0 (MnNodeState, 1);
          ns->name = g_strdup_printf ("n%u", n);
          ns->state = g_strdup (f->node_state[n]);
          ns->available = g_str_equal (ns->state, "idle");
        }
      g_ptr_array_add (out, ns);
    }
  return out;
}

static gchar *fake_describe (MnBackend *b) { return g_strdup ("fake"); }

static void
fake_free (MnBackend *b)
{
  g_hash_table_unref (((FakeBackend *) b)->jobs);
  g_free (b);
}

static const MnBackendClass fake_class = {
  .name = "fake",
  .submit = fake_submit,
  .cancel = fake_cancel,
  .poll = fake_poll,
  .describe = fake_describe,
  .free = fake_free,
};

/* Named like the local backend: what [backend] batch = auto refuses. */
static const MnBackendClass fake_local_class = {
  .name = "local",
  .submit = fake_submit,
  .cancel = fake_cancel,
  .poll = fake_poll,
  .describe = fake_describe,
  .free = fake_free,
};

/* A scheduler's commands: the manager polls and cancels in worker threads. */
static const MnBackendClass fake_blocking_class = {
  .name = "fake-blocking",
  .commands_block = TRUE,
  .submit = fake_submit,
  .cancel = fake_cancel,
  .poll = fake_poll,
  .describe = fake_describe,
  .free = fake_free,
};

/* A scheduler whose submissions block too (qsub -now y, sbatch): the
 * manager submits in its worker threads as well. */
static const MnBackendClass fake_scheduler_class = {
  .name = "fake-scheduler",
  .commands_block = TRUE,
  .submit_in_thread = TRUE,
  .submit = fake_submit,
  .cancel = fake_cancel,
  .poll = fake_poll,
  .describe = fake_describe,
  .free = fake_free,
};

static const MnBackendClass fake_nodes_class = {
  .name = "fake-nodes",
  .submit = fake_submit,
  .cancel = fake_cancel,
  .poll = fake_poll,
  .describe = fake_describe,
  .node_states = fake_node_states,
  .free = fake_free,
};

/* ---- fixture ----------------------------------------------------------------- */

typedef struct {
  gchar               *dir;
  MnControllerConfig  *config;
  MnPolicyConfig      *policy;
  MnControllerManager *manager;
  FakeBackend         *backend;
  gint64               now;
  gboolean             ready;    /* what the fake prober answers */
  guint                probes;
  gboolean             blocking; /* the backend's commands block (setup data) */
  gboolean             local;    /* the backend is named "local" (setup data) */
  gboolean             scheduler; /* commands and submissions block (setup data) */
  gboolean             nodes;     /* the backend reports node states; 2 nodes (setup data) */
  const gchar         *node_state[4];  /* what it reports (FakeBackend.node_state) */
  gchar               *kernels;  /* what the app answers on api/kernels (JSON), NULL: 404 */
  guint                kernel_asks;
  /* held: api/kernels asks wait in kernel_calls for the test to answer them
   * (answer_kernels), with kernels or, kernels_refused, no answer */
  gboolean             kernels_held;
  gboolean             kernels_refused;
  GQueue               kernel_calls;   /* HeldCall* */
  /* the fake relay (set_route_lister): its GET /routes wait in route_calls
   * for answer_routes, which lists route_id with traffic_last */
  GQueue               route_calls;    /* HeldCall* */
  gchar               *route_id;
  gint64               traffic_last;
  const gchar         *routes_json;    /* answer_routes answers this instead (NULL: route_id's) */
  gconstpointer        row;            /* the table row of a table-driven test */
  GThread             *probe_thread;  /* where the last readiness probe was asked from */
} Fixture;

typedef struct {
  MnHttpDone done;
  gpointer   done_data;
} HeldCall;

static void
hold_call (GQueue *q, MnHttpDone done, gpointer done_data)
{
  HeldCall *h = g_new (HeldCall, 1);
  h->done = done;
  h->done_data = done_data;
  g_queue_push_tail (q, h);
}

static gint64 fake_clock (gpointer data) { return ((Fixture *) data)->now; }

static void
fake_probe (const MnSession *s, const gchar *url, MnHttpDone done, gpointer done_data,
            gpointer data)
{
  Fixture *fx = data;
  if (g_str_has_suffix (url, "/api/kernels"))
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      fx->kernel_asks++;
      if (fx->kernels_held)
        hold_call (&fx->kernel_calls, done, done_data);
      else if (fx->kernels == NULL)
        done (FALSE, "HTTP 404 Not Found", NULL, done_data);
      else
        {
          g_assert_true (json_parser_load_from_data (p, fx->kernels, -1, NULL));
          done (TRUE, NULL, json_parser_get_root (p), done_data);
        }
      return;
    }
  g_atomic_pointer_set (&fx->probe_thread, g_thread_self ());
  fx->probes++;
  done (fx->ready, fx->ready ? NULL : "connection refused", NULL, done_data);
}

/* Answers the oldest held api/kernels ask with what the app says now. */
static void
answer_kernels (Fixture *fx)
{
  HeldCall *h = g_queue_pop_head (&fx->kernel_calls);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_assert_nonnull (h);
  if (fx->kernels_refused)
    h->done (FALSE, "connection refused", NULL, h->done_data);
  else if (fx->kernels == NULL)
    h->done (FALSE, "HTTP 404 Not Found", NULL, h->done_data);
  else
    {
      g_assert_true (json_parser_load_from_data (p, fx->kernels, -1, NULL));
      h->done (TRUE, NULL, json_parser_get_root (p), h->done_data);
    }
  g_free (h);
}

static void
fake_list_routes (MnHttpDone done, gpointer done_data, gpointer data)
{
  hold_call (&((Fixture *) data)->route_calls, done, done_data);
}

/* Answers the oldest held GET /routes as the relay does: the session's
 * route, its last request at traffic_last. */
static void
answer_routes (Fixture *fx)
{
  HeldCall *h = g_queue_pop_head (&fx->route_calls);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autofree gchar *json = g_strdup_printf ("{\"routes\":[{\"id\":\"%s\",\"upstream\":\"http://127.0.0.1:20040\","
                                            "\"owner\":\"alice\",\"expires\":0,\"last_activity\":%" G_GINT64_FORMAT "}]}",
                                            fx->route_id, fx->traffic_last);
  g_assert_nonnull (h);
  g_assert_true (json_parser_load_from_data (p, fx->routes_json ? fx->routes_json : json, -1, NULL));
  h->done (TRUE, NULL, json_parser_get_root (p), h->done_data);
  g_free (h);
}

static void
spin (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
make_manager (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *db = g_build_filename (fx->dir, "c.db", NULL);
  g_autofree gchar *appdir = g_build_filename (fx->dir, "apps", NULL);
  MnControllerStore *store = mn_controller_store_open (db, &error);
  GPtrArray *apps;
  g_assert_no_error (error);
  apps = mn_app_load_dir (appdir, &error);
  g_assert_no_error (error);
  fx->backend = g_new0 (FakeBackend, 1);
  fx->backend->parent.klass = fx->nodes ? &fake_nodes_class
                              : fx->blocking ? &fake_blocking_class
                              : fx->scheduler ? &fake_scheduler_class
                              : fx->local ? &fake_local_class : &fake_class;
  fx->backend->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) mn_job_status_free);
  fx->backend->cancel_ends = TRUE;
  fx->backend->node_state = fx->node_state;
  fx->manager = mn_controller_manager_new (fx->config, fx->policy, store, &fx->backend->parent,
                                           mn_controller_relay_new (NULL, NULL), apps);
  mn_controller_manager_set_clock (fx->manager, fake_clock, fx);
  mn_controller_manager_set_prober (fx->manager, fake_probe, fx);
  g_assert_true (mn_controller_manager_recover (fx->manager, &error));
  g_assert_no_error (error);
}

/* The controller restarted: a new manager on the same database, the fake
 * scheduler's jobs carried over. */
static void
restart_manager (Fixture *fx)
{
  g_autoptr(GHashTable) jobs = g_hash_table_ref (fx->backend->jobs);

  mn_controller_manager_unref (fx->manager);
  make_manager (fx);
  g_hash_table_unref (fx->backend->jobs);
  fx->backend->jobs = g_steal_pointer (&jobs);
}

static void
setup (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *appdir = NULL, *app = NULL;
  fx->blocking = g_strcmp0 (data, "blocking") == 0;
  fx->local = g_strcmp0 (data, "local") == 0 || g_strcmp0 (data, "start-slots") == 0;
  fx->scheduler = g_strcmp0 (data, "scheduler") == 0;
  fx->nodes = g_strcmp0 (data, "nodes") == 0;
  fx->dir = g_dir_make_tmp ("minna-ctl-XXXXXX", &error);
  g_assert_no_error (error);
  appdir = g_build_filename (fx->dir, "apps", NULL);
  g_mkdir (appdir, 0700);
  app = g_build_filename (appdir, "web.app", NULL);
  g_file_set_contents (app, "[app]\nname=Web\ncommand=exec true {port}\nreadiness_path=ok\n", -1, &error);
  g_assert_no_error (error);
  fx->config = mn_controller_config_new_default ();
  g_free (fx->config->state_dir);
  fx->config->state_dir = g_strdup (fx->dir);
  g_free (fx->config->sessions_dir);
  fx->config->sessions_dir = g_build_filename (fx->dir, "sessions", NULL);
  fx->config->ready_timeout = 60;
  fx->config->run_as = (g_free (fx->config->run_as), g_strdup ("controller"));
  if (g_strcmp0 (data, "job-host-node") == 0)
    fx->config->job_host = (g_free (fx->config->job_host), g_strdup ("node"));
  fx->policy = mn_policy_config_new_default ();
  fx->policy->nodes = 1;
  fx->policy->logical_per_node = 1;
  fx->policy->max_jobs_per_logical = fx->scheduler ? 8 : 2;
  if (fx->nodes)
    fx->policy->nodes = 2, fx->policy->max_jobs_per_logical = 1;
  if (g_str_has_suffix (data ? data : "", "-slots"))
    {
      /* start slots: the local backend's 2, a scheduler's none */
      fx->config->max_starting = g_str_equal (data, "start-slots") ? 2 : 1;
      fx->policy->max_jobs_per_logical = 8;
    }
  fx->now = 1700000000;
  fx->ready = TRUE;
  make_manager (fx);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", fx->dir);
  /* what a test left held is answered (each call holds the manager) */
  fx->kernels_held = FALSE;
  while (!g_queue_is_empty (&fx->kernel_calls))
    answer_kernels (fx);
  while (!g_queue_is_empty (&fx->route_calls))
    answer_routes (fx);
  spin ();
  mn_controller_manager_unref (fx->manager);
  mn_controller_config_free (fx->config);
  mn_policy_config_free (fx->policy);
  g_free (fx->kernels);
  g_free (fx->route_id);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (fx->dir);
}

static MnSession *
launch (Fixture *fx, const gchar *user, gboolean give_up, GError **error)
{
  MnLaunchRequest r = { "web", "interactive", 1, 1024, 0, 3600, give_up ? "give_up" : "wait" };
  MnRejectReason reason;
  return mn_controller_manager_launch (fx->manager, user, &r, &reason, error);
}

/* The session as the manager has it now (a copy). */
static MnSession *
session_now (Fixture *fx, const gchar *id)
{
  MnSession *s = mn_controller_manager_get (fx->manager, id, NULL);
  g_assert_nonnull (s);
  return s;
}

static MnSessionState
state_of (Fixture *fx, const gchar *id)
{
  g_autoptr(MnSession) s = session_now (fx, id);
  return s->state;
}

/* The policy node it was placed on (-1: none). */
static gint
node_of (Fixture *fx, const gchar *id)
{
  g_autoptr(MnSession) s = session_now (fx, id);
  return s->node;
}

static void
set_job (Fixture *fx, const gchar *id, MnJobState state, const gchar *message)
{
  g_autofree gchar *job = g_strdup_printf ("job-%s", id);
  MnJobStatus *st = g_hash_table_lookup (fx->backend->jobs, job);
  g_assert_nonnull (st);
  st->state = state;
  g_free (st->message);
  st->message = g_strdup (message);
}

static void
write_connection_host (Fixture *fx, const gchar *id, const gchar *host, guint port)
{
  g_autofree gchar *path = g_build_filename (fx->dir, "sessions", id, "connection", NULL);
  g_autofree gchar *text = g_strdup_printf ("[connection]\nhost=%s\nport=%u\n", host, port);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
write_connection (Fixture *fx, const gchar *id, guint port)
{
  write_connection_host (fx, id, "127.0.0.1", port);
}

static void
tick (Fixture *fx)
{
  mn_controller_manager_tick (fx->manager);
  spin ();
}

/* queued? no: starting -> running -> ending -> ended */
static void
test_happy_path (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, &error);
  g_autoptr(MnSession) got = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autofree gchar *token = NULL;
  g_assert_no_error (error);
  g_assert_cmpint (s->state, ==, MN_SESSION_STARTING);
  {
    g_autofree gchar *job = g_strdup_printf ("job-%s", s->id);
    g_assert_cmpstr (s->job_id, ==, job);
  }
  {
    /* the job script and a 0600 token file exist */
    g_autofree gchar *tp = g_build_filename (fx->dir, "sessions", s->id, "token", NULL);
    GStatBuf st;
    g_assert_cmpint (g_stat (tp, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    g_assert_true (g_file_get_contents (tp, &token, NULL, NULL));
    g_assert_cmpstr (g_strstrip (token), ==, s->token);
  }
  tick (fx);                                   /* pending */
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_STARTING);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  tick (fx);                                   /* running, no connection file yet */
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_STARTING);
  g_assert_cmpuint (fx->probes, ==, 0);
  write_connection (fx, s->id, 20001);
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_RUNNING);
  g_assert_cmpstr (got->host, ==, "127.0.0.1");
  g_assert_cmpuint (got->port, ==, 20001);
  g_assert_true (mn_controller_manager_stop (fx->manager, s->id, MN_END_USER, "stopped by the user", &error));
  g_assert_no_error (error);
  /* cancel_ends: DONE at the next poll */
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_ENDING);
  tick (fx);
  g_clear_pointer (&got, mn_session_free);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_ENDED);
  g_assert_cmpstr (got->reason, ==, "stopped by the user");
  g_assert_cmpint (got->end_reason, ==, MN_END_USER);
  events = mn_controller_store_events (mn_controller_manager_get_store (fx->manager), s->id, NULL);
  g_assert_cmpuint (events->len, >=, 5);
  g_assert_cmpstr (((MnStoreEvent *) g_ptr_array_index (events, events->len - 1))->message, ==,
                   "stopped by the user");
  g_assert_cmpuint (mn_policy_state_n_running (mn_controller_manager_get_policy (fx->manager)), ==, 0);
}

/* The app is not ready at first: probes repeat; then it answers. */
static void
test_probe_retry (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20002);
  fx->ready = FALSE;
  tick (fx);
  tick (fx);
  g_assert_cmpuint (fx->probes, ==, 2);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_STARTING);
  fx->ready = TRUE;
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
}

/* Job ends before the app answers: failed with its output. */
static void
test_crash_before_ready (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) got = NULL;
  g_autofree gchar *out = g_build_filename (fx->dir, "sessions", s->id, "output.log", NULL);
  g_assert_true (g_file_set_contents (out, "starting\nImportError: no module named foo\n", -1, NULL));
  set_job (fx, s->id, MN_JOB_DONE, "exit code 1");
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_FAILED);
  g_assert_nonnull (strstr (got->reason, "exit code 1"));
  g_assert_nonnull (strstr (got->reason, "ImportError: no module named foo"));
  g_assert_cmpuint (mn_policy_state_n_running (mn_controller_manager_get_policy (fx->manager)), ==, 0);
}

/* App never answers: cancelled and failed after ready_timeout. */
static void
test_ready_timeout (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) got = NULL;
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  fx->ready = FALSE;
  write_connection (fx, s->id, 20003);
  tick (fx);
  fx->now += 61;
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_FAILED);
  g_assert_nonnull (strstr (got->reason, "did not answer within 60 s"));
  g_assert_cmpuint (fx->backend->cancels, ==, 1);
}

/* Submit refused: failed with the scheduler's text. */
static void
test_submit_fails (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) s = NULL;
  fx->backend->fail_submit = TRUE;
  s = launch (fx, "alice", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->state, ==, MN_SESSION_FAILED);
  g_assert_nonnull (strstr (s->reason, "queue is closed"));
  g_assert_cmpuint (mn_policy_state_n_running (mn_controller_manager_get_policy (fx->manager)), ==, 0);
}

/* The scheduler does not answer the submission: not a refusal; the session
 * keeps its slot and is submitted again at the next poll. */
static void
test_submit_unreachable (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) s = NULL;
  g_autoptr(MnSession) got = NULL;
  fx->backend->unreachable_submits = 1;
  s = launch (fx, "alice", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->state, ==, MN_SESSION_STARTING);
  g_assert_null (s->job_id);
  g_assert_nonnull (strstr (s->reason, "did not answer"));
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_STARTING);
  g_assert_nonnull (got->job_id);
  g_assert_cmpuint (fx->backend->submits, ==, 2);
}

/* Poll fails: unknown (never ended); next good poll: back to the old state. */
static void
test_unknown_and_back (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) got = NULL;
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20004);
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  fx->backend->fail_poll = TRUE;
  tick (fx);
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_UNKNOWN);
  g_assert_cmpint (got->prev_state, ==, MN_SESSION_RUNNING);
  g_assert_nonnull (strstr (got->reason, "squeue timed out"));
  g_assert_cmpuint (mn_policy_state_n_running (mn_controller_manager_get_policy (fx->manager)), ==, 1);
  fx->backend->fail_poll = FALSE;
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  /* one job unknown to the scheduler: unknown too, not ended */
  g_hash_table_remove_all (fx->backend->jobs);
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_UNKNOWN);
}

/* Running job ends by itself (walltime): ended with the backend's reason. */
static void
test_running_ends (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) got = NULL;
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20005);
  tick (fx);
  set_job (fx, s->id, MN_JOB_DONE, "exited");
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_ENDED);
  g_assert_cmpstr (got->reason, ==, "exited");
  g_assert_cmpint (got->end_reason, ==, MN_END_EXITED);
}

/* Killed by the scheduler at its walltime: the code and the reason say so,
 * whatever the scheduler's own words. */
static void
test_walltime_end (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) got = NULL;
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20007);
  tick (fx);
  fx->now += 3600;
  set_job (fx, s->id, MN_JOB_DONE, "killed by signal 9");
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_ENDED);
  g_assert_cmpstr (got->reason, ==, "walltime of 1 h reached");
  g_assert_cmpint (got->end_reason, ==, MN_END_WALLTIME);
}

/* Full queue: give-up refused with the policy's text, wait queued; when the
 * running one ends, the queued one starts (queued -> starting). */
static void
test_queue_and_refusals (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) a = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) b = launch (fx, "bob", FALSE, NULL);
  g_autoptr(MnSession) c = NULL, d = NULL, again = NULL;
  MnLaunchRequest r = { "web", "interactive", 1, 1024, 0, 3600, "give_up" };
  MnRejectReason reason = MN_REJECT_NONE;

  g_assert_cmpint (a->state, ==, MN_SESSION_STARTING);
  g_assert_cmpint (b->state, ==, MN_SESSION_STARTING);
  c = mn_controller_manager_launch (fx->manager, "carol", &r, &reason, &error);
  g_assert_null (c);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED);
  g_assert_cmpint (reason, ==, MN_REJECT_BUSY_GIVE_UP);
  g_clear_error (&error);
  again = launch (fx, "alice", FALSE, &error);
  g_assert_null (again);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED);
  g_clear_error (&error);
  d = launch (fx, "dave", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->state, ==, MN_SESSION_QUEUED);
  g_assert_null (d->job_id);
  g_assert_cmpint (mn_controller_manager_estimate_start (fx->manager, d, NULL, NULL), >, fx->now);
  /* a cancelled (failed) start frees the slot for dave */
  set_job (fx, a->id, MN_JOB_DONE, "exit code 2");
  tick (fx);
  g_assert_cmpint (state_of (fx, a->id), ==, MN_SESSION_FAILED);
  g_assert_cmpint (state_of (fx, d->id), ==, MN_SESSION_STARTING);
  /* queued sessions can be cancelled without a job */
  {
    g_autoptr(MnSession) e = launch (fx, "erin", FALSE, NULL);
    g_assert_cmpint (e->state, ==, MN_SESSION_QUEUED);
    g_assert_true (mn_controller_manager_stop (fx->manager, e->id, MN_END_USER, "stopped by the user", NULL));
    g_assert_cmpint (state_of (fx, e->id), ==, MN_SESSION_ENDED);
    {
      g_autoptr(MnSession) ge = mn_controller_manager_get (fx->manager, e->id, NULL);
      g_assert_cmpint (ge->end_reason, ==, MN_END_CANCELLED);
    }
  }
}

/* Restart: a new manager on the same store adopts running sessions, keeps
 * queued ones queued, submits admitted-but-unsubmitted ones. */
static void
test_restart (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) a = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) b = launch (fx, "bob", FALSE, NULL);
  g_autoptr(MnSession) c = launch (fx, "carol", FALSE, NULL);
  set_job (fx, a->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, a->id, 20006);
  tick (fx);
  g_assert_cmpint (state_of (fx, a->id), ==, MN_SESSION_RUNNING);
  g_assert_cmpint (c->state, ==, MN_SESSION_QUEUED);
  restart_manager (fx);
  g_assert_cmpint (state_of (fx, a->id), ==, MN_SESSION_RUNNING);
  g_assert_cmpint (state_of (fx, b->id), ==, MN_SESSION_STARTING);
  g_assert_cmpint (state_of (fx, c->id), ==, MN_SESSION_QUEUED);
  g_assert_cmpuint (mn_policy_state_n_running (mn_controller_manager_get_policy (fx->manager)), ==, 2);
  g_assert_cmpuint (mn_policy_state_n_waiting (mn_controller_manager_get_policy (fx->manager)), ==, 1);
  tick (fx);
  g_assert_cmpint (state_of (fx, a->id), ==, MN_SESSION_RUNNING);
  set_job (fx, a->id, MN_JOB_DONE, "exit code 0");
  tick (fx);
  g_assert_cmpint (state_of (fx, c->id), ==, MN_SESSION_STARTING);
}

/* Store version and migration, form values and usage counts. */
static void
test_store (Fixture *fx, gconstpointer data)
{
  MnControllerStore *store = mn_controller_manager_get_store (fx->manager);
  guint64 hours[24], days[7], total = 0;
  g_autofree gchar *form = NULL;
  g_autoptr(MnSession) s = NULL;
  g_assert_cmpint (mn_controller_store_schema_version (store), ==, MN_CONTROLLER_STORE_SCHEMA_VERSION);
  g_assert_true (mn_controller_store_save_form (store, "alice", "{\"cores\":2}", fx->now, NULL));
  g_assert_true (mn_controller_store_save_form (store, "alice", "{\"cores\":3}", fx->now, NULL));
  form = mn_controller_store_load_form (store, "alice");
  g_assert_cmpstr (form, ==, "{\"cores\":3}");
  /* 1700000000 is Tue 2023-11-14 22:13:20 UTC */
  s = launch (fx, "alice", FALSE, NULL);
  g_assert_true (mn_controller_store_usage (store, 0, fx->now + 1, hours, days, &total, NULL));
  g_assert_cmpuint (total, ==, 1);
  g_assert_cmpuint (hours[22], ==, 1);
  g_assert_cmpuint (days[1], ==, 1);
}

/* Jobs from outside minna fill the scheduler although the policy admitted
 * the session: it stays starting, says why, and shows the scheduler's
 * expected start; a give-up request reaches the backend as such. */
static void
test_scheduler_queue (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) w = launch (fx, "alice", TRUE, &error);
  g_autoptr(MnSession) got = NULL;
  g_autofree gchar *job = NULL;
  const gchar *source = NULL;
  MnJobStatus *st;
  g_assert_no_error (error);
  g_assert_true (fx->backend->last_give_up);
  g_clear_pointer (&w, mn_session_free);
  w = launch (fx, "bob", FALSE, &error);
  g_assert_no_error (error);
  g_assert_false (fx->backend->last_give_up);
  job = g_strdup_printf ("job-%s", w->id);
  st = g_hash_table_lookup (fx->backend->jobs, job);
  st->message = g_strdup ("None");   /* just submitted: nothing to say */
  tick (fx);
  got = mn_controller_manager_get (fx->manager, w->id, NULL);
  g_assert_cmpstr (got->reason, ==, "waiting for the job to start");
  g_clear_pointer (&got, mn_session_free);
  g_free (st->message);
  st->message = g_strdup ("Resources");
  st->estimated_start = fx->now + 600;
  tick (fx);
  got = mn_controller_manager_get (fx->manager, w->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_STARTING);
  g_assert_cmpstr (got->reason, ==, "waiting in the scheduler's queue (Resources)");
  g_assert_cmpint (mn_controller_manager_session_estimate (fx->manager, got, &source), ==,
                   fx->now + 600);
  g_assert_cmpstr (source, ==, "scheduler");
  g_clear_pointer (&got, mn_session_free);
  /* backfill has no estimate yet: the policy cannot see the outside jobs */
  st->estimated_start = 0;
  tick (fx);
  got = mn_controller_manager_get (fx->manager, w->id, NULL);
  g_assert_cmpint (mn_controller_manager_session_estimate (fx->manager, got, &source), ==,
                   G_MAXINT64);
  g_assert_null (source);
  g_clear_pointer (&got, mn_session_free);
  /* it starts: no estimate, the node is known */
  st->state = MN_JOB_RUNNING;
  st->node = g_strdup ("node7");
  tick (fx);
  got = mn_controller_manager_get (fx->manager, w->id, NULL);
  g_assert_cmpint (mn_controller_manager_session_estimate (fx->manager, got, &source), ==,
                   G_MAXINT64);
  g_assert_cmpstr (got->exec_node, ==, "node7");
}

static guint
polls_of (FakeBackend *f)
{
  guint n;
  g_mutex_lock (&f->lock);
  n = f->polls;
  g_mutex_unlock (&f->lock);
  return n;
}

static void
set_gate (FakeBackend *f, gboolean gated)
{
  g_mutex_lock (&f->lock);
  f->gated = gated;
  g_cond_broadcast (&f->cond);
  g_mutex_unlock (&f->lock);
}

static void
set_fail_poll (FakeBackend *f, gboolean fail)
{
  g_mutex_lock (&f->lock);
  f->fail_poll = fail;
  g_mutex_unlock (&f->lock);
}

/* Ticks until session @id is in @state (polls finish in worker threads). */
static void
wait_state (Fixture *fx, const gchar *id, MnSessionState state)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (state_of (fx, id) != state && g_get_monotonic_time () < end)
    {
      tick (fx);
      g_usleep (2000);
    }
  g_assert_cmpint (state_of (fx, id), ==, state);
}

/* A scheduler's commands block (with slurmctld down, until their timeout):
 * the manager polls and cancels in worker threads, one poll at a time, and
 * neither a tick nor a stop waits for them. */
static void
test_commands_in_threads (Fixture *fx, gconstpointer data)
{
  FakeBackend *f = fx->backend;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, &error);
  g_assert_no_error (error);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20003);
  set_gate (f, TRUE);
  mn_controller_manager_tick (fx->manager);     /* returns while the poll waits */
  g_mutex_lock (&f->lock);
  while (f->polls < 1)
    g_cond_wait (&f->cond, &f->lock);
  g_mutex_unlock (&f->lock);
  tick (fx);                                    /* no second poll meanwhile */
  g_assert_cmpuint (polls_of (f), ==, 1);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_STARTING);
  set_gate (f, FALSE);
  wait_state (fx, s->id, MN_SESSION_RUNNING);
  /* the scheduler stops answering: unknown, then back */
  set_fail_poll (f, TRUE);
  wait_state (fx, s->id, MN_SESSION_UNKNOWN);
  set_fail_poll (f, FALSE);
  wait_state (fx, s->id, MN_SESSION_RUNNING);
  g_assert_true (mn_controller_manager_stop (fx->manager, s->id, MN_END_USER, "stopped by the user", &error));
  g_assert_no_error (error);
  wait_state (fx, s->id, MN_SESSION_ENDED);
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->cancels, >=, 1);
  g_mutex_unlock (&f->lock);
}

/* A worker's result is applied by the thread that iterates the manager's
 * context, never by the worker itself while nobody iterates it (the start's
 * recovery submits before the main loop runs): g_main_context_invoke ran
 * it in the worker then, beside the main thread's use of the sessions. */
static void
test_results_on_main_thread (Fixture *fx, gconstpointer data)
{
  FakeBackend *f = fx->backend;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, &error);
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  g_assert_no_error (error);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20005);
  spin ();
  g_assert_cmpuint (fx->probes, ==, 0);
  mn_controller_manager_tick (fx->manager);   /* the poll runs in a worker */
  g_mutex_lock (&f->lock);
  while (f->polls_returned < 1 && g_get_monotonic_time () < end)
    g_cond_wait_until (&f->cond, &f->lock, end);
  g_mutex_unlock (&f->lock);
  g_assert_cmpuint (polls_of (f), ==, 1);
  /* the worker hands the result over now; nobody iterates the context */
  g_usleep (300 * 1000);
  if (g_atomic_pointer_get (&fx->probe_thread) != NULL)
    g_printerr ("the poll's result was applied in thread %p, not the test's %p\n",
                g_atomic_pointer_get (&fx->probe_thread), (gpointer) g_thread_self ());
  g_assert_null (g_atomic_pointer_get (&fx->probe_thread));
  while (g_atomic_pointer_get (&fx->probe_thread) == NULL && g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_assert_true (g_atomic_pointer_get (&fx->probe_thread) == g_thread_self ());
  g_assert_cmpuint (fx->probes, ==, 1);
}

/* Ticks until session @id has a job id (submissions finish in worker threads). */
static void
wait_submitted (Fixture *fx, const gchar *id)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(MnSession) s = mn_controller_manager_get (fx->manager, id, NULL);
      g_assert_nonnull (s);
      if (s->job_id != NULL)
        return;
      if (g_get_monotonic_time () > end)
        g_error ("session %s: no job id after 20 s", id);
      tick (fx);
      g_usleep (2000);
    }
}

/* A burst of submissions fills every worker thread (a lecture's qsubs,
 * each seconds long on a loaded host) and more wait in the pool: the status
 * poll runs in a lane of its own meanwhile, so a job that started is seen
 * running at once, not after the burst (on Grid Engine the controller saw
 * jobs start 5-30 s late, and took one that ended meanwhile for an app
 * that died before it answered). */
static void
test_poll_beside_submissions (Fixture *fx, gconstpointer data)
{
  FakeBackend *f = fx->backend;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) first = launch (fx, "alice", FALSE, &error);
  g_autoptr(GPtrArray) burst = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_session_free);
  gint64 end;
  guint polls;
  g_assert_no_error (error);
  wait_submitted (fx, first->id);
  g_mutex_lock (&f->lock);
  set_job (fx, first->id, MN_JOB_RUNNING, NULL);
  f->submit_gated = TRUE;
  g_mutex_unlock (&f->lock);
  write_connection (fx, first->id, 20004);
  /* six students at once: four submissions in the four worker threads,
   * two queued behind them */
  for (guint i = 0; i < 6; i++)
    {
      g_autofree gchar *user = g_strdup_printf ("student%u", i);
      MnSession *s = launch (fx, user, FALSE, &error);
      g_assert_no_error (error);
      g_assert_cmpint (s->state, ==, MN_SESSION_STARTING);
      g_ptr_array_add (burst, s);
    }
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_mutex_lock (&f->lock);
  while (f->submits_waiting < 4)
    if (!g_cond_wait_until (&f->cond, &f->lock, end))
      g_error ("%u submissions in the worker threads after 10 s, not 4", f->submits_waiting);
  polls = f->polls;
  g_mutex_unlock (&f->lock);
  /* the poll runs, and the first session is seen running, while every
   * worker thread still waits in a submission */
  wait_state (fx, first->id, MN_SESSION_RUNNING);
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->polls, >, polls);
  g_assert_cmpuint (f->submits_waiting, ==, 4);
  g_assert_cmpuint (f->submits, ==, 1);
  f->submit_gated = FALSE;
  g_cond_broadcast (&f->cond);
  g_mutex_unlock (&f->lock);
  for (guint i = 0; i < burst->len; i++)
    wait_submitted (fx, ((MnSession *) g_ptr_array_index (burst, i))->id);
  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->submits, ==, 7);
  g_mutex_unlock (&f->lock);
}

static void
set_node (Fixture *fx, const gchar *id, const gchar *node)
{
  g_autofree gchar *job = g_strdup_printf ("job-%s", id);
  MnJobStatus *st = g_hash_table_lookup (fx->backend->jobs, job);
  st->state = MN_JOB_RUNNING;
  g_free (st->node);
  st->node = g_strdup (node);
}

/* Ticks for about @ms milliseconds (lookups and threads finish meanwhile). */
static void
tick_for (Fixture *fx, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      tick (fx);
      g_usleep (5000);
    }
}

/* job_host = node (a cluster: the app listens on its compute node): the
 * connection file's address counts only if the node the scheduler names
 * resolves to it. */
static void
test_job_host_node (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) a = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) b = launch (fx, "bob", FALSE, NULL);
  g_autoptr(MnSession) c = NULL;
  g_autoptr(MnSession) got = NULL;
  set_node (fx, a->id, "localhost");
  write_connection (fx, a->id, 20004);
  wait_state (fx, a->id, MN_SESSION_RUNNING);
  got = mn_controller_manager_get (fx->manager, a->id, NULL);
  g_assert_cmpstr (got->host, ==, "127.0.0.1");
  /* an address that is not the node's */
  set_node (fx, b->id, "localhost");
  write_connection_host (fx, b->id, "192.0.2.7", 20005);
  g_test_expect_message ("minna-controller", G_LOG_LEVEL_WARNING,
                         "*names 192.0.2.7:20005, not an address of node localhost; ignored");
  /* Long enough for a poll and a lookup on a loaded CI machine (300 ms
   * was not); the refusal is logged once per content, so no repeats. */
  tick_for (fx, 2000);
  g_test_assert_expected_messages ();
  g_assert_cmpint (state_of (fx, b->id), ==, MN_SESSION_STARTING);
  /* its owner sees why: the reason names the refused address */
  g_clear_pointer (&got, mn_session_free);
  got = mn_controller_manager_get (fx->manager, b->id, NULL);
  g_assert_nonnull (strstr (got->reason, "names 192.0.2.7:20005, not an address of node localhost"));
  g_assert_true (mn_controller_manager_stop (fx->manager, a->id, MN_END_USER, "done", NULL));
  g_assert_true (mn_controller_manager_stop (fx->manager, b->id, MN_END_USER, "done", NULL));
  tick (fx);
  /* a node that does not resolve: never reachable, so never running */
  c = launch (fx, "carol", FALSE, NULL);
  set_node (fx, c->id, "no-such-node.invalid");
  write_connection (fx, c->id, 20006);
  g_test_expect_message ("minna-controller", G_LOG_LEVEL_WARNING,
                         "*node 'no-such-node.invalid' does not resolve*");
  g_test_expect_message ("minna-controller", G_LOG_LEVEL_WARNING,
                         "*names 127.0.0.1:20006, not an address of node no-such-node.invalid; ignored");
  tick_for (fx, 3000);      /* a failed lookup is retried only after 30 s */
  g_test_assert_expected_messages ();
  g_assert_cmpint (state_of (fx, c->id), ==, MN_SESSION_STARTING);
  g_assert_cmpuint (fx->probes, ==, 1);
}

/* The policy's job id is the stored row's number, for started and queued
 * sessions alike; a refused request leaves no row, and its number is the
 * next session's. */
static void
test_job_id_is_row (Fixture *fx, gconstpointer data)
{
  MnPolicyState *ps = mn_controller_manager_get_policy (fx->manager);
  g_autoptr(MnSession) a = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) b = launch (fx, "bob", FALSE, NULL);
  g_autoptr(MnSession) c = NULL, d = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  guint node = 9, logical = 9;
  g_assert_cmpint (a->num, ==, 1);
  g_assert_cmpint (b->num, ==, 2);
  g_assert_true (mn_policy_state_lookup (ps, (guint64) a->num, &node, &logical));
  g_assert_cmpuint (node, ==, (guint) a->node);
  g_assert_true (mn_policy_state_lookup (ps, (guint64) b->num, &node, &logical));
  c = launch (fx, "alice", FALSE, &error);          /* per-user limit */
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED);
  g_assert_null (c);
  d = launch (fx, "carol", FALSE, NULL);            /* waits */
  g_assert_cmpint (d->state, ==, MN_SESSION_QUEUED);
  g_assert_cmpint (d->num, ==, 3);
  g_assert_cmpuint (mn_policy_state_position (ps, (guint64) d->num), ==, 1);
  rows = mn_controller_store_list (mn_controller_manager_get_store (fx->manager), NULL, FALSE, NULL);
  g_assert_cmpuint (rows->len, ==, 3);
  /* the reason names the policy's wait code */
  g_assert_cmpstr (d->reason, ==, "waiting for room in interactive.q (slots)");
}

/* The policy's [queue] if_busy applies when the request does not say. */
static void
test_if_busy_default (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnPolicyConfig) p = mn_policy_config_copy (fx->policy);
  MnLaunchRequest r = { "web", "interactive", 1, 1024, 0, 3600, NULL };
  MnRejectReason reason = MN_REJECT_NONE;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) a = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) b = launch (fx, "bob", FALSE, NULL);
  g_autoptr(MnSession) c = NULL, d = NULL;
  /* the built-in default waits */
  c = mn_controller_manager_launch (fx->manager, "carol", &r, &reason, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->state, ==, MN_SESSION_QUEUED);
  g_assert_false (c->give_up);
  /* a policy that gives up by default */
  p->if_busy = MN_IF_BUSY_GIVE_UP;
  mn_controller_manager_set_policy (fx->manager, p);
  d = mn_controller_manager_launch (fx->manager, "dave", &r, &reason, &error);
  g_assert_null (d);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_REFUSED);
  g_assert_cmpint (reason, ==, MN_REJECT_BUSY_GIVE_UP);
  g_clear_error (&error);
  /* ... unless the request says wait */
  r.if_busy = "wait";
  d = mn_controller_manager_launch (fx->manager, "dave", &r, &reason, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->state, ==, MN_SESSION_QUEUED);
  /* one spelling: the policy's */
  r.if_busy = "give-up";
  g_assert_null (mn_controller_manager_launch (fx->manager, "erin", &r, &reason, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'give_up'"));
}

/* The controller's if_busy words are the policy file's, value for value. */
static void
test_if_busy_spelling (void)
{
  for (MnIfBusy v = MN_IF_BUSY_WAIT; v <= MN_IF_BUSY_GIVE_UP; v++)
    {
      g_autoptr(MnPolicyConfig) c = mn_policy_config_new_default ();
      g_autoptr(GError) error = NULL;
      g_autofree gchar *back = NULL;
      MnIfBusy parsed;
      const gchar *word = mn_controller_if_busy_to_string (v);
      g_assert_true (mn_policy_config_set (c, "queue", "if_busy", word, &error));
      g_assert_no_error (error);
      g_assert_cmpint (c->if_busy, ==, v);
      back = mn_policy_config_get (c, "queue", "if_busy");
      g_assert_cmpstr (back, ==, word);
      g_assert_true (mn_controller_if_busy_from_string (word, &parsed));
      g_assert_cmpint (parsed, ==, v);
    }
  {
    MnIfBusy parsed;
    g_assert_false (mn_controller_if_busy_from_string ("give-up", &parsed));
    g_assert_false (mn_controller_if_busy_from_string (NULL, &parsed));
  }
}

/* queue = batch does not bypass the policy: on the local backend it is
 * refused unless [backend] batch = allow; refuse refuses it anywhere. */
static void
test_batch (Fixture *fx, gconstpointer data)
{
  MnLaunchRequest r = { "web", "batch", 7, 60 * 1024, 0, 24 * 3600, NULL };
  MnRejectReason reason = MN_REJECT_NONE;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) s = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_assert_false (mn_controller_manager_batch_allowed (fx->manager));
  s = mn_controller_manager_launch (fx->manager, "alice", &r, &reason, &error);
  g_assert_null (s);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED);
  g_assert_nonnull (strstr (error->message, "[backend] batch = auto"));
  g_clear_error (&error);
  rows = mn_controller_store_list (mn_controller_manager_get_store (fx->manager), NULL, FALSE, NULL);
  g_assert_cmpuint (rows->len, ==, 0);
  g_assert_cmpuint (fx->backend->submits, ==, 0);
  /* allowed by the admin: a batch job, outside interactive.q */
  mn_controller_manager_unref (fx->manager);
  fx->config->batch = (g_free (fx->config->batch), g_strdup ("allow"));
  make_manager (fx);
  s = mn_controller_manager_launch (fx->manager, "alice", &r, &reason, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->state, ==, MN_SESSION_STARTING);
  g_assert_cmpint (s->node, ==, -1);
  g_assert_cmpuint (mn_policy_state_n_running (mn_controller_manager_get_policy (fx->manager)), ==, 0);
  g_clear_pointer (&s, mn_session_free);
  /* refuse: even where a scheduler would take it */
  mn_controller_manager_unref (fx->manager);
  fx->config->batch = (g_free (fx->config->batch), g_strdup ("refuse"));
  fx->local = FALSE;
  make_manager (fx);
  g_assert_null (mn_controller_manager_launch (fx->manager, "bob", &r, &reason, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_ALLOWED);
}

/* The walltime counts from the job's start, not its submission: a job that
 * waited 10 min in the scheduler's queue keeps its hour from when it ran. */
static void
test_walltime_from_start (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) got = NULL;
  gint64 submitted = fx->now;
  tick (fx);                                  /* pending */
  fx->now += 600;
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20008);
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_RUNNING);
  g_assert_cmpint (got->submitted, ==, submitted);
  g_assert_cmpint (got->job_started, ==, submitted + 600);
  g_assert_cmpint (mn_session_walltime_end (got), ==, submitted + 600 + 3600);
  g_clear_pointer (&got, mn_session_free);
  /* it exits by itself after submission + 1 h, before start + 1 h */
  fx->now = submitted + 3600 + 60;
  set_job (fx, s->id, MN_JOB_DONE, "exit code 0");
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_ENDED);
  g_assert_cmpint (got->end_reason, ==, MN_END_EXITED);
}

/* A running job killed by its memory cap ends with that code (the backend
 * says so; the message is not read). */
static void
test_memory_cap_end (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) got = NULL;
  g_autofree gchar *job = g_strdup_printf ("job-%s", s->id);
  MnJobStatus *st;
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20009);
  tick (fx);
  st = g_hash_table_lookup (fx->backend->jobs, job);
  st->state = MN_JOB_DONE;
  st->exit_code = -1;
  st->end = MN_END_MEMORY_CAP;
  st->message = g_strdup ("killed by signal 9");
  tick (fx);
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_ENDED);
  g_assert_cmpint (got->end_reason, ==, MN_END_MEMORY_CAP);
  g_assert_nonnull (strstr (got->reason, "memory limit"));
  g_assert_nonnull (strstr (got->reason, "1 GB"));
}

/* Capped GPU mode: a GPU request reserves the per-job GPU memory cap, as
 * the simulator's requests do, so the controller admits as many GPU jobs
 * per GPU as the simulator (here 16 GB / 8 GB = 2; the third waits). */
static void
test_gpu_memory_capped (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnPolicyConfig) p = mn_policy_config_copy (fx->policy);
  MnLaunchRequest r = { "web", "interactive", 1, 1024, 1, 3600, "wait" };
  MnRejectReason reason;
  g_autoptr(MnSession) a = NULL, b = NULL, c = NULL;
  MnLogicalNodeInfo li = { 0 };
  p->gpu_mode = MN_GPU_MODE_CAPPED;
  p->max_jobs_per_logical = 7;
  p->node_gpus = 1;
  p->logical_gpus = 1;
  p->gpu_memory_mb = 16 * 1024;
  p->job_max_gpu_memory_mb = 8 * 1024;
  mn_controller_manager_set_policy (fx->manager, p);
  a = mn_controller_manager_launch (fx->manager, "alice", &r, &reason, NULL);
  b = mn_controller_manager_launch (fx->manager, "bob", &r, &reason, NULL);
  c = mn_controller_manager_launch (fx->manager, "carol", &r, &reason, NULL);
  g_assert_cmpint (a->state, ==, MN_SESSION_STARTING);
  g_assert_cmpint (b->state, ==, MN_SESSION_STARTING);
  g_assert_cmpint (c->state, ==, MN_SESSION_QUEUED);
  g_assert_cmpstr (c->reason, ==, "waiting for room in interactive.q (gpu-memory)");
  g_assert_cmpuint (a->gpu_memory_mb, ==, 8 * 1024);
  g_assert_cmpuint (a->gpu_mask, ==, 1);
  mn_policy_state_logical_info (mn_controller_manager_get_policy (fx->manager), 0, 0, &li);
  g_assert_cmpuint (li.gpu_memory_reserved_mb, ==, 16 * 1024);
}

/* A database written by the controller before issue 14 (schema 2) opens:
 * its sessions are all there, with no end code and the walltime counted
 * from their submission. */
static void
test_store_migration (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("minna-ctl-mig-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "old.db", NULL);
  g_autofree gchar *rm = g_strdup_printf ("rm -rf '%s'", dir);
  g_autoptr(MnControllerStore) store = NULL;
  g_autoptr(MnSession) s = NULL;
  sqlite3 *db = NULL;
  /* schema 2 as shipped */
  static const gchar *const old_schema =
    "CREATE TABLE sessions (num INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE, user TEXT NOT NULL, app TEXT NOT NULL,"
    "  queue TEXT NOT NULL, cores INTEGER NOT NULL, memory_mb INTEGER NOT NULL,"
    "  gpus INTEGER NOT NULL, walltime INTEGER NOT NULL, give_up INTEGER NOT NULL,"
    "  state TEXT NOT NULL, prev_state TEXT, reason TEXT,"
    "  created INTEGER NOT NULL, submitted INTEGER, started INTEGER, ended INTEGER,"
    "  job_id TEXT, host TEXT, port INTEGER, node INTEGER, logical INTEGER, token TEXT);"
    "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL,"
    "  time INTEGER NOT NULL, state TEXT NOT NULL, message TEXT);"
    "CREATE TABLE form_values (user TEXT PRIMARY KEY, json TEXT NOT NULL, updated INTEGER NOT NULL);"
    "ALTER TABLE sessions ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN idle_warned INTEGER NOT NULL DEFAULT 0;"
    "INSERT INTO sessions (id, user, app, queue, cores, memory_mb, gpus, walltime, give_up,"
    "  state, prev_state, created, submitted, started, job_id, host, port, node, logical, token)"
    "  VALUES ('abc', 'alice', 'jupyter', 'interactive', 2, 4096, 0, 3600, 1, 'running',"
    "  'queued', 100, 110, 120, 'abc', '127.0.0.1', 20001, 0, 1, 'tok');"
    "PRAGMA user_version=2;";
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, old_schema, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  store = mn_controller_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mn_controller_store_schema_version (store), ==, MN_CONTROLLER_STORE_SCHEMA_VERSION);
  s = mn_controller_store_get (store, "abc", &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->state, ==, MN_SESSION_RUNNING);
  g_assert_true (s->give_up);
  g_assert_cmpint (s->logical, ==, 1);
  g_assert_cmpstr (s->token, ==, "tok");
  g_assert_cmpint (s->end_reason, ==, MN_END_NONE);
  g_assert_cmpuint (s->gpu_mask, ==, 0);
  g_assert_cmpint (mn_session_walltime_end (s), ==, 110 + 3600);
  /* and takes the new columns */
  s->end_reason = MN_END_MEMORY_CAP;
  s->job_started = 115;
  s->state = MN_SESSION_ENDED;
  g_assert_true (mn_controller_store_update (store, s, 200, "ended", &error));
  g_clear_pointer (&s, mn_session_free);
  s = mn_controller_store_get (store, "abc", &error);
  g_assert_cmpint (s->end_reason, ==, MN_END_MEMORY_CAP);
  g_assert_cmpint (mn_session_walltime_end (s), ==, 115 + 3600);
  g_clear_pointer (&store, mn_controller_store_free);
  g_assert_cmpint (system (rm), ==, 0);
}

static gchar *
kernels_json (const gchar *state, gint64 last_activity)
{
  g_autoptr(GDateTime) at = g_date_time_new_from_unix_utc (last_activity);
  g_autofree gchar *iso = g_date_time_format (at, "%Y-%m-%dT%H:%M:%S.000000Z");
  return g_strdup_printf ("[{\"id\":\"k1\",\"name\":\"python3\",\"last_activity\":\"%s\","
                          "\"execution_state\":\"%s\",\"connections\":0}]", iso, state);
}

/* Idle is kernel inactivity, asked of Jupyter's api/kernels, with no relay
 * configured: a kernel computing with nobody watching is never cut; once
 * idle, the session is warned and then cut with MN_END_IDLE at last
 * activity + idle_timeout. */
static void
test_idle_kernels (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnPolicyConfig) p = mn_policy_config_copy (fx->policy);
  g_autoptr(MnSession) s = NULL, got = NULL;
  gint64 t0;
  p->idle_timeout = 100;
  mn_controller_manager_set_policy (fx->manager, p);
  s = launch (fx, "alice", FALSE, NULL);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20010);
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  t0 = fx->now;
  /* computing for ten minutes: not idle, whatever its last activity */
  fx->kernels = kernels_json ("busy", t0);
  for (gint i = 0; i < 60; i++)
    {
      fx->now += 10;
      tick (fx);
    }
  g_assert_cmpuint (fx->kernel_asks, >, 10);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  /* done at t1: warned before the cut, cut at t1 + 100 */
  {
    gint64 t1 = fx->now;
    g_free (fx->kernels);
    fx->kernels = kernels_json ("idle", t1);
    fx->now = t1 + 95;
    tick (fx);
    got = mn_controller_manager_get (fx->manager, s->id, NULL);
    g_assert_cmpint (got->state, ==, MN_SESSION_RUNNING);
    g_assert_nonnull (strstr (got->reason, "unless it is used"));
    g_clear_pointer (&got, mn_session_free);
    fx->now = t1 + 100;
    tick (fx);
    tick (fx);
  }
  got = mn_controller_manager_get (fx->manager, s->id, NULL);
  g_assert_cmpint (got->state, ==, MN_SESSION_ENDED);
  g_assert_cmpint (got->end_reason, ==, MN_END_IDLE);
  g_assert_nonnull (strstr (got->reason, "kernels were idle"));
}

/* An app without kernels (api/kernels: 404) and no relay: nothing can say
 * it is idle, so it is never cut. */
static void
test_idle_unknown (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnPolicyConfig) p = mn_policy_config_copy (fx->policy);
  g_autoptr(MnSession) s = NULL;
  p->idle_timeout = 60;
  mn_controller_manager_set_policy (fx->manager, p);
  s = launch (fx, "alice", FALSE, NULL);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20011);
  tick (fx);
  for (gint i = 0; i < 30; i++)
    {
      fx->now += 10;
      tick (fx);
    }
  g_assert_cmpuint (fx->kernel_asks, >, 5);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
}

/* The order of idle culling's two signals (mn-controller-idle.c): the
 * kernels (Jupyter's api/kernels) are the definition; the relay's traffic
 * decides only for an app whose kernels cannot be known, and only once the
 * kernels were asked (kernels_seen).  Each row: what the kernels say, how
 * long ago the relay last carried a request, and the order in which the
 * answers to one idle check arrive ('k': the kernels, 'r': the relay's
 * routes), with the session's state after each.  The idle timeout is 100 s
 * (warned from 90 s), the check 150 s after the session started. */
typedef enum { KERNEL_IDLE, KERNEL_BUSY, KERNEL_NONE_404, KERNEL_REFUSED } KernelAnswer;
typedef enum {
  IDLE_RUNNING,        /* running, not warned */
  IDLE_WARNED,         /* running, warned of a cut */
  IDLE_CUT_KERNELS,    /* ended, MN_END_IDLE, on the kernels */
  IDLE_CUT_TRAFFIC,    /* ended, MN_END_IDLE, on the relay's silence */
} IdleOutcome;
typedef struct {
  const gchar  *name;
  KernelAnswer  kernels;
  gint64        kernel_idle_for;  /* KERNEL_IDLE: its last_activity this long before the check */
  gint64        traffic_age;      /* the route's last_activity this long before the check */
  const gchar  *order;            /* the answers, in turn */
  IdleOutcome   after[2];         /* the state after each answer */
} IdleOrderRow;

static const IdleOrderRow idle_order_rows[] = {
  /* traffic does not keep an idle kernel's session: the kernels decide */
  { "kernel-idle-traffic-routes-first", KERNEL_IDLE, 150, 5, "rk", { IDLE_RUNNING, IDLE_CUT_KERNELS } },
  { "kernel-idle-traffic-kernels-first", KERNEL_IDLE, 150, 5, "kr", { IDLE_CUT_KERNELS, IDLE_CUT_KERNELS } },
  /* the fixed bug: the routes came before the kernels' answer, and the
   * relay's silence cut a Jupyter computing with its tab closed */
  { "kernel-busy-silent-routes-first", KERNEL_BUSY, 0, 160, "rk", { IDLE_RUNNING, IDLE_RUNNING } },
  { "kernel-busy-silent-kernels-first", KERNEL_BUSY, 0, 160, "kr", { IDLE_RUNNING, IDLE_RUNNING } },
  { "kernel-idle-warned-silent", KERNEL_IDLE, 95, 160, "rk", { IDLE_RUNNING, IDLE_WARNED } },
  /* no kernel answer yet: the relay's silence waits; once the app is
   * found not to answer, the silence decides */
  { "no-kernel-answer-yet-silent", KERNEL_REFUSED, 0, 160, "rk", { IDLE_RUNNING, IDLE_CUT_TRAFFIC } },
  /* not Jupyter (404): the relay's traffic decides, once listed */
  { "no-kernels-silent", KERNEL_NONE_404, 0, 160, "kr", { IDLE_RUNNING, IDLE_CUT_TRAFFIC } },
  { "no-kernels-traffic", KERNEL_NONE_404, 0, 5, "kr", { IDLE_RUNNING, IDLE_RUNNING } },
  { "no-kernels-traffic-warned", KERNEL_NONE_404, 0, 95, "rk", { IDLE_RUNNING, IDLE_WARNED } },
};

static void
setup_row (Fixture *fx, gconstpointer data)
{
  setup (fx, NULL);
  fx->row = data;
}

static const gchar *
idle_outcome_name (IdleOutcome o)
{
  static const gchar *const names[] = { "running", "warned", "cut on the kernels", "cut on the traffic" };
  return names[o];
}

static IdleOutcome
idle_outcome_of (Fixture *fx, const gchar *id)
{
  g_autoptr(MnSession) s = mn_controller_manager_get (fx->manager, id, NULL);
  g_assert_nonnull (s);
  if (s->state == MN_SESSION_RUNNING)
    return s->reason && strstr (s->reason, "unless it is used") ? IDLE_WARNED : IDLE_RUNNING;
  if (s->end_reason != MN_END_IDLE || s->reason == NULL)
    g_error ("session %s: state %d, end %d (%s), not running nor cut for idleness", id, s->state,
             s->end_reason, s->reason ? s->reason : "no reason");
  return strstr (s->reason, "kernels were idle") ? IDLE_CUT_KERNELS : IDLE_CUT_TRAFFIC;
}

static void
test_idle_order (Fixture *fx, gconstpointer data)
{
  const IdleOrderRow *row = fx->row;
  g_autoptr(MnPolicyConfig) off = mn_policy_config_copy (fx->policy);
  g_autoptr(MnPolicyConfig) on = mn_policy_config_copy (fx->policy);
  g_autoptr(MnSession) s = NULL;
  gint64 t0, now;

  /* running, with idle culling off until the check under test */
  off->idle_timeout = 0;
  mn_controller_manager_set_policy (fx->manager, off);
  mn_controller_manager_set_route_lister (fx->manager, fake_list_routes, fx);
  fx->kernels_held = TRUE;
  s = launch (fx, "alice", FALSE, NULL);
  g_assert_nonnull (s);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20040);
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  g_assert_true (g_queue_is_empty (&fx->kernel_calls));
  g_assert_true (g_queue_is_empty (&fx->route_calls));
  t0 = fx->now;

  /* the check, 150 s on: both asked, neither answered yet */
  now = fx->now = t0 + 150;
  fx->route_id = g_strdup (s->id);
  fx->traffic_last = now - row->traffic_age;
  fx->kernels_refused = row->kernels == KERNEL_REFUSED;
  if (row->kernels == KERNEL_IDLE)
    fx->kernels = kernels_json ("idle", now - row->kernel_idle_for);
  else if (row->kernels == KERNEL_BUSY)
    fx->kernels = kernels_json ("busy", t0);
  on->idle_timeout = 100;
  mn_controller_manager_set_policy (fx->manager, on);
  tick (fx);
  g_assert_cmpuint (g_queue_get_length (&fx->kernel_calls), ==, 1);
  g_assert_cmpuint (g_queue_get_length (&fx->route_calls), ==, 1);
  g_assert_cmpint (idle_outcome_of (fx, s->id), ==, IDLE_RUNNING);

  for (guint i = 0; row->order[i]; i++)
    {
      IdleOutcome got;
      if (row->order[i] == 'k')
        answer_kernels (fx);
      else
        answer_routes (fx);
      tick (fx);   /* a cut session's job is cancelled and the session ends */
      g_assert_cmpint (fx->now, ==, now);
      got = idle_outcome_of (fx, s->id);
      if (got != row->after[i])
        {
          g_printerr ("%s: after '%c' (answers \"%s\"): %s, expected %s\n", row->name, row->order[i],
                      row->order, idle_outcome_name (got), idle_outcome_name (row->after[i]));
          g_test_fail ();
          return;
        }
    }
}

/* A relay route whose id is not a string (another version's answer): json-glib
 * reads it as a NULL id, which the idle check looked up among the sessions
 * (a crash); it is skipped and the session goes on. */
static void
test_idle_route_bad_id (Fixture *fx, gconstpointer data)
{
  g_autoptr(MnPolicyConfig) off = mn_policy_config_copy (fx->policy);
  g_autoptr(MnPolicyConfig) on = mn_policy_config_copy (fx->policy);
  g_autoptr(MnSession) s = NULL;

  off->idle_timeout = 0;
  mn_controller_manager_set_policy (fx->manager, off);
  mn_controller_manager_set_route_lister (fx->manager, fake_list_routes, fx);
  fx->kernels_held = TRUE;
  s = launch (fx, "alice", FALSE, NULL);
  g_assert_nonnull (s);
  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20041);
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  fx->now += 150;
  fx->routes_json = "{\"routes\":[{\"id\":5,\"last_activity\":1},{\"id\":true}]}";
  on->idle_timeout = 100;
  mn_controller_manager_set_policy (fx->manager, on);
  tick (fx);
  g_assert_cmpuint (g_queue_get_length (&fx->route_calls), ==, 1);
  answer_routes (fx);
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
}

/* Issue 20: a change the store refuses is not made, in memory or in the
 * world; an end that happened is kept and stored once the store takes it. */
static void
test_write_before_act (Fixture *fx, gconstpointer data)
{
  MnControllerStore *store = mn_controller_manager_get_store (fx->manager);
  g_autoptr(MnSession) s = launch (fx, "alice", FALSE, NULL);
  g_autoptr(MnSession) refused = NULL;
  g_autoptr(MnSession) stored = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) faults = NULL;
  guint cancels;
  /* the refusals are logged as warnings: expected here */
  GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  set_job (fx, s->id, MN_JOB_RUNNING, NULL);
  write_connection (fx, s->id, 20031);
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  cancels = fx->backend->cancels;

  /* a stop the store refuses: an error for the caller, nothing changes */
  mn_controller_store_set_query_only (store, TRUE);
  g_assert_false (mn_controller_manager_stop (fx->manager, s->id, MN_END_USER, "stopped by the user",
                                              &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_UNAVAILABLE);
  g_clear_error (&error);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  g_assert_cmpuint (fx->backend->cancels, ==, cancels);
  /* a launch too, and it takes no slot */
  refused = launch (fx, "bob", FALSE, &error);
  g_assert_null (refused);
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_STORE_UNAVAILABLE);
  g_clear_error (&error);

  /* the job ends while the store refuses: the session stays as stored,
   * the end is kept for retry and shown */
  set_job (fx, s->id, MN_JOB_DONE, "exited");
  tick (fx);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_RUNNING);
  faults = mn_controller_manager_faults (fx->manager);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (faults),
                                                                         "pending")), ==, 1);
  stored = mn_controller_store_get (store, s->id, NULL);
  g_assert_cmpint (stored->state, ==, MN_SESSION_RUNNING);

  /* the store takes changes again: the end is stored */
  mn_controller_store_set_query_only (store, FALSE);
  g_usleep (G_USEC_PER_SEC / 2 + 50000);   /* the first retry's back-off */
  mn_manager_retry_pending_for_tests (fx->manager);
  g_assert_cmpint (state_of (fx, s->id), ==, MN_SESSION_ENDED);
  g_clear_pointer (&stored, mn_session_free);
  stored = mn_controller_store_get (store, s->id, NULL);
  g_assert_cmpint (stored->state, ==, MN_SESSION_ENDED);
  g_assert_cmpint (stored->end_reason, ==, MN_END_EXITED);
  g_log_set_always_fatal (fatal);
}

/* Node availability (issue 14): a node the backend reports drained gets no
 * new session, a session only it could take waits, and starts there when
 * the node is back; asked at most every 5 s of the manager's clock; a
 * failed ask changes nothing; a new policy (SIGHUP) keeps what is known. */
static void
test_node_availability (Fixture *fx, gconstpointer data)
{
  FakeBackend *f = fx->backend;
  MnPolicyState *ps;
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) a = NULL;
  g_autoptr(MnSession) b = NULL;
  g_autoptr(MnSession) b_now = NULL;

  g_assert_cmpuint (f->node_asks, ==, 1);   /* at the start, before placing anyone */
  fx->node_state[0] = "drained";
  fx->node_state[1] = "idle";
  fx->now += 5;
  tick (fx);
  g_assert_cmpuint (f->node_asks, ==, 2);
  g_assert_false (mn_policy_state_node_available (mn_controller_manager_get_policy (fx->manager), 0));
  g_assert_cmpstr (mn_controller_manager_node_unavailable (fx->manager, 0), ==, "n0: drained");
  g_assert_null (mn_controller_manager_node_unavailable (fx->manager, 1));

  /* the policy would place on node 0 first: it goes to node 1 */
  a = launch (fx, "alice", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (state_of (fx, a->id), ==, MN_SESSION_STARTING);
  g_assert_cmpint (node_of (fx, a->id), ==, 1);
  b = launch (fx, "bob", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->state, ==, MN_SESSION_QUEUED);
  g_assert_cmpstr (b->reason, ==, "waiting for room in interactive.q (unavailable)");

  /* back, but not asked within 5 s; then asked: bob starts on node 0 */
  fx->node_state[0] = "idle";
  fx->now += 2;
  tick (fx);
  g_assert_cmpuint (f->node_asks, ==, 2);
  g_assert_cmpint (state_of (fx, b->id), ==, MN_SESSION_QUEUED);
  fx->now += 3;
  tick (fx);
  g_assert_cmpuint (f->node_asks, ==, 3);
  g_assert_cmpint (state_of (fx, b->id), ==, MN_SESSION_STARTING);
  g_assert_cmpint (node_of (fx, b->id), ==, 0);
  g_assert_null (mn_controller_manager_node_unavailable (fx->manager, 0));
  b_now = session_now (fx, b->id);
  g_assert_nonnull (b_now->job_id);   /* submitted */

  /* node 1 drained under alice: she stays; a failed ask changes nothing */
  fx->node_state[1] = "down*";
  fx->now += 5;
  tick (fx);
  g_assert_cmpstr (mn_controller_manager_node_unavailable (fx->manager, 1), ==, "n1: down*");
  g_assert_cmpint (state_of (fx, a->id), ==, MN_SESSION_STARTING);
  f->fail_nodes = TRUE;
  fx->node_state[1] = "idle";
  fx->now += 5;
  tick (fx);
  g_assert_cmpuint (f->node_asks, ==, 5);
  g_assert_cmpstr (mn_controller_manager_node_unavailable (fx->manager, 1), ==, "n1: down*");

  /* SIGHUP: a new policy state knows node 1 is unavailable */
  mn_controller_manager_set_policy (fx->manager, fx->policy);
  ps = mn_controller_manager_get_policy (fx->manager);
  g_assert_false (mn_policy_state_node_available (ps, 1));
  g_assert_true (mn_policy_state_node_available (ps, 0));
}

/* A restart asks the node states before it places the queued sessions
 * again: one that waits for a drained node is not submitted there. */
static void
test_node_availability_restart (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MnSession) a = NULL;
  g_autoptr(MnSession) c = NULL;

  fx->node_state[0] = "drained";
  fx->node_state[1] = "idle";
  fx->now += 5;
  tick (fx);
  a = launch (fx, "alice", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (node_of (fx, a->id), ==, 1);
  c = launch (fx, "carol", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->state, ==, MN_SESSION_QUEUED);
  /* restarted with node 0 still drained: a new policy state would place
   * carol there at once */
  restart_manager (fx);
  g_assert_cmpuint (fx->backend->node_asks, ==, 1);
  g_assert_cmpint (state_of (fx, c->id), ==, MN_SESSION_QUEUED);
  g_assert_cmpuint (fx->backend->submits, ==, 0);
  g_assert_cmpstr (mn_controller_manager_node_unavailable (fx->manager, 0), ==, "n0: drained");
  /* back: she starts there */
  fx->node_state[0] = "idle";
  fx->now += 5;
  tick (fx);
  g_assert_cmpint (state_of (fx, c->id), ==, MN_SESSION_STARTING);
  g_assert_cmpint (node_of (fx, c->id), ==, 0);
}

static gchar *
job_of (Fixture *fx, const gchar *id, gchar **reason)
{
  g_autoptr(MnSession) s = mn_controller_manager_get (fx->manager, id, NULL);
  g_assert_nonnull (s);
  if (reason != NULL)
    *reason = g_strdup (s->reason);
  return g_strdup (s->job_id);
}

/* Start slots ([backend] max_starting = 2, the local backend): two jobs
 * start at once; the sessions admitted after them wait, admitted, with a
 * reason, and start in launch order as a slot frees: when a starting app
 * answers, or a starting job ends. */
static void
test_start_slots (Fixture *fx, gconstpointer data)
{
  const gchar *users[] = { "alice", "bob", "carol", "dave" };
  gchar *ids[4];
  g_autofree gchar *reason = NULL;
  g_autoptr(MnSession) got = NULL;

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MnSession) s = launch (fx, users[i], FALSE, &error);
      g_assert_no_error (error);
      g_assert_cmpint (s->state, ==, MN_SESSION_STARTING);
      ids[i] = g_strdup (s->id);
    }
  spin ();
  g_assert_cmpuint (fx->backend->submits, ==, 2);
  g_assert_cmpuint (mn_policy_state_n_running (mn_controller_manager_get_policy (fx->manager)), ==, 4);
  for (guint i = 2; i < 4; i++)
    {
      g_autofree gchar *job = job_of (fx, ids[i], &reason);
      g_assert_null (job);
      g_assert_nonnull (strstr (reason, "waiting to start: 2 sessions launched before it are starting"));
      g_assert_nonnull (strstr (reason, "max_starting = 2"));
      g_clear_pointer (&reason, g_free);
    }
  tick (fx);   /* a poll does not start them either */
  g_assert_cmpuint (fx->backend->submits, ==, 2);

  /* the first one's app answers: carol's starts, not dave's */
  set_job (fx, ids[0], MN_JOB_RUNNING, NULL);
  write_connection (fx, ids[0], 20011);
  tick (fx);
  g_assert_cmpint (state_of (fx, ids[0]), ==, MN_SESSION_RUNNING);
  g_assert_cmpuint (fx->backend->submits, ==, 3);
  {
    g_autofree gchar *carol = job_of (fx, ids[2], NULL), *dave = job_of (fx, ids[3], NULL);
    g_assert_nonnull (carol);
    g_assert_null (dave);
  }

  /* bob's job ends before its app answered: dave's starts */
  set_job (fx, ids[1], MN_JOB_DONE, "exit code 1");
  tick (fx);
  g_assert_cmpint (state_of (fx, ids[1]), ==, MN_SESSION_FAILED);
  g_assert_cmpuint (fx->backend->submits, ==, 4);
  {
    g_autofree gchar *dave = job_of (fx, ids[3], &reason);
    g_assert_nonnull (dave);
    g_assert_cmpstr (reason, ==, "waiting for the job to start");
  }
  for (guint i = 0; i < 4; i++)
    g_free (ids[i]);
}

/* An app that never answers holds its start slot 10 s, not until its
 * ready_timeout: then the next session starts at the next poll. */
static void
test_start_slot_hold (Fixture *fx, gconstpointer data)
{
  const gchar *users[] = { "alice", "bob", "carol" };
  gchar *ids[3];
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MnSession) s = launch (fx, users[i], FALSE, &error);
      g_assert_no_error (error);
      ids[i] = g_strdup (s->id);
    }
  spin ();
  g_assert_cmpuint (fx->backend->submits, ==, 2);
  set_job (fx, ids[0], MN_JOB_RUNNING, NULL);
  set_job (fx, ids[1], MN_JOB_RUNNING, NULL);
  fx->ready = FALSE;   /* their connection files name ports that never answer */
  write_connection (fx, ids[0], 20021);
  write_connection (fx, ids[1], 20022);
  fx->now += 9;
  tick (fx);
  g_assert_cmpuint (fx->backend->submits, ==, 2);
  fx->now += 1;
  tick (fx);
  g_assert_cmpuint (fx->backend->submits, ==, 3);
  {
    g_autofree gchar *carol = job_of (fx, ids[2], NULL);
    g_assert_nonnull (carol);
  }
  g_assert_cmpint (state_of (fx, ids[0]), ==, MN_SESSION_STARTING);
  for (guint i = 0; i < 3; i++)
    g_free (ids[i]);
}

/* A scheduler's backend starts jobs on its nodes: max_starting does not
 * hold its submissions back. */
static void
test_start_slots_scheduler (Fixture *fx, gconstpointer data)
{
  const gchar *users[] = { "alice", "bob", "carol" };
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MnSession) s = launch (fx, users[i], FALSE, &error);
      g_assert_no_error (error);
    }
  spin ();
  g_assert_cmpuint (fx->backend->submits, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/controller/session/happy-path", test_happy_path);
  ADD ("/controller/session/write-before-act", test_write_before_act);
  ADD ("/controller/session/probe-retry", test_probe_retry);
  ADD ("/controller/session/crash-before-ready", test_crash_before_ready);
  ADD ("/controller/session/ready-timeout", test_ready_timeout);
  ADD ("/controller/session/submit-fails", test_submit_fails);
  ADD ("/controller/session/submit-unreachable", test_submit_unreachable);
  ADD ("/controller/session/unknown-and-back", test_unknown_and_back);
  ADD ("/controller/session/running-ends", test_running_ends);
  ADD ("/controller/session/walltime-end", test_walltime_end);
  ADD ("/controller/session/queue-and-refusals", test_queue_and_refusals);
  ADD ("/controller/session/restart", test_restart);
  ADD ("/controller/store/basics", test_store);
  g_test_add_func ("/controller/store/migration-2-3", test_store_migration);
  ADD ("/controller/session/job-id-is-row", test_job_id_is_row);
  ADD ("/controller/session/if-busy-default", test_if_busy_default);
  g_test_add_func ("/controller/session/if-busy-spelling", test_if_busy_spelling);
  g_test_add ("/controller/session/batch", Fixture, "local", setup, test_batch, teardown);
  ADD ("/controller/session/walltime-from-start", test_walltime_from_start);
  ADD ("/controller/session/memory-cap-end", test_memory_cap_end);
  ADD ("/controller/session/gpu-memory-capped", test_gpu_memory_capped);
  ADD ("/controller/session/idle-kernels", test_idle_kernels);
  ADD ("/controller/session/idle-unknown", test_idle_unknown);
  for (gsize i = 0; i < G_N_ELEMENTS (idle_order_rows); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/controller/session/idle-order/%s",
                                                idle_order_rows[i].name);
      g_test_add (path, Fixture, &idle_order_rows[i], setup_row, test_idle_order, teardown);
    }
  ADD ("/controller/session/scheduler-queue", test_scheduler_queue);
  g_test_add ("/controller/session/commands-in-threads", Fixture, "blocking", setup,
              test_commands_in_threads, teardown);
  ADD ("/controller/session/idle-route-bad-id", test_idle_route_bad_id);
  g_test_add ("/controller/session/results-on-main-thread", Fixture, "blocking", setup,
              test_results_on_main_thread, teardown);
  g_test_add ("/controller/session/job-host-node", Fixture, "job-host-node", setup,
              test_job_host_node, teardown);
  g_test_add ("/controller/session/poll-beside-submissions", Fixture, "scheduler", setup,
              test_poll_beside_submissions, teardown);
  g_test_add ("/controller/session/node-availability", Fixture, "nodes", setup,
              test_node_availability, teardown);
  g_test_add ("/controller/session/node-availability-restart", Fixture, "nodes", setup,
              test_node_availability_restart, teardown);
  g_test_add ("/controller/session/start-slots", Fixture, "start-slots", setup,
              test_start_slots, teardown);
  g_test_add ("/controller/session/start-slot-hold", Fixture, "start-slots", setup,
              test_start_slot_hold, teardown);
  g_test_add ("/controller/session/start-slots-scheduler", Fixture, "fake-slots", setup,
              test_start_slots_scheduler, teardown);
  return g_test_run ();
}
