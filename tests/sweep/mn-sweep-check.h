/* mn-sweep-check.h: checks shared by the sweep and report tests. */
#pragma once

#include <glib.h>

/* Runs @argv (searching PATH) with output captured; the exit status. */
gint  mn_check_spawn (const gchar *const *argv, const gchar *const *envp, gchar **out, gchar **err);
void  mn_check_rm_rf (const gchar *dir);
gchar *mn_check_read (const gchar *dir, const gchar *name);

/* A valid PNG (signature, IHDR, IEND) of a sensible size and pixel size. */
void  mn_check_png (const gchar *path);
/* A well-formed SVG document of a sensible size that says @must_contain. */
void  mn_check_svg (const gchar *path, const gchar *must_contain);
/* Every src= and href= of @dir/report.html is a file under @dir; no
 * network address anywhere. Returns how many references it checked. */
guint mn_check_html_references (const gchar *dir);
