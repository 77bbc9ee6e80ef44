/* skiff volume: create, ls, inspect, rm, prune and exists, with podman's
 * flags, table, JSON and exit codes (volume rm: 1 when a volume does not
 * exist, 2 when one is in use). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container_ops.h"
#include "events.h"
#include "format.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/table.h"
#include "volumes.h"

static const struct command volume_create, volume_ls, volume_inspect, volume_rm, volume_prune,
    volume_exists;

/* ---- create ---------------------------------------------------------------- */

static int
run_create (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_IGNORE = 1000 };
  static const struct option opts[] = {
    { "driver", required_argument, NULL, 'd' },
    { "label", required_argument, NULL, 'l' },
    { "opt", required_argument, NULL, 'o' },
    { "ignore", no_argument, NULL, OPT_IGNORE },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **labels = NULL;
  cleanup_free char *name = NULL;
  bool is_ignore = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+d:l:o:h", opts, &volume_create, err)) != -1)
    switch (c)
      {
      case 'd':
        if (strcmp (optarg, "local") != 0)
          return err_make (err, 0, "volume driver \"%s\" is not supported: use local", optarg);
        break;
      case 'l':
        labels = strv_append (labels, optarg);
        break;
      case 'o':
        return err_make (err, 0, "volume option \"%s\" is not supported by the local driver",
                         optarg);
      case OPT_IGNORE:
        is_ignore = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&volume_create, argc - optind, 0, 1, err) < 0)
    return -1;
  if (volumes_create (ctx, optind < argc ? argv[optind] : NULL, labels, is_ignore, &name,
                      err) < 0)
    return -1;
  printf ("%s\n", name);
  return 0;
}

/* ---- ls ---------------------------------------------------------------------- */

struct ls_opts
{
  bool is_quiet, is_noheading;
  const char *format;
  char **filters;
};

static int
check_filters (char **filters, struct error **err)
{
  static const char *const keys[] = { "name=", "label=", "driver=", "dangling=", NULL };

  for (char **f = filters; f && *f; f++)
    {
      bool is_known = false;
      for (const char *const *k = keys; *k; k++)
        is_known = is_known || strncmp (*f, *k, strlen (*k)) == 0;
      if (!is_known)
        return err_make (err, 0, "invalid volume filter \"%s\": use name=, label=, driver= "
                         "or dangling=", *f);
      if (strncmp (*f, "dangling=", 9) == 0 && strcmp (*f + 9, "true") != 0
          && strcmp (*f + 9, "false") != 0)
        return err_make (err, 0, "invalid filter \"%s\": dangling takes true or false", *f);
    }
  return 0;
}

static bool
has_label (json_object *v, const char *spec)
{
  const char *eq = strchr (spec, '=');
  cleanup_free char *key = eq ? xstrndup (spec, (size_t) (eq - spec)) : xstrdup (spec);
  json_object *val = NULL;

  if (!json_object_object_get_ex (jobj_get_object (v, "Labels"), key, &val))
    return false;
  return eq == NULL || strcmp (json_object_get_string (val), eq + 1) == 0;
}

/* Filters of different keys must all match, as podman combines them. */
static bool
passes (json_object *v, char **filters, char *const *in_use)
{
  const char *name = jobj_get_string (v, "Name");

  for (char **f = filters; f && *f; f++)
    {
      const char *val = strchr (*f, '=') + 1;
      bool ok = true;

      if (strncmp (*f, "name=", 5) == 0)
        ok = strstr (name, val) != NULL;
      else if (strncmp (*f, "label=", 6) == 0)
        ok = has_label (v, val);
      else if (strncmp (*f, "driver=", 7) == 0)
        ok = strcmp (val, "local") == 0;
      else if (strncmp (*f, "dangling=", 9) == 0)
        ok = (strcmp (val, "true") == 0) != strv_contains ((const char *const *) in_use, name);
      if (!ok)
        return false;
    }
  return true;
}

/* The volumes that pass FILTERS, as inspect objects. */
static json_object *
collect (struct skiff_context *ctx, char **filters, struct error **err)
{
  cleanup_strv char **names = volumes_list (ctx, err);
  cleanup_strv char **in_use = NULL;
  cleanup_json json_object *a = json_object_new_array ();

  if (names == NULL)
    return NULL;
  in_use = volumes_in_use (ctx, err);
  if (in_use == NULL)
    return NULL;
  for (char **n = names; *n; n++)
    {
      json_object *v = volumes_inspect (ctx, *n, err);
      if (v == NULL)
        return NULL;
      if (passes (v, filters, in_use))
        json_object_array_add (a, v);
      else
        json_object_put (v);
    }
  return steal_ptr (&a);
}

