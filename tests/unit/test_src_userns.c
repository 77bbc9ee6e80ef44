/* Unit tests for src/userns.c: reading /etc/subuid-style files (by name, by
 * UID, several ranges, comments, malformed and overflowing lines), building
 * the ID maps, the config with its single-ID fallback and warning, and
 * exit codes from wait statuses.  Files are temporary; warnings are
 * captured through log_set_fd(). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

#include "libutil/log.h"
#include "libutil/mem.h"
#include "src/userns.h"

static char tmpdir[] = "/tmp/test-userns-XXXXXX";
static int capture[2] = { -1, -1 };

static int
group_setup (void **state)
{
  if (mkdtemp (tmpdir) == NULL)
    return -1;
  if (pipe2 (capture, O_CLOEXEC | O_NONBLOCK) < 0)
    return -1;
  log_set_fd (capture[1]);
  return 0;
}

static int
group_teardown (void **state)
{
  char cmd[256];

  log_set_fd (-1);
  close (capture[0]);
  close (capture[1]);
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system (cmd) == 0 ? 0 : -1;
}

static int
setup (void **state)
{
  unsetenv ("SKIFF_USERNS_SINGLE");
  log_set_level (LOG_LEVEL_WARN);
  return 0;
}

/* Everything logged since the last call ("" when nothing). */
static char *
captured (void)
{
  static char text[8192];
  ssize_t n = read (capture[0], text, sizeof text - 1);

  text[n > 0 ? n : 0] = '\0';
  return text;
}

/* A temporary file holding LEN bytes of DATA; the path is static. */
static const char *
write_file_len (const char *name, const char *data, size_t len)
{
  static char path[2][256];
  static int which;
  char *p = path[which++ % 2];
  FILE *f;

  snprintf (p, sizeof path[0], "%s/%s", tmpdir, name);
  f = fopen (p, "we");
  assert_non_null (f);
  assert_int_equal (fwrite (data, 1, len, f), len);
  assert_int_equal (fclose (f), 0);
  return p;
}

static const char *
write_file (const char *name, const char *data)
{
  return write_file_len (name, data, strlen (data));
}

/* Read DATA as a subuid file for alice (UID 1000). */
static void
read_alice (const char *data, struct userns_subids *s)
{
  cleanup_error struct error *err = NULL;
  const char *path = write_file ("subuid", data);

  assert_int_equal (userns_read_subids (path, "alice", 1000, s, &err), 0);
  assert_null (err);
}

static void
assert_range (const struct userns_range *r, uint32_t start, uint32_t count)
{
  assert_int_equal (r->start, start);
  assert_int_equal (r->count, count);
}

/* ---- reading ------------------------------------------------------------ */

static void
test_matches_by_name (void **state)
{
  struct userns_subids s;

  read_alice ("alice:100000:65536\n", &s);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 100000, 65536);
  userns_subids_free (&s);
}

static void
test_matches_by_numeric_uid (void **state)
{
  struct userns_subids s;

  read_alice ("1000:200000:65536\n", &s);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 200000, 65536);
  userns_subids_free (&s);
}

static void
test_numeric_match_works_without_a_name (void **state)
{
  cleanup_error struct error *err = NULL;
  struct userns_subids s;
  const char *path = write_file ("subuid", "alice:100000:65536\n1000:300000:10\n");

  assert_int_equal (userns_read_subids (path, NULL, 1000, &s, &err), 0);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 300000, 10);
  userns_subids_free (&s);
}

static void
test_collects_all_ranges_in_file_order (void **state)
{
  struct userns_subids s;

  read_alice ("alice:300000:100\nbob:100000:65536\n1000:100:50\nalice:500000:7\n", &s);
  assert_int_equal (s.n, 3);
  assert_range (&s.ranges[0], 300000, 100);
  assert_range (&s.ranges[1], 100, 50);
  assert_range (&s.ranges[2], 500000, 7);
  userns_subids_free (&s);
}

static void
test_other_users_and_prefixes_do_not_match (void **state)
{
  struct userns_subids s;

  read_alice ("al:100000:10\nalice2:200000:10\nALICE:300000:10\n10000:400000:10\n"
              "01000x:500000:10\n", &s);
  assert_int_equal (s.n, 0);
  userns_subids_free (&s);
}

