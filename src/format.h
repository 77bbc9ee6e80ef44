/* --format for the commands that print objects: Go templates as docker and
 * podman read them (libutil/gotmpl.h), their "table" prefix with a header
 * row and aligned columns, and the "json" shorthand.  As docker does, a
 * literal "\t" or "\n" (backslash and letter) in the format stands for a
 * tab or newline, so `--format '{{.ID}}\t{{.Names}}'` works from a shell.
 * The template is named "output" in messages, and a field the top-level
 * object lacks is an error ("template: output:1:2: executing \"output\" at
 * <.Foo>: can't evaluate field Foo"), while below it, where objects may be
 * maps such as Labels, a missing key prints "<no value>". */
#ifndef SKIFF_SRC_FORMAT_H
#define SKIFF_SRC_FORMAT_H

#include <stdbool.h>
#include <json-c/json.h>

#include "libutil/buf.h"
#include "libutil/error.h"

/* A column title for a field: docker prints "CONTAINER ID" above
 * {{.ID}}.  Fields without one get their name split at case changes and
 * upper-cased ("CreatedAt" -> "CREATED AT"). */
struct format_header
{
  const char *key;
  const char *title;
};

/* Expand FMT against ROOT, appending to OUT without a final newline.  A
 * "table" prefix is dropped: one object has no columns to align.  Fails
 * with the template's parse or execution error. */
int format_render (json_object *root, const char *fmt, struct buf *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Render every element of the array ROWS with FMT, each followed by a
 * newline.  With the "table" prefix the rendered rows are split into
 * cells at tabs and lines at newlines, aligned as libutil/table.h does,
 * under a header row (unless IS_NOHEADING) made by running the template
 * over the titles: HEADERS (terminated by a { NULL, NULL } entry; may be
 * NULL) and the derived title of every other key of the first row, with
 * docker's header functions (json, join, upper... leave a title as it is).
 * "table" alone means every HEADERS key, tab-separated.  Nothing is
 * appended to OUT when a row fails. */
int format_render_rows (json_object *rows, const char *fmt, const struct format_header *headers,
                        bool is_noheading, struct buf *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* True when FORMAT asks for JSON output: "json" or "{{json .}}" (spaces
 * allowed, the dot optional), as podman's report.IsJSON. */
bool format_is_json (const char *format);

/* True when FORMAT is "table" or starts with "table" and a space. */
bool format_is_table (const char *format);

#endif
