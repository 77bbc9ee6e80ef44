/* Running a parsed template (text/template's exec.go): walk the tree with
 * dot, evaluate pipelines left to right, each command's value becoming the
 * last argument of the next, keep variables on a stack that each control
 * structure unwinds, and print what actions yield.  Values are json-c
 * references (NULL is Go's nil); every evaluation hands out a reference
 * its caller puts.  Work is bounded: output size, bytes functions build
 * and evaluation steps; recursion follows the tree, whose depth the parser
 * bounds. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gotmpl_internal.h"
#include "jobj.h"
#include "mem.h"

/* Evaluation steps one run may take: ranges nested over large data stop
 * here rather than spin. */
#define MAX_STEPS 5000000
/* Bytes functions may build in one run, as a multiple of the output
 * bound (a loop that keeps copying a large string stops here). */
#define PRODUCED_FACTOR 16

enum
{
  WALK_ERROR = -1,
  WALK_OK = 0,
  WALK_BREAK,
  WALK_CONTINUE,
};

struct var
{
  const char *name;
  json_object *value;
};

struct state
{
  const struct gotmpl *t;
  const struct gotmpl_opts *opts;
  json_object *root;
  struct buf *out;
  size_t out_start;
  size_t max_output;
  struct var *vars;
  size_t nvars;
  size_t vars_cap;
  const struct gotmpl_node *at; /* the node being evaluated, for messages */
  uint64_t steps;
  uint64_t produced;
  struct error **err;
};

/* "template: output:1:2: executing "output" at <.Foo>: MESSAGE", where
 * the column is Go's (the byte offset on the first line). */
static int __attribute__ ((format (printf, 2, 3)))
exec_fail (struct state *s, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  cleanup_buf struct buf context = BUF_INIT;
  const char *text = s->t->text;
  size_t pos, line_start = 0;
  int line = 1;
  va_list ap;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  if (s->at == NULL)
    return err_make (s->err, 0, "template: %s: %s", s->t->name, msg);
  pos = s->at->pos;
  for (size_t i = 0; i < pos; i++)
    if (text[i] == '\n')
      line++, line_start = i + 1;
  gotmpl_node_string (s->at, &context);
  if (context.len > 20)
    {
      buf_truncate (&context, 20);
      buf_append_str (&context, "...");
    }
  return err_make (s->err, 0, "template: %s:%d:%zu: executing \"%s\" at <%s>: %s", s->t->name,
                   line, line == 1 ? pos : pos - line_start, s->t->name,
                   context.data ? context.data : "", msg);
}

static int
tick (struct state *s)
{
  if (++s->steps > MAX_STEPS)
    return exec_fail (s, "template takes more than %d steps", MAX_STEPS);
  return 0;
}

static int
emit (struct state *s, const char *data, size_t len)
{
  if (s->out->len - s->out_start + len > s->max_output)
    return exec_fail (s, "output longer than %zu bytes", s->max_output);
  buf_append (s->out, data, len);
  return 0;
}

/* ---- variables -------------------------------------------------------- */

static void
push_var (struct state *s, const char *name, json_object *value)
{
  if (s->nvars == s->vars_cap)
    {
      s->vars_cap = s->vars_cap ? s->vars_cap * 2 : 8;
      s->vars = xrealloc (s->vars, s->vars_cap * sizeof *s->vars);
    }
  s->vars[s->nvars].name = name;
  s->vars[s->nvars++].value = json_object_get (value);
}

static void
pop_vars (struct state *s, size_t mark)
{
  while (s->nvars > mark)
    json_object_put (s->vars[--s->nvars].value);
}

static struct var *
find_var (struct state *s, const char *name)
{
  for (size_t i = s->nvars; i-- > 0;)
    if (strcmp (s->vars[i].name, name) == 0)
      return &s->vars[i];
  return NULL;
}

static int
set_var (struct state *s, const char *name, json_object *value)
{
  struct var *v = find_var (s, name);

  if (v == NULL)
    return exec_fail (s, "undefined variable: %s", name);
  json_object_put (v->value);
  v->value = json_object_get (value);
  return 0;
}

/* Set the variable N from the top (1 is the top). */
static void
set_top_var (struct state *s, size_t n, json_object *value)
{
  struct var *v = &s->vars[s->nvars - n];
  json_object_put (v->value);
  v->value = json_object_get (value);
}

/* ---- fields ----------------------------------------------------------- */

/* An object's key: exactly, else ignoring case (podman's keys are the
 * template's fields; users write docker's spelling, ".ID" for "Id"). */
