/* mn-controller-jobs.c: a session's job: its directory (scripts, token,
 * output), submitting it (in a worker thread), cancelling it, stopping a
 * session. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"
#include "mn-controller-output.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gchar *
mn_manager_output_tail (MnControllerManager *self, const MnSession *s)
{
  g_autofree gchar *dir = mn_controller_manager_session_dir (self, s->id);
  g_autofree gchar *path = g_build_filename (dir, "output.log", NULL);
  g_autofree gchar *raw = NULL, *data = NULL;
  const gchar *secrets[] = { s->token, NULL };
  gsize len = 0;
  const gchar *start;
  guint lines = 0;

  /* the user owns the directory: not a symlink to a file only root reads
   * (mn-controller-output.h); and the reason is shown in the portal, so
   * no secret the app printed */
  raw = mn_controller_output_tail (path, 16384, NULL, NULL, NULL);
  data = raw != NULL ? mn_controller_output_scrub (raw, secrets) : NULL;
  len = data != NULL ? strlen (data) : 0;
  if (len == 0)
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
cancel_work (gpointer data)
{
  CancelCall *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *key = g_strconcat ("cancel:", c->id, NULL);
  if (!mn_backend_cancel (c->self->backend, c->job_id, 0, &error))
    mn_log_limit_log (c->self->log, G_LOG_LEVEL_MESSAGE, key, "session %s: cancel job %s: %s"
                      " (will retry)", c->id, c->job_id, error->message);
  else
    mn_log_limit_clear (c->self->log, key, NULL);
}

/* Cancels session @id's job.  A scheduler's scancel/qdel takes seconds and
 * hangs while its daemon is down, so it runs in a worker thread (one per
 * session at a time); the polls see the job end, and an ending session
 * cancels again if it does not. */
void
mn_manager_cancel_job (MnControllerManager *self, const gchar *id, const gchar *job_id)
{
  CancelCall *c;
  /* the end it carries out is stored before (a refusal keeps it pending) */
  mn_manager_settle (self, id);
  if (!self->backend->klass->commands_block)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *key = g_strconcat ("cancel:", id, NULL);
      if (!mn_backend_cancel (self->backend, job_id, mn_controller_manager_now (self), &error))
        mn_log_limit_log (self->log, G_LOG_LEVEL_MESSAGE, key, "session %s: cancel job %s: %s"
                          " (will retry)", id, job_id, error->message);
      else
        mn_log_limit_clear (self->log, key, NULL);
      return;
    }
  if (g_hash_table_contains (self->cancelling, id))
    return;
  c = g_new0 (CancelCall, 1);
  c->self = mn_controller_manager_ref (self);
  c->id = g_strdup (id);
  c->job_id = g_strdup (job_id);
  g_hash_table_add (self->cancelling, g_strdup (id));
  mn_manager_run_in_worker (self, cancel_work, NULL, c, (GDestroyNotify) cancel_call_free);
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

/* The session directory with the job's scripts, token and output file.
 * Reads only @s (a copy) and the manager's fixed configuration: it runs in
 * the submit threads, off the main loop (a lecture's hundred launches made
 * a hundred directories of files there and held every answer up). */
static gboolean
prepare_dir (MnControllerManager *self, const MnSession *s, const MnApp *app, GError **error)
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
      /* runs in submit threads: not getpwnam's static buffer */
      struct passwd pwbuf, *pw = NULL;
      gchar buf[4096];
      if (getpwnam_r (unix_user, &pwbuf, buf, sizeof buf, &pw) != 0)
        pw = NULL;
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
  o.locks_per_user = self->config->port_locks_per_user;
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
          mn_manager_set_reason (s, why);
          mn_manager_save (self, s, why);
        }
      return;
    }
  if (job_id == NULL)
    {
      g_autofree gchar *why = g_strdup_printf ("the scheduler refused the job: %s", error->message);
      mn_manager_finish (self, s, MN_SESSION_FAILED, MN_END_FAILED, why);
      return;
    }
  mn_manager_fault_point ("submitted-before-save");
  g_free (s->job_id);
  s->job_id = g_strdup (job_id);
  s->submitted = mn_controller_manager_now (self);
  mn_manager_set_reason (s, "waiting for the job to start");
  event = g_strdup_printf ("submitted as job %s", s->job_id);
  g_debug ("session %s: %s", s->id, event);
  mn_manager_kick (self);   /* polled soon: its app is looked for from then on */
  /* committed with the others of this iteration ("submitted-stored" then;
   * a commit refused puts the id in unsaved_jobs: mn-controller-commit.c) */
  if (mn_manager_save_later (self, s, event))
    {
      g_hash_table_remove (self->unsaved_jobs, s->id);
      return;
    }
  /* the job exists, the store does not know: kept here and stored again at
   * the next poll; cancelled if the session ends before that */
  g_hash_table_replace (self->unsaved_jobs, g_strdup (s->id), g_strdup (job_id));
}

