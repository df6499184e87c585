/* mn-relay-proxy.c: the hot path.  Request heads are read into a bounded
 * buffer and parsed with libsoup's header parser; bodies and WebSocket bytes
 * are spliced between non-blocking sockets through pooled fixed buffers,
 * reading the next piece only once the last one is written (back-pressure,
 * flat memory).  Upstream connections are kept alive in a pool. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-private.h"
#include "mn-relay-head.h"
#include "mn-relay-http.h"
#include "mn-relay-log.h"
#include "mn-relay-page.h"
#include "mn-relay-ws.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

static void conn_close (Conn *c);
static void read_head (Conn *c);
static void start_upstream (Conn *c);
static void read_response (Conn *c);
static void pump_request (Conn *c);
static void body_wait_start (Conn *c);
static void body_wait_end (Conn *c);
static void pump_response (Conn *c);
static void finish_request (Conn *c);
static void start_tunnel (Conn *c);

static Conn *
conn_ref (Conn *c)
{
  c->ref_count++;
  return c;
}

static void
conn_unref (Conn *c)
{
  if (--c->ref_count > 0)
    return;
  g_free (c->peer);
  g_free (c);
}

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static void
set_deadline (Conn *c, gint64 seconds)
{
  /* The round's clock: deadlines are coarse (the sweep runs each second). */
  c->deadline = seconds > 0 ? mn_relay_clock_now () + seconds * G_USEC_PER_SEC : 0;
}

static void
drop_head (Conn *c)
{
  if (c->head != NULL)
    mn_relay_head_put (c->relay, c->head);
  c->head = NULL;
}

static void
drop_rhead (Conn *c)
{
  if (c->rhead != NULL)
    mn_relay_head_put (c->relay, c->rhead);
  c->rhead = NULL;
}

static void
release_buf (Conn *c)
{
  if (c->buf != NULL)
    {
      mn_relay_buffer_put (c->relay, c->buf);
      c->buf = NULL;
    }
}

static void
reset_request (Conn *c)
{
  g_clear_pointer (&c->method, g_free);
  g_clear_pointer (&c->target, g_free);
  g_clear_pointer (&c->target_log, g_free);
  g_clear_pointer (&c->user, g_free);
  g_clear_pointer (&c->session, g_free);
  g_clear_pointer (&c->route, mn_relay_route_unref);
  g_clear_pointer (&c->up_key, g_free);
  if (c->out != NULL)
    mn_relay_string_put (c->relay, c->out);
  c->out = NULL;
  drop_rhead (c);
  c->rhead_len = c->rhead_used = c->rhead_scan = 0;
  c->is_head = c->is_ws = c->replayable = c->response_started = FALSE;
  c->retried = FALSE;
  c->out_head = 0;
  c->upstream_close = FALSE;
  memset (&c->req, 0, sizeof c->req);
  memset (&c->resp, 0, sizeof c->resp);
  c->status = 0;
  c->n_crlf = 0;
  c->body_bytes = 0;
  c->body_waited = c->body_wait_since = 0;
  c->bytes_in = c->bytes_out = 0;
  release_buf (c);
}

static void
upstream_drop (Conn *c)
{
  /* up_key stays: a retry goes to the same upstream. */
  if (c->up != NULL)
    mn_relay_end_free (c->up);
  c->up = NULL;
}

static void
pipe_drop_buf (Pipe *p)
{
  if (p->buf != NULL)
    {
      if (p->buf_is_head)
        mn_relay_head_put (p->c->relay, (gchar *) p->buf);
      else
        mn_relay_buffer_put (p->c->relay, p->buf);
    }
  p->buf = NULL;
  p->buf_is_head = FALSE;
  p->len = p->off = 0;
}

static void
conn_close (Conn *c)
{
  if (c->state == ST_CLOSED)
    return;
  if (c->is_ws && c->state == ST_TUNNEL)
    c->relay->metrics.websockets_open--;
  c->state = ST_CLOSED;
  g_cancellable_cancel (c->cancel);
  g_clear_object (&c->cancel);
  pipe_drop_buf (&c->c2u);
  pipe_drop_buf (&c->u2c);
  reset_request (c);
  upstream_drop (c);
  mn_relay_end_free (c->client);
  c->client = NULL;
  drop_head (c);
  g_queue_unlink (&c->relay->conns, &c->link);
  if (c->addr_key != NULL)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (c->relay->per_address, c->addr_key));
      if (n <= 1)
        g_hash_table_remove (c->relay->per_address, c->addr_key);
      else
        g_hash_table_insert (c->relay->per_address, g_strdup (c->addr_key),
                             GUINT_TO_POINTER (n - 1));
      c->addr_key = NULL;
    }
  conn_unref (c);
}

static void linger_read (Conn *c);

static void
linger_ready (gpointer data)
{
  linger_read (data);
}

static void
linger_read (Conn *c)
{
  guint8 scratch[16384];
  for (;;)
    {
      gssize n = mn_relay_end_read (c->client, scratch, sizeof scratch);
      if (n == MN_RELAY_IO_AGAIN)
        {
          mn_relay_end_want_read (c->client, linger_ready, c);
          return;
        }
      if (n <= 0)
        {
          conn_close (c);
          return;
        }
    }
}

/* Ends a client connection after its answer.  A client may still be
 * sending a body that nobody reads: closing at once would make the kernel
 * reset the connection, and a reset can destroy the answer before the
 * client has read it (RFC 9112 section 9.6).  So the relay half-closes,
 * drops what still comes for a few seconds, then closes (nginx's
 * lingering close). */
static void
conn_end (Conn *c)
{
  gboolean unread = c->req.kind != BODY_NONE && !c->req.done;
  if (!unread || c->client == NULL || mn_relay_end_is_tls (c->client))
    {
      conn_close (c);
      return;
    }
  upstream_drop (c);
  release_buf (c);
  drop_head (c);
  c->head_len = c->head_used = 0;
  c->state = ST_LINGER;
  set_deadline (c, LINGER_SECONDS);
  mn_relay_end_cancel (c->client);
  mn_relay_end_shutdown_write (c->client);
  linger_read (c);
}

/* ---- access log and metrics ---- */

static const gchar *
log_target (Conn *c)
{
  if (c->target_log == NULL)
    c->target_log = mn_relay_log_target (c->target);
  return c->target_log;
}

static void
log_request (Conn *c)
{
  MnRelay *r = c->relay;
  gdouble secs = (gdouble) (now_us () - c->t_start) / G_USEC_PER_SEC;
  guint cls = c->status / 100;
  r->metrics.requests[cls <= 5 ? cls : 0]++;
  mn_relay_observe_latency (r, secs);
  if (r->access_log == NULL)
    return;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *ts = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  /* Never a secret, never a raw control byte: the target's secret-looking
   * query values are replaced, and whatever a client chose is escaped. */
  g_autofree gchar *method = mn_relay_log_escape (c->method, TRUE);
  const gchar *target = log_target (c);
  g_autofree gchar *user = mn_relay_log_escape (c->user, TRUE);
  fprintf (r->access_log, "%s %s \"%s %s\" %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
           " %.6f user=%s session=%s%s\n",
           ts, c->peer, method, target, c->status, c->bytes_in, c->bytes_out,
           secs, user, c->session != NULL ? c->session : "-",
           c->is_ws && c->status == 101 ? " websocket" : "");
}

/* ---- writing ---- */

typedef enum { W_DONE, W_PENDING, W_ERROR } WriteResult;

static void write_ready (gpointer data);

static WriteResult
write_more (Conn *c)
{
  while (c->w_len > 0)
    {
      gssize n = mn_relay_end_write (c->w_end, c->w_data, c->w_len);
      if (n == MN_RELAY_IO_AGAIN)
        {
          mn_relay_end_want_write (c->w_end, write_ready, c);
          return W_PENDING;
        }
      if (n < 0)
        return W_ERROR;
      if (c->w_end == c->client)
        {
          c->bytes_out += (guint64) n;
          c->relay->metrics.bytes_out += (guint64) n;
        }
      c->w_data += n;
      c->w_len -= (gsize) n;
    }
  return W_DONE;
}

