/* Image archives in and out of the store.
 *
 * load:
 *  1. read_input: every regular file of the tarball (or layout directory)
 *     is copied once, hashed on the way: small ones into memory, large
 *     ones into blob stages in the store (same file system, so a layer
 *     blob is committed by a rename, never copied again).  Links are kept
 *     as names.  Archive names are never used as file system paths.
 *  2. index_members: sorted for lookup; duplicate names are an error.
 *  3. load_all: the format decides how images are found (manifest.json,
 *     index.json + oci-layout, or a "dir:" layout); every path is cleaned
 *     and resolved inside the archive only (resolve_member), every blob
 *     checked against its digest and size, every uncompressed docker layer
 *     against its diff ID, before anything is stored.
 *  4. commit_pending, per image: blobs, config, layers (extracted in the
 *     user namespace by image_layers_ensure(), which checks the diff IDs),
 *     manifest, then the image record: the commit point.
 *
 * save: the stored config, manifest and layer blobs are written as they
 * are (OCI and dir formats) or with layers decompressed to the tar a
 * docker-archive wants, hashed while written and checked against the
 * diff ID.
 *
 * import: the tarball becomes a layer blob and a layer as in load, and a
 * config is made for it with the --change instructions applied. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image_archive.h"
#include "image_layers.h"
#include "images.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "reference.h"
#include "storage/storage.h"

#define COPY_BUF_SIZE (256u << 10)
/* Files up to this size are kept in memory while an archive is read (the
 * JSON files, small layers), up to MEMBERS_MEM_MAX in all. */
#define MEMBER_SMALL_MAX (1u << 20)
#define MEMBERS_MEM_MAX (64u << 20)
#define MAX_LINK_HOPS 16
#define MAX_DIR_DEPTH 16
#define MAGIC_LEN 6

#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"
#define DIR_TRANSPORT_VERSION "Directory Transport Version: 1.1\n"

/* ==== paths inside an archive ============================================ */

enum path_mode
{
  PATH_RELATIVE,    /* a reference in manifest.json: "/x" is an error */
  PATH_MEMBER,      /* a tar member name: "/x" counts from the root */
  PATH_CLAMP_ROOT,  /* a WORKDIR: ".." at the root stays there */
};

static char *
clean_path (const char *path, enum path_mode mode, struct error **err)
{
  cleanup_buf struct buf out = BUF_INIT;
  const char *p = path;

  if (strlen (path) > IMAGE_ARCHIVE_PATH_MAX)
    return err_make (err, ENAMETOOLONG, "invalid path \"%.64s...\": longer than %d bytes",
                     path, IMAGE_ARCHIVE_PATH_MAX), NULL;
  if (*p == '/' && mode == PATH_RELATIVE)
    return err_make (err, 0, "invalid path \"%s\": absolute paths are not allowed", path),
           NULL;
  while (*p)
    {
      const char *end = strchr (p, '/');
      size_t n;

      if (end == NULL)
        end = p + strlen (p);
      n = (size_t) (end - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          char *slash = out.len ? strrchr (out.data, '/') : NULL;

          if (out.len == 0 && mode != PATH_CLAMP_ROOT)
            return err_make (err, 0, "invalid path \"%s\": it leads outside the archive", path),
                   NULL;
          if (out.len)
            buf_truncate (&out, slash ? (size_t) (slash - out.data) : 0);
        }
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (out.len)
            buf_append_char (&out, '/');
          buf_append (&out, p, n);
        }
      p = *end ? end + 1 : end;
    }
  if (out.len == 0 && mode != PATH_CLAMP_ROOT)
    return err_make (err, 0, "invalid path \"%s\": it names no file", path), NULL;
  return buf_steal (&out);
}

char *
image_archive_clean_path (const char *path, struct error **err)
{
  return clean_path (path, PATH_RELATIVE, err);
}

/* ==== manifest.json and index.json ======================================= */

static json_object *
parse_json_doc (const char *data, size_t len, const char *what, json_type type,
                struct error **err)
{
  json_object *o;

  if (len > IMAGE_ARCHIVE_JSON_MAX)
    return err_make (err, 0, "%s: %zu bytes is more than the %u allowed", what, len,
                     IMAGE_ARCHIVE_JSON_MAX), NULL;
  o = jobj_parse (data, len, what, err);
  if (o == NULL)
    return NULL;
  if (!json_object_is_type (o, type))
    {
      json_object_put (o);
      return err_make (err, 0, "%s: expected a JSON %s", what,
                       type == json_type_array ? "array" : "object"), NULL;
    }
  return o;
}

/* O[KEY] as a vector of at most MAX strings.  A missing or null member is
 * an empty vector unless IS_REQUIRED.  With IS_PATH each is cleaned. */
static int
get_strings (json_object *o, const char *key, bool is_required, size_t max, bool is_path,
             char ***out, size_t *n_out, struct error **err)
{
  cleanup_strv char **v = xcalloc (1, sizeof *v);
  json_object *a = NULL;
  size_t n;

  if (!json_object_object_get_ex (o, key, &a) || a == NULL)
    {
      if (is_required)
        return err_make (err, 0, "\"%s\" is missing", key);
      *out = steal_ptr (&v);
      *n_out = 0;
      return 0;
    }
  if (!json_object_is_type (a, json_type_array))
    return err_make (err, 0, "\"%s\" must be an array of strings", key);
  n = json_object_array_length (a);
  if (n > max)
    return err_make (err, 0, "\"%s\" has %zu entries, more than the %zu allowed", key, n, max);
  for (size_t i = 0; i < n; i++)
    {
      json_object *s = json_object_array_get_idx (a, i);
      cleanup_free char *clean = NULL;

      if (!json_object_is_type (s, json_type_string))
        return err_make (err, 0, "\"%s\"[%zu] must be a string", key, i);
      if (is_path)
        {
          clean = clean_path (json_object_get_string (s), PATH_RELATIVE, err);
          if (clean == NULL)
            return err_wrap (err, "\"%s\"[%zu]", key, i);
        }
      v = strv_append (v, clean ? clean : json_object_get_string (s));
    }
  *out = steal_ptr (&v);
  *n_out = n;
  return 0;
}

static int
parse_docker_entry (json_object *o, struct image_archive_docker_entry *e, struct error **err)
{
  json_object *config = NULL;
  size_t n_tags = 0;

  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "not a JSON object");
  if (!json_object_object_get_ex (o, "Config", &config)
      || !json_object_is_type (config, json_type_string))
    return err_make (err, 0, "\"Config\" must be a string");
  e->config = clean_path (json_object_get_string (config), PATH_RELATIVE, err);
  if (e->config == NULL)
    return err_wrap (err, "\"Config\"");
  if (get_strings (o, "RepoTags", false, IMAGE_ARCHIVE_MAX_TAGS, false, &e->repo_tags, &n_tags,
                   err) < 0)
    return -1;
  return get_strings (o, "Layers", true, MANIFEST_MAX_LAYERS, true, &e->layers, &e->n_layers,
                      err);
}

int
image_archive_parse_docker_manifest (const char *data, size_t len,
                                     struct image_archive_docker_entry **out, size_t *n_out,
                                     struct error **err)
{
  cleanup_json json_object *root = parse_json_doc (data, len, "manifest.json",
                                                   json_type_array, err);
  struct image_archive_docker_entry *v;
  size_t n;

  if (root == NULL)
    return -1;
  n = json_object_array_length (root);
  if (n == 0)
    return err_make (err, 0, "manifest.json lists no image");
  if (n > IMAGE_ARCHIVE_MAX_IMAGES)
    return err_make (err, 0, "manifest.json lists %zu images, more than the %d allowed", n,
                     IMAGE_ARCHIVE_MAX_IMAGES);
  v = xcalloc (n, sizeof *v);
  for (size_t i = 0; i < n; i++)
    if (parse_docker_entry (json_object_array_get_idx (root, i), &v[i], err) < 0)
      {
        image_archive_docker_entries_free (v, n);
        return err_wrap (err, "manifest.json: image %zu", i + 1);
      }
  *out = v;
  *n_out = n;
  return 0;
}

void
image_archive_docker_entries_free (struct image_archive_docker_entry *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].config);
      strv_free (v[i].repo_tags);
      strv_free (v[i].layers);
    }
  free (v);
}

/* 1 when O is an image or index descriptor (filled into E), 0 for other
 * media types. */
static int
parse_oci_entry (json_object *o, struct image_archive_oci_entry *e, struct error **err)
{
  json_object *annotations = NULL, *size = NULL;
  const char *mt, *digest, *name;

  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "not a JSON object");
  mt = jobj_require_string (o, "mediaType", "descriptor", err);
  if (mt == NULL)
    return -1;
  if (!manifest_media_type_is_image (mt) && !manifest_media_type_is_index (mt))
    return 0;
  digest = jobj_require_string (o, "digest", "descriptor", err);
  if (digest == NULL)
    return -1;
  if (!sha256_digest_valid (digest))
    return err_make (err, 0, "invalid digest \"%s\": expected sha256:<64 hex digits>", digest);
  if (!json_object_object_get_ex (o, "size", &size) || !json_object_is_type (size, json_type_int)
      || json_object_get_int64 (size) < 0)
    return err_make (err, 0, "\"size\" must be a non-negative integer");
  annotations = jobj_get_object (o, "annotations");
  name = jobj_get_string (annotations, ANNOTATION_CONTAINERD_NAME);
  if (name == NULL || *name == '\0')
    name = jobj_get_string (annotations, ANNOTATION_REF_NAME);
  e->media_type = xstrdup (mt);
  e->digest = xstrdup (digest);
  e->size = json_object_get_int64 (size);
  e->name = name && *name ? xstrdup (name) : NULL;
  return 1;
}

int
image_archive_parse_oci_index (const char *data, size_t len, struct image_archive_oci_entry **out,
                               size_t *n_out, struct error **err)
{
  cleanup_json json_object *root = parse_json_doc (data, len, "index.json",
                                                   json_type_object, err);
  struct image_archive_oci_entry *v;
  json_object *manifests, *version = NULL;
  size_t n, used = 0;

  if (root == NULL)
    return -1;
  if (json_object_object_get_ex (root, "schemaVersion", &version)
      && (!json_object_is_type (version, json_type_int) || json_object_get_int64 (version) != 2))
    return err_make (err, 0, "index.json: \"schemaVersion\" must be 2");
  manifests = jobj_get_array (root, "manifests");
  if (manifests == NULL)
    return err_make (err, 0, "index.json: \"manifests\" must be an array");
  n = json_object_array_length (manifests);
  if (n > MANIFEST_MAX_ENTRIES)
    return err_make (err, 0, "index.json lists %zu manifests, more than the %d allowed", n,
                     MANIFEST_MAX_ENTRIES);
  v = xcalloc (n ? n : 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      int r = parse_oci_entry (json_object_array_get_idx (manifests, i), &v[used], err);
      if (r < 0)
        {
          image_archive_oci_entries_free (v, used);
          return err_wrap (err, "index.json: manifests[%zu]", i);
        }
      used += (size_t) r;
    }
  if (used == 0)
    {
      free (v);
      return err_make (err, 0, "index.json lists no image");
    }
  *out = v;
  *n_out = used;
  return 0;
}

void
image_archive_oci_entries_free (struct image_archive_oci_entry *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].media_type);
      free (v[i].digest);
      free (v[i].name);
    }
  free (v);
}

/* ==== Dockerfile change instructions ===================================== */

/* VALUE as a JSON array of strings (the exec form), or NULL. */
static json_object *
exec_form (const char *value)
{
  json_object *o;

  if (value[0] != '[')
    return NULL;
  o = jobj_parse (value, strlen (value), "change", NULL);
  if (o == NULL)
    return NULL;
  if (!json_object_is_type (o, json_type_array))
    {
      json_object_put (o);
      return NULL;
    }
  for (size_t i = 0; i < json_object_array_length (o); i++)
    if (!json_object_is_type (json_object_array_get_idx (o, i), json_type_string))
      {
        json_object_put (o);
        return NULL;
      }
  return o;
}

/* The exec form, or the shell form run by /bin/sh -c. */
static json_object *
command_form (const char *value)
{
  json_object *o = exec_form (value);

  if (o != NULL)
    return o;
  o = json_object_new_array ();
  json_object_array_add (o, json_object_new_string ("/bin/sh"));
  json_object_array_add (o, json_object_new_string ("-c"));
  json_object_array_add (o, json_object_new_string (value));
  return o;
}

/* CONFIG[KEY] when it has TYPE; otherwise a new empty one put there. */
static json_object *
member_of_type (json_object *config, const char *key, json_type type)
{
  json_object *v = NULL;

  if (json_object_object_get_ex (config, key, &v) && json_object_is_type (v, type))
    return v;
  v = type == json_type_array ? json_object_new_array () : json_object_new_object ();
  json_object_object_add (config, key, v);
  return v;
}

/* Words as a Dockerfile splits ENV, LABEL and VOLUME arguments: blanks
 * separate, quotes group, a backslash escapes the next character (inside
 * double quotes only '"' and '\'; inside single quotes nothing). */
