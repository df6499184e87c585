/* mn-controller-recover.c: a controller (re)started: live sessions come back
 * from the store into the policy state, and their routes into the relay;
 * the store is compared with what really runs (issue 20). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"
#include "mn-controller-reconcile.h"

static void
add_line (GPtrArray *lines, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static void
add_line (GPtrArray *lines, const gchar *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_ptr_array_add (lines, g_strdup_vprintf (format, ap));
  va_end (ap);
}

/* What needs no live session is done here (@act): a job whose session is
 * over is cancelled, an empty leftover removed; adopting and ending live
 * sessions is the start's (mn_controller_manager_recover), with the
 * findings it gets in @findings_out. */
gint
mn_controller_reconcile_full (MnControllerStore *store, MnBackend *backend, gboolean act,
                              GPtrArray *lines, GPtrArray **findings_out, GError **error)
{
  g_autoptr(GPtrArray) live = mn_controller_store_list (store, NULL, TRUE, error);
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GHashTable) over = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) mn_session_free);
  g_autoptr(GHashTable) live_ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) local = NULL;

  if (live == NULL)
    return -1;
  listed = mn_backend_list_jobs (backend, &local);
  if (listed == NULL)
    {
      add_line (lines, "running jobs not compared: %s", local->message);
      return 0;
    }
  for (guint i = 0; i < live->len; i++)
    g_hash_table_add (live_ids, ((MnSession *) g_ptr_array_index (live, i))->id);
  for (guint i = 0; i < listed->len; i++)
    {
      MnBackendJob *j = g_ptr_array_index (listed, i);
      MnSession *row;
      if (j->session_id == NULL || g_hash_table_contains (live_ids, j->session_id) ||
          g_hash_table_contains (over, j->session_id))
        continue;
      row = mn_controller_store_get (store, j->session_id, NULL);
      if (row != NULL)
        g_hash_table_insert (over, g_strdup (j->session_id), row);
    }
  findings = mn_reconcile_diff (live, over, listed, act);
  for (guint i = 0; i < findings->len; i++)
    {
      MnReconcileFinding *f = g_ptr_array_index (findings, i);
      g_autoptr(GError) e = NULL;
      if (act && f->kind == MN_RECONCILE_CANCEL &&
          !mn_backend_cancel (backend, f->job_id, g_get_real_time () / G_USEC_PER_SEC, &e))
        add_line (lines, "%s; but cancelling it failed: %s", f->line, e->message);
      else if (act && f->kind == MN_RECONCILE_LEFTOVER && !mn_backend_remove_leftover (backend, f->job, &e))
        add_line (lines, "%s; but not yet: %s", f->line, e->message);
      else
        add_line (lines, "%s", f->line);
    }
  if (findings_out != NULL)
    *findings_out = g_ptr_array_ref (findings);
  return (gint) findings->len;
}

gint
mn_controller_reconcile (MnControllerStore *store, MnBackend *backend, gboolean act,
                         GPtrArray *lines, GError **error)
{
  return mn_controller_reconcile_full (store, backend, act, lines, NULL, error);
}

/* At start, with the sessions tracked: a job whose id was not stored is
 * adopted; a session whose job is gone ends, with the scheduler's last word
 * on it when it has one (sacct, qacct, the job record). */
static void
apply_findings (MnControllerManager *self, GPtrArray *findings)
{
  g_autoptr(GPtrArray) gone = g_ptr_array_new ();
  g_autoptr(GHashTable) statuses = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < findings->len; i++)
    {
      MnReconcileFinding *f = g_ptr_array_index (findings, i);
      MnSession *s = f->session_id ? g_hash_table_lookup (self->live, f->session_id) : NULL;
      if (s == NULL)
        continue;
      if (f->kind == MN_RECONCILE_ADOPT && s->job_id == NULL)
        {
          g_autofree gchar *ev = g_strdup_printf ("job %s adopted at start", f->job_id);
          s->job_id = g_strdup (f->job_id);
          if (s->submitted == 0)
            s->submitted = mn_controller_manager_now (self);
          if (!mn_manager_save (self, s, ev))
            g_warning ("reconcile: session %s: adopting job %s could not be stored; the first"
                       " poll submits again, which finds the job", s->id, f->job_id);
        }
      else if (f->kind == MN_RECONCILE_GONE && s->job_id != NULL)
        g_ptr_array_add (gone, s->job_id);
    }
  if (gone->len == 0)
    return;
  g_ptr_array_add (gone, NULL);
  statuses = mn_backend_poll (self->backend, (const gchar *const *) gone->pdata,
                              mn_controller_manager_now (self), &error);
  for (guint i = 0; i < findings->len; i++)
    {
      MnReconcileFinding *f = g_ptr_array_index (findings, i);
      MnSession *s = f->session_id ? g_hash_table_lookup (self->live, f->session_id) : NULL;
      const MnJobStatus *st;
      MnSessionState state, was;
      MnEndReason end;
      g_autofree gchar *why = NULL;
      if (f->kind != MN_RECONCILE_GONE || s == NULL || g_strcmp0 (s->job_id, f->job_id) != 0)
        continue;
      st = statuses ? g_hash_table_lookup (statuses, f->job_id) : NULL;
      if (st != NULL && (st->state == MN_JOB_RUNNING || st->state == MN_JOB_PENDING))
        {
          /* listed a moment ago without it, it answers now: the polls follow it */
          g_message ("reconcile: session %s: job %s is %s after all; left to the polls", s->id,
                     f->job_id, st->state == MN_JOB_RUNNING ? "running" : "pending");
          continue;
        }
      was = s->state == MN_SESSION_UNKNOWN ? s->prev_state : s->state;
      if (was == MN_SESSION_ENDING)
        {
          state = MN_SESSION_ENDED;
          end = s->end_reason != MN_END_NONE ? s->end_reason : MN_END_USER;
          why = g_strdup (s->reason ? s->reason : "stopped");
        }
      else
        {
          state = was == MN_SESSION_RUNNING ? MN_SESSION_ENDED : MN_SESSION_FAILED;
          end = st != NULL && st->state == MN_JOB_DONE && st->end != MN_END_NONE ? st->end
                                                                               : MN_END_FAILED;
          if (st != NULL && st->state == MN_JOB_DONE)
            why = g_strdup_printf ("its job %s ended while the controller was not running (%s)",
                                   f->job_id, st->message ? st->message : "the job ended");
          else
            why = g_strdup_printf ("its job %s is gone from the scheduler's queue, which keeps no"
                                   " record of how it ended (deleted while the controller was"
                                   " not running?)", f->job_id);
        }
      mn_manager_finish (self, s, state, end, why);
    }
}
/* The relay's routes against the live sessions: a route of a session
 * that is over (a controller killed between storing the end and removing
 * the route) is removed. */
