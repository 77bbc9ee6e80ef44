/* COPY and ADD as a layer tar (see build_copy.h).  The plan is a flat list
 * of items, each one tar entry with its final name and metadata and where
 * its bytes come from; prepare fills it, digest and write walk it in the
 * same order.  Files are read again at digest and write time through the
 * source root (RESOLVE_IN_ROOT), so the plan holds no descriptor except
 * for downloads, which exist nowhere else. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_copy.h"
#include "build_copy_internal.h"
#include "container_tar.h"
#include "libutil/buf.h"
#include "libutil/mem.h"
#include "runtime.h"

/* How deep a copied tree may go. */
#define COPY_MAX_DEPTH 1024
#define COPY_READ_SIZE 65536

enum item_kind
{
  ITEM_FS,      /* a file, directory or symlink under the source root */
  ITEM_DATA,    /* bytes held in the plan (here-documents) */
  ITEM_TMPFILE, /* a downloaded file */
  ITEM_DIR,     /* a directory made up from metadata (parents, dest) */
};

struct item
{
  char *arcname; /* "app/x" */
  enum item_kind kind;
  size_t seq;     /* order of addition: a later item wins a name */
  char *src;      /* ITEM_FS: path under the source root */
  bool is_follow; /* ITEM_FS: a named source, symlinks followed */
  char *data;     /* ITEM_DATA */
  int fd;         /* ITEM_TMPFILE */
  mode_t mode;    /* type and permission bits, --chmod applied */
  long uid, gid;
  off_t size;
  struct timespec mtime;
  char *link; /* symlink target */
};

struct build_copy
{
  struct item *items;
  size_t n_items, cap_items;
  struct build_copy_archive *archives;
  size_t n_archives;
  int src_root_fd;
  char *dest;
  char *instruction;
  long uid, gid;
  bool has_chown;
  bool has_chmod;
  mode_t chmod;
};

/* Everything prepare needs while it walks. */
struct planner
{
  const struct build_copy_opts *o;
  struct build_copy *c;
  struct build_copy_view view;
  bool is_dest_dir;
  char *dest_rel; /* dest, relative, resolved in the view */
};

/* ---- small helpers ------------------------------------------------------- */

bool
build_copy_is_url (const char *src)
{
  return str_has_prefix (src, "http://") || str_has_prefix (src, "https://");
}

int
build_copy_parse_chmod (const char *s, mode_t *mode, struct error **err)
{
  unsigned long v = 0;

  if (s == NULL || *s == '\0' || strlen (s) > 5)
    return err_make (err, 0, "invalid --chmod value \"%s\"", s ? s : "");
  for (const char *p = s; *p; p++)
    {
      if (*p < '0' || *p > '7')
        return err_make (err, 0, "invalid --chmod value \"%s\"", s);
      v = v * 8 + (unsigned long) (*p - '0');
    }
  if (v > 07777)
    return err_make (err, 0, "invalid --chmod value \"%s\"", s);
  *mode = (mode_t) v;
  return 0;
}

static bool
has_glob_meta (const char *s)
{
  return strpbrk (s, "*?[\\") != NULL;
}

/* Lexical cleaning of a "/"-path into components, ".." never above the
 * top (the root of a tree, as Go's filepath.Clean of an absolute path). */
char **
build_copy_path_components (const char *path)
{
  cleanup_strv char **parts = str_split (path, '/');
  char **out = xcalloc (strv_len (parts) + 1, sizeof *out);
  size_t n = 0;

  for (size_t i = 0; parts[i]; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          if (n > 0)
            free (out[--n]);
          out[n] = NULL;
          continue;
        }
      out[n++] = xstrdup (parts[i]);
    }
  return out;
}

/* PATH cleaned and relative to its root: "/a/./b/../c" is "a/c", "/" is "". */
static char *
rel_clean (const char *path)
{
  cleanup_strv char **c = build_copy_path_components (path);

  return str_join (c, "/");
}

char *
build_copy_join (const char *a, const char *b)
{
  if (*a == '\0')
    return xstrdup (b);
  if (*b == '\0')
    return xstrdup (a);
  return xasprintf ("%s/%s", a, b);
}

const char *
build_copy_base_name (const char *rel)
{
  const char *s = strrchr (rel, '/');

  return s ? s + 1 : rel;
}

