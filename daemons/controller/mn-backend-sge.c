/* mn-backend-sge.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-backend-sge.h"
#include "mn-controller-config.h"
#include "mn-backend-command.h"
#include "mn-backend-sge-nodes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  MnBackend parent;
  gchar    *queue;
  gchar    *batch_queue;
  gchar    *bin_dir;
  gchar    *memory_resource;
  gchar   **envp;
  guint     timeout;
  /* Jobs we deleted: one that qstat no longer lists and qacct has no record
   * of is over (Grid Engine writes no record for a job deleted before it
   * ran).  Any other job missing from both stays unknown: qacct's record
   * comes a moment after a job ends, and a qmaster just restarted may list
   * a running job only later.  Guarded by @lock (poll and cancel run in
   * worker threads). */
  GMutex      lock;
  GHashTable *cancelled;   /* job id */
  /* qstat -f -qs u's answer (NULL: it could not say) and when it was asked
   * (monotonic µs, 0: never): asked again after UNREACHABLE_AGE, not on every
   * poll, since qmaster itself waits max_unheard before it says */
  GHashTable *unheard;
  gint64      unheard_asked;
  /* The queue's hosts in Grid Engine's order (policy node i is the i-th):
   * its host group as last read (queue_hosts); under @lock */
  GStrv       hosts;
  /* qstat's queue instances already reported as not understood (each
   * logged once); under @lock */
  GHashTable *told;
} MnBackendSge;

#define UNREACHABLE_AGE (10 * G_USEC_PER_SEC)

/* Grid Engine's commands under the backend's timeout, as USER when given
 * (mn-backend-command.h; runuser keeps SGE_ROOT/SGE_CELL). */
static gboolean
run (MnBackendSge *self, const gchar *user, const gchar *const *argv, gchar **out,
     gint *out_status, GError **error)
{
  static const gchar *const unreachable[] = {
    "unable to contact qmaster", "unable to send message to qmaster", "commlib error", NULL,
  };
  const MnBackendCommand command = {
    .bin_dir = self->bin_dir, .envp = self->envp, .timeout = self->timeout,
    .daemon = "sge_qmaster", .unreachable = unreachable,
  };
  return mn_backend_command_run (&command, user, argv, out, out_status, error);
}

/* ---- qstat -xml ---------------------------------------------------------- */

typedef struct {
  gchar *id;
  gchar *name;
  gchar *state;      /* r, qw, Eqw, dr, ... */
  gchar *queue;      /* running: queue instance, interactive.q@host */
  gchar *start;      /* running: when it started, 2026-12-07T11:01:59[.519] (local time) */
} QJob;

static void
qjob_free (QJob *j)
{
  g_free (j->id);
  g_free (j->name);
  g_free (j->state);
  g_free (j->queue);
  g_free (j->start);
  g_free (j);
}

typedef struct {
  GPtrArray *jobs;
  QJob      *cur;
  gchar    **field;  /* where the text of the open element goes */
} QParse;

static void
q_start (GMarkupParseContext *ctx, const gchar *element, const gchar **names,
         const gchar **values, gpointer data, GError **error)
{
  QParse *p = data;
  if (g_str_equal (element, "job_list"))
    {
      p->cur = g_new0 (QJob, 1);
      g_ptr_array_add (p->jobs, p->cur);
    }
  else if (p->cur != NULL && g_str_equal (element, "JB_job_number"))
    p->field = &p->cur->id;
  else if (p->cur != NULL && g_str_equal (element, "JB_name"))
    p->field = &p->cur->name;
  else if (p->cur != NULL && g_str_equal (element, "state"))
    p->field = &p->cur->state;
  else if (p->cur != NULL && g_str_equal (element, "queue_name"))
    p->field = &p->cur->queue;
  else if (p->cur != NULL && g_str_equal (element, "JAT_start_time"))
    p->field = &p->cur->start;
}

static void
q_end (GMarkupParseContext *ctx, const gchar *element, gpointer data, GError **error)
{
  QParse *p = data;
  p->field = NULL;
  if (g_str_equal (element, "job_list"))
    p->cur = NULL;
}

static void
q_text (GMarkupParseContext *ctx, const gchar *text, gsize len, gpointer data, GError **error)
{
  QParse *p = data;
  if (p->field != NULL)
    {
      g_free (*p->field);
      *p->field = g_strstrip (g_strndup (text, len));
    }
}

