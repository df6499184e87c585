/* mn-config-table.h: minna's configuration machinery.  A program describes
 * its keys in ONE declarative table (group, name, type, bounds, default,
 * unit, help, where the value lives); parsing text with line numbers,
 * validation, command-line overrides, the written-back file with help
 * comments and the key documentation all come from that table, so they
 * cannot drift apart (the redis way; see ../shared/STYLE.md).
 *
 * Files are GLib key files: "[group]" lines, "key = value" lines, comments
 * starting with '#' or ';', blank lines; values take GKeyFile's escapes
 * (\s \n \t \r \\).  Every error names the file and line, and the group
 * and key: "FILE:LINE: [group] key: value '70000' out of range (allowed
 * 0..65535)".  A key set twice in one file is an error.
 *
 * Pure: GLib only, no I/O, no clock, no globals; callers read the files. */
#pragma once

#include <glib.h>

#include "mn-config-units.h"

G_BEGIN_DECLS

#define MN_CONFIG_ERROR (mn_config_error_quark ())
GQuark mn_config_error_quark (void);

/* A table may have its errors raised in its own domain instead: see
 * MnConfigTable.error_quark / error_codes. */
typedef enum {
  MN_CONFIG_ERROR_PARSE,            /* not [group], key = value or a comment; NUL; not UTF-8 */
  MN_CONFIG_ERROR_UNKNOWN_KEY,      /* a group or key the table does not have */
  MN_CONFIG_ERROR_INVALID_VALUE,    /* a value its type or bounds refuse */
  MN_CONFIG_ERROR_DUPLICATE,        /* a key set twice in one file */
  MN_CONFIG_ERROR_MISSING_KEY,      /* a required key absent */
  MN_CONFIG_ERROR_INVALID_ARGUMENT, /* a malformed override, a NULL name */
  MN_CONFIG_N_ERRORS
} MnConfigError;

typedef enum {
  MN_CONFIG_BOOL,      /* gboolean: true/false, yes/no, on/off, 1/0 */
  MN_CONFIG_UINT,      /* guint: a whole number */
  MN_CONFIG_INT,       /* gint64: a whole number, negative when min < 0 */
  MN_CONFIG_SIZE,      /* guint64 MiB: "60G" */
  MN_CONFIG_DURATION,  /* gint64 seconds: "24h" */
  MN_CONFIG_SHARE,     /* gdouble fraction: "0.99" or "99%"; bounds in percent */
  MN_CONFIG_DOUBLE,    /* gdouble: a decimal number, negative when min < 0 */
  MN_CONFIG_STRING,    /* gchar *; bounds limit its length; one of choices when given */
  MN_CONFIG_PATH,      /* gchar *: a file or directory name, otherwise a STRING */
  MN_CONFIG_ENUM,      /* gint: index of the word in choices (case ignored) */
  MN_CONFIG_STRV,      /* gchar **: items separated by ',' or ';', blank ones dropped */
} MnConfigType;

typedef enum {
  MN_CONFIG_KEY_REQUIRED = 1 << 0,  /* loading a file without it fails */
} MnConfigKeyFlags;

typedef struct _MnConfigKey   MnConfigKey;
typedef struct _MnConfigTable MnConfigTable;

/* Stores @text (stripped, unescaped) for @key in @object instead of the
 * table doing it at @key->offset: for values that are more than one scalar
 * (a scenario's lists and ranges), or that need the object's context (a
 * path relative to the file).  Errors say only what is wrong with the
 * value; the caller adds "FILE:LINE: [group] key: ". */
typedef gboolean (*MnConfigSetFunc) (const MnConfigKey *key, gpointer object,
                                     const gchar *text, GError **error);

