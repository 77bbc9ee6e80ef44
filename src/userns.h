/* The user namespace skiff's containers live in.  Rootless, container root
 * is the invoking user and container IDs 1.. are the user's subordinate
 * ranges from /etc/subuid and /etc/subgid, written by the setuid helpers
 * newuidmap/newgidmap; without a range the namespace maps the one ID only.
 * As root no user namespace is made.  Everything that touches files owned
 * by subordinate IDs (layer extraction, container roots, removal) runs in a
 * child started by userns_spawn(). */
#ifndef SKIFF_SRC_USERNS_H
#define SKIFF_SRC_USERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libutil/error.h"

/* The kernel's limit of lines in uid_map and gid_map (since Linux 4.15). */
#define USERNS_MAX_EXTENTS 340

/* A range of subordinate IDs: START .. START + COUNT - 1. */
struct userns_range
{
  uint32_t start;
  uint32_t count;
};

/* What one /etc/subuid-style file grants one user. */
struct userns_subids
{
  struct userns_range *ranges; /* in file order, non-overlapping */
  size_t n;
  uint32_t highest_end; /* first ID above every range of every user, 0 when none */
};

/* One line of uid_map or gid_map. */
struct userns_idmap_entry
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct userns_idmap
{
  struct userns_idmap_entry *entries;
  size_t n;
};

/* Everything userns_spawn() needs; filled by userns_load_config(). */
struct userns_config
{
  bool is_rootless;        /* false: real root, the child gets no user namespace */
  uid_t uid;
  gid_t gid;
  bool has_subuids;        /* uidmap goes through newuidmap; false: "0 UID 1" written directly */
  bool has_subgids;        /* the same for gidmap and newgidmap */
  struct userns_idmap uidmap; /* empty when !is_rootless */
  struct userns_idmap gidmap;
};

/* Collect every range PATH grants to the user named USER (may be NULL) or
 * numbered ID, in file order.  Comments, blank and malformed lines
 * (missing fields, non-digits, numbers beyond 32 bits, ranges that wrap or
 * are empty) are skipped, and so are ranges that overlap an earlier one or
 * contain ID itself, since the kernel would refuse the whole map.  At most
 * USERNS_MAX_EXTENTS - 1 ranges are kept (one map line is container root).
 * A missing file grants nothing and is not an error; fails when PATH
 * cannot be opened or read.  OUT is released with userns_subids_free(). */
int userns_read_subids (const char *path, const char *user, uint32_t id,
                        struct userns_subids *out, struct error **err);
void userns_subids_free (struct userns_subids *s);

/* Container 0 -> HOST_ID, then container 1.. -> each range in order.  The
 * container side stops short of 2^32 - 1 (the kernel rejects a map that
 * reaches it), shortening the last range that does not fit.  Never fails. */
void userns_build_idmap (uint32_t host_id, const struct userns_range *ranges, size_t n,
                         struct userns_idmap *out);
void userns_idmap_free (struct userns_idmap *m);

/* The map of --userns=keep-id for one side, from BASE (a map as
 * userns_build_idmap() makes it): container ID HOST_ID is HOST_ID itself,
 * and the container IDs below and above it take BASE's subordinate IDs in
 * order (podman's keep-id).  Never fails. */
void userns_build_keep_id_map (uint32_t host_id, const struct userns_idmap *base,
                               struct userns_idmap *out);

/* CFG with keep-id maps for its UID and GID, to pass to userns_spawn().
 * Fails as root (podman's "keep-id is only supported in rootless mode")
 * and without subordinate UIDs and GIDs, since container root would have
 * no ID.  OUT is released with userns_config_free(). */
int userns_config_keep_id (const struct userns_config *cfg, struct userns_config *out,
                           struct error **err);

