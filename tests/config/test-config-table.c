/* test-config-table.c: the table machinery on a table with a key of every
 * type: setting values, loading files (FILE:LINE messages), the corpus
 * tests/config/corpus/{y,n}_*.conf, validation, copies, the written-back
 * file and the documentation. */
#define G_LOG_DOMAIN "minna-config-test"

#include <string.h>

#include "mn-config-test-table.h"

static void
test_defaults (void)
{
  g_autoptr (TestConfig) c = test_config_new ();

  g_assert_false (c->verbose);
  g_assert_cmpuint (c->workers, ==, 4);
  g_assert_cmpint (c->offset, ==, 0);
  g_assert_cmpstr (c->name, ==, "svc");
  g_assert_cmpint (c->mode, ==, TEST_MODE_SAFE);
  g_assert_cmpstr (c->backend, ==, "local");
  g_assert_cmpuint (c->memory_mb, ==, 4096);
  g_assert_cmpint (c->timeout, ==, 90);
  g_assert_cmpfloat_with_epsilon (c->share, 0.5, 1e-12);
  g_assert_cmpfloat (c->factor, ==, 0.5);
  g_assert_cmpuint (c->ports->len, ==, 1);
  g_assert_cmpuint (g_array_index (c->ports, guint, 0), ==, 80);
  g_assert_cmpstr (c->state_dir, ==, "/var/lib/test");
  g_assert_cmpuint (g_strv_length (c->admins), ==, 0);
  g_assert_null (c->token);
  g_assert_true (mn_config_validate (&test_table, c, NULL, NULL));
}

/* ---- One value: text in, canonical text or the exact message out ---------- */

typedef struct {
  const gchar *path;
  const gchar *group, *key, *value;
  const gchar *canonical;   /* NULL: must fail */
  gint         code;      /* MnConfigError */
  const gchar *message;     /* exact */
} SetCase;

