/* mn-controller-store-checkpoint.h: the WAL's checkpoints off the main loop
 * (issue 14; why: mn-controller-store-checkpoint.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

struct sqlite3;
typedef struct _MnStoreCheckpointer MnStoreCheckpointer;

/* Replaces @db's automatic checkpoint: past 1000 pages of WAL a thread
 * checkpoints the file at @path through a connection of its own. */
MnStoreCheckpointer *mn_store_checkpointer_start (struct sqlite3 *db, const gchar *path);
/* Stops the thread (waits for a checkpoint that runs); @db's hook is removed. */
void                 mn_store_checkpointer_stop (MnStoreCheckpointer *c, struct sqlite3 *db);

G_END_DECLS
