/* skiff pull: copy an image from a registry into local storage. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "image_pull.h"
#include "images.h"
#include "libutil/mem.h"

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_PLATFORM = 1000, OPT_ARCH, OPT_OS, OPT_VARIANT, OPT_TLS, OPT_CREDS,
         OPT_AUTHFILE, OPT_CERT_DIR };
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "platform", required_argument, NULL, OPT_PLATFORM },
    { "arch", required_argument, NULL, OPT_ARCH },
    { "os", required_argument, NULL, OPT_OS },
    { "variant", required_argument, NULL, OPT_VARIANT },
    { "tls-verify", optional_argument, NULL, OPT_TLS },
    { "creds", required_argument, NULL, OPT_CREDS },
    { "authfile", required_argument, NULL, OPT_AUTHFILE },
    { "cert-dir", required_argument, NULL, OPT_CERT_DIR },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct image_pull_opts o = { 0 };
  cleanup_free char *platform = NULL;
  cleanup_free char *id = NULL;
  const char *arch = NULL, *os = NULL, *variant = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+qh", opts, &cmd_pull_command, err)) != -1)
    switch (c)
      {
      case 'q':
        o.is_quiet = true;
        break;
      case OPT_PLATFORM:
        o.platform = optarg;
        break;
      case OPT_ARCH:
        arch = optarg;
        break;
      case OPT_OS:
        os = optarg;
        break;
      case OPT_VARIANT:
        variant = optarg;
        break;
      case OPT_TLS:
        o.has_tls_verify = true;
        if (cli_parse_bool ("tls-verify", optarg, &o.is_tls_verify, err) < 0)
          return -1;
        break;
      case OPT_CREDS:
        o.creds = optarg;
        break;
      case OPT_AUTHFILE:
        o.authfile = optarg;
        break;
      case OPT_CERT_DIR:
        o.cert_dir = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_pull_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (o.platform && (arch || os || variant))
    return err_make (err, 0, "--platform option can not be specified with --arch or --os");
  if (arch || os || variant)
    {
      if (arch == NULL)
        return err_make (err, 0, "--os and --variant need --arch as well");
      platform = xasprintf ("%s/%s%s%s", os ? os : "linux", arch, variant ? "/" : "",
                            variant ? variant : "");
      o.platform = platform;
    }
  if (image_pull (ctx, argv[optind], &o, &id, err) < 0)
    return -1;
  printf ("%s\n", images_hex_id (id));
  return 0;
}

const struct command cmd_pull_command = {
  .name = "pull",
  .summary = "Pull an image from a registry",
  .usage = "pull [options] IMAGE",
  .options_help =
    "      --arch ARCH          use ARCH instead of the architecture of the machine\n"
    "      --authfile string    path of the authentication file\n"
    "      --cert-dir Pathname  use certificates at the specified path to access the registry\n"
    "      --creds [username[:password]]  use credentials to access the registry\n"
    "      --os OS              use OS instead of the running OS for choosing images\n"
    "      --platform string    specify the platform for selecting the image (os/arch[/variant])\n"
    "  -q, --quiet              suppress output information when pulling images\n"
    "      --tls-verify         require HTTPS and verify certificates when contacting registries (default true)\n"
    "      --variant VARIANT    use VARIANT instead of the running architecture variant\n",
  .run = run,
};
