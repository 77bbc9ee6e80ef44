/* Container records, names and state; see container.h for the layout. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "context.h"
#include "events.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/lock.h"
#include "libutil/mem.h"

#define INDEX_MAX (64u << 20)
#define CONFIG_MAX (16u << 20)

static const char *const status_names[] = {
  [CONTAINER_CREATED] = "created", [CONTAINER_RUNNING] = "running",
  [CONTAINER_PAUSED] = "paused",   [CONTAINER_STOPPING] = "stopping",
  [CONTAINER_EXITED] = "exited",
};

const char *
container_status_name (enum container_status s)
{
  return status_names[s];
}

static int
parse_status (const char *s, enum container_status *out)
{
  for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
    if (s && strcmp (s, status_names[i]) == 0)
      {
        *out = (enum container_status) i;
        return 0;
      }
  return -1;
}

int64_t
container_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
container_free (struct container *c)
{
  if (c == NULL)
    return;
  free (c->id);
  free (c->name);
  free (c->image_id);
  free (c->image_name);
  json_object_put (c->config);
  free (c->dir);
  free (c->run_dir);
  free (c->state.error);
  json_object_put (c->state.network);
  free (c);
}

void
container_freep (struct container **c)
{
  container_free (*c);
  *c = NULL;
}

void
container_vec_free (struct container **v)
{
  for (size_t i = 0; v && v[i]; i++)
    container_free (v[i]);
  free (v);
}

bool
container_name_valid (const char *s)
{
  if (s == NULL || !isalnum ((unsigned char) s[0]) || strlen (s) > 253)
    return false;
  for (const char *p = s; *p; p++)
    if (!isalnum ((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
      return false;
  return true;
}

/* ---- PIDs ------------------------------------------------------------- */

uint64_t
container_pid_start_time (pid_t pid)
{
  char path[64], buf[1024];
  cleanup_close int fd = -1;
  ssize_t n;
  char *p;
  unsigned long long start = 0;

  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: fields start after the last ')'. */
  p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  /* After ") ": state(3) ... starttime is field 22, the 20th after comm. */
  for (int field = 3; field <= 22 && p; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL || sscanf (p + 1, "%llu", &start) != 1)
    return 0;
  /* A zombie has exited: it counts as gone. */
  return strstr (buf, ") Z ") ? 0 : (uint64_t) start;
}

bool
container_pid_alive (pid_t pid, uint64_t start)
{
  uint64_t now = container_pid_start_time (pid);
  return now != 0 && (start == 0 || now == start);
}

/* ---- state ------------------------------------------------------------ */

static char *
state_path (const struct container *c)
{
  return xasprintf ("%s/state.json", c->dir);
}

/* A process that died without its monitor noticing: the exit code is lost. */
static void
refresh (struct container *c)
{
  struct container_state *s = &c->state;
  bool is_live = s->status == CONTAINER_RUNNING || s->status == CONTAINER_PAUSED
                 || s->status == CONTAINER_STOPPING;

  /* A monitor killed in its restart backoff restarts nothing. */
  if (s->is_restarting && s->monitor_pid != getpid ()
      && !container_pid_alive (s->monitor_pid, 0))
    s->is_restarting = false;
  if (!is_live || container_pid_alive (s->pid, s->pid_start))
    return;
  if (container_pid_alive (s->monitor_pid, 0) && s->monitor_pid != getpid ())
    return; /* the monitor is about to record the exit */
  s->status = CONTAINER_EXITED;
  s->exit_code = -1;
  s->pid = 0;
  if (s->finished_at == 0)
    s->finished_at = container_now_ns ();
}

int
container_state_load (struct container *c, struct error **err)
{
  cleanup_free char *path = state_path (c);
  cleanup_json json_object *o = NULL;
  struct container_state *s = &c->state;

  free (s->error);
  json_object_put (s->network);
  memset (s, 0, sizeof *s);
  s->status = CONTAINER_CREATED;
  if (!fs_exists (path))
    return 0;
  o = jobj_parse_file (path, 1 << 20, err);
  if (o == NULL)
    return err_wrap (err, "container %.12s state", c->id);
  if (parse_status (jobj_get_string (o, "status"), &s->status) < 0)
    return err_make (err, 0, "container %.12s state: invalid status", c->id);
  s->pid = (pid_t) jobj_get_int (o, "pid", 0);
  s->pid_start = (uint64_t) jobj_get_int (o, "pid_start", 0);
  s->monitor_pid = (pid_t) jobj_get_int (o, "monitor_pid", 0);
  s->exit_code = (int) jobj_get_int (o, "exit_code", 0);
  s->started_at = jobj_get_int (o, "started_at", 0);
  s->finished_at = jobj_get_int (o, "finished_at", 0);
  s->restart_count = (int) jobj_get_int (o, "restart_count", 0);
  s->is_stop_requested = jobj_get_bool (o, "stop_requested", false);
  s->is_restarting = jobj_get_bool (o, "restarting", false);
  s->error = xstrdup (jobj_get_string (o, "error"));
  if (jobj_get_object (o, "network"))
    s->network = json_object_get (jobj_get_object (o, "network"));
  refresh (c);
  return 0;
}

