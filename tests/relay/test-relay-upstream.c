/* test-relay-upstream.c: minna-relay in front of upstreams that behave as
 * real ones do at the worst moment.  A kept-alive connection closed just as
 * the next request arrives (the request must be sent again on a fresh
 * connection whenever nothing of it is lost, and never when part of a
 * streamed body is gone); an answer before the request body was read (413,
 * 401: the client must get that answer, not a 502); 30 WebSocket upgrades
 * at once through small relay buffers (partial writes, EAGAIN).  The
 * upstream is a plain-socket server run by the test, one thread per
 * connection, so it can close and reset connections exactly when asked. */
#define G_LOG_DOMAIN "relay-test"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay-harness.h"

static Harness *h;
static MnRelay *relay;
static gchar   *alice;

/* ---- the scripted upstream ---- */

typedef enum { CLOSE_FIN, CLOSE_RST } CloseHow;
typedef enum { EARLY_NONE, EARLY_STALL, EARLY_CLOSE } EarlyHow;

typedef struct {
  int      fd;
  guint16  port;
  GThread *thread;
  /* Requests answered on one connection; the next one is read (its head
   * and close_after_body bytes of its body, -1 = all of it) and the
   * connection closed without an answer, as an idle timer running out at
   * that moment does.  0: every request is answered. */
  gint     answer_per_conn;
  CloseHow close_how;
  gssize   close_after_body;
  /* Answer at once, before reading any of the body. */
  guint    early_status;
  EarlyHow early_how;
  guint    delay_ms;           /* before each answer */
  /* Upgrades: 101, then after this long a Close frame and the end of the
   * connection in one go (data and FIN in one readiness edge). */
  guint    ws_close_ms;
  gint     heads;            /* request heads seen, all connections */
  gint     conns;
} Up;

typedef struct {
  int    fd;
  guint8 buf[16384];
  gsize  len, off;
} Rd;

static gssize
rd_some (Rd *r, guint8 *dst, gsize max)
{
  if (r->off < r->len)
    {
      gsize n = MIN (max, r->len - r->off);
      memcpy (dst, r->buf + r->off, n);
      r->off += n;
      return (gssize) n;
    }
  for (;;)
    {
      gssize n = recv (r->fd, dst, max, 0);
      if (n < 0 && errno == EINTR)
        continue;
      return n;
    }
}

static gboolean
rd_byte (Rd *r, guint8 *b)
{
  if (r->off == r->len)
    {
      gssize n;
      do
        n = recv (r->fd, r->buf, sizeof r->buf, 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0)
        return FALSE;
      r->len = (gsize) n;
      r->off = 0;
    }
  *b = r->buf[r->off++];
  return TRUE;
}

static gboolean
rd_line (Rd *r, GString *line)
{
  guint8 b;
  g_string_truncate (line, 0);
  while (rd_byte (r, &b))
    {
      g_string_append_c (line, (gchar) b);
      if (b == '\n')
        return TRUE;
    }
  return FALSE;
}

/* Reads a head up to its empty line. */
static gboolean
rd_head (Rd *r, GString *head)
{
  g_autoptr(GString) line = g_string_new (NULL);
  g_string_truncate (head, 0);
  while (rd_line (r, line))
    {
      g_string_append (head, line->str);
      if (g_str_equal (line->str, "\r\n"))
        return TRUE;
    }
  return FALSE;
}

static const gchar *
header_value (const gchar *head, const gchar *name)
{
  g_autofree gchar *needle = g_strdup_printf ("\r\n%s: ", name);
  const gchar *p = strstr (head, needle);
  return p != NULL ? p + strlen (needle) : NULL;
}

/* Reads up to @limit bytes of the body (-1: all of it); counts and sums
 * them.  FALSE when the connection ended early. */
