/* run/create option parsing and the creation config.  The option table is
 * data; each flag lands in struct run_opts, and run_opts_to_config() is the
 * one place that knows how docker combines image and flags. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "net/net.h"
#include "run_opts.h"
#include "storage/storage.h"

extern char **environ;

enum
{
  O_ENTRYPOINT = 1000, O_ENV_FILE, O_ENV_HOST, O_GROUP_ADD, O_INIT, O_LABEL_FILE, O_MOUNT,
  O_NAME, O_NETWORK, O_PULL, O_READ_ONLY, O_REPLACE, O_RESTART, O_RM, O_TMPFS, O_CAP_ADD,
  O_CAP_DROP, O_PRIVILEGED, O_SECURITY_OPT, O_ULIMIT, O_CIDFILE, O_LOG_DRIVER, O_LOG_OPT,
  O_STOP_SIGNAL, O_STOP_TIMEOUT, O_USERNS, O_SDNOTIFY, O_EXPOSE, O_DNS, O_DNS_SEARCH,
  O_DNS_OPTION, O_ADD_HOST, O_NO_HOSTS, O_PLATFORM, O_DETACH_KEYS, O_SIG_PROXY, O_HOSTNAME,
  O_CGROUPS,
};

static const struct option run_longopts[] = {
  { "attach", required_argument, NULL, 'a' },
  { "detach", no_argument, NULL, 'd' },
  { "env", required_argument, NULL, 'e' },
  { "hostname", required_argument, NULL, O_HOSTNAME },
  { "interactive", no_argument, NULL, 'i' },
  { "label", required_argument, NULL, 'l' },
  { "publish", required_argument, NULL, 'p' },
  { "publish-all", no_argument, NULL, 'P' },
  { "quiet", no_argument, NULL, 'q' },
  { "tty", no_argument, NULL, 't' },
  { "user", required_argument, NULL, 'u' },
  { "volume", required_argument, NULL, 'v' },
  { "workdir", required_argument, NULL, 'w' },
  { "entrypoint", required_argument, NULL, O_ENTRYPOINT },
  { "env-file", required_argument, NULL, O_ENV_FILE },
  { "env-host", no_argument, NULL, O_ENV_HOST },
  { "group-add", required_argument, NULL, O_GROUP_ADD },
  { "init", no_argument, NULL, O_INIT },
  { "label-file", required_argument, NULL, O_LABEL_FILE },
  { "mount", required_argument, NULL, O_MOUNT },
  { "name", required_argument, NULL, O_NAME },
  { "network", required_argument, NULL, O_NETWORK },
  { "net", required_argument, NULL, O_NETWORK },
  { "pull", required_argument, NULL, O_PULL },
  { "read-only", no_argument, NULL, O_READ_ONLY },
  { "replace", no_argument, NULL, O_REPLACE },
  { "restart", required_argument, NULL, O_RESTART },
  { "rm", no_argument, NULL, O_RM },
  { "tmpfs", required_argument, NULL, O_TMPFS },
  { "cap-add", required_argument, NULL, O_CAP_ADD },
  { "cap-drop", required_argument, NULL, O_CAP_DROP },
  { "privileged", no_argument, NULL, O_PRIVILEGED },
  { "security-opt", required_argument, NULL, O_SECURITY_OPT },
  { "ulimit", required_argument, NULL, O_ULIMIT },
  { "cidfile", required_argument, NULL, O_CIDFILE },
  { "log-driver", required_argument, NULL, O_LOG_DRIVER },
  { "log-opt", required_argument, NULL, O_LOG_OPT },
  { "stop-signal", required_argument, NULL, O_STOP_SIGNAL },
  { "stop-timeout", required_argument, NULL, O_STOP_TIMEOUT },
  { "userns", required_argument, NULL, O_USERNS },
  { "sdnotify", required_argument, NULL, O_SDNOTIFY },
  { "cgroups", required_argument, NULL, O_CGROUPS },
  { "expose", required_argument, NULL, O_EXPOSE },
  { "dns", required_argument, NULL, O_DNS },
  { "dns-search", required_argument, NULL, O_DNS_SEARCH },
  { "dns-option", required_argument, NULL, O_DNS_OPTION },
  { "dns-opt", required_argument, NULL, O_DNS_OPTION },
  { "add-host", required_argument, NULL, O_ADD_HOST },
  { "no-hosts", no_argument, NULL, O_NO_HOSTS },
  { "platform", required_argument, NULL, O_PLATFORM },
  { "detach-keys", required_argument, NULL, O_DETACH_KEYS },
  { "sig-proxy", optional_argument, NULL, O_SIG_PROXY },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

void
run_opts_clear (struct run_opts *o)
{
  char **vecs[] = { o->attach, o->env, o->env_files, o->group_add, o->labels, o->label_files,
                    o->volumes, o->mounts, o->tmpfs, o->cap_add, o->cap_drop,
                    o->security_opts, o->ulimits, o->publish, o->expose, o->dns,
                    o->dns_search, o->dns_options, o->add_hosts, o->log_opts, o->command };
  char *strs[] = { o->name, o->pull, o->cidfile, o->platform, o->detach_keys, o->entrypoint,
                   o->hostname, o->user, o->workdir, o->network, o->restart, o->log_driver,
                   o->stop_signal, o->userns, o->sdnotify, o->cgroups, o->image };

  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
    strv_free (vecs[i]);
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    free (strs[i]);
  memset (o, 0, sizeof *o);
}

static void
set_str (char **dst, const char *v)
{
  free (*dst);
  *dst = xstrdup (v);
}

/* Flags that take a value and may repeat land in a vector. */
static char ***
vector_for (struct run_opts *o, int c)
{
  switch (c)
    {
    case 'a': return &o->attach;
    case 'e': return &o->env;
    case 'l': return &o->labels;
    case 'p': return &o->publish;
    case 'v': return &o->volumes;
    case O_ENV_FILE: return &o->env_files;
    case O_GROUP_ADD: return &o->group_add;
    case O_LABEL_FILE: return &o->label_files;
    case O_MOUNT: return &o->mounts;
    case O_TMPFS: return &o->tmpfs;
    case O_CAP_ADD: return &o->cap_add;
    case O_CAP_DROP: return &o->cap_drop;
    case O_SECURITY_OPT: return &o->security_opts;
    case O_ULIMIT: return &o->ulimits;
    case O_LOG_OPT: return &o->log_opts;
    case O_EXPOSE: return &o->expose;
    case O_DNS: return &o->dns;
    case O_DNS_SEARCH: return &o->dns_search;
    case O_DNS_OPTION: return &o->dns_options;
    case O_ADD_HOST: return &o->add_hosts;
    default: return NULL;
    }
}

