/* Unit tests for libutil/toml.c: the TOML 1.0 constructs the containers
 * configuration files use, the table (re)definition rules, and malformed
 * input, each rejected with "NAME:LINE: why". */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/toml.h"

#define N_ELEMS(a) (sizeof (a) / sizeof ((a)[0]))

static json_object *
parse_ok (const char *doc)
{
  cleanup_error struct error *err = NULL;
  json_object *o = toml_parse (doc, strlen (doc), "test.toml", &err);

  if (o == NULL)
    fail_msg ("rejected: %s\n--- document ---\n%s", err->msg, doc);
  return o;
}

/* DOC must parse to exactly the JSON WANT (insertion order is kept). */
static void
assert_toml_json (const char *doc, const char *want)
{
  cleanup_json json_object *o = parse_ok (doc);
  const char *got = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN
                                                           | JSON_C_TO_STRING_NOSLASHESCAPE);

  if (strcmp (got, want) != 0)
    fail_msg ("document:\n%s\ngot  %s\nwant %s", doc, got, want);
}

/* DOC must be rejected with a message containing WANT. */
static void
assert_toml_error (const char *doc, const char *want)
{
  cleanup_error struct error *err = NULL;
  json_object *o = toml_parse (doc, strlen (doc), "test.toml", &err);

  if (o != NULL)
    {
      json_object_put (o);
      fail_msg ("accepted:\n%s", doc);
    }
  assert_non_null (err);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("document:\n%s\ngot  \"%s\"\nwant \"%s\"", doc, err->msg, want);
}

/* ---- values ------------------------------------------------------------- */

static void
test_scalars (void **state)
{
  assert_toml_json ("s = \"str\"\ni = 42\nt = true\nf = false\n",
                    "{\"s\":\"str\",\"i\":42,\"t\":true,\"f\":false}");
}

static void
test_comments_and_blank_lines (void **state)
{
  assert_toml_json ("# head\n\n  \t\na = 1 # trailing\n# tail", "{\"a\":1}");
}

static void
test_empty_document (void **state)
{
  assert_toml_json ("", "{}");
  assert_toml_json ("\n\n# only a comment\n", "{}");
}

static void
test_basic_string_escapes (void **state)
{
  assert_toml_json ("s = \"a\\tb\\nc\\\\d\\\"e\\b\\f\\r\"",
                    "{\"s\":\"a\\tb\\nc\\\\d\\\"e\\b\\f\\r\"}");
}

static void
test_unicode_escapes (void **state)
{
  cleanup_json json_object *o = parse_ok ("a = \"\\u00e9\"\nb = \"\\U0001F600\"\n");

  assert_string_equal (jobj_get_string (o, "a"), "\xc3\xa9");
  assert_string_equal (jobj_get_string (o, "b"), "\xf0\x9f\x98\x80");
}

static void
test_literal_strings (void **state)
{
  assert_toml_json ("p = 'C:\\Users\\x'\nq = '<\\i\\c*\\s*>'\n",
                    "{\"p\":\"C:\\\\Users\\\\x\",\"q\":\"<\\\\i\\\\c*\\\\s*>\"}");
}

static void
test_utf8_in_strings_and_comments (void **state)
{
  cleanup_json json_object *o = parse_ok ("# caf\xc3\xa9\ns = \"\xe2\x82\xac\"\n");

  assert_string_equal (jobj_get_string (o, "s"), "\xe2\x82\xac");
}

static void
test_multiline_basic_trims_first_newline (void **state)
{
  assert_toml_json ("s = \"\"\"\nRoses\nViolets\"\"\"", "{\"s\":\"Roses\\nViolets\"}");
}

static void
test_multiline_basic_line_ending_backslash (void **state)
{
  assert_toml_json ("s = \"\"\"\nThe quick \\\n\n   brown \\   \n  fox.\"\"\"",
                    "{\"s\":\"The quick brown fox.\"}");
}

static void
test_multiline_quotes_before_delimiter (void **state)
{
  assert_toml_json ("a = \"\"\"x\"\"\"\"\nb = \"\"\"x\"\"\"\"\"\nc = '''y'''''\n",
                    "{\"a\":\"x\\\"\",\"b\":\"x\\\"\\\"\",\"c\":\"y''\"}");
}