struct _MnConfigKey {
  const gchar        *group;
  const gchar        *name;
  MnConfigType        type;
  gsize               offset;    /* of the field in the object (unless @set) */
  const gchar        *def;       /* default, as text, parsed like a file's value;
                                  * NULL: none (the field stays zero / NULL) */
  gint64              min, max;  /* bounds of the value in its stored unit (MiB,
                                  * s; a SHARE's in percent) or of a STRING's
                                  * length; min == max == 0: unbounded */
  const gchar        *unit;      /* noun after whole-number bounds: "1..1024 nodes" */
  const gchar *const *choices;   /* ENUM, STRING: the words allowed, NULL-terminated */
  const gchar        *help;
  const gchar        *arg;       /* command-line metavariable ("SECONDS"); NULL: "VALUE" */
  const gchar        *kind;      /* the documentation's name of the type, when not
                                  * the type's own ("name") */
  gboolean          (*valid) (const gchar *text);  /* STRING: an extra syntax check */
  const gchar        *expect;    /* what @valid wants, for its message: "value 'x' is
                                  * not <expect>" */
  MnConfigSetFunc     set;       /* stores the value itself (see above) */
  gint                index;     /* free for @set: which list, which target */
  MnConfigKeyFlags    flags;
};

typedef enum {
  /* A one-group file whose keys are also --key options: messages name a
   * key "key NAME" rather than "[group] NAME". */
  MN_CONFIG_TABLE_ONE_GROUP = 1 << 0,
} MnConfigTableFlags;

struct _MnConfigTable {
  const MnConfigKey  *keys;
  gsize               n_keys;
  MnConfigTableFlags  flags;
  /* When set, errors are raised in this domain with error_codes[code]
   * instead of MN_CONFIG_ERROR (the caller's layer keeps its own domain). */
  GQuark            (*error_quark) (void);
  gint                error_codes[MN_CONFIG_N_ERRORS];
};

/* A scalar value, as mn_config_parse_value() returns it. */
typedef union {
  gboolean     b;
  guint64      u;     /* UINT, SIZE, DURATION */
  gint64       i;     /* INT */
  gdouble      d;     /* SHARE, DOUBLE */
  gint         e;     /* ENUM */
  const gchar *s;     /* STRING, PATH, STRV: the text itself */
} MnConfigValue;

/* ---- The table --------------------------------------------------------- */

const MnConfigKey *mn_config_lookup (const MnConfigTable *table, const gchar *group,
                                     const gchar *name);
gboolean           mn_config_has_group (const MnConfigTable *table, const gchar *group);
/* The groups in the order the table first names them; free with g_free()
 * (the strings are the table's). */
const gchar      **mn_config_groups (const MnConfigTable *table);

/* ---- Objects the table describes --------------------------------------- */

/* A new object of @size bytes holding every key's default; a copy with its
 * own strings; a free that frees the table's fields too (NULL is fine). */
gpointer mn_config_new (const MnConfigTable *table, gsize size);
gpointer mn_config_dup (const MnConfigTable *table, gconstpointer object, gsize size);
void     mn_config_free (const MnConfigTable *table, gpointer object);
/* Every key's default into @object (zeroed by the caller).  A default its
 * own key refuses is a programming error (g_error). */
void     mn_config_init (const MnConfigTable *table, gpointer object);
/* Frees the strings and string lists the table's fields hold. */
void     mn_config_clear (const MnConfigTable *table, gpointer object);
/* @dest is a bytewise copy of @src: give it its own strings and lists. */
void     mn_config_copy_fields (const MnConfigTable *table, gpointer dest, gconstpointer src);
gboolean mn_config_equal (const MnConfigTable *table, gconstpointer a, gconstpointer b);
/* Every field within its key's type and bounds, as if read from a file
 * (for values set directly in the struct).  @bad_key gets the key the
 * error names. */
gboolean mn_config_validate (const MnConfigTable *table, gconstpointer object,
                             const MnConfigKey **bad_key, GError **error);

/* ---- Values ------------------------------------------------------------- */

/* Sets [group] name from text (a command-line override or a test): unknown
 * groups and keys get a suggestion; errors read "[group] key: ...".  For a
 * ONE_GROUP table @group may be NULL. */
gboolean mn_config_set (const MnConfigTable *table, gpointer object, const gchar *group,
                        const gchar *name, const gchar *text, GError **error);
/* "group.key=value" (for a ONE_GROUP table also "key=value"), as --set takes it. */
gboolean mn_config_set_assignment (const MnConfigTable *table, gpointer object,
                                   const gchar *assignment, GError **error);