static int
split_words (const char *value, char ***out, struct error **err)
{
  cleanup_strv char **words = xcalloc (1, sizeof *words);
  const char *p = value;

  for (;;)
    {
      cleanup_buf struct buf w = BUF_INIT;
      char quote = 0;

      while (isspace ((unsigned char) *p))
        p++;
      if (*p == '\0')
        break;
      for (; *p && (quote || !isspace ((unsigned char) *p)); p++)
        {
          if (quote == 0 && (*p == '"' || *p == '\''))
            quote = *p;
          else if (quote && *p == quote)
            quote = 0;
          else if (*p == '\\' && quote != '\'' && p[1] != '\0'
                   && (quote == 0 || p[1] == '"' || p[1] == '\\'))
            buf_append_char (&w, *++p);
          else
            buf_append_char (&w, *p);
        }
      if (quote)
        return err_make (err, 0, "unterminated %s quote", quote == '"' ? "double" : "single");
      words = strv_append (words, w.data ? w.data : "");
    }
  *out = steal_ptr (&words);
  return 0;
}

/* KEY=VALUE pairs (every word) or the legacy "KEY VALUE..." form, where
 * the value is the rest of the line. */
static int
parse_pairs (const char *what, const char *value, char ***keys, char ***values,
             struct error **err)
{
  cleanup_strv char **words = NULL, **k = xcalloc (1, sizeof *k), **v = xcalloc (1, sizeof *v);

  if (split_words (value, &words, err) < 0)
    return -1;
  if (words[0] == NULL)
    return err_make (err, 0, "%s needs KEY=VALUE", what);
  if (strchr (words[0], '=') == NULL)
    {
      const char *rest = value + strcspn (value, " \t\r\n\v\f");

      while (isspace ((unsigned char) *rest))
        rest++;
      if (*rest == '\0')
        return err_make (err, 0, "%s needs a value for \"%s\"", what, words[0]);
      k = strv_append (k, words[0]);
      v = strv_append (v, rest);
    }
  else
    for (char **w = words; *w; w++)
      {
        char *eq = strchr (*w, '=');
        cleanup_free char *key = NULL;

        if (eq == NULL)
          return err_make (err, 0, "%s: \"%s\" is not KEY=VALUE", what, *w);
        if (eq == *w)
          return err_make (err, 0, "%s: empty key in \"%s\"", what, *w);
        key = xstrndup (*w, (size_t) (eq - *w));
        k = strv_append (k, key);
        v = strv_append (v, eq + 1);
      }
  *keys = steal_ptr (&k);
  *values = steal_ptr (&v);
  return 0;
}

static int
change_cmd (json_object *config, const char *value, struct error **err)
{
  if (*value == '\0')
    return err_make (err, 0, "CMD needs a command");
  json_object_object_add (config, "Cmd", command_form (value));
  return 0;
}

static int
change_entrypoint (json_object *config, const char *value, struct error **err)
{
  (void) err;
  /* An empty ENTRYPOINT clears it, as "ENTRYPOINT []" does. */
  json_object_object_add (config, "Entrypoint",
                          *value ? command_form (value) : json_object_new_array ());
  return 0;
}

static void
set_env (json_object *env, const char *key, const char *value)
{
  size_t klen = strlen (key);
  char *entry = xasprintf ("%s=%s", key, value);

  for (size_t i = 0; i < json_object_array_length (env); i++)
    {
      const char *s = json_object_get_string (json_object_array_get_idx (env, i));
      if (s && strncmp (s, key, klen) == 0 && s[klen] == '=')
        {
          json_object_array_put_idx (env, i, json_object_new_string (entry));
          free (entry);
          return;
        }
    }
  json_object_array_add (env, json_object_new_string (entry));
  free (entry);
}

static int
change_env (json_object *config, const char *value, struct error **err)
{
  cleanup_strv char **keys = NULL, **values = NULL;
  json_object *env;

  if (parse_pairs ("ENV", value, &keys, &values, err) < 0)
    return -1;
  env = member_of_type (config, "Env", json_type_array);
  for (size_t i = 0; keys[i]; i++)
    set_env (env, keys[i], values[i]);
  return 0;
}

static int
change_label (json_object *config, const char *value, struct error **err)
{
  cleanup_strv char **keys = NULL, **values = NULL;
  json_object *labels;

  if (parse_pairs ("LABEL", value, &keys, &values, err) < 0)
    return -1;
  labels = member_of_type (config, "Labels", json_type_object);
  for (size_t i = 0; keys[i]; i++)
    json_object_object_add (labels, keys[i], json_object_new_string (values[i]));
  return 0;
}

/* "PORT[-END][/PROTO]" added to PORTS as "PORT/proto" keys. */
static int
add_ports (json_object *ports, const char *spec, struct error **err)
{
  const char *slash = strchr (spec, '/');
  cleanup_free char *range = slash ? xstrndup (spec, (size_t) (slash - spec)) : xstrdup (spec);
  cleanup_free char *proto = xstrdup (slash ? slash + 1 : "tcp");
  char *dash = strchr (range, '-');
  uint64_t lo = 0, hi = 0;

  for (char *c = proto; *c; c++)
    *c = (char) tolower ((unsigned char) *c);
  if (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0 && strcmp (proto, "sctp") != 0)
    return err_make (err, 0, "EXPOSE: unknown protocol \"%s\" in \"%s\" (use tcp, udp or sctp)",
                     proto, spec);
  if (dash)
    *dash = '\0';
  if (parse_uint (range, 65535, "port", &lo, err) < 0
      || (dash && parse_uint (dash + 1, 65535, "port", &hi, err) < 0))
    return err_wrap (err, "EXPOSE \"%s\"", spec);
  if (!dash)
    hi = lo;
  if (lo == 0 || hi < lo)
    return err_make (err, 0, "EXPOSE: invalid port \"%s\"", spec);
  for (uint64_t p = lo; p <= hi; p++)
    {
      char key[32];
      snprintf (key, sizeof key, "%u/%s", (unsigned) p, proto);
      json_object_object_add (ports, key, json_object_new_object ());
    }
  return 0;
}

static void
merge_keys (json_object *dst, json_object *src)
{
  json_object_object_foreach (src, key, val)
    json_object_object_add (dst, key, json_object_get (val));
}

static int
change_expose (json_object *config, const char *value, struct error **err)
{
  cleanup_strv char **words = NULL;
  cleanup_json json_object *ports = json_object_new_object ();

  if (split_words (value, &words, err) < 0)
    return -1;
  if (words[0] == NULL)
    return err_make (err, 0, "EXPOSE needs a port");
  for (char **w = words; *w; w++)
    if (add_ports (ports, *w, err) < 0)
      return -1;
  merge_keys (member_of_type (config, "ExposedPorts", json_type_object), ports);
  return 0;
}

static int
change_volume (json_object *config, const char *value, struct error **err)
{
  cleanup_json json_object *array = exec_form (value);
  cleanup_json json_object *vols = json_object_new_object ();
  cleanup_strv char **words = NULL;

  if (array == NULL && split_words (value, &words, err) < 0)
    return -1;
  if (array)
    for (size_t i = 0; i < json_object_array_length (array); i++)
      words = strv_append (words ? words : xcalloc (1, sizeof *words),
                           json_object_get_string (json_object_array_get_idx (array, i)));
  if (words == NULL || words[0] == NULL)
    return err_make (err, 0, "VOLUME needs a path");
  for (char **w = words; *w; w++)
    {
      if (**w == '\0')
        return err_make (err, 0, "VOLUME paths must not be empty");
      json_object_object_add (vols, *w, json_object_new_object ());
    }
  merge_keys (member_of_type (config, "Volumes", json_type_object), vols);
  return 0;
}

static int
change_workdir (json_object *config, const char *value, struct error **err)
{
  const char *base = jobj_get_string (config, "WorkingDir");
  cleanup_free char *joined = NULL, *clean = NULL;

  if (*value == '\0')
    return err_make (err, 0, "WORKDIR needs a path");
  /* A relative WORKDIR continues from the one before, as in a Dockerfile. */
  joined = value[0] == '/' ? xstrdup (value) : xasprintf ("%s/%s", base ? base : "", value);
  clean = clean_path (joined, PATH_CLAMP_ROOT, err);
  if (clean == NULL)
    return -1;
  free (joined);
  joined = xasprintf ("/%s", clean);
  json_object_object_add (config, "WorkingDir", json_object_new_string (joined));
  return 0;
}

static int
change_user (json_object *config, const char *value, struct error **err)
{
  if (*value == '\0')
    return err_make (err, 0, "USER needs a user");
  json_object_object_add (config, "User", json_object_new_string (value));
  return 0;
}

static const char *const signal_names[] = {
  "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
  "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
  "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
};

/* "SIGTERM", "TERM", "15", "SIGRTMIN+3", "RTMAX-1". */
static bool
is_signal (const char *s)
{
  uint64_t n = 0;

  if (isdigit ((unsigned char) *s))
    return parse_uint (s, 64, "signal", &n, NULL) == 0 && n >= 1;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
    if (strcasecmp (s, signal_names[i]) == 0)
      return true;
  if (strncasecmp (s, "RTMIN", 5) == 0 || strncasecmp (s, "RTMAX", 5) == 0)
    {
      char sign = strncasecmp (s, "RTMIN", 5) == 0 ? '+' : '-';
      if (s[5] == '\0')
        return true;
      return s[5] == sign && parse_uint (s + 6, 30, "signal", &n, NULL) == 0 && n >= 1;
    }
  return false;
}

static int
change_stopsignal (json_object *config, const char *value, struct error **err)
{
  if (!is_signal (value))
    return err_make (err, 0, "STOPSIGNAL: unknown signal \"%s\"", value);
  json_object_object_add (config, "StopSignal", json_object_new_string (value));
  return 0;
}

