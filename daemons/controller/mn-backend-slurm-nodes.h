/* mn-backend-slurm-nodes.h: Slurm's node states as sinfo prints them, and
 * which of them take new jobs (the policy's NODE AVAILABILITY).  Pure
 * parsing of external text: strict, unknown text is reported, never
 * guessed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* sinfo's long state (%T): a base state, lower case ("idle", "drained",
 * "allocated"), possibly several joined by '+' ("mixed+drain", as newer
 * Slurm writes them), then flag characters ("idle*": not responding).
 * TRUE with *available when every part is known:
 *   unavailable: a base state of down, drain, drained, draining, fail,
 *     failing, maint, reserved, future, inval, unknown, blocked, perfctrs,
 *     npc, power_down, powered_down, powering_down, reboot_issued; or a
 *     flag of * (not responding), $ (maintenance reservation), ! or %
 *     (powering down), ^ (reboot issued);
 *   available: idle, mixed, allocated, completing, planned, powering_up,
 *     reboot_requested, cloud, with the flags ~ (powered off: Slurm powers
 *     it up for a job), # (powering up), @ (reboot pending), - (planned);
 * FALSE for anything else. */
gboolean mn_slurm_node_state_available (const gchar *state, gboolean *available);

/* `sinfo -h -N -o '%N|%T'`: node name -> its state text (owned), for each
 * line that is NAME|STATE with a node name of letters, digits, '.', '_' or
 * '-' and a state mn_slurm_node_state_available() knows.  Any other
 * non-empty line is left out, and a message naming it ("line 3
 * 'n1|weird': unknown node state 'weird'") is appended to @problems
 * (gchar*, owned).  A name listed twice keeps its first state and is a
 * problem too. */
GHashTable *mn_slurm_sinfo_node_states (const gchar *text, GPtrArray *problems);

G_END_DECLS
