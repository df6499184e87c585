/* mn-relay-io.h: one end of a relayed connection (a client's, plain or TLS,
 * or an upstream's), read and written without blocking.  Plain sockets use
 * recv/send on the descriptor and one persistent main-loop source, so the
 * hot path allocates nothing; TLS ends go through GIO's pollable streams. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MN_RELAY_IO_AGAIN (-2)
#define MN_RELAY_IO_ERROR (-1)

typedef void (*MnRelayEndFunc) (gpointer data);

typedef struct _MnRelayEnd MnRelayEnd;

/* Takes a reference on @stream (a GSocketConnection or a GTlsConnection
 * over one); @socket is the socket underneath. */
MnRelayEnd *mn_relay_end_new (GIOStream *stream, GSocket *socket);
/* Closes the socket and frees the end. */
void        mn_relay_end_free (MnRelayEnd *end);

/* > 0 bytes, 0 at end of stream, MN_RELAY_IO_AGAIN or MN_RELAY_IO_ERROR. */
gssize mn_relay_end_read (MnRelayEnd *end, guint8 *buf, gsize len);
gssize mn_relay_end_write (MnRelayEnd *end, const guint8 *buf, gsize len);

/* One-shot waits; a new wait replaces the old one of the same direction. */
void mn_relay_end_want_read (MnRelayEnd *end, MnRelayEndFunc func, gpointer data);
void mn_relay_end_want_write (MnRelayEnd *end, MnRelayEndFunc func, gpointer data);
void mn_relay_end_cancel (MnRelayEnd *end);

/* For pooled upstream connections: TRUE when the peer closed it or sent
 * something unasked (either way it cannot carry a new request). */
gboolean mn_relay_end_is_stale (MnRelayEnd *end);
const gchar *mn_relay_end_last_error (MnRelayEnd *end);
/* TRUE when the last read of a plain end was short, so the socket is empty:
 * waiting needs no read that fails first, as edge-triggered epoll reports
 * every new arrival. */
gboolean mn_relay_end_drained (MnRelayEnd *end);
/* Sends the end of stream (plain ends; TLS ends are left alone). */
void     mn_relay_end_shutdown_write (MnRelayEnd *end);
gboolean mn_relay_end_is_tls (MnRelayEnd *end);

G_END_DECLS
