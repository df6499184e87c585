/* mn-relay-http.c: pure HTTP helpers for the relay (see the header). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-http.h"
#include "mn-relay-config.h"
#include "mn-relay-head.h"
#include "mn-auth-cookie.h"

#include <string.h>

gssize
mn_relay_http_head_end (const gchar *buf, gsize len, gsize scan_from)
{
  /* Resume three bytes back so a terminator split across reads is found. */
  gsize i = scan_from > 3 ? scan_from - 3 : 0;
  while (i + 4 <= len)
    {
      const gchar *cr = memchr (buf + i, '\r', len - i);
      if (cr == NULL)
        return -1;
      i = (gsize) (cr - buf);
      if (i + 4 <= len && cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n')
        return (gssize) (i + 4);
      i++;
    }
  return -1;
}

/* Chunked bodies (RFC 9112 7.1) are checked strictly and rewritten in place
 * to their plain form: chunk sizes and data pass unchanged, chunk extensions
 * and trailer fields are dropped.  What goes on can then be read only one
 * way: a receiver that ends a trailer section early (libsoup reads a single
 * trailer line) or parses extensions differently never sees bytes that it
 * could take for a second request.  The output never runs ahead of the
 * input, so the filter writes into the buffer it reads. */
enum {
  CH_SIZE, CH_SIZE_WS, CH_EXT_PRE_NAME, CH_EXT_NAME, CH_EXT_POST_NAME, CH_EXT_PRE_VALUE,
  CH_EXT_TOKEN, CH_EXT_QUOTED, CH_EXT_QUOTED_ESC, CH_EXT_POST_VALUE, CH_SIZE_LF,
  CH_DATA, CH_DATA_CR, CH_DATA_LF,
  CH_TRAILER_START, CH_TRAILER_NAME, CH_TRAILER_VALUE, CH_TRAILER_LF, CH_FINAL_LF, CH_DONE,
};

/* Longest chunk-size line (extensions included) and trailer section. */
#define CHUNK_LINE_MAX 4096
#define CHUNK_TRAILER_MAX 8192
/* 15 hex digits: 2^60 bytes, far past any body, and no overflow. */
#define CHUNK_DIGITS_MAX 15

void
mn_relay_chunked_init (MnRelayChunked *c)
{
  memset (c, 0, sizeof *c);
  c->state = CH_SIZE;
}

