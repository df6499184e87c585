/* mn-backend-slurm.c */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-backend-slurm.h"
#include "mn-controller-config.h"
#include "mn-backend-command.h"
#include "mn-backend-slurm-nodes.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  MnBackend parent;
  gchar    *partition;
  gchar    *batch_partition;
  gchar    *bin_dir;
  guint     timeout;
  guint     give_up_after;
  /* NodeName -> NodeAddr (sinfo), for the running job's node: the address
   * Slurm itself reaches the node at (NodeName need not resolve).  Filled
   * when a node is missing; guarded by @lock (polls run in a worker thread). */
  GMutex      lock;
  GHashTable *node_addr;
  /* sinfo --dead's answer (NULL: it could not say) and when it was asked
   * (monotonic µs, 0: never): asked again after UNREACHABLE_AGE, not on every
   * poll, since Slurm itself takes SlurmdTimeout/3 to notice a silent node */
  GHashTable *dead;
  gint64      dead_asked;
  /* The partition's nodes in Slurm's order (policy node i is the i-th):
   * asked once, at the first submission that names a node; under @lock */
  GStrv       nodes;
  /* sinfo lines already reported as not understood (each logged once) */
  GHashTable *told;
} MnBackendSlurm;

#define UNREACHABLE_AGE (10 * G_USEC_PER_SEC)

/* Slurm's commands under the backend's timeout (mn-backend-command.h). */
static gboolean
run (MnBackendSlurm *self, const gchar *const *argv, gchar **out, gint *out_status,
     GError **error)
{
  static const gchar *const unreachable[] = {
    "Unable to contact slurm controller", "Socket timed out", NULL,
  };
  const MnBackendCommand command = {
    .bin_dir = self->bin_dir, .timeout = self->timeout, .daemon = "slurmctld",
    .unreachable = unreachable,
  };
  return mn_backend_command_run (&command, NULL, argv, out, out_status, error);
}

static gchar *
job_name (const gchar *session_id)
{
  return g_strdup_printf ("minna-%s", session_id);
}

/* D-HH:MM:SS, rounded up to whole minutes as Slurm keeps them. */
static gchar *
slurm_time (gint64 seconds)
{
  gint64 m = (seconds + 59) / 60;
  if (m < 1)
    m = 1;
  return g_strdup_printf ("%" G_GINT64_FORMAT "-%02d:%02d:00", m / 1440,
                          (gint) (m % 1440 / 60), (gint) (m % 60));
}

/* The id of this session's job if one is already queued or running (a
 * controller killed between sbatch and storing the id submits again). */
static gchar *
find_existing (MnBackendSlurm *self, const gchar *name, GError **error)
{
  g_autofree gchar *arg = g_strdup_printf ("--name=%s", name);
  const gchar *argv[] = { "squeue", "-h", "-o", "%i", arg, NULL };
  g_autofree gchar *out = NULL;
  g_auto(GStrv) lines = NULL;
  if (!run (self, argv, &out, NULL, error))
    return NULL;
  lines = g_strsplit (g_strstrip (out), "\n", 2);
  return lines[0] != NULL && lines[0][0] != '\0' ? g_strdup (lines[0]) : g_strdup ("");
}

static gchar *
squeue_state (MnBackendSlurm *self, const gchar *job_id, GError **error)
{
  const gchar *argv[] = { "squeue", "-h", "-o", "%T", "-j", job_id, NULL };
  g_autofree gchar *out = NULL;
  if (!run (self, argv, &out, NULL, error))
    return NULL;
  return g_strdup (g_strstrip (out));
}

/* The partition's nodes, policy node i the i-th: as slurmctld lists them
 * (scontrol show hostnames of its Nodes=, in Slurm's node order), which the
 * export writes as <partition>1..N.  Asked once. */
