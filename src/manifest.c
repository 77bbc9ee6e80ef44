/* Manifests, indexes and image configs: what the bytes from a registry
 * mean and whether they are well formed, and which index entry fits our
 * platform.  See manifest.h for the contract; every error names the field
 * that was wrong so a broken image can be reported upstream. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"

/* ---- typed field access ------------------------------------------------ */

static const char *
type_name (json_type t)
{
  switch (t)
    {
    case json_type_string:
      return "a string";
    case json_type_int:
      return "an integer";
    case json_type_double:
      return "a fraction";
    case json_type_boolean:
      return "a boolean";
    case json_type_array:
      return "an array";
    case json_type_object:
      return "an object";
    default:
      return "null";
    }
}

/* Look KEY up in O.  Returns 0 when it is absent or null, 1 with *OUT set
 * when it has TYPE, and an error naming WHAT.KEY when it has another type. */
static int
get_typed (json_object *o, const char *key, json_type type, const char *what,
           json_object **out, struct error **err)
{
  json_object *v = NULL;

  *out = NULL;
  if (!json_object_object_get_ex (o, key, &v) || v == NULL)
    return 0;
  if (!json_object_is_type (v, type))
    return err_make (err, 0, "%s: \"%s\" must be %s, not %s", what, key, type_name (type),
                     type_name (json_object_get_type (v)));
  *out = v;
  return 1;
}

static int
get_string (json_object *o, const char *key, const char *what, char **out, struct error **err)
{
  json_object *v;
  int r = get_typed (o, key, json_type_string, what, &v, err);

  if (r > 0)
    *out = xstrdup (json_object_get_string (v));
  return r;
}

static int
require_string (json_object *o, const char *key, const char *what, char **out,
                struct error **err)
{
  int r = get_string (o, key, what, out, err);

  if (r == 0)
    return err_make (err, 0, "%s: missing \"%s\"", what, key);
  return r;
}

/* A name-like string (media type, os, architecture): printable ASCII
 * without blanks, at most 255 characters.  These end up in messages on the
 * user's terminal, so control characters are refused rather than echoed. */
static bool
is_word (const char *s)
{
  size_t n = 0;

  for (; *s; s++, n++)
    if (*s <= ' ' || *s >= 127 || n >= 255)
      return false;
  return true;
}

static int
get_word (json_object *o, const char *key, const char *what, bool required, char **out,
          struct error **err)
{
  int r = required ? require_string (o, key, what, out, err) : get_string (o, key, what, out, err);

  if (r > 0 && !is_word (*out))
    return err_make (err, 0, "%s: \"%s\" is not a valid name", what, key);
  return r;
}

/* An array of strings (or null) into a NULL-terminated vector. */
static int
get_strv (json_object *o, const char *key, const char *what, char ***out, struct error **err)
{
  json_object *a;
  int r = get_typed (o, key, json_type_array, what, &a, err);
  size_t n;
  char **v;

  if (r <= 0)
    return r;
  n = json_object_array_length (a);
  v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      json_object *s = json_object_array_get_idx (a, i);
      if (!json_object_is_type (s, json_type_string))
        {
          strv_free (v);
          return err_make (err, 0, "%s: \"%s\"[%zu] must be a string", what, key, i);
        }
      v[i] = xstrdup (json_object_get_string (s));
    }
  *out = v;
  return 1;
}

/* The keys of an object (or null) into a NULL-terminated vector, and with
 * VALUES its string values ("Labels"). */
static int
get_keys (json_object *o, const char *key, const char *what, char ***keys, char ***values,
          struct error **err)
{
  json_object *m;
  int r = get_typed (o, key, json_type_object, what, &m, err);
  size_t n, i = 0;
  char **k, **v = NULL;

