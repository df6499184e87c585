/* mn-policy-state.c: admission, placement, release and the waiting FIFO.
 * The simulator calls this for every request of long traces, so every
 * per-request step is O(1) in the number of jobs (hash tables for jobs and
 * users) plus one pass over the few logical nodes. */
#define G_LOG_DOMAIN "minna-policy"

#include <string.h>

#include "mn-policy-private.h"
#include "mn-policy-waitindex.h"

typedef struct {
  gchar *name;
  guint  running;
  guint  waiting;
} MnUser;

typedef struct {
  guint64  id;           /* first: the jobs table hashes &job->id */
  MnUser  *user;
  guint    cores;        /* effective values: defaults already applied */
  guint64  memory_mb;
  guint    gpus;
  guint64  gpu_memory_mb; /* reserved / charged (mn_policy_gpu_memory_request) */
  guint64  gpu_memory_asked_mb; /* as requested: what the cap is checked on */
  gint64   walltime;
  guint64  gpu_mask;     /* while running: its physical GPUs on its node */
  gboolean running;
  guint    node;
  guint    logical;
  gint64   start;
  GList   *link;         /* in the FIFO while waiting */
  guint    pos;          /* in the wait index while waiting */
} MnJob;

typedef struct {
  guint   jobs;
  guint   gpus_reserved;
  guint64 gpus_held;     /* EXCLUSIVE: mask of its node's GPUs held whole */
  guint64 gpu_memory_reserved_mb;
} MnLogical;

typedef struct {
  guint64  memory_committed_mb;
  guint    jobs;
  gboolean unavailable;  /* the backend says it takes no new job (drained, down) */
} MnNode;

/* What placement looks at; copied whole by estimate_start for its replay. */
typedef struct {
  const MnPolicyConfig *config;
  MnLogical *logical;    /* nodes * logical_per_node, node-major */
  MnNode    *node;
  gint64     free_slots; /* sum over logical nodes of (max_jobs - jobs) */
} MnLoad;

struct _MnPolicyState {
  MnPolicyConfig *config;
  MnLoad          load;
  GHashTable     *jobs;    /* &id -> MnJob (owned) */
  GHashTable     *users;   /* name -> MnUser (owned) */
  GQueue          fifo;    /* MnJob, waiting, oldest first */
  MnWaitIndex     index;   /* the same jobs, searchable by what they need */
  guint           n_running;
};

/* ---- Names ------------------------------------------------------------------ */

void
mn_decision_clear (MnDecision *decision)
{
  g_clear_pointer (&decision->message, g_free);
}

const gchar *
mn_reject_reason_to_string (MnRejectReason reason)
{
  switch (reason)
    {
    case MN_REJECT_NONE:                return "none";
    case MN_REJECT_PER_USER_LIMIT:      return "per-user-limit";
    case MN_REJECT_OVER_CORES_CAP:      return "over-cores-cap";
    case MN_REJECT_OVER_MEMORY_CAP:     return "over-memory-cap";
    case MN_REJECT_OVER_GPUS_CAP:       return "over-gpus-cap";
    case MN_REJECT_OVER_GPU_MEMORY_CAP: return "over-gpu-memory-cap";
    case MN_REJECT_WALLTIME_TOO_LONG:   return "walltime-too-long";
    case MN_REJECT_BUSY_GIVE_UP:        return "busy-give-up";
    case MN_REJECT_MALFORMED:           return "malformed";
    default:                            return "unknown";
    }
}

gboolean
mn_reject_reason_from_string (const gchar *text, MnRejectReason *out)
{
  for (guint r = MN_REJECT_NONE; r <= MN_REJECT_MALFORMED; r++)
    if (g_strcmp0 (text, mn_reject_reason_to_string (r)) == 0)
      {
        *out = r;
        return TRUE;
      }
  return FALSE;
}

const gchar *
mn_decision_kind_to_string (MnDecisionKind kind)
{
  switch (kind)
    {
    case MN_DECISION_START:  return "start";
    case MN_DECISION_WAIT:   return "wait";
    case MN_DECISION_REJECT: return "reject";
    default:                 return "unknown";
    }
}

/* ---- Load: slots, memory and GPUs ---------------------------------------------- */

static void
load_init (MnLoad *load, const MnPolicyConfig *config)
{
  guint n_logical = config->nodes * config->logical_per_node;

  load->config = config;
  load->logical = g_new0 (MnLogical, n_logical);
  load->node = g_new0 (MnNode, config->nodes);
  load->free_slots = (gint64) n_logical * config->max_jobs_per_logical;
}

static void
load_copy (MnLoad *dst, const MnLoad *src)
{
  guint n_logical = src->config->nodes * src->config->logical_per_node;

  *dst = *src;
  dst->logical = g_memdup2 (src->logical, n_logical * sizeof (MnLogical));
  dst->node = g_memdup2 (src->node, src->config->nodes * sizeof (MnNode));
}

static void
load_clear (MnLoad *load)
{
  g_clear_pointer (&load->logical, g_free);
  g_clear_pointer (&load->node, g_free);
}

