/* Unit tests for src/manifest.c: manifests, indexes and configs from
 * well-formed and hostile input, media type detection, platform parsing,
 * normalisation and selection. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/mem.h"
#include "src/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define D5 "sha256:5555555555555555555555555555555555555555555555555555555555555555"

#define CONFIG_DESC(mt) "\"config\":{\"mediaType\":\"" mt "\",\"digest\":\"" D1 "\",\"size\":1234}"
#define LAYER(mt, d, size) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":" #size "}"

static const char oci_manifest[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" MANIFEST_MT_OCI_MANIFEST "\","
  CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":["
  LAYER ("application/vnd.oci.image.layer.v1.tar+gzip", D2, 100) ","
  LAYER ("application/vnd.oci.image.layer.v1.tar+zstd", D3, 200) ","
  LAYER ("application/vnd.oci.image.layer.v1.tar", D4, 0) "],"
  "\"annotations\":{\"x\":\"y\"}}";

static const char docker_manifest[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" MANIFEST_MT_DOCKER_MANIFEST "\","
  CONFIG_DESC (MANIFEST_MT_DOCKER_CONFIG) ",\"layers\":["
  LAYER ("application/vnd.docker.image.rootfs.diff.tar.gzip", D2, 100) "]}";

#define ENTRY(mt, d, plat) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":500" plat "}"
#define PLAT(os, arch) ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"}"
#define PLATV(os, arch, v)                                                                \
  ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\",\"variant\":\"" v "\"}"

static const char oci_index[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" MANIFEST_MT_OCI_INDEX "\",\"manifests\":["
  ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, PLAT ("linux", "amd64")) ","
  ENTRY (MANIFEST_MT_OCI_MANIFEST, D2, PLATV ("linux", "arm64", "v8")) ","
  ENTRY (MANIFEST_MT_OCI_MANIFEST, D3, PLATV ("linux", "arm", "v7")) ","
  ENTRY (MANIFEST_MT_OCI_MANIFEST, D4, PLATV ("linux", "arm", "v6")) ","
  /* A buildx attestation and a nested index: neither is an image. */
  ENTRY ("application/vnd.oci.image.manifest.v1+json+attestation", D5, PLAT ("unknown", "unknown")) ","
  ENTRY (MANIFEST_MT_OCI_INDEX, D5, "") "]}";

static void
assert_contains (const char *s, const char *want)
{
  if (s == NULL || strstr (s, want) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", s ? s : "(null)", want);
}

static struct manifest *
parse_ok (const char *json, const char *ct)
{
  cleanup_error struct error *err = NULL;
  struct manifest *m = NULL;

  if (manifest_parse (json, strlen (json), ct, &m, &err) < 0)
    fail_msg ("%s", err->msg);
  return m;
}

static void
assert_parse_fails (const char *json, const char *ct, const char *want)
{
  cleanup_error struct error *err = NULL;
  struct manifest *m = NULL;

  assert_true (manifest_parse (json, strlen (json), ct, &m, &err) < 0);
  assert_null (m);
  assert_non_null (err);
  assert_contains (err->msg, want);
}

/* An OCI manifest with one layer whose JSON is LAYER_JSON. */
static void
assert_layer_fails (const char *layer_json, const char *want)
{
  cleanup_free char *json = xasprintf ("{\"schemaVersion\":2," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG)
                                       ",\"layers\":[%s]}",
                                       layer_json);
  assert_parse_fails (json, MANIFEST_MT_OCI_MANIFEST, want);
}

/* ---- image manifests --------------------------------------------------- */

static void
test_oci_manifest (void **state)
{
  cleanup_manifest struct manifest *m = parse_ok (oci_manifest, MANIFEST_MT_OCI_MANIFEST);

  assert_int_equal (m->kind, MANIFEST_IMAGE);
  assert_string_equal (m->media_type, MANIFEST_MT_OCI_MANIFEST);
  assert_string_equal (m->config.digest, D1);
  assert_string_equal (m->config.media_type, MANIFEST_MT_OCI_CONFIG);
  assert_int_equal (m->config.size, 1234);
  assert_int_equal (m->n_layers, 3);
  assert_string_equal (m->layers[0].digest, D2);
  assert_int_equal (m->layers[0].size, 100);
  assert_int_equal (m->layers[0].compression, MANIFEST_COMPRESSION_GZIP);
  assert_int_equal (m->layers[1].compression, MANIFEST_COMPRESSION_ZSTD);
  assert_int_equal (m->layers[2].compression, MANIFEST_COMPRESSION_NONE);
  assert_int_equal (m->layers[2].size, 0);
  assert_int_equal (m->n_entries, 0);
}

