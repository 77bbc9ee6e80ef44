/* Unit tests for src/container_attach_keys.c: docker's --detach-keys
 * syntax, malformed specs, and the matcher that holds a partial sequence
 * back, lets it through when it breaks off, and detaches when complete. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "src/container_attach.h"

static struct container_attach_keys
keys_of (const char *spec)
{
  struct container_attach_keys k;
  struct error *err = NULL;

  assert_int_equal (container_attach_parse_keys (spec, &k, &err), 0);
  return k;
}

static void
assert_parse_fails (const char *spec, const char *needle)
{
  struct container_attach_keys k;
  struct error *err = NULL;

  assert_true (container_attach_parse_keys (spec, &k, &err) < 0);
  assert_non_null (strstr (err->msg, needle));
  err_release (&err);
}

static void
test_parse_default_keys (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-p,ctrl-q");
  (void) state;
  assert_int_equal (k.n, 2);
  assert_int_equal (k.keys[0], 0x10);
  assert_int_equal (k.keys[1], 0x11);
}

static void
test_parse_symbols_and_plain_chars (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,a,Z");
  (void) state;
  assert_int_equal (k.n, 8);
  assert_int_equal (k.keys[0], 0);
  assert_int_equal (k.keys[1], 27);
  assert_int_equal (k.keys[2], 28);
  assert_int_equal (k.keys[3], 29);
  assert_int_equal (k.keys[4], 30);
  assert_int_equal (k.keys[5], 31);
  assert_int_equal (k.keys[6], 'a');
  assert_int_equal (k.keys[7], 'Z');
}

static void
test_parse_upper_case_ctrl (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-A");
  (void) state;
  assert_int_equal (k.keys[0], 1);
}

static void
test_parse_empty_disables (void **state)
{
  struct container_attach_keys k = keys_of ("");
  (void) state;
  assert_int_equal (k.n, 0);
}

static void
test_parse_rejects_bad_keys (void **state)
{
  (void) state;
  assert_parse_fails ("ctrl-", "unknown key");
  assert_parse_fails ("ctrl-1", "unknown key");
  assert_parse_fails ("alt-x", "unknown key");
  assert_parse_fails ("ctrl-p,,ctrl-q", "unknown key \"\"");
  assert_parse_fails ("ctrl-p,", "unknown key");
  assert_parse_fails ("ab", "unknown key");
}

static void
test_parse_rejects_too_many (void **state)
{
  (void) state;
  assert_parse_fails ("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "at most");
}

static size_t
feed (struct container_attach_keys *k, const char *in, size_t len, char *out, bool *is_detach)
{
  return container_attach_keys_feed (k, in, len, out, is_detach);
}

static void
test_feed_plain_input_passes (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-p,ctrl-q");
  char out[64];
  bool is_detach;
  size_t n = feed (&k, "ls\r", 3, out, &is_detach);
  (void) state;
  assert_int_equal (n, 3);
  assert_memory_equal (out, "ls\r", 3);
  assert_false (is_detach);
}

static void
test_feed_full_sequence_detaches (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-p,ctrl-q");
  char out[64];
  bool is_detach;
  size_t n = feed (&k, "x\x10\x11y", 4, out, &is_detach);
  (void) state;
  assert_true (is_detach);
  assert_int_equal (n, 1);
  assert_int_equal (out[0], 'x');
}

static void
test_feed_sequence_across_reads (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-p,ctrl-q");
  char out[64];
  bool is_detach;
  (void) state;
  assert_int_equal (feed (&k, "\x10", 1, out, &is_detach), 0);
  assert_false (is_detach);
  assert_int_equal (feed (&k, "\x11", 1, out, &is_detach), 0);
  assert_true (is_detach);
}

static void
test_feed_broken_sequence_is_forwarded (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-p,ctrl-q");
  char out[64];
  bool is_detach;
  size_t n;
  (void) state;
  assert_int_equal (feed (&k, "\x10", 1, out, &is_detach), 0);
  n = feed (&k, "a", 1, out, &is_detach);
  assert_false (is_detach);
  assert_int_equal (n, 2);
  assert_memory_equal (out, "\x10" "a", 2);
}

static void
test_feed_repeated_first_key_restarts (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-p,ctrl-q");
  char out[64];
  bool is_detach;
  size_t n = feed (&k, "\x10\x10\x11", 3, out, &is_detach);
  (void) state;
  assert_true (is_detach);
  assert_int_equal (n, 1);
  assert_int_equal (out[0], 0x10);
}

static void
test_feed_single_key (void **state)
{
  struct container_attach_keys k = keys_of ("ctrl-x");
  char out[64];
  bool is_detach;
  size_t n = feed (&k, "ab\x18" "cd", 5, out, &is_detach);
  (void) state;
  assert_true (is_detach);
  assert_int_equal (n, 2);
}

static void
test_feed_disabled_passes_everything (void **state)
{
  struct container_attach_keys k = keys_of ("");
  char out[64];
  bool is_detach;
  size_t n = feed (&k, "\x10\x11", 2, out, &is_detach);
  (void) state;
  assert_false (is_detach);
  assert_int_equal (n, 2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_default_keys),
    cmocka_unit_test (test_parse_symbols_and_plain_chars),
    cmocka_unit_test (test_parse_upper_case_ctrl),
    cmocka_unit_test (test_parse_empty_disables),
    cmocka_unit_test (test_parse_rejects_bad_keys),
    cmocka_unit_test (test_parse_rejects_too_many),
    cmocka_unit_test (test_feed_plain_input_passes),
    cmocka_unit_test (test_feed_full_sequence_detaches),
    cmocka_unit_test (test_feed_sequence_across_reads),
    cmocka_unit_test (test_feed_broken_sequence_is_forwarded),
    cmocka_unit_test (test_feed_repeated_first_key_restarts),
    cmocka_unit_test (test_feed_single_key),
    cmocka_unit_test (test_feed_disabled_passes_everything),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
