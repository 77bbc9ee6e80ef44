/* From a container record to a running process:
 *
 * 1. container_rootfs_init: the storage driver and its request, with the
 *    image's layer directories, top first
 * 2. prepare_etc: hostname, hosts and resolv.conf in the runtime directory
 * 3. build_process / build_mounts: the runtime spec from Config and
 *    HostConfig (argv, env, user, caps, rlimits, binds, volumes, tmpfs)
 * 4. runtime_start with mount_rootfs as the root filesystem callback, run
 *    inside the container's namespaces
 * 5. record the PID and its start time: the container is running */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container_start.h"
#include "context.h"
#include "events.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "sd_listen.h"
#include "sd_notify_relay.h"
#include "storage/storage.h"
#include "volumes.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct start
{
  struct skiff_context *ctx;
  struct container *c;
  struct container_net *net;
  struct container_rootfs rootfs;
  char *etc_hosts, *etc_resolv, *etc_hostname;
  struct runtime_mount *mounts;
  size_t n_mounts;
  struct runtime_rlimit *rlimits;
  size_t n_rlimits;
  char **argv, **env, **group_add;
  char *hostname;
  char *user;
  int join_net_fd; /* --network container:NAME or ns:PATH: the network
                      namespace to join; 0 for none */
};

const char *
container_driver (const struct container *c)
{
  const char *d = jobj_get_string (c->config, "Driver");
  return d ? d : STORAGE_DRIVER_OVERLAY;
}

static char **
json_strv (json_object *a)
{
  char **v = xcalloc (1, sizeof *v);
  for (size_t i = 0; a && json_object_is_type (a, json_type_array)
                     && i < json_object_array_length (a); i++)
    v = strv_append (v, json_object_get_string (json_object_array_get_idx (a, i)));
  return v;
}

static json_object *
cfg_get (struct container *c, const char *section, const char *key)
{
  json_object *v = NULL;
  json_object_object_get_ex (jobj_get_object (c->config, section), key, &v);
  return v;
}

