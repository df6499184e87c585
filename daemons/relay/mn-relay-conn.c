/* mn-relay-conn.c: a connection's life (references, buffers, closing and the
 * lingering close), its writes, the access log line and the relay's own
 * answers (error pages, upstream failures). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-conn.h"
#include "mn-relay-log.h"
#include "mn-relay-page.h"

#include <string.h>

Conn *
mn_relay_conn_ref (Conn *c)
{
  c->ref_count++;
  return c;
}

void
mn_relay_conn_unref (Conn *c)
{
  if (--c->ref_count > 0)
    return;
  g_free (c->peer);
  g_free (c);
}

void
mn_relay_conn_set_deadline (Conn *c, gint64 seconds)
{
  /* The round's clock: deadlines are coarse (the sweep runs each second). */
  c->deadline = seconds > 0 ? mn_relay_clock_now () + seconds * G_USEC_PER_SEC : 0;
}

void
mn_relay_conn_drop_head (Conn *c)
{
  if (c->head != NULL)
    mn_relay_head_put (c->relay, c->head);
  c->head = NULL;
}

void
mn_relay_conn_drop_rhead (Conn *c)
{
  if (c->rhead != NULL)
    mn_relay_head_put (c->relay, c->rhead);
  c->rhead = NULL;
}

void
mn_relay_conn_release_buf (Conn *c)
{
  if (c->buf != NULL)
    {
      mn_relay_buffer_put (c->relay, c->buf);
      c->buf = NULL;
    }
}

void
mn_relay_conn_reset_request (Conn *c)
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
  mn_relay_conn_drop_rhead (c);
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
  mn_relay_conn_release_buf (c);
}

void
mn_relay_conn_upstream_drop (Conn *c)
{
  /* up_key stays: a retry goes to the same upstream. */
  if (c->up != NULL)
    mn_relay_end_free (c->up);
  c->up = NULL;
}

void
mn_relay_pipe_drop_buf (Pipe *p)
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

void
mn_relay_conn_close (Conn *c)
{
  if (c->state == ST_CLOSED)
    return;
  if (c->is_ws && c->state == ST_TUNNEL)
    c->relay->metrics.websockets_open--;
  c->state = ST_CLOSED;
  g_cancellable_cancel (c->cancel);
  g_clear_object (&c->cancel);
  mn_relay_pipe_drop_buf (&c->c2u);
  mn_relay_pipe_drop_buf (&c->u2c);
  mn_relay_conn_reset_request (c);
  mn_relay_conn_upstream_drop (c);
  mn_relay_end_free (c->client);
  c->client = NULL;
  mn_relay_conn_drop_head (c);
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
  mn_relay_conn_unref (c);
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
          mn_relay_conn_close (c);
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
void
mn_relay_conn_end (Conn *c)
{
  gboolean unread = c->req.kind != BODY_NONE && !c->req.done;
  if (!unread || c->client == NULL || mn_relay_end_is_tls (c->client))
    {
      mn_relay_conn_close (c);
      return;
    }
  mn_relay_conn_upstream_drop (c);
  mn_relay_conn_release_buf (c);
  mn_relay_conn_drop_head (c);
  c->head_len = c->head_used = 0;
  c->state = ST_LINGER;
  mn_relay_conn_set_deadline (c, LINGER_SECONDS);
  mn_relay_end_cancel (c->client);
  mn_relay_end_shutdown_write (c->client);
  linger_read (c);
}

/* ---- access log and metrics ---- */

const gchar *
mn_relay_conn_log_target (Conn *c)
{
  if (c->target_log == NULL)
    c->target_log = mn_relay_log_target (c->target);
  return c->target_log;
}

void
mn_relay_conn_log_request (Conn *c)
{
  MnRelay *r = c->relay;
  gdouble secs = (gdouble) (g_get_monotonic_time () - c->t_start) / G_USEC_PER_SEC;
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
  const gchar *target = mn_relay_conn_log_target (c);
  g_autofree gchar *user = mn_relay_log_escape (c->user, TRUE);
  fprintf (r->access_log, "%s %s \"%s %s\" %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
           " %.6f user=%s session=%s%s\n",
           ts, c->peer, method, target, c->status, c->bytes_in, c->bytes_out,
           secs, user, c->session != NULL ? c->session : "-",
           c->is_ws && c->status == 101 ? " websocket" : "");
}

/* ---- writing ---- */

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
        mn_relay_conn_close (c);
      else
        mn_relay_forward_check_answer (c, TRUE);
      return;
    }
  c->w_next (c);
}

WriteResult
mn_relay_conn_write (Conn *c, MnRelayEnd *end, const guint8 *data, gsize len, ConnStep next)
{
  c->w_end = end;
  c->w_data = data;
  c->w_len = len;
  c->w_next = next;
  mn_relay_conn_set_deadline (c, end == c->client ? c->relay->config->read_timeout
                                    : c->relay->config->upstream_timeout);
  return write_more (c);
}

/* ---- local responses ---- */

static void
local_response_sent (Conn *c)
{
  mn_relay_conn_log_request (c);
  if (!c->keep_alive)
    {
      mn_relay_conn_end (c);
      return;
    }
  mn_relay_response_finish (c);
}

void
mn_relay_conn_respond (Conn *c, guint status, const gchar *extra_headers, const gchar *html)
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
  switch (mn_relay_conn_write (c, c->client, (const guint8 *) c->out->str, c->out->len,
                      local_response_sent))
    {
    case W_DONE:
      local_response_sent (c);
      break;
    case W_ERROR:
      mn_relay_conn_close (c);
      break;
    case W_PENDING:
      break;
    }
}

void
mn_relay_conn_upstream_failed (Conn *c, const gchar *message)
{
  /* @message may be the end's own error text, freed with it. */
  g_autofree gchar *what = g_strdup (message);
  gboolean was_reused = c->up_reused;
  mn_relay_conn_upstream_drop (c);
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
               c->peer, c->method, mn_relay_conn_log_target (c), c->up_key, what);
      if (c->client != NULL)
        mn_relay_end_cancel (c->client);
      mn_relay_conn_release_buf (c);
      c->retried = TRUE;
      c->up_reused = FALSE;
      c->state = ST_CONNECTING;
      mn_relay_forward_start (c);
      return;
    }
  if (c->client != NULL)
    mn_relay_end_cancel (c->client);
  mn_relay_conn_release_buf (c);
  c->relay->metrics.upstream_errors++;
  g_message ("%s %s: upstream %s: %s", c->peer, mn_relay_conn_log_target (c),
             c->up_key != NULL ? c->up_key : "-", what);
  if (c->response_started)
    {
      mn_relay_conn_close (c);
      return;
    }
  c->keep_alive = FALSE;
  if (c->session != NULL)
    mn_relay_conn_respond (c, 502, NULL, "This session is not answering. It may still be starting, "
             "or it has ended; try again in a moment or return to the portal.");
  else
    mn_relay_conn_respond (c, 502, NULL, "The portal is not answering; try again in a moment.");
}
