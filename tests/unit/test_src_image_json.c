/* Tests for src/image_json.c: docker's Config shape (every key docker
 * prints, with Go's zero values where the image sets nothing). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/image_json.h"

static char *
docker_config (const char *json)
{
  cleanup_json json_object *in = json ? json_tokener_parse (json) : NULL;
  cleanup_json json_object *out = image_json_docker_config (in);

  return jobj_to_string (out, false);
}

static void
test_empty_config_gets_zero_values (void **state)
{
  cleanup_free char *s = docker_config (NULL);

  assert_string_equal (s, "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\","
                          "\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
                          "\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,"
                          "\"Cmd\":null,\"Image\":\"\",\"Volumes\":null,\"WorkingDir\":\"\","
                          "\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":null}");
}

static void
test_set_members_kept_in_docker_order (void **state)
{
  cleanup_free char *s = docker_config ("{\"StopSignal\":\"SIGQUIT\",\"Cmd\":[\"sh\"],"
                                        "\"ExposedPorts\":{\"80/tcp\":{}},\"User\":\"1000\","
                                        "\"Labels\":{\"a\":\"b\"}}");

  assert_string_equal (s, "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"1000\","
                          "\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
                          "\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":false,\"OpenStdin\":false,"
                          "\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"sh\"],\"Image\":\"\","
                          "\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,"
                          "\"OnBuild\":null,\"Labels\":{\"a\":\"b\"},\"StopSignal\":\"SIGQUIT\"}");
}

/* Whatever the config holds under a key (an image may set a wrong type)
 * is passed through, not replaced. */
static void
test_mistyped_member_passed_through (void **state)
{
  cleanup_free char *s = docker_config ("{\"Env\":\"PATH=/bin\",\"Tty\":null}");

  assert_non_null (strstr (s, "\"Env\":\"PATH=/bin\""));
  assert_non_null (strstr (s, "\"Tty\":null"));
}

/* A config that is not an object counts as empty. */
static void
test_not_an_object (void **state)
{
  cleanup_free char *empty = docker_config (NULL);
  cleanup_free char *array = docker_config ("[\"Cmd\"]");
  cleanup_free char *str = docker_config ("\"Cmd\"");

  assert_string_equal (array, empty);
  assert_string_equal (str, empty);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_empty_config_gets_zero_values),
    cmocka_unit_test (test_set_members_kept_in_docker_order),
    cmocka_unit_test (test_mistyped_member_passed_through),
    cmocka_unit_test (test_not_an_object),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
