/* Writable-layer sizes: one child in the user namespace walks every
 * container's upper directory (rootfs/ for vfs, which is a whole copy) and
 * writes the totals into memory shared with us. */
#include "config.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "container_size.h"
#include "container_start.h"
#include "context.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "storage/storage.h"

struct size_job
{
  char **dirs;       /* one per container, NULL when it has none */
  size_t n;
  uint64_t *totals;  /* MAP_SHARED */
};

static __thread uint64_t walk_total;

static int
add_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) path;
  (void) ftw;
  if (flag == FTW_F || flag == FTW_SL)
    walk_total += (uint64_t) st->st_size;
  return 0;
}

static int
walk_child (void *arg, struct error **err)
{
  struct size_job *j = arg;

  (void) err;
  for (size_t i = 0; i < j->n; i++)
    {
      walk_total = 0;
      if (j->dirs[i] && fs_exists (j->dirs[i]))
        nftw (j->dirs[i], add_entry, 32, FTW_PHYS | FTW_MOUNT);
      j->totals[i] = walk_total;
    }
  return 0;
}

static char *
writable_dir (struct container *c)
{
  const char *driver = container_driver (c);

  if (strcmp (driver, STORAGE_DRIVER_VFS) == 0)
    return xasprintf ("%s/storage/rootfs", c->dir);
  return xasprintf ("%s/storage/upper", c->dir);
}

static void
image_sizes (struct skiff_context *ctx, struct container **v, size_t n, uint64_t *image)
{
  cleanup_storage struct storage_store *s = NULL;

  memset (image, 0, n * sizeof *image);
  if (storage_open (ctx->root, &s, NULL) < 0)
    return;
  for (size_t i = 0; i < n; i++)
    {
      struct storage_image *img = NULL;
      if (v[i]->image_id && storage_image_lookup (s, v[i]->image_id, &img, NULL) == 0 && img)
        image[i] = img->size;
      storage_image_free (img);
    }
}

int
container_size_compute (struct skiff_context *ctx, struct container **v, size_t n,
                        uint64_t *rw, uint64_t *image, struct error **err)
{
  struct size_job j = { .n = n };
  int r = 0;

  image_sizes (ctx, v, n, image);
  if (n == 0)
    return 0;
  j.dirs = xcalloc (n + 1, sizeof *j.dirs);
  for (size_t i = 0; i < n; i++)
    j.dirs[i] = writable_dir (v[i]);
  j.totals = mmap (NULL, n * sizeof *j.totals, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (j.totals == MAP_FAILED)
    r = err_make (err, errno, "mmap");
  else if (ctx->is_rootless)
    r = context_run_in_userns (ctx, walk_child, &j, err);
  else
    r = walk_child (&j, err);
  if (r == 0)
    {
      memcpy (rw, j.totals, n * sizeof *rw);
      /* vfs keeps a whole copy: what the container added is the rest. */
      for (size_t i = 0; i < n; i++)
        if (strcmp (container_driver (v[i]), STORAGE_DRIVER_VFS) == 0)
          rw[i] = rw[i] > image[i] ? rw[i] - image[i] : 0;
    }
  if (j.totals != MAP_FAILED)
    munmap (j.totals, n * sizeof *j.totals);
  strv_free (j.dirs);
  return r;
}
