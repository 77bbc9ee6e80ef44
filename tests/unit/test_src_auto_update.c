/* Tests for src/auto_update.c's pure parts: policy labels, the unit label
 * recorded at creation, which containers a run plans to update (and the
 * failures that stop it), and the report row. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/auto_update.h"

#define ID_A "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000001"
#define ID_B "bbbbbbbbbbbb0000000000000000000000000000000000000000000000000002"
#define ID_C "cccccccccccc0000000000000000000000000000000000000000000000000003"

/* A container record as container_list() gives it, with LABELS (a JSON
 * object text, or NULL for a config without labels). */
static struct container *
fake_container (const char *id, const char *name, const char *image_name,
                enum container_status status, const char *labels)
{
  struct container *c = xcalloc (1, sizeof *c);
  json_object *cfg = json_object_new_object ();

  c->id = xstrdup (id);
  c->name = xstrdup (name);
  c->image_id = xstrdup ("sha256:1111111111111111111111111111111111111111111111111111111111111111");
  c->image_name = image_name ? xstrdup (image_name) : NULL;
  c->state.status = status;
  c->config = json_object_new_object ();
  json_object_object_add (c->config, "Config", cfg);
  if (labels)
    json_object_object_add (cfg, "Labels", json_tokener_parse (labels));
  return c;
}

static const char *
first_failure (const struct auto_update_result *r)
{
  return r->n_failures ? r->failures[0]->msg : NULL;
}

/* ---- policies ------------------------------------------------------------ */

static void
test_policy_names (void **state)
{
  static const struct
  {
    const char *value;
    enum auto_update_policy want;
  } cases[] = {
    { "registry", AUTO_UPDATE_REGISTRY }, { "image", AUTO_UPDATE_REGISTRY },
    { "local", AUTO_UPDATE_LOCAL },       { "disabled", AUTO_UPDATE_DISABLED },
    { "", AUTO_UPDATE_DISABLED },
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct error *err = NULL;
      enum auto_update_policy p = AUTO_UPDATE_LOCAL + 1;

      assert_int_equal (auto_update_policy_parse (cases[i].value, &p, &err), 0);
      assert_int_equal (p, cases[i].want);
      assert_null (err);
    }
  assert_string_equal (auto_update_policy_name (AUTO_UPDATE_REGISTRY), "registry");
  assert_string_equal (auto_update_policy_name (AUTO_UPDATE_LOCAL), "local");
  assert_string_equal (auto_update_policy_name (AUTO_UPDATE_DISABLED), "disabled");
}

static void
test_policy_unknown_values_name_the_valid_ones (void **state)
{
  static const char *const bad[] = { "Registry", "weekly", " registry", "registry\n", "local=1" };

  (void) state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct error *err = NULL;
      enum auto_update_policy p = AUTO_UPDATE_LOCAL;
      cleanup_free char *want = xasprintf ("invalid auto-update policy \"%s\": valid policies are "
                                           "[\"disabled\" \"image\" \"local\" \"registry\"]",
                                           bad[i]);

      assert_true (auto_update_policy_parse (bad[i], &p, &err) < 0);
      assert_non_null (err);
      assert_string_equal (err->msg, want);
      assert_int_equal (p, AUTO_UPDATE_LOCAL);
      err_release (&err);
    }
}

/* ---- the unit label -------------------------------------------------------- */

static void
test_record_unit_sets_the_label (void **state)
{
  cleanup_json json_object *cfg = json_tokener_parse ("{\"Config\": {\"Labels\": {\"a\": \"b\"}}}");
  json_object *labels = jobj_get_object (jobj_get_object (cfg, "Config"), "Labels");

  (void) state;
  auto_update_record_unit (cfg, "container-web.service");
  assert_string_equal (jobj_get_string (labels, "PODMAN_SYSTEMD_UNIT"), "container-web.service");
  assert_string_equal (jobj_get_string (labels, "a"), "b");
  /* The unit's value wins over a --label of the same name, as in podman. */
  auto_update_record_unit (cfg, "other.service");
  assert_string_equal (jobj_get_string (labels, "PODMAN_SYSTEMD_UNIT"), "other.service");
}

