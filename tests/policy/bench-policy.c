/* bench-policy.c: decisions per second of the policy state, as the simulator
 * drives it (a request or a release per step), against a baseline measured in
 * the same run: the same steps doing only the bookkeeping of the job ids
 * (which this driver needs anyway), the floor of any per-job state.
 *   bench-policy [--steps N] [--json FILE] */
#define G_LOG_DOMAIN "minna-policy-bench"

#include "mn-policy.h"

typedef struct {
  const gchar *name;
  const gchar *overrides;   /* group.key=value ... */
  guint        n_users;
} Workload;

static const Workload workloads[] = {
  /* TSUBAME3 defaults, more users than slots: a short queue. */
  { "default", "", 2000 },
  /* Memory binds before slots do, so a release scans far down the FIFO. */
  { "long-fifo", "node.memory=64G node.swap=0 logical_node.memory=16G "
    "job.max_memory=16G queue.max_jobs_per_user=4", 20000 },
};

static MnPolicyConfig *
make_config (const gchar *overrides)
{
  MnPolicyConfig *c = mn_policy_config_new_default ();
  g_auto (GStrv) items = g_strsplit (overrides, " ", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (items[i], "=", 2);
      g_auto (GStrv) gk = NULL;

      if (g_strv_length (kv) != 2)
        continue;
      gk = g_strsplit (kv[0], ".", 2);
      if (!mn_policy_config_set (c, gk[0], gk[1], kv[1], NULL))
        g_error ("bad override %s", items[i]);
    }
  if (!mn_policy_config_validate (c, NULL))
    g_error ("inconsistent workload %s", overrides);
  return c;
}

typedef struct {
  gdouble seconds;
  guint64 steps;
  guint   max_waiting;
} Result;

/* Live job ids with O(1) random pick and removal by id. */
typedef struct {
  GArray     *ids;
  GHashTable *index;   /* id -> position + 1 */
} IdSet;

static void
idset_init (IdSet *set)
{
  set->ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  set->index = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

static void
idset_clear (IdSet *set)
{
  g_array_unref (set->ids);
  g_hash_table_destroy (set->index);
}

static void
idset_add (IdSet *set, guint64 id)
{
  g_array_append_val (set->ids, id);
  g_hash_table_insert (set->index, g_memdup2 (&id, sizeof id), GUINT_TO_POINTER (set->ids->len));
}

static void
idset_remove (IdSet *set, guint64 id)
{
  guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (set->index, &id)) - 1;
  guint64 last = g_array_index (set->ids, guint64, set->ids->len - 1);

  g_array_index (set->ids, guint64, pos) = last;
  g_hash_table_insert (set->index, g_memdup2 (&last, sizeof last), GUINT_TO_POINTER (pos + 1));
  g_array_set_size (set->ids, set->ids->len - 1);
  g_hash_table_remove (set->index, &id);
}

/* The same random step sequence for both runs: the seed fixes it.  Like the
 * simulator, most releases end running jobs; a few cancel waiting ones. */
