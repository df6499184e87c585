/* mn-log-limit.c */
#define G_LOG_DOMAIN "minna"

#include "mn-log-limit.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
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

static void
print_utf8 (FILE *stream, const gchar *text)
{
  g_autofree gchar *valid = g_utf8_make_valid (text, -1);
  fputs (valid, stream);
  fflush (stream);
}

static void
print_out (const gchar *text)
{
  print_utf8 (stdout, text);
}

static void
print_err (const gchar *text)
{
  print_utf8 (stderr, text);
}

static const gchar *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (level & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "Message";
  if (level & G_LOG_LEVEL_INFO)
    return "INFO";
  return "DEBUG";
}

static GLogWriterOutput
utf8_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const gchar *domain = NULL, *message = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree gchar *stamp = NULL, *valid = NULL;
  FILE *stream;

  if (g_log_writer_is_journald (fileno (stderr)) &&
      g_log_writer_journald (level, fields, n_fields, data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  now = g_date_time_new_now_local ();
  stamp = g_date_time_format (now, "%H:%M:%S.%f");
  if (stamp != NULL && strlen (stamp) > 12)
    stamp[12] = '\0';   /* milliseconds, as GLib writes them */
  valid = g_utf8_make_valid (message ? message : "", -1);
  stream = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING |
                     G_LOG_LEVEL_MESSAGE)) ? stderr : stdout;
  /* GLib's own format, so that whoever reads the lines reads them as before */
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    fprintf (stream, "\n(%s:%d): %s%s%s **: %s: %s\n", g_get_prgname () ? g_get_prgname () : "?",
             (int) getpid (), domain ? domain : "", domain ? "-" : "", level_name (level),
             stamp ? stamp : "", valid);
  else
    fprintf (stream, "%s%s%s: %s: %s\n", domain ? domain : "", domain ? "-" : "",
             level_name (level), stamp ? stamp : "", valid);
  fflush (stream);
  if (level & G_LOG_FLAG_FATAL)
    abort ();
  return G_LOG_WRITER_HANDLED;
}

void
mn_log_use_utf8 (void)
{
  g_set_print_handler (print_out);
  g_set_printerr_handler (print_err);
  g_log_set_writer_func (utf8_writer, NULL, NULL);
}
