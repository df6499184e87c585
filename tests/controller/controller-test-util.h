/* controller-test-util.h: what the controller's integration tests and its
 * launch benchmark share: a free loopback port, a file with a mode, and
 * running the tests in a child so that the parent cleans up even after an
 * aborted assertion; and what the Slurm and Grid Engine backend tests share:
 * a job's session directory and script, its spec, waiting for a state. */
#pragma once

#include <glib.h>

#include "mn-controller-backend.h"

G_BEGIN_DECLS

/* A TCP port on 127.0.0.1 that was free a moment ago, below the ephemeral
 * range (so that a daemon restarted on it gets it back). */
guint mn_test_free_port (void);

/* Writes @text to @path and sets its mode; asserts. */
void  mn_test_write_file (const gchar *path, const gchar *text, int mode);
/* @dir/@name, a /bin/sh script running @body (mode 0755): a fake of a
 * scheduler's command. */
void  mn_test_write_script (const gchar *dir, const gchar *name, const gchar *body);

/* Removes the test's directory, or keeps it (saying so) when
 * MINNA_KEEP_TEST_DIR is set. */
void  mn_test_remove_dir (const gchar *dir);
/* Kill the jobs a test's state dir under @dir records, and anything running from @dir. */
void  mn_test_kill_jobs (const gchar *dir);
/* The jobs recorded in @jobs_dir (a local backend's state/jobs) only. */
void  mn_test_kill_recorded_jobs (const gchar *jobs_dir);
/* A process's start time (clock ticks since boot, /proc/PID/stat field 22)
 * as the local backend records it; 0 when gone.  Kill a recorded job's
 * process group only when this matches: pids wrap within minutes on a busy
 * machine, and a stale one may now lead another test's daemon. */
guint64 mn_test_proc_starttime (gint pid);

/* Forks.  In the parent: waits for the child, runs @clean_up, returns the
 * child's exit status (1 if it died of a signal).  In the child: returns
 * -1, and the caller goes on to run the tests and _exit() with their
 * status. */
int   mn_test_run_in_child (void (*clean_up) (void));

/* A job for a backend test: a session directory the user owns, with a job
 * script in it.  The test sets @backend; mn_test_job_clear frees it. */
typedef struct {
  MnBackend   *backend;
  gchar       *dir;
  gchar       *script;
  gchar       *output;
  const gchar *user;
} MnTestJob;

/* @body: the script's shell lines; the directory is named PREFIX-XXXXXX. */
void         mn_test_job_init (MnTestJob *job, const gchar *user, const gchar *prefix,
                               const gchar *body);
void         mn_test_job_clear (MnTestJob *job);
/* 1 core, 100 MB, 10 min, interactive.q's first logical node. */
MnJobSpec    mn_test_job_spec (const MnTestJob *job, const gchar *session);
/* The policy of MINNA_SOURCE_DIR/@rel_path (tests/slurm/test-policy.conf)
 * and the allocation it gives a first request of @memory_mb, 1 core, no GPU,
 * @walltime s: what an interactive job is submitted with. */
MnPolicyConfig *mn_test_policy_allocation (const gchar *rel_path, guint64 memory_mb,
                                           gint64 walltime, MnPolicyAllocation *allocation);
/* Polls until job @id is in @state (asserts it is by then); its status. */
MnJobStatus *mn_test_wait_for (MnBackend *backend, const gchar *id, MnJobState state,
                               guint seconds);

/* The scheduler's daemon stopped while @job's job runs (RESTART stop|start):
 * a poll through @impatient (a short command timeout) fails as unreachable
 * within 10 s; once the daemon is back the same job runs again within
 * @back_within s, and ends on cancel within as long (at least 30 s).
 * Clears @job. */
void         mn_test_scheduler_down (MnTestJob *job, MnBackend *impatient,
                                     const gchar *restart, guint back_within);

G_END_DECLS