static void
test_docker_manifest (void **state)
{
  cleanup_manifest struct manifest *m = parse_ok (docker_manifest, MANIFEST_MT_DOCKER_MANIFEST);

  assert_int_equal (m->kind, MANIFEST_IMAGE);
  assert_string_equal (m->media_type, MANIFEST_MT_DOCKER_MANIFEST);
  assert_string_equal (m->config.media_type, MANIFEST_MT_DOCKER_CONFIG);
  assert_int_equal (m->n_layers, 1);
  assert_int_equal (m->layers[0].compression, MANIFEST_COMPRESSION_GZIP);
}

static void
test_manifest_without_layers (void **state)
{
  cleanup_manifest struct manifest *m
      = parse_ok ("{\"schemaVersion\":2," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":[]}",
                  MANIFEST_MT_OCI_MANIFEST);

  assert_int_equal (m->n_layers, 0);
}

/* ---- media type detection ---------------------------------------------- */

static void
test_content_type_parameters_ignored (void **state)
{
  cleanup_manifest struct manifest *m
      = parse_ok (oci_manifest, " Application/VND.oci.image.manifest.v1+json ; charset=utf-8");

  assert_string_equal (m->media_type, MANIFEST_MT_OCI_MANIFEST);
}

static void
test_generic_content_type_uses_media_type_field (void **state)
{
  cleanup_manifest struct manifest *m = parse_ok (docker_manifest, "application/json");
  cleanup_manifest struct manifest *m2 = parse_ok (docker_manifest, "text/plain; charset=utf-8");

  assert_string_equal (m->media_type, MANIFEST_MT_DOCKER_MANIFEST);
  assert_string_equal (m2->media_type, MANIFEST_MT_DOCKER_MANIFEST);
}

static void
test_no_type_at_all_uses_shape (void **state)
{
  cleanup_manifest struct manifest *img = NULL;
  cleanup_manifest struct manifest *idx = NULL;

  img = parse_ok ("{\"schemaVersion\":2," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":[]}",
                  NULL);
  assert_string_equal (img->media_type, MANIFEST_MT_OCI_MANIFEST);
  idx = parse_ok ("{\"schemaVersion\":2,\"manifests\":[]}", "");
  assert_string_equal (idx->media_type, MANIFEST_MT_OCI_INDEX);
  assert_int_equal (idx->kind, MANIFEST_INDEX);
}

static void
test_unrecognisable_shape_fails (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2}", NULL, "cannot tell");
}

static void
test_content_type_contradicting_field_fails (void **state)
{
  assert_parse_fails (docker_manifest, MANIFEST_MT_OCI_MANIFEST, "does not match");
  assert_parse_fails (oci_manifest, MANIFEST_MT_OCI_INDEX, "does not match");
}

static void
test_schema1_is_unsupported (void **state)
{
  static const char s1[] = "{\"schemaVersion\":1,\"name\":\"a\",\"tag\":\"b\",\"fsLayers\":[],"
                           "\"history\":[],\"signatures\":[]}";

  assert_parse_fails (s1, MANIFEST_MT_DOCKER_SCHEMA1_SIGNED, "schema 1");
  assert_parse_fails (s1, MANIFEST_MT_DOCKER_SCHEMA1, "schema 1");
  assert_parse_fails (s1, NULL, "schema 1");
  assert_parse_fails (s1, "application/json", "schema 1");
}

static void
test_control_characters_in_names_refused (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2,\"mediaType\":\"x\\u001b[31m\"}", NULL,
                      "\"mediaType\" is not a valid name");
  assert_parse_fails (oci_manifest, "application/vnd.oci.image.manifest.v1+json\x1b[2J",
                      "invalid Content-Type");
  assert_layer_fails ("{\"mediaType\":\"a b\",\"digest\":\"" D2 "\",\"size\":1}",
                      "not a valid name");
  assert_parse_fails ("{\"schemaVersion\":2,\"manifests\":["
                      ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, PLAT ("linux\\n", "amd64")) "]}",
                      MANIFEST_MT_OCI_INDEX, "\"os\" is not a valid name");
}

static void
test_unknown_media_type_fails (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\"}",
                      NULL, "unsupported media type");
  assert_parse_fails (oci_manifest, "application/vnd.cncf.helm.config.v1+json", "does not match");
}

static void
test_media_type_predicates (void **state)
{
  assert_true (manifest_media_type_is_index (MANIFEST_MT_DOCKER_LIST));
  assert_true (manifest_media_type_is_index (MANIFEST_MT_OCI_INDEX));
  assert_false (manifest_media_type_is_index (MANIFEST_MT_OCI_MANIFEST));
  assert_true (manifest_media_type_is_image (MANIFEST_MT_DOCKER_MANIFEST));
  assert_false (manifest_media_type_is_image (NULL));
}

/* ---- malformed manifests ----------------------------------------------- */

