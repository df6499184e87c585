/* mn-backend-slurm-nodes.c: Slurm's node states (mn-backend-slurm-nodes.h). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-backend-slurm-nodes.h"
#include "mn-backend-text.h"

#include <string.h>

/* Slurm 22.05's node_state_string() and its newer '+' forms, lower case */
static const gchar *const unavailable_states[] = {
  "down", "drain", "drained", "draining", "fail", "failing", "maint", "reserved",
  "future", "inval", "unknown", "blocked", "perfctrs", "npc", "power_down",
  "powered_down", "powering_down", "reboot_issued", NULL,
};
static const gchar *const available_states[] = {
  "idle", "mixed", "allocated", "completing", "planned", "powering_up",
  "reboot_requested", "cloud", NULL,
};
/* state flags sinfo appends (man sinfo, NODE STATE CODES) */
#define UNAVAILABLE_FLAGS "*$!%^"
#define AVAILABLE_FLAGS   "~#@-"

/* One '+'-separated part: a known base state and known flags. */
static gboolean
part_available (const gchar *part, gboolean *available)
{
  gsize base = strcspn (part, UNAVAILABLE_FLAGS AVAILABLE_FLAGS);
  g_autofree gchar *name = g_strndup (part, base);

  if (base == 0 || strspn (part + base, UNAVAILABLE_FLAGS AVAILABLE_FLAGS) != strlen (part + base))
    return FALSE;
  if (g_strv_contains (unavailable_states, name))
    *available = FALSE;
  else if (g_strv_contains (available_states, name))
    *available = strpbrk (part + base, UNAVAILABLE_FLAGS) == NULL;
  else
    return FALSE;
  return TRUE;
}

gboolean
mn_slurm_node_state_available (const gchar *state, gboolean *available)
{
  g_auto(GStrv) parts = NULL;
  gboolean all = TRUE;
  guint n;

  if (state == NULL || state[0] == '\0')
    return FALSE;
  parts = g_strsplit (state, "+", -1);
  n = g_strv_length (parts);
  for (guint i = 0; i < n; i++)
    {
      gboolean one = TRUE;

      /* "allocated+": the old way of saying some of its jobs complete */
      if (parts[i][0] == '\0' && i == n - 1 && i > 0)
        continue;
      if (!part_available (parts[i], &one))
        return FALSE;
      all = all && one;
    }
  *available = all;
  return TRUE;
}

/* What is wrong with one line (NULL: nothing). */
static gchar *
line_problem (const gchar *line, gchar **name, gchar **state)
{
  const gchar *bar = strchr (line, '|');
  gboolean available;

  if (bar == NULL || strchr (bar + 1, '|') != NULL)
    return g_strdup ("not NAME|STATE");
  *name = g_strndup (line, bar - line);
  *state = g_strdup (bar + 1);
  if (!mn_backend_node_name_ok (*name))
    return g_strdup ("not a node name");
  if (!mn_slurm_node_state_available (*state, &available))
    {
      g_autofree gchar *said = mn_backend_text_shown (*state, 40);
      return g_strdup_printf ("unknown node state '%s'", said);
    }
  return NULL;
}

GHashTable *
mn_slurm_sinfo_node_states (const gchar *text, GPtrArray *problems)
{
  GHashTable *states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree gchar *name = NULL;
      g_autofree gchar *state = NULL;
      g_autofree gchar *why = NULL;
      g_autofree gchar *said = NULL;
      gchar *line = g_strstrip (lines[i]);

      if (line[0] == '\0')
        continue;
      why = line_problem (line, &name, &state);
      if (why == NULL && g_hash_table_contains (states, name))
        why = g_strdup_printf ("node %s listed again", name);
      if (why == NULL)
        {
          g_hash_table_insert (states, g_steal_pointer (&name), g_steal_pointer (&state));
          continue;
        }
      said = mn_backend_text_shown (line, 80);
      g_ptr_array_add (problems, g_strdup_printf ("line %u '%s': %s", i + 1, said, why));
    }
  return states;
}