static void
test_multiline_quotes_inside (void **state)
{
  assert_toml_json ("a = \"\"\"one \"\" two\"\"\"", "{\"a\":\"one \\\"\\\" two\"}");
}

static void
test_multiline_literal (void **state)
{
  assert_toml_json ("s = '''\nfirst \\n\n  second'''", "{\"s\":\"first \\\\n\\n  second\"}");
}

static void
test_crlf_line_endings (void **state)
{
  assert_toml_json ("a = 1\r\nb = \"\"\"x\r\ny\"\"\"\r\n", "{\"a\":1,\"b\":\"x\\ny\"}");
}

static void
test_bom_is_skipped (void **state)
{
  assert_toml_json ("\xef\xbb\xbf" "a = 1\n", "{\"a\":1}");
}

static void
test_integers (void **state)
{
  assert_toml_json ("a = +99\nb = -17\nc = 0\nd = 1_000\ne = 5_349_221\nf = -0\n"
                    "g = 0xDEADbeef\nh = 0o755\ni = 0b1101_0110\nj = 9223372036854775807\n"
                    "k = -9223372036854775808\n",
                    "{\"a\":99,\"b\":-17,\"c\":0,\"d\":1000,\"e\":5349221,\"f\":0,"
                    "\"g\":3735928559,\"h\":493,\"i\":214,\"j\":9223372036854775807,"
                    "\"k\":-9223372036854775808}");
}

static void
test_floats (void **state)
{
  static const struct
  {
    const char *doc;
    double want;
  } cases[] = {
    { "v = +1.0", 1.0 },       { "v = 3.1415", 3.1415 },  { "v = -0.01", -0.01 },
    { "v = 5e+22", 5e22 },     { "v = 1e06", 1e6 },       { "v = -2E-2", -2e-2 },
    { "v = 6.626e-34", 6.626e-34 }, { "v = 224_617.445_991_228", 224617.445991228 },
    { "v = 0.0", 0.0 },        { "v = 0e0", 0.0 },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_json json_object *o = parse_ok (cases[i].doc);
      json_object *v = NULL;

      assert_true (json_object_object_get_ex (o, "v", &v));
      assert_true (json_object_is_type (v, json_type_double));
      if (json_object_get_double (v) != cases[i].want)
        fail_msg ("%s: got %.17g", cases[i].doc, json_object_get_double (v));
    }
}

static void
test_special_floats (void **state)
{
  cleanup_json json_object *o = parse_ok ("a = inf\nb = -inf\nc = +inf\nd = nan\ne = -nan\n");
  json_object *v;

  assert_true (json_object_object_get_ex (o, "a", &v));
  assert_true (isinf (json_object_get_double (v)) && json_object_get_double (v) > 0);
  assert_true (json_object_object_get_ex (o, "b", &v));
  assert_true (isinf (json_object_get_double (v)) && json_object_get_double (v) < 0);
  assert_true (json_object_object_get_ex (o, "c", &v));
  assert_true (isinf (json_object_get_double (v)));
  assert_true (json_object_object_get_ex (o, "d", &v));
  assert_true (isnan (json_object_get_double (v)));
  assert_true (json_object_object_get_ex (o, "e", &v));
  assert_true (isnan (json_object_get_double (v)));
}

static void
test_arrays (void **state)
{
  assert_toml_json ("a = []\nb = [1, 2, 3]\nc = [\"x\", 'y']\nd = [[1, 2], [\"a\"], []]\n"
                    "e = [1, \"mixed\", true]\n",
                    "{\"a\":[],\"b\":[1,2,3],\"c\":[\"x\",\"y\"],\"d\":[[1,2],[\"a\"],[]],"
                    "\"e\":[1,\"mixed\",true]}");
}

static void
test_multiline_array_with_comments (void **state)
{
  assert_toml_json ("a = [\n  \"one\", # first\n\n  # between\n  \"two\",\n]\n",
                    "{\"a\":[\"one\",\"two\"]}");
}