static gboolean
rd_body (Rd *r, const gchar *head, gssize limit, gsize *count, guint32 *sum)
{
  guint8 buf[8192];
  *count = 0;
  *sum = 0;
  const gchar *cl = header_value (head, "Content-Length");
  if (header_value (head, "Transfer-Encoding") != NULL)
    {
      g_autoptr(GString) line = g_string_new (NULL);
      for (;;)
        {
          if (!rd_line (r, line))
            return FALSE;
          guint64 size = g_ascii_strtoull (line->str, NULL, 16);
          if (size == 0)
            return rd_line (r, line);         /* the final empty line */
          while (size > 0)
            {
              if (limit >= 0 && *count >= (gsize) limit)
                return TRUE;
              gssize n = rd_some (r, buf, (gsize) MIN (size, sizeof buf));
              if (n <= 0)
                return FALSE;
              for (gssize i = 0; i < n; i++)
                *sum += buf[i];
              *count += (gsize) n;
              size -= (guint64) n;
            }
          if (!rd_line (r, line))
            return FALSE;
        }
    }
  gsize want = cl != NULL ? (gsize) g_ascii_strtoull (cl, NULL, 10) : 0;
  if (limit >= 0)
    want = MIN (want, (gsize) limit);
  while (*count < want)
    {
      gssize n = rd_some (r, buf, MIN (sizeof buf, want - *count));
      if (n <= 0)
        return FALSE;
      for (gssize i = 0; i < n; i++)
        *sum += buf[i];
      *count += (gsize) n;
    }
  return TRUE;
}

static void
send_all (int fd, const void *data, gsize len)
{
  const guint8 *p = data;
  while (len > 0)
    {
      gssize n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      p += n;
      len -= (gsize) n;
    }
}

typedef struct {
  Up *up;
  int fd;
} UpConn;

static gpointer
up_conn_main (gpointer data)
{
  UpConn *a = data;
  Up *u = a->up;
  int fd = a->fd;
  g_free (a);
  Rd *r = g_new0 (Rd, 1);
  r->fd = fd;
  g_autoptr(GString) head = g_string_new (NULL);
  for (gint n = 0; rd_head (r, head); n++)
    {
      g_atomic_int_inc (&u->heads);
      gsize count;
      guint32 sum;
      if (u->early_status != 0)
        {
          g_autofree gchar *body = g_strdup_printf ("early %u", u->early_status);
          g_autofree gchar *reply = g_strdup_printf (
            "HTTP/1.1 %u Early\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
            u->early_status, strlen (body), body);
          send_all (fd, reply, strlen (reply));
          if (u->early_how == EARLY_STALL)
            {
              /* Answered, reads nothing more, keeps the socket a while. */
              shutdown (fd, SHUT_WR);
              g_usleep (6 * G_USEC_PER_SEC);
            }
          break;
        }
      if (u->ws_close_ms > 0)
        {
          static const gchar up101[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                       "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n";
          static const guint8 close_frame[] = { 0x88, 0x02, 0x03, 0xe8 };
          send_all (fd, up101, sizeof up101 - 1);
          g_usleep (u->ws_close_ms * 1000);
          send_all (fd, close_frame, sizeof close_frame);
          break;
        }
      if (u->answer_per_conn > 0 && n >= u->answer_per_conn)
        {
          rd_body (r, head->str, u->close_after_body, &count, &sum);
          if (u->close_how == CLOSE_RST)
            {
              struct linger lg = { 1, 0 };
              setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            }
          break;
        }
      if (!rd_body (r, head->str, -1, &count, &sum))
        break;
      g_usleep (u->delay_ms * 1000);
      g_autofree gchar *reply = g_strdup_printf (
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Received: %zu\r\nX-Sum: %u\r\n"
        "X-Request-On-Connection: %d\r\n\r\nok", count, sum, n + 1);
      send_all (fd, reply, strlen (reply));
    }
  close (fd);
  g_free (r);
  return NULL;
}

static gpointer
up_main (gpointer data)
{
  Up *u = data;
  for (;;)
    {
      int fd = accept (u->fd, NULL, NULL);
      if (fd < 0 && errno == EINTR)
        continue;
      if (fd < 0)
        return NULL;
      g_atomic_int_inc (&u->conns);
      UpConn *a = g_new0 (UpConn, 1);
      a->up = u;
      a->fd = fd;
      g_thread_unref (g_thread_new ("up-conn", up_conn_main, a));
    }
}

static int
listen_loopback (guint16 *port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (fd, 128), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sa, &len), ==, 0);
  *port = ntohs (sa.sin_port);
  return fd;
}

