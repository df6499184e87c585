/* mn-config-suggest.c: the edit distance behind every "did you mean". */
#define G_LOG_DOMAIN "minna-config"

#include <string.h>

#include "mn-config-suggest.h"

guint
mn_config_edit_distance (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  /* One row of the table at a time. */
  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diag = row[0];

      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
          diag = up;
        }
    }
  return row[lb];
}

gboolean
mn_config_close_enough (const gchar *wrong, guint distance)
{
  return distance <= MAX (2, strlen (wrong) / 3);
}

const gchar *
mn_config_suggest (const gchar *wrong, const gchar *const *candidates)
{
  const gchar *best = NULL;
  guint best_d = G_MAXUINT;

  for (guint i = 0; candidates != NULL && candidates[i] != NULL; i++)
    {
      guint d = mn_config_edit_distance (wrong, candidates[i]);

      if (d < best_d)
        best_d = d, best = candidates[i];
    }
  return best != NULL && mn_config_close_enough (wrong, best_d) ? best : NULL;
}