static guint64
node_free_memory (const MnLoad *load, guint n)
{
  guint64 total = load->config->node_memory_mb + load->config->node_swap_mb;
  guint64 used = load->node[n].memory_committed_mb;

  return used >= total ? 0 : total - used;
}

static gboolean
logical_fits (const MnLoad *load, const MnLogical *lg, const MnJob *job)
{
  const MnPolicyConfig *c = load->config;

  if (lg->jobs >= c->max_jobs_per_logical || job->cores > c->logical_cores ||
      job->gpus > c->logical_gpus)
    return FALSE;
  switch (c->gpu_mode)
    {
    case MN_GPU_MODE_CAPPED:
      return lg->gpu_memory_reserved_mb + job->gpu_memory_mb <=
             (guint64) c->logical_gpus * c->gpu_memory_mb;
    case MN_GPU_MODE_EXCLUSIVE:
      return lg->gpus_reserved + job->gpus <= c->logical_gpus;
    case MN_GPU_MODE_SHARED:
    default:
      return TRUE;
    }
}

/* The placement rule of mn-policy.h, steps 1-4, over the available nodes
 * (and the unavailable ones too with @any_node: would it fit there?). */
static gboolean
load_find_among (const MnLoad *load, const MnJob *job, gboolean any_node,
                 guint *node, guint *logical)
{
  const MnPolicyConfig *c = load->config;
  gboolean found = FALSE;
  guint best_jobs = 0;
  guint64 best_free = 0;

  /* free_slots counts the unavailable nodes' slots too: an upper bound */
  if (load->free_slots <= 0)
    return FALSE;
  for (guint n = 0; n < c->nodes; n++)
    {
      guint64 free_mem = node_free_memory (load, n);

      if (job->memory_mb > free_mem || (load->node[n].unavailable && !any_node))
        continue;
      for (guint l = 0; l < c->logical_per_node; l++)
        {
          const MnLogical *lg = &load->logical[n * c->logical_per_node + l];

          if (!logical_fits (load, lg, job))
            continue;
          /* Strict comparisons keep the lowest (node, logical) on ties;
           * Slurm's order has no memory step. */
          if (!found || lg->jobs < best_jobs ||
              (lg->jobs == best_jobs && c->placement == MN_PLACEMENT_SPREAD &&
               free_mem > best_free))
            {
              found = TRUE;
              best_jobs = lg->jobs;
              best_free = free_mem;
              *node = n;
              *logical = l;
            }
        }
    }
  return found;
}

static gboolean
load_find (const MnLoad *load, const MnJob *job, guint *node, guint *logical)
{
  return load_find_among (load, job, FALSE, node, logical);
}

/* The GPUs a job of @gpus GPUs gets on logical node @l (mn-policy.h, GPU):
 * EXCLUSIVE the lowest-numbered ones not in @held (then, only after an adopt
 * beyond the limits, held ones), else the first of the logical node's. */
static guint64
pick_gpus (const MnPolicyConfig *c, guint l, guint gpus, guint64 held)
{
  guint first = l * c->logical_gpus;
  guint64 mask = 0;
  guint got = 0;

  if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
    for (guint i = 0; i < c->logical_gpus && got < gpus; i++)
      if ((held & (G_GUINT64_CONSTANT (1) << (first + i))) == 0)
        mask |= G_GUINT64_CONSTANT (1) << (first + i), got++;
  for (guint i = 0; i < c->logical_gpus && got < gpus; i++)
    if ((mask & (G_GUINT64_CONSTANT (1) << (first + i))) == 0)
      mask |= G_GUINT64_CONSTANT (1) << (first + i), got++;
  return mask;
}