static int
change_onbuild (json_object *config, const char *value, struct error **err)
{
  size_t n = strspn (value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

  if (n == 0)
    return err_make (err, 0, "ONBUILD needs an instruction");
  if ((n == 7 && strncasecmp (value, "ONBUILD", 7) == 0)
      || (n == 4 && strncasecmp (value, "FROM", 4) == 0)
      || (n == 10 && strncasecmp (value, "MAINTAINER", 10) == 0))
    return err_make (err, 0, "ONBUILD cannot trigger %.*s", (int) n, value);
  json_object_array_add (member_of_type (config, "OnBuild", json_type_array),
                         json_object_new_string (value));
  return 0;
}

typedef int (*change_fn) (json_object *config, const char *value, struct error **err);

static const struct
{
  const char *name;
  change_fn apply;
} change_table[] = {
  { "CMD", change_cmd },
  { "ENTRYPOINT", change_entrypoint },
  { "ENV", change_env },
  { "EXPOSE", change_expose },
  { "LABEL", change_label },
  { "ONBUILD", change_onbuild },
  { "STOPSIGNAL", change_stopsignal },
  { "USER", change_user },
  { "VOLUME", change_volume },
  { "WORKDIR", change_workdir },
};

int
image_archive_apply_change (json_object *config, const char *change, struct error **err)
{
  const char *p = change, *word;
  cleanup_free char *value = NULL;
  size_t n;

  while (isspace ((unsigned char) *p))
    p++;
  word = p;
  while (isalpha ((unsigned char) *p))
    p++;
  n = (size_t) (p - word);
  if (n == 0 || (*p && *p != '=' && !isspace ((unsigned char) *p)))
    return err_make (err, 0, "invalid change \"%s\": expected an instruction and its value, "
                     "such as 'CMD [\"sh\"]'", change);
  value = xstrdup (*p ? p + 1 : p);
  str_strip (value);
  for (size_t i = 0; i < sizeof change_table / sizeof change_table[0]; i++)
    if (strlen (change_table[i].name) == n && strncasecmp (word, change_table[i].name, n) == 0)
      {
        if (change_table[i].apply (config, value, err) < 0)
          return err_wrap (err, "invalid change \"%s\"", change);
        return 0;
      }
  return err_make (err, 0, "invalid change \"%s\": unknown instruction \"%.*s\" (use CMD, "
                   "ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or "
                   "WORKDIR)", change, (int) n, word);
}

/* ==== blobs: compression, decompression, manifests ======================= */

enum blob_compression
{
  COMP_NONE,
  COMP_GZIP,
  COMP_ZSTD,
  COMP_XZ,
  COMP_BZIP2,
};

static enum blob_compression
sniff_compression (const unsigned char *b, size_t n)
{
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
    return COMP_GZIP;
  if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
    return COMP_ZSTD;
  if (n >= 6 && memcmp (b, "\xfd" "7zXZ", 6) == 0)
    return COMP_XZ;
  if (n >= 3 && memcmp (b, "BZh", 3) == 0)
    return COMP_BZIP2;
  return COMP_NONE;
}

static enum blob_compression
compression_of (enum manifest_compression c)
{
  return c == MANIFEST_COMPRESSION_GZIP ? COMP_GZIP
         : c == MANIFEST_COMPRESSION_ZSTD ? COMP_ZSTD : COMP_NONE;
}

/* The layer media type for C in a docker or OCI manifest; NULL when that
 * manifest cannot name it. */
static const char *
layer_media_type (enum blob_compression c, bool is_docker)
{
  switch (c)
    {
    case COMP_NONE:
      return is_docker ? "application/vnd.docker.image.rootfs.diff.tar"
                       : "application/vnd.oci.image.layer.v1.tar";
    case COMP_GZIP:
      return is_docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                       : "application/vnd.oci.image.layer.v1.tar+gzip";
    case COMP_ZSTD:
      return is_docker ? NULL : "application/vnd.oci.image.layer.v1.tar+zstd";
    default:
      return NULL;
    }
}

struct manifest_layer
{
  const char *digest;
  uint64_t size;
  enum blob_compression compression;
};

static json_object *
descriptor (const char *media_type, const char *digest, uint64_t size)
{
  json_object *d = json_object_new_object ();

  json_object_object_add (d, "mediaType", json_object_new_string (media_type));
  json_object_object_add (d, "digest", json_object_new_string (digest));
  json_object_object_add (d, "size", json_object_new_int64 ((int64_t) size));
  return d;
}

/* A docker schema2 (IS_DOCKER) or OCI image manifest, serialised; NULL when
 * a layer's compression has no media type there. */
static char *
make_manifest (bool is_docker, const char *config_digest, size_t config_size,
               const struct manifest_layer *layers, size_t n, struct error **err)
{
  cleanup_json json_object *m = json_object_new_object ();
  json_object *array = json_object_new_array ();

  json_object_object_add (m, "schemaVersion", json_object_new_int (2));
  json_object_object_add (m, "mediaType", json_object_new_string (
                                              is_docker ? MANIFEST_MT_DOCKER_MANIFEST
                                                        : MANIFEST_MT_OCI_MANIFEST));
  json_object_object_add (m, "config", descriptor (is_docker ? MANIFEST_MT_DOCKER_CONFIG
                                                             : MANIFEST_MT_OCI_CONFIG,
                                                   config_digest, config_size));
  json_object_object_add (m, "layers", array);
  for (size_t i = 0; i < n; i++)
    {
      const char *mt = layer_media_type (layers[i].compression, is_docker);
      if (mt == NULL)
        return err_make (err, 0, "layer %s: a %s manifest cannot describe its compression",
                         layers[i].digest, is_docker ? "docker" : "OCI"), NULL;
      json_object_array_add (array, descriptor (mt, layers[i].digest, layers[i].size));
    }
  return jobj_to_string (m, false);
}

static void
archive_read_freep (struct archive **a)
{
  if (*a != NULL)
    archive_read_free (*a);
}

#define cleanup_archive_read __attribute__ ((cleanup (archive_read_freep)))

static int
archive_fail (struct archive *a, const char *what, struct error **err)
{
  const char *msg = archive_error_string (a);
  int e = archive_errno (a);

  /* libarchive reports bad input as EILSEQ (ARCHIVE_ERRNO_FILE_FORMAT) and
   * its own misuse as EINVAL: its message says more than their text. */
  if (e == EILSEQ || e == EINVAL || e < 0)
    e = 0;
  return err_make (err, e, "%s: %s", what, msg ? msg : "unknown libarchive error");
}

/* The decompressors libarchive has built in.  A filter whose library is
 * missing would run an external program on hostile bytes: not offered. */
static int
enable_filters (struct archive *a, struct error **err)
{
  static const struct
  {
    const char *(*version) (void);
    int (*support) (struct archive *);
  } filters[] = {
    { archive_zlib_version, archive_read_support_filter_gzip },
    { archive_libzstd_version, archive_read_support_filter_zstd },
    { archive_liblzma_version, archive_read_support_filter_xz },
    { archive_bzlib_version, archive_read_support_filter_bzip2 },
  };

  for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
    if (filters[i].version () != NULL && filters[i].support (a) != ARCHIVE_OK)
      return archive_fail (a, "enable decompression", err);
  return 0;
}

typedef int (*chunk_fn) (void *arg, const void *buf, size_t len, struct error **err);

/* Stream the decompressed content of FD (gzip, zstd, xz, bzip2 or plain)
 * to FN, hashing it: *SIZE and HEX get what went by. */
static int
decompress_fd (int fd, chunk_fn fn, void *arg, uint64_t *size, char hex[SHA256_HEX_LEN + 1],
               struct error **err)
{
  cleanup_archive_read struct archive *a = archive_read_new ();
  cleanup_sha256 struct sha256_ctx *h = sha256_new ();
  struct archive_entry *e;
  int r;

  *size = 0;
  if (enable_filters (a, err) < 0)
    return -1;
  if (archive_read_support_format_raw (a) != ARCHIVE_OK
      || archive_read_support_format_empty (a) != ARCHIVE_OK)
    return archive_fail (a, "enable raw reading", err);
  if (archive_read_open_fd (a, fd, COPY_BUF_SIZE) != ARCHIVE_OK)
    return archive_fail (a, "decompress", err);
  r = archive_read_next_header (a, &e);
  if (r < ARCHIVE_WARN)
    return archive_fail (a, "decompress", err);
  while (r != ARCHIVE_EOF)
    {
      const void *buf;
      size_t len = 0;
      la_int64_t off;

      r = archive_read_data_block (a, &buf, &len, &off);
      if (r < ARCHIVE_WARN)
        return archive_fail (a, "decompress", err);
      if (r == ARCHIVE_EOF || len == 0)
        continue;
      sha256_update (h, buf, len);
      *size += len;
      if (fn && fn (arg, buf, len, err) < 0)
        return -1;
    }
  sha256_final_hex (h, hex);
  return 0;
}

static int
write_all (int fd, const void *buf, size_t len, struct error **err)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "write");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

static int
write_chunk (void *arg, const void *buf, size_t len, struct error **err)
{
  return write_all (*(int *) arg, buf, len, err);
}

/* Whether the stored blob DIGEST decompresses to DIFF_ID. */
static int
verify_blob_diff_id (struct storage_store *s, const char *digest, const char *diff_id,
                     struct error **err)
{
  cleanup_close int fd = storage_blob_open (s, digest, err);
  char hex[SHA256_HEX_LEN + 1];
  uint64_t size = 0;

  if (fd < 0)
    return -1;
  if (decompress_fd (fd, NULL, NULL, &size, hex, err) < 0)
    return err_wrap (err, "layer %s", digest);
  if (strcmp (hex, diff_id + 7) != 0)
    return err_make (err, 0, "layer %s: its content has diff ID sha256:%s but the config "
                     "says %s", digest, hex, diff_id);
  return 0;
}