static void upstream_failed (Conn *c, const gchar *what);
static void check_answer (Conn *c, gboolean write_failed);
static void conn_end (Conn *c);

static void
write_ready (gpointer data)
{
  Conn *c = data;
  WriteResult w = write_more (c);
  if (w == W_PENDING)
    return;
  if (w == W_ERROR)
    {
      if (c->w_end == c->client)
        conn_close (c);
      else
        check_answer (c, TRUE);
      return;
    }
  c->w_next (c);
}

static WriteResult
conn_write (Conn *c, MnRelayEnd *end, const guint8 *data, gsize len, ConnStep next)
{
  c->w_end = end;
  c->w_data = data;
  c->w_len = len;
  c->w_next = next;
  set_deadline (c, end == c->client ? c->relay->config->read_timeout
                                    : c->relay->config->upstream_timeout);
  return write_more (c);
}

/* ---- local responses ---- */

static void
local_response_sent (Conn *c)
{
  log_request (c);
  if (!c->keep_alive)
    {
      conn_end (c);
      return;
    }
  finish_request (c);
}

static void
respond (Conn *c, guint status, const gchar *extra_headers, const gchar *html)
{
  /* Unread request bodies make the connection unusable for a next one; so
   * does a request refused as malformed (as nginx does): nothing after it
   * can be trusted to start a request. */
  if ((c->req.kind != BODY_NONE && !c->req.done) || status == 400 || status == 408 ||
      status == 413 || status == 431 || status == 501 || status == 505)
    c->keep_alive = FALSE;
  c->status = status;
  c->state = ST_LOCAL_RESPONSE;
  g_autofree gchar *body = mn_relay_page (status, soup_status_get_phrase (status), html);
  if (c->out != NULL)
    mn_relay_string_put (c->relay, c->out);
  c->out = mn_relay_string_get (c->relay);
  g_string_append_printf (c->out,
                          "HTTP/1.1 %u %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                          "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                          "Content-Security-Policy: " MN_RELAY_PAGE_CSP "\r\n"
                          "X-Content-Type-Options: nosniff\r\n%s%s\r\n",
                          status, soup_status_get_phrase (status), strlen (body),
                          extra_headers != NULL ? extra_headers : "",
                          c->keep_alive ? "" : "Connection: close\r\n");
  if (!c->is_head)
    g_string_append (c->out, body);
  switch (conn_write (c, c->client, (const guint8 *) c->out->str, c->out->len,
                      local_response_sent))
    {
    case W_DONE:
      local_response_sent (c);
      break;
    case W_ERROR:
      conn_close (c);
      break;
    case W_PENDING:
      break;
    }
}

static void
upstream_failed (Conn *c, const gchar *message)
{
  /* @message may be the end's own error text, freed with it. */
  g_autofree gchar *what = g_strdup (message);
  gboolean was_reused = c->up_reused;
  upstream_drop (c);
  /* A pooled connection the upstream had closed (its keep-alive timer ran
   * out as the request went up): send it once more on a fresh connection,
   * as nginx's proxy_next_upstream and Go's ReverseProxy do, when not a
   * byte of an answer came and every byte sent is still here (c->out: the
   * head and the body so far).  A fresh connection failing is the
   * upstream's real answer. */
  if (was_reused && c->replayable && !c->response_started && c->rhead_len == 0 &&
      !c->retried && c->out != NULL)
    {
      g_debug ("%s %s %s: pooled connection to %s failed (%s), sending again on a new one",
               c->peer, c->method, log_target (c), c->up_key, what);
      if (c->client != NULL)
        mn_relay_end_cancel (c->client);
      release_buf (c);
      c->retried = TRUE;
      c->up_reused = FALSE;
      c->state = ST_CONNECTING;
      start_upstream (c);
      return;
    }
  if (c->client != NULL)
    mn_relay_end_cancel (c->client);
  release_buf (c);
  c->relay->metrics.upstream_errors++;
  g_message ("%s %s: upstream %s: %s", c->peer, log_target (c),
             c->up_key != NULL ? c->up_key : "-", what);
  if (c->response_started)
    {
      conn_close (c);
      return;
    }
  c->keep_alive = FALSE;
  if (c->session != NULL)
    respond (c, 502, NULL, "This session is not answering. It may still be starting, "
             "or it has ended; try again in a moment or return to the portal.");
  else
    respond (c, 502, NULL, "The portal is not answering; try again in a moment.");
}

/* ---- reading the request head ---- */

static void
read_head_ready (gpointer data)
{
  read_head (data);
}

static void handle_request (Conn *c, gssize head_end);

/* Cross-site requests to apps (issue 15, item 8): every relayed request
 * carries the app's secret, so the app cannot tell a forged one.  Requests
 * that may change something (not GET, HEAD or OPTIONS) and WebSocket
 * upgrades must carry this site's own Origin, and a Sec-Fetch-Site, where a
 * browser sends one, must not say the request came from elsewhere. */
static gboolean
same_origin_ok (Conn *c, const MnRelayHead *h)
{
  const gchar *m = c->method;
  if (!c->is_ws && (g_str_equal (m, "GET") || g_str_equal (m, "HEAD") ||
                    g_str_equal (m, "OPTIONS")))
    return TRUE;
  const gchar *site = mn_relay_head_value (h, MN_RELAY_F_SEC_FETCH_SITE);
  if (site != NULL && (g_ascii_strcasecmp (site, "cross-site") == 0 ||
                       g_ascii_strcasecmp (site, "same-site") == 0))
    return FALSE;
  return mn_relay_http_same_origin (mn_relay_head_value (h, MN_RELAY_F_ORIGIN),
                                    c->relay->config->public_origin,
                                    c->tls ? "https" : "http",
                                    mn_relay_head_value (h, MN_RELAY_F_HOST));
}

/* All Cookie fields as one "a=b; c=d" list (RFC 6265 5.4, as HTTP/2
 * gateways join them). */
static gchar *
head_cookies (const MnRelayHead *h)
{
  if (h->count[MN_RELAY_F_COOKIE] <= 1)
    return g_strdup (mn_relay_head_value (h, MN_RELAY_F_COOKIE));
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < h->n_fields; i++)
    if (h->fields[i].id == MN_RELAY_F_COOKIE)
      {
        if (s->len > 0)
          g_string_append (s, "; ");
        g_string_append (s, h->fields[i].value);
      }
  return g_string_free (s, FALSE);
}

static void
read_head (Conn *c)
{
  MnRelay *r = c->relay;
  gsize cap = r->head_size;

  c->state = ST_READ_HEAD;
  for (;;)
    {
      /* Empty lines before a request line are ignored (RFC 9112 2.2):
       * some clients send CRLF after a body. */
      while (c->head_len >= 2 && c->head[0] == '\r' && c->head[1] == '\n' &&
             c->n_crlf < 4)
        {
          memmove (c->head, c->head + 2, c->head_len - 2);
          c->head_len -= 2;
          c->n_crlf++;
        }
      if (c->head_len > 0)
        {
          gssize end = mn_relay_http_head_end (c->head, c->head_len, c->head_scan);
          if (end > 0)
            {
              handle_request (c, end);
              return;
            }
          c->head_scan = c->head_len;
          if (c->head_len >= cap)
            {
              c->keep_alive = FALSE;
              respond (c, 431, NULL, "The request head is too large.");
              return;
            }
        }
      if (c->head == NULL)
        c->head = mn_relay_head_get (r);
      gssize n = mn_relay_end_read (c->client, (guint8 *) c->head + c->head_len,
                                    cap - c->head_len);
      if (n == MN_RELAY_IO_AGAIN)
        {
          /* Idle keep-alive connections hold no head buffer.  The deadline
           * stays where it is: progress does not move it (slowloris). */
          if (c->head_len == 0)
            drop_head (c);
          mn_relay_end_want_read (c->client, read_head_ready, c);
          return;
        }
      if (n <= 0)
        {
          conn_close (c);
          return;
        }
      if (c->head_len == 0)
        {
          c->t_start = now_us ();
          /* A head starts on a kept-alive connection: the whole of it must
           * come within read_timeout from now.  (The first request's clock
           * runs from the accept, the TLS handshake included.) */
          if (c->n_requests > 0)
            set_deadline (c, r->config->read_timeout);
        }
      c->head_len += (gsize) n;
      c->bytes_in += (guint64) n;
      r->metrics.bytes_in += (guint64) n;
    }
}