static int
print_templates (json_object *a, const char *format, struct error **err)
{
  for (size_t i = 0; i < json_object_array_length (a); i++)
    {
      cleanup_buf struct buf out = BUF_INIT;
      if (format_render (json_object_array_get_idx (a, i), format, &out, err) < 0)
        return -1;
      printf ("%s\n", out.data ? out.data : "");
    }
  return 0;
}

static int
print_list (json_object *a, const struct ls_opts *o, struct error **err)
{
  static const char *const headers[] = { "DRIVER", "VOLUME NAME" };
  cleanup_table struct table *t = NULL;

  if (o->is_quiet)
    return print_templates (a, "{{.Name}}", err);
  if (o->format && format_is_json (o->format))
    {
      cleanup_free char *text = jobj_to_string (a, true);
      printf ("%s\n", text);
      return 0;
    }
  if (o->format)
    return print_templates (a, o->format, err);
  t = table_new (2, headers);
  for (size_t i = 0; i < json_object_array_length (a); i++)
    {
      json_object *v = json_object_array_get_idx (a, i);
      const char *cells[] = { jobj_get_string (v, "Driver"), jobj_get_string (v, "Name") };
      table_add_row (t, cells);
    }
  table_print (t, o->is_noheading, stdout);
  return 0;
}

static int
run_ls (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "filter", required_argument, NULL, 'f' },
    { "format", required_argument, NULL, 'F' },
    { "noheading", no_argument, NULL, 'n' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ls_opts o = { 0 };
  cleanup_strv char **filters = NULL;
  cleanup_json json_object *a = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+f:nqh", opts, &volume_ls, err)) != -1)
    switch (c)
      {
      case 'f':
        filters = strv_append (filters, optarg);
        break;
      case 'F':
        o.format = optarg;
        break;
      case 'n':
        o.is_noheading = true;
        break;
      case 'q':
        o.is_quiet = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&volume_ls, argc - optind, 0, 0, err) < 0
      || check_filters (filters, err) < 0)
    return -1;
  a = collect (ctx, filters, err);
  if (a == NULL)
    return -1;
  return print_list (a, &o, err);
}

/* ---- inspect ----------------------------------------------------------------- */

static int
run_inspect (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json json_object *a = json_object_new_array ();
  cleanup_strv char **names = NULL;
  const char *format = NULL;
  bool is_all = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+af:h", opts, &volume_inspect, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case 'f':
        format = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (is_all && optind < argc)
    return err_make (err, 0, "when using the --all switch, you may not pass any volume names");
  if (!is_all && cli_require_args (&volume_inspect, argc - optind, 1, -1, err) < 0)
    return -1;
  names = is_all ? volumes_list (ctx, err) : NULL;
  if (is_all && names == NULL)
    return -1;
  for (int i = optind; !is_all && i < argc; i++)
    names = strv_append (names, argv[i]);
  for (char **n = names; n && *n; n++)
    {
      json_object *v = volumes_inspect (ctx, *n, err);
      if (v == NULL)
        return -1;
      json_object_array_add (a, v);
    }
  if (format && !format_is_json (format))
    return print_templates (a, format, err);
  {
    cleanup_free char *text = jobj_to_string (a, true);
    printf ("%s\n", text);
  }
  return 0;
}

/* ---- rm ---------------------------------------------------------------------- */

/* podman's -f: the containers using the volume go first. */
static int
remove_users (struct skiff_context *ctx, const char *name, struct error **err)
{
  struct container **users = NULL;
  int r = 0;

  if (volumes_users (ctx, name, &users, err) < 0)
    return -1;
  for (size_t i = 0; users[i] && r == 0; i++)
    r = container_rm (ctx, users[i], true, err);
  container_vec_free (users);
  return r;
}

static int
remove_one (struct skiff_context *ctx, const char *name, bool is_force, struct error **err)
{
  if (!volumes_exists (ctx, name))
    return err_make_code (err, 1, 0, "no volume with name \"%s\" found: no such volume", name);
  if (is_force && remove_users (ctx, name, err) < 0)
    return -1;
  if (volumes_remove (ctx, name, is_force, err) < 0)
    return -1;
  printf ("%s\n", name);
  return 0;
}

static int
run_rm (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **names = NULL;
  cleanup_error struct error *first = NULL;
  bool is_all = false, is_force = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+afh", opts, &volume_rm, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case 'f':
        is_force = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (is_all && optind < argc)
    return err_make (err, 0, "when using the --all switch, you may not pass any volume names");
  if (!is_all && cli_require_args (&volume_rm, argc - optind, 1, -1, err) < 0)
    return -1;
  names = is_all ? volumes_list (ctx, err) : NULL;
  if (is_all && names == NULL)
    return -1;
  for (int i = optind; !is_all && i < argc; i++)
    names = strv_append (names, argv[i]);
  /* Like podman: go on with the others, report the first failure. */
  for (char **n = names; n && *n; n++)
    {
      struct error *e = NULL;
      if (remove_one (ctx, *n, is_force, &e) < 0)
        {
          if (first == NULL)
            first = e;
          else
            {
              err_print (e, stderr);
              err_release (&e);
            }
        }
    }
  if (first)
    {
      *err = steal_ptr (&first);
      return -1;
    }
  return 0;
}

