/* mn-controller-api-wait.c: GET /api/v1/sessions?wait=SECONDS&since=TOKEN,
 * the session list answered once the user's sessions change.
 *
 * The portal showed a session's new state at its next poll of the list
 * (every second while something changed): a lecture hall's hundred pages
 * saw their sessions running up to a second late, and asked a hundred
 * times a second meanwhile.  Every list answer now carries "changes", a
 * token of the last committed change to the sessions it lists.  A request
 * that brings it back as since= with wait= is held (paused, not answered)
 * until a change to those sessions is committed (the store tells after its
 * commit, so what it answers is stored) or @wait seconds pass, and is then
 * answered like any list request.  A since= that is not the current token
 * (the list changed meanwhile, or the controller restarted: tokens count
 * from a random start per run) is answered at once.
 *
 * A token counts its own user's changes only (the admin's list of
 * everyone's has its own count): it tells nobody about other users.
 *
 * Bounded: wait at most MAX_WAIT s; at most MAX_PER_USER held per user
 * (429: a user's tabs) and MAX_HELD in all, at most a quarter of the
 * open-file limit (503), each with Retry-After; a
 * held request whose client goes away is dropped as soon as its socket says
 * so (socket_readable).  The login is checked before it is held,
 * and the parameters are checked strictly (400 naming the field). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define MAX_WAIT      60
#define MAX_PER_USER  8
#define MAX_HELD      4096   /* and at most a quarter of the open-file limit */
#define RETRY_AFTER   "5"

typedef struct {
  MnApiWaits        *waits;
  SoupServerMessage *msg;
  gchar             *user;    /* whose list */
  gboolean           all;     /* an admin's list of everyone's: any change ends it */
  gboolean           due;     /* a change came: answered by the next answer_due */
  guint              timeout;
  gulong             disconnected;
  GSource           *hangup;  /* the client's end of the socket closed */
} Held;

struct _MnApiWaits {
  MnControllerApi *api;
  GPtrArray       *held;       /* Held*, in arrival order */
  GHashTable      *stamps;     /* user -> guint64*: the token of the user's last change */
  guint64          epoch;      /* tokens of this run start here (random per run) */
  guint64          all_stamp;  /* the admin's list: changes to anyone's sessions */
  guint            max_held;
  guint            answer_source;
};

static void
held_free (Held *w)
{
  g_clear_handle_id (&w->timeout, g_source_remove);
  if (w->hangup != NULL)
    {
      g_source_destroy (w->hangup);
      g_clear_pointer (&w->hangup, g_source_unref);
    }
  if (w->disconnected != 0)
    g_signal_handler_disconnect (w->msg, w->disconnected);
  g_object_unref (w->msg);
  g_free (w->user);
  g_free (w);
}

static guint64
stamp_of (MnApiWaits *waits, const gchar *user, gboolean all)
{
  const guint64 *v = all ? &waits->all_stamp : g_hash_table_lookup (waits->stamps, user);
  return v != NULL ? *v : waits->epoch;
}

gchar *
mn_api_waits_token (MnApiWaits *waits, const gchar *user, gboolean all)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, waits != NULL ? stamp_of (waits, user, all) : 0);
}

/* Answers @w (taken out of the held list by the caller) and frees it: the
 * list, if its login still holds (a logout or a lost admin right while it
 * was held answers 401/403 as a new request would); only a status when its
 * client is gone (@gone: nobody reads the list). */
static void
answer (Held *w, gboolean gone)
{
  MnControllerApi *api = w->waits->api;
  g_autofree gchar *user = NULL;
  g_debug ("held list of %s answered", w->user);
  if (gone)
    soup_server_message_set_status (w->msg, 503, NULL);
  else if ((user = mn_api_require_user (api, w->msg, NULL)) != NULL)
    {
      if (g_str_equal (user, w->user) &&
          (!w->all || mn_controller_config_is_admin (api->config, user)))
        mn_api_reply_list (api, w->msg, w->user, w->all);
      else
        mn_api_reply_errorf (w->msg, 403, NULL, "the login changed while the list was held");
    }
  soup_server_message_unpause (w->msg);
  held_free (w);
}

