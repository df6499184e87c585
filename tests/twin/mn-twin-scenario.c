/* mn-twin-scenario.c: twin scenario files (format in scenarios/README.md).
 * A small line reader of its own so that every error names FILE:LINE; sizes
 * and durations use interactive.conf's grammar (mn_policy_parse_size/_duration),
 * [policy] keys go through mn_policy_config_set. */
#define G_LOG_DOMAIN "minna-twin"

#include <string.h>

#include "mn-twin.h"

G_DEFINE_QUARK (mn-twin-error-quark, mn_twin_error)

#define MAX_COUNT 1000

typedef struct {
  gchar    *name;
  gchar    *user;
  guint     line;
  guint     count;
  gint64    every;
  gint64    exit_every;
  MnTwinSession s;       /* the template */
} SessionGroup;

static void
session_free (MnTwinSession *s)
{
  if (s == NULL)
    return;
  g_free (s->name);
  g_free (s->user);
  g_clear_pointer (&s->use, g_array_unref);
  g_free (s);
}

void
mn_twin_scenario_free (MnTwinScenario *sc)
{
  if (sc == NULL)
    return;
  g_free (sc->path);
  g_free (sc->name);
  g_free (sc->description);
  mn_policy_config_free (sc->policy);
  g_clear_pointer (&sc->sessions, g_ptr_array_unref);
  g_free (sc);
}

static void
group_free (SessionGroup *g)
{
  g_free (g->name);
  g_free (g->user);
  g_clear_pointer (&g->s.use, g_array_unref);
  g_free (g);
}

guint64
mn_twin_session_memory_at (const MnTwinSession *s, gint64 offset)
{
  guint64 m = 0;

  for (guint i = 0; s->use != NULL && i < s->use->len; i++)
    {
      const MnTwinStep *st = &g_array_index (s->use, MnTwinStep, i);

      if (st->offset > offset)
        break;
      m = st->memory_mb;
    }
  return m;
}

/* ---- Values ------------------------------------------------------------------ */

static gboolean
fail (GError **error, const gchar *path, guint line, const gchar *fmt, ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (GError **error, const gchar *path, guint line, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, MN_TWIN_ERROR, MN_TWIN_ERROR_PARSE, "%s:%u: %s", path, line, msg);
  return FALSE;
}

static gboolean
parse_uint (const gchar *text, guint max, guint *out)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, 0, max, &v, NULL))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

/* "0:32M 10:64M 20s:1G" */
static gboolean
parse_steps (const gchar *text, GArray *out)
{
  g_auto (GStrv) items = g_strsplit_set (text, " \t,", -1);
  gint64 last = -1;

  for (guint i = 0; items[i] != NULL; i++)
    {
      g_auto (GStrv) kv = NULL;
      MnTwinStep st;

      if (items[i][0] == '\0')
        continue;
      kv = g_strsplit (items[i], ":", 2);
      if (g_strv_length (kv) != 2 || !mn_policy_parse_duration (kv[0], &st.offset) ||
          !mn_policy_parse_size (kv[1], &st.memory_mb) || st.offset <= last)
        return FALSE;
      last = st.offset;
      g_array_append_val (out, st);
    }
  return out->len > 0;
}

static const gchar *const session_keys[] = {
  "count", "every", "exit_every", "user", "at", "cores", "memory", "gpus", "walltime",
  "if_busy", "use", "busy", "exit", "gpu_use", NULL
};