static bool
lookup_key (json_object *o, const char *name, json_object **value)
{
  if (json_object_object_get_ex (o, name, value))
    return true;
  json_object_object_foreach (o, key, val)
    if (strcasecmp (key, name) == 0)
      {
        *value = val;
        return true;
      }
  return false;
}

static int
eval_field (struct state *s, const char *name, bool has_args, json_object *receiver,
            json_object **out)
{
  json_object *v;
  enum gotmpl_missing missing = s->opts->missing;

  if (receiver == NULL)
    {
      if (missing == GOTMPL_MISSING_ERROR)
        return exec_fail (s, "nil data; no entry for key \"%s\"", name);
      *out = NULL;
      return 0;
    }
  if (!json_object_is_type (receiver, json_type_object))
    return exec_fail (s, "can't evaluate field %s in type %s", name,
                      gotmpl_type_name (receiver));
  if (has_args)
    return exec_fail (s, "%s is not a method but has arguments", name);
  if (lookup_key (receiver, name, &v))
    {
      *out = json_object_get (v);
      return 0;
    }
  if (missing == GOTMPL_MISSING_ERROR
      || (missing == GOTMPL_MISSING_ERROR_TOP && receiver == s->root))
    return exec_fail (s, "can't evaluate field %s", name);
  *out = NULL;
  return 0;
}

/* IDENTS applied one after the other from RECEIVER; only the last may
 * see arguments (and fails for them: JSON has no methods). */
static int
eval_field_chain (struct state *s, json_object *receiver, char *const *idents, size_t n,
                  bool has_args, json_object **out)
{
  json_object *cur = json_object_get (receiver);

  for (size_t i = 0; i < n; i++)
    {
      json_object *next = NULL;
      int r = eval_field (s, idents[i], has_args && i + 1 == n, cur, &next);
      json_object_put (cur);
      if (r < 0)
        return -1;
      cur = next;
    }
  *out = cur;
  return 0;
}

/* ---- commands --------------------------------------------------------- */

static int eval_pipeline (struct state *s, json_object *dot, const struct gotmpl_node *pipe,
                          json_object **out);
static int eval_function (struct state *s, json_object *dot, const struct gotmpl_node *ident,
                          const struct gotmpl_node *cmd, bool has_final, json_object *final,
                          json_object **out);

static bool
has_args (const struct gotmpl_node *cmd, bool has_final)
{
  return (cmd && cmd->nkids > 1) || has_final;
}

static int
not_a_function (struct state *s, const struct gotmpl_node *cmd, bool has_final)
{
  cleanup_buf struct buf name = BUF_INIT;

  if (!has_args (cmd, has_final))
    return 0;
  gotmpl_node_string (cmd->kids[0], &name);
  return exec_fail (s, "can't give argument to non-function %s", name.data);
}

static int
eval_variable (struct state *s, const struct gotmpl_node *n, const struct gotmpl_node *cmd,
               bool has_final, json_object **out)
{
  struct var *v;

  s->at = n;
  v = find_var (s, n->idents[0]);
  if (v == NULL)
    return exec_fail (s, "undefined variable: %s", n->idents[0]);
  if (n->nidents == 1)
    {
      if (not_a_function (s, cmd, has_final) < 0)
        return -1;
      *out = json_object_get (v->value);
      return 0;
    }
  return eval_field_chain (s, v->value, n->idents + 1, n->nidents - 1,
                           has_args (cmd, has_final), out);
}

static int eval_arg (struct state *s, json_object *dot, const struct gotmpl_node *n,
                     json_object **out);

static int
eval_chain (struct state *s, json_object *dot, const struct gotmpl_node *n,
            const struct gotmpl_node *cmd, bool has_final, json_object **out)
{
  cleanup_json json_object *base = NULL;
  cleanup_buf struct buf str = BUF_INIT;

  s->at = n;
  if (n->pipe->type == NODE_NIL)
    {
      gotmpl_node_string (n, &str);
      return exec_fail (s, "indirection through explicit nil in %s", str.data);
    }
  if (eval_arg (s, dot, n->pipe, &base) < 0)
    return -1;
  s->at = n;
  return eval_field_chain (s, base, n->idents, n->nidents, has_args (cmd, has_final), out);
}

