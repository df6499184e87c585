/* mn-controller-starts.c: how many jobs start at once on one host, and how
 * soon a starting job's app is seen answering.
 *
 * Start slots (the local backend, [backend] max_starting).  At the top of a
 * lecture a hundred sessions are admitted within a second.  Each job then
 * starts its processes (the job script's shell, minna-job-launch, the app)
 * on this host's few CPUs.  Started all at once they share the CPUs evenly,
 * so they all come up at about the moment the last one does (issue 14: the
 * launch benchmark's sessions all turned running at the same page poll).
 * Here at most max_starting jobs are starting at a time: submitted, their
 * app not answering yet.  The sessions admitted after them wait for a slot
 * in launch order (the order of their rows), so they come up in the order
 * their users pressed Launch, the first ones at once.  A job holds its slot
 * for at most START_SLOT_HOLD s after its submission: an app that never
 * answers (broken, or made so) delays the others that long, not until its
 * ready_timeout (2 min by default).  This paces only the
 * start of what the policy admitted: the policy's admission, placement and
 * limits are the same, the session is admitted (it holds its place) while
 * it waits, and its walltime counts from its job's start.  Slurm and Grid
 * Engine start jobs on their nodes themselves: no slots there.
 *
 * Readiness rechecks (every backend).  A starting job's connection file and
 * app were looked at only at each poll ([backend] poll_interval_ms, 1 s by
 * default), so an app was seen answering up to a poll after it did, and a
 * start slot was held that long.  Now, once the job runs, a look that found
 * no connection file or no answer is followed by another after a quarter of
 * the time since the first look (at least 25 ms): an app is seen answering
 * within a quarter of the time it took to start, and one that takes long is
 * asked seldom.  Past the poll interval the polls look again. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

#define MIN_RECHECK_MS 25
#define START_SLOT_HOLD 10   /* s */

typedef struct {
  MnControllerManager *self;
  gchar               *id;
  guint                source;
  gint64               first;   /* monotonic µs of the first look that found nothing */
} Recheck;

static void
recheck_free (Recheck *r)
{
  g_clear_handle_id (&r->source, g_source_remove);
  g_free (r->id);
  g_free (r);
}

static guint
start_slots_for (const gchar *backend, guint max_starting)
{
  if (g_strcmp0 (backend, "local") != 0)
    return 0;
  return max_starting > 0 ? max_starting : 4 * (guint) MAX (1, g_get_num_processors ());
}

void
mn_manager_starts_init (MnControllerManager *self)
{
  self->start_slots = start_slots_for (self->backend->klass->name, self->config->max_starting);
  if (self->start_slots == 0 && self->config->max_starting > 0)
    g_message ("[backend] max_starting = %u is not used: the %s backend's scheduler starts"
               " jobs on its nodes itself", self->config->max_starting,
               self->backend->klass->name);
  self->rechecks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) recheck_free);
}

void
mn_manager_starts_clear (MnControllerManager *self)
{
  g_clear_handle_id (&self->start_next_source, g_source_remove);
  g_clear_pointer (&self->rechecks, g_hash_table_destroy);
}

/* Submitted (or being submitted), and its app has not answered yet. */
static gboolean
is_starting (MnControllerManager *self, const MnSession *s)
{
  const gchar *busy;
  if (s->state != MN_SESSION_STARTING || s->route_failed)
    return FALSE;
  if (s->job_id != NULL && s->submitted > 0 &&
      mn_controller_manager_now (self) - s->submitted >= START_SLOT_HOLD)
    return FALSE;   /* starting for long: it no longer holds the others back */
  busy = g_hash_table_lookup (self->busy, s->id);
  if (g_strcmp0 (busy, "route") == 0)
    return FALSE;   /* it answered: its route is being registered */
  return s->job_id != NULL || g_strcmp0 (busy, "submit") == 0 ||
         g_hash_table_contains (self->unsaved_jobs, s->id);
}

guint
mn_manager_n_starting (MnControllerManager *self)
{
  GHashTableIter it;
  gpointer value;
  guint n = 0;
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (is_starting (self, value))
      n++;
  return n;
}

gboolean
mn_manager_may_start (MnControllerManager *self, MnSession *s)
{
  guint n;
  g_autofree gchar *why = NULL;
  if (self->start_slots == 0)
    return TRUE;
  n = mn_manager_n_starting (self);
  if (n < self->start_slots)
    return TRUE;
  /* shown on its page, not stored: it changes with every start */
  why = g_strdup_printf ("waiting to start: %u %s launched before it %s starting on this"
                         " host ([backend] max_starting = %u)", n, n == 1 ? "session" : "sessions",
                         n == 1 ? "is" : "are", self->start_slots);
  mn_manager_set_reason (s, why);
  return FALSE;
}

