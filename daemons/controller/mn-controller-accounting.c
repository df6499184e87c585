/* mn-controller-accounting.c: node-hours per month (see the header). */
#define G_LOG_DOMAIN "minna-controller"

#include "mn-controller-accounting.h"
#include "mn-controller-config.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

void
mn_accounting_session_free (MnAccountingSession *s)
{
  if (s == NULL)
    return;
  g_free (s->user);
  g_free (s->queue);
  g_free (s);
}

void
mn_accounting_row_free (MnAccountingRow *r)
{
  if (r == NULL)
    return;
  g_free (r->month);
  g_free (r->user);
  g_free (r->group);
  g_free (r);
}

gchar *
mn_accounting_unix_group (const gchar *user, gpointer data)
{
  struct passwd pwbuf, *pw = NULL;
  struct group grbuf, *gr = NULL;
  gchar buf[4096], gbuf[8192];
  if (getpwnam_r (user, &pwbuf, buf, sizeof buf, &pw) != 0 || pw == NULL)
    return g_strdup ("(none)");
  if (getgrgid_r (pw->pw_gid, &grbuf, gbuf, sizeof gbuf, &gr) != 0 || gr == NULL)
    return g_strdup_printf ("%u", (guint) pw->pw_gid);
  return g_strdup (gr->gr_name);
}

static gboolean
month_parts (const gchar *text, guint64 *y, guint64 *m)
{
  g_autofree gchar *year = NULL;
  if (text == NULL || strlen (text) != 7 || text[4] != '-')
    return FALSE;
  year = g_strndup (text, 4);
  return g_ascii_string_to_unsigned (year, 10, 1970, 9998, y, NULL) &&
         g_ascii_string_to_unsigned (text + 5, 10, 1, 12, m, NULL);
}

gboolean
mn_accounting_parse_month (const gchar *text, const gchar *field, gint64 *start, gint64 *next,
                           GError **error)
{
  guint64 y = 0, m = 0;
  g_autoptr(GDateTime) a = NULL;
  g_autoptr(GDateTime) b = NULL;
  if (month_parts (text, &y, &m))
    a = g_date_time_new_utc ((gint) y, (gint) m, 1, 0, 0, 0);
  b = a != NULL ? g_date_time_add_months (a, 1) : NULL;
  if (b == NULL)
    {
      g_set_error (error, MN_CONTROLLER_ERROR, MN_CONTROLLER_ERROR_INVALID,
                   "field '%s': '%s' is not a month (YYYY-MM)", field, text ? text : "");
      return FALSE;
    }
  *start = g_date_time_to_unix (a);
  *next = g_date_time_to_unix (b);
  return TRUE;
}

gchar *
mn_accounting_month_of (gint64 t)
{
  g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc (t);
  return d != NULL ? g_date_time_format (d, "%Y-%m") : g_strdup ("0000-00");
}

gdouble
mn_accounting_node_share (const MnPolicyConfig *policy, const MnAccountingSession *s)
{
  MnPolicyRequest req = { 0 };
  MnPolicyAllocation alloc = { 0 };
  req.user = s->user;
  req.cores = s->cores;
  req.memory_mb = s->memory_mb;
  req.gpus = s->gpus;
  req.gpu_memory_mb = s->gpu_memory_mb;
  req.walltime = s->walltime;
  /* where it ran does not change its cores; logical node 0 stands for any */
  mn_policy_allocation_compute (policy, &req, 0, 0, 0, s->start, &alloc);
  return policy->node_cores > 0 ? (gdouble) alloc.cores / policy->node_cores : 0;
}

static gint
row_order (gconstpointer pa, gconstpointer pb)
{
  const MnAccountingRow *a = *(MnAccountingRow *const *) pa, *b = *(MnAccountingRow *const *) pb;
  gint c = g_strcmp0 (a->month, b->month);
  if (c == 0)
    c = g_strcmp0 (a->user ? a->user : a->group, b->user ? b->user : b->group);
  if (c == 0)
    c = g_strcmp0 (a->group, b->group);
  return c;
}