/* Every job of every user, from one qstat. */
static GPtrArray *
qstat_all (MnBackendSge *self, GError **error)
{
  const gchar *argv[] = { "qstat", "-u", "*", "-xml", NULL };
  static const GMarkupParser parser = { q_start, q_end, q_text, NULL, NULL };
  g_autofree gchar *out = NULL;
  g_autoptr(GMarkupParseContext) ctx = NULL;
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) qjob_free);
  QParse p = { jobs, NULL, NULL };
  if (!run (self, NULL, argv, &out, NULL, error))
    return NULL;
  ctx = g_markup_parse_context_new (&parser, 0, &p, NULL);
  if (!g_markup_parse_context_parse (ctx, out, -1, error) ||
      !g_markup_parse_context_end_parse (ctx, error))
    {
      g_prefix_error (error, "qstat -xml: ");
      return NULL;
    }
  for (guint i = 0; i < jobs->len; i++)
    {
      QJob *j = g_ptr_array_index (jobs, i);
      if (j->id == NULL || j->state == NULL)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                       "qstat -xml: a job_list without JB_job_number or state");
          return NULL;
        }
    }
  return g_steal_pointer (&jobs);
}

/* qstat -xml's JAT_start_time (local time, no zone) as seconds since the
 * epoch; 0 when it says nothing readable. */
static gint64
start_time (const gchar *text)
{
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();
  g_autoptr(GDateTime) t = NULL;
  if (text == NULL || text[0] == '\0')
    return 0;
  t = g_date_time_new_from_iso8601 (text, local);
  return t != NULL ? g_date_time_to_unix (t) : 0;
}

/* ---- qstat -f -qs u -xml: queue instances of hosts qmaster does not hear -- */

/* The queue instances whose execution host sge_qmaster has not heard from
 * within max_unheard (state u), or NULL when qstat cannot say; at most
 * UNREACHABLE_AGE old.  A job there
 * may still run or may be gone: only the host knows, so its status is
 * unknown (never ended) until the host reports again. */
static GHashTable *ask_unheard (MnBackendSge *self);

static GHashTable *
unheard_queues (MnBackendSge *self)
{
  GHashTable *unheard = NULL;
  gint64 now = g_get_monotonic_time ();
  gboolean fresh;
  g_mutex_lock (&self->lock);
  fresh = self->unheard_asked != 0 && now - self->unheard_asked < UNREACHABLE_AGE;
  if (fresh && self->unheard != NULL)
    unheard = g_hash_table_ref (self->unheard);
  g_mutex_unlock (&self->lock);
  if (fresh)
    return unheard;
  unheard = ask_unheard (self);
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->unheard, g_hash_table_unref);
  self->unheard = unheard ? g_hash_table_ref (unheard) : NULL;
  self->unheard_asked = now;
  g_mutex_unlock (&self->lock);
  return unheard;
}

static GHashTable *
ask_unheard (MnBackendSge *self)
{
  const gchar *argv[] = { "qstat", "-f", "-qs", "u", "-xml", NULL };
  g_autofree gchar *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) states = NULL;
  GHashTable *unheard;
  GHashTableIter it;
  gpointer instance, state;

  if (!run (self, NULL, argv, &out, NULL, &error))
    {
      g_message ("qstat -f -qs u (the hosts qmaster does not hear): %s", error->message);
      return NULL;
    }
  /* every queue's instances (mn-backend-sge-nodes.c); one it cannot read
   * is not taken for unheard */
  states = mn_sge_qstat_queue_states (out, -1, NULL, problems, &error);
  if (states == NULL)
    {
      g_message ("qstat -f -qs u -xml: %s", error->message);
      return NULL;
    }
  unheard = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init (&it, states);
  /* u: unknown, no load report within max_unheard */
  while (g_hash_table_iter_next (&it, &instance, &state))
    if (strchr (state, 'u') != NULL)
      g_hash_table_add (unheard, g_strdup (instance));
  return unheard;
}

/* ---- backend ---------------------------------------------------------------- */

static gchar *
job_name (const gchar *session_id)
{
  return g_strdup_printf ("minna-%s", session_id);
}

static GStrv queue_hosts (MnBackendSge *self, gboolean refresh, GError **error);