static void
say (bool is_quiet, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
say (bool is_quiet, const char *fmt, ...)
{
  va_list ap;

  if (is_quiet)
    return;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
}

/* ==== load: the archive's files ========================================== */

struct member
{
  char *name;        /* cleaned path inside the archive */
  char *link;        /* symlink target as written, hardlink target cleaned;
                        NULL for a file */
  bool is_hardlink;
  char digest[SHA256_DIGEST_STR_LEN];
  uint64_t size;
  unsigned char magic[MAGIC_LEN];
  size_t n_magic;
  char *data;                        /* a small file, in memory */
  struct storage_blob_stage *stage;  /* a large one, staged in the store */
  bool is_stored;                    /* committed or claimed as a blob */
};

typedef ssize_t (*source_fn) (void *src, void *buf, size_t len, struct error **err);

static void
member_clear (struct member *m)
{
  free (m->name);
  free (m->link);
  free (m->data);
  storage_blob_stage_free (m->stage);
}

/* Copy M's content from READ_FN, hashing it.  It goes into memory when
 * *MEM_BUDGET (NULL: never) still allows, into a blob stage otherwise.
 * SIZE, when not negative, is what the content must measure. */
static int
ingest (struct storage_store *s, size_t *mem_budget, struct member *m, int64_t size,
        source_fn read_fn, void *src, struct error **err)
{
  cleanup_sha256 struct sha256_ctx *h = sha256_new ();
  cleanup_free char *buf = xmalloc (COPY_BUF_SIZE);
  char hex[SHA256_HEX_LEN + 1];
  bool is_small = mem_budget && size >= 0 && (uint64_t) size <= MEMBER_SMALL_MAX
                  && (uint64_t) size <= *mem_budget;
  int fd = -1;

  if (is_small)
    {
      m->data = xmalloc ((size_t) size + 1);
      *mem_budget -= (size_t) size;
    }
  else
    {
      if (storage_blob_stage_new (s, &m->stage, err) < 0)
        return -1;
      fd = storage_blob_stage_fd (m->stage);
    }
  for (;;)
    {
      ssize_t n = read_fn (src, buf, COPY_BUF_SIZE, err);

      if (n < 0)
        return err_wrap (err, "read \"%s\"", m->name);
      if (n == 0)
        break;
      if (size >= 0 && m->size + (uint64_t) n > (uint64_t) size)
        return err_make (err, 0, "\"%s\" is longer than its %lld bytes", m->name,
                         (long long) size);
      if (m->n_magic < MAGIC_LEN)
        {
          size_t k = MAGIC_LEN - m->n_magic < (size_t) n ? MAGIC_LEN - m->n_magic : (size_t) n;
          memcpy (m->magic + m->n_magic, buf, k);
          m->n_magic += k;
        }
      sha256_update (h, buf, (size_t) n);
      if (is_small)
        memcpy (m->data + m->size, buf, (size_t) n);
      else if (write_all (fd, buf, (size_t) n, err) < 0)
        return err_wrap (err, "stage \"%s\"", m->name);
      m->size += (uint64_t) n;
    }
  if (size >= 0 && m->size != (uint64_t) size)
    return err_make (err, 0, "\"%s\" is truncated", m->name);
  if (is_small)
    m->data[m->size] = '\0';
  sha256_final_hex (h, hex);
  snprintf (m->digest, sizeof m->digest, "sha256:%s", hex);
  return 0;
}

struct loader
{
  struct skiff_context *ctx;
  const struct image_archive_load_opts *opts;
  struct storage_store *s;
  struct member *m;   /* sorted by name once read */
  size_t n, cap;
  size_t mem_budget;
  char **loaded;
};

static struct member *
new_member (struct loader *l, const char *raw_name, struct error **err)
{
  cleanup_free char *name = clean_path (raw_name, PATH_MEMBER, err);
  struct member *m;

  if (name == NULL)
    return err_wrap (err, "archive entry"), NULL;
  if (l->n >= IMAGE_ARCHIVE_MAX_MEMBERS)
    return err_make (err, 0, "the archive has more than %d entries", IMAGE_ARCHIVE_MAX_MEMBERS),
           NULL;
  if (l->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 64;
      l->m = xrealloc (l->m, l->cap * sizeof *l->m);
    }
  m = &l->m[l->n++];
  memset (m, 0, sizeof *m);
  m->name = steal_ptr (&name);
  return m;
}

static ssize_t
read_archive_data (void *src, void *buf, size_t len, struct error **err)
{
  la_ssize_t n = archive_read_data (src, buf, len);

  if (n < 0)
    return archive_fail (src, "read archive", err);
  return n;
}

static int
add_archive_entry (struct loader *l, struct archive *a, struct archive_entry *e,
                   struct error **err)
{
  const char *path = archive_entry_pathname (e);
  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  struct member *m;

  if (path == NULL)
    return err_make (err, 0, "archive entry without a name");
  /* Directories are implied by the names; devices and FIFOs are nothing an
   * image archive holds and are never created, so they are skipped. */
  if (hardlink == NULL && type != AE_IFREG && type != AE_IFLNK)
    return 0;
  m = new_member (l, path, err);
  if (m == NULL)
    return -1;
  if (hardlink)
    {
      m->is_hardlink = true;
      m->link = clean_path (hardlink, PATH_MEMBER, err);
      return m->link ? 0 : err_wrap (err, "hard link \"%s\"", m->name);
    }
  if (type == AE_IFLNK)
    {
      const char *target = archive_entry_symlink (e);
      if (target == NULL || *target == '\0')
        return err_make (err, 0, "symlink \"%s\" has no target", m->name);
      m->link = xstrdup (target);
      return 0;
    }
  return ingest (l->s, &l->mem_budget, m,
                 archive_entry_size_is_set (e) ? archive_entry_size (e) : -1,
                 read_archive_data, a, err);
}

static int
read_archive (struct loader *l, int fd, struct error **err)
{
  cleanup_archive_read struct archive *a = archive_read_new ();
  struct archive_entry *e;
  int r;

  if (enable_filters (a, err) < 0)
    return -1;
  if (archive_read_support_format_tar (a) != ARCHIVE_OK)
    return archive_fail (a, "enable tar reading", err);
  if (archive_read_open_fd (a, fd, COPY_BUF_SIZE) != ARCHIVE_OK)
    return archive_fail (a, "read archive", err);
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    if (add_archive_entry (l, a, e, err) < 0)
      return -1;
  if (r != ARCHIVE_EOF)
    return archive_fail (a, "read archive", err);
  return 0;
}

static ssize_t
read_fd_data (void *src, void *buf, size_t len, struct error **err)
{
  ssize_t n;

  do
    n = read (*(int *) src, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return err_make (err, errno, "read");
  return n;
}

static int read_dir (struct loader *l, int dirfd, const char *prefix, int depth,
                     struct error **err);

static int
add_dir_entry (struct loader *l, int dirfd, const char *entry, const char *name, int depth,
               struct error **err)
{
  cleanup_close int fd = -1;
  struct member *m;
  struct stat st;

  if (fstatat (dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "stat \"%s\"", name);
  if (S_ISDIR (st.st_mode))
    {
      if (depth >= MAX_DIR_DEPTH)
        return err_make (err, 0, "\"%s\": directories nested too deep", name);
      fd = openat (dirfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", name);
      return read_dir (l, fd, name, depth + 1, err);
    }
  if (!S_ISREG (st.st_mode) && !S_ISLNK (st.st_mode))
    return 0;
  m = new_member (l, name, err);
  if (m == NULL)
    return -1;
  if (S_ISLNK (st.st_mode))
    {
      char target[IMAGE_ARCHIVE_PATH_MAX + 1];
      ssize_t n = readlinkat (dirfd, entry, target, sizeof target);
      if (n < 0 || n >= (ssize_t) sizeof target || n == 0)
        return err_make (err, n < 0 ? errno : ENAMETOOLONG, "read symlink \"%s\"", name);
      m->link = xstrndup (target, (size_t) n);
      return 0;
    }
  fd = openat (dirfd, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return err_make (err, errno, "open \"%s\"", name);
  if (!S_ISREG (st.st_mode))
    return err_make (err, 0, "\"%s\" changed while it was read", name);
  return ingest (l->s, &l->mem_budget, m, (int64_t) st.st_size, read_fd_data, &fd, err);
}

/* A layout directory: the same members an archive of it would give. */
static int
read_dir (struct loader *l, int dirfd, const char *prefix, int depth, struct error **err)
{
  int dup_fd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
  struct dirent *de;

  if (d == NULL)
    {
      int saved = errno;
      if (dup_fd >= 0)
        close (dup_fd);
      return err_make (err, saved, "read directory \"%s\"", prefix ? prefix : ".");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      cleanup_free char *name = NULL;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      name = prefix ? xasprintf ("%s/%s", prefix, de->d_name) : xstrdup (de->d_name);
      if (add_dir_entry (l, dirfd, de->d_name, name, depth, err) < 0)
        return -1;
    }
  if (errno != 0)
    return err_make (err, errno, "read directory \"%s\"", prefix ? prefix : ".");
  return 0;
}

static int
member_cmp (const void *a, const void *b)
{
  return strcmp (((const struct member *) a)->name, ((const struct member *) b)->name);
}

static int
index_members (struct loader *l, struct error **err)
{
  if (l->n > 1)
    qsort (l->m, l->n, sizeof *l->m, member_cmp);
  for (size_t i = 1; i < l->n; i++)
    if (strcmp (l->m[i - 1].name, l->m[i].name) == 0)
      return err_make (err, 0, "the archive has two entries named \"%s\"", l->m[i].name);
  return 0;
}

static struct member *
find_member (struct loader *l, const char *name)
{
  struct member key = { .name = (char *) name };

  if (l->n == 0)
    return NULL;
  return bsearch (&key, l->m, l->n, sizeof *l->m, member_cmp);
}

/* Where link M points, as a cleaned name inside the archive. */
static char *
link_target (const struct member *m, struct error **err)
{
  const char *slash = strrchr (m->name, '/');
  cleanup_free char *joined = NULL;
  char *target;

  if (m->is_hardlink)
    return xstrdup (m->link);
  if (m->link[0] == '/')
    return err_make (err, 0, "symlink \"%s\" points to the absolute path \"%s\"", m->name,
                     m->link), NULL;
  joined = slash ? xasprintf ("%.*s/%s", (int) (slash - m->name), m->name, m->link)
                 : xstrdup (m->link);
  target = clean_path (joined, PATH_RELATIVE, err);
  if (target == NULL)
    err_wrap (err, "symlink \"%s\" -> \"%s\"", m->name, m->link);
  return target;
}

/* The file PATH (cleaned) names, following links inside the archive. */
static struct member *
resolve_member (struct loader *l, const char *path, struct error **err)
{
  cleanup_free char *cur = xstrdup (path);

  for (int hops = 0; hops <= MAX_LINK_HOPS; hops++)
    {
      struct member *m = find_member (l, cur);
      char *next;

      if (m == NULL)
        return err_make (err, 0, "the archive has no file \"%s\"", cur), NULL;
      if (m->link == NULL)
        return m;
      next = link_target (m, err);
      if (next == NULL)
        return NULL;
      free (cur);
      cur = next;
    }
  return err_make (err, 0, "\"%s\": too many levels of links", path), NULL;
}

/* M's bytes (at most MAX), NUL-terminated, checked against its digest
 * again since a staged file lives on disk. */
static char *
member_read (const struct member *m, size_t max, size_t *len, struct error **err)
{
  cleanup_free char *data = NULL;
  char hex[SHA256_HEX_LEN + 1];
  size_t n = 0;

  if (m->size > max)
    return err_make (err, 0, "\"%s\": %llu bytes is more than the %zu allowed", m->name,
                     (unsigned long long) m->size, max), NULL;
  if (m->data)
    {
      data = xmalloc (m->size + 1);
      memcpy (data, m->data, m->size + 1);
      n = m->size;
    }
  else
    {
      data = fs_read_file (storage_blob_stage_path (m->stage), max, &n, err);
      if (data == NULL)
        return err_wrap (err, "read \"%s\"", m->name), NULL;
    }
  sha256_buf_hex (data, n, hex);
  if (strcmp (hex, m->digest + 7) != 0)
    return err_make (err, 0, "\"%s\" changed while it was loaded", m->name), NULL;
  *len = n;
  return steal_ptr (&data);
}

/* Make M a blob of the store: commit its stage, or claim the blob when
 * the store has it already. */
static int
store_member (struct storage_store *s, struct member *m, struct error **err)
{
  int have;

  if (m->is_stored)
    return 0;
  have = storage_blob_claim (s, m->digest, err);
  if (have < 0)
    return -1;
  if (have == 0 && m->stage
      && storage_blob_stage_commit (s, m->stage, m->digest, err) < 0)
    return err_wrap (err, "store \"%s\"", m->name);
  if (have == 0 && m->data
      && storage_blob_put_bytes (s, m->digest, m->data, m->size, NULL, err) < 0)
    return err_wrap (err, "store \"%s\"", m->name);
  m->is_stored = true;
  return 0;
}

/* ==== load: images ======================================================= */

struct pending_layer
{
  struct member *m;
  const char *diff_id; /* in config below */
  enum blob_compression compression;
};

struct pending
{
  char *config_digest;
  char *config_data;
  size_t config_len;
  struct manifest_config *config;
  struct pending_layer *layers;
  size_t n_layers;
  char *manifest_data;  /* found in the archive, or made for it */
  size_t manifest_len;
  char *manifest_type;
  char **names;         /* normalised */
};

static void
pending_clear (struct pending *p)
{
  free (p->config_digest);
  free (p->config_data);
  manifest_config_free (p->config);
  free (p->layers);
  free (p->manifest_data);
  free (p->manifest_type);
  strv_free (p->names);
  memset (p, 0, sizeof *p);
}

static void
pendings_free (struct pending *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    pending_clear (&v[i]);
  free (v);
}

/* The config member M, parsed for N_LAYERS layers. */
static int
take_config (struct pending *p, const struct member *m, long n_layers, struct error **err)
{
  p->config_data = member_read (m, MANIFEST_CONFIG_MAX_SIZE, &p->config_len, err);
  if (p->config_data == NULL)
    return err_wrap (err, "config");
  p->config_digest = xstrdup (m->digest);
  if (manifest_config_parse (p->config_data, p->config_len, n_layers, &p->config, err) < 0)
    return err_wrap (err, "config \"%s\"", m->name);
  p->n_layers = p->config->n_diff_ids;
  p->layers = xcalloc (p->n_layers + 1, sizeof *p->layers);
  return 0;
}

static void
add_name (char ***names, const char *name)
{
  for (char **n = *names; n && *n; n++)
    if (strcmp (*n, name) == 0)
      return;
  *names = strv_append (*names, name);
}

static int
docker_names (struct pending *p, char *const *tags, struct error **err)
{
  p->names = xcalloc (1, sizeof *p->names);
  for (size_t i = 0; tags && tags[i]; i++)
    {
      cleanup_free char *name = images_normalize_name (tags[i], err);
      if (name == NULL)
        return err_wrap (err, "RepoTags");
      add_name (&p->names, name);
    }
  return 0;
}

/* A docker-archive layer: the uncompressed tar (the diff ID is its digest)
 * or a compressed one that extraction checks. */
static int
docker_layer (struct loader *l, const char *path, struct pending *p, size_t i,
              struct error **err)
{
  struct pending_layer *pl = &p->layers[i];

  pl->m = resolve_member (l, path, err);
  if (pl->m == NULL)
    return -1;
  pl->diff_id = p->config->diff_ids[i];
  pl->compression = sniff_compression (pl->m->magic, pl->m->n_magic);
  if (pl->compression == COMP_XZ || pl->compression == COMP_BZIP2)
    return err_make (err, 0, "layer \"%s\": xz and bzip2 layers cannot be stored; "
                     "recompress it with gzip or zstd", path);
  if (pl->compression == COMP_NONE && strcmp (pl->m->digest, pl->diff_id) != 0)
    return err_make (err, 0, "layer \"%s\": its content has digest %s but the config says "
                     "diff ID %s", path, pl->m->digest, pl->diff_id);
  return 0;
}

/* Docker schema2 when every layer is plain or gzip, else OCI (zstd). */
static int
docker_manifest (struct pending *p, struct error **err)
{
  cleanup_free struct manifest_layer *ml = xcalloc (p->n_layers + 1, sizeof *ml);
  bool is_docker = true;

  for (size_t i = 0; i < p->n_layers; i++)
    {
      ml[i].digest = p->layers[i].m->digest;
      ml[i].size = p->layers[i].m->size;
      ml[i].compression = p->layers[i].compression;
      is_docker = is_docker && layer_media_type (ml[i].compression, true) != NULL;
    }
  p->manifest_data = make_manifest (is_docker, p->config_digest, p->config_len, ml,
                                    p->n_layers, err);
  if (p->manifest_data == NULL)
    return -1;
  p->manifest_len = strlen (p->manifest_data);
  p->manifest_type = xstrdup (is_docker ? MANIFEST_MT_DOCKER_MANIFEST : MANIFEST_MT_OCI_MANIFEST);
  return 0;
}

static int
prepare_docker (struct loader *l, const struct image_archive_docker_entry *e, struct pending *p,
                struct error **err)
{
  struct member *cm = resolve_member (l, e->config, err);

  if (cm == NULL || take_config (p, cm, (long) e->n_layers, err) < 0)
    return -1;
  for (size_t i = 0; i < e->n_layers; i++)
    if (docker_layer (l, e->layers[i], p, i, err) < 0)
      return -1;
  if (docker_names (p, e->repo_tags, err) < 0)
    return -1;
  return docker_manifest (p, err);
}

/* BLOB_DIR + hex of DIGEST, checked against DIGEST and SIZE (unless
 * negative). */
static struct member *
layout_blob (struct loader *l, const char *blob_dir, const char *digest, int64_t size,
             struct error **err)
{
  cleanup_free char *path = xasprintf ("%s%s", blob_dir, digest + 7);
  struct member *m = resolve_member (l, path, err);

  if (m == NULL)
    return NULL;
  if (strcmp (m->digest, digest) != 0)
    return err_make (err, 0, "blob %s in the archive is corrupt: its content has digest %s",
                     digest, m->digest), NULL;
  if (size >= 0 && m->size != (uint64_t) size)
    return err_make (err, 0, "blob %s in the archive has %llu bytes, its descriptor says %lld",
                     digest, (unsigned long long) m->size, (long long) size), NULL;
  return m;
}

/* The name an OCI layout gives an image: a full reference as it is, a
 * short one under localhost/ (as podman reads it).  One that is no valid
 * reference is dropped with a warning: the image still loads. */
static void
oci_names (struct pending *p, const char *name)
{
  cleanup_error struct error *e = NULL;
  cleanup_free char *full = NULL, *normal = NULL;
  cleanup_image_ref struct image_ref ref = { 0 };

  p->names = xcalloc (1, sizeof *p->names);
  if (name == NULL)
    return;
  if (reference_parse (name, &ref, &e) == 0)
    full = reference_is_short_name (name) ? xasprintf ("localhost/%s", name) : xstrdup (name);
  if (full)
    normal = images_normalize_name (full, &e);
  if (normal == NULL)
    {
      log_warn ("ignoring the image name \"%s\" in the archive: %s", name,
                e ? e->msg : "invalid reference");
      return;
    }
  add_name (&p->names, normal);
}

static int prepare_layout_manifest (struct loader *l, const char *blob_dir,
                                    const struct member *mm, const char *media_type,
                                    bool can_descend, struct pending *p, struct error **err);

/* An index in the layout: the entry for this platform. */
static int
prepare_layout_index (struct loader *l, const char *blob_dir, struct manifest *index,
                      struct pending *p, struct error **err)
{
  struct manifest_platform host = { 0 };
  const struct manifest_descriptor *d;
  struct member *mm;

  manifest_platform_host (&host);
  d = manifest_select_platform (index, &host, err);
  manifest_platform_clear (&host);
  if (d == NULL)
    return -1;
  mm = layout_blob (l, blob_dir, d->digest, d->size, err);
  if (mm == NULL)
    return -1;
  return prepare_layout_manifest (l, blob_dir, mm, d->media_type, false, p, err);
}

static int
prepare_layout_manifest (struct loader *l, const char *blob_dir, const struct member *mm,
                         const char *media_type, bool can_descend, struct pending *p,
                         struct error **err)
{
  cleanup_manifest struct manifest *m = NULL;
  struct member *cm;

  p->manifest_data = member_read (mm, MANIFEST_MAX_SIZE, &p->manifest_len, err);
  if (p->manifest_data == NULL)
    return -1;
  if (manifest_parse (p->manifest_data, p->manifest_len, media_type, &m, err) < 0)
    return err_wrap (err, "\"%s\"", mm->name);
  if (m->kind == MANIFEST_INDEX)
    {
      if (!can_descend)
        return err_make (err, 0, "\"%s\": an index inside an index is not supported", mm->name);
      free (steal_ptr (&p->manifest_data));
      return prepare_layout_index (l, blob_dir, m, p, err);
    }
  p->manifest_type = xstrdup (m->media_type);
  cm = layout_blob (l, blob_dir, m->config.digest, m->config.size, err);
  if (cm == NULL || take_config (p, cm, (long) m->n_layers, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct pending_layer *pl = &p->layers[i];
      pl->m = layout_blob (l, blob_dir, m->layers[i].digest, m->layers[i].size, err);
      if (pl->m == NULL)
        return -1;
      pl->diff_id = p->config->diff_ids[i];
      pl->compression = sniff_compression (pl->m->magic, pl->m->n_magic);
    }
  return 0;
}

static int
prepare_oci (struct loader *l, const struct image_archive_oci_entry *e, struct pending *p,
             struct error **err)
{
  struct member *mm = layout_blob (l, "blobs/sha256/", e->digest, e->size, err);

  if (mm == NULL || prepare_layout_manifest (l, "blobs/sha256/", mm, e->media_type, true, p,
                                             err) < 0)
    return -1;
  oci_names (p, e->name);
  return 0;
}

/* P's layer blobs into the store; SPECS get what extraction needs. */
static int
store_layer_blobs (struct loader *l, struct pending *p, struct image_layer_spec *specs,
                   struct error **err)
{
  cleanup_strv char **expected = NULL;

  if (storage_chain_ids (p->config->diff_ids, &expected, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct pending_layer *pl = &p->layers[i];
      bool was_stored = pl->m->is_stored || storage_blob_exists (l->s, pl->m->digest);

      if (store_member (l->s, pl->m, err) < 0)
        return -1;
      /* A layer the store has is not extracted again, so nothing else
       * would check that a new compressed blob really holds it. */
      if (!was_stored && pl->compression != COMP_NONE
          && storage_layer_exists (l->s, expected[i])
          && verify_blob_diff_id (l->s, pl->m->digest, pl->diff_id, err) < 0)
        return -1;
      specs[i].blob_digest = pl->m->digest;
      specs[i].blob_size = (int64_t) pl->m->size;
      specs[i].diff_id = pl->diff_id;
      say (l->opts->is_quiet, "Copying blob %.12s done\n", pl->m->digest + 7);
    }
  return 0;
}

/* The image record, the commit point, with a repo digest per name. */
static int
record_image (struct loader *l, struct pending *p, char **chain_ids,
              const char *manifest_digest, struct error **err)
{
  cleanup_strv char **blobs = xcalloc (1, sizeof *blobs);
  cleanup_strv char **digests = xcalloc (1, sizeof *digests);
  struct storage_image img = { 0 };

  for (size_t i = 0; i < p->n_layers; i++)
    blobs = strv_append (blobs, p->layers[i].m->digest);
  for (char **n = p->names; *n; n++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      if (reference_parse (*n, &ref, NULL) == 0)
        {
          cleanup_free char *repo = reference_repo_string (&ref);
          cleanup_free char *rd = xasprintf ("%s@%s", repo, manifest_digest);
          add_name (&digests, rd);
        }
    }
  if (p->config->created)
    human_parse_rfc3339 (p->config->created, &img.created, NULL);
  img.id = p->config_digest;
  img.names = p->names;
  img.digests = digests;
  img.manifest_digest = (char *) manifest_digest;
  img.manifest_type = p->manifest_type;
  img.layers = chain_ids;
  img.layer_blobs = blobs;
  if (storage_image_put (l->s, &img, err) < 0)
    return err_wrap (err, "store image");
  return 0;
}

/* Store P: blobs, config, layers, manifest, then the image record. */
static int
commit_pending (struct loader *l, struct pending *p, struct error **err)
{
  cleanup_free struct image_layer_spec *specs = xcalloc (p->n_layers + 1, sizeof *specs);
  cleanup_strv char **chain_ids = NULL;
  cleanup_free char *manifest_digest = NULL;
  bool is_quiet = l->opts->is_quiet;

  say (is_quiet, "Getting image source signatures\n");
  if (store_layer_blobs (l, p, specs, err) < 0)
    return -1;
  if (storage_blob_put_bytes (l->s, p->config_digest, p->config_data, p->config_len, NULL,
                              err) < 0)
    return err_wrap (err, "store config");
  say (is_quiet, "Copying config %.10s done\n", p->config_digest + 7);
  if (image_layers_ensure (l->ctx, l->s, specs, p->n_layers, &chain_ids, NULL, err) < 0)
    return -1;
  say (is_quiet, "Writing manifest to image destination\n");
  if (storage_blob_put_bytes (l->s, NULL, p->manifest_data, p->manifest_len, &manifest_digest,
                              err) < 0)
    return err_wrap (err, "store manifest");
  if (record_image (l, p, chain_ids, manifest_digest, err) < 0)
    return -1;
  if (p->names[0] == NULL)
    l->loaded = strv_append (l->loaded, p->config_digest);
  for (char **n = p->names; *n; n++)
    l->loaded = strv_append (l->loaded, *n);
  return 0;
}

static int
commit_all (struct loader *l, struct pending *v, size_t n, struct error **err)
{
  for (size_t i = 0; i < n; i++)
    if (commit_pending (l, &v[i], err) < 0)
      return -1;
  return 0;
}

/* Each loader checks every image of the archive (prepare_*) before it
 * stores any, so a bad archive stores nothing. */
static int
load_docker (struct loader *l, const struct member *manifest_json, struct error **err)
{
  struct image_archive_docker_entry *entries = NULL;
  cleanup_free char *data = NULL;
  struct pending *v = NULL;
  size_t len = 0, n = 0;
  int r = 0;

  data = member_read (manifest_json, IMAGE_ARCHIVE_JSON_MAX, &len, err);
  if (data == NULL
      || image_archive_parse_docker_manifest (data, len, &entries, &n, err) < 0)
    return -1;
  v = xcalloc (n, sizeof *v);
  for (size_t i = 0; i < n && r == 0; i++)
    if (prepare_docker (l, &entries[i], &v[i], err) < 0)
      r = err_wrap (err, "manifest.json: image %zu", i + 1);
  if (r == 0)
    r = commit_all (l, v, n, err);
  pendings_free (v, n);
  image_archive_docker_entries_free (entries, n);
  return r;
}

static int
load_oci (struct loader *l, const struct member *index_json, struct error **err)
{
  struct image_archive_oci_entry *entries = NULL;
  cleanup_free char *data = NULL;
  struct pending *v = NULL;
  size_t len = 0, n = 0;
  int r = 0;

  data = member_read (index_json, IMAGE_ARCHIVE_JSON_MAX, &len, err);
  if (data == NULL || image_archive_parse_oci_index (data, len, &entries, &n, err) < 0)
    return -1;
  v = xcalloc (n, sizeof *v);
  for (size_t i = 0; i < n && r == 0; i++)
    if (prepare_oci (l, &entries[i], &v[i], err) < 0)
      r = err_wrap (err, "manifest %s", entries[i].digest);
  if (r == 0)
    r = commit_all (l, v, n, err);
  pendings_free (v, n);
  image_archive_oci_entries_free (entries, n);
  return r;
}

/* containers/image's "dir:" layout: manifest.json is the manifest, the
 * blobs are named by their hex digest; it carries no name. */
static int
load_dir_transport (struct loader *l, const struct member *manifest_json, struct error **err)
{
  struct pending p = { 0 };
  int r;

  r = prepare_layout_manifest (l, "", manifest_json, NULL, true, &p, err);
  if (r == 0)
    {
      p.names = xcalloc (1, sizeof *p.names);
      r = commit_pending (l, &p, err);
    }
  pending_clear (&p);
  return r;
}

static bool
is_dir_transport (struct loader *l)
{
  struct member *m = find_member (l, "version");
  size_t prefix = strlen ("Directory Transport Version:");

  return m && m->data && m->size >= prefix && memcmp (m->data, DIR_TRANSPORT_VERSION, prefix) == 0;
}

static struct member *
top_file (struct loader *l, const char *name, struct error **err)
{
  if (find_member (l, name) == NULL)
    return NULL;
  return resolve_member (l, name, err);
}

static int
load_all (struct loader *l, struct error **err)
{
  struct member *m;

  if (find_member (l, "oci-layout") && find_member (l, "index.json"))
    {
      m = top_file (l, "index.json", err);
      return m ? load_oci (l, m, err) : -1;
    }
  if (find_member (l, "manifest.json"))
    {
      m = top_file (l, "manifest.json", err);
      if (m == NULL)
        return -1;
      return is_dir_transport (l) ? load_dir_transport (l, m, err) : load_docker (l, m, err);
    }
  return err_make (err, 0, "not an image archive: it has neither manifest.json "
                   "(docker-archive) nor oci-layout and index.json (oci-archive)");
}

/* A stream of a large archive keeps one blob stage (two descriptors) open
 * per layer until the images are stored; the soft limit of 1024 would cap
 * that well below MANIFEST_MAX_LAYERS, so take what the hard limit allows. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
        log_debug ("raise the open file limit: %s", strerror (errno));
    }
}

static int
read_input (struct loader *l, struct error **err)
{
  const char *input = l->opts->input;
  cleanup_close int fd = -1;
  struct stat st;

  if (input == NULL)
    {
      if (isatty (0))
        return err_make (err, 0, "cannot read from terminal, use command-line redirection "
                         "or the --input flag");
      return read_archive (l, 0, err);
    }
  fd = open (input, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return err_make (err, errno, "open \"%s\"", input);
  if (S_ISDIR (st.st_mode))
    return read_dir (l, fd, NULL, 0, err);
  return read_archive (l, fd, err);
}

int
image_archive_load (struct skiff_context *ctx, const struct image_archive_load_opts *opts,
                    char ***loaded, struct error **err)
{
  struct loader l = { .ctx = ctx, .opts = opts, .mem_budget = MEMBERS_MEM_MAX };
  int r;

  raise_fd_limit ();
  l.loaded = xcalloc (1, sizeof *l.loaded);
  r = images_open (ctx, true, &l.s, err);
  if (r == 0)
    r = read_input (&l, err);
  if (r == 0)
    r = index_members (&l, err);
  if (r == 0)
    r = load_all (&l, err);
  if (r < 0)
    err_wrap (err, "load \"%s\"", opts->input ? opts->input : "stdin");
  else
    *loaded = steal_ptr (&l.loaded);
  for (size_t i = 0; i < l.n; i++)
    member_clear (&l.m[i]);
  free (l.m);
  strv_free (l.loaded);
  storage_close (l.s);
  return r;
}

/* ==== save: where the output goes ======================================== */

struct output
{
  int fd;         /* the archive, or the directory */
  char *path;     /* NULL for stdout */
  char *tmp;      /* an archive file is written here, renamed to PATH */
  bool is_dir_created;
};

static int
open_output_file (struct output *o, const char *path, struct error **err)
{
  struct stat st;
  bool is_there;
  mode_t mask;

  o->path = xstrdup (path);
  is_there = stat (path, &st) == 0;
  if (is_there && S_ISDIR (st.st_mode))
    return err_make (err, EISDIR, "\"%s\" is a directory", path);
  /* A device or FIFO (/dev/stdout, a pipe) is written as it is. */
  if (is_there && !S_ISREG (st.st_mode))
    {
      o->fd = open (path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
      return o->fd < 0 ? err_make (err, errno, "open \"%s\"", path) : 0;
    }
  o->tmp = xasprintf ("%s.skiff-XXXXXX", path);
  o->fd = mkostemp (o->tmp, O_CLOEXEC);
  if (o->fd < 0)
    {
      int saved = errno;
      free (steal_ptr (&o->tmp));
      return err_make (err, saved, "create \"%s\"", path);
    }
  mask = umask (0);
  umask (mask);
  if (fchmod (o->fd, 0666 & ~mask) < 0)
    return err_make (err, errno, "chmod \"%s\"", o->tmp);
  return 0;
}

static int
open_output_dir (struct output *o, const char *path, struct error **err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  o->path = xstrdup (path);
  if (mkdir (path, 0755) == 0)
    o->is_dir_created = true;
  else if (errno != EEXIST)
    return err_make (err, errno, "create directory \"%s\"", path);
  o->fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (o->fd < 0)
    return err_make (err, errno, "open directory \"%s\"", path);
  if (o->is_dir_created)
    return 0;
  fd = fcntl (o->fd, F_DUPFD_CLOEXEC, 3);
  d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return err_make (err, saved, "read directory \"%s\"", path);
    }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return err_make (err, EEXIST, "directory \"%s\" is not empty", path);
  return 0;
}

static int
finish_output (struct output *o, struct error **err)
{
  if (o->tmp == NULL)
    return 0;
  if (fsync (o->fd) < 0)
    return err_make (err, errno, "sync \"%s\"", o->tmp);
  if (rename (o->tmp, o->path) < 0)
    return err_make (err, errno, "rename \"%s\" to \"%s\"", o->tmp, o->path);
  free (steal_ptr (&o->tmp));
  return 0;
}

/* Undo a failed save: nothing half-written stays behind. */
static void
abandon_output (struct output *o)
{
  if (o->tmp)
    unlink (o->tmp);
  if (o->is_dir_created && fs_remove_tree (o->path, NULL) < 0)
    log_warn ("could not remove \"%s\"", o->path);
  if (o->fd > 2)
    close (o->fd);
  free (o->tmp);
  free (o->path);
  memset (o, 0, sizeof *o);
  o->fd = -1;
}

static void
output_close (struct output *o)
{
  if (o->fd > 2)
    close (o->fd);
  free (o->tmp);
  free (o->path);
}

/* ==== save: writing files into a tarball or a directory ================== */

struct sink
{
  struct archive *tar; /* archive formats */
  int tar_fd;          /* its own descriptor of the output */
  int dirfd;           /* directory formats */
  int fd;              /* the file being written into DIRFD */
  char **written;      /* names written, so shared content goes once */
};

static bool
sink_has (struct sink *k, const char *name)
{
  for (char **w = k->written; w && *w; w++)
    if (strcmp (*w, name) == 0)
      return true;
  return false;
}

static int
tar_fail (struct sink *k, const char *name, struct error **err)
{
  return archive_fail (k->tar, name, err);
}

static int
sink_dir (struct sink *k, const char *name, struct error **err)
{
  struct archive_entry *e;
  int r;

  if (sink_has (k, name))
    return 0;
  k->written = strv_append (k->written ? k->written : xcalloc (1, sizeof (char *)), name);
  if (k->tar == NULL)
    {
      if (mkdirat (k->dirfd, name, 0755) < 0 && errno != EEXIST)
        return err_make (err, errno, "create directory \"%s\"", name);
      return 0;
    }
  e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFDIR);
  archive_entry_set_perm (e, 0755);
  r = archive_write_header (k->tar, e);
  archive_entry_free (e);
  return r < ARCHIVE_WARN ? tar_fail (k, name, err) : 0;
}

static int
sink_begin (struct sink *k, const char *name, uint64_t size, struct error **err)
{
  struct archive_entry *e;
  int r;

  k->written = strv_append (k->written ? k->written : xcalloc (1, sizeof (char *)), name);
  if (k->tar == NULL)
    {
      k->fd = openat (k->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0644);
      return k->fd < 0 ? err_make (err, errno, "create \"%s\"", name) : 0;
    }
  /* Fixed owner, mode and time: the same images make the same archive. */
  e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) size);
  r = archive_write_header (k->tar, e);
  archive_entry_free (e);
  return r < ARCHIVE_WARN ? tar_fail (k, name, err) : 0;
}

static int
sink_data (void *arg, const void *buf, size_t len, struct error **err)
{
  struct sink *k = arg;

  if (k->tar == NULL)
    return write_all (k->fd, buf, len, err);
  while (len > 0)
    {
      la_ssize_t n = archive_write_data (k->tar, buf, len);
      if (n < 0)
        return archive_fail (k->tar, "write archive", err);
      /* More than the header's size: the entry cannot take it. */
      if (n == 0)
        return err_make (err, EFBIG, "write archive: more data than the entry's size");
      buf = (const char *) buf + n;
      len -= (size_t) n;
    }
  return 0;
}

static int
sink_end (struct sink *k, struct error **err)
{
  if (k->tar == NULL)
    {
      int r = close (k->fd);
      k->fd = -1;
      return r < 0 ? err_make (err, errno, "close") : 0;
    }
  if (archive_write_finish_entry (k->tar) < ARCHIVE_WARN)
    return archive_fail (k->tar, "write archive", err);
  return 0;
}

static int
sink_bytes (struct sink *k, const char *name, const void *data, size_t len, struct error **err)
{
  if (sink_has (k, name))
    return 0;
  if (sink_begin (k, name, len, err) < 0 || sink_data (k, data, len, err) < 0
      || sink_end (k, err) < 0)
    return err_wrap (err, "write \"%s\"", name);
  return 0;
}

static int
sink_json (struct sink *k, const char *name, json_object *o, struct error **err)
{
  cleanup_free char *text = jobj_to_string (o, false);

  return sink_bytes (k, name, text, strlen (text), err);
}

/* The stored blob DIGEST as file NAME, byte for byte, hashed on the way:
 * a corrupt blob must not leave under a name it does not match. */
static int
sink_blob (struct sink *k, struct storage_store *s, const char *name, const char *digest,
           struct error **err)
{
  cleanup_sha256 struct sha256_ctx *h = sha256_new ();
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  char hex[SHA256_HEX_LEN + 1];
  struct stat st;
  uint64_t done = 0;

  if (sink_has (k, name))
    return 0;
  fd = storage_blob_open (s, digest, err);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "stat blob %s", digest);
  if (sink_begin (k, name, (uint64_t) st.st_size, err) < 0)
    return -1;
  buf = xmalloc (COPY_BUF_SIZE);
  for (;;)
    {
      ssize_t n = read_fd_data (&fd, buf, COPY_BUF_SIZE, err);
      if (n < 0)
        return err_wrap (err, "blob %s", digest);
      if (n == 0)
        break;
      sha256_update (h, buf, (size_t) n);
      if (sink_data (k, buf, (size_t) n, err) < 0)
        return err_wrap (err, "write \"%s\"", name);
      done += (uint64_t) n;
    }
  if (done != (uint64_t) st.st_size)
    return err_make (err, 0, "blob %s changed while it was saved", digest);
  sha256_final_hex (h, hex);
  if (strcmp (hex, digest + 7) != 0)
    return err_make (err, 0, "blob %s is corrupt (its content hashes to sha256:%s): remove "
                     "the image and pull it again", digest, hex);
  return sink_end (k, err);
}

static void
archive_write_freep (struct archive **a)
{
  if (*a != NULL)
    archive_write_free (*a);
}

#define cleanup_archive_write __attribute__ ((cleanup (archive_write_freep)))

/* ==== save: the images =================================================== */

static const struct
{
  const char *name;
  enum image_archive_format format;
} formats[] = {
  { "docker-archive", IMAGE_ARCHIVE_DOCKER_ARCHIVE },
  { "oci-archive", IMAGE_ARCHIVE_OCI_ARCHIVE },
  { "oci-dir", IMAGE_ARCHIVE_OCI_DIR },
  { "docker-dir", IMAGE_ARCHIVE_DOCKER_DIR },
};

static const char *
format_name (enum image_archive_format f)
{
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i].format == f)
      return formats[i].name;
  return "?";
}

struct save_item
{
  struct storage_image *img;
  char **tags; /* names it goes under, normalised; may be empty */
};

struct saver
{
  struct skiff_context *ctx;
  const struct image_archive_save_opts *opts;
  struct storage_store *s;
  struct save_item *items;
  size_t n;
  struct sink sink;
  json_object *manifest;     /* docker-archive: manifest.json */
  json_object *repositories; /* docker-archive: repositories */
  json_object *index;        /* OCI: index.json's "manifests" */
};

/* The stored name ARG meant, or NULL when ARG is the image's ID (then the
 * archive names no tag, as podman does). */
static const char *
name_used (const struct storage_image *img, const char *arg)
{
  cleanup_free char *normal = images_normalize_name (arg, NULL);
  cleanup_free char *local_arg = xasprintf ("localhost/%s", arg);
  cleanup_free char *local = images_normalize_name (local_arg, NULL);
  const char *hex = images_hex_id (arg);

  for (char **n = img->names; n && *n; n++)
    if (strcmp (*n, arg) == 0 || (normal && strcmp (*n, normal) == 0)
        || (local && strcmp (*n, local) == 0))
      return *n;
  if (reference_looks_like_id (arg) && strncmp (images_hex_id (img->id), hex, strlen (hex)) == 0)
    return NULL;
  /* A short name found through the search registries. */
  return img->names && img->names[0] ? img->names[0] : NULL;
}

static int
add_item (struct saver *sv, const char *arg, struct error **err)
{
  struct storage_image *img = NULL;
  const char *tag;
  struct save_item *it = NULL;

  if (images_require (sv->s, arg, &img, err) < 0)
    return -1;
  for (size_t i = 0; i < sv->n && it == NULL; i++)
    if (strcmp (sv->items[i].img->id, img->id) == 0)
      it = &sv->items[i];
  if (it == NULL)
    {
      sv->items = xrealloc (sv->items, (sv->n + 1) * sizeof *sv->items);
      it = &sv->items[sv->n++];
      it->img = img;
      it->tags = xcalloc (1, sizeof *it->tags);
    }
  tag = name_used (img, arg);
  if (tag)
    add_name (&it->tags, tag);
  if (it->img != img)
    storage_image_free (img);
  return 0;
}

/* More names for the first image (save IMAGE TAG...). */
static int
add_tags (struct saver *sv, char *const *tags, struct error **err)
{
  for (size_t i = 0; tags[i]; i++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      cleanup_free char *name = NULL;

      if (reference_parse (tags[i], &ref, err) < 0)
        return err_wrap (err, "tag \"%s\"", tags[i]);
      if (ref.digest)
        return err_make (err, 0, "invalid tag \"%s\": a tag cannot contain a digest", tags[i]);
      name = reference_to_string (&ref);
      add_name (&sv->items[0].tags, name);
    }
  return 0;
}

static int
collect_items (struct saver *sv, char *const *args, struct error **err)
{
  enum image_archive_format f = sv->opts->format;
  size_t n = strv_len (args);

  if (f != IMAGE_ARCHIVE_DOCKER_ARCHIVE && sv->opts->is_multi_image)
    return err_make (err, 0, "--multi-image-archive can only be used with docker-archive");
  if (f != IMAGE_ARCHIVE_DOCKER_ARCHIVE && n > 1)
    return err_make (err, 0, "--format %s holds one image; save several with "
                     "--format docker-archive --multi-image-archive", format_name (f));
  if (!sv->opts->is_multi_image)
    return add_item (sv, args[0], err) < 0 ? -1 : add_tags (sv, args + 1, err);
  for (size_t i = 0; i < n; i++)
    if (add_item (sv, args[i], err) < 0)
      return -1;
  return 0;
}

static char *
read_config (struct saver *sv, const struct storage_image *img, size_t *len,
             struct manifest_config **config, struct error **err)
{
  cleanup_free char *data = storage_blob_read (sv->s, img->id, MANIFEST_CONFIG_MAX_SIZE, len,
                                               err);

  if (data == NULL)
    return NULL;
  if (manifest_config_parse (data, *len, (long) strv_len (img->layers), config, err) < 0)
    return err_wrap (err, "config %s", img->id), NULL;
  if (img->layer_blobs == NULL || strv_len (img->layer_blobs) != strv_len (img->layers))
    return err_make (err, 0, "image %.12s has no layer blobs to save: pull it again",
                     images_hex_id (img->id)), NULL;
  return steal_ptr (&data);
}

struct layer_writer
{
  struct sink *sink;
  uint64_t size; /* what the tar header promised */
  uint64_t done;
  bool has_write_failed; /* the output failed, not the blob */
};

static int
write_layer_chunk (void *arg, const void *buf, size_t len, struct error **err)
{
  struct layer_writer *w = arg;

  if (len > w->size - w->done)
    return err_make (err, 0, "it decompresses to more than the %llu bytes of the layer",
                     (unsigned long long) w->size);
  w->done += len;
  w->has_write_failed = sink_data (w->sink, buf, len, err) < 0;
  return w->has_write_failed ? -1 : 0;
}

/* A layer as the uncompressed tar a docker-archive holds, hashed on the
 * way and checked against the diff ID: the tar header needs the size up
 * front, which the store recorded when it extracted the layer. */
static int
write_layer_tar (struct saver *sv, const char *name, const char *blob, const char *chain_id,
                 const char *diff_id, struct error **err)
{
  cleanup_close int fd = storage_blob_open (sv->s, blob, err);
  struct layer_writer w = { .sink = &sv->sink };
  struct storage_layer *layer = NULL;
  char hex[SHA256_HEX_LEN + 1];
  uint64_t got = 0;

  if (fd < 0 || storage_layer_get (sv->s, chain_id, &layer, err) < 0)
    return -1;
  w.size = layer->size;
  storage_layer_free (layer);
  if (sink_begin (&sv->sink, name, w.size, err) < 0)
    return -1;
  if (decompress_fd (fd, write_layer_chunk, &w, &got, hex, err) < 0)
    {
      cleanup_free char *cause = NULL;
      if (w.has_write_failed)
        return err_wrap (err, "write \"%s\"", name);
      cause = xstrdup ((*err)->msg);
      return err_make (err, 0, "layer %s: the stored blob %s is corrupt (%s): remove the "
                       "image and pull it again", diff_id, blob, cause);
    }
  if (got != w.size || strcmp (hex, diff_id + 7) != 0)
    return err_make (err, 0, "layer %s: the stored blob %s is corrupt (it decompresses to "
                     "%llu bytes with diff ID sha256:%s): remove the image and pull it again",
                     diff_id, blob, (unsigned long long) got, hex);
  return sink_end (&sv->sink, err);
}

/* The per-layer "json" of the legacy docker layout; the top layer's also
 * carries parts of the image config, as docker writes it. */
static json_object *
legacy_layer_json (const char *id, const char *parent, json_object *config)
{
  static const char *const keys[] = { "architecture", "config", "container",
                                      "container_config", "created", "docker_version", "os" };
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "id", json_object_new_string (id));
  if (parent)
    json_object_object_add (o, "parent", json_object_new_string (parent));
  for (size_t i = 0; config && i < sizeof keys / sizeof keys[0]; i++)
    {
      json_object *v = NULL;
      if (json_object_object_get_ex (config, keys[i], &v))
        json_object_object_add (o, keys[i], json_object_get (v));
    }
  return o;
}

