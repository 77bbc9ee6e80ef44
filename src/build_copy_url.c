/* ADD of an http(s) URL (see build_copy_internal.h): the file name the URL
 * gives, and the download with libcurl into an anonymous file, bounded in
 * size, with the server's Last-Modified as mtime. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_copy.h"
#include "build_copy_internal.h"
#include "libutil/buf.h"
#include "libutil/mem.h"

/* An anonymous file for a download: O_TMPFILE where the file system has
 * it, else a named file unlinked at once. */
static int
anon_tmpfile (struct error **err)
{
  const char *dir = getenv ("TMPDIR") && *getenv ("TMPDIR") ? getenv ("TMPDIR") : "/var/tmp";
  cleanup_free char *tmpl = NULL;
  int fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

  if (fd >= 0)
    return fd;
  tmpl = xasprintf ("%s/skiff-add-XXXXXX", dir);
  fd = mkostemp (tmpl, O_CLOEXEC);
  if (fd < 0)
    return err_make (err, errno, "create a temporary file in \"%s\"", dir);
  unlink (tmpl);
  return fd;
}

struct download
{
  int fd;
  uint64_t size;
  bool is_too_large;
};

static size_t
on_download_data (char *data, size_t size, size_t n, void *opaque)
{
  struct download *d = opaque;
  size_t len = size * n;

  if (d->size + len > BUILD_COPY_URL_MAX)
    {
      d->is_too_large = true;
      return 0;
    }
  for (size_t off = 0; off < len;)
    {
      ssize_t w = write (d->fd, data + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return 0;
      off += (size_t) w;
    }
  d->size += len;
  return len;
}

/* The file name a URL gives: its path's last element. */
char *
build_copy_url_name (const char *url, struct error **err)
{
  const char *host = strstr (url, "://") + 3;
  const char *path = strchr (host, '/');
  cleanup_free char *p = xstrdup (path ? path : "");
  const char *name;

  p[strcspn (p, "?#")] = '\0';
  name = build_copy_base_name (p);
  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return err_make (err, 0, "cannot determine filename from url: %s", url), NULL;
  return xstrdup (name);
}

static void
curl_easyp (CURL **h)
{
  if (*h)
    curl_easy_cleanup (*h);
}

/* GET URL into a new anonymous file; *MTIME from Last-Modified, or now. */
int
build_copy_download (const char *url, int *out_fd, struct timespec *mtime, off_t *size,
                     struct error **err)
{
  static bool is_curl_ready;
  __attribute__ ((cleanup (curl_easyp))) CURL *h = NULL;
  cleanup_close int fd = anon_tmpfile (err);
  char errbuf[CURL_ERROR_SIZE] = "";
  struct download d = { .fd = fd };
  long status = 0;
  curl_off_t ft = -1;
  CURLcode rc;

  if (fd < 0)
    return -1;
  if (!is_curl_ready)
    curl_global_init (CURL_GLOBAL_DEFAULT);
  is_curl_ready = true;
  h = curl_easy_init ();
  if (h == NULL)
    return err_make (err, ENOMEM, "download \"%s\"", url);
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "skiff/" PACKAGE_VERSION);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, 60L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt (h, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt (h, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt (h, CURLOPT_FILETIME, 1L);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, on_download_data);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf);
  rc = curl_easy_perform (h);
  if (d.is_too_large)
    return err_make (err, EFBIG, "download \"%s\": larger than %llu bytes", url,
                     (unsigned long long) BUILD_COPY_URL_MAX);
  if (rc != CURLE_OK)
    return err_make (err, 0, "download \"%s\": %s", url,
                     errbuf[0] ? errbuf : curl_easy_strerror (rc));
  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299)
    return err_make (err, 0, "download \"%s\": HTTP %ld", url, status);
  curl_easy_getinfo (h, CURLINFO_FILETIME_T, &ft);
  if (ft >= 0)
    *mtime = (struct timespec){ .tv_sec = (time_t) ft };
  else
    clock_gettime (CLOCK_REALTIME, mtime);
  *size = (off_t) d.size;
  *out_fd = steal_fd (&fd);
  return 0;
}
