/* mn-controller-occupancy.c: interactive.q by node and logical node, as the
 * policy placed its sessions.  One builder for both answers that show it:
 * GET /api/v1/queue (every user: counts only) and GET
 * /api/v1/admin/occupancy (admins: also who is where, cores asked, memory
 * and the waiting sessions), so the two can never disagree. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

static void
add_placed (JsonBuilder *b, const MnSession *s, gint64 now)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, s->id);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, s->user);
  json_builder_set_member_name (b, "app");
  json_builder_add_string_value (b, s->app);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, mn_session_state_to_string (s->state));
  json_builder_set_member_name (b, "cores");
  json_builder_add_int_value (b, s->cores);
  json_builder_set_member_name (b, "memory_gb");
  json_builder_add_double_value (b, s->memory_mb / 1024.0);
  json_builder_set_member_name (b, "gpus");
  json_builder_add_int_value (b, s->gpus);
  json_builder_set_member_name (b, "job_started");
  if (s->job_started > 0)
    json_builder_add_int_value (b, s->job_started);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "time_left");
  if (s->job_started > 0)
    json_builder_add_int_value (b, MAX (0, mn_session_walltime_end (s) - now));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

/* The live interactive sessions by logical node (index node * per_node +
 * logical) where the policy placed them (what admission counts, not what
 * the backend says), and the ones still waiting for a place. */
static GPtrArray *
sessions_by_place (MnControllerManager *manager, GPtrArray *live, GPtrArray *waiting)
{
  MnPolicyState *ps = mn_controller_manager_get_policy (manager);
  const MnPolicyConfig *c = mn_policy_state_get_config (ps);
  guint n_logical = c->nodes * c->logical_per_node;
  GPtrArray *placed = g_ptr_array_new_full (n_logical, (GDestroyNotify) g_ptr_array_unref);

  for (guint i = 0; i < n_logical; i++)
    g_ptr_array_add (placed, g_ptr_array_new ());
  for (guint i = 0; i < live->len; i++)
    {
      MnSession *s = g_ptr_array_index (live, i);
      guint node = 0, logical = 0;
      if (g_strcmp0 (s->queue, "interactive") != 0)
        continue;
      if (mn_policy_state_lookup (ps, (guint64) s->num, &node, &logical) &&
          node < c->nodes && logical < c->logical_per_node)
        g_ptr_array_add (g_ptr_array_index (placed, node * c->logical_per_node + logical), s);
      else if (s->state == MN_SESSION_QUEUED)
        g_ptr_array_add (waiting, s);
    }
  return placed;
}

void
mn_api_add_occupancy (JsonBuilder *b, MnControllerManager *manager, gboolean admin_detail)
{
  MnPolicyState *ps = mn_controller_manager_get_policy (manager);
  const MnPolicyConfig *c = mn_policy_state_get_config (ps);
  g_autoptr(GPtrArray) live = NULL;
  g_autoptr(GPtrArray) waiting = g_ptr_array_new ();
  g_autoptr(GPtrArray) placed = NULL;
  gint64 now = mn_controller_manager_now (manager);

  if (admin_detail)
    {
      live = mn_controller_manager_list_live (manager, NULL);
      placed = sessions_by_place (manager, live, waiting);
    }
  json_builder_set_member_name (b, "queue");
  json_builder_add_string_value (b, c->queue_name);
  json_builder_set_member_name (b, "running");
  json_builder_add_int_value (b, mn_policy_state_n_running (ps));
  json_builder_set_member_name (b, "waiting");
  json_builder_add_int_value (b, mn_policy_state_n_waiting (ps));
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (guint n = 0; n < c->nodes; n++)
    {
      MnNodeInfo ni = { 0 };
      mn_policy_state_node_info (ps, n, &ni);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "node");
      json_builder_add_int_value (b, n);
      json_builder_set_member_name (b, "jobs");
      json_builder_add_int_value (b, ni.jobs);
      json_builder_set_member_name (b, "memory_committed_gb");
      json_builder_add_double_value (b, ni.memory_committed_mb / 1024.0);
      /* takes new sessions (the scheduler does not say it is drained, down...) */
      json_builder_set_member_name (b, "available");
      json_builder_add_boolean_value (b, ni.available);
      if (admin_detail)
        {
          const gchar *why = mn_controller_manager_node_unavailable (manager, n);
          json_builder_set_member_name (b, "unavailable");
          if (why != NULL)
            json_builder_add_string_value (b, why);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "memory_gb");
          json_builder_add_double_value (b, (c->node_memory_mb + c->node_swap_mb) / 1024.0);
        }
      json_builder_set_member_name (b, "logical_nodes");
      json_builder_begin_array (b);
      for (guint l = 0; l < c->logical_per_node; l++)
        {
          MnLogicalNodeInfo li = { 0 };
          mn_policy_state_logical_info (ps, n, l, &li);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "logical");
          json_builder_add_int_value (b, l);
          json_builder_set_member_name (b, "jobs");
          json_builder_add_int_value (b, li.jobs);
          json_builder_set_member_name (b, "max_jobs");
          json_builder_add_int_value (b, c->max_jobs_per_logical);
          if (admin_detail)
            {
              GPtrArray *here = g_ptr_array_index (placed, n * c->logical_per_node + l);
              guint cores = 0;
              for (guint i = 0; i < here->len; i++)
                cores += ((MnSession *) g_ptr_array_index (here, i))->cores;
              json_builder_set_member_name (b, "cores");
              json_builder_add_int_value (b, c->logical_cores);
              json_builder_set_member_name (b, "cores_requested");
              json_builder_add_int_value (b, cores);
              json_builder_set_member_name (b, "gpus");
              json_builder_add_int_value (b, c->logical_gpus);
              json_builder_set_member_name (b, "sessions");
              json_builder_begin_array (b);
              for (guint i = 0; i < here->len; i++)
                add_placed (b, g_ptr_array_index (here, i), now);
              json_builder_end_array (b);
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (admin_detail)
    {
      json_builder_set_member_name (b, "waiting_sessions");
      json_builder_begin_array (b);
      for (guint i = 0; i < waiting->len; i++)
        add_placed (b, g_ptr_array_index (waiting, i), now);
      json_builder_end_array (b);
    }
}
