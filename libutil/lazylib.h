/* Lazy loading of libcurl, libarchive and libcrypto.  Linked the ordinary
 * way the first two bring some forty shared objects (TLS, Kerberos,
 * LDAP, compressors, ICU) into every skiff process: about 7 ms of dynamic
 * loading at each command and 2 MB of memory in each container's monitor,
 * which needs none of the three.  Instead libutil/lazy_curl.c,
 * lazy_archive.c and lazy_crypto.c define every function skiff calls as a
 * small trampoline that dlopen()s the library on first use and jumps to
 * the real function, so callers keep using the libraries' own API
 * unchanged.
 *
 * A function skiff starts calling must be added to the table of its
 * library's file; the link fails with an undefined reference until it is. */
#ifndef SKIFF_LIBUTIL_LAZYLIB_H
#define SKIFF_LIBUTIL_LAZYLIB_H

#include <stdbool.h>

#include "error.h"

struct lazylib
{
  const char *soname;  /* "libcurl.so.4" */
  const char *package; /* the Debian package that ships it, for messages */
  void *handle;        /* dlopen's, once loaded */
};

extern struct lazylib lazylib_curl;
extern struct lazylib lazylib_archive;
extern struct lazylib lazylib_crypto;

/* Load LIB now; an error names the library and the package to install.
 * Callers that can report an error nicely call this before first use; the
 * trampolines load by themselves otherwise. */
int lazylib_load (struct lazylib *lib, struct error **err);

/* Whether LIB has been loaded in this process (for tests). */
bool lazylib_is_loaded (const struct lazylib *lib);

/* The address of NAME in LIB, loading LIB first.  A library or symbol that
 * cannot be found is a broken installation, the same failure as the
 * dynamic loader refusing to start the program: the message is printed
 * and the process exits with 125 (the only exit below main.c, and it can
 * only happen when a package is missing). */
void *lazylib_sym (struct lazylib *lib, const char *name);

/* One trampoline: NAME with return type RET, parameter list PARAMS and the
 * matching argument list ARGS.  The resolved address is cached in a static
 * pointer; concurrent first calls resolve the same address. */
#define LAZYLIB_FN(lib, ret, name, params, args)                                              \
  ret name params                                                                            \
  {                                                                                          \
    static ret (*real) params;                                                               \
    ret (*fn) params = __atomic_load_n (&real, __ATOMIC_ACQUIRE);                             \
    if (fn == NULL)                                                                          \
      {                                                                                      \
        fn = (ret (*) params) lazylib_sym (&lazylib_##lib, #name);                           \
        __atomic_store_n (&real, fn, __ATOMIC_RELEASE);                                      \
      }                                                                                      \
    return fn args;                                                                          \
  }

#define LAZYLIB_VOID(lib, name, params, args)                                                 \
  void name params                                                                           \
  {                                                                                          \
    static void (*real) params;                                                              \
    void (*fn) params = __atomic_load_n (&real, __ATOMIC_ACQUIRE);                            \
    if (fn == NULL)                                                                          \
      {                                                                                      \
        fn = (void (*) params) lazylib_sym (&lazylib_##lib, #name);                          \
        __atomic_store_n (&real, fn, __ATOMIC_RELEASE);                                      \
      }                                                                                      \
    fn args;                                                                                 \
  }

#endif
