/* Unit tests for src/image_archive.c: paths inside archives, docker-archive
 * manifest.json and OCI index.json from well-formed and hostile input, and
 * the Dockerfile instructions `import --change` applies. */
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
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/image_archive.h"
#include "src/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* ---- helpers ---- */

static void
assert_error_contains (struct error *err, const char *needle)
{
  assert_non_null (err);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", err->msg, needle);
}

static void
assert_clean (const char *in, const char *want)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *got = image_archive_clean_path (in, &err);

  if (got == NULL)
    fail_msg ("clean \"%s\": %s", in, err->msg);
  assert_string_equal (got, want);
}

static void
assert_path_rejected (const char *in, const char *needle)
{
  cleanup_error struct error *err = NULL;
  char *got = image_archive_clean_path (in, &err);

  assert_null (got);
  assert_error_contains (err, needle);
}

/* Parse manifest.json TEXT, expecting failure with NEEDLE in the error. */
static void
assert_manifest_rejected (const char *text, const char *needle)
{
  cleanup_error struct error *err = NULL;
  struct image_archive_docker_entry *v = NULL;
  size_t n = 0;

  assert_int_equal (image_archive_parse_docker_manifest (text, strlen (text), &v, &n, &err), -1);
  assert_null (v);
  assert_error_contains (err, needle);
}

static void
assert_index_rejected (const char *text, const char *needle)
{
  cleanup_error struct error *err = NULL;
  struct image_archive_oci_entry *v = NULL;
  size_t n = 0;

  assert_int_equal (image_archive_parse_oci_index (text, strlen (text), &v, &n, &err), -1);
  assert_null (v);
  assert_error_contains (err, needle);
}

/* Apply CHANGES to an empty config and return its JSON text. */
static char *
apply (const char *const *changes)
{
  cleanup_json json_object *config = json_object_new_object ();
  cleanup_error struct error *err = NULL;

  for (size_t i = 0; changes[i]; i++)
    if (image_archive_apply_change (config, changes[i], &err) < 0)
      fail_msg ("change \"%s\": %s", changes[i], err->msg);
  return jobj_to_string (config, false);
}

static void
assert_changes (const char *const *changes, const char *want)
{
  cleanup_free char *got = apply (changes);
  assert_string_equal (got, want);
}

static void
assert_change_rejected (const char *change, const char *needle)
{
  cleanup_json json_object *config = json_object_new_object ();
  cleanup_error struct error *err = NULL;
  cleanup_free char *after = NULL;

  assert_int_equal (image_archive_apply_change (config, change, &err), -1);
  assert_error_contains (err, needle);
  after = jobj_to_string (config, false);
  assert_string_equal (after, "{}");
}

/* ---- paths ---- */

static void
test_clean_path_canonical (void **state)
{
  (void) state;
  assert_clean ("abc.tar", "abc.tar");
  assert_clean ("./a//b/./c/", "a/b/c");
  assert_clean ("a/../b/layer.tar", "b/layer.tar");
}

static void
test_clean_path_traversal (void **state)
{
  (void) state;
  assert_path_rejected ("../../etc/passwd", "leads outside the archive");
  assert_path_rejected ("a/../../b", "leads outside the archive");
}

static void
test_clean_path_absolute (void **state)
{
  (void) state;
  assert_path_rejected ("/etc/passwd", "absolute");
}

static void
test_clean_path_empty (void **state)
{
  (void) state;
  assert_path_rejected ("", "names no file");
  assert_path_rejected ("./.", "names no file");
  assert_path_rejected ("a/..", "names no file");
}

static void
test_clean_path_too_long (void **state)
{
  cleanup_free char *lng = xmalloc (IMAGE_ARCHIVE_PATH_MAX + 2);

  (void) state;
  memset (lng, 'a', IMAGE_ARCHIVE_PATH_MAX + 1);
  lng[IMAGE_ARCHIVE_PATH_MAX + 1] = '\0';
  assert_path_rejected (lng, "longer than");
}

/* ---- manifest.json ---- */

