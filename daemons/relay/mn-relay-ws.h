/* mn-relay-ws.h: follows the frames of a relayed WebSocket (RFC 6455 5.2)
 * without buffering them, so that neither side is handed frames its peer
 * could not have sent: unmasked frames from a browser, masked ones from an
 * app, reserved bits or opcodes, fragmented or oversized control frames, a
 * continuation outside a message, anything after a Close.  Payloads pass
 * untouched (no unmasking, no UTF-8 check).  No I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint8   state;
  guint8   hdr[14];
  guint8   hdr_len, hdr_need;
  gboolean from_client;     /* frames must be masked */
  gboolean rsv1_allowed;    /* an extension (permessage-deflate) was agreed */
  gboolean in_message;      /* a fragmented data message is open */
  gboolean closed;          /* a Close frame went by */
  guint64  remaining;       /* payload bytes of the current frame */
} MnRelayWs;

void     mn_relay_ws_init (MnRelayWs *ws, gboolean from_client, gboolean rsv1_allowed);
/* FALSE (with *@why, may be NULL) when the bytes break the framing rules. */
gboolean mn_relay_ws_feed (MnRelayWs *ws, const guint8 *data, gsize len, const gchar **why);

G_END_DECLS