static const SetCase set_cases[] = {
  { "/config/set/bool", "general", "verbose", "yes", "true" },
  { "/config/set/bool-bad", "general", "verbose", "maybe", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] verbose: value 'maybe' is not a boolean (true or false)" },
  { "/config/set/uint", "general", "workers", " 16 ", "16" },
  { "/config/set/uint-low", "general", "workers", "0", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] workers: value '0' out of range (allowed 1..64 workers)" },
  { "/config/set/uint-overflow", "general", "workers", "99999999999999999999999", NULL,
    MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] workers: value '99999999999999999999999' out of range (allowed 1..64 workers)" },
  { "/config/set/uint-above-guint", "general", "workers", "4294967296", NULL,
    MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] workers: value '4294967296' out of range (allowed 1..64 workers)" },
  { "/config/set/uint-text", "general", "workers", "four", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] workers: value 'four' is not a whole number" },
  { "/config/set/int-negative", "general", "offset", "-100", "-100" },
  { "/config/set/int-below", "general", "offset", "-101", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] offset: value '-101' out of range (allowed -100..100)" },
  { "/config/set/name", "general", "name", "my-svc", "my-svc" },
  { "/config/set/name-bad", "general", "name", "my svc", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] name: value 'my svc' is not a valid name (letters, digits and '-', starting "
    "with a letter, 1..16 characters)" },
  { "/config/set/name-long", "general", "name", "abcdefghijklmnopq", NULL,
    MN_CONFIG_ERROR_INVALID_VALUE, NULL },
  { "/config/set/enum-case", "general", "mode", "FAST", "fast" },
  { "/config/set/enum-bad", "general", "mode", "turbo", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] mode: value 'turbo' is not one of: fast, safe" },
  { "/config/set/choice", "general", "backend", "Slurm", "slurm" },
  { "/config/set/choice-bad", "general", "backend", "pbs", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[general] backend: value 'pbs' is not one of: local, slurm, sge" },
  { "/config/set/size", "limits", "memory", "1.5G", "1536M" },
  { "/config/set/size-bad", "limits", "memory", "60X", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] memory: value '60X' is not a size (a number with an optional M, G or T "
    "suffix, e.g. 60G)" },
  { "/config/set/size-range", "limits", "memory", "2T", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] memory: value '2T' out of range (allowed 64M..1T)" },
  { "/config/set/duration", "limits", "timeout", "12:00:00", "12h" },
  { "/config/set/duration-bad", "limits", "timeout", "soon", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] timeout: value 'soon' is not a duration (a number with an optional s, m, h "
    "or d suffix, e.g. 24h, or HH:MM:SS)" },
  { "/config/set/duration-range", "limits", "timeout", "8d", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] timeout: value '8d' out of range (allowed 1s..7d)" },
  { "/config/set/share", "limits", "share", "0.25", "25%" },
  { "/config/set/share-range", "limits", "share", "1.5", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] share: value '1.5' out of range (allowed 0%..100%)" },
  { "/config/set/double", "limits", "factor", "-2.25", "-2.25" },
  { "/config/set/double-range", "limits", "factor", "10.5", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] factor: value '10.5' out of range (allowed -10..10)" },
  { "/config/set/double-exponent", "limits", "factor", "5e-1", "0.5" },
  { "/config/set/double-bad", "limits", "factor", "0x1", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] factor: value '0x1' is not a number" },
  { "/config/set/list-item", "limits", "ports", "80, 0", NULL, MN_CONFIG_ERROR_INVALID_VALUE,
    "[limits] ports: value '0' out of range (allowed 1..65535)" },
  { "/config/set/path", "paths", "state_dir", "/srv/x", "/srv/x" },
  { "/config/set/strv", "paths", "admins", "root, alice;; bob ,", "root, alice, bob" },
  { "/config/set/unknown-key", "general", "workerz", "1", NULL, MN_CONFIG_ERROR_UNKNOWN_KEY,
    "unknown key 'workerz' in [general] (did you mean 'workers'?)" },
  { "/config/set/unknown-key-other-group", "general", "memory", "1G", NULL,
    MN_CONFIG_ERROR_UNKNOWN_KEY,
    "unknown key 'memory' in [general] (did you mean '[limits] memory'?)" },
  { "/config/set/unknown-key-substring", "limits", "time", "1", NULL,
    MN_CONFIG_ERROR_UNKNOWN_KEY, "unknown key 'time' in [limits] (did you mean 'timeout'?)" },
  { "/config/set/unknown-key-far", "general", "colour", "1", NULL, MN_CONFIG_ERROR_UNKNOWN_KEY,
    "unknown key 'colour' in [general]" },
  { "/config/set/unknown-group", "limit", "memory", "1G", NULL, MN_CONFIG_ERROR_UNKNOWN_KEY,
    "unknown group [limit] (did you mean [limits]?)" },
  { "/config/set/unknown-group-far", "zzzzzz", "x", "1", NULL, MN_CONFIG_ERROR_UNKNOWN_KEY,
    "unknown group [zzzzzz] (known groups: [general], [limits], [paths])" },
};

static void
test_set_case (gconstpointer data)
{
  const SetCase *tc = data;
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;
  gboolean ok = mn_config_set (&test_table, c, tc->group, tc->key, tc->value, &error);

  if (tc->canonical != NULL)
    {
      g_autofree gchar *got = mn_config_get (&test_table, c, tc->group, tc->key);

      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpstr (got, ==, tc->canonical);
      return;
    }
  g_assert_false (ok);
  g_assert_error (error, MN_CONFIG_ERROR, tc->code);
  if (tc->message != NULL)
    g_assert_cmpstr (error->message, ==, tc->message);
}

static void
test_set_misuse (void)
{
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;

  g_assert_false (mn_config_set (&test_table, c, "general", "workers", NULL, &error));
  g_assert_error (error, MN_CONFIG_ERROR, MN_CONFIG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mn_config_set (&test_table, c, NULL, "workers", "2", &error));
  g_assert_error (error, MN_CONFIG_ERROR, MN_CONFIG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mn_config_get (&test_table, c, "general", "nope"));
  g_assert_null (mn_config_get (&test_table, c, NULL, "workers"));
  g_assert_null (mn_config_get (&test_table, c, "limits", "ports"));   /* has a setter */
}

static void
test_set_assignment (void)
{
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (mn_config_set_assignment (&test_table, c, "limits.memory=8G", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c->memory_mb, ==, 8192);
  g_assert_true (mn_config_set_assignment (&test_table, c, "general.name = a=b-c", &error) == FALSE);
  g_assert_error (error, MN_CONFIG_ERROR, MN_CONFIG_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  g_assert_false (mn_config_set_assignment (&test_table, c, "memory=8G", &error));
  g_assert_error (error, MN_CONFIG_ERROR, MN_CONFIG_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "'memory=8G' is not group.key=value");
  g_clear_error (&error);
  g_assert_false (mn_config_set_assignment (&test_table, c, "limits.memory", &error));
  g_assert_error (error, MN_CONFIG_ERROR, MN_CONFIG_ERROR_INVALID_ARGUMENT);
}

/* ---- The error domain of the table's caller ---------------------------------- */

static void
test_mapped_domain (void)
{
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;
  static const struct { const gchar *text; gint code; } files[] = {
    { "[general]\nworkers 4\n", TEST_ERROR_SYNTAX },
    { "[general]\nworkerz = 4\n", TEST_ERROR_NAME },
    { "[general]\nworkers = 0\n", TEST_ERROR_VALUE },
    { "[paths]\ntoken=a\ntoken=b\n", TEST_ERROR_TWICE },
    { "[general]\n", TEST_ERROR_MISSING },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_assert_false (mn_config_load_data (&test_table_mapped, c, files[i].text, -1, "m.conf",
                                           NULL, &error));
      g_assert_error (error, TEST_ERROR, files[i].code);
      g_clear_error (&error);
    }
  g_assert_false (mn_config_set (&test_table_mapped, c, "general", "mode", "x", &error));
  g_assert_error (error, TEST_ERROR, TEST_ERROR_VALUE);
  g_clear_error (&error);
  g_assert_false (mn_config_set_assignment (&test_table_mapped, c, "x", &error));
  g_assert_error (error, TEST_ERROR, TEST_ERROR_USAGE);
  g_clear_error (&error);
  c->workers = 0;
  g_assert_false (mn_config_validate (&test_table_mapped, c, NULL, &error));
  g_assert_error (error, TEST_ERROR, TEST_ERROR_VALUE);
}

/* ---- A one-group table names keys "key NAME" --------------------------------- */

static void
test_one_group (void)
{
  TestOneGroup o = { 0 };
  g_autoptr (GError) error = NULL;

  mn_config_init (&test_table_one_group, &o);
  g_assert_cmpint (o.port, ==, 8443);
  g_assert_true (mn_config_set (&test_table_one_group, &o, NULL, "port", "9", &error));
  g_assert_cmpint (o.port, ==, 9);
  g_assert_false (mn_config_set (&test_table_one_group, &o, NULL, "port", "x", &error));
  g_assert_cmpstr (error->message, ==, "key port: value 'x' is not a whole number");
  g_clear_error (&error);
  g_assert_true (mn_config_set_assignment (&test_table_one_group, &o, "port=10", &error));
  g_assert_cmpint (o.port, ==, 10);
  g_assert_false (mn_config_load_data (&test_table_one_group, &o, "[relay]\n\nport = 0\n", -1,
                                       "r.conf", NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "r.conf:3: key port: value '0' out of range (allowed 1..65535)");
  g_clear_error (&error);
  g_assert_false (mn_config_load_data (&test_table_one_group, &o, "[relay]\nprot = 1\n", -1,
                                       "r.conf", NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "r.conf:2: unknown key 'prot' in [relay] (did you mean 'port'?)");
  g_clear_error (&error);
  g_assert_false (mn_config_load_data (&test_table_one_group, &o, "[proxy]\n", -1,
                                       "r.conf", NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "r.conf:1: unknown group [proxy] (known groups: [relay])");
  mn_config_clear (&test_table_one_group, &o);
}

/* ---- Whole files: FILE:LINE messages --------------------------------------------- */

typedef struct {
  const gchar  *path;
  const gchar  *text;
  gssize        length;   /* 0: strlen */
  gint          code;     /* MnConfigError */
  const gchar  *message;  /* exact */
} LoadCase;

static const LoadCase load_cases[] = {
  { "/config/load/not-a-line", "[general]\nworkers 4\n", 0, MN_CONFIG_ERROR_PARSE,
    "t.conf:2: line 'workers 4' is neither '[group]', 'key = value' nor a '#' comment" },
  { "/config/load/equals-first", "[general]\n= 4\n", 0, MN_CONFIG_ERROR_PARSE,
    "t.conf:2: line '= 4' is neither '[group]', 'key = value' nor a '#' comment" },
  { "/config/load/before-group", "# c\nworkers = 4\n", 0, MN_CONFIG_ERROR_PARSE,
    "t.conf:2: key 'workers' comes before any [group]" },
  { "/config/load/bad-group-line", "[general\n", 0, MN_CONFIG_ERROR_PARSE,
    "t.conf:1: malformed group line '[general' (expected [name])" },
  { "/config/load/empty-group", "[]\n", 0, MN_CONFIG_ERROR_PARSE,
    "t.conf:1: malformed group line '[]' (expected [name])" },
  { "/config/load/unknown-group", "[paths]\ntoken=x\n[limit]\n", 0, MN_CONFIG_ERROR_UNKNOWN_KEY,
    "t.conf:3: unknown group [limit] (did you mean [limits]?)" },
  { "/config/load/unknown-key", "[limits]\n\nmemroy = 1G\n", 0, MN_CONFIG_ERROR_UNKNOWN_KEY,
    "t.conf:3: unknown key 'memroy' in [limits] (did you mean 'memory'?)" },
  { "/config/load/locale-key", "[general]\nname[fr] = x\n", 0, MN_CONFIG_ERROR_UNKNOWN_KEY,
    "t.conf:2: unknown key 'name[fr]' in [general]" },
  { "/config/load/value", "[limits]\ntimeout = 8d\n", 0, MN_CONFIG_ERROR_INVALID_VALUE,
    "t.conf:2: [limits] timeout: value '8d' out of range (allowed 1s..7d)" },
  { "/config/load/inline-comment", "[general]\nworkers = 4 # four\n", 0,
    MN_CONFIG_ERROR_INVALID_VALUE, "t.conf:2: [general] workers: value '4 # four' is not a whole number" },
  { "/config/load/twice", "[general]\nworkers=2\n\n[general]\nworkers=3\n", 0,
    MN_CONFIG_ERROR_DUPLICATE, "t.conf:5: [general] workers: set twice (first on line 2)" },
  { "/config/load/missing", "[general]\nworkers=2\n", 0, MN_CONFIG_ERROR_MISSING_KEY,
    "t.conf: [paths] token: required key missing" },
  { "/config/load/bad-escape", "[paths]\ntoken = a\\qb\n", 0, MN_CONFIG_ERROR_INVALID_VALUE,
    "t.conf:2: [paths] token: value 'a\\qb' has an invalid escape '\\q' (known: \\s \\n \\t \\r \\\\)" },
  { "/config/load/trailing-backslash", "[paths]\ntoken = a\\\n", 0, MN_CONFIG_ERROR_INVALID_VALUE,
    "t.conf:2: [paths] token: value 'a\\' ends in an escape character ('\\')" },
  { "/config/load/not-utf8", "[paths]\ntoken = \xff\n", 0, MN_CONFIG_ERROR_PARSE,
    "t.conf:2: not UTF-8 text" },
  { "/config/load/nul", "[paths]\ntoken = a\n\0\n", 20, MN_CONFIG_ERROR_PARSE,
    "t.conf:3: NUL byte in a text file" },
  { "/config/load/list-item", "[paths]\ntoken=t\n[limits]\nports = 80, 443, 70000\n", 0,
    MN_CONFIG_ERROR_INVALID_VALUE,
    "t.conf:4: [limits] ports: value '70000' out of range (allowed 1..65535)" },
};

static void
test_load_case (gconstpointer data)
{
  const LoadCase *tc = data;
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;
  gssize length = tc->length > 0 ? tc->length : (gssize) strlen (tc->text);

  g_assert_false (mn_config_load_data (&test_table, c, tc->text, length, "t.conf", NULL, &error));
  g_assert_error (error, MN_CONFIG_ERROR, tc->code);
  g_assert_cmpstr (error->message, ==, tc->message);
}

static void
test_load_good (void)
{
  static const gchar text[] =
    "\xef\xbb\xbf# a comment\r\n; another\r\n\r\n[general]\r\n  workers=8  \r\n"
    "name = web-1\nmode = fast\n[paths]\ntoken = \\sa\\tb\\\\\nadmins = root\n"
    "[general]\nverbose = on\n";
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (MnConfigLines) lines = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (mn_config_load_data (&test_table, c, text, -1, "g.conf", &lines, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c->workers, ==, 8);
  g_assert_cmpstr (c->name, ==, "web-1");
  g_assert_cmpint (c->mode, ==, TEST_MODE_FAST);
  /* values are stripped: \s keeps a space only inside one */
  g_assert_cmpstr (c->token, ==, "a\tb\\");
  g_assert_cmpstr (c->admins[0], ==, "root");
  g_assert_true (c->verbose);
  g_assert_cmpuint (mn_config_lines_find (lines, "general", "workers"), ==, 5);
  g_assert_cmpuint (mn_config_lines_find (lines, "general", "verbose"), ==, 12);
  g_assert_cmpuint (mn_config_lines_find (lines, "limits", "memory"), ==, 0);
  g_assert_cmpuint (mn_config_lines_find (NULL, "limits", "memory"), ==, 0);

  /* The length bounds the text; NULL is an empty file. */
  g_assert_true (mn_config_load_data (&test_table, c, "[paths]\ntoken=x\n[general]\nworkers=9",
                                      strlen ("[paths]\ntoken=x\n"), "g.conf", NULL, &error));
  g_assert_cmpuint (c->workers, ==, 8);
  g_assert_false (mn_config_load_data (&test_table, c, NULL, 0, NULL, NULL, &error));
  g_assert_cmpstr (error->message, ==, "(configuration): [paths] token: required key missing");
}

/* ---- Direct edits, copies, equality ---------------------------------------------- */

static void
test_validate (void)
{
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;
  const MnConfigKey *bad = NULL;

  c->memory_mb = 2 << 20;
  g_assert_false (mn_config_validate (&test_table, c, &bad, &error));
  g_assert_cmpstr (error->message, ==, "[limits] memory: value '2T' out of range (allowed 64M..1T)");
  g_assert_cmpstr (bad->name, ==, "memory");
  g_clear_error (&error);
  c->memory_mb = 1024;
  c->mode = 7;
  g_assert_false (mn_config_validate (&test_table, c, &bad, &error));
  g_assert_cmpstr (error->message, ==, "[general] mode: value 'invalid' is not one of: fast, safe");
  g_clear_error (&error);
  c->mode = TEST_MODE_FAST;
  g_clear_pointer (&c->name, g_free);
  g_assert_false (mn_config_validate (&test_table, c, &bad, &error));
  g_assert_cmpstr (error->message, ==, "[general] name: not set");
  g_assert_cmpstr (bad->name, ==, "name");
}

static void
test_copy_equal (void)
{
  g_autoptr (TestConfig) a = test_config_new ();
  g_autoptr (TestConfig) b = mn_config_dup (&test_table, a, sizeof *a);

  b->ports = g_array_copy (a->ports);
  g_assert_true (mn_config_equal (&test_table, a, b));
  g_assert_true (a->name != b->name && a->admins != b->admins);
  g_assert_true (mn_config_set (&test_table, b, "paths", "admins", "x", NULL));
  g_assert_false (mn_config_equal (&test_table, a, b));
  g_assert_true (mn_config_set (&test_table, b, "paths", "admins", "", NULL));
  g_assert_true (mn_config_equal (&test_table, a, b));
  b->share = 0.4;
  g_assert_false (mn_config_equal (&test_table, a, b));
  b->share = a->share;
  b->factor = 0.25;
  g_assert_false (mn_config_equal (&test_table, a, b));
  b->factor = a->factor;
  b->token = g_strdup ("");
  g_assert_false (mn_config_equal (&test_table, a, b));
}

/* ---- Output and documentation ---------------------------------------------------- */

static void
test_write (void)
{
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (TestConfig) back = test_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *again = NULL;
  g_autofree gchar *defaults = NULL;

  g_assert_true (mn_config_load_data (&test_table, c,
                                      "[general]\nworkers=3\nname=x-y\nmode=fast\n"
                                      "[limits]\nmemory=1537M\ntimeout=12:00:01\nshare=12.5%\n"
                                      "[paths]\ntoken=s\\se\nadmins=a,b\n", -1, "w.conf", NULL,
                                      &error));
  text = mn_config_write (&test_table, c, "# head\n",
                          MN_CONFIG_WRITE_WRAP | MN_CONFIG_WRITE_ALLOWED | MN_CONFIG_WRITE_SPACED);
  g_assert_true (g_str_has_prefix (text, "# head\n\n[general]\n# Say more.\n# Default: false.\n"
                                         "verbose = false\n\n# Worker threads.\n"
                                         "# Allowed: 1..64 workers. Default: 4.\nworkers = 3\n"));
  g_assert_nonnull (strstr (text, "# Allowed: one of fast, safe. Default: safe.\nmode = fast\n"));
  g_assert_nonnull (strstr (text, "memory = 1537M\n"));
  g_assert_nonnull (strstr (text, "timeout = 43201s\n"));
  g_assert_null (strstr (text, "ports ="));   /* a setter's key has no field to write */
  g_assert_true (mn_config_load_data (&test_table, back, text, -1, "w2.conf", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mn_config_equal (&test_table, c, back));
  again = mn_config_write (&test_table, back, "# head\n",
                           MN_CONFIG_WRITE_WRAP | MN_CONFIG_WRITE_ALLOWED | MN_CONFIG_WRITE_SPACED);
  g_assert_cmpstr (text, ==, again);

  /* Without an object: every default as the table writes it. */
  defaults = mn_config_write (&test_table, NULL, "# all\n", 0);
  g_assert_true (g_str_has_prefix (defaults, "# all\n\n[general]\n# Say more.\nverbose = false\n"
                                             "# Worker threads.\nworkers = 4\n"));
  g_assert_nonnull (strstr (defaults, "\n# Ports, comma-separated.\nports = 80\n"));
  g_assert_nonnull (strstr (defaults, "\ntoken = \n"));
}

static void
test_describe (void)
{
  g_autofree gchar *text = mn_config_describe_text (&test_table);
  g_autofree gchar *md = mn_config_describe_markdown (&test_table);
  GString *wrapped = g_string_new (NULL);

  g_assert_true (g_str_has_prefix (text, "\n[general]\n  verbose = false\n"
                                         "      boolean (true or false)\n      Say more.\n"
                                         "  workers = 4\n      integer 1..64 workers\n"));
  g_assert_nonnull (strstr (text, "  name = svc\n      name 1..16 characters\n"));
  g_assert_nonnull (strstr (text, "  memory = 4G\n      size (M, G, T) 64M..1T\n"));
  g_assert_nonnull (strstr (text, "  share = 50%\n      share (0.99 or 99%) 0%..100%\n"));
  g_assert_nonnull (strstr (text, "  factor = 0.5\n      number -10..10\n"));
  g_assert_nonnull (strstr (text, "  token\n      string\n"));
  g_assert_true (g_str_has_prefix (md, "\n### [general]\n\n| key | default | meaning |\n"
                                       "| --- | --- | --- |\n| `verbose` | false | Say more. |\n"));
  g_assert_nonnull (strstr (md, "| `mode` | safe | How careful to be. Values: fast, safe |\n"));
  g_assert_nonnull (strstr (md, "| `admins` | - |"));
  for (gsize i = 0; i < test_table.n_keys; i++)
    {
      g_autofree gchar *needle = g_strdup_printf ("`%s`", test_table.keys[i].name);

      g_assert_nonnull (strstr (md, needle));
    }

  mn_config_append_wrapped (wrapped, "# ", "one two  three four", 9);
  g_assert_cmpstr (wrapped->str, ==, "# one two\n# three\n# four\n");
  g_string_free (wrapped, TRUE);
}

/* ---- The corpus: one runner, every file ------------------------------------------ */

/* y_*.conf load and round-trip; n_*.conf start with "# error: MESSAGE",
 * and fail with exactly "NAME:MESSAGE" (MESSAGE starts with "LINE: " or,
 * for a missing key, " "). */
static void
test_corpus_file (gconstpointer data)
{
  const gchar *path = data;
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *text = NULL;
  gsize length = 0;
  g_autoptr (TestConfig) c = test_config_new ();
  g_autoptr (GError) error = NULL;
  gboolean ok;

  g_assert_true (g_file_get_contents (path, &text, &length, NULL));
  ok = mn_config_load_data (&test_table, c, text, length, base, NULL, &error);
  if (base[0] == 'y')
    {
      g_autoptr (TestConfig) back = test_config_new ();
      g_autofree gchar *written = NULL;

      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_true (mn_config_validate (&test_table, c, NULL, &error));
      written = mn_config_write (&test_table, c, NULL, MN_CONFIG_WRITE_ALLOWED);
      g_assert_true (mn_config_load_data (&test_table, back, written, -1, base, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (mn_config_equal (&test_table, c, back));
    }
  else
    {
      g_auto (GStrv) lines = g_strsplit (text, "\n", 2);
      g_autofree gchar *expect = NULL;

      g_assert_true (g_str_has_prefix (lines[0], "# error:"));
      expect = g_strconcat (base, ":", lines[0] + strlen ("# error:"), NULL);
      g_assert_false (ok);
      g_assert_cmpstr (error->message, ==, g_strchomp (expect));
    }
}

/* The corpus's file names in order (the directory's order is arbitrary). */
static GList *
corpus_files (void)
{
  g_autofree gchar *dir = g_test_build_filename (G_TEST_DIST, "config", "corpus", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  GList *files = NULL;
  const gchar *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if ((name[0] == 'y' || name[0] == 'n') && name[1] == '_' && g_str_has_suffix (name, ".conf"))
      files = g_list_insert_sorted (files, g_build_filename (dir, name, NULL),
                                    (GCompareFunc) g_strcmp0);
  return files;
}

int
main (int argc, char **argv)
{
  GList *files;
  guint y = 0;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  for (gsize i = 0; i < G_N_ELEMENTS (set_cases); i++)
    g_test_add_data_func (set_cases[i].path, &set_cases[i], test_set_case);
  g_test_add_func ("/config/set/misuse", test_set_misuse);
  g_test_add_func ("/config/set/assignment", test_set_assignment);
  g_test_add_func ("/config/mapped-domain", test_mapped_domain);
  g_test_add_func ("/config/one-group", test_one_group);
  for (gsize i = 0; i < G_N_ELEMENTS (load_cases); i++)
    g_test_add_data_func (load_cases[i].path, &load_cases[i], test_load_case);
  g_test_add_func ("/config/load/good", test_load_good);
  g_test_add_func ("/config/validate", test_validate);
  g_test_add_func ("/config/copy-equal", test_copy_equal);
  g_test_add_func ("/config/write", test_write);
  g_test_add_func ("/config/describe", test_describe);

  files = corpus_files ();
  for (GList *l = files; l != NULL; l = l->next)
    {
      g_autofree gchar *base = g_path_get_basename (l->data);
      g_autofree gchar *test_path = g_strdup_printf ("/config/corpus/%s", base);

      y += base[0] == 'y';
      g_test_add_data_func (test_path, l->data, test_corpus_file);
    }
  g_assert_cmpuint (y, >=, 4);
  g_assert_cmpuint (g_list_length (files) - y, >=, 10);
  status = g_test_run ();
  g_list_free_full (files, g_free);
  return status;
}
