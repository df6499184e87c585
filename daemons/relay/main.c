/* main.c: minna-relay, a thin main over libminna_relay. */
#define G_LOG_DOMAIN "minna-relay"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mn-relay.h"
#include "mn-secure-file.h"

typedef struct {
  GMainLoop *loop;
  MnRelay   *relay;
} App;

static gboolean
on_stop (gpointer data)
{
  App *app = data;
  g_message ("stopping");
  g_main_loop_quit (app->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload (gpointer data)
{
  App *app = data;
  g_autoptr(GError) error = NULL;
  if (!mn_relay_reload (app->relay, &error))
    g_message ("reload failed, keeping the running configuration: %s", error->message);
  return G_SOURCE_CONTINUE;
}

static int
mint_cookie (int argc, char **argv)
{
  g_autofree gchar *config_path = NULL;
  g_autofree gchar *user = NULL;
  gint lifetime = 86400;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "user the cookie is for", "USER" },
    { "lifetime", 0, 0, G_OPTION_ARG_INT, &lifetime, "seconds the cookie is valid (86400)",
      "SECONDS" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- print a valid login cookie value");
  g_autoptr(GError) error = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("minna-relay mint-cookie: %s\n", error->message);
      return 2;
    }
  g_autoptr(MnRelayConfig) config = mn_relay_config_new ();
  if (config_path != NULL && !mn_relay_config_load_file (config, config_path, &error))
    {
      g_printerr ("minna-relay mint-cookie: %s\n", error->message);
      return 1;
    }
  if (lifetime <= 0)
    {
      g_printerr ("minna-relay mint-cookie: --lifetime must be positive\n");
      return 2;
    }
  g_autofree gchar *cookie = mn_relay_mint_cookie (config, user, lifetime, &error);
  if (cookie == NULL)
    {
      g_printerr ("minna-relay mint-cookie: %s\n", error->message);
      return 1;
    }
  g_print ("%s\n", cookie);
  return 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* whatever umask we were started with: keys, logs and the admin socket
   * are the relay's alone (issue 15) */
  mn_secure_umask ();
  if (argc > 1 && g_str_equal (argv[1], "mint-cookie"))
    return mint_cookie (argc - 1, argv + 1);

  guint n_keys = 0;
  const MnRelayConfigKeyInfo *keys = mn_relay_config_keys (&n_keys);
  g_autofree gchar *config_path = NULL;
  g_autofree gchar **values = g_new0 (gchar *, n_keys);
  g_autofree GOptionEntry *entries = g_new0 (GOptionEntry, n_keys + 2);
  g_autoptr(GPtrArray) long_names = g_ptr_array_new_with_free_func (g_free);

  entries[0] = (GOptionEntry) { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
                                "configuration file (GKeyFile, group [relay])", "FILE" };
  for (guint i = 0; i < n_keys; i++)
    {
      gchar *name = g_strdelimit (g_strdup (keys[i].name), "_", '-');
      g_ptr_array_add (long_names, name);
      entries[i + 1] = (GOptionEntry) { name, 0, 0, G_OPTION_ARG_STRING, &values[i],
                                        keys[i].help, keys[i].arg != NULL ? keys[i].arg : "VALUE" };
    }
  g_autofree gchar *described = mn_relay_config_describe ();
  g_autoptr(GOptionContext) ctx = g_option_context_new (
    "- the minna HTTPS relay to users' apps\n\n"
    "  minna-relay [OPTION...]                     run the relay\n"
    "  minna-relay mint-cookie --config FILE --user USER   print a login cookie");
  g_option_context_set_description (ctx, described);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("minna-relay: %s\n", error->message);
      return 2;
    }

  g_autoptr(MnRelayConfig) config = mn_relay_config_new ();
  if (config_path != NULL && !mn_relay_config_load_file (config, config_path, &error))
    {
      g_printerr ("minna-relay: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < n_keys; i++)
    if (values[i] != NULL)
      {
        if (!mn_relay_config_set (config, keys[i].name, values[i], &error))
          {
            g_printerr ("minna-relay: --%s: %s\n",
                        (const gchar *) g_ptr_array_index (long_names, i), error->message);
            return 2;
          }
        g_free (values[i]);
      }

  g_autoptr(MnRelay) relay = mn_relay_new (config, config_path, &error);
  if (relay == NULL || !mn_relay_start (relay, &error))
    {
      g_printerr ("minna-relay: %s\n", error->message);
      return 1;
    }
  App app = { g_main_loop_new (NULL, FALSE), relay };
  g_unix_signal_add (SIGTERM, on_stop, &app);
  g_unix_signal_add (SIGINT, on_stop, &app);
  g_unix_signal_add (SIGHUP, on_reload, &app);
  g_main_loop_run (app.loop);
  g_main_loop_unref (app.loop);
  return 0;
}