static void
on_routes_listed (gboolean ok, const gchar *message, JsonNode *body, gpointer data)
{
  MnControllerManager *self = data;
  JsonArray *routes = NULL;
  if (!ok || body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
    {
      g_message ("reconcile: the relay's routes were not compared: %s", message ? message : "no answer");
      mn_controller_manager_unref (self);
      return;
    }
  routes = json_object_get_array_member (json_node_get_object (body), "routes");
  for (guint i = 0; routes != NULL && i < json_array_get_length (routes); i++)
    {
      JsonObject *r = json_array_get_object_element (routes, i);
      const gchar *id = r ? json_object_get_string_member_with_default (r, "id", "") : "";
      if (id == NULL)
        id = "";   /* not a string: json-glib answers NULL (it crashed the lookup) */
      MnSession *s = g_hash_table_lookup (self->live, id);
      g_autofree gchar *line = NULL;
      if (id[0] == '\0' || (s != NULL && s->host != NULL))
        continue;
      line = g_strdup_printf ("the relay had a route for session %s, which is %s: removed", id,
                              s ? mn_session_state_to_string (s->state) : "over");
      g_warning ("reconcile: %s", line);
      mn_controller_manager_add_reconcile (self, line);
      mn_manager_delete_route (self, id);
    }
  mn_controller_manager_unref (self);
}

gboolean
mn_controller_manager_recover (MnControllerManager *self, GError **error)
{
  g_autoptr(GPtrArray) live = NULL;
  g_autoptr(GPtrArray) tracked = g_ptr_array_new ();
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) findings = NULL;
  GHashTableIter it;
  gpointer value;
  guint n_tracked;
  gint differences;

  differences = mn_controller_reconcile_full (self->store, self->backend, TRUE, lines, &findings,
                                              error);
  if (differences < 0)
    return FALSE;
  for (guint i = 0; i < lines->len; i++)
    {
      const gchar *line = g_ptr_array_index (lines, i);
      if (differences > 0)
        g_warning ("reconcile: %s", line);
      else
        g_message ("reconcile: %s", line);
      mn_controller_manager_add_reconcile (self, line);
    }
  live = mn_controller_store_list (self->store, NULL, TRUE, error);
  if (live == NULL)
    return FALSE;
  for (guint i = 0; i < live->len; i++)
    {
      MnSession *s = g_ptr_array_steal_index (live, i--);
      mn_manager_track (self, s);
      g_ptr_array_add (tracked, s);
    }
  /* the queued sessions are placed again below: not on a node drained while
   * the controller was stopped */
  mn_manager_nodes_refresh (self);
  mn_manager_refill_policy (self, tracked, TRUE);
  n_tracked = tracked->len;
  /* ends sessions: @tracked's pointers are not to be read after this */
  if (findings != NULL)
    apply_findings (self, findings);
  g_hash_table_iter_init (&it, self->live);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      MnSession *s = value;
      if (s->state == MN_SESSION_RUNNING && s->host != NULL)
        mn_manager_refresh_route (self, s);
    }
  if (mn_controller_relay_enabled (self->relay))
    mn_controller_relay_list_routes (self->relay, on_routes_listed, mn_controller_manager_ref (self));
  g_message ("recovered %u live sessions from %s; %d difference%s from what runs", n_tracked,
             mn_controller_store_get_path (self->store), differences, differences == 1 ? "" : "s");
  return TRUE;
}
