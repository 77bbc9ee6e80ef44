/* Manifest lists: the local list files, adding registry images to them,
 * and pushing a list with everything its entries need.
 *
 * push, in order:
 * 1. for each entry: its manifest from the source repository (verified
 *    against the entry's digest), each of its blobs to the destination
 *    repository (skipped when there, mounted from a source repository of
 *    the same registry, else streamed through a temporary file), then the
 *    manifest by digest
 * 2. the index under the destination tag, last, so that the tag never
 *    names entries the registry does not have */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_transport.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/lock.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest_list.h"
#include "reference.h"
#include "registries_conf.h"
#include "registry.h"
#include "registry_push.h"

#define LIST_FILE_MAX (8u << 20)

/* ---- the index ------------------------------------------------------------------ */

json_object *
manifest_list_index_new (void)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "schemaVersion", json_object_new_int (2));
  json_object_object_add (o, "mediaType", json_object_new_string (MANIFEST_MT_OCI_INDEX));
  json_object_object_add (o, "manifests", json_object_new_array ());
  return o;
}

int
manifest_list_index_remove (json_object *index, const char *digest)
{
  json_object *entries = jobj_get_array (index, "manifests");
  size_t n = entries ? json_object_array_length (entries) : 0;

  for (size_t i = 0; i < n; i++)
    {
      const char *d = jobj_get_string (json_object_array_get_idx (entries, i), "digest");
      if (d && strcmp (d, digest) == 0)
        {
          json_object_array_del_idx (entries, i, 1);
          return 1;
        }
    }
  return 0;
}

int
manifest_list_index_add (json_object *index, const char *media_type, const char *digest,
                         int64_t size, const struct manifest_platform *platform,
                         struct error **err)
{
  json_object *entries = jobj_get_array (index, "manifests");
  json_object *e, *p;

  if (!manifest_media_type_is_image (media_type))
    return err_make (err, 0, "%s is a \"%s\", not an image manifest", digest, media_type);
  if (!sha256_digest_valid (digest) || size < 0)
    return err_make (err, 0, "invalid manifest descriptor \"%.100s\"", digest);
  if (platform->os == NULL || platform->architecture == NULL)
    return err_make (err, 0, "image %s names no os and architecture: give --os and --arch",
                     digest);
  if (entries == NULL)
    return err_make (err, 0, "the list has no \"manifests\"");
  manifest_list_index_remove (index, digest);
  p = json_object_new_object ();
  json_object_object_add (p, "architecture", json_object_new_string (platform->architecture));
  json_object_object_add (p, "os", json_object_new_string (platform->os));
  if (platform->variant)
    json_object_object_add (p, "variant", json_object_new_string (platform->variant));
  e = json_object_new_object ();
  json_object_object_add (e, "mediaType", json_object_new_string (media_type));
  json_object_object_add (e, "digest", json_object_new_string (digest));
  json_object_object_add (e, "size", json_object_new_int64 (size));
  json_object_object_add (e, "platform", p);
  json_object_array_add (entries, e);
  return 0;
}

char *
manifest_list_index_serialize (json_object *index, bool is_docker, struct error **err)
{
  cleanup_json json_object *copy = NULL;
  json_object *entries;

  if (json_object_deep_copy (index, &copy, NULL) != 0)
    return err_make (err, ENOMEM, "copy the index"), NULL;
  entries = jobj_get_array (copy, "manifests");
  for (size_t i = 0; is_docker && entries && i < json_object_array_length (entries); i++)
    {
      json_object *e = json_object_array_get_idx (entries, i);
      const char *mt = jobj_get_string (e, "mediaType");
      if (mt == NULL || strcmp (mt, MANIFEST_MT_DOCKER_MANIFEST) != 0)
        return err_make (err, 0, "entry %s is an OCI manifest, which a Docker manifest list "
                         "cannot hold: push with --format oci", jobj_get_string (e, "digest")),
               NULL;
    }
  json_object_object_add (copy, "mediaType",
                          json_object_new_string (is_docker ? MANIFEST_MT_DOCKER_LIST
                                                            : MANIFEST_MT_OCI_INDEX));
  return jobj_to_string (copy, false);
}

