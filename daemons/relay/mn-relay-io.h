/* mn-relay-io.h: the relay's event loop surface.  One end of a relayed
 * connection (a client's, plain or TLS, or an upstream's) is read and
 * written without blocking; every end and every listening socket sits in
 * one edge-triggered epoll set per thread, itself one fd in the GLib main
 * context, so the hot path allocates nothing and GLib polls one fd however
 * many connections are open.  TLS is OpenSSL directly on the non-blocking
 * descriptor (no GIO streams, buffers released when idle), so an idle TLS
 * connection costs about what a plain one does. */
#pragma once

#include <gio/gio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

G_BEGIN_DECLS

#define MN_RELAY_IO_AGAIN (-2)
#define MN_RELAY_IO_ERROR (-1)

typedef void (*MnRelayEndFunc) (gpointer data);

typedef struct _MnRelayEnd MnRelayEnd;

/* An upstream end: takes a reference on @stream (a GSocketConnection) and
 * @socket, the socket underneath. */
MnRelayEnd *mn_relay_end_new (GIOStream *stream, GSocket *socket);
/* A client end on the non-blocking descriptor @fd (owned from now on);
 * with @ssl (owned too) it is a TLS server end, still to do its handshake. */
MnRelayEnd *mn_relay_end_new_fd (int fd, SSL *ssl);
/* Closes the descriptor and frees the end. */
void        mn_relay_end_free (MnRelayEnd *end);

/* > 0 bytes, 0 at end of stream, MN_RELAY_IO_AGAIN or MN_RELAY_IO_ERROR. */
gssize mn_relay_end_read (MnRelayEnd *end, guint8 *buf, gsize len);
gssize mn_relay_end_write (MnRelayEnd *end, const guint8 *buf, gsize len);
/* TLS ends: 1 when the handshake is done, MN_RELAY_IO_AGAIN (wait with
 * mn_relay_end_want_handshake) or MN_RELAY_IO_ERROR. */
gssize mn_relay_end_handshake (MnRelayEnd *end);

/* One-shot waits; a new wait replaces the old one of the same direction.
 * A TLS end whose last read needed to write (or the reverse) is woken by
 * what it needs. */
void mn_relay_end_want_read (MnRelayEnd *end, MnRelayEndFunc func, gpointer data);
void mn_relay_end_want_write (MnRelayEnd *end, MnRelayEndFunc func, gpointer data);
/* Waits for what the handshake asked for last (readable or writable). */
void mn_relay_end_want_handshake (MnRelayEnd *end, MnRelayEndFunc func, gpointer data);
void mn_relay_end_cancel (MnRelayEnd *end);

/* For pooled upstream connections: TRUE when the peer closed it or sent
 * something unasked (either way it cannot carry a new request).  Asks the
 * socket only when the end went quiet (mn_relay_end_mark_quiet) in the
 * current dispatch round; otherwise the events taken since say it. */
gboolean mn_relay_end_is_stale (MnRelayEnd *end);
/* The end was just found quiet (mn_relay_end_is_quiet) and is put aside. */
void     mn_relay_end_mark_quiet (MnRelayEnd *end);
/* TRUE when nothing is known to wait in the socket: the last read was short
 * or failed with EAGAIN, and no event (data, the peer's end) came since.
 * No syscall: for a connection about to go back to the pool. */
gboolean mn_relay_end_is_quiet (MnRelayEnd *end);
const gchar *mn_relay_end_last_error (MnRelayEnd *end);
/* TRUE when the last read of a plain end was short, so the socket is empty:
 * waiting needs no read that fails first, as edge-triggered epoll reports
 * every new arrival. */
gboolean mn_relay_end_drained (MnRelayEnd *end);
/* Sends the end of stream (plain ends; TLS ends are left alone). */
void     mn_relay_end_shutdown_write (MnRelayEnd *end);
gboolean mn_relay_end_is_tls (MnRelayEnd *end);
/* For an end nothing reads while its request is answered, woken by a
 * read wait: TRUE when its peer is gone (a plain end: a peek reads the end
 * of the stream, or the connection failed); FALSE otherwise.  Whatever it
 * sent meanwhile (a pipelined request, a TLS record) stays for the next
 * read, and the next read wait fires at once. */
gboolean mn_relay_end_peer_gone (MnRelayEnd *end);

/* Monotonic and wall-clock time (µs) as of the current dispatch round:
 * what deadlines and "last activity" need, without a clock read per use. */
gint64 mn_relay_clock_now (void);
gint64 mn_relay_clock_wall (void);

/* A listening socket in the same epoll set: @func gets each accepted
 * connection's non-blocking descriptor and address. */
typedef void (*MnRelayAcceptFunc) (int fd, const struct sockaddr *addr, socklen_t len,
                                   gpointer data);
typedef struct _MnRelayListener MnRelayListener;
/* Takes @fd, a listening socket. */
MnRelayListener *mn_relay_listener_new (int fd, MnRelayAcceptFunc func, gpointer data);
void             mn_relay_listener_free (MnRelayListener *listener);

G_END_DECLS