int
container_state_save (struct container *c, struct error **err)
{
  cleanup_json json_object *o = json_object_new_object ();
  cleanup_free char *path = state_path (c);
  const struct container_state *s = &c->state;

  json_object_object_add (o, "status", json_object_new_string (status_names[s->status]));
  json_object_object_add (o, "pid", json_object_new_int (s->pid));
  json_object_object_add (o, "pid_start", json_object_new_int64 ((int64_t) s->pid_start));
  json_object_object_add (o, "monitor_pid", json_object_new_int (s->monitor_pid));
  json_object_object_add (o, "exit_code", json_object_new_int (s->exit_code));
  json_object_object_add (o, "started_at", json_object_new_int64 (s->started_at));
  json_object_object_add (o, "finished_at", json_object_new_int64 (s->finished_at));
  json_object_object_add (o, "restart_count", json_object_new_int (s->restart_count));
  json_object_object_add (o, "stop_requested", json_object_new_boolean (s->is_stop_requested));
  json_object_object_add (o, "restarting", json_object_new_boolean (s->is_restarting));
  if (s->error)
    json_object_object_add (o, "error", json_object_new_string (s->error));
  if (s->network)
    json_object_object_add (o, "network", json_object_get (s->network));
  if (jobj_write_file (path, o, false, err) < 0)
    return err_wrap (err, "save container %.12s state", c->id);
  return 0;
}

/* ---- the index -------------------------------------------------------- */

static char *
index_path (struct skiff_context *ctx)
{
  return xasprintf ("%s/containers.json", ctx->root);
}

static int
lock_index (struct skiff_context *ctx, struct error **err)
{
  cleanup_free char *path = xasprintf ("%s/containers.lock", ctx->root);

  if (fs_mkdir_p (ctx->root, 0700, err) < 0)
    return -1;
  return lock_acquire (path, LOCK_EXCLUSIVE_MODE, err);
}

static json_object *
read_index (struct skiff_context *ctx, struct error **err)
{
  cleanup_free char *path = index_path (ctx);
  json_object *o;

  if (!fs_exists (path))
    return json_object_new_array ();
  o = jobj_parse_file (path, INDEX_MAX, err);
  if (o == NULL)
    return NULL;
  if (!json_object_is_type (o, json_type_array))
    {
      json_object_put (o);
      err_make (err, 0, "\"%s\": not a JSON array", path);
      return NULL;
    }
  return o;
}

static int
write_index (struct skiff_context *ctx, json_object *index, struct error **err)
{
  cleanup_free char *path = index_path (ctx);
  return jobj_write_file (path, index, false, err);
}

static json_object *
index_find_name (json_object *index, const char *name)
{
  for (size_t i = 0; i < json_object_array_length (index); i++)
    {
      json_object *e = json_object_array_get_idx (index, i);
      const char *n = jobj_get_string (e, "name");
      if (n && strcmp (n, name) == 0)
        return e;
    }
  return NULL;
}

/* ---- loading records -------------------------------------------------- */

static struct container *
load_record (struct skiff_context *ctx, json_object *entry, struct error **err)
{
  const char *id = jobj_get_string (entry, "id");
  cleanup_container struct container *c = NULL;
  cleanup_free char *cfg_path = NULL;

  if (id == NULL || strlen (id) != 64 || strspn (id, "0123456789abcdef") != 64)
    {
      err_make (err, 0, "containers.json: invalid container id");
      return NULL;
    }
  c = xmalloc0 (sizeof *c);
  c->id = xstrdup (id);
  c->name = xstrdup (jobj_get_string (entry, "name"));
  c->image_id = xstrdup (jobj_get_string (entry, "image"));
  c->image_name = xstrdup (jobj_get_string (entry, "image_name"));
  c->created = jobj_get_int (entry, "created", 0);
  c->dir = xasprintf ("%s/containers/%s", ctx->root, id);
  c->run_dir = xasprintf ("%s/containers/%s", ctx->runroot, id);
  cfg_path = xasprintf ("%s/config.json", c->dir);
  c->config = jobj_parse_file (cfg_path, CONFIG_MAX, err);
  if (c->config == NULL)
    {
      err_wrap (err, "container %.12s", id);
      return NULL;
    }
  if (container_state_load (c, err) < 0)
    return NULL;
  return steal_ptr (&c);
}