static gboolean
set_session_key (SessionGroup *g, const gchar *key, const gchar *value,
                 const gchar *path, guint line, GError **error)
{
  MnTwinSession *s = &g->s;
  gboolean ok = TRUE;
  const gchar *expect = NULL;

  if (g_str_equal (key, "count"))
    ok = parse_uint (value, MAX_COUNT, &g->count) && g->count > 0, expect = "1..1000";
  else if (g_str_equal (key, "every"))
    ok = mn_policy_parse_duration (value, &g->every), expect = "a duration";
  else if (g_str_equal (key, "exit_every"))
    ok = mn_policy_parse_duration (value, &g->exit_every), expect = "a duration";
  else if (g_str_equal (key, "user"))
    {
      ok = value[0] != '\0' && strpbrk (value, " \t,") == NULL;
      expect = "a user name without blanks or commas";
      if (ok)
        {
          g_free (g->user);
          g->user = g_strdup (value);
        }
    }
  else if (g_str_equal (key, "at"))
    ok = mn_policy_parse_duration (value, &s->at), expect = "a duration";
  else if (g_str_equal (key, "cores"))
    ok = parse_uint (value, 4096, &s->cores), expect = "0..4096";
  else if (g_str_equal (key, "memory"))
    ok = mn_policy_parse_size (value, &s->memory_mb), expect = "a size (M, G, T)";
  else if (g_str_equal (key, "gpus"))
    ok = parse_uint (value, 64, &s->gpus), expect = "0..64";
  else if (g_str_equal (key, "walltime"))
    ok = mn_policy_parse_duration (value, &s->walltime), expect = "a duration";
  else if (g_str_equal (key, "if_busy"))
    {
      expect = "wait or give_up";
      if (g_str_equal (value, "wait"))
        s->if_busy = MN_IF_BUSY_WAIT;
      else if (g_str_equal (value, "give_up"))
        s->if_busy = MN_IF_BUSY_GIVE_UP;
      else
        ok = FALSE;
    }
  else if (g_str_equal (key, "use"))
    {
      g_array_set_size (s->use, 0);
      ok = parse_steps (value, s->use);
      expect = "OFFSET:SIZE steps with rising offsets, e.g. '0:32M 10s:64M'";
    }
  else if (g_str_equal (key, "busy"))
    ok = mn_policy_parse_duration (value, &s->busy), expect = "a duration";
  else if (g_str_equal (key, "exit"))
    {
      expect = "a duration or 'never'";
      if (g_str_equal (value, "never"))
        s->exit = -1;
      else
        ok = mn_policy_parse_duration (value, &s->exit);
    }
  else if (g_str_equal (key, "gpu_use"))
    ok = mn_policy_parse_size (value, &s->gpu_use_mb), expect = "a size (M, G, T)";
  else
    {
      g_autofree gchar *known = g_strjoinv (", ", (gchar **) session_keys);

      return fail (error, path, line, "unknown key '%s' in [session %s] (known: %s)",
                   key, g->name, known);
    }
  if (!ok)
    return fail (error, path, line, "[session %s] %s: value '%s' is not %s",
                 g->name, key, value, expect);
  return TRUE;
}

static gboolean
name_is_valid (const gchar *name)
{
  if (!g_ascii_isalnum (name[0]))
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

/* "student{n}" -> "student07" */
static gchar *
expand_user (const gchar *user, const gchar *number)
{
  g_auto (GStrv) parts = g_strsplit (user, "{n}", -1);

  return g_strjoinv (number, parts);
}

static gint
by_at (gconstpointer a, gconstpointer b)
{
  const MnTwinSession *x = *(MnTwinSession *const *) a, *y = *(MnTwinSession *const *) b;

  return x->at < y->at ? -1 : x->at > y->at;
}

/* Expands the session groups into sessions, checks names are unique. */
static gboolean
expand (MnTwinScenario *sc, GPtrArray *groups, GError **error)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < groups->len; i++)
    {
      SessionGroup *g = g_ptr_array_index (groups, i);
      guint width = g->count >= 100 ? 3 : 2;

      if (g->s.exit >= 0 && g->s.busy > g->s.exit)
        return fail (error, sc->path, g->line, "[session %s] busy (%" G_GINT64_FORMAT
                     " s) is after exit (%" G_GINT64_FORMAT " s)", g->name, g->s.busy, g->s.exit);
      if (g->s.use->len == 0)
        return fail (error, sc->path, g->line, "[session %s] has no 'use' (its memory "
                     "footprint, e.g. use = 0:64M)", g->name);
      for (guint k = 0; k < g->count; k++)
        {
          MnTwinSession *s = g_new0 (MnTwinSession, 1);
          g_autofree gchar *number = g_strdup_printf ("%0*u", width, k + 1);

          *s = g->s;
          s->use = g_array_copy (g->s.use);
          s->name = g->count == 1 ? g_strdup (g->name)
                                  : g_strdup_printf ("%s-%s", g->name, number);
          s->user = expand_user (g->user != NULL ? g->user : g->name, number);
          s->at = g->s.at + (gint64) k * g->every;
          if (s->exit >= 0)
            s->exit += (gint64) k * g->exit_every;
          if (g_hash_table_contains (names, s->name))
            {
              fail (error, sc->path, g->line, "session name '%s' is used twice", s->name);
              session_free (s);
              return FALSE;
            }
          g_hash_table_add (names, s->name);
          g_ptr_array_add (sc->sessions, s);
        }
    }
  if (sc->sessions->len == 0)
    return fail (error, sc->path, 1, "no [session NAME] group: nothing to run");
  /* Stable: sessions launched at the same second keep the file's order. */
  g_ptr_array_sort (sc->sessions, by_at);
  return TRUE;
}

