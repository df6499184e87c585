/* mn-relay-head.c: the strict HTTP/1.x head parser (see the header). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-head.h"

#include <string.h>

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
static const guint8 tchar_table[256] = {
  ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
  ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
  ['8'] = 1, ['9'] = 1,
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
  ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
  ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
  ['Y'] = 1, ['Z'] = 1,
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
  ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
  ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
  ['y'] = 1, ['z'] = 1,
};

gboolean
mn_relay_is_tchar (guchar ch)
{
  return tchar_table[ch] != 0;
}

/* Field values: HTAB, SP, VCHAR and obs-text; never CTLs (NUL, a bare CR
 * or LF, DEL...). */
static inline gboolean
is_value_byte (guchar ch)
{
  return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

typedef struct {
  const gchar *name;
  guint8       len;
  guint8       id;
} KnownField;

#define K(n, id) { n, sizeof (n) - 1, id }
static const KnownField known[] = {
  K ("Host", MN_RELAY_F_HOST),
  K ("Content-Length", MN_RELAY_F_CONTENT_LENGTH),
  K ("Transfer-Encoding", MN_RELAY_F_TRANSFER_ENCODING),
  K ("Connection", MN_RELAY_F_CONNECTION),
  K ("Upgrade", MN_RELAY_F_UPGRADE),
  K ("Keep-Alive", MN_RELAY_F_KEEP_ALIVE),
  K ("Proxy-Connection", MN_RELAY_F_PROXY_CONNECTION),
  K ("TE", MN_RELAY_F_TE),
  K ("Trailer", MN_RELAY_F_TRAILER),
  K ("Proxy-Authorization", MN_RELAY_F_PROXY_AUTHORIZATION),
  K ("Proxy-Authenticate", MN_RELAY_F_PROXY_AUTHENTICATE),
  K ("Cookie", MN_RELAY_F_COOKIE),
  K ("Authorization", MN_RELAY_F_AUTHORIZATION),
  K ("Origin", MN_RELAY_F_ORIGIN),
  K ("Sec-Fetch-Site", MN_RELAY_F_SEC_FETCH_SITE),
  K ("X-Forwarded-For", MN_RELAY_F_X_FORWARDED_FOR),
  K ("X-Forwarded-Proto", MN_RELAY_F_X_FORWARDED_PROTO),
  K ("X-Forwarded-Host", MN_RELAY_F_X_FORWARDED_HOST),
  K ("X-Real-IP", MN_RELAY_F_X_REAL_IP),
  K ("Set-Cookie", MN_RELAY_F_SET_COOKIE),
  K ("Set-Cookie2", MN_RELAY_F_SET_COOKIE2),
  K ("Sec-WebSocket-Extensions", MN_RELAY_F_SEC_WEBSOCKET_EXTENSIONS),
};
#undef K

static guint8
field_id (const gchar *name, gsize len)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    if (known[i].len == len && g_ascii_strncasecmp (known[i].name, name, len) == 0)
      return known[i].id;
  return MN_RELAY_F_OTHER;
}

static MnRelayHeadResult
fail (const gchar **why, const gchar *reason, MnRelayHeadResult result)
{
  if (why != NULL)
    *why = reason;
  return result;
}

/* "HTTP/1.x"; 505 for other majors, 400 for anything else. */
static MnRelayHeadResult
parse_version (const gchar *p, gsize n, guint *minor, const gchar **why)
{
  if (n != 8 || memcmp (p, "HTTP/", 5) != 0 || !g_ascii_isdigit (p[5]) || p[6] != '.' ||
      !g_ascii_isdigit (p[7]))
    return fail (why, "malformed HTTP version", MN_RELAY_HEAD_BAD);
  if (p[5] != '1')
    return fail (why, "not HTTP/1.x", MN_RELAY_HEAD_VERSION);
  *minor = p[7] == '0' ? 0 : 1;
  return MN_RELAY_HEAD_OK;
}

/* The field lines from @p (just past the start line's CRLF) to the final
 * empty line.  @end points at the last byte of the head. */
