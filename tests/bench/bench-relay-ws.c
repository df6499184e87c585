/* bench-relay-ws.c: WebSocket helper for tests/bench/bench-relay.
 *   bench-relay-ws echo-server            echo server (libsoup); prints its port
 *   bench-relay-ws rtt  PORT PATH COOKIE N  N round trips one at a time: p50 p99 (µs)
 *   bench-relay-ws rate PORT PATH COOKIE SECONDS WINDOW  messages/s, WINDOW in flight
 *   bench-relay-ws idle PORT PATH COOKIE N  opens N, prints "ready", holds them until
 *                                           standard input closes
 * Clients speak RFC 6455 directly over blocking sockets on 127.0.0.1, so the
 * client's own cost stays small and equal for every proxy measured. */
#define G_LOG_DOMAIN "bench-relay-ws"

#include <arpa/inet.h>
#include <errno.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static void
echo_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  /* A client that sent its last message and closed at once: no echo. */
  if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_message (ws, type, message);
}

static void
echo_closed (SoupWebsocketConnection *ws, gpointer data)
{
  g_object_unref (ws);
}

static void
ws_handler (SoupServer *server, SoupServerMessage *msg, const gchar *path,
            SoupWebsocketConnection *ws, gpointer data)
{
  g_object_ref (ws);
  g_signal_connect (ws, "message", G_CALLBACK (echo_message), NULL);
  g_signal_connect (ws, "closed", G_CALLBACK (echo_closed), NULL);
}

static void
http_handler (SoupServer *server, SoupServerMessage *msg, const gchar *path,
              GHashTable *query, gpointer data)
{
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "hello\n", 6);
}

static void
raise_nofile (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static int
echo_server (void)
{
  raise_nofile ();
  g_autoptr(SoupServer) s = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (s, NULL, NULL, NULL, ws_handler, NULL, NULL);
  soup_server_add_handler (s, "/plain", http_handler, NULL, NULL);
  g_autoptr(GError) error = NULL;
  if (!soup_server_listen_local (s, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  GSList *uris = soup_server_get_uris (s);
  printf ("%d\n", g_uri_get_port (uris->data));
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);
  return 0;
}

static gboolean
write_all (int fd, const void *buf, size_t len)
{
  const guint8 *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (size_t) n;
    }
  return TRUE;
}

static gboolean
read_all (int fd, void *buf, size_t len)
{
  guint8 *p = buf;
  while (len > 0)
    {
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (size_t) n;
    }
  return TRUE;
}

/* The source address of the @i-th of many idle connections: 500 per
 * address in 127.2.0.0/16, as many clients would come from (the relay
 * limits connections per address); -1: the default. */
static void
bind_source (int fd, int i)
{
  if (i < 0)
    return;
  struct sockaddr_in src = { .sin_family = AF_INET };
  src.sin_addr.s_addr = htonl ((127u << 24) | (2u << 16) | (guint32) (i / 500 + 1));
  (void) bind (fd, (struct sockaddr *) &src, sizeof src);
}

static int
ws_open_from (int port, const char *path, const char *cookie, int source)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  bind_source (fd, source);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0)
    {
      close (fd);
      return -1;
    }
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  g_autofree gchar *req = g_strdup_printf (
    "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Origin: http://127.0.0.1:%d\r\n"
    "%s%s%s\r\n", path, port, port, cookie[0] ? "Cookie: " : "", cookie,
    cookie[0] ? "\r\n" : "");
  if (!write_all (fd, req, strlen (req)))
    {
      close (fd);
      return -1;
    }
  /* Read the 101 head byte by byte: nothing past it may be swallowed. */
  GString *head = g_string_new (NULL);
  char ch;
  while (!g_str_has_suffix (head->str, "\r\n\r\n") && head->len < 8192)
    {
      if (read (fd, &ch, 1) != 1)
        break;
      g_string_append_c (head, ch);
    }
  gboolean ok = g_str_has_prefix (head->str, "HTTP/1.1 101");
  if (!ok)
    fprintf (stderr, "handshake refused: %.60s\n", head->str);
  g_string_free (head, TRUE);
  if (!ok)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
ws_open (int port, const char *path, const char *cookie)
{
  return ws_open_from (port, path, cookie, -1);
}

