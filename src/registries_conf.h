/* registries.conf, as containers-registries.conf(5) and podman read it:
 * unqualified-search-registries for short names, [aliases], and
 * [[registry]] entries (prefix, location, insecure, blocked, mirrors), in
 * the version 2 format and the old [registries.search|insecure|block] one.
 *
 * Files and their order (podman's, from containers/image sysregistriesv2):
 *  1. the main file: $CONTAINERS_REGISTRIES_CONF when set (then it must
 *     exist); else the user's $XDG_CONFIG_HOME/containers/registries.conf
 *     (~/.config/...) when it exists; else /etc/containers/registries.conf;
 *  2. the *.conf drop-ins, sorted by name, of
 *     /etc/containers/registries.conf.d (not read when the user's file is
 *     the main file) and then of the user's
 *     $XDG_CONFIG_HOME/containers/registries.conf.d.
 * A later file replaces the [[registry]] entries with the same prefix,
 * unqualified-search-registries and short-name-mode when it sets them, and
 * adds to or replaces [aliases] (an empty alias value removes an alias). */
#ifndef SKIFF_SRC_REGISTRIES_CONF_H
#define SKIFF_SRC_REGISTRIES_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "libutil/error.h"
#include "reference.h"

#define REGISTRIES_CONF_SYSTEM_FILE "/etc/containers/registries.conf"
#define REGISTRIES_CONF_SYSTEM_DIR "/etc/containers/registries.conf.d"

/* Which references a mirror serves (pull-from-mirror). */
enum registry_mirror_pull
{
  REGISTRY_PULL_ALL = 0,
  REGISTRY_PULL_DIGEST_ONLY,
  REGISTRY_PULL_TAG_ONLY,
};

struct registry_mirror
{
  char *location; /* "mirror.example.com/ns", never empty */
  bool is_insecure;
  enum registry_mirror_pull pull_from;
};

struct registry_entry
{
  char *prefix;   /* what it applies to: "quay.io/ns", "*.example.com";
                     the location when the file gives no prefix */
  char *location; /* where to go instead; "" (only with a wildcard prefix)
                     keeps the reference as it is */
  bool is_insecure;  /* plain HTTP and unverified TLS allowed */
  bool is_blocked;   /* pulling from it is refused */
  bool is_mirror_by_digest_only; /* mirrors only for digest references */
  struct registry_mirror *mirrors;
  size_t n_mirrors;
};

/* One place to pull a reference from, in the order to try them. */
struct registry_pull_source
{
  struct image_ref ref; /* rewritten for this endpoint */
  bool is_insecure;
  bool is_mirror;
};

struct registries_conf;

/* Where registries_conf_load() reads from, computed from the environment
 * as described above: the main file, whether it must exist, and the
 * drop-in directories in order (NULL-terminated). */
void registries_conf_default_paths (char **main_file, bool *is_main_required,
                                    char ***dropin_dirs);

/* Load and merge the configuration from the default places. */
int registries_conf_load (struct registries_conf **out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Load MAIN_FILE (skipped when NULL, or when missing and not
 * IS_MAIN_REQUIRED), then each directory of DROPIN_DIRS (NULL-terminated,
 * may be NULL; missing directories are skipped).  A malformed file fails
 * with "FILE:LINE: what is wrong". */
int registries_conf_load_paths (const char *main_file, bool is_main_required,
                                const char *const *dropin_dirs,
                                struct registries_conf **out, struct error **err)
    __attribute__ ((warn_unused_result));

void registries_conf_free (struct registries_conf *c);
void registries_conf_freep (struct registries_conf **c);
#define cleanup_registries_conf __attribute__ ((cleanup (registries_conf_freep)))

/* unqualified-search-registries, NULL-terminated; { "docker.io" } when no
 * file sets the key (a file that sets it to [] leaves the list empty). */
const char *const *registries_conf_search (const struct registries_conf *c);

/* "enforcing", "permissive", "disabled", or NULL when unset. */
const char *registries_conf_short_name_mode (const struct registries_conf *c);

/* The [aliases] value for SHORT_NAME (no tag or digest), normalised
 * ("docker.io/library/busybox"), or NULL. */
const char *registries_conf_alias (const struct registries_conf *c,
                                   const char *short_name);

/* The [[registry]] entry with the longest prefix matching REF, a name that
 * starts with its registry ("quay.io/ns/repo", with or without tag or
 * digest), or NULL.  A prefix matches when REF starts with it followed by
 * the end, '/', ':' or '@'; "*.example.com" matches any subdomain of
 * example.com.  This is what a push consults (insecure, blocked). */
const struct registry_entry *registries_conf_find (const struct registries_conf *c,
                                                   const char *ref);

/* Where to pull REF from, in order: the mirrors that serve it (a mirror
 * marked digest-only or tag-only is skipped for the other kind), then the
 * primary location, each with REF's matched prefix rewritten to its
 * location.  Without a matching entry that is REF alone.  Fails when the
 * entry blocks REF.  C may be NULL (no configuration).  Release the array
 * with registries_conf_free_sources(). */
int registries_conf_pull_sources (const struct registries_conf *c,
                                  const struct image_ref *ref,
                                  struct registry_pull_source **out, size_t *n_out,
                                  struct error **err)
    __attribute__ ((warn_unused_result));
void registries_conf_free_sources (struct registry_pull_source *s, size_t n);

/* The fully-qualified references a user's NAME may mean when pulling, to
 * try in order.  A name with a registry is just normalised.  A short name
 * ("busybox:1.36") becomes its alias when there is one, else one candidate
 * per unqualified-search registry ("docker.io/library/busybox:1.36",
 * "quay.io/busybox:1.36"); a tag or digest in NAME is kept, and "latest"
 * added when there is neither.  Fails on an invalid NAME, or when nothing
 * is left to try (the search list was set to []).  C may be NULL (then the
 * default search list applies).  Release with registries_conf_free_refs(). */
int registries_conf_resolve (const struct registries_conf *c, const char *name,
                             struct image_ref **out, size_t *n_out, struct error **err)
    __attribute__ ((warn_unused_result));

/* The same for finding a local image: the alias (if any), then
 * "localhost/NAME", then each unqualified-search registry. */
int registries_conf_resolve_local (const struct registries_conf *c, const char *name,
                                   struct image_ref **out, size_t *n_out,
                                   struct error **err)
    __attribute__ ((warn_unused_result));

void registries_conf_free_refs (struct image_ref *refs, size_t n);

#endif