/* <id>/VERSION, <id>/json and <id>/layer.tar, with the layer's chain ID
 * as <id>: what docker save writes, and what both docker and podman load. */
static int
save_docker_layer (struct saver *sv, const struct storage_image *img, size_t i,
                   const struct manifest_config *mc, json_object *config, struct error **err)
{
  const char *id = images_hex_id (img->layers[i]);
  const char *parent = i > 0 ? images_hex_id (img->layers[i - 1]) : NULL;
  bool is_top = img->layers[i + 1] == NULL;
  cleanup_free char *tar = xasprintf ("%s/layer.tar", id);
  cleanup_free char *version = xasprintf ("%s/VERSION", id);
  cleanup_free char *json = xasprintf ("%s/json", id);
  cleanup_json json_object *legacy = NULL;

  if (sink_has (&sv->sink, tar))
    return 0;
  legacy = legacy_layer_json (id, parent, is_top ? config : NULL);
  if (sink_dir (&sv->sink, id, err) < 0 || sink_bytes (&sv->sink, version, "1.0", 3, err) < 0
      || sink_json (&sv->sink, json, legacy, err) < 0
      || write_layer_tar (sv, tar, img->layer_blobs[i], img->layers[i], mc->diff_ids[i],
                          err) < 0)
    return -1;
  say (sv->opts->is_quiet, "Copying blob %.12s done\n", img->layer_blobs[i] + 7);
  return 0;
}

