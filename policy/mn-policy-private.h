/* mn-policy-private.h: helpers shared by the policy's own files only. */
#pragma once

#include "mn-policy.h"

G_BEGIN_DECLS

/* The canonical text of a size in MiB ("60G", "1536G", "512M", "0") and of
 * a duration in seconds ("24h", "90m", "3d", "0"): what to_data writes and
 * what messages show; both parse back to the same number. */
gchar *mn_policy_format_size (guint64 mib);
gchar *mn_policy_format_duration (gint64 seconds);

/* Duration as the scheduler's HH:MM:SS (h_rt, MaxTime take it). */
gchar *mn_policy_format_hms (gint64 seconds);

const gchar *mn_policy_if_busy_to_string (MnIfBusy if_busy);
const gchar *mn_policy_gpu_mode_to_string (MnGpuMode mode);
const gchar *mn_policy_placement_to_string (MnPlacement placement);

/* The name of @value in @names, a NULL-terminated table of @n_names entries
 * (the NULL counted: G_N_ELEMENTS), or @fallback for a value past it: the
 * one lookup behind every code's *_to_string. */
static inline const gchar *
mn_policy_name_of (const gchar *const *names, gsize n_names, guint value, const gchar *fallback)
{
  return value < n_names - 1 ? names[value] : fallback;
}

G_END_DECLS
