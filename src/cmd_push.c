/* skiff push: copy a local image to a registry or a local transport. */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "image_push.h"

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_TLS = 1000, OPT_CREDS, OPT_AUTHFILE, OPT_CERT_DIR, OPT_DIGESTFILE,
         OPT_COMPRESSION, OPT_REMOVE_SIGNATURES };
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "format", required_argument, NULL, 'f' },
    { "compression-format", required_argument, NULL, OPT_COMPRESSION },
    { "digestfile", required_argument, NULL, OPT_DIGESTFILE },
    { "tls-verify", optional_argument, NULL, OPT_TLS },
    { "creds", required_argument, NULL, OPT_CREDS },
    { "authfile", required_argument, NULL, OPT_AUTHFILE },
    { "cert-dir", required_argument, NULL, OPT_CERT_DIR },
    { "remove-signatures", no_argument, NULL, OPT_REMOVE_SIGNATURES },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct image_push_opts o = { 0 };
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+qf:h", opts, &cmd_push_command, err)) != -1)
    switch (c)
      {
      case 'q':
        o.is_quiet = true;
        break;
      case 'f':
        o.format = optarg;
        break;
      case OPT_COMPRESSION:
        o.compression_format = optarg;
        break;
      case OPT_DIGESTFILE:
        o.digestfile = optarg;
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
      case OPT_REMOVE_SIGNATURES:
        /* skiff neither stores nor copies signatures. */
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_push_command, argc - optind, 1, 2, err) < 0)
    return -1;
  return image_push (ctx, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &o, err);
}

const struct command cmd_push_command = {
  .name = "push",
  .summary = "Push an image to a specified destination",
  .usage = "push [options] IMAGE [DESTINATION]",
  .options_help =
    "      --authfile string             path of the authentication file\n"
    "      --cert-dir Pathname           use certificates at the specified path to access the registry\n"
    "      --compression-format string   compression format to use (gzip, zstd)\n"
    "      --creds [username[:password]] use credentials to access the registry\n"
    "      --digestfile string           write the digest of the pushed image to the specified file\n"
    "  -f, --format string               manifest type (oci, v2s2) to use in the destination (default is manifest type of source)\n"
    "  -q, --quiet                       suppress output information when pushing images\n"
    "      --remove-signatures           discard any pre-existing signatures in the image\n"
    "      --tls-verify                  require HTTPS and verify certificates when contacting registries (default true)\n",
  .run = run,
};
