/* libcrypto's SHA-256, the only part skiff uses (libutil/sha256.c), loaded
 * on first use (see lazylib.h): a container's monitor hashes nothing and
 * so never maps the library.  The prototypes come from openssl/evp.h. */
#include "config.h"

#include <openssl/evp.h>

#include "lazylib.h"

LAZYLIB_FN (crypto, EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
LAZYLIB_VOID (crypto, EVP_MD_CTX_free, (EVP_MD_CTX *a0), (a0))
LAZYLIB_FN (crypto, int, EVP_DigestInit_ex, (EVP_MD_CTX *a0, const EVP_MD *a1, ENGINE *a2),
            (a0, a1, a2))
LAZYLIB_FN (crypto, int, EVP_DigestUpdate, (EVP_MD_CTX *a0, const void *a1, size_t a2),
            (a0, a1, a2))
LAZYLIB_FN (crypto, int, EVP_DigestFinal_ex, (EVP_MD_CTX *a0, unsigned char *a1, unsigned int *a2),
            (a0, a1, a2))
LAZYLIB_FN (crypto, int, EVP_Digest,
            (const void *a0, size_t a1, unsigned char *a2, unsigned int *a3, const EVP_MD *a4,
             ENGINE *a5),
            (a0, a1, a2, a3, a4, a5))
LAZYLIB_FN (crypto, const EVP_MD *, EVP_sha256, (void), ())
