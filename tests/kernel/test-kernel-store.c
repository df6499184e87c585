/* Unit tests: installing, listing and removing kernelspec directories, and
 * the command line's argument handling (in subprocesses). */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mn-kernel-store.h"

static gchar *tmp;

static gchar *
kernels_dir (const gchar *sub)
{
  return g_build_filename (tmp, sub, "kernels", NULL);
}

static guint
count_hidden (const gchar *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *n;
  guint count = 0;
  while (d && (n = g_dir_read_name (d)) != NULL)
    count += n[0] == '.';
  return count;
}

static MnKernelSpec *
spec (const gchar *name, const gchar *display)
{
  MnKernelSpec *s = mn_kernel_spec_new (name);
  g_ptr_array_add (s->modules, g_strdup ("cuda/12.1"));
  s->display_name = g_strdup (display);
  s->env_kind = MN_KERNEL_ENV_PYTHON;
  s->env = g_strdup ("/usr/bin/python3");
  return s;
}

static void
test_install_replace (void)
{
  g_autofree gchar *kd = kernels_dir ("install");
  g_autoptr(MnKernelSpec) s1 = spec ("gpu", "GPU one");
  g_autoptr(MnKernelSpec) s2 = spec ("gpu", "GPU two");
  g_autoptr(GError) error = NULL;

  g_assert_true (mn_kernel_store_install (kd, s1, FALSE, &error));
  g_assert_no_error (error);
  g_autofree gchar *launcher = g_build_filename (kd, "gpu", "minna-launch.sh", NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (launcher, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0755);
  g_autofree gchar *kdir = g_build_filename (kd, "gpu", NULL);
  g_assert_cmpint (g_stat (kdir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0755);

  g_assert_false (mn_kernel_store_install (kd, s2, FALSE, &error));
  g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "--force"));
  g_clear_error (&error);
  g_autoptr(MnKernelSpec) still = mn_kernel_store_lookup (kd, "gpu", &error);
  g_assert_cmpstr (still->display_name, ==, "GPU one");

  g_assert_true (mn_kernel_store_install (kd, s2, TRUE, &error));
  g_assert_no_error (error);
  g_autoptr(MnKernelSpec) now = mn_kernel_store_lookup (kd, "gpu", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (now->display_name, ==, "GPU two");
  g_assert_cmpuint (count_hidden (kd), ==, 0);

  g_autoptr(MnKernelSpec) bad = spec ("Bad/Name", NULL);
  g_assert_false (mn_kernel_store_install (kd, bad, FALSE, &error));
  g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT);
}

