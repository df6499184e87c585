/* fuzz-slurm-nodes.c: a libFuzzer harness for the Slurm backend's reading of
 * sinfo's node states (mn-backend-slurm-nodes.c, issue 14), external text.
 * Properties:
 *   - every non-empty line is either taken (its node in the table, once) or
 *     named in a problem, never both, never neither;
 *   - a node taken has a name of letters, digits, '.', '_', '-' and a state
 *     mn_slurm_node_state_available() knows;
 *   - a problem is valid UTF-8 without control characters (it is logged). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "mn-backend-slurm-nodes.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) states = mn_slurm_sinfo_node_states (text, problems);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GHashTableIter it;
  gpointer name, state;
  guint non_empty = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_strstrip (lines[i])[0] != '\0')
      non_empty++;
  g_assert (g_hash_table_size (states) + problems->len == non_empty);
  g_hash_table_iter_init (&it, states);
  while (g_hash_table_iter_next (&it, &name, &state))
    {
      gboolean available;
      g_assert (((const gchar *) name)[0] != '\0');
      for (const gchar *c = name; *c; c++)
        g_assert (g_ascii_isalnum (*c) || *c == '.' || *c == '_' || *c == '-');
      g_assert (mn_slurm_node_state_available (state, &available));
    }
  for (guint i = 0; i < problems->len; i++)
    {
      const gchar *p = g_ptr_array_index (problems, i);
      g_assert (g_utf8_validate (p, -1, NULL));
      for (const guchar *c = (const guchar *) p; *c; c++)
        g_assert (*c >= 0x20 && *c != 0x7f);
    }
  return 0;
}
