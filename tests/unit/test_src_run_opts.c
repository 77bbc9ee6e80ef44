/* Tests for src/run_opts.c: flags to the creation config. */
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
#include "src/run_opts.h"

static const struct command fake_cmd = { .name = "run", .summary = "", .usage = "run" };

static json_object *
build (int argc, char **argv, const char *image_cfg, struct error **err)
{
  struct run_opts o;
  json_object *img = image_cfg ? json_tokener_parse (image_cfg) : NULL;
  json_object *cfg = NULL;

  if (run_opts_parse (&fake_cmd, argc, argv, &o, err) == 0)
    cfg = run_opts_to_config (&o, img, "sha256:00", "docker.io/library/x:latest", err);
  run_opts_clear (&o);
  json_object_put (img);
  return cfg;
}

static const char *
arr (json_object *cfg, const char *key)
{
  static char buf[512];
  json_object *a = jobj_get_array (jobj_get_object (cfg, "Config"), key);
  snprintf (buf, sizeof buf, "%s", a ? json_object_to_json_string_ext (a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
  return buf;
}

static void
test_image_entrypoint_and_cmd (void **state)
{
  char *argv[] = { "run", "img", NULL };
  json_object *c = build (2, argv, "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}", NULL);
  (void) state;
  assert_non_null (c);
  assert_string_equal (arr (c, "Entrypoint"), "[\"/ep\"]");
  assert_string_equal (arr (c, "Cmd"), "[\"a\"]");
  json_object_put (c);
}

static void
test_args_replace_cmd_keep_entrypoint (void **state)
{
  char *argv[] = { "run", "img", "x", "y", NULL };
  json_object *c = build (4, argv, "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}", NULL);
  (void) state;
  assert_string_equal (arr (c, "Entrypoint"), "[\"/ep\"]");
  assert_string_equal (arr (c, "Cmd"), "[\"x\",\"y\"]");
  json_object_put (c);
}

static void
test_entrypoint_flag_drops_image_cmd (void **state)
{
  char *argv[] = { "run", "--entrypoint", "/bin/sh", "img", NULL };
  json_object *c = build (4, argv, "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}", NULL);
  (void) state;
  assert_string_equal (arr (c, "Entrypoint"), "[\"/bin/sh\"]");
  assert_string_equal (arr (c, "Cmd"), "[]");
  json_object_put (c);
}

static void
test_empty_entrypoint_clears (void **state)
{
  char *argv[] = { "run", "--entrypoint", "", "img", "ls", NULL };
  json_object *c = build (5, argv, "{\"Entrypoint\":[\"/ep\"]}", NULL);
  (void) state;
  assert_string_equal (arr (c, "Entrypoint"), "[]");
  assert_string_equal (arr (c, "Cmd"), "[\"ls\"]");
  json_object_put (c);
}

static void
test_env_order_and_override (void **state)
{
  char *argv[] = { "run", "-e", "A=2", "-e", "B=3", "-e", "SKIFF_TEST_UNSET_VAR", "img", NULL };
  json_object *c = build (8, argv, "{\"Env\":[\"PATH=/bin\",\"A=1\"]}", NULL);
  (void) state;
  assert_string_equal (arr (c, "Env"), "[\"PATH=/bin\",\"A=2\",\"B=3\"]");
  json_object_put (c);
}

static void
test_env_from_host_by_name (void **state)
{
  char *argv[] = { "run", "-e", "SKIFF_T_VAR", "img", NULL };
  json_object *c;
  (void) state;
  setenv ("SKIFF_T_VAR", "v", 1);
  c = build (4, argv, NULL, NULL);
  assert_string_equal (arr (c, "Env"), "[\"SKIFF_T_VAR=v\"]");
  json_object_put (c);
}

static void
test_bad_values_fail (void **state)
{
  char *a1[] = { "run", "-e", "=x", "img", NULL };
  char *a2[] = { "run", "--restart", "sometimes", "img", NULL };
  char *a3[] = { "run", "--restart", "always:3", "img", NULL };
  char *a4[] = { "run", "--label", "=v", "img", NULL };
  char *a5[] = { "run", "--log-driver", "journald2", "img", NULL };
  char *a6[] = { "run", "--env-file", "/nonexistent/skiff", "img", NULL };
  char *a7[] = { "run", NULL };
  char *a8[] = { "run", "--stop-timeout", "x", "img", NULL };
  char **all[] = { a1, a2, a3, a4, a5, a6, a7, a8 };
  int counts[] = { 4, 4, 4, 4, 4, 4, 1, 4 };
  (void) state;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    {
      struct error *err = NULL;
      json_object *c = build (counts[i], all[i], NULL, &err);
      assert_null (c);
      assert_non_null (err);
      err_release (&err);
    }
}

static void
test_restart_policy_shape (void **state)
{
  char *argv[] = { "run", "--restart", "on-failure:3", "img", NULL };
  json_object *c = build (4, argv, NULL, NULL);
  json_object *rp = jobj_get_object (jobj_get_object (c, "HostConfig"), "RestartPolicy");
  (void) state;
  assert_string_equal (jobj_get_string (rp, "Name"), "on-failure");
  assert_int_equal (jobj_get_int (rp, "MaximumRetryCount", -1), 3);
  json_object_put (c);
}

static void
test_sdnotify_and_cgroups_recorded (void **state)
{
  char *argv[] = { "run", "--sdnotify=ignore", "--cgroups", "no-conmon", "img", NULL };
  json_object *c = build (5, argv, NULL, NULL);
  json_object *hc = jobj_get_object (c, "HostConfig");
  (void) state;
  assert_string_equal (jobj_get_string (hc, "SdNotifyMode"), "ignore");
  assert_string_equal (jobj_get_string (hc, "CgroupsMode"), "no-conmon");
  json_object_put (c);
}

static void
test_sdnotify_and_cgroups_unknown_values_fail (void **state)
{
  char *a1[] = { "run", "--sdnotify=healthy2", "img", NULL };
  char *a2[] = { "run", "--cgroups=", "img", NULL };
  char **all[] = { a1, a2 };
  (void) state;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    {
      struct error *err = NULL;
      assert_null (build (3, all[i], NULL, &err));
      assert_non_null (err);
      err_release (&err);
    }
}

static bool
cfg_bool (json_object *c, const char *key)
{
  return jobj_get_bool (jobj_get_object (c, "Config"), key, false);
}

static void
test_attach_defaults_to_all_streams (void **state)
{
  char *argv[] = { "run", "-i", "img", NULL };
  struct run_opts o;
  json_object *c;
  (void) state;
  assert_int_equal (run_opts_parse (&fake_cmd, 3, argv, &o, NULL), 0);
  assert_true (o.is_attach_stdin && o.is_attach_stdout && o.is_attach_stderr);
  run_opts_clear (&o);
  c = build (3, argv, NULL, NULL);
  assert_true (cfg_bool (c, "AttachStdin") && cfg_bool (c, "AttachStdout")
               && cfg_bool (c, "AttachStderr"));
  json_object_put (c);
}

static void
test_attach_names_the_streams (void **state)
{
  char *argv[] = { "run", "-i", "-a", "STDOUT", "--attach", "stdin", "img", NULL };
  struct run_opts o;
  json_object *c;
  (void) state;
  assert_int_equal (run_opts_parse (&fake_cmd, 7, argv, &o, NULL), 0);
  assert_true (o.is_attach_stdin && o.is_attach_stdout);
  assert_false (o.is_attach_stderr);
  run_opts_clear (&o);
  c = build (7, argv, NULL, NULL);
  assert_true (cfg_bool (c, "AttachStdin") && cfg_bool (c, "AttachStdout"));
  assert_false (cfg_bool (c, "AttachStderr"));
  json_object_put (c);
}

static void
test_attach_unknown_stream_fails (void **state)
{
  char *argv[] = { "run", "-a", "stdall", "img", NULL };
  struct error *err = NULL;
  (void) state;
  assert_null (build (4, argv, NULL, &err));
  assert_non_null (err);
  assert_non_null (strstr (err->msg, "\"stdall\""));
  err_release (&err);
}

static void
test_attach_with_detach_fails (void **state)
{
  char *argv[] = { "run", "-d", "-a", "stdout", "img", NULL };
  struct error *err = NULL;
  (void) state;
  assert_null (build (5, argv, NULL, &err));
  assert_non_null (err);
  assert_string_equal (err->msg, "conflicting options: -a and -d");
  err_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_image_entrypoint_and_cmd),
    cmocka_unit_test (test_args_replace_cmd_keep_entrypoint),
    cmocka_unit_test (test_entrypoint_flag_drops_image_cmd),
    cmocka_unit_test (test_empty_entrypoint_clears),
    cmocka_unit_test (test_env_order_and_override),
    cmocka_unit_test (test_env_from_host_by_name),
    cmocka_unit_test (test_bad_values_fail),
    cmocka_unit_test (test_restart_policy_shape),
    cmocka_unit_test (test_sdnotify_and_cgroups_recorded),
    cmocka_unit_test (test_sdnotify_and_cgroups_unknown_values_fail),
    cmocka_unit_test (test_attach_defaults_to_all_streams),
    cmocka_unit_test (test_attach_names_the_streams),
    cmocka_unit_test (test_attach_unknown_stream_fails),
    cmocka_unit_test (test_attach_with_detach_fails),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