/* Parses @text for @key and stores it; errors carry no "[group] key: ". */
gboolean mn_config_set_key (const MnConfigKey *key, gpointer object, const gchar *text,
                            GError **error);
/* The scalar grammar of @key's type with its bounds and choices, without
 * storing: what a custom MnConfigSetFunc uses for each item of a list.
 * Errors (MN_CONFIG_ERROR_INVALID_VALUE) read "value '60X' is not a size
 * (...)" or "value '0' out of range (allowed 1..1024)". */
gboolean mn_config_parse_value (const MnConfigKey *key, const gchar *text,
                                MnConfigValue *value, GError **error);
/* The grammar only, no bounds (a range's step). */
gboolean mn_config_parse_scalar (const MnConfigKey *key, const gchar *text,
                                 MnConfigValue *value, GError **error);
/* @key's bounds for a value already parsed from @text. */
gboolean mn_config_check_bounds (const MnConfigKey *key, const gchar *text,
                                 const MnConfigValue *value, GError **error);
/* The field's value as canonical text; NULL for keys with a setter. */
gchar   *mn_config_format (const MnConfigKey *key, gconstpointer object);
/* [group] name's value as canonical text, NULL if there is no such key. */
gchar   *mn_config_get (const MnConfigTable *table, gconstpointer object,
                        const gchar *group, const gchar *name);
/* "[group] name" or, in a ONE_GROUP table, "key name", as messages name it. */
gchar   *mn_config_key_label (const MnConfigTable *table, const MnConfigKey *key);

/* ---- Files ------------------------------------------------------------- */

/* Where each key stood in the file loaded, for messages about keys that are
 * wrong only together ("FILE:LINE: [job] max_cores: 8 exceeds ..."). */
typedef struct _MnConfigLines MnConfigLines;
guint mn_config_lines_find (const MnConfigLines *lines, const gchar *group, const gchar *name);
void  mn_config_lines_free (MnConfigLines *lines);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnConfigLines, mn_config_lines_free)

/* Reads @length bytes of @data (-1: NUL-terminated; NULL: an empty file)
 * on top of what @object holds, key by key in the file's order.  A UTF-8
 * byte-order mark is skipped.  Errors are "FILE:LINE: ...", from the first
 * wrong line.  @lines (may be NULL) gets where each key stood. */
gboolean mn_config_load_data (const MnConfigTable *table, gpointer object, const gchar *data,
                              gssize length, const gchar *filename, MnConfigLines **lines,
                              GError **error);

/* ---- Output and documentation ------------------------------------------ */

typedef enum {
  MN_CONFIG_WRITE_WRAP    = 1 << 0,   /* help wrapped at 76 columns */
  MN_CONFIG_WRITE_ALLOWED = 1 << 1,   /* "# Allowed: 1..1024 nodes. Default: 4." */
  MN_CONFIG_WRITE_SPACED  = 1 << 2,   /* a blank line between the keys of a group */
} MnConfigWriteFlags;

/* A complete file: @header, then each group and each key with its help as
 * '#' comments and its value: @object's in canonical text, or with @object
 * NULL each default as the table writes it.  It loads back to @object. */
gchar *mn_config_write (const MnConfigTable *table, gconstpointer object, const gchar *header,
                        MnConfigWriteFlags flags);
/* Plain-text reference: per group, "  key = default", its type and what it
 * allows, and its help (as `minna-policy keys` prints). */
gchar *mn_config_describe_text (const MnConfigTable *table);
/* Markdown reference: a "### [group]" table per group (| key | default |
 * meaning |), as READMEs carry it. */
gchar *mn_config_describe_markdown (const MnConfigTable *table);
/* "1..1024 nodes", "64M..64T", "wait, give_up", "1..64 characters"; ""
 * for an unbounded key. */
gchar *mn_config_describe_allowed (const MnConfigKey *key);
/* "integer", "size (M, G, T)", "duration (s, m, h, d)", "one of", ... */
const gchar *mn_config_type_name (const MnConfigKey *key);
/* Appends @text word-wrapped to @width columns, each line after @prefix. */
void   mn_config_append_wrapped (GString *out, const gchar *prefix, const gchar *text,
                                 guint width);

G_END_DECLS