static void
up_start (Up *u)
{
  u->fd = listen_loopback (&u->port);
  u->thread = g_thread_new ("up", up_main, u);
}

/* Connection threads still running (a stalling one) only touch their own
 * socket and the counters, so @u must stay alive: tests keep it static
 * (one case) or leak it (a table of cases: each its own). */
static void
up_stop (Up *u)
{
  shutdown (u->fd, SHUT_RDWR);
  g_thread_join (u->thread);
  close (u->fd);
}

static void
put_route (const gchar *id, guint16 port)
{
  g_autofree gchar *body = g_strdup_printf (
    "{\"upstream\": \"http://127.0.0.1:%u\", \"owner\": \"alice\", \"token\": \"t\", "
    "\"expires\": 0}", port);
  g_autofree gchar *path = g_strdup_printf ("/routes/%s", id);
  g_assert_cmpuint (harness_admin (relay, h, "PUT", path, body, NULL), ==, 204);
}

/* ---- a raw client ---- */

static int
client_connect (void)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_port = htons (mn_relay_get_port (relay, "http")),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Reads up to @len bytes or the end, waiting at most until @deadline. */
static gsize
read_until (int fd, GString *into, gsize len, gint64 deadline, const gchar *stop)
{
  guint8 buf[16384];
  while (into->len < len && (stop == NULL || strstr (into->str, stop) == NULL))
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      struct pollfd p = { fd, POLLIN, 0 };
      if (left <= 0 || poll (&p, 1, (int) left) <= 0)
        break;
      gssize n = recv (fd, buf, MIN (sizeof buf, len - into->len), 0);
      if (n <= 0)
        break;
      g_string_append_len (into, (const gchar *) buf, n);
    }
  return into->len;
}

typedef struct {
  guint    status;
  GString *head;
  GString *body;
} Resp;

static void
resp_clear (Resp *r)
{
  if (r->head != NULL)
    g_string_free (r->head, TRUE);
  if (r->body != NULL)
    g_string_free (r->body, TRUE);
  memset (r, 0, sizeof *r);
}

/* One response with a Content-Length body (all the relay sends). */
static void
read_resp (int fd, Resp *out, gint64 deadline)
{
  g_autoptr(GString) all = g_string_new (NULL);
  read_until (fd, all, G_MAXSIZE, deadline, "\r\n\r\n");
  const gchar *end = strstr (all->str, "\r\n\r\n");
  out->head = g_string_new_len (all->str, end != NULL ? end - all->str + 4 : (gssize) all->len);
  out->body = g_string_new (end != NULL ? end + 4 : "");
  if (all->len > 12 && g_str_has_prefix (all->str, "HTTP/1.1 "))
    out->status = (guint) g_ascii_strtoull (all->str + 9, NULL, 10);
  const gchar *cl = header_value (out->head->str, "Content-Length");
  if (end != NULL && cl != NULL)
    {
      gsize want = (gsize) g_ascii_strtoull (cl, NULL, 10);
      read_until (fd, out->body, want, deadline, NULL);
      g_assert_cmpuint (out->body->len, ==, want);
    }
}

typedef struct {
  int           fd;
  const guint8 *data;
  gsize         len;
  gsize         repeat;     /* send data this many times */
  guint         delay_ms;
} Writer;

