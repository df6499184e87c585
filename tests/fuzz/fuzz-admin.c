/* fuzz-admin.c: a libFuzzer harness for what the admin API does with bytes
 * it did not choose: a job's output (mn_controller_output_scrub), CSV
 * fields (mn_csv_append_field) and month parameters
 * (mn_accounting_parse_month).  Properties:
 *   - the scrub never lets the session's token through, however the output
 *     surrounds or splits it with escapes and control characters, and its
 *     answer is valid UTF-8 without control characters but tab and newline;
 *   - a CSV field reads back, by RFC 4180's rules, as the text given (with
 *     the apostrophe in front of a would-be formula);
 *   - a month that parses prints back as itself. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "mn-controller-accounting.h"
#include "mn-controller-output.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define TOKEN "5f0c6a1e9d2b47f3a8c1e0d9b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8"

static void
fuzz_scrub (const gchar *text)
{
  const gchar *secrets[] = { TOKEN, NULL };
  /* the token planted in the middle, and as the input asks (a 0x01 byte
   * stands for it) */
  g_autoptr(GString) in = g_string_new (NULL);
  g_autofree gchar *out = NULL;
  for (const gchar *c = text; *c; c++)
    {
      if (*c == 0x01)
        g_string_append (in, TOKEN);
      else
        g_string_append_c (in, *c);
    }
  g_string_insert (in, in->len / 2, TOKEN);
  out = mn_controller_output_scrub (in->str, secrets);
  g_assert (g_utf8_validate (out, -1, NULL));
  g_assert (strstr (out, TOKEN) == NULL);
  for (const guchar *c = (const guchar *) out; *c; c++)
    g_assert (*c >= 0x20 || *c == '\t' || *c == '\n');
}

/* One field read back by RFC 4180: quoted (quotes doubled) or bare. */
static gchar *
csv_read (const gchar *csv)
{
  GString *out = g_string_new (NULL);
  if (csv[0] != '"')
    {
      g_assert (strpbrk (csv, ",\"\r\n") == NULL);
      g_string_append (out, csv);
      return g_string_free (out, FALSE);
    }
  for (const gchar *c = csv + 1; *c; c++)
    {
      if (*c == '"')
        {
          if (c[1] == '"')
            {
              g_string_append_c (out, '"');
              c++;
              continue;
            }
          g_assert (c[1] == '\0');   /* the closing quote ends the field */
          return g_string_free (out, FALSE);
        }
      g_string_append_c (out, *c);
    }
  g_assert_not_reached ();
}

static void
fuzz_csv (const gchar *text)
{
  g_autoptr(GString) csv = g_string_new (NULL);
  g_autofree gchar *back = NULL;
  gboolean formula = text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                     text[0] == '\t' || text[0] == '\r';
  mn_csv_append_field (csv, text);
  back = csv_read (csv->str);
  if (formula)
    {
      g_assert (back[0] == '\'');
      g_assert (g_str_equal (back + 1, text));
    }
  else
    g_assert (g_str_equal (back, text));
}

static void
fuzz_month (const gchar *text)
{
  gint64 start = 0, next = 0;
  g_autoptr(GError) error = NULL;
  if (mn_accounting_parse_month (text, "from", &start, &next, &error))
    {
      g_autofree gchar *again = mn_accounting_month_of (start);
      g_assert (g_str_equal (again, text));
      g_assert (next > start);
    }
  else
    g_assert (strstr (error->message, "field 'from'") != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);   /* up to a NUL */
  fuzz_scrub (text);
  fuzz_csv (text);
  fuzz_month (text);
  return 0;
}