void
mn_manager_submitted_again (MnControllerManager *self, MnSession *s, const gchar *job_id)
{
  g_autofree gchar *id = g_strdup (job_id);
  submitted (self, s, id, NULL);
}

/* Submissions wait on the scheduler (sbatch; for the local backend the
 * kernel's cgroup mkdir and the child's exec) and on the file system (the
 * session directory), so they run in threads and a lecture hall's launches
 * overlap instead of queueing on the main loop.  The thread works on a copy
 * of the session; the result is applied on the main loop. */
typedef struct {
  MnControllerManager *self;
  MnSession *session;        /* a copy */
  MnApp  *app;               /* a reference: a SIGHUP may replace the manager's apps */
  gchar  *dir, *script, *output;
  MnPolicyAllocation allocation;
  MnPolicyConfig *policy;    /* NULL: batch */
  gint64  now;
  gboolean prepare_failed;   /* the directory could not be made: @error says why */
  gchar  *job_id;
  GError *error;
} SubmitCall;

static void
submit_call_free (SubmitCall *c)
{
  g_hash_table_remove (c->self->busy, c->session->id);
  mn_controller_manager_unref (c->self);
  mn_session_free (c->session);
  mn_app_free (c->app);
  g_free (c->dir);
  g_free (c->script);
  g_free (c->output);
  g_clear_pointer (&c->policy, mn_policy_config_free);
  g_free (c->job_id);
  g_clear_error (&c->error);
  g_free (c);
}

/* In a worker thread (or inline for backends without submit_in_thread). */
static void
submit_work (gpointer data)
{
  SubmitCall *c = data;
  const MnSession *s = c->session;
  MnJobSpec spec = { 0 };
  if (!prepare_dir (c->self, s, c->app, &c->error))
    {
      c->prepare_failed = TRUE;
      return;
    }
  spec.session_id = s->id;
  spec.session_dir = c->dir;
  spec.script = c->script;
  spec.output = c->output;
  spec.unix_user = job_user (c->self, s);
  spec.cores = s->cores;
  spec.memory_mb = s->memory_mb;
  spec.gpus = s->gpus;
  spec.walltime = s->walltime;
  spec.node = s->node;
  spec.logical = s->logical;
  spec.give_up = s->give_up;
  mn_manager_fault_point ("submit-before");
  if (c->policy != NULL)
    {
      spec.allocation = &c->allocation;
      spec.policy = c->policy;
    }
  c->job_id = mn_backend_submit (c->self->backend, &spec, c->now, &c->error);
  if (c->job_id != NULL)
    mn_manager_fault_point ("submit-after");
}

/* On the main loop. */
static void
submit_finish (gpointer data)
{
  SubmitCall *c = data;
  MnControllerManager *self = c->self;
  MnSession *s = g_hash_table_lookup (self->live, c->session->id);
  if (c->prepare_failed)
    {
      if (s != NULL && s->state == MN_SESSION_STARTING && s->job_id == NULL)
        mn_manager_finish (self, s, MN_SESSION_FAILED, MN_END_FAILED, c->error->message);
    }
  else if (s != NULL && s->state == MN_SESSION_STARTING && s->job_id == NULL)
    submitted (self, s, c->job_id, c->error);
  else if (c->job_id != NULL)
    mn_manager_cancel_job (self, c->session->id, c->job_id);   /* stopped while it was being submitted */
}