static gpointer
writer_main (gpointer data)
{
  Writer *w = data;
  g_usleep (w->delay_ms * 1000);
  for (gsize i = 0; i < w->repeat; i++)
    {
      gsize off = 0;
      while (off < w->len)
        {
          gssize n = send (w->fd, w->data + off, w->len - off, MSG_NOSIGNAL);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            return NULL;            /* the relay closed: fine, it answered */
          off += (gsize) n;
        }
    }
  return NULL;
}

/* Sends @head, then the body from a thread (after @delay_ms), while
 * reading the answer, as a browser does. */
static void
exchange (const gchar *head, const guint8 *body, gsize len, gsize repeat, guint delay_ms,
          Resp *out)
{
  int fd = client_connect ();
  send_all (fd, head, strlen (head));
  Writer w = { fd, body, len, repeat, delay_ms };
  GThread *t = len > 0 ? g_thread_new ("body", writer_main, &w) : NULL;
  read_resp (fd, out, g_get_monotonic_time () + 20 * G_USEC_PER_SEC);
  /* Done with the answer: ends a writer the relay no longer reads. */
  shutdown (fd, SHUT_RDWR);
  if (t != NULL)
    g_thread_join (t);
  close (fd);
}

static guint8 *
make_body (gsize len, guint32 *sum)
{
  guint8 *b = g_malloc (len + 1);
  *sum = 0;
  for (gsize i = 0; i < len; i++)
    {
      b[i] = (guint8) ('a' + (i * 7) % 26);
      *sum += b[i];
    }
  return b;
}

/* ---- retrying on a fresh connection ---- */

typedef struct {
  const gchar *name;
  const gchar *method;
  gsize        body_len;
  gboolean     chunked;
  guint        delay_ms;        /* body sent this long after the head */
  CloseHow     how;
  gssize       close_after_body;
  guint        status;          /* what the client must get */
  gint         heads;           /* request heads the upstream must see */
} RetryCase;

static const RetryCase retry_cases[] = {
  /* nothing lost: sent again on a fresh connection */
  { "get-fin", "GET", 0, FALSE, 0, CLOSE_FIN, -1, 200, 3 },
  { "get-rst", "GET", 0, FALSE, 0, CLOSE_RST, 0, 200, 3 },
  { "post-fin", "POST", 18, FALSE, 0, CLOSE_FIN, -1, 200, 3 },
  { "post-rst", "POST", 18, FALSE, 0, CLOSE_RST, 0, 200, 3 },
  { "post-body-later", "POST", 18, FALSE, 150, CLOSE_FIN, 0, 200, 3 },
  { "post-body-later-rst", "POST", 18, FALSE, 150, CLOSE_RST, 0, 200, 3 },
  { "post-chunked-later", "POST", 300, TRUE, 150, CLOSE_FIN, 0, 200, 3 },
  { "put-40k-later", "PUT", 40000, FALSE, 150, CLOSE_RST, 20000, 200, 3 },
  /* part of a streamed body is gone: never sent again */
  { "post-1m-not-replayed", "POST", 1 << 20, FALSE, 150, CLOSE_FIN, 200000, 502, 2 },
  { "put-1m-not-replayed", "PUT", 1 << 20, FALSE, 0, CLOSE_RST, 300000, 502, 2 },
};

