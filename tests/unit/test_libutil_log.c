/* Unit tests for libutil/log.c: level names, filtering and the line shape.
 * Log lines are captured through log_set_fd() on a pipe. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/log.h"
#include "libutil/mem.h"

static int capture[2] = { -1, -1 };

static int
setup (void **state)
{
  if (pipe2 (capture, O_CLOEXEC | O_NONBLOCK) < 0)
    return -1;
  log_set_fd (capture[1]);
  log_set_level (LOG_LEVEL_WARN);
  return 0;
}

static int
teardown (void **state)
{
  log_set_fd (-1);
  log_set_level (LOG_LEVEL_WARN);
  close (capture[0]);
  close (capture[1]);
  return 0;
}

/* Everything logged since the last call ("" when nothing). */
static char *
captured (void)
{
  static char text[8192];
  ssize_t n = read (capture[0], text, sizeof text - 1);

  text[n > 0 ? n : 0] = '\0';
  return text;
}

static void
test_parse_level_names (void **state)
{
  static const struct
  {
    const char *name;
    enum log_level level;
  } cases[] = {
    { "error", LOG_LEVEL_ERROR }, { "warn", LOG_LEVEL_WARN },   { "warning", LOG_LEVEL_WARN },
    { "info", LOG_LEVEL_INFO },   { "debug", LOG_LEVEL_DEBUG }, { "trace", LOG_LEVEL_DEBUG },
    { "fatal", LOG_LEVEL_ERROR }, { "panic", LOG_LEVEL_ERROR }, { "DEBUG", LOG_LEVEL_DEBUG },
    { "Warn", LOG_LEVEL_WARN },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      enum log_level l = LOG_LEVEL_ERROR;
      assert_int_equal (log_parse_level (cases[i].name, &l), 0);
      assert_int_equal (l, cases[i].level);
    }
}

static void
test_parse_level_rejects_unknown_names (void **state)
{
  static const char *const bad[] = { "", "verbose", "warn ", " info", "debu", "debugx", "3" };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      enum log_level l = LOG_LEVEL_INFO;
      assert_true (log_parse_level (bad[i], &l) < 0);
      assert_int_equal (l, LOG_LEVEL_INFO); /* untouched */
    }
}

static void
test_line_shape_is_label_colon_message (void **state)
{
  log_warn ("layer \"%s\": %d files", "sha256:ab", 3);
  assert_string_equal (captured (), "warning: layer \"sha256:ab\": 3 files\n");
  log_error ("boom");
  assert_string_equal (captured (), "error: boom\n");
}

static void
test_default_level_hides_info_and_debug (void **state)
{
  log_info ("hidden");
  log_debug ("hidden");
  log_print (LOG_LEVEL_INFO, "hidden");
  assert_string_equal (captured (), "");
}

static void
test_debug_level_shows_everything (void **state)
{
  log_set_level (LOG_LEVEL_DEBUG);
  log_info ("i");
  log_debug ("d");
  assert_string_equal (captured (), "info: i\ndebug: d\n");
}

static void
test_error_level_hides_warnings (void **state)
{
  log_set_level (LOG_LEVEL_ERROR);
  log_warn ("hidden");
  log_error ("shown");
  assert_string_equal (captured (), "error: shown\n");
}

static int evaluated;

static int
count_evaluation (void)
{
  return ++evaluated;
}

static void
test_disabled_debug_does_not_evaluate_arguments (void **state)
{
  evaluated = 0;
  log_debug ("%d", count_evaluation ());
  assert_int_equal (evaluated, 0);
  log_set_level (LOG_LEVEL_DEBUG);
  log_debug ("%d", count_evaluation ());
  assert_int_equal (evaluated, 1);
  assert_string_equal (captured (), "debug: 1\n");
}

static void
test_long_message_is_cut_to_one_line (void **state)
{
  cleanup_free char *big = xmalloc (10000);
  const char *out;

  memset (big, 'x', 9999);
  big[9999] = '\0';
  log_warn ("%s", big);
  out = captured ();
  assert_true (strlen (out) < 4096);
  assert_true (strncmp (out, "warning: xxx", 12) == 0);
  /* One newline, at the end. */
  assert_ptr_equal (strchr (out, '\n'), out + strlen (out) - 1);
}

static void
test_logging_keeps_errno (void **state)
{
  errno = ENOSPC;
  log_warn ("x");
  assert_int_equal (errno, ENOSPC);
  captured ();
}

static void
test_out_of_range_level_prints_as_debug (void **state)
{
  log_set_level ((enum log_level) 7);
  log_print ((enum log_level) 5, "odd");
  assert_string_equal (captured (), "debug: odd\n");
}

static void
test_set_fd_minus_one_restores_stderr (void **state)
{
  int saved = dup (2);

  assert_true (saved >= 0);
  /* Point stderr at the capture pipe, then log to "stderr". */
  assert_int_equal (dup2 (capture[1], 2), 2);
  log_set_fd (-1);
  log_warn ("to stderr");
  dup2 (saved, 2);
  close (saved);
  assert_string_equal (captured (), "warning: to stderr\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_parse_level_names, setup, teardown),
    cmocka_unit_test_setup_teardown (test_parse_level_rejects_unknown_names, setup, teardown),
    cmocka_unit_test_setup_teardown (test_line_shape_is_label_colon_message, setup, teardown),
    cmocka_unit_test_setup_teardown (test_default_level_hides_info_and_debug, setup, teardown),
    cmocka_unit_test_setup_teardown (test_debug_level_shows_everything, setup, teardown),
    cmocka_unit_test_setup_teardown (test_error_level_hides_warnings, setup, teardown),
    cmocka_unit_test_setup_teardown (test_disabled_debug_does_not_evaluate_arguments, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_long_message_is_cut_to_one_line, setup, teardown),
    cmocka_unit_test_setup_teardown (test_logging_keeps_errno, setup, teardown),
    cmocka_unit_test_setup_teardown (test_out_of_range_level_prints_as_debug, setup, teardown),
    cmocka_unit_test_setup_teardown (test_set_fd_minus_one_restores_stderr, setup, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
