/* mn-relay-io.c: non-blocking ends and listeners (see the header). */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-io.h"

#include <errno.h>
#include <glib-unix.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Ends and listeners share one edge-triggered epoll set per thread, itself
 * one fd in the GLib main context: nothing is modified per wait (GLib wakes
 * its context up on every g_source_modify_unix_fd), and GLib polls one fd
 * however many connections are open. */
typedef struct {
  int         epfd;
  gboolean    dispatching;
  GPtrArray  *zombies;      /* ends and listeners freed during a dispatch */
  GPtrArray  *deferred;     /* ends whose wait was already satisfied */
  gboolean    idle_pending;
  guint64     generation;   /* dispatch rounds so far */
} Reactor;

static GPrivate reactor_key;

/* The clock of the round in progress (see mn_relay_clock_now). */
static __thread gint64 round_now, round_wall;

static void
clock_tick (void)
{
  round_now = g_get_monotonic_time ();
  round_wall = g_get_real_time ();
}

gint64
mn_relay_clock_now (void)
{
  if (round_now == 0)
    clock_tick ();
  return round_now;
}

gint64
mn_relay_clock_wall (void)
{
  if (round_wall == 0)
    clock_tick ();
  return round_wall;
}

enum { KIND_END = 1, KIND_LISTENER };

struct _MnRelayEnd {
  guint8      kind;
  gboolean    dead;
  int         fd;
  SSL        *ssl;
  GIOStream  *stream;         /* upstream ends: the GSocketConnection, else NULL */
  GSocket    *socket;
  gboolean    in_ready;       /* a read may give something without a new event */
  gboolean    out_ready;      /* a write may go without a new event */
  gboolean    drained;        /* the last recv was short or EAGAIN: the socket is empty */
  gboolean    hup;            /* the peer's end (or an error) was reported */
  gboolean    read_wants_write, write_wants_read, hs_wants_write;   /* TLS */
  guint64     quiet_since;    /* the round in which it was marked quiet */

  MnRelayEndFunc read_func, write_func;
  gpointer       read_data, write_data;
  gchar         *last_error;
};

struct _MnRelayListener {
  guint8            kind;
  gboolean          dead;
  int               fd;
  MnRelayAcceptFunc func;
  gpointer          data;
};

static Reactor *reactor_get (void);

static void
zombie_free (gpointer p)
{
  if (*(guint8 *) p == KIND_END)
    {
      MnRelayEnd *e = p;
      g_free (e->last_error);
    }
  g_free (p);
}

static void
fire (MnRelayEnd *e, gboolean readable, gboolean writable)
{
  /* A TLS read may need the socket writable (a record to send first), a
   * TLS write may need it readable: each is woken by what it waits for. */
  gboolean for_read = e->read_wants_write ? writable : readable;
  gboolean for_write = e->write_wants_read ? readable : writable;
  if (for_read)
    {
      if (e->read_func != NULL)
        {
          MnRelayEndFunc f = e->read_func;
          e->read_func = NULL;
          f (e->read_data);
        }
      else
        e->in_ready = TRUE;
    }
  if (e->dead)
    return;
  if (for_write)
    {
      if (e->write_func != NULL)
        {
          MnRelayEndFunc f = e->write_func;
          e->write_func = NULL;
          f (e->write_data);
        }
      else
        e->out_ready = TRUE;
    }
}

static void
run_deferred (Reactor *re)
{
  /* Waits that were already satisfied when they were made. */
  for (guint i = 0; i < re->deferred->len; i++)
    {
      MnRelayEnd *e = g_ptr_array_index (re->deferred, i);
      if (!e->dead)
        fire (e, e->in_ready && e->read_func != NULL, e->out_ready && e->write_func != NULL);
    }
  g_ptr_array_set_size (re->deferred, 0);
}

static void
accept_some (MnRelayListener *l)
{
  /* Level-triggered: what is left after this turn wakes the next one, so a
   * burst of connections cannot starve the connections already open. */
  for (guint i = 0; i < 64 && !l->dead; i++)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      int fd = accept4 (l->fd, (struct sockaddr *) &ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            g_message ("accept: %s", g_strerror (errno));
          return;
        }
      l->func (fd, (struct sockaddr *) &ss, len, l->data);
    }
}

