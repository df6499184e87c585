/* mn-sweep-measure.h: what a sweep measures from one replay's per-job rows
 * beyond the engine's metrics; it becomes the "sweep" object of the point's
 * metrics in results.json (scenarios/README.md lists its members). */
#pragma once

#include <json-glib/json-glib.h>

#include "mn-sim-engine.h"

G_BEGIN_DECLS

/* @result must keep its jobs; @policy is the point's (its slots give the
 * occupancy); @baseline: interactive.q has no nodes, so no occupancy.
 * @utc_offset places hours of day and months. */
JsonObject *mn_sweep_measure (MnSimResult *result, const MnPolicyConfig *policy,
                              gboolean baseline, gint64 utc_offset);

G_END_DECLS
