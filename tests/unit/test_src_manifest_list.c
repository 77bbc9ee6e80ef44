/* Unit tests for the pure parts of src/manifest_list.c: building an index
 * (entries with platforms, one per digest), removing entries, serialising
 * it as an OCI index or a Docker manifest list (which refuses OCI
 * entries), and list names. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/manifest.h"
#include "src/manifest_list.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct manifest_platform amd64 = { .os = (char *) "linux", .architecture = (char *) "amd64" };
static struct manifest_platform arm64 = { .os = (char *) "linux", .architecture = (char *) "arm64",
                                          .variant = (char *) "v8" };

static void
assert_contains (const char *s, const char *want)
{
  if (s == NULL || strstr (s, want) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", s ? s : "(null)", want);
}

static void
add_ok (json_object *index, const char *mt, const char *digest, struct manifest_platform *p)
{
  cleanup_error struct error *err = NULL;

  if (manifest_list_index_add (index, mt, digest, 528, p, &err) < 0)
    fail_msg ("add %s: %s", digest, err->msg);
}

static size_t
n_entries (json_object *index)
{
  return json_object_array_length (jobj_get_array (index, "manifests"));
}

static void
test_index_add_parses_back (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();
  cleanup_error struct error *err = NULL;
  cleanup_free char *data = NULL;
  cleanup_manifest struct manifest *m = NULL;

  (void) state;
  add_ok (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_A, &amd64);
  add_ok (index, MANIFEST_MT_DOCKER_MANIFEST, DIGEST_B, &arm64);
  data = manifest_list_index_serialize (index, false, &err);
  assert_non_null (data);
  assert_int_equal (manifest_parse (data, strlen (data), NULL, &m, &err), 0);
  assert_int_equal (m->kind, MANIFEST_INDEX);
  assert_string_equal (m->media_type, MANIFEST_MT_OCI_INDEX);
  assert_int_equal (m->n_entries, 2);
  assert_string_equal (m->entries[1].digest, DIGEST_B);
  assert_string_equal (m->entries[1].platform.architecture, "arm64");
  assert_string_equal (m->entries[1].platform.variant, "v8");
  assert_int_equal (m->entries[0].size, 528);
}

static void
test_index_add_same_digest_replaces (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();

  (void) state;
  add_ok (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_A, &amd64);
  add_ok (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_A, &arm64);
  assert_int_equal (n_entries (index), 1);
}

static void
test_index_add_refuses_non_images (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();
  cleanup_error struct error *err = NULL;

  (void) state;
  assert_true (manifest_list_index_add (index, MANIFEST_MT_OCI_INDEX, DIGEST_A, 1, &amd64, &err)
               < 0);
  assert_contains (err->msg, "not an image manifest");
  assert_int_equal (n_entries (index), 0);
}

static void
test_index_add_refuses_bad_descriptor (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();
  cleanup_error struct error *err = NULL;

  (void) state;
  assert_true (manifest_list_index_add (index, MANIFEST_MT_OCI_MANIFEST, "sha256:xyz", 1, &amd64,
                                        &err) < 0);
  assert_true (manifest_list_index_add (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_A, -1, &amd64,
                                        &err) < 0);
  assert_int_equal (n_entries (index), 0);
}

static void
test_index_add_needs_platform (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();
  cleanup_error struct error *err = NULL;
  struct manifest_platform none = { 0 };

  (void) state;
  assert_true (manifest_list_index_add (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_A, 1, &none,
                                        &err) < 0);
  assert_contains (err->msg, "--os and --arch");
}

static void
test_index_remove (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();

  (void) state;
  add_ok (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_A, &amd64);
  add_ok (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_B, &arm64);
  assert_int_equal (manifest_list_index_remove (index, DIGEST_A), 1);
  assert_int_equal (manifest_list_index_remove (index, DIGEST_A), 0);
  assert_int_equal (n_entries (index), 1);
}

static void
test_serialize_docker_list (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();
  cleanup_error struct error *err = NULL;
  cleanup_free char *data = NULL;
  cleanup_manifest struct manifest *m = NULL;

  (void) state;
  add_ok (index, MANIFEST_MT_DOCKER_MANIFEST, DIGEST_A, &amd64);
  data = manifest_list_index_serialize (index, true, &err);
  assert_non_null (data);
  assert_int_equal (manifest_parse (data, strlen (data), NULL, &m, &err), 0);
  assert_string_equal (m->media_type, MANIFEST_MT_DOCKER_LIST);
  /* The stored index is left as it was. */
  assert_string_equal (jobj_get_string (index, "mediaType"), MANIFEST_MT_OCI_INDEX);
}

static void
test_serialize_docker_list_refuses_oci_entries (void **state)
{
  cleanup_json json_object *index = manifest_list_index_new ();
  cleanup_error struct error *err = NULL;

  (void) state;
  add_ok (index, MANIFEST_MT_OCI_MANIFEST, DIGEST_A, &amd64);
  assert_null (manifest_list_index_serialize (index, true, &err));
  assert_contains (err->msg, "--format oci");
}

static void
assert_name (const char *name, const char *want)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *got = manifest_list_normalize_name (name, &err);

  if (got == NULL)
    fail_msg ("%s: %s", name, err->msg);
  assert_string_equal (got, want);
}

static void
test_names (void **state)
{
  cleanup_error struct error *err = NULL;

  (void) state;
  assert_name ("mylist", "localhost/mylist:latest");
  assert_name ("mylist:v2", "localhost/mylist:v2");
  assert_name ("quay.io/a/list", "quay.io/a/list:latest");
  assert_null (manifest_list_normalize_name ("Bad Name", &err));
  err_release (&err);
  assert_null (manifest_list_normalize_name ("x@" DIGEST_A, &err));
  assert_contains (err->msg, "no digest");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_index_add_parses_back),
    cmocka_unit_test (test_index_add_same_digest_replaces),
    cmocka_unit_test (test_index_add_refuses_non_images),
    cmocka_unit_test (test_index_add_refuses_bad_descriptor),
    cmocka_unit_test (test_index_add_needs_platform),
    cmocka_unit_test (test_index_remove),
    cmocka_unit_test (test_serialize_docker_list),
    cmocka_unit_test (test_serialize_docker_list_refuses_oci_entries),
    cmocka_unit_test (test_names),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
