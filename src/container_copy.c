/* cp (see container_copy.h).  The order of a copy:
 *
 *   1. a pipe; the container side is a child started by container_fs_start
 *      (joined to the running container, or with its root file system
 *      mounted), the host side is this process
 *   2. the sending side writes a tar of the source (send_path), or the
 *      archive from stdin as it is
 *   3. the receiving side reads the first entry, plans where things go
 *      (container_copy_plan) and extracts with libarchive below that
 *      directory, confined: no "..", no absolute names, nothing through a
 *      symlink, and in the container "/" is the container's root anyway
 *   4. wait for the child; its error wins unless it only saw the pipe
 *      close because the receiver here failed first */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "container_copy.h"
#include "container_fs.h"
#include "container_tar.h"
#include "libutil/mem.h"
#include "runtime.h"

/* ---- opening paths on either side ------------------------------------------ */

/* In the container, "/" is its root and paths resolve within it
 * (openat2 RESOLVE_IN_ROOT, or the walk); on the host, as given. */
static int
open_path (bool is_container, const char *path, int flags)
{
  cleanup_close int root = -1;

  if (!is_container)
    return open (path, flags | O_CLOEXEC);
  root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -1;
  return runtime_fs_open_in_root (root, path, flags, 0);
}

/* podman's words; CONTAINER is NULL on the host. */
static int
not_found (const char *path, const char *container, int errnum, struct error **err)
{
  if (container)
    return err_make (err, errnum, "\"%s\" could not be found on container %s", path, container);
  return err_make (err, errnum, "\"%s\" could not be found on the host", path);
}

/* ---- sending ---------------------------------------------------------------- */

