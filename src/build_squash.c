/* `build --squash`: the layers a build added, merged into one layer tar,
 * as if they were extracted one over the other and the result tarred
 * again, but without extracting anything:
 *
 *   1. plan: read every layer's headers, bottom first, into a table of
 *      names; an entry replaces an earlier one of the same name, a ".wh."
 *      whiteout removes the earlier layers' entry and everything below it
 *      (and stays, for what the base image has there), an opaque marker
 *      removes what the earlier layers put in its directory; a directory
 *      re-created over a whiteout gets an opaque marker of its own
 *   2. write: read the layers again and copy each entry that won, in
 *      layer order (so directories still come before their contents),
 *      then the opaque markers step 1 made up
 *
 * The layers are the build's own (written by skiff moments before) but are
 * read with the same bounds as any tar: names are only compared, never
 * used as paths here. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "libutil/buf.h"
#include "libutil/mem.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_NAME ".wh..wh..opq"

struct squash_entry
{
  char *name; /* normalised: no leading "./" or "/", no trailing "/" */
  size_t layer;
  size_t ordinal; /* its position in its layer */
  bool is_removed;
};

struct squash
{
  build_squash_exists_fn exists_below;
  void *data;
  struct squash_entry *v; /* in (layer, ordinal) order */
  size_t n, cap;
  size_t *slots;       /* hash of names: index + 1 of the newest entry, 0 empty */
  size_t n_slots;      /* a power of two */
  size_t *layer_start; /* index in V of each layer's first entry */
  char **opaque_dirs;  /* directories that need a made-up opaque marker */
};

static void
squash_clear (struct squash *sq)
{
  for (size_t i = 0; i < sq->n; i++)
    free (sq->v[i].name);
  free (sq->v);
  free (sq->slots);
  free (sq->layer_start);
  strv_free (sq->opaque_dirs);
}