static void
test_manifest_podman_layout (void **state)
{
  static const char text[] =
    "[{\"Config\":\"c0ffee.json\",\"RepoTags\":[\"docker.io/library/busybox:latest\","
    "\"busybox:1\"],\"Layers\":[\"aa.tar\",\"./bb/layer.tar\"]}]";
  cleanup_error struct error *err = NULL;
  struct image_archive_docker_entry *v = NULL;
  size_t n = 0;

  (void) state;
  assert_int_equal (image_archive_parse_docker_manifest (text, strlen (text), &v, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (v[0].config, "c0ffee.json");
  assert_string_equal (v[0].repo_tags[0], "docker.io/library/busybox:latest");
  assert_string_equal (v[0].repo_tags[1], "busybox:1");
  assert_null (v[0].repo_tags[2]);
  assert_int_equal (v[0].n_layers, 2);
  assert_string_equal (v[0].layers[1], "bb/layer.tar");
  image_archive_docker_entries_free (v, n);
}

static void
test_manifest_null_repo_tags (void **state)
{
  static const char text[] = "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[]},"
                             "{\"Config\":\"d.json\",\"Layers\":[\"l.tar\"]}]";
  cleanup_error struct error *err = NULL;
  struct image_archive_docker_entry *v = NULL;
  size_t n = 0;

  (void) state;
  assert_int_equal (image_archive_parse_docker_manifest (text, strlen (text), &v, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_null (v[0].repo_tags[0]);
  assert_int_equal (v[0].n_layers, 0);
  assert_null (v[1].repo_tags[0]);
  image_archive_docker_entries_free (v, n);
}

static void
test_manifest_invalid_json (void **state)
{
  (void) state;
  assert_manifest_rejected ("[{\"Config\":", "manifest.json");
  assert_manifest_rejected ("", "manifest.json");
  assert_manifest_rejected ("[{}] trailing", "manifest.json");
}

static void
test_manifest_not_array (void **state)
{
  (void) state;
  assert_manifest_rejected ("{\"Config\":\"c.json\",\"Layers\":[]}", "expected a JSON array");
}

static void
test_manifest_empty (void **state)
{
  (void) state;
  assert_manifest_rejected ("[]", "lists no image");
}

static void
test_manifest_wrong_types (void **state)
{
  (void) state;
  assert_manifest_rejected ("[42]", "image 1: not a JSON object");
  assert_manifest_rejected ("[{\"Config\":7,\"Layers\":[]}]", "\"Config\" must be a string");
  assert_manifest_rejected ("[{\"Layers\":[]}]", "\"Config\" must be a string");
  assert_manifest_rejected ("[{\"Config\":\"c\",\"Layers\":\"l.tar\"}]",
                            "\"Layers\" must be an array");
  assert_manifest_rejected ("[{\"Config\":\"c\",\"Layers\":[1]}]",
                            "\"Layers\"[0] must be a string");
  assert_manifest_rejected ("[{\"Config\":\"c\"}]", "\"Layers\" is missing");
  assert_manifest_rejected ("[{\"Config\":\"c\",\"RepoTags\":\"x\",\"Layers\":[]}]",
                            "\"RepoTags\" must be an array");
  assert_manifest_rejected ("[{\"Config\":\"c\",\"RepoTags\":[null],\"Layers\":[]}]",
                            "\"RepoTags\"[0] must be a string");
}

static void
test_manifest_traversal_in_layers (void **state)
{
  (void) state;
  assert_manifest_rejected ("[{\"Config\":\"c.json\",\"Layers\":[\"ok.tar\","
                            "\"../../etc/passwd\"]}]",
                            "\"Layers\"[1]: invalid path \"../../etc/passwd\": it leads outside");
}

static void
test_manifest_traversal_in_config (void **state)
{
  (void) state;
  assert_manifest_rejected ("[{\"Config\":\"/etc/shadow\",\"Layers\":[]}]",
                            "\"Config\": invalid path \"/etc/shadow\": absolute");
}

static void
test_manifest_second_image_named (void **state)
{
  (void) state;
  assert_manifest_rejected ("[{\"Config\":\"c\",\"Layers\":[]},{\"Config\":\"..\",\"Layers\":[]}]",
                            "manifest.json: image 2");
}

static void
test_manifest_too_many_images (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  (void) state;
  buf_append_char (&b, '[');
  for (int i = 0; i <= IMAGE_ARCHIVE_MAX_IMAGES; i++)
    buf_printf (&b, "%s{\"Config\":\"c\",\"Layers\":[]}", i ? "," : "");
  buf_append_char (&b, ']');
  assert_manifest_rejected (b.data, "more than the 1000 allowed");
}

static void
test_manifest_too_many_layers (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;

  (void) state;
  buf_append_str (&b, "[{\"Config\":\"c\",\"Layers\":[");
  for (int i = 0; i <= MANIFEST_MAX_LAYERS; i++)
    buf_printf (&b, "%s\"l%d.tar\"", i ? "," : "", i);
  buf_append_str (&b, "]}]");
  assert_manifest_rejected (b.data, "\"Layers\" has 1001 entries");
}

static void
test_manifest_too_large (void **state)
{
  size_t len = IMAGE_ARCHIVE_JSON_MAX + 1;
  cleanup_free char *big = xmalloc (len + 1);
  cleanup_error struct error *err = NULL;
  struct image_archive_docker_entry *v = NULL;
  size_t n = 0;

  (void) state;
  memset (big, ' ', len);
  big[0] = '[';
  big[len - 1] = ']';
  big[len] = '\0';
  assert_int_equal (image_archive_parse_docker_manifest (big, len, &v, &n, &err), -1);
  assert_error_contains (err, "more than the");
}

/* ---- index.json ---- */

static void
test_index_names (void **state)
{
  static const char text[] =
    "{\"schemaVersion\":2,\"manifests\":["
    "{\"mediaType\":\"" MANIFEST_MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\","
    "\"io.containerd.image.name\":\"docker.io/library/busybox:latest\"}},"
    "{\"mediaType\":\"application/vnd.example.artifact\",\"digest\":\"" D2 "\",\"size\":1},"
    "{\"mediaType\":\"" MANIFEST_MT_OCI_INDEX "\",\"digest\":\"" D2 "\",\"size\":20,"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}";
  cleanup_error struct error *err = NULL;
  struct image_archive_oci_entry *v = NULL;
  size_t n = 0;

  (void) state;
  assert_int_equal (image_archive_parse_oci_index (text, strlen (text), &v, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_string_equal (v[0].digest, D1);
  assert_int_equal (v[0].size, 10);
  assert_string_equal (v[0].name, "docker.io/library/busybox:latest");
  assert_string_equal (v[1].media_type, MANIFEST_MT_OCI_INDEX);
  assert_string_equal (v[1].name, "multi");
  image_archive_oci_entries_free (v, n);
}

static void
test_index_unnamed (void **state)
{
  static const char text[] = "{\"manifests\":[{\"mediaType\":\"" MANIFEST_MT_DOCKER_MANIFEST
                             "\",\"digest\":\"" D1 "\",\"size\":0}]}";
  cleanup_error struct error *err = NULL;
  struct image_archive_oci_entry *v = NULL;
  size_t n = 0;

  (void) state;
  assert_int_equal (image_archive_parse_oci_index (text, strlen (text), &v, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_null (v[0].name);
  image_archive_oci_entries_free (v, n);
}

static void
test_index_malformed (void **state)
{
  (void) state;
  assert_index_rejected ("[]", "expected a JSON object");
  assert_index_rejected ("{\"manifests\":{}}", "\"manifests\" must be an array");
  assert_index_rejected ("{\"schemaVersion\":1,\"manifests\":[]}", "schemaVersion");
  assert_index_rejected ("{\"manifests\":[]}", "lists no image");
  assert_index_rejected ("{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1}]}", "mediaType");
}

static void
test_index_bad_descriptor (void **state)
{
  (void) state;
  assert_index_rejected ("{\"manifests\":[{\"mediaType\":\"" MANIFEST_MT_OCI_MANIFEST
                         "\",\"digest\":\"sha256:../../x\",\"size\":1}]}",
                         "invalid digest");
  assert_index_rejected ("{\"manifests\":[{\"mediaType\":\"" MANIFEST_MT_OCI_MANIFEST
                         "\",\"digest\":\"" D1 "\",\"size\":-1}]}",
                         "\"size\" must be a non-negative integer");
  assert_index_rejected ("{\"manifests\":[{\"mediaType\":\"" MANIFEST_MT_OCI_MANIFEST
                         "\",\"digest\":\"" D1 "\",\"size\":\"1\"}]}",
                         "manifests[0]");
}

static void
test_index_only_artifacts (void **state)
{
  (void) state;
  assert_index_rejected ("{\"manifests\":[{\"mediaType\":\"application/x\",\"digest\":\"" D1
                         "\",\"size\":1}]}",
                         "lists no image");
}

/* ---- changes ---- */

static void
test_change_cmd_exec_form (void **state)
{
  static const char *const c[] = { "CMD [\"sh\", \"-c\", \"echo hi\"]", NULL };
  (void) state;
  assert_changes (c, "{\"Cmd\":[\"sh\",\"-c\",\"echo hi\"]}");
}

static void
test_change_cmd_shell_form (void **state)
{
  static const char *const c[] = { "cmd echo $HOME", NULL };
  (void) state;
  assert_changes (c, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo $HOME\"]}");
}

static void
test_change_cmd_broken_json_is_shell (void **state)
{
  static const char *const c[] = { "CMD [\"sh\"", NULL };
  (void) state;
  assert_changes (c, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"[\\\"sh\\\"\"]}");
}

static void
test_change_equals_separator (void **state)
{
  static const char *const c[] = { "ENTRYPOINT=[\"/init\"]", "USER=nobody", NULL };
  (void) state;
  assert_changes (c, "{\"Entrypoint\":[\"/init\"],\"User\":\"nobody\"}");
}

static void
test_change_entrypoint_empty_clears (void **state)
{
  static const char *const c[] = { "ENTRYPOINT /x", "ENTRYPOINT", NULL };
  (void) state;
  assert_changes (c, "{\"Entrypoint\":[]}");
}

static void
test_change_env_pairs (void **state)
{
  static const char *const c[] = { "ENV A=1 B=\"two words\" C=a\\ b", "ENV A=3", NULL };
  (void) state;
  assert_changes (c, "{\"Env\":[\"A=3\",\"B=two words\",\"C=a b\"]}");
}

static void
test_change_env_legacy (void **state)
{
  static const char *const c[] = { "ENV GREETING hello  world", NULL };
  (void) state;
  assert_changes (c, "{\"Env\":[\"GREETING=hello  world\"]}");
}

static void
test_change_label (void **state)
{
  static const char *const c[] = { "LABEL \"com.example.a\"=1 b='x y'", NULL };
  (void) state;
  assert_changes (c, "{\"Labels\":{\"com.example.a\":\"1\",\"b\":\"x y\"}}");
}

static void
test_change_expose (void **state)
{
  static const char *const c[] = { "EXPOSE 80 53/UDP 8000-8001/tcp", NULL };
  (void) state;
  assert_changes (c, "{\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},"
                     "\"8001/tcp\":{}}}");
}

static void
test_change_volume (void **state)
{
  static const char *const c[] = { "VOLUME [\"/data\"]", "VOLUME /a /b", NULL };
  (void) state;
  assert_changes (c, "{\"Volumes\":{\"/data\":{},\"/a\":{},\"/b\":{}}}");
}

static void
test_change_workdir_relative (void **state)
{
  static const char *const c[] = { "WORKDIR /app", "WORKDIR src/../lib", NULL };
  static const char *const up[] = { "WORKDIR ../../..", NULL };
  (void) state;
  assert_changes (c, "{\"WorkingDir\":\"/app/lib\"}");
  assert_changes (up, "{\"WorkingDir\":\"/\"}");
}

static void
test_change_stopsignal (void **state)
{
  static const char *const c[] = { "STOPSIGNAL SIGKILL", "STOPSIGNAL rtmin+3", "STOPSIGNAL 15",
                                   NULL };
  (void) state;
  assert_changes (c, "{\"StopSignal\":\"15\"}");
}

static void
test_change_onbuild (void **state)
{
  static const char *const c[] = { "ONBUILD RUN make", NULL };
  (void) state;
  assert_changes (c, "{\"OnBuild\":[\"RUN make\"]}");
  assert_change_rejected ("ONBUILD ONBUILD RUN x", "cannot trigger");
}

static void
test_change_unknown_instruction (void **state)
{
  (void) state;
  assert_change_rejected ("RUN rm -rf /", "unknown instruction \"RUN\"");
  assert_change_rejected ("", "expected an instruction");
  assert_change_rejected ("[\"sh\"]", "expected an instruction");
  assert_change_rejected ("CMD-[\"sh\"]", "expected an instruction");
}

static void
test_change_missing_values (void **state)
{
  (void) state;
  assert_change_rejected ("CMD", "CMD needs a command");
  assert_change_rejected ("USER  ", "USER needs a user");
  assert_change_rejected ("WORKDIR", "WORKDIR needs a path");
  assert_change_rejected ("ENV", "ENV needs KEY=VALUE");
  assert_change_rejected ("ENV LONELY", "needs a value");
  assert_change_rejected ("EXPOSE", "needs a port");
  assert_change_rejected ("VOLUME", "needs a path");
}

static void
test_change_bad_pairs_leave_config_alone (void **state)
{
  (void) state;
  assert_change_rejected ("ENV A=1 B", "\"B\" is not KEY=VALUE");
  assert_change_rejected ("LABEL =x", "empty key");
  assert_change_rejected ("ENV A=\"unterminated", "unterminated double quote");
}

static void
test_change_bad_ports (void **state)
{
  (void) state;
  assert_change_rejected ("EXPOSE 80 70000", "port");
  assert_change_rejected ("EXPOSE 0", "invalid port");
  assert_change_rejected ("EXPOSE 90-80", "invalid port");
  assert_change_rejected ("EXPOSE 80/icmp", "unknown protocol \"icmp\"");
  assert_change_rejected ("EXPOSE http", "port");
}

static void
test_change_bad_signal (void **state)
{
  (void) state;
  assert_change_rejected ("STOPSIGNAL SIGBOGUS", "unknown signal");
  assert_change_rejected ("STOPSIGNAL 99", "unknown signal");
  assert_change_rejected ("STOPSIGNAL RTMIN-1", "unknown signal");
}

static void
test_change_volume_empty_path (void **state)
{
  (void) state;
  assert_change_rejected ("VOLUME [\"/a\", \"\"]", "must not be empty");
}

/* ---- formats ---- */

static void
test_format_names (void **state)
{
  cleanup_error struct error *err = NULL;
  enum image_archive_format f;

  (void) state;
  assert_int_equal (image_archive_parse_format ("oci-archive", &f, &err), 0);
  assert_int_equal (f, IMAGE_ARCHIVE_OCI_ARCHIVE);
  assert_int_equal (image_archive_parse_format ("docker-dir", &f, &err), 0);
  assert_int_equal (f, IMAGE_ARCHIVE_DOCKER_DIR);
  assert_int_equal (image_archive_parse_format ("tar", &f, &err), -1);
  assert_error_contains (err, "unknown format \"tar\"");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clean_path_canonical),
    cmocka_unit_test (test_clean_path_traversal),
    cmocka_unit_test (test_clean_path_absolute),
    cmocka_unit_test (test_clean_path_empty),
    cmocka_unit_test (test_clean_path_too_long),
    cmocka_unit_test (test_manifest_podman_layout),
    cmocka_unit_test (test_manifest_null_repo_tags),
    cmocka_unit_test (test_manifest_invalid_json),
    cmocka_unit_test (test_manifest_not_array),
    cmocka_unit_test (test_manifest_empty),
    cmocka_unit_test (test_manifest_wrong_types),
    cmocka_unit_test (test_manifest_traversal_in_layers),
    cmocka_unit_test (test_manifest_traversal_in_config),
    cmocka_unit_test (test_manifest_second_image_named),
    cmocka_unit_test (test_manifest_too_many_images),
    cmocka_unit_test (test_manifest_too_many_layers),
    cmocka_unit_test (test_manifest_too_large),
    cmocka_unit_test (test_index_names),
    cmocka_unit_test (test_index_unnamed),
    cmocka_unit_test (test_index_malformed),
    cmocka_unit_test (test_index_bad_descriptor),
    cmocka_unit_test (test_index_only_artifacts),
    cmocka_unit_test (test_change_cmd_exec_form),
    cmocka_unit_test (test_change_cmd_shell_form),
    cmocka_unit_test (test_change_cmd_broken_json_is_shell),
    cmocka_unit_test (test_change_equals_separator),
    cmocka_unit_test (test_change_entrypoint_empty_clears),
    cmocka_unit_test (test_change_env_pairs),
    cmocka_unit_test (test_change_env_legacy),
    cmocka_unit_test (test_change_label),
    cmocka_unit_test (test_change_expose),
    cmocka_unit_test (test_change_volume),
    cmocka_unit_test (test_change_workdir_relative),
    cmocka_unit_test (test_change_stopsignal),
    cmocka_unit_test (test_change_onbuild),
    cmocka_unit_test (test_change_unknown_instruction),
    cmocka_unit_test (test_change_missing_values),
    cmocka_unit_test (test_change_bad_pairs_leave_config_alone),
    cmocka_unit_test (test_change_bad_ports),
    cmocka_unit_test (test_change_bad_signal),
    cmocka_unit_test (test_change_volume_empty_path),
    cmocka_unit_test (test_format_names),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
