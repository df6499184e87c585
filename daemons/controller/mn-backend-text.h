/* mn-backend-text.h: small helpers the backends' parsers of a scheduler's
 * text share (mn-backend-slurm-nodes.c, mn-backend-sge-nodes.c): that text is
 * external, and what they say of it goes to the log. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A node or host name as the schedulers write them: letters, digits, '.',
 * '_' or '-', not empty. */
gboolean mn_backend_node_name_ok (const gchar *name);

/* @text as a log can hold it: escaped (printable ASCII, no control bytes, no
 * bytes that are not UTF-8), cut to at most @max bytes ending in "..."
 * (@max >= 4). */
gchar   *mn_backend_text_shown (const gchar *text, gsize max);

G_END_DECLS
