/* mn-relay-log.h: what the relay writes about requests.  A log line names
 * the request but never carries a secret (a token in a query string) and
 * never a raw control byte (a forged log line, a terminal escape). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @text with control bytes, bytes >= 0x7f, '"', '\\' and (with @space)
 * spaces written as \xHH; NULL as "-". */
gchar   *mn_relay_log_escape (const gchar *text, gboolean space);
/* A request target for a log: the values of secret-looking query
 * parameters (token, password, key, session, xsrf...) replaced by
 * REDACTED, then escaped. */
gchar   *mn_relay_log_target (const gchar *target);
/* Is @name (a query parameter's name, percent-decoded) secret-looking? */
gboolean mn_relay_log_secret_param (const gchar *name);

G_END_DECLS