static void
test_inline_tables (void **state)
{
  assert_toml_json ("p = { x = 1, y = \"two\" }\ne = {}\nn = { a.b = 1, a.c = 2, d = { e = [] } }\n",
                    "{\"p\":{\"x\":1,\"y\":\"two\"},\"e\":{},"
                    "\"n\":{\"a\":{\"b\":1,\"c\":2},\"d\":{\"e\":[]}}}");
}

static void
test_array_of_inline_tables (void **state)
{
  assert_toml_json ("m = [ { location = \"a\" },\n  { location = \"b\", insecure = true } ]\n",
                    "{\"m\":[{\"location\":\"a\"},{\"location\":\"b\",\"insecure\":true}]}");
}

/* ---- keys and tables ---------------------------------------------------- */

static void
test_keys (void **state)
{
  assert_toml_json ("bare_key-1 = 1\n\"quoted key\" = 2\n'lit' = 3\n\"\" = 4\n1234 = 5\n",
                    "{\"bare_key-1\":1,\"quoted key\":2,\"lit\":3,\"\":4,\"1234\":5}");
}

static void
test_dotted_keys (void **state)
{
  assert_toml_json ("name.first = \"a\"\nname . last = \"b\"\nsite.\"google.com\" = true\n",
                    "{\"name\":{\"first\":\"a\",\"last\":\"b\"},\"site\":{\"google.com\":true}}");
}

static void
test_tables (void **state)
{
  assert_toml_json ("top = 0\n[a]\nx = 1\n[ b . c ]\ny = 2\n[d]\n",
                    "{\"top\":0,\"a\":{\"x\":1},\"b\":{\"c\":{\"y\":2}},\"d\":{}}");
}

static void
test_super_table_after_sub_table (void **state)
{
  assert_toml_json ("[x.y.z.w]\na = 1\n[x]\nb = 2\n",
                    "{\"x\":{\"y\":{\"z\":{\"w\":{\"a\":1}}},\"b\":2}}");
}

static void
test_sub_table_of_dotted_table (void **state)
{
  assert_toml_json ("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
                    "[fruit.apple.texture]\nsmooth = true\n",
                    "{\"fruit\":{\"apple\":{\"color\":\"red\",\"taste\":{\"sweet\":true},"
                    "\"texture\":{\"smooth\":true}}}}");
}

static void
test_array_of_tables (void **state)
{
  assert_toml_json ("[[registry]]\nlocation = \"a\"\n[[registry.mirror]]\nlocation = \"m1\"\n"
                    "[[registry.mirror]]\nlocation = \"m2\"\n[[registry]]\nlocation = \"b\"\n",
                    "{\"registry\":[{\"location\":\"a\",\"mirror\":[{\"location\":\"m1\"},"
                    "{\"location\":\"m2\"}]},{\"location\":\"b\"}]}");
}

static void
test_table_under_array_element (void **state)
{
  assert_toml_json ("[[fruit]]\nname = \"apple\"\n[fruit.physical]\ncolor = \"red\"\n"
                    "[[fruit]]\nname = \"banana\"\n",
                    "{\"fruit\":[{\"name\":\"apple\",\"physical\":{\"color\":\"red\"}},"
                    "{\"name\":\"banana\"}]}");
}

static void
test_registries_conf_document (void **state)
{
  static const char doc[]
      = "# comment\n"
        "unqualified-search-registries = [\"registry.fedoraproject.org\", \"docker.io\"]\n"
        "short-name-mode = \"enforcing\"\n"
        "\n"
        "[[registry]]\n"
        "prefix = \"example.com/foo\"\n"
        "insecure = false\n"
        "blocked = false\n"
        "location = \"internal-registry-for-example.com/bar\"\n"
        "\n"
        "[[registry.mirror]]\n"
        "location = \"example-mirror-0.local/mirror-for-foo\"\n"
        "\n"
        "[aliases]\n"
        "  \"fedora\" = \"registry.fedoraproject.org/fedora\"\n";
  cleanup_json json_object *o = parse_ok (doc);
  json_object *reg = jobj_get_array (o, "registry");

  assert_non_null (reg);
  assert_int_equal (json_object_array_length (reg), 1);
  assert_string_equal (jobj_get_string (json_object_array_get_idx (reg, 0), "location"),
                       "internal-registry-for-example.com/bar");
  assert_string_equal (jobj_get_string (jobj_get_object (o, "aliases"), "fedora"),
                       "registry.fedoraproject.org/fedora");
  assert_string_equal (jobj_get_string (o, "short-name-mode"), "enforcing");
}