static MnRelayHeadResult
parse_fields (gchar *p, gchar *end, MnRelayHead *h, const gchar **why)
{
  for (;;)
    {
      if (p >= end)
        return fail (why, "head ends inside a field", MN_RELAY_HEAD_BAD);
      if (p[0] == '\r')
        {
          if (p + 1 != end || p[1] != '\n')
            return fail (why, "bare CR", MN_RELAY_HEAD_BAD);
          return MN_RELAY_HEAD_OK;
        }
      if (p[0] == ' ' || p[0] == '\t')
        return fail (why, "obsolete line folding", MN_RELAY_HEAD_BAD);
      gchar *name = p;
      while (p < end && tchar_table[(guchar) *p])
        p++;
      if (p == name)
        return fail (why, "a field name with a byte that is not allowed", MN_RELAY_HEAD_BAD);
      if (p >= end || *p != ':')
        return fail (why, *p == ' ' || *p == '\t' ? "whitespace before a colon"
                                                  : "a field line without a colon",
                     MN_RELAY_HEAD_BAD);
      gsize name_len = (gsize) (p - name);
      *p++ = '\0';
      while (p < end && (*p == ' ' || *p == '\t'))
        p++;
      gchar *value = p;
      while (p < end && is_value_byte ((guchar) *p))
        p++;
      if (p >= end || p[0] != '\r' || p[1] != '\n')
        return fail (why, *p == '\n' ? "bare LF" : *p == '\r' ? "bare CR"
                                                             : "a control byte in a field value",
                     MN_RELAY_HEAD_BAD);
      gchar *vend = p;
      while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
      *vend = '\0';
      p += 2;
      if (h->n_fields >= MN_RELAY_HEAD_MAX_FIELDS)
        return fail (why, "too many fields", MN_RELAY_HEAD_TOO_MANY_FIELDS);
      guint8 id = field_id (name, name_len);
      MnRelayField *f = &h->fields[h->n_fields++];
      f->name = name;
      f->value = value;
      f->value_len = (guint32) (vend - value);
      f->id = id;
      if (h->first[id] == 0)
        h->first[id] = (guint8) h->n_fields;
      if (h->count[id] < G_MAXUINT8)
        h->count[id]++;
    }
}

static gboolean
parse_digits (const gchar *v, guint64 *out)
{
  guint64 n = 0;
  gsize i = 0;
  for (; v[i] != '\0'; i++)
    {
      if (!g_ascii_isdigit (v[i]) || i >= 18)
        return FALSE;
      n = n * 10 + (guint64) (v[i] - '0');
    }
  *out = n;
  return i > 0;
}

/* Is @coding the only (or, with @last_only, the last) coding of the
 * Transfer-Encoding list @value?  An empty element anywhere ("chunked,",
 * ", chunked") is no. */
static gboolean
te_is (const gchar *value, const gchar *coding, gboolean last_only)
{
  gsize n = strlen (coding);
  const gchar *last = NULL;
  gsize last_len = 0, elements = 0;
  const gchar *p = value;
  for (;;)
    {
      while (*p == ' ' || *p == '\t')
        p++;
      const gchar *s = p;
      while (*p != '\0' && *p != ',')
        p++;
      const gchar *e = p;
      while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
      if (e == s)
        return FALSE;
      last = s;
      last_len = (gsize) (e - s);
      elements++;
      if (*p == '\0')
        break;
      p++;
    }
  if (!last_only && elements != 1)
    return FALSE;
  return last_len == n && g_ascii_strncasecmp (last, coding, n) == 0;
}

/* Host: uri-host [":" port], restricted to what a browser sends: a name,
 * an IPv4 address or a bracketed IPv6 one.  No '/', '@', '\', spaces. */
static gboolean
host_valid (const gchar *v)
{
  gsize i = 0;
  if (v[0] == '\0')
    return FALSE;
  if (v[0] == '[')
    {
      for (i = 1; v[i] != ']'; i++)
        if (!(g_ascii_isxdigit (v[i]) || v[i] == ':' || v[i] == '.'))
          return FALSE;
      i++;
    }
  else
    for (; v[i] != '\0' && v[i] != ':'; i++)
      if (!(g_ascii_isalnum (v[i]) || v[i] == '-' || v[i] == '.' || v[i] == '_'))
        return FALSE;
  if (i == 0)
    return FALSE;
  if (v[i] == '\0')
    return TRUE;
  if (v[i] != ':' || v[i + 1] == '\0')
    return FALSE;
  gsize digits = 0;
  for (i++; v[i] != '\0'; i++)
    if (!g_ascii_isdigit (v[i]) || ++digits > 5)
      return FALSE;
  return TRUE;
}

