/* skiff ps / container ls: the containers as a table, IDs or JSON. */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_json.h"
#include "container_size.h"
#include "format.h"
#include "libutil/buf.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "libutil/table.h"

struct ps_opts
{
  bool is_all, is_quiet, is_no_trunc, is_noheading, is_size;
  bool is_external;     /* --external: build's working containers too */
  long last;            /* -n / -l; < 0: all */
  const char *format;
  char **filters;
};

static bool
label_matches (const struct container *c, const char *want)
{
  json_object *labels = jobj_get_object (jobj_get_object (c->config, "Config"), "Labels");
  const char *eq = strchr (want, '=');
  cleanup_free char *key = eq ? xstrndup (want, (size_t) (eq - want)) : xstrdup (want);
  json_object *v = NULL;

  if (labels == NULL || !json_object_object_get_ex (labels, key, &v))
    return false;
  return eq == NULL || strcmp (json_object_get_string (v), eq + 1) == 0;
}

static bool
filter_matches (const struct container *c, const char *f)
{
  const char *v = strchr (f, '=') + 1;

  if (str_has_prefix (f, "status="))
    return strcmp (container_status_name (c->state.status), v) == 0
           || (strcmp (v, "running") == 0 && c->state.status == CONTAINER_STOPPING);
  if (str_has_prefix (f, "name="))
    return strstr (c->name, v) != NULL || fnmatch (v, c->name, 0) == 0;
  if (str_has_prefix (f, "id="))
    return strncmp (c->id, v, strlen (v)) == 0;
  if (str_has_prefix (f, "label="))
    return label_matches (c, v);
  if (str_has_prefix (f, "ancestor="))
    return (c->image_name && (strstr (c->image_name, v) != NULL
                              || fnmatch (v, c->image_name, 0) == 0))
           || (c->image_id && strncmp (c->image_id + 7, v, strlen (v)) == 0);
  if (str_has_prefix (f, "exited="))
    return c->state.status == CONTAINER_EXITED && c->state.exit_code == atoi (v);
  return false;
}

static int
check_filters (char **filters, struct error **err)
{
  static const char *const keys[] = { "status=", "name=", "id=", "label=", "ancestor=",
                                      "exited=", NULL };
  for (char **f = filters; f && *f; f++)
    {
      bool is_known = false;
      for (const char *const *k = keys; *k; k++)
        is_known = is_known || str_has_prefix (*f, *k);
      if (!is_known)
        return err_make (err, 0, "invalid filter \"%s\": use status, name, id, label, "
                         "ancestor or exited", *f);
    }
  return 0;
}

/* Filters of different keys must all match; the same key repeated is an
 * "or", as in docker. */
static bool
passes (const struct container *c, char **filters)
{
  for (char **f = filters; f && *f; f++)
    {
      size_t klen = (size_t) (strchr (*f, '=') - *f);
      bool any = false;
      for (char **g = filters; *g; g++)
        if (strncmp (*g, *f, klen + 1) == 0)
          any = any || filter_matches (c, *g);
      if (!any)
        return false;
    }
  return true;
}