static void
load_add (MnLoad *load, const MnJob *job, guint n, guint l, guint64 gpu_mask)
{
  MnLogical *lg = &load->logical[n * load->config->logical_per_node + l];

  if (lg->jobs < load->config->max_jobs_per_logical)
    load->free_slots--;
  lg->jobs++;
  load->node[n].jobs++;
  load->node[n].memory_committed_mb += job->memory_mb;
  if (load->config->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
    {
      lg->gpus_reserved += job->gpus;
      lg->gpus_held |= gpu_mask;
    }
  if (load->config->gpu_mode == MN_GPU_MODE_CAPPED)
    lg->gpu_memory_reserved_mb += job->gpu_memory_mb;
}

static void
load_remove (MnLoad *load, const MnJob *job, guint n, guint l, guint64 gpu_mask)
{
  MnLogical *lg = &load->logical[n * load->config->logical_per_node + l];

  lg->jobs--;
  if (lg->jobs < load->config->max_jobs_per_logical)
    load->free_slots++;
  load->node[n].jobs--;
  load->node[n].memory_committed_mb -= job->memory_mb;
  if (load->config->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
    {
      lg->gpus_reserved -= job->gpus;
      lg->gpus_held &= ~gpu_mask;
    }
  if (load->config->gpu_mode == MN_GPU_MODE_CAPPED)
    lg->gpu_memory_reserved_mb -= job->gpu_memory_mb;
}

/* Why load_find found nothing for @job: UNAVAILABLE when it would fit on an
 * unavailable node, else MnWaitReason's order over the available ones. */
static MnWaitReason
load_why_not (const MnLoad *load, const MnJob *job)
{
  const MnPolicyConfig *c = load->config;
  gboolean slot = FALSE, memory = FALSE;
  guint n_fit, l_fit;

  if (load_find_among (load, job, TRUE, &n_fit, &l_fit))
    return MN_WAIT_UNAVAILABLE;
  for (guint n = 0; n < c->nodes; n++)
    for (guint l = 0; l < c->logical_per_node && !load->node[n].unavailable; l++)
      {
        const MnLogical *lg = &load->logical[n * c->logical_per_node + l];

        if (lg->jobs >= c->max_jobs_per_logical)
          continue;
        slot = TRUE;
        if (job->memory_mb <= node_free_memory (load, n))
          memory = TRUE;
      }
  if (!slot)
    return MN_WAIT_SLOTS;
  if (!memory)
    return MN_WAIT_MEMORY;
  switch (c->gpu_mode)
    {
    case MN_GPU_MODE_EXCLUSIVE: return MN_WAIT_GPUS;
    case MN_GPU_MODE_CAPPED:    return MN_WAIT_GPU_MEMORY;
    case MN_GPU_MODE_SHARED:
    default:                    return MN_WAIT_SLOTS;
    }
}

/* Within one pass over the FIFO the load only grows, so a shape that did not
 * fit once will not fit later in the same pass: remember a few. */
typedef struct {
  guint   n;
  MnJob   shapes[8];
} MnMissCache;

static gboolean
same_shape (const MnJob *a, const MnJob *b)
{
  return a->cores == b->cores && a->memory_mb == b->memory_mb &&
         a->gpus == b->gpus && a->gpu_memory_mb == b->gpu_memory_mb;
}

static gboolean
miss_cache_has (const MnMissCache *cache, const MnJob *job)
{
  for (guint i = 0; i < cache->n; i++)
    if (same_shape (&cache->shapes[i], job))
      return TRUE;
  return FALSE;
}

static void
miss_cache_add (MnMissCache *cache, const MnJob *job)
{
  cache->shapes[cache->n % G_N_ELEMENTS (cache->shapes)] = *job;
  cache->n = MIN (cache->n + 1, G_N_ELEMENTS (cache->shapes));
}

/* ---- State ------------------------------------------------------------------------- */

static void
user_free (gpointer p)
{
  MnUser *u = p;

  g_free (u->name);
  g_free (u);
}

MnPolicyState *
mn_policy_state_new (const MnPolicyConfig *config)
{
  MnPolicyState *s = g_new0 (MnPolicyState, 1);

  s->config = mn_policy_config_copy (config);
  load_init (&s->load, s->config);
  s->jobs = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  s->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, user_free);
  g_queue_init (&s->fifo);
  return s;
}

void
mn_policy_state_free (MnPolicyState *state)
{
  if (state == NULL)
    return;
  g_queue_clear (&state->fifo);
  mn_wait_index_clear (&state->index);
  g_hash_table_destroy (state->jobs);
  g_hash_table_destroy (state->users);
  load_clear (&state->load);
  mn_policy_config_free (state->config);
  g_free (state);
}

const MnPolicyConfig *
mn_policy_state_get_config (MnPolicyState *state)
{
  return state->config;
}

static MnUser *
user_get (MnPolicyState *s, const gchar *name)
{
  MnUser *u = g_hash_table_lookup (s->users, name);

  if (u == NULL)
    {
      u = g_new0 (MnUser, 1);
      u->name = g_strdup (name);
      g_hash_table_insert (s->users, u->name, u);
    }
  return u;
}

static void
user_maybe_drop (MnPolicyState *s, MnUser *u)
{
  if (u->running == 0 && u->waiting == 0)
    g_hash_table_remove (s->users, u->name);
}

/* Fill @job's shape from @request, applying the documented defaults. */
static void
job_shape_from_request (const MnPolicyConfig *c, const MnPolicyRequest *r, MnJob *job)
{
  memset (job, 0, sizeof *job);
  job->id = r->job_id;
  job->cores = r->cores != 0 ? r->cores : 1;
  job->memory_mb = r->memory_mb != 0 ? r->memory_mb : c->job_max_memory_mb;
  job->gpus = r->gpus;
  job->gpu_memory_mb = mn_policy_gpu_memory_request (c, r);
  job->gpu_memory_asked_mb = r->gpu_memory_mb;
  job->walltime = r->walltime != 0 ? r->walltime : c->max_walltime;
}

static const gchar *
malformed_reason (MnPolicyState *s, const MnPolicyRequest *r)
{
  if (r->job_id == 0)
    return "job id 0 is reserved";
  if (g_hash_table_contains (s->jobs, &r->job_id))
    return "this job id is already in use";
  if (r->user == NULL || r->user[0] == '\0')
    return "the request names no user";
  if (!g_utf8_validate (r->user, -1, NULL))
    return "the user name is not valid UTF-8";
  if (r->walltime < 0)
    return "the walltime is negative";
  if (r->if_busy != MN_IF_BUSY_WAIT && r->if_busy != MN_IF_BUSY_GIVE_UP)
    return "if_busy is neither wait nor give up";
  return NULL;
}

/* A cap the request exceeds, with its message; NONE if within every cap. */
static MnRejectReason
check_caps (const MnPolicyConfig *c, const MnJob *job, gchar **message)
{
  g_autofree gchar *asked = NULL;
  g_autofree gchar *cap = NULL;

  if (job->cores > c->job_max_cores)
    {
      *message = g_strdup_printf ("asked for %u cores; %s allows at most %u per job",
                                  job->cores, c->queue_name, c->job_max_cores);
      return MN_REJECT_OVER_CORES_CAP;
    }
  if (job->memory_mb > c->job_max_memory_mb)
    {
      asked = mn_policy_format_size (job->memory_mb);
      cap = mn_policy_format_size (c->job_max_memory_mb);
      *message = g_strdup_printf ("asked for %s of memory; %s allows at most %s per job",
                                  asked, c->queue_name, cap);
      return MN_REJECT_OVER_MEMORY_CAP;
    }
  if (job->gpus > c->job_max_gpus)
    {
      *message = g_strdup_printf ("asked for %u GPUs; %s allows at most %u per job",
                                  job->gpus, c->queue_name, c->job_max_gpus);
      return MN_REJECT_OVER_GPUS_CAP;
    }
  if (job->gpu_memory_asked_mb > c->job_max_gpu_memory_mb)
    {
      asked = mn_policy_format_size (job->gpu_memory_asked_mb);
      cap = mn_policy_format_size (c->job_max_gpu_memory_mb);
      *message = g_strdup_printf ("asked for %s of GPU memory; %s allows at most %s per job",
                                  asked, c->queue_name, cap);
      return MN_REJECT_OVER_GPU_MEMORY_CAP;
    }
  if (job->walltime > c->max_walltime)
    {
      asked = mn_policy_format_duration (job->walltime);
      cap = mn_policy_format_duration (c->max_walltime);
      *message = g_strdup_printf ("asked for a walltime of %s; %s allows at most %s",
                                  asked, c->queue_name, cap);
      return MN_REJECT_WALLTIME_TOO_LONG;
    }
  return MN_REJECT_NONE;
}

MnRejectReason
mn_policy_request_check_caps (const MnPolicyConfig *config, const MnPolicyRequest *request,
                              gchar **message)
{
  MnJob shape;
  gchar *m = NULL;
  MnRejectReason r;

  job_shape_from_request (config, request, &shape);
  r = check_caps (config, &shape, &m);
  if (message != NULL)
    *message = m;
  else
    g_free (m);
  return r;
}

/* The allocation of @job, which holds @job->gpu_mask at (node, logical). */
static void
job_allocation (const MnPolicyConfig *c, const MnJob *job, MnPolicyAllocation *a)
{
  MnPolicyRequest r = { .job_id = job->id, .cores = job->cores,
                        .memory_mb = job->memory_mb, .gpus = job->gpus,
                        .gpu_memory_mb = job->gpu_memory_mb,
                        .walltime = job->walltime };

  mn_policy_allocation_compute (c, &r, job->node, job->logical, job->gpu_mask,
                                job->start, a);
}

/* @gpu_mask 0: pick the GPUs the mode gives. */
static void
job_start (MnPolicyState *s, MnJob *job, guint n, guint l, guint64 gpu_mask,
           gint64 now)
{
  const MnLogical *lg = &s->load.logical[n * s->config->logical_per_node + l];

  job->running = TRUE;
  job->node = n;
  job->logical = l;
  job->start = now;
  job->gpu_mask = gpu_mask != 0 || job->gpus == 0
                  ? gpu_mask : pick_gpus (s->config, l, job->gpus, lg->gpus_held);
  job->user->running++;
  s->n_running++;
  load_add (&s->load, job, n, l, job->gpu_mask);
}

/* ---- The waiting FIFO ------------------------------------------------------------ */

/* What the wait index searches on: memory, and the GPU resource the mode
 * reserves.  A request that fits no logical node at all (only possible with
 * a configuration that failed validation) is never found. */
static guint64
wait_key_memory (const MnPolicyConfig *c, const MnJob *job)
{
  if (job->cores > c->logical_cores || job->gpus > c->logical_gpus)
    return G_MAXUINT64;
  return job->memory_mb;
}

static guint64
wait_key_gpu (const MnPolicyConfig *c, const MnJob *job)
{
  switch (c->gpu_mode)
    {
    case MN_GPU_MODE_EXCLUSIVE: return job->gpus;
    case MN_GPU_MODE_CAPPED:    return job->gpu_memory_mb;
    case MN_GPU_MODE_SHARED:
    default:                    return 0;
    }
}

static void
index_append (MnPolicyState *s, MnJob *job)
{
  job->pos = mn_wait_index_append (&s->index, job, wait_key_memory (s->config, job),
                                   wait_key_gpu (s->config, job));
}

static void
fifo_push (MnPolicyState *s, MnJob *job)
{
  g_queue_push_tail (&s->fifo, job);
  job->link = s->fifo.tail;
  if (mn_wait_index_full (&s->index))
    {
      /* Renumber from 0 with room to spare: amortised O(1) per request. */
      mn_wait_index_reset (&s->index, 2 * s->fifo.length + 16);
      for (GList *it = s->fifo.head; it != NULL; it = it->next)
        index_append (s, it->data);
    }
  else
    index_append (s, job);
}

static void
fifo_remove (MnPolicyState *s, MnJob *job)
{
  g_queue_delete_link (&s->fifo, job->link);
  job->link = NULL;
  mn_wait_index_remove (&s->index, job->pos);
}

static void
start_waiting (MnPolicyState *s, MnJob *job, guint n, guint l, gint64 now,
               GArray *started)
{
  fifo_remove (s, job);
  job->user->waiting--;
  job_start (s, job, n, l, 0, now);
  if (started != NULL)
    {
      MnDecision d = { .kind = MN_DECISION_START, .job_id = job->id,
                       .node = n, .logical = l };

      job_allocation (s->config, job, &d.allocation);
      g_array_append_val (started, d);
    }
}

static gboolean
user_may_start (gpointer item, gpointer data)
{
  const MnJob *job = item;
  const MnPolicyState *s = data;

  return job->user->running < s->config->max_jobs_per_user;
}

/* Start waiting requests that fit, oldest first, walking the whole FIFO; a
 * request that does not fit or whose user is at the limit keeps its place.
 * Needed only when a user's limit stops binding (after adopt). */
static void
scan_fifo (MnPolicyState *s, gint64 now, GArray *started)
{
  MnMissCache misses = { 0 };
  GList *next;

  for (GList *it = s->fifo.head; it != NULL && s->load.free_slots > 0; it = next)
    {
      MnJob *job = it->data;
      guint n, l;

      next = it->next;
      if (!user_may_start (job, s) || miss_cache_has (&misses, job))
        continue;
      if (!load_find (&s->load, job, &n, &l))
        {
          miss_cache_add (&misses, job);
          continue;
        }
      start_waiting (s, job, n, l, now, started);
    }
}

/* Room left on node @n for one more job: its free memory, and the most of
 * the mode's GPU resource on one of its logical nodes with a free slot. */
static gboolean
node_room (const MnLoad *load, guint n, guint64 *free_mem, guint64 *gpu_room)
{
  const MnPolicyConfig *c = load->config;
  gboolean any = FALSE;

  *gpu_room = 0;
  *free_mem = 0;
  if (load->node[n].unavailable)
    return FALSE;
  for (guint l = 0; l < c->logical_per_node; l++)
    {
      const MnLogical *lg = &load->logical[n * c->logical_per_node + l];
      guint64 have = 0, used = 0;

      if (lg->jobs >= c->max_jobs_per_logical)
        continue;
      any = TRUE;
      if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE)
        have = c->logical_gpus, used = lg->gpus_reserved;
      else if (c->gpu_mode == MN_GPU_MODE_CAPPED)
        have = (guint64) c->logical_gpus * c->gpu_memory_mb, used = lg->gpu_memory_reserved_mb;
      *gpu_room = MAX (*gpu_room, have > used ? have - used : 0);
    }
  *free_mem = node_free_memory (load, n);
  return any;
}