static void
add_repositories (json_object *repositories, char *const *tags, const char *top)
{
  for (size_t i = 0; tags[i]; i++)
    {
      const char *slash = strrchr (tags[i], '/');
      const char *colon = strrchr (slash ? slash : tags[i], ':');
      cleanup_free char *repo = NULL;
      json_object *r = NULL;

      if (colon == NULL || top == NULL)
        continue;
      repo = xstrndup (tags[i], (size_t) (colon - tags[i]));
      if (!json_object_object_get_ex (repositories, repo, &r))
        {
          r = json_object_new_object ();
          json_object_object_add (repositories, repo, r);
        }
      json_object_object_add (r, colon + 1, json_object_new_string (top));
    }
}

static json_object *
strv_to_json (char *const *v)
{
  json_object *a = json_object_new_array ();

  for (size_t i = 0; v && v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static int
save_docker_image (struct saver *sv, const struct save_item *it, struct error **err)
{
  const struct storage_image *img = it->img;
  cleanup_manifest_config struct manifest_config *mc = NULL;
  cleanup_json json_object *config = NULL;
  cleanup_free char *data = NULL, *config_name = NULL;
  json_object *entry, *layers;
  size_t len = 0, n = strv_len (img->layers);

  data = read_config (sv, img, &len, &mc, err);
  if (data == NULL)
    return -1;
  config = jobj_parse (data, len, "image config", err);
  if (config == NULL)
    return -1;
  config_name = xasprintf ("%s.json", images_hex_id (img->id));
  if (sink_bytes (&sv->sink, config_name, data, len, err) < 0)
    return -1;
  layers = json_object_new_array ();
  entry = json_object_new_object ();
  json_object_object_add (entry, "Config", json_object_new_string (config_name));
  json_object_object_add (entry, "RepoTags", strv_to_json (it->tags));
  json_object_object_add (entry, "Layers", layers);
  json_object_array_add (sv->manifest, entry);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *tar = xasprintf ("%s/layer.tar", images_hex_id (img->layers[i]));
      if (save_docker_layer (sv, img, i, mc, config, err) < 0)
        return -1;
      json_object_array_add (layers, json_object_new_string (tar));
    }
  say (sv->opts->is_quiet, "Copying config %.10s done\n", images_hex_id (img->id));
  add_repositories (sv->repositories, it->tags, n ? images_hex_id (img->layers[n - 1]) : NULL);
  return 0;
}

/* The stored manifest of IMG, parsed; *DATA and *LEN get its bytes. */
static struct manifest *
read_manifest (struct saver *sv, const struct storage_image *img, char **data, size_t *len,
               struct error **err)
{
  struct manifest *m = NULL;

  if (img->manifest_digest == NULL)
    return err_make (err, 0, "image %.12s has no manifest to save: pull it again",
                     images_hex_id (img->id)), NULL;
  *data = storage_blob_read (sv->s, img->manifest_digest, MANIFEST_MAX_SIZE, len, err);
  if (*data == NULL)
    return NULL;
  if (manifest_parse (*data, *len, img->manifest_type, &m, err) < 0)
    return err_wrap (err, "manifest %s", img->manifest_digest), NULL;
  if (m->kind != MANIFEST_IMAGE || strcmp (m->config.digest, img->id) != 0)
    {
      manifest_free (m);
      return err_make (err, 0, "manifest %s does not describe image %.12s",
                       img->manifest_digest, images_hex_id (img->id)), NULL;
    }
  return m;
}

/* Config and layer blobs under BLOB_DIR, named by their hex digest. */
static int
save_blobs (struct saver *sv, const struct manifest *m, const char *blob_dir, struct error **err)
{
  for (size_t i = 0; i < m->n_layers; i++)
    {
      cleanup_free char *name = xasprintf ("%s%s", blob_dir, m->layers[i].digest + 7);
      if (sink_blob (&sv->sink, sv->s, name, m->layers[i].digest, err) < 0)
        return -1;
      say (sv->opts->is_quiet, "Copying blob %.12s done\n", m->layers[i].digest + 7);
    }
  {
    cleanup_free char *name = xasprintf ("%s%s", blob_dir, m->config.digest + 7);
    if (sink_blob (&sv->sink, sv->s, name, m->config.digest, err) < 0)
      return -1;
    say (sv->opts->is_quiet, "Copying config %.10s done\n", m->config.digest + 7);
  }
  return 0;
}

static int
save_oci_image (struct saver *sv, const struct save_item *it, struct error **err)
{
  cleanup_free char *data = NULL, *manifest_name = NULL;
  cleanup_manifest struct manifest *m = NULL;
  json_object *d;
  size_t len = 0;

  m = read_manifest (sv, it->img, &data, &len, err);
  if (m == NULL || save_blobs (sv, m, "blobs/sha256/", err) < 0)
    return -1;
  manifest_name = xasprintf ("blobs/sha256/%s", it->img->manifest_digest + 7);
  if (sink_bytes (&sv->sink, manifest_name, data, len, err) < 0)
    return -1;
  d = descriptor (m->media_type, it->img->manifest_digest, len);
  /* The full name in both: podman and skopeo read the OCI one, docker
   * (25 and later) containerd's. */
  if (it->tags[0])
    {
      json_object *a = json_object_new_object ();
      json_object_object_add (a, ANNOTATION_CONTAINERD_NAME, json_object_new_string (it->tags[0]));
      json_object_object_add (a, ANNOTATION_REF_NAME, json_object_new_string (it->tags[0]));
      json_object_object_add (d, "annotations", a);
    }
  json_object_array_add (sv->index, d);
  return 0;
}

/* The "dir:" layout wants a docker schema2 manifest: an OCI one is
 * rewritten with the same blobs. */
static char *
docker_dir_manifest (const struct manifest *m, char *data, size_t len, size_t *out_len,
                     struct error **err)
{
  cleanup_free struct manifest_layer *ml = NULL;
  char *made;

  if (strcmp (m->media_type, MANIFEST_MT_DOCKER_MANIFEST) == 0)
    {
      *out_len = len;
      return xstrndup (data, len);
    }
  ml = xcalloc (m->n_layers + 1, sizeof *ml);
  for (size_t i = 0; i < m->n_layers; i++)
    {
      ml[i].digest = m->layers[i].digest;
      ml[i].size = (uint64_t) m->layers[i].size;
      ml[i].compression = compression_of (m->layers[i].compression);
    }
  made = make_manifest (true, m->config.digest, (size_t) m->config.size, ml, m->n_layers, err);
  if (made)
    *out_len = strlen (made);
  return made;
}

static int
save_docker_dir_image (struct saver *sv, const struct save_item *it, struct error **err)
{
  cleanup_free char *data = NULL, *out = NULL;
  cleanup_manifest struct manifest *m = NULL;
  size_t len = 0, out_len = 0;

  m = read_manifest (sv, it->img, &data, &len, err);
  if (m == NULL || save_blobs (sv, m, "", err) < 0)
    return -1;
  out = docker_dir_manifest (m, data, len, &out_len, err);
  if (out == NULL)
    return -1;
  if (sink_bytes (&sv->sink, "manifest.json", out, out_len, err) < 0)
    return -1;
  return sink_bytes (&sv->sink, "version", DIR_TRANSPORT_VERSION,
                     strlen (DIR_TRANSPORT_VERSION), err);
}

static int
save_items (struct saver *sv, struct error **err)
{
  enum image_archive_format f = sv->opts->format;
  bool is_oci = f == IMAGE_ARCHIVE_OCI_ARCHIVE || f == IMAGE_ARCHIVE_OCI_DIR;

  if (is_oci && (sink_dir (&sv->sink, "blobs", err) < 0
                 || sink_dir (&sv->sink, "blobs/sha256", err) < 0))
    return -1;
  for (size_t i = 0; i < sv->n; i++)
    {
      int r = f == IMAGE_ARCHIVE_DOCKER_ARCHIVE ? save_docker_image (sv, &sv->items[i], err)
              : is_oci                          ? save_oci_image (sv, &sv->items[i], err)
                                                : save_docker_dir_image (sv, &sv->items[i], err);
      if (r < 0)
        return err_wrap (err, "save image %.12s", images_hex_id (sv->items[i].img->id));
    }
  say (sv->opts->is_quiet, "Writing manifest to image destination\n");
  if (f == IMAGE_ARCHIVE_DOCKER_ARCHIVE)
    return sink_json (&sv->sink, "manifest.json", sv->manifest, err) < 0
               ? -1
               : sink_json (&sv->sink, "repositories", sv->repositories, err);
  if (is_oci)
    {
      cleanup_json json_object *index = json_object_new_object ();
      cleanup_json json_object *layout = json_object_new_object ();

      json_object_object_add (layout, "imageLayoutVersion", json_object_new_string ("1.0.0"));
      json_object_object_add (index, "schemaVersion", json_object_new_int (2));
      json_object_object_add (index, "manifests", json_object_get (sv->index));
      if (sink_json (&sv->sink, "oci-layout", layout, err) < 0)
        return -1;
      return sink_json (&sv->sink, "index.json", index, err);
    }
  return 0;
}

/* The writer gets a descriptor of its own, which discard_tar() can point
 * elsewhere. */
static int
open_tar (struct saver *sv, int fd, struct error **err)
{
  cleanup_archive_write struct archive *a = archive_write_new ();

  sv->sink.tar_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (sv->sink.tar_fd < 0)
    return err_make (err, errno, "duplicate the output descriptor");
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
      || archive_write_add_filter_none (a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open_fd (a, sv->sink.tar_fd) != ARCHIVE_OK)
    return archive_fail (a, "write archive", err);
  sv->sink.tar = steal_ptr (&a);
  return 0;
}

/* Close a failed archive into /dev/null: a reader of the output (stdout,
 * a FIFO) must not get the end marker that would make it look whole.
 * (archive_write_fail() would do, but libarchive then leaks its buffer.) */
static void
discard_tar (struct sink *k)
{
  int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);

  if (null < 0 || dup3 (null, k->tar_fd, O_CLOEXEC) < 0)
    archive_write_fail (k->tar);
  if (null >= 0)
    close (null);
  archive_write_close (k->tar);
}