/* -q for an interactive job the policy placed on @node: the queue instance
 * of that node's host, so Grid Engine runs the job where the policy counted
 * it (and its availability was read, sge_node_states); without one, the
 * queue alone, where Grid Engine picks the host itself, logged once per
 * reason. */
static gchar *
interactive_queue (MnBackendSge *self, const gchar *queue, guint node)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) hosts = queue_hosts (self, FALSE, &error);
  g_autofree gchar *why = NULL;
  gchar *target = mn_sge_submit_queue (queue, (const gchar *const *) hosts, node, &why);

  if (why != NULL)
    {
      g_autofree gchar *message = g_strdup_printf ("qsub -q %s: not pinned to the policy's node"
                                                   " (Grid Engine picks the host): %s%s%s",
                                                   queue, why, error != NULL ? ": " : "",
                                                   error != NULL ? error->message : "");

      g_mutex_lock (&self->lock);
      mn_backend_log_once (self->told, message);
      g_mutex_unlock (&self->lock);
    }
  return target;
}

static gchar *
sge_submit (MnBackend *backend, const MnJobSpec *spec, gint64 now, GError **error)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) jobs = NULL;
  g_autofree gchar *name = job_name (spec->session_id);
  g_autofree gchar *out = NULL;
  g_autofree gchar *job_id = NULL;
  g_autoptr(GString) res = g_string_new (NULL);
  const gchar *queue = spec->node >= 0 ? self->queue : self->batch_queue;
  g_autofree gchar *target = NULL;   /* interactive: the queue instance */
  const gchar *user = spec->unix_user;
  (void) now;

  if (geteuid () == 0 && user == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "qsub: Grid Engine runs no job as root; give the session a user");
      return NULL;
    }
  if (user != NULL && geteuid () != 0 && g_strcmp0 (user, g_get_user_name ()) != 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "qsub: cannot submit as '%s' without root", user);
      return NULL;
    }
  if (geteuid () != 0)
    user = NULL;

  /* this session's job already queued or running (a controller killed
   * between qsub and storing the id submits again) */
  jobs = qstat_all (self, error);
  if (jobs == NULL)
    return NULL;
  for (guint i = 0; i < jobs->len; i++)
    {
      QJob *j = g_ptr_array_index (jobs, i);
      if (g_strcmp0 (j->name, name) == 0)
        return g_strdup (j->id);
    }

  g_ptr_array_add (argv, g_strdup ("qsub"));
  g_ptr_array_add (argv, g_strdup ("-terse"));
  g_ptr_array_add (argv, g_strdup ("-N"));
  g_ptr_array_add (argv, g_strdup (name));
  if (spec->allocation != NULL && spec->policy != NULL)
    {
      /* interactive.q: what the policy's model gives the job, as the export
       * configures Grid Engine for it (queue, -now y for give_up, h_rt,
       * h_vmem = the memory limit, gpu or gpu_shard); only the names are
       * the site's: [backend] queue (checked against the export's at
       * start) and the host of the policy's node in the queue's host group,
       * the job's queue instance */
      g_auto(GStrv) model = mn_policy_submit_args_sge (spec->policy, spec->allocation,
                                                       spec->give_up);
      target = interactive_queue (self, queue != NULL ? queue : spec->policy->queue_name,
                                  spec->allocation->node);
      for (gsize i = 0; model[i] != NULL; i++)
        {
          gboolean queue_value = i > 0 && g_str_equal (model[i - 1], "-q");
          g_ptr_array_add (argv, g_strdup (queue_value ? target : model[i]));
        }
    }
  else
    {
      /* batch: what it asked */
      if (queue != NULL)
        {
          g_ptr_array_add (argv, g_strdup ("-q"));
          g_ptr_array_add (argv, g_strdup (queue));
        }
      if (spec->give_up)
        {
          g_ptr_array_add (argv, g_strdup ("-now"));
          g_ptr_array_add (argv, g_strdup ("y"));
        }
      if (spec->walltime > 0)
        g_string_append_printf (res, "h_rt=%" G_GINT64_FORMAT, spec->walltime);
      if (spec->memory_mb > 0 && self->memory_resource != NULL)
        g_string_append_printf (res, "%s%s=%" G_GUINT64_FORMAT "M", res->len ? "," : "",
                                self->memory_resource, spec->memory_mb);
      if (res->len > 0)
        {
          g_ptr_array_add (argv, g_strdup ("-l"));
          g_ptr_array_add (argv, g_strdup (res->str));
        }
    }
  g_ptr_array_add (argv, g_strdup ("-j"));
  g_ptr_array_add (argv, g_strdup ("y"));
  if (spec->output != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("-o"));
      g_ptr_array_add (argv, g_strdup (spec->output));
    }
  if (spec->session_dir != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("-wd"));
      g_ptr_array_add (argv, g_strdup (spec->session_dir));
    }
  g_ptr_array_add (argv, g_strdup (spec->script));
  g_ptr_array_add (argv, NULL);

  /* -now y: qsub waits for the scheduler, then fails if the job would wait
   * (it prints the id even then: only the exit status tells) */
  if (!run (self, user, (const gchar *const *) argv->pdata, &out, NULL, error))
    {
      if (spec->give_up && error != NULL && *error != NULL &&
          strstr ((*error)->message, "could not be scheduled") != NULL)
        g_prefix_error (error, "given up (if_busy = give_up): %s is busy: ",
                        target != NULL ? target : queue != NULL ? queue : "every queue");
      return NULL;
    }
  job_id = g_strdup (g_strstrip (out));
  if (strchr (job_id, '\n') != NULL)
    *strchr (job_id, '\n') = '\0';
  if (job_id[0] == '\0' || strspn (job_id, "0123456789") != strlen (job_id))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "qsub: unexpected answer '%s'", out);
      return NULL;
    }
  return g_steal_pointer (&job_id);
}

