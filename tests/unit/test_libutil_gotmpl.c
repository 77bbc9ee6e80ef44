/* Tests for libutil/gotmpl*.c: Go text/template over json-c values.  The
 * expected outputs and messages are what Go's text/template prints for
 * the same template over the same data decoded into interface{} (with
 * the documented exceptions: integral doubles print without exponent,
 * numbers compare across int and float). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/gotmpl.h"
#include "libutil/mem.h"

static const char *const DATA
    = "{\"Id\": \"0123456789abcdef\", \"Names\": [\"web\", \"db\"], \"Size\": 1234,"
      " \"Ratio\": 0.25, \"Big\": 1000000.0, \"Running\": true, \"Nothing\": null,"
      " \"Empty\": [], \"Labels\": {\"zone\": \"b\", \"app\": \"x\"},"
      " \"State\": {\"Status\": \"running\", \"Pid\": 42},"
      " \"Mounts\": [{\"Source\": \"/a\"}, {\"Source\": \"/b\"}], \"Mixed\": [1, null, \"s\"]}";

/* Run TMPL over JSON (NULL: Go's nil) with OPTS; returns the output, or
 * the error message with *IS_OK false. */
static char *
run_opts (const char *tmpl, const char *json, const struct gotmpl_opts *opts, bool *is_ok)
{
  struct error *err = NULL;
  struct buf out = BUF_INIT;
  json_object *data = json ? json_tokener_parse (json) : NULL;
  struct gotmpl *t = gotmpl_parse ("output", tmpl, &err);
  char *r;

  if (json)
    assert_non_null (data);
  *is_ok = t != NULL && gotmpl_exec (t, data, opts, &out, &err) == 0;
  if (*is_ok)
    r = buf_steal (&out);
  else
    {
      r = xstrdup (err->msg);
      err_release (&err);
    }
  buf_free (&out);
  gotmpl_free (t);
  if (data)
    json_object_put (data);
  return r;
}

static void
check_opts (const char *tmpl, const char *json, const struct gotmpl_opts *opts, bool want_ok,
            const char *want)
{
  bool is_ok;
  char *got = run_opts (tmpl, json, opts, &is_ok);

  if (is_ok != want_ok || strcmp (got, want) != 0)
    print_error ("template %s\n  got %s: \"%s\"\n want %s: \"%s\"\n", tmpl,
                 is_ok ? "output" : "error", got, want_ok ? "output" : "error", want);
  assert_int_equal (is_ok, want_ok);
  assert_string_equal (got, want);
  free (got);
}

static void
check (const char *tmpl, const char *want)
{
  check_opts (tmpl, DATA, NULL, true, want);
}

static void
check_err (const char *tmpl, const char *want)
{
  check_opts (tmpl, DATA, NULL, false, want);
}

/* ---- text, comments, trim markers ------------------------------------- */

static void
test_text_is_copied (void **state)
{
  (void) state;
  check ("", "");
  check ("plain text", "plain text");
  check ("a { b } }} c", "a { b } }} c");
  check ("multi\nline\n", "multi\nline\n");
}

static void
test_comments_print_nothing (void **state)
{
  (void) state;
  check ("a{{/* note */}}b", "ab");
  check ("a{{/* multi\nline */}}b", "ab");
  check ("a {{- /* trimmed */ -}} b", "ab");
}

static void
test_trim_markers_remove_adjacent_space (void **state)
{
  (void) state;
  check ("a  \n {{- .Size}}", "a1234");
  check ("{{.Size -}} \n\t b", "1234b");
  check ("a {{- .Size -}} b", "a1234b");
  /* "-3" without a space is a number, not a marker. */
  check ("a {{-3}} b", "a -3 b");
}

/* ---- fields and data ---------------------------------------------------- */

static void
test_field_lookup (void **state)
{
  (void) state;
  check ("{{.Id}}", "0123456789abcdef");
  check ("{{.State.Status}} {{.State.Pid}}", "running 42");
  check ("{{.Labels.app}}", "x");
}

static void
test_field_lookup_ignores_case_after_exact_match (void **state)
{
  (void) state;
  check ("{{.ID}} {{.state.status}}", "0123456789abcdef running");
  check_opts ("{{.ID}}|{{.Id}}|{{.id}}", "{\"Id\": 1, \"ID\": 2}", NULL, true, "2|1|1");
}

static void
test_missing_field_prints_no_value_by_default (void **state)
{
  (void) state;
  check ("{{.Nope}}|{{.State.Nope}}|{{.Nothing}}|{{.Nothing.X}}",
         "<no value>|<no value>|<no value>|<no value>");
}

static void
test_missing_field_errors_with_missingkey_error (void **state)
{
  const struct gotmpl_opts o = { .missing = GOTMPL_MISSING_ERROR };
  (void) state;
  check_opts ("{{.State.Nope}}", DATA, &o, false,
              "template: output:1:8: executing \"output\" at <.State.Nope>: "
              "can't evaluate field Nope");
  check_opts ("{{.Nothing.X}}", DATA, &o, false,
              "template: output:1:10: executing \"output\" at <.Nothing.X>: "
              "nil data; no entry for key \"X\"");
}

static void
test_missing_field_errors_only_at_top_with_error_top (void **state)
{
  const struct gotmpl_opts o = { .missing = GOTMPL_MISSING_ERROR_TOP };
  (void) state;
  check_opts ("{{.Foo}}", DATA, &o, false,
              "template: output:1:2: executing \"output\" at <.Foo>: can't evaluate field Foo");
  check_opts ("{{.Labels.nope}} {{.State.Nope}}", DATA, &o, true, "<no value> <no value>");
  check_opts ("{{range .Mounts}}{{.Nope}}{{end}}", DATA, &o, true, "<no value><no value>");
}

