/* mn-relay-proxy.c: the hot path's entry and its clock.  Accepting a
 * client (per-address limits, TLS handshake), the sweep that ends
 * connections past their deadlines, and closing everything at shutdown.
 * A request then goes through mn-relay-request.c (its head),
 * mn-relay-forward.c (upstream and body), mn-relay-response.c (the answer)
 * and mn-relay-tunnel.c (WebSocket); mn-relay-conn.c holds the connection
 * itself.  Bodies and WebSocket bytes are spliced between non-blocking
 * sockets through pooled fixed buffers, reading the next piece only once
 * the last one is written (back-pressure, flat memory). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- accepting, timeouts ---- */

static void
begin (Conn *c)
{
  c->t_start = g_get_monotonic_time ();
  mn_relay_request_read_head (c);
}


static void
handshake_ready (gpointer data)
{
  mn_relay_proxy_handshake (data);
}

void
mn_relay_proxy_handshake (Conn *c)
{
  gssize rv = mn_relay_end_handshake (c->client);
  if (rv == MN_RELAY_IO_AGAIN)
    {
      mn_relay_end_want_handshake (c->client, handshake_ready, c);
      return;
    }
  if (rv < 0)
    {
      g_debug ("%s: TLS mn_relay_proxy_handshake: %s", c->peer, mn_relay_end_last_error (c->client));
      mn_relay_conn_close (c);
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
  mn_relay_conn_set_deadline (c, r->config->read_timeout);

  SSL *ssl = NULL;
  if (tls && (ssl = SSL_new (r->ssl_ctx)) == NULL)
    {
      g_message ("TLS: cannot make a connection (out of memory?)");
      c->client = mn_relay_end_new_fd (fd, NULL);
      mn_relay_conn_close (c);
      return;
    }
  c->client = mn_relay_end_new_fd (fd, ssl);
  if (tls)
    mn_relay_proxy_handshake (c);
  else
    begin (c);
}

void
mn_relay_proxy_sweep (MnRelay *r)
{
  gint64 now = g_get_monotonic_time ();
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
              mn_relay_conn_upstream_failed (c, "timed out");
              break;
            }
          mn_relay_conn_close (c);
          break;
        case ST_SEND_REQUEST:
          if (c->body_wait_since != 0 && !c->response_started && c->rhead_len == 0)
            {
              /* Waiting for the client's body, which came too slowly: the
               * upstream (which has part of it) is let go. */
              mn_relay_end_cancel (c->client);
              if (c->up != NULL)
                mn_relay_end_cancel (c->up);
              mn_relay_conn_upstream_drop (c);
              c->body_wait_since = 0;
              mn_relay_conn_respond (c, 408, NULL, "The request body came too slowly.");
              break;
            }
          mn_relay_conn_close (c);
          break;
        case ST_READ_HEAD:
          if (c->head_len > 0)
            {
              mn_relay_end_cancel (c->client);
              c->keep_alive = FALSE;
              mn_relay_conn_respond (c, 408, NULL, "The request took too long to arrive.");
              break;
            }
          mn_relay_conn_close (c);
          break;
        default:
          mn_relay_conn_close (c);
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
    mn_relay_conn_close (r->conns.head->data);
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