  if (r <= 0)
    return r;
  n = json_object_object_length (m);
  k = xcalloc (n + 1, sizeof *k);
  if (values)
    v = xcalloc (n + 1, sizeof *v);
  json_object_object_foreach (m, name, val)
  {
    if (values && !json_object_is_type (val, json_type_string))
      {
        strv_free (k);
        strv_free (v);
        return err_make (err, 0, "%s: \"%s\".\"%s\" must be a string", what, key, name);
      }
    k[i] = xstrdup (name);
    if (values)
      v[i] = xstrdup (json_object_get_string (val));
    i++;
  }
  *keys = k;
  if (values)
    *values = v;
  return 1;
}

/* ---- media types ------------------------------------------------------- */

static const struct
{
  const char *media_type;
  enum manifest_compression compression;
  bool is_foreign;
} layer_types[] = {
  { "application/vnd.oci.image.layer.v1.tar", MANIFEST_COMPRESSION_NONE, false },
  { "application/vnd.oci.image.layer.v1.tar+gzip", MANIFEST_COMPRESSION_GZIP, false },
  { "application/vnd.oci.image.layer.v1.tar+zstd", MANIFEST_COMPRESSION_ZSTD, false },
  { "application/vnd.docker.image.rootfs.diff.tar.gzip", MANIFEST_COMPRESSION_GZIP, false },
  /* Not in the Docker spec, but written by some tools for plain tar. */
  { "application/vnd.docker.image.rootfs.diff.tar", MANIFEST_COMPRESSION_NONE, false },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar", MANIFEST_COMPRESSION_NONE, true },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", MANIFEST_COMPRESSION_GZIP,
    true },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", MANIFEST_COMPRESSION_ZSTD,
    true },
  { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", MANIFEST_COMPRESSION_GZIP,
    true },
};

/* Content-Types that say nothing about which manifest this is. */
static const char *const generic_types[] = {
  "application/json", "text/plain", "application/octet-stream", "binary/octet-stream",
};

bool
manifest_media_type_is_index (const char *mt)
{
  return mt
         && (strcmp (mt, MANIFEST_MT_OCI_INDEX) == 0 || strcmp (mt, MANIFEST_MT_DOCKER_LIST) == 0);
}

bool
manifest_media_type_is_image (const char *mt)
{
  return mt
         && (strcmp (mt, MANIFEST_MT_OCI_MANIFEST) == 0
             || strcmp (mt, MANIFEST_MT_DOCKER_MANIFEST) == 0);
}

static bool
is_schema1 (const char *mt)
{
  return strcmp (mt, MANIFEST_MT_DOCKER_SCHEMA1) == 0
         || strcmp (mt, MANIFEST_MT_DOCKER_SCHEMA1_SIGNED) == 0;
}

/* Content-Type without parameters and surrounding blanks, lower case (media
 * types compare case-insensitively); NULL for a generic or missing one. */