/* After a release on node @n.  No waiting request fitted anywhere before
 * (each starts as soon as it fits), and only @n gained room, so the oldest
 * requests that fit @n are exactly the ones the FIFO rule starts. */
static void
start_on_node (MnPolicyState *s, guint n, gint64 now, GArray *started)
{
  guint from = 0;
  guint64 free_mem, gpu_room;

  while (node_room (&s->load, n, &free_mem, &gpu_room))
    {
      gint p = mn_wait_index_find (&s->index, from, free_mem, gpu_room,
                                   user_may_start, s);
      MnJob *job;
      guint bn, bl;

      if (p < 0)
        break;
      job = s->index.items[p];
      from = p + 1;
      if (load_find (&s->load, job, &bn, &bl))
        start_waiting (s, job, bn, bl, now, started);
    }
}

static void
reject (MnDecision *d, MnRejectReason reason, gchar *message)
{
  d->kind = MN_DECISION_REJECT;
  d->reason = reason;
  d->message = message;
}

void
mn_policy_state_request (MnPolicyState *state, const MnPolicyRequest *request,
                         gint64 now, MnDecision *decision)
{
  const MnPolicyConfig *c = state->config;
  const gchar *bad;
  gchar *message = NULL;
  MnRejectReason reason;
  MnJob shape, *job;
  MnUser *user;
  guint n, l;

  memset (decision, 0, sizeof *decision);
  if (request == NULL)
    {
      reject (decision, MN_REJECT_MALFORMED, g_strdup ("no request"));
      return;
    }
  decision->job_id = request->job_id;
  bad = malformed_reason (state, request);
  if (bad != NULL)
    {
      reject (decision, MN_REJECT_MALFORMED,
              g_strdup_printf ("malformed request for job %" G_GUINT64_FORMAT ": %s",
                               request->job_id, bad));
      return;
    }
  job_shape_from_request (c, request, &shape);
  reason = check_caps (c, &shape, &message);
  if (reason != MN_REJECT_NONE)
    {
      reject (decision, reason, message);
      return;
    }
  user = g_hash_table_lookup (state->users, request->user);
  if (user != NULL && user->running + user->waiting >= c->max_jobs_per_user)
    {
      reject (decision, MN_REJECT_PER_USER_LIMIT,
              g_strdup_printf ("user '%s' already has %u interactive job%s (running "
                               "or waiting); %s allows %u per user",
                               request->user, user->running + user->waiting,
                               user->running + user->waiting == 1 ? "" : "s",
                               c->queue_name, c->max_jobs_per_user));
      return;
    }

  if (load_find (&state->load, &shape, &n, &l))
    {
      job = g_memdup2 (&shape, sizeof shape);
      job->user = user_get (state, request->user);
      g_hash_table_insert (state->jobs, &job->id, job);
      job_start (state, job, n, l, 0, now);
      decision->kind = MN_DECISION_START;
      decision->node = n;
      decision->logical = l;
      job_allocation (c, job, &decision->allocation);
      return;
    }
  decision->wait_reason = load_why_not (&state->load, &shape);
  if (request->if_busy == MN_IF_BUSY_GIVE_UP)
    {
      reject (decision, MN_REJECT_BUSY_GIVE_UP,
              g_strdup_printf ("%s has no free slot for this request%s (%u jobs "
                               "running, %u waiting) and the request asked not "
                               "to wait", c->queue_name,
                               decision->wait_reason == MN_WAIT_UNAVAILABLE
                               ? " on a node that is available (the others are"
                                 " drained or down)" : "",
                               state->n_running, state->fifo.length));
      return;
    }
  job = g_memdup2 (&shape, sizeof shape);
  job->user = user_get (state, request->user);
  job->user->waiting++;
  g_hash_table_insert (state->jobs, &job->id, job);
  fifo_push (state, job);
  decision->kind = MN_DECISION_WAIT;
  decision->position = state->fifo.length;
}