static void
test_skips_comments_and_blank_lines (void **state)
{
  struct userns_subids s;

  read_alice ("# alice:1:1\n\n   \n#\nalice:100000:65536\n", &s);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 100000, 65536);
  userns_subids_free (&s);
}

static void
test_accepts_crlf_and_trailing_blanks (void **state)
{
  struct userns_subids s;

  read_alice ("alice:100000:10\r\nalice:200000:20 \t\n", &s);
  assert_int_equal (s.n, 2);
  assert_range (&s.ranges[0], 100000, 10);
  assert_range (&s.ranges[1], 200000, 20);
  userns_subids_free (&s);
}

static void
test_last_line_without_newline_counts (void **state)
{
  struct userns_subids s;

  read_alice ("alice:100000:10", &s);
  assert_int_equal (s.n, 1);
  userns_subids_free (&s);
}

static void
test_skips_malformed_lines (void **state)
{
  struct userns_subids s;

  read_alice ("alice\nalice:1\nalice:x:10\nalice:10:\nalice::10\n:1:2\nalice:1:2:3\n"
              "alice:-1:10\nalice: 1:10\nalice:+1:10\nalice:0x10:10\nalice:1e3:10\n"
              "alice:100000:65536\n", &s);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 100000, 65536);
  userns_subids_free (&s);
}

static void
test_skips_numbers_beyond_32_bits (void **state)
{
  struct userns_subids s;

  read_alice ("alice:4294967296:1\nalice:99999999999999999999999:1\nalice:1:4294967296\n"
              "alice:10:18446744073709551617\n", &s);
  assert_int_equal (s.n, 0);
  userns_subids_free (&s);
}

static void
test_skips_ranges_that_reach_the_invalid_id (void **state)
{
  struct userns_subids s;

  /* 4294901760 + 65536 = 2^32 wraps; 4294967295 is (uid_t) -1. */
  read_alice ("alice:4294901760:65536\nalice:4294967295:1\nalice:4294901759:65536\n", &s);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 4294901759u, 65536);
  userns_subids_free (&s);
}

static void
test_skips_empty_ranges (void **state)
{
  struct userns_subids s;

  read_alice ("alice:100000:0\n", &s);
  assert_int_equal (s.n, 0);
  userns_subids_free (&s);
}

static void
test_skips_overlapping_and_duplicate_ranges (void **state)
{
  struct userns_subids s;

  read_alice ("alice:100000:65536\nalice:100000:65536\nalice:165535:10\n"
              "alice:99999:2\nalice:165536:10\n", &s);
  assert_int_equal (s.n, 2);
  assert_range (&s.ranges[0], 100000, 65536);
  assert_range (&s.ranges[1], 165536, 10);
  userns_subids_free (&s);
}

static void
test_skips_range_holding_the_users_own_id (void **state)
{
  struct userns_subids s;

  read_alice ("alice:500:1000\nalice:100000:10\n", &s);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 100000, 10);
  userns_subids_free (&s);
}

static void
test_skips_lines_with_nul_bytes (void **state)
{
  cleanup_error struct error *err = NULL;
  static const char data[] = "alice\0:1:1\nalice:100000:10\0\nalice:200000:10\n";
  const char *path = write_file_len ("subuid", data, sizeof data - 1);
  struct userns_subids s;

  assert_int_equal (userns_read_subids (path, "alice", 1000, &s, &err), 0);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 200000, 10);
  userns_subids_free (&s);
}

static void
test_skips_overlong_lines (void **state)
{
  cleanup_free char *data = xmalloc (10000);
  struct userns_subids s;

  /* Valid but for its length: trailing blanks would be stripped. */
  memset (data, ' ', 9000);
  memcpy (data, "alice:300000:10", 15);
  strcpy (data + 9000, "\nalice:100000:10\n");
  read_alice (data, &s);
  assert_int_equal (s.n, 1);
  assert_range (&s.ranges[0], 100000, 10);
  userns_subids_free (&s);
}

