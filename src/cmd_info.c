/* skiff info: what skiff sees of the host and its store, in podman info's
 * shape: YAML-style text by default, JSON with --format json or
 * "{{json .}}", and simple field templates such as
 * "{{.Store.GraphDriverName}}" (fields match JSON keys ignoring case, as
 * Go's do for podman).  It reads only: the store is counted, not created;
 * the overlay probe may create the store root to probe in. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "net/net.h"
#include "storage/storage.h"
#include "userns.h"

#define OS_RELEASE_MAX (64 * 1024)

/* ---- host facts --------------------------------------------------------- */

/* uname's machine names as Go (and so podman) spells architectures. */
static const char *
go_arch (const char *machine)
{
  static const struct
  {
    const char *uname, *go;
  } arches[] = {
    { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" },
    { "armv6l", "arm" },   { "i686", "386" },      { "i386", "386" },
    { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
  };

  for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
    if (strcmp (machine, arches[i].uname) == 0)
      return arches[i].go;
  return machine;
}

/* The value of KEY in os-release(5) text: one KEY=VALUE per line, the
 * value possibly in single or double quotes.  NULL when absent. */
static char *
os_release_value (const char *data, const char *key)
{
  size_t klen = strlen (key);

  for (const char *line = data; line && *line;)
    {
      const char *end = strchrnul (line, '\n');

      if ((size_t) (end - line) > klen && strncmp (line, key, klen) == 0 && line[klen] == '=')
        {
          const char *v = line + klen + 1;
          size_t vlen = (size_t) (end - v);

          if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0])
            return xstrndup (v + 1, vlen - 2);
          return xstrndup (v, vlen);
        }
      line = *end ? end + 1 : NULL;
    }
  return NULL;
}

static void
add_string (json_object *o, const char *key, const char *value)
{
  json_object_object_add (o, key, json_object_new_string (value ? value : ""));
}

static json_object *
distribution_json (void)
{
  json_object *o = json_object_new_object ();
  cleanup_error struct error *err = NULL;
  cleanup_free char *data = fs_read_file ("/etc/os-release", OS_RELEASE_MAX, NULL, &err);
  cleanup_free char *id = NULL, *version = NULL, *codename = NULL;

  if (data == NULL)
    {
      err_release (&err);
      data = fs_read_file ("/usr/lib/os-release", OS_RELEASE_MAX, NULL, &err);
    }
  if (data)
    {
      id = os_release_value (data, "ID");
      version = os_release_value (data, "VERSION_ID");
      codename = os_release_value (data, "VERSION_CODENAME");
    }
  add_string (o, "distribution", id);
  add_string (o, "version", version);
  add_string (o, "codename", codename);
  return o;
}

static bool
is_fs_type (const char *path, long type)
{
  struct statfs s;

  return statfs (path, &s) == 0 && (long) s.f_type == type;
}

/* v2: the unified hierarchy at /sys/fs/cgroup; hybrid: v1 controllers with
 * the unified hierarchy beside them (systemd's hybrid mode); v1 otherwise. */