static void
test_field_of_a_non_object_fails (void **state)
{
  (void) state;
  check_err ("{{.Size.X}}", "template: output:1:7: executing \"output\" at <.Size.X>: "
                            "can't evaluate field X in type int");
  check_err ("{{.Names.X}}", "template: output:1:8: executing \"output\" at <.Names.X>: "
                             "can't evaluate field X in type []interface {}");
}

static void
test_field_with_arguments_fails (void **state)
{
  (void) state;
  check_err ("{{.Id 1}}", "template: output:1:2: executing \"output\" at <.Id>: "
                          "Id is not a method but has arguments");
  check_err ("{{1 | .Id}}", "template: output:1:6: executing \"output\" at <.Id>: "
                            "Id is not a method but has arguments");
}

static void
test_dot_and_dollar (void **state)
{
  (void) state;
  check_opts ("{{.}}", "\"str\"", NULL, true, "str");
  check_opts ("{{.}}", NULL, NULL, true, "<no value>");
  check ("{{with .State}}{{.Pid}} {{$.Size}}{{end}}", "42 1234");
  check ("{{range .Names}}{{$.State.Pid}}{{end}}", "4242");
}

/* ---- printing values ---------------------------------------------------- */

static void
test_prints_scalars_as_go (void **state)
{
  (void) state;
  check ("{{.Size}} {{.Ratio}} {{.Running}} {{.Big}}", "1234 0.25 true 1000000");
  check_opts ("{{.}}", "[1e-7, 123456.5, 1234567.5, -0.5, 1e300]", NULL, true,
              "[1e-07 123456.5 1.2345675e+06 -0.5 1e+300]");
  check_opts ("{{.}}", "9223372036854775807", NULL, true, "9223372036854775807");
  check_opts ("{{.}}", "-9223372036854775808", NULL, true, "-9223372036854775808");
}

static void
test_prints_arrays_and_maps_as_go (void **state)
{
  (void) state;
  check ("{{.Names}}", "[web db]");
  check ("{{.Empty}}", "[]");
  check ("{{.Labels}}", "map[app:x zone:b]");
  check ("{{.Mounts}}", "[map[Source:/a] map[Source:/b]]");
  check ("{{.Mixed}}", "[1 <nil> s]");
}

static void
test_print_value_api (void **state)
{
  struct buf b = BUF_INIT;
  json_object *v = json_tokener_parse ("{\"b\": [1, 2.5], \"a\": {\"x\": null}}");
  (void) state;
  gotmpl_print_value (v, &b);
  assert_string_equal (b.data, "map[a:map[x:<nil>] b:[1 2.5]]");
  buf_truncate (&b, 0);
  gotmpl_print_value (NULL, &b);
  assert_string_equal (b.data, "<nil>");
  buf_free (&b);
  json_object_put (v);
}

/* ---- literals ----------------------------------------------------------- */

static void
test_string_literals (void **state)
{
  (void) state;
  check ("{{\"a\\tb\\n\\\"q\\\" \\\\\"}}", "a\tb\n\"q\" \\");
  check ("{{\"\\x41\\101\\u00e9\\U0001F600\"}}", "AA\xc3\xa9\xf0\x9f\x98\x80");
  check ("{{`raw \\n {{ }}`}}", "raw \\n {{ }}");
  check ("{{`multi\nline`}}", "multi\nline");
}

static void
test_number_literals (void **state)
{
  (void) state;
  check ("{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-5}} {{+5}}", "31 15 15 5 1000 -5 5");
  check ("{{1.5}} {{1e3}} {{.5}} {{1.}} {{0x1p4}}", "1.5 1000 0.5 1 16");
  check ("{{'a'}} {{'\\n'}} {{'\\u00e9'}} {{'\xc3\xa9'}}", "97 10 233 233");
}

static void
test_bool_and_nil_literals (void **state)
{
  (void) state;
  check ("{{true}} {{false}}", "true false");
  check ("{{print nil}}", "<nil>");
}

/* ---- variables ---------------------------------------------------------- */

static void
test_variables_declare_and_assign (void **state)
{
  (void) state;
  check ("{{$x := .Size}}{{$x}}", "1234");
  check ("{{$x := 1}}{{$x = 2}}{{$x}}", "2");
  check ("{{$x := .State}}{{$x.Status}}", "running");
  check ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2");
  check ("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21");
}

static void
test_variable_scope_ends_with_its_control (void **state)
{
  (void) state;
  check_err ("{{if true}}{{$x := 1}}{{end}}{{$x}}",
             "template: output:1: undefined variable \"$x\"");
  check_err ("{{with $x := 1}}{{end}}{{$x}}", "template: output:1: undefined variable \"$x\"");
  check ("{{if $x := .Size}}{{$x}}{{else}}{{$x}}{{end}}", "1234");
}

/* ---- pipelines ---------------------------------------------------------- */

static void
test_pipelines_pass_the_last_argument (void **state)
{
  (void) state;
  check ("{{.Names | len}}", "2");
  check ("{{.Id | printf \"%s-%s\" \"x\"}}", "x-0123456789abcdef");
  check ("{{.State.Status | upper | printf \"%q\"}}", "\"RUNNING\"");
  check ("{{.Size |}}", "1234");
}

static void
test_parentheses_and_chains (void **state)
{
  (void) state;
  check ("{{len (index .Names 0)}}", "3");
  check ("{{(index .Mounts 1).Source}}", "/b");
  check ("{{(.State).Pid}}", "42");
  check ("{{printf \"%d\" (len (slice .Names 1))}}", "1");
}

/* ---- control structures ------------------------------------------------- */

static void
test_if_else_if_else (void **state)
{
  (void) state;
  check ("{{if .Running}}up{{end}}", "up");
  check ("{{if .Nothing}}a{{else if .Empty}}b{{else if .Size}}c{{else}}d{{end}}", "c");
  check ("{{if .Nothing}}a{{else if .Empty}}b{{else}}d{{end}}", "d");
  check ("{{if 0}}a{{end}}{{if \"\"}}b{{end}}{{if .Labels}}c{{end}}{{if 0.0}}d{{end}}", "c");
}

