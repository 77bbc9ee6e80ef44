/* A container's processes (see container_procs.h): /proc is scanned once
 * and each process's /proc/PID/ns/pid link compared with the one of the
 * container's first process. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container_procs.h"
#include "libutil/mem.h"

static int
ns_of (const char *pid, const char *kind, char *buf, size_t size)
{
  char path[300];
  ssize_t n;

  snprintf (path, sizeof path, "/proc/%s/ns/%s", pid, kind);
  n = readlink (path, buf, size - 1);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return 0;
}

static bool
is_pid_name (const char *s)
{
  return *s && strspn (s, "0123456789") == strlen (s);
}

static int
cmp_pid (const void *a, const void *b)
{
  pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
  return x < y ? -1 : x > y;
}

int
container_procs_list (const struct container *c, pid_t **out, size_t *n, struct error **err)
{
  char first[32], ns[128], mnt[128], other[128];
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  pid_t *v = NULL;
  size_t k = 0;

  snprintf (first, sizeof first, "%d", (int) c->state.pid);
  if (c->state.pid <= 0 || !container_pid_alive (c->state.pid, c->state.pid_start)
      || ns_of (first, "pid", ns, sizeof ns) < 0 || ns_of (first, "mnt", mnt, sizeof mnt) < 0)
    return err_make (err, 0, "container %s is not running: container state improper",
                     c->name);
  d = opendir ("/proc");
  if (d == NULL)
    return err_make (err, errno, "open /proc");
  while ((de = readdir (d)) != NULL)
    {
      if (!is_pid_name (de->d_name) || ns_of (de->d_name, "pid", other, sizeof other) < 0
          || strcmp (other, ns) != 0)
        continue;
      /* A mount program's daemon (fuse-overlayfs) shares the pid namespace
       * but not the container's mount namespace: it is not the container's
       * and must keep serving its root (pause, commit -p). */
      if (ns_of (de->d_name, "mnt", other, sizeof other) < 0 || strcmp (other, mnt) != 0)
        continue;
      v = xrealloc (v, (k + 1) * sizeof *v);
      v[k++] = (pid_t) atoi (de->d_name);
    }
  qsort (v, k, sizeof *v, cmp_pid);
  *out = v;
  *n = k;
  return 0;
}

int
container_procs_signal (const struct container *c, int sig, struct error **err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;

  if (container_procs_list (c, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return err_make (err, errno, "container %.12s: signal process %d", c->id, (int) pids[i]);
  return 0;
}