static GStrv
partition_nodes (MnBackendSlurm *self, GError **error)
{
  g_auto(GStrv) nodes = NULL;

  g_mutex_lock (&self->lock);
  nodes = g_strdupv (self->nodes);
  g_mutex_unlock (&self->lock);
  if (nodes == NULL)
    {
      g_autofree gchar *arg = g_strdup_printf ("partition=%s", self->partition);
      const gchar *show[] = { "scontrol", "-o", "show", arg, NULL };
      g_autofree gchar *out = NULL;
      g_autofree gchar *hosts = NULL;
      const gchar *field;

      if (!run (self, show, &out, NULL, error))
        return NULL;
      field = strstr (out, " Nodes=");
      if (field == NULL)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                       "scontrol show partition %s: no Nodes= in '%s'", self->partition,
                       g_strstrip (out));
          return NULL;
        }
      {
        g_autofree gchar *list = g_strndup (field + 7, strcspn (field + 7, " \n"));
        const gchar *expand[] = { "scontrol", "show", "hostnames", list, NULL };

        if (!run (self, expand, &hosts, NULL, error))
          return NULL;
      }
      nodes = g_strsplit (g_strstrip (hosts), "\n", -1);
      g_mutex_lock (&self->lock);
      if (self->nodes == NULL)
        self->nodes = g_strdupv (nodes);
      g_mutex_unlock (&self->lock);
    }
  return g_steal_pointer (&nodes);
}

/* Slurm's name of policy node @node. */
static gchar *
partition_node (MnBackendSlurm *self, guint node, GError **error)
{
  g_auto(GStrv) nodes = partition_nodes (self, error);
  gchar *name = NULL;

  if (nodes == NULL)
    return NULL;
  if (node < g_strv_length (nodes) && nodes[node][0] != '\0')
    name = g_strdup (nodes[node]);
  else
    g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                 "the policy placed a job on node %u (0-based), but partition %s has %u"
                 " nodes: [queue] nodes must match the partition's", node, self->partition,
                 g_strv_length (nodes));
  return name;
}