static void
test_invalid_json_fails (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2,", MANIFEST_MT_OCI_MANIFEST, "manifest");
  assert_parse_fails ("", MANIFEST_MT_OCI_MANIFEST, "empty");
  assert_parse_fails ("[1,2]", MANIFEST_MT_OCI_MANIFEST, "not a JSON object");
  assert_parse_fails ("\"x\"", NULL, "not a JSON object");
  assert_parse_fails (oci_manifest + 1, MANIFEST_MT_OCI_MANIFEST, "manifest");
}

static void
test_schema_version_checked (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":3," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":[]}",
                      MANIFEST_MT_OCI_MANIFEST, "unsupported schemaVersion 3");
  assert_parse_fails ("{" CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":[]}",
                      MANIFEST_MT_OCI_MANIFEST, "missing \"schemaVersion\"");
  assert_parse_fails ("{\"schemaVersion\":\"2\"," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":[]}",
                      MANIFEST_MT_OCI_MANIFEST, "\"schemaVersion\" must be an integer");
}

static void
test_missing_or_mistyped_config_fails (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2,\"layers\":[]}", MANIFEST_MT_OCI_MANIFEST,
                      "missing \"config\"");
  assert_parse_fails ("{\"schemaVersion\":2,\"config\":[],\"layers\":[]}", MANIFEST_MT_OCI_MANIFEST,
                      "\"config\" must be an object");
  assert_parse_fails ("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
                      MANIFEST_MT_OCI_MANIFEST, "missing \"mediaType\"");
}

static void
test_artifact_config_is_not_an_image (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2," CONFIG_DESC ("application/vnd.oci.empty.v1+json")
                      ",\"layers\":[]}",
                      MANIFEST_MT_OCI_MANIFEST, "not a container image");
}

static void
test_oversized_config_descriptor_fails (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MANIFEST_MT_OCI_CONFIG
                      "\",\"digest\":\"" D1 "\",\"size\":999999999},\"layers\":[]}",
                      MANIFEST_MT_OCI_MANIFEST, "larger than the limit");
}

static void
test_missing_or_mistyped_layers_fails (void **state)
{
  assert_parse_fails ("{\"schemaVersion\":2," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) "}",
                      MANIFEST_MT_OCI_MANIFEST, "missing \"layers\"");
  assert_parse_fails ("{\"schemaVersion\":2," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":{}}",
                      MANIFEST_MT_OCI_MANIFEST, "\"layers\" must be an array");
  assert_layer_fails ("\"" D2 "\"", "layers[0]: must be an object");
  assert_layer_fails ("null", "layers[0]: must be an object");
}

static void
test_layer_missing_fields_fail (void **state)
{
  assert_layer_fails ("{\"digest\":\"" D2 "\",\"size\":1}", "missing \"mediaType\"");
  assert_layer_fails ("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":1}",
                      "missing \"digest\"");
  assert_layer_fails ("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D2 "\"}",
                      "missing \"size\"");
}

