/* What the runtime's files share among themselves.  Nothing outside
 * src/runtime*.c includes this, except their unit tests.  Everything
 * declared "child" runs between fork and exec, in a single-threaded
 * process, and is not async-signal-safe (it allocates). */
#ifndef SKIFF_SRC_RUNTIME_INTERNAL_H
#define SKIFF_SRC_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "libutil/error.h"
#include "runtime.h"

/* ---- fallbacks (runtime_fs.c) -------------------------------------------- */

/* runtime_fallback_forced() is public: runtime.h. */

/* ---- paths inside the container's root (runtime_fs.c) -------------------- */

/* runtime_fs_open_in_root() is public: runtime.h. */

/* A mount point for PATH inside ROOT_FD, created when missing (parents as
 * 0755 directories, the target as a directory when IS_DIR, else an empty
 * 0644 file; a symlink on the way that leads nowhere is replaced, in the
 * container's writable layer).  Returns an O_PATH descriptor of it. */
int runtime_fs_make_target (int root_fd, const char *path, bool is_dir, struct error **err);

/* "/proc/self/fd/N" for FD: how mount(2) is pointed at a descriptor. */
#define RUNTIME_FD_PATH_MAX 32
void runtime_fs_fd_path (int fd, char buf[RUNTIME_FD_PATH_MAX]);

/* Add FLAGS (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC) to the mount whose
 * root is FD, and to its submounts when IS_RECURSIVE and the kernel has
 * mount_setattr (5.12); the fallback remount keeps the flags the kernel
 * locked on it.  WHAT names the mount in errors. */
int runtime_fs_remount (int fd, unsigned long flags, bool is_recursive, const char *what,
                        struct error **err);

/* Copy the files, directories and symlinks below directory SRC into
 * directory DST with their owners and modes (the tmpfs copy-up). */
int runtime_fs_copy_tree (int src, int dst, struct error **err);

/* Set close-on-exec on every descriptor from FIRST up (close_range, 5.11,
 * or a walk of /proc/self/fd), or close them when DO_CLOSE. */
int runtime_fs_cloexec_from (int first, bool do_close, struct error **err);

/* ---- the sync socket between the parent and the container side ---------- */

enum runtime_sync_kind
{
  RUNTIME_SYNC_GO = 1,  /* parent -> child: the created hook ran, exec */
  RUNTIME_SYNC_PID,     /* exec helper -> parent: the pid of the process */
  RUNTIME_SYNC_PTY,     /* child -> parent: the terminal's master (SCM_RIGHTS) */
  RUNTIME_SYNC_ERROR,   /* child -> parent: the step that failed */
};

struct runtime_sync_msg
{
  enum runtime_sync_kind kind;
  int value;       /* PID: the pid */
  int fd;          /* PTY: the received descriptor (close-on-exec), else -1 */
  struct error *error; /* ERROR: the error, owned by the receiver */
};

int runtime_sync_send (int sock, enum runtime_sync_kind kind, int value, int fd,
                       struct error **err);
/* Best effort: the parent tells a dead child by EOF anyway. */
void runtime_sync_send_error (int sock, const struct error *e);
/* 1 with a message, 0 at EOF, negative on failure. */
int runtime_sync_recv (int sock, struct runtime_sync_msg *m, struct error **err);
/* Wait for RUNTIME_SYNC_GO; EOF or anything else is an error. */
int runtime_sync_wait_go (int sock, struct error **err);

/* ---- the container's mounts (runtime_mounts.c), child side --------------- */

struct runtime_mount_ctx
{
  const struct runtime_spec *spec;
  bool is_gid5_mapped; /* devpts may use gid=5 (tty) */
  bool has_cgroupns;
  int root_fd;         /* O_PATH of the root, a mount point */
  char *rootfs;        /* its path, for messages */
};

/* Mount the root with the callback and bind it onto itself (pivot_root
 * wants a mount point); fills ROOT_FD and ROOTFS. */
