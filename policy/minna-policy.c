/* minna-policy: show, check and export interactive.conf (work in progress). */
#define G_LOG_DOMAIN "minna-policy"

#include "mn-policy.h"

int
main (int argc, char **argv)
{
  g_autoptr (MnPolicyConfig) config = mn_policy_config_new_default ();
  g_autofree gchar *text = mn_policy_config_to_data (config);

  g_print ("%s", text);
  return 0;
}