static void
test_bad_digests_fail (void **state)
{
#define LT "application/vnd.oci.image.layer.v1.tar"
  assert_layer_fails (LAYER (LT, "sha256:1234", 1), "invalid digest");
  assert_layer_fails (LAYER (LT, "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1),
                      "invalid digest");
  assert_layer_fails (LAYER (LT, "1111111111111111111111111111111111111111111111111111111111111111", 1),
                      "invalid digest");
  assert_layer_fails (LAYER (LT, D2 "0", 1), "invalid digest");
  assert_layer_fails (LAYER (LT, "sha256:../../../../etc/passwd", 1), "invalid digest");
  assert_layer_fails (LAYER (LT, "sha512:abcd", 1), "unsupported digest algorithm");
  assert_layer_fails ("{\"mediaType\":\"" LT "\",\"digest\":42,\"size\":1}", "must be a string");
#undef LT
}

static void
test_bad_sizes_fail (void **state)
{
#define LT "application/vnd.oci.image.layer.v1.tar"
  assert_layer_fails (LAYER (LT, D2, -1), "invalid size");
  assert_layer_fails (LAYER (LT, D2, "12"), "\"size\" must be an integer");
  assert_layer_fails (LAYER (LT, D2, 1.5), "\"size\" must be an integer");
  assert_layer_fails (LAYER (LT, D2, 1e30), "\"size\" must be an integer");
  assert_layer_fails (LAYER (LT, D2, 99999999999999999999999), "invalid size");
  assert_layer_fails (LAYER (LT, D2, null), "missing \"size\"");
#undef LT
}

static void
test_foreign_layers_rejected (void **state)
{
  assert_layer_fails (LAYER ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", D2, 1),
                      "non-distributable");
  assert_layer_fails (LAYER ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", D2, 1),
                      "non-distributable");
}

static void
test_unknown_layer_type_rejected (void **state)
{
  assert_layer_fails (LAYER ("application/vnd.cncf.helm.chart.content.v1.tar+gzip", D2, 1),
                      "unsupported layer media type");
}

static char *
manifest_with_layers (size_t n)
{
  struct buf b = BUF_INIT;

  buf_append_str (&b, "{\"schemaVersion\":2," CONFIG_DESC (MANIFEST_MT_OCI_CONFIG) ",\"layers\":[");
  for (size_t i = 0; i < n; i++)
    buf_printf (&b, "%s" LAYER ("application/vnd.oci.image.layer.v1.tar+gzip", D2, 1),
                i ? "," : "");
  buf_append_str (&b, "]}");
  return buf_steal (&b);
}

static void
test_layer_count_bounded (void **state)
{
  cleanup_free char *ok = manifest_with_layers (MANIFEST_MAX_LAYERS);
  cleanup_free char *bad = manifest_with_layers (MANIFEST_MAX_LAYERS + 1);
  cleanup_manifest struct manifest *m = parse_ok (ok, MANIFEST_MT_OCI_MANIFEST);

  assert_int_equal (m->n_layers, MANIFEST_MAX_LAYERS);
  assert_parse_fails (bad, MANIFEST_MT_OCI_MANIFEST, "more than the limit");
}

static void
test_manifest_size_bounded (void **state)
{
  cleanup_error struct error *err = NULL;
  struct manifest *m = NULL;
  size_t len = MANIFEST_MAX_SIZE + 1;
  cleanup_free char *big = xmalloc (len);

  memset (big, ' ', len);
  assert_true (manifest_parse (big, len, NULL, &m, &err) < 0);
  assert_contains (err->msg, "larger than the limit");
}

/* ---- indexes ----------------------------------------------------------- */

static void
test_oci_index (void **state)
{
  cleanup_manifest struct manifest *m = parse_ok (oci_index, MANIFEST_MT_OCI_INDEX);

  assert_int_equal (m->kind, MANIFEST_INDEX);
  /* The attestation and the nested index are skipped. */
  assert_int_equal (m->n_entries, 4);
  assert_string_equal (m->entries[0].digest, D1);
  assert_true (m->entries[0].has_platform);
  assert_string_equal (m->entries[0].platform.os, "linux");
  assert_string_equal (m->entries[0].platform.architecture, "amd64");
  assert_null (m->entries[0].platform.variant);
  assert_string_equal (m->entries[1].platform.variant, "v8");
  assert_int_equal (m->entries[1].size, 500);
}

static void
test_docker_list_with_os_version (void **state)
{
  cleanup_manifest struct manifest *m = parse_ok (
      "{\"schemaVersion\":2,\"mediaType\":\"" MANIFEST_MT_DOCKER_LIST "\",\"manifests\":["
      ENTRY (MANIFEST_MT_DOCKER_MANIFEST, D1,
             ",\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\",\"os.version\":\"10.0.17763.1\"}")
      "]}",
      MANIFEST_MT_DOCKER_LIST);

  assert_int_equal (m->n_entries, 1);
  assert_string_equal (m->entries[0].platform.os_version, "10.0.17763.1");
}

static void
test_index_entry_without_platform (void **state)
{
  cleanup_manifest struct manifest *m
      = parse_ok ("{\"schemaVersion\":2,\"manifests\":[" ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, "") "]}",
                  MANIFEST_MT_OCI_INDEX);

  assert_int_equal (m->n_entries, 1);
  assert_false (m->entries[0].has_platform);
}

static void
test_malformed_index_fails (void **state)
{
#define IDX(entries) "{\"schemaVersion\":2,\"manifests\":[" entries "]}"
  assert_parse_fails ("{\"schemaVersion\":2}", MANIFEST_MT_OCI_INDEX, "missing \"manifests\"");
  assert_parse_fails ("{\"schemaVersion\":2,\"manifests\":{}}", MANIFEST_MT_OCI_INDEX,
                      "\"manifests\" must be an array");
  assert_parse_fails (IDX ("7"), MANIFEST_MT_OCI_INDEX, "manifests[0]: must be an object");
  assert_parse_fails (IDX (ENTRY (MANIFEST_MT_OCI_MANIFEST, "sha256:xyz", "")), MANIFEST_MT_OCI_INDEX,
                      "invalid digest");
  /* Even entries we would skip must be well formed. */
  assert_parse_fails (IDX (ENTRY ("application/x-unknown", "md5:00", "")), MANIFEST_MT_OCI_INDEX,
                      "invalid digest");
  assert_parse_fails (IDX (ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, ",\"platform\":\"linux/amd64\"")),
                      MANIFEST_MT_OCI_INDEX, "\"platform\" must be an object");
  assert_parse_fails (IDX (ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, ",\"platform\":{\"os\":\"linux\"}")),
                      MANIFEST_MT_OCI_INDEX, "missing \"architecture\"");
  assert_parse_fails (IDX (ENTRY (MANIFEST_MT_OCI_MANIFEST, D1,
                                  ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\",\"variant\":8}")),
                      MANIFEST_MT_OCI_INDEX, "\"variant\" must be a string");
