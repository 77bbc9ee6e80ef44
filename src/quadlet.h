/* Quadlet: `.container`, `.volume` and `.network` files turned into
 * systemd service units that run skiff, with podman 4.x's keys and the
 * shape of the units podman's generator writes.  Pure translation from
 * parsed units to a parsed unit; cmd_quadlet.c finds the files and writes
 * the results. */
#ifndef SKIFF_SRC_QUADLET_H
#define SKIFF_SRC_QUADLET_H

#include <stdbool.h>

#include "libutil/error.h"
#include "quadlet_unit.h"

enum quadlet_kind
{
  QUADLET_NONE,
  QUADLET_CONTAINER,
  QUADLET_VOLUME,
  QUADLET_NETWORK,
};

/* The kind of source file NAME is, by its extension. */
enum quadlet_kind quadlet_kind_of (const char *name);

/* The service unit's file name for source file NAME: "web.container" ->
 * "web.service", "data.volume" -> "data-volume.service", "net.network" ->
 * "net-network.service".  NULL for another extension. */
char *quadlet_service_name (const char *name);

/* The skiff volume a `.volume` unit creates: its VolumeName=, else
 * "systemd-" and the file name without its extension. */
char *quadlet_volume_name (const struct quadlet_unit *volume);

struct quadlet_opts
{
  const char *exe; /* skiff's absolute path, the first word of each command */
};

/* The service unit for SOURCE.  UNITS (NULL-terminated, may hold SOURCE)
 * are the other files found, for `name.volume` references.  Keys skiff
 * ignores or does not know add a message naming the file and the key to
 * *WARNINGS.  Fails, naming the file, on a container without Image=, a
 * `.network` file or reference (skiff has no user-defined networks),
 * malformed values (quotes, ports, tmpfs, KillMode), or a Group= without
 * User=. */
struct quadlet_unit *quadlet_convert (const struct quadlet_unit *source,
                                      struct quadlet_unit *const *units,
                                      const struct quadlet_opts *o, char ***warnings,
                                      struct error **err);

/* The generated file's text: a header saying so, then the unit. */
char *quadlet_service_text (const struct quadlet_unit *service);

/* The unit names ("default.target.wants/web.service", "alias.service")
 * that the generator links to SERVICE as `systemctl enable` would, from
 * its [Install] WantedBy=, RequiredBy= and Alias=.  Names holding a '/'
 * or starting with '.' are left out. */
char **quadlet_install_links (const struct quadlet_unit *service);

#endif
