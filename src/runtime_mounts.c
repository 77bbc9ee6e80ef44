/* The container's filesystem: the -v, --mount and --tmpfs syntaxes, and
 * in the child every mount from the root filesystem to pivot_root.
 *
 * The mounts, in order (runtime_mounts_setup walks setup_steps):
 *
 *   1. mount_rootfs: the storage driver's callback, then a bind of the root
 *      onto itself, since pivot_root wants a mount point.
 *   2. mount_proc: a new proc for the new pid namespace.
 *   3. mount_sys: sysfs, read-only unless privileged; a user namespace that
 *      does not own the network namespace may not mount sysfs, so then the
 *      host's /sys is bound recursively, read-only (as crun does rootless).
 *   4. mount_dev: a tmpfs with the host's harmless nodes bound onto empty
 *      files (mknod is not allowed in a user namespace) and the usual
 *      symlinks, then mount_devpts, mount_shm, mount_mqueue.
 *   5. mount_cgroup: cgroup2 read-only, when the host is on cgroup v2 and
 *      the container has its own cgroup namespace.
 *   6. mount_etc_files: the generated hosts, resolv.conf and hostname.
 *   7. mount_user_mounts: volumes, binds and tmpfs, parents before children.
 *      They come after /dev so that a volume on /dev/shm is not hidden.  A
 *      new volume first gets the image's files there (copy_up_volume).
 *   8. mask_paths and readonly_paths: podman's lists, skipped when
 *      privileged.
 *   9. runtime_mounts_pivot: pivot_root into the root and detach the old
 *      one; then with --read-only, "/" becomes read-only.
 *
 * Every target inside the root is resolved in the root
 * (runtime_fs_make_target) and mounted through /proc/self/fd/N, so a
 * symlink in the image cannot send a mount to the host. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "runtime_internal.h"

#define CGROUP2_MAGIC 0x63677270
#define SHM_DEFAULT_SIZE (64u * 1024 * 1024)

/* ---- parsing: shared pieces ---------------------------------------------- */

/* filepath.Clean for an absolute path: no ".", "..", or repeated slashes;
 * ".." at the root stays there. */
static char *
clean_path (const char *path)
{
  cleanup_strv char **parts = str_split (path, '/');
  cleanup_buf struct buf out = BUF_INIT;

  for (size_t i = 0; parts[i]; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          char *slash = out.len ? strrchr (out.data, '/') : NULL;

          if (slash)
            buf_truncate (&out, (size_t) (slash - out.data));
          continue;
        }
      buf_printf (&out, "/%s", parts[i]);
    }
  if (out.len == 0)
    buf_append_char (&out, '/');
  return buf_steal (&out);
}

static int
set_destination (struct runtime_mount *m, const char *dest, struct error **err)
{
  if (dest[0] != '/')
    return err_make (err, 0, "invalid container path \"%s\", must be an absolute path",
                     dest);
  m->destination = clean_path (dest);
  if (strcmp (m->destination, "/") == 0)
    return err_make (err, 0, "invalid container path \"%s\": cannot mount over the "
                     "container's root", dest);
  return 0;
}

/* podman's volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static bool
is_volume_name (const char *s)
{
  static const char extra[] = "_.-";

  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')
        || (s[0] >= '0' && s[0] <= '9')))
    return false;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || strchr (extra, *s)))
      return false;
  return true;
}

static int
set_source (struct runtime_mount *m, const char *src, struct error **err)
{
  if (src[0] == '\0')
    return err_make (err, 0, "host directory cannot be empty");
  if (src[0] == '/')
    {
      m->type = RUNTIME_MOUNT_BIND;
      m->source = clean_path (src);
      return 0;
    }
  if (src[0] == '.')
    {
      m->type = RUNTIME_MOUNT_BIND;
      m->source = xstrdup (src);
      return 0;
    }
  if (!is_volume_name (src))
    return err_make (err, 0, "invalid volume name \"%s\": names must match "
                     "[a-zA-Z0-9][a-zA-Z0-9_.-]*", src);
  m->type = RUNTIME_MOUNT_VOLUME;
  m->source = xstrdup (src);
  return 0;
}

/* Option groups that may be given once: "ro" then "rw" is a conflict. */
enum opt_group
{
  GROUP_RW = 1 << 0,
  GROUP_SUID = 1 << 1,
  GROUP_DEV = 1 << 2,
  GROUP_EXEC = 1 << 3,
  GROUP_BIND = 1 << 4,
  GROUP_PROPAGATION = 1 << 5,
  GROUP_COPY = 1 << 6,
  GROUP_TMPCOPYUP = 1 << 7,
  GROUP_NONE = 1 << 8, /* z, Z: no effect, may repeat */
};

