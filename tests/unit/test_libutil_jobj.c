/* Unit tests for libutil/jobj.c: strict parsing with named errors, size
 * limits, typed lookups, serialisation and atomic writes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

static json_object *
parse_str (const char *s, struct error **err)
{
  return jobj_parse (s, strlen (s), "manifest", err);
}

/* Parsing S must fail with a message naming the input and containing
 * WANT. */
static void
assert_parse_fails (const char *s, size_t len, const char *want)
{
  cleanup_error struct error *err = NULL;
  json_object *o = jobj_parse (s, len, "manifest", &err);

  assert_null (o);
  assert_non_null (err);
  assert_true (strncmp (err->msg, "parse manifest: ", 16) == 0);
  if (want && strstr (err->msg, want) == NULL)
    fail_msg ("message \"%s\" lacks \"%s\"", err->msg, want);
}

static char *
temp_dir (void)
{
  const char *tmp = getenv ("TMPDIR");
  char *dir = xasprintf ("%s/test_jobj.XXXXXX", tmp && *tmp ? tmp : "/tmp");

  assert_non_null (mkdtemp (dir));
  return dir;
}

/* ---- parsing ------------------------------------------------------------ */

static void
test_parse_object (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str ("{\"a\": [1, 2], \"b\": \"x\"}", &err);

  assert_non_null (o);
  assert_null (err);
  assert_string_equal (jobj_get_string (o, "b"), "x");
  assert_int_equal (json_object_array_length (jobj_get_array (o, "a")), 2);
}

static void
test_parse_allows_surrounding_whitespace (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (" \n{}\r\n\t ", &err);

  assert_non_null (o);
}

static void
test_parse_bare_scalars (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *n = parse_str ("123", &err);
  cleanup_json json_object *t = parse_str ("true", &err);
  cleanup_json json_object *s = parse_str ("\"s\"", &err);

  assert_non_null (n);
  assert_int_equal (json_object_get_int64 (n), 123);
  assert_non_null (t);
  assert_true (json_object_get_boolean (t));
  assert_non_null (s);
  assert_null (err);
}

static void
test_parse_does_not_read_past_len (void **state)
{
  cleanup_error struct error *err = NULL;
  const char data[] = "{\"a\":1}garbage";
  cleanup_json json_object *o = jobj_parse (data, 7, "config", &err);

  assert_non_null (o);
}

static void
test_parse_rejects_trailing_garbage (void **state)
{
  assert_parse_fails ("{} x", 4, NULL);
  assert_parse_fails ("{}{}", 4, NULL);
  assert_parse_fails ("[1] ]", 5, NULL);
  assert_parse_fails ("12 34", 5, NULL);
}

static void
test_parse_rejects_embedded_nul (void **state)
{
  assert_parse_fails ("{}\0{}", 5, "offset 2");
}

static void
test_parse_rejects_empty_input (void **state)
{
  assert_parse_fails ("", 0, "empty");
  assert_parse_fails ("  \n", 3, "empty");
}

static void
test_parse_rejects_truncated_input (void **state)
{
  assert_parse_fails ("{\"a\": [1, 2", 11, NULL);
  assert_parse_fails ("\"abc", 4, NULL);
  assert_parse_fails ("tru", 3, NULL);
  assert_parse_fails ("-", 1, NULL);
}

static void
test_parse_rejects_null_document (void **state)
{
  assert_parse_fails ("null", 4, "null");
}

static void
test_parse_rejects_non_standard_json (void **state)
{
  /* json-c's strict mode still takes single quotes and NaN; these are
   * what it does refuse. */
  assert_parse_fails ("[1, 2,]", 7, NULL);
  assert_parse_fails ("{\"a\": 1,}", 9, NULL);
  assert_parse_fails ("{a: 1}", 6, NULL);
  assert_parse_fails ("{\"a\": TRUE}", 11, NULL);
}

static void
test_parse_rejects_invalid_utf8 (void **state)
{
  assert_parse_fails ("\"\xff\xfe\"", 4, NULL);
}

static void
test_parse_rejects_deep_nesting (void **state)
{
  char deep[2001];

  memset (deep, '[', 1000);
  memset (deep + 1000, ']', 1000);
  deep[2000] = '\0';
  assert_parse_fails (deep, 2000, NULL);
}

static void
test_parse_error_names_input_and_offset (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_null (jobj_parse ("{\"a\": x}", 8, "image config", &err));
  assert_true (strncmp (err->msg, "parse image config: ", 20) == 0);
  assert_non_null (strstr (err->msg, "offset 6"));
  assert_int_equal (err->errnum, 0);
}

static void
test_parse_without_what_says_json (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_null (jobj_parse ("x", 1, NULL, &err));
  assert_true (strncmp (err->msg, "parse JSON: ", 12) == 0);
}

