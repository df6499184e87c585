/* mn-sweep-world.c: see mn-sweep-world.h. */
#define G_LOG_DOMAIN "minna-sweep"

#include <math.h>
#include <string.h>

#include "mn-sweep-world.h"

/* The generator's name for a knob, where it differs from the [world] key:
 * its error messages name its own option. */
static void
set_knob (MnTraceGenOptions *o, MnWorldKnob knob, gdouble v)
{
  switch (knob)
    {
    case MN_WORLD_MONTHS: o->months = (guint) v; break;
    case MN_WORLD_LOAD: o->load_scale = v; break;
    case MN_WORLD_MAINTENANCE: o->maintenance = v != 0; break;
    case MN_WORLD_LIMITS: o->limits = v != 0; break;
    case MN_WORLD_TRIAL_START: o->trial_start = (gint) v; break;
    case MN_WORLD_INTERACTIVE_DEMAND: o->interactive_demand = v; break;
    case MN_WORLD_REGULAR_USERS: o->regular_users = (guint) v; break;
    case MN_WORLD_REGULAR_USERS_NEXT: o->regular_users_next = (guint) v; break;
    case MN_WORLD_LECTURE_SIZE: o->lecture_size = v; break;
    case MN_WORLD_WEBAPP_SHARE: o->webapp_share = v; break;
    case MN_WORLD_WEBAPP_TO_ALLQ: o->webapp_to_allq = v; break;
    case MN_WORLD_GPU_SHARE: o->gpu_share = v; break;
    case MN_WORLD_GPU_MEMORY: o->gpu_memory_mb = v; break;
    case MN_WORLD_MEMORY_TAIL_SHARE: o->memory_tail_share = v; break;
    case MN_WORLD_MEMORY_TAIL_ALPHA: o->memory_tail_alpha = v; break;
    case MN_WORLD_BUSY_SHARE: o->busy_share = v; break;
    case MN_WORLD_BUSY_CORES: o->busy_cores = (guint) v; break;
    case MN_WORLD_BUSY_CORES_HEAVY: o->busy_cores_heavy = (guint) v; break;
    case MN_WORLD_N_KNOBS:
    default: g_assert_not_reached ();
    }
}

gdouble
mn_sweep_world_get (const MnTraceGenOptions *o, MnWorldKnob knob)
{
  switch (knob)
    {
    case MN_WORLD_MONTHS: return o->months;
    case MN_WORLD_LOAD: return o->load_scale;
    case MN_WORLD_MAINTENANCE: return o->maintenance ? 1 : 0;
    case MN_WORLD_LIMITS: return o->limits ? 1 : 0;
    case MN_WORLD_TRIAL_START: return o->trial_start;
    case MN_WORLD_INTERACTIVE_DEMAND: return o->interactive_demand;
    case MN_WORLD_REGULAR_USERS: return o->regular_users;
    case MN_WORLD_REGULAR_USERS_NEXT: return o->regular_users_next;
    case MN_WORLD_LECTURE_SIZE: return o->lecture_size;
    case MN_WORLD_WEBAPP_SHARE: return o->webapp_share;
    case MN_WORLD_WEBAPP_TO_ALLQ: return o->webapp_to_allq;
    case MN_WORLD_GPU_SHARE: return o->gpu_share;
    case MN_WORLD_GPU_MEMORY: return o->gpu_memory_mb;
    case MN_WORLD_MEMORY_TAIL_SHARE: return o->memory_tail_share;
    case MN_WORLD_MEMORY_TAIL_ALPHA: return o->memory_tail_alpha;
    case MN_WORLD_BUSY_SHARE: return o->busy_share;
    case MN_WORLD_BUSY_CORES: return o->busy_cores;
    case MN_WORLD_BUSY_CORES_HEAVY: return o->busy_cores_heavy;
    case MN_WORLD_N_KNOBS:
    default: g_return_val_if_reached (NAN);
    }
}

void
mn_sweep_world_options (const MnSweepScenario *s, guint64 seed, MnTraceGenOptions *o)
{
  mn_trace_gen_options_init (o);
  o->seed = seed;
  o->fiscal_year = (gint) s->fiscal_year;
  if (s->machine_nodes > 0)
    o->nodes = (guint) s->machine_nodes;
  for (guint k = 0; k < MN_WORLD_N_KNOBS; k++)
    if (s->knobs[k].set)
      set_knob (o, k, s->knobs[k].value);
  if (s->lectures != NULL)
    o->lectures = s->lectures;
}