char *
manifest_list_normalize_name (const char *name, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *local = NULL;

  if (reference_parse (name, &ref, err) < 0)
    return NULL;
  if (ref.digest)
    return err_make (err, 0, "invalid list name \"%s\": a list name has no digest", name), NULL;
  if (reference_is_short_name (name))
    {
      local = xasprintf ("localhost/%s", name);
      reference_free (&ref);
      if (reference_parse (local, &ref, err) < 0)
        return NULL;
    }
  return reference_to_string (&ref);
}

/* ---- list files -------------------------------------------------------------------- */

struct list
{
  char *name;             /* normalised */
  char *path;
  json_object *index;
  json_object *sources;   /* digest -> "registry/repository" */
};

static void
list_clear (struct list *l)
{
  free (l->name);
  free (l->path);
  json_object_put (l->index);
  json_object_put (l->sources);
  memset (l, 0, sizeof *l);
}

static char *
lists_dir (const struct skiff_context *ctx)
{
  return xasprintf ("%s/manifests", ctx->root);
}

/* The ID of list NAME: the hex sha256 of its name, which names its file. */
static void
list_id (const char *name, char hex[SHA256_HEX_LEN + 1])
{
  sha256_buf_hex (name, strlen (name), hex);
}

static int
list_init (struct skiff_context *ctx, const char *name, struct list *l, struct error **err)
{
  cleanup_free char *dir = lists_dir (ctx);
  char hex[SHA256_HEX_LEN + 1];

  l->name = manifest_list_normalize_name (name, err);
  if (l->name == NULL)
    return -1;
  list_id (l->name, hex);
  l->path = xasprintf ("%s/%s.json", dir, hex);
  return 0;
}

/* The exclusive lock for changing lists. */
static int
lock_lists (struct skiff_context *ctx, struct error **err)
{
  cleanup_free char *dir = lists_dir (ctx);
  cleanup_free char *lock = xasprintf ("%s/lock", dir);

  if (fs_mkdir_p (dir, 0700, err) < 0)
    return -1;
  return lock_acquire (lock, LOCK_EXCLUSIVE_MODE, err);
}

/* Read list NAME: 1 when it exists, 0 when not. */
static int
list_load (struct skiff_context *ctx, const char *name, struct list *l, struct error **err)
{
  cleanup_json json_object *o = NULL;
  cleanup_error struct error *e = NULL;
  json_object *entries;
  const char *stored;

  if (list_init (ctx, name, l, err) < 0)
    return -1;
  o = jobj_parse_file (l->path, LIST_FILE_MAX, &e);
  if (o == NULL && e->errnum == ENOENT)
    return 0;
  if (o == NULL)
    return *err = steal_ptr (&e), err_wrap (err, "manifest list \"%s\"", l->name);
  stored = jobj_get_string (o, "name");
  l->index = json_object_get (jobj_get_object (o, "index"));
  l->sources = json_object_get (jobj_get_object (o, "sources"));
  entries = l->index ? jobj_get_array (l->index, "manifests") : NULL;
  if (stored == NULL || strcmp (stored, l->name) != 0 || entries == NULL || l->sources == NULL)
    return err_make (err, 0, "manifest list \"%s\": \"%s\" is damaged: remove it with "
                     "\"skiff manifest rm %s\"", l->name, l->path, l->name);
  return 1;
}

static int
list_require (struct skiff_context *ctx, const char *name, struct list *l, struct error **err)
{
  int r = list_load (ctx, name, l, err);

  if (r == 0)
    return err_make (err, 0, "%s: no such manifest list", l->name);
  return r < 0 ? -1 : 0;
}

