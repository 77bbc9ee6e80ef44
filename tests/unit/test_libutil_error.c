/* Unit tests for libutil/error.c: making, wrapping, releasing and printing
 * errors. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/mem.h"

static void
test_make_with_errno_returns_minus_errno (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_int_equal (err_make (&err, ENOENT, "open \"%s\"", "/x"), -ENOENT);
  assert_non_null (err);
  assert_int_equal (err->errnum, ENOENT);
  assert_int_equal (err->code, 0);
  assert_string_equal (err->msg, "open \"/x\"");
}

static void
test_make_without_errno_returns_minus_one (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_int_equal (err_make (&err, 0, "bad %d", 7), -1);
  assert_int_equal (err->errnum, 0);
  assert_string_equal (err->msg, "bad 7");
}

static void
test_make_with_null_err_only_returns (void **state)
{
  assert_int_equal (err_make (NULL, EACCES, "ignored"), -EACCES);
  assert_int_equal (err_make (NULL, 0, "ignored"), -1);
}

static void
test_make_replaces_existing_error (void **state)
{
  cleanup_error struct error *err = NULL;

  err_make (&err, EIO, "first");
  err_make (&err, 0, "second");
  /* The first one is released (AddressSanitizer would see the leak). */
  assert_string_equal (err->msg, "second");
  assert_int_equal (err->errnum, 0);
}

static void
test_make_code_records_exit_status (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_int_equal (err_make_code (&err, 127, ENOENT, "exec \"%s\"", "nope"), -ENOENT);
  assert_int_equal (err->code, 127);
  assert_int_equal (err_exit_code (err), 127);
}

static void
test_exit_code_defaults_to_125 (void **state)
{
  cleanup_error struct error *err = NULL;

  err_make (&err, 0, "x");
  assert_int_equal (err_exit_code (err), 125);
}

static void
test_wrap_chain_prefixes_context_and_keeps_errno (void **state)
{
  cleanup_error struct error *err = NULL;

  err_make_code (&err, 126, EACCES, "open \"%s\"", "/etc/shadow");
  assert_int_equal (err_wrap (&err, "read config"), -EACCES);
  assert_int_equal (err_wrap (&err, "pull \"%s\"", "busybox"), -EACCES);
  assert_string_equal (err->msg, "pull \"busybox\": read config: open \"/etc/shadow\"");
  assert_int_equal (err->errnum, EACCES);
  assert_int_equal (err->code, 126);
}

static void
test_wrap_without_errno_returns_minus_one (void **state)
{
  cleanup_error struct error *err = NULL;

  err_make (&err, 0, "cause");
  assert_int_equal (err_wrap (&err, "context"), -1);
  assert_string_equal (err->msg, "context: cause");
}

static void
test_wrap_without_error_is_harmless (void **state)
{
  struct error *err = NULL;

  assert_int_equal (err_wrap (&err, "context"), -1);
  assert_null (err);
  assert_int_equal (err_wrap (NULL, "context"), -1);
}

static void
test_release_clears_and_tolerates_null (void **state)
{
  struct error *err = NULL;

  err_make (&err, 0, "x");
  err_release (&err);
  assert_null (err);
  err_release (&err);
  err_release (NULL);
}

static void
test_text_appends_errno_text (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *want = xasprintf ("inspect: stat \"/a\": %s", strerror (ENOENT));

  err_make (&err, ENOENT, "stat \"/a\"");
  err_wrap (&err, "inspect");
  text = err_text (err);
  assert_string_equal (text, want);
}

static void
test_text_without_errno_is_the_message (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *text = NULL;

  err_make (&err, 0, "no such image \"%s\"", "x");
  text = err_text (err);
  assert_string_equal (text, "no such image \"x\"");
}

static void
test_print_writes_one_error_line (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);

  assert_non_null (f);
  err_make (&err, EPERM, "mount");
  err_print (err, f);
  fclose (f);
  cleanup_free char *want = xasprintf ("Error: mount: %s\n", strerror (EPERM));
  assert_string_equal (out, want);
}

static void
test_message_keeps_percent_from_arguments (void **state)
{
  cleanup_error struct error *err = NULL;

  /* A name holding a conversion must come out literally, also when
   * wrapped. */
  err_make (&err, 0, "open \"%s\"", "%s%n");
  err_wrap (&err, "tag \"%s\"", "%d");
  assert_string_equal (err->msg, "tag \"%d\": open \"%s%n\"");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_make_with_errno_returns_minus_errno),
    cmocka_unit_test (test_make_without_errno_returns_minus_one),
    cmocka_unit_test (test_make_with_null_err_only_returns),
    cmocka_unit_test (test_make_replaces_existing_error),
    cmocka_unit_test (test_make_code_records_exit_status),
    cmocka_unit_test (test_exit_code_defaults_to_125),
    cmocka_unit_test (test_wrap_chain_prefixes_context_and_keeps_errno),
    cmocka_unit_test (test_wrap_without_errno_returns_minus_one),
    cmocka_unit_test (test_wrap_without_error_is_harmless),
    cmocka_unit_test (test_release_clears_and_tolerates_null),
    cmocka_unit_test (test_text_appends_errno_text),
    cmocka_unit_test (test_text_without_errno_is_the_message),
    cmocka_unit_test (test_print_writes_one_error_line),
    cmocka_unit_test (test_message_keeps_percent_from_arguments),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
