/* skiff run and skiff create: make a container from an image (pulling it
 * when the policy says so) and, for run, start it in the foreground or
 * detached. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auto_update.h"
#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "container_start.h"
#include "context.h"
#include "image_json.h"
#include "image_pull.h"
#include "images.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "monitor.h"
#include "run_opts.h"

static const char run_options_help[] =
  "  -a, --attach stringArray      Attach to STDIN, STDOUT or STDERR\n"
  "      --add-host host:ip        Add a custom host-to-IP mapping\n"
  "      --cap-add stringArray     Add capabilities to the container\n"
  "      --cap-drop stringArray    Drop capabilities from the container\n"
  "      --cgroups string          Control container cgroup configuration (enabled, disabled, no-conmon, split)\n"
  "      --cidfile string          Write the container ID to the file\n"
  "  -d, --detach                  Run container in background and print container ID\n"
  "      --dns, --dns-option, --dns-search   DNS settings of the container\n"
  "      --entrypoint string       Overwrite the default ENTRYPOINT of the image\n"
  "  -e, --env stringArray         Set environment variables in container\n"
  "      --env-file stringArray    Read in a file of environment variables\n"
  "      --env-host                Use all current host environment variables in container\n"
  "      --group-add strings       Add additional groups to the primary container process\n"
  "  -h, --hostname string         Set container hostname\n"
  "      --init                    Run an init inside the container that forwards signals and reaps processes\n"
  "  -i, --interactive             Keep STDIN open even if not attached\n"
  "  -l, --label stringArray       Set metadata on container\n"
  "      --log-driver string       Logging driver for the container (k8s-file, none, passthrough)\n"
  "      --log-opt stringArray     Logging driver options (max-size=SIZE)\n"
  "      --mount stringArray       Attach a filesystem mount to the container\n"
  "      --name string             Assign a name to the container\n"
  "      --network string          Connect a container to a network (none, host, slirp4netns)\n"
  "      --privileged              Give extended privileges to container\n"
  "      --pull string             Pull image policy: always, missing, never, newer (default \"missing\")\n"
  "  -q, --quiet                   Suppress output information when pulling images\n"
  "      --read-only               Make containers root filesystem read-only\n"
  "      --replace                 If a container with the same name exists, replace it\n"
  "      --restart string          Restart policy: no, on-failure[:max], always, unless-stopped\n"
  "      --rm                      Remove container and any anonymous volumes after exit\n"
  "      --sdnotify string         Control sd-notify behavior (conmon, container, ignore)\n"
  "      --security-opt stringArray   Security options (no-new-privileges)\n"
  "      --stop-signal string      Signal to stop a container\n"
  "      --stop-timeout uint       Timeout (in seconds) to stop a container\n"
  "      --tmpfs tmpfs             Mount a temporary filesystem (tmpfs) into container\n"
  "  -t, --tty                     Allocate a pseudo-TTY for container\n"
  "      --ulimit ulimit           Ulimit options\n"
  "  -u, --user string             Username or UID (format: <name|uid>[:<group|gid>])\n"
  "      --userns string           User namespace to use (keep-id)\n"
  "  -v, --volume stringArray      Bind mount a volume into the container\n"
  "  -w, --workdir string          Working directory inside the container\n";

static int
remove_for_replace (struct skiff_context *ctx, struct container *victim, struct error **err)
{
  return container_rm (ctx, victim, true, err);
}

/* The image the container is made from, pulled when the policy says so. */
static int
resolve_image (struct skiff_context *ctx, const struct run_opts *o, struct storage_image **img,
               struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;
  const char *policy = o->pull ? o->pull : "missing";
  struct image_pull_opts po = { .platform = o->platform, .is_quiet = o->is_quiet };
  cleanup_free char *id = NULL;

  if (strcmp (policy, "always") != 0 && strcmp (policy, "missing") != 0
      && strcmp (policy, "never") != 0 && strcmp (policy, "newer") != 0)
    return err_make (err, 0, "invalid pull policy \"%s\": use always, missing, never or newer",
                     policy);
  if (images_open (ctx, false, &s, err) < 0 || images_find (s, o->image, img, err) < 0)
    return -1;
  if (*img && strcmp (policy, "always") != 0 && strcmp (policy, "newer") != 0)
    return 0;
  if (*img == NULL && strcmp (policy, "never") == 0)
    return err_make (err, 0, "%s: image not known", o->image);
  storage_image_free (*img);
  *img = NULL;
  if (image_pull (ctx, o->image, &po, &id, err) < 0)
    return -1;
  storage_close (s);
  s = NULL;
  if (images_open (ctx, false, &s, err) < 0 || images_require (s, id, img, err) < 0)
    return -1;
  return 0;
}

static int
write_cidfile (const char *path, const char *id, struct error **err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0)
    return err_make (err, errno, "container id file \"%s\" exists or cannot be created", path);
  if (write (fd, id, strlen (id)) != (ssize_t) strlen (id))
    return err_make (err, errno, "write \"%s\"", path);
  return 0;
}

/* The command line that made the container, as podman's "CreateCommand",
 * for `generate systemd --new` to replay: every word of our own argv
 * (global options included), with the indexes of the verb (ARGV[0], the
 * command's name) and of the image, so the replay needs no second parser
 * of the options.  Read from the argv area main() recorded. */
