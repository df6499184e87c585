/* mn-backend-text.c: shared helpers of the scheduler text parsers
 * (mn-backend-text.h). */
#include "mn-backend-text.h"

#include <string.h>

gboolean
mn_backend_node_name_ok (const gchar *name)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

gchar *
mn_backend_text_shown (const gchar *text, gsize max)
{
  gchar *out = g_strescape (text, NULL);

  if (strlen (out) > max)
    strcpy (out + max - 3, "...");
  return out;
}
