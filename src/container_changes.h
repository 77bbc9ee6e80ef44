/* What a container changed in its root file system against its image:
 * the changes behind docker's `diff` list (A, C, D) and `commit`'s layer.
 *
 * With the overlay drivers the changes are the upper directory: an entry
 * there is new (A) or changed (C) depending on whether the layers below
 * have that path, a 0:0 character device or a ".wh.NAME" file (the form
 * fuse-overlayfs falls back to) is a deletion (D), an opaque directory
 * (xattr or ".wh..wh..opq") replaced the lower one (C).  With vfs the
 * copied tree is compared with the layers merged as overlay would merge
 * them.  The pure parts (classification, docker's ordering and parent
 * rule, OCI whiteout names) are exported for the unit tests.  Nothing here
 * knows containers or namespaces: container_diff.h runs the walk. */
#ifndef SKIFF_SRC_CONTAINER_CHANGES_H
#define SKIFF_SRC_CONTAINER_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libutil/error.h"

enum container_change_kind
{
  CONTAINER_CHANGE_NONE,   /* in the writable layer but as below: a directory
                              copied up for a child (commit keeps it) */
  CONTAINER_CHANGE_ADD,    /* "A" */
  CONTAINER_CHANGE_MODIFY, /* "C" */
  CONTAINER_CHANGE_DELETE, /* "D" */
};

struct container_change
{
  char *path;     /* absolute and clean: "/etc/passwd" */
  enum container_change_kind kind;
  bool is_dir;
  bool is_opaque; /* a directory hiding everything the layers below have in it */
};

struct container_changes
{
  struct container_change *v;
  size_t n;
};

void container_changes_add (struct container_changes *c, const char *path,
                            enum container_change_kind kind, bool is_dir, bool is_opaque);
void container_changes_clear (struct container_changes *c);

/* "A", "C", "D" (and "" for NONE). */
const char *container_change_letter (enum container_change_kind kind);

/* The attributes a comparison reads from stat(2). */
struct container_changes_attrs
{
  mode_t mode; /* type and permissions */
  uid_t uid;
  gid_t gid;
  dev_t rdev;
  int64_t size;
  int64_t mtime_sec;
  long mtime_nsec;
};

/* How an entry of the changed tree compares with what the layers below
 * have at its path (LOWER NULL: nothing).  IS_WRITTEN: it sits in an
 * overlay upper directory, where any non-directory was written, so it is
 * a change; otherwise (vfs) the attributes decide, as docker's naive diff
 * does (type, mode, owner, device; size and mtime for non-directories).
 * A directory whose type, mode, owner and mtime match is NONE. */
enum container_change_kind container_changes_classify (const struct container_changes_attrs *now,
                                                    const struct container_changes_attrs *lower,
                                                    bool is_written);

/* docker's list from raw changes: NONE dropped, a "C" added for the parent
 * of every A or D entry the list lacks (never "/"), sorted by path. */
void container_changes_finish (struct container_changes *c);

/* The layer's entries from raw changes: every ancestor directory of an
 * entry that the list lacks is added as NONE (so the layer carries its
 * real owner and mode rather than an extractor's default), sorted. */
void container_changes_with_ancestors (struct container_changes *c);

/* OCI layer names (relative, as in a tar): "/a/b" deleted -> "a/.wh.b";
 * "/a" opaque -> "a/.wh..wh..opq".  Malloc'd. */
char *container_changes_whiteout_name (const char *path);
char *container_changes_opaque_name (const char *dir);

/* What a name in an overlay upper directory (fuse-overlayfs fallback form)
 * says: a plain entry, the deletion of *TARGET (".wh.NAME"), or that its
 * directory is opaque (".wh..wh..opq"). */
enum container_changes_name
{
  CONTAINER_CHANGES_NAME_ENTRY,
  CONTAINER_CHANGES_NAME_WHITEOUT,
  CONTAINER_CHANGES_NAME_OPAQUE,
};
enum container_changes_name container_changes_parse_name (const char *name, const char **target);

/* Whether an added PATH is one the runtime makes as a mount point (empty
 * /etc/hosts, /etc/resolv.conf, /etc/hostname, /proc, /sys, /dev...), which
 * diff and commit leave out, as docker's init layer does.  IS_EMPTY: a
 * file of size 0 or a directory without entries. */
bool container_changes_is_runtime_made (const char *path, bool is_empty);

/* Where the changes are read (see container_changes_collect). */
struct container_changes_src
{
  const char *tree;    /* upper/ (overlay drivers) or rootfs/ (vfs), absolute */
  bool is_upper;       /* TREE is an overlay upper directory */
  char *const *lower;  /* the image's layer directories, top first */
};

/* The raw changes of SRC, NONE directories included.  Reads files of any
 * owner: call it in the user namespace.  Safe after fork. */
int container_changes_collect (const struct container_changes_src *src, struct container_changes *out,
                            struct error **err) __attribute__ ((warn_unused_result));

#endif