static void
test_line_numbers (void **state)
{
  cleanup_json json_object *o = parse_ok ("a = 1\n\n[t]\nb = \"\"\"x\ny\"\"\"\nc = [\n1,\n2]\n");
  json_object *t = jobj_get_object (o, "t");
  json_object *v;

  assert_true (json_object_object_get_ex (o, "a", &v));
  assert_int_equal (toml_line (v), 1);
  assert_int_equal (toml_line (t), 3);
  assert_true (json_object_object_get_ex (t, "b", &v));
  assert_int_equal (toml_line (v), 4);
  assert_true (json_object_object_get_ex (t, "c", &v));
  assert_int_equal (toml_line (v), 6);
  assert_int_equal (toml_line (json_object_array_get_idx (v, 1)), 8);
  assert_int_equal (toml_line (NULL), 0);
}

/* ---- malformed input ---------------------------------------------------- */

static void
test_error_names_input_and_line (void **state)
{
  cleanup_error struct error *err = NULL;
  static const char doc[] = "a = 1\n# two\nkey value\n";
  json_object *o = toml_parse (doc, strlen (doc), "registries.conf", &err);

  assert_null (o);
  assert_string_equal (err->msg, "registries.conf:3: expected '=' after key");
}

static void
test_unterminated_strings (void **state)
{
  assert_toml_error ("a = \"abc", "test.toml:1: unterminated string");
  assert_toml_error ("a = \"abc\nb = 1", "test.toml:1: unterminated string");
  assert_toml_error ("a = 'abc", "unterminated string");
  assert_toml_error ("a = \"\"\"abc\n\n", "test.toml:3: unterminated multi-line string");
  assert_toml_error ("a = '''abc", "unterminated multi-line string");
  assert_toml_error ("a = \"ab\\", "unterminated string");
}

static void
test_bad_escapes (void **state)
{
  assert_toml_error ("a = \"\\x41\"", "invalid escape sequence \"\\x\"");
  assert_toml_error ("a = \"\\e\"", "invalid escape sequence");
  assert_toml_error ("a = \"\\ \"", "invalid escape sequence");
  assert_toml_error ("a = \"\\u12\"", "expected 4 hex digits");
  assert_toml_error ("a = \"\\U0000004\"", "expected 8 hex digits");
  assert_toml_error ("a = \"\\uD800\"", "not a scalar value");
  assert_toml_error ("a = \"\\U00110000\"", "not a scalar value");
  assert_toml_error ("a = \"\\u0000\"", "NUL characters are not supported");
}

static void
test_control_characters (void **state)
{
  assert_toml_error ("a = \"x\x01y\"", "control character in string");
  assert_toml_error ("a = 'x\x7fy'", "control character in string");
  assert_toml_error ("a = 1 # x\x02y", "control character in comment");
  assert_toml_error ("a = 1\rb = 2", "expected the end of the line");
  assert_toml_json ("a = \"tab\there\"", "{\"a\":\"tab\\there\"}");
}

static void
test_invalid_utf8 (void **state)
{
  assert_toml_error ("a = \"\xc0\xaf\"", "test.toml:1: invalid UTF-8");          /* overlong */
  assert_toml_error ("a = 1\nb = \"\x80\"", "test.toml:2: invalid UTF-8");       /* stray */
  assert_toml_error ("a = \"\xed\xa0\x80\"", "invalid UTF-8");                   /* surrogate */
  assert_toml_error ("a = \"\xf4\x90\x80\x80\"", "invalid UTF-8");               /* > U+10FFFF */
  assert_toml_error ("a = \"\xe2\x82\"", "invalid UTF-8");                       /* truncated */
}

static void
test_embedded_nul_rejected (void **state)
{
  cleanup_error struct error *err = NULL;
  static const char doc[] = "a = \"x\0y\"";
  json_object *o = toml_parse (doc, sizeof doc - 1, "test.toml", &err);

  assert_null (o);
  assert_non_null (strstr (err->msg, "control character"));
}

