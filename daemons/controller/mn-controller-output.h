/* mn-controller-output.h: a job's output file (output.log in its session
 * directory) as the admin page and a failed session's reason show it:
 * its tail, read safely, with secrets taken out. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The last @max_bytes of @path (from a line start when cut), valid UTF-8.
 * The session directory belongs to the job's user and the controller may be
 * root, so only a plain file is read: a symlink, a FIFO, a device or a file
 * with other hard links is refused (the user could point it at /etc/shadow).
 * *@size: the file's whole size; *@truncated: the start was cut. */
gchar *mn_controller_output_tail (const gchar *path, gsize max_bytes, guint64 *size,
                                  gboolean *truncated, GError **error);

/* @text with secrets replaced by "[hidden]": each of @secrets (the session's
 * app token; NULL-terminated, may be NULL), values of token=, password=,
 * secret=, api_key= and the like (Jupyter prints its token in URLs),
 * "Bearer X", and Authorization/Cookie/X-Minna-App-Token header lines.
 * Terminal escapes and control characters (but tab and newline) go too. */
gchar *mn_controller_output_scrub (const gchar *text, const gchar *const *secrets);

G_END_DECLS
