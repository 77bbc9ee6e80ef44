/* The build cache index (see build_cache.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_cache.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"

/* One field: its length, a colon, its bytes; a NULL field is "-". */
static void
add_field (struct sha256_ctx *h, const char *s)
{
  char len[32];

  if (s == NULL)
    {
      sha256_update (h, "-", 1);
      return;
    }
  snprintf (len, sizeof len, "%zu:", strlen (s));
  sha256_update (h, len, strlen (len));
  sha256_update (h, s, strlen (s));
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

char *
build_cache_key (const struct build_cache_step *step)
{
  struct sha256_ctx *h = sha256_new ();
  size_t n = strv_len (step->build_args);
  cleanup_free char **args = xcalloc (n + 1, sizeof *args);
  char hex[SHA256_HEX_LEN + 1], count[32];

  /* The order ARGs were declared in does not change what a step does. */
  memcpy (args, step->build_args, n * sizeof *args);
  qsort (args, n, sizeof *args, compare_strings);
  add_field (h, "skiff-build-cache-v1");
  add_field (h, step->parent_id && *step->parent_id ? step->parent_id : NULL);
  add_field (h, step->instruction);
  snprintf (count, sizeof count, "%zu", n);
  add_field (h, count);
  for (size_t i = 0; i < n; i++)
    add_field (h, args[i]);
  add_field (h, step->content_digest);
  sha256_final_hex (h, hex);
  sha256_free (h);
  return xasprintf ("sha256:%s", hex);
}

/* <root>/build-cache/KIND/<hex of DIGEST>, or NULL for a malformed digest. */
static char *
entry_path (const char *root, const char *kind, const char *digest)
{
  if (!sha256_digest_valid (digest))
    return NULL;
  return xasprintf ("%s/build-cache/%s/%s", root, kind, digest + strlen ("sha256:"));
}

int
build_cache_lookup (const char *root, const char *key, char **image_id, struct error **err)
{
  cleanup_free char *path = entry_path (root, "keys", key);
  cleanup_free char *text = NULL;
  size_t len = 0;

  *image_id = NULL;
  if (path == NULL)
    return err_make (err, 0, "invalid build cache key \"%s\"", key);
  if (!fs_exists (path))
    return 0;
  text = fs_read_file (path, 128, &len, err);
  if (text == NULL)
    return err_wrap (err, "read build cache entry");
  str_strip (text);
  /* A damaged entry is a miss: the step is simply built again. */
  if (sha256_digest_valid (text))
    *image_id = steal_ptr (&text);
  return 0;
}

static int
ensure_dir (const char *root, const char *kind, struct error **err)
{
  cleanup_free char *dir = xasprintf ("%s/build-cache/%s", root, kind);

  return fs_mkdir_p (dir, 0700, err);
}

int
build_cache_record (const char *root, const char *key, const char *image_id, struct error **err)
{
  cleanup_free char *key_path = entry_path (root, "keys", key);
  cleanup_free char *mark_path = entry_path (root, "images", image_id);
  cleanup_free char *text = NULL;

  if (key_path == NULL || mark_path == NULL)
    return err_make (err, 0, "invalid build cache entry \"%s\" -> \"%s\"", key, image_id);
  if (ensure_dir (root, "keys", err) < 0 || ensure_dir (root, "images", err) < 0)
    return -1;
  /* The mark first: a key never leads to an image `images` would show as
   * one the user made. */
  if (fs_write_atomic_nosync (mark_path, "", 0, 0600, err) < 0)
    return -1;
  text = xasprintf ("%s\n", image_id);
  return fs_write_atomic_nosync (key_path, text, strlen (text), 0600, err);
}

bool
build_cache_is_intermediate (const char *root, const char *image_id)
{
  cleanup_free char *path = entry_path (root, "images", image_id);

  return path != NULL && access (path, F_OK) == 0;
}

int
build_cache_unmark (const char *root, const char *image_id, struct error **err)
{
  cleanup_free char *path = entry_path (root, "images", image_id);

  if (path == NULL)
    return err_make (err, 0, "invalid image ID \"%s\"", image_id);
  if (unlink (path) < 0 && errno != ENOENT)
    return err_make (err, errno, "unlink \"%s\"", path);
  return 0;
}

int
build_cache_drop (const char *root, struct error **err)
{
  static const char *const kinds[] = { "keys", "images" };

  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    {
      cleanup_free char *dir = xasprintf ("%s/build-cache/%s", root, kinds[i]);
      if (fs_exists (dir) && fs_remove_tree (dir, err) < 0)
        return err_wrap (err, "drop the build cache");
    }
  return 0;
}

char *
build_cache_mount_dir (const char *root, const char *id, struct error **err)
{
  char hex[SHA256_HEX_LEN + 1];
  cleanup_free char *dir = NULL;

  sha256_buf_hex (id, strlen (id), hex);
  dir = xasprintf ("%s/build-cache/mounts/%s", root, hex);
  if (fs_mkdir_p (dir, 0755, err) < 0)
    return NULL;
  return steal_ptr (&dir);
}
