/* mn-policy-config.c: interactive.conf (work in progress). */
#define G_LOG_DOMAIN "minna-policy"

#include "mn-policy.h"

G_DEFINE_QUARK (mn-policy-error-quark, mn_policy_error)

MnPolicyConfig *
mn_policy_config_new_default (void)
{
  MnPolicyConfig *c = g_new0 (MnPolicyConfig, 1);

  c->queue_name = g_strdup ("interactive.q");
  c->nodes = 4;
  c->max_walltime = 24 * 3600;
  c->max_jobs_per_user = 1;
  c->idle_timeout = 0;
  c->if_busy = MN_IF_BUSY_WAIT;
  c->node_cores = 28;
  c->node_gpus = 4;
  c->gpu_memory_mb = 16 * 1024;
  c->node_memory_mb = 256 * 1024;
  c->node_swap_mb = 1536 * 1024;
  c->logical_per_node = 4;
  c->logical_cores = 7;
  c->logical_gpus = 1;
  c->logical_memory_mb = 64 * 1024;
  c->max_jobs_per_logical = 7;
  c->job_max_cores = 7;
  c->job_max_memory_mb = 60 * 1024;
  c->job_max_gpus = 1;
  c->job_max_gpu_memory_mb = 16 * 1024;
  c->gpu_mode = MN_GPU_MODE_SHARED;
  return c;
}

MnPolicyConfig *
mn_policy_config_copy (const MnPolicyConfig *config)
{
  MnPolicyConfig *c = g_memdup2 (config, sizeof *config);

  c->queue_name = g_strdup (config->queue_name);
  return c;
}

void
mn_policy_config_free (MnPolicyConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->queue_name);
  g_free (config);
}

MnPolicyConfig *
mn_policy_config_load_data (const gchar *data, gsize length,
                            const gchar *filename, GError **error)
{
  return mn_policy_config_new_default ();
}

gboolean
mn_policy_config_validate (const MnPolicyConfig *config, GError **error)
{
  return TRUE;
}

gchar *
mn_policy_config_to_data (const MnPolicyConfig *config)
{
  return g_strdup ("");
}

gchar *
mn_policy_config_describe_keys (void)
{
  return g_strdup ("");
}

gboolean
mn_policy_config_set (MnPolicyConfig *config, const gchar *group,
                      const gchar *key, const gchar *value, GError **error)
{
  g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_UNKNOWN_KEY,
               "not implemented yet");
  return FALSE;
}
