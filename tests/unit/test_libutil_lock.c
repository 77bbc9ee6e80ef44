/* Unit tests for libutil/lock.c.  flock locks belong to the open file
 * description, so contention is tested within one process by opening the
 * lock file twice; waiting is tested with a child process. */
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
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/lock.h"
#include "libutil/mem.h"

static int
setup (void **state)
{
  const char *tmp = getenv ("TMPDIR");
  char *dir = xasprintf ("%s/test_lock.XXXXXX", tmp && *tmp ? tmp : "/tmp");

  if (mkdtemp (dir) == NULL)
    {
      free (dir);
      return -1;
    }
  *state = xasprintf ("%s/lock", dir);
  free (dir);
  return 0;
}

static int
teardown (void **state)
{
  cleanup_error struct error *err = NULL;
  char *path = *state;
  char *slash = strrchr (path, '/');
  int r;

  *slash = '\0';
  r = fs_remove_tree (path, &err);
  free (path);
  return r;
}

static void
test_acquire_creates_file_with_cloexec_fd (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_close int fd = lock_acquire (*state, LOCK_EXCLUSIVE_MODE, &err);
  struct stat st;

  assert_true (fd >= 0);
  assert_null (err);
  assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  assert_int_equal (stat (*state, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
}

static void
test_try_fails_while_exclusive_is_held (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_close int held = lock_acquire (*state, LOCK_EXCLUSIVE_MODE, &err);
  int fd;

  assert_true (held >= 0);
  fd = lock_try (*state, LOCK_EXCLUSIVE_MODE, &err);
  assert_true (fd < 0);
  assert_non_null (err);
  assert_int_equal (err->errnum, EWOULDBLOCK);
  assert_non_null (strstr (err->msg, (char *) *state));
}

static void
test_shared_try_fails_while_exclusive_is_held (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_close int held = lock_acquire (*state, LOCK_EXCLUSIVE_MODE, &err);

  assert_true (held >= 0);
  assert_true (lock_try (*state, LOCK_SHARED_MODE, &err) < 0);
  assert_int_equal (err->errnum, EWOULDBLOCK);
}

static void
test_exclusive_try_fails_while_shared_is_held (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_close int held = lock_acquire (*state, LOCK_SHARED_MODE, &err);

  assert_true (held >= 0);
  assert_true (lock_try (*state, LOCK_EXCLUSIVE_MODE, &err) < 0);
  assert_int_equal (err->errnum, EWOULDBLOCK);
}

static void
test_shared_locks_coexist (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_close int a = lock_acquire (*state, LOCK_SHARED_MODE, &err);
  cleanup_close int b = lock_try (*state, LOCK_SHARED_MODE, &err);

  assert_true (a >= 0);
  assert_true (b >= 0);
  assert_null (err);
}

static void
test_closing_releases_the_lock (void **state)
{
  cleanup_error struct error *err = NULL;
  int held = lock_acquire (*state, LOCK_EXCLUSIVE_MODE, &err);
  cleanup_close int fd = -1;

  assert_true (held >= 0);
  close (held);
  fd = lock_try (*state, LOCK_EXCLUSIVE_MODE, &err);
  assert_true (fd >= 0);
  assert_null (err);
}

static void
test_missing_directory_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = xasprintf ("%s.d/missing/lock", (char *) *state);

  assert_true (lock_acquire (p, LOCK_EXCLUSIVE_MODE, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, p));
}

static void
test_read_only_lock_file_still_locks (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_close int fd = -1;
  int made;

  if (geteuid () == 0)
    skip (); /* root can open a mode 0400 file for writing */
  made = open (*state, O_WRONLY | O_CREAT | O_CLOEXEC, 0400);
  assert_true (made >= 0);
  close (made);
  fd = lock_acquire (*state, LOCK_SHARED_MODE, &err);
  assert_true (fd >= 0);
}

static int signal_pipe[2];

static void
note_signal (int sig)
{
  ssize_t r = write (signal_pipe[1], "s", 1);
  (void) r;
}

/* In a child: wait for the lock while a timer interrupts the wait with a
 * handler installed without SA_RESTART, so flock() returns EINTR.  Exits
 * 0 once the lock is taken.  PARENT_FD is the parent's copy of the held
 * lock: the same open file description, so it must go or it would keep
 * the lock alive in here. */
static void __attribute__ ((noreturn))
child_wait_for_lock (const char *path, int parent_fd)
{
  struct sigaction sa = { 0 };
  struct itimerval it = { { 0, 0 }, { 0, 20000 } };
  struct error *err = NULL;
  int fd;

  close (parent_fd);
  sa.sa_handler = note_signal;
  sigaction (SIGALRM, &sa, NULL);
  setitimer (ITIMER_REAL, &it, NULL);
  fd = lock_acquire (path, LOCK_EXCLUSIVE_MODE, &err);
  _exit (fd >= 0 ? 0 : 1);
}

static void
test_acquire_waits_through_signals_until_released (void **state)
{
  cleanup_error struct error *err = NULL;
  int held = lock_acquire (*state, LOCK_EXCLUSIVE_MODE, &err);
  char c;
  int status;
  pid_t pid;

  assert_true (held >= 0);
  assert_int_equal (pipe2 (signal_pipe, O_CLOEXEC), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    child_wait_for_lock (*state, held);
  /* The child's signal has arrived (while it waited, or before); only
   * then let it have the lock.  Without the EINTR retry it would fail. */
  assert_int_equal (read (signal_pipe[0], &c, 1), 1);
  close (held);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  close (signal_pipe[0]);
  close (signal_pipe[1]);
}

int
main (void)
{
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_acquire_creates_file_with_cloexec_fd),
    T (test_try_fails_while_exclusive_is_held),
    T (test_shared_try_fails_while_exclusive_is_held),
    T (test_exclusive_try_fails_while_shared_is_held),
    T (test_shared_locks_coexist),
    T (test_closing_releases_the_lock),
    T (test_missing_directory_fails),
    T (test_read_only_lock_file_still_locks),
    T (test_acquire_waits_through_signals_until_released),
  };
#undef T

  return cmocka_run_group_tests (tests, NULL, NULL);
}