static int
close_tar (struct saver *sv, struct error **err)
{
  int r = archive_write_close (sv->sink.tar);

  if (r != ARCHIVE_OK)
    return archive_fail (sv->sink.tar, "write archive", err);
  return 0;
}

static bool
is_dir_format (enum image_archive_format f)
{
  return f == IMAGE_ARCHIVE_OCI_DIR || f == IMAGE_ARCHIVE_DOCKER_DIR;
}

static int
open_output (struct saver *sv, struct output *o, struct error **err)
{
  const char *path = sv->opts->output;

  if (is_dir_format (sv->opts->format))
    {
      if (path == NULL)
        return err_make (err, 0, "--format %s writes a directory: name it with -o DIRECTORY",
                         format_name (sv->opts->format));
      if (open_output_dir (o, path, err) < 0)
        return -1;
      sv->sink.dirfd = o->fd;
      return 0;
    }
  if (path == NULL)
    {
      if (isatty (1))
        return err_make (err, 0, "refusing to save to terminal. Use -o flag or redirect");
      o->fd = 1;
    }
  else if (open_output_file (o, path, err) < 0)
    return -1;
  return open_tar (sv, o->fd, err);
}

static void
saver_clear (struct saver *sv)
{
  for (size_t i = 0; i < sv->n; i++)
    {
      storage_image_free (sv->items[i].img);
      strv_free (sv->items[i].tags);
    }
  free (sv->items);
  if (sv->sink.tar)
    archive_write_free (sv->sink.tar);
  if (sv->sink.fd >= 0)
    close (sv->sink.fd);
  if (sv->sink.tar_fd >= 0)
    close (sv->sink.tar_fd);
  strv_free (sv->sink.written);
  json_object_put (sv->manifest);
  json_object_put (sv->repositories);
  json_object_put (sv->index);
  storage_close (sv->s);
}

