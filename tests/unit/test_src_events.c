/* Tests for src/events.c: the log line format, appending and rotation,
 * parsing (also of damaged lines), filters and the output shapes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/events.h"

/* 2024-01-02T03:04:05.5Z */
#define T0 ((int64_t) 1704164645 * 1000000000 + 500000000)

static json_object *
parse (const char *line)
{
  struct error *err = NULL;
  json_object *ev = events_parse_line (line, strlen (line), &err);

  if (ev == NULL)
    fail_msg ("parse failed: %s", err->msg);
  return ev;
}

static char *
line_of (const struct events_event *e)
{
  struct buf b = BUF_INIT;

  events_to_line (e, &b);
  return buf_steal (&b);
}

static void
test_line_format (void **state)
{
  json_object *labels = json_object_new_object ();
  struct events_event e = { .type = EVENTS_CONTAINER, .status = "died", .id = "abc",
                            .name = "web", .image = "docker.io/library/busybox:latest",
                            .time_ns = T0, .has_exit_code = true, .exit_code = 3,
                            .attributes = labels };
  char *line;

  (void) state;
  json_object_object_add (labels, "tier", json_object_new_string ("db"));
  line = line_of (&e);
  assert_string_equal (line, "{\"ContainerExitCode\":3,\"ID\":\"abc\",\"Image\":\"docker.io/"
                             "library/busybox:latest\",\"Name\":\"web\",\"Status\":\"died\","
                             "\"Time\":\"2024-01-02T03:04:05.5Z\",\"Type\":\"container\","
                             "\"Attributes\":{\"tier\":\"db\"}}");
  free (line);
  json_object_put (labels);
}

static void
test_line_drops_long_attributes (void **state)
{
  json_object *labels = json_object_new_object ();
  char *big = xmalloc (EVENTS_MAX_LINE + 1);
  struct events_event e = { .type = EVENTS_CONTAINER, .status = "start", .id = "abc",
                            .time_ns = T0, .attributes = labels };
  char *line;

  (void) state;
  memset (big, 'x', EVENTS_MAX_LINE);
  big[EVENTS_MAX_LINE] = '\0';
  json_object_object_add (labels, "big", json_object_new_string (big));
  line = line_of (&e);
  assert_null (strstr (line, "Attributes"));
  assert_true (strlen (line) < EVENTS_MAX_LINE);
  free (line);
  free (big);
  json_object_put (labels);
}

static void
test_parse_roundtrip (void **state)
{
  struct events_event e = { .type = EVENTS_IMAGE, .status = "pull", .id = "0123456789abcdef",
                            .name = "busybox", .time_ns = T0 };
  char *line = line_of (&e);
  json_object *ev = parse (line);

  (void) state;
  assert_string_equal (jobj_get_string (ev, "Type"), "image");
  assert_string_equal (jobj_get_string (ev, "Status"), "pull");
  assert_string_equal (jobj_get_string (ev, "Name"), "busybox");
  assert_int_equal (jobj_get_int (ev, "TimeNano", 0), T0);
  assert_null (json_object_object_get (ev, "ContainerExitCode"));
  json_object_put (ev);
  free (line);
}

static void
test_parse_malformed (void **state)
{
  static const char *const bad[] = {
    "",
    "not json",
    "{\"Status\":\"start\",\"Time\":\"2024-01-02T03:04:05Z\"}",
    "{\"Type\":\"spaceship\",\"Status\":\"start\",\"Time\":\"2024-01-02T03:04:05Z\"}",
    "{\"Type\":\"container\",\"Time\":\"2024-01-02T03:04:05Z\"}",
    "{\"Type\":\"container\",\"Status\":\"\",\"Time\":\"2024-01-02T03:04:05Z\"}",
    "{\"Type\":\"container\",\"Status\":\"start\"}",
    "{\"Type\":\"container\",\"Status\":\"start\",\"Time\":\"yesterday\"}",
    "{\"Type\":\"container\",\"Status\":\"start\",\"Time\":12}",
    "{\"Type\":\"container\",\"Status\":\"start\",\"Time\":\"2024-01-02T03:04:05Z\"} x",
    "[1,2]",
  };

  (void) state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct error *err = NULL;
      json_object *ev = events_parse_line (bad[i], strlen (bad[i]), &err);
      if (ev != NULL)
        fail_msg ("accepted: %s", bad[i]);
      assert_non_null (err);
      err_release (&err);
    }
}

