/* mn-sweep-check.c: see mn-sweep-check.h. */
#define G_LOG_DOMAIN "minna-sweep-test"

#include <string.h>
#include <sys/wait.h>

#include "mn-sweep-check.h"

gint
mn_check_spawn (const gchar *const *argv, const gchar *const *envp, gchar **out, gchar **err)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ignored_out = NULL, *ignored_err = NULL;
  gint status = -1;

  /* Always captured: a child's output would break the TAP stream. */
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, (gchar **) envp, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               out != NULL ? out : &ignored_out, err != NULL ? err : &ignored_err,
                               &status, &error));
  g_assert_no_error (error);
  if (err == NULL && ignored_err != NULL && ignored_err[0] != '\0')
    g_test_message ("%s: %s", argv[0], ignored_err);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

void
mn_check_rm_rf (const gchar *dir)
{
  const gchar *argv[] = { "rm", "-rf", dir, NULL };

  mn_check_spawn (argv, NULL, NULL, NULL);
}

gchar *
mn_check_read (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    g_error ("cannot read %s", path);
  return text;
}

static guint32
be32 (const guchar *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

void
mn_check_png (const gchar *path)
{
  static const guchar sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree guchar *data = NULL;
  gsize len = 0, pos = 8;
  gboolean seen_end = FALSE;

  g_assert_true (g_file_get_contents (path, (gchar **) &data, &len, NULL));
  g_assert_cmpuint (len, >, 5000);
  g_assert_cmpuint (len, <, 2 * 1024 * 1024);
  g_assert_cmpmem (data, 8, sig, 8);
  g_assert_cmpmem (data + 12, 4, "IHDR", 4);
  /* 900 x 520, as the scripts ask */
  g_assert_cmpuint (be32 (data + 16), ==, 900);
  g_assert_cmpuint (be32 (data + 20), ==, 520);
  /* walk the chunks to IEND */
  while (pos + 12 <= len)
    {
      guint32 n = be32 (data + pos);

      if (memcmp (data + pos + 4, "IEND", 4) == 0)
        {
          seen_end = TRUE;
          break;
        }
      pos += 12 + (gsize) n;
    }
  g_assert_true (seen_end);
}

static void
ignore_element (GMarkupParseContext *c, const gchar *name, const gchar **an, const gchar **av,
                gpointer data, GError **error)
{
  guint *n = data;

  (*n)++;
}

void
mn_check_svg (const gchar *path, const gchar *must_contain)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  const GMarkupParser parser = { ignore_element, NULL, NULL, NULL, NULL };
  g_autoptr (GMarkupParseContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  guint elements = 0;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_cmpuint (len, >, 3000);
  g_assert_cmpuint (len, <, 10 * 1024 * 1024);
  g_assert_nonnull (strstr (text, "<svg"));
  g_assert_nonnull (strstr (text, "</svg>"));
  g_assert_nonnull (strstr (text, must_contain));
  ctx = g_markup_parse_context_new (&parser, 0, &elements, NULL);
  g_markup_parse_context_parse (ctx, text, len, &error);
  if (error == NULL)
    g_markup_parse_context_end_parse (ctx, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (elements, >, 20);
}

guint
mn_check_html_references (const gchar *dir)
{
  g_autofree gchar *html = mn_check_read (dir, "report.html");
  g_autoptr (GRegex) re = g_regex_new ("(?:src|href)=\"([^\"]*)\"", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  guint n = 0;

  g_assert_null (strstr (html, "http://"));
  g_assert_null (strstr (html, "https://"));
  g_assert_null (strstr (html, "//cdn"));
  g_regex_match (re, html, 0, &m);
  while (g_match_info_matches (m))
    {
      g_autofree gchar *ref = g_match_info_fetch (m, 1);
      g_autofree gchar *path = g_build_filename (dir, ref, NULL);

      g_assert_false (g_path_is_absolute (ref));
      g_assert_null (strstr (ref, ".."));
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_error ("report.html refers to %s, which does not exist", ref);
      n++;
      g_match_info_next (m, NULL);
    }
  return n;
}
