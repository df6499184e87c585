/* relay-harness.h: runs minna-relay and real upstream servers in a
 * background thread with its own main context, on ephemeral ports, so the
 * test's main thread can talk to them with blocking clients. */
#pragma once

#include <libsoup/soup.h>

#include "mn-relay.h"

typedef struct {
  gchar   *dir;            /* temporary directory with the secrets */
  gchar   *secret_path;
  gchar   *key_path;
  gchar   *secret;
} Harness;

Harness *harness_new (void);
void     harness_free (Harness *h);

/* Runs @func(@data) in the server thread and waits for it. */
void     harness_invoke (GSourceFunc func, gpointer data);

/* A relay with plain HTTP (and optionally HTTPS) on 127.0.0.1:0 plus the
 * given "key=value" overrides; NULL with @error on failure. */
MnRelay *harness_relay_start (Harness *h, const gchar *const *overrides, GError **error);
void     harness_relay_stop (MnRelay *relay);

/* The built-in upstream: a SoupServer answering every path with what it
 * saw (path, auth, cookie, forwarded headers) and a WebSocket echo at
 * /s/ws1/echo. */
guint16  harness_upstream_start (void);
void     harness_upstream_stop (void);

/* A stand-in controller answering GET /api/v1/routes with @routes_json
 * when the bearer matches, and portal pages elsewhere. */
guint16  harness_controller_start (const gchar *secret, const gchar *routes_json);
void     harness_controller_stop (void);

/* Blocking HTTP from the test thread; returns the status. */
guint    harness_http (const gchar *method, const gchar *url, const gchar *const *headers,
                       const gchar *body, gchar **response_body,
                       SoupMessageHeaders **response_headers);

/* Raw request text to 127.0.0.1:@port; returns the status (0 on failure)
 * and the whole answer. */
guint    harness_raw (guint16 port, const gchar *request, gchar **response);
/* Resident set size of this process, kB; peak since the last reset. */
gint64   harness_rss_kb (void);
gint64   harness_peak_rss_kb (void);
void     harness_reset_peak_rss (void);

/* A login of @user for @lifetime seconds (negative: already expired), put
 * into every relay the harness runs (and starts later), as the controller
 * pushes logins; returns "minna_session=VALUE". */
gchar   *harness_cookie (Harness *h, const gchar *user, gint64 lifetime);
/* A relay the test made itself: it gets the logins too, and
 * harness_relay_stop stops it. */
void     harness_relay_adopt (MnRelay *relay);
guint    harness_admin (MnRelay *relay, Harness *h, const gchar *method, const gchar *path,
                        const gchar *body, gchar **response_body);
