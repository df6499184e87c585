/* mn-config-suggest.h: "did you mean ...?" for a mistyped name. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Levenshtein distance, ignoring ASCII case. */
guint    mn_config_edit_distance (const gchar *a, const gchar *b);
/* Whether a name @distance edits away from @wrong is worth suggesting:
 * two edits, or a third of the name's length when that is more. */
gboolean mn_config_close_enough (const gchar *wrong, guint distance);
/* The candidate nearest to @wrong if close enough, else NULL. */
const gchar *mn_config_suggest (const gchar *wrong, const gchar *const *candidates);

G_END_DECLS