static void
test_retry (gconstpointer data)
{
  const RetryCase *tc = data;
  /* one per case, never freed: a connection thread of this case may outlive
   * it, and must not read the next case's settings (nor count its heads) */
  Up *u = g_new0 (Up, 1);
  u->answer_per_conn = 1;
  u->close_how = tc->how;
  u->close_after_body = tc->close_after_body;
  up_start (u);
  g_autofree gchar *id = g_strdup_printf ("retry-%s", tc->name);
  put_route (id, u->port);

  /* The first request leaves a kept-alive connection in the relay's pool. */
  g_autofree gchar *first = g_strdup_printf (
    "GET /s/%s/first HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", id, alice);
  Resp r = { 0 };
  exchange (first, NULL, 0, 0, 0, &r);
  g_assert_cmpuint (r.status, ==, 200);
  resp_clear (&r);
  g_usleep (50000);

  guint32 sum = 0;
  g_autofree guint8 *body = make_body (tc->body_len, &sum);
  g_autofree guint8 *wire = NULL;
  gsize wire_len = tc->body_len;
  g_autofree gchar *framing = NULL;
  if (tc->chunked)
    {
      /* Two chunks and the end, as one piece of the stream. */
      gsize half = tc->body_len / 2;
      g_autoptr(GString) s = g_string_new (NULL);
      g_string_append_printf (s, "%zx\r\n", half);
      g_string_append_len (s, (const gchar *) body, (gssize) half);
      g_string_append_printf (s, "\r\n%zx\r\n", tc->body_len - half);
      g_string_append_len (s, (const gchar *) body + half, (gssize) (tc->body_len - half));
      g_string_append (s, "\r\n0\r\n\r\n");
      wire_len = s->len;
      wire = (guint8 *) g_string_free (g_steal_pointer (&s), FALSE);
      framing = g_strdup ("Transfer-Encoding: chunked\r\n");
    }
  else
    framing = tc->body_len > 0 ? g_strdup_printf ("Content-Length: %zu\r\n", tc->body_len)
                               : g_strdup ("");
  g_autofree gchar *second = g_strdup_printf (
    "%s /s/%s/second HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nCookie: %s\r\n%s\r\n", tc->method, id, alice,
    framing);
  exchange (second, wire != NULL ? wire : body, wire_len, 1, tc->delay_ms, &r);
  g_assert_cmpuint (r.status, ==, tc->status);
  if (tc->status == 200)
    {
      g_autofree gchar *want_len = g_strdup_printf ("%zu\r\n", tc->body_len);
      g_autofree gchar *want_sum = g_strdup_printf ("%u\r\n", sum);
      g_assert_true (g_str_has_prefix (header_value (r.head->str, "X-Received"), want_len));
      g_assert_true (g_str_has_prefix (header_value (r.head->str, "X-Sum"), want_sum));
      /* on the fresh connection it was the first request */
      g_assert_true (g_str_has_prefix (header_value (r.head->str, "X-Request-On-Connection"),
                                       "1\r\n"));
    }
  resp_clear (&r);
  g_assert_cmpint (g_atomic_int_get (&u->heads), ==, tc->heads);
  up_stop (u);
}

/* A connection that fails on its first request was not a stale pooled
 * one: the upstream is broken, and sending again would only repeat it. */