/* Flags that take one value: the last one wins. */
static char **
string_for (struct run_opts *o, int c)
{
  switch (c)
    {
    case 'h': case O_HOSTNAME: return &o->hostname;
    case 'u': return &o->user;
    case 'w': return &o->workdir;
    case O_NAME: return &o->name;
    case O_NETWORK: return &o->network;
    case O_PULL: return &o->pull;
    case O_RESTART: return &o->restart;
    case O_CIDFILE: return &o->cidfile;
    case O_LOG_DRIVER: return &o->log_driver;
    case O_STOP_SIGNAL: return &o->stop_signal;
    case O_USERNS: return &o->userns;
    case O_SDNOTIFY: return &o->sdnotify;
    case O_CGROUPS: return &o->cgroups;
    case O_PLATFORM: return &o->platform;
    case O_DETACH_KEYS: return &o->detach_keys;
    default: return NULL;
    }
}

static bool *
flag_for (struct run_opts *o, int c)
{
  switch (c)
    {
    case 'd': return &o->is_detach;
    case 'i': return &o->is_interactive;
    case 't': return &o->is_tty;
    case 'q': return &o->is_quiet;
    case 'P': return &o->is_publish_all;
    case O_ENV_HOST: return &o->is_env_host;
    case O_INIT: return &o->is_init;
    case O_READ_ONLY: return &o->is_read_only;
    case O_REPLACE: return &o->is_replace;
    case O_RM: return &o->is_rm;
    case O_PRIVILEGED: return &o->is_privileged;
    case O_NO_HOSTS: return &o->is_no_hosts;
    default: return NULL;
    }
}