static int
list_save (const struct list *l, struct error **err)
{
  cleanup_json json_object *o = json_object_new_object ();

  json_object_object_add (o, "name", json_object_new_string (l->name));
  json_object_object_add (o, "index", json_object_get (l->index));
  json_object_object_add (o, "sources", json_object_get (l->sources));
  if (jobj_write_file (l->path, o, false, err) < 0)
    return err_wrap (err, "save manifest list \"%s\"", l->name);
  return 0;
}

static char *
list_id_string (const struct list *l)
{
  char hex[SHA256_HEX_LEN + 1];

  list_id (l->name, hex);
  return xstrdup (hex);
}

/* ---- registry access ----------------------------------------------------------------- */

/* registries.conf's verdict on REF: blocked is an error; *IS_INSECURE. */
static int
check_registry (const struct manifest_list_access *a, const struct image_ref *ref,
                bool *is_insecure, struct error **err)
{
  cleanup_registries_conf struct registries_conf *conf = NULL;
  cleanup_free char *name = reference_to_string (ref);
  const struct registry_entry *e;

  if (registries_conf_load (&conf, err) < 0)
    return -1;
  e = registries_conf_find (conf, name);
  if (e && e->is_blocked)
    return err_make (err, 0, "image \"%s\" is blocked by registries.conf (prefix \"%s\")", name,
                     e->prefix);
  *is_insecure = a->has_tls_verify ? !a->is_tls_verify : e && e->is_insecure;
  return 0;
}

static struct registry_client *
open_client (const struct manifest_list_access *a, const struct image_ref *ref, bool want_push,
             const char *const *extra_scopes, struct error **err)
{
  struct registry_options ro = { .want_push = want_push, .extra_scopes = extra_scopes };
  struct registry_creds creds = { 0 };
  struct registry_client *c;

  if (check_registry (a, ref, &ro.is_insecure, err) < 0)
    return NULL;
  ro.cert_dir = a->cert_dir;
  ro.authfile = a->authfile;
  if (a->creds)
    {
      if (registry_creds_parse (a->creds, &creds, err) < 0)
        return NULL;
      ro.creds = &creds;
    }
  c = registry_client_new (ref->registry, ref->repository, &ro, err);
  registry_creds_clear (&creds);
  return c;
}

/* NAME as a registry reference, "docker://" allowed, other transports
 * not. */
static int
parse_remote (const char *name, struct image_ref *ref, struct error **err)
{
  struct image_transport_ref tr = { 0 };
  int r = image_transport_parse (name, &tr, err);

  if (r > 0 && tr.transport != IMAGE_TRANSPORT_DOCKER)
    r = err_make (err, 0, "\"%s\": manifest lists hold registry images only", name);
  else if (r >= 0)
    r = reference_parse (r > 0 ? tr.ref : name, ref, err);
  image_transport_ref_clear (&tr);
  return r < 0 ? -1 : 0;
}

/* ---- add ------------------------------------------------------------------------------ */

static int
apply_overrides (const struct manifest_list_add_opts *o, struct manifest_platform *p)
{
  const char *over[3] = { o->os, o->arch, o->variant };
  char **slot[3] = { &p->os, &p->architecture, &p->variant };

  for (size_t i = 0; i < 3; i++)
    if (over[i])
      {
        free (*slot[i]);
        *slot[i] = xstrdup (over[i]);
      }
  manifest_platform_normalize (p);
  return 0;
}

/* The platform an image manifest's config states. */
static int
config_platform (struct registry_client *c, const struct manifest *m,
                 struct manifest_platform *p, struct error **err)
{
  cleanup_manifest_config struct manifest_config *mc = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (registry_get_blob (c, m->config.digest, MANIFEST_CONFIG_MAX_SIZE, &data, &len, err) < 0)
    return -1;
  if (manifest_config_parse (data, len, (long) m->n_layers, &mc, err) < 0)
    return err_wrap (err, "config %s", m->config.digest);
  p->os = xstrdup (mc->os);
  p->architecture = xstrdup (mc->architecture);
  p->variant = xstrdup (mc->variant);
  return 0;
}

