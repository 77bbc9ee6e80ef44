/* Unit tests for libutil/spawn.c: running programs from the base system
 * (sh, cat, true, false), feeding stdin, capturing output without
 * deadlock, and reporting missing programs, failures and signals. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"

static void
assert_exited (int status, int code)
{
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), code);
}

static void
assert_contains (const char *s, const char *want)
{
  if (strstr (s, want) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", s, want);
}

/* ---- spawn_run ---------------------------------------------------------- */

static void
test_run_true_exits_zero (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "true", NULL };
  int status = -1;

  assert_int_equal (spawn_run (argv, NULL, &status, &err), 0);
  assert_exited (status, 0);
}

static void
test_run_nonzero_exit_is_not_an_error (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "sh", "-c", "exit 3", NULL };
  int status = -1;

  assert_int_equal (spawn_run (argv, NULL, &status, &err), 0);
  assert_null (err);
  assert_exited (status, 3);
}

static void
test_run_captures_stdout_and_stderr_separately (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf out = BUF_INIT;
  cleanup_buf struct buf errout = BUF_INIT;
  char *argv[] = { "sh", "-c", "echo out; echo err >&2; echo more", NULL };
  struct spawn_opts o = { .out = &out, .errout = &errout };
  int status;

  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  assert_exited (status, 0);
  assert_string_equal (out.data, "out\nmore\n");
  assert_string_equal (errout.data, "err\n");
}

static void
test_run_appends_to_existing_buffer (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf out = BUF_INIT;
  char *argv[] = { "sh", "-c", "printf b", NULL };
  struct spawn_opts o = { .out = &out };
  int status;

  buf_append_str (&out, "a");
  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  assert_string_equal (out.data, "ab");
}

static void
test_run_feeds_stdin (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf out = BUF_INIT;
  char *argv[] = { "cat", NULL };
  struct spawn_opts o = { .stdin_data = "0 1 65536\n", .stdin_len = 10, .out = &out };
  int status;

  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  assert_exited (status, 0);
  assert_string_equal (out.data, "0 1 65536\n");
}

static void
test_run_without_stdin_data_reads_dev_null (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf out = BUF_INIT;
  char *argv[] = { "cat", NULL };
  struct spawn_opts o = { .out = &out };
  int status;

  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  assert_exited (status, 0);
  assert_int_equal (out.len, 0);
}

static void
test_run_large_stdin_and_stdout_do_not_deadlock (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf out = BUF_INIT;
  cleanup_buf struct buf errout = BUF_INIT;
  const size_t len = 4 << 20; /* far beyond any pipe buffer */
  cleanup_free char *data = xmalloc (len);
  /* tee echoes everything to both stdout and stderr, so both pipes fill
   * while stdin is still being written. */
  char *argv[] = { "sh", "-c", "tee /dev/stderr", NULL };
  struct spawn_opts o = { .stdin_data = data, .stdin_len = len, .out = &out, .errout = &errout };
  int status;

  for (size_t i = 0; i < len; i++)
    data[i] = (char) ('a' + i % 26);
  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  assert_exited (status, 0);
  assert_int_equal (out.len, len);
  assert_int_equal (errout.len, len);
  assert_memory_equal (out.data, data, len);
  assert_memory_equal (errout.data, data, len);
}

static void
test_run_child_ignoring_stdin_does_not_kill_us (void **state)
{
  cleanup_error struct error *err = NULL;
  const size_t len = 1 << 20;
  cleanup_free char *data = xmalloc0 (len);
  char *argv[] = { "true", NULL };
  struct spawn_opts o = { .stdin_data = data, .stdin_len = len };
  int status;

  /* true exits without reading: our writes get EPIPE, not a SIGPIPE
   * that would end the test program. */
  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  assert_exited (status, 0);
}

static void
test_run_passes_envp (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf out = BUF_INIT;
  char *argv[] = { "sh", "-c", "echo \"$SKIFF_T:${HOME-unset}\"", NULL };
  char *envp[] = { "SKIFF_T=value", NULL };
  struct spawn_opts o = { .out = &out, .envp = envp };
  int status;

  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  assert_string_equal (out.data, "value:unset\n");
}

static void
test_run_gives_child_default_signals (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "sh", "-c", "kill -TERM $$; exit 0", NULL };
  sigset_t block, old;
  int status;

  /* Blocked and ignored here; the child must still die of SIGTERM. */
  sigemptyset (&block);
  sigaddset (&block, SIGTERM);
  sigprocmask (SIG_BLOCK, &block, &old);
  signal (SIGTERM, SIG_IGN);
  assert_int_equal (spawn_run (argv, NULL, &status, &err), 0);
  signal (SIGTERM, SIG_DFL);
  sigprocmask (SIG_SETMASK, &old, NULL);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGTERM);
}

