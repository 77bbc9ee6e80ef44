/* Unit tests for src/container_commit_config.c: the committed image's
 * config (the parent's, the container's settings, --change, history and
 * the new diff ID) and the name it gets. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/container_commit.h"

#define DIFF_ID "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define PARENT_ID "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char parent_text[] =
  "{\"architecture\":\"amd64\",\"os\":\"linux\",\"author\":\"someone\","
  "\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"PATH=/bin\"],\"WorkingDir\":\"/\","
  "\"Labels\":{\"from\":\"parent\"}},"
  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" PARENT_ID "\"]},"
  "\"history\":[{\"created_by\":\"base\"}]}";

static const char ctr_text[] =
  "{\"Cmd\":[\"sleep\",\"10\"],\"Entrypoint\":null,\"Env\":[\"PATH=/bin\",\"A=1\"],"
  "\"Hostname\":\"abc\",\"Tty\":false,\"WorkingDir\":\"/srv\"}";

static json_object *
parse (const char *text)
{
  json_object *o = jobj_parse (text, strlen (text), "test", NULL);
  assert_non_null (o);
  return o;
}

static json_object *
build (char *const *changes, const char *author, const char *message, struct error **err)
{
  cleanup_json json_object *parent = parse (parent_text);
  cleanup_json json_object *ctr = parse (ctr_text);
  struct container_commit_config_opts o = { .diff_id = DIFF_ID,
                                            .created = "2024-01-02T03:04:05Z",
                                            .author = author, .message = message,
                                            .changes = changes };
  return container_commit_config (parent, ctr, &o, err);
}

static const char *
inner_string (json_object *cfg, const char *key)
{
  return jobj_get_string (jobj_get_object (cfg, "config"), key);
}

static void
test_config_appends_diff_id_and_history (void **state)
{
  cleanup_json json_object *cfg = build (NULL, NULL, NULL, NULL);
  json_object *ids = jobj_get_array (jobj_get_object (cfg, "rootfs"), "diff_ids");
  json_object *history = jobj_get_array (cfg, "history");
  (void) state;
  assert_int_equal (json_object_array_length (ids), 2);
  assert_string_equal (json_object_get_string (json_object_array_get_idx (ids, 0)), PARENT_ID);
  assert_string_equal (json_object_get_string (json_object_array_get_idx (ids, 1)), DIFF_ID);
  assert_int_equal (json_object_array_length (history), 2);
  assert_string_equal (jobj_get_string (json_object_array_get_idx (history, 1), "created_by"),
                       "sleep 10");
  assert_string_equal (jobj_get_string (cfg, "created"), "2024-01-02T03:04:05Z");
}

static void
test_config_takes_container_settings (void **state)
{
  cleanup_json json_object *cfg = build (NULL, NULL, NULL, NULL);
  json_object *inner = jobj_get_object (cfg, "config");
  json_object *cmd = jobj_get_array (inner, "Cmd");
  (void) state;
  assert_string_equal (json_object_get_string (json_object_array_get_idx (cmd, 0)), "sleep");
  assert_int_equal (json_object_array_length (jobj_get_array (inner, "Env")), 2);
  assert_string_equal (inner_string (cfg, "WorkingDir"), "/srv");
  /* What the container does not set stays the parent's; its own runtime
   * settings (Hostname, Tty) are not image settings. */
  assert_string_equal (jobj_get_string (jobj_get_object (inner, "Labels"), "from"), "parent");
  assert_null (jobj_get_string (inner, "Hostname"));
  assert_false (json_object_object_get_ex (inner, "Tty", NULL));
}

static void
test_config_author_and_comment (void **state)
{
  cleanup_json json_object *with = build (NULL, "me <me@example.com>", "hello", NULL);
  cleanup_json json_object *without = build (NULL, NULL, NULL, NULL);
  json_object *h;
  (void) state;
  assert_string_equal (jobj_get_string (with, "author"), "me <me@example.com>");
  assert_string_equal (jobj_get_string (with, "comment"), "hello");
  h = json_object_array_get_idx (jobj_get_array (with, "history"), 1);
  assert_string_equal (jobj_get_string (h, "comment"), "hello");
  assert_string_equal (jobj_get_string (h, "author"), "me <me@example.com>");
  /* The parent's author is not the committed image's. */
  assert_null (jobj_get_string (without, "author"));
  assert_null (jobj_get_string (without, "comment"));
}