int
container_list (struct skiff_context *ctx, struct container ***out, struct error **err)
{
  cleanup_json json_object *index = read_index (ctx, err);
  struct container **v;
  size_t n, k = 0;

  if (index == NULL)
    return -1;
  n = json_object_array_length (index);
  v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      struct error *e = NULL;
      v[k] = load_record (ctx, json_object_array_get_idx (index, i), &e);
      if (v[k] == NULL)
        {
          /* A half-removed record must not hide the others. */
          err_release (&e);
          continue;
        }
      k++;
    }
  *out = v;
  return 0;
}

int
container_find (struct skiff_context *ctx, const char *ref, struct container **out,
                struct error **err)
{
  cleanup_json json_object *index = read_index (ctx, err);
  json_object *match = NULL;
  size_t len = strlen (ref), n;

  *out = NULL;
  if (index == NULL)
    return -1;
  n = json_object_array_length (index);
  for (size_t i = 0; i < n && match == NULL; i++)
    {
      json_object *e = json_object_array_get_idx (index, i);
      const char *id = jobj_get_string (e, "id"), *name = jobj_get_string (e, "name");
      if ((id && strcmp (id, ref) == 0) || (name && strcmp (name, ref) == 0))
        match = e;
    }
  for (size_t i = 0; i < n && match == NULL && len > 0 && len < 64; i++)
    {
      json_object *e = json_object_array_get_idx (index, i);
      const char *id = jobj_get_string (e, "id");
      if (id == NULL || strncmp (id, ref, len) != 0)
        continue;
      for (size_t j = i + 1; j < n; j++)
        {
          const char *other = jobj_get_string (json_object_array_get_idx (index, j), "id");
          if (other && strncmp (other, ref, len) == 0)
            return err_make (err, 0, "more than one result for container ID prefix \"%s\"",
                             ref);
        }
      match = e;
    }
  if (match == NULL)
    return 0;
  *out = load_record (ctx, match, err);
  return *out ? 0 : -1;
}

int
container_require (struct skiff_context *ctx, const char *ref, struct container **out,
                   struct error **err)
{
  if (container_find (ctx, ref, out, err) < 0)
    return -1;
  if (*out == NULL)
    return err_make (err, 0, "no container with name or ID \"%s\" found: no such container",
                     ref);
  return 0;
}

/* ---- creating --------------------------------------------------------- */

static char *
random_hex_id (void)
{
  unsigned char raw[32];
  char *hex = xmalloc (65);
  size_t got = 0;

  while (got < sizeof raw)
    {
      ssize_t r = getrandom (raw + got, sizeof raw - got, 0);
      if (r > 0)
        got += (size_t) r;
    }
  for (size_t i = 0; i < sizeof raw; i++)
    sprintf (hex + 2 * i, "%02x", raw[i]);
  /* docker never hands out an all-digit short ID, which would read as a
   * number in scripts; neither do we. */
  if (strspn (hex, "0123456789") >= 12)
    hex[0] = 'a';
  return hex;
}

static char *
random_name (json_object *index)
{
  static const char *const adjectives[] = {
    "brave", "calm", "clever", "eager", "fervent", "gallant", "happy", "jolly", "keen",
    "lucid", "merry", "nifty", "quirky", "serene", "sharp", "sleepy", "stoic", "tender",
    "upbeat", "vibrant", "wizardly", "zealous",
  };
  static const char *const names[] = {
    "babbage", "curie", "darwin", "euler", "fermat", "gauss", "hopper", "hypatia", "kepler",
    "lamport", "lovelace", "noether", "pascal", "ritchie", "shannon", "thompson", "turing",
    "wozniak",
  };
  const size_t na = sizeof adjectives / sizeof adjectives[0];
  const size_t nn = sizeof names / sizeof names[0];

  for (unsigned attempt = 0;; attempt++)
    {
      unsigned r = 0;
      char *name;
      while (getrandom (&r, sizeof r, 0) != sizeof r)
        ;
      if (attempt < 20)
        name = xasprintf ("%s_%s", adjectives[r % na], names[(r / na) % nn]);
      else
        name = xasprintf ("%s_%s%u", adjectives[r % na], names[(r / na) % nn], r % 1000);
      if (index_find_name (index, name) == NULL)
        return name;
      free (name);
    }
}