#undef IDX
}

static void
test_index_entry_count_bounded (void **state)
{
  struct buf b = BUF_INIT;
  cleanup_free char *json = NULL;

  buf_append_str (&b, "{\"schemaVersion\":2,\"manifests\":[");
  for (size_t i = 0; i <= MANIFEST_MAX_ENTRIES; i++)
    buf_printf (&b, "%s" ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, PLAT ("linux", "amd64")), i ? "," : "");
  buf_append_str (&b, "]}");
  json = buf_steal (&b);
  assert_parse_fails (json, MANIFEST_MT_OCI_INDEX, "more than the limit");
}

/* ---- platforms --------------------------------------------------------- */

static void
assert_platform (const char *s, const char *os, const char *arch, const char *variant)
{
  cleanup_error struct error *err = NULL;
  struct manifest_platform p = { 0 };

  if (manifest_platform_parse (s, &p, &err) < 0)
    fail_msg ("\"%s\": %s", s, err->msg);
  assert_string_equal (p.os, os);
  assert_string_equal (p.architecture, arch);
  if (variant)
    assert_string_equal (p.variant, variant);
  else
    assert_null (p.variant);
  manifest_platform_clear (&p);
}

static void
test_platform_parse (void **state)
{
  assert_platform ("linux/amd64", "linux", "amd64", NULL);
  assert_platform ("amd64", "linux", "amd64", NULL);
  assert_platform ("linux/arm64", "linux", "arm64", "v8");
  assert_platform ("linux/arm64/v8", "linux", "arm64", "v8");
  assert_platform ("linux/arm", "linux", "arm", "v7");
  assert_platform ("linux/arm/v6", "linux", "arm", "v6");
  assert_platform ("linux/arm/7", "linux", "arm", "v7");
  assert_platform ("Linux/AMD64", "linux", "amd64", NULL);
  assert_platform ("linux/ppc64le", "linux", "ppc64le", NULL);
}

static void
test_platform_aliases (void **state)
{
  assert_platform ("linux/x86_64", "linux", "amd64", NULL);
  assert_platform ("linux/aarch64", "linux", "arm64", "v8");
  assert_platform ("linux/armhf", "linux", "arm", "v7");
  assert_platform ("linux/armel", "linux", "arm", "v6");
  assert_platform ("linux/i386", "linux", "386", NULL);
  assert_platform ("linux/amd64/v1", "linux", "amd64", NULL);
  assert_platform ("linux/amd64/v3", "linux", "amd64", "v3");
}

static void
test_platform_parse_malformed (void **state)
{
  static const char *const bad[] = { "", "/", "linux/", "/amd64", "linux//v7", "a/b/c/d",
                                     "linux/amd 64", "linux/amd64/\n" };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error struct error *err = NULL;
      struct manifest_platform p = { 0 };

      if (manifest_platform_parse (bad[i], &p, &err) == 0)
        fail_msg ("\"%s\" was accepted", bad[i]);
      assert_contains (err->msg, "os/arch[/variant]");
      assert_null (p.os);
    }
}

static void
assert_uname (const char *machine, const char *arch, const char *variant)
{
  cleanup_free char *a = NULL;
  cleanup_free char *v = NULL;

  manifest_arch_from_uname (machine, &a, &v);
  assert_string_equal (a, arch);
  if (variant)
    assert_string_equal (v, variant);
  else
    assert_null (v);
}

static void
test_arch_from_uname (void **state)
{
  assert_uname ("x86_64", "amd64", NULL);
  assert_uname ("aarch64", "arm64", "v8");
  assert_uname ("armv7l", "arm", "v7");
  assert_uname ("armv6l", "arm", "v6");
  assert_uname ("armv8l", "arm", "v7");
  assert_uname ("i686", "386", NULL);
  assert_uname ("ppc64le", "ppc64le", NULL);
  assert_uname ("s390x", "s390x", NULL);
  assert_uname ("riscv64", "riscv64", NULL);
}

static void
test_platform_host (void **state)
{
  struct manifest_platform p;

  manifest_platform_host (&p);
  assert_string_equal (p.os, "linux");
  assert_non_null (p.architecture);
  assert_true (strlen (p.architecture) > 0);
  manifest_platform_clear (&p);
}

static void
test_platform_format (void **state)
{
  struct manifest_platform a = { .os = "linux", .architecture = "arm", .variant = "v7" };
  struct manifest_platform b = { .os = "linux", .architecture = "amd64" };
  cleanup_free char *sa = manifest_platform_format (&a);
  cleanup_free char *sb = manifest_platform_format (&b);

  assert_string_equal (sa, "linux/arm/v7");
  assert_string_equal (sb, "linux/amd64");
}

