/* fuzz-relay.c: libFuzzer harnesses for what minna-relay reads from the
 * network (daemons/relay): request and response heads (and the checks
 * that run on their fields: path, Origin, cookies, Set-Cookie, the log
 * line), chunked bodies and WebSocket frames.  Built once per target with
 * -DFUZZ_TARGET=0..3 by run-fuzz-relay.sh.
 *
 * Besides "no crash, no leak, no undefined behaviour", each checks what
 * the relay relies on:
 *   - a head it accepts has token names and values without CR, LF or NUL,
 *     one framing at most, and a Host where HTTP/1.1 needs one;
 *   - the chunked filter never writes past what it read, its output is
 *     plain chunked (no extension, no trailer) that the filter passes
 *     through unchanged, and it gives the same answer however the input is
 *     cut into reads;
 *   - the WebSocket follower gives the same answer however the input is
 *     cut. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "mn-relay-head.h"
#include "mn-relay-http.h"
#include "mn-relay-log.h"
#include "mn-relay-ws.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#ifndef FUZZ_TARGET
#define FUZZ_TARGET 0
#endif

static void
check_fields (const MnRelayHead *h)
{
  for (guint i = 0; i < h->n_fields; i++)
    {
      const MnRelayField *f = &h->fields[i];
      g_assert (f->name[0] != '\0');
      for (const gchar *p = f->name; *p != '\0'; p++)
        g_assert (mn_relay_is_tchar ((guchar) *p));
      g_assert (strlen (f->value) == f->value_len);
      for (const gchar *p = f->value; *p != '\0'; p++)
        g_assert (*p != '\r' && *p != '\n' && *p != 0x7f);
    }
  g_assert (!(h->has_length && h->chunked));
}

/* The checks the relay runs on a request's fields, on whatever parsed. */
static void
fuzz_request_fields (const MnRelayHead *h)
{
  g_autofree gchar *id = NULL;
  g_autofree gchar *logged = mn_relay_log_target (h->target);
  mn_relay_http_classify_path (h->target, &id);
  g_assert (id == NULL || mn_relay_session_id_valid (id));
  for (const gchar *p = logged; *p != '\0'; p++)
    g_assert ((guchar) *p >= 0x20 && (guchar) *p < 0x7f && *p != ' ' && *p != '"');
  g_autofree gchar *next = mn_relay_http_escape_next (h->target);
  const gchar *origin = mn_relay_head_value (h, MN_RELAY_F_ORIGIN);
  const gchar *host = mn_relay_head_value (h, MN_RELAY_F_HOST);
  mn_relay_http_same_origin (origin, "", "https", host);
  mn_relay_http_same_origin (origin, "https://portal.example:8443", "http", host);
  for (guint i = 0; i < h->n_fields; i++)
    if (h->fields[i].id == MN_RELAY_F_COOKIE)
      {
        g_autofree gchar *v = mn_relay_cookie_get (h->fields[i].value, "minna_session");
        g_autofree gchar *rest = mn_relay_cookie_strip (h->fields[i].value, "minna_session");
      }
  mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "close");
  mn_relay_head_has_token (h, MN_RELAY_F_UPGRADE, "websocket");
}

static void
fuzz_head (const uint8_t *data, size_t size, gboolean request)
{
  gssize end = mn_relay_http_head_end ((const gchar *) data, size, 0);
  if (end <= 0)
    return;
  g_autofree gchar *buf = g_memdup2 (data, (gsize) end);
  g_autofree MnRelayHead *h = g_new (MnRelayHead, 1);
  const gchar *why = NULL;
  MnRelayHeadResult r = request ? mn_relay_head_parse_request (buf, (gsize) end, h, &why)
                                : mn_relay_head_parse_response (buf, (gsize) end, h, &why);
  if (r != MN_RELAY_HEAD_OK)
    {
      g_assert (why != NULL);
      return;
    }
  check_fields (h);
  if (request)
    {
      g_assert (h->method != NULL && h->target != NULL);
      g_assert (h->minor == 0 || mn_relay_head_value (h, MN_RELAY_F_HOST) != NULL);
      fuzz_request_fields (h);
    }
  else
    {
      g_assert (h->status >= 100 && h->status <= 599);
      for (guint i = 0; i < h->n_fields; i++)
        if (h->fields[i].id == MN_RELAY_F_SET_COOKIE)
          mn_relay_http_app_cookie_ok (h->fields[i].value, "abc");
    }
}

