/* Unit tests for src/build_ignore.c: docker's .dockerignore semantics
 * (filepath.Match, "**", cleaning, "!" exceptions where the last match
 * wins, excluded directories), comments and blank lines, which file is
 * loaded, and malformed patterns. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/fs.h"
#include "libutil/mem.h"
#include "src/build_ignore.h"

static struct build_ignore *
parse (const char *text)
{
  struct error *err = NULL;
  struct build_ignore *ign = build_ignore_parse (".dockerignore", text, strlen (text), &err);

  assert_null (err);
  assert_non_null (ign);
  return ign;
}

static bool
excluded (const char *text, const char *path)
{
  struct build_ignore *ign = parse (text);
  bool r = build_ignore_match (ign, path, false);

  build_ignore_free (ign);
  return r;
}

static void
test_fnmatch_basics (void **state)
{
  (void) state;
  assert_int_equal (build_ignore_fnmatch ("*.txt", "a.txt"), 1);
  assert_int_equal (build_ignore_fnmatch ("*.txt", "dir/a.txt"), 0); /* "*" stops at "/" */
  assert_int_equal (build_ignore_fnmatch ("a?c", "abc"), 1);
  assert_int_equal (build_ignore_fnmatch ("a?c", "a/c"), 0);
  assert_int_equal (build_ignore_fnmatch ("[a-c]x", "bx"), 1);
  assert_int_equal (build_ignore_fnmatch ("[^a-c]x", "bx"), 0);
  assert_int_equal (build_ignore_fnmatch ("[^a-c]x", "dx"), 1);
  assert_int_equal (build_ignore_fnmatch ("\\*", "*"), 1);
  assert_int_equal (build_ignore_fnmatch ("\\*", "a"), 0);
  assert_int_equal (build_ignore_fnmatch ("a?", "a\xc3\xa9"), 1); /* one character, two bytes */
}

static void
test_fnmatch_malformed (void **state)
{
  (void) state;
  assert_int_equal (build_ignore_fnmatch ("[", "a"), -1);
  assert_int_equal (build_ignore_fnmatch ("a[b", "a"), -1);
  assert_int_equal (build_ignore_fnmatch ("[]", "a"), -1);
  assert_int_equal (build_ignore_fnmatch ("[a-]", "a"), -1);
  assert_int_equal (build_ignore_fnmatch ("abc\\", "abc"), -1);
  /* malformed even when an earlier part already fails to match */
  assert_int_equal (build_ignore_fnmatch ("x[", "a"), -1);
}

static void
test_plain_and_glob (void **state)
{
  (void) state;
  assert_true (excluded ("secret.txt\n", "secret.txt"));
  assert_false (excluded ("secret.txt\n", "other.txt"));
  assert_true (excluded ("*.log\n", "a.log"));
  assert_false (excluded ("*.log\n", "logs/a.log"));
  assert_true (excluded ("*/*.log\n", "logs/a.log"));
}

static void
test_directory_excludes_contents (void **state)
{
  (void) state;
  assert_true (excluded ("node_modules\n", "node_modules"));
  assert_true (excluded ("node_modules\n", "node_modules/a/b.js"));
  assert_false (excluded ("node_modules\n", "src/node_modules"));
  assert_true (excluded ("build/\n", "build/out.o")); /* trailing "/" cleaned */
}

static void
test_double_star (void **state)
{
  (void) state;
  assert_true (excluded ("**/*.go\n", "a.go"));
  assert_true (excluded ("**/*.go\n", "x/y/a.go"));
  assert_false (excluded ("**/*.go\n", "x/y/a.c"));
  assert_true (excluded ("**\n", "anything/at/all"));
  assert_true (excluded ("a/**\n", "a/b/c"));
  assert_false (excluded ("a/**\n", "b/a/c"));
  assert_true (excluded ("a/**/z\n", "a/z"));
  assert_true (excluded ("a/**/z\n", "a/b/c/z"));
  assert_false (excluded ("a/**/z\n", "a/b/cz"));
  assert_false (excluded ("**/foo\n", "barfoo"));
  assert_true (excluded ("**/foo\n", "bar/foo"));
}

static void
test_exceptions_last_match_wins (void **state)
{
  (void) state;
  assert_false (excluded ("*.md\n!README.md\n", "README.md"));
  assert_true (excluded ("*.md\n!README.md\n", "CHANGES.md"));
  /* a later exclusion beats an earlier exception */
  assert_true (excluded ("*.md\n!README.md\nREADME*\n", "README.md"));
  assert_false (excluded ("docs\n!docs/keep.txt\n", "docs/keep.txt"));
  assert_true (excluded ("docs\n!docs/keep.txt\n", "docs/other.txt"));
  assert_false (excluded ("**\n!src/**\n", "src/main.c"));
}

static void
test_cleaning_and_comments (void **state)
{
  (void) state;
  assert_true (excluded ("/a//b/./c\n", "a/b/c"));
  assert_true (excluded ("./x\n", "x"));
  assert_true (excluded ("a/../b\n", "b"));
  assert_false (excluded ("# x\n\n   \n", "x"));
  assert_false (excluded ("#x\n", "#x")); /* a comment, not a pattern */
  assert_true (excluded ("  spaced  \n", "spaced"));
  assert_true (excluded ("\xef\xbb\xbf" "bom\n", "bom"));
  assert_true (excluded ("crlf\r\n", "crlf"));
  assert_true (excluded ("! neg\nneg\n", "neg"));
}

