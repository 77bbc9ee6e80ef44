/* Unit tests for libutil/parse.c: sizes, durations, key=value items and
 * bounded integers, with the malformed inputs each must reject. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/mem.h"
#include "libutil/parse.h"

#define N_ELEMS(a) (sizeof (a) / sizeof ((a)[0]))

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
#define TIB (1024ULL * GIB)
#define PIB (1024ULL * TIB)

#define US 1000LL
#define MS (1000LL * US)
#define SEC (1000LL * MS)
#define MIN (60LL * SEC)
#define HOUR (60LL * MIN)

/* ---- parse_size --------------------------------------------------------- */

static void
test_size_units (void **state)
{
  static const struct
  {
    const char *s;
    uint64_t want;
  } cases[] = {
    { "0", 0 },          { "512", 512 },        { "512b", 512 },       { "512B", 512 },
    { "10k", 10 * KIB }, { "10K", 10 * KIB },   { "10kb", 10 * KIB },  { "10KiB", 10 * KIB },
    { "512m", 512 * MIB }, { "512MB", 512 * MIB }, { "1mib", MIB },    { "2g", 2 * GIB },
    { "2GB", 2 * GIB },  { "1t", TIB },         { "1TiB", TIB },       { "3p", 3 * PIB },
    { "007k", 7 * KIB }, { "10 MB", 10 * MIB },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_error struct error *err = NULL;
      uint64_t v = 1;

      if (parse_size (cases[i].s, &v, &err) < 0)
        fail_msg ("\"%s\": %s", cases[i].s, err->msg);
      assert_int_equal (v, cases[i].want);
    }
}

static void
test_size_fractions (void **state)
{
  static const struct
  {
    const char *s;
    uint64_t want;
  } cases[] = {
    { "1.5k", 1536 },           { "0.5m", MIB / 2 },  { "1.5g", GIB + GIB / 2 },
    { "2.25GiB", 2 * GIB + GIB / 4 }, { "0.1k", 102 }, /* truncated, as docker */
    { "1.0000000000000000000000001k", 1024 },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_error struct error *err = NULL;
      uint64_t v = 1;

      if (parse_size (cases[i].s, &v, &err) < 0)
        fail_msg ("\"%s\": %s", cases[i].s, err->msg);
      assert_int_equal (v, cases[i].want);
    }
}

static void
test_size_rejects_malformed (void **state)
{
  static const char *const bad[] = {
    "",    "-1",   "-1m",  "+1",   "m",    "k10",  "10x",  "10mm", "10ki", "10bb", "10ib",
    " 10", "10 ",  "10  m", "1.",  ".5m",  "1..5", "1.5.5", "0x10", "1e3", "10m ", "10\tm",
    "1,5m", "10 m b", "10mb!", "nan", "inf",
  };

  for (size_t i = 0; i < N_ELEMS (bad); i++)
    {
      cleanup_error struct error *err = NULL;
      uint64_t v = 77;

      if (parse_size (bad[i], &v, &err) == 0)
        fail_msg ("\"%s\" was accepted as %llu", bad[i], (unsigned long long) v);
      assert_non_null (err);
      assert_int_equal (v, 77); /* untouched on failure */
    }
}

static void
test_size_rejects_null (void **state)
{
  cleanup_error struct error *err = NULL;
  uint64_t v;

  assert_true (parse_size (NULL, &v, &err) < 0);
}

static void
test_size_error_names_input (void **state)
{
  cleanup_error struct error *err = NULL;
  uint64_t v;

  assert_true (parse_size ("12q", &v, &err) < 0);
  assert_true (strncmp (err->msg, "invalid size \"12q\"", 18) == 0);
}

static void
test_size_rejects_overflow (void **state)
{
  static const char *const big[] = {
    "9223372036854775808",          /* INT64_MAX + 1 */
    "18446744073709551616",         /* UINT64_MAX + 1 */
    "99999999999999999999999999999", "8192p", "16777216t", "9007199254740992k",
  };

  for (size_t i = 0; i < N_ELEMS (big); i++)
    {
      cleanup_error struct error *err = NULL;
      uint64_t v;

      if (parse_size (big[i], &v, &err) == 0)
        fail_msg ("\"%s\" was accepted", big[i]);
      assert_non_null (strstr (err->msg, "too large"));
    }
}