static int
newest_first (const void *a, const void *b)
{
  const struct container *x = *(struct container *const *) a;
  const struct container *y = *(struct container *const *) b;
  return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

/* "0B (virtual 2.13MB)", as docker prints a container's size. */
static void
size_text (uint64_t rw, uint64_t image, char *out, size_t len)
{
  char a[32], b[32];

  human_size (rw, a, sizeof a);
  human_size (rw + image, b, sizeof b);
  snprintf (out, len, "%s (virtual %s)", a, b);
}

static int
print_table (struct skiff_context *ctx, struct container **v, size_t n,
             const struct ps_opts *o, struct error **err)
{
  static const char *const headers[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                                         "STATUS", "PORTS", "NAMES", "SIZE" };
  cleanup_table struct table *t = table_new (o->is_size ? 8 : 7, headers);
  cleanup_free uint64_t *rw = xcalloc (n + 1, sizeof *rw);
  cleanup_free uint64_t *image = xcalloc (n + 1, sizeof *image);
  time_t now = time (NULL);

  if (o->is_size && container_size_compute (ctx, v, n, rw, image, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_json json_object *r = container_json_ps_row (v[i], o->is_no_trunc, now);
      char size[96];
      size_text (rw[i], image[i], size, sizeof size);
      const char *cells[] = { jobj_get_string (r, "ID"), jobj_get_string (r, "Image"),
                              jobj_get_string (r, "Command"), jobj_get_string (r, "CreatedAt"),
                              jobj_get_string (r, "Status"), jobj_get_string (r, "Ports"),
                              jobj_get_string (r, "Names"), size };
      table_add_row (t, cells);
    }
  table_print (t, o->is_noheading, stdout);
  return 0;
}

static int
print (struct skiff_context *ctx, struct container **v, size_t n, const struct ps_opts *o,
       struct error **err)
{
  time_t now = time (NULL);

  if (o->is_quiet)
    for (size_t i = 0; i < n; i++)
      printf (o->is_no_trunc ? "%s\n" : "%.12s\n", v[i]->id);
  else if (o->format && format_is_json (o->format))
    {
      cleanup_json json_object *a = json_object_new_array ();
      cleanup_free char *text = NULL;
      for (size_t i = 0; i < n; i++)
        json_object_array_add (a, container_json_ps (v[i]));
      text = jobj_to_string (a, true);
      printf ("%s\n", text);
    }
  else if (o->format)
    {
      static const struct format_header headers[] = {
        { "ID", "CONTAINER ID" }, { "Image", "IMAGE" }, { "Command", "COMMAND" },
        { "RunningFor", "CREATED" }, { "CreatedAt", "CREATED AT" }, { "Status", "STATUS" },
        { "Ports", "PORTS" }, { "Names", "NAMES" }, { NULL, NULL },
      };
      cleanup_json json_object *rows = json_object_new_array ();
      cleanup_buf struct buf out = BUF_INIT;
      for (size_t i = 0; i < n; i++)
        json_object_array_add (rows, container_json_ps_row (v[i], o->is_no_trunc, now));
      if (format_render_rows (rows, o->format, headers, o->is_noheading, &out, err) < 0)
        return -1;
      fputs (out.data ? out.data : "", stdout);
    }
  else
    return print_table (ctx, v, n, o, err);
  return 0;
}

static int
list (struct skiff_context *ctx, const struct ps_opts *o, struct error **err)
{
  struct container **all = NULL;
  cleanup_free struct container **keep = NULL;
  size_t n = 0, k = 0;
  int r;

  if (container_list (ctx, &all, err) < 0)
    return -1;
  while (all[n])
    n++;
  qsort (all, n, sizeof *all, newest_first);
  keep = xcalloc (n + 1, sizeof *keep);
  for (size_t i = 0; i < n; i++)
    {
      bool is_shown = o->is_all || o->last >= 0 || o->filters
                      || all[i]->state.status == CONTAINER_RUNNING
                      || all[i]->state.status == CONTAINER_PAUSED
                      || all[i]->state.status == CONTAINER_STOPPING;
      /* build's working containers are its own business, as buildah's are */
      if (!o->is_external && jobj_get_bool (all[i]->config, "BuildContainer", false))
        continue;
      if (is_shown && passes (all[i], o->filters))
        keep[k++] = all[i];
    }
  if (o->last >= 0 && (size_t) o->last < k)
    k = (size_t) o->last;
  r = print (ctx, keep, k, o, err);
  container_vec_free (all);
  return r;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_NO_TRUNC = 1000, OPT_FORMAT, OPT_NOHEADING, OPT_EXTERNAL };
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' },
    { "latest", no_argument, NULL, 'l' },
    { "last", required_argument, NULL, 'n' },
    { "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
    { "noheading", no_argument, NULL, OPT_NOHEADING },
    { "size", no_argument, NULL, 's' },
    { "filter", required_argument, NULL, 'f' },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "external", no_argument, NULL, OPT_EXTERNAL },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ps_opts o = { .last = -1 };
  cleanup_strv char **filters = NULL;
  uint64_t n;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+aqln:sf:h", opts, &cmd_ps_command, err)) != -1)
    switch (c)
      {
      case 'a':
        o.is_all = true;
        break;
      case 'q':
        o.is_quiet = true;
        break;
      case 'l':
        o.last = 1;
        break;
      case 'n':
        if (parse_uint (optarg, 1u << 30, "--last", &n, err) < 0)
          return -1;
        o.last = (long) n;
        break;
      case 's':
        o.is_size = true;
        break;
      case OPT_NO_TRUNC:
        o.is_no_trunc = true;
        break;
      case OPT_NOHEADING:
        o.is_noheading = true;
        break;
      case 'f':
        if (strchr (optarg, '=') == NULL)
          return err_make (err, 0, "invalid filter \"%s\": use KEY=VALUE", optarg);
        filters = strv_append (filters, optarg);
        break;
      case OPT_FORMAT:
        o.format = optarg;
        break;
      case OPT_EXTERNAL:
        o.is_external = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_ps_command, argc - optind, 0, 0, err) < 0
      || check_filters (filters, err) < 0)
    return -1;
  o.filters = filters;
  return list (ctx, &o, err);
}

const struct command cmd_ps_command = {
  .name = "ps",
  .summary = "List containers",
  .usage = "ps [options]",
  .options_help = "  -a, --all             Show all the containers, default is only running containers\n"
                  "      --external        Show build's working containers too (with -a: stopped ones)\n"
                  "  -f, --filter strings  Filter output based on conditions given\n"
                  "      --format string   Pretty-print containers to JSON or using a Go template\n"
                  "  -n, --last int        Print the n last created containers (all states)\n"
                  "  -l, --latest          Show the latest container created (all states)\n"
                  "      --no-trunc        Display the extended information\n"
                  "      --noheading       Do not print headers\n"
                  "  -q, --quiet           Print the numeric IDs of the containers only\n"
                  "  -s, --size            Display the total file sizes\n",
  .run = run,
};