static gint
hexval (guint8 ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

static inline gboolean
is_ws (guint8 ch)
{
  return ch == ' ' || ch == '\t';
}

/* qdtext and quoted-pair's second byte: HTAB, SP, VCHAR, obs-text. */
static inline gboolean
is_qd (guint8 ch)
{
  return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

MnRelayChunkedResult
mn_relay_chunked_filter (MnRelayChunked *c, guint8 *data, gsize len, gsize *consumed,
                         gsize *out_len)
{
  gsize i = 0, o = 0;
#define EMIT(ch) (data[o++] = (ch))
#define ERROR_OUT() do { *consumed = i; *out_len = o; return MN_RELAY_CHUNKED_ERROR; } while (0)
  while (i < len)
    {
      guint8 ch = data[i];
      if (c->state >= CH_SIZE_WS && c->state <= CH_EXT_POST_VALUE &&
          ++c->line_bytes > CHUNK_LINE_MAX)
        ERROR_OUT ();
      switch (c->state)
        {
        case CH_SIZE:
          {
            gint v = hexval (ch);
            if (v >= 0)
              {
                if (++c->digits > CHUNK_DIGITS_MAX)
                  ERROR_OUT ();
                c->remaining = c->remaining * 16 + (guint64) v;
                EMIT (ch);
              }
            else if (c->digits == 0)
              ERROR_OUT ();
            else if (ch == ';')
              c->state = CH_EXT_PRE_NAME;
            else if (is_ws (ch))
              c->state = CH_SIZE_WS;
            else if (ch == '\r')
              {
                EMIT (ch);
                c->state = CH_SIZE_LF;
              }
            else
              ERROR_OUT ();
            break;
          }
        case CH_SIZE_WS:         /* BWS, then an extension must follow */
          if (ch == ';')
            c->state = CH_EXT_PRE_NAME;
          else if (!is_ws (ch))
            ERROR_OUT ();
          break;
        case CH_EXT_PRE_NAME:
          if (mn_relay_is_tchar (ch))
            c->state = CH_EXT_NAME;
          else if (!is_ws (ch))
            ERROR_OUT ();
          break;
        case CH_EXT_NAME:
        case CH_EXT_POST_NAME:
          if (c->state == CH_EXT_NAME && mn_relay_is_tchar (ch))
            break;
          if (is_ws (ch))
            c->state = CH_EXT_POST_NAME;
          else if (ch == '=')
            c->state = CH_EXT_PRE_VALUE;
          else if (ch == ';')
            c->state = CH_EXT_PRE_NAME;
          else if (ch == '\r')
            {
              EMIT (ch);
              c->state = CH_SIZE_LF;
            }
          else
            ERROR_OUT ();
          break;
        case CH_EXT_PRE_VALUE:
          if (ch == '"')
            c->state = CH_EXT_QUOTED;
          else if (mn_relay_is_tchar (ch))
            c->state = CH_EXT_TOKEN;
          else if (!is_ws (ch))
            ERROR_OUT ();
          break;
        case CH_EXT_TOKEN:
        case CH_EXT_POST_VALUE:
          if (c->state == CH_EXT_TOKEN && mn_relay_is_tchar (ch))
            break;
          if (is_ws (ch))
            c->state = CH_EXT_POST_VALUE;
          else if (ch == ';')
            c->state = CH_EXT_PRE_NAME;
          else if (ch == '\r')
            {
              EMIT (ch);
              c->state = CH_SIZE_LF;
            }
          else
            ERROR_OUT ();
          break;
        case CH_EXT_QUOTED:
          if (ch == '"')
            c->state = CH_EXT_POST_VALUE;
          else if (ch == '\\')
            c->state = CH_EXT_QUOTED_ESC;
          else if (!is_qd (ch))
            ERROR_OUT ();
          break;
        case CH_EXT_QUOTED_ESC:
          if (!is_qd (ch))
            ERROR_OUT ();
          c->state = CH_EXT_QUOTED;
          break;
        case CH_SIZE_LF:
          if (ch != '\n')
            ERROR_OUT ();
          EMIT (ch);
          c->digits = 0;
          c->line_bytes = 0;
          c->state = c->remaining == 0 ? CH_TRAILER_START : CH_DATA;
          break;
        case CH_DATA:
          {
            gsize take = (gsize) MIN ((guint64) (len - i), c->remaining);
            if (o != i)
              memmove (data + o, data + i, take);
            o += take;
            i += take;
            c->remaining -= take;
            if (c->remaining == 0)
              c->state = CH_DATA_CR;
            continue;
          }
        case CH_DATA_CR:
          if (ch != '\r')
            ERROR_OUT ();
          EMIT (ch);
          c->state = CH_DATA_LF;
          break;
        case CH_DATA_LF:
          if (ch != '\n')
            ERROR_OUT ();
          EMIT (ch);
          c->state = CH_SIZE;
          break;
        case CH_TRAILER_START:
          if (ch == '\r')
            {
              EMIT (ch);
              c->state = CH_FINAL_LF;
            }
          else if (mn_relay_is_tchar (ch))
            c->state = CH_TRAILER_NAME;
          else
            ERROR_OUT ();        /* obs-fold, a bare LF, a request line's space... */
          break;
        case CH_TRAILER_NAME:
          if (ch == ':')
            c->state = CH_TRAILER_VALUE;
          else if (!mn_relay_is_tchar (ch))
            ERROR_OUT ();
          break;
        case CH_TRAILER_VALUE:
          if (ch == '\r')
            c->state = CH_TRAILER_LF;
          else if (!is_qd (ch))
            ERROR_OUT ();
          break;
        case CH_TRAILER_LF:
          if (ch != '\n')
            ERROR_OUT ();
          c->state = CH_TRAILER_START;
          break;
        case CH_FINAL_LF:
          if (ch != '\n')
            ERROR_OUT ();
          EMIT (ch);
          i++;
          c->state = CH_DONE;
          *consumed = i;
          *out_len = o;
          return MN_RELAY_CHUNKED_DONE;
        default:
          ERROR_OUT ();
        }
      if (c->state >= CH_TRAILER_NAME && c->state <= CH_TRAILER_LF &&
          ++c->trailer_bytes > CHUNK_TRAILER_MAX)
        ERROR_OUT ();
      i++;
    }
#undef EMIT
#undef ERROR_OUT
  *consumed = i;
  *out_len = o;
  return MN_RELAY_CHUNKED_MORE;
}

gboolean
mn_relay_session_id_valid (const gchar *id)
{
  gsize n = 0;
  for (; id[n] != '\0'; n++)
    if (!g_ascii_isalnum (id[n]) && id[n] != '-' && id[n] != '_')
      return FALSE;
  return n >= 1 && n <= 64;
}

/* Dot segments and encoded separators, raw or percent-encoded, anywhere in
 * the path: an app behind the relay must never be handed a path that some
 * layer could resolve outside /s/<id>/.  One pass, no allocation: this runs
 * on every request. */
static gboolean
path_is_tricky (const gchar *path, gsize len)
{
  gsize seg_start = 0;
  for (gsize i = 0; i <= len; i++)
    {
      guchar ch = i < len ? (guchar) path[i] : '/';
      if (ch == '/')
        {
          gsize n = i - seg_start;
          if ((n == 1 && path[seg_start] == '.') ||
              (n == 2 && path[seg_start] == '.' && path[seg_start + 1] == '.'))
            return TRUE;
          seg_start = i + 1;
          continue;
        }
      if (ch < 0x21 || ch == 0x7f || ch == '\\')
        return TRUE;
      if (ch == '%')
        {
          /* A cut-off escape is as suspect as a bad one. */
          if (i + 2 >= len)
            return TRUE;
          gchar a = g_ascii_tolower (path[i + 1]), b = g_ascii_tolower (path[i + 2]);
          if ((a == '2' && (b == 'e' || b == 'f')) || (a == '5' && b == 'c') ||
              (a == '0' && b == '0'))
            return TRUE;
        }
    }
  return FALSE;
}

MnRelayPathKind
mn_relay_http_classify_path (const gchar *target, gchar **id)
{
  if (target[0] != '/')
    return MN_RELAY_PATH_BAD;
  gsize plen = strcspn (target, "?#");
  if (!g_str_has_prefix (target, "/s/"))
    {
      /* The portal path must be sane too, the controller relies on it. */
      return path_is_tricky (target, plen) ? MN_RELAY_PATH_BAD : MN_RELAY_PATH_PORTAL;
    }
  if (path_is_tricky (target, plen))
    return MN_RELAY_PATH_BAD;
  const gchar *start = target + 3;
  gsize idlen = strcspn (start, "/?#");
  g_autofree gchar *candidate = g_strndup (start, idlen);
  if (!mn_relay_session_id_valid (candidate))
    return MN_RELAY_PATH_BAD;
  if (id != NULL)
    *id = g_steal_pointer (&candidate);
  return start[idlen] == '/' ? MN_RELAY_PATH_SESSION : MN_RELAY_PATH_ADD_SLASH;
}

/* Cookie headers are "a=b; c=d" (RFC 6265). */
gchar *
mn_relay_cookie_get (const gchar *header, const gchar *name)
{
  gsize nlen = strlen (name);
  const gchar *p = header;
  while (p != NULL && *p != '\0')
    {
      while (*p == ' ' || *p == '\t' || *p == ';')
        p++;
      const gchar *end = strchr (p, ';');
      gsize plen = end != NULL ? (gsize) (end - p) : strlen (p);
      if (plen > nlen && strncmp (p, name, nlen) == 0 && p[nlen] == '=')
        {
          g_autofree gchar *v = g_strndup (p + nlen + 1, plen - nlen - 1);
          g_strstrip (v);
          gsize vl = strlen (v);
          if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
            return g_strndup (v + 1, vl - 2);
          return g_steal_pointer (&v);
        }
      p = end;
    }
  return NULL;
}

/* One pass, one allocation: it runs on every request to an app. */
gchar *
mn_relay_cookie_strip (const gchar *header, const gchar *name)
{
  gsize nlen = strlen (name);
  GString *out = NULL;
  const gchar *p = header;
  for (;;)
    {
      while (*p == ' ' || *p == '\t')
        p++;
      const gchar *end = strchr (p, ';');
      gsize len = end != NULL ? (gsize) (end - p) : strlen (p);
      gboolean named = len >= nlen && strncmp (p, name, nlen) == 0 &&
                       (p[nlen] == '=' || p[nlen] == ' ');
      if (len > 0 && !named)
        {
          if (out == NULL)
            out = g_string_sized_new (strlen (header));
          else
            g_string_append_len (out, "; ", 2);
          g_string_append_len (out, p, (gssize) len);
        }
      if (end == NULL)
        break;
      p = end + 1;
    }
  return out != NULL ? g_string_free (out, FALSE) : NULL;
}

gchar *
mn_relay_http_escape_next (const gchar *target)
{
  return g_uri_escape_string (target, "/", FALSE);
}

static gboolean
hostname_valid (const gchar *h)
{
  gsize n = strlen (h);
  if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (h[i]) && h[i] != '-' && h[i] != '.')
      return FALSE;
  return TRUE;
}

gboolean
mn_relay_parse_upstream (const gchar *url, gchar **host, guint16 *port)
{
  if (url == NULL || !g_str_has_prefix (url, "http://"))
    return FALSE;
  g_autofree gchar *hp = g_strdup (url + 7);
  gsize n = strlen (hp);
  if (n > 0 && hp[n - 1] == '/')
    hp[n - 1] = '\0';
  guint16 p = 0;
  g_autofree gchar *h = NULL;
  if (!mn_relay_parse_hostport (hp, &h, &p, NULL))
    {
      /* A compute node's name rather than an address. */
      const gchar *colon = strrchr (hp, ':');
      guint64 pp = 0;
      if (colon == NULL ||
          !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &pp, NULL))
        return FALSE;
      h = g_strndup (hp, (gsize) (colon - hp));
      if (!hostname_valid (h))
        return FALSE;
      p = (guint16) pp;
    }
  if (p == 0)
    return FALSE;
  if (host != NULL)
    *host = g_steal_pointer (&h);
  if (port != NULL)
    *port = p;
  return TRUE;
}

