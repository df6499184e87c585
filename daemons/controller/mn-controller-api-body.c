/* mn-controller-api-body.c: request bodies checked as they come (issue 15
 * item 7): a body over MAX_BODY is refused before it is buffered. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

#include <string.h>

/* ---- request bodies: checked as they come (issue 15 item 7) ---------------------- */

/* A body over MAX_BODY is never buffered: a Content-Length over it is
 * answered before a byte of the body is read, a chunked body as soon as it
 * grows past it.  libsoup would read (and keep) the whole body before any
 * handler runs, so the connection is taken from it, the 413 written by
 * hand, and the rest of the upload read and thrown away for a moment (a
 * reset could destroy the answer in the client's buffer) before it closes. */

#define LINGER_BYTES (1024 * 1024)
#define LINGER_MS 2000

typedef struct {
  GIOStream *stream;
  GSource   *source;    /* input readable */
  guint      timeout;
  gsize      drained;
} Linger;

static void
linger_end (Linger *l)
{
  if (l->timeout != 0)
    g_source_remove (l->timeout);
  g_source_destroy (l->source);
  g_source_unref (l->source);
  g_io_stream_close (l->stream, NULL, NULL);
  g_object_unref (l->stream);
  g_free (l);
}

static gboolean
linger_read (GObject *pollable, gpointer data)
{
  Linger *l = data;
  gchar buf[16384];
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (pollable),
                                                           buf, sizeof buf, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n <= 0 || (l->drained += (gsize) n) >= LINGER_BYTES)
        break;
    }
  linger_end (l);
  return G_SOURCE_REMOVE;
}

static gboolean
linger_timeout (gpointer data)
{
  Linger *l = data;
  l->timeout = 0;
  linger_end (l);
  return G_SOURCE_REMOVE;
}

static void
refuse_body (MnControllerApi *api, SoupServerMessage *msg, const gchar *why)
{
  g_autofree gchar *body = g_strdup_printf ("{\"error\": \"request body %s (at most %d bytes)\"}",
                                            why, MAX_BODY);
  g_autofree gchar *answer = g_strdup_printf ("HTTP/1.1 413 Content Too Large\r\n"
                                              "Content-Type: application/json\r\n"
                                              "Cache-Control: no-store\r\nConnection: close\r\n"
                                              "Content-Length: %zu\r\n\r\n%s",
                                              strlen (body), body);
  GIOStream *stream = soup_server_message_steal_connection (msg);
  GOutputStream *out;
  GInputStream *in;
  Linger *l;
  api->bodies_refused++;
  if (stream == NULL)
    return;
  out = g_io_stream_get_output_stream (stream);
  in = g_io_stream_get_input_stream (stream);
  /* a few hundred bytes into an empty send buffer: does not block */
  if (!g_output_stream_write_all (out, answer, strlen (answer), NULL, NULL, NULL) ||
      !G_IS_POLLABLE_INPUT_STREAM (in))
    {
      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
      return;
    }
  g_output_stream_flush (out, NULL, NULL);
  if (G_IS_SOCKET_CONNECTION (stream))
    g_socket_shutdown (g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream)), FALSE, TRUE,
                       NULL);
  l = g_new0 (Linger, 1);
  l->stream = stream;
  l->source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (in), NULL);
  g_source_set_callback (l->source, (GSourceFunc) (void (*) (void)) linger_read, l, NULL);
  g_source_attach (l->source, g_main_context_get_thread_default ());
  l->timeout = g_timeout_add (LINGER_MS, linger_timeout, l);
}

static void
body_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  MnControllerApi *api = data;
  /* the chunk is already in the body (libsoup appends, then signals) */
  if (soup_server_message_get_request_body (msg)->length > MAX_BODY)
    {
      g_signal_handlers_disconnect_by_func (msg, body_chunk, api);
      refuse_body (api, msg, "grew too large");
    }
}

void
mn_api_body_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
       gpointer data)
{
  MnControllerApi *api = data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (h) > MAX_BODY)
    return refuse_body (api, msg, "too large");
  g_signal_connect (msg, "got-chunk", G_CALLBACK (body_chunk), api);
}