gboolean
mn_policy_state_release (MnPolicyState *state, guint64 job_id, gint64 now,
                         GArray *started)
{
  MnJob *job = g_hash_table_lookup (state->jobs, &job_id);
  MnUser *user;
  guint node;

  if (job == NULL)
    return FALSE;
  user = job->user;
  node = job->node;
  if (!job->running)
    {
      /* A cancelled request frees no slot and leaves its user's running
       * count, which is what the limit blocks on, unchanged. */
      fifo_remove (state, job);
      user->waiting--;
      g_hash_table_remove (state->jobs, &job_id);
      user_maybe_drop (state, user);
      return TRUE;
    }

  load_remove (&state->load, job, node, job->logical, job->gpu_mask);
  user->running--;
  state->n_running--;
  g_hash_table_remove (state->jobs, &job_id);
  if (user->waiting > 0 && user->running + 1 == state->config->max_jobs_per_user)
    /* The user was at the limit with requests waiting (only possible after
     * adopt): those may now start on any node. */
    scan_fifo (state, now, started);
  else
    start_on_node (state, node, now, started);
  user_maybe_drop (state, user);
  return TRUE;
}

gboolean
mn_policy_state_adopt (MnPolicyState *state, const MnPolicyRequest *request,
                       guint node, guint logical, gint64 start_time,
                       GError **error)
{
  const MnPolicyConfig *c = state->config;
  const gchar *bad = request != NULL ? malformed_reason (state, request) : "no request";
  MnJob *job;

  if (bad != NULL)
    {
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT,
                   "cannot adopt job %" G_GUINT64_FORMAT ": %s",
                   request != NULL ? request->job_id : 0, bad);
      return FALSE;
    }
  if (node >= c->nodes || logical >= c->logical_per_node)
    {
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT,
                   "cannot adopt job %" G_GUINT64_FORMAT " at node %u logical %u: "
                   "%s has %u nodes of %u logical nodes", request->job_id,
                   node, logical, c->queue_name, c->nodes, c->logical_per_node);
      return FALSE;
    }
  job = g_new0 (MnJob, 1);
  job_shape_from_request (c, request, job);
  job->user = user_get (state, request->user);
  g_hash_table_insert (state->jobs, &job->id, job);
  job_start (state, job, node, logical, 0, start_time);
  return TRUE;
}