static int
write_new_dirs (struct container *c, struct error **err)
{
  cleanup_free char *cfg_path = xasprintf ("%s/config.json", c->dir);

  if (fs_mkdir_p (c->dir, 0700, err) < 0 || fs_mkdir_p (c->run_dir, 0700, err) < 0)
    return -1;
  /* No state.json yet: container_state_load() reads a missing one as
   * "created", which saves an atomic write (two fsyncs) per container. */
  c->state.status = CONTAINER_CREATED;
  return jobj_write_file (cfg_path, c->config, false, err);
}

static int
claim_name (struct skiff_context *ctx, json_object **index, const char *name, bool is_replace,
            container_remove_fn remove_fn, int *lk, struct error **err)
{
  json_object *holder = index_find_name (*index, name);
  cleanup_container struct container *victim = NULL;

  if (holder == NULL)
    return 0;
  if (!is_replace)
    return err_make (err, 0, "the container name \"%s\" is already in use by %s. You have "
                     "to remove that container to be able to reuse that name: that name "
                     "is already in use", name, jobj_get_string (holder, "id"));
  victim = load_record (ctx, holder, err);
  if (victim == NULL)
    return -1;
  /* Removal takes the index lock itself. */
  close (*lk);
  *lk = -1;
  if (remove_fn (ctx, victim, err) < 0)
    return err_wrap (err, "replace container \"%s\"", name);
  *lk = lock_index (ctx, err);
  if (*lk < 0)
    return -1;
  json_object_put (*index);
  *index = read_index (ctx, err);
  if (*index == NULL)
    return -1;
  if (index_find_name (*index, name))
    return err_make (err, 0, "the container name \"%s\" was taken again while replacing",
                     name);
  return 0;
}

int
container_create (struct skiff_context *ctx, json_object *config, const char *name,
                  bool is_replace, container_remove_fn remove_fn, struct container **out,
                  struct error **err)
{
  cleanup_close int lk = -1;
  cleanup_json json_object *index = NULL;
  cleanup_container struct container *c = xmalloc0 (sizeof *c);
  json_object *entry;

  if (name && !container_name_valid (name))
    return err_make (err, 0, "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument "
                     "\"%s\"", name);
  lk = lock_index (ctx, err);
  if (lk < 0)
    return -1;
  index = read_index (ctx, err);
  if (index == NULL)
    return -1;
  if (name && claim_name (ctx, &index, name, is_replace, remove_fn, &lk, err) < 0)
    return -1;
  c->id = random_hex_id ();
  c->name = name ? xstrdup (name) : random_name (index);
  c->image_id = xstrdup (jobj_get_string (config, "Image"));
  c->image_name = xstrdup (jobj_get_string (config, "ImageName"));
  c->created = container_now_ns ();
  c->config = json_object_get (config);
  c->dir = xasprintf ("%s/containers/%s", ctx->root, c->id);
  c->run_dir = xasprintf ("%s/containers/%s", ctx->runroot, c->id);
  if (write_new_dirs (c, err) < 0)
    {
      fs_remove_tree (c->dir, NULL);
      return err_wrap (err, "create container");
    }
  entry = json_object_new_object ();
  json_object_object_add (entry, "id", json_object_new_string (c->id));
  json_object_object_add (entry, "name", json_object_new_string (c->name));
  json_object_object_add (entry, "image", json_object_new_string (c->image_id ? c->image_id : ""));
  json_object_object_add (entry, "image_name",
                          json_object_new_string (c->image_name ? c->image_name : ""));
  json_object_object_add (entry, "created", json_object_new_int64 (c->created));
  json_object_array_add (index, entry);
  if (write_index (ctx, index, err) < 0)
    {
      fs_remove_tree (c->dir, NULL);
      return err_wrap (err, "create container");
    }
  events_container (ctx, c, "create");
  *out = steal_ptr (&c);
  return 0;
}

/* ---- removing and renaming --------------------------------------------- */

