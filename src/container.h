/* Containers as records: IDs, unique names, the persistent creation config,
 * the state (status, PID, exit code, times), and locks.  Processes are the
 * runtime's and the monitor's business; this file only keeps the books.
 *
 * Layout:
 *   <root>/containers.json          the index: id, name, image, created
 *   <root>/containers.lock          flock guarding the index (names unique)
 *   <root>/containers/<id>/         config.json, state.json, ctr.log, rootfs/
 *   <runroot>/containers/<id>/      lock, generated /etc files, sockets
 *
 * state.json lives with the config (not under the runtime directory) so an
 * exit code survives a reboot; whether a "running" container really runs
 * is checked against its PID and the PID's start time on every read. */
#ifndef SKIFF_SRC_CONTAINER_H
#define SKIFF_SRC_CONTAINER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"

enum container_status
{
  CONTAINER_CREATED,
  CONTAINER_RUNNING,
  CONTAINER_PAUSED,
  CONTAINER_STOPPING,
  CONTAINER_EXITED,
};

struct container_state
{
  enum container_status status;
  pid_t pid;              /* the container's PID 1 as the host sees it, 0 when none */
  uint64_t pid_start;     /* its start time (clock ticks since boot, /proc/PID/stat) */
  pid_t monitor_pid;      /* the process that waits for it (CLI or monitor) */
  int exit_code;          /* valid once exited; -1 when unknown (monitor lost) */
  int64_t started_at;     /* nanoseconds since the epoch, 0 when never */
  int64_t finished_at;
  int restart_count;
  bool is_stop_requested; /* stop/kill by the user: no restart */
  bool is_restarting;     /* exited, and the monitor starts it again after a backoff */
  char *error;            /* why the last start failed, or NULL */
  json_object *network;   /* NetworkSettings of the last start: Ports, IPAddress */
};

struct container
{
  char *id;               /* 64 hex digits */
  char *name;
  char *image_id;         /* "sha256:..." */
  char *image_name;       /* as the user gave it, normalised */
  int64_t created;        /* nanoseconds since the epoch */
  json_object *config;    /* the creation config (see cmd_run.c) */
  char *dir;              /* <root>/containers/<id> */
  char *run_dir;          /* <runroot>/containers/<id> */
  struct container_state state;
};

void container_free (struct container *c);
void container_freep (struct container **c);
#define cleanup_container __attribute__ ((cleanup (container_freep)))
void container_vec_free (struct container **v);

const char *container_status_name (enum container_status s);

/* Create a container record for CONFIG (a JSON object whose "Image",
 * "ImageName" members are read; the object is kept as given).  NAME NULL
 * picks a free random name; a taken name is an error naming the container
 * that has it, unless IS_REPLACE, which removes that container first via
 * REMOVE_FN.  The index is updated under its lock, so concurrent creates
 * never share a name.  *OUT owns the new record. */
typedef int (*container_remove_fn) (struct skiff_context *ctx, struct container *victim,
                                    struct error **err);
int container_create (struct skiff_context *ctx, json_object *config, const char *name,
                      bool is_replace, container_remove_fn remove_fn, struct container **out,
                      struct error **err) __attribute__ ((warn_unused_result));

/* Find a container by full ID, unique ID prefix or name.  0 with *OUT NULL
 * when there is none; an ambiguous prefix is an error.  The state is read
 * and refreshed (a dead PID turns "running" into "exited"). */
int container_find (struct skiff_context *ctx, const char *ref, struct container **out,
                    struct error **err) __attribute__ ((warn_unused_result));
/* container_find() failing with "no such container: REF" (exit 125). */
int container_require (struct skiff_context *ctx, const char *ref, struct container **out,
                       struct error **err) __attribute__ ((warn_unused_result));

/* Every container, oldest first, with refreshed state. */
int container_list (struct skiff_context *ctx, struct container ***out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Take the container's lock (exclusive), creating its runtime directory;
 * returns the descriptor. */
int container_lock (struct skiff_context *ctx, struct container *c, struct error **err)
    __attribute__ ((warn_unused_result));

/* Read the state again from disk (and refresh it), write it atomically. */
int container_state_load (struct container *c, struct error **err)
    __attribute__ ((warn_unused_result));
int container_state_save (struct container *c, struct error **err)
    __attribute__ ((warn_unused_result));

/* Whether PID still is the process that started at START (PID reuse safe). */
bool container_pid_alive (pid_t pid, uint64_t start);
/* The start time of PID (field 22 of /proc/PID/stat), 0 when gone. */
uint64_t container_pid_start_time (pid_t pid);

/* Drop the record: index entry first (the commit point), then the
 * directories (the caller removes subordinate-owned files inside the user
 * namespace: container_remove_files()). */
int container_delete_record (struct skiff_context *ctx, struct container *c,
                             struct error **err) __attribute__ ((warn_unused_result));

/* Remove the directories of deleted containers inside the user namespace
 * (their files may belong to subordinate IDs). */
int container_purge_trash (struct skiff_context *ctx, struct error **err)
    __attribute__ ((warn_unused_result));

/* Rename, keeping names unique. */
int container_rename (struct skiff_context *ctx, struct container *c, const char *name,
                      struct error **err) __attribute__ ((warn_unused_result));

/* Whether S is a valid container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
bool container_name_valid (const char *s);

/* Nanoseconds since the epoch. */
int64_t container_now_ns (void);

#endif
