/* Parsers for the small value syntaxes of the command line. */
#ifndef SKIFF_LIBUTIL_PARSE_H
#define SKIFF_LIBUTIL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Sizes as docker writes them: "512", "512b", "10k", "512m", "2g", "1t",
 * "1p" (also "kb", "MiB"..., any case; binary multiples), a fraction
 * ("1.5g", truncated to whole bytes) and one space before the unit as
 * docker allows.  Rejects negatives, junk and anything above INT64_MAX
 * (sizes end up in off_t). */
int parse_size (const char *s, uint64_t *out, struct error **err);

/* Durations as Go's time.ParseDuration reads them: "10s", "1m30s", "500ms",
 * "2h", "1.5s", "-1h", units ns, us (µs), ms, s, m, h; a bare number means
 * seconds.  Result in nanoseconds; fails beyond the int64 range. */
int parse_duration (const char *s, int64_t *out_ns, struct error **err);

/* One "key=value" item: KEY must be non-empty; a missing '=' gives value
 * NULL when ALLOW_BARE, an error otherwise. */
int parse_kv (const char *s, bool allow_bare, char **key, char **value,
              struct error **err);

/* A comma-separated "k=v,k2=v2" list into parallel NULL-terminated vectors
 * (both empty for ""); every item needs a key and '=', an empty item is an
 * error.  Free both with strv_free(). */
int parse_kv_list (const char *s, char ***keys, char ***values, struct error **err);

/* A decimal unsigned integer in [0, MAX]; WHAT names it in errors. */
/* The value of hexadecimal digit C, or -1 when C is not one. */
int parse_hex_digit (int c);

int parse_uint (const char *s, uint64_t max, const char *what, uint64_t *out,
                struct error **err);

#endif
