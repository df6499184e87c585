/* mn-policy-state.c: admission and placement (work in progress). */
#define G_LOG_DOMAIN "minna-policy"

#include "mn-policy.h"

struct _MnPolicyState {
  MnPolicyConfig *config;
};

void
mn_decision_clear (MnDecision *decision)
{
  g_clear_pointer (&decision->message, g_free);
}

const gchar *
mn_reject_reason_to_string (MnRejectReason reason)
{
  return "none";
}

MnPolicyState *
mn_policy_state_new (const MnPolicyConfig *config)
{
  MnPolicyState *s = g_new0 (MnPolicyState, 1);

  s->config = mn_policy_config_copy (config);
  return s;
}

void
mn_policy_state_free (MnPolicyState *state)
{
  if (state == NULL)
    return;
  mn_policy_config_free (state->config);
  g_free (state);
}

const MnPolicyConfig *
mn_policy_state_get_config (MnPolicyState *state)
{
  return state->config;
}

void
mn_policy_state_request (MnPolicyState *state, const MnPolicyRequest *request,
                         gint64 now, MnDecision *decision)
{
  *decision = (MnDecision) { .kind = MN_DECISION_REJECT,
                             .job_id = request->job_id,
                             .reason = MN_REJECT_MALFORMED,
                             .message = g_strdup ("not implemented yet") };
}

gboolean
mn_policy_state_release (MnPolicyState *state, guint64 job_id, gint64 now,
                         GArray *started)
{
  return FALSE;
}

gboolean
mn_policy_state_adopt (MnPolicyState *state, const MnPolicyRequest *request,
                       guint node, guint logical, gint64 start_time,
                       GError **error)
{
  g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT,
               "not implemented yet");
  return FALSE;
}

gint64
mn_policy_state_estimate_start (MnPolicyState *state, guint64 job_id,
                                const MnPolicyRequest *request, gint64 now)
{
  return now;
}

guint mn_policy_state_n_running (MnPolicyState *state) { return 0; }
guint mn_policy_state_n_waiting (MnPolicyState *state) { return 0; }
guint mn_policy_state_user_jobs (MnPolicyState *state, const gchar *user) { return 0; }

void
mn_policy_state_logical_info (MnPolicyState *state, guint node, guint logical,
                              MnLogicalNodeInfo *info)
{
  *info = (MnLogicalNodeInfo) { .node = node, .logical = logical };
}

void
mn_policy_state_node_info (MnPolicyState *state, guint node, MnNodeInfo *info)
{
  *info = (MnNodeInfo) { .node = node };
}

gboolean
mn_policy_state_lookup (MnPolicyState *state, guint64 job_id,
                        guint *node, guint *logical)
{
  return FALSE;
}
