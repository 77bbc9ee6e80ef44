/* skiff images / image ls: the local images as a table or JSON. */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_cache.h"
#include "cli.h"
#include "commands.h"
#include "format.h"
#include "image_json.h"
#include "images.h"
#include "libutil/buf.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/table.h"
#include "reference.h"

struct images_opts
{
  bool is_all;           /* -a: build's intermediate images too */
  bool is_quiet;
  bool has_digests;
  bool is_no_trunc;
  bool is_noheading;
  const char *format;
  char **filters; /* "key=value" */
};

/* "docker.io/library/busybox:latest" -> repository and tag; a repo digest
 * "docker.io/library/busybox@sha256:..." -> repository and "<none>". */
static void
split_name (const char *name, char **repo, char **tag)
{
  const char *at = strchr (name, '@');
  const char *slash = strrchr (name, '/');
  const char *colon = strrchr (slash ? slash : name, ':');

  if (at)
    {
      *repo = xstrndup (name, (size_t) (at - name));
      *tag = xstrdup ("<none>");
    }
  else if (colon)
    {
      *repo = xstrndup (name, (size_t) (colon - name));
      *tag = xstrdup (colon + 1);
    }
  else
    {
      *repo = xstrdup (name);
      *tag = xstrdup ("<none>");
    }
}

/* An image pulled by digest has no name but its repo digests, and is not
 * dangling (podman counts the digested reference as a name). */
static bool
is_dangling (const struct storage_image *img)
{
  return (img->names == NULL || img->names[0] == NULL)
         && (img->digests == NULL || img->digests[0] == NULL);
}

/* What the image is listed as, one row each: its names, or for an image
 * with repo digests only one of them per repository; empty when dangling. */
static char **
row_names (const struct storage_image *img)
{
  char **v = xcalloc (1, sizeof *v);

  if (img->names && img->names[0])
    {
      for (char **n = img->names; *n; n++)
        v = strv_append (v, *n);
      return v;
    }
  for (char **d = img->digests; d && *d; d++)
    {
      size_t repo_len = strcspn (*d, "@");
      bool is_seen = false;

      for (char **p = v; *p && !is_seen; p++)
        is_seen = strncmp (*p, *d, repo_len + 1) == 0;
      if (!is_seen)
        v = strv_append (v, *d);
    }
  return v;
}

static bool
matches_reference (const struct storage_image *img, const char *pattern)
{
  cleanup_strv char **names = row_names (img);

  for (char **n = names; *n; n++)
    {
      cleanup_free char *repo = NULL, *tag = NULL;
      cleanup_image_ref struct image_ref ref = { 0 };

      split_name (*n, &repo, &tag);
      if (fnmatch (pattern, *n, 0) == 0 || fnmatch (pattern, repo, 0) == 0)
        return true;
      if (reference_parse (*n, &ref, NULL) == 0)
        {
          cleanup_free char *familiar = reference_familiar (&ref);
          if (familiar && fnmatch (pattern, familiar, 0) == 0)
            return true;
          if (strchr (pattern, ':') == NULL && familiar)
            {
              char *colon = strrchr (familiar, ':');
              if (colon)
                *colon = '\0';
              if (fnmatch (pattern, familiar, 0) == 0)
                return true;
            }
        }
    }
  return false;
}

static bool
matches_label (struct storage_store *s, const struct storage_image *img, const char *want)
{
  cleanup_json json_object *cfg = image_json_config (s, img, NULL);
  json_object *labels = jobj_get_object (jobj_get_object (cfg, "config"), "Labels");
  const char *eq = strchr (want, '=');
  cleanup_free char *key = eq ? xstrndup (want, (size_t) (eq - want)) : xstrdup (want);
  json_object *v = NULL;

  if (labels == NULL || !json_object_object_get_ex (labels, key, &v))
    return false;
  return eq == NULL || (json_object_is_type (v, json_type_string)
                        && strcmp (json_object_get_string (v), eq + 1) == 0);
}

static int
check_filters (char **filters, struct error **err)
{
  static const char *const known[] = { "dangling=", "reference=", "label=", NULL };

  for (char **f = filters; f && *f; f++)
    {
      bool is_known = false;
      for (const char *const *k = known; *k; k++)
        is_known = is_known || str_has_prefix (*f, *k);
      if (!is_known)
        return err_make (err, 0, "invalid image filter \"%s\": use dangling=true|false, "
                         "reference=PATTERN or label=KEY[=VALUE]", *f);
      if (str_has_prefix (*f, "dangling=") && strcmp (*f, "dangling=true") != 0
          && strcmp (*f, "dangling=false") != 0)
        return err_make (err, 0, "invalid filter \"%s\": dangling takes true or false", *f);
    }
  return 0;
}

