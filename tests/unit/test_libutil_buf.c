/* Unit tests for libutil/buf.c: growable buffers and string helpers. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/mem.h"

static void
assert_strv_equal (char **got, const char *const *want, size_t n)
{
  assert_int_equal (strv_len (got), n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal (got[i], want[i]);
  assert_null (got[n]);
}

static void
test_append_grows_and_terminates (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (int i = 0; i < 1000; i++)
    buf_append_str (&b, "abc");
  assert_int_equal (b.len, 3000);
  assert_true (b.cap > b.len);
  assert_int_equal (b.data[3000], '\0');
  assert_int_equal (strlen (b.data), 3000);
  assert_memory_equal (b.data + 2997, "abc", 3);
}

static void
test_append_keeps_embedded_nul (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  buf_append (&b, "a\0b", 3);
  buf_append_char (&b, '\0');
  assert_int_equal (b.len, 4);
  assert_memory_equal (b.data, "a\0b\0", 5);
}

static void
test_empty_append_makes_a_string (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  buf_append (&b, NULL, 0);
  assert_non_null (b.data);
  assert_string_equal (b.data, "");
}

static void
test_printf_appends_formatted (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  buf_append_str (&b, "x=");
  buf_printf (&b, "%d,%s", 42, "y");
  assert_string_equal (b.data, "x=42,y");
  assert_int_equal (b.len, 6);
}

static void
test_printf_longer_than_free_space (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;
  cleanup_free char *big = xmalloc (5001);

  memset (big, 'q', 5000);
  big[5000] = '\0';
  buf_append_str (&b, "<");
  buf_printf (&b, "%s>%d", big, 7);
  assert_int_equal (b.len, 5003);
  assert_int_equal (b.data[0], '<');
  assert_string_equal (b.data + 5001, ">7");
}

static void
test_reserve_keeps_contents (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  buf_append_str (&b, "keep");
  buf_reserve (&b, 100000);
  assert_true (b.cap >= 100005);
  assert_int_equal (b.len, 4);
  assert_string_equal (b.data, "keep");
}

static void
test_reserve_on_empty_buffer_holds_empty_string (void **state)
{
  struct buf b = BUF_INIT;
  cleanup_free char *s = NULL;

  buf_reserve (&b, 10);
  assert_non_null (b.data);
  assert_string_equal (b.data, "");
  s = buf_steal (&b);
  assert_string_equal (s, "");
}

static void
test_truncate_shortens_only (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  buf_append_str (&b, "hello");
  buf_truncate (&b, 10);
  assert_string_equal (b.data, "hello");
  buf_truncate (&b, 2);
  assert_int_equal (b.len, 2);
  assert_string_equal (b.data, "he");
  buf_truncate (&b, 0);
  assert_string_equal (b.data, "");
}

static void
test_steal_returns_contents_and_resets (void **state)
{
  struct buf b = BUF_INIT;
  cleanup_free char *s = NULL;

  buf_append_str (&b, "data");
  s = buf_steal (&b);
  assert_string_equal (s, "data");
  assert_null (b.data);
  assert_int_equal (b.len, 0);
  assert_int_equal (b.cap, 0);
}

static void
test_steal_of_empty_is_empty_string (void **state)
{
  struct buf b = BUF_INIT;
  cleanup_free char *s = buf_steal (&b);

  assert_string_equal (s, "");
}

static void
test_free_resets_for_reuse (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  buf_append_str (&b, "x");
  buf_free (&b);
  assert_null (b.data);
  assert_int_equal (b.len, 0);
  buf_append_str (&b, "y");
  assert_string_equal (b.data, "y");
}

static void
test_prefix_and_suffix (void **state)
{
  assert_true (str_has_prefix ("sha256:abc", "sha256:"));
  assert_true (str_has_prefix ("abc", ""));
  assert_true (str_has_prefix ("abc", "abc"));
  assert_false (str_has_prefix ("ab", "abc"));
  assert_false (str_has_prefix ("xabc", "abc"));
  assert_true (str_has_suffix ("layer.tar.gz", ".gz"));
  assert_true (str_has_suffix ("abc", ""));
  assert_false (str_has_suffix ("gz", ".gz"));
  assert_false (str_has_suffix ("a.gzx", ".gz"));
}

static void
test_split_fields (void **state)
{
  cleanup_strv char **v = str_split ("a,b,c", ',');
  static const char *const want[] = { "a", "b", "c" };

  assert_strv_equal (v, want, 3);
}

static void
test_split_keeps_empty_fields (void **state)
{
  cleanup_strv char **v = str_split (",a,,b,", ',');
  static const char *const want[] = { "", "a", "", "b", "" };

  assert_strv_equal (v, want, 5);
}

static void
test_split_empty_string_is_one_empty_field (void **state)
{
  cleanup_strv char **v = str_split ("", ':');
  static const char *const want[] = { "" };

  assert_strv_equal (v, want, 1);
}

static void
test_split_without_separator (void **state)
{
  cleanup_strv char **v = str_split ("abc", ',');
  static const char *const want[] = { "abc" };

  assert_strv_equal (v, want, 1);
}

static void
test_join (void **state)
{
  char *v[] = { "a", "", "c", NULL };
  char *one[] = { "only", NULL };
  char *none[] = { NULL };
  cleanup_free char *j = str_join (v, ", ");
  cleanup_free char *j1 = str_join (one, ",");
  cleanup_free char *j0 = str_join (none, ",");
  cleanup_free char *jn = str_join (NULL, ",");

  assert_string_equal (j, "a, , c");
  assert_string_equal (j1, "only");
  assert_string_equal (j0, "");
  assert_string_equal (jn, "");
}

static void
test_split_then_join_round_trips (void **state)
{
  const char *s = "usr:bin::sbin:";
  cleanup_strv char **v = str_split (s, ':');
  cleanup_free char *j = str_join (v, ":");

  assert_string_equal (j, s);
}

static void
test_strip (void **state)
{
  char a[] = " \t\n hello world \r\n";
  char b[] = "   ";
  char c[] = "";
  char d[] = "x";

  assert_string_equal (str_strip (a), "hello world");
  assert_string_equal (str_strip (b), "");
  assert_string_equal (str_strip (c), "");
  assert_string_equal (str_strip (d), "x");
}

static void
test_strip_returns_same_pointer (void **state)
{
  char s[] = "  a ";

  assert_ptr_equal (str_strip (s), s);
}

/* One to four bytes, at each boundary of the encoding. */
static void
test_append_utf8 (void **state)
{
  struct buf b = BUF_INIT;
  static const uint32_t cps[] = { 0x41, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac, 0xffff, 0x10000,
                                  0x1f600, 0x10ffff };

  (void) state;
  for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++)
    buf_append_utf8 (&b, cps[i]);
  assert_string_equal (b.data, "A\x7f\xc2\x80\xc3\xa9\xdf\xbf\xe0\xa0\x80\xe2\x82\xac"
                                     "\xef\xbf\xbf\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
  buf_free (&b);
}