static void
test_parse_file (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *p = xasprintf ("%s/c.json", dir);
  cleanup_json json_object *o = NULL;

  assert_int_equal (fs_write_atomic (p, "{\"k\": 5}", 8, 0600, &err), 0);
  o = jobj_parse_file (p, 0, &err);
  fs_remove_tree (dir, &err);
  assert_non_null (o);
  assert_int_equal (jobj_get_int (o, "k", 0), 5);
}

static void
test_parse_file_over_limit_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *p = xasprintf ("%s/c.json", dir);
  json_object *o;

  assert_int_equal (fs_write_atomic (p, "[1,2,3,4,5]", 11, 0600, &err), 0);
  o = jobj_parse_file (p, 10, &err);
  assert_null (o);
  assert_int_equal (err->errnum, EFBIG);
  assert_non_null (strstr (err->msg, p));
  err_release (&err);
  fs_remove_tree (dir, &err);
}

static void
test_parse_file_missing_fails (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_null (jobj_parse_file ("/nonexistent/skiff/c.json", 0, &err));
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_parse_file_error_names_the_file (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *p = xasprintf ("%s/bad.json", dir);
  cleanup_free char *want = xasprintf ("parse \"%s\": ", p);

  assert_int_equal (fs_write_atomic (p, "{,}", 3, 0600, &err), 0);
  assert_null (jobj_parse_file (p, 0, &err));
  assert_true (strncmp (err->msg, want, strlen (want)) == 0);
  err_release (&err);
  fs_remove_tree (dir, &err);
}

/* ---- lookups ------------------------------------------------------------ */

static const char doc[] = "{\"s\": \"str\", \"i\": -42, \"big\": 9007199254740993, \"b\": true,"
                          " \"o\": {\"x\": 1}, \"a\": [], \"n\": null, \"d\": 1.5}";

static void
test_getters_return_typed_values (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (doc, &err);

  assert_string_equal (jobj_get_string (o, "s"), "str");
  assert_int_equal (jobj_get_int (o, "i", 0), -42);
  assert_int_equal (jobj_get_int (o, "big", 0), 9007199254740993LL);
  assert_true (jobj_get_bool (o, "b", false));
  assert_non_null (jobj_get_object (o, "o"));
  assert_non_null (jobj_get_array (o, "a"));
}

static void
test_getters_reject_other_types (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (doc, &err);

  assert_null (jobj_get_string (o, "i"));
  assert_null (jobj_get_string (o, "n"));
  assert_null (jobj_get_object (o, "a"));
  assert_null (jobj_get_array (o, "o"));
  assert_int_equal (jobj_get_int (o, "s", 7), 7);
  assert_int_equal (jobj_get_int (o, "d", 7), 7);
  assert_false (jobj_get_bool (o, "i", false));
  assert_true (jobj_get_bool (o, "s", true));
}

static void
test_getters_on_missing_key_or_object (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (doc, &err);
  cleanup_json json_object *arr = parse_str ("[1]", &err);

  assert_null (jobj_get_string (o, "nope"));
  assert_int_equal (jobj_get_int (o, "nope", 3), 3);
  assert_null (jobj_get_string (NULL, "s"));
  assert_null (jobj_get_object (NULL, "o"));
  assert_int_equal (jobj_get_int (NULL, "i", 9), 9);
  assert_false (jobj_get_bool (NULL, "b", false));
  assert_null (jobj_get_string (arr, "s"));
}

static void
test_require_string_present (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (doc, &err);

  assert_string_equal (jobj_require_string (o, "s", "manifest", &err), "str");
  assert_null (err);
}

static void
test_require_string_missing_names_key_and_what (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (doc, &err);

  assert_null (jobj_require_string (o, "mediaType", "manifest", &err));
  assert_string_equal (err->msg, "manifest: missing \"mediaType\"");
}

static void
test_require_string_wrong_type (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (doc, &err);

  assert_null (jobj_require_string (o, "i", "config", &err));
  assert_string_equal (err->msg, "config: \"i\" must be a string, not int");
  err_release (&err);
  assert_null (jobj_require_string (o, "n", "config", &err));
  assert_string_equal (err->msg, "config: \"n\" must be a string, not null");
}

static void
test_require_string_on_non_object (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *arr = parse_str ("[]", &err);

  assert_null (jobj_require_string (arr, "s", "index", &err));
  assert_string_equal (err->msg, "index: expected an object, got array");
  err_release (&err);
  assert_null (jobj_require_string (NULL, "s", "index", &err));
  assert_non_null (err);
}

/* ---- output ------------------------------------------------------------- */

static void
test_to_string_plain_is_compact_without_slash_escapes (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str ("{ \"ref\" : \"docker.io/library/busybox\", \"n\" : [ 1 ] }",
                                           &err);
  cleanup_free char *s = jobj_to_string (o, false);

  assert_string_equal (s, "{\"ref\":\"docker.io/library/busybox\",\"n\":[1]}");
}

static void
test_to_string_pretty_is_indented (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str ("{\"a\":\"b/c\",\"n\":1}", &err);
  cleanup_free char *s = jobj_to_string (o, true);

  assert_string_equal (s, "{\n  \"a\": \"b/c\",\n  \"n\": 1\n}");
}

static void
test_to_string_round_trips (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_str (doc, &err);
  cleanup_free char *s = jobj_to_string (o, true);
  cleanup_json json_object *back = parse_str (s, &err);

  assert_non_null (back);
  assert_true (json_object_equal (o, back));
}

static void
test_write_file_is_atomic_private_and_exact (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *dir = temp_dir ();
  cleanup_free char *p = xasprintf ("%s/out.json", dir);
  cleanup_json json_object *o = parse_str ("{\"a\":\"x/y\"}", &err);
  cleanup_free char *want = jobj_to_string (o, false);
  cleanup_free char *got = NULL;
  struct stat st;

  assert_int_equal (jobj_write_file (p, o, false, &err), 0);
  got = fs_read_file (p, 0, NULL, &err);
  assert_string_equal (got, want);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  fs_remove_tree (dir, &err);
}

static void
test_write_file_into_missing_dir_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = json_object_new_object ();

  assert_true (jobj_write_file ("/nonexistent/skiff/out.json", o, true, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_cleanup_json_releases (void **state)
{
  json_object *o = json_object_new_array ();
  json_object *none = NULL;

  jobj_putp (&o);
  assert_null (o);
  jobj_putp (&none);
}

/* A deep copy: changing the copy leaves the original; NULL gives {}. */
static void
test_copy (void **state)
{
  json_object *o = json_tokener_parse ("{\"a\":[1,{\"b\":2}]}");
  json_object *c = jobj_copy (o);
  json_object *e = jobj_copy (NULL);

  (void) state;
  json_object_object_add (json_object_array_get_idx (jobj_get_array (c, "a"), 1), "b",
                          json_object_new_int (3));
  assert_string_equal (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN),
                       "{\"a\":[1,{\"b\":2}]}");
  assert_string_equal (json_object_to_json_string_ext (c, JSON_C_TO_STRING_PLAIN),
                       "{\"a\":[1,{\"b\":3}]}");
  assert_string_equal (json_object_to_json_string_ext (e, JSON_C_TO_STRING_PLAIN), "{}");
  json_object_put (o);
  json_object_put (c);
  json_object_put (e);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_object),
    cmocka_unit_test (test_parse_allows_surrounding_whitespace),
    cmocka_unit_test (test_parse_bare_scalars),
    cmocka_unit_test (test_parse_does_not_read_past_len),
    cmocka_unit_test (test_parse_rejects_trailing_garbage),
    cmocka_unit_test (test_parse_rejects_embedded_nul),
    cmocka_unit_test (test_parse_rejects_empty_input),
    cmocka_unit_test (test_parse_rejects_truncated_input),
    cmocka_unit_test (test_parse_rejects_null_document),
    cmocka_unit_test (test_parse_rejects_non_standard_json),
    cmocka_unit_test (test_parse_rejects_invalid_utf8),
    cmocka_unit_test (test_parse_rejects_deep_nesting),
    cmocka_unit_test (test_parse_error_names_input_and_offset),
    cmocka_unit_test (test_parse_without_what_says_json),
    cmocka_unit_test (test_parse_file),
    cmocka_unit_test (test_parse_file_over_limit_fails),
    cmocka_unit_test (test_parse_file_missing_fails),
    cmocka_unit_test (test_parse_file_error_names_the_file),
    cmocka_unit_test (test_getters_return_typed_values),
    cmocka_unit_test (test_getters_reject_other_types),
    cmocka_unit_test (test_getters_on_missing_key_or_object),
    cmocka_unit_test (test_require_string_present),
    cmocka_unit_test (test_require_string_missing_names_key_and_what),
    cmocka_unit_test (test_require_string_wrong_type),
    cmocka_unit_test (test_require_string_on_non_object),
    cmocka_unit_test (test_to_string_plain_is_compact_without_slash_escapes),
    cmocka_unit_test (test_to_string_pretty_is_indented),
    cmocka_unit_test (test_to_string_round_trips),
    cmocka_unit_test (test_write_file_is_atomic_private_and_exact),
    cmocka_unit_test (test_write_file_into_missing_dir_fails),
    cmocka_unit_test (test_cleanup_json_releases),
    cmocka_unit_test (test_copy),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
