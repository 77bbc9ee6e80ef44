/* Tests for libutil/table.c: column alignment. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "libutil/table.h"

static char *
render (struct table *t, bool is_noheading)
{
  char *data = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&data, &len);
  table_print (t, is_noheading, f);
  fclose (f);
  return data;
}

static void
test_aligns_columns (void **state)
{
  const char *h[] = { "REPOSITORY", "TAG", "SIZE" };
  const char *r1[] = { "docker.io/library/busybox", "latest", "4.26MB" };
  const char *r2[] = { "a", NULL, "1B" };
  struct table *t = table_new (3, h);
  char *s;
  (void) state;
  table_add_row (t, r1);
  table_add_row (t, r2);
  s = render (t, false);
  assert_string_equal (s, "REPOSITORY                  TAG       SIZE\n"
                          "docker.io/library/busybox   latest    4.26MB\n"
                          "a                                     1B\n");
  free (s);
  s = render (t, true);
  assert_string_equal (s, "docker.io/library/busybox   latest    4.26MB\n"
                          "a                                     1B\n");
  free (s);
  table_free (t);
}

static void
test_empty_table_prints_header_only (void **state)
{
  const char *h[] = { "A", "B" };
  struct table *t = table_new (2, h);
  char *s;
  (void) state;
  s = render (t, false);
  assert_string_equal (s, "A         B\n");
  free (s);
  table_free (t);
}

/* Recorded `docker ps`, `docker images` and `docker volume ls` output
 * (docker 24): the same cells must come out byte for byte, including the
 * minimum column width of ten and the one-column "…". */
static void
check_docker_shape (size_t ncols, const char *const *h, const char *const *row,
                    const char *want)
{
  struct table *t = table_new (ncols, h);
  char *s;

  table_add_row (t, row);
  s = render (t, false);
  assert_string_equal (s, want);
  free (s);
  table_free (t);
}

static void
test_docker_ps_shape (void **state)
{
  const char *h[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS",
                      "NAMES" };
  const char *r[] = { "0d3bc5ab1f2e", "nginx", "\"/docker-entrypoint.\u2026\"",
                      "5 seconds ago", "Up 4 seconds", "0.0.0.0:8080->80/tcp", "web" };

  (void) state;
  check_docker_shape (7, h, r,
                      "CONTAINER ID   IMAGE     COMMAND                  CREATED         "
                      "STATUS         PORTS                  NAMES\n"
                      "0d3bc5ab1f2e   nginx     \"/docker-entrypoint.\u2026\"   5 seconds ago   "
                      "Up 4 seconds   0.0.0.0:8080->80/tcp   web\n");
}

static void
test_docker_images_shape (void **state)
{
  const char *h[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
  const char *r[] = { "busybox", "latest", "a416a98b71e2", "4 months ago", "4.26MB" };

  (void) state;
  check_docker_shape (5, h, r,
                      "REPOSITORY   TAG       IMAGE ID       CREATED        SIZE\n"
                      "busybox      latest    a416a98b71e2   4 months ago   4.26MB\n");
}

static void
test_docker_volume_ls_shape (void **state)
{
  const char *h[] = { "DRIVER", "VOLUME NAME" };
  const char *r[] = { "local", "data" };

  (void) state;
  check_docker_shape (2, h, r, "DRIVER    VOLUME NAME\n"
                               "local     data\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_aligns_columns),
    cmocka_unit_test (test_empty_table_prints_header_only),
    cmocka_unit_test (test_docker_ps_shape),
    cmocka_unit_test (test_docker_images_shape),
    cmocka_unit_test (test_docker_volume_ls_shape),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