/* An operand used as an argument. */
static int
eval_arg (struct state *s, json_object *dot, const struct gotmpl_node *n, json_object **out)
{
  s->at = n;
  switch (n->type)
    {
    case NODE_DOT:
      *out = json_object_get (dot);
      return 0;
    case NODE_NIL:
      *out = NULL;
      return 0;
    case NODE_FIELD:
      return eval_field_chain (s, dot, n->idents, n->nidents, false, out);
    case NODE_VARIABLE:
      return eval_variable (s, n, NULL, false, out);
    case NODE_PIPE:
      return eval_pipeline (s, dot, n, out);
    case NODE_IDENT:
      return eval_function (s, dot, n, NULL, false, NULL, out);
    case NODE_CHAIN:
      return eval_chain (s, dot, n, NULL, false, out);
    case NODE_LITERAL:
      *out = json_object_get (n->value);
      return 0;
    default:
      return exec_fail (s, "can't handle node as an argument");
    }
}

/* and/or: evaluate left to right, stop at the first false (and) or true
 * (or) value and return it, else the last. */
static int
eval_and_or (struct state *s, json_object *dot, const struct gotmpl_node *ident,
             const struct gotmpl_node *cmd, bool has_final, json_object *final,
             json_object **out)
{
  bool is_or = strcmp (ident->func->name, "or") == 0;
  size_t n = cmd ? cmd->nkids : 1;
  json_object *v = NULL;

  for (size_t i = 1; i < n; i++)
    {
      json_object_put (v);
      v = NULL;
      if (eval_arg (s, dot, cmd->kids[i], &v) < 0)
        return -1;
      if (gotmpl_truth (v) == is_or)
        {
          *out = v;
          return 0;
        }
    }
  if (has_final)
    {
      json_object_put (v);
      v = json_object_get (final);
    }
  *out = v;
  return 0;
}

static void
put_args (json_object **args, size_t n)
{
  for (size_t i = 0; i < n; i++)
    json_object_put (args[i]);
  free (args);
}

static int
check_arg_count (struct state *s, const struct gotmpl_func *f, size_t n)
{
  if (n >= f->min_args && n <= f->max_args)
    return 0;
  if (f->max_args == SIZE_MAX)
    return exec_fail (s, "wrong number of args for %s: want at least %zu got %zu", f->name,
                      f->min_args, n);
  return exec_fail (s, "wrong number of args for %s: want %zu got %zu", f->name, f->max_args,
                    n);
}

/* Evaluated arguments of CMD (after its function name), then FINAL. */
static json_object **
eval_args (struct state *s, json_object *dot, const struct gotmpl_node *cmd, bool has_final,
           json_object *final, size_t *n)
{
  size_t nodes = cmd ? cmd->nkids - 1 : 0;
  json_object **args = xcalloc (nodes + 2, sizeof *args);

  for (*n = 0; *n < nodes; (*n)++)
    if (eval_arg (s, dot, cmd->kids[*n + 1], &args[*n]) < 0)
      {
        put_args (args, *n);
        return NULL;
      }
  if (has_final)
    args[(*n)++] = json_object_get (final);
  return args;
}

static int
call (struct state *s, const struct gotmpl_node *at, const struct gotmpl_func *f,
      json_object **args, size_t n, json_object **out)
{
  struct gotmpl_call c = {
    .max_value = s->max_output,
    .produced = &s->produced,
    .max_produced = (uint64_t) s->max_output * PRODUCED_FACTOR,
  };

  if (s->opts->is_header && f->is_header_identity)
    {
      *out = json_object_get (args[0]);
      return 0;
    }
  if (f->fn (&c, args, n, out) == 0)
    return 0;
  s->at = at;
  exec_fail (s, "error calling %s: %s", f->name, c.msg);
  free (c.msg);
  return -1;
}

static int
eval_function (struct state *s, json_object *dot, const struct gotmpl_node *ident,
               const struct gotmpl_node *cmd, bool has_final, json_object *final,
               json_object **out)
{
  const struct gotmpl_func *f = ident->func;
  size_t n = (cmd ? cmd->nkids - 1 : 0) + has_final;
  json_object **args;
  int r;

  s->at = ident;
  if (check_arg_count (s, f, n) < 0)
    return -1;
  if (f->fn == NULL)
    return eval_and_or (s, dot, ident, cmd, has_final, final, out);
  args = eval_args (s, dot, cmd, has_final, final, &n);
  if (args == NULL)
    return -1;
  r = call (s, cmd ? cmd : ident, f, args, n, out);
  put_args (args, n);
  return r;
}