static guint
count_bits (guint64 mask)
{
  guint n = 0;

  for (; mask != 0; mask &= mask - 1)
    n++;
  return n;
}

gboolean
mn_policy_state_adopt_allocation (MnPolicyState *state, const MnPolicyRequest *request,
                                  const MnPolicyAllocation *allocation,
                                  gint64 start_time, GError **error)
{
  const MnPolicyConfig *c = state->config;
  const gchar *bad = NULL;
  MnJob *job;

  g_return_val_if_fail (allocation != NULL, FALSE);
  if (request != NULL && allocation->node < c->nodes &&
      allocation->logical < c->logical_per_node && allocation->gpu_mask != 0)
    {
      const MnLogical *lg =
        &state->load.logical[allocation->node * c->logical_per_node + allocation->logical];
      guint64 own = 0;

      for (guint i = 0; i < c->logical_gpus; i++)
        own |= G_GUINT64_CONSTANT (1) << (allocation->logical * c->logical_gpus + i);
      if ((allocation->gpu_mask & ~own) != 0)
        bad = "a GPU outside that logical node";
      else if (c->gpu_mode == MN_GPU_MODE_EXCLUSIVE && (allocation->gpu_mask & lg->gpus_held) != 0)
        bad = "a GPU another job holds";
      else if (count_bits (allocation->gpu_mask) != request->gpus)
        bad = "not as many GPUs as the request";
    }
  if (bad != NULL)
    {
      g_set_error (error, MN_POLICY_ERROR, MN_POLICY_ERROR_INVALID_ARGUMENT,
                   "cannot adopt job %" G_GUINT64_FORMAT " with GPUs 0x%"
                   G_GINT64_MODIFIER "x at node %u logical %u: %s",
                   request->job_id, allocation->gpu_mask, allocation->node,
                   allocation->logical, bad);
      return FALSE;
    }
  if (!mn_policy_state_adopt (state, request, allocation->node, allocation->logical,
                              start_time, error))
    return FALSE;
  job = g_hash_table_lookup (state->jobs, &request->job_id);
  if (allocation->gpu_mask != 0 && job->gpu_mask != allocation->gpu_mask)
    {
      load_remove (&state->load, job, job->node, job->logical, job->gpu_mask);
      job->gpu_mask = allocation->gpu_mask;
      load_add (&state->load, job, job->node, job->logical, job->gpu_mask);
    }
  return TRUE;
}