/* Hop-by-hop fields (RFC 9110 7.6.1) are not forwarded; the framing
 * fields are written by the relay itself. */
static gboolean
hop_by_hop (guint8 id)
{
  switch (id)
    {
    case MN_RELAY_F_CONNECTION:
    case MN_RELAY_F_KEEP_ALIVE:
    case MN_RELAY_F_PROXY_CONNECTION:
    case MN_RELAY_F_TE:
    case MN_RELAY_F_TRAILER:
    case MN_RELAY_F_UPGRADE:
    case MN_RELAY_F_PROXY_AUTHORIZATION:
    case MN_RELAY_F_PROXY_AUTHENTICATE:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The body's framing, as the relay passes it on: one form only. */
static void
append_framing (GString *o, const Body *b)
{
  if (b->kind == BODY_CHUNKED)
    g_string_append_len (o, "Transfer-Encoding: chunked\r\n", 28);
  else if (b->declared)
    {
      gchar line[48];
      gint n = g_snprintf (line, sizeof line, "Content-Length: %" G_GUINT64_FORMAT "\r\n",
                           b->remaining);
      g_string_append_len (o, line, n);
    }
}

/* Heads are rebuilt for every request: plain appends, no printf. */
static void
append_header (GString *o, const gchar *name, const gchar *value)
{
  g_string_append (o, name);
  g_string_append_len (o, ": ", 2);
  g_string_append (o, value);
  g_string_append_len (o, "\r\n", 2);
}

static void
build_upstream_head (Conn *c, const MnRelayHead *h, const gchar *host_header)
{
  GString *o = mn_relay_string_get (c->relay);
  const gchar *xff = NULL;

  g_string_append (o, c->method);
  g_string_append_c (o, ' ');
  g_string_append (o, c->target);
  g_string_append_len (o, " HTTP/1.1\r\n", 11);
  append_framing (o, &c->req);
  for (guint i = 0; i < h->n_fields; i++)
    {
      const gchar *name = h->fields[i].name, *value = h->fields[i].value;
      guint8 id = h->fields[i].id;
      if (hop_by_hop (id) || id == MN_RELAY_F_CONTENT_LENGTH ||
          id == MN_RELAY_F_TRANSFER_ENCODING)
        continue;
      if (id == MN_RELAY_F_X_FORWARDED_FOR)
        {
          xff = value;
          continue;
        }
      if (id == MN_RELAY_F_X_FORWARDED_PROTO || id == MN_RELAY_F_X_FORWARDED_HOST ||
          id == MN_RELAY_F_X_REAL_IP)
        continue;
      /* Only the relay says it is the relay (X-Minna-App-Token to apps,
       * X-Minna-Relay-Proof to the portal). */
      if (g_ascii_strncasecmp (name, "X-Minna-", 8) == 0)
        continue;
      if (c->session != NULL)
        {
          /* The app authenticates the relay by its secret; the browser's own
           * credentials for the portal never reach it. */
          if (id == MN_RELAY_F_AUTHORIZATION)
            continue;
          if (id == MN_RELAY_F_COOKIE)
            {
              g_autofree gchar *rest = mn_relay_cookie_strip (value, MN_AUTH_COOKIE_NAME);
              if (rest != NULL)
                g_string_append_printf (o, "Cookie: %s\r\n", rest);
              continue;
            }
        }
      append_header (o, name, value);
    }
  /* Not Authorization: Jupyter echoes a token it accepted there into its
   * pages; apps/minna_jupyter_auth.py checks this header instead. */
  if (c->session != NULL && c->route->token[0] != '\0')
    append_header (o, MN_AUTH_APP_TOKEN_HEADER, c->route->token);
  /* The controller believes X-Forwarded-For from the relay only; apps
   * never see this. */
  if (c->session == NULL && c->relay->relay_proof != NULL)
    append_header (o, MN_AUTH_RELAY_PROOF_HEADER, c->relay->relay_proof);
  g_string_append (o, "X-Forwarded-For: ");
  if (xff != NULL)
    {
      g_string_append (o, xff);
      g_string_append_len (o, ", ", 2);
    }
  g_string_append (o, c->peer);
  g_string_append (o, c->tls ? "\r\nX-Forwarded-Proto: https\r\n"
                             : "\r\nX-Forwarded-Proto: http\r\n");
  if (host_header != NULL)
    append_header (o, "X-Forwarded-Host", host_header);
  if (c->is_ws)
    g_string_append (o, "Connection: Upgrade\r\nUpgrade: websocket\r\n");
  g_string_append (o, "\r\n");
  c->out = o;
  c->out_head = o->len;
}

static void
handle_request (Conn *c, gssize head_end)
{
  MnRelay *r = c->relay;
  MnRelayHead head;
  MnRelayHead *h = &head;
  const gchar *why = NULL;

  c->head_used = (gsize) head_end;
  c->head_scan = 0;
  c->n_requests++;
  c->keep_alive = FALSE;
  /* Anything that two parsers could read two ways is refused, and the
   * connection closed: nothing after it can be trusted to start a request. */
  MnRelayHeadResult hr = mn_relay_head_parse_request (c->head, (gsize) head_end, h, &why);
  if (hr != MN_RELAY_HEAD_OK)
    {
      static const guint codes[] = {
        [MN_RELAY_HEAD_BAD] = 400, [MN_RELAY_HEAD_TOO_MANY_FIELDS] = 431,
        [MN_RELAY_HEAD_VERSION] = 505, [MN_RELAY_HEAD_NOT_IMPLEMENTED] = 501,
      };
      g_debug ("%s: request refused: %s", c->peer, why);
      g_autofree gchar *msg = g_strdup_printf ("The request could not be read unambiguously "
                                               "(%s).", why);
      respond (c, codes[hr], NULL, msg);
      return;
    }
  c->method = g_strdup (h->method);
  c->target = g_strdup (h->target);
  c->is_head = g_str_equal (c->method, "HEAD");
  if (h->minor >= 1)
    c->keep_alive = !mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "close");
  else
    c->keep_alive = mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "keep-alive");

  /* Body framing: the parser has refused every ambiguous form. */
  if (h->chunked)
    {
      c->req.kind = BODY_CHUNKED;
      mn_relay_chunked_init (&c->req.chunked);
    }
  else if (h->has_length)
    {
      c->req.declared = TRUE;
      c->req.remaining = h->content_length;
      c->req.kind = c->req.remaining > 0 ? BODY_LENGTH : BODY_NONE;
    }
  c->req.done = c->req.kind == BODY_NONE;
  /* Replayable while every byte sent up is also kept in c->out. */
  c->replayable = !(c->req.kind == BODY_LENGTH && c->req.remaining > REPLAY_BODY_MAX);
  c->is_ws = mn_relay_head_has_token (h, MN_RELAY_F_UPGRADE, "websocket") &&
             mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "upgrade");

  if (g_str_equal (c->method, "CONNECT") || c->target[0] != '/')
    {
      respond (c, 400, NULL, "This is not a forward proxy.");
      return;
    }

  g_autofree gchar *id = NULL;
  switch (mn_relay_http_classify_path (c->target, &id))
    {
    case MN_RELAY_PATH_BAD:
      respond (c, 400, NULL, "The path is not allowed.");
      return;
    case MN_RELAY_PATH_ADD_SLASH:
      {
        const gchar *q = strchr (c->target, '?');
        g_autofree gchar *loc = g_strdup_printf ("Location: /s/%s/%s\r\n", id, q != NULL ? q : "");
        c->session = g_steal_pointer (&id);
        respond (c, 301, loc, "Moved.");
        return;
      }
    case MN_RELAY_PATH_SESSION:
      {
        gint64 now = g_get_real_time () / G_USEC_PER_SEC;
        c->session = g_steal_pointer (&id);
        if (!same_origin_ok (c, h))
          {
            respond (c, 403, NULL, "Requests that change something in an app, and "
                     "WebSockets to it, must come from this site's own pages.");
            return;
          }
        c->route = mn_relay_routes_lookup (r->routes, c->session, now);
        if (c->route == NULL && r->routes_loading)
          {
            c->keep_alive = FALSE;
            respond (c, 503, "Retry-After: 1\r\n",
                     "The relay is starting and loading its routes; try again in a moment.");
            return;
          }
        if (c->route == NULL)
          {
            respond (c, 404, NULL, "There is no such session (it may have ended).");
            return;
          }
        g_autofree gchar *cookie_header = head_cookies (h);
        if (cookie_header != NULL)
          c->user = g_strdup (mn_relay_cookie_user (r, cookie_header, now));
        if (c->user == NULL)
          {
            g_autofree gchar *next = mn_relay_http_escape_next (c->target);
            g_autofree gchar *loc = g_strdup_printf ("Location: %s?next=%s\r\n",
                                                     r->config->login_path, next);
            respond (c, 302, loc, "Please log in to the portal first.");
            return;
          }
        if (!g_str_equal (c->user, c->route->owner))
          {
            respond (c, 403, NULL, "This session belongs to another user.");
            return;
          }
        c->route->last_activity = now;
        g_free (c->up_key);
        c->up_key = g_strdup (c->route->pool_key);
        break;
      }
    case MN_RELAY_PATH_PORTAL:
    default:
      if (r->controller_host == NULL)
        {
          respond (c, 404, NULL, "No portal is configured here.");
          return;
        }
      g_free (c->up_key);
      c->up_key = g_strdup (r->controller_key);
      break;
    }

  build_upstream_head (c, h, mn_relay_head_value (h, MN_RELAY_F_HOST));
  c->state = ST_CONNECTING;
  start_upstream (c);
}

