/* skiff manifest: build a manifest list (a multi-platform image) from
 * images in registries and push it (manifest_list.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "libutil/mem.h"
#include "manifest_list.h"

enum
{
  OPT_TLS = 1000,
  OPT_CREDS,
  OPT_AUTHFILE,
  OPT_CERT_DIR,
  OPT_ALL,
  OPT_OS,
  OPT_ARCH,
  OPT_VARIANT,
  OPT_DIGESTFILE,
  OPT_RM,
};

#define ACCESS_OPTIONS                                                        \
  { "tls-verify", optional_argument, NULL, OPT_TLS },                         \
  { "creds", required_argument, NULL, OPT_CREDS },                            \
  { "authfile", required_argument, NULL, OPT_AUTHFILE },                      \
  { "cert-dir", required_argument, NULL, OPT_CERT_DIR },                      \
  { "help", no_argument, NULL, 'h' }

#define ACCESS_HELP                                                                            \
  "      --authfile string   path of the authentication file\n"                               \
  "      --cert-dir Pathname use certificates at the specified path to access the registry\n"  \
  "      --creds [username[:password]] use credentials to access the registry\n"              \
  "      --tls-verify        require HTTPS and verify certificates when contacting registries (default true)\n"

/* The registry access flags every subcommand shares: 1 when C was one. */
static int
access_option (int c, struct manifest_list_access *a, struct error **err)
{
  switch (c)
    {
    case OPT_TLS:
      a->has_tls_verify = true;
      return cli_parse_bool ("tls-verify", optarg, &a->is_tls_verify, err) < 0 ? -1 : 1;
    case OPT_CREDS:
      a->creds = optarg;
      return 1;
    case OPT_AUTHFILE:
      a->authfile = optarg;
      return 1;
    case OPT_CERT_DIR:
      a->cert_dir = optarg;
      return 1;
    default:
      return 0;
    }
}

/* The flags of create and add; 1 when C was one. */
static int
add_option (int c, struct manifest_list_add_opts *o, struct error **err)
{
  switch (c)
    {
    case OPT_ALL:
      o->is_all = true;
      return 1;
    case OPT_OS:
      o->os = optarg;
      return 1;
    case OPT_ARCH:
      o->arch = optarg;
      return 1;
    case OPT_VARIANT:
      o->variant = optarg;
      return 1;
    default:
      return access_option (c, &o->access, err);
    }
}

static const struct option add_opts[] = {
  { "all", no_argument, NULL, OPT_ALL },
  { "os", required_argument, NULL, OPT_OS },
  { "arch", required_argument, NULL, OPT_ARCH },
  { "variant", required_argument, NULL, OPT_VARIANT },
  ACCESS_OPTIONS,
  { NULL, 0, NULL, 0 },
};

/* Parse the flags of create or add into O; returns optind, 0 for help,
 * negative on error. */
static int
parse_add_flags (int argc, char **argv, const struct command *cmd,
                 struct manifest_list_add_opts *o, struct error **err)
{
  int c, r;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", add_opts, cmd, err)) != -1)
    {
      if (c == CLI_OPT_HELP)
        return 0;
      r = c == CLI_OPT_ERROR ? -1 : add_option (c, o, err);
      if (r <= 0)
        return r < 0 ? -1 : err_make (err, 0, "unknown flag");
    }
  return optind;
}

static int
run_create (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  struct manifest_list_add_opts o = { 0 };
  cleanup_free char *id = NULL;
  int first = parse_add_flags (argc, argv, &cmd_manifest_create_command, &o, err);

  if (first <= 0)
    return first;
  if (cli_require_args (&cmd_manifest_create_command, argc - first, 1, -1, err) < 0)
    return -1;
  if (manifest_list_create (ctx, argv[first], argv + first + 1, &o, &id, err) < 0)
    return -1;
  printf ("%s\n", id);
  return 0;
}

static int
run_add (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  struct manifest_list_add_opts o = { 0 };
  cleanup_free char *id = NULL;
  int first = parse_add_flags (argc, argv, &cmd_manifest_add_command, &o, err);

  if (first <= 0)
    return first;
  if (cli_require_args (&cmd_manifest_add_command, argc - first, 2, 2, err) < 0)
    return -1;
  if (manifest_list_add (ctx, argv[first], argv[first + 1], &o, &id, err) < 0)
    return -1;
  printf ("%s\n", id);
  return 0;
}

static int
run_remove (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *id = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_manifest_remove_command, err)) != -1)
    return c == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_manifest_remove_command, argc - optind, 2, 2, err) < 0)
    return -1;
  if (manifest_list_remove (ctx, argv[optind], argv[optind + 1], &id, err) < 0)
    return -1;
  printf ("%s\n", id);
  return 0;
}