static char *
specific_content_type (const char *content_type)
{
  cleanup_free char *ct = NULL;

  if (content_type == NULL)
    return NULL;
  ct = xstrndup (content_type, strcspn (content_type, ";"));
  str_strip (ct);
  for (char *p = ct; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  if (*ct == '\0')
    return NULL;
  for (size_t i = 0; i < sizeof generic_types / sizeof generic_types[0]; i++)
    if (strcmp (ct, generic_types[i]) == 0)
      return NULL;
  return steal_ptr (&ct);
}

/* Decide what ROOT is: the Content-Type when it is specific (and then the
 * JSON's "mediaType" must agree), else "mediaType", else the shape. */
static int
resolve_media_type (json_object *root, const char *content_type, char **out, struct error **err)
{
  cleanup_free char *ct = specific_content_type (content_type);
  cleanup_free char *field = NULL;

  if (get_word (root, "mediaType", "manifest", false, &field, err) < 0)
    return -1;
  if (ct && !is_word (ct))
    return err_make (err, 0, "manifest: invalid Content-Type");
  if (ct && field && strcmp (ct, field) != 0)
    return err_make (err, 0,
                     "manifest: \"mediaType\" \"%s\" does not match the Content-Type \"%s\"",
                     field, ct);
  if (ct || field)
    {
      *out = ct ? steal_ptr (&ct) : steal_ptr (&field);
      return 0;
    }
  if (jobj_get_int (root, "schemaVersion", 0) == 1)
    *out = xstrdup (MANIFEST_MT_DOCKER_SCHEMA1);
  else if (json_object_object_get_ex (root, "manifests", NULL))
    *out = xstrdup (MANIFEST_MT_OCI_INDEX);
  else if (json_object_object_get_ex (root, "config", NULL)
           || json_object_object_get_ex (root, "layers", NULL))
    *out = xstrdup (MANIFEST_MT_OCI_MANIFEST);
  else
    return err_make (err, 0, "manifest: cannot tell its type: no \"mediaType\", "
                             "\"manifests\" or \"layers\"");
  return 0;
}

/* ---- descriptors ------------------------------------------------------- */

static void
descriptor_clear (struct manifest_descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  manifest_platform_clear (&d->platform);
  memset (d, 0, sizeof *d);
}

static int
check_digest (const char *digest, const char *what, struct error **err)
{
  if (sha256_digest_valid (digest))
    return 0;
  if (strncmp (digest, "sha512:", 7) == 0 || strncmp (digest, "sha384:", 7) == 0)
    return err_make (err, 0,
                     "%s: unsupported digest algorithm in \"%.80s\": only sha256 is supported",
                     what, digest);
  return err_make (err, 0, "%s: invalid digest \"%.80s\"", what, digest);
}

static int
parse_size (json_object *o, const char *what, int64_t *out, struct error **err)
{
  json_object *v;
  int r = get_typed (o, "size", json_type_int, what, &v, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "%s: missing \"size\"", what);
  *out = json_object_get_int64 (v);
  /* json-c saturates out-of-range numbers at INT64_MIN/INT64_MAX. */
  if (*out < 0 || *out == INT64_MAX)
    return err_make (err, 0, "%s: invalid size %" PRId64, what, *out);
  return 0;
}

/* The fields every descriptor has: mediaType, digest, size. */
static int
parse_descriptor (json_object *o, const char *what, struct manifest_descriptor *d,
                  struct error **err)
{
  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "%s: must be an object", what);
  if (get_word (o, "mediaType", what, true, &d->media_type, err) < 0
      || require_string (o, "digest", what, &d->digest, err) < 0)
    return -1;
  if (check_digest (d->digest, what, err) < 0)
    return -1;
  return parse_size (o, what, &d->size, err);
}

static int
parse_platform (json_object *o, const char *what, struct manifest_descriptor *d,
                struct error **err)
{
  json_object *p;
  cleanup_free char *pwhat = xasprintf ("%s: platform", what);
  int r = get_typed (o, "platform", json_type_object, what, &p, err);

  if (r <= 0)
    return r;
  if (get_word (p, "os", pwhat, true, &d->platform.os, err) < 0
      || get_word (p, "architecture", pwhat, true, &d->platform.architecture, err) < 0
      || get_word (p, "variant", pwhat, false, &d->platform.variant, err) < 0
      || get_word (p, "os.version", pwhat, false, &d->platform.os_version, err) < 0)
    return -1;
  d->has_platform = true;
  return 0;
}

static int
check_schema_version (json_object *root, struct error **err)
{
  json_object *v;
  int r = get_typed (root, "schemaVersion", json_type_int, "manifest", &v, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "manifest: missing \"schemaVersion\"");
  if (json_object_get_int64 (v) != 2)
    return err_make (err, 0, "manifest: unsupported schemaVersion %" PRId64,
                     json_object_get_int64 (v));
  return 0;
}

/* ---- index ------------------------------------------------------------- */