static gboolean
ws_send (int fd, const guint8 *payload, size_t len)
{
  guint8 frame[14 + 256];
  size_t h = 0;
  g_assert (len <= 256);
  frame[h++] = 0x81;
  frame[h++] = (guint8) (0x80 | (len < 126 ? len : 126));
  if (len >= 126)
    {
      frame[h++] = (guint8) (len >> 8);
      frame[h++] = (guint8) len;
    }
  const guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  memcpy (frame + h, mask, 4);
  h += 4;
  for (size_t i = 0; i < len; i++)
    frame[h + i] = payload[i] ^ mask[i % 4];
  return write_all (fd, frame, h + len);
}

static gboolean
ws_recv (int fd)
{
  guint8 hdr[2], buf[512];
  if (!read_all (fd, hdr, 2))
    return FALSE;
  guint64 len = hdr[1] & 0x7f;
  if (len == 126)
    {
      guint8 ext[2];
      if (!read_all (fd, ext, 2))
        return FALSE;
      len = ((guint64) ext[0] << 8) | ext[1];
    }
  else if (len == 127)
    return FALSE;
  while (len > 0)
    {
      size_t n = (size_t) MIN (len, sizeof buf);
      if (!read_all (fd, buf, n))
        return FALSE;
      len -= n;
    }
  return TRUE;
}

static int
compare_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static const guint8 message[32] = "minna-relay websocket benchmark";

static int
rtt (int port, const char *path, const char *cookie, int n)
{
  int fd = ws_open (port, path, cookie);
  if (fd < 0)
    return 1;
  for (int i = 0; i < 100; i++)   /* warm-up */
    if (!ws_send (fd, message, sizeof message) || !ws_recv (fd))
      return 1;
  gint64 *t = g_new (gint64, n);
  for (int i = 0; i < n; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      if (!ws_send (fd, message, sizeof message) || !ws_recv (fd))
        return 1;
      t[i] = g_get_monotonic_time () - t0;
    }
  qsort (t, (size_t) n, sizeof *t, compare_i64);
  printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", t[n / 2], t[(n * 99) / 100]);
  g_free (t);
  close (fd);
  return 0;
}

static int
rate (int port, const char *path, const char *cookie, double seconds, int window)
{
  int fd = ws_open (port, path, cookie);
  if (fd < 0)
    return 1;
  for (int i = 0; i < window; i++)
    if (!ws_send (fd, message, sizeof message))
      return 1;
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  guint64 done = 0;
  gint64 t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () < end)
    {
      if (!ws_recv (fd) || !ws_send (fd, message, sizeof message))
        return 1;
      done++;
    }
  double el = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  printf ("%.0f\n", (double) done / el);
  close (fd);
  return 0;
}

static int
idle (int port, const char *path, const char *cookie, int n)
{
  raise_nofile ();
  int *fds = g_new (int, n);
  for (int i = 0; i < n; i++)
    if ((fds[i] = ws_open_from (port, path, cookie, i)) < 0)
      {
        fprintf (stderr, "connection %d failed\n", i);
        return 1;
      }
  /* Every one of them is a working WebSocket: one echo each. */
  for (int i = 0; i < n; i++)
    if (!ws_send (fds[i], message, sizeof message) || !ws_recv (fds[i]))
      {
        fprintf (stderr, "echo on connection %d failed\n", i);
        return 1;
      }
  printf ("ready\n");
  fflush (stdout);
  char b[64];
  while (read (0, b, sizeof b) > 0)
    ;
  for (int i = 0; i < n; i++)
    close (fds[i]);
  g_free (fds);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "echo-server"))
    return echo_server ();
  if (argc == 6 && g_str_equal (argv[1], "rtt"))
    return rtt (atoi (argv[2]), argv[3], argv[4], atoi (argv[5]));
  if (argc == 7 && g_str_equal (argv[1], "rate"))
    return rate (atoi (argv[2]), argv[3], argv[4], atof (argv[5]), atoi (argv[6]));
  if (argc == 6 && g_str_equal (argv[1], "idle"))
    return idle (atoi (argv[2]), argv[3], argv[4], atoi (argv[5]));
  fprintf (stderr, "usage: see the comment at the top of bench-relay-ws.c\n");
  return 2;
}