static struct item *
add_item (struct build_copy *c, const char *arcname, enum item_kind kind)
{
  struct item *it;

  if (c->n_items == c->cap_items)
    {
      c->cap_items = c->cap_items ? c->cap_items * 2 : 64;
      c->items = xrealloc (c->items, c->cap_items * sizeof *c->items);
    }
  it = &c->items[c->n_items];
  memset (it, 0, sizeof *it);
  it->arcname = xstrdup (arcname);
  it->kind = kind;
  it->seq = c->n_items++;
  it->fd = -1;
  return it;
}

static void
item_clear (struct item *it)
{
  free (it->arcname);
  free (it->src);
  free (it->data);
  free (it->link);
  if (it->fd >= 0)
    close (it->fd);
}

/* Owner and mode of a copied entry: --chown, or 0:0, or the source's. */
static void
apply_owner_mode (const struct build_copy *c, struct item *it, const struct stat *st)
{
  it->uid = c->uid >= 0 ? c->uid : (long) st->st_uid;
  it->gid = c->gid >= 0 ? c->gid : (long) st->st_gid;
  it->mode = st->st_mode;
  if (c->has_chmod && !S_ISLNK (st->st_mode))
    it->mode = (st->st_mode & S_IFMT) | c->chmod;
}

/* ---- the destination ----------------------------------------------------- */

/* Metadata of directory REL in the image below, when it is there. */
static bool
dest_dir_stat (const struct planner *p, const char *rel, struct stat *st)
{
  int fd;

  return build_copy_view_lstat (&p->view, rel, st, &fd) == 0 && S_ISDIR (st->st_mode);
}

/* A directory entry for REL: its metadata in the destination root when it
 * exists (so the layer leaves it as it is), else MODE owned by UID:GID. */
static void
add_dir_item (struct planner *p, const char *rel, mode_t mode, long uid, long gid)
{
  struct item *it = add_item (p->c, rel, ITEM_DIR);
  struct stat st;

  if (dest_dir_stat (p, rel, &st))
    {
      it->mode = st.st_mode;
      it->uid = (long) st.st_uid;
      it->gid = (long) st.st_gid;
      it->mtime = st.st_mtim;
      return;
    }
  it->mode = S_IFDIR | mode;
  it->uid = uid;
  it->gid = gid;
  clock_gettime (CLOCK_REALTIME, &it->mtime);
}

/* The parents of REL (not REL itself), outermost first. */
static void
add_parents (struct planner *p, const char *rel)
{
  cleanup_free char *s = xstrdup (rel);

  for (char *slash = s; (slash = strchr (slash, '/')) != NULL; slash++)
    {
      *slash = '\0';
      add_dir_item (p, s, 0755, 0, 0);
      *slash = '/';
    }
}

/* ---- sources under the root ---------------------------------------------- */

static int walk_dir (struct planner *p, int dirfd, const char *src, const char *arc, int depth,
                     bool *has_included, struct error **err);

static bool
is_excluded (const struct planner *p, const char *src, bool is_dir)
{
  cleanup_free char *rel = NULL;

  if (p->o->ignore == NULL)
    return false;
  rel = rel_clean (src);
  return build_ignore_match (p->o->ignore, rel, is_dir);
}

static int
add_fs_item (struct planner *p, const char *src, const char *arc, const struct stat *st,
             int dirfd, const char *name, bool is_follow, struct error **err)
{
  struct item *it = add_item (p->c, arc, ITEM_FS);

  it->src = xstrdup (src);
  it->is_follow = is_follow;
  apply_owner_mode (p->c, it, st);
  it->size = S_ISREG (st->st_mode) ? st->st_size : 0;
  it->mtime = st->st_mtim;
  if (S_ISLNK (st->st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (dirfd, name, target, sizeof target - 1);

      if (n < 0)
        return err_make (err, errno, "read symlink \"%s\"", src);
      target[n] = '\0';
      it->link = xstrdup (target);
    }
  return 0;
}

/* One child NAME of the directory DIRFD (source path SRC, tar name ARC). */
static int
walk_child (struct planner *p, int dirfd, const char *name, const char *src, const char *arc,
            int depth, bool *has_included, struct error **err)
{
  cleanup_free char *csrc = build_copy_join (src, name);
  cleanup_free char *carc = build_copy_join (arc, name);
  struct stat st;
  bool is_excl;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "stat \"%s\"", csrc);
  if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode) && !S_ISLNK (st.st_mode))
    return 0; /* devices, fifos and sockets are not copied */
  is_excl = is_excluded (p, csrc, S_ISDIR (st.st_mode));
  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int fd = -1;
      cleanup_free char *rel = rel_clean (csrc);
      bool has_child = false;

      if (is_excl && !build_ignore_has_exceptions_below (p->o->ignore, rel))
        return 0;
      if (add_fs_item (p, csrc, carc, &st, dirfd, name, false, err) < 0)
        return -1;
      fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", csrc);
      if (walk_dir (p, fd, csrc, carc, depth + 1, &has_child, err) < 0)
        return -1;
      if (is_excl && !has_child)
        {
          /* nothing re-included below, so nothing was added after the
             directory's own entry: drop it too */
          item_clear (&p->c->items[--p->c->n_items]);
          return 0;
        }
      *has_included = true;
      return 0;
    }
  if (is_excl)
    return 0;
  if (add_fs_item (p, csrc, carc, &st, dirfd, name, false, err) < 0)
    return -1;
  *has_included = true;
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in the directory DIRFD, sorted; DIRFD stays open.  Grown by
 * doubling: one directory of a context may hold many thousand files. */