static void
test_fresh_not_retried (void)
{
  guint16 port;
  /* A listener that accepts and closes at once. */
  int lfd = listen_loopback (&port);
  put_route ("fresh", port);
  g_autofree gchar *req = g_strdup_printf (
    "POST /s/fresh/x HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nCookie: %s\r\nContent-Length: 2\r\n\r\nhi", alice);
  int cfd = client_connect ();
  send_all (cfd, req, strlen (req));
  int afd = accept (lfd, NULL, NULL);
  g_assert_cmpint (afd, >=, 0);
  close (afd);
  Resp r = { 0 };
  read_resp (cfd, &r, g_get_monotonic_time () + 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (r.status, ==, 502);
  /* and nothing was sent again */
  struct pollfd p = { lfd, POLLIN, 0 };
  g_assert_cmpint (poll (&p, 1, 300), ==, 0);
  resp_clear (&r);
  close (cfd);
  close (lfd);
}

/* ---- answers before the request body was sent ---- */

typedef struct {
  const gchar *name;
  guint        status;
  EarlyHow     how;
  gsize        repeat;          /* 64 KB pieces of body */
  gsize        small;           /* or a small body of this size */
  guint        delay_ms;
} EarlyCase;

static const EarlyCase early_cases[] = {
  /* the upstream answers, stops reading and keeps the connection open */
  { "413-stall", 413, EARLY_STALL, 512, 0, 0 },
  /* the upstream answers and closes: the relay's writes are reset */
  { "413-close", 413, EARLY_CLOSE, 512, 0, 0 },
  /* a small body that arrives after the answer */
  { "401-before-body", 401, EARLY_CLOSE, 1, 18, 200 },
  { "403-stall-chunked", 403, EARLY_STALL, 512, 0, 0 },
};

static void
test_early (gconstpointer data)
{
  const EarlyCase *tc = data;
  /* one per case, never freed: a connection thread of this case may outlive
   * it, and must not read the next case's settings (nor count its heads) */
  Up *u = g_new0 (Up, 1);
  u->early_status = tc->status;
  u->early_how = tc->how;
  up_start (u);
  g_autofree gchar *id = g_strdup_printf ("early-%s", tc->name);
  put_route (id, u->port);

  gsize piece = tc->small > 0 ? tc->small : 65536;
  gboolean chunked = g_str_has_suffix (tc->name, "chunked");
  g_autofree guint8 *body = g_malloc (piece + 32);
  memset (body, 'q', piece + 32);
  gsize send_len = piece;
  if (chunked)
    {
      /* every piece one chunk; the stream is never ended (it is cut) */
      gchar hdr[16];
      gint n = g_snprintf (hdr, sizeof hdr, "%zx\r\n", piece - 8);
      memcpy (body, hdr, (gsize) n);
      memcpy (body + piece - 2, "\r\n", 2);
    }
  g_autofree gchar *framing = chunked
    ? g_strdup ("Transfer-Encoding: chunked\r\n")
    : g_strdup_printf ("Content-Length: %zu\r\n", piece * tc->repeat);
  g_autofree gchar *head = g_strdup_printf (
    "POST /s/%s/upload HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nCookie: %s\r\n%s\r\n", id, alice, framing);
  gint64 t0 = g_get_monotonic_time ();
  Resp r = { 0 };
  exchange (head, body, send_len, tc->repeat, tc->delay_ms, &r);
  g_assert_cmpuint (r.status, ==, tc->status);
  g_autofree gchar *want = g_strdup_printf ("early %u", tc->status);
  g_assert_cmpstr (r.body->str, ==, want);
  /* Forwarded when it came, not after the upstream gave up. */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 4 * G_USEC_PER_SEC);
  resp_clear (&r);
  up_stop (u);
}

/* An app that ends a WebSocket sends its last frame and closes at once:
 * the client must get the frame and then the end of the connection (the
 * frame and the FIN can come as one readiness edge, and a short read then
 * does not mean that another edge will follow). */
static void
test_websocket_upstream_closes (void)
{
  static Up u;
  memset (&u, 0, sizeof u);
  u.ws_close_ms = 200;
  up_start (&u);
  put_route ("wsclose", u.port);
  for (gint i = 0; i < 5; i++)
    {
      g_autofree gchar *req = g_strdup_printf (
        "GET /s/wsclose/ws HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nCookie: %s\r\n"
        "Connection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", alice);
      int fd = client_connect ();
      send_all (fd, req, strlen (req));
      gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
      g_autoptr(GString) in = g_string_new (NULL);
      gboolean eof = FALSE;
      while (!eof)
        {
          guint8 buf[4096];
          gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
          struct pollfd p = { fd, POLLIN, 0 };
          if (left <= 0 || poll (&p, 1, (int) left) <= 0)
            break;
          gssize n = recv (fd, buf, sizeof buf, 0);
          if (n <= 0)
            eof = TRUE;
          else
            g_string_append_len (in, (const gchar *) buf, n);
        }
      close (fd);
      g_assert_true (g_str_has_prefix (in->str, "HTTP/1.1 101"));
      g_assert_true (g_str_has_suffix (in->str, "\r\n\r\n\x88\x02\x03\xe8"));
      g_assert_true (eof);
    }
  up_stop (&u);
}

