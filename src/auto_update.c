/* auto-update: the steps are listed in auto_update.h.  The unit is
 * restarted with systemctl rather than over D-Bus: skiff links no D-Bus
 * library, and `systemctl restart` waits for the job's result just as
 * podman's RestartUnit call does. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "auto_update.h"
#include "image_pull.h"
#include "images.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "reference.h"
#include "storage/storage.h"

/* ---- labels and policies --------------------------------------------------- */

static const struct
{
  const char *value;
  enum auto_update_policy policy;
} policy_names[] = {
  /* Sorted as podman lists them in its error message. */
  { "disabled", AUTO_UPDATE_DISABLED },
  { "image", AUTO_UPDATE_REGISTRY },
  { "local", AUTO_UPDATE_LOCAL },
  { "registry", AUTO_UPDATE_REGISTRY },
};

int
auto_update_policy_parse (const char *value, enum auto_update_policy *out, struct error **err)
{
  struct buf valid = BUF_INIT;
  int r;

  if (*value == '\0')
    {
      *out = AUTO_UPDATE_DISABLED;
      return 0;
    }
  for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++)
    if (strcmp (value, policy_names[i].value) == 0)
      {
        *out = policy_names[i].policy;
        return 0;
      }
  for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++)
    buf_printf (&valid, "%s\"%s\"", i ? " " : "", policy_names[i].value);
  r = err_make (err, 0, "invalid auto-update policy \"%s\": valid policies are [%s]", value,
                valid.data);
  buf_free (&valid);
  return r;
}

const char *
auto_update_policy_name (enum auto_update_policy p)
{
  switch (p)
    {
    case AUTO_UPDATE_REGISTRY:
      return "registry";
    case AUTO_UPDATE_LOCAL:
      return "local";
    case AUTO_UPDATE_DISABLED:
      break;
    }
  return "disabled";
}

void
auto_update_record_unit (json_object *config, const char *unit)
{
  json_object *labels = jobj_get_object (jobj_get_object (config, "Config"), "Labels");

  if (unit == NULL || *unit == '\0' || labels == NULL)
    return;
  json_object_object_add (labels, AUTO_UPDATE_UNIT_LABEL, json_object_new_string (unit));
}

/* ---- results ------------------------------------------------------------ */

void
auto_update_result_clear (struct auto_update_result *r)
{
  if (r->ctrs)
    container_vec_free (r->ctrs);
  free (r->tasks);
  for (size_t i = 0; i < r->n_failures; i++)
    err_release (&r->failures[i]);
  free (r->failures);
  memset (r, 0, sizeof *r);
}

/* Keep *ERR as one of R's failures; *ERR becomes NULL. */
static void
add_failure (struct auto_update_result *r, struct error **err)
{
  r->failures = xrealloc (r->failures, (r->n_failures + 1) * sizeof *r->failures);
  r->failures[r->n_failures++] = steal_ptr (err);
}

static void fail (struct auto_update_result *r, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
fail (struct auto_update_result *r, const char *fmt, ...)
{
  struct error *e = NULL;
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  err_make (&e, 0, "%s", msg);
  add_failure (r, &e);
}

/* ---- 1: plan ------------------------------------------------------------ */

static json_object *
container_labels (const struct container *c)
{
  return jobj_get_object (jobj_get_object (c->config, "Config"), "Labels");
}

/* A registry check needs a name the registry knows: not an ID, not a
 * short name that registries.conf might resolve elsewhere next time. */
static bool
is_fully_qualified (const char *name)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  struct error *e = NULL;

  if (name == NULL || reference_looks_like_id (name) || reference_is_short_name (name))
    return false;
  if (reference_parse (name, &ref, &e) < 0)
    {
      err_release (&e);
      return false;
    }
  return true;
}

