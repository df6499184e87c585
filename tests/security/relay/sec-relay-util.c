/* sec-relay-util.c: see sec-relay-util.h. */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "relay-security"

#include "sec-relay-util.h"
#include "controller-test-util.h"

#include <json-glib/json-glib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

SecEnv sec;

static void
clean_up (void)
{
  mn_test_remove_dir (sec.dir);
}

int
sec_init (int *argc, char ***argv, const gchar *name)
{
  g_autoptr(GError) error = NULL;
  g_test_init (argc, argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  g_assert_nonnull (build);
  g_autofree gchar *tmpl = g_strdup_printf ("minna-sec-%s-XXXXXX", name);
  sec.dir = g_dir_make_tmp (tmpl, &error);
  g_assert_no_error (error);
  /* Another build of the relay can be attacked the same way (an older one,
   * to show that a test reproduces what it guards against). */
  const gchar *other = g_getenv ("MINNA_SECURITY_RELAY_BIN");
  sec.relay_bin = other != NULL ? g_strdup (other)
                                : g_build_filename (build, "daemons", "relay", "minna-relay", NULL);
  sec.controller_bin = g_build_filename (build, "daemons", "controller", "minna-controller", NULL);
  sec.secret = g_strdup ("security-test-admin-secret-0123456789");
  sec.secret_path = g_build_filename (sec.dir, "admin-secret", NULL);
  mn_test_write_file (sec.secret_path, sec.secret, 0600);
  sec.key_path = g_build_filename (sec.dir, "cookie-key", NULL);
  g_assert_true (mn_auth_key_create_file (sec.key_path, &error));
  sec.key = mn_auth_key_load (sec.key_path, &error);
  g_assert_no_error (error);
  sec.access_log = g_build_filename (sec.dir, "logs", "access.log", NULL);
  sec.relay_log = g_build_filename (sec.dir, "relay.log", NULL);
  sec.state_dir = g_build_filename (sec.dir, "relay-state", NULL);
  g_autofree gchar *logs = g_build_filename (sec.dir, "logs", NULL);
  g_assert_cmpint (g_mkdir (logs, 0700), ==, 0);
  return mn_test_run_in_child (clean_up);
}

typedef struct {
  gint umask_value;
} ChildSetup;

/* The daemons die with the test process, whatever ends it. */
static void
child_setup (gpointer data)
{
  ChildSetup *cs = data;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (cs->umask_value >= 0)
    umask ((mode_t) cs->umask_value);
}

static GPid
spawn (const gchar *const *argv, const gchar *log, gint umask_value)
{
  g_autoptr(GError) error = NULL;
  int fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  ChildSetup cs = { umask_value };
  GPid pid = 0;
  g_assert_true (g_spawn_async_with_pipes_and_fds (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                                   child_setup, &cs, -1, fd, fd, NULL, NULL, 0,
                                                   &pid, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  close (fd);
  return pid;
}

static gboolean
port_answers (guint16 port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  gboolean ok = connect (fd, (struct sockaddr *) &sa, sizeof sa) == 0;
  close (fd);
  return ok;
}

static void
wait_up (GPid pid, guint16 port, const gchar *what, const gchar *log)
{
  for (guint i = 0; i < 400; i++)
    {
      if (port_answers (port))
        return;
      int status = 0;
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          g_autofree gchar *text = NULL;
          g_file_get_contents (log, &text, NULL, NULL);
          g_error ("%s exited at start (status %d): %s", what, status, text);
        }
      g_usleep (25000);
    }
  g_error ("%s did not come up on port %u; see %s", what, port, log);
}

static guint
log_count (const gchar *path, const gchar *what)
{
  g_autofree gchar *text = NULL;
  guint n = 0;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const gchar *p = text; (p = strstr (p, what)) != NULL; p++)
    n++;
  return n;
}

static GPtrArray *sec_logins;   /* "id\nJSON body": every login made (sec_cookie) */
static void login_put (const gchar *entry);

void
sec_relay_start (gboolean https, const gchar *const *extra, gint umask_value)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  sec.http_port = (guint16) mn_test_free_port ();
  sec.admin_port = (guint16) mn_test_free_port ();
  sec.https_port = https ? (guint16) mn_test_free_port () : 0;
  g_ptr_array_add (argv, g_strdup (sec.relay_bin));
  g_ptr_array_add (argv, https ? g_strdup_printf ("--listen-https=127.0.0.1:%u", sec.https_port)
                               : g_strdup ("--listen-https="));
  g_ptr_array_add (argv, g_strdup_printf ("--listen-http=127.0.0.1:%u", sec.http_port));
  gboolean own_admin = FALSE;
  for (gsize i = 0; extra != NULL && extra[i] != NULL; i++)
    own_admin = own_admin || g_str_has_prefix (extra[i], "--admin-listen=");
  if (!own_admin)
    g_ptr_array_add (argv, g_strdup_printf ("--admin-listen=127.0.0.1:%u", sec.admin_port));
  g_ptr_array_add (argv, g_strdup_printf ("--admin-secret-file=%s", sec.secret_path));
  g_ptr_array_add (argv, g_strdup_printf ("--cookie-key-file=%s", sec.key_path));
  g_ptr_array_add (argv, g_strdup_printf ("--state-dir=%s", sec.state_dir));
  g_ptr_array_add (argv, g_strdup_printf ("--access-log=%s", sec.access_log));
  if (sec.controller_pid != 0)
    g_ptr_array_add (argv, g_strdup_printf ("--controller-url=http://127.0.0.1:%u",
                                            sec.controller_port));
  for (gsize i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  g_ptr_array_add (argv, NULL);
  guint loads = log_count (sec.relay_log, "from the controller");
  sec.relay_pid = spawn ((const gchar *const *) argv->pdata, sec.relay_log, umask_value);
  wait_up (sec.relay_pid, sec.http_port, "minna-relay", sec.relay_log);
  if (!own_admin)
    wait_up (sec.relay_pid, sec.admin_port, "minna-relay's admin API", sec.relay_log);
  /* Routes from the controller are loaded once at start: wait for them,
   * or /s/ requests answer 503 for a moment (and a route put before the
   * load could be replaced by it). */
  if (sec.controller_pid != 0)
    for (guint i = 0; i < 200 && log_count (sec.relay_log, "from the controller") <= loads; i++)
      g_usleep (25000);
  /* the logins the tests made so far, as a controller would hand them over */
  for (guint i = 0; !own_admin && sec_logins != NULL && i < sec_logins->len; i++)
    login_put (g_ptr_array_index (sec_logins, i));
}

static void
stop_pid (GPid *pid)
{
  if (*pid <= 0)
    return;
  kill (*pid, SIGTERM);
  waitpid (*pid, NULL, 0);
  *pid = 0;
}

void
sec_relay_stop (void)
{
  stop_pid (&sec.relay_pid);
}

void
sec_controller_start (const gchar *const *users)
{
  const gchar *src = g_getenv ("MINNA_SOURCE_DIR");
  g_assert_nonnull (src);
  sec.controller_port = (guint16) mn_test_free_port ();
  if (sec.admin_port == 0)
    sec.admin_port = (guint16) mn_test_free_port ();
  g_autofree gchar *apps = g_build_filename (sec.dir, "apps", NULL);
  g_autofree gchar *ports = g_build_filename (sec.dir, "ports", NULL);
  g_mkdir (apps, 0700);
  g_mkdir (ports, 0700);
  g_autofree gchar *conf = g_strdup_printf (
    "[server]\nlisten = 127.0.0.1\nport = %u\nwww_dir = %s/daemons/controller/www\n"
    "[state]\nstate_dir = %s/controller-state\napps_dir = %s\n"
    "[auth]\nusers_file = %s/users\nkey_file = %s\npbkdf2_iterations = 1000\n"
    "[relay]\nurl = \nsecret_file = %s\n"
    "[backend]\nrun_as = controller\nport_lock_dir = %s\n",
    sec.controller_port, src, sec.dir, apps, sec.dir, sec.key_path, sec.secret_path, ports);
  g_autofree gchar *path = g_build_filename (sec.dir, "controller.conf", NULL);
  mn_test_write_file (path, conf, 0600);
  for (gsize i = 0; users != NULL && users[i] != NULL; i++)
    {
      g_auto(GStrv) up = g_strsplit (users[i], ":", 2);
      g_autofree gchar *q = g_shell_quote (up[1]);
      g_autofree gchar *cmd = g_strdup_printf ("sh -c 'echo %s | %s passwd --config %s %s "
                                               ">/dev/null'", up[1], sec.controller_bin, path,
                                               up[0]);
      gint status = 0;
      g_autoptr(GError) error = NULL;
      g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, &error));
      g_assert_no_error (error);
      g_assert_cmpint (status, ==, 0);
    }
  g_autofree gchar *log = g_build_filename (sec.dir, "controller.log", NULL);
  const gchar *argv[] = { sec.controller_bin, "--config", path, NULL };
  sec.controller_pid = spawn (argv, log, -1);
  wait_up (sec.controller_pid, sec.controller_port, "minna-controller", log);
}

