/* bench-relay-client: the HTTP(S) clients tests/bench/bench-relay needs
 * beside wrk (which measures throughput):
 *
 *   bench-relay-client idle|idle-tls PORT PATH COOKIE N
 *       N plain or TLS connections, each with one keep-alive request
 *       answered, then left idle (the client's TLS state is freed, the
 *       sockets stay open); prints "ready OPEN" and holds them until stdin
 *       closes.
 *   bench-relay-client slow PORT N SOURCE
 *       N connections from SOURCE (a loopback address) that send the first
 *       bytes of a request head and then one byte every 2 s (slowloris);
 *       prints "ready OPEN REFUSED" and holds them until stdin closes.
 *   bench-relay-client latency PORT PATH COOKIE N SOURCE
 *       N requests from SOURCE, each on a new connection; prints the
 *       latency p50 and p99 in ms and how many failed.
 *   bench-relay-client upload PORT PATH COOKIE BYTES [tls]
 *       PUT of BYTES bytes (Content-Length), reading the answer only after
 *       the whole body is sent; prints "STATUS SECONDS RECEIVED" (the byte
 *       count the sink answered).
 *   bench-relay-client sink
 *       An upstream that reads each request's whole body (Content-Length
 *       or chunked) before it answers 200 with the number of bytes it got;
 *       prints its port, serves each connection in a thread until killed.
 *
 * Loopback only; blocking sockets; OpenSSL for TLS (no certificate check:
 * the relay's is self-signed). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int
connect_to (guint16 port, const gchar *source)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (source != NULL)
    {
      struct sockaddr_in src = { .sin_family = AF_INET };
      inet_pton (AF_INET, source, &src.sin_addr);
      if (bind (fd, (struct sockaddr *) &src, sizeof src) != 0)
        {
          close (fd);
          return -1;
        }
    }
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0)
    {
      close (fd);
      return -1;
    }
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = { .tv_sec = 10 };
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Reads one answer with a Content-Length body; its status or 0. */
typedef gssize (*ReadFunc) (gpointer io, gchar *buf, gsize len);

static gssize
read_fd (gpointer io, gchar *buf, gsize len)
{
  return recv (GPOINTER_TO_INT (io), buf, len, 0);
}

static gssize
read_ssl (gpointer io, gchar *buf, gsize len)
{
  int n = SSL_read (io, buf, (int) len);
  return n > 0 ? n : -1;
}

static guint
read_answer_body (ReadFunc rf, gpointer io, GString *body)
{
  GString *in = g_string_new (NULL);
  gchar buf[16384];
  gchar *end = NULL;
  while ((end = strstr (in->str, "\r\n\r\n")) == NULL)
    {
      gssize n = rf (io, buf, sizeof buf);
      if (n <= 0)
        {
          g_string_free (in, TRUE);
          return 0;
        }
      g_string_append_len (in, buf, n);
    }
  guint status = g_str_has_prefix (in->str, "HTTP/1.") ? (guint) atoi (in->str + 9) : 0;
  gsize head = (gsize) (end - in->str) + 4;
  gsize want = 0;
  const gchar *cl = g_strstr_len (in->str, (gssize) head, "Content-Length:");
  if (cl == NULL)
    cl = g_strstr_len (in->str, (gssize) head, "content-length:");
  if (cl != NULL)
    want = (gsize) g_ascii_strtoull (cl + 15, NULL, 10);
  while (in->len < head + want)
    {
      gssize n = rf (io, buf, sizeof buf);
      if (n <= 0)
        break;
      g_string_append_len (in, buf, n);
    }
  if (body != NULL)
    g_string_append_len (body, in->str + head, (gssize) MIN (want, in->len - head));
  g_string_free (in, TRUE);
  return status;
}

static guint
read_answer (ReadFunc rf, gpointer io)
{
  return read_answer_body (rf, io, NULL);
}

static void
hold_until_stdin_closes (void)
{
  gchar b[64];
  while (read (0, b, sizeof b) > 0)
    ;
}