/* The task for C, or false when C is not auto-updated (failures go to R). */
static bool
plan_one (const struct container *c, struct auto_update_result *r, struct auto_update_task *t)
{
  json_object *labels = container_labels (c);
  const char *value = jobj_get_string (labels, AUTO_UPDATE_LABEL);
  struct error *e = NULL;

  /* As podman: paused and stopping containers are left alone. */
  if (value == NULL || c->state.status != CONTAINER_RUNNING)
    return false;
  *t = (struct auto_update_task){ .ctr = c };
  if (auto_update_policy_parse (value, &t->policy, &e) < 0)
    {
      add_failure (r, &e);
      return false;
    }
  if (t->policy == AUTO_UPDATE_DISABLED)
    return false;
  t->unit = jobj_get_string (labels, AUTO_UPDATE_UNIT_LABEL);
  if (t->unit == NULL || *t->unit == '\0')
    {
      fail (r, "auto-updating container \"%s\": no %s label found", c->id, AUTO_UPDATE_UNIT_LABEL);
      return false;
    }
  if (t->policy == AUTO_UPDATE_REGISTRY && !is_fully_qualified (c->image_name))
    {
      fail (r,
            "auto-updating container \"%s\": image name \"%s\" is not a fully-qualified "
            "reference",
            c->id, c->image_name ? c->image_name : "");
      return false;
    }
  t->authfile = jobj_get_string (labels, AUTO_UPDATE_AUTHFILE_LABEL);
  t->status = AUTO_UPDATE_NOT_UPDATED;
  return true;
}

/* podman 4 restarts a unit for exactly one container. */
static void
check_one_per_unit (struct auto_update_result *r)
{
  for (size_t i = 0; i < r->n_tasks; i++)
    {
      size_t n = 0;
      bool is_first = true;

      for (size_t j = 0; j < r->n_tasks; j++)
        if (strcmp (r->tasks[i].unit, r->tasks[j].unit) == 0)
          {
            n++;
            is_first = is_first && j >= i;
          }
      if (n > 1 && is_first)
        fail (r, "only 1 task per unit supported but unit %s has %zu", r->tasks[i].unit, n);
    }
}

void
auto_update_plan (struct container *const *ctrs, struct auto_update_result *r)
{
  size_t n = 0;

  while (ctrs[n])
    n++;
  r->tasks = xcalloc (n + 1, sizeof *r->tasks);
  for (size_t i = 0; i < n; i++)
    if (plan_one (ctrs[i], r, &r->tasks[r->n_tasks]))
      r->n_tasks++;
  check_one_per_unit (r);
}

/* ---- 2: is there something new? ----------------------------------------- */

static void
fill_pull_opts (const struct auto_update_task *t, const struct auto_update_opts *o, bool is_quiet,
                struct image_pull_opts *po)
{
  /* As podman: the container's own authfile label wins over --authfile. */
  *po = (struct image_pull_opts){
    .is_quiet = is_quiet,
    .has_tls_verify = o->has_tls_verify,
    .is_tls_verify = o->is_tls_verify,
    .authfile = t->authfile ? t->authfile : o->authfile,
  };
}

/* Whether IMG was pulled as the manifest DIGEST: its own manifest, or one
 * of the repo digests it is known by. */
static bool
image_has_digest (const struct storage_image *img, const char *digest)
{
  if (img->manifest_digest && strcmp (img->manifest_digest, digest) == 0)
    return true;
  for (char **d = img->digests; d && *d; d++)
    {
      const char *at = strrchr (*d, '@');
      if (at && strcmp (at + 1, digest) == 0)
        return true;
    }
  return false;
}

static int
registry_has_update (struct skiff_context *ctx, const struct auto_update_task *t,
                     const struct auto_update_opts *o, bool *out, struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;
  cleanup_free char *remote = NULL;
  struct image_pull_opts po;

  fill_pull_opts (t, o, true, &po);
  remote = image_pull_remote_digest (ctx, t->ctr->image_name, &po, err);
  if (remote == NULL)
    return -1;
  if (images_open (ctx, false, &s, err) < 0 || images_require (s, t->ctr->image_id, &img, err) < 0)
    return -1;
  log_debug ("container %.12s: image %s is %s in the registry", t->ctr->id, t->ctr->image_name,
             remote);
  *out = !image_has_digest (img, remote);
  return 0;
}