/* ---- upstream connections ---- */

static void send_request (Conn *c);

static void
connected (GObject *source, GAsyncResult *res, gpointer data)
{
  Conn *c = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) sc =
    g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &error);
  if (c->state != ST_CONNECTING)
    {
      conn_unref (c);
      return;
    }
  if (sc == NULL)
    {
      c->replayable = FALSE;
      upstream_failed (c, error->message);
      conn_unref (c);
      return;
    }
  g_socket_set_option (g_socket_connection_get_socket (sc), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  c->up = mn_relay_end_new (G_IO_STREAM (sc), g_socket_connection_get_socket (sc));
  c->up_reused = FALSE;
  send_request (c);
  conn_unref (c);
}

static void
start_upstream (Conn *c)
{
  MnRelay *r = c->relay;
  GQueue *idle = c->retried ? NULL : g_hash_table_lookup (r->pool, c->up_key);
  while (idle != NULL && !g_queue_is_empty (idle))
    {
      MnRelayEnd *e = g_queue_pop_head (idle);
      /* A connection the upstream closed, or on which it sent something
       * unasked while it sat in the pool, is never used. */
      if (mn_relay_end_is_stale (e))
        {
          mn_relay_end_free (e);
          continue;
        }
      c->up = e;
      c->up_reused = TRUE;
      send_request (c);
      return;
    }
  const gchar *colon = strrchr (c->up_key, ':');
  g_autofree gchar *host = g_strndup (c->up_key, (gsize) (colon - c->up_key));
  guint16 port = (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  /* Apps and the controller are reached directly: a proxy from the
   * environment or the desktop settings must not apply, and looking one up
   * costs a thread hop per connection. */
  g_socket_client_set_enable_proxy (client, FALSE);
  if (c->cancel == NULL)
    c->cancel = g_cancellable_new ();
  set_deadline (c, r->config->upstream_connect_timeout);
  g_socket_client_connect_to_host_async (client, host, port, c->cancel, connected,
                                         conn_ref (c));
}

static void
pool_put (Conn *c)
{
  MnRelay *r = c->relay;
  if (r->config->upstream_keepalive == 0)
    {
      upstream_drop (c);
      return;
    }
  GQueue *idle = g_hash_table_lookup (r->pool, c->up_key);
  if (idle == NULL)
    {
      idle = g_queue_new ();
      g_hash_table_insert (r->pool, g_strdup (c->up_key), idle);
    }
  mn_relay_end_cancel (c->up);
  mn_relay_end_mark_quiet (c->up);
  if (g_queue_get_length (idle) >= (guint) r->config->upstream_keepalive)
    mn_relay_end_free (g_queue_pop_tail (idle));
  /* Most recently used first: warm connections, and the cold tail is what
   * the upstream's own idle timeout will close. */
  g_queue_push_head (idle, c->up);
  c->up = NULL;
  g_clear_pointer (&c->up_key, g_free);
}

/* ---- request body ---- */

static void request_sent (Conn *c);

static void
read_response_ready (gpointer data)
{
  read_response (data);
}

static void
answer_ready (gpointer data)
{
  check_answer (data, FALSE);
}

/* While the request body goes up, the upstream may answer (413, 401, ...)
 * or close before it has all of it: watch for that instead of writing on
 * into a connection nobody reads. */
static void
watch_answer (Conn *c)
{
  mn_relay_end_want_read (c->up, answer_ready, c);
}

/* Keeps body bytes for a resend while they fit; past that the request is
 * streamed and can no longer be sent twice. */
static void
keep_for_replay (Conn *c, const guint8 *data, gsize len)
{
  if (!c->replayable || c->out == NULL)
    return;
  if (c->out->len - c->out_head + len > REPLAY_BODY_MAX)
    {
      c->replayable = FALSE;
      return;
    }
  g_string_append_len (c->out, (const gchar *) data, (gssize) len);
}

static void
send_request (Conn *c)
{
  c->state = ST_SEND_REQUEST;
  /* The head and whatever body bytes came with it, in one write.  On a
   * resend c->out already holds them (and head_used is past them). */
  if (c->req.kind == BODY_LENGTH || c->req.kind == BODY_CHUNKED)
    {
      gsize avail = c->head_len - c->head_used;
      gsize take = 0;
      if (c->req.kind == BODY_LENGTH)
        take = (gsize) MIN ((guint64) avail, c->req.remaining);
      gsize pass = 0;
      if (c->req.kind == BODY_CHUNKED && avail > 0 && !c->req.done)
        {
          /* Filtered in place: what passes on is at the start of the range. */
          MnRelayChunkedResult cr = mn_relay_chunked_filter (
            &c->req.chunked, (guint8 *) c->head + c->head_used, avail, &take, &pass);
          if (cr == MN_RELAY_CHUNKED_ERROR)
            {
              c->keep_alive = FALSE;
              c->req.done = TRUE;       /* nothing more of it is read */
              upstream_drop (c);
              respond (c, 400, NULL, "The chunked request body is malformed.");
              return;
            }
          c->req.done = cr == MN_RELAY_CHUNKED_DONE;
        }
      if (c->req.kind == BODY_LENGTH)
        {
          c->req.remaining -= take;
          c->req.done = c->req.remaining == 0;
          pass = take;
        }
      /* Sent from c->out in any case; kept there for a resend only while
       * within the limit (a head buffer can be larger than it). */
      if (c->out->len - c->out_head + pass > REPLAY_BODY_MAX)
        c->replayable = FALSE;
      g_string_append_len (c->out, c->head + c->head_used, (gssize) pass);
      c->head_used += take;
    }
  switch (conn_write (c, c->up, (const guint8 *) c->out->str, c->out->len, request_sent))
    {
    case W_DONE:
      request_sent (c);
      break;
    case W_ERROR:
      check_answer (c, TRUE);
      break;
    case W_PENDING:
      watch_answer (c);
      break;
    }
}

static void
request_sent (Conn *c)
{
  /* c->out (the request head and a kept body) stays until the answer
   * starts: a pooled connection the upstream closed shows up only now, at
   * the read, and the resend needs it. */
  if (!c->req.done)
    {
      pump_request (c);
      return;
    }
  /* The answer is rarely there yet: back to the event loop, so one wakeup
   * serves many connections (as nginx does), instead of a recv that fails. */
  c->state = ST_READ_RESPONSE;
  set_deadline (c, c->relay->config->upstream_timeout);
  mn_relay_end_want_read (c->up, read_response_ready, c);
}

static void
pump_request_ready (gpointer data)
{
  pump_request (data);
}

/* A body must not pause longer than read_timeout, and must average
 * body_min_rate bytes/s after read_timeout of grace: a client trickling a
 * byte now and then (slowloris on the body) holds its connection no longer
 * than that.  Only the time the relay waits for the client counts. */
static void
body_wait_start (Conn *c)
{
  const MnRelayConfig *cfg = c->relay->config;
  gint64 now = now_us ();
  gint64 silence = cfg->read_timeout * G_USEC_PER_SEC;
  gint64 left = silence;
  if (cfg->body_min_rate > 0)
    {
      gint64 earned = (gint64) (c->body_bytes * G_USEC_PER_SEC / (guint64) cfg->body_min_rate);
      left = MIN (silence, silence + earned - c->body_waited);
    }
  c->body_wait_since = now;
  c->deadline = now + MAX (left, 1);
}

static void
body_wait_end (Conn *c)
{
  if (c->body_wait_since != 0)
    c->body_waited += now_us () - c->body_wait_since;
  c->body_wait_since = 0;
}

static void
pump_request_written (Conn *c)
{
  if (c->req.done)
    {
      release_buf (c);
      read_response (c);
      return;
    }
  pump_request (c);
}

static void
pump_request (Conn *c)
{
  MnRelay *r = c->relay;
  for (;;)
    {
      if (c->buf == NULL)
        c->buf = mn_relay_buffer_get (r);
      /* A whole buffer even for the last bytes of a Content-Length body: a
       * short read then says the socket is empty, and a pipelined next
       * request that came along is kept for read_head. */
      gssize n = mn_relay_end_read (c->client, c->buf, r->buffer_size);
      if (n == MN_RELAY_IO_AGAIN)
        {
          release_buf (c);
          body_wait_start (c);
          mn_relay_end_want_read (c->client, pump_request_ready, c);
          watch_answer (c);
          return;
        }
      body_wait_end (c);
      if (n <= 0)
        {
          /* The client gave up in the middle of its upload. */
          conn_close (c);
          return;
        }
      c->bytes_in += (guint64) n;
      c->body_bytes += (guint64) n;
      r->metrics.bytes_in += (guint64) n;
      gsize take = (gsize) n, pass = (gsize) n;
      if (c->req.kind == BODY_LENGTH)
        {
          take = pass = (gsize) MIN ((guint64) n, c->req.remaining);
          c->req.remaining -= take;
          c->req.done = c->req.remaining == 0;
        }
      else
        {
          MnRelayChunkedResult cr = mn_relay_chunked_filter (&c->req.chunked, c->buf,
                                                             (gsize) n, &take, &pass);
          if (cr == MN_RELAY_CHUNKED_ERROR)
            {
              /* Part of the body may be gone up already: both ends close,
               * and the upstream sees a truncated chunked body. */
              g_debug ("%s %s %s: malformed chunked request body", c->peer, c->method,
                       log_target (c));
              conn_close (c);
              return;
            }
          c->req.done = cr == MN_RELAY_CHUNKED_DONE;
        }
      if (take < (gsize) n)
        {
          /* A pipelined next request: keep it for read_head. */
          gsize extra = (gsize) n - take;
          if (c->head == NULL)
            c->head = mn_relay_head_get (r);
          memmove (c->head, c->head + c->head_used, c->head_len - c->head_used);
          c->head_len -= c->head_used;
          c->head_used = 0;
          if (c->head_len + extra > r->head_size)
            c->keep_alive = FALSE;
          else
            {
              memcpy (c->head + c->head_len, c->buf + take, extra);
              c->head_len += extra;
            }
        }
      keep_for_replay (c, c->buf, pass);
      WriteResult w = conn_write (c, c->up, c->buf, pass, pump_request_written);
      if (w == W_PENDING)
        {
          watch_answer (c);
          return;
        }
      if (w == W_ERROR)
        {
          check_answer (c, TRUE);
          return;
        }
      if (c->req.done)
        {
          release_buf (c);
          read_response (c);
          return;
        }
    }
}

/* Is there an answer that is not interim (1xx but 101) in rhead? */
static gboolean
final_head_buffered (Conn *c)
{
  gsize pos = c->rhead_used;
  while (c->rhead != NULL && pos < c->rhead_len)
    {
      gssize end = mn_relay_http_head_end (c->rhead + pos, c->rhead_len - pos, 0);
      if (end <= 0)
        return FALSE;
      const gchar *h = c->rhead + pos;
      /* (rhead is not NUL-terminated: compare within the head) */
      if (end < 12 || strncmp (h, "HTTP/1.", 7) != 0 || !g_ascii_isdigit (h[9]))
        return TRUE;                    /* read_response will refuse it */
      guint status = (guint) g_ascii_strtoull (h + 9, NULL, 10);
      if (status >= 200 || status == 101)
        return TRUE;
      pos += (gsize) end;
    }
  return FALSE;
}

/* The upstream spoke (or failed) while the request body was going up.
 * A final answer is forwarded at once and the rest of the body dropped
 * (the client's connection then ends, the upstream's too); interim
 * answers wait for the body, as before; a connection that closed or
 * reset is the upstream failing, which upstream_failed may resend. */
static void
check_answer (Conn *c, gboolean write_failed)
{
  MnRelay *r = c->relay;
  gboolean ended = FALSE;
  g_autofree gchar *why = write_failed ? g_strdup (mn_relay_end_last_error (c->up)) : NULL;
  while (!ended && c->rhead_len < r->head_size)
    {
      if (c->rhead == NULL)
        c->rhead = mn_relay_head_get (r);
      gssize n = mn_relay_end_read (c->up, (guint8 *) c->rhead + c->rhead_len,
                                    r->head_size - c->rhead_len);
      if (n == MN_RELAY_IO_AGAIN)
        break;
      if (n <= 0)
        {
          ended = TRUE;
          if (why == NULL)
            why = g_strdup (n == 0 ? "closed before answering" : mn_relay_end_last_error (c->up));
          break;
        }
      c->rhead_len += (gsize) n;
    }
  if (final_head_buffered (c) || c->rhead_len >= r->head_size)
    {
      g_debug ("%s %s %s: the upstream answered before the whole body was sent", c->peer,
               c->method, log_target (c));
      mn_relay_end_cancel (c->client);
      mn_relay_end_cancel (c->up);
      release_buf (c);
      c->replayable = FALSE;
      c->upstream_close = TRUE;
      c->keep_alive = FALSE;
      read_response (c);
      return;
    }
  if (ended || write_failed)
    {
      mn_relay_end_cancel (c->up);
      if (c->rhead_len > 0)
        c->replayable = FALSE;
      upstream_failed (c, why);
      return;
    }
  /* Nothing, or an interim answer: the body goes on. */
  watch_answer (c);
}

/* ---- response ---- */

static void send_response_head (Conn *c, gssize end);

static void
read_response (Conn *c)
{
  MnRelay *r = c->relay;
  gsize cap = r->head_size;

  c->state = ST_READ_RESPONSE;
  /* No watch for an early answer may outlive the body. */
  mn_relay_end_cancel (c->up);
  for (;;)
    {
      if (c->rhead_len > c->rhead_used)
        {
          gssize end = mn_relay_http_head_end (c->rhead + c->rhead_used,
                                               c->rhead_len - c->rhead_used, c->rhead_scan);
          if (end > 0)
            {
              send_response_head (c, end);
              return;
            }
          c->rhead_scan = c->rhead_len - c->rhead_used;
          if (c->rhead_len >= cap)
            {
              c->replayable = FALSE;
              upstream_failed (c, "response head too large");
              return;
            }
        }
      if (c->rhead == NULL)
        c->rhead = mn_relay_head_get (r);
      gssize n = mn_relay_end_read (c->up, (guint8 *) c->rhead + c->rhead_len,
                                    cap - c->rhead_len);
      if (n == MN_RELAY_IO_AGAIN)
        {
          set_deadline (c, r->config->upstream_timeout);
          mn_relay_end_want_read (c->up, read_response_ready, c);
          return;
        }
      if (n <= 0)
        {
          if (c->rhead_len > 0)
            c->replayable = FALSE;
          upstream_failed (c, n == 0 ? "closed before answering"
                                     : mn_relay_end_last_error (c->up));
          return;
        }
      c->rhead_len += (gsize) n;
    }
}

static void response_head_sent (Conn *c);

static void
send_response_head (Conn *c, gssize end)
{
  MnRelayHead head;
  MnRelayHead *h = &head;
  const gchar *why = NULL;

  /* An upstream's head is held to the same rules: one it could mean two
   * ways is its failure (502), and its connection is never reused. */
  if (mn_relay_head_parse_response (c->rhead + c->rhead_used, (gsize) end, h, &why) !=
      MN_RELAY_HEAD_OK)
    {
      c->replayable = FALSE;
      g_autofree gchar *what = g_strdup_printf ("unacceptable response head (%s)", why);
      upstream_failed (c, what);
      return;
    }
  guint status = h->status;
  c->rhead_used += (gsize) end;
  c->rhead_scan = 0;
  c->status = status;
  c->response_started = TRUE;
  c->replayable = FALSE;

  gboolean upgrade = status == 101 && c->is_ws;
  memset (&c->resp, 0, sizeof c->resp);
  if (c->is_head || (status >= 100 && status < 200) || status == 204 || status == 304)
    c->resp.kind = BODY_NONE;
  else if (h->chunked)
    {
      c->resp.kind = BODY_CHUNKED;
      mn_relay_chunked_init (&c->resp.chunked);
    }
  else if (h->has_length)
    {
      c->resp.remaining = h->content_length;
      c->resp.kind = c->resp.remaining > 0 ? BODY_LENGTH : BODY_NONE;
    }
  else
    c->resp.kind = BODY_CLOSE;
  c->resp.done = c->resp.kind == BODY_NONE;
  c->upstream_close = h->minor == 0 ||
                      mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "close") ||
                      c->resp.kind == BODY_CLOSE;
  if (c->resp.kind == BODY_CLOSE)
    c->keep_alive = FALSE;
  if (upgrade)
    {
      gboolean ext = mn_relay_head_value (h, MN_RELAY_F_SEC_WEBSOCKET_EXTENSIONS) != NULL;
      mn_relay_ws_init (&c->c2u.frames, TRUE, ext);
      mn_relay_ws_init (&c->u2c.frames, FALSE, ext);
    }

  GString *o = mn_relay_string_get (c->relay);
  gchar code[] = "HTTP/1.1 000 ";
  code[9] = (gchar) ('0' + status / 100);
  code[10] = (gchar) ('0' + status / 10 % 10);
  code[11] = (gchar) ('0' + status % 10);
  g_string_append_len (o, code, 13);
  g_string_append (o, h->reason);
  g_string_append_len (o, "\r\n", 2);
  for (guint i = 0; i < h->n_fields; i++)
    {
      const gchar *name = h->fields[i].name, *value = h->fields[i].value;
      guint8 id = h->fields[i].id;
      if (hop_by_hop (id) && !(upgrade && (id == MN_RELAY_F_CONNECTION ||
                                           id == MN_RELAY_F_UPGRADE)))
        continue;
      /* An app may set its own cookies, never the portal's (issue 15,
       * item 9): not minna_session, nothing scoped beyond /s/<id>/. */
      if (c->session != NULL &&
          (id == MN_RELAY_F_SET_COOKIE2 ||
           (id == MN_RELAY_F_SET_COOKIE && !mn_relay_http_app_cookie_ok (value, c->session))))
        {
          /* The name only: the value may be someone's secret. */
          g_autofree gchar *cname = g_strndup (value, strcspn (value, "=;"));
          g_autofree gchar *shown = mn_relay_log_escape (cname, TRUE);
          g_message ("%s %s: the app's Set-Cookie %s reaches beyond its session: dropped",
                     c->peer, log_target (c), shown);
          continue;
        }
      append_header (o, name, value);
    }
  if (!upgrade && status >= 200 && !c->keep_alive)
    g_string_append (o, "Connection: close\r\n");
  g_string_append (o, "\r\n");

  /* Body bytes that came with the head go out in the same write. */
  gsize avail = c->rhead_len - c->rhead_used;
  gsize take = 0;
  if (status >= 100 && status < 200 && !upgrade)
    take = 0;
  else if (upgrade || c->resp.kind == BODY_CLOSE)
    take = avail;
  const gchar *bad_frames = NULL;
  if (upgrade && take > 0 &&
      !mn_relay_ws_feed (&c->u2c.frames, (const guint8 *) c->rhead + c->rhead_used, take,
                         &bad_frames))
    {
      mn_relay_string_put (c->relay, o);
      c->upstream_close = TRUE;
      g_autofree gchar *what = g_strdup_printf ("websocket: %s", bad_frames);
      upstream_failed (c, what);
      return;
    }
  else if (c->resp.kind == BODY_LENGTH)
    {
      take = (gsize) MIN ((guint64) avail, c->resp.remaining);
      c->resp.remaining -= take;
      c->resp.done = c->resp.remaining == 0;
    }
  gsize pass = take;
  if (c->resp.kind == BODY_CHUNKED && avail > 0)
    {
      MnRelayChunkedResult cr = mn_relay_chunked_filter (
        &c->resp.chunked, (guint8 *) c->rhead + c->rhead_used, avail, &take, &pass);
      if (cr == MN_RELAY_CHUNKED_ERROR)
        {
          mn_relay_string_put (c->relay, o);
          c->upstream_close = TRUE;
          upstream_failed (c, "malformed chunked response body");
          return;
        }
      c->resp.done = cr == MN_RELAY_CHUNKED_DONE;
    }
  g_string_append_len (o, c->rhead + c->rhead_used, (gssize) pass);
  c->rhead_used += take;
  if (c->out != NULL)
    mn_relay_string_put (c->relay, c->out);
  c->out = o;
  c->state = ST_SEND_RESPONSE;
  switch (conn_write (c, c->client, (const guint8 *) o->str, o->len, response_head_sent))
    {
    case W_DONE:
      response_head_sent (c);
      break;
    case W_ERROR:
      conn_close (c);
      break;
    case W_PENDING:
      break;
    }
}