static Result
run (const Workload *w, guint64 steps, gboolean baseline)
{
  g_autoptr (MnPolicyConfig) c = make_config (w->overrides);
  g_autoptr (MnPolicyState) s = mn_policy_state_new (c);
  g_autoptr (GArray) started = g_array_new (FALSE, TRUE, sizeof (MnDecision));
  g_auto (GStrv) users = g_new0 (gchar *, w->n_users + 1);
  GRand *r = g_rand_new_with_seed (12345);
  IdSet running, waiting;
  guint64 next_id = 1;
  Result res = { 0 };
  gint64 t0;

  idset_init (&running);
  idset_init (&waiting);
  for (guint u = 0; u < w->n_users; u++)
    users[u] = g_strdup_printf ("u%05u", u);
  t0 = g_get_monotonic_time ();
  for (guint64 now = 0; now < steps; now++)
    {
      guint n_live = running.ids->len + waiting.ids->len;

      if (n_live == 0 || g_rand_int_range (r, 0, 100) < 52)
        {
          MnPolicyRequest req = {
            .job_id = next_id++,
            .user = users[g_rand_int_range (r, 0, w->n_users)],
            .cores = g_rand_int_range (r, 1, 8),
            .memory_mb = (guint64) g_rand_int_range (r, 1, 16) * 1024,
            .gpus = g_rand_int_range (r, 0, 2),
            .walltime = g_rand_int_range (r, 60, 86400),
          };
          MnDecision d = { .kind = MN_DECISION_START };

          /* The baseline starts everything: bookkeeping only. */
          if (!baseline)
            mn_policy_state_request (s, &req, now, &d);
          if (d.kind == MN_DECISION_START)
            idset_add (&running, req.job_id);
          else if (d.kind == MN_DECISION_WAIT)
            idset_add (&waiting, req.job_id);
          mn_decision_clear (&d);
        }
      else
        {
          gboolean end_running = running.ids->len > 0 &&
                                 (waiting.ids->len == 0 || g_rand_int_range (r, 0, 10) > 0);
          IdSet *from = end_running ? &running : &waiting;
          guint64 id = g_array_index (from->ids, guint64,
                                      g_rand_int_range (r, 0, from->ids->len));

          idset_remove (from, id);
          if (!baseline)
            {
              g_array_set_size (started, 0);
              mn_policy_state_release (s, id, now, started);
              for (guint i = 0; i < started->len; i++)
                {
                  guint64 sid = g_array_index (started, MnDecision, i).job_id;

                  idset_remove (&waiting, sid);
                  idset_add (&running, sid);
                }
            }
        }
      res.max_waiting = MAX (res.max_waiting, waiting.ids->len);
    }
  res.seconds = (g_get_monotonic_time () - t0) / 1e6;
  res.steps = steps;
  idset_clear (&running);
  idset_clear (&waiting);
  g_rand_free (r);
  return res;
}

int
main (int argc, char **argv)
{
  gint64 steps = 500000;
  g_autofree gchar *json_path = NULL;
  GOptionEntry entries[] = {
    { "steps", 0, 0, G_OPTION_ARG_INT64, &steps, "Requests + releases per run", "N" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Also write results as JSON", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- policy throughput");
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) json = g_string_new ("{\n  \"benchmark\": \"policy\",\n  \"runs\": [\n");

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || steps <= 0)
    {
      g_printerr ("bench-policy: %s\n", error != NULL ? error->message : "--steps must be > 0");
      return 2;
    }

  g_print ("%-10s %10s %12s %14s %14s %8s %11s\n", "workload", "steps", "policy s",
           "policy ops/s", "baseline ops/s", "ratio", "max waiting");
  for (gsize i = 0; i < G_N_ELEMENTS (workloads); i++)
    {
      Result base = run (&workloads[i], steps, TRUE);
      Result pol = run (&workloads[i], steps, FALSE);
      gdouble pol_rate = pol.steps / MAX (pol.seconds, 1e-9);
      gdouble base_rate = base.steps / MAX (base.seconds, 1e-9);

      g_print ("%-10s %10" G_GUINT64_FORMAT " %12.3f %14.0f %14.0f %8.1f %11u\n",
               workloads[i].name, pol.steps, pol.seconds, pol_rate, base_rate,
               base_rate / pol_rate, pol.max_waiting);
      g_string_append_printf (json,
                              "    {\"workload\": \"%s\", \"steps\": %" G_GUINT64_FORMAT
                              ", \"policy_seconds\": %.6f, \"policy_ops_per_s\": %.0f, "
                              "\"baseline_ops_per_s\": %.0f, \"max_waiting\": %u}%s\n",
                              workloads[i].name, pol.steps, pol.seconds, pol_rate,
                              base_rate, pol.max_waiting,
                              i + 1 < G_N_ELEMENTS (workloads) ? "," : "");
    }
  g_string_append (json, "  ]\n}\n");
  if (json_path != NULL && !g_file_set_contents (json_path, json->str, -1, &error))
    {
      g_printerr ("bench-policy: %s\n", error->message);
      return 1;
    }
  return 0;
}