static void
test_size_largest_accepted (void **state)
{
  cleanup_error struct error *err = NULL;
  uint64_t v;

  assert_int_equal (parse_size ("9223372036854775807", &v, &err), 0);
  assert_int_equal (v, INT64_MAX);
  assert_int_equal (parse_size ("8191p", &v, &err), 0);
  assert_int_equal (v, 8191 * PIB);
}

/* ---- parse_duration ----------------------------------------------------- */

static void
test_duration_go_syntax (void **state)
{
  static const struct
  {
    const char *s;
    int64_t want;
  } cases[] = {
    { "0", 0 },
    { "0s", 0 },
    { "10s", 10 * SEC },
    { "1m30s", 90 * SEC },
    { "500ms", 500 * MS },
    { "2h", 2 * HOUR },
    { "1.5s", 1500 * MS },
    { "1h2m3.5s", HOUR + 2 * MIN + 3500 * MS },
    { "100us", 100 * US },
    { "100\xc2\xb5s", 100 * US },
    { "100\xce\xbcs", 100 * US },
    { "42ns", 42 },
    { ".5s", 500 * MS },
    { "1.s", SEC },
    { "-1.5h", -(HOUR + 30 * MIN) },
    { "+5m", 5 * MIN },
    { "1s1s", 2 * SEC },
    { "0.000000001s", 1 },
    { "2562047h47m16.854775807s", INT64_MAX },
    { "-2562047h47m16.854775808s", INT64_MIN },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_error struct error *err = NULL;
      int64_t v = 1;

      if (parse_duration (cases[i].s, &v, &err) < 0)
        fail_msg ("\"%s\": %s", cases[i].s, err->msg);
      if (v != cases[i].want)
        fail_msg ("\"%s\": got %lld, want %lld", cases[i].s, (long long) v,
                  (long long) cases[i].want);
    }
}

static void
test_duration_bare_number_is_seconds (void **state)
{
  static const struct
  {
    const char *s;
    int64_t want;
  } cases[] = {
    { "10", 10 * SEC }, { "1.5", 1500 * MS }, { "-3", -3 * SEC }, { ".25", 250 * MS },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_error struct error *err = NULL;
      int64_t v = 1;

      if (parse_duration (cases[i].s, &v, &err) < 0)
        fail_msg ("\"%s\": %s", cases[i].s, err->msg);
      assert_int_equal (v, cases[i].want);
    }
}

static void
test_duration_rejects_malformed (void **state)
{
  static const char *const bad[] = {
    "",    "-",     "+",    "s",     "ms",    ".",    ".s",  "1x",   "1S",   "1 s",
    " 1s", "1s ",   "1h30", "1..5s", "1.5.5s", "1sec", "1d",  "--1s", "1s-1s", "0x1s",
    "1e3s", "1m-",  "h1",   "1µ",    "1hs",
  };

  for (size_t i = 0; i < N_ELEMS (bad); i++)
    {
      cleanup_error struct error *err = NULL;
      int64_t v = 77;

      if (parse_duration (bad[i], &v, &err) == 0)
        fail_msg ("\"%s\" was accepted as %lld", bad[i], (long long) v);
      assert_non_null (err);
      assert_int_equal (v, 77);
    }
}

static void
test_duration_rejects_overflow (void **state)
{
  static const char *const big[] = {
    "2562048h",
    "2562047h47m16.854775808s", /* INT64_MAX + 1 ns */
    "-2562047h47m16.854775809s",
    "9223372036854775808ns",
    "99999999999999999999s",
    "5000000h5000000h",
  };

  for (size_t i = 0; i < N_ELEMS (big); i++)
    {
      cleanup_error struct error *err = NULL;
      int64_t v;

      if (parse_duration (big[i], &v, &err) == 0)
        fail_msg ("\"%s\" was accepted as %lld", big[i], (long long) v);
      assert_non_null (strstr (err->msg, "too large"));
    }
}

