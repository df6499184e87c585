/* test-policy-fuzz.c: mutated interactive.conf files (fixed seeds, from the
 * corpus) never crash the parser; each either loads, round-trips and
 * validates, or fails with a message that starts with the file name. */
#define G_LOG_DOMAIN "minna-policy-test"

#include <string.h>

#include "mn-policy-test-util.h"

#define N_MUTANTS 4000

static const gchar *const splices[] = {
  "\n", "=", "[", "]", "#", "\\", "\r\n", " ", "\t", "\xff", "\xc3\xa9", "0", "-1",
  "99999999999999999999", "1.5T", "24h", "12:00:00", "[queue]\n", "[job]\n",
  "nodes = 0\n", "max_walltime = 40d\n", "gpu_mode = capped\n", "\xef\xbb\xbf",
};

static gchar *
mutate (GRand *r, const gchar *text, gsize len, gsize *out_len)
{
  GString *s = g_string_new_len (text, len);
  guint n = g_rand_int_range (r, 1, 6);

  for (guint i = 0; i < n; i++)
    {
      gsize at = s->len > 0 ? g_rand_int_range (r, 0, s->len) : 0;

      switch (g_rand_int_range (r, 0, 4))
        {
        case 0: /* flip a byte */
          if (s->len > 0)
            s->str[at] = (gchar) g_rand_int_range (r, 1, 256);
          break;
        case 1: /* delete a run */
          {
            gsize run = g_rand_int_range (r, 1, 16);

            g_string_erase (s, at, MIN (run, s->len - at));
            break;
          }
        case 2: /* insert a token */
          g_string_insert (s, at, splices[g_rand_int_range (r, 0, G_N_ELEMENTS (splices))]);
          break;
        default: /* duplicate a run */
          {
            g_autofree gchar *run = g_strndup (s->str + at, g_rand_int_range (r, 1, 40));

            g_string_insert (s, g_rand_int_range (r, 0, s->len + 1), run);
          }
        }
    }
  *out_len = s->len;
  return g_string_free (s, FALSE);
}

static void
test_fuzz_corpus (void)
{
  g_autofree gchar *dir = g_test_build_filename (G_TEST_DIST, "data", "policy", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GRand *r = g_rand_new_with_seed (20261123);
  const gchar *name;
  guint loaded = 0, failed = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = g_build_filename (dir, name, NULL);
      gchar *text = NULL;
      gsize len = 0;

      if (g_str_has_suffix (name, ".conf") && g_file_get_contents (path, &text, &len, NULL))
        g_ptr_array_add (texts, g_bytes_new_take (text, len));
    }
  g_assert_cmpuint (texts->len, >, 0);

  for (guint i = 0; i < N_MUTANTS; i++)
    {
      GBytes *base = g_ptr_array_index (texts, g_rand_int_range (r, 0, texts->len));
      gsize base_len = 0, len = 0;
      const gchar *base_text = g_bytes_get_data (base, &base_len);
      g_autofree gchar *text = mutate (r, base_text, base_len, &len);
      g_autoptr (GError) error = NULL;
      g_autoptr (MnPolicyConfig) c = mn_policy_config_load_data (text, len, "fz.conf", &error);

      if (c != NULL)
        {
          g_autofree gchar *back = mn_policy_config_to_data (c);
          g_autoptr (MnPolicyConfig) c2 = mn_policy_config_load_data (back, strlen (back),
                                                                      "back.conf", &error);

          g_assert_no_error (error);
          g_assert_true (mn_policy_config_equal (c, c2));
          g_assert_true (mn_policy_config_validate (c, NULL));
          loaded++;
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == MN_POLICY_ERROR);
          g_assert_true (g_str_has_prefix (error->message, "fz.conf"));
          failed++;
        }
    }
  g_test_message ("%u mutants loaded, %u refused", loaded, failed);
  g_assert_cmpuint (loaded, >, 0);
  g_assert_cmpuint (failed, >, 0);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/fuzz/corpus-mutants", test_fuzz_corpus);
  return g_test_run ();
}