static void
test_with_sets_dot (void **state)
{
  (void) state;
  check ("{{with .State}}{{.Status}}{{end}}", "running");
  check ("{{with .Nothing}}a{{else}}b{{end}}", "b");
  check ("{{with .Nothing}}a{{else with .State}}{{.Pid}}{{end}}", "42");
}

static void
test_range_over_arrays (void **state)
{
  (void) state;
  check ("{{range .Names}}[{{.}}]{{end}}", "[web][db]");
  check ("{{range $i, $n := .Names}}{{$i}}={{$n}} {{end}}", "0=web 1=db ");
  check ("{{range $n := .Names}}{{$n}}{{end}}", "webdb");
  check ("{{range .Mounts}}{{.Source}}{{end}}", "/a/b");
  check ("{{$i := 9}}{{$e := 9}}{{range $i, $e = .Names}}{{end}}{{$i}}{{$e}}", "1db");
}

static void
test_range_over_objects_sorts_keys (void **state)
{
  (void) state;
  check ("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", "app=x;zone=b;");
  check ("{{range .Labels}}{{.}}{{end}}", "xb");
}

static void
test_range_else_for_empty_and_nil (void **state)
{
  (void) state;
  check ("{{range .Empty}}x{{else}}none{{end}}", "none");
  check ("{{range .Nothing}}x{{else}}nil{{end}}", "nil");
  check ("{{range .Nope}}x{{else}}missing{{end}}", "missing");
  check ("{{range 0}}x{{else}}zero{{end}}", "zero");
}

static void
test_range_over_integer (void **state)
{
  (void) state;
  check ("{{range 3}}{{.}}{{end}}", "012");
  check ("{{range $i := 2}}{{$i}}{{end}}", "01");
  check_err ("{{range $i, $e := 2}}{{end}}",
             "template: output:1:18: executing \"output\" at <2>: "
             "can't use 2 to iterate over more than one variable");
}

static void
test_range_over_scalar_fails (void **state)
{
  (void) state;
  check_err ("{{range .Id}}{{end}}", "template: output:1:8: executing \"output\" at "
                                     "<.Id>: range can't iterate over 0123456789abcdef");
}

static void
test_break_and_continue (void **state)
{
  (void) state;
  check ("{{range .Names}}{{if eq . \"web\"}}{{continue}}{{end}}{{.}}{{end}}", "db");
  check ("{{range .Names}}{{.}}{{break}}{{end}}", "web");
  check ("{{range .Mounts}}{{range $.Names}}{{break}}{{end}}{{.Source}}{{end}}", "/a/b");
}

static void
test_variables_in_range_body_end_each_iteration (void **state)
{
  (void) state;
  check ("{{range .Names}}{{$x := .}}{{$x}}{{end}}", "webdb");
  check ("{{$n := 0}}{{range .Names}}{{$n = len .}}{{end}}{{$n}}", "2");
}

/* ---- functions ---------------------------------------------------------- */

static void
test_and_or_not (void **state)
{
  (void) state;
  check ("{{and 1 \"a\" .Size}} {{and 1 0 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}}", "1234 0 x ");
  check ("{{not .Running}} {{not .Nothing}}", "false true");
  check ("{{.Size | and 1}} {{0 | or 5}}", "1234 5");
}

static void
test_and_or_stop_evaluating (void **state)
{
  (void) state;
  check ("{{and 0 (index .Names 99)}}", "0");
  check ("{{or 1 (index .Names 99)}}", "1");
}

static void
test_eq_ne (void **state)
{
  (void) state;
  check ("{{eq .Size 1234}} {{eq .Id \"x\"}} {{eq .State.Status \"a\" \"running\"}}",
         "true false true");
  check ("{{ne 1 2}} {{ne \"a\" \"a\"}} {{eq .Running true}} {{eq .Ratio 0.25}}",
         "true false true true");
  check ("{{eq .Nothing nil}} {{eq .Size nil}} {{eq 2 2.0}}", "true false true");
}

static void
test_eq_rejects_incomparable (void **state)
{
  (void) state;
  check_err ("{{eq 1 \"1\"}}", "template: output:1:2: executing \"output\" at <eq 1 \"1\">: "
                               "error calling eq: incompatible types for comparison");
  check_err ("{{eq .Names .Names}}", "template: output:1:2: executing \"output\" at "
                                     "<eq .Names .Names>: error calling eq: non-comparable "
                                     "type []interface {}");
  check_err ("{{eq 1}}", "template: output:1:2: executing \"output\" at <eq 1>: error "
                         "calling eq: missing argument for comparison");
}

static void
test_ordering (void **state)
{
  (void) state;
  check ("{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 2 1}}", "true true false true");
  check ("{{lt \"a\" \"b\"}} {{gt \"ab\" \"a\"}} {{lt 1 1.5}} {{ge .Ratio 0.3}}",
         "true true true false");
  check_err ("{{lt true false}}", "template: output:1:2: executing \"output\" at "
                                  "<lt true false>: error calling lt: invalid type for "
                                  "comparison");
  check_err ("{{lt 1 \"a\"}}", "template: output:1:2: executing \"output\" at <lt 1 \"a\">: "
                               "error calling lt: incompatible types for comparison");
  check_err ("{{gt nil 1}}", "template: output:1:2: executing \"output\" at <gt nil 1>: "
                             "error calling gt: invalid type for comparison");
}

static void
test_len (void **state)
{
  (void) state;
  check ("{{len .Id}} {{len .Names}} {{len .Labels}} {{len .Empty}}", "16 2 2 0");
  check_err ("{{len .Size}}", "template: output:1:2: executing \"output\" at <len .Size>: "
                              "error calling len: len of type int");
  check_err ("{{len .Nothing}}", "template: output:1:2: executing \"output\" at "
                                 "<len .Nothing>: error calling len: len of nil pointer");
}

