/* mn-backend-command.h: running a scheduler's command (sbatch, squeue, qsub,
 * qstat...) the one way the Slurm and Grid Engine backends both need: under
 * timeout(1), because a scheduler daemon that is down makes its clients hang,
 * optionally as a user through runuser. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *bin_dir;   /* where the commands are; NULL = PATH */
  gchar      **envp;      /* environment for the command; NULL = the controller's */
  guint        timeout;   /* seconds before the command is killed */
  const gchar *daemon;    /* named in the timeout message: "slurmctld" */
  /* what the clients say when they cannot reach the daemon */
  const gchar *const *unreachable;
} MnBackendCommand;

/* Runs ARGV (argv[0] looked up in bin_dir) under timeout(1), as USER through
 * runuser when USER is not NULL (runuser keeps the environment).  TRUE with
 * the standard output in *out when it exits 0; otherwise an error naming the
 * command and what it said: MN_CONTROLLER_ERROR_UNREACHABLE when it timed out
 * or said one of @command's unreachable phrases, else _BACKEND.  *out_status
 * gets the exit status (-1 when it did not exit). */
gboolean mn_backend_command_run (const MnBackendCommand *command,
                                 const gchar            *user,
                                 const gchar *const     *argv,
                                 gchar                 **out,
                                 gint                   *out_status,
                                 GError                **error);

/* Logs each of @problems (gchar*: what a parser of @command's answer could
 * not read) as "@command: PROBLEM (ignored)", but only the first time it is
 * seen: @told (a set of strings, owned by the caller, who also holds any
 * lock over it) remembers them, bounded (past 256 it is emptied, so an odd
 * line may be logged again then). */
void mn_backend_log_problems_once (GHashTable *told, const gchar *command,
                                   GPtrArray *problems);

/* Logs @message (g_message) unless @told already holds it, as above; TRUE
 * when it was logged now. */
gboolean mn_backend_log_once (GHashTable *told, const gchar *message);

G_END_DECLS
