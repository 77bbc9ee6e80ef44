/* skiff diff / container diff: what a container changed in its root file
 * system, as docker prints it ("A /path", "C /path", "D /path"), or JSON
 * (podman's {"changed": [...], "added": [...], "deleted": [...]}). */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_diff.h"
#include "format.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

static json_object *
changes_json (const struct container_changes *c)
{
  json_object *o = json_object_new_object ();
  static const struct
  {
    const char *key;
    enum container_change_kind kind;
  } groups[] = {
    { "changed", CONTAINER_CHANGE_MODIFY },
    { "added", CONTAINER_CHANGE_ADD },
    { "deleted", CONTAINER_CHANGE_DELETE },
  };

  for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
    {
      json_object *a = json_object_new_array ();
      for (size_t i = 0; i < c->n; i++)
        if (c->v[i].kind == groups[g].kind)
          json_object_array_add (a, json_object_new_string (c->v[i].path));
      if (json_object_array_length (a) > 0)
        json_object_object_add (o, groups[g].key, a);
      else
        json_object_put (a);
    }
  return o;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_container struct container *c = NULL;
  struct container_changes changes = { 0 };
  const char *format = NULL;
  int o;

  cli_getopt_reset ();
  while ((o = cli_getopt (argc, argv, "+h", opts, &cmd_diff_command, err)) != -1)
    switch (o)
      {
      case 'f':
        format = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_diff_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (format && !format_is_json (format))
    return err_make (err, 0, "invalid format \"%s\": only json is supported", format);
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  if (container_diff (ctx, c, &changes, err) < 0)
    return -1;
  if (format)
    {
      cleanup_json json_object *j = changes_json (&changes);
      cleanup_free char *text = jobj_to_string (j, true);
      printf ("%s\n", text);
    }
  else
    for (size_t i = 0; i < changes.n; i++)
      printf ("%s %s\n", container_change_letter (changes.v[i].kind), changes.v[i].path);
  container_changes_clear (&changes);
  return 0;
}

const struct command cmd_diff_command = {
  .name = "diff",
  .summary = "Inspect changes to the container's file systems",
  .usage = "diff [options] CONTAINER",
  .options_help = "      --format string   Change the output format (json)\n",
  .run = run,
};
