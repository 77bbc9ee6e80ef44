/* Go text/template over json-c values: what `--format` means to docker
 * and podman users.  A template is parsed once (gotmpl_parse) and run
 * against any JSON value (gotmpl_exec).  The data model: an object is a
 * struct or map (".Field" finds the key exactly, then case-insensitively,
 * as our keys are podman's and users type docker's spelling), an array a
 * slice, and numbers, strings, booleans and null what Go's fmt makes of
 * them.  The functions are Go's builtins (and, or, not, eq, ne, lt, le,
 * gt, ge, len, index, slice, print, printf, println, html, js, urlquery)
 * plus docker's and podman's (json, join, split, lower, upper, title,
 * truncate, pad).
 *
 * Templates come from the command line, so both steps treat them as
 * hostile: the text size, nesting depth, output size, the bytes functions
 * produce and the number of evaluation steps are bounded, and every
 * failure is an error in Go's words with the position
 * ("template: output:1:2: executing \"output\" at <.Foo>: can't evaluate
 * field Foo"). */
#ifndef SKIFF_LIBUTIL_GOTMPL_H
#define SKIFF_LIBUTIL_GOTMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "buf.h"
#include "error.h"

/* Longest template text gotmpl_parse() accepts. */
#define GOTMPL_MAX_TEXT ((size_t) 1 << 20)
/* Deepest nesting of control structures and parentheses. */
#define GOTMPL_MAX_DEPTH 100
/* Default bound on what one gotmpl_exec() writes. */
#define GOTMPL_MAX_OUTPUT ((size_t) 16 << 20)

struct gotmpl; /* opaque: a parsed template */

/* What a field names that the object does not have. */
enum gotmpl_missing
{
  /* Go's default for maps: no value, printed "<no value>". */
  GOTMPL_MISSING_NO_VALUE = 0,
  /* Go's missingkey=error: every missing key is an error. */
  GOTMPL_MISSING_ERROR,
  /* An error for a field of the data itself ($), no value below it: the
   * top-level object stands for docker's report struct (a typo is an
   * error there), nested objects may be maps such as Labels. */
  GOTMPL_MISSING_ERROR_TOP,
};

struct gotmpl_opts
{
  enum gotmpl_missing missing;
  /* Docker's header functions: json, split, join, title, lower, upper and
   * truncate return their first argument unchanged, so that a "table"
   * header rendered from the column titles stays intact. */
  bool is_header;
  /* Bound on the bytes one run appends to OUT; 0 means
   * GOTMPL_MAX_OUTPUT.  Values functions build are bounded by it too. */
  size_t max_output;
};

/* Parse TEXT; NAME is the template's name in messages ("output").  Fails
 * with Go's parse error ("template: output:1: unexpected \"}\" in
 * operand"), also for unknown functions and undefined variables, and for
 * TEXT longer than GOTMPL_MAX_TEXT or nested deeper than
 * GOTMPL_MAX_DEPTH. */
struct gotmpl *gotmpl_parse (const char *name, const char *text, struct error **err)
    __attribute__ ((warn_unused_result));

/* Run T with DATA as dot and $ (DATA may be NULL, Go's nil), appending to
 * OUT.  OPTS may be NULL for the defaults.  On failure OUT keeps what was
 * written before the failing action and *err names the position, the
 * action and the problem.  Does not modify DATA; T can be run any number
 * of times. */
int gotmpl_exec (const struct gotmpl *t, json_object *data, const struct gotmpl_opts *opts,
                 struct buf *out, struct error **err) __attribute__ ((warn_unused_result));

void gotmpl_free (struct gotmpl *t);
void gotmpl_freep (struct gotmpl **t);
#define cleanup_gotmpl __attribute__ ((cleanup (gotmpl_freep)))

/* Append V as Go's fmt.Print prints it: strings raw, numbers in decimal
 * (a double that holds an integer without exponent), arrays "[a b]",
 * objects "map[k:v]" with sorted keys, null "<nil>". */
void gotmpl_print_value (json_object *v, struct buf *out);

#endif