static gchar *
slurm_submit (MnBackend *backend, const MnJobSpec *spec, gint64 now, GError **error)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *name = job_name (spec->session_id);
  g_autofree gchar *existing = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *job_id = NULL;
  const gchar *partition = spec->node >= 0 ? self->partition : self->batch_partition;

  existing = find_existing (self, name, error);
  if (existing == NULL)
    return NULL;
  if (existing[0] != '\0')
    return g_steal_pointer (&existing);

  g_ptr_array_add (argv, g_strdup ("sbatch"));
  g_ptr_array_add (argv, g_strdup ("--parsable"));
  if (spec->unix_user != NULL && geteuid () == 0)
    {
      /* getpwnam_r: submissions run in worker threads */
      struct passwd pwbuf, *pw = NULL;
      gchar pwtext[4096];
      if (getpwnam_r (spec->unix_user, &pwbuf, pwtext, sizeof pwtext, &pw) != 0)
        pw = NULL;
      if (pw == NULL)
        {
          g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                       "sbatch: no such user '%s'", spec->unix_user);
          return NULL;
        }
      g_ptr_array_add (argv, g_strdup_printf ("--uid=%u", (guint) pw->pw_uid));
      g_ptr_array_add (argv, g_strdup_printf ("--gid=%u", (guint) pw->pw_gid));
      /* or the job inherits the controller's environment (root's HOME) */
      g_ptr_array_add (argv, g_strdup ("--export=NONE"));
    }
  g_ptr_array_add (argv, g_strdup_printf ("--job-name=%s", name));
  if (spec->allocation != NULL && spec->policy != NULL)
    {
      /* interactive.q: what the policy's model gives the job, as the export
       * configures Slurm for it (partition, time, memory, cores, its node
       * and logical node, gpu or shard GRES); only the names are the
       * site's: [backend] partition (checked against the export's at
       * start) and the partition's nodes */
      g_auto(GStrv) model = mn_policy_submit_args_slurm (spec->policy, spec->allocation);
      for (gsize i = 0; model[i] != NULL; i++)
        if (g_str_has_prefix (model[i], "--partition=") && partition != NULL)
          g_ptr_array_add (argv, g_strdup_printf ("--partition=%s", partition));
        else if (g_str_has_prefix (model[i], "--nodelist="))
          {
            g_autofree gchar *node = partition_node (self, spec->allocation->node, error);

            if (node == NULL)
              {
                g_prefix_error (error, "sbatch: ");
                return NULL;
              }
            g_ptr_array_add (argv, g_strdup_printf ("--nodelist=%s", node));
          }
        else
          g_ptr_array_add (argv, g_strdup (model[i]));
    }
  else
    {
      /* batch: what it asked */
      if (partition != NULL)
        g_ptr_array_add (argv, g_strdup_printf ("--partition=%s", partition));
      if (spec->walltime > 0)
        {
          g_autofree gchar *t = slurm_time (spec->walltime);
          g_ptr_array_add (argv, g_strdup_printf ("--time=%s", t));
        }
      if (spec->memory_mb > 0)
        g_ptr_array_add (argv, g_strdup_printf ("--mem=%" G_GUINT64_FORMAT "M", spec->memory_mb));
      if (spec->cores > 0)
        g_ptr_array_add (argv, g_strdup_printf ("--cpus-per-task=%u", spec->cores));
      if (spec->gpus > 0)
        g_ptr_array_add (argv, g_strdup_printf ("--gres=gpu:%u", spec->gpus));
    }
  if (spec->output != NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--output=%s", spec->output));
  if (spec->session_dir != NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--chdir=%s", spec->session_dir));
  g_ptr_array_add (argv, g_strdup (spec->script));
  g_ptr_array_add (argv, NULL);

  if (!run (self, (const gchar *const *) argv->pdata, &out, NULL, error))
    return NULL;
  /* --parsable: "ID" or "ID;cluster" */
  job_id = g_strdup (g_strstrip (out));
  if (strchr (job_id, ';') != NULL)
    *strchr (job_id, ';') = '\0';
  if (job_id[0] == '\0' || strspn (job_id, "0123456789_") != strlen (job_id))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                   "sbatch: unexpected answer '%s'", out);
      return NULL;
    }

  if (spec->give_up)
    {
      /* Give up if busy, exactly: the job either runs within the grace or
       * is cancelled; a job that never ran is the same as no job. */
      gint64 end = g_get_monotonic_time () + (gint64) self->give_up_after * G_USEC_PER_SEC;
      for (;;)
        {
          g_autoptr(GError) e = NULL;
          g_autofree gchar *st = squeue_state (self, job_id, &e);
          if (st != NULL && (g_str_equal (st, "RUNNING") || g_str_equal (st, "COMPLETING")
                             || g_str_equal (st, "COMPLETED")))
            break;
          if (g_get_monotonic_time () >= end)
            {
              const gchar *cancel[] = { "scancel", job_id, NULL };
              g_autoptr(GError) ce = NULL;
              if (!run (self, cancel, NULL, NULL, &ce))
                g_warning ("give-up: scancel %s: %s", job_id, ce->message);
              g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_BACKEND,
                           "given up (if_busy = give_up): partition %s is busy, job %s did not"
                           " start within %u s and was cancelled", partition ? partition : "(default)",
                           job_id, self->give_up_after);
              return NULL;
            }
          g_usleep (200 * 1000);
        }
    }
  (void) now;
  return g_steal_pointer (&job_id);
}

static gboolean
slurm_cancel (MnBackend *backend, const gchar *job_id, gint64 now, GError **error)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  const gchar *argv[] = { "scancel", job_id, NULL };
  (void) now;
  return run (self, argv, NULL, NULL, error);
}

/* Extend: scontrol update TimeLimit (the controller runs it as Slurm's
 * operator: users may only lower their jobs' limits).  Slurm refuses past
 * the partition's MaxTime, and says so. */
static gboolean
slurm_extend (MnBackend *backend, const gchar *job_id, gint64 walltime, gint64 now,
              GError **error)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  g_autofree gchar *id = g_strdup_printf ("JobId=%s", job_id);
  /* [days-]hours:minutes:seconds; Slurm keeps whole minutes: round up */
  gint64 minutes = (walltime + 59) / 60;
  g_autofree gchar *limit = g_strdup_printf ("TimeLimit=%" G_GINT64_FORMAT ":%02d:00",
                                             minutes / 60, (gint) (minutes % 60));
  const gchar *argv[] = { "scontrol", "update", id, limit, NULL };
  (void) now;
  /* Just after a job starts, slurmctld may answer "Job update not
   * available right now, the DB index is being set, try again in a bit":
   * a transient refusal, not the scheduler saying no.  This runs in a
   * worker thread (mn-controller-extend.c), so waiting here blocks no one;
   * at most 20 tries a second apart (after a slurmctld restart the index
   * took longer than a few seconds in CI). */
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local = NULL;

      if (run (self, argv, NULL, NULL, &local))
        return TRUE;
      if (attempt >= 20 || strstr (local->message, "try again") == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_usleep (G_USEC_PER_SEC);
    }
}