static const char *
cgroup_version (void)
{
  if (is_fs_type ("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
    return "v2";
  if (is_fs_type ("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
    return "hybrid";
  return "v1";
}

static json_object *
idmap_json (const struct userns_idmap *m)
{
  json_object *a = json_object_new_array ();

  for (size_t i = 0; i < m->n; i++)
    {
      json_object *e = json_object_new_object ();
      json_object_object_add (e, "container_id", json_object_new_int64 (m->entries[i].container_id));
      json_object_object_add (e, "host_id", json_object_new_int64 (m->entries[i].host_id));
      json_object_object_add (e, "size", json_object_new_int64 (m->entries[i].size));
      json_object_array_add (a, e);
    }
  return a;
}

static json_object *
id_mappings_json (const struct userns_config *cfg)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "gidmap", idmap_json (&cfg->gidmap));
  json_object_object_add (o, "uidmap", idmap_json (&cfg->uidmap));
  return o;
}

static json_object *
fuse_overlayfs_json (void)
{
  json_object *o = json_object_new_object ();
  cleanup_free char *path = storage_fuse_overlayfs_path ();

  add_string (o, "path", path);
  json_object_object_add (o, "available",
                          json_object_new_boolean (path != NULL && storage_fuse_usable ()));
  return o;
}

static char *
uptime_text (long seconds)
{
  return xasprintf ("%ldh %ldm %ld.00s", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

static void
add_resources (json_object *host)
{
  struct sysinfo si;
  cleanup_free char *up = NULL;

  json_object_object_add (host, "cpus", json_object_new_int64 (sysconf (_SC_NPROCESSORS_ONLN)));
  if (sysinfo (&si) < 0)
    return;
  json_object_object_add (host, "memTotal", json_object_new_int64 ((int64_t) si.totalram * si.mem_unit));
  json_object_object_add (host, "memFree", json_object_new_int64 ((int64_t) si.freeram * si.mem_unit));
  json_object_object_add (host, "swapTotal", json_object_new_int64 ((int64_t) si.totalswap * si.mem_unit));
  json_object_object_add (host, "swapFree", json_object_new_int64 ((int64_t) si.freeswap * si.mem_unit));
  up = uptime_text (si.uptime);
  add_string (host, "uptime", up);
}

static json_object *
host_json (const struct skiff_context *ctx, const struct userns_config *cfg,
           bool is_kernel_overlay_ok)
{
  json_object *host = json_object_new_object ();
  json_object *security = json_object_new_object ();
  json_object *slirp = json_object_new_object ();
  struct utsname u;

  uname (&u);
  add_string (host, "arch", go_arch (u.machine));
  add_string (host, "os", "linux");
  add_string (host, "kernel", u.release);
  add_string (host, "hostname", u.nodename);
  json_object_object_add (host, "distribution", distribution_json ());
  add_string (host, "cgroupVersion", cgroup_version ());
  add_resources (host);
  json_object_object_add (security, "rootless", json_object_new_boolean (ctx->is_rootless));
  json_object_object_add (host, "security", security);
  json_object_object_add (host, "idMappings", id_mappings_json (cfg));
  add_string (slirp, "version", net_slirp_version ());
  json_object_object_add (host, "slirp", slirp);
  json_object_object_add (host, "fuseOverlayfs", fuse_overlayfs_json ());
  json_object_object_add (host, "kernelOverlayInUserns",
                          json_object_new_boolean (is_kernel_overlay_ok));
  return host;
}

/* ---- store facts -------------------------------------------------------- */

/* Subdirectories of ROOT/NAME not starting with '.'; 0 when it is absent. */
static int64_t
count_entries (const char *root, const char *name)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, name);
  cleanup_dir DIR *d = opendir (path);
  struct dirent *e;
  int64_t n = 0;

  if (d == NULL)
    return 0;
  while ((e = readdir (d)) != NULL)
    {
      struct stat st;

      if (e->d_name[0] == '.')
        continue;
      if (e->d_type == DT_DIR
          || (e->d_type == DT_UNKNOWN && fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
              && S_ISDIR (st.st_mode)))
        n++;
    }
  return n;
}

static json_object *
count_json (const char *root, const char *name)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "number", json_object_new_int64 (count_entries (root, name)));
  return o;
}

static json_object *
store_json (const struct skiff_context *ctx, const char *driver)
{
  json_object *store = json_object_new_object ();

  add_string (store, "graphRoot", ctx->root);
  add_string (store, "runRoot", ctx->runroot);
  add_string (store, "graphDriverName", driver);
  json_object_object_add (store, "imageStore", count_json (ctx->root, "images"));
  json_object_object_add (store, "containerStore", count_json (ctx->root, "containers"));
  return store;
}

static json_object *
version_json (void)
{
  json_object *v = json_object_new_object ();
  cleanup_free char *osarch = NULL;
  struct utsname u;

  uname (&u);
  osarch = xasprintf ("linux/%s", go_arch (u.machine));
  add_string (v, "APIVersion", PACKAGE_VERSION);
  add_string (v, "Version", PACKAGE_VERSION);
  add_string (v, "BuiltTime", __DATE__ " " __TIME__);
  add_string (v, "OsArch", osarch);
  add_string (v, "Os", "linux");
  return v;
}

static int
info_json (const struct skiff_context *ctx, json_object **out, struct error **err)
{
  struct userns_config cfg;
  const char *driver;
  bool is_kernel_overlay_ok;
  json_object *root;

  if (userns_load_config (ctx->uid, ctx->gid, ctx->is_rootless, &cfg, err) < 0)
    return -1;
  is_kernel_overlay_ok = storage_overlay_probe (ctx->root);
  if (storage_choose_driver (ctx->storage_driver, ctx->root, &driver, err) < 0)
    {
      userns_config_free (&cfg);
      return -1;
    }
  root = json_object_new_object ();
  json_object_object_add (root, "host", host_json (ctx, &cfg, is_kernel_overlay_ok));
  json_object_object_add (root, "store", store_json (ctx, driver));
  json_object_object_add (root, "version", version_json ());
  userns_config_free (&cfg);
  *out = root;
  return 0;
}

/* ---- text output: YAML as podman prints it (keys sorted) ---------------- */

static void
indent_to (struct buf *b, int n)
{
  for (int i = 0; i < n; i++)
    buf_append_char (b, ' ');
}

static bool
looks_like_yaml_keyword (const char *s)
{
  static const char *const words[] = { "true", "false", "yes", "no", "on", "off",
                                       "null", "~", "y", "n" };
  char *end;

  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcasecmp (s, words[i]) == 0)
      return true;
  errno = 0;
  (void) strtod (s, &end);
  return *s && *end == '\0';
}

static bool
needs_single_quotes (const char *s)
{
  size_t len = strlen (s);

  return strchr ("-?:,[]{}#&*!|>'\"%@` \t", s[0]) != NULL || s[len - 1] == ' '
         || strstr (s, ": ") || strstr (s, " #") || s[len - 1] == ':';
}

