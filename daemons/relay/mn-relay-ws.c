/* mn-relay-ws.c: the WebSocket frame follower (see the header). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-ws.h"

#include <string.h>

enum { WS_HEADER, WS_PAYLOAD, WS_AFTER_CLOSE };

void
mn_relay_ws_init (MnRelayWs *ws, gboolean from_client, gboolean rsv1_allowed)
{
  memset (ws, 0, sizeof *ws);
  ws->from_client = from_client;
  ws->rsv1_allowed = rsv1_allowed;
  ws->state = WS_HEADER;
  ws->hdr_need = 2;
}

static gboolean
bad (const gchar **why, const gchar *reason)
{
  if (why != NULL)
    *why = reason;
  return FALSE;
}

/* The frame header is complete in ws->hdr: check it and start its payload. */
static gboolean
frame_start (MnRelayWs *ws, const gchar **why)
{
  guint8 b0 = ws->hdr[0], b1 = ws->hdr[1];
  gboolean fin = (b0 & 0x80) != 0;
  guint8 opcode = b0 & 0x0f;
  gboolean control = (opcode & 0x08) != 0;
  guint64 len = b1 & 0x7f;

  if (len == 126)
    len = ((guint64) ws->hdr[2] << 8) | ws->hdr[3];
  else if (len == 127)
    {
      len = 0;
      for (guint i = 2; i < 10; i++)
        len = (len << 8) | ws->hdr[i];
    }
  if ((b0 & 0x30) != 0)
    return bad (why, "reserved bits RSV2/RSV3 set");
  if ((b0 & 0x40) != 0 && (!ws->rsv1_allowed || control || opcode == 0))
    return bad (why, "RSV1 set without an extension agreed, or on a control or continuation frame");
  if (opcode > 2 && opcode != 8 && opcode != 9 && opcode != 10)
    return bad (why, "reserved opcode");
  if (control && (!fin || len > 125))
    return bad (why, "fragmented or oversized control frame");
  if (opcode == 0 && !ws->in_message)
    return bad (why, "continuation frame outside a message");
  if ((opcode == 1 || opcode == 2) && ws->in_message)
    return bad (why, "new data frame inside a fragmented message");
  if (!control)
    ws->in_message = !fin;
  if (opcode == 8)
    ws->closed = TRUE;
  ws->remaining = len;
  ws->state = WS_PAYLOAD;
  return TRUE;
}

gboolean
mn_relay_ws_feed (MnRelayWs *ws, const guint8 *data, gsize len, const gchar **why)
{
  gsize i = 0;
  while (i < len)
    {
      switch (ws->state)
        {
        case WS_AFTER_CLOSE:
          return bad (why, "bytes after a Close frame");
        case WS_PAYLOAD:
          {
            gsize take = (gsize) MIN ((guint64) (len - i), ws->remaining);
            i += take;
            ws->remaining -= take;
            break;
          }
        case WS_HEADER:
          ws->hdr[ws->hdr_len++] = data[i++];
          if (ws->hdr_len == 2)
            {
              guint8 b1 = ws->hdr[1];
              gboolean masked = (b1 & 0x80) != 0;
              if (masked != ws->from_client)
                return bad (why, ws->from_client ? "unmasked frame from the client"
                                                 : "masked frame from the server");
              guint8 l7 = b1 & 0x7f;
              ws->hdr_need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (masked ? 4 : 0);
            }
          if (ws->hdr_len == 3 && (ws->hdr[1] & 0x7f) == 127 && (ws->hdr[2] & 0x80) != 0)
            return bad (why, "64-bit length with its high bit set");
          if (ws->hdr_len < ws->hdr_need)
            continue;
          if (!frame_start (ws, why))
            return FALSE;
          ws->hdr_len = 0;
          ws->hdr_need = 2;
          break;
        }
      if (ws->state == WS_PAYLOAD && ws->remaining == 0)
        ws->state = ws->closed ? WS_AFTER_CLOSE : WS_HEADER;
    }
  /* A frame with an empty payload ends with its header. */
  if (ws->state == WS_PAYLOAD && ws->remaining == 0)
    ws->state = ws->closed ? WS_AFTER_CLOSE : WS_HEADER;
  return TRUE;
}
