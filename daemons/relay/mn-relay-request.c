/* mn-relay-request.c: the client's request head: read into a bounded
 * buffer, parsed with libsoup's header parser, checked (origin, framing,
 * the route and its owner) and rewritten for the upstream. */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-conn.h"

#include <string.h>

/* ---- reading the request head ---- */

void
mn_relay_request_read_head_ready (gpointer data)
{
  mn_relay_request_read_head (data);
}

static void handle_request (Conn *c, gssize head_end);

/* Cross-site requests to apps (issue 15, item 8): every relayed request
 * carries the app's secret, so the app cannot tell a forged one.  Requests
 * that may change something (not GET, HEAD or OPTIONS) and WebSocket
 * upgrades must carry this site's own Origin, and a Sec-Fetch-Site, where a
 * browser sends one, must not say the request came from elsewhere. */
static gboolean
same_origin_ok (Conn *c, const MnRelayHead *h)
{
  const gchar *m = c->method;
  if (!c->is_ws && (g_str_equal (m, "GET") || g_str_equal (m, "HEAD") ||
                    g_str_equal (m, "OPTIONS")))
    return TRUE;
  const gchar *site = mn_relay_head_value (h, MN_RELAY_F_SEC_FETCH_SITE);
  if (site != NULL && (g_ascii_strcasecmp (site, "cross-site") == 0 ||
                       g_ascii_strcasecmp (site, "same-site") == 0))
    return FALSE;
  return mn_relay_http_same_origin (mn_relay_head_value (h, MN_RELAY_F_ORIGIN),
                                    c->relay->config->public_origin,
                                    c->tls ? "https" : "http",
                                    mn_relay_head_value (h, MN_RELAY_F_HOST));
}

/* All Cookie fields as one "a=b; c=d" list (RFC 6265 5.4, as HTTP/2
 * gateways join them). */
static gchar *
head_cookies (const MnRelayHead *h)
{
  if (h->count[MN_RELAY_F_COOKIE] <= 1)
    return g_strdup (mn_relay_head_value (h, MN_RELAY_F_COOKIE));
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < h->n_fields; i++)
    if (h->fields[i].id == MN_RELAY_F_COOKIE)
      {
        if (s->len > 0)
          g_string_append (s, "; ");
        g_string_append (s, h->fields[i].value);
      }
  return g_string_free (s, FALSE);
}

void
mn_relay_request_read_head (Conn *c)
{
  MnRelay *r = c->relay;
  gsize cap = r->head_size;

  c->state = ST_READ_HEAD;
  for (;;)
    {
      /* Empty lines before a request line are ignored (RFC 9112 2.2):
       * some clients send CRLF after a body. */
      while (c->head_len >= 2 && c->head[0] == '\r' && c->head[1] == '\n' &&
             c->n_crlf < 4)
        {
          memmove (c->head, c->head + 2, c->head_len - 2);
          c->head_len -= 2;
          c->n_crlf++;
        }
      if (c->head_len > 0)
        {
          gssize end = mn_relay_http_head_end (c->head, c->head_len, c->head_scan);
          if (end > 0)
            {
              handle_request (c, end);
              return;
            }
          c->head_scan = c->head_len;
          if (c->head_len >= cap)
            {
              c->keep_alive = FALSE;
              mn_relay_conn_respond (c, 431, NULL, "The request head is too large.");
              return;
            }
        }
      if (c->head == NULL)
        c->head = mn_relay_head_get (r);
      gssize n = mn_relay_end_read (c->client, (guint8 *) c->head + c->head_len,
                                    cap - c->head_len);
      if (n == MN_RELAY_IO_AGAIN)
        {
          /* Idle keep-alive connections hold no head buffer.  The deadline
           * stays where it is: progress does not move it (slowloris). */
          if (c->head_len == 0)
            mn_relay_conn_drop_head (c);
          mn_relay_end_want_read (c->client, mn_relay_request_read_head_ready, c);
          return;
        }
      if (n <= 0)
        {
          mn_relay_conn_close (c);
          return;
        }
      if (c->head_len == 0)
        {
          c->t_start = g_get_monotonic_time ();
          /* A head starts on a kept-alive connection: the whole of it must
           * come within read_timeout from now.  (The first request's clock
           * runs from the accept, the TLS mn_relay_proxy_handshake included.) */
          if (c->n_requests > 0)
            mn_relay_conn_set_deadline (c, r->config->read_timeout);
        }
      c->head_len += (gsize) n;
      c->bytes_in += (guint64) n;
      r->metrics.bytes_in += (guint64) n;
    }
}

/* Hop-by-hop fields (RFC 9110 7.6.1) are not forwarded; the framing
 * fields are written by the relay itself. */