/* squeue's local time (2026-11-23T23:30:00) in s since the epoch; 0 for
 * N/A, Unknown or anything else. */
static gint64
slurm_timestamp (const gchar *text)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_local ();
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (text, tz);
  return dt != NULL ? g_date_time_to_unix (dt) : 0;
}

/* "CANCELLED by 0" -> "CANCELLED" */
static gchar *
first_word (const gchar *s)
{
  return g_strndup (s, strcspn (s, " +"));
}

static gboolean
is_live (const gchar *state, MnJobState *out)
{
  static const gchar *const pending[] = { "PENDING", "CONFIGURING", "REQUEUED",
                                          "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
                                          "SUSPENDED", NULL };
  static const gchar *const running[] = { "RUNNING", "COMPLETING", "STAGE_OUT",
                                          "SIGNALING", "RESIZING", NULL };
  if (g_strv_contains (pending, state))
    *out = MN_JOB_PENDING;
  else if (g_strv_contains (running, state))
    *out = MN_JOB_RUNNING;
  else
    return FALSE;
  return TRUE;
}

/* The address of node @name as slurm.conf gives it (NodeAddr, which
 * defaults to NodeName); NULL when sinfo cannot say. */
static gchar *
node_address (MnBackendSlurm *self, const gchar *name)
{
  gchar *addr;
  g_mutex_lock (&self->lock);
  addr = g_strdup (g_hash_table_lookup (self->node_addr, name));
  g_mutex_unlock (&self->lock);
  if (addr == NULL)
    {
      const gchar *argv[] = { "sinfo", "-h", "-N", "-o", "%N|%o", NULL };
      g_autofree gchar *out = NULL;
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) lines = NULL;
      if (!run (self, argv, &out, NULL, &error))
        {
          g_message ("sinfo (the address of node %s): %s", name, error->message);
          return NULL;
        }
      lines = g_strsplit (out, "\n", -1);
      g_mutex_lock (&self->lock);
      for (gsize i = 0; lines[i] != NULL; i++)
        {
          g_auto(GStrv) f = g_strsplit (lines[i], "|", 2);
          if (g_strv_length (f) == 2 && f[0][0] != '\0' && f[1][0] != '\0')
            g_hash_table_replace (self->node_addr, g_strdup (f[0]), g_strdup (g_strstrip (f[1])));
        }
      addr = g_strdup (g_hash_table_lookup (self->node_addr, name));
      g_mutex_unlock (&self->lock);
    }
  return addr;
}

/* The nodes slurmctld cannot reach (sinfo --dead: "not responding", shown
 * with a '*'), or NULL when sinfo cannot say; at most UNREACHABLE_AGE old.  A job on such a node may
 * still run or may be gone: only the node knows, so its status is unknown
 * (never ended) until the node answers again or Slurm itself ends the job
 * (SlurmdTimeout: the node DOWN, the job NODE_FAIL in sacct). */
static GHashTable *
dead_nodes (MnBackendSlurm *self)
{
  const gchar *argv[] = { "sinfo", "-h", "-N", "--dead", "-o", "%N", NULL };
  g_autofree gchar *out = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *dead = NULL;
  gint64 now = g_get_monotonic_time ();
  gboolean fresh;
  g_mutex_lock (&self->lock);
  fresh = self->dead_asked != 0 && now - self->dead_asked < UNREACHABLE_AGE;
  if (fresh && self->dead != NULL)
    dead = g_hash_table_ref (self->dead);
  g_mutex_unlock (&self->lock);
  if (fresh)
    return dead;
  if (run (self, argv, &out, NULL, &error))
    {
      dead = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      lines = g_strsplit (out, "\n", -1);
      for (gsize i = 0; lines[i] != NULL; i++)
        {
          g_strstrip (lines[i]);
          if (lines[i][0] != '\0')
            g_hash_table_add (dead, g_strdup (lines[i]));
        }
    }
  else
    g_message ("sinfo --dead (the nodes slurmctld cannot reach): %s", error->message);
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->dead, g_hash_table_unref);
  self->dead = dead ? g_hash_table_ref (dead) : NULL;
  self->dead_asked = now;
  g_mutex_unlock (&self->lock);
  return dead;
}