static int
update_index (struct skiff_context *ctx, const char *id, const char *new_name,
              struct error **err)
{
  cleanup_close int lk = lock_index (ctx, err);
  cleanup_json json_object *index = NULL;
  cleanup_json json_object *kept = json_object_new_array ();

  if (lk < 0)
    return -1;
  index = read_index (ctx, err);
  if (index == NULL)
    return -1;
  if (new_name && index_find_name (index, new_name))
    return err_make (err, 0, "the container name \"%s\" is already in use", new_name);
  for (size_t i = 0; i < json_object_array_length (index); i++)
    {
      json_object *e = json_object_array_get_idx (index, i);
      const char *eid = jobj_get_string (e, "id");
      if (eid && strcmp (eid, id) == 0)
        {
          if (new_name == NULL)
            continue;
          json_object_object_add (e, "name", json_object_new_string (new_name));
        }
      json_object_array_add (kept, json_object_get (e));
    }
  return write_index (ctx, kept, err);
}

int
container_delete_record (struct skiff_context *ctx, struct container *c, struct error **err)
{
  cleanup_free char *trash = NULL;

  if (update_index (ctx, c->id, NULL, err) < 0)
    return err_wrap (err, "remove container %.12s", c->id);
  fs_remove_tree (c->run_dir, NULL);
  /* Subordinate-owned files may be inside: move the directory aside now
   * (always allowed for its owner); the caller purges it in the user
   * namespace. */
  trash = xasprintf ("%s/containers/.trash-%s", ctx->root, c->id);
  if (rename (c->dir, trash) < 0 && errno != ENOENT)
    return err_make (err, errno, "remove container %.12s: rename \"%s\"", c->id, c->dir);
  return 0;
}

int
container_rename (struct skiff_context *ctx, struct container *c, const char *name,
                  struct error **err)
{
  if (!container_name_valid (name))
    return err_make (err, 0, "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument "
                     "\"%s\"", name);
  if (update_index (ctx, c->id, name, err) < 0)
    return -1;
  free (c->name);
  c->name = xstrdup (name);
  return 0;
}

int
container_lock (struct skiff_context *ctx, struct container *c, struct error **err)
{
  cleanup_free char *path = NULL;

  if (context_ensure_runroot (ctx, err) < 0 || fs_mkdir_p (c->run_dir, 0700, err) < 0)
    return -1;
  path = xasprintf ("%s/lock", c->run_dir);
  return lock_acquire (path, LOCK_EXCLUSIVE_MODE, err);
}

/* Remove trash entry NAME in DIRFD.  Every removal purges all the trash,
 * so concurrent ones (20 `run --rm` at once) empty the same trees: what
 * vanished under us (ENOENT) was removed by another, which is success. */
static int
purge_entry (int dirfd, const char *name, struct error **err)
{
  cleanup_error struct error *e = NULL;

  if (fs_remove_tree_at (dirfd, name, &e) == 0 || e->errnum == ENOENT)
    return 0;
  if (err)
    *err = steal_ptr (&e);
  return -1;
}

static int
purge_child (void *arg, struct error **err)
{
  const char *dir = arg;
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return errno == ENOENT ? 0 : err_make (err, errno, "open \"%s\"", dir);
  while ((de = readdir (d)) != NULL)
    if (strncmp (de->d_name, ".trash-", 7) == 0 && purge_entry (dirfd (d), de->d_name, err) < 0)
      return -1;
  return 0;
}

/* Remove the trash the user can remove outside the user namespace; true
 * when some is left.  A container's writable layer mostly belongs to its
 * root, which is the user, and unlinking needs only write permission on
 * the directory; only directories owned by subordinate IDs need the
 * namespace, whose clone and newuidmap/newgidmap helpers cost more than
 * the rest of a removal (bench/RESULTS.md).  A failure half-way leaves
 * the rest to purge_child(). */
static bool
purge_as_user (const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  bool is_left = false;

  while (d && (de = readdir (d)) != NULL)
    if (strncmp (de->d_name, ".trash-", 7) == 0 && purge_entry (dirfd (d), de->d_name, NULL) < 0)
      is_left = true;
  return is_left;
}

int
container_purge_trash (struct skiff_context *ctx, struct error **err)
{
  cleanup_free char *dir = xasprintf ("%s/containers", ctx->root);

  if (!ctx->is_rootless)
    return purge_child (dir, err);
  if (!purge_as_user (dir))
    return 0;
  return context_run_in_userns (ctx, purge_child, dir, err);
}
