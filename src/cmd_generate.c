/* skiff generate systemd: a systemd service unit for a container, as
 * `podman generate systemd` writes it.  This file gathers what the unit
 * needs from the container and the flags; systemd_unit.c writes it. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "systemd_unit.h"

struct generate_opts
{
  bool is_new;
  bool is_name;
  bool is_files;
  bool is_no_header;
  char *restart_policy;
  int restart_sec;        /* -1: not given */
  int stop_timeout;       /* -1: the container's */
  char *prefix;
  char *separator;
  char **wants, **after, **requires, **env;
};

static void
generate_opts_clear (struct generate_opts *g)
{
  free (g->restart_policy);
  free (g->prefix);
  free (g->separator);
  strv_free (g->wants);
  strv_free (g->after);
  strv_free (g->requires);
  strv_free (g->env);
}

enum
{
  G_NEW = 1000, G_NAME, G_RESTART_POLICY, G_RESTART_SEC, G_PREFIX, G_SEPARATOR, G_WANTS,
  G_AFTER, G_REQUIRES, G_NO_HEADER,
};

static int
apply_generate_option (struct generate_opts *g, int c, struct error **err)
{
  uint64_t n;

  switch (c)
    {
    case G_NEW: g->is_new = true; return 0;
    case G_NAME: case 'n': g->is_name = true; return 0;
    case 'f': g->is_files = true; return 0;
    case G_NO_HEADER: g->is_no_header = true; return 0;
    case G_WANTS: g->wants = strv_append (g->wants, optarg); return 0;
    case G_AFTER: g->after = strv_append (g->after, optarg); return 0;
    case G_REQUIRES: g->requires = strv_append (g->requires, optarg); return 0;
    case 'e': g->env = strv_append (g->env, optarg); return 0;
    case G_PREFIX:
      free (g->prefix);
      g->prefix = xstrdup (optarg);
      return 0;
    case G_SEPARATOR:
      free (g->separator);
      g->separator = xstrdup (optarg);
      return 0;
    case G_RESTART_POLICY:
      if (!systemd_unit_is_restart_policy (optarg))
        return err_make (err, 0, "%s is not a valid restart policy", optarg);
      free (g->restart_policy);
      g->restart_policy = xstrdup (optarg);
      return 0;
    case G_RESTART_SEC:
      if (parse_uint (optarg, 1u << 30, "--restart-sec", &n, err) < 0)
        return -1;
      g->restart_sec = (int) n;
      return 0;
    case 't':
      if (parse_uint (optarg, 1u << 30, "--time", &n, err) < 0)
        return -1;
      g->stop_timeout = (int) n;
      return 0;
    default:
      return err_make (err, 0, "internal: unhandled option %d", c);
    }
}

/* The skiff the unit runs: this very binary, by its absolute path, as
 * systemd does not search PATH the way a shell does. */
static char *
self_path (struct error **err)
{
  char buf[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", buf, sizeof buf - 1);

  if (n < 0)
    {
      err_make (err, errno, "readlink \"/proc/self/exe\"");
      return NULL;
    }
  buf[n] = '\0';
  return xstrdup (buf);
}

/* The recorded command line that made C, or NULL without one (a
 * container that predates the recording), which only --new needs. */
static int
recorded_command (struct container *c, char ***out, struct error **err)
{
  json_object *words = jobj_get_array (c->config, "CreateCommand");
  cleanup_strv char **argv = xcalloc (1, sizeof *argv);
  size_t n = words ? json_object_array_length (words) : 0;

  *out = NULL;
  if (words == NULL)
    return 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *w = json_object_array_get_idx (words, i);
      if (!json_object_is_type (w, json_type_string))
        return err_make (err, 0, "container \"%s\": malformed recorded command line", c->name);
      argv = strv_append (argv, json_object_get_string (w));
    }
  *out = steal_ptr (&argv);
  return 0;
}

/* From the recorded command line: the global options (between the
 * executable and the verb) into *GLOBALS, and for --new the arguments of
 * the unit's `run` into *RUN_ARGS. */
static int
unit_commands (struct container *c, bool is_new, char ***globals, char ***run_args,
               struct error **err)
{
  cleanup_strv char **words = NULL;
  int verb = (int) jobj_get_int (c->config, "CreateCommandVerb", -1);

  if (recorded_command (c, &words, err) < 0)
    return -1;
  if (words == NULL && is_new)
    return err_make (err, 0, "container \"%s\" has no recorded command line: --new needs a "
                     "container created by skiff run or create", c->name);
  *globals = xcalloc (1, sizeof **globals);
  if (words == NULL)
    return 0;
  if (is_new)
    {
      *run_args = systemd_unit_run_args (words, verb,
                                         (int) jobj_get_int (c->config, "CreateCommandImage", -1),
                                         err);
      if (*run_args == NULL)
        return -1;
    }
  for (int i = 1; i < verb && i < (int) strv_len (words); i++)
    *globals = strv_append (*globals, words[i]);
  return 0;
}

