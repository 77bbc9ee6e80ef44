/* The user namespace: reading /etc/subuid and /etc/subgid, building the ID
 * maps, and starting a child inside the namespace.
 *
 * How a child is started (userns_spawn), parent and child talking over a
 * SOCK_SEQPACKET socketpair in named steps:
 *
 *   1. clone_child: the parent clones the child with CLONE_NEWUSER (rootless)
 *      and the namespaces the caller asked for.  The child waits.
 *   2. write_maps: the parent writes uid_map with newuidmap (or "0 UID 1"
 *      directly when the user has no subordinate UIDs), then gid_map with
 *      newgidmap (or "deny" to setgroups and "0 GID 1" directly).  On
 *      failure it sends SYNC_ERROR and kills the child.
 *   3. The parent sends SYNC_MAPS_WRITTEN.
 *   4. become_root: the child sets its IDs to 0 of the namespace, and with
 *      a new mount namespace makes "/" a recursive slave.  It answers
 *      SYNC_CHILD_READY, or SYNC_ERROR with the reason.
 *   5. The child runs the caller's function; a failure there is sent as
 *      SYNC_ERROR, and an exec closes the socket (it is close-on-exec), so
 *      the parent's userns_proc_wait_exec() sees either the error or EOF.
 *
 * Either side seeing EOF where it expected a step knows the other died,
 * so nothing ever waits forever. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "userns.h"

#define SUBID_LINE_MAX 4096
#define SUGGESTED_FIRST 100000u
#define SUGGESTED_COUNT 65536u
#define CHILD_STACK_SIZE (8u * 1024 * 1024)
#define NAMESPACE_FLAGS                                                        \
  (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET     \
   | CLONE_NEWCGROUP)

/* ---- /etc/subuid and /etc/subgid ---------------------------------------- */

/* Decimal digits only (no sign, no blanks), at most 32 bits. */
static bool
parse_u32 (const char *s, uint32_t *out)
{
  uint64_t v = 0;

  if (*s == '\0')
    return false;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9')
        return false;
      v = v * 10 + (uint64_t) (*s - '0');
      if (v > UINT32_MAX)
        return false;
    }
  *out = (uint32_t) v;
  return true;
}

/* "owner:start:count" with trailing blanks allowed.  The range must be
 * non-empty and end below 2^32 - 1, the ID the kernel never maps. */
static bool
parse_subid_line (char *line, char **owner, struct userns_range *r)
{
  char *start, *count;
  size_t len = strlen (line);

  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'
                     || line[len - 1] == ' ' || line[len - 1] == '\t'))
    line[--len] = '\0';
  if (line[0] == '\0' || line[0] == '#')
    return false;
  start = strchr (line, ':');
  if (start == NULL || start == line)
    return false;
  *start++ = '\0';
  count = strchr (start, ':');
  if (count == NULL)
    return false;
  *count++ = '\0';
  if (!parse_u32 (start, &r->start) || !parse_u32 (count, &r->count))
    return false;
  if (r->count == 0 || (uint64_t) r->start + r->count > UINT32_MAX)
    return false;
  *owner = line;
  return true;
}

static bool
owner_matches (const char *owner, const char *user, uint32_t id)
{
  uint32_t n;

  if (user && strcmp (owner, user) == 0)
    return true;
  return parse_u32 (owner, &n) && n == id;
}

static bool
ranges_overlap (const struct userns_range *a, const struct userns_range *b)
{
  return (uint64_t) a->start < (uint64_t) b->start + b->count
         && (uint64_t) b->start < (uint64_t) a->start + a->count;
}

/* The kernel refuses a map whose host ranges overlap, so a duplicated or
 * overlapping line, or one containing the user's own ID (already mapped to
 * container root), would break the whole namespace. */
static bool
range_usable (const struct userns_subids *s, const struct userns_range *r, uint32_t id)
{
  struct userns_range self = { id, 1 };

  if (ranges_overlap (r, &self))
    return false;
  for (size_t i = 0; i < s->n; i++)
    if (ranges_overlap (r, &s->ranges[i]))
      return false;
  return s->n < USERNS_MAX_EXTENTS - 1;
}