/* A tar of PATH to OUT_FD; CONTAINER (its name) when we are inside it. */
static int
send_path (int out_fd, const char *container, const char *path, struct error **err)
{
  bool is_container = container != NULL;
  cleanup_container_tar struct container_tar *t = container_tar_new (container_tar_fd_sink,
                                                                    &out_fd);
  struct container_copy_path p;
  cleanup_close int dir = -1;
  struct stat st;
  int r = -1;

  container_copy_split (path, &p);
  dir = open_path (is_container, p.dir, O_RDONLY | O_DIRECTORY);
  if (dir < 0)
    not_found (path, container, errno, err);
  else if (fstatat (dir, p.base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    not_found (path, container, errno, err);
  else if (p.has_trailing_slash && !S_ISDIR (st.st_mode))
    err_make (err, ENOTDIR, "\"%s\"", path);
  else
    r = 0;
  if (r == 0)
    r = container_tar_add (t, dir, p.base, p.base, true, err);
  if (r == 0)
    r = container_tar_finish (t, err);
  container_copy_path_clear (&p);
  return r;
}

static int
pump (int in_fd, int out_fd, struct error **err)
{
  char buf[65536];

  for (;;)
    {
      ssize_t n = read (in_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read the archive");
      if (n == 0)
        return 0;
      if (container_tar_fd_sink (&out_fd, buf, (size_t) n, err) < 0)
        return -1;
    }
}

/* ---- receiving ---------------------------------------------------------------- */

struct receiver
{
  bool is_container;
  const char *dest;
  bool is_raw;       /* the archive came from stdin: extracted as it is */
  bool is_archive;   /* -a */
  struct archive *in;
  struct archive *out;
  char *top;
  char *rename;
};

static void
receiver_clear (struct receiver *rc)
{
  if (rc->in)
    archive_read_free (rc->in);
  if (rc->out)
    archive_write_free (rc->out);
  free (rc->top);
  free (rc->rename);
}

static int
archive_fail (struct archive *a, const char *what, struct error **err)
{
  const char *msg = archive_error_string (a);
  return err_make (err, archive_errno (a) > 0 ? archive_errno (a) : 0, "%s: %s", what,
                   msg ? msg : "failed");
}

static int
open_input (struct receiver *rc, int in_fd, struct error **err)
{
  rc->in = archive_read_new ();
  archive_read_support_format_tar (rc->in);
  archive_read_support_filter_all (rc->in);
  if (archive_read_open_fd (rc->in, in_fd, 65536) != ARCHIVE_OK)
    return archive_fail (rc->in, "read the archive", err);
  return 0;
}

static int
open_output (struct receiver *rc, struct error **err)
{
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR
              | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS
              | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

  /* Into the container we are root of its namespace: owners are set (to
   * 0 unless -a).  Onto the host only -a asks, and as a user that fails
   * softly for other IDs, as cp -a does. */
  if (rc->is_container || rc->is_archive)
    flags |= ARCHIVE_EXTRACT_OWNER;
  rc->out = archive_write_disk_new ();
  if (archive_write_disk_set_options (rc->out, flags) != ARCHIVE_OK)
    return archive_fail (rc->out, "extract", err);
  return 0;
}

/* The first component of NAME ("." for "./x" and "."). */
static char *
top_of (const char *name)
{
  const char *slash = strchr (name, '/');
  return slash ? xstrndup (name, (size_t) (slash - name)) : xstrdup (name);
}

static void
dest_state (struct receiver *rc, struct container_copy_dest *st)
{
  struct container_copy_path d;
  struct stat sb;
  cleanup_close int fd = open_path (rc->is_container, rc->dest, O_PATH);
  cleanup_close int parent = -1;

  memset (st, 0, sizeof *st);
  st->exists = fd >= 0 && fstat (fd, &sb) == 0;
  st->is_dir = st->exists && S_ISDIR (sb.st_mode);
  container_copy_split (rc->dest, &d);
  parent = open_path (rc->is_container, d.dir, O_PATH | O_DIRECTORY);
  st->parent_exists = parent >= 0;
  container_copy_path_clear (&d);
}

/* Decide where the archive goes, from its first entry (FIRST is NULL for
 * an archive from stdin, which goes into the destination as it is), and
 * go there. */
static int
plan_and_enter (struct receiver *rc, struct archive_entry *first, struct error **err)
{
  struct container_copy_dest st;
  cleanup_free char *dir = NULL;
  cleanup_close int fd = -1;

  dest_state (rc, &st);
  if (rc->is_raw)
    {
      if (!st.is_dir)
        return err_make (err, st.exists ? ENOTDIR : ENOENT, "destination \"%s\" must be an "
                         "existing directory when copying an archive from stdin", rc->dest);
      dir = xstrdup (rc->dest);
    }
  else
    {
      rc->top = top_of (archive_entry_pathname (first));
      if (container_copy_plan (rc->dest, &st, rc->top,
                               archive_entry_filetype (first) == AE_IFDIR, &dir, &rc->rename,
                               err) < 0)
        return -1;
    }
  fd = open_path (rc->is_container, dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", dir);
  if (fchdir (fd) < 0)
    return err_make (err, errno, "enter \"%s\"", dir);
  return 0;
}

/* Rename E's path (and hard link target) for the destination; false when
 * the entry is skipped. */
static bool
place_entry (struct receiver *rc, struct archive_entry *e)
{
  cleanup_free char *path = NULL;
  const char *link = archive_entry_hardlink (e);

  if (!rc->is_raw)
    {
      path = container_copy_rename (archive_entry_pathname (e), rc->top, rc->rename);
      if (path == NULL)
        return false;
      archive_entry_copy_pathname (e, path);
      if (link)
        {
          cleanup_free char *l = container_copy_rename (link, rc->top, rc->rename);
          if (l == NULL)
            return false;
          archive_entry_copy_hardlink (e, l);
        }
    }
  if (rc->is_container && !rc->is_archive)
    {
      archive_entry_set_uid (e, 0);
      archive_entry_set_gid (e, 0);
    }
  archive_entry_copy_uname (e, NULL);
  archive_entry_copy_gname (e, NULL);
  return true;
}

static int
copy_entry_data (struct receiver *rc, const char *name, struct error **err)
{
  const void *buf;
  size_t len;
  la_int64_t off;

  for (;;)
    {
      int r = archive_read_data_block (rc->in, &buf, &len, &off);
      if (r == ARCHIVE_EOF)
        return 0;
      if (r < ARCHIVE_WARN)
        return archive_fail (rc->in, name, err);
      if (archive_write_data_block (rc->out, buf, len, off) < ARCHIVE_WARN)
        return archive_fail (rc->out, name, err);
    }
}

static int
extract_entry (struct receiver *rc, struct archive_entry *e, struct error **err)
{
  cleanup_free char *name = NULL;

  if (!place_entry (rc, e))
    return 0;
  name = xstrdup (archive_entry_pathname (e));
  if (archive_write_header (rc->out, e) < ARCHIVE_WARN)
    return archive_fail (rc->out, name, err);
  if (archive_entry_size (e) > 0 && copy_entry_data (rc, name, err) < 0)
    return -1;
  if (archive_write_finish_entry (rc->out) < ARCHIVE_WARN)
    return archive_fail (rc->out, name, err);
  return 0;
}

static int
receive (struct receiver *rc, int in_fd, struct error **err)
{
  struct archive_entry *e;
  int r;

  if (open_input (rc, in_fd, err) < 0 || open_output (rc, err) < 0)
    return -1;
  if (rc->is_raw && plan_and_enter (rc, NULL, err) < 0)
    return -1;
  r = archive_read_next_header (rc->in, &e);
  if (r == ARCHIVE_EOF)
    return rc->is_raw ? 0 : err_make (err, 0, "no files to copy");
  if (r < ARCHIVE_WARN)
    return archive_fail (rc->in, "read the archive", err);
  if (!rc->is_raw && plan_and_enter (rc, e, err) < 0)
    return -1;
  for (;;)
    {
      if (extract_entry (rc, e, err) < 0)
        return -1;
      r = archive_read_next_header (rc->in, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return archive_fail (rc->in, "read the archive", err);
    }
  if (archive_write_close (rc->out) < ARCHIVE_WARN)
    return archive_fail (rc->out, "extract", err);
  return 0;
}

static int
receive_at (int in_fd, bool is_container, const char *dest, bool is_raw, bool is_archive,
            struct error **err)
{
  struct receiver rc = { .is_container = is_container, .dest = dest, .is_raw = is_raw,
                         .is_archive = is_archive };
  cleanup_close int cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int r = receive (&rc, in_fd, err);

  receiver_clear (&rc);
  /* Back where we were: on the host this is the user's process. */
  if (cwd >= 0 && fchdir (cwd) < 0)
    r = r < 0 ? r : err_make (err, errno, "return to the working directory");
  return r;
}

/* ---- the container side -------------------------------------------------------- */

struct job
{
  const char *container;
  const char *path;
  int fd;        /* the child's end of the pipe */
  int other_fd;  /* the parent's end: closed in the child */
  bool is_raw;
  bool is_archive;
};

static int
send_child (void *arg, struct error **err)
{
  struct job *j = arg;

  close (j->other_fd);
  signal (SIGPIPE, SIG_IGN);
  return send_path (j->fd, j->container, j->path, err);
}

static int
receive_child (void *arg, struct error **err)
{
  struct job *j = arg;

  close (j->other_fd);
  return receive_at (j->fd, true, j->path, j->is_raw, j->is_archive, err);
}

/* ---- the host side ---------------------------------------------------------------- */

/* The host's half of a copy out of the container. */
static int
host_receive (int fd, const char *dest, bool is_archive, struct error **err)
{
  if (strcmp (dest, "-") == 0)
    return pump (fd, 1, err);
  return receive_at (fd, false, dest, false, is_archive, err);
}

/* The host's half of a copy into the container. */
static int
host_send (int fd, const char *src, struct error **err)
{
  if (strcmp (src, "-") == 0)
    {
      if (isatty (0))
        return err_make (err, 0, "cannot read an archive from a terminal: redirect stdin");
      return pump (0, fd, err);
    }
  return send_path (fd, NULL, src, err);
}

/* Which error to report: the child's, unless it only failed because we
 * stopped reading or writing after our own failure. */
static int
pick_error (int ours, struct error **our_err, int theirs, struct error **their_err,
            struct error **err)
{
  if (theirs < 0 && (ours == 0 || (*their_err)->errnum != EPIPE))
    {
      err_release (our_err);
      *err = steal_ptr (their_err);
      return -1;
    }
  err_release (their_err);
  if (ours < 0)
    {
      *err = steal_ptr (our_err);
      return -1;
    }
  return 0;
}

static int
copy_with (struct skiff_context *ctx, struct container *c, struct job *j, bool is_out,
           const char *host_path, bool is_archive, struct error **err)
{
  struct container_fs_proc *p = NULL;
  struct error *ours_e = NULL, *theirs_e = NULL;
  int fds[2];
  int ours, theirs;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return err_make (err, errno, "pipe");
  /* Out of the container the child writes fds[1]; into it, reads fds[0]. */
  j->fd = is_out ? fds[1] : fds[0];
  j->other_fd = is_out ? fds[0] : fds[1];
  if (container_fs_start (ctx, c, CONTAINER_FS_LIVE, is_out ? send_child : receive_child, j,
                          &p, err) < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return -1;
    }
  close (j->fd);
  ours = is_out ? host_receive (j->other_fd, host_path, is_archive, &ours_e)
                : host_send (j->other_fd, host_path, &ours_e);
  close (j->other_fd);
  theirs = container_fs_wait (p, &theirs_e);
  return pick_error (ours, &ours_e, theirs, &theirs_e, err);
}

int
container_copy (struct skiff_context *ctx, const struct container_copy_arg *src,
                const struct container_copy_arg *dest, const struct container_copy_opts *o,
                struct error **err)
{
  const struct container_copy_arg *in_ctr = src->container ? src : dest;
  cleanup_container struct container *c = NULL;
  struct job j = { .is_archive = o->is_archive };
  void (*old_pipe) (int);
  int r;

  if (src->container && dest->container)
    return err_make (err, 0, "copying between containers is not supported");
  if (src->container == NULL && dest->container == NULL)
    return err_make (err, 0, "invalid arguments %s, %s: you must use just one container",
                     src->path, dest->path);
  if (strcmp (in_ctr->path, "-") == 0)
    return err_make (err, 0, "\"-\" is not a path in a container");
  if (container_require (ctx, in_ctr->container, &c, err) < 0)
    return -1;
  j.container = in_ctr->container;
  j.path = in_ctr->path;
  j.is_raw = src->container == NULL && strcmp (src->path, "-") == 0;
  /* A reader that goes away must fail our write, not kill us. */
  old_pipe = signal (SIGPIPE, SIG_IGN);
  r = copy_with (ctx, c, &j, src->container != NULL, src->container ? dest->path : src->path,
                 o->is_archive, err);
  signal (SIGPIPE, old_pipe);
  return r;
}
