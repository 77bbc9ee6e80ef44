/* skiff port: the published ports of a running container, as recorded by
 * its monitor when it started. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "net/net.h"

static int
print_ports (struct container *c, const char *filter, bool with_name, struct error **err)
{
  struct net_ports ports = NET_PORTS_INIT;
  cleanup_free char *text = NULL;

  if (c->state.network && container_is_running (c)
      && net_ports_from_bindings (jobj_get_object (c->state.network, "Ports"), &ports, err) < 0)
    return -1;
  text = net_ports_format_port (&ports, filter, err);
  net_ports_clear (&ports);
  if (text == NULL)
    return -1;
  if (with_name && *text)
    printf ("%s\n", c->id);
  fputs (text, stdout);
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "latest", no_argument, NULL, 'l' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool is_all = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+alh", opts, &cmd_port_command, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (is_all)
    {
      struct container **all = NULL;
      int r = 0;
      if (cli_require_args (&cmd_port_command, argc - optind, 0, 0, err) < 0
          || container_list (ctx, &all, err) < 0)
        return -1;
      for (size_t i = 0; all[i] && r == 0; i++)
        if (container_is_running (all[i]))
          r = print_ports (all[i], NULL, true, err);
      container_vec_free (all);
      return r;
    }
  if (cli_require_args (&cmd_port_command, argc - optind, 1, 2, err) < 0)
    return -1;
  {
    cleanup_container struct container *ctr = NULL;
    if (container_require (ctx, argv[optind], &ctr, err) < 0)
      return -1;
    return print_ports (ctr, optind + 1 < argc ? argv[optind + 1] : NULL, false, err);
  }
}

const struct command cmd_port_command = {
  .name = "port",
  .summary = "List port mappings or a specific mapping for the container",
  .usage = "port [options] CONTAINER [PORT[/PROTO]]",
  .options_help = "  -a, --all   Display port information for all containers\n",
  .run = run,
};
