/* Container changes (see container_changes.h).
 *
 * The walk (container_changes_collect) goes through the changed tree once,
 * depth first, and looks each path up in the layers as overlay merges
 * them (lower_find): the topmost layer with the path decides, a whiteout
 * or a non-directory above hides it, and an opaque directory cuts the
 * layers below it off for what is inside.  Lookups inside a layer resolve
 * within it (runtime_fs_open_in_root), so a symlink there never leads out. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "container_changes.h"
#include "libutil/buf.h"
#include "libutil/mem.h"
#include "runtime.h"

#define DIFF_MAX_DEPTH 1024
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static const char *const opaque_xattrs[] = {
  "trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque",
};

/* What the runtime creates as mount points when the image lacks them. */
static const char *const runtime_made[] = {
  "/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/proc", "/sys", "/dev",
  "/dev/pts", "/dev/shm", "/dev/mqueue", "/run/.containerenv",
};

/* ---- the list ----------------------------------------------------------------- */

void
container_changes_add (struct container_changes *c, const char *path,
                       enum container_change_kind kind, bool is_dir, bool is_opaque)
{
  c->v = xrealloc (c->v, (c->n + 1) * sizeof *c->v);
  c->v[c->n++] = (struct container_change) { xstrdup (path), kind, is_dir, is_opaque };
}

void
container_changes_clear (struct container_changes *c)
{
  for (size_t i = 0; i < c->n; i++)
    free (c->v[i].path);
  free (c->v);
  c->v = NULL;
  c->n = 0;
}

const char *
container_change_letter (enum container_change_kind kind)
{
  switch (kind)
    {
    case CONTAINER_CHANGE_ADD:
      return "A";
    case CONTAINER_CHANGE_MODIFY:
      return "C";
    case CONTAINER_CHANGE_DELETE:
      return "D";
    default:
      return "";
    }
}

/* ---- pure rules ---------------------------------------------------------------- */

enum container_change_kind
container_changes_classify (const struct container_changes_attrs *now,
                         const struct container_changes_attrs *lower, bool is_written)
{
  bool is_dir = S_ISDIR (now->mode);

  if (lower == NULL)
    return CONTAINER_CHANGE_ADD;
  if (now->mode != lower->mode || now->uid != lower->uid || now->gid != lower->gid
      || now->rdev != lower->rdev)
    return CONTAINER_CHANGE_MODIFY;
  if (is_dir)
    return now->mtime_sec == lower->mtime_sec && now->mtime_nsec == lower->mtime_nsec
               ? CONTAINER_CHANGE_NONE : CONTAINER_CHANGE_MODIFY;
  if (is_written || now->size != lower->size || now->mtime_sec != lower->mtime_sec
      || now->mtime_nsec != lower->mtime_nsec)
    return CONTAINER_CHANGE_MODIFY;
  return CONTAINER_CHANGE_NONE;
}

static int
cmp_change (const void *a, const void *b)
{
  return strcmp (((const struct container_change *) a)->path,
                 ((const struct container_change *) b)->path);
}

static void
sort_unique (struct container_changes *c)
{
  size_t k = 0;

  if (c->n == 0)
    return;
  qsort (c->v, c->n, sizeof *c->v, cmp_change);
  for (size_t i = 0; i < c->n; i++)
    {
      if (k > 0 && strcmp (c->v[k - 1].path, c->v[i].path) == 0)
        {
          /* A real change wins over an added parent or ancestor. */
          if (c->v[k - 1].kind == CONTAINER_CHANGE_NONE
              || (c->v[i].kind != CONTAINER_CHANGE_NONE && c->v[k - 1].kind
                                                              == CONTAINER_CHANGE_MODIFY))
            {
              free (c->v[k - 1].path);
              c->v[k - 1] = c->v[i];
            }
          else
            free (c->v[i].path);
          continue;
        }
      c->v[k++] = c->v[i];
    }
  c->n = k;
}

