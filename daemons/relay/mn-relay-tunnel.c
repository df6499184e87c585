/* mn-relay-tunnel.c: after a 101, WebSocket frames both ways through two
 * pipes, each reading only once its last piece is written. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-conn.h"

#include <string.h>

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
                       mn_relay_conn_log_target (c), p->to_client ? "client" : "upstream",
                       mn_relay_end_last_error (p->dst));
              mn_relay_conn_close (c);
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
          mn_relay_pipe_drop_buf (p);
          mn_relay_end_want_read (p->src, pipe_ready, p);
          return;
        }
      if (p->buf_is_head)
        mn_relay_pipe_drop_buf (p);
      if (p->buf == NULL)
        p->buf = mn_relay_buffer_get (r);
      gssize n = mn_relay_end_read (p->src, p->buf, r->buffer_size);
      if (n == MN_RELAY_IO_AGAIN)
        {
          /* Idle WebSockets hold no buffer. */
          mn_relay_pipe_drop_buf (p);
          mn_relay_end_want_read (p->src, pipe_ready, p);
          return;
        }
      if (n <= 0)
        {
          g_debug ("%s %s: websocket closed by the %s (%s) after %.1f s", c->peer,
                   mn_relay_conn_log_target (c), p->to_client ? "upstream" : "client",
                   n == 0 ? "end of stream" : mn_relay_end_last_error (p->src),
                   (gdouble) (g_get_monotonic_time () - c->t_start) / G_USEC_PER_SEC);
          mn_relay_conn_close (c);
          return;
        }
      if (!p->to_client)
        r->metrics.bytes_in += (guint64) n;
      const gchar *why = NULL;
      if (!mn_relay_ws_feed (&p->frames, p->buf, (gsize) n, &why))
        {
          g_message ("%s %s: websocket from the %s broke the framing rules (%s): closed",
                     c->peer, mn_relay_conn_log_target (c),
                     p->to_client ? "upstream" : "client", why);
          mn_relay_conn_close (c);
          return;
        }
      p->len = (gsize) n;
      p->off = 0;
      mn_relay_conn_set_deadline (c, r->config->websocket_idle_timeout);
      if (c->route != NULL)
        c->route->last_activity = mn_relay_clock_wall () / G_USEC_PER_SEC;
    }
}

void
mn_relay_tunnel_start (Conn *c)
{
  MnRelay *r = c->relay;
  mn_relay_conn_log_request (c);
  c->state = ST_TUNNEL;
  r->metrics.websockets_open++;
  r->metrics.websockets_total++;
  mn_relay_string_put (c->relay, c->out);
  c->out = NULL;
  mn_relay_conn_drop_rhead (c);
  mn_relay_conn_set_deadline (c, r->config->websocket_idle_timeout);

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
                     c->peer, mn_relay_conn_log_target (c), why);
          mn_relay_conn_close (c);
          return;
        }
      c->c2u.buf = (guint8 *) c->head;
      c->c2u.buf_is_head = TRUE;
      c->c2u.off = c->head_used;
      c->c2u.len = c->head_len;
      c->head = NULL;
    }
  mn_relay_conn_drop_head (c);
  c->head_len = c->head_used = 0;
  mn_relay_conn_ref (c);
  pipe_run (&c->c2u);
  if (c->state == ST_TUNNEL)
    pipe_run (&c->u2c);
  mn_relay_conn_unref (c);
}