static void
test_missing_equals_and_values (void **state)
{
  assert_toml_error ("a 1", "expected '=' after key");
  assert_toml_error ("a =", "expected a value");
  assert_toml_error ("a = \n", "expected a value");
  assert_toml_error ("= 1", "expected a key");
  assert_toml_error ("a = ?", "expected a value, found \"?\"");
  assert_toml_error ("a = 1 b = 2", "expected the end of the line after the value");
  assert_toml_error ("a = tru", "invalid value \"tru\"");
  assert_toml_error ("a = \"\"\"x\"\"\"\"\"\"", "expected the end of the line");
  assert_toml_error ("\"\"\"k\"\"\" = 1", "a key cannot be a multi-line string");
}

static void
test_bad_integers (void **state)
{
  assert_toml_error ("a = 01", "invalid value \"01\"");
  assert_toml_error ("a = 1__2", "invalid value");
  assert_toml_error ("a = 1_", "invalid value");
  assert_toml_error ("a = _1", "invalid value");
  assert_toml_error ("a = 0x", "invalid integer \"0x\"");
  assert_toml_error ("a = +0x10", "invalid integer");
  assert_toml_error ("a = 0xg", "invalid integer");
  assert_toml_error ("a = 0b102", "invalid integer");
  assert_toml_error ("a = 9223372036854775808", "out of range");
  assert_toml_error ("a = -9223372036854775809", "out of range");
  assert_toml_error ("a = 0x8000000000000000", "out of range");
}

static void
test_bad_floats (void **state)
{
  assert_toml_error ("a = 1.", "invalid float \"1.\"");
  assert_toml_error ("a = .5", "invalid value \".5\"");
  assert_toml_error ("a = 1e", "invalid float");
  assert_toml_error ("a = 01.5", "invalid float");
  assert_toml_error ("a = 1.e5", "invalid float");
  assert_toml_error ("a = 1.5_", "invalid float");
  assert_toml_error ("a = 1e999", "out of range");
  assert_toml_error ("a = infinity", "invalid value \"infinity\"");
  assert_toml_error ("a = truex", "invalid value \"truex\"");
}

static void
test_dates_rejected (void **state)
{
  assert_toml_error ("d = 1979-05-27", "dates and times are not supported");
  assert_toml_error ("d = 1979-05-27T07:32:00Z", "dates and times are not supported");
  assert_toml_error ("t = 07:32:00", "dates and times are not supported");
}

static void
test_duplicate_keys (void **state)
{
  assert_toml_error ("a = 1\na = 2", "test.toml:2: duplicate key \"a\" (first defined on line 1)");
  assert_toml_error ("a.b = 1\na.b = 2", "duplicate key \"a.b\"");
  assert_toml_error ("\"a\" = 1\n'a' = 2", "duplicate key");
  assert_toml_error ("[t]\nx = 1\nx = 2", "duplicate key \"x\"");
  assert_toml_error ("p = { a = 1, a = 2 }", "duplicate key");
}

static void
test_key_conflicts_with_value (void **state)
{
  assert_toml_error ("a = 1\na.b = 2", "cannot set \"a.b\": \"a\" was already defined on line 1");
  assert_toml_error ("a.b = 1\na = 2", "duplicate key \"a\"");
}

static void
test_redefined_tables (void **state)
{
  assert_toml_error ("[a]\nx = 1\n[a]\ny = 2", "test.toml:3: table \"a\" is already defined on line 1");
  assert_toml_error ("[a]\n[a.b]\n[a]", "table \"a\" is already defined");
  assert_toml_error ("[a.b]\n[a.b]", "table \"a.b\" is already defined");
  assert_toml_error ("a = 1\n[a]", "table \"a\" is already defined");
}

static void
test_header_cannot_redefine_dotted_table (void **state)
{
  assert_toml_error ("[fruit]\napple.color = \"red\"\n[fruit.apple]",
                     "table \"fruit.apple\" is already defined");
  assert_toml_error ("a.b = 1\n[a]", "table \"a\" is already defined");
}

static void
test_dotted_key_cannot_extend_header_table (void **state)
{
  assert_toml_error ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", "cannot set \"b.c.t\"");
  assert_toml_error ("[a.b]\n[a]\nb.y = 2", "cannot set \"b.y\"");
}

