/* Unit tests: kernel names, kernel.json, the Jupyter data directory. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "mn-kernel-spec.h"

typedef struct {
  const gchar *name;
  gboolean ok;
  const gchar *message_part;
} NameCase;

static const NameCase name_cases[] = {
  { "python3", TRUE, NULL },
  { "cuda-12.1_torch", TRUE, NULL },
  { "a", TRUE, NULL },
  { "0abc", TRUE, NULL },
  { "", FALSE, "empty" },
  { "a/b", FALSE, "position 2" },
  { "../etc", FALSE, "must not start with '.'" },
  { ".hidden", FALSE, "must not start with '.'" },
  { "-rf", FALSE, "must not start with '-'" },
  { "My", FALSE, "use 'my'" },
  { "A/b", FALSE, "position 2" },
  { "with space", FALSE, "position 5" },
  { "tab\tname", FALSE, "position 4" },
  { "ünï", FALSE, "position 1" },
  { "a$b", FALSE, "a$b" },
  { "0123456789012345678901234567890123456789012345678901234567890123", TRUE, NULL },
  { "01234567890123456789012345678901234567890123456789012345678901234", FALSE, "longer than 64" },
};

static void
test_name (gconstpointer data)
{
  const NameCase *c = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = mn_kernel_name_validate (c->name, &error);
  g_assert_cmpint (ok, ==, c->ok);
  if (c->ok)
    g_assert_no_error (error);
  else
    {
      g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, c->message_part));
    }
}

static void
test_module_names (void)
{
  const struct { const gchar *m; gboolean ok; } cases[] = {
    { "cuda/12.1", TRUE }, { "gcc", TRUE }, { "intel-oneapi/2023.1.0", TRUE },
    { "python/3.11+torch", TRUE },
    { "", FALSE }, { "-f", FALSE }, { "a b", FALSE }, { "a\nb", FALSE }, { "a\tb", FALSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_cmpint (mn_kernel_module_validate (cases[i].m, &error), ==, cases[i].ok);
      if (!cases[i].ok)
        {
          g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT);
          g_assert_nonnull (strstr (error->message, "--module"));
        }
    }
}

static void
test_spec_validate (void)
{
  g_autoptr(MnKernelSpec) s = mn_kernel_spec_new ("k");
  g_autoptr(GError) error = NULL;

  g_assert_true (mn_kernel_spec_validate (s, &error));
  s->display_name = g_strdup ("");
  g_assert_false (mn_kernel_spec_validate (s, &error));
  g_assert_nonnull (strstr (error->message, "--display-name"));
  g_clear_error (&error);
  g_free (s->display_name);
  s->display_name = g_strdup ("bad\x01");
  g_assert_false (mn_kernel_spec_validate (s, &error));
  g_assert_nonnull (strstr (error->message, "control"));
  g_clear_error (&error);
  g_clear_pointer (&s->display_name, g_free);
  s->env_kind = MN_KERNEL_ENV_VENV;
  g_assert_false (mn_kernel_spec_validate (s, &error));
  g_assert_nonnull (strstr (error->message, "--venv"));
  g_clear_error (&error);
  s->env = g_strdup ("-x");
  g_assert_false (mn_kernel_spec_validate (s, &error));
  g_assert_nonnull (strstr (error->message, "option"));
}

static MnKernelSpec *
sample_spec (void)
{
  MnKernelSpec *s = mn_kernel_spec_new ("torch");
  g_ptr_array_add (s->modules, g_strdup ("cuda/12.1"));
  g_ptr_array_add (s->modules, g_strdup ("gcc/12"));
  s->env_kind = MN_KERNEL_ENV_VENV;
  s->env = g_strdup ("/home/u/venvs/torch");
  s->modulepath = g_strdup ("/apps/modules:/home/u/mods");
  s->modules_init = g_strdup ("/usr/share/lmod/lmod/init/bash");
  return s;
}

static void
test_json_generate (void)
{
  g_autoptr(MnKernelSpec) s = sample_spec ();
  g_autoptr(JsonNode) root = mn_kernel_spec_to_json (s, "/d/kernels/torch");
  JsonObject *o = json_node_get_object (root);
  JsonArray *argv = json_object_get_array_member (o, "argv");

  g_assert_cmpuint (json_array_get_length (argv), ==, 4);
  g_assert_cmpstr (json_array_get_string_element (argv, 0), ==, "/bin/bash");
  g_assert_cmpstr (json_array_get_string_element (argv, 1), ==, "/d/kernels/torch/minna-launch.sh");
  g_assert_cmpstr (json_array_get_string_element (argv, 2), ==, "-f");
  g_assert_cmpstr (json_array_get_string_element (argv, 3), ==, "{connection_file}");
  g_assert_cmpstr (json_object_get_string_member (o, "display_name"), ==, "torch (cuda/12.1, gcc/12)");
  g_assert_cmpstr (json_object_get_string_member (o, "language"), ==, "python");
  g_assert_cmpstr (json_object_get_string_member (o, "interrupt_mode"), ==, "signal");
  JsonObject *m = json_object_get_object_member (json_object_get_object_member (o, "metadata"), "minna");
  g_assert_cmpint (json_object_get_int_member (m, "version"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (m, "env_kind"), ==, "venv");
  g_assert_cmpstr (json_object_get_string_member (m, "env"), ==, "/home/u/venvs/torch");

  g_free (s->display_name);
  s->display_name = g_strdup ("PyTorch \"GPU\" — 日本語");
  g_autoptr(JsonNode) root2 = mn_kernel_spec_to_json (s, "/d/kernels/torch");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root2), "display_name"),
                   ==, "PyTorch \"GPU\" — 日本語");
}

static gchar *
write_tmp (const gchar *dir, const gchar *name, const gchar *text)
{
  gchar *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_json_round_trip (void)
{
  g_autoptr(MnKernelSpec) s = sample_spec ();
  g_autofree gchar *dir = g_dir_make_tmp ("mn-kernel-XXXXXX", NULL);
  g_autofree gchar *text = mn_kernel_spec_to_json_data (s, dir);
  g_autofree gchar *path = write_tmp (dir, "kernel.json", text);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *display = NULL;
  g_autoptr(MnKernelSpec) back = mn_kernel_spec_load (path, "torch", &display, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (display, ==, "torch (cuda/12.1, gcc/12)");
  g_assert_cmpstr (back->name, ==, "torch");
  g_assert_cmpuint (back->modules->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (back->modules, 1), ==, "gcc/12");
  g_assert_cmpint (back->env_kind, ==, MN_KERNEL_ENV_VENV);
  g_assert_cmpstr (back->env, ==, s->env);
  g_assert_cmpstr (back->modulepath, ==, s->modulepath);
  g_assert_cmpstr (back->modules_init, ==, s->modules_init);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_json_bad (void)
{
  const struct { const gchar *text; gint code; const gchar *part; } cases[] = {
    { "{", MN_KERNEL_ERROR_MALFORMED, "kernel.json" },
    { "[]", MN_KERNEL_ERROR_MALFORMED, "expected a JSON object" },
    { "{\"argv\":[]}", MN_KERNEL_ERROR_MALFORMED, "display_name" },
    { "{\"display_name\":\"x\"}", MN_KERNEL_ERROR_NOT_MANAGED, "metadata.minna" },
    { "{\"display_name\":\"x\",\"metadata\":{\"minna\":3}}", MN_KERNEL_ERROR_MALFORMED, "metadata.minna" },
    { "{\"display_name\":\"x\",\"metadata\":{\"minna\":{}}}", MN_KERNEL_ERROR_MALFORMED, "modules" },
    { "{\"display_name\":\"x\",\"metadata\":{\"minna\":{\"modules\":[1]}}}", MN_KERNEL_ERROR_MALFORMED, "modules[0]" },
    { "{\"display_name\":\"x\",\"metadata\":{\"minna\":{\"modules\":[],\"env_kind\":\"pip\"}}}", MN_KERNEL_ERROR_MALFORMED, "env_kind" },
    { "{\"display_name\":\"x\",\"metadata\":{\"minna\":{\"modules\":[],\"env_kind\":\"venv\",\"env\":7}}}", MN_KERNEL_ERROR_MALFORMED, "env" },
    { "{\"display_name\":\"x\",\"metadata\":{\"minna\":{\"modules\":[\"a b\"],\"env_kind\":\"system\"}}}", MN_KERNEL_ERROR_MALFORMED, "--module" },
  };
  g_autofree gchar *dir = g_dir_make_tmp ("mn-kernel-XXXXXX", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *path = write_tmp (dir, "kernel.json", cases[i].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(MnKernelSpec) s = mn_kernel_spec_load (path, "x", NULL, &error);
      g_assert_null (s);
      g_assert_error (error, MN_KERNEL_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, path));
      if (!strstr (error->message, cases[i].part))
        g_error ("case %zu: '%s' lacks '%s'", i, error->message, cases[i].part);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_data_dir (void)
{
  const struct { const gchar *env[4]; const gchar *want; } cases[] = {
    { { "JUPYTER_DATA_DIR=/j", "XDG_DATA_HOME=/x", "HOME=/h", NULL }, "/j" },
    { { "JUPYTER_DATA_DIR=rel/j", "HOME=/h", NULL }, "/cwd/rel/j" },
    { { "JUPYTER_DATA_DIR=", "XDG_DATA_HOME=/x", "HOME=/h", NULL }, "/x/jupyter" },
    { { "XDG_DATA_HOME=/x/", "HOME=/h", NULL }, "/x/jupyter" },
    { { "XDG_DATA_HOME=", "HOME=/h", NULL }, "/h/.local/share/jupyter" },
    { { "HOME=/home/u", NULL }, "/home/u/.local/share/jupyter" },
    { { "HOME=/home/u/../v", NULL }, "/home/v/.local/share/jupyter" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *d = mn_kernel_data_dir (cases[i].env, "/cwd");
      g_autofree gchar *k = mn_kernel_kernels_dir (cases[i].env, "/cwd");
      g_autofree gchar *want_k = g_build_filename (cases[i].want, "kernels", NULL);
      g_assert_cmpstr (d, ==, cases[i].want);
      g_assert_cmpstr (k, ==, want_k);
    }
  /* no HOME at all: the password database's home, still absolute */
  const gchar *none[] = { NULL };
  g_autofree gchar *d = mn_kernel_data_dir (none, "/cwd");
  g_assert_true (g_path_is_absolute (d));
  g_assert_true (g_str_has_suffix (d, "/.local/share/jupyter"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (name_cases); i++)
    {
      g_autofree gchar *p = g_strdup_printf ("/kernel/name/%zu", i);
      g_test_add_data_func (p, &name_cases[i], test_name);
    }
  g_test_add_func ("/kernel/name/modules", test_module_names);
  g_test_add_func ("/kernel/spec/validate", test_spec_validate);
  g_test_add_func ("/kernel/json/generate", test_json_generate);
  g_test_add_func ("/kernel/json/round-trip", test_json_round_trip);
  g_test_add_func ("/kernel/json/bad", test_json_bad);
  g_test_add_func ("/kernel/data-dir/resolve", test_data_dir);
  return g_test_run ();
}