/* Flag-like options of -v, --tmpfs and --mount, as data. */
static const struct
{
  const char *name;
  enum opt_group group;
  unsigned long set_flags;   /* added to m->flags */
  unsigned long propagation;
} flag_opts[] = {
  { "ro", GROUP_RW, 0, 0 },
  { "rw", GROUP_RW, 0, 0 },
  { "nosuid", GROUP_SUID, MS_NOSUID, 0 },
  { "suid", GROUP_SUID, 0, 0 },
  { "nodev", GROUP_DEV, MS_NODEV, 0 },
  { "dev", GROUP_DEV, 0, 0 },
  { "noexec", GROUP_EXEC, MS_NOEXEC, 0 },
  { "exec", GROUP_EXEC, 0, 0 },
  { "bind", GROUP_BIND, 0, 0 },
  { "rbind", GROUP_BIND, 0, 0 },
  { "shared", GROUP_PROPAGATION, 0, MS_SHARED },
  { "rshared", GROUP_PROPAGATION, 0, MS_SHARED | MS_REC },
  { "slave", GROUP_PROPAGATION, 0, MS_SLAVE },
  { "rslave", GROUP_PROPAGATION, 0, MS_SLAVE | MS_REC },
  { "private", GROUP_PROPAGATION, 0, MS_PRIVATE },
  { "rprivate", GROUP_PROPAGATION, 0, MS_PRIVATE | MS_REC },
  { "unbindable", GROUP_PROPAGATION, 0, MS_UNBINDABLE },
  { "runbindable", GROUP_PROPAGATION, 0, MS_UNBINDABLE | MS_REC },
  { "copy", GROUP_COPY, 0, 0 },
  { "nocopy", GROUP_COPY, 0, 0 },
  { "tmpcopyup", GROUP_TMPCOPYUP, 0, 0 },
  { "notmpcopyup", GROUP_TMPCOPYUP, 0, 0 },
  { "z", GROUP_NONE, 0, 0 },
  { "Z", GROUP_NONE, 0, 0 },
};

const char *
runtime_mount_propagation_name (unsigned long propagation)
{
  for (size_t i = 0; propagation && i < sizeof flag_opts / sizeof flag_opts[0]; i++)
    if (flag_opts[i].group == GROUP_PROPAGATION && flag_opts[i].propagation == propagation)
      return flag_opts[i].name;
  return NULL;
}

/* Which option groups each kind of mount takes. */
#define BIND_GROUPS                                                              \
  (GROUP_RW | GROUP_SUID | GROUP_DEV | GROUP_EXEC | GROUP_BIND | GROUP_PROPAGATION  \
   | GROUP_COPY | GROUP_NONE)
#define TMPFS_GROUPS                                                             \
  (GROUP_RW | GROUP_SUID | GROUP_DEV | GROUP_EXEC | GROUP_TMPCOPYUP | GROUP_NONE)

/* One flag option; *SEEN collects the groups given so far.  Returns 1 when
 * NAME is not a flag option (the caller may know it), 0 when applied. */
static int
apply_flag_opt (struct runtime_mount *m, const char *name, unsigned int allowed,
                unsigned int *seen, const char *spec, struct error **err)
{
  for (size_t i = 0; i < sizeof flag_opts / sizeof flag_opts[0]; i++)
    {
      if (strcmp (name, flag_opts[i].name) != 0)
        continue;
      if ((flag_opts[i].group & allowed) == 0)
        return err_make (err, 0, "invalid option \"%s\" for this kind of mount in \"%s\"",
                         name, spec);
      if (flag_opts[i].group != GROUP_NONE && (*seen & flag_opts[i].group))
        return err_make (err, 0, "option \"%s\" conflicts with an earlier option in "
                         "\"%s\"", name, spec);
      *seen |= flag_opts[i].group;
      m->flags |= flag_opts[i].set_flags;
      m->propagation |= flag_opts[i].propagation;
      m->is_readonly = m->is_readonly || strcmp (name, "ro") == 0;
      m->is_nonrecursive = m->is_nonrecursive || strcmp (name, "bind") == 0;
      m->is_nocopy = m->is_nocopy || strcmp (name, "nocopy") == 0;
      m->is_notmpcopyup = m->is_notmpcopyup || strcmp (name, "notmpcopyup") == 0;
      return 0;
    }
  return 1;
}

/* tmpfs's own options, validated so nothing odd reaches the kernel. */
static bool
is_tmpfs_size (const char *v)
{
  size_t n = strspn (v, "0123456789");

  if (n == 0 || n > 19)
    return false;
  v += n;
  return v[0] == '\0' || (strchr ("kKmMgG%", v[0]) && v[1] == '\0');
}

static bool
is_octal_mode (const char *v)
{
  return v[0] != '\0' && strspn (v, "01234567") == strlen (v) && strtoul (v, NULL, 8) <= 07777;
}

static bool
is_decimal (const char *v)
{
  return v[0] != '\0' && strlen (v) <= 10 && strspn (v, "0123456789") == strlen (v);
}

static const struct
{
  const char *key;
  bool (*is_valid) (const char *);
} tmpfs_data_opts[] = {
  { "size", is_tmpfs_size },
  { "nr_blocks", is_tmpfs_size },
  { "nr_inodes", is_tmpfs_size },
  { "mode", is_octal_mode },
  { "uid", is_decimal },
  { "gid", is_decimal },
};

