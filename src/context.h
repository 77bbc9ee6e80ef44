/* The global context: store paths and mode, from options and environment. */
#ifndef SKIFF_SRC_CONTEXT_H
#define SKIFF_SRC_CONTEXT_H

#include "cli.h"
#include "userns.h"

/* Fill CTX's defaults from the environment: rootless or not, and the store
 * and runtime directories (podman's rules, see DESIGN.md "Storage").  Values
 * already set (from --root/--runroot) are kept. */
int context_init (struct skiff_context *ctx, struct error **err);

/* Create the runtime directory if needed: private (0700) and owned by us.
 * Refuses a directory owned by someone else (a /tmp squatter). */
int context_ensure_runroot (struct skiff_context *ctx, struct error **err);

/* The user namespace configuration, read from /etc/subuid and /etc/subgid
 * on first use and kept, so its warning is printed once per invocation. */
const struct userns_config *context_userns (struct skiff_context *ctx, struct error **err);

/* Run FN(ARG) in a child inside the containers' user namespace (with its
 * own mount namespace) and wait for it; its error comes back as ours.  As
 * root the child gets only the mount namespace. */
int context_run_in_userns (struct skiff_context *ctx, userns_child_fn fn, void *arg,
                           struct error **err) __attribute__ ((warn_unused_result));

/* Whether this process runs in a user namespace other than the initial
 * one (inside `skiff unshare`, for instance). */
bool context_is_in_user_namespace (void);

void context_free (struct skiff_context *ctx);

#endif