static int
apply_option (struct run_opts *o, int c, struct error **err)
{
  char ***vec = vector_for (o, c);
  char **str = string_for (o, c);
  bool *flag = flag_for (o, c);
  uint64_t n;

  if (vec)
    *vec = strv_append (*vec, optarg);
  else if (str)
    set_str (str, optarg);
  else if (flag)
    *flag = true;
  else if (c == O_ENTRYPOINT)
    {
      set_str (&o->entrypoint, optarg);
      o->has_entrypoint = true;
    }
  else if (c == O_STOP_TIMEOUT)
    {
      if (parse_uint (optarg, 1u << 30, "--stop-timeout", &n, err) < 0)
        return -1;
      o->stop_timeout = (int) n;
    }
  else if (c == O_SIG_PROXY)
    return cli_parse_bool ("sig-proxy", optarg, &o->has_sig_proxy, err);
  else
    return err_make (err, 0, "internal: unhandled option %d", c);
  return 0;
}

/* The streams a foreground run relays: those -a names, else all three
 * (stdin only counts with -i). */
static int
resolve_attach (struct run_opts *o, struct error **err)
{
  bool has_attach = o->attach && o->attach[0];

  if (has_attach && o->is_detach)
    return err_make (err, 0, "conflicting options: -a and -d");
  o->is_attach_stdin = o->is_attach_stdout = o->is_attach_stderr = !has_attach;
  for (char **a = o->attach; a && *a; a++)
    if (strcasecmp (*a, "stdin") == 0)
      o->is_attach_stdin = true;
    else if (strcasecmp (*a, "stdout") == 0)
      o->is_attach_stdout = true;
    else if (strcasecmp (*a, "stderr") == 0)
      o->is_attach_stderr = true;
    else
      return err_make (err, 0, "invalid stream \"%s\" for --attach: must be one of stdin, "
                       "stdout, or stderr", *a);
  return 0;
}

static const char *const sdnotify_modes[] = { "conmon", "container", "ignore", NULL };
/* Accepted and recorded for podman's command lines (generated units pass
 * --cgroups=no-conmon); the monitor has no cgroup of its own either way. */
static const char *const cgroups_modes[] = { "enabled", "disabled", "no-conmon", "split", NULL };

static bool
is_one_of (const char *s, const char *const *set)
{
  for (; *set; set++)
    if (strcmp (s, *set) == 0)
      return true;
  return false;
}

int
run_opts_parse (const struct command *cmd, int argc, char **argv, struct run_opts *o,
                struct error **err)
{
  int c;

  memset (o, 0, sizeof *o);
  o->stop_timeout = -1;
  o->has_sig_proxy = true;
  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+a:de:h:il:p:Pqtu:v:w:", run_longopts, cmd, err)) != -1)
    {
      if (c == CLI_OPT_HELP)
        return 1;
      if (c == CLI_OPT_ERROR)
        return -1;
      if (apply_option (o, c, err) < 0)
        return -1;
    }
  if (optind >= argc)
    return err_make (err, 0, "`skiff %s` requires at least 1 argument\nSee 'skiff %s --help'",
                     cmd->name, cmd->name);
  o->image = xstrdup (argv[optind]);
  o->command = xcalloc (1, sizeof *o->command);
  for (int i = optind + 1; i < argc; i++)
    o->command = strv_append (o->command, argv[i]);
  if (o->sdnotify && !is_one_of (o->sdnotify, sdnotify_modes))
    return err_make (err, 0, "invalid --sdnotify \"%s\": use conmon, container or ignore",
                     o->sdnotify);
  if (o->cgroups && !is_one_of (o->cgroups, cgroups_modes))
    return err_make (err, 0, "invalid --cgroups \"%s\": use enabled, disabled, no-conmon or "
                     "split", o->cgroups);
  if (o->is_detach && o->is_rm && o->restart && strcmp (o->restart, "no") != 0)
    return err_make (err, 0, "the --rm option conflicts with --restart, when the "
                     "restartPolicy is not \"no\"");
  return resolve_attach (o, err);
}