static void
response_head_sent (Conn *c)
{
  if (c->status == 101 && c->is_ws)
    {
      start_tunnel (c);
      return;
    }
  if (c->status >= 100 && c->status < 200)
    {
      /* An interim answer (100 Continue): the real one follows. */
      mn_relay_string_put (c->relay, c->out);
      c->out = NULL;
      c->response_started = FALSE;
      read_response (c);
      return;
    }
  if (c->resp.done)
    {
      finish_request (c);
      return;
    }
  pump_response (c);
}

static void
pump_response_ready (gpointer data)
{
  pump_response (data);
}

static void
pump_response_written (Conn *c)
{
  if (c->resp.done)
    {
      finish_request (c);
      return;
    }
  pump_response (c);
}

static void
pump_response (Conn *c)
{
  MnRelay *r = c->relay;
  for (;;)
    {
      if (c->buf == NULL)
        c->buf = mn_relay_buffer_get (r);
      /* A whole buffer even for the last bytes of a Content-Length body:
       * a short read then says the socket is empty (the connection can be
       * pooled without asking it again), and bytes past the body show. */
      gssize n = mn_relay_end_read (c->up, c->buf, r->buffer_size);
      if (n == MN_RELAY_IO_AGAIN)
        {
          release_buf (c);
          set_deadline (c, r->config->upstream_timeout);
          mn_relay_end_want_read (c->up, pump_response_ready, c);
          return;
        }
      if (n == 0 && c->resp.kind == BODY_CLOSE)
        {
          c->resp.done = TRUE;
          c->upstream_close = TRUE;
          finish_request (c);
          return;
        }
      if (n <= 0)
        {
          /* Truncated: the client must see the connection end, not a
           * short body that looks complete. */
          r->metrics.upstream_errors++;
          log_request (c);
          conn_close (c);
          return;
        }
      gsize take = (gsize) n, pass = (gsize) n;
      if (c->resp.kind == BODY_LENGTH)
        {
          take = pass = (gsize) MIN ((guint64) n, c->resp.remaining);
          c->resp.remaining -= take;
          c->resp.done = c->resp.remaining == 0;
          if (take < (gsize) n)
            c->upstream_close = TRUE;       /* more than its answer */
        }
      else if (c->resp.kind == BODY_CHUNKED)
        {
          MnRelayChunkedResult cr = mn_relay_chunked_filter (&c->resp.chunked, c->buf,
                                                             (gsize) n, &take, &pass);
          if (cr == MN_RELAY_CHUNKED_ERROR)
            {
              r->metrics.upstream_errors++;
              log_request (c);
              conn_close (c);
              return;
            }
          c->resp.done = cr == MN_RELAY_CHUNKED_DONE;
          /* Bytes after the end of the body: the upstream said more than
           * was asked, and its connection cannot be trusted again. */
          if (take < (gsize) n)
            c->upstream_close = TRUE;
        }
      if (c->session != NULL && c->route != NULL)
        c->route->last_activity = mn_relay_clock_wall () / G_USEC_PER_SEC;
      WriteResult w = conn_write (c, c->client, c->buf, pass, pump_response_written);
      if (w == W_PENDING)
        return;
      if (w == W_ERROR)
        {
          log_request (c);
          conn_close (c);
          return;
        }
      if (c->resp.done)
        {
          finish_request (c);
          return;
        }
    }
}

