/* Unit tests of the admin API's parts: accounting arithmetic (table-driven,
 * checked through its CSV), CSV quoting, the output file's safe tail and
 * its scrubbing of secrets, month parsing. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn-controller-accounting.h"
#include "mn-controller-config.h"
#include "mn-controller-output.h"

/* ---- accounting ------------------------------------------------------------------ */

typedef struct {
  const gchar *user;
  const gchar *queue;
  guint        cores;
  const gchar *start;    /* ISO 8601 UTC; NULL: never ran */
  const gchar *end;      /* NULL: still running */
} SessionCase;

typedef struct {
  const gchar *name;
  SessionCase  sessions[4];
  const gchar *from, *to;     /* months */
  const gchar *now;
  gdouble      charge;
  gboolean     by_group;
  const gchar *csv;           /* expected, without the header line; \n for CRLF */
} AccountingCase;

/* [node] cores = 28 (TSUBAME3): 7 cores are a quarter of a node */
static const AccountingCase accounting_cases[] = {
  { "one-session", { { "alice", "interactive", 7, "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z" } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE,
    "2026-12,alice,physics,1,2.000,0.500,0.400\n" },
  { "charge-is-per-hour-whatever-the-size",
    { { "alice", "interactive", 1, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z" },
      { "bob", "interactive", 28, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z" } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE,
    "2026-12,alice,physics,1,1.000,0.036,0.200\n"
    "2026-12,bob,physics,1,1.000,1.000,0.200\n" },
  { "split-at-month-boundary",
    { { "carol", "interactive", 14, "2026-11-30T23:00:00Z", "2026-12-01T01:30:00Z" } },
    "2026-11", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE,
    "2026-11,carol,chem,1,1.000,0.500,0.200\n"
    "2026-12,carol,chem,1,1.500,0.750,0.300\n" },
  { "clipped-to-the-range",
    { { "carol", "interactive", 14, "2026-11-30T23:00:00Z", "2026-12-01T01:30:00Z" },
      { "alice", "interactive", 7, "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z" } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE,
    "2026-12,carol,chem,1,1.500,0.750,0.300\n" },
  { "batch-and-never-ran-count-nothing",
    { { "alice", "batch", 7, "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z" },
      { "bob", "interactive", 7, NULL, "2026-12-01T12:00:00Z" } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE, "" },
  { "running-counts-up-to-now",
    { { "bob", "interactive", 7, "2026-12-06T21:00:00Z", NULL } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE,
    "2026-12,bob,physics,1,3.000,0.750,0.600\n" },
  { "zero-cores-is-one-core",
    { { "bob", "interactive", 0, "2026-12-01T00:00:00Z", "2026-12-02T04:00:00Z" } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE,
    "2026-12,bob,physics,1,28.000,1.000,5.600\n" },
  { "by-group-sums-users",
    { { "alice", "interactive", 7, "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z" },
      { "bob", "interactive", 14, "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z" },
      { "carol", "interactive", 7, "2026-12-02T10:00:00Z", "2026-12-02T14:00:00Z" },
      { "alice", "interactive", 7, "2026-12-03T10:00:00Z", "2026-12-03T10:30:00Z" } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, TRUE,
    "2026-12,chem,1,4.000,1.000,0.800\n"
    "2026-12,physics,3,3.500,1.125,0.700\n" },
  { "coefficient-one-is-a-whole-node",
    { { "alice", "interactive", 7, "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z" } },
    "2026-12", "2026-12", "2026-12-07T00:00:00Z", 1.0, FALSE,
    "2026-12,alice,physics,1,2.000,0.500,2.000\n" },
  { "no-sessions", { { NULL } }, "2026-12", "2026-12", "2026-12-07T00:00:00Z", 0.2, FALSE, "" },
};

static gchar *
fake_group (const gchar *user, gpointer data)
{
  return g_strdup (g_str_equal (user, "carol") ? "chem" : "physics");
}

static gint64
iso (const gchar *text)
{
  g_autoptr(GDateTime) d = g_date_time_new_from_iso8601 (text, NULL);
  g_assert_nonnull (d);
  return g_date_time_to_unix (d);
}

static void
test_accounting (gconstpointer data)
{
  const AccountingCase *c = data;
  g_autoptr(MnPolicyConfig) policy = mn_policy_config_new_default ();
  g_autoptr(GPtrArray) sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_accounting_session_free);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *csv = NULL, *want = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 from, from_next, to_start, to;

  g_assert_cmpuint (policy->node_cores, ==, 28);
  for (gsize i = 0; i < G_N_ELEMENTS (c->sessions) && c->sessions[i].user; i++)
    {
      MnAccountingSession *s = g_new0 (MnAccountingSession, 1);
      s->user = g_strdup (c->sessions[i].user);
      s->queue = g_strdup (c->sessions[i].queue);
      s->cores = c->sessions[i].cores;
      s->memory_mb = 1024;
      s->walltime = 86400;
      s->start = c->sessions[i].start ? iso (c->sessions[i].start) : 0;
      s->end = c->sessions[i].end ? iso (c->sessions[i].end) : 0;
      g_ptr_array_add (sessions, s);
    }
  g_assert_true (mn_accounting_parse_month (c->from, "from", &from, &from_next, &error));
  g_assert_true (mn_accounting_parse_month (c->to, "to", &to_start, &to, &error));
  g_assert_no_error (error);
  rows = mn_accounting_compute (policy, sessions, from, to, iso (c->now), c->charge, c->by_group,
                                fake_group, NULL);
  csv = mn_accounting_csv (rows, c->by_group);
  lines = g_strsplit (csv, "\r\n", 2);
  g_assert_cmpstr (lines[0], ==, c->by_group ? "month,group,sessions,hours,node_hours,charged_node_hours"
                                             : "month,user,group,sessions,hours,node_hours,charged_node_hours");
  {
    g_auto(GStrv) parts = g_strsplit (c->csv, "\n", -1);
    want = g_strjoinv ("\r\n", parts);
  }
  g_assert_cmpstr (lines[1], ==, want);
}

/* ---- CSV quoting ------------------------------------------------------------------ */

static const struct {
  const gchar *field, *csv;
} csv_cases[] = {
  { "plain", "plain" },
  { "", "" },
  { "a,b", "\"a,b\"" },
  { "say \"hi\"", "\"say \"\"hi\"\"\"" },
  { "two\nlines", "\"two\nlines\"" },
  { "cr\rhere", "\"cr\rhere\"" },
  { "=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"" },
  { "+1", "\"'+1\"" },
  { "-cmd", "\"'-cmd\"" },
  { "@SUM(A1)", "\"'@SUM(A1)\"" },
  { "naïve", "naïve" },
};

static void
test_csv_quoting (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (csv_cases); i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      mn_csv_append_field (out, csv_cases[i].field);
      g_assert_cmpstr (out->str, ==, csv_cases[i].csv);
    }
}

static void
test_csv_round_trip (void)
{
  /* a group name with every special character survives a real CSV reader's
   * rules: one record, the field back as it was (after the apostrophe) */
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_accounting_row_free);
  MnAccountingRow *r = g_new0 (MnAccountingRow, 1);
  g_autofree gchar *csv = NULL;
  r->month = g_strdup ("2026-12");
  r->user = g_strdup ("o\"brien");
  r->group = g_strdup ("lab, \"A\"\nsecond line");
  r->sessions = 2;
  r->hours = 1.5;
  g_ptr_array_add (rows, r);
  csv = mn_accounting_csv (rows, FALSE);
  g_assert_cmpstr (csv, ==,
                   "month,user,group,sessions,hours,node_hours,charged_node_hours\r\n"
                   "2026-12,\"o\"\"brien\",\"lab, \"\"A\"\"\nsecond line\",2,1.500,0.000,0.000\r\n");
}

/* ---- months ----------------------------------------------------------------------- */

static void
test_months (void)
{
  static const struct {
    const gchar *text;
    gboolean ok;
    const gchar *start, *next;
  } cases[] = {
    { "2026-12", TRUE, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z" },
    { "2024-02", TRUE, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z" },
    { "2026-13", FALSE }, { "2026-00", FALSE }, { "2026-1", FALSE }, { "26-12", FALSE },
    { "2026/12", FALSE }, { "", FALSE }, { "2026-12-01", FALSE }, { "abcd-ef", FALSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 a = 0, b = 0;
      gboolean ok = mn_accounting_parse_month (cases[i].text, "from", &a, &b, &error);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (ok)
        {
          g_assert_cmpint (a, ==, iso (cases[i].start));
          g_assert_cmpint (b, ==, iso (cases[i].next));
        }
      else
        {
          g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID);
          g_assert_nonnull (strstr (error->message, "field 'from'"));
        }
    }
}

/* ---- output: scrubbing ------------------------------------------------------------ */

#define TOKEN "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const struct {
  const gchar *name, *in, *out;
} scrub_cases[] = {
  { "jupyter-lab-url", "    http://127.0.0.1:8888/lab?token=3f2a9c0b1d4e5f60718293a4b5c6d7e8f9012345",
    "    http://127.0.0.1:8888/lab?token=[hidden]" },
  { "jupyter-url-more-params", "http://h:1/?token=abcdef0123456789&next=/tree",
    "http://h:1/?token=[hidden]&next=/tree" },
  { "own-token-bare", "the app token is " TOKEN " ok", "the app token is [hidden] ok" },
  { "own-token-in-header-line", "GET / X-Minna-App-Token: " TOKEN, "GET / X-Minna-App-Token: [hidden]" },
  { "authorization", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "Authorization: [hidden]" },
  { "bearer-alone", "using Bearer eyJhbGciOiJIUzI1NiJ9", "using Bearer [hidden]" },
  { "cookie", "Cookie: minna_session=abc.def; _xsrf=2|x", "Cookie: [hidden]" },
  { "password-colon", "VNC password: hunter2hunter2", "VNC password: [hidden]" },
  { "password-equals", "db password=s3cr3t!", "db password=[hidden]" },
  { "json", "{\"token\": \"s3cr3tvalue\", \"user\": \"alice\"}",
    "{\"token\": \"[hidden]\", \"user\": \"alice\"}" },
  { "env-style", "JUPYTER_TOKEN=abcdef123456 API_KEY=xyz12345", "JUPYTER_TOKEN=[hidden] API_KEY=[hidden]" },
  { "xsrf", "_xsrf=2|d1e2f3a4|5b6c7d8e|1700000000", "_xsrf=[hidden]" },
  { "no-crossing-lines", "Enter password:\nnext line stays", "Enter password:\nnext line stays" },
  { "ansi-colours", "\x1b[32m[I 10:00:00 ServerApp]\x1b[0m running", "[I 10:00:00 ServerApp] running" },
  { "control-chars", "progress\r50%\x07\tdone\n", "progress50%\tdone\n" },
  { "innocent", "[I 2026-12-07 ServerApp] Serving notebooks from local directory: /home/alice",
    "[I 2026-12-07 ServerApp] Serving notebooks from local directory: /home/alice" },
  { "own-token-split-by-a-bell", "token was 9f86d081884c7d65\a9a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ok",
    "token was [hidden] ok" },
  { "own-token-split-by-colour", "\x1b[1m9f86d081884c7d659a2feaa0c55ad015\x1b[0ma3bf4f1b2b0b822cd15d6c15b0f00a08",
    "[hidden]" },
  { "xauth-cookie", "host/unix:5  MIT-MAGIC-COOKIE-1  0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "host/unix:5  MIT-MAGIC-COOKIE-1  [hidden]" },
  { "token-file-path-is-not-secret", "MINNA_TOKEN_FILE=/srv/s/1/token", "MINNA_TOKEN_FILE=/srv/s/1/token" },
};

static void
test_scrub (void)
{
  const gchar *secrets[] = { TOKEN, NULL };
  for (gsize i = 0; i < G_N_ELEMENTS (scrub_cases); i++)
    {
      g_autofree gchar *out = mn_controller_output_scrub (scrub_cases[i].in, secrets);
      if (g_strcmp0 (out, scrub_cases[i].out) != 0)
        g_error ("scrub case %s: '%s' became '%s', want '%s'", scrub_cases[i].name,
                 scrub_cases[i].in, out, scrub_cases[i].out);
      g_assert_null (strstr (out, TOKEN));
    }
}

/* ---- output: the tail, read safely ---------------------------------------------------- */

static void
test_tail (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("minna-admin-XXXXXX", NULL);
  g_autofree gchar *log = g_build_filename (dir, "output.log", NULL);
  g_autofree gchar *slink = g_build_filename (dir, "link.log", NULL);
  g_autofree gchar *hard = g_build_filename (dir, "hard.log", NULL);
  g_autofree gchar *fifo = g_build_filename (dir, "fifo.log", NULL);
  g_autofree gchar *missing = g_build_filename (dir, "missing.log", NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *all = NULL, *tail = NULL;
  guint64 size = 0;
  gboolean truncated = TRUE;

  for (gint i = 0; i < 100; i++)
    g_string_append_printf (text, "line %03d\n", i);
  g_assert_true (g_file_set_contents (log, text->str, text->len, NULL));
  all = mn_controller_output_tail (log, 1 << 20, &size, &truncated, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (all, ==, text->str);
  g_assert_cmpuint (size, ==, text->len);
  g_assert_false (truncated);
  /* 25 bytes from the end: a cut line is dropped, whole lines stay */
  tail = mn_controller_output_tail (log, 25, &size, &truncated, &error);
  g_assert_no_error (error);
  g_assert_true (truncated);
  g_assert_cmpstr (tail, ==, "line 098\nline 099\n");

  /* what the job's user could put there instead */
  g_assert_cmpint (symlink ("/etc/passwd", slink), ==, 0);
  g_assert_null (mn_controller_output_tail (slink, 1024, NULL, NULL, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (link (log, hard), ==, 0);
  g_assert_null (mn_controller_output_tail (hard, 1024, NULL, NULL, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID);
  g_clear_error (&error);
  /* a FIFO nobody writes to must not block the controller */
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (mn_controller_output_tail (fifo, 1024, NULL, NULL, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (mn_controller_output_tail (missing, 1024, NULL, NULL, &error));
  g_assert_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_unlink (log);
  g_unlink (slink);
  g_unlink (hard);
  g_unlink (fifo);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (accounting_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/controller/admin/accounting/%s", accounting_cases[i].name);
      g_test_add_data_func (path, &accounting_cases[i], test_accounting);
    }
  g_test_add_func ("/controller/admin/csv/quoting", test_csv_quoting);
  g_test_add_func ("/controller/admin/csv/round-trip", test_csv_round_trip);
  g_test_add_func ("/controller/admin/accounting/months", test_months);
  g_test_add_func ("/controller/admin/output/scrub", test_scrub);
  g_test_add_func ("/controller/admin/output/tail", test_tail);
  return g_test_run ();
}