static void
test_config_changes_applied_last (void **state)
{
  char *changes[] = { (char *) "CMD [\"echo\", \"hi\"]", (char *) "ENV B=2",
                      (char *) "LABEL x=y", NULL };
  cleanup_json json_object *cfg = build (changes, NULL, NULL, NULL);
  json_object *inner = jobj_get_object (cfg, "config");
  json_object *cmd = jobj_get_array (inner, "Cmd");
  json_object *env = jobj_get_array (inner, "Env");
  (void) state;
  assert_string_equal (json_object_get_string (json_object_array_get_idx (cmd, 0)), "echo");
  assert_string_equal (json_object_get_string (json_object_array_get_idx (env, 2)), "B=2");
  assert_string_equal (jobj_get_string (jobj_get_object (inner, "Labels"), "x"), "y");
}

static void
test_config_bad_change_fails (void **state)
{
  char *changes[] = { (char *) "FROBNICATE now", NULL };
  struct error *err = NULL;
  json_object *cfg = build (changes, NULL, NULL, &err);
  (void) state;
  assert_null (cfg);
  assert_non_null (err);
  err_release (&err);
}

static void
test_config_without_parent (void **state)
{
  cleanup_json json_object *ctr = parse (ctr_text);
  struct container_commit_config_opts o = { .diff_id = DIFF_ID, .created = "x" };
  cleanup_json json_object *cfg = container_commit_config (NULL, ctr, &o, NULL);
  json_object *ids = jobj_get_array (jobj_get_object (cfg, "rootfs"), "diff_ids");
  (void) state;
  assert_string_equal (jobj_get_string (jobj_get_object (cfg, "rootfs"), "type"), "layers");
  assert_int_equal (json_object_array_length (ids), 1);
  assert_int_equal (json_object_array_length (jobj_get_array (cfg, "history")), 1);
}

static void
test_config_leaves_inputs_alone (void **state)
{
  cleanup_json json_object *parent = parse (parent_text);
  cleanup_json json_object *ctr = parse (ctr_text);
  struct container_commit_config_opts o = { .diff_id = DIFF_ID, .created = "x" };
  cleanup_json json_object *cfg = container_commit_config (parent, ctr, &o, NULL);
  (void) state;
  assert_non_null (cfg);
  assert_int_equal (json_object_array_length (jobj_get_array (jobj_get_object (parent, "rootfs"),
                                                              "diff_ids")), 1);
  assert_string_equal (inner_string (parent, "WorkingDir"), "/");
}

static void
assert_name (const char *ref, const char *want)
{
  char *got = container_commit_name (ref, NULL);
  assert_string_equal (got, want);
  free (got);
}

static void
test_name_short_goes_under_localhost (void **state)
{
  (void) state;
  assert_name ("app", "localhost/app:latest");
  assert_name ("app:v2", "localhost/app:v2");
  assert_name ("team/app", "localhost/team/app:latest");
}

static void
test_name_with_registry_kept (void **state)
{
  (void) state;
  assert_name ("quay.io/x/app:1", "quay.io/x/app:1");
  assert_name ("localhost/app", "localhost/app:latest");
  assert_name ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest");
}

static void
test_name_rejects_digest_and_junk (void **state)
{
  struct error *err = NULL;
  (void) state;
  assert_null (container_commit_name ("app@sha256:" "1111111111111111111111111111111111111111111111111111111111111111",
                                      &err));
  assert_non_null (err);
  err_release (&err);
  assert_null (container_commit_name ("UPPER CASE", &err));
  assert_non_null (err);
  err_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_config_appends_diff_id_and_history),
    cmocka_unit_test (test_config_takes_container_settings),
    cmocka_unit_test (test_config_author_and_comment),
    cmocka_unit_test (test_config_changes_applied_last),
    cmocka_unit_test (test_config_bad_change_fails),
    cmocka_unit_test (test_config_without_parent),
    cmocka_unit_test (test_config_leaves_inputs_alone),
    cmocka_unit_test (test_name_short_goes_under_localhost),
    cmocka_unit_test (test_name_with_registry_kept),
    cmocka_unit_test (test_name_rejects_digest_and_junk),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
