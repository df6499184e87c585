/* test-log-limit.c: repeated failures are logged once, then counted
 * (daemons/common/mn-log-limit.h); log text is UTF-8 safe. */
#include "mn-log-limit.h"

static gint64 fake_now;
static GPtrArray *lines;

static gint64
fake_clock (gpointer data)
{
  return fake_now;
}

static GLogWriterOutput
capture (GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
  for (gsize i = 0; i < n; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      g_ptr_array_add (lines, g_strdup (fields[i].value));
  return G_LOG_WRITER_HANDLED;
}

static void
test_once_then_counted (void)
{
  g_autoptr(MnLogLimit) l = mn_log_limit_new ("test", 60);
  mn_log_limit_set_clock (l, fake_clock, NULL);
  g_ptr_array_set_size (lines, 0);
  fake_now = 0;
  /* a retry every 0.5 s for 2 minutes */
  for (gint i = 0; i < 240; i++, fake_now += G_USEC_PER_SEC / 2)
    mn_log_limit_log (l, G_LOG_LEVEL_MESSAGE, "cancel:a", "cancel job a: no (will retry)");
  g_assert_cmpuint (lines->len, ==, 2);   /* the first, then one per minute */
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==, "cancel job a: no (will retry)");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (lines, 1),
                                   "cancel job a: no (will retry) (repeated 120 times in the last 60 s)"));
  g_assert_cmpuint (mn_log_limit_count (l, "cancel:a"), ==, 240);
  /* another key is its own */
  mn_log_limit_log (l, G_LOG_LEVEL_MESSAGE, "cancel:b", "b");
  g_assert_cmpuint (lines->len, ==, 3);
  mn_log_limit_clear (l, "cancel:a", "cancel job a");
  g_assert_cmpuint (lines->len, ==, 4);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (lines, 3), "cancel job a: resolved after 240 times"));
  g_assert_cmpuint (mn_log_limit_count (l, "cancel:a"), ==, 0);
  /* seen once: cleared silently */
  mn_log_limit_clear (l, "cancel:b", NULL);
  g_assert_cmpuint (lines->len, ==, 4);
}

static const struct {
  const gchar *in, *out;
} escapes[] = {
  { "plain /var/lib/minna", "plain /var/lib/minna" },
  { "st\xc3\xa4t\xc3\xab", "st\xc3\xa4t\xc3\xab" },     /* valid UTF-8 stays */
  { "bad \xff byte", "bad \\xff byte" },
  { "line\nbreak\ttab", "line\\x0abreak\\x09tab" },
  { "back\\slash", "back\\\\slash" },
};

static void
test_escape (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (escapes); i++)
    {
      g_autofree gchar *got = mn_log_escape (escapes[i].in);
      g_assert_cmpstr (got, ==, escapes[i].out);
      g_assert_true (g_utf8_validate (got, -1, NULL));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lines = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture, NULL, NULL);
  g_test_add_func ("/common/log-limit/once-then-counted", test_once_then_counted);
  g_test_add_func ("/common/log-limit/escape", test_escape);
  return g_test_run ();
}