static int
idle (guint16 port, const gchar *path, const gchar *cookie, guint n, gboolean tls)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
  g_autofree gchar *req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                                           "Cookie: %s\r\n\r\n", path, port, cookie);
  int *fds = g_new0 (int, n);
  guint open = 0;
  for (guint i = 0; i < n; i++)
    {
      /* 500 per source address, as many clients would come (the relay
       * limits connections per address) */
      g_autofree gchar *source = g_strdup_printf ("127.3.0.%u", i / 500 + 1);
      int fd = connect_to (port, source);
      if (fd < 0)
        continue;
      gboolean ok;
      if (tls)
        {
          SSL *ssl = SSL_new (ctx);
          SSL_set_fd (ssl, fd);
          ok = SSL_connect (ssl) == 1 &&
               SSL_write (ssl, req, (int) strlen (req)) == (int) strlen (req) &&
               read_answer (read_ssl, ssl) == 200;
          /* The client's TLS state goes; the connection stays, idle. */
          SSL_free (ssl);
        }
      else
        ok = send (fd, req, strlen (req), MSG_NOSIGNAL) == (gssize) strlen (req) &&
             read_answer (read_fd, GINT_TO_POINTER (fd)) == 200;
      if (!ok)
        {
          close (fd);
          continue;
        }
      fds[open++] = fd;
    }
  printf ("ready %u\n", open);
  fflush (stdout);
  hold_until_stdin_closes ();
  for (guint i = 0; i < open; i++)
    close (fds[i]);
  g_free (fds);
  SSL_CTX_free (ctx);
  return 0;
}

