/* mn-backend-sge-nodes.c: Grid Engine's queue-instance states
 * (mn-backend-sge-nodes.h). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-backend-sge-nodes.h"
#include "mn-backend-text.h"

#include <string.h>

G_DEFINE_QUARK (mn-sge-text-error-quark, mn_sge_text_error)

/* man qstat (Son of Grid Engine 8.1.9), "the state of the queue": each
 * keeps the scheduler from sending a new job there (see the header) */
static const struct {
  gchar        letter;
  const gchar *words;
} queue_states[] = {
  { 'u', "unknown: execd not heard" },
  { 'a', "load alarm" },
  { 'A', "suspend alarm" },
  { 'C', "suspended by calendar" },
  { 'D', "disabled by calendar" },
  { 's', "suspended" },
  { 'S', "suspended by subordination" },
  { 'd', "disabled" },
  { 'E', "error" },
  { 'c', "configuration ambiguous" },
  { 'o', "orphaned" },
  { 'P', "preempted" },
};

static const gchar *
letter_words (gchar letter)
{
  for (guint i = 0; i < G_N_ELEMENTS (queue_states); i++)
    if (queue_states[i].letter == letter)
      return queue_states[i].words;
  return NULL;
}

gboolean
mn_sge_queue_state_available (const gchar *state, gboolean *available)
{
  if (state == NULL)
    return FALSE;
  for (const gchar *p = state; *p != '\0'; p++)
    if (letter_words (*p) == NULL || strchr (p + 1, *p) != NULL)
      return FALSE;
  *available = state[0] == '\0';
  return TRUE;
}

gchar *
mn_sge_queue_state_words (const gchar *state)
{
  g_autoptr(GString) out = NULL;
  gboolean available;

  if (!mn_sge_queue_state_available (state, &available))
    return g_strdup ("not understood");
  if (state[0] == '\0')
    return g_strdup ("no state");
  out = g_string_new (state);
  for (const gchar *p = state; *p != '\0'; p++)
    g_string_append_printf (out, "%s%s", p == state ? " (" : ", ", letter_words (*p));
  g_string_append_c (out, ')');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- qstat -f -xml -------------------------------------------------------- */

typedef struct {
  const gchar *queue;
  GHashTable  *states;
  GPtrArray   *problems;
  gint         depth;       /* of the element open now */
  gint         in_queue;    /* depth of the open Queue-List; 0: none */
  gint         in_job;      /* job_list elements open inside it */
  guint        n_queues;    /* Queue-Lists seen */
  GString     *name, *state;
  gchar       *twice;       /* an element given twice in this Queue-List */
  GString     *field;       /* where the open element's text goes */
} QueueParse;

static void
queue_reset (QueueParse *p)
{
  if (p->name != NULL)
    g_string_free (p->name, TRUE);
  if (p->state != NULL)
    g_string_free (p->state, TRUE);
  p->name = p->state = NULL;
  g_clear_pointer (&p->twice, g_free);
  p->field = NULL;
  p->in_queue = p->in_job = 0;
}

static void
q_start (GMarkupParseContext *ctx, const gchar *element, const gchar **names,
         const gchar **values, gpointer data, GError **error)
{
  QueueParse *p = data;
  GString **slot = NULL;

  p->depth++;
  p->field = NULL;
  if (g_str_equal (element, "Queue-List"))
    {
      if (p->in_queue > 0)
        {
          g_set_error (error, MN_SGE_TEXT_ERROR, 0, "a Queue-List inside a Queue-List");
          return;
        }
      queue_reset (p);
      p->in_queue = p->depth;
      p->n_queues++;
      return;
    }
  if (p->in_queue == 0)
    return;
  if (g_str_equal (element, "job_list"))
    p->in_job++;
  /* the instance's own <name> and <state>, not its jobs' */
  if (p->in_job > 0 || p->depth != p->in_queue + 1)
    return;
  if (g_str_equal (element, "name"))
    slot = &p->name;
  else if (g_str_equal (element, "state"))
    slot = &p->state;
  else
    return;
  if (*slot != NULL && p->twice == NULL)
    p->twice = g_strdup (element);
  if (*slot == NULL)
    *slot = g_string_new (NULL);
  g_string_truncate (*slot, 0);
  p->field = *slot;
}

/* What is wrong with the Queue-List just closed (NULL: nothing). */
static gchar *
queue_problem (QueueParse *p, gchar **instance, gchar **state)
{
  const gchar *at;
  g_autofree gchar *queue = NULL;
  gboolean available;

  if (p->name == NULL)
    return g_strdup ("no <name>");
  *instance = g_strdup (g_strstrip (p->name->str));
  *state = g_strdup (p->state != NULL ? g_strstrip (p->state->str) : "");
  if (p->twice != NULL)
    return g_strdup_printf ("<%s> given twice", p->twice);
  at = strchr (*instance, '@');
  if (at == NULL)
    return g_strdup ("not QUEUE@HOST");
  queue = g_strndup (*instance, at - *instance);
  if (!mn_backend_node_name_ok (queue))
    return g_strdup ("not a queue name");
  if (p->queue != NULL && !g_str_equal (queue, p->queue))
    return g_strdup_printf ("not an instance of %s", p->queue);
  if (!mn_backend_node_name_ok (at + 1))
    return g_strdup ("not a host name");
  if (!mn_sge_queue_state_available (*state, &available))
    {
      g_autofree gchar *said = mn_backend_text_shown (*state, 40);
      return g_strdup_printf ("unknown queue state '%s'", said);
    }
  if (g_hash_table_contains (p->states, *instance))
    return g_strdup ("listed again");
  return NULL;
}

static void
q_end (GMarkupParseContext *ctx, const gchar *element, gpointer data, GError **error)
{
  QueueParse *p = data;

  p->field = NULL;
  if (p->in_queue > 0 && p->depth == p->in_queue)
    {
      g_autofree gchar *instance = NULL;
      g_autofree gchar *state = NULL;
      g_autofree gchar *why = queue_problem (p, &instance, &state);

      if (why == NULL)
        g_hash_table_insert (p->states, g_steal_pointer (&instance), g_steal_pointer (&state));
      else
        {
          g_autofree gchar *said = mn_backend_text_shown (instance != NULL ? instance : "", 80);
          g_ptr_array_add (p->problems, g_strdup_printf ("queue instance %u '%s': %s",
                                                         p->n_queues, said, why));
        }
      queue_reset (p);
    }
  else if (p->in_queue > 0 && p->in_job > 0 && g_str_equal (element, "job_list"))
    p->in_job--;
  p->depth--;
}

static void
q_text (GMarkupParseContext *ctx, const gchar *text, gsize len, gpointer data, GError **error)
{
  QueueParse *p = data;

  if (p->field != NULL)
    g_string_append_len (p->field, text, len);
}

GHashTable *
mn_sge_qstat_queue_states (const gchar *text, gssize len, const gchar *queue,
                           GPtrArray *problems, GError **error)
{
  static const GMarkupParser parser = { q_start, q_end, q_text, NULL, NULL };
  g_autoptr(GHashTable) states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GMarkupParseContext) ctx = NULL;
  QueueParse p = { .queue = queue, .states = states, .problems = problems };
  gboolean ok;

  ctx = g_markup_parse_context_new (&parser, 0, &p, NULL);
  ok = g_markup_parse_context_parse (ctx, text != NULL ? text : "", text != NULL ? len : 0, error) &&
       g_markup_parse_context_end_parse (ctx, error);
  queue_reset (&p);
  if (!ok)
    return NULL;
  return g_steal_pointer (&states);
}

