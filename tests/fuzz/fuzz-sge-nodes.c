/* fuzz-sge-nodes.c: a libFuzzer harness for the Grid Engine backend's
 * reading of qstat -f -xml's queue instances and qconf -shgrp_resolved's
 * hosts (mn-backend-sge-nodes.c, issue 14), external text.  Properties:
 *   - a text GMarkup reads: every Queue-List element is either taken (its
 *     instance in the table, once) or named in a problem, never both, never
 *     neither (counted by a pass of its own); one it does not read: an
 *     error and no table;
 *   - an instance taken is QUEUE@HOST of letters, digits, '.', '_', '-'
 *     (QUEUE the one asked for, when one is), its state one that
 *     mn_sge_queue_state_available() knows;
 *   - a problem, an error's message about the hosts and the words of a state
 *     are valid UTF-8 without control characters (they are logged);
 *   - the host group's hosts are host names. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "mn-backend-sge-nodes.h"
#include "mn-backend-text.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
count_start (GMarkupParseContext *ctx, const gchar *element, const gchar **names,
             const gchar **values, gpointer data, GError **error)
{
  if (strcmp (element, "Queue-List") == 0)
    (*(guint *) data)++;
}

static void
assert_loggable (const gchar *text)
{
  g_assert (g_utf8_validate (text, -1, NULL));
  for (const guchar *c = (const guchar *) text; *c; c++)
    g_assert (*c >= 0x20 && *c != 0x7f);
}

static void
check_states (const gchar *text, gsize size, const gchar *queue)
{
  static const GMarkupParser counter = { count_start, NULL, NULL, NULL, NULL };
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) states = mn_sge_qstat_queue_states (text, size, queue, problems, &error);
  GHashTableIter it;
  gpointer instance, state;
  guint n_queues = 0;

  for (guint i = 0; i < problems->len; i++)
    assert_loggable (g_ptr_array_index (problems, i));
  if (states == NULL)
    {
      g_assert (error != NULL);
      return;
    }
  g_assert (error == NULL);
  {
    g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new (&counter, 0, &n_queues, NULL);
    g_assert (g_markup_parse_context_parse (ctx, text, size, NULL));
    g_assert (g_markup_parse_context_end_parse (ctx, NULL));
  }
  g_assert (g_hash_table_size (states) + problems->len == n_queues);
  g_hash_table_iter_init (&it, states);
  while (g_hash_table_iter_next (&it, &instance, &state))
    {
      const gchar *at = strchr (instance, '@');
      g_autofree gchar *q = NULL;
      g_autofree gchar *words = NULL;
      gboolean available;

      g_assert (at != NULL);
      q = g_strndup (instance, at - (const gchar *) instance);
      g_assert (mn_backend_node_name_ok (q));
      g_assert (queue == NULL || strcmp (q, queue) == 0);
      g_assert (mn_backend_node_name_ok (at + 1));
      g_assert (mn_sge_queue_state_available (state, &available));
      g_assert (available == (((const gchar *) state)[0] == '\0'));
      words = mn_sge_queue_state_words (state);
      assert_loggable (words);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) hosts = NULL;
  g_autofree gchar *words = NULL;
  gboolean available;

  /* the bytes as they came (NULs too), and as a C string */
  check_states ((const gchar *) data, size, "interactive.q");
  check_states (text, strlen (text), NULL);

  hosts = mn_sge_hostgroup_hosts (text, &error);
  if (hosts == NULL)
    assert_loggable (error->message);
  else
    for (guint i = 0; hosts[i] != NULL; i++)
      g_assert (mn_backend_node_name_ok (hosts[i]) && strcmp (hosts[i], "NONE") != 0);

  words = mn_sge_queue_state_words (text);
  assert_loggable (words);
  if (mn_sge_queue_state_available (text, &available))
    g_assert (strlen (text) <= 12);
  return 0;
}
