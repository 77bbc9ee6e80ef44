/* Storing registry credentials, what login and logout do: entries of the
 * auth files podman and docker read (containers-auth.json(5): {"auths":
 * {"host": {"auth": base64("user:password")}}}), and docker's credential
 * helpers (credHelpers, credsStore: the programs docker-credential-NAME,
 * spoken to over their stdin and stdout, never with a secret in their
 * argv).  Reading credentials is registry_auth.h's; it asks the helpers
 * through auth_file_helper_get().  Nothing here logs a secret. */
#ifndef SKIFF_SRC_AUTH_FILE_H
#define SKIFF_SRC_AUTH_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "libutil/error.h"
#include "registry_auth.h"

/* Bounds on what we read: an auth file, a helper's reply. */
#define AUTH_FILE_SIZE_MAX (4u << 20)
#define AUTH_FILE_HELPER_REPLY_MAX (64u << 10)

/* The file login writes to: AUTHFILE when set, else $REGISTRY_AUTH_FILE,
 * else $XDG_RUNTIME_DIR/containers/auth.json (/run/containers/UID/
 * auth.json without XDG_RUNTIME_DIR), as podman.  Malloc'd. */
char *auth_file_default_path (const char *authfile);

/* Docker's config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 * Malloc'd. */
char *auth_file_docker_path (void);

/* The key an entry for REGISTRY (as login takes it: "host[:port]", with an
 * optional "/namespace/repo", or docker's "https://host/v1/" URL) has:
 * scheme and trailing slashes dropped, docker's hub host names and its v1
 * URL made "docker.io".  A URL's path is an API version, not a namespace,
 * so it goes too.  Fails on an empty or malformed host.  Malloc'd. */
char *auth_file_key (const char *registry, struct error **err);

/* ---- the JSON of an auth file (pure) ---- */

/* Parse LEN bytes of DATA (an auth file; empty data is an empty file):
 * it must be a JSON object, and "auths", "credHelpers" (when present)
 * objects too.  PATH names the file in errors.  A new reference. */
json_object *auth_file_parse (const char *data, size_t len, const char *path,
                              struct error **err);

/* The helper ROOT names for the host of KEY: its credHelpers entry, else
 * (unless IS_HELPERS_ONLY) credsStore; NULL for none.  A name that is not
 * a plain program name suffix (letters, digits, '.', '_', '-') is no
 * helper.  Points into ROOT. */
const char *auth_file_helper_for (json_object *root, const char *key, bool is_helpers_only);

/* Set auths[KEY] to {"auth": base64("USER:PASSWORD")} and nothing else,
 * replacing an older entry; other entries and keys of ROOT stay.  A user
 * name with a colon is an error (the format could not split it). */
int auth_file_set (json_object *root, const char *key, const char *user, const char *password,
                   struct error **err) __attribute__ ((warn_unused_result));

/* Remove auths[KEY]: 1 when it was there, 0 when not. */
int auth_file_remove (json_object *root, const char *key);

/* Remove every auths entry; other keys of ROOT stay. */
void auth_file_remove_all (json_object *root);

/* ---- the files ---- */

/* Store CREDS for KEY (auth_file_key()) where the file at PATH says: its
 * credential helper for KEY when it names one, else an auths entry in the
 * file, created (mode 0600, its directory 0700) when missing, written
 * atomically and mode 0600 always, other entries and unknown keys kept. */
int auth_file_store (const char *path, const char *key, const struct registry_creds *creds,
                     struct error **err) __attribute__ ((warn_unused_result));

/* Remove KEY's credentials the same way: 1 when there were some, 0 when
 * not (a missing file has none). */
int auth_file_erase (const char *path, const char *key, struct error **err)
    __attribute__ ((warn_unused_result));

/* Remove every auths entry of the file at PATH (logout -a); helpers'
 * credentials are left alone.  A missing file is fine. */
int auth_file_erase_all (const char *path, struct error **err)
    __attribute__ ((warn_unused_result));

/* ---- credential helpers (docker-credential-helpers protocol) ---- */

/* "get": SERVER on the helper's stdin, {"Username", "Secret"} on its
 * stdout.  1 and *OUT filled when it has credentials, 0 when it says
 * "credentials not found", negative when it cannot run or fails.  An
 * identity token (user name "<token>") is not supported and counts as
 * none. */
int auth_file_helper_get (const char *helper, const char *server, struct registry_creds *out,
                          struct error **err) __attribute__ ((warn_unused_result));

/* "store": {"ServerURL", "Username", "Secret"} on the helper's stdin. */
int auth_file_helper_store (const char *helper, const char *server,
                            const struct registry_creds *creds, struct error **err)
    __attribute__ ((warn_unused_result));

/* "erase": SERVER on the helper's stdin.  1 when erased, 0 when the helper
 * had nothing for it. */
int auth_file_helper_erase (const char *helper, const char *server, struct error **err)
    __attribute__ ((warn_unused_result));

/* Parse a helper's "get" reply (exported for the unit tests): a JSON
 * object with string "Username" and "Secret".  Returns 1 with *OUT
 * filled, 0 for an identity token, negative when malformed. */
int auth_file_parse_helper_reply (const char *data, size_t len, struct registry_creds *out,
                                  struct error **err) __attribute__ ((warn_unused_result));

#endif