static void
test_keeps_at_most_the_kernel_limit (void **state)
{
  char *data = xmalloc (64 * 1024);
  size_t len = 0;
  struct userns_subids s;

  for (unsigned i = 0; i < USERNS_MAX_EXTENTS + 10; i++)
    len += (size_t) sprintf (data + len, "alice:%u:10\n", 100000 + i * 10);
  read_alice (data, &s);
  assert_int_equal (s.n, USERNS_MAX_EXTENTS - 1);
  assert_range (&s.ranges[s.n - 1], 100000 + (USERNS_MAX_EXTENTS - 2) * 10, 10);
  userns_subids_free (&s);
  free (data);
}

static void
test_no_entry_grants_nothing (void **state)
{
  struct userns_subids s;

  read_alice ("bob:100000:65536\n", &s);
  assert_int_equal (s.n, 0);
  assert_null (s.ranges);
  userns_subids_free (&s);
}

static void
test_missing_file_grants_nothing (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = xasprintf ("%s/absent", tmpdir);
  struct userns_subids s;

  assert_int_equal (userns_read_subids (path, "alice", 1000, &s, &err), 0);
  assert_null (err);
  assert_int_equal (s.n, 0);
  assert_int_equal (s.highest_end, 0);
}

static void
test_unreadable_file_fails_naming_it (void **state)
{
  cleanup_error struct error *err = NULL;
  struct userns_subids s = { NULL, 0, 0 };

  /* A directory opens but cannot be read. */
  assert_true (userns_read_subids (tmpdir, "alice", 1000, &s, &err) < 0);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, tmpdir));
  assert_int_equal (s.n, 0);
}

static void
test_highest_end_covers_every_user (void **state)
{
  struct userns_subids s;

  read_alice ("bob:100000:65536\ncarol:300000:65536\nalice:165536:10\nbad:999999999:x\n", &s);
  assert_int_equal (s.highest_end, 365536);
  userns_subids_free (&s);
}

/* ---- maps --------------------------------------------------------------- */

static void
assert_entry (const struct userns_idmap_entry *e, uint32_t c, uint32_t h, uint32_t size)
{
  assert_int_equal (e->container_id, c);
  assert_int_equal (e->host_id, h);
  assert_int_equal (e->size, size);
}

static void
test_map_without_ranges_is_single_id (void **state)
{
  struct userns_idmap m;

  userns_build_idmap (1000, NULL, 0, &m);
  assert_int_equal (m.n, 1);
  assert_entry (&m.entries[0], 0, 1000, 1);
  userns_idmap_free (&m);
}

static void
test_map_puts_ranges_after_root_in_order (void **state)
{
  static const struct userns_range r[] = { { 100000, 65536 }, { 200000, 65536 }, { 50, 5 } };
  struct userns_idmap m;

  userns_build_idmap (1001, r, 3, &m);
  assert_int_equal (m.n, 4);
  assert_entry (&m.entries[0], 0, 1001, 1);
  assert_entry (&m.entries[1], 1, 100000, 65536);
  assert_entry (&m.entries[2], 65537, 200000, 65536);
  assert_entry (&m.entries[3], 131073, 50, 5);
  userns_idmap_free (&m);
}

static void
test_map_is_capped_below_32_bits (void **state)
{
  static const struct userns_range r[] = {
    { 0, 4000000000u }, { 4000000000u, 294967295u }, { 10, 10 },
  };
  struct userns_idmap m;

  userns_build_idmap (1000, r, 3, &m);
  assert_int_equal (m.n, 3);
  assert_entry (&m.entries[1], 1, 0, 4000000000u);
  /* 4000000001 + size must stay at or below 2^32 - 1. */
  assert_entry (&m.entries[2], 4000000001u, 4000000000u, 294967294u);
  assert_int_equal ((uint64_t) m.entries[2].container_id + m.entries[2].size, UINT32_MAX);
  userns_idmap_free (&m);
}

/* ---- keep-id maps ------------------------------------------------------- */

static void
keep_id_map (uint32_t id, const struct userns_range *r, size_t n, struct userns_idmap *out)
{
  struct userns_idmap base;

  userns_build_idmap (id, r, n, &base);
  userns_build_keep_id_map (id, &base, out);
  userns_idmap_free (&base);
}