static int
eval_command (struct state *s, json_object *dot, const struct gotmpl_node *cmd, bool has_final,
              json_object *final, json_object **out)
{
  const struct gotmpl_node *first = cmd->kids[0];

  if (tick (s) < 0)
    return -1;
  s->at = first;
  switch (first->type)
    {
    case NODE_FIELD:
      return eval_field_chain (s, dot, first->idents, first->nidents, has_args (cmd, has_final),
                               out);
    case NODE_CHAIN:
      return eval_chain (s, dot, first, cmd, has_final, out);
    case NODE_IDENT:
      return eval_function (s, dot, first, cmd, has_final, final, out);
    case NODE_VARIABLE:
      return eval_variable (s, first, cmd, has_final, out);
    case NODE_NIL:
      return exec_fail (s, "nil is not a command");
    default:
      break;
    }
  if (not_a_function (s, cmd, has_final) < 0)
    return -1;
  if (first->type == NODE_PIPE)
    return eval_pipeline (s, dot, first, out);
  return eval_arg (s, dot, first, out);
}

/* The commands in order, then the declarations: ":=" pushes, "="
 * assigns. */
static int
eval_pipeline (struct state *s, json_object *dot, const struct gotmpl_node *pipe,
               json_object **out)
{
  json_object *value = NULL;

  s->at = pipe;
  for (size_t i = 0; i < pipe->nkids; i++)
    {
      json_object *next = NULL;
      int r = eval_command (s, dot, pipe->kids[i], i > 0, value, &next);
      json_object_put (value);
      if (r < 0)
        return -1;
      value = next;
    }
  for (size_t i = 0; i < pipe->ndecls; i++)
    {
      if (!pipe->is_assign)
        push_var (s, pipe->decls[i], value);
      else if (set_var (s, pipe->decls[i], value) < 0)
        {
          json_object_put (value);
          return -1;
        }
    }
  *out = value;
  return 0;
}

/* ---- walking ---------------------------------------------------------- */

static int walk (struct state *s, json_object *dot, const struct gotmpl_node *n);

/* What an action prints: Go's fmt.Print of the value, "<no value>" for
 * none. */
static int
print_value (struct state *s, json_object *v)
{
  cleanup_buf struct buf b = BUF_INIT;

  if (v == NULL)
    return emit (s, "<no value>", 10);
  if (json_object_is_type (v, json_type_string))
    return emit (s, json_object_get_string (v), (size_t) json_object_get_string_len (v));
  gotmpl_print_value (v, &b);
  return emit (s, b.data, b.len);
}

static int
walk_action (struct state *s, json_object *dot, const struct gotmpl_node *n)
{
  cleanup_json json_object *v = NULL;

  s->at = n;
  if (eval_pipeline (s, dot, n->pipe, &v) < 0)
    return WALK_ERROR;
  if (n->pipe->ndecls == 0 && print_value (s, v) < 0)
    return WALK_ERROR;
  return WALK_OK;
}

static int
walk_if_or_with (struct state *s, json_object *dot, const struct gotmpl_node *n)
{
  size_t mark = s->nvars;
  cleanup_json json_object *v = NULL;
  int r = WALK_OK;

  if (eval_pipeline (s, dot, n->pipe, &v) < 0)
    r = WALK_ERROR;
  else if (gotmpl_truth (v))
    r = walk (s, n->type == NODE_WITH ? v : dot, n->list);
  else if (n->else_list)
    r = walk (s, dot, n->else_list);
  pop_vars (s, mark);
  return r;
}

/* One pass of a range body with the declared variables set: with one
 * variable it is the element, with two the index (or key) and the
 * element. */