/* Filters @data in reads of @step bytes; the output and what was read. */
static MnRelayChunkedResult
filter_steps (const uint8_t *data, size_t size, gsize step, GString *out, gsize *read)
{
  g_autofree guint8 *buf = g_memdup2 (data, size);
  MnRelayChunked c;
  MnRelayChunkedResult r = MN_RELAY_CHUNKED_MORE;
  mn_relay_chunked_init (&c);
  *read = 0;
  for (gsize i = 0; i < size && r == MN_RELAY_CHUNKED_MORE; i += step)
    {
      gsize n = MIN (step, size - i), used = 0, pass = 0;
      r = mn_relay_chunked_filter (&c, buf + i, n, &used, &pass);
      g_assert (used <= n && pass <= used);
      if (r != MN_RELAY_CHUNKED_ERROR)
        {
          g_string_append_len (out, (const gchar *) buf + i, (gssize) pass);
          *read += used;
        }
      if (r == MN_RELAY_CHUNKED_DONE)
        g_assert (memcmp (buf + i + used, data + i + used, n - used) == 0);
    }
  return r;
}

static void
fuzz_chunked (const uint8_t *data, size_t size)
{
  gsize step = 1 + size % 13;
  g_autoptr(GString) whole = g_string_new (NULL);
  g_autoptr(GString) pieces = g_string_new (NULL);
  gsize read_whole = 0, read_pieces = 0;
  MnRelayChunkedResult r1 = filter_steps (data, size, size > 0 ? size : 1, whole, &read_whole);
  MnRelayChunkedResult r2 = filter_steps (data, size, step, pieces, &read_pieces);
  g_assert (r1 == r2);
  if (r1 == MN_RELAY_CHUNKED_ERROR)
    return;
  g_assert (read_whole == read_pieces);
  g_assert (whole->len == pieces->len && memcmp (whole->str, pieces->str, whole->len) == 0);
  if (r1 == MN_RELAY_CHUNKED_DONE)
    {
      /* plain chunked: the filter has nothing more to take out */
      g_autoptr(GString) again = g_string_new (NULL);
      gsize read_again = 0;
      g_assert (filter_steps ((const uint8_t *) whole->str, whole->len, whole->len, again,
                              &read_again) == MN_RELAY_CHUNKED_DONE);
      g_assert (read_again == whole->len);
      g_assert (again->len == whole->len && memcmp (again->str, whole->str, whole->len) == 0);
      g_assert (whole->len >= 5 && memcmp (whole->str + whole->len - 5, "0\r\n\r\n", 5) == 0);
    }
}

static void
fuzz_ws_one (const uint8_t *data, size_t size, gboolean from_client, gboolean rsv1)
{
  gsize step = 1 + size % 29;
  MnRelayWs a, b;
  mn_relay_ws_init (&a, from_client, rsv1);
  mn_relay_ws_init (&b, from_client, rsv1);
  const gchar *why = NULL;
  gboolean ok_whole = mn_relay_ws_feed (&a, data, size, &why);
  gboolean ok_pieces = TRUE;
  for (gsize i = 0; i < size && ok_pieces; i += step)
    ok_pieces = mn_relay_ws_feed (&b, data + i, MIN (step, size - i), &why);
  g_assert (ok_whole == ok_pieces);
  if (ok_whole)
    g_assert (a.state == b.state && a.remaining == b.remaining && a.closed == b.closed);
}

/* Both directions, with and without an extension agreed. */
static void
fuzz_ws (const uint8_t *data, size_t size)
{
  for (guint k = 0; k < 4; k++)
    fuzz_ws_one (data, size, (k & 1) != 0, (k & 2) != 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  switch (FUZZ_TARGET)
    {
    case 0:
      fuzz_head (data, size, TRUE);
      break;
    case 1:
      fuzz_head (data, size, FALSE);
      break;
    case 2:
      fuzz_chunked (data, size);
      break;
    default:
      fuzz_ws (data, size);
      break;
    }
  return 0;
}