/* ---- qconf -shgrp_resolved ------------------------------------------------ */

GStrv
mn_sge_hostgroup_hosts (const gchar *text, GError **error)
{
  g_auto(GStrv) words = g_strsplit_set (text != NULL ? text : "", " \t\r\n", -1);
  g_autoptr(GStrvBuilder) hosts = g_strv_builder_new ();
  guint n = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      n++;
      if (mn_backend_node_name_ok (words[i]))
        {
          g_strv_builder_add (hosts, words[i]);
          continue;
        }
      {
        g_autofree gchar *said = mn_backend_text_shown (words[i], 80);
        g_set_error (error, MN_SGE_TEXT_ERROR, 0, "word %u '%s' is not a host name", n, said);
        return NULL;
      }
    }
  {
    g_auto(GStrv) all = g_strv_builder_end (hosts);

    /* a host group without hosts: hostlist NONE; Grid Engine has no host of
     * that name, so NONE among hosts is not its answer */
    if (g_strv_contains ((const gchar *const *) all, "NONE"))
      {
        if (n == 1)
          return g_new0 (gchar *, 1);
        g_set_error (error, MN_SGE_TEXT_ERROR, 0, "NONE among %u words", n);
        return NULL;
      }
    return g_steal_pointer (&all);
  }
}

/* ---- policy node -> queue instance --------------------------------------- */

gchar *
mn_sge_queue_instance (const gchar *queue, const gchar *const *hosts, guint node)
{
  if (hosts == NULL || node >= g_strv_length ((gchar **) hosts))
    return NULL;
  return g_strdup_printf ("%s@%s", queue, hosts[node]);
}

gchar *
mn_sge_submit_queue (const gchar *queue, const gchar *const *hosts, guint node, gchar **why)
{
  gchar *instance = mn_sge_queue_instance (queue, hosts, node);
  guint n;

  *why = NULL;
  if (instance != NULL)
    return instance;
  if (hosts == NULL)
    *why = g_strdup_printf ("the hosts of %s are not known (its host group could not be read)",
                            queue);
  else if ((n = g_strv_length ((gchar **) hosts)) == 0)
    *why = g_strdup_printf ("the host group of %s has no hosts", queue);
  else
    *why = g_strdup_printf ("the policy placed the job on node %u (0-based), but the host group"
                            " of %s has %u host%s: [queue] nodes must match its hosts", node,
                            queue, n, n == 1 ? "" : "s");
  return g_strdup (queue);
}