static void
test_inline_tables_are_sealed (void **state)
{
  assert_toml_error ("a = { b = 1 }\na.c = 2", "cannot set \"a.c\"");
  assert_toml_error ("a = { b = 1 }\n[a]", "table \"a\" is already defined");
  assert_toml_error ("a = { b = { c = 1 } }\n[a.b.d]", "\"a\" is not a table that can be extended");
  assert_toml_error ("a = { b = { c = 1 }, b.d = 2 }", "cannot set \"b.d\"");
}

static void
test_array_of_tables_conflicts (void **state)
{
  assert_toml_error ("[a]\n[[a]]", "cannot define array of tables \"a\"");
  assert_toml_error ("[[a]]\n[a]", "table \"a\" is already defined");
  assert_toml_error ("a = []\n[[a]]", "cannot define array of tables \"a\"");
  assert_toml_error ("a = [{ b = 1 }]\n[a.c]", "\"a\" is not a table that can be extended");
  assert_toml_error ("a = 1\n[a.b]", "\"a\" is not a table that can be extended");
}

static void
test_bad_headers (void **state)
{
  assert_toml_error ("[a", "expected ']' after the table name");
  assert_toml_error ("[]", "expected a key");
  assert_toml_error ("[[a]", "expected \"]]\" after the array of tables name");
  assert_toml_error ("[[a] ]", "expected \"]]\"");
  assert_toml_error ("[a] b = 1", "expected the end of the line after the table header");
  assert_toml_error ("[a.]", "expected a key");
}

static void
test_bad_arrays (void **state)
{
  assert_toml_error ("a = [1, 2", "unterminated array");
  assert_toml_error ("a = [1\n", "unterminated array");
  assert_toml_error ("a = [1 2]", "expected ',' or ']' in array");
  assert_toml_error ("a = [,]", "expected a value");
  assert_toml_error ("a = [1,,2]", "expected a value");
}

static void
test_bad_inline_tables (void **state)
{
  assert_toml_error ("a = { b = 1,\n c = 2 }", "expected a key");
  assert_toml_error ("a = { b = 1\n}", "unterminated inline table");
  assert_toml_error ("a = { b = 1, }", "expected a key");
  assert_toml_error ("a = { b = 1 c = 2 }", "expected ',' or '}' in inline table");
  assert_toml_error ("a = { b }", "expected '=' after key");
}

static char *
repeat (const char *s, size_t n)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; i < n; i++)
    buf_append_str (&b, s);
  return buf_steal (&b);
}

static void
test_deep_nesting_rejected (void **state)
{
  cleanup_free char *open = repeat ("[", 10000);
  cleanup_free char *arrays = xasprintf ("a = %s", open);
  cleanup_free char *braces = repeat ("{ a = ", 200);
  cleanup_free char *inl = xasprintf ("a = %s1", braces);
  cleanup_free char *parts = repeat ("a.", 200);
  cleanup_free char *header = xasprintf ("[%sa]", parts);
  cleanup_free char *dotted = xasprintf ("%sa = 1", parts);

  assert_toml_error (arrays, "nested more than 64 deep");
  assert_toml_error (inl, "nested more than 64 deep");
  assert_toml_error (header, "key has more than 64 parts");
  assert_toml_error (dotted, "key has more than 64 parts");
}

static void
test_nesting_limit_counts_tables_and_values (void **state)
{
  cleanup_free char *parts = repeat ("a.", 40);
  cleanup_free char *open = repeat ("[", 30);
  cleanup_free char *close = repeat ("]", 30);
  cleanup_free char *doc = xasprintf ("[%sa]\nv = %s%s", parts, open, close);
  cleanup_free char *ok_open = repeat ("[", 20);
  cleanup_free char *ok_close = repeat ("]", 20);
  cleanup_free char *ok = xasprintf ("[%sa]\nv = %s%s", parts, ok_open, ok_close);
  json_object *o;

  assert_toml_error (doc, "nested more than 64 deep");
  o = parse_ok (ok);
  json_object_put (o);
}

