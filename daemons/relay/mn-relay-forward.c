/* mn-relay-forward.c: upstream connections (connect, the keep-alive pool)
 * and the request body, spliced through pooled fixed buffers with
 * back-pressure; a request whose pooled connection turns out closed is
 * sent again while it is still replayable. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

static void pump_request (Conn *c);
static void body_wait_start (Conn *c);
static void body_wait_end (Conn *c);

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
      mn_relay_conn_unref (c);
      return;
    }
  if (sc == NULL)
    {
      c->replayable = FALSE;
      mn_relay_conn_upstream_failed (c, error->message);
      mn_relay_conn_unref (c);
      return;
    }
  g_socket_set_option (g_socket_connection_get_socket (sc), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  c->up = mn_relay_end_new (G_IO_STREAM (sc), g_socket_connection_get_socket (sc));
  c->up_reused = FALSE;
  send_request (c);
  mn_relay_conn_unref (c);
}

void
mn_relay_forward_start (Conn *c)
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
  mn_relay_conn_set_deadline (c, r->config->upstream_connect_timeout);
  g_socket_client_connect_to_host_async (client, host, port, c->cancel, connected,
                                         mn_relay_conn_ref (c));
}

void
mn_relay_forward_pool_put (Conn *c)
{
  MnRelay *r = c->relay;
  if (r->config->upstream_keepalive == 0)
    {
      mn_relay_conn_upstream_drop (c);
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

void
mn_relay_forward_response_ready (gpointer data)
{
  mn_relay_response_read (data);
}

static void
answer_ready (gpointer data)
{
  mn_relay_forward_check_answer (data, FALSE);
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
              mn_relay_conn_upstream_drop (c);
              mn_relay_conn_respond (c, 400, NULL, "The chunked request body is malformed.");
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
  switch (mn_relay_conn_write (c, c->up, (const guint8 *) c->out->str, c->out->len, request_sent))
    {
    case W_DONE:
      request_sent (c);
      break;
    case W_ERROR:
      mn_relay_forward_check_answer (c, TRUE);
      break;
    case W_PENDING:
      watch_answer (c);
      break;
    }
}

/* While the upstream works on the answer, nothing reads the client: a
 * client that closed its connection meanwhile (a page that withdrew a
 * request, a closed tab) is seen only here.  As nginx does, the request is
 * then abandoned and the upstream connection closed, so the upstream stops
 * holding it (the controller's held session lists free their place).  A
 * client that only half-closes after its request loses the answer, as with
 * nginx.  TLS clients are not checked (what came is left for the next
 * read); their request ends with the upstream's answer or its timeout. */
static void
client_check (gpointer data)
{
  Conn *c = data;
  /* asked first in any case: what came stays for the next read */
  if (c->client == NULL || !mn_relay_end_peer_gone (c->client) ||
      c->state != ST_READ_RESPONSE || c->response_started)
    return;   /* gone while the answer is written: the write sees it */
  g_debug ("%s %s %s: the client went away before the answer; upstream request abandoned",
           c->peer, c->method, mn_relay_conn_log_target (c));
  c->status = 499;   /* nginx's "client closed request", in the access log */
  mn_relay_conn_log_request (c);
  mn_relay_conn_close (c);
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
  mn_relay_conn_set_deadline (c, c->relay->config->upstream_timeout);
  mn_relay_end_want_read (c->up, mn_relay_forward_response_ready, c);
  if (!mn_relay_end_is_tls (c->client))
    mn_relay_end_want_read (c->client, client_check, c);
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
  gint64 now = g_get_monotonic_time ();
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
    c->body_waited += g_get_monotonic_time () - c->body_wait_since;
  c->body_wait_since = 0;
}

static void
pump_request_written (Conn *c)
{
  if (c->req.done)
    {
      mn_relay_conn_release_buf (c);
      mn_relay_response_read (c);
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
       * request that came along is kept for mn_relay_request_read_head. */
      gssize n = mn_relay_end_read (c->client, c->buf, r->buffer_size);
      if (n == MN_RELAY_IO_AGAIN)
        {
          mn_relay_conn_release_buf (c);
          body_wait_start (c);
          mn_relay_end_want_read (c->client, pump_request_ready, c);
          watch_answer (c);
          return;
        }
      body_wait_end (c);
      if (n <= 0)
        {
          /* The client gave up in the middle of its upload. */
          mn_relay_conn_close (c);
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
                       mn_relay_conn_log_target (c));
              mn_relay_conn_close (c);
              return;
            }
          c->req.done = cr == MN_RELAY_CHUNKED_DONE;
        }
      if (take < (gsize) n)
        {
          /* A pipelined next request: keep it for mn_relay_request_read_head. */
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
      WriteResult w = mn_relay_conn_write (c, c->up, c->buf, pass, pump_request_written);
      if (w == W_PENDING)
        {
          watch_answer (c);
          return;
        }
      if (w == W_ERROR)
        {
          mn_relay_forward_check_answer (c, TRUE);
          return;
        }
      if (c->req.done)
        {
          mn_relay_conn_release_buf (c);
          mn_relay_response_read (c);
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
        return TRUE;                    /* mn_relay_response_read will refuse it */
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
 * reset is the upstream failing, which mn_relay_conn_upstream_failed may resend. */
void
mn_relay_forward_check_answer (Conn *c, gboolean write_failed)
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
               c->method, mn_relay_conn_log_target (c));
      mn_relay_end_cancel (c->client);
      mn_relay_end_cancel (c->up);
      mn_relay_conn_release_buf (c);
      c->replayable = FALSE;
      c->upstream_close = TRUE;
      c->keep_alive = FALSE;
      mn_relay_response_read (c);
      return;
    }
  if (ended || write_failed)
    {
      mn_relay_end_cancel (c->up);
      if (c->rhead_len > 0)
        c->replayable = FALSE;
      mn_relay_conn_upstream_failed (c, why);
      return;
    }
  /* Nothing, or an interim answer: the body goes on. */
  watch_answer (c);
}
