/* mn-log-limit.c */
#define G_LOG_DOMAIN "minna"

#include "mn-log-limit.h"

#include <stdarg.h>
#include <string.h>

typedef struct {
  guint64 count;         /* since first seen */
  guint64 logged_count;  /* count at the last line */
  gint64  first;         /* µs */
  gint64  last_line;     /* µs */
  gchar  *message;       /* the last message, for the repeat line */
  GLogLevelFlags level;
} Entry;

struct _MnLogLimit {
  gchar      *domain;
  gint64      interval_us;
  GHashTable *entries;   /* key -> Entry* */
  GMutex      lock;
  gint64    (*clock) (gpointer);
  gpointer    clock_data;
};

static void
entry_free (Entry *e)
{
  g_free (e->message);
  g_free (e);
}

static gint64
mono_clock (gpointer data)
{
  return g_get_monotonic_time ();
}

MnLogLimit *
mn_log_limit_new (const gchar *log_domain, gint64 interval_s)
{
  MnLogLimit *l = g_new0 (MnLogLimit, 1);
  l->domain = g_strdup (log_domain);
  l->interval_us = MAX (interval_s, 1) * G_USEC_PER_SEC;
  l->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) entry_free);
  g_mutex_init (&l->lock);
  l->clock = mono_clock;
  return l;
}

void
mn_log_limit_free (MnLogLimit *l)
{
  if (l == NULL)
    return;
  g_hash_table_destroy (l->entries);
  g_mutex_clear (&l->lock);
  g_free (l->domain);
  g_free (l);
}

void
mn_log_limit_set_clock (MnLogLimit *l, gint64 (*clock) (gpointer), gpointer data)
{
  l->clock = clock ? clock : mono_clock;
  l->clock_data = data;
}

gboolean
mn_log_limit_log (MnLogLimit *l, GLogLevelFlags level, const gchar *key, const gchar *format, ...)
{
  va_list ap;
  g_autofree gchar *message = NULL;
  g_autofree gchar *line = NULL;
  gint64 now = l->clock (l->clock_data);
  Entry *e;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_mutex_lock (&l->lock);
  e = g_hash_table_lookup (l->entries, key);
  if (e == NULL)
    {
      e = g_new0 (Entry, 1);
      e->first = now;
      e->last_line = now;
      e->count = e->logged_count = 1;
      g_hash_table_insert (l->entries, g_strdup (key), e);
      line = g_strdup (message);
    }
  else
    {
      e->count++;
      if (now - e->last_line >= l->interval_us)
        {
          line = g_strdup_printf ("%s (repeated %" G_GUINT64_FORMAT " times in the last %"
                                  G_GINT64_FORMAT " s)", message, e->count - e->logged_count,
                                  (now - e->last_line) / G_USEC_PER_SEC);
          e->last_line = now;
          e->logged_count = e->count;
        }
    }
  g_free (e->message);
  e->message = g_strdup (message);
  e->level = level;
  g_mutex_unlock (&l->lock);
  if (line != NULL)
    g_log (l->domain, level, "%s", line);
  return line != NULL;
}

void
mn_log_limit_clear (MnLogLimit *l, const gchar *key, const gchar *what)
{
  Entry *e;
  g_autofree gchar *line = NULL;
  g_mutex_lock (&l->lock);
  e = g_hash_table_lookup (l->entries, key);
  if (e != NULL && e->count > 1)
    line = g_strdup_printf ("%s: resolved after %" G_GUINT64_FORMAT " times in %" G_GINT64_FORMAT
                            " s", what ? what : key, e->count,
                            (l->clock (l->clock_data) - e->first) / G_USEC_PER_SEC);
  if (e != NULL)
    g_hash_table_remove (l->entries, key);
  g_mutex_unlock (&l->lock);
  if (line != NULL)
    g_log (l->domain, G_LOG_LEVEL_MESSAGE, "%s", line);
}

guint64
mn_log_limit_count (MnLogLimit *l, const gchar *key)
{
  Entry *e;
  guint64 n;
  g_mutex_lock (&l->lock);
  e = g_hash_table_lookup (l->entries, key);
  n = e ? e->count : 0;
  g_mutex_unlock (&l->lock);
  return n;
}

gchar *
mn_log_escape (const gchar *text)
{
  GString *out;
  const gchar *p, *end;
  if (text == NULL)
    return g_strdup ("(null)");
  out = g_string_sized_new (strlen (text));
  p = text;
  end = text + strlen (text);
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c == '\\')
        g_string_append (out, "\\\\");
      else
        g_string_append_unichar (out, c);
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}
