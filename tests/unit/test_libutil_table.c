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
  assert_string_equal (s, "REPOSITORY                  TAG      SIZE\n"
                          "docker.io/library/busybox   latest   4.26MB\n"
                          "a                                    1B\n");
  free (s);
  s = render (t, true);
  assert_string_equal (s, "docker.io/library/busybox   latest   4.26MB\n"
                          "a                                    1B\n");
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
  assert_string_equal (s, "A   B\n");
  free (s);
  table_free (t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_aligns_columns),
    cmocka_unit_test (test_empty_table_prints_header_only),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
