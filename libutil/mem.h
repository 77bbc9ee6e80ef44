/* Allocation that aborts on out-of-memory, and scope-exit cleanup for the
 * plain resource kinds (memory, descriptors, FILE, DIR).  Hand a resource
 * out of its scope with steal_ptr() / steal_fd(). */
#ifndef SKIFF_LIBUTIL_MEM_H
#define SKIFF_LIBUTIL_MEM_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

void *xmalloc (size_t size) __attribute__ ((malloc, returns_nonnull));
void *xmalloc0 (size_t size) __attribute__ ((malloc, returns_nonnull));
void *xrealloc (void *ptr, size_t size) __attribute__ ((returns_nonnull));
void *xcalloc (size_t n, size_t size) __attribute__ ((malloc, returns_nonnull));
char *xstrdup (const char *s) __attribute__ ((malloc));
char *xstrndup (const char *s, size_t n) __attribute__ ((malloc, returns_nonnull));
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2), returns_nonnull));
char *xvasprintf (const char *fmt, va_list ap) __attribute__ ((format (printf, 1, 0), returns_nonnull));

void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_fclosep (FILE **f);
void cleanup_dirp (DIR **d);
void cleanup_strvp (char ***v);

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (cleanup_fclosep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_dirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

static inline void *
steal_ptr_impl (void *pp)
{
  void **p = (void **) pp;
  void *v = *p;
  *p = NULL;
  return v;
}
#define steal_ptr(pp) steal_ptr_impl ((void *) (pp))

static inline int
steal_fd (int *fd)
{
  int v = *fd;
  *fd = -1;
  return v;
}

/* NULL-terminated string vectors. */
void strv_free (char **v);
size_t strv_len (char *const *v);
char **strv_append (char **v, const char *s);   /* copies s */
bool strv_contains (const char *const *v, const char *s); /* V may be NULL */

#endif