static int
parse_index (json_object *root, struct manifest *m, struct error **err)
{
  json_object *a;
  size_t n;
  int r = get_typed (root, "manifests", json_type_array, "index", &a, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "index: missing \"manifests\"");
  n = json_object_array_length (a);
  if (n > MANIFEST_MAX_ENTRIES)
    return err_make (err, 0, "index: %zu entries, more than the limit of %d", n,
                     MANIFEST_MAX_ENTRIES);
  m->kind = MANIFEST_INDEX;
  m->entries = xcalloc (n ? n : 1, sizeof *m->entries);
  for (size_t i = 0; i < n; i++)
    {
      struct manifest_descriptor d = { 0 };
      cleanup_free char *what = xasprintf ("index: manifests[%zu]", i);
      json_object *e = json_object_array_get_idx (a, i);

      if (parse_descriptor (e, what, &d, err) < 0 || parse_platform (e, what, &d, err) < 0)
        {
          descriptor_clear (&d);
          return -1;
        }
      /* Nested indexes and artifacts (attestations, signatures) are not
       * images we could run. */
      if (!manifest_media_type_is_image (d.media_type))
        {
          descriptor_clear (&d);
          continue;
        }
      m->entries[m->n_entries++] = d;
    }
  return 0;
}

/* ---- image manifest ---------------------------------------------------- */

static int
classify_layer (struct manifest_descriptor *d, const char *what, struct error **err)
{
  for (size_t i = 0; i < sizeof layer_types / sizeof layer_types[0]; i++)
    {
      if (strcmp (d->media_type, layer_types[i].media_type) != 0)
        continue;
      /* Foreign layers live outside the registry (Windows base images);
       * their content is not ours to fetch and never a Linux rootfs. */
      if (layer_types[i].is_foreign)
        return err_make (err, 0, "%s: non-distributable (foreign) layer %s is not supported",
                         what, d->digest);
      d->compression = layer_types[i].compression;
      return 0;
    }
  return err_make (err, 0, "%s: unsupported layer media type \"%.100s\"", what, d->media_type);
}

static int
parse_config_descriptor (json_object *root, struct manifest *m, struct error **err)
{
  json_object *c;
  int r = get_typed (root, "config", json_type_object, "manifest", &c, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "manifest: missing \"config\"");
  if (parse_descriptor (c, "manifest: config", &m->config, err) < 0)
    return -1;
  if (strcmp (m->config.media_type, MANIFEST_MT_OCI_CONFIG) != 0
      && strcmp (m->config.media_type, MANIFEST_MT_DOCKER_CONFIG) != 0)
    return err_make (err, 0, "manifest: not a container image: config media type \"%.100s\"",
                     m->config.media_type);
  if (m->config.size > MANIFEST_CONFIG_MAX_SIZE)
    return err_make (err, 0, "manifest: config size %" PRId64 " is larger than the limit of %u",
                     m->config.size, MANIFEST_CONFIG_MAX_SIZE);
  return 0;
}

static int
parse_image (json_object *root, struct manifest *m, struct error **err)
{
  json_object *a;
  size_t n;
  int r;

  m->kind = MANIFEST_IMAGE;
  if (parse_config_descriptor (root, m, err) < 0)
    return -1;
  r = get_typed (root, "layers", json_type_array, "manifest", &a, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "manifest: missing \"layers\"");
  n = json_object_array_length (a);
  if (n > MANIFEST_MAX_LAYERS)
    return err_make (err, 0, "manifest: %zu layers, more than the limit of %d", n,
                     MANIFEST_MAX_LAYERS);
  m->layers = xcalloc (n ? n : 1, sizeof *m->layers);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *what = xasprintf ("manifest: layers[%zu]", i);

      m->n_layers = i + 1;
      if (parse_descriptor (json_object_array_get_idx (a, i), what, &m->layers[i], err) < 0
          || classify_layer (&m->layers[i], what, err) < 0)
        return -1;
    }
  return 0;
}

int
manifest_parse (const char *data, size_t len, const char *media_type, struct manifest **out,
                struct error **err)
{
  cleanup_json json_object *root = NULL;
  cleanup_manifest struct manifest *m = NULL;
  cleanup_free char *mt = NULL;