static int
local_has_update (struct skiff_context *ctx, const struct auto_update_task *t, bool *out,
                  struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;

  if (images_open (ctx, false, &s, err) < 0
      || images_require (s, t->ctr->image_name, &img, err) < 0)
    return -1;
  *out = strcmp (img->id, t->ctr->image_id) != 0;
  return 0;
}

static int
has_update (struct skiff_context *ctx, const struct auto_update_task *t,
            const struct auto_update_opts *o, bool *out, struct error **err)
{
  if (t->policy == AUTO_UPDATE_LOCAL)
    return local_has_update (ctx, t, out, err);
  return registry_has_update (ctx, t, o, out, err);
}

/* ---- 3: update and restart ---------------------------------------------- */

/* systemctl [--user] VERB UNIT: the user's manager when rootless, as the
 * unit that runs the container is a user unit then. */
static int
systemctl (struct skiff_context *ctx, const char *verb, const char *unit, struct buf *out,
           int *status, struct error **err)
{
  const char *argv[5];
  cleanup_buf struct buf errout = BUF_INIT;
  /* A status the caller reads is no failure: keep systemctl's complaint
   * off the terminal too. */
  struct spawn_opts so = { .out = out, .errout = status ? &errout : NULL };
  size_t i = 0;

  argv[i++] = "systemctl";
  if (ctx->is_rootless)
    argv[i++] = "--user";
  argv[i++] = verb;
  argv[i++] = unit;
  argv[i] = NULL;
  if (status)
    return spawn_run ((char *const *)argv, &so, status, err);
  return spawn_check ((char *const *)argv, &so, err);
}

/* Restart UNIT and insist that it is active afterwards: a Type=notify
 * unit whose start failed makes `restart` fail, and one that came up and
 * fell over at once is "failed" or "activating" (auto-restart) by now. */
static int
restart_unit (struct skiff_context *ctx, const char *unit, struct error **err)
{
  cleanup_buf struct buf state = BUF_INIT;
  int status = 0;

  log_debug ("restarting unit %s", unit);
  if (systemctl (ctx, "restart", unit, NULL, NULL, err) < 0)
    return -1;
  if (systemctl (ctx, "is-active", unit, &state, &status, err) < 0)
    return -1;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return err_make (err, 0, "unit %s is %s after the restart", unit,
                   state.len ? str_strip (state.data) : "not active");
}

static int
pull_new_image (struct skiff_context *ctx, const struct auto_update_task *t,
                const struct auto_update_opts *o, struct error **err)
{
  cleanup_free char *id = NULL;
  struct image_pull_opts po;

  if (t->policy != AUTO_UPDATE_REGISTRY)
    return 0;
  fill_pull_opts (t, o, false, &po);
  if (image_pull (ctx, t->ctr->image_name, &po, &id, err) < 0)
    return -1;
  log_debug ("container %.12s: pulled %s as %s", t->ctr->id, t->ctr->image_name, id);
  return 0;
}

/* ---- 4: rollback -------------------------------------------------------- */

/* Give the container's old image its name back, so the unit's `run` of
 * that name starts it again. */
static int
retag_old_image (struct skiff_context *ctx, const struct auto_update_task *t, struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;

  if (images_open (ctx, false, &s, err) < 0 || storage_lock (s, true, err) < 0)
    return -1;
  return storage_image_tag (s, t->ctr->image_id, t->ctr->image_name, err);
}

/* The failed restart counts against the unit's start limit; forget it so
 * the rollback's restart is not refused for starting too often. */
static void
reset_failed (struct skiff_context *ctx, const char *unit)
{
  struct error *e = NULL;
  int status;

  if (systemctl (ctx, "reset-failed", unit, NULL, &status, &e) < 0)
    {
      log_debug ("reset-failed %s: %s", unit, e->msg);
      err_release (&e);
    }
}