static void
test_index (void **state)
{
  (void) state;
  check ("{{index .Names 1}} {{index .Labels \"zone\"}} {{index . \"State\" \"Pid\"}}",
         "db b 42");
  check ("{{index .Mounts 0 \"Source\"}} {{index .Id 0}} {{index .Names}}", "/a 48 [web db]");
  check ("{{index .Labels \"nope\"}}", "<no value>");
}

static void
test_index_errors (void **state)
{
  (void) state;
  check_err ("{{index .Names 2}}", "template: output:1:2: executing \"output\" at "
                                   "<index .Names 2>: error calling index: index out of "
                                   "range: 2");
  check_err ("{{index .Names -1}}", "template: output:1:2: executing \"output\" at "
                                    "<index .Names -1>: error calling index: index out of "
                                    "range: -1");
  check_err ("{{index .Names \"a\"}}", "template: output:1:2: executing \"output\" at "
                                       "<index .Names \"a\">: error calling index: cannot "
                                       "index slice/array with type string");
  check_err ("{{index .Labels 1}}", "template: output:1:2: executing \"output\" at "
                                    "<index .Labels 1>: error calling index: value has type "
                                    "int; should be string");
  check_err ("{{index .Size 1}}", "template: output:1:2: executing \"output\" at "
                                  "<index .Size 1>: error calling index: can't index item of "
                                  "type int");
  check_err ("{{index nil 1}}", "template: output:1:2: executing \"output\" at "
                                "<index nil 1>: error calling index: index of untyped nil");
}

static void
test_slice (void **state)
{
  (void) state;
  check ("{{slice .Id 0 4}} {{slice .Id 14}} {{slice .Names 1 2}} {{slice .Names}}",
         "0123 ef [db] [web db]");
  check ("{{slice .Names 0 1 2}}", "[web]");
  check_err ("{{slice .Id 3 2}}", "template: output:1:2: executing \"output\" at "
                                  "<slice .Id 3 2>: error calling slice: invalid slice "
                                  "index: 3 > 2");
  check_err ("{{slice .Id 0 1 2}}", "template: output:1:2: executing \"output\" at "
                                    "<slice .Id 0 1 2>: error calling slice: cannot 3-index "
                                    "slice a string");
  check_err ("{{slice .Names 0 3}}", "template: output:1:2: executing \"output\" at "
                                     "<slice .Names 0 3>: error calling slice: index out of "
                                     "range: 3");
}

static void
test_print_and_println (void **state)
{
  (void) state;
  check ("{{print 1 2 \"a\" \"b\" 3}}", "1 2ab3");
  check ("{{print .Names .Size}}", "[web db] 1234");
  check ("{{println 1 \"a\"}}", "1 a\n");
  check ("{{print}}|{{println}}", "|\n");
}

static void
test_printf_verbs (void **state)
{
  (void) state;
  check ("{{printf \"%s|%v|%q|%x|%X\" \"ab\" \"ab\" \"a\\\"b\" \"hi\" \"hi\"}}",
         "ab|ab|\"a\\\"b\"|6869|6869");
  check ("{{printf \"%d|%v|%x|%X|%o|%O|%b|%c|%U|%q\" 42 42 255 255 8 8 5 65 65 65}}",
         "42|42|ff|FF|10|0o10|101|A|U+0041|'A'");
  check ("{{printf \"%f|%.2f|%e|%g|%G|%v\" 1.5 3.14159 1234.5678 0.00001 1e-7 .Ratio}}",
         "1.500000|3.14|1.234568e+03|1e-05|1E-07|0.25");
  check ("{{printf \"%t|%v|%T|%T|%T\" true .Names .Size .Ratio .Labels}}",
         "true|[web db]|int|float64|map[string]interface {}");
  check ("{{printf \"%%|%v|%s\" .Nothing .Names}}", "%|<nil>|[web db]");
}

static void
test_printf_width_precision_flags (void **state)
{
  (void) state;
  check ("{{printf \"[%5s][%-5s][%.2s][%5.1s]\" \"ab\" \"ab\" \"abc\" \"xyz\"}}",
         "[   ab][ab   ][ab][    x]");
  check ("{{printf \"[%5d][%-5d][%05d][%+d][% d][%.3d]\" 42 42 -42 5 5 7}}",
         "[   42][42   ][-0042][+5][ 5][007]");
  check ("{{printf \"[%8.3f][%-8.2f][%08.3f][%+.1e]\" 3.14159 2.5 -3.14159 12345.678}}",
         "[   3.142][2.50    ][-003.142][+1.2e+04]");
  check ("{{printf \"[%#x][%#o][%#q][%+q]\" 255 8 \"ab\" \"\xc3\xa9\"}}",
         "[0xff][010][`ab`][\"\\u00e9\"]");
  check ("{{printf \"[%*d][%-*d][%.*f]\" 4 7 3 8 1 2.25}}", "[   7][8  ][2.2]");
  check ("{{printf \"%5s|%-4s|\" \"\xc3\xa9\" \"\xc3\xa9\"}}", "    \xc3\xa9|\xc3\xa9   |");
}

static void
test_printf_argument_indexes (void **state)
{
  (void) state;
  check ("{{printf \"%[2]d %[1]d\" 1 2}}", "2 1");
  check ("{{printf \"%[3]d\" 1}}", "%!d(BADINDEX)");
  check ("{{printf \"%[2]*[1]d|\" 7 3}}", "  7|");
}