/* ---- building the config ------------------------------------------------ */

static json_object *
strv_json (char *const *v)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

/* KEY=VALUE lines; blank lines and '#' comments skipped, "KEY" alone takes
 * the host's value (docker's env-file rules). */
static int
read_env_file (const char *path, struct buf *out_lines, struct error **err)
{
  cleanup_free char *data = fs_read_file (path, 1 << 20, NULL, err);
  cleanup_strv char **lines = NULL;

  if (data == NULL)
    return err_wrap (err, "--env-file");
  lines = str_split (data, '\n');
  for (char **l = lines; *l; l++)
    {
      char *s = *l;
      while (isspace ((unsigned char) *s))
        s++;
      if (*s == '\0' || *s == '#')
        continue;
      if (s[strlen (s) - 1] == '\r')
        s[strlen (s) - 1] = '\0';
      buf_append_str (out_lines, s);
      buf_append_char (out_lines, '\n');
    }
  return 0;
}

/* Set NAME=VALUE in ENV (a vector), replacing an earlier NAME. */
static char **
env_set (char **env, const char *item)
{
  const char *eq = strchr (item, '=');
  size_t klen = eq ? (size_t) (eq - item) : strlen (item);

  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], item, klen) == 0 && env[i][klen] == '=')
      {
        free (env[i]);
        env[i] = xstrdup (item);
        return env;
      }
  return strv_append (env, item);
}

/* An "-e NAME" with no value takes it from our environment, or is dropped. */
static char **
env_add_arg (char **env, const char *arg, struct error **err, int *bad)
{
  const char *val;

  if (arg[0] == '=' || arg[0] == '\0')
    {
      err_make (err, 0, "invalid environment variable \"%s\": name is empty", arg);
      *bad = 1;
      return env;
    }
  if (strchr (arg, '='))
    return env_set (env, arg);
  val = getenv (arg);
  if (val == NULL)
    return env;
  {
    cleanup_free char *item = xasprintf ("%s=%s", arg, val);
    return env_set (env, item);
  }
}

int
run_opts_env (char *const *base, bool is_env_host, char *const *env_files, char *const *args,
              char ***out, struct error **err)
{
  char **env = xcalloc (1, sizeof *env);
  int bad = 0;

  for (size_t i = 0; base && base[i]; i++)
    env = env_set (env, base[i]);
  if (is_env_host)
    for (char **e = environ; *e; e++)
      env = env_set (env, *e);
  for (size_t f = 0; env_files && env_files[f] && !bad; f++)
    {
      cleanup_buf struct buf lines = BUF_INIT;
      cleanup_strv char **v = NULL;
      if (read_env_file (env_files[f], &lines, err) < 0)
        {
          strv_free (env);
          return -1;
        }
      v = str_split (lines.data ? lines.data : "", '\n');
      for (char **l = v; *l && !bad; l++)
        if (**l)
          env = env_add_arg (env, *l, err, &bad);
    }
  for (size_t i = 0; args && args[i] && !bad; i++)
    env = env_add_arg (env, args[i], err, &bad);
  if (bad)
    {
      strv_free (env);
      return -1;
    }
  *out = env;
  return 0;
}

static int
build_env (const struct run_opts *o, json_object *image_config, char ***out, struct error **err)
{
  json_object *img_env = jobj_get_array (image_config, "Env");
  cleanup_strv char **base = xcalloc (1, sizeof *base);

  for (size_t i = 0; img_env && i < json_object_array_length (img_env); i++)
    base = strv_append (base, json_object_get_string (json_object_array_get_idx (img_env, i)));
  return run_opts_env (base, o->is_env_host, o->env_files, o->env, out, err);
}

static int
add_labels (json_object *labels, char **items, struct error **err)
{
  for (char **l = items; l && *l; l++)
    {
      cleanup_free char *k = NULL, *v = NULL;
      if (parse_kv (*l, true, &k, &v, err) < 0)
        return err_wrap (err, "--label");
      json_object_object_add (labels, k, json_object_new_string (v ? v : ""));
    }
  return 0;
}

