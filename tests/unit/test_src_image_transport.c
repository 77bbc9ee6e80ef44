/* Unit tests for src/image_transport.c: transport prefixes on image names
 * (docker://, oci:, oci-archive:, docker-archive:, dir:), the path and
 * reference split, plain references left alone, and unsupported or
 * malformed names refused. */
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
#include "src/image_transport.h"

static void
assert_contains (const char *s, const char *want)
{
  if (s == NULL || strstr (s, want) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", s ? s : "(null)", want);
}

static void
assert_parses (const char *name, enum image_transport t, const char *path, const char *ref)
{
  cleanup_error struct error *err = NULL;
  struct image_transport_ref tr;
  int r = image_transport_parse (name, &tr, &err);

  if (r != 1)
    fail_msg ("%s: %s", name, err ? err->msg : "no transport");
  assert_int_equal (tr.transport, t);
  if (path)
    assert_string_equal (tr.path, path);
  else
    assert_null (tr.path);
  if (ref)
    assert_string_equal (tr.ref, ref);
  else
    assert_null (tr.ref);
  image_transport_ref_clear (&tr);
}

static void
assert_fails (const char *name, const char *want)
{
  cleanup_error struct error *err = NULL;
  struct image_transport_ref tr;

  assert_true (image_transport_parse (name, &tr, &err) < 0);
  assert_contains (err->msg, want);
  assert_null (tr.path);
  assert_null (tr.ref);
}

static void
test_docker (void **state)
{
  (void) state;
  assert_parses ("docker://quay.io/a/b:1", IMAGE_TRANSPORT_DOCKER, NULL, "quay.io/a/b:1");
}

static void
test_oci_with_and_without_ref (void **state)
{
  (void) state;
  assert_parses ("oci:/tmp/layout", IMAGE_TRANSPORT_OCI_DIR, "/tmp/layout", NULL);
  assert_parses ("oci:/tmp/layout:v1", IMAGE_TRANSPORT_OCI_DIR, "/tmp/layout", "v1");
  /* The first colon ends the path: the rest may be a reference with a port. */
  assert_parses ("oci-archive:x.tar:host:5000/a:t", IMAGE_TRANSPORT_OCI_ARCHIVE, "x.tar",
                 "host:5000/a:t");
}

static void
test_docker_archive (void **state)
{
  (void) state;
  assert_parses ("docker-archive:/tmp/i.tar:busybox:latest", IMAGE_TRANSPORT_DOCKER_ARCHIVE,
                 "/tmp/i.tar", "busybox:latest");
}

static void
test_dir_keeps_colons (void **state)
{
  (void) state;
  assert_parses ("dir:/tmp/a:b", IMAGE_TRANSPORT_DIR, "/tmp/a:b", NULL);
}

static void
test_plain_references (void **state)
{
  const char *plain[] = { "busybox", "localhost:5000/x:1", "quay.io/a/b@sha256:00",
                          "ocean:5000/x", "directory/x" };

  (void) state;
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    {
      cleanup_error struct error *err = NULL;
      struct image_transport_ref tr;
      assert_int_equal (image_transport_parse (plain[i], &tr, &err), 0);
      assert_null (tr.path);
      assert_null (tr.ref);
    }
}

static void
test_unsupported (void **state)
{
  (void) state;
  assert_fails ("containers-storage:busybox", "\"containers-storage\" is not supported");
  assert_fails ("docker-daemon:busybox:latest", "\"docker-daemon\" is not supported");
}

static void
test_empty_parts (void **state)
{
  (void) state;
  assert_fails ("oci:", "no path");
  assert_fails ("oci::tag", "no path");
  assert_fails ("oci:/d:", "empty reference");
  assert_fails ("dir:", "no path");
  assert_fails ("docker://", "no reference");
}

static void
test_formats (void **state)
{
  (void) state;
  assert_int_equal (image_transport_format (IMAGE_TRANSPORT_OCI_DIR), IMAGE_ARCHIVE_OCI_DIR);
  assert_int_equal (image_transport_format (IMAGE_TRANSPORT_OCI_ARCHIVE),
                    IMAGE_ARCHIVE_OCI_ARCHIVE);
  assert_int_equal (image_transport_format (IMAGE_TRANSPORT_DOCKER_ARCHIVE),
                    IMAGE_ARCHIVE_DOCKER_ARCHIVE);
  assert_int_equal (image_transport_format (IMAGE_TRANSPORT_DIR), IMAGE_ARCHIVE_DOCKER_DIR);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_docker),
    cmocka_unit_test (test_oci_with_and_without_ref),
    cmocka_unit_test (test_docker_archive),
    cmocka_unit_test (test_dir_keeps_colons),
    cmocka_unit_test (test_plain_references),
    cmocka_unit_test (test_unsupported),
    cmocka_unit_test (test_empty_parts),
    cmocka_unit_test (test_formats),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