static void
yaml_string (struct buf *b, const char *s, int indent)
{
  if (*s == '\0')
    buf_append_str (b, "\"\"\n");
  else if (strchr (s, '\n'))
    {
      buf_append_str (b, "|-\n");
      for (const char *line = s; line;)
        {
          const char *end = strchrnul (line, '\n');
          indent_to (b, indent + 2);
          buf_append (b, line, (size_t) (end - line));
          buf_append_char (b, '\n');
          line = *end ? end + 1 : NULL;
        }
    }
  else if (looks_like_yaml_keyword (s))
    buf_printf (b, "\"%s\"\n", s);
  else if (needs_single_quotes (s))
    {
      buf_append_char (b, '\'');
      for (; *s; s++)
        {
          if (*s == '\'')
            buf_append_char (b, '\'');
          buf_append_char (b, *s);
        }
      buf_append_str (b, "'\n");
    }
  else
    buf_printf (b, "%s\n", s);
}

/* A scalar after "key: " or "- ". */
static void
yaml_scalar (struct buf *b, json_object *v, int indent)
{
  switch (json_object_get_type (v))
    {
    case json_type_string:
      yaml_string (b, json_object_get_string (v), indent);
      break;
    case json_type_null:
      buf_append_str (b, "null\n");
      break;
    default:
      buf_printf (b, "%s\n", json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
    }
}

static void yaml_object (struct buf *b, json_object *o, int indent, bool is_inline);

static bool
is_empty_container (json_object *v)
{
  if (json_object_is_type (v, json_type_object))
    return json_object_object_length (v) == 0;
  return json_object_is_type (v, json_type_array) && json_object_array_length (v) == 0;
}

/* Sequences sit at their key's indentation, as podman's YAML has them. */
static void
yaml_array (struct buf *b, json_object *a, int indent)
{
  for (size_t i = 0; i < json_object_array_length (a); i++)
    {
      json_object *item = json_object_array_get_idx (a, i);

      indent_to (b, indent);
      buf_append_str (b, "- ");
      if (json_object_is_type (item, json_type_object) && !is_empty_container (item))
        yaml_object (b, item, indent + 2, true);
      else if (json_object_is_type (item, json_type_object)
               || json_object_is_type (item, json_type_array))
        buf_printf (b, "%s\n", json_object_to_json_string_ext (item, JSON_C_TO_STRING_PLAIN));
      else
        yaml_scalar (b, item, indent);
    }
}

static void
yaml_entry (struct buf *b, const char *key, json_object *v, int indent)
{
  buf_printf (b, "%s:", key);
  if (is_empty_container (v))
    buf_append_str (b, json_object_is_type (v, json_type_array) ? " []\n" : " {}\n");
  else if (json_object_is_type (v, json_type_object))
    {
      buf_append_char (b, '\n');
      yaml_object (b, v, indent + 2, false);
    }
  else if (json_object_is_type (v, json_type_array))
    {
      buf_append_char (b, '\n');
      yaml_array (b, v, indent);
    }
  else
    {
      buf_append_char (b, ' ');
      yaml_scalar (b, v, indent);
    }
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* IS_INLINE: the first key continues a "- " line. */
static void
yaml_object (struct buf *b, json_object *o, int indent, bool is_inline)
{
  size_t n = 0, len = (size_t) json_object_object_length (o);
  cleanup_free const char **keys = xcalloc (len + 1, sizeof *keys);

  json_object_object_foreach (o, key, val)
    {
      (void) val;
      keys[n++] = key;
    }
  qsort (keys, n, sizeof *keys, compare_keys);
  for (size_t i = 0; i < n; i++)
    {
      if (!(is_inline && i == 0))
        indent_to (b, indent);
      yaml_entry (b, keys[i], json_object_object_get (o, keys[i]), indent);
    }
}

/* ---- the command -------------------------------------------------------- */

static int
print_info (json_object *info, const char *format, struct error **err)
{
  cleanup_buf struct buf out = BUF_INIT;

  if (format == NULL)
    yaml_object (&out, info, 0, false);
  else if (strcmp (format, "json") == 0)
    {
      cleanup_free char *s = jobj_to_string (info, true);
      buf_printf (&out, "%s\n", s);
    }
  else if (strstr (format, "{{"))
    {
      if (format_render (info, format, &out, err) < 0)
        return -1;
      buf_append_char (&out, '\n');
    }
  else
    return err_make (err, 0, "unsupported format \"%s\": use json or a template such as "
                     "{{.Store.GraphRoot}}", format);
  fwrite (out.data, 1, out.len, stdout);
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json json_object *info = NULL;
  const char *format = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+f:h", opts, &cmd_info_command, err)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_info_command, argc - optind, 0, 0, err) < 0)
    return -1;
  if (info_json (ctx, &info, err) < 0)
    return -1;
  return print_info (info, format, err);
}

const struct command cmd_info_command = {
  .name = "info",
  .summary = "Display skiff system information",
  .usage = "info [options]",
  .options_help = "  -f, --format string   Change the output format to JSON or a Go template\n",
  .run = run,
};