/* "key=value" for the tmpfs data string.  Returns 1 when KEY is unknown. */
static int
add_tmpfs_data (struct buf *data, const char *opt, const char *spec, struct error **err)
{
  const char *eq = strchr (opt, '=');
  size_t klen = eq ? (size_t) (eq - opt) : 0;

  if (eq == NULL)
    return 1;
  for (size_t i = 0; i < sizeof tmpfs_data_opts / sizeof tmpfs_data_opts[0]; i++)
    {
      if (strlen (tmpfs_data_opts[i].key) != klen
          || strncmp (opt, tmpfs_data_opts[i].key, klen) != 0)
        continue;
      if (!tmpfs_data_opts[i].is_valid (eq + 1))
        return err_make (err, 0, "invalid value in tmpfs option \"%s\" in \"%s\"", opt,
                         spec);
      buf_printf (data, "%s%s", data->len ? "," : "", opt);
      return 0;
    }
  return 1;
}

/* podman gives a tmpfs nosuid, nodev and noexec unless asked otherwise. */
static void
tmpfs_defaults (struct runtime_mount *m, unsigned int seen)
{
  if (!(seen & GROUP_SUID))
    m->flags |= MS_NOSUID;
  if (!(seen & GROUP_DEV))
    m->flags |= MS_NODEV;
  if (!(seen & GROUP_EXEC))
    m->flags |= MS_NOEXEC;
}

static int
parse_fail (struct runtime_mount *m)
{
  runtime_mount_clear (m);
  return -1;
}

/* ---- -v ---------------------------------------------------------------- */

static int
volume_options (struct runtime_mount *m, const char *opts, const char *spec,
                struct error **err)
{
  cleanup_strv char **list = str_split (opts, ',');
  unsigned int seen = 0;

  for (size_t i = 0; list[i]; i++)
    {
      int r = apply_flag_opt (m, list[i], BIND_GROUPS, &seen, spec, err);

      if (r < 0)
        return -1;
      if (r > 0)
        return err_make (err, 0, "invalid option \"%s\" in volume \"%s\"", list[i], spec);
    }
  return 0;
}

int
runtime_mount_parse_volume (const char *spec, struct runtime_mount *out, struct error **err)
{
  cleanup_strv char **parts = str_split (spec, ':');
  size_t n = strv_len (parts);
  struct runtime_mount m = { .type = RUNTIME_MOUNT_VOLUME };

  if (spec[0] == '\0' || n > 3)
    return err_make (err, 0, "incorrect volume format \"%s\", should be "
                     "[host-dir:]ctr-dir[:option]", spec);
  if (n >= 2 && set_source (&m, parts[0], err) < 0)
    return parse_fail (&m);
  if (set_destination (&m, parts[n == 1 ? 0 : 1], err) < 0)
    return parse_fail (&m);
  if (n == 3 && volume_options (&m, parts[2], spec, err) < 0)
    return parse_fail (&m);
  *out = m;
  return 0;
}

/* ---- --tmpfs ------------------------------------------------------------ */

int
runtime_mount_parse_tmpfs (const char *spec, struct runtime_mount *out, struct error **err)
{
  cleanup_free char *dest = xstrdup (spec);
  cleanup_buf struct buf data = BUF_INIT;
  struct runtime_mount m = { .type = RUNTIME_MOUNT_TMPFS };
  char *opts = strchr (dest, ':');
  unsigned int seen = 0;

  if (opts)
    *opts++ = '\0';
  if (set_destination (&m, dest, err) < 0)
    return parse_fail (&m);
  if (opts)
    {
      cleanup_strv char **list = str_split (opts, ',');

      for (size_t i = 0; list[i]; i++)
        {
          int r = apply_flag_opt (&m, list[i], TMPFS_GROUPS, &seen, spec, err);

          if (r == 1)
            r = add_tmpfs_data (&data, list[i], spec, err);
          if (r == 1)
            err_make (err, 0, "invalid option \"%s\" in tmpfs \"%s\"", list[i], spec);
          if (r != 0)
            return parse_fail (&m);
        }
    }
  tmpfs_defaults (&m, seen);
  m.data = data.len ? buf_steal (&data) : NULL;
  *out = m;
  return 0;
}

/* ---- --mount ------------------------------------------------------------ */

/* The keys of --mount as they were given, checked once all are known. */
struct mount_keys
{
  char *type, *source, *target, *propagation, *tmpfs_size, *tmpfs_mode;
  bool is_readonly, is_nonrecursive, is_nocopy;
  unsigned int seen;
};

static void
mount_keys_free (struct mount_keys *k)
{
  free (k->type);
  free (k->source);
  free (k->target);
  free (k->propagation);
  free (k->tmpfs_size);
  free (k->tmpfs_mode);
}

static int
parse_bool (const char *key, const char *value, bool *out, const char *spec,
            struct error **err)
{
  if (value == NULL || strcmp (value, "true") == 0 || strcmp (value, "1") == 0)
    *out = true;
  else if (strcmp (value, "false") == 0 || strcmp (value, "0") == 0)
    *out = false;
  else
    return err_make (err, 0, "invalid value \"%s\" for \"%s\" in \"%s\": want true or "
                     "false", value, key, spec);
  return 0;
}

static int
set_once (char **field, const char *key, const char *value, const char *spec,
          struct error **err)
{
  if (value == NULL || value[0] == '\0')
    return err_make (err, 0, "option \"%s\" needs a value in \"%s\"", key, spec);
  if (*field)
    return err_make (err, 0, "option \"%s\" given twice in \"%s\"", key, spec);
  *field = xstrdup (value);
  return 0;
}

