/* fuzz-config.c: a libFuzzer harness for the shared configuration parser
 * (config/), through a table with a key of every type and through the
 * policy's interactive.conf table.  Every input must load or fail with a
 * message naming the file; whatever loads must validate, write out, load
 * back equal and write out the same again.  Each line is also tried as a
 * "group.key=value" override and each value grammar as a whole. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "mn-config-test-table.h"
#include "mn-policy.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
fuzz_table (const gchar *text, gsize size)
{
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *written = NULL;
  g_autofree gchar *again = NULL;
  g_autoptr (TestConfig) back = test_config_new ();

  if (!mn_config_load_data (&test_table, c, text, (gssize) size, "fuzz.conf", NULL, &error))
    {
      g_assert (g_str_has_prefix (error->message, "fuzz.conf"));
      return;
    }
  g_assert (mn_config_validate (&test_table, c, NULL, NULL));
  written = mn_config_write (&test_table, c, "# fuzz\n",
                             MN_CONFIG_WRITE_WRAP | MN_CONFIG_WRITE_ALLOWED);
  if (!mn_config_load_data (&test_table, back, written, -1, "written.conf", NULL, &error))
    g_error ("written file does not load: %s\n%s", error->message, written);
  g_assert (mn_config_equal (&test_table, c, back));
  again = mn_config_write (&test_table, back, "# fuzz\n",
                           MN_CONFIG_WRITE_WRAP | MN_CONFIG_WRITE_ALLOWED);
  g_assert (g_str_equal (written, again));
}

static void
fuzz_policy (const gchar *text, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MnPolicyConfig) c = mn_policy_config_load_data (text, size, "fuzz.conf", &error);
  g_autofree gchar *written = NULL;
  g_autoptr (MnPolicyConfig) back = NULL;

  if (c == NULL)
    {
      g_assert (g_str_has_prefix (error->message, "fuzz.conf"));
      return;
    }
  written = mn_policy_config_to_data (c);
  back = mn_policy_config_load_data (written, strlen (written), "written.conf", &error);
  if (back == NULL)
    g_error ("written policy does not load: %s\n%s", error->message, written);
  g_assert (mn_policy_config_equal (c, back));
}

static void
fuzz_lines (const gchar *text, gsize size)
{
  g_autofree gchar *copy = g_strndup (text, size);
  g_auto (GStrv) lines = g_strsplit (copy, "\n", 64);
  g_autoptr (TestConfig) c = test_config_new ();

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 u;
      gint64 s;
      gdouble d;
      gboolean b;

      if (!g_utf8_validate (lines[i], -1, NULL))
        continue;
      if (!mn_config_set_assignment (&test_table, c, lines[i], &error))
        g_assert (error != NULL && error->message != NULL);
      (void) mn_config_parse_size (lines[i], &u);
      (void) mn_config_parse_duration (lines[i], &u);
      (void) mn_config_parse_uint (lines[i], &u);
      (void) mn_config_parse_int (lines[i], &s);
      (void) mn_config_parse_share (lines[i], &d);
      (void) mn_config_parse_bool (lines[i], &b);
    }
  g_assert (mn_config_validate (&test_table, c, NULL, NULL));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const gchar *text = (const gchar *) data;

  fuzz_table (text, size);
  fuzz_policy (text, size);
  fuzz_lines (text, size);
  return 0;
}
