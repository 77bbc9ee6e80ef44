/* The `build` executor (see build.h), in order:
 *
 *   1. open the context (build_context.h), parse the Dockerfile, load the
 *      ignore file, open the store
 *   2. meta ARGs (before the first FROM) with --build-arg overrides
 *   3. needed_stages: the target stage and, transitively, the stages its
 *      FROM, COPY --from and RUN --mount from= name; the others are skipped
 *   4. for each needed stage: the base (scratch, an earlier stage, or an
 *      image, pulled when missing or with --pull), its ONBUILD triggers,
 *      then one step per instruction.  A step first asks the cache
 *      (build_cache.h) with its key: the parent image, the expanded
 *      instruction, the ARGs RUN sees, the content digest of what COPY
 *      copies or a RUN bind mount shows from the context, the image ID
 *      of a --from or from= image; a hit makes the cached image the
 *      current one without doing anything else (no container, no mount,
 *      no tar)
 *   5. a miss does the work: RUN in a working container (hidden from ps),
 *      committed with container_commit_write_layer; COPY/ADD as
 *      build_copy's tar stored as an uncompressed layer blob (--from reads
 *      the image mounted in a child in the user namespace); WORKDIR as the
 *      directories it lacks; the others as config changes
 *      (build_config.c).  Each step stores an image with
 *      container_commit_store and records it in the cache
 *   6. the final image: --label, --squash (build_squash.c) and --format
 *      docker applied, tagged, its ID printed; with --layers=false the
 *      intermediate images go again */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "build_cache.h"
#include "build_context.h"
#include "build_copy.h"
#include "build_ignore.h"
#include "container.h"
#include "container_commit.h"
#include "container_start.h"
#include "context.h"
#include "image_json.h"
#include "image_pull.h"
#include "images.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/lock.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "manifest.h"
#include "monitor.h"
#include "run_opts.h"
#include "runtime_internal.h"
#include "storage/storage.h"

/* docker's predefined ARGs: usable without an ARG line, and kept out of
 * the history and the cache key. */
static const char *const proxy_args[] = {
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
  "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy",
};

/* The image a step starts from. */
struct image_state
{
  char *id;                  /* NULL for scratch */
  json_object *cfg;          /* the whole image config */
  struct manifest *manifest; /* NULL for scratch */
  char **layers;             /* chain IDs, bottom first */
};

struct build
{
  struct skiff_context *ctx;
  const struct build_opts *o;
  struct build_context *bctx;
  struct build_ignore *ign;
  struct dockerfile *df;
  struct storage_store *s;
  char **build_args;   /* "NAME=value", --build-arg resolved */
  char **meta_args;    /* ARGs before FROM, "NAME=value" */
  bool *is_needed;     /* per stage */
  char **stage_ids;    /* per stage: its image, once built */
  char **temp_images;  /* --layers=false: the steps' images, removed at the end */
  char *final_base_id; /* the last stage's base image, NULL for scratch */
  size_t n_needed;
  unsigned int stage_no; /* 1-based among the needed ones */
  int saved_stdout;      /* -q: our stdout while RUN writes to /dev/null */
};

struct stage_run
{
  struct build *b;
  const struct df_stage *st;
  struct image_state img;
  char **args; /* ARGs in scope, "NAME=value" */
  bool is_cmd_set;
  bool is_last_stage;
  size_t step;
  char *base_id; /* the stage's base, for --squash */
};

static void say (const struct build *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
say (const struct build *b, const char *fmt, ...)
{
  va_list ap;

  if (b->o->is_quiet)
    return;
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
}

static void
image_state_clear (struct image_state *st)
{
  free (st->id);
  json_object_put (st->cfg);
  manifest_free (st->manifest);
  strv_free (st->layers);
  memset (st, 0, sizeof *st);
}

static const char *
hex_of (const char *id)
{
  return images_hex_id (id);
}

/* ---- images: loading a step's state ------------------------------------------------ */

/* Load image ID into *OUT.  0 with OUT->id NULL when the store has no
 * such image (a cache entry whose image was pruned). */
static int
load_image (struct build *b, const char *id, struct image_state *out, struct error **err)
{
  cleanup_image struct storage_image *img = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;

  memset (out, 0, sizeof *out);
  if (storage_image_lookup (b->s, id, &img, err) < 0)
    return -1;
  if (img == NULL)
    return 0;
  out->cfg = image_json_config (b->s, img, err);
  if (out->cfg == NULL)
    return -1;
  if (img->manifest_digest == NULL)
    return err_make (err, 0, "image %s has no manifest to build on", img->id);
  data = storage_blob_read (b->s, img->manifest_digest, MANIFEST_MAX_SIZE, &len, err);
  if (data == NULL || manifest_parse (data, len, img->manifest_type, &out->manifest, err) < 0)
    {
      image_state_clear (out);
      return -1;
    }
  for (char **l = img->layers; l && *l; l++)
    out->layers = strv_append (out->layers, *l);
  out->id = xstrdup (img->id);
  return 0;
}

/* ---- files of an image, read from its layers on the host side ----------------------- */

/* Whether PATH (absolute, clean) exists in the image made of LAYERS, and
 * what it is: found in the topmost layer that has it, unless a whiteout
 * above deletes it.  Symlinks are not followed (a parent that is a symlink
 * counts as missing), which only makes a directory look absent. */
static bool
image_lstat (struct build *b, char **layers, const char *path, struct stat *st)
{
  size_t n = strv_len (layers);
  const char *slash = strrchr (path, '/');
  cleanup_free char *parent = xstrndup (path, (size_t)(slash - path));

  for (size_t i = n; i-- > 0;)
    {
      cleanup_free char *diff = storage_layer_diff_path (b->s, layers[i], NULL);
      cleanup_free char *p = NULL, *wh = NULL;
      if (diff == NULL)
        return false;
      p = xasprintf ("%s%s", diff, path);
      if (lstat (p, st) == 0)
        return !(S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0));
      wh = xasprintf ("%s%s/.wh.%s", diff, parent, slash + 1);
      if (access (wh, F_OK) == 0)
        return false;
    }
  return false;
}

/* The text of a small file of the image (/etc/passwd), or NULL. */
static char *
image_read_file (struct build *b, char **layers, const char *path)
{
  size_t n = strv_len (layers);
  struct stat st;

  if (!image_lstat (b, layers, path, &st) || !S_ISREG (st.st_mode))
    return NULL;
  for (size_t i = n; i-- > 0;)
    {
      cleanup_free char *diff = storage_layer_diff_path (b->s, layers[i], NULL);
      cleanup_free char *p = diff ? xasprintf ("%s%s", diff, path) : NULL;
      struct error *e = NULL;
      char *text;
      if (p == NULL || access (p, F_OK) != 0)
        continue;
      text = fs_read_file (p, 4u << 20, NULL, &e);
      err_release (&e);
      return text;
    }
  return NULL;
}

/* ---- variables ---------------------------------------------------------------------- */

static bool
is_proxy_arg (const char *kv)
{
  for (size_t i = 0; i < sizeof proxy_args / sizeof *proxy_args; i++)
    {
      size_t len = strlen (proxy_args[i]);
      if (strncmp (kv, proxy_args[i], len) == 0 && (kv[len] == '=' || kv[len] == '\0'))
        return true;
    }
  return false;
}

/* The value of NAME in the "NAME=value" list V (the last wins), or NULL. */
static const char *
kv_find (char *const *v, const char *name)
{
  size_t len = strlen (name);
  const char *found = NULL;

  for (; v && *v; v++)
    if (strncmp (*v, name, len) == 0 && (*v)[len] == '=')
      found = *v + len + 1;
  return found;
}

static char **
kv_set (char **v, const char *name, const char *value)
{
  size_t len = strlen (name);

  for (char **p = v; p && *p; p++)
    if (strncmp (*p, name, len) == 0 && (*p)[len] == '=')
      {
        free (*p);
        *p = xasprintf ("%s=%s", name, value);
        return v;
      }
  {
    cleanup_free char *kv = xasprintf ("%s=%s", name, value);
    return strv_append (v, kv);
  }
}

static int
expand_word (const char *word, char escape, unsigned int flags, const struct build_vars *vars,
             char **out, struct error **err)
{
  return df_expand (word, escape, flags, build_vars_lookup, (void *)vars, out, err);
}

/* ARG NAME[=default]: the --build-arg value wins, then the default, then
 * the meta ARG of that name (docker lets a stage re-declare one). */
static int
declare_args (struct build *b, char ***scope, const struct df_instruction *in,
              const struct build_vars *vars, char *const *inherit, struct error **err)
{
  for (size_t i = 0; i < in->n_args; i++)
    {
      cleanup_free char *name = xstrdup (in->args[i]);
      char *eq = strchr (name, '=');
      cleanup_free char *def = NULL;
      const char *value;

      if (eq)
        {
          *eq = '\0';
          if (expand_word (eq + 1, b->df->escape, 0, vars, &def, err) < 0)
            return err_wrap (err, "%s:%u: ARG", b->df->path, in->line);
        }
      if (*name == '\0')
        return err_make (err, 0, "%s:%u: ARG: empty name", b->df->path, in->line);
      value = kv_find (b->build_args, name);
      if (value == NULL)
        value = def;
      if (value == NULL)
        value = kv_find (inherit, name);
      if (value)
        *scope = kv_set (*scope, name, value);
    }
  return 0;
}

/* ---- which stages are needed ------------------------------------------------------- */

static int
stage_ref (struct build *b, const char *word, size_t before, ssize_t *out, struct error **err)
{
  struct build_vars vars = { .args = b->meta_args };
  cleanup_free char *name = NULL;
  const struct df_stage *st;

  *out = -1;
  if (expand_word (word, b->df->escape, 0, &vars, &name, err) < 0)
    return -1;
  st = df_stage_find (b->df, name);
  if (st && st->index < before)
    *out = (ssize_t)st->index;
  return 0;
}