static bool
is_key (const char *key, const char *a, const char *b, const char *c)
{
  return strcmp (key, a) == 0 || (b && strcmp (key, b) == 0) || (c && strcmp (key, c) == 0);
}

/* One "key[=value]" of --mount into K. */
static int
mount_key (struct mount_keys *k, struct runtime_mount *m, const char *key,
           const char *value, const char *spec, struct error **err)
{
  if (is_key (key, "type", NULL, NULL))
    return set_once (&k->type, key, value, spec, err);
  if (is_key (key, "source", "src", NULL))
    return set_once (&k->source, key, value, spec, err);
  if (is_key (key, "target", "destination", "dst"))
    return set_once (&k->target, key, value, spec, err);
  if (is_key (key, "bind-propagation", NULL, NULL))
    return set_once (&k->propagation, key, value, spec, err);
  if (is_key (key, "tmpfs-size", NULL, NULL))
    return set_once (&k->tmpfs_size, key, value, spec, err);
  if (is_key (key, "tmpfs-mode", NULL, NULL))
    return set_once (&k->tmpfs_mode, key, value, spec, err);
  if (is_key (key, "readonly", "ro", NULL))
    return parse_bool (key, value, &k->is_readonly, spec, err);
  if (is_key (key, "bind-nonrecursive", NULL, NULL))
    return parse_bool (key, value, &k->is_nonrecursive, spec, err);
  if (is_key (key, "volume-nocopy", "nocopy", NULL))
    return parse_bool (key, value, &k->is_nocopy, spec, err);
  if (is_key (key, "relabel", "consistency", NULL) && value)
    return 0;
  if (value == NULL)
    {
      int r = apply_flag_opt (m, key, GROUP_RW | GROUP_SUID | GROUP_DEV | GROUP_EXEC
                              | GROUP_NONE, &k->seen, spec, err);
      if (r <= 0)
        return r;
    }
  return err_make (err, 0, "unknown mount option \"%s\" in \"%s\"", key, spec);
}

static int
mount_tmpfs_keys (const struct mount_keys *k, struct runtime_mount *m, const char *spec,
                  struct error **err)
{
  cleanup_buf struct buf data = BUF_INIT;
  uint64_t size;

  if (k->source)
    return err_make (err, 0, "a tmpfs mount takes no source in \"%s\"", spec);
  if (k->propagation || k->is_nonrecursive || k->is_nocopy)
    return err_make (err, 0, "bind and volume options need type=bind or type=volume "
                     "in \"%s\"", spec);
  if (k->tmpfs_size)
    {
      if (parse_size (k->tmpfs_size, &size, err) < 0)
        return err_wrap (err, "tmpfs-size in \"%s\"", spec);
      buf_printf (&data, "size=%" PRIu64, size);
    }
  if (k->tmpfs_mode)
    {
      if (!is_octal_mode (k->tmpfs_mode))
        return err_make (err, 0, "invalid tmpfs-mode \"%s\" in \"%s\": want an octal "
                         "mode", k->tmpfs_mode, spec);
      buf_printf (&data, "%smode=%s", data.len ? "," : "", k->tmpfs_mode);
    }
  m->type = RUNTIME_MOUNT_TMPFS;
  m->data = data.len ? buf_steal (&data) : NULL;
  tmpfs_defaults (m, k->seen);
  return 0;
}

static int
mount_bind_keys (const struct mount_keys *k, struct runtime_mount *m, const char *spec,
                 struct error **err)
{
  bool is_bind = strcmp (k->type, "bind") == 0;

  if (k->tmpfs_size || k->tmpfs_mode)
    return err_make (err, 0, "tmpfs options need type=tmpfs in \"%s\"", spec);
  if (is_bind && k->source == NULL)
    return err_make (err, 0, "a bind mount needs a source in \"%s\"", spec);
  if (k->source && set_source (m, k->source, err) < 0)
    return -1;
  if (is_bind && m->type != RUNTIME_MOUNT_BIND)
    return err_make (err, 0, "the source of a bind mount must be an absolute path in "
                     "\"%s\"", spec);
  if (!is_bind && m->type != RUNTIME_MOUNT_VOLUME)
    return err_make (err, 0, "the source of a volume mount must be a volume name in "
                     "\"%s\"", spec);
  if (k->propagation)
    {
      unsigned int seen = 0;

      if (!is_bind || apply_flag_opt (m, k->propagation, GROUP_PROPAGATION, &seen, spec,
                                      err) != 0)
        return err_make (err, 0, "invalid bind-propagation \"%s\" in \"%s\"",
                         k->propagation, spec);
    }
  m->is_nonrecursive = k->is_nonrecursive;
  m->is_nocopy = k->is_nocopy;
  return 0;
}

