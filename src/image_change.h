/* Dockerfile change instructions, as `import --change` takes them, applied
 * to an image config.  Pure JSON work on the caller's object: no store, no
 * file system, no state between calls. */
#ifndef SKIFF_SRC_IMAGE_CHANGE_H
#define SKIFF_SRC_IMAGE_CHANGE_H

#include <json-c/json.h>

#include "libutil/error.h"

/* Apply one Dockerfile instruction, as `import --change` takes it ("CMD
 * [\"sh\"]", "ENV A=b", also "CMD=..."), to CONFIG, the "config" object of
 * an image config (docker's keys: Cmd, Entrypoint, Env, ExposedPorts,
 * Labels, OnBuild, StopSignal, User, Volumes, WorkingDir).  CMD, ENTRYPOINT
 * and VOLUME take the JSON or the shell form; ENV and LABEL key=value
 * pairs with Dockerfile quoting or the legacy "KEY VALUE" form; EXPOSE
 * ports and ranges with /tcp, /udp or /sctp; WORKDIR relative to the one
 * before.  An unknown instruction or a malformed value is an error and
 * leaves CONFIG as it was. */
int image_change_apply (json_object *config, const char *change, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