MnTwinScenario *
mn_twin_scenario_load_data (const gchar *data, gsize length, const gchar *path, GError **error)
{
  g_autoptr (MnTwinScenario) sc = g_new0 (MnTwinScenario, 1);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  enum { NONE, SCENARIO, POLICY, SESSION } where = NONE;
  SessionGroup *g = NULL;

  sc->path = g_strdup (path);
  sc->policy = mn_policy_config_new_default ();
  sc->sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) session_free);
  sc->tolerance = 3;
  if (length == (gsize) -1)
    length = strlen (data);
  if (memchr (data, '\0', length) != NULL || !g_utf8_validate (data, length, NULL))
    {
      fail (error, path, 1, "not UTF-8 text");
      return NULL;
    }
  text = g_strndup (data, length);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint line = i + 1;
      gchar *l = g_strstrip (lines[i]);
      const gchar *eq;
      g_autofree gchar *key = NULL;
      g_autofree gchar *value = NULL;

      if (l[0] == '\0' || l[0] == '#')
        continue;
      if (l[0] == '[')
        {
          gsize n = strlen (l);
          g_autofree gchar *inside = NULL;

          if (n < 3 || l[n - 1] != ']')
            {
              fail (error, path, line, "malformed group line '%s'", l);
              return NULL;
            }
          inside = g_strstrip (g_strndup (l + 1, n - 2));
          if (g_str_equal (inside, "scenario"))
            where = SCENARIO;
          else if (g_str_equal (inside, "policy"))
            where = POLICY;
          else if (g_str_has_prefix (inside, "session ") &&
                   name_is_valid (g_strstrip (inside + strlen ("session "))))
            {
              where = SESSION;
              g = g_new0 (SessionGroup, 1);
              g->name = g_strdup (g_strstrip (inside + strlen ("session ")));
              g->line = line;
              g->count = 1;
              g->s.exit = -1;
              g->s.if_busy = MN_IF_BUSY_WAIT;
              g->s.use = g_array_new (FALSE, FALSE, sizeof (MnTwinStep));
              g_ptr_array_add (groups, g);
            }
          else
            {
              fail (error, path, line, "unknown group [%s] (expected [scenario], [policy] "
                    "or [session NAME], NAME of letters, digits, '-', '_', '.')", inside);
              return NULL;
            }
          continue;
        }
      eq = strchr (l, '=');
      if (eq == NULL || eq == l)
        {
          fail (error, path, line, "line '%s' is neither '[group]', 'key = value' nor "
                "a '#' comment", l);
          return NULL;
        }
      key = g_strstrip (g_strndup (l, eq - l));
      value = g_strstrip (g_strdup (eq + 1));
      switch (where)
        {
        case NONE:
          fail (error, path, line, "key '%s' comes before any group", key);
          return NULL;
        case SCENARIO:
          if (g_str_equal (key, "name"))
            g_free (sc->name), sc->name = g_strdup (value);
          else if (g_str_equal (key, "description"))
            g_free (sc->description), sc->description = g_strdup (value);
          else if (g_str_equal (key, "tolerance"))
            {
              if (!mn_policy_parse_duration (value, &sc->tolerance))
                {
                  fail (error, path, line, "[scenario] tolerance: value '%s' is not a duration", value);
                  return NULL;
                }
            }
          else
            {
              fail (error, path, line, "unknown key '%s' in [scenario] (known: name, "
                    "description, tolerance)", key);
              return NULL;
            }
          break;
        case POLICY:
          {
            g_auto (GStrv) gk = g_strsplit (key, ".", 2);
            g_autoptr (GError) local = NULL;

            if (g_strv_length (gk) != 2)
              {
                fail (error, path, line, "[policy] key '%s' is not GROUP.KEY of "
                      "interactive.conf (e.g. queue.nodes)", key);
                return NULL;
              }
            if (!mn_policy_config_set (sc->policy, gk[0], gk[1], value, &local))
              {
                fail (error, path, line, "[policy] %s", local->message);
                return NULL;
              }
          }
          break;
        case SESSION:
          if (!set_session_key (g, key, value, path, line, error))
            return NULL;
          break;
        }
    }
  {
    g_autoptr (GError) local = NULL;

    if (!mn_policy_config_validate (sc->policy, &local))
      {
        fail (error, path, 1, "[policy] %s", local->message);
        return NULL;
      }
  }
  if (sc->name == NULL)
    {
      g_autofree gchar *base = g_path_get_basename (path);
      gchar *dot = strrchr (base, '.');

      if (dot != NULL)
        *dot = '\0';
      sc->name = g_strdup (base);
    }
  if (!expand (sc, groups, error))
    return NULL;
  return g_steal_pointer (&sc);
}

MnTwinScenario *
mn_twin_scenario_load (const gchar *path, GError **error)
{
  g_autofree gchar *data = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &data, &length, error))
    return NULL;
  return mn_twin_scenario_load_data (data, length, path, error);
}