/* ---- the relay itself stalled ---- */

static gboolean
stall_relay (gpointer data)
{
  g_usleep (GPOINTER_TO_UINT (data) * 1000);
  return G_SOURCE_REMOVE;
}

/* On a machine loaded far past its cores the relay may not run for
 * seconds; an answer that came meanwhile must be forwarded, not timed out
 * by the sweep that runs in the same turn. */
static void
test_relay_stalled (void)
{
  static Up u;
  memset (&u, 0, sizeof u);
  u.delay_ms = 300;
  up_start (&u);
  const gchar *over[] = { "upstream_timeout=1", "upstream_connect_timeout=1", NULL };
  g_autoptr(GError) error = NULL;
  MnRelay *main_relay = relay;
  relay = harness_relay_start (h, over, &error);
  g_assert_no_error (error);
  put_route ("stalled", u.port);
  for (gint i = 0; i < 2; i++)
    {
      g_autofree gchar *req = g_strdup_printf (
        "GET /s/stalled/x HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", alice);
      int fd = client_connect ();
      send_all (fd, req, strlen (req));
      g_usleep (100 * 1000);
      /* the relay's thread blocked for 3.5 s while the answer comes */
      harness_invoke (stall_relay, GUINT_TO_POINTER (3500));
      Resp r = { 0 };
      read_resp (fd, &r, g_get_monotonic_time () + 10 * G_USEC_PER_SEC);
      g_assert_cmpuint (r.status, ==, 200);
      resp_clear (&r);
      close (fd);
    }
  harness_relay_stop (relay);
  relay = main_relay;
  up_stop (&u);
}

/* ---- 30 WebSocket upgrades at once ---- */

#define N_WS 30

typedef struct {
  gint      index;
  guint16   port;
  GMutex   *lock;
  GCond    *cond;
  gint     *waiting;
  gboolean  ok;
  gchar    *why;
} WsClient;

static gpointer
ws_client_main (gpointer data)
{
  WsClient *w = data;
  gsize len = 3000 * (gsize) (w->index + 1);     /* 3 kB .. 90 kB */
  g_autoptr(GString) out = g_string_new (NULL);
  g_string_append_printf (out,
                          "GET /s/ws1/echo HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\n"
                          "Cookie: %s\r\n"
                          "Connection: Upgrade\r\nUpgrade: websocket\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", alice);
  gsize head_len = out->len;
  guint8 mask[4] = { 0x11, 0x22, 0x33, (guint8) w->index };
  g_autofree guint8 *payload = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    payload[i] = (guint8) (i * 13 + (gsize) w->index);
  g_string_append_c (out, (gchar) 0x82);
  if (len < 65536)
    {
      g_string_append_c (out, (gchar) (0x80 | 126));
      g_string_append_c (out, (gchar) (len >> 8));
      g_string_append_c (out, (gchar) (len & 0xff));
    }
  else
    {
      g_string_append_c (out, (gchar) (0x80 | 127));
      for (gint s = 56; s >= 0; s -= 8)
        g_string_append_c (out, (gchar) ((guint64) len >> s));
    }
  g_string_append_len (out, (const gchar *) mask, 4);
  for (gsize i = 0; i < len; i++)
    g_string_append_c (out, (gchar) (payload[i] ^ mask[i & 3]));

  /* All at once. */
  g_mutex_lock (w->lock);
  (*w->waiting)--;
  g_cond_broadcast (w->cond);
  while (*w->waiting > 0)
    g_cond_wait (w->cond, w->lock);
  g_mutex_unlock (w->lock);

  int fd = client_connect ();
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  g_autoptr(GString) in = g_string_new (NULL);
  /* Even ones send their first frame right behind the upgrade request. */
  gboolean together = w->index % 2 == 0;
  send_all (fd, out->str, together ? out->len : head_len);
  read_until (fd, in, G_MAXSIZE, deadline, "\r\n\r\n");
  const gchar *end = strstr (in->str, "\r\n\r\n");
  if (end == NULL || !g_str_has_prefix (in->str, "HTTP/1.1 101"))
    {
      w->why = g_strdup_printf ("client %d: no 101: '%.60s'", w->index, in->str);
      close (fd);
      return NULL;
    }
  if (!together)
    send_all (fd, out->str + head_len, out->len - head_len);
  gsize start = (gsize) (end + 4 - in->str);
  gsize hdr = len < 65536 ? 4 : 10;
  read_until (fd, in, start + hdr + len, deadline, NULL);
  close (fd);
  if (in->len != start + hdr + len)
    {
      w->why = g_strdup_printf ("client %d: echo %zu of %zu bytes", w->index,
                                in->len - start, hdr + len);
      return NULL;
    }
  const guint8 *f = (const guint8 *) in->str + start;
  if (f[0] != 0x82 || memcmp (f + hdr, payload, len) != 0)
    {
      w->why = g_strdup_printf ("client %d: echo differs", w->index);
      return NULL;
    }
  w->ok = TRUE;
  return NULL;
}