  if (len > MANIFEST_MAX_SIZE)
    return err_make (err, 0, "manifest: %zu bytes, larger than the limit of %u", len,
                     MANIFEST_MAX_SIZE);
  root = jobj_parse (data, len, "manifest", err);
  if (root == NULL)
    return -1;
  if (!json_object_is_type (root, json_type_object))
    return err_make (err, 0, "manifest: not a JSON object");
  if (resolve_media_type (root, media_type, &mt, err) < 0)
    return -1;
  if (is_schema1 (mt))
    return err_make (err, 0, "manifest: the image uses the Docker schema 1 format, which is "
                             "not supported: push it again with a current docker or podman");
  if (!manifest_media_type_is_index (mt) && !manifest_media_type_is_image (mt))
    return err_make (err, 0, "manifest: unsupported media type \"%.100s\"", mt);
  if (check_schema_version (root, err) < 0)
    return -1;
  m = xmalloc0 (sizeof *m);
  m->media_type = steal_ptr (&mt);
  if (manifest_media_type_is_index (m->media_type) ? parse_index (root, m, err) < 0
                                                   : parse_image (root, m, err) < 0)
    return -1;
  *out = steal_ptr (&m);
  return 0;
}

void
manifest_free (struct manifest *m)
{
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n_entries; i++)
    descriptor_clear (&m->entries[i]);
  for (size_t i = 0; i < m->n_layers; i++)
    descriptor_clear (&m->layers[i]);
  descriptor_clear (&m->config);
  free (m->entries);
  free (m->layers);
  free (m->media_type);
  free (m);
}

void
manifest_freep (struct manifest **m)
{
  manifest_free (*m);
  *m = NULL;
}

/* ---- platforms --------------------------------------------------------- */

void
manifest_platform_clear (struct manifest_platform *p)
{
  free (p->os);
  free (p->architecture);
  free (p->variant);
  free (p->os_version);
  memset (p, 0, sizeof *p);
}

static void
set_str (char **slot, const char *value)
{
  free (*slot);
  *slot = value ? xstrdup (value) : NULL;
}

static void
lower_in_place (char *s)
{
  for (; s && *s; s++)
    *s = (char) tolower ((unsigned char) *s);
}

/* Architecture aliases: the name, its OCI name, and the variant it implies
 * (NULL: keep the given one). */