static int
run_inspect (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = { ACCESS_OPTIONS, { NULL, 0, NULL, 0 } };
  struct manifest_list_access a = { 0 };
  cleanup_free char *json = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_manifest_inspect_command, err)) != -1)
    {
      if (c == CLI_OPT_HELP)
        return 0;
      if (c == CLI_OPT_ERROR || access_option (c, &a, err) <= 0)
        return -1;
    }
  if (cli_require_args (&cmd_manifest_inspect_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (manifest_list_inspect (ctx, argv[optind], &a, &json, err) < 0)
    return -1;
  printf ("%s\n", json);
  return 0;
}

static int
push_option (int c, struct manifest_list_push_opts *o, struct error **err)
{
  switch (c)
    {
    case 'f':
      o->format = optarg;
      return 1;
    case 'q':
      o->is_quiet = true;
      return 1;
    case OPT_DIGESTFILE:
      o->digestfile = optarg;
      return 1;
    case OPT_RM:
      o->is_remove = true;
      return 1;
    case OPT_ALL:
      /* Every entry's images always go: a list whose entries are missing
       * at the destination would be of no use there. */
      return 1;
    default:
      return access_option (c, &o->access, err);
    }
}

static int
run_push (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", optional_argument, NULL, OPT_ALL },
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "digestfile", required_argument, NULL, OPT_DIGESTFILE },
    { "rm", no_argument, NULL, OPT_RM },
    ACCESS_OPTIONS,
    { NULL, 0, NULL, 0 },
  };
  struct manifest_list_push_opts o = { 0 };
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+f:qh", opts, &cmd_manifest_push_command, err)) != -1)
    {
      if (c == CLI_OPT_HELP)
        return 0;
      if (c == CLI_OPT_ERROR || push_option (c, &o, err) <= 0)
        return -1;
    }
  if (cli_require_args (&cmd_manifest_push_command, argc - optind, 1, 2, err) < 0)
    return -1;
  return manifest_list_push (ctx, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL,
                             &o, err);
}

static int
run_rm (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, r = 0;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_manifest_rm_command, err)) != -1)
    return c == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_manifest_rm_command, argc - optind, 1, -1, err) < 0)
    return -1;
  for (int i = optind; i < argc && r == 0; i++)
    {
      r = manifest_list_delete (ctx, argv[i], err);
      if (r == 0)
        printf ("%s\n", argv[i]);
    }
  return r;
}

#define ADD_HELP                                                                                    \
  "      --all               add all of the images of an index, not only this platform's\n"        \
  "      --arch string       override the architecture of the image\n"                             \
  "      --os string         override the operating system of the image\n"                         \
  "      --variant string    override the architecture variant of the image\n" ACCESS_HELP

const struct command cmd_manifest_create_command = {
  .name = "create",
  .summary = "Create manifest list",
  .usage = "manifest create [options] LIST [IMAGE...]",
  .options_help = ADD_HELP,
  .run = run_create,
};

const struct command cmd_manifest_add_command = {
  .name = "add",
  .summary = "Add images to a manifest list",
  .usage = "manifest add [options] LIST IMAGE",
  .options_help = ADD_HELP,
  .run = run_add,
};

const struct command cmd_manifest_remove_command = {
  .name = "remove",
  .summary = "Remove an entry from a manifest list",
  .usage = "manifest remove LIST DIGEST",
  .run = run_remove,
};

const struct command cmd_manifest_inspect_command = {
  .name = "inspect",
  .summary = "Display the contents of a manifest list",
  .usage = "manifest inspect [options] LIST|IMAGE",
  .options_help = ACCESS_HELP,
  .run = run_inspect,
};

const struct command cmd_manifest_push_command = {
  .name = "push",
  .summary = "Push a manifest list to a registry",
  .usage = "manifest push [options] LIST [DESTINATION]",
  .options_help =
    "      --all               push the images of every entry (always done)\n"
    "      --digestfile string write the digest of the pushed list to the specified file\n"
    "  -f, --format string     manifest list type (oci or v2s2) (default oci)\n"
    "  -q, --quiet             don't output progress information when pushing lists\n"
    "      --rm                remove the manifest list once it is pushed\n" ACCESS_HELP,
  .run = run_push,
};

const struct command cmd_manifest_rm_command = {
  .name = "rm",
  .summary = "Remove manifest lists from local storage",
  .usage = "manifest rm LIST [LIST...]",
  .run = run_rm,
};

static const struct command *const manifest_subs[] = {
  &cmd_manifest_add_command,
  &cmd_manifest_create_command,
  &cmd_manifest_inspect_command,
  &cmd_manifest_push_command,
  &cmd_manifest_remove_command,
  &cmd_manifest_rm_command,
  NULL,
};

const struct command cmd_manifest_command = {
  .name = "manifest",
  .summary = "Manipulate manifest lists",
  .usage = "manifest COMMAND",
  .subs = manifest_subs,
};
