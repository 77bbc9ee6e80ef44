/* Layer extraction for pull, load and import.  The layers whose diff IDs
 * are all known are looked up by chain ID first, so nothing present is
 * extracted again; the rest are extracted in one child in the user
 * namespace (files there belong to subordinate IDs), whose results come
 * back through shared memory, and committed here in order. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "context.h"
#include "image_layers.h"
#include "images.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "userns.h"

struct layer_job
{
  const struct image_layer_spec *spec;
  char *chain_id;  /* known before extraction when the diff IDs below are */
  bool is_present;
  int blob_fd;
  struct storage_layer_stage *stage;
};

struct extraction
{
  struct layer_job *jobs;
  size_t n;
  struct storage_extract_opts opts;
  struct storage_extract_result *results; /* MAP_SHARED with the child */
};

/* Chain IDs are known up front only while every diff ID below is. */
static int
plan (struct storage_store *s, struct extraction *x, struct error **err)
{
  const char *parent = NULL;
  bool is_known = true;

  for (size_t i = 0; i < x->n; i++)
    {
      struct layer_job *j = &x->jobs[i];
      int have;

      j->blob_fd = -1;
      is_known = is_known && j->spec->diff_id != NULL;
      if (!is_known)
        continue;
      j->chain_id = storage_chain_id (parent, j->spec->diff_id, err);
      if (j->chain_id == NULL)
        return -1;
      parent = j->chain_id;
      have = storage_layer_claim (s, j->chain_id, err);
      if (have < 0)
        return -1;
      j->is_present = have == 1;
    }
  return 0;
}

static int
prepare (struct storage_store *s, struct extraction *x, size_t *n_new, struct error **err)
{
  *n_new = 0;
  for (size_t i = 0; i < x->n; i++)
    {
      struct layer_job *j = &x->jobs[i];
      if (j->is_present)
        continue;
      j->blob_fd = storage_blob_open (s, j->spec->blob_digest, err);
      if (j->blob_fd < 0)
        return -1;
      if (storage_layer_stage_new (s, &j->stage, err) < 0)
        return -1;
      (*n_new)++;
    }
  return 0;
}

/* Runs in the child, as root of the user namespace (or as real root). */
static int
extract_child (void *arg, struct error **err)
{
  struct extraction *x = arg;

  for (size_t i = 0; i < x->n; i++)
    {
      struct layer_job *j = &x->jobs[i];
      if (j->is_present)
        continue;
      if (storage_extract_layer (j->blob_fd, storage_layer_stage_diff_fd (j->stage), &x->opts,
                                 &x->results[i], err) < 0)
        return err_wrap (err, "extract layer %s", j->spec->blob_digest);
    }
  return 0;
}

static int
set_options (struct skiff_context *ctx, struct storage_extract_opts *o, struct error **err)
{
  const struct userns_config *cfg = context_userns (ctx, err);

  if (cfg == NULL)
    return -1;
  memset (o, 0, sizeof *o);
  o->whiteouts = WHITEOUT_OVERLAY;
  o->can_fallback_aufs = true;
  o->is_rootless_single_id = cfg->is_rootless && !cfg->has_subuids;
  /* Kernel overlay in a user namespace is mounted with userxattr and reads
   * the user.* name; fuse-overlayfs reads it too. */
  o->opaque_xattr = ctx->is_rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
  return 0;
}

