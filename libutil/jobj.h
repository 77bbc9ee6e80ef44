/* JSON helpers over json-c: parsing files and buffers with size limits and
 * errors that name the input, typed lookups, and atomic writes.  (The json_
 * prefix belongs to json-c, so ours is jobj_.) */
#ifndef SKIFF_LIBUTIL_JOBJ_H
#define SKIFF_LIBUTIL_JOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "error.h"

void jobj_putp (json_object **o);
#define cleanup_json __attribute__ ((cleanup (jobj_putp)))

/* Parse LEN bytes of DATA as strict JSON (valid UTF-8, no trailing
 * commas); WHAT names the input in errors ("manifest"), which say what went
 * wrong and at which byte offset.  Trailing garbage, empty input, nesting
 * deeper than json-c's 32 levels and a document that is just null are
 * errors.  Returns a new reference. */
json_object *jobj_parse (const char *data, size_t len, const char *what,
                         struct error **err);
/* Parse a file of at most MAX bytes (0 = 64 MiB). */
json_object *jobj_parse_file (const char *path, size_t max, struct error **err);

/* Typed lookups: NULL/def when KEY is missing or of another type. */
const char *jobj_get_string (json_object *o, const char *key);
/* A deep copy of O (a new reference); NULL gives an empty object.  Aborts
 * when memory runs out, as xmalloc does. */
json_object *jobj_copy (json_object *o);

json_object *jobj_get_object (json_object *o, const char *key);
json_object *jobj_get_array (json_object *o, const char *key);
int64_t jobj_get_int (json_object *o, const char *key, int64_t def);
bool jobj_get_bool (json_object *o, const char *key, bool def);
/* Required lookups: fill *err naming KEY and WHAT when missing/mistyped. */
const char *jobj_require_string (json_object *o, const char *key, const char *what,
                                 struct error **err);

/* Serialise (compact when PRETTY is false) and write atomically
 * (fs_write_atomic(), mode 0600: metadata may hold credentials).  The file
 * holds exactly jobj_to_string()'s text, without a final newline. */
int jobj_write_file (const char *path, json_object *o, bool pretty, struct error **err);
/* Serialise to a malloc'd string: compact, or indented by two spaces with
 * a space after ':' when PRETTY.  Slashes are not escaped. */
char *jobj_to_string (json_object *o, bool pretty);

#endif