static void
test_printf_complaints (void **state)
{
  (void) state;
  check ("{{printf \"%s\" 5}}", "%!s(int=5)");
  check ("{{printf \"%d\" \"x\"}}", "%!d(string=x)");
  check ("{{printf \"%d %d\"}}", "%!d(MISSING) %!d(MISSING)");
  check ("{{printf \"%d\" 1 2 \"x\"}}", "1%!(EXTRA int=2, string=x)");
  check ("{{printf \"%\"}}", "%!(NOVERB)");
  check ("{{printf \"%z\" 1}}", "%!z(int=1)");
  check ("{{printf \"%t\" nil}}", "%!t(<nil>)");
  check ("{{printf \"%d\" .Names}}", "[%!d(string=web) %!d(string=db)]");
  check ("{{printf \"%*d\" \"x\" 1}}", "%!(BADWIDTH)1");
  check ("{{printf \"%99999999d\" 1}}", "%!(NOVERB)%!(EXTRA int=1)");
}

static void
test_printf_prints_integral_floats_as_integers (void **state)
{
  (void) state;
  check ("{{printf \"%d %f %v\" .Big .Size .Big}}", "1000000 1234.000000 1000000");
  check ("{{printf \"%d\" .Ratio}}", "%!d(float64=0.25)");
}

static void
test_printf_needs_a_string_format (void **state)
{
  (void) state;
  check_err ("{{printf 1}}", "template: output:1:2: executing \"output\" at <printf 1>: "
                             "error calling printf: wrong type for value; expected string; "
                             "got int");
}

static void
test_html_js_urlquery (void **state)
{
  (void) state;
  check ("{{html \"<a href='x'>&\\\"\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;&#34;");
  check ("{{js \"it's \\\"<b>\\\" & =\"}}", "it\\'s \\\"\\u003Cb\\u003E\\\" \\u0026 \\u003D");
  check ("{{urlquery \"a b&c=d/é\"}}", "a+b%26c%3Dd%2F%C3%A9");
  check ("{{html 1 \"<\"}}", "1&lt;");
}

static void
test_json (void **state)
{
  (void) state;
  check ("{{json .Names}}|{{json .Labels}}|{{json .Nothing}}|{{json .Size}}",
         "[\"web\",\"db\"]|{\"zone\":\"b\",\"app\":\"x\"}|null|1234");
  check ("{{json \"<a&b>/\"}}", "\"<a&b>/\"");
  check ("{{json .State}}", "{\"Status\":\"running\",\"Pid\":42}");
}

static void
test_join_and_split (void **state)
{
  (void) state;
  check ("{{join .Names \", \"}}|{{join .Empty \",\"}}|{{join .Mixed \"-\"}}",
         "web, db||1-<nil>-s");
  check ("{{split \"a,b,,c\" \",\"}}|{{len (split \"\" \",\")}}|{{split \"h\xc3\xa9\" \"\"}}",
         "[a b  c]|1|[h \xc3\xa9]");
  check ("{{range split \"x:y\" \":\"}}<{{.}}>{{end}}", "<x><y>");
  check_err ("{{join .Id \",\"}}", "template: output:1:2: executing \"output\" at "
                                   "<join .Id \",\">: error calling join: wrong type for "
                                   "value; expected []string; got string");
}

static void
test_case_functions (void **state)
{
  (void) state;
  check ("{{upper .State.Status}} {{lower \"MiXeD\"}} {{title \"hello wide_world-x\"}}",
         "RUNNING mixed Hello Wide_world-X");
  check_err ("{{upper .Size}}", "template: output:1:2: executing \"output\" at "
                                "<upper .Size>: error calling upper: wrong type for value; "
                                "expected string; got int");
  check_err ("{{lower nil}}", "template: output:1:2: executing \"output\" at <lower nil>: "
                              "error calling lower: invalid value; expected string");
}

static void
test_truncate_and_pad (void **state)
{
  (void) state;
  check ("{{truncate .Id 12}}|{{truncate \"ab\" 5}}|{{truncate \"ab\" 0}}", "0123456789ab|ab|");
  check ("[{{pad \"x\" 2 3}}][{{pad \"\" 2 3}}]", "[  x   ][]");
  check_err ("{{truncate .Id \"x\"}}", "template: output:1:2: executing \"output\" at "
                                       "<truncate .Id \"x\">: error calling truncate: wrong "
                                       "type for value; expected int; got string");
  check_err ("{{pad \"x\" -1 0}}", "template: output:1:2: executing \"output\" at "
                                   "<pad \"x\" -1 0>: error calling pad: negative repeat "
                                   "count");
}

static void
test_header_functions_keep_titles (void **state)
{
  const struct gotmpl_opts o = { .is_header = true };
  const char *titles = "{\"Names\": \"NAMES\", \"ID\": \"CONTAINER ID\"}";
  (void) state;
  check_opts ("{{json .Names}}|{{join .Names \",\"}}|{{truncate .ID 3}}|{{lower .ID}}",
              titles, &o, true, "NAMES|NAMES|CONTAINER ID|CONTAINER ID");
  check_opts ("{{pad .Names 1 1}}|{{printf \"%8s\" .Names}}", titles, &o, true,
              " NAMES |   NAMES");
}

static void
test_wrong_argument_counts (void **state)
{
  (void) state;
  check_err ("{{not 1 2}}", "template: output:1:2: executing \"output\" at <not>: wrong "
                            "number of args for not: want 1 got 2");
  check_err ("{{and}}", "template: output:1:2: executing \"output\" at <and>: wrong number "
                        "of args for and: want at least 1 got 0");
  check_err ("{{1 | len 2}}", "template: output:1:6: executing \"output\" at <len>: wrong "
                              "number of args for len: want 1 got 2");
}

/* ---- execution errors ----------------------------------------------------- */

static void
test_exec_errors_name_the_line_and_column (void **state)
{
  (void) state;
  check_opts ("line one\n  {{len .X}}", "{\"X\": 1}", NULL, false,
              "template: output:2:4: executing \"output\" at <len .X>: error calling len: "
              "len of type int");
}