static const char *
select_digest (const char *json, const char *platform)
{
  static char digest[512];
  cleanup_error struct error *err = NULL;
  cleanup_manifest struct manifest *m = parse_ok (json, NULL);
  struct manifest_platform want = { 0 };
  const struct manifest_descriptor *d;

  if (manifest_platform_parse (platform, &want, &err) < 0)
    fail_msg ("%s", err->msg);
  d = manifest_select_platform (m, &want, &err);
  manifest_platform_clear (&want);
  if (d == NULL)
    {
      snprintf (digest, sizeof digest, "error: %s", err->msg);
      return digest;
    }
  snprintf (digest, sizeof digest, "%s", d->digest);
  return digest;
}

static void
test_select_exact (void **state)
{
  assert_string_equal (select_digest (oci_index, "linux/amd64"), D1);
  assert_string_equal (select_digest (oci_index, "linux/arm64"), D2);
  assert_string_equal (select_digest (oci_index, "linux/arm/v7"), D3);
  assert_string_equal (select_digest (oci_index, "linux/arm/v6"), D4);
  assert_string_equal (select_digest (oci_index, "linux/arm"), D3);
}

static void
test_select_arm64_entry_without_variant (void **state)
{
  static const char idx[] = "{\"schemaVersion\":2,\"manifests\":["
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, PLAT ("linux", "amd64")) ","
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D2, PLAT ("linux", "arm64")) "]}";

  assert_string_equal (select_digest (idx, "linux/arm64/v8"), D2);
  assert_string_equal (select_digest (idx, "linux/aarch64"), D2);
}

static void
test_select_older_arm_variant (void **state)
{
  static const char idx[] = "{\"schemaVersion\":2,\"manifests\":["
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, PLATV ("linux", "arm", "v5")) ","
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D2, PLATV ("linux", "arm", "v6")) "]}";

  assert_string_equal (select_digest (idx, "linux/arm/v7"), D2);
  assert_string_equal (select_digest (idx, "linux/arm/v6"), D2);
  assert_string_equal (select_digest (idx, "linux/arm/v5"), D1);
}

static void
test_select_newer_variant_never_chosen (void **state)
{
  static const char idx[] = "{\"schemaVersion\":2,\"manifests\":["
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, PLATV ("linux", "arm", "v7")) "]}";

  assert_contains (select_digest (idx, "linux/arm/v6"), "error: no image found");
}

static void
test_select_first_match_wins (void **state)
{
  static const char idx[] = "{\"schemaVersion\":2,\"manifests\":["
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D3, "") ","
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D1, PLAT ("linux", "amd64")) ","
                            ENTRY (MANIFEST_MT_OCI_MANIFEST, D2, PLAT ("linux", "amd64")) "]}";

  assert_string_equal (select_digest (idx, "linux/amd64"), D1);
}

static void
test_select_no_match_lists_platforms (void **state)
{
  const char *e = select_digest (oci_index, "linux/s390x");

  assert_contains (e, "error: no image found in image index for architecture \"s390x\", OS \"linux\"");
  assert_contains (e, "linux/amd64, linux/arm64/v8, linux/arm/v7, linux/arm/v6");
  assert_contains (select_digest (oci_index, "windows/amd64"), "OS \"windows\"");
  assert_contains (select_digest (oci_index, "linux/arm64/v9"), "variant \"v9\"");
}

static void
test_select_on_image_manifest_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_manifest struct manifest *m = parse_ok (oci_manifest, NULL);
  struct manifest_platform want = { .os = "linux", .architecture = "amd64" };

  assert_null (manifest_select_platform (m, &want, &err));
  assert_contains (err->msg, "not an image index");
}

static void
test_select_empty_index (void **state)
{
  assert_contains (select_digest ("{\"schemaVersion\":2,\"manifests\":[]}", "linux/amd64"),
                   "available: none");
}

/* ---- configs ----------------------------------------------------------- */

static const char full_config[] =
  "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\",\"created\":\"2024-01-02T03:04:05Z\","
  "\"author\":\"me\",\"config\":{\"User\":\"1000:1000\",\"Env\":[\"PATH=/bin\",\"A=b=c\"],"
  "\"Entrypoint\":[\"/init\"],\"Cmd\":[\"sh\",\"-c\",\"true\"],\"WorkingDir\":\"/srv\","
  "\"Labels\":{\"org.x\":\"1\"},\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
  "\"Volumes\":{\"/data\":{}},\"StopSignal\":\"SIGINT\",\"Unknown\":true},"
  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]},"
  "\"history\":[{\"created\":\"2024\",\"created_by\":\"ADD x\"},"
  "{\"created_by\":\"ENV y\",\"empty_layer\":true,\"comment\":\"c\",\"author\":\"a\"},"
  "{\"created_by\":\"RUN z\"}]}";