static void
test_list_remove (void)
{
  g_autofree gchar *kd = kernels_dir ("list");
  g_autoptr(GError) error = NULL;
  g_autoptr(MnKernelSpec) a = spec ("a-kernel", NULL);
  g_autoptr(MnKernelSpec) b = spec ("b-kernel", "B");

  g_autoptr(GPtrArray) none = mn_kernel_store_list (kd, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);

  g_assert_true (mn_kernel_store_install (kd, b, FALSE, &error));
  g_assert_true (mn_kernel_store_install (kd, a, FALSE, &error));
  /* someone else's kernel, and a broken one */
  g_autofree gchar *other = g_build_filename (kd, "python3", NULL);
  g_autofree gchar *broken = g_build_filename (kd, "broken", NULL);
  g_mkdir_with_parents (other, 0755);
  g_mkdir_with_parents (broken, 0755);
  g_autofree gchar *oj = g_build_filename (other, "kernel.json", NULL);
  g_autofree gchar *bj = g_build_filename (broken, "kernel.json", NULL);
  g_assert_true (g_file_set_contents (oj, "{\"argv\":[\"python3\"],\"display_name\":\"Python 3\",\"language\":\"python\"}", -1, NULL));
  g_assert_true (g_file_set_contents (bj, "{\"display_name\":", -1, NULL));

  g_autoptr(GPtrArray) all = mn_kernel_store_list (kd, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 4);
  const gchar *names[] = { "a-kernel", "b-kernel", "broken", "python3" };
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr (((MnKernelEntry *) g_ptr_array_index (all, i))->name, ==, names[i]);
  MnKernelEntry *ea = g_ptr_array_index (all, 0);
  MnKernelEntry *eb = g_ptr_array_index (all, 2);
  MnKernelEntry *ep = g_ptr_array_index (all, 3);
  g_assert_nonnull (ea->spec);
  g_assert_cmpstr (ea->display_name, ==, "a-kernel (cuda/12.1)");
  g_assert_null (eb->spec);
  g_assert_nonnull (eb->problem);
  g_assert_null (ep->spec);
  g_assert_null (ep->problem);
  g_assert_cmpstr (ep->display_name, ==, "Python 3");

  g_assert_false (mn_kernel_store_remove (kd, "python3", FALSE, &error));
  g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_MANAGED);
  g_assert_nonnull (strstr (error->message, "--force"));
  g_clear_error (&error);
  g_assert_true (g_file_test (oj, G_FILE_TEST_EXISTS));
  g_assert_false (mn_kernel_store_remove (kd, "nothing", FALSE, &error));
  g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mn_kernel_store_remove (kd, "../list", TRUE, &error));
  g_assert_error (error, MN_KERNEL_ERROR, MN_KERNEL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (mn_kernel_store_remove (kd, "a-kernel", FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (mn_kernel_store_remove (kd, "broken", TRUE, &error));
  g_assert_true (mn_kernel_store_remove (kd, "python3", TRUE, &error));
  g_assert_no_error (error);
  g_autoptr(GPtrArray) left = mn_kernel_store_list (kd, &error);
  g_assert_cmpuint (left->len, ==, 1);
  g_assert_cmpuint (count_hidden (kd), ==, 0);
}

/* minna-kernel ARGS in an environment whose data dir is under tmp. */
static gint
run_cli (const gchar *sub, gchar **out, gchar **err, ...)
{
  const gchar *build = g_getenv ("MINNA_BUILD_DIR");
  g_autofree gchar *exe = g_build_filename (build, "kernel", "minna-kernel", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree gchar *data = g_build_filename (tmp, sub, NULL);
  g_auto(GStrv) env = g_get_environ ();
  va_list ap;
  gint status = -1;

  g_ptr_array_add (argv, exe);
  va_start (ap, err);
  for (const gchar *a = va_arg (ap, const gchar *); a; a = va_arg (ap, const gchar *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  env = g_environ_setenv (env, "JUPYTER_DATA_DIR", data, TRUE);
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, NULL));
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_cli_usage (void)
{
  const struct { const gchar *args[6]; gint code; const gchar *part; } cases[] = {
    { { NULL }, 2, "no command given" },
    { { "--help" }, 0, "remove NAME" },
    { { "frobnicate" }, 2, "unknown command 'frobnicate'" },
    { { "add" }, 2, "expected a kernel NAME" },
    { { "add", "a", "b" }, 2, "exactly one" },
    { { "add", "k", "--bogus" }, 2, "--bogus" },
    { { "add", "k", "--python", "/x", "--venv", "/y" }, 2, "exclude each other" },
    { { "add", "a/b", "--module", "m" }, 2, "position 2" },
    { { "add", "k", "--module", "a b" }, 2, "blank" },
    { { "add", "k", "--timeout", "0" }, 2, "--timeout" },
    { { "add", "--help" }, 0, "--display-name" },
    { { "check" }, 2, "expected a kernel NAME" },
    { { "check", "nothing" }, 1, "no kernel 'nothing'" },
    { { "check", "No" }, 1, "use 'no'" },
    { { "remove", "nothing" }, 1, "no kernel 'nothing'" },
    { { "list", "extra" }, 2, "unexpected argument" },
    { { "list" }, 0, "no kernels in" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *out = NULL, *err = NULL;
      const gchar *const *a = cases[i].args;
      gint code = run_cli ("cli", &out, &err, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
      g_autofree gchar *both = g_strconcat (out, err, NULL);
      if (code != cases[i].code || !strstr (both, cases[i].part))
        g_error ("case %zu (%s): exit %d, output '%s'; wanted %d and '%s'",
                 i, a[0] ? a[0] : "(none)", code, both, cases[i].code, cases[i].part);
    }
}

static void
test_cli_list_json (void)
{
  g_autofree gchar *kd = kernels_dir ("cli-json");
  g_autoptr(MnKernelSpec) s = spec ("listed", "Listed \"one\"");
  g_autoptr(GError) error = NULL;
  g_assert_true (mn_kernel_store_install (kd, s, FALSE, &error));

  g_autofree gchar *out = NULL, *err = NULL;
  g_assert_cmpint (run_cli ("cli-json", &out, &err, "list", "--json", NULL), ==, 0);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, out, -1, &error));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (o, "kernels_dir"), ==, kd);
  JsonArray *ks = json_object_get_array_member (o, "kernels");
  g_assert_cmpuint (json_array_get_length (ks), ==, 1);
  JsonObject *k = json_array_get_object_element (ks, 0);
  g_assert_cmpstr (json_object_get_string_member (k, "name"), ==, "listed");
  g_assert_cmpstr (json_object_get_string_member (k, "display_name"), ==, "Listed \"one\"");
  g_assert_true (json_object_get_boolean_member (k, "managed"));
  g_assert_cmpstr (json_object_get_string_member (k, "env_kind"), ==, "python");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (k, "modules"), 0),
                   ==, "cuda/12.1");

  /* check --json on a missing kernel still answers JSON, with the reason */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli ("cli-json", &out, &err, "check", "gone", "--json", NULL), ==, 1);
  g_autoptr(JsonParser) p2 = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p2, out, -1, &error));
  JsonObject *c = json_node_get_object (json_parser_get_root (p2));
  g_assert_false (json_object_get_boolean_member (c, "ok"));
  JsonObject *e = json_object_get_object_member (c, "error");
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "not-found");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("mn-kernel-store-XXXXXX", NULL);
  g_test_add_func ("/kernel/store/install-replace", test_install_replace);
  g_test_add_func ("/kernel/store/list-remove", test_list_remove);
  g_test_add_func ("/kernel/cli/usage", test_cli_usage);
  g_test_add_func ("/kernel/cli/list-json", test_cli_list_json);
  int rc = g_test_run ();
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  if (system (cmd) != 0)
    g_printerr ("# could not remove %s\n", tmp);
  return rc;
}
