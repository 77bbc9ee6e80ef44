/* `build`'s ignore file: the patterns of .containerignore (preferred) or
 * .dockerignore at the root of the context, or of "<Dockerfile>.dockerignore"
 * next to the Dockerfile (BuildKit's per-Dockerfile file, which wins over
 * both), with docker's semantics (moby/patternmatcher):
 *
 *  - one pattern a line; "#" starts a comment line; blank lines and
 *    surrounding white space are ignored;
 *  - a pattern is cleaned as Go's filepath.Clean does, after a leading "/"
 *    or "./" is dropped, so "/a//b/" and "a/b" are the same;
 *  - Go filepath.Match syntax ("*", "?", "[a-z]", "[^a]", "\\" escape),
 *    where "*" and "?" do not cross "/", plus "**" matching any number of
 *    directories: "**" alone, "**" + "/x", "a/" + "**";
 *  - "!" makes an exception that re-includes what earlier patterns
 *    excluded; the last pattern that matches decides;
 *  - a pattern matching a directory excludes everything below it unless a
 *    later exception matches something there.
 *
 * A malformed pattern (an unterminated "[", a trailing "\\") is an error
 * naming the file and line, as docker refuses it. */
#ifndef SKIFF_SRC_BUILD_IGNORE_H
#define SKIFF_SRC_BUILD_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "libutil/error.h"

struct build_ignore; /* opaque */

/* Parse TEXT (LEN bytes) read from PATH (for messages).  An empty text
 * gives a set that matches nothing. */
struct build_ignore *build_ignore_parse (const char *path, const char *text, size_t len,
                                         struct error **err) __attribute__ ((warn_unused_result));

/* Load the ignore file for a build: "<DOCKERFILE_PATH>.dockerignore" when
 * that file exists (DOCKERFILE_PATH as in build_context, read relative to
 * the current directory; NULL or "-" skips it), else ".containerignore",
 * else ".dockerignore" in CONTEXT_DIRFD (-1: no context).  *OUT is NULL
 * when there is none: build_ignore_match() accepts NULL and matches
 * nothing. */
int build_ignore_load (int context_dirfd, const char *dockerfile_path, struct build_ignore **out,
                       struct error **err) __attribute__ ((warn_unused_result));

/* True when RELPATH (relative to the context root, "/"-separated, no
 * leading "/" or "./"; cleaned by the caller) is excluded, itself or
 * through an excluded parent directory.  IS_DIR tells whether it is a
 * directory.  IGN NULL matches nothing. */
bool build_ignore_match (const struct build_ignore *ign, const char *relpath, bool is_dir);

/* True when an excluded directory DIR_RELPATH must still be walked because
 * an exception ("!" pattern) may re-include something below it; false
 * means the whole directory can be skipped. */
bool build_ignore_has_exceptions_below (const struct build_ignore *ign, const char *dir_relpath);

/* Go's filepath.Match of NAME against one PATTERN ("*", "?", classes,
 * "\\" escapes; "*" and "?" do not match "/"), also used for COPY's
 * globs.  1 on a match, 0 on none, -1 when PATTERN is malformed. */
int build_ignore_fnmatch (const char *pattern, const char *name);

/* True when IGN is NULL or holds no pattern. */
bool build_ignore_is_empty (const struct build_ignore *ign);

void build_ignore_free (struct build_ignore *ign);
void build_ignore_freep (struct build_ignore **ign);
#define cleanup_build_ignore __attribute__ ((cleanup (build_ignore_freep)))

#endif