static void
roll_back (struct skiff_context *ctx, struct auto_update_task *t, struct auto_update_result *r)
{
  struct error *e = NULL;

  if (retag_old_image (ctx, t, &e) < 0)
    {
      t->status = AUTO_UPDATE_FAILED;
      err_wrap (&e, "rolling back image for container %s", t->ctr->id);
      add_failure (r, &e);
      return;
    }
  reset_failed (ctx, t->unit);
  if (restart_unit (ctx, t->unit, &e) < 0)
    {
      t->status = AUTO_UPDATE_FAILED;
      err_wrap (&e, "restarting unit %s for container %s during rollback", t->unit, t->ctr->id);
      add_failure (r, &e);
      return;
    }
  t->status = AUTO_UPDATE_ROLLED_BACK;
}

/* ---- the run ------------------------------------------------------------ */

static void
run_task (struct skiff_context *ctx, const struct auto_update_opts *o, struct auto_update_task *t,
          struct auto_update_result *r)
{
  struct error *e = NULL;
  bool is_available = false;

  if (has_update (ctx, t, o, &is_available, &e) < 0)
    {
      t->status = AUTO_UPDATE_FAILED;
      err_wrap (&e, "checking image updates for container %s", t->ctr->id);
      add_failure (r, &e);
      return;
    }
  if (!is_available)
    return;
  if (o->is_dry_run)
    {
      t->status = AUTO_UPDATE_PENDING;
      return;
    }
  if (pull_new_image (ctx, t, o, &e) < 0)
    {
      t->status = AUTO_UPDATE_FAILED;
      err_wrap (&e, "updating image for container %s", t->ctr->id);
      add_failure (r, &e);
      return;
    }
  if (restart_unit (ctx, t->unit, &e) == 0)
    {
      t->status = AUTO_UPDATE_UPDATED;
      return;
    }
  if (!o->is_rollback)
    {
      t->status = AUTO_UPDATE_FAILED;
      err_wrap (&e, "restarting unit %s for container %s", t->unit, t->ctr->id);
      add_failure (r, &e);
      return;
    }
  log_info ("restarting unit %s failed, rolling back: %s", t->unit, e->msg);
  err_release (&e);
  roll_back (ctx, t, r);
}

int
auto_update_run (struct skiff_context *ctx, const struct auto_update_opts *opts,
                 struct auto_update_result *r, struct error **err)
{
  if (container_list (ctx, &r->ctrs, err) < 0)
    return -1;
  auto_update_plan (r->ctrs, r);
  /* A container that cannot be planned stops everything, as in podman:
   * better no update than one that skips a misconfigured unit. */
  if (r->n_failures > 0)
    {
      r->n_tasks = 0;
      return 0;
    }
  for (size_t i = 0; i < r->n_tasks; i++)
    run_task (ctx, opts, &r->tasks[i], r);
  return 0;
}

json_object *
auto_update_task_json (const struct auto_update_task *t)
{
  json_object *o = json_object_new_object ();
  cleanup_free char *ctr = xasprintf ("%.12s (%s)", t->ctr->id, t->ctr->name);
  cleanup_free char *short_id = xstrndup (t->ctr->id, 12);

  json_object_object_add (o, "Unit", json_object_new_string (t->unit));
  json_object_object_add (o, "Container", json_object_new_string (ctr));
  json_object_object_add (o, "ContainerName", json_object_new_string (t->ctr->name));
  json_object_object_add (o, "ContainerID", json_object_new_string (short_id));
  json_object_object_add (o, "Image",
                          json_object_new_string (t->ctr->image_name ? t->ctr->image_name : ""));
  json_object_object_add (o, "Policy",
                          json_object_new_string (auto_update_policy_name (t->policy)));
  json_object_object_add (o, "Updated", json_object_new_string (t->status));
  return o;
}