static void
test_keep_id_map_splits_around_own_id (void **state)
{
  static const struct userns_range r[] = { { 100000, 65536 } };
  struct userns_idmap m;

  keep_id_map (1000, r, 1, &m);
  assert_int_equal (m.n, 3);
  assert_entry (&m.entries[0], 0, 100000, 1000);
  assert_entry (&m.entries[1], 1000, 1000, 1);
  assert_entry (&m.entries[2], 1001, 101000, 64536);
  userns_idmap_free (&m);
}

static void
test_keep_id_map_across_ranges (void **state)
{
  static const struct userns_range r[] = { { 100000, 500 }, { 200000, 65536 } };
  struct userns_idmap m;

  keep_id_map (1000, r, 2, &m);
  assert_int_equal (m.n, 4);
  assert_entry (&m.entries[0], 0, 100000, 500);
  assert_entry (&m.entries[1], 500, 200000, 500);
  assert_entry (&m.entries[2], 1000, 1000, 1);
  assert_entry (&m.entries[3], 1001, 200500, 65036);
  userns_idmap_free (&m);
}

static void
test_keep_id_map_with_too_few_ids_below (void **state)
{
  static const struct userns_range r[] = { { 100000, 10 } };
  struct userns_idmap m;

  keep_id_map (1000, r, 1, &m);
  assert_int_equal (m.n, 2);
  assert_entry (&m.entries[0], 0, 100000, 10);
  assert_entry (&m.entries[1], 1000, 1000, 1);
  userns_idmap_free (&m);
}

static void
test_keep_id_map_range_ending_at_own_id (void **state)
{
  static const struct userns_range r[] = { { 100000, 1000 }, { 300000, 5 } };
  struct userns_idmap m;

  keep_id_map (1000, r, 2, &m);
  assert_int_equal (m.n, 3);
  assert_entry (&m.entries[0], 0, 100000, 1000);
  assert_entry (&m.entries[1], 1000, 1000, 1);
  assert_entry (&m.entries[2], 1001, 300000, 5);
  userns_idmap_free (&m);
}

static void
test_keep_id_config_refuses_root_and_single_id (void **state)
{
  cleanup_error struct error *err = NULL;
  struct userns_config root = { .is_rootless = false }, single = { .is_rootless = true };
  struct userns_config out;

  assert_true (userns_config_keep_id (&root, &out, &err) < 0);
  assert_string_equal (err->msg, "keep-id is only supported in rootless mode");
  err_release (&err);
  single.has_subuids = true;
  assert_true (userns_config_keep_id (&single, &out, &err) < 0);
}

/* ---- config ------------------------------------------------------------- */

static void
load_alice (const char *subuid, const char *subgid, struct userns_config *cfg)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *uid_path = xstrdup (write_file ("subuid", subuid));
  cleanup_free char *gid_path = xstrdup (write_file ("subgid", subgid));

  captured ();
  assert_int_equal (userns_load_config_from (uid_path, gid_path, "alice", 1000, 1010, cfg,
                                             &err),
                    0);
  assert_null (err);
}

static void
test_config_with_ranges_uses_helpers_silently (void **state)
{
  struct userns_config cfg;

  load_alice ("alice:100000:65536\n", "alice:300000:65536\n", &cfg);
  assert_true (cfg.is_rootless);
  assert_true (cfg.has_subuids);
  assert_true (cfg.has_subgids);
  assert_int_equal (cfg.uidmap.n, 2);
  assert_entry (&cfg.uidmap.entries[0], 0, 1000, 1);
  assert_entry (&cfg.uidmap.entries[1], 1, 100000, 65536);
  assert_entry (&cfg.gidmap.entries[0], 0, 1010, 1);
  assert_entry (&cfg.gidmap.entries[1], 1, 300000, 65536);
  assert_string_equal (captured (), "");
  userns_config_free (&cfg);
}

static void
test_config_without_ranges_warns_with_the_fix (void **state)
{
  struct userns_config cfg;

  load_alice ("bob:100000:65536\n", "bob:100000:65536\n", &cfg);
  assert_false (cfg.has_subuids);
  assert_false (cfg.has_subgids);
  assert_int_equal (cfg.uidmap.n, 1);
  assert_entry (&cfg.uidmap.entries[0], 0, 1000, 1);
  assert_entry (&cfg.gidmap.entries[0], 0, 1010, 1);
  assert_non_null (strstr (captured (),
                           "warning: no subordinate UIDs/GIDs for user \"alice\" in "));
  userns_config_free (&cfg);
}

