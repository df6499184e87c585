/* mn-controller-api-pages.c: the portal's static pages (their headers:
 * CSP, nosniff) and GET /api/v1/kernels. */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-api-private.h"

#include <string.h>

/* ---- portal pages (daemons/controller/www/README.md has the table) ------------ */

static const gchar *
content_type (const gchar *file)
{
  if (g_str_has_suffix (file, ".html"))
    return "text/html; charset=utf-8";
  if (g_str_has_suffix (file, ".css"))
    return "text/css; charset=utf-8";
  if (g_str_has_suffix (file, ".js"))
    return "text/javascript; charset=utf-8";
  if (g_str_has_suffix (file, ".svg"))
    return "image/svg+xml";
  return NULL;
}

/* "static/NAME": NAME is [a-z0-9][a-z0-9_-]*.(css|js|svg), so no path can
 * leave the directory. */
static gboolean
static_name_ok (const gchar *name)
{
  const gchar *dot = strrchr (name, '.');
  if (dot == NULL || dot == name || !(g_ascii_islower (name[0]) || g_ascii_isdigit (name[0])))
    return FALSE;
  for (const gchar *c = name; c < dot; c++)
    if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '_' && *c != '-')
      return FALSE;
  return g_str_equal (dot, ".css") || g_str_equal (dot, ".js") || g_str_equal (dot, ".svg");
}

/* What every page answer carries (www/README.md). */
void
mn_api_page_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Cache-Control", "no-cache");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "Referrer-Policy", "same-origin");
  soup_message_headers_replace (h, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none';"
                                " base-uri 'none'; form-action 'self'");
}

/* TRUE if @path is a page (answered, found or not). */
gboolean
mn_api_serve_page (MnControllerApi *api, SoupServerMessage *msg, const gchar *method, const gchar *path)
{
  static const gchar *const pages[][2] = {
    { "/", "index.html" }, { "/login", "login.html" }, { "/admin", "admin.html" },
    { "/favicon.ico", "static/favicon.svg" },
  };
  g_autofree gchar *file = NULL, *full = NULL, *data = NULL;
  gsize len = 0;

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (pages); i++)
    if (g_str_equal (path, pages[i][0]))
      file = g_strdup (pages[i][1]);
  if (file == NULL && g_str_has_prefix (path, "/static/") && static_name_ok (path + 8))
    file = g_strdup (path + 1);
  if (file == NULL)
    return FALSE;
  full = g_build_filename (api->config->www_dir, file, NULL);
  if (!g_file_get_contents (full, &data, &len, NULL))
    {
      mn_api_reply_errorf (msg, 404, NULL, "no page '%s'", path);
      return TRUE;
    }
  mn_api_page_headers (msg);
  soup_server_message_set_status (msg, 200, NULL);
  /* HEAD: libsoup sends the headers (and Content-Length) without the body */
  soup_server_message_set_response (msg, content_type (file), SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&data), len);
  return TRUE;
}

/* GET /api/v1/kernels: mn-controller-kernels.c */
void
mn_api_handle_kernels (MnControllerApi *api, SoupServerMessage *msg)
{
  g_autofree gchar *user = mn_api_require_user (api, msg, NULL);
  if (user != NULL)
    mn_controller_kernels_handle (api->kernels, msg, user);
}
