/* `build`'s context: the files COPY and ADD read, and the Dockerfile.  The
 * CONTEXT argument is a directory, a local tarball, or "-" for standard
 * input, which holds either a Dockerfile (no context at all: only COPY of
 * here-documents works) or a tar archive, told apart by its bytes as
 * docker does (gzip, bzip2, xz and zstd compression, or a tar header).  A
 * tar becomes the context by extraction into a private temporary
 * directory, with the same hostile-input rules as image layers
 * (storage_extract_layer: no entry leaves the directory, no symlink is
 * followed, device nodes are skipped), removed again by
 * build_context_free(). */
#ifndef SKIFF_SRC_BUILD_CONTEXT_H
#define SKIFF_SRC_BUILD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "libutil/error.h"

/* Largest Dockerfile read (docker has no limit; this bounds hostile input). */
#define BUILD_CONTEXT_DOCKERFILE_MAX (16u << 20)

struct build_context
{
  /* The context directory (the one given, or the private directory a tar
   * was extracted into), or NULL when stdin held a Dockerfile. */
  char *dir;
  /* O_PATH | O_DIRECTORY | O_CLOEXEC descriptor of DIR, -1 without one.
   * COPY resolves its sources beneath it (build_copy_opts.src_root_fd). */
  int dirfd;
  /* Where the Dockerfile was read from, for messages and for
   * "<Dockerfile>.dockerignore": a path as given or found ("ctx/Containerfile",
   * "-" for standard input), or for a tar context its name inside the
   * archive. */
  char *dockerfile_path;
  /* Its text, NUL-terminated, LEN bytes (NUL bytes inside are left for the
   * parser to refuse). */
  char *dockerfile_text;
  size_t dockerfile_len;
  /* The context came from a tar (stdin or a tarball): DIR is private. */
  bool is_tar;
  /* Private temporary directory holding the extracted context, removed by
   * build_context_free(); NULL for a directory context. */
  char *tmpdir;
};

/* Open the context named by CONTEXT_ARG ("-", a directory, a tarball path)
 * and read the Dockerfile: DOCKERFILE_ARG (the -f value, or NULL) is "-"
 * for standard input, or a path relative to the current directory as
 * docker and podman read it (a relative one missing there is looked for in
 * a directory context, as podman does; for a tar context it is first a
 * name inside the archive, as docker does), or when NULL "Containerfile",
 * then "Dockerfile" in the context.  STDIN_FD is the descriptor "-" reads (the
 * caller's 0; tests pass a pipe or file).  Both CONTEXT_ARG and
 * DOCKERFILE_ARG "-" is an error, as is a context that exists as neither
 * directory nor regular file, a tar that fails to extract, or no
 * Dockerfile ("no Containerfile or Dockerfile specified or found in
 * context directory, ...").  Temporary directories go under $TMPDIR
 * (default /var/tmp, as podman).  *OUT is freed with
 * build_context_free(), which removes anything it made.  Makes no
 * process; not for use after fork. */
int build_context_open (const char *context_arg, const char *dockerfile_arg, int stdin_fd,
                        struct build_context **out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Close the descriptor, remove the private directory (best effort: a
 * failure is logged as a warning), free C.  NULL is fine. */
void build_context_free (struct build_context *c);
void build_context_freep (struct build_context **c);
#define cleanup_build_context __attribute__ ((cleanup (build_context_freep)))

/* The kind of stream a context on stdin or in a file holds, from its first
 * bytes (LEN of them, at least 512 for a tar header to be recognised). */
enum build_context_kind
{
  BUILD_CONTEXT_TEXT, /* neither compressed nor a tar: a Dockerfile */
  BUILD_CONTEXT_TAR,  /* a tar, possibly gzip/bzip2/xz/zstd compressed */
};

enum build_context_kind build_context_sniff (const void *head, size_t len);

#endif