static size_t
hash_name (const char *s)
{
  size_t h = 14695981039346656037ull;

  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The slot for NAME: the one holding it, or the empty one it would take. */
static size_t *
slot_of (const struct squash *sq, const char *name)
{
  size_t mask = sq->n_slots - 1;

  for (size_t i = hash_name (name) & mask;; i = (i + 1) & mask)
    if (sq->slots[i] == 0 || strcmp (sq->v[sq->slots[i] - 1].name, name) == 0)
      return &sq->slots[i];
}

/* Keep the table at most half full: rebuilt from V, newer entries last. */
static void
grow_slots (struct squash *sq)
{
  if (sq->n_slots > 2 * (sq->n + 1))
    return;
  free (sq->slots);
  sq->n_slots = sq->n_slots ? sq->n_slots * 2 : 1024;
  sq->slots = xcalloc (sq->n_slots, sizeof *sq->slots);
  for (size_t i = 0; i < sq->n; i++)
    *slot_of (sq, sq->v[i].name) = i + 1;
}

static char *
normalize (const char *name)
{
  size_t len;

  while (str_has_prefix (name, "./"))
    name += 2;
  while (*name == '/')
    name++;
  len = strlen (name);
  while (len > 0 && name[len - 1] == '/')
    len--;
  return xstrndup (name, len);
}

/* The live entry named NAME, or NULL.  Only the newest entry of a name
 * can be live: adding one removes the one before. */
static struct squash_entry *
find (struct squash *sq, const char *name)
{
  size_t slot;

  if (sq->n_slots == 0)
    return NULL;
  slot = *slot_of (sq, name);
  if (slot == 0 || sq->v[slot - 1].is_removed)
    return NULL;
  return &sq->v[slot - 1];
}

/* Remove the live entries below DIR ("" is the root), and DIR itself when
 * IS_SELF. */
static void
remove_below (struct squash *sq, const char *dir, bool is_self)
{
  size_t len = strlen (dir);

  for (size_t i = 0; i < sq->n; i++)
    {
      const char *n = sq->v[i].name;
      if (sq->v[i].is_removed)
        continue;
      if ((is_self && strcmp (n, dir) == 0)
          || (len == 0 || (strncmp (n, dir, len) == 0 && n[len] == '/')))
        sq->v[i].is_removed = true;
    }
}

static void
add (struct squash *sq, char *name, size_t layer, size_t ordinal)
{
  grow_slots (sq);
  if (sq->n == sq->cap)
    {
      sq->cap = sq->cap ? sq->cap * 2 : 256;
      sq->v = xrealloc (sq->v, sq->cap * sizeof *sq->v);
    }
  sq->v[sq->n] = (struct squash_entry){ .name = name, .layer = layer, .ordinal = ordinal };
  *slot_of (sq, name) = sq->n + 1;
  sq->n++;
}

/* One entry of layer LAYER into the plan. */
static void
plan_entry (struct squash *sq, const char *raw, bool is_dir, size_t layer, size_t ordinal)
{
  char *name = normalize (raw);
  const char *slash = strrchr (name, '/');
  const char *base = slash ? slash + 1 : name;
  cleanup_free char *dir = xstrndup (name, slash ? (size_t)(slash - name) : 0);
  struct squash_entry *old;

  if (strcmp (base, OPAQUE_NAME) == 0)
    remove_below (sq, dir, false);
  else if (str_has_prefix (base, WHITEOUT_PREFIX))
    {
      cleanup_free char *target = *dir ? xasprintf ("%s/%s", dir, base + 4) : xstrdup (base + 4);
      remove_below (sq, target, true);
      /* A whiteout of what only the merged layers had hides nothing, and
       * would show as a stray entry. */
      if (!sq->exists_below (target, sq->data))
        {
          add (sq, name, layer, ordinal);
          sq->v[sq->n - 1].is_removed = true;
          return;
        }
    }
  else
    {
      cleanup_free char *wh = *dir ? xasprintf ("%s/" WHITEOUT_PREFIX "%s", dir, base)
                                   : xasprintf (WHITEOUT_PREFIX "%s", base);
      struct squash_entry *w = find (sq, wh);
      /* Re-created after a whiteout: the whiteout goes; a directory hides
       * what the base image had in it. */
      if (w)
        {
          w->is_removed = true;
          if (is_dir)
            sq->opaque_dirs = strv_append (sq->opaque_dirs, name);
        }
    }
  old = find (sq, name);
  if (old)
    old->is_removed = true;
  add (sq, name, layer, ordinal);
}

static struct archive *
open_layer (int fd, struct error **err)
{
  struct archive *a = archive_read_new ();

  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (lseek (fd, 0, SEEK_SET) < 0)
    {
      archive_read_free (a);
      err_make (err, errno, "rewind a layer");
      return NULL;
    }
  if (archive_read_open_fd (a, fd, 64 * 1024) != ARCHIVE_OK)
    {
      err_make (err, 0, "read a layer: %s", archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  return a;
}

static int
plan_layer (struct squash *sq, int fd, size_t layer, struct error **err)
{
  struct archive *a = open_layer (fd, err);
  struct archive_entry *e;
  size_t ordinal = 0;
  int r;

  if (a == NULL)
    return -1;
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    plan_entry (sq, archive_entry_pathname (e), archive_entry_filetype (e) == AE_IFDIR, layer,
                ordinal++);
  if (r != ARCHIVE_EOF)
    r = err_make (err, 0, "read layer %zu: %s", layer + 1, archive_error_string (a));
  else
    r = 0;
  archive_read_free (a);
  return r;
}

static bool
is_winner (const struct squash *sq, size_t layer, size_t ordinal)
{
  size_t i = sq->layer_start[layer] + ordinal;

  return i < sq->n && sq->v[i].layer == layer && !sq->v[i].is_removed;
}

static int
copy_data (struct archive *in, struct archive *out, struct error **err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;

  while ((r = archive_read_data_block (in, &buf, &len, &off)) == ARCHIVE_OK)
    if (archive_write_data (out, buf, len) < 0)
      return err_make (err, 0, "write the squashed layer: %s", archive_error_string (out));
  if (r != ARCHIVE_EOF)
    return err_make (err, 0, "read a layer: %s", archive_error_string (in));
  return 0;
}

static int
write_layer_entries (const struct squash *sq, int fd, size_t layer, struct archive *out,
                     struct error **err)
{
  struct archive *a = open_layer (fd, err);
  struct archive_entry *e;
  size_t ordinal = 0;
  int r = 0, rr;

  if (a == NULL)
    return -1;
  while (r == 0 && (rr = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    {
      if (!is_winner (sq, layer, ordinal++))
        continue;
      if (archive_write_header (out, e) != ARCHIVE_OK)
        r = err_make (err, 0, "write the squashed layer: %s", archive_error_string (out));
      else if (archive_entry_size (e) > 0)
        r = copy_data (a, out, err);
    }
  if (r == 0 && rr != ARCHIVE_EOF)
    r = err_make (err, 0, "read layer %zu: %s", layer + 1, archive_error_string (a));
  archive_read_free (a);
  return r;
}

static int
write_opaque_markers (const struct squash *sq, struct archive *out, struct error **err)
{
  for (char **d = sq->opaque_dirs; d && *d; d++)
    {
      struct archive_entry *e = archive_entry_new ();
      cleanup_free char *name = xasprintf ("%s/" OPAQUE_NAME, *d);
      int r;

      archive_entry_set_pathname (e, name);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0);
      archive_entry_set_size (e, 0);
      r = archive_write_header (out, e);
      archive_entry_free (e);
      if (r != ARCHIVE_OK)
        return err_make (err, 0, "write the squashed layer: %s", archive_error_string (out));
    }
  return 0;
}

int
build_squash_layers (const int *fds, size_t n, build_squash_exists_fn exists_below, void *data,
                     int out_fd, struct error **err)
{
  struct squash sq = { .exists_below = exists_below, .data = data };
  struct archive *out = archive_write_new ();
  int r = 0;

  archive_write_set_format_pax_restricted (out);
  archive_write_set_bytes_in_last_block (out, 1);
  sq.layer_start = xcalloc (n + 1, sizeof *sq.layer_start);
  for (size_t i = 0; i < n && r == 0; i++)
    {
      sq.layer_start[i] = sq.n;
      r = plan_layer (&sq, fds[i], i, err);
    }
  if (r == 0 && archive_write_open_fd (out, out_fd) != ARCHIVE_OK)
    r = err_make (err, 0, "write the squashed layer: %s", archive_error_string (out));
  for (size_t i = 0; i < n && r == 0; i++)
    r = write_layer_entries (&sq, fds[i], i, out, err);
  if (r == 0)
    r = write_opaque_markers (&sq, out, err);
  if (r == 0 && archive_write_close (out) != ARCHIVE_OK)
    r = err_make (err, 0, "write the squashed layer: %s", archive_error_string (out));
  archive_write_free (out);
  squash_clear (&sq);
  return r;
}