static gboolean
answer_due (gpointer data)
{
  MnApiWaits *waits = data;
  g_autoptr(GPtrArray) due = g_ptr_array_new ();
  waits->answer_source = 0;
  /* what they read is stored (as in the API's dispatch); a commit here
   * may mark more of them due, which this round answers too */
  mn_controller_manager_flush_sessions (waits->api->manager, FALSE);
  for (guint i = 0; i < waits->held->len;)
    {
      Held *w = g_ptr_array_index (waits->held, i);
      if (w->due)
        {
          g_ptr_array_remove_index (waits->held, i);
          g_ptr_array_add (due, w);
        }
      else
        i++;
    }
  for (guint i = 0; i < due->len; i++)
    answer (g_ptr_array_index (due, i), FALSE);
  return G_SOURCE_REMOVE;
}

/* The store committed a change to @user's sessions. */
static void
changed (const gchar *user, gpointer data)
{
  MnApiWaits *waits = data;
  guint64 *v = g_hash_table_lookup (waits->stamps, user);
  gboolean any = FALSE;
  if (v == NULL)
    {
      v = g_new (guint64, 1);
      *v = waits->epoch;
      g_hash_table_insert (waits->stamps, g_strdup (user), v);
    }
  (*v)++;
  waits->all_stamp++;
  g_debug ("sessions of %s changed", user);
  for (guint i = 0; i < waits->held->len; i++)
    {
      Held *w = g_ptr_array_index (waits->held, i);
      if (w->all || g_str_equal (w->user, user))
        any = w->due = TRUE;
    }
  /* not from inside the store's commit: at the top of the main loop */
  if (any && waits->answer_source == 0)
    waits->answer_source = g_idle_add_full (G_PRIORITY_DEFAULT, answer_due, waits, NULL);
}

static gboolean
wait_over (gpointer data)
{
  Held *w = data;
  w->timeout = 0;
  mn_controller_manager_flush_sessions (w->waits->api->manager, FALSE);
  g_ptr_array_remove (w->waits->held, w);
  answer (w, FALSE);
  return G_SOURCE_REMOVE;
}

static void
client_gone (SoupServerMessage *msg, gpointer data)
{
  Held *w = data;
  g_ptr_array_remove (w->waits->held, w);
  held_free (w);
}

/* libsoup does not read a paused request's connection (and never emits
 * "disconnected" for it), so it learns that the client went away only when
 * it writes the answer.  The socket turns readable when the client closes
 * it, or sends more (HTTP/1.1 pipelining): a peek tells which.  A closed
 * one gets a bare status now (the write fails and libsoup drops the
 * connection): its place is free at once.  A pipelined request waits
 * behind the held one, so that one is answered now with the list. */
static gboolean
socket_readable (GSocket *socket, GIOCondition cond, gpointer data)
{
  Held *w = data;
  gchar c;
  gssize n = recv (g_socket_get_fd (socket), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(cond & (G_IO_HUP | G_IO_ERR)))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&w->hangup, g_source_unref);   /* removed by returning */
  g_ptr_array_remove (w->waits->held, w);
  answer (w, n <= 0);
  return G_SOURCE_REMOVE;
}

/* A query value of at most @max_len ASCII digits as a number in
 * [@min, @max]; FALSE if it is anything else. */
static gboolean
digits (const gchar *text, gsize max_len, guint64 min, guint64 max, guint64 *out)
{
  gsize n = text != NULL ? strlen (text) : 0;
  if (n == 0 || n > max_len || strspn (text, "0123456789") != n)
    return FALSE;
  return g_ascii_string_to_unsigned (text, 10, min, max, out, NULL);
}