static const char *
cfg_str (struct container *c, const char *section, const char *key)
{
  json_object *v = cfg_get (c, section, key);
  return v && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

static bool
cfg_bool (struct container *c, const char *section, const char *key)
{
  json_object *v = cfg_get (c, section, key);
  return v && json_object_get_boolean (v);
}

/* ---- 1. layers ----------------------------------------------------------- */

static int
lower_dirs (struct skiff_context *ctx, struct container *c, char ***out, struct error **err)
{
  cleanup_storage struct storage_store *store = NULL;
  struct storage_image *img = NULL;
  char **lower;
  size_t n;

  if (storage_open (ctx->root, &store, err) < 0)
    return -1;
  if (storage_image_lookup (store, c->image_id, &img, err) < 0)
    return -1;
  if (img == NULL)
    return err_make (err, 0, "container %.12s: image %s is not in the store any more",
                     c->id, c->image_id);
  n = strv_len (img->layers);
  lower = xcalloc (n + 1, sizeof *lower);
  for (size_t i = 0; i < n; i++)
    {
      lower[n - 1 - i] = storage_layer_diff_path (store, img->layers[i], err);
      if (lower[n - 1 - i] == NULL)
        {
          for (size_t j = 0; j < n; j++)
            free (lower[j]);
          free (lower);
          storage_image_free (img);
          return -1;
        }
    }
  storage_image_free (img);
  *out = lower;
  return 0;
}

int
container_rootfs_init (struct skiff_context *ctx, struct container *c,
                       struct container_rootfs *out, struct error **err)
{
  memset (out, 0, sizeof *out);
  out->driver = storage_rootfs_driver_get (container_driver (c));
  if (out->driver == NULL)
    return err_make (err, 0, "container %.12s: unknown storage driver \"%s\"", c->id,
                     container_driver (c));
  if (lower_dirs (ctx, c, &out->lower, err) < 0)
    return -1;
  out->storage_dir = xasprintf ("%s/storage", c->dir);
  if (fs_mkdir_p (out->storage_dir, 0700, err) < 0)
    return -1;
  out->req.lower_dirs = out->lower;
  out->req.container_dir = out->storage_dir;
  out->req.mount_program = jobj_get_string (c->config, "MountProgram");
  out->req.is_volatile = cfg_bool (c, "HostConfig", "AutoRemove");
  out->req.is_rootless = ctx->is_rootless;
  return 0;
}

void
container_rootfs_clear (struct container_rootfs *r)
{
  strv_free (r->lower);
  free (r->storage_dir);
  memset (r, 0, sizeof *r);
}

static int
mount_rootfs (void *data, char **rootfs_path, struct error **err)
{
  struct start *s = data;
  return storage_rootfs_mount (s->rootfs.driver, &s->rootfs.req, rootfs_path, err);
}

/* ---- 2. /etc files --------------------------------------------------------- */

static int
write_text (const char *path, const char *text, struct error **err)
{
  return fs_write_atomic (path, text, strlen (text), 0644, err);
}

static void
add_resolv_lines (struct buf *b, const char *key, json_object *values)
{
  for (size_t i = 0; values && i < json_object_array_length (values); i++)
    buf_printf (b, "%s %s\n", key, json_object_get_string (json_object_array_get_idx (values, i)));
}

static int
prepare_resolv (struct start *s, struct error **err)
{
  json_object *dns = cfg_get (s->c, "HostConfig", "Dns");
  json_object *search = cfg_get (s->c, "HostConfig", "DnsSearch");
  json_object *opts = cfg_get (s->c, "HostConfig", "DnsOptions");
  cleanup_buf struct buf b = BUF_INIT;
  cleanup_free char *host = fs_read_file ("/etc/resolv.conf", 1 << 20, NULL, NULL);

  if (search && json_object_array_length (search) > 0)
    {
      buf_append_str (&b, "search");
      for (size_t i = 0; i < json_object_array_length (search); i++)
        buf_printf (&b, " %s", json_object_get_string (json_object_array_get_idx (search, i)));
      buf_append_char (&b, '\n');
    }
  if (dns && json_object_array_length (dns) > 0)
    add_resolv_lines (&b, "nameserver", dns);
  else if (s->net && s->net->mode.kind == NET_MODE_SLIRP)
    {
      /* slirp's resolver forwards to the host's, wherever that listens. */
      char ip[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, &s->net->addrs.dns, ip, sizeof ip);
      buf_printf (&b, "nameserver %s\n", ip);
      if (search == NULL || json_object_array_length (search) == 0)
        {
          cleanup_strv char **lines = str_split (host ? host : "", '\n');
          for (char **l = lines; *l; l++)
            if (str_has_prefix (*l, "search"))
              buf_printf (&b, "%s\n", *l);
        }
    }
  else if (host)
    {
      cleanup_strv char **lines = str_split (host, '\n');
      for (char **l = lines; *l; l++)
        if (str_has_prefix (*l, "nameserver")
            || ((search == NULL || json_object_array_length (search) == 0)
                && str_has_prefix (*l, "search")))
          buf_printf (&b, "%s\n", *l);
    }
  if (opts && json_object_array_length (opts) > 0)
    {
      buf_append_str (&b, "options");
      for (size_t i = 0; i < json_object_array_length (opts); i++)
        buf_printf (&b, " %s", json_object_get_string (json_object_array_get_idx (opts, i)));
      buf_append_char (&b, '\n');
    }
  s->etc_resolv = xasprintf ("%s/resolv.conf", s->c->run_dir);
  return write_text (s->etc_resolv, b.data ? b.data : "", err);
}

static int
prepare_hosts (struct start *s, struct error **err)
{
  json_object *extra = cfg_get (s->c, "HostConfig", "ExtraHosts");
  cleanup_buf struct buf b = BUF_INIT;

  if (cfg_bool (s->c, "HostConfig", "NoHosts"))
    return 0;
  buf_printf (&b, "127.0.0.1\tlocalhost localhost.localdomain localhost4 "
                  "localhost4.localdomain4\n::1\tlocalhost localhost.localdomain localhost6 "
                  "localhost6.localdomain6\n");
  for (size_t i = 0; extra && i < json_object_array_length (extra); i++)
    {
      const char *e = json_object_get_string (json_object_array_get_idx (extra, i));
      const char *colon = strchr (e, ':');
      if (colon == NULL || colon == e || colon[1] == '\0')
        return err_make (err, 0, "invalid --add-host \"%s\": use HOST:IP", e);
      buf_printf (&b, "%s\t%.*s\n", colon + 1, (int) (colon - e), e);
    }
  if (s->net && s->net->mode.kind == NET_MODE_SLIRP)
    {
      char guest[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, &s->net->addrs.guest, guest, sizeof guest);
      inet_ntop (AF_INET, &s->net->addrs.gateway, gw, sizeof gw);
      buf_printf (&b, "%s\t%s %s\n%s\thost.containers.internal host.docker.internal\n", guest,
                  s->hostname, s->c->name, gw);
    }
  else
    buf_printf (&b, "127.0.1.1\t%s %s\n", s->hostname, s->c->name);
  s->etc_hosts = xasprintf ("%s/hosts", s->c->run_dir);
  return write_text (s->etc_hosts, b.data, err);
}

static int
prepare_etc (struct start *s, struct error **err)
{
  cleanup_free char *text = xasprintf ("%s\n", s->hostname);

  if (fs_mkdir_p (s->c->run_dir, 0700, err) < 0)
    return -1;
  s->etc_hostname = xasprintf ("%s/hostname", s->c->run_dir);
  if (write_text (s->etc_hostname, text, err) < 0)
    return -1;
  if (prepare_hosts (s, err) < 0)
    return -1;
  return prepare_resolv (s, err);
}

/* ---- 3. the spec ----------------------------------------------------------- */

char **
container_start_env (struct container *c, const char *hostname, bool is_tty)
{
  char **env = json_strv (cfg_get (c, "Config", "Env"));
  bool has_path = false, has_term = false, has_hostname = false;

  for (char **e = env; *e; e++)
    {
      has_path = has_path || str_has_prefix (*e, "PATH=");
      has_term = has_term || str_has_prefix (*e, "TERM=");
      has_hostname = has_hostname || str_has_prefix (*e, "HOSTNAME=");
    }
  if (!has_path)
    env = strv_append (env, DEFAULT_PATH);
  if (is_tty && !has_term)
    env = strv_append (env, "TERM=xterm");
  if (!has_hostname)
    {
      cleanup_free char *h = xasprintf ("HOSTNAME=%s", hostname);
      env = strv_append (env, h);
    }
  env = strv_append (env, "container=skiff");
  return env;
}

char *
container_start_hostname (struct container *c)
{
  const char *hn = cfg_str (c, "Config", "Hostname");
  return hn && *hn ? xstrdup (hn) : xstrndup (c->id, 12);
}

int
container_start_caps (struct container *c, bool is_privileged, struct runtime_caps *out,
                      struct error **err)
{
  cleanup_strv char **cap_add = json_strv (cfg_get (c, "HostConfig", "CapAdd"));
  cleanup_strv char **cap_drop = json_strv (cfg_get (c, "HostConfig", "CapDrop"));

  return runtime_caps_merge (is_privileged || cfg_bool (c, "HostConfig", "Privileged"),
                             cap_add, cap_drop, out, err);
}

static int
build_argv (struct start *s, struct error **err)
{
  char **ep = json_strv (cfg_get (s->c, "Config", "Entrypoint"));
  char **cmd = json_strv (cfg_get (s->c, "Config", "Cmd"));

  for (char **p = cmd; *p; p++)
    ep = strv_append (ep, *p);
  strv_free (cmd);
  if (ep[0] == NULL)
    {
      strv_free (ep);
      return err_make (err, 0, "no command or entrypoint provided, and no CMD or "
                       "ENTRYPOINT from image");
    }
  s->argv = ep;
  return 0;
}

static int
build_rlimits (struct start *s, struct error **err)
{
  cleanup_strv char **specs = json_strv (cfg_get (s->c, "HostConfig", "Ulimits"));
  size_t n = strv_len (specs);

  s->rlimits = xcalloc (n + 1, sizeof *s->rlimits);
  for (size_t i = 0; i < n; i++)
    if (runtime_rlimit_parse (specs[i], &s->rlimits[s->n_rlimits++], err) < 0)
      return err_wrap (err, "--ulimit");
  return 0;
}

static bool
has_no_new_privs (struct start *s)
{
  cleanup_strv char **opts = json_strv (cfg_get (s->c, "HostConfig", "SecurityOpt"));
  bool on = false;

  for (char **o = opts; *o; o++)
    if (strcmp (*o, "no-new-privileges") == 0 || strcmp (*o, "no-new-privileges:true") == 0
        || strcmp (*o, "no-new-privileges=true") == 0)
      on = true;
    else if (strcmp (*o, "no-new-privileges:false") == 0)
      on = false;
  return on;
}

typedef int (*mount_parser) (const char *spec, struct runtime_mount *out, struct error **err);

static int
add_mounts (struct start *s, const char *key, mount_parser parse, struct error **err)
{
  cleanup_strv char **specs = json_strv (cfg_get (s->c, "HostConfig", key));
  size_t n = strv_len (specs);

  s->mounts = xrealloc (s->mounts, (s->n_mounts + n + 1) * sizeof *s->mounts);
  for (size_t i = 0; i < n; i++)
    {
      struct runtime_mount *m = &s->mounts[s->n_mounts];
      memset (m, 0, sizeof *m);
      if (parse (specs[i], m, err) < 0)
        return -1;
      s->n_mounts++;
      if (m->type == RUNTIME_MOUNT_VOLUME && volumes_resolve (s->ctx, s->c, m, err) < 0)
        return -1;
      if (m->type == RUNTIME_MOUNT_BIND && m->source && m->source[0] != '/')
        {
          char abs[PATH_MAX];
          if (realpath (m->source, abs) == NULL)
            return err_make (err, errno, "bind mount source \"%s\"", m->source);
          free (m->source);
          m->source = xstrdup (abs);
        }
    }
  return 0;
}

/* ENTRY ("KEY=VALUE") into ENV, in place of the image's or the user's
 * KEY: what skiff sets for systemd must be what the container reads. */
static char **
env_put (char **env, const char *entry)
{
  size_t key_len = strcspn (entry, "=") + 1;

  for (char **e = env; *e; e++)
    if (strncmp (*e, entry, key_len) == 0)
      {
        free (*e);
        *e = xstrdup (entry);
        return env;
      }
  return strv_append (env, entry);
}

/* --sdnotify=container: the monitor's relay socket (sd_notify_relay.h),
 * bound at podman's place in the container, where the container's own
 * sd_notify finds it through NOTIFY_SOCKET. */
static void
add_notify_socket (struct start *s)
{
  struct runtime_mount *m;

  if (!sd_notify_relay_wanted (cfg_str (s->c, "HostConfig", "SdNotifyMode")))
    return;
  s->mounts = xrealloc (s->mounts, (s->n_mounts + 2) * sizeof *s->mounts);
  m = &s->mounts[s->n_mounts++];
  *m = (struct runtime_mount) { .type = RUNTIME_MOUNT_BIND,
                                .source = sd_notify_relay_socket_path (s->c->run_dir),
                                .destination = xstrdup (SD_NOTIFY_RELAY_CONTAINER_PATH),
                                .is_nonrecursive = true };
  s->env = env_put (s->env, "NOTIFY_SOCKET=" SD_NOTIFY_RELAY_CONTAINER_PATH);
}

/* Socket activation: systemd's sockets reach the container's process at
 * the numbers systemd gave them (sd_listen.h). */
static void
add_listen_fds (struct start *s, struct runtime_process *p)
{
  const struct sd_listen *l = sd_listen_get ();
  cleanup_strv char **env = sd_listen_env (l);

  for (char **e = env; *e; e++)
    s->env = env_put (s->env, *e);
  p->preserve_fds = l->n_fds;
}

static void
default_user (struct start *s)
{
  const char *user = cfg_str (s->c, "Config", "User");
  const char *userns = cfg_str (s->c, "HostConfig", "UsernsMode");

  if (user && *user)
    s->user = xstrdup (user);
  else if (userns && strcmp (userns, "keep-id") == 0)
    s->user = xasprintf ("%u:%u", (unsigned) s->ctx->uid, (unsigned) s->ctx->gid);
}

static int
build_spec (struct start *s, const struct container_io *io, struct runtime_spec *spec,
            struct error **err)
{
  struct runtime_process *p = &spec->process;
  const char *net = cfg_str (s->c, "HostConfig", "NetworkMode");
  const char *wd = cfg_str (s->c, "Config", "WorkingDir");
  const char *userns = cfg_str (s->c, "HostConfig", "UsernsMode");

  memset (spec, 0, sizeof *spec);
  if (build_argv (s, err) < 0 || build_rlimits (s, err) < 0)
    return -1;
  spec->is_privileged = cfg_bool (s->c, "HostConfig", "Privileged");
  if (container_start_caps (s->c, false, &p->caps, err) < 0)
    return -1;
  if (add_mounts (s, "Binds", runtime_mount_parse_volume, err) < 0
      || add_mounts (s, "Mounts", runtime_mount_parse_mount, err) < 0
      || add_mounts (s, "Tmpfs", runtime_mount_parse_tmpfs, err) < 0)
    return -1;
  s->env = container_start_env (s->c, s->hostname, io->is_tty);
  add_notify_socket (s);
  add_listen_fds (s, p);
  s->group_add = json_strv (cfg_get (s->c, "HostConfig", "GroupAdd"));
  default_user (s);
  p->argv = s->argv;
  p->env = s->env;
  p->cwd = wd && *wd ? wd : "/";
  p->user = s->user;
  p->group_add = s->group_add;
  p->no_new_privs = has_no_new_privs (s);
  p->rlimits = s->rlimits;
  p->n_rlimits = s->n_rlimits;
  p->is_tty = io->is_tty;
  p->tty_rows = io->rows;
  p->tty_cols = io->cols;
  memcpy (p->stdio, io->stdio, sizeof p->stdio);
  spec->init = cfg_bool (s->c, "HostConfig", "Init");
  spec->hostname = s->hostname;
  spec->is_readonly_rootfs = cfg_bool (s->c, "HostConfig", "ReadonlyRootfs");
  spec->is_host_network = s->net ? s->net->mode.kind == NET_MODE_HOST
                                  : (net && strcmp (net, "host") == 0);
  spec->join_net_fd = s->join_net_fd;
  if (s->net && (s->net->mode.kind == NET_MODE_SLIRP || s->net->mode.kind == NET_MODE_NONE))
    {
      spec->on_created = container_net_created;
      spec->created_data = s->net;
    }
  spec->keep_id = userns && strcmp (userns, "keep-id") == 0;
  spec->mounts = s->mounts;
  spec->n_mounts = s->n_mounts;
  spec->etc_files.hosts = s->etc_hosts;
  spec->etc_files.resolv_conf = s->etc_resolv;
  spec->etc_files.hostname = s->etc_hostname;
  spec->mount_rootfs = mount_rootfs;
  spec->rootfs_data = s;
  return 0;
}

static void
start_clear (struct start *s)
{
  container_rootfs_clear (&s->rootfs);
  free (s->etc_hosts);
  free (s->etc_resolv);
  free (s->etc_hostname);
  if (s->join_net_fd > 0)
    close (s->join_net_fd);
  for (size_t i = 0; i < s->n_mounts; i++)
    runtime_mount_clear (&s->mounts[i]);
  free (s->mounts);
  free (s->rlimits);
  strv_free (s->argv);
  strv_free (s->env);
  strv_free (s->group_add);
  free (s->hostname);
  free (s->user);
}

static int
userns_for (struct start *s, const struct runtime_spec *spec, struct userns_config *keep,
            const struct userns_config **out, struct error **err)
{
  const struct userns_config *cfg = context_userns (s->ctx, err);

  if (cfg == NULL)
    return -1;
  if (!spec->keep_id)
    {
      *out = cfg;
      return 0;
    }
  if (userns_config_keep_id (cfg, keep, err) < 0)
    return -1;
  *out = keep;
  return 0;
}

/* The network namespace at PATH, opened to be joined (userns_spawn_join()
 * enters the user namespace owning it first).  Rootless, one owned by the
 * host's user namespace is refused with the reason: entering it takes
 * privileges; a container's (or any namespace a user namespace of ours
 * owns) can be joined.  WHAT names the option in errors. */
static int
open_net_ns (struct start *s, const char *path, const char *what, struct error **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_close int user = -1;
  struct stat theirs, ours;

  if (fd < 0)
    return err_make (err, errno, "%s: open \"%s\"", what, path);
  if (ioctl (fd, NS_GET_NSTYPE) != CLONE_NEWNET)
    return err_make (err, 0, "%s: \"%s\" is not a network namespace", what, path);
  user = ioctl (fd, NS_GET_USERNS);
  if (user < 0)
    return err_make (err, errno, "%s: find the user namespace owning \"%s\"", what, path);
  if (s->ctx->is_rootless && fstat (user, &theirs) == 0
      && stat ("/proc/self/ns/user", &ours) == 0 && theirs.st_dev == ours.st_dev
      && theirs.st_ino == ours.st_ino)
    return err_make (err, 0, "%s: \"%s\" belongs to the host's user namespace, which a "
                     "rootless container cannot enter; join one that a user namespace of "
                     "yours owns, such as a running container's (/proc/PID/ns/net)",
                     what, path);
  return steal_fd (&fd);
}

/* --network ns:PATH: that network namespace, inside the user namespace
 * owning it, whose maps are then the container's: with keep-id the
 * container would get IDs other than it asked for. */
static int
resolve_net_ns (struct start *s, struct error **err)
{
  const char *userns = cfg_str (s->c, "HostConfig", "UsernsMode");
  cleanup_free char *what = xasprintf ("--network ns:%s", s->net->mode.target);

  if (userns && strcmp (userns, "keep-id") == 0)
    return err_make (err, 0, "%s cannot be combined with --userns=keep-id", what);
  s->join_net_fd = open_net_ns (s, s->net->mode.target, what, err);
  return s->join_net_fd < 0 ? -1 : 0;
}

/* --network container:NAME: the running container NAME, whose user and
 * network namespaces the new one shares, and whose resolv.conf it uses.
 * Its user namespace has the plain maps, so keep-id on either side would
 * give the new container IDs other than it asked for. */
static int
resolve_net_target (struct start *s, struct error **err)
{
  cleanup_container struct container *t = NULL;
  cleanup_free char *resolv = NULL, *path = NULL, *what = NULL;
  const char *name = s->net->mode.target;
  const char *userns = cfg_str (s->c, "HostConfig", "UsernsMode");
  const char *t_userns;

  if (container_require (s->ctx, name, &t, err) < 0)
    return -1;
  if (t->state.status != CONTAINER_RUNNING || t->state.pid <= 0)
    return err_make (err, 0, "--network container:%s: container %s is not running", name,
                     name);
  t_userns = cfg_str (t, "HostConfig", "UsernsMode");
  if ((userns && strcmp (userns, "keep-id") == 0)
      || (t_userns && strcmp (t_userns, "keep-id") == 0))
    return err_make (err, 0, "--network container:%s cannot be combined with "
                     "--userns=keep-id on either container", name);
  path = xasprintf ("/proc/%d/ns/net", (int) t->state.pid);
  what = xasprintf ("--network container:%s", name);
  s->join_net_fd = open_net_ns (s, path, what, err);
  if (s->join_net_fd < 0)
    return -1;
  resolv = xasprintf ("%s/resolv.conf", t->run_dir);
  if (access (resolv, F_OK) == 0)
    {
      free (s->etc_resolv);
      s->etc_resolv = steal_ptr (&resolv);
    }
  return 0;
}

static int
launch (struct start *s, const struct container_io *io, struct runtime_proc *out,
        struct error **err)
{
  struct runtime_spec spec;
  struct userns_config keep = { 0 };
  const struct userns_config *cfg = NULL;
  int r;

  if (container_rootfs_init (s->ctx, s->c, &s->rootfs, err) < 0 || prepare_etc (s, err) < 0)
    return -1;
  if (s->net && s->net->mode.kind == NET_MODE_CONTAINER && resolve_net_target (s, err) < 0)
    return -1;
  if (s->net && s->net->mode.kind == NET_MODE_NS && resolve_net_ns (s, err) < 0)
    return -1;
  if (build_spec (s, io, &spec, err) < 0)
    return -1;
  if (userns_for (s, &spec, &keep, &cfg, err) < 0)
    return -1;
  r = runtime_start (cfg, &spec, out, err);
  userns_config_free (&keep);
  if (r == 0)
    volumes_copy_up_done (s->ctx, s->c);
  return r;
}

int
container_start_process (struct skiff_context *ctx, struct container *c,
                         const struct container_io *io, struct container_net *net,
                         pid_t monitor_pid, struct runtime_proc *out, struct error **err)
{
  struct start s = { .ctx = ctx, .c = c, .net = net };
  int r;

  s.hostname = container_start_hostname (c);
  r = launch (&s, io, out, err);
  start_clear (&s);
  free (c->state.error);
  c->state.error = NULL;
  if (r < 0)
    {
      c->state.error = err_text (*err);
      if (c->state.status != CONTAINER_EXITED)
        c->state.status = CONTAINER_CREATED;
      if (container_state_save (c, NULL) < 0)
        log_warn ("container %.12s: cannot record the failed start", c->id);
      return -1;
    }
  c->state.status = CONTAINER_RUNNING;
  c->state.pid = out->pid;
  c->state.pid_start = container_pid_start_time (out->pid);
  c->state.monitor_pid = monitor_pid;
  c->state.started_at = container_now_ns ();
  c->state.finished_at = 0;
  c->state.exit_code = 0;
  json_object_put (c->state.network);
  c->state.network = net ? container_net_settings (net) : NULL;
  return container_state_save (c, err);
}

int
container_remove (struct skiff_context *ctx, struct container *c, struct error **err)
{
  if (container_delete_record (ctx, c, err) < 0)
    return -1;
  events_container (ctx, c, "remove");
  return container_purge_trash (ctx, err);
}
