/* fuzz-app.c: a libFuzzer harness for app files (daemons/controller/apps,
 * written by a site's admins: trusted-ish, but parsed strictly).  Every
 * input must load or fail with a message naming the file; whatever loads
 * must check its own defaults as valid, expand its command and render a
 * job script with those defaults. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "mn-controller-app.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MnApp) app = mn_app_load_data ("/fuzz/fuzz.app", (const gchar *) data, size, &error);
  g_autoptr (MnSession) s = NULL;
  g_autoptr (GString) form = g_string_new ("{");
  g_autofree gchar *cmd = NULL, *script = NULL, *app_script = NULL;
  MnJobScriptOptions o = { "/usr/bin/minna-controller job-launch", "127.0.0.1", 20000, 20100,
                           "/tmp/ports", 4 };

  if (app == NULL)
    {
      g_assert (g_str_has_prefix (error->message, "/fuzz/fuzz.app"));
      return 0;
    }
  g_assert (app->form->len >= MN_APP_N_FIELDS);
  for (guint i = 0; i < app->form->len; i++)
    {
      const MnAppFormField *f = g_ptr_array_index (app->form, i);
      g_autoptr (GError) e = NULL;
      g_autofree gchar *q = g_strescape (f->def, NULL);
      /* a default the file holds is one the field takes (a select's from a
       * list made later is checked then) */
      if (f->def[0] != '\0' && !(f->type == MN_APP_FORM_SELECT && f->source != MN_APP_SOURCE_STATIC))
        g_assert (mn_app_field_check (f, f->def, NULL, &e));
      g_assert (mn_app_find_field (app, f->name) == f);
      if (i >= MN_APP_N_FIELDS)
        g_string_append_printf (form, "%s\"%s\": \"%s\"", form->len > 1 ? ", " : "", f->name, q);
    }
  g_string_append_c (form, '}');
  cmd = mn_app_expand_command (app, &error);
  g_assert (cmd != NULL);
  s = mn_session_new ();
  s->id = g_strdup ("fuzz0001");
  s->form = g_strdup (form->str);
  script = mn_app_render_job_script (app, s, "/tmp/session", &o, &error);
  app_script = mn_app_render_app_script (app, &error);
  g_assert (script != NULL && app_script != NULL);
  return 0;
}
