/* mn-backend-sge-nodes.h: Grid Engine's queue-instance states as qstat
 * prints them, which of them take new jobs (the policy's NODE
 * AVAILABILITY), and which host is which policy node (where its jobs are
 * submitted).  Pure parsing of
 * external text: strict, unknown text is reported, never guessed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What Grid Engine printed is not what these functions read. */
#define MN_SGE_TEXT_ERROR (mn_sge_text_error_quark ())
GQuark mn_sge_text_error_quark (void);

/* The states of one queue instance (qstat -f's "states" column, the
 * <state> of its Queue-List in -xml): none, or a set of the letters of man
 * qstat, each at most once.  Every one of them takes no new job:
 *   u  unknown: sge_qmaster does not hear its sge_execd
 *   a  load alarm (a load threshold is exceeded: the scheduler sends none)
 *   A  suspend alarm (a suspend threshold: a job sent there is suspended)
 *   C  suspended by a calendar,  D  disabled by a calendar
 *   s  suspended (qmod -s),      S  suspended by subordination
 *   d  disabled (qmod -d),       E  error (until qmod -c)
 *   c  configuration ambiguous,  o  orphaned (no longer in the queue's hosts)
 *   P  preempted (slotwise subordination)
 * TRUE with *available (TRUE only for no state) when every letter is known;
 * FALSE for anything else. */
gboolean mn_sge_queue_state_available (const gchar *state, gboolean *available);

/* What a known @state means, for the log and the admin's queue view:
 * "d (disabled)", "du (disabled, unknown: execd not heard)", "" -> "no state". */
gchar   *mn_sge_queue_state_words (const gchar *state);

/* `qstat -f [-q QUEUE] -xml`: queue instance ("interactive.q@host") -> its
 * state text (owned; "" for none), for each Queue-List whose <name> is
 * QUEUE@HOST (any queue when @queue is NULL) with a queue and host name of
 * letters, digits, '.', '_' or '-' and a <state> that
 * mn_sge_queue_state_available() knows; its job_list entries are not
 * looked at.  Any other Queue-List is left out, and a message naming it
 * ("queue instance 2 'interactive.q@n1': unknown queue state 'dX'") is
 * appended to @problems (gchar*, owned); an instance listed twice keeps its
 * first state and is a problem too.  NULL with @error (MN_SGE_TEXT_ERROR) when @text (@len
 * bytes, -1: NUL-terminated) is not XML or has a Queue-List inside one:
 * then it says nothing of any instance. */
GHashTable *mn_sge_qstat_queue_states (const gchar *text, gssize len, const gchar *queue,
                                       GPtrArray *problems, GError **error);

/* `qconf -shgrp_resolved @GROUP`: its hosts in the order Grid Engine lists
 * them (policy node i is the i-th, as the export's host group @<queue
 * without .q> holds the policy's nodes); "NONE" alone is none.  NULL with @error
 * (MN_SGE_TEXT_ERROR) naming the first word that is not a host name. */
GStrv    mn_sge_hostgroup_hosts (const gchar *text, GError **error);

/* The queue instance of policy node @node (0-based): "QUEUE@HOST", HOST the
 * @node-th of @hosts (mn_sge_hostgroup_hosts' answer); NULL when @hosts is
 * NULL or has no host for @node.  The one mapping of policy nodes to hosts:
 * node_states reads the instance's state under this name, and an
 * interactive job the policy placed on @node is submitted to it. */
gchar   *mn_sge_queue_instance (const gchar *queue, const gchar *const *hosts, guint node);

/* Where qsub sends an interactive job the policy placed on @node: `-q`'s
 * value.  Its queue instance (mn_sge_queue_instance), so Grid Engine runs
 * it on the host the policy counted it on; @queue alone when there is none,
 * with *why (owned) saying why: @hosts NULL (the host group could not be
 * read) or without a host for @node.  Grid Engine picks the host then. */
gchar   *mn_sge_submit_queue (const gchar *queue, const gchar *const *hosts, guint node,
                              gchar **why);

G_END_DECLS
