/* mn-config-test-table.h: a table with a key of every type, for the
 * module's tests, corpus and fuzz target. */
#pragma once

#include "mn-config.h"

G_BEGIN_DECLS

#define TEST_ERROR (test_error_quark ())
GQuark test_error_quark (void);

typedef enum {
  TEST_ERROR_SYNTAX = 10,
  TEST_ERROR_NAME,
  TEST_ERROR_VALUE,
  TEST_ERROR_TWICE,
  TEST_ERROR_MISSING,
  TEST_ERROR_USAGE,
} TestError;

typedef enum { TEST_MODE_FAST, TEST_MODE_SAFE } TestMode;

typedef struct {
  /* [general] */
  gboolean verbose;
  guint    workers;
  gint64   offset;
  gchar   *name;
  gint     mode;
  gchar   *backend;
  /* [limits] */
  guint64  memory_mb;
  gint64   timeout;
  gdouble  share;
  gdouble  factor;
  GArray  *ports;        /* of guint, from a list with its own setter */
  /* [paths] */
  gchar   *state_dir;
  gchar  **admins;
  gchar   *token;        /* required in files */
} TestConfig;

/* Errors in MN_CONFIG_ERROR; test_table_mapped raises them in TEST_ERROR. */
extern const MnConfigTable test_table;
extern const MnConfigTable test_table_mapped;
/* One group, [relay]-like: keys named "key NAME". */
extern const MnConfigTable test_table_one_group;

typedef struct {
  gint64 port;
  gchar *host;
} TestOneGroup;

TestConfig *test_config_new (void);
void        test_config_free (TestConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestConfig, test_config_free)

G_END_DECLS
