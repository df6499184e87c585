/* mn-relay-log.c: log escaping, secret scrubbing, the access log file. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-log.h"
#include <string.h>

gchar *
mn_relay_log_escape (const gchar *text, gboolean space)
{
  if (text == NULL)
    return g_strdup ("-");
  GString *s = g_string_sized_new (strlen (text) + 8);
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || (space && *p == ' '))
        g_string_append_printf (s, "\\x%02X", *p);
      else
        g_string_append_c (s, (gchar) *p);
    }
  return g_string_free (s, FALSE);
}

gboolean
mn_relay_log_secret_param (const gchar *name)
{
  static const gchar *const parts[] = {
    "token", "secret", "passw", "auth", "session", "xsrf", "csrf", "key", "sig", "ticket",
    "jwt", "credential", "cookie", "nonce", NULL,
  };
  static const gchar *const exact[] = { "code", "pwd", "pass", "pin", "otp", NULL };
  g_autofree gchar *lower = g_ascii_strdown (name, -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    if (strstr (lower, parts[i]) != NULL)
      return TRUE;
  for (gsize i = 0; exact[i] != NULL; i++)
    if (g_str_equal (lower, exact[i]))
      return TRUE;
  return FALSE;
}

gchar *
mn_relay_log_target (const gchar *target)
{
  if (target == NULL)
    return g_strdup ("-");
  const gchar *q = strchr (target, '?');
  if (q == NULL)
    return mn_relay_log_escape (target, TRUE);
  GString *s = g_string_new_len (target, q - target + 1);
  const gchar *p = q + 1;
  while (*p != '\0')
    {
      gsize n = strcspn (p, "&;");
      const gchar *eq = memchr (p, '=', n);
      g_autofree gchar *raw = g_strndup (p, eq != NULL ? (gsize) (eq - p) : n);
      g_autofree gchar *name = g_uri_unescape_string (raw, NULL);
      /* A name that does not decode (%00, a cut-off escape) is as suspect. */
      if (eq != NULL && (name == NULL || mn_relay_log_secret_param (name)))
        {
          g_string_append_len (s, p, eq - p + 1);
          g_string_append (s, "REDACTED");
        }
      else
        g_string_append_len (s, p, (gssize) n);
      p += n;
      if (*p != '\0')
        g_string_append_c (s, *p++);
    }
  g_autofree gchar *scrubbed = g_string_free (s, FALSE);
  return mn_relay_log_escape (scrubbed, TRUE);
}