static char **
list_names (int dirfd, const char *src, struct error **err)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  size_t n = 0, cap = 16;
  char **v = xcalloc (cap, sizeof *v);
  struct dirent *de;

  if (d == NULL)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      free (v);
      err_make (err, e, "open \"%s\"", *src ? src : "/");
      return NULL;
    }
  for (;;)
    {
      errno = 0;
      de = readdir (d);
      if (de == NULL)
        break;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (n + 1 == cap)
        {
          cap *= 2;
          v = xrealloc (v, cap * sizeof *v);
        }
      v[n++] = xstrdup (de->d_name);
      v[n] = NULL;
    }
  if (errno != 0)
    {
      int e = errno;
      strv_free (v);
      err_make (err, e, "read directory \"%s\"", *src ? src : "/");
      return NULL;
    }
  qsort (v, n, sizeof *v, cmp_str);
  return v;
}

static int
walk_dir (struct planner *p, int dirfd, const char *src, const char *arc, int depth,
          bool *has_included, struct error **err)
{
  cleanup_strv char **names = NULL;

  if (depth > COPY_MAX_DEPTH)
    return err_make (err, ELOOP, "copy \"%s\": too deep", src);
  names = list_names (dirfd, src, err);
  if (names == NULL)
    return -1;
  for (size_t i = 0; names[i]; i++)
    if (walk_child (p, dirfd, names[i], src, arc, depth, has_included, err) < 0)
      return -1;
  return 0;
}

/* ---- resolving the source words ------------------------------------------ */

/* A source after glob expansion. */
struct source
{
  enum
  {
    SRC_PATH,
    SRC_URL,
    SRC_HEREDOC,
  } kind;
  char *path;                    /* SRC_PATH: under the root; SRC_URL: the URL */
  const struct df_heredoc *doc;  /* SRC_HEREDOC */
  struct stat st;                /* SRC_PATH: followed */
  bool is_archive;               /* SRC_PATH: a tar ADD extracts */
};

struct sources
{
  struct source *v;
  size_t n;
};

static void
sources_clear (struct sources *s)
{
  for (size_t i = 0; i < s->n; i++)
    free (s->v[i].path);
  free (s->v);
}

static struct source *
add_source (struct sources *s)
{
  s->v = xrealloc (s->v, (s->n + 1) * sizeof *s->v);
  memset (&s->v[s->n], 0, sizeof *s->v);
  return &s->v[s->n++];
}

/* The here-document a "<<NAME" word names. */
static const struct df_heredoc *
find_heredoc (const struct build_copy_opts *o, const char *word)
{
  cleanup_free char *name = xstrdup (word + 2);
  size_t len;

  if (name[0] == '-')
    memmove (name, name + 1, strlen (name));
  len = strlen (name);
  if (len >= 2 && (name[0] == '\'' || name[0] == '"') && name[len - 1] == name[0])
    {
      name[len - 1] = '\0';
      memmove (name, name + 1, len - 1);
    }
  for (size_t i = 0; i < o->n_heredocs; i++)
    if (strcmp (o->heredocs[i].name, name) == 0)
      return &o->heredocs[i];
  return NULL;
}

/* Stat SRC under the root, following symlinks inside it. */
static int
stat_in_root (int root_fd, const char *src, struct stat *st)
{
  cleanup_close int fd = -1;

  if (*src == '\0')
    return fstat (root_fd, st);
  fd = runtime_fs_open_in_root (root_fd, src, O_PATH, 0);
  if (fd < 0)
    return -1;
  return fstat (fd, st);
}