static gboolean
sge_cancel (MnBackend *backend, const gchar *job_id, gint64 now, GError **error)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  const gchar *argv[] = { "qdel", job_id, NULL };
  gboolean ok;
  (void) now;
  ok = run (self, NULL, argv, NULL, NULL, error);
  /* also when qdel failed: the job may be gone already */
  g_mutex_lock (&self->lock);
  g_hash_table_add (self->cancelled, g_strdup (job_id));
  g_mutex_unlock (&self->lock);
  return ok;
}

/* Extend: qalter -l h_rt (as the controller, a Grid Engine manager or
 * operator).  qalter replaces the job's whole hard resource list with what
 * -l gives, so the job's own list is read first (qstat -j) and h_rt set in
 * it; Grid Engine refuses past the queue's h_rt, and says so. */
static gboolean
sge_extend (MnBackend *backend, const gchar *job_id, gint64 walltime, gint64 now,
            GError **error)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  const gchar *qstat[] = { "qstat", "-j", job_id, NULL };
  g_autofree gchar *out = NULL, *list = NULL;
  g_autoptr(GString) resources = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  (void) now;
  if (!run (self, NULL, qstat, &out, NULL, error))
    return FALSE;
  lines = g_strsplit (out, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "hard resource_list:"))
      list = g_strstrip (g_strdup (lines[i] + strlen ("hard resource_list:")));
  if (list != NULL)
    {
      g_auto(GStrv) items = g_strsplit (list, ",", -1);
      for (gsize i = 0; items[i] != NULL; i++)
        if (items[i][0] != '\0' && !g_str_has_prefix (items[i], "h_rt="))
          g_string_append_printf (resources, "%s,", items[i]);
    }
  g_string_append_printf (resources, "h_rt=%" G_GINT64_FORMAT, walltime);
  {
    const gchar *argv[] = { "qalter", "-l", resources->str, job_id, NULL };
    return run (self, NULL, argv, NULL, NULL, error);
  }
}

/* A job qstat no longer lists: its accounting record; NULL when there is
 * none (written a moment after the job ends; never for a job deleted before
 * it ran); unknown when qacct cannot answer. */
