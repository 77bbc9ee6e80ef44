/* Store and runtime paths.  Rootless: $XDG_DATA_HOME/skiff (default
 * ~/.local/share/skiff) and $XDG_RUNTIME_DIR/skiff, or a private
 * /tmp/skiff-run-UID when XDG_RUNTIME_DIR is unset or unusable (as under
 * su).  Root: /var/lib/skiff and /run/skiff.  Inside `skiff unshare` (root
 * of a user namespace) the store stays the user's: the paths unshare
 * exports in CONTAINERS_GRAPHROOT and CONTAINERS_RUNROOT, as podman's. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "userns.h"

static char *
home_dir (void)
{
  const char *home = getenv ("HOME");
  struct passwd *pw;

  if (home && *home)
    return xstrdup (home);
  pw = getpwuid (getuid ());
  if (pw && pw->pw_dir)
    return xstrdup (pw->pw_dir);
  return NULL;
}

/* The initial user namespace's uid_map is the single line
 * "0 0 4294967295". */
bool
context_is_in_user_namespace (void)
{
  cleanup_free char *map = fs_read_file ("/proc/self/uid_map", 1 << 16, NULL, NULL);
  unsigned long inside, outside, count;

  if (map == NULL || sscanf (map, "%lu %lu %lu", &inside, &outside, &count) != 3)
    return false;
  return !(inside == 0 && outside == 0 && count == 4294967295UL && strchr (map, '\n')
           == strrchr (map, '\n'));
}

/* The user's store, when we run inside `skiff unshare`. */
static const char *
unshare_path (const char *var)
{
  const char *v = getenv (var);

  if (v == NULL || *v != '/' || geteuid () != 0 || !context_is_in_user_namespace ())
    return NULL;
  return v;
}

static char *
default_root (bool is_rootless, struct error **err)
{
  const char *xdg = getenv ("XDG_DATA_HOME");
  cleanup_free char *home = NULL;

  if (!is_rootless && unshare_path ("CONTAINERS_GRAPHROOT"))
    return xstrdup (unshare_path ("CONTAINERS_GRAPHROOT"));
  if (!is_rootless)
    return xstrdup ("/var/lib/skiff");
  if (xdg && *xdg == '/')
    return xasprintf ("%s/skiff", xdg);
  home = home_dir ();
  if (home == NULL)
    {
      err_make (err, 0, "cannot find the home directory: set HOME or use --root");
      return NULL;
    }
  return xasprintf ("%s/.local/share/skiff", home);
}

/* XDG_RUNTIME_DIR counts only when it is a directory we own. */
static bool
runtime_dir_usable (const char *dir, uid_t uid)
{
  struct stat st;

  if (dir == NULL || *dir != '/')
    return false;
  if (stat (dir, &st) < 0 || !S_ISDIR (st.st_mode))
    return false;
  return st.st_uid == uid && access (dir, W_OK | X_OK) == 0;
}

static char *
default_runroot (bool is_rootless, uid_t uid)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");

  if (!is_rootless && unshare_path ("CONTAINERS_RUNROOT"))
    return xstrdup (unshare_path ("CONTAINERS_RUNROOT"));
  if (!is_rootless)
    return xstrdup ("/run/skiff");
  if (runtime_dir_usable (xdg, uid))
    return xasprintf ("%s/skiff", xdg);
  return xasprintf ("/tmp/skiff-run-%u", (unsigned) uid);
}

int
context_init (struct skiff_context *ctx, struct error **err)
{
  ctx->uid = geteuid ();
  ctx->gid = getegid ();
  ctx->is_rootless = ctx->uid != 0;
  if (ctx->root == NULL)
    {
      ctx->root = default_root (ctx->is_rootless, err);
      if (ctx->root == NULL)
        return -1;
    }
  if (ctx->runroot == NULL)
    ctx->runroot = default_runroot (ctx->is_rootless, ctx->uid);
  return 0;
}

int
context_ensure_runroot (struct skiff_context *ctx, struct error **err)
{
  struct stat st;

  if (fs_mkdir_p (ctx->runroot, 0700, err) < 0)
    return err_wrap (err, "create runtime directory");
  if (lstat (ctx->runroot, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", ctx->runroot);
  if (!S_ISDIR (st.st_mode) || st.st_uid != ctx->uid)
    return err_make (err, 0, "runtime directory \"%s\" is not a directory owned by "
                     "uid %u: remove it or use --runroot", ctx->runroot,
                     (unsigned) ctx->uid);
  if ((st.st_mode & 077) && chmod (ctx->runroot, 0700) < 0)
    return err_make (err, errno, "chmod \"%s\"", ctx->runroot);
  return 0;
}

const struct userns_config *
context_userns (struct skiff_context *ctx, struct error **err)
{
  struct userns_config *cfg;

  if (ctx->userns)
    return ctx->userns;
  cfg = xmalloc0 (sizeof *cfg);
  if (userns_load_config (ctx->uid, ctx->gid, ctx->is_rootless, cfg, err) < 0)
    {
      free (cfg);
      return NULL;
    }
  ctx->userns = cfg;
  return cfg;
}

void
context_free (struct skiff_context *ctx)
{
  if (ctx->userns)
    {
      userns_config_free (ctx->userns);
      free (ctx->userns);
    }
  free (ctx->root);
  free (ctx->runroot);
  free (ctx->storage_driver);
  strv_free (ctx->storage_opts);
  memset (ctx, 0, sizeof *ctx);
}

int
context_run_in_userns (struct skiff_context *ctx, userns_child_fn fn, void *arg,
                      struct error **err)
{
  const struct userns_config *cfg = context_userns (ctx, err);
  cleanup_userns_proc struct userns_proc proc = USERNS_PROC_INIT;
  int status = 0;

  if (cfg == NULL)
    return -1;
  if (userns_spawn (cfg, CLONE_NEWNS, fn, arg, &proc, err) < 0)
    return -1;
  if (userns_proc_wait (&proc, &status, err) < 0)
    return -1;
  if (userns_exit_code (status) != 0)
    return err_make (err, 0, "helper in the user namespace failed with status %d",
                     userns_exit_code (status));
  return 0;
}

