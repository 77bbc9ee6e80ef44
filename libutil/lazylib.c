/* Loading libcurl and libarchive on first use (see lazylib.h). */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "lazylib.h"

struct lazylib lazylib_curl = { SKIFF_LIBCURL_SONAME, "libcurl4", NULL };
struct lazylib lazylib_archive = { SKIFF_LIBARCHIVE_SONAME, "libarchive13", NULL };
struct lazylib lazylib_crypto = { SKIFF_LIBCRYPTO_SONAME, "libssl3", NULL };

static void *
open_lib (struct lazylib *lib)
{
  void *h = __atomic_load_n (&lib->handle, __ATOMIC_ACQUIRE);

  if (h != NULL)
    return h;
  /* dlopen counts references, so a race between two threads loads the
   * library once and only bumps its count. */
  h = dlopen (lib->soname, RTLD_NOW | RTLD_LOCAL);
  if (h != NULL)
    __atomic_store_n (&lib->handle, h, __ATOMIC_RELEASE);
  return h;
}

int
lazylib_load (struct lazylib *lib, struct error **err)
{
  if (open_lib (lib) == NULL)
    return err_make (err, 0, "cannot load %s (install the %s package): %s", lib->soname,
                     lib->package, dlerror ());
  return 0;
}

bool
lazylib_is_loaded (const struct lazylib *lib)
{
  return __atomic_load_n (&lib->handle, __ATOMIC_ACQUIRE) != NULL;
}

void *
lazylib_sym (struct lazylib *lib, const char *name)
{
  void *h = open_lib (lib);
  void *sym;

  if (h == NULL)
    {
      fprintf (stderr, "Error: cannot load %s (install the %s package): %s\n", lib->soname,
               lib->package, dlerror ());
      exit (125);
    }
  sym = dlsym (h, name);
  if (sym == NULL)
    {
      fprintf (stderr, "Error: %s has no %s: %s (is the %s package too old?)\n", lib->soname,
               name, dlerror (), lib->package);
      exit (125);
    }
  return sym;
}