static void
test_malformed_patterns (void **state)
{
  static const char *const bad[] = { "a[\n", "!\n", "ok\nx\\\n", "[]\n" };
  (void) state;

  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      struct error *err = NULL;
      struct build_ignore *ign
          = build_ignore_parse (".dockerignore", bad[i], strlen (bad[i]), &err);

      assert_null (ign);
      assert_non_null (err);
      assert_non_null (strstr (err->msg, ".dockerignore:"));
      err_release (&err);
    }
  {
    struct error *err = NULL;
    assert_null (build_ignore_parse (".dockerignore", "a\0b\n", 4, &err));
    assert_non_null (err);
    err_release (&err);
  }
}

static void
test_line_number_in_error (void **state)
{
  struct error *err = NULL;
  (void) state;

  assert_null (build_ignore_parse ("ctx/.dockerignore", "a\n# c\nb[\n", 9, &err));
  assert_non_null (strstr (err->msg, "ctx/.dockerignore:3:"));
  err_release (&err);
}

static void
test_exceptions_below (void **state)
{
  struct build_ignore *ign = parse ("docs\n!docs/keep/*.txt\nvendor\n!**/LICENSE\n");
  (void) state;

  assert_true (build_ignore_has_exceptions_below (ign, "docs"));
  assert_true (build_ignore_has_exceptions_below (ign, "docs/keep"));
  assert_true (build_ignore_has_exceptions_below (ign, "vendor")); /* through "**" */
  build_ignore_free (ign);
  ign = parse ("docs\n!other/x\n");
  assert_false (build_ignore_has_exceptions_below (ign, "docs"));
  build_ignore_free (ign);
  assert_false (build_ignore_has_exceptions_below (NULL, "docs"));
}

static void
test_null_and_empty (void **state)
{
  struct build_ignore *ign = parse ("");
  (void) state;

  assert_false (build_ignore_match (NULL, "a", false));
  assert_true (build_ignore_is_empty (NULL));
  assert_true (build_ignore_is_empty (ign));
  assert_false (build_ignore_match (ign, "a", true));
  build_ignore_free (ign);
}

/* ---- loading -------------------------------------------------------------- */

static char *
make_ctx (void)
{
  char *dir = xstrdup ("/tmp/skiff-ignore-test-XXXXXX");

  assert_non_null (mkdtemp (dir));
  return dir;
}

static void
put (const char *dir, const char *name, const char *text)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  struct error *err = NULL;

  assert_int_equal (fs_write_atomic (p, text, strlen (text), 0644, &err), 0);
}

static bool
load_excludes (const char *dir, const char *dockerfile, const char *path)
{
  int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct build_ignore *ign = NULL;
  struct error *err = NULL;
  bool r;

  assert_true (fd >= 0);
  assert_int_equal (build_ignore_load (fd, dockerfile, &ign, &err), 0);
  r = build_ignore_match (ign, path, false);
  build_ignore_free (ign);
  close (fd);
  return r;
}

static void
test_load_precedence (void **state)
{
  cleanup_free char *dir = make_ctx ();
  cleanup_free char *df = xasprintf ("%s/Dockerfile", dir);
  struct error *err = NULL;
  (void) state;

  assert_false (load_excludes (dir, df, "a")); /* no file at all */
  put (dir, ".dockerignore", "a\n");
  assert_true (load_excludes (dir, df, "a"));
  put (dir, ".containerignore", "b\n");
  assert_false (load_excludes (dir, df, "a")); /* .containerignore wins */
  assert_true (load_excludes (dir, df, "b"));
  put (dir, "Dockerfile.dockerignore", "c\n");
  assert_true (load_excludes (dir, df, "c")); /* per-Dockerfile wins */
  assert_false (load_excludes (dir, df, "b"));
  assert_false (load_excludes (dir, "-", "c")); /* stdin Dockerfile: no such file */
  assert_int_equal (fs_remove_tree (dir, &err), 0);
}

static void
test_load_symlink_stays_inside (void **state)
{
  cleanup_free char *dir = make_ctx ();
  cleanup_free char *link = xasprintf ("%s/.dockerignore", dir);
  struct error *err = NULL;
  (void) state;

  /* an absolute symlink resolves inside the context, where nothing is */
  assert_int_equal (symlink ("/etc/hostname", link), 0);
  assert_false (load_excludes (dir, NULL, "x"));
  assert_int_equal (fs_remove_tree (dir, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fnmatch_basics),
    cmocka_unit_test (test_fnmatch_malformed),
    cmocka_unit_test (test_plain_and_glob),
    cmocka_unit_test (test_directory_excludes_contents),
    cmocka_unit_test (test_double_star),
    cmocka_unit_test (test_exceptions_last_match_wins),
    cmocka_unit_test (test_cleaning_and_comments),
    cmocka_unit_test (test_malformed_patterns),
    cmocka_unit_test (test_line_number_in_error),
    cmocka_unit_test (test_exceptions_below),
    cmocka_unit_test (test_null_and_empty),
    cmocka_unit_test (test_load_precedence),
    cmocka_unit_test (test_load_symlink_stays_inside),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
