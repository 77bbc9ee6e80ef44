/* skiff history / image history: the config's history with the size each
 * step added. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "image_json.h"
#include "images.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/table.h"

struct history_opts
{
  bool is_quiet;
  bool is_no_trunc;
  bool is_human;
  bool is_noheading;
  const char *format;
};

/* One row per history entry, newest first, as podman builds them: entries
 * that are not empty_layer consume the image's layers in order. */
static json_object *
history_rows (struct storage_store *s, const struct storage_image *img, json_object *cfg)
{
  json_object *hist = jobj_get_array (cfg, "history");
  size_t n = hist ? json_object_array_length (hist) : 0;
  size_t layer = 0, nlayers = strv_len (img->layers);
  json_object *rows = json_object_new_array ();

  for (size_t i = 0; i < n; i++)
    {
      json_object *h = json_object_array_get_idx (hist, i);
      json_object *row = json_object_new_object ();
      const char *by = jobj_get_string (h, "created_by");
      const char *comment = jobj_get_string (h, "comment");
      const char *created = jobj_get_string (h, "created");
      int64_t size = 0, secs = 0;

      if (!jobj_get_bool (h, "empty_layer", false) && layer < nlayers)
        {
          struct storage_layer *l = NULL;
          if (storage_layer_get (s, img->layers[layer++], &l, NULL) == 0)
            size = (int64_t) l->size;
          storage_layer_free (l);
        }
      if (created)
        human_parse_rfc3339 (created, &secs, NULL);
      json_object_object_add (row, "id", json_object_new_string (
                                             i + 1 == n ? images_hex_id (img->id) : "<missing>"));
      json_object_object_add (row, "created", json_object_new_int64 (secs));
      json_object_object_add (row, "createdBy", json_object_new_string (by ? by : ""));
      json_object_object_add (row, "size", json_object_new_int64 (size));
      json_object_object_add (row, "comment", json_object_new_string (comment ? comment : ""));
      json_object_array_put_idx (rows, n - 1 - i, row);
    }
  return rows;
}

static void
print_table (json_object *rows, const struct history_opts *o)
{
  static const char *const headers[] = { "ID", "CREATED", "CREATED BY", "SIZE", "COMMENT" };
  cleanup_table struct table *t = table_new (5, headers);
  time_t now = time (NULL);

  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      json_object *r = json_object_array_get_idx (rows, i);
      const char *id = jobj_get_string (r, "id");
      const char *by = jobj_get_string (r, "createdBy");
      char created[64], size[32], idbuf[80], bybuf[64];

      if (o->is_human)
        human_ago ((time_t) jobj_get_int (r, "created", 0), now, created, sizeof created);
      else
        human_rfc3339 (jobj_get_int (r, "created", 0), 0, created, sizeof created);
      human_size ((uint64_t) jobj_get_int (r, "size", 0), size, sizeof size);
      snprintf (idbuf, sizeof idbuf, o->is_no_trunc ? "%s" : "%.12s", id);
      if (!o->is_no_trunc && strlen (by) > 45)
        snprintf (bybuf, sizeof bybuf, "%.42s...", by);
      else
        snprintf (bybuf, sizeof bybuf, "%.63s", by);
      const char *cells[] = { idbuf, created, o->is_no_trunc ? by : bybuf, size,
                              jobj_get_string (r, "comment") };
      table_add_row (t, cells);
    }
  table_print (t, o->is_noheading, stdout);
}

static int
print_rows (json_object *rows, const struct history_opts *o, struct error **err)
{
  if (o->is_quiet)
    {
      for (size_t i = 0; i < json_object_array_length (rows); i++)
        {
          const char *id = jobj_get_string (json_object_array_get_idx (rows, i), "id");
          printf (o->is_no_trunc ? "%s\n" : "%.12s\n", id);
        }
      return 0;
    }
  if (o->format && format_is_json (o->format))
    {
      cleanup_free char *text = jobj_to_string (rows, true);
      printf ("%s\n", text);
      return 0;
    }
  if (o->format)
    for (size_t i = 0; i < json_object_array_length (rows); i++)
      {
        cleanup_buf struct buf out = BUF_INIT;
        if (format_render (json_object_array_get_idx (rows, i), o->format, &out, err) < 0)
          return -1;
        printf ("%s\n", out.data ? out.data : "");
      }
  else
    print_table (rows, o);
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_NO_TRUNC = 1000, OPT_FORMAT };
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
    { "human", optional_argument, NULL, 'H' },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "noheading", no_argument, NULL, 'n' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct history_opts o = { .is_human = true };
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;
  cleanup_json json_object *cfg = NULL;
  cleanup_json json_object *rows = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+qnHh", opts, &cmd_history_command, err)) != -1)
    switch (c)
      {
      case 'q':
        o.is_quiet = true;
        break;
      case 'n':
        o.is_noheading = true;
        break;
      case OPT_NO_TRUNC:
        o.is_no_trunc = true;
        break;
      case 'H':
        if (cli_parse_bool ("human", optarg, &o.is_human, err) < 0)
          return -1;
        break;
      case OPT_FORMAT:
        o.format = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_history_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (images_open (ctx, false, &s, err) < 0 || images_require (s, argv[optind], &img, err) < 0)
    return -1;
  cfg = image_json_config (s, img, err);
  if (cfg == NULL)
    return -1;
  rows = history_rows (s, img, cfg);
  return print_rows (rows, &o, err);
}

const struct command cmd_history_command = {
  .name = "history",
  .summary = "Show history of a specified image",
  .usage = "history [options] IMAGE",
  .options_help = "      --format string   Change the output to JSON or a Go template\n"
                  "  -H, --human           Display sizes and dates in human readable format (default true)\n"
                  "      --no-trunc        Do not truncate the output\n"
                  "  -n, --noheading       Do not print column headings\n"
                  "  -q, --quiet           Display the numeric IDs only\n",
  .run = run,
};
