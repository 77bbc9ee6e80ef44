/* Shared by the parts of the Go template engine and nothing else:
 * gotmpl.c lexes and parses, gotmpl_exec.c walks the tree, gotmpl_funcs.c
 * holds the functions and gotmpl_fmt.c prints values as Go's fmt does. */
#ifndef SKIFF_LIBUTIL_GOTMPL_INTERNAL_H
#define SKIFF_LIBUTIL_GOTMPL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "buf.h"
#include "gotmpl.h"

enum gotmpl_node_type
{
  NODE_LIST,     /* kids: the nodes in order */
  NODE_TEXT,     /* text, text_len */
  NODE_ACTION,   /* pipe */
  NODE_IF,       /* pipe, list, else_list (may be NULL) */
  NODE_RANGE,    /* pipe, list, else_list */
  NODE_WITH,     /* pipe, list, else_list */
  NODE_BREAK,
  NODE_CONTINUE,
  NODE_PIPE,     /* kids: commands; decls, ndecls, is_assign */
  NODE_COMMAND,  /* kids: operands */
  NODE_FIELD,    /* idents: "A", "B" for .A.B */
  NODE_VARIABLE, /* idents: "$x", then fields */
  NODE_CHAIN,    /* pipe: the term (a NODE_PIPE or other operand); idents: fields */
  NODE_IDENT,    /* func; text: the name */
  NODE_DOT,
  NODE_NIL,
  NODE_LITERAL,  /* value (a bool, number or string); text: the source */
  NODE_END,      /* parse-time only: {{end}} and {{else}} close a list */
  NODE_ELSE,
};

struct gotmpl_func;

struct gotmpl_node
{
  enum gotmpl_node_type type;
  size_t pos; /* byte offset in the template text */
  char *text;
  size_t text_len;
  json_object *value;
  char **idents;
  size_t nidents;
  const struct gotmpl_func *func;
  struct gotmpl_node *pipe;
  struct gotmpl_node *list;
  struct gotmpl_node *else_list;
  struct gotmpl_node **kids;
  size_t nkids;
  char **decls;
  size_t ndecls;
  bool is_assign;
};

struct gotmpl
{
  char *name;
  char *text;
  struct gotmpl_node *root;
  struct gotmpl_node **nodes; /* every node, for freeing */
  size_t nnodes;
};

/* A function call in progress: what a function may look at and where it
 * leaves its complaint. */
struct gotmpl_call
{
  size_t max_value; /* longest string a function may build */
  uint64_t *produced; /* bytes built so far in this run */
  uint64_t max_produced;
  char *msg; /* set on failure, malloc'd */
};

typedef int gotmpl_func_fn (struct gotmpl_call *c, json_object *const *args, size_t nargs,
                            json_object **out);

struct gotmpl_func
{
  const char *name;
  size_t min_args;
  size_t max_args; /* SIZE_MAX: variadic */
  gotmpl_func_fn *fn; /* NULL for and/or, which the executor evaluates lazily */
  bool is_header_identity; /* docker's header function: returns args[0] */
};

/* gotmpl_funcs.c */
const struct gotmpl_func *gotmpl_func_lookup (const char *name);
/* Record a failure of C's function; returns -1. */
int gotmpl_call_fail (struct gotmpl_call *c, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Account for a string of LEN bytes built by a function; fails when it
 * is longer than the bound or the run has built too much. */
int gotmpl_call_charge (struct gotmpl_call *c, size_t len);
bool gotmpl_truth (json_object *v);
/* Go's type names for messages: "string", "int", "[]interface {}". */
const char *gotmpl_type_name (json_object *v);

/* gotmpl_fmt.c */
/* Go's fmt.Sprintf over json-c values; the result is bounded by C's
 * charge. */
int gotmpl_sprintf (struct gotmpl_call *c, const char *fmt, size_t fmt_len,
                    json_object *const *args, size_t nargs, struct buf *out);
/* Append rune R as UTF-8 (U+FFFD for a surrogate or out of range). */
void gotmpl_append_rune (uint64_t r, struct buf *out);
/* Go's strconv.Quote (%q): escapes, and with IS_ASCII \u escapes for non-ASCII. */
void gotmpl_quote (const char *s, size_t len, bool is_ascii, struct buf *out);
/* Go's fmt.Sprint (IS_LN false) and fmt.Sprintln. */
void gotmpl_sprint (json_object *const *args, size_t nargs, bool is_ln, struct buf *out);

/* gotmpl.c */
/* Append N's source form, as Go's Node.String() gives it. */
void gotmpl_node_string (const struct gotmpl_node *n, struct buf *out);

#endif
