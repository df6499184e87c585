/* mn-relay-response.c: the upstream's answer: its head checked and
 * rewritten, its body pumped back to the client, and the connection kept
 * for the next request or closed. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-conn.h"
#include "mn-relay-log.h"

#include <string.h>

static void pump_response (Conn *c);

/* ---- response ---- */

static void send_response_head (Conn *c, gssize end);

void
mn_relay_response_read (Conn *c)
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
              mn_relay_conn_upstream_failed (c, "response head too large");
              return;
            }
        }
      if (c->rhead == NULL)
        c->rhead = mn_relay_head_get (r);
      gssize n = mn_relay_end_read (c->up, (guint8 *) c->rhead + c->rhead_len,
                                    cap - c->rhead_len);
      if (n == MN_RELAY_IO_AGAIN)
        {
          mn_relay_conn_set_deadline (c, r->config->upstream_timeout);
          mn_relay_end_want_read (c->up, mn_relay_forward_response_ready, c);
          return;
        }
      if (n <= 0)
        {
          if (c->rhead_len > 0)
            c->replayable = FALSE;
          mn_relay_conn_upstream_failed (c, n == 0 ? "closed before answering"
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
      mn_relay_conn_upstream_failed (c, what);
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
      if (mn_relay_request_hop_by_hop (id) && !(upgrade && (id == MN_RELAY_F_CONNECTION ||
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
                     c->peer, mn_relay_conn_log_target (c), shown);
          continue;
        }
      mn_relay_request_append_header (o, name, value);
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
      mn_relay_conn_upstream_failed (c, what);
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
          mn_relay_conn_upstream_failed (c, "malformed chunked response body");
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
  switch (mn_relay_conn_write (c, c->client, (const guint8 *) o->str, o->len, response_head_sent))
    {
    case W_DONE:
      response_head_sent (c);
      break;
    case W_ERROR:
      mn_relay_conn_close (c);
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
      mn_relay_tunnel_start (c);
      return;
    }
  if (c->status >= 100 && c->status < 200)
    {
      /* An interim answer (100 Continue): the real one follows. */
      mn_relay_string_put (c->relay, c->out);
      c->out = NULL;
      c->response_started = FALSE;
      mn_relay_response_read (c);
      return;
    }
  if (c->resp.done)
    {
      mn_relay_response_finish (c);
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
      mn_relay_response_finish (c);
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
          mn_relay_conn_release_buf (c);
          mn_relay_conn_set_deadline (c, r->config->upstream_timeout);
          mn_relay_end_want_read (c->up, pump_response_ready, c);
          return;
        }
      if (n == 0 && c->resp.kind == BODY_CLOSE)
        {
          c->resp.done = TRUE;
          c->upstream_close = TRUE;
          mn_relay_response_finish (c);
          return;
        }
      if (n <= 0)
        {
          /* Truncated: the client must see the connection end, not a
           * short body that looks complete. */
          r->metrics.upstream_errors++;
          mn_relay_conn_log_request (c);
          mn_relay_conn_close (c);
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
              mn_relay_conn_log_request (c);
              mn_relay_conn_close (c);
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
      WriteResult w = mn_relay_conn_write (c, c->client, c->buf, pass, pump_response_written);
      if (w == W_PENDING)
        return;
      if (w == W_ERROR)
        {
          mn_relay_conn_log_request (c);
          mn_relay_conn_close (c);
          return;
        }
      if (c->resp.done)
        {
          mn_relay_response_finish (c);
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
      mn_relay_request_read_head (c);
    }
  return G_SOURCE_REMOVE;
}

void
mn_relay_response_finish (Conn *c)
{
  if (c->state != ST_LOCAL_RESPONSE)
    mn_relay_conn_log_request (c);
  if (c->up != NULL)
    {
      /* Back to the pool only at a clean message boundary: both messages
       * complete, and not a byte more from the upstream, neither read
       * already nor waiting in the socket (an answer to a request nobody
       * sent would be handed to the next user of the connection). */
      if (!c->upstream_close && c->req.done && c->resp.done &&
          c->rhead_used == c->rhead_len && mn_relay_end_is_quiet (c->up))
        mn_relay_forward_pool_put (c);
      else
        {
          if (c->rhead_used < c->rhead_len || (c->req.done && c->resp.done &&
                                               !c->upstream_close))
            g_debug ("%s %s %s: upstream %s sent more than its answer: not reused",
                     c->peer, c->method, mn_relay_conn_log_target (c), c->up_key);
          mn_relay_conn_upstream_drop (c);
        }
    }
  if (!c->keep_alive)
    {
      mn_relay_conn_end (c);
      return;
    }
  mn_relay_conn_reset_request (c);
  /* Pipelined bytes move to the front for the next head. */
  if (c->head != NULL && c->head_used > 0)
    {
      memmove (c->head, c->head + c->head_used, c->head_len - c->head_used);
      c->head_len -= c->head_used;
      c->head_used = 0;
    }
  c->head_scan = 0;
  c->t_start = g_get_monotonic_time ();
  if (c->head_len == 0)
    {
      c->state = ST_READ_HEAD;
      mn_relay_conn_drop_head (c);
      mn_relay_conn_set_deadline (c, c->relay->config->idle_timeout);
      mn_relay_end_want_read (c->client, mn_relay_request_read_head_ready, c);
      return;
    }
  /* A pipelined request is there already: its head's clock runs from now.
   * Handle it at once, but only a few deep, or a fast client would grow
   * the stack without end. */
  mn_relay_conn_set_deadline (c, c->relay->config->read_timeout);
  if (c->depth < 8)
    {
      mn_relay_conn_ref (c);
      c->depth++;
      mn_relay_request_read_head (c);
      c->depth--;
      mn_relay_conn_unref (c);
      return;
    }
  c->state = ST_READ_HEAD;
  mn_relay_end_want_read (c->client, mn_relay_request_read_head_ready, c);
  if (c->head_len > 0)
    g_source_unref (mn_relay_idle_source (resume_head, mn_relay_conn_ref (c),
                                          (GDestroyNotify) mn_relay_conn_unref));
}
