/* Running helper programs with an argv we build (never a shell), and
 * checking how they ended. */
#ifndef SKIFF_LIBUTIL_SPAWN_H
#define SKIFF_LIBUTIL_SPAWN_H

#include <sys/types.h>

#include "buf.h"
#include "error.h"

struct spawn_opts
{
  const char *stdin_data; /* written to the child's stdin, NULL: /dev/null */
  size_t stdin_len;
  struct buf *out;        /* capture stdout here when not NULL */
  struct buf *errout;     /* capture stderr here when not NULL */
  char *const *envp;      /* NULL: inherit */
};

/* Run ARGV[0] (searched in PATH when it has no slash) with OPTS (NULL: all
 * defaults) and wait.  Captured output is appended to the bufs; a stream
 * not captured is inherited.  The child starts with default signal
 * dispositions and an empty signal mask.  Returns the wait status in
 * *status.  Fails only when it cannot be started (errno in *err: ENOENT
 * for a missing program, EACCES for one that is not executable). */
int spawn_run (char *const argv[], const struct spawn_opts *opts, int *status,
               struct error **err);

/* spawn_run() that also fails, with the program's stderr in the message,
 * unless it exits 0: "\"prog\" exited with status 1: <stderr>".  The stderr
 * is captured even when OPTS->errout is NULL. */
int spawn_check (char *const argv[], const struct spawn_opts *opts, struct error **err);

/* Describe a wait status: "exited with status 3", "killed by signal 9". */
char *spawn_status_text (int status);

/* Find PROG in PATH; NULL when absent. */
char *spawn_find_program (const char *prog);

/* Kill (SIGKILL) and reap *PID if it is > 0, then set it to -1; keeps
 * errno.  For cleanup_pid: set the variable to -1 once the child has been
 * waited for. */
void spawn_kill_pidp (pid_t *pid);
#define cleanup_pid __attribute__ ((cleanup (spawn_kill_pidp)))

#endif
