/* The build context (see build_context.h).  A tar context, from a file or
 * from standard input, is first copied to a private file when it comes
 * from a pipe (it must be read twice: sniffed, then extracted) and then
 * extracted with the store's hostile-input-safe layer extractor, so the
 * rules for ".." and links are the layers' and live in one place. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_context.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "runtime.h"
#include "storage/storage.h"

#define TAR_BLOCK 512

/* ---- telling a tar from a Dockerfile --------------------------------------- */

/* The header checksum of a tar block: the sum of its bytes with the
 * checksum field counted as spaces (POSIX ustar, and the v7 format). */
static bool
is_tar_header (const unsigned char *h)
{
  unsigned long sum = 0, stored = 0;
  size_t i = 148;

  for (size_t k = 0; k < TAR_BLOCK; k++)
    sum += (k >= 148 && k < 156) ? ' ' : h[k];
  while (i < 156 && h[i] == ' ')
    i++;
  if (i == 156 || h[i] < '0' || h[i] > '7')
    return false;
  for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
    stored = stored * 8 + (unsigned long) (h[i] - '0');
  return sum == stored && h[0] != '\0';
}

enum build_context_kind
build_context_sniff (const void *head, size_t len)
{
  static const struct
  {
    const char *magic;
    size_t len;
  } compressed[] = {
    { "\x1f\x8b", 2 },                 /* gzip */
    { "BZh", 3 },                      /* bzip2 */
    { "\xfd" "7zXZ\x00", 6 },          /* xz */
    { "\x28\xb5\x2f\xfd", 4 },         /* zstd */
  };
  const unsigned char *h = head;

  for (size_t i = 0; i < sizeof compressed / sizeof *compressed; i++)
    if (len >= compressed[i].len && memcmp (h, compressed[i].magic, compressed[i].len) == 0)
      return BUILD_CONTEXT_TAR;
  if (len >= TAR_BLOCK && (memcmp (h + 257, "ustar", 5) == 0 || is_tar_header (h)))
    return BUILD_CONTEXT_TAR;
  return BUILD_CONTEXT_TEXT;
}

/* ---- helpers ------------------------------------------------------------- */

static int
make_tmpdir (struct build_context *c, struct error **err)
{
  const char *dir = getenv ("TMPDIR") && *getenv ("TMPDIR") ? getenv ("TMPDIR") : "/var/tmp";
  char *tmpl = xasprintf ("%s/skiff-build-XXXXXX", dir);

  if (mkdtemp (tmpl) == NULL)
    {
      int e = errno;
      free (tmpl);
      return err_make (err, e, "create a temporary directory in \"%s\"", dir);
    }
  c->tmpdir = tmpl;
  return 0;
}

static int
write_all (int fd, const char *p, size_t len, struct error **err)
{
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "write the build context");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Copy everything IN_FD holds into a new file in the private directory
 * (a pipe cannot be read twice); returns it open at offset 0. */