static bool
passes_filters (struct storage_store *s, const struct storage_image *img, char **filters)
{
  for (char **f = filters; f && *f; f++)
    {
      if (strcmp (*f, "dangling=true") == 0 && !is_dangling (img))
        return false;
      if (strcmp (*f, "dangling=false") == 0 && is_dangling (img))
        return false;
      if (str_has_prefix (*f, "reference=") && !matches_reference (img, *f + 10))
        return false;
      if (str_has_prefix (*f, "label=") && !matches_label (s, img, *f + 6))
        return false;
    }
  return true;
}

static int
by_created_desc (const void *a, const void *b)
{
  const struct storage_image *x = *(struct storage_image *const *) a;
  const struct storage_image *y = *(struct storage_image *const *) b;
  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  return 0;
}

static void
add_rows (struct table *t, const struct storage_image *img, const struct images_opts *o,
          time_t now)
{
  cleanup_strv char **names = row_names (img);
  char id[80], created[64], size[32];
  const char *digest = img->manifest_digest ? img->manifest_digest : "<none>";

  if (o->is_no_trunc)
    snprintf (id, sizeof id, "%s", img->id);
  else
    snprintf (id, sizeof id, "%.12s", images_hex_id (img->id));
  human_ago (img->created, now, created, sizeof created);
  human_size (img->size, size, sizeof size);
  if (names[0] == NULL)
    {
      const char *cells[] = { "<none>", "<none>", digest, id, created, size };
      const char *plain[] = { "<none>", "<none>", id, created, size };
      table_add_row (t, o->has_digests ? cells : plain);
      return;
    }
  for (char **n = names; *n; n++)
    {
      cleanup_free char *repo = NULL, *tag = NULL;
      split_name (*n, &repo, &tag);
      const char *cells[] = { repo, tag, digest, id, created, size };
      const char *plain[] = { repo, tag, id, created, size };
      table_add_row (t, o->has_digests ? cells : plain);
    }
}

static int
print_json (struct storage_store *s, struct storage_image **v, struct error **err)
{
  cleanup_json json_object *a = json_object_new_array ();
  cleanup_free char *text = NULL;

  for (size_t i = 0; v[i]; i++)
    {
      json_object *e = image_json_list_entry (s, v[i], err);
      if (e == NULL)
        return -1;
      json_object_array_add (a, e);
    }
  text = jobj_to_string (a, true);
  printf ("%s\n", text);
  return 0;
}

/* A template sees one row of the table, as podman's does: the JSON entry
 * plus .Repository and .Tag, with .ID, .Created and .Size as the table
 * prints them (.CreatedAt and --format json keep the exact values). */
static int
add_template_row (json_object *rows, json_object *entry, const char *name,
                  const struct storage_image *img, const struct images_opts *o, time_t now,
                  struct error **err)
{
  json_object *row = NULL;
  cleanup_free char *repo = NULL, *tag = NULL;
  char id[80], created[64], size[32];

  if (json_object_deep_copy (entry, &row, NULL) < 0)
    return err_make (err, ENOMEM, "copy image entry");
  if (name)
    split_name (name, &repo, &tag);
  snprintf (id, sizeof id, "%.*s", o->is_no_trunc ? 64 : 12, images_hex_id (img->id));
  human_ago (img->created, now, created, sizeof created);
  human_size (img->size, size, sizeof size);
  json_object_object_add (row, "Repository", json_object_new_string (repo ? repo : "<none>"));
  json_object_object_add (row, "Tag", json_object_new_string (tag ? tag : "<none>"));
  json_object_object_add (row, "Id", json_object_new_string (id));
  json_object_object_add (row, "Created", json_object_new_string (created));
  json_object_object_add (row, "CreatedSince", json_object_new_string (created));
  json_object_object_add (row, "Size", json_object_new_string (size));
  json_object_array_add (rows, row);
  return 0;
}

static int
print_template (struct storage_store *s, struct storage_image **v,
                const struct images_opts *o, struct error **err)
{
  static const struct format_header headers[] = {
    { "Repository", "REPOSITORY" }, { "Tag", "TAG" }, { "Id", "IMAGE ID" },
    { "ID", "IMAGE ID" }, { "CreatedSince", "CREATED" }, { "Created", "CREATED" },
    { "Size", "SIZE" }, { "Digest", "DIGEST" }, { NULL, NULL },
  };
  cleanup_json json_object *rows = json_object_new_array ();
  cleanup_buf struct buf out = BUF_INIT;
  time_t now = time (NULL);

  for (size_t i = 0; v[i]; i++)
    {
      cleanup_json json_object *e = image_json_list_entry (s, v[i], err);
      cleanup_strv char **names = row_names (v[i]);

      if (e == NULL)
        return -1;
      if (names[0] == NULL && add_template_row (rows, e, NULL, v[i], o, now, err) < 0)
        return -1;
      for (char **n = names; *n; n++)
        if (add_template_row (rows, e, *n, v[i], o, now, err) < 0)
          return -1;
    }
  if (format_render_rows (rows, o->format, headers, o->is_noheading, &out, err) < 0)
    return -1;
  fputs (out.data ? out.data : "", stdout);
  return 0;
}