/* Expand the glob components of PAT (relative, cleaned) from PREFIX on,
 * adding each existing, not excluded match. */
static int
glob_expand (struct planner *p, char **comps, size_t i, const char *prefix, struct sources *out,
             struct error **err)
{
  cleanup_strv char **names = NULL;
  cleanup_close int fd = -1;

  if (comps[i] && !has_glob_meta (comps[i]))
    {
      cleanup_free char *next = build_copy_join (prefix, comps[i]);

      return glob_expand (p, comps, i + 1, next, out, err);
    }
  if (comps[i] == NULL)
    {
      struct stat st;

      if (stat_in_root (p->o->src_root_fd, prefix, &st) < 0
          || is_excluded (p, prefix, S_ISDIR (st.st_mode)))
        return 0;
      struct source *s = add_source (out);
      s->kind = SRC_PATH;
      s->path = xstrdup (prefix);
      s->st = st;
      return 0;
    }
  if (build_ignore_fnmatch (comps[i], "") < 0)
    return err_make (err, 0, "%s failed: syntax error in pattern \"%s\"", p->c->instruction,
                     comps[i]);
  fd = *prefix ? runtime_fs_open_in_root (p->o->src_root_fd, prefix, O_RDONLY | O_DIRECTORY, 0)
               : dup (p->o->src_root_fd);
  if (fd < 0)
    return 0; /* not a directory: nothing matches below it */
  names = list_names (fd, prefix, err);
  if (names == NULL)
    return -1;
  for (size_t k = 0; names[k]; k++)
    {
      cleanup_free char *next = NULL;

      if (build_ignore_fnmatch (comps[i], names[k]) != 1)
        continue;
      next = build_copy_join (prefix, names[k]);
      if (glob_expand (p, comps, i + 1, next, out, err) < 0)
        return -1;
    }
  return 0;
}

static int
not_found (struct planner *p, const char *word, struct error **err)
{
  return err_make (err, ENOENT,
                   "%s failed: file not found in build context or excluded by .dockerignore: "
                   "stat %s: file does not exist",
                   p->c->instruction, word);
}

static int
resolve_word (struct planner *p, const char *word, struct sources *out, struct error **err)
{
  cleanup_strv char **comps = NULL;
  cleanup_free char *rel = NULL;
  struct source *s;
  struct stat st;

  if (build_copy_is_url (word))
    {
      if (!p->o->is_add)
        return err_make (err, 0, "%s failed: source can't be a URL for %s", p->c->instruction,
                         p->c->instruction);
      s = add_source (out);
      s->kind = SRC_URL;
      s->path = xstrdup (word);
      return 0;
    }
  if (str_has_prefix (word, "<<"))
    {
      s = add_source (out);
      s->kind = SRC_HEREDOC;
      s->doc = find_heredoc (p->o, word);
      if (s->doc == NULL)
        return err_make (err, 0, "%s failed: no here-document \"%s\"", p->c->instruction, word);
      return 0;
    }
  if (p->o->src_root_fd < 0)
    return err_make (err, 0, "%s failed: no build context for \"%s\" (the Dockerfile came from "
                             "standard input)",
                     p->c->instruction, word);
  comps = build_copy_path_components (word);
  if (has_glob_meta (word))
    return glob_expand (p, comps, 0, "", out, err);
  rel = str_join (comps, "/");
  if (stat_in_root (p->o->src_root_fd, rel, &st) < 0 || is_excluded (p, rel, S_ISDIR (st.st_mode)))
    return not_found (p, word, err);
  s = add_source (out);
  s->kind = SRC_PATH;
  s->path = steal_ptr (&rel);
  s->st = st;
  return 0;
}

/* ---- building the plan --------------------------------------------------- */

/* The tar name of a single source named NAME: inside the destination
 * directory, or the destination itself. */
static char *
target_name (const struct planner *p, const char *name)
{
  return p->is_dest_dir ? build_copy_join (p->dest_rel, name) : xstrdup (p->dest_rel);
}

