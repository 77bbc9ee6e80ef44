/* Registry authentication, the parts that need no network: parsing the
 * WWW-Authenticate challenge of a 401 reply, building the token request URL
 * and reading the token reply (the Docker token protocol), and finding a
 * registry's credentials in the auth files podman and docker write.  The
 * transport that uses them is registry.c.  Nothing here logs a secret. */
#ifndef SKIFF_SRC_REGISTRY_AUTH_H
#define SKIFF_SRC_REGISTRY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libutil/error.h"

enum registry_auth_scheme
{
  REGISTRY_AUTH_NONE = 0, /* no challenge: the registry is open */
  REGISTRY_AUTH_BASIC,
  REGISTRY_AUTH_BEARER,
};

/* The challenge we act on.  Strings are malloc'd, NULL when absent. */
struct registry_challenge
{
  enum registry_auth_scheme scheme;
  char *realm;   /* Bearer: the token endpoint URL; Basic: a label */
  char *service; /* Bearer only */
  char *scope;   /* Bearer only, what the registry asked for */
};

/* Parse a WWW-Authenticate header value (RFC 7235: one or more challenges,
 * parameters as tokens or quoted strings with backslash escapes, commas
 * inside quotes).  Chooses Bearer over Basic and ignores other schemes.
 * Fails on malformed syntax, on a header without a Bearer or Basic
 * challenge, and on a Bearer challenge whose realm is not an http(s) URL.
 * On success *OUT is filled (release it with registry_challenge_clear()). */
int registry_auth_parse_challenge (const char *header, struct registry_challenge *out,
                                   struct error **err) __attribute__ ((warn_unused_result));
void registry_challenge_clear (struct registry_challenge *c);

/* The token request URL: REALM with "service=" (when SERVICE is set) and
 * one "scope=" per entry of the NULL-terminated SCOPES appended as query
 * parameters, percent-encoded.  Always succeeds; the result is malloc'd. */
char *registry_auth_token_url (const char *realm, const char *service,
                               const char *const *scopes);

/* Read a token reply: a JSON object with "token" or "access_token" (the
 * first wins) and an optional "expires_in" in seconds.  *EXPIRES_IN gets
 * at least 60 (the protocol's default when absent or smaller).  Rejects a
 * token that is empty or holds anything but printable ASCII without spaces,
 * since it goes into an HTTP header. */
int registry_auth_parse_token (const char *data, size_t len, char **token,
                               int64_t *expires_in, struct error **err)
    __attribute__ ((warn_unused_result));

/* A user name and password (never logged).  Both malloc'd. */
struct registry_creds
{
  char *username;
  char *password;
};

void registry_creds_clear (struct registry_creds *c);

/* Split "user:password" (as --creds takes it) at the first colon.  An empty
 * user name or a missing colon is an error. */
int registry_creds_parse (const char *s, struct registry_creds *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Find credentials for REGISTRY ("docker.io", "127.0.0.1:5000") and
 * REPOSITORY ("library/busybox", may be NULL) in one auth file's JSON:
 * {"auths": {KEY: {"auth": base64("user:password")}}}, or with LEGACY set
 * the old ~/.dockercfg shape without the "auths" wrapper.  Keys may name a
 * registry, a namespace or a repository ("host/ns/repo", the most specific
 * wins) and may be docker's URLs ("https://index.docker.io/v1/" is
 * docker.io).  WHAT names the file in errors.  Returns 1 and fills *OUT when
 * found, 0 when the file has no entry (or only one without "auth"), and
 * negative on malformed JSON or base64. */
int registry_auth_find_in_json (const char *data, size_t len, const char *what,
                                bool legacy, const char *registry, const char *repository,
                                struct registry_creds *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Look REGISTRY/REPOSITORY up in the auth files podman reads, in its
 * order: only AUTHFILE (or $REGISTRY_AUTH_FILE) when set; otherwise
 * $XDG_RUNTIME_DIR/containers/auth.json (/run/containers/UID/auth.json
 * without it), $XDG_CONFIG_HOME/containers/auth.json (~/.config/...),
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json, and the legacy
 * ~/.dockercfg.  The first file with a matching entry wins; missing files
 * are skipped.  In each file a "credHelpers" entry for REGISTRY decides
 * alone (its docker-credential-NAME helper is asked, auth_file.h), then
 * the "auths" entries, then the "credsStore" helper.
 * Returns 1 when found, 0 when not, negative when a file cannot be read or
 * parsed (the error names the file). */
int registry_auth_lookup (const char *authfile, const char *registry,
                          const char *repository, struct registry_creds *out,
                          struct error **err) __attribute__ ((warn_unused_result));

#endif
