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
 * helpers shipped beside it), {field_NAME} for each field of the app's own
 * (see docs/apps.md); any other {lower_case} word is an error, and
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

/* A form field's type ([field NAME] type). */
typedef enum {
  MN_APP_FORM_NUMBER,
  MN_APP_FORM_SELECT,
  MN_APP_FORM_CHECKBOX,
  MN_APP_FORM_TEXT,
} MnAppFormType;

/* Where a field's options or bounds come from ([field NAME] source). */
typedef enum {
  MN_APP_SOURCE_STATIC,     /* the file: options, min/max */
  MN_APP_SOURCE_POLICY,     /* number: max capped by the policy's cap (the interactive queue) */
  MN_APP_SOURCE_KERNELS,    /* select: the user's own Jupyter kernels (GET /api/v1/kernels) */
  MN_APP_SOURCE_COMMAND,    /* select: a site command, one option per line */
} MnAppSource;

/* The policy's caps a number field may be bounded by ([field NAME] cap);
 * the names are those of GET /api/v1/queue's "limits". */
typedef enum {
  MN_APP_CAP_NONE,
  MN_APP_CAP_CORES,
  MN_APP_CAP_MEMORY_GB,
  MN_APP_CAP_GPUS,
  MN_APP_CAP_HOURS,
} MnAppCap;

/* One [field NAME] group: the four resource fields (cores, memory_gb, gpus,
 * hours) are number fields capped by the policy; any other name is a field
 * of the app's own, handed to its command as ${MINNA_FIELD_NAME} (and
 * {field_NAME} in the template). */
typedef struct {
  gchar         *name;
  MnAppFormType  type;
  gchar         *label;
  gchar         *help;
  MnAppSource    source;
  MnAppCap       cap;
  gdouble        min, max, step;   /* number */
  gchar         *def;              /* default as text ("" none: select takes the first option) */
  GStrv          options;          /* select, source static */
  gchar         *command;          /* select, source command: run by /bin/sh -c */
  gint64         timeout;          /* s, source command */
  gint64         cache;            /* s a command's list is kept */
  gchar         *pattern;          /* text: the whole value must match */
  GRegex        *regex;
  guint          max_length;       /* text */
  gboolean       remember;         /* the user's last value is the default */
  guint          line;             /* where its group stood (first time) */
} MnAppFormField;

typedef struct {
  gchar     *id;
  gchar     *name;
  gchar     *description;
  gchar     *command;       /* template */
  gchar     *readiness_path;
  gchar     *dir;           /* absolute directory of the .app file */
  gchar     *path;          /* the .app file */
  MnAppField fields[MN_APP_N_FIELDS];
  /* Every field of the form, resources first (cores, memory_gb, gpus,
   * hours), then the app's own in the file's order. */
  GPtrArray *form;          /* MnAppFormField* */
  gint       ref_count;
} MnApp;

/* Field names are [a-z][a-z0-9_]*, at most this long; at most this many
 * fields of an app's own. */
#define MN_APP_FIELD_NAME_MAX 32
#define MN_APP_MAX_OWN_FIELDS 32
/* A select's options, and each option's length */
#define MN_APP_MAX_OPTIONS 1000
#define MN_APP_MAX_OPTION_LENGTH 200

const gchar *mn_app_field_name (MnAppFieldId id);

MnApp     *mn_app_load (const gchar *path, GError **error);
/* @data (@length bytes) as the app file @path says: what the fuzz target and
 * the conformance corpus call; no I/O beyond the name. */
MnApp     *mn_app_load_data (const gchar *path, const gchar *data, gsize length,
                             GError **error);
MnApp     *mn_app_ref (MnApp *app);
/* Drops a reference (apps are shared by submissions in flight across a
 * SIGHUP that replaced them). */
void       mn_app_free (MnApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnApp, mn_app_free)

/* The field called @name, or NULL. */
const MnAppFormField *mn_app_find_field (const MnApp *app, const gchar *name);
const gchar *mn_app_form_type_to_string (MnAppFormType type);
const gchar *mn_app_source_to_string (MnAppSource source);
const gchar *mn_app_cap_to_string (MnAppCap cap);
/* Whether @value is a value of @field as the file allows it (number within
 * min..max on its step, checkbox true/false, text within max_length and
 * matching pattern, select one of @options: the static ones when NULL).
 * The error (MN_CONTROLLER_ERROR_INVALID) says what is wrong, without the
 * field's name. */
gboolean     mn_app_field_check (const MnAppFormField *field, const gchar *value,
                                 const gchar *const *options, GError **error);

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