static int
build_labels (const struct run_opts *o, json_object *image_config, json_object **out,
              struct error **err)
{
  json_object *img = jobj_get_object (image_config, "Labels");
  cleanup_json json_object *labels = json_object_new_object ();

  if (img)
    {
      json_object_object_foreach (img, k, v)
        json_object_object_add (labels, k, json_object_get (v));
    }
  for (char **f = o->label_files; f && *f; f++)
    {
      cleanup_free char *data = fs_read_file (*f, 1 << 20, NULL, err);
      cleanup_strv char **lines = NULL, **items = NULL;
      if (data == NULL)
        return err_wrap (err, "--label-file");
      lines = str_split (data, '\n');
      items = xcalloc (1, sizeof *items);
      for (char **l = lines; *l; l++)
        if (**l && **l != '#')
          items = strv_append (items, *l);
      if (add_labels (labels, items, err) < 0)
        return -1;
    }
  if (add_labels (labels, o->labels, err) < 0)
    return -1;
  *out = steal_ptr (&labels);
  return 0;
}

/* docker: --entrypoint replaces the image's and drops its Cmd; arguments
 * after the image replace Cmd. */
static void
combine_command (const struct run_opts *o, json_object *image_config, json_object *cfg)
{
  json_object *ep, *cmd;

  if (o->has_entrypoint)
    {
      ep = json_object_new_array ();
      if (o->entrypoint[0])
        json_object_array_add (ep, json_object_new_string (o->entrypoint));
    }
  else
    {
      json_object *img_ep = jobj_get_array (image_config, "Entrypoint");
      ep = img_ep ? json_object_get (img_ep) : json_object_new_array ();
    }
  if (o->command && o->command[0])
    cmd = strv_json (o->command);
  else if (!o->has_entrypoint && jobj_get_array (image_config, "Cmd"))
    cmd = json_object_get (jobj_get_array (image_config, "Cmd"));
  else
    cmd = json_object_new_array ();
  json_object_object_add (cfg, "Entrypoint", ep);
  json_object_object_add (cfg, "Cmd", cmd);
}

static int
parse_restart (const char *s, json_object **out, struct error **err)
{
  json_object *r = json_object_new_object ();
  const char *colon = s ? strchr (s, ':') : NULL;
  cleanup_free char *name = s ? (colon ? xstrndup (s, (size_t) (colon - s)) : xstrdup (s))
                              : xstrdup ("no");
  uint64_t max = 0;

  if (strcmp (name, "no") != 0 && strcmp (name, "always") != 0
      && strcmp (name, "on-failure") != 0 && strcmp (name, "unless-stopped") != 0)
    {
      json_object_put (r);
      return err_make (err, 0, "invalid restart policy \"%s\": use no, on-failure[:max], "
                       "always or unless-stopped", s);
    }
  if (colon && strcmp (name, "on-failure") != 0)
    {
      json_object_put (r);
      return err_make (err, 0, "invalid restart policy \"%s\": only on-failure takes a "
                       "retry count", s);
    }
  if (colon && parse_uint (colon + 1, 1u << 30, "--restart retries", &max, err) < 0)
    {
      json_object_put (r);
      return -1;
    }
  json_object_object_add (r, "Name", json_object_new_string (strcmp (name, "no") ? name : ""));
  json_object_object_add (r, "MaximumRetryCount", json_object_new_int ((int) max));
  *out = r;
  return 0;
}

static void
copy_or (json_object *dst, const char *key, const char *value, json_object *image_config,
         const char *image_key)
{
  const char *v = value ? value : jobj_get_string (image_config, image_key);
  json_object_object_add (dst, key, json_object_new_string (v ? v : ""));
}