gboolean
mn_policy_state_set_walltime (MnPolicyState *state, guint64 job_id, gint64 walltime)
{
  MnJob *job = g_hash_table_lookup (state->jobs, &job_id);

  if (job == NULL || walltime <= 0)
    return FALSE;
  job->walltime = walltime;
  return TRUE;
}

gboolean
mn_policy_state_set_node_available (MnPolicyState *state, guint node, gboolean available,
                                    gint64 now, GArray *started)
{
  MnNode *n;

  if (node >= state->config->nodes)
    return FALSE;
  n = &state->load.node[node];
  if (!n->unavailable == !!available)
    return FALSE;
  n->unavailable = !available;
  /* Nothing waiting fitted an available node before (each request starts
   * as soon as it fits), so only this node can start someone now. */
  if (available)
    start_on_node (state, node, now, started);
  return TRUE;
}

gboolean
mn_policy_state_node_available (MnPolicyState *state, guint node)
{
  return node < state->config->nodes && !state->load.node[node].unavailable;
}

gboolean
mn_policy_state_allocation (MnPolicyState *state, guint64 job_id,
                            MnPolicyAllocation *allocation)
{
  const MnJob *job = g_hash_table_lookup (state->jobs, &job_id);

  if (job == NULL || !job->running)
    return FALSE;
  job_allocation (state->config, job, allocation);
  return TRUE;
}

/* ---- Start-time estimate ------------------------------------------------------------ */

typedef struct {
  gint64        end;
  const MnJob  *job;
  guint         node;
  guint         logical;
  guint64       gpu_mask;
} MnEnd;

static void
heap_push (GArray *heap, const MnEnd *e)
{
  guint i;

  g_array_append_val (heap, *e);
  i = heap->len - 1;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      MnEnd *a = &g_array_index (heap, MnEnd, parent);
      MnEnd *b = &g_array_index (heap, MnEnd, i);
      MnEnd tmp;

      if (a->end <= b->end)
        break;
      tmp = *a, *a = *b, *b = tmp;
      i = parent;
    }
}

static MnEnd
heap_pop (GArray *heap)
{
  MnEnd top = g_array_index (heap, MnEnd, 0);
  guint i = 0;

  g_array_index (heap, MnEnd, 0) = g_array_index (heap, MnEnd, heap->len - 1);
  g_array_set_size (heap, heap->len - 1);
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      MnEnd tmp;

      if (l < heap->len && g_array_index (heap, MnEnd, l).end < g_array_index (heap, MnEnd, m).end)
        m = l;
      if (r < heap->len && g_array_index (heap, MnEnd, r).end < g_array_index (heap, MnEnd, m).end)
        m = r;
      if (m == i)
        break;
      tmp = g_array_index (heap, MnEnd, m);
      g_array_index (heap, MnEnd, m) = g_array_index (heap, MnEnd, i);
      g_array_index (heap, MnEnd, i) = tmp;
      i = m;
    }
  return top;
}