static void
test_websocket_thirty (void)
{
  guint16 ws_port = harness_upstream_start ();
  put_route ("ws1", ws_port);
  GMutex lock;
  GCond cond;
  g_mutex_init (&lock);
  g_cond_init (&cond);
  gint waiting = N_WS;
  WsClient cl[N_WS];
  GThread *t[N_WS];
  for (gint i = 0; i < N_WS; i++)
    {
      cl[i] = (WsClient) { .index = i, .lock = &lock, .cond = &cond, .waiting = &waiting };
      t[i] = g_thread_new ("ws", ws_client_main, &cl[i]);
    }
  gint ok = 0;
  for (gint i = 0; i < N_WS; i++)
    {
      g_thread_join (t[i]);
      if (cl[i].ok)
        ok++;
      else
        g_test_message ("%s", cl[i].why);
      g_free (cl[i].why);
    }
  g_assert_cmpint (ok, ==, N_WS);
  g_mutex_clear (&lock);
  g_cond_clear (&cond);
  harness_upstream_stop ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  h = harness_new ();
  /* Small buffers: every transfer takes many reads and partial writes.
   * A short upstream timeout: a relay that waits for an answer it already
   * has fails in seconds, not minutes. */
  const gchar *over[] = { "buffer_size=4096", "upstream_timeout=10", NULL };
  g_autoptr(GError) error = NULL;
  relay = harness_relay_start (h, over, &error);
  g_assert_no_error (error);
  alice = harness_cookie (h, "alice", 3600);

  for (gsize i = 0; i < G_N_ELEMENTS (retry_cases); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/relay/retry/%s", retry_cases[i].name);
      g_test_add_data_func (name, &retry_cases[i], test_retry);
    }
  g_test_add_func ("/relay/retry/fresh-connection-not-retried", test_fresh_not_retried);
  for (gsize i = 0; i < G_N_ELEMENTS (early_cases); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/relay/early-answer/%s", early_cases[i].name);
      g_test_add_data_func (name, &early_cases[i], test_early);
    }
  g_test_add_func ("/relay/websocket/thirty-at-once", test_websocket_thirty);
  g_test_add_func ("/relay/websocket/upstream-closes-after-last-frame",
                   test_websocket_upstream_closes);
  g_test_add_func ("/relay/timeouts/relay-stalled", test_relay_stalled);
  int rc = g_test_run ();
  harness_relay_stop (relay);
  harness_free (h);
  g_free (alice);
  return rc;
}