/* Content-Length and Transfer-Encoding, read the one way both the relay
 * and the upstream will read them. */
static MnRelayHeadResult
check_framing (MnRelayHead *h, gboolean request, const gchar **why)
{
  const gchar *cl = mn_relay_head_value (h, MN_RELAY_F_CONTENT_LENGTH);
  const gchar *te = mn_relay_head_value (h, MN_RELAY_F_TRANSFER_ENCODING);
  if (h->count[MN_RELAY_F_CONTENT_LENGTH] > 1)
    return fail (why, "duplicate Content-Length", MN_RELAY_HEAD_BAD);
  if (h->count[MN_RELAY_F_TRANSFER_ENCODING] > 1)
    return fail (why, "duplicate Transfer-Encoding", MN_RELAY_HEAD_BAD);
  if (te != NULL && cl != NULL)
    return fail (why, "both Content-Length and Transfer-Encoding", MN_RELAY_HEAD_BAD);
  if (cl != NULL)
    {
      if (!parse_digits (cl, &h->content_length))
        return fail (why, "bad Content-Length", MN_RELAY_HEAD_BAD);
      h->has_length = TRUE;
    }
  if (te != NULL)
    {
      if (request)
        {
          if (h->minor == 0)
            return fail (why, "Transfer-Encoding in an HTTP/1.0 request", MN_RELAY_HEAD_BAD);
          if (!te_is (te, "chunked", FALSE))
            return fail (why, "a transfer coding other than chunked",
                         MN_RELAY_HEAD_NOT_IMPLEMENTED);
          h->chunked = TRUE;
        }
      else if (te_is (te, "chunked", TRUE))
        h->chunked = TRUE;
      else
        h->other_coding = TRUE;      /* the body runs to the end of the connection */
    }
  return MN_RELAY_HEAD_OK;
}

MnRelayHeadResult
mn_relay_head_parse_request (gchar *buf, gsize len, MnRelayHead *h, const gchar **why)
{
  memset (h, 0, G_STRUCT_OFFSET (MnRelayHead, fields));
  if (len < 4 || memcmp (buf + len - 4, "\r\n\r\n", 4) != 0)
    return fail (why, "incomplete head", MN_RELAY_HEAD_BAD);
  gchar *end = buf + len - 1;
  gchar *p = buf;

  /* method SP request-target SP HTTP-version CRLF: one space each */
  gchar *method = p;
  while (p < end && tchar_table[(guchar) *p])
    p++;
  if (p == method || p - method > 32 || *p != ' ')
    return fail (why, "malformed request line", MN_RELAY_HEAD_BAD);
  *p++ = '\0';
  gchar *target = p;
  while (p < end && (guchar) *p > 0x20 && (guchar) *p < 0x7f)
    p++;
  if (p == target || *p != ' ')
    return fail (why, "malformed request target", MN_RELAY_HEAD_BAD);
  *p++ = '\0';
  gchar *version = p;
  while (p < end && *p != '\r' && *p != '\n')
    p++;
  MnRelayHeadResult r = parse_version (version, (gsize) (p - version), &h->minor, why);
  if (r != MN_RELAY_HEAD_OK)
    return r;
  if (p[0] != '\r' || p[1] != '\n')
    return fail (why, "bare LF", MN_RELAY_HEAD_BAD);
  p[0] = '\0';
  h->method = method;
  h->target = target;

  if ((r = parse_fields (p + 2, end, h, why)) != MN_RELAY_HEAD_OK)
    return r;
  if ((r = check_framing (h, TRUE, why)) != MN_RELAY_HEAD_OK)
    return r;
  /* RFC 9112 3.2: exactly one Host in HTTP/1.1, and a valid one. */
  if (h->count[MN_RELAY_F_HOST] > 1)
    return fail (why, "duplicate Host", MN_RELAY_HEAD_BAD);
  const gchar *host = mn_relay_head_value (h, MN_RELAY_F_HOST);
  if (host == NULL && h->minor >= 1)
    return fail (why, "no Host", MN_RELAY_HEAD_BAD);
  if (host != NULL && !host_valid (host))
    return fail (why, "bad Host", MN_RELAY_HEAD_BAD);
  /* Fields the relay decides on must not be open to two readings. */
  if (h->count[MN_RELAY_F_ORIGIN] > 1 || h->count[MN_RELAY_F_SEC_FETCH_SITE] > 1 ||
      h->count[MN_RELAY_F_AUTHORIZATION] > 1)
    return fail (why, "a duplicate Origin, Sec-Fetch-Site or Authorization", MN_RELAY_HEAD_BAD);
  return MN_RELAY_HEAD_OK;
}