/* Pipelined bytes already buffered: no readiness event will announce them. */
static gboolean
resume_head (gpointer data)
{
  Conn *c = data;
  if (c->state == ST_READ_HEAD && c->client != NULL)
    {
      mn_relay_end_cancel (c->client);
      read_head (c);
    }
  return G_SOURCE_REMOVE;
}

static void
finish_request (Conn *c)
{
  if (c->state != ST_LOCAL_RESPONSE)
    log_request (c);
  if (c->up != NULL)
    {
      /* Back to the pool only at a clean message boundary: both messages
       * complete, and not a byte more from the upstream, neither read
       * already nor waiting in the socket (an answer to a request nobody
       * sent would be handed to the next user of the connection). */
      if (!c->upstream_close && c->req.done && c->resp.done &&
          c->rhead_used == c->rhead_len && mn_relay_end_is_quiet (c->up))
        pool_put (c);
      else
        {
          if (c->rhead_used < c->rhead_len || (c->req.done && c->resp.done &&
                                               !c->upstream_close))
            g_debug ("%s %s %s: upstream %s sent more than its answer: not reused",
                     c->peer, c->method, log_target (c), c->up_key);
          upstream_drop (c);
        }
    }
  if (!c->keep_alive)
    {
      conn_end (c);
      return;
    }
  reset_request (c);
  /* Pipelined bytes move to the front for the next head. */
  if (c->head != NULL && c->head_used > 0)
    {
      memmove (c->head, c->head + c->head_used, c->head_len - c->head_used);
      c->head_len -= c->head_used;
      c->head_used = 0;
    }
  c->head_scan = 0;
  c->t_start = now_us ();
  if (c->head_len == 0)
    {
      c->state = ST_READ_HEAD;
      drop_head (c);
      set_deadline (c, c->relay->config->idle_timeout);
      mn_relay_end_want_read (c->client, read_head_ready, c);
      return;
    }
  /* A pipelined request is there already: its head's clock runs from now.
   * Handle it at once, but only a few deep, or a fast client would grow
   * the stack without end. */
  set_deadline (c, c->relay->config->read_timeout);
  if (c->depth < 8)
    {
      conn_ref (c);
      c->depth++;
      read_head (c);
      c->depth--;
      conn_unref (c);
      return;
    }
  c->state = ST_READ_HEAD;
  mn_relay_end_want_read (c->client, read_head_ready, c);
  if (c->head_len > 0)
    g_source_unref (mn_relay_idle_source (resume_head, conn_ref (c),
                                          (GDestroyNotify) conn_unref));
}