int
runtime_mount_parse_mount (const char *spec, struct runtime_mount *out, struct error **err)
{
  cleanup_strv char **items = str_split (spec, ',');
  struct mount_keys k = { 0 };
  struct runtime_mount m = { .type = RUNTIME_MOUNT_VOLUME };
  int r = -1;

  for (size_t i = 0; items[i]; i++)
    {
      char *value = strchr (items[i], '=');

      if (value)
        *value++ = '\0';
      if (items[i][0] == '\0')
        {
          err_make (err, 0, "empty option in \"%s\"", spec);
          goto out;
        }
      if (mount_key (&k, &m, items[i], value, spec, err) < 0)
        goto out;
    }
  if (k.type == NULL)
    err_make (err, 0, "missing \"type\" in \"%s\": want type=bind, volume or tmpfs", spec);
  else if (k.target == NULL)
    err_make (err, 0, "missing \"target\" in \"%s\"", spec);
  else if (strcmp (k.type, "tmpfs") != 0 && strcmp (k.type, "bind") != 0
           && strcmp (k.type, "volume") != 0)
    err_make (err, 0, "unsupported mount type \"%s\" in \"%s\"", k.type, spec);
  else if (set_destination (&m, k.target, err) == 0
           && (strcmp (k.type, "tmpfs") == 0 ? mount_tmpfs_keys (&k, &m, spec, err)
                                             : mount_bind_keys (&k, &m, spec, err)) == 0)
    {
      m.is_readonly = m.is_readonly || k.is_readonly;
      r = 0;
    }
out:
  mount_keys_free (&k);
  if (r < 0)
    return parse_fail (&m);
  *out = m;
  return 0;
}

void
runtime_mount_clear (struct runtime_mount *m)
{
  free (m->source);
  free (m->destination);
  free (m->data);
  *m = (struct runtime_mount) { .type = RUNTIME_MOUNT_BIND };
}

/* ---- the child: helpers ------------------------------------------------- */

static int
mount_on_fd (const char *source, int target_fd, const char *fstype, unsigned long flags,
             const char *data, const char *what, struct error **err)
{
  char path[RUNTIME_FD_PATH_MAX];

  runtime_fs_fd_path (target_fd, path);
  if (mount (source, path, fstype, flags, data) < 0)
    return err_make (err, errno, "mount \"%s\" in the container", what);
  return 0;
}

/* A fresh filesystem of FSTYPE on the directory PATH of the container. */
static int
mount_fs (struct runtime_mount_ctx *c, const char *path, const char *fstype,
          unsigned long flags, const char *data, struct error **err)
{
  cleanup_close int fd = runtime_fs_make_target (c->root_fd, path, true, err);

  if (fd < 0)
    return -1;
  return mount_on_fd (fstype, fd, fstype, flags, data, path, err);
}

/* Bind host path SOURCE on PATH of the container, then add FLAGS. */
static int
bind_host (struct runtime_mount_ctx *c, const char *source, const char *path,
           bool is_recursive, unsigned long flags, struct error **err)
{
  cleanup_close int src = open (source, O_PATH | O_CLOEXEC);
  cleanup_close int tgt = -1, mnt = -1;
  char src_path[RUNTIME_FD_PATH_MAX];
  struct stat st;

  if (src < 0 || fstat (src, &st) < 0)
    return err_make (err, errno, "bind mount source \"%s\"", source);
  tgt = runtime_fs_make_target (c->root_fd, path, S_ISDIR (st.st_mode), err);
  if (tgt < 0)
    return -1;
  runtime_fs_fd_path (src, src_path);
  if (mount_on_fd (src_path, tgt, NULL, MS_BIND | (is_recursive ? MS_REC : 0), NULL, path,
                   err) < 0)
    return err_wrap (err, "bind \"%s\"", source);
  if (flags == 0)
    return 0;
  /* The new mount, not the directory under it. */
  mnt = runtime_fs_open_in_root (c->root_fd, path, O_PATH, 0);
  if (mnt < 0)
    return err_make (err, errno, "open \"%s\" in the container", path);
  return runtime_fs_remount (mnt, flags, is_recursive, path, err);
}

/* ---- the child: system mounts -------------------------------------------- */