static MnJobStatus *
from_qacct (MnBackendSge *self, const gchar *job_id)
{
  const gchar *argv[] = { "qacct", "-j", job_id, NULL };
  g_autofree gchar *out = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree gchar *failed = NULL;
  gint exit_status = -1;
  if (!run (self, NULL, argv, &out, NULL, &error))
    {
      /* "error: job id 18 not found" */
      if (!g_error_matches (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_UNREACHABLE) &&
          strstr (error->message, "not found") != NULL)
        return NULL;
      return mn_job_status_new (MN_JOB_UNKNOWN, -1, error->message);
    }
  lines = g_strsplit (out, "\n", -1);
  /* several records (reruns): the last one counts */
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "failed "))
        {
          g_free (failed);
          failed = g_strstrip (g_strdup (lines[i] + strlen ("failed ")));
        }
      else if (g_str_has_prefix (lines[i], "exit_status "))
        exit_status = atoi (lines[i] + strlen ("exit_status "));
    }
  if (failed == NULL)
    return NULL;
  if (!g_str_equal (failed, "0"))
    {
      g_autofree gchar *why = g_strdup_printf ("failed %s", failed);
      return mn_job_status_new (MN_JOB_DONE, -1, why);
    }
  /* 128 + signal: killed (qdel, h_rt) */
  if (exit_status > 128)
    {
      g_autofree gchar *why = g_strdup_printf ("killed by signal %d", exit_status - 128);
      return mn_job_status_new (MN_JOB_DONE, -1, why);
    }
  return mn_job_status_new (MN_JOB_DONE, exit_status, "exited");
}

/* A job qstat no longer lists: its accounting record; without one, over
 * if we deleted it, else unknown for now. */
static MnJobStatus *
gone_from_qstat (MnBackendSge *self, const gchar *job_id)
{
  MnJobStatus *st = from_qacct (self, job_id);
  gboolean cancelled;
  if (st != NULL)
    return st;
  g_mutex_lock (&self->lock);
  cancelled = g_hash_table_contains (self->cancelled, job_id);
  g_mutex_unlock (&self->lock);
  if (!cancelled)
    return mn_job_status_new (MN_JOB_UNKNOWN, -1, "qacct: no record yet");
  st = mn_job_status_new (MN_JOB_DONE, -1, "deleted (no accounting record: it had not started)");
  st->end = MN_END_USER;
  return st;
}

/* Bookkeeping only for the jobs still asked about. */
static void
forget_cancelled (MnBackendSge *self, const gchar *const *job_ids)
{
  GHashTableIter it;
  gpointer key;
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->cancelled);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_strv_contains (job_ids, key))
      g_hash_table_iter_remove (&it);
  g_mutex_unlock (&self->lock);
}

static GHashTable *
sge_poll (MnBackend *backend, const gchar *const *job_ids, gint64 now, GError **error)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  g_autoptr(GHashTable) result = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) mn_job_status_free);
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GHashTable) unheard = NULL;
  gboolean asked_unheard = FALSE;
  (void) now;
  if (job_ids == NULL || job_ids[0] == NULL)
    return g_steal_pointer (&result);

  jobs = qstat_all (self, error);
  if (jobs == NULL)
    return NULL;
  for (guint i = 0; i < jobs->len; i++)
    {
      QJob *j = g_ptr_array_index (jobs, i);
      MnJobStatus *st;
      if (!g_strv_contains (job_ids, j->id))
        continue;
      if (strchr (j->state, 'E') != NULL)
        {
          /* Eqw: the job failed to start and waits for an admin; it will
           * not run on its own */
          g_autofree gchar *why = g_strdup_printf ("error state %s (see qstat -j %s)",
                                                   j->state, j->id);
          st = mn_job_status_new (MN_JOB_DONE, -1, why);
        }
      else if (strchr (j->state, 'r') != NULL || strchr (j->state, 't') != NULL ||
               strchr (j->state, 's') != NULL || strchr (j->state, 'S') != NULL ||
               strchr (j->state, 'd') != NULL)
        {
          const gchar *at = j->queue != NULL ? strchr (j->queue, '@') : NULL;
          if (!asked_unheard && at != NULL)
            {
              unheard = unheard_queues (self);   /* one more qstat, only with jobs running */
              asked_unheard = TRUE;
            }
          if (unheard != NULL && at != NULL && g_hash_table_contains (unheard, j->queue))
            {
              g_autofree gchar *why = g_strdup_printf ("execution host %s is not heard from by"
                                                       " sge_qmaster; its job's state is not known",
                                                       at + 1);
              st = mn_job_status_new (MN_JOB_UNKNOWN, -1, why);
            }
          else
            st = mn_job_status_new (MN_JOB_RUNNING, 0, NULL);
          if (at != NULL && at[1] != '\0')
            st->node = g_strdup (at + 1);
          /* Grid Engine's own start: the walltime and the session's start
           * count from it, not from the poll that saw it */
          st->started = start_time (j->start);
        }
      else
        st = mn_job_status_new (MN_JOB_PENDING, 0, j->state);
      g_hash_table_replace (result, g_strdup (j->id), st);
    }
  for (gsize i = 0; job_ids[i] != NULL; i++)
    if (!g_hash_table_contains (result, job_ids[i]))
      g_hash_table_replace (result, g_strdup (job_ids[i]),
                            gone_from_qstat (self, job_ids[i]));
  forget_cancelled (self, job_ids);
  return g_steal_pointer (&result);
}

