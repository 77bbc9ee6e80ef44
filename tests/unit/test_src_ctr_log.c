/* Tests for src/ctr_log.c: the k8s-file format. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/fs.h"
#include "src/ctr_log.h"

static const char sample[] =
  "2024-01-02T03:04:05.000000001+00:00 stdout F one\n"
  "2024-01-02T03:04:06.000000000+00:00 stderr F err\n"
  "2024-01-02T03:04:07.000000000+00:00 stdout P par\n"
  "2024-01-02T03:04:07.500000000+00:00 stdout F tial\n"
  "garbage line\n"
  "2024-01-02T03:04:08.000000000+00:00 stdout F \n"
  "2024-01-02T03:04:09.000000000+00:00 stdout F last\n";

static void
render (const struct ctr_log_read_opts *o, char **out, char **err)
{
  size_t olen, elen;
  FILE *fo = open_memstream (out, &olen), *fe = open_memstream (err, &elen);
  ctr_log_print (sample, strlen (sample), o, fo, fe, NULL);
  fclose (fo);
  fclose (fe);
}

static void
test_parse_line (void **state)
{
  struct ctr_log_record r;
  const char *l = "2024-01-02T03:04:05.5+00:00 stderr P hello world";
  (void) state;
  assert_int_equal (ctr_log_parse_line (l, strlen (l), &r), 0);
  assert_int_equal (r.stream, CTR_LOG_STDERR);
  assert_true (r.is_partial);
  assert_int_equal (r.text_len, 11);
  assert_memory_equal (r.text, "hello world", 11);
  assert_int_equal (r.time_ns % 1000000000, 500000000);
}

static void
test_parse_malformed (void **state)
{
  struct ctr_log_record r;
  const char *bad[] = { "", "nospace", "2024-01-02T03:04:05Z stdin F x",
                        "2024-01-02T03:04:05Z stdout X x", "notatime stdout F x",
                        "2024-01-02T03:04:05Z stdout", "2024-01-02T03:04:05Z stdout FF x" };
  (void) state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_true (ctr_log_parse_line (bad[i], strlen (bad[i]), &r) < 0);
}

static void
test_print_all_joins_partials (void **state)
{
  struct ctr_log_read_opts o = { .tail = -1 };
  char *out, *err;
  (void) state;
  render (&o, &out, &err);
  assert_string_equal (out, "one\npartial\n\nlast\n");
  assert_string_equal (err, "err\n");
  free (out);
  free (err);
}

static void
test_print_tail (void **state)
{
  struct ctr_log_read_opts o = { .tail = 2 };
  char *out, *err;
  (void) state;
  render (&o, &out, &err);
  assert_string_equal (out, "\nlast\n");
  assert_string_equal (err, "");
  free (out);
  free (err);
  o.tail = 0;
  render (&o, &out, &err);
  assert_string_equal (out, "");
  free (out);
  free (err);
}

static void
test_print_since_until_timestamps (void **state)
{
  struct ctr_log_read_opts o = { .tail = -1, .has_timestamps = true };
  char *out, *err;
  (void) state;
  assert_int_equal (ctr_log_parse_time ("2024-01-02T03:04:06Z", 0, &o.since_ns, NULL), 0);
  assert_int_equal (ctr_log_parse_time ("2024-01-02T03:04:08Z", 0, &o.until_ns, NULL), 0);
  render (&o, &out, &err);
  assert_string_equal (out, "2024-01-02T03:04:07.000000000+00:00 partial\n"
                            "2024-01-02T03:04:08.000000000+00:00 \n");
  free (out);
  free (err);
}

static void
test_parse_time_forms (void **state)
{
  int64_t t;
  (void) state;
  assert_int_equal (ctr_log_parse_time ("1700000000", 0, &t, NULL), 0);
  assert_true (t == 1700000000LL * 1000000000LL);
  assert_int_equal (ctr_log_parse_time ("10s", 20000000000LL, &t, NULL), 0);
  assert_true (t == 10000000000LL);
  assert_true (ctr_log_parse_time ("yesterday", 0, &t, NULL) < 0);
  assert_true (ctr_log_parse_time ("", 0, &t, NULL) < 0);
}

static void
test_writer_roundtrip (void **state)
{
  char dir[] = "/tmp/skiff-log-XXXXXX";
  struct ctr_log_read_opts o = { .tail = -1 };
  struct ctr_log_writer *w;
  char *path, *data, *out, *err;
  size_t len, olen, elen;
  FILE *fo, *fe;
  (void) state;
  assert_non_null (mkdtemp (dir));
  assert_true (asprintf (&path, "%s/ctr.log", dir) > 0);
  w = ctr_log_open (path, 0, NULL);
  assert_non_null (w);
  assert_int_equal (ctr_log_write (w, CTR_LOG_STDOUT, "a\nb", 3, NULL), 0);
  assert_int_equal (ctr_log_write (w, CTR_LOG_STDOUT, "c\n", 2, NULL), 0);
  assert_int_equal (ctr_log_write (w, CTR_LOG_STDERR, "e\n", 2, NULL), 0);
  ctr_log_close (w);
  data = fs_read_file (path, 0, &len, NULL);
  assert_non_null (data);
  fo = open_memstream (&out, &olen);
  fe = open_memstream (&err, &elen);
  ctr_log_print (data, len, &o, fo, fe, NULL);
  fclose (fo);
  fclose (fe);
  assert_string_equal (out, "a\nbc\n");
  assert_string_equal (err, "e\n");
  /* max-size truncates rather than growing without bound */
  w = ctr_log_open (path, 100, NULL);
  assert_int_equal (ctr_log_write (w, CTR_LOG_STDOUT, "0123456789\n", 11, NULL), 0);
  ctr_log_close (w);
  free (data);
  data = fs_read_file (path, 0, &len, NULL);
  assert_true (len < 100);
  free (data);
  free (out);
  free (err);
  unlink (path);
  rmdir (dir);
  free (path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_line),
    cmocka_unit_test (test_parse_malformed),
    cmocka_unit_test (test_print_all_joins_partials),
    cmocka_unit_test (test_print_tail),
    cmocka_unit_test (test_print_since_until_timestamps),
    cmocka_unit_test (test_parse_time_forms),
    cmocka_unit_test (test_writer_roundtrip),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