void
mn_manager_start_job (MnControllerManager *self, MnSession *s)
{
  const MnApp *app = mn_controller_manager_find_app (self, s->app);
  SubmitCall *c;
  MnPolicyAllocation allocation;

  if (!mn_manager_settle (self, s->id))
    return;   /* the next poll submits it */
  if (app == NULL)
    {
      g_autofree gchar *why = g_strdup_printf ("app '%s' is no longer defined", s->app);
      mn_manager_finish (self, s, MN_SESSION_FAILED, MN_END_FAILED, why);
      return;
    }
  if (!mn_manager_may_start (self, s))
    return;   /* mn_manager_start_next submits it once a slot is free */
  c = g_new0 (SubmitCall, 1);
  c->self = mn_controller_manager_ref (self);
  c->session = mn_session_copy (s);
  c->app = mn_app_ref ((MnApp *) app);
  c->dir = mn_controller_manager_session_dir (self, s->id);
  c->script = g_build_filename (c->dir, "job.sh", NULL);
  c->output = g_build_filename (c->dir, "output.log", NULL);
  c->now = mn_controller_manager_now (self);
  /* what the policy gave it, for the backend to enforce or express; a copy
   * of the policy: SIGHUP may replace it while the thread runs */
  if (mn_manager_is_interactive (s) &&
      mn_policy_state_allocation (self->policy, (guint64) s->num, &allocation))
    {
      c->allocation = allocation;
      c->policy = mn_policy_config_copy (mn_policy_state_get_config (self->policy));
    }
  g_hash_table_insert (self->busy, g_strdup (s->id), (gpointer) "submit");
  g_debug ("session %s: submitting", s->id);
  if (self->backend->klass->submit_in_thread)
    {
      mn_manager_run_in_worker (self, submit_work, submit_finish, c,
                                (GDestroyNotify) submit_call_free);
      return;
    }
  submit_work (c);
  submit_finish (c);   /* may finish (fail) and free @s */
  submit_call_free (c);
}

/* ---- stop ------------------------------------------------------------- */

/* A stop the store did not take: the session goes on as it was; logged. */
static gboolean
refused (MnControllerManager *self, const gchar *id, GError **error, GError **local)
{
  mn_log_limit_log (self->log, G_LOG_LEVEL_WARNING, "refused-stop",
                    "session %s: stop refused, the session goes on: %s", id, (*local)->message);
  g_prefix_error (local, "the stop was not recorded, so the session goes on: ");
  g_propagate_error (error, g_steal_pointer (local));
  return FALSE;
}

gboolean
mn_controller_manager_stop (MnControllerManager *self, const gchar *id, MnEndReason end,
                            const gchar *why, GError **error)
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
  if (mn_manager_is_pending (self, s))
    {
      /* its end happened and waits for the store: that end is the stop */
      PendingFinish *p = g_hash_table_lookup (self->pending, id);
      g_autofree gchar *reason = g_strdup (p->reason);
      if (!mn_manager_try_finish (self, s, p->state, p->end, reason, &local))
        return refused (self, id, error, &local);
      return TRUE;
    }
  if (s->state == MN_SESSION_QUEUED || s->job_id == NULL)
    {
      /* never started: whoever stopped it, it was withdrawn */
      if (!mn_manager_try_finish (self, s, MN_SESSION_ENDED,
                                  s->state == MN_SESSION_QUEUED ? MN_END_CANCELLED : end, why,
                                  &local))
        return refused (self, id, error, &local);
      return TRUE;
    }
  if (s->state != MN_SESSION_ENDING)
    {
      if (s->state == MN_SESSION_UNKNOWN)
        s->prev_state = MN_SESSION_ENDING;
      else
        s->state = MN_SESSION_ENDING;
      s->stop_requested = now;
      s->end_reason = end;
      mn_manager_set_reason (s, why);
      /* stored first: a refusal changes nothing, here or in the world */
      if (!mn_manager_save_or_error (self, s, why, &local))
        return refused (self, id, error, &local);
      mn_manager_fault_point ("stop-stored");
    }
  mn_manager_cancel_job (self, s->id, s->job_id);
  mn_manager_fault_point ("stop-cancelled");
  if (s->host != NULL)
    mn_manager_delete_route (self, s->id);
  mn_manager_kick (self);
  return TRUE;
}