static int
mark_refs (struct build *b, const struct df_stage *st, struct error **err)
{
  ssize_t ref;

  if (stage_ref (b, st->base, st->index, &ref, err) < 0)
    return -1;
  if (ref >= 0)
    b->is_needed[ref] = true;
  for (size_t i = 1; i < st->n_instrs; i++)
    {
      const struct df_instruction *in = &st->instrs[i];
      for (size_t f = 0; f < in->n_flags; f++)
        {
          const char *v = in->flags[f].value, *from;
          if (v == NULL)
            continue;
          if (strcmp (in->flags[f].name, "from") == 0)
            from = v;
          else if (strcmp (in->flags[f].name, "mount") == 0 && (from = strstr (v, "from=")))
            from += 5;
          else
            continue;
          {
            cleanup_free char *word = xstrndup (from, strcspn (from, ","));
            if (stage_ref (b, word, st->index, &ref, err) < 0)
              return -1;
          }
          if (ref >= 0)
            b->is_needed[ref] = true;
        }
    }
  return 0;
}

static int
needed_stages (struct build *b, size_t *target, struct error **err)
{
  const struct df_stage *t = b->df->stages + b->df->n_stages - 1;

  if (b->o->target)
    {
      t = df_stage_find (b->df, b->o->target);
      if (t == NULL)
        return err_make (err, 0, "the target \"%s\" was not found in the provided Dockerfile",
                         b->o->target);
    }
  *target = t->index;
  b->is_needed = xcalloc (b->df->n_stages, sizeof *b->is_needed);
  b->stage_ids = xcalloc (b->df->n_stages + 1, sizeof *b->stage_ids);
  b->is_needed[t->index] = true;
  for (size_t i = t->index + 1; i-- > 0;)
    if (b->is_needed[i] && mark_refs (b, &b->df->stages[i], err) < 0)
      return -1;
  for (size_t i = 0; i <= t->index; i++)
    b->n_needed += b->is_needed[i];
  return 0;
}

/* ---- steps: the common end --------------------------------------------------------- */

static void
now_rfc3339 (char *out, size_t len, int64_t *secs)
{
  struct timespec now;

  clock_gettime (CLOCK_REALTIME, &now);
  human_rfc3339 (now.tv_sec, now.tv_nsec, out, len);
  *secs = now.tv_sec;
}

static void
add_history (json_object *cfg, const char *created, const char *created_by, bool is_empty)
{
  json_object *h = jobj_get_array (cfg, "history");
  json_object *e = json_object_new_object ();

  if (h == NULL)
    {
      h = json_object_new_array ();
      json_object_object_add (cfg, "history", h);
    }
  json_object_object_add (e, "created", json_object_new_string (created));
  json_object_object_add (e, "created_by", json_object_new_string (created_by));
  if (is_empty)
    json_object_object_add (e, "empty_layer", json_object_new_boolean (true));
  json_object_array_add (h, e);
}

static bool
is_last_step (const struct stage_run *sr)
{
  return sr->is_last_stage && sr->step == sr->st->n_instrs;
}

/* Make the image of a step from CFG (the new config, without its history
 * entry yet) and LAYER (NULL: none), record it under KEY and make it the
 * current one. */
static int
finish_step (struct stage_run *sr, json_object *cfg, const char *created_by,
             const struct container_commit_layer *layer, const char *key, struct error **err)
{
  struct build *b = sr->b;
  cleanup_free char *id = NULL;
  char created[64];
  int64_t secs;

  now_rfc3339 (created, sizeof created, &secs);
  json_object_object_add (cfg, "created", json_object_new_string (created));
  if (layer)
    container_commit_config_add_diff_id (cfg, layer->diff_id);
  add_history (cfg, created, created_by, layer == NULL);
  if (container_commit_store (b->ctx, b->s, cfg, sr->img.manifest, layer, false, NULL, secs, &id,
                              err)
      < 0)
    return -1;
  if (b->o->is_layers && key && build_cache_record (b->ctx->root, key, id, err) < 0)
    return -1;
  if (!b->o->is_layers)
    b->temp_images = strv_append (b->temp_images, id);
  image_state_clear (&sr->img);
  if (load_image (b, id, &sr->img, err) < 0)
    return -1;
  if (sr->img.id == NULL)
    return err_make (err, 0, "image %s vanished while building", id);
  if (!is_last_step (sr))
    say (b, "--> %.12s\n", hex_of (id));
  return 0;
}

/* A cache hit for KEY makes its image the current one: 1; 0 on a miss. */
static int
try_cache (struct stage_run *sr, const char *key, struct error **err)
{
  struct build *b = sr->b;
  cleanup_free char *id = NULL;
  struct image_state st;

  if (b->o->is_no_cache || !b->o->is_layers)
    return 0;
  if (build_cache_lookup (b->ctx->root, key, &id, err) < 0)
    return -1;
  if (id == NULL)
    return 0;
  if (load_image (b, id, &st, err) < 0)
    return -1;
  if (st.id == NULL)
    return 0;
  image_state_clear (&sr->img);
  sr->img = st;
  say (b, "--> Using cache %s\n", hex_of (id));
  if (!is_last_step (sr))
    say (b, "--> %.12s\n", hex_of (id));
  return 1;
}

static char *
step_key (struct stage_run *sr, const char *instruction, char *const *args, const char *content)
{
  struct build_cache_step cs = { .parent_id = sr->img.id,
                                 .instruction = instruction,
                                 .build_args = args,
                                 .content_digest = content };
  return build_cache_key (&cs);
}

/* ---- uncompressed layers the builder writes itself ----------------------------------- */

typedef int (*tar_writer_fn) (void *arg, int fd, struct error **err);

/* A layer blob from the tar WRITE (ARG, FD, ERR) puts into FD: stored
 * uncompressed, so its digest is its diff ID. */
static int
store_tar_layer (struct build *b, tar_writer_fn write, void *arg,
                 struct container_commit_layer *layer, struct error **err)
{
  cleanup_blob_stage struct storage_blob_stage *stage = NULL;
  char hex[SHA256_HEX_LEN + 1];
  size_t size = 0;
  int fd;

  if (storage_blob_stage_new (b->s, &stage, err) < 0)
    return -1;
  fd = storage_blob_stage_fd (stage);
  if (write (arg, fd, err) < 0)
    return -1;
  if (lseek (fd, 0, SEEK_SET) < 0)
    return err_make (err, errno, "rewind the layer");
  if (sha256_fd_hex (fd, hex, &size, err) < 0)
    return -1;
  snprintf (layer->digest, sizeof layer->digest, "sha256:%s", hex);
  memcpy (layer->diff_id, layer->digest, sizeof layer->diff_id);
  layer->size = size;
  layer->compression = MANIFEST_COMPRESSION_NONE;
  return storage_blob_stage_commit (b->s, stage, layer->digest, err);
}

/* WORKDIR's directory and its missing parents (DIRS, parents first), as
 * docker makes them: 0755, root's. */
static int
write_dirs_tar (void *arg, int fd, struct error **err)
{
  char *const *dirs = arg;
  struct archive *a = archive_write_new ();
  time_t now = time (NULL);
  int r = 0;

  archive_write_set_format_pax_restricted (a);
  if (archive_write_open_fd (a, fd) != ARCHIVE_OK)
    r = err_make (err, 0, "write the layer: %s", archive_error_string (a));
  for (char *const *d = dirs; r == 0 && *d; d++)
    {
      struct archive_entry *e = archive_entry_new ();
      cleanup_free char *name = xasprintf ("%s/", *d + 1);
      archive_entry_set_pathname (e, name);
      archive_entry_set_filetype (e, AE_IFDIR);
      archive_entry_set_perm (e, 0755);
      archive_entry_set_mtime (e, now, 0);
      if (archive_write_header (a, e) != ARCHIVE_OK)
        r = err_make (err, 0, "write the layer: %s", archive_error_string (a));
      archive_entry_free (e);
    }
  if (r == 0 && archive_write_close (a) != ARCHIVE_OK)
    r = err_make (err, 0, "write the layer: %s", archive_error_string (a));
  archive_write_free (a);
  return r;
}

/* The components of the absolute, clean directory DIR the image made of
 * LAYERS lacks, parents first; NULL when it has them all. */
static char **
missing_dirs (struct build *b, char **layers, const char *dir)
{
  cleanup_free char *path = xstrdup (dir);
  char **out = NULL;
  struct stat st;

  for (char *p = path + 1; *p; p++)
    {
      bool is_end = p[1] == '\0';
      if (*p != '/' && !is_end)
        continue;
      if (*p == '/')
        *p = '\0';
      if (out || !image_lstat (b, layers, path, &st))
        out = strv_append (out, path);
      if (!is_end)
        *p = '/';
    }
  return out;
}

/* ---- config instructions ------------------------------------------------------------ */

/* WORKDIR makes its directory when the image lacks it, as docker does:
 * a layer with the missing directories. */
static int
workdir_step (struct stage_run *sr, json_object *cfg, const char *created_by, const char *key,
              struct error **err)
{
  const char *wd = jobj_get_string (jobj_get_object (cfg, "config"), "WorkingDir");
  cleanup_strv char **dirs = NULL;
  struct container_commit_layer layer;

  if (wd && strcmp (wd, "/") != 0)
    dirs = missing_dirs (sr->b, sr->img.layers, wd);
  if (dirs == NULL)
    return finish_step (sr, cfg, created_by, NULL, key, err);
  if (store_tar_layer (sr->b, write_dirs_tar, dirs, &layer, err) < 0)
    return -1;
  return finish_step (sr, cfg, created_by, &layer, key, err);
}

