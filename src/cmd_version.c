/* skiff version: the client (and, for docker-compatible scripts, server)
 * versions, as text or JSON. */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

static json_object *
version_json (void)
{
  json_object *client = json_object_new_object ();
  json_object *root = json_object_new_object ();
  struct utsname u;

  uname (&u);
  json_object_object_add (client, "APIVersion", json_object_new_string (PACKAGE_VERSION));
  json_object_object_add (client, "Version", json_object_new_string (PACKAGE_VERSION));
  json_object_object_add (client, "GoVersion", json_object_new_string ("none (C)"));
  json_object_object_add (client, "BuiltTime", json_object_new_string (__DATE__ " " __TIME__));
  json_object_object_add (client, "OsArch", json_object_new_string ("linux/"
#if defined(__x86_64__)
                                                                   "amd64"
#elif defined(__aarch64__)
                                                                   "arm64"
#else
                                                                   "unknown"
#endif
                                                                   ));
  json_object_object_add (client, "Os", json_object_new_string ("linux"));
  json_object_object_add (client, "Kernel", json_object_new_string (u.release));
  json_object_object_add (root, "Client", client);
  /* No daemon: skiff is its own server, and scripts written for docker
   * read {{.Server.Version}}. */
  json_object_object_add (root, "Server", json_object_get (client));
  return root;
}

static void
print_text (json_object *v)
{
  json_object *c = jobj_get_object (v, "Client");
  printf ("Client:       skiff\n");
  printf ("Version:      %s\n", jobj_get_string (c, "Version"));
  printf ("API Version:  %s\n", jobj_get_string (c, "APIVersion"));
  printf ("Built:        %s\n", jobj_get_string (c, "BuiltTime"));
  printf ("OS/Arch:      %s\n", jobj_get_string (c, "OsArch"));
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json json_object *v = NULL;
  const char *format = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+f:h", opts, &cmd_version_command, err)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_version_command, argc - optind, 0, 0, err) < 0)
    return -1;
  v = version_json ();
  if (format == NULL)
    print_text (v);
  else if (format_is_json (format))
    {
      cleanup_free char *s = jobj_to_string (v, true);
      printf ("%s\n", s);
    }
  else
    {
      cleanup_buf struct buf out = BUF_INIT;
      if (format_render (v, format, &out, err) < 0)
        return -1;
      printf ("%s\n", out.data ? out.data : "");
    }
  return 0;
}

const struct command cmd_version_command = {
  .name = "version",
  .summary = "Display the skiff version information",
  .usage = "version [options]",
  .options_help = "  -f, --format string   change the output format to JSON\n",
  .run = run,
};