static void
test_duration_error_says_why (void **state)
{
  cleanup_error struct error *err = NULL;
  int64_t v;

  assert_true (parse_duration ("5d", &v, &err) < 0);
  assert_true (strncmp (err->msg, "invalid duration \"5d\": unknown unit", 35) == 0);
  err_release (&err);
  assert_true (parse_duration ("1h30", &v, &err) < 0);
  assert_non_null (strstr (err->msg, "missing unit"));
}

/* ---- parse_kv ----------------------------------------------------------- */

static void
test_kv_splits_at_first_equals (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *k = NULL;
  cleanup_free char *v = NULL;

  assert_int_equal (parse_kv ("PATH=/bin:/usr/bin=x", false, &k, &v, &err), 0);
  assert_string_equal (k, "PATH");
  assert_string_equal (v, "/bin:/usr/bin=x");
}

static void
test_kv_empty_value (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *k = NULL;
  cleanup_free char *v = NULL;

  assert_int_equal (parse_kv ("EMPTY=", false, &k, &v, &err), 0);
  assert_string_equal (k, "EMPTY");
  assert_string_equal (v, "");
}

static void
test_kv_bare_key_when_allowed (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *k = NULL;
  char *v = (char *) "unchanged";

  assert_int_equal (parse_kv ("HOME", true, &k, &v, &err), 0);
  assert_string_equal (k, "HOME");
  assert_null (v);
}

static void
test_kv_bare_key_rejected_when_not_allowed (void **state)
{
  cleanup_error struct error *err = NULL;
  char *k = NULL, *v = NULL;

  assert_true (parse_kv ("HOME", false, &k, &v, &err) < 0);
  assert_null (k);
  assert_null (v);
  assert_string_equal (err->msg, "invalid \"HOME\": expected KEY=VALUE");
}

static void
test_kv_rejects_empty_key_and_input (void **state)
{
  static const char *const bad[] = { "=value", "=", "" };

  for (size_t i = 0; i < N_ELEMS (bad); i++)
    {
      cleanup_error struct error *err = NULL;
      char *k = NULL, *v = NULL;

      assert_true (parse_kv (bad[i], true, &k, &v, &err) < 0);
      assert_null (k);
      assert_null (v);
    }
}

/* ---- parse_kv_list ------------------------------------------------------ */

static void
test_kv_list_parallel_vectors (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_strv char **k = NULL;
  cleanup_strv char **v = NULL;

  assert_int_equal (parse_kv_list ("size=10G,mountopt=nodev=1,empty=", &k, &v, &err), 0);
  assert_int_equal (strv_len (k), 3);
  assert_int_equal (strv_len (v), 3);
  assert_string_equal (k[0], "size");
  assert_string_equal (v[0], "10G");
  assert_string_equal (k[1], "mountopt");
  assert_string_equal (v[1], "nodev=1");
  assert_string_equal (k[2], "empty");
  assert_string_equal (v[2], "");
}

static void
test_kv_list_empty_string_is_empty_list (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_strv char **k = NULL;
  cleanup_strv char **v = NULL;

  assert_int_equal (parse_kv_list ("", &k, &v, &err), 0);
  assert_int_equal (strv_len (k), 0);
  assert_int_equal (strv_len (v), 0);
}

static void
test_kv_list_rejects_bad_items (void **state)
{
  static const char *const bad[] = { "a=1,,b=2", "a=1,", ",a=1", "a=1,b", "=1", "a=1,=2", "," };

  for (size_t i = 0; i < N_ELEMS (bad); i++)
    {
      cleanup_error struct error *err = NULL;
      char **k = NULL, **v = NULL;

      if (parse_kv_list (bad[i], &k, &v, &err) == 0)
        fail_msg ("\"%s\" was accepted", bad[i]);
      assert_null (k);
      assert_null (v);
      assert_non_null (strstr (err->msg, bad[i]));
    }
}

/* ---- parse_uint --------------------------------------------------------- */