static void
add_line (struct userns_subids *s, char *line, const char *user, uint32_t id,
          const char *path)
{
  struct userns_range r;
  char *owner;

  if (!parse_subid_line (line, &owner, &r))
    return;
  if (r.start + r.count > s->highest_end)
    s->highest_end = r.start + r.count;
  if (!owner_matches (owner, user, id))
    return;
  if (!range_usable (s, &r, id))
    {
      log_debug ("%s: ignoring range %u:%u of \"%s\": it overlaps another, or there are "
                 "too many", path, r.start, r.count, owner);
      return;
    }
  s->ranges = xrealloc (s->ranges, (s->n + 1) * sizeof *s->ranges);
  s->ranges[s->n++] = r;
}

int
userns_read_subids (const char *path, const char *user, uint32_t id,
                    struct userns_subids *out, struct error **err)
{
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  struct userns_subids s = { NULL, 0, 0 };
  size_t cap = 0;
  ssize_t len;

  f = fopen (path, "re");
  if (f == NULL && errno == ENOENT)
    {
      *out = s;
      return 0;
    }
  if (f == NULL)
    return err_make (err, errno, "open \"%s\"", path);
  while ((len = getline (&line, &cap, f)) >= 0)
    if ((size_t) len <= SUBID_LINE_MAX && memchr (line, '\0', (size_t) len) == NULL)
      add_line (&s, line, user, id, path);
  if (ferror (f))
    {
      int saved = errno;
      userns_subids_free (&s);
      return err_make (err, saved, "read \"%s\"", path);
    }
  *out = s;
  return 0;
}

void
userns_subids_free (struct userns_subids *s)
{
  free (s->ranges);
  s->ranges = NULL;
  s->n = 0;
}

/* ---- ID maps ------------------------------------------------------------ */

void
userns_build_idmap (uint32_t host_id, const struct userns_range *ranges, size_t n,
                    struct userns_idmap *out)
{
  uint32_t next = 1;

  out->entries = xcalloc (n + 1, sizeof *out->entries);
  out->entries[0] = (struct userns_idmap_entry) { 0, host_id, 1 };
  out->n = 1;
  for (size_t i = 0; i < n && next < UINT32_MAX; i++)
    {
      uint32_t size = ranges[i].count;

      if (size > UINT32_MAX - next)
        size = UINT32_MAX - next;
      out->entries[out->n++] = (struct userns_idmap_entry) { next, ranges[i].start, size };
      next += size;
    }
}

void
userns_idmap_free (struct userns_idmap *m)
{
  free (m->entries);
  m->entries = NULL;
  m->n = 0;
}

static void
push_entry (struct userns_idmap *m, uint32_t container_id, uint32_t host_id, uint32_t size)
{
  m->entries[m->n++] = (struct userns_idmap_entry) { container_id, host_id, size };
}

void
userns_build_keep_id_map (uint32_t host_id, const struct userns_idmap *base,
                          struct userns_idmap *out)
{
  uint32_t next = 0;
  bool is_placed = false;

  /* One more line for our own ID, one for the range it splits. */
  out->entries = xcalloc (base->n + 2, sizeof *out->entries);
  out->n = 0;
  for (size_t i = 1; i < base->n; i++)
    {
      uint32_t host = base->entries[i].host_id, size = base->entries[i].size;

      while (size > 0 && next < UINT32_MAX && out->n < USERNS_MAX_EXTENTS - 1)
        {
          uint32_t chunk = size;

          if (!is_placed && next == host_id)
            {
              push_entry (out, host_id, host_id, 1);
              is_placed = true;
              next = host_id + 1;
              continue;
            }
          if (!is_placed && next < host_id && host_id - next < chunk)
            chunk = host_id - next;
          if (chunk > UINT32_MAX - next)
            chunk = UINT32_MAX - next;
          push_entry (out, next, host, chunk);
          next += chunk;
          host += chunk;
          size -= chunk;
        }
    }
  if (!is_placed)
    push_entry (out, host_id, host_id, 1);
}

int
userns_config_keep_id (const struct userns_config *cfg, struct userns_config *out,
                       struct error **err)
{
  if (!cfg->is_rootless)
    return err_make (err, 0, "keep-id is only supported in rootless mode");
  if (!cfg->has_subuids || !cfg->has_subgids)
    return err_make (err, 0, "--userns=keep-id needs subordinate UIDs and GIDs in "
                     "/etc/subuid and /etc/subgid");
  *out = *cfg;
  userns_build_keep_id_map (cfg->uid, &cfg->uidmap, &out->uidmap);
  userns_build_keep_id_map (cfg->gid, &cfg->gidmap, &out->gidmap);
  return 0;
}