void
sec_controller_stop (void)
{
  stop_pid (&sec.controller_pid);
}

/* Logins are server-side state (issue 15): each login a test makes is put
 * into the running relay's live set through its admin API, as the
 * controller pushes logins, and into every relay started later. */
static void
login_put (const gchar *entry)
{
  const gchar *body = strchr (entry, '\n') + 1;
  g_autofree gchar *id = g_strndup (entry, (gsize) (body - 1 - entry));
  g_autofree gchar *req = g_strdup_printf ("PUT /logins/%s HTTP/1.1\r\nHost: x\r\n"
                                           "Authorization: Bearer %s\r\nContent-Length: %zu\r\n"
                                           "Connection: close\r\n\r\n%s",
                                           id, sec.secret, strlen (body), body);
  SecResponse r;
  g_assert_cmpuint (sec_exchange (sec.admin_port, req, strlen (req), &r), ==, 204);
  sec_response_clear (&r);
}

gchar *
sec_cookie (const gchar *user)
{
  g_autofree gchar *id = mn_auth_login_id_new ();
  g_autofree gchar *v = mn_auth_login_cookie (sec.key, id);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) n = NULL;
  g_autofree gchar *body = NULL;
  gchar *entry;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, user);
  json_builder_set_member_name (b, "expires");
  json_builder_add_int_value (b, g_get_real_time () / G_USEC_PER_SEC + 3600);
  json_builder_end_object (b);
  n = json_builder_get_root (b);
  body = json_to_string (n, FALSE);
  entry = g_strdup_printf ("%s\n%s", id, body);
  if (sec_logins == NULL)
    sec_logins = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (sec_logins, entry);
  login_put (entry);
  return g_strdup_printf ("%s=%s", MN_AUTH_COOKIE_NAME, v);
}