static void
test_run_missing_program_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "skiff-no-such-program", NULL };
  int status = -1;

  assert_true (spawn_run (argv, NULL, &status, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_contains (err->msg, "skiff-no-such-program");
}

static void
test_run_missing_absolute_path_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "/nonexistent/skiff/prog", NULL };
  int status;

  assert_true (spawn_run (argv, NULL, &status, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_run_non_executable_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  const char *tmp = getenv ("TMPDIR");
  cleanup_free char *path = xasprintf ("%s/test_spawn.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = mkostemp (path, O_CLOEXEC);
  char *argv[] = { path, NULL };
  int status;

  assert_true (fd >= 0);
  close (fd); /* mode 0600: not executable, even for root */
  assert_true (spawn_run (argv, NULL, &status, &err) < 0);
  unlink (path);
  assert_int_equal (err->errnum, EACCES);
}

static void
test_run_empty_argv_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { NULL };
  char *empty[] = { "", NULL };
  int status;

  assert_true (spawn_run (argv, NULL, &status, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
  err_release (&err);
  assert_true (spawn_run (empty, NULL, &status, &err) < 0);
}

static void
test_run_leaks_no_descriptors (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf out = BUF_INIT;
  char *argv[] = { "sh", "-c", "echo x; echo y >&2", NULL };
  struct spawn_opts o = { .stdin_data = "in", .stdin_len = 2, .out = &out, .errout = &out };
  int before = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  int after, status;

  close (before);
  assert_int_equal (spawn_run (argv, &o, &status, &err), 0);
  after = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  close (after);
  /* The lowest free descriptor is the same: every pipe end was closed. */
  assert_int_equal (after, before);
}

/* ---- spawn_check -------------------------------------------------------- */

static void
test_check_success (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "true", NULL };

  assert_int_equal (spawn_check (argv, NULL, &err), 0);
  assert_null (err);
}

static void
test_check_nonzero_exit_reports_status_and_stderr (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "sh", "-c", "echo '  newuidmap: write to uid_map failed  ' >&2; exit 1", NULL };

  assert_true (spawn_check (argv, NULL, &err) < 0);
  assert_string_equal (err->msg, "\"sh\" exited with status 1: newuidmap: write to uid_map failed");
  assert_int_equal (err->errnum, 0);
}

static void
test_check_nonzero_exit_without_stderr (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "false", NULL };

  assert_true (spawn_check (argv, NULL, &err) < 0);
  assert_string_equal (err->msg, "\"false\" exited with status 1");
}

static void
test_check_signal_reports_signal (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "sh", "-c", "kill -KILL $$", NULL };

  assert_true (spawn_check (argv, NULL, &err) < 0);
  assert_string_equal (err->msg, "\"sh\" killed by signal 9");
}