/* The config for UID/GID.  As root (IS_ROOTLESS false) there is nothing to
 * map.  Rootless, the user's ranges from /etc/subuid and /etc/subgid; when
 * a file has none, or SKIFF_USERNS_SINGLE=1 forces it, that side maps the
 * one ID, and a missing range is told in one warning giving the exact
 * usermod line that fixes it (so call this once per invocation).  Fails
 * only when a file exists but cannot be read. */
int userns_load_config (uid_t uid, gid_t gid, bool is_rootless, struct userns_config *out,
                        struct error **err);
/* The same with the files and the user name given, for tests. */
int userns_load_config_from (const char *subuid_path, const char *subgid_path,
                             const char *user, uid_t uid, gid_t gid,
                             struct userns_config *out, struct error **err);
void userns_config_free (struct userns_config *cfg);

/* The body of a child.  It runs as root of the new user namespace (maps
 * written, setresuid/setresgid(0) done, all capabilities there) or, as
 * real root, unchanged.  Return the exit status, or negative with *err set:
 * the error then travels to the parent (see userns_proc_wait_exec()) and
 * the child exits with err_exit_code().  Typically it ends in execve. */
typedef int (*userns_child_fn) (void *arg, struct error **err);

/* A child started by userns_spawn(). */
struct userns_proc
{
  pid_t pid;   /* > 0 until reaped */
  int sync_fd; /* parent's end of the sync socket; EOF once the child exec'd or exited */
};

#define USERNS_PROC_INIT { -1, -1 }

/* Start FN(ARG) in a child with a new user namespace (rootless) plus the
 * namespaces in EXTRA_CLONE_FLAGS (CLONE_NEWNS, CLONE_NEWPID, ...; with
 * CLONE_NEWPID the child is its PID 1).  Returns once the child has its
 * maps and is about to call FN; on failure the child is killed and reaped
 * and *err says which step failed, on which side.  With CLONE_NEWNS the
 * child's "/" is made a recursive slave first, so nothing it mounts
 * propagates back to the host.  The parent must not be multi-threaded
 * while other threads hold locks the child needs (it is a fork).  Flushes
 * stdio before cloning so buffered output is not written twice. */
int userns_spawn (const struct userns_config *cfg, int extra_clone_flags, userns_child_fn fn,
                  void *arg, struct userns_proc *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* userns_spawn() for a process that shares the network namespace
 * JOIN_NET_FD (an open nsfs file: /proc/PID/ns/net of a running container,
 * or the path of --network ns:PATH): a helper child joins the user
 * namespace that owns it (unless it is ours) and it, then clones FN's
 * child with CLONE_PARENT and EXTRA_CLONE_FLAGS (CLONE_NEWNET not
 * allowed), so the child is still our own and its new namespaces are owned
 * by the joined user namespace.  No maps are written: CFG must describe
 * that namespace's (it is used to become root there).  Otherwise as
 * userns_spawn(). */
int userns_spawn_join (const struct userns_config *cfg, int join_net_fd, int extra_clone_flags,
                       userns_child_fn fn, void *arg, struct userns_proc *out,
                       struct error **err) __attribute__ ((warn_unused_result));

/* Wait until the child exec'd, or FN returned.  When FN failed, returns
 * its error (errno and exit code kept) and reaps the child.  A grandchild
 * that inherited the child's end of the socket delays the answer until it
 * execs or exits too. */
int userns_proc_wait_exec (struct userns_proc *proc, struct error **err);

/* userns_proc_wait_exec(), then wait for the child to exit and store its
 * wait status in *STATUS.  Retries on EINTR. */
int userns_proc_wait (struct userns_proc *proc, int *status, struct error **err);

/* A wait status as a shell would report it: the exit code, or 128 plus
 * the signal that killed the process. */
int userns_exit_code (int status);

/* Kill (SIGKILL) and reap the child if it is still ours, and close the
 * socket: for cleanup_userns_proc. */
void userns_proc_release (struct userns_proc *proc);
#define cleanup_userns_proc __attribute__ ((cleanup (userns_proc_release)))

#endif