gchar *
sec_origin_line (void)
{
  return g_strdup_printf ("Origin: http://127.0.0.1:%u\r\n", sec.http_port);
}

/* ---- raw sockets ---- */

int
sec_connect_from (const gchar *source, guint16 port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  if (source != NULL)
    {
      struct sockaddr_in src = { .sin_family = AF_INET };
      g_assert_cmpint (inet_pton (AF_INET, source, &src.sin_addr), ==, 1);
      g_assert_cmpint (bind (fd, (struct sockaddr *) &src, sizeof src), ==, 0);
    }
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0)
    g_error ("connect to port %u: %s", port, g_strerror (errno));
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int
sec_connect (guint16 port)
{
  return sec_connect_from (NULL, port);
}

gboolean
sec_try_send (int fd, const gchar *data, gssize len)
{
  gsize n = len < 0 ? strlen (data) : (gsize) len, off = 0;
  while (off < n)
    {
      gssize w = send (fd, data + off, n - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      off += (gsize) w;
    }
  return TRUE;
}

void
sec_send (int fd, const gchar *data, gssize len)
{
  if (!sec_try_send (fd, data, len))
    g_error ("send: %s", g_strerror (errno));
}

/* Reads more into @buf; 0 at the end, -1 on timeout or error. */
static gssize
read_more (int fd, GString *buf, gint64 deadline)
{
  for (;;)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      if (left <= 0)
        return -1;
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int k = poll (&p, 1, (int) left);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return -1;
      gchar tmp[65536];
      gssize n = recv (fd, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno == ECONNRESET ? 0 : -1;
      g_string_append_len (buf, tmp, n);
      return n;
    }
}

/* Per-socket leftovers between responses (pipelined answers). */
static GHashTable *leftovers;

static GString *
leftover (int fd)
{
  if (leftovers == NULL)
    leftovers = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                       (GDestroyNotify) (void (*) (void)) g_string_free);
  GString *s = g_hash_table_lookup (leftovers, GINT_TO_POINTER (fd));
  if (s == NULL)
    {
      s = g_string_new (NULL);
      g_hash_table_insert (leftovers, GINT_TO_POINTER (fd), s);
    }
  return s;
}

