/* main.c: minna-relay, a thin main over libminna_relay. */
#define G_LOG_DOMAIN "minna-relay"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mn-config-cli.h"
#include "mn-log-limit.h"
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

/* @top_config_path: the top-level --config, if given before "mint-cookie" */
static int
mint_cookie (const gchar *top_config_path, int argc, char **argv)
{
  g_autofree gchar *config_path = g_strdup (top_config_path);
  g_autofree gchar *user = NULL;
  gint lifetime = 86400;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "user the cookie is for", "USER" },
    { "lifetime", 0, 0, G_OPTION_ARG_INT, &lifetime, "seconds the cookie is valid (86400)",
      "SECONDS" },
    { NULL },
  };
  g_autoptr(MnCli) cli = mn_cli_new ("minna-relay mint-cookie", NULL,
                                     "Print a valid login cookie value for --user, signed with the"
                                     " relay's cookie key.", NULL, FALSE);
  g_autoptr(GError) error = NULL;
  gint status;
  mn_cli_add_entries (cli, entries);
  if ((status = mn_cli_parse (cli, &argc, &argv)) != MN_CLI_CONTINUE ||
      (status = mn_cli_check_args (cli, argc, argv, 0, 0, NULL)) != MN_CLI_CONTINUE)
    return status;
  g_autoptr(MnRelayConfig) config = mn_relay_config_new ();
  if (config_path != NULL && !mn_relay_config_load_file (config, config_path, &error))
    {
      g_printerr ("minna-relay mint-cookie: %s\n", error->message);
      return 1;
    }
  if (lifetime <= 0)
    return mn_cli_usage_error ("minna-relay mint-cookie", "--lifetime must be positive");
  g_autofree gchar *cookie = mn_relay_mint_cookie (config, user, lifetime, &error);
  if (cookie == NULL)
    {
      g_printerr ("minna-relay mint-cookie: %s\n", error->message);
      return 1;
    }
  g_print ("%s\n", cookie);
  return 0;
}

static const MnCliCommand commands[] = {
  { "mint-cookie", "--user USER", "print a login cookie for USER (tests, scripts)" },
  { NULL }
};

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* UTF-8 whatever the locale: paths and GIO's quotes were '?' in C */
  mn_log_use_utf8 ();
  /* whatever umask we were started with: keys, logs and the admin socket
   * are the relay's alone (issue 15) */
  mn_secure_umask ();

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
  g_autoptr(MnCli) cli = mn_cli_new ("minna-relay", "[COMMAND [ARGS…]]",
                                     "The minna HTTPS relay to users' apps: without a COMMAND it"
                                     " runs the relay.", commands, TRUE);
  g_option_context_set_description (cli->context, described);
  mn_cli_add_entries (cli, entries);
  g_autoptr(GError) error = NULL;
  gint status = mn_cli_parse (cli, &argc, &argv);
  if (status != MN_CLI_CONTINUE)
    return status;
  /* the options' values go with this array, whichever way main returns */
  g_autoptr(GPtrArray) owned_values = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n_keys; i++)
    if (values[i] != NULL)
      g_ptr_array_add (owned_values, values[i]);
  if (argc > 1)
    {
      /* "--config F mint-cookie --user U" as well as "mint-cookie --config F --user U" */
      if (mn_cli_find_command (cli, argc, argv) < 0)
        return MN_CLI_EXIT_USAGE;
      for (guint i = 0; i < n_keys; i++)
        if (values[i] != NULL)
          return mn_cli_usage_error ("minna-relay", "--%s does not go with a command ('%s')",
                                     (const gchar *) g_ptr_array_index (long_names, i), argv[1]);
      return mint_cookie (config_path, argc - 1, argv + 1);
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
            return mn_cli_usage_error ("minna-relay", "--%s: %s",
                                       (const gchar *) g_ptr_array_index (long_names, i),
                                       error->message);
          }
      }

  mn_cli_install_crash_handler ("minna-relay");
  g_autoptr(MnRelay) relay = mn_relay_new (config, config_path, &error);
  if (relay == NULL)
    {
      g_printerr ("minna-relay: %s\n", error->message);
      return 1;
    }
  /* handled before the ports open: a SIGHUP sent as soon as a port answers
   * must reload, not kill the relay (the signal's default action) */
  App app = { g_main_loop_new (NULL, FALSE), relay };
  g_unix_signal_add (SIGTERM, on_stop, &app);
  g_unix_signal_add (SIGINT, on_stop, &app);
  g_unix_signal_add (SIGHUP, on_reload, &app);
  if (!mn_relay_start (relay, &error))
    {
      g_printerr ("minna-relay: %s\n", error->message);
      g_main_loop_unref (app.loop);
      return 1;
    }
  g_main_loop_run (app.loop);
  g_main_loop_unref (app.loop);
  return 0;
}
