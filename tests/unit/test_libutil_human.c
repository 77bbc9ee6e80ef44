/* Tests for libutil/human.c: docker-shaped sizes, durations, timestamps. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "libutil/human.h"

static void
check_size (uint64_t n, const char *want)
{
  char buf[32];
  human_size (n, buf, sizeof buf);
  assert_string_equal (buf, want);
}

static void
test_size (void **state)
{
  (void) state;
  check_size (0, "0B");
  check_size (999, "999B");
  check_size (1000, "1kB");
  check_size (4264960, "4.26MB");
  check_size (1073741824, "1.07GB");
}

static void
check_duration (int64_t s, const char *want)
{
  char buf[64];
  human_duration (s, buf, sizeof buf);
  assert_string_equal (buf, want);
}

static void
test_duration (void **state)
{
  (void) state;
  check_duration (0, "Less than a second");
  check_duration (1, "1 second");
  check_duration (5, "5 seconds");
  check_duration (61, "About a minute");
  check_duration (300, "5 minutes");
  check_duration (3600, "About an hour");
  check_duration (3 * 3600, "3 hours");
  check_duration (3 * 86400, "3 days");
  check_duration (20 * 86400, "2 weeks");
  check_duration (90 * 86400, "3 months");
  check_duration (800 * 86400, "2 years");
}

static void
test_ago_future_is_zero (void **state)
{
  char buf[64];
  (void) state;
  human_ago (200, 100, buf, sizeof buf);
  assert_string_equal (buf, "Less than a second ago");
}

static void
test_rfc3339_roundtrip (void **state)
{
  char buf[64];
  int64_t s;
  long ns;
  (void) state;
  human_rfc3339 (1700000000, 0, buf, sizeof buf);
  assert_string_equal (buf, "2023-11-14T22:13:20Z");
  assert_int_equal (human_parse_rfc3339 (buf, &s, &ns), 0);
  assert_int_equal (s, 1700000000);
  human_rfc3339 (1700000000, 500000000, buf, sizeof buf);
  assert_string_equal (buf, "2023-11-14T22:13:20.5Z");
  assert_int_equal (human_parse_rfc3339 ("2023-11-14T23:13:20.123+01:00", &s, &ns), 0);
  assert_int_equal (s, 1700000000);
  assert_int_equal (ns, 123000000);
}

static void
test_rfc3339_malformed (void **state)
{
  int64_t s;
  long ns;
  (void) state;
  assert_true (human_parse_rfc3339 ("", &s, &ns) < 0);
  assert_true (human_parse_rfc3339 ("2023-13-01T00:00:00Z", &s, &ns) < 0);
  assert_true (human_parse_rfc3339 ("2023-11-14T22:13:20", &s, &ns) < 0);
  assert_true (human_parse_rfc3339 ("2023-11-14T22:13:20Zjunk", &s, &ns) < 0);
  assert_true (human_parse_rfc3339 ("2023-11-14T22:13:20.Z", &s, &ns) < 0);
  assert_true (human_parse_rfc3339 ("20x3-11-14T22:13:20Z", &s, &ns) < 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_size),
    cmocka_unit_test (test_duration),
    cmocka_unit_test (test_ago_future_is_zero),
    cmocka_unit_test (test_rfc3339_roundtrip),
    cmocka_unit_test (test_rfc3339_malformed),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