static int
write_unit_file (const char *service, const char *text, struct error **err)
{
  char cwd[PATH_MAX];

  if (fs_write_atomic_nosync (service, text, strlen (text), 0644, err) < 0)
    return -1;
  if (getcwd (cwd, sizeof cwd) == NULL)
    return err_make (err, errno, "getcwd");
  printf ("%s/%s\n", cwd, service);
  return 0;
}

static int
generate_one (struct skiff_context *ctx, const struct generate_opts *g, const char *ref,
              struct error **err)
{
  cleanup_container struct container *c = NULL;
  cleanup_free char *exe = NULL;
  cleanup_free char *service = NULL;
  cleanup_free char *text = NULL;
  cleanup_strv char **run_args = NULL;
  cleanup_strv char **globals = NULL;
  char date[64] = "";
  time_t now = time (NULL);
  struct systemd_unit_opts u = { 0 };

  if (container_require (ctx, ref, &c, err) < 0 || (exe = self_path (err)) == NULL)
    return -1;
  if (unit_commands (c, g->is_new, &globals, &run_args, err) < 0)
    return -1;
  service = xasprintf ("%s%s%s.service", g->prefix ? g->prefix : "container",
                       g->separator ? g->separator : "-", g->is_name ? c->name : c->id);
  strftime (date, sizeof date, "%a %b %e %H:%M:%S %Z %Y", localtime (&now));
  u.exe = exe;
  u.service = service;
  u.container = g->is_name ? c->name : c->id;
  u.runroot = ctx->runroot;
  u.global_args = globals;
  u.is_new = g->is_new;
  u.run_args = run_args;
  u.restart_policy = g->restart_policy;
  u.restart_sec = g->restart_sec;
  u.stop_timeout = g->stop_timeout >= 0
                       ? g->stop_timeout
                       : (int) jobj_get_int (jobj_get_object (c->config, "Config"),
                                             "StopTimeout", 10);
  u.wants = g->wants;
  u.after = g->after;
  u.requires = g->requires;
  u.env = g->env;
  u.header_date = g->is_no_header ? NULL : date;
  text = systemd_unit_render (&u);
  if (g->is_files)
    return write_unit_file (service, text, err);
  fputs (text, stdout);
  return 0;
}

static int
run_generate_systemd (struct skiff_context *ctx, int argc, char **argv, struct error **err);

static const struct command generate_systemd = {
  .name = "systemd",
  .summary = "Generate systemd units",
  .usage = "generate systemd [options] CONTAINER",
  .options_help =
    "      --after stringArray        Add dependencies order to the generated unit file\n"
    "      --container-prefix string  Systemd unit name prefix for containers (default \"container\")\n"
    "  -e, --env stringArray          Set environment variables to the systemd unit files\n"
    "  -f, --files                    Generate .service files instead of printing to stdout\n"
    "  -n, --name                     Use container names instead of IDs\n"
    "      --new                      Create a new container or pod instead of starting an existing one\n"
    "      --no-header                Skip header generation\n"
    "      --requires stringArray     Similar to wants, but declares stronger requirement dependencies\n"
    "      --restart-policy string    Systemd restart-policy (default \"on-failure\")\n"
    "      --restart-sec uint         Configures the time to sleep before restarting a service\n"
    "      --separator string         Systemd unit name separator between name/id and prefix (default \"-\")\n"
    "  -t, --time uint                Stop timeout override\n"
    "      --wants stringArray        Add (weak) requirement dependencies to the generated unit file\n",
  .run = run_generate_systemd,
};

static int
run_generate_systemd (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "new", no_argument, NULL, G_NEW },
    { "name", no_argument, NULL, 'n' },
    { "files", no_argument, NULL, 'f' },
    { "no-header", no_argument, NULL, G_NO_HEADER },
    { "restart-policy", required_argument, NULL, G_RESTART_POLICY },
    { "restart-sec", required_argument, NULL, G_RESTART_SEC },
    { "time", required_argument, NULL, 't' },
    { "container-prefix", required_argument, NULL, G_PREFIX },
    { "separator", required_argument, NULL, G_SEPARATOR },
    { "wants", required_argument, NULL, G_WANTS },
    { "after", required_argument, NULL, G_AFTER },
    { "requires", required_argument, NULL, G_REQUIRES },
    { "env", required_argument, NULL, 'e' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct generate_opts g = { .restart_sec = -1, .stop_timeout = -1 };
  int c, r = 0;

  cli_getopt_reset ();
  while (r == 0 && (c = cli_getopt (argc, argv, "+nfe:t:h", opts, &generate_systemd, err)) != -1)
    {
      if (c == CLI_OPT_HELP || c == CLI_OPT_ERROR)
        {
          generate_opts_clear (&g);
          return c == CLI_OPT_HELP ? 0 : -1;
        }
      r = apply_generate_option (&g, c, err);
    }
  if (r == 0)
    r = cli_require_args (&generate_systemd, argc - optind, 1, 1, err);
  if (r == 0)
    r = generate_one (ctx, &g, argv[optind], err);
  generate_opts_clear (&g);
  return r < 0 ? -1 : 0;
}

static const struct command *const generate_subs[] = { &generate_systemd, NULL };

const struct command cmd_generate_command = {
  .name = "generate",
  .summary = "Generate structured data based on containers",
  .usage = "generate COMMAND",
  .subs = generate_subs,
};
