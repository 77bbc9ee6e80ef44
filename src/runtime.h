/* The runtime: what really starts a container's process (the runc role).
 * From a fully resolved spec it starts the process in new namespaces over
 * a root filesystem mounted by a callback, with /proc, /sys, a minimal
 * /dev, the generated /etc files, volumes, masked paths, pivot_root, the
 * user, capabilities and rlimits; and it starts further processes inside
 * a running container (exec).  It also parses the command-line syntaxes
 * whose meaning it owns: -v, --mount, --tmpfs, --ulimit, --cap-add and
 * --cap-drop.  Nothing here prints; errors come back through err, with
 * code 127 when the command is not found and 126 when it cannot be run.
 * The parsers only allocate: safe after fork, not in a signal handler.
 * runtime_start() and runtime_exec() fork, so the caller must not hold
 * locks that other threads of its own need. */
#ifndef SKIFF_SRC_RUNTIME_H
#define SKIFF_SRC_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "libutil/error.h"
#include "userns.h"

/* ---- mounts: -v, --mount, --tmpfs ---------------------------------------- */

enum runtime_mount_type
{
  RUNTIME_MOUNT_BIND,   /* a host file or directory */
  RUNTIME_MOUNT_VOLUME, /* a named or anonymous volume: the caller turns it into a bind */
  RUNTIME_MOUNT_TMPFS,
};

struct runtime_mount
{
  enum runtime_mount_type type;
  char *source;          /* BIND: host path as given (absolute, or starting with
                            "." for the caller to make absolute); VOLUME: the
                            name, NULL when anonymous; TMPFS: NULL */
  char *destination;     /* absolute and lexically clean, never "/" */
  bool is_readonly;
  bool is_nonrecursive;  /* "bind" rather than the default "rbind" */
  bool is_nocopy;        /* VOLUME: do not copy the image's files into a new volume */
  bool is_copy_up;       /* BIND of a new volume: when SOURCE is an empty directory,
                            the image's files at DESTINATION, and the directory's
                            owner and mode, are copied into it first (docker's and
                            podman's volume copy-up) */
  bool is_notmpcopyup;   /* TMPFS: do not copy the image's files into the tmpfs */
  unsigned long flags;   /* MS_NOSUID, MS_NODEV, MS_NOEXEC asked for */
  unsigned long propagation; /* 0, or MS_SHARED, MS_SLAVE, MS_PRIVATE or
                                MS_UNBINDABLE, with MS_REC for the r- forms */
  char *data;            /* TMPFS: "size=...,mode=..." for the kernel, or NULL */
};

/* "-v [SRC:]DEST[:OPTS]" as podman reads it: one field is an anonymous
 * volume, SRC starting with "/" or "." is a bind, anything else a named
 * volume.  OPTS: ro, rw, z, Z (no-ops without SELinux), [no]suid, [no]dev,
 * [no]exec, bind, rbind, [r]shared, [r]slave, [r]private, [r]unbindable,
 * copy, nocopy.  Fails on an empty source, a relative destination, an
 * unknown or conflicting option.  OUT is released with runtime_mount_clear(). */
int runtime_mount_parse_volume (const char *spec, struct runtime_mount *out,
                                struct error **err);

/* "--mount type=bind|volume|tmpfs,source=...,target=...,..." with docker's
 * and podman's keys: src/source, dst/destination/target, ro/readonly[=BOOL],
 * rw, bind-propagation, bind-nonrecursive[=BOOL], tmpfs-size, tmpfs-mode,
 * volume-nocopy/nocopy, [no]suid, [no]dev, [no]exec, z, Z, relabel and
 * consistency (accepted, no effect).  A bind needs a source, every type a
 * target. */
int runtime_mount_parse_mount (const char *spec, struct runtime_mount *out,
                               struct error **err);

/* "--tmpfs DEST[:OPTS]": OPTS are mount flags (ro, rw, [no]suid, [no]dev,
 * [no]exec, notmpcopyup, tmpcopyup) and tmpfs data (size, mode, uid, gid,
 * nr_inodes).  Without suid, dev or exec the mount gets nosuid, nodev and
 * noexec, as podman does. */