int runtime_mounts_rootfs (struct runtime_mount_ctx *c, struct error **err);
/* /proc, /sys, /dev and its parts, the /etc files, the user's mounts and
 * the masked and read-only paths, in that order. */
int runtime_mounts_setup (struct runtime_mount_ctx *c, struct error **err);
/* pivot_root into the root and detach the old one; then, with
 * --read-only, make "/" read-only. */
int runtime_mounts_pivot (struct runtime_mount_ctx *c, struct error **err);

/* ---- users (runtime_user.c) --------------------------------------------- */

struct runtime_user
{
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary groups */
  size_t n_groups;
  char *home;    /* from passwd, "/" when unknown */
};

/* Resolve SPEC ("", "name", "uid", "name:group", "uid:gid", ...) with the
 * texts of /etc/passwd and /etc/group (either may be NULL: the file is
 * missing), as runc's GetExecUser does: a number need not be in the file,
 * a name must; a user found by name gets the groups that list it, and
 * GROUP_ADD (names or numbers) is added.  Malformed lines are skipped.
 * Pure: no system calls. */
int runtime_user_resolve (const char *spec, const char *passwd, const char *group,
                          char *const *group_add, struct runtime_user *out,
                          struct error **err);
void runtime_user_clear (struct runtime_user *u);

/* Child: read the container's /etc/passwd and /etc/group (after
 * pivot_root) and resolve P->user and P->group_add. */
int runtime_user_lookup (const struct runtime_process *p, struct runtime_user *out,
                         struct error **err);
/* Child: setgroups (skipped when the namespace denies it and there is
 * nothing to set), setresgid, setresuid. */
int runtime_user_switch (const struct runtime_user *u, struct error **err);
/* ENV with HOME=U->home appended when ENV has no HOME; a new vector. */
char **runtime_user_env (char *const *env, const struct runtime_user *u);

/* ---- capabilities, rlimits, no_new_privs (runtime_caps.c), child --------- */

int runtime_rlimits_apply (const struct runtime_rlimit *r, size_t n, struct error **err);
/* Drop what CAPS->bounding lacks from the bounding set and keep the
 * permitted set across the coming setresuid (needs CAP_SETPCAP: call it
 * before switching user). */
int runtime_caps_prepare (const struct runtime_caps *caps, struct error **err);
/* After the user switch: capset (and ambient for a non-root UID). */
int runtime_caps_apply (const struct runtime_caps *caps, uid_t uid, struct error **err);
int runtime_no_new_privs (struct error **err);

/* ---- the process's last steps (runtime_process.c), child ------------------ */

/* Options of runtime_process_run() that differ between start and exec. */
struct runtime_process_opts
{
  int sync_fd;      /* to send the pty master over, -1 without */
  int go_fd;        /* wait for RUNTIME_SYNC_GO on it before exec, -1: don't */
  bool create_cwd;  /* start: make a missing working directory, as podman */
  bool bind_console; /* start: bind the terminal on /dev/console */
  bool init;        /* be PID 1 and run the command as a child (--init) */
};

/* Resolve the user, make the terminal or standard streams, set rlimits,
 * the bounding set, the user, no_new_privs, capabilities and the working
 * directory, then exec P->argv (after fork when O->init).  Returns only on
 * failure, or with --init the command's exit status. */
int runtime_process_run (const struct runtime_process *p,
                         const struct runtime_process_opts *o, struct error **err);

/* Find the command and execve it.  Returns only on failure: 127 when not
 * found, 126 when found but not executable. */
int runtime_process_exec (char *const *argv, char *const *env, struct error **err);

/* Reset every signal to its default and unblock all: what the command
 * should start with, whatever skiff had set. */
void runtime_process_reset_signals (void);

/* ---- --init (runtime_init.c), child -------------------------------------- */

/* Fork: the child calls EXEC_FN(ARG) (returning only on failure, which it
 * returns); the parent becomes the container's init: forwards signals to
 * the child, reaps every process, and returns the child's status as an
 * exit code. */
int runtime_init_run (int (*exec_fn) (void *arg, struct error **err), void *arg,
                      bool is_tty, struct error **err);

#endif