static void
test_exec_error_context_is_cut_at_twenty_bytes (void **state)
{
  (void) state;
  check_err ("{{index .Names 0 1 2 3 4 5}}", "template: output:1:2: executing \"output\" at "
                                             "<index .Names 0 1 2 3...>: error calling index: "
                                             "can't index item of type int");
}

static void
test_non_functions_take_no_arguments (void **state)
{
  (void) state;
  check_err ("{{1 2}}", "template: output:1:2: executing \"output\" at <1>: can't give "
                        "argument to non-function 1");
  check_err ("{{$ 1}}", "template: output:1:2: executing \"output\" at <$>: can't give "
                        "argument to non-function $");
  check_err ("{{nil}}", "template: output:1:2: executing \"output\" at <nil>: nil is not a "
                        "command");
}

static void
test_output_before_an_error_is_kept (void **state)
{
  struct error *err = NULL;
  struct buf out = BUF_INIT;
  struct gotmpl *t = gotmpl_parse ("output", "ok {{len 1}} never", &err);
  (void) state;
  assert_non_null (t);
  buf_append_str (&out, "prefix ");
  assert_int_equal (gotmpl_exec (t, NULL, NULL, &out, &err), -1);
  assert_string_equal (out.data, "prefix ok ");
  err_release (&err);
  buf_free (&out);
  gotmpl_free (t);
}

static void
test_template_runs_again_with_other_data (void **state)
{
  struct error *err = NULL;
  struct gotmpl *t = gotmpl_parse ("output", "{{.A}}{{$x := .A}}{{$x}};", &err);
  struct buf out = BUF_INIT;
  (void) state;
  assert_non_null (t);
  for (int i = 0; i < 3; i++)
    {
      json_object *d = json_object_new_object ();
      json_object_object_add (d, "A", json_object_new_int (i));
      assert_int_equal (gotmpl_exec (t, d, NULL, &out, &err), 0);
      json_object_put (d);
    }
  assert_string_equal (out.data, "00;11;22;");
  buf_free (&out);
  gotmpl_free (t);
}

/* ---- parse errors ------------------------------------------------------- */

static void
test_parse_errors (void **state)
{
  static const char *const cases[][2] = {
    { "{{.Id }", "template: output:1: unexpected \"}\" in operand" },
    { "{{.Id}", "template: output:1: bad character U+007D '}'" },
    { "{{.Id", "template: output:1: unclosed action" },
    { "{{", "template: output:1: unclosed action" },
    { "{{foo}}", "template: output:1: function \"foo\" not defined" },
    { "{{$x}}", "template: output:1: undefined variable \"$x\"" },
    { "{{end}}", "template: output:1: unexpected {{end}}" },
    { "{{else}}", "template: output:1: unexpected {{else}}" },
    { "{{if .X}}", "template: output:1: unexpected EOF" },
    { "{{if}}{{end}}", "template: output:1: missing value for if" },
    { "{{range}}{{end}}", "template: output:1: missing value for range" },
    { "{{}}", "template: output:1: missing value for command" },
    { "{{(}}", "template: output:1: unclosed left paren" },
    { "{{)}}", "template: output:1: unexpected right paren" },
    { "{{| .X}}", "template: output:1: unexpected \"|\" in command" },
    { "{{\"a\" | \"b\"}}", "template: output:1: non executable command in pipeline stage 2" },
    { "{{\"abc}}", "template: output:1: unterminated quoted string" },
    { "{{`abc}}", "template: output:1: unterminated raw quoted string" },
    { "{{'ab'}}", "template: output:1: malformed character constant: 'ab'" },
    { "{{'a}}", "template: output:1: unterminated character constant" },
    { "{{\"\\q\"}}", "template: output:1: invalid syntax" },
    { "{{1x}}", "template: output:1: bad number syntax: \"1x\"" },
    { "{{0x}}", "template: output:1: illegal number syntax: \"0x\"" },
    { "{{1__0}}", "template: output:1: illegal number syntax: \"1__0\"" },
    { "{{\"a\".X}}", "template: output:1: unexpected . after term \"\\\"a\\\"\"" },
    { "{{.X.}}", "template: output:1: unexpected \".\" in operand" },
    { "{{a:b}}", "template: output:1: function \"a\" not defined" },
    { "{{.X :}}", "template: output:1: expected :=" },
    { "{{\x01}}", "template: output:1: unrecognized character in action: U+0001" },
    { "{{/* x */ }}", "template: output:1: comment ends before closing delimiter" },
    { "{{/* x", "template: output:1: unclosed comment" },
    { "{{break}}", "template: output:1: {{break}} outside {{range}}" },
    { "{{continue}}", "template: output:1: {{continue}} outside {{range}}" },
    { "{{range .X}}{{break 1}}{{end}}", "template: output:1: unexpected \"1\" in {{break}}" },
    { "{{if 1}}{{else}}{{else}}{{end}}", "template: output:1: expected end; found {{else}}" },
    { "{{end x}}", "template: output:1: unexpected \"x\" in end" },
    { "{{range $a, $b, $c := .X}}{{end}}", "template: output:1: too many declarations in range" },
    { "{{$a, $b := 1}}", "template: output:1: too many declarations in command" },
    { "{{range $a, 1}}{{end}}", "template: output:1: range can only initialize variables" },
    { "{{template \"x\"}}", "template: output:1: {{template}} is not supported" },
    { "{{define \"x\"}}{{end}}", "template: output:1: {{define}} is not supported" },
    { "a\nb\n{{.X", "template: output:3: unclosed action" },
    { "{{.X\n\n", "template: output:3: unclosed action started at output:1" },
    { "{{\"abcdefghijklmnop\" \"x\"x}}", "template: output:1: unexpected \"x\" in operand" },
    { "{{1\"abcdefghijklmnop\"}}", "template: output:1: unexpected \"\\\"abcdefghi\"... in "
                                   "operand" },
    { "{{.X \"abcdefghijklmnop\"\"y\"}}", "template: output:1: unexpected \"\\\"y\\\"\" in "
                                            "operand" },
    { "{{\"abcdefghijklmnop\"\"y\"}}", "template: output:1: unexpected \"\\\"y\\\"\" in "
                                         "operand" },
  };
  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_err (cases[i][0], cases[i][1]);
}