GPtrArray *
mn_accounting_compute (const MnPolicyConfig *policy, const GPtrArray *sessions, gint64 from,
                       gint64 to, gint64 now, gdouble charge, gboolean by_group,
                       MnAccountingGroupFunc group, gpointer group_data)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) mn_accounting_row_free);
  g_autoptr(GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; sessions != NULL && i < sessions->len; i++)
    {
      const MnAccountingSession *s = g_ptr_array_index (sessions, i);
      gint64 start = s->start, end = s->end > 0 ? s->end : now;
      gdouble share;
      const gchar *grp;
      g_autoptr(GDateTime) month = NULL;
      if (g_strcmp0 (s->queue, "interactive") != 0 || start <= 0 || end <= start ||
          end <= from || start >= to)
        continue;
      share = mn_accounting_node_share (policy, s);
      grp = g_hash_table_lookup (groups, s->user);
      if (grp == NULL)
        {
          gchar *g = group != NULL ? group (s->user, group_data) : g_strdup ("(none)");
          g_hash_table_insert (groups, g_strdup (s->user), g);
          grp = g;
        }
      /* each calendar month (UTC) the run touches, within [from, to) */
      {
        g_autoptr(GDateTime) st = g_date_time_new_from_unix_utc (MAX (start, from));
        month = g_date_time_new_utc (g_date_time_get_year (st), g_date_time_get_month (st), 1, 0, 0, 0);
      }
      while (month != NULL && g_date_time_to_unix (month) < MIN (end, to))
        {
          g_autoptr(GDateTime) next = g_date_time_add_months (month, 1);
          gint64 m0 = g_date_time_to_unix (month), m1 = g_date_time_to_unix (next);
          gint64 a = MAX (MAX (start, m0), from), b = MIN (MIN (end, m1), to);
          g_autofree gchar *label = g_date_time_format (month, "%Y-%m");
          g_autofree gchar *key = g_strdup_printf ("%s\n%s\n%s", label, by_group ? "" : s->user, grp);
          MnAccountingRow *row = g_hash_table_lookup (index, key);
          if (b > a)
            {
              gdouble hours = (b - a) / 3600.0;
              if (row == NULL)
                {
                  row = g_new0 (MnAccountingRow, 1);
                  row->month = g_strdup (label);
                  row->user = by_group ? NULL : g_strdup (s->user);
                  row->group = g_strdup (grp);
                  g_ptr_array_add (rows, row);
                  g_hash_table_insert (index, g_steal_pointer (&key), row);
                }
              row->sessions++;
              row->hours += hours;
              row->node_hours += hours * share;
              row->charged_node_hours += hours * charge;
            }
          g_date_time_unref (month);
          month = g_steal_pointer (&next);
        }
    }
  g_ptr_array_sort (rows, row_order);
  return rows;
}

void
mn_csv_append_field (GString *out, const gchar *field)
{
  gboolean formula, quote;
  if (field == NULL)
    return;
  /* a spreadsheet runs =..., +..., -..., @... as a formula (CSV injection) */
  formula = field[0] == '=' || field[0] == '+' || field[0] == '-' || field[0] == '@' ||
            field[0] == '\t' || field[0] == '\r';
  quote = formula || strpbrk (field, ",\"\r\n") != NULL;
  if (!quote)
    {
      g_string_append (out, field);
      return;
    }
  g_string_append_c (out, '"');
  if (formula)
    g_string_append_c (out, '\'');
  for (const gchar *c = field; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

static void
append_number (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  /* three decimals: a second is 0.0003 h; locale-free (a comma would split) */
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.3f", v));
}

gchar *
mn_accounting_csv (const GPtrArray *rows, gboolean by_group)
{
  GString *out = g_string_new (by_group ? "month,group,sessions,hours,node_hours,charged_node_hours\r\n"
                                        : "month,user,group,sessions,hours,node_hours,charged_node_hours\r\n");
  for (guint i = 0; rows != NULL && i < rows->len; i++)
    {
      const MnAccountingRow *r = g_ptr_array_index (rows, i);
      mn_csv_append_field (out, r->month);
      g_string_append_c (out, ',');
      if (!by_group)
        {
          mn_csv_append_field (out, r->user);
          g_string_append_c (out, ',');
        }
      mn_csv_append_field (out, r->group);
      g_string_append_printf (out, ",%u,", r->sessions);
      append_number (out, r->hours);
      g_string_append_c (out, ',');
      append_number (out, r->node_hours);
      g_string_append_c (out, ',');
      append_number (out, r->charged_node_hours);
      g_string_append (out, "\r\n");
    }
  return g_string_free (out, FALSE);
}
