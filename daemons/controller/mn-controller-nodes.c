/* mn-controller-nodes.c: which of the policy's nodes take new sessions, as
 * the backend's scheduler says (issue 14: a drained or down Slurm node must
 * not get new jobs that would wait there forever).  The policy decides
 * (NODE AVAILABILITY in mn-policy.h); this file only hands it what the
 * backend observed, once per poll round at most every NODE_STATES_AGE,
 * logs each change once, and starts whom a node's return admits. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-manager-private.h"

/* sinfo is one RPC to slurmctld: every poll round (500 ms in the tests)
 * would be many for nothing; a drain takes effect within this (s). */
#define NODE_STATES_AGE 5

gboolean
mn_manager_nodes_due (MnControllerManager *self)
{
  /* the manager's clock, which tests set */
  gint64 now = mn_controller_manager_now (self);

  if (self->backend->klass->node_states == NULL)
    return FALSE;
  if (self->nodes_asked != 0 && now >= self->nodes_asked &&
      now - self->nodes_asked < NODE_STATES_AGE)
    return FALSE;
  self->nodes_asked = now;
  return TRUE;
}

void
mn_manager_nodes_refresh (MnControllerManager *self)
{
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(GError) error = NULL;

  if (self->backend->klass->node_states == NULL)
    return;
  self->nodes_asked = mn_controller_manager_now (self);
  states = mn_backend_node_states (self->backend,
                                   mn_policy_state_get_config (self->policy)->nodes, &error);
  mn_manager_nodes_apply (self, states, error);
}

const gchar *
mn_controller_manager_node_unavailable (MnControllerManager *self, guint node)
{
  return node < self->unavailable->len ? g_ptr_array_index (self->unavailable, node) : NULL;
}

void
mn_manager_nodes_reapply (MnControllerManager *self)
{
  for (guint n = 0; n < self->unavailable->len; n++)
    if (g_ptr_array_index (self->unavailable, n) != NULL)
      mn_policy_state_set_node_available (self->policy, n, FALSE,
                                          mn_controller_manager_now (self), NULL);
}

void
mn_manager_nodes_apply (MnControllerManager *self, GPtrArray *states, const GError *error)
{
  guint n_nodes = mn_policy_state_get_config (self->policy)->nodes;
  g_autoptr(GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  gint64 now = mn_controller_manager_now (self);

  if (states == NULL)
    {
      /* nothing changes: what was unavailable stays so, and the rest */
      mn_log_limit_log (self->log, G_LOG_LEVEL_MESSAGE, "node-states",
                        "cannot ask the scheduler which nodes take new sessions: %s",
                        error != NULL ? error->message : "no answer");
      return;
    }
  mn_log_limit_clear (self->log, "node-states", "asking the scheduler's node states");
  if (self->unavailable->len < n_nodes)
    g_ptr_array_set_size (self->unavailable, n_nodes);
  for (guint n = 0; n < n_nodes && n < states->len; n++)
    {
      const MnNodeState *ns = g_ptr_array_index (states, n);
      gchar **was = (gchar **) &g_ptr_array_index (self->unavailable, n);

      if (ns == NULL)
        continue;
      if (!ns->available)
        {
          g_autofree gchar *why = g_strdup_printf ("%s: %s", ns->name, ns->state);

          if (*was == NULL)
            g_message ("node %s (policy node %u) takes no new session: the scheduler says"
                       " it is %s; its running sessions stay", ns->name, n, ns->state);
          g_free (*was);
          *was = g_steal_pointer (&why);
          mn_policy_state_set_node_available (self->policy, n, FALSE, now, NULL);
        }
      else if (*was != NULL)
        {
          g_clear_pointer (was, g_free);
          mn_policy_state_set_node_available (self->policy, n, TRUE, now, started);
          g_message ("node %s (policy node %u) takes new sessions again (%s): %u waiting"
                     " session%s admitted", ns->name, n, ns->state, started->len,
                     started->len == 1 ? "" : "s");
          mn_manager_start_admitted (self, started);
        }
    }
}
