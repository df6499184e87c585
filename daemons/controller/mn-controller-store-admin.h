/* mn-controller-store-admin.h: the admin page's queries on the controller's
 * database: every session filtered and paged, the users that have any, and
 * what accounting needs. */
#pragma once

#include <glib.h>
#include "mn-controller-store.h"

G_BEGIN_DECLS

typedef struct {
  const gchar        *user;     /* NULL: anyone */
  const gchar *const *states;   /* NULL: any; "live" stands for every state but ended and failed */
  gint                node;     /* the policy's node; -1: any */
  gint                logical;  /* its logical node; -1: any */
} MnStoreSessionFilter;

/* Ids of the sessions that pass @filter, newest first, @limit of them from
 * @offset; *@total: how many pass in all. */
GPtrArray *mn_controller_store_admin_list (MnControllerStore *store,
                                           const MnStoreSessionFilter *filter,
                                           guint limit, guint offset, guint64 *total,
                                           GError **error);
/* Every user with a session, sorted. */
GStrv      mn_controller_store_admin_users (MnControllerStore *store, GError **error);
/* MnAccountingSession of every interactive session that ran at some time
 * in [@from, @to) (mn-controller-accounting.h). */
GPtrArray *mn_controller_store_accounting (MnControllerStore *store, gint64 from, gint64 to,
                                           GError **error);

G_END_DECLS
