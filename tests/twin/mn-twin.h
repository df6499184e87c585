/* mn-twin.h: the twin suite's shared pieces (issue 14), for the local twin
 * (tests/twin/test-twin.c) and the Slurm / Grid Engine twins alike:
 *
 *   scenario = mn_twin_scenario_load (path, &error);     scenarios/README.md
 *   expected = mn_twin_run_sim (scenario, &error);       through minna-sim's interactive.q
 *   actual   = ... rows the real daemons produced (one MnTwinRow per session)
 *   n = mn_twin_compare (scenario, expected, actual, &options, report);
 *
 * A row is what one session did, as text per field (MnTwinField), so that
 * rows can also be written to and read from TSV files (`minna-twin sim` and
 * `minna-twin compare` do that for scripts).  "?" means "not observed". */
#pragma once

#include <glib.h>

#include "mn-policy.h"

G_BEGIN_DECLS

#define MN_TWIN_ERROR (mn_twin_error_quark ())
GQuark mn_twin_error_quark (void);

typedef enum {
  MN_TWIN_ERROR_PARSE,     /* FILE:LINE: what is wrong */
  MN_TWIN_ERROR_RUN,       /* the simulator refused the scenario */
} MnTwinError;

/* ---- Scenarios ----------------------------------------------------------- */

typedef struct {
  gint64  offset;          /* s after the session started */
  guint64 memory_mb;       /* footprint from then on */
} MnTwinStep;

typedef struct {
  gchar    *name;          /* unique; "lecture-07" for a count'ed group */
  gchar    *user;
  guint     line;          /* where it is defined (messages) */
  gint64    at;            /* launch, s after the scenario start */
  guint     cores;         /* request; 0: the policy default */
  guint64   memory_mb;     /* request = its memory limit; 0: the policy's cap */
  guint     gpus;          /* GPU memory asked: the policy default, as the
                            * portal's form and the trace give none */
  gint64    walltime;      /* request; 0: the queue's maximum */
  MnIfBusy  if_busy;
  GArray   *use;           /* MnTwinStep, by offset: its memory footprint */
  gint64    busy;          /* its kernel is busy this long from its start, then idle */
  gint64    exit;          /* it exits by itself this long after its start; -1: never */
  guint64   gpu_use_mb;    /* GPU memory it allocates at start (0: none) */
} MnTwinSession;

typedef struct {
  gchar          *path;
  gchar          *name;
  gchar          *description;
  MnPolicyConfig *policy;
  GPtrArray      *sessions;  /* MnTwinSession*, by (at, file order) */
  gint64          tolerance; /* s: how far real times may be from the model's */
} MnTwinScenario;

MnTwinScenario *mn_twin_scenario_load (const gchar *path, GError **error);
MnTwinScenario *mn_twin_scenario_load_data (const gchar *data, gsize length,
                                            const gchar *path, GError **error);
void            mn_twin_scenario_free (MnTwinScenario *scenario);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnTwinScenario, mn_twin_scenario_free)

/* The session's footprint at @offset s after its start. */
guint64 mn_twin_session_memory_at (const MnTwinSession *session, gint64 offset);

/* ---- Rows ------------------------------------------------------------------- */

typedef enum {
  MN_TWIN_FIELD_NAME,
  MN_TWIN_FIELD_USER,
  MN_TWIN_FIELD_DECISION,    /* start | wait | reject */
  MN_TWIN_FIELD_REASON,      /* reject: MnRejectReason text; wait: MnWaitReason text; else "" */
  MN_TWIN_FIELD_NODE,
  MN_TWIN_FIELD_LOGICAL,
  MN_TWIN_FIELD_CPUS,        /* its cpuset on its node, "0-6" */
  MN_TWIN_FIELD_GPUS,        /* its GPU ids, ";"-separated; "" without GPUs */
  MN_TWIN_FIELD_MEMORY_LIMIT,/* MiB of RAM + swap it may hold (L); "max": none */
  MN_TWIN_FIELD_CPU_QUOTA,   /* us of CPU per 100000 us (cores x 100000); "max": none */
  MN_TWIN_FIELD_START,       /* s after the scenario start; "" never */
  MN_TWIN_FIELD_END,
  MN_TWIN_FIELD_END_REASON,  /* MnEndReason text; "" never started */
  MN_TWIN_FIELD_GPU_FAILED,  /* 0 | 1 */
  MN_TWIN_N_FIELDS,
} MnTwinField;

const gchar *mn_twin_field_to_string (MnTwinField field);   /* "end_reason" */
gboolean     mn_twin_field_from_string (const gchar *text, MnTwinField *field);

typedef struct {
  gchar *v[MN_TWIN_N_FIELDS];
} MnTwinRow;

MnTwinRow *mn_twin_row_new (void);                /* every field "?" */
void       mn_twin_row_free (MnTwinRow *row);
void       mn_twin_row_set (MnTwinRow *row, MnTwinField field, const gchar *value);
void       mn_twin_row_set_int (MnTwinRow *row, MnTwinField field, gint64 value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnTwinRow, mn_twin_row_free)

/* Rows (MnTwinRow*) as TSV with a header line, and back. */
gchar     *mn_twin_rows_to_tsv (GPtrArray *rows);
GPtrArray *mn_twin_rows_from_tsv (const gchar *text, const gchar *path, GError **error);

/* ---- The model's side ---------------------------------------------------------- */

/* Runs @scenario through minna-sim's interactive.q (the engine library, with
 * the scenario's policy and as many nodes as it says); one row per session,
 * in the scenario's order. */
GPtrArray *mn_twin_run_sim (const MnTwinScenario *scenario, GError **error);

/* ---- Comparing ------------------------------------------------------------------- */

typedef struct {
  /* Fields the host or backend cannot show, with why ("no GPU on this host");
   * they are reported as not compared, for every session, never silently. */
  const gchar *cannot[MN_TWIN_N_FIELDS];
  /* Rows (by session name) whose fields cannot all be compared, with why. */
  GHashTable  *cannot_rows;     /* name -> why; may be NULL */
  /* Single fields of single sessions the backend cannot show, with why
   * ("Grid Engine gives no memory-cap end code"): "NAME:FIELD" -> why. */
  GHashTable  *cannot_cells;    /* may be NULL */
} MnTwinCompareOptions;

/* Compares session by session (by name); times within the scenario's
 * tolerance.  Appends a table (one line per session: OK, or each differing
 * field with both values) and the list of what was not compared to @report.
 * Returns the number of differences (a session missing on either side is
 * one). */
guint mn_twin_compare (const MnTwinScenario       *scenario,
                       GPtrArray                  *expected,
                       GPtrArray                  *actual,
                       const MnTwinCompareOptions *options,
                       GString                    *report);

G_END_DECLS