static void dispatch_events (Reactor *re, struct epoll_event *ev, int n);

static gboolean
reactor_dispatch (gint fd, GIOCondition condition, gpointer data)
{
  Reactor *re = data;
  struct epoll_event ev[256];

  /* Every event ready when the round starts is taken in this round (a full
   * batch means there may be more): an end with none is known to be quiet
   * as of the round's start (see mn_relay_end_is_stale). */
  re->generation++;
  re->dispatching = TRUE;
  clock_tick ();
  int n;
  do
    {
      n = epoll_wait (re->epfd, ev, G_N_ELEMENTS (ev), 0);
      dispatch_events (re, ev, n);
    }
  while (n == G_N_ELEMENTS (ev));
  run_deferred (re);
  re->dispatching = FALSE;
  g_ptr_array_set_size (re->zombies, 0);
  return G_SOURCE_CONTINUE;
}

static void
dispatch_events (Reactor *re, struct epoll_event *ev, int n)
{
  for (int i = 0; i < n; i++)
    {
      guint8 kind = *(guint8 *) ev[i].data.ptr;
      if (kind == KIND_LISTENER)
        {
          MnRelayListener *l = ev[i].data.ptr;
          if (!l->dead)
            accept_some (l);
          continue;
        }
      MnRelayEnd *e = ev[i].data.ptr;
      if (e->dead)
        continue;
      guint32 m = ev[i].events;
      gboolean bad = (m & (EPOLLERR | EPOLLHUP)) != 0;
      /* Data and the peer's FIN can come as one edge: a short read then
       * does not mean that waiting will bring another edge. */
      if (bad || (m & EPOLLRDHUP) != 0)
        e->hup = TRUE;
      fire (e, bad || (m & (EPOLLIN | EPOLLRDHUP)) != 0, bad || (m & EPOLLOUT) != 0);
    }
}

static gboolean
reactor_idle (gpointer data)
{
  Reactor *re = data;
  re->idle_pending = FALSE;
  re->dispatching = TRUE;
  clock_tick ();
  run_deferred (re);
  re->dispatching = FALSE;
  g_ptr_array_set_size (re->zombies, 0);
  return G_SOURCE_REMOVE;
}

static void
defer (MnRelayEnd *e)
{
  Reactor *re = reactor_get ();
  g_ptr_array_add (re->deferred, e);
  if (!re->dispatching && !re->idle_pending)
    {
      GSource *s = g_idle_source_new ();
      g_source_set_callback (s, reactor_idle, re, NULL);
      g_source_attach (s, g_main_context_get_thread_default ());
      g_source_unref (s);
      re->idle_pending = TRUE;
    }
}

static Reactor *
reactor_get (void)
{
  Reactor *re = g_private_get (&reactor_key);
  if (re != NULL)
    return re;
  re = g_new0 (Reactor, 1);
  re->epfd = epoll_create1 (EPOLL_CLOEXEC);
  g_assert (re->epfd >= 0);
  re->zombies = g_ptr_array_new_with_free_func (zombie_free);
  re->deferred = g_ptr_array_new ();
  GSource *src = g_unix_fd_source_new (re->epfd, G_IO_IN);
  g_source_set_callback (src, (GSourceFunc) (void (*) (void)) reactor_dispatch, re, NULL);
  /* GLib blocks a non-recursive source while dispatching it, removing and
   * re-adding its fd, each a wakeup write: two syscalls per loop turn. The
   * reactor never iterates the context, so recursion cannot happen. */
  g_source_set_can_recurse (src, TRUE);
  g_source_attach (src, g_main_context_get_thread_default ());
  g_source_unref (src);
  /* One per thread, for the thread's life (tests run relays in threads). */
  g_private_set (&reactor_key, re);
  return re;
}

/* Frees now, or after the dispatch in progress (its batch may still hold
 * events for @p). */