/* Control bytes and quotes replaced, long text cut with "...". */
static void
test_quotable (void **state)
{
  char *q;

  (void) state;
  q = str_quotable ("a\"b\nc\x7f", 6, 10);
  assert_string_equal (q, "a?b?c?");
  free (q);
  q = str_quotable ("abcdefgh", 8, 3);
  assert_string_equal (q, "abc...");
  free (q);
  q = str_quotable ("abc", 0, 3);
  assert_string_equal (q, "");
  free (q);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_append_grows_and_terminates),
    cmocka_unit_test (test_append_keeps_embedded_nul),
    cmocka_unit_test (test_empty_append_makes_a_string),
    cmocka_unit_test (test_printf_appends_formatted),
    cmocka_unit_test (test_printf_longer_than_free_space),
    cmocka_unit_test (test_reserve_keeps_contents),
    cmocka_unit_test (test_reserve_on_empty_buffer_holds_empty_string),
    cmocka_unit_test (test_truncate_shortens_only),
    cmocka_unit_test (test_steal_returns_contents_and_resets),
    cmocka_unit_test (test_steal_of_empty_is_empty_string),
    cmocka_unit_test (test_free_resets_for_reuse),
    cmocka_unit_test (test_prefix_and_suffix),
    cmocka_unit_test (test_split_fields),
    cmocka_unit_test (test_split_keeps_empty_fields),
    cmocka_unit_test (test_split_empty_string_is_one_empty_field),
    cmocka_unit_test (test_split_without_separator),
    cmocka_unit_test (test_join),
    cmocka_unit_test (test_split_then_join_round_trips),
    cmocka_unit_test (test_strip),
    cmocka_unit_test (test_strip_returns_same_pointer),
    cmocka_unit_test (test_append_utf8),
    cmocka_unit_test (test_quotable),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
