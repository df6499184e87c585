/* mn-policy-export.c: scheduler snippets (work in progress). */
#define G_LOG_DOMAIN "minna-policy"

#include "mn-policy.h"

gchar *
mn_policy_export_slurm (const MnPolicyConfig *config)
{
  return g_strdup ("# not implemented yet\n");
}

gchar *
mn_policy_export_sge (const MnPolicyConfig *config)
{
  return g_strdup ("# not implemented yet\n");
}