static bool
has_path (const struct container_changes *c, const char *path)
{
  struct container_change key = { .path = (char *) path };
  return bsearch (&key, c->v, c->n, sizeof *c->v, cmp_change) != NULL;
}

static char *
parent_of (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash == NULL || slash == path ? xstrdup ("/")
                                        : xstrndup (path, (size_t) (slash - path));
}

void
container_changes_finish (struct container_changes *c)
{
  struct container_changes parents = { 0 };
  size_t k = 0;

  for (size_t i = 0; i < c->n; i++)
    if (c->v[i].kind == CONTAINER_CHANGE_NONE)
      free (c->v[i].path);
    else
      c->v[k++] = c->v[i];
  c->n = k;
  if (c->n == 0)
    return;
  qsort (c->v, c->n, sizeof *c->v, cmp_change);
  for (size_t i = 0; i < c->n; i++)
    {
      cleanup_free char *parent = NULL;
      if (c->v[i].kind != CONTAINER_CHANGE_ADD && c->v[i].kind != CONTAINER_CHANGE_DELETE)
        continue;
      parent = parent_of (c->v[i].path);
      if (strcmp (parent, "/") != 0 && !has_path (c, parent))
        container_changes_add (&parents, parent, CONTAINER_CHANGE_MODIFY, true, false);
    }
  for (size_t i = 0; i < parents.n; i++)
    container_changes_add (c, parents.v[i].path, CONTAINER_CHANGE_MODIFY, true, false);
  container_changes_clear (&parents);
  sort_unique (c);
}

void
container_changes_with_ancestors (struct container_changes *c)
{
  size_t n = c->n;

  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *p = parent_of (c->v[i].path);
      while (strcmp (p, "/") != 0)
        {
          char *up = parent_of (p);
          container_changes_add (c, p, CONTAINER_CHANGE_NONE, true, false);
          free (p);
          p = up;
        }
    }
  sort_unique (c);
}

char *
container_changes_whiteout_name (const char *path)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  cleanup_free char *dir = slash ? xstrndup (path, (size_t) (slash - path)) : xstrdup ("");
  const char *rel = dir;

  while (*rel == '/')
    rel++;
  return *rel ? xasprintf ("%s/" WH_PREFIX "%s", rel, base) : xasprintf (WH_PREFIX "%s", base);
}

char *
container_changes_opaque_name (const char *dir)
{
  const char *rel = dir;

  while (*rel == '/')
    rel++;
  return *rel ? xasprintf ("%s/" WH_OPAQUE, rel) : xstrdup (WH_OPAQUE);
}

enum container_changes_name
container_changes_parse_name (const char *name, const char **target)
{
  *target = NULL;
  if (strcmp (name, WH_OPAQUE) == 0)
    return CONTAINER_CHANGES_NAME_OPAQUE;
  if (strncmp (name, WH_PREFIX, strlen (WH_PREFIX)) == 0 && name[strlen (WH_PREFIX)] != '\0')
    {
      *target = name + strlen (WH_PREFIX);
      return CONTAINER_CHANGES_NAME_WHITEOUT;
    }
  return CONTAINER_CHANGES_NAME_ENTRY;
}

bool
container_changes_is_runtime_made (const char *path, bool is_empty)
{
  if (!is_empty)
    return false;
  for (size_t i = 0; i < sizeof runtime_made / sizeof *runtime_made; i++)
    if (strcmp (path, runtime_made[i]) == 0)
      return true;
  return false;
}

/* ---- the layers below ------------------------------------------------------------ */

struct lower
{
  int *fds; /* top first */
  size_t n;
};

static void
lower_close (struct lower *l)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->fds[i] >= 0)
      close (l->fds[i]);
  free (l->fds);
}