static void
test_warning_suggests_a_free_range (void **state)
{
  struct userns_config cfg;
  char expect[512];

  load_alice ("bob:100000:65536\n", "bob:100000:65536\ncarol:165536:65536\n", &cfg);
  snprintf (expect, sizeof expect, "using a single-ID user namespace; to fix run: usermod "
            "--add-subuids 165536-231071 --add-subgids 231072-296607 alice\n");
  assert_non_null (strstr (captured (), expect));
  userns_config_free (&cfg);
}

static void
test_warning_suggests_100000_on_an_empty_file (void **state)
{
  struct userns_config cfg;

  load_alice ("", "", &cfg);
  assert_non_null (strstr (captured (), "usermod --add-subuids 100000-165535 "
                                        "--add-subgids 100000-165535 alice\n"));
  userns_config_free (&cfg);
}

static void
test_config_missing_only_gids_maps_uids_fully (void **state)
{
  struct userns_config cfg;
  const char *text;

  load_alice ("alice:100000:65536\n", "", &cfg);
  text = captured ();
  assert_true (cfg.has_subuids);
  assert_false (cfg.has_subgids);
  assert_int_equal (cfg.uidmap.n, 2);
  assert_int_equal (cfg.gidmap.n, 1);
  assert_non_null (strstr (text, "no subordinate GIDs for user \"alice\""));
  assert_non_null (strstr (text, "usermod --add-subgids 100000-165535 alice\n"));
  assert_null (strstr (text, "--add-subuids"));
  userns_config_free (&cfg);
}

static void
test_single_id_can_be_forced (void **state)
{
  struct userns_config cfg;

  setenv ("SKIFF_USERNS_SINGLE", "1", 1);
  load_alice ("alice:100000:65536\n", "alice:100000:65536\n", &cfg);
  unsetenv ("SKIFF_USERNS_SINGLE");
  assert_false (cfg.has_subuids);
  assert_false (cfg.has_subgids);
  assert_int_equal (cfg.uidmap.n, 1);
  assert_int_equal (cfg.gidmap.n, 1);
  assert_string_equal (captured (), "");
  userns_config_free (&cfg);
}

static void
test_config_fails_on_unreadable_file (void **state)
{
  cleanup_error struct error *err = NULL;
  struct userns_config cfg;
  const char *gid_path = write_file ("subgid", "");

  assert_true (userns_load_config_from (tmpdir, gid_path, "alice", 1000, 1000, &cfg, &err) < 0);
  assert_non_null (err);
}

static void
test_config_as_root_maps_nothing (void **state)
{
  cleanup_error struct error *err = NULL;
  struct userns_config cfg;

  captured ();
  assert_int_equal (userns_load_config (0, 0, false, &cfg, &err), 0);
  assert_false (cfg.is_rootless);
  assert_int_equal (cfg.uidmap.n, 0);
  assert_int_equal (cfg.gidmap.n, 0);
  assert_string_equal (captured (), "");
  userns_config_free (&cfg);
}

/* ---- exit codes --------------------------------------------------------- */

static void
test_exit_code_of_normal_exit (void **state)
{
  assert_int_equal (userns_exit_code (W_EXITCODE (3, 0)), 3);
  assert_int_equal (userns_exit_code (W_EXITCODE (0, 0)), 0);
}

static void
test_exit_code_of_signal_is_128_plus_signal (void **state)
{
  assert_int_equal (userns_exit_code (W_EXITCODE (0, 9)), 137);
  assert_int_equal (userns_exit_code (W_EXITCODE (0, 15)), 143);
}

static void
test_release_of_an_empty_proc_is_harmless (void **state)
{
  struct userns_proc p = USERNS_PROC_INIT;

  userns_proc_release (&p);
  assert_int_equal (p.pid, -1);
  assert_int_equal (p.sync_fd, -1);
}