/* ---- prune ------------------------------------------------------------------- */

static bool
confirm_prune (json_object *a)
{
  printf ("WARNING! This will remove all volumes not used by at least one container. The "
          "following volumes will be removed:\n");
  for (size_t i = 0; i < json_object_array_length (a); i++)
    printf ("%s\n", jobj_get_string (json_object_array_get_idx (a, i), "Name"));
  return cli_confirm ("Are you sure you want to continue?");
}

static int
run_prune (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "filter", required_argument, NULL, 'F' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **filters = strv_append (NULL, "dangling=true");
  cleanup_json json_object *a = NULL;
  bool is_force = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+fh", opts, &volume_prune, err)) != -1)
    switch (c)
      {
      case 'F':
        filters = strv_append (filters, optarg);
        break;
      case 'f':
        is_force = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&volume_prune, argc - optind, 0, 0, err) < 0
      || check_filters (filters, err) < 0)
    return -1;
  a = collect (ctx, filters, err);
  if (a == NULL)
    return -1;
  if (json_object_array_length (a) == 0 || (!is_force && !confirm_prune (a)))
    return 0;
  for (size_t i = 0; i < json_object_array_length (a); i++)
    {
      const char *name = jobj_get_string (json_object_array_get_idx (a, i), "Name");
      if (volumes_remove (ctx, name, false, err) < 0)
        return -1;
      printf ("%s\n", name);
    }
  events_volume (ctx, "prune", NULL);
  return 0;
}

/* ---- exists ------------------------------------------------------------------ */

static int
run_exists (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &volume_exists, err)) != -1)
    return c == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&volume_exists, argc - optind, 1, 1, err) < 0)
    return -1;
  return volumes_exists (ctx, argv[optind]) ? 0 : 1;
}

/* ---- the family -------------------------------------------------------------- */

static const struct command volume_create = {
  .name = "create",
  .summary = "Create a new volume",
  .usage = "volume create [options] [NAME]",
  .options_help = "  -d, --driver string        Specify volume driver name (default \"local\")\n"
                  "      --ignore               Don't fail if volume already exists\n"
                  "  -l, --label stringArray    Set metadata for a volume (e.g., --label mykey=value)\n",
  .run = run_create,
};

static const struct command volume_ls = {
  .name = "ls",
  .summary = "List volumes",
  .usage = "volume ls [options]",
  .options_help = "  -f, --filter stringArray   Filter volume output (name=, label=, driver=, dangling=)\n"
                  "      --format string        Format volume output using JSON or a Go template\n"
                  "  -n, --noheading            Do not print headers\n"
                  "  -q, --quiet                Print volume output in quiet mode\n",
  .run = run_ls,
  .aliases = { "list" },
};

static const struct command volume_inspect = {
  .name = "inspect",
  .summary = "Display detailed information on one or more volumes",
  .usage = "volume inspect [options] VOLUME [VOLUME...]",
  .options_help = "  -a, --all             Inspect all volumes\n"
                  "  -f, --format string   Format volume output using JSON or a Go template\n",
  .run = run_inspect,
};

static const struct command volume_rm = {
  .name = "rm",
  .summary = "Remove one or more volumes",
  .usage = "volume rm [options] VOLUME [VOLUME...]",
  .options_help = "  -a, --all     Remove all volumes\n"
                  "  -f, --force   Remove a volume by force, even if it is being used by a container\n",
  .run = run_rm,
  .aliases = { "remove" },
};

static const struct command volume_prune = {
  .name = "prune",
  .summary = "Remove all unused volumes",
  .usage = "volume prune [options]",
  .options_help = "      --filter stringArray   Provide filter values (e.g. 'label=<key>=<value>')\n"
                  "  -f, --force                Do not prompt for confirmation\n",
  .run = run_prune,
};

static const struct command volume_exists = {
  .name = "exists",
  .summary = "Check if volume exists",
  .usage = "volume exists VOLUME",
  .run = run_exists,
};

static const struct command *const volume_subs[] = {
  &volume_create, &volume_exists, &volume_inspect, &volume_ls, &volume_prune, &volume_rm, NULL,
};

const struct command cmd_volume_command = {
  .name = "volume",
  .summary = "Manage volumes",
  .usage = "volume COMMAND",
  .subs = volume_subs,
};