/* The queue's hosts, policy node i the i-th: the export's host group
 * @<queue without .q> (which the export says to add the policy's nodes to,
 * in order) as Grid Engine resolves it, which keeps the order the hosts
 * were added in (docs/deploy-sge.md).  Submissions use the list last read;
 * it is read when there is none and, with @refresh, again (the node-state
 * poll, every few seconds: a host added to or removed from the group counts
 * without a restart, and the change is logged). */
static GStrv
queue_hosts (MnBackendSge *self, gboolean refresh, GError **error)
{
  g_auto(GStrv) hosts = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *part = NULL;
  g_autofree gchar *group = NULL;
  MnPolicyConfig named = { .queue_name = self->queue };

  g_mutex_lock (&self->lock);
  hosts = refresh ? NULL : g_strdupv (self->hosts);
  g_mutex_unlock (&self->lock);
  if (hosts != NULL)
    return g_steal_pointer (&hosts);
  /* the export's name for it (interactive.q -> @interactive) */
  part = mn_policy_slurm_partition (&named);
  group = g_strdup_printf ("@%s", part);
  {
    const gchar *argv[] = { "qconf", "-shgrp_resolved", group, NULL };
    g_autoptr(GError) local = NULL;

    if (!run (self, NULL, argv, &out, NULL, error))
      return NULL;
    hosts = mn_sge_hostgroup_hosts (out, &local);
    if (hosts == NULL)
      {
        g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                     "qconf -shgrp_resolved %s: %s", group, local->message);
        return NULL;
      }
  }
  /* a change is logged where it is stored: a submission that found no list
   * and read one while the poll stored another leaves the poll's */
  g_mutex_lock (&self->lock);
  if (self->hosts == NULL || refresh)
    {
      if (self->hosts != NULL && !g_strv_equal ((const gchar *const *) self->hosts,
                                                (const gchar *const *) hosts))
        {
          g_autofree gchar *was = g_strjoinv (" ", self->hosts);
          g_autofree gchar *now = g_strjoinv (" ", hosts);
          g_message ("host group %s changed: %s (was %s); policy node i is its i-th host",
                     group, now[0] ? now : "no hosts", was[0] ? was : "no hosts");
        }
      g_strfreev (self->hosts);
      self->hosts = g_strdupv (hosts);
    }
  g_mutex_unlock (&self->lock);
  return g_steal_pointer (&hosts);
}

/* The queue instances' states (qstat -f -q QUEUE -xml) by policy node
 * (mn_sge_queue_instance: the instance its jobs are submitted to):
 * which take new jobs is mn-backend-sge-nodes.c's decision (every state
 * letter takes none).  An instance qstat lists that the parser does not
 * take is logged once and its node left unsaid; so is a host without an
 * instance. */
