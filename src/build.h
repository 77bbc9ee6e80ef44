/* `build`: running a Dockerfile's stages into images.  The executor walks
 * the stages the target needs, in order; each instruction is one step that
 * makes one image on top of the previous step's (the intermediate images,
 * which are the layer cache's entries: build_cache.h).  RUN runs in a
 * working container made from the previous step's image, through the same
 * runtime and monitor as `run`, and its changes become the layer (the code
 * `commit` uses); COPY and ADD turn build_copy's tar into the layer; the
 * other instructions change only the config.  The config's history gets
 * one entry per instruction, in podman's created_by style. */
#ifndef SKIFF_SRC_BUILD_H
#define SKIFF_SRC_BUILD_H

#include <json-c/json.h>
#include <stdbool.h>

#include "cli.h"
#include "dockerfile.h"

/* --pull, as podman: "newer" counts as "always" (a pull transfers only
 * what changed). */
enum build_pull
{
  BUILD_PULL_MISSING, /* the default */
  BUILD_PULL_ALWAYS,
  BUILD_PULL_NEVER,
};

struct build_opts
{
  const char *context_arg;    /* directory, tarball or "-" */
  const char *dockerfile_arg; /* -f, or NULL */
  char *const *tags;          /* -t values as given; NULL-terminated, may be NULL */
  char *const *build_args;    /* "NAME=value" or "NAME" (value from our environment) */
  char *const *labels;        /* --label "KEY=value" for the final image */
  const char *target;         /* --target stage, or NULL for the last one */
  const char *network;        /* RUN's default network: NULL (slirp), none, host */
  const char *platform;       /* --platform for pulled bases, or NULL */
  bool is_no_cache;
  enum build_pull pull;  /* when to pull FROM's and --from's images */
  bool is_layers;        /* keep and use intermediate images (default true) */
  bool is_squash;        /* the new layers of the final stage as one */
  bool is_quiet;         /* only the image ID on stdout */
  bool is_docker_format; /* --format docker */
};

/* Build, printing podman's progress lines ("STEP 2/5: RUN ...", the
 * commands' output, "--> Using cache ...", "COMMIT ...") on stdout unless
 * O->is_quiet, and tag the result with O->tags.  *ID gets the final image
 * ID ("sha256:<hex>", malloc'd).  A failing RUN fails the build with the
 * command's exit status in the error's code, and removes its working
 * container; images of the steps before it stay as cache entries. */
int build_run (struct skiff_context *ctx, const struct build_opts *o, char **id, struct error **err)
    __attribute__ ((warn_unused_result));

/* ---- the config side of instructions (build_config.c): pure JSON work ---- */

/* Variable lookup over ENV (an image config's "Env" array) first, then
 * ARGS ("NAME=value" strings, the last one of a name wins). */
struct build_vars
{
  json_object *env;
  char *const *args;
};
const char *build_vars_lookup (const char *name, void *data); /* a df_lookup_fn */

/* Apply the config instruction IN (ENV, LABEL, EXPOSE, VOLUME, USER,
 * WORKDIR, STOPSIGNAL, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD,
 * MAINTAINER) to CFG, a whole image config ("config" is made when
 * missing; MAINTAINER sets "author").  Words are expanded with VARS where
 * docker expands them; shell forms are wrapped in the config's Shell
 * (default /bin/sh -c).  IS_CMD_SET tells whether CMD was given earlier
 * in this stage (ENTRYPOINT clears an inherited CMD, as docker does).
 * *CREATED_BY gets the history text ("ENV A=b", expanded; malloc'd).
 * Errors name the instruction: "EXPOSE: invalid port \"x\"" (the caller
 * adds the file and line). */
int build_config_apply (json_object *cfg, const struct df_instruction *in, char escape,
                        const struct build_vars *vars, bool is_cmd_set, char **created_by,
                        struct error **err) __attribute__ ((warn_unused_result));

/* The config's shell ("Shell", default ["/bin/sh", "-c"]) as a new
 * NULL-terminated vector. */
char **build_config_shell (json_object *cfg);

/* ---- --squash (build_squash.c) ---- */

/* Whether PATH (relative to the root, no leading "/") exists in the image
 * below the layers being merged. */
typedef bool (*build_squash_exists_fn) (const char *path, void *data);

/* Merge the layer tars read from FDS (N of them, bottom first; seekable,
 * compressed or not; read from the start, twice, not closed) into one
 * uncompressed layer tar written to OUT_FD: what extracting them one over
 * the other would give.  A whiteout stays only where EXISTS_BELOW (PATH,
 * DATA) says there is something to hide.  Fails on an unreadable layer or
 * a write error. */
int build_squash_layers (const int *fds, size_t n, build_squash_exists_fn exists_below, void *data,
                         int out_fd, struct error **err) __attribute__ ((warn_unused_result));

#endif