/* How a job ended, from sacct's State: the codes the controller decides on. */
static MnEndReason
end_of (const gchar *state)
{
  if (g_str_equal (state, "TIMEOUT") || g_str_equal (state, "DEADLINE"))
    return MN_END_WALLTIME;
  if (g_str_equal (state, "OUT_OF_MEMORY"))
    return MN_END_MEMORY_CAP;
  if (g_str_equal (state, "CANCELLED"))
    return MN_END_USER;
  if (g_str_equal (state, "FAILED") || g_str_equal (state, "NODE_FAIL") ||
      g_str_equal (state, "BOOT_FAIL"))
    return MN_END_FAILED;
  if (g_str_equal (state, "COMPLETED"))
    return MN_END_EXITED;
  return MN_END_NONE;
}

static GHashTable *
slurm_poll (MnBackend *backend, const gchar *const *job_ids, gint64 now, GError **error)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  g_autoptr(GHashTable) result = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) mn_job_status_free);
  g_autoptr(GPtrArray) ask_sacct = g_ptr_array_new ();
  g_autoptr(GHashTable) dead = NULL;
  gboolean asked_dead = FALSE;
  g_autofree gchar *list = NULL;
  g_autofree gchar *out = NULL;
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) lines = NULL;
  gint status = 0;
  (void) now;

  if (job_ids == NULL || job_ids[0] == NULL)
    return g_steal_pointer (&result);
  list = g_strjoinv (",", (gchar **) job_ids);

  /* One squeue for every job, whoever owns it. */
  {
    g_autofree gchar *jarg = g_strdup_printf ("--jobs=%s", list);
    /* %S: the expected start of a pending job (N/A until the scheduler has
     * looked); %B: the node running the batch script */
    const gchar *argv[] = { "squeue", "-h", "--states=all", "-o", "%i|%T|%r|%S|%B", jarg, NULL };
    if (!run (self, argv, &out, &status, &local))
      {
        /* all ids gone from slurmctld's memory: squeue says so and fails */
        if (status == 124 || strstr (local->message, "Invalid job id") == NULL)
          {
            g_propagate_error (error, g_steal_pointer (&local));
            return NULL;
          }
        g_clear_pointer (&out, g_free);
        out = g_strdup ("");
      }
  }
  lines = g_strsplit (out, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "|", 5);
      MnJobStatus *js;
      MnJobState st;
      if (g_strv_length (f) < 5 || !g_strv_contains (job_ids, f[0]) || !is_live (f[1], &st))
        continue;
      js = mn_job_status_new (st, 0, st == MN_JOB_PENDING ? f[2] : NULL);
      if (st == MN_JOB_PENDING)
        js->estimated_start = slurm_timestamp (f[3]);
      else
        js->started = slurm_timestamp (f[3]);   /* running: when it started */
      if (st != MN_JOB_PENDING && f[4][0] != '\0' && g_ascii_strcasecmp (f[4], "n/a") != 0)
        {
          if (!asked_dead)
            {
              dead = dead_nodes (self);   /* one sinfo per poll, only with jobs running */
              asked_dead = TRUE;
            }
          if (dead != NULL && g_hash_table_contains (dead, f[4]))
            {
              g_autofree gchar *why = g_strdup_printf ("node %s does not respond to slurmctld;"
                                                       " its job's state is not known", f[4]);
              mn_job_status_free (js);
              js = mn_job_status_new (MN_JOB_UNKNOWN, -1, why);
            }
          js->node = node_address (self, f[4]);
          if (js->node == NULL)
            js->node = g_strdup (f[4]);
        }
      g_hash_table_replace (result, g_strdup (f[0]), js);
    }
  for (gsize i = 0; job_ids[i] != NULL; i++)
    if (!g_hash_table_contains (result, job_ids[i]))
      g_ptr_array_add (ask_sacct, (gpointer) job_ids[i]);
  if (ask_sacct->len == 0)
    return g_steal_pointer (&result);

  /* Finished (or forgotten) jobs: one sacct for all of them. */
  {
    g_autofree gchar *ids = NULL;
    g_autofree gchar *jarg = NULL;
    g_autofree gchar *acct = NULL;
    g_autoptr(GError) e = NULL;
    g_auto(GStrv) rows = NULL;
    g_ptr_array_add (ask_sacct, NULL);
    ids = g_strjoinv (",", (gchar **) ask_sacct->pdata);
    jarg = g_strdup_printf ("--jobs=%s", ids);
    {
      const gchar *argv[] = { "sacct", "-n", "-X", "-P", "-o", "JobID,State,ExitCode",
                              jarg, NULL };
      if (!run (self, argv, &acct, NULL, &e))
        acct = NULL;
    }
    rows = g_strsplit (acct ? acct : "", "\n", -1);
    for (gsize i = 0; rows[i] != NULL; i++)
      {
        g_auto(GStrv) f = g_strsplit (rows[i], "|", 3);
        g_autofree gchar *state = NULL;
        MnJobState live;
        gint code = -1;
        if (g_strv_length (f) < 3 || !g_strv_contains ((const gchar *const *) ask_sacct->pdata, f[0]))
          continue;
        state = first_word (f[1]);
        if (is_live (state, &live))
          {
            /* squeue missed it while sacct has it live: ask again later */
            g_hash_table_replace (result, g_strdup (f[0]),
                                  mn_job_status_new (MN_JOB_UNKNOWN, -1, "squeue and sacct disagree"));
            continue;
          }
        /* ExitCode is "code:signal"; a signal means killed */
        if (g_str_equal (state, "COMPLETED") || g_str_equal (state, "FAILED"))
          {
            g_auto(GStrv) cs = g_strsplit (f[2], ":", 2);
            if (cs[1] == NULL || g_str_equal (cs[1], "0"))
              code = atoi (cs[0]);
          }
        {
          MnJobStatus *done = mn_job_status_new (MN_JOB_DONE, code, state);
          done->end = end_of (state);
          g_hash_table_replace (result, g_strdup (f[0]), done);
        }
      }
    for (guint i = 0; ask_sacct->pdata[i] != NULL; i++)
      if (!g_hash_table_contains (result, ask_sacct->pdata[i]))
        g_hash_table_replace (result, g_strdup (ask_sacct->pdata[i]),
                              mn_job_status_new (MN_JOB_UNKNOWN, -1,
                                          e ? e->message : "neither squeue nor sacct knows the job"));
  }
  return g_steal_pointer (&result);
}

