/* Human-readable sizes and durations in the shape docker prints them
 * (go-units HumanSize and HumanDuration), and RFC 3339 timestamps. */
#ifndef SKIFF_LIBUTIL_HUMAN_H
#define SKIFF_LIBUTIL_HUMAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "0B", "999B", "1.23kB", "4.26MB", "1.07GB": decimal units, three
 * significant digits.  Writes at most LEN bytes including the NUL. */
void human_size (uint64_t bytes, char *out, size_t len);

/* "Less than a second", "5 seconds", "About a minute", "3 hours",
 * "2 weeks"...: docker's words for a span of SECONDS. */
void human_duration (int64_t seconds, char *out, size_t len);

/* "<duration> ago" for a moment THEN seen at NOW. */
void human_ago (time_t then, time_t now, char *out, size_t len);

/* RFC 3339 in UTC with nanoseconds as Go prints them,
 * "2024-01-02T03:04:05.123456789Z" (fraction dropped when zero). */
void human_rfc3339 (int64_t seconds, long nanos, char *out, size_t len);

/* Parse an RFC 3339 timestamp ("2024-01-02T03:04:05Z", with optional
 * fraction and numeric offset).  Returns negative on malformed input. */
int human_parse_rfc3339 (const char *s, int64_t *seconds, long *nanos);

#endif