static int
plan_path (struct planner *p, const struct source *s, struct error **err)
{
  cleanup_free char *arc = NULL;

  if (S_ISDIR (s->st.st_mode))
    {
      cleanup_close int fd = *s->path
                                 ? runtime_fs_open_in_root (p->o->src_root_fd, s->path,
                                                            O_RDONLY | O_DIRECTORY, 0)
                                 : openat (p->o->src_root_fd, ".", O_RDONLY | O_DIRECTORY
                                                                       | O_CLOEXEC);
      bool has_included = false;

      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", *s->path ? s->path : "/");
      return walk_dir (p, fd, s->path, p->dest_rel, 0, &has_included, err);
    }
  if (s->is_archive)
    {
      struct build_copy_archive *a;

      p->c->archives = xrealloc (p->c->archives, (p->c->n_archives + 1) * sizeof *a);
      a = &p->c->archives[p->c->n_archives++];
      a->src = xstrdup (s->path);
      a->dest_dir = xstrdup (p->dest_rel);
      return 0;
    }
  if (!S_ISREG (s->st.st_mode))
    return err_make (err, 0, "%s failed: \"%s\" is not a regular file or directory",
                     p->c->instruction, s->path);
  arc = target_name (p, build_copy_base_name (s->path));
  return add_fs_item (p, s->path, arc, &s->st, -1, NULL, true, err);
}

static int
plan_url (struct planner *p, const struct source *s, struct error **err)
{
  cleanup_free char *name = build_copy_url_name (s->path, err);
  cleanup_free char *arc = NULL;
  struct item *it;

  if (name == NULL)
    return -1;
  arc = target_name (p, name);
  it = add_item (p->c, arc, ITEM_TMPFILE);
  if (build_copy_download (s->path, &it->fd, &it->mtime, &it->size, err) < 0)
    return err_wrap (err, "%s failed", p->c->instruction);
  it->mode = S_IFREG | (p->c->has_chmod ? p->c->chmod : 0600);
  it->uid = p->c->uid >= 0 ? p->c->uid : 0;
  it->gid = p->c->gid >= 0 ? p->c->gid : 0;
  return 0;
}

static void
plan_heredoc (struct planner *p, const struct source *s)
{
  cleanup_free char *arc = target_name (p, s->doc->name);
  struct item *it = add_item (p->c, arc, ITEM_DATA);

  it->data = xstrdup (s->doc->content ? s->doc->content : "");
  it->size = (off_t) strlen (it->data);
  it->mode = S_IFREG | (p->c->has_chmod ? p->c->chmod : 0644);
  it->uid = p->c->uid >= 0 ? p->c->uid : 0;
  it->gid = p->c->gid >= 0 ? p->c->gid : 0;
  clock_gettime (CLOCK_REALTIME, &it->mtime);
}

/* Docker's rules for whether the destination is a directory. */
static int
decide_dest (struct planner *p, const struct sources *srcs, bool has_slash, struct error **err)
{
  struct stat st;
  bool exists = false;
  int fd;

  p->is_dest_dir = has_slash || srcs->n > 1 || *p->dest_rel == '\0';
  for (size_t i = 0; i < srcs->n; i++)
    if (srcs->v[i].kind == SRC_PATH
        && (S_ISDIR (srcs->v[i].st.st_mode) || srcs->v[i].is_archive))
      p->is_dest_dir = true;
  if (*p->dest_rel && build_copy_view_lstat (&p->view, p->dest_rel, &st, &fd) == 0)
    {
      exists = true;
      if (S_ISDIR (st.st_mode))
        p->is_dest_dir = true;
    }
  if (p->is_dest_dir && exists && !S_ISDIR (st.st_mode))
    return err_make (err, ENOTDIR, "%s failed: cannot copy to non-directory: %s",
                     p->c->instruction, p->o->dest);
  return 0;
}

/* The destination's parents, and the destination directory itself: a
 * single directory source lends it its metadata when it is new. */
static void
plan_dest_dirs (struct planner *p, const struct sources *srcs)
{
  struct stat st;

  if (*p->dest_rel == '\0')
    return;
  add_parents (p, p->dest_rel);
  if (!p->is_dest_dir)
    return;
  if (srcs->n == 1 && srcs->v[0].kind == SRC_PATH && S_ISDIR (srcs->v[0].st.st_mode)
      && !dest_dir_stat (p, p->dest_rel, &st))
    {
      struct item *it = add_item (p->c, p->dest_rel, ITEM_DIR);

      apply_owner_mode (p->c, it, &srcs->v[0].st);
      it->mtime = srcs->v[0].st.st_mtim;
      return;
    }
  add_dir_item (p, p->dest_rel, 0755, p->c->uid >= 0 ? p->c->uid : 0,
                p->c->gid >= 0 ? p->c->gid : 0);
}