static void
release (gpointer p)
{
  Reactor *re = reactor_get ();
  if (re->dispatching || re->deferred->len > 0)
    g_ptr_array_add (re->zombies, p);
  else
    zombie_free (p);
}

/* ---- a BIO on the end's descriptor ----
 * OpenSSL reads and writes through it, so the end knows exactly when the
 * socket ran dry or full, as for plain ends. */

static BIO_METHOD *bio_method;

static int
bio_write (BIO *b, const char *data, size_t len, size_t *written)
{
  MnRelayEnd *e = BIO_get_data (b);
  BIO_clear_retry_flags (b);
  for (;;)
    {
      gssize n = send (e->fd, data, len, MSG_NOSIGNAL);
      if (n >= 0)
        {
          *written = (size_t) n;
          return 1;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          e->out_ready = FALSE;
          BIO_set_retry_write (b);
        }
      return 0;
    }
}

static int
bio_read (BIO *b, char *data, size_t len, size_t *got)
{
  MnRelayEnd *e = BIO_get_data (b);
  BIO_clear_retry_flags (b);
  for (;;)
    {
      gssize n = recv (e->fd, data, len, 0);
      if (n > 0)
        {
          e->drained = (gsize) n < len;
          *got = (size_t) n;
          return 1;
        }
      if (n == 0)
        return 0;
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          e->drained = TRUE;
          BIO_set_retry_read (b);
        }
      return 0;
    }
}

static long
bio_ctrl (BIO *b, int cmd, long num, void *ptr)
{
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
bio_create (BIO *b)
{
  BIO_set_init (b, 1);
  return 1;
}

static BIO *
bio_for (MnRelayEnd *e)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "minna-relay");
      BIO_meth_set_write_ex (m, bio_write);
      BIO_meth_set_read_ex (m, bio_read);
      BIO_meth_set_ctrl (m, bio_ctrl);
      BIO_meth_set_create (m, bio_create);
      bio_method = m;
      g_once_init_leave (&once, 1);
    }
  BIO *b = BIO_new (bio_method);
  BIO_set_data (b, e);
  return b;
}

/* ---- ends ---- */

static MnRelayEnd *
end_new (int fd)
{
  MnRelayEnd *e = g_new0 (MnRelayEnd, 1);
  e->kind = KIND_END;
  e->fd = fd;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = e };
  epoll_ctl (reactor_get ()->epfd, EPOLL_CTL_ADD, fd, &ev);
  return e;
}

MnRelayEnd *
mn_relay_end_new (GIOStream *stream, GSocket *socket)
{
  g_socket_set_blocking (socket, FALSE);
  g_socket_set_timeout (socket, 0);
  MnRelayEnd *e = end_new (g_socket_get_fd (socket));
  e->stream = g_object_ref (stream);
  e->socket = g_object_ref (socket);
  return e;
}

MnRelayEnd *
mn_relay_end_new_fd (int fd, SSL *ssl)
{
  MnRelayEnd *e = end_new (fd);
  if (ssl != NULL)
    {
      e->ssl = ssl;
      BIO *b = bio_for (e);
      SSL_set_bio (ssl, b, b);
      SSL_set_accept_state (ssl);
    }
  return e;
}

void
mn_relay_end_free (MnRelayEnd *e)
{
  if (e == NULL)
    return;
  e->dead = TRUE;
  e->read_func = e->write_func = NULL;
  epoll_ctl (reactor_get ()->epfd, EPOLL_CTL_DEL, e->fd, NULL);
  /* No TLS close_notify: it could block on a peer that does not read, and
   * a proxy gains nothing from sending it. */
  if (e->ssl != NULL)
    SSL_free (e->ssl);
  e->ssl = NULL;
  if (e->socket != NULL)
    {
      g_socket_close (e->socket, NULL);
      g_object_unref (e->socket);
      g_object_unref (e->stream);
      e->socket = NULL;
      e->stream = NULL;
    }
  else
    close (e->fd);
  release (e);
}

static void
set_error (MnRelayEnd *e, const gchar *msg)
{
  g_free (e->last_error);
  e->last_error = g_strdup (msg);
}

