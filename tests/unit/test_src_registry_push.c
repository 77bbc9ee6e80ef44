/* Unit tests for the pure parts of src/registry_push.c: resolving an
 * upload's Location (absolute, absolute-path, network-path and relative
 * references, query strings kept, hostile values refused), adding the
 * digest to a URL's query, and writing manifests in the OCI and Docker
 * schema2 formats (conversion both ways keeps digests and sizes). */
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
#include "src/manifest.h"
#include "src/registry_push.h"

#define CONFIG_DIGEST "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define LAYER1_DIGEST "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define LAYER2_DIGEST "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void
assert_contains (const char *s, const char *want)
{
  if (s == NULL || strstr (s, want) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", s ? s : "(null)", want);
}

/* ---- Location ------------------------------------------------------------------- */

static void
assert_resolves (const char *request, const char *location, const char *want)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *got = registry_push_resolve_location (request, location, &err);

  if (got == NULL)
    fail_msg ("\"%s\" + \"%s\": %s", request, location, err->msg);
  assert_string_equal (got, want);
}

static void
assert_location_fails (const char *request, const char *location, const char *want)
{
  cleanup_error struct error *err = NULL;
  char *got = registry_push_resolve_location (request, location, &err);

  assert_null (got);
  assert_non_null (err);
  assert_contains (err->msg, want);
}

static void
test_location_absolute (void **state)
{
  (void) state;
  assert_resolves ("https://reg.example/v2/a/blobs/uploads/",
                   "https://reg.example/v2/a/blobs/uploads/u1?_state=xyz",
                   "https://reg.example/v2/a/blobs/uploads/u1?_state=xyz");
  /* Another host (a storage service) stays what it is. */
  assert_resolves ("http://127.0.0.1:5000/v2/a/blobs/uploads/", "https://s3.example/up?sig=1",
                   "https://s3.example/up?sig=1");
}

static void
test_location_absolute_path (void **state)
{
  (void) state;
  assert_resolves ("http://127.0.0.1:5000/v2/a/blobs/uploads/?mount=x&from=y",
                   "/v2/a/blobs/uploads/u2?_state=a%3D", "http://127.0.0.1:5000/v2/a/blobs/uploads/u2?_state=a%3D");
}

static void
test_location_network_path (void **state)
{
  (void) state;
  assert_resolves ("https://reg.example/v2/a/blobs/uploads/", "//mirror.example/u3",
                   "https://mirror.example/u3");
}

static void
test_location_relative (void **state)
{
  (void) state;
  assert_resolves ("https://reg.example/v2/a/blobs/uploads/", "u4?x=1",
                   "https://reg.example/v2/a/blobs/uploads/u4?x=1");
  assert_resolves ("https://reg.example/v2/a/blobs/uploads/u4?x=1", "u5",
                   "https://reg.example/v2/a/blobs/uploads/u5");
  assert_resolves ("https://reg.example", "u6", "https://reg.example/u6");
}

static void
test_location_fragment_dropped (void **state)
{
  (void) state;
  assert_resolves ("https://reg.example/v2/", "/v2/a/u?q=1#frag", "https://reg.example/v2/a/u?q=1");
}

static void
test_location_empty (void **state)
{
  (void) state;
  assert_location_fails ("https://reg.example/v2/", "", "empty Location");
}

static void
test_location_hostile_bytes (void **state)
{
  (void) state;
  assert_location_fails ("https://reg.example/v2/", "/v2/a\r\nX-Evil: 1", "invalid Location");
  assert_location_fails ("https://reg.example/v2/", "/v2/a b", "invalid Location");
  assert_location_fails ("https://reg.example/v2/", "/v2/\x80", "invalid Location");
}

static void
test_location_too_long (void **state)
{
  char *loc = xmalloc (REGISTRY_PUSH_LOCATION_MAX + 2);

  (void) state;
  memset (loc, 'a', REGISTRY_PUSH_LOCATION_MAX + 1);
  loc[0] = '/';
  loc[REGISTRY_PUSH_LOCATION_MAX + 1] = '\0';
  assert_location_fails ("https://reg.example/v2/", loc, "invalid Location");
  free (loc);
}

static void
test_location_scheme_without_host (void **state)
{
  (void) state;
  assert_location_fails ("https://reg.example/v2/", "https:///path", "invalid Location");
  assert_location_fails ("https://reg.example/v2/", "http:relative", "invalid Location");
}

static void
test_location_bad_request_url (void **state)
{
  (void) state;
  assert_location_fails ("/v2/a/", "u", "not an absolute URL");
  assert_location_fails ("ftp://x/", "u", "not an absolute URL");
}

static void
test_url_add_query (void **state)
{
  cleanup_free char *a = registry_push_url_add_query ("https://r/v2/u", "digest=sha256:ab");
  cleanup_free char *b = registry_push_url_add_query ("https://r/v2/u?_state=s", "digest=sha256:ab");

  (void) state;
  assert_string_equal (a, "https://r/v2/u?digest=sha256:ab");
  assert_string_equal (b, "https://r/v2/u?_state=s&digest=sha256:ab");
}

/* ---- manifests ------------------------------------------------------------------ */

static const struct manifest_descriptor test_config = {
  .media_type = (char *) MANIFEST_MT_OCI_CONFIG, .digest = (char *) CONFIG_DIGEST, .size = 509,
};

