/* skiff attach / container attach: our terminal to a running detached
 * container's streams; ends with the container's exit code, or 0 when
 * the detach keys are typed. */
#include "config.h"

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_attach.h"
#include "events.h"

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_NO_STDIN = 1000, OPT_DETACH_KEYS, OPT_SIG_PROXY };
  static const struct option opts[] = {
    { "no-stdin", no_argument, NULL, OPT_NO_STDIN },
    { "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
    { "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container_attach_opts o = { .has_sig_proxy = true };
  cleanup_container struct container *c = NULL;
  int ch, code = 0;

  cli_getopt_reset ();
  while ((ch = cli_getopt (argc, argv, "+h", opts, &cmd_attach_command, err)) != -1)
    switch (ch)
      {
      case OPT_NO_STDIN:
        o.is_no_stdin = true;
        break;
      case OPT_DETACH_KEYS:
        o.detach_keys = optarg;
        break;
      case OPT_SIG_PROXY:
        o.has_sig_proxy = true;
        if (optarg && cli_parse_bool ("--sig-proxy", optarg, &o.has_sig_proxy, err) < 0)
          return -1;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_attach_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  events_container (ctx, c, "attach");
  if (container_attach (c, &o, &code, err) < 0)
    return -1;
  return code;
}

const struct command cmd_attach_command = {
  .name = "attach",
  .summary = "Attach to a running container",
  .usage = "attach [options] CONTAINER",
  .options_help = "      --detach-keys string   Select the key sequence for detaching a container (default \"ctrl-p,ctrl-q\")\n"
                  "      --no-stdin             Do not attach STDIN\n"
                  "      --sig-proxy            Proxy received signals to the container process (non-TTY mode only) (default true)\n",
  .run = run,
};