static void
test_record_unit_without_a_unit_or_labels (void **state)
{
  cleanup_json json_object *cfg = json_tokener_parse ("{\"Config\": {\"Labels\": {}}}");
  cleanup_json json_object *bare = json_tokener_parse ("{\"Config\": {}}");
  cleanup_json json_object *odd = json_tokener_parse ("{\"Config\": \"x\"}");
  json_object *labels = jobj_get_object (jobj_get_object (cfg, "Config"), "Labels");

  (void) state;
  auto_update_record_unit (cfg, NULL);
  auto_update_record_unit (cfg, "");
  assert_int_equal (json_object_object_length (labels), 0);
  auto_update_record_unit (bare, "u.service");
  assert_null (jobj_get_object (jobj_get_object (bare, "Config"), "Labels"));
  auto_update_record_unit (odd, "u.service");
  auto_update_record_unit (NULL, "u.service");
}

/* ---- plan ------------------------------------------------------------ */

static void
test_plan_takes_running_labelled_containers_with_a_unit (void **state)
{
  struct container *v[] = {
    fake_container (ID_A, "web", "127.0.0.1:5000/app:latest", CONTAINER_RUNNING,
                    "{\"io.containers.autoupdate\": \"registry\","
                    " \"PODMAN_SYSTEMD_UNIT\": \"container-web.service\","
                    " \"io.containers.autoupdate.authfile\": \"/a/auth.json\"}"),
    fake_container (ID_B, "stopped", "127.0.0.1:5000/app:latest", CONTAINER_EXITED,
                    "{\"io.containers.autoupdate\": \"registry\","
                    " \"PODMAN_SYSTEMD_UNIT\": \"b.service\"}"),
    fake_container (ID_C, "plain", "docker.io/library/busybox:latest", CONTAINER_RUNNING,
                    "{\"PODMAN_SYSTEMD_UNIT\": \"c.service\"}"),
    fake_container (ID_C, "off", "x", CONTAINER_RUNNING,
                    "{\"io.containers.autoupdate\": \"disabled\"}"),
    fake_container (ID_B, "nolabels", "x", CONTAINER_RUNNING, NULL),
    fake_container (ID_B, "loc", "localhost/mine:1", CONTAINER_RUNNING,
                    "{\"io.containers.autoupdate\": \"local\","
                    " \"PODMAN_SYSTEMD_UNIT\": \"loc.service\"}"),
    fake_container (ID_C, "paused", "localhost/mine:1", CONTAINER_PAUSED,
                    "{\"io.containers.autoupdate\": \"local\","
                    " \"PODMAN_SYSTEMD_UNIT\": \"p.service\"}"),
    NULL,
  };
  struct auto_update_result r = { 0 };

  (void) state;
  auto_update_plan (v, &r);
  assert_null (first_failure (&r));
  assert_int_equal (r.n_tasks, 2);
  assert_ptr_equal (r.tasks[0].ctr, v[0]);
  assert_int_equal (r.tasks[0].policy, AUTO_UPDATE_REGISTRY);
  assert_string_equal (r.tasks[0].unit, "container-web.service");
  assert_string_equal (r.tasks[0].authfile, "/a/auth.json");
  assert_string_equal (r.tasks[0].status, AUTO_UPDATE_NOT_UPDATED);
  assert_ptr_equal (r.tasks[1].ctr, v[5]);
  assert_int_equal (r.tasks[1].policy, AUTO_UPDATE_LOCAL);
  assert_null (r.tasks[1].authfile);
  auto_update_result_clear (&r);
  for (size_t i = 0; v[i]; i++)
    container_free (v[i]);
}

