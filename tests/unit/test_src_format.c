/* Tests for src/format.c: --format as docker and podman apply templates
 * (escapes, "table" with headers and alignment, the json shorthand). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "src/format.h"
#include "libutil/mem.h"

static const struct format_header PS_HEADERS[] = {
  { "ID", "CONTAINER ID" },
  { "Image", "IMAGE" },
  { NULL, NULL },
};

static const char *const PS_ROWS = "[{\"ID\": \"abc\", \"Image\": \"busybox\", \"CreatedAt\": "
                                   "\"now\", \"Labels\": {\"a\": \"1\"}},"
                                   " {\"ID\": \"defghi\", \"Image\": \"alpine:3\", "
                                   "\"CreatedAt\": \"then\", \"Labels\": {}}]";

static char *
render (const char *json, const char *fmt, bool *is_ok)
{
  json_object *root = json_tokener_parse (json);
  struct buf out = BUF_INIT;
  struct error *err = NULL;
  char *r;

  assert_non_null (root);
  *is_ok = format_render (root, fmt, &out, &err) == 0;
  r = *is_ok ? buf_steal (&out) : xstrdup (err->msg);
  err_release (&err);
  buf_free (&out);
  json_object_put (root);
  return r;
}

static void
check_render (const char *json, const char *fmt, bool want_ok, const char *want)
{
  bool is_ok;
  char *got = render (json, fmt, &is_ok);
  assert_int_equal (is_ok, want_ok);
  assert_string_equal (got, want);
  free (got);
}

static char *
render_rows (const char *json, const char *fmt, const struct format_header *headers,
             bool is_noheading, bool *is_ok)
{
  json_object *rows = json_tokener_parse (json);
  struct buf out = BUF_INIT;
  struct error *err = NULL;
  char *r;

  assert_non_null (rows);
  buf_append_str (&out, "");
  *is_ok = format_render_rows (rows, fmt, headers, is_noheading, &out, &err) == 0;
  r = *is_ok ? buf_steal (&out) : xasprintf ("%s|%s", err->msg, out.data);
  err_release (&err);
  buf_free (&out);
  json_object_put (rows);
  return r;
}

static void
check_rows (const char *json, const char *fmt, const struct format_header *headers,
            bool is_noheading, const char *want)
{
  bool is_ok;
  char *got = render_rows (json, fmt, headers, is_noheading, &is_ok);
  if (!is_ok)
    print_error ("format %s failed: %s\n", fmt, got);
  assert_true (is_ok);
  assert_string_equal (got, want);
  free (got);
}

/* ---- format_render ------------------------------------------------------ */

static void
test_render_fields_ignoring_case (void **state)
{
  (void) state;
  check_render ("{\"Id\": \"abc\", \"State\": {\"Running\": true}}",
                "{{.ID}} {{.Id}} {{.State.Running}}", true, "abc abc true");
}

static void
test_render_missing_top_field_is_an_error (void **state)
{
  (void) state;
  check_render ("{\"Id\": \"abc\"}", "{{.Foo}}", false,
                "template: output:1:2: executing \"output\" at <.Foo>: can't evaluate field Foo");
}

static void
test_render_missing_nested_key_prints_no_value (void **state)
{
  (void) state;
  check_render ("{\"Config\": {\"Labels\": {\"a\": \"1\"}}}",
                "{{.Config.Labels.b}}|{{index .Config.Labels \"b\"}}", true,
                "<no value>|<no value>");
}

static void
test_render_replaces_backslash_escapes (void **state)
{
  (void) state;
  check_render ("{\"Id\": \"abc\"}", "{{.Id}}\\t{{.Id}}\\n", true, "abc\tabc\n");
  check_render ("{\"Id\": \"abc\"}", "{{printf \"%s\\t\" .Id}}", true, "abc\t");
}

static void
test_render_drops_the_table_prefix (void **state)
{
  (void) state;
  check_render ("{\"Id\": \"abc\"}", "table {{.Id}}", true, "abc");
}

static void
test_render_reports_parse_errors (void **state)
{
  (void) state;
  check_render ("{}", "{{.Id", false, "template: output:1: unclosed action");
}

static void
test_render_json_of_a_field (void **state)
{
  (void) state;
  check_render ("{\"RootFS\": {\"Layers\": [\"sha256:a\", \"sha256:b\"]}}",
                "{{json .RootFS.Layers}}", true, "[\"sha256:a\",\"sha256:b\"]");
}

/* ---- format_is_json / format_is_table ------------------------------------ */

static void
test_is_json (void **state)
{
  static const char *const yes[] = { "json", " json ", "{{json .}}", "{{ json . }}",
                                     "{{json}}", "{{json .}}\n" };
  static const char *const no[] = { "{{json .Id}}", "jsonx", "{{.}}", "table", "",
                                    "{{json .}} x", "{{json ..}}" };
  (void) state;
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    assert_true (format_is_json (yes[i]));
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    assert_false (format_is_json (no[i]));
}

static void
test_is_table (void **state)
{
  (void) state;
  assert_true (format_is_table ("table"));
  assert_true (format_is_table ("table {{.ID}}"));
  assert_true (format_is_table ("table\t{{.ID}}"));
  assert_false (format_is_table ("tablex"));
  assert_false (format_is_table ("{{.ID}} table"));
}

/* ---- format_render_rows --------------------------------------------------- */

static void
test_rows_one_line_each (void **state)
{
  (void) state;
  check_rows (PS_ROWS, "{{.ID}}:{{.Image}}", NULL, false, "abc:busybox\ndefghi:alpine:3\n");
  check_rows ("[]", "{{.ID}}", NULL, false, "");
}