/* ---- the config --------------------------------------------------------- */

static bool
single_forced (void)
{
  const char *v = getenv ("SKIFF_USERNS_SINGLE");

  return v && strcmp (v, "1") == 0;
}

/* A free range to suggest: above every range in the file, and no lower
 * than where useradd starts. */
static uint32_t
suggested_first (const struct userns_subids *s)
{
  uint32_t first = s->highest_end > SUGGESTED_FIRST ? s->highest_end : SUGGESTED_FIRST;

  if (first > UINT32_MAX - SUGGESTED_COUNT)
    first = SUGGESTED_FIRST;
  return first;
}

static void
warn_missing (const char *name, const char *subuid_path, const struct userns_subids *su,
              const char *subgid_path, const struct userns_subids *sg)
{
  uint32_t u = suggested_first (su), g = suggested_first (sg);
  uint32_t last = SUGGESTED_COUNT - 1;

  if (su->n == 0 && sg->n == 0)
    log_warn ("no subordinate UIDs/GIDs for user \"%s\" in %s and %s: using a single-ID "
              "user namespace; to fix run: usermod --add-subuids %u-%u --add-subgids "
              "%u-%u %s", name, subuid_path, subgid_path, u, u + last, g, g + last, name);
  else if (su->n == 0)
    log_warn ("no subordinate UIDs for user \"%s\" in %s: mapping only UID 0 in the user "
              "namespace; to fix run: usermod --add-subuids %u-%u %s", name, subuid_path,
              u, u + last, name);
  else if (sg->n == 0)
    log_warn ("no subordinate GIDs for user \"%s\" in %s: mapping only GID 0 in the user "
              "namespace; to fix run: usermod --add-subgids %u-%u %s", name, subgid_path,
              g, g + last, name);
}

int
userns_load_config_from (const char *subuid_path, const char *subgid_path,
                         const char *user, uid_t uid, gid_t gid,
                         struct userns_config *out, struct error **err)
{
  struct userns_subids su = { NULL, 0, 0 }, sg = { NULL, 0, 0 };
  cleanup_free char *name = user ? xstrdup (user) : xasprintf ("%u", (unsigned) uid);
  bool is_forced = single_forced ();

  memset (out, 0, sizeof *out);
  out->is_rootless = true;
  out->uid = uid;
  out->gid = gid;
  if (!is_forced)
    {
      if (userns_read_subids (subuid_path, user, uid, &su, err) < 0)
        return -1;
      if (userns_read_subids (subgid_path, user, uid, &sg, err) < 0)
        {
          userns_subids_free (&su);
          return -1;
        }
      warn_missing (name, subuid_path, &su, subgid_path, &sg);
    }
  else
    log_debug ("single-ID user namespace forced by SKIFF_USERNS_SINGLE=1");
  out->has_subuids = su.n > 0;
  out->has_subgids = sg.n > 0;
  userns_build_idmap (uid, su.ranges, su.n, &out->uidmap);
  userns_build_idmap (gid, sg.ranges, sg.n, &out->gidmap);
  userns_subids_free (&su);
  userns_subids_free (&sg);
  return 0;
}

int
userns_load_config (uid_t uid, gid_t gid, bool is_rootless, struct userns_config *out,
                    struct error **err)
{
  struct passwd *pw;

  if (!is_rootless)
    {
      memset (out, 0, sizeof *out);
      out->uid = uid;
      out->gid = gid;
      return 0;
    }
  pw = getpwuid (uid);
  return userns_load_config_from ("/etc/subuid", "/etc/subgid", pw ? pw->pw_name : NULL,
                                  uid, gid, out, err);
}

void
userns_config_free (struct userns_config *cfg)
{
  userns_idmap_free (&cfg->uidmap);
  userns_idmap_free (&cfg->gidmap);
}

/* ---- the sync socket ---------------------------------------------------- */

enum sync_step
{
  SYNC_MAPS_WRITTEN = 1, /* parent -> child: uid_map and gid_map are in place */
  SYNC_CHILD_READY,      /* child -> parent: IDs set, about to run the function */
  SYNC_ERROR,            /* either way: the sender failed; the text says why */
  SYNC_CHILD_PID,        /* joining helper -> parent: the child's PID is in CODE */
};

