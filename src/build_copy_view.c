/* The image below a COPY (see build_copy_internal.h): a mounted root, or
 * its layer directories merged the way overlayfs merges them, looked up
 * without a mount; and the destination resolved in it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build_copy_internal.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"

/* How many symlinks resolving the destination may pass (the kernel's own
 * limit, path_resolution(7)). */
#define VIEW_MAX_SYMLINKS 40

/* Inside a user namespace stat() already shows container IDs, so the maps
 * must not be applied again (the builder may call us from a child in the
 * namespace or from the host).  The initial namespace's map is the
 * identity over all 2^32 - 1 IDs. */
static bool
is_in_user_namespace (void)
{
  /* per process: a forked child may have entered a namespace since */
  static pid_t cached_pid;
  static int cached = -1;

  if (cached < 0 || cached_pid != getpid ())
    {
      cached_pid = getpid ();
      cleanup_free char *map = fs_read_file ("/proc/self/uid_map", 4096, NULL, NULL);
      unsigned long inside = 1, outside = 1, count = 0;

      cached = map == NULL || sscanf (map, "%lu %lu %lu", &inside, &outside, &count) != 3
               || inside != 0 || outside != 0 || count != 4294967295ul;
    }
  return cached == 1;
}

int
build_copy_view_open (struct build_copy_view *v, const struct build_copy_opts *o,
                      struct error **err)
{
  v->root_fd = o->dest_root_fd;
  if (!is_in_user_namespace ())
    {
      v->uidmap = o->dest_uidmap;
      v->gidmap = o->dest_gidmap;
    }
  if (o->dest_root_fd >= 0 || o->dest_layers == NULL)
    return 0;
  v->layer_fds = xcalloc (strv_len (o->dest_layers) + 1, sizeof *v->layer_fds);
  for (size_t i = 0; o->dest_layers[i]; i++)
    {
      int fd = open (o->dest_layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open layer \"%s\"", o->dest_layers[i]);
      v->layer_fds[v->n_layers++] = fd;
    }
  return 0;
}

void
build_copy_view_close (struct build_copy_view *v)
{
  for (size_t i = 0; i < v->n_layers; i++)
    close (v->layer_fds[i]);
  free (v->layer_fds);
}

/* Container ID of host ID ID under MAP; unmapped IDs are the overflow ID,
 * as the kernel shows them. */
static long
map_id (const struct userns_idmap *map, unsigned long id)
{
  if (map == NULL || map->n == 0)
    return (long) id;
  for (size_t i = 0; i < map->n; i++)
    if (id >= map->entries[i].host_id && id - map->entries[i].host_id < map->entries[i].size)
      return (long) (map->entries[i].container_id + (id - map->entries[i].host_id));
  return 65534;
}

