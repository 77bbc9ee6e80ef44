/* Unit tests for src/dockerfile_expand.c: docker's word processing (cases
 * from BuildKit's shell/lex_test.go and envVarTest), the raw mode for
 * JSON elements and here-document bodies, and malformed words. */
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
#include "src/dockerfile.h"

/* PWD=/home, EMPTY set but empty, X=x, SPACED="a b"; anything else unset. */
static const char *
env_lookup (const char *name, void *data)
{
  static const char *const env[][2] = {
    { "PWD", "/home" }, { "EMPTY", "" }, { "X", "x" }, { "SPACED", "a b" }, { "1", "one" },
  };

  (void)data;
  for (size_t i = 0; i < sizeof (env) / sizeof (env[0]); i++)
    if (strcmp (env[i][0], name) == 0)
      return env[i][1];
  return NULL;
}

static void
assert_expands (const char *word, char escape, unsigned int flags, const char *want)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *got = NULL;

  if (df_expand (word, escape, flags, env_lookup, NULL, &got, &err) < 0)
    fail_msg ("\"%s\" rejected: %s", word, err->msg);
  if (strcmp (got, want) != 0)
    fail_msg ("\"%s\": got \"%s\", want \"%s\"", word, got, want);
}

static void
assert_fails (const char *word, unsigned int flags, const char *want)
{
  cleanup_error struct error *err = NULL;
  char *got = NULL;

  if (df_expand (word, '\\', flags, env_lookup, NULL, &got, &err) == 0)
    {
      free (got);
      fail_msg ("\"%s\" accepted", word);
    }
  assert_null (got);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("\"%s\": got \"%s\", want \"%s\"", word, err->msg, want);
}

static void
test_plain_and_variables (void **state)
{
  (void)state;
  assert_expands ("", '\\', 0, "");
  assert_expands ("hello world", '\\', 0, "hello world");
  assert_expands ("$PWD", '\\', 0, "/home");
  assert_expands ("${PWD}", '\\', 0, "/home");
  assert_expands ("a$PWD/b", '\\', 0, "a/home/b");
  assert_expands ("${PWD}x", '\\', 0, "/homex");
  assert_expands ("$PWDx", '\\', 0, "");
  assert_expands ("$UNSET", '\\', 0, "");
  assert_expands ("${UNSET}", '\\', 0, "");
  assert_expands ("$SPACED", '\\', 0, "a b");
  assert_expands ("$1", '\\', 0, "one");
  assert_expands ("$", '\\', 0, "$");
  assert_expands ("a$", '\\', 0, "a$");
  assert_expands ("$.x", '\\', 0, "$.x");
  assert_expands ("$ x", '\\', 0, "$ x");
}

static void
test_modifiers (void **state)
{
  (void)state;
  assert_expands ("${UNSET:-def}", '\\', 0, "def");
  assert_expands ("${EMPTY:-def}", '\\', 0, "def");
  assert_expands ("${X:-def}", '\\', 0, "x");
  assert_expands ("${UNSET-def}", '\\', 0, "def");
  assert_expands ("${EMPTY-def}", '\\', 0, "");
  assert_expands ("${X-def}", '\\', 0, "x");
  assert_expands ("${UNSET:+alt}", '\\', 0, "");
  assert_expands ("${EMPTY:+alt}", '\\', 0, "");
  assert_expands ("${X:+alt}", '\\', 0, "alt");
  assert_expands ("${UNSET+alt}", '\\', 0, "");
  assert_expands ("${EMPTY+alt}", '\\', 0, "alt");
  assert_expands ("${X+alt}", '\\', 0, "alt");
  assert_expands ("${UNSET:-}", '\\', 0, "");
  assert_expands ("${UNSET:-a b c}", '\\', 0, "a b c");
}