int runtime_mount_parse_tmpfs (const char *spec, struct runtime_mount *out,
                               struct error **err);

void runtime_mount_clear (struct runtime_mount *m);

/* The option naming PROPAGATION (MS_SHARED... with or without MS_REC, as
 * runtime_mount_parse_*() set it): "rshared", "private"...; NULL for 0. */
const char *runtime_mount_propagation_name (unsigned long propagation);

/* The paths an unprivileged container gets masked, and read-only (podman's
 * lists), for `inspect`; *N gets their number. */
const char *const *runtime_masked_paths (size_t *n);
const char *const *runtime_readonly_paths (size_t *n);

/* ---- capabilities and rlimits ------------------------------------------- */

/* Capability sets as bit masks (bit N = capability N). */
struct runtime_caps
{
  uint64_t bounding; /* bounding set; also effective and permitted for root */
  uint64_t user;     /* effective, permitted, inheritable and ambient for a
                        non-root user: the added caps, as podman gives them */
};

/* "CAP_NET_ADMIN", "net_admin", any case, to its number.  Fails with the
 * name quoted when it is unknown ("ALL" is not a capability here). */
int runtime_caps_from_name (const char *name, int *cap, struct error **err);
/* "CAP_NET_ADMIN" for a known number, NULL otherwise. */
const char *runtime_caps_name (int cap);
/* podman's default set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
 * NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT. */
uint64_t runtime_caps_default (void);
/* The default set, or every capability when IS_PRIVILEGED, plus ADD minus
 * DROP (NULL-terminated, may be NULL) with podman's rules: "ALL" in DROP
 * starts from nothing, "ALL" in ADD from everything; a capability both
 * added and dropped, or ALL in both, is an error.  OUT->user holds the
 * added capabilities that remain in the set. */
int runtime_caps_merge (bool is_privileged, char *const *add, char *const *drop,
                        struct runtime_caps *out, struct error **err);

struct runtime_rlimit
{
  int resource; /* RLIMIT_NOFILE, ... */
  rlim_t soft;
  rlim_t hard;
};

/* "--ulimit NAME=SOFT[:HARD]" as docker reads it: NAME one of core, cpu,
 * data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio,
 * rttime, sigpending, stack; values decimal, -1 or "unlimited" for no
 * limit; HARD defaults to SOFT and must not be below it. */
int runtime_rlimit_parse (const char *spec, struct runtime_rlimit *out, struct error **err);

/* ---- the process -------------------------------------------------------- */

/* What is run, as whom, and how: shared by the container's first process
 * and by exec. */
struct runtime_process
{
  char **argv;            /* entrypoint + command, argv[0] searched in PATH of ENV */
  char **env;             /* the final environment; HOME is added when missing */
  const char *cwd;        /* absolute; NULL means "/" */
  const char *user;       /* "name", "uid", "uid:gid", "name:group"...; NULL: root */
  char **group_add;       /* extra groups by name or number, may be NULL */
  struct runtime_caps caps;
  bool no_new_privs;
  const struct runtime_rlimit *rlimits;
  size_t n_rlimits;
  /* Standard streams: when IS_TTY, a new pseudo-terminal is made inside the
   * container and its master handed back (runtime_proc.pty_master);
   * otherwise STDIO[i] becomes descriptor i (-1: inherit ours). */
  bool is_tty;
  unsigned short tty_rows, tty_cols; /* initial size, 0: leave the default */
  int stdio[3];
  unsigned int preserve_fds; /* also pass descriptors 3 .. 3 + N - 1 */
};

/* What runtime_start() and runtime_exec() hand back. */
struct runtime_proc
{
  pid_t pid;      /* the process, as seen from the caller's pid namespace; our child */
  int pty_master; /* the terminal's master side when IS_TTY, else -1; the caller's */
};

#define RUNTIME_PROC_INIT { -1, -1 }

/* ---- paths inside a container's root ------------------------------------ */

/* Open PATH inside the tree at ROOT_FD as if ROOT_FD were "/": absolute
 * symlinks and ".." never leave it.  openat2(RESOLVE_IN_ROOT) when the
 * kernel has it (5.6), else a walk one component at a time.  FLAGS are
 * openat flags (O_CLOEXEC is added); a final symlink is followed unless
 * O_NOFOLLOW.  Returns the descriptor, or -1 with errno set.  Safe after
 * fork, not in a signal handler. */
