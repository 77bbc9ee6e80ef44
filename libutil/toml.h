/* A strict TOML v1.0 reader for the containers configuration files
 * (registries.conf, containers.conf, storage.conf).  The document becomes a
 * json-c tree so callers read it with the jobj_ getters: tables are objects,
 * arrays are arrays, strings, integers (int64), floats (double) and booleans
 * their json-c types.  Dates and times are rejected: none of the files we
 * read uses them.  Input is treated as hostile: it must be valid UTF-8, and
 * nesting and size are bounded. */
#ifndef SKIFF_LIBUTIL_TOML_H
#define SKIFF_LIBUTIL_TOML_H

#include <stddef.h>
#include <json-c/json.h>

#include "error.h"

/* Deepest nesting of tables and arrays a document may have. */
#define TOML_MAX_DEPTH 64
/* Largest document accepted: the files we read are a few KiB, and every
 * value costs a json-c object. */
#define TOML_MAX_FILE_SIZE (1u << 20)

/* Parse LEN bytes of DATA.  Returns the root table (release it with
 * json_object_put) or NULL with *err set to "NAME:LINE: what is wrong",
 * e.g. "registries.conf:12: expected '=' after key". */
json_object *toml_parse (const char *data, size_t len, const char *name,
                         struct error **err) __attribute__ ((warn_unused_result));

/* Read and parse the file at PATH; errors name PATH.  A missing file fails
 * with errno ENOENT so callers can treat it as optional. */
json_object *toml_parse_file (const char *path, struct error **err)
    __attribute__ ((warn_unused_result));

/* The line (1-based) where a value or table of a tree from toml_parse() was
 * defined, so callers can report semantic errors the same way
 * ("NAME:LINE: insecure must be a boolean"); 0 for NULL and for the root.
 * The parser keeps it in the json-c userdata, so this is only meaningful
 * for objects the parser made. */
unsigned toml_line (json_object *o);

#endif
