/* skiff inspect / image inspect: docker's JSON array, or a template per
 * object. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "container.h"
#include "container_json.h"
#include "commands.h"
#include "format.h"
#include "image_json.h"
#include "images.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

static int
print_objects (json_object *array, const char *format, struct error **err)
{
  if (format == NULL || format_is_json (format))
    {
      cleanup_free char *text = jobj_to_string (array, true);
      printf ("%s\n", text);
      return 0;
    }
  for (size_t i = 0; i < json_object_array_length (array); i++)
    {
      cleanup_buf struct buf out = BUF_INIT;
      if (format_render (json_object_array_get_idx (array, i), format, &out, err) < 0)
        return -1;
      printf ("%s\n", out.data ? out.data : "");
    }
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_TYPE = 1000 };
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "type", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_storage struct storage_store *s = NULL;
  cleanup_json json_object *array = json_object_new_array ();
  cleanup_error struct error *missing = NULL;
  const char *format = NULL;
  const char *type = "all";
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+f:t:h", opts, &cmd_inspect_command, err)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      case 't':
        type = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (strcmp (type, "all") != 0 && strcmp (type, "image") != 0
      && strcmp (type, "container") != 0)
    return err_make (err, 0, "invalid type \"%s\": must be container, image or all", type);
  if (cli_require_args (&cmd_inspect_command, argc - optind, 1, -1, err) < 0)
    return -1;
  if (images_open (ctx, false, &s, err) < 0)
    return -1;
  for (int i = optind; i < argc; i++)
    {
      cleanup_image struct storage_image *img = NULL;
      cleanup_container struct container *ctr = NULL;
      json_object *o;

      if (strcmp (type, "image") != 0 && container_find (ctx, argv[i], &ctr, err) < 0)
        return -1;
      if (ctr)
        {
          json_object_array_add (array, container_json_inspect (ctr));
          continue;
        }
      if (strcmp (type, "container") != 0 && images_find (s, argv[i], &img, err) < 0)
        return -1;
      if (img == NULL)
        {
          /* docker prints what it found, then fails naming what it did not. */
          err_make_code (&missing, 125, 0, "no such object: \"%s\"", argv[i]);
          continue;
        }
      o = image_json_inspect (s, img, err);
      if (o == NULL)
        return -1;
      json_object_array_add (array, o);
    }
  if (json_object_array_length (array) > 0 || missing == NULL)
    if (print_objects (array, format, err) < 0)
      return -1;
  if (missing)
    {
      *err = steal_ptr (&missing);
      return -1;
    }
  return 0;
}

const struct command cmd_inspect_command = {
  .name = "inspect",
  .summary = "Display the configuration of an object",
  .usage = "inspect [options] NAME [NAME...]",
  .options_help = "  -f, --format string   Format the output using the given Go template\n"
                  "  -t, --type string     Return JSON for the specified type (container, image, all)\n",
  .run = run,
};
