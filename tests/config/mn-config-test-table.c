/* mn-config-test-table.c: see mn-config-test-table.h. */
#include <string.h>

#include "mn-config-test-table.h"

G_DEFINE_QUARK (test-error-quark, test_error)

static const gchar *const modes[] = { "fast", "safe", NULL };
static const gchar *const backends[] = { "local", "slurm", "sge", NULL };

static gboolean
name_ok (const gchar *s)
{
  if (!g_ascii_isalpha (s[0]))
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && *s != '-')
      return FALSE;
  return TRUE;
}

/* "80, 443": each item a port by the key's own grammar and bounds. */
static gboolean
set_ports (const MnConfigKey *key, gpointer object, const gchar *text, GError **error)
{
  TestConfig *c = object;
  g_auto (GStrv) items = g_strsplit (text, ",", -1);
  g_autoptr (GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; items[i] != NULL; i++)
    {
      MnConfigValue v;
      guint port;

      if (!mn_config_parse_value (key, g_strstrip (items[i]), &v, error))
        return FALSE;
      port = (guint) v.u;
      g_array_append_val (ports, port);
    }
  g_clear_pointer (&c->ports, g_array_unref);
  c->ports = g_steal_pointer (&ports);
  return TRUE;
}

#define OFF(f) G_STRUCT_OFFSET (TestConfig, f)

static const MnConfigKey keys[] = {
  { .group = "general", .name = "verbose", .type = MN_CONFIG_BOOL, .offset = OFF (verbose),
    .def = "false", .help = "Say more." },
  { .group = "general", .name = "workers", .type = MN_CONFIG_UINT, .offset = OFF (workers),
    .def = "4", .min = 1, .max = 64, .unit = "workers", .help = "Worker threads." },
  { .group = "general", .name = "offset", .type = MN_CONFIG_INT, .offset = OFF (offset),
    .def = "0", .min = -100, .max = 100, .help = "A signed number." },
  { .group = "general", .name = "name", .type = MN_CONFIG_STRING, .offset = OFF (name),
    .def = "svc", .min = 1, .max = 16, .unit = "characters", .kind = "name",
    .valid = name_ok, .expect = "a valid name (letters, digits and '-', starting with a "
    "letter, 1..16 characters)", .help = "The service's name." },
  { .group = "general", .name = "mode", .type = MN_CONFIG_ENUM, .offset = OFF (mode),
    .def = "safe", .choices = modes, .help = "How careful to be." },
  { .group = "general", .name = "backend", .type = MN_CONFIG_STRING, .offset = OFF (backend),
    .def = "local", .choices = backends, .help = "Where jobs go." },
  { .group = "limits", .name = "memory", .type = MN_CONFIG_SIZE, .offset = OFF (memory_mb),
    .def = "4G", .min = 64, .max = 1 << 20, .help = "Memory of a job." },
  { .group = "limits", .name = "timeout", .type = MN_CONFIG_DURATION, .offset = OFF (timeout),
    .def = "90s", .min = 1, .max = 7 * 86400, .help = "How long to wait." },
  { .group = "limits", .name = "share", .type = MN_CONFIG_SHARE, .offset = OFF (share),
    .def = "50%", .min = 0, .max = 100, .help = "Share of the machine." },
  { .group = "limits", .name = "factor", .type = MN_CONFIG_DOUBLE, .offset = OFF (factor),
    .def = "0.5", .min = -10, .max = 10, .help = "A number." },
  { .group = "limits", .name = "ports", .type = MN_CONFIG_UINT, .set = set_ports,
    .def = "80", .min = 1, .max = 65535, .help = "Ports, comma-separated." },
  { .group = "paths", .name = "state_dir", .type = MN_CONFIG_PATH, .offset = OFF (state_dir),
    .def = "/var/lib/test", .help = "Where state lives." },
  { .group = "paths", .name = "admins", .type = MN_CONFIG_STRV, .offset = OFF (admins),
    .def = "", .help = "Users who may do anything." },
  { .group = "paths", .name = "token", .type = MN_CONFIG_STRING, .offset = OFF (token),
    .flags = MN_CONFIG_KEY_REQUIRED, .help = "A secret every file must give." },
};

const MnConfigTable test_table = { keys, G_N_ELEMENTS (keys) };

const MnConfigTable test_table_mapped = {
  keys, G_N_ELEMENTS (keys), 0, test_error_quark,
  { TEST_ERROR_SYNTAX, TEST_ERROR_NAME, TEST_ERROR_VALUE, TEST_ERROR_TWICE,
    TEST_ERROR_MISSING, TEST_ERROR_USAGE },
};

static const MnConfigKey one_keys[] = {
  { .group = "relay", .name = "port", .type = MN_CONFIG_INT,
    .offset = G_STRUCT_OFFSET (TestOneGroup, port), .def = "8443", .min = 1, .max = 65535,
    .arg = "PORT", .help = "Port." },
  { .group = "relay", .name = "host", .type = MN_CONFIG_STRING,
    .offset = G_STRUCT_OFFSET (TestOneGroup, host), .def = "::", .help = "Host." },
};

const MnConfigTable test_table_one_group = {
  one_keys, G_N_ELEMENTS (one_keys), MN_CONFIG_TABLE_ONE_GROUP,
};

TestConfig *
test_config_new (void)
{
  return mn_config_new (&test_table, sizeof (TestConfig));
}

void
test_config_free (TestConfig *c)
{
  if (c == NULL)
    return;
  mn_config_clear (&test_table, c);
  g_clear_pointer (&c->ports, g_array_unref);
  g_free (c);
}
