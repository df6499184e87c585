/* mn-relay-head.h: a strict HTTP/1.x head parser for the relay.  A head that
 * two HTTP implementations could read differently is refused, as nginx does:
 * obs-fold, bare CR or LF, whitespace before a colon, control bytes, a
 * duplicate Content-Length, Transfer-Encoding with Content-Length or other
 * than chunked, a missing or repeated Host.  Parsing works in place: names
 * and values become NUL-terminated strings inside the caller's buffer, so a
 * request costs no allocation.  No I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* More fields than this: 431 (a 16 kB head of one-letter fields would
 * otherwise be thousands). */
#define MN_RELAY_HEAD_MAX_FIELDS 128

/* The fields the relay acts on; everything else is MN_RELAY_F_OTHER. */
typedef enum {
  MN_RELAY_F_OTHER,
  MN_RELAY_F_HOST,
  MN_RELAY_F_CONTENT_LENGTH,
  MN_RELAY_F_TRANSFER_ENCODING,
  MN_RELAY_F_CONNECTION,
  MN_RELAY_F_UPGRADE,
  MN_RELAY_F_KEEP_ALIVE,
  MN_RELAY_F_PROXY_CONNECTION,
  MN_RELAY_F_TE,
  MN_RELAY_F_TRAILER,
  MN_RELAY_F_PROXY_AUTHORIZATION,
  MN_RELAY_F_PROXY_AUTHENTICATE,
  MN_RELAY_F_COOKIE,
  MN_RELAY_F_AUTHORIZATION,
  MN_RELAY_F_ORIGIN,
  MN_RELAY_F_SEC_FETCH_SITE,
  MN_RELAY_F_X_FORWARDED_FOR,
  MN_RELAY_F_X_FORWARDED_PROTO,
  MN_RELAY_F_X_FORWARDED_HOST,
  MN_RELAY_F_X_REAL_IP,
  MN_RELAY_F_SET_COOKIE,
  MN_RELAY_F_SET_COOKIE2,
  MN_RELAY_F_SEC_WEBSOCKET_EXTENSIONS,
  MN_RELAY_F_N,
} MnRelayFieldId;

typedef struct {
  const gchar *name;        /* NUL-terminated in the parsed buffer */
  const gchar *value;       /* NUL-terminated, surrounding whitespace removed */
  guint32      value_len;
  guint8       id;          /* MnRelayFieldId */
} MnRelayField;

typedef enum {
  MN_RELAY_HEAD_OK,
  MN_RELAY_HEAD_BAD,              /* 400 (a request) or 502 (a response) */
  MN_RELAY_HEAD_TOO_MANY_FIELDS,  /* 431 */
  MN_RELAY_HEAD_VERSION,          /* 505: not HTTP/1.x */
  MN_RELAY_HEAD_NOT_IMPLEMENTED,  /* 501: a transfer coding other than chunked */
} MnRelayHeadResult;

typedef struct {
  /* request line */
  const gchar *method;
  const gchar *target;
  /* status line */
  guint        status;
  const gchar *reason;
  guint        minor;            /* HTTP/1.minor (0 or 1; a higher minor reads as 1) */

  /* framing, checked */
  gboolean     has_length;       /* Content-Length (and no Transfer-Encoding) */
  guint64      content_length;
  gboolean     chunked;          /* Transfer-Encoding ending in chunked */
  gboolean     other_coding;     /* response: a Transfer-Encoding not ending in chunked */

  guint8       first[MN_RELAY_F_N];   /* index + 1 of a field's first occurrence, 0 = none */
  guint8       count[MN_RELAY_F_N];   /* occurrences (saturating) */
  guint        n_fields;
  MnRelayField fields[MN_RELAY_HEAD_MAX_FIELDS];
} MnRelayHead;

/* @buf holds exactly one head up to and including its final CRLF CRLF
 * (@len bytes); it is modified.  On failure *@why (may be NULL) says what
 * was wrong, for logs and the error page. */
MnRelayHeadResult mn_relay_head_parse_request (gchar *buf, gsize len, MnRelayHead *head,
                                               const gchar **why);
MnRelayHeadResult mn_relay_head_parse_response (gchar *buf, gsize len, MnRelayHead *head,
                                                const gchar **why);

/* The first value of a known field, or NULL. */
const gchar *mn_relay_head_value (const MnRelayHead *head, MnRelayFieldId id);
/* Does any occurrence of the (comma-separated list) field hold @token
 * (case-insensitive)? */
gboolean     mn_relay_head_has_token (const MnRelayHead *head, MnRelayFieldId id,
                                      const gchar *token);
/* Does the comma-separated list @value hold @token (case-insensitive)? */
gboolean     mn_relay_list_has_token (const gchar *value, const gchar *token);

/* RFC 9110 tchar. */
gboolean     mn_relay_is_tchar (guchar ch);

G_END_DECLS