int
image_archive_save (struct skiff_context *ctx, char *const *args,
                    const struct image_archive_save_opts *opts, struct error **err)
{
  struct saver sv = { .ctx = ctx, .opts = opts };
  struct output o = { .fd = -1 };
  int r;

  sv.sink.dirfd = sv.sink.fd = sv.sink.tar_fd = -1;
  sv.manifest = json_object_new_array ();
  sv.repositories = json_object_new_object ();
  sv.index = json_object_new_array ();
  r = images_open (ctx, false, &sv.s, err);
  if (r == 0)
    r = collect_items (&sv, args, err);
  if (r == 0)
    r = open_output (&sv, &o, err);
  if (r == 0)
    r = save_items (&sv, err);
  if (r == 0 && sv.sink.tar)
    r = close_tar (&sv, err);
  if (r == 0)
    r = finish_output (&o, err);
  if (r < 0 && sv.sink.tar)
    discard_tar (&sv.sink);
  if (r < 0)
    abandon_output (&o);
  else
    output_close (&o);
  saver_clear (&sv);
  return r;
}

int
image_archive_parse_format (const char *s, enum image_archive_format *out, struct error **err)
{
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (strcmp (s, formats[i].name) == 0)
      {
        *out = formats[i].format;
        return 0;
      }
  return err_make (err, 0, "unknown format \"%s\": use docker-archive, oci-archive, oci-dir "
                   "or docker-dir", s);
}

/* ==== import ============================================================= */

/* The tarball as a staged blob, hashed; xz and bzip2 are decompressed
 * into a second stage, since no manifest can name them. */
static int
stage_tarball (struct storage_store *s, int fd, const char *name, struct member *m,
               struct error **err)
{
  enum blob_compression c;
  cleanup_close int in = -1;
  struct member plain = { 0 };
  char hex[SHA256_HEX_LEN + 1];
  int out;

  m->name = xstrdup (name);
  if (ingest (s, NULL, m, -1, read_fd_data, &fd, err) < 0)
    return -1;
  c = sniff_compression (m->magic, m->n_magic);
  if (c != COMP_XZ && c != COMP_BZIP2)
    return 0;
  in = open (storage_blob_stage_path (m->stage), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return err_make (err, errno, "open \"%s\"", storage_blob_stage_path (m->stage));
  plain.name = xstrdup (name);
  if (storage_blob_stage_new (s, &plain.stage, err) < 0)
    {
      member_clear (&plain);
      return -1;
    }
  out = storage_blob_stage_fd (plain.stage);
  if (decompress_fd (in, write_chunk, &out, &plain.size, hex, err) < 0)
    {
      member_clear (&plain);
      return err_wrap (err, "\"%s\"", name);
    }
  snprintf (plain.digest, sizeof plain.digest, "sha256:%s", hex);
  member_clear (m);
  *m = plain;
  return 0;
}

static json_object *
import_config (const struct image_archive_import_opts *o, json_object *inner,
               const char *diff_id)
{
  struct manifest_platform host = { 0 };
  json_object *cfg = json_object_new_object ();
  json_object *rootfs = json_object_new_object ();
  json_object *diff_ids = json_object_new_array ();
  json_object *history = json_object_new_array ();
  json_object *h = json_object_new_object ();
  const char *variant;
  struct timespec now;
  char created[64];

  clock_gettime (CLOCK_REALTIME, &now);
  human_rfc3339 (now.tv_sec, now.tv_nsec, created, sizeof created);
  manifest_platform_host (&host);
  variant = o->variant ? o->variant : o->arch ? NULL : host.variant;
  json_object_object_add (cfg, "created", json_object_new_string (created));
  json_object_object_add (cfg, "architecture",
                          json_object_new_string (o->arch ? o->arch : host.architecture));
  if (variant)
    json_object_object_add (cfg, "variant", json_object_new_string (variant));
  json_object_object_add (cfg, "os", json_object_new_string (o->os ? o->os : host.os));
  if (o->message)
    json_object_object_add (cfg, "comment", json_object_new_string (o->message));
  json_object_object_add (cfg, "config", json_object_get (inner));
  json_object_array_add (diff_ids, json_object_new_string (diff_id));
  json_object_object_add (rootfs, "type", json_object_new_string ("layers"));
  json_object_object_add (rootfs, "diff_ids", diff_ids);
  json_object_object_add (cfg, "rootfs", rootfs);
  json_object_object_add (h, "created", json_object_new_string (created));
  {
    cleanup_free char *by = xasprintf ("/bin/sh -c #(nop) ADD file:%s in /", diff_id + 7);
    json_object_object_add (h, "created_by", json_object_new_string (by));
  }
  json_object_object_add (h, "comment", json_object_new_string (o->message
                                                                 ? o->message
                                                                 : "imported from tarball"));
  json_object_array_add (history, h);
  json_object_object_add (cfg, "history", history);
  manifest_platform_clear (&host);
  return cfg;
}

static int
import_name (const char *reference, char ***names, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *name = NULL;

  *names = xcalloc (1, sizeof **names);
  if (reference == NULL)
    return 0;
  if (reference_parse (reference, &ref, err) < 0)
    return -1;
  if (ref.digest)
    return err_make (err, 0, "invalid reference \"%s\": an image name cannot contain a digest",
                     reference);
  name = reference_to_string (&ref);
  *names = strv_append (*names, name);
  return 0;
}

struct importer
{
  struct skiff_context *ctx;
  const struct image_archive_import_opts *opts;
  struct storage_store *s;
  struct member layer;
  char **names;
  char *diff_id;
  char *config_data;
  char *config_digest;
  char *manifest_digest;
  char *chain_id;
};

static int
import_layer (struct importer *im, struct error **err)
{
  const char *input = im->opts->input;
  cleanup_close int fd = -1;
  enum blob_compression c;
  struct image_layer_spec spec = { 0 };
  cleanup_strv char **chain_ids = NULL, **diff_ids = NULL;

  if (strcmp (input, "-") != 0)
    {
      fd = open (input, O_RDONLY | O_NOCTTY | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", input);
    }
  else if (isatty (0))
    return err_make (err, 0, "cannot read from terminal, use command-line redirection");
  if (stage_tarball (im->s, fd >= 0 ? fd : 0, input, &im->layer, err) < 0
      || store_member (im->s, &im->layer, err) < 0)
    return -1;
  say (im->opts->is_quiet, "Getting image source signatures\nCopying blob %.12s done\n",
       im->layer.digest + 7);
  c = sniff_compression (im->layer.magic, im->layer.n_magic);
  spec.blob_digest = im->layer.digest;
  spec.blob_size = (int64_t) im->layer.size;
  spec.diff_id = c == COMP_NONE || im->layer.n_magic == 0 ? im->layer.digest : NULL;
  if (image_layers_ensure (im->ctx, im->s, &spec, 1, &chain_ids, &diff_ids, err) < 0)
    return -1;
  im->chain_id = xstrdup (chain_ids[0]);
  im->diff_id = xstrdup (diff_ids[0]);
  return 0;
}

static int
import_store (struct importer *im, json_object *inner, struct error **err)
{
  cleanup_json json_object *cfg = import_config (im->opts, inner, im->diff_id);
  struct manifest_layer ml = { 0 };
  cleanup_free char *manifest = NULL;
  char *layers[] = { im->chain_id, NULL };
  char *blobs[] = { im->layer.digest, NULL };
  struct storage_image img = { 0 };

  im->config_data = jobj_to_string (cfg, false);
  if (storage_blob_put_bytes (im->s, NULL, im->config_data, strlen (im->config_data),
                              &im->config_digest, err) < 0)
    return err_wrap (err, "store config");
  say (im->opts->is_quiet, "Copying config %.10s done\n", im->config_digest + 7);
  ml.digest = im->layer.digest;
  ml.size = im->layer.size;
  ml.compression = sniff_compression (im->layer.magic, im->layer.n_magic);
  manifest = make_manifest (false, im->config_digest, strlen (im->config_data), &ml, 1, err);
  if (manifest == NULL)
    return -1;
  say (im->opts->is_quiet, "Writing manifest to image destination\n");
  if (storage_blob_put_bytes (im->s, NULL, manifest, strlen (manifest), &im->manifest_digest,
                              err) < 0)
    return err_wrap (err, "store manifest");
  img.id = im->config_digest;
  img.names = im->names;
  img.manifest_digest = im->manifest_digest;
  img.manifest_type = (char *) MANIFEST_MT_OCI_MANIFEST;
  img.layers = layers;
  img.layer_blobs = blobs;
  img.created = (int64_t) time (NULL);
  if (storage_image_put (im->s, &img, err) < 0)
    return err_wrap (err, "store image");
  return 0;
}

int
image_archive_import (struct skiff_context *ctx, const struct image_archive_import_opts *opts,
                      char **id, struct error **err)
{
  struct importer im = { .ctx = ctx, .opts = opts };
  cleanup_json json_object *inner = json_object_new_object ();
  int r = 0;

  if (strncmp (opts->input, "http://", 7) == 0 || strncmp (opts->input, "https://", 8) == 0)
    return err_make (err, 0, "importing from a URL is not supported: download \"%s\" and "
                     "import the file", opts->input);
  /* Changes and name first: a typo fails before any work. */
  for (size_t i = 0; opts->changes && opts->changes[i] && r == 0; i++)
    r = image_archive_apply_change (inner, opts->changes[i], err);
  if (r == 0)
    r = import_name (opts->reference, &im.names, err);
  if (r == 0)
    r = images_open (ctx, true, &im.s, err);
  if (r == 0)
    r = import_layer (&im, err);
  if (r == 0)
    r = import_store (&im, inner, err);
  if (r == 0)
    *id = steal_ptr (&im.config_digest);
  else
    err_wrap (err, "import \"%s\"", opts->input);
  member_clear (&im.layer);
  strv_free (im.names);
  free (im.diff_id);
  free (im.chain_id);
  free (im.config_data);
  free (im.config_digest);
  free (im.manifest_digest);
  storage_close (im.s);
  return r;
}