static int
cmp_items (const void *a, const void *b)
{
  const struct item *x = a, *y = b;
  int r = strcmp (x->arcname, y->arcname);

  if (r != 0)
    return r;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort by name; of several items with one name the last added stays.
 * Every parent name is a prefix of its children's, so it sorts first. */
static void
sort_items (struct build_copy *c)
{
  size_t n = 0;

  qsort (c->items, c->n_items, sizeof *c->items, cmp_items);
  for (size_t i = 0; i < c->n_items; i++)
    {
      if (i + 1 < c->n_items && strcmp (c->items[i].arcname, c->items[i + 1].arcname) == 0)
        {
          item_clear (&c->items[i]);
          continue;
        }
      c->items[n++] = c->items[i];
    }
  c->n_items = n;
}

/* A ".wh." name in a layer deletes rather than adds (OCI image-spec
 * layer.md): a file so named cannot be copied as itself. */
static int
check_names (const struct build_copy *c, struct error **err)
{
  for (size_t i = 0; i < c->n_items; i++)
    if (str_has_prefix (build_copy_base_name (c->items[i].arcname), ".wh."))
      return err_make (err, EINVAL, "%s failed: \"/%s\": names starting with \".wh.\" are "
                                    "reserved for layer whiteouts",
                       c->instruction, c->items[i].arcname);
  return 0;
}

static int
plan_sources (struct planner *p, const struct sources *srcs, struct error **err)
{
  for (size_t i = 0; i < srcs->n; i++)
    {
      const struct source *s = &srcs->v[i];
      int r = 0;

      if (s->kind == SRC_PATH)
        r = plan_path (p, s, err);
      else if (s->kind == SRC_URL)
        r = plan_url (p, s, err);
      else
        plan_heredoc (p, s);
      if (r < 0)
        return -1;
    }
  return 0;
}

static struct build_copy *
copy_new (const struct build_copy_opts *o)
{
  struct build_copy *c = xmalloc0 (sizeof *c);

  c->src_root_fd = -1;
  c->instruction = xstrdup (o->instruction ? o->instruction : "COPY");
  c->dest = xstrdup (o->dest);
  c->uid = o->uid;
  c->gid = o->gid;
  c->has_chown = o->has_chown;
  return c;
}

int
build_copy_prepare (const struct build_copy_opts *o, struct build_copy **out,
                    struct error **err)
{
  cleanup_build_copy struct build_copy *c = copy_new (o);
  struct sources srcs = { 0 };
  struct planner p = { .o = o, .c = c };
  cleanup_free char *lexical = NULL;
  size_t len = strlen (o->dest);
  bool has_slash = len > 0 && (o->dest[len - 1] == '/' || str_has_suffix (o->dest, "/."));
  int r = -1;

  if (o->chmod && build_copy_parse_chmod (o->chmod, &c->chmod, err) < 0)
    return -1;
  c->has_chmod = o->chmod != NULL;
  if (o->src_root_fd >= 0)
    {
      c->src_root_fd = fcntl (o->src_root_fd, F_DUPFD_CLOEXEC, 3);
      if (c->src_root_fd < 0)
        return err_make (err, errno, "duplicate the source descriptor");
    }
  if (build_copy_view_open (&p.view, o, err) < 0)
    goto out;
  lexical = rel_clean (o->dest);
  p.dest_rel = build_copy_resolve_dest (&p.view, lexical, err);
  if (p.dest_rel == NULL)
    goto out;
  for (size_t i = 0; i < o->n_srcs; i++)
    if (resolve_word (&p, o->srcs[i], &srcs, err) < 0)
      goto out;
  for (size_t i = 0; o->is_add && i < srcs.n; i++)
    srcs.v[i].is_archive = srcs.v[i].kind == SRC_PATH && S_ISREG (srcs.v[i].st.st_mode)
                           && build_copy_is_archive (o->src_root_fd, srcs.v[i].path);
  if (srcs.n == 0)
    {
      err_make (err, ENOENT, "%s failed: no source files were specified", c->instruction);
      goto out;
    }
  if (decide_dest (&p, &srcs, has_slash, err) < 0)
    goto out;
  plan_dest_dirs (&p, &srcs);
  if (plan_sources (&p, &srcs, err) < 0)
    goto out;
  sort_items (c);
  if (check_names (c, err) < 0)
    goto out;
  *out = steal_ptr (&c);
  r = 0;
out:
  sources_clear (&srcs);
  free (p.dest_rel);
  build_copy_view_close (&p.view);
  return r;
}

size_t
build_copy_n_entries (const struct build_copy *c)
{
  return c->n_items;
}

void
build_copy_free (struct build_copy *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n_items; i++)
    item_clear (&c->items[i]);
  free (c->items);
  for (size_t i = 0; i < c->n_archives; i++)
    {
      free (c->archives[i].src);
      free (c->archives[i].dest_dir);
    }
  free (c->archives);
  if (c->src_root_fd >= 0)
    close (c->src_root_fd);
  free (c->dest);
  free (c->instruction);
  free (c);
}

