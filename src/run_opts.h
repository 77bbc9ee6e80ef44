/* The options of `run` and `create`, parsed once, and turned into the
 * container's creation config: docker's "Config" and "HostConfig" objects,
 * which `inspect` prints and `start` reads back. */
#ifndef SKIFF_SRC_RUN_OPTS_H
#define SKIFF_SRC_RUN_OPTS_H

#include <json-c/json.h>
#include <stdbool.h>

#include "cli.h"

struct run_opts
{
  /* what only this invocation uses */
  bool is_detach;
  bool is_interactive;
  bool is_tty;
  bool is_rm;
  bool is_replace;
  bool is_quiet;         /* pull quietly */
  bool has_sig_proxy;    /* --sig-proxy, default true */
  char *name;
  char *pull;            /* always|missing|never|newer */
  char *cidfile;
  char *platform;
  char *detach_keys;
  char **attach;         /* -a stdin|stdout|stderr */
  bool is_attach_stdin;  /* the streams -a names; all three without -a */
  bool is_attach_stdout;
  bool is_attach_stderr;
  /* what the container keeps */
  char **env;            /* -e, in order */
  char **env_files;
  bool is_env_host;
  char *entrypoint;      /* NULL: the image's; "" clears it */
  bool has_entrypoint;
  char *hostname;
  char *user;
  char *workdir;
  char **group_add;
  char **labels;
  char **label_files;
  char **volumes;        /* -v */
  char **mounts;         /* --mount */
  char **tmpfs;
  char **cap_add;
  char **cap_drop;
  char **security_opts;
  char **ulimits;
  char **publish;
  char **expose;
  bool is_publish_all;
  char **dns;
  char **dns_search;
  char **dns_options;
  char **add_hosts;
  bool is_no_hosts;
  char *network;
  char *restart;
  char *log_driver;
  char **log_opts;
  char *stop_signal;
  int stop_timeout;      /* -1: default */
  char *userns;
  char *sdnotify;        /* conmon|container|ignore */
  char *cgroups;         /* enabled|disabled|no-conmon|split, recorded only */
  bool is_privileged;
  bool is_read_only;
  bool is_init;
  /* operands */
  char *image;
  char **command;        /* may be empty */
};

void run_opts_clear (struct run_opts *o);

/* Parse ARGV (argv[0] is the command name) for CMD ("run" or "create"). */
int run_opts_parse (const struct command *cmd, int argc, char **argv, struct run_opts *o,
                    struct error **err) __attribute__ ((warn_unused_result));

/* The environment docker builds: BASE (the image's), then the host's with
 * IS_ENV_HOST, then each ENV_FILES file, then ARGS ("-e" values; "NAME"
 * alone takes our value or is dropped).  A later NAME replaces an earlier
 * one in place.  Fails on an unreadable file or an empty name. */
int run_opts_env (char *const *base, bool is_env_host, char *const *env_files,
                  char *const *args, char ***out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Build the creation config from O and the image's config object
 * (IMAGE_CONFIG, the "config" member of the OCI image config; may be
 * NULL): entrypoint and command combined the way docker does, the
 * environment merged (image, --env-host, --env-file, -e), labels, and
 * HostConfig.  IMAGE_ID and IMAGE_NAME are recorded as "Image" and
 * "ImageName".  Fails on malformed values (env files, labels, restart
 * policies, ulimits...) naming the flag. */
json_object *run_opts_to_config (const struct run_opts *o, json_object *image_config,
                                 const char *image_id, const char *image_name,
                                 struct error **err);

/* Record in CONFIG (a creation config) the storage driver the container
 * will use: --storage-driver, a mount_program storage option (which means
 * fuse-overlayfs, recorded as "MountProgram"), or the automatic choice
 * (storage_choose_driver()).  Shared by run/create and build's working
 * containers. */
int run_opts_choose_driver (struct skiff_context *ctx, json_object *config, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