static void
test_uint_accepts_range (void **state)
{
  cleanup_error struct error *err = NULL;
  uint64_t v;

  assert_int_equal (parse_uint ("0", 10, "count", &v, &err), 0);
  assert_int_equal (v, 0);
  assert_int_equal (parse_uint ("10", 10, "count", &v, &err), 0);
  assert_int_equal (v, 10);
  assert_int_equal (parse_uint ("0065535", 65535, "port", &v, &err), 0);
  assert_int_equal (v, 65535);
  assert_int_equal (parse_uint ("18446744073709551615", UINT64_MAX, "n", &v, &err), 0);
  assert_true (v == UINT64_MAX);
}

static void
test_uint_rejects_above_max (void **state)
{
  cleanup_error struct error *err = NULL;
  uint64_t v = 5;

  assert_true (parse_uint ("65536", 65535, "port", &v, &err) < 0);
  assert_string_equal (err->msg, "invalid port \"65536\": at most 65535 allowed");
  assert_int_equal (v, 5);
}

static void
test_uint_rejects_overflow (void **state)
{
  cleanup_error struct error *err = NULL;
  uint64_t v = 5;

  assert_true (parse_uint ("18446744073709551616", UINT64_MAX, "n", &v, &err) < 0);
  assert_int_equal (v, 5);
}

static void
test_uint_rejects_malformed (void **state)
{
  static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0", "١" };

  for (size_t i = 0; i < N_ELEMS (bad); i++)
    {
      cleanup_error struct error *err = NULL;
      uint64_t v = 5;

      if (parse_uint (bad[i], 100, "count", &v, &err) == 0)
        fail_msg ("\"%s\" was accepted", bad[i]);
      assert_true (strncmp (err->msg, "invalid count \"", 15) == 0);
      assert_int_equal (v, 5);
    }
}

static void
test_uint_default_name (void **state)
{
  cleanup_error struct error *err = NULL;
  uint64_t v;

  assert_true (parse_uint ("x", 100, NULL, &v, &err) < 0);
  assert_true (strncmp (err->msg, "invalid number \"x\"", 18) == 0);
}

static void
test_hex_digit (void **state)
{
  (void) state;
  assert_int_equal (parse_hex_digit ('0'), 0);
  assert_int_equal (parse_hex_digit ('9'), 9);
  assert_int_equal (parse_hex_digit ('a'), 10);
  assert_int_equal (parse_hex_digit ('F'), 15);
  assert_int_equal (parse_hex_digit ('g'), -1);
  assert_int_equal (parse_hex_digit ('/'), -1);
  assert_int_equal (parse_hex_digit (0), -1);
  assert_int_equal (parse_hex_digit (0xe9), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_size_units),
    cmocka_unit_test (test_size_fractions),
    cmocka_unit_test (test_size_rejects_malformed),
    cmocka_unit_test (test_size_rejects_null),
    cmocka_unit_test (test_size_error_names_input),
    cmocka_unit_test (test_size_rejects_overflow),
    cmocka_unit_test (test_size_largest_accepted),
    cmocka_unit_test (test_duration_go_syntax),
    cmocka_unit_test (test_duration_bare_number_is_seconds),
    cmocka_unit_test (test_duration_rejects_malformed),
    cmocka_unit_test (test_duration_rejects_overflow),
    cmocka_unit_test (test_duration_error_says_why),
    cmocka_unit_test (test_kv_splits_at_first_equals),
    cmocka_unit_test (test_kv_empty_value),
    cmocka_unit_test (test_kv_bare_key_when_allowed),
    cmocka_unit_test (test_kv_bare_key_rejected_when_not_allowed),
    cmocka_unit_test (test_kv_rejects_empty_key_and_input),
    cmocka_unit_test (test_kv_list_parallel_vectors),
    cmocka_unit_test (test_kv_list_empty_string_is_empty_list),
    cmocka_unit_test (test_kv_list_rejects_bad_items),
    cmocka_unit_test (test_uint_accepts_range),
    cmocka_unit_test (test_uint_rejects_above_max),
    cmocka_unit_test (test_uint_rejects_overflow),
    cmocka_unit_test (test_uint_rejects_malformed),
    cmocka_unit_test (test_uint_default_name),
    cmocka_unit_test (test_hex_digit),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
