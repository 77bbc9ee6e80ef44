/* skiff build (also `image build`): build an image from a Containerfile or
 * Dockerfile.  Parses podman's options and hands them to build_run(). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "cli.h"
#include "commands.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"

struct cmd_build_opts
{
  struct build_opts b;
  char **tags;
  char **build_args;
  char **labels;
  const char *iidfile;
};

/* --build-arg-file: "NAME=value" lines; blank lines and "#" comments are
 * skipped, as podman reads it. */
static int
read_arg_file (const char *path, char ***args, struct error **err)
{
  cleanup_free char *text = fs_read_file (path, 1u << 20, NULL, err);
  cleanup_strv char **lines = NULL;

  if (text == NULL)
    return err_wrap (err, "--build-arg-file");
  lines = str_split (text, '\n');
  for (char **l = lines; *l; l++)
    {
      char *line = str_strip (*l);
      if (*line == '\0' || *line == '#')
        continue;
      *args = strv_append (*args, line);
    }
  return 0;
}

static int
parse_pull (const char *v, enum build_pull *out, struct error **err)
{
  if (v == NULL || strcmp (v, "true") == 0 || strcmp (v, "always") == 0 || strcmp (v, "newer") == 0)
    *out = BUILD_PULL_ALWAYS;
  else if (strcmp (v, "false") == 0 || strcmp (v, "missing") == 0)
    *out = BUILD_PULL_MISSING;
  else if (strcmp (v, "never") == 0)
    *out = BUILD_PULL_NEVER;
  else
    return err_make (err, 0, "invalid --pull value \"%s\": use always, missing, never or newer", v);
  return 0;
}

static int
write_iidfile (const char *path, const char *id, struct error **err)
{
  if (fs_write_atomic_nosync (path, id, strlen (id), 0644, err) < 0)
    return err_wrap (err, "--iidfile");
  return 0;
}

enum
{
  OPT_BUILD_ARG = 1000,
  OPT_BUILD_ARG_FILE,
  OPT_TARGET,
  OPT_NO_CACHE,
  OPT_PULL,
  OPT_LABEL,
  OPT_LAYERS,
  OPT_SQUASH,
  OPT_IIDFILE,
  OPT_FORMAT,
  OPT_NETWORK,
  OPT_RM,
  OPT_FORCE_RM,
  OPT_PLATFORM,
};

