/* mn-sweep-runner.h: what a sweep needs from a simulator.  The sweep never
 * calls the engine directly: it hands each point to a runner, which returns
 * the point's metrics as a JSON object in the engine's metrics schema
 * (sim/engine/README.md), for one seed's world at a time.  Tests use a fake runner; mn-sweep-engine.c is the
 * real one.  Runners are called from several threads at once. */
#pragma once

#include <json-glib/json-glib.h>
#include "mn-sweep-scenario.h"

G_BEGIN_DECLS

typedef struct {
  guint                   index;     /* 0 .. n-1 in expansion order */
  gboolean                baseline;  /* no interactive.q: its jobs go to all.q */
  gint64                  values[MN_SWEEP_N_PARAMS];
  MnPolicyConfig         *policy;    /* base policy with this point's values */
  const MnSweepScenario  *scenario;
} MnSweepPoint;

/* Run @point on the world of seed number @seed_index (an index into
 * scenario->seeds; 0 for a trace file). */
typedef JsonObject *(*MnSweepRunFunc) (const MnSweepPoint *point,
                                       guint               seed_index,
                                       gpointer            user_data,
                                       GError            **error);
/* Every run on seed @seed_index is done: what was kept for it may go. */
typedef void (*MnSweepReleaseFunc) (guint seed_index, gpointer user_data);

/* Every point of the scenario's sweep (the cartesian product, the first
 * parameter outermost), as a GPtrArray of MnSweepPoint*.  Fails (naming the
 * point) when a combination is not a valid policy. */
GPtrArray    *mn_sweep_points_expand (const MnSweepScenario *scenario, GError **error);
MnSweepPoint *mn_sweep_point_new_baseline (const MnSweepScenario *scenario);
void          mn_sweep_point_free (MnSweepPoint *point);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnSweepPoint, mn_sweep_point_free)

/* "nodes=4 jobs_per_logical=7 memory_cap=60G ..." (only swept parameters
 * with more than one value when @only_varying). */
gchar *mn_sweep_point_describe (const MnSweepPoint *point, gboolean only_varying);

G_END_DECLS
