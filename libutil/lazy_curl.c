/* libcurl's functions as skiff calls them, loaded on first use (see
 * lazylib.h).  The prototypes come from curl/curl.h, so a mismatch with the
 * library's declaration is a compile error. */
#include "config.h"

/* curl's type-checking macros would rename the definitions below. */
#define CURL_DISABLE_TYPECHECK 1

#include <stdarg.h>
#include <curl/curl.h>

#include "lazylib.h"

#define LAZY(lib, ret, name, params, args) LAZYLIB_FN (lib, ret, name, params, args)
#define LAZY_VOID(lib, name, params, args) LAZYLIB_VOID (lib, name, params, args)

LAZY_VOID (curl, curl_easy_cleanup, (CURL *a0), (a0))
LAZY (curl, CURL *, curl_easy_duphandle, (CURL *a0), (a0))
LAZY (curl, char *, curl_easy_escape, (CURL *a0, const char *a1, int a2), (a0, a1, a2))
LAZY (curl, CURL *, curl_easy_init, (void), ())
LAZY (curl, CURLcode, curl_easy_pause, (CURL *a0, int a1), (a0, a1))
LAZY (curl, CURLcode, curl_easy_perform, (CURL *a0), (a0))
LAZY_VOID (curl, curl_easy_reset, (CURL *a0), (a0))
LAZY (curl, const char *, curl_easy_strerror, (CURLcode a0), (a0))
LAZY (curl, char *, curl_easy_unescape, (CURL *a0, const char *a1, int a2, int *a3), (a0, a1, a2, a3))
LAZY_VOID (curl, curl_free, (void *a0), (a0))
LAZY (curl, time_t, curl_getdate, (const char *a0, const time_t *a1), (a0, a1))
LAZY_VOID (curl, curl_global_cleanup, (void), ())
LAZY (curl, CURLcode, curl_global_init, (long a0), (a0))
LAZY (curl, CURLMcode, curl_multi_add_handle, (CURLM *a0, CURL *a1), (a0, a1))
LAZY (curl, CURLMcode, curl_multi_assign, (CURLM *a0, curl_socket_t a1, void *a2), (a0, a1, a2))
LAZY (curl, CURLMcode, curl_multi_cleanup, (CURLM *a0), (a0))
LAZY (curl, CURLMcode, curl_multi_fdset, (CURLM *a0, fd_set *a1, fd_set *a2, fd_set *a3, int *a4), (a0, a1, a2, a3, a4))
LAZY (curl, CURLMsg *, curl_multi_info_read, (CURLM *a0, int *a1), (a0, a1))
LAZY (curl, CURLM *, curl_multi_init, (void), ())
LAZY (curl, CURLMcode, curl_multi_perform, (CURLM *a0, int *a1), (a0, a1))
LAZY (curl, CURLMcode, curl_multi_poll, (CURLM *a0, struct curl_waitfd *a1, unsigned int a2, int a3, int *a4), (a0, a1, a2, a3, a4))
LAZY (curl, CURLMcode, curl_multi_remove_handle, (CURLM *a0, CURL *a1), (a0, a1))
LAZY (curl, CURLMcode, curl_multi_socket_action, (CURLM *a0, curl_socket_t a1, int a2, int *a3), (a0, a1, a2, a3))
LAZY (curl, CURLMcode, curl_multi_timeout, (CURLM *a0, long *a1), (a0, a1))
LAZY (curl, CURLMcode, curl_multi_wait, (CURLM *a0, struct curl_waitfd *a1, unsigned int a2, int a3, int *a4), (a0, a1, a2, a3, a4))
LAZY (curl, CURLMcode, curl_multi_wakeup, (CURLM *a0), (a0))
LAZY (curl, CURLSHcode, curl_share_cleanup, (CURLSH *a0), (a0))
LAZY (curl, CURLSH *, curl_share_init, (void), ())
LAZY (curl, struct curl_slist *, curl_slist_append, (struct curl_slist *a0, const char *a1), (a0, a1))
LAZY_VOID (curl, curl_slist_free_all, (struct curl_slist *a0), (a0))
LAZY (curl, CURLU *, curl_url, (void), ())
LAZY_VOID (curl, curl_url_cleanup, (CURLU *a0), (a0))
LAZY (curl, CURLUcode, curl_url_get, (CURLU *a0, CURLUPart a1, char **a2, unsigned int a3), (a0, a1, a2, a3))
LAZY (curl, CURLUcode, curl_url_set, (CURLU *a0, CURLUPart a1, const char *a2, unsigned int a3), (a0, a1, a2, a3))
LAZY (curl, char *, curl_version, (void), ())
LAZY (curl, curl_version_info_data *, curl_version_info, (CURLversion a0), (a0))

/* The variadic three take exactly one value after the option; its type
 * follows from the option, which is how libcurl itself reads it. */

CURLcode
curl_easy_setopt (CURL *h, CURLoption option, ...)
{
  static CURLcode (*real) (CURL *, CURLoption, ...);
  CURLcode (*fn) (CURL *, CURLoption, ...) = __atomic_load_n (&real, __ATOMIC_ACQUIRE);
  va_list ap;
  CURLcode rc;

  if (fn == NULL)
    {
      fn = (CURLcode (*) (CURL *, CURLoption, ...)) lazylib_sym (&lazylib_curl,
                                                                 "curl_easy_setopt");
      __atomic_store_n (&real, fn, __ATOMIC_RELEASE);
    }
  va_start (ap, option);
  if (option < CURLOPTTYPE_OBJECTPOINT)
    rc = fn (h, option, va_arg (ap, long));
  else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
    rc = fn (h, option, va_arg (ap, curl_off_t));
  else
    rc = fn (h, option, va_arg (ap, void *));
  va_end (ap);
  return rc;
}

CURLcode
curl_easy_getinfo (CURL *h, CURLINFO info, ...)
{
  static CURLcode (*real) (CURL *, CURLINFO, ...);
  CURLcode (*fn) (CURL *, CURLINFO, ...) = __atomic_load_n (&real, __ATOMIC_ACQUIRE);
  va_list ap;
  CURLcode rc;

  if (fn == NULL)
    {
      fn = (CURLcode (*) (CURL *, CURLINFO, ...)) lazylib_sym (&lazylib_curl,
                                                               "curl_easy_getinfo");
      __atomic_store_n (&real, fn, __ATOMIC_RELEASE);
    }
  va_start (ap, info);
  rc = fn (h, info, va_arg (ap, void *));
  va_end (ap);
  return rc;
}

CURLSHcode
curl_share_setopt (CURLSH *sh, CURLSHoption option, ...)
{
  static CURLSHcode (*real) (CURLSH *, CURLSHoption, ...);
  CURLSHcode (*fn) (CURLSH *, CURLSHoption, ...) = __atomic_load_n (&real, __ATOMIC_ACQUIRE);
  va_list ap;
  CURLSHcode rc;

  if (fn == NULL)
    {
      fn = (CURLSHcode (*) (CURLSH *, CURLSHoption, ...)) lazylib_sym (&lazylib_curl,
                                                                       "curl_share_setopt");
      __atomic_store_n (&real, fn, __ATOMIC_RELEASE);
    }
  va_start (ap, option);
  if (option == CURLSHOPT_SHARE || option == CURLSHOPT_UNSHARE)
    rc = fn (sh, option, va_arg (ap, int));
  else
    rc = fn (sh, option, va_arg (ap, void *));
  va_end (ap);
  return rc;
}