static int
add_entry (struct list *l, const char *source, const char *media_type, const char *digest,
           int64_t size, struct manifest_platform *p, const struct manifest_list_add_opts *o,
           struct error **err)
{
  apply_overrides (o, p);
  if (manifest_list_index_add (l->index, media_type, digest, size, p, err) < 0)
    return -1;
  json_object_object_add (l->sources, digest, json_object_new_string (source));
  return 0;
}

/* An index: the host's (or --os/--arch's) entry, or all of them. */
static int
add_from_index (struct list *l, const char *source, const struct manifest *index,
                const struct manifest_list_add_opts *o, struct error **err)
{
  struct manifest_platform want = { 0 };
  const struct manifest_descriptor *d;
  int r = 0;

  for (size_t i = 0; o->is_all && i < index->n_entries && r == 0; i++)
    {
      const struct manifest_descriptor *e = &index->entries[i];
      struct manifest_platform p = { 0 };
      if (e->has_platform)
        {
          p.os = xstrdup (e->platform.os);
          p.architecture = xstrdup (e->platform.architecture);
          p.variant = xstrdup (e->platform.variant);
        }
      r = manifest_list_index_add (l->index, e->media_type, e->digest, e->size, &p, err);
      if (r == 0)
        json_object_object_add (l->sources, e->digest, json_object_new_string (source));
      manifest_platform_clear (&p);
    }
  if (o->is_all)
    return r;
  manifest_platform_host (&want);
  apply_overrides (o, &want);
  d = manifest_select_platform (index, &want, err);
  if (d)
    {
      struct manifest_platform p = { 0 };
      p.os = xstrdup (d->has_platform ? d->platform.os : want.os);
      p.architecture = xstrdup (d->has_platform ? d->platform.architecture : want.architecture);
      p.variant = xstrdup (d->has_platform ? d->platform.variant : want.variant);
      r = manifest_list_index_add (l->index, d->media_type, d->digest, d->size, &p, err);
      if (r == 0)
        json_object_object_add (l->sources, d->digest, json_object_new_string (source));
      manifest_platform_clear (&p);
    }
  manifest_platform_clear (&want);
  return d ? r : -1;
}

static int
add_image (struct list *l, const char *image, const struct manifest_list_add_opts *o,
           struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_registry_client struct registry_client *c = NULL;
  cleanup_manifest struct manifest *m = NULL;
  cleanup_free char *source = NULL;
  struct registry_manifest raw = { 0 };
  struct manifest_platform p = { 0 };
  int r;

  if (parse_remote (image, &ref, err) < 0)
    return -1;
  c = open_client (&o->access, &ref, false, NULL, err);
  if (c == NULL)
    return -1;
  source = reference_repo_string (&ref);
  r = registry_get_manifest (c, ref.digest ? ref.digest : ref.tag, &raw, err);
  if (r == 0)
    r = manifest_parse (raw.data, raw.len, raw.media_type, &m, err);
  if (r == 0 && m->kind == MANIFEST_INDEX)
    r = add_from_index (l, source, m, o, err);
  else if (r == 0)
    {
      r = config_platform (c, m, &p, err);
      if (r == 0)
        r = add_entry (l, source, m->media_type, raw.digest, (int64_t) raw.len, &p, o, err);
    }
  manifest_platform_clear (&p);
  registry_manifest_clear (&raw);
  return r < 0 ? err_wrap (err, "add \"%s\"", image) : 0;
}

int
manifest_list_create (struct skiff_context *ctx, const char *name, char *const *images,
                      const struct manifest_list_add_opts *opts, char **id_out,
                      struct error **err)
{
  cleanup_close int lock = lock_lists (ctx, err);
  struct list l = { 0 };
  int r;

