/* mn-controller-app.h: app definitions (apps/<id>.app, GKeyFile).
 *
 *   [app]
 *   name = Jupyter
 *   description = ...
 *   readiness_path = api/status      (relative to the session's base URL)
 *   command = exec /usr/bin/python3 -m ... --port={port} ...
 *   [field cores]                     (also memory_gb, gpus, hours)
 *   min = 1
 *   max = 7
 *   default = 1
 *
 * Placeholders in command: {host} {port} {base_url} {token_file}
 * {session_dir} {session_id} {app_dir} (the directory of the .app file, for
 * helpers shipped beside it); any other {lower_case} word is an error, and
 * braces around anything else ("${HOME}", "{ cmd; }") are left alone.  Each becomes a reference to an environment
 * variable the job script sets (${MINNA_PORT}, ...), so the template decides
 * its own quoting and no value is ever pasted into shell text. */
#pragma once

#include <glib.h>
#include "mn-controller-session.h"

G_BEGIN_DECLS

typedef struct {
  gdouble min, max, def;
} MnAppField;

typedef enum {
  MN_APP_FIELD_CORES,
  MN_APP_FIELD_MEMORY_GB,
  MN_APP_FIELD_GPUS,
  MN_APP_FIELD_HOURS,
  MN_APP_N_FIELDS,
} MnAppFieldId;

typedef struct {
  gchar     *id;
  gchar     *name;
  gchar     *description;
  gchar     *command;       /* template */
  gchar     *readiness_path;
  gchar     *dir;           /* absolute directory of the .app file */
  MnAppField fields[MN_APP_N_FIELDS];
} MnApp;

const gchar *mn_app_field_name (MnAppFieldId id);

MnApp     *mn_app_load (const gchar *path, GError **error);
void       mn_app_free (MnApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnApp, mn_app_free)

/* Every *.app in @dir, sorted by id; a bad file is an error naming it. */
GPtrArray *mn_app_load_dir (const gchar *dir, GError **error);

/* The app command with placeholders replaced (see above). */
gchar     *mn_app_expand_command (const MnApp *app, GError **error);

typedef struct {
  const gchar *launcher;       /* minna-controller binary */
  const gchar *host;
  guint        port_min, port_max;
  const gchar *port_lock_dir;
  guint        locks_per_user;  /* job-launch --locks-per-user */
} MnJobScriptOptions;

/* The job script (sh) for @session in @session_dir. */
gchar     *mn_app_render_job_script (const MnApp *app, const MnSession *session,
                                     const gchar *session_dir,
                                     const MnJobScriptOptions *options,
                                     GError **error);

/* app.sh: the expanded command, run by the job script. */
gchar     *mn_app_render_app_script (const MnApp *app, GError **error);

/* 'text' quoted for sh. */
gchar     *mn_shell_quote (const gchar *text);

G_END_DECLS