static int
lower_open (char *const *dirs, struct lower *l, struct error **err)
{
  l->n = strv_len (dirs);
  l->fds = xcalloc (l->n ? l->n : 1, sizeof *l->fds);
  for (size_t i = 0; i < l->n; i++)
    l->fds[i] = -1;
  for (size_t i = 0; i < l->n; i++)
    {
      l->fds[i] = open (dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (l->fds[i] < 0)
        return err_make (err, errno, "open layer \"%s\"", dirs[i]);
    }
  return 0;
}

static void
to_attrs (const struct stat *st, struct container_changes_attrs *a)
{
  *a = (struct container_changes_attrs) { st->st_mode, st->st_uid, st->st_gid, st->st_rdev,
                                       st->st_size, st->st_mtim.tv_sec, st->st_mtim.tv_nsec };
}

static bool
is_whiteout_dev (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == 0;
}

static bool
has_opaque_xattr (int fd)
{
  char v[8];

  for (size_t i = 0; i < sizeof opaque_xattrs / sizeof *opaque_xattrs; i++)
    {
      ssize_t n = fgetxattr (fd, opaque_xattrs[i], v, sizeof v);
      if (n == 1 && v[0] == 'y')
        return true;
    }
  return false;
}

/* Directory DIRFD is opaque: the xattr, or the ".wh..wh..opq" marker. */
static bool
is_opaque_dir (int dirfd)
{
  struct stat st;
  return has_opaque_xattr (dirfd) || fstatat (dirfd, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* What layer FD has at PATH ("a/b"): 1 with *ST, 0 nothing, -1 a whiteout.
 * The parent is resolved inside the layer, so nothing leaves it. */
static int
layer_stat (int fd, const char *parent, const char *base, struct stat *st, int *dir_out)
{
  cleanup_close int dir = *parent ? runtime_fs_open_in_root (fd, parent,
                                                             O_RDONLY | O_DIRECTORY, 0)
                                  : fcntl (fd, F_DUPFD_CLOEXEC, 3);
  cleanup_free char *aufs = xasprintf (WH_PREFIX "%s", base);
  struct stat wh;

  if (dir < 0)
    return 0;
  if (fstatat (dir, aufs, &wh, AT_SYMLINK_NOFOLLOW) == 0)
    return -1;
  if (fstatat (dir, base, st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (is_whiteout_dev (st))
    return -1;
  if (dir_out && S_ISDIR (st->st_mode))
    *dir_out = openat (dir, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return 1;
}

/* One path component: which layers have PREFIX, within [0, *LIMIT).  On
 * the last component the topmost decides; on the way a directory must be
 * found and the layers that may hold its children narrow. */
static bool
lower_step (struct lower *l, const char *parent, const char *base, bool is_last, size_t *limit,
            struct stat *out)
{
  bool found = false;
  size_t new_limit = *limit;

  for (size_t i = 0; i < *limit; i++)
    {
      cleanup_close int dir = -1;
      struct stat st;
      int r = layer_stat (l->fds[i], parent, base, &st, is_last ? NULL : &dir);

      if (r == 0)
        continue;
      if (r < 0 || (found && !S_ISDIR (st.st_mode)))
        {
          new_limit = i;
          break;
        }
      if (!found)
        {
          found = true;
          *out = st;
          if (is_last)
            return true;
          if (!S_ISDIR (st.st_mode))
            return false;
        }
      if (dir >= 0 && is_opaque_dir (dir))
        {
          new_limit = i + 1;
          break;
        }
    }
  *limit = new_limit;
  return found;
}

/* PATH ("/a/b", not "/") as the merged layers show it.  *LIMIT (when not
 * NULL) gets how many layers, from the top, may hold entries below it. */
static bool
lower_find (struct lower *l, const char *path, struct stat *out, size_t *limit_out)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_buf struct buf parent = BUF_INIT;
  size_t limit = l->n;
  char *save = NULL;

  for (char *comp = strtok_r (copy, "/", &save); comp; comp = strtok_r (NULL, "/", &save))
    {
      bool is_last = save == NULL || *save == '\0';
      if (!lower_step (l, parent.data ? parent.data : "", comp, is_last, &limit, out))
        return false;
      buf_printf (&parent, "%s%s", parent.len ? "/" : "", comp);
    }
  if (limit_out)
    *limit_out = limit;
  return true;
}

/* ---- the walk --------------------------------------------------------------------- */

struct walk
{
  const struct container_changes_src *src;
  struct lower lower;
  struct container_changes *out;
};

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static char **
list_dir (int fd, const char *path, struct error **err)
{
  int dup = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  char **names = xcalloc (1, sizeof *names);
  struct dirent *de;

  if (d == NULL)
    {
      int saved = errno;
      if (dup >= 0)
        close (dup);
      strv_free (names);
      err_make (err, saved, "read directory \"%s\"", path);
      return NULL;
    }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      names = strv_append (names, de->d_name);
  qsort (names, strv_len (names), sizeof *names, cmp_names);
  return names;
}

static bool
strv_has (char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

static bool
is_empty (int dirfd, const char *name, const struct stat *st)
{
  cleanup_close int fd = -1;
  cleanup_strv char **names = NULL;

  if (S_ISREG (st->st_mode))
    return st->st_size == 0;
  if (!S_ISDIR (st->st_mode))
    return false;
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  names = fd >= 0 ? list_dir (fd, name, NULL) : NULL;
  return names != NULL && names[0] == NULL;
}

static int walk_dir (struct walk *w, int fd, const char *path, bool has_lower, int depth,
                     struct error **err);

static char *
child_path (const char *path, const char *name)
{
  return xasprintf ("%s/%s", strcmp (path, "/") == 0 ? "" : path, name);
}

/* A name of the upper directory that is overlay bookkeeping, not a file. */
static bool
upper_marker (struct walk *w, const char *path, const char *name, bool *is_opaque)
{
  const char *target;
  cleanup_free char *deleted = NULL;

  switch (container_changes_parse_name (name, &target))
    {
    case CONTAINER_CHANGES_NAME_OPAQUE:
      *is_opaque = true;
      return true;
    case CONTAINER_CHANGES_NAME_WHITEOUT:
      deleted = child_path (path, target);
      container_changes_add (w->out, deleted, CONTAINER_CHANGE_DELETE, false, false);
      return true;
    default:
      return false;
    }
}

/* A directory whose only difference is its mtime changed because of an
 * entry below.  When no change below is left to show (the runtime's
 * mount points are left out), neither is the directory: docker keeps
 * those in a layer of their own that diff never sees. */
static bool
same_but_mtime (const struct container_changes_attrs *a, const struct container_changes_attrs *b)
{
  return a->mode == b->mode && a->uid == b->uid && a->gid == b->gid;
}

static bool
has_change_after (const struct container_changes *c, size_t at)
{
  for (size_t i = at + 1; i < c->n; i++)
    if (c->v[i].kind != CONTAINER_CHANGE_NONE)
      return true;
  return false;
}

static int
walk_entry (struct walk *w, int dirfd, const char *path, const char *name, bool has_lower,
            int depth, struct error **err)
{
  cleanup_free char *child = child_path (path, name);
  cleanup_close int fd = -1;
  struct container_changes_attrs now, below;
  struct stat st, lst = { 0 };
  bool is_below, is_opaque = false;
  enum container_change_kind kind;
  size_t at;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "stat \"%s\"", child);
  if (w->src->is_upper && is_whiteout_dev (&st))
    {
      container_changes_add (w->out, child, CONTAINER_CHANGE_DELETE, false, false);
      return 0;
    }
  is_below = has_lower && lower_find (&w->lower, child, &lst, NULL);
  to_attrs (&st, &now);
  to_attrs (&lst, &below);
  kind = container_changes_classify (&now, is_below ? &below : NULL, w->src->is_upper);
  if (kind == CONTAINER_CHANGE_ADD && container_changes_is_runtime_made (child, true)
      && is_empty (dirfd, name, &st))
    return 0;
  if (S_ISDIR (st.st_mode))
    {
      fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", child);
      is_opaque = w->src->is_upper && is_opaque_dir (fd);
      if (is_opaque && kind == CONTAINER_CHANGE_NONE)
        kind = CONTAINER_CHANGE_MODIFY;
    }
  at = w->out->n;
  container_changes_add (w->out, child, kind, S_ISDIR (st.st_mode), is_opaque);
  if (fd < 0)
    return 0;
  if (walk_dir (w, fd, child, is_below && !is_opaque, depth + 1, err) < 0)
    return -1;
  if (kind == CONTAINER_CHANGE_MODIFY && is_below && !w->out->v[at].is_opaque
      && same_but_mtime (&now, &below) && !has_change_after (w->out, at))
    w->out->v[at].kind = CONTAINER_CHANGE_NONE;
  return 0;
}

/* vfs: what the layers have in PATH that the tree lost. */
static int
walk_deleted (struct walk *w, const char *path, char *const *present, struct error **err)
{
  cleanup_strv char **seen = xcalloc (1, sizeof *seen);
  struct stat st;
  size_t limit = w->lower.n;

  if (strcmp (path, "/") != 0
      && (!lower_find (&w->lower, path, &st, &limit) || !S_ISDIR (st.st_mode)))
    return 0;
  for (size_t i = 0; i < limit; i++)
    {
      const char *rel = path + strspn (path, "/");
      cleanup_close int dir = *rel ? runtime_fs_open_in_root (w->lower.fds[i], rel,
                                                              O_RDONLY | O_DIRECTORY, 0)
                                   : fcntl (w->lower.fds[i], F_DUPFD_CLOEXEC, 3);
      cleanup_strv char **names = dir >= 0 ? list_dir (dir, path, err) : NULL;

      if (dir >= 0 && names == NULL)
        return -1;
      for (char **n = names; n && *n; n++)
        {
          const char *target;
          cleanup_free char *child = NULL;

          if (container_changes_parse_name (*n, &target) != CONTAINER_CHANGES_NAME_ENTRY
              || strv_has (present, *n) || strv_has (seen, *n))
            continue;
          seen = strv_append (seen, *n);
          child = child_path (path, *n);
          if (lower_find (&w->lower, child, &st, NULL))
            container_changes_add (w->out, child, CONTAINER_CHANGE_DELETE, false, false);
        }
    }
  return 0;
}

static int
walk_dir (struct walk *w, int fd, const char *path, bool has_lower, int depth,
          struct error **err)
{
  cleanup_strv char **names = NULL;
  bool is_opaque = false;

  if (depth > DIFF_MAX_DEPTH)
    return err_make (err, ELOOP, "\"%s\": directories nested deeper than %d", path,
                     DIFF_MAX_DEPTH);
  names = list_dir (fd, path, err);
  if (names == NULL)
    return -1;
  for (char **n = names; *n; n++)
    {
      if (w->src->is_upper && upper_marker (w, path, *n, &is_opaque))
        continue;
      if (walk_entry (w, fd, path, *n, has_lower, depth, err) < 0)
        return -1;
    }
  if (is_opaque)
    for (size_t i = 0; i < w->out->n; i++)
      if (strcmp (w->out->v[i].path, path) == 0)
        {
          w->out->v[i].is_opaque = true;
          if (w->out->v[i].kind == CONTAINER_CHANGE_NONE)
            w->out->v[i].kind = CONTAINER_CHANGE_MODIFY;
        }
  if (!w->src->is_upper && has_lower)
    return walk_deleted (w, path, names, err);
  return 0;
}

int
container_changes_collect (const struct container_changes_src *src, struct container_changes *out,
                        struct error **err)
{
  struct walk w = { .src = src, .out = out };
  cleanup_close int fd = open (src->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (fd < 0)
    {
      /* A container that never started has no writable layer yet. */
      if (errno == ENOENT)
        return 0;
      return err_make (err, errno, "open \"%s\"", src->tree);
    }
  if (lower_open (src->lower, &w.lower, err) < 0)
    {
      lower_close (&w.lower);
      return -1;
    }
  r = walk_dir (&w, fd, "/", true, 0, err);
  lower_close (&w.lower);
  return r;
}