static struct manifest_config *
config_ok (const char *json, long n_layers)
{
  cleanup_error struct error *err = NULL;
  struct manifest_config *c = NULL;

  if (manifest_config_parse (json, strlen (json), n_layers, &c, &err) < 0)
    fail_msg ("%s", err->msg);
  return c;
}

static void
assert_config_fails (const char *json, long n_layers, const char *want)
{
  cleanup_error struct error *err = NULL;
  struct manifest_config *c = NULL;

  assert_true (manifest_config_parse (json, strlen (json), n_layers, &c, &err) < 0);
  assert_null (c);
  assert_contains (err->msg, want);
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\"]}"

static void
test_config_full (void **state)
{
  cleanup_manifest_config struct manifest_config *c = config_ok (full_config, 2);

  assert_string_equal (c->architecture, "arm64");
  assert_string_equal (c->os, "linux");
  assert_string_equal (c->variant, "v8");
  assert_string_equal (c->created, "2024-01-02T03:04:05Z");
  assert_string_equal (c->author, "me");
  assert_string_equal (c->user, "1000:1000");
  assert_int_equal (strv_len (c->env), 2);
  assert_string_equal (c->env[1], "A=b=c");
  assert_string_equal (c->entrypoint[0], "/init");
  assert_null (c->entrypoint[1]);
  assert_int_equal (strv_len (c->cmd), 3);
  assert_string_equal (c->working_dir, "/srv");
  assert_string_equal (c->label_keys[0], "org.x");
  assert_string_equal (c->label_values[0], "1");
  assert_int_equal (strv_len (c->exposed_ports), 2);
  assert_string_equal (c->volumes[0], "/data");
  assert_string_equal (c->stop_signal, "SIGINT");
  assert_int_equal (c->n_diff_ids, 2);
  assert_string_equal (c->diff_ids[1], D2);
  assert_int_equal (c->n_history, 3);
  assert_string_equal (c->history[0].created_by, "ADD x");
  assert_false (c->history[0].empty_layer);
  assert_true (c->history[1].empty_layer);
  assert_string_equal (c->history[1].comment, "c");
}

static void
test_config_minimal (void **state)
{
  cleanup_manifest_config struct manifest_config *c = config_ok ("{" ROOTFS "}", 1);

  assert_null (c->architecture);
  assert_null (c->env);
  assert_null (c->cmd);
  assert_null (c->entrypoint);
  assert_null (c->label_keys);
  assert_int_equal (c->n_history, 0);
}

static void
test_config_null_and_empty_arrays_differ (void **state)
{
  cleanup_manifest_config struct manifest_config *c
      = config_ok ("{\"config\":{\"Entrypoint\":null,\"Cmd\":[],\"Labels\":null}," ROOTFS "}", 1);

  assert_null (c->entrypoint);
  assert_non_null (c->cmd);
  assert_null (c->cmd[0]);
  assert_null (c->label_keys);
}

static void
test_config_diff_ids_must_match_layers (void **state)
{
  cleanup_manifest_config struct manifest_config *c = config_ok (full_config, -1);

  assert_int_equal (c->n_diff_ids, 2);
  assert_config_fails (full_config, 3, "2 diff_ids for 3 layers");
  assert_config_fails (full_config, 0, "2 diff_ids for 0 layers");
}

static void
test_config_rootfs_checked (void **state)
{
  assert_config_fails ("{\"os\":\"linux\"}", -1, "missing \"rootfs\"");
  assert_config_fails ("{\"rootfs\":[]}", -1, "\"rootfs\" must be an object");
  assert_config_fails ("{\"rootfs\":{\"diff_ids\":[]}}", -1, "missing \"type\"");
  assert_config_fails ("{\"rootfs\":{\"type\":\"squash\",\"diff_ids\":[]}}", -1,
                       "unsupported rootfs type");
  assert_config_fails ("{\"rootfs\":{\"type\":\"layers\"}}", -1, "missing \"rootfs\".\"diff_ids\"");
  assert_config_fails ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":\"" D1 "\"}}", -1,
                       "\"diff_ids\" must be an array");
  assert_config_fails ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:00\"]}}", -1,
                       "invalid digest");
  assert_config_fails ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[1]}}", -1,
                       "\"diff_ids\"[0] must be a string");
}