static gchar *
field_of (const gchar *head, const gchar *name)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);
  gsize n = strlen (name);
  for (gsize i = 1; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], name, n) == 0 && lines[i][n] == ':')
      return g_strstrip (g_strdup (lines[i] + n + 1));
  return NULL;
}

gchar *
sec_response_field (const SecResponse *r, const gchar *name)
{
  return r->head != NULL ? field_of (r->head, name) : NULL;
}

gboolean
sec_read_response (int fd, SecResponse *r, gboolean head_request, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GString *in = leftover (fd);
  memset (r, 0, sizeof *r);
  r->body = g_string_new (NULL);
  gchar *end;
  for (;;)
    {
      while ((end = strstr (in->str, "\r\n\r\n")) == NULL)
        if (read_more (fd, in, deadline) <= 0)
          return FALSE;
      gsize head_len = (gsize) (end - in->str) + 4;
      g_free (r->head);
      r->head = g_strndup (in->str, head_len - 2);
      g_string_erase (in, 0, (gssize) head_len);
      r->status = g_str_has_prefix (r->head, "HTTP/1.") && strlen (r->head) > 12
                  ? (guint) g_ascii_strtoull (r->head + 9, NULL, 10) : 999;
      if (r->status >= 200 || r->status == 101)
        break;
    }
  g_autofree gchar *cl = field_of (r->head, "Content-Length");
  g_autofree gchar *te = field_of (r->head, "Transfer-Encoding");
  if (head_request || r->status == 204 || r->status == 304 || r->status == 101)
    ;
  else if (te != NULL && g_ascii_strcasecmp (te, "chunked") == 0)
    {
      for (;;)
        {
          gchar *eol;
          while ((eol = strstr (in->str, "\r\n")) == NULL)
            if (read_more (fd, in, deadline) <= 0)
              return FALSE;
          guint64 size = g_ascii_strtoull (in->str, NULL, 16);
          g_string_erase (in, 0, eol - in->str + 2);
          while (in->len < size + 2)
            if (read_more (fd, in, deadline) <= 0)
              return FALSE;
          g_string_append_len (r->body, in->str, (gssize) size);
          g_string_erase (in, 0, (gssize) size + 2);
          if (size == 0)
            break;
        }
    }
  else if (cl != NULL)
    {
      guint64 n = g_ascii_strtoull (cl, NULL, 10);
      while (in->len < n)
        if (read_more (fd, in, deadline) <= 0)
          return FALSE;
      g_string_append_len (r->body, in->str, (gssize) n);
      g_string_erase (in, 0, (gssize) n);
    }
  else
    {
      gssize k;
      while ((k = read_more (fd, in, deadline)) > 0)
        ;
      g_string_append_len (r->body, in->str, (gssize) in->len);
      g_string_truncate (in, 0);
      r->closed = k == 0;
    }
  return TRUE;
}

void
sec_response_clear (SecResponse *r)
{
  g_clear_pointer (&r->head, g_free);
  if (r->body != NULL)
    g_string_free (r->body, TRUE);
  r->body = NULL;
}

gboolean
sec_wait_closed (int fd, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GString *in = leftover (fd);
  for (;;)
    {
      gssize n = read_more (fd, in, deadline);
      if (n == 0)
        return TRUE;
      if (n < 0)
        return FALSE;
      g_string_truncate (in, 0);
    }
}

guint
sec_exchange (guint16 port, const gchar *request, gsize len, SecResponse *r)
{
  int fd = sec_connect (port);
  sec_try_send (fd, request, (gssize) len);
  guint status = 0;
  if (sec_read_response (fd, r, g_str_has_prefix (request, "HEAD "), 5000))
    status = r->status;
  /* Refusals of a malformed request must end the connection. */
  gboolean refusal = status == 400 || status == 408 || status == 431 || status == 501 ||
                     status == 505;
  r->closed = r->closed || (refusal && sec_wait_closed (fd, 2000));
  if (leftovers != NULL)
    g_hash_table_remove (leftovers, GINT_TO_POINTER (fd));
  close (fd);
  return status;
}