static void
set_ssl_error (MnRelayEnd *e, int err)
{
  unsigned long code = ERR_get_error ();
  gchar buf[256];
  if (code != 0)
    ERR_error_string_n (code, buf, sizeof buf);
  else
    g_snprintf (buf, sizeof buf, "TLS error %d%s%s", err, errno != 0 ? ": " : "",
                errno != 0 ? g_strerror (errno) : "");
  ERR_clear_error ();
  set_error (e, buf);
}

static gssize
tls_read (MnRelayEnd *e, guint8 *buf, gsize len)
{
  size_t got = 0;
  ERR_clear_error ();
  errno = 0;
  e->read_wants_write = FALSE;
  if (SSL_read_ex (e->ssl, buf, len, &got) == 1)
    {
      /* More may be decrypted already, or still in the socket. */
      e->in_ready = SSL_has_pending (e->ssl) || !e->drained;
      return (gssize) got;
    }
  int err = SSL_get_error (e->ssl, 0);
  switch (err)
    {
    case SSL_ERROR_WANT_READ:
      e->in_ready = FALSE;
      return MN_RELAY_IO_AGAIN;
    case SSL_ERROR_WANT_WRITE:
      e->in_ready = FALSE;
      e->read_wants_write = TRUE;
      return MN_RELAY_IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_SYSCALL:
      /* A peer that closes without close_notify is an ordinary end here. */
      if (ERR_peek_error () == 0)
        {
          if (errno == 0 || errno == ECONNRESET)
            return 0;
        }
      set_ssl_error (e, err);
      return MN_RELAY_IO_ERROR;
    default:
      set_ssl_error (e, err);
      return MN_RELAY_IO_ERROR;
    }
}

static gssize
tls_write (MnRelayEnd *e, const guint8 *buf, gsize len)
{
  size_t written = 0;
  ERR_clear_error ();
  errno = 0;
  e->write_wants_read = FALSE;
  if (SSL_write_ex (e->ssl, buf, len, &written) == 1)
    return (gssize) written;
  int err = SSL_get_error (e->ssl, 0);
  switch (err)
    {
    case SSL_ERROR_WANT_WRITE:
      e->out_ready = FALSE;
      return MN_RELAY_IO_AGAIN;
    case SSL_ERROR_WANT_READ:
      e->write_wants_read = TRUE;
      return MN_RELAY_IO_AGAIN;
    default:
      set_ssl_error (e, err);
      return MN_RELAY_IO_ERROR;
    }
}

gssize
mn_relay_end_handshake (MnRelayEnd *e)
{
  ERR_clear_error ();
  errno = 0;
  int rv = SSL_do_handshake (e->ssl);
  if (rv == 1)
    {
      e->hs_wants_write = FALSE;
      /* The request may have come in the same flight as the Finished. */
      e->in_ready = TRUE;
      return 1;
    }
  int err = SSL_get_error (e->ssl, rv);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    {
      e->hs_wants_write = err == SSL_ERROR_WANT_WRITE;
      if (e->hs_wants_write)
        e->out_ready = FALSE;
      else
        e->in_ready = FALSE;
      return MN_RELAY_IO_AGAIN;
    }
  set_ssl_error (e, err);
  return MN_RELAY_IO_ERROR;
}

gssize
mn_relay_end_read (MnRelayEnd *e, guint8 *buf, gsize len)
{
  if (e->ssl != NULL)
    return tls_read (e, buf, len);
  for (;;)
    {
      gssize n = recv (e->fd, buf, len, 0);
      if (n >= 0)
        {
          /* A full read may have left more behind: the next wait must not
           * sleep on an edge that already came. */
          e->drained = n > 0 && (gsize) n < len;
          e->in_ready = n > 0 && (gsize) n == len;
          return n;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          e->in_ready = FALSE;
          return MN_RELAY_IO_AGAIN;
        }
      set_error (e, g_strerror (errno));
      return MN_RELAY_IO_ERROR;
    }
}