/* The partition's node states (sinfo %T) by policy node: which take new
 * jobs is mn-backend-slurm-nodes.c's decision.  A line sinfo prints that
 * the parser does not take is logged once and its node left unsaid. */
static GPtrArray *
slurm_node_states (MnBackend *backend, guint n_nodes, GError **error)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_node_state_free);
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) states = NULL;
  g_auto(GStrv) nodes = partition_nodes (self, error);
  g_autofree gchar *text = NULL;
  const gchar *argv[] = { "sinfo", "-h", "-N", "-p", self->partition, "-o", "%N|%T", NULL };
  guint n_partition;

  if (nodes == NULL || !run (self, argv, &text, NULL, error))
    {
      g_prefix_error (error, "the node states of partition %s: ", self->partition);
      return NULL;
    }
  states = mn_slurm_sinfo_node_states (text, problems);
  g_mutex_lock (&self->lock);
  {
    g_autofree gchar *command = g_strdup_printf ("sinfo -p %s -o '%%N|%%T'", self->partition);
    mn_backend_log_problems_once (self->told, command, problems);
  }
  g_mutex_unlock (&self->lock);
  n_partition = g_strv_length (nodes);
  for (guint i = 0; i < n_nodes; i++)
    {
      const gchar *state = i < n_partition ? g_hash_table_lookup (states, nodes[i]) : NULL;
      MnNodeState *ns = NULL;

      if (state != NULL)
        {
          ns = g_new0 (MnNodeState, 1);
          ns->name = g_strdup (nodes[i]);
          ns->state = g_strdup (state);
          mn_slurm_node_state_available (state, &ns->available);
        }
      g_ptr_array_add (out, ns);
    }
  return g_steal_pointer (&out);
}