static int
spool (struct build_context *c, int in_fd, struct error **err)
{
  cleanup_free char *path = xasprintf ("%s/stdin", c->tmpdir);
  cleanup_close int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  char buf[65536];

  if (fd < 0)
    return err_make (err, errno, "create \"%s\"", path);
  for (;;)
    {
      ssize_t n = read (in_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read standard input");
      if (n == 0)
        break;
      if (write_all (fd, buf, (size_t) n, err) < 0)
        return -1;
    }
  if (lseek (fd, 0, SEEK_SET) < 0)
    return err_make (err, errno, "rewind \"%s\"", path);
  return steal_fd (&fd);
}

static enum build_context_kind
sniff_fd (int fd)
{
  unsigned char head[TAR_BLOCK];
  ssize_t n = pread (fd, head, sizeof head, 0);

  return n > 0 ? build_context_sniff (head, (size_t) n) : BUILD_CONTEXT_TEXT;
}

/* Extract the tar FD into the private directory's "context". */
static int
extract_context (struct build_context *c, int fd, const char *what, struct error **err)
{
  struct storage_extract_opts opts = {
    .whiteouts = WHITEOUT_AUFS, /* ".wh." files are just files here */
    .is_rootless_single_id = true, /* owners we cannot set stay ours */
  };
  struct storage_extract_result res;
  cleanup_close int dfd = -1;

  c->dir = xasprintf ("%s/context", c->tmpdir);
  if (mkdir (c->dir, 0700) < 0)
    return err_make (err, errno, "create \"%s\"", c->dir);
  dfd = open (c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return err_make (err, errno, "open \"%s\"", c->dir);
  if (lseek (fd, 0, SEEK_SET) < 0)
    return err_make (err, errno, "rewind %s", what);
  if (storage_extract_layer (fd, dfd, &opts, &res, err) < 0)
    return err_wrap (err, "extract build context from %s", what);
  c->is_tar = true;
  return 0;
}

static int
open_dirfd (struct build_context *c, struct error **err)
{
  c->dirfd = open (c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->dirfd < 0)
    return err_make (err, errno, "open build context \"%s\"", c->dir);
  return 0;
}

/* ---- the context ----------------------------------------------------------- */

/* "-": a tar (the context) or a Dockerfile (no context). */
static int
open_stdin (struct build_context *c, int stdin_fd, struct error **err)
{
  cleanup_close int fd = -1;

  if (make_tmpdir (c, err) < 0)
    return -1;
  fd = spool (c, stdin_fd, err);
  if (fd < 0)
    return -1;
  if (sniff_fd (fd) == BUILD_CONTEXT_TAR)
    return extract_context (c, fd, "standard input", err) < 0 ? -1 : open_dirfd (c, err);
  {
    cleanup_free char *p = xasprintf ("/proc/self/fd/%d", fd);
    c->dockerfile_text = fs_read_file (p, BUILD_CONTEXT_DOCKERFILE_MAX, &c->dockerfile_len, err);
  }
  if (c->dockerfile_text == NULL)
    return err_wrap (err, "read Dockerfile from standard input");
  c->dockerfile_path = xstrdup ("-");
  return 0;
}

static int
open_path (struct build_context *c, const char *arg, struct error **err)
{
  cleanup_close int fd = -1;
  struct stat st;

  if (strstr (arg, "://") != NULL || str_has_prefix (arg, "git@"))
    return err_make (err, 0, "build context \"%s\": remote contexts are not supported", arg);
  if (stat (arg, &st) < 0)
    return err_make (err, errno, "build context \"%s\"", arg);
  if (S_ISDIR (st.st_mode))
    {
      c->dir = xstrdup (arg);
      return open_dirfd (c, err);
    }
  if (!S_ISREG (st.st_mode))
    return err_make (err, EINVAL, "build context \"%s\": not a directory or a tar archive", arg);
  fd = open (arg, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return err_make (err, errno, "open build context \"%s\"", arg);
  if (sniff_fd (fd) != BUILD_CONTEXT_TAR)
    return err_make (err, EINVAL, "build context \"%s\": not a directory or a tar archive", arg);
  if (make_tmpdir (c, err) < 0)
    return -1;
  if (extract_context (c, fd, arg, err) < 0)
    return -1;
  return open_dirfd (c, err);
}

/* ---- the Dockerfile -------------------------------------------------------- */

/* NAME inside the context, resolved beneath it (a tar context is hostile),
 * or NULL with *ERR unset when it does not exist. */
static char *
read_in_context (struct build_context *c, const char *name, struct error **err)
{
  cleanup_close int fd = runtime_fs_open_in_root (c->dirfd, name, O_RDONLY | O_NOCTTY, 0);
  cleanup_free char *proc = NULL;
  struct stat st;

  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return NULL;
  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", name), NULL;
  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", name), NULL;
  if (!S_ISREG (st.st_mode))
    return err_make (err, EISDIR, "read \"%s\": not a regular file", name), NULL;
  proc = xasprintf ("/proc/self/fd/%d", fd);
  return fs_read_file (proc, BUILD_CONTEXT_DOCKERFILE_MAX, &c->dockerfile_len, err);
}

static int
found_in_context (struct build_context *c, const char *name)
{
  c->dockerfile_path = xasprintf ("%s/%s", c->dir, name);
  return 0;
}

static int
find_default (struct build_context *c, struct error **err)
{
  static const char *const names[] = { "Containerfile", "Dockerfile" };

  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    {
      struct error *e = NULL;

      c->dockerfile_text = read_in_context (c, names[i], &e);
      if (c->dockerfile_text)
        return found_in_context (c, names[i]);
      if (e)
        {
          *err = e;
          return err_wrap (err, "read %s", names[i]);
        }
    }
  return err_make (err, ENOENT,
                   "no Containerfile or Dockerfile specified or found in context directory, %s",
                   c->is_tar ? "(tar archive)" : c->dir);
}

static int
read_given (struct build_context *c, const char *path, int stdin_fd, struct error **err)
{
  struct error *e = NULL;

  if (strcmp (path, "-") == 0)
    {
      cleanup_free char *p = xasprintf ("/proc/self/fd/%d", stdin_fd);
      c->dockerfile_text = fs_read_file (p, BUILD_CONTEXT_DOCKERFILE_MAX, &c->dockerfile_len, err);
      if (c->dockerfile_text == NULL)
        return err_wrap (err, "read Dockerfile from standard input");
      c->dockerfile_path = xstrdup ("-");
      return 0;
    }
  /* docker: for a tar context -f names a file inside the archive */
  if (c->is_tar && path[0] != '/')
    {
      c->dockerfile_text = read_in_context (c, path, &e);
      if (c->dockerfile_text)
        return found_in_context (c, path);
      if (e)
        {
          *err = e;
          return err_wrap (err, "read Dockerfile");
        }
    }
  c->dockerfile_text = fs_read_file (path, BUILD_CONTEXT_DOCKERFILE_MAX, &c->dockerfile_len, &e);
  if (c->dockerfile_text)
    {
      c->dockerfile_path = xstrdup (path);
      return 0;
    }
  /* podman (buildah's BuildDockerfiles) then tries the context directory */
  if (e->errnum == ENOENT && path[0] != '/' && c->dir && !c->is_tar)
    {
      cleanup_free char *in_ctx = xasprintf ("%s/%s", c->dir, path);
      struct error *e2 = NULL;

      c->dockerfile_text
          = fs_read_file (in_ctx, BUILD_CONTEXT_DOCKERFILE_MAX, &c->dockerfile_len, &e2);
      if (c->dockerfile_text)
        {
          err_release (&e);
          c->dockerfile_path = steal_ptr (&in_ctx);
          return 0;
        }
      err_release (&e2);
    }
  if (e->errnum == ENOENT)
    {
      err_release (&e);
      return err_make (err, ENOENT, "the specified Containerfile or Dockerfile does not exist, %s",
                       path);
    }
  *err = e;
  return err_wrap (err, "read Dockerfile");
}

int
build_context_open (const char *context_arg, const char *dockerfile_arg, int stdin_fd,
                    struct build_context **out, struct error **err)
{
  cleanup_build_context struct build_context *c = xmalloc0 (sizeof *c);
  bool is_stdin = strcmp (context_arg, "-") == 0;

  c->dirfd = -1;
  if (is_stdin && dockerfile_arg && strcmp (dockerfile_arg, "-") == 0)
    return err_make (err, EINVAL,
                     "the build context and the Dockerfile cannot both come from standard input");
  if ((is_stdin ? open_stdin (c, stdin_fd, err) : open_path (c, context_arg, err)) < 0)
    return -1;
  if (c->dockerfile_text == NULL)
    {
      int r = dockerfile_arg ? read_given (c, dockerfile_arg, stdin_fd, err)
                             : find_default (c, err);
      if (r < 0)
        return -1;
    }
  *out = steal_ptr (&c);
  return 0;
}

void
build_context_free (struct build_context *c)
{
  if (c == NULL)
    return;
  if (c->dirfd >= 0)
    close (c->dirfd);
  if (c->tmpdir)
    {
      struct error *e = NULL;

      if (fs_remove_tree (c->tmpdir, &e) < 0)
        {
          cleanup_free char *text = err_text (e);
          log_warn ("remove build context \"%s\": %s", c->tmpdir, text);
          err_release (&e);
        }
    }
  free (c->tmpdir);
  free (c->dir);
  free (c->dockerfile_path);
  free (c->dockerfile_text);
  free (c);
}

void
build_context_freep (struct build_context **c)
{
  build_context_free (*c);
  *c = NULL;
}