int runtime_fs_open_in_root (int root_fd, const char *path, int flags, mode_t mode);

/* True when SKIFF_RUNTIME_FALLBACK (a comma-separated list) names NAME, so
 * tests can force a fallback the machine would not need: "openat2"
 * (in-root lookups walk component by component), "mount_setattr"
 * (read-only remounts are not recursive), "sysfs" (bind the host's /sys),
 * "mqueue" (bind the host's /dev/mqueue), "close_range", "open_tree" (a
 * running container's root file system is reached through a private bind
 * rather than a detached clone, src/container_fs.c). */
bool runtime_fallback_forced (const char *name);

/* ---- starting a container ----------------------------------------------- */

/* Called inside the container's mount namespace, before its /proc, /dev
 * and pivot_root, to mount the root filesystem (storage_rootfs_mount()).
 * Returns 0 and a malloc'd path of the mounted root in *ROOTFS_PATH. */
typedef int (*runtime_rootfs_fn) (void *data, char **rootfs_path, struct error **err);

/* Called in the parent once the container's namespaces exist (PID is its
 * first process; /proc/PID/ns/net its network namespace) and before its
 * command is exec'd: to set up the network from the host side. */
typedef int (*runtime_created_fn) (void *data, pid_t pid, struct error **err);

/* Files on the host bind-mounted over /etc/hosts, /etc/resolv.conf and
 * /etc/hostname; NULL leaves the image's file. */
struct runtime_etc_files
{
  const char *hosts;
  const char *resolv_conf;
  const char *hostname;
};

struct runtime_spec
{
  struct runtime_process process;
  bool init;                 /* --init: PID 1 is skiff's own reaper, the command its child */
  const char *hostname;      /* NULL: the kernel's default in the new UTS namespace */
  bool is_readonly_rootfs;   /* --read-only */
  bool is_privileged;        /* no masked or read-only paths, /sys writable */
  bool is_host_network;      /* --network host: stay in our network namespace */
  int join_net_fd;           /* > 0: --network container:NAME or ns:PATH, share
                                this network namespace, inside the user
                                namespace owning it (userns_spawn_join()); 0,
                                which is always stdin, for none */
  bool keep_id;              /* --userns=keep-id: the CFG given to runtime_start()
                                must come from userns_config_keep_id() (checked) */
  uint64_t shm_size;         /* bytes of /dev/shm, 0: 64 MiB */
  const struct runtime_mount *mounts; /* binds and tmpfs; volumes already binds */
  size_t n_mounts;
  struct runtime_etc_files etc_files;
  runtime_rootfs_fn mount_rootfs;
  void *rootfs_data;
  runtime_created_fn on_created; /* may be NULL */
  void *created_data;
};

/* Start SPEC's process as the first process (PID 1) of new user (rootless),
 * mount, pid, uts, ipc, cgroup (where the kernel has it) and, unless
 * IS_HOST_NETWORK, network namespaces, in the user namespace CFG describes;
 * with JOIN_NET_PID, in that process's user and network namespaces instead.
 * Returns once the command was exec'd, with OUT->pid its pid as we see it
 * (our child: the caller waits for it).  On failure nothing is left
 * running, and *err holds the step that failed in the container, with
 * code 127 (command not found) or 126 (cannot be executed) where it
 * applies. */
int runtime_start (const struct userns_config *cfg, const struct runtime_spec *spec,
                   struct runtime_proc *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* ---- exec into a running container -------------------------------------- */

struct runtime_exec_spec
{
  struct runtime_process process;
};

/* Start SPEC's process inside the running container whose first process is
 * CONTAINER_PID: it joins the container's user namespace first, then its
 * mount, pid, uts, ipc, network and cgroup namespaces (those that differ
 * from ours).  Returns once the command was exec'd; OUT->pid is our child.
 * Errors as runtime_start(). */
int runtime_exec (pid_t container_pid, const struct runtime_exec_spec *spec,
                  struct runtime_proc *out, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