/* ---- WebSocket tunnel ---- */

static void pipe_run (Pipe *p);

static void
pipe_ready (gpointer data)
{
  pipe_run (data);
}

static void
pipe_run (Pipe *p)
{
  Conn *c = p->c;
  MnRelay *r = c->relay;
  for (;;)
    {
      while (p->off < p->len)
        {
          gssize n = mn_relay_end_write (p->dst, p->buf + p->off, p->len - p->off);
          if (n == MN_RELAY_IO_AGAIN)
            {
              mn_relay_end_want_write (p->dst, pipe_ready, p);
              return;
            }
          if (n < 0)
            {
              g_debug ("%s %s: websocket: writing to the %s: %s", c->peer,
                       log_target (c), p->to_client ? "client" : "upstream",
                       mn_relay_end_last_error (p->dst));
              conn_close (c);
              return;
            }
          p->off += (gsize) n;
          if (p->to_client)
            r->metrics.bytes_out += (guint64) n;
        }
      if (p->len > 0 && mn_relay_end_drained (p->src))
        {
          /* Saves a failing read per message (a WebSocket frame is usually
           * one short read). */
          pipe_drop_buf (p);
          mn_relay_end_want_read (p->src, pipe_ready, p);
          return;
        }
      if (p->buf_is_head)
        pipe_drop_buf (p);
      if (p->buf == NULL)
        p->buf = mn_relay_buffer_get (r);
      gssize n = mn_relay_end_read (p->src, p->buf, r->buffer_size);
      if (n == MN_RELAY_IO_AGAIN)
        {
          /* Idle WebSockets hold no buffer. */
          pipe_drop_buf (p);
          mn_relay_end_want_read (p->src, pipe_ready, p);
          return;
        }
      if (n <= 0)
        {
          g_debug ("%s %s: websocket closed by the %s (%s) after %.1f s", c->peer,
                   log_target (c), p->to_client ? "upstream" : "client",
                   n == 0 ? "end of stream" : mn_relay_end_last_error (p->src),
                   (gdouble) (now_us () - c->t_start) / G_USEC_PER_SEC);
          conn_close (c);
          return;
        }
      if (!p->to_client)
        r->metrics.bytes_in += (guint64) n;
      const gchar *why = NULL;
      if (!mn_relay_ws_feed (&p->frames, p->buf, (gsize) n, &why))
        {
          g_message ("%s %s: websocket from the %s broke the framing rules (%s): closed",
                     c->peer, log_target (c),
                     p->to_client ? "upstream" : "client", why);
          conn_close (c);
          return;
        }
      p->len = (gsize) n;
      p->off = 0;
      set_deadline (c, r->config->websocket_idle_timeout);
      if (c->route != NULL)
        c->route->last_activity = mn_relay_clock_wall () / G_USEC_PER_SEC;
    }
}

static void
start_tunnel (Conn *c)
{
  MnRelay *r = c->relay;
  log_request (c);
  c->state = ST_TUNNEL;
  r->metrics.websockets_open++;
  r->metrics.websockets_total++;
  mn_relay_string_put (c->relay, c->out);
  c->out = NULL;
  drop_rhead (c);
  set_deadline (c, r->config->websocket_idle_timeout);

  c->c2u.c = c->u2c.c = c;
  c->c2u.src = c->u2c.dst = c->client;
  c->c2u.dst = c->u2c.src = c->up;
  c->c2u.to_client = FALSE;
  c->u2c.to_client = TRUE;
  /* Bytes the client sent right after its upgrade request go first, from
   * the head buffer itself: they may be more than a relay buffer holds. */
  if (c->head_len > c->head_used)
    {
      const gchar *why = NULL;
      if (!mn_relay_ws_feed (&c->c2u.frames, (const guint8 *) c->head + c->head_used,
                             c->head_len - c->head_used, &why))
        {
          g_message ("%s %s: websocket from the client broke the framing rules (%s): closed",
                     c->peer, log_target (c), why);
          conn_close (c);
          return;
        }
      c->c2u.buf = (guint8 *) c->head;
      c->c2u.buf_is_head = TRUE;
      c->c2u.off = c->head_used;
      c->c2u.len = c->head_len;
      c->head = NULL;
    }
  drop_head (c);
  c->head_len = c->head_used = 0;
  conn_ref (c);
  pipe_run (&c->c2u);
  if (c->state == ST_TUNNEL)
    pipe_run (&c->u2c);
  conn_unref (c);
}