static int
config_step (struct stage_run *sr, const struct df_instruction *in, struct error **err)
{
  struct build *b = sr->b;
  cleanup_json json_object *cfg = jobj_copy (sr->img.cfg);
  cleanup_free char *text = NULL, *created_by = NULL, *key = NULL;
  /* Words see the environment from before the instruction: in
   * "ENV A=1 B=$A", B gets the old A, as docker does. */
  struct build_vars vars = { .env = jobj_get_array (jobj_get_object (sr->img.cfg, "config"), "Env"),
                             .args = sr->args };
  int r;

  if (build_config_apply (cfg, in, b->df->escape, &vars, sr->is_cmd_set, &text, err) < 0)
    return err_wrap (err, "%s:%u", b->df->path, in->line);
  if (in->kind == DF_CMD)
    sr->is_cmd_set = true;
  created_by = xasprintf ("/bin/sh -c #(nop) %s", text);
  key = step_key (sr, created_by, NULL, NULL);
  r = try_cache (sr, key, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (in->kind == DF_WORKDIR)
    return workdir_step (sr, cfg, created_by, key, err);
  return finish_step (sr, cfg, created_by, NULL, key, err);
}

/* ---- images other steps read from ------------------------------------------------ */

/* An image by name for FROM or --from, pulled as --pull says. */
static int
find_or_pull (struct build *b, const char *name, const char *platform, char **id,
              struct error **err)
{
  struct image_pull_opts po = { .platform = platform, .is_quiet = b->o->is_quiet };
  cleanup_image struct storage_image *img = NULL;

  if (b->o->pull != BUILD_PULL_ALWAYS)
    {
      if (images_find (b->s, name, &img, err) < 0)
        return -1;
      if (img)
        {
          *id = xstrdup (img->id);
          return 0;
        }
      if (b->o->pull == BUILD_PULL_NEVER)
        return err_make (err, 0, "%s: image not known, and --pull=never", name);
    }
  return image_pull (b->ctx, name, &po, id, err);
}

/* --from's image: an earlier stage or an image by name (pulled when
 * missing). */
static int
source_image (struct stage_run *sr, const char *from, struct image_state *out, struct error **err)
{
  struct build *b = sr->b;
  const struct df_stage *st = df_stage_find (b->df, from);
  cleanup_free char *id = NULL;

  if (st && st->index < sr->st->index)
    {
      if (b->stage_ids[st->index] == NULL)
        return err_make (err, 0, "stage \"%s\" was not built", from);
      return load_image (b, b->stage_ids[st->index], out, err);
    }
  if (find_or_pull (b, from, b->o->platform, &id, err) < 0)
    return -1;
  return load_image (b, id, out, err);
}

static char **
lower_dirs (struct build *b, char **layers, struct error **err)
{
  size_t n = strv_len (layers);
  char **out = xcalloc (n + 1, sizeof *out);

  for (size_t i = 0; i < n; i++)
    {
      out[n - 1 - i] = storage_layer_diff_path (b->s, layers[i], err);
      if (out[n - 1 - i] == NULL)
        {
          for (size_t k = n - i; k < n; k++)
            free (out[k]);
          free (out);
          return NULL;
        }
    }
  return out;
}

static int
remove_tree_child (void *arg, struct error **err)
{
  return fs_remove_tree (arg, err);
}

/* A private directory under the store for a child to mount or copy an
 * image into (subordinate-owned files may land there: remove it with
 * remove_scratch_dir). */
static char *
make_scratch_dir (struct build *b, struct error **err)
{
  cleanup_free char *dir
      = xasprintf ("%s/build-cache/tmp-%d-%ld", b->ctx->root, (int)getpid (), (long)random ());

  if (fs_mkdir_p (dir, 0700, err) < 0)
    return NULL;
  return steal_ptr (&dir);
}

static void
remove_scratch_dir (struct build *b, const char *dir)
{
  struct error *e = NULL;

  if (context_run_in_userns (b->ctx, remove_tree_child, (void *)dir, &e) < 0)
    {
      log_warn ("remove \"%s\": %s", dir, e->msg);
      err_release (&e);
    }
}

/* ---- RUN ------------------------------------------------------------------------------ */

struct run_plan
{
  char **argv;         /* the command */
  char **env;          /* "-e" values: the ARGs (not shadowing ENV) and proxies */
  char **mounts;       /* --mount values for the working container */
  char **scratch_dirs; /* made for from= mounts, removed after the step */
  int *locks;          /* held on sharing=locked cache mounts for the step */
  size_t n_locks;
  const char *network;
  char *created_by;
};

static void
run_plan_clear (struct build *b, struct run_plan *p)
{
  for (char **d = p->scratch_dirs; d && *d; d++)
    remove_scratch_dir (b, *d);
  strv_free (p->scratch_dirs);
  for (size_t i = 0; i < p->n_locks; i++)
    close (p->locks[i]);
  free (p->locks);
  strv_free (p->argv);
  strv_free (p->env);
  strv_free (p->mounts);
  free (p->created_by);
}

/* "RUN <<EOF" with nothing else on the line: the document is the script. */
static bool
is_script_doc (const struct df_instruction *in)
{
  cleanup_free char *line = xstrdup (in->n_args ? in->args[0] : "");

  str_strip (line);
  return in->n_heredocs == 1 && str_has_prefix (line, "<<") && strchr (line, ' ') == NULL;
}

/* A script document that starts with "#!" is run as a file, so its
 * interpreter reads it, as BuildKit does: mounted at /dev/pipes/NAME
 * ("script" when NAME is not a plain file name). */
static bool
is_shebang_doc (const struct df_instruction *in)
{
  return is_script_doc (in) && str_has_prefix (in->heredocs[0].content, "#!");
}

static const char *
pipe_name (const struct df_heredoc *doc)
{
  const char *n = doc->name;

  return *n == '\0' || *n == '.' || strchr (n, '/') ? "script" : n;
}

/* The shell's script for BuildKit's heredoc RUN: the document of "RUN
 * <<EOF" alone (or its /dev/pipes path for a "#!" one); anything else goes
 * to the shell whole, the documents put back after the line, so the shell
 * reads them as its own heredocs. */
static char *
run_script (const struct df_instruction *in)
{
  struct buf b = BUF_INIT;

  if (is_shebang_doc (in))
    return xasprintf ("/dev/pipes/%s", pipe_name (&in->heredocs[0]));
  if (is_script_doc (in))
    return xstrdup (in->heredocs[0].content);
  buf_append_str (&b, in->n_args ? in->args[0] : "");
  for (size_t i = 0; i < in->n_heredocs; i++)
    buf_printf (&b, "\n%s%s", in->heredocs[i].content, in->heredocs[i].name);
  return buf_steal (&b);
}

static int
run_env (struct stage_run *sr, struct run_plan *p)
{
  json_object *env = jobj_get_array (jobj_get_object (sr->img.cfg, "config"), "Env");
  struct build_vars vars = { .env = env };

  for (char **a = sr->args; a && *a; a++)
    {
      cleanup_free char *name = xstrndup (*a, strcspn (*a, "="));
      if (build_vars_lookup (name, &vars) == NULL)
        p->env = strv_append (p->env, *a);
    }
  for (char **a = sr->b->build_args; a && *a; a++)
    if (is_proxy_arg (*a))
      p->env = strv_append (p->env, *a);
  return 0;
}

/* A RUN --mount, as BuildKit spells it. */
struct build_mount
{
  const char *type; /* bind (default), cache, tmpfs */
  const char *target;
  const char *source;
  const char *id;
  const char *from;
  const char *sharing; /* cache: shared (default), private, locked */
  const char *uid;     /* cache: owner and mode of the directory */
  const char *gid;
  const char *mode;
  bool is_rw;
};

static bool
key_is (const char *kv, size_t klen, const char *name)
{
  return strlen (name) == klen && strncmp (kv, name, klen) == 0;
}

/* SPEC's words point into PARTS. */
static int
parse_mount (char **parts, const char *spec, struct build_mount *m, struct error **err)
{
  memset (m, 0, sizeof *m);
  m->type = "bind";
  for (char **q = parts; *q; q++)
    {
      char *eq = strchr (*q, '=');
      const char *v = eq ? eq + 1 : "";
      size_t k = eq ? (size_t)(eq - *q) : strlen (*q);
      if (key_is (*q, k, "type"))
        m->type = v;
      else if (key_is (*q, k, "target") || key_is (*q, k, "dst") || key_is (*q, k, "destination"))
        m->target = v;
      else if (key_is (*q, k, "source") || key_is (*q, k, "src"))
        m->source = v;
      else if (key_is (*q, k, "id"))
        m->id = v;
      else if (key_is (*q, k, "from"))
        m->from = v;
      else if (key_is (*q, k, "sharing"))
        m->sharing = v;
      else if (key_is (*q, k, "uid"))
        m->uid = v;
      else if (key_is (*q, k, "gid"))
        m->gid = v;
      else if (key_is (*q, k, "mode"))
        m->mode = v;
      else if (key_is (*q, k, "rw") || key_is (*q, k, "readwrite"))
        m->is_rw = !eq || strcmp (v, "true") == 0;
    }
  if (m->target == NULL || *m->target != '/')
    return err_make (err, 0, "RUN --mount \"%s\": an absolute target is required", spec);
  if (m->sharing && strcmp (m->sharing, "shared") != 0 && strcmp (m->sharing, "private") != 0
      && strcmp (m->sharing, "locked") != 0)
    return err_make (err, 0, "RUN --mount \"%s\": sharing is shared, private or locked", spec);
  return 0;
}

/* The host path of SOURCE resolved beneath ROOT_FD as if it were "/":
 * symlinks and ".." in a context or image never lead outside it. */
static char *
resolve_in_root (int root_fd, const char *source, struct error **err)
{
  cleanup_close int fd = runtime_fs_open_in_root (root_fd, source, O_PATH, 0);
  char link[64], *path;
  ssize_t n;

  if (fd < 0)
    {
      err_make (err, errno, "mount source \"%s\"", source);
      return NULL;
    }
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  path = xmalloc (PATH_MAX);
  n = readlink (link, path, PATH_MAX - 1);
  if (n < 0)
    {
      err_make (err, errno, "resolve mount source \"%s\"", source);
      free (path);
      return NULL;
    }
  path[n] = '\0';
  return path;
}

/* The content digest of SOURCE (a file or directory tree beneath ROOT_FD),
 * as COPY would hash it. */
static int
tree_digest (int root_fd, const char *source, char out[SHA256_DIGEST_STR_LEN], struct error **err)
{
  char *srcs[] = { (char *)source, NULL };
  struct build_copy_opts o = { .instruction = "bind mount",
                               .src_root_fd = root_fd,
                               .srcs = srcs,
                               .n_srcs = 1,
                               .dest = "/mount/",
                               .dest_root_fd = -1 };
  cleanup_build_copy struct build_copy *c = NULL;

  if (build_copy_prepare (&o, &c, err) < 0)
    return -1;
  return build_copy_digest (c, out, err);
}

/* In the user namespace: a copy of the image's layers, merged, in
 * <dir>/rootfs (the vfs driver's way, which needs no mount that would
 * have to outlive this child). */
struct materialize_job
{
  char **lower;
  const char *dir;
  bool is_rootless;
};

static int
materialize_child (void *arg, struct error **err)
{
  struct materialize_job *m = arg;
  struct storage_rootfs_req req
      = { .lower_dirs = m->lower, .container_dir = m->dir, .is_rootless = m->is_rootless };

  return storage_rootfs_vfs_prepare (&req, err);
}

/* from=STAGE|IMAGE: its root file system as a scratch directory the
 * plan removes after the step; *ROOT gets its path. */
static int
mount_from_root (struct stage_run *sr, const char *from, struct run_plan *p, char **root,
                 struct error **err)
{
  struct build *b = sr->b;
  struct image_state img = { 0 };
  struct materialize_job m = { .is_rootless = b->ctx->is_rootless };
  cleanup_free char *dir = NULL;
  int r;

  r = source_image (sr, from, &img, err);
  if (r == 0)
    {
      m.lower = lower_dirs (b, img.layers, err);
      r = m.lower ? 0 : -1;
    }
  if (r == 0)
    {
      dir = make_scratch_dir (b, err);
      r = dir ? 0 : -1;
    }
  if (r == 0)
    {
      p->scratch_dirs = strv_append (p->scratch_dirs, dir);
      m.dir = dir;
      r = context_run_in_userns (b->ctx, materialize_child, &m, err);
    }
  if (r == 0)
    *root = xasprintf ("%s/rootfs", dir);
  strv_free (m.lower);
  image_state_clear (&img);
  return r;
}

/* A copy of SRC (a host path: a file or a directory tree of the context)
 * in a scratch directory the plan removes after the step; *OUT gets its
 * path.  For rw mounts, whose writes BuildKit throws away. */
static int
scratch_copy (struct stage_run *sr, const char *src, struct run_plan *p, char **out,
              struct error **err)
{
  cleanup_free char *dir = make_scratch_dir (sr->b, err);
  cleanup_free char *copy = NULL;
  cleanup_close int from = -1, to = -1;
  struct stat st;

  if (dir == NULL)
    return -1;
  p->scratch_dirs = strv_append (p->scratch_dirs, dir);
  copy = xasprintf ("%s/rw", dir);
  if (stat (src, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", src);
  if (!S_ISDIR (st.st_mode))
    {
      if (fs_copy_file (src, copy, st.st_mode & 07777, err) < 0)
        return -1;
    }
  else
    {
      if (mkdir (copy, st.st_mode & 07777) < 0)
        return err_make (err, errno, "mkdir \"%s\"", copy);
      from = open (src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      to = open (copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (from < 0 || to < 0)
        return err_make (err, errno, "open \"%s\" to copy it", from < 0 ? src : copy);
      if (runtime_fs_copy_tree (from, to, err) < 0)
        return -1;
    }
  *out = steal_ptr (&copy);
  return 0;
}

static int
mount_bind (struct stage_run *sr, const struct build_mount *bm, struct run_plan *p, char **out,
            struct error **err)
{
  struct build *b = sr->b;
  cleanup_free char *root = NULL, *src = NULL, *rw = NULL;
  cleanup_close int root_fd = -1;

  if (bm->from)
    {
      if (mount_from_root (sr, bm->from, p, &root, err) < 0)
        return -1;
      root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  else if (b->bctx->dirfd >= 0)
    root_fd = fcntl (b->bctx->dirfd, F_DUPFD_CLOEXEC, 3);
  else
    return err_make (err, 0, "the build has no context to mount");
  if (root_fd < 0)
    return err_make (err, errno, "open the mount's source tree");
  src = resolve_in_root (root_fd, bm->source ? bm->source : "/", err);
  if (src == NULL)
    return -1;
  if (!bm->is_rw)
    {
      *out = xasprintf ("type=bind,source=%s,target=%s,ro", src, bm->target);
      return 0;
    }
  /* rw: the step may write, and its writes are thrown away, as BuildKit
   * does.  A from= root is already a scratch copy; the context is copied
   * first, so it is never written. */
  if (bm->from == NULL && scratch_copy (sr, src, p, &rw, err) < 0)
    return -1;
  *out = xasprintf ("type=bind,source=%s,target=%s,rw", rw ? rw : src, bm->target);
  return 0;
}

/* In the user namespace: the cache directory's owner and mode, as the
 * mount's uid=, gid= and mode= ask. */
struct cache_owner
{
  const char *dir;
  uid_t uid;
  gid_t gid;
  mode_t mode;
  bool has_owner, has_mode;
};

static int
cache_owner_child (void *arg, struct error **err)
{
  struct cache_owner *o = arg;

  if (o->has_owner && chown (o->dir, o->uid, o->gid) < 0)
    return err_make (err, errno, "chown the cache mount");
  if (o->has_mode && chmod (o->dir, o->mode) < 0)
    return err_make (err, errno, "chmod the cache mount");
  return 0;
}

static int
set_cache_owner (struct build *b, const struct build_mount *bm, const char *dir, struct error **err)
{
  struct cache_owner o = { .dir = dir };
  uint64_t uid = 0, gid = 0, mode = 0;

  if (bm->uid && parse_uint (bm->uid, UINT32_MAX - 1, "uid", &uid, err) < 0)
    return -1;
  if (bm->gid && parse_uint (bm->gid, UINT32_MAX - 1, "gid", &gid, err) < 0)
    return -1;
  if (bm->mode)
    {
      char *end;
      mode = strtoul (bm->mode, &end, 8);
      if (*bm->mode == '\0' || *end != '\0' || mode > 07777)
        return err_make (err, 0, "invalid mode \"%s\"", bm->mode);
    }
  o.has_owner = bm->uid || bm->gid;
  o.has_mode = bm->mode != NULL;
  o.uid = (uid_t)uid;
  o.gid = (gid_t)gid;
  o.mode = (mode_t)mode;
  if (!o.has_owner && !o.has_mode)
    return 0;
  return context_run_in_userns (b->ctx, cache_owner_child, &o, err);
}

/* type=cache: a directory of the store kept across builds, by id (the
 * target by default); sharing=locked or private holds a lock on it for the
 * step, so concurrent builds take turns. */
static int
mount_cache (struct stage_run *sr, const struct build_mount *bm, struct run_plan *p, char **out,
             struct error **err)
{
  struct build *b = sr->b;
  cleanup_free char *dir = build_cache_mount_dir (b->ctx->root, bm->id ? bm->id : bm->target, err);
  int lk;

  if (dir == NULL)
    return -1;
  if (bm->sharing && strcmp (bm->sharing, "shared") != 0)
    {
      cleanup_free char *lock_path = xasprintf ("%s.lock", dir);
      lk = lock_acquire (lock_path, LOCK_EXCLUSIVE_MODE, err);
      if (lk < 0)
        return -1;
      p->locks = xrealloc (p->locks, (p->n_locks + 1) * sizeof *p->locks);
      p->locks[p->n_locks++] = lk;
    }
  if (set_cache_owner (b, bm, dir, err) < 0)
    return -1;
  *out = xasprintf ("type=bind,source=%s,target=%s", dir, bm->target);
  return 0;
}

/* One --mount of RUN as the working container's --mount. */
static int
run_mount (struct stage_run *sr, const char *spec, struct run_plan *p, struct error **err)
{
  cleanup_strv char **parts = str_split (spec, ',');
  cleanup_free char *m = NULL;
  struct build_mount bm;

  if (parse_mount (parts, spec, &bm, err) < 0)
    return -1;
  if (strcmp (bm.type, "cache") == 0)
    {
      if (mount_cache (sr, &bm, p, &m, err) < 0)
        return err_wrap (err, "RUN --mount \"%s\"", spec);
    }
  else if (strcmp (bm.type, "bind") == 0)
    {
      if (mount_bind (sr, &bm, p, &m, err) < 0)
        return err_wrap (err, "RUN --mount \"%s\"", spec);
    }
  else if (strcmp (bm.type, "tmpfs") == 0)
    m = xasprintf ("type=tmpfs,target=%s", bm.target);
  else
    return err_make (err, 0, "RUN --mount \"%s\": unsupported type \"%s\"", spec, bm.type);
  p->mounts = strv_append (p->mounts, m);
  return 0;
}

/* The history's text: docker's "|N NAME=value ..." prefix for the ARGs
 * the command saw, then the command. */
static char *
run_created_by (struct stage_run *sr, char *const *argv)
{
  struct buf cb = BUF_INIT;
  size_t n_args = 0;

  for (char **a = sr->args; a && *a; a++)
    n_args += !is_proxy_arg (*a);
  if (n_args)
    {
      buf_printf (&cb, "|%zu", n_args);
      for (char **a = sr->args; a && *a; a++)
        if (!is_proxy_arg (*a))
          buf_printf (&cb, " %s", *a);
      buf_append_char (&cb, ' ');
    }
  for (char *const *a = argv; *a; a++)
    buf_printf (&cb, "%s%s", a == argv ? "" : " ", *a);
  return buf_steal (&cb);
}

/* What a mount adds to the step's identity: for a bind mount, what it
 * shows: the from= image's ID, or the content of the context's files. */
static int
mount_identity (struct stage_run *sr, const char *spec, struct buf *kt, struct error **err)
{
  struct build *b = sr->b;
  cleanup_strv char **parts = str_split (spec, ',');
  struct build_mount bm;
  struct image_state img = { 0 };
  char digest[SHA256_DIGEST_STR_LEN];

  if (parse_mount (parts, spec, &bm, err) < 0)
    return -1;
  buf_printf (kt, "\nmount=%s", spec);
  if (strcmp (bm.type, "bind") != 0)
    return 0;
  if (bm.from)
    {
      if (source_image (sr, bm.from, &img, err) < 0)
        return -1;
      buf_printf (kt, "@%s", img.id);
      image_state_clear (&img);
      return 0;
    }
  if (b->bctx->dirfd < 0)
    return 0;
  if (tree_digest (b->bctx->dirfd, bm.source ? bm.source : "/", digest, err) < 0)
    return err_wrap (err, "RUN --mount \"%s\"", spec);
  buf_printf (kt, "@%s", digest);
  return 0;
}

/* The step's cache key: the instruction, its command and network, its
 * mounts, and the ARGs it sees. */
static int
run_key (struct stage_run *sr, const struct df_instruction *in, const struct run_plan *p,
         char **key, struct error **err)
{
  cleanup_buf struct buf kt = BUF_INIT;
  cleanup_strv char **key_args = NULL;

  for (char **a = sr->args; a && *a; a++)
    if (!is_proxy_arg (*a))
      key_args = strv_append (key_args, *a);
  buf_printf (&kt, "%s\n%s\nnetwork=%s", in->original, p->created_by,
              p->network ? p->network : "default");
  for (size_t i = 0; i < in->n_heredocs; i++)
    buf_printf (&kt, "\nheredoc %zu:%s", strlen (in->heredocs[i].content), in->heredocs[i].content);
  for (size_t f = 0; f < in->n_flags; f++)
    if (strcmp (in->flags[f].name, "mount") == 0 && in->flags[f].value
        && mount_identity (sr, in->flags[f].value, &kt, err) < 0)
      return err_wrap (err, "%s:%u", sr->b->df->path, in->line);
  *key = step_key (sr, kt.data, key_args, NULL);
  return 0;
}

/* The mounts, set up once the cache missed. */
static int
mount_shebang_doc (struct stage_run *sr, const struct df_heredoc *doc, struct run_plan *p,
                   struct error **err)
{
  cleanup_free char *dir = make_scratch_dir (sr->b, err), *file = NULL, *m = NULL;

  if (dir == NULL)
    return -1;
  p->scratch_dirs = strv_append (p->scratch_dirs, dir);
  file = xasprintf ("%s/script", dir);
  if (fs_write_atomic_nosync (file, doc->content, strlen (doc->content), 0755, err) < 0)
    return -1;
  m = xasprintf ("type=bind,source=%s,target=/dev/pipes/%s,ro", file, pipe_name (doc));
  p->mounts = strv_append (p->mounts, m);
  return 0;
}

static int
run_mounts (struct stage_run *sr, const struct df_instruction *in, struct run_plan *p,
            struct error **err)
{
  if (is_shebang_doc (in) && mount_shebang_doc (sr, &in->heredocs[0], p, err) < 0)
    return err_wrap (err, "%s:%u", sr->b->df->path, in->line);
  for (size_t f = 0; f < in->n_flags; f++)
    if (strcmp (in->flags[f].name, "mount") == 0 && in->flags[f].value
        && run_mount (sr, in->flags[f].value, p, err) < 0)
      return err_wrap (err, "%s:%u", sr->b->df->path, in->line);
  return 0;
}

static int
run_plan_make (struct stage_run *sr, const struct df_instruction *in, struct run_plan *p,
               struct error **err)
{
  cleanup_strv char **shell = build_config_shell (sr->img.cfg);

  if (in->is_json)
    for (size_t i = 0; i < in->n_args; i++)
      p->argv = strv_append (p->argv, in->args[i]);
  else
    {
      cleanup_free char *script = run_script (in);
      for (char **s = shell; *s; s++)
        p->argv = strv_append (p->argv, *s);
      p->argv = strv_append (p->argv, script);
    }
  if (p->argv == NULL || p->argv[0] == NULL)
    return err_make (err, 0, "%s:%u: RUN: no command", sr->b->df->path, in->line);
  run_env (sr, p);
  p->network = df_flag (in, "network");
  if (p->network == NULL)
    p->network = sr->b->o->network;
  if (p->network && strcmp (p->network, "default") == 0)
    p->network = NULL;
  if (p->network && strcmp (p->network, "none") != 0 && strcmp (p->network, "host") != 0)
    return err_make (err, 0, "%s:%u: RUN --network=%s: use none, host or default", sr->b->df->path,
                     in->line, p->network);
  p->created_by = run_created_by (sr, p->argv);
  return 0;
}

/* The working container of a RUN step: docker's creation config for the
 * command, hidden from ps ("BuildContainer"), its output straight to ours. */
static int
create_working_container (struct stage_run *sr, const struct run_plan *p, struct container **out,
                          struct error **err)
{
  struct build *b = sr->b;
  struct run_opts o;
  cleanup_json json_object *config = NULL;

  memset (&o, 0, sizeof o);
  o.stop_timeout = -1;
  o.has_sig_proxy = true;
  o.is_attach_stdout = o.is_attach_stderr = true;
  o.log_driver = (char *)"passthrough";
  o.entrypoint = (char *)"";
  o.has_entrypoint = true;
  o.command = p->argv;
  o.env = p->env;
  o.mounts = p->mounts;
  o.network = (char *)p->network;
  o.image = sr->img.id;
  config = run_opts_to_config (&o, jobj_get_object (sr->img.cfg, "config"), sr->img.id, sr->img.id,
                               err);
  if (config == NULL || run_opts_choose_driver (b->ctx, config, err) < 0)
    return -1;
  json_object_object_add (config, "BuildContainer", json_object_new_boolean (true));
  if (context_ensure_runroot (b->ctx, err) < 0)
    return -1;
  return container_create (b->ctx, config, NULL, false, NULL, out, err);
}

static void
quiet_end (struct build *b)
{
  if (b->saved_stdout < 0)
    return;
  dup2 (b->saved_stdout, 1);
  close (b->saved_stdout);
  b->saved_stdout = -1;
}

/* -q: the commands' output goes nowhere, ours stays for the ID. */
static int
quiet_begin (struct build *b, struct error **err)
{
  int devnull;

  if (!b->o->is_quiet)
    return 0;
  fflush (stdout);
  b->saved_stdout = fcntl (1, F_DUPFD_CLOEXEC, 3);
  devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (b->saved_stdout < 0 || devnull < 0 || dup2 (devnull, 1) < 0)
    {
      int e = errno;
      if (devnull >= 0)
        close (devnull);
      quiet_end (b);
      return err_make (err, e, "redirect the output of RUN");
    }
  close (devnull);
  return 0;
}

static int
run_container (struct stage_run *sr, struct container *c, const struct df_instruction *in,
               struct error **err)
{
  struct build *b = sr->b;
  struct monitor_opts mo = { .has_sig_proxy = true, .is_attached = true };
  cleanup_close int lk = -1;
  int code = 0, r;

  lk = container_lock (b->ctx, c, err);
  if (lk < 0)
    return -1;
  fflush (stdout);
  if (quiet_begin (b, err) < 0)
    return -1;
  r = monitor_foreground (b->ctx, c, &mo, &lk, &code, err);
  quiet_end (b);
  if (r < 0)
    return err_wrap (err, "building at STEP \"%s\"", in->original);
  if (code != 0)
    return err_make_code (err, code, 0,
                          "building at STEP \"%s\": while running runtime: exit status %d",
                          in->original, code);
  return 0;
}

static void
remove_container (struct build *b, struct container *c)
{
  struct error *e = NULL;

  if (container_remove (b->ctx, c, &e) < 0)
    {
      log_warn ("remove the working container %s: %s", c->name, e->msg);
      err_release (&e);
    }
}

static int
run_step (struct stage_run *sr, const struct df_instruction *in, struct error **err)
{
  struct build *b = sr->b;
  struct run_plan p = { 0 };
  cleanup_container struct container *c = NULL;
  cleanup_json json_object *cfg = NULL;
  cleanup_free char *key = NULL;
  struct container_commit_layer layer;
  int r;

  if (sr->img.id == NULL)
    return err_make (err, 0, "%s:%u: RUN needs a base image with a shell, not scratch", b->df->path,
                     in->line);
  r = run_plan_make (sr, in, &p, err);
  if (r == 0)
    r = run_key (sr, in, &p, &key, err);
  if (r == 0)
    r = try_cache (sr, key, err);
  if (r == 0)
    r = run_mounts (sr, in, &p, err);
  if (r == 0)
    r = create_working_container (sr, &p, &c, err);
  if (r == 0)
    {
      r = run_container (sr, c, in, err);
      if (r == 0)
        r = container_commit_write_layer (b->ctx, b->s, c, &layer, err);
      remove_container (b, c);
    }
  if (r == 0)
    {
      cfg = jobj_copy (sr->img.cfg);
      r = finish_step (sr, cfg, p.created_by, &layer, key, err);
    }
  run_plan_clear (b, &p);
  return r > 0 ? 0 : r;
}

/* ---- COPY and ADD -------------------------------------------------------------------- */

struct copy_job
{
  struct build *b;
  struct build_copy_opts co;
  int blob_fd;                        /* -1: only the digest */
  char digest[SHA256_DIGEST_STR_LEN]; /* from the context: the content digest */
  char **lower;                       /* --from: the image's layer dirs, top first */
  char **dest_layers;                 /* the current image's, top first */
  const char *tmp_dir;                /* --from: where its root is mounted */
  const char *driver;
  const char *mount_program;
  bool is_rootless;
  struct build_copy *plan; /* prepared once, see copy_work */
};

/* The digest and, on a cache miss, the tar come from one plan: an ADD of a
 * URL is downloaded once, and the layer holds exactly the bytes the cache
 * key was made from. */
static int
copy_work (struct copy_job *j, struct error **err)
{
  if (j->plan == NULL && build_copy_prepare (&j->co, &j->plan, err) < 0)
    return -1;
  if (j->blob_fd < 0)
    return build_copy_digest (j->plan, j->digest, err);
  return build_copy_write (j->plan, j->blob_fd, err);
}

/* In the user namespace: the --from image's root mounted (with a scratch
 * upper in TMP_DIR that nothing writes to), the copy made from it, then
 * unmounted. */
static int
copy_from_child (void *arg, struct error **err)
{
  struct copy_job *j = arg;
  const struct storage_rootfs_driver *d = storage_rootfs_driver_get (j->driver);
  struct storage_rootfs_req req = { .lower_dirs = j->lower,
                                    .container_dir = j->tmp_dir,
                                    .mount_program = j->mount_program,
                                    .is_rootless = j->is_rootless };
  cleanup_free char *target = NULL;
  cleanup_close int root = -1;
  struct error *e2 = NULL;
  int r;

  if (d == NULL)
    return err_make (err, 0, "unknown storage driver \"%s\"", j->driver);
  if (storage_rootfs_mount (d, &req, &target, err) < 0)
    return -1;
  root = open (target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    r = err_make (err, errno, "open \"%s\"", target);
  else
    {
      j->co.src_root_fd = root;
      r = copy_work (j, err);
      build_copy_freep (&j->plan); /* it holds the mount open */
    }
  if (storage_rootfs_unmount (d, j->tmp_dir, &e2) < 0)
    err_release (&e2);
  return r;
}

static int
copy_from_image (struct build *b, struct copy_job *j, struct error **err)
{
  cleanup_free char *tmp = make_scratch_dir (b, err);
  int r;

  if (tmp == NULL)
    return -1;
  j->tmp_dir = tmp;
  j->is_rootless = b->ctx->is_rootless;
  /* A child in its own mount namespace (and user namespace, rootless):
   * the mount never shows outside it. */
  r = context_run_in_userns (b->ctx, copy_from_child, j, err);
  remove_scratch_dir (b, tmp);
  return r;
}

static int
run_copy (struct build *b, struct copy_job *j, struct error **err)
{
  if (j->lower)
    return copy_from_image (b, j, err);
  return copy_work (j, err);
}

/* --chown: numbers as they are, names from the image's /etc/passwd and
 * /etc/group (runc's rules, as the runtime resolves USER); without a
 * group, the group ID is the user ID, as docker documents. */
static int
resolve_chown (struct stage_run *sr, const char *spec, long *uid, long *gid, struct error **err)
{
  cleanup_free char *passwd = image_read_file (sr->b, sr->img.layers, "/etc/passwd");
  cleanup_free char *group = image_read_file (sr->b, sr->img.layers, "/etc/group");
  struct runtime_user u = { 0 };

  if (runtime_user_resolve (spec, passwd, group, NULL, &u, err) < 0)
    return err_wrap (err, "--chown=%s", spec);
  *uid = (long)u.uid;
  *gid = strchr (spec, ':') ? (long)u.gid : (long)u.uid;
  runtime_user_clear (&u);
  return 0;
}

/* The destination, WORKDIR joined; "." and "dir/." name directories.
 * Whether it exists as a directory is build_copy's to find out. */
static char *
copy_dest (struct stage_run *sr, const char *word)
{
  const char *wd = jobj_get_string (jobj_get_object (sr->img.cfg, "config"), "WorkingDir");
  bool is_dot = strcmp (word, ".") == 0 || str_has_suffix (word, "/.");
  cleanup_free char *dest = NULL;

  if (*word == '/')
    dest = xstrdup (word);
  else
    dest = xasprintf ("%s/%s", wd && *wd ? wd : "", word);
  if (is_dot)
    dest[strlen (dest) - 1] = '\0'; /* "dir/." is "dir/" */
  return steal_ptr (&dest);
}

struct copy_words
{
  char **srcs;
  char *dest;
  struct df_heredoc *heredocs;
  size_t n_heredocs;
};

static void
copy_words_clear (struct copy_words *w)
{
  strv_free (w->srcs);
  free (w->dest);
  for (size_t i = 0; i < w->n_heredocs; i++)
    free (w->heredocs[i].content);
  free (w->heredocs);
}

static int
expand_copy_words (struct stage_run *sr, const struct df_instruction *in, struct copy_words *w,
                   struct error **err)
{
  struct build *b = sr->b;
  json_object *env = jobj_get_array (jobj_get_object (sr->img.cfg, "config"), "Env");
  struct build_vars vars = { .env = env, .args = sr->args };
  unsigned int flags = in->is_json ? DF_EXPAND_NO_QUOTES : 0;
  cleanup_free char *dest = NULL;

  if (in->n_args < 2 && !(in->n_args == 1 && in->n_heredocs > 0))
    return err_make (err, 0, "%s:%u: %s requires at least two arguments", b->df->path, in->line,
                     df_kind_name (in->kind));
  for (size_t i = 0; i + 1 < in->n_args; i++)
    {
      cleanup_free char *s = NULL;
      if (str_has_prefix (in->args[i], "<<"))
        s = xstrdup (in->args[i]);
      else if (expand_word (in->args[i], b->df->escape, flags, &vars, &s, err) < 0)
        return err_wrap (err, "%s:%u: %s", b->df->path, in->line, df_kind_name (in->kind));
      w->srcs = strv_append (w->srcs, s);
    }
  if (expand_word (in->args[in->n_args - 1], b->df->escape, flags, &vars, &dest, err) < 0)
    return err_wrap (err, "%s:%u: %s", b->df->path, in->line, df_kind_name (in->kind));
  w->heredocs = xcalloc (in->n_heredocs + 1, sizeof *w->heredocs);
  w->n_heredocs = in->n_heredocs;
  for (size_t i = 0; i < in->n_heredocs; i++)
    {
      w->heredocs[i] = in->heredocs[i];
      w->heredocs[i].content = NULL;
      if (in->heredocs[i].is_expand)
        {
          if (expand_word (in->heredocs[i].content, b->df->escape, DF_EXPAND_NO_QUOTES, &vars,
                           &w->heredocs[i].content, err)
              < 0)
            return err_wrap (err, "%s:%u: heredoc", b->df->path, in->line);
        }
      else
        w->heredocs[i].content = xstrdup (in->heredocs[i].content);
    }
  w->dest = copy_dest (sr, dest);
  return 0;
}

static int
copy_opts (struct stage_run *sr, const struct df_instruction *in, struct copy_words *w,
           struct copy_job *j, struct error **err)
{
  struct build *b = sr->b;
  const char *chown = df_flag (in, "chown");

  j->co.instruction = df_kind_name (in->kind);
  j->co.is_add = in->kind == DF_ADD;
  j->co.src_root_fd = b->bctx->dirfd;
  j->co.ignore = b->ign;
  j->co.srcs = w->srcs;
  j->co.n_srcs = strv_len (w->srcs);
  j->co.heredocs = w->heredocs;
  j->co.n_heredocs = w->n_heredocs;
  j->co.dest = w->dest;
  j->co.dest_root_fd = -1;
  /* The image so far, seen through its layer directories: an existing
   * destination directory, symlinks on the way, parents' metadata. */
  if (sr->img.layers && sr->img.layers[0])
    {
      const struct userns_config *uc = context_userns (b->ctx, err);
      if (uc == NULL)
        return -1;
      j->dest_layers = lower_dirs (b, sr->img.layers, err);
      if (j->dest_layers == NULL)
        return -1;
      j->co.dest_layers = j->dest_layers;
      if (uc->is_rootless)
        {
          j->co.dest_uidmap = &uc->uidmap;
          j->co.dest_gidmap = &uc->gidmap;
        }
    }
  j->co.uid = j->co.gid = 0;
  j->co.chmod = df_flag (in, "chmod");
  j->blob_fd = -1;
  if (chown)
    {
      struct build_vars vars = { .args = sr->args };
      cleanup_free char *spec = NULL;
      if (expand_word (chown, b->df->escape, 0, &vars, &spec, err) < 0)
        return err_wrap (err, "%s:%u: --chown", b->df->path, in->line);
      if (resolve_chown (sr, spec, &j->co.uid, &j->co.gid, err) < 0)
        return err_wrap (err, "%s:%u", b->df->path, in->line);
      j->co.has_chown = true;
    }
  return 0;
}

/* build_copy's tar, in this process or the --from child. */
static int
write_copy_tar (void *arg, int fd, struct error **err)
{
  struct copy_job *j = arg;

  j->blob_fd = fd;
  return run_copy (j->b, j, err);
}

/* --from: the image to copy out of, mounted by a child at write time. */
static int
copy_from_setup (struct stage_run *sr, const char *from_ref, struct copy_job *j,
                 struct image_state *from, json_object *driver_cfg, struct error **err)
{
  struct build *b = sr->b;
  struct build_vars vars = { .args = sr->args };
  cleanup_free char *name = NULL;

  if (expand_word (from_ref, b->df->escape, 0, &vars, &name, err) < 0
      || source_image (sr, name, from, err) < 0)
    return -1;
  j->co.ignore = NULL;
  j->co.src_root_fd = -1;
  /* docker keeps the owners of what comes from an image */
  if (!j->co.has_chown)
    j->co.uid = j->co.gid = -1;
  j->lower = lower_dirs (b, from->layers, err);
  if (j->lower == NULL || run_opts_choose_driver (b->ctx, driver_cfg, err) < 0)
    return -1;
  j->driver = jobj_get_string (driver_cfg, "Driver");
  j->mount_program = jobj_get_string (driver_cfg, "MountProgram");
  return 0;
}

/* What identifies the copy.  From the context: the sources' content digest
 * (all files read and hashed).  From an image: its ID, which fixes every
 * byte in it, with the source words; so a cache hit needs no mount. */
static int
copy_identity (struct build *b, const struct df_instruction *in, struct copy_job *j,
               const struct copy_words *w, const struct image_state *from, char **created_by,
               char **key_text, char **content, struct error **err)
{
  cleanup_free char *srcs = NULL;

  if (from->id == NULL)
    {
      if (run_copy (b, j, err) < 0)
        return -1;
      *created_by = xasprintf ("/bin/sh -c #(nop) %s %s in %s", df_kind_name (in->kind), j->digest,
                               w->dest);
      *key_text = xstrdup (*created_by);
      *content = xstrdup (j->digest);
      return 0;
    }
  srcs = str_join (w->srcs, " ");
  *created_by = xasprintf ("/bin/sh -c #(nop) %s --from=%.12s %s in %s", df_kind_name (in->kind),
                           hex_of (from->id), srcs, w->dest);
  *key_text = xasprintf ("%s\nchown=%ld:%ld\nchmod=%s", *created_by, j->co.uid, j->co.gid,
                         j->co.chmod ? j->co.chmod : "");
  *content = xstrdup (from->id);
  return 0;
}

static int
copy_step (struct stage_run *sr, const struct df_instruction *in, struct error **err)
{
  struct build *b = sr->b;
  struct copy_words w = { 0 };
  struct copy_job j = { .b = b };
  struct image_state from = { 0 };
  struct container_commit_layer layer;
  cleanup_free char *key = NULL, *created_by = NULL, *key_text = NULL, *content = NULL;
  const char *from_ref = df_flag (in, "from");
  cleanup_json json_object *driver_cfg = json_object_new_object ();
  int r;

  r = expand_copy_words (sr, in, &w, err);
  if (r == 0)
    r = copy_opts (sr, in, &w, &j, err);
  if (r == 0 && from_ref)
    r = copy_from_setup (sr, from_ref, &j, &from, driver_cfg, err);
  if (r == 0)
    r = copy_identity (b, in, &j, &w, &from, &created_by, &key_text, &content, err);
  if (r == 0)
    {
      key = step_key (sr, key_text, NULL, content);
      r = try_cache (sr, key, err);
    }
  if (r == 0)
    r = store_tar_layer (b, write_copy_tar, &j, &layer, err);
  if (r == 0)
    {
      cleanup_json json_object *cfg = jobj_copy (sr->img.cfg);
      r = finish_step (sr, cfg, created_by, &layer, key, err);
    }
  if (r < 0 && (*err)->code == 0)
    err_wrap (err, "building at STEP \"%s\"", in->original);
  copy_words_clear (&w);
  image_state_clear (&from);
  strv_free (j.lower);
  strv_free (j.dest_layers);
  build_copy_free (j.plan);
  return r > 0 ? 0 : r;
}

/* ---- stages ------------------------------------------------------------------------- */

/* The config of an empty image for this machine. */
static json_object *
scratch_config (void)
{
  json_object *cfg = json_object_new_object ();
  json_object *rootfs = json_object_new_object ();
  struct manifest_platform p = { 0 };

  manifest_platform_host (&p);
  json_object_object_add (cfg, "architecture", json_object_new_string (p.architecture));
  json_object_object_add (cfg, "os", json_object_new_string (p.os));
  json_object_object_add (cfg, "config", json_object_new_object ());
  json_object_object_add (rootfs, "type", json_object_new_string ("layers"));
  json_object_object_add (rootfs, "diff_ids", json_object_new_array ());
  json_object_object_add (cfg, "rootfs", rootfs);
  manifest_platform_clear (&p);
  return cfg;
}

static int
from_step (struct stage_run *sr, struct error **err)
{
  struct build *b = sr->b;
  const struct df_stage *st = sr->st;
  struct build_vars vars = { .args = b->meta_args };
  cleanup_free char *base = NULL, *platform = NULL, *id = NULL;
  const struct df_stage *prev;

  if (expand_word (st->base, b->df->escape, 0, &vars, &base, err) < 0)
    return err_wrap (err, "%s:%u: FROM", b->df->path, st->instrs[0].line);
  if (*base == '\0')
    return err_make (err, 0, "%s:%u: FROM: base name \"%s\" should not be blank", b->df->path,
                     st->instrs[0].line, st->base);
  if (st->platform && expand_word (st->platform, b->df->escape, 0, &vars, &platform, err) < 0)
    return err_wrap (err, "%s:%u: FROM --platform", b->df->path, st->instrs[0].line);
  prev = df_stage_find (b->df, base);
  if (strcmp (base, "scratch") == 0)
    {
      sr->img.cfg = scratch_config ();
      return 0;
    }
  if (prev && prev->index < st->index)
    id = xstrdup (b->stage_ids[prev->index]);
  else if (find_or_pull (b, base, platform ? platform : b->o->platform, &id, err) < 0)
    return -1;
  if (load_image (b, id, &sr->img, err) < 0)
    return -1;
  if (sr->img.id == NULL)
    return err_make (err, 0, "base image %s vanished", id);
  sr->base_id = xstrdup (id);
  return 0;
}

static int do_step (struct stage_run *sr, const struct df_instruction *in, struct error **err);

/* A base image's ONBUILD triggers run right after FROM, and the new image
 * does not inherit them. */
static int
onbuild_triggers (struct stage_run *sr, struct error **err)
{
  json_object *inner = jobj_get_object (sr->img.cfg, "config");
  json_object *triggers = jobj_get_array (inner, "OnBuild");
  cleanup_json json_object *copy = NULL;

  if (triggers == NULL || json_object_array_length (triggers) == 0)
    return 0;
  copy = json_object_get (triggers);
  json_object_object_del (inner, "OnBuild");
  for (size_t i = 0; i < json_object_array_length (copy); i++)
    {
      const char *t = json_object_get_string (json_object_array_get_idx (copy, i));
      cleanup_free char *text = xasprintf ("FROM scratch\n%s\n", t ? t : "");
      struct dockerfile *df = df_parse ("ONBUILD", text, strlen (text), err);
      int r;
      if (df == NULL)
        return err_wrap (err, "base image trigger");
      if (df->n_stages != 1 || df->stages[0].n_instrs != 2)
        {
          df_free (df);
          return err_make (err, 0, "base image trigger \"%s\" is not one instruction", t);
        }
      say (sr->b, "--> Running ONBUILD %s\n", df->stages[0].instrs[1].original);
      r = do_step (sr, &df->stages[0].instrs[1], err);
      df_free (df);
      if (r < 0)
        return -1;
    }
  return 0;
}

static int
do_step (struct stage_run *sr, const struct df_instruction *in, struct error **err)
{
  switch (in->kind)
    {
    case DF_ARG:
      {
        json_object *env = jobj_get_array (jobj_get_object (sr->img.cfg, "config"), "Env");
        struct build_vars vars = { .env = env, .args = sr->args };
        return declare_args (sr->b, &sr->args, in, &vars, sr->b->meta_args, err);
      }
    case DF_RUN:
      return run_step (sr, in, err);
    case DF_COPY:
    case DF_ADD:
      return copy_step (sr, in, err);
    case DF_FROM:
      return err_make (err, 0, "%s:%u: FROM inside a stage", sr->b->df->path, in->line);
    default:
      return config_step (sr, in, err);
    }
}

static void
print_step (struct stage_run *sr, const struct df_instruction *in)
{
  struct build *b = sr->b;

  if (b->n_needed > 1)
    say (b, "[%u/%zu] ", b->stage_no, b->n_needed);
  say (b, "STEP %zu/%zu: %s\n", sr->step, sr->st->n_instrs, in->original);
}

/* A stage whose steps made no image (FROM scratch alone, or only ARGs
 * after FROM of scratch) still needs one. */
static int
ensure_image (struct stage_run *sr, struct error **err)
{
  cleanup_json json_object *cfg = NULL;

  if (sr->img.id)
    return 0;
  cfg = jobj_copy (sr->img.cfg);
  return finish_step (sr, cfg, "/bin/sh -c #(nop) FROM scratch", NULL, NULL, err);
}

static int
build_stage (struct build *b, const struct df_stage *st, bool is_last, struct error **err)
{
  struct stage_run sr = { .b = b, .st = st, .is_last_stage = is_last };
  int r;

  sr.step = 1;
  print_step (&sr, &st->instrs[0]);
  r = from_step (&sr, err);
  if (r == 0)
    r = onbuild_triggers (&sr, err);
  for (size_t i = 1; r == 0 && i < st->n_instrs; i++)
    {
      sr.step = i + 1;
      print_step (&sr, &st->instrs[i]);
      r = do_step (&sr, &st->instrs[i], err);
    }
  if (r == 0)
    r = ensure_image (&sr, err);
  if (r == 0)
    b->stage_ids[st->index] = xstrdup (sr.img.id);
  if (r == 0 && is_last && sr.base_id)
    b->final_base_id = xstrdup (sr.base_id);
  image_state_clear (&sr.img);
  strv_free (sr.args);
  free (sr.base_id);
  return r;
}

/* ---- the final image ---------------------------------------------------------------- */

/* --label: one more image, with the labels and without a history entry.
 * It keeps the last step's time, so the same build gives the same ID. */
static int
apply_labels (struct build *b, char **id, struct error **err)
{
  struct image_state st;
  cleanup_json json_object *cfg = NULL;
  json_object *inner, *labels;
  char *new_id = NULL;
  int64_t secs = time (NULL);

  if (b->o->labels == NULL || b->o->labels[0] == NULL)
    return 0;
  for (char *const *l = b->o->labels; *l; l++)
    if (**l == '=' || **l == '\0')
      return err_make (err, 0, "invalid --label \"%s\": the key is empty", *l);
  if (load_image (b, *id, &st, err) < 0)
    return -1;
  cfg = jobj_copy (st.cfg);
  inner = jobj_get_object (cfg, "config");
  if (inner == NULL)
    {
      inner = json_object_new_object ();
      json_object_object_add (cfg, "config", inner);
    }
  labels = jobj_get_object (inner, "Labels");
  if (labels == NULL)
    {
      labels = json_object_new_object ();
      json_object_object_add (inner, "Labels", labels);
    }
  for (char *const *l = b->o->labels; *l; l++)
    {
      cleanup_free char *k = xstrndup (*l, strcspn (*l, "="));
      const char *v = strchr (*l, '=');
      json_object_object_add (labels, k, json_object_new_string (v ? v + 1 : ""));
    }
  if (container_commit_store (b->ctx, b->s, cfg, st.manifest, NULL, false, NULL, secs, &new_id, err)
      < 0)
    {
      image_state_clear (&st);
      return -1;
    }
  image_state_clear (&st);
  free (*id);
  *id = new_id;
  return 0;
}

/* --squash: the final stage's new layers as one; its history keeps every
 * entry, all but the last that made a layer now empty. */
struct squash_base
{
  struct build *b;
  char **layers; /* the base image's chain IDs */
};

static bool
exists_in_base (const char *path, void *data)
{
  struct squash_base *sb = data;
  cleanup_free char *abs = xasprintf ("/%s", path);
  struct stat st;

  return image_lstat (sb->b, sb->layers, abs, &st);
}

struct squash_job
{
  struct squash_base sb;
  int *fds;
  size_t n;
};

static int
write_squash_tar (void *arg, int fd, struct error **err)
{
  struct squash_job *q = arg;

  return build_squash_layers (q->fds, q->n, exists_in_base, &q->sb, fd, err);
}

static int
squash_blob (struct build *b, const struct manifest *m, size_t first, char **base_layers,
             struct container_commit_layer *layer, struct error **err)
{
  struct squash_job q = { .sb = { .b = b, .layers = base_layers }, .n = m->n_layers - first };
  cleanup_free int *fds = xcalloc (q.n, sizeof *fds);
  int r = 0;

  q.fds = fds;
  for (size_t i = 0; i < q.n; i++)
    fds[i] = -1;
  for (size_t i = 0; i < q.n && r == 0; i++)
    {
      fds[i] = storage_blob_open (b->s, m->layers[first + i].digest, err);
      r = fds[i] < 0 ? -1 : 0;
    }
  if (r == 0)
    r = store_tar_layer (b, write_squash_tar, &q, layer, err);
  for (size_t i = 0; i < q.n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  return r < 0 ? err_wrap (err, "squash") : 0;
}

static void
squash_config (json_object *cfg, size_t n_base, const char *diff_id)
{
  json_object *ids = jobj_get_array (jobj_get_object (cfg, "rootfs"), "diff_ids");
  json_object *history = jobj_get_array (cfg, "history");
  json_object *kept = json_object_new_array ();
  ssize_t last = -1;
  size_t seen = 0;

  for (size_t i = 0; i < n_base; i++)
    json_object_array_add (kept, json_object_get (json_object_array_get_idx (ids, i)));
  json_object_array_add (kept, json_object_new_string (diff_id));
  json_object_object_add (jobj_get_object (cfg, "rootfs"), "diff_ids", kept);
  for (size_t i = 0; history && i < json_object_array_length (history); i++)
    {
      json_object *h = json_object_array_get_idx (history, i);
      if (jobj_get_bool (h, "empty_layer", false))
        continue;
      if (seen++ >= n_base)
        {
          json_object_object_add (h, "empty_layer", json_object_new_boolean (true));
          last = (ssize_t)i;
        }
    }
  if (last >= 0)
    json_object_object_del (json_object_array_get_idx (history, (size_t)last), "empty_layer");
}

static int
squash_final (struct build *b, char **id, struct error **err)
{
  struct image_state fin = { 0 }, base = { 0 };
  struct container_commit_layer layer;
  cleanup_json json_object *cfg = NULL;
  char *new_id = NULL;
  size_t n_base;
  int r;

  r = load_image (b, *id, &fin, err);
  if (r == 0 && b->final_base_id)
    r = load_image (b, b->final_base_id, &base, err);
  n_base = base.manifest ? base.manifest->n_layers : 0;
  /* One new layer or none: nothing to merge. */
  if (r == 0 && fin.manifest && fin.manifest->n_layers >= n_base + 2)
    {
      r = squash_blob (b, fin.manifest, n_base, base.layers, &layer, err);
      if (r == 0)
        {
          cfg = jobj_copy (fin.cfg);
          squash_config (cfg, n_base, layer.diff_id);
          r = container_commit_store (b->ctx, b->s, cfg, base.manifest, &layer, false, NULL,
                                      time (NULL), &new_id, err);
        }
      if (r == 0)
        {
          free (*id);
          *id = new_id;
        }
    }
  image_state_clear (&fin);
  image_state_clear (&base);
  return r;
}

static int
tag_image (struct build *b, const char *id, struct error **err)
{
  for (char *const *t = b->o->tags; t && *t; t++)
    {
      cleanup_free char *name = container_commit_name (*t, err);
      if (name == NULL)
        return -1;
      if (storage_image_tag (b->s, id, name, err) < 0)
        return err_wrap (err, "tag %s", name);
      say (b, "Successfully tagged %s\n", name);
    }
  return 0;
}

/* --layers=false: the steps' images were only a means. */
static void
drop_temp_images (struct build *b, const char *keep)
{
  for (size_t i = strv_len (b->temp_images); i-- > 0;)
    {
      struct error *e = NULL;
      if (strcmp (b->temp_images[i], keep) == 0)
        continue;
      if (storage_image_delete (b->s, b->temp_images[i], images_check_unused, b->ctx, NULL, &e) < 0)
        err_release (&e);
    }
}

static int
check_tags (const struct build_opts *o, struct error **err)
{
  for (char *const *t = o->tags; t && *t; t++)
    {
      cleanup_free char *name = container_commit_name (*t, err);
      if (name == NULL)
        return err_wrap (err, "tag %s", *t);
    }
  return 0;
}

static int
resolve_build_args (struct build *b, struct error **err)
{
  for (char *const *a = b->o->build_args; a && *a; a++)
    {
      const char *eq = strchr (*a, '=');
      if (**a == '=' || **a == '\0')
        return err_make (err, 0, "invalid --build-arg \"%s\": the name is empty", *a);
      if (eq)
        {
          cleanup_free char *name = xstrndup (*a, (size_t)(eq - *a));
          b->build_args = kv_set (b->build_args, name, eq + 1);
        }
      else if (getenv (*a))
        b->build_args = kv_set (b->build_args, *a, getenv (*a));
    }
  return 0;
}

static int
meta_args (struct build *b, struct error **err)
{
  for (size_t i = 0; i < b->df->n_global_args; i++)
    {
      struct build_vars vars = { .args = b->meta_args };
      if (declare_args (b, &b->meta_args, &b->df->global_args[i], &vars, NULL, err) < 0)
        return -1;
    }
  return 0;
}

static int
open_all (struct build *b, struct error **err)
{
  if (build_context_open (b->o->context_arg, b->o->dockerfile_arg, 0, &b->bctx, err) < 0)
    return -1;
  b->df
      = df_parse (b->bctx->dockerfile_path, b->bctx->dockerfile_text, b->bctx->dockerfile_len, err);
  if (b->df == NULL)
    return -1;
  if (build_ignore_load (b->bctx->dirfd, b->bctx->dockerfile_path, &b->ign, err) < 0)
    return -1;
  return images_open (b->ctx, true, &b->s, err);
}

/* --format docker: the final image's manifest in Docker's schema 2.  The
 * config, so the image ID, stays; only the record's manifest changes. */
static int
docker_format (struct build *b, const char *id, struct error **err)
{
  struct image_state st;
  cleanup_free char *same = NULL;
  int r;

  if (load_image (b, id, &st, err) < 0)
    return -1;
  r = container_commit_store (b->ctx, b->s, st.cfg, st.manifest, NULL, true, NULL, time (NULL),
                              &same, err);
  image_state_clear (&st);
  return r;
}

static bool
declares (const struct df_instruction *in, const char *name)
{
  size_t len = strlen (name);

  for (size_t i = 0; in->kind == DF_ARG && i < in->n_args; i++)
    if (strncmp (in->args[i], name, len) == 0
        && (in->args[i][len] == '\0' || in->args[i][len] == '='))
      return true;
  return false;
}

static bool
is_arg_declared (const struct build *b, const char *name)
{
  for (size_t i = 0; i < b->df->n_global_args; i++)
    if (declares (&b->df->global_args[i], name))
      return true;
  for (size_t i = 0; i < b->df->n_stages; i++)
    for (size_t k = 0; b->is_needed[i] && k < b->df->stages[i].n_instrs; k++)
      if (declares (&b->df->stages[i].instrs[k], name))
        return true;
  return false;
}

/* podman's warning for --build-arg values no ARG of the built stages took. */
static void
warn_unused_args (const struct build *b)
{
  cleanup_buf struct buf names = BUF_INIT;

  for (char **a = b->build_args; a && *a; a++)
    {
      cleanup_free char *name = xstrndup (*a, strcspn (*a, "="));
      if (!is_proxy_arg (*a) && !is_arg_declared (b, name))
        buf_printf (&names, "%s%s", names.len ? " " : "", name);
    }
  if (names.len)
    log_warn ("one or more build args were not consumed: [%s]", names.data);
}

static int
build_all (struct build *b, char **id, struct error **err)
{
  size_t target = 0;

  if (check_tags (b->o, err) < 0 || resolve_build_args (b, err) < 0 || open_all (b, err) < 0
      || meta_args (b, err) < 0 || needed_stages (b, &target, err) < 0)
    return -1;
  for (size_t i = 0; i <= target; i++)
    {
      if (!b->is_needed[i])
        continue;
      b->stage_no++;
      if (build_stage (b, &b->df->stages[i], i == target, err) < 0)
        return -1;
    }
  warn_unused_args (b);
  *id = xstrdup (b->stage_ids[target]);
  if (b->o->tags && b->o->tags[0])
    say (b, "COMMIT %s\n", b->o->tags[0]);
  else
    say (b, "COMMIT\n");
  if (apply_labels (b, id, err) < 0 || (b->o->is_squash && squash_final (b, id, err) < 0)
      || (b->o->is_docker_format && docker_format (b, *id, err) < 0))
    return -1;
  say (b, "--> %.12s\n", hex_of (*id));
  if (build_cache_unmark (b->ctx->root, *id, err) < 0 || tag_image (b, *id, err) < 0)
    return -1;
  if (!b->o->is_layers)
    drop_temp_images (b, *id);
  return 0;
}

int
build_run (struct skiff_context *ctx, const struct build_opts *o, char **id, struct error **err)
{
  struct build b = { .ctx = ctx, .o = o, .saved_stdout = -1 };
  int r;

  r = build_all (&b, id, err);
  if (r == 0)
    {
      fflush (stdout);
      printf ("%s\n", hex_of (*id));
    }
  if (b.df)
    for (size_t i = 0; i < b.df->n_stages; i++)
      free (b.stage_ids[i]);
  free (b.stage_ids);
  free (b.is_needed);
  strv_free (b.build_args);
  strv_free (b.meta_args);
  strv_free (b.temp_images);
  free (b.final_base_id);
  if (b.df)
    df_free (b.df);
  build_ignore_free (b.ign);
  build_context_free (b.bctx);
  storage_close (b.s);
  return r;
}
