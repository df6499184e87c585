/* mn-relay-io.c: non-blocking ends (see the header). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-io.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Plain ends share one edge-triggered epoll set per thread, itself one fd in
 * the GLib main context: nothing is modified per wait (GLib wakes its
 * context up on every g_source_modify_unix_fd), and GLib polls one fd
 * however many WebSockets are open. */
typedef struct {
  int         epfd;
  gboolean    dispatching;
  GPtrArray  *zombies;      /* ends freed during a dispatch */
  GPtrArray  *deferred;     /* ends whose wait was already satisfied */
  gboolean    idle_pending;
} Reactor;

static GPrivate reactor_key;

struct _MnRelayEnd {
  GIOStream  *stream;
  GSocket    *socket;
  int         fd;
  gboolean    tls;
  gboolean    dead;
  gboolean    in_ready, out_ready;  /* edges seen while nobody waited */
  gboolean    drained;              /* last read was short: nothing left */
  gboolean    hup;                  /* the peer's end (or an error) was reported */
  GPollableInputStream  *in;
  GPollableOutputStream *out;

  GSource    *in_source;      /* TLS ends: one-shot */
  GSource    *out_source;

  MnRelayEndFunc read_func, write_func;
  gpointer       read_data, write_data;
  gchar         *last_error;
};

static void end_destroy (MnRelayEnd *e);
static Reactor *reactor_get (void);