/* Replay on a copy of the load: start what fits in FIFO order at each end. */
static gint64
replay (MnPolicyState *s, GPtrArray *pending, const MnJob *target, gint64 now)
{
  g_autoptr (GArray) heap = g_array_new (FALSE, FALSE, sizeof (MnEnd));
  MnLoad load;
  GHashTableIter iter;
  gpointer value;
  gint64 t = now, result = G_MAXINT64;

  load_copy (&load, &s->load);
  g_hash_table_iter_init (&iter, s->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const MnJob *job = value;
      MnEnd e = { MAX (job->start + job->walltime, now), job, job->node, job->logical,
                  job->gpu_mask };

      if (job->running)
        heap_push (heap, &e);
    }

  while (result == G_MAXINT64)
    {
      MnMissCache misses = { 0 };

      for (guint i = 0; i < pending->len && load.free_slots > 0; i++)
        {
          const MnJob *job = g_ptr_array_index (pending, i);
          MnEnd e = { 0 };

          if (job == NULL || miss_cache_has (&misses, job))
            continue;
          if (!load_find (&load, job, &e.node, &e.logical))
            {
              miss_cache_add (&misses, job);
              continue;
            }
          if (job == target)
            {
              result = t;
              break;
            }
          e.gpu_mask = pick_gpus (s->config, e.logical, job->gpus,
                                  load.logical[e.node * s->config->logical_per_node
                                               + e.logical].gpus_held);
          load_add (&load, job, e.node, e.logical, e.gpu_mask);
          e.end = t + job->walltime;
          e.job = job;
          heap_push (heap, &e);
          g_ptr_array_index (pending, i) = NULL;
        }
      if (result != G_MAXINT64 || heap->len == 0)
        break;
      t = g_array_index (heap, MnEnd, 0).end;
      while (heap->len > 0 && g_array_index (heap, MnEnd, 0).end == t)
        {
          MnEnd e = heap_pop (heap);

          load_remove (&load, e.job, e.node, e.logical, e.gpu_mask);
        }
    }
  load_clear (&load);
  return result;
}

gint64
mn_policy_state_estimate_start (MnPolicyState *state, guint64 job_id,
                                const MnPolicyRequest *request, gint64 now)
{
  g_autoptr (GPtrArray) pending = g_ptr_array_new ();
  MnJob shape;
  const MnJob *target;
  g_autofree gchar *message = NULL;

  if (job_id != 0)
    {
      const MnJob *job = g_hash_table_lookup (state->jobs, &job_id);

      if (job == NULL)
        return G_MAXINT64;
      if (job->running)
        return job->start;
      for (GList *it = state->fifo.head; it != NULL; it = it->next)
        {
          g_ptr_array_add (pending, it->data);
          if (it->data == job)
            break;
        }
      target = job;
    }
  else
    {
      if (request == NULL)
        return G_MAXINT64;
      job_shape_from_request (state->config, request, &shape);
      if (request->walltime < 0 ||
          check_caps (state->config, &shape, &message) != MN_REJECT_NONE)
        return G_MAXINT64;
      /* A new request starts at once if it fits, whatever waits (the rule of
       * mn_policy_state_request); otherwise it queues behind everyone. */
      if (load_find (&state->load, &shape, &(guint){ 0 }, &(guint){ 0 }))
        return now;
      for (GList *it = state->fifo.head; it != NULL; it = it->next)
        g_ptr_array_add (pending, it->data);
      g_ptr_array_add (pending, &shape);
      target = &shape;
    }
  return replay (state, pending, target, now);
}

/* ---- Read-only views ------------------------------------------------------------------ */

guint
mn_policy_state_n_running (MnPolicyState *state)
{
  return state->n_running;
}

guint
mn_policy_state_n_waiting (MnPolicyState *state)
{
  return state->fifo.length;
}

guint
mn_policy_state_user_jobs (MnPolicyState *state, const gchar *user)
{
  MnUser *u = user != NULL ? g_hash_table_lookup (state->users, user) : NULL;

  return u != NULL ? u->running + u->waiting : 0;
}

guint
mn_policy_state_position (MnPolicyState *state, guint64 job_id)
{
  const MnJob *job = g_hash_table_lookup (state->jobs, &job_id);
  guint pos = 1;

  if (job == NULL || job->running)
    return 0;
  for (GList *it = state->fifo.head; it != job->link; it = it->next)
    pos++;
  return pos;
}

void
mn_policy_state_logical_info (MnPolicyState *state, guint node, guint logical,
                              MnLogicalNodeInfo *info)
{
  const MnPolicyConfig *c = state->config;

  memset (info, 0, sizeof *info);
  info->node = node;
  info->logical = logical;
  g_return_if_fail (node < c->nodes && logical < c->logical_per_node);
  {
    const MnLogical *lg = &state->load.logical[node * c->logical_per_node + logical];

    info->jobs = lg->jobs;
    info->gpus_reserved = lg->gpus_reserved;
    info->gpu_memory_reserved_mb = lg->gpu_memory_reserved_mb;
  }
}

void
mn_policy_state_node_info (MnPolicyState *state, guint node, MnNodeInfo *info)
{
  memset (info, 0, sizeof *info);
  info->node = node;
  g_return_if_fail (node < state->config->nodes);
  info->memory_committed_mb = state->load.node[node].memory_committed_mb;
  info->jobs = state->load.node[node].jobs;
  info->available = !state->load.node[node].unavailable;
}

gboolean
mn_policy_state_lookup (MnPolicyState *state, guint64 job_id,
                        guint *node, guint *logical)
{
  const MnJob *job = g_hash_table_lookup (state->jobs, &job_id);

  if (job == NULL || !job->running)
    return FALSE;
  if (node != NULL)
    *node = job->node;
  if (logical != NULL)
    *logical = job->logical;
  return TRUE;
}
