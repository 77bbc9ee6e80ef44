/* Unit tests for src/reference.c: docker's normalisation of image names
 * (cases from distribution/reference's normalize and reference tests),
 * the grammar checks, short names, ID prefixes and formatting. */
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
#include "src/reference.h"

#define N_ELEMS(a) (sizeof (a) / sizeof ((a)[0]))

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64

static void
assert_parses_to (const char *input, const char *want)
{
  cleanup_image_ref struct image_ref r = { 0 };
  cleanup_error struct error *err = NULL;
  cleanup_free char *got = NULL;

  if (reference_parse (input, &r, &err) < 0)
    fail_msg ("\"%s\" rejected: %s", input, err->msg);
  got = reference_to_string (&r);
  if (strcmp (got, want) != 0)
    fail_msg ("\"%s\": got \"%s\", want \"%s\"", input, got, want);
}

static void
assert_rejected (const char *input, const char *want)
{
  cleanup_image_ref struct image_ref r = { 0 };
  cleanup_error struct error *err = NULL;

  if (reference_parse (input, &r, &err) == 0)
    fail_msg ("\"%s\" accepted", input);
  assert_null (r.registry);
  assert_null (r.repository);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("\"%s\": got \"%s\", want \"%s\"", input, err->msg, want);
}

/* ---- normalisation ------------------------------------------------------ */

static void
test_docker_hub_names (void **state)
{
  assert_parses_to ("busybox", "docker.io/library/busybox:latest");
  assert_parses_to ("busybox:1.36", "docker.io/library/busybox:1.36");
  assert_parses_to ("library/busybox", "docker.io/library/busybox:latest");
  assert_parses_to ("user/app", "docker.io/user/app:latest");
  assert_parses_to ("user/ns/app:v1", "docker.io/user/ns/app:v1");
}

static void
test_docker_io_spellings (void **state)
{
  assert_parses_to ("docker.io/busybox", "docker.io/library/busybox:latest");
  assert_parses_to ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest");
  assert_parses_to ("index.docker.io/busybox", "docker.io/library/busybox:latest");
  assert_parses_to ("index.docker.io/user/app:v1", "docker.io/user/app:v1");
}

static void
test_other_registries (void **state)
{
  assert_parses_to ("localhost/foo", "localhost/foo:latest");
  assert_parses_to ("localhost:5000/foo", "localhost:5000/foo:latest");
  assert_parses_to ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t");
  assert_parses_to ("quay.io/a/b/c:tag", "quay.io/a/b/c:tag");
  assert_parses_to ("[::1]:5000/foo:bar", "[::1]:5000/foo:bar");
  assert_parses_to ("[fe80::1]/foo", "[fe80::1]/foo:latest");
  assert_parses_to ("my-registry.example.com/x", "my-registry.example.com/x:latest");
}

static void
test_upper_case_first_component_is_a_registry (void **state)
{
  cleanup_image_ref struct image_ref r = { 0 };

  assert_int_equal (reference_parse ("Foo/bar", &r, NULL), 0);
  assert_string_equal (r.registry, "Foo");
  assert_string_equal (r.repository, "bar");
}

static void
test_fields (void **state)
{
  cleanup_image_ref struct image_ref r = { 0 };

  assert_int_equal (reference_parse ("127.0.0.1:5000/a/b:t", &r, NULL), 0);
  assert_string_equal (r.registry, "127.0.0.1:5000");
  assert_string_equal (r.repository, "a/b");
  assert_string_equal (r.tag, "t");
  assert_null (r.digest);
}

static void
test_digest_only (void **state)
{
  cleanup_image_ref struct image_ref r = { 0 };

  assert_int_equal (reference_parse ("busybox@" DIGEST, &r, NULL), 0);
  assert_string_equal (r.repository, "library/busybox");
  assert_null (r.tag);
  assert_string_equal (r.digest, DIGEST);
  assert_parses_to ("busybox@" DIGEST, "docker.io/library/busybox@" DIGEST);
}