/* "scheme://host[:port]" in canonical form: lower case, no default port.
 * NULL for anything else (a path, userinfo, "null"). */
static gchar *
canonical_origin (const gchar *scheme, gsize scheme_len, const gchar *authority)
{
  gboolean https;
  if (scheme_len == 5 && g_ascii_strncasecmp (scheme, "https", 5) == 0)
    https = TRUE;
  else if (scheme_len == 4 && g_ascii_strncasecmp (scheme, "http", 4) == 0)
    https = FALSE;
  else
    return NULL;
  gsize n = strlen (authority);
  if (n == 0 || strcspn (authority, "/?#@\\ \t") != n)
    return NULL;
  g_autofree gchar *a = g_ascii_strdown (authority, -1);
  const gchar *default_port = https ? ":443" : ":80";
  const gchar *close = strrchr (a, ']');
  const gchar *colon = strrchr (a, ':');
  if (colon != NULL && (close == NULL || colon > close) && g_str_equal (colon, default_port))
    a[colon - a] = '\0';
  return g_strdup_printf ("%s://%s", https ? "https" : "http", a);
}

gboolean
mn_relay_http_same_origin (const gchar *origin, const gchar *public_origin,
                           const gchar *scheme, const gchar *host)
{
  if (origin == NULL)
    return FALSE;
  const gchar *sep = strstr (origin, "://");
  if (sep == NULL)
    return FALSE;
  g_autofree gchar *got = canonical_origin (origin, (gsize) (sep - origin), sep + 3);
  g_autofree gchar *want = NULL;
  if (public_origin != NULL && public_origin[0] != '\0')
    {
      const gchar *psep = strstr (public_origin, "://");
      if (psep != NULL)
        want = canonical_origin (public_origin, (gsize) (psep - public_origin), psep + 3);
    }
  else if (host != NULL)
    want = canonical_origin (scheme, strlen (scheme), host);
  return got != NULL && want != NULL && g_str_equal (got, want);
}