static void
test_nested_default (void **state)
{
  (void)state;
  assert_expands ("${UNSET:-$PWD}", '\\', 0, "/home");
  assert_expands ("${UNSET:-${X}y}", '\\', 0, "xy");
  assert_expands ("${UNSET:-${ALSO:-${X:+deep}}}", '\\', 0, "deep");
  assert_expands ("${UNSET:-'quoted }'}", '\\', 0, "quoted }");
  assert_expands ("${UNSET:-\"$X\"}", '\\', 0, "x");
  assert_expands ("${UNSET:-a\\}b}", '\\', 0, "a}b");
}

static void
test_quotes (void **state)
{
  (void)state;
  assert_expands ("'single $X'", '\\', 0, "single $X");
  assert_expands ("\"double $X\"", '\\', 0, "double x");
  assert_expands ("a'b'c\"d\"e", '\\', 0, "abcde");
  assert_expands ("\"it's\"", '\\', 0, "it's");
  assert_expands ("'say \"hi\"'", '\\', 0, "say \"hi\"");
  assert_expands ("\"\"", '\\', 0, "");
  assert_expands ("''", '\\', 0, "");
  assert_expands ("'\\n'", '\\', 0, "\\n");
}

static void
test_escapes (void **state)
{
  (void)state;
  assert_expands ("\\$X", '\\', 0, "$X");
  assert_expands ("a\\nb", '\\', 0, "anb");
  assert_expands ("\\\\", '\\', 0, "\\");
  assert_expands ("\\'x", '\\', 0, "'x");
  assert_expands ("trailing\\", '\\', 0, "trailing");
  assert_expands ("\"a\\nb\"", '\\', 0, "a\\nb");
  assert_expands ("\"a\\\"b\"", '\\', 0, "a\"b");
  assert_expands ("\"\\$X\"", '\\', 0, "$X");
  assert_expands ("\"\\\\\"", '\\', 0, "\\");
  /* With escape=` the backslash is an ordinary character. */
  assert_expands ("`$X", '`', 0, "$X");
  assert_expands ("\\$X", '`', 0, "\\x");
  assert_expands ("C:\\path", '`', 0, "C:\\path");
  assert_expands ("\"a`\"b\"", '`', 0, "a\"b");
}

static void
test_no_quotes_mode (void **state)
{
  (void)state;
  assert_expands ("'$X'", '\\', DF_EXPAND_NO_QUOTES, "'x'");
  assert_expands ("\"$X\"", '\\', DF_EXPAND_NO_QUOTES, "\"x\"");
  assert_expands ("it's $X", '\\', DF_EXPAND_NO_QUOTES, "it's x");
  assert_expands ("\\$X", '\\', DF_EXPAND_NO_QUOTES, "\\$X");
  assert_expands ("printf 'a\\n'", '\\', DF_EXPAND_NO_QUOTES, "printf 'a\\n'");
  assert_expands ("${UNSET:-\"d\"}", '\\', DF_EXPAND_NO_QUOTES, "\"d\"");
  assert_expands ("line1\nline2 $X\n", '\\', DF_EXPAND_NO_QUOTES, "line1\nline2 x\n");
}

static void
test_no_lookup_function (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *got = NULL;

  (void)state;
  assert_int_equal (df_expand ("a$X${Y:-d}", '\\', 0, NULL, NULL, &got, &err), 0);
  assert_string_equal (got, "ad");
}