gboolean
mn_relay_request_hop_by_hop (guint8 id)
{
  switch (id)
    {
    case MN_RELAY_F_CONNECTION:
    case MN_RELAY_F_KEEP_ALIVE:
    case MN_RELAY_F_PROXY_CONNECTION:
    case MN_RELAY_F_TE:
    case MN_RELAY_F_TRAILER:
    case MN_RELAY_F_UPGRADE:
    case MN_RELAY_F_PROXY_AUTHORIZATION:
    case MN_RELAY_F_PROXY_AUTHENTICATE:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The body's framing, as the relay passes it on: one form only. */
static void
append_framing (GString *o, const Body *b)
{
  if (b->kind == BODY_CHUNKED)
    g_string_append_len (o, "Transfer-Encoding: chunked\r\n", 28);
  else if (b->declared)
    {
      gchar line[48];
      gint n = g_snprintf (line, sizeof line, "Content-Length: %" G_GUINT64_FORMAT "\r\n",
                           b->remaining);
      g_string_append_len (o, line, n);
    }
}

/* Heads are rebuilt for every request: plain appends, no printf. */
void
mn_relay_request_append_header (GString *o, const gchar *name, const gchar *value)
{
  g_string_append (o, name);
  g_string_append_len (o, ": ", 2);
  g_string_append (o, value);
  g_string_append_len (o, "\r\n", 2);
}

static void
build_upstream_head (Conn *c, const MnRelayHead *h, const gchar *host_header)
{
  GString *o = mn_relay_string_get (c->relay);
  const gchar *xff = NULL;

  g_string_append (o, c->method);
  g_string_append_c (o, ' ');
  g_string_append (o, c->target);
  g_string_append_len (o, " HTTP/1.1\r\n", 11);
  append_framing (o, &c->req);
  for (guint i = 0; i < h->n_fields; i++)
    {
      const gchar *name = h->fields[i].name, *value = h->fields[i].value;
      guint8 id = h->fields[i].id;
      if (mn_relay_request_hop_by_hop (id) || id == MN_RELAY_F_CONTENT_LENGTH ||
          id == MN_RELAY_F_TRANSFER_ENCODING)
        continue;
      if (id == MN_RELAY_F_X_FORWARDED_FOR)
        {
          xff = value;
          continue;
        }
      if (id == MN_RELAY_F_X_FORWARDED_PROTO || id == MN_RELAY_F_X_FORWARDED_HOST ||
          id == MN_RELAY_F_X_REAL_IP)
        continue;
      /* Only the relay says it is the relay (X-Minna-App-Token to apps,
       * X-Minna-Relay-Proof to the portal). */
      if (g_ascii_strncasecmp (name, "X-Minna-", 8) == 0)
        continue;
      if (c->session != NULL)
        {
          /* The app authenticates the relay by its secret; the browser's own
           * credentials for the portal never reach it. */
          if (id == MN_RELAY_F_AUTHORIZATION)
            continue;
          if (id == MN_RELAY_F_COOKIE)
            {
              g_autofree gchar *rest = mn_relay_cookie_strip (value, MN_AUTH_COOKIE_NAME);
              if (rest != NULL)
                g_string_append_printf (o, "Cookie: %s\r\n", rest);
              continue;
            }
        }
      mn_relay_request_append_header (o, name, value);
    }
  /* Not Authorization: Jupyter echoes a token it accepted there into its
   * pages; apps/minna_jupyter_auth.py checks this header instead. */
  if (c->session != NULL && c->route->token[0] != '\0')
    mn_relay_request_append_header (o, MN_AUTH_APP_TOKEN_HEADER, c->route->token);
  /* The controller believes X-Forwarded-For from the relay only; apps
   * never see this. */
  if (c->session == NULL && c->relay->relay_proof != NULL)
    mn_relay_request_append_header (o, MN_AUTH_RELAY_PROOF_HEADER, c->relay->relay_proof);
  g_string_append (o, "X-Forwarded-For: ");
  if (xff != NULL)
    {
      g_string_append (o, xff);
      g_string_append_len (o, ", ", 2);
    }
  g_string_append (o, c->peer);
  g_string_append (o, c->tls ? "\r\nX-Forwarded-Proto: https\r\n"
                             : "\r\nX-Forwarded-Proto: http\r\n");
  if (host_header != NULL)
    mn_relay_request_append_header (o, "X-Forwarded-Host", host_header);
  if (c->is_ws)
    g_string_append (o, "Connection: Upgrade\r\nUpgrade: websocket\r\n");
  g_string_append (o, "\r\n");
  c->out = o;
  c->out_head = o->len;
}

static void
handle_request (Conn *c, gssize head_end)
{
  MnRelay *r = c->relay;
  MnRelayHead head;
  MnRelayHead *h = &head;
  const gchar *why = NULL;

  c->head_used = (gsize) head_end;
  c->head_scan = 0;
  c->n_requests++;
  c->keep_alive = FALSE;
  /* Anything that two parsers could read two ways is refused, and the
   * connection closed: nothing after it can be trusted to start a request. */
  MnRelayHeadResult hr = mn_relay_head_parse_request (c->head, (gsize) head_end, h, &why);
  if (hr != MN_RELAY_HEAD_OK)
    {
      static const guint codes[] = {
        [MN_RELAY_HEAD_BAD] = 400, [MN_RELAY_HEAD_TOO_MANY_FIELDS] = 431,
        [MN_RELAY_HEAD_VERSION] = 505, [MN_RELAY_HEAD_NOT_IMPLEMENTED] = 501,
      };
      g_debug ("%s: request refused: %s", c->peer, why);
      g_autofree gchar *msg = g_strdup_printf ("The request could not be read unambiguously "
                                               "(%s).", why);
      mn_relay_conn_respond (c, codes[hr], NULL, msg);
      return;
    }
  c->method = g_strdup (h->method);
  c->target = g_strdup (h->target);
  c->is_head = g_str_equal (c->method, "HEAD");
  if (h->minor >= 1)
    c->keep_alive = !mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "close");
  else
    c->keep_alive = mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "keep-alive");

  /* Body framing: the parser has refused every ambiguous form. */
  if (h->chunked)
    {
      c->req.kind = BODY_CHUNKED;
      mn_relay_chunked_init (&c->req.chunked);
    }
  else if (h->has_length)
    {
      c->req.declared = TRUE;
      c->req.remaining = h->content_length;
      c->req.kind = c->req.remaining > 0 ? BODY_LENGTH : BODY_NONE;
    }
  c->req.done = c->req.kind == BODY_NONE;
  /* Replayable while every byte sent up is also kept in c->out. */
  c->replayable = !(c->req.kind == BODY_LENGTH && c->req.remaining > REPLAY_BODY_MAX);
  c->is_ws = mn_relay_head_has_token (h, MN_RELAY_F_UPGRADE, "websocket") &&
             mn_relay_head_has_token (h, MN_RELAY_F_CONNECTION, "upgrade");

  if (g_str_equal (c->method, "CONNECT") || c->target[0] != '/')
    {
      mn_relay_conn_respond (c, 400, NULL, "This is not a forward proxy.");
      return;
    }

  g_autofree gchar *id = NULL;
  switch (mn_relay_http_classify_path (c->target, &id))
    {
    case MN_RELAY_PATH_BAD:
      mn_relay_conn_respond (c, 400, NULL, "The path is not allowed.");
      return;
    case MN_RELAY_PATH_ADD_SLASH:
      {
        const gchar *q = strchr (c->target, '?');
        g_autofree gchar *loc = g_strdup_printf ("Location: /s/%s/%s\r\n", id, q != NULL ? q : "");
        c->session = g_steal_pointer (&id);
        mn_relay_conn_respond (c, 301, loc, "Moved.");
        return;
      }
    case MN_RELAY_PATH_SESSION:
      {
        gint64 now = g_get_real_time () / G_USEC_PER_SEC;
        c->session = g_steal_pointer (&id);
        if (!same_origin_ok (c, h))
          {
            mn_relay_conn_respond (c, 403, NULL, "Requests that change something in an app, and "
                     "WebSockets to it, must come from this site's own pages.");
            return;
          }
        c->route = mn_relay_routes_lookup (r->routes, c->session, now);
        if (c->route == NULL && r->routes_loading)
          {
            c->keep_alive = FALSE;
            mn_relay_conn_respond (c, 503, "Retry-After: 1\r\n",
                     "The relay is starting and loading its routes; try again in a moment.");
            return;
          }
        if (c->route == NULL)
          {
            mn_relay_conn_respond (c, 404, NULL, "There is no such session (it may have ended).");
            return;
          }
        g_autofree gchar *cookie_header = head_cookies (h);
        if (cookie_header != NULL)
          c->user = g_strdup (mn_relay_cookie_user (r, cookie_header, now));
        if (c->user == NULL)
          {
            g_autofree gchar *next = mn_relay_http_escape_next (c->target);
            g_autofree gchar *loc = g_strdup_printf ("Location: %s?next=%s\r\n",
                                                     r->config->login_path, next);
            mn_relay_conn_respond (c, 302, loc, "Please log in to the portal first.");
            return;
          }
        if (!g_str_equal (c->user, c->route->owner))
          {
            mn_relay_conn_respond (c, 403, NULL, "This session belongs to another user.");
            return;
          }
        c->route->last_activity = now;
        g_free (c->up_key);
        c->up_key = g_strdup (c->route->pool_key);
        break;
      }
    case MN_RELAY_PATH_PORTAL:
    default:
      if (r->controller_host == NULL)
        {
          mn_relay_conn_respond (c, 404, NULL, "No portal is configured here.");
          return;
        }
      g_free (c->up_key);
      c->up_key = g_strdup (r->controller_key);
      break;
    }

  build_upstream_head (c, h, mn_relay_head_value (h, MN_RELAY_F_HOST));
  c->state = ST_CONNECTING;
  mn_relay_forward_start (c);
}