static GPtrArray *
sge_node_states (MnBackend *backend, guint n_nodes, GError **error)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_node_state_free);
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) states = NULL;
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) hosts = queue_hosts (self, TRUE, error);
  g_autofree gchar *text = NULL;
  g_autofree gchar *command = g_strdup_printf ("qstat -f -q %s -xml", self->queue);
  const gchar *argv[] = { "qstat", "-f", "-q", self->queue, "-xml", NULL };

  if (hosts == NULL || !run (self, NULL, argv, &text, NULL, error))
    {
      g_prefix_error (error, "the queue instances of %s: ", self->queue);
      return NULL;
    }
  states = mn_sge_qstat_queue_states (text, -1, self->queue, problems, &local);
  if (states == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "the queue instances of %s: %s: %s", self->queue, command, local->message);
      return NULL;
    }
  g_mutex_lock (&self->lock);
  mn_backend_log_problems_once (self->told, command, problems);
  if (g_strv_length (hosts) < n_nodes)
    {
      /* not refused: such a policy runs, its last nodes unpinned (the
       * one-host test cells have fewer hosts than the policy's nodes) */
      g_autofree gchar *message = g_strdup_printf ("[queue] nodes = %u, but %s's host group has %u"
                                                   " host(s): sessions the policy places on nodes"
                                                   " %u-%u run wherever Grid Engine puts them, and"
                                                   " those nodes' availability is not known",
                                                   n_nodes, self->queue, g_strv_length (hosts),
                                                   g_strv_length (hosts) + 1, n_nodes);
      mn_backend_log_once (self->told, message);
    }
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < n_nodes; i++)
    {
      /* the instance its jobs are submitted to (interactive_queue) */
      g_autofree gchar *instance = mn_sge_queue_instance (self->queue,
                                                          (const gchar *const *) hosts, i);
      const gchar *state = instance != NULL ? g_hash_table_lookup (states, instance) : NULL;
      MnNodeState *ns = NULL;

      if (state != NULL)
        {
          ns = g_new0 (MnNodeState, 1);
          ns->name = g_strdup (hosts[i]);
          ns->state = mn_sge_queue_state_words (state);
          mn_sge_queue_state_available (state, &ns->available);
        }
      g_ptr_array_add (out, ns);
    }
  return g_steal_pointer (&out);
}

/* Every job in sge_qmaster's lists named minna-<session>, whoever owns it
 * (one qstat). */
static GPtrArray *
sge_list_jobs (MnBackend *backend, GError **error)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_backend_job_free);
  g_autoptr(GPtrArray) jobs = qstat_all (self, error);
  if (jobs == NULL)
    return NULL;
  for (guint i = 0; i < jobs->len; i++)
    {
      QJob *j = g_ptr_array_index (jobs, i);
      g_autofree gchar *session = mn_backend_session_of_job_name (j->name);
      g_autofree gchar *what = NULL;
      gboolean running;
      if (session == NULL)
        continue;
      running = strchr (j->state, 'r') != NULL || strchr (j->state, 't') != NULL ||
                strchr (j->state, 's') != NULL || strchr (j->state, 'S') != NULL ||
                strchr (j->state, 'd') != NULL;
      what = g_strdup_printf ("state %s%s%s", j->state, j->queue ? " in " : "",
                              j->queue ? j->queue : "");
      g_ptr_array_add (out, mn_backend_job_new (j->id, session,
                                                running ? MN_JOB_RUNNING : MN_JOB_PENDING, what));
    }
  return g_steal_pointer (&out);
}

/* The queue the controller submits to against the one the export makes. */
static gboolean
sge_check_policy (MnBackend *backend, const MnPolicyConfig *policy, GPtrArray *problems)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  if (g_strcmp0 (self->queue, policy->queue_name) == 0)
    return TRUE;
  g_ptr_array_add (problems, g_strdup_printf ("[backend] queue = %s, but 'minna-policy export"
                                              " --sge' configures interactive.q as queue %s"
                                              " ([queue] name)", self->queue, policy->queue_name));
  return FALSE;
}

static gchar *
sge_describe (MnBackend *backend)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  return g_strdup_printf ("sge (cell %s, queue %s, batch %s, timeout %u s, give_up requests:"
                          " qsub -now y, commands from %s)",
                          g_environ_getenv (self->envp, "SGE_CELL")
                            ? g_environ_getenv (self->envp, "SGE_CELL") : "default",
                          self->queue, self->batch_queue ? self->batch_queue : "any",
                          self->timeout, self->bin_dir ? self->bin_dir : "PATH");
}