static void
test_plan_failures (void **state)
{
  static const struct
  {
    const char *image;
    const char *labels;
    const char *want;
  } cases[] = {
    { "127.0.0.1:5000/app:latest", "{\"io.containers.autoupdate\": \"registry\"}",
      "auto-updating container \"" ID_A "\": no PODMAN_SYSTEMD_UNIT label found" },
    { "127.0.0.1:5000/app:latest",
      "{\"io.containers.autoupdate\": \"registry\", \"PODMAN_SYSTEMD_UNIT\": \"\"}",
      "auto-updating container \"" ID_A "\": no PODMAN_SYSTEMD_UNIT label found" },
    { "127.0.0.1:5000/app:latest",
      "{\"io.containers.autoupdate\": \"nightly\", \"PODMAN_SYSTEMD_UNIT\": \"u\"}",
      "invalid auto-update policy \"nightly\": valid policies are "
      "[\"disabled\" \"image\" \"local\" \"registry\"]" },
    { "busybox", "{\"io.containers.autoupdate\": \"registry\", \"PODMAN_SYSTEMD_UNIT\": \"u\"}",
      "auto-updating container \"" ID_A "\": image name \"busybox\" is not a fully-qualified "
      "reference" },
    { "0123456789ab", "{\"io.containers.autoupdate\": \"image\", \"PODMAN_SYSTEMD_UNIT\": \"u\"}",
      "auto-updating container \"" ID_A "\": image name \"0123456789ab\" is not a "
      "fully-qualified reference" },
    { "Bad::Name", "{\"io.containers.autoupdate\": \"registry\", \"PODMAN_SYSTEMD_UNIT\": \"u\"}",
      "auto-updating container \"" ID_A "\": image name \"Bad::Name\" is not a fully-qualified "
      "reference" },
    { NULL, "{\"io.containers.autoupdate\": \"registry\", \"PODMAN_SYSTEMD_UNIT\": \"u\"}",
      "auto-updating container \"" ID_A "\": image name \"\" is not a fully-qualified "
      "reference" },
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct container *v[] = {
        fake_container (ID_A, "web", cases[i].image, CONTAINER_RUNNING, cases[i].labels),
        NULL,
      };
      struct auto_update_result r = { 0 };

      auto_update_plan (v, &r);
      assert_int_equal (r.n_tasks, 0);
      assert_int_equal (r.n_failures, 1);
      assert_string_equal (first_failure (&r), cases[i].want);
      auto_update_result_clear (&r);
      container_free (v[0]);
    }
}

static void
test_plan_refuses_two_containers_in_one_unit (void **state)
{
  const char *labels = "{\"io.containers.autoupdate\": \"registry\","
                       " \"PODMAN_SYSTEMD_UNIT\": \"shared.service\"}";
  struct container *v[] = {
    fake_container (ID_A, "a", "quay.io/x/app:1", CONTAINER_RUNNING, labels),
    fake_container (ID_B, "b", "quay.io/x/app:1", CONTAINER_RUNNING, labels),
    fake_container (ID_C, "c", "quay.io/x/app:1", CONTAINER_RUNNING, labels),
    NULL,
  };
  struct auto_update_result r = { 0 };

  (void) state;
  auto_update_plan (v, &r);
  assert_int_equal (r.n_failures, 1);
  assert_string_equal (first_failure (&r),
                       "only 1 task per unit supported but unit shared.service has 3");
  auto_update_result_clear (&r);
  for (size_t i = 0; v[i]; i++)
    container_free (v[i]);
}

static void
test_plan_of_nothing (void **state)
{
  struct container *v[] = { NULL };
  struct auto_update_result r = { 0 };

  (void) state;
  auto_update_plan (v, &r);
  assert_int_equal (r.n_tasks, 0);
  assert_int_equal (r.n_failures, 0);
  auto_update_result_clear (&r);
}

/* ---- the report row ---------------------------------------------------------- */

static void
test_task_json_is_podmans_row (void **state)
{
  cleanup_container struct container *c
      = fake_container (ID_A, "web", "127.0.0.1:5000/app:latest", CONTAINER_RUNNING, "{}");
  struct auto_update_task t = {
    .ctr = c,
    .policy = AUTO_UPDATE_REGISTRY,
    .unit = "container-web.service",
    .status = AUTO_UPDATE_ROLLED_BACK,
  };
  cleanup_json json_object *o = auto_update_task_json (&t);

  (void) state;
  assert_string_equal (jobj_get_string (o, "Unit"), "container-web.service");
  assert_string_equal (jobj_get_string (o, "Container"), "aaaaaaaaaaaa (web)");
  assert_string_equal (jobj_get_string (o, "ContainerName"), "web");
  assert_string_equal (jobj_get_string (o, "ContainerID"), "aaaaaaaaaaaa");
  assert_string_equal (jobj_get_string (o, "Image"), "127.0.0.1:5000/app:latest");
  assert_string_equal (jobj_get_string (o, "Policy"), "registry");
  assert_string_equal (jobj_get_string (o, "Updated"), "rolled back");
  assert_int_equal (json_object_object_length (o), 7);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_policy_names),
    cmocka_unit_test (test_policy_unknown_values_name_the_valid_ones),
    cmocka_unit_test (test_record_unit_sets_the_label),
    cmocka_unit_test (test_record_unit_without_a_unit_or_labels),
    cmocka_unit_test (test_plan_takes_running_labelled_containers_with_a_unit),
    cmocka_unit_test (test_plan_failures),
    cmocka_unit_test (test_plan_refuses_two_containers_in_one_unit),
    cmocka_unit_test (test_plan_of_nothing),
    cmocka_unit_test (test_task_json_is_podmans_row),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