MnRelayHeadResult
mn_relay_head_parse_response (gchar *buf, gsize len, MnRelayHead *h, const gchar **why)
{
  memset (h, 0, G_STRUCT_OFFSET (MnRelayHead, fields));
  if (len < 4 || memcmp (buf + len - 4, "\r\n\r\n", 4) != 0)
    return fail (why, "incomplete head", MN_RELAY_HEAD_BAD);
  gchar *end = buf + len - 1;
  gchar *p = buf;

  /* HTTP-version SP 3DIGIT SP reason-phrase CRLF (the reason may be empty,
   * and some servers leave out the space before it) */
  if (len < 14)
    return fail (why, "malformed status line", MN_RELAY_HEAD_BAD);
  MnRelayHeadResult r = parse_version (p, 8, &h->minor, why);
  if (r != MN_RELAY_HEAD_OK)
    return r == MN_RELAY_HEAD_VERSION ? fail (why, "not HTTP/1.x", MN_RELAY_HEAD_BAD) : r;
  if (p[8] != ' ' || !g_ascii_isdigit (p[9]) || !g_ascii_isdigit (p[10]) ||
      !g_ascii_isdigit (p[11]))
    return fail (why, "malformed status line", MN_RELAY_HEAD_BAD);
  h->status = (guint) ((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
  if (h->status < 100 || h->status > 599)
    return fail (why, "status code out of range", MN_RELAY_HEAD_BAD);
  p += 12;
  if (*p == ' ')
    p++;
  else if (*p != '\r')
    return fail (why, "malformed status line", MN_RELAY_HEAD_BAD);
  gchar *reason = p;
  while (p < end && is_value_byte ((guchar) *p))
    p++;
  if (p[0] != '\r' || p[1] != '\n')
    return fail (why, *p == '\n' ? "bare LF" : "a control byte in the status line",
                 MN_RELAY_HEAD_BAD);
  p[0] = '\0';
  h->reason = reason;

  if ((r = parse_fields (p + 2, end, h, why)) != MN_RELAY_HEAD_OK)
    return r;
  return check_framing (h, FALSE, why);
}

const gchar *
mn_relay_head_value (const MnRelayHead *h, MnRelayFieldId id)
{
  guint8 i = h->first[id];
  return i != 0 ? h->fields[i - 1].value : NULL;
}

gboolean
mn_relay_list_has_token (const gchar *value, const gchar *token)
{
  gsize n = strlen (token);
  const gchar *p = value;
  while (*p != '\0')
    {
      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      const gchar *s = p;
      while (*p != '\0' && *p != ',')
        p++;
      const gchar *e = p;
      while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
      if ((gsize) (e - s) == n && g_ascii_strncasecmp (s, token, n) == 0)
        return TRUE;
    }
  return FALSE;
}

gboolean
mn_relay_head_has_token (const MnRelayHead *h, MnRelayFieldId id, const gchar *token)
{
  guint8 first = h->first[id];
  if (first == 0)
    return FALSE;
  for (guint i = first - 1; i < h->n_fields; i++)
    if (h->fields[i].id == id && mn_relay_list_has_token (h->fields[i].value, token))
      return TRUE;
  return FALSE;
}