gboolean
mn_sweep_world_check (const MnSweepScenario *s, const gchar **key, GError **error)
{
  MnTraceGenOptions o;
  g_autoptr (GError) local = NULL;

  mn_sweep_world_options (s, 1, &o);
  if (mn_trace_gen_options_validate (&o, &local))
    return TRUE;
  /* name the key the generator complains about, if its message names one */
  *key = "seeds";
  if (s->lectures != NULL && strstr (local->message, "lecture") != NULL)
    *key = "lectures";
  for (guint k = 0; k < MN_WORLD_N_KNOBS; k++)
    if (s->knobs[k].set && strstr (local->message, mn_world_knob_to_string (k)) != NULL)
      *key = mn_world_knob_to_string (k);
  g_set_error (error, MN_SWEEP_ERROR, MN_SWEEP_ERROR_INVALID_VALUE, "the generator refuses it: %s",
               local->message);
  return FALSE;
}

gchar *
mn_sweep_world_default_text (MnWorldKnob knob)
{
  MnTraceGenOptions o;
  gdouble v;

  mn_trace_gen_options_init (&o);
  v = mn_sweep_world_get (&o, knob);
  switch (knob)
    {
    case MN_WORLD_MAINTENANCE:
    case MN_WORLD_LIMITS:
      return g_strdup (v != 0 ? "true" : "false");
    case MN_WORLD_GPU_MEMORY:
      return g_strdup_printf ("%.0fM", v);
    case MN_WORLD_MONTHS:
    case MN_WORLD_LOAD:
    case MN_WORLD_TRIAL_START:
    case MN_WORLD_INTERACTIVE_DEMAND:
    case MN_WORLD_REGULAR_USERS:
    case MN_WORLD_REGULAR_USERS_NEXT:
    case MN_WORLD_LECTURE_SIZE:
    case MN_WORLD_WEBAPP_SHARE:
    case MN_WORLD_WEBAPP_TO_ALLQ:
    case MN_WORLD_GPU_SHARE:
    case MN_WORLD_MEMORY_TAIL_SHARE:
    case MN_WORLD_MEMORY_TAIL_ALPHA:
    case MN_WORLD_BUSY_SHARE:
    case MN_WORLD_BUSY_CORES:
    case MN_WORLD_BUSY_CORES_HEAVY:
    case MN_WORLD_N_KNOBS:
    default:
      {
        gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

        return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", v));
      }
    }
}

/* The generator's own schedule when the option is NULL (its header says
 * which); kept in one place so that the key table shows it. */
gchar *
mn_sweep_world_default_lectures (void)
{
  MnTraceGenOptions o;

  mn_trace_gen_options_init (&o);
  return g_strdup (o.lectures != NULL ? o.lectures : MN_TRACE_GEN_DEFAULT_LECTURES);
}

JsonObject *
mn_sweep_world_describe (const MnSweepScenario *s)
{
  JsonObject *out = json_object_new ();
  JsonArray *set = json_array_new ();
  MnTraceGenOptions o;

  mn_sweep_world_options (s, 0, &o);
  json_object_set_string_member (out, "generator", "minna-tracegen");
  json_object_set_int_member (out, "fiscal_year", o.fiscal_year);
  json_object_set_int_member (out, "nodes", o.nodes);
  for (guint k = 0; k < MN_WORLD_N_KNOBS; k++)
    {
      const gchar *name = mn_world_knob_to_string (k);
      gdouble v = mn_sweep_world_get (&o, k);

      if (k == MN_WORLD_MAINTENANCE || k == MN_WORLD_LIMITS)
        json_object_set_boolean_member (out, name, v != 0);
      else if (v == floor (v) && fabs (v) < 1e15)
        json_object_set_int_member (out, name, (gint64) v);
      else
        json_object_set_double_member (out, name, v);
      if (s->knobs[k].set)
        json_array_add_string_element (set, name);
    }
  {
    g_autofree gchar *def = mn_sweep_world_default_lectures ();

    json_object_set_string_member (out, "lectures", s->lectures != NULL ? s->lectures : def);
    if (s->lectures != NULL)
      json_array_add_string_element (set, "lectures");
  }
  json_object_set_array_member (out, "set", set);
  return out;
}
