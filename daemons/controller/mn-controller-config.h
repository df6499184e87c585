/* mn-controller-config.h: minna-controller's configuration file.
 *
 * Every key lives in one declarative table (mn-controller-config.c): name,
 * type, bounds, default and help.  Parsing, validation, `--help-config` and
 * the example file come from that table.  Layers: built-in defaults < the
 * file < command line (mn_controller_config_set). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MN_CONTROLLER_ERROR (mn_controller_error_quark ())
GQuark mn_controller_error_quark (void);

typedef enum {
  MN_CONTROLLER_ERROR_CONFIG,     /* bad key, value or file */
  MN_CONTROLLER_ERROR_STORE,      /* SQLite */
  MN_CONTROLLER_ERROR_BACKEND,    /* scheduler said no / timed out */
  MN_CONTROLLER_ERROR_APP,        /* app definition */
  MN_CONTROLLER_ERROR_AUTH,
  MN_CONTROLLER_ERROR_INVALID,    /* bad request field */
  MN_CONTROLLER_ERROR_NOT_FOUND,
  MN_CONTROLLER_ERROR_REFUSED,    /* policy said no */
  MN_CONTROLLER_ERROR_UNREACHABLE, /* the scheduler did not answer (its daemon down or
                                    * too slow): not a refusal, ask again */
  MN_CONTROLLER_ERROR_NOT_ALLOWED, /* a request this service does not take at all
                                    * (queue = batch, see [backend] batch) */
  MN_CONTROLLER_ERROR_STORE_FULL,  /* SQLite: the disk is full (SQLITE_FULL): HTTP 507 */
  MN_CONTROLLER_ERROR_STORE_UNAVAILABLE, /* SQLite: read-only, busy, locked or an I/O
                                          * error: nothing was stored, HTTP 503 */
  MN_CONTROLLER_ERROR_STORE_MISSING, /* at start: no database, or an empty one */
  MN_CONTROLLER_ERROR_STORE_FOREIGN, /* at start: another program's file, or a newer schema */
  MN_CONTROLLER_ERROR_STORE_DAMAGED, /* at start: SQLite finds it damaged */
} MnControllerError;

typedef struct {
  /* [server] */
  gchar   *listen;              /* address */
  guint    port;
  gchar  **allowed_origins;
  gchar  **trusted_proxies;     /* whose X-Forwarded-For is believed (with the relay's proof) */
  gchar   *metrics_secret_file; /* bearer for /metrics; "" = admins' logins only */
  gchar  **admins;
  gchar   *www_dir;             /* portal pages */
  /* [state] */
  gchar   *state_dir;
  gchar   *sessions_dir;        /* "": see mn_controller_config_sessions_dir */
  gchar   *database;
  gchar   *create_database;     /* "auto", "yes", "no": see the key's help */
  gchar   *apps_dir;
  gchar   *policy_file;
  /* [auth] */
  gchar   *auth;                /* "users-file", "pam", "users-file,pam" */
  gchar   *users_file;
  gchar   *key_file;
  gint64   cookie_lifetime;
  guint    pbkdf2_iterations;
  gint64   login_max_delay;
  /* [relay] */
  gchar   *relay_url;
  gchar   *relay_secret_file;
  /* [backend] */
  gchar   *backend;
  gchar   *batch;               /* "auto", "allow", "refuse": queue = batch */
  gchar   *host_fit;            /* "warn", "refuse": a policy larger than the host */
  gchar   *run_as;              /* "user" or "controller" */
  gchar   *job_host;
  guint    port_min;
  guint    port_max;
  gchar   *port_lock_dir;
  guint    port_locks_per_user; /* job-launch --locks-per-user */
  gchar   *cgroup;              /* "auto", "none" or a directory */
  gint64   ready_timeout;
  gint64   kill_grace;
  guint    poll_interval_ms;
  guint    max_starting;        /* local: jobs starting at once; 0 = 4 per CPU */
  gchar   *launcher;            /* path of minna-controller for job scripts */
  gchar   *kernel_program;      /* minna-kernel; "" = beside us, else PATH */
  gint64   kernel_timeout;      /* s per 'minna-kernel list' */
  /* [backend], type = slurm / sge */
  gchar   *partition;           /* slurm: interactive.q's partition */
  gchar   *batch_partition;     /* slurm: batch jobs; "" = default */
  gchar   *queue;               /* sge: interactive.q's queue */
  gchar   *batch_queue;         /* sge: batch jobs; "" = any */
  gchar   *bin_dir;             /* scheduler commands; "" = PATH */
  gint64   command_timeout;     /* s per scheduler command */
  gint64   give_up_after;       /* s; 0 = never give up at the scheduler */
  gchar   *memory_resource;     /* sge: complex memory is requested as */
  gchar   *sge_root;            /* "" = the environment's SGE_ROOT */
  gchar   *sge_cell;            /* "" = the environment's SGE_CELL */
  /* [accounting] */
  gdouble  charge_coefficient;  /* node fraction billed per hour of an interactive.q job */
} MnControllerConfig;

MnControllerConfig *mn_controller_config_new_default (void);
void                mn_controller_config_free (MnControllerConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnControllerConfig, mn_controller_config_free)

/* Reads @path on top of the current values.  Errors name FILE:LINE and key. */
gboolean mn_controller_config_load_file (MnControllerConfig *config,
                                         const gchar        *path,
                                         GError            **error);
gboolean mn_controller_config_load_data (MnControllerConfig *config,
                                         const gchar        *data,
                                         const gchar        *filename,
                                         GError            **error);
/* "group.key=value", as from the command line (--set). */
gboolean mn_controller_config_set (MnControllerConfig *config,
                                   const gchar        *group,
                                   const gchar        *key,
                                   const gchar        *value,
                                   GError            **error);
/* Every key with its help, type, bounds and default. */
gchar   *mn_controller_config_describe (void);
/* A complete example file, every key commented with its help. */
gchar   *mn_controller_config_example (void);

gboolean mn_controller_config_is_admin (const MnControllerConfig *config,
                                        const gchar              *user);

/* Where session directories go: [state] sessions_dir, else
 * <state_dir>/sessions if an older controller made it there, else
 * <state_dir>-sessions (outside the 0700 state directory). */
gchar   *mn_controller_config_sessions_dir (const MnControllerConfig *config);

/* "90", "90s", "15m", "24h", "2d" -> seconds. */
gboolean mn_controller_parse_duration (const gchar *text, gint64 *out);

G_END_DECLS
