/* The JSON shapes of containers: docker's `inspect`, podman's `ps --format
 * json`, and the fields `ps` templates and tables read. */
#ifndef SKIFF_SRC_CONTAINER_JSON_H
#define SKIFF_SRC_CONTAINER_JSON_H

#include <json-c/json.h>
#include <time.h>

#include "container.h"

/* docker's inspect object for C: every key of Engine API v1.43's, with its
 * JSON type (tests/system/fixtures/docker-shapes), plus podman's ImageName;
 * Name without docker's leading "/".  New reference; never fails. */
json_object *container_json_inspect (const struct container *c);
json_object *container_json_ps (const struct container *c);
/* docker's ps template fields: ID (short), Names, Image, Command (quoted
 * and cut unless IS_NO_TRUNC), CreatedAt, RunningFor, Status, State,
 * Ports, Labels, Mounts. */
json_object *container_json_ps_row (const struct container *c, bool is_no_trunc, time_t now);

/* The PORTS column: "0.0.0.0:8080->80/tcp", "" when none.  Malloc'd. */
char *container_json_ports (const struct container *c);

/* "Up 5 seconds", "Exited (0) 2 minutes ago", "Created". */
void container_json_status (const struct container *c, time_t now, char *out, size_t len);

/* The command as one line: entrypoint and cmd joined by spaces. */
char *container_json_command (const struct container *c);

#endif