gboolean
mn_relay_http_app_cookie_ok (const gchar *set_cookie, const gchar *id)
{
  g_auto(GStrv) parts = g_strsplit (set_cookie, ";", -1);
  /* An empty Set-Cookie sets nothing (browsers ignore it). */
  if (parts[0] == NULL)
    return TRUE;
  const gchar *pair = parts[0];
  while (*pair == ' ' || *pair == '\t')
    pair++;
  const gchar *eq = strchr (pair, '=');
  g_autofree gchar *name = g_strstrip (g_strndup (pair, eq != NULL ? (gsize) (eq - pair)
                                                                   : 0));
  /* The portal's own cookie, or one browsers scope to the whole host. */
  if (g_ascii_strcasecmp (name, MN_AUTH_COOKIE_NAME) == 0 ||
      g_ascii_strncasecmp (name, "__Host-", 7) == 0)
    return FALSE;
  g_autofree gchar *scope = g_strdup_printf ("/s/%s", id);
  gsize scope_len = strlen (scope);
  for (gsize i = 1; parts[i] != NULL; i++)
    {
      gchar *attr = g_strstrip (parts[i]);
      gchar *aeq = strchr (attr, '=');
      g_autofree gchar *aname = g_strstrip (g_strndup (attr, aeq != NULL ? (gsize) (aeq - attr)
                                                                        : strlen (attr)));
      const gchar *aval = aeq != NULL ? aeq + 1 : "";
      while (*aval == ' ' || *aval == '\t')
        aval++;
      /* A Domain cookie reaches other hosts and every path there. */
      if (g_ascii_strcasecmp (aname, "Domain") == 0)
        return FALSE;
      /* Browsers take a Path that does not start with '/' as none (the
       * request's directory, inside /s/<id>/); any other must stay inside. */
      if (g_ascii_strcasecmp (aname, "Path") == 0 && aval[0] == '/' &&
          !(strncmp (aval, scope, scope_len) == 0 &&
            (aval[scope_len] == '\0' || aval[scope_len] == '/')))
        return FALSE;
    }
  return TRUE;
}
