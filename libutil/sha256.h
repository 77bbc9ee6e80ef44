/* SHA-256 over libcrypto: streams, buffers and files, and "sha256:<hex>"
 * digest strings as the OCI specs write them. */
#ifndef SKIFF_LIBUTIL_SHA256_H
#define SKIFF_LIBUTIL_SHA256_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define SHA256_HEX_LEN 64
/* "sha256:" + 64 hex digits + NUL */
#define SHA256_DIGEST_STR_LEN (7 + SHA256_HEX_LEN + 1)

struct sha256_ctx; /* opaque */

struct sha256_ctx *sha256_new (void);
void sha256_update (struct sha256_ctx *c, const void *data, size_t len);
/* Write the 64 lowercase hex digits and a NUL to HEX. */
void sha256_final_hex (struct sha256_ctx *c, char hex[SHA256_HEX_LEN + 1]);
void sha256_free (struct sha256_ctx *c);
#define cleanup_sha256 __attribute__ ((cleanup (sha256_freep)))
void sha256_freep (struct sha256_ctx **c);

void sha256_buf_hex (const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);
/* Hash a file; *size gets the number of bytes when SIZE is not NULL. */
int sha256_file_hex (const char *path, char hex[SHA256_HEX_LEN + 1], size_t *size,
                     struct error **err);
int sha256_fd_hex (int fd, char hex[SHA256_HEX_LEN + 1], size_t *size,
                   struct error **err);

/* True when S is "sha256:" followed by exactly 64 lowercase hex digits. */
bool sha256_digest_valid (const char *s);

#endif