static int
parse_one (int c, struct cmd_build_opts *o, struct error **err)
{
  bool ignored;

  switch (c)
    {
    case 't':
      o->tags = strv_append (o->tags, optarg);
      return 0;
    case 'f':
      o->b.dockerfile_arg = optarg;
      return 0;
    case 'q':
      o->b.is_quiet = true;
      return 0;
    case OPT_BUILD_ARG:
      o->build_args = strv_append (o->build_args, optarg);
      return 0;
    case OPT_BUILD_ARG_FILE:
      return read_arg_file (optarg, &o->build_args, err);
    case OPT_TARGET:
      o->b.target = optarg;
      return 0;
    case OPT_NO_CACHE:
      o->b.is_no_cache = true;
      return 0;
    case OPT_PULL:
      return parse_pull (optarg, &o->b.pull, err);
    case OPT_LABEL:
      o->labels = strv_append (o->labels, optarg);
      return 0;
    case OPT_LAYERS:
      return optarg ? cli_parse_bool ("--layers", optarg, &o->b.is_layers, err)
                    : (o->b.is_layers = true, 0);
    case OPT_SQUASH:
      o->b.is_squash = true;
      return 0;
    case OPT_IIDFILE:
      o->iidfile = optarg;
      return 0;
    case OPT_FORMAT:
      if (strcmp (optarg, "oci") != 0 && strcmp (optarg, "docker") != 0)
        return err_make (err, 0, "unrecognized image type \"%s\": use oci or docker", optarg);
      o->b.is_docker_format = strcmp (optarg, "docker") == 0;
      return 0;
    case OPT_NETWORK:
      o->b.network = optarg;
      return 0;
    case OPT_PLATFORM:
      o->b.platform = optarg;
      return 0;
    case OPT_RM:
    case OPT_FORCE_RM:
      /* Working containers are always removed; the flags are accepted for
       * compatibility and checked. */
      return optarg ? cli_parse_bool (c == OPT_RM ? "--rm" : "--force-rm", optarg, &ignored, err)
                    : 0;
    default:
      return -1;
    }
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "tag", required_argument, NULL, 't' },
    { "file", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "build-arg", required_argument, NULL, OPT_BUILD_ARG },
    { "build-arg-file", required_argument, NULL, OPT_BUILD_ARG_FILE },
    { "target", required_argument, NULL, OPT_TARGET },
    { "no-cache", no_argument, NULL, OPT_NO_CACHE },
    { "pull", optional_argument, NULL, OPT_PULL },
    { "label", required_argument, NULL, OPT_LABEL },
    { "layers", optional_argument, NULL, OPT_LAYERS },
    { "squash", no_argument, NULL, OPT_SQUASH },
    { "iidfile", required_argument, NULL, OPT_IIDFILE },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "network", required_argument, NULL, OPT_NETWORK },
    { "rm", optional_argument, NULL, OPT_RM },
    { "force-rm", optional_argument, NULL, OPT_FORCE_RM },
    { "platform", required_argument, NULL, OPT_PLATFORM },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct cmd_build_opts o = { .b = { .is_layers = true } };
  cleanup_free char *id = NULL;
  int c, r = 0;

  cli_getopt_reset ();
  while (r == 0 && (c = cli_getopt (argc, argv, "+t:f:qh", opts, &cmd_build_command, err)) != -1)
    {
      if (c == CLI_OPT_HELP)
        break;
      r = parse_one (c, &o, err);
    }
  if (r == 0 && c != CLI_OPT_HELP)
    r = cli_require_args (&cmd_build_command, argc - optind, 0, 1, err);
  if (r == 0 && c != CLI_OPT_HELP)
    {
      o.b.context_arg = optind < argc ? argv[optind] : ".";
      o.b.tags = o.tags;
      o.b.build_args = o.build_args;
      o.b.labels = o.labels;
      r = build_run (ctx, &o.b, &id, err);
    }
  if (r == 0 && id && o.iidfile)
    r = write_iidfile (o.iidfile, id, err);
  strv_free (o.tags);
  strv_free (o.build_args);
  strv_free (o.labels);
  return r;
}

const struct command cmd_build_command = {
  .name = "build",
  .summary = "Build an image using instructions from Containerfiles",
  .usage = "build [options] [CONTEXT]",
  .options_help
  = "      --build-arg stringArray   Set build-time variables (NAME=value, or NAME from the "
    "environment)\n"
    "      --build-arg-file file     Read build-time variables from a file of NAME=value lines\n"
    "  -f, --file string             Name of the Containerfile (default CONTEXT/Containerfile or "
    "Dockerfile)\n"
    "      --force-rm                Always remove intermediate containers (always done)\n"
    "      --format string           Format of the built image's manifest and metadata (oci, "
    "docker)\n"
    "      --iidfile file            Write the image ID to the file\n"
    "      --label stringArray       Set metadata for an image\n"
    "      --layers                  Cache intermediate layers during build (default true)\n"
    "      --network string          Network mode of RUN instructions (none, host, default)\n"
    "      --no-cache                Do not use existing cached images for the container build\n"
    "      --platform string         Set the OS/ARCH of pulled base images\n"
    "      --pull string             Pull base images: always, missing, never, newer (default "
    "missing)\n"
    "  -q, --quiet                   Refrain from announcing build instructions and image "
    "read/write progress\n"
    "      --rm                      Remove intermediate containers after a successful build "
    "(always done)\n"
    "      --squash                  Squash all of the image's new layers into a single new layer\n"
    "  -t, --tag stringArray         Name and optionally a tag (format: name:tag)\n"
    "      --target string           Set the target build stage to build\n",
  .run = run,
};
