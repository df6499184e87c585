/* mn-config-private.h: what the files of libminna-config share. */
#pragma once

#include "mn-config-table.h"

G_BEGIN_DECLS

gboolean mn_config_fail (GError **error, MnConfigError code, const gchar *fmt, ...)
  G_GNUC_PRINTF (3, 4);
/* At the way out of a public function: an MN_CONFIG_ERROR becomes the
 * table's own domain and code, if it has one. */
void     mn_config_finish_error (const MnConfigTable *table, GError **error);
/* The "unknown group [x] (did you mean [y]?)" / "unknown key ..." errors. */
gboolean mn_config_fail_unknown_group (const MnConfigTable *table, const gchar *group,
                                       GError **error);
gboolean mn_config_fail_unknown_key (const MnConfigTable *table, const gchar *group,
                                     const gchar *name, GError **error);

G_END_DECLS
