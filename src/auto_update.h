/* auto-update as podman does it: containers labelled
 * io.containers.autoupdate=registry (or =local) that a systemd unit runs
 * get the newest image of their name, and the unit is restarted on it;
 * when the restarted unit fails, the old image gets its name back and the
 * unit is restarted again (the rollback).
 *
 * The contract with the unit is podman's: a unit that sets
 * Environment=PODMAN_SYSTEMD_UNIT=%n (generated units do) makes `run` and
 * `create` record the unit's name as the container's PODMAN_SYSTEMD_UNIT
 * label, and that label says what to restart.
 *
 * 1. plan: the running containers with a policy label, each with its unit
 *    (one container per unit, as podman 4 allows); a bad policy or a
 *    missing unit label fails the whole run before anything changes
 * 2. check: registry: the digest of the manifest the registry has for the
 *    image's name against the digest the local image was pulled with;
 *    local: the ID the name has in the store against the container's
 * 3. update: pull (registry only), `systemctl [--user] restart UNIT`, and
 *    the unit must be active afterwards
 * 4. rollback: re-tag the old image with the name, restart again */
#ifndef SKIFF_SRC_AUTO_UPDATE_H
#define SKIFF_SRC_AUTO_UPDATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "container.h"
#include "libutil/error.h"

/* The labels podman reads. */
#define AUTO_UPDATE_LABEL "io.containers.autoupdate"
#define AUTO_UPDATE_AUTHFILE_LABEL "io.containers.autoupdate.authfile"
#define AUTO_UPDATE_UNIT_LABEL "PODMAN_SYSTEMD_UNIT"

enum auto_update_policy
{
  AUTO_UPDATE_DISABLED,
  AUTO_UPDATE_REGISTRY,
  AUTO_UPDATE_LOCAL,
};

/* The UPDATED column, podman's words. */
#define AUTO_UPDATE_PENDING "pending"
#define AUTO_UPDATE_UPDATED "true"
#define AUTO_UPDATE_NOT_UPDATED "false"
#define AUTO_UPDATE_ROLLED_BACK "rolled back"
#define AUTO_UPDATE_FAILED "failed"

struct auto_update_opts
{
  bool is_dry_run;      /* report "pending", change nothing */
  bool is_rollback;     /* restore the old image when the restart fails */
  const char *authfile; /* for containers without the authfile label */
  bool has_tls_verify;  /* --tls-verify was given */
  bool is_tls_verify;
};

/* One container the run looked at. */
struct auto_update_task
{
  const struct container *ctr; /* borrowed */
  enum auto_update_policy policy;
  const char *unit;     /* its PODMAN_SYSTEMD_UNIT label */
  const char *authfile; /* its authfile label, or NULL */
  const char *status;   /* one of the AUTO_UPDATE_* words above */
};

/* The outcome of auto_update_run(): a task per container it looked at and
 * every failure (printed by the caller, the last one being its error). */
struct auto_update_result
{
  struct container **ctrs; /* owned: what the tasks borrow */
  struct auto_update_task *tasks;
  size_t n_tasks;
  struct error **failures;
  size_t n_failures;
};

void auto_update_result_clear (struct auto_update_result *r);

/* The policy a label value names: "registry" (and its old name "image"),
 * "local", "disabled" or "" (AUTO_UPDATE_DISABLED).  Anything else is an
 * error listing the valid values, as podman words it. */
int auto_update_policy_parse (const char *value, enum auto_update_policy *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* "registry", "local" or "disabled". */
const char *auto_update_policy_name (enum auto_update_policy p);

/* Record UNIT (the PODMAN_SYSTEMD_UNIT of the process creating the
 * container; NULL or "" when not run by a unit) as the label of that name
 * in the creation CONFIG (cmd_run.c's, "Config"."Labels"). */
void auto_update_record_unit (json_object *config, const char *unit);

/* Step 1 on CTRS (NULL-terminated, borrowed by the tasks): the tasks for
 * running containers with an enabled policy, in CTRS's order.  Each
 * container that cannot be planned adds a failure to R; the caller then
 * stops, as podman does. */
void auto_update_plan (struct container *const *ctrs, struct auto_update_result *r);

/* The whole run (steps 1-4) over every container of CTX's store.  Fails
 * only when the containers cannot be listed; what goes wrong with one
 * container is in R's failures and its task's status. */
int auto_update_run (struct skiff_context *ctx, const struct auto_update_opts *opts,
                     struct auto_update_result *r, struct error **err)
    __attribute__ ((warn_unused_result));

/* A task as podman's report row: Unit, Container ("<id12> (<name>)"),
 * ContainerName, ContainerID (12 digits), Image, Policy, Updated. */
json_object *auto_update_task_json (const struct auto_update_task *t);

#endif