static int
range_once (struct state *s, const struct gotmpl_node *n, json_object *index, json_object *elem)
{
  const struct gotmpl_node *pipe = n->pipe;
  size_t mark;
  int r;

  if (tick (s) < 0)
    return WALK_ERROR;
  if (pipe->ndecls > 0)
    {
      json_object *first = pipe->ndecls > 1 ? index : elem;
      if (pipe->is_assign ? set_var (s, pipe->decls[0], first) < 0
                          : (set_top_var (s, pipe->ndecls, first), false))
        return WALK_ERROR;
    }
  if (pipe->ndecls > 1)
    {
      if (pipe->is_assign ? set_var (s, pipe->decls[1], elem) < 0
                          : (set_top_var (s, 1, elem), false))
        return WALK_ERROR;
    }
  mark = s->nvars;
  r = walk (s, elem, n->list);
  pop_vars (s, mark);
  return r;
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* A map ranges in sorted key order, as Go's does. */
static int
range_object (struct state *s, const struct gotmpl_node *n, json_object *o)
{
  size_t count = (size_t) json_object_object_length (o), i = 0;
  cleanup_free char **keys = xcalloc (count + 1, sizeof *keys);
  int r = WALK_OK;

  json_object_object_foreach (o, key, val)
    {
      (void) val;
      keys[i++] = key;
    }
  qsort (keys, i, sizeof *keys, compare_keys);
  for (size_t k = 0; k < i && (r == WALK_OK || r == WALK_CONTINUE); k++)
    {
      json_object *name = json_object_new_string (keys[k]);
      r = range_once (s, n, name, json_object_object_get (o, keys[k]));
      json_object_put (name);
    }
  return r;
}

static int
range_array (struct state *s, const struct gotmpl_node *n, json_object *a)
{
  int r = WALK_OK;

  for (size_t i = 0; i < json_object_array_length (a) && (r == WALK_OK || r == WALK_CONTINUE);
       i++)
    {
      json_object *index = json_object_new_int64 ((int64_t) i);
      r = range_once (s, n, index, json_object_array_get_idx (a, i));
      json_object_put (index);
    }
  return r;
}

/* range over an integer N: 0 .. N-1, as Go 1.22 does. */
static int
range_int (struct state *s, const struct gotmpl_node *n, int64_t count)
{
  int r = WALK_OK;

  if (n->pipe->ndecls > 1)
    return exec_fail (s, "can't use %lld to iterate over more than one variable",
                      (long long) count);
  for (int64_t i = 0; i < count && (r == WALK_OK || r == WALK_CONTINUE); i++)
    {
      json_object *v = json_object_new_int64 (i);
      r = range_once (s, n, v, v);
      json_object_put (v);
    }
  return r;
}

static bool
is_empty (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_null: return true;
    case json_type_array: return json_object_array_length (v) == 0;
    case json_type_object: return json_object_object_length (v) == 0;
    case json_type_int: return json_object_get_int64 (v) <= 0;
    default: return false;
    }
}

static int
walk_range (struct state *s, json_object *dot, const struct gotmpl_node *n)
{
  size_t mark = s->nvars;
  cleanup_json json_object *v = NULL;
  cleanup_buf struct buf str = BUF_INIT;
  int r = WALK_OK;

  s->at = n;
  if (eval_pipeline (s, dot, n->pipe, &v) < 0)
    r = WALK_ERROR;
  else if (is_empty (v))
    r = n->else_list ? walk (s, dot, n->else_list) : WALK_OK;
  else if (json_object_is_type (v, json_type_array))
    r = range_array (s, n, v);
  else if (json_object_is_type (v, json_type_object))
    r = range_object (s, n, v);
  else if (json_object_is_type (v, json_type_int))
    r = range_int (s, n, json_object_get_int64 (v));
  else
    {
      gotmpl_print_value (v, &str);
      r = exec_fail (s, "range can't iterate over %s", str.data);
    }
  pop_vars (s, mark);
  if (r == WALK_BREAK || r == WALK_CONTINUE)
    r = WALK_OK;
  return r < 0 ? WALK_ERROR : r;
}

static int
walk (struct state *s, json_object *dot, const struct gotmpl_node *n)
{
  int r = WALK_OK;

  if (tick (s) < 0)
    return WALK_ERROR;
  switch (n->type)
    {
    case NODE_LIST:
      for (size_t i = 0; i < n->nkids && r == WALK_OK; i++)
        r = walk (s, dot, n->kids[i]);
      return r;
    case NODE_TEXT:
      s->at = n;
      return emit (s, n->text, n->text_len) < 0 ? WALK_ERROR : WALK_OK;
    case NODE_ACTION:
      return walk_action (s, dot, n);
    case NODE_IF:
    case NODE_WITH:
      return walk_if_or_with (s, dot, n);
    case NODE_RANGE:
      return walk_range (s, dot, n);
    case NODE_BREAK:
      return WALK_BREAK;
    case NODE_CONTINUE:
      return WALK_CONTINUE;
    default:
      s->at = n;
      return exec_fail (s, "unknown node");
    }
}

int
gotmpl_exec (const struct gotmpl *t, json_object *data, const struct gotmpl_opts *opts,
             struct buf *out, struct error **err)
{
  static const struct gotmpl_opts defaults;
  struct state s = {
    .t = t,
    .opts = opts ? opts : &defaults,
    .root = data,
    .out = out,
    .out_start = out->len,
    .err = err,
  };
  int r;

  s.max_output = s.opts->max_output ? s.opts->max_output : GOTMPL_MAX_OUTPUT;
  buf_reserve (out, 0);
  push_var (&s, "$", data);
  r = walk (&s, data, t->root);
  pop_vars (&s, 0);
  free (s.vars);
  return r < 0 ? -1 : 0;
}
