/* sec-relay-util.h: what the relay's hostile-client tests share: the real
 * minna-relay (and, where a portal is needed, the real minna-controller)
 * started as processes on free loopback ports, raw blocking sockets to
 * attack them with, and a small HTTP app server run by the test that can
 * behave like a compromised app.  Every process started here dies with the
 * test (PR_SET_PDEATHSIG) and the supervising parent removes the test
 * directory, also when an assertion aborted the tests. */
#pragma once

#include <gio/gio.h>

#include "mn-auth-cookie.h"

G_BEGIN_DECLS

typedef struct {
  gchar     *dir;            /* the test's directory (removed at the end) */
  gchar     *relay_bin, *controller_bin;
  GPid       relay_pid, controller_pid;
  guint16    http_port, https_port, admin_port, controller_port;
  gchar     *secret, *secret_path, *key_path;
  gchar     *access_log, *relay_log, *state_dir;
  MnAuthKey *key;
} SecEnv;

extern SecEnv sec;

/* g_test_init, the directory and the secrets; forks: returns -1 in the
 * child that runs the tests, or (in the parent) the child's exit status
 * after cleaning up. */
int      sec_init (int *argc, char ***argv, const gchar *name);

/* The real minna-relay with plain HTTP on a free port (and HTTPS when
 * @https), the access log in sec.access_log, plus "--key=value" @extra
 * arguments; waits until it answers.  @umask_value is applied to the child
 * (-1 keeps the test's). */
void     sec_relay_start (gboolean https, const gchar *const *extra, gint umask_value);
void     sec_relay_stop (void);
/* The real minna-controller (local backend) with the users given as
 * "name:password" and the relay's admin API; start it before the relay. */
void     sec_controller_start (const gchar *const *users);
void     sec_controller_stop (void);

/* A route through the relay's admin API; asserts 204. */
void     sec_route_put (const gchar *id, guint16 port, const gchar *owner, const gchar *token);
/* "minna_session=..." for a login of @user, put into the running relay. */
gchar   *sec_cookie (const gchar *user);
/* Origin header line ("Origin: http://127.0.0.1:PORT\r\n") for the plain
 * listener. */
gchar   *sec_origin_line (void);

/* ---- raw sockets ---- */
int      sec_connect (guint16 port);
/* From a chosen loopback source address (127.0.0.2 etc.). */
int      sec_connect_from (const gchar *source, guint16 port);
void     sec_send (int fd, const gchar *data, gssize len);
/* Sends without failing the test when the peer already closed. */
gboolean sec_try_send (int fd, const gchar *data, gssize len);

typedef struct {
  guint    status;          /* 0: no response */
  gchar   *head;            /* status line and fields, NUL-terminated */
  GString *body;
  gboolean closed;          /* the relay ended the connection after it */
} SecResponse;

/* One response (Content-Length, chunked or to the end); FALSE when the
 * connection ended (or @timeout_ms passed) before a whole one came. */
gboolean sec_read_response (int fd, SecResponse *r, gboolean head_request, guint timeout_ms);
void     sec_response_clear (SecResponse *r);
/* The value of a response field (first), or NULL. */
gchar   *sec_response_field (const SecResponse *r, const gchar *name);
/* TRUE when the peer ends the connection within @timeout_ms (data before
 * the end is dropped). */
gboolean sec_wait_closed (int fd, guint timeout_ms);
/* Sends @request on a new connection; returns the status (0 when none)
 * and whether the relay closed the connection right after. */
guint    sec_exchange (guint16 port, const gchar *request, gsize len, SecResponse *r);

/* ---- an app server run by the test ----
 * Accepts connections in a thread each; for every request (head, and the
 * body by Content-Length or chunked) it calls @handler, which writes the
 * raw answer itself.  All bytes received are kept for the test to check. */
typedef struct _SecApp SecApp;
typedef struct {
  const gchar *head;        /* request head, NUL-terminated */
  const gchar *method, *path;
  const guint8 *body;
  gsize        body_len;
  guint        n;            /* request number on this connection, from 1 */
  guint        conn_id;
} SecAppRequest;
typedef void (*SecAppHandler) (SecApp *app, int fd, const SecAppRequest *req, gpointer data);

SecApp  *sec_app_start (SecAppHandler handler, gpointer data);
guint16  sec_app_port (SecApp *app);
/* Every byte the app received so far, all connections in order of arrival. */
GString *sec_app_received (SecApp *app);
guint    sec_app_requests (SecApp *app);
void     sec_app_stop (SecApp *app);
/* A handler: 200, "ok <path>" as the body, keep-alive. */
void     sec_app_echo (SecApp *app, int fd, const SecAppRequest *req, gpointer data);

/* Waits until @pred (@data) is TRUE, polling every 10 ms; FALSE after @ms. */
gboolean sec_wait_for (gboolean (*pred) (gpointer), gpointer data, guint ms);
/* The relay's access log as it is now. */
gchar   *sec_access_log (void);

G_END_DECLS
