/* skiff mount / unmount (container mount, container unmount): mount a
 * container's root file system and print where, as podman does.  The
 * mount lives in the caller's mount namespace, so rootless it only makes
 * sense inside `skiff unshare` (whose shell keeps the namespace); outside
 * it the command refuses with podman's message.  Without arguments mount
 * lists the mounted containers. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_start.h"
#include "context.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "storage/storage.h"

static int
refuse_rootless (struct skiff_context *ctx, const char *cmd, struct error **err)
{
  if (!ctx->is_rootless)
    return 0;
  return err_make (err, 0, "cannot run command \"skiff %s\" in rootless mode, must execute "
                   "`skiff unshare` first", cmd);
}

/* A mount point field of /proc/self/mountinfo with its octal escapes
 * ("\040" for a space) undone, in place. */
static char *
unescape (char *s)
{
  char *w = s;

  for (char *r = s; *r; r++)
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
        && r[3] <= '7')
      {
        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
        r += 3;
      }
    else
      *w++ = *r;
  *w = '\0';
  return s;
}

/* Whether PATH is a mount point in our mount namespace. */
static bool
is_mount_point (const char *path)
{
  cleanup_free char *info = fs_read_file ("/proc/self/mountinfo", 0, NULL, NULL);
  cleanup_strv char **lines = NULL;
  char real[PATH_MAX];

  if (info == NULL || realpath (path, real) == NULL)
    return false;
  lines = str_split (info, '\n');
  for (char **l = lines; *l; l++)
    {
      cleanup_strv char **fields = str_split (*l, ' ');
      if (strv_len (fields) > 4 && strcmp (unescape (fields[4]), real) == 0)
        return true;
    }
  return false;
}

struct target
{
  struct container_rootfs rootfs;
  char *path;
};

static int
target_init (struct skiff_context *ctx, struct container *c, struct target *t,
             struct error **err)
{
  if (container_rootfs_init (ctx, c, &t->rootfs, err) < 0)
    return -1;
  /* Inside `skiff unshare` overlay needs what a rootless mount needs. */
  t->rootfs.req.is_rootless = ctx->is_rootless || context_is_in_user_namespace ();
  t->path = storage_rootfs_target (t->rootfs.driver, t->rootfs.storage_dir);
  return 0;
}

static void
target_clear (struct target *t)
{
  container_rootfs_clear (&t->rootfs);
  free (t->path);
}

static int
mount_one (struct skiff_context *ctx, const char *ref, struct error **err)
{
  cleanup_container struct container *c = NULL;
  cleanup_free char *mounted = NULL;
  struct target t = { 0 };
  int r;

  if (container_require (ctx, ref, &c, err) < 0)
    return -1;
  r = target_init (ctx, c, &t, err);
  if (r == 0 && !is_mount_point (t.path))
    r = storage_rootfs_mount (t.rootfs.driver, &t.rootfs.req, &mounted, err);
  if (r == 0)
    printf ("%s\n", mounted ? mounted : t.path);
  target_clear (&t);
  return r < 0 ? err_wrap (err, "mount container %s", c->name) : 0;
}

static int
list_mounted (struct skiff_context *ctx, struct error **err)
{
  struct container **all = NULL;
  int r = 0;

  if (container_list (ctx, &all, err) < 0)
    return -1;
  for (size_t i = 0; all[i] && r == 0; i++)
    {
      struct target t = { 0 };
      r = target_init (ctx, all[i], &t, err);
      if (r == 0 && is_mount_point (t.path))
        printf ("%.12s  %s\n", all[i]->id, t.path);
      target_clear (&t);
    }
  container_vec_free (all);
  return r;
}

static int
run_mount (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int o;

  cli_getopt_reset ();
  while ((o = cli_getopt (argc, argv, "+h", opts, &cmd_mount_command, err)) != -1)
    return o == CLI_OPT_HELP ? 0 : -1;
  if (refuse_rootless (ctx, "mount", err) < 0)
    return -1;
  if (optind == argc)
    return list_mounted (ctx, err);
  for (int i = optind; i < argc; i++)
    if (mount_one (ctx, argv[i], err) < 0)
      return -1;
  return 0;
}

/* IS_ONLY_MOUNTED (unmount -a): the others are left alone and not named. */
static int
unmount_one (struct skiff_context *ctx, struct container *c, bool is_only_mounted,
             struct error **err)
{
  struct target t = { 0 };
  int r = target_init (ctx, c, &t, err);

  if (r == 0 && is_only_mounted && !is_mount_point (t.path))
    {
      target_clear (&t);
      return 0;
    }
  if (r == 0)
    r = storage_rootfs_unmount (t.rootfs.driver, t.rootfs.storage_dir, err);
  if (r == 0)
    printf ("%s\n", c->id);
  target_clear (&t);
  return r < 0 ? err_wrap (err, "unmount container %s", c->name) : 0;
}

static int
run_unmount (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container **all = NULL;
  bool is_all = false;
  int o, r = 0;

  cli_getopt_reset ();
  while ((o = cli_getopt (argc, argv, "+afh", opts, &cmd_unmount_command, err)) != -1)
    switch (o)
      {
      case 'a':
        is_all = true;
        break;
      case 'f':
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (refuse_rootless (ctx, "unmount", err) < 0)
    return -1;
  if (!is_all && cli_require_args (&cmd_unmount_command, argc - optind, 1, -1, err) < 0)
    return -1;
  if (is_all)
    {
      if (container_list (ctx, &all, err) < 0)
        return -1;
      for (size_t i = 0; all[i] && r == 0; i++)
        r = unmount_one (ctx, all[i], true, err);
      container_vec_free (all);
      return r;
    }
  for (int i = optind; i < argc && r == 0; i++)
    {
      cleanup_container struct container *c = NULL;
      r = container_require (ctx, argv[i], &c, err);
      if (r == 0)
        r = unmount_one (ctx, c, false, err);
    }
  return r;
}

const struct command cmd_mount_command = {
  .name = "mount",
  .summary = "Mount a working container's root filesystem",
  .usage = "mount [options] [CONTAINER...]",
  .run = run_mount,
};

const struct command cmd_unmount_command = {
  .name = "unmount",
  .summary = "Unmount working container's root filesystem",
  .usage = "unmount [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --all     Unmount all of the currently mounted containers\n"
                  "  -f, --force   Force the complete unmount of the specified mounted containers\n",
  .run = run_unmount,
  .aliases = { "umount" },
};