static void
test_long_token_is_cut_in_messages (void **state)
{
  (void) state;
  check_err ("{{.X | \"abcdefghijklmnop\"}}",
             "template: output:1: non executable command in pipeline stage 2");
  check_err ("{{if 1}}{{else \"abcdefghijklmnop\"}}{{end}}",
             "template: output:1: unexpected \"\\\"abcdefghi\"... in else");
}

/* ---- limits and hostile input ------------------------------------------- */

static void
test_too_long_template_is_refused (void **state)
{
  char *text = xmalloc (GOTMPL_MAX_TEXT + 2);
  struct error *err = NULL;
  (void) state;
  memset (text, 'a', GOTMPL_MAX_TEXT + 1);
  text[GOTMPL_MAX_TEXT + 1] = '\0';
  assert_null (gotmpl_parse ("output", text, &err));
  assert_string_equal (err->msg, "template: output: template text too long (1048577 bytes, at "
                                 "most 1048576)");
  err_release (&err);
  free (text);
}

static void
test_deep_nesting_is_refused (void **state)
{
  struct buf b = BUF_INIT;
  (void) state;
  for (int i = 0; i <= GOTMPL_MAX_DEPTH; i++)
    buf_append_str (&b, "{{if 1}}");
  check_err (b.data, "template: output:1: max expression depth exceeded");
  buf_truncate (&b, 0);
  buf_append_str (&b, "{{");
  for (int i = 0; i <= GOTMPL_MAX_DEPTH; i++)
    buf_append_str (&b, "(");
  check_err (b.data, "template: output:1: max expression depth exceeded");
  buf_free (&b);
}

static void
test_nesting_within_the_limit_works (void **state)
{
  struct buf b = BUF_INIT;
  (void) state;
  for (int i = 0; i < GOTMPL_MAX_DEPTH - 1; i++)
    buf_append_str (&b, "{{if 1}}");
  buf_append_str (&b, "x");
  for (int i = 0; i < GOTMPL_MAX_DEPTH - 1; i++)
    buf_append_str (&b, "{{end}}");
  check (b.data, "x");
  buf_free (&b);
}

static void
test_output_is_bounded (void **state)
{
  const struct gotmpl_opts o = { .max_output = 100 };
  (void) state;
  check_opts ("{{range 1000}}x{{end}}", NULL, &o, false,
              "template: output:1:14: executing \"output\" at <x>: output longer than 100 "
              "bytes");
  check_opts ("{{printf \"%200d\" 1}}", NULL, &o, false,
              "template: output:1:2: executing \"output\" at <printf \"%200d\" 1>: error "
              "calling printf: result longer than 100 bytes");
  check_opts ("{{pad \"x\" 1000000000 0}}", NULL, &o, false,
              "template: output:1:2: executing \"output\" at <pad \"x\" 1000000000 0>: error "
              "calling pad: result longer than 100 bytes");
  check_opts ("{{range 99}}x{{end}}", NULL, &o, true,
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "xxxxxxxxxxxxxxxxxxx");
}

static void
test_doubling_strings_are_bounded (void **state)
{
  const struct gotmpl_opts o = { .max_output = 1 << 16 };
  bool is_ok;
  char *got = run_opts ("{{$x := \"ab\"}}{{range 64}}{{$x = printf \"%s%s\" $x $x}}{{end}}",
                        NULL, &o, &is_ok);
  (void) state;
  assert_false (is_ok);
  assert_non_null (strstr (got, "error calling printf: result longer than 65536 bytes"));
  free (got);
}

static void
test_endless_work_is_bounded (void **state)
{
  bool is_ok;
  char *got = run_opts ("{{range 100000}}{{range 100000}}{{end}}{{end}}", NULL, NULL, &is_ok);
  (void) state;
  assert_false (is_ok);
  assert_non_null (strstr (got, "template takes more than 5000000 steps"));
  free (got);
}

/* A small deterministic generator, so a failure reproduces. */
static uint32_t
next_random (uint32_t *seed)
{
  *seed = *seed * 1103515245u + 12345u;
  return *seed >> 8;
}

static void
run_quietly (const char *text, json_object *data)
{
  const struct gotmpl_opts o = { .max_output = 1 << 14 };
  struct error *err = NULL;
  struct buf out = BUF_INIT;
  struct gotmpl *t = gotmpl_parse ("fuzz", text, &err);

  if (t == NULL)
    {
      assert_non_null (err);
      assert_true (strncmp (err->msg, "template: fuzz", 14) == 0);
      err_release (&err);
      return;
    }
  if (gotmpl_exec (t, data, &o, &out, &err) < 0)
    {
      assert_true (strncmp (err->msg, "template: fuzz", 14) == 0);
      err_release (&err);
    }
  buf_free (&out);
  gotmpl_free (t);
}

static void
test_random_input_never_crashes (void **state)
{
  static const char alphabet[] = "{{}}{{-  -}}/**/()|$.,:=\"'`\\xabcXYZ019_-+ \n\tifrangewithend"
                                 "elsebreakcontinuenilprintfindexlenjsonslice%dsvqT";
  json_object *data = json_tokener_parse (DATA);
  uint32_t seed = 12345;
  char text[64];
  (void) state;
  for (int round = 0; round < 20000; round++)
    {
      size_t len = next_random (&seed) % (sizeof text - 1);
      for (size_t i = 0; i < len; i++)
        {
          char c = alphabet[next_random (&seed) % (sizeof alphabet - 1)];
          text[i] = c ? c : 'x';
        }
      text[len] = '\0';
      run_quietly (text, data);
    }
  json_object_put (data);
}

