/* mn-relay-io.c: non-blocking ends (see the header). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-io.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>

typedef struct {
  GSource     source;
  MnRelayEnd *end;
} FdSource;

struct _MnRelayEnd {
  GIOStream  *stream;
  GSocket    *socket;
  int         fd;
  gboolean    tls;
  GPollableInputStream  *in;
  GPollableOutputStream *out;

  GSource    *fd_source;      /* plain ends */
  gpointer    fd_tag;
  GSource    *in_source;      /* TLS ends: one-shot */
  GSource    *out_source;

  MnRelayEndFunc read_func, write_func;
  gpointer       read_data, write_data;
  gchar         *last_error;
};

static void
update_events (MnRelayEnd *e)
{
  GIOCondition ev = 0;
  if (e->read_func != NULL)
    ev |= G_IO_IN;
  if (e->write_func != NULL)
    ev |= G_IO_OUT;
  g_source_modify_unix_fd (e->fd_source, e->fd_tag, ev);
}

static gboolean
fd_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  MnRelayEnd *e = ((FdSource *) source)->end;
  GIOCondition rev = g_source_query_unix_fd (source, e->fd_tag);
  GIOCondition bad = G_IO_ERR | G_IO_HUP | G_IO_NVAL;

  /* One callback per dispatch: it may free the end.  A still-wanted other
   * direction is reported again on the next poll. */
  if (e->read_func != NULL && (rev & (G_IO_IN | bad)) != 0)
    {
      MnRelayEndFunc f = e->read_func;
      gpointer d = e->read_data;
      e->read_func = NULL;
      update_events (e);
      f (d);
    }
  else if (e->write_func != NULL && (rev & (G_IO_OUT | bad)) != 0)
    {
      MnRelayEndFunc f = e->write_func;
      gpointer d = e->write_data;
      e->write_func = NULL;
      update_events (e);
      f (d);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_source_funcs = {
  .dispatch = fd_source_dispatch,
};

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
      e->fd_source = g_source_new (&fd_source_funcs, sizeof (FdSource));
      ((FdSource *) e->fd_source)->end = e;
      e->fd_tag = g_source_add_unix_fd (e->fd_source, e->fd, 0);
      g_source_attach (e->fd_source, g_main_context_get_thread_default ());
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

void
mn_relay_end_free (MnRelayEnd *e)
{
  if (e == NULL)
    return;
  if (e->fd_source != NULL)
    {
      g_source_destroy (e->fd_source);
      g_source_unref (e->fd_source);
    }
  clear_tls_sources (e);
  /* Closing the socket itself: a TLS close_notify could block on a peer
   * that does not read, and a proxy gains nothing from sending it. */
  g_socket_close (e->socket, NULL);
  g_object_unref (e->socket);
  g_object_unref (e->stream);
  g_free (e->last_error);
  g_free (e);
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
            return n;
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MN_RELAY_IO_AGAIN;
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
            return MN_RELAY_IO_AGAIN;
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
      update_events (e);
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
      update_events (e);
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
  else
    update_events (e);
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

const gchar *
mn_relay_end_last_error (MnRelayEnd *e)
{
  return e->last_error != NULL ? e->last_error : "connection closed";
}