/* ---- the app server ---- */

struct _SecApp {
  int           listen_fd;
  guint16       port;
  SecAppHandler handler;
  gpointer      data;
  GThread      *acceptor;
  GMutex        lock;
  GString      *received;
  guint         requests;
  guint         next_conn;
  GPtrArray    *threads;
  GArray       *fds;
  gboolean      stopping;
};

typedef struct {
  SecApp *app;
  int     fd;
  guint   id;
} AppConn;

static gssize
app_read (AppConn *ac, GString *in)
{
  gchar tmp[65536];
  gssize n;
  do
    n = recv (ac->fd, tmp, sizeof tmp, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return 0;
  g_mutex_lock (&ac->app->lock);
  g_string_append_len (ac->app->received, tmp, n);
  g_mutex_unlock (&ac->app->lock);
  g_string_append_len (in, tmp, n);
  return n;
}

/* Reads until @in holds @pattern; FALSE at the end of the connection. */
static gboolean
app_read_until (AppConn *ac, GString *in, const gchar *pattern, gchar **at)
{
  while ((*at = strstr (in->str, pattern)) == NULL)
    if (app_read (ac, in) == 0)
      return FALSE;
  return TRUE;
}

static gboolean
app_read_len (AppConn *ac, GString *in, gsize len)
{
  while (in->len < len)
    if (app_read (ac, in) == 0)
      return FALSE;
  return TRUE;
}

/* A chunked body into @body, trailers read and dropped. */
static gboolean
app_read_chunked (AppConn *ac, GString *in, GString *body)
{
  gchar *eol;
  for (;;)
    {
      if (!app_read_until (ac, in, "\r\n", &eol))
        return FALSE;
      guint64 size = g_ascii_strtoull (in->str, NULL, 16);
      g_string_erase (in, 0, eol - in->str + 2);
      if (size == 0)
        break;
      if (!app_read_len (ac, in, size + 2))
        return FALSE;
      g_string_append_len (body, in->str, (gssize) size);
      g_string_erase (in, 0, (gssize) size + 2);
    }
  for (;;)
    {
      if (!app_read_until (ac, in, "\r\n", &eol))
        return FALSE;
      gboolean empty = eol == in->str;
      g_string_erase (in, 0, eol - in->str + 2);
      if (empty)
        return TRUE;
    }
}

/* One request and the handler's answer; FALSE at the end of the connection. */
static gboolean
app_serve_one (AppConn *ac, GString *in, guint n)
{
  gchar *end;
  if (!app_read_until (ac, in, "\r\n\r\n", &end))
    return FALSE;
  gsize hl = (gsize) (end - in->str) + 4;
  g_autofree gchar *head = g_strndup (in->str, hl);
  g_string_erase (in, 0, (gssize) hl);
  g_autofree gchar *cl = field_of (head, "Content-Length");
  g_autofree gchar *te = field_of (head, "Transfer-Encoding");
  g_autoptr(GString) body = g_string_new (NULL);
  if (te != NULL && !app_read_chunked (ac, in, body))
    return FALSE;
  if (te == NULL && cl != NULL)
    {
      guint64 want = g_ascii_strtoull (cl, NULL, 10);
      if (!app_read_len (ac, in, want))
        return FALSE;
      g_string_append_len (body, in->str, (gssize) want);
      g_string_erase (in, 0, (gssize) want);
    }
  g_auto(GStrv) words = g_strsplit (head, " ", 3);
  SecAppRequest req = { head, words[0], words[1] != NULL ? words[1] : "",
                        (const guint8 *) body->str, body->len, n, ac->id };
  g_mutex_lock (&ac->app->lock);
  ac->app->requests++;
  g_mutex_unlock (&ac->app->lock);
  ac->app->handler (ac->app, ac->fd, &req, ac->app->data);
  return TRUE;
}

static gpointer
app_conn_main (gpointer data)
{
  AppConn *ac = data;
  g_autoptr(GString) in = g_string_new (NULL);
  for (guint n = 1; app_serve_one (ac, in, n); n++)
    ;
  shutdown (ac->fd, SHUT_RDWR);
  g_free (ac);
  return NULL;
}

static gpointer
app_accept_main (gpointer data)
{
  SecApp *app = data;
  for (;;)
    {
      int fd = accept4 (app->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return NULL;
        }
      g_mutex_lock (&app->lock);
      if (app->stopping)
        {
          g_mutex_unlock (&app->lock);
          close (fd);
          return NULL;
        }
      AppConn *ac = g_new0 (AppConn, 1);
      ac->app = app;
      ac->fd = fd;
      ac->id = ++app->next_conn;
      g_array_append_val (app->fds, fd);
      g_ptr_array_add (app->threads, g_thread_new ("sec-app-conn", app_conn_main, ac));
      g_mutex_unlock (&app->lock);
    }
}

SecApp *
sec_app_start (SecAppHandler handler, gpointer data)
{
  SecApp *app = g_new0 (SecApp, 1);
  app->handler = handler;
  app->data = data;
  app->received = g_string_new (NULL);
  app->threads = g_ptr_array_new ();
  app->fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_mutex_init (&app->lock);
  app->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sa;
  g_assert_cmpint (bind (app->listen_fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (app->listen_fd, 512), ==, 0);
  g_assert_cmpint (getsockname (app->listen_fd, (struct sockaddr *) &sa, &sl), ==, 0);
  app->port = ntohs (sa.sin_port);
  app->acceptor = g_thread_new ("sec-app", app_accept_main, app);
  return app;
}

guint16
sec_app_port (SecApp *app)
{
  return app->port;
}

GString *
sec_app_received (SecApp *app)
{
  g_mutex_lock (&app->lock);
  GString *copy = g_string_new_len (app->received->str, (gssize) app->received->len);
  g_mutex_unlock (&app->lock);
  return copy;
}

guint
sec_app_requests (SecApp *app)
{
  g_mutex_lock (&app->lock);
  guint n = app->requests;
  g_mutex_unlock (&app->lock);
  return n;
}

void
sec_app_stop (SecApp *app)
{
  g_mutex_lock (&app->lock);
  app->stopping = TRUE;
  for (guint i = 0; i < app->fds->len; i++)
    shutdown (g_array_index (app->fds, int, i), SHUT_RDWR);
  g_mutex_unlock (&app->lock);
  shutdown (app->listen_fd, SHUT_RDWR);
  g_thread_join (app->acceptor);
  close (app->listen_fd);
  for (guint i = 0; i < app->threads->len; i++)
    g_thread_join (g_ptr_array_index (app->threads, i));
  for (guint i = 0; i < app->fds->len; i++)
    close (g_array_index (app->fds, int, i));
  g_ptr_array_unref (app->threads);
  g_array_unref (app->fds);
  g_string_free (app->received, TRUE);
  g_mutex_clear (&app->lock);
  g_free (app);
}

void
sec_app_echo (SecApp *app, int fd, const SecAppRequest *req, gpointer data)
{
  g_autofree gchar *body = g_strdup_printf ("ok %s", req->path);
  g_autofree gchar *resp = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                            "Content-Type: text/plain\r\n\r\n%s",
                                            strlen (body), body);
  sec_try_send (fd, resp, -1);
}

gboolean
sec_wait_for (gboolean (*pred) (gpointer), gpointer data, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      if (pred (data))
        return TRUE;
      g_usleep (10000);
    }
  return pred (data);
}

gchar *
sec_access_log (void)
{
  gchar *text = NULL;
  if (!g_file_get_contents (sec.access_log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

void
sec_route_put (const gchar *id, guint16 port, const gchar *owner, const gchar *token)
{
  g_autofree gchar *body = g_strdup_printf ("{\"upstream\": \"http://127.0.0.1:%u\", "
                                            "\"owner\": \"%s\", \"token\": \"%s\"}",
                                            port, owner, token);
  g_autofree gchar *req = g_strdup_printf ("PUT /routes/%s HTTP/1.1\r\nHost: x\r\n"
                                           "Authorization: Bearer %s\r\nContent-Length: %zu\r\n"
                                           "Connection: close\r\n\r\n%s",
                                           id, sec.secret, strlen (body), body);
  SecResponse r;
  g_assert_cmpuint (sec_exchange (sec.admin_port, req, strlen (req), &r), ==, 204);
  sec_response_clear (&r);
}
