/* Output templates for --format.  This is the subset of Go's text/template
 * that field access needs: "{{.Field.Sub}}" (field names match case-
 * insensitively, as the JSON keys podman prints are the template's fields)
 * and "{{json .Field}}" / "{{json .}}". */
#ifndef SKIFF_SRC_FORMAT_H
#define SKIFF_SRC_FORMAT_H

#include <json-c/json.h>

#include "libutil/buf.h"
#include "libutil/error.h"

/* Expand FMT against ROOT into OUT.  Fails naming the action for an
 * unknown field, an unsupported action or an unclosed "{{". */
int format_render (json_object *root, const char *fmt, struct buf *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* True when FORMAT asks for JSON output ("json" or "{{json .}}"). */
bool format_is_json (const char *format);

#endif
