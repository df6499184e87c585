/* mn-log-limit.h: a failure that repeats is logged once, then counted.
 *
 * A condition (a key such as "store" or "cancel:<session>") is logged the
 * first time it is seen; while it lasts, the same key is only counted and a
 * line "... (repeated N times in the last S s)" is written at most once per
 * interval; when the caller says it is over (mn_log_limit_clear) one line
 * says how often it happened.  Safe from any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MnLogLimit MnLogLimit;

/* @interval_s: the least time between two lines of one key (> 0). */
MnLogLimit *mn_log_limit_new (const gchar *log_domain, gint64 interval_s);
void        mn_log_limit_free (MnLogLimit *limit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnLogLimit, mn_log_limit_free)

/* Logs the message at @level the first time @key is seen (and once per
 * interval after that, with the count); TRUE if a line was written. */
gboolean    mn_log_limit_log (MnLogLimit *limit, GLogLevelFlags level, const gchar *key,
                              const gchar *format, ...) G_GNUC_PRINTF (4, 5);
/* @key's condition is over: "<what>: resolved after N times" if it was
 * seen more than once; forgets the key. */
void        mn_log_limit_clear (MnLogLimit *limit, const gchar *key, const gchar *what);
/* How often @key was seen since it was first logged (0: not active). */
guint64     mn_log_limit_count (MnLogLimit *limit, const gchar *key);
/* For tests: the clock (monotonic µs). */
void        mn_log_limit_set_clock (MnLogLimit *limit, gint64 (*clock) (gpointer), gpointer data);

/* @text made safe for a log line or a JSON string: valid UTF-8 (bytes
 * that are not are shown as \xNN), control characters escaped.  For file
 * names use g_filename_display_name first where the locale's encoding may
 * not be UTF-8. */
gchar      *mn_log_escape (const gchar *text);

/* Log lines, g_print and g_printerr written as UTF-8 whatever the locale:
 * GLib's own output converts them to the locale's charset, and in a C or
 * POSIX locale every character outside ASCII (the quotes around a path in
 * GIO's messages, a non-ASCII file name) became '?'.  Invalid UTF-8 is
 * shown as U+FFFD.  Debug and info lines still follow G_MESSAGES_DEBUG;
 * under systemd the lines go to the journal with their fields. */
void        mn_log_use_utf8 (void);

G_END_DECLS