gboolean
mn_manager_awaits_submit (MnControllerManager *self, const MnSession *s)
{
  return s->state == MN_SESSION_STARTING && s->job_id == NULL &&
         !g_hash_table_contains (self->busy, s->id) &&
         !g_hash_table_contains (self->unsaved_jobs, s->id) && !mn_manager_is_pending (self, s);
}

gint64
mn_manager_start_key (MnControllerManager *self, const MnSession *s)
{
  MnPolicyAllocation a;
  return mn_manager_is_interactive (s) &&
         mn_policy_state_allocation (self->policy, (guint64) s->num, &a) ? a.start : s->created;
}

typedef struct {
  gchar  *id;
  gint64  key;
  gint64  num;
} Waiting;

static gint
by_start_key (gconstpointer a, gconstpointer b)
{
  const Waiting *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->num < y->num ? -1 : x->num > y->num;
}

static void
waiting_clear (Waiting *w)
{
  g_free (w->id);
}

static gboolean
start_next_cb (gpointer data)
{
  MnControllerManager *self = data;
  g_autoptr(GArray) waiting = g_array_new (FALSE, FALSE, sizeof (Waiting));
  GHashTableIter it;
  gpointer value;

  self->start_next_source = 0;
  g_array_set_clear_func (waiting, (GDestroyNotify) waiting_clear);
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      MnSession *s = value;
      Waiting w;
      if (!mn_manager_awaits_submit (self, s) || g_hash_table_contains (self->unborn, s->id))
        continue;
      w.id = g_strdup (s->id);
      w.key = mn_manager_start_key (self, s);
      w.num = s->num;
      g_array_append_val (waiting, w);
    }
  /* in the poll's order; by id: starting one may end another (a failed
   * submit admits the next) */
  g_array_sort (waiting, by_start_key);
  for (guint i = 0; i < waiting->len; i++)
    {
      MnSession *s = g_hash_table_lookup (self->live, g_array_index (waiting, Waiting, i).id);
      if (s == NULL || !mn_manager_awaits_submit (self, s))
        continue;
      if (self->start_slots > 0 && mn_manager_n_starting (self) >= self->start_slots)
        break;
      mn_manager_start_job (self, s);   /* may finish (fail) and free it */
    }
  return G_SOURCE_REMOVE;
}

void
mn_manager_start_next (MnControllerManager *self)
{
  if (self->start_slots > 0 && self->start_next_source == 0)
    self->start_next_source = g_idle_add (start_next_cb, self);
}

static gboolean
recheck_cb (gpointer data)
{
  Recheck *r = data;
  MnControllerManager *self = r->self;
  MnSession *s = g_hash_table_lookup (self->live, r->id);

  r->source = 0;
  if (s == NULL || s->state != MN_SESSION_STARTING || s->job_started == 0 || s->route_failed)
    {
      g_hash_table_remove (self->rechecks, r->id);
      return G_SOURCE_REMOVE;
    }
  if (g_hash_table_contains (self->busy, s->id) || mn_manager_is_pending (self, s))
    return G_SOURCE_REMOVE;   /* a call in flight rechecks when it ends */
  /* the connection file, once read and taken, is read again only by the
   * poll: a re-look between polls only asks the app */
  if ((s->host == NULL || s->port == 0) && !mn_manager_read_connection (self, s))
    mn_manager_recheck_later (self, s);
  else
    mn_manager_probe_app (self, s);
  return G_SOURCE_REMOVE;
}

void
mn_manager_recheck_later (MnControllerManager *self, MnSession *s)
{
  Recheck *r = g_hash_table_lookup (self->rechecks, s->id);
  gint64 now = g_get_monotonic_time ();
  gint64 delay;

  if (r != NULL && r->source != 0)
    return;
  if (r == NULL)
    {
      r = g_new0 (Recheck, 1);
      r->self = self;
      r->id = g_strdup (s->id);
      r->first = now;
      g_hash_table_insert (self->rechecks, r->id, r);
    }
  delay = MAX (MIN_RECHECK_MS, (now - r->first) / 4000);
  if (delay >= self->config->poll_interval_ms)
    return;   /* the poll looks as soon */
  r->source = g_timeout_add ((guint) delay, recheck_cb, r);
}

void
mn_manager_starts_forget (MnControllerManager *self, const gchar *id)
{
  g_hash_table_remove (self->rechecks, id);
}