static void
test_tag_and_digest (void **state)
{
  cleanup_image_ref struct image_ref r = { 0 };

  assert_int_equal (reference_parse ("host:5000/a:t@" DIGEST, &r, NULL), 0);
  assert_string_equal (r.registry, "host:5000");
  assert_string_equal (r.tag, "t");
  assert_string_equal (r.digest, DIGEST);
  assert_parses_to ("host:5000/a:t@" DIGEST, "host:5000/a:t@" DIGEST);
}

static void
test_port_without_path_is_a_tag (void **state)
{
  /* docker: "localhost:5000" is the image localhost with tag 5000 */
  assert_parses_to ("localhost:5000", "docker.io/library/localhost:5000");
}

static void
test_separators (void **state)
{
  assert_parses_to ("ns/a.b_c__d-e---f", "docker.io/ns/a.b_c__d-e---f:latest");
  assert_parses_to ("a_b", "docker.io/library/a_b:latest");
  assert_parses_to ("x:Tag_1.2-3", "docker.io/library/x:Tag_1.2-3");
  assert_parses_to ("x:_t", "docker.io/library/x:_t");
}

static void
test_longest_tag (void **state)
{
  char tag[REFERENCE_TAG_MAX + 2];
  cleanup_free char *ok = NULL, *want = NULL, *bad = NULL;

  memset (tag, 'a', sizeof tag - 1);
  tag[REFERENCE_TAG_MAX] = '\0';
  ok = xasprintf ("x:%s", tag);
  want = xasprintf ("docker.io/library/x:%s", tag);
  tag[REFERENCE_TAG_MAX] = 'a';
  tag[REFERENCE_TAG_MAX + 1] = '\0';
  bad = xasprintf ("x:%s", tag);
  assert_parses_to (ok, want);
  assert_rejected (bad, "invalid tag");
}

/* ---- rejected names ----------------------------------------------------- */

static void
test_empty (void **state)
{
  assert_rejected ("", "invalid reference format \"\": repository name must have at least "
                   "one component");
  assert_rejected (":tag", "at least one component");
  assert_rejected ("@" DIGEST, "at least one component");
}

static void
test_uppercase (void **state)
{
  cleanup_image_ref struct image_ref r = { 0 };
  cleanup_error struct error *err = NULL;

  assert_true (reference_parse ("Foo", &r, &err) < 0);
  assert_string_equal (err->msg, "invalid reference format \"Foo\": repository name must "
                                 "be lowercase");
  assert_rejected ("quay.io/Foo/bar", "must be lowercase");
  assert_rejected ("busyBox:latest", "must be lowercase");
}

static void
test_bad_tags (void **state)
{
  assert_rejected ("busybox:", "empty tag");
  assert_rejected ("busybox:-x", "invalid tag \"-x\"");
  assert_rejected ("busybox:.x", "invalid tag");
  assert_rejected ("busybox:a+b", "invalid tag");
  assert_rejected ("a:b:c", "invalid repository name");
}

