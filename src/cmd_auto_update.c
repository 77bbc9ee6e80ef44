/* skiff auto-update: options and the report; auto_update.c does the work. */
#include "config.h"

#include <stdio.h>

#include "auto_update.h"
#include "cli.h"
#include "commands.h"
#include "format.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

static const char default_format[]
    = "table {{.Unit}}\t{{.Container}}\t{{.Image}}\t{{.Policy}}\t{{.Updated}}";

static int
print_report (const struct auto_update_result *r, const char *fmt, struct error **err)
{
  static const struct format_header headers[] = {
    { "Unit", "UNIT" },
    { "Container", "CONTAINER" },
    { "ContainerName", "CONTAINER NAME" },
    { "ContainerID", "CONTAINER ID" },
    { "Image", "IMAGE" },
    { "Policy", "POLICY" },
    { "Updated", "UPDATED" },
    { NULL, NULL },
  };
  cleanup_json json_object *rows = json_object_new_array ();
  cleanup_buf struct buf out = BUF_INIT;

  for (size_t i = 0; i < r->n_tasks; i++)
    json_object_array_add (rows, auto_update_task_json (&r->tasks[i]));
  if (format_is_json (fmt))
    {
      cleanup_free char *text = jobj_to_string (rows, true);
      printf ("%s\n", text);
      return 0;
    }
  if (format_render_rows (rows, fmt, headers, false, &out, err) < 0)
    return -1;
  fputs (out.data ? out.data : "", stdout);
  return 0;
}

/* Every failure but the last is printed here; the last is the command's
 * error (podman's way with several errors), exit code 125. */
static int
report_failures (struct auto_update_result *r, struct error **err)
{
  if (r->n_failures == 0)
    return 0;
  for (size_t i = 0; i + 1 < r->n_failures; i++)
    err_print (r->failures[i], stderr);
  *err = steal_ptr (&r->failures[r->n_failures - 1]);
  return -1;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum
  {
    OPT_DRY_RUN = 1000,
    OPT_FORMAT,
    OPT_ROLLBACK,
    OPT_AUTHFILE,
    OPT_TLS
  };
  static const struct option opts[] = {
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "rollback", optional_argument, NULL, OPT_ROLLBACK },
    { "authfile", required_argument, NULL, OPT_AUTHFILE },
    { "tls-verify", optional_argument, NULL, OPT_TLS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct auto_update_opts o = { .is_rollback = true };
  struct auto_update_result r = { 0 };
  const char *fmt = default_format;
  int c, ret;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_auto_update_command, err)) != -1)
    switch (c)
      {
      case OPT_DRY_RUN:
        o.is_dry_run = true;
        break;
      case OPT_FORMAT:
        fmt = optarg;
        break;
      case OPT_ROLLBACK:
        if (cli_parse_bool ("rollback", optarg, &o.is_rollback, err) < 0)
          return -1;
        break;
      case OPT_AUTHFILE:
        o.authfile = optarg;
        break;
      case OPT_TLS:
        o.has_tls_verify = true;
        if (cli_parse_bool ("tls-verify", optarg, &o.is_tls_verify, err) < 0)
          return -1;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (optind < argc)
    return err_make (err, 0, "`skiff auto-update` takes no arguments");
  if (auto_update_run (ctx, &o, &r, err) < 0)
    return -1;
  ret = r.n_tasks > 0 ? print_report (&r, fmt, err) : 0;
  if (ret == 0)
    ret = report_failures (&r, err);
  else
    for (size_t i = 0; i < r.n_failures; i++)
      err_print (r.failures[i], stderr);
  auto_update_result_clear (&r);
  return ret;
}

const struct command cmd_auto_update_command = {
  .name = "auto-update",
  .summary = "Auto update containers according to their auto-update policy",
  .usage = "auto-update [options]",
  .description = "Auto update containers according to their auto-update policy.\n\n"
                 "The policy is the \"" AUTO_UPDATE_LABEL "\" label: \"registry\" pulls the "
                 "image's name when the registry has another manifest for it, \"local\" uses the "
                 "local image the name points at.  Only running containers of systemd units are "
                 "updated (units from \"skiff generate systemd --new\" or Quadlet files): the "
                 "unit is restarted on the new image, and rolled back to the old one when it "
                 "fails to start.",
  .options_help = "      --authfile string    path to the authentication file, for containers "
                  "without an " AUTO_UPDATE_AUTHFILE_LABEL " label\n"
                  "      --dry-run            check for pending updates\n"
                  "      --format string      change the output format to JSON or a Go template\n"
                  "      --rollback           rollback on failure (default true)\n"
                  "      --tls-verify         require HTTPS and verify certificates when "
                  "contacting registries (default true)\n",
  .run = run,
};