static const struct
{
  const char *alias;
  const char *arch;
  const char *variant;
} arch_aliases[] = {
  { "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL }, { "aarch64", "arm64", NULL },
  { "armhf", "arm", "v7" },    { "armel", "arm", "v6" },    { "i386", "386", NULL },
  { "i486", "386", NULL },     { "i586", "386", NULL },     { "i686", "386", NULL },
};

void
manifest_platform_normalize (struct manifest_platform *p)
{
  lower_in_place (p->os);
  lower_in_place (p->architecture);
  lower_in_place (p->variant);
  if (p->variant && *p->variant == '\0')
    set_str (&p->variant, NULL);
  for (size_t i = 0; p->architecture && i < sizeof arch_aliases / sizeof arch_aliases[0]; i++)
    if (strcmp (p->architecture, arch_aliases[i].alias) == 0)
      {
        set_str (&p->architecture, arch_aliases[i].arch);
        if (arch_aliases[i].variant)
          set_str (&p->variant, arch_aliases[i].variant);
        break;
      }
  /* Variants written as bare numbers ("7", "8") mean "v7", "v8". */
  if (p->variant && isdigit ((unsigned char) p->variant[0]))
    {
      char *v = xasprintf ("v%s", p->variant);
      free (p->variant);
      p->variant = v;
    }
  if (p->architecture && strcmp (p->architecture, "arm64") == 0
      && (p->variant == NULL || strcmp (p->variant, "v8.0") == 0))
    set_str (&p->variant, "v8");
  else if (p->architecture && strcmp (p->architecture, "arm") == 0 && p->variant == NULL)
    set_str (&p->variant, "v7");
  else if (p->architecture && strcmp (p->architecture, "amd64") == 0 && p->variant
           && strcmp (p->variant, "v1") == 0)
    set_str (&p->variant, NULL);
}

void
manifest_arch_from_uname (const char *machine, char **arch, char **variant)
{
  struct manifest_platform p = { 0 };

  *variant = NULL;
  if (strncmp (machine, "armv", 4) == 0 && isdigit ((unsigned char) machine[4]))
    {
      /* armv7l, armv6l; a 32-bit armv8l kernel runs the v7 instruction set. */
      int level = machine[4] - '0';
      *arch = xstrdup ("arm");
      *variant = xasprintf ("v%d", level >= 8 ? 7 : level);
      return;
    }
  p.architecture = xstrdup (machine);
  manifest_platform_normalize (&p);
  *arch = steal_ptr (&p.architecture);
  *variant = steal_ptr (&p.variant);
  manifest_platform_clear (&p);
}

void
manifest_platform_host (struct manifest_platform *out)
{
  struct utsname u;

  memset (out, 0, sizeof *out);
  out->os = xstrdup ("linux");
  if (uname (&u) < 0)
    strcpy (u.machine, "x86_64");
  manifest_arch_from_uname (u.machine, &out->architecture, &out->variant);
}

static bool
is_platform_word (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (!isalnum ((unsigned char) *s) && *s != '_' && *s != '-' && *s != '.')
      return false;
  return true;
}

int
manifest_platform_parse (const char *s, struct manifest_platform *out, struct error **err)
{
  cleanup_strv char **parts = str_split (s, '/');
  size_t n = strv_len (parts);
  struct manifest_platform p = { 0 };

  if (n < 1 || n > 3)
    return err_make (err, 0, "invalid platform \"%s\": use os/arch[/variant]", s);
  for (size_t i = 0; i < n; i++)
    if (!is_platform_word (parts[i]))
      return err_make (err, 0, "invalid platform \"%s\": use os/arch[/variant]", s);
  if (n == 1)
    {
      p.os = xstrdup ("linux");
      p.architecture = xstrdup (parts[0]);
    }
  else
    {
      p.os = xstrdup (parts[0]);
      p.architecture = xstrdup (parts[1]);
      p.variant = n == 3 ? xstrdup (parts[2]) : NULL;
    }
  manifest_platform_normalize (&p);
  *out = p;
  return 0;
}

char *
manifest_platform_format (const struct manifest_platform *p)
{
  return xasprintf ("%s/%s%s%s", p->os ? p->os : "", p->architecture ? p->architecture : "",
                    p->variant ? "/" : "", p->variant ? p->variant : "");
}

static void
platform_copy (struct manifest_platform *dst, const struct manifest_platform *src)
{
  memset (dst, 0, sizeof *dst);
  dst->os = xstrdup (src->os);
  dst->architecture = xstrdup (src->architecture);
  dst->variant = xstrdup (src->variant);
  dst->os_version = xstrdup (src->os_version);
}

static bool
str_eq (const char *a, const char *b)
{
  return (a == NULL && b == NULL) || (a && b && strcmp (a, b) == 0);
}

/* The variants WANT accepts, best first: itself, and for arm the older
 * ones its CPU also runs. */
static char **
acceptable_variants (const struct manifest_platform *want, size_t *n)
{
  char **v = xcalloc (9, sizeof *v);

  *n = 0;
  v[(*n)++] = xstrdup (want->variant);
  if (want->architecture && strcmp (want->architecture, "arm") == 0 && want->variant
      && want->variant[0] == 'v' && want->variant[1] >= '6' && want->variant[1] <= '8'
      && want->variant[2] == '\0')
    for (int level = want->variant[1] - '0' - 1; level >= 5; level--)
      v[(*n)++] = xasprintf ("v%d", level);
  return v;
}

static const struct manifest_descriptor *
find_variant (const struct manifest *m, const struct manifest_platform *want,
              const char *variant)
{
  for (size_t i = 0; i < m->n_entries; i++)
    {
      const struct manifest_descriptor *e = &m->entries[i];
      struct manifest_platform p;
      bool match;

      if (!e->has_platform)
        continue;
      platform_copy (&p, &e->platform);
      manifest_platform_normalize (&p);
      match = str_eq (p.os, want->os) && str_eq (p.architecture, want->architecture)
              && str_eq (p.variant, variant);
      manifest_platform_clear (&p);
      if (match)
        return e;
    }
  return NULL;
}

static char *
available_platforms (const struct manifest *m)
{
  struct buf b = BUF_INIT;

  for (size_t i = 0; i < m->n_entries; i++)
    {
      cleanup_free char *s = NULL;

      if (!m->entries[i].has_platform)
        continue;
      s = manifest_platform_format (&m->entries[i].platform);
      if (b.len)
        buf_append_str (&b, ", ");
      buf_append_str (&b, s);
    }
  return buf_steal (&b);
}

const struct manifest_descriptor *
manifest_select_platform (const struct manifest *m, const struct manifest_platform *want,
                          struct error **err)
{
  struct manifest_platform w;
  const struct manifest_descriptor *found = NULL;
  cleanup_free char *avail = NULL;
  char **variants;
  size_t n;

  if (m->kind != MANIFEST_INDEX)
    return err_make (err, 0, "choosing a platform: not an image index"), NULL;
  platform_copy (&w, want);
  manifest_platform_normalize (&w);
  variants = acceptable_variants (&w, &n);
  for (size_t i = 0; i < n && found == NULL; i++)
    found = find_variant (m, &w, variants[i]);
  for (size_t i = 0; i < n; i++)
    free (variants[i]);
  free (variants);
  if (found == NULL)
    {
      avail = available_platforms (m);
      err_make (err, 0, "no image found in image index for architecture \"%s\"%s%s%s, OS \"%s\" "
                        "(available: %s)",
                w.architecture ? w.architecture : "", w.variant ? ", variant \"" : "",
                w.variant ? w.variant : "", w.variant ? "\"" : "", w.os ? w.os : "",
                *avail ? avail : "none");
    }
  manifest_platform_clear (&w);
  return found;
}

/* ---- image config ------------------------------------------------------ */

static int
parse_container_config (json_object *root, struct manifest_config *c, struct error **err)
{
  const char *what = "config: config";
  json_object *cc;
  int r = get_typed (root, "config", json_type_object, "config", &cc, err);

  if (r <= 0)
    return r;
  if (get_string (cc, "User", what, &c->user, err) < 0
      || get_strv (cc, "Env", what, &c->env, err) < 0
      || get_strv (cc, "Entrypoint", what, &c->entrypoint, err) < 0
      || get_strv (cc, "Cmd", what, &c->cmd, err) < 0
      || get_string (cc, "WorkingDir", what, &c->working_dir, err) < 0
      || get_keys (cc, "Labels", what, &c->label_keys, &c->label_values, err) < 0
      || get_keys (cc, "ExposedPorts", what, &c->exposed_ports, NULL, err) < 0
      || get_keys (cc, "Volumes", what, &c->volumes, NULL, err) < 0
      || get_string (cc, "StopSignal", what, &c->stop_signal, err) < 0)
    return -1;
  return 0;
}

static int
parse_rootfs (json_object *root, long n_layers, struct manifest_config *c, struct error **err)
{
  json_object *rootfs;
  cleanup_free char *type = NULL;
  int r = get_typed (root, "rootfs", json_type_object, "config", &rootfs, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "config: missing \"rootfs\"");
  if (require_string (rootfs, "type", "config: rootfs", &type, err) < 0)
    return -1;
  if (strcmp (type, "layers") != 0)
    return err_make (err, 0, "config: unsupported rootfs type \"%.40s\"", type);
  r = get_strv (rootfs, "diff_ids", "config: rootfs", &c->diff_ids, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "config: missing \"rootfs\".\"diff_ids\"");
  c->n_diff_ids = strv_len (c->diff_ids);
  for (size_t i = 0; i < c->n_diff_ids; i++)
    if (check_digest (c->diff_ids[i], "config: rootfs.diff_ids", err) < 0)
      return -1;
  if (n_layers >= 0 && c->n_diff_ids != (size_t) n_layers)
    return err_make (err, 0, "config: %zu diff_ids for %ld layers", c->n_diff_ids, n_layers);
  return 0;
}

static int
parse_history (json_object *root, struct manifest_config *c, struct error **err)
{
  json_object *a;
  size_t n;
  int r = get_typed (root, "history", json_type_array, "config", &a, err);

  if (r <= 0)
    return r;
  n = json_object_array_length (a);
  c->history = xcalloc (n ? n : 1, sizeof *c->history);
  for (size_t i = 0; i < n; i++)
    {
      struct manifest_history *h = &c->history[i];
      json_object *e = json_object_array_get_idx (a, i), *b;
      cleanup_free char *what = xasprintf ("config: history[%zu]", i);

      c->n_history = i + 1;
      if (!json_object_is_type (e, json_type_object))
        return err_make (err, 0, "%s: must be an object", what);
      if (get_string (e, "created", what, &h->created, err) < 0
          || get_string (e, "created_by", what, &h->created_by, err) < 0
          || get_string (e, "author", what, &h->author, err) < 0
          || get_string (e, "comment", what, &h->comment, err) < 0
          || get_typed (e, "empty_layer", json_type_boolean, what, &b, err) < 0)
        return -1;
      h->empty_layer = b && json_object_get_boolean (b);
    }
  return 0;
}

int
manifest_config_parse (const char *data, size_t len, long n_layers,
                       struct manifest_config **out, struct error **err)
{
  cleanup_json json_object *root = NULL;
  cleanup_manifest_config struct manifest_config *c = NULL;

  if (len > MANIFEST_CONFIG_MAX_SIZE)
    return err_make (err, 0, "config: %zu bytes, larger than the limit of %u", len,
                     MANIFEST_CONFIG_MAX_SIZE);
  root = jobj_parse (data, len, "image config", err);
  if (root == NULL)
    return -1;
  if (!json_object_is_type (root, json_type_object))
    return err_make (err, 0, "config: not a JSON object");
  c = xmalloc0 (sizeof *c);
  if (get_string (root, "architecture", "config", &c->architecture, err) < 0
      || get_string (root, "os", "config", &c->os, err) < 0
      || get_string (root, "variant", "config", &c->variant, err) < 0
      || get_string (root, "created", "config", &c->created, err) < 0
      || get_string (root, "author", "config", &c->author, err) < 0
      || parse_container_config (root, c, err) < 0 || parse_rootfs (root, n_layers, c, err) < 0
      || parse_history (root, c, err) < 0)
    return -1;
  *out = steal_ptr (&c);
  return 0;
}

void
manifest_config_free (struct manifest_config *c)
{
  if (c == NULL)
    return;
  free (c->architecture);
  free (c->os);
  free (c->variant);
  free (c->created);
  free (c->author);
  free (c->user);
  strv_free (c->env);
  strv_free (c->entrypoint);
  strv_free (c->cmd);
  free (c->working_dir);
  strv_free (c->label_keys);
  strv_free (c->label_values);
  strv_free (c->exposed_ports);
  strv_free (c->volumes);
  free (c->stop_signal);
  strv_free (c->diff_ids);
  for (size_t i = 0; i < c->n_history; i++)
    {
      free (c->history[i].created);
      free (c->history[i].created_by);
      free (c->history[i].author);
      free (c->history[i].comment);
    }
  free (c->history);
  free (c);
}

void
manifest_config_freep (struct manifest_config **c)
{
  manifest_config_free (*c);
  *c = NULL;
}