  if (lock < 0)
    return -1;
  r = list_load (ctx, name, &l, err);
  if (r > 0)
    r = err_make (err, EEXIST, "a manifest list named \"%s\" exists: remove it with "
                  "\"skiff manifest rm %s\" first", l.name, l.name);
  if (r == 0)
    {
      l.index = manifest_list_index_new ();
      l.sources = json_object_new_object ();
    }
  for (size_t i = 0; r == 0 && images && images[i]; i++)
    r = add_image (&l, images[i], opts, err);
  if (r == 0)
    r = list_save (&l, err);
  if (r == 0)
    *id_out = list_id_string (&l);
  list_clear (&l);
  return r;
}

int
manifest_list_add (struct skiff_context *ctx, const char *name, const char *image,
                   const struct manifest_list_add_opts *opts, char **id_out, struct error **err)
{
  cleanup_close int lock = lock_lists (ctx, err);
  struct list l = { 0 };
  int r;

  if (lock < 0)
    return -1;
  r = list_require (ctx, name, &l, err);
  if (r == 0)
    r = add_image (&l, image, opts, err);
  if (r == 0)
    r = list_save (&l, err);
  if (r == 0)
    *id_out = list_id_string (&l);
  list_clear (&l);
  return r;
}

int
manifest_list_remove (struct skiff_context *ctx, const char *name, const char *digest,
                      char **id_out, struct error **err)
{
  cleanup_close int lock = lock_lists (ctx, err);
  struct list l = { 0 };
  int r;

  if (lock < 0)
    return -1;
  r = list_require (ctx, name, &l, err);
  if (r == 0 && manifest_list_index_remove (l.index, digest) == 0)
    r = err_make (err, 0, "manifest list \"%s\" has no entry %s", l.name, digest);
  if (r == 0)
    {
      json_object_object_del (l.sources, digest);
      r = list_save (&l, err);
    }
  if (r == 0)
    *id_out = list_id_string (&l);
  list_clear (&l);
  return r;
}

int
manifest_list_delete (struct skiff_context *ctx, const char *name, struct error **err)
{
  cleanup_close int lock = lock_lists (ctx, err);
  struct list l = { 0 };
  int r;

  if (lock < 0)
    return -1;
  r = list_require (ctx, name, &l, err);
  if (r == 0 && unlink (l.path) < 0)
    r = err_make (err, errno, "remove \"%s\"", l.path);
  list_clear (&l);
  return r;
}

/* A registry's manifest for NAME, indented. */
static int
inspect_remote (const char *name, const struct manifest_list_access *access, char **json_out,
                struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_registry_client struct registry_client *c = NULL;
  cleanup_json json_object *o = NULL;
  struct registry_manifest raw = { 0 };

  if (parse_remote (name, &ref, err) < 0)
    return -1;
  c = open_client (access, &ref, false, NULL, err);
  if (c == NULL || registry_get_manifest (c, ref.digest ? ref.digest : ref.tag, &raw, err) < 0)
    return -1;
  o = jobj_parse (raw.data, raw.len, "manifest", err);
  registry_manifest_clear (&raw);
  if (o == NULL)
    return -1;
  *json_out = jobj_to_string (o, true);
  return 0;
}

int
manifest_list_inspect (struct skiff_context *ctx, const char *name,
                       const struct manifest_list_access *access, char **json_out,
                       struct error **err)
{
  cleanup_free char *normal = manifest_list_normalize_name (name, NULL);
  struct list l = { 0 };
  int r = normal ? list_load (ctx, name, &l, err) : 0;

  if (r > 0)
    *json_out = jobj_to_string (l.index, true);
  list_clear (&l);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (inspect_remote (name, access, json_out, err) < 0)
    return err_wrap (err, "%s: no such manifest list, nor an image in a registry", name);
  return 0;
}

/* ---- push ------------------------------------------------------------------------------ */