static void
test_parse_attributes_only_strings (void **state)
{
  json_object *ev = parse ("{\"Type\":\"container\",\"Status\":\"start\",\"Time\":"
                           "\"2024-01-02T03:04:05Z\",\"Attributes\":{\"a\":\"1\",\"b\":2,"
                           "\"c\":{\"d\":\"e\"}}}");
  json_object *attrs = jobj_get_object (ev, "Attributes");

  (void) state;
  assert_int_equal (json_object_object_length (attrs), 1);
  assert_string_equal (jobj_get_string (attrs, "a"), "1");
  json_object_put (ev);
}

static json_object *
container_event (const char *status, const char *id, const char *name, const char *image,
                 int64_t t)
{
  json_object *labels = json_object_new_object ();
  struct events_event e = { .type = EVENTS_CONTAINER, .status = status, .id = id,
                            .name = name, .image = image, .time_ns = t, .attributes = labels };
  char *line;
  json_object *ev;

  json_object_object_add (labels, "app", json_object_new_string ("shop"));
  line = line_of (&e);
  ev = parse (line);
  free (line);
  json_object_put (labels);
  return ev;
}

static bool
matches (char **filters, int64_t since, int64_t until, json_object *ev)
{
  struct error *err = NULL;
  struct events_filter *f = events_filter_new (filters, since, until, &err);
  bool r;

  if (f == NULL)
    fail_msg ("filter: %s", err->msg);
  r = events_filter_match (f, ev);
  events_filter_free (f);
  return r;
}

static void
test_filters (void **state)
{
  json_object *ev = container_event ("start", "3f2a1b0000", "web", "busybox", T0);
  char *by_name[] = { "container=web", NULL };
  char *by_prefix[] = { "container=3f2a", NULL };
  char *by_other[] = { "container=db", NULL };
  char *or_same_key[] = { "event=stop", "status=start", NULL };
  char *and_keys[] = { "event=start", "type=image", NULL };
  char *by_image[] = { "image=busybox", NULL };
  char *by_label[] = { "label=app=shop", NULL };
  char *by_label_key[] = { "label=app", NULL };
  char *by_label_other[] = { "label=app=bank", NULL };
  char *by_volume[] = { "volume=web", NULL };

  (void) state;
  assert_true (matches (NULL, 0, 0, ev));
  assert_true (matches (by_name, 0, 0, ev));
  assert_true (matches (by_prefix, 0, 0, ev));
  assert_false (matches (by_other, 0, 0, ev));
  assert_true (matches (or_same_key, 0, 0, ev));
  assert_false (matches (and_keys, 0, 0, ev));
  assert_true (matches (by_image, 0, 0, ev));
  assert_true (matches (by_label, 0, 0, ev));
  assert_true (matches (by_label_key, 0, 0, ev));
  assert_false (matches (by_label_other, 0, 0, ev));
  assert_false (matches (by_volume, 0, 0, ev));
  assert_true (matches (NULL, T0, T0, ev));
  assert_false (matches (NULL, T0 + 1, 0, ev));
  assert_false (matches (NULL, 0, T0 - 1, ev));
  json_object_put (ev);
}

static void
test_filter_invalid (void **state)
{
  char *no_eq[] = { "container", NULL };
  char *unknown[] = { "colour=red", NULL };
  char *const *cases[] = { no_eq, unknown };

  (void) state;
  for (size_t i = 0; i < 2; i++)
    {
      struct error *err = NULL;
      assert_null (events_filter_new (cases[i], 0, 0, &err));
      assert_non_null (strstr (err->msg, "is an invalid filter"));
      err_release (&err);
    }
}

static void
test_human_container (void **state)
{
  json_object *ev = container_event ("start", "3f2a1b2c3d4e5f60718293a4b5c6d7e8", "web",
                                     "docker.io/library/busybox:latest", T0);
  struct buf b = BUF_INIT;

  (void) state;
  events_format_human (ev, false, &b);
  assert_string_equal (b.data, "2024-01-02 03:04:05.5 +0000 UTC container start "
                               "3f2a1b2c3d4e5f60718293a4b5c6d7e8 (image=docker.io/library/"
                               "busybox:latest, name=web, app=shop)");
  buf_truncate (&b, 0);
  events_format_human (ev, true, &b);
  assert_string_equal (b.data, "2024-01-02 03:04:05.5 +0000 UTC container start 3f2a1b2c3d4e "
                               "(image=docker.io/library/busybox:latest, name=web, app=shop)");
  buf_free (&b);
  json_object_put (ev);
}

