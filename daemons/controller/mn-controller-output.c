/* mn-controller-output.c: a job's output, read safely and scrubbed. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-output.h"
#include "mn-controller-config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gchar *
mn_controller_output_tail (const gchar *path, gsize max_bytes, guint64 *size, gboolean *truncated,
                           GError **error)
{
  struct stat st;
  g_autofree gchar *buf = NULL;
  gsize want, got = 0;
  off_t from;
  gchar *start;
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    {
      g_set_error (error, MN_CONTROLLER_ERROR,
                   errno == ENOENT ? MN_CONTROLLER_ERROR_NOT_FOUND : MN_CONTROLLER_ERROR_INVALID,
                   "%s: %s", path, errno == ELOOP ? "is a symbolic link; not read" : g_strerror (errno));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_nlink != 1)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                   "%s: not a plain file of its own (a device, a FIFO or a hard link); not read",
                   path);
      close (fd);
      return NULL;
    }
  want = (guint64) st.st_size > max_bytes ? max_bytes : (gsize) st.st_size;
  from = st.st_size - (off_t) want;
  buf = g_malloc (want + 1);
  while (got < want)
    {
      ssize_t n = pread (fd, buf + got, want - got, from + (off_t) got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  close (fd);
  buf[got] = '\0';
  start = buf;
  /* a cut first line is half a line: start at the next one, if near */
  if (from > 0)
    {
      gchar *nl = memchr (buf, '\n', MIN (got, 4096));
      if (nl != NULL)
        start = nl + 1;
    }
  if (size != NULL)
    *size = (guint64) st.st_size;
  if (truncated != NULL)
    *truncated = from > 0;
  return g_utf8_make_valid (start, (gssize) (buf + got - start));
}

/* Patterns over the text, each match replaced; case ignored.  The first
 * two run before the secrets are looked for: an escape sequence or a bell
 * inside a token must not hide it. */
static const struct {
  const gchar *pattern;
  const gchar *replacement;
} rules[] = {
  /* terminal colours and cursor moves */
  { "\\x1b\\[[0-9;?]*[A-Za-z]", "" },
  /* other control characters, but tab and newline */
  { "[\\x00-\\x08\\x0b-\\x1f\\x7f]", "" },
  /* whole header lines a debug log may print */
  { "\\b(authorization|proxy-authorization|cookie|set-cookie|x-minna-app-token|x-csrf-token)(\\s*:\\s*)[^\\r\\n]+",
    "\\1\\2[hidden]" },
  { "\\b(bearer|basic|token)(\\s+)[A-Za-z0-9._~+/=-]{8,}", "\\1\\2[hidden]" },
  /* an X display's cookie, as xauth list prints it (the desktop app) */
  { "\\b(mit-magic-cookie-1\\s+)[0-9a-f]{16,}", "\\1[hidden]" },
  /* key=value, key: value, "key": "value", ?token=... in URLs */
  { "\\b([a-z0-9_-]*(?:token|password|passwd|secret|api[_-]?key|access[_-]?key|pwd)|_xsrf|auth)"
    "([\"']?[ \\t]*[=:][ \\t]*[\"']?)(?!\\[hidden\\])[^\\s&\"',;<>]+",
    "\\1\\2[hidden]" },
};
#define N_CLEANUP_RULES 2

static gchar *
apply (GRegex *re, gchar *text, const gchar *replacement)
{
  gchar *next = g_regex_replace (re, text, -1, 0, replacement, 0, NULL);
  if (next == NULL)
    return text;
  g_free (text);
  return next;
}

gchar *
mn_controller_output_scrub (const gchar *text, const gchar *const *secrets)
{
  static GRegex *compiled[G_N_ELEMENTS (rules)];
  static gsize once = 0;
  g_autofree gchar *out = g_strdup (text != NULL ? text : "");

  if (g_once_init_enter (&once))
    {
      for (gsize i = 0; i < G_N_ELEMENTS (rules); i++)
        {
          g_autoptr(GError) error = NULL;
          compiled[i] = g_regex_new (rules[i].pattern, G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, &error);
          if (compiled[i] == NULL)
            g_error ("output scrub rule %zu: %s", i, error->message);
        }
      g_once_init_leave (&once, 1);
    }
  if (!g_utf8_validate (out, -1, NULL))
    {
      gchar *valid = g_utf8_make_valid (out, -1);
      g_free (out);
      out = valid;
    }
  for (gsize i = 0; i < N_CLEANUP_RULES; i++)
    out = apply (compiled[i], out, rules[i].replacement);
  /* the literal secrets: a token printed without a key= before it */
  for (gsize i = 0; secrets != NULL && secrets[i] != NULL; i++)
    {
      g_autofree gchar *s = g_strstrip (g_strdup (secrets[i]));
      if (strlen (s) >= 8 && strstr (out, s) != NULL)
        {
          g_auto(GStrv) parts = g_strsplit (out, s, -1);
          g_free (out);
          out = g_strjoinv ("[hidden]", parts);
        }
    }
  for (gsize i = N_CLEANUP_RULES; i < G_N_ELEMENTS (rules); i++)
    out = apply (compiled[i], out, rules[i].replacement);
  return g_steal_pointer (&out);
}