static int
slow (guint16 port, guint n, const gchar *source)
{
  static const gchar head[] = "GET /s/b/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  int *fds = g_new0 (int, n);
  guint open = 0, refused = 0;
  for (guint i = 0; i < n; i++)
    {
      int fd = connect_to (port, source);
      if (fd < 0 || send (fd, head, sizeof head - 1, MSG_NOSIGNAL) < 0)
        {
          refused++;
          if (fd >= 0)
            close (fd);
          continue;
        }
      fds[open++] = fd;
    }
  /* Those the server answered (429, 503) or closed at once were refused. */
  g_usleep (500000);
  for (guint i = 0; i < open; i++)
    {
      gchar b[64];
      gssize got = recv (fds[i], b, sizeof b, MSG_DONTWAIT);
      if (got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        {
          close (fds[i]);
          fds[i] = -1;
          refused++;
        }
    }
  printf ("ready %u %u\n", n - refused, refused);
  fflush (stdout);
  /* One more byte on each every 2 s, until stdin closes. */
  for (;;)
    {
      struct pollfd p = { .fd = 0, .events = POLLIN };
      if (poll (&p, 1, 2000) > 0)
        {
          gchar b[64];
          if (read (0, b, sizeof b) <= 0)
            break;
        }
      for (guint i = 0; i < open; i++)
        if (fds[i] >= 0 && send (fds[i], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
            errno != EAGAIN)
          {
            close (fds[i]);
            fds[i] = -1;
          }
    }
  for (guint i = 0; i < open; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  g_free (fds);
  return 0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int
latency (guint16 port, const gchar *path, const gchar *cookie, guint n, const gchar *source)
{
  g_autofree gchar *req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                                           "Cookie: %s\r\nConnection: close\r\n\r\n",
                                           path, port, cookie);
  double *ms = g_new0 (double, n);
  guint failed = 0, done = 0;
  for (guint i = 0; i < n; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      int fd = connect_to (port, source);
      guint status = 0;
      if (fd >= 0 && send (fd, req, strlen (req), MSG_NOSIGNAL) == (gssize) strlen (req))
        status = read_answer (read_fd, GINT_TO_POINTER (fd));
      if (fd >= 0)
        close (fd);
      if (status != 200)
        failed++;
      else
        ms[done++] = (double) (g_get_monotonic_time () - t0) / 1000.0;
    }
  qsort (ms, done, sizeof *ms, cmp_double);
  double p50 = done > 0 ? ms[(done - 1) / 2] : -1;
  double p99 = done > 0 ? ms[(guint) ((done - 1) * 0.99)] : -1;
  printf ("%.3f %.3f %u\n", p50, p99, failed);
  g_free (ms);
  return 0;
}

static gboolean
write_all_io (int fd, SSL *ssl, const gchar *data, gsize len)
{
  while (len > 0)
    {
      gssize w = ssl != NULL ? SSL_write (ssl, data, (int) MIN (len, (gsize) G_MAXINT))
                             : send (fd, data, len, MSG_NOSIGNAL);
      if (w <= 0)
        return FALSE;
      data += w;
      len -= (gsize) w;
    }
  return TRUE;
}

static int
upload (guint16 port, const gchar *path, const gchar *cookie, guint64 bytes, gboolean tls)
{
  int fd = connect_to (port, NULL);
  if (fd < 0)
    {
      printf ("0 0\n");
      return 1;
    }
  SSL_CTX *ctx = NULL;
  SSL *ssl = NULL;
  if (tls)
    {
      ctx = SSL_CTX_new (TLS_client_method ());
      ssl = SSL_new (ctx);
      SSL_set_fd (ssl, fd);
      if (SSL_connect (ssl) != 1)
        {
          printf ("0 0\n");
          return 1;
        }
    }
  g_autofree gchar *head = g_strdup_printf (
    "PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nCookie: %s\r\nOrigin: %s://127.0.0.1:%u\r\n"
    "Content-Type: application/octet-stream\r\nContent-Length: %" G_GUINT64_FORMAT "\r\n\r\n",
    path, port, cookie, tls ? "https" : "http", port, bytes);
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = write_all_io (fd, ssl, head, strlen (head));
  static gchar chunk[1 << 20];
  memset (chunk, 'u', sizeof chunk);
  for (guint64 left = bytes; ok && left > 0;)
    {
      gsize n = (gsize) MIN (left, (guint64) sizeof chunk);
      ok = write_all_io (fd, ssl, chunk, n);
      left -= n;
    }
  g_autoptr(GString) got = g_string_new (NULL);
  guint status = ok ? read_answer_body (tls ? read_ssl : read_fd,
                                        tls ? (gpointer) ssl : GINT_TO_POINTER (fd), got) : 0;
  printf ("%u %.3f %s\n", status, (double) (g_get_monotonic_time () - t0) / 1e6,
          got->len > 0 ? got->str : "0");
  if (ssl != NULL)
    SSL_free (ssl);
  if (ctx != NULL)
    SSL_CTX_free (ctx);
  close (fd);
  return status == 200 ? 0 : 1;
}

/* ---- the sink upstream ---- */

typedef struct {
  int     fd;
  gchar   buf[1 << 16];
  gsize   len, off;
} Reader;

static gssize
reader_fill (Reader *r)
{
  if (r->off == r->len)
    r->off = r->len = 0;
  if (r->len == sizeof r->buf)
    {
      memmove (r->buf, r->buf + r->off, r->len - r->off);
      r->len -= r->off;
      r->off = 0;
    }
  gssize n = recv (r->fd, r->buf + r->len, sizeof r->buf - r->len, 0);
  if (n > 0)
    r->len += (gsize) n;
  return n;
}

/* A line (CRLF-terminated, at most 4 kB) into @line; FALSE at the end. */
static gboolean
reader_line (Reader *r, GString *line)
{
  g_string_truncate (line, 0);
  for (;;)
    {
      gchar *nl = memchr (r->buf + r->off, '\n', r->len - r->off);
      if (nl != NULL)
        {
          g_string_append_len (line, r->buf + r->off, nl - (r->buf + r->off) + 1);
          r->off = (gsize) (nl - r->buf) + 1;
          return TRUE;
        }
      g_string_append_len (line, r->buf + r->off, (gssize) (r->len - r->off));
      r->off = r->len;
      if (line->len > 4096 || reader_fill (r) <= 0)
        return FALSE;
    }
}

/* Skips @n bytes; FALSE at the end. */
static gboolean
reader_skip (Reader *r, guint64 n)
{
  while (n > 0)
    {
      if (r->off == r->len && reader_fill (r) <= 0)
        return FALSE;
      gsize take = (gsize) MIN (n, (guint64) (r->len - r->off));
      r->off += take;
      n -= take;
    }
  return TRUE;
}

static void
sink_serve (int fd)
{
  g_autofree Reader *r = g_new0 (Reader, 1);
  g_autoptr(GString) line = g_string_new (NULL);
  r->fd = fd;
  for (;;)
    {
      guint64 length = 0, got = 0;
      gboolean chunked = FALSE, first = TRUE;
      for (;;)
        {
          if (!reader_line (r, line))
            return;
          if (g_str_equal (line->str, "\r\n"))
            break;
          if (first)
            {
              first = FALSE;
              continue;
            }
          if (g_ascii_strncasecmp (line->str, "content-length:", 15) == 0)
            length = g_ascii_strtoull (line->str + 15, NULL, 10);
          if (g_ascii_strncasecmp (line->str, "transfer-encoding:", 18) == 0)
            chunked = TRUE;
        }
      if (chunked)
        for (;;)
          {
            if (!reader_line (r, line))
              return;
            guint64 size = g_ascii_strtoull (line->str, NULL, 16);
            if (size == 0)
              {
                while (reader_line (r, line) && !g_str_equal (line->str, "\r\n"))
                  ;
                break;
              }
            if (!reader_skip (r, size + 2))
              return;
            got += size;
          }
      else
        {
          if (!reader_skip (r, length))
            return;
          got = length;
        }
      g_autofree gchar *n = g_strdup_printf ("%" G_GUINT64_FORMAT, got);
      g_autofree gchar *resp = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                                "\r\n%s", strlen (n), n);
      if (send (fd, resp, strlen (resp), MSG_NOSIGNAL) < 0)
        return;
    }
}

/* Kept-alive connections from the proxies stay open: a thread each. */
static gpointer
sink_main (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  sink_serve (fd);
  close (fd);
  return NULL;
}

static int
sink (void)
{
  int ls = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sa;
  if (bind (ls, (struct sockaddr *) &sa, sizeof sa) != 0 || listen (ls, 64) != 0 ||
      getsockname (ls, (struct sockaddr *) &sa, &sl) != 0)
    return 1;
  printf ("%u\n", ntohs (sa.sin_port));
  fflush (stdout);
  for (;;)
    {
      int fd = accept (ls, NULL, NULL);
      if (fd >= 0)
        g_thread_unref (g_thread_new ("sink", sink_main, GINT_TO_POINTER (fd)));
    }
}

int
main (int argc, char **argv)
{
  signal (SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  if (argc == 6 && (g_str_equal (argv[1], "idle") || g_str_equal (argv[1], "idle-tls")))
    return idle ((guint16) atoi (argv[2]), argv[3], argv[4], (guint) atoi (argv[5]),
                 g_str_equal (argv[1], "idle-tls"));
  if (argc == 5 && g_str_equal (argv[1], "slow"))
    return slow ((guint16) atoi (argv[2]), (guint) atoi (argv[3]), argv[4]);
  if (argc == 7 && g_str_equal (argv[1], "latency"))
    return latency ((guint16) atoi (argv[2]), argv[3], argv[4], (guint) atoi (argv[5]), argv[6]);
  if ((argc == 6 || argc == 7) && g_str_equal (argv[1], "upload"))
    return upload ((guint16) atoi (argv[2]), argv[3], argv[4],
                   g_ascii_strtoull (argv[5], NULL, 10), argc == 7 && g_str_equal (argv[6], "tls"));
  if (argc == 2 && g_str_equal (argv[1], "sink"))
    return sink ();
  fprintf (stderr, "usage: see the head of bench-relay-client.c\n");
  return 2;
}