static void
record_command_line (json_object *config, int argc, char **argv, const struct run_opts *o)
{
  json_object *words = json_object_new_array ();
  int verb = -1, i = 0;

  for (char *p = cli_argv_area; p && p < cli_argv_area + cli_argv_area_len;
       p += strlen (p) + 1, i++)
    {
      if (p == argv[0])
        verb = i;
      json_object_array_add (words, json_object_new_string (p));
    }
  if (verb < 0)
    {
      json_object_put (words);
      return;
    }
  json_object_object_add (config, "CreateCommand", words);
  json_object_object_add (config, "CreateCommandVerb", json_object_new_int (verb));
  json_object_object_add (config, "CreateCommandImage",
                          json_object_new_int (verb + argc - 1 - (int) strv_len (o->command)));
}

/* The image name the container records: the one the user gave when the
 * image has it (an image may have several names, and auto-update must ask
 * the registry about the one the container was made from), else the
 * image's first, else what the user gave (an ID). */
static char *
recorded_image_name (const struct storage_image *img, const char *given)
{
  cleanup_free char *normal = images_normalize_name (given, NULL);

  for (char **n = img->names; normal && n && *n; n++)
    if (strcmp (*n, normal) == 0)
      return steal_ptr (&normal);
  return xstrdup (img->names && img->names[0] ? img->names[0] : given);
}

static int
create_container (struct skiff_context *ctx, const struct run_opts *o, int argc, char **argv,
                  struct container **out, struct error **err)
{
  cleanup_image struct storage_image *img = NULL;
  cleanup_storage struct storage_store *s = NULL;
  cleanup_json json_object *image_cfg = NULL;
  cleanup_json json_object *config = NULL;
  cleanup_free char *name = NULL;

  if (resolve_image (ctx, o, &img, err) < 0)
    return -1;
  if (images_open (ctx, false, &s, err) < 0)
    return -1;
  image_cfg = image_json_config (s, img, err);
  if (image_cfg == NULL)
    return -1;
  name = recorded_image_name (img, o->image);
  config = run_opts_to_config (o, jobj_get_object (image_cfg, "config"), img->id, name, err);
  if (config == NULL || run_opts_choose_driver (ctx, config, err) < 0)
    return -1;
  record_command_line (config, argc, argv, o);
  auto_update_record_unit (config, getenv (AUTO_UPDATE_UNIT_LABEL));
  if (context_ensure_runroot (ctx, err) < 0)
    return -1;
  if (container_create (ctx, config, o->name, o->is_replace, remove_for_replace, out, err) < 0)
    return -1;
  if (o->cidfile && write_cidfile (o->cidfile, (*out)->id, err) < 0)
    {
      struct error *e2 = NULL;
      if (container_remove (ctx, *out, &e2) < 0)
        err_release (&e2);
      container_free (*out);
      *out = NULL;
      return -1;
    }
  return 0;
}

static int
run_run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  struct run_opts o;
  cleanup_container struct container *c = NULL;
  cleanup_close int lk = -1;
  struct monitor_opts mo = { 0 };
  int r, code = 0;

  r = run_opts_parse (&cmd_run_command, argc, argv, &o, err);
  if (r != 0)
    {
      run_opts_clear (&o);
      return r > 0 ? 0 : -1;
    }
  mo.is_interactive = o.is_interactive && o.is_attach_stdin;
  mo.no_stdout = !o.is_attach_stdout;
  mo.no_stderr = !o.is_attach_stderr;
  mo.is_tty = o.is_tty;
  mo.has_sig_proxy = o.has_sig_proxy;
  mo.is_attached = !o.is_detach;
  r = create_container (ctx, &o, argc, argv, &c, err);
  if (r == 0)
    {
      lk = container_lock (ctx, c, err);
      r = lk < 0 ? -1 : 0;
    }
  if (r == 0 && o.is_detach)
    {
      r = monitor_detached (ctx, c, &mo, &lk, err);
      if (r == 0)
        printf ("%s\n", c->id);
    }
  else if (r == 0)
    r = monitor_foreground (ctx, c, &mo, &lk, &code, err);
  if (r < 0 && c && o.is_rm)
    {
      /* A container that never ran is not kept with --rm either. */
      struct error *e2 = NULL;
      if (lk >= 0)
        close (steal_fd (&lk));
      if (container_rm (ctx, c, true, &e2) < 0)
        err_release (&e2);
    }
  run_opts_clear (&o);
  return r < 0 ? -1 : code;
}

static int
run_create (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  struct run_opts o;
  cleanup_container struct container *c = NULL;
  int r;

  r = run_opts_parse (&cmd_create_command, argc, argv, &o, err);
  if (r != 0)
    {
      run_opts_clear (&o);
      return r > 0 ? 0 : -1;
    }
  r = create_container (ctx, &o, argc, argv, &c, err);
  if (r == 0)
    printf ("%s\n", c->id);
  run_opts_clear (&o);
  return r;
}

const struct command cmd_run_command = {
  .name = "run",
  .summary = "Run a command in a new container",
  .usage = "run [options] IMAGE [COMMAND [ARG...]]",
  .options_help = run_options_help,
  .run = run_run,
};

const struct command cmd_create_command = {
  .name = "create",
  .summary = "Create but do not start a container",
  .usage = "create [options] IMAGE [COMMAND [ARG...]]",
  .options_help = run_options_help,
  .run = run_create,
};