static void
print_table (struct storage_image **v, const struct images_opts *o)
{
  static const char *const with_digests[] = { "REPOSITORY", "TAG", "DIGEST", "IMAGE ID",
                                              "CREATED", "SIZE" };
  static const char *const plain[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
  cleanup_table struct table *t = table_new (o->has_digests ? 6 : 5,
                                             o->has_digests ? with_digests : plain);
  time_t now = time (NULL);

  for (size_t i = 0; v[i]; i++)
    add_rows (t, v[i], o, now);
  table_print (t, o->is_noheading, stdout);
}

static void
print_quiet (struct storage_image **v, const struct images_opts *o)
{
  for (size_t i = 0; v[i]; i++)
    {
      bool is_seen = false;
      for (size_t j = 0; j < i; j++)
        is_seen = is_seen || strcmp (v[j]->id, v[i]->id) == 0;
      if (is_seen)
        continue;
      if (o->is_no_trunc)
        printf ("%s\n", v[i]->id);
      else
        printf ("%.12s\n", images_hex_id (v[i]->id));
    }
}

/* An unnamed image a build made as a step (its cache entry): hidden, as
 * podman hides intermediate images, unless -a. */
static bool
is_intermediate (struct skiff_context *ctx, const struct storage_image *img)
{
  return is_dangling (img) && build_cache_is_intermediate (ctx->root, img->id);
}

static int
list_images (struct skiff_context *ctx, const struct images_opts *o, const char *ref_arg,
             struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;
  struct storage_image **all = NULL;
  struct storage_image **keep;
  size_t n = 0, k = 0;
  int r = 0;

  if (images_open (ctx, false, &s, err) < 0)
    return -1;
  if (storage_image_list (s, &all, err) < 0)
    return err_wrap (err, "list images");
  while (all[n])
    n++;
  keep = xcalloc (n + 1, sizeof *keep);
  for (size_t i = 0; i < n; i++)
    if (passes_filters (s, all[i], o->filters)
        && (ref_arg == NULL || matches_reference (all[i], ref_arg))
        && (o->is_all || !is_intermediate (ctx, all[i])))
      keep[k++] = all[i];
  qsort (keep, k, sizeof *keep, by_created_desc);
  if (o->is_quiet)
    print_quiet (keep, o);
  else if (o->format && format_is_json (o->format))
    r = print_json (s, keep, err);
  else if (o->format)
    r = print_template (s, keep, o, err);
  else
    print_table (keep, o);
  free (keep);
  storage_image_vec_free (all);
  return r;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_DIGESTS = 1000, OPT_NO_TRUNC, OPT_FORMAT };
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' },
    { "digests", no_argument, NULL, OPT_DIGESTS },
    { "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
    { "noheading", no_argument, NULL, 'n' },
    { "filter", required_argument, NULL, 'f' },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct images_opts o = { 0 };
  cleanup_strv char **filters = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+aqnf:h", opts, &cmd_images_command, err)) != -1)
    switch (c)
      {
      case 'a':
        o.is_all = true;
        break;
      case 'q':
        o.is_quiet = true;
        break;
      case 'n':
        o.is_noheading = true;
        break;
      case OPT_DIGESTS:
        o.has_digests = true;
        break;
      case OPT_NO_TRUNC:
        o.is_no_trunc = true;
        break;
      case 'f':
        filters = strv_append (filters, optarg);
        break;
      case OPT_FORMAT:
        o.format = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_images_command, argc - optind, 0, 1, err) < 0)
    return -1;
  if (check_filters (filters, err) < 0)
    return -1;
  o.filters = filters;
  return list_images (ctx, &o, optind < argc ? argv[optind] : NULL, err);
}

const struct command cmd_images_command = {
  .name = "images",
  .summary = "List images in local storage",
  .usage = "images [options] [IMAGE]",
  .options_help =
    "  -a, --all             Show all images (default hides intermediate images)\n"
    "      --digests         Show digests\n"
    "  -f, --filter filters  Filter output based on conditions provided\n"
    "      --format string   Change the output format to JSON or a Go template\n"
    "  -n, --noheading       Do not print column headings\n"
    "      --no-trunc        Do not truncate output\n"
    "  -q, --quiet           Display only image IDs\n",
  .run = run,
};