static void
test_rows_failure_appends_nothing (void **state)
{
  bool is_ok;
  char *got = render_rows ("[{\"ID\": \"a\"}, {\"X\": 1}]", "{{.ID}}", NULL, false, &is_ok);
  (void) state;
  assert_false (is_ok);
  assert_string_equal (got, "template: output:1:2: executing \"output\" at <.ID>: can't "
                            "evaluate field ID|");
  free (got);
}

static void
test_table_with_header_titles (void **state)
{
  (void) state;
  check_rows (PS_ROWS, "table {{.ID}}\\t{{.Image}}", PS_HEADERS, false,
              "CONTAINER ID   IMAGE\n"
              "abc            busybox\n"
              "defghi         alpine:3\n");
}

static void
test_table_without_heading (void **state)
{
  (void) state;
  check_rows (PS_ROWS, "table {{.ID}}\\t{{.Image}}", PS_HEADERS, true,
              "abc       busybox\n"
              "defghi    alpine:3\n");
}

static void
test_table_derives_missing_titles (void **state)
{
  (void) state;
  check_rows (PS_ROWS, "table {{.CreatedAt}}\t{{.ID}}", NULL, false,
              "CREATED AT   ID\n"
              "now          abc\n"
              "then         defghi\n");
  check_rows ("[{\"ImageID\": 1, \"IPAddress\": 2, \"Names\": 3}]",
              "table {{.ImageID}}\t{{.IPAddress}}\t{{.Names}}", NULL, false,
              "IMAGE ID   IP ADDRESS   NAMES\n"
              "1          2            3\n");
}

static void
test_table_without_rows_prints_the_header (void **state)
{
  (void) state;
  check_rows ("[]", "table {{.ID}}\t{{.Image}}", PS_HEADERS, false, "CONTAINER ID   IMAGE\n");
  check_rows ("[]", "table {{.ID}}", PS_HEADERS, true, "");
}

static void
test_table_alone_uses_every_header (void **state)
{
  (void) state;
  check_rows (PS_ROWS, " table ", PS_HEADERS, false,
              "CONTAINER ID   IMAGE\n"
              "abc            busybox\n"
              "defghi         alpine:3\n");
}

static void
test_table_header_keeps_titles_through_functions (void **state)
{
  (void) state;
  check_rows (PS_ROWS, "table {{truncate .ID 2}}\t{{json .Labels}}", NULL, false,
              "ID        LABELS\n"
              "ab        {\"a\":\"1\"}\n"
              "de        {}\n");
}

static void
test_table_short_lines_have_no_trailing_padding (void **state)
{
  (void) state;
  check_rows ("[{\"A\": \"x\", \"B\": \"y\"}, {\"A\": \"longer\", \"B\": \"\"}]",
              "table {{.A}}{{if .B}}\t{{.B}}{{end}}", NULL, false,
              "A         B\n"
              "x         y\n"
              "longer\n");
}

static void
test_table_rows_with_newlines_are_several_lines (void **state)
{
  (void) state;
  check_rows ("[{\"A\": \"a\", \"B\": \"bb\"}]", "table {{.A}}\t1\\n{{.B}}\t2", NULL, false,
              "A         1\n"
              "B         2\n"
              "a         1\n"
              "bb        2\n");
}

static void
test_table_failure_appends_nothing (void **state)
{
  bool is_ok;
  char *got = render_rows (PS_ROWS, "table {{.ID}}\t{{.Nope}}", PS_HEADERS, false, &is_ok);
  (void) state;
  assert_false (is_ok);
  assert_string_equal (got, "template: output:1:10: executing \"output\" at <.Nope>: can't "
                            "evaluate field Nope|");
  free (got);
}

static void
test_table_size_is_bounded (void **state)
{
  bool is_ok;
  char *got = render_rows ("[]", "table {{range 600000}}\t\t{{end}}", NULL, false, &is_ok);
  (void) state;
  assert_false (is_ok);
  assert_string_equal (got, "template: output: table larger than 1048576 cells|");
  free (got);
}

static void
test_aligned_table_size_is_bounded (void **state)
{
  bool is_ok;
  char *got = render_rows ("[]", "table {{printf \"%1000000s\" \"\"}}{{range 20}}\\n\\t{{end}}",
                           NULL, false, &is_ok);
  (void) state;
  assert_false (is_ok);
  assert_string_equal (got, "template: output: table longer than 16777216 bytes|");
  free (got);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_render_fields_ignoring_case),
    cmocka_unit_test (test_render_missing_top_field_is_an_error),
    cmocka_unit_test (test_render_missing_nested_key_prints_no_value),
    cmocka_unit_test (test_render_replaces_backslash_escapes),
    cmocka_unit_test (test_render_drops_the_table_prefix),
    cmocka_unit_test (test_render_reports_parse_errors),
    cmocka_unit_test (test_render_json_of_a_field),
    cmocka_unit_test (test_is_json),
    cmocka_unit_test (test_is_table),
    cmocka_unit_test (test_rows_one_line_each),
    cmocka_unit_test (test_rows_failure_appends_nothing),
    cmocka_unit_test (test_table_with_header_titles),
    cmocka_unit_test (test_table_without_heading),
    cmocka_unit_test (test_table_derives_missing_titles),
    cmocka_unit_test (test_table_without_rows_prints_the_header),
    cmocka_unit_test (test_table_alone_uses_every_header),
    cmocka_unit_test (test_table_header_keeps_titles_through_functions),
    cmocka_unit_test (test_table_short_lines_have_no_trailing_padding),
    cmocka_unit_test (test_table_rows_with_newlines_are_several_lines),
    cmocka_unit_test (test_table_failure_appends_nothing),
    cmocka_unit_test (test_table_size_is_bounded),
    cmocka_unit_test (test_aligned_table_size_is_bounded),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