static void
test_errors (void **state)
{
  (void)state;
  assert_fails ("'open", 0, "unterminated single quote");
  assert_fails ("\"open", 0, "unterminated double quote");
  assert_fails ("\"open\\", 0, "unterminated double quote");
  assert_fails ("${", 0, "missing '}'");
  assert_fails ("${X", 0, "missing '}'");
  assert_fails ("${X:", 0, "missing '}'");
  assert_fails ("${X:-abc", 0, "missing '}'");
  assert_fails ("${X:-${Y}", 0, "missing '}'");
  assert_fails ("${}", 0, "bad substitution");
  assert_fails ("${:x}", 0, "bad substitution");
  assert_fails ("${{x}", 0, "bad substitution");
  assert_fails ("${.}", 0, "bad substitution");
  assert_fails ("${X Y}", 0, "bad substitution");
  assert_fails ("${X:?msg}", 0, "unsupported modifier (:?) in substitution");
  assert_fails ("${X?msg}", 0, "unsupported modifier (?) in substitution");
  assert_fails ("${X#pre}", 0, "unsupported modifier (#) in substitution");
  assert_fails ("${X%suf}", 0, "unsupported modifier (%) in substitution");
  assert_fails ("${X/a/b}", 0, "unsupported modifier (/) in substitution");
  assert_fails ("${X:=v}", 0, "unsupported modifier (:=) in substitution");
  assert_fails ("${X:0:1}", 0, "unsupported modifier (:0) in substitution");
  assert_fails ("${X:-'open}", 0, "unterminated single quote");
  /* The error quotes the word. */
  assert_fails ("pre ${X", 0, "\"pre ${X\"");
  /* The quoted word is sanitised. */
  assert_fails ("a\n\"${", 0, "\"a??${\": missing '}'");
  /* Quotes are literal in raw mode, braces are not. */
  assert_fails ("'${X", DF_EXPAND_NO_QUOTES, "missing '}'");
  assert_fails ("${X'}'", DF_EXPAND_NO_QUOTES, "bad substitution");
}

static void
test_deep_nesting_is_bounded (void **state)
{
  size_t depth = 100000;
  char *word = xmalloc (depth * 10 + 1);
  char *w = word;
  cleanup_error struct error *err = NULL;
  char *got = NULL;

  (void)state;
  for (size_t i = 0; i < depth; i++)
    w = stpcpy (w, "${A:-");
  for (size_t i = 0; i < depth; i++)
    *w++ = '}';
  *w = '\0';
  assert_true (df_expand (word, '\\', 0, env_lookup, NULL, &got, &err) < 0);
  assert_non_null (strstr (err->msg, "nested too deeply"));
  /* The message quotes a bounded prefix only. */
  assert_true (strlen (err->msg) < 400);
  free (word);
}

static void
test_huge_word (void **state)
{
  size_t n = 1 << 20;
  char *word = xmalloc (n * 3 + 1);
  cleanup_error struct error *err = NULL;
  cleanup_free char *got = NULL;

  (void)state;
  for (size_t i = 0; i < n; i++)
    memcpy (word + 3 * i, "$X ", 3);
  word[n * 3] = '\0';
  assert_int_equal (df_expand (word, '\\', 0, env_lookup, NULL, &got, &err), 0);
  assert_int_equal (strlen (got), n * 2);
  free (word);
}

/* Random bytes: never a crash, and either a result or an error. */
static void
test_random_garbage (void **state)
{
  static const char alphabet[] = "${}:-+'\"\\`?#%/ aX1\n";
  unsigned int seed = 12345;

  (void)state;
  for (int round = 0; round < 20000; round++)
    {
      char word[40];
      size_t len = (size_t)(rand_r (&seed) % (sizeof (word) - 1));
      cleanup_error struct error *err = NULL;
      char *got = NULL;
      int ret;

      for (size_t i = 0; i < len; i++)
        word[i] = alphabet[rand_r (&seed) % (sizeof (alphabet) - 1)];
      word[len] = '\0';
      ret = df_expand (word, (round & 1) ? '`' : '\\', (round & 2) ? DF_EXPAND_NO_QUOTES : 0,
                       env_lookup, NULL, &got, &err);
      if (ret == 0)
        assert_non_null (got);
      else
        assert_non_null (err);
      free (got);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plain_and_variables),
    cmocka_unit_test (test_modifiers),
    cmocka_unit_test (test_nested_default),
    cmocka_unit_test (test_quotes),
    cmocka_unit_test (test_escapes),
    cmocka_unit_test (test_no_quotes_mode),
    cmocka_unit_test (test_no_lookup_function),
    cmocka_unit_test (test_errors),
    cmocka_unit_test (test_deep_nesting_is_bounded),
    cmocka_unit_test (test_huge_word),
    cmocka_unit_test (test_random_garbage),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
