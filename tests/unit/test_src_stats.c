/* Tests for src/stats.c: the /proc parsers and the CPU % arithmetic. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "src/stats.h"

static void
proc_stat_sums_utime_and_stime (void **state)
{
  uint64_t t = 0;
  (void) state;
  assert_int_equal (stats_parse_proc_stat ("42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 "
                                           "7 5 0 0 20 0 1 0 1234 1000 10\n", &t), 0);
  assert_int_equal (t, 12);
}

static void
proc_stat_name_with_spaces_and_parens (void **state)
{
  uint64_t t = 0;
  (void) state;
  assert_int_equal (stats_parse_proc_stat ("7 (a) b ) c) R 1 7 7 0 -1 0 0 0 0 0 "
                                           "30 12 0 0 20 0 1 0 1 1 1\n", &t), 0);
  assert_int_equal (t, 42);
}

static void
proc_stat_truncated_fails (void **state)
{
  uint64_t t = 99;
  (void) state;
  assert_true (stats_parse_proc_stat ("42 (sh) S 1 42 42", &t) < 0);
  assert_true (stats_parse_proc_stat ("42 sh S 1 2 3 4 5 6 7 8 9 10 11 12 13", &t) < 0);
  assert_true (stats_parse_proc_stat ("", &t) < 0);
  assert_int_equal (t, 99);
}

static void
proc_stat_non_numeric_fails (void **state)
{
  uint64_t t = 0;
  (void) state;
  assert_true (stats_parse_proc_stat ("1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 5 0", &t) < 0);
  assert_true (stats_parse_proc_stat ("1 (x) S 1 1 1 0 -1 0 0 0 0 0 "
                                      "99999999999999999999999 5 0", &t) < 0);
}

static void
statm_reads_resident (void **state)
{
  uint64_t p = 0;
  (void) state;
  assert_int_equal (stats_parse_statm ("1000 250 100 10 0 300 0\n", &p), 0);
  assert_int_equal (p, 250);
  assert_true (stats_parse_statm ("1000\n", &p) < 0);
  assert_true (stats_parse_statm ("-1 2", &p) < 0);
}

static const char net_dev[] =
  "Inter-|   Receive                                                |  Transmit\n"
  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
  "    lo:    5000      10    0    0    0     0          0         0     5000      10    0    0    0     0       0          0\n"
  "  tap0:    1500       5    0    0    0     0          0         0      700       3    0    0    0     0       0          0\n"
  "  eth1:      20       1    0    0    0     0          0         0       30       1    0    0    0     0       0          0\n";

static void
net_dev_sums_all_but_lo (void **state)
{
  uint64_t rx = 0, tx = 0;
  (void) state;
  assert_int_equal (stats_parse_net_dev (net_dev, &rx, &tx), 0);
  assert_int_equal (rx, 1520);
  assert_int_equal (tx, 730);
}

static void
net_dev_only_lo_is_zero (void **state)
{
  uint64_t rx = 1, tx = 1;
  (void) state;
  assert_int_equal (stats_parse_net_dev ("h1\nh2\n lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                                         &rx, &tx), 0);
  assert_int_equal (rx, 0);
  assert_int_equal (tx, 0);
}

static void
net_dev_malformed_fails (void **state)
{
  uint64_t rx, tx;
  (void) state;
  assert_true (stats_parse_net_dev ("h1\nh2\n eth0 1 2 3\n", &rx, &tx) < 0);
  assert_true (stats_parse_net_dev ("h1\nh2\n eth0: 1 2 3\n", &rx, &tx) < 0);
  assert_true (stats_parse_net_dev ("only one line", &rx, &tx) < 0);
}

static void
io_reads_bytes (void **state)
{
  uint64_t r = 0, w = 0;
  (void) state;
  assert_int_equal (stats_parse_io ("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\n"
                                    "read_bytes: 4096\nwrite_bytes: 8192\n"
                                    "cancelled_write_bytes: 0\n", &r, &w), 0);
  assert_int_equal (r, 4096);
  assert_int_equal (w, 8192);
}

static void
io_missing_key_fails (void **state)
{
  uint64_t r = 7, w = 7;
  (void) state;
  assert_true (stats_parse_io ("read_bytes: 1\n", &r, &w) < 0);
  assert_true (stats_parse_io ("read_bytes: x\nwrite_bytes: 1\n", &r, &w) < 0);
  assert_int_equal (r, 7);
}

static void
meminfo_total_in_bytes (void **state)
{
  uint64_t b = 0;
  (void) state;
  assert_int_equal (stats_parse_meminfo_total ("MemTotal:       16000 kB\nMemFree: 1 kB\n", &b), 0);
  assert_int_equal (b, 16000 * 1024);
  assert_true (stats_parse_meminfo_total ("MemFree: 1 kB\n", &b) < 0);
  assert_true (stats_parse_meminfo_total ("MemTotal: 99999999999999999999 kB\n", &b) < 0);
}

static void
cpu_percent_of_one_cpu (void **state)
{
  (void) state;
  /* 50 ticks at 100 Hz in one second: half a CPU. */
  assert_float_equal (stats_cpu_percent (50, 100, 1000000000), 50.0, 1e-9);
  /* Two CPUs busy: above 100, as docker shows. */
  assert_float_equal (stats_cpu_percent (200, 100, 1000000000), 200.0, 1e-9);
}

static void
cpu_percent_without_time_is_zero (void **state)
{
  (void) state;
  assert_float_equal (stats_cpu_percent (50, 100, 0), 0.0, 0);
  assert_float_equal (stats_cpu_percent (50, 0, 1000), 0.0, 0);
}

static void
binary_size_as_docker (void **state)
{
  char s[32];
  (void) state;
  stats_binary_size (0, s, sizeof s);
  assert_string_equal (s, "0B");
  stats_binary_size (512 * 1024, s, sizeof s);
  assert_string_equal (s, "512KiB");
  stats_binary_size (1433600, s, sizeof s);
  assert_string_equal (s, "1.367MiB");
  stats_binary_size (UINT64_MAX, s, sizeof s);
  assert_string_equal (s, "16EiB");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (proc_stat_sums_utime_and_stime),
    cmocka_unit_test (proc_stat_name_with_spaces_and_parens),
    cmocka_unit_test (proc_stat_truncated_fails),
    cmocka_unit_test (proc_stat_non_numeric_fails),
    cmocka_unit_test (statm_reads_resident),
    cmocka_unit_test (net_dev_sums_all_but_lo),
    cmocka_unit_test (net_dev_only_lo_is_zero),
    cmocka_unit_test (net_dev_malformed_fails),
    cmocka_unit_test (io_reads_bytes),
    cmocka_unit_test (io_missing_key_fails),
    cmocka_unit_test (meminfo_total_in_bytes),
    cmocka_unit_test (cpu_percent_of_one_cpu),
    cmocka_unit_test (cpu_percent_without_time_is_zero),
    cmocka_unit_test (binary_size_as_docker),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
