/* mn-sweep-world.h: a scenario's [world] as minna-tracegen's options
 * (sim/trace/mn-trace-gen.h).  The sweep generates the world of each seed
 * in-process; this is the one place that knows how the scenario's keys
 * map onto the generator's options. */
#pragma once

#include <json-glib/json-glib.h>

#include "mn-sweep-scenario.h"
#include "mn-trace-gen.h"

G_BEGIN_DECLS

/* FALSE (with the offending key in @key) when the generator refuses the
 * knobs (mn_trace_gen_options_validate: a value out of its range, a lecture
 * schedule that does not parse). */
gboolean mn_sweep_world_check (const MnSweepScenario *scenario, const gchar **key,
                               GError **error);

/* The generator's options for @seed: its defaults, then the scenario's
 * machine size and every knob the scenario sets.  @options borrows the
 * scenario's strings. */
void     mn_sweep_world_options (const MnSweepScenario *scenario, guint64 seed,
                                 MnTraceGenOptions *options);

/* A knob's value in @options (what the generator runs with). */
gdouble  mn_sweep_world_get (const MnTraceGenOptions *options, MnWorldKnob knob);

/* The generator's default of a knob as the scenario would write it ("1",
 * "2500M", "true", "201911"), and of the lecture schedule: the key table's
 * "default" column comes from the generator itself. */
gchar   *mn_sweep_world_default_text (MnWorldKnob knob);
gchar   *mn_sweep_world_default_lectures (void);

/* The knobs as run, for results.json: every [world] key with its value
 * (set in the scenario or the generator's default; gpu_memory in MiB,
 * maintenance and limits as booleans), and "set" naming the keys the
 * scenario set. */
JsonObject *mn_sweep_world_describe (const MnSweepScenario *scenario);

G_END_DECLS