static void
test_mutated_templates_never_crash (void **state)
{
  static const char *const seeds[] = {
    "{{range $i, $e := .Names}}{{if eq $i 0}}{{printf \"%-5s|%q\" $e $e}}{{else}}{{$e}}{{end}}{{end}}",
    "{{with .State}}{{.Status | upper}} {{index $.Labels \"app\"}}{{end}}{{/* c */}}",
    "{{- $x := 1 -}}{{ $x = len (slice .Names 1) }}{{ json . }}{{ and .Running (not .Nothing) }}",
    "{{range .Mounts}}{{.Source}}{{break}}{{end}}{{split \"a,b\" \",\"}}{{pad .Id 1 2}}",
  };
  json_object *data = json_tokener_parse (DATA);
  uint32_t seed = 777;
  (void) state;
  for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++)
    for (int round = 0; round < 3000; round++)
      {
        char *text = xstrdup (seeds[s]);
        size_t len = strlen (text);
        for (int k = 0; k < 1 + (int) (next_random (&seed) % 4); k++)
          {
            size_t at = next_random (&seed) % len;
            switch (next_random (&seed) % 3)
              {
              case 0: /* overwrite a byte */
                text[at] = (char) (1 + next_random (&seed) % 255);
                break;
              case 1: /* cut the tail */
                text[at] = '\0';
                len = at > 0 ? at : 1;
                break;
              default: /* swap two bytes */
                {
                  size_t other = next_random (&seed) % len;
                  char c = text[at];
                  text[at] = text[other];
                  text[other] = c;
                }
              }
            if (text[0] == '\0')
              break;
          }
        run_quietly (text, data);
        free (text);
      }
  json_object_put (data);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_text_is_copied),
    cmocka_unit_test (test_comments_print_nothing),
    cmocka_unit_test (test_trim_markers_remove_adjacent_space),
    cmocka_unit_test (test_field_lookup),
    cmocka_unit_test (test_field_lookup_ignores_case_after_exact_match),
    cmocka_unit_test (test_missing_field_prints_no_value_by_default),
    cmocka_unit_test (test_missing_field_errors_with_missingkey_error),
    cmocka_unit_test (test_missing_field_errors_only_at_top_with_error_top),
    cmocka_unit_test (test_field_of_a_non_object_fails),
    cmocka_unit_test (test_field_with_arguments_fails),
    cmocka_unit_test (test_dot_and_dollar),
    cmocka_unit_test (test_prints_scalars_as_go),
    cmocka_unit_test (test_prints_arrays_and_maps_as_go),
    cmocka_unit_test (test_print_value_api),
    cmocka_unit_test (test_string_literals),
    cmocka_unit_test (test_number_literals),
    cmocka_unit_test (test_bool_and_nil_literals),
    cmocka_unit_test (test_variables_declare_and_assign),
    cmocka_unit_test (test_variable_scope_ends_with_its_control),
    cmocka_unit_test (test_pipelines_pass_the_last_argument),
    cmocka_unit_test (test_parentheses_and_chains),
    cmocka_unit_test (test_if_else_if_else),
    cmocka_unit_test (test_with_sets_dot),
    cmocka_unit_test (test_range_over_arrays),
    cmocka_unit_test (test_range_over_objects_sorts_keys),
    cmocka_unit_test (test_range_else_for_empty_and_nil),
    cmocka_unit_test (test_range_over_integer),
    cmocka_unit_test (test_range_over_scalar_fails),
    cmocka_unit_test (test_break_and_continue),
    cmocka_unit_test (test_variables_in_range_body_end_each_iteration),
    cmocka_unit_test (test_and_or_not),
    cmocka_unit_test (test_and_or_stop_evaluating),
    cmocka_unit_test (test_eq_ne),
    cmocka_unit_test (test_eq_rejects_incomparable),
    cmocka_unit_test (test_ordering),
    cmocka_unit_test (test_len),
    cmocka_unit_test (test_index),
    cmocka_unit_test (test_index_errors),
    cmocka_unit_test (test_slice),
    cmocka_unit_test (test_print_and_println),
    cmocka_unit_test (test_printf_verbs),
    cmocka_unit_test (test_printf_width_precision_flags),
    cmocka_unit_test (test_printf_argument_indexes),
    cmocka_unit_test (test_printf_complaints),
    cmocka_unit_test (test_printf_prints_integral_floats_as_integers),
    cmocka_unit_test (test_printf_needs_a_string_format),
    cmocka_unit_test (test_html_js_urlquery),
    cmocka_unit_test (test_json),
    cmocka_unit_test (test_join_and_split),
    cmocka_unit_test (test_case_functions),
    cmocka_unit_test (test_truncate_and_pad),
    cmocka_unit_test (test_header_functions_keep_titles),
    cmocka_unit_test (test_wrong_argument_counts),
    cmocka_unit_test (test_exec_errors_name_the_line_and_column),
    cmocka_unit_test (test_exec_error_context_is_cut_at_twenty_bytes),
    cmocka_unit_test (test_non_functions_take_no_arguments),
    cmocka_unit_test (test_output_before_an_error_is_kept),
    cmocka_unit_test (test_template_runs_again_with_other_data),
    cmocka_unit_test (test_parse_errors),
    cmocka_unit_test (test_long_token_is_cut_in_messages),
    cmocka_unit_test (test_too_long_template_is_refused),
    cmocka_unit_test (test_deep_nesting_is_refused),
    cmocka_unit_test (test_nesting_within_the_limit_works),
    cmocka_unit_test (test_output_is_bounded),
    cmocka_unit_test (test_doubling_strings_are_bounded),
    cmocka_unit_test (test_endless_work_is_bounded),
    cmocka_unit_test (test_random_input_never_crashes),
    cmocka_unit_test (test_mutated_templates_never_crash),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
