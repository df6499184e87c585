/* mn-sweep-fake.h: a fake simulator for the sweep's unit tests.  Its
 * metrics are simple formulas of the point (see mn-sweep-fake.c) so that a
 * test can work the recommendation out by hand. */
#pragma once

#include "mn-sweep-run.h"

MnSweepRunner *mn_sweep_fake_runner_new (const MnSweepScenario *scenario, GError **error);
JsonObject    *mn_sweep_fake_run (const MnSweepPoint *point, guint seed_index, gpointer user_data,
                                  GError **error);