/* ---- accepting, timeouts ---- */

static void
begin (Conn *c)
{
  c->t_start = now_us ();
  read_head (c);
}

static void handshake (Conn *c);

static void
handshake_ready (gpointer data)
{
  handshake (data);
}

static void
handshake (Conn *c)
{
  gssize rv = mn_relay_end_handshake (c->client);
  if (rv == MN_RELAY_IO_AGAIN)
    {
      mn_relay_end_want_handshake (c->client, handshake_ready, c);
      return;
    }
  if (rv < 0)
    {
      g_debug ("%s: TLS handshake: %s", c->peer, mn_relay_end_last_error (c->client));
      conn_close (c);
      return;
    }
  begin (c);
}

/* The peer's address as text; IPv4-mapped IPv6 as plain IPv4. */
static gchar *
peer_text (const struct sockaddr *addr)
{
  gchar buf[INET6_ADDRSTRLEN];
  if (addr->sa_family == AF_INET)
    return g_strdup (inet_ntop (AF_INET, &((const struct sockaddr_in *) addr)->sin_addr,
                                buf, sizeof buf));
  if (addr->sa_family == AF_INET6)
    {
      const struct in6_addr *a6 = &((const struct sockaddr_in6 *) addr)->sin6_addr;
      if (IN6_IS_ADDR_V4MAPPED (a6))
        return g_strdup (inet_ntop (AF_INET, &a6->s6_addr[12], buf, sizeof buf));
      return g_strdup (inet_ntop (AF_INET6, a6, buf, sizeof buf));
    }
  return g_strdup ("local");
}

/* The per-address limit's key: the address, or an IPv6 address's /64 (a
 * host gets a whole /64 and can use any address in it). */
static gchar *
address_key (const struct sockaddr *addr)
{
  if (addr->sa_family == AF_INET6)
    {
      struct in6_addr a6 = ((const struct sockaddr_in6 *) addr)->sin6_addr;
      if (!IN6_IS_ADDR_V4MAPPED (&a6))
        {
          gchar buf[INET6_ADDRSTRLEN];
          memset (&a6.s6_addr[8], 0, 8);
          return g_strdup_printf ("%s/64", inet_ntop (AF_INET6, &a6, buf, sizeof buf));
        }
    }
  return peer_text (addr);
}

void
mn_relay_proxy_accept (MnRelay *r, int fd, const struct sockaddr *addr, socklen_t addr_len,
                       gboolean tls)
{
  if (g_queue_get_length (&r->conns) >= (guint) r->config->max_connections)
    {
      static const gchar busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      r->metrics.rejected_connections++;
      if (!tls)
        (void) send (fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      close (fd);
      return;
    }
  /* One address cannot take every slot (a slowloris from one host would
   * make everyone else get 503): past its share it is refused at once. */
  g_autofree gchar *key = address_key (addr);
  guint from_here = GPOINTER_TO_UINT (g_hash_table_lookup (r->per_address, key));
  if (r->config->max_connections_per_address > 0 &&
      from_here >= (guint) r->config->max_connections_per_address)
    {
      static const gchar many[] =
        "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      if (r->metrics.rejected_per_address++ % 1000 == 0)
        g_message ("%s: %u connections open from this address (max_connections_per_address): "
                   "refusing more", key, from_here);
      if (!tls)
        (void) send (fd, many, sizeof many - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      close (fd);
      return;
    }
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  Conn *c = g_new0 (Conn, 1);
  g_hash_table_insert (r->per_address, g_strdup (key), GUINT_TO_POINTER (from_here + 1));
  /* the table's own copy of the key, which lives as long as the count */
  gpointer stored = NULL;
  g_hash_table_lookup_extended (r->per_address, key, &stored, NULL);
  c->addr_key = stored;
  c->ref_count = 1;
  c->relay = r;
  c->peer = peer_text (addr);
  c->tls = tls;
  c->link.data = c;
  g_queue_push_tail_link (&r->conns, &c->link);
  set_deadline (c, r->config->read_timeout);

  SSL *ssl = NULL;
  if (tls && (ssl = SSL_new (r->ssl_ctx)) == NULL)
    {
      g_message ("TLS: cannot make a connection (out of memory?)");
      c->client = mn_relay_end_new_fd (fd, NULL);
      conn_close (c);
      return;
    }
  c->client = mn_relay_end_new_fd (fd, ssl);
  if (tls)
    handshake (c);
  else
    begin (c);
}

void
mn_relay_proxy_sweep (MnRelay *r)
{
  gint64 now = now_us ();
  /* Sweeps come every 1-2 s (whole-second timers are coalesced).  A gap
   * longer than that means the relay itself did not run - a machine loaded
   * far past its cores - and a connect or an answer waiting to be
   * dispatched in this same turn would be timed out.  The relay's own stall
   * is not the peers' silence: deadlines move by the whole gap. */
  gint64 gap = r->last_sweep != 0 ? now - r->last_sweep : 0;
  r->last_sweep = now;
  if (gap > 3 * G_USEC_PER_SEC)
    {
      g_debug ("the relay did not run for %.1f s: deadlines moved", (gdouble) gap / G_USEC_PER_SEC);
      for (GList *k = r->conns.head; k != NULL; k = k->next)
        {
          Conn *c = k->data;
          if (c->deadline != 0)
            c->deadline += gap;
        }
    }
  GList *l = r->conns.head;
  while (l != NULL)
    {
      Conn *c = l->data;
      l = l->next;
      if (c->deadline == 0 || c->deadline > now)
        continue;
      switch (c->state)
        {
        case ST_CONNECTING:
        case ST_READ_RESPONSE:
          if (c->up == NULL || !c->response_started)
            {
              mn_relay_end_cancel (c->up != NULL ? c->up : c->client);
              g_cancellable_cancel (c->cancel);
              c->replayable = FALSE;
              c->state = ST_READ_RESPONSE;
              upstream_failed (c, "timed out");
              break;
            }
          conn_close (c);
          break;
        case ST_SEND_REQUEST:
          if (c->body_wait_since != 0 && !c->response_started && c->rhead_len == 0)
            {
              /* Waiting for the client's body, which came too slowly: the
               * upstream (which has part of it) is let go. */
              mn_relay_end_cancel (c->client);
              if (c->up != NULL)
                mn_relay_end_cancel (c->up);
              upstream_drop (c);
              c->body_wait_since = 0;
              respond (c, 408, NULL, "The request body came too slowly.");
              break;
            }
          conn_close (c);
          break;
        case ST_READ_HEAD:
          if (c->head_len > 0)
            {
              mn_relay_end_cancel (c->client);
              c->keep_alive = FALSE;
              respond (c, 408, NULL, "The request took too long to arrive.");
              break;
            }
          conn_close (c);
          break;
        default:
          conn_close (c);
          break;
        }
    }
  /* Pooled upstream connections the upstream has closed meanwhile. */
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, r->pool);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GQueue *q = value;
      for (GList *p = q->head; p != NULL;)
        {
          GList *next = p->next;
          if (mn_relay_end_is_stale (p->data))
            {
              mn_relay_end_free (p->data);
              g_queue_delete_link (q, p);
            }
          p = next;
        }
    }
}

void
mn_relay_proxy_close_all (MnRelay *r)
{
  while (!g_queue_is_empty (&r->conns))
    conn_close (r->conns.head->data);
}

void
mn_relay_pool_clear (MnRelay *r)
{
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, r->pool);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GQueue *q = value;
      while (!g_queue_is_empty (q))
        mn_relay_end_free (g_queue_pop_head (q));
    }
}
