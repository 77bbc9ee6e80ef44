/* systemd unit files as Quadlet reads and writes them: groups of ordered
 * KEY=VALUE entries parsed with systemd's rules (comments, continuation
 * lines, sections), lookups with systemd's list semantics, the word
 * splitting of command lines, and the text of a generated unit.  Values
 * are kept as written (specifiers such as %h and %N are systemd's to
 * expand), so a generated unit repeats them byte for byte. */
#ifndef SKIFF_SRC_QUADLET_UNIT_H
#define SKIFF_SRC_QUADLET_UNIT_H

#include <stdbool.h>
#include <stddef.h>

#include "libutil/error.h"

/* A logical line longer than this (systemd's LONG_LINE_MAX) is refused. */
#define QUADLET_LINE_MAX (1024 * 1024)
/* Bounds far above any real unit, so that lookups, which scan, stay
 * cheap on a hostile file. */
#define QUADLET_MAX_GROUPS 256
#define QUADLET_MAX_ENTRIES 16384

struct quadlet_entry
{
  char *key;
  char *value; /* stripped of surrounding blanks, otherwise raw */
};

struct quadlet_group
{
  char *name;
  struct quadlet_entry *entries;
  size_t n_entries;
};

struct quadlet_unit
{
  char *path; /* where it was read from (or will be written) */
  char *name; /* the file name: "web.container", "web.service" */
  struct quadlet_group *groups;
  size_t n_groups;
};

/* Parse TEXT (LEN bytes) read from PATH.  Fails, naming PATH and the line,
 * on a NUL byte, an unterminated or empty section header, a line without
 * '=', an assignment before the first section, an empty key, a logical
 * line longer than QUADLET_LINE_MAX, or more than QUADLET_MAX_GROUPS
 * sections or QUADLET_MAX_ENTRIES assignments.  A trailing backslash continues the
 * line (it becomes a space); comment lines ('#', ';') inside a
 * continuation are skipped, and a continuation still open at the end of
 * the file ends there, as systemd does. */
struct quadlet_unit *quadlet_unit_parse (const char *path, const char *text, size_t len,
                                         struct error **err);

/* An empty unit named after the last component of PATH. */
struct quadlet_unit *quadlet_unit_new (const char *path);
struct quadlet_unit *quadlet_unit_dup (const struct quadlet_unit *u);
void quadlet_unit_free (struct quadlet_unit *u);
void quadlet_unit_freep (struct quadlet_unit **u);
#define cleanup_quadlet_unit __attribute__ ((cleanup (quadlet_unit_freep)))

/* The group named NAME, or NULL. */
struct quadlet_group *quadlet_unit_group (const struct quadlet_unit *u, const char *name);

/* Rename group FROM to TO when it exists. */
void quadlet_unit_rename_group (struct quadlet_unit *u, const char *from, const char *to);

/* Append KEY=VALUE to GROUP (created at the end when missing). */
void quadlet_unit_add (struct quadlet_unit *u, const char *group, const char *key,
                       const char *value);

/* Replace the last KEY's value in GROUP, or append KEY=VALUE. */
void quadlet_unit_set (struct quadlet_unit *u, const char *group, const char *key,
                       const char *value);

/* The last value of KEY in GROUP, or NULL. */
const char *quadlet_unit_lookup (const struct quadlet_unit *u, const char *group,
                                 const char *key);

/* Every value of KEY in GROUP in order, where an empty assignment clears
 * the ones before it (systemd's list settings).  Never NULL. */
char **quadlet_unit_lookup_all (const struct quadlet_unit *u, const char *group,
                                const char *key);

/* The words of VALUE as systemd splits a command line: blanks separate,
 * double and single quotes group, C escapes (\n, \t, \xHH, \NNN, \uXXXX,
 * \s...) are decoded.  Fails on an unterminated quote, an unknown escape,
 * or an escape that would yield a NUL byte. */
int quadlet_split_words (const char *value, char ***out, struct error **err)
    __attribute__ ((warn_unused_result));

/* systemd's booleans (1/yes/y/true/t/on and 0/no/n/false/f/off, any case).
 * Returns -1 on anything else, leaving *OUT alone. */
int quadlet_parse_bool (const char *value, bool *out);

/* WORD as one word of a systemd command line: in double quotes with
 * backslash escapes when it holds blanks, quotes, backslashes or control
 * characters, or is empty.  '%' and '$' are left alone: a word written in
 * a Quadlet file keeps its specifiers and variables. */
char *quadlet_quote_word (const char *word);

/* ARGV's words quoted and joined by spaces. */
char *quadlet_join_cmdline (char *const *argv);

/* The unit as a file: each group as "[Name]" and its "KEY=VALUE" lines,
 * a blank line between groups. */
char *quadlet_unit_render (const struct quadlet_unit *u);

#endif
