/* Container logs in podman's k8s-file format: one line per record,
 *   2024-01-02T03:04:05.123456789+00:00 stdout F text
 * "F" ends a line, "P" is a partial line continued by the next record.
 * The monitor writes, `logs` reads. */
#ifndef SKIFF_SRC_CTR_LOG_H
#define SKIFF_SRC_CTR_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libutil/error.h"

enum ctr_log_stream
{
  CTR_LOG_STDOUT,
  CTR_LOG_STDERR,
};

struct ctr_log_writer; /* opaque */

/* Open (append, create 0600) PATH; MAX_SIZE > 0 truncates the file when a
 * write would make it larger, as conmon's log-size-max does. */
struct ctr_log_writer *ctr_log_open (const char *path, uint64_t max_size, struct error **err);
/* Record LEN bytes of output: complete lines as "F" records, a trailing
 * part as one "P" record.  One write(2) per call. */
int ctr_log_write (struct ctr_log_writer *w, enum ctr_log_stream stream, const char *data,
                   size_t len, struct error **err);
void ctr_log_close (struct ctr_log_writer *w);

/* One parsed record. */
struct ctr_log_record
{
  int64_t time_ns;        /* since the epoch */
  enum ctr_log_stream stream;
  bool is_partial;
  const char *text;       /* points into the parsed line */
  size_t text_len;
  const char *timestamp;  /* the line's timestamp field */
  size_t timestamp_len;
};

/* Parse one line (without its newline).  Negative for a malformed line. */
int ctr_log_parse_line (const char *line, size_t len, struct ctr_log_record *out);

struct ctr_log_read_opts
{
  int64_t since_ns;       /* 0: from the start */
  int64_t until_ns;       /* 0: no end */
  long tail;              /* < 0: all; otherwise the last TAIL lines */
  bool has_timestamps;    /* prefix each line with its timestamp */
};

/* Print the records of DATA (a whole log file's contents) that OPTS select
 * to OUT and ERROUT (stdout and stderr records respectively).  Malformed
 * lines are skipped.  *CONSUMED gets the offset after the last complete
 * line, for following. */
void ctr_log_print (const char *data, size_t len, const struct ctr_log_read_opts *opts,
                    FILE *out, FILE *errout, size_t *consumed);

/* Parse a --since/--until value: RFC 3339, a Unix time ("1700000000" or
 * with fraction), or a duration before now ("10m", "1h30m").  Result in ns. */
int ctr_log_parse_time (const char *s, int64_t now_ns, int64_t *out, struct error **err);

#endif
