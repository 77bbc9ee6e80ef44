/* Socket activation passed through (see sd_listen.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "sd_listen.h"

/* Process-wide, as the environment it comes from: taken once in main(),
 * read when a container starts, also in a forked monitor. */
static struct sd_listen taken;

int
sd_listen_parse (const char *fds, const char *pid, const char *names, pid_t self,
                 struct sd_listen *out, struct error **err)
{
  uint64_t n, p;

  out->n_fds = 0;
  out->names = NULL;
  if (fds == NULL || pid == NULL)
    return 0;
  if (parse_uint (pid, INT_MAX, "LISTEN_PID", &p, err) < 0
      || parse_uint (fds, INT_MAX - 3, "LISTEN_FDS", &n, err) < 0)
    return -1;
  if ((pid_t) p != self || n == 0)
    return 0;
  out->n_fds = (unsigned int) n;
  out->names = names ? xstrdup (names) : NULL;
  return 0;
}

void
sd_listen_clear (struct sd_listen *l)
{
  free (l->names);
  l->names = NULL;
  l->n_fds = 0;
}

/* Every descriptor of L is open; each becomes close-on-exec. */
static int
claim_fds (const struct sd_listen *l, struct error **err)
{
  for (unsigned int i = 0; i < l->n_fds; i++)
    {
      int fd = (int) (3 + i), flags = fcntl (fd, F_GETFD);

      if (flags < 0 || fcntl (fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return err_make (err, errno, "LISTEN_FDS=%u: descriptor %d", l->n_fds, fd);
    }
  return 0;
}

void
sd_listen_take (void)
{
  struct error *e = NULL;

  sd_listen_clear (&taken);
  if (sd_listen_parse (getenv ("LISTEN_FDS"), getenv ("LISTEN_PID"),
                       getenv ("LISTEN_FDNAMES"), getpid (), &taken, &e) < 0
      || claim_fds (&taken, &e) < 0)
    {
      log_warn ("socket activation ignored: %s", e->msg);
      err_release (&e);
      sd_listen_clear (&taken);
    }
  unsetenv ("LISTEN_FDS");
  unsetenv ("LISTEN_PID");
  unsetenv ("LISTEN_FDNAMES");
}

const struct sd_listen *
sd_listen_get (void)
{
  return &taken;
}

char **
sd_listen_env (const struct sd_listen *l)
{
  char **env = xcalloc (1, sizeof *env);
  cleanup_free char *fds = NULL, *names = NULL;

  if (l->n_fds == 0)
    return env;
  fds = xasprintf ("LISTEN_FDS=%u", l->n_fds);
  env = strv_append (env, fds);
  env = strv_append (env, "LISTEN_PID=1");
  if (l->names)
    {
      names = xasprintf ("LISTEN_FDNAMES=%s", l->names);
      env = strv_append (env, names);
    }
  return env;
}