/* Is NAME in DIR (relative to LAYER) a whiteout in either form? */
static bool
is_whiteout (int layer, const char *dir, const char *name)
{
  cleanup_free char *path = build_copy_join (dir, name);
  cleanup_free char *wh = NULL;
  struct stat st;

  if (fstatat (layer, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISCHR (st.st_mode) && st.st_rdev == 0;
  wh = xasprintf ("%s%s.wh.%s", dir, *dir ? "/" : "", name);
  return fstatat (layer, wh, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Does directory PATH of LAYER hide the layers below it? */
static bool
is_opaque (int layer, const char *path)
{
  static const char *const xattrs[] = { "trusted.overlay.opaque", "user.overlay.opaque" };
  cleanup_free char *marker = xasprintf ("%s%s.wh..wh..opq", path, *path ? "/" : "");
  cleanup_free char *proc = xasprintf ("/proc/self/fd/%d/%s", layer, path);
  struct stat st;
  char v = 0;

  if (fstatat (layer, marker, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return true;
  for (size_t i = 0; i < sizeof xattrs / sizeof *xattrs; i++)
    if (lgetxattr (proc, xattrs[i], &v, 1) == 1 && v == 'y')
      return true;
  return false;
}

/* The layers (indexes into V, top first) whose directory PATH makes up the
 * merged directory, given the layers VIS (N of them) of its parent. */
static size_t
merged_dir_layers (const struct build_copy_view *v, const char *path, const size_t *vis, size_t n,
                   size_t *out)
{
  size_t m = 0;

  for (size_t k = 0; k < n; k++)
    {
      int fd = v->layer_fds[vis[k]];
      struct stat st;

      if (fstatat (fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (!S_ISDIR (st.st_mode))
        break; /* a file or whiteout here hides the directories below */
      out[m++] = vis[k];
      if (is_opaque (fd, path))
        break;
    }
  return m;
}

/* lstat of REL in the merged layers; *LAYER gets the layer it is in. */
static int
layers_lstat (const struct build_copy_view *v, const char *rel, struct stat *st, int *layer)
{
  cleanup_strv char **comps = build_copy_path_components (rel);
  cleanup_free size_t *vis = xcalloc (v->n_layers + 1, sizeof *vis);
  cleanup_free size_t *next = xcalloc (v->n_layers + 1, sizeof *next);
  cleanup_free char *dir = xstrdup ("");
  size_t n = v->n_layers;

  for (size_t k = 0; k < n; k++)
    vis[k] = k;
  if (comps[0] == NULL)
    {
      *layer = v->n_layers ? v->layer_fds[0] : -1;
      return *layer >= 0 ? fstat (*layer, st) : -1;
    }
  for (size_t c = 0; comps[c]; c++)
    {
      char *path = build_copy_join (dir, comps[c]);
      ssize_t found = -1;

      for (size_t k = 0; k < n && found < 0; k++)
        {
          int fd = v->layer_fds[vis[k]];

          if (is_whiteout (fd, dir, comps[c]))
            break;
          if (fstatat (fd, path, st, AT_SYMLINK_NOFOLLOW) == 0)
            found = (ssize_t) k;
        }
      free (dir);
      dir = path;
      if (found < 0)
        return -1;
      if (comps[c + 1] == NULL)
        {
          *layer = v->layer_fds[vis[found]];
          return 0;
        }
      if (!S_ISDIR (st->st_mode))
        return -1;
      n = merged_dir_layers (v, path, vis + found, n - (size_t) found, next);
      memcpy (vis, next, n * sizeof *vis);
    }
  return -1;
}

/* lstat of REL (relative) in the image below, with container owners. */
int
build_copy_view_lstat (const struct build_copy_view *v, const char *rel, struct stat *st,
                       int *fd_out)
{
  int layer = -1;

  if (v->root_fd >= 0)
    {
      *fd_out = v->root_fd;
      if (*rel == '\0')
        return fstat (v->root_fd, st);
      return fstatat (v->root_fd, rel, st, AT_SYMLINK_NOFOLLOW);
    }
  if (v->n_layers == 0 || layers_lstat (v, rel, st, &layer) < 0)
    return -1;
  st->st_uid = (uid_t) map_id (v->uidmap, st->st_uid);
  st->st_gid = (gid_t) map_id (v->gidmap, st->st_gid);
  *fd_out = layer;
  return 0;
}

/* ---- the destination ----------------------------------------------------- */

/* Resolve REL inside ROOT_FD as the image will see it, following
 * symlinks the way the kernel would with ROOT_FD as "/" ("/var/run" is
 * "run" in Debian images), so the layer puts files where they will be
 * seen and never replaces a symlinked parent with a directory.  Missing
 * components are kept as written.  Malloc'd, relative. */
char *
build_copy_resolve_dest (const struct build_copy_view *v, const char *rel, struct error **err)
{
  cleanup_strv char **pending = build_copy_path_components (rel);
  cleanup_strv char **done = xcalloc (1, sizeof *done);
  int n_links = 0;

  for (size_t i = 0; pending[i];)
    {
      cleanup_free char *cand = NULL;
      char target[4096];
      ssize_t n;
      struct stat st;
      int root_fd = -1;

      done = strv_append (done, pending[i]);
      cand = str_join (done, "/");
      if (build_copy_view_lstat (v, cand, &st, &root_fd) < 0 || !S_ISLNK (st.st_mode))
        {
          i++;
          continue;
        }
      if (++n_links > VIEW_MAX_SYMLINKS)
        return err_make (err, ELOOP, "resolve \"/%s\"", rel), NULL;
      n = readlinkat (root_fd, cand, target, sizeof target - 1);
      if (n < 0)
        return err_make (err, errno, "read symlink \"/%s\"", cand), NULL;
      target[n] = '\0';
      free (done[strv_len (done) - 1]);
      done[strv_len (done) - 1] = NULL;
      {
        cleanup_free char *rest = str_join (pending + i + 1, "/");
        cleanup_free char *base = str_join (done, "/");
        cleanup_free char *next
            = target[0] == '/' ? xasprintf ("%s/%s", target, rest)
                               : xasprintf ("%s/%s/%s", base, target, rest);
        strv_free (pending);
        pending = build_copy_path_components (next);
        strv_free (done);
        done = xcalloc (1, sizeof *done);
        i = 0;
      }
    }
  return str_join (done, "/");
}