static void
test_config_mistyped_fields_fail (void **state)
{
  assert_config_fails ("{\"architecture\":64," ROOTFS "}", 1, "\"architecture\" must be a string");
  assert_config_fails ("{\"config\":[]," ROOTFS "}", 1, "\"config\" must be an object");
  assert_config_fails ("{\"config\":{\"Env\":\"PATH=/bin\"}," ROOTFS "}", 1,
                       "\"Env\" must be an array");
  assert_config_fails ("{\"config\":{\"Cmd\":[\"sh\",1]}," ROOTFS "}", 1, "\"Cmd\"[1] must be a string");
  assert_config_fails ("{\"config\":{\"Labels\":{\"a\":1}}," ROOTFS "}", 1,
                       "\"Labels\".\"a\" must be a string");
  assert_config_fails ("{\"config\":{\"ExposedPorts\":[\"80/tcp\"]}," ROOTFS "}", 1,
                       "\"ExposedPorts\" must be an object");
  assert_config_fails ("{\"config\":{\"User\":0}," ROOTFS "}", 1, "\"User\" must be a string");
}

static void
test_config_history_checked (void **state)
{
  assert_config_fails ("{\"history\":{}," ROOTFS "}", 1, "\"history\" must be an array");
  assert_config_fails ("{\"history\":[\"x\"]," ROOTFS "}", 1, "history[0]: must be an object");
  assert_config_fails ("{\"history\":[{\"empty_layer\":\"yes\"}]," ROOTFS "}", 1,
                       "\"empty_layer\" must be a boolean");
  assert_config_fails ("{\"history\":[{},{\"created_by\":5}]," ROOTFS "}", 1,
                       "history[1]: \"created_by\" must be a string");
}

static void
test_config_invalid_json (void **state)
{
  assert_config_fails ("{\"rootfs\":", 1, "image config");
  assert_config_fails ("[]", 1, "not a JSON object");
  assert_config_fails ("null", 1, "null");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_oci_manifest),
    cmocka_unit_test (test_docker_manifest),
    cmocka_unit_test (test_manifest_without_layers),
    cmocka_unit_test (test_content_type_parameters_ignored),
    cmocka_unit_test (test_generic_content_type_uses_media_type_field),
    cmocka_unit_test (test_no_type_at_all_uses_shape),
    cmocka_unit_test (test_unrecognisable_shape_fails),
    cmocka_unit_test (test_content_type_contradicting_field_fails),
    cmocka_unit_test (test_schema1_is_unsupported),
    cmocka_unit_test (test_control_characters_in_names_refused),
    cmocka_unit_test (test_unknown_media_type_fails),
    cmocka_unit_test (test_media_type_predicates),
    cmocka_unit_test (test_invalid_json_fails),
    cmocka_unit_test (test_schema_version_checked),
    cmocka_unit_test (test_missing_or_mistyped_config_fails),
    cmocka_unit_test (test_artifact_config_is_not_an_image),
    cmocka_unit_test (test_oversized_config_descriptor_fails),
    cmocka_unit_test (test_missing_or_mistyped_layers_fails),
    cmocka_unit_test (test_layer_missing_fields_fail),
    cmocka_unit_test (test_bad_digests_fail),
    cmocka_unit_test (test_bad_sizes_fail),
    cmocka_unit_test (test_foreign_layers_rejected),
    cmocka_unit_test (test_unknown_layer_type_rejected),
    cmocka_unit_test (test_layer_count_bounded),
    cmocka_unit_test (test_manifest_size_bounded),
    cmocka_unit_test (test_oci_index),
    cmocka_unit_test (test_docker_list_with_os_version),
    cmocka_unit_test (test_index_entry_without_platform),
    cmocka_unit_test (test_malformed_index_fails),
    cmocka_unit_test (test_index_entry_count_bounded),
    cmocka_unit_test (test_platform_parse),
    cmocka_unit_test (test_platform_aliases),
    cmocka_unit_test (test_platform_parse_malformed),
    cmocka_unit_test (test_arch_from_uname),
    cmocka_unit_test (test_platform_host),
    cmocka_unit_test (test_platform_format),
    cmocka_unit_test (test_select_exact),
    cmocka_unit_test (test_select_arm64_entry_without_variant),
    cmocka_unit_test (test_select_older_arm_variant),
    cmocka_unit_test (test_select_newer_variant_never_chosen),
    cmocka_unit_test (test_select_first_match_wins),
    cmocka_unit_test (test_select_no_match_lists_platforms),
    cmocka_unit_test (test_select_on_image_manifest_fails),
    cmocka_unit_test (test_select_empty_index),
    cmocka_unit_test (test_config_full),
    cmocka_unit_test (test_config_minimal),
    cmocka_unit_test (test_config_null_and_empty_arrays_differ),
    cmocka_unit_test (test_config_diff_ids_must_match_layers),
    cmocka_unit_test (test_config_rootfs_checked),
    cmocka_unit_test (test_config_mistyped_fields_fail),
    cmocka_unit_test (test_config_history_checked),
    cmocka_unit_test (test_config_invalid_json),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
