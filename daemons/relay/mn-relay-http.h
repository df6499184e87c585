/* mn-relay-http.h: the pure parts of relaying HTTP/1.1: finding the end of a
 * head, following chunked bodies byte by byte without buffering them,
 * checking /s/<id>/ paths, and cookie handling.  No I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Offset just past "\r\n\r\n" in @buf, or -1 when the head is not complete. */
gssize mn_relay_http_head_end (const gchar *buf, gsize len, gsize scan_from);

/* Chunked transfer coding, checked strictly and passed on in its plain
 * form (extensions and trailers dropped), so the relay knows where a body
 * ends and the receiver cannot read it any other way. */
typedef struct {
  guint   state;
  guint64 remaining;
  guint   digits;
  guint   line_bytes;
  guint   trailer_bytes;
} MnRelayChunked;

typedef enum {
  MN_RELAY_CHUNKED_MORE,   /* all of the input belongs to the body, more to come */
  MN_RELAY_CHUNKED_DONE,   /* the body ended; *consumed bytes belonged to it */
  MN_RELAY_CHUNKED_ERROR,
} MnRelayChunkedResult;

void mn_relay_chunked_init (MnRelayChunked *c);
/* Reads @len bytes of @data and writes what is to be passed on to the start
 * of @data (*@out_len bytes, never more than *@consumed).  On DONE the
 * bytes past *@consumed (a next message) are left untouched. */
MnRelayChunkedResult mn_relay_chunked_filter (MnRelayChunked *c, guint8 *data, gsize len,
                                              gsize *consumed, gsize *out_len);

typedef enum {
  MN_RELAY_PATH_PORTAL,      /* not under /s/: goes to the controller */
  MN_RELAY_PATH_SESSION,     /* /s/<id>/...: *id set */
  MN_RELAY_PATH_ADD_SLASH,   /* exactly /s/<id> (redirect to /s/<id>/) */
  MN_RELAY_PATH_BAD,         /* refused: bad id, dot segments, encoded separators */
} MnRelayPathKind;

/* @target is the request-target as received (origin form). */
MnRelayPathKind mn_relay_http_classify_path (const gchar *target, gchar **id);

/* Session ids: 1..64 of [A-Za-z0-9_-]. */
gboolean mn_relay_session_id_valid (const gchar *id);

/* The value of cookie @name in a Cookie header, or NULL. */
gchar *mn_relay_cookie_get (const gchar *header, const gchar *name);
/* The Cookie header without cookie @name; NULL when nothing is left. */
gchar *mn_relay_cookie_strip (const gchar *header, const gchar *name);

/* Percent-encodes everything but unreserved characters and '/'. */
gchar *mn_relay_http_escape_next (const gchar *target);

/* "http://IP:PORT" (optionally a trailing '/'); IPv6 in brackets. */
gboolean mn_relay_parse_upstream (const gchar *url, gchar **host, guint16 *port);

/* Is @origin (an Origin field) the relay's own origin: @public_origin
 * ("scheme://host[:port]") when set, else @scheme with the request's @host?
 * Case and default ports do not count; "null" and anything malformed is
 * not. */
gboolean mn_relay_http_same_origin (const gchar *origin, const gchar *public_origin,
                                    const gchar *scheme, const gchar *host);

/* May the app at /s/@id/ set this cookie (a Set-Cookie value)?  Not the
 * portal's own cookie, nor one a browser would send to the portal or to
 * other sessions: a Domain attribute, a Path outside /s/@id/, a __Host-
 * name. */
gboolean mn_relay_http_app_cookie_ok (const gchar *set_cookie, const gchar *id);

G_END_DECLS