void
build_copy_freep (struct build_copy **c)
{
  build_copy_free (*c);
  *c = NULL;
}

/* ---- reading item contents ----------------------------------------------- */

/* The directory the last file was opened in: items come sorted, so
 * siblings follow each other and one in-root lookup serves them all. */
struct dir_cache
{
  char *dir;
  int fd;
};

#define DIR_CACHE_INIT { NULL, -1 }

static void
dir_cache_clear (struct dir_cache *d)
{
  free (d->dir);
  if (d->fd >= 0)
    close (d->fd);
}

/* ITEM_FS's file below a copied directory: its parent resolved in the
 * root once, the file itself opened without following a symlink. */
static int
open_in_parent (const struct build_copy *c, struct dir_cache *d, const char *src)
{
  const char *slash = strrchr (src, '/');
  cleanup_free char *dir = slash ? xstrndup (src, (size_t) (slash - src)) : xstrdup ("");

  if (d->dir == NULL || strcmp (d->dir, dir) != 0)
    {
      dir_cache_clear (d);
      d->dir = NULL;
      d->fd = *dir ? runtime_fs_open_in_root (c->src_root_fd, dir, O_PATH | O_DIRECTORY, 0)
                   : fcntl (c->src_root_fd, F_DUPFD_CLOEXEC, 3);
      if (d->fd < 0)
        return -1;
      d->dir = steal_ptr (&dir);
    }
  return openat (d->fd, slash ? slash + 1 : src, O_RDONLY | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
}

/* A descriptor to read a regular file item from, positioned at 0. */
static int
open_item (const struct build_copy *c, struct dir_cache *d, const struct item *it,
           struct error **err)
{
  int fd;

  if (it->kind == ITEM_TMPFILE)
    {
      fd = fcntl (it->fd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0 || lseek (fd, 0, SEEK_SET) < 0)
        return err_make (err, errno, "read download \"%s\"", it->arcname);
      return fd;
    }
  if (it->is_follow)
    fd = runtime_fs_open_in_root (c->src_root_fd, it->src, O_RDONLY | O_NOCTTY, 0);
  else
    fd = open_in_parent (c, d, it->src);
  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", it->src);
  return fd;
}

typedef int (*chunk_fn) (void *arg, const void *buf, size_t len, struct error **err);

/* Feed the bytes of FD to FN in blocks, at most MAX (-1: all). */
static int
read_chunks (int fd, int64_t max, const char *what, chunk_fn fn, void *arg, struct error **err)
{
  char buf[COPY_READ_SIZE];

  while (max != 0)
    {
      size_t want = max < 0 || max > (int64_t) sizeof buf ? sizeof buf : (size_t) max;
      ssize_t n = read (fd, buf, want);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read \"%s\"", what);
      if (n == 0)
        break;
      if (fn (arg, buf, (size_t) n, err) < 0)
        return -1;
      if (max > 0)
        max -= n;
    }
  return 0;
}

/* ---- digest -------------------------------------------------------------- */

static int
hash_chunk (void *arg, const void *buf, size_t len, struct error **err)
{
  (void) err;
  sha256_update (arg, buf, len);
  return 0;
}

static void
hash_str (struct sha256_ctx *h, const char *s)
{
  sha256_update (h, s ? s : "", strlen (s ? s : "") + 1);
}

static int
hash_item (const struct build_copy *c, struct dir_cache *d, struct sha256_ctx *h,
           const struct item *it, struct error **err)
{
  char meta[128];
  cleanup_close int fd = -1;

  hash_str (h, it->arcname);
  snprintf (meta, sizeof meta, "%o %ld %ld %lld", (unsigned) it->mode, it->uid, it->gid,
            (long long) it->size);
  hash_str (h, meta);
  hash_str (h, it->link);
  if (it->kind == ITEM_DATA)
    sha256_update (h, it->data, (size_t) it->size);
  if (!S_ISREG (it->mode) || it->kind == ITEM_DATA || it->kind == ITEM_DIR)
    return 0;
  fd = open_item (c, d, it, err);
  if (fd < 0)
    return -1;
  /* the size prepare saw (which the hash covers too): one read for a
     small file, no second one to meet the end */
  return read_chunks (fd, (int64_t) it->size, it->arcname, hash_chunk, h, err);
}