static const struct manifest_descriptor test_layers[] = {
  { .digest = (char *) LAYER1_DIGEST, .size = 1035222, .compression = MANIFEST_COMPRESSION_GZIP },
  { .digest = (char *) LAYER2_DIGEST, .size = 10240, .compression = MANIFEST_COMPRESSION_NONE },
};

static struct manifest *
make_and_parse (bool is_docker, const struct manifest_descriptor *layers, size_t n)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *json = registry_push_make_manifest (is_docker, &test_config, layers, n, &err);
  struct manifest *m = NULL;

  if (json == NULL)
    fail_msg ("make manifest: %s", err->msg);
  if (manifest_parse (json, strlen (json), NULL, &m, &err) < 0)
    fail_msg ("parse %s: %s", json, err->msg);
  return m;
}

static void
test_manifest_docker (void **state)
{
  cleanup_manifest struct manifest *m = make_and_parse (true, test_layers, 2);

  (void) state;
  assert_string_equal (m->media_type, MANIFEST_MT_DOCKER_MANIFEST);
  assert_string_equal (m->config.media_type, MANIFEST_MT_DOCKER_CONFIG);
  assert_string_equal (m->config.digest, CONFIG_DIGEST);
  assert_int_equal (m->config.size, 509);
  assert_int_equal (m->n_layers, 2);
  assert_string_equal (m->layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  assert_string_equal (m->layers[1].media_type, "application/vnd.docker.image.rootfs.diff.tar");
  assert_string_equal (m->layers[0].digest, LAYER1_DIGEST);
  assert_int_equal (m->layers[0].size, 1035222);
}

static void
test_manifest_oci (void **state)
{
  cleanup_manifest struct manifest *m = make_and_parse (false, test_layers, 2);

  (void) state;
  assert_string_equal (m->media_type, MANIFEST_MT_OCI_MANIFEST);
  assert_string_equal (m->config.media_type, MANIFEST_MT_OCI_CONFIG);
  assert_string_equal (m->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  assert_string_equal (m->layers[1].media_type, "application/vnd.oci.image.layer.v1.tar");
  assert_int_equal (m->layers[1].compression, MANIFEST_COMPRESSION_NONE);
}

/* OCI -> Docker -> OCI gives the same bytes: conversion keeps every
 * digest, size and compression. */
static void
test_manifest_round_trip (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_manifest struct manifest *docker = make_and_parse (true, test_layers, 2);
  cleanup_free char *oci1 = registry_push_make_manifest (false, &test_config, test_layers, 2, &err);
  cleanup_free char *oci2 = NULL;

  (void) state;
  assert_non_null (oci1);
  oci2 = registry_push_make_manifest (false, &docker->config, docker->layers, docker->n_layers,
                                      &err);
  assert_non_null (oci2);
  assert_string_equal (oci1, oci2);
}

static void
test_manifest_zstd_oci (void **state)
{
  struct manifest_descriptor zl = { .digest = (char *) LAYER1_DIGEST, .size = 7,
                                    .compression = MANIFEST_COMPRESSION_ZSTD };
  cleanup_manifest struct manifest *m = make_and_parse (false, &zl, 1);

  (void) state;
  assert_string_equal (m->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
}

static void
test_manifest_zstd_docker_refused (void **state)
{
  cleanup_error struct error *err = NULL;
  struct manifest_descriptor zl = { .digest = (char *) LAYER1_DIGEST, .size = 7,
                                    .compression = MANIFEST_COMPRESSION_ZSTD };
  char *json = registry_push_make_manifest (true, &test_config, &zl, 1, &err);

  (void) state;
  assert_null (json);
  assert_contains (err->msg, "--format oci");
}

static void
test_manifest_no_layers (void **state)
{
  cleanup_manifest struct manifest *m = make_and_parse (false, NULL, 0);

  (void) state;
  assert_int_equal (m->n_layers, 0);
}

static void
test_layer_media_types (void **state)
{
  (void) state;
  assert_null (registry_push_layer_media_type (MANIFEST_COMPRESSION_ZSTD, true));
  assert_string_equal (registry_push_layer_media_type (MANIFEST_COMPRESSION_ZSTD, false),
                       "application/vnd.oci.image.layer.v1.tar+zstd");
  assert_string_equal (registry_push_layer_media_type (MANIFEST_COMPRESSION_GZIP, true),
                       "application/vnd.docker.image.rootfs.diff.tar.gzip");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_location_absolute),
    cmocka_unit_test (test_location_absolute_path),
    cmocka_unit_test (test_location_network_path),
    cmocka_unit_test (test_location_relative),
    cmocka_unit_test (test_location_fragment_dropped),
    cmocka_unit_test (test_location_empty),
    cmocka_unit_test (test_location_hostile_bytes),
    cmocka_unit_test (test_location_too_long),
    cmocka_unit_test (test_location_scheme_without_host),
    cmocka_unit_test (test_location_bad_request_url),
    cmocka_unit_test (test_url_add_query),
    cmocka_unit_test (test_manifest_docker),
    cmocka_unit_test (test_manifest_oci),
    cmocka_unit_test (test_manifest_round_trip),
    cmocka_unit_test (test_manifest_zstd_oci),
    cmocka_unit_test (test_manifest_zstd_docker_refused),
    cmocka_unit_test (test_manifest_no_layers),
    cmocka_unit_test (test_layer_media_types),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
