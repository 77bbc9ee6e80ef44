/* The numbers behind `skiff stats`, read from /proc because a rootless
 * container has no cgroup of its own to read them from: parsers for the
 * /proc files involved, and the arithmetic that turns two samples into
 * docker's CPU %.  Parsers take the file's text and fail (negative) on
 * anything malformed rather than guess. */
#ifndef SKIFF_SRC_STATS_H
#define SKIFF_SRC_STATS_H

#include <stddef.h>
#include <stdint.h>

/* utime + stime (clock ticks) from the text of /proc/PID/stat.  The
 * command name may hold spaces and parentheses, so fields are counted from
 * its last ')'. */
int stats_parse_proc_stat (const char *text, uint64_t *ticks);

/* The resident set in pages: the second field of /proc/PID/statm. */
int stats_parse_statm (const char *text, uint64_t *pages);

/* Received and transmitted bytes summed over every interface of
 * /proc/PID/net/dev except "lo". */
int stats_parse_net_dev (const char *text, uint64_t *rx, uint64_t *tx);

/* read_bytes and write_bytes of /proc/PID/io. */
int stats_parse_io (const char *text, uint64_t *read_bytes, uint64_t *write_bytes);

/* MemTotal of /proc/meminfo, in bytes. */
int stats_parse_meminfo_total (const char *text, uint64_t *bytes);

/* CPU time TICKS_DELTA (at TICKS_PER_SEC) as a percentage of one CPU over
 * WALL_NS nanoseconds, as docker computes it (above 100 on several
 * CPUs); 0 when no time passed. */
double stats_cpu_percent (uint64_t ticks_delta, long ticks_per_sec, int64_t wall_ns);

/* "0B", "512KiB", "1.367MiB", "7.775GiB": binary units with four
 * significant digits, docker's MEM USAGE / LIMIT (go-units BytesSize). */
void stats_binary_size (uint64_t bytes, char *out, size_t len);

#endif
