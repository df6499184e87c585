/* mn-relay-conn.h: one client connection of the relay's hot path, private
 * to the files that carry a request through it (request, forward, response,
 * tunnel, proxy).  Not part of the relay's API: mn-relay-private.h is. */
#pragma once

#include "mn-relay-private.h"
#include "mn-relay-head.h"
#include "mn-relay-http.h"
#include "mn-relay-ws.h"

G_BEGIN_DECLS

typedef enum {
  ST_READ_HEAD,
  ST_CONNECTING,
  ST_SEND_REQUEST,
  ST_READ_RESPONSE,
  ST_SEND_RESPONSE,
  ST_LOCAL_RESPONSE,
  ST_TUNNEL,
  ST_LINGER,
  ST_CLOSED,
} ConnState;

/* Request body bytes kept (beside the head) so that a request can be sent
 * again when a pooled upstream connection turns out closed: JSON posts and
 * form submissions fit; an upload past this is streamed and, once part of
 * it is gone, never sent twice. */
#define REPLAY_BODY_MAX (64 * 1024)
/* How long a client that is still sending a body nobody reads is drained
 * after its answer, before the connection is closed. */
#define LINGER_SECONDS 5

typedef enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE } BodyKind;

typedef struct _Conn Conn;
typedef void (*ConnStep) (Conn *c);

typedef struct {
  Conn       *c;
  MnRelayEnd *src, *dst;
  guint8     *buf;
  gsize       len, off;
  gboolean    to_client;
  gboolean    buf_is_head;     /* buf is the client's head buffer (bytes after an upgrade) */
  MnRelayWs   frames;          /* what goes through must be WebSocket frames */
} Pipe;

typedef struct {
  BodyKind       kind;
  gboolean       declared;     /* a Content-Length came (0 included) */
  guint64        remaining;
  MnRelayChunked chunked;
  gboolean       done;
} Body;

struct _Conn {
  gint        ref_count;
  MnRelay    *relay;
  GList       link;
  ConnState   state;
  gint64      deadline;        /* monotonic µs; 0 = none */
  MnRelayEnd *client;
  MnRelayEnd *up;
  gchar      *up_key;
  gboolean    up_reused;
  gboolean    tls;
  gchar      *peer;
  const gchar *addr_key;       /* key in relay->per_address (owned by the table) */
  guint       n_requests;
  guint       n_crlf;          /* empty lines skipped before this request */
  guint       depth;
  GCancellable *cancel;

  /* Client head buffer; bytes past head_used are the body or a pipelined
   * request. */
  gchar      *head;
  gsize       head_len, head_used, head_scan;
  /* Upstream response head buffer, same layout. */
  gchar      *rhead;
  gsize       rhead_len, rhead_used, rhead_scan;

  /* The request in flight. */
  gchar      *method, *target, *user, *session;
  gchar      *target_log;      /* the target as logs show it (secrets replaced) */
  MnRelayRoute *route;
  gboolean    keep_alive, is_head, is_ws, replayable, response_started;
  gboolean    retried;         /* sent again once already */
  GString    *out;             /* upstream head, then (while replayable) the body so far */
  gsize       out_head;        /* length of the head in out */
  Body        req, resp;
  guint       status;
  gint64      t_start;
  guint64     bytes_in, bytes_out;
  gboolean    upstream_close;
  /* The request body's pace, client side only (not while the relay waits on
   * the upstream): bytes so far, time spent waiting for them, and since
   * when the relay waits now (0: it does not). */
  guint64     body_bytes;
  gint64      body_waited, body_wait_since;

  /* Pending write (body pumps and head writes). */
  MnRelayEnd *w_end;
  const guint8 *w_data;
  gsize       w_len;
  ConnStep    w_next;
  guint8     *buf;

  Pipe        c2u, u2c;
};

typedef enum { W_DONE, W_PENDING, W_ERROR } WriteResult;

/* mn-relay-conn.c: a connection's life, its writes and the relay's own answers */
Conn       *mn_relay_conn_ref             (Conn *c);
void        mn_relay_conn_unref           (Conn *c);
void        mn_relay_conn_set_deadline    (Conn *c, gint64 seconds);
void        mn_relay_conn_drop_head       (Conn *c);
void        mn_relay_conn_drop_rhead      (Conn *c);
void        mn_relay_conn_release_buf     (Conn *c);
void        mn_relay_conn_reset_request   (Conn *c);
void        mn_relay_conn_upstream_drop   (Conn *c);
void        mn_relay_pipe_drop_buf        (Pipe *p);
void        mn_relay_conn_close           (Conn *c);
void        mn_relay_conn_end             (Conn *c);
const gchar *mn_relay_conn_log_target     (Conn *c);
void        mn_relay_conn_log_request     (Conn *c);
WriteResult mn_relay_conn_write           (Conn *c, MnRelayEnd *end, const guint8 *data,
                                           gsize len, ConnStep next);
void        mn_relay_conn_respond         (Conn *c, guint status, const gchar *extra_headers,
                                           const gchar *html);
void        mn_relay_conn_upstream_failed (Conn *c, const gchar *message);

/* mn-relay-request.c: the client's request head, checked and rewritten */
void        mn_relay_request_read_head_ready (gpointer data);
void        mn_relay_request_read_head       (Conn *c);
gboolean    mn_relay_request_hop_by_hop      (guint8 id);
void        mn_relay_request_append_header   (GString *o, const gchar *name, const gchar *value);

/* mn-relay-forward.c: upstream connections, the pool, the request body */
void        mn_relay_forward_start           (Conn *c);
void        mn_relay_forward_pool_put        (Conn *c);
void        mn_relay_forward_response_ready  (gpointer data);
void        mn_relay_forward_check_answer    (Conn *c, gboolean write_failed);

/* mn-relay-response.c: the upstream's answer, back to the client */
void        mn_relay_response_read           (Conn *c);
void        mn_relay_response_finish         (Conn *c);

/* mn-relay-tunnel.c: WebSocket bytes both ways */
void        mn_relay_tunnel_start            (Conn *c);

/* mn-relay-proxy.c: accepting */
void        mn_relay_proxy_handshake         (Conn *c);

G_END_DECLS