static json_object *
log_config (const struct run_opts *o, struct error **err)
{
  json_object *lc = json_object_new_object ();
  json_object *opts = json_object_new_object ();
  const char *driver = o->log_driver ? o->log_driver : "k8s-file";

  json_object_object_add (lc, "Type", json_object_new_string (driver));
  json_object_object_add (lc, "Config", opts);
  if (strcmp (driver, "k8s-file") != 0 && strcmp (driver, "none") != 0
      && strcmp (driver, "passthrough") != 0)
    {
      json_object_put (lc);
      err_make (err, 0, "invalid log driver \"%s\": use k8s-file, none or passthrough", driver);
      return NULL;
    }
  for (char **l = o->log_opts; l && *l; l++)
    {
      cleanup_free char *k = NULL, *v = NULL;
      if (parse_kv (*l, false, &k, &v, err) < 0)
        {
          json_object_put (lc);
          err_wrap (err, "--log-opt");
          return NULL;
        }
      json_object_object_add (opts, k, json_object_new_string (v));
    }
  return lc;
}

/* -p and --network are checked when the container is made, so a typo
 * fails `create` rather than a later `start`. */
static json_object *
port_bindings (const struct run_opts *o, struct error **err)
{
  struct net_ports ports = NET_PORTS_INIT;
  struct net_mode mode;
  json_object *b = NULL;
  int r = net_mode_parse (o->network, &mode, err);

  net_mode_clear (&mode);
  for (char **p = o->publish; r == 0 && p && *p; p++)
    r = net_ports_parse (*p, &ports, err);
  for (char **e = o->expose; r == 0 && e && *e; e++)
    {
      struct net_ports exposed = NET_PORTS_INIT;
      r = net_ports_parse_exposed (*e, &exposed, err);
      net_ports_clear (&exposed);
    }
  if (r == 0)
    b = net_ports_to_bindings (&ports);
  net_ports_clear (&ports);
  return b;
}

static int
host_config (const struct run_opts *o, json_object *hc, struct error **err)
{
  json_object *restart = NULL, *lc, *bindings = port_bindings (o, err);

  if (bindings == NULL)
    return -1;
  if (parse_restart (o->restart, &restart, err) < 0)
    {
      json_object_put (bindings);
      return -1;
    }
  lc = log_config (o, err);
  if (lc == NULL)
    {
      json_object_put (restart);
      json_object_put (bindings);
      return -1;
    }
  json_object_object_add (hc, "RestartPolicy", restart);
  json_object_object_add (hc, "LogConfig", lc);
  json_object_object_add (hc, "Binds", strv_json (o->volumes));
  json_object_object_add (hc, "Mounts", strv_json (o->mounts));
  json_object_object_add (hc, "Tmpfs", strv_json (o->tmpfs));
  json_object_object_add (hc, "NetworkMode", json_object_new_string (o->network ? o->network
                                                                              : "slirp4netns"));
  json_object_object_add (hc, "PortBindings", bindings);
  json_object_object_add (hc, "PublishAllPorts", json_object_new_boolean (o->is_publish_all));
  json_object_object_add (hc, "AutoRemove", json_object_new_boolean (o->is_rm));
  json_object_object_add (hc, "CapAdd", strv_json (o->cap_add));
  json_object_object_add (hc, "CapDrop", strv_json (o->cap_drop));
  json_object_object_add (hc, "Privileged", json_object_new_boolean (o->is_privileged));
  json_object_object_add (hc, "ReadonlyRootfs", json_object_new_boolean (o->is_read_only));
  json_object_object_add (hc, "SecurityOpt", strv_json (o->security_opts));
  json_object_object_add (hc, "Ulimits", strv_json (o->ulimits));
  json_object_object_add (hc, "GroupAdd", strv_json (o->group_add));
  json_object_object_add (hc, "Dns", strv_json (o->dns));
  json_object_object_add (hc, "DnsSearch", strv_json (o->dns_search));
  json_object_object_add (hc, "DnsOptions", strv_json (o->dns_options));
  json_object_object_add (hc, "ExtraHosts", strv_json (o->add_hosts));
  json_object_object_add (hc, "NoHosts", json_object_new_boolean (o->is_no_hosts));
  json_object_object_add (hc, "Init", json_object_new_boolean (o->is_init));
  json_object_object_add (hc, "UsernsMode", json_object_new_string (o->userns ? o->userns : ""));
  json_object_object_add (hc, "SdNotifyMode", json_object_new_string (o->sdnotify ? o->sdnotify
                                                                                : "conmon"));
  json_object_object_add (hc, "CgroupsMode", json_object_new_string (o->cgroups ? o->cgroups
                                                                              : "enabled"));
  return 0;
}