static void
test_oversized_input_rejected (void **state)
{
  size_t len = TOML_MAX_FILE_SIZE + 1;
  cleanup_free char *big = xmalloc (len);
  cleanup_error struct error *err = NULL;

  memset (big, '#', len);
  assert_null (toml_parse (big, len, "big.toml", &err));
  assert_int_equal (err->errnum, EFBIG);
}

/* ---- files -------------------------------------------------------------- */

static void
test_parse_file (void **state)
{
  char path[] = "/tmp/test-toml-XXXXXX";
  int fd = mkstemp (path);
  static const char doc[] = "a = 1\nb =\n";
  cleanup_error struct error *err = NULL;
  cleanup_free char *want = NULL;

  assert_true (fd >= 0);
  assert_int_equal (write (fd, doc, sizeof doc - 1), (ssize_t) sizeof doc - 1);
  close (fd);
  assert_null (toml_parse_file (path, &err));
  want = xasprintf ("%s:2: expected a value", path);
  assert_string_equal (err->msg, want);
  unlink (path);
}

static void
test_parse_missing_file (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_null (toml_parse_file ("/nonexistent/dir/x.toml", &err));
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "/nonexistent/dir/x.toml"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_scalars),
    cmocka_unit_test (test_comments_and_blank_lines),
    cmocka_unit_test (test_empty_document),
    cmocka_unit_test (test_basic_string_escapes),
    cmocka_unit_test (test_unicode_escapes),
    cmocka_unit_test (test_literal_strings),
    cmocka_unit_test (test_utf8_in_strings_and_comments),
    cmocka_unit_test (test_multiline_basic_trims_first_newline),
    cmocka_unit_test (test_multiline_basic_line_ending_backslash),
    cmocka_unit_test (test_multiline_quotes_before_delimiter),
    cmocka_unit_test (test_multiline_quotes_inside),
    cmocka_unit_test (test_multiline_literal),
    cmocka_unit_test (test_crlf_line_endings),
    cmocka_unit_test (test_bom_is_skipped),
    cmocka_unit_test (test_integers),
    cmocka_unit_test (test_floats),
    cmocka_unit_test (test_special_floats),
    cmocka_unit_test (test_arrays),
    cmocka_unit_test (test_multiline_array_with_comments),
    cmocka_unit_test (test_inline_tables),
    cmocka_unit_test (test_array_of_inline_tables),
    cmocka_unit_test (test_keys),
    cmocka_unit_test (test_dotted_keys),
    cmocka_unit_test (test_tables),
    cmocka_unit_test (test_super_table_after_sub_table),
    cmocka_unit_test (test_sub_table_of_dotted_table),
    cmocka_unit_test (test_array_of_tables),
    cmocka_unit_test (test_table_under_array_element),
    cmocka_unit_test (test_registries_conf_document),
    cmocka_unit_test (test_line_numbers),
    cmocka_unit_test (test_error_names_input_and_line),
    cmocka_unit_test (test_unterminated_strings),
    cmocka_unit_test (test_bad_escapes),
    cmocka_unit_test (test_control_characters),
    cmocka_unit_test (test_invalid_utf8),
    cmocka_unit_test (test_embedded_nul_rejected),
    cmocka_unit_test (test_missing_equals_and_values),
    cmocka_unit_test (test_bad_integers),
    cmocka_unit_test (test_bad_floats),
    cmocka_unit_test (test_dates_rejected),
    cmocka_unit_test (test_duplicate_keys),
    cmocka_unit_test (test_key_conflicts_with_value),
    cmocka_unit_test (test_redefined_tables),
    cmocka_unit_test (test_header_cannot_redefine_dotted_table),
    cmocka_unit_test (test_dotted_key_cannot_extend_header_table),
    cmocka_unit_test (test_inline_tables_are_sealed),
    cmocka_unit_test (test_array_of_tables_conflicts),
    cmocka_unit_test (test_bad_headers),
    cmocka_unit_test (test_bad_arrays),
    cmocka_unit_test (test_bad_inline_tables),
    cmocka_unit_test (test_deep_nesting_rejected),
    cmocka_unit_test (test_nesting_limit_counts_tables_and_values),
    cmocka_unit_test (test_oversized_input_rejected),
    cmocka_unit_test (test_parse_file),
    cmocka_unit_test (test_parse_missing_file),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