static int
commit_all (struct storage_store *s, struct extraction *x, struct error **err)
{
  const char *parent = NULL;

  for (size_t i = 0; i < x->n; i++)
    {
      struct layer_job *j = &x->jobs[i];
      const struct storage_extract_result *res = &x->results[i];
      struct storage_layer layer = { 0 };

      if (!j->is_present)
        {
          if (j->spec->diff_id && strcmp (res->diff_id, j->spec->diff_id) != 0)
            return err_make (err, 0, "layer %s: content has diff ID %s but the config "
                             "says %s", j->spec->blob_digest, res->diff_id, j->spec->diff_id);
          if (j->chain_id == NULL)
            {
              j->chain_id = storage_chain_id (parent, res->diff_id, err);
              if (j->chain_id == NULL)
                return -1;
            }
          layer.chain_id = j->chain_id;
          layer.diff_id = (char *) res->diff_id;
          layer.parent = (char *) parent;
          layer.blob_digest = (char *) j->spec->blob_digest;
          layer.blob_size = j->spec->blob_size > 0 ? (uint64_t) j->spec->blob_size : 0;
          layer.size = res->size;
          if (storage_layer_stage_commit (s, j->stage, &layer, err) < 0)
            return -1;
          log_debug ("layer %s: committed", j->chain_id);
        }
      parent = j->chain_id;
    }
  return 0;
}

static int
collect (struct storage_store *s, struct extraction *x, char ***chain_ids, char ***diff_ids,
         struct error **err)
{
  char **c = xcalloc (x->n + 1, sizeof *c);
  char **d = xcalloc (x->n + 1, sizeof *d);

  for (size_t i = 0; i < x->n; i++)
    {
      c[i] = xstrdup (x->jobs[i].chain_id);
      if (x->jobs[i].spec->diff_id)
        d[i] = xstrdup (x->jobs[i].spec->diff_id);
      else if (!x->jobs[i].is_present)
        d[i] = xstrdup (x->results[i].diff_id);
      else
        {
          struct storage_layer *l = NULL;
          if (storage_layer_get (s, c[i], &l, err) < 0)
            {
              strv_free (c);
              strv_free (d);
              return -1;
            }
          d[i] = xstrdup (l->diff_id);
          storage_layer_free (l);
        }
    }
  if (chain_ids)
    *chain_ids = c;
  else
    strv_free (c);
  if (diff_ids)
    *diff_ids = d;
  else
    strv_free (d);
  return 0;
}

static void
release (struct extraction *x)
{
  for (size_t i = 0; i < x->n; i++)
    {
      free (x->jobs[i].chain_id);
      storage_layer_stage_free (x->jobs[i].stage);
      if (x->jobs[i].blob_fd >= 0)
        close (x->jobs[i].blob_fd);
    }
  free (x->jobs);
  if (x->results && x->results != MAP_FAILED)
    munmap (x->results, (x->n ? x->n : 1) * sizeof *x->results);
}

static int
run_extraction (struct skiff_context *ctx, struct storage_store *s, struct extraction *x,
                struct error **err)
{
  size_t n_new = 0;

  if (prepare (s, x, &n_new, err) < 0)
    return -1;
  if (n_new == 0)
    return 0;
  if (set_options (ctx, &x->opts, err) < 0)
    return -1;
  if (ctx->is_rootless)
    return context_run_in_userns (ctx, extract_child, x, err);
  return extract_child (x, err);
}

int
image_layers_ensure (struct skiff_context *ctx, struct storage_store *s,
                     const struct image_layer_spec *specs, size_t n, char ***chain_ids,
                     char ***diff_ids, struct error **err)
{
  struct extraction x = { .n = n };
  int r;

  x.jobs = xcalloc (n ? n : 1, sizeof *x.jobs);
  for (size_t i = 0; i < n; i++)
    {
      x.jobs[i].spec = &specs[i];
      x.jobs[i].blob_fd = -1;
    }
  x.results = mmap (NULL, (n ? n : 1) * sizeof *x.results, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (x.results == MAP_FAILED)
    r = err_make (err, errno, "mmap");
  else
    r = plan (s, &x, err);
  if (r == 0)
    r = run_extraction (ctx, s, &x, err);
  if (r == 0)
    r = commit_all (s, &x, err);
  if (r == 0)
    r = collect (s, &x, chain_ids, diff_ids, err);
  release (&x);
  return r;
}