static void
sge_free (MnBackend *backend)
{
  MnBackendSge *self = (MnBackendSge *) backend;
  g_free (self->queue);
  g_free (self->batch_queue);
  g_free (self->bin_dir);
  g_free (self->memory_resource);
  g_strfreev (self->envp);
  g_hash_table_unref (self->cancelled);
  g_clear_pointer (&self->unheard, g_hash_table_unref);
  g_strfreev (self->hosts);
  g_hash_table_unref (self->told);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static const MnBackendClass sge_class = {
  .name = "sge",
  /* qsub -now y waits for the scheduler; the little state poll and cancel
   * keep is under a lock */
  .submit_in_thread = TRUE,
  .commands_block = TRUE,
  .submit = sge_submit,
  .cancel = sge_cancel,
  .extend = sge_extend,
  .poll = sge_poll,
  .describe = sge_describe,
  .check_policy = sge_check_policy,
  .list_jobs = sge_list_jobs,
  .node_states = sge_node_states,
  .free = sge_free,
};

/* Grid Engine's own clients, $SGE_ROOT/bin/$SGE_ARCH (its standard
 * layout), when [backend] bin_dir does not say where they are and the cell
 * is named (SGE_ROOT and SGE_CELL, from the configuration or the
 * environment).  Debian's qsub, qstat, qacct... in PATH are one shell
 * wrapper that works out the architecture twice on every call (util/arch:
 * uname, cpp, ldd; about 40 processes, 0.3 s of CPU) before it runs
 * exactly that binary: with a lecture's 42 qsubs and their qstat checks
 * that was most of the controller's work.  The architecture is asked once
 * here (SGE_ARCH, else util/arch), as the wrapper would.  NULL: PATH, as
 * before (and *envp unchanged). */
static gchar *
cell_bin_dir (gchar ***envp)
{
  const gchar *root = g_environ_getenv (*envp, "SGE_ROOT");
  const gchar *arch = g_environ_getenv (*envp, "SGE_ARCH");
  g_autofree gchar *asked = NULL;
  g_autofree gchar *dir = NULL;
  g_autofree gchar *qsub = NULL;
  if (root == NULL || root[0] == '\0' || g_environ_getenv (*envp, "SGE_CELL") == NULL)
    return NULL;
  if (arch == NULL || arch[0] == '\0')
    {
      g_autofree gchar *script = g_build_filename (root, "util", "arch", NULL);
      const gchar *argv[] = { script, NULL };
      gint status = -1;
      if (!g_file_test (script, G_FILE_TEST_IS_EXECUTABLE) ||
          !g_spawn_sync ("/", (gchar **) argv, *envp, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                         &asked, NULL, &status, NULL) ||
          !g_spawn_check_wait_status (status, NULL))
        return NULL;
      arch = g_strstrip (asked);
      if (arch[0] == '\0' || strchr (arch, '/') != NULL)
        return NULL;
    }
  dir = g_build_filename (root, "bin", arch, NULL);
  qsub = g_build_filename (dir, "qsub", NULL);
  if (!g_file_test (qsub, G_FILE_TEST_IS_EXECUTABLE))
    return NULL;
  *envp = g_environ_setenv (*envp, "SGE_ARCH", arch, TRUE);
  return g_steal_pointer (&dir);
}

MnBackend *
mn_backend_sge_new (const MnBackendSgeOptions *options, GError **error)
{
  MnBackendSge *self;
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree gchar *bin_dir = g_strdup (options->bin_dir);
  g_autofree gchar *qsub = NULL;
  if (options->sge_root != NULL)
    envp = g_environ_setenv (envp, "SGE_ROOT", options->sge_root, TRUE);
  if (options->sge_cell != NULL)
    envp = g_environ_setenv (envp, "SGE_CELL", options->sge_cell, TRUE);
  if (bin_dir == NULL)
    bin_dir = cell_bin_dir (&envp);
  if (bin_dir != NULL)
    qsub = g_build_filename (bin_dir, "qsub", NULL);
  else
    qsub = g_find_program_in_path ("qsub");
  if (qsub == NULL || !g_file_test (qsub, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "sge backend: qsub not found%s%s",
                   bin_dir ? " in " : " in PATH", bin_dir ? bin_dir : "");
      return NULL;
    }
  self = g_new0 (MnBackendSge, 1);
  self->parent.klass = &sge_class;
  self->queue = g_strdup (options->queue ? options->queue : "interactive.q");
  self->batch_queue = g_strdup (options->batch_queue);
  self->bin_dir = g_steal_pointer (&bin_dir);
  self->memory_resource = options->memory_resource && options->memory_resource[0]
                            ? g_strdup (options->memory_resource) : NULL;
  self->timeout = options->command_timeout ? options->command_timeout : 15;
  self->envp = g_steal_pointer (&envp);
  g_mutex_init (&self->lock);
  self->cancelled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->told = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return &self->parent;
}