gssize
mn_relay_end_write (MnRelayEnd *e, const guint8 *buf, gsize len)
{
  if (e->ssl != NULL)
    return tls_write (e, buf, len);
  for (;;)
    {
      gssize n = send (e->fd, buf, len, MSG_NOSIGNAL);
      if (n >= 0)
        return n;
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          e->out_ready = FALSE;
          return MN_RELAY_IO_AGAIN;
        }
      set_error (e, g_strerror (errno));
      return MN_RELAY_IO_ERROR;
    }
}

void
mn_relay_end_want_read (MnRelayEnd *e, MnRelayEndFunc func, gpointer data)
{
  e->read_func = func;
  e->read_data = data;
  if (e->read_wants_write ? e->out_ready : e->in_ready)
    {
      e->in_ready = TRUE;
      defer (e);
    }
}

void
mn_relay_end_want_write (MnRelayEnd *e, MnRelayEndFunc func, gpointer data)
{
  e->write_func = func;
  e->write_data = data;
  if (e->write_wants_read ? e->in_ready : e->out_ready)
    {
      e->out_ready = TRUE;
      defer (e);
    }
}

void
mn_relay_end_want_handshake (MnRelayEnd *e, MnRelayEndFunc func, gpointer data)
{
  if (e->hs_wants_write)
    mn_relay_end_want_write (e, func, data);
  else
    mn_relay_end_want_read (e, func, data);
}

void
mn_relay_end_cancel (MnRelayEnd *e)
{
  e->read_func = NULL;
  e->write_func = NULL;
}

gboolean
mn_relay_end_is_stale (MnRelayEnd *e)
{
  guint8 b;
  if (e->ssl != NULL)
    return FALSE;
  if (e->in_ready || e->hup)
    return TRUE;
  /* Quiet since an earlier round: anything that came before this round
   * began was taken by its epoll_wait and would have marked the end.  Only
   * an end that went quiet in this very round must ask the socket. */
  if (e->quiet_since != 0 && e->quiet_since < reactor_get ()->generation)
    return FALSE;
  gssize n = recv (e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

void
mn_relay_end_mark_quiet (MnRelayEnd *e)
{
  e->quiet_since = reactor_get ()->generation;
}

gboolean
mn_relay_end_is_quiet (MnRelayEnd *e)
{
  return e->ssl == NULL && !e->in_ready && !e->hup;
}

gboolean
mn_relay_end_drained (MnRelayEnd *e)
{
  return e->ssl == NULL && e->drained && !e->hup;
}

void
mn_relay_end_shutdown_write (MnRelayEnd *e)
{
  /* Plain ends only: on TLS this would cut a record stream mid-way. */
  if (e->ssl == NULL)
    (void) shutdown (e->fd, SHUT_WR);
}

gboolean
mn_relay_end_peer_gone (MnRelayEnd *e)
{
  guint8 b;
  gssize n;
  if (e->ssl == NULL)
    for (;;)
      {
        n = recv (e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0)
          return TRUE;
        if (n > 0 || errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        if (errno != EINTR)
          {
            set_error (e, g_strerror (errno));
            return TRUE;
          }
      }
  /* the wait that woke us took the edge: the next one must not sleep */
  e->in_ready = TRUE;
  return FALSE;
}

gboolean
mn_relay_end_is_tls (MnRelayEnd *e)
{
  return e->ssl != NULL;
}

const gchar *
mn_relay_end_last_error (MnRelayEnd *e)
{
  return e->last_error != NULL ? e->last_error : "connection closed";
}

/* ---- listeners ---- */

MnRelayListener *
mn_relay_listener_new (int fd, MnRelayAcceptFunc func, gpointer data)
{
  MnRelayListener *l = g_new0 (MnRelayListener, 1);
  l->kind = KIND_LISTENER;
  l->fd = fd;
  l->func = func;
  l->data = data;
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
  epoll_ctl (reactor_get ()->epfd, EPOLL_CTL_ADD, fd, &ev);
  return l;
}

void
mn_relay_listener_free (MnRelayListener *l)
{
  if (l == NULL)
    return;
  l->dead = TRUE;
  epoll_ctl (reactor_get ()->epfd, EPOLL_CTL_DEL, l->fd, NULL);
  close (l->fd);
  release (l);
}