static void
test_bad_digests (void **state)
{
  assert_rejected ("busybox@", "missing digest after '@'");
  assert_rejected ("busybox@sha256", "digest must be \"algorithm:hex\"");
  assert_rejected ("busybox@sha256:abc", "a sha256 digest must be 64 lower case hex");
  assert_rejected ("busybox@sha256:" HEX64 "0", "64 lower case hex");
  assert_rejected ("busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                   "64 lower case hex");
  assert_rejected ("busybox@sha512:" HEX64 HEX64, "unsupported digest algorithm \"sha512\"");
  assert_rejected ("busybox@1sha:" HEX64, "invalid digest algorithm");
  assert_rejected ("busybox@@" DIGEST, "invalid digest algorithm");
  assert_rejected ("busybox@" DIGEST "@" DIGEST, "64 lower case hex");
}

static void
test_bad_paths (void **state)
{
  static const char *const bad[] = {
    "-busybox", "busybox-", "bu___sy", "a..b", "a._b", "a/", "/a", "a//b",
    "docker.io/", "quay.io/a/-b", "a b", "a\tb", "caf\xc3\xa9",
  };

  for (size_t i = 0; i < N_ELEMS (bad); i++)
    assert_rejected (bad[i], "invalid");
}

static void
test_bad_registries (void **state)
{
  assert_rejected ("localhost:abc/foo", "invalid registry \"localhost:abc\"");
  assert_rejected ("-host.com/foo", "invalid registry");
  assert_rejected ("host-.com/foo", "invalid registry");
  assert_rejected ("a..com/foo", "invalid registry");
  assert_rejected ("host:/foo", "invalid registry");
  assert_rejected ("[::1/foo", "invalid registry");
  assert_rejected ("[zz]:5000/foo", "invalid registry");
}

static void
test_hex_id_is_not_a_name (void **state)
{
  assert_rejected (HEX64, "cannot specify 64-byte hexadecimal strings");
  assert_rejected (DIGEST, "cannot specify 64-byte hexadecimal strings");
  /* shorter hex strings are ordinary names */
  assert_parses_to ("0123456789ab", "docker.io/library/0123456789ab:latest");
}

static void
test_too_long_name (void **state)
{
  char path[REFERENCE_NAME_MAX];
  cleanup_free char *ok = NULL, *bad = NULL;
  size_t fits = REFERENCE_NAME_MAX - strlen ("docker.io/library/");

  memset (path, 'a', sizeof path);
  ok = xstrndup (path, fits);
  bad = xstrndup (path, fits + 1);
  {
    cleanup_image_ref struct image_ref r = { 0 };
    assert_int_equal (reference_parse (ok, &r, NULL), 0);
  }
  assert_rejected (bad, "repository name must not be more than 255 characters");
}

static void
test_huge_input (void **state)
{
  cleanup_free char *huge = xmalloc (100000);

  memset (huge, 'a', 99999);
  huge[99999] = '\0';
  assert_rejected (huge, "longer than 1024 characters");
}

static void
test_error_quotes_input_safely (void **state)
{
  cleanup_image_ref struct image_ref r = { 0 };
  cleanup_error struct error *err = NULL;

  assert_true (reference_parse ("bad\x1b[2Jname", &r, &err) < 0);
  assert_null (strchr (err->msg, '\x1b'));
  assert_non_null (strstr (err->msg, "\"bad?[2Jname\""));
}

/* ---- short names and IDs ------------------------------------------------ */

static void
test_short_names (void **state)
{
  static const char *const short_names[] = {
    "busybox", "busybox:1", "library/busybox", "user/app:tag", "busybox@" DIGEST,
    "localhost:5000", "a/b/c",
  };
  static const char *const qualified[] = {
    "docker.io/busybox", "quay.io/a", "localhost/foo", "localhost:5000/foo",
    "127.0.0.1/a", "Foo/bar", "[::1]:5000/x", "host.com/a@" DIGEST,
  };

  for (size_t i = 0; i < N_ELEMS (short_names); i++)
    if (!reference_is_short_name (short_names[i]))
      fail_msg ("\"%s\" should be short", short_names[i]);
  for (size_t i = 0; i < N_ELEMS (qualified); i++)
    if (reference_is_short_name (qualified[i]))
      fail_msg ("\"%s\" should not be short", qualified[i]);
}

static void
test_looks_like_id (void **state)
{
  assert_true (reference_looks_like_id ("abc"));
  assert_true (reference_looks_like_id ("0123456789ab"));
  assert_true (reference_looks_like_id (HEX64));
  assert_true (reference_looks_like_id ("sha256:abc"));
  assert_true (reference_looks_like_id (DIGEST));
  assert_false (reference_looks_like_id ("ab"));
  assert_false (reference_looks_like_id (HEX64 "0"));
  assert_false (reference_looks_like_id ("ABC"));
  assert_false (reference_looks_like_id ("xyz"));
  assert_false (reference_looks_like_id (""));
  assert_false (reference_looks_like_id ("sha256:"));
  assert_false (reference_looks_like_id ("busybox"));
}

static void
test_grammar_checks (void **state)
{
  static const char *const domains[] = { "docker.io", "localhost", "127.0.0.1:5000",
                                         "[::1]:5000", "[fe80::1]", "a", "A-b.C" };
  static const char *const bad_domains[] = { "", "-a.com", "a-.com", "a..com", "host:",
                                             "host:abc", "[::1", "[::1]x", "[]", ":5000",
                                             "a_b.com", "host:5000:1" };

  for (size_t i = 0; i < N_ELEMS (domains); i++)
    if (!reference_is_valid_domain (domains[i]))
      fail_msg ("\"%s\" should be a valid domain", domains[i]);
  for (size_t i = 0; i < N_ELEMS (bad_domains); i++)
    if (reference_is_valid_domain (bad_domains[i]))
      fail_msg ("\"%s\" should not be a valid domain", bad_domains[i]);
  assert_true (reference_is_valid_tag ("v1.0-rc_1"));
  assert_false (reference_is_valid_tag (""));
  assert_false (reference_is_valid_tag ("a/b"));
  assert_true (reference_is_valid_digest (DIGEST));
  assert_false (reference_is_valid_digest ("sha256:abc"));
  assert_false (reference_is_valid_digest (HEX64));
}

/* ---- formatting and copies ---------------------------------------------- */

static void
test_repo_string (void **state)
{
  cleanup_image_ref struct image_ref r = { 0 };
  cleanup_free char *s = NULL;

  assert_int_equal (reference_parse ("busybox:1@" DIGEST, &r, NULL), 0);
  s = reference_repo_string (&r);
  assert_string_equal (s, "docker.io/library/busybox");
}

static void
test_familiar (void **state)
{
  static const struct
  {
    const char *in, *want;
  } cases[] = {
    { "busybox", "busybox:latest" },
    { "docker.io/library/busybox:1", "busybox:1" },
    { "user/app:v1", "user/app:v1" },
    { "library/a/b", "library/a/b:latest" },
    { "quay.io/a/b:t", "quay.io/a/b:t" },
    { "busybox@" DIGEST, "busybox@" DIGEST },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_image_ref struct image_ref r = { 0 };
      cleanup_free char *got = NULL;

      assert_int_equal (reference_parse (cases[i].in, &r, NULL), 0);
      got = reference_familiar (&r);
      assert_string_equal (got, cases[i].want);
    }
}

static void
test_copy_and_free (void **state)
{
  cleanup_image_ref struct image_ref a = { 0 };
  struct image_ref b = { 0 };
  cleanup_free char *sa = NULL, *sb = NULL;

  assert_int_equal (reference_parse ("quay.io/a:t@" DIGEST, &a, NULL), 0);
  reference_copy (&a, &b);
  assert_ptr_not_equal (a.registry, b.registry);
  sa = reference_to_string (&a);
  sb = reference_to_string (&b);
  assert_string_equal (sa, sb);
  reference_free (&b);
  assert_null (b.registry);
  assert_null (b.tag);
  reference_free (&b);
  reference_free (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_docker_hub_names),
    cmocka_unit_test (test_docker_io_spellings),
    cmocka_unit_test (test_other_registries),
    cmocka_unit_test (test_upper_case_first_component_is_a_registry),
    cmocka_unit_test (test_fields),
    cmocka_unit_test (test_digest_only),
    cmocka_unit_test (test_tag_and_digest),
    cmocka_unit_test (test_port_without_path_is_a_tag),
    cmocka_unit_test (test_separators),
    cmocka_unit_test (test_longest_tag),
    cmocka_unit_test (test_empty),
    cmocka_unit_test (test_uppercase),
    cmocka_unit_test (test_bad_tags),
    cmocka_unit_test (test_bad_digests),
    cmocka_unit_test (test_bad_paths),
    cmocka_unit_test (test_bad_registries),
    cmocka_unit_test (test_hex_id_is_not_a_name),
    cmocka_unit_test (test_too_long_name),
    cmocka_unit_test (test_huge_input),
    cmocka_unit_test (test_error_quotes_input_safely),
    cmocka_unit_test (test_short_names),
    cmocka_unit_test (test_looks_like_id),
    cmocka_unit_test (test_grammar_checks),
    cmocka_unit_test (test_repo_string),
    cmocka_unit_test (test_familiar),
    cmocka_unit_test (test_copy_and_free),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