gboolean
mn_api_waits_hold (MnApiWaits *waits, SoupServerMessage *msg, GHashTable *query,
                   const gchar *user, gboolean all)
{
  const gchar *wait_text = query ? g_hash_table_lookup (query, "wait") : NULL;
  const gchar *since_text = query ? g_hash_table_lookup (query, "since") : NULL;
  guint64 wait = 0, since = 0;
  guint mine = 0;
  Held *w;

  if (wait_text != NULL && !digits (wait_text, 2, 1, MAX_WAIT, &wait))
    {
      mn_api_reply_errorf (msg, 400, "wait", "wait: expected whole seconds, 1 to %d", MAX_WAIT);
      return TRUE;
    }
  if (since_text != NULL && !digits (since_text, 20, 0, G_MAXUINT64, &since))
    {
      mn_api_reply_errorf (msg, 400, "since", "since: expected the \"changes\" token of a list");
      return TRUE;
    }
  if (wait_text == NULL || since_text == NULL || since != stamp_of (waits, user, all))
    return FALSE;   /* answered now */
  for (guint i = 0; i < waits->held->len; i++)
    mine += g_str_equal (((Held *) g_ptr_array_index (waits->held, i))->user, user);
  if (mine >= MAX_PER_USER || waits->held->len >= waits->max_held)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", RETRY_AFTER);
      if (mine >= MAX_PER_USER)
        mn_api_reply_errorf (msg, 429, "wait", "already %u waiting requests for %s; ask again"
                             " without wait, or later", mine, user);
      else
        mn_api_reply_errorf (msg, 503, "wait", "too many waiting requests; ask again later");
      return TRUE;
    }
  w = g_new0 (Held, 1);
  w->waits = waits;
  w->msg = g_object_ref (msg);
  w->user = g_strdup (user);
  w->all = all;
  w->timeout = g_timeout_add_seconds ((guint) wait, wait_over, w);
  w->disconnected = g_signal_connect (msg, "disconnected", G_CALLBACK (client_gone), w);
  if (soup_server_message_get_socket (msg) != NULL)
    {
      w->hangup = g_socket_create_source (soup_server_message_get_socket (msg),
                                          G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (w->hangup, G_SOURCE_FUNC (socket_readable), w, NULL);
      g_source_attach (w->hangup, NULL);
    }
  g_ptr_array_add (waits->held, w);
  soup_server_message_pause (msg);
  return TRUE;
}

guint
mn_api_waits_n_held (MnApiWaits *waits)
{
  return waits != NULL ? waits->held->len : 0;
}

MnApiWaits *
mn_api_waits_new (MnControllerApi *api)
{
  MnApiWaits *waits = g_new0 (MnApiWaits, 1);
  waits->api = api;
  waits->held = g_ptr_array_new ();
  waits->stamps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* random per run: a token of an earlier run is never current */
  waits->epoch = (guint64) g_random_int () << 31;
  waits->all_stamp = waits->epoch;
  {
    struct rlimit rl;
    guint64 quarter = getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                      ? rl.rlim_cur / 4 : MAX_HELD;
    waits->max_held = (guint) CLAMP (quarter, 16, MAX_HELD);
  }
  mn_controller_store_set_changed_func (mn_controller_manager_get_store (api->manager),
                                        changed, waits);
  return waits;
}

/* Before the server goes: the held requests are dropped unanswered (their
 * connections close with the server's). */
void
mn_api_waits_free (MnApiWaits *waits)
{
  if (waits == NULL)
    return;
  mn_controller_store_set_changed_func (mn_controller_manager_get_store (waits->api->manager),
                                        NULL, NULL);
  g_clear_handle_id (&waits->answer_source, g_source_remove);
  for (guint i = 0; i < waits->held->len; i++)
    held_free (g_ptr_array_index (waits->held, i));
  g_ptr_array_unref (waits->held);
  g_hash_table_unref (waits->stamps);
  g_free (waits);
}