struct pusher
{
  const struct manifest_list_push_opts *opts;
  struct list list;
  struct image_ref dest;
  struct registry_client *dst;
};

static void
say (const struct pusher *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
say (const struct pusher *p, const char *fmt, ...)
{
  va_list ap;

  if (p->opts->is_quiet)
    return;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
}

/* An anonymous file for a blob on its way between registries. */
static int
temp_file (struct error **err)
{
  const char *dir = getenv ("TMPDIR");
  int fd;

  if (dir == NULL || *dir == '\0')
    dir = "/var/tmp";
  fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      cleanup_free char *path = xasprintf ("%s/skiff-blob-XXXXXX", dir);
      fd = mkostemp (path, O_CLOEXEC);
      if (fd >= 0)
        unlink (path);
    }
  return fd < 0 ? err_make (err, errno, "create a temporary file in \"%s\"", dir) : fd;
}

/* Blob D of the image in SRC to the destination: there already, mounted
 * from FROM (the same registry), or downloaded and uploaded. */
static int
copy_blob (struct pusher *p, struct registry_client *src, const struct manifest_descriptor *d,
           const char *from, struct error **err)
{
  struct registry_push_blob_req req = { .digest = d->digest, .size = (uint64_t) d->size };
  struct registry_blob_req get = { .digest = d->digest, .size = d->size };
  enum registry_push_result result;
  cleanup_close int fd = -1;
  int r;

  r = from ? registry_push_mount (p->dst, d->digest, from, err)
           : registry_blob_exists (p->dst, d->digest, NULL, err);
  if (r < 0)
    return -1;
  if (r == 1)
    {
      say (p, "Copying blob %.12s skipped: already exists\n", d->digest + 7);
      return 0;
    }
  fd = temp_file (err);
  if (fd < 0)
    return -1;
  get.fd = req.fd = fd;
  if (registry_fetch_blobs (src, &get, 1, err) < 0
      || registry_push_blob (p->dst, &req, &result, err) < 0)
    return -1;
  say (p, "Copying blob %.12s done\n", d->digest + 7);
  return 0;
}

/* Entry DIGEST (MEDIA_TYPE) of the list, from SOURCE ("registry/repo"). */
static int
copy_entry (struct pusher *p, const char *digest, const char *source, struct error **err)
{
  cleanup_image_ref struct image_ref sref = { 0 };
  cleanup_registry_client struct registry_client *src = NULL;
  cleanup_manifest struct manifest *m = NULL;
  struct registry_manifest raw = { 0 };
  char pushed[SHA256_DIGEST_STR_LEN];
  const char *from;
  int r;

  if (reference_parse (source, &sref, err) < 0)
    return err_wrap (err, "source of %s", digest);
  src = open_client (&p->opts->access, &sref, false, NULL, err);
  if (src == NULL)
    return -1;
  from = strcmp (sref.registry, p->dest.registry) == 0 ? sref.repository : NULL;
  r = registry_get_manifest (src, digest, &raw, err);
  if (r == 0)
    r = manifest_parse (raw.data, raw.len, raw.media_type, &m, err);
  if (r == 0 && m->kind != MANIFEST_IMAGE)
    r = err_make (err, 0, "%s is not an image manifest", digest);
  for (size_t i = 0; r == 0 && i < m->n_layers; i++)
    r = copy_blob (p, src, &m->layers[i], from, err);
  if (r == 0)
    r = copy_blob (p, src, &m->config, from, err);
  if (r == 0)
    r = registry_push_manifest (p->dst, digest, raw.data, raw.len, m->media_type, pushed, err);
  registry_manifest_clear (&raw);
  return r < 0 ? err_wrap (err, "copy %s from \"%s\"", digest, source) : 0;
}

/* Pull scopes for the source repositories on the destination's registry:
 * one token then serves every mount. */