int
build_copy_digest (const struct build_copy *c, char out[SHA256_DIGEST_STR_LEN],
                   struct error **err)
{
  cleanup_sha256 struct sha256_ctx *h = sha256_new ();
  __attribute__ ((cleanup (dir_cache_clear))) struct dir_cache d = DIR_CACHE_INIT;
  char hex[SHA256_HEX_LEN + 1];
  char meta[128];

  hash_str (h, c->instruction);
  hash_str (h, c->dest);
  snprintf (meta, sizeof meta, "chown=%ld:%ld:%d chmod=%d:%o", c->uid, c->gid, c->has_chown,
            c->has_chmod, (unsigned) c->chmod);
  hash_str (h, meta);
  for (size_t i = 0; i < c->n_items; i++)
    if (hash_item (c, &d, h, &c->items[i], err) < 0)
      return -1;
  for (size_t i = 0; i < c->n_archives; i++)
    {
      cleanup_close int fd = runtime_fs_open_in_root (c->src_root_fd, c->archives[i].src,
                                                      O_RDONLY | O_NOCTTY, 0);

      hash_str (h, "archive");
      hash_str (h, c->archives[i].dest_dir);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", c->archives[i].src);
      if (read_chunks (fd, -1, c->archives[i].src, hash_chunk, h, err) < 0)
        return -1;
    }
  sha256_final_hex (h, hex);
  snprintf (out, SHA256_DIGEST_STR_LEN, "sha256:%s", hex);
  return 0;
}

/* ---- the tar ------------------------------------------------------------- */

static int
tar_chunk (void *arg, const void *buf, size_t len, struct error **err)
{
  return container_tar_write (arg, buf, len, err);
}

static void
fill_entry (struct archive_entry *e, const struct item *it, off_t size)
{
  archive_entry_set_pathname (e, it->arcname);
  archive_entry_set_mode (e, it->mode);
  archive_entry_set_uid (e, (la_int64_t) it->uid);
  archive_entry_set_gid (e, (la_int64_t) it->gid);
  archive_entry_set_mtime (e, it->mtime.tv_sec, it->mtime.tv_nsec);
  archive_entry_set_size (e, S_ISREG (it->mode) ? size : 0);
  if (it->link)
    archive_entry_set_symlink (e, it->link);
}

static int
write_item (const struct build_copy *c, struct dir_cache *d, struct container_tar *t,
            const struct item *it, struct error **err)
{
  struct archive_entry *e = archive_entry_new ();
  cleanup_close int fd = -1;
  off_t size = it->size;
  int r = -1;

  if (S_ISREG (it->mode) && it->kind != ITEM_DATA)
    {
      struct stat st;

      fd = open_item (c, d, it, err);
      if (fd < 0)
        goto out;
      /* the size now, not at prepare: a file rewritten since is taken whole */
      if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
        size = st.st_size;
    }
  fill_entry (e, it, size);
  if (container_tar_begin_entry (t, e, err) < 0)
    goto out;
  if (it->kind == ITEM_DATA)
    r = container_tar_write (t, it->data, (size_t) it->size, err);
  else if (fd >= 0)
    r = read_chunks (fd, (int64_t) size, it->arcname, tar_chunk, t, err);
  else
    r = 0;
out:
  archive_entry_free (e);
  return r;
}

int
build_copy_write (const struct build_copy *c, int out_fd, struct error **err)
{
  cleanup_container_tar struct container_tar *t = container_tar_new (container_tar_fd_sink,
                                                                    &out_fd);
  __attribute__ ((cleanup (dir_cache_clear))) struct dir_cache d = DIR_CACHE_INIT;

  for (size_t i = 0; i < c->n_items; i++)
    if (write_item (c, &d, t, &c->items[i], err) < 0)
      return -1;
  for (size_t i = 0; i < c->n_archives; i++)
    if (build_copy_write_archive (t, c->src_root_fd, &c->archives[i], c->has_chown ? c->uid : -1,
                                  c->has_chown ? c->gid : -1, err) < 0)
      return -1;
  return container_tar_finish (t, err);
}