struct sync_msg
{
  uint32_t step;
  int32_t errnum;
  int32_t code;
  char text[4000];
};

#define SYNC_HEADER_SIZE offsetof (struct sync_msg, text)

static int
send_msg (int fd, const struct sync_msg *m)
{
  size_t len = SYNC_HEADER_SIZE + strnlen (m->text, sizeof m->text - 1) + 1;
  ssize_t n;

  do
    n = send (fd, m, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) len ? 0 : -1;
}

static int
send_step (int fd, enum sync_step step, struct error **err)
{
  struct sync_msg m = { .step = step };

  if (send_msg (fd, &m) < 0)
    return err_make (err, errno, "send sync step %u", (unsigned) step);
  return 0;
}

/* Best effort: the receiver may already be gone, which it tells by EOF. */
static void
send_error (int fd, const struct error *e)
{
  struct sync_msg m = { .step = SYNC_ERROR, .errnum = e->errnum, .code = e->code };

  snprintf (m.text, sizeof m.text, "%s", e->msg);
  (void) send_msg (fd, &m);
}

/* 1 with a message in *M, 0 at EOF, negative on failure. */
static int
recv_msg (int fd, struct sync_msg *m, struct error **err)
{
  size_t text_len;
  ssize_t n;

  do
    n = recv (fd, m, sizeof *m, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return err_make (err, errno, "read sync socket");
  if (n == 0)
    return 0;
  if ((size_t) n < SYNC_HEADER_SIZE)
    return err_make (err, 0, "read sync socket: short message of %zd bytes", n);
  /* The sender includes the NUL; do not trust it to. */
  text_len = (size_t) n - SYNC_HEADER_SIZE;
  m->text[text_len < sizeof m->text ? text_len : sizeof m->text - 1] = '\0';
  return 1;
}

static int
error_from_msg (const struct sync_msg *m, struct error **err)
{
  return err_make_code (err, m->code, m->errnum, "%s", m->text);
}

/* ---- the child ---------------------------------------------------------- */

struct child_ctx
{
  const struct userns_config *cfg;
  int clone_flags;
  userns_child_fn fn;
  void *arg;
  int parent_fd; /* the parent's end, closed first so EOF means the parent died */
  int child_fd;
  int join_net_fd; /* userns_spawn_join(): the network namespace to join */
};

static int
wait_for_maps (int fd, struct error **err)
{
  struct sync_msg m;
  int r = recv_msg (fd, &m, err);

  if (r < 0)
    return -1;
  if (r == 0 || m.step == SYNC_ERROR)
    return err_make (err, 0, "the parent failed before writing the ID maps");
  if (m.step != SYNC_MAPS_WRITTEN)
    return err_make (err, 0, "unexpected sync step %u while waiting for the ID maps",
                     (unsigned) m.step);
  return 0;
}

/* The maps make our own IDs root of the namespace already; setting them
 * explicitly also resets saved and filesystem IDs.  Safe: these are IDs of
 * our own namespace, which holds nothing of anybody else. */
static int
become_root (const struct child_ctx *c, struct error **err)
{
  if (c->cfg->is_rootless)
    {
      if (setresgid (0, 0, 0) < 0)
        return err_make (err, errno, "setresgid to 0 in the user namespace");
      if (setresuid (0, 0, 0) < 0)
        return err_make (err, errno, "setresuid to 0 in the user namespace");
      /* When root is not our own UID (--userns=keep-id) the change made us
       * undumpable, and the parent could not open our /proc/PID/ns files
       * any more (the network set-up joins our network namespace). */
      if (prctl (PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
        return err_make (err, errno, "make the process dumpable again");
    }
  if ((c->clone_flags & CLONE_NEWNS)
      && mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return err_make (err, errno, "make \"/\" a slave mount in the new mount namespace");
  return 0;
}

static int
child_main (void *arg)
{
  struct child_ctx *c = arg;
  struct error *err = NULL;
  int r;

  close (c->parent_fd);
  if (wait_for_maps (c->child_fd, &err) < 0)
    _exit (125);
  if (become_root (c, &err) < 0)
    {
      send_error (c->child_fd, err);
      _exit (125);
    }
  if (send_step (c->child_fd, SYNC_CHILD_READY, &err) < 0)
    _exit (125);
  r = c->fn (c->arg, &err);
  if (r < 0)
    {
      send_error (c->child_fd, err);
      r = err_exit_code (err);
    }
  fflush (NULL);
  _exit (r);
}

/* ---- the parent --------------------------------------------------------- */

static int
clone_error (int errnum, int flags, struct error **err)
{
  if ((flags & CLONE_NEWUSER) && (errnum == EPERM || errnum == ENOSPC || errnum == EUSERS))
    return err_make (err, errnum, "create a user namespace (are unprivileged user "
                     "namespaces enabled? check the sysctls user.max_user_namespaces "
                     "and kernel.unprivileged_userns_clone)");
  return err_make (err, errnum, "clone a process with new namespaces");
}

/* A separate stack for clone(): the child gets its own copy of the mapping
 * (no CLONE_VM), so the parent unmaps its copy right away. */
static int
clone_child (struct child_ctx *c, pid_t *pid, struct error **err)
{
  void *stack = mmap (NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  int saved;

  if (stack == MAP_FAILED)
    return err_make (err, errno, "allocate a stack for the child process");
  fflush (NULL);
  *pid = clone (child_main, (char *) stack + CHILD_STACK_SIZE, c->clone_flags | SIGCHLD, c);
  saved = errno;
  munmap (stack, CHILD_STACK_SIZE);
  if (*pid < 0)
    return clone_error (saved, c->clone_flags, err);
  return 0;
}

static char *
format_map (const struct userns_idmap *m)
{
  struct buf b = BUF_INIT;

  for (size_t i = 0; i < m->n; i++)
    buf_printf (&b, "%u %u %u\n", m->entries[i].container_id, m->entries[i].host_id,
                m->entries[i].size);
  return buf_steal (&b);
}

/* newuidmap/newgidmap check the ranges against /etc/subuid and /etc/subgid
 * themselves; we hand them exactly what we read from there. */
static int
run_map_helper (const char *helper, pid_t pid, const struct userns_idmap *m,
                struct error **err)
{
  cleanup_free char *path = spawn_find_program (helper);
  cleanup_strv char **argv = NULL;
  struct spawn_opts opts = { 0 };
  size_t k = 0;

  if (path == NULL)
    return err_make (err, 0, "%s not found in $PATH: install the uidmap package "
                     "(apt-get install uidmap)", helper);
  argv = xcalloc (2 + 3 * m->n + 1, sizeof *argv);
  argv[k++] = xstrdup (path);
  argv[k++] = xasprintf ("%d", (int) pid);
  for (size_t i = 0; i < m->n; i++)
    {
      argv[k++] = xasprintf ("%u", m->entries[i].container_id);
      argv[k++] = xasprintf ("%u", m->entries[i].host_id);
      argv[k++] = xasprintf ("%u", m->entries[i].size);
    }
  return spawn_check (argv, &opts, err);
}

/* A map file takes one write(2) holding the whole map. */
static int
write_proc_file (pid_t pid, const char *name, const char *data, bool may_be_missing,
                 struct error **err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/%s", (int) pid, name);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  size_t len = strlen (data);
  ssize_t n;

  if (fd < 0 && errno == ENOENT && may_be_missing)
    return 0;
  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", path);
  do
    n = write (fd, data, len);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t) len)
    return err_make (err, n < 0 ? errno : EIO, "write \"%s\"", path);
  return 0;
}

/* Without subordinate IDs the kernel lets us map our own ID ourselves, and
 * our own GID only after setgroups is denied (user_namespaces(7)): so the
 * namespace cannot drop supplementary groups used to deny access. */
static int
write_maps (const struct userns_config *cfg, pid_t pid, struct error **err)
{
  cleanup_free char *uidmap = format_map (&cfg->uidmap);
  cleanup_free char *gidmap = format_map (&cfg->gidmap);

  if (cfg->has_subuids ? run_map_helper ("newuidmap", pid, &cfg->uidmap, err)
                       : write_proc_file (pid, "uid_map", uidmap, false, err))
    return err_wrap (err, "write the UID map");
  if (!cfg->has_subgids && write_proc_file (pid, "setgroups", "deny", true, err) < 0)
    return err_wrap (err, "write the GID map");
  if (cfg->has_subgids ? run_map_helper ("newgidmap", pid, &cfg->gidmap, err)
                       : write_proc_file (pid, "gid_map", gidmap, false, err))
    return err_wrap (err, "write the GID map");
  return 0;
}

static void
reap (struct userns_proc *proc, int *status)
{
  int st = 0;

  while (waitpid (proc->pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (status)
    *status = st;
  proc->pid = -1;
}

static int
wait_ready (struct userns_proc *proc, struct error **err)
{
  struct sync_msg m;
  int r = recv_msg (proc->sync_fd, &m, err);
  int status;

  if (r < 0)
    return -1;
  if (r == 0)
    {
      cleanup_free char *how = NULL;
      reap (proc, &status);
      how = spawn_status_text (status);
      return err_make (err, 0, "child process %s before it was ready", how);
    }
  if (m.step == SYNC_ERROR)
    return error_from_msg (&m, err);
  if (m.step != SYNC_CHILD_READY)
    return err_make (err, 0, "unexpected sync step %u from the child", (unsigned) m.step);
  return 0;
}

int
userns_spawn (const struct userns_config *cfg, int extra_clone_flags, userns_child_fn fn,
              void *arg, struct userns_proc *out, struct error **err)
{
  cleanup_userns_proc struct userns_proc proc = USERNS_PROC_INIT;
  cleanup_close int child_fd = -1;
  struct child_ctx c;
  int sv[2];

  if (extra_clone_flags & ~NAMESPACE_FLAGS)
    return err_make (err, EINVAL, "spawn in a user namespace: unsupported clone flags %#x",
                     (unsigned) (extra_clone_flags & ~NAMESPACE_FLAGS));
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return err_make (err, errno, "create the sync socket");
  proc.sync_fd = sv[0];
  child_fd = sv[1];
  c = (struct child_ctx) {
    .cfg = cfg,
    .clone_flags = extra_clone_flags | (cfg->is_rootless ? CLONE_NEWUSER : 0),
    .fn = fn,
    .arg = arg,
    .parent_fd = sv[0],
    .child_fd = sv[1],
  };
  if (clone_child (&c, &proc.pid, err) < 0)
    return -1;
  close (steal_fd (&child_fd));
  if (cfg->is_rootless && write_maps (cfg, proc.pid, err) < 0)
    {
      send_error (proc.sync_fd, *err);
      return err_wrap (err, "set up the user namespace of process %d", (int) proc.pid);
    }
  if (send_step (proc.sync_fd, SYNC_MAPS_WRITTEN, err) < 0)
    return err_wrap (err, "start process %d", (int) proc.pid);
  if (wait_ready (&proc, err) < 0)
    return err_wrap (err, "set up the user namespace");
  *out = proc;
  proc = (struct userns_proc) USERNS_PROC_INIT;
  return 0;
}

/* ---- joining a network namespace and its user namespace ------------------ */

/* The user namespace owning NET_FD first (once in it, we have the
 * capabilities its network namespace asks for), unless it is ours. */
static int
join_namespaces (int net_fd, struct error **err)
{
  cleanup_close int user_fd = ioctl (net_fd, NS_GET_USERNS);
  struct stat theirs, ours;

  if (user_fd < 0)
    return err_make (err, errno, "find the user namespace owning the network namespace");
  if (fstat (user_fd, &theirs) < 0 || stat ("/proc/self/ns/user", &ours) < 0)
    return err_make (err, errno, "stat the user namespaces");
  if ((theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino)
      && setns (user_fd, CLONE_NEWUSER) < 0)
    return err_make (err, errno, "join the user namespace owning the network namespace");
  if (setns (net_fd, CLONE_NEWNET) < 0)
    return err_make (err, errno, "join the network namespace");
  return 0;
}

/* The helper: joins, then clones the real child with CLONE_PARENT, so the
 * child is the caller's own (it waits for it) and, with CLONE_NEWPID, the
 * first process of a pid namespace owned by the joined user namespace. */
static int
join_helper_main (void *arg)
{
  struct child_ctx *c = arg;
  struct error *err = NULL;
  struct sync_msg m = { .step = SYNC_CHILD_PID };
  void *stack;
  pid_t pid;

  close (c->parent_fd);
  c->parent_fd = -1;
  if (join_namespaces (c->join_net_fd, &err) < 0)
    {
      send_error (c->child_fd, err);
      _exit (125);
    }
  stack = mmap (NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED)
    {
      err_make (&err, errno, "allocate a stack for the child process");
      send_error (c->child_fd, err);
      _exit (125);
    }
  pid = clone (child_main, (char *) stack + CHILD_STACK_SIZE,
               c->clone_flags | CLONE_PARENT | SIGCHLD, c);
  if (pid < 0)
    {
      err_make (&err, errno, "clone a process with new namespaces in the joined ones");
      send_error (c->child_fd, err);
      _exit (125);
    }
  m.code = (int32_t) pid;
  _exit (send_msg (c->child_fd, &m) < 0 ? 125 : 0);
}

/* The helper's answer: the child's PID, or why there is none. */
static int
wait_child_pid (struct userns_proc *helper, pid_t *pid, struct error **err)
{
  struct sync_msg m;
  int r = recv_msg (helper->sync_fd, &m, err);

  reap (helper, NULL);
  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "the helper joining the namespaces died");
  if (m.step == SYNC_ERROR)
    return error_from_msg (&m, err);
  if (m.step != SYNC_CHILD_PID || m.code <= 0)
    return err_make (err, 0, "unexpected sync step %u from the helper", (unsigned) m.step);
  *pid = (pid_t) m.code;
  return 0;
}

int
userns_spawn_join (const struct userns_config *cfg, int join_net_fd, int extra_clone_flags,
                   userns_child_fn fn, void *arg, struct userns_proc *out,
                   struct error **err)
{
  cleanup_userns_proc struct userns_proc proc = USERNS_PROC_INIT;
  cleanup_close int child_fd = -1;
  void *stack;
  struct child_ctx c;
  pid_t pid = -1;
  int sv[2];

  if (join_net_fd < 0 || (extra_clone_flags & ~(NAMESPACE_FLAGS & ~CLONE_NEWNET)))
    return err_make (err, EINVAL, "spawn in a joined network namespace: unsupported arguments");
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return err_make (err, errno, "create the sync socket");
  proc.sync_fd = sv[0];
  child_fd = sv[1];
  c = (struct child_ctx) {
    .cfg = cfg,
    .clone_flags = extra_clone_flags,
    .fn = fn,
    .arg = arg,
    .parent_fd = sv[0],
    .child_fd = sv[1],
    .join_net_fd = join_net_fd,
  };
  stack = mmap (NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED)
    return err_make (err, errno, "allocate a stack for the helper process");
  fflush (NULL);
  proc.pid = clone (join_helper_main, (char *) stack + CHILD_STACK_SIZE, SIGCHLD, &c);
  munmap (stack, CHILD_STACK_SIZE);
  if (proc.pid < 0)
    return err_make (err, errno, "start the helper joining the namespaces");
  close (steal_fd (&child_fd));
  if (wait_child_pid (&proc, &pid, err) < 0)
    return -1;
  proc.pid = pid;
  /* The maps are the joined namespace's: the child only waits for the go. */
  if (send_step (proc.sync_fd, SYNC_MAPS_WRITTEN, err) < 0)
    return err_wrap (err, "start process %d", (int) proc.pid);
  if (wait_ready (&proc, err) < 0)
    return err_wrap (err, "start a process in the joined namespaces");
  *out = proc;
  proc = (struct userns_proc) USERNS_PROC_INIT;
  return 0;
}

int
userns_proc_wait_exec (struct userns_proc *proc, struct error **err)
{
  struct sync_msg m;
  int r;

  if (proc->sync_fd < 0)
    return 0;
  r = recv_msg (proc->sync_fd, &m, err);
  close (steal_fd (&proc->sync_fd));
  if (r <= 0)
    return r;
  if (m.step != SYNC_ERROR)
    return err_make (err, 0, "unexpected sync step %u from process %d", (unsigned) m.step,
                     (int) proc->pid);
  reap (proc, NULL);
  return error_from_msg (&m, err);
}

int
userns_proc_wait (struct userns_proc *proc, int *status, struct error **err)
{
  pid_t pid = proc->pid;
  pid_t r;

  if (userns_proc_wait_exec (proc, err) < 0)
    return -1;
  if (pid <= 0)
    return err_make (err, ECHILD, "wait for the child process");
  do
    r = waitpid (pid, status, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return err_make (err, errno, "wait for process %d", (int) pid);
  proc->pid = -1;
  return 0;
}

int
userns_exit_code (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 125;
}

void
userns_proc_release (struct userns_proc *proc)
{
  if (proc->pid > 0)
    {
      kill (proc->pid, SIGKILL);
      reap (proc, NULL);
    }
  if (proc->sync_fd >= 0)
    close (steal_fd (&proc->sync_fd));
}
