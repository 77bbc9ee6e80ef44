/* diff (see container_diff.h), in order:
 *
 *   1. container_rootfs_init: the driver, the layer directories, and the
 *      container's storage directory (upper/ or rootfs/ in it)
 *   2. a child in the user namespace (files of any owner are readable
 *      there) walks the tree, container_changes_collect, and writes the raw
 *      changes into a memfd the parent reads back once it exited
 *   3. container_changes_finish: docker's order and parent rule */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container_diff.h"
#include "container_start.h"
#include "context.h"
#include "libutil/buf.h"
#include "libutil/mem.h"
#include "storage/storage.h"

struct diff_job
{
  struct container_changes_src src;
  int out_fd; /* the memfd: one record per change, kind, flags, path, NUL */
};

static int
write_records (int fd, const struct container_changes *c, struct error **err)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; i < c->n; i++)
    {
      buf_append_char (&b, (char) ('0' + c->v[i].kind));
      buf_append_char (&b, (char) ('0' + (c->v[i].is_dir ? 1 : 0) + (c->v[i].is_opaque ? 2 : 0)));
      buf_append (&b, c->v[i].path, strlen (c->v[i].path) + 1);
    }
  for (size_t off = 0; off < b.len;)
    {
      ssize_t n = write (fd, b.data + off, b.len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "write the changes");
      off += (size_t) n;
    }
  return 0;
}

static int
diff_child (void *arg, struct error **err)
{
  struct diff_job *j = arg;
  struct container_changes c = { 0 };
  int r = container_changes_collect (&j->src, &c, err);

  if (r == 0)
    r = write_records (j->out_fd, &c, err);
  container_changes_clear (&c);
  return r;
}

static int
read_records (int fd, struct container_changes *out, struct error **err)
{
  cleanup_free char *data = NULL;
  struct stat st;

  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "read the changes");
  data = xmalloc ((size_t) st.st_size + 1);
  if (pread (fd, data, (size_t) st.st_size, 0) != st.st_size)
    return err_make (err, errno, "read the changes");
  data[st.st_size] = '\0';
  for (char *p = data; p < data + st.st_size;)
    {
      size_t len;
      if (data + st.st_size - p < 3)
        return err_make (err, 0, "malformed change record");
      len = strlen (p + 2);
      container_changes_add (out, p + 2, (enum container_change_kind) (p[0] - '0'),
                             (p[1] - '0') & 1, (p[1] - '0') & 2);
      p += 2 + len + 1;
    }
  return 0;
}

static int
run_collect (struct skiff_context *ctx, struct diff_job *j, struct error **err)
{
  if (ctx->is_rootless)
    return context_run_in_userns (ctx, diff_child, j, err);
  return diff_child (j, err);
}

int
container_diff (struct skiff_context *ctx, struct container *c, struct container_changes *out,
                struct error **err)
{
  struct container_rootfs rootfs;
  struct diff_job j = { .out_fd = -1 };
  cleanup_free char *tree = NULL;
  int r;

  if (container_rootfs_init (ctx, c, &rootfs, err) < 0)
    {
      container_rootfs_clear (&rootfs);
      return -1;
    }
  j.src.is_upper = strcmp (rootfs.driver->name, STORAGE_DRIVER_VFS) != 0;
  tree = xasprintf ("%s/%s", rootfs.storage_dir, j.src.is_upper ? "upper" : "rootfs");
  j.src.tree = tree;
  j.src.lower = rootfs.lower;
  j.out_fd = memfd_create ("skiff-diff", MFD_CLOEXEC);
  if (j.out_fd < 0)
    r = err_make (err, errno, "memfd_create");
  else
    r = run_collect (ctx, &j, err);
  if (r == 0)
    r = read_records (j.out_fd, out, err);
  if (j.out_fd >= 0)
    close (j.out_fd);
  container_rootfs_clear (&rootfs);
  if (r < 0)
    return err_wrap (err, "diff container %.12s", c->id);
  container_changes_finish (out);
  return 0;
}