static void
test_check_missing_program_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "skiff-no-such-program", NULL };

  assert_true (spawn_check (argv, NULL, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_check_keeps_callers_stderr_buffer (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_buf struct buf errout = BUF_INIT;
  char *argv[] = { "sh", "-c", "echo oops >&2; exit 2", NULL };
  struct spawn_opts o = { .errout = &errout };

  buf_append_str (&errout, "earlier\n");
  assert_true (spawn_check (argv, &o, &err) < 0);
  assert_string_equal (errout.data, "earlier\noops\n");
  assert_int_equal (errout.len, strlen ("earlier\noops\n"));
  /* Only this run's stderr goes into the message. */
  assert_string_equal (err->msg, "\"sh\" exited with status 2: oops");
}

static void
test_check_cuts_long_stderr_to_its_tail (void **state)
{
  cleanup_error struct error *err = NULL;
  char *argv[] = { "sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line$i >&2; i=$((i+1)); done; exit 1",
                   NULL };

  assert_true (spawn_check (argv, NULL, &err) < 0);
  assert_true (strlen (err->msg) < 4200);
  assert_contains (err->msg, "line1999");
  assert_null (strstr (err->msg, "line0\n"));
}

/* ---- status text, program lookup, cleanup ------------------------------- */

static void
test_status_text (void **state)
{
  cleanup_free char *exited = spawn_status_text (W_EXITCODE (3, 0));
  cleanup_free char *zero = spawn_status_text (W_EXITCODE (0, 0));
  cleanup_free char *killed = spawn_status_text (W_EXITCODE (0, 9));
  cleanup_free char *core = spawn_status_text (W_EXITCODE (0, 6) | WCOREFLAG);
  cleanup_free char *stopped = spawn_status_text (W_STOPCODE (19));

  assert_string_equal (exited, "exited with status 3");
  assert_string_equal (zero, "exited with status 0");
  assert_string_equal (killed, "killed by signal 9");
  assert_string_equal (core, "killed by signal 6 (core dumped)");
  assert_string_equal (stopped, "stopped by signal 19");
}

static void
test_find_program_in_path (void **state)
{
  cleanup_free char *sh = spawn_find_program ("sh");

  assert_non_null (sh);
  assert_true (sh[0] == '/');
  assert_true (access (sh, X_OK) == 0);
}

static void
test_find_program_missing (void **state)
{
  assert_null (spawn_find_program ("skiff-no-such-program"));
  assert_null (spawn_find_program (""));
  assert_null (spawn_find_program (NULL));
  assert_null (spawn_find_program ("/nonexistent/skiff/prog"));
}

static void
test_find_program_with_slash_is_taken_as_is (void **state)
{
  cleanup_free char *sh = spawn_find_program ("/bin/sh");

  assert_string_equal (sh, "/bin/sh");
}

static void
test_find_program_skips_non_executables_and_dirs (void **state)
{
  cleanup_error struct error *err = NULL;
  const char *tmp = getenv ("TMPDIR");
  cleanup_free char *dir = xasprintf ("%s/test_spawn.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  cleanup_free char *old = xstrdup (getenv ("PATH"));
  cleanup_free char *plain = NULL;
  cleanup_free char *subdir = NULL;
  cleanup_free char *exe = NULL;
  cleanup_free char *path = NULL;
  cleanup_free char *found = NULL;
  cleanup_free char *not_found = NULL;
  cleanup_free char *dir_found = NULL;

  assert_non_null (mkdtemp (dir));
  plain = xasprintf ("%s/plain", dir);
  subdir = xasprintf ("%s/adir", dir);
  exe = xasprintf ("%s/exe", dir);
  assert_int_equal (fs_write_atomic (plain, "x", 1, 0644, &err), 0);
  assert_int_equal (fs_write_atomic (exe, "#!/bin/sh\n", 10, 0755, &err), 0);
  assert_int_equal (mkdir (subdir, 0755), 0);
  path = xasprintf ("/nonexistent:%s", dir);
  setenv ("PATH", path, 1);
  found = spawn_find_program ("exe");
  not_found = spawn_find_program ("plain");
  dir_found = spawn_find_program ("adir");
  setenv ("PATH", old, 1);
  fs_remove_tree (dir, &err);
  assert_string_equal (found, exe);
  assert_null (not_found);
  assert_null (dir_found);
}

static void
test_kill_pidp_kills_and_reaps (void **state)
{
  pid_t pid = fork ();
  pid_t copy = pid;

  assert_true (pid >= 0);
  if (pid == 0)
    {
      for (;;)
        pause ();
    }
  spawn_kill_pidp (&pid);
  assert_int_equal (pid, -1);
  /* Reaped: there is no such child any more. */
  assert_int_equal (waitpid (copy, NULL, WNOHANG), -1);
  assert_int_equal (errno, ECHILD);
}

static void
test_kill_pidp_ignores_unset_and_keeps_errno (void **state)
{
  pid_t none = -1, zero = 0;

  errno = EEXIST;
  spawn_kill_pidp (&none);
  spawn_kill_pidp (&zero);
  assert_int_equal (errno, EEXIST);
  assert_int_equal (none, -1);
}

static void
test_cleanup_pid_on_scope_exit (void **state)
{
  pid_t copy;

  {
    cleanup_pid pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0)
      {
        for (;;)
          pause ();
      }
    copy = pid;
  }
  assert_int_equal (waitpid (copy, NULL, WNOHANG), -1);
  assert_int_equal (errno, ECHILD);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_run_true_exits_zero),
    cmocka_unit_test (test_run_nonzero_exit_is_not_an_error),
    cmocka_unit_test (test_run_captures_stdout_and_stderr_separately),
    cmocka_unit_test (test_run_appends_to_existing_buffer),
    cmocka_unit_test (test_run_feeds_stdin),
    cmocka_unit_test (test_run_without_stdin_data_reads_dev_null),
    cmocka_unit_test (test_run_large_stdin_and_stdout_do_not_deadlock),
    cmocka_unit_test (test_run_child_ignoring_stdin_does_not_kill_us),
    cmocka_unit_test (test_run_passes_envp),
    cmocka_unit_test (test_run_gives_child_default_signals),
    cmocka_unit_test (test_run_missing_program_fails),
    cmocka_unit_test (test_run_missing_absolute_path_fails),
    cmocka_unit_test (test_run_non_executable_fails),
    cmocka_unit_test (test_run_empty_argv_fails),
    cmocka_unit_test (test_run_leaks_no_descriptors),
    cmocka_unit_test (test_check_success),
    cmocka_unit_test (test_check_nonzero_exit_reports_status_and_stderr),
    cmocka_unit_test (test_check_nonzero_exit_without_stderr),
    cmocka_unit_test (test_check_signal_reports_signal),
    cmocka_unit_test (test_check_missing_program_fails),
    cmocka_unit_test (test_check_keeps_callers_stderr_buffer),
    cmocka_unit_test (test_check_cuts_long_stderr_to_its_tail),
    cmocka_unit_test (test_status_text),
    cmocka_unit_test (test_find_program_in_path),
    cmocka_unit_test (test_find_program_missing),
    cmocka_unit_test (test_find_program_with_slash_is_taken_as_is),
    cmocka_unit_test (test_find_program_skips_non_executables_and_dirs),
    cmocka_unit_test (test_kill_pidp_kills_and_reaps),
    cmocka_unit_test (test_kill_pidp_ignores_unset_and_keeps_errno),
    cmocka_unit_test (test_cleanup_pid_on_scope_exit),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