static void
fire (MnRelayEnd *e, gboolean readable, gboolean writable)
{
  if (readable)
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
  if (writable)
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

static gboolean
reactor_dispatch (gint fd, GIOCondition condition, gpointer data)
{
  Reactor *re = data;
  struct epoll_event ev[256];
  int n = epoll_wait (re->epfd, ev, G_N_ELEMENTS (ev), 0);

  re->dispatching = TRUE;
  for (int i = 0; i < n; i++)
    {
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
  run_deferred (re);
  re->dispatching = FALSE;
  g_ptr_array_set_size (re->zombies, 0);
  return G_SOURCE_CONTINUE;
}

static gboolean
reactor_idle (gpointer data)
{
  Reactor *re = data;
  re->idle_pending = FALSE;
  re->dispatching = TRUE;
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
  re->zombies = g_ptr_array_new_with_free_func ((GDestroyNotify) end_destroy);
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

MnRelayEnd *
mn_relay_end_new (GIOStream *stream, GSocket *socket)
{
  MnRelayEnd *e = g_new0 (MnRelayEnd, 1);
  e->stream = g_object_ref (stream);
  e->socket = g_object_ref (socket);
  e->fd = g_socket_get_fd (socket);
  e->tls = G_IS_TLS_CONNECTION (stream);
  g_socket_set_timeout (socket, 0);
  if (e->tls)
    {
      e->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
      e->out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
    }
  else
    {
      struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                .data.ptr = e };
      epoll_ctl (reactor_get ()->epfd, EPOLL_CTL_ADD, e->fd, &ev);
    }
  return e;
}

static void
clear_tls_sources (MnRelayEnd *e)
{
  if (e->in_source != NULL)
    {
      g_source_destroy (e->in_source);
      g_clear_pointer (&e->in_source, g_source_unref);
    }
  if (e->out_source != NULL)
    {
      g_source_destroy (e->out_source);
      g_clear_pointer (&e->out_source, g_source_unref);
    }
}

static void
end_destroy (MnRelayEnd *e)
{
  g_object_unref (e->socket);
  g_object_unref (e->stream);
  g_free (e->last_error);
  g_free (e);
}

void
mn_relay_end_free (MnRelayEnd *e)
{
  if (e == NULL)
    return;
  clear_tls_sources (e);
  e->dead = TRUE;
  e->read_func = e->write_func = NULL;
  if (!e->tls)
    epoll_ctl (reactor_get ()->epfd, EPOLL_CTL_DEL, e->fd, NULL);
  /* Closing the socket itself: a TLS close_notify could block on a peer
   * that does not read, and a proxy gains nothing from sending it. */
  g_socket_close (e->socket, NULL);
  Reactor *re = e->tls ? NULL : reactor_get ();
  /* Events for it may still be in the batch being dispatched. */
  if (re != NULL && (re->dispatching || re->deferred->len > 0))
    g_ptr_array_add (re->zombies, e);
  else
    end_destroy (e);
}

static void
set_error (MnRelayEnd *e, const gchar *msg)
{
  g_free (e->last_error);
  e->last_error = g_strdup (msg);
}

gssize
mn_relay_end_read (MnRelayEnd *e, guint8 *buf, gsize len)
{
  if (!e->tls)
    {
      for (;;)
        {
          gssize n = recv (e->fd, buf, len, 0);
          if (n >= 0)
            {
              e->drained = n > 0 && (gsize) n < len;
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
  g_autoptr(GError) error = NULL;
  gssize n = g_pollable_input_stream_read_nonblocking (e->in, buf, len, NULL, &error);
  if (n >= 0)
    return n;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return MN_RELAY_IO_AGAIN;
  /* A peer that closes without close_notify is an ordinary end here. */
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_EOF))
    return 0;
  set_error (e, error->message);
  return MN_RELAY_IO_ERROR;
}

gssize
mn_relay_end_write (MnRelayEnd *e, const guint8 *buf, gsize len)
{
  if (!e->tls)
    {
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
  g_autoptr(GError) error = NULL;
  gssize n = g_pollable_output_stream_write_nonblocking (e->out, buf, len, NULL, &error);
  if (n >= 0)
    return n;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return MN_RELAY_IO_AGAIN;
  set_error (e, error->message);
  return MN_RELAY_IO_ERROR;
}

static gboolean
tls_in_ready (GObject *stream, gpointer data)
{
  MnRelayEnd *e = data;
  MnRelayEndFunc f = e->read_func;
  gpointer d = e->read_data;
  g_clear_pointer (&e->in_source, g_source_unref);
  e->read_func = NULL;
  if (f != NULL)
    f (d);
  return G_SOURCE_REMOVE;
}

static gboolean
tls_out_ready (GObject *stream, gpointer data)
{
  MnRelayEnd *e = data;
  MnRelayEndFunc f = e->write_func;
  gpointer d = e->write_data;
  g_clear_pointer (&e->out_source, g_source_unref);
  e->write_func = NULL;
  if (f != NULL)
    f (d);
  return G_SOURCE_REMOVE;
}

void
mn_relay_end_want_read (MnRelayEnd *e, MnRelayEndFunc func, gpointer data)
{
  e->read_func = func;
  e->read_data = data;
  if (!e->tls)
    {
      if (e->in_ready)
        defer (e);
      return;
    }
  if (e->in_source == NULL)
    {
      e->in_source = g_pollable_input_stream_create_source (e->in, NULL);
      g_source_set_callback (e->in_source, (GSourceFunc) (void (*) (void)) tls_in_ready, e, NULL);
      g_source_attach (e->in_source, g_main_context_get_thread_default ());
    }
}

void
mn_relay_end_want_write (MnRelayEnd *e, MnRelayEndFunc func, gpointer data)
{
  e->write_func = func;
  e->write_data = data;
  if (!e->tls)
    {
      if (e->out_ready)
        defer (e);
      return;
    }
  if (e->out_source == NULL)
    {
      e->out_source = g_pollable_output_stream_create_source (e->out, NULL);
      g_source_set_callback (e->out_source, (GSourceFunc) (void (*) (void)) tls_out_ready, e, NULL);
      g_source_attach (e->out_source, g_main_context_get_thread_default ());
    }
}

void
mn_relay_end_cancel (MnRelayEnd *e)
{
  e->read_func = NULL;
  e->write_func = NULL;
  if (e->tls)
    clear_tls_sources (e);
}

gboolean
mn_relay_end_is_stale (MnRelayEnd *e)
{
  guint8 b;
  if (e->tls)
    return FALSE;
  gssize n = recv (e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

gboolean
mn_relay_end_drained (MnRelayEnd *e)
{
  return !e->tls && e->drained && !e->hup;
}

void
mn_relay_end_shutdown_write (MnRelayEnd *e)
{
  /* Plain ends only: on TLS this would cut a record stream mid-way. */
  if (!e->tls)
    (void) g_socket_shutdown (e->socket, FALSE, TRUE, NULL);
}

gboolean
mn_relay_end_is_tls (MnRelayEnd *e)
{
  return e->tls;
}

const gchar *
mn_relay_end_last_error (MnRelayEnd *e)
{
  return e->last_error != NULL ? e->last_error : "connection closed";
}