json_object *
run_opts_to_config (const struct run_opts *o, json_object *image_config, const char *image_id,
                    const char *image_name, struct error **err)
{
  cleanup_json json_object *top = json_object_new_object ();
  json_object *cfg = json_object_new_object ();
  json_object *hc = json_object_new_object ();
  json_object *labels = NULL;
  cleanup_strv char **env = NULL;
  json_object *exposed;

  json_object_object_add (top, "Config", cfg);
  json_object_object_add (top, "HostConfig", hc);
  json_object_object_add (top, "Image", json_object_new_string (image_id));
  json_object_object_add (top, "ImageName", json_object_new_string (image_name));
  if (build_env (o, image_config, &env, err) < 0 || build_labels (o, image_config, &labels, err) < 0)
    return NULL;
  combine_command (o, image_config, cfg);
  json_object_object_add (cfg, "Env", strv_json (env));
  json_object_object_add (cfg, "Labels", labels);
  json_object_object_add (cfg, "Image", json_object_new_string (image_name));
  json_object_object_add (cfg, "Hostname", json_object_new_string (o->hostname ? o->hostname : ""));
  copy_or (cfg, "User", o->user, image_config, "User");
  copy_or (cfg, "WorkingDir", o->workdir, image_config, "WorkingDir");
  copy_or (cfg, "StopSignal", o->stop_signal, image_config, "StopSignal");
  json_object_object_add (cfg, "StopTimeout", json_object_new_int (o->stop_timeout >= 0
                                                                       ? o->stop_timeout : 10));
  json_object_object_add (cfg, "Tty", json_object_new_boolean (o->is_tty));
  json_object_object_add (cfg, "OpenStdin", json_object_new_boolean (o->is_interactive));
  json_object_object_add (cfg, "AttachStdin", json_object_new_boolean (o->is_interactive
                                                                          && !o->is_detach
                                                                          && o->is_attach_stdin));
  json_object_object_add (cfg, "AttachStdout", json_object_new_boolean (!o->is_detach
                                                                           && o->is_attach_stdout));
  json_object_object_add (cfg, "AttachStderr", json_object_new_boolean (!o->is_detach
                                                                           && o->is_attach_stderr));
  exposed = json_object_new_object ();
  if (jobj_get_object (image_config, "ExposedPorts"))
    {
      json_object_object_foreach (jobj_get_object (image_config, "ExposedPorts"), k, v)
        json_object_object_add (exposed, k, json_object_get (v));
    }
  for (char **e = o->expose; e && *e; e++)
    {
      cleanup_free char *port = strchr (*e, '/') ? xstrdup (*e) : xasprintf ("%s/tcp", *e);
      json_object_object_add (exposed, port, json_object_new_object ());
    }
  json_object_object_add (cfg, "ExposedPorts", exposed);
  if (jobj_get_object (image_config, "Volumes"))
    json_object_object_add (cfg, "Volumes",
                            json_object_get (jobj_get_object (image_config, "Volumes")));
  if (host_config (o, hc, err) < 0)
    return NULL;
  return steal_ptr (&top);
}

/* The storage driver a new container records (see run_opts.h). */
int
run_opts_choose_driver (struct skiff_context *ctx, json_object *config, struct error **err)
{
  const char *forced = ctx->storage_driver;
  const char *driver = NULL;

  for (char **o = ctx->storage_opts; o && *o; o++)
    if (str_has_prefix (*o, "overlay.mount_program=") || str_has_prefix (*o, "mount_program="))
      {
        json_object_object_add (config, "MountProgram",
                                json_object_new_string (strchr (*o, '=') + 1));
        forced = "fuse-overlayfs";
      }
  if (storage_choose_driver (forced, ctx->root, &driver, err) < 0)
    return -1;
  json_object_object_add (config, "Driver", json_object_new_string (driver));
  return 0;
}