static void
test_human_other_types (void **state)
{
  struct events_event img = { .type = EVENTS_IMAGE, .status = "tag", .id = "abcd",
                              .name = "localhost/x:1", .time_ns = T0 - 500000000 };
  struct events_event vol = { .type = EVENTS_VOLUME, .status = "create", .name = "data",
                              .time_ns = T0 };
  struct events_event sys = { .type = EVENTS_SYSTEM, .status = "rotate", .time_ns = T0 };
  char *l1 = line_of (&img), *l2 = line_of (&vol), *l3 = line_of (&sys);
  json_object *e1 = parse (l1), *e2 = parse (l2), *e3 = parse (l3);
  struct buf b = BUF_INIT;

  (void) state;
  events_format_human (e1, false, &b);
  assert_string_equal (b.data, "2024-01-02 03:04:05 +0000 UTC image tag abcd localhost/x:1");
  buf_truncate (&b, 0);
  events_format_human (e2, false, &b);
  assert_string_equal (b.data, "2024-01-02 03:04:05.5 +0000 UTC volume create data");
  buf_truncate (&b, 0);
  events_format_human (e3, false, &b);
  assert_string_equal (b.data, "2024-01-02 03:04:05.5 +0000 UTC system rotate");
  buf_free (&b);
  json_object_put (e1);
  json_object_put (e2);
  json_object_put (e3);
  free (l1);
  free (l2);
  free (l3);
}

static void
test_report_object (void **state)
{
  json_object *ev = container_event ("died", "abc", "web", "busybox", T0);
  json_object *json, *tmpl;
  char *text;

  (void) state;
  json_object_object_add (ev, "ContainerExitCode", json_object_new_int (2));
  json = events_report_object (ev, true);
  text = jobj_to_string (json, false);
  assert_string_equal (text, "{\"ContainerExitCode\":2,\"ID\":\"abc\",\"Image\":\"busybox\","
                             "\"Name\":\"web\",\"Status\":\"died\",\"time\":1704164645,"
                             "\"timeNano\":1704164645500000000,\"Type\":\"container\","
                             "\"Attributes\":{\"app\":\"shop\"}}");
  free (text);
  tmpl = events_report_object (ev, false);
  assert_string_equal (jobj_get_string (tmpl, "Action"), "died");
  assert_string_equal (jobj_get_string (jobj_get_object (tmpl, "Actor"), "ID"), "abc");
  assert_string_equal (jobj_get_string (jobj_get_object (jobj_get_object (tmpl, "Actor"),
                                                         "Attributes"), "exitCode"), "2");
  assert_string_equal (jobj_get_string (jobj_get_object (jobj_get_object (tmpl, "Actor"),
                                                         "Attributes"), "name"), "web");
  json_object_put (json);
  json_object_put (tmpl);
  json_object_put (ev);
}

static char *
temp_dir (void)
{
  char tmpl[] = "/tmp/test-events-XXXXXX";

  assert_non_null (mkdtemp (tmpl));
  return xstrdup (tmpl);
}

static size_t
count_lines (const char *data)
{
  size_t n = 0;

  for (const char *p = data; *p; p++)
    n += *p == '\n';
  return n;
}

static void
test_append_creates_directory (void **state)
{
  char *dir = temp_dir ();
  char *path = events_log_path (dir);
  struct events_event e = { .type = EVENTS_VOLUME, .status = "create", .name = "v" };
  struct error *err = NULL;
  char *data;
  struct stat st;

  (void) state;
  assert_int_equal (events_append (path, &e, 0, &err), 0);
  assert_int_equal (events_append (path, &e, 0, &err), 0);
  data = fs_read_file (path, 0, NULL, &err);
  assert_non_null (data);
  assert_int_equal (count_lines (data), 2);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  free (data);
  assert_int_equal (fs_remove_tree (dir, &err), 0);
  free (path);
  free (dir);
}

static void
test_append_rotates (void **state)
{
  char *dir = temp_dir ();
  char *path = events_log_path (dir);
  struct error *err = NULL;
  char *data, *last;
  struct stat st;
  json_object *ev;

  (void) state;
  for (int i = 0; i < 200; i++)
    {
      char name[32];
      struct events_event e = { .type = EVENTS_VOLUME, .status = "create", .name = name };
      snprintf (name, sizeof name, "vol%03d", i);
      assert_int_equal (events_append (path, &e, 4096, &err), 0);
      assert_int_equal (stat (path, &st), 0);
      assert_true (st.st_size <= 4096);
    }
  data = fs_read_file (path, 0, NULL, &err);
  assert_non_null (data);
  /* The newest event survives, the oldest does not, and every line is
   * whole. */
  assert_non_null (strstr (data, "\"vol199\""));
  assert_null (strstr (data, "\"vol000\""));
  assert_non_null (strstr (data, "\"Status\":\"rotate\""));
  for (char *line = data, *nl; (nl = strchr (line, '\n')); line = nl + 1)
    {
      ev = events_parse_line (line, (size_t) (nl - line), &err);
      assert_non_null (ev);
      json_object_put (ev);
    }
  last = strrchr (data, '\n');
  assert_non_null (last);
  assert_int_equal (last[1], '\0');
  free (data);
  assert_int_equal (fs_remove_tree (dir, &err), 0);
  free (path);
  free (dir);
}