/* Every job in slurmctld's queue named minna-<session>, whoever owns it
 * (one squeue; its default states: pending, running, completing...). */
static GPtrArray *
slurm_list_jobs (MnBackend *backend, GError **error)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  const gchar *argv[] = { "squeue", "-h", "-o", "%i|%T|%u|%B|%j", NULL };
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_backend_job_free);
  g_autofree gchar *text = NULL;
  g_auto(GStrv) lines = NULL;
  if (!run (self, argv, &text, NULL, error))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "|", 5);
      g_autofree gchar *session = NULL;
      g_autofree gchar *what = NULL;
      MnJobState st;
      if (g_strv_length (f) < 5 || (session = mn_backend_session_of_job_name (g_strstrip (f[4]))) == NULL)
        continue;
      if (!is_live (f[1], &st))
        continue;
      what = g_strdup_printf ("%s%s%s, user %s", f[1], st == MN_JOB_RUNNING ? " on " : "",
                              st == MN_JOB_RUNNING ? f[3] : "", f[2]);
      g_ptr_array_add (out, mn_backend_job_new (f[0], session, st, what));
    }
  return g_steal_pointer (&out);
}

/* The partition the controller submits to against the one the policy's
 * export configures. */
static gboolean
slurm_check_policy (MnBackend *backend, const MnPolicyConfig *policy, GPtrArray *problems)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  g_autofree gchar *exported = mn_policy_slurm_partition (policy);
  if (g_strcmp0 (self->partition, exported) == 0)
    return TRUE;
  g_ptr_array_add (problems, g_strdup_printf ("[backend] partition = %s, but 'minna-policy export"
                                              " --slurm' configures interactive.q as partition %s"
                                              " ([queue] name = %s)", self->partition, exported,
                                              policy->queue_name));
  return FALSE;
}

static gchar *
slurm_describe (MnBackend *backend)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  return g_strdup_printf ("slurm (partition %s, batch %s, timeout %u s, give_up requests wait %u s)",
                          self->partition, self->batch_partition ? self->batch_partition : "default",
                          self->timeout,
                          self->give_up_after);
}

static void
slurm_free (MnBackend *backend)
{
  MnBackendSlurm *self = (MnBackendSlurm *) backend;
  g_free (self->partition);
  g_free (self->batch_partition);
  g_free (self->bin_dir);
  g_hash_table_unref (self->node_addr);
  g_clear_pointer (&self->dead, g_hash_table_unref);
  g_strfreev (self->nodes);
  g_hash_table_unref (self->told);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static const MnBackendClass slurm_class = {
  .name = "slurm",
  /* sbatch (and the give-up wait) takes seconds; no state is shared */
  .submit_in_thread = TRUE,
  .commands_block = TRUE,
  .submit = slurm_submit,
  .cancel = slurm_cancel,
  .extend = slurm_extend,
  .poll = slurm_poll,
  .describe = slurm_describe,
  .check_policy = slurm_check_policy,
  .list_jobs = slurm_list_jobs,
  .node_states = slurm_node_states,
  .free = slurm_free,
};

MnBackend *
mn_backend_slurm_new (const MnBackendSlurmOptions *options, GError **error)
{
  MnBackendSlurm *self;
  g_autofree gchar *sbatch = NULL;
  if (options->bin_dir != NULL)
    sbatch = g_build_filename (options->bin_dir, "sbatch", NULL);
  else
    sbatch = g_find_program_in_path ("sbatch");
  if (sbatch == NULL || !g_file_test (sbatch, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_CONFIG,
                   "slurm backend: sbatch not found%s%s",
                   options->bin_dir ? " in " : " in PATH", options->bin_dir ? options->bin_dir : "");
      return NULL;
    }
  self = g_new0 (MnBackendSlurm, 1);
  self->parent.klass = &slurm_class;
  self->partition = g_strdup (options->partition ? options->partition : "interactive");
  self->batch_partition = g_strdup (options->batch_partition);
  self->bin_dir = g_strdup (options->bin_dir);
  self->timeout = options->command_timeout ? options->command_timeout : 15;
  self->give_up_after = options->give_up_after ? options->give_up_after : 10;
  g_mutex_init (&self->lock);
  self->node_addr = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->told = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return &self->parent;
}