static int
exit_7 (void *arg, struct error **err)
{
  (void) arg;
  (void) err;
  return 7;
}

static void
test_spawn_join_refuses_a_new_network_namespace (void **state)
{
  struct userns_config cfg = { .is_rootless = false };
  struct userns_proc p = USERNS_PROC_INIT;
  struct error *err = NULL;
  int net_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

  (void) state;
  assert_true (net_fd >= 0);
  assert_true (userns_spawn_join (&cfg, net_fd, CLONE_NEWNET, exit_7, NULL, &p, &err)
               < 0);
  close (net_fd);
  assert_int_equal (err->errnum, EINVAL);
  assert_int_equal (p.pid, -1);
  err_release (&err);
}

static void
test_spawn_join_refuses_a_bad_descriptor (void **state)
{
  struct userns_config cfg = { .is_rootless = false };
  struct userns_proc p = USERNS_PROC_INIT;
  struct error *err = NULL;

  (void) state;
  assert_true (userns_spawn_join (&cfg, -1, 0, exit_7, NULL, &p, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
  err_release (&err);
}

/* The child is ours (CLONE_PARENT through the helper): we reap it. */
static void
test_spawn_join_child_is_our_own (void **state)
{
  struct userns_config cfg = { .is_rootless = false };
  struct userns_proc p = USERNS_PROC_INIT;
  struct error *err = NULL;
  int status = 0;
  int net_fd;

  (void) state;
  if (geteuid () != 0)
    skip ();
  net_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  assert_true (net_fd >= 0);
  assert_int_equal (userns_spawn_join (&cfg, net_fd, 0, exit_7, NULL, &p, &err), 0);
  close (net_fd);
  assert_true (p.pid > 0);
  assert_int_equal (userns_proc_wait (&p, &status, &err), 0);
  assert_int_equal (userns_exit_code (status), 7);
}

#define T(f) cmocka_unit_test_setup (f, setup)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_matches_by_name),
    T (test_matches_by_numeric_uid),
    T (test_numeric_match_works_without_a_name),
    T (test_collects_all_ranges_in_file_order),
    T (test_other_users_and_prefixes_do_not_match),
    T (test_skips_comments_and_blank_lines),
    T (test_accepts_crlf_and_trailing_blanks),
    T (test_last_line_without_newline_counts),
    T (test_skips_malformed_lines),
    T (test_skips_numbers_beyond_32_bits),
    T (test_skips_ranges_that_reach_the_invalid_id),
    T (test_skips_empty_ranges),
    T (test_skips_overlapping_and_duplicate_ranges),
    T (test_skips_range_holding_the_users_own_id),
    T (test_skips_lines_with_nul_bytes),
    T (test_skips_overlong_lines),
    T (test_keeps_at_most_the_kernel_limit),
    T (test_no_entry_grants_nothing),
    T (test_missing_file_grants_nothing),
    T (test_unreadable_file_fails_naming_it),
    T (test_highest_end_covers_every_user),
    T (test_map_without_ranges_is_single_id),
    T (test_map_puts_ranges_after_root_in_order),
    T (test_map_is_capped_below_32_bits),
    T (test_keep_id_map_splits_around_own_id),
    T (test_keep_id_map_across_ranges),
    T (test_keep_id_map_with_too_few_ids_below),
    T (test_keep_id_map_range_ending_at_own_id),
    T (test_keep_id_config_refuses_root_and_single_id),
    T (test_config_with_ranges_uses_helpers_silently),
    T (test_config_without_ranges_warns_with_the_fix),
    T (test_warning_suggests_a_free_range),
    T (test_warning_suggests_100000_on_an_empty_file),
    T (test_config_missing_only_gids_maps_uids_fully),
    T (test_single_id_can_be_forced),
    T (test_config_fails_on_unreadable_file),
    T (test_config_as_root_maps_nothing),
    T (test_exit_code_of_normal_exit),
    T (test_exit_code_of_signal_is_128_plus_signal),
    T (test_release_of_an_empty_proc_is_harmless),
    T (test_spawn_join_refuses_a_new_network_namespace),
    T (test_spawn_join_refuses_a_bad_descriptor),
    T (test_spawn_join_child_is_our_own),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
