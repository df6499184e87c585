/* mn-policy-test-util.h: small helpers shared by the policy tests. */
#pragma once

#include "mn-policy.h"

/* A default configuration with "group.key=value" overrides separated by
 * spaces, e.g. "queue.nodes=1 logical_node.per_node=1"; aborts the test on a
 * bad override or an inconsistent result. */
static inline MnPolicyConfig *
mn_test_config (const gchar *overrides)
{
  MnPolicyConfig *c = mn_policy_config_new_default ();
  g_auto (GStrv) items = g_strsplit (overrides != NULL ? overrides : "", " ", -1);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; items[i] != NULL; i++)
    {
      g_auto (GStrv) kv = NULL;
      g_auto (GStrv) gk = NULL;

      if (items[i][0] == '\0')
        continue;
      kv = g_strsplit (items[i], "=", 2);
      g_assert_cmpuint (g_strv_length (kv), ==, 2);
      gk = g_strsplit (kv[0], ".", 2);
      g_assert_cmpuint (g_strv_length (gk), ==, 2);
      mn_policy_config_set (c, gk[0], gk[1], kv[1], &error);
      g_assert_no_error (error);
    }
  mn_policy_config_validate (c, &error);
  g_assert_no_error (error);
  return c;
}

/* One node, one logical node of @slots jobs: the smallest queue to reason about. */
#define MN_TEST_TINY "queue.nodes=1 logical_node.per_node=1 logical_node.max_jobs=1"
