/* mn-controller-form.h: an app's launch form (its [field NAME] groups,
 * mn-controller-app.h) for one user: what the portal draws from
 * (GET /api/v1/apps/ID/form) and what a launch request is checked against.
 *
 * Options of a select come from the file (static), from the user's own
 * Jupyter kernels (user-kernels: minna-kernel's last list for the user,
 * mn-controller-kernels.h) or from a site command (command: run by /bin/sh
 * -c as the controller's account, one option per line, killed with its
 * process group after the field's timeout, at most 64 KiB of output, its
 * list kept for the field's cache time and refreshed in the background).
 * Number fields with source = policy (the resource fields always) are
 * bounded by the policy's cap on the interactive queue. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "mn-controller-app.h"
#include "mn-controller-kernels.h"
#include "mn-policy.h"

G_BEGIN_DECLS

/* A site command's output beyond this is refused (the command killed). */
#define MN_FORM_COMMAND_MAX_OUTPUT (64 * 1024)

typedef struct _MnFormSources MnFormSources;

/* @kernels is borrowed and must outlive the returned object. */
MnFormSources *mn_form_sources_new (MnControllerKernels *kernels);
/* Commands still running are killed. */
void           mn_form_sources_free (MnFormSources *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnFormSources, mn_form_sources_free)

/* The options of select @field for @user now; NULL when not known (yet):
 * @why (may be NULL) says why.  Starts the field's command when its list
 * is missing or older than its cache time.  For user-kernels, NULL means
 * "no list made for the user yet". */
GStrv mn_form_sources_options (MnFormSources *self, const MnApp *app,
                               const MnAppFormField *field, const gchar *user, gchar **why);
/* Starts the command of every command field of @apps whose list is
 * missing (at start and after SIGHUP). */
void  mn_form_sources_prefetch (MnFormSources *self, const GPtrArray *apps);
/* Whether a command of @field is running now. */
gboolean mn_form_sources_pending (MnFormSources *self, const MnApp *app,
                                  const MnAppFormField *field);

/* The policy's value of @cap (max_cores, ...), for the interactive queue. */
gdouble mn_form_policy_cap (const MnPolicyConfig *policy, MnAppCap cap);

/* GET /api/v1/apps/ID/form: {"app", "name", "description", "fields": [...]}
 * with each field's type, label, help, bounds (and the policy's cap),
 * options, default (the user's last value when the field remembers it) and
 * source.  @last: the user's last values for this app (or NULL). */
JsonNode *mn_form_describe (MnFormSources *self, const MnApp *app,
                            const MnPolicyConfig *policy, JsonObject *last,
                            const gchar *user);

/* The app's own fields of a launch request @request (members named like
 * the fields; strings, a number field's value may be a JSON number, a
 * checkbox's a JSON boolean): each checked against the app file (and the
 * options now).  A field missing takes the user's last value (@last) when
 * it remembers it and that is still valid, else its default.  Returns the
 * values as JSON object text (the session's form), or NULL with *@field
 * set and @error (MN_CONTROLLER_ERROR_INVALID) saying what is wrong. */
gchar    *mn_form_read_own (MnFormSources *self, const MnApp *app, JsonObject *request,
                            JsonObject *last, const gchar *user, gchar **field,
                            GError **error);

G_END_DECLS