/* Writers in several processes at once, with rotation: no line is torn
 * and none written after the last rotation is lost. */
static void
append_concurrent (uint64_t max_size, bool is_rotating)
{
  char *dir = temp_dir ();
  char *path = events_log_path (dir);
  struct error *err = NULL;
  char *data;
  size_t n;

  for (int w = 0; w < 4; w++)
    {
      pid_t pid = fork ();
      assert_true (pid >= 0);
      if (pid == 0)
        {
          for (int i = 0; i < 100; i++)
            {
              char name[32];
              struct events_event e = { .type = EVENTS_VOLUME, .status = "create",
                                        .name = name };
              snprintf (name, sizeof name, "w%d-%03d", w, i);
              if (events_append (path, &e, max_size, NULL) < 0)
                _exit (1);
            }
          _exit (0);
        }
    }
  for (int w = 0; w < 4; w++)
    {
      int status;
      assert_true (wait (&status) > 0);
      assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  data = fs_read_file (path, 0, NULL, &err);
  assert_non_null (data);
  n = count_lines (data);
  if (is_rotating)
    assert_true (n < 400 && strstr (data, "\"Status\":\"rotate\""));
  else
    assert_int_equal (n, 400);
  for (char *line = data, *nl; (nl = strchr (line, '\n')); line = nl + 1)
    {
      json_object *ev = events_parse_line (line, (size_t) (nl - line), &err);
      assert_non_null (ev);
      json_object_put (ev);
    }
  free (data);
  assert_int_equal (fs_remove_tree (dir, &err), 0);
  free (path);
  free (dir);
}

static void
test_append_concurrent (void **state)
{
  (void) state;
  append_concurrent (1 << 20, false);
}

static void
test_append_concurrent_rotating (void **state)
{
  (void) state;
  append_concurrent (4096, true);
}

/* A limit below one line: every append rotates once and still writes. */
static void
test_append_tiny_limit (void **state)
{
  char *dir = temp_dir ();
  char *path = events_log_path (dir);
  struct events_event e = { .type = EVENTS_VOLUME, .status = "create", .name = "v" };
  struct error *err = NULL;
  char *data;

  (void) state;
  for (int i = 0; i < 3; i++)
    assert_int_equal (events_append (path, &e, 10, &err), 0);
  data = fs_read_file (path, 0, NULL, &err);
  assert_non_null (data);
  assert_non_null (strstr (data, "\"Status\":\"rotate\""));
  assert_non_null (strstr (data, "\"Name\":\"v\""));
  free (data);
  assert_int_equal (fs_remove_tree (dir, &err), 0);
  free (path);
  free (dir);
}

static void
test_append_unwritable (void **state)
{
  struct events_event e = { .type = EVENTS_VOLUME, .status = "create", .name = "v" };
  struct error *err = NULL;

  (void) state;
  assert_true (events_append ("/proc/no-such-dir/events/events.log", &e, 0, &err) < 0);
  assert_non_null (strstr (err->msg, "events"));
  err_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_line_format),
    cmocka_unit_test (test_line_drops_long_attributes),
    cmocka_unit_test (test_parse_roundtrip),
    cmocka_unit_test (test_parse_malformed),
    cmocka_unit_test (test_parse_attributes_only_strings),
    cmocka_unit_test (test_filters),
    cmocka_unit_test (test_filter_invalid),
    cmocka_unit_test (test_human_container),
    cmocka_unit_test (test_human_other_types),
    cmocka_unit_test (test_report_object),
    cmocka_unit_test (test_append_creates_directory),
    cmocka_unit_test (test_append_rotates),
    cmocka_unit_test (test_append_concurrent),
    cmocka_unit_test (test_append_concurrent_rotating),
    cmocka_unit_test (test_append_tiny_limit),
    cmocka_unit_test (test_append_unwritable),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