static char **
mount_scopes (const struct pusher *p)
{
  char **v = xcalloc (1, sizeof *v);

  json_object_object_foreach (p->list.sources, digest, value)
  {
    cleanup_image_ref struct image_ref ref = { 0 };
    const char *source = json_object_get_string (value);

    (void) digest;
    if (source && reference_parse (source, &ref, NULL) == 0
        && strcmp (ref.registry, p->dest.registry) == 0
        && strcmp (ref.repository, p->dest.repository) != 0)
      {
        cleanup_free char *scope = xasprintf ("repository:%s:pull", ref.repository);
        bool is_there = false;
        for (char **s = v; *s; s++)
          is_there = is_there || strcmp (*s, scope) == 0;
        if (!is_there)
          v = strv_append (v, scope);
      }
  }
  return v;
}

static int
push_entries (struct pusher *p, struct error **err)
{
  json_object *entries = jobj_get_array (p->list.index, "manifests");
  size_t n = json_object_array_length (entries);

  say (p, "Getting image list signatures\n");
  for (size_t i = 0; i < n; i++)
    {
      const char *digest = jobj_get_string (json_object_array_get_idx (entries, i), "digest");
      const char *source = digest ? jobj_get_string (p->list.sources, digest) : NULL;

      if (digest == NULL || source == NULL)
        return err_make (err, 0, "manifest list \"%s\": entry %zu has no source", p->list.name,
                         i + 1);
      say (p, "Copying image %s (%zu/%zu)\n", digest, i + 1, n);
      if (copy_entry (p, digest, source, err) < 0)
        return -1;
    }
  return 0;
}

static int
push_index (struct pusher *p, struct error **err)
{
  const char *f = p->opts->format;
  bool is_docker = f && (strcmp (f, "v2s2") == 0 || strcmp (f, "docker") == 0);
  cleanup_free char *data = NULL;
  char digest[SHA256_DIGEST_STR_LEN];

  if (f && !is_docker && strcmp (f, "oci") != 0)
    return err_make (err, 0, "invalid manifest format \"%s\": use oci or v2s2", f);
  data = manifest_list_index_serialize (p->list.index, is_docker, err);
  if (data == NULL)
    return -1;
  say (p, "Writing manifest list to image destination\n");
  if (registry_push_manifest (p->dst, p->dest.tag ? p->dest.tag : p->dest.digest, data,
                              strlen (data),
                              is_docker ? MANIFEST_MT_DOCKER_LIST : MANIFEST_MT_OCI_INDEX, digest,
                              err) < 0)
    return -1;
  if (p->opts->digestfile
      && fs_write_atomic (p->opts->digestfile, digest, strlen (digest), 0644, err) < 0)
    return err_wrap (err, "write the digest file");
  return 0;
}

int
manifest_list_push (struct skiff_context *ctx, const char *name, const char *dest,
                    const struct manifest_list_push_opts *opts, struct error **err)
{
  struct pusher p = { .opts = opts };
  cleanup_strv char **scopes = NULL;
  int r;

  r = list_require (ctx, name, &p.list, err);
  if (r == 0)
    r = parse_remote (dest ? dest : p.list.name, &p.dest, err);
  if (r == 0)
    {
      scopes = mount_scopes (&p);
      p.dst = open_client (&opts->access, &p.dest, true, (const char *const *) scopes, err);
      r = p.dst ? 0 : -1;
    }
  if (r == 0)
    r = push_entries (&p, err);
  if (r == 0)
    r = push_index (&p, err);
  if (r == 0 && opts->is_remove)
    r = manifest_list_delete (ctx, name, err);
  if (r < 0 && p.dest.registry)
    {
      cleanup_free char *full = reference_to_string (&p.dest);
      err_wrap (err, "push manifest list \"%s\" to \"%s\"", p.list.name, full);
    }
  registry_client_free (p.dst);
  reference_free (&p.dest);
  list_clear (&p.list);
  return r;
}