static int
mount_proc (struct runtime_mount_ctx *c, struct error **err)
{
  return mount_fs (c, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
}

static int
mount_sys (struct runtime_mount_ctx *c, struct error **err)
{
  unsigned long ro = c->spec->is_privileged ? 0 : MS_RDONLY;
  cleanup_close int fd = runtime_fs_make_target (c->root_fd, "/sys", true, err);
  char path[RUNTIME_FD_PATH_MAX];

  if (fd < 0)
    return -1;
  runtime_fs_fd_path (fd, path);
  if (!runtime_fallback_forced ("sysfs")
      && mount ("sysfs", path, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | ro, NULL) == 0)
    return 0;
  if (errno != EPERM && errno != EACCES && !runtime_fallback_forced ("sysfs"))
    return err_make (err, errno, "mount \"/sys\" in the container");
  return bind_host (c, "/sys", "/sys", true, ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
}

/* Host nodes that are safe to share; bound onto empty files. */
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

static const struct
{
  const char *name;
  const char *target;
} dev_links[] = {
  { "fd", "/proc/self/fd" },
  { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" },
  { "stderr", "/proc/self/fd/2" },
  { "ptmx", "pts/ptmx" },
};

static int
bind_dev_node (int dev_fd, const char *name, struct error **err)
{
  cleanup_free char *source = xasprintf ("/dev/%s", name);
  cleanup_close int fd = -1;
  int tmp = openat (dev_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);

  if (tmp < 0)
    return err_make (err, errno, "create \"/dev/%s\" in the container", name);
  close (tmp);
  fd = openat (dev_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_make (err, errno, "open \"/dev/%s\" in the container", name);
  return mount_on_fd (source, fd, NULL, MS_BIND, NULL, source, err);
}

static int
mount_dev (struct runtime_mount_ctx *c, struct error **err)
{
  cleanup_close int dev = -1;

  if (mount_fs (c, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
                err) < 0)
    return -1;
  dev = runtime_fs_open_in_root (c->root_fd, "/dev", O_PATH | O_DIRECTORY, 0);
  if (dev < 0)
    return err_make (err, errno, "open \"/dev\" in the container");
  for (size_t i = 0; i < sizeof dev_nodes / sizeof dev_nodes[0]; i++)
    if (bind_dev_node (dev, dev_nodes[i], err) < 0)
      return -1;
  for (size_t i = 0; i < sizeof dev_links / sizeof dev_links[0]; i++)
    if (symlinkat (dev_links[i].target, dev, dev_links[i].name) < 0)
      return err_make (err, errno, "create the symlink \"/dev/%s\"", dev_links[i].name);
  /* Where runtime_process_run() binds the terminal. */
  if (c->spec->process.is_tty)
    {
      int fd = openat (dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

      if (fd < 0)
        return err_make (err, errno, "create \"/dev/console\" in the container");
      close (fd);
    }
  return 0;
}

/* gid=5 is the "tty" group of most images; naming an unmapped group makes
 * the mount fail, so it is asked only when mapped. */
static int
mount_devpts (struct runtime_mount_ctx *c, struct error **err)
{
  const char *data = c->is_gid5_mapped ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
                                       : "newinstance,ptmxmode=0666,mode=0620";

  return mount_fs (c, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, data, err);
}

static int
mount_shm (struct runtime_mount_ctx *c, struct error **err)
{
  uint64_t size = c->spec->shm_size ? c->spec->shm_size : SHM_DEFAULT_SIZE;
  cleanup_free char *data = xasprintf ("mode=1777,size=%" PRIu64, size);

  return mount_fs (c, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data, err);
}

/* mqueue belongs to the IPC namespace, which is always new; should the
 * kernel refuse it anyway, the host's is bound as crun does. */
static int
mount_mqueue (struct runtime_mount_ctx *c, struct error **err)
{
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  cleanup_close int fd = runtime_fs_make_target (c->root_fd, "/dev/mqueue", true, err);
  char path[RUNTIME_FD_PATH_MAX];

  if (fd < 0)
    return -1;
  runtime_fs_fd_path (fd, path);
  if (!runtime_fallback_forced ("mqueue") && mount ("mqueue", path, "mqueue", flags, NULL) == 0)
    return 0;
  return bind_host (c, "/dev/mqueue", "/dev/mqueue", false, 0, err);
}

static bool
is_host_cgroup2 (void)
{
  struct statfs sf;

  return statfs ("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_MAGIC;
}

/* Best effort: nothing in a container needs it to start.  On a cgroup v1
 * host, or with /sys bound from the host, there is nothing to do. */
static int
mount_cgroup (struct runtime_mount_ctx *c, struct error **err)
{
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  cleanup_close int fd = -1;
  struct statfs sf;
  cleanup_error struct error *e = NULL;

  if (!c->has_cgroupns || !is_host_cgroup2 ())
    return 0;
  fd = runtime_fs_open_in_root (c->root_fd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY, 0);
  if (fd < 0 || (fstatfs (fd, &sf) == 0 && sf.f_type == CGROUP2_MAGIC))
    return 0;
  if (mount_on_fd ("cgroup2", fd, "cgroup2",
                   flags | (c->spec->is_privileged ? 0 : MS_RDONLY), NULL, "/sys/fs/cgroup",
                   &e) < 0)
    log_warn ("%s: continuing without it", e->msg);
  return 0;
}

/* ---- the child: files and the user's mounts ------------------------------ */

static int
mount_etc_files (struct runtime_mount_ctx *c, struct error **err)
{
  const struct runtime_etc_files *f = &c->spec->etc_files;
  const struct
  {
    const char *source;
    const char *target;
  } files[] = {
    { f->hosts, "/etc/hosts" },
    { f->resolv_conf, "/etc/resolv.conf" },
    { f->hostname, "/etc/hostname" },
  };

  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (files[i].source && bind_host (c, files[i].source, files[i].target, false, 0, err) < 0)
      return -1;
  return 0;
}

static size_t
path_depth (const char *p)
{
  size_t n = 0;

  for (; *p; p++)
    n += *p == '/';
  return n;
}

/* Parents before children, otherwise in the order given (podman sorts
 * the same way). */
static const struct runtime_mount **
sorted_mounts (const struct runtime_mount *m, size_t n)
{
  const struct runtime_mount **v = xcalloc (n + 1, sizeof *v);

  for (size_t i = 0; i < n; i++)
    {
      size_t j = i;

      while (j > 0 && path_depth (v[j - 1]->destination) > path_depth (m[i].destination))
        {
          v[j] = v[j - 1];
          j--;
        }
      v[j] = &m[i];
    }
  return v;
}

static int
mount_tmpfs (struct runtime_mount_ctx *c, const struct runtime_mount *m, struct error **err)
{
  cleanup_close int tgt = runtime_fs_make_target (c->root_fd, m->destination, true, err);
  cleanup_close int old = -1, mnt = -1;
  unsigned long flags = m->flags | (m->is_readonly ? MS_RDONLY : 0);

  if (tgt < 0)
    return -1;
  /* What the image has there, copied into the tmpfs (podman's tmpcopyup):
   * the tmpfs is mounted writable and made read-only after the copy. */
  if (!m->is_notmpcopyup)
    old = runtime_fs_open_in_root (c->root_fd, m->destination, O_RDONLY | O_DIRECTORY, 0);
  if (mount_on_fd ("tmpfs", tgt, "tmpfs", old >= 0 ? flags & ~MS_RDONLY : flags, m->data,
                   m->destination, err) < 0)
    return -1;
  if (old < 0)
    return 0;
  mnt = runtime_fs_open_in_root (c->root_fd, m->destination, O_RDONLY | O_DIRECTORY, 0);
  if (mnt < 0)
    return err_make (err, errno, "open \"%s\" in the container", m->destination);
  if (runtime_fs_copy_tree (old, mnt, err) < 0)
    return err_wrap (err, "copy the image's \"%s\" into its tmpfs", m->destination);
  if (m->is_readonly)
    return runtime_fs_remount (mnt, MS_RDONLY, false, m->destination, err);
  return 0;
}

static bool
is_empty_dir (int fd)
{
  int dup = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  struct dirent *de;

  if (d == NULL)
    {
      if (dup >= 0)
        close (dup);
      return false;
    }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return false;
  return true;
}

/* A new volume gets what the image has at its destination, and that
 * directory's owner and mode, before it hides it (docker's and podman's
 * copy-up).  Only an empty volume is filled, so a start that failed after
 * the copy does not copy twice and the image's files never mix with data.
 * We are root of the container's user namespace here, so the copies keep
 * the image's owners. */
static int
copy_up_volume (struct runtime_mount_ctx *c, const struct runtime_mount *m, struct error **err)
{
  cleanup_close int old = runtime_fs_open_in_root (c->root_fd, m->destination,
                                                   O_RDONLY | O_DIRECTORY, 0);
  cleanup_close int vol = -1;
  struct stat st;

  if (old < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return 0;
      return err_make (err, errno, "open \"%s\" in the container", m->destination);
    }
  vol = open (m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (vol < 0)
    return err_make (err, errno, "open volume directory \"%s\"", m->source);
  if (!is_empty_dir (vol))
    return 0;
  if (fstat (old, &st) < 0)
    return err_make (err, errno, "stat \"%s\" in the container", m->destination);
  if (runtime_fs_copy_tree (old, vol, err) < 0)
    return err_wrap (err, "copy the image's \"%s\" into its volume", m->destination);
  if (fchown (vol, st.st_uid, st.st_gid) < 0 || fchmod (vol, st.st_mode & 07777) < 0)
    return err_make (err, errno, "set the owner and mode of the volume on \"%s\"",
                     m->destination);
  return 0;
}

static int
mount_bind (struct runtime_mount_ctx *c, const struct runtime_mount *m, struct error **err)
{
  unsigned long flags = m->flags | (m->is_readonly ? MS_RDONLY : 0);
  cleanup_close int mnt = -1;
  char path[RUNTIME_FD_PATH_MAX];

  if (m->is_copy_up && copy_up_volume (c, m, err) < 0)
    return -1;
  if (bind_host (c, m->source, m->destination, !m->is_nonrecursive, flags, err) < 0)
    return -1;
  if (m->propagation == 0)
    return 0;
  mnt = runtime_fs_open_in_root (c->root_fd, m->destination, O_PATH, 0);
  if (mnt < 0)
    return err_make (err, errno, "open \"%s\" in the container", m->destination);
  runtime_fs_fd_path (mnt, path);
  if (mount (NULL, path, NULL, m->propagation, NULL) < 0)
    return err_make (err, errno, "set the propagation of \"%s\"", m->destination);
  return 0;
}

static int
mount_user_mounts (struct runtime_mount_ctx *c, struct error **err)
{
  cleanup_free const struct runtime_mount **v = sorted_mounts (c->spec->mounts,
                                                               c->spec->n_mounts);

  for (size_t i = 0; v[i]; i++)
    {
      int r;

      switch (v[i]->type)
        {
        case RUNTIME_MOUNT_BIND:
          r = mount_bind (c, v[i], err);
          break;
        case RUNTIME_MOUNT_TMPFS:
          r = mount_tmpfs (c, v[i], err);
          break;
        default:
          r = err_make (err, 0, "volume \"%s\" on \"%s\" was not resolved to a bind mount",
                        v[i]->source ? v[i]->source : "(anonymous)", v[i]->destination);
          break;
        }
      if (r < 0)
        return -1;
    }
  return 0;
}

/* ---- the child: masked and read-only paths ------------------------------- */

/* podman's defaults (containers/common pkg/config). */
static const char *const masked_paths[] = {
  "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
  "/sys/dev/block", "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
  "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

const char *const *
runtime_masked_paths (size_t *n)
{
  *n = sizeof masked_paths / sizeof masked_paths[0];
  return masked_paths;
}

const char *const *
runtime_readonly_paths (size_t *n)
{
  *n = sizeof readonly_paths / sizeof readonly_paths[0];
  return readonly_paths;
}

/* A directory gets an empty read-only tmpfs, anything else /dev/null. */
static int
mask_paths (struct runtime_mount_ctx *c, struct error **err)
{
  if (c->spec->is_privileged)
    return 0;
  for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++)
    {
      cleanup_close int fd = runtime_fs_open_in_root (c->root_fd, masked_paths[i], O_PATH, 0);
      struct stat st;
      int r;

      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0 || fstat (fd, &st) < 0)
        return err_make (err, errno, "mask \"%s\"", masked_paths[i]);
      if (S_ISDIR (st.st_mode))
        r = mount_on_fd ("tmpfs", fd, "tmpfs", MS_RDONLY, NULL, masked_paths[i], err);
      else
        r = mount_on_fd ("/dev/null", fd, NULL, MS_BIND, NULL, masked_paths[i], err);
      if (r < 0)
        return -1;
    }
  return 0;
}

static int
readonly_paths_step (struct runtime_mount_ctx *c, struct error **err)
{
  if (c->spec->is_privileged)
    return 0;
  for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++)
    {
      const char *p = readonly_paths[i];
      cleanup_close int fd = runtime_fs_open_in_root (c->root_fd, p, O_PATH, 0);
      cleanup_close int mnt = -1;
      char path[RUNTIME_FD_PATH_MAX];

      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        return err_make (err, errno, "open \"%s\" in the container", p);
      runtime_fs_fd_path (fd, path);
      if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return err_make (err, errno, "bind \"%s\" onto itself", p);
      mnt = runtime_fs_open_in_root (c->root_fd, p, O_PATH, 0);
      if (mnt < 0)
        return err_make (err, errno, "open \"%s\" in the container", p);
      if (runtime_fs_remount (mnt, MS_RDONLY, true, p, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- the steps ---------------------------------------------------------- */

int
runtime_mounts_rootfs (struct runtime_mount_ctx *c, struct error **err)
{
  cleanup_free char *path = NULL;
  int fd;

  if (c->spec->mount_rootfs (c->spec->rootfs_data, &path, err) < 0)
    return err_wrap (err, "mount the container's root filesystem");
  /* A mount program (fuse-overlayfs) left its daemon in this namespace.
   * pivot_root moves the root of every process whose root is the old one,
   * and the daemon would then look up its own paths (/proc/self/fd/N)
   * through the file system it serves, and hang.  The container gets a
   * namespace of its own; the daemon keeps this one and its root. */
  if (unshare (CLONE_NEWNS) < 0)
    return err_make (err, errno, "create the container's mount namespace");
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return err_make (err, errno, "bind the root filesystem \"%s\" onto itself", path);
  fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return err_make (err, errno, "open the root filesystem \"%s\"", path);
  c->root_fd = fd;
  c->rootfs = steal_ptr (&path);
  return 0;
}

static const struct
{
  const char *name;
  int (*fn) (struct runtime_mount_ctx *c, struct error **err);
} setup_steps[] = {
  { "proc", mount_proc },
  { "sys", mount_sys },
  { "dev", mount_dev },
  { "devpts", mount_devpts },
  { "shm", mount_shm },
  { "mqueue", mount_mqueue },
  { "cgroup", mount_cgroup },
  { "etc files", mount_etc_files },
  { "volumes", mount_user_mounts },
  { "masked paths", mask_paths },
  { "read-only paths", readonly_paths_step },
};

int
runtime_mounts_setup (struct runtime_mount_ctx *c, struct error **err)
{
  for (size_t i = 0; i < sizeof setup_steps / sizeof setup_steps[0]; i++)
    {
      if (setup_steps[i].fn (c, err) < 0)
        return -1;
      log_debug ("container root \"%s\": %s mounted", c->rootfs, setup_steps[i].name);
    }
  return 0;
}

/* pivot_root(".", ".") stacks the old root on the new one; detaching it
 * then leaves only the new root (pivot_root(2), "pivot_root(".", ".")").
 * "/" was made a slave by userns_spawn(), so the detach stays with us. */
int
runtime_mounts_pivot (struct runtime_mount_ctx *c, struct error **err)
{
  cleanup_close int root = -1;

  if (fchdir (c->root_fd) < 0)
    return err_make (err, errno, "change into the root filesystem \"%s\"", c->rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return err_make (err, errno, "pivot_root into \"%s\"", c->rootfs);
  if (umount2 (".", MNT_DETACH) < 0)
    return err_make (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return err_make (err, errno, "change into the new root");
  if (!c->spec->is_readonly_rootfs)
    return 0;
  root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return err_make (err, errno, "open the new root");
  return runtime_fs_remount (root, MS_RDONLY, false, "/", err);
}
