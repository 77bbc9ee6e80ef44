/* SHA-256 over libcrypto's EVP interface, and the "sha256:<hex>" digest
 * strings of the OCI specs.  libcrypto only fails here on out-of-memory,
 * which aborts as everywhere else. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "mem.h"
#include "sha256.h"

#define SHA256_LEN 32
#define HASH_CHUNK 65536

struct sha256_ctx
{
  EVP_MD_CTX *md;
};

static void __attribute__ ((noreturn))
crypto_failed (const char *what)
{
  fprintf (stderr, "Error: libcrypto: %s failed\n", what);
  abort ();
}

struct sha256_ctx *
sha256_new (void)
{
  struct sha256_ctx *c = xmalloc (sizeof *c);

  c->md = EVP_MD_CTX_new ();
  if (c->md == NULL)
    crypto_failed ("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex (c->md, EVP_sha256 (), NULL) != 1)
    crypto_failed ("EVP_DigestInit_ex");
  return c;
}

void
sha256_update (struct sha256_ctx *c, const void *data, size_t len)
{
  if (len > 0 && EVP_DigestUpdate (c->md, data, len) != 1)
    crypto_failed ("EVP_DigestUpdate");
}

static void
to_hex (const unsigned char *raw, size_t len, char *hex)
{
  static const char digits[] = "0123456789abcdef";

  for (size_t i = 0; i < len; i++)
    {
      hex[2 * i] = digits[raw[i] >> 4];
      hex[2 * i + 1] = digits[raw[i] & 0xf];
    }
  hex[2 * len] = '\0';
}

void
sha256_final_hex (struct sha256_ctx *c, char hex[SHA256_HEX_LEN + 1])
{
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int len = 0;

  if (EVP_DigestFinal_ex (c->md, raw, &len) != 1 || len != SHA256_LEN)
    crypto_failed ("EVP_DigestFinal_ex");
  to_hex (raw, len, hex);
}

void
sha256_free (struct sha256_ctx *c)
{
  if (c == NULL)
    return;
  EVP_MD_CTX_free (c->md);
  free (c);
}

void
sha256_freep (struct sha256_ctx **c)
{
  sha256_free (*c);
  *c = NULL;
}

void
sha256_buf_hex (const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
  unsigned char raw[SHA256_LEN];
  unsigned int n = 0;

  if (EVP_Digest (data, len, raw, &n, EVP_sha256 (), NULL) != 1 || n != SHA256_LEN)
    crypto_failed ("EVP_Digest");
  to_hex (raw, n, hex);
}

/* Hash FD to EOF; PATH names it in errors (NULL: name the descriptor). */
static int
hash_fd (int fd, const char *path, char hex[SHA256_HEX_LEN + 1], size_t *size,
         struct error **err)
{
  cleanup_sha256 struct sha256_ctx *c = sha256_new ();
  cleanup_free char *chunk = xmalloc (HASH_CHUNK);
  size_t total = 0;

  for (;;)
    {
      ssize_t n = read (fd, chunk, HASH_CHUNK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && path)
        return err_make (err, errno, "hash \"%s\": read", path);
      if (n < 0)
        return err_make (err, errno, "hash descriptor %d: read", fd);
      if (n == 0)
        break;
      sha256_update (c, chunk, (size_t) n);
      total += (size_t) n;
    }
  sha256_final_hex (c, hex);
  if (size)
    *size = total;
  return 0;
}

int
sha256_fd_hex (int fd, char hex[SHA256_HEX_LEN + 1], size_t *size, struct error **err)
{
  return hash_fd (fd, NULL, hex, size, err);
}

int
sha256_file_hex (const char *path, char hex[SHA256_HEX_LEN + 1], size_t *size,
                 struct error **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", path);
  return hash_fd (fd, path, hex, size, err);
}

bool
sha256_digest_valid (const char *s)
{
  if (s == NULL || strncmp (s, "sha256:", 7) != 0)
    return false;
  s += 7;
  for (int i = 0; i < SHA256_HEX_LEN; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[SHA256_HEX_LEN] == '\0';
}
